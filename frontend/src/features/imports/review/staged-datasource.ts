import type { IDatasource, IGetRowsParams } from "ag-grid-community";
import type { RowFilter, StagedRow } from "../api";

export const PAGE_SIZE = 100;
const WALK_PAGE = 1000;
/** Up to this many matching rows, a block asked out of order is reached exactly, by walking. */
const WALK_LIMIT = 20_000;

type Page = { items: StagedRow[]; next_cursor: number | null };

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

type Layout = { total: number; firstRow: number; dense: boolean };

/**
 * The review grid's infinite-row-model datasource over `imports-rows`, which pages by cursor (rows
 * after a row number), not by offset. Three ways to find where a block starts:
 *
 * - rows numbered without gaps (checked once: the last row sits where the count says): the cursor
 *   is arithmetic, any block is one request;
 * - few matching rows: walk forward in large pages from the nearest known position, exactly;
 * - many rows with gaps in their numbers (quoted line breaks, a filter): jump to an estimate
 *   interpolated between known positions. Blocks next to a loaded block start or end exactly
 *   where it does, so scrolling on from any point shows every row once, in order.
 */
export function createStagedDatasource({ filter, fetchPage, fetchCount, onLoaded, onError }: Options): StagedDatasource {
  let layout: Promise<Layout> | null = null;
  // index → cursor: the rows from this index on have row numbers above the cursor.
  const cursors = new Map<number, number>();
  let walking: Promise<unknown> = Promise.resolve();
  // Blocks being loaded, by start: a neighbour waits for one, to join it exactly.
  // Only on one asked for earlier, so two neighbours never wait for each other.
  const loading = new Map<number, { seq: number; done: Promise<unknown> }>();
  let seq = 0;
  // Rows fetched with a block for the block after it (a jump fetches both at once).
  const prefetched = new Map<number, StagedRow[]>();
  const unfiltered = !filter.status && !filter.field && !filter.code;

  const getLayout = () =>
    (layout ??= (async () => {
      const [total, first] = await Promise.all([fetchCount(), fetchPage(null, PAGE_SIZE)]);
      const firstRow = first.items[0]?.row ?? 1;
      learn(0, first.items);
      if (total === 0) return { total, firstRow, dense: false };
      if (unfiltered) {
        const last = await fetchPage(firstRow + total - 2, 1);
        if (last.items[0]?.row === firstRow + total - 1 && last.next_cursor === null) return { total, firstRow, dense: true };
      }
      // Estimates need both ends: the last row number too.
      if (total > WALK_LIMIT) cursors.set(total, await findLast(firstRow, total));
      return { total, firstRow, dense: false };
    })());

  /** The highest row number: a probe where the first rows' spacing says, then halving. */
  async function findLast(firstRow: number, total: number): Promise<number> {
    const known = [...cursors.entries()].reduce((a, b) => (b[0] > a[0] ? b : a));
    const gap = known[0] > 0 ? Math.max(1, (known[1] - firstRow + 1) / known[0]) : 1;
    let lo = known[1];
    let hi = Number.MAX_SAFE_INTEGER;
    let probe = Math.max(lo, Math.round(firstRow + (total - WALK_PAGE / 2) * gap));
    for (let request = 0; request < 64; request++) {
      const page = await fetchPage(probe, WALK_PAGE);
      const last = page.items[page.items.length - 1];
      if (last && page.next_cursor === null) return last.row;
      if (last) lo = last.row;
      else hi = probe;
      probe = hi === Number.MAX_SAFE_INTEGER ? lo + (lo - firstRow + 1) : Math.floor((lo + hi) / 2);
      if (hi - lo <= 1) return lo;
    }
    return lo;
  }

  /** Remember where the rows of a loaded block start and end. */
  function learn(start: number, items: StagedRow[]) {
    const first = items[0];
    const last = items[items.length - 1];
    if (!first || !last) return;
    if (!cursors.has(start)) cursors.set(start, first.row - 1);
    cursors.set(start + items.length, last.row);
  }

  function nearest(index: number): { below: [number, number]; above: [number, number] | null } {
    let below: [number, number] = [0, cursors.get(0) ?? 0];
    let above: [number, number] | null = null;
    for (const [i, c] of cursors) {
      if (i <= index && i >= below[0]) below = [i, c];
      if (i > index && (above === null || i < above[0])) above = [i, c];
    }
    return { below, above };
  }

  /** Row numbers per row, from what is known around `index` (1 when nothing is). */
  function spacing(below: [number, number], above: [number, number] | null): number {
    if (above && above[0] > below[0]) return Math.max(1, (above[1] - below[1]) / (above[0] - below[0]));
    let far: [number, number] = [0, cursors.get(0) ?? 0];
    for (const [i, c] of cursors) if (i > far[0]) far = [i, c];
    return far[0] > 0 ? Math.max(1, (far[1] - (cursors.get(0) ?? 0)) / far[0]) : 1;
  }

  async function walkTo(index: number): Promise<number> {
    const run = walking.then(async () => {
      let [from, cursor] = nearest(index).below;
      while (from < index) {
        const page = await fetchPage(cursor, Math.min(WALK_PAGE, index - from));
        if (page.items.length === 0) break;
        learn(from, page.items);
        from += page.items.length;
        cursor = page.items[page.items.length - 1]!.row;
        if (page.next_cursor === null) break;
      }
      return cursors.get(index) ?? cursor;
    });
    walking = run.catch(() => undefined);
    return run;
  }

  /** The `n` rows just before row number `upTo` (inclusive), looked for back from `near`. */
  async function rowsEndingAt(upTo: number, n: number, gap: number, near = upTo): Promise<StagedRow[]> {
    let back = Math.ceil(n * gap * 1.25) + 10;
    let start = Math.max(0, Math.round(Math.min(near, upTo)) - back);
    let from = start;
    let kept: StagedRow[] = [];
    for (let request = 0; request < 12; request++) {
      // Enough rows to reach `upTo` at the expected spacing, not a full walking page.
      const limit = upTo === Number.MAX_SAFE_INTEGER ? WALK_PAGE : Math.min(WALK_PAGE, Math.ceil((upTo - from) / gap) + 20);
      const page = await fetchPage(from, Math.max(limit, n));
      const items = page.items.filter((r) => r.row <= upTo);
      kept = [...kept, ...items].slice(-n);
      const reached = items.length < page.items.length || page.next_cursor === null;
      if (!reached) {
        from = items[items.length - 1]!.row;
        continue;
      }
      if (kept.length >= n || start === 0) return kept;
      // Not far enough back: start again further up.
      back *= 4;
      start = Math.max(0, start - back);
      from = start;
      kept = [];
    }
    return [];
  }

  async function loadBlock(start: number, n: number, mine: number, { total, firstRow, dense }: Layout): Promise<StagedRow[]> {
    if (dense) return (await fetchPage(firstRow - 1 + start, n)).items;
    const ready = prefetched.get(start);
    if (ready) {
      prefetched.delete(start);
      if (ready.length === n) return ready;
    }
    const exact = cursors.get(start);
    if (exact !== undefined) return (await fetchPage(exact, n)).items;
    if (total <= WALK_LIMIT) return (await fetchPage(await walkTo(start), n)).items;
    const neighbour = [loading.get(start - n), loading.get(start + n)].find((b) => b !== undefined && b.seq < mine);
    if (neighbour) {
      await neighbour.done.catch(() => undefined);
      const ready = prefetched.get(start);
      prefetched.delete(start);
      if (ready?.length === n) return ready;
      const joined = cursors.get(start);
      if (joined !== undefined) return (await fetchPage(joined, n)).items;
    }
    const { below, above } = nearest(start);
    const gap = spacing(below, above);
    // The block after this one is loaded: end exactly where it starts.
    if (above && above[0] === start + n) {
      const items = await rowsEndingAt(above[1], n, gap);
      if (items.length === n) return items;
    }
    const estimate = Math.max(below[1], Math.round(below[1] + (start - below[0]) * gap));
    // The block after this one comes in the same request: a view across two blocks needs one round trip.
    const page = await fetchPage(estimate, 2 * n);
    if (page.items.length > n) {
      const rest = page.items.slice(n);
      page.items = page.items.slice(0, n);
      if (rest.length === n || page.next_cursor === null) prefetched.set(start + n, rest);
    }
    // Overshot the end: show the last rows instead.
    if (page.items.length < n && start + n <= total) {
      const end = below[1] + (total - below[0]) * gap;
      const last = await rowsEndingAt(Number.MAX_SAFE_INTEGER, n, gap, end);
      if (last.length === n) return last;
    }
    return page.items;
  }

  return {
    invalidate() {
      layout = null;
      cursors.clear();
      prefetched.clear();
    },
    getRows(params: IGetRowsParams) {
      const mine = ++seq;
      const load = (async () => {
        const l = await getLayout();
        const n = params.endRow - params.startRow;
        const items = await loadBlock(params.startRow, n, mine, l);
        learn(params.startRow, items);
        return { l, n, items };
      })();
      loading.set(params.startRow, { seq: mine, done: load });
      load
        .finally(() => {
          if (loading.get(params.startRow)?.seq === mine) loading.delete(params.startRow);
        })
        .then(({ l, n, items }) => {
          const lastRow = items.length < n ? params.startRow + items.length : Math.max(l.total, params.startRow + items.length);
          params.successCallback(items, lastRow);
          if (params.startRow === 0) onLoaded?.({ total: lastRow });
        })
        .catch((err: unknown) => {
          params.failCallback();
          onError?.(err);
        });
    },
  };
}
