import { ApiError, type ErrorBody, errorMessage } from "../../../api/client";
import type { ImportSession } from "../api";

/**
 * The server's upload limit. The API refuses a larger body with 413 (`LOADBAY_MAX_UPLOAD_BYTES`,
 * 2 GiB by default) but does not publish the number, so the app checks against the default before
 * sending and still explains a 413 should the server be set lower.
 */
export const MAX_UPLOAD_BYTES = 2 * 1024 ** 3;

export const ACCEPTED_EXTENSIONS = [".csv", ".tsv", ".txt", ".xlsx", ".xls", ".ods", ".json", ".ndjson", ".jsonl"];

/** Why a file cannot be sent, or null when it can. */
export function checkFile(file: File, limit = MAX_UPLOAD_BYTES): string | null {
  if (file.size === 0) return `“${file.name}” is empty (0 bytes).`;
  if (file.size > limit) return `“${file.name}” is ${formatBytes(file.size)}; the limit is ${formatBytes(limit)}.`;
  return null;
}

export function formatBytes(n: number): string {
  if (n < 1024) return `${n} B`;
  const units = ["kB", "MB", "GB", "TB"];
  let v = n / 1024;
  let i = 0;
  while (v >= 1024 && i < units.length - 1) {
    v /= 1024;
    i++;
  }
  return `${v.toLocaleString("en-US", { maximumFractionDigits: v < 10 ? 1 : 0 })} ${units[i]}`;
}

/** What went wrong with an upload, said for the person who started it. */
export function uploadError(err: unknown): string {
  return err instanceof DOMException && err.name === "AbortError" ? "The upload was cancelled." : errorMessage(err);
}

export type UploadProgress = { loaded: number; total: number };

/**
 * PUT the file as the raw body through XMLHttpRequest, the one browser API that reports upload
 * progress. Resolves with the profiled session; rejects with an ApiError carrying the API's message.
 */
export function uploadFile(
  workspaceId: number,
  importId: number,
  file: File,
  onProgress: (p: UploadProgress) => void,
  signal?: AbortSignal,
): Promise<ImportSession> {
  return new Promise((resolve, reject) => {
    const xhr = new XMLHttpRequest();
    const url = `/api/v1/workspaces/${workspaceId}/imports/${importId}/file?file_name=${encodeURIComponent(file.name)}`;
    xhr.open("PUT", url);
    xhr.setRequestHeader("Content-Type", "application/octet-stream");
    xhr.responseType = "text";
    xhr.upload.onprogress = (e) => onProgress({ loaded: e.loaded, total: e.lengthComputable ? e.total : file.size });
    xhr.onload = () => {
      let body: unknown;
      try {
        body = xhr.responseText ? JSON.parse(xhr.responseText) : undefined;
      } catch {
        body = undefined;
      }
      if (xhr.status >= 200 && xhr.status < 300) resolve(body as ImportSession);
      else reject(new ApiError(xhr.status, body && typeof body === "object" ? (body as ErrorBody) : undefined));
    };
    // A 413 sent before the body is read often reaches the browser as a dropped connection.
    xhr.onerror = () => reject(new ApiError(0, undefined, "The upload was interrupted. Check the connection and the file size, then try again."));
    xhr.onabort = () => reject(new DOMException("The upload was cancelled.", "AbortError"));
    signal?.addEventListener("abort", () => xhr.abort(), { once: true });
    xhr.send(file);
  });
}
