/// <reference types="vitest/config" />
import react from "@vitejs/plugin-react";
import { defineConfig } from "vite";

export default defineConfig({
  plugins: [react()],
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
