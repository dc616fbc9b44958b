# test_multinode.py: several pccd nodes on one PostgreSQL database, as behind a load balancer:
# tokens and revocations are seen by every node at once, kill -9 of one node loses no
# acknowledged write while the other keeps serving, a database restart is survived without
# restarting the nodes, and nodes starting together on a fresh database migrate it once.
import http.client
import os
import secrets
import subprocess
import threading
import time

import pytest

from conftest import ALICE, PG, REPO, TIMEOUT, postgres_only, well_formed_token

pytestmark = postgres_only

TOKENS = "/v1/users/me/tokens"
PG_MIGRATIONS = sorted(p.name for p in (REPO / "lib/store/migrations/pg").glob("*.sql"))
POLL = 0.05  # seconds between polls; every wait below also has a deadline


@pytest.fixture
def nodes(make_server):
    """Nodes A and B: one database, and each its own data directory holding a copy of the one
    server secret (as docs/deploy.md has an operator distribute it)."""
    a = make_server()
    b = make_server(share=a)
    return a, b


def pg_ctl(*args):
    assert PG.ctl, "PCC_PG_CTL is not set: run under scripts/pg-test.sh"
    p = subprocess.run([PG.ctl, *args], capture_output=True, text=True, timeout=120)
    assert p.returncode == 0, f"pg_ctl {' '.join(args)} failed: {p.stdout}{p.stderr}"


def assert_unavailable(r, what):
    """A clear 503, never a 401 or a crash: the body says what failed and the request id."""
    assert r.status == 503, (what, r)
    assert r.body["code"] == "503", (what, r)
    assert r.body["error"].startswith("service unavailable"), (what, r)
    rid = r.header("X-Request-Id")
    assert rid and rid in r.body["error"], (what, r.headers, r.body)


def wait_for(check, what, seconds=30):
    """Poll check() until it returns a true value; fail after seconds."""
    deadline = time.monotonic() + seconds
    while True:
        value = check()
        if value:
            return value
        assert time.monotonic() < deadline, f"timed out after {seconds}s waiting for {what}"
        time.sleep(POLL)


def test_token_created_on_one_node_works_on_the_other(nodes):
    a, b = nodes
    # the admin-issued token: B holds only a copy of the secret, and it is the same secret
    assert a.get("/v1/users").status == 200
    assert b.get("/v1/users").status == 200

    on_a = a.create_token("made-on-a")
    r = b.get("/v1/users", token=on_a["token"])
    assert r.status == 200, r
    assert r.body["user"]["emails"] == [{"emailAddress": ALICE}]
    on_b = b.create_token("made-on-b")
    r = a.get("/v1/tokens/self", token=on_b["token"])
    assert r.status == 200 and r.body["id"] == on_b["id"], r
    # the admin commands of either node write to the same database
    by_admin = b.token_create(ALICE, "admin-on-b")
    assert a.get("/v1/users", token=by_admin).status == 200
    for node in nodes:
        names = {t["name"] for t in node.get(TOKENS).body["tokens"]}
        assert names == {"e2e", "made-on-a", "made-on-b", "admin-on-b"}, names
    # a name is unique across the installation, not per node
    r = b.request("POST", TOKENS, json_body={"name": "made-on-a"})
    assert r.status == 409, r


def test_revocation_on_one_node_fails_on_the_others_very_next_request(nodes):
    a, b = nodes
    for origin, other in ((a, b), (b, a)):
        tok = origin.create_token(f"revoked-on-{origin.port}")
        # used on both nodes first, so that any state a node kept about it would exist now
        for _ in range(3):
            assert other.get("/v1/users", token=tok["token"]).status == 200
            assert origin.get("/v1/organizations", token=tok["token"]).status == 200
        r = origin.request("DELETE", f"{TOKENS}/{tok['id']}")
        assert r.status == 200, r
        r = other.get("/v1/users", token=tok["token"])
        assert r.status == 401, ("revoked on one node, still accepted by the other", r)
        assert origin.get("/v1/users", token=tok["token"]).status == 401

    # a token revoking itself on A
    tok = b.create_token("self-revoked")
    assert b.get("/v1/users", token=tok["token"]).status == 200
    assert a.request("DELETE", "/v1/tokens/self", token=tok["token"]).status == 200
    assert b.get("/v1/users", token=tok["token"]).status == 401

    # the admin command, through B's settings, while both nodes run
    tok = a.create_token("admin-revoked")
    assert a.get("/v1/users", token=tok["token"]).status == 200
    assert b.get("/v1/users", token=tok["token"]).status == 200
    b.token_revoke(ALICE, tok["id"])
    assert a.get("/v1/users", token=tok["token"]).status == 401
    assert b.get("/v1/users", token=tok["token"]).status == 401
    # the other tokens are unaffected
    assert a.get("/v1/users").status == 200 and b.get("/v1/users").status == 200


def test_kill_9_of_one_node_under_load_loses_no_acknowledged_write(nodes):
    """Clients create tokens through A while others use B; A is killed with kill -9 mid-load.
    Every creation A answered 201 works on B afterwards, and B answered every request."""
    a, b = nodes
    acknowledged, b_failures, lock = [], [], threading.Lock()
    stop_a, stop_b = threading.Event(), threading.Event()
    b_after_kill = []
    killed = threading.Event()

    def create_on_a(t):
        i = 0
        while not stop_a.is_set():
            try:
                r = a.request("POST", TOKENS, json_body={"name": f"a-{t}-{i}"},
                              check_json=False, timeout=5)
            except (OSError, http.client.HTTPException):
                return  # A is gone
            if r.status == 201:
                with lock:
                    acknowledged.append(r.body)
            i += 1

    def use_b(t):
        i = 0
        while not stop_b.is_set():
            try:
                if i % 2:
                    r = b.request("POST", TOKENS, json_body={"name": f"b-{t}-{i}"},
                                  timeout=10)
                    ok = r.status == 201
                else:
                    r = b.get("/v1/users", timeout=10)
                    ok = r.status == 200
            except (OSError, http.client.HTTPException, AssertionError) as e:
                ok, r = False, repr(e)
            with lock:
                if not ok:
                    b_failures.append(r)
                if killed.is_set():
                    b_after_kill.append(ok)
            i += 1

    workers = [threading.Thread(target=create_on_a, args=(t,)) for t in range(6)]
    workers += [threading.Thread(target=use_b, args=(t,)) for t in range(2)]
    for w in workers:
        w.start()
    try:
        wait_for(lambda: len(acknowledged) >= 40, "40 tokens acknowledged by A")
        a.proc.kill()  # mid-flight: requests are still arriving at A
        killed.set()
        a.proc.wait(TIMEOUT)
        stop_a.set()
        # B goes on serving after A died
        wait_for(lambda: len(b_after_kill) >= 20, "B answering after A was killed")
    finally:
        stop_a.set()
        stop_b.set()
        for w in workers:
            w.join(60)
    a._finish()
    assert not b_failures, f"B failed while A was killed: {b_failures[:5]}"
    assert len(acknowledged) >= 40

    on_b = {t["id"] for t in b.get(TOKENS).body["tokens"]}
    lost = [t["id"] for t in acknowledged if t["id"] not in on_b]
    assert not lost, f"{len(lost)} of {len(acknowledged)} acknowledged tokens lost"
    rejected = [t["id"] for t in acknowledged
                if b.get("/v1/users", token=t["token"]).status != 200]
    assert not rejected, f"acknowledged tokens rejected by B: {rejected[:5]}"
    # A comes back on the same database and sees them too
    a.start()
    for t in acknowledged[::7]:
        assert a.get("/v1/users", token=t["token"]).status == 200


def test_database_down_is_503_on_both_nodes_and_service_resumes_by_itself(nodes):
    a, b = nodes
    tok = a.create_token("across-the-outage")
    revoked = b.create_token("revoked-before-the-outage")
    assert b.request("DELETE", f"{TOKENS}/{revoked['id']}").status == 200
    pids = [n.proc.pid for n in nodes]
    for n in nodes:
        assert n.get("/v1/users", token=tok["token"]).status == 200

    pg_ctl("stop", "-m", "immediate")
    try:
        for n in nodes:
            for _ in range(2):  # the first call finds the connection dead, later ones fail fast
                assert_unavailable(n.get("/healthz", token=None), "healthz")
                assert_unavailable(n.get("/v1/users", token=tok["token"]), "valid token")
                assert_unavailable(n.get("/v1/users"), "admin-issued token")
                # unknown and revoked tokens cannot be told apart without the database:
                # 503, never a wrong 401
                assert_unavailable(n.get("/v1/users", token=well_formed_token()),
                                   "unknown token")
                assert_unavailable(n.get("/v1/users", token=revoked["token"]), "revoked token")
                r = n.request("POST", TOKENS, json_body={"name": "during-the-outage"})
                assert_unavailable(r, "token creation")
                # a malformed token is still refused offline, as always
                assert n.get("/v1/users", token="pcc_pat_garbage").status == 401
            assert n.proc.poll() is None, "a node exited while the database was down"
    finally:
        pg_ctl("start", "-w", "-t", "60")

    def serving(n):
        r = n.get("/v1/users", token=tok["token"])
        assert r.status in (200, 503), ("while the database came back", r)
        return r.status == 200

    for n in nodes:
        wait_for(lambda n=n: serving(n), f"node {n.port} serving again")
    assert [n.proc.pid for n in nodes] == pids, "a node was restarted"
    assert all(n.proc.poll() is None for n in nodes)
    for n in nodes:
        assert n.get("/healthz", token=None).body["database"] == "ok"
        assert n.get("/v1/users", token=revoked["token"]).status == 401
        assert n.get("/v1/users", token=well_formed_token()).status == 401
    # writes work again and are shared; nothing was created during the outage
    after = b.create_token("after-the-outage")
    assert a.get("/v1/users", token=after["token"]).status == 200
    names = [t["name"] for t in a.get(TOKENS).body["tokens"]]
    assert "during-the-outage" not in names and "after-the-outage" in names


def test_database_restart_under_load(nodes):
    """`pg_ctl restart -m immediate` while clients use both nodes: every answer is 200, 201 or
    503 (never 401, never a dropped connection), both nodes recover without a restart, and
    every token acknowledged with 201 (before, during or after) works afterwards."""
    a, b = nodes
    acknowledged, bad, statuses, lock = [], [], [], threading.Lock()
    stop = threading.Event()

    def client(node, t):
        i = 0
        while not stop.is_set():
            try:
                if i % 3 == 0:
                    r = node.request("POST", TOKENS, json_body={"name": f"r-{node.port}-{t}-{i}"},
                                     timeout=20)
                    ok_status = 201
                else:
                    r = node.get("/v1/users", timeout=20)
                    ok_status = 200
            except (OSError, http.client.HTTPException, AssertionError) as e:
                with lock:
                    bad.append(repr(e))
                i += 1
                continue
            with lock:
                statuses.append(r.status)
                if r.status == ok_status == 201:
                    acknowledged.append(r.body)
                elif r.status != ok_status and r.status != 503:
                    bad.append(r)
            if r.status == 503:
                time.sleep(POLL / 5)  # a 503 comes back at once: do not spin
            i += 1

    workers = [threading.Thread(target=client, args=(n, t)) for n in nodes for t in range(3)]
    for w in workers:
        w.start()
    try:
        wait_for(lambda: len(acknowledged) >= 10, "tokens created before the restart")
        before = len(statuses)
        pg_ctl("restart", "-m", "immediate", "-w", "-t", "60")
        restarted = len(acknowledged)
        # both nodes serve again, by themselves
        for n in nodes:
            wait_for(lambda n=n: n.get("/v1/users", check_json=False).status == 200,
                     f"node {n.port} serving after the restart")
        wait_for(lambda: len(acknowledged) >= restarted + 10, "tokens created after the restart")
        assert len(statuses) > before
    finally:
        stop.set()
        for w in workers:
            w.join(60)
    assert not bad, f"wrong answers across the database restart: {bad[:5]}"
    assert all(n.proc.poll() is None for n in nodes)
    for t in acknowledged:
        assert a.get("/v1/users", token=t["token"]).status == 200, t["id"]
    ids = {t["id"] for t in b.get(TOKENS).body["tokens"]}
    assert {t["id"] for t in acknowledged} <= ids


def test_nodes_starting_together_on_a_fresh_database_migrate_it_once(make_server):
    first = make_server(bootstrap=False, start=False)  # an empty database
    first.data.mkdir(mode=0o700)
    # the secret alone, as an operator would distribute it (pccd init would also migrate)
    fd = os.open(first.data / "secret", os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(fd, "w") as f:
        f.write(secrets.token_hex(32) + "\n")
    group = [first] + [make_server(share=first, start=False) for _ in range(3)]
    for n in group:
        n.spawn()  # all at once: each applies migrations as it starts
    for n in group:
        n.wait_listening()
    for n in group:
        r = n.get("/healthz", token=None)
        assert r.status == 200 and r.body["database"] == "ok", r

    rows = first.query("SELECT version, name FROM schema_migrations ORDER BY version")
    assert [(r["version"], r["name"]) for r in rows] == \
        list(enumerate(PG_MIGRATIONS, start=1)), rows
    appliers = [n for n in group if "applied" in n.stderr and "migration" in n.stderr]
    assert len(appliers) == 1, [n.stderr for n in group]

    # a second `pccd migrate` finds nothing to do
    p = group[2].admin("migrate")
    assert "applied" not in p.stderr, p.stderr
    assert len(first.query("SELECT version FROM schema_migrations")) == len(PG_MIGRATIONS)

    # the installation works from every node
    first.user_add(ALICE, org="acme", org_name="Acme Inc")
    tok = group[3].token_create(ALICE, "fresh")
    for n in group:
        assert n.get("/v1/users", token=tok).status == 200
