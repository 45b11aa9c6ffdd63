/** The records view's state in the URL: key search, sort, the open record and its drawer's tab. */
export type RecordsSearch = {
  q?: string;
  sort?: string;
  order?: "asc" | "desc";
  record?: number;
  /** The record drawer's tab; Fields when absent. */
  tab?: "history";
};

// Every key is set, undefined when invalid: the router merges this over the raw search of the
// routes above, so a key left out would let the URL's unchecked value through.
export function validateRecordsSearch(search: Record<string, unknown>): RecordsSearch {
  const q = typeof search.q === "string" && search.q !== "" ? search.q : undefined;
  const sort = typeof search.sort === "string" && /^[a-z][a-z0-9_]{0,62}$/.test(search.sort) ? search.sort : undefined;
  const order = sort && (search.order === "asc" || search.order === "desc") ? search.order : undefined;
  const raw = typeof search.record === "string" ? Number(search.record) : search.record;
  const record = typeof raw === "number" && Number.isSafeInteger(raw) && raw > 0 ? raw : undefined;
  const tab = record && search.tab === "history" ? "history" : undefined;
  return { q, sort, order, record, tab };
}
