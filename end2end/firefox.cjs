// latchkey in Firefox (Debian's firefox-esr, driven over WebDriver BiDi by puppeteer-core):
// the page hydrates, an in-place login and logout work, titles and focus follow. Playwright
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

    await page.type("#username", "user1");
    await page.type("#password", "mypassword");
    await page.click("button[type=submit]");
    await until(page, () => document.activeElement?.id === "welcome-title", "focus on the welcome heading");
    const heading = await page.$eval("#welcome-title", (h) => h.textContent);
    if (heading !== "Welcome, user1") fail(`heading: ${heading}`);
    if ((await page.title()) !== "Welcome – latchkey") fail(`title: ${await page.title()}`);

    await page.click("button[type=submit]");
    await until(page, () => document.activeElement?.id === "login-title", "focus on the login heading");
    if (errors.length) fail(`page errors: ${errors.join("; ")}`);
    console.log("Firefox: hydration, in-place login and logout, titles and focus: ok");
  } finally {
    await browser.close();
  }
})().catch((err) => {
  console.error(err.message);
  process.exit(1);
});
