import { expect, test } from "@playwright/test";

const baseURL = process.env.LOADBAY_E2E_URL ?? "http://127.0.0.1:8000";
const email = process.env.LOADBAY_E2E_EMAIL ?? "admin@example.com";
const password = process.env.LOADBAY_E2E_PASSWORD ?? "";

/** Every page of the app, and the API docs, run under the server's Content-Security-Policy without one violation. */
test("no page raises a Content-Security-Policy violation", async ({ page }) => {
  expect(password, "set LOADBAY_E2E_PASSWORD").not.toBe("");
  const allowed = new URL(baseURL).host;
  await page.route("**/*", (route) => (new URL(route.request().url()).host === allowed ? route.continue() : route.abort()));
  const problems: string[] = [];
  await page.addInitScript(() => {
    document.addEventListener("securitypolicyviolation", (e) => {
      const w = window as unknown as { __csp?: string[] };
      (w.__csp ??= []).push(`${e.violatedDirective} ${e.blockedURI}`);
    });
  });
  page.on("console", (msg) => {
    if (msg.type() === "error" && /Content[- ]Security[- ]Policy|Refused to/i.test(msg.text())) problems.push(msg.text());
  });
  page.on("pageerror", (err) => problems.push(`page error: ${err.message}`));
  const violations = async (where: string) => {
    const found = await page.evaluate(() => (window as unknown as { __csp?: string[] }).__csp ?? []);
    return [...found, ...problems].map((p) => `${where}: ${p}`);
  };

  const first = await page.goto("/login");
  expect(first?.headers()["content-security-policy"]).toContain("script-src 'self'");
  await page.getByRole("textbox", { name: "Email" }).fill(email);
  await page.getByLabel(/^Password/).fill(password);
  await page.getByRole("button", { name: "Sign in" }).click();
  await expect(page).toHaveURL(/\/w\/\d+$/);
  const workspaceId = /\/w\/(\d+)/.exec(page.url())![1];
  const found: string[] = await violations("sign-in and entities");

  const pages: [string, () => Promise<void>][] = [
    [`/w/${workspaceId}/e/products`, () => expect(page.locator(".ag-root")).toBeVisible()],
    [`/w/${workspaceId}/imports`, () => expect(page.getByRole("heading", { name: "Imports" })).toBeVisible()],
    [`/w/${workspaceId}/imports/new`, () => expect(page.getByRole("heading", { name: "New import" })).toBeVisible()],
    [`/w/${workspaceId}/members`, () => expect(page.getByRole("heading", { name: "Members" })).toBeVisible()],
    [`/w/${workspaceId}/audit?action=record.`, () => expect(page.getByRole("heading", { name: "Audit trail" })).toBeVisible()],
    ["/invite/not-a-real-invitation-token", () => expect(page.getByRole("alert")).toContainText("not valid")],
    ["/api/docs", () => expect(page.locator(".swagger-ui .info .title")).toContainText("Loadbay")],
  ];
  for (const [path, ready] of pages) {
    await page.goto(path);
    await ready();
    // A moment for late style injections and lazy chunks.
    await page.waitForLoadState("networkidle");
    found.push(...(await violations(path)));
    problems.length = 0;
  }
  expect(found).toEqual([]);
});
