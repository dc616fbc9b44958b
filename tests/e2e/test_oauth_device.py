# test_oauth_device.py: the device authorization grant (RFC 8628) over plain HTTP: the device
# endpoint, polling the token endpoint (authorization_pending, slow_down, expired_token,
# access_denied, single use, wrong client), and the dashboard's /device page (sign-in first,
# code entry, consent, CSRF, guess throttling, clear answers for unusable codes). Also code
# replay revoking the first exchange's login, the CLI logins list and "sign out everywhere".
import html
import re
import urllib.parse

import pytest

from conftest import ALICE, http_request
from test_oauth import FORM, REDIRECT, consent, login, pkce, sign_in, token

DEVICE_GRANT = "urn:ietf:params:oauth:grant-type:device_code"
USER_CODE_RE = re.compile(r"^[BCDFGHJKLMNPQRSTVWXZ]{4}-[BCDFGHJKLMNPQRSTVWXZ]{4}$")


def start(server, client_id="pipecat-cli", scope="full"):
    return http_request(server.url, "POST", "/oauth/device/code", token=None, headers=FORM,
                        body=urllib.parse.urlencode({"client_id": client_id, "scope": scope}))


def poll(server, device_code, client_id="pipecat-cli"):
    return token(server, grant_type=DEVICE_GRANT, device_code=device_code, client_id=client_id)


def page(server, cookie, path):
    return http_request(server.url, "GET", path, token=None, check_json=False,
                        headers={"Cookie": cookie})


def post(server, cookie, path, fields):
    return http_request(server.url, "POST", path, token=None, check_json=False,
                        body=urllib.parse.urlencode(fields),
                        headers={**FORM, "Cookie": cookie, "Origin": server.url})


def csrf_of(resp):
    return re.search(r'name="csrf" value="([0-9a-f]+)"', resp.raw.decode()).group(1)


def text_of(resp):
    return html.unescape(re.sub(r"<[^>]+>", " ", resp.raw.decode()))


def decide(server, cookie, typed_code, decision="approve"):
    """Enter typed_code on /device, then press decision on the consent step; the last page."""
    form = page(server, cookie, "/device")
    assert form.status == 200, form
    consent_page = post(server, cookie, "/device", {"csrf": csrf_of(form), "user_code": typed_code})
    if consent_page.status != 200:
        return consent_page
    fields = dict(re.findall(r'<input type="hidden" name="([a-z_]+)" value="([^"]*)"',
                             consent_page.raw.decode()))
    fields["decision"] = decision
    return post(server, cookie, "/device/decide", fields)


def test_discovery_names_the_device_endpoint(server):
    doc = server.get("/.well-known/openid-configuration", token=None).body
    assert doc["device_authorization_endpoint"] == server.url + "/oauth/device/code"
    assert DEVICE_GRANT in doc["grant_types_supported"]


def test_device_code_answer(server):
    r = start(server)
    assert r.status == 200, r
    b = r.body
    assert USER_CODE_RE.match(b["user_code"]), b
    assert len(b["device_code"]) == 43 and b["device_code"].isalnum()
    assert b["verification_uri"] == server.url + "/device"
    assert b["verification_uri_complete"] == server.url + "/device?user_code=" + b["user_code"]
    assert b["expires_in"] == 600 and b["interval"] == 5
    assert r.header("Cache-Control") and "no-store" in r.header("Cache-Control")
    # Neither secret is stored as such.
    dump = server.query("SELECT digest, user_code FROM oauth_device_codes")
    flat = " ".join(str(v) for row in dump for v in row.values())
    assert len(dump) == 1 and len(flat) > 100
    assert b["device_code"] not in flat and b["user_code"].replace("-", "") not in flat
    assert start(server, scope="read deploy").status == 200
    bad = start(server, scope="everything")
    assert bad.status == 400 and bad.body["error"] == "invalid_scope", bad


def test_pending_slow_down_approve_and_single_use(clocked):
    srv, clock = clocked
    cookie = sign_in(srv)
    dev = start(srv).body
    first = poll(srv, dev["device_code"])
    assert first.status == 400 and first.body["error"] == "authorization_pending", first
    fast = poll(srv, dev["device_code"])
    assert fast.status == 400 and fast.body["error"] == "slow_down", fast
    clock.advance(6)  # the interval is 10 s now: 6 s is still too fast
    assert poll(srv, dev["device_code"]).body["error"] == "slow_down"
    clock.advance(16)  # 15 s now
    assert poll(srv, dev["device_code"]).body["error"] == "authorization_pending"

    # Lowercase, without its dash: the same code.
    typed = dev["user_code"].replace("-", "").lower()
    done = decide(srv, cookie, typed)
    assert done.status == 200, done
    assert "Device connected" in text_of(done)
    clock.advance(16)
    ok = poll(srv, dev["device_code"])
    assert ok.status == 200, ok
    assert ok.body["access_token"].startswith("pcc_oat_")
    assert ok.body["refresh_token"].startswith("pcc_ort_")
    assert ok.body["token_type"] == "Bearer" and ok.body["scope"] == "full"
    me = http_request(srv.url, "GET", "/v1/users", token=ok.body["access_token"])
    assert me.status == 200, me
    clock.advance(16)
    again = poll(srv, dev["device_code"])
    assert again.status == 400 and again.body["error"] == "invalid_grant", again
    # The login refreshes like one from the code grant.
    r = token(srv, grant_type="refresh_token", refresh_token=ok.body["refresh_token"],
              client_id="pipecat-cli")
    assert r.status == 200, r
    # A used code gets a clear page, not a second consent.
    used = decide(srv, cookie, dev["user_code"])
    assert used.status == 409 and "already approved" in text_of(used), used


def test_denied(clocked):
    srv, clock = clocked
    cookie = sign_in(srv)
    dev = start(srv).body
    done = decide(srv, cookie, dev["user_code"], decision="deny")
    assert done.status == 200 and "Request denied" in text_of(done), done
    r = poll(srv, dev["device_code"])
    assert r.status == 400 and r.body["error"] == "access_denied", r
    again = decide(srv, cookie, dev["user_code"])
    assert again.status == 409 and "denied" in text_of(again)


def test_expired(clocked):
    srv, clock = clocked
    cookie = sign_in(srv)
    dev = start(srv).body
    clock.advance(601)
    r = poll(srv, dev["device_code"])
    assert r.status == 400 and r.body["error"] == "expired_token", r
    late = decide(srv, cookie, dev["user_code"])
    assert late.status == 410 and "expired" in text_of(late), late
    # An approval that came before expiry cannot be collected after it.
    dev = start(srv).body
    assert decide(srv, cookie, dev["user_code"]).status == 200
    clock.advance(601)
    assert poll(srv, dev["device_code"]).body["error"] == "expired_token"


def test_wrong_client_and_unknown_codes(server):
    r = start(server, client_id="someone-else")
    assert r.status == 400 and r.body["error"] == "invalid_client", r
    dev = start(server).body
    r = poll(server, dev["device_code"], client_id="someone-else")
    assert r.status == 400 and r.body["error"] == "invalid_client", r
    r = poll(server, "x" * 43)
    assert r.status == 400 and r.body["error"] == "invalid_grant", r
    r = poll(server, "")
    assert r.status == 400 and r.body["error"] == "invalid_grant", r


def test_device_page_needs_sign_in_and_returns_to_the_code(server):
    dev = start(server).body
    path = "/device?user_code=" + dev["user_code"]
    r = http_request(server.url, "GET", path, token=None, check_json=False)
    assert r.status == 303 and r.header("Location") == "/signin"
    resume = next(v.split(";")[0] for k, v in r.headers
                  if k.lower() == "set-cookie" and v.startswith("pcc_oauth_resume="))
    server.admin("user", "passwd", "--email", ALICE, stdin="a long passphrase for alice\n")
    signin = http_request(server.url, "GET", "/signin", token=None, check_json=False)
    pre = next(v.split(";")[0] for k, v in signin.headers
               if k.lower() == "set-cookie" and v.startswith("pcc_presession="))
    r = http_request(server.url, "POST", "/signin", token=None, check_json=False,
                     body=urllib.parse.urlencode({"csrf": csrf_of(signin), "email": ALICE,
                                                  "password": "a long passphrase for alice"}),
                     headers={**FORM, "Cookie": f"{pre}; {resume}", "Origin": server.url})
    assert r.status == 303 and r.header("Location") == path, r
    cookie = next(v.split(";")[0] for k, v in r.headers
                  if k.lower() == "set-cookie" and v.startswith("pcc_session="))
    form = page(server, cookie, path)
    assert form.status == 200
    assert f'value="{dev["user_code"]}"' in form.raw.decode()  # prefilled
    assert "frame-ancestors 'none'" in form.header("Content-Security-Policy")
    assert form.header("X-Frame-Options") == "DENY"
    assert form.header("Referrer-Policy") == "same-origin"


def test_device_forms_need_csrf_and_wrong_codes_are_throttled(server):
    cookie = sign_in(server)
    dev = start(server).body
    r = post(server, cookie, "/device", {"user_code": dev["user_code"]})
    assert r.status == 403, r
    form = page(server, cookie, "/device")
    r = post(server, cookie, "/device/decide", {"user_code": dev["user_code"],
                                                "decision": "approve", "csrf": "0" * 64})
    assert r.status == 403, r
    assert poll(server, dev["device_code"]).body["error"] == "authorization_pending"
    csrf = csrf_of(form)
    r = post(server, cookie, "/device", {"csrf": csrf, "user_code": "ABC"})
    assert r.status == 400 and "8 letters" in text_of(r)
    statuses = []
    for _ in range(31):
        r = post(server, cookie, "/device", {"csrf": csrf, "user_code": "BBBB-BBBB"})
        statuses.append(r.status)
        if r.status == 404:
            assert "That code is not valid" in text_of(r)
    assert statuses[0] == 404 and statuses[-1] == 429, statuses
    r = post(server, cookie, "/device", {"csrf": csrf, "user_code": dev["user_code"]})
    assert r.status == 429 and "Too many wrong codes" in text_of(r), r


def test_code_replay_revokes_the_login_of_the_first_exchange(server):
    cookie = sign_in(server)
    verifier, challenge = pkce()
    code = consent(server, cookie, challenge)["code"]
    fields = {"grant_type": "authorization_code", "code": code, "redirect_uri": REDIRECT,
              "client_id": "pipecat-cli", "code_verifier": verifier}
    first = token(server, **fields)
    assert first.status == 200, first
    assert http_request(server.url, "GET", "/v1/users",
                        token=first.body["access_token"]).status == 200
    replay = token(server, **fields)
    assert replay.status == 400 and replay.body["error"] == "invalid_grant"
    assert http_request(server.url, "GET", "/v1/users",
                        token=first.body["access_token"]).status == 401
    r = token(server, grant_type="refresh_token", refresh_token=first.body["refresh_token"],
              client_id="pipecat-cli")
    assert r.status == 400 and r.body["error"] == "invalid_grant", r
    events = [r["event"] for r in server.query("SELECT event FROM audit_events ORDER BY id")]
    assert "oauth.code_replayed" in events and "oauth.family_revoked" in events


def test_cli_logins_are_listed_and_revoked_one_by_one(server):
    cookie = sign_in(server)
    a, b = login(server, cookie), login(server, cookie)
    tokens_page = page(server, cookie, "/account/tokens")
    rows = re.findall(r'data-login-id="(fam_[A-Za-z0-9]+)"', tokens_page.raw.decode())
    assert len(rows) == 2, rows
    assert "CLI logins" in text_of(tokens_page)
    # Each login is listed once: its access tokens are not also rows of "Your tokens".
    table = tokens_page.raw.decode().split('id="tokens"')[1].split("</table>")[0]
    assert "CLI login (" not in table and "pcc_oat_" not in table, table
    r = post(server, cookie, f"/account/logins/{rows[0]}/revoke", {"csrf": csrf_of(tokens_page)})
    assert r.status == 303, r
    after = page(server, cookie, r.header("Location"))
    assert "CLI login revoked" in text_of(after)
    assert re.findall(r'data-login-id="(fam_[A-Za-z0-9]+)"', after.raw.decode()) == rows[1:]
    alive = [http_request(server.url, "GET", "/v1/users", token=t["access_token"]).status
             for t in (a, b)]
    assert sorted(alive) == [200, 401], alive
    # Without the CSRF field, or for a login that is not there: refused.
    assert post(server, cookie, f"/account/logins/{rows[1]}/revoke", {}).status == 403
    assert post(server, cookie, "/account/logins/fam_nope/revoke",
                {"csrf": csrf_of(after)}).status == 404


def test_sign_out_everywhere(server):
    cookie = sign_in(server)
    other = sign_in(server)  # a second browser
    oauth = login(server, cookie)
    pat = server.token  # a personal access token keeps working
    tokens_page = page(server, cookie, "/account/tokens")
    assert "Sign out everywhere" in text_of(tokens_page)
    r = post(server, cookie, "/signout/everywhere", {"csrf": csrf_of(tokens_page)})
    assert r.status == 303 and r.header("Location") == "/signin", r
    for c in (cookie, other):
        gone = page(server, c, "/account/tokens")
        assert gone.status == 303 and gone.header("Location") == "/signin"
    assert http_request(server.url, "GET", "/v1/users", token=oauth["access_token"]).status == 401
    assert token(server, grant_type="refresh_token", refresh_token=oauth["refresh_token"],
                 client_id="pipecat-cli").status == 400
    assert http_request(server.url, "GET", "/v1/users", token=pat).status == 200
    events = [r["event"] for r in server.query("SELECT event FROM audit_events ORDER BY id")]
    assert "web.signout_everywhere" in events and "oauth.revoked_all" in events


def test_an_address_may_start_only_so_many_authorizations(server):
    statuses = [start(server).status for _ in range(31)]
    assert statuses[:30] == [200] * 30 and statuses[30] == 429, statuses
    r = start(server)
    assert r.status == 429 and r.body["error"] == "slow_down" and r.header("Retry-After"), r


def test_housekeeping_deletes_expired_device_codes_and_sessions(clocked):
    """pccd serve deletes what has expired (at start and every ten minutes), with an hour's
    margin: a device code nobody used is gone once it is over an hour past its expiry."""
    srv, clock = clocked
    assert start(srv).status == 200
    sign_in(srv)
    count = "SELECT (SELECT count(*) FROM oauth_device_codes) AS codes, " \
            "(SELECT count(*) FROM web_sessions) AS sessions"
    assert srv.query(count) == [{"codes": 1, "sessions": 1}]
    clock.advance(30 * 60)  # expired (600 s), but inside the margin: kept at the next start
    srv.restart()
    assert srv.query(count) == [{"codes": 1, "sessions": 1}]
    clock.advance(60 * 86400)  # past the session's lifetime too
    srv.restart()
    assert srv.query(count) == [{"codes": 0, "sessions": 0}]
    assert "housekeeping: deleted 2 expired codes and sessions" in srv.stderr
