import { expect, test } from "@playwright/test";
import { addUser, cspViolations, DEMO, fillLogin, hydrated, screenshot, welcome } from "./helpers";

test.describe("with JavaScript", () => {
  test("login swaps to the welcome in place, survives a reload, logout swaps back", async ({ page }) => {
    const violations = cspViolations(page);
    await page.goto("/");
    await hydrated(page);
    await expect(page.getByRole("heading", { name: "Log in" })).toBeVisible();
    await expect(page.getByText("Development mode: log in as user1")).toBeVisible();
    await screenshot(page, "login");

    // A marker on window survives only if the page is not reloaded.
    await page.evaluate(() => ((window as any).__noReload = true));
    await fillLogin(page, DEMO.username, DEMO.password);
    await page.getByRole("button", { name: "Log in" }).click();
    await expect(welcome(page, "user1")).toBeVisible();
    expect(await page.evaluate(() => (window as any).__noReload)).toBe(true);
    await screenshot(page, "welcome");

    // The cookie is HttpOnly: scripts cannot read it.
    expect(await page.evaluate(() => document.cookie)).not.toContain("latchkey_session");

    await page.reload();
    await hydrated(page);
    await expect(welcome(page, "user1")).toBeVisible();

    await page.evaluate(() => ((window as any).__noReload = true));
    await page.getByRole("button", { name: "Log out" }).click();
    await expect(page.getByRole("heading", { name: "Log in" })).toBeVisible();
    expect(await page.evaluate(() => (window as any).__noReload)).toBe(true);
    expect((await page.context().cookies()).map((c) => c.name)).not.toContain("latchkey_session");

    await page.reload();
    await expect(page.getByRole("heading", { name: "Log in" })).toBeVisible();
    // Hydration, server calls and styles all ran under the strict CSP.
    expect(violations).toEqual([]);
  });

  test("shows a pending state while the login runs", async ({ page }) => {
    await page.goto("/");
    await hydrated(page);
    // Hold the request until the pending state has been seen (no timing guesswork).
    let release!: () => void;
    const held = new Promise<void>((r) => (release = r));
    await page.route("**/api/login", async (route) => {
      await held;
      await route.continue();
    });
    await fillLogin(page, DEMO.username, DEMO.password);
    await page.getByRole("button", { name: "Log in" }).click();
    const pending = page.getByRole("button", { name: "Logging in…" });
    await expect(pending).toBeVisible();
    // aria-disabled, not disabled: a disabled button would drop keyboard focus to <body>.
    await expect(pending).toHaveAttribute("aria-disabled", "true");
    await expect(pending).toBeFocused();
    release();
    await expect(welcome(page, "user1")).toBeVisible();
  });

  test("a login the network refuses, or a proxy answers with its own page, says so and keeps the form", async ({ page }) => {
    await page.goto("/");
    await hydrated(page);
    await page.evaluate(() => ((window as any).__noReload = true));
    const error = page.locator("#login-error");
    // The connection refused (the network went away), then a proxy's error page, not JSON.
    const answers = [
      (route: any) => route.abort("connectionrefused"),
      (route: any) => route.fulfill({ status: 502, contentType: "text/html", body: "<h1>Bad Gateway</h1>" }),
    ];
    for (const answer of answers) {
      await page.route("**/api/login", answer);
      await fillLogin(page, DEMO.username, DEMO.password);
      await page.getByRole("button", { name: "Log in" }).click();
      await expect(error).toHaveText("Could not reach the server. Please try again.");
      await expect(page.getByLabel("Username")).toHaveValue(DEMO.username);
      await page.unroute("**/api/login");
    }
    // The same form then logs in.
    await page.getByRole("button", { name: "Log in" }).click();
    await expect(welcome(page, "user1")).toBeVisible();
    expect(await page.evaluate(() => (window as any).__noReload)).toBe(true);
  });

  test("a password with the characters form encoding must escape logs in, in place", async ({ page }) => {
    // The island form-encodes the fields itself: each of these must reach the server intact.
    const password = "a&b=c+d%20e f ü 😀 ?#[]";
    const user = `encoded-${Date.now()}`;
    addUser(user, password);
    await page.goto("/");
    await hydrated(page);
    await page.evaluate(() => ((window as any).__noReload = true));
    await fillLogin(page, user, password);
    await page.getByRole("button", { name: "Log in" }).click();
    await expect(welcome(page, user)).toBeVisible();
    expect(await page.evaluate(() => (window as any).__noReload)).toBe(true);
  });

  test("a wrong password shows the error in the live region and keeps the form", async ({ page }) => {
    await page.goto("/");
    await hydrated(page);
    await page.evaluate(() => ((window as any).__noReload = true));
    await fillLogin(page, DEMO.username, "wrong password");
    await page.getByRole("button", { name: "Log in" }).click();
    const error = page.locator("#login-error");
    await expect(error).toHaveText("Invalid username or password");
    await expect(error).toHaveAttribute("aria-live", "assertive");
    await expect(page.getByLabel("Username")).toHaveAttribute("aria-invalid", "true");
    expect(await page.evaluate(() => (window as any).__noReload)).toBe(true);
    expect((await page.context().cookies()).map((c) => c.name)).not.toContain("latchkey_session");
  });

  test("an error a plain-form post brought back is shown once, then dropped from the address", async ({ page, baseURL }) => {
    const user = `redirected-${Date.now()}-${Math.floor(Math.random() * 1e6)}`;
    addUser(user, "e2e password 1");
    // What a browser without JavaScript gets after a failed login: a redirect carrying the error.
    const res = await page.request.post("/api/login", {
      form: { username: user, password: "wrong password" },
      headers: { accept: "text/html", referer: `${baseURL}/`, origin: baseURL! },
      maxRedirects: 0,
    });
    expect(res.status()).toBe(302);
    const location = res.headers()["location"];
    expect(location).toContain("__err=");

    await page.goto(location);
    await hydrated(page);
    await expect(page.locator("#login-error")).toHaveText("Invalid username or password");
    await expect(page).toHaveURL(`${baseURL}/`);
    await page.reload();
    await hydrated(page);
    await expect(page.getByRole("heading", { name: "Log in" })).toBeVisible();
    await expect(page.locator("#login-error")).toHaveText("");
  });

  test("the form is usable from the keyboard", async ({ page }) => {
    await page.goto("/");
    await hydrated(page);
    await page.getByLabel("Username").focus();
    await page.keyboard.type(DEMO.username);
    await page.keyboard.press("Tab");
    await page.keyboard.type(DEMO.password);
    await page.keyboard.press("Enter");
    await expect(welcome(page, "user1")).toBeVisible();
  });
});
