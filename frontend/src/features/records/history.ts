import { infiniteQueryOptions } from "@tanstack/react-query";
import { api, type Entity, type Schemas, unwrap } from "../../api/client";
import { orderedFields } from "./columns";
import { formatValue } from "./format";

/** A record's history: its pages by cursor, and how one entry reads in the drawer. */

export type HistoryEntry = Schemas["HistoryEntry"];

export const HISTORY_PAGE_SIZE = 50;

// Under the record's own key, so whatever refreshes the record refreshes its history too.
export const recordHistoryQuery = (workspaceId: number, entityKey: string, recordId: number) =>
  infiniteQueryOptions({
    queryKey: ["workspaces", workspaceId, "entities", entityKey, "records", recordId, "history"],
    queryFn: ({ pageParam, signal }) =>
      unwrap(
        api.GET("/api/v1/workspaces/{workspace_id}/entities/{entity_key}/records/{record_id}/history", {
          params: {
            path: { workspace_id: workspaceId, entity_key: entityKey, record_id: recordId },
            query: { cursor: pageParam, limit: HISTORY_PAGE_SIZE },
          },
          signal,
        }),
      ),
    initialPageParam: undefined as number | undefined,
    getNextPageParam: (last) => last.next_cursor ?? undefined,
  });

export const CHANGE_LABELS: Record<HistoryEntry["change"], string> = { created: "Created", updated: "Updated", deleted: "Deleted" };
export const CHANGE_COLORS: Record<HistoryEntry["change"], string> = { created: "green", updated: "blue", deleted: "red" };

/** One field's change as the drawer shows it; a side is absent when the entry did not keep it. */
export type FieldChange = { key: string; label: string; before?: string; after?: string };

/** Before and after of each field the entry kept values of, formatted by the field's type, in the drawer's field order. */
export function fieldChanges(entry: HistoryEntry, entity: Entity): FieldChange[] {
  const values = entry.values ?? {};
  const known = orderedFields(entity).filter((f) => f.key in values);
  // A field deleted since keeps its raw values.
  const gone = Object.keys(values).filter((k) => !entity.fields.some((f) => f.key === k)).sort();
  const show = (type: Parameters<typeof formatValue>[0] | undefined, v: unknown) =>
    type ? formatValue(type, v) : v === null || v === undefined ? "" : typeof v === "string" ? v : JSON.stringify(v);
  return [...known.map((f) => ({ key: f.key, label: f.label, type: f.type })), ...gone.map((k) => ({ key: k, label: k, type: undefined }))].map(
    ({ key, label, type }) => {
      const v = values[key] ?? {};
      const out: FieldChange = { key, label };
      if ("before" in v) out.before = show(type, v.before);
      if ("after" in v) out.after = show(type, v.after);
      return out;
    },
  );
}

/** What else to say about an entry: why it happened, or which fields an import wrote without keeping their values. */
export function entryNote(entry: HistoryEntry, entity: Entity): string | null {
  switch (entry.action) {
    case "field.deleted":
      return `The field ${labels(entry.fields ?? [], entity)} was deleted, and its value with it.`;
    case "entity.deleted":
      return "The entity was deleted, with all its records.";
    case "records.deleted_all":
      return "All records of the entity were deleted at once.";
  }
  const written = (entry.fields ?? []).filter((k) => !(k in (entry.values ?? {})));
  if (entry.change === "updated" && written.length) return `Fields written: ${labels(written, entity)}.`;
  return null;
}

function labels(keys: string[], entity: Entity): string {
  return keys.map((k) => entity.fields.find((f) => f.key === k)?.label ?? k).join(", ");
}
