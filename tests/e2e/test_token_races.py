# test_token_races.py: tokens under concurrent requests over real HTTP: creates racing for one
# name, rotations racing for one token, and parallel CLI processes refreshing one OAuth login.
# Exactly one writer may win where the answer hands out a name or a secret.
import sqlite3
import threading
import urllib.parse

from conftest import ALICE, REPO, http_request, sqlite_only
from test_oauth import login, sign_in

TOKENS = "/v1/users/me/tokens"


def at_once(n, fn):
    """Run fn(i) for i in 0..n-1 on n threads released together; the results, in order."""
    start = threading.Barrier(n)
    results = [None] * n

    def run(i):
        start.wait()
        results[i] = fn(i)

    threads = [threading.Thread(target=run, args=(i,)) for i in range(n)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    return results


def test_concurrent_creates_with_one_name_make_one_token(server):
    for round_ in range(6):
        name = f"ci-{round_}"
        answers = at_once(24, lambda i: server.request("POST", TOKENS, json_body={"name": name}))
        created = [r for r in answers if r.status == 201]
        assert len(created) == 1, [r.status for r in answers]
        refused = [r for r in answers if r.status != 201]
        assert all(r.status == 409 for r in refused), refused
        assert all(r.body["error"] == f'a token named "{name}" already exists' for r in refused)
        listed = server.get(TOKENS).body["tokens"]
        assert [t["id"] for t in listed if t["name"] == name] == [created[0].body["id"]]
    # The name is free again once its token is revoked.
    server.request("DELETE", f"{TOKENS}/{created[0].body['id']}")
    assert server.request("POST", TOKENS, json_body={"name": "ci-5"}).status == 201


@sqlite_only
def test_the_migration_keeps_existing_duplicates_by_renaming_the_older(make_server):
    # A database from before migration 0009, holding what the old check-then-insert let in:
    # two active tokens of alice named "ci" (and a revoked one, and OAuth access tokens, which
    # share their login's name).
    srv = make_server(start=False)
    db_path = srv.data / "pcc.db"
    for extra in ("", "-wal", "-shm"):
        (srv.data / ("pcc.db" + extra)).unlink(missing_ok=True)
    earlier = sorted(p for p in (REPO / "lib/store/migrations/sqlite").glob("*.sql")
                     if p.name < "0009")
    db = sqlite3.connect(db_path)
    db.execute("CREATE TABLE schema_migrations (version INTEGER PRIMARY KEY, "
               "name TEXT NOT NULL, applied_at BIGINT NOT NULL)")
    for version, path in enumerate(earlier, 1):
        db.executescript(path.read_text())
        db.execute("INSERT INTO schema_migrations VALUES (?, ?, 0)", (version, path.stem))
    db.execute("INSERT INTO users (id, email, name, created_at) VALUES ('usr_a', ?, 'A', 1)",
               (ALICE,))
    rows = [("tok_old", "ci", 0, 1, 0), ("tok_new", "ci", 0, 2, 0), ("tok_gone", "ci", 0, 3, 9),
            ("tok_oa1", "CLI login (x)", 1, 1, 0), ("tok_oa2", "CLI login (x)", 1, 2, 0)]
    for tid, name, kind, created, revoked in rows:
        db.execute("INSERT INTO tokens (id, user_id, kind, name, display, digest, created_at, "
                   "revoked_at) VALUES (?, 'usr_a', ?, ?, 'd', ?, ?, ?)",
                   (tid, kind, name, "digest-" + tid, created, revoked))
    db.commit()
    db.close()
    srv.admin("token", "list", "--user", ALICE)  # opens the database: the migration runs
    names = {r["id"]: r["name"] for r in srv.query("SELECT id, name FROM tokens")}
    assert names == {"tok_old": "ci (tok_old)", "tok_new": "ci", "tok_gone": "ci",
                     "tok_oa1": "CLI login (x)", "tok_oa2": "CLI login (x)"}
    srv.start()
    r = srv.request("POST", TOKENS, token=srv.admin("token", "create", "--user", ALICE,
                                                    "--name", "mine").stdout.strip(),
                    json_body={"name": "ci"})
    assert r.status == 409, r


def test_concurrent_rotations_of_one_token_have_one_winner(server):
    target = server.create_token("rotated")
    old = target["token"]
    answers = at_once(16, lambda i: server.request("POST", f"{TOKENS}/{target['id']}/rotate"))
    won = [r for r in answers if r.status == 200]
    assert len(won) == 1, [r.status for r in answers]
    lost = [r for r in answers if r.status != 200]
    assert all(r.status == 409 for r in lost), lost
    assert all("rotated by another request" in r.body["error"] for r in lost), lost[0]
    new = won[0].body["token"]
    assert http_request(server.url, "GET", "/v1/tokens/self", token=new).status == 200
    assert http_request(server.url, "GET", "/v1/tokens/self", token=old).status == 401
    assert len(server.query("SELECT id FROM audit_events WHERE event = 'token.rotated'")) == 1


def refresh(server, refresh_token):
    return http_request(server.url, "POST", "/oauth/token", token=None,
                        body=urllib.parse.urlencode({"grant_type": "refresh_token",
                                                     "refresh_token": refresh_token,
                                                     "client_id": "pipecat-cli"}),
                        headers={"Content-Type": "application/x-www-form-urlencoded"})


def test_parallel_refreshes_of_one_login_get_the_same_tokens(server):
    # Three `pcc` processes find the access token near expiry and refresh at once with the one
    # refresh token they share.
    first = login(server, sign_in(server))
    answers = at_once(3, lambda i: refresh(server, first["refresh_token"]))
    assert [r.status for r in answers] == [200, 200, 200], answers
    pairs = {(r.body["access_token"], r.body["refresh_token"]) for r in answers}
    assert len(pairs) == 1, "every one of them got the same successor tokens"
    access, next_refresh = pairs.pop()
    assert access != first["access_token"] and next_refresh != first["refresh_token"]
    assert all(0 < r.body["expires_in"] <= 3600 for r in answers)
    # The login keeps working: the access token, and the next refresh.
    assert http_request(server.url, "GET", "/v1/users", token=access).status == 200
    assert server.query("SELECT id FROM audit_events WHERE event = 'oauth.family_revoked'") == []
    later = refresh(server, next_refresh)
    assert later.status == 200, later
    assert http_request(server.url, "GET", "/v1/users",
                        token=later.body["access_token"]).status == 200


def test_a_replay_after_the_successor_was_used_still_revokes_the_login(server):
    first = login(server, sign_in(server))
    second = refresh(server, first["refresh_token"]).body
    third = refresh(server, second["refresh_token"])
    assert third.status == 200, third
    # Within the grace window, but the login has moved on: a copy is being replayed.
    again = refresh(server, first["refresh_token"])
    assert again.status == 400 and again.body["error"] == "invalid_grant", again
    assert http_request(server.url, "GET", "/v1/users",
                        token=third.body["access_token"]).status == 401
    assert refresh(server, third.body["refresh_token"]).status == 400
