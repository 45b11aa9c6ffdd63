import type { IDatasource, IGetRowsParams } from "ag-grid-community";
import type { RowFilter, StagedRow } from "./api";

export const PAGE_SIZE = 100;
const WALK_PAGE = 1000;

type Page = { items: StagedRow[]; next_cursor: string | null };

type Options = {
  filter: RowFilter;
  fetchPage: (cursor: number | null, limit: number) => Promise<Page>;
  fetchCount: () => Promise<number>;
  onLoaded?: (info: { total: number }) => void;
  onError?: (error: unknown) => void;
};

export type StagedDatasource = IDatasource & {
  /** Forget counts and positions (after an edit that moves rows in or out of the filter). */
  invalidate: () => void;
};

/**
 * The review grid's infinite-row-model datasource over `imports-rows`, which pages by cursor (the
 * last row number seen), not by offset. Unfiltered rows are usually numbered without gaps: once
 * that is checked (the last row sits where the count says), any block is one request, which is what
 * makes scrolling a million rows smooth. Otherwise a block asked out of order is reached by walking
 * forward in large pages from the nearest known position.
 */
export function createStagedDatasource({ filter, fetchPage, fetchCount, onLoaded, onError }: Options): StagedDatasource {
  let total: Promise<number> | null = null;
  let dense: Promise<number | null> | null = null; // first row number when rows are gapless
  const cursors = new Map<number, number>([[0, 0]]); // row index → cursor that starts it
  let walking: Promise<unknown> = Promise.resolve();
  const unfiltered = !filter.status && !filter.field && !filter.code;

  const getTotal = () => (total ??= fetchCount());

  const getDense = () =>
    (dense ??= (async () => {
      if (!unfiltered) return null;
      const [count, first] = await Promise.all([getTotal(), fetchPage(null, 1)]);
      const firstRow = first.items[0]?.row;
      if (firstRow === undefined || count === 0) return null;
      const last = await fetchPage(firstRow - 1 + count - 1, 1);
      return last.items[0]?.row === firstRow + count - 1 && last.next_cursor === null ? firstRow : null;
    })());

  /** The cursor of row `index`: exact when dense, else walked to (one walk at a time). */
  async function cursorAt(index: number): Promise<number> {
    const firstRow = await getDense();
    if (firstRow !== null) return firstRow - 1 + index;
    const known = cursors.get(index);
    if (known !== undefined) return known;
    const run = walking.then(async () => {
      let from = 0;
      for (const i of cursors.keys()) if (i <= index && i > from) from = i;
      let cursor = cursors.get(from)!;
      while (from < index) {
        const page = await fetchPage(cursor, Math.min(WALK_PAGE, index - from));
        if (page.items.length === 0) break;
        for (let k = 0; k < page.items.length; k++) {
          const at = from + k + 1;
          if (at % PAGE_SIZE === 0) cursors.set(at, page.items[k]!.row);
        }
        from += page.items.length;
        cursor = page.items[page.items.length - 1]!.row;
        cursors.set(from, cursor);
        if (page.next_cursor === null) break;
      }
      return cursors.get(index) ?? cursor;
    });
    walking = run.catch(() => undefined);
    return run;
  }

  return {
    invalidate() {
      total = null;
      dense = null;
      cursors.clear();
      cursors.set(0, 0);
    },
    getRows(params: IGetRowsParams) {
      (async () => {
        const [count, cursor] = await Promise.all([getTotal(), cursorAt(params.startRow)]);
        const page = await fetchPage(cursor, params.endRow - params.startRow);
        const last = page.items[page.items.length - 1];
        if (last) cursors.set(params.startRow + page.items.length, last.row);
        const lastRow = page.next_cursor === null ? params.startRow + page.items.length : Math.max(count, params.startRow + page.items.length + 1);
        params.successCallback(page.items, lastRow);
        if (params.startRow === 0) onLoaded?.({ total: lastRow });
      })().catch((err: unknown) => {
        params.failCallback();
        onError?.(err);
      });
    },
  };
}
