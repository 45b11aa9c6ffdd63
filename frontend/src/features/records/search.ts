/** The records view's state in the URL: key search, sort, and the open record. */
export type RecordsSearch = {
  q?: string;
  sort?: string;
  order?: "asc" | "desc";
  record?: number;
};

export function validateRecordsSearch(search: Record<string, unknown>): RecordsSearch {
  const out: RecordsSearch = {};
  if (typeof search.q === "string" && search.q !== "") out.q = search.q;
  if (typeof search.sort === "string" && /^[a-z][a-z0-9_]{0,62}$/.test(search.sort)) out.sort = search.sort;
  if (out.sort && (search.order === "asc" || search.order === "desc")) out.order = search.order;
  const record = typeof search.record === "string" ? Number(search.record) : search.record;
  if (typeof record === "number" && Number.isSafeInteger(record) && record > 0) out.record = record;
  return out;
}
