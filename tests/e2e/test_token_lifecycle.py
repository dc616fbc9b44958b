# test_token_lifecycle.py: the token lifecycle through the API and the CLI: expiry and its
# signals, scopes, org binding, self-service, rotation with a grace period (the server's clock
# driven by the test, never by sleeping), audit endpoints, leaked-token reports, admin
# oversight (with the CLI's and the dashboard's confirmation steps), org policies, service
# accounts and throttling by address.
import json
import re
import urllib.parse

import pytest

from conftest import ALICE, ISO_RE, http_request, well_formed_token
from test_admin_passwd import session_cookie, signin
from test_platform_cli import on_terminal

TOKENS = "/v1/users/me/tokens"
ORG = "/v1/organizations/acme"
UNAUTHORIZED = {"error": "Unauthorized / token invalid, expired or revoked", "code": "401"}
DAY = 86400


def create(srv, token="__default__", status=201, **body):
    r = srv.request("POST", TOKENS, token=token, json_body=body)
    assert r.status == status, r
    return r.body


def add_member(srv, email, org="acme", role="member"):
    """A member with a token bound to org: what the organization's oversight covers (a member's
    unbound token it lists only as "membership" and cannot revoke: test_invitations.py)."""
    srv.user_add(email, org=org, role=role)
    p = srv.admin("token", "create", "--user", email, "--name", "t-" + email.split("@")[0],
                  "--org", org)
    return p.stdout.strip()


def events(srv, event):
    return srv.query("SELECT * FROM audit_events WHERE event = ? ORDER BY id", (event,))


# --- expiry -------------------------------------------------------------------------------


def test_test_clock_is_refused_without_its_environment_variable(make_server, tmp_path):
    srv = make_server(start=False)
    p = srv.admin("serve", "--listen", "127.0.0.1:0", "--test-clock-file",
                  str(tmp_path / "c"), check=False)
    assert p.returncode == 2
    assert "PCCD_ALLOW_TEST_CLOCK" in p.stderr


def test_expiry_in_days_and_at_a_date_and_the_uniform_401_after_it(clocked):
    srv, clock = clocked
    week = create(srv, name="week", expiresInDays=7)
    assert ISO_RE.match(week["expiresAt"]), week
    dated = create(srv, name="dated", expiresAt="2031-01-01T00:00:00Z")
    assert dated["expiresAt"] == "2031-01-01T00:00:00.000Z"
    assert create(srv, name="never")["expiresAt"] is None
    for bad in ({"expiresInDays": 0}, {"expiresInDays": "7"}, {"expiresAt": "tomorrow"},
                {"expiresAt": "2000-01-01T00:00:00Z"}, {"expiresInDays": 7,
                                                         "expiresAt": "2099-01-01"}):
        r = srv.request("POST", TOKENS, json_body={"name": "bad", **bad})
        assert r.status == 400, (bad, r)

    r = srv.get("/v1/users", token=week["token"])
    assert r.status == 200
    assert r.header("Pipecat-Token-Expiration") == week["expiresAt"]
    assert srv.get("/v1/users").header("Pipecat-Token-Expiration") is None

    clock.advance(7 * DAY + 1)
    r = srv.get("/v1/users", token=week["token"])
    assert r.status == 401 and r.body == UNAUTHORIZED
    assert srv.get("/v1/users", token=dated["token"]).status == 200
    used = events(srv, "token.expired_use")
    assert [e["token_id"] for e in used] == [week["id"]]
    assert week["token"] not in json.dumps(srv.query("SELECT * FROM audit_events"))


def test_cli_shows_expiry_and_warns_when_it_is_near(server, cli):
    cli.use_pat()
    soon = create(server, name="soon", expiresInDays=3)
    later = create(server, name="later", expiresInDays=30)
    env = {"PIPECAT_TOKEN": soon["token"]}
    p = cli.cloud("auth", "status", env=env)
    assert p.returncode == 0, p.stderr
    assert "Expires" in p.stdout and "never" not in p.stdout
    assert p.stderr.count("expires") == 1 and "Warning" in p.stderr, p.stderr
    p = cli.cloud("auth", "whoami", env=env)
    assert p.returncode == 0 and "Token Expires" in p.stdout, p
    assert p.stderr.count("Warning") == 1, "warned once per run"
    p = cli.cloud("tokens", "list", env={"PIPECAT_TOKEN": later["token"]})
    assert p.returncode == 0 and "Warning" not in p.stderr, p.stderr
    assert "EXPIRES" in p.stdout and "LAST IP" in p.stdout
    p = cli.cloud("tokens", "create", "--name", "cli-made", "--expires-in", "30")
    assert p.returncode == 0, p.stderr
    assert "expires 20" in p.stderr


# --- scopes -------------------------------------------------------------------------------


def deploy_body(name="agent-one"):
    return {"serviceName": name, "image": "repo/img:1.0", "nodeType": "arm",
            "agentProfile": "agent-1x"}


def test_a_read_token_cannot_deploy_or_write_but_can_read(server):
    read = create(server, name="reader", scopes=["read"])
    assert read["scopes"] == ["read"]
    assert server.get(f"{ORG}/services", token=read["token"]).status == 200
    assert server.get("/v1/organizations", token=read["token"]).status == 200
    r = server.request("POST", f"{ORG}/services", token=read["token"], json_body=deploy_body())
    assert r.status == 403 and r.body["error"] == "token lacks the deploy scope", r
    r = server.request("PUT", f"{ORG}/secrets/s1", token=read["token"],
                       json_body={"secrets": {"K": "v"}})
    assert r.status == 403 and "secrets scope" in r.body["error"], r
    r = server.request("POST", TOKENS, token=read["token"], json_body={"name": "x"})
    assert r.status == 403 and "full scope" in r.body["error"], r
    refused = events(server, "token.scope_refused")
    assert len(refused) == 3 and all(e["token_id"] == read["id"] for e in refused)


def test_deploy_and_secrets_scopes_grant_their_writes_only(server):
    deploy = create(server, name="deployer", scopes=["deploy"])
    secrets_ = create(server, name="secretive", scopes=["secrets"])
    r = server.request("POST", f"{ORG}/services", token=deploy["token"], json_body=deploy_body())
    assert r.status in (200, 201), r
    r = server.request("PUT", f"{ORG}/secrets/s1", token=deploy["token"],
                       json_body={"secrets": {"K": "v"}})
    assert r.status == 403, r
    r = server.request("POST", f"{ORG}/services", token=secrets_["token"],
                       json_body=deploy_body("agent-two"))
    assert r.status == 403, r


def test_scopes_are_validated(server):
    for bad in (["admin"], [], "full", [1]):
        r = server.request("POST", TOKENS, json_body={"name": "bad", "scopes": bad})
        assert r.status == 400, (bad, r)


def test_cli_read_token_cannot_deploy(server, cli):
    cli.use_pat()
    p = cli.cloud("tokens", "create", "--name", "ro", "--scopes", "read")
    assert p.returncode == 0, p.stderr
    env = {"PIPECAT_TOKEN": p.stdout.strip()}
    p = cli.cloud("deploy", "my-agent", "repo/img:1.0", "--yes", env=env)
    assert p.returncode != 0
    assert "lacks the deploy scope" in p.stderr, p.stderr
    assert cli.cloud("agent", "list", env=env).returncode == 0


# --- org binding --------------------------------------------------------------------------


def test_a_bound_token_cannot_see_another_org(server):
    server.user_add(ALICE, org="other", org_name="Other Inc")
    bound = create(server, name="bound", organization="acme")
    assert bound["organization"] == "acme"
    r = server.get("/v1/organizations", token=bound["token"])
    assert [o["name"] for o in r.body["organizations"]] == ["acme"]
    assert server.get("/v1/organizations/other/services", token=bound["token"]).status == 404
    missing = server.get("/v1/organizations/nonexistent/services", token=bound["token"])
    hidden = server.get("/v1/organizations/other/services", token=bound["token"])
    assert hidden.body == {**missing.body, "error": missing.body["error"].replace(
        "nonexistent", "other")}
    assert server.get(f"{ORG}/services", token=bound["token"]).status == 200
    # a bound token makes only tokens bound to its org
    child = create(server, token=bound["token"], name="child")
    assert child["organization"] == "acme"
    r = server.request("POST", TOKENS, token=bound["token"],
                       json_body={"name": "escape", "organization": "other"})
    assert r.status == 403, r
    r = server.request("POST", TOKENS, json_body={"name": "x", "organization": "nope"})
    assert r.status == 400, r


def test_cli_bound_token_default_org_is_the_bound_one(server, cli):
    cli.use_pat()
    server.user_add(ALICE, org="aaa-first", org_name="First")
    p = cli.cloud("tokens", "create", "--name", "b", "-o", "acme")
    assert p.returncode == 0, p.stderr
    p = cli.cloud("organizations", "list", env={"PIPECAT_TOKEN": p.stdout.strip()})
    assert p.returncode == 0 and "acme" in p.stdout and "aaa-first" not in p.stdout, p


# --- self-service -------------------------------------------------------------------------


def test_self_shows_scopes_binding_expiry_and_delete_self_revokes(server, cli):
    t = create(server, name="me", scopes=["deploy"], organization="acme", expiresInDays=30)
    r = server.get("/v1/tokens/self", token=t["token"])
    assert r.body["scopes"] == ["deploy"] and r.body["organization"] == "acme"
    assert r.body["expiresAt"] == t["expiresAt"]
    p = cli.cloud("auth", "logout", "--revoke", env={"PIPECAT_TOKEN": t["token"]})
    assert p.returncode == 0, p.stderr
    assert server.get("/v1/users", token=t["token"]).status == 401


# --- rotation -----------------------------------------------------------------------------


def test_rotation_grace_period_by_the_clock(clocked):
    srv, clock = clocked
    t = create(srv, name="ci", scopes=["deploy"], organization="acme")
    r = srv.request("POST", f"{TOKENS}/{t['id']}/rotate", json_body={"graceSeconds": 3600})
    assert r.status == 200, r
    new = r.body
    assert new["id"] == t["id"] and new["name"] == "ci" and new["scopes"] == ["deploy"]
    assert new["organization"] == "acme" and new["token"] != t["token"]
    assert ISO_RE.match(new["previousSecretExpiresAt"])
    assert srv.get("/v1/users", token=t["token"]).status == 200, "old secret in grace"
    assert srv.get("/v1/users", token=new["token"]).status == 200
    clock.advance(3601)
    assert srv.get("/v1/users", token=t["token"]).status == 401, "old secret after grace"
    assert srv.get("/v1/users", token=new["token"]).status == 200
    # rotating twice drops the oldest secret at once; default grace is 0
    r = srv.request("POST", f"{TOKENS}/{t['id']}/rotate")
    assert r.status == 200 and r.body["previousSecretExpiresAt"] is None
    assert srv.get("/v1/users", token=new["token"]).status == 401
    assert srv.get("/v1/users", token=r.body["token"]).status == 200
    assert len(events(srv, "token.rotated")) == 2
    for bad in (-1, 7 * DAY + 1, "1h"):
        r = srv.request("POST", f"{TOKENS}/{t['id']}/rotate", json_body={"graceSeconds": bad})
        assert r.status == 400, r


def test_cli_rotation_then_use_pat_completes_it(clocked, tmp_path):
    from conftest import Cli
    srv, clock = clocked
    cli = Cli(srv, tmp_path / "home")
    t = create(srv, name="pipeline")
    cli.use_pat(t["token"])
    p = cli.cloud("tokens", "rotate", t["id"], "--grace", "1h")
    assert p.returncode == 0, p.stderr
    new = p.stdout.strip()
    assert new.startswith("pcc_pat_") and new != t["token"]
    assert cli.cloud("auth", "status").returncode == 0, "old stored secret still in grace"
    cli.use_pat(new)
    clock.advance(2 * 3600)
    assert cli.cloud("auth", "status").returncode == 0
    assert srv.get("/v1/users", token=t["token"]).status == 401
    assert cli.cloud("tokens", "rotate", t["id"], "--grace", "8d").returncode == 2
    assert cli.cloud("tokens", "rotate", "pcc_pat_x").returncode == 2


# --- audit --------------------------------------------------------------------------------


def test_audit_endpoints_and_cli(server, cli):
    t = create(server, name="audited")
    server.request("POST", f"{TOKENS}/{t['id']}/rotate")
    server.request("DELETE", f"{TOKENS}/{t['id']}")
    r = server.get("/v1/users/me/audit?limit=50")
    assert r.status == 200, r
    names = [e["event"] for e in r.body["events"]]
    for ev in ("token.created", "token.rotated", "token.revoked"):
        assert ev in names, names
    assert all(ISO_RE.match(e["at"]) for e in r.body["events"])
    assert server.token not in json.dumps(r.body) and t["token"] not in json.dumps(r.body)
    page = server.get("/v1/users/me/audit?limit=1")
    assert len(page.body["events"]) == 1 and page.body["next"] is not None
    assert server.get("/v1/users/me/audit?limit=0").status == 400
    # organization log: admins only
    server.request("POST", f"{ORG}/apiKeys", json_body={"name": "k", "type": "private"})
    r = server.get(f"{ORG}/audit")
    assert r.status == 200 and "apikey.created" in [e["event"] for e in r.body["events"]]
    bob = add_member(server, "bob@example.com")
    assert server.get(f"{ORG}/audit", token=bob).status == 403
    p = cli.cloud("audit", "list", env={"PIPECAT_TOKEN": server.token})
    assert p.returncode == 0 and "token.rotated" in p.stdout, p
    p = cli.cloud("audit", "list", "--org", env={"PIPECAT_TOKEN": server.token})
    assert p.returncode == 0 and "apikey.created" in p.stdout, p


def test_first_use_from_a_new_address_is_audited_once(make_server):
    srv = make_server(serve_args=["--trust-proxy"])
    t = create(srv, name="roaming")
    for ip in ("198.51.100.1", "198.51.100.1", "198.51.100.2"):
        assert srv.get("/v1/users", token=t["token"],
                       headers={"X-Forwarded-For": ip}).status == 200
    seen = [e["ip"] for e in events(srv, "token.new_ip") if e["token_id"] == t["id"]]
    assert seen == ["198.51.100.1", "198.51.100.2"]


# --- leaked-token reports -----------------------------------------------------------------


def test_leaked_report_same_answer_valid_or_not_and_revokes_the_valid(server):
    t = create(server, name="leaky")
    valid = server.request("POST", "/v1/tokens/revoke", token=None,
                           json_body={"tokens": [t["token"]]})
    invalid = server.request("POST", "/v1/tokens/revoke", token=None,
                             json_body={"tokens": [well_formed_token()]})
    assert valid.status == invalid.status == 200
    assert valid.body == invalid.body == {"status": "OK", "received": 1}
    assert server.get("/v1/users", token=t["token"]).status == 401
    revoked = [e for e in events(server, "token.revoked") if e["token_id"] == t["id"]]
    assert len(revoked) == 1
    assert json.loads(revoked[0]["detail"]) == {"reason": "leak-report", "source": "127.0.0.1"}
    assert server.request("POST", "/v1/tokens/revoke", token=None,
                          json_body={"tokens": "x"}).status == 400


def test_leaked_reports_are_rate_limited(server):
    codes = [server.request("POST", "/v1/tokens/revoke", token=None,
                            json_body={"tokens": [well_formed_token()]}).status
             for _ in range(12)]
    assert codes[:10] == [200] * 10 and codes[-1] == 429, codes


def test_cli_report_leaked(server, cli):
    t = create(server, name="leaked-cli")
    p = cli.cloud("tokens", "report-leaked", stdin=t["token"] + "\n" + well_formed_token() + "\n")
    assert p.returncode == 0, p.stderr
    assert "Reported 2" in p.stdout
    assert server.get("/v1/users", token=t["token"]).status == 401


# --- admin oversight, policies, service accounts ------------------------------------------


def test_admins_list_and_revoke_tokens_that_can_act_in_their_org(server, cli):
    bob = add_member(server, "bob@example.com")
    server.user_add(ALICE, org="other", org_name="Other")
    elsewhere = create(server, name="other-only", organization="other")
    r = server.get(f"{ORG}/tokens")
    assert r.status == 200, r
    owners = {t["owner"]["email"] for t in r.body["tokens"]}
    assert owners == {ALICE, "bob@example.com"}
    assert elsewhere["id"] not in [t["id"] for t in r.body["tokens"]]
    assert server.get(f"{ORG}/tokens", token=bob).status == 403
    bob_id = next(t["id"] for t in r.body["tokens"] if t["owner"]["email"] == "bob@example.com")
    p = cli.cloud("organizations", "tokens", "list", env={"PIPECAT_TOKEN": server.token})
    assert p.returncode == 0 and "bob@example.com" in p.stdout, p
    p = cli.cloud("organizations", "tokens", "revoke", bob_id, "--yes",
                  env={"PIPECAT_TOKEN": server.token})
    assert p.returncode == 0, p.stderr
    assert server.get("/v1/users", token=bob).status == 401
    r = server.request("DELETE", f"{ORG}/tokens/{elsewhere['id']}")
    assert r.status == 404


def test_org_policy_refuses_tokens_outside_it_without_revoking_them(server, cli):
    unbound = create(server, name="forever")
    r = server.request("PATCH", f"{ORG}/token-policy",
                       json_body={"requireExpiry": True, "maxLifetimeDays": 90})
    assert r.status == 200 and r.body["requireExpiry"] is True, r
    r = server.get(f"{ORG}/services", token=unbound["token"])
    assert r.status == 403 and "expire" in r.body["error"], r
    assert server.get("/v1/users", token=unbound["token"]).status == 200, "not revoked"
    ok = create(server, name="ninety", expiresInDays=90)
    assert server.get(f"{ORG}/services", token=ok["token"]).status == 200
    long = create(server, name="long", expiresInDays=120)
    assert server.get(f"{ORG}/services", token=long["token"]).status == 403
    r = server.request("POST", TOKENS, json_body={"name": "b", "organization": "acme"})
    assert r.status == 400, "a bound token that could never act is refused at creation"
    # the admin can still change the policy with a token outside it
    p = cli.cloud("organizations", "token-policy", "--require-expiry", "no",
                  "--max-lifetime-days", "0", "--require-binding", "yes",
                  env={"PIPECAT_TOKEN": server.token})
    assert p.returncode == 0 and "Require binding: yes" in p.stdout, p
    assert server.get(f"{ORG}/services", token=ok["token"]).status == 403
    bound = create(server, name="bound", organization="acme")
    assert server.get(f"{ORG}/services", token=bound["token"]).status == 200
    bob = add_member(server, "bob@example.com")
    assert server.request("PATCH", f"{ORG}/token-policy", token=bob,
                          json_body={"requireBinding": False}).status == 403


def test_service_accounts_tokens_are_managed_by_admins(server, cli):
    env = {"PIPECAT_TOKEN": server.token}
    p = cli.cloud("service-accounts", "create", "deploy-bot", env=env)
    assert p.returncode == 0, p.stderr
    assert cli.cloud("service-accounts", "create", "deploy-bot", env=env).returncode == 1
    p = cli.cloud("service-accounts", "list", env=env)
    assert "deploy-bot" in p.stdout
    p = cli.cloud("tokens", "create", "--service-account", "deploy-bot", "--name", "gh",
                  "--scopes", "deploy", "--expires-in", "90", env=env)
    assert p.returncode == 0, p.stderr
    sa_token = p.stdout.strip()
    r = server.get("/v1/tokens/self", token=sa_token)
    assert r.body["organization"] == "acme" and r.body["owner"]["email"].startswith("deploy-bot@")
    assert server.request("POST", f"{ORG}/services", token=sa_token,
                          json_body=deploy_body()).status in (200, 201)
    # its tokens are the admins' to manage, not its own
    assert server.request("POST", TOKENS, token=sa_token, json_body={"name": "x"}).status == 403
    r = server.get(f"{ORG}/tokens")
    assert any(t["owner"]["kind"] == "service" for t in r.body["tokens"])
    bob = add_member(server, "bob@example.com")
    assert server.get(f"{ORG}/service-accounts", token=bob).status == 403
    p = cli.cloud("service-accounts", "delete", "deploy-bot", "--yes", env=env)
    assert p.returncode == 0, p.stderr
    assert server.get("/v1/users", token=sa_token).status == 401
    org_events = [e["event"] for e in server.get(f"{ORG}/audit").body["events"]]
    assert "service_account.created" in org_events and "membership.removed" in org_events


def user_id(server, email):
    return server.query("SELECT id FROM users WHERE email = ?", (email,))[0]["id"]


def test_cli_org_revoke_confirms_on_a_terminal_and_needs_yes_without(server, cli):
    bob = add_member(server, "bob@example.com")
    bob_id = next(t["id"] for t in server.get(f"{ORG}/tokens").body["tokens"]
                  if t["owner"]["email"] == "bob@example.com")
    env = {"PIPECAT_TOKEN": server.token}
    p = cli.cloud("organizations", "tokens", "revoke", bob_id, env=env)
    assert p.returncode == 2 and "--yes" in p.stderr, p
    assert server.get("/v1/users", token=bob).status == 200, "no terminal, no --yes: kept"
    revoke = ["organizations", "tokens", "revoke", bob_id]
    status, text = on_terminal(cli, revoke, [(f"Revoke token {bob_id}?", "n")], env=env)
    assert status == 1 and "Aborted" in text, text
    assert server.get("/v1/users", token=bob).status == 200, "answered no: kept"
    status, text = on_terminal(cli, revoke, [(f"Revoke token {bob_id}?", "y")], env=env)
    assert status == 0 and f"Token {bob_id} revoked" in text, text
    assert server.get("/v1/users", token=bob).status == 401
    revoked = [e for e in events(server, "token.revoked") if e["token_id"] == bob_id]
    assert json.loads(revoked[0]["detail"]) == {"reason": "admin", "by": user_id(server, ALICE)}

    # A service account's token is the organization's: the same question, the same --yes.
    assert cli.cloud("service-accounts", "create", "ci", env=env).returncode == 0
    p = cli.cloud("tokens", "create", "--service-account", "ci", "--name", "gh", "--json",
                  env=env)
    sa = json.loads(p.stdout)
    p = cli.cloud("tokens", "revoke", sa["id"], "--service-account", "ci", env=env)
    assert p.returncode == 2 and "--yes" in p.stderr, p
    assert server.get("/v1/tokens/self", token=sa["token"]).status == 200
    p = cli.cloud("tokens", "revoke", sa["id"], "--service-account", "ci", "--yes", env=env)
    assert p.returncode == 0, p.stderr
    assert server.get("/v1/tokens/self", token=sa["token"]).status == 401


PASSWORD = "a long passphrase for the dashboard"


class Browser:
    """A signed-in dashboard session over plain HTTP: the session cookie and its CSRF field."""

    def __init__(self, server, email):
        server.admin("user", "passwd", "--email", email, stdin=PASSWORD + "\n")
        self.server = server
        self.cookie = session_cookie(signin(server, email, PASSWORD))
        assert self.cookie, email
        page = self.get("/account/tokens")
        self.csrf = re.search(r'name="csrf" value="([0-9a-f]+)"', page.raw.decode()).group(1)

    def get(self, path):
        return http_request(self.server.url, "GET", path, token=None, check_json=False,
                            headers={"Cookie": self.cookie})

    def post(self, path, csrf=True):
        form = urllib.parse.urlencode({"csrf": self.csrf} if csrf else {})
        return http_request(self.server.url, "POST", path, token=None, body=form,
                            check_json=False,
                            headers={"Cookie": self.cookie, "Origin": self.server.url,
                                     "Content-Type": "application/x-www-form-urlencoded"})


def test_dashboard_oversight_revoke_confirms_and_hides_everything_from_members(server):
    bob = add_member(server, "bob@example.com")
    mine = create(server, name="alice-ci")
    bob_tok = next(t for t in server.get(f"{ORG}/tokens").body["tokens"]
                   if t["owner"]["email"] == "bob@example.com")
    admin, member = Browser(server, ALICE), Browser(server, "bob@example.com")

    # A member who is no admin: the answer for a real token is the answer for none at all.
    real = member.get(f"/org/tokens/{mine['id']}/revoke")
    none = member.get("/org/tokens/tok_doesnotexist/revoke")
    assert real.status == none.status == 404
    assert real.raw == none.raw, "a member must not tell a real token id from a made-up one"
    assert "alice-ci" not in real.raw.decode()
    assert member.post(f"/org/tokens/{mine['id']}/revoke").raw == \
        member.post("/org/tokens/tok_doesnotexist/revoke").raw
    assert server.get("/v1/users", token=mine["token"]).status == 200

    # The admin: the confirmation names the token and its owner; leaving it changes nothing.
    page = admin.get(f"/org/tokens/{bob_tok['id']}/revoke")
    assert page.status == 200
    html = page.raw.decode()
    assert "t-bob" in html and "bob@example.com" in html and 'href="/org/tokens"' in html
    assert f'action="/org/tokens/{bob_tok["id"]}/revoke"' in html and admin.csrf in html
    assert admin.get(f"/org/tokens/{bob_tok['id']}/revoke").status == 200, "GET never revokes"
    assert server.get("/v1/users", token=bob).status == 200
    assert admin.post(f"/org/tokens/{bob_tok['id']}/revoke", csrf=False).status == 403
    assert server.get("/v1/users", token=bob).status == 200, "no CSRF field: kept"
    r = admin.post(f"/org/tokens/{bob_tok['id']}/revoke")
    assert r.status == 303 and r.header("Location") == "/org/tokens?done=revoked", r
    assert server.get("/v1/users", token=bob).status == 401
    revoked = [e for e in events(server, "token.revoked") if e["token_id"] == bob_tok["id"]]
    assert len(revoked) == 1
    assert json.loads(revoked[0]["detail"]) == {"reason": "admin", "by": user_id(server, ALICE)}
    assert admin.get(f"/org/tokens/{bob_tok['id']}/revoke").status == 404, "gone"


def test_dashboard_service_account_delete_confirms_with_its_token_count(server, cli):
    env = {"PIPECAT_TOKEN": server.token}
    assert cli.cloud("service-accounts", "create", "deploy-bot", env=env).returncode == 0
    tokens = [json.loads(cli.cloud("tokens", "create", "--service-account", "deploy-bot",
                                   "--name", n, "--json", env=env).stdout) for n in ("a", "b")]
    add_member(server, "bob@example.com")
    admin, member = Browser(server, ALICE), Browser(server, "bob@example.com")
    path = "/org/service-accounts/deploy-bot"

    # A member who is no admin learns nothing: a real account answers as a made-up one.
    assert member.get(f"{path}/delete").raw == member.get("/org/service-accounts/no/delete").raw
    assert member.get(f"{path}/delete").status == 404
    assert member.post(f"{path}/delete").status == 404
    revoke = f"/org/tokens/{tokens[0]['id']}/revoke?from=service-accounts"
    made_up = "/org/tokens/tok_doesnotexist/revoke?from=service-accounts"
    assert member.get(revoke).raw == member.get(made_up).raw
    assert member.post(revoke).status == 404
    assert all(server.get("/v1/tokens/self", token=t["token"]).status == 200 for t in tokens)

    # Its tokens are revoked through the oversight confirmation, which leads back to the page.
    html = admin.get("/org/service-accounts").raw.decode()
    assert f'href="{revoke}"' in html.replace("&amp;", "&"), html
    page = admin.get(revoke)
    assert page.status == 200 and "deploy-bot@acme.service-account.invalid" in page.raw.decode()
    assert 'href="/org/service-accounts"' in page.raw.decode(), "Cancel leads back"
    r = admin.post(revoke)
    assert r.status == 303 and r.header("Location") == "/org/service-accounts?done=revoked", r
    assert server.get("/v1/tokens/self", token=tokens[0]["token"]).status == 401

    page = admin.get(f"{path}/delete")
    assert page.status == 200
    html = page.raw.decode()
    assert "deploy-bot@acme.service-account.invalid" in html
    assert "Its 1 active token stops working" in html, html
    assert server.get("/v1/tokens/self", token=tokens[1]["token"]).status == 200
    r = admin.post(f"{path}/delete")
    assert r.status == 303 and r.header("Location") == "/org/service-accounts?done=deleted", r
    assert server.get("/v1/tokens/self", token=tokens[1]["token"]).status == 401
    org_events = server.get(f"{ORG}/audit").body["events"]
    deleted = [e for e in org_events if e["event"] == "service_account.deleted"]
    assert len(deleted) == 1 and deleted[0]["detail"]["name"] == "deploy-bot", org_events
    assert deleted[0]["userId"] == user_id(server, ALICE), "the admin who deleted it"
    assert deleted[0]["tokenId"] is None, "a dashboard session, not a token"
    assert admin.get(f"{path}/delete").status == 404


# --- brute force --------------------------------------------------------------------------


def test_throttling_engages_per_address_and_spares_other_addresses(clocked, make_server):
    srv, clock = clocked
    srv.stop()
    srv.serve_args += ["--trust-proxy", "--auth-fail-limit", "3"]
    srv.start()
    attacker = {"X-Forwarded-For": "203.0.113.9"}
    for _ in range(3):
        assert srv.get("/v1/users", token=well_formed_token(), headers=attacker).status == 401
    r = srv.get("/v1/users", headers=attacker)
    assert r.status == 429 and int(r.header("Retry-After")) > 0, r
    assert srv.get("/v1/users", headers={"X-Forwarded-For": "198.51.100.7"}).status == 200
    clock.advance(61)
    assert srv.get("/v1/users", headers=attacker).status == 200, "released after cooling"
