const KEY = "loadbay.workspace";

/** The workspace last opened in this browser, to open it again from `/`. */
export function rememberWorkspace(id: number): void {
  try {
    localStorage.setItem(KEY, String(id));
  } catch {
    // Storage may be disabled; the first workspace is a fine default then.
  }
}

export function lastWorkspace(): number | undefined {
  try {
    const id = Number(localStorage.getItem(KEY));
    return Number.isSafeInteger(id) && id > 0 ? id : undefined;
  } catch {
    return undefined;
  }
}
