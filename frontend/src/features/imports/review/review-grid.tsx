import {
  CellStyleModule,
  type CellValueChangedEvent,
  type ColDef,
  EventApiModule,
  type GridApi,
  InfiniteRowModelModule,
  ModuleRegistry,
  RenderApiModule,
  RowApiModule,
  RowSelectionModule,
  ScrollApiModule,
  TextEditorModule,
  TooltipModule,
  ValidationModule,
} from "ag-grid-community";
import { AgGridReact } from "ag-grid-react";
import { useGridTheme } from "../../../components/grid-theme";
import { useEffect, useMemo, useRef } from "react";
import type { Field } from "../../../api/client";
import type { StagedRow } from "../api";
import { PAGE_SIZE, type StagedDatasource } from "./staged-datasource";
import classes from "./review-grid.module.css";

ModuleRegistry.registerModules([
  InfiniteRowModelModule,
  CellStyleModule,
  TooltipModule,
  TextEditorModule,
  RowSelectionModule,
  RowApiModule,
  RenderApiModule,
  ScrollApiModule,
  EventApiModule,
  ...(import.meta.env.DEV ? [ValidationModule] : []),
]);


export const STATUS_TEXT: Record<string, string> = {
  valid: "valid",
  invalid: "invalid",
  duplicate: "duplicate",
  discarded: "discarded",
  rejected: "rejected",
  failed: "failed",
};

type Props = {
  fields: Field[];
  datasource: StagedDatasource;
  onCellEdit: (row: StagedRow, field: string, value: unknown, previous: unknown, revert: () => void, apply: (row: StagedRow) => void) => void;
  onSelectionChange: (rows: number[]) => void;
  onOpenRow: (row: number) => void;
  onReady: (api: GridApi<StagedRow> | null) => void;
};

export function cellError(row: StagedRow | undefined, field: string): string | null {
  const e = row?.errors?.[field];
  return e ? e[1] ?? e[0] ?? "invalid" : null;
}

function rowProblems(row: StagedRow | undefined): string {
  if (!row?.errors) return "";
  return Object.entries(row.errors)
    .map(([f, [code, msg]]) => (f === "_row" ? msg ?? code : `${f}: ${msg ?? code}`))
    .join("; ");
}

/** Staged rows, a block at a time: invalid cells marked with their message, cells editable in place. */
export function ReviewGrid({ fields, datasource, onCellEdit, onSelectionChange, onOpenRow, onReady }: Props) {
  const theme = useGridTheme();
  // New column definitions would end an edit in progress: the callback is read through a ref.
  const openRow = useRef(onOpenRow);
  useEffect(() => {
    openRow.current = onOpenRow;
  }, [onOpenRow]);
  const columnDefs = useMemo<ColDef<StagedRow>[]>(
    () => [
      {
        colId: "row",
        headerName: "Row",
        field: "row",
        width: 110,
        pinned: "left",
        cellClass: classes.rowNo,
        tooltipValueGetter: () => "Open this row",
        onCellClicked: (p) => p.data && openRow.current(p.data.row),
      },
      {
        colId: "status",
        headerName: "Status",
        field: "status",
        width: 110,
        cellClassRules: {
          [classes.statusInvalid!]: (p) => p.value === "invalid" || p.value === "rejected" || p.value === "failed",
          [classes.statusDuplicate!]: (p) => p.value === "duplicate",
          [classes.statusDiscarded!]: (p) => p.value === "discarded",
        },
      },
      ...fields.map<ColDef<StagedRow>>((f) => ({
        colId: f.key,
        headerName: f.label,
        headerTooltip: `${f.key} (${f.type})${f.required ? ", required" : ""}`,
        minWidth: 120,
        flex: 1,
        editable: (p) => !!p.data && p.data.status !== "rejected",
        valueGetter: (p) => p.data?.data[f.key] ?? null,
        valueFormatter: (p) => (p.value === null || p.value === undefined ? "" : typeof p.value === "object" ? JSON.stringify(p.value) : String(p.value)),
        valueSetter: (p) => {
          if (!p.data) return false;
          // The grid keeps the row object; the change goes into it, and the server's answer replaces it.
          p.data.data = { ...p.data.data, [f.key]: p.newValue };
          return true;
        },
        cellClassRules: { [classes.invalidCell!]: (p) => cellError(p.data, f.key) !== null },
        tooltipValueGetter: (p) => cellError(p.data, f.key),
        cellDataType: false,
      })),
      {
        colId: "_problems",
        headerName: "Problems",
        minWidth: 240,
        flex: 2,
        valueGetter: (p) => rowProblems(p.data),
        tooltipValueGetter: (p) => rowProblems(p.data) || null,
        cellClass: classes.problems,
      },
    ],
    [fields],
  );

  return (
    <AgGridReact<StagedRow>
      theme={theme}
      columnDefs={columnDefs}
      defaultColDef={{ resizable: true, sortable: false, suppressHeaderMenuButton: true }}
      rowModelType="infinite"
      datasource={datasource}
      cacheBlockSize={PAGE_SIZE}
      maxBlocksInCache={100}
      maxConcurrentDatasourceRequests={2}
      blockLoadDebounceMillis={0}
      infiniteInitialRowCount={PAGE_SIZE}
      cacheOverflowSize={1}
      rowBuffer={10}
      getRowId={(p) => String(p.data.row)}
      rowSelection={{ mode: "multiRow", checkboxes: true, headerCheckbox: false, enableClickSelection: false }}
      selectionColumnDef={{ pinned: "left", width: 44 }}
      singleClickEdit={false}
      stopEditingWhenCellsLoseFocus
      enterNavigatesVerticallyAfterEdit
      tooltipShowDelay={300}
      suppressNoRowsOverlay
      onGridReady={(e) => onReady(e.api)}
      onGridPreDestroyed={() => onReady(null)}
      onSelectionChanged={(e) => onSelectionChange(e.api.getSelectedRows().map((r) => r.row))}
      onCellValueChanged={(e: CellValueChangedEvent<StagedRow>) => {
        const field = e.colDef.colId;
        if (!e.data || !field || e.oldValue === e.newValue || (e.oldValue ?? "") === (e.newValue ?? "")) return;
        const node = e.node;
        const before = { ...e.data, data: { ...e.data.data, [field]: e.oldValue } };
        onCellEdit(
          e.data,
          field,
          e.newValue,
          e.oldValue,
          () => node.setData(before),
          (row) => node.setData(row),
        );
      }}
    />
  );
}
