// device.test.mjs: `pipecat cloud auth login --headless` with Chromium as the other device: the
// CLI prints a URL and a code, the signed-out browser opens the URL that carries the code, signs
// in, comes back to /device with the code filled in, continues to the consent step and approves;
// the waiting CLI then stores an OAuth session that `auth whoami` uses. Then "Sign out
// everywhere" on the tokens page ends that CLI login and the browser's session.
import assert from "node:assert/strict";
import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, before, test } from "node:test";

import { launchBrowser, pipecat, signUp, startPipecat, startServer } from "./harness.mjs";

let browser;
before(async () => { browser = await launchBrowser(); });
after(async () => { await browser?.close(); });

// Start `pipecat cloud auth login --headless`; {printed: {code, complete}, done, kill}.
function startHeadless(server, home) {
  const run = startPipecat(server, home, ["cloud", "auth", "login", "--headless"], (err) => {
    const code = err.match(/^\s+([A-Z]{4}-[A-Z]{4})$/m);
    const complete = err.match(/(http:\/\/\S+\/device\?user_code=\S+)/);
    if (code && complete && err.includes("Waiting for approval"))
      return { code: code[1], complete: complete[1] };
    return null;
  }, "code");
  return { printed: run.ready, done: run.done, kill: run.kill };
}

test("auth login --headless: Chromium signs in, enters the code, approves; the CLI signs in",
  async () => {
    const server = await startServer();
    const home = mkdtempSync(join(tmpdir(), "pcc-cli-"));
    const login = startHeadless(server, home);
    try {
      // An account, then a fresh browser that is not signed in.
      const setup = await browser.newContext();
      await signUp(await setup.newPage(), server, "dev@example.com");
      await setup.close();
      const context = await browser.newContext();
      const page = await context.newPage();

      const { code, complete } = await login.printed;
      await page.goto(complete);
      await page.waitForURL(`${server.url}/signin`);
      await page.getByLabel("Email").fill("dev@example.com");
      await page.getByLabel("Password").fill("correct horse battery");
      await page.getByRole("button", { name: "Sign in" }).click();
      await page.waitForURL(`${server.url}/device?user_code=${code}`);
      assert.equal(await page.getByLabel("Code").inputValue(), code);
      await page.getByRole("button", { name: "Continue" }).click();

      await page.getByRole("heading", { name: "Authorize pipecat CLI" }).waitFor();
      assert.equal((await page.locator(".user-code").textContent()).trim(), code);
      await assert.doesNotReject(page.getByText("dev@example.com").first().waitFor());
      await page.getByRole("button", { name: "Approve" }).click();
      await page.getByRole("heading", { name: "Device connected" }).waitFor();

      const result = await login.done;
      assert.equal(result.status, 0, result.stderr);
      assert.match(result.stdout, /Authentication successful!/);
      const file = readFileSync(join(home, ".config/pipecatcloud/pipecatcloud.toml"), "utf8");
      assert.match(file, /^token = "pcc_oat_/m);
      assert.match(file, /^refresh_token = "pcc_ort_/m);
      const whoami = pipecat(server, ["cloud", "auth", "whoami"], { home });
      assert.equal(whoami.status, 0, whoami.stderr);
      assert.match(whoami.stdout, /Auth Method: OAuth/);
      assert.match(whoami.stdout, /dev@example\.com/);

      // The login is listed; "Sign out everywhere" ends it and this browser's session.
      await page.goto(`${server.url}/account/tokens`);
      await assert.doesNotReject(page.locator("#oauth-logins tbody tr").first().waitFor());
      await page.getByRole("button", { name: "Sign out everywhere" }).click();
      await page.waitForURL(`${server.url}/signin`);
      await page.goto(`${server.url}/account/tokens`);
      await page.waitForURL(`${server.url}/signin`);
      const after = pipecat(server, ["cloud", "auth", "whoami"], { home });
      assert.notEqual(after.status, 0, after.stdout);
      await context.close();
    } finally {
      login.kill();
      rmSync(home, { recursive: true, force: true });
      await server.stop();
    }
  });

test("/device: a wrong code gets a clear message and the form again", async () => {
  const server = await startServer();
  try {
    const context = await browser.newContext();
    const page = await context.newPage();
    await signUp(page, server, "eve@example.com");
    await page.goto(`${server.url}/device`);
    await page.getByLabel("Code").fill("bbbb-bbbb");
    await page.getByRole("button", { name: "Continue" }).click();
    await assert.doesNotReject(page.getByText("That code is not valid.").waitFor());
    assert.equal(await page.getByLabel("Code").inputValue(), "bbbb-bbbb");
    await context.close();
  } finally {
    await server.stop();
  }
});
