/* sqlite.c: the embedded SQLite backend of the store interface. One connection per thread
 * (WAL lets readers run beside the writer), prepared statements cached per connection. */
#include <errno.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include <sqlite3.h>

#include "log.h"
#include "sql.h"
#include "store_backend.h"
#include "banned.h"

#define BUSY_TIMEOUT_MS 5000

/* Every statement the backend runs: the shared texts of sql.h, then the few of its own. */
#define SQL_TABLE(X) SHARED_SQL_TABLE(X) SQLITE_SQL_TABLE(X)

/* The statements whose text differs from pg.c's, each saying how. */
#define SQLITE_SQL_TABLE(X)                                                                        \
    /* no RETURNING id: the id is read with sqlite3_last_insert_rowid() */                         \
    X(Q_AUDIT_INSERT, WRITE,                                                                       \
      "INSERT INTO audit_events (at, event, user_id, token_id, org_id, ip, detail) "               \
      "VALUES ($1, $2, $3, $4, $5, $6, $7)")                                                       \
    /* no FOR UPDATE, which SQLite lacks: BEGIN IMMEDIATE already shuts out other writers */       \
    X(Q_MEMBER_ROLE, READ, "SELECT role FROM memberships WHERE org_id = $1 AND user_id = $2")      \
    /* no FOR UPDATE, which SQLite lacks: BEGIN IMMEDIATE already shuts out other writers */       \
    X(Q_ADMIN_COUNT, READ,                                                                         \
      "SELECT count(*) FROM memberships WHERE org_id = $1 AND role = 'admin'")                     \
    /* no RETURNING: take_row() reads the row back with Q_OAUTH_CODE_GET */                        \
    X(Q_OAUTH_CODE_USE, WRITE,                                                                     \
      "UPDATE oauth_codes SET used_at = $2 WHERE digest = $1 AND used_at = 0")                     \
    /* no RETURNING: take_row() reads the row back with Q_OAUTH_RT_GET */                          \
    X(Q_OAUTH_RT_USE, WRITE,                                                                       \
      "UPDATE oauth_refresh_tokens SET used_at = $2 WHERE digest = $1 AND used_at = 0 "            \
      "AND revoked_at = 0")                                                                        \
    /* no RETURNING: take_row() reads the row back with Q_OAUTH_DEVICE_GET */                      \
    X(Q_OAUTH_DEVICE_USE, WRITE,                                                                   \
      "UPDATE oauth_device_codes SET status = 'used', last_poll_at = $2 WHERE digest = $1 "        \
      "AND status = 'approved' AND expires_at > $2")                                               \
    /* rowid breaks ties of the same second in the order of insertion (pg.c: the seq column   \
     * of migration 0010) */    \
    X(Q_APIKEYS_FOR_ORG, READ,                                                                     \
      "SELECT " APIKEY_COLUMNS " FROM api_keys WHERE org_id = $1 ORDER BY created_at, rowid")      \
    /* no FOR UPDATE, which SQLite lacks: BEGIN IMMEDIATE already shuts out other writers */       \
    X(Q_INVITATION_GET, READ, INVITATION_SELECT " WHERE i.id = $1")

enum query {
#define Q_ENUM(name, kind, sql) name,
    SQL_TABLE(Q_ENUM)
#undef Q_ENUM
        Q__COUNT
};

static const char *const query_sql[Q__COUNT] = {
#define Q_SQL(name, kind, sql) sql,
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
    char why[STORE_ERROR_SIZE] = "";
    enum rc rc = conn_open(s->path, &c, why, sizeof why);
    if (rc != RC_OK) {
        store_set_error(&s->base, "%s", why);
        return rc;
    }
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
    store_set_error(&s->base, "%s: %s", what, sqlite3_errmsg(c->db));
    log_error("sqlite: %s", store_last_error(&s->base));
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
    if (!c->stmts[q] && sqlite3_prepare_v3(c->db, query_sql[q], -1, SQLITE_PREPARE_PERSISTENT,
                                           &c->stmts[q], NULL) != SQLITE_OK)
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

static void bind_int64(sqlite3_stmt *st, int n, int64_t v)
{
    sqlite3_bind_int64(st, param(st, n), v);
}

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
    col(st, 3, o->daily_key_sealed, sizeof o->daily_key_sealed);
    o->created_at = sqlite3_column_int64(st, 4);
    col(st, 5, o->role, sizeof o->role);
}

static void read_policy(sqlite3_stmt *st, int at, struct store_token_policy *p)
{
    p->require_expiry = sqlite3_column_int(st, at + 0);
    p->max_lifetime_days = sqlite3_column_int(st, at + 1);
    p->require_binding = sqlite3_column_int(st, at + 2);
    p->updated_at = sqlite3_column_int64(st, at + 3);
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
    col(st, 14, t->previous_digest, sizeof t->previous_digest);
    t->previous_expires_at = sqlite3_column_int64(st, 15);
    t->rotated_at = sqlite3_column_int64(st, 16);
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
#define FETCH_ONE(s, c, st, reader_stmt)                                                           \
    do {                                                                                           \
        int r_ = sqlite3_step(st);                                                                 \
        if (r_ == SQLITE_ROW) {                                                                    \
            reader_stmt;                                                                           \
            rc = RC_OK;                                                                            \
        } else if (r_ == SQLITE_DONE) {                                                            \
            rc = RC_NOT_FOUND;                                                                     \
        } else {                                                                                   \
            rc = fail(s, c, "step");                                                               \
        }                                                                                          \
        sqlite3_reset(st);                                                                         \
    } while (0)

/* Collect every row into a growing array of elem_size-byte rows filled by reader. */
static enum rc fetch_all(struct sqlite_store *s, struct conn *c, sqlite3_stmt *st, size_t elem_size,
                         void (*reader)(sqlite3_stmt *, void *), void **list, size_t *count)
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
#define PREPARE(q)                                                                                 \
    struct conn *c;                                                                                \
    sqlite3_stmt *st;                                                                              \
    enum rc rc = stmt(s, q, &c, &st);                                                              \
    if (rc != RC_OK)                                                                               \
    return rc

static enum rc s_user_create(struct store *st_, struct store_user *u)
{
    SELF;
    PREPARE(Q_USER_INSERT);
    bind_text(st, 1, u->id);
    bind_text(st, 2, u->email);
    bind_text(st, 3, u->name);
    bind_int64(st, 4, u->created_at);
    bind_text(st, 5, u->kind[0] ? u->kind : "human");
    return run(s, c, st, NULL);
}

static enum rc s_user_by_email(struct store *st_, const char *email, struct store_user *out)
{
    SELF;
    PREPARE(Q_USER_BY_EMAIL);
    bind_text(st, 1, email);
    FETCH_ONE(s, c, st, (read_user(st, 0, out), col(st, 4, out->kind, sizeof out->kind)));
    return rc;
}

static enum rc s_user_by_id(struct store *st_, const char *id, struct store_user *out)
{
    SELF;
    PREPARE(Q_USER_BY_ID);
    bind_text(st, 1, id);
    FETCH_ONE(s, c, st, (read_user(st, 0, out), col(st, 4, out->kind, sizeof out->kind)));
    return rc;
}

static enum rc s_org_create(struct store *st_, struct store_org *o)
{
    SELF;
    PREPARE(Q_ORG_INSERT);
    bind_text(st, 1, o->id);
    bind_text(st, 2, o->name);
    bind_text(st, 3, o->verbose_name);
    bind_text(st, 4, o->daily_key_sealed);
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

static enum rc s_org_set_daily_key(struct store *st_, const char *org_id, const char *sealed)
{
    SELF;
    PREPARE(Q_ORG_SET_DAILY);
    bind_text(st, 1, org_id);
    bind_text(st, 2, sealed ? sealed : "");
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
    FETCH_ONE(s, c, st, (read_org(st, out), read_policy(st, 6, &out->token_policy)));
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
    FETCH_ONE(s, c, st,
              (read_token(st, tok), read_user(st, TOKEN_COLUMN_COUNT, owner),
               col(st, TOKEN_COLUMN_COUNT + 4, owner->kind, sizeof owner->kind)));
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

static enum rc s_tokens_for_user(struct store *st_, const char *user_id, struct store_token **list,
                                 size_t *count)
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

static enum rc s_token_touch(struct store *st_, const char *token_id, int64_t now, const char *ip,
                             const char *agent)
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

/* --- platform tables: properties, API keys, secrets, services ------------------------------ */

/* Run body between BEGIN IMMEDIATE and COMMIT on this thread's connection (the one every
 * statement of the body uses); ROLLBACK when any step fails. IMMEDIATE takes the write lock
 * first, so a read inside the body is not invalidated by another writer. */
static enum rc transaction(struct sqlite_store *s, enum rc (*body)(struct sqlite_store *, void *),
                           void *arg)
{
    struct conn *c;
    enum rc rc = get_conn(s, &c);
    if (rc != RC_OK)
        return rc;
    if (sqlite3_exec(c->db, "BEGIN IMMEDIATE", NULL, NULL, NULL) != SQLITE_OK)
        return fail(s, c, "begin");
    rc = body(s, arg);
    if (rc == RC_OK && sqlite3_exec(c->db, "COMMIT", NULL, NULL, NULL) != SQLITE_OK)
        rc = fail(s, c, "commit");
    if (rc != RC_OK && !sqlite3_get_autocommit(c->db))
        sqlite3_exec(c->db, "ROLLBACK", NULL, NULL, NULL);
    return rc;
}

static void read_property(sqlite3_stmt *st, struct store_property *p)
{
    col(st, 0, p->name, sizeof p->name);
    col(st, 1, p->value, sizeof p->value);
    p->updated_at = sqlite3_column_int64(st, 2);
}

static void read_api_key(sqlite3_stmt *st, struct store_api_key *k)
{
    col(st, 0, k->id, sizeof k->id);
    col(st, 1, k->org_id, sizeof k->org_id);
    col(st, 2, k->kind, sizeof k->kind);
    col(st, 3, k->name, sizeof k->name);
    col(st, 4, k->public_value, sizeof k->public_value);
    col(st, 5, k->display, sizeof k->display);
    col(st, 6, k->digest, sizeof k->digest);
    col(st, 7, k->created_by, sizeof k->created_by);
    k->created_at = sqlite3_column_int64(st, 8);
    k->last_used_at = sqlite3_column_int64(st, 9);
    k->revoked_at = sqlite3_column_int64(st, 10);
}

static void read_secret_set(sqlite3_stmt *st, struct store_secret_set *set)
{
    col(st, 0, set->id, sizeof set->id);
    col(st, 1, set->org_id, sizeof set->org_id);
    col(st, 2, set->name, sizeof set->name);
    col(st, 3, set->kind, sizeof set->kind);
    col(st, 4, set->region, sizeof set->region);
    col(st, 5, set->host, sizeof set->host);
    set->created_at = sqlite3_column_int64(st, 6);
    set->updated_at = sqlite3_column_int64(st, 7);
}

static void read_secret(sqlite3_stmt *st, struct store_secret *sec)
{
    col(st, 0, sec->set_id, sizeof sec->set_id);
    col(st, 1, sec->name, sizeof sec->name);
    col(st, 2, sec->nonce, sizeof sec->nonce);
    sec->created_at = sqlite3_column_int64(st, 3);
    sec->updated_at = sqlite3_column_int64(st, 4);
}

static void read_service(sqlite3_stmt *st, struct store_service *svc)
{
    col(st, 0, svc->id, sizeof svc->id);
    col(st, 1, svc->org_id, sizeof svc->org_id);
    col(st, 2, svc->name, sizeof svc->name);
    col(st, 3, svc->region, sizeof svc->region);
    svc->min_agents = sqlite3_column_int(st, 4);
    svc->max_agents = sqlite3_column_int(st, 5);
    col(st, 6, svc->active_deployment_id, sizeof svc->active_deployment_id);
    svc->created_at = sqlite3_column_int64(st, 7);
    svc->updated_at = sqlite3_column_int64(st, 8);
}

static void read_deployment(sqlite3_stmt *st, struct store_deployment *d)
{
    col(st, 0, d->id, sizeof d->id);
    col(st, 1, d->service_id, sizeof d->service_id);
    d->revision = sqlite3_column_int(st, 2);
    col(st, 3, d->image, sizeof d->image);
    col(st, 4, d->build_id, sizeof d->build_id);
    col(st, 5, d->secret_set, sizeof d->secret_set);
    col(st, 6, d->image_pull_secret_set, sizeof d->image_pull_secret_set);
    col(st, 7, d->agent_profile, sizeof d->agent_profile);
    col(st, 8, d->krisp_viva_filter, sizeof d->krisp_viva_filter);
    d->enable_krisp = sqlite3_column_int(st, 9);
    col(st, 10, d->websocket_auth, sizeof d->websocket_auth);
    d->max_session_duration = sqlite3_column_int(st, 11);
    col(st, 12, d->created_by, sizeof d->created_by);
    d->created_at = sqlite3_column_int64(st, 13);
}

static void property_reader(sqlite3_stmt *st, void *row) { read_property(st, row); }
static void api_key_reader(sqlite3_stmt *st, void *row) { read_api_key(st, row); }
static void secret_set_reader(sqlite3_stmt *st, void *row) { read_secret_set(st, row); }
static void secret_reader(sqlite3_stmt *st, void *row) { read_secret(st, row); }
static void service_reader(sqlite3_stmt *st, void *row) { read_service(st, row); }
static void deployment_reader(sqlite3_stmt *st, void *row) { read_deployment(st, row); }

/* Run a statement that changes rows; RC_NOT_FOUND when it changed none. */
static enum rc run_changing(struct sqlite_store *s, struct conn *c, sqlite3_stmt *st)
{
    int changes = 0;
    enum rc rc = run(s, c, st, &changes);
    return rc == RC_OK && changes == 0 ? RC_NOT_FOUND : rc;
}

static enum rc s_org_properties(struct store *st_, const char *org_id, struct store_property **list,
                                size_t *count)
{
    SELF;
    PREPARE(Q_PROPERTIES_FOR_ORG);
    bind_text(st, 1, org_id);
    return fetch_all(s, c, st, sizeof **list, property_reader, (void **)list, count);
}

static enum rc s_org_property_put(struct store *st_, const char *org_id, const char *name,
                                  const char *value, int64_t now)
{
    SELF;
    PREPARE(Q_PROPERTY_PUT);
    bind_text(st, 1, org_id);
    bind_text(st, 2, name);
    bind_text(st, 3, value);
    bind_int64(st, 4, now);
    return run(s, c, st, NULL);
}

static enum rc s_api_key_insert(struct store *st_, const struct store_api_key *k)
{
    SELF;
    PREPARE(Q_APIKEY_INSERT);
    bind_text(st, 1, k->id);
    bind_text(st, 2, k->org_id);
    bind_text(st, 3, k->kind);
    bind_text(st, 4, k->name);
    bind_text(st, 5, k->public_value);
    bind_text(st, 6, k->display);
    bind_text(st, 7, k->digest);
    bind_text(st, 8, k->created_by);
    bind_int64(st, 9, k->created_at);
    return run(s, c, st, NULL);
}

static enum rc s_api_key_lookup(struct store *st_, const char *digest, struct store_api_key *out)
{
    SELF;
    PREPARE(Q_APIKEY_LOOKUP);
    bind_text(st, 1, digest);
    FETCH_ONE(s, c, st, read_api_key(st, out));
    return rc;
}

static enum rc s_api_keys_for_org(struct store *st_, const char *org_id,
                                  struct store_api_key **list, size_t *count)
{
    SELF;
    PREPARE(Q_APIKEYS_FOR_ORG);
    bind_text(st, 1, org_id);
    return fetch_all(s, c, st, sizeof **list, api_key_reader, (void **)list, count);
}

static enum rc s_api_key_revoke(struct store *st_, const char *org_id, const char *key_id,
                                int64_t now)
{
    SELF;
    PREPARE(Q_APIKEY_REVOKE);
    bind_text(st, 1, org_id);
    bind_text(st, 2, key_id);
    bind_int64(st, 3, now);
    return run_changing(s, c, st);
}

static enum rc s_api_key_touch(struct store *st_, const char *key_id, int64_t now)
{
    SELF;
    PREPARE(Q_APIKEY_TOUCH);
    bind_text(st, 1, key_id);
    bind_int64(st, 2, now);
    return run(s, c, st, NULL);
}

static enum rc s_secret_sets_for_org(struct store *st_, const char *org_id, const char *region,
                                     struct store_secret_set **list, size_t *count)
{
    SELF;
    PREPARE(Q_SETS_FOR_ORG);
    bind_text(st, 1, org_id);
    bind_text(st, 2, region ? region : "");
    return fetch_all(s, c, st, sizeof **list, secret_set_reader, (void **)list, count);
}

static enum rc s_secret_set_by_name(struct store *st_, const char *org_id, const char *name,
                                    struct store_secret_set *out)
{
    SELF;
    PREPARE(Q_SET_BY_NAME);
    bind_text(st, 1, org_id);
    bind_text(st, 2, name);
    FETCH_ONE(s, c, st, read_secret_set(st, out));
    return rc;
}

static enum rc set_insert_if_missing(struct sqlite_store *s, const struct store_secret_set *set)
{
    PREPARE(Q_SET_INSERT);
    bind_text(st, 1, set->id);
    bind_text(st, 2, set->org_id);
    bind_text(st, 3, set->name);
    bind_text(st, 4, set->kind);
    bind_text(st, 5, set->region);
    bind_text(st, 6, set->host);
    bind_int64(st, 7, set->created_at);
    bind_int64(st, 8, set->updated_at);
    return run(s, c, st, NULL);
}

static enum rc set_touch(struct sqlite_store *s, const char *set_id, const char *host, int64_t now)
{
    PREPARE(Q_SET_TOUCH);
    bind_text(st, 1, set_id);
    bind_text(st, 2, host);
    bind_int64(st, 3, now);
    return run(s, c, st, NULL);
}

static enum rc secret_upsert(struct sqlite_store *s, const struct store_secret *sec,
                             const char *set_id, const char *ciphertext)
{
    PREPARE(Q_SECRET_PUT);
    bind_text(st, 1, set_id);
    bind_text(st, 2, sec->name);
    bind_text(st, 3, sec->nonce);
    bind_text(st, 4, ciphertext);
    bind_int64(st, 5, sec->updated_at);
    return run(s, c, st, NULL);
}

struct secret_put_args {
    struct store_secret_set *set;
    const struct store_secret *secret;
    const char *ciphertext;
};

static enum rc secret_put_body(struct sqlite_store *s, void *arg)
{
    struct secret_put_args *a = arg;
    struct store_secret_set stored;
    enum rc rc = set_insert_if_missing(s, a->set);
    if (rc == RC_OK)
        rc = s_secret_set_by_name(&s->base, a->set->org_id, a->set->name, &stored);
    if (rc != RC_OK)
        return rc;
    if (strcmp(stored.kind, a->set->kind) != 0 || strcmp(stored.region, a->set->region) != 0) {
        *a->set = stored;
        return RC_CONFLICT;
    }
    store_copy_field(stored.host, sizeof stored.host, a->set->host);
    stored.updated_at = a->set->updated_at;
    if ((rc = set_touch(s, stored.id, stored.host, stored.updated_at)) != RC_OK ||
        (rc = secret_upsert(s, a->secret, stored.id, a->ciphertext)) != RC_OK)
        return rc;
    *a->set = stored;
    return RC_OK;
}

static enum rc s_secret_put(struct store *st_, struct store_secret_set *set,
                            const struct store_secret *secret, const char *ciphertext)
{
    SELF;
    struct secret_put_args a = {set, secret, ciphertext};
    return transaction(s, secret_put_body, &a);
}

static enum rc s_secret_names(struct store *st_, const char *set_id, struct store_secret **list,
                              size_t *count)
{
    SELF;
    PREPARE(Q_SECRET_NAMES);
    bind_text(st, 1, set_id);
    return fetch_all(s, c, st, sizeof **list, secret_reader, (void **)list, count);
}

static enum rc s_secret_get(struct store *st_, const char *set_id, const char *name,
                            struct store_secret *out, char **ciphertext)
{
    SELF;
    PREPARE(Q_SECRET_GET);
    bind_text(st, 1, set_id);
    bind_text(st, 2, name);
    *ciphertext = NULL;
    FETCH_ONE(
        s, c, st,
        (read_secret(st, out), *ciphertext = strdup((const char *)sqlite3_column_text(st, 5)
                                                        ? (const char *)sqlite3_column_text(st, 5)
                                                        : "")));
    if (rc == RC_OK && !*ciphertext)
        rc = RC_NOMEM;
    return rc;
}

struct secret_delete_args {
    const char *set_id, *name;
    int64_t now;
    int *set_deleted;
};

static enum rc secret_delete_body(struct sqlite_store *s, void *arg)
{
    struct secret_delete_args *a = arg;
    *a->set_deleted = 0;
    {
        PREPARE(Q_SET_STAMP);
        bind_text(st, 1, a->set_id);
        bind_int64(st, 2, a->now);
        if ((rc = run_changing(s, c, st)) != RC_OK)
            return rc;
    }
    {
        PREPARE(Q_SECRET_DELETE);
        bind_text(st, 1, a->set_id);
        bind_text(st, 2, a->name);
        if ((rc = run_changing(s, c, st)) != RC_OK)
            return rc;
    }
    PREPARE(Q_SET_DELETE_IF_EMPTY);
    bind_text(st, 1, a->set_id);
    int changes = 0;
    rc = run(s, c, st, &changes);
    *a->set_deleted = rc == RC_OK && changes > 0;
    return rc;
}

static enum rc s_secret_delete(struct store *st_, const char *set_id, const char *name, int64_t now,
                               int *set_deleted)
{
    SELF;
    struct secret_delete_args a = {set_id, name, now, set_deleted};
    return transaction(s, secret_delete_body, &a);
}

static enum rc s_secret_set_delete(struct store *st_, const char *org_id, const char *name)
{
    SELF;
    PREPARE(Q_SET_DELETE);
    bind_text(st, 1, org_id);
    bind_text(st, 2, name);
    return run_changing(s, c, st);
}

static enum rc service_insert(struct sqlite_store *s, const struct store_service *svc)
{
    PREPARE(Q_SERVICE_INSERT);
    bind_text(st, 1, svc->id);
    bind_text(st, 2, svc->org_id);
    bind_text(st, 3, svc->name);
    bind_text(st, 4, svc->region);
    bind_int64(st, 5, svc->min_agents);
    bind_int64(st, 6, svc->max_agents);
    bind_text(st, 7, svc->active_deployment_id);
    bind_int64(st, 8, svc->created_at);
    bind_int64(st, 9, svc->updated_at);
    return run(s, c, st, NULL);
}

static enum rc deployment_insert_row(struct sqlite_store *s, const struct store_deployment *d)
{
    PREPARE(Q_DEPLOYMENT_INSERT);
    bind_text(st, 1, d->id);
    bind_text(st, 2, d->service_id);
    bind_text(st, 3, d->image);
    bind_text(st, 4, d->build_id);
    bind_text(st, 5, d->secret_set);
    bind_text(st, 6, d->image_pull_secret_set);
    bind_text(st, 7, d->agent_profile);
    bind_text(st, 8, d->krisp_viva_filter);
    bind_int64(st, 9, d->enable_krisp);
    bind_text(st, 10, d->websocket_auth);
    bind_int64(st, 11, d->max_session_duration);
    bind_text(st, 12, d->created_by);
    bind_int64(st, 13, d->created_at);
    return run(s, c, st, NULL);
}

/* Insert dep as the service's next revision and read back the revision it got. */
static enum rc deployment_insert(struct sqlite_store *s, struct store_deployment *d)
{
    enum rc inserted = deployment_insert_row(s, d);
    if (inserted != RC_OK)
        return inserted;
    PREPARE(Q_DEPLOYMENT_REVISION);
    bind_text(st, 1, d->id);
    FETCH_ONE(s, c, st, d->revision = sqlite3_column_int(st, 0));
    return rc;
}

struct service_write_args {
    const struct store_service *svc;
    struct store_deployment *dep;
};

static enum rc service_create_body(struct sqlite_store *s, void *arg)
{
    struct service_write_args *a = arg;
    enum rc rc = service_insert(s, a->svc);
    return rc == RC_OK ? deployment_insert(s, a->dep) : rc;
}

static enum rc s_service_create(struct store *st_, struct store_service *svc,
                                struct store_deployment *dep)
{
    SELF;
    store_copy_field(dep->service_id, sizeof dep->service_id, svc->id);
    store_copy_field(svc->active_deployment_id, sizeof svc->active_deployment_id, dep->id);
    struct service_write_args a = {svc, dep};
    return transaction(s, service_create_body, &a);
}

static enum rc service_update_row(struct sqlite_store *s, const struct store_service *svc,
                                  const char *active_deployment_id)
{
    PREPARE(Q_SERVICE_UPDATE);
    bind_text(st, 1, svc->id);
    bind_int64(st, 2, svc->min_agents);
    bind_int64(st, 3, svc->max_agents);
    bind_text(st, 4, active_deployment_id);
    bind_int64(st, 5, svc->updated_at);
    return run_changing(s, c, st);
}

/* The service row first: a service deleted meanwhile is RC_NOT_FOUND, not a foreign-key
 * conflict of the deployment. */
static enum rc service_update_body(struct sqlite_store *s, void *arg)
{
    struct service_write_args *a = arg;
    const char *active = a->dep ? a->dep->id : a->svc->active_deployment_id;
    enum rc rc = service_update_row(s, a->svc, active);
    if (rc == RC_OK && a->dep)
        rc = deployment_insert(s, a->dep);
    return rc;
}

static enum rc s_service_update(struct store *st_, const struct store_service *svc,
                                struct store_deployment *dep)
{
    SELF;
    if (dep)
        store_copy_field(dep->service_id, sizeof dep->service_id, svc->id);
    struct service_write_args a = {svc, dep};
    return transaction(s, service_update_body, &a);
}

static enum rc s_service_by_name(struct store *st_, const char *org_id, const char *name,
                                 struct store_service *out)
{
    SELF;
    PREPARE(Q_SERVICE_BY_NAME);
    bind_text(st, 1, org_id);
    bind_text(st, 2, name);
    FETCH_ONE(s, c, st, read_service(st, out));
    return rc;
}

static enum rc s_services_for_org(struct store *st_, const char *org_id, const char *region,
                                  struct store_service **list, size_t *count)
{
    SELF;
    PREPARE(Q_SERVICES_FOR_ORG);
    bind_text(st, 1, org_id);
    bind_text(st, 2, region ? region : "");
    return fetch_all(s, c, st, sizeof **list, service_reader, (void **)list, count);
}

static enum rc s_service_delete(struct store *st_, const char *org_id, const char *name)
{
    SELF;
    PREPARE(Q_SERVICE_DELETE);
    bind_text(st, 1, org_id);
    bind_text(st, 2, name);
    return run_changing(s, c, st);
}

static enum rc s_deployment_by_id(struct store *st_, const char *service_id, const char *id,
                                  struct store_deployment *out)
{
    SELF;
    PREPARE(Q_DEPLOYMENT_BY_ID);
    bind_text(st, 1, service_id);
    bind_text(st, 2, id);
    FETCH_ONE(s, c, st, read_deployment(st, out));
    return rc;
}

static enum rc s_deployments_for_service(struct store *st_, const char *service_id,
                                         struct store_deployment **list, size_t *count)
{
    SELF;
    PREPARE(Q_DEPLOYMENTS_FOR_SERVICE);
    bind_text(st, 1, service_id);
    return fetch_all(s, c, st, sizeof **list, deployment_reader, (void **)list, count);
}

/* --- dashboard: passwords, web sessions, members (migration 0004) ------------------------- */

static enum rc s_user_set_password(struct store *st_, const char *user_id, const char *hash)
{
    SELF;
    PREPARE(Q_USER_SET_PASSWORD);
    bind_text(st, 1, user_id);
    bind_text(st, 2, hash);
    return run_changing(s, c, st);
}

/* The user by email, then the hash by id: users are never deleted or renamed, so the two
 * reads agree, and this keeps the user columns in one place (s_user_by_email). */
static enum rc s_user_password_by_email(struct store *st_, const char *email,
                                        struct store_user *out, char hash[STORE_PASSWORD_HASH_SIZE])
{
    SELF;
    enum rc rc = s_user_by_email(st_, email, out);
    if (rc != RC_OK)
        return rc;
    struct conn *c;
    sqlite3_stmt *st;
    if ((rc = stmt(s, Q_USER_PASSWORD, &c, &st)) != RC_OK)
        return rc;
    bind_text(st, 1, out->id);
    FETCH_ONE(s, c, st, col(st, 0, hash, STORE_PASSWORD_HASH_SIZE));
    return rc;
}

static enum rc s_web_session_insert(struct store *st_, const struct store_web_session *ws)
{
    SELF;
    PREPARE(Q_WS_INSERT);
    bind_text(st, 1, ws->id);
    bind_text(st, 2, ws->user_id);
    bind_text(st, 3, ws->active_org);
    bind_int64(st, 4, ws->created_at);
    bind_int64(st, 5, ws->last_seen_at);
    bind_int64(st, 6, ws->expires_at);
    return run(s, c, st, NULL);
}

static void read_web_session(sqlite3_stmt *st, struct store_web_session *ws)
{
    col(st, 0, ws->id, sizeof ws->id);
    col(st, 1, ws->user_id, sizeof ws->user_id);
    col(st, 2, ws->active_org, sizeof ws->active_org);
    ws->created_at = sqlite3_column_int64(st, 3);
    ws->last_seen_at = sqlite3_column_int64(st, 4);
    ws->expires_at = sqlite3_column_int64(st, 5);
}

static enum rc s_web_session_lookup(struct store *st_, const char *id,
                                    struct store_web_session *out, struct store_user *user)
{
    SELF;
    PREPARE(Q_WS_LOOKUP);
    bind_text(st, 1, id);
    FETCH_ONE(s, c, st, read_web_session(st, out));
    if (rc == RC_OK)
        rc = s_user_by_id(st_, out->user_id, user);
    return rc;
}

static enum rc s_web_session_touch(struct store *st_, const char *id, int64_t now)
{
    SELF;
    PREPARE(Q_WS_TOUCH);
    bind_text(st, 1, id);
    bind_int64(st, 2, now);
    return run_changing(s, c, st);
}

static enum rc s_web_session_set_org(struct store *st_, const char *id, const char *org_id)
{
    SELF;
    PREPARE(Q_WS_SET_ORG);
    bind_text(st, 1, id);
    bind_text(st, 2, org_id);
    return run_changing(s, c, st);
}

static enum rc s_web_session_delete(struct store *st_, const char *id)
{
    SELF;
    PREPARE(Q_WS_DELETE);
    bind_text(st, 1, id);
    return run_changing(s, c, st);
}

static void member_reader(sqlite3_stmt *st, void *row)
{
    struct store_member *m = row;
    col(st, 0, m->user.id, sizeof m->user.id);
    col(st, 1, m->user.email, sizeof m->user.email);
    col(st, 2, m->user.name, sizeof m->user.name);
    m->user.created_at = sqlite3_column_int64(st, 3);
    col(st, 4, m->role, sizeof m->role);
    m->joined_at = sqlite3_column_int64(st, 5);
}

static enum rc s_members_of_org(struct store *st_, const char *org_id, struct store_member **list,
                                size_t *count)
{
    SELF;
    PREPARE(Q_MEMBERS_OF_ORG);
    bind_text(st, 1, org_id);
    return fetch_all(s, c, st, sizeof **list, member_reader, (void **)list, count);
}

struct membership_change_args {
    const char *org_id, *user_id, *role;
};

/* Inside BEGIN IMMEDIATE: no other writer can demote or remove an admin between the count and
 * the change. */
static enum rc membership_change_body(struct sqlite_store *s, void *arg)
{
    struct membership_change_args *a = arg;
    char role[STORE_ROLE_SIZE] = "";
    int64_t admins = 0;
    {
        PREPARE(Q_MEMBER_ROLE);
        bind_text(st, 1, a->org_id);
        bind_text(st, 2, a->user_id);
        FETCH_ONE(s, c, st, col(st, 0, role, sizeof role));
        if (rc != RC_OK)
            return rc;
    }
    if (strcmp(role, "admin") == 0 && (!a->role || strcmp(a->role, "admin") != 0)) {
        PREPARE(Q_ADMIN_COUNT);
        bind_text(st, 1, a->org_id);
        FETCH_ONE(s, c, st, admins = sqlite3_column_int64(st, 0));
        if (rc != RC_OK)
            return rc;
        if (admins <= 1)
            return RC_FORBIDDEN;
    }
    PREPARE(a->role ? Q_MEMBER_SET_ROLE : Q_MEMBER_DELETE);
    bind_text(st, 1, a->org_id);
    bind_text(st, 2, a->user_id);
    if (a->role)
        bind_text(st, 3, a->role);
    return run_changing(s, c, st);
}

static enum rc s_membership_change(struct store *st_, const char *org_id, const char *user_id,
                                   const char *role)
{
    SELF;
    struct membership_change_args a = {org_id, user_id, role};
    return transaction(s, membership_change_body, &a);
}

/* --- token lifecycle: rotation, addresses, org oversight, policies, service accounts ------- */

static enum rc s_token_rotate(struct store *st_, const struct store_token *t,
                              const char *expected_digest)
{
    SELF;
    PREPARE(Q_TOKEN_ROTATE);
    bind_text(st, 1, t->id);
    bind_text(st, 2, t->digest);
    bind_text(st, 3, t->display);
    bind_optional(st, 4, t->previous_digest);
    bind_int64(st, 5, t->previous_expires_at);
    bind_int64(st, 6, t->rotated_at);
    bind_text(st, 7, expected_digest);
    if ((rc = run_changing(s, c, st)) != RC_NOT_FOUND)
        return rc;
    /* Nothing changed: the decision is made; this read only names the reason. */
    int64_t active = 0;
    sqlite3_stmt *q;
    if ((rc = stmt(s, Q_TOKEN_ACTIVE, &c, &q)) != RC_OK)
        return rc;
    bind_text(q, 1, t->id);
    FETCH_ONE(s, c, q, active = sqlite3_column_int64(q, 0));
    return rc != RC_OK ? rc : active ? RC_CONFLICT : RC_NOT_FOUND;
}

static enum rc s_token_ip_add(struct store *st_, const char *token_id, const char *ip, int64_t now)
{
    SELF;
    PREPARE(Q_TOKEN_IP_ADD);
    bind_text(st, 1, token_id);
    bind_text(st, 2, ip ? ip : "");
    bind_int64(st, 3, now);
    int changes = 0;
    rc = run(s, c, st, &changes);
    return rc == RC_OK && changes == 0 ? RC_CONFLICT : rc;
}

static void org_token_reader(sqlite3_stmt *st, void *row)
{
    struct store_org_token *o = row;
    read_token(st, &o->token);
    col(st, TOKEN_COLUMN_COUNT + 0, o->owner_id, sizeof o->owner_id);
    col(st, TOKEN_COLUMN_COUNT + 1, o->owner_email, sizeof o->owner_email);
    col(st, TOKEN_COLUMN_COUNT + 2, o->owner_kind, sizeof o->owner_kind);
}

static enum rc s_tokens_for_org(struct store *st_, const char *org_id,
                                struct store_org_token **list, size_t *count)
{
    SELF;
    PREPARE(Q_TOKENS_FOR_ORG);
    bind_text(st, 1, org_id);
    return fetch_all(s, c, st, sizeof **list, org_token_reader, (void **)list, count);
}

static enum rc s_audit_for_org(struct store *st_, const char *org_id, int64_t before_id,
                               size_t limit, struct store_audit **list, size_t *count)
{
    SELF;
    PREPARE(Q_AUDIT_FOR_ORG);
    bind_text(st, 1, org_id);
    bind_int64(st, 2, before_id > 0 ? before_id : INT64_MAX);
    bind_int64(st, 3, (sqlite3_int64)limit);
    return fetch_all(s, c, st, sizeof **list, audit_reader, (void **)list, count);
}

static enum rc s_token_policy_put(struct store *st_, const char *org_id,
                                  const struct store_token_policy *p)
{
    SELF;
    PREPARE(Q_POLICY_PUT);
    bind_text(st, 1, org_id);
    bind_int64(st, 2, p->require_expiry);
    bind_int64(st, 3, p->max_lifetime_days);
    bind_int64(st, 4, p->require_binding);
    bind_int64(st, 5, p->updated_at);
    return run(s, c, st, NULL);
}

static void read_service_account(sqlite3_stmt *st, void *row)
{
    struct store_service_account *a = row;
    col(st, 0, a->user_id, sizeof a->user_id);
    col(st, 1, a->org_id, sizeof a->org_id);
    col(st, 2, a->name, sizeof a->name);
    col(st, 3, a->created_by, sizeof a->created_by);
    a->created_at = sqlite3_column_int64(st, 4);
}

struct sa_create {
    const struct store_user *user;
    const struct store_service_account *account;
};

static enum rc sa_create_body(struct sqlite_store *s, void *arg)
{
    const struct sa_create *a = arg;
    struct store_service_account existing;
    enum rc rc = s->base.ops->service_account_by_name(&s->base, a->account->org_id,
                                                      a->account->name, &existing);
    if (rc == RC_OK)
        return RC_CONFLICT;
    if (rc != RC_NOT_FOUND)
        return rc;
    struct store_user u = *a->user;
    store_copy_field(u.kind, sizeof u.kind, "service");
    if ((rc = s->base.ops->user_create(&s->base, &u)) != RC_OK)
        return rc;
    struct conn *c;
    sqlite3_stmt *st;
    if ((rc = stmt(s, Q_SA_MEMBER, &c, &st)) != RC_OK)
        return rc;
    bind_text(st, 1, u.id);
    bind_text(st, 2, a->account->org_id);
    bind_int64(st, 3, a->account->created_at);
    if ((rc = run(s, c, st, NULL)) != RC_OK)
        return rc;
    if ((rc = stmt(s, Q_SA_INSERT, &c, &st)) != RC_OK)
        return rc;
    bind_text(st, 1, u.id);
    bind_text(st, 2, a->account->org_id);
    bind_text(st, 3, a->account->name);
    bind_text(st, 4, a->account->created_by);
    bind_int64(st, 5, a->account->created_at);
    return run(s, c, st, NULL);
}

static enum rc s_service_account_create(struct store *st_, const struct store_user *user,
                                        const struct store_service_account *account)
{
    SELF;
    struct sa_create arg = {user, account};
    return transaction(s, sa_create_body, &arg);
}

static enum rc s_service_accounts_for_org(struct store *st_, const char *org_id,
                                          struct store_service_account **list, size_t *count)
{
    SELF;
    PREPARE(Q_SAS_FOR_ORG);
    bind_text(st, 1, org_id);
    return fetch_all(s, c, st, sizeof **list, read_service_account, (void **)list, count);
}

static enum rc s_service_account_by_name(struct store *st_, const char *org_id, const char *name,
                                         struct store_service_account *out)
{
    SELF;
    PREPARE(Q_SA_BY_NAME);
    bind_text(st, 1, org_id);
    bind_text(st, 2, name);
    FETCH_ONE(s, c, st, read_service_account(st, out));
    return rc;
}

static enum rc s_service_account_delete(struct store *st_, const char *org_id, const char *name)
{
    SELF;
    PREPARE(Q_SA_DELETE);
    bind_text(st, 1, org_id);
    bind_text(st, 2, name);
    return run_changing(s, c, st);
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
        snprintf(err, errlen, "%s", store_last_error(&s->base));
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
    if (sqlite3_prepare_v2(c->db, "SELECT coalesce(max(version), 0) FROM schema_migrations", -1, &q,
                           NULL) != SQLITE_OK ||
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
        snprintf(err, errlen,
                 "the database is at schema version %d but this pccd knows only %d: "
                 "run a newer pccd",
                 current, known);
        rc = RC_STORE;
        goto out;
    }
    for (int v = current; sqlite_migrations[v]; v++) {
        if ((rc = exec_sql(c->db, sqlite_migrations[v], err, errlen)) != RC_OK)
            goto out;
        char sql[256];
        snprintf(sql, sizeof sql,
                 "INSERT INTO schema_migrations VALUES (%d, '%s', strftime('%%s', 'now'))", v + 1,
                 sqlite_migrations_names[v]);
        if ((rc = exec_sql(c->db, sql, err, errlen)) != RC_OK)
            goto out;
        count++;
    }
out:
    if (rc == RC_OK)
        rc = exec_sql(c->db, "COMMIT", err, errlen);
    else
        exec_sql(c->db, "ROLLBACK", NULL, 0);
    if (applied)
        *applied = rc == RC_OK ? count : 0;
    return rc;
}

/* --- OAuth: codes, refresh-token families (migration 0005) -------------------------------- */

static void read_oauth_code(sqlite3_stmt *st, struct store_oauth_code *o)
{
    col(st, 0, o->digest, sizeof o->digest);
    col(st, 1, o->user_id, sizeof o->user_id);
    col(st, 2, o->client_id, sizeof o->client_id);
    col(st, 3, o->redirect_uri, sizeof o->redirect_uri);
    col(st, 4, o->code_challenge, sizeof o->code_challenge);
    col(st, 5, o->scopes, sizeof o->scopes);
    o->created_at = sqlite3_column_int64(st, 6);
    o->expires_at = sqlite3_column_int64(st, 7);
    o->used_at = sqlite3_column_int64(st, 8);
    col(st, 9, o->family_id, sizeof o->family_id);
}

static void read_oauth_device(sqlite3_stmt *st, struct store_oauth_device *o)
{
    col(st, 0, o->digest, sizeof o->digest);
    col(st, 1, o->user_code, sizeof o->user_code);
    col(st, 2, o->client_id, sizeof o->client_id);
    col(st, 3, o->scopes, sizeof o->scopes);
    col(st, 4, o->user_id, sizeof o->user_id);
    col(st, 5, o->status, sizeof o->status);
    o->created_at = sqlite3_column_int64(st, 6);
    o->expires_at = sqlite3_column_int64(st, 7);
    o->interval_s = sqlite3_column_int64(st, 8);
    o->last_poll_at = sqlite3_column_int64(st, 9);
}

static void read_oauth_login(sqlite3_stmt *st, struct store_oauth_login *o)
{
    col(st, 0, o->family_id, sizeof o->family_id);
    col(st, 1, o->client_id, sizeof o->client_id);
    col(st, 2, o->scopes, sizeof o->scopes);
    o->created_at = sqlite3_column_int64(st, 3);
    o->refreshed_at = sqlite3_column_int64(st, 4);
    o->expires_at = sqlite3_column_int64(st, 5);
}

static void read_oauth_refresh(sqlite3_stmt *st, struct store_oauth_refresh *o)
{
    col(st, 0, o->digest, sizeof o->digest);
    col(st, 1, o->family_id, sizeof o->family_id);
    col(st, 2, o->user_id, sizeof o->user_id);
    col(st, 3, o->client_id, sizeof o->client_id);
    col(st, 4, o->scopes, sizeof o->scopes);
    o->created_at = sqlite3_column_int64(st, 5);
    o->expires_at = sqlite3_column_int64(st, 6);
    o->used_at = sqlite3_column_int64(st, 7);
    o->revoked_at = sqlite3_column_int64(st, 8);
}

static enum rc s_oauth_code_insert(struct store *st_, const struct store_oauth_code *o)
{
    SELF;
    PREPARE(Q_OAUTH_CODE_INSERT);
    bind_text(st, 1, o->digest);
    bind_text(st, 2, o->user_id);
    bind_text(st, 3, o->client_id);
    bind_text(st, 4, o->redirect_uri);
    bind_text(st, 5, o->code_challenge);
    bind_text(st, 6, o->scopes);
    bind_int64(st, 7, o->created_at);
    bind_int64(st, 8, o->expires_at);
    bind_text(st, 9, o->family_id);
    return run(s, c, st, NULL);
}

/* Claim a row with use (an UPDATE ... WHERE unused: only one caller can win), then read it:
 * RC_OK for the winner, RC_CONFLICT when it exists but was spent before. */
static enum rc take_row(struct sqlite_store *s, enum query use, enum query get, const char *digest,
                        int64_t now, void (*reader)(sqlite3_stmt *, void *), void *out)
{
    struct conn *c;
    sqlite3_stmt *st;
    enum rc rc = stmt(s, use, &c, &st);
    if (rc != RC_OK)
        return rc;
    bind_text(st, 1, digest);
    bind_int64(st, 2, now);
    int changes = 0;
    if ((rc = run(s, c, st, &changes)) != RC_OK)
        return rc;
    if ((rc = stmt(s, get, &c, &st)) != RC_OK)
        return rc;
    bind_text(st, 1, digest);
    FETCH_ONE(s, c, st, reader(st, out));
    return rc == RC_OK && changes == 0 ? RC_CONFLICT : rc;
}

static void oauth_code_reader(sqlite3_stmt *st, void *row) { read_oauth_code(st, row); }
static void oauth_refresh_reader(sqlite3_stmt *st, void *row) { read_oauth_refresh(st, row); }

static enum rc s_oauth_code_take(struct store *st_, const char *digest, int64_t now,
                                 struct store_oauth_code *out)
{
    SELF;
    return take_row(s, Q_OAUTH_CODE_USE, Q_OAUTH_CODE_GET, digest, now, oauth_code_reader, out);
}

static enum rc s_oauth_refresh_insert(struct store *st_, const struct store_oauth_refresh *o)
{
    SELF;
    PREPARE(Q_OAUTH_RT_INSERT);
    bind_text(st, 1, o->digest);
    bind_text(st, 2, o->family_id);
    bind_text(st, 3, o->user_id);
    bind_text(st, 4, o->client_id);
    bind_text(st, 5, o->scopes);
    bind_int64(st, 6, o->created_at);
    bind_int64(st, 7, o->expires_at);
    return run(s, c, st, NULL);
}

static enum rc s_oauth_refresh_take(struct store *st_, const char *digest, int64_t now,
                                    struct store_oauth_refresh *out)
{
    SELF;
    return take_row(s, Q_OAUTH_RT_USE, Q_OAUTH_RT_GET, digest, now, oauth_refresh_reader, out);
}

static enum rc s_oauth_access_link(struct store *st_, const char *token_id, const char *family_id)
{
    SELF;
    PREPARE(Q_OAUTH_ACCESS_LINK);
    bind_text(st, 1, token_id);
    bind_text(st, 2, family_id);
    return run(s, c, st, NULL);
}

static enum rc s_oauth_refresh_get(struct store *st_, const char *digest,
                                   struct store_oauth_refresh *out)
{
    SELF;
    PREPARE(Q_OAUTH_RT_GET);
    bind_text(st, 1, digest);
    FETCH_ONE(s, c, st, read_oauth_refresh(st, out));
    return rc;
}

struct refresh_rotate {
    const char *digest;
    int64_t now;
    const struct store_token *access;
    const struct store_oauth_refresh *next;
};

/* Spend the refresh token, then write its successors; any failure rolls back all of it. */
static enum rc refresh_rotate_body(struct sqlite_store *s, void *arg)
{
    const struct refresh_rotate *a = arg;
    PREPARE(Q_OAUTH_RT_USE);
    bind_text(st, 1, a->digest);
    bind_int64(st, 2, a->now);
    int changes = 0;
    if ((rc = run(s, c, st, &changes)) != RC_OK)
        return rc;
    if (changes == 0)
        return RC_CONFLICT;
    if ((rc = s_token_insert(&s->base, a->access)) != RC_OK ||
        (rc = s_oauth_access_link(&s->base, a->access->id, a->next->family_id)) != RC_OK)
        return rc;
    return s_oauth_refresh_insert(&s->base, a->next);
}

static enum rc s_oauth_refresh_rotate(struct store *st_, const char *digest, int64_t now,
                                      const struct store_token *access,
                                      const struct store_oauth_refresh *next,
                                      struct store_oauth_refresh *out)
{
    SELF;
    struct refresh_rotate arg = {digest, now, access, next};
    enum rc rc = transaction(s, refresh_rotate_body, &arg);
    if (rc != RC_CONFLICT)
        return rc;
    rc = s_oauth_refresh_get(st_, digest, out);
    return rc == RC_OK ? RC_CONFLICT : rc;
}

static enum rc s_oauth_family_revoke(struct store *st_, const char *family_id, int64_t now)
{
    SELF;
    PREPARE(Q_OAUTH_FAMILY_RT_REVOKE);
    bind_text(st, 1, family_id);
    bind_int64(st, 2, now);
    if ((rc = run(s, c, st, NULL)) != RC_OK)
        return rc;
    if ((rc = stmt(s, Q_OAUTH_FAMILY_AT_REVOKE, &c, &st)) != RC_OK)
        return rc;
    bind_text(st, 1, family_id);
    bind_int64(st, 2, now);
    return run(s, c, st, NULL);
}

static enum rc s_oauth_family_of(struct store *st_, const char *token_id,
                                 char family_id[ID_BUF_SIZE])
{
    SELF;
    PREPARE(Q_OAUTH_FAMILY_OF);
    bind_text(st, 1, token_id);
    FETCH_ONE(s, c, st, col(st, 0, family_id, ID_BUF_SIZE));
    return rc;
}

static void oauth_device_reader(sqlite3_stmt *st, void *row) { read_oauth_device(st, row); }
static void oauth_login_reader(sqlite3_stmt *st, void *row) { read_oauth_login(st, row); }

static enum rc s_oauth_device_insert(struct store *st_, const struct store_oauth_device *o)
{
    SELF;
    PREPARE(Q_OAUTH_DEVICE_INSERT);
    bind_text(st, 1, o->digest);
    bind_text(st, 2, o->user_code);
    bind_text(st, 3, o->client_id);
    bind_text(st, 4, o->scopes);
    bind_int64(st, 5, o->created_at);
    bind_int64(st, 6, o->expires_at);
    bind_int64(st, 7, o->interval_s);
    return run(s, c, st, NULL);
}

static enum rc s_oauth_device_take(struct store *st_, const char *digest, int64_t now,
                                   struct store_oauth_device *out)
{
    SELF;
    return take_row(s, Q_OAUTH_DEVICE_USE, Q_OAUTH_DEVICE_GET, digest, now, oauth_device_reader,
                    out);
}

static enum rc s_oauth_device_poll(struct store *st_, const char *digest, int64_t now,
                                   int64_t interval_s)
{
    SELF;
    PREPARE(Q_OAUTH_DEVICE_POLL);
    bind_text(st, 1, digest);
    bind_int64(st, 2, now);
    bind_int64(st, 3, interval_s);
    int changes = 0;
    rc = run(s, c, st, &changes);
    return rc == RC_OK && changes == 0 ? RC_NOT_FOUND : rc;
}

static enum rc s_oauth_device_by_user_code(struct store *st_, const char *user_code,
                                           struct store_oauth_device *out)
{
    SELF;
    PREPARE(Q_OAUTH_DEVICE_BY_USER_CODE);
    bind_text(st, 1, user_code);
    FETCH_ONE(s, c, st, read_oauth_device(st, out));
    return rc;
}

static enum rc s_oauth_device_decide(struct store *st_, const char *user_code, const char *user_id,
                                     const char *status, int64_t now)
{
    SELF;
    PREPARE(Q_OAUTH_DEVICE_DECIDE);
    bind_text(st, 1, user_code);
    bind_text(st, 2, user_id);
    bind_text(st, 3, status);
    bind_int64(st, 4, now);
    int changes = 0;
    rc = run(s, c, st, &changes);
    return rc == RC_OK && changes == 0 ? RC_CONFLICT : rc;
}

static enum rc s_oauth_logins_for_user(struct store *st_, const char *user_id, int64_t now,
                                       struct store_oauth_login **list, size_t *count)
{
    SELF;
    PREPARE(Q_OAUTH_LOGINS_FOR_USER);
    bind_text(st, 1, user_id);
    bind_int64(st, 2, now);
    return fetch_all(s, c, st, sizeof **list, oauth_login_reader, (void **)list, count);
}

static enum rc s_oauth_revoke_user(struct store *st_, const char *user_id, int64_t now)
{
    SELF;
    PREPARE(Q_OAUTH_USER_RT_REVOKE);
    bind_text(st, 1, user_id);
    bind_int64(st, 2, now);
    if ((rc = run(s, c, st, NULL)) != RC_OK)
        return rc;
    if ((rc = stmt(s, Q_OAUTH_USER_AT_REVOKE, &c, &st)) != RC_OK)
        return rc;
    bind_text(st, 1, user_id);
    bind_int64(st, 2, now);
    return run(s, c, st, NULL);
}

static enum rc s_web_sessions_delete_user(struct store *st_, const char *user_id)
{
    SELF;
    PREPARE(Q_WS_DELETE_USER);
    bind_text(st, 1, user_id);
    return run(s, c, st, NULL);
}

static enum rc s_purge_expired(struct store *st_, int64_t before, int64_t *removed)
{
    SELF;
    static const enum query purges[] = {Q_PURGE_CODES, Q_PURGE_DEVICE_CODES, Q_PURGE_WEB_SESSIONS,
                                        Q_PURGE_EMAIL_CODES};
    struct conn *c;
    sqlite3_stmt *st;
    *removed = 0;
    for (size_t i = 0; i < sizeof purges / sizeof purges[0]; i++) {
        enum rc rc = stmt(s, purges[i], &c, &st);
        if (rc != RC_OK)
            return rc;
        bind_int64(st, 1, before);
        int changes = 0;
        if ((rc = run(s, c, st, &changes)) != RC_OK)
            return rc;
        *removed += changes;
    }
    return RC_OK;
}

/* --- email verification and invitations (migration 0008) ---------------------------------- */

static enum rc s_signup_user_create(struct store *st_, const struct store_user *u,
                                    const char *password_hash)
{
    SELF;
    PREPARE(Q_SIGNUP_USER_INSERT);
    bind_text(st, 1, u->id);
    bind_text(st, 2, u->email);
    bind_text(st, 3, u->name);
    bind_int64(st, 4, u->created_at);
    bind_text(st, 5, password_hash);
    return run(s, c, st, NULL);
}

static enum rc s_user_email_verified(struct store *st_, const char *user_id, int *verified)
{
    SELF;
    PREPARE(Q_USER_VERIFIED);
    bind_text(st, 1, user_id);
    FETCH_ONE(s, c, st, *verified = sqlite3_column_int(st, 0) != 0);
    return rc;
}

static void read_email_code(sqlite3_stmt *st, struct store_email_code *e)
{
    col(st, 0, e->digest, sizeof e->digest);
    col(st, 1, e->user_id, sizeof e->user_id);
    e->created_at = sqlite3_column_int64(st, 2);
    e->expires_at = sqlite3_column_int64(st, 3);
    e->used_at = sqlite3_column_int64(st, 4);
}

static enum rc s_email_code_insert(struct store *st_, const struct store_email_code *e)
{
    SELF;
    PREPARE(Q_EMAIL_CODE_INSERT);
    bind_text(st, 1, e->digest);
    bind_text(st, 2, e->user_id);
    bind_int64(st, 3, e->created_at);
    bind_int64(st, 4, e->expires_at);
    return run(s, c, st, NULL);
}

static enum rc s_email_code_get(struct store *st_, const char *digest, struct store_email_code *out)
{
    SELF;
    PREPARE(Q_EMAIL_CODE_GET);
    bind_text(st, 1, digest);
    FETCH_ONE(s, c, st, read_email_code(st, out));
    return rc;
}

struct email_code_take_args {
    const char *digest;
    int64_t now;
    struct store_email_code *out;
};

static enum rc email_code_take_body(struct sqlite_store *s, void *arg)
{
    struct email_code_take_args *a = arg;
    int changes = 0;
    {
        PREPARE(Q_EMAIL_CODE_USE);
        bind_text(st, 1, a->digest);
        bind_int64(st, 2, a->now);
        if ((rc = run(s, c, st, &changes)) != RC_OK)
            return rc;
    }
    PREPARE(Q_EMAIL_CODE_GET);
    bind_text(st, 1, a->digest);
    FETCH_ONE(s, c, st, read_email_code(st, a->out));
    if (rc != RC_OK)
        return rc;
    if (changes == 0)
        return RC_CONFLICT;
    if ((rc = stmt(s, Q_USER_SET_VERIFIED, &c, &st)) != RC_OK)
        return rc;
    bind_text(st, 1, a->out->user_id);
    return run(s, c, st, NULL);
}

static enum rc s_email_code_take(struct store *st_, const char *digest, int64_t now,
                                 struct store_email_code *out)
{
    SELF;
    struct email_code_take_args a = {digest, now, out};
    return transaction(s, email_code_take_body, &a);
}

static void read_invitation(sqlite3_stmt *st, struct store_invitation *i)
{
    col(st, 0, i->id, sizeof i->id);
    col(st, 1, i->org_id, sizeof i->org_id);
    col(st, 2, i->email, sizeof i->email);
    col(st, 3, i->role, sizeof i->role);
    col(st, 4, i->invited_by, sizeof i->invited_by);
    i->created_at = sqlite3_column_int64(st, 5);
    i->expires_at = sqlite3_column_int64(st, 6);
    col(st, 7, i->status, sizeof i->status);
    i->decided_at = sqlite3_column_int64(st, 8);
    col(st, 9, i->org_name, sizeof i->org_name);
    col(st, 10, i->org_verbose_name, sizeof i->org_verbose_name);
    col(st, 11, i->inviter_email, sizeof i->inviter_email);
}

static void invitation_reader(sqlite3_stmt *st, void *row) { read_invitation(st, row); }

static enum rc invitation_insert_body(struct sqlite_store *s, void *arg)
{
    const struct store_invitation *inv = arg;
    {
        PREPARE(Q_INVITATIONS_SUPERSEDE);
        bind_text(st, 1, inv->org_id);
        bind_text(st, 2, inv->email);
        bind_int64(st, 3, inv->created_at);
        if ((rc = run(s, c, st, NULL)) != RC_OK)
            return rc;
    }
    PREPARE(Q_INVITATION_INSERT);
    bind_text(st, 1, inv->id);
    bind_text(st, 2, inv->org_id);
    bind_text(st, 3, inv->email);
    bind_text(st, 4, inv->role);
    bind_text(st, 5, inv->invited_by);
    bind_int64(st, 6, inv->created_at);
    bind_int64(st, 7, inv->expires_at);
    return run(s, c, st, NULL);
}

static enum rc s_invitation_insert(struct store *st_, const struct store_invitation *inv)
{
    SELF;
    return transaction(s, invitation_insert_body, (void *)inv);
}

static enum rc s_invitations_for_org(struct store *st_, const char *org_id, int64_t now,
                                     struct store_invitation **list, size_t *count)
{
    SELF;
    PREPARE(Q_INVITATIONS_FOR_ORG);
    bind_text(st, 1, org_id);
    bind_int64(st, 2, now);
    return fetch_all(s, c, st, sizeof **list, invitation_reader, (void **)list, count);
}

static enum rc s_invitations_for_email(struct store *st_, const char *email, int64_t now,
                                       struct store_invitation **list, size_t *count)
{
    SELF;
    PREPARE(Q_INVITATIONS_FOR_EMAIL);
    bind_text(st, 1, email);
    bind_int64(st, 2, now);
    return fetch_all(s, c, st, sizeof **list, invitation_reader, (void **)list, count);
}

struct invitation_decide_args {
    const char *id, *user_id;
    int accept;
    int64_t now;
    struct store_invitation *out;
};

/* Inside BEGIN IMMEDIATE: nobody can decide or revoke the invitation between the checks and
 * the change. */
static enum rc invitation_decide_body(struct sqlite_store *s, void *arg)
{
    struct invitation_decide_args *a = arg;
    int verified = 0;
    char email[STORE_EMAIL_SIZE] = "";
    {
        PREPARE(Q_INVITATION_GET);
        bind_text(st, 1, a->id);
        FETCH_ONE(s, c, st, read_invitation(st, a->out));
        if (rc != RC_OK)
            return rc;
    }
    {
        PREPARE(Q_USER_VERIFIED);
        bind_text(st, 1, a->user_id);
        FETCH_ONE(s, c, st,
                  (verified = sqlite3_column_int(st, 0) != 0, col(st, 1, email, sizeof email)));
        if (rc != RC_OK)
            return rc;
    }
    if (!verified || strcasecmp(email, a->out->email) != 0)
        return RC_NOT_FOUND;
    if (strcmp(a->out->status, "pending") != 0 || a->out->expires_at <= a->now)
        return RC_CONFLICT;
    if (a->accept) {
        PREPARE(Q_MEMBER_JOIN);
        bind_text(st, 1, a->user_id);
        bind_text(st, 2, a->out->org_id);
        bind_text(st, 3, a->out->role);
        bind_int64(st, 4, a->now);
        if ((rc = run(s, c, st, NULL)) != RC_OK)
            return rc;
    }
    PREPARE(Q_INVITATION_DECIDED);
    bind_text(st, 1, a->id);
    bind_text(st, 2, a->accept ? "accepted" : "declined");
    bind_int64(st, 3, a->now);
    if ((rc = run_changing(s, c, st)) != RC_OK)
        return rc;
    store_copy_field(a->out->status, sizeof a->out->status, a->accept ? "accepted" : "declined");
    a->out->decided_at = a->now;
    return RC_OK;
}

static enum rc s_invitation_decide(struct store *st_, const char *id, const char *user_id,
                                   int accept, int64_t now, struct store_invitation *out)
{
    SELF;
    struct store_invitation row = {0};
    struct invitation_decide_args a = {id, user_id, accept, now, &row};
    enum rc rc = transaction(s, invitation_decide_body, &a);
    if (out && (rc == RC_OK || rc == RC_CONFLICT))
        *out = row;
    return rc;
}

static enum rc s_invitation_revoke(struct store *st_, const char *org_id, const char *id,
                                   int64_t now)
{
    SELF;
    PREPARE(Q_INVITATION_REVOKE);
    bind_text(st, 1, org_id);
    bind_text(st, 2, id);
    bind_int64(st, 3, now);
    return run_changing(s, c, st);
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
    store_error_release(&s->base);
    free(s->path);
    free(s);
}

/* --- Daily API keys left in plaintext (migration 0010) ------------------------------------ */

static void legacy_daily_key_reader(sqlite3_stmt *st, void *row)
{
    struct store_legacy_daily_key *k = row;
    col(st, 0, k->org_id, sizeof k->org_id);
    col(st, 1, k->key, sizeof k->key);
}

static enum rc s_daily_keys_legacy(struct store *st_, struct store_legacy_daily_key **list,
                                   size_t *count)
{
    SELF;
    PREPARE(Q_DAILY_LEGACY_LIST);
    return fetch_all(s, c, st, sizeof **list, legacy_daily_key_reader, (void **)list, count);
}

static enum rc s_daily_key_seal_legacy(struct store *st_, const char *org_id, const char *sealed)
{
    SELF;
    PREPARE(Q_DAILY_LEGACY_SEAL);
    bind_text(st, 1, org_id);
    bind_text(st, 2, sealed);
    return run_changing(s, c, st);
}

static const struct store_ops sqlite_ops = {
    .close = s_close,
    .purge_expired = s_purge_expired,
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
    .token_rotate = s_token_rotate,
    .token_ip_add = s_token_ip_add,
    .tokens_for_org = s_tokens_for_org,
    .audit_for_org = s_audit_for_org,
    .token_policy_put = s_token_policy_put,
    .service_account_create = s_service_account_create,
    .service_accounts_for_org = s_service_accounts_for_org,
    .service_account_by_name = s_service_account_by_name,
    .service_account_delete = s_service_account_delete,
    .org_properties = s_org_properties,
    .org_property_put = s_org_property_put,
    .api_key_insert = s_api_key_insert,
    .api_key_lookup = s_api_key_lookup,
    .api_keys_for_org = s_api_keys_for_org,
    .api_key_revoke = s_api_key_revoke,
    .api_key_touch = s_api_key_touch,
    .secret_sets_for_org = s_secret_sets_for_org,
    .secret_set_by_name = s_secret_set_by_name,
    .secret_put = s_secret_put,
    .secret_names = s_secret_names,
    .secret_get = s_secret_get,
    .secret_delete = s_secret_delete,
    .secret_set_delete = s_secret_set_delete,
    .service_create = s_service_create,
    .service_update = s_service_update,
    .service_by_name = s_service_by_name,
    .services_for_org = s_services_for_org,
    .service_delete = s_service_delete,
    .deployment_by_id = s_deployment_by_id,
    .deployments_for_service = s_deployments_for_service,
    .user_set_password = s_user_set_password,
    .user_password_by_email = s_user_password_by_email,
    .web_session_insert = s_web_session_insert,
    .web_session_lookup = s_web_session_lookup,
    .web_session_touch = s_web_session_touch,
    .web_session_set_org = s_web_session_set_org,
    .web_session_delete = s_web_session_delete,
    .members_of_org = s_members_of_org,
    .membership_change = s_membership_change,
    .oauth_code_insert = s_oauth_code_insert,
    .oauth_code_take = s_oauth_code_take,
    .oauth_refresh_insert = s_oauth_refresh_insert,
    .oauth_refresh_take = s_oauth_refresh_take,
    .oauth_access_link = s_oauth_access_link,
    .oauth_refresh_get = s_oauth_refresh_get,
    .oauth_refresh_rotate = s_oauth_refresh_rotate,
    .oauth_family_revoke = s_oauth_family_revoke,
    .oauth_family_of = s_oauth_family_of,
    .oauth_device_insert = s_oauth_device_insert,
    .oauth_device_take = s_oauth_device_take,
    .oauth_device_poll = s_oauth_device_poll,
    .oauth_device_by_user_code = s_oauth_device_by_user_code,
    .oauth_device_decide = s_oauth_device_decide,
    .oauth_logins_for_user = s_oauth_logins_for_user,
    .oauth_revoke_user = s_oauth_revoke_user,
    .web_sessions_delete_user = s_web_sessions_delete_user,
    .daily_keys_legacy = s_daily_keys_legacy,
    .daily_key_seal_legacy = s_daily_key_seal_legacy,
    .signup_user_create = s_signup_user_create,
    .user_email_verified = s_user_email_verified,
    .email_code_insert = s_email_code_insert,
    .email_code_get = s_email_code_get,
    .email_code_take = s_email_code_take,
    .invitation_insert = s_invitation_insert,
    .invitations_for_org = s_invitations_for_org,
    .invitations_for_email = s_invitations_for_email,
    .invitation_decide = s_invitation_decide,
    .invitation_revoke = s_invitation_revoke,
};

enum rc store_sqlite_open(const char *path, struct store **out, char *err, size_t errlen)
{
    struct sqlite_store *s = calloc(1, sizeof *s);
    if (!s)
        return RC_NOMEM;
    s->base.ops = &sqlite_ops;
    s->path = strdup(path);
    pthread_mutex_init(&s->lock, NULL);
    if (store_error_init(&s->base) != RC_OK) {
        free(s->path);
        free(s);
        return RC_NOMEM;
    }
    if (!s->path || pthread_key_create(&s->key, thread_exit) != 0) {
        store_error_release(&s->base);
        free(s->path);
        free(s);
        return RC_NOMEM;
    }
    /* Open the first connection now so a bad path fails here, not on the first request. */
    struct conn *c;
    enum rc rc = get_conn(s, &c);
    if (rc != RC_OK) {
        snprintf(err, errlen, "%s", store_last_error(&s->base));
        s_close(&s->base);
        return rc;
    }
    *out = &s->base;
    return RC_OK;
}
