import { readFileSync } from "node:fs";
import { expect, type Page, test } from "@playwright/test";

const baseURL = process.env.LOADBAY_E2E_URL ?? "http://127.0.0.1:8000";
const email = process.env.LOADBAY_E2E_EMAIL ?? "admin@example.com";
const password = process.env.LOADBAY_E2E_PASSWORD ?? "";

// Unique per run, so reruns against the same database do not collide.
const run = `${Date.now().toString(36)}${Math.floor(Math.random() * 1e4)}`.toLowerCase();
const prefix = `IMP-${run.toUpperCase()}`;
const shot = (page: Page, name: string) => page.screenshot({ path: `test-results/imports-${name}.png`, animations: "disabled" });

/** 30 products: four with a negative price (fixed in the grid), one with a stock that is not a number (left invalid). */
function productsCsv(): string {
  const lines = ["product_code,product nme,unit_price,qty,colour"];
  for (let i = 1; i <= 30; i++) {
    const price = [3, 7, 11, 19].includes(i) ? `-${i}` : `${i}.50`;
    const qty = i === 25 ? "many" : String(i * 10);
    lines.push(`${prefix}-${String(i).padStart(3, "0")},Widget ${i} ${run},${price},${qty},${["red", "green", "blue"][i % 3]}`);
  }
  return `${lines.join("\n")}\n`;
}

/** Enough rows for several commit chunks (50,000 rows each), so a cancel lands while work is left. */
function bigCsv(rows: number): Buffer {
  const parts = ["sku,name,price\n"];
  for (let i = 1; i <= rows; i++) parts.push(`${prefix}-BIG-${i},Bulk item ${i},${i % 1000}.25\n`);
  return Buffer.from(parts.join(""));
}

let workspaceId: number;

async function signIn(page: Page): Promise<void> {
  const login = await page.request.post("/api/v1/auth/login", { data: { email, password } });
  expect(login.status(), await login.text()).toBe(200);
  const workspaces = (await (await page.request.get("/api/v1/workspaces")).json()) as { id: number }[];
  workspaceId = workspaces[0]!.id;
}

function gridCell(page: Page, rowIndex: number, colId: string) {
  return page.locator(`[data-testid="review-grid"] .ag-row[row-index="${rowIndex}"] .ag-cell[col-id="${colId}"]`);
}

test.beforeEach(async ({ page }) => {
  expect(password, "set LOADBAY_E2E_PASSWORD").not.toBe("");
  const allowed = new URL(baseURL).host;
  await page.route("**/*", (route) => (new URL(route.request().url()).host === allowed ? route.continue() : route.abort()));
  await signIn(page);
});

test("upload, map, fix, preview, commit, and open the records", async ({ page }) => {
  test.setTimeout(90_000);

  await test.step("drop a file on the upload screen", async () => {
    await page.goto(`/w/${workspaceId}`);
    await page.getByRole("navigation", { name: "Imports" }).getByRole("link", { name: "New import" }).click();
    await expect(page.getByRole("heading", { name: "New import" })).toBeVisible();
    await shot(page, "01-upload");
    // A real drop: a DataTransfer holding the file, dispatched on the dropzone.
    const csv = productsCsv();
    const dataTransfer = await page.evaluateHandle((text) => {
      const dt = new DataTransfer();
      dt.items.add(new File([text], "products-e2e.csv", { type: "text/csv" }));
      return dt;
    }, csv);
    const zone = page.getByTestId("dropzone");
    await zone.dispatchEvent("dragenter", { dataTransfer });
    await expect(zone).toHaveAttribute("data-over", "true");
    await zone.dispatchEvent("drop", { dataTransfer });
    await expect(page).toHaveURL(/\/imports\/\d+\?step=map/);
    await expect(page.getByText("File uploaded")).toBeVisible();
  });

  await test.step("map: accept a suggestion, create a custom field", async () => {
    const suggested = page.getByTestId("bucket-suggested");
    await expect(suggested.getByTestId("column-product nme")).toBeVisible();
    await expect(suggested.getByTestId("column-product nme").getByTestId("reason")).toContainText("similar");
    await expect(page.getByTestId("bucket-mapped").getByTestId("column-product_code")).toBeVisible();
    await expect(page.getByTestId("bucket-new").getByTestId("column-colour")).toBeVisible();
    await shot(page, "02-map");

    await page.getByRole("button", { name: "Accept product nme → Name" }).click();
    await expect(page.getByTestId("bucket-mapped").getByTestId("column-product nme")).toBeVisible();

    await page.getByRole("button", { name: "Create a field from colour" }).click();
    const modal = page.getByRole("dialog", { name: /New field from/ });
    const key = modal.getByRole("textbox", { name: "Key" });
    await key.fill("Colour!");
    await modal.getByRole("button", { name: "Create field" }).click();
    await expect(modal).toContainText("A lower-case letter");
    await key.fill(`colour_${run}`);
    await modal.getByRole("textbox", { name: "Label" }).fill(`Colour ${run}`);
    await shot(page, "03-create-field");
    await modal.getByRole("button", { name: "Create field" }).click();
    await expect(modal).toBeHidden();
    await expect(page.getByTestId("bucket-mapped").getByTestId("column-colour")).toBeVisible();
    await page.getByRole("button", { name: "Save mapping and check rows" }).click();
  });

  await test.step("review: filter to errors from the summary", async () => {
    await expect(page).toHaveURL(/step=review/, { timeout: 30_000 });
    await expect(gridCell(page, 0, "row")).toHaveText("2");
    const chip = page.getByRole("group", { name: "Errors by field" }).getByText(/Price · min \(4\)/);
    await chip.click();
    await expect(page).toHaveURL(/field=price/);
    await expect(page).toHaveURL(/code=min/);
    await expect(page.getByTestId("filter-count")).toContainText("4 rows");
    await expect(gridCell(page, 0, "price")).toHaveText("-3");
    await shot(page, "04-review-errors");
  });

  await test.step("fix one cell inline", async () => {
    await gridCell(page, 0, "price").dblclick();
    await page.keyboard.press("ControlOrMeta+a");
    await page.keyboard.type("3");
    await page.keyboard.press("Enter");
    await expect(page.getByText(/Price saved; the row is valid now/)).toBeVisible();
    await expect(page.getByTestId("filter-count")).toContainText("3 rows");
  });

  await test.step("fix the rest with a bulk action on the filter, then undo is offered", async () => {
    await page.getByRole("button", { name: /Bulk edit/ }).click();
    const drawer = page.getByRole("dialog", { name: "Change many rows" });
    await expect(drawer.getByTestId("bulk-count")).toContainText("3");
    await drawer.getByRole("textbox", { name: "New value" }).fill("2.50");
    await drawer.getByRole("button", { name: "Apply…" }).click();
    await expect(drawer.getByTestId("bulk-confirm")).toContainText("Set Price to “2.50” on 3 rows");
    await shot(page, "05-bulk-confirm");
    await drawer.getByRole("button", { name: "Yes, change 3 rows" }).click();
    await expect(drawer.getByTestId("bulk-result")).toContainText("3 changed; 3 now valid");
    await page.keyboard.press("Escape");
    await expect(drawer).toBeHidden();
    await expect(page.getByTestId("filter-count")).toContainText("0 rows");
    await page.getByRole("button", { name: "Clear filter" }).click();
    await expect(page).not.toHaveURL(/field=/);
    await expect(page.getByTestId("row-counts")).toContainText("1 invalid");
    await shot(page, "06-review-fixed");
  });

  await test.step("discard a selected row, then undo it", async () => {
    await page.locator('[data-testid="review-grid"] .ag-row[row-index="0"] input[type="checkbox"]').check();
    await page.getByRole("button", { name: "Bulk edit (1 selected)" }).click();
    const drawer = page.getByRole("dialog", { name: "Change many rows" });
    await drawer.getByText("Discard", { exact: true }).click();
    await expect(drawer.getByRole("radio", { name: "The 1 selected row" })).toBeChecked();
    await drawer.getByRole("button", { name: "Apply…" }).click();
    await expect(drawer.getByTestId("bulk-confirm")).toContainText("You can undo it right after");
    await drawer.getByRole("button", { name: "Yes, change 1 row" }).click();
    await expect(drawer.getByTestId("bulk-result")).toContainText("1 changed");
    await page.keyboard.press("Escape");
    await expect(page.getByTestId("row-counts")).toContainText("1 discarded");
    await expect(gridCell(page, 0, "status")).toHaveText("discarded");
    await page.getByRole("button", { name: "Undo: restore 1 row" }).click();
    await expect(page.getByText("The last bulk change was undone.")).toBeVisible();
    await expect(page.getByTestId("row-counts")).toContainText("0 discarded");
    await expect(gridCell(page, 0, "status")).toHaveText("valid");
  });

  await test.step("an edit made elsewhere meanwhile is not overwritten unseen", async () => {
    const importId = /imports\/(\d+)/.exec(page.url())![1];
    const elsewhere = await page.request.patch(`/api/v1/workspaces/${workspaceId}/imports/${importId}/rows/3`, {
      data: { data: { name: `Renamed ${run}` } },
    });
    expect(elsewhere.status(), await elsewhere.text()).toBe(200);
    await gridCell(page, 1, "price").dblclick();
    await page.keyboard.press("ControlOrMeta+a");
    await page.keyboard.type("9.5");
    await page.keyboard.press("Enter");
    await expect(page.getByText("The rows changed meanwhile")).toBeVisible();
    await expect(gridCell(page, 1, "name")).toHaveText(`Renamed ${run}`);
    await expect(gridCell(page, 1, "price")).toHaveText("2.50");
  });

  await test.step("the open row is a deep link; Escape closes it", async () => {
    await gridCell(page, 0, "row").click();
    await expect(page).toHaveURL(/row=2/);
    await page.reload();
    const rowDrawer = page.getByRole("dialog", { name: "Row 2" });
    await expect(rowDrawer).toContainText(`${prefix}-001`);
    await page.keyboard.press("Escape");
    await expect(rowDrawer).toBeHidden();
    await expect(page).not.toHaveURL(/row=/);
  });

  await test.step("preview the commit", async () => {
    await page.getByRole("button", { name: "Preview import" }).click();
    await expect(page).toHaveURL(/step=preview/);
    await expect(page.getByTestId("dry-created")).toHaveText("29");
    await expect(page.getByTestId("dry-invalid")).toHaveText("1");
    await shot(page, "07-preview");
  });

  await test.step("commit, watch it finish", async () => {
    await page.getByRole("button", { name: "Import 29 rows" }).click();
    await page.getByRole("dialog", { name: "Start the import?" }).getByRole("button", { name: "Start import" }).click();
    await expect(page.getByText("Import started")).toBeVisible();
    await expect(page).toHaveURL(/step=(progress|result)/);
    await expect(page).toHaveURL(/step=result/, { timeout: 30_000 });
    await expect(page.getByTestId("result-status")).toContainText("Completed with errors");
    await expect(page.getByTestId("count-created")).toHaveText("29");
    await shot(page, "08-result");
  });

  await test.step("download the error report and check its rows", async () => {
    const downloadPromise = page.waitForEvent("download");
    await page.getByRole("link", { name: "Download error report (CSV)" }).click();
    const download = await downloadPromise;
    const text = readFileSync((await download.path())!, "utf8").replace(/^\uFEFF/, "");
    const lines = text.trim().split(/\r?\n/);
    expect(lines[0]).toBe("row,product_code,product nme,unit_price,qty,colour,error");
    expect(lines).toHaveLength(2);
    expect(lines[1]).toContain(`${prefix}-025`);
    expect(lines[1]).toContain("many");
    expect(lines[1]).toMatch(/stock/i);
  });

  await test.step("open the imported records", async () => {
    await page.getByRole("link", { name: "Open the records" }).click();
    await expect(page).toHaveURL(new RegExp(`/w/${workspaceId}/e/products`));
    await page.getByLabel("Search by key").fill(prefix);
    await expect(page).toHaveURL(new RegExp(`q=${prefix}`));
    await expect(page.getByTestId("record-count")).toContainText("29 records");
    await shot(page, "09-records");
  });

  await test.step("history lists it", async () => {
    await page.getByRole("navigation", { name: "Imports" }).getByRole("link", { name: "Import history" }).click();
    await expect(page).toHaveURL(new RegExp(`/w/${workspaceId}/imports$`));
    await expect(page.getByRole("heading", { name: "Imports" })).toBeVisible();
    const history = page.getByTestId("import-history");
    await expect(history.getByRole("row", { name: /products-e2e\.csv/ }).first()).toContainText("Completed with errors");
    await shot(page, "10-history");
  });
});

test("cancel a long import mid-way", async ({ page }) => {
  test.setTimeout(120_000);
  // Six chunks: on SQLite a cancel waits for the running chunk's write lock, so it needs work left behind it.
  const rows = 300_000;
  await page.goto(`/w/${workspaceId}/imports/new`);
  await page.getByTestId("file-input").setInputFiles({ name: "big-e2e.csv", mimeType: "text/csv", buffer: bigCsv(rows) });
  await expect(page).toHaveURL(/step=map/);
  await page.getByRole("button", { name: "Save mapping and check rows" }).click();
  await expect(page).toHaveURL(/step=staging/);
  await expect(page.getByRole("progressbar", { name: "Import progress" })).toBeVisible();
  await shot(page, "11-staging");
  await expect(page).toHaveURL(/step=review/, { timeout: 60_000 });
  await expect(page.getByTestId("row-counts")).toContainText("300,000 valid");
  await page.getByRole("button", { name: "Preview import" }).click();
  await page.getByRole("button", { name: "Import 300,000 rows" }).click();
  await page.getByRole("dialog", { name: "Start the import?" }).getByRole("button", { name: "Start import" }).click();
  await expect(page).toHaveURL(/step=progress/);
  await expect(page.getByTestId("progress-text")).toContainText("of 300,000 rows");
  await page.getByRole("button", { name: "Cancel import" }).click();
  await shot(page, "12-cancel-confirm");
  await page.getByRole("dialog", { name: "Cancel this import?" }).getByRole("button", { name: "Cancel import" }).click();
  // On SQLite the cancel waits for the running chunk's transaction to let go of the database.
  await expect(page).toHaveURL(/step=result/, { timeout: 30_000 });
  await expect(page.getByTestId("result-status")).toContainText("Cancelled");
  // Chunks not started when the cancel came are not imported: fewer records than rows.
  const created = Number((await page.getByTestId("count-created").textContent())?.replace(/,/g, ""));
  expect(created).toBeLessThan(rows);
  const listed = await page.request.get(`/api/v1/workspaces/${workspaceId}/entities/products/records/count?q=${prefix}-BIG-`);
  expect(((await listed.json()) as { count: number }).count).toBeLessThan(rows);
  await shot(page, "13-cancelled");
});
