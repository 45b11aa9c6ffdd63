import { type QueryClient, useMutation, useQueryClient } from "@tanstack/react-query";
import { cancelImport, deleteImport, type ImportSession, importKeys, retryImport } from "./api";

/**
 * Writes on a whole import session, shared by the history and the session's own page. Each step's
 * own writes sit in that step's folder; every mutation keeps the query cache right in `onSuccess`,
 * and the screen that started it says what happens next (a message, another step).
 */

/**
 * Every import write is sent even while the browser says it is offline: it then fails at once with a
 * message beside the button, instead of waiting (TanStack's default) behind a spinner.
 */
export const SEND_OFFLINE = { networkMode: "always" } as const;

/** A write answered with the session: it is the session now, and the history's rows changed. */
export function storeSession(queryClient: QueryClient, workspaceId: number, session: ImportSession): void {
  queryClient.setQueryData(importKeys.one(workspaceId, session.id), session);
  void queryClient.invalidateQueries({ queryKey: importKeys.list(workspaceId) });
}

export function useCancelImport(workspaceId: number) {
  const queryClient = useQueryClient();
  return useMutation({
    ...SEND_OFFLINE,
    mutationFn: (importId: number) => cancelImport(workspaceId, importId),
    onSuccess: (session) => {
      storeSession(queryClient, workspaceId, session);
      // Record counts in the navbar: what the stopped import wrote stays.
      void queryClient.invalidateQueries({ queryKey: ["workspaces", workspaceId, "entities"] });
    },
  });
}

/** Retry what failed: the failed chunks of a commit, or staging that failed. */
export function useRetryImport(workspaceId: number) {
  const queryClient = useQueryClient();
  return useMutation({
    ...SEND_OFFLINE,
    mutationFn: (importId: number) => retryImport(workspaceId, importId),
    onSuccess: (session) => storeSession(queryClient, workspaceId, session),
  });
}

export function useDeleteImport(workspaceId: number) {
  const queryClient = useQueryClient();
  return useMutation({
    ...SEND_OFFLINE,
    mutationFn: (importId: number) => deleteImport(workspaceId, importId),
    onSuccess: () => void queryClient.invalidateQueries({ queryKey: importKeys.all(workspaceId) }),
  });
}
