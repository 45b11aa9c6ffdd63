import { screen, within } from "@testing-library/react";
import userEvent from "@testing-library/user-event";
import { useState } from "react";
import { describe, expect, it } from "vitest";
import type { Field } from "../../../api/client";
import { renderWithProviders } from "../../../test/render";
import type { ColumnMapping, ColumnProfile } from "../api";
import { MappingBuckets } from "./mapping-buckets";
import { acceptSuggestion, assignField, ignoreColumn, initialMapping, mappingProblems, mappingToSave, restoreColumn } from "./mapping-state";

const field = (key: string, label: string, extra: Partial<Field> = {}): Field =>
  ({ id: 1, key, label, description: "", type: "string", required: false, unique: false, indexed: false, default: null, enum_values: null, pattern: null, min_value: null, max_value: null, max_length: null, aliases: [], reference_entity: null, position: 0, ...extra }) as Field;

const fields = [field("sku", "SKU", { required: true }), field("name", "Name", { required: true }), field("price", "Price", { type: "decimal" })];
const column = (name: string, index: number, samples: unknown[]): ColumnProfile => ({ name, index, samples, blank_count: 0, inferred_type: "string", confidence: 0.9 });
const columns = [column("product_code", 0, ["A-1", "A-2"]), column("product nme", 1, ["Anvil"]), column("colour", 2, ["red", "blue"])];
const suggestions: ColumnMapping[] = [
  { column: "product_code", bucket: "mapped", field: "sku", confidence: 1, reason: "matches the alias 'product_code' of 'SKU'" },
  { column: "product nme", bucket: "suggested", field: "name", confidence: 0.88, reason: "name is 96% similar to the alias 'product_name' of 'Name'" },
  { column: "colour", bucket: "new", field: null, confidence: 0.65, reason: "no field matches; a new string field", proposed_field: { key: "colour", label: "colour", type: "string" } },
];

function Harness({ admin = true, onCreate = () => {} }: { admin?: boolean; onCreate?: (c: string) => void }) {
  const [state, setState] = useState(() => initialMapping(columns.map((c) => c.name), suggestions, null));
  return (
    <>
      <MappingBuckets
        columns={columns}
        suggestions={suggestions}
        fields={fields}
        state={state}
        canCreateFields={admin}
        onAccept={(c) => setState((s) => acceptSuggestion(s, c))}
        onAssign={(c, f) => setState((s) => assignField(s, c, f))}
        onIgnore={(c) => setState((s) => ignoreColumn(s, c))}
        onRestore={(c) => setState((s) => restoreColumn(s, c, suggestions.find((x) => x.column === c)))}
        onCreateField={onCreate}
      />
      <output data-testid="saved">{JSON.stringify(mappingToSave(state))}</output>
    </>
  );
}

const bucket = (name: string) => screen.getByTestId(`bucket-${name}`);

describe("MappingBuckets", () => {
  it("puts each column in its bucket with confidence, reason and samples", () => {
    renderWithProviders(<Harness />);
    const mapped = within(bucket("mapped")).getByTestId("column-product_code");
    expect(within(mapped).getByLabelText("Confidence 100%")).toBeInTheDocument();
    expect(mapped).toHaveTextContent("A-1 · A-2");
    const suggested = within(bucket("suggested")).getByTestId("column-product nme");
    expect(within(suggested).getByLabelText("Confidence 88%")).toBeInTheDocument();
    expect(within(suggested).getByTestId("reason")).toHaveTextContent("96% similar");
    expect(within(bucket("new")).getByTestId("column-colour")).toHaveTextContent("no field matches");
    expect(within(bucket("ignored")).getByText("No columns here.")).toBeInTheDocument();
    // A suggestion is not saved until it is accepted.
    expect(JSON.parse(screen.getByTestId("saved").textContent!)).toEqual({ product_code: "sku", "product nme": null, colour: null });
  });

  it("accepts a suggestion, ignores and restores a column", async () => {
    const user = userEvent.setup();
    renderWithProviders(<Harness />);
    await user.click(screen.getByRole("button", { name: "Accept product nme → Name" }));
    expect(within(bucket("mapped")).getByTestId("column-product nme")).toBeInTheDocument();
    expect(within(bucket("suggested")).queryByTestId("column-product nme")).toBeNull();
    expect(JSON.parse(screen.getByTestId("saved").textContent!)).toMatchObject({ "product nme": "name" });

    await user.click(screen.getByRole("button", { name: "Ignore product_code" }));
    expect(within(bucket("ignored")).getByTestId("column-product_code")).toBeInTheDocument();
    expect(JSON.parse(screen.getByTestId("saved").textContent!)).toMatchObject({ product_code: null });

    await user.click(screen.getByRole("button", { name: "Restore product_code" }));
    expect(within(bucket("mapped")).getByTestId("column-product_code")).toBeInTheDocument();
  });

  it("reassigns a field: the column that had it lets it go", () => {
    let state = initialMapping(columns.map((c) => c.name), suggestions, null);
    state = assignField(state, "colour", "sku");
    expect(state.colour).toEqual({ field: "sku", bucket: "mapped" });
    expect(state.product_code).toEqual({ field: null, bucket: "ignored" });
    expect(mappingProblems(state, fields, ["sku"])).toEqual(["Name is required and needs a column."]);
  });

  it("offers to create a field from a new column only to admins", async () => {
    const user = userEvent.setup();
    const created: string[] = [];
    const { unmount } = renderWithProviders(<Harness onCreate={(c) => created.push(c)} />);
    await user.click(screen.getByRole("button", { name: "Create a field from colour" }));
    expect(created).toEqual(["colour"]);
    unmount();
    renderWithProviders(<Harness admin={false} />);
    expect(screen.queryByRole("button", { name: "Create a field from colour" })).toBeNull();
  });

  it("starts from the saved mapping when there is one", () => {
    const state = initialMapping(["product_code", "colour"], suggestions, { product_code: "sku", colour: null });
    expect(state).toEqual({ product_code: { field: "sku", bucket: "mapped" }, colour: { field: null, bucket: "ignored" } });
  });
});
