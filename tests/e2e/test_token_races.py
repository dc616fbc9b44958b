# test_token_races.py: tokens under concurrent requests over real HTTP: creates racing for one
# name, rotations racing for one token, and parallel CLI processes refreshing one OAuth login.
# Exactly one writer may win where the answer hands out a name or a secret.
import threading
import urllib.parse

from conftest import http_request
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
