/// <reference types="vitest/config" />
import { readFileSync } from "node:fs";
import { createRequire } from "node:module";
import { dirname, join } from "node:path";
import react from "@vitejs/plugin-react";
import { defineConfig, type Plugin } from "vite";

/** Swagger UI for the API docs at /api/docs, served from our own origin (the server's CSP allows no other script). */
function swaggerUiAssets(): Plugin {
  const dist = dirname(createRequire(import.meta.url).resolve("swagger-ui-dist/package.json"));
  return {
    name: "loadbay-swagger-ui",
    apply: "build",
    generateBundle() {
      for (const file of ["swagger-ui-bundle.js", "swagger-ui.css"]) {
        this.emitFile({ type: "asset", fileName: `docs-assets/${file}`, source: readFileSync(join(dist, file)) });
      }
    },
  };
}

export default defineConfig({
  plugins: [react(), swaggerUiAssets()],
  server: {
    port: 5173,
    // The API refuses state changes from another origin; keeping the Host header lets
    // the dev server's origin count as the API's own.
    proxy: { "/api": { target: process.env.LOADBAY_API_URL ?? "http://127.0.0.1:8000", changeOrigin: false } },
  },
  build: {
    // The backend serves dist/assets at /assets.
    assetsDir: "assets",
    sourcemap: false,
    // The records page carries the grid in its own chunk, loaded only with that page.
    chunkSizeWarningLimit: 1000,
  },
  test: {
    environment: "jsdom",
    setupFiles: ["./src/test/setup.ts"],
    include: ["src/**/*.test.{ts,tsx}"],
    css: false,
    restoreMocks: true,
  },
});
