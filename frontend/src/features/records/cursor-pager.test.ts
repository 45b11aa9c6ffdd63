import { describe, expect, it, vi } from "vitest";
import { type CursorPage, createCursorPager } from "./cursor-pager";

/** A fake keyset API over rows 0..n-1: the cursor is the index of the next row, as a string. */
function fakeApi(n: number) {
  const calls: { cursor: string | null; limit: number }[] = [];
  const fetchPage = vi.fn(async (cursor: string | null, limit: number): Promise<CursorPage<number>> => {
    calls.push({ cursor, limit });
    const start = cursor === null ? 0 : Number(cursor.slice(1));
    const items = Array.from({ length: Math.max(0, Math.min(limit, n - start)) }, (_, i) => start + i);
    const next = start + limit;
    return { items, next_cursor: next < n ? `c${next}` : null };
  });
  return { fetchPage, calls };
}

describe("createCursorPager", () => {
  it("loads the first block without a cursor and remembers the next one", async () => {
    const { fetchPage, calls } = fakeApi(250);
    const pager = createCursorPager(fetchPage, { pageSize: 100 });

    const block = await pager.getBlock(0);

    expect(block.rows).toHaveLength(100);
    expect(block.rows[0]).toBe(0);
    expect(block.lastRow).toBeUndefined();
    expect(calls).toEqual([{ cursor: null, limit: 100 }]);
    expect(pager.knownCursors().get(1)).toBe("c100");
  });

  it("follows the remembered cursors for blocks asked in order and reports the end", async () => {
    const { fetchPage, calls } = fakeApi(250);
    const pager = createCursorPager(fetchPage, { pageSize: 100 });

    await pager.getBlock(0);
    const second = await pager.getBlock(100);
    const third = await pager.getBlock(200);

    expect(second.rows[0]).toBe(100);
    expect(third.rows).toEqual(Array.from({ length: 50 }, (_, i) => 200 + i));
    expect(third.lastRow).toBe(250);
    expect(calls.map((c) => c.cursor)).toEqual([null, "c100", "c200"]);
  });

  it("walks the cursors forward when a block is asked out of order", async () => {
    const { fetchPage, calls } = fakeApi(10_000);
    const pager = createCursorPager(fetchPage, { pageSize: 100, maxWalkLimit: 1000 });

    const block = await pager.getBlock(2_500);

    expect(block.rows[0]).toBe(2_500);
    // Two walks of 1,000 rows, one of 500, then the block itself.
    expect(calls).toEqual([
      { cursor: null, limit: 1000 },
      { cursor: "c1000", limit: 1000 },
      { cursor: "c2000", limit: 500 },
      { cursor: "c2500", limit: 100 },
    ]);
  });

  it("walks from the nearest known cursor, not from the start", async () => {
    const { fetchPage, calls } = fakeApi(10_000);
    const pager = createCursorPager(fetchPage, { pageSize: 100 });
    await pager.getBlock(0);
    await pager.getBlock(100);
    calls.length = 0;

    await pager.getBlock(400);

    expect(calls).toEqual([
      { cursor: "c200", limit: 200 },
      { cursor: "c400", limit: 100 },
    ]);
  });

  it("waits for an earlier block in flight instead of walking past it", async () => {
    const { fetchPage, calls } = fakeApi(1_000);
    const pager = createCursorPager(fetchPage, { pageSize: 100 });

    const [first, second] = await Promise.all([pager.getBlock(0), pager.getBlock(100)]);

    expect(first.rows[0]).toBe(0);
    expect(second.rows[0]).toBe(100);
    expect(calls).toEqual([
      { cursor: null, limit: 100 },
      { cursor: "c100", limit: 100 },
    ]);
  });

  it("answers an empty block past the end of the data", async () => {
    const { fetchPage } = fakeApi(150);
    const pager = createCursorPager(fetchPage, { pageSize: 100 });

    const block = await pager.getBlock(500);

    expect(block.rows).toEqual([]);
    expect(block.lastRow).toBe(150);
  });

  it("reports an empty result as zero rows", async () => {
    const { fetchPage } = fakeApi(0);
    const pager = createCursorPager(fetchPage, { pageSize: 100 });

    expect(await pager.getBlock(0)).toEqual({ rows: [], lastRow: 0 });
  });

  it("lets a failed block be asked again", async () => {
    const { fetchPage } = fakeApi(300);
    fetchPage.mockRejectedValueOnce(new Error("offline"));
    const pager = createCursorPager(fetchPage, { pageSize: 100 });

    await expect(pager.getBlock(0)).rejects.toThrow("offline");
    const retry = await pager.getBlock(0);

    expect(retry.rows).toHaveLength(100);
  });
});
