import { expect, Page, test } from "@playwright/test";
import { addUser, cspViolations, fillLogin, hydrated, login, nextTotp, screenshot, totp, welcome } from "./helpers";

const PASSWORD = "two-step password";

/** The setup page's key, as the page gives it to someone typing it into an app. */
const readSecret = async (page: Page) => (await page.locator("code.secret").getAttribute("data-secret"))!;

async function passwordStep(page: Page, user: string) {
  await fillLogin(page, user, PASSWORD);
  await page.getByRole("button", { name: "Log in" }).click();
  await expect(page.getByRole("heading", { name: "Two-step login" })).toBeVisible();
}

test.describe("two-step login", () => {
  test("turn it on, then log in with an app code and with a recovery code", async ({ page }) => {
    const violations = cspViolations(page);
    const user = "two-step-js";
    addUser(user, PASSWORD);
    await login(page, user, PASSWORD);

    await page.goto("/account");
    await hydrated(page);
    await page.getByRole("link", { name: "Set up two-step login" }).click();
    await hydrated(page);
    const secret = await readSecret(page);
    await expect(page.getByRole("img", { name: "QR code of your two-step key" })).toBeVisible();
    await expect(page.getByRole("link", { name: "open the setup link" })).toHaveAttribute(
      "href",
      `otpauth://totp/latchkey:${user}?secret=${secret}&issuer=latchkey`,
    );
    await screenshot(page, "two-step-setup", true);

    // A code from two minutes ago is not the app's current one.
    const code = page.getByLabel("Enter the 6-digit code the app shows");
    await code.fill(totp(secret, Date.now() / 1000 - 120));
    await page.getByRole("button", { name: "Turn on two-step login" }).click();
    await expect(page.locator("#setup-error")).toContainText("That code is not right");
    await code.fill(totp(secret));
    await page.getByRole("button", { name: "Turn on two-step login" }).click();
    await expect(page.getByRole("heading", { name: "Your recovery codes" })).toBeFocused();
    const codes = await page.locator(".codes li").allTextContents();
    expect(codes).toHaveLength(10);
    for (const c of codes) expect(c).toMatch(/^[a-z0-9]{5}-[a-z0-9]{5}$/);
    const download = page.getByRole("link", { name: "Download" });
    await expect(download).toHaveAttribute("download", "latchkey-recovery-codes.txt");
    const file = decodeURIComponent((await download.getAttribute("href"))!.split(",")[1]);
    expect(file).toContain(codes.join("\n"));

    // The password alone is not a login now.
    await page.goto("/");
    await hydrated(page);
    await page.getByRole("button", { name: "Log out" }).click();
    await passwordStep(page, user);
    await expect(page.getByLabel("Code")).toBeFocused();
    await screenshot(page, "two-step-code");
    await page.getByLabel("Code").fill(totp(secret, Date.now() / 1000 - 120));
    await page.getByRole("button", { name: "Verify" }).click();
    await expect(page.locator("#code-error")).toContainText("That code is not right");
    await page.getByLabel("Code").fill(nextTotp(secret));
    await page.getByRole("button", { name: "Verify" }).click();
    await expect(welcome(page, user)).toBeVisible();

    // A recovery code, once.
    await page.getByRole("button", { name: "Log out" }).click();
    await passwordStep(page, user);
    await page.getByLabel("Code").fill(codes[0].toUpperCase());
    await page.getByRole("button", { name: "Verify" }).click();
    await expect(welcome(page, user)).toBeVisible();
    await page.getByRole("button", { name: "Log out" }).click();
    await passwordStep(page, user);
    await page.getByLabel("Code").fill(codes[0]);
    await page.getByRole("button", { name: "Verify" }).click();
    await expect(page.locator("#code-error")).toContainText("That code is not right");
    await page.getByLabel("Code").fill(codes[1]);
    await page.getByRole("button", { name: "Verify" }).click();
    await expect(welcome(page, user)).toBeVisible();

    await page.goto("/account");
    await hydrated(page);
    await expect(page.getByText("8 recovery codes left.")).toBeVisible();
    expect(violations).toEqual([]);
  });

  test("cancelling the code step goes back to the password", async ({ page }) => {
    const user = "two-step-cancel";
    addUser(user, PASSWORD);
    await login(page, user, PASSWORD);
    await page.goto("/account/two-step");
    await hydrated(page);
    const secret = await readSecret(page);
    await page.getByLabel("Enter the 6-digit code the app shows").fill(totp(secret));
    await page.getByRole("button", { name: "Turn on two-step login" }).click();
    await expect(page.getByRole("heading", { name: "Your recovery codes" })).toBeVisible();

    await page.goto("/");
    await hydrated(page);
    await page.getByRole("button", { name: "Log out" }).click();
    await passwordStep(page, user);
    // Not logged in meanwhile: the account page says so.
    const other = await page.context().newPage();
    await other.goto("/account");
    await expect(other.getByText("You are not logged in.")).toBeVisible();
    await other.close();
    await page.getByRole("button", { name: "Cancel and start again" }).click();
    await expect(page.getByRole("heading", { name: "Log in" })).toBeVisible();
    await page.reload();
    await expect(page.getByRole("heading", { name: "Log in" })).toBeVisible();
  });
});

test.describe("two-step login without JavaScript", () => {
  test.use({ javaScriptEnabled: false });

  test("turn it on, then log in with an app code and with a recovery code", async ({ page }) => {
    const user = "two-step-nojs";
    addUser(user, PASSWORD);
    await page.goto("/");
    await fillLogin(page, user, PASSWORD);
    await page.getByRole("button", { name: "Log in" }).click();
    await expect(welcome(page, user)).toBeVisible();

    await page.goto("/account");
    await page.getByRole("link", { name: "Set up two-step login" }).click();
    const secret = await readSecret(page);
    await page.getByLabel("Enter the 6-digit code the app shows").fill(totp(secret));
    await page.getByRole("button", { name: "Turn on two-step login" }).click();
    await expect(page).toHaveURL(/\/account\/recovery-codes$/);
    const codes = await page.locator(".codes li").allTextContents();
    expect(codes).toHaveLength(10);
    // Shown once.
    await page.reload();
    await expect(page.getByText("Recovery codes are shown only once")).toBeVisible();
    await expect(page.locator(".codes li")).toHaveCount(0);

    await page.goto("/");
    await page.getByRole("button", { name: "Log out" }).click();
    await passwordStep(page, user);
    await page.getByLabel("Code").fill("123");
    await page.getByRole("button", { name: "Verify" }).click();
    await expect(page.locator("#code-error")).toContainText("That code is not right");
    await expect(page.getByRole("heading", { name: "Two-step login" })).toBeVisible();
    await page.getByLabel("Code").fill(nextTotp(secret));
    await page.getByRole("button", { name: "Verify" }).click();
    await expect(welcome(page, user)).toBeVisible();

    await page.getByRole("button", { name: "Log out" }).click();
    await passwordStep(page, user);
    await page.getByLabel("Code").fill(codes[3]);
    await page.getByRole("button", { name: "Verify" }).click();
    await expect(welcome(page, user)).toBeVisible();
    await page.goto("/account");
    await expect(page.getByText("9 recovery codes left.")).toBeVisible();

    // New codes, shown once on their own page; the old ones stop working.
    await page.getByRole("button", { name: "New recovery codes" }).click();
    await expect(page).toHaveURL(/\/account\/recovery-codes$/);
    await expect(page.locator(".codes li")).toHaveCount(10);
    await page.goto("/");
    await page.getByRole("button", { name: "Log out" }).click();
    await passwordStep(page, user);
    await page.getByLabel("Code").fill(codes[4]);
    await page.getByRole("button", { name: "Verify" }).click();
    await expect(page.locator("#code-error")).toContainText("That code is not right");
  });
});
