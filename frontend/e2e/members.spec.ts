import { type Browser, expect, type Page, test } from "@playwright/test";

const baseURL = process.env.LOADBAY_E2E_URL ?? "http://127.0.0.1:8000";
const email = process.env.LOADBAY_E2E_EMAIL ?? "admin@example.com";
const password = process.env.LOADBAY_E2E_PASSWORD ?? "";

// Unique per run, so reruns against the same database do not collide.
const run = `${Date.now().toString(36)}${Math.floor(Math.random() * 1e4)}`.toLowerCase();
const newcomer = `newcomer-${run}@example.test`;
const revokedEmail = `revoked-${run}@example.test`;
const newPassword = `newcomer password ${run}`;

async function onlyThisServer(page: Page): Promise<void> {
  const allowed = new URL(baseURL).host;
  await page.route("**/*", (route) => (new URL(route.request().url()).host === allowed ? route.continue() : route.abort()));
}

async function freshPage(browser: Browser): Promise<Page> {
  const context = await browser.newContext({ baseURL });
  const page = await context.newPage();
  await onlyThisServer(page);
  return page;
}

async function invite(page: Page, who: string, role: string): Promise<string> {
  const form = page.getByRole("form", { name: "Invite someone" });
  await form.getByRole("textbox", { name: "Email" }).fill(who);
  await form.getByRole("combobox", { name: "Role" }).click();
  await page.getByRole("option", { name: role, exact: true }).click();
  await form.getByRole("button", { name: "Invite" }).click();
  const link = page.getByRole("textbox", { name: "Invitation link" });
  await expect(link).toHaveValue(/\/invite\/[A-Za-z0-9_-]{20,}$/);
  return link.inputValue();
}

test("admin invites, the invitee joins with their own password; a revoked link stops working", async ({ page, browser, context }) => {
  expect(password, "set LOADBAY_E2E_PASSWORD").not.toBe("");
  await context.grantPermissions(["clipboard-read", "clipboard-write"], { origin: baseURL });
  await onlyThisServer(page);
  const login = await page.request.post("/api/v1/auth/login", { data: { email, password } });
  expect(login.status(), await login.text()).toBe(200);
  const workspace = ((await login.json()) as { workspaces: { id: number; name: string }[] }).workspaces[0]!;

  let link = "";
  await test.step("the admin opens the members page and invites an editor", async () => {
    await page.goto(`/w/${workspace.id}`);
    await page.getByRole("navigation", { name: "Workspace" }).getByRole("link", { name: "Members" }).click();
    await expect(page.getByRole("heading", { name: "Members" })).toBeVisible();
    await expect(page.getByTestId(`member-${email}`)).toBeVisible();
    link = await invite(page, newcomer, "Editor");
    await page.getByRole("button", { name: "Copy link" }).click();
    await expect(page.getByRole("button", { name: "Copied" })).toBeVisible();
    expect(await page.evaluate(() => navigator.clipboard.readText())).toBe(link);
    await page.getByRole("button", { name: "Done" }).click();
    await expect(page.getByTestId(`invitation-${newcomer}`)).toContainText("Editor");
  });

  await test.step("in another browser the invitee creates the account and lands in the workspace", async () => {
    const other = await freshPage(browser);
    await other.goto(link);
    await expect(other.getByRole("heading", { name: `Join ${workspace.name}` })).toBeVisible();
    await expect(other.getByText(newcomer)).toBeVisible();
    await other.getByRole("textbox", { name: "Your name" }).fill(`Newcomer ${run}`);
    await other.getByLabel("Choose a password").fill(newPassword);
    await other.getByLabel("Repeat the password").fill(newPassword);
    await other.getByRole("button", { name: "Create account and join" }).click();
    await expect(other).toHaveURL(new RegExp(`/w/${workspace.id}$`));
    // An editor: imports, no members page.
    await expect(other.getByRole("link", { name: "New import" })).toBeVisible();
    await expect(other.getByRole("navigation", { name: "Workspace" })).toHaveCount(0);

    // Signed out and in again with the password they chose, the workspace is there with that role.
    await other.getByRole("button", { name: "Account menu" }).click();
    await other.getByRole("menuitem", { name: "Sign out" }).click();
    await expect(other).toHaveURL(/\/login/);
    await other.getByRole("textbox", { name: "Email" }).fill(newcomer);
    await other.getByLabel(/^Password/).fill(newPassword);
    await other.getByRole("button", { name: "Sign in" }).click();
    await expect(other).toHaveURL(new RegExp(`/w/${workspace.id}$`));
    await other.getByRole("combobox", { name: "Workspace" }).click();
    await expect(other.getByRole("option", { name: new RegExp(workspace.name) })).toContainText("editor");
    // The link was for one use.
    await other.goto(link);
    await expect(other.getByRole("alert")).toContainText("accepted already");
    await other.context().close();
  });

  await test.step("the admin sees the new member; revokes another invitation, whose link then fails", async () => {
    await page.reload();
    await expect(page.getByTestId(`member-${newcomer}`)).toBeVisible();
    await expect(page.getByTestId(`invitation-${newcomer}`)).toHaveCount(0);
    const revokedLink = await invite(page, revokedEmail, "Viewer");
    await page.getByRole("button", { name: "Done" }).click();
    await page.getByTestId(`invitation-${revokedEmail}`).getByRole("button", { name: "Revoke" }).click();
    await page.getByRole("dialog", { name: /Revoke the invitation/ }).getByRole("button", { name: "Revoke" }).click();
    await expect(page.getByTestId(`invitation-${revokedEmail}`)).toHaveCount(0);

    const other = await freshPage(browser);
    await other.goto(revokedLink);
    await expect(other.getByRole("alert")).toContainText("revoked");
    await expect(other.getByRole("button", { name: "Create account and join" })).toHaveCount(0);
    await other.context().close();
  });

  await test.step("the only admin cannot be removed", async () => {
    await page.getByTestId(`member-${email}`).getByRole("button", { name: "Remove" }).click();
    const dialog = page.getByRole("dialog", { name: `Remove ${email}?` });
    await expect(dialog.getByRole("alert")).toContainText("at least one admin");
    await expect(dialog.getByRole("button", { name: "Remove" })).toHaveCount(0);
    await dialog.getByRole("button", { name: "Keep" }).click();
  });
});
