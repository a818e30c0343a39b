// The front end each page actually loads, as the browser receives it: every /pkg script and
// WASM file a cold load of the page fetches (its brotli-encoded body size as sent), once the
// page is interactive and the network is idle (lazily loaded islands included).
// Pages are loaded on `localhost` (where passkeys work: the login page as it ships).
// Usage: node bench/pages.cjs BASE COOKIE; prints JSON {login, sessions, account}.
const path = require("node:path");
const { chromium } = require(path.join(__dirname, "../end2end/node_modules/playwright-core"));

async function load(browser, url, cookie) {
  const context = await browser.newContext({ extraHTTPHeaders: cookie ? { Cookie: cookie } : {} });
  const page = await context.newPage();
  const pending = [];
  page.on("requestfinished", (request) => {
    const name = new URL(request.url()).pathname;
    if (!name.startsWith("/pkg/") || !/\.(js|wasm)$/.test(name)) return;
    pending.push((async () => {
      const response = await request.response();
      const sizes = await request.sizes();
      return { name: name.slice(5), encoding: (await response.allHeaders())["content-encoding"] ?? "identity", bytes: sizes.responseBodySize };
    })());
  });
  await page.goto(url, { waitUntil: "networkidle" });
  await page.locator("body[data-hydrated]").waitFor({ state: "attached", timeout: 10000 });
  await page.waitForLoadState("networkidle");
  const files = await Promise.all(pending);
  await context.close();
  files.sort((a, b) => a.name.localeCompare(b.name));
  return { url, total: files.reduce((n, f) => n + f.bytes, 0), files };
}

(async () => {
  const [given, cookie] = process.argv.slice(2);
  const base = given.replace("127.0.0.1", "localhost");
  const browser = await chromium.launch({
    executablePath: process.env.CHROMIUM ?? "/usr/bin/chromium",
    args: ["--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-component-update", "--no-first-run", "--disable-sync"],
  });
  const out = {
    login: await load(browser, base + "/"),
    sessions: await load(browser, base + "/sessions", cookie),
    account: await load(browser, base + "/account", cookie),
  };
  await browser.close();
  console.log(JSON.stringify(out));
})();
