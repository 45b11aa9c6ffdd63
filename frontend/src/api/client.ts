import createClient, { type Middleware } from "openapi-fetch";
import type { components, paths } from "./generated/schema";

export type Schemas = components["schemas"];
export type ErrorBody = Schemas["ErrorBody"];
export type Workspace = Schemas["WorkspaceRead"];
export type Entity = Schemas["EntityRead"];
export type Field = Schemas["FieldRead"];
export type FieldCreate = Schemas["FieldCreate"];
export type RecordRow = Schemas["RecordRead"];
export type RecordPage = Schemas["RecordPage"];
export type Me = Schemas["Me"];

/** An error answered by the API (or the network), with the API's readable message. */
export class ApiError extends Error {
  readonly status: number;
  readonly code: string;
  readonly fields: Schemas["FieldError"][];

  constructor(status: number, body: Partial<ErrorBody> | undefined, fallback?: string) {
    super(body?.detail || fallback || statusText(status));
    this.name = "ApiError";
    this.status = status;
    this.code = body?.error ?? (status === 0 ? "network_error" : "http_error");
    this.fields = body?.fields ?? [];
  }
}

function statusText(status: number): string {
  if (status === 0) return "Cannot reach the server. Check your connection and try again.";
  if (status >= 500) return `The server failed to answer (HTTP ${status}). Try again in a moment.`;
  return `The request failed (HTTP ${status}).`;
}

const REQUEST_TIMEOUT_MS = 60_000;

type UnauthorizedHandler = () => void;
let onUnauthorized: UnauthorizedHandler | null = null;

/** What to do when any call (but signing in, here or through an invitation) answers 401: the app sends the user to the login page. */
export function setUnauthorizedHandler(handler: UnauthorizedHandler | null): void {
  onUnauthorized = handler;
}

const unauthorized: Middleware = {
  onResponse({ request, response }) {
    const path = new URL(request.url).pathname;
    if (response.status === 401 && !path.endsWith("/auth/login") && !path.startsWith("/api/v1/invitations/")) {
      onUnauthorized?.();
    }
    return undefined;
  },
};

export const api = createClient<paths>({
  baseUrl: "",
  credentials: "same-origin",
  // Resolved at call time so tests can stub the global fetch; no call waits forever.
  fetch: (request: Request) =>
    globalThis.fetch(request, { signal: AbortSignal.any([request.signal, AbortSignal.timeout(REQUEST_TIMEOUT_MS)]) }),
});
api.use(unauthorized);

type FetchResult<T> = { data?: T; error?: unknown; response: Response };

/** The data of a call, or an ApiError carrying the API's `{error, detail, fields}` message. */
export async function unwrap<T>(call: Promise<FetchResult<T>>): Promise<T> {
  let result: FetchResult<T>;
  try {
    result = await call;
  } catch (err) {
    if (err instanceof DOMException && err.name === "AbortError") throw err;
    if (err instanceof DOMException && err.name === "TimeoutError") {
      throw new ApiError(0, undefined, "The server took too long to answer. Try again in a moment.");
    }
    throw new ApiError(0, undefined);
  }
  if (result.response.ok) return result.data as T;
  const body = result.error;
  throw new ApiError(
    result.response.status,
    body && typeof body === "object" && "detail" in body ? (body as ErrorBody) : undefined,
  );
}

/** A message fit to show a person, whatever was thrown. */
export function errorMessage(err: unknown): string {
  if (err instanceof ApiError) {
    const extra = err.fields.map((f) => f.message).filter((m) => m && m !== err.message);
    return extra.length ? `${err.message} (${extra.join("; ")})` : err.message;
  }
  if (err instanceof Error) return err.message;
  return "Something went wrong.";
}
