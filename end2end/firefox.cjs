// latchkey in Firefox (Debian's firefox-esr, driven over WebDriver BiDi by puppeteer-core):
// the page hydrates, an in-place login and logout work, titles and focus follow, and the
// sessions page's lazily loaded island answers a form in place, and the login page offers
// passkeys where they work. Playwright
// drives only its own Firefox build, hence this separate, small check.
// Usage: node firefox.cjs http://127.0.0.1:PORT   (a DEV server: the demo user exists)
const puppeteer = require("puppeteer-core");

const base = process.argv[2];
const fail = (message) => {
  throw new Error(message);
};

async function until(page, predicate, what, ...args) {
  try {
    await page.waitForFunction(predicate, { timeout: 15_000 }, ...args);
  } catch (err) {
    fail(`Firefox: ${what} (${err.message})`);
  }
}

(async () => {
  const browser = await puppeteer.launch({
    browser: "firefox",
    executablePath: process.env.FIREFOX ?? "/usr/bin/firefox-esr",
    headless: true,
  });
  try {
    const page = await browser.newPage();
    const errors = [];
    page.on("pageerror", (err) => errors.push(String(err)));
    await page.goto(base + "/");
    await until(page, () => document.body.hasAttribute("data-hydrated"), "the page hydrates");
    if ((await page.title()) !== "Log in – latchkey") fail(`title: ${await page.title()}`);
    // Passkeys work on the host name: a page on 127.0.0.1 points there.
    const local = base.replace("127.0.0.1", "localhost");
    await until(
      page,
      (url) => [...document.querySelectorAll("a")].some((a) => a.textContent === url),
      "the link to where passkeys work",
      local,
    );

    await page.type("#username", "user1");
    await page.type("#password", "mypassword");
    await page.click("button[type=submit]");
    await until(page, () => document.activeElement?.id === "welcome-title", "focus on the welcome heading");
    const heading = await page.$eval("#welcome-title", (h) => h.textContent);
    if (heading !== "Welcome, user1") fail(`heading: ${heading}`);
    if ((await page.title()) !== "Welcome – latchkey") fail(`title: ${await page.title()}`);

    // The sessions and account pages' islands are separate WASM files (lazy islands): they
    // load and work.
    await page.goto(base + "/sessions");
    await until(page, () => document.body.hasAttribute("data-hydrated"), "the sessions page hydrates");
    await until(page, () => document.querySelector("ul.sessions li.current") !== null, "this session, listed");
    await page.goto(base + "/account");
    await until(page, () => document.body.hasAttribute("data-hydrated"), "the account page hydrates");
    await page.evaluate(() => (window.__stayed = true));
    await page.type("#current", "not the password");
    await page.type("#new", "a new password 2");
    await page.type("#confirm", "a new password 2");
    await page.evaluate(() =>
      [...document.querySelectorAll("button")].find((b) => b.textContent === "Change password").click(),
    );
    await until(
      page,
      () => document.querySelector("#password-error")?.textContent === "The current password is not correct.",
      "the password form's error, in place",
    );
    if (!(await page.evaluate(() => window.__stayed))) fail("the password form reloaded the page");

    await page.goto(base + "/");
    await until(page, () => document.body.hasAttribute("data-hydrated"), "the page hydrates again");
    await page.click("button[type=submit]");
    await until(page, () => document.activeElement?.id === "login-title", "focus on the login heading");

    // There, Firefox gets the passkey button and the user-name field's passkey suggestions.
    await page.goto(local + "/");
    await until(page, () => document.body.hasAttribute("data-hydrated"), "the page hydrates on localhost");
    await until(
      page,
      () => [...document.querySelectorAll("button")].some((b) => b.textContent === "Sign in with a passkey"),
      "the passkey button",
    );
    const autocomplete = await page.$eval("#username", (i) => i.getAttribute("autocomplete"));
    if (autocomplete !== "username webauthn") fail(`autocomplete: ${autocomplete}`);
    if (errors.length) fail(`page errors: ${errors.join("; ")}`);
    console.log("Firefox: hydration, in-place login and logout, titles and focus, the lazy sessions and account islands, passkey controls: ok");
  } finally {
    await browser.close();
  }
})().catch((err) => {
  console.error(err.message);
  process.exit(1);
});
