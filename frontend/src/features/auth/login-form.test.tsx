import { screen, waitFor } from "@testing-library/react";
import userEvent from "@testing-library/user-event";
import { describe, expect, it, vi } from "vitest";
import { renderWithProviders, stubFetch } from "../../test/render";
import { LoginForm } from "./login-form";

const me = {
  user: { id: 1, email: "ada@example.com", name: "Ada" },
  workspaces: [{ id: 1, name: "Main", role: "admin", created_at: "2024-01-01T00:00:00Z" }],
};

async function fillAndSubmit(email: string, password: string) {
  const user = userEvent.setup();
  await user.type(screen.getByRole("textbox", { name: "Email" }), email);
  await user.type(screen.getByLabelText(/^Password/), password);
  await user.click(screen.getByRole("button", { name: "Sign in" }));
}

describe("LoginForm", () => {
  it("shows the API's error message when sign-in is refused", async () => {
    stubFetch([
      {
        method: "POST",
        path: "/api/v1/auth/login",
        status: 401,
        body: { error: "invalid_credentials", detail: "Wrong email or password.", fields: [] },
      },
    ]);
    const onSignedIn = vi.fn();
    renderWithProviders(<LoginForm onSignedIn={onSignedIn} />);

    await fillAndSubmit("ada@example.com", "nope");

    expect(await screen.findByRole("alert")).toHaveTextContent("Wrong email or password.");
    expect(onSignedIn).not.toHaveBeenCalled();
  });

  it("names each invalid field from the error model", async () => {
    stubFetch([
      {
        method: "POST",
        path: "/api/v1/auth/login",
        status: 422,
        body: {
          error: "invalid",
          detail: "The request is not valid.",
          fields: [{ field: "email", code: "max_length", message: "at most 320 characters" }],
        },
      },
    ]);
    renderWithProviders(<LoginForm onSignedIn={vi.fn()} />);

    await fillAndSubmit("ada@example.com", "secret");

    expect(await screen.findByRole("alert")).toHaveTextContent("The request is not valid. (at most 320 characters)");
  });

  it("says so when the server cannot be reached", async () => {
    vi.stubGlobal("fetch", vi.fn(async () => Promise.reject(new TypeError("Failed to fetch"))));
    renderWithProviders(<LoginForm onSignedIn={vi.fn()} />);

    await fillAndSubmit("ada@example.com", "secret");

    expect(await screen.findByRole("alert")).toHaveTextContent(/cannot reach the server/i);
  });

  it("sends the credentials and hands over the signed-in user", async () => {
    const { requests } = stubFetch([{ method: "POST", path: "/api/v1/auth/login", body: me }]);
    const onSignedIn = vi.fn();
    const { queryClient } = renderWithProviders(<LoginForm onSignedIn={onSignedIn} />);

    await fillAndSubmit("  ada@example.com ", "correct horse");

    await waitFor(() => expect(onSignedIn).toHaveBeenCalledWith(me));
    expect(requests).toEqual([
      { method: "POST", path: "/api/v1/auth/login", body: { email: "ada@example.com", password: "correct horse" } },
    ]);
    expect(queryClient.getQueryData(["me"])).toEqual(me);
    expect(screen.queryByRole("alert")).not.toBeInTheDocument();
  });
});
