import { screen, within } from "@testing-library/react";
import userEvent from "@testing-library/user-event";
import { describe, expect, it, vi } from "vitest";
import { renderWithProviders } from "../../../test/render";
import type { Progress } from "../api";
import { ProgressPanel } from "./progress-panel";

const progress = (p: Partial<Progress> = {}): Progress => ({
  status: "committing",
  rows_total: 1_000_000,
  rows_done: 250_000,
  chunks_total: 20,
  chunks_done: 5,
  chunks_failed: 0,
  rows_per_second: 41_666.7,
  eta_seconds: 18,
  counts: {},
  error: null,
  ...p,
});

describe("ProgressPanel", () => {
  it("shows rows done, rate, time left and chunks", () => {
    renderWithProviders(<ProgressPanel mode="commit" progress={progress()} live />);
    const bar = screen.getByRole("progressbar", { name: "Import progress" });
    expect(bar).toHaveAttribute("aria-valuenow", "250000");
    expect(bar).toHaveAttribute("aria-valuemax", "1000000");
    expect(bar).toHaveTextContent("250,000 of 1,000,000 rows");
    expect(screen.getByText("25%")).toBeInTheDocument();
    expect(screen.getByTestId("rate")).toHaveTextContent("41,667 rows/s");
    expect(screen.getByTestId("eta")).toHaveTextContent("18 s");
    expect(screen.getByTestId("chunks")).toHaveTextContent("5 / 20");
    expect(screen.getByText("live")).toBeInTheDocument();
  });

  it("says how many rows were read while staging, with no total yet", () => {
    renderWithProviders(<ProgressPanel mode="staging" progress={progress({ status: "staging", rows_total: 12_345, rows_done: 0 })} live={false} />);
    expect(screen.getByRole("progressbar", { name: "Import progress" })).toHaveTextContent("12,345 rows read");
    expect(screen.queryByTestId("rate")).toBeNull();
    expect(screen.getByText("updating every 2 s")).toBeInTheDocument();
  });

  it("asks before cancelling, and cancels only when confirmed", async () => {
    const user = userEvent.setup();
    const onCancel = vi.fn(async () => {});
    renderWithProviders(<ProgressPanel mode="commit" progress={progress()} live onCancel={onCancel} />);
    await user.click(screen.getByRole("button", { name: "Cancel import" }));
    const dialog = await screen.findByRole("dialog", { name: "Cancel this import?" });
    expect(dialog).toHaveTextContent("The 250,000 rows already written stay");
    await user.click(screen.getByRole("button", { name: "Keep importing" }));
    expect(onCancel).not.toHaveBeenCalled();
    await user.click(screen.getByRole("button", { name: "Cancel import" }));
    const again = await screen.findByRole("dialog", { name: "Cancel this import?" });
    await user.click(within(again).getByRole("button", { name: "Cancel import" }));
    expect(onCancel).toHaveBeenCalledTimes(1);
  });

  it("offers no cancel once the import has ended, and shows its error", () => {
    renderWithProviders(<ProgressPanel mode="commit" progress={progress({ status: "failed", error: "Every chunk failed: database is locked" })} live={false} onCancel={() => {}} />);
    expect(screen.queryByRole("button", { name: "Cancel import" })).toBeNull();
    expect(screen.getByRole("alert")).toHaveTextContent("database is locked");
  });
});
