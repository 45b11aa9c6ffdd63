import type { IGetRowsParams } from "ag-grid-community";
import { describe, expect, it, vi } from "vitest";
import { createRecordsDatasource } from "./datasource";

function record(id: number) {
  return { id, key: `SKU-${id}`, data: { sku: `SKU-${id}` }, version: 1, created_at: "", updated_at: "" };
}

/** A fake records-list endpoint: two pages of 100, then 50, cursors "p2" and "p3". */
function stubRecordsApi() {
  const urls: URL[] = [];
  vi.stubGlobal(
    "fetch",
    vi.fn(async (request: Request) => {
      const url = new URL(request.url);
      urls.push(url);
      const cursor = url.searchParams.get("cursor");
      const start = cursor === null ? 0 : cursor === "p2" ? 100 : 200;
      const size = start === 200 ? 50 : 100;
      const items = Array.from({ length: size }, (_, i) => record(start + i + 1));
      const next = start === 0 ? "p2" : start === 100 ? "p3" : null;
      return new Response(JSON.stringify({ items, next_cursor: next }), {
        headers: { "Content-Type": "application/json" },
      });
    }),
  );
  return urls;
}

function getRows(
  ds: ReturnType<typeof createRecordsDatasource>,
  startRow: number,
  sortModel: IGetRowsParams["sortModel"] = [],
) {
  return new Promise<{ rows: unknown[]; lastRow: number | undefined }>((resolve, reject) => {
    ds.getRows({
      startRow,
      endRow: startRow + 100,
      sortModel,
      filterModel: {},
      context: undefined,
      successCallback: (rows, lastRow) => resolve({ rows, lastRow }),
      failCallback: () => reject(new Error("failed")),
    } as IGetRowsParams);
  });
}

describe("createRecordsDatasource", () => {
  it("asks records-list for blocks by cursor, with the grid's sort and the key search", async () => {
    const urls = stubRecordsApi();
    const onLoaded = vi.fn();
    const ds = createRecordsDatasource({ workspaceId: 3, entityKey: "products", q: "SKU", onLoaded, onError: vi.fn() });
    const sort = [{ colId: "price", sort: "desc" as const }];

    const first = await getRows(ds, 0, sort);
    const second = await getRows(ds, 100, sort);
    const third = await getRows(ds, 200, sort);

    expect(urls[0]!.pathname).toBe("/api/v1/workspaces/3/entities/products/records");
    expect(Object.fromEntries(urls[0]!.searchParams)).toEqual({ limit: "100", sort: "price", order: "desc", q: "SKU" });
    expect(urls.map((u) => u.searchParams.get("cursor"))).toEqual([null, "p2", "p3"]);
    expect(first).toMatchObject({ lastRow: -1 });
    expect(second.rows).toHaveLength(100);
    expect(third).toMatchObject({ lastRow: 250 });
    expect(onLoaded).toHaveBeenCalledExactlyOnceWith({ empty: false });
  });

  it("starts over from the first page when the sort changes, since cursors belong to one order", async () => {
    const urls = stubRecordsApi();
    const ds = createRecordsDatasource({ workspaceId: 1, entityKey: "products", q: undefined, onLoaded: vi.fn(), onError: vi.fn() });

    await getRows(ds, 0);
    await getRows(ds, 0, [{ colId: "name", sort: "asc" }]);

    expect(urls.map((u) => [u.searchParams.get("sort"), u.searchParams.get("cursor")])).toEqual([
      ["id", null],
      ["name", null],
    ]);
  });

  it("reports a failed page so the page can offer a retry", async () => {
    vi.stubGlobal(
      "fetch",
      vi.fn(async () => new Response(JSON.stringify({ error: "invalid_cursor", detail: "The cursor is damaged." }), { status: 400 })),
    );
    const onError = vi.fn();
    const ds = createRecordsDatasource({ workspaceId: 1, entityKey: "products", q: undefined, onLoaded: vi.fn(), onError });

    await expect(getRows(ds, 0)).rejects.toThrow("failed");
    expect(onError.mock.calls[0]![0]).toMatchObject({ status: 400, message: "The cursor is damaged." });
  });
});
