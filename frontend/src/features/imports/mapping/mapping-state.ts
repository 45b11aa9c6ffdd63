import type { Field } from "../../../api/client";
import type { ColumnMapping } from "../api";

/** Where each column of the file goes, as the person decides on the map screen. */

export type Bucket = "mapped" | "suggested" | "new" | "ignored";
export type ColumnChoice = { field: string | null; bucket: Bucket };
export type MappingState = Record<string, ColumnChoice>;

/** The saved mapping when there is one, else the server's suggestions. */
export function initialMapping(
  columns: string[],
  suggestions: ColumnMapping[],
  saved: Record<string, string | null> | null | undefined,
): MappingState {
  const byColumn = new Map(suggestions.map((s) => [s.column, s]));
  const out: MappingState = {};
  for (const col of columns) {
    if (saved) {
      const field = saved[col] ?? null;
      out[col] = { field, bucket: field ? "mapped" : "ignored" };
      continue;
    }
    out[col] = fromSuggestion(byColumn.get(col));
  }
  return out;
}

function fromSuggestion(s: ColumnMapping | undefined): ColumnChoice {
  if (!s) return { field: null, bucket: "ignored" };
  if (s.bucket === "mapped" || s.bucket === "suggested") return { field: s.field, bucket: s.bucket };
  if (s.bucket === "new") return { field: null, bucket: "new" };
  return { field: null, bucket: "ignored" };
}

const norm = (s: string) => s.trim().toLowerCase().replace(/[^a-z0-9]+/g, "_").replace(/^_|_$/g, "");

/** For an entity the server made no suggestions for: exact matches on key, label and aliases. */
export function exactMapping(columns: string[], fields: Field[]): MappingState {
  const names = new Map<string, string>();
  for (const f of fields) for (const n of [f.key, f.label, ...f.aliases]) if (!names.has(norm(n))) names.set(norm(n), f.key);
  const used = new Set<string>();
  const out: MappingState = {};
  for (const col of columns) {
    const field = names.get(norm(col));
    if (field && !used.has(field)) {
      used.add(field);
      out[col] = { field, bucket: "mapped" };
    } else {
      out[col] = { field: null, bucket: "new" };
    }
  }
  return out;
}

export function acceptSuggestion(state: MappingState, column: string): MappingState {
  const c = state[column];
  if (!c?.field) return state;
  return assignField(state, column, c.field);
}

/** Give a column a field; a column that held the field before lets it go (one column per field). */
export function assignField(state: MappingState, column: string, field: string | null): MappingState {
  if (field === null) return ignoreColumn(state, column);
  const out: MappingState = {};
  for (const [col, c] of Object.entries(state)) {
    if (col === column) out[col] = { field, bucket: "mapped" };
    else if (c.field === field) out[col] = { field: null, bucket: "ignored" };
    else out[col] = c;
  }
  return out;
}

export function ignoreColumn(state: MappingState, column: string): MappingState {
  return { ...state, [column]: { field: null, bucket: "ignored" } };
}

/** Back to what the server proposed for the column. */
export function restoreColumn(state: MappingState, column: string, suggestion: ColumnMapping | undefined): MappingState {
  const back = fromSuggestion(suggestion);
  if (back.bucket === "ignored") return { ...state, [column]: { field: null, bucket: "new" } };
  if (back.field && Object.entries(state).some(([col, c]) => col !== column && c.field === back.field && c.bucket === "mapped")) {
    return { ...state, [column]: { field: null, bucket: "new" } };
  }
  return { ...state, [column]: back };
}

/** What is sent: accepted columns only; pending suggestions and new columns are left out. */
export function mappingToSave(state: MappingState): Record<string, string | null> {
  const out: Record<string, string | null> = {};
  for (const [col, c] of Object.entries(state)) out[col] = c.bucket === "mapped" ? c.field : null;
  return out;
}

/** Problems that would make the API refuse the mapping, said before sending it. */
export function mappingProblems(state: MappingState, fields: Field[], keyFields: string[]): string[] {
  const used = new Set(Object.values(state).filter((c) => c.bucket === "mapped" && c.field).map((c) => c.field!));
  const problems: string[] = [];
  for (const k of keyFields) {
    if (!used.has(k)) problems.push(`The key field ${fields.find((f) => f.key === k)?.label ?? k} needs a column.`);
  }
  for (const f of fields) {
    if (f.required && (f.default === null || f.default === undefined) && !keyFields.includes(f.key) && !used.has(f.key)) {
      problems.push(`${f.label} is required and needs a column.`);
    }
  }
  return problems;
}

export function countByBucket(state: MappingState): Record<Bucket, number> {
  const out: Record<Bucket, number> = { mapped: 0, suggested: 0, new: 0, ignored: 0 };
  for (const c of Object.values(state)) out[c.bucket]++;
  return out;
}
