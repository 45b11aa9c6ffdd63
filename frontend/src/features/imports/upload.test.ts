import { describe, expect, it } from "vitest";
import { checkFile, formatBytes, MAX_UPLOAD_BYTES } from "./upload";
import { stepFor, validateImportSearch } from "./search";

const fileOf = (name: string, size: number) => ({ name, size }) as File;

describe("checkFile", () => {
  it("refuses an empty file and one over the limit before anything is sent", () => {
    expect(checkFile(fileOf("a.csv", 0))).toBe("“a.csv” is empty (0 bytes).");
    expect(checkFile(fileOf("big.csv", MAX_UPLOAD_BYTES + 1))).toBe("“big.csv” is 2 GB; the limit is 2 GB.");
    expect(checkFile(fileOf("big.csv", 5 * 1024 ** 2), 1024 ** 2)).toBe("“big.csv” is 5 MB; the limit is 1 MB.");
    expect(checkFile(fileOf("ok.csv", 1024))).toBeNull();
  });

  it("says sizes the way people read them", () => {
    expect(formatBytes(512)).toBe("512 B");
    expect(formatBytes(1536)).toBe("1.5 kB");
    expect(formatBytes(193 * 1024 ** 2)).toBe("193 MB");
  });
});

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
