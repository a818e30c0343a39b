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

/**
 * The code an authenticator app shows for `base32` secret at unix time `at` (RFC 6238:
 * HMAC-SHA-1, 30-second steps, 6 digits), written here from the RFC so the test does not
 * check the server against its own library.
 */
export function totp(base32: string, at = Date.now() / 1000): string {
  const { createHmac } = require("node:crypto");
  const alphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZ234567";
  const bits = [...base32.replace(/[\s=]/g, "")].map((c) => alphabet.indexOf(c).toString(2).padStart(5, "0")).join("");
  const key = Buffer.from(bits.match(/.{8}/g)!.map((byte) => parseInt(byte, 2)));
  const counter = Buffer.alloc(8);
  counter.writeBigUInt64BE(BigInt(Math.floor(at / 30)));
  const mac: Buffer = createHmac("sha1", key).update(counter).digest();
  const offset = mac[mac.length - 1] & 0xf;
  return ((mac.readUInt32BE(offset) & 0x7fffffff) % 1_000_000).toString().padStart(6, "0");
}

/** The next time step's code: accepted (one step of skew) after this step's was used. */
export const nextTotp = (base32: string) => totp(base32, Date.now() / 1000 + 30);
