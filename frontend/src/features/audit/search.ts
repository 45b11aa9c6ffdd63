/** The audit trail's filters in the URL, named as the API names them, so a view is a shareable link. */
export type AuditSearch = {
  action?: string;
  entity?: string;
  actor?: string;
  record?: number;
  import?: number;
  since?: string;
  until?: string;
};

/** An action (`record.updated`) or a prefix ending in a dot (`record.`). */
export const ACTION_PATTERN = /^[a-z][a-z_]*\.(?:[a-z][a-z_]*)?$/;
/** `user:<id>`, `api_key:<id>` or `system`, as the API takes it. */
export const ACTOR_PATTERN = /^(?:(?:user|api_key):[1-9]\d{0,17}|system)$/;
const ENTITY_KEY = /^[a-z][a-z0-9_]{0,62}$/;
const ISO_TIME = /^\d{4}-\d{2}-\d{2}(?:T\d{2}:\d{2}(?::\d{2}(?:\.\d{1,6})?)?(?:Z|[+-]\d{2}:\d{2})?)?$/;

/** A positive whole number from a URL or an input, or undefined. */
export function positiveId(value: unknown): number | undefined {
  const n = typeof value === "string" && /^\d+$/.test(value.trim()) ? Number(value.trim()) : value;
  return typeof n === "number" && Number.isSafeInteger(n) && n > 0 ? n : undefined;
}

/** An instant as the URL keeps it: ISO 8601 in UTC, seconds and no milliseconds when there are none. */
export function canonicalTime(value: unknown): string | undefined {
  if (typeof value !== "string" || !ISO_TIME.test(value)) return undefined;
  const date = new Date(value);
  return Number.isNaN(date.getTime()) ? undefined : date.toISOString().replace(".000Z", "Z");
}

// Every key is set, undefined when invalid: the router merges this over the raw search of the
// routes above, so a key left out would let the URL's unchecked value through.
export function validateAuditSearch(search: Record<string, unknown>): AuditSearch {
  const { action, entity, actor } = search;
  return {
    action: typeof action === "string" && action.length <= 48 && ACTION_PATTERN.test(action) ? action : undefined,
    entity: typeof entity === "string" && ENTITY_KEY.test(entity) ? entity : undefined,
    actor: typeof actor === "string" && ACTOR_PATTERN.test(actor) ? actor : undefined,
    record: positiveId(search.record),
    import: positiveId(search.import),
    since: canonicalTime(search.since),
    until: canonicalTime(search.until),
  };
}
