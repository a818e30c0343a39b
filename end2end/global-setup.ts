import { baseURL } from "./playwright.config";

// cargo-leptos starts the server and the tests at the same time: wait until it answers.
export default async function globalSetup() {
  const deadline = Date.now() + 120_000;
  let last: unknown;
  while (Date.now() < deadline) {
    try {
      const res = await fetch(baseURL);
      if (res.ok) return;
      last = `HTTP ${res.status}`;
    } catch (err) {
      last = err;
    }
    await new Promise((r) => setTimeout(r, 250));
  }
  throw new Error(`server at ${baseURL} did not come up: ${last}`);
}
