// screenshots.mjs: `make screenshots`: the dashboard's pictures in docs/img/, taken from a real
// pccd in Debian's chromium (the browser tests' harness): sign-in, the tokens page with a token
// just created, organizations, and the tokens page at a phone's size. Not a test (its name does
// not end in .test.mjs, so `node --test tests/browser/` leaves it alone).
import { mkdirSync } from "node:fs";
import { join, resolve } from "node:path";

import { launchBrowser, signUp, startServer } from "./harness.mjs";

const OUT = resolve(import.meta.dirname, "../../docs/img");
const DESKTOP = { width: 1280, height: 860 };
const PHONE = { width: 390, height: 844 };

mkdirSync(OUT, { recursive: true });
const server = await startServer();
const browser = await launchBrowser();
try {
  const desktop = await browser.newContext({ viewport: DESKTOP, deviceScaleFactor: 1 });
  const page = await desktop.newPage();
  await page.goto(server.url + "/signin");
  await page.screenshot({ path: join(OUT, "signin.png") });

  await signUp(page, server, "ada@example.com");
  await page.goto(server.url + "/orgs");
  await page.getByLabel(/^Short name/).fill("analytical-engines");
  await page.getByLabel("Display name").fill("Analytical Engines");
  await page.getByRole("button", { name: "Create organization" }).click();
  await page.waitForURL(server.url + "/orgs");
  await page.screenshot({ path: join(OUT, "organizations.png"), fullPage: true });

  // An older token, then a new one bound to the organization with an expiry.
  await page.goto(server.url + "/account/tokens");
  await page.getByLabel(/^Name/).fill("laptop");
  await page.getByRole("button", { name: "Create token" }).click();
  await page.locator("#new-token").waitFor();
  await page.goto(server.url + "/account/tokens");
  await page.getByLabel(/^Name/).fill("github-deploy");
  await page.getByLabel("Scope").selectOption("deploy");
  await page.getByLabel("Expiry", { exact: true }).selectOption("90");
  await page.getByLabel("Organization").selectOption("analytical-engines");
  await page.getByRole("button", { name: "Create token" }).click();
  await page.locator("#new-token").waitFor();
  await page.screenshot({ path: join(OUT, "tokens.png"), fullPage: true });

  // The same page on a phone, in the same session.
  const cookies = await desktop.cookies();
  const phone = await browser.newContext({ viewport: PHONE, deviceScaleFactor: 2, isMobile: true,
    hasTouch: true });
  await phone.addCookies(cookies);
  const p2 = await phone.newPage();
  await p2.goto(server.url + "/account/tokens");
  await p2.screenshot({ path: join(OUT, "tokens-phone.png"), fullPage: true });
  await phone.close();
  await desktop.close();
  console.log(`screenshots written to ${OUT}`);
} finally {
  await browser.close();
  await server.stop();
}
