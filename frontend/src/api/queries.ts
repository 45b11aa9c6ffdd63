import { queryOptions } from "@tanstack/react-query";
import { api, type FieldCreate, unwrap } from "./client";

/** Query definitions shared by the app shell and the features: one key per resource; and the schema's writes. */

export const meQuery = () =>
  queryOptions({
    queryKey: ["me"],
    queryFn: ({ signal }) => unwrap(api.GET("/api/v1/auth/me", { signal })),
    staleTime: 60_000,
  });

export const workspacesQuery = () =>
  queryOptions({
    queryKey: ["workspaces"],
    queryFn: ({ signal }) => unwrap(api.GET("/api/v1/workspaces", { signal })),
    staleTime: 60_000,
  });

export const entitiesQuery = (workspaceId: number) =>
  queryOptions({
    queryKey: ["workspaces", workspaceId, "entities"],
    queryFn: ({ signal }) =>
      unwrap(
        api.GET("/api/v1/workspaces/{workspace_id}/entities", {
          params: { path: { workspace_id: workspaceId } },
          signal,
        }),
      ),
    staleTime: 30_000,
  });

export const entityQuery = (workspaceId: number, entityKey: string) =>
  queryOptions({
    queryKey: ["workspaces", workspaceId, "entities", entityKey],
    queryFn: ({ signal }) =>
      unwrap(
        api.GET("/api/v1/workspaces/{workspace_id}/entities/{entity_key}", {
          params: { path: { workspace_id: workspaceId, entity_key: entityKey } },
          signal,
        }),
      ),
    staleTime: 30_000,
  });

/** A new custom field of an entity; answers with the entity and all its fields (what `entityQuery` holds). */
export const createField = (workspaceId: number, entityKey: string, body: FieldCreate) =>
  unwrap(
    api.POST("/api/v1/workspaces/{workspace_id}/entities/{entity_key}/fields", {
      params: { path: { workspace_id: workspaceId, entity_key: entityKey } },
      body,
    }),
  );

export const recordCountQuery = (workspaceId: number, entityKey: string, q: string | undefined) =>
  queryOptions({
    queryKey: ["workspaces", workspaceId, "entities", entityKey, "count", q ?? ""],
    queryFn: ({ signal }) =>
      unwrap(
        api.GET("/api/v1/workspaces/{workspace_id}/entities/{entity_key}/records/count", {
          params: { path: { workspace_id: workspaceId, entity_key: entityKey }, query: { q: q || undefined } },
          signal,
        }),
      ),
  });

export const recordQuery = (workspaceId: number, entityKey: string, recordId: number) =>
  queryOptions({
    queryKey: ["workspaces", workspaceId, "entities", entityKey, "records", recordId],
    queryFn: ({ signal }) =>
      unwrap(
        api.GET("/api/v1/workspaces/{workspace_id}/entities/{entity_key}/records/{record_id}", {
          params: { path: { workspace_id: workspaceId, entity_key: entityKey, record_id: recordId } },
          signal,
        }),
      ),
  });

/** The workspace's members; the members page manages them, the audit trail names actors from them. */
export const membersQuery = (workspaceId: number) =>
  queryOptions({
    queryKey: ["workspaces", workspaceId, "members"],
    queryFn: ({ signal }) =>
      unwrap(api.GET("/api/v1/workspaces/{workspace_id}/members", { params: { path: { workspace_id: workspaceId } }, signal })),
  });
