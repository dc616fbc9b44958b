# test_admin_tokens.py: membership audit events from `pccd user add` and from the dashboard's
# member pages (added, role changed, removed: with the org id and the affected user, never a
# secret), and `pccd token create --scopes/--expires-in-days/--org`, checked by the same lib/auth
# functions as the API (scopes, expiry range, membership and policy of the bound organization).
import json
import re
import time
import urllib.parse

from conftest import ALICE, http_request
from test_admin_passwd import session_cookie, signin

BOB = "bob@example.com"
ORG = "/v1/organizations/acme"
PASSWORD = "a long passphrase for alice"


def audit(srv, event):
    return srv.query("SELECT * FROM audit_events WHERE event = ? ORDER BY id", (event,))


def ids(srv):
    alice = srv.query("SELECT id FROM users WHERE email = ?", (ALICE,))[0]["id"]
    acme = srv.query("SELECT id FROM organizations WHERE name = ?", ("acme",))[0]["id"]
    return alice, acme


def dashboard_post(srv, cookie, path, fields):
    page = http_request(srv.url, "GET", "/org/members", token=None, check_json=False,
                        headers={"Cookie": cookie})
    assert page.status == 200, page
    csrf = re.search(r'name="csrf" value="([0-9a-f]+)"', page.raw.decode()).group(1)
    form = urllib.parse.urlencode({"csrf": csrf, **fields})
    return http_request(srv.url, "POST", path, token=None, body=form, check_json=False,
                        headers={"Content-Type": "application/x-www-form-urlencoded",
                                 "Cookie": cookie, "Origin": srv.url})


def test_membership_events_from_user_add_and_the_dashboard(server):
    alice, acme = ids(server)
    # The bootstrap's `pccd user add --org acme` recorded Alice joining as admin.
    added = [e for e in audit(server, "membership.added") if e["org_id"] == acme]
    assert any(json.loads(e["detail"]) == {"userId": alice, "role": "admin"} for e in added)

    server.user_add(BOB, org="acme", role="member")
    bob = server.query("SELECT id FROM users WHERE email = ?", (BOB,))[0]["id"]
    ev = [e for e in audit(server, "membership.added") if e["org_id"] == acme][-1]
    assert json.loads(ev["detail"]) == {"userId": bob, "role": "member"}
    assert ev["user_id"] == bob and ev["ip"] == "admin-cli"

    # The dashboard: Alice (admin of acme) makes Bob an admin, then removes him.
    server.admin("user", "passwd", "--email", ALICE, stdin=PASSWORD + "\n")
    cookie = session_cookie(signin(server, ALICE, PASSWORD))
    assert cookie
    r = dashboard_post(server, cookie, f"/org/members/{bob}/role", {"role": "admin"})
    assert r.status == 303, r
    ev = audit(server, "membership.role_changed")[-1]
    assert ev["org_id"] == acme and ev["user_id"] == alice
    assert json.loads(ev["detail"]) == {"userId": bob, "role": "admin"}
    r = dashboard_post(server, cookie, f"/org/members/{bob}/remove", {})
    assert r.status == 303, r
    ev = audit(server, "membership.removed")[-1]
    assert ev["org_id"] == acme and json.loads(ev["detail"])["userId"] == bob

    # Through the dashboard, an admin invites; the membership begins when Bob accepts.
    r = dashboard_post(server, cookie, "/org/members", {"email": BOB, "role": "member"})
    assert r.status == 303, r
    ev = audit(server, "invitation.created")[-1]
    assert ev["org_id"] == acme and ev["user_id"] == alice
    inv = json.loads(ev["detail"])
    assert inv["email"] == BOB and inv["role"] == "member"
    bob_token = server.token_create(BOB, "bob-accepts")
    r = server.request("POST", f"/v1/users/me/invitations/{inv['invitationId']}/accept",
                       token=bob_token)
    assert r.status == 200, r
    ev = audit(server, "membership.added")[-1]
    assert ev["org_id"] == acme and ev["user_id"] == bob
    assert json.loads(ev["detail"]) == {"userId": bob, "role": "member",
                                        "invitationId": inv["invitationId"]}

    # The organization's audit API lists them; no event holds a secret.
    events = [e["event"] for e in server.get(f"{ORG}/audit").body["events"]]
    for name in ("membership.added", "membership.role_changed", "membership.removed",
                 "invitation.created", "invitation.accepted"):
        assert name in events
    dump = json.dumps(server.query("SELECT * FROM audit_events"))
    assert PASSWORD not in dump and server.token not in dump and "pcc_pat_" not in dump
    assert bob_token not in dump


def test_token_create_help_documents_the_options(server):
    out = server.admin("token", "create", "--help").stdout
    for opt in ("--scopes LIST", "--expires-in-days N", "--org SLUG"):
        assert opt in out


def test_token_create_with_scopes_expiry_and_org(server):
    _, acme = ids(server)
    start = int(time.time())
    p = server.admin("token", "create", "--user", ALICE, "--name", "ci", "--scopes",
                     "read,deploy", "--expires-in-days", "7", "--org", "acme")
    tok = p.stdout.strip()
    assert p.stdout == tok + "\n" and tok.startswith("pcc_pat_")
    assert tok not in p.stderr
    row = server.query("SELECT * FROM tokens WHERE name = ?", ("ci",))[0]
    assert row["scopes"] == "read deploy"
    assert row["org_id"] == acme
    assert start + 7 * 86400 - 5 <= int(row["expires_at"]) <= int(time.time()) + 7 * 86400 + 5

    # The API sees what was asked for.
    me = server.get("/v1/tokens/self", token=tok)
    assert me.status == 200, me
    assert me.body["scopes"] == ["read", "deploy"] and me.body["organization"] == "acme"
    ev = audit(server, "token.created")[-1]
    assert json.loads(ev["detail"])["scopes"] == "read deploy"
    assert ev["org_id"] == acme and tok not in json.dumps(ev)

    # Defaults: full scope, unbound, never expires.
    server.admin("token", "create", "--user", ALICE, "--name", "plain")
    row = server.query("SELECT * FROM tokens WHERE name = ?", ("plain",))[0]
    assert row["scopes"] == "full" and not row["org_id"] and not row["expires_at"]


def test_token_create_refusals(server):
    def refused(*extra):
        p = server.admin("token", "create", "--user", ALICE, "--name", "x", *extra, check=False)
        assert p.returncode != 0, p
        assert not p.stdout.strip(), p
        return p.stderr

    assert "unknown scope 'admin'" in refused("--scopes", "read,admin")
    assert "--expires-in-days" in refused("--expires-in-days", "0")
    assert "--expires-in-days" in refused("--expires-in-days", "3651")
    assert "--expires-in-days" in refused("--expires-in-days", "7x")
    server.user_add(BOB)
    assert "not a member" in refused("--org", "nope")

    # acme's policy now requires an expiry: a non-expiring token bound to it is refused, as
    # POST /v1/tokens refuses it; with an expiry it is accepted.
    r = server.request("PATCH", f"{ORG}/token-policy", json_body={"requireExpiry": True})
    assert r.status == 200, r
    assert "only accepts tokens that expire" in refused("--org", "acme")
    r = server.request("PATCH", f"{ORG}/token-policy", json_body={"maxLifetimeDays": 30})
    assert r.status == 200, r
    assert "at most 30 days" in refused("--org", "acme", "--expires-in-days", "31")
    p = server.admin("token", "create", "--user", ALICE, "--name", "ok", "--org", "acme",
                     "--expires-in-days", "30")
    assert p.stdout.startswith("pcc_pat_")
    assert not server.query("SELECT * FROM tokens WHERE name = ?", ("x",))


def test_admin_changes_from_another_process_take_effect_on_the_next_request(server):
    """pccd serve caches bearer lookups and organization lists (lib/store/cache.c); a separate
    process (`pccd user add`, `pccd token revoke`) must still be seen from the very next
    request."""
    tok = server.token_create(name="cached")
    for _ in range(4):  # every worker thread has it cached now
        r = server.get("/v1/organizations", token=tok)
        assert r.status == 200 and [o["name"] for o in r.body["organizations"]] == ["acme"], r
    server.user_add(ALICE, org="beta")
    r = server.get("/v1/organizations", token=tok)
    assert sorted(o["name"] for o in r.body["organizations"]) == ["acme", "beta"], r
    tid = server.query("SELECT id FROM tokens WHERE name = ?", ("cached",))[0]["id"]
    server.token_revoke(ALICE, tid)
    for _ in range(4):
        r = server.get("/v1/organizations", token=tok)
        assert r.status == 401 and r.body["code"] == "401", r


def test_user_add_again_keeps_the_role_and_never_removes_the_last_admin(server):
    """`make run` adds its demo user on every start: a second `user add` must not demote the
    organization's admin; --role changes a role only through the last-admin rule."""
    _, acme = ids(server)
    role = "SELECT m.role FROM memberships m JOIN users u ON u.id = m.user_id " \
           "WHERE u.email = ? AND m.org_id = ?"
    assert server.query(role, (ALICE, acme)) == [{"role": "admin"}]
    p = server.user_add(ALICE, org="acme")
    assert "already admin of organization acme" in p.stderr, p.stderr
    assert server.query(role, (ALICE, acme)) == [{"role": "admin"}]
    p = server.admin("user", "add", "--email", ALICE, "--org", "acme", "--role", "member",
                     check=False)
    assert p.returncode == 1 and "last admin of organization acme" in p.stderr, p.stderr
    assert server.query(role, (ALICE, acme)) == [{"role": "admin"}]
    server.user_add(BOB, org="acme", role="admin")
    p = server.user_add(ALICE, org="acme", role="member")
    assert "is now member of organization acme (was admin)" in p.stderr, p.stderr
    assert server.query(role, (ALICE, acme)) == [{"role": "member"}]
    ev = audit(server, "membership.role_changed")[-1]
    assert json.loads(ev["detail"])["role"] == "member" and ev["org_id"] == acme
