import { QueryClient } from "@tanstack/react-query";
import { describe, expect, it, vi } from "vitest";
import { auditQuery } from "./api";

describe("auditQuery", () => {
  it("sends the filters in the API's names and pages by the cursor the API gives", async () => {
    const urls: URL[] = [];
    vi.stubGlobal(
      "fetch",
      vi.fn(async (request: Request) => {
        const url = new URL(request.url);
        urls.push(url);
        const body = url.searchParams.has("cursor") ? { items: [], next_cursor: null } : { items: [], next_cursor: 41 };
        return new Response(JSON.stringify(body), { headers: { "Content-Type": "application/json" } });
      }),
    );
    const client = new QueryClient();
    const options = auditQuery(3, { action: "record.", actor: "user:2", import: 7, record: undefined, since: "2026-12-01T00:00:00Z" });
    await client.fetchInfiniteQuery({ ...options, pages: 2 });

    expect(urls.map((u) => u.pathname)).toEqual(["/api/v1/workspaces/3/audit", "/api/v1/workspaces/3/audit"]);
    expect(Object.fromEntries(urls[0]!.searchParams)).toEqual({ action: "record.", actor: "user:2", import: "7", since: "2026-12-01T00:00:00Z", limit: "50" });
    expect(urls[1]!.searchParams.get("cursor")).toBe("41");
    expect(client.getQueryData(options.queryKey)?.pages).toHaveLength(2);
  });
});
