// oauth.test.mjs: `pipecat cloud auth login` through Chromium: the CLI prints the authorization
// URL, the browser signs up, approves on the consent page and is redirected to the CLI's
// loopback listener, and the CLI ends with an OAuth session it can use and log out of.
import assert from "node:assert/strict";
import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, before, test } from "node:test";

import { launchBrowser, pipecat, signUp, startPipecat, startServer } from "./harness.mjs";

let browser;
before(async () => { browser = await launchBrowser(); });
after(async () => { await browser?.close(); });

// Start `pipecat cloud auth login --no-browser`; {url, done, kill}, url once it is printed.
function startLogin(server, home) {
  const run = startPipecat(server, home, ["cloud", "auth", "login", "--no-browser"],
    (err) => err.match(/(http:\/\/\S+\/oauth\/authorize\?\S+)/)?.[1] ?? null, "URL");
  return { url: run.ready, done: run.done, kill: run.kill };
}

test("auth login through Chromium: sign up, approve, the CLI stores an OAuth session", async () => {
  const server = await startServer();
  const home = mkdtempSync(join(tmpdir(), "pcc-cli-"));
  const login = startLogin(server, home);
  try {
    const context = await browser.newContext();
    const page = await context.newPage();
    await signUp(page, server, "ada@example.com");
    await page.goto(await login.url);
    await page.getByRole("button", { name: "Approve" }).click();
    await page.waitForURL(/^http:\/\/127\.0\.0\.1:840\d\/oauth_callback\?/);
    await assert.doesNotReject(page.getByText("Signed in").first().waitFor());
    const result = await login.done;
    assert.equal(result.status, 0, result.stderr);
    assert.match(result.stdout, /Authentication successful!/);

    const file = readFileSync(join(home, ".config/pipecatcloud/pipecatcloud.toml"), "utf8");
    assert.match(file, /^token = "pcc_oat_/m);
    assert.match(file, /^refresh_token = "pcc_ort_/m);
    assert.match(file, /^token_expires_at = \d+\.\d+/m);

    const whoami = pipecat(server, ["cloud", "auth", "whoami"], { home });
    assert.equal(whoami.status, 0, whoami.stderr);
    assert.match(whoami.stdout, /Auth Method: OAuth/);
    assert.match(whoami.stdout, /ada@example\.com/);

    const logout = pipecat(server, ["cloud", "auth", "logout"], { home });
    assert.equal(logout.status, 0, logout.stderr);
    assert.match(logout.stdout, /Logged out and session revoked\./);
    await context.close();
  } finally {
    login.kill();
    rmSync(home, { recursive: true, force: true });
    await server.stop();
  }
});

test("auth login through Chromium: Deny is reported and nothing is stored", async () => {
  const server = await startServer();
  const home = mkdtempSync(join(tmpdir(), "pcc-cli-"));
  const login = startLogin(server, home);
  try {
    const context = await browser.newContext();
    const page = await context.newPage();
    await signUp(page, server, "bob@example.com");
    await page.goto(await login.url);
    await page.getByRole("button", { name: "Deny" }).click();
    await page.waitForURL(/^http:\/\/127\.0\.0\.1:840\d\/oauth_callback\?/);
    const result = await login.done;
    assert.equal(result.status, 1);
    assert.match(result.stderr, /Authorization was denied\./);
    assert.throws(() => readFileSync(join(home, ".config/pipecatcloud/pipecatcloud.toml")));
    await context.close();
  } finally {
    login.kill();
    rmSync(home, { recursive: true, force: true });
    await server.stop();
  }
});
