import { describe, expect, it } from "vitest";
import { stepFor, validateImportSearch } from "./search";

describe("the import URL", () => {
  it("keeps only what it understands", () => {
    expect(validateImportSearch({ step: "review", status: "problems", field: "price", code: "min", row: "42", onExisting: "merge" })).toEqual({
      step: "review",
      status: "problems",
      field: "price",
      code: "min",
      row: 42,
      onExisting: "merge",
    });
    expect(validateImportSearch({ step: "nowhere", status: "all", field: "Price!", row: "-1", onInvalid: "maybe" })).toEqual({});
  });

  it("lands on a step the session's status allows", () => {
    expect(stepFor("staged", "preview")).toBe("preview");
    expect(stepFor("staged", undefined)).toBe("review");
    expect(stepFor("committing", "review")).toBe("progress");
    expect(stepFor("completed_with_errors", "map")).toBe("result");
    expect(stepFor("uploaded", "review")).toBe("map");
  });
});
