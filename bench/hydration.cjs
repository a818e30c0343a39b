// Time to interactive of the login page in headless Chromium: the hydrate() entry point stamps
// <body data-hydrated="ms since navigation start">; this loads the page N times (fresh context,
// cold cache each time) and prints the times as JSON. Usage: node bench/hydration.cjs URL [N]
const path = require("node:path");
const { chromium } = require(path.join(__dirname, "../end2end/node_modules/playwright-core"));

(async () => {
  const url = process.argv[2];
  const runs = Number(process.argv[3] ?? 10);
  const browser = await chromium.launch({
    executablePath: process.env.CHROMIUM ?? "/usr/bin/chromium",
    args: ["--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-component-update", "--no-first-run", "--disable-sync"],
  });
  const times = [];
  for (let i = 0; i < runs; i++) {
    const context = await browser.newContext();
    const page = await context.newPage();
    await page.goto(url);
    const stamp = await page.locator("body[data-hydrated]").getAttribute("data-hydrated", { timeout: 10000 });
    times.push(Number(stamp));
    await context.close();
  }
  await browser.close();
  times.sort((a, b) => a - b);
  console.log(JSON.stringify({ runs, median: times[Math.floor(runs / 2)], max: times[runs - 1], times }));
})();
