# test_migrations.py: the migration files both backends embed. The runners number migrations by
# their position in file order, so the files must be numbered 0001..N without gaps, and both
# backends must have the same list (one schema history, two dialects). And an upgrade from a
# database an earlier pccd wrote.
import re
import sqlite3

from conftest import PG, REPO

DIRS = {b: REPO / "lib" / "store" / "migrations" / b for b in ("sqlite", "pg")}


def names(backend):
    return sorted(p.name for p in DIRS[backend].glob("*.sql"))


def test_migrations_are_numbered_without_gaps():
    for backend in DIRS:
        found = names(backend)
        assert found, backend
        numbers = [int(re.match(r"^(\d{4})_[a-z0-9_]+\.sql$", n).group(1)) for n in found]
        assert numbers == list(range(1, len(found) + 1)), (backend, found)


def test_both_backends_have_the_same_migrations():
    assert names("sqlite") == names("pg")


LEGACY_DAILY_KEY = "dk_legacy_5a1f0c9e7b3d42e8a6c0f1b2d3e4a5b6"


def rewind_to_before_0010(srv):
    """Turn a stopped server's database back into what pccd left before migration 0010: no
    legacy column (nor, on PostgreSQL, the API keys' seq), the Daily API key in plaintext, and
    a secret set emptied by unsetting its last key. Written with sqlite3 or psql, as the older
    pccd wrote them."""
    rewind = [
        "ALTER TABLE organizations DROP COLUMN daily_api_key_legacy",
        "DELETE FROM schema_migrations WHERE name LIKE '0010%'",
        f"UPDATE organizations SET daily_api_key = '{LEGACY_DAILY_KEY}' WHERE name = 'acme'",
        "INSERT INTO secret_sets (id, org_id, name, kind, region, host, created_at, updated_at) "
        "SELECT 'set_emptied', id, 'emptied', 'secret', 'us-west', '', 1, 1 FROM organizations "
        "WHERE name = 'acme'",
        "INSERT INTO secret_sets (id, org_id, name, kind, region, host, created_at, updated_at) "
        "SELECT 'set_kept', id, 'kept', 'secret', 'us-west', '', 1, 1 FROM organizations "
        "WHERE name = 'acme'",
        "INSERT INTO secrets (set_id, name, nonce, ciphertext, created_at, updated_at) "
        "VALUES ('set_kept', 'K', '00', '00', 1, 1)",
    ]
    if srv.db_name:
        rewind.insert(1, "ALTER TABLE api_keys DROP COLUMN seq")
        PG.psql(";\n".join(rewind) + ";\n", database=srv.db_name)
    else:
        db = sqlite3.connect(srv.data / "pcc.db")
        try:
            for sql in rewind:
                db.execute(sql)
            db.commit()
        finally:
            db.close()


def test_upgrade_seals_a_plaintext_daily_key_and_drops_empty_sets(make_server):
    srv = make_server(start=False)
    rewind_to_before_0010(srv)
    [row] = srv.query("SELECT daily_api_key FROM organizations WHERE name = 'acme'")
    assert row["daily_api_key"] == LEGACY_DAILY_KEY, "the old, plaintext form"

    srv.start()
    assert "sealed 1 Daily API key(s) stored in plaintext" in srv.stderr, srv.stderr
    [row] = srv.query("SELECT daily_api_key, daily_api_key_legacy FROM organizations "
                      "WHERE name = 'acme'")
    assert row["daily_api_key_legacy"] == "", "no plaintext is left in the legacy column"
    assert re.fullmatch(r"[0-9a-f]{48}:[0-9a-f]+", row["daily_api_key"]), row
    assert LEGACY_DAILY_KEY[3:] not in row["daily_api_key"]
    # Its owners still get it, as before the upgrade.
    r = srv.get("/v1/organizations/acme/daily")
    assert r.status == 200 and r.body == {"apiKey": LEGACY_DAILY_KEY, "organization": "acme"}
    # The set left empty is gone; the one with a key stays.
    r = srv.get("/v1/organizations/acme/secrets")
    assert [s["name"] for s in r.body["sets"]] == ["kept"], r
    assert srv.get("/v1/organizations/acme/secrets/emptied").status == 404

    # Once sealed, nothing is left to seal: a restart changes nothing.
    srv.restart()
    assert srv.stderr.count("sealed 1 Daily API key") == 1
    [again] = srv.query("SELECT daily_api_key FROM organizations WHERE name = 'acme'")
    assert again["daily_api_key"] == row["daily_api_key"]
    assert srv.get("/v1/organizations/acme/daily").body["apiKey"] == LEGACY_DAILY_KEY
    srv.sync_log()
    assert LEGACY_DAILY_KEY[3:] not in srv.stderr
