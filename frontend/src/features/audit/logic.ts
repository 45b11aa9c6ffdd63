import { ApiError, type Schemas } from "../../api/client";
import { ACTOR_PATTERN, type AuditSearch, canonicalTime, positiveId } from "./search";

/** What the audit page shows of an event: a summary, the values it changed, and what it is about. */

export type AuditEvent = Schemas["EventRead"];

export const ACTIONS: { value: string; description: string }[] = [
  { value: "record.created", description: "A record was created" },
  { value: "record.updated", description: "Records were changed" },
  { value: "record.deleted", description: "Records were deleted" },
  { value: "records.deleted_all", description: "All records of an entity were deleted" },
  { value: "import.committed", description: "An import wrote a chunk of rows" },
  { value: "entity.created", description: "An entity was created" },
  { value: "entity.deleted", description: "An entity was deleted" },
  { value: "field.created", description: "A field was added" },
  { value: "field.updated", description: "A field's settings were changed" },
  { value: "field.deleted", description: "A field and its values were deleted" },
  { value: "member.invited", description: "Someone was invited" },
  { value: "invitation.revoked", description: "An invitation was revoked" },
  { value: "member.joined", description: "Someone joined with an invitation" },
  { value: "member.role_changed", description: "A member's role was changed" },
  { value: "member.removed", description: "A member was removed" },
  { value: "api_key.created", description: "An API key was made" },
  { value: "api_key.revoked", description: "An API key was revoked" },
];

export const ACTION_PREFIXES: { value: string; description: string }[] = [
  { value: "record.", description: "Every record event" },
  { value: "import.", description: "Every import event" },
  { value: "entity.", description: "Every entity event" },
  { value: "field.", description: "Every field event" },
  { value: "member.", description: "Every membership event" },
  { value: "api_key.", description: "Every API key event" },
];

/** How an action or a prefix reads in the filter: `record.*` for the prefix `record.`. */
export function actionLabel(value: string): string {
  return value.endsWith(".") ? `${value}*` : value;
}

export function isActorFilter(text: string): boolean {
  return ACTOR_PATTERN.test(text);
}

/** Why a typed actor is not one, or null when it is fine (empty is fine: no filter). */
export function actorProblem(text: string): string | null {
  const t = text.trim();
  return t === "" || isActorFilter(t) ? null : "Write user:<id>, api_key:<id> or system";
}

/** Why a typed id is not one, or null when it is fine (empty is fine: no filter). */
export function idProblem(text: string): string | null {
  const t = text.trim();
  return t === "" || positiveId(t) !== undefined ? null : "A positive whole number";
}

export function rangeProblem(since: string | undefined, until: string | undefined): string | null {
  return since && until && Date.parse(until) <= Date.parse(since) ? "Until must be after since" : null;
}

/** Every filter removed, as a search patch. */
export const NO_FILTERS: { [K in keyof Required<AuditSearch>]: undefined } = {
  action: undefined,
  entity: undefined,
  actor: undefined,
  record: undefined,
  import: undefined,
  since: undefined,
  until: undefined,
};

export function hasFilters(search: AuditSearch): boolean {
  return Object.values(search).some((v) => v !== undefined);
}

const pad = (n: number) => String(n).padStart(2, "0");

/** An instant as a `datetime-local` input shows it: local wall-clock time, seconds only when set. */
export function toLocalInput(iso: string | undefined): string {
  if (!iso) return "";
  const d = new Date(iso);
  if (Number.isNaN(d.getTime())) return "";
  const base = `${d.getFullYear()}-${pad(d.getMonth() + 1)}-${pad(d.getDate())}T${pad(d.getHours())}:${pad(d.getMinutes())}`;
  return d.getSeconds() ? `${base}:${pad(d.getSeconds())}` : base;
}

/** A `datetime-local` input's value (local time) as the instant the URL and the API take; undefined when empty. */
export function fromLocalInput(value: string): string | undefined {
  return value ? canonicalTime(value) : undefined;
}

const whenFormat = new Intl.DateTimeFormat(undefined, { dateStyle: "medium", timeStyle: "medium" });

export function formatWhen(iso: string): string {
  const d = new Date(iso);
  return Number.isNaN(d.getTime()) ? iso : whenFormat.format(d);
}

const intFormat = new Intl.NumberFormat("en-US");
const plural = (n: number, noun: string) => `${intFormat.format(n)} ${noun}${n === 1 ? "" : "s"}`;

function strings(value: unknown): string[] {
  return Array.isArray(value) ? value.filter((v): v is string => typeof v === "string") : [];
}

function text(value: unknown): string | undefined {
  return typeof value === "string" && value ? value : undefined;
}

/** "name, price" — the first few, then "and 3 more". */
export function listFields(fields: string[], shown = 4): string {
  if (fields.length <= shown) return fields.join(", ");
  return `${fields.slice(0, shown).join(", ")} and ${fields.length - shown} more`;
}

/** A record event about one record (`subject_type` record); the others are bulk changes. */
export function isSingleRecord(e: AuditEvent): boolean {
  return e.subject_type === "record" && typeof e.subject_id === "number";
}

function changed(e: AuditEvent): string[] {
  const fields = strings(e.payload.fields);
  return fields.length ? fields : Object.keys(valueChanges(e));
}

/** One line per event: what happened, with counts for changes to many records. */
export function eventSummary(e: AuditEvent): string {
  const c = { created: e.counts.created ?? 0, updated: e.counts.updated ?? 0, deleted: e.counts.deleted ?? 0 };
  const p = e.payload;
  const fields = changed(e);
  const single = isSingleRecord(e);
  switch (e.action) {
    case "record.created":
      return single ? `Created${fields.length ? ` with ${listFields(fields)}` : ""}` : `${plural(c.created, "record")} created`;
    case "record.updated":
      if (single) return fields.length ? `Changed ${listFields(fields)}` : "Changed";
      return `${plural(c.updated, "record")} updated${fields.length ? `: ${listFields(fields)}` : ""}`;
    case "record.deleted":
      return single ? "Deleted" : `${plural(c.deleted, "record")} deleted`;
    case "records.deleted_all":
      return `All records deleted (${plural(c.deleted, "record")})`;
    case "import.committed": {
      const parts = [
        c.created && `${intFormat.format(c.created)} created`,
        c.updated && `${intFormat.format(c.updated)} updated`,
        typeof p.unchanged === "number" && p.unchanged > 0 && `${intFormat.format(p.unchanged)} unchanged`,
        typeof p.skipped === "number" && p.skipped > 0 && `${intFormat.format(p.skipped)} skipped`,
      ].filter(Boolean);
      const chunk = typeof p.chunk === "number" ? `Chunk ${p.chunk + 1}: ` : "";
      return `${chunk}${parts.length ? parts.join(", ") : "nothing written"}`;
    }
    case "entity.created": {
      const n = strings(p.fields).length;
      return `Entity “${text(p.key) ?? e.entity ?? "?"}” created${n ? ` with ${plural(n, "field")}` : ""}`;
    }
    case "entity.deleted":
      return `Entity “${text(p.key) ?? text(p.entity) ?? "?"}” deleted${c.deleted ? ` with ${plural(c.deleted, "record")}` : ""}`;
    case "field.created":
      return `Field “${text(p.field) ?? "?"}” added${text(p.type) ? ` (${text(p.type)})` : ""}`;
    case "field.updated": {
      const attrs = Object.keys(valueChanges(e));
      return `Field “${text(p.field) ?? "?"}” changed${attrs.length ? `: ${listFields(attrs)}` : ""}`;
    }
    case "field.deleted":
      return `Field “${text(p.field) ?? "?"}” deleted${c.updated ? `; its values removed from ${plural(c.updated, "record")}` : ""}`;
    case "member.invited":
      return `${text(p.email) ?? "Someone"} invited as ${text(p.role) ?? "?"}`;
    case "invitation.revoked":
      return `Invitation of ${text(p.email) ?? "?"} revoked`;
    case "member.joined":
      return `${text(p.email) ?? "Someone"} joined as ${text(p.role) ?? "?"}`;
    case "member.role_changed": {
      const role = valueChanges(e).role;
      return `${text(p.email) ?? "A member"}: ${text(role?.before) ?? "?"} → ${text(role?.after) ?? "?"}`;
    }
    case "member.removed": {
      const keys = Array.isArray(p.api_keys_revoked) ? p.api_keys_revoked.length : 0;
      return `Member #${e.subject_id ?? "?"} removed${keys ? `, ${plural(keys, "API key")} revoked` : ""}`;
    }
    case "api_key.created":
      return `API key “${text(p.name) ?? "?"}” made (${text(p.role) ?? "?"})`;
    case "api_key.revoked":
      return `API key “${text(p.name) ?? "?"}” revoked`;
    default: {
      const parts = [c.created && `${c.created} created`, c.updated && `${c.updated} updated`, c.deleted && `${c.deleted} deleted`].filter(Boolean);
      return parts.length ? parts.join(", ") : e.action;
    }
  }
}

export type ValueChange = { before?: unknown; after?: unknown };

/** Before and after per field (or field setting), where the event kept them. */
export function valueChanges(e: AuditEvent): Record<string, ValueChange> {
  const values = e.payload.values;
  if (!values || typeof values !== "object" || Array.isArray(values)) return {};
  const out: Record<string, ValueChange> = {};
  for (const [key, v] of Object.entries(values as Record<string, unknown>)) {
    if (v && typeof v === "object" && !Array.isArray(v)) out[key] = v as ValueChange;
  }
  return out;
}

/** A value as one short line: strings as written, the rest as JSON, empty as "empty". */
export function shortValue(value: unknown, max = 60): string {
  if (value === null || value === undefined || value === "") return "empty";
  const s = typeof value === "string" ? value : JSON.stringify(value);
  return s.length > max ? `${s.slice(0, max - 1)}…` : s;
}

/** "Anvil → Anvil 2"; "set to 5" when only the new value was kept (a bulk set); "was 5" for a removal. */
export function describeChange(v: ValueChange): string {
  const hasBefore = "before" in v;
  const hasAfter = "after" in v;
  if (hasBefore && hasAfter) return `${shortValue(v.before)} → ${shortValue(v.after)}`;
  if (hasAfter) return `set to ${shortValue(v.after)}`;
  return `was ${shortValue(v.before)}`;
}

/** Where a line of the audit trail leads. */
export type EventTarget =
  | { kind: "record"; entity: string; record: number }
  | { kind: "import"; importId: number; entity?: string }
  | { kind: "entity"; entity: string };

/**
 * A record event opens that record; an import's chunk opens the import; entity and field events and
 * bulk changes open the entity's records. Nothing to open when the entity is gone (the API names
 * only entities that still exist) or the event is the entity's deletion.
 */
export function eventTarget(e: AuditEvent): EventTarget | null {
  const entity = e.entity ?? undefined;
  if (e.subject_type === "import" && typeof e.import_id === "number") return { kind: "import", importId: e.import_id, entity };
  if (!entity || e.action === "entity.deleted") return null;
  if (isSingleRecord(e)) return { kind: "record", entity, record: e.subject_id! };
  return { kind: "entity", entity };
}

/** What an event is about, in words, for the line's link (or its text when nothing can be opened). */
export function eventSubject(e: AuditEvent, entityLabel: (key: string) => string): string {
  const p = e.payload;
  const key = e.entity ?? text(p.entity) ?? text(p.key);
  const label = key ? entityLabel(key) : "";
  const field = text(p.field);
  if (e.subject_type === "import" && typeof e.import_id === "number") return `Import #${e.import_id}`;
  if (isSingleRecord(e)) return `${label || "Record"} #${e.subject_id}`;
  if (e.subject_type === "field" && field) return `${label} · ${field}`;
  if (!e.entity && key) return `${label} (deleted)`;
  return label || "—";
}

/** A failed load's title, and whether trying again could help (a refusal or a bad filter will not mend itself). */
export function auditProblem(err: unknown): { title: string; retry: boolean } {
  if (err instanceof ApiError && err.status === 403) return { title: "Only admins can read the audit trail", retry: false };
  if (err instanceof ApiError && (err.status === 404 || err.status === 422)) return { title: "These filters cannot be applied", retry: false };
  return { title: "Could not load the audit trail", retry: true };
}
