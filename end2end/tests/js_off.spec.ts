import { expect, test } from "@playwright/test";
import { DEMO, fillLogin, welcome } from "./helpers";

test.describe("without JavaScript", () => {
  test.use({ javaScriptEnabled: false });

  test("login, reload and logout work as plain form posts", async ({ page }) => {
    await page.goto("/");
    await fillLogin(page, DEMO.username, DEMO.password);
    await Promise.all([page.waitForURL("/"), page.getByRole("button", { name: "Log in" }).click()]);
    await expect(welcome(page, "user1")).toBeVisible();

    await page.reload();
    await expect(welcome(page, "user1")).toBeVisible();

    await page.getByRole("button", { name: "Log out" }).click();
    await expect(page.getByRole("heading", { name: "Log in" })).toBeVisible();
    expect((await page.context().cookies()).map((c) => c.name)).not.toContain("latchkey_session");
  });

  test("a wrong password shows the error after the redirect", async ({ page }) => {
    await page.goto("/");
    await fillLogin(page, DEMO.username, "wrong password");
    await page.getByRole("button", { name: "Log in" }).click();
    await expect(page.locator("#login-error")).toHaveText("Invalid username or password");
    await expect(page.getByRole("heading", { name: "Log in" })).toBeVisible();
  });
});
