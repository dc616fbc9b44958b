# test_oauth.py: OAuth for the CLI over plain HTTP: discovery, the consent form (signed in
# through the dashboard, with its CSRF field), the token endpoint (authorization_code + PKCE
# S256, refresh_token with rotation and reuse detection), OAuth access tokens on the API, their
# expiry, and POST /auth/logout. Every refusal a client could trip is checked.
import base64
import hashlib
import re
import secrets
import urllib.parse

from conftest import ALICE, http_request

PASSWORD = "a long passphrase for alice"
REDIRECT = "http://127.0.0.1:8400/oauth_callback"
FORM = {"Content-Type": "application/x-www-form-urlencoded"}


def pkce():
    verifier = secrets.token_urlsafe(64)
    challenge = base64.urlsafe_b64encode(hashlib.sha256(verifier.encode()).digest())
    return verifier, challenge.decode().rstrip("=")


def sign_in(server):
    server.admin("user", "passwd", "--email", ALICE, stdin=PASSWORD + "\n")
    page = http_request(server.url, "GET", "/signin", token=None, check_json=False)
    pre = next(v.split(";")[0] for k, v in page.headers
               if k.lower() == "set-cookie" and v.startswith("pcc_presession="))
    csrf = re.search(r'name="csrf" value="([0-9a-f]+)"', page.raw.decode()).group(1)
    r = http_request(server.url, "POST", "/signin", token=None, check_json=False,
                     body=urllib.parse.urlencode({"csrf": csrf, "email": ALICE,
                                                  "password": PASSWORD}),
                     headers={**FORM, "Cookie": pre, "Origin": server.url})
    assert r.status == 303, r
    return next(v.split(";")[0] for k, v in r.headers
                if k.lower() == "set-cookie" and v.startswith("pcc_session="))


def authorize_query(challenge, state="st4te", redirect=REDIRECT, **extra):
    q = {"response_type": "code", "client_id": "pipecat-cli", "redirect_uri": redirect,
         "scope": "full", "code_challenge": challenge, "code_challenge_method": "S256",
         "state": state}
    q.update(extra)
    return "/oauth/authorize?" + urllib.parse.urlencode(q)


def consent(server, cookie, challenge, decision="approve", state="st4te"):
    """Open the consent page as the signed-in browser and press a button; the redirect."""
    page = http_request(server.url, "GET", authorize_query(challenge, state), token=None,
                        check_json=False, headers={"Cookie": cookie})
    assert page.status == 200, page
    html = page.raw.decode()
    assert "pipecat CLI" in html and ALICE in html
    assert "form-action 'self' http://127.0.0.1:*" in page.header("Content-Security-Policy")
    fields = dict(re.findall(r'<input type="hidden" name="([a-z_]+)" value="([^"]*)"', html))
    fields["decision"] = decision
    r = http_request(server.url, "POST", "/oauth/authorize", token=None, check_json=False,
                     body=urllib.parse.urlencode(fields),
                     headers={**FORM, "Cookie": cookie, "Origin": server.url})
    assert r.status == 303, r
    loc = urllib.parse.urlsplit(r.header("Location"))
    assert f"{loc.scheme}://{loc.netloc}{loc.path}" == REDIRECT
    return dict(urllib.parse.parse_qsl(loc.query))


def token(server, **fields):
    return http_request(server.url, "POST", "/oauth/token", token=None,
                        body=urllib.parse.urlencode(fields), headers=FORM)


def login(server, cookie):
    verifier, challenge = pkce()
    back = consent(server, cookie, challenge)
    assert back["state"] == "st4te"
    r = token(server, grant_type="authorization_code", code=back["code"], redirect_uri=REDIRECT,
              client_id="pipecat-cli", code_verifier=verifier)
    assert r.status == 200, r
    return r.body


def test_discovery_documents(server):
    cfg = http_request(server.url, "GET", "/auth/config", token=None)
    assert cfg.status == 200
    assert cfg.body == {"issuer": server.url, "client_id": "pipecat-cli", "scopes": "full"}
    oidc = http_request(server.url, "GET", "/.well-known/openid-configuration", token=None)
    assert oidc.status == 200
    assert oidc.body["issuer"] == server.url
    assert oidc.body["authorization_endpoint"] == server.url + "/oauth/authorize"
    assert oidc.body["token_endpoint"] == server.url + "/oauth/token"
    assert oidc.body["revocation_endpoint"] == server.url + "/oauth/revoke"
    assert oidc.body["code_challenge_methods_supported"] == ["S256"]
    assert oidc.body["response_types_supported"] == ["code"]


def test_public_url_sets_the_issuer(make_server):
    srv = make_server(serve_args=["--public-url", "https://pcc.example.com/"])
    assert http_request(srv.url, "GET", "/auth/config", token=None).body["issuer"] == \
        "https://pcc.example.com"
    oidc = http_request(srv.url, "GET", "/.well-known/openid-configuration", token=None).body
    assert oidc["token_endpoint"] == "https://pcc.example.com/oauth/token"


def test_code_flow_rotation_reuse_and_logout(clocked):
    server, clock = clocked
    cookie = sign_in(server)
    t = login(server, cookie)
    assert t["access_token"].startswith("pcc_oat_") and t["refresh_token"].startswith("pcc_ort_")
    assert t["token_type"] == "Bearer" and t["expires_in"] == 3600
    orgs = http_request(server.url, "GET", "/v1/organizations", token=t["access_token"])
    assert orgs.status == 200 and orgs.body["organizations"][0]["name"] == "acme"
    # A refresh token is never a bearer credential.
    assert http_request(server.url, "GET", "/v1/users", token=t["refresh_token"]).status == 401

    r1 = token(server, grant_type="refresh_token", refresh_token=t["refresh_token"],
               client_id="pipecat-cli")
    assert r1.status == 200, r1
    assert r1.body["refresh_token"] != t["refresh_token"]
    assert http_request(server.url, "GET", "/v1/users", token=r1.body["access_token"]).status == 200

    # The spent refresh token comes back after the grace window of parallel refreshes (60 s):
    # refused, and the whole family dies with it.
    clock.advance(61)
    again = token(server, grant_type="refresh_token", refresh_token=t["refresh_token"],
                  client_id="pipecat-cli")
    assert again.status == 400 and again.body["error"] == "invalid_grant"
    assert http_request(server.url, "GET", "/v1/users", token=r1.body["access_token"]).status == 401
    dead = token(server, grant_type="refresh_token", refresh_token=r1.body["refresh_token"],
                 client_id="pipecat-cli")
    assert dead.status == 400 and dead.body["error"] == "invalid_grant"

    # A second login, ended by POST /auth/logout.
    t2 = login(server, cookie)
    out = http_request(server.url, "POST", "/auth/logout", token=t2["access_token"],
                       json_body={"refresh_token": t2["refresh_token"]})
    assert out.status == 200, out
    assert http_request(server.url, "GET", "/v1/users", token=t2["access_token"]).status == 401
    assert token(server, grant_type="refresh_token", refresh_token=t2["refresh_token"],
                 client_id="pipecat-cli").status == 400


def test_codes_are_single_use_bound_to_the_verifier_and_redirect(server):
    cookie = sign_in(server)
    verifier, challenge = pkce()
    code = consent(server, cookie, challenge)["code"]
    base = {"grant_type": "authorization_code", "code": code, "redirect_uri": REDIRECT,
            "client_id": "pipecat-cli"}
    wrong = token(server, **base, code_verifier=pkce()[0])
    assert wrong.status == 400 and wrong.body["error"] == "invalid_grant", wrong
    assert "code_verifier" in wrong.body["error_description"]
    # The wrong attempt spent the code: the right verifier comes too late.
    late = token(server, **base, code_verifier=verifier)
    assert late.status == 400 and late.body["error"] == "invalid_grant"

    code = consent(server, cookie, challenge)["code"]
    other = dict(base, code=code, redirect_uri="http://127.0.0.1:8401/oauth_callback")
    assert token(server, **other, code_verifier=verifier).status == 400

    code = consent(server, cookie, challenge)["code"]
    ok = token(server, **dict(base, code=code), code_verifier=verifier)
    assert ok.status == 200
    replay = token(server, **dict(base, code=code), code_verifier=verifier)
    assert replay.status == 400 and replay.body["error"] == "invalid_grant"

    assert token(server, grant_type="password", username="x").body["error"] == \
        "unsupported_grant_type"
    assert token(server, **dict(base, client_id="other"), code_verifier=verifier).body["error"] \
        == "invalid_client"


def test_expired_codes_and_access_tokens_are_refused(make_server, tmp_path):
    clock = tmp_path / "clock"
    clock.write_text("0")
    srv = make_server(serve_args=["--test-clock-file", str(clock), "--oauth-access-ttl", "120"],
                      start=False)
    srv.env["PCCD_ALLOW_TEST_CLOCK"] = "1"
    srv.start()
    cookie = sign_in(srv)
    verifier, challenge = pkce()
    code = consent(srv, cookie, challenge)["code"]
    clock.write_text("61")
    late = token(srv, grant_type="authorization_code", code=code, redirect_uri=REDIRECT,
                 client_id="pipecat-cli", code_verifier=verifier)
    assert late.status == 400 and late.body["error"] == "invalid_grant"
    cookie = sign_in(srv)
    t = login(srv, cookie)
    assert t["expires_in"] == 120
    assert http_request(srv.url, "GET", "/v1/users", token=t["access_token"]).status == 200
    clock.write_text("200")
    assert http_request(srv.url, "GET", "/v1/users", token=t["access_token"]).status == 401
    fresh = token(srv, grant_type="refresh_token", refresh_token=t["refresh_token"],
                  client_id="pipecat-cli")
    assert fresh.status == 200
    assert http_request(srv.url, "GET", "/v1/users", token=fresh.body["access_token"]).status == 200


def test_consent_refuses_bad_redirects_and_deny_says_access_denied(server):
    cookie = sign_in(server)
    verifier, challenge = pkce()
    for bad in ("http://evil.example/oauth_callback", "http://127.0.0.1:8400/other",
                "https://127.0.0.1:8400/oauth_callback", "http://localhost:8400/oauth_callback",
                "http://127.0.0.1:8400/oauth_callback?x=1", "http://127.0.0.1/oauth_callback"):
        r = http_request(server.url, "GET", authorize_query(challenge, redirect=bad), token=None,
                         check_json=False, headers={"Cookie": cookie})
        assert r.status == 400 and r.header("Location") is None, (bad, r)
    plain = http_request(server.url, "GET",
                         authorize_query(challenge, code_challenge_method="plain"), token=None,
                         check_json=False, headers={"Cookie": cookie})
    assert plain.status == 303 and "error=invalid_request" in plain.header("Location")
    back = consent(server, cookie, challenge, decision="deny", state="abc")
    assert back == {"error": "access_denied", "state": "abc"}


def test_signed_out_browser_signs_in_then_returns_to_consent(server):
    verifier, challenge = pkce()
    path = authorize_query(challenge)
    r = http_request(server.url, "GET", path, token=None, check_json=False)
    assert r.status == 303 and r.header("Location") == "/signin"
    resume = next(v.split(";")[0] for k, v in r.headers
                  if k.lower() == "set-cookie" and v.startswith("pcc_oauth_resume="))
    server.admin("user", "passwd", "--email", ALICE, stdin=PASSWORD + "\n")
    page = http_request(server.url, "GET", "/signin", token=None, check_json=False)
    pre = next(v.split(";")[0] for k, v in page.headers
               if k.lower() == "set-cookie" and v.startswith("pcc_presession="))
    csrf = re.search(r'name="csrf" value="([0-9a-f]+)"', page.raw.decode()).group(1)
    r = http_request(server.url, "POST", "/signin", token=None, check_json=False,
                     body=urllib.parse.urlencode({"csrf": csrf, "email": ALICE,
                                                  "password": PASSWORD}),
                     headers={**FORM, "Cookie": f"{pre}; {resume}", "Origin": server.url})
    assert r.status == 303
    assert urllib.parse.urlsplit(r.header("Location")).path == "/oauth/authorize"
    assert dict(urllib.parse.parse_qsl(urllib.parse.urlsplit(r.header("Location")).query)) == \
        dict(urllib.parse.parse_qsl(urllib.parse.urlsplit(path).query))
