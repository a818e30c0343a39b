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
