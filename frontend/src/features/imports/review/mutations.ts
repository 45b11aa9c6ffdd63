import { type QueryClient, useMutation, useQueryClient } from "@tanstack/react-query";
import { type BulkEdit, bulkEdit, editRow, importKeys, type RowSelection, rowsVersionQuery } from "../api";
import { SEND_OFFLINE } from "../mutations";

/**
 * The review screen's writes on staged rows. Each is sent with the rows' version (If-Match) where
 * the person acts on rows they see, and keeps the version the answer brings back.
 */

/** How to put the last bulk edit back: restore the rows it discarded, or the earlier values of the cells it set. */
export type Undo = { label: string } & ({ restore: RowSelection } | { field: string; before: { row: number; value: unknown }[] });

function keepVersion(queryClient: QueryClient, workspaceId: number, importId: number, version: string | null): void {
  if (version) queryClient.setQueryData(rowsVersionQuery(workspaceId, importId).queryKey, version);
}

/** Rows changed: fresh counts, error summary and session (its counts). The grid reloads its own blocks. */
export function invalidateRows(queryClient: QueryClient, workspaceId: number, importId: number): void {
  void queryClient.invalidateQueries({ queryKey: importKeys.rows(workspaceId, importId) });
  void queryClient.invalidateQueries({ queryKey: importKeys.one(workspaceId, importId), exact: true });
}

type RowEdit = { rowNo: number; data: Record<string, unknown>; ifMatch: string | null | undefined };

/** One cell edited in the grid; resolves with the row as checked again. */
export function useEditRow(workspaceId: number, importId: number) {
  const queryClient = useQueryClient();
  return useMutation({
    ...SEND_OFFLINE,
    mutationFn: ({ rowNo, data, ifMatch }: RowEdit) => editRow(workspaceId, importId, rowNo, data, ifMatch),
    onSuccess: ({ version }) => {
      keepVersion(queryClient, workspaceId, importId, version);
      invalidateRows(queryClient, workspaceId, importId);
    },
  });
}

/** One change to many rows: set, replace, discard or restore. */
export function useBulkEdit(workspaceId: number, importId: number) {
  const queryClient = useQueryClient();
  return useMutation({
    ...SEND_OFFLINE,
    mutationFn: ({ edit, ifMatch }: { edit: BulkEdit; ifMatch: string | null | undefined }) => bulkEdit(workspaceId, importId, edit, ifMatch),
    onSuccess: ({ version }) => {
      keepVersion(queryClient, workspaceId, importId, version);
      invalidateRows(queryClient, workspaceId, importId);
    },
  });
}

/** Undo the last bulk edit, right after it; sent without the rows' version. */
export function useUndoBulkEdit(workspaceId: number, importId: number) {
  const queryClient = useQueryClient();
  return useMutation({
    ...SEND_OFFLINE,
    mutationFn: async (undo: Undo) => {
      const keep = (version: string | null) => keepVersion(queryClient, workspaceId, importId, version);
      if ("restore" in undo) {
        keep((await bulkEdit(workspaceId, importId, { action: "restore", selection: undo.restore })).version);
        return;
      }
      for (const b of undo.before) keep((await editRow(workspaceId, importId, b.row, { [undo.field]: b.value })).version);
    },
    onSuccess: () => invalidateRows(queryClient, workspaceId, importId),
  });
}
