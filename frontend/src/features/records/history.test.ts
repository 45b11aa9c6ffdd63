import { describe, expect, it } from "vitest";
import type { Entity, Field } from "../../api/client";
import { entryNote, fieldChanges, type HistoryEntry } from "./history";

function field(key: string, type: Field["type"], position: number): Field {
  return {
    id: position,
    key,
    label: key[0]!.toUpperCase() + key.slice(1),
    description: "",
    type,
    required: false,
    unique: false,
    indexed: false,
    default: null,
    enum_values: null,
    pattern: null,
    min_value: null,
    max_value: null,
    max_length: null,
    aliases: [],
    reference_entity: null,
    position,
  };
}

const entity: Entity = {
  id: 3,
  key: "products",
  label: "Products",
  description: "",
  key_fields: ["sku"],
  key_trim: true,
  key_case_insensitive: true,
  fields: [field("name", "string", 2), field("price", "decimal", 3), field("sku", "string", 1), field("active", "boolean", 4)],
  record_count: 1,
  created_at: "2026-12-08T00:00:00Z",
  updated_at: "2026-12-08T00:00:00Z",
};

function entry(over: Partial<HistoryEntry>): HistoryEntry {
  return {
    event_id: 1,
    at: "2026-12-08T10:00:00Z",
    action: "record.updated",
    change: "updated",
    actor: { kind: "user", user_id: 1, name: "admin@example.test" },
    import_id: null,
    bulk: false,
    fields: [],
    values: {},
    ...over,
  };
}

describe("fieldChanges", () => {
  it("gives before and after in the drawer's field order, formatted by type", () => {
    const e = entry({ fields: ["active", "price", "sku"], values: { price: { before: "10.00", after: "12.50" }, active: { before: true, after: false }, sku: { after: "A-1" } } });
    expect(fieldChanges(e, entity)).toEqual([
      { key: "sku", label: "Sku", after: "A-1" },
      { key: "price", label: "Price", before: "10.00", after: "12.50" },
      { key: "active", label: "Active", before: "Yes", after: "No" },
    ]);
  });

  it("keeps a cleared value as empty, and a field deleted since by its key", () => {
    const e = entry({ values: { name: { before: "Anvil", after: null }, colour: { before: { r: 1 } } } });
    expect(fieldChanges(e, entity)).toEqual([
      { key: "name", label: "Name", before: "Anvil", after: "" },
      { key: "colour", label: "colour", before: '{"r":1}' },
    ]);
  });
});

describe("entryNote", () => {
  it("names the fields an import wrote without keeping their values", () => {
    expect(entryNote(entry({ import_id: 7, fields: ["name", "price"] }), entity)).toBe("Fields written: Name, Price.");
    expect(entryNote(entry({ change: "created", import_id: 7, fields: ["name"] }), entity)).toBeNull();
  });

  it("explains changes the schema made", () => {
    expect(entryNote(entry({ action: "field.deleted", bulk: true, fields: ["colour"] }), entity)).toMatch(/colour was deleted/);
    expect(entryNote(entry({ action: "records.deleted_all", change: "deleted", bulk: true }), entity)).toMatch(/All records/);
  });

  it("says nothing more of a plain edit", () => {
    expect(entryNote(entry({ fields: ["name"], values: { name: { before: "A", after: "B" } } }), entity)).toBeNull();
  });
});
