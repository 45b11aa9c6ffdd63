import { useMutation, useQueryClient } from "@tanstack/react-query";
import { createImport, type ReadOptions, setReadOptions } from "../api";
import { SEND_OFFLINE, storeSession } from "../mutations";
import { type UploadProgress, uploadFile } from "./upload";

type Upload = {
  file: File;
  /** The session to upload into; without one, a session is created first (for this entity, or the file's best fit). */
  importId?: number;
  entity?: string | null;
  onProgress: (p: UploadProgress) => void;
  signal?: AbortSignal;
};

/** Send the file (creating the session first when there is none yet); resolves with the profiled session. */
export function useUploadFile(workspaceId: number) {
  const queryClient = useQueryClient();
  return useMutation({
    ...SEND_OFFLINE,
    mutationFn: async ({ file, importId, entity = null, onProgress, signal }: Upload) => {
      const id = importId ?? (await createImport(workspaceId, { entity, file_name: file.name, duplicate_policy: "last_wins" })).id;
      return uploadFile(workspaceId, id, file, onProgress, signal);
    },
    onSuccess: (session) => storeSession(queryClient, workspaceId, session),
  });
}

/** Read the file again with other options: a new profile, and new suggestions. */
export function useSetReadOptions(workspaceId: number, importId: number) {
  const queryClient = useQueryClient();
  return useMutation({
    ...SEND_OFFLINE,
    mutationFn: (options: ReadOptions) => setReadOptions(workspaceId, importId, options),
    onSuccess: (session) => storeSession(queryClient, workspaceId, session),
  });
}
