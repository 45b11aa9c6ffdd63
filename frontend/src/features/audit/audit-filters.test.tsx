import { screen, waitFor } from "@testing-library/react";
import userEvent from "@testing-library/user-event";
import { useState } from "react";
import { describe, expect, it, vi } from "vitest";
import { renderWithProviders, stubFetch } from "../../test/render";
import { AuditFilters } from "./audit-filters";
import type { AuditSearch } from "./search";

const entities = [
  { id: 3, key: "products", label: "Products", description: "", key_fields: ["sku"], key_trim: true, key_case_insensitive: true, fields: [], record_count: 0, created_at: "", updated_at: "" },
];
const members = [{ user_id: 4, email: "ana@example.test", name: "Ana", role: "editor", created_at: "" }];

/** The filters over a search kept in state, as the page keeps it in the URL. */
function Harness({ initial, onChange }: { initial: AuditSearch; onChange: (patch: Partial<AuditSearch>) => void }) {
  const [search, setSearch] = useState(initial);
  return (
    <AuditFilters
      workspaceId={1}
      search={search}
      onChange={(patch) => {
        onChange(patch);
        setSearch((prev) => ({ ...prev, ...patch }));
      }}
    />
  );
}

function setup(initial: AuditSearch = {}) {
  stubFetch([
    { path: "/api/v1/workspaces/1/entities", body: entities },
    { path: "/api/v1/workspaces/1/members", body: members },
  ]);
  const onChange = vi.fn();
  renderWithProviders(<Harness initial={initial} onChange={onChange} />);
  return { onChange, user: userEvent.setup() };
}

const input = (name: string) => screen.getAllByLabelText(name).find((el) => el instanceof HTMLInputElement)!;

describe("AuditFilters", () => {
  it("applies an action picked from the list", async () => {
    const { onChange, user } = setup();
    await user.click(input("Action"));
    await user.click(await screen.findByRole("option", { name: /^record\.updated/ }));
    expect(onChange).toHaveBeenCalledWith({ action: "record.updated" });
  });

  it("refuses an actor that is not user:<id>, api_key:<id> or system, and applies one that is", async () => {
    const { onChange, user } = setup();
    const actor = input("Actor");
    await user.type(actor, "alice");
    expect(await screen.findByText(/Write user:<id>, api_key:<id> or system/)).toBeInTheDocument();
    expect(onChange).not.toHaveBeenCalled();

    await user.clear(actor);
    await user.type(actor, "user:4{Enter}");
    expect(onChange).toHaveBeenCalledWith({ actor: "user:4" });
    // The member's name is shown for the id.
    await waitFor(() => expect(actor).toHaveAccessibleDescription("Ana <ana@example.test>"));
  });

  it("applies a record id after a pause, and not a word", async () => {
    const { onChange, user } = setup();
    await user.type(input("Record id"), "abc");
    expect(await screen.findByText("A positive whole number")).toBeInTheDocument();
    await user.clear(input("Record id"));
    await user.type(input("Record id"), "42");
    await waitFor(() => expect(onChange).toHaveBeenCalledWith({ record: 42 }));
    expect(onChange).not.toHaveBeenCalledWith({ record: undefined });
  });

  it("says when the time range ends before it starts, and clears every filter at once", async () => {
    const { onChange, user } = setup({ entity: "products", since: "2026-12-08T00:00:00Z", until: "2026-12-01T00:00:00Z" });
    expect(await screen.findByText("Until must be after since")).toBeInTheDocument();
    await user.click(screen.getByRole("button", { name: "Clear filters" }));
    expect(onChange).toHaveBeenLastCalledWith(expect.objectContaining({ entity: undefined, since: undefined, until: undefined }));
    await waitFor(() => expect(screen.queryByRole("button", { name: "Clear filters" })).not.toBeInTheDocument());
  });
});
