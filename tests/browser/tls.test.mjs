// tls.test.mjs: the dashboard over HTTPS (`pccd serve --tls-cert --tls-key`) in Chromium: a
// throwaway CA and server certificate made here with the openssl tool; signing up gives Secure
// cookies, the forms' same-origin check accepts the https:// origin, and a token made there
// works from the CLI over https with the CA in SSL_CERT_FILE.
import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import { chmodSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, before, test } from "node:test";

import { createToken, launchBrowser, pipecat, signUp, startServer } from "./harness.mjs";

let dir, server, browser;

function openssl(...args) {
  const p = spawnSync("openssl", args, { cwd: dir, encoding: "utf8" });
  if (p.status !== 0) throw new Error(`openssl ${args[0]} failed: ${p.stderr}`);
}

before(async () => {
  dir = mkdtempSync(join(tmpdir(), "pcc-tls-"));
  openssl("req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:P-256", "-nodes",
    "-keyout", "ca.key", "-out", "ca.pem", "-days", "2", "-subj", "/CN=pcc browser test CA",
    "-addext", "basicConstraints=critical,CA:TRUE", "-addext", "keyUsage=critical,keyCertSign");
  openssl("req", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:P-256", "-nodes",
    "-keyout", "server.key", "-out", "server.csr", "-subj", "/CN=127.0.0.1");
  writeFileSync(join(dir, "ext.cnf"), "subjectAltName=IP:127.0.0.1\nextendedKeyUsage=serverAuth\n");
  openssl("x509", "-req", "-in", "server.csr", "-CA", "ca.pem", "-CAkey", "ca.key",
    "-CAcreateserial", "-days", "2", "-extfile", "ext.cnf", "-out", "server.pem");
  chmodSync(join(dir, "server.key"), 0o600);
  server = await startServer({
    serveArgs: ["--tls-cert", join(dir, "server.pem"), "--tls-key", join(dir, "server.key")],
  });
  browser = await launchBrowser();
});

after(async () => {
  await browser?.close();
  await server?.stop();
  if (dir) rmSync(dir, { recursive: true, force: true });
});

test("the dashboard over https: Secure cookies, forms accepted, the token works from the CLI", async () => {
  assert.match(server.url, /^https:\/\/127\.0\.0\.1:\d+$/);
  // The test CA is not in Chromium's store; this context alone skips the check.
  const context = await browser.newContext({ ignoreHTTPSErrors: true });
  const page = await context.newPage();
  const first = await page.goto(`${server.url}/signin`);
  assert.equal(first.headers()["strict-transport-security"], "max-age=31536000");
  await signUp(page, server, "tls@example.com");
  const cookies = await context.cookies(server.url);
  const session = cookies.find((c) => c.name === "pcc_session");
  assert.ok(session, JSON.stringify(cookies));
  assert.equal(session.secure, true);
  assert.equal(session.httpOnly, true);
  const token = await createToken(page, server, "over-tls");
  assert.match(token, /^pcc_pat_/);
  await context.close();

  const who = pipecat(server, ["cloud", "auth", "whoami"],
    { token, env: { SSL_CERT_FILE: join(dir, "ca.pem") } });
  assert.equal(who.status, 0, who.stderr);
  assert.match(who.stdout, /tls@example\.com/);
  const refused = pipecat(server, ["cloud", "auth", "whoami"], { token });
  assert.equal(refused.status, 1);
  assert.match(refused.stderr, /the TLS certificate of 127\.0\.0\.1 could not be verified/);
});
