import { describe, expect, it } from "vitest";
import { checkFile, formatBytes, MAX_UPLOAD_BYTES } from "./upload";

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
