/**
 * Maps the grid's row-offset block requests onto the API's cursor pages.
 *
 * The records API pages by cursor (keyset), not by offset, so the cursor that starts each block of
 * `pageSize` rows is remembered once the block before it has loaded. The grid asks for blocks in
 * order while scrolling, so that is the usual path; a block asked out of order is reached by walking
 * the cursors forward from the nearest known one, in pages of up to `maxWalkLimit` rows.
 */

export type CursorPage<T> = { items: T[]; next_cursor: string | null };

export type FetchPage<T> = (cursor: string | null, limit: number, signal?: AbortSignal) => Promise<CursorPage<T>>;

export type Block<T> = {
  rows: T[];
  /** Total row count once the last page has been seen; undefined while more may follow. */
  lastRow: number | undefined;
};

export type CursorPagerOptions = { pageSize: number; maxWalkLimit?: number };

export type CursorPager<T> = {
  getBlock(startRow: number, signal?: AbortSignal): Promise<Block<T>>;
  /** Cursors known so far, by block index (block 0 starts at no cursor). */
  knownCursors(): ReadonlyMap<number, string | null>;
};

export function createCursorPager<T>(fetchPage: FetchPage<T>, options: CursorPagerOptions): CursorPager<T> {
  const { pageSize } = options;
  const maxWalkLimit = Math.max(pageSize, options.maxWalkLimit ?? 1000);
  const cursors = new Map<number, string | null>([[0, null]]);
  const inFlight = new Map<number, Promise<CursorPage<T>>>();
  /** Number of rows in all, once a page without a next cursor has been seen. */
  let total: number | undefined;

  function remember(block: number, rowsBefore: number, page: CursorPage<T>, pages: number): void {
    if (page.next_cursor === null) {
      total = rowsBefore + page.items.length;
    } else {
      cursors.set(block + pages, page.next_cursor);
    }
  }

  function nearestKnownBelow(block: number): number {
    let best = 0;
    for (const b of cursors.keys()) if (b <= block && b > best) best = b;
    return best;
  }

  function nearestInFlightBelow(block: number, above: number): number | undefined {
    let best: number | undefined;
    for (const b of inFlight.keys()) if (b < block && b >= above && (best === undefined || b > best)) best = b;
    return best;
  }

  /** The cursor that starts `block`, or undefined when the data ends before it. */
  async function cursorFor(block: number, signal?: AbortSignal): Promise<string | null | undefined> {
    for (;;) {
      if (cursors.has(block)) return cursors.get(block);
      const known = nearestKnownBelow(block);
      if (total !== undefined && total <= block * pageSize) return undefined;
      // A block between the known cursor and this one is already loading: its answer carries the next cursor.
      const pending = nearestInFlightBelow(block, known);
      if (pending !== undefined) {
        await inFlight.get(pending)?.catch(() => undefined);
        if (!cursors.has(pending + 1) && total === undefined) throw new Error("An earlier page failed to load.");
        continue;
      }
      const pages = Math.min(block - known, Math.floor(maxWalkLimit / pageSize));
      const page = await fetchPage(cursors.get(known) ?? null, pages * pageSize, signal);
      remember(known, known * pageSize, page, pages);
      if (page.next_cursor === null) return undefined;
    }
  }

  async function getBlock(startRow: number, signal?: AbortSignal): Promise<Block<T>> {
    const block = Math.floor(startRow / pageSize);
    const loading = inFlight.get(block);
    const load =
      loading ??
      (async () => {
        const cursor = await cursorFor(block, signal);
        if (cursor === undefined && block > 0) return { items: [], next_cursor: null };
        const page = await fetchPage(cursor ?? null, pageSize, signal);
        remember(block, block * pageSize, page, 1);
        return page;
      })();
    if (!loading) {
      inFlight.set(block, load);
      load.then(
        () => inFlight.delete(block),
        () => inFlight.delete(block),
      );
    }
    const page = await load;
    return { rows: page.items, lastRow: total };
  }

  return { getBlock, knownCursors: () => cursors };
}
