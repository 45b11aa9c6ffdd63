import { describe, expect, it } from "vitest";
import { safeNext } from "./safe-next";

describe("safeNext", () => {
  it("returns to a page of this site, with its search", () => {
    expect(safeNext("/w/1/e/products?q=AB&record=3")).toBe("/w/1/e/products?q=AB&record=3");
  });

  it("never leads to another site or back to the login page", () => {
    for (const next of [undefined, "", "https://evil.example", "//evil.example", "/\\evil.example", "/login?next=/x"]) {
      expect(safeNext(next)).toBe("/");
    }
  });
});
