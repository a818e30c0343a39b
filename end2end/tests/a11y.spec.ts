import AxeBuilder from "@axe-core/playwright";
import { expect, Page, test } from "@playwright/test";
import { addUser, fillLogin, hydrated, welcome } from "./helpers";

// WCAG 2.0–2.2 at levels A and AA, plus axe's best practices.
const TAGS = ["wcag2a", "wcag2aa", "wcag21a", "wcag21aa", "wcag22a", "wcag22aa", "best-practice"];

async function expectNoAxeViolations(page: Page) {
  const results = await new AxeBuilder({ page }).withTags(TAGS).analyze();
  const found = results.violations.map(
    (v) => `${v.id} (${v.impact}): ${v.nodes.map((n) => n.target.join(" ")).join(", ")}`,
  );
  expect(found).toEqual([]);
}

/**
 * The lowest contrast between each visible button's text and its background-image gradient,
 * sampled across the part of the button the text covers (axe cannot see through gradients).
 */
async function lowestGradientContrast(page: Page): Promise<number> {
  return page.evaluate(() => {
    const channel = (c: number) => {
      const s = c / 255;
      return s <= 0.04045 ? s / 12.92 : ((s + 0.055) / 1.055) ** 2.4;
    };
    const luminance = ([r, g, b]: number[]) => 0.2126 * channel(r) + 0.7152 * channel(g) + 0.0722 * channel(b);
    const contrast = (a: number[], b: number[]) => {
      const [hi, lo] = [luminance(a), luminance(b)].sort((x, y) => y - x);
      return (hi + 0.05) / (lo + 0.05);
    };
    const rgb = (text: string) => text.split(",").map((n) => parseFloat(n));
    let lowest = Infinity;
    for (const button of Array.from(document.querySelectorAll("button"))) {
      const box = button.getBoundingClientRect();
      if (box.width === 0) continue;
      const style = getComputedStyle(button);
      const stops = [...style.backgroundImage.matchAll(/rgba?\(([^)]+)\)/g)].map((m) => rgb(m[1]));
      // A plain (outlined) button has no gradient: axe checks its contrast itself.
      if (stops.length === 0 && style.backgroundImage === "none") continue;
      if (stops.length !== 2) throw new Error(`unexpected background: ${style.backgroundImage}`);
      const text = rgb(style.color.replace(/^rgba?\(|\)$/g, ""));
      const range = document.createRange();
      range.selectNodeContents(button);
      const covered = range.getBoundingClientRect();
      for (let i = 0; i <= 50; i++) {
        const x = covered.left + (covered.width * i) / 50;
        const t = Math.min(1, Math.max(0, (x - box.left) / box.width));
        const under = stops[0].map((c, k) => c + (stops[1][k] - c) * t);
        lowest = Math.min(lowest, contrast(text, under));
      }
    }
    return lowest;
  });
}

const freshUser = (tag: string) => `a11y-${tag}-${Date.now()}-${Math.floor(Math.random() * 1e6)}`;

for (const colorScheme of ["light", "dark"] as const) {
  for (const javaScriptEnabled of [true, false]) {
    const mode = `${colorScheme}, JavaScript ${javaScriptEnabled ? "on" : "off"}`;
    test.describe(mode, () => {
      test.use({ colorScheme });
      // axe itself is JavaScript, which a context with JavaScript disabled will not run; so
      // "off" here is the front end's files refused: the page stays exactly what the server
      // sent, and its forms post natively, as without JavaScript (js_off.spec.ts and the
      // test at the end of this file run with JavaScript really disabled).
      if (!javaScriptEnabled) {
        test.beforeEach(async ({ page }) => {
          await page.route(/\/pkg\/.*\.(js|wasm)$/, (route) => route.abort());
        });
      }

      test("every page state has no axe violations, its own title and readable buttons", async ({ page }) => {
        const user = freshUser(colorScheme);
        addUser(user, "a11y password 1");
        const settle = async () => {
          if (javaScriptEnabled) await hydrated(page);
        };

        await page.goto("/");
        await settle();
        await expect(page).toHaveTitle("Log in – latchkey");
        await expectNoAxeViolations(page);
        expect(await lowestGradientContrast(page)).toBeGreaterThanOrEqual(4.5);

        await fillLogin(page, user, "wrong password");
        await page.getByRole("button", { name: "Log in" }).click();
        await expect(page.locator("#login-error")).toHaveText("Invalid username or password");
        await expect(page).toHaveTitle("Error: Log in – latchkey");
        await expectNoAxeViolations(page);

        await fillLogin(page, user, "a11y password 1");
        await page.getByRole("button", { name: "Log in" }).click();
        await expect(welcome(page, user)).toBeVisible();
        await expect(page).toHaveTitle("Welcome – latchkey");
        await expectNoAxeViolations(page);
        expect(await lowestGradientContrast(page)).toBeGreaterThanOrEqual(4.5);

        await page.goto("/sessions");
        await settle();
        await expect(page.getByRole("heading", { name: "Your sessions" })).toBeVisible();
        await expect(page).toHaveTitle("Your sessions – latchkey");
        await expectNoAxeViolations(page);
        expect(await lowestGradientContrast(page)).toBeGreaterThanOrEqual(4.5);

        await page.goto("/account");
        await settle();
        await expect(page.getByRole("heading", { name: "Passkeys" })).toBeVisible();
        await expect(page).toHaveTitle("Your account – latchkey");
        await expectNoAxeViolations(page);
        expect(await lowestGradientContrast(page)).toBeGreaterThanOrEqual(4.5);

        await page.goto("/no-such-page");
        await expect(page).toHaveTitle("Page not found – latchkey");
        await expectNoAxeViolations(page);

        await page.goto("/");
        await settle();
        await page.getByRole("button", { name: "Log out" }).click();
        await expect(page.getByRole("heading", { name: "Log in" })).toBeVisible();
        await page.goto("/sessions");
        await expect(page.getByText("You are not logged in.")).toBeVisible();
        await expect(page).toHaveTitle("Not logged in – latchkey");
        await expectNoAxeViolations(page);
        await page.goto("/account");
        await expect(page.getByText("You are not logged in.")).toBeVisible();
        await expect(page).toHaveTitle("Not logged in – latchkey");
        await expectNoAxeViolations(page);
      });
    });
  }
}

test.describe("with JavaScript", () => {
  test("focus lands on the new view's heading after an in-place login and logout", async ({ page }) => {
    const user = freshUser("focus");
    addUser(user, "a11y password 1");
    await page.goto("/");
    await hydrated(page);
    await fillLogin(page, user, "a11y password 1");
    await page.getByRole("button", { name: "Log in" }).click();
    await expect(welcome(page, user)).toBeFocused();
    await expect(page).toHaveTitle("Welcome – latchkey");
    await page.getByRole("button", { name: "Log out" }).click();
    await expect(page.getByRole("heading", { name: "Log in" })).toBeFocused();
    await expect(page).toHaveTitle("Log in – latchkey");
  });

  test("focus lands on the list's heading after a session is revoked or all others end", async ({ browser }) => {
    const user = freshUser("revoke");
    addUser(user, "a11y password 1");
    const [here, there] = [await browser.newPage(), await browser.newPage()];
    for (const p of [here, there]) {
      await p.goto("/");
      await hydrated(p);
      await fillLogin(p, user, "a11y password 1");
      await p.getByRole("button", { name: "Log in" }).click();
      await expect(welcome(p, user)).toBeVisible();
    }
    await here.goto("/sessions");
    await hydrated(here);
    await here.getByRole("button", { name: /^Revoke the session on / }).click();
    await expect(here.getByRole("button", { name: /^Revoke/ })).toHaveCount(0);
    await expect(here.getByRole("heading", { name: "Your sessions" })).toBeFocused();

    // "Log out everywhere else" comes back disabled (nobody else left): focus must not fall
    // to <body> either.
    await there.goto("/");
    await hydrated(there);
    await fillLogin(there, user, "a11y password 1");
    await there.getByRole("button", { name: "Log in" }).click();
    await expect(welcome(there, user)).toBeVisible();
    await here.reload();
    await hydrated(here);
    await here.getByRole("button", { name: "Log out everywhere else" }).click();
    await expect(here.getByText("Ended 1 other session(s).")).toBeVisible();
    await expect(here.getByRole("heading", { name: "Your sessions" })).toBeFocused();
    await Promise.all([here.close(), there.close()]);
  });

  test("a form shown after an in-place logout starts clean, not with a failed plain-form login's name", async ({ page, baseURL }) => {
    const user = freshUser("clean");
    addUser(user, "a11y password 1");
    // What a browser without JavaScript does after a failed login: the redirect, with the
    // typed name carried in a cookie to the form shown next.
    const res = await page.request.post("/api/login", {
      form: { username: "someone-else", password: "wrong password" },
      headers: { accept: "text/html", referer: `${baseURL}/`, origin: baseURL! },
      maxRedirects: 0,
    });
    await page.goto(res.headers()["location"]);
    await hydrated(page);
    await expect(page.getByLabel("Username")).toHaveValue("someone-else");
    await fillLogin(page, user, "a11y password 1");
    await page.getByRole("button", { name: "Log in" }).click();
    await expect(welcome(page, user)).toBeVisible();
    await page.getByRole("button", { name: "Log out" }).click();
    await expect(page.getByRole("heading", { name: "Log in" })).toBeFocused();
    await expect(page.getByLabel("Username")).toHaveValue("");
    await expect(page.getByLabel("Username")).not.toHaveAttribute("autofocus", /.*/);
  });

  test("the same error twice is announced twice (the live region changes in between)", async ({ page }) => {
    await page.goto("/");
    await hydrated(page);
    // Every text the live region shows, in order.
    await page.evaluate(() => {
      const region = document.getElementById("login-error")!;
      const seen: string[] = ((window as any).__shown = []);
      new MutationObserver(() => {
        const text = region.textContent ?? "";
        if (seen[seen.length - 1] !== text) seen.push(text);
      }).observe(region, { childList: true, characterData: true, subtree: true });
    });
    const user = freshUser("repeat");
    for (let i = 0; i < 2; i++) {
      await fillLogin(page, user, "wrong password");
      await page.getByRole("button", { name: "Log in" }).click();
      await expect.poll(() => page.evaluate(() => (window as any).__shown.filter((t: string) => t).length)).toBe(i + 1);
    }
    const error = "Invalid username or password";
    expect(await page.evaluate(() => (window as any).__shown)).toEqual([error, "", error]);
  });
});

test.describe("without JavaScript", () => {
  test.use({ javaScriptEnabled: false });

  test("a failed login comes back with the user name kept, focused, and the error as its description", async ({ page }) => {
    const user = freshUser("nojs");
    await page.goto("/");
    await fillLogin(page, user, "wrong password");
    await page.getByRole("button", { name: "Log in" }).click();
    await expect(page).toHaveTitle("Error: Log in – latchkey");
    const field = page.getByLabel("Username");
    await expect(field).toHaveValue(user);
    await expect(field).toBeFocused();
    await expect(field).toHaveAccessibleDescription("Invalid username or password");
    await expect(page.getByLabel("Password")).toHaveValue("");
    // The name was carried in a one-minute cookie, read once and removed.
    expect((await page.context().cookies()).map((c) => c.name)).not.toContain("latchkey_typed_name");
  });
});
