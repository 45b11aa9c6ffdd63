import { MantineProvider } from "@mantine/core";
import { QueryClient, QueryClientProvider } from "@tanstack/react-query";
import { render } from "@testing-library/react";
import type { ReactElement } from "react";
import { vi } from "vitest";

/** Render inside the app's providers (Mantine without transitions or portals), with a fresh query cache that does not retry. */
export function renderWithProviders(ui: ReactElement) {
  const queryClient = new QueryClient({ defaultOptions: { queries: { retry: false }, mutations: { retry: false } } });
  return {
    queryClient,
    ...render(
      <MantineProvider env="test">
        <QueryClientProvider client={queryClient}>{ui}</QueryClientProvider>
      </MantineProvider>,
    ),
  };
}

type Route = { method?: string; path: string; status?: number; body?: unknown };

/** A fake API at the HTTP boundary: answers by method and path, records every request. */
export function stubFetch(routes: Route[]) {
  const requests: { method: string; path: string; body: unknown }[] = [];
  const fetchMock = vi.fn(async (input: RequestInfo | URL, init?: RequestInit) => {
    const request = input instanceof Request ? input : new Request(input, init);
    const url = new URL(request.url, "http://localhost");
    const text = request.method === "GET" ? "" : await request.text();
    requests.push({ method: request.method, path: url.pathname, body: text ? JSON.parse(text) : undefined });
    const route = routes.find((r) => (r.method ?? "GET") === request.method && r.path === url.pathname);
    if (!route) return new Response(JSON.stringify({ error: "not_found", detail: "No such route." }), { status: 404 });
    return new Response(route.body === undefined ? null : JSON.stringify(route.body), {
      status: route.status ?? 200,
      headers: { "Content-Type": "application/json" },
    });
  });
  vi.stubGlobal("fetch", fetchMock);
  return { fetchMock, requests };
}
