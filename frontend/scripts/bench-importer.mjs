// The importer's numbers, in Debian's Chromium against a running `loadbay serve`:
//   1. dropping a 100,000-row CSV → the mapping screen → the first grid page of staged rows;
//   2. scrolling the review grid across 1,000,000 staged rows: the longest time a page stays blank;
//   3. the JavaScript the first screen loads (as transferred, and gzip-compressed).
//
// usage: node scripts/bench-importer.mjs [--rows 100000] [--scroll-rows 1000000] [--scroll-import ID]
//                                        [--jumps 40] [--workspace ID] [--keep-files]
// env:   LOADBAY_BENCH_URL (default http://127.0.0.1:8000), LOADBAY_BENCH_EMAIL, LOADBAY_BENCH_PASSWORD,
//        LOADBAY_CHROMIUM (default /usr/bin/chromium)
// The products entity must exist (`loadbay serve --demo`, or `loadbay schema apply examples/catalog.yaml`).
import { execFileSync } from "node:child_process";
import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import { gzipSync } from "node:zlib";
import { chromium } from "@playwright/test";

const here = dirname(fileURLToPath(import.meta.url));
const args = process.argv.slice(2);
const arg = (name, fallback) => {
  const i = args.indexOf(`--${name}`);
  return i >= 0 && args[i + 1] !== undefined ? args[i + 1] : fallback;
};
const flag = (name) => args.includes(`--${name}`);

const baseURL = process.env.LOADBAY_BENCH_URL ?? "http://127.0.0.1:8000";
const email = process.env.LOADBAY_BENCH_EMAIL ?? "admin@example.com";
const password = process.env.LOADBAY_BENCH_PASSWORD ?? "";
const rows = Number(arg("rows", "100000"));
const scrollRows = Number(arg("scroll-rows", "1000000"));
const scrollImport = arg("scroll-import", null);
const jumps = Number(arg("jumps", "40"));
if (flag("verbose")) console.error("verbose: the time of every move is printed by the page");
const generator = process.env.LOADBAY_BENCH_GEN ?? join(here, "..", "..", "bench", "gen_products.py");

if (!password) {
  console.error("Set LOADBAY_BENCH_PASSWORD (and LOADBAY_BENCH_EMAIL) for the server at LOADBAY_BENCH_URL.");
  process.exit(2);
}
if (new URL(baseURL).hostname !== "127.0.0.1" && new URL(baseURL).hostname !== "localhost") {
  console.error("The bench only talks to a server on this machine.");
  process.exit(2);
}

const work = mkdtempSync(join(tmpdir(), "loadbay-bench-"));
const ms = (t) => `${Math.round(t).toLocaleString("en-US")} ms`;

function generate(n) {
  const out = join(work, `products-${n}.csv`);
  const t0 = performance.now();
  execFileSync("python3", [generator, "--rows", String(n), "--out", out], { stdio: ["ignore", "ignore", "inherit"] });
  console.error(`generated ${n.toLocaleString("en-US")} rows in ${ms(performance.now() - t0)}: ${out}`);
  return out;
}

const browser = await chromium.launch({
  executablePath: process.env.LOADBAY_CHROMIUM ?? "/usr/bin/chromium",
  args: ["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking"],
});

try {
  const context = await browser.newContext({ baseURL, viewport: { width: 1440, height: 900 } });
  const page = await context.newPage();
  if (flag("verbose")) page.on("console", (m) => console.error(`page: ${m.text()}`));
  // Nothing but the server under test.
  const allowed = new URL(baseURL).host;
  await page.route("**/*", (route) => (new URL(route.request().url()).host === allowed ? route.continue() : route.abort()));
  const login = await page.request.post("/api/v1/auth/login", { data: { email, password } });
  if (!login.ok()) throw new Error(`sign-in failed: ${login.status()} ${await login.text()}`);
  const workspaces = await (await page.request.get("/api/v1/workspaces")).json();
  const workspaceId = Number(arg("workspace", workspaces[0]?.id));
  const api = `/api/v1/workspaces/${workspaceId}/imports`;

  // --- 3. first-load JavaScript ------------------------------------------------------------------
  const cdp = await context.newCDPSession(page);
  await cdp.send("Network.enable");
  await cdp.send("Network.setCacheDisabled", { cacheDisabled: true });
  const js = new Map();
  cdp.on("Network.responseReceived", (e) => {
    if (e.type === "Script" || e.response.url.endsWith(".js")) js.set(e.requestId, { url: e.response.url, transfer: 0 });
  });
  cdp.on("Network.loadingFinished", (e) => {
    const r = js.get(e.requestId);
    if (r) r.transfer = e.encodedDataLength;
  });
  await page.goto(`/w/${workspaceId}`, { waitUntil: "networkidle" });
  let transfer = 0;
  let gzip = 0;
  for (const [requestId, r] of js) {
    transfer += r.transfer;
    const { body, base64Encoded } = await cdp.send("Network.getResponseBody", { requestId });
    gzip += gzipSync(Buffer.from(body, base64Encoded ? "base64" : "utf8"), { level: 9 }).length;
  }
  await cdp.send("Network.setCacheDisabled", { cacheDisabled: false });
  const firstLoad = { scripts: js.size, transferKB: transfer / 1024, gzipKB: gzip / 1024 };

  // --- 1. drop → mapping screen → first grid page --------------------------------------------------
  const csv = generate(rows);
  await page.goto(`/w/${workspaceId}/imports/new?entity=products`);
  await page.getByTestId("dropzone").waitFor();
  const t0 = performance.now();
  await page.getByTestId("file-input").setInputFiles(csv);
  await page.waitForURL(/step=map/, { timeout: 600_000 });
  await page.getByTestId("bucket-mapped").waitFor();
  const toMap = performance.now() - t0;
  await page.getByRole("button", { name: "Save mapping and check rows" }).click();
  await page.waitForURL(/step=review/, { timeout: 1_800_000 });
  await page.locator('[data-testid="review-grid"] .ag-row[row-index="0"] .ag-cell[col-id="sku"]').filter({ hasText: /\S/ }).waitFor({ timeout: 120_000 });
  const toGrid = performance.now() - t0;

  // --- 2. scrolling a million staged rows ----------------------------------------------------------
  let scrollId = scrollImport ? Number(scrollImport) : null;
  if (scrollId === null) {
    const big = generate(scrollRows);
    const created = await page.request.post(api, { data: { entity: "products", file_name: "bench-scroll.csv" } });
    scrollId = (await created.json()).id;
    const t = performance.now();
    const up = await page.request.put(`${api}/${scrollId}/file?file_name=bench-scroll.csv`, {
      data: readFileSync(big),
      headers: { "Content-Type": "application/octet-stream" },
      timeout: 0,
    });
    if (!up.ok()) throw new Error(`upload failed: ${up.status()} ${await up.text()}`);
    const session = await up.json();
    const columns = Object.fromEntries(session.suggestions.map((s) => [s.column, s.bucket === "mapped" || s.bucket === "suggested" ? s.field : null]));
    const mapped = await page.request.put(`${api}/${scrollId}/mapping`, { data: { columns } });
    if (!mapped.ok()) throw new Error(`mapping failed: ${await mapped.text()}`);
    await page.request.post(`${api}/${scrollId}/stage`);
    for (;;) {
      const p = await (await page.request.get(`${api}/${scrollId}/progress`)).json();
      if (p.status !== "staging") {
        if (p.status !== "staged") throw new Error(`staging ended ${p.status}: ${p.error}`);
        break;
      }
      await new Promise((r) => setTimeout(r, 2000));
    }
    console.error(`staged ${scrollRows.toLocaleString("en-US")} rows (import ${scrollId}) in ${ms(performance.now() - t)}`);
  }
  await page.goto(`/w/${workspaceId}/imports/${scrollId}?step=review`);
  await page.locator('[data-testid="review-grid"] .ag-row[row-index="0"] .ag-cell[col-id="sku"]').filter({ hasText: /\S/ }).waitFor({ timeout: 120_000 });
  const total = await (await page.request.get(`${api}/${scrollId}/rows/count`)).json();

  // Jump to positions spread over the whole file, then drag through a stretch as a person would;
  // after each move, count the time until every row in view has its data.
  const result = await page.evaluate(
    async ({ jumps, verbose }) => {
      // The element that scrolls vertically (its class changed across AG Grid versions).
      const viewport = document.querySelector('[data-testid="review-grid"] .ag-grid-viewport') ?? document.querySelector('[data-testid="review-grid"] .ag-body-viewport');
      const container = viewport;
      const frame = () => new Promise((r) => requestAnimationFrame(r));
      // Blank: a row in view still loading, or part of the view not covered by rows with data yet
      // (right after a jump the old rows are out of view and the new ones not drawn).
      const blankInView = () => {
        const box = container.getBoundingClientRect();
        // The rows' area starts below the header, which may sit inside the scrolling element.
        const header = document.querySelector('[data-testid="review-grid"] .ag-header')?.getBoundingClientRect();
        const top = header ? Math.max(box.top, header.bottom) : box.top;
        let covered = 0;
        for (const row of document.querySelectorAll('[data-testid="review-grid"] .ag-row')) {
          if (!row.querySelector('.ag-cell[col-id="status"]')) continue; // the pinned half of a row
          const r = row.getBoundingClientRect();
          const seen = Math.min(r.bottom, box.bottom) - Math.max(r.top, top);
          if (seen <= 0) continue;
          if (row.classList.contains("ag-row-loading") || !row.querySelector('.ag-cell[col-id="status"]')?.textContent?.trim()) return true;
          covered += seen;
        }
        return covered < box.bottom - top - 20;
      };
      const settle = async () => {
        const t = performance.now();
        await frame();
        while (blankInView()) {
          if (performance.now() - t > 30_000) {
            if (verbose) console.log(`stuck at scrollTop ${viewport.scrollTop}: ${[...document.querySelectorAll('[data-testid="review-grid"] .ag-row')].filter((r) => r.querySelector('.ag-cell[col-id="status"]') && r.getBoundingClientRect().bottom > 0 && r.getBoundingClientRect().top < innerHeight).map((r) => `${r.getAttribute("row-index")}${r.classList.contains("ag-row-loading") ? "L" : ""}[${r.querySelector('.ag-cell[col-id="status"]')?.textContent}]@${Math.round(r.getBoundingClientRect().top)}`).join(" ")}`);
            return Infinity;
          }
          await frame();
        }
        return performance.now() - t;
      };
      const times = [];
      const max = viewport.scrollHeight - viewport.clientHeight;
      for (let i = 0; i < jumps; i++) {
        // A fixed spread (golden ratio), so runs compare.
        viewport.scrollTop = Math.floor(((i * 0.6180339887) % 1) * max);
        times.push(await settle());
      }
      viewport.scrollTop = Math.floor(max / 2);
      await settle();
      for (let i = 0; i < 60; i++) {
        viewport.scrollTop += viewport.clientHeight * 1.5;
        times.push(await settle());
      }
      viewport.scrollTop = max;
      times.push(await settle());
      const lastRow = [...document.querySelectorAll('[data-testid="review-grid"] .ag-cell[col-id="row"]')]
        .map((c) => Number(c.textContent?.replace(/\D/g, "")))
        .reduce((a, b) => Math.max(a, b), 0);
      if (verbose) console.log(JSON.stringify(times.map(Math.round)));
      times.sort((a, b) => a - b);
      return { moves: times.length, max: times[times.length - 1], p50: times[Math.floor(times.length / 2)], p95: times[Math.floor(times.length * 0.95)], scrollHeight: viewport.scrollHeight, lastRow };
    },
    { jumps, verbose: flag("verbose") },
  );

  const fmtKB = (k) => `${k.toFixed(1)} kB`;
  console.log(`server                        ${baseURL}`);
  console.log(`drop ${rows.toLocaleString("en-US")}-row CSV → mapping screen   ${ms(toMap)}`);
  console.log(`drop ${rows.toLocaleString("en-US")}-row CSV → first grid page  ${ms(toGrid)} (upload, profile, map, stage all rows, first page)`);
  console.log(`grid scroll over ${total.count.toLocaleString("en-US")} staged rows: ${result.moves} moves, longest blank ${ms(result.max)} (goal < 300 ms), p95 ${ms(result.p95)}, median ${ms(result.p50)}; last row seen ${result.lastRow.toLocaleString("en-US")}`);
  console.log(`first-load JS                 ${firstLoad.scripts} files, ${fmtKB(firstLoad.transferKB)} transferred, ${fmtKB(firstLoad.gzipKB)} gzip (budget 400 kB)`);
  await context.close();
} finally {
  await browser.close();
  if (!flag("keep-files")) rmSync(work, { recursive: true, force: true });
}
