import { type APIRequestContext, expect, type Page, request as playwrightRequest, test } from "@playwright/test";

const baseURL = process.env.LOADBAY_E2E_URL ?? "http://127.0.0.1:8000";
const email = process.env.LOADBAY_E2E_EMAIL ?? "admin@example.com";
const password = process.env.LOADBAY_E2E_PASSWORD ?? "";

// Unique per run, so reruns against the same database do not collide.
const run = `${Date.now().toString(36)}${Math.floor(Math.random() * 1e4)}`.toUpperCase();
const skuPrefix = `E2E-${run}`;
const products = [
  { sku: `${skuPrefix}-001`, name: `Anvil ${run}`, price: "1299.50", stock: 12000, active: true },
  { sku: `${skuPrefix}-002`, name: `Bracket ${run}`, price: "4.25", stock: 0, active: false },
  { sku: `${skuPrefix}-003`, name: `Chisel ${run}`, price: "17.00", stock: 340, active: true },
];

let workspaceId: number;

async function seed(api: APIRequestContext): Promise<void> {
  const login = await api.post("/api/v1/auth/login", { data: { email, password } });
  expect(login.status(), await login.text()).toBe(200);

  const workspaces = await api.get("/api/v1/workspaces");
  expect(workspaces.ok()).toBe(true);
  const list = (await workspaces.json()) as { id: number }[];
  expect(list.length).toBeGreaterThan(0);
  workspaceId = list[0]!.id;

  const base = `/api/v1/workspaces/${workspaceId}/entities`;
  const category = await api.post(`${base}/categories/records`, {
    data: { data: { slug: `e2e-${run.toLowerCase()}`, name: `E2E tools ${run}` } },
  });
  expect(category.status(), await category.text()).toBe(201);

  for (const p of products) {
    const created = await api.post(`${base}/products/records`, {
      data: { data: { ...p, category: `e2e-${run.toLowerCase()}`, launched_on: "2024-03-01" } },
    });
    expect(created.status(), await created.text()).toBe(201);
  }
}

function cell(page: Page, rowIndex: number, colId: string) {
  return page.locator(`.ag-row[row-index="${rowIndex}"] .ag-cell[col-id="${colId}"]`);
}

test.beforeAll(async () => {
  expect(password, "set LOADBAY_E2E_PASSWORD").not.toBe("");
  const api = await playwrightRequest.newContext({ baseURL });
  try {
    await seed(api);
  } finally {
    await api.dispose();
  }
});

test("sign in, browse products, sort, and open a record", async ({ page }) => {
  // Only the app under test is reached; anything else is refused.
  const allowed = new URL(baseURL).host;
  await page.route("**/*", (route) =>
    new URL(route.request().url()).host === allowed ? route.continue() : route.abort(),
  );

  await test.step("a signed-out visit lands on the login page, which explains a wrong password", async () => {
    await page.goto("/");
    await expect(page).toHaveURL(/\/login/);
    await page.getByRole("textbox", { name: "Email", exact: true }).fill(email);
    await page.getByRole("textbox", { name: "Password", exact: true }).fill(`${password}-wrong`);
    await page.getByRole("button", { name: "Sign in" }).click();
    await expect(page.getByRole("alert")).toContainText(/password/i);
    await page.screenshot({ path: "test-results/01-login-error.png", animations: "disabled" });
  });

  await test.step("sign in through the form", async () => {
    await page.getByRole("textbox", { name: "Password", exact: true }).fill(password);
    await page.getByRole("button", { name: "Sign in" }).click();
    await expect(page).toHaveURL(new RegExp(`/w/${workspaceId}$`));
    await expect(page.getByRole("heading", { name: "Entities" })).toBeVisible();
    await expect(page.getByRole("link", { name: "Products" }).first()).toBeVisible();
    await page.screenshot({ path: "test-results/02-entities.png", animations: "disabled" });
  });

  await test.step("open products and find the seeded records", async () => {
    await page.getByRole("navigation", { name: "Entities" }).getByRole("link", { name: /Products/ }).click();
    await expect(page).toHaveURL(new RegExp(`/w/${workspaceId}/e/products`));
    await expect(page.getByRole("heading", { name: "Products" })).toBeVisible();
    await page.getByLabel("Search by key").fill(skuPrefix);
    await expect(page).toHaveURL(new RegExp(`q=${skuPrefix}`));
    await expect(page.getByTestId("record-count")).toContainText("3 records");
    await expect(cell(page, 0, "sku")).toHaveText(products[0]!.sku);
    await expect(cell(page, 0, "name")).toHaveText(products[0]!.name);
    await expect(cell(page, 2, "sku")).toHaveText(products[2]!.sku);
    await expect(cell(page, 3, "sku")).toHaveCount(0);
    await page.screenshot({ path: "test-results/03-products-grid.png", animations: "disabled" });
  });

  await test.step("sort by clicking a header", async () => {
    const header = page.locator('.ag-header-cell[col-id="price"] .ag-header-cell-label');
    await header.click();
    await expect(page).toHaveURL(/sort=price&order=asc|order=asc&.*sort=price|sort=price.*order=asc/);
    await expect(cell(page, 0, "sku")).toHaveText(products[1]!.sku); // 4.25 first
    await header.click();
    await expect(page).toHaveURL(/order=desc/);
    await expect(cell(page, 0, "sku")).toHaveText(products[0]!.sku); // 1,299.50 first
    await expect(cell(page, 0, "price")).toHaveText(/1,299\.5/);
    await page.screenshot({ path: "test-results/04-sorted.png", animations: "disabled" });
  });

  await test.step("open a record in the drawer; it survives a reload and Escape closes it", async () => {
    await cell(page, 1, "sku").click();
    const drawer = page.getByRole("dialog");
    await expect(drawer).toBeVisible();
    await expect(drawer).toContainText(products[2]!.name);
    await expect(page).toHaveURL(/record=\d+/);
    await page.screenshot({ path: "test-results/05-record-drawer.png", animations: "disabled" });

    await page.reload();
    await expect(page.getByRole("dialog")).toContainText(products[2]!.name);
    await expect(cell(page, 0, "sku")).toHaveText(products[0]!.sku); // the sort survived too

    await page.keyboard.press("Escape");
    await expect(page.getByRole("dialog")).toBeHidden();
    await expect(page).not.toHaveURL(/record=/);
  });

  await test.step("sign out", async () => {
    await page.getByRole("button", { name: "Account menu" }).click();
    await page.getByRole("menuitem", { name: "Sign out" }).click();
    await expect(page).toHaveURL(/\/login/);
    await page.goto(`/w/${workspaceId}`);
    await expect(page).toHaveURL(/\/login\?next=/);
  });
});

test("a deep link asks to sign in, then returns to the page", async ({ page }) => {
  const target = `/w/${workspaceId}/e/products?q=${skuPrefix}`;
  await page.goto(target);
  await expect(page).toHaveURL(/\/login\?next=/);
  await page.getByRole("textbox", { name: "Email", exact: true }).fill(email);
  await page.getByRole("textbox", { name: "Password", exact: true }).fill(password);
  await page.getByRole("button", { name: "Sign in" }).click();
  await expect(page).toHaveURL(new RegExp(`/w/${workspaceId}/e/products\\?q=${skuPrefix}`));
  await expect(page.getByTestId("record-count")).toContainText("3 records");
});
