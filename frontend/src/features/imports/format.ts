/** Numbers, durations and times as the import screens show them. */

const intFormat = new Intl.NumberFormat("en-US");
const exactTime = new Intl.DateTimeFormat("en-US", { dateStyle: "medium", timeStyle: "medium" });
const relative = new Intl.RelativeTimeFormat("en-US", { numeric: "auto" });

export function formatInt(n: number | null | undefined): string {
  return n === null || n === undefined ? "–" : intFormat.format(n);
}

export function plural(n: number, noun: string): string {
  return `${intFormat.format(n)} ${noun}${n === 1 ? "" : "s"}`;
}

export function formatExact(iso: string): string {
  return exactTime.format(new Date(iso));
}

/** "3 minutes ago", "yesterday"; the exact time goes in a tooltip beside it. */
export function formatRelative(iso: string, now = Date.now()): string {
  const seconds = (new Date(iso).getTime() - now) / 1000;
  const abs = Math.abs(seconds);
  if (abs < 45) return "just now";
  if (abs < 3600) return relative.format(Math.round(seconds / 60), "minute");
  if (abs < 86400) return relative.format(Math.round(seconds / 3600), "hour");
  if (abs < 86400 * 30) return relative.format(Math.round(seconds / 86400), "day");
  if (abs < 86400 * 365) return relative.format(Math.round(seconds / (86400 * 30)), "month");
  return relative.format(Math.round(seconds / (86400 * 365)), "year");
}

/** "1 h 4 min", "42 s". */
export function formatDuration(seconds: number | null | undefined): string {
  if (seconds === null || seconds === undefined || !Number.isFinite(seconds)) return "–";
  const s = Math.max(0, Math.round(seconds));
  if (s < 60) return `${s} s`;
  const m = Math.floor(s / 60);
  if (m < 60) return `${m} min ${s % 60} s`;
  return `${Math.floor(m / 60)} h ${m % 60} min`;
}

export function formatRate(rowsPerSecond: number | null | undefined): string {
  return rowsPerSecond ? `${intFormat.format(Math.round(rowsPerSecond))} rows/s` : "–";
}

export const STATUS_LABELS: Record<string, string> = {
  created: "Waiting for file",
  uploaded: "Uploaded",
  mapped: "Mapped",
  staging: "Checking rows",
  staged: "Ready to review",
  committing: "Importing",
  completed: "Completed",
  completed_with_errors: "Completed with errors",
  failed: "Failed",
  cancelled: "Cancelled",
};

export const STATUS_COLORS: Record<string, string> = {
  created: "gray",
  uploaded: "gray",
  mapped: "indigo",
  staging: "blue",
  staged: "indigo",
  committing: "blue",
  completed: "green",
  completed_with_errors: "orange",
  failed: "red",
  cancelled: "gray",
};

export function statusLabel(status: string): string {
  return STATUS_LABELS[status] ?? status;
}
