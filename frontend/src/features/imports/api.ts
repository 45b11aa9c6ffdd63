import { keepPreviousData, queryOptions } from "@tanstack/react-query";
import { api, type Schemas, unwrap } from "../../api/client";
import type { RowStatusFilter } from "./search";

/** The import API as TanStack Query definitions: one key per resource, under the workspace's imports. */

export type ImportSession = Schemas["ImportRead"];
export type ColumnMapping = Schemas["ColumnMapping"];
export type ColumnProfile = Schemas["ColumnProfile"];
export type StagedRow = Schemas["StagedRowRead"];
export type Progress = Schemas["Progress"];
export type DryRun = Schemas["DryRun"];
export type CommitOptions = Schemas["CommitOptions"];
export type BulkEdit = Schemas["BulkEdit"];
export type BulkEditResult = Schemas["BulkEditResult"];
export type RowSelection = Schemas["RowSelection"];
export type ReadOptions = Schemas["ReadOptionsIn"];

/** Row filters of the review grid (they are also the URL's). */
export type RowFilter = { status?: RowStatusFilter; field?: string; code?: string };

type ImportStatus = Schemas["ImportStatus"];
export const RUNNING_STATUSES: ReadonlySet<ImportStatus> = new Set<ImportStatus>(["staging", "committing"]);
export const FINISHED_STATUSES: ReadonlySet<ImportStatus> = new Set<ImportStatus>(["completed", "completed_with_errors", "failed", "cancelled"]);

export const importKeys = {
  all: (workspaceId: number) => ["workspaces", workspaceId, "imports"] as const,
  list: (workspaceId: number) => ["workspaces", workspaceId, "imports", "list"] as const,
  one: (workspaceId: number, importId: number) => ["workspaces", workspaceId, "imports", importId] as const,
  rows: (workspaceId: number, importId: number) => ["workspaces", workspaceId, "imports", importId, "rows"] as const,
};

const path = (workspaceId: number, importId: number) => ({ workspace_id: workspaceId, import_id: importId });

export const importQuery = (workspaceId: number, importId: number) =>
  queryOptions({
    queryKey: importKeys.one(workspaceId, importId),
    queryFn: ({ signal }) =>
      unwrap(api.GET("/api/v1/workspaces/{workspace_id}/imports/{import_id}", { params: { path: path(workspaceId, importId) }, signal })),
    // While work runs in the background the session changes on its own.
    // A cancelled import whose running chunks still finish has no finished_at yet: its counts move too.
    refetchInterval: (q) => {
      const d = q.state.data;
      return d && (RUNNING_STATUSES.has(d.status) || (d.status === "cancelled" && d.commit_started_at && !d.finished_at)) ? 2000 : false;
    },
  });

export const importListPage = (workspaceId: number, cursor: number | undefined, signal?: AbortSignal) =>
  unwrap(
    api.GET("/api/v1/workspaces/{workspace_id}/imports", {
      params: { path: { workspace_id: workspaceId }, query: { limit: 50, cursor } },
      signal,
    }),
  );

export const rowCountQuery = (workspaceId: number, importId: number, filter: RowFilter) =>
  queryOptions({
    queryKey: [...importKeys.rows(workspaceId, importId), "count", filter.status ?? "", filter.field ?? "", filter.code ?? ""],
    queryFn: ({ signal }) =>
      unwrap(
        api.GET("/api/v1/workspaces/{workspace_id}/imports/{import_id}/rows/count", {
          params: { path: path(workspaceId, importId), query: { status: filter.status, field: filter.field, code: filter.code } },
          signal,
        }),
      ),
    placeholderData: keepPreviousData,
  });

export const errorSummaryQuery = (workspaceId: number, importId: number) =>
  queryOptions({
    queryKey: [...importKeys.rows(workspaceId, importId), "errors"],
    queryFn: ({ signal }) =>
      unwrap(
        api.GET("/api/v1/workspaces/{workspace_id}/imports/{import_id}/errors", { params: { path: path(workspaceId, importId) }, signal }),
      ),
  });

export const stagedRowQuery = (workspaceId: number, importId: number, rowNo: number) =>
  queryOptions({
    queryKey: [...importKeys.rows(workspaceId, importId), "row", rowNo],
    queryFn: async ({ signal }) => {
      const page = await fetchRows(workspaceId, importId, { cursor: rowNo - 1, limit: 1, filter: {} }, signal);
      const row = page.items[0];
      return row && row.row === rowNo ? row : null;
    },
  });

export const progressQuery = (workspaceId: number, importId: number) =>
  queryOptions({
    queryKey: [...importKeys.one(workspaceId, importId), "progress"],
    queryFn: ({ signal }) =>
      unwrap(
        api.GET("/api/v1/workspaces/{workspace_id}/imports/{import_id}/progress", { params: { path: path(workspaceId, importId) }, signal }),
      ),
  });

export const dryRunQuery = (workspaceId: number, importId: number, options: CommitOptions) =>
  queryOptions({
    queryKey: [...importKeys.rows(workspaceId, importId), "dry-run", options.on_existing, options.on_invalid],
    queryFn: ({ signal }) =>
      unwrap(
        api.POST("/api/v1/workspaces/{workspace_id}/imports/{import_id}/dry-run", {
          params: { path: path(workspaceId, importId) },
          body: options,
          signal,
        }),
      ),
    staleTime: 0,
  });

export function fetchRows(
  workspaceId: number,
  importId: number,
  { cursor, limit, filter }: { cursor: number | null; limit: number; filter: RowFilter },
  signal?: AbortSignal,
) {
  return unwrap(
    api.GET("/api/v1/workspaces/{workspace_id}/imports/{import_id}/rows", {
      params: {
        path: path(workspaceId, importId),
        query: { cursor: cursor ?? undefined, limit, status: filter.status, field: filter.field, code: filter.code },
      },
      signal,
    }),
  );
}

// --- writes (the mutations in ./mutations.ts and each step's folder call these) ------------------

export const createImport = (workspaceId: number, body: Schemas["ImportCreate"]) =>
  unwrap(api.POST("/api/v1/workspaces/{workspace_id}/imports", { params: { path: { workspace_id: workspaceId } }, body }));

export const setReadOptions = (workspaceId: number, importId: number, body: ReadOptions) =>
  unwrap(api.PUT("/api/v1/workspaces/{workspace_id}/imports/{import_id}/options", { params: { path: path(workspaceId, importId) }, body }));

export const saveMapping = (workspaceId: number, importId: number, body: Schemas["MappingSave"]) =>
  unwrap(api.PUT("/api/v1/workspaces/{workspace_id}/imports/{import_id}/mapping", { params: { path: path(workspaceId, importId) }, body }));

export const startStaging = (workspaceId: number, importId: number) =>
  unwrap(api.POST("/api/v1/workspaces/{workspace_id}/imports/{import_id}/stage", { params: { path: path(workspaceId, importId) } }));

/**
 * The staged rows' version (the ETag of the session): an edit sent with it is refused (412) when
 * someone else changed the rows since, instead of touching rows the person did not see.
 */
export const rowsVersionQuery = (workspaceId: number, importId: number) =>
  queryOptions({
    // Not under `rows`: the app's own edits bring the new version back; only a conflict refetches it.
    queryKey: [...importKeys.one(workspaceId, importId), "rows-version"],
    queryFn: async ({ signal }) => {
      const call = api.GET("/api/v1/workspaces/{workspace_id}/imports/{import_id}", { params: { path: path(workspaceId, importId) }, signal });
      await unwrap(call);
      return (await call).response.headers.get("ETag");
    },
    staleTime: Infinity,
  });

/** The data of an edit, and the rows' version after it. */
async function withVersion<T>(call: Promise<{ data?: T; error?: unknown; response: Response }>): Promise<{ data: T; version: string | null }> {
  const data = await unwrap(call);
  return { data, version: (await call).response.headers.get("ETag") };
}

export const editRow = (workspaceId: number, importId: number, rowNo: number, data: Record<string, unknown>, ifMatch?: string | null) =>
  withVersion(
    api.PATCH("/api/v1/workspaces/{workspace_id}/imports/{import_id}/rows/{row_no}", {
      params: { path: { ...path(workspaceId, importId), row_no: rowNo }, header: { "if-match": ifMatch ?? undefined } },
      body: { data },
    }),
  );

export const bulkEdit = (workspaceId: number, importId: number, body: BulkEdit, ifMatch?: string | null) =>
  withVersion(
    api.POST("/api/v1/workspaces/{workspace_id}/imports/{import_id}/rows/bulk", {
      params: { path: path(workspaceId, importId), header: { "if-match": ifMatch ?? undefined } },
      body,
    }),
  );

export const commitImport = (workspaceId: number, importId: number, options: CommitOptions, idempotencyKey: string) =>
  unwrap(
    api.POST("/api/v1/workspaces/{workspace_id}/imports/{import_id}/commit", {
      params: { path: path(workspaceId, importId), header: { "idempotency-key": idempotencyKey } },
      body: options,
    }),
  );

export const cancelImport = (workspaceId: number, importId: number) =>
  unwrap(api.POST("/api/v1/workspaces/{workspace_id}/imports/{import_id}/cancel", { params: { path: path(workspaceId, importId) } }));

export const retryImport = (workspaceId: number, importId: number) =>
  unwrap(api.POST("/api/v1/workspaces/{workspace_id}/imports/{import_id}/retry", { params: { path: path(workspaceId, importId) } }));

export const deleteImport = (workspaceId: number, importId: number) =>
  unwrap(api.DELETE("/api/v1/workspaces/{workspace_id}/imports/{import_id}", { params: { path: path(workspaceId, importId) } }));

export const reportUrl = (workspaceId: number, importId: number, format: "csv" | "xlsx") =>
  `/api/v1/workspaces/${workspaceId}/imports/${importId}/report?format=${format}`;

export const eventsUrl = (workspaceId: number, importId: number) => `/api/v1/workspaces/${workspaceId}/imports/${importId}/events`;
