import type { Field } from "../../api/client";

/** How a value of each field type reads in the grid and the record drawer. */

const integerFormat = new Intl.NumberFormat(undefined, { maximumFractionDigits: 0 });
const decimalFormat = new Intl.NumberFormat(undefined, { maximumFractionDigits: 20 });
const decimalFormats = new Map<number, Intl.NumberFormat>();
const dateFormat = new Intl.DateTimeFormat(undefined, { dateStyle: "medium", timeZone: "UTC" });
const dateTimeFormat = new Intl.DateTimeFormat(undefined, { dateStyle: "medium", timeStyle: "short" });

type FieldType = Field["type"];

export function isNumeric(type: FieldType): boolean {
  return type === "integer" || type === "decimal";
}

export function formatValue(type: FieldType, value: unknown): string {
  if (value === null || value === undefined || value === "") return "";
  switch (type) {
    case "integer":
      return typeof value === "number" ? integerFormat.format(value) : String(value);
    case "decimal":
      return formatDecimal(value);
    case "boolean":
      return value === true ? "Yes" : value === false ? "No" : String(value);
    case "date":
      return formatDate(value, dateFormat);
    case "datetime":
      return formatDate(value, dateTimeFormat);
    case "json":
      return typeof value === "string" ? value : JSON.stringify(value);
    default:
      return typeof value === "object" ? JSON.stringify(value) : String(value);
  }
}

function formatDecimal(value: unknown): string {
  if (typeof value === "number") return decimalFormat.format(value);
  // Decimals arrive as strings to keep every digit; Intl formats numeric strings exactly,
  // and the scale as written is kept ("17.00" stays 17.00).
  const match = typeof value === "string" ? /^-?\d+(?:\.(\d+))?$/.exec(value) : null;
  if (match) {
    const scale = Math.min(match[1]?.length ?? 0, 20);
    let format = decimalFormats.get(scale);
    if (!format) {
      format = new Intl.NumberFormat(undefined, { minimumFractionDigits: scale, maximumFractionDigits: 20 });
      decimalFormats.set(scale, format);
    }
    return format.format(value as `${number}`);
  }
  return String(value);
}

function formatDate(value: unknown, format: Intl.DateTimeFormat): string {
  if (typeof value !== "string") return String(value);
  // A bare date is a calendar day, not an instant: read it as UTC midnight and print it in UTC.
  const date = new Date(/^\d{4}-\d{2}-\d{2}$/.test(value) ? `${value}T00:00:00Z` : value);
  return Number.isNaN(date.getTime()) ? value : format.format(date);
}

export function formatTimestamp(value: string): string {
  return formatDate(value, dateTimeFormat);
}

const countFormat = new Intl.NumberFormat("en-US");

/** "12,345 records" — thousands separated, singular when one. */
/** A count for display; a capped count (`exact` false) is a lower bound, shown as "10,000+". */
export function formatCount(count: number, noun = "record", exact = true): string {
  return `${countFormat.format(count)}${exact ? "" : "+"} ${noun}${count === 1 && exact ? "" : "s"}`;
}
