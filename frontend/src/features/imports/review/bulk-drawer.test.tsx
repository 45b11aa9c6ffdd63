import { useMutation } from "@tanstack/react-query";
import { screen, within } from "@testing-library/react";
import userEvent from "@testing-library/user-event";
import type { ComponentProps } from "react";
import { describe, expect, it, vi } from "vitest";
import { ApiError, type Field } from "../../../api/client";
import { renderWithProviders } from "../../../test/render";
import type { BulkEdit, BulkEditResult } from "../api";
import { BulkDrawer } from "./bulk-drawer";

const fields = [{ key: "price", label: "Price" }, { key: "name", label: "Name" }] as Field[];

type Props = ComponentProps<typeof BulkDrawer>;

/** The drawer as the review screen wires it: the edit is a mutation, its pending state and error go back in. */
function Wired({ onApply, ...props }: Omit<Props, "applying" | "error">) {
  const apply = useMutation({ mutationFn: (edit: BulkEdit) => onApply(edit) });
  return <BulkDrawer {...props} onApply={apply.mutateAsync} applying={apply.isPending} error={apply.error} />;
}

function setup(props: Partial<Omit<Props, "applying" | "error">> = {}) {
  const onApply = vi.fn(async (_edit: BulkEdit): Promise<BulkEditResult> => ({ matched: 3, changed: 3, now_valid: 2, now_invalid: 1 }));
  const onClose = vi.fn();
  renderWithProviders(
    <Wired
      opened
      onClose={onClose}
      fields={fields}
      selectedRows={[]}
      filter={{ field: "price", code: "min" }}
      filterCount={1234}
      describeFilter="with an error on Price"
      undoHint={(e) => (e.action === "discard" ? "You can undo it right after (restore)." : null)}
      onApply={onApply}
      {...props}
    />,
  );
  return { onApply, onClose, drawer: screen.getByRole("dialog", { name: "Change many rows" }) };
}

describe("BulkDrawer", () => {
  it("sets a value on every row matching the filter, after saying how many and asking", async () => {
    const user = userEvent.setup();
    const { onApply, drawer } = setup();
    expect(within(drawer).getByTestId("bulk-count")).toHaveTextContent("Touches 1,234 rows.");
    await user.type(within(drawer).getByRole("textbox", { name: "New value" }), "9.99");
    await user.click(within(drawer).getByRole("button", { name: "Apply…" }));
    expect(onApply).not.toHaveBeenCalled();
    const confirm = within(drawer).getByTestId("bulk-confirm");
    expect(confirm).toHaveTextContent("Set Price to “9.99” on 1,234 rows?");
    expect(confirm).toHaveTextContent("This cannot be undone");
    await user.click(within(confirm).getByRole("button", { name: "Yes, change 1,234 rows" }));
    expect(onApply).toHaveBeenCalledWith({
      action: "set",
      selection: { status: null, field: "price", code: "min" },
      field: "price",
      value: "9.99",
      find: null,
      replace: null,
    });
    expect(await within(drawer).findByTestId("bulk-result")).toHaveTextContent("3 rows matched, 3 changed; 2 now valid, 1 still invalid.");
  });

  it("discards the selected rows, and says it can be undone", async () => {
    const user = userEvent.setup();
    const { onApply, drawer } = setup({ selectedRows: [4, 8] });
    await user.click(within(drawer).getByRole("radio", { name: "Discard" }));
    expect(within(drawer).getByRole("radio", { name: "The 2 selected rows" })).toBeChecked();
    expect(within(drawer).getByTestId("bulk-count")).toHaveTextContent("Touches 2 rows.");
    await user.click(within(drawer).getByRole("button", { name: "Apply…" }));
    expect(within(drawer).getByTestId("bulk-confirm")).toHaveTextContent("You can undo it right after (restore).");
    await user.click(within(drawer).getByRole("button", { name: "Yes, change 2 rows" }));
    expect(onApply.mock.calls[0]![0]).toMatchObject({ action: "discard", selection: { rows: [4, 8] }, field: null });
  });

  it("needs a field and the text to find before find and replace", async () => {
    const user = userEvent.setup();
    const { drawer } = setup({ filter: {} });
    await user.click(within(drawer).getByRole("radio", { name: "Find & replace" }));
    const apply = within(drawer).getByRole("button", { name: "Apply…" });
    expect(apply).toBeDisabled();
    await user.click(within(drawer).getAllByLabelText(/^Field/)[0]!);
    await user.click(await screen.findByRole("option", { name: "Name" }));
    expect(apply).toBeDisabled();
    await user.type(within(drawer).getByRole("textbox", { name: "Find" }), "Ltd");
    expect(apply).toBeEnabled();
  });

  it("shows the API's message and changes nothing when the edit is refused", async () => {
    const user = userEvent.setup();
    const { onApply, drawer } = setup();
    onApply.mockRejectedValueOnce(new ApiError(409, { error: "rows_locked", detail: "Import 7 is committing; its rows can be changed only while it is staged.", fields: [] }));
    await user.click(within(drawer).getByRole("button", { name: "Apply…" }));
    await user.click(within(drawer).getByRole("button", { name: /Yes, change/ }));
    const alerts = await within(drawer).findAllByRole("alert");
    expect(alerts.some((a) => a.textContent?.includes("Nothing was changed") && a.textContent.includes("its rows can be changed only while it is staged"))).toBe(true);
    expect(within(drawer).queryByTestId("bulk-result")).toBeNull();
  });
});
