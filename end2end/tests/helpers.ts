import { expect, Page } from "@playwright/test";

export const DEMO = { username: "user1", password: "mypassword" };

/** Waits until the WASM front end has taken over the server-rendered page. */
export async function hydrated(page: Page) {
  await expect(page.locator("body[data-hydrated]")).toHaveCount(1);
}

export async function fillLogin(page: Page, username: string, password: string) {
  await page.getByLabel("Username").fill(username);
  await page.getByLabel("Password").fill(password);
}

export const welcome = (page: Page, name: string) =>
  page.getByRole("heading", { name: `Welcome, ${name}` });

/** Creates a user with the real CLI, on the same database as the server under test. */
export function addUser(name: string, password: string) {
  const { execFileSync } = require("node:child_process");
  const bin = process.env.LATCHKEY_BIN ?? "../target/debug/latchkey";
  execFileSync(require("node:path").resolve(bin), ["user", "add", name], {
    cwd: "..",
    input: `${password}\n`,
    env: process.env,
  });
}

export async function login(page: Page, username: string, password: string) {
  await page.goto("/");
  await hydrated(page);
  await fillLogin(page, username, password);
  await page.getByRole("button", { name: "Log in" }).click();
  await expect(welcome(page, username)).toBeVisible();
}

/** Collects Content-Security-Policy violations the page reports (assert it stays empty). */
export function cspViolations(page: Page): string[] {
  const seen: string[] = [];
  page.on("console", (msg) => {
    if (msg.text().includes("Content Security Policy")) seen.push(msg.text());
  });
  return seen;
}

/**
 * Refreshes the README's screenshot `name` (docs/screenshots/NAME.png), only when asked:
 * `LATCHKEY_SCREENSHOTS=1 scripts/test`. A plain test run leaves the tree as it found it.
 */
export async function screenshot(page: Page, name: string, fullPage = false) {
  if (process.env.LATCHKEY_SCREENSHOTS === "1") {
    await page.screenshot({ path: `../docs/screenshots/${name}.png`, fullPage });
  }
}
