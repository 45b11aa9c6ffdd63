import { infiniteQueryOptions, keepPreviousData } from "@tanstack/react-query";
import { api, unwrap } from "../../api/client";
import type { AuditSearch } from "./search";

/** The audit trail as a TanStack infinite query: pages of events, newest first, by cursor. */

export const AUDIT_PAGE_SIZE = 50;

export const auditKeys = {
  all: (workspaceId: number) => ["workspaces", workspaceId, "audit"] as const,
  list: (workspaceId: number, filters: AuditSearch) => ["workspaces", workspaceId, "audit", filters] as const,
};

export const auditQuery = (workspaceId: number, filters: AuditSearch) =>
  infiniteQueryOptions({
    queryKey: auditKeys.list(workspaceId, filters),
    queryFn: ({ pageParam, signal }) =>
      unwrap(
        api.GET("/api/v1/workspaces/{workspace_id}/audit", {
          params: { path: { workspace_id: workspaceId }, query: { ...filters, cursor: pageParam, limit: AUDIT_PAGE_SIZE } },
          signal,
        }),
      ),
    initialPageParam: undefined as number | undefined,
    getNextPageParam: (last) => last.next_cursor ?? undefined,
    // Changing a filter keeps the lines on screen until the new ones arrive.
    placeholderData: keepPreviousData,
  });
