import {
  CellStyleModule,
  type ColDef,
  ColumnApiModule,
  type GridApi,
  type IDatasource,
  InfiniteRowModelModule,
  ModuleRegistry,
  type RowClickedEvent,
  type SortChangedEvent,
  TooltipModule,
  ValidationModule,
} from "ag-grid-community";
import { AgGridReact } from "ag-grid-react";
import { useGridTheme } from "../../components/grid-theme";
import { useCallback, useEffect, useMemo, useRef } from "react";
import type { Entity, RecordRow } from "../../api/client";
import { recordColumns } from "./columns";
import { createRecordsDatasource, PAGE_SIZE } from "./datasource";

// Only what this grid uses, to keep the bundle small: paging, sort state, right-aligned numbers, header tooltips.
ModuleRegistry.registerModules([
  InfiniteRowModelModule,
  ColumnApiModule,
  CellStyleModule,
  TooltipModule,
  ...(import.meta.env.DEV ? [ValidationModule] : []),
]);


export type SortState = { sort: string | undefined; order: "asc" | "desc" | undefined };

type Props = {
  workspaceId: number;
  entity: Entity;
  q: string | undefined;
  sort: SortState;
  onSortChange: (sort: SortState) => void;
  onRowOpen: (record: RecordRow) => void;
  onLoadError: (error: unknown) => void;
  onLoaded: (info: { empty: boolean }) => void;
  apiRef?: (api: GridApi<RecordRow> | null) => void;
};

/** Read-only records, paged and sorted by the server as the grid scrolls. */
export function RecordsGrid({ workspaceId, entity, q, sort, onSortChange, onRowOpen, onLoadError, onLoaded, apiRef }: Props) {
  const theme = useGridTheme();
  const gridApi = useRef<GridApi<RecordRow> | null>(null);

  const columnDefs = useMemo<ColDef<RecordRow>[]>(
    () =>
      recordColumns(entity).map((c) =>
        c.colId === sort.sort ? { ...c, initialSort: sort.order ?? "asc" } : c,
      ),
    // The URL's sort seeds the columns once; later changes are applied as column state below.
    // eslint-disable-next-line react-hooks/exhaustive-deps
    [entity],
  );

  const datasource = useMemo<IDatasource>(
    () =>
      createRecordsDatasource({
        workspaceId,
        entityKey: entity.key,
        q,
        onLoaded,
        onError: onLoadError,
      }),
    // A new datasource reloads the grid from the top, so the callbacks must be stable.
    [workspaceId, entity.key, q, onLoaded, onLoadError],
  );

  // Follow the URL when it names another sort than the grid shows (a link, back and forward).
  useEffect(() => {
    const grid = gridApi.current;
    if (!grid) return;
    const current = grid.getColumnState().find((c) => c.sort);
    if ((current?.colId ?? undefined) === sort.sort && (current?.sort ?? undefined) === (sort.sort ? sort.order ?? "asc" : undefined)) return;
    grid.applyColumnState({
      state: sort.sort ? [{ colId: sort.sort, sort: sort.order ?? "asc" }] : [],
      defaultState: { sort: null },
    });
  }, [sort.sort, sort.order]);

  const handleSortChanged = useCallback(
    (e: SortChangedEvent<RecordRow>) => {
      // Only a person's click writes the URL: the grid also reports sorts it applies itself (from the
      // URL, or while it is torn down on the way to another page), which must not navigate.
      if (e.source !== "uiColumnSorted") return;
      const current = e.api.getColumnState().find((c) => c.sort);
      onSortChange({ sort: current?.colId, order: current?.sort ?? undefined });
    },
    [onSortChange],
  );

  const handleRowClicked = useCallback(
    (e: RowClickedEvent<RecordRow>) => {
      if (e.data) onRowOpen(e.data);
    },
    [onRowOpen],
  );

  return (
    <AgGridReact<RecordRow>
      theme={theme}
      columnDefs={columnDefs}
      defaultColDef={{ sortable: true, resizable: true, sortingOrder: ["asc", "desc", null] }}
      rowModelType="infinite"
      datasource={datasource}
      cacheBlockSize={PAGE_SIZE}
      maxBlocksInCache={50}
      maxConcurrentDatasourceRequests={1}
      infiniteInitialRowCount={PAGE_SIZE}
      cacheOverflowSize={1}
      suppressMultiSort
      suppressNoRowsOverlay
      getRowId={(p) => String(p.data.id)}
      onGridReady={(e) => {
        gridApi.current = e.api;
        apiRef?.(e.api);
      }}
      onGridPreDestroyed={() => {
        gridApi.current = null;
        apiRef?.(null);
      }}
      onSortChanged={handleSortChanged}
      onRowClicked={handleRowClicked}
      tooltipShowDelay={500}
    />
  );
}
