import { QueryClient, QueryClientProvider } from "@tanstack/react-query";
import { act, renderHook } from "@testing-library/react";
import type { ReactNode } from "react";
import { beforeEach, describe, expect, it } from "vitest";
import { stubFetch } from "../../../test/render";
import { importKeys } from "../api";
import { useCommitImport } from "./mutations";

function setup() {
  const queryClient = new QueryClient({ defaultOptions: { queries: { retry: false }, mutations: { retry: false } } });
  const wrapper = ({ children }: { children: ReactNode }) => <QueryClientProvider client={queryClient}>{children}</QueryClientProvider>;
  const { result } = renderHook(() => useCommitImport(1, 7), { wrapper });
  return { queryClient, commit: () => result.current };
}

beforeEach(() => sessionStorage.clear());

describe("useCommitImport", () => {
  it("sends one idempotency key per session and options, so a repeated commit is the same commit", async () => {
    const { fetchMock } = stubFetch([{ method: "POST", path: "/api/v1/workspaces/1/imports/7/commit", body: { id: 7, status: "committing" } }]);
    const { commit } = setup();
    await act(() => commit().mutateAsync({ on_existing: "overwrite", on_invalid: "skip" }));
    await act(() => commit().mutateAsync({ on_existing: "overwrite", on_invalid: "skip" }));
    await act(() => commit().mutateAsync({ on_existing: "merge", on_invalid: "skip" }));
    const keys = fetchMock.mock.calls.map(([request]) => (request as Request).headers.get("idempotency-key"));
    expect(keys[0]).toBeTruthy();
    expect(keys[1]).toBe(keys[0]);
    expect(keys[2]).not.toBe(keys[0]);
  });

  it("keeps the committing session in the cache, and refreshes the history", async () => {
    stubFetch([{ method: "POST", path: "/api/v1/workspaces/1/imports/7/commit", body: { id: 7, status: "committing" } }]);
    const { queryClient, commit } = setup();
    queryClient.setQueryData(importKeys.list(1), { pages: [], pageParams: [] });
    await act(() => commit().mutateAsync({ on_existing: "overwrite", on_invalid: "skip" }));
    expect(queryClient.getQueryData(importKeys.one(1, 7))).toMatchObject({ status: "committing" });
    expect(queryClient.getQueryState(importKeys.list(1))?.isInvalidated).toBe(true);
  });

  it("stores nothing when the commit is refused", async () => {
    stubFetch([{ method: "POST", path: "/api/v1/workspaces/1/imports/7/commit", status: 409, body: { error: "invalid_rows", detail: "Invalid rows remain.", fields: [] } }]);
    const { queryClient, commit } = setup();
    await act(() => expect(commit().mutateAsync({ on_existing: "overwrite", on_invalid: "abort" })).rejects.toThrow("Invalid rows remain."));
    expect(commit().error?.message).toBe("Invalid rows remain.");
    expect(queryClient.getQueryData(importKeys.one(1, 7))).toBeUndefined();
  });
});
