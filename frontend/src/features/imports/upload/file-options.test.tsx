import { screen } from "@testing-library/react";
import userEvent from "@testing-library/user-event";
import { describe, expect, it, vi } from "vitest";
import { renderWithProviders } from "../../../test/render";
import type { ImportSession, ReadOptions } from "../api";
import { FileOptions } from "./file-options";

function session(profile: Partial<NonNullable<ImportSession["profile"]>> = {}): ImportSession {
  return {
    id: 7,
    format: "csv",
    profile: {
      format: "csv",
      encoding: "utf-8",
      delimiter: ";",
      header_row: 1,
      sheets: [],
      decimal_comma: false,
      decimal: null,
      profiled_rows: 3,
      columns: [
        { name: "sku", index: 0, samples: ["D-1"], blank_count: 0, inferred_type: "string", confidence: 1 },
        { name: "price", index: 1, samples: ["3,50", "1.234,56"], blank_count: 0, inferred_type: "string", confidence: 1 },
      ],
      warnings: [],
      ...profile,
    },
  } as unknown as ImportSession;
}

function setup(s: ImportSession) {
  const onApply = vi.fn((_options: ReadOptions) => {});
  renderWithProviders(<FileOptions session={s} onApply={onApply} applying={false} error={null} />);
  return { onApply };
}

describe("FileOptions", () => {
  it("sends the decimal mark chosen, and leaves the rest to detection", async () => {
    const user = userEvent.setup();
    const { onApply } = setup(session());
    await user.click(screen.getByRole("button", { name: /File options/ }));
    await user.click(screen.getByLabelText("Decimal mark", { selector: "input" }));
    await user.click(await screen.findByRole("option", { name: "Comma: 1.234,56" }));
    await user.click(screen.getByRole("button", { name: "Read again" }));
    expect(onApply).toHaveBeenCalledTimes(1);
    expect(onApply.mock.calls[0]?.[0]).toMatchObject({ decimal: ",", encoding: null, delimiter: null, header_row: null });
  });

  it("shows the mark in force and sends null to detect it again", async () => {
    const user = userEvent.setup();
    const { onApply } = setup(session({ decimal: "." }));
    expect(screen.getByText(/decimal point/)).toBeInTheDocument();
    await user.click(screen.getByRole("button", { name: /File options/ }));
    await user.click(screen.getByLabelText("Decimal mark", { selector: "input" }));
    await user.click(await screen.findByRole("option", { name: "Detect" }));
    await user.click(screen.getByRole("button", { name: "Read again" }));
    expect(onApply.mock.calls[0]?.[0]).toMatchObject({ decimal: null });
  });
});
