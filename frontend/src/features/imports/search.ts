import type { Schemas } from "../../api/client";

/** An import session's screen in the URL: the step, the review grid's filters, the open row, commit options. */

export const STEPS = ["upload", "map", "staging", "review", "preview", "progress", "result"] as const;
export type ImportStep = (typeof STEPS)[number];

export type RowStatusFilter = Schemas["RowFilter"];
export const ROW_STATUSES = ["problems", "invalid", "duplicate", "discarded", "valid", "rejected", "failed"] as const satisfies readonly RowStatusFilter[];

export const isRowStatusFilter = (v: unknown): v is RowStatusFilter => typeof v === "string" && (ROW_STATUSES as readonly string[]).includes(v);

export type ImportSearch = {
  step?: ImportStep;
  status?: RowStatusFilter;
  field?: string;
  code?: string;
  row?: number;
  onExisting?: "overwrite" | "skip" | "merge";
  onInvalid?: "skip" | "abort";
};

const ident = /^[a-z_][a-z0-9_]{0,62}$/;

export function validateImportSearch(search: Record<string, unknown>): ImportSearch {
  const out: ImportSearch = {};
  if (typeof search.step === "string" && (STEPS as readonly string[]).includes(search.step)) out.step = search.step as ImportStep;
  if (isRowStatusFilter(search.status)) out.status = search.status;
  if (typeof search.field === "string" && ident.test(search.field)) out.field = search.field;
  if (typeof search.code === "string" && ident.test(search.code)) out.code = search.code;
  const row = typeof search.row === "string" ? Number(search.row) : search.row;
  if (typeof row === "number" && Number.isSafeInteger(row) && row > 0) out.row = row;
  if (search.onExisting === "overwrite" || search.onExisting === "skip" || search.onExisting === "merge") out.onExisting = search.onExisting;
  if (search.onInvalid === "skip" || search.onInvalid === "abort") out.onInvalid = search.onInvalid;
  return out;
}

/** The step a session's status allows; the URL's step wins when it is one of them. */
export function stepFor(status: Schemas["ImportStatus"], wanted: ImportStep | undefined): ImportStep {
  const allowed: Record<Schemas["ImportStatus"], ImportStep[]> = {
    created: ["upload"],
    uploaded: ["map"],
    mapped: ["map"],
    staging: ["staging"],
    staged: ["review", "preview", "map"],
    committing: ["progress"],
    completed: ["result"],
    completed_with_errors: ["result"],
    failed: ["result"],
    cancelled: ["result"],
  };
  const options = allowed[status];
  return wanted && options.includes(wanted) ? wanted : options[0]!;
}
