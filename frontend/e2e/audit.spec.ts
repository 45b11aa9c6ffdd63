import { expect, type Page, test } from "@playwright/test";

const baseURL = process.env.LOADBAY_E2E_URL ?? "http://127.0.0.1:8000";
const email = process.env.LOADBAY_E2E_EMAIL ?? "admin@example.com";
const password = process.env.LOADBAY_E2E_PASSWORD ?? "";

// Unique per run, so reruns against the same database do not collide.
const run = `${Date.now().toString(36)}${Math.floor(Math.random() * 1e4)}`.toUpperCase();
const sku = `AUDIT-${run}`;
const before = { name: `Anvil ${run}`, price: "10.00" };
const after = { name: `Anvil ${run} mk II`, price: "12.50" };

async function onlyThisServer(page: Page): Promise<void> {
  const allowed = new URL(baseURL).host;
  await page.route("**/*", (route) => (new URL(route.request().url()).host === allowed ? route.continue() : route.abort()));
}

test("an edit made through the API is in the audit trail, links to the record, and its history shows before → after", async ({ page }) => {
  expect(password, "set LOADBAY_E2E_PASSWORD").not.toBe("");
  await onlyThisServer(page);
  const login = await page.request.post("/api/v1/auth/login", { data: { email, password } });
  expect(login.status(), await login.text()).toBe(200);
  const workspaceId = ((await login.json()) as { workspaces: { id: number }[] }).workspaces[0]!.id;

  let recordId = 0;
  await test.step("through the API: create a product, then change its name and price", async () => {
    const records = `/api/v1/workspaces/${workspaceId}/entities/products/records`;
    const created = await page.request.post(records, { data: { data: { sku, ...before, stock: 3 } } });
    expect(created.status(), await created.text()).toBe(201);
    recordId = ((await created.json()) as { id: number }).id;
    const edited = await page.request.patch(`${records}/${recordId}`, { data: { data: after } });
    expect(edited.status(), await edited.text()).toBe(200);
  });

  const events = page.getByTestId(/^event-\d+$/);
  const line = events.filter({ has: page.locator(`a[href$="record=${recordId}"]`) });

  await test.step("the admin opens the audit trail from the navbar and filters by record.updated", async () => {
    await page.goto(`/w/${workspaceId}`);
    await page.getByRole("navigation", { name: "Workspace" }).getByRole("link", { name: "Audit" }).click();
    await expect(page.getByRole("heading", { name: "Audit trail" })).toBeVisible();
    await expect(page).toHaveURL(new RegExp(`/w/${workspaceId}/audit$`));
    // Unfiltered, the record's creation is there too.
    await expect(line.filter({ hasText: "record.created" })).toHaveCount(1);

    await page.getByRole("combobox", { name: "Action" }).click();
    await page.getByRole("option", { name: /^record\.updated/ }).click();
    await expect(page).toHaveURL(/[?&]action=record\.updated(&|$)/);
    await expect(events.filter({ hasText: "record.created" })).toHaveCount(0);
    await expect(line).toHaveCount(1);
    await expect(line).toContainText("record.updated");
    await expect(line).toContainText(email);
    await expect(line).toContainText("Changed name, price");
    await expect(line).toContainText(`${before.name} → ${after.name}`);
    await page.screenshot({ path: "test-results/audit-01-filtered.png", animations: "disabled" });
  });

  await test.step("a reload keeps the filter: the view is a link", async () => {
    await page.reload();
    await expect(page.getByRole("combobox", { name: "Action" })).toHaveValue("record.updated");
    await expect(line).toHaveCount(1);
    await expect(events.filter({ hasText: "record.created" })).toHaveCount(0);
  });

  await test.step("the line opens the record in its entity's grid", async () => {
    await line.getByRole("link", { name: `Products #${recordId}` }).click();
    await expect(page).toHaveURL(new RegExp(`/w/${workspaceId}/e/products\\?(.*&)?record=${recordId}(&|$)`));
    const drawer = page.getByRole("dialog");
    await expect(drawer).toContainText(after.name);
    await expect(drawer.getByRole("tab", { name: "Fields" })).toHaveAttribute("aria-selected", "true");
  });

  await test.step("the History tab shows who changed what, before → after, and the creation", async () => {
    const drawer = page.getByRole("dialog");
    await drawer.getByRole("tab", { name: "History" }).click();
    await expect(page).toHaveURL(/[?&]tab=history(&|$)/);
    const entries = drawer.getByTestId("history-entry");
    await expect(entries).toHaveCount(2);
    const updated = entries.nth(0);
    await expect(updated).toHaveAttribute("data-change", "updated");
    await expect(updated).toContainText("Updated");
    await expect(updated).toContainText(email);
    const nameRow = updated.getByRole("row", { name: /^Name/ });
    await expect(nameRow).toContainText(before.name);
    await expect(nameRow).toContainText(after.name);
    await expect(updated.getByRole("row", { name: /^Price/ })).toContainText(/10\.00.*12\.50/);
    const created = entries.nth(1);
    await expect(created).toHaveAttribute("data-change", "created");
    await expect(created).toContainText("Created");
    await expect(created.getByRole("row", { name: /^Name/ })).toContainText(before.name);
    await page.screenshot({ path: "test-results/audit-02-history.png", animations: "disabled" });

    // The tab is part of the link as well.
    await page.reload();
    await expect(page.getByRole("dialog").getByRole("tab", { name: "History" })).toHaveAttribute("aria-selected", "true");
    await expect(page.getByRole("dialog").getByTestId("history-entry")).toHaveCount(2);
  });
});
