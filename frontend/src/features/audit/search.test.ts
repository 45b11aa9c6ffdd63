import { describe, expect, it } from "vitest";
import { canonicalTime, positiveId, validateAuditSearch } from "./search";

describe("validateAuditSearch", () => {
  it("keeps every well-formed filter, in the API's names", () => {
    expect(
      validateAuditSearch({
        action: "record.updated",
        entity: "products",
        actor: "user:3",
        record: 42,
        import: "7",
        since: "2026-12-01T00:00:00Z",
        until: "2026-12-08T12:30:00.000Z",
      }),
    ).toEqual({
      action: "record.updated",
      entity: "products",
      actor: "user:3",
      record: 42,
      import: 7,
      since: "2026-12-01T00:00:00Z",
      until: "2026-12-08T12:30:00Z",
    });
  });

  it("takes action prefixes and every kind of actor", () => {
    expect(validateAuditSearch({ action: "record." })).toEqual({ action: "record." });
    expect(validateAuditSearch({ action: "records.deleted_all" })).toEqual({ action: "records.deleted_all" });
    expect(validateAuditSearch({ actor: "api_key:12" })).toEqual({ actor: "api_key:12" });
    expect(validateAuditSearch({ actor: "system" })).toEqual({ actor: "system" });
  });

  it("names every key, so the router's merge cannot let an unchecked value through", () => {
    const out = validateAuditSearch({ record: "abc", tab: "bogus", actor: "bob" });
    expect(Object.values(out).every((v) => v === undefined)).toBe(true);
    expect(Object.keys(out).length).toBeGreaterThan(3);
  });

  it("drops what the API would refuse", () => {
    expect(
      validateAuditSearch({
        action: "record",
        entity: "Products; drop",
        actor: "bob",
        record: "-1",
        import: 0,
        since: "yesterday",
        until: "2026-13-45",
      }),
    ).toEqual({});
    expect(validateAuditSearch({ actor: "user:", record: 1.5, import: "7a" })).toEqual({});
    expect(validateAuditSearch({ actor: "user:0" })).toEqual({});
    expect(validateAuditSearch({ action: `record.${"x".repeat(50)}` })).toEqual({});
  });
});

describe("positiveId", () => {
  it("reads whole positive numbers from text or numbers", () => {
    expect(positiveId("42")).toBe(42);
    expect(positiveId(" 42 ")).toBe(42);
    expect(positiveId(7)).toBe(7);
    expect(positiveId("4.2")).toBeUndefined();
    expect(positiveId("0")).toBeUndefined();
    expect(positiveId("99999999999999999999")).toBeUndefined();
    expect(positiveId(undefined)).toBeUndefined();
  });
});

describe("canonicalTime", () => {
  it("writes instants in UTC, with an offset applied", () => {
    expect(canonicalTime("2026-12-08T10:00:00+02:00")).toBe("2026-12-08T08:00:00Z");
    expect(canonicalTime("2026-12-08")).toBe("2026-12-08T00:00:00Z");
    expect(canonicalTime("2026-12-08T10:00:00.250Z")).toBe("2026-12-08T10:00:00.250Z");
    expect(canonicalTime("not a time")).toBeUndefined();
  });
});
