import { notifications } from "@mantine/notifications";
import { useQuery, useQueryClient } from "@tanstack/react-query";
import type { GridApi } from "ag-grid-community";
import { type RefObject, useCallback, useState } from "react";
import { ApiError, errorMessage, type Field } from "../../../api/client";
import { type BulkEdit, type ImportSession, rowsVersionQuery, type StagedRow } from "../api";
import { formatInt, plural } from "../format";
import { invalidateRows, type Undo, useBulkEdit, useEditRow, useUndoBulkEdit } from "./mutations";
import { cellError } from "./review-grid";
import type { StagedDatasource } from "./staged-datasource";

const UNDO_ROWS = 1000;

type Options = {
  workspaceId: number;
  session: ImportSession;
  /** The entity's fields, to name them in messages. */
  fields: Field[] | undefined;
  grid: RefObject<GridApi<StagedRow> | null>;
  datasource: StagedDatasource;
  /** A bulk edit went through: the rows it was asked for are no longer selected. */
  onBulkApplied: () => void;
};

/**
 * The review screen's edits: a cell in the grid, many rows in bulk, and the undo of the last bulk
 * edit. Each tells the person what happened; a 412 (the rows changed elsewhere) shows them afresh.
 */
export function useRowEdits({ workspaceId, session, fields, grid, datasource, onBulkApplied }: Options) {
  const queryClient = useQueryClient();
  const edit = useEditRow(workspaceId, session.id);
  const bulk = useBulkEdit(workspaceId, session.id);
  const undoing = useUndoBulkEdit(workspaceId, session.id);
  const [undo, setUndo] = useState<Undo | null>(null);
  // Edits carry the rows' version: what someone else changed meanwhile is not overwritten unseen.
  const versionQuery = rowsVersionQuery(workspaceId, session.id);
  const version = useQuery(versionQuery);

  const reloadGrid = useCallback(() => {
    datasource.invalidate();
    grid.current?.refreshInfiniteCache();
  }, [datasource, grid]);

  /** Fresh counts, summary and session; the grid reloads the blocks it shows. */
  const refresh = useCallback(() => {
    invalidateRows(queryClient, workspaceId, session.id);
    reloadGrid();
  }, [queryClient, workspaceId, session.id, reloadGrid]);

  /** A 412: the rows moved on elsewhere. Show what they are now, and say so. */
  const onConflict = useCallback(
    (err: unknown) => {
      if (!(err instanceof ApiError && err.status === 412)) return false;
      void queryClient.invalidateQueries({ queryKey: versionQuery.queryKey });
      refresh();
      notifications.show({
        color: "orange",
        title: "The rows changed meanwhile",
        message: "Someone (or another tab) edited this import's rows. The grid and counts are up to date now; check, then try again.",
      });
      return true;
    },
    [queryClient, versionQuery.queryKey, refresh],
  );

  const { mutateAsync: editRow } = edit;
  const onCellEdit = useCallback(
    (row: StagedRow, field: string, value: unknown, _previous: unknown, revert: () => void, apply: (r: StagedRow) => void) => {
      const label = fields?.find((f) => f.key === field)?.label ?? field;
      // Edits in a row of cells overlap: each answers its own promise, not the mutation's latest state.
      editRow({ rowNo: row.row, data: { [field]: value === "" ? null : value }, ifMatch: version.data }).then(
        ({ data: updated }) => {
          apply(updated);
          const problem = cellError(updated, field);
          if (problem) notifications.show({ color: "orange", title: `Row ${formatInt(row.row)}, ${label}: still invalid`, message: problem });
          else notifications.show({ color: "green", message: `Row ${formatInt(row.row)}: ${label} saved${updated.status === "valid" ? "; the row is valid now" : ""}.` });
        },
        (err: unknown) => {
          revert();
          if (!onConflict(err)) notifications.show({ color: "red", title: `Row ${formatInt(row.row)}, ${label}: not saved`, message: errorMessage(err) });
        },
      );
    },
    [editRow, fields, version.data, onConflict],
  );

  const undoFor = (change: BulkEdit): Undo | null => {
    const rows = change.selection.rows;
    if (change.action === "discard") {
      if (rows) return { label: `restore ${plural(rows.length, "row")}`, restore: { rows } };
      // With no row discarded before, "every discarded row" is exactly what this discards.
      if (!session.counts.discarded) return { label: "restore the discarded rows", restore: { status: "discarded" } };
      return null;
    }
    if ((change.action === "set" || change.action === "replace") && rows && rows.length <= UNDO_ROWS && change.field) {
      const key = change.field;
      const before = rows.map((r) => ({ row: r, value: grid.current?.getRowNode(String(r))?.data?.data[key] ?? null }));
      return { label: `put back ${plural(rows.length, "earlier value")}`, field: key, before };
    }
    return null;
  };

  const undoHint = (change: BulkEdit) => {
    const rows = change.selection.rows;
    if (change.action === "discard") return rows || !session.counts.discarded ? "You can undo it right after (restore)." : null;
    if ((change.action === "set" || change.action === "replace") && rows && rows.length <= UNDO_ROWS) return "You can undo it right after: the earlier values are kept here.";
    if (change.action === "restore") return "Discard the rows again to undo it.";
    return null;
  };

  const applyBulk = async (change: BulkEdit) => {
    const u = undoFor(change);
    let result;
    try {
      result = (await bulk.mutateAsync({ edit: change, ifMatch: version.data })).data;
    } catch (err) {
      onConflict(err);
      throw err;
    }
    setUndo(u);
    onBulkApplied();
    reloadGrid();
    notifications.show({ color: "green", message: `${formatInt(result.changed)} rows changed${change.action === "set" || change.action === "replace" ? `, ${formatInt(result.now_valid)} now valid` : ""}.` });
    return result;
  };

  const runUndo = () => {
    if (!undo) return;
    undoing.mutate(undo, {
      onSuccess: () => {
        notifications.show({ message: "The last bulk change was undone." });
        setUndo(null);
        reloadGrid();
      },
      onError: (err) => notifications.show({ color: "red", title: "Could not undo", message: errorMessage(err) }),
    });
  };

  return {
    refresh,
    onCellEdit,
    bulk: { apply: applyBulk, applying: bulk.isPending, error: bulk.error, reset: bulk.reset, undoHint },
    undo: { label: undo?.label, run: runUndo, running: undoing.isPending },
  };
}
