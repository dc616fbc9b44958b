// harness.mjs: what the browser tests share: a real `pccd serve` on a free loopback port with a
// fresh data directory, Debian's /usr/bin/chromium driven by playwright-core (never a
// downloaded browser), and the real `pipecat` CLI with its own HOME.
import { spawn, spawnSync } from "node:child_process";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import { chromium } from "playwright-core";

const REPO = resolve(import.meta.dirname, "../..");
export const BIN_DIR = resolve(process.env.PCC_BIN_DIR || join(REPO, "build"));
export const CHROMIUM = process.env.PCC_CHROMIUM || "/usr/bin/chromium";
const SANITIZER = ["AddressSanitizer", "runtime error:", "LeakSanitizer"];
const FULL_TOKEN = /pcc_pat_[0-9A-Za-z]{38}/;

// Start pccd on its own data directory; resolves to {url, stop(), admin(), log()}. serveArgs:
// more `pccd serve` options (e.g. --tls-cert/--tls-key: the url is then https://).
export async function startServer({ signup = "open", serveArgs = [] } = {}) {
  const dir = mkdtempSync(join(tmpdir(), "pcc-browser-"));
  const data = join(dir, "d");
  const env = Object.fromEntries(Object.entries(process.env).filter(([k]) => !k.startsWith("PCCD_")));
  const admin = (...args) => {
    const p = spawnSync(join(BIN_DIR, "pccd"), [...args, "--data", data], { env, encoding: "utf8" });
    if (p.status !== 0) throw new Error(`pccd ${args.join(" ")} exited ${p.status}: ${p.stderr}`);
    return p;
  };
  admin("init");
  const proc = spawn(join(BIN_DIR, "pccd"),
    ["serve", "--data", data, "--listen", "127.0.0.1:0", "--signup", signup, ...serveArgs],
    { env, stdio: ["ignore", "ignore", "pipe"] });
  let log = "";
  const url = await new Promise((ok, fail) => {
    const timer = setTimeout(() => fail(new Error(`pccd did not start:\n${log}`)), 30000);
    proc.stderr.setEncoding("utf8");
    proc.stderr.on("data", (chunk) => {
      log += chunk;
      const m = log.match(/listening on (https?:\/\/127\.0\.0\.1:\d+)/);
      if (m) { clearTimeout(timer); ok(m[1]); }
    });
    proc.on("exit", (code) => { clearTimeout(timer); fail(new Error(`pccd exited ${code}:\n${log}`)); });
  });
  return {
    url, data, admin,
    log: () => log,
    async stop() {
      const exited = new Promise((ok) => proc.on("exit", (code, signal) => ok(code ?? signal)));
      proc.kill("SIGTERM");
      const code = await exited;
      rmSync(dir, { recursive: true, force: true });
      for (const marker of SANITIZER)
        if (log.includes(marker)) throw new Error(`pccd reported ${marker}:\n${log.slice(-4000)}`);
      if (FULL_TOKEN.test(log)) throw new Error("pccd logged a full token");
      if (code !== 0) throw new Error(`pccd exited ${code} on SIGTERM:\n${log.slice(-4000)}`);
    },
  };
}

export async function launchBrowser() {
  return chromium.launch({
    executablePath: CHROMIUM,
    headless: true,
    args: ["--no-sandbox", "--disable-gpu", "--disable-background-networking",
      "--disable-component-update", "--disable-sync", "--no-first-run",
      "--disable-dev-shm-usage"],
  });
}

// The environment `pipecat` runs in: only HOME, PATH, the server and the sanitizers' options.
function cliEnv(server, home) {
  const env = { HOME: home, PATH: process.env.PATH, PIPECAT_API_HOST: server.url, LANG: "C.UTF-8" };
  for (const k of ["ASAN_OPTIONS", "UBSAN_OPTIONS", "LSAN_OPTIONS"])
    if (process.env[k]) env[k] = process.env[k];
  return env;
}

// Start `pipecat ARGS` in the background (a login that waits for the browser). ready(stderr)
// returns what the test waits for once the CLI has printed it, or null until then. Returns
// {ready: a promise of that value (failing after 30 s), done: a promise of {status, stdout,
// stderr} at exit, kill}.
export function startPipecat(server, home, args, ready, what) {
  const proc = spawn(join(BIN_DIR, "pipecat"), args,
    { env: cliEnv(server, home), cwd: home, stdio: ["ignore", "pipe", "pipe"] });
  let stdout = "", stderr = "";
  proc.stdout.setEncoding("utf8");
  proc.stderr.setEncoding("utf8");
  proc.stdout.on("data", (c) => { stdout += c; });
  const done = new Promise((ok) => proc.on("close", (status) => {
    for (const marker of SANITIZER)
      if (stderr.includes(marker)) throw new Error(`pipecat reported ${marker}:\n${stderr}`);
    ok({ status, stdout, stderr });
  }));
  const printed = new Promise((ok, fail) => {
    const timer = setTimeout(() => { proc.kill(); fail(new Error(`no ${what} printed:\n${stderr}`)); },
      30000);
    proc.stderr.on("data", (c) => {
      stderr += c;
      const value = ready(stderr);
      if (value !== null) { clearTimeout(timer); ok(value); }
    });
  });
  return { ready: printed, done, kill: () => proc.kill() };
}

// Run `pipecat ARGS` against server with a fresh HOME; returns {status, stdout, stderr}.
export function pipecat(server, args, { token, home, env: extra } = {}) {
  const h = home || mkdtempSync(join(tmpdir(), "pcc-cli-"));
  const env = cliEnv(server, h);
  if (token) env.PIPECAT_TOKEN = token;
  Object.assign(env, extra || {});
  const p = spawnSync(join(BIN_DIR, "pipecat"), args, { env, encoding: "utf8", cwd: h });
  if (!home) rmSync(h, { recursive: true, force: true });
  for (const marker of SANITIZER)
    if (p.stderr.includes(marker)) throw new Error(`pipecat reported ${marker}:\n${p.stderr}`);
  return p;
}

// Sign up through the form, which answers "Check your email" (the same for a taken address, and
// with no session); with verify, open the link the log mailer wrote and press Confirm; then sign
// in. The page ends on the tokens page.
export async function signUp(page, server, email, password = "correct horse battery",
  { verify = false } = {}) {
  await page.goto(`${server.url}/signup`);
  await page.getByLabel("Email").fill(email);
  await page.getByLabel(/^Password/).fill(password);
  await page.getByRole("button", { name: "Create account" }).click();
  await page.getByRole("heading", { name: "Check your email" }).waitFor();
  if (verify) await confirmEmail(page, server, email);
  await signIn(page, server, email, password);
}

// The newest confirmation link the log mailer wrote for email.
export function verificationLink(server, email) {
  const escaped = email.replace(/[.*+?^${}()|[\]\\]/g, "\\$&");
  const re = new RegExp(`mail to ${escaped}: Confirm your email address: (\\S+)`, "g");
  const links = [...server.log().matchAll(re)].map((m) => m[1]);
  if (!links.length) throw new Error(`no confirmation link for ${email} in the log`);
  return links[links.length - 1];
}

// Open email's confirmation link and press Confirm (GET alone confirms nothing).
export async function confirmEmail(page, server, email) {
  await page.goto(verificationLink(server, email));
  await page.getByRole("button", { name: `Confirm ${email}` }).click();
  await page.getByRole("heading", { name: "Address confirmed" }).waitFor();
}

export async function signIn(page, server, email, password = "correct horse battery") {
  await page.goto(`${server.url}/signin`);
  await page.getByLabel("Email").fill(email);
  await page.getByLabel(/^Password/).fill(password);
  await page.getByRole("button", { name: "Sign in" }).click();
  await page.waitForURL(`${server.url}/account/tokens`);
}

// Create a PAT named name on the tokens page; returns the value shown once.
export async function createToken(page, server, name) {
  await page.goto(`${server.url}/account/tokens`);
  await page.getByLabel(/^Name/).fill(name);
  await page.getByRole("button", { name: "Create token" }).click();
  const value = (await page.locator("#new-token").textContent()).trim();
  return value;
}
