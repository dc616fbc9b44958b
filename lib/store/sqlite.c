/* sqlite.c: the embedded SQLite backend of the store interface. One connection per thread
 * (WAL lets readers run beside the writer), prepared statements cached per connection. */
#include <errno.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <sqlite3.h>

#include "log.h"
#include "store_backend.h"
#include "banned.h"

#define BUSY_TIMEOUT_MS 5000

/* Every statement the backend runs; SQL uses $N placeholders so PostgreSQL can share it. */
#define SQL_TABLE(X)                                                                           \
    X(Q_USER_INSERT, "INSERT INTO users (id, email, name, created_at) VALUES ($1, $2, $3, $4)")  \
    X(Q_USER_BY_EMAIL, "SELECT id, email, name, created_at FROM users WHERE email = $1")       \
    X(Q_USER_BY_ID, "SELECT id, email, name, created_at FROM users WHERE id = $1")             \
    X(Q_ORG_INSERT, "INSERT INTO organizations (id, name, verbose_name, daily_api_key, "       \
                    "created_at) VALUES ($1, $2, $3, $4, $5)")                                 \
    X(Q_ORG_BY_NAME, "SELECT id, name, verbose_name, daily_api_key, created_at, '' "           \
                     "FROM organizations WHERE name = $1")                                     \
    X(Q_ORG_SET_DAILY, "UPDATE organizations SET daily_api_key = $2 WHERE id = $1")            \
    X(Q_MEMBER_PUT, "INSERT INTO memberships (user_id, org_id, role, created_at, position) "   \
                    "VALUES ($1, $2, $3, $4, (SELECT coalesce(max(position), 0) + 1 "          \
                    "FROM memberships WHERE user_id = $1)) ON CONFLICT (user_id, org_id) "     \
                    "DO UPDATE SET role = excluded.role")                                      \
    X(Q_ORGS_FOR_USER, "SELECT o.id, o.name, o.verbose_name, o.daily_api_key, o.created_at, "  \
                       "m.role FROM memberships m JOIN organizations o ON o.id = m.org_id "    \
                       "WHERE m.user_id = $1 ORDER BY m.position, o.name")                   \
    X(Q_ORG_FOR_MEMBER, "SELECT o.id, o.name, o.verbose_name, o.daily_api_key, o.created_at, " \
                        "m.role FROM memberships m JOIN organizations o ON o.id = m.org_id "   \
                        "WHERE m.user_id = $1 AND o.name = $2")                                \
    X(Q_TOKEN_INSERT, "INSERT INTO tokens (id, user_id, kind, name, display, digest, scopes, " \
                      "org_id, created_at, expires_at) "                                       \
                      "VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10)")                      \
    X(Q_TOKEN_LOOKUP, "SELECT " TOKEN_COLUMNS ", u.id, u.email, u.name, u.created_at "         \
                      "FROM tokens t JOIN users u ON u.id = t.user_id WHERE t.digest = $1")    \
    X(Q_TOKEN_BY_ID, "SELECT " TOKEN_COLUMNS " FROM tokens t WHERE t.user_id = $1 AND t.id = $2") \
    X(Q_TOKENS_FOR_USER, "SELECT " TOKEN_COLUMNS " FROM tokens t WHERE t.user_id = $1 "        \
                         "AND t.revoked_at = 0 ORDER BY t.created_at, t.id")                   \
    X(Q_TOKEN_REVOKE, "UPDATE tokens SET revoked_at = $3 WHERE user_id = $1 AND id = $2 "      \
                      "AND revoked_at = 0")                                                    \
    X(Q_TOKEN_TOUCH, "UPDATE tokens SET last_used_at = $2, last_used_ip = $3, "                \
                     "last_used_agent = $4 WHERE id = $1")                                     \
    X(Q_TOKEN_COUNT, "SELECT count(*) FROM tokens")                                            \
    X(Q_AUDIT_INSERT, "INSERT INTO audit_events (at, event, user_id, token_id, org_id, ip, "   \
                      "detail) VALUES ($1, $2, $3, $4, $5, $6, $7)")                           \
    X(Q_AUDIT_FOR_USER, "SELECT id, at, event, user_id, token_id, org_id, ip, detail "         \
                        "FROM audit_events WHERE user_id = $1 AND id < $2 "                    \
                        "ORDER BY id DESC LIMIT $3")

#define TOKEN_COLUMNS                                                                          \
    "t.id, t.user_id, t.kind, t.name, t.display, t.digest, t.scopes, coalesce(t.org_id, ''), " \
    "t.created_at, t.expires_at, t.last_used_at, t.revoked_at, t.last_used_ip, "               \
    "t.last_used_agent"
#define TOKEN_COLUMN_COUNT 14

enum query {
#define Q_ENUM(name, sql) name,
    SQL_TABLE(Q_ENUM)
#undef Q_ENUM
        Q__COUNT
};

static const char *const query_sql[Q__COUNT] = {
#define Q_SQL(name, sql) sql,
    SQL_TABLE(Q_SQL)
#undef Q_SQL
};

struct sqlite_store;

struct conn {
    struct sqlite_store *owner;
    sqlite3 *db;
    sqlite3_stmt *stmts[Q__COUNT];
    struct conn *next;
};

struct sqlite_store {
    struct store base;
    char *path;
    pthread_key_t key;
    pthread_mutex_t lock; /* guards conns */
    struct conn *conns;
};

static void conn_close(struct conn *c)
{
    for (int i = 0; i < Q__COUNT; i++)
        sqlite3_finalize(c->stmts[i]);
    sqlite3_close_v2(c->db);
    free(c);
}

static void unlink_conn(struct sqlite_store *s, struct conn *c)
{
    pthread_mutex_lock(&s->lock);
    for (struct conn **p = &s->conns; *p; p = &(*p)->next)
        if (*p == c) {
            *p = c->next;
            break;
        }
    pthread_mutex_unlock(&s->lock);
}

/* A thread's connection is closed when that thread exits. The store outlives its threads:
 * pccd stops the HTTP worker threads before it closes the store. */
static void thread_exit(void *arg)
{
    struct conn *c = arg;
    unlink_conn(c->owner, c);
    conn_close(c);
}

static enum rc exec_sql(sqlite3 *db, const char *sql, char *err, size_t errlen)
{
    char *msg = NULL;
    if (sqlite3_exec(db, sql, NULL, NULL, &msg) != SQLITE_OK) {
        snprintf(err, errlen, "%s", msg ? msg : sqlite3_errmsg(db));
        sqlite3_free(msg);
        return RC_STORE;
    }
    return RC_OK;
}

static enum rc conn_open(const char *path, struct conn **out, char *err, size_t errlen)
{
    struct conn *c = calloc(1, sizeof *c);
    if (!c)
        return RC_NOMEM;
    int flags = SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE | SQLITE_OPEN_NOMUTEX;
    if (sqlite3_open_v2(path, &c->db, flags, NULL) != SQLITE_OK) {
        snprintf(err, errlen, "cannot open %s: %s", path,
                 c->db ? sqlite3_errmsg(c->db) : "out of memory");
        conn_close(c);
        return RC_STORE;
    }
    sqlite3_busy_timeout(c->db, BUSY_TIMEOUT_MS);
    sqlite3_extended_result_codes(c->db, 1);
    /* WAL: readers never block the writer. FULL: a commit is on disk before we answer. */
    enum rc rc = exec_sql(c->db,
                          "PRAGMA journal_mode = WAL; PRAGMA synchronous = FULL;"
                          "PRAGMA foreign_keys = ON; PRAGMA trusted_schema = OFF;",
                          err, errlen);
    if (rc != RC_OK) {
        conn_close(c);
        return rc;
    }
    *out = c;
    return RC_OK;
}

static enum rc get_conn(struct sqlite_store *s, struct conn **out)
{
    struct conn *c = pthread_getspecific(s->key);
    if (c) {
        *out = c;
        return RC_OK;
    }
    enum rc rc = conn_open(s->path, &c, s->base.last_error, sizeof s->base.last_error);
    if (rc != RC_OK)
        return rc;
    c->owner = s;
    pthread_mutex_lock(&s->lock);
    c->next = s->conns;
    s->conns = c;
    pthread_mutex_unlock(&s->lock);
    pthread_setspecific(s->key, c);
    *out = c;
    return RC_OK;
}

static enum rc fail(struct sqlite_store *s, struct conn *c, const char *what)
{
    int code = sqlite3_extended_errcode(c->db);
    snprintf(s->base.last_error, sizeof s->base.last_error, "%s: %s", what, sqlite3_errmsg(c->db));
    log_error("sqlite: %s", s->base.last_error);
    if ((code & 0xff) == SQLITE_CONSTRAINT)
        return RC_CONFLICT;
    if ((code & 0xff) == SQLITE_BUSY || (code & 0xff) == SQLITE_LOCKED)
        return RC_UNAVAILABLE;
    return RC_STORE;
}

/* Fetch q's cached statement, reset and cleared, with its text parameters bound in order
 * (NULL binds SQL NULL). Integer parameters are bound by the caller afterwards. */
static enum rc stmt(struct sqlite_store *s, enum query q, struct conn **cout, sqlite3_stmt **out)
{
    struct conn *c;
    enum rc rc = get_conn(s, &c);
    if (rc != RC_OK)
        return rc;
    if (!c->stmts[q] &&
        sqlite3_prepare_v3(c->db, query_sql[q], -1, SQLITE_PREPARE_PERSISTENT, &c->stmts[q],
                           NULL) != SQLITE_OK)
        return fail(s, c, "prepare");
    sqlite3_reset(c->stmts[q]);
    sqlite3_clear_bindings(c->stmts[q]);
    *cout = c;
    *out = c->stmts[q];
    return RC_OK;
}

/* SQLite treats "$N" as a named parameter numbered by first appearance, not by N; map N to
 * its real index so the SQL text can use PostgreSQL's numbering in any order. */
static int param(sqlite3_stmt *st, int n)
{
    char name[8];
    snprintf(name, sizeof name, "$%d", n);
    return sqlite3_bind_parameter_index(st, name);
}

static void bind_int64(sqlite3_stmt *st, int n, int64_t v) { sqlite3_bind_int64(st, param(st, n), v); }

static void bind_text(sqlite3_stmt *st, int n, const char *v)
{
    int i = param(st, n);
    if (v)
        sqlite3_bind_text(st, i, v, -1, SQLITE_TRANSIENT);
    else
        sqlite3_bind_null(st, i);
}

/* "" binds NULL: optional foreign keys (token org binding) are stored as NULL. */
static void bind_optional(sqlite3_stmt *st, int i, const char *v)
{
    bind_text(st, i, v && *v ? v : NULL);
}

static void col(sqlite3_stmt *st, int i, char *dst, size_t size)
{
    store_copy_field(dst, size, (const char *)sqlite3_column_text(st, i));
}

/* Run a statement that returns no rows; *changes gets the number of rows it changed. */
static enum rc run(struct sqlite_store *s, struct conn *c, sqlite3_stmt *st, int *changes)
{
    int r = sqlite3_step(st);
    enum rc rc = r == SQLITE_DONE ? RC_OK : fail(s, c, "step");
    if (changes)
        *changes = sqlite3_changes(c->db);
    sqlite3_reset(st);
    return rc;
}

static void read_user(sqlite3_stmt *st, int at, struct store_user *u)
{
    col(st, at + 0, u->id, sizeof u->id);
    col(st, at + 1, u->email, sizeof u->email);
    col(st, at + 2, u->name, sizeof u->name);
    u->created_at = sqlite3_column_int64(st, at + 3);
}

static void read_org(sqlite3_stmt *st, struct store_org *o)
{
    col(st, 0, o->id, sizeof o->id);
    col(st, 1, o->name, sizeof o->name);
    col(st, 2, o->verbose_name, sizeof o->verbose_name);
    col(st, 3, o->daily_api_key, sizeof o->daily_api_key);
    o->created_at = sqlite3_column_int64(st, 4);
    col(st, 5, o->role, sizeof o->role);
}

static void read_token(sqlite3_stmt *st, struct store_token *t)
{
    col(st, 0, t->id, sizeof t->id);
    col(st, 1, t->user_id, sizeof t->user_id);
    t->kind = sqlite3_column_int(st, 2);
    col(st, 3, t->name, sizeof t->name);
    col(st, 4, t->display, sizeof t->display);
    col(st, 5, t->digest, sizeof t->digest);
    col(st, 6, t->scopes, sizeof t->scopes);
    col(st, 7, t->org_id, sizeof t->org_id);
    t->created_at = sqlite3_column_int64(st, 8);
    t->expires_at = sqlite3_column_int64(st, 9);
    t->last_used_at = sqlite3_column_int64(st, 10);
    t->revoked_at = sqlite3_column_int64(st, 11);
    col(st, 12, t->last_used_ip, sizeof t->last_used_ip);
    col(st, 13, t->last_used_agent, sizeof t->last_used_agent);
}

static void read_audit(sqlite3_stmt *st, struct store_audit *a)
{
    a->id = sqlite3_column_int64(st, 0);
    a->at = sqlite3_column_int64(st, 1);
    col(st, 2, a->event, sizeof a->event);
    col(st, 3, a->user_id, sizeof a->user_id);
    col(st, 4, a->token_id, sizeof a->token_id);
    col(st, 5, a->org_id, sizeof a->org_id);
    col(st, 6, a->ip, sizeof a->ip);
    col(st, 7, a->detail, sizeof a->detail);
}

/* Run a single-row query and hand the row to reader; RC_NOT_FOUND when there is none. */
#define FETCH_ONE(s, c, st, reader_stmt)                                                       \
    do {                                                                                       \
        int r_ = sqlite3_step(st);                                                             \
        if (r_ == SQLITE_ROW) {                                                                \
            reader_stmt;                                                                       \
            rc = RC_OK;                                                                        \
        } else if (r_ == SQLITE_DONE) {                                                        \
            rc = RC_NOT_FOUND;                                                                 \
        } else {                                                                               \
            rc = fail(s, c, "step");                                                           \
        }                                                                                      \
        sqlite3_reset(st);                                                                     \
    } while (0)

/* Collect every row into a growing array of elem_size-byte rows filled by reader. */
static enum rc fetch_all(struct sqlite_store *s, struct conn *c, sqlite3_stmt *st,
                         size_t elem_size, void (*reader)(sqlite3_stmt *, void *), void **list,
                         size_t *count)
{
    size_t n = 0, alloc = 0;
    char *rows = NULL;
    enum rc rc = RC_OK;
    int r;
    while ((r = sqlite3_step(st)) == SQLITE_ROW) {
        if (n == alloc) {
            size_t na = alloc ? alloc * 2 : 8;
            char *p = realloc(rows, na * elem_size);
            if (!p) {
                rc = RC_NOMEM;
                goto out;
            }
            rows = p;
            alloc = na;
        }
        memset(rows + n * elem_size, 0, elem_size);
        reader(st, rows + n * elem_size);
        n++;
    }
    if (r != SQLITE_DONE)
        rc = fail(s, c, "step");
out:
    sqlite3_reset(st);
    if (rc != RC_OK) {
        free(rows);
        rows = NULL;
        n = 0;
    }
    *list = rows;
    *count = n;
    return rc;
}

static void org_reader(sqlite3_stmt *st, void *row) { read_org(st, row); }
static void token_reader(sqlite3_stmt *st, void *row) { read_token(st, row); }
static void audit_reader(sqlite3_stmt *st, void *row) { read_audit(st, row); }

#define SELF struct sqlite_store *s = (struct sqlite_store *)st_
#define PREPARE(q)                                                                             \
    struct conn *c;                                                                            \
    sqlite3_stmt *st;                                                                          \
    enum rc rc = stmt(s, q, &c, &st);                                                          \
    if (rc != RC_OK)                                                                           \
        return rc

static enum rc s_user_create(struct store *st_, struct store_user *u)
{
    SELF;
    PREPARE(Q_USER_INSERT);
    bind_text(st, 1, u->id);
    bind_text(st, 2, u->email);
    bind_text(st, 3, u->name);
    bind_int64(st, 4, u->created_at);
    return run(s, c, st, NULL);
}

static enum rc s_user_by_email(struct store *st_, const char *email, struct store_user *out)
{
    SELF;
    PREPARE(Q_USER_BY_EMAIL);
    bind_text(st, 1, email);
    FETCH_ONE(s, c, st, read_user(st, 0, out));
    return rc;
}

static enum rc s_user_by_id(struct store *st_, const char *id, struct store_user *out)
{
    SELF;
    PREPARE(Q_USER_BY_ID);
    bind_text(st, 1, id);
    FETCH_ONE(s, c, st, read_user(st, 0, out));
    return rc;
}

static enum rc s_org_create(struct store *st_, struct store_org *o)
{
    SELF;
    PREPARE(Q_ORG_INSERT);
    bind_text(st, 1, o->id);
    bind_text(st, 2, o->name);
    bind_text(st, 3, o->verbose_name);
    bind_text(st, 4, o->daily_api_key);
    bind_int64(st, 5, o->created_at);
    return run(s, c, st, NULL);
}

static enum rc s_org_by_name(struct store *st_, const char *name, struct store_org *out)
{
    SELF;
    PREPARE(Q_ORG_BY_NAME);
    bind_text(st, 1, name);
    FETCH_ONE(s, c, st, read_org(st, out));
    return rc;
}

static enum rc s_org_set_daily_key(struct store *st_, const char *org_id, const char *key)
{
    SELF;
    PREPARE(Q_ORG_SET_DAILY);
    bind_text(st, 1, org_id);
    bind_text(st, 2, key ? key : "");
    int changes = 0;
    rc = run(s, c, st, &changes);
    return rc == RC_OK && changes == 0 ? RC_NOT_FOUND : rc;
}

static enum rc s_membership_put(struct store *st_, const char *user_id, const char *org_id,
                                const char *role, int64_t now)
{
    SELF;
    PREPARE(Q_MEMBER_PUT);
    bind_text(st, 1, user_id);
    bind_text(st, 2, org_id);
    bind_text(st, 3, role);
    bind_int64(st, 4, now);
    return run(s, c, st, NULL);
}

static enum rc s_orgs_for_user(struct store *st_, const char *user_id, struct store_org **list,
                               size_t *count)
{
    SELF;
    PREPARE(Q_ORGS_FOR_USER);
    bind_text(st, 1, user_id);
    return fetch_all(s, c, st, sizeof **list, org_reader, (void **)list, count);
}

static enum rc s_org_for_member(struct store *st_, const char *user_id, const char *org_name,
                                struct store_org *out)
{
    SELF;
    PREPARE(Q_ORG_FOR_MEMBER);
    bind_text(st, 1, user_id);
    bind_text(st, 2, org_name);
    FETCH_ONE(s, c, st, read_org(st, out));
    return rc;
}

static enum rc s_token_insert(struct store *st_, const struct store_token *t)
{
    SELF;
    PREPARE(Q_TOKEN_INSERT);
    bind_text(st, 1, t->id);
    bind_text(st, 2, t->user_id);
    bind_int64(st, 3, t->kind);
    bind_text(st, 4, t->name);
    bind_text(st, 5, t->display);
    bind_text(st, 6, t->digest);
    bind_text(st, 7, t->scopes);
    bind_optional(st, 8, t->org_id);
    bind_int64(st, 9, t->created_at);
    bind_int64(st, 10, t->expires_at);
    return run(s, c, st, NULL);
}

static enum rc s_token_lookup(struct store *st_, const char *digest, struct store_token *tok,
                              struct store_user *owner)
{
    SELF;
    PREPARE(Q_TOKEN_LOOKUP);
    bind_text(st, 1, digest);
    FETCH_ONE(s, c, st, (read_token(st, tok), read_user(st, TOKEN_COLUMN_COUNT, owner)));
    return rc;
}

static enum rc s_token_by_id(struct store *st_, const char *user_id, const char *token_id,
                             struct store_token *out)
{
    SELF;
    PREPARE(Q_TOKEN_BY_ID);
    bind_text(st, 1, user_id);
    bind_text(st, 2, token_id);
    FETCH_ONE(s, c, st, read_token(st, out));
    return rc;
}

static enum rc s_tokens_for_user(struct store *st_, const char *user_id,
                                 struct store_token **list, size_t *count)
{
    SELF;
    PREPARE(Q_TOKENS_FOR_USER);
    bind_text(st, 1, user_id);
    return fetch_all(s, c, st, sizeof **list, token_reader, (void **)list, count);
}

static enum rc s_token_revoke(struct store *st_, const char *user_id, const char *token_id,
                              int64_t now)
{
    SELF;
    PREPARE(Q_TOKEN_REVOKE);
    bind_text(st, 1, user_id);
    bind_text(st, 2, token_id);
    bind_int64(st, 3, now);
    int changes = 0;
    rc = run(s, c, st, &changes);
    return rc == RC_OK && changes == 0 ? RC_NOT_FOUND : rc;
}

static enum rc s_token_touch(struct store *st_, const char *token_id, int64_t now,
                             const char *ip, const char *agent)
{
    SELF;
    PREPARE(Q_TOKEN_TOUCH);
    bind_text(st, 1, token_id);
    bind_int64(st, 2, now);
    bind_text(st, 3, ip ? ip : "");
    bind_text(st, 4, agent ? agent : "");
    return run(s, c, st, NULL);
}

static enum rc s_token_count(struct store *st_, int64_t *count)
{
    SELF;
    PREPARE(Q_TOKEN_COUNT);
    FETCH_ONE(s, c, st, *count = sqlite3_column_int64(st, 0));
    return rc;
}

static enum rc s_audit_append(struct store *st_, struct store_audit *ev)
{
    SELF;
    PREPARE(Q_AUDIT_INSERT);
    bind_int64(st, 1, ev->at);
    bind_text(st, 2, ev->event);
    bind_text(st, 3, ev->user_id);
    bind_text(st, 4, ev->token_id);
    bind_text(st, 5, ev->org_id);
    bind_text(st, 6, ev->ip);
    bind_text(st, 7, ev->detail[0] ? ev->detail : "{}");
    rc = run(s, c, st, NULL);
    if (rc == RC_OK)
        ev->id = sqlite3_last_insert_rowid(c->db);
    return rc;
}

static enum rc s_audit_for_user(struct store *st_, const char *user_id, int64_t before_id,
                                size_t limit, struct store_audit **list, size_t *count)
{
    SELF;
    PREPARE(Q_AUDIT_FOR_USER);
    bind_text(st, 1, user_id);
    bind_int64(st, 2, before_id > 0 ? before_id : INT64_MAX);
    bind_int64(st, 3, (sqlite3_int64)limit);
    return fetch_all(s, c, st, sizeof **list, audit_reader, (void **)list, count);
}

/* Apply every built-in migration newer than the recorded version, each in one transaction,
 * under an exclusive lock so two processes starting at once apply each migration once. */
static enum rc s_migrate(struct store *st_, int *applied, char *err, size_t errlen)
{
    SELF;
    struct conn *c;
    enum rc rc = get_conn(s, &c);
    int count = 0;
    if (rc != RC_OK) {
        snprintf(err, errlen, "%s", s->base.last_error);
        return rc;
    }
    if ((rc = exec_sql(c->db, "BEGIN IMMEDIATE", err, errlen)) != RC_OK)
        return rc;
    rc = exec_sql(c->db,
                  "CREATE TABLE IF NOT EXISTS schema_migrations (version INTEGER PRIMARY KEY, "
                  "name TEXT NOT NULL, applied_at BIGINT NOT NULL)",
                  err, errlen);
    if (rc != RC_OK)
        goto out;
    sqlite3_stmt *q = NULL;
    int current = 0;
    if (sqlite3_prepare_v2(c->db, "SELECT coalesce(max(version), 0) FROM schema_migrations", -1,
                           &q, NULL) != SQLITE_OK ||
        sqlite3_step(q) != SQLITE_ROW) {
        snprintf(err, errlen, "%s", sqlite3_errmsg(c->db));
        sqlite3_finalize(q);
        rc = RC_STORE;
        goto out;
    }
    current = sqlite3_column_int(q, 0);
    sqlite3_finalize(q);
    int known = 0;
    while (sqlite_migrations[known])
        known++;
    if (current > known) {
        snprintf(err, errlen, "the database is at schema version %d but this pccd knows only %d: "
                 "run a newer pccd", current, known);
        rc = RC_STORE;
        goto out;
    }
    for (int v = current; sqlite_migrations[v]; v++) {
        if ((rc = exec_sql(c->db, sqlite_migrations[v], err, errlen)) != RC_OK)
            goto out;
        char sql[256];
        snprintf(sql, sizeof sql,
                 "INSERT INTO schema_migrations VALUES (%d, '%s', strftime('%%s', 'now'))",
                 v + 1, sqlite_migrations_names[v]);
        if ((rc = exec_sql(c->db, sql, err, errlen)) != RC_OK)
            goto out;
        count++;
    }
out:
    if (rc == RC_OK)
        rc = exec_sql(c->db, "COMMIT", err, errlen);
    else
        exec_sql(c->db, "ROLLBACK", s->base.last_error, sizeof s->base.last_error);
    if (applied)
        *applied = rc == RC_OK ? count : 0;
    return rc;
}

static void s_close(struct store *st_)
{
    SELF;
    struct conn *c = s->conns;
    while (c) {
        struct conn *next = c->next;
        conn_close(c);
        c = next;
    }
    pthread_key_delete(s->key);
    pthread_mutex_destroy(&s->lock);
    free(s->path);
    free(s);
}

static const struct store_ops sqlite_ops = {
    .close = s_close,
    .migrate = s_migrate,
    .user_create = s_user_create,
    .user_by_email = s_user_by_email,
    .user_by_id = s_user_by_id,
    .org_create = s_org_create,
    .org_by_name = s_org_by_name,
    .org_set_daily_key = s_org_set_daily_key,
    .membership_put = s_membership_put,
    .orgs_for_user = s_orgs_for_user,
    .org_for_member = s_org_for_member,
    .token_insert = s_token_insert,
    .token_lookup = s_token_lookup,
    .token_by_id = s_token_by_id,
    .tokens_for_user = s_tokens_for_user,
    .token_revoke = s_token_revoke,
    .token_touch = s_token_touch,
    .token_count = s_token_count,
    .audit_append = s_audit_append,
    .audit_for_user = s_audit_for_user,
};

enum rc store_sqlite_open(const char *path, struct store **out, char *err, size_t errlen)
{
    struct sqlite_store *s = calloc(1, sizeof *s);
    if (!s)
        return RC_NOMEM;
    s->base.ops = &sqlite_ops;
    s->path = strdup(path);
    pthread_mutex_init(&s->lock, NULL);
    if (!s->path || pthread_key_create(&s->key, thread_exit) != 0) {
        free(s->path);
        free(s);
        return RC_NOMEM;
    }
    /* Open the first connection now so a bad path fails here, not on the first request. */
    struct conn *c;
    enum rc rc = get_conn(s, &c);
    if (rc != RC_OK) {
        snprintf(err, errlen, "%s", s->base.last_error);
        s_close(&s->base);
        return rc;
    }
    *out = &s->base;
    return RC_OK;
}
