// Gzip size of the JavaScript the first screen loads (what dist/index.html references), against a budget.
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { gzipSync } from "node:zlib";

const BUDGET = 400 * 1024;
const dist = new URL("../dist/", import.meta.url).pathname;
const html = readFileSync(join(dist, "index.html"), "utf8");
const scripts = [...html.matchAll(/<(?:script|link)[^>]+(?:src|href)="\/?([^"]+\.js)"/g)].map((m) => m[1]);
let total = 0;
for (const file of scripts) {
  const size = gzipSync(readFileSync(join(dist, file)), { level: 9 }).length;
  total += size;
  console.log(`${(size / 1024).toFixed(1).padStart(8)} kB  ${file}`);
}
console.log(`${(total / 1024).toFixed(1).padStart(8)} kB  first-screen JS, gzip (budget ${BUDGET / 1024} kB)`);
if (total > BUDGET) {
  console.error("Over budget: move heavy code behind a lazy route.");
  process.exit(1);
}
