import { expect, test } from "@playwright/test";
import { addUser, cspViolations, fillLogin, hydrated, login, screenshot, welcome } from "./helpers";

// Each test has its own user, so parallel tests never see each other's sessions.
const unique = (prefix: string) => `${prefix}-${Date.now()}-${Math.floor(Math.random() * 1e6)}`;
const PASSWORD = "e2e password 1";

test("other tabs of the same browser follow login and logout without a reload", async ({ context }) => {
  const user = unique("tabs");
  addUser(user, PASSWORD);
  const a = await context.newPage();
  const b = await context.newPage();
  for (const page of [a, b]) {
    await page.goto("/");
    await hydrated(page);
    await page.evaluate(() => ((window as any).__noReload = true));
  }
  await fillLogin(a, user, PASSWORD);
  await a.getByRole("button", { name: "Log in" }).click();
  await expect(welcome(a, user)).toBeVisible();
  await expect(welcome(b, user)).toBeVisible();

  await b.getByRole("button", { name: "Log out" }).click();
  await expect(b.getByRole("heading", { name: "Log in" })).toBeVisible();
  await expect(a.getByRole("heading", { name: "Log in" })).toBeVisible();
  for (const page of [a, b]) {
    expect(await page.evaluate(() => (window as any).__noReload)).toBe(true);
  }
});

test("revoking this session on the sessions page logs out the other tabs too", async ({ context }) => {
  const user = unique("revoke");
  addUser(user, PASSWORD);
  const tab = await context.newPage();
  const violations = cspViolations(tab);
  await login(tab, user, PASSWORD);
  const other = await context.newPage();
  await other.goto("/");
  await hydrated(other);
  await expect(welcome(other, user)).toBeVisible();
  await other.evaluate(() => ((window as any).__noReload = true));

  await tab.goto("/sessions");
  await hydrated(tab);
  await tab.locator("li.current").getByRole("button", { name: "Log out" }).click();
  await expect(tab.getByText("You are not logged in.")).toBeVisible();
  await expect(other.getByRole("heading", { name: "Log in" })).toBeVisible();
  expect(await other.evaluate(() => (window as any).__noReload)).toBe(true);
  expect(violations).toEqual([]);
});

test("the sessions page follows a login in another tab without a reload", async ({ context }) => {
  const user = unique("follow");
  addUser(user, PASSWORD);
  const tab = await context.newPage();
  await tab.goto("/sessions");
  await hydrated(tab);
  await expect(tab.getByText("You are not logged in.")).toBeVisible();
  await tab.evaluate(() => ((window as any).__noReload = true));

  const other = await context.newPage();
  await login(other, user, PASSWORD);
  await expect(tab.locator("ul.sessions li")).toHaveCount(1);
  await expect(tab.locator("li.current")).toContainText("This session");
  expect(await tab.evaluate(() => (window as any).__noReload)).toBe(true);
});

test("the sessions page lists sessions and revokes another browser's", async ({ browser }) => {
  const user = unique("sessions");
  addUser(user, PASSWORD);
  const laptop = await browser.newContext();
  const desktop = await browser.newContext();
  const laptopPage = await laptop.newPage();
  const desktopPage = await desktop.newPage();
  await login(laptopPage, user, PASSWORD);
  await login(desktopPage, user, PASSWORD);

  await desktopPage.getByRole("link", { name: "Your sessions" }).click();
  await expect(desktopPage.getByRole("heading", { name: "Your sessions" })).toBeVisible();
  const items = desktopPage.locator("ul.sessions li");
  await expect(items).toHaveCount(2);
  await expect(desktopPage.locator("li.current")).toContainText("This session");
  await screenshot(desktopPage, "sessions", true);

  await desktopPage.locator("li:not(.current)").getByRole("button", { name: "Revoke" }).click();
  await expect(items).toHaveCount(1);

  // The laptop tab notices when it comes back into view, or at the latest on reload.
  await laptopPage.reload();
  await expect(laptopPage.getByRole("heading", { name: "Log in" })).toBeVisible();
  await desktopPage.goto("/");
  await expect(welcome(desktopPage, user)).toBeVisible();
  await laptop.close();
  await desktop.close();
});

test("ending other sessions on the sessions page and changing the password on the account page happen in place", async ({ browser }) => {
  const user = unique("inplace");
  addUser(user, PASSWORD);
  const other = await browser.newContext();
  const mine = await browser.newContext();
  const otherPage = await other.newPage();
  const page = await mine.newPage();
  const violations = cspViolations(page);
  await login(otherPage, user, PASSWORD);
  await login(page, user, PASSWORD);
  await page.goto("/sessions");
  await hydrated(page);
  await page.evaluate(() => ((window as any).__noReload = true));
  await expect(page.locator("ul.sessions li")).toHaveCount(2);

  await page.getByRole("button", { name: "Log out everywhere else" }).click();
  await expect(page.getByText("Ended 1 other session(s).")).toBeVisible();
  await expect(page.locator("ul.sessions li")).toHaveCount(1);
  expect(await page.evaluate(() => (window as any).__noReload)).toBe(true);

  await login(otherPage, user, PASSWORD);
  await page.getByRole("link", { name: "Your account" }).click();
  await hydrated(page);
  await page.evaluate(() => ((window as any).__noReload = true));
  await page.getByLabel("Current password", { exact: true }).fill("not the password");
  await page.getByLabel("New password", { exact: true }).fill("a new password 2");
  await page.getByLabel("Repeat the new password").fill("a new password 2");
  await page.getByRole("button", { name: "Change password" }).click();
  await expect(page.locator("#password-error")).toHaveText("The current password is not correct.");

  await page.getByLabel("Current password", { exact: true }).fill(PASSWORD);
  await page.getByRole("button", { name: "Change password" }).click();
  await expect(page.getByText("Password changed. Every other session has been logged out.")).toBeVisible();
  await expect(page.locator("#password-error")).toHaveText("");
  // The form is cleared after a success; this session stays logged in.
  await expect(page.getByLabel("Current password", { exact: true })).toHaveValue("");
  expect(await page.evaluate(() => (window as any).__noReload)).toBe(true);
  expect(violations).toEqual([]);

  // The other browser was logged out; the new password is the one that works now.
  await otherPage.reload();
  await expect(otherPage.getByRole("heading", { name: "Log in" })).toBeVisible();
  await page.goto("/sessions");
  await expect(page.locator("ul.sessions li")).toHaveCount(1);
  await expect(page.locator("li.current")).toContainText("This session");
  await login(otherPage, user, "a new password 2");
  await other.close();
  await mine.close();
});

test.describe("without JavaScript", () => {
  test.use({ javaScriptEnabled: false });

  test("log out everywhere else works as a plain form post", async ({ browser }) => {
    const user = unique("nojs");
    addUser(user, PASSWORD);
    const other = await browser.newContext({ javaScriptEnabled: false });
    const mine = await browser.newContext({ javaScriptEnabled: false });
    for (const ctx of [other, mine]) {
      const page = await ctx.newPage();
      await page.goto("/");
      await fillLogin(page, user, PASSWORD);
      await page.getByRole("button", { name: "Log in" }).click();
      await expect(welcome(page, user)).toBeVisible();
    }
    const page = mine.pages()[0];
    await page.goto("/sessions");
    await expect(page.locator("ul.sessions li")).toHaveCount(2);
    await page.getByRole("button", { name: "Log out everywhere else" }).click();
    await expect(page.locator("ul.sessions li")).toHaveCount(1);
    const otherPage = other.pages()[0];
    await otherPage.reload();
    await expect(otherPage.getByRole("heading", { name: "Log in" })).toBeVisible();
    await other.close();
    await mine.close();
  });
});
