# test_token_reach.py: a token acts on another token (lists, rotates, revokes it, or creates it)
# only when that token is no wider than itself: scopes, organization binding, expiry. A token
# bound to one organization, expiring tomorrow or made under an organization's policy must not
# reach the user's unbound, never-expiring token and take its secret. OAuth logins count as the
# user's full, renewing CLI login.
from conftest import http_request
from test_oauth import login, sign_in

TOKENS = "/v1/users/me/tokens"


def create(srv, token="__default__", status=201, **body):
    r = srv.request("POST", TOKENS, token=token, json_body=body)
    assert r.status == status, r
    return r.body


def ids(listing):
    return sorted(t["id"] for t in listing.body["tokens"])


def main_id(srv):
    return srv.get("/v1/tokens/self").body["id"]


def test_a_bound_token_cannot_take_the_unbound_tokens_secret(server):
    wide = main_id(server)  # alice's unbound, never-expiring, full token
    bound = create(server, name="bound", organization="acme")
    r = server.request("POST", f"{TOKENS}/{wide}/rotate", token=bound["token"])
    assert r.status == 403, r
    assert r.body["error"].startswith("organization: the token is unbound"), r
    assert "token" not in r.body
    r = server.request("DELETE", f"{TOKENS}/{wide}", token=bound["token"])
    assert r.status == 403 and r.body["error"].startswith("organization:"), r
    assert server.get("/v1/tokens/self").status == 200, "the unbound token is untouched"
    assert server.query("SELECT id FROM audit_events WHERE event = 'token.rotated'") == []
    # It lists what it can reach (itself and its siblings bound to acme), and says how many
    # others there are.
    sibling = create(server, token=bound["token"], name="sibling")
    listing = server.get(TOKENS, token=bound["token"])
    assert ids(listing) == sorted([bound["id"], sibling["id"]])
    assert listing.body["omitted"] == 1
    assert server.get(TOKENS).body["omitted"] == 0
    # Tokens bound to its own organization are in reach.
    r = server.request("POST", f"{TOKENS}/{sibling['id']}/rotate", token=bound["token"])
    assert r.status == 200, r
    assert server.request("DELETE", f"{TOKENS}/{sibling['id']}",
                          token=bound["token"]).status == 200


def test_a_token_bound_to_another_organization_is_out_of_reach(server):
    server.user_add("alice@example.com", org="other", org_name="Other Inc")
    acme = create(server, name="acme-bound", organization="acme")
    other = create(server, name="other-bound", organization="other")
    r = server.request("POST", f"{TOKENS}/{other['id']}/rotate", token=acme["token"])
    assert r.status == 403, r
    assert r.body["error"].startswith("organization: the token is bound to another"), r
    assert other["id"] not in ids(server.get(TOKENS, token=acme["token"]))
    assert server.request("POST", TOKENS, token=acme["token"],
                          json_body={"name": "hop", "organization": "other"}).status == 403


def test_an_expiring_token_cannot_reach_longer_lived_ones(server):
    wide = main_id(server)
    short = create(server, name="short", expiresInDays=1)
    r = server.request("POST", f"{TOKENS}/{wide}/rotate", token=short["token"])
    assert r.status == 403, r
    assert r.body["error"].startswith("expiresAt: the token never expires"), r
    assert server.request("DELETE", f"{TOKENS}/{wide}", token=short["token"]).status == 403
    later = create(server, name="later", expiresInDays=30)
    r = server.request("POST", f"{TOKENS}/{later['id']}/rotate", token=short["token"])
    assert r.status == 403 and r.body["error"].startswith("expiresAt: the token expires later")
    # What it creates expires no later than itself: by default at its own expiry.
    child = create(server, token=short["token"], name="child")
    assert child["expiresAt"] == short["expiresAt"]
    r = server.request("POST", TOKENS, token=short["token"],
                       json_body={"name": "longer", "expiresInDays": 30})
    assert r.status == 403 and r.body["error"].startswith("expiresAt:"), r
    assert ids(server.get(TOKENS, token=short["token"])) == sorted([short["id"], child["id"]])
    r = server.request("POST", f"{TOKENS}/{child['id']}/rotate", token=short["token"])
    assert r.status == 200 and r.body["expiresAt"] == short["expiresAt"], r


def test_a_token_made_under_an_org_policy_stays_inside_it(server):
    r = server.request("PATCH", "/v1/organizations/acme/token-policy",
                       json_body={"requireBinding": True, "maxLifetimeDays": 7})
    assert r.status == 200, r
    ruled = create(server, name="ruled", organization="acme", expiresInDays=7)
    wide = main_id(server)
    r = server.request("POST", f"{TOKENS}/{wide}/rotate", token=ruled["token"])
    assert r.status == 403, r
    assert ids(server.get(TOKENS, token=ruled["token"])) == [ruled["id"]]


def test_a_read_token_lists_only_read_tokens(server):
    reader = create(server, name="reader", scopes=["read"])
    other_reader = create(server, name="reader-2", scopes=["read"])
    listing = server.get(TOKENS, token=reader["token"])
    assert ids(listing) == sorted([reader["id"], other_reader["id"]])
    assert listing.body["omitted"] == 1


def test_oauth_logins_reach_every_token_and_renew_instead_of_rotating(server):
    cookie = sign_in(server)
    oauth = login(server, cookie)["access_token"]
    r = http_request(server.url, "POST", "/v1/tokens/self/rotate", token=oauth)
    assert r.status == 400, r
    assert r.body["error"].startswith("an OAuth login renews itself"), r
    # The user's full CLI login: unbound and renewing, so it reaches the never-expiring token.
    wide = main_id(server)
    r = http_request(server.url, "POST", f"{TOKENS}/{wide}/rotate", token=oauth)
    assert r.status == 200, r
    assert http_request(server.url, "GET", TOKENS, token=oauth).body["omitted"] == 0
    # A bound token cannot reach the OAuth login's token (unbound) either.
    server.token = r.body["token"]
    bound = create(server, name="bound", organization="acme")
    own = http_request(server.url, "GET", "/v1/tokens/self", token=oauth).body["id"]
    r = server.request("DELETE", f"{TOKENS}/{own}", token=bound["token"])
    assert r.status == 403, r
    assert http_request(server.url, "GET", "/v1/tokens/self", token=oauth).status == 200


def test_cli_list_with_a_bound_token_says_what_it_leaves_out(server, cli):
    bound = create(server, name="bound", organization="acme")
    p = cli.cloud("tokens", "list", env={"PIPECAT_TOKEN": bound["token"]})
    assert p.returncode == 0, p.stderr
    assert "bound" in p.stdout and server.get("/v1/tokens/self").body["name"] not in p.stdout
    assert "1 more token is not listed: wider than the token in use" in p.stderr, p.stderr
    p = cli.cloud("tokens", "rotate", main_id(server), env={"PIPECAT_TOKEN": bound["token"]})
    assert p.returncode != 0 and "organization: the token is unbound" in p.stderr, p
