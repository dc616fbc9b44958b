// oauth.test.mjs: `pipecat cloud auth login` through Chromium: the CLI prints the authorization
// URL, the browser signs up, approves on the consent page and is redirected to the CLI's
// loopback listener, and the CLI ends with an OAuth session it can use and log out of.
import assert from "node:assert/strict";
import { spawn } from "node:child_process";
import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, before, test } from "node:test";

import { BIN_DIR, launchBrowser, pipecat, signUp, startServer } from "./harness.mjs";

const SANITIZER = ["AddressSanitizer", "runtime error:", "LeakSanitizer"];

let browser;
before(async () => { browser = await launchBrowser(); });
after(async () => { await browser?.close(); });

// Start `pipecat cloud auth login --no-browser`; resolves to {url, done} once the URL is printed.
function startLogin(server, home) {
  const env = { HOME: home, PATH: process.env.PATH, PIPECAT_API_HOST: server.url, LANG: "C.UTF-8" };
  for (const k of ["ASAN_OPTIONS", "UBSAN_OPTIONS", "LSAN_OPTIONS"])
    if (process.env[k]) env[k] = process.env[k];
  const proc = spawn(join(BIN_DIR, "pipecat"), ["cloud", "auth", "login", "--no-browser"],
    { env, cwd: home, stdio: ["ignore", "pipe", "pipe"] });
  let stdout = "", stderr = "";
  proc.stdout.setEncoding("utf8");
  proc.stderr.setEncoding("utf8");
  proc.stdout.on("data", (c) => { stdout += c; });
  const done = new Promise((ok) => proc.on("close", (status) => {
    for (const marker of SANITIZER)
      if (stderr.includes(marker)) throw new Error(`pipecat reported ${marker}:\n${stderr}`);
    ok({ status, stdout, stderr });
  }));
  const url = new Promise((ok, fail) => {
    const timer = setTimeout(() => { proc.kill(); fail(new Error(`no URL printed:\n${stderr}`)); },
      30000);
    proc.stderr.on("data", (c) => {
      stderr += c;
      const m = stderr.match(/(http:\/\/\S+\/oauth\/authorize\?\S+)/);
      if (m) { clearTimeout(timer); ok(m[1]); }
    });
  });
  return { url, done, kill: () => proc.kill() };
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
