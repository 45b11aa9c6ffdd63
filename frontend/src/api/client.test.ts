import { afterEach, describe, expect, it, vi } from "vitest";
import { stubFetch } from "../test/render";
import { ApiError, api, errorMessage, setUnauthorizedHandler, unwrap } from "./client";

afterEach(() => setUnauthorizedHandler(null));

describe("api client", () => {
  it("sends the user to sign in when a call answers 401", async () => {
    stubFetch([{ path: "/api/v1/auth/me", status: 401, body: { error: "unauthenticated", detail: "Sign in first." } }]);
    const handler = vi.fn();
    setUnauthorizedHandler(handler);

    const call = unwrap(api.GET("/api/v1/auth/me"));

    await expect(call).rejects.toBeInstanceOf(ApiError);
    expect(handler).toHaveBeenCalledOnce();
  });

  it("leaves a refused sign-in to the login form", async () => {
    stubFetch([
      { method: "POST", path: "/api/v1/auth/login", status: 401, body: { error: "invalid_credentials", detail: "Wrong email or password." } },
    ]);
    const handler = vi.fn();
    setUnauthorizedHandler(handler);

    const call = unwrap(api.POST("/api/v1/auth/login", { body: { email: "a@b.c", password: "x" } }));

    await expect(call).rejects.toThrow("Wrong email or password.");
    expect(handler).not.toHaveBeenCalled();
  });

  it("explains a server error that has no error body", async () => {
    vi.stubGlobal("fetch", vi.fn(async () => new Response("Bad gateway", { status: 502 })));

    const error = await unwrap(api.GET("/api/v1/workspaces")).catch((e: unknown) => e);

    expect(errorMessage(error)).toMatch(/server failed to answer \(HTTP 502\)/);
  });
});
