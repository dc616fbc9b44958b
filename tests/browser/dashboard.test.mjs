// dashboard.test.mjs: the dashboard in Chromium against a real pccd: sign-up to a working PAT in
// the CLI, deletion seen by the CLI, members, CSRF refusal, escaping of user strings.
import assert from "node:assert/strict";
import { createServer } from "node:http";
import { after, before, test } from "node:test";

import {
  confirmEmail, createToken, launchBrowser, pipecat, signUp, startServer, verificationLink,
} from "./harness.mjs";

let browser;
before(async () => { browser = await launchBrowser(); });
after(async () => { await browser?.close(); });

// A fresh server per test, stopped (and its log checked) at the end.
async function withServer(fn, opts) {
  const server = await startServer(opts);
  try {
    await fn(server);
  } finally {
    await server.stop();
  }
}

test("sign up, create a PAT, see it once, use it in the CLI, delete it: the CLI gets 401", () =>
  withServer(async (server) => {
    const context = await browser.newContext();
    const page = await context.newPage();
    const dialogs = [];
    page.on("dialog", (d) => { dialogs.push(d.message()); d.dismiss(); });

    const resp = await page.goto(server.url + "/");
    assert.equal(new URL(page.url()).pathname, "/signin", "signed out: / leads to sign-in");
    const headers = resp.headers();
    assert.match(headers["content-security-policy"], /default-src 'none'; script-src 'self'/);
    assert.equal(headers["x-frame-options"], "DENY");
    assert.equal(headers["x-content-type-options"], "nosniff");
    assert.ok(headers["referrer-policy"]);

    await signUp(page, server, "ada@example.com");
    const cookies = await context.cookies();
    const session = cookies.find((c) => c.name === "pcc_session");
    assert.ok(session, "a session cookie");
    assert.equal(session.httpOnly, true);
    assert.equal(session.sameSite, "Lax");

    const token = await createToken(page, server, "laptop");
    assert.match(token, /^pcc_pat_[0-9A-Za-z]{38}$/);
    await assert.doesNotReject(page.getByText("it will not be shown again").waitFor());
    await assert.doesNotReject(page.getByRole("button", { name: "Copy" }).waitFor());
    const row = page.locator("tr", { hasText: "laptop" });
    assert.equal(await row.count(), 1);

    // Shown exactly once: the list afterwards has only the display form.
    await page.goto(server.url + "/account/tokens");
    const html = await page.content();
    assert.ok(!html.includes(token), "the full token is not shown again");
    assert.ok(html.includes(token.slice(0, 12) + "..." + token.slice(-4)), "its display form is");

    const whoami = pipecat(server, ["cloud", "auth", "whoami"], { token });
    assert.equal(whoami.status, 0, whoami.stderr);
    assert.match(whoami.stdout, /ada@example\.com/);

    // Delete, with a confirmation step.
    await page.locator("tr", { hasText: "laptop" }).getByRole("link", { name: /Delete/ }).click();
    await page.getByRole("button", { name: "Delete token" }).click();
    await page.waitForURL(/\/account\/tokens\?done=deleted$/);
    assert.equal(await page.locator("tr", { hasText: "laptop" }).count(), 0);

    const after = pipecat(server, ["cloud", "auth", "whoami"], { token });
    assert.notEqual(after.status, 0);
    assert.match(after.stderr, /token rejected .*\(invalid, expired or revoked\)/);
    assert.deepEqual(dialogs, []);

    // Sign out ends the session server-side: the old cookie no longer works.
    await page.getByRole("button", { name: "Sign out", exact: true }).click();
    await page.waitForURL(server.url + "/signin");
    const replay = await browser.newContext();
    await replay.addCookies([session]);
    const p2 = await replay.newPage();
    await p2.goto(server.url + "/account/tokens");
    assert.equal(new URL(p2.url()).pathname, "/signin");
    await replay.close();
    await context.close();
  }));

test("an admin invites a member, who confirms the address, accepts, then sees the organization in the CLI", () =>
  withServer(async (server) => {
    const admin = await (await browser.newContext()).newPage();
    const bob = await (await browser.newContext()).newPage();
    await signUp(admin, server, "grace@example.com");
    await signUp(bob, server, "bob@example.com");

    // Grace creates a team organization and invites Bob to it.
    await admin.goto(server.url + "/orgs");
    await admin.getByLabel(/^Short name/).fill("analytical-engines");
    await admin.getByLabel("Display name").fill("Analytical Engines");
    await admin.getByRole("button", { name: "Create organization" }).click();
    await admin.waitForURL(server.url + "/orgs");
    const row = admin.locator("tr[data-org='analytical-engines']");
    assert.match(await row.textContent(), /active/);
    await admin.goto(server.url + "/org/members");
    await admin.getByLabel(/^Email/).fill("bob@example.com");
    await admin.getByRole("button", { name: "Send invitation" }).click();
    await admin.waitForURL(/done=invited/);
    await assert.doesNotReject(
      admin.getByText("Invitation sent if the address can receive it").waitFor());
    assert.equal(await admin.locator("tr[data-member='bob@example.com']").count(), 0,
      "an invitation is not a membership");
    assert.equal(await admin.locator("#pending-invitations tr[data-invitation='bob@example.com']")
      .count(), 1);

    // Bob has not confirmed his address: the invitation does not show yet.
    await bob.goto(server.url + "/account/invitations");
    await assert.doesNotReject(bob.locator("#verify-email").getByText("is not confirmed yet").waitFor());
    assert.equal(await bob.locator("tr[data-invitation='analytical-engines']").count(), 0);
    // The link's page (GET) confirms nothing until its button is pressed.
    await bob.goto(verificationLink(server, "bob@example.com"));
    await bob.goto(server.url + "/account/invitations");
    assert.equal(await bob.locator("tr[data-invitation='analytical-engines']").count(), 0);
    await confirmEmail(bob, server, "bob@example.com");
    await bob.goto(server.url + "/account/invitations");
    const invitation = bob.locator("tr[data-invitation='analytical-engines']");
    assert.match(await invitation.textContent(), /grace@example\.com/);
    await invitation.getByRole("button", { name: /Accept/ }).click();
    await bob.waitForURL(/done=accepted/);
    await admin.goto(server.url + "/org/members");
    assert.equal(await admin.locator("tr[data-member='bob@example.com']").count(), 1);

    // The last admin cannot be demoted.
    const self = admin.locator("tr[data-member='grace@example.com']");
    await self.getByLabel(/Role of/).selectOption("member");
    await self.getByRole("button", { name: "Save" }).click();
    await assert.doesNotReject(admin.getByText("at least one admin").waitFor());

    const token = await createToken(bob, server, "bob-cli");
    const orgs = pipecat(server, ["cloud", "organizations", "list"], { token });
    assert.equal(orgs.status, 0, orgs.stderr);
    assert.match(orgs.stdout, /analytical-engines/);
  }));

test("a cross-site form post without the CSRF token is refused", () =>
  withServer(async (server) => {
    const context = await browser.newContext();
    const page = await context.newPage();
    await signUp(page, server, "mallory-target@example.com");

    // Another origin serves a form that posts to the dashboard.
    const evil = createServer((req, res) => {
      res.writeHead(200, { "Content-Type": "text/html" });
      res.end(`<form method="post" action="${server.url}/account/tokens">
        <input name="name" value="planted"><button type="submit">Win a prize</button></form>`);
    });
    await new Promise((ok) => evil.listen(0, "127.0.0.1", ok));
    try {
      await page.goto(`http://127.0.0.1:${evil.address().port}/`);
      const [response] = await Promise.all([
        page.waitForResponse((r) => r.url() === `${server.url}/account/tokens`),
        page.getByRole("button", { name: "Win a prize" }).click(),
      ]);
      assert.equal(response.status(), 403);
    } finally {
      evil.close();
    }
    // Same origin but without the token: refused as well.
    const r = await context.request.post(`${server.url}/account/tokens`, {
      form: { name: "planted-too" }, headers: { Origin: server.url }, maxRedirects: 0,
    });
    assert.equal(r.status(), 403);

    await page.goto(server.url + "/account/tokens");
    assert.equal(await page.locator("tr", { hasText: "planted" }).count(), 0);
  }));

test("a token named <script>alert(1)</script> is shown as text", () =>
  withServer(async (server) => {
    const page = await (await browser.newContext()).newPage();
    const dialogs = [];
    page.on("dialog", (d) => { dialogs.push(d.message()); d.dismiss(); });
    await signUp(page, server, "eve@example.com");
    const name = "<script>alert(1)</script>";
    await createToken(page, server, name);
    await page.goto(server.url + "/account/tokens");
    const cell = page.locator("#tokens td.name");
    assert.equal(await cell.textContent(), name);
    assert.ok((await page.content()).includes("&lt;script&gt;alert(1)&lt;/script&gt;"));
    assert.deepEqual(dialogs, []);
  }));

test("a token made with 7 days and read scope shows both, and the CLI shows its expiry", () =>
  withServer(async (server) => {
    const page = await (await browser.newContext()).newPage();
    await signUp(page, server, "lin@example.com");
    await page.goto(server.url + "/account/tokens");
    await page.getByLabel(/^Name/).fill("ci-read");
    await page.getByLabel("Scope").selectOption("read");
    await page.getByLabel("Expiry", { exact: true }).selectOption("7");
    await page.getByRole("button", { name: "Create token" }).click();
    const token = (await page.locator("#new-token").textContent()).trim();
    assert.match(token, /^pcc_pat_/);

    const expected = new Date(Date.now() + 7 * 86400 * 1000).toISOString().slice(0, 10);
    await page.goto(server.url + "/account/tokens");
    const row = page.locator("#tokens tr", { hasText: "ci-read" });
    assert.equal((await row.locator("td.scopes").textContent()).trim(), "read");
    assert.match(await row.locator("td.expires").textContent(), new RegExp(`^${expected} `));
    assert.equal((await row.locator("td.org").textContent()).trim(), "any");

    const status = pipecat(server, ["cloud", "auth", "status"], { token });
    assert.equal(status.status, 0, status.stderr);
    assert.match(status.stdout, new RegExp(expected), status.stdout);
    // A read token cannot create tokens; the API's scope check applies to it.
    const create = pipecat(server, ["cloud", "tokens", "create", "--name", "x"], { token });
    assert.notEqual(create.status, 0);

    // Last used: the dashboard shows the time, address and user agent of that use.
    await page.goto(server.url + "/account/tokens");
    const used = page.locator("#tokens tr", { hasText: "ci-read" }).locator("td.used");
    assert.doesNotMatch(await used.textContent(), /never/);
    assert.equal((await used.locator(".ip").textContent()).trim(), "127.0.0.1");
    assert.ok((await used.locator(".agent").textContent()).trim().length > 0);

    // An expiry date in the past is refused by the same check as the API's.
    await page.getByLabel(/^Name/).fill("too-old");
    await page.getByLabel("Expiry", { exact: true }).selectOption("date");
    await page.getByLabel("Expiry date").fill("2001-01-01");
    await page.getByRole("button", { name: "Create token" }).click();
    await assert.doesNotReject(page.locator(".error", { hasText: /xpir/ }).waitFor());
    assert.equal(await page.locator("#tokens tr", { hasText: "too-old" }).count(), 0);
  }));

test("creating and deleting a token shows in the audit log, escaped", () =>
  withServer(async (server) => {
    const page = await (await browser.newContext()).newPage();
    const dialogs = [];
    page.on("dialog", (d) => { dialogs.push(d.message()); d.dismiss(); });
    await signUp(page, server, "kay@example.com");
    await createToken(page, server, "<b>audited</b>");
    await page.goto(server.url + "/account/tokens");
    await page.locator("#tokens tr", { hasText: "audited" }).getByRole("link", { name: /Delete/ }).click();
    await page.getByRole("button", { name: "Delete token" }).click();
    await page.waitForURL(/done=deleted/);

    await page.getByRole("navigation", { name: "Main" }).getByRole("link", { name: "Audit log" }).click();
    await page.waitForURL(server.url + "/account/audit");
    const events = await page.locator("#audit td.event").allTextContents();
    const created = events.indexOf("token.created"), revoked = events.indexOf("token.revoked");
    assert.ok(created >= 0 && revoked >= 0, events.join(","));
    assert.ok(revoked < created, "newest first");
    assert.ok(events.includes("web.signup"));

    // The personal organization's admin sees its events too.
    await page.getByRole("link", { name: /^Organization / }).click();
    await page.waitForURL(/view=org/);
    assert.ok((await page.locator("#audit td.event").allTextContents()).includes("web.signup"));
    assert.deepEqual(dialogs, []);
    assert.ok(!(await page.content()).includes("<b>audited</b>"));
  }));

test("rotating a token shows the new secret once; with no grace the old one fails at once", () =>
  withServer(async (server) => {
    const page = await (await browser.newContext()).newPage();
    await signUp(page, server, "rot@example.com");
    const old = await createToken(page, server, "ci-rotate");
    assert.equal(pipecat(server, ["cloud", "auth", "whoami"], { token: old }).status, 0);

    await page.locator("tr", { hasText: "ci-rotate" }).getByRole("link", { name: /Rotate/ }).click();
    await page.getByLabel("Old secret keeps working").selectOption("0");
    await page.getByRole("button", { name: "Rotate token" }).click();
    await assert.doesNotReject(page.getByText("rotated").first().waitFor());
    await assert.doesNotReject(page.getByText("it will not be shown again").waitFor());
    const fresh = (await page.locator("#new-token").textContent()).trim();
    assert.match(fresh, /^pcc_pat_[0-9A-Za-z]{38}$/);
    assert.notEqual(fresh, old);
    assert.equal(await page.locator("tr", { hasText: "ci-rotate" }).count(), 1, "same token row");

    await page.goto(server.url + "/account/tokens");
    assert.ok(!(await page.content()).includes(fresh), "the new secret is not shown again");

    const before = pipecat(server, ["cloud", "auth", "whoami"], { token: old });
    assert.notEqual(before.status, 0, "no grace: the old secret fails at once");
    const now = pipecat(server, ["cloud", "auth", "whoami"], { token: fresh });
    assert.equal(now.status, 0, now.stderr);
    assert.match(now.stdout, /rot@example\.com/);
  }));

// Grace makes organization "team" (she is its admin, it becomes her active one) and invites Bob,
// whose address is confirmed, and who accepts on his Invitations page.
async function teamWithMember(server) {
  const admin = await (await browser.newContext()).newPage();
  const bob = await (await browser.newContext()).newPage();
  await signUp(admin, server, "grace@example.com");
  await signUp(bob, server, "bob@example.com", undefined, { verify: true });
  await admin.goto(server.url + "/orgs");
  await admin.getByLabel(/^Short name/).fill("team");
  await admin.getByLabel("Display name").fill("Team");
  await admin.getByRole("button", { name: "Create organization" }).click();
  await admin.waitForURL(server.url + "/orgs");
  await admin.goto(server.url + "/org/members");
  await admin.getByLabel(/^Email/).fill("bob@example.com");
  await admin.getByRole("button", { name: "Send invitation" }).click();
  await admin.waitForURL(/done=invited/);
  await bob.goto(server.url + "/account/invitations");
  await bob.locator("tr[data-invitation='team']").getByRole("button", { name: /Accept/ }).click();
  await bob.waitForURL(/done=accepted/);
  return { admin, bob };
}

test("an admin revokes a member's token on the oversight page after confirming: CLI gets 401", () =>
  withServer(async (server) => {
    const { admin, bob } = await teamWithMember(server);
    // A token bound to team is the organization's to oversee; Bob's unbound one is his own.
    const unbound = await createToken(bob, server, "bob-anywhere");
    await bob.goto(`${server.url}/account/tokens`);
    await bob.getByLabel(/^Name/).fill("bob-laptop");
    await bob.getByLabel("Organization").selectOption("team");
    await bob.getByRole("button", { name: "Create token" }).click();
    const token = (await bob.locator("#new-token").textContent()).trim();
    assert.equal(pipecat(server, ["cloud", "auth", "whoami"], { token }).status, 0);

    // Bob, a member of team, is refused the page.
    await bob.goto(server.url + "/orgs");
    await bob.locator("tr[data-org='team']").getByRole("button", { name: /Switch to/ }).click();
    const refused = await bob.goto(server.url + "/org/tokens");
    assert.equal(refused.status(), 403);

    const resp = await admin.goto(server.url + "/org/tokens");
    assert.equal(resp.status(), 200);
    assert.ok(!(await admin.content()).includes("bob-anywhere"), "an unbound token's name is Bob's");
    const member = admin.locator("#org-tokens tr[data-access='membership']",
      { hasText: "bob@example.com" });
    assert.equal(await member.count(), 1);
    assert.match(await member.textContent(), /has access through membership/);
    const refusedRevoke = await admin.goto(server.url +
      `/org/tokens/${await member.getAttribute("data-token-id")}/revoke`);
    assert.equal(refusedRevoke.status(), 403);
    await assert.doesNotReject(admin.getByText("remove the member").waitFor());
    assert.equal(pipecat(server, ["cloud", "auth", "whoami"], { token: unbound }).status, 0);
    await admin.goto(server.url + "/org/tokens");
    const row = admin.locator("#org-tokens tr", { hasText: "bob-laptop" });
    assert.equal(await row.count(), 1);
    assert.match(await row.textContent(), /bob@example\.com/);
    const tokenId = await row.getAttribute("data-token-id");

    // Bob cannot reach the confirmation either: the same 404 as for a token that does not exist.
    const probe = await bob.goto(server.url + `/org/tokens/${tokenId}/revoke`);
    const made_up = await bob.goto(server.url + "/org/tokens/tok_doesnotexist/revoke");
    assert.equal(probe.status(), 404);
    assert.equal(made_up.status(), 404);
    assert.ok(!(await bob.content()).includes("bob-laptop"));

    // Revoke asks first, naming the token and its owner; Cancel leaves it working.
    await row.getByRole("link", { name: /Revoke/ }).click();
    await admin.waitForURL(new RegExp(`/org/tokens/${tokenId}/revoke$`));
    const question = admin.getByRole("heading", { name: "Revoke this token?" });
    await assert.doesNotReject(question.waitFor());
    assert.match(await admin.locator(".subject").textContent(), /bob-laptop.*bob@example\.com/s);
    await admin.getByRole("link", { name: "Cancel" }).click();
    await admin.waitForURL(server.url + "/org/tokens");
    assert.equal(pipecat(server, ["cloud", "auth", "whoami"], { token }).status, 0, "cancel: kept");

    await admin.locator("#org-tokens tr", { hasText: "bob-laptop" })
      .getByRole("link", { name: /Revoke/ }).click();
    await admin.getByRole("button", { name: "Revoke token" }).click();
    await admin.waitForURL(/\/org\/tokens\?done=revoked$/);
    assert.equal(await admin.locator("#org-tokens tr", { hasText: "bob-laptop" }).count(), 0);

    const after = pipecat(server, ["cloud", "auth", "whoami"], { token });
    assert.notEqual(after.status, 0);
    assert.match(after.stderr, /token rejected|401/);
  }));

test("a policy requiring expiry refuses a non-expiring token bound to the organization", () =>
  withServer(async (server) => {
    const { admin } = await teamWithMember(server);
    await admin.goto(server.url + "/org/tokens");
    await admin.getByLabel("Require an expiry").check();
    await admin.getByRole("button", { name: "Save policy" }).click();
    await admin.waitForURL(/done=policy/);
    assert.equal(await admin.getByLabel("Require an expiry").isChecked(), true);

    await admin.goto(server.url + "/account/tokens");
    await admin.getByLabel(/^Name/).fill("forever");
    await admin.getByLabel("Organization").selectOption("team");
    await admin.getByRole("button", { name: "Create token" }).click();
    await assert.doesNotReject(admin.getByText("only accepts tokens that expire").waitFor());
    assert.equal(await admin.locator("#new-token").count(), 0);
    assert.equal(await admin.locator("#tokens tr", { hasText: "forever" }).count(), 0);

    // With an expiry it is accepted.
    await admin.getByLabel(/^Name/).fill("monthly");
    await admin.getByLabel("Organization").selectOption("team");
    await admin.getByLabel("Expiry", { exact: true }).selectOption("30");
    await admin.getByRole("button", { name: "Create token" }).click();
    await assert.doesNotReject(admin.locator("#new-token").waitFor());
  }));

test("an admin creates a service account and its token, which works in the CLI", () =>
  withServer(async (server) => {
    const { admin } = await teamWithMember(server);
    await admin.goto(server.url + "/org/service-accounts");
    await admin.getByLabel(/^Name/).fill("ci");
    await admin.getByRole("button", { name: "Create service account" }).click();
    await admin.waitForURL(/done=created/);
    const block = admin.locator("[data-service-account='ci']");
    assert.equal(await block.count(), 1);
    await block.getByLabel("New token name").fill("deploy-bot");
    await block.getByRole("button", { name: /Create token/ }).click();
    const token = (await admin.locator("#new-token").textContent()).trim();
    assert.match(token, /^pcc_pat_[0-9A-Za-z]{38}$/);

    const whoami = pipecat(server, ["cloud", "auth", "whoami"], { token });
    assert.equal(whoami.status, 0, whoami.stderr);
    assert.match(whoami.stdout, /ci@team\.service-account\.invalid/);

    await admin.goto(server.url + "/org/service-accounts");
    assert.ok(!(await admin.content()).includes(token), "shown only once");
    await admin.locator("[data-service-account='ci'] tr", { hasText: "deploy-bot" })
      .getByRole("link", { name: /Revoke/ }).click();
    await admin.getByRole("button", { name: "Revoke token" }).click();
    await admin.waitForURL(/done=revoked/);
    assert.notEqual(pipecat(server, ["cloud", "auth", "whoami"], { token }).status, 0);

    // Deleting asks first and says how many tokens go with it; Cancel keeps it.
    await block.getByLabel("New token name").fill("nightly");
    await block.getByRole("button", { name: /Create token/ }).click();
    const nightly = (await admin.locator("#new-token").textContent()).trim();
    await admin.goto(server.url + "/org/service-accounts");
    await admin.locator("[data-service-account='ci']")
      .getByRole("link", { name: /Delete service account/ }).click();
    await assert.doesNotReject(admin.getByText("Its 1 active token stops working").waitFor());
    await admin.getByRole("link", { name: "Cancel" }).click();
    await admin.waitForURL(server.url + "/org/service-accounts");
    assert.equal(pipecat(server, ["cloud", "auth", "whoami"], { token: nightly }).status, 0);
    await admin.locator("[data-service-account='ci']")
      .getByRole("link", { name: /Delete service account/ }).click();
    await admin.getByRole("button", { name: "Delete service account" }).click();
    await admin.waitForURL(/done=deleted/);
    assert.notEqual(pipecat(server, ["cloud", "auth", "whoami"], { token: nightly }).status, 0);
    assert.equal(await admin.locator("[data-service-account='ci']").count(), 0);
  }));
