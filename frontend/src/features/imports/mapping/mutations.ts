import { useMutation, useQueryClient } from "@tanstack/react-query";
import type { FieldCreate, Schemas } from "../../../api/client";
import { createField, entityQuery } from "../../../api/queries";
import { importKeys, saveMapping, startStaging } from "../api";
import { SEND_OFFLINE, storeSession } from "../mutations";

/**
 * Save the mapping, then stage: every row is read and checked in the background. One action (one
 * button, one message when it fails); resolves with the session, staging now.
 */
export function useSaveMappingAndStage(workspaceId: number, importId: number) {
  const queryClient = useQueryClient();
  return useMutation({
    ...SEND_OFFLINE,
    mutationFn: async (mapping: Schemas["MappingSave"]) => {
      await saveMapping(workspaceId, importId, mapping);
      return startStaging(workspaceId, importId);
    },
    onSuccess: (staged) => {
      storeSession(queryClient, workspaceId, staged);
      void queryClient.invalidateQueries({ queryKey: importKeys.rows(workspaceId, importId) });
    },
  });
}

/** A custom field made from a column on the map screen (admins); resolves with the entity and all its fields. */
export function useCreateField(workspaceId: number, entityKey: string) {
  const queryClient = useQueryClient();
  return useMutation({
    ...SEND_OFFLINE,
    mutationFn: (field: FieldCreate) => createField(workspaceId, entityKey, field),
    onSuccess: (entity) => {
      queryClient.setQueryData(entityQuery(workspaceId, entityKey).queryKey, entity);
      void queryClient.invalidateQueries({ queryKey: ["workspaces", workspaceId, "entities"] });
    },
  });
}
