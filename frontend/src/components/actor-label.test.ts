import { describe, expect, it } from "vitest";
import { actorLabel } from "./actor-label";

describe("actorLabel", () => {
  it("names users by email, keys by name, and the system", () => {
    expect(actorLabel({ kind: "user", user_id: 3, name: "ana@example.test" })).toBe("ana@example.test");
    expect(actorLabel({ kind: "api_key", user_id: 3, api_key_id: 7, name: "nightly sync" })).toBe("API key “nightly sync”");
    expect(actorLabel({ kind: "system" })).toBe("System");
  });

  it("falls back to the id when the user or key is gone", () => {
    expect(actorLabel({ kind: "user", user_id: 3, name: null })).toBe("User #3");
    expect(actorLabel({ kind: "api_key", api_key_id: 7 })).toBe("API key #7");
  });
});
