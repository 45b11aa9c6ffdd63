import { screen, waitFor } from "@testing-library/react";
import userEvent from "@testing-library/user-event";
import { describe, expect, it } from "vitest";
import { renderWithProviders, stubFetch } from "../../test/render";
import { InviteForm } from "./invite-form";

const created = {
  id: 7,
  email: "ada@example.test",
  role: "admin",
  invited_by: "boss@example.test",
  created_at: "2026-12-07T12:00:00Z",
  expires_at: "2026-12-14T12:00:00Z",
  token: "tok_abcdefghijklmnopqrstuvwxyz",
  path: "/invite/tok_abcdefghijklmnopqrstuvwxyz",
};

describe("InviteForm", () => {
  it("sends the email and role, then shows the link once", async () => {
    const { requests } = stubFetch([{ method: "POST", path: "/api/v1/workspaces/3/invitations", status: 201, body: created }]);
    const user = userEvent.setup();
    renderWithProviders(<InviteForm workspaceId={3} />);

    await user.type(screen.getByRole("textbox", { name: "Email" }), " ada@example.test ");
    const role = screen.getAllByLabelText("Role").find((el) => el instanceof HTMLInputElement)!;
    await user.click(role);
    await user.click(await screen.findByRole("option", { name: "Admin" }));
    await user.click(screen.getByRole("button", { name: "Invite" }));

    const link = await screen.findByRole("textbox", { name: "Invitation link" });
    expect(link).toHaveValue(`${window.location.origin}/invite/tok_abcdefghijklmnopqrstuvwxyz`);
    expect(requests).toEqual([{ method: "POST", path: "/api/v1/workspaces/3/invitations", body: { email: "ada@example.test", role: "admin" } }]);
    expect(screen.getByRole("button", { name: "Copy link" })).toBeInTheDocument();
    expect(screen.getByRole("textbox", { name: "Email" })).toHaveValue("");

    await user.click(screen.getByRole("button", { name: "Done" }));
    await waitFor(() => expect(screen.queryByRole("textbox", { name: "Invitation link" })).not.toBeInTheDocument());
  });

  it("shows why an invitation was refused", async () => {
    stubFetch([
      {
        method: "POST",
        path: "/api/v1/workspaces/3/invitations",
        status: 409,
        body: { error: "already_member", detail: "ada@example.test is already a member of this workspace.", fields: [] },
      },
    ]);
    const user = userEvent.setup();
    renderWithProviders(<InviteForm workspaceId={3} />);
    await user.type(screen.getByRole("textbox", { name: "Email" }), "ada@example.test");
    await user.click(screen.getByRole("button", { name: "Invite" }));
    expect(await screen.findByRole("alert")).toHaveTextContent("already a member");
    expect(screen.queryByRole("textbox", { name: "Invitation link" })).not.toBeInTheDocument();
  });
});
