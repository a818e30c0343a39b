import { defineConfig } from "@playwright/test";

// The server under test: started by `cargo leptos end-to-end` on LEPTOS_SITE_ADDR.
const addr = process.env.LEPTOS_SITE_ADDR ?? "127.0.0.1:3000";
export const baseURL = `http://${addr}`;

export default defineConfig({
  testDir: "./tests",
  globalSetup: "./global-setup.ts",
  timeout: 30_000,
  expect: { timeout: 10_000 },
  fullyParallel: true,
  workers: 2,
  forbidOnly: !!process.env.CI,
  // An opened HTML report starts a server that would hang a headless run.
  reporter: [["list"], ["html", { open: "never" }]],
  use: {
    baseURL,
    trace: "retain-on-failure",
    // Playwright cannot download its own browsers here: use Debian's Chromium.
    launchOptions: {
      executablePath: process.env.CHROMIUM ?? "/usr/bin/chromium",
      args: [
        "--no-sandbox",
        "--disable-gpu",
        "--disable-background-networking",
        "--disable-component-update",
        "--no-first-run",
        "--disable-sync",
      ],
    },
  },
});
