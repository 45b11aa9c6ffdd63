import { describe, expect, it } from "vitest";
import { validateRecordsSearch } from "./search";

describe("validateRecordsSearch", () => {
  it("keeps a well-formed view", () => {
    expect(validateRecordsSearch({ q: "AB", sort: "price", order: "desc", record: "42" })).toEqual({
      q: "AB",
      sort: "price",
      order: "desc",
      record: 42,
    });
  });

  it("names every key, so the router's merge cannot let an unchecked value through", () => {
    const out = validateRecordsSearch({ record: "abc", tab: "bogus", actor: "bob" });
    expect(Object.values(out).every((v) => v === undefined)).toBe(true);
    expect(Object.keys(out).length).toBeGreaterThan(3);
  });

  it("drops what the API would refuse", () => {
    expect(validateRecordsSearch({ q: "", sort: "Price; drop", order: "sideways", record: "-1" })).toEqual({});
    expect(validateRecordsSearch({ order: "asc" })).toEqual({});
  });

  it("keeps the drawer's History tab only with an open record", () => {
    expect(validateRecordsSearch({ record: 7, tab: "history" })).toEqual({ record: 7, tab: "history" });
    expect(validateRecordsSearch({ tab: "history" })).toEqual({});
    expect(validateRecordsSearch({ record: 7, tab: "fields" })).toEqual({ record: 7 });
  });
});
