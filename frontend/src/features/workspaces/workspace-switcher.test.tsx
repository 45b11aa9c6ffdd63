import { screen } from "@testing-library/react";
import userEvent from "@testing-library/user-event";
import { describe, expect, it, vi } from "vitest";
import { renderWithProviders, stubFetch } from "../../test/render";
import { WorkspaceSwitcher } from "./workspace-switcher";

const workspaces = [
  { id: 1, name: "Catalogue", role: "admin", created_at: "2024-01-01T00:00:00Z" },
  { id: 7, name: "Suppliers EU", role: "viewer", created_at: "2024-02-01T00:00:00Z" },
];

/** The select's input (the dropdown list carries the same label). */
async function workspaceInput(): Promise<HTMLInputElement> {
  const labelled = await screen.findAllByLabelText("Workspace");
  const input = labelled.find((el): el is HTMLInputElement => el instanceof HTMLInputElement);
  if (!input) throw new Error("no workspace input");
  return input;
}

describe("WorkspaceSwitcher", () => {
  it("shows the current workspace and switches to the one picked", async () => {
    stubFetch([{ path: "/api/v1/workspaces", body: workspaces }]);
    const onSwitch = vi.fn();
    renderWithProviders(<WorkspaceSwitcher currentId={1} onSwitch={onSwitch} />);

    const select = await workspaceInput();
    expect(select).toHaveValue("Catalogue");

    const user = userEvent.setup();
    await user.click(select);
    await user.click(await screen.findByRole("option", { name: /Suppliers EU/ }));

    expect(onSwitch).toHaveBeenCalledWith(7);
  });

  it("does not navigate when the current workspace is picked again", async () => {
    stubFetch([{ path: "/api/v1/workspaces", body: workspaces }]);
    const onSwitch = vi.fn();
    renderWithProviders(<WorkspaceSwitcher currentId={1} onSwitch={onSwitch} />);

    const user = userEvent.setup();
    await user.click(await workspaceInput());
    await user.click(await screen.findByRole("option", { name: /Catalogue/ }));

    expect(onSwitch).not.toHaveBeenCalled();
  });

  it("offers a retry when the workspaces cannot be loaded", async () => {
    const { fetchMock } = stubFetch([
      { path: "/api/v1/workspaces", status: 500, body: { error: "internal_error", detail: "Boom." } },
    ]);
    renderWithProviders(<WorkspaceSwitcher currentId={1} onSwitch={vi.fn()} />);

    const retry = await screen.findByRole("button", { name: "Retry" });
    expect(screen.getByText("Workspaces unavailable")).toBeInTheDocument();

    stubFetch([{ path: "/api/v1/workspaces", body: workspaces }]);
    await userEvent.setup().click(retry);

    expect(await workspaceInput()).toHaveValue("Catalogue");
    expect(fetchMock).toHaveBeenCalledTimes(1);
  });
});
