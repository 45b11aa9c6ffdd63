import { describe, expect, it } from "vitest";
import { ApiError } from "../../api/client";
import {
  actionLabel,
  auditProblem,
  actorProblem,
  type AuditEvent,
  describeChange,
  eventSubject,
  eventSummary,
  eventTarget,
  fromLocalInput,
  hasFilters,
  idProblem,
  listFields,
  NO_FILTERS,
  rangeProblem,
  toLocalInput,
} from "./logic";

const user = { kind: "user" as const, user_id: 1, name: "admin@example.test" };

function event(over: Partial<AuditEvent>): AuditEvent {
  return {
    id: 1,
    at: "2026-12-08T10:00:00Z",
    action: "record.updated",
    actor: user,
    subject_type: "record",
    subject_id: 42,
    entity: "products",
    entity_id: 3,
    import_id: null,
    counts: { created: 0, updated: 1, deleted: 0 },
    payload: {},
    ...over,
  };
}

const labels = (key: string) => ({ products: "Products" })[key] ?? key;

describe("eventSummary", () => {
  it("says which fields a single edit changed", () => {
    const e = event({ payload: { fields: ["name", "price"], values: { name: { before: "A", after: "B" } } } });
    expect(eventSummary(e)).toBe("Changed name, price");
  });

  it("counts a bulk change and names its field", () => {
    const e = event({
      subject_type: "entity",
      subject_id: 3,
      counts: { created: 0, updated: 3, deleted: 0 },
      payload: { bulk: true, fields: ["name"], values: { name: { after: "X" } } },
    });
    expect(eventSummary(e)).toBe("3 records updated: name");
    const deleted = event({ action: "record.deleted", subject_type: "entity", subject_id: 3, counts: { created: 0, updated: 0, deleted: 1 } });
    expect(eventSummary(deleted)).toBe("1 record deleted");
  });

  it("reads an import chunk, counting from one", () => {
    const e = event({
      action: "import.committed",
      subject_type: "import",
      subject_id: 7,
      import_id: 7,
      counts: { created: 1200, updated: 30, deleted: 0 },
      payload: { chunk: 0, unchanged: 5, skipped: 0 },
    });
    expect(eventSummary(e)).toBe("Chunk 1: 1,200 created, 30 updated, 5 unchanged");
    expect(eventSummary({ ...e, counts: { created: 0, updated: 0, deleted: 0 }, payload: { chunk: 2 } })).toBe("Chunk 3: nothing written");
  });

  it("reads schema changes", () => {
    expect(eventSummary(event({ action: "entity.created", subject_type: "entity", payload: { key: "products", fields: ["sku", "name"] } }))).toBe(
      "Entity “products” created with 2 fields",
    );
    expect(
      eventSummary(event({ action: "entity.deleted", subject_type: "entity", entity: null, counts: { created: 0, updated: 0, deleted: 4 }, payload: { key: "old" } })),
    ).toBe("Entity “old” deleted with 4 records");
    expect(eventSummary(event({ action: "field.created", subject_type: "field", payload: { field: "price", type: "decimal" } }))).toBe(
      "Field “price” added (decimal)",
    );
    expect(eventSummary(event({ action: "field.updated", subject_type: "field", payload: { field: "price", values: { label: { before: "P", after: "Price" } } } }))).toBe(
      "Field “price” changed: label",
    );
    expect(
      eventSummary(event({ action: "field.deleted", subject_type: "field", counts: { created: 0, updated: 2, deleted: 0 }, payload: { field: "price", fields: ["price"] } })),
    ).toBe("Field “price” deleted; its values removed from 2 records");
    expect(eventSummary(event({ action: "records.deleted_all", subject_type: "entity", counts: { created: 0, updated: 0, deleted: 12 } }))).toBe(
      "All records deleted (12 records)",
    );
  });

  it("says who joined, left or changed role, and which keys were made or revoked", () => {
    expect(eventSummary(event({ action: "member.invited", subject_type: "invitation", payload: { email: "a@x.test", role: "editor" } }))).toBe(
      "a@x.test invited as editor",
    );
    expect(
      eventSummary(event({ action: "member.role_changed", subject_type: "member", payload: { email: "a@x.test", values: { role: { before: "viewer", after: "editor" } } } })),
    ).toBe("a@x.test: viewer → editor");
    expect(eventSummary(event({ action: "member.removed", subject_type: "member", subject_id: 7, payload: { role: "editor", api_keys_revoked: [3, 4] } }))).toBe(
      "Member #7 removed, 2 API keys revoked",
    );
    expect(eventSummary(event({ action: "api_key.created", subject_type: "api_key", payload: { name: "ci", role: "viewer" } }))).toBe(
      "API key “ci” made (viewer)",
    );
  });

  it("falls back to the counts for an action it does not know", () => {
    expect(eventSummary(event({ action: "records.archived", counts: { created: 0, updated: 2, deleted: 0 } }))).toBe("2 updated");
    expect(eventSummary(event({ action: "workspace.renamed", counts: {} }))).toBe("workspace.renamed");
  });
});

describe("eventTarget and eventSubject", () => {
  it("opens the record of a single-record event", () => {
    const e = event({});
    expect(eventTarget(e)).toEqual({ kind: "record", entity: "products", record: 42 });
    expect(eventSubject(e, labels)).toBe("Products #42");
  });

  it("opens the import of an import's chunk", () => {
    const e = event({ action: "import.committed", subject_type: "import", subject_id: 7, import_id: 7 });
    expect(eventTarget(e)).toEqual({ kind: "import", importId: 7, entity: "products" });
    expect(eventSubject(e, labels)).toBe("Import #7");
  });

  it("opens the entity for bulk changes and schema events", () => {
    expect(eventTarget(event({ subject_type: "entity", subject_id: 3, payload: { bulk: true } }))).toEqual({ kind: "entity", entity: "products" });
    const field = event({ action: "field.created", subject_type: "field", subject_id: 9, payload: { field: "price" } });
    expect(eventTarget(field)).toEqual({ kind: "entity", entity: "products" });
    expect(eventSubject(field, labels)).toBe("Products · price");
  });

  it("opens nothing when the entity is gone", () => {
    const deleted = event({ action: "entity.deleted", subject_type: "entity", entity: null, payload: { key: "old", entity: "old" } });
    expect(eventTarget(deleted)).toBeNull();
    expect(eventSubject(deleted, labels)).toBe("old (deleted)");
    expect(eventTarget(event({ entity: null, payload: { entity: "old" } }))).toBeNull();
  });
});

describe("filters", () => {
  it("checks typed actors and ids, and takes empty as no filter", () => {
    expect(actorProblem("user:3")).toBeNull();
    expect(actorProblem(" system ")).toBeNull();
    expect(actorProblem("")).toBeNull();
    expect(actorProblem("alice")).toMatch(/user:<id>/);
    expect(idProblem("12")).toBeNull();
    expect(idProblem("")).toBeNull();
    expect(idProblem("twelve")).not.toBeNull();
  });

  it("refuses a range that ends before it starts", () => {
    expect(rangeProblem("2026-12-08T00:00:00Z", "2026-12-01T00:00:00Z")).not.toBeNull();
    expect(rangeProblem("2026-12-01T00:00:00Z", "2026-12-08T00:00:00Z")).toBeNull();
    expect(rangeProblem(undefined, "2026-12-08T00:00:00Z")).toBeNull();
  });

  it("knows when any filter is set", () => {
    expect(hasFilters({})).toBe(false);
    expect(hasFilters(NO_FILTERS)).toBe(false);
    expect(hasFilters({ record: 4 })).toBe(true);
  });

  it("turns a local datetime input into the URL's instant and back", () => {
    const iso = fromLocalInput("2026-12-08T09:30")!;
    expect(iso).toMatch(/^2026-12-0\dT\d{2}:\d{2}:00Z$/);
    expect(toLocalInput(iso)).toBe("2026-12-08T09:30");
    expect(toLocalInput(fromLocalInput("2026-12-08T09:30:15"))).toBe("2026-12-08T09:30:15");
    expect(fromLocalInput("")).toBeUndefined();
    expect(toLocalInput(undefined)).toBe("");
  });

  it("labels prefixes as wildcards", () => {
    expect(actionLabel("record.")).toBe("record.*");
    expect(actionLabel("record.updated")).toBe("record.updated");
  });
});

describe("values", () => {
  it("reads before → after, a bulk set, and a removal", () => {
    expect(describeChange({ before: "Anvil", after: "Anvil 2" })).toBe("Anvil → Anvil 2");
    expect(describeChange({ before: null, after: 5 })).toBe("empty → 5");
    expect(describeChange({ after: true })).toBe("set to true");
    expect(describeChange({ before: "x" })).toBe("was x");
    expect(describeChange({ before: "a".repeat(100), after: "b" })).toMatch(/^a{59}… → b$/);
  });

  it("shortens long field lists", () => {
    expect(listFields(["a", "b"])).toBe("a, b");
    expect(listFields(["a", "b", "c", "d", "e", "f"])).toBe("a, b, c, d and 2 more");
  });
});

describe("auditProblem", () => {
  it("tells a non-admin why, without a retry", () => {
    expect(auditProblem(new ApiError(403, { error: "forbidden", detail: "Admins only.", fields: [] }))).toEqual({
      title: "Only admins can read the audit trail",
      retry: false,
    });
  });

  it("blames the filters for an unknown entity or a refused value, and offers a retry otherwise", () => {
    expect(auditProblem(new ApiError(404, { error: "entity_not_found", detail: "Entity 'x' not found.", fields: [] })).retry).toBe(false);
    expect(auditProblem(new ApiError(422, { error: "invalid_filter", detail: "actor …", fields: [] })).title).toMatch(/filters/);
    expect(auditProblem(new ApiError(0, undefined))).toEqual({ title: "Could not load the audit trail", retry: true });
  });
});
