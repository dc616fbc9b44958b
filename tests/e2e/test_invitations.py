# test_invitations.py: the outside review's items 1, 3 and 4 (issue 11). Joining an organization
# takes the invitee's consent (an invitation, accepted through the API, the CLI or the dashboard,
# which expires); an organization's oversight shows in full and revokes only what it owns;
# accounts made by open sign-up verify their address (a one-time link through the log or an SMTP
# relay) before anyone can invite them; `pccd user add --org` joins an existing organization only
# with --join; sign-in has a budget per account as well as per address, sign-up has a rate limit,
# and neither sign-up nor inviting tells whether an address has an account.
import itertools
import json
import re
import socketserver
import threading
import time
import urllib.parse

import pytest

from conftest import ALICE, http_request

BOB = "bob@example.com"
ORG = "/v1/organizations/acme"
MINE = "/v1/users/me/invitations"
PASSWORD = "a long passphrase for the dashboard"
DAY = 86400
VERIFIED_CARD_HIDDEN = 'class="card hidden" id="verify-email"'  # "confirm your address" hidden
LINK_RE = r"mail to {}: Confirm your email address: (http://\S+/verify-email\?code=(\w+))"


def events(srv, event):
    return srv.query("SELECT * FROM audit_events WHERE event = ? ORDER BY id", (event,))


def member_orgs(srv, token):
    return {o["name"] for o in srv.get("/v1/organizations", token=token).body["organizations"]}


def invite(srv, email, role="member", token="__default__", status=201):
    r = srv.request("POST", f"{ORG}/invitations", token=token,
                    json_body={"email": email, "role": role})
    assert r.status == status, r
    return r.body


# --- dashboard helpers: a browser without a browser -----------------------------------------


def presession(srv, path):
    """GET a signed-out form page: (cookie header, csrf field)."""
    page = http_request(srv.url, "GET", path, token=None, check_json=False)
    assert page.status == 200, page
    cookie = next(v.split(";")[0] for k, v in page.headers
                  if k.lower() == "set-cookie" and v.startswith("pcc_presession="))
    csrf = re.search(r'name="csrf" value="([0-9a-f]+)"', page.raw.decode()).group(1)
    return cookie, csrf


def form_post(srv, path, fields, cookie):
    return http_request(srv.url, "POST", path, token=None, check_json=False,
                        body=urllib.parse.urlencode(fields),
                        headers={"Content-Type": "application/x-www-form-urlencoded",
                                 "Cookie": cookie, "Origin": srv.url})


def signup(srv, email, password=PASSWORD, headers=None):
    cookie, csrf = presession(srv, "/signup")
    return http_request(srv.url, "POST", "/signup", token=None, check_json=False,
                        body=urllib.parse.urlencode({"csrf": csrf, "email": email,
                                                     "password": password}),
                        headers={"Content-Type": "application/x-www-form-urlencoded",
                                 "Cookie": cookie, "Origin": srv.url, **(headers or {})})


def signin(srv, email, password=PASSWORD, headers=None):
    cookie, csrf = presession(srv, "/signin")
    return http_request(srv.url, "POST", "/signin", token=None, check_json=False,
                        body=urllib.parse.urlencode({"csrf": csrf, "email": email,
                                                     "password": password}),
                        headers={"Content-Type": "application/x-www-form-urlencoded",
                                 "Cookie": cookie, "Origin": srv.url, **(headers or {})})


class Dashboard:
    """A signed-in dashboard session: its cookie and the CSRF field of its forms."""

    def __init__(self, srv, email, password=PASSWORD):
        r = signin(srv, email, password)
        assert r.status == 303, r
        self.srv = srv
        self.cookie = next(v.split(";")[0] for k, v in r.headers
                           if k.lower() == "set-cookie" and v.startswith("pcc_session="))
        page = self.get("/account/tokens")
        self.csrf = re.search(r'name="csrf" value="([0-9a-f]+)"', page.raw.decode()).group(1)

    def get(self, path):
        return http_request(self.srv.url, "GET", path, token=None, check_json=False,
                            headers={"Cookie": self.cookie})

    def post(self, path, fields=None, csrf=True):
        return form_post(self.srv, path, {**({"csrf": self.csrf} if csrf else {}),
                                          **(fields or {})}, self.cookie)


def verification_link(srv, email):
    """The newest verification link the log mailer wrote for email: (url, code)."""
    srv.sync_log()
    found = re.findall(LINK_RE.format(re.escape(email)), srv.stderr)
    assert found, f"no verification link for {email} in the log"
    return found[-1]


def verify(srv, email):
    url, code = verification_link(srv, email)
    cookie, csrf = presession(srv, "/verify-email?code=" + code)
    r = form_post(srv, "/verify-email", {"csrf": csrf, "code": code}, cookie)
    assert r.status == 200 and "is confirmed" in r.raw.decode(), r


_names = itertools.count()


def api_token_of(srv, email):
    """A new PAT of email (made by the operator), unbound."""
    return srv.token_create(email, "t-%s-%d" % (email.split("@")[0], next(_names)))


@pytest.fixture
def open_server(make_server):
    return make_server(serve_args=["--signup", "open"])


# --- item 1: consent ------------------------------------------------------------------------


def test_an_invitation_makes_no_member_until_the_invitee_accepts(server):
    server.user_add(BOB)
    bob = api_token_of(server, BOB)
    inv = invite(server, BOB, role="member")
    assert inv["status"] == "pending" and inv["email"] == BOB
    assert inv["message"] == "invitation sent if the address can receive it"
    assert "acme" not in member_orgs(server, bob), "an invitation is not a membership"
    assert server.get(f"{ORG}/services", token=bob).status == 404

    listed = server.get(f"{ORG}/invitations").body["invitations"]
    assert [i["id"] for i in listed] == [inv["id"]]
    mine = server.get(MINE, token=bob).body
    assert mine["emailVerified"] is True
    assert [(i["id"], i["organization"], i["role"], i["invitedBy"]) for i in
            mine["invitations"]] == [(inv["id"], "acme", "member", ALICE)]
    # Nobody else can answer it: not the inviter, whose address it is not.
    assert server.request("POST", f"{MINE}/{inv['id']}/accept").status == 404

    r = server.request("POST", f"{MINE}/{inv['id']}/accept", token=bob)
    assert r.status == 200 and r.body["status"] == "accepted", r
    assert "acme" in member_orgs(server, bob)
    assert server.get(f"{ORG}/services", token=bob).status == 200
    again = server.request("POST", f"{MINE}/{inv['id']}/accept", token=bob)
    assert again.status == 409 and "accepted already" in again.body["error"], again
    assert server.get(MINE, token=bob).body["invitations"] == []

    created = events(server, "invitation.created")[-1]
    assert json.loads(created["detail"])["email"] == BOB
    accepted = events(server, "invitation.accepted")[-1]
    assert json.loads(accepted["detail"]) == {"invitationId": inv["id"], "role": "member"}
    added = events(server, "membership.added")[-1]
    assert json.loads(added["detail"])["invitationId"] == inv["id"]


def test_declined_withdrawn_and_expired_invitations_cannot_be_accepted(clocked):
    srv, clock = clocked
    srv.user_add(BOB)
    bob = api_token_of(srv, BOB)
    declined = invite(srv, BOB)
    r = srv.request("POST", f"{MINE}/{declined['id']}/decline", token=bob)
    assert r.status == 200 and r.body["status"] == "declined"
    assert events(srv, "invitation.declined")
    r = srv.request("POST", f"{MINE}/{declined['id']}/accept", token=bob)
    assert r.status == 409 and "declined" in r.body["error"], r

    withdrawn = invite(srv, BOB)
    assert srv.request("DELETE", f"{ORG}/invitations/{withdrawn['id']}").status == 200
    r = srv.request("POST", f"{MINE}/{withdrawn['id']}/accept", token=bob)
    assert r.status == 409 and "withdrawn" in r.body["error"], r

    # A new invitation replaces a pending one of the same address.
    first, second = invite(srv, BOB), invite(srv, BOB, role="admin")
    assert [i["id"] for i in srv.get(MINE, token=bob).body["invitations"]] == [second["id"]]
    assert srv.request("POST", f"{MINE}/{first['id']}/accept", token=bob).status == 409

    clock.advance(7 * DAY + 60)
    assert srv.get(MINE, token=bob).body["invitations"] == [], "expired: no longer listed"
    r = srv.request("POST", f"{MINE}/{second['id']}/accept", token=bob)
    assert r.status == 409 and "expired" in r.body["error"], r
    assert "acme" not in member_orgs(srv, bob)


def test_who_may_invite_and_answer(server):
    server.user_add(BOB)
    server.user_add("carol@example.com", org="acme", role="member")
    carol = api_token_of(server, "carol@example.com")
    r = invite(server, BOB, token=carol, status=403)
    assert "admin role" in r["error"]
    assert invite(server, "carol@example.com", status=409)["error"].endswith("already")
    assert invite(server, "not an address", status=400)["error"].startswith("email")
    assert invite(server, BOB, role="owner", status=400)["error"].startswith("role")
    # A token bound to one organization cannot widen the user's reach by joining another.
    inv = invite(server, BOB)
    server.user_add(BOB, org="bobco", org_name="Bob Co", join=False)
    p = server.admin("token", "create", "--user", BOB, "--name", "bound", "--org", "bobco")
    bound = p.stdout.strip()
    r = server.request("POST", f"{MINE}/{inv['id']}/accept", token=bound)
    assert r.status == 403 and "bound" in r.body["error"], r


def test_inviting_answers_the_same_with_or_without_an_account(open_server):
    srv = open_server
    srv.user_add(BOB)  # an account made by the operator: verified
    assert signup(srv, "squatter@example.com").status == 200  # an unverified sign-up
    answers = []
    for email in (BOB, "squatter@example.com", "nobody@example.com"):
        body = invite(srv, email)
        answers.append({k: v for k, v in body.items() if k not in ("id", "email", "createdAt",
                                                                     "expiresAt")})
    assert answers[0] == answers[1] == answers[2], answers


def test_oversight_covers_what_the_organization_owns(server, cli):
    server.user_add(BOB, org="acme", role="member")
    unbound = api_token_of(server, BOB)
    server.get("/v1/users", token=unbound, headers={"User-Agent": "bob-laptop/1"})
    p = server.admin("token", "create", "--user", BOB, "--name", "acme-ci", "--org", "acme")
    bound = p.stdout.strip()
    server.get("/v1/users", token=bound, headers={"User-Agent": "bob-ci/1"})
    tokens = server.get(f"{ORG}/tokens").body["tokens"]
    bobs = {t["access"]: t for t in tokens if t["owner"]["email"] == BOB}
    assert set(bobs) == {"organization", "membership"}, tokens

    member_only = bobs["membership"]
    assert set(member_only) == {"id", "access", "scopes", "createdAt", "expiresAt", "owner"}
    text = json.dumps(tokens)
    assert "bob-laptop" not in text and "t-bob" not in text, "no name or user agent"
    full = bobs["organization"]
    assert full["name"] == "acme-ci" and full["lastUsedUserAgent"] == "bob-ci/1"
    assert full["lastUsedIp"] == "127.0.0.1"

    r = server.request("DELETE", f"{ORG}/tokens/{member_only['id']}")
    assert r.status == 403, r
    assert "not bound to organization 'acme'" in r.body["error"]
    assert "remove the member" in r.body["error"]
    assert server.get("/v1/users", token=unbound).status == 200, "refused: still works"
    assert server.request("DELETE", f"{ORG}/tokens/{full['id']}").status == 200
    assert server.get("/v1/users", token=bound).status == 401

    p = cli.cloud("organizations", "tokens", "list", env={"PIPECAT_TOKEN": server.token})
    assert p.returncode == 0 and "(access through membership)" in p.stdout, p
    assert "bob-laptop" not in p.stdout
    p = cli.cloud("organizations", "tokens", "revoke", member_only["id"], "--yes",
                  env={"PIPECAT_TOKEN": server.token})
    assert p.returncode == 1 and "not bound to organization" in p.stderr, p


def test_cli_invites_lists_accepts_and_declines(server, cli):
    server.user_add(BOB)
    bob = {"PIPECAT_TOKEN": api_token_of(server, BOB)}
    alice = {"PIPECAT_TOKEN": server.token}
    p = cli.cloud("organizations", "invite", BOB, "--role", "admin", env=alice)
    assert p.returncode == 0 and "sent if the address can receive it" in p.stdout, p
    p = cli.cloud("organizations", "invitations", "list", env=bob)
    assert p.returncode == 0 and "acme" in p.stdout and ALICE in p.stdout, p
    p = cli.cloud("organizations", "invitations", "list", "--json", env=bob)
    inv = json.loads(p.stdout)["invitations"][0]
    assert inv["role"] == "admin"
    p = cli.cloud("organizations", "invitations", "accept", inv["id"], env=bob)
    assert p.returncode == 0 and "admin of organization acme" in p.stdout, p
    p = cli.cloud("organizations", "invitations", "accept", inv["id"], env=bob)
    assert p.returncode == 1 and "accepted already" in p.stderr, p

    server.user_add("dave@example.com")
    dave = {"PIPECAT_TOKEN": api_token_of(server, "dave@example.com")}
    cli.cloud("organizations", "invite", "dave@example.com", env=alice)
    inv = json.loads(cli.cloud("organizations", "invitations", "list", "--json",
                               env=dave).stdout)["invitations"][0]
    p = cli.cloud("organizations", "invitations", "decline", inv["id"], env=dave)
    assert p.returncode == 0 and "declined" in p.stdout, p
    p = cli.cloud("organizations", "invitations", "accept", "inv_doesnotexist", env=dave)
    assert p.returncode == 1 and "no invitation of yours" in p.stderr, p


def test_dashboard_invite_accept_and_decline_with_csrf(open_server):
    srv = open_server
    srv.admin("user", "passwd", "--email", ALICE, stdin=PASSWORD + "\n")
    srv.user_add(BOB)
    srv.admin("user", "passwd", "--email", BOB, stdin=PASSWORD + "\n")
    alice, bob = Dashboard(srv, ALICE), Dashboard(srv, BOB)

    # The members page invites; an address with or without an account gets the same answer.
    with_account = alice.post("/org/members", {"email": BOB, "role": "member"})
    without = alice.post("/org/members", {"email": "nobody@example.com", "role": "member"})
    assert with_account.status == without.status == 303
    assert with_account.header("Location") == without.header("Location") == \
        "/org/members?done=invited"
    page = alice.get("/org/members?done=invited").raw.decode()
    assert "Invitation sent if the address can receive it" in page
    assert BOB in page and "nobody@example.com" in page and "Pending invitations" in page
    assert "acme" not in member_orgs(srv, api_token_of(srv, BOB))

    html = bob.get("/account/invitations").raw.decode()
    inv_id = re.search(r'action="/account/invitations/(inv_\w+)/accept"', html).group(1)
    assert "Acme Inc" in html and ALICE in html
    assert bob.post(f"/account/invitations/{inv_id}/accept", csrf=False).status == 403
    assert "acme" not in member_orgs(srv, api_token_of(srv, BOB)), "no CSRF field: nothing"
    r = bob.post(f"/account/invitations/{inv_id}/accept")
    assert r.status == 303 and r.header("Location") == "/account/invitations?done=accepted"
    assert "acme" in member_orgs(srv, api_token_of(srv, BOB))

    # Withdrawing from the members page.
    html = alice.get("/org/members").raw.decode()
    pending = re.search(r'action="/org/invitations/(inv_\w+)/revoke"', html).group(1)
    r = alice.post(f"/org/invitations/{pending}/revoke")
    assert r.status == 303 and r.header("Location") == "/org/members?done=withdrawn"
    assert "nobody@example.com" not in alice.get("/org/members").raw.decode()


# --- item 3: verified addresses ---------------------------------------------------------------


def test_an_unverified_sign_up_cannot_see_or_accept_until_it_verifies(open_server):
    srv = open_server
    assert signup(srv, "cto@victim.example").status == 200
    squatter = Dashboard(srv, "cto@victim.example")
    inv = invite(srv, "cto@victim.example")
    html = squatter.get("/account/invitations").raw.decode()
    assert VERIFIED_CARD_HIDDEN not in html and inv["id"] not in html
    assert squatter.post(f"/account/invitations/{inv['id']}/accept").status == 404
    members = [m["email"] for m in srv.query(
        "SELECT u.email FROM memberships m JOIN users u ON u.id = m.user_id "
        "JOIN organizations o ON o.id = m.org_id WHERE o.name = 'acme'")]
    assert "cto@victim.example" not in members

    # The link: its GET only shows the button (a mail scanner spends nothing), the POST with
    # its CSRF field verifies, once.
    url, code = verification_link(srv, "cto@victim.example")
    assert url.startswith(srv.url + "/verify-email?code=")
    for _ in range(2):
        page = http_request(srv.url, "GET", "/verify-email?code=" + code, token=None,
                            check_json=False)
        assert page.status == 200 and "Confirm cto@victim.example" in page.raw.decode()
    assert srv.query("SELECT email_verified FROM users WHERE email = ?",
                     ("cto@victim.example",))[0]["email_verified"] == 0
    cookie, csrf = presession(srv, "/signin")
    assert form_post(srv, "/verify-email", {"code": code}, cookie).status == 403, "no CSRF"
    verify(srv, "cto@victim.example")
    cookie, csrf = presession(srv, "/signin")
    assert form_post(srv, "/verify-email", {"csrf": csrf, "code": code}, cookie).status == 410
    assert http_request(srv.url, "GET", "/verify-email?code=" + code, token=None,
                        check_json=False).status == 410
    other = ("y" if code[0] == "x" else "x") + code[1:]
    assert http_request(srv.url, "GET", "/verify-email?code=" + other, token=None,
                        check_json=False).status == 404
    assert events(srv, "email.verified")

    r = squatter.post(f"/account/invitations/{inv['id']}/accept")
    assert r.status == 303, r


def test_a_new_link_can_be_sent_and_links_expire(clocked):
    srv, clock = clocked
    srv.stop()
    srv.serve_args += ["--signup", "open"]
    srv.start()
    assert signup(srv, "late@example.com").status == 200
    first_url, first = verification_link(srv, "late@example.com")
    clock.advance(DAY + 60)
    assert http_request(srv.url, "GET", "/verify-email?code=" + first, token=None,
                        check_json=False).status == 410, "a day old: expired"
    dash = Dashboard(srv, "late@example.com")
    r = dash.post("/account/verify/resend")
    assert r.status == 303 and r.header("Location") == "/account/invitations?done=sent", r
    _, second = verification_link(srv, "late@example.com")
    assert second != first
    verify(srv, "late@example.com")
    assert VERIFIED_CARD_HIDDEN in dash.get("/account/invitations").raw.decode()


def test_the_log_mailer_writes_the_link_and_no_other_secret(open_server):
    srv = open_server
    assert signup(srv, "log@example.com", password="a password nobody may log").status == 200
    url, code = verification_link(srv, "log@example.com")
    log = srv.stderr
    assert log.count(code) == 1, "the link is written once, by the mailer"
    assert "a password nobody may log" not in log
    digest = srv.query("SELECT digest FROM email_verifications")[0]["digest"]
    assert code not in digest and len(digest) == 64, "stored as a keyed digest, like a token"


class SMTPHandler(socketserver.StreamRequestHandler):
    """Just enough SMTP for one client: every message lands in server.messages."""

    def handle(self):
        self.wfile.write(b"220 test ESMTP\r\n")
        mail = {"from": None, "to": [], "data": b""}
        while True:
            line = self.rfile.readline()
            if not line:
                return
            verb = line[:4].upper()
            if verb in (b"EHLO", b"HELO"):
                self.wfile.write(b"250 test\r\n")
            elif verb == b"MAIL":
                mail["from"] = line.decode().strip()
                self.wfile.write(b"250 OK\r\n")
            elif verb == b"RCPT":
                mail["to"].append(line.decode().strip())
                self.wfile.write(b"250 OK\r\n")
            elif verb == b"DATA":
                self.wfile.write(b"354 go on\r\n")
                data = b""
                while not data.endswith(b"\r\n.\r\n"):
                    chunk = self.rfile.readline()
                    if not chunk:
                        return
                    data += chunk
                mail["data"] = data
                self.server.messages.append(mail)
                self.wfile.write(b"250 queued\r\n")
            elif verb == b"QUIT":
                self.wfile.write(b"221 bye\r\n")
                return
            else:
                self.wfile.write(b"250 OK\r\n")


def test_the_smtp_mailer_sends_the_link_through_a_relay(make_server):
    relay = socketserver.ThreadingTCPServer(("127.0.0.1", 0), SMTPHandler)
    relay.daemon_threads = True
    relay.messages = []
    threading.Thread(target=relay.serve_forever, daemon=True).start()
    try:
        port = relay.server_address[1]
        srv = make_server(serve_args=["--signup", "open", "--smtp-url",
                                      f"smtp://127.0.0.1:{port}", "--smtp-from",
                                      "pccd@example.org"])
        assert signup(srv, "mailed@example.com").status == 200
        deadline = time.time() + 10
        while not relay.messages and time.time() < deadline:
            time.sleep(0.05)
        assert relay.messages, "nothing reached the relay"
        msg = relay.messages[0]
        assert msg["from"] == "MAIL FROM:<pccd@example.org>"
        assert msg["to"] == ["RCPT TO:<mailed@example.com>"]
        text = msg["data"].decode()
        assert "Subject: Confirm your email address" in text
        code = re.search(r"/verify-email\?code=(\w+)", text).group(1)
        srv.sync_log()
        assert code not in srv.stderr, "through a relay, the link never reaches the log"
        cookie, csrf = presession(srv, "/verify-email?code=" + code)
        r = form_post(srv, "/verify-email", {"csrf": csrf, "code": code}, cookie)
        assert r.status == 200 and "is confirmed" in r.raw.decode()
    finally:
        relay.shutdown()
        relay.server_close()


def test_user_add_joins_an_existing_organization_only_with_join(open_server):
    srv = open_server
    srv.user_add(BOB)
    p = srv.admin("user", "add", "--email", BOB, "--org", "acme", check=False)
    assert p.returncode == 1 and "exists already" in p.stderr and "--join" in p.stderr, p
    assert "acme" not in member_orgs(srv, api_token_of(srv, BOB))
    srv.admin("user", "add", "--email", BOB, "--org", "acme", "--join")
    assert "acme" in member_orgs(srv, api_token_of(srv, BOB))
    # A new organization needs no --join: its first member is its admin.
    srv.admin("user", "add", "--email", BOB, "--org", "bobco")
    # An unverified sign-up account is added to nothing, even with --join...
    assert signup(srv, "cto@victim.example").status == 200
    p = srv.admin("user", "add", "--email", "cto@victim.example", "--org", "acme", "--join",
                  check=False)
    assert p.returncode == 1 and "not verified" in p.stderr, p
    p = srv.admin("user", "add", "--email", "cto@victim.example", "--org", "fresh",
                  check=False)
    assert p.returncode == 1 and "not verified" in p.stderr, p
    assert not srv.query("SELECT id FROM organizations WHERE name = 'fresh'"), "none made"
    # ...until its owner verifies the address.
    verify(srv, "cto@victim.example")
    srv.admin("user", "add", "--email", "cto@victim.example", "--org", "acme", "--join")


# --- item 4: budgets and saying nothing about accounts ---------------------------------------


def test_sign_up_answers_the_same_for_a_taken_address(open_server):
    srv = open_server
    srv.admin("user", "passwd", "--email", ALICE, stdin=PASSWORD + "\n")
    new = signup(srv, "new@example.com")
    taken = signup(srv, ALICE)
    assert new.status == taken.status == 200
    assert new.raw.decode().replace("new@example.com", "X") == \
        taken.raw.decode().replace(ALICE, "X")
    new_cookies = sorted(v.split("=")[0] for k, v in new.headers if k.lower() == "set-cookie")
    taken_cookies = sorted(v.split("=")[0] for k, v in taken.headers
                           if k.lower() == "set-cookie")
    assert new_cookies == taken_cookies, "no session for either"
    # The owner hears of it by mail; the password is unchanged.
    srv.sync_log()
    assert f"mail to {ALICE}: You already have an account" in srv.stderr
    assert signin(srv, ALICE, PASSWORD).status == 303


def test_sign_up_is_rate_limited_per_address(make_server):
    srv = make_server(serve_args=["--signup", "open", "--signup-limit", "2", "--trust-proxy"])
    here = {"X-Forwarded-For": "203.0.113.5"}
    assert signup(srv, "a1@example.com", headers=here).status == 200
    assert signup(srv, "a2@example.com", headers=here).status == 200
    r = signup(srv, "a3@example.com", headers=here)
    assert r.status == 429 and int(r.header("Retry-After")) > 0, r
    assert not srv.query("SELECT id FROM users WHERE email = 'a3@example.com'")
    assert signup(srv, "b1@example.com", headers={"X-Forwarded-For": "198.51.100.9"}).status \
        == 200


def test_sign_in_has_a_budget_per_account_across_addresses(make_server):
    srv = make_server(serve_args=["--account-fail-limit", "5", "--trust-proxy"])
    srv.admin("user", "passwd", "--email", ALICE, stdin=PASSWORD + "\n")
    srv.user_add(BOB)
    srv.admin("user", "passwd", "--email", BOB, stdin=PASSWORD + "\n")
    # Five guesses from five addresses: each address is far below its own limit (30).
    for i in range(5):
        r = signin(srv, ALICE, "guess %d" % i, headers={"X-Forwarded-For": f"203.0.113.{i}"})
        assert r.status == 401, r
    # The account is spent: even the right password, from a new address, is not checked.
    r = signin(srv, ALICE, PASSWORD, headers={"X-Forwarded-For": "203.0.113.99"})
    assert r.status == 429 and int(r.header("Retry-After")) > 0, r
    assert "pcc_session=" not in json.dumps(r.headers)
    # Another account, and an address without an account, answer as before.
    assert signin(srv, BOB, PASSWORD, headers={"X-Forwarded-For": "203.0.113.99"}).status == 303
    for i in range(5):
        signin(srv, "ghost@example.com", "x" * 8, headers={"X-Forwarded-For": f"192.0.2.{i}"})
    r = signin(srv, "ghost@example.com", "x" * 8, headers={"X-Forwarded-For": "192.0.2.99"})
    assert r.status == 429, "an address without an account is throttled alike"
