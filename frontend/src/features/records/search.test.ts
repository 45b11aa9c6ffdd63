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

  it("drops what the API would refuse", () => {
    expect(validateRecordsSearch({ q: "", sort: "Price; drop", order: "sideways", record: "-1" })).toEqual({});
    expect(validateRecordsSearch({ order: "asc" })).toEqual({});
  });
});
