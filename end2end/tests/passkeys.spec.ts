import { CDPSession, expect, Page, test } from "@playwright/test";
import { baseURL } from "../playwright.config";
import { addUser, cspViolations, fillLogin, hydrated, screenshot, welcome } from "./helpers";

// WebAuthn refuses IP addresses: passkeys work on the server's host name, `localhost`.
const site = baseURL.replace("127.0.0.1", "localhost");

/** Chromium's virtual authenticator (DevTools Protocol): a platform authenticator that keeps
 * discoverable credentials and verifies its user, with every touch simulated. */
async function authenticator(page: Page): Promise<{ cdp: CDPSession; id: string }> {
  const cdp = await page.context().newCDPSession(page);
  await cdp.send("WebAuthn.enable");
  const { authenticatorId } = await cdp.send("WebAuthn.addVirtualAuthenticator", {
    options: {
      protocol: "ctap2",
      transport: "internal",
      hasResidentKey: true,
      hasUserVerification: true,
      isUserVerified: true,
      automaticPresenceSimulation: true,
    },
  });
  return { cdp, id: authenticatorId };
}

/** Logs in with a password and adds a passkey from the account page. */
async function addPasskey(page: Page, user: string, name: string) {
  addUser(user, "passkey-password");
  await page.goto(`${site}/`);
  await hydrated(page);
  await fillLogin(page, user, "passkey-password");
  await page.getByRole("button", { name: "Log in" }).click();
  await expect(welcome(page, user)).toBeVisible();
  // Just logged in: no confirmation asked.
  await page.getByRole("link", { name: "Your account" }).click();
  await hydrated(page);
  await expect(page.getByRole("heading", { name: "Confirm it's you" })).toHaveCount(0);
  await page.getByLabel("Name for the new passkey (optional)").fill(name);
  await page.getByRole("button", { name: "Add a passkey" }).click();
  await expect(page.getByText("Passkey added.")).toBeVisible();
  await expect(page.locator(".passkeys li")).toContainText(name);
}

async function logOut(page: Page) {
  await page.goto(`${site}/`);
  await hydrated(page);
  await page.getByRole("button", { name: "Log out" }).click();
  await expect(page.getByRole("heading", { name: "Log in" })).toBeVisible();
}

test.describe("passkeys", () => {
  test("add one, sign in with it alone, remove it, and it no longer signs in", async ({ page }) => {
    const violations = cspViolations(page);
    const { cdp, id } = await authenticator(page);
    // The virtual authenticator answers the user-name field's (autofill) request by itself,
    // which would sign in before the button is pressed: this browser has no autofill.
    await page.addInitScript(() => {
      PublicKeyCredential.isConditionalMediationAvailable = async () => false;
    });
    await addPasskey(page, "passkey-user", "Test key");
    await expect(page.locator(".passkeys li")).toContainText("never used");
    const { credentials } = await cdp.send("WebAuthn.getCredentials", { authenticatorId: id });
    expect(credentials).toHaveLength(1);
    expect(credentials[0].isResidentCredential).toBe(true);
    await screenshot(page, "passkeys");

    // Signed in with the passkey alone: no user name typed.
    await logOut(page);
    await screenshot(page, "login-passkey");
    await page.getByRole("button", { name: "Sign in with a passkey" }).click();
    await expect(welcome(page, "passkey-user")).toBeVisible();
    await page.goto(`${site}/sessions`);
    await expect(page.locator(".sessions li.current")).toContainText("with a passkey");

    // Renamed, then removed with the keyboard.
    await page.goto(`${site}/account`);
    await hydrated(page);
    await expect(page.locator(".passkeys li")).toContainText("last used");
    await page.getByLabel("New name for passkey Test key").fill("Old key");
    await page.getByRole("button", { name: "Rename passkey Test key" }).click();
    await expect(page.getByText("Passkey renamed.")).toBeVisible();
    // The list is drawn anew after the change, then focus lands on its heading: only then is
    // the remove button the one on the page (pressing the old one would press nothing).
    await expect(page.getByRole("heading", { name: "Passkeys" })).toBeFocused();
    await page.getByRole("button", { name: "Remove passkey Old key" }).focus();
    await page.keyboard.press("Enter");
    await expect(page.getByText("You have no passkeys yet.")).toBeVisible();
    await expect(page.getByRole("heading", { name: "Passkeys" })).toBeFocused();

    // The authenticator still holds it; the site no longer accepts it, and says so.
    await logOut(page);
    const refused = page.waitForResponse((r) => r.url().endsWith("/api/passkey_sign_in"));
    await page.getByRole("button", { name: "Sign in with a passkey" }).click();
    expect((await refused).status()).toBe(401);
    await expect(page.locator("#login-error")).toContainText("not accepted");
    await expect(page.getByRole("heading", { name: "Log in" })).toBeVisible();
    expect(violations).toEqual([]);
  });

  test("the user-name field's suggestions sign in with a passkey", async ({ page }) => {
    await authenticator(page);
    await addPasskey(page, "passkey-autofill", "Autofill key");
    // The form shown after logging out asks the browser for passkeys to suggest; the virtual
    // authenticator picks its one credential, as a person picking the suggestion would.
    await page.goto(`${site}/`);
    await hydrated(page);
    const signedIn = page.waitForResponse((r) => r.url().endsWith("/api/passkey_sign_in") && r.ok());
    await page.getByRole("button", { name: "Log out" }).click();
    await signedIn;
    await expect(welcome(page, "passkey-autofill")).toBeVisible();
    // This session says how it signed in.
    await page.goto(`${site}/sessions`);
    await expect(page.locator(".sessions li.current")).toContainText("with a passkey");
  });

  test("the suggestions' request is renewed before the server forgets its challenge", async ({ page }) => {
    await page.clock.install();
    await authenticator(page);
    let asked = 0;
    page.on("request", (r) => {
      if (r.url().endsWith("/api/passkey_sign_in_options")) asked++;
    });
    await page.goto(`${site}/`);
    await hydrated(page);
    await expect.poll(() => asked).toBe(1);
    await page.clock.fastForward("03:50");
    expect(asked).toBe(1);
    await page.clock.fastForward("00:20");
    await expect.poll(() => asked).toBe(2);
  });

  test("the user-name field offers passkeys, and a page on 127.0.0.1 points to where they work", async ({ page }) => {
    await page.goto(`${site}/`);
    await hydrated(page);
    await expect(page.getByLabel("Username")).toHaveAttribute("autocomplete", "username webauthn");

    await page.goto(`${baseURL}/`);
    await hydrated(page);
    await expect(page.getByRole("button", { name: /passkey/ })).toHaveCount(0);
    await expect(page.getByRole("link", { name: site })).toBeVisible();
  });
});

test.describe("passkeys without JavaScript", () => {
  test.use({ javaScriptEnabled: false });

  test("show nothing that cannot work", async ({ page }) => {
    await page.goto(`${site}/`);
    await expect(page.getByRole("heading", { name: "Log in" })).toBeVisible();
    await expect(page.getByRole("button", { name: /passkey/ })).toHaveCount(0);

    addUser("passkey-nojs", "passkey-password");
    await fillLogin(page, "passkey-nojs", "passkey-password");
    await page.getByRole("button", { name: "Log in" }).click();
    await page.goto(`${site}/account`);
    await expect(page.getByRole("heading", { name: "Passkeys" })).toBeVisible();
    await expect(page.getByText("You have no passkeys yet.")).toBeVisible();
    await expect(page.getByRole("button", { name: /passkey/ })).toHaveCount(0);
    await expect(page.getByText("Adding a passkey needs JavaScript")).toBeVisible();
  });
});
