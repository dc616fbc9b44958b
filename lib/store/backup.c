/* backup.c: a consistent copy of a SQLite database taken while pccd serves it (SQLite's online
 * backup API), and putting such a copy back. PostgreSQL has pg_dump and pg_restore for this. */
#include "store.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include <sqlite3.h>

#include "store_backend.h"
#include "banned.h"

#define BACKUP_BUSY_MS 10000

static const char *sqlite_path(const char *url)
{
    if (strncmp(url, "postgres://", 11) == 0 || strncmp(url, "postgresql://", 13) == 0)
        return NULL;
    return strncmp(url, "sqlite:", 7) == 0 ? url + 7 : url;
}

/* Copy the whole of database src into dst (both open) as one snapshot. */
static enum rc copy_db(sqlite3 *dst, sqlite3 *src, const char *what, char *err, size_t errlen)
{
    sqlite3_backup *b = sqlite3_backup_init(dst, "main", src, "main");
    if (!b) {
        snprintf(err, errlen, "%s: %s", what, sqlite3_errmsg(dst));
        return RC_STORE;
    }
    /* One step copies every page under one read transaction: in WAL mode writers go on. */
    int step = sqlite3_backup_step(b, -1);
    int fin = sqlite3_backup_finish(b);
    if (step != SQLITE_DONE || fin != SQLITE_OK) {
        snprintf(err, errlen, "%s: %s", what, sqlite3_errstr(step != SQLITE_DONE ? step : fin));
        return RC_STORE;
    }
    return RC_OK;
}

/* Make a copied file stand alone (no WAL beside it) and durable. */
static enum rc seal_copy(sqlite3 *db, const char *path, char *err, size_t errlen)
{
    char *msg = NULL;
    if (sqlite3_exec(db, "PRAGMA journal_mode=DELETE", NULL, NULL, &msg) != SQLITE_OK) {
        snprintf(err, errlen, "%s: %s", path, msg ? msg : "cannot set the journal mode");
        sqlite3_free(msg);
        return RC_STORE;
    }
    return RC_OK;
}

static enum rc fsync_path(const char *path, char *err, size_t errlen)
{
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0 || fsync(fd) != 0) {
        snprintf(err, errlen, "%s: %s", path, strerror(errno));
        if (fd >= 0)
            close(fd);
        return RC_IO;
    }
    close(fd);
    return RC_OK;
}

/* The directory part of path, for an fsync after a rename into it. */
static enum rc fsync_dir_of(const char *path, char *err, size_t errlen)
{
    char dir[4096];
    const char *slash = strrchr(path, '/');
    snprintf(dir, sizeof dir, "%.*s", slash ? (int)(slash - path) + (slash == path) : 1,
             slash ? path : ".");
    return fsync_path(dir, err, errlen);
}

/* Open path as a SQLite database with flags; err names path on failure. */
static enum rc open_db(const char *path, int flags, sqlite3 **out, char *err, size_t errlen)
{
    if (sqlite3_open_v2(path, out, flags | SQLITE_OPEN_NOMUTEX, NULL) != SQLITE_OK) {
        snprintf(err, errlen, "%s: %s", path, *out ? sqlite3_errmsg(*out) : "cannot open");
        return RC_STORE;
    }
    sqlite3_busy_timeout(*out, BACKUP_BUSY_MS);
    return RC_OK;
}

/* Put the finished copy tmp (*dst, if still open, is closed here) in place of path: synced,
 * renamed over it, and the rename synced too. */
static enum rc install_copy(sqlite3 **dst, const char *tmp, const char *path, char *err,
                            size_t errlen)
{
    sqlite3_close(*dst);
    *dst = NULL;
    enum rc rc = fsync_path(tmp, err, errlen);
    if (rc != RC_OK)
        return rc;
    if (rename(tmp, path) != 0) {
        snprintf(err, errlen, "%s: %s", path, strerror(errno));
        return RC_IO;
    }
    return fsync_dir_of(path, err, errlen);
}

/* A file worth restoring: a SQLite database that passes integrity_check and holds pcc's
 * schema (its migrations table); *version gets its schema version. */
static enum rc check_backup(sqlite3 *db, const char *path, int *version, char *err, size_t errlen)
{
    sqlite3_stmt *st = NULL;
    enum rc rc = RC_INVALID;
    if (sqlite3_prepare_v2(db, "PRAGMA integrity_check", -1, &st, NULL) != SQLITE_OK ||
        sqlite3_step(st) != SQLITE_ROW ||
        strcmp((const char *)sqlite3_column_text(st, 0), "ok") != 0) {
        snprintf(err, errlen, "%s is not an intact SQLite database (%s)", path, sqlite3_errmsg(db));
        goto out;
    }
    sqlite3_finalize(st);
    st = NULL;
    if (sqlite3_prepare_v2(db, "SELECT coalesce(max(version), 0) FROM schema_migrations", -1, &st,
                           NULL) != SQLITE_OK ||
        sqlite3_step(st) != SQLITE_ROW || (*version = sqlite3_column_int(st, 0)) <= 0) {
        snprintf(err, errlen, "%s is not a pcc database (no schema migrations in it)", path);
        goto out;
    }
    int known = 0;
    while (sqlite_migrations[known])
        known++;
    if (*version > known) {
        snprintf(err, errlen,
                 "%s was made by a newer pccd (schema version %d; this one knows "
                 "%d): restore it with that version",
                 path, *version, known);
        goto out;
    }
    rc = RC_OK;
out:
    sqlite3_finalize(st);
    return rc;
}

enum rc store_backup(const char *url, const char *dest, char *err, size_t errlen)
{
    const char *path = sqlite_path(url);
    if (!path) {
        snprintf(err, errlen,
                 "this database is PostgreSQL: back it up with pg_dump "
                 "(docs/pccd.md, Backups)");
        return RC_INVALID;
    }
    char tmp[4096];
    int n = snprintf(tmp, sizeof tmp, "%s.partial", dest);
    if (n < 0 || (size_t)n >= sizeof tmp) {
        snprintf(err, errlen, "backup path too long");
        return RC_INVALID;
    }
    if (access(path, R_OK) != 0) {
        snprintf(err, errlen, "%s: %s", path, strerror(errno));
        return RC_IO;
    }
    sqlite3 *src = NULL, *dst = NULL;
    enum rc rc;
    unlink(tmp);
    /* The file is made by this process, whose umask (077 in pccd) keeps it private. */
    if ((rc = open_db(path, SQLITE_OPEN_READONLY, &src, err, errlen)) != RC_OK ||
        (rc = open_db(tmp, SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE, &dst, err, errlen)) !=
            RC_OK ||
        (rc = copy_db(dst, src, path, err, errlen)) != RC_OK ||
        (rc = seal_copy(dst, tmp, err, errlen)) != RC_OK)
        goto out;
    rc = install_copy(&dst, tmp, dest, err, errlen);
out:
    sqlite3_close(dst);
    sqlite3_close(src);
    if (rc != RC_OK)
        unlink(tmp);
    return rc;
}

enum rc store_restore(const char *src_path, const char *url, int replace, int *version, char *err,
                      size_t errlen)
{
    const char *path = sqlite_path(url);
    if (!path) {
        snprintf(err, errlen,
                 "this database is PostgreSQL: restore it with pg_restore "
                 "(docs/pccd.md, Backups)");
        return RC_INVALID;
    }
    if (!replace && access(path, F_OK) == 0) {
        snprintf(err, errlen,
                 "%s exists: restoring would replace it (stop pccd, then pass "
                 "--force)",
                 path);
        return RC_CONFLICT;
    }
    char tmp[4096];
    int n = snprintf(tmp, sizeof tmp, "%s.restoring", path);
    if (n < 0 || (size_t)n >= sizeof tmp) {
        snprintf(err, errlen, "database path too long");
        return RC_INVALID;
    }
    sqlite3 *src = NULL, *dst = NULL;
    enum rc rc;
    unlink(tmp);
    if ((rc = open_db(src_path, SQLITE_OPEN_READONLY, &src, err, errlen)) != RC_OK ||
        (rc = check_backup(src, src_path, version, err, errlen)) != RC_OK ||
        (rc = open_db(tmp, SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE, &dst, err, errlen)) !=
            RC_OK ||
        (rc = copy_db(dst, src, src_path, err, errlen)) != RC_OK)
        goto out;
    /* The copy is durable before the old database's WAL goes. */
    sqlite3_close(dst);
    dst = NULL;
    if ((rc = fsync_path(tmp, err, errlen)) != RC_OK)
        goto out;
    /* A WAL left by the old database would be replayed into the new one: remove it first.
     * (The server runs the database in WAL mode; pccd sets it again when it opens the file.) */
    char side[4096];
    const char *const suffixes[] = {"-wal", "-shm"};
    for (size_t i = 0; i < sizeof suffixes / sizeof suffixes[0]; i++) {
        snprintf(side, sizeof side, "%s%s", path, suffixes[i]);
        if (unlink(side) != 0 && errno != ENOENT) {
            snprintf(err, errlen, "%s: %s", side, strerror(errno));
            rc = RC_IO;
            goto out;
        }
    }
    rc = install_copy(&dst, tmp, path, err, errlen);
out:
    sqlite3_close(dst);
    sqlite3_close(src);
    if (rc != RC_OK)
        unlink(tmp);
    return rc;
}
