import { describe, expect, it } from "vitest";
import { formatCount, formatValue } from "./format";

describe("formatValue", () => {
  it("leaves empty values blank", () => {
    expect(formatValue("string", null)).toBe("");
    expect(formatValue("integer", undefined)).toBe("");
  });

  it("reads booleans as words", () => {
    expect(formatValue("boolean", true)).toBe("Yes");
    expect(formatValue("boolean", false)).toBe("No");
  });

  it("keeps every digit of a decimal", () => {
    expect(formatValue("decimal", "12345678901234567.25").replace(/\D/g, "")).toBe("1234567890123456725");
  });

  it("keeps the scale a decimal was written with", () => {
    expect(formatValue("decimal", "17.00")).toMatch(/^17.00$/);
    expect(formatValue("decimal", "4")).toBe("4");
  });

  it("prints a bare date as that calendar day whatever the time zone", () => {
    expect(formatValue("date", "2024-03-01")).toMatch(/2024/);
    expect(formatValue("date", "2024-03-01")).toMatch(/1/);
  });

  it("shows references by their key and JSON as text", () => {
    expect(formatValue("reference", "tools")).toBe("tools");
    expect(formatValue("json", { a: 1 })).toBe('{"a":1}');
  });
});

describe("formatCount", () => {
  it("separates thousands and agrees in number", () => {
    expect(formatCount(12345)).toBe("12,345 records");
    expect(formatCount(1)).toBe("1 record");
    expect(formatCount(0)).toBe("0 records");
  });
  it("marks a capped count as a lower bound", () => {
    expect(formatCount(10000, "record", false)).toBe("10,000+ records");
  });
});
