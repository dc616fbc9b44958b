# test_api.py: the pccd JSON API over real HTTP: shapes the reference client reads, the
# uniform 401, token lifecycle, input validation, limits, audit, throttling, durability.
import http.client
import json
import re
import signal
import stat
import subprocess
import threading
import time

import pytest

from conftest import (ALICE, BIN_DIR, ISO_RE, TIMEOUT, assert_no_sanitizer_report,
                      bad_checksum_token, display_of, raw_http, sqlite_only, token_checksum_ok,
                      well_formed_token)

TOKENS = "/v1/users/me/tokens"
UNAUTHORIZED = {"error": "Unauthorized / token invalid, expired or revoked", "code": "401"}
TOKEN_KEYS = {"id", "kind", "name", "display", "scopes", "organization", "createdAt",
              "expiresAt", "lastUsedAt", "lastUsedIp", "lastUsedUserAgent"}


def assert_token_object(obj, name=None):
    assert set(obj) == TOKEN_KEYS, f"token object keys: {sorted(obj)}"
    assert isinstance(obj["id"], str) and obj["id"].startswith("tok_"), obj
    assert obj["kind"] == "pat"
    assert isinstance(obj["name"], str)
    if name is not None:
        assert obj["name"] == name
    assert re.fullmatch(r"pcc_pat_[0-9A-Za-z]{4}\.\.\.[0-9A-Za-z]{4}", obj["display"]), obj
    assert obj["scopes"] == ["full"]
    assert obj["organization"] is None
    assert ISO_RE.match(obj["createdAt"]), obj
    assert obj["expiresAt"] is None
    assert obj["lastUsedAt"] is None or ISO_RE.match(obj["lastUsedAt"]), obj
    assert obj["lastUsedIp"] is None or isinstance(obj["lastUsedIp"], str)
    assert obj["lastUsedUserAgent"] is None or isinstance(obj["lastUsedUserAgent"], str)


def rejected_post(srv, **kw):
    """POST a token creation that must be refused, on a shared server: should the server
    wrongly accept it, the token is revoked again so that other tests are not affected."""
    r = srv.request("POST", TOKENS, **kw)
    if r.status == 201:
        srv.request("DELETE", f"{TOKENS}/{r.body['id']}")
    return r


def list_tokens(srv, token="__default__"):
    r = srv.get(TOKENS, token=token)
    assert r.status == 200, r
    assert list(r.body) == ["tokens", "omitted"]
    assert r.body["omitted"] == 0 or token != "__default__", "alice's first token sees all"
    return r.body["tokens"]


def audit_rows(srv, event=None):
    if event:
        return srv.query("SELECT * FROM audit_events WHERE event = ? ORDER BY id", (event,))
    return srv.query("SELECT * FROM audit_events ORDER BY id")


# --- read-only, one server per module -------------------------------------------------------


def test_health_needs_no_token_and_reports_ok(shared_server):
    r = shared_server.get("/healthz", token=None)
    assert r.status == 200
    assert r.body["status"] == "ok"
    assert r.body["database"] == "ok"
    assert isinstance(r.body["version"], str) and r.body["version"]


def test_user_shape(shared_server):
    r = shared_server.get("/v1/users")
    assert r.status == 200, r
    user = r.body["user"]
    assert isinstance(user["userId"], str) and user["userId"]
    assert isinstance(user["name"], str)
    assert user["emails"] == [{"emailAddress": ALICE}]
    assert ISO_RE.match(user["createdAt"]), user


def test_organizations_shape(shared_server):
    r = shared_server.get("/v1/organizations")
    assert r.status == 200, r
    assert r.body == {"organizations": [{"name": "acme", "verboseName": "Acme Inc",
                                         "role": "admin"}]}


def test_daily_key_is_absent_when_unset(shared_server):
    r = shared_server.get("/v1/organizations/acme/daily")
    assert r.status == 200, r
    # No apiKey at all: the reference client's whoami shows "N/A" for a missing field, but
    # prints a null as "Daily API Key None".
    assert r.body == {"organization": "acme"}


def test_daily_key_of_unknown_org_is_404_naming_it(shared_server):
    r = shared_server.get("/v1/organizations/no-such-org/daily")
    assert r.status == 404, r
    assert r.body == {"error": "organization 'no-such-org' not found", "code": "404"}


def test_token_list_shape_never_shows_a_secret(shared_server):
    r = shared_server.get(TOKENS)
    assert r.status == 200
    toks = r.body["tokens"]
    assert len(toks) == 1
    assert_token_object(toks[0], "e2e")
    assert toks[0]["display"] == display_of(shared_server.token)
    assert shared_server.token not in r.raw.decode()
    assert shared_server.token[8:40] not in r.raw.decode()


def test_token_self_introspection(shared_server):
    r = shared_server.get("/v1/tokens/self")
    assert r.status == 200, r
    owner = r.body.pop("owner")
    assert_token_object(r.body, "e2e")
    assert r.body["display"] == display_of(shared_server.token)
    users = shared_server.get("/v1/users").body["user"]
    assert owner == {"userId": users["userId"], "email": ALICE}
    assert shared_server.token not in r.raw.decode()


def test_admin_issued_token_has_valid_format_and_checksum(shared_server):
    assert token_checksum_ok(shared_server.token), shared_server.token


def test_unknown_route_is_404(shared_server):
    for path in ("/v1/nope", "/no-such-page", "/v1/users/extra", "/v1/organizations/acme/daily/x"):
        r = shared_server.get(path)
        assert r.status == 404, (path, r)


@pytest.mark.parametrize("method,path,allowed", [
    ("POST", "/healthz", {"GET"}),
    ("PUT", "/v1/users", {"GET"}),
    ("DELETE", "/v1/organizations", {"GET"}),
    ("PATCH", TOKENS, {"GET", "POST"}),
    ("POST", "/v1/tokens/self", {"GET", "DELETE"}),
    ("GET", TOKENS + "/tok_x", {"DELETE"}),
])
def test_wrong_method_is_405_with_allow(shared_server, method, path, allowed):
    r = shared_server.request(method, path, body=b"{}" if method in ("POST", "PUT", "PATCH")
                              else None)
    assert r.status == 405, r
    allow = r.header("Allow")
    assert allow, r.headers
    assert {m.strip() for m in allow.split(",")} >= allowed, allow
    assert not {m.strip() for m in allow.split(",")} - allowed - {"HEAD", "OPTIONS"}, allow


def test_body_over_64k_is_413(shared_server):
    body = json.dumps({"name": "x" * (65 * 1024)})
    r = rejected_post(shared_server, body=body,
                      headers={"Content-Type": "application/json"})
    assert r.status == 413, r


def test_chunked_body_over_64k_is_413(shared_server):
    # No Content-Length to reject up front: the cap must hold while the body streams in.
    conn = http.client.HTTPConnection("127.0.0.1", shared_server.port, timeout=TIMEOUT)
    try:
        conn.request("POST", TOKENS, body=(b"x" * 1024 for _ in range(100)),
                     headers={"Authorization": f"Bearer {shared_server.token}",
                              "Content-Type": "application/json"}, encode_chunked=True)
        resp = conn.getresponse()
        status, ctype, body = resp.status, resp.getheader("Content-Type"), resp.read()
    finally:
        conn.close()
    assert status == 413, body
    assert ctype == "application/json" and json.loads(body)["code"] == "413"


def test_body_just_under_64k_is_read_and_validated(shared_server):
    # A large but allowed body is read and rejected for its content, not its size.
    body = json.dumps({"name": "x" * (60 * 1024)})
    r = rejected_post(shared_server, body=body,
                      headers={"Content-Type": "application/json"})
    assert r.status == 400, r
    assert "name" in r.body["error"]


def test_header_block_over_8k_is_431_json(shared_server):
    r = shared_server.get("/v1/users", headers={"X-Filler": "a" * (9 * 1024)})
    assert r.status == 431, r
    many = {f"X-Filler-{i}": "b" * 100 for i in range(100)}
    r = shared_server.get("/v1/users", headers=many)
    assert r.status == 431, r
    # a normal-sized header block is fine
    r = shared_server.get("/v1/users", headers={"X-Filler": "a" * (6 * 1024)})
    assert r.status == 200, r


def test_huge_header_block_is_431(shared_server):
    req = (b"GET /v1/users HTTP/1.1\r\nHost: x\r\nX-Filler: " + b"a" * (200 * 1024) +
           b"\r\nConnection: close\r\n\r\n")
    status, _ = raw_http(shared_server.url, req)
    assert status == 431
    assert shared_server.get("/healthz", token=None).status == 200


def test_malformed_json_names_line_and_column(shared_server):
    r = rejected_post(shared_server, body='{\n  "name": "a"\n  "b": 1\n}',
                      headers={"Content-Type": "application/json"})
    assert r.status == 400, r
    assert re.match(r"malformed JSON at line 3, column \d+: .+", r.body["error"]), r.body


@pytest.mark.parametrize("body", ["", "[]", '"name"', "null", "42", "{\"name\": \"a\"} x"])
def test_non_object_or_empty_body_is_400(shared_server, body):
    r = rejected_post(shared_server, body=body,
                      headers={"Content-Type": "application/json"})
    assert r.status == 400, (body, r)


def test_unknown_field_is_400_naming_it(shared_server):
    r = rejected_post(shared_server, json_body={"name": "a", "colour": "blue"})
    assert r.status == 400, r
    assert 'unknown field "colour"' in r.body["error"], r.body


def test_duplicate_key_is_400(shared_server):
    r = rejected_post(shared_server, body='{"name": "a", "name": "b"}',
                      headers={"Content-Type": "application/json"})
    assert r.status == 400, r
    assert "name" in r.body["error"], r.body


@pytest.mark.parametrize("body", [{}, {"name": ""}, {"name": "x" * 101}, {"name": "a\u0001b"},
                                  {"name": "line\nbreak"}, {"name": 7}, {"name": None}])
def test_invalid_token_name_is_400_naming_the_field(shared_server, body):
    r = rejected_post(shared_server, json_body=body)
    assert r.status == 400, (body, r)
    assert "name" in r.body["error"], r.body


@pytest.mark.parametrize("ctype", ["text/plain", "application/x-www-form-urlencoded",
                                   "multipart/form-data; boundary=x", "application/jsonp"])
def test_non_json_content_type_is_415(shared_server, ctype):
    r = rejected_post(shared_server, body='{"name": "ct"}',
                      headers={"Content-Type": ctype})
    assert r.status == 415, (ctype, r)


def test_rejected_inputs_created_nothing(shared_server):
    # Runs after the 4xx tests above (same module, file order): none of them made a token.
    assert [t["name"] for t in list_tokens(shared_server)] == ["e2e"]


def test_data_dir_and_files_are_private(make_server):
    srv = make_server(fresh=True)
    assert srv.get("/v1/users").status == 200
    data = srv.data
    assert stat.S_IMODE(data.stat().st_mode) == 0o700
    assert stat.S_IMODE((data / "secret").stat().st_mode) == 0o600
    for f in data.iterdir():
        assert stat.S_IMODE(f.stat().st_mode) & 0o077 == 0, f


@sqlite_only
def test_sqlite_database_files_are_private(make_server):
    srv = make_server(fresh=True)
    assert srv.get("/v1/users").status == 200
    assert stat.S_IMODE((srv.data / "pcc.db").stat().st_mode) == 0o600
    for f in srv.data.glob("pcc.db*"):  # the WAL and shared-memory files too
        assert stat.S_IMODE(f.stat().st_mode) & 0o077 == 0, f


# --- the uniform 401 ------------------------------------------------------------------------


def test_every_kind_of_bad_token_gets_the_same_401(server):
    revoked = server.create_token("to-revoke")
    r = server.request("DELETE", f"{TOKENS}/{revoked['id']}")
    assert r.status == 200, r
    good = server.token
    cases = {
        "missing": None,
        "garbage": "hello",
        "truncated": good[:-1],
        "extended": good + "A",
        "wrong checksum": bad_checksum_token(good[8:40]),
        "flipped random char": good[:10] + ("A" if good[10] != "A" else "B") + good[11:],
        "well-formed unknown": well_formed_token(),
        "revoked": revoked["token"],
    }
    bodies = {}
    for what, tok in cases.items():
        r = server.get("/v1/users", token=tok)
        assert r.status == 401, (what, r)
        assert r.header("WWW-Authenticate") == 'Bearer realm="pcc"', (what, r.headers)
        bodies[what] = r.raw
        assert r.body == UNAUTHORIZED, (what, r.body)
    assert len(set(bodies.values())) == 1, bodies
    for scheme in ("Basic " + good, "Bearer", "bearer" + good, "Bearer  "):
        r = server.get("/v1/organizations", token=None, headers={"Authorization": scheme})
        assert r.status == 401 and r.raw in bodies.values(), (scheme, r)
    # the good token still works
    assert server.get("/v1/users").status == 200


# --- token lifecycle ------------------------------------------------------------------------


def test_created_token_secret_is_shown_once_and_works(server):
    r = server.request("POST", TOKENS, json_body={"name": "ci deploy"})
    assert r.status == 201, r
    secret = r.body.pop("token")
    assert_token_object(r.body, "ci deploy")
    assert token_checksum_ok(secret), secret
    assert r.body["display"] == display_of(secret)
    assert r.body["lastUsedAt"] is None
    # the new token authenticates as alice
    me = server.get("/v1/users", token=secret)
    assert me.status == 200 and me.body["user"]["emails"][0]["emailAddress"] == ALICE
    # listings show it by id and display form, never the secret
    raw = server.get(TOKENS).raw.decode()
    assert secret not in raw and secret[8:40] not in raw
    toks = {t["id"]: t for t in list_tokens(server)}
    assert toks[r.body["id"]]["display"] == display_of(secret)
    assert "token" not in toks[r.body["id"]]
    selfr = server.get("/v1/tokens/self", token=secret)
    assert "token" not in selfr.body and secret not in selfr.raw.decode()
    # the admin listing does not show it either
    assert secret not in server.token_list()


def test_token_names_at_the_limits_are_accepted(server):
    for name in ("x" * 100, "é – ünïcode ✓", "a"):
        r = server.request("POST", TOKENS, json_body={"name": name})
        assert r.status == 201, (name, r)
        assert r.body["name"] == name


def test_json_content_type_with_charset_is_accepted(server):
    r = server.request("POST", TOKENS, body='{"name": "charset"}',
                       headers={"Content-Type": "application/json; charset=utf-8"})
    assert r.status == 201, r


def test_duplicate_active_name_is_409_and_reusable_after_revoke(server):
    first = server.create_token("ci")
    r = server.request("POST", TOKENS, json_body={"name": "ci"})
    assert r.status == 409, r
    assert "ci" in r.body["error"]
    assert [t["name"] for t in list_tokens(server)].count("ci") == 1
    assert server.request("DELETE", f"{TOKENS}/{first['id']}").status == 200
    again = server.request("POST", TOKENS, json_body={"name": "ci"})
    assert again.status == 201, again


def test_revoked_token_fails_on_its_very_next_request(server):
    tok = server.create_token("short-lived")
    assert server.get("/v1/users", token=tok["token"]).status == 200
    r = server.request("DELETE", f"{TOKENS}/{tok['id']}")
    assert r.status == 200, r
    assert r.body == {"status": "OK", "id": tok["id"], "revoked": True}
    assert server.get("/v1/users", token=tok["token"]).status == 401
    assert tok["id"] not in [t["id"] for t in list_tokens(server)]
    # revoking again: it is no longer an active token
    assert server.request("DELETE", f"{TOKENS}/{tok['id']}").status == 404


def test_token_can_revoke_itself(server):
    tok = server.create_token("self-destruct")
    r = server.request("DELETE", "/v1/tokens/self", token=tok["token"])
    assert r.status == 200, r
    assert r.body == {"status": "OK", "id": tok["id"], "revoked": True}
    assert server.get("/v1/tokens/self", token=tok["token"]).status == 401
    assert server.get("/v1/users").status == 200  # other tokens unaffected


def test_admin_revoke_takes_effect_on_the_running_server(server):
    tok = server.create_token("admin-revoked")
    assert server.get("/v1/users", token=tok["token"]).status == 200
    server.token_revoke(ALICE, tok["id"])
    assert server.get("/v1/users", token=tok["token"]).status == 401


def test_unknown_token_id_is_404(server):
    r = server.request("DELETE", f"{TOKENS}/tok_doesnotexist00")
    assert r.status == 404, r
    assert len(list_tokens(server)) == 1


def test_last_use_is_recorded(server):
    tok = server.create_token("used-later")
    before = {t["id"]: t for t in list_tokens(server)}[tok["id"]]
    assert before["lastUsedAt"] is None
    assert server.get("/v1/organizations", token=tok["token"],
                      headers={"User-Agent": "PipecatCloudCLI/0.6.0"}).status == 200
    deadline = time.time() + 5
    while True:
        after = {t["id"]: t for t in list_tokens(server)}[tok["id"]]
        if after["lastUsedAt"] is not None or time.time() > deadline:
            break
        time.sleep(0.05)
    assert ISO_RE.match(after["lastUsedAt"] or ""), after
    assert after["lastUsedIp"] == "127.0.0.1"
    assert after["lastUsedUserAgent"] == "PipecatCloudCLI/0.6.0"


# --- other users ----------------------------------------------------------------------------


def test_other_users_org_and_tokens_are_invisible(server):
    server.user_add("bob@example.com", org="bobco", org_name="Bob Co")
    bob_token = server.token_create("bob@example.com", "bob-ci")
    bob_self = server.get("/v1/tokens/self", token=bob_token)
    assert bob_self.status == 200
    bob_id = bob_self.body["id"]

    theirs = server.get("/v1/organizations/bobco/daily")
    missing = server.get("/v1/organizations/zzzzz/daily")
    assert theirs.status == missing.status == 404
    assert theirs.raw == missing.raw.replace(b"zzzzz", b"bobco")
    assert "bobco" not in json.dumps(server.get("/v1/organizations").body)

    r = server.request("DELETE", f"{TOKENS}/{bob_id}")
    unknown_id = "tok_" + "z" * (len(bob_id) - 4)
    unknown = server.request("DELETE", f"{TOKENS}/{unknown_id}")
    assert r.status == unknown.status == 404, r
    assert r.raw.replace(bob_id.encode(), b"ID") == unknown.raw.replace(unknown_id.encode(), b"ID")
    assert server.get("/v1/users", token=bob_token).status == 200  # still valid
    assert bob_id not in server.get(TOKENS).raw.decode()
    assert server.get("/v1/organizations", token=bob_token).body == {
        "organizations": [{"name": "bobco", "verboseName": "Bob Co", "role": "admin"}]}
    # bob sees his own org's key, alice does not see bob's
    server.daily_key("bobco", "bob-daily-key")
    assert server.get("/v1/organizations/bobco/daily", token=bob_token).body["apiKey"] == \
        "bob-daily-key"
    assert server.get("/v1/organizations/bobco/daily").raw == theirs.raw


def test_orgs_listed_in_membership_order_with_roles(server):
    server.user_add("bob@example.com", org="bobco", org_name="Bob Co")
    server.user_add(ALICE, org="bobco", role="member")
    server.user_add(ALICE, org="zeta", org_name="Zeta")
    r = server.get("/v1/organizations")
    assert r.body == {"organizations": [
        {"name": "acme", "verboseName": "Acme Inc", "role": "admin"},
        {"name": "bobco", "verboseName": "Bob Co", "role": "member"},
        {"name": "zeta", "verboseName": "Zeta", "role": "admin"},
    ]}


def test_daily_key_set_and_cleared(server):
    server.daily_key("acme", "dk_0123456789abcdef")
    assert server.get("/v1/organizations/acme/daily").body == {
        "apiKey": "dk_0123456789abcdef", "organization": "acme"}
    server.daily_key("acme", clear=True)
    assert server.get("/v1/organizations/acme/daily").body == {"organization": "acme"}


def test_daily_key_is_sealed_at_rest_and_never_logged(server):
    key = "dk_9f3b2c71e4a84d0b8c6f5e2a1d7b3c90"
    server.daily_key("acme", key)
    [row] = server.query("SELECT daily_api_key FROM organizations WHERE name = 'acme'")
    stored = row["daily_api_key"]
    # nonce:ciphertext in hex, under a key derived from the server secret: the database alone
    # does not reveal the key.
    assert re.fullmatch(r"[0-9a-f]{48}:[0-9a-f]+", stored), stored
    assert key not in stored and key[3:] not in stored
    assert server.get("/v1/organizations/acme/daily").body["apiKey"] == key
    # Setting it again seals it afresh; the old ciphertext is gone.
    server.daily_key("acme", key)
    [again] = server.query("SELECT daily_api_key FROM organizations WHERE name = 'acme'")
    assert again["daily_api_key"] != stored
    server.sync_log()
    assert key[3:] not in server.stderr


# --- audit and secrecy ----------------------------------------------------------------------


def test_audit_records_created_revoked_and_failed_without_secrets(server):
    tok = server.create_token("audited")
    assert server.request("DELETE", f"{TOKENS}/{tok['id']}").status == 200
    assert server.get("/v1/users", token=tok["token"]).status == 401
    assert server.get("/v1/users", token="garbage").status == 401
    assert server.get("/v1/users", token=well_formed_token()).status == 401

    created = [r for r in audit_rows(server, "token.created") if r["token_id"] == tok["id"]]
    revoked = [r for r in audit_rows(server, "token.revoked") if r["token_id"] == tok["id"]]
    assert len(created) == 1 and len(revoked) == 1, audit_rows(server)
    assert created[0]["user_id"] == revoked[0]["user_id"] != ""
    assert created[0]["ip"] == "127.0.0.1"
    failed = audit_rows(server, "auth.failed")
    assert len(failed) == 3, failed
    for row in failed:
        assert isinstance(json.loads(row["detail"]).get("reason"), str), row
    # the admin-issued token was audited too
    assert len(audit_rows(server, "token.created")) == 2

    secrets_ = [server.token, tok["token"]]
    dump = json.dumps(audit_rows(server))
    for s in secrets_:
        assert s not in dump and s[8:40] not in dump
    server.sync_log()
    for s in secrets_:
        assert s not in server.stderr and s[8:40] not in server.stderr


def test_secret_pasted_into_a_path_is_not_logged(server):
    # A user who confuses a token's secret with its id (`DELETE .../tokens/<secret>`) must not
    # get the secret written to the server log: the log shows paths, so it must redact it.
    tok = server.create_token("pasted")
    r = server.request("DELETE", f"{TOKENS}/{tok['token']}")
    assert r.status == 404, r
    r = server.get(f"/v1/organizations/{tok['token']}/daily")
    assert r.status == 404, r
    server.sync_log()
    assert tok["token"] not in server.stderr, "pccd logged a token secret taken from the path"
    assert tok["token"][8:40] not in server.stderr
    assert server.get("/v1/users", token=tok["token"]).status == 200


# --- throttling -----------------------------------------------------------------------------


def test_failed_auth_throttling_engages(make_server):
    limit = 5
    srv = make_server(serve_args=["--auth-fail-limit", str(limit)])
    assert srv.get("/v1/users").status == 200
    for i in range(limit):
        r = srv.get("/v1/users", token=well_formed_token())
        assert r.status == 401, (i, r)
    r = srv.get("/v1/users", token=well_formed_token())
    assert r.status == 429, r
    retry = r.header("Retry-After")
    assert retry and retry.isdigit() and 0 < int(retry) <= 60, r.headers
    # the address is blocked, even with a valid token
    r = srv.get("/v1/users")
    assert r.status == 429, r
    assert r.header("Retry-After")


def test_x_forwarded_for_does_not_evade_throttling(make_server):
    srv = make_server(serve_args=["--auth-fail-limit", "3"])
    for i in range(3):
        r = srv.get("/v1/users", token=well_formed_token(),
                    headers={"X-Forwarded-For": f"203.0.113.{i}"})
        assert r.status == 401, r
    r = srv.get("/v1/users", headers={"X-Forwarded-For": "203.0.113.99"})
    assert r.status == 429, r


def test_trust_proxy_throttles_per_forwarded_address(make_server):
    srv = make_server(serve_args=["--auth-fail-limit", "2", "--trust-proxy"])
    attacker = {"X-Forwarded-For": "198.51.100.7, 203.0.113.1"}
    for _ in range(2):
        assert srv.get("/v1/users", token="bad", headers=attacker).status == 401
    assert srv.get("/v1/users", headers=attacker).status == 429
    # another client behind the same proxy is unaffected and recorded by its own address
    other = {"X-Forwarded-For": "203.0.113.2", "User-Agent": "other-client"}
    tok = srv.create_token("behind-proxy")
    assert srv.get("/v1/users", token=tok["token"], headers=other).status == 200
    deadline = time.time() + 5
    while True:
        used = {t["id"]: t for t in list_tokens(srv)}[tok["id"]]
        if used["lastUsedIp"] is not None or time.time() > deadline:
            break
        time.sleep(0.05)
    assert used["lastUsedIp"] == "203.0.113.2", used
    assert used["lastUsedUserAgent"] == "other-client", used
    failed = audit_rows(srv, "auth.failed")
    assert {row["ip"] for row in failed} == {"203.0.113.1"}, failed


def test_successes_do_not_count_towards_throttling(make_server):
    srv = make_server(serve_args=["--auth-fail-limit", "3"])
    for _ in range(2):
        assert srv.get("/v1/users", token="bad").status == 401
    for _ in range(20):
        assert srv.get("/v1/users").status == 200


# --- concurrency and durability -------------------------------------------------------------


def test_concurrent_creation_and_listing(server):
    threads_n, per_thread = 32, 20
    errors, created = [], []
    lock = threading.Lock()

    def worker(t):
        try:
            for i in range(per_thread):
                if i % 2 == 0:
                    r = server.request("POST", TOKENS, json_body={"name": f"c-{t}-{i}"})
                    if r.status != 201:
                        errors.append(r)
                    else:
                        with lock:
                            created.append(r.body)
                else:
                    r = server.get(TOKENS)
                    if r.status != 200:
                        errors.append(r)
        except Exception as e:  # noqa: BLE001 - any failure of any request is reported
            errors.append(repr(e))

    ts = [threading.Thread(target=worker, args=(t,)) for t in range(threads_n)]
    for t in ts:
        t.start()
    for t in ts:
        t.join(120)
    assert not errors, errors[:5]
    expected = threads_n * per_thread // 2
    assert len(created) == expected
    assert len({c["token"] for c in created}) == expected
    toks = list_tokens(server)
    assert len(toks) == expected + 1
    assert {t["id"] for t in toks} >= {c["id"] for c in created}
    for c in created[:: max(1, expected // 10)]:
        assert server.get("/v1/users", token=c["token"]).status == 200


def test_acknowledged_token_survives_kill_9(server):
    tok = server.create_token("durable")
    revoked = server.create_token("durably-revoked")
    assert server.request("DELETE", f"{TOKENS}/{revoked['id']}").status == 200
    server.kill9()
    server.start()
    assert server.get("/v1/users", token=tok["token"]).status == 200
    assert server.get("/v1/users", token=revoked["token"]).status == 401
    assert tok["id"] in [t["id"] for t in list_tokens(server)]


def test_restart_keeps_tokens_and_server_secret(server):
    tok = server.create_token("kept")
    server.restart()
    assert server.get("/v1/users", token=tok["token"]).status == 200
    assert server.get("/v1/users").status == 200


def test_init_again_keeps_existing_tokens(server):
    server.stop()
    server.admin("init")
    server.start()
    assert server.get("/v1/users").status == 200


def test_acknowledged_writes_survive_kill_9_under_load(server):
    """kill -9 while many clients create tokens: every creation that was answered 201 works
    after a restart, and the database is healthy."""
    acknowledged, lock, stop = [], threading.Lock(), threading.Event()

    def worker(t):
        i = 0
        while not stop.is_set():
            try:
                r = server.request("POST", TOKENS, json_body={"name": f"load-{t}-{i}"},
                                   check_json=False, timeout=5)
            except (OSError, http.client.HTTPException):
                return  # the server is gone
            if r.status == 201:
                with lock:
                    acknowledged.append(r.body)
            i += 1

    ts = [threading.Thread(target=worker, args=(t,)) for t in range(8)]
    for t in ts:
        t.start()
    deadline = time.time() + 30
    while len(acknowledged) < 40 and time.time() < deadline:
        time.sleep(0.01)
    server.proc.kill()  # mid-flight: requests are still arriving
    stop.set()
    for t in ts:
        t.join(30)
    server.proc.wait(30)
    server._finish()
    assert len(acknowledged) >= 40
    server.start()
    health = server.get("/healthz", token=None)
    assert health.status == 200 and health.body["database"] == "ok"
    active = {t["id"] for t in list_tokens(server)}
    lost = [a["id"] for a in acknowledged if a["id"] not in active]
    assert not lost, f"{len(lost)} acknowledged tokens lost after kill -9"
    for a in acknowledged[::5]:
        assert server.get("/v1/users", token=a["token"]).status == 200


# --- the server process ---------------------------------------------------------------------


def test_sigint_stops_cleanly(server):
    tok = server.create_token("before-sigint")
    server.proc.send_signal(signal.SIGINT)
    assert server.proc.wait(TIMEOUT) == 0
    server._finish()
    server.start()
    assert server.get("/v1/users", token=tok["token"]).status == 200


def test_port_in_use_is_a_clear_error(server):
    p = subprocess.run([str(BIN_DIR / "pccd"), "serve", *server.storage_args(), "--listen",
                        f"127.0.0.1:{server.port}"], capture_output=True, text=True,
                       timeout=TIMEOUT)
    assert p.returncode != 0
    assert f"127.0.0.1:{server.port}" in p.stderr, p.stderr
    assert server.get("/healthz", token=None).status == 200  # the running one is unharmed


def test_serve_without_init_says_what_to_do(tmp_path):
    p = subprocess.run([str(BIN_DIR / "pccd"), "serve", "--data", str(tmp_path / "none"),
                        "--listen", "127.0.0.1:0"], capture_output=True, text=True,
                       timeout=TIMEOUT)
    assert p.returncode != 0
    assert "pccd init" in p.stderr, p.stderr
    assert_no_sanitizer_report(p.stderr, "pccd serve")


def test_admin_token_create_for_unknown_user_fails(server):
    p = server.admin("token", "create", "--user", "nobody@example.com", "--name", "x",
                     check=False)
    assert p.returncode != 0
    assert p.stdout == ""
    assert "nobody@example.com" in p.stderr


def test_trust_proxy_uses_the_last_forwarded_for_line(make_server):
    # A proxy that appends its own X-Forwarded-For line (HAProxy's `option forwardfor`) puts it
    # after the client's: the client must not choose the address pccd throttles and audits.
    srv = make_server(serve_args=["--trust-proxy"])
    req = (b"GET /v1/users HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer bad\r\n"
           b"X-Forwarded-For: 198.51.100.7\r\nX-Forwarded-For: 203.0.113.9\r\n"
           b"Connection: close\r\n\r\n")
    assert raw_http(srv.url, req)[0] == 401
    assert [r["ip"] for r in srv.query("SELECT ip FROM audit_events WHERE event = ?",
                                       ("auth.failed",))] == ["203.0.113.9"]
