# test_backup.py: `pccd backup` while pccd serves and writes, then `pccd restore` into a fresh
# data directory: every token made before the backup works there, revoked ones stay revoked.
import shutil
import sqlite3
import threading

from conftest import sqlite_only

pytestmark = sqlite_only  # PostgreSQL is backed up with pg_dump (docs/pccd.md)


def whoami_status(server, token):
    return server.get("/v1/organizations", token=token).status


def test_backup_while_serving_restores_into_a_fresh_pccd(make_server, tmp_path):
    src = make_server()
    before = [src.create_token(f"before-{i}")["token"] for i in range(20)]
    revoked = src.create_token("revoked")
    assert src.request("DELETE", f"/v1/users/me/tokens/{revoked['id']}").status in (200, 204)

    # Writes go on during the backup: the copy is one consistent snapshot all the same.
    stop = threading.Event()
    during = []

    def write():
        i = 0
        while not stop.is_set() and i < 500:
            during.append(src.create_token(f"during-{i}")["token"])
            i += 1

    writer = threading.Thread(target=write)
    writer.start()
    backup = tmp_path / "pcc-backup.db"
    try:
        p = src.admin("backup", "--to", str(backup))
    finally:
        stop.set()
        writer.join()
    assert "wrote" in p.stderr
    assert backup.stat().st_mode & 0o777 == 0o600
    assert not (tmp_path / "pcc-backup.db.partial").exists()
    # A file that stands alone: no write-ahead log beside it, and intact.
    db = sqlite3.connect(f"file:{backup}?mode=ro", uri=True)
    try:
        assert db.execute("PRAGMA integrity_check").fetchone()[0] == "ok"
        assert db.execute("PRAGMA journal_mode").fetchone()[0] == "delete"
    finally:
        db.close()

    # A fresh pccd: a new data directory holding only the server secret, then the backup.
    fresh = make_server(bootstrap=False, start=False)
    fresh.data.mkdir(mode=0o700)
    shutil.copy2(src.data / "secret", fresh.data / "secret")
    p = fresh.admin("restore", "--from", str(backup))
    assert "restored" in p.stderr
    fresh.start()
    for token in [src.token] + before:
        assert whoami_status(fresh, token) == 200, "a token made before the backup was lost"
    assert whoami_status(fresh, revoked["token"]) == 401, "a revoked token came back"
    # The copy is one snapshot: of the tokens made one after another while it ran, it holds a
    # prefix (every one made before some moment, none after), never a token without its elders.
    found = [whoami_status(fresh, token) == 200 for token in during]
    assert found == sorted(found, reverse=True), f"not a snapshot: {found}"


def test_restore_refuses_to_overwrite_and_rejects_what_is_not_a_backup(make_server, tmp_path):
    srv = make_server()
    backup = tmp_path / "b.db"
    srv.admin("backup", "--to", str(backup))
    srv.stop()

    p = srv.admin("restore", "--from", str(backup), check=False)
    assert p.returncode == 2 and "--force" in p.stderr

    junk = tmp_path / "junk.db"
    junk.write_bytes(b"not a database at all" * 100)
    p = srv.admin("restore", "--from", str(junk), "--force", check=False)
    assert p.returncode != 0 and "junk.db" in p.stderr
    other = tmp_path / "other.db"
    sqlite3.connect(other).execute("CREATE TABLE t (x)").connection.commit()
    p = srv.admin("restore", "--from", str(other), "--force", check=False)
    assert p.returncode != 0 and "not a pcc database" in p.stderr
    # The refusals left the database as it was.
    srv.start()
    assert whoami_status(srv, srv.token) == 200

    # With --force, a backup does replace it (the token made after the backup is gone).
    later = srv.create_token("after-backup")["token"]
    srv.stop()
    srv.admin("restore", "--from", str(backup), "--force")
    srv.start()
    assert whoami_status(srv, srv.token) == 200
    assert whoami_status(srv, later) == 401


def test_backup_of_a_postgresql_database_points_at_pg_dump(make_server, tmp_path):
    srv = make_server(start=False)
    p = srv.admin("backup", "--to", str(tmp_path / "x"), "--db", "postgres://nowhere/pcc",
                  check=False)
    assert p.returncode != 0 and "pg_dump" in p.stderr
