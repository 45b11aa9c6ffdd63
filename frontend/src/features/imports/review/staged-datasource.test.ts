import type { IGetRowsParams } from "ag-grid-community";
import { describe, expect, it } from "vitest";
import type { StagedRow } from "../api";
import { createStagedDatasource, PAGE_SIZE } from "./staged-datasource";

/** A fake `imports-rows`: rows after a cursor, in row-number order, and who asked for what. */
function server(rowNumbers: number[]) {
  const rows: StagedRow[] = rowNumbers.map((row) => ({ row, status: "valid", data: { sku: `S${row}` }, errors: null }));
  const calls: { cursor: number | null; limit: number }[] = [];
  return {
    calls,
    fetchCount: async () => rows.length,
    fetchPage: async (cursor: number | null, limit: number) => {
      calls.push({ cursor, limit });
      let lo = 0;
      let hi = rows.length;
      while (lo < hi) {
        const mid = (lo + hi) >> 1;
        if (rows[mid]!.row <= (cursor ?? 0)) lo = mid + 1;
        else hi = mid;
      }
      const items = rows.slice(lo, lo + limit);
      return { items, next_cursor: lo + limit < rows.length ? items[items.length - 1]!.row : null };
    },
  };
}

function block(ds: ReturnType<typeof createStagedDatasource>, startRow: number): Promise<{ rows: StagedRow[]; lastRow: number | undefined }> {
  return new Promise((resolve, reject) => {
    ds.getRows({
      startRow,
      endRow: startRow + PAGE_SIZE,
      successCallback: (rows: StagedRow[], lastRow?: number) => resolve({ rows, lastRow }),
      failCallback: () => reject(new Error("failed")),
      sortModel: [],
      filterModel: {},
      context: undefined,
    } as unknown as IGetRowsParams);
  });
}

describe("createStagedDatasource", () => {
  it("reaches any block of gapless rows with one request", async () => {
    const fake = server(Array.from({ length: 1_000_000 }, (_, i) => i + 2));
    const ds = createStagedDatasource({ filter: {}, ...fake });
    const first = await block(ds, 0);
    expect(first.rows[0]!.row).toBe(2);
    expect(first.lastRow).toBe(1_000_000);
    const before = fake.calls.length;
    const deep = await block(ds, 618_000);
    expect(deep.rows.map((r) => r.row)).toEqual(Array.from({ length: 100 }, (_, i) => 618_002 + i));
    expect(fake.calls.length - before).toBe(1);
  });

  it("walks to a block exactly when few rows match", async () => {
    const numbers = Array.from({ length: 5_000 }, (_, i) => 10 + i * 3 + (i % 7 === 0 ? 5 : 0));
    numbers.sort((a, b) => a - b);
    const fake = server([...new Set(numbers)]);
    const ds = createStagedDatasource({ filter: { status: "invalid" }, ...fake });
    const b = await block(ds, 3_200);
    const truth = [...new Set(numbers)].sort((x, y) => x - y).slice(3_200, 3_300);
    expect(b.rows.map((r) => r.row)).toEqual(truth);
  });

  it("jumps into a million rows with gaps, and its neighbours join it without a row lost or shown twice", async () => {
    // Every 16th row number is missing, as when quoted cells hold line breaks.
    const numbers = Array.from({ length: 1_070_000 }, (_, i) => i + 2).filter((n) => n % 16 !== 0).slice(0, 1_000_000);
    const fake = server(numbers);
    const ds = createStagedDatasource({ filter: {}, ...fake });
    await block(ds, 0);
    const before = fake.calls.length;
    const landing = await block(ds, 500_000);
    expect(fake.calls.length - before).toBeLessThanOrEqual(2);
    const below = await block(ds, 500_100);
    const above = await block(ds, 499_900);
    const seen = [...above.rows, ...landing.rows, ...below.rows].map((r) => r.row);
    const at = numbers.indexOf(seen[0]!);
    expect(seen).toEqual(numbers.slice(at, at + 300));
    // The estimate lands near where the row really is.
    expect(Math.abs(numbers.indexOf(landing.rows[0]!.row) - 500_000)).toBeLessThan(1_000);
  });

  it("shows the last rows when a jump to the end overshoots", async () => {
    const numbers = Array.from({ length: 60_000 }, (_, i) => 2 + i * 2 + (i > 30_000 ? 1 : 0));
    const fake = server(numbers);
    const ds = createStagedDatasource({ filter: {}, ...fake });
    await block(ds, 0);
    const end = await block(ds, 59_900);
    expect(end.rows.map((r) => r.row)).toEqual(numbers.slice(-100));
    expect(end.lastRow).toBe(60_000);
  });
});

describe("createStagedDatasource, blocks asked together", () => {
  it("joins two neighbours asked at once, without either waiting for the other forever", async () => {
    const numbers = Array.from({ length: 1_070_000 }, (_, i) => i + 2).filter((n) => n % 16 !== 0).slice(0, 1_000_000);
    const fake = server(numbers);
    const ds = createStagedDatasource({ filter: {}, ...fake });
    await block(ds, 0);
    const [a, b] = await Promise.all([block(ds, 700_000), block(ds, 700_100)]);
    const seen = [...a.rows, ...b.rows].map((r) => r.row);
    const at = numbers.indexOf(seen[0]!);
    expect(seen).toEqual(numbers.slice(at, at + 200));
  });
});
