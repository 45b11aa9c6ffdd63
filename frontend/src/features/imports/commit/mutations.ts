import { useMutation, useQueryClient } from "@tanstack/react-query";
import { type CommitOptions, commitImport } from "../api";
import { SEND_OFFLINE, storeSession } from "../mutations";

/**
 * The idempotency key of a commit: one per session and options, kept in the tab's session storage,
 * so a double click or a retried request never commits twice.
 */
export function commitKey(workspaceId: number, importId: number, options: CommitOptions): string {
  const storageKey = `loadbay:commit:${workspaceId}:${importId}:${options.on_existing}:${options.on_invalid}`;
  const key = sessionStorage.getItem(storageKey) ?? crypto.randomUUID();
  sessionStorage.setItem(storageKey, key);
  return key;
}

/** Start writing the staged rows, in chunks, in the background; resolves with the session, committing. */
export function useCommitImport(workspaceId: number, importId: number) {
  const queryClient = useQueryClient();
  return useMutation({
    ...SEND_OFFLINE,
    mutationFn: (options: CommitOptions) => commitImport(workspaceId, importId, options, commitKey(workspaceId, importId, options)),
    onSuccess: (session) => storeSession(queryClient, workspaceId, session),
  });
}
