/* pg.c: the PostgreSQL backend of the store interface, for several pccd nodes sharing one
 * database. One libpq connection per thread with its statements prepared once; a broken
 * connection is replaced on the next call, and calls fail fast with RC_UNAVAILABLE meanwhile. */
#include <inttypes.h>
#include <poll.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>

#include <libpq-fe.h>

#include "log.h"
#include "sql.h"
#include "store_backend.h"
#include "timefmt.h"
#include "banned.h"

#define CONNECT_TIMEOUT "5"        /* seconds, unless the URL sets connect_timeout */
#define RECONNECT_INTERVAL_MS 1000 /* while the database is down: at most one attempt per this */
#define MAX_PARAMS 16
/* The advisory lock that serialises migrations across nodes; its key is "pcc" in ASCII. */
#define MIGRATION_LOCK_SQL "SELECT pg_advisory_xact_lock(7365475)"

enum { READ, WRITE }; /* a write is never retried once it may have reached the server */

/* Every statement the backend runs: the shared texts of sql.h, then the few of its own. */
#define SQL_TABLE(X) SHARED_SQL_TABLE(X) PG_SQL_TABLE(X)

/* The statements only PostgreSQL runs, and those whose text differs from sqlite.c's, each
 * saying how. */
#define PG_SQL_TABLE(X)                                                                            \
    /* only here: SQLite keeps the generation in a file beside the database */                     \
    X(Q_CREDENTIAL_GENERATION, READ, "SELECT value FROM credential_generation WHERE id = 1")       \
    /* RETURNING id: there is no last insert rowid to ask for */                                   \
    X(Q_AUDIT_INSERT, WRITE,                                                                       \
      "INSERT INTO audit_events (at, event, user_id, token_id, org_id, ip, detail) "               \
      "VALUES ($1, $2, $3, $4, $5, $6, $7) RETURNING id")                                          \
    /* only here: SQLite creates the service user with Q_USER_INSERT */                            \
    X(Q_SA_USER, WRITE,                                                                            \
      "INSERT INTO users (id, email, name, created_at, kind) "                                     \
      "VALUES ($1, $2, $3, $4, 'service')")                                                        \
    /* FOR UPDATE: the member's row stays locked until the change commits */                       \
    X(Q_MEMBER_ROLE, READ,                                                                         \
      "SELECT role FROM memberships WHERE org_id = $1 AND user_id = $2 FOR UPDATE")                \
    /* FOR UPDATE: two concurrent demotions cannot both see two admins and leave none */           \
    X(Q_ADMIN_COUNT, READ,                                                                         \
      "SELECT count(*) FROM (SELECT 1 FROM memberships WHERE org_id = $1 AND role = 'admin' "      \
      "FOR UPDATE) a")                                                                             \
    /* RETURNING: spending a code returns its row in the same statement */                         \
    X(Q_OAUTH_CODE_USE, WRITE,                                                                     \
      "UPDATE oauth_codes SET used_at = $2 WHERE digest = $1 AND used_at = 0 "                     \
      "RETURNING " OAUTH_CODE_COLUMNS)                                                             \
    /* RETURNING: spending a refresh token returns its row in the same statement */                \
    X(Q_OAUTH_RT_USE, WRITE,                                                                       \
      "UPDATE oauth_refresh_tokens SET used_at = $2 WHERE digest = $1 AND used_at = 0 "            \
      "AND revoked_at = 0 RETURNING " OAUTH_REFRESH_COLUMNS)                                       \
    /* RETURNING: spending a device authorization returns its row in the same statement */         \
    X(Q_OAUTH_DEVICE_USE, WRITE,                                                                   \
      "UPDATE oauth_device_codes SET status = 'used', last_poll_at = $2 WHERE digest = $1 "        \
      "AND status = 'approved' AND expires_at > $2 RETURNING " OAUTH_DEVICE_COLUMNS)               \
    /* seq (migration 0010) breaks ties of the same second in the order of insertion, as the  \
     * rowid does on SQLite */    \
    X(Q_APIKEYS_FOR_ORG, READ,                                                                     \
      "SELECT " APIKEY_COLUMNS " FROM api_keys WHERE org_id = $1 ORDER BY created_at, seq")        \
    /* FOR UPDATE OF i: the invitation stays locked until its decision commits */                  \
    X(Q_INVITATION_GET, READ, INVITATION_SELECT " WHERE i.id = $1 FOR UPDATE OF i")

enum query {
#define Q_ENUM(name, kind, sql) name,
    SQL_TABLE(Q_ENUM)
#undef Q_ENUM
        Q__COUNT
};

/* Prepared statements are named after the enum, so server logs point at the query. */
static const char *const query_name[Q__COUNT] = {
#define Q_NAME(name, kind, sql) #name,
    SQL_TABLE(Q_NAME)
#undef Q_NAME
};

static const char *const query_sql[Q__COUNT] = {
#define Q_SQL(name, kind, sql) sql,
    SQL_TABLE(Q_SQL)
#undef Q_SQL
};

static const bool query_writes[Q__COUNT] = {
#define Q_KIND(name, kind, sql) kind == WRITE,
    SQL_TABLE(Q_KIND)
#undef Q_KIND
};

struct pg_store;

struct conn {
    struct pg_store *owner;
    PGconn *pg;  /* NULL before the first connect and after a failure dropped it */
    bool doomed; /* the server said FATAL outside a query: it is closing the connection */
    bool prepared[Q__COUNT];
    struct conn *next;
};

struct pg_store {
    struct store base;
    char *url;
    pthread_key_t key;
    pthread_mutex_t lock; /* guards conns and the fields below */
    struct conn *conns;
    int64_t down_since_ms;   /* 0 while connecting works; else when it first failed */
    int64_t last_attempt_ms; /* when the last failed attempt ended */
    bool probing;            /* a thread is trying to connect while the database is down */
    char down_reason[200];
};

/* Text parameters in order; integers are sent as decimal text. */
struct params {
    int n;
    const char *values[MAX_PARAMS];
    char numbers[MAX_PARAMS][24];
};

static void add_text(struct params *p, const char *v)
{
    if (p->n < MAX_PARAMS)
        p->values[p->n++] = v;
}

static void add_int(struct params *p, int64_t v)
{
    if (p->n < MAX_PARAMS) {
        snprintf(p->numbers[p->n], sizeof p->numbers[p->n], "%" PRId64, v);
        p->values[p->n] = p->numbers[p->n];
        p->n++;
    }
}

/* "" sends NULL: optional foreign keys (token org binding) are stored as NULL. */
static void add_optional(struct params *p, const char *v) { add_text(p, v && *v ? v : NULL); }

/* libpq messages end in newlines and may span lines; logs want one line. */
static void one_line(char *msg)
{
    for (char *p = msg; *p; p++)
        if (*p == '\n' || *p == '\r' || *p == '\t')
            *p = ' ';
    size_t n = strlen(msg);
    while (n && msg[n - 1] == ' ')
        msg[--n] = '\0';
}

/* Record the detail of a failure for this thread (store_last_error) and, when log is set, in
 * the log. */
static void set_error(struct pg_store *s, bool log, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
static void set_error(struct pg_store *s, bool log, const char *fmt, ...)
{
    char msg[STORE_ERROR_SIZE];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof msg, fmt, ap);
    va_end(ap);
    one_line(msg);
    store_set_error(&s->base, "%s", msg);
    if (log)
        log_error("pg: %s", msg);
}

/* Server notices (and the FATAL a server sends an idle connection before closing it) go to
 * the log instead of libpq's default, stderr. Only the primary message: details hold values. */
static void notice_receiver(void *arg, const PGresult *res)
{
    struct conn *c = arg;
    const char *severity = PQresultErrorField(res, PG_DIAG_SEVERITY_NONLOCALIZED);
    const char *msg = PQresultErrorField(res, PG_DIAG_MESSAGE_PRIMARY);
    if (!severity || !msg)
        return;
    if (strcmp(severity, "NOTICE") == 0 || strcmp(severity, "INFO") == 0 ||
        strcmp(severity, "LOG") == 0 || strcmp(severity, "DEBUG") == 0)
        log_debug("pg: %s: %s", severity, msg);
    else
        log_warn("pg: %s: %s", severity, msg);
    if (strcmp(severity, "FATAL") == 0 || strcmp(severity, "PANIC") == 0)
        c->doomed = true;
}

/* SQLSTATE to enum rc: constraint violations are conflicts (as SQLite's constraint errors are);
 * connection exceptions and server shutdowns mean the database is unavailable. */
static enum rc map_sqlstate(const char *state)
{
    if (!state)
        return RC_STORE;
    if (strcmp(state, "23505") == 0 || strcmp(state, "23514") == 0 || strcmp(state, "23503") == 0)
        return RC_CONFLICT;
    if (strncmp(state, "08", 2) == 0 || strcmp(state, "57P01") == 0 ||
        strcmp(state, "57P02") == 0 || strcmp(state, "57P03") == 0)
        return RC_UNAVAILABLE;
    return RC_STORE;
}

/* Map a failed result (r may be NULL) on c and record it; *broken says the connection is lost. */
static enum rc fail(struct pg_store *s, struct conn *c, const PGresult *r, const char *what,
                    bool *broken)
{
    const char *state = r ? PQresultErrorField(r, PG_DIAG_SQLSTATE) : NULL;
    const char *msg = r ? PQresultErrorField(r, PG_DIAG_MESSAGE_PRIMARY) : NULL;
    if (!msg) /* libpq's own errors (a lost connection) have no fields */
        msg = r && *PQresultErrorMessage(r) ? PQresultErrorMessage(r) : PQerrorMessage(c->pg);
    enum rc rc = map_sqlstate(state);
    if (PQstatus(c->pg) != CONNECTION_OK)
        rc = RC_UNAVAILABLE;
    *broken = rc == RC_UNAVAILABLE;
    set_error(s, true, "%s: %s%s%s%s", what, msg, state ? " (SQLSTATE " : "", state ? state : "",
              state ? ")" : "");
    return rc;
}

static void conn_drop(struct conn *c)
{
    PQfinish(c->pg);
    c->pg = NULL;
    c->doomed = false;
    memset(c->prepared, 0, sizeof c->prepared);
}

static void conn_free(struct conn *c)
{
    conn_drop(c);
    free(c);
}

static void unlink_conn(struct pg_store *s, struct conn *c)
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
    conn_free(c);
}

/* Whether an idle connection is still usable. A server that goes away (shutdown, restart,
 * pg_terminate_backend) sends a FATAL message and closes the socket; reading that now, before
 * a statement goes out, makes the common case of a dead connection safe to replace, writes
 * included. */
static bool conn_alive(struct conn *c)
{
    if (PQstatus(c->pg) != CONNECTION_OK)
        return false;
    for (int i = 0; i < 4; i++) {
        struct pollfd p = {.fd = PQsocket(c->pg), .events = POLLIN};
        if (p.fd < 0)
            return false;
        if (poll(&p, 1, 0) <= 0)
            break;
        if (!PQconsumeInput(c->pg) || PQstatus(c->pg) != CONNECTION_OK || c->doomed)
            return false;
    }
    return !c->doomed && PQtransactionStatus(c->pg) == PQTRANS_IDLE;
}

/* Open c's connection. While the database is down, only one thread at a time tries, at most
 * once per RECONNECT_INTERVAL_MS; every other call fails at once with RC_UNAVAILABLE. */
static enum rc conn_connect(struct pg_store *s, struct conn *c)
{
    int64_t start = timefmt_monotonic_ms();
    pthread_mutex_lock(&s->lock);
    if (s->down_since_ms && (s->probing || start - s->last_attempt_ms < RECONNECT_INTERVAL_MS)) {
        char reason[sizeof s->down_reason];
        memcpy(reason, s->down_reason, sizeof reason);
        pthread_mutex_unlock(&s->lock);
        set_error(s, false, "database unreachable: %s", reason);
        return RC_UNAVAILABLE;
    }
    s->probing = s->down_since_ms != 0;
    pthread_mutex_unlock(&s->lock);

    /* Defaults come before dbname (the URL), so the URL's own settings win. A server that
     * vanishes without closing the connection (host down, network cut) is noticed in about 20 s
     * by keepalives while a call waits for an answer, and by the TCP user timeout while a
     * statement is being sent; otherwise the call would hang for the kernel's 15 minutes. */
    static const char *const keys[] = {
        "connect_timeout",  "application_name", "keepalives_idle", "keepalives_interval",
        "keepalives_count", "tcp_user_timeout", "dbname",          NULL};
    const char *const values[] = {CONNECT_TIMEOUT, "pccd", "10", "5", "2", "20000", s->url, NULL};
    enum rc rc = RC_OK;
    PGconn *pg = PQconnectdbParams(keys, values, 1);
    if (!pg) {
        rc = RC_NOMEM;
        set_error(s, true, "connect: out of memory");
    } else if (PQstatus(pg) != CONNECTION_OK) {
        rc = RC_UNAVAILABLE;
        set_error(s, true, "connect: %s", PQerrorMessage(pg));
        PQfinish(pg);
        pg = NULL;
    } else {
        PQsetNoticeReceiver(pg, notice_receiver, c);
        c->pg = pg;
        c->doomed = false;
        memset(c->prepared, 0, sizeof c->prepared);
    }

    pthread_mutex_lock(&s->lock);
    if (rc == RC_OK) {
        if (s->down_since_ms)
            log_info("pg: connected again after %" PRId64 " ms",
                     timefmt_monotonic_ms() - s->down_since_ms);
        s->down_since_ms = 0;
    } else {
        s->last_attempt_ms = timefmt_monotonic_ms();
        if (!s->down_since_ms)
            s->down_since_ms = s->last_attempt_ms;
        /* this thread's detail, just set by set_error above */
        snprintf(s->down_reason, sizeof s->down_reason, "%s", store_last_error(&s->base));
    }
    s->probing = false;
    pthread_mutex_unlock(&s->lock);
    return rc;
}

/* This thread's connection, alive. *connects is how many new connections the current call may
 * still open (one: a call never waits for two connect timeouts). */
static enum rc get_conn(struct pg_store *s, struct conn **out, int *connects)
{
    struct conn *c = pthread_getspecific(s->key);
    if (!c) {
        if (!(c = calloc(1, sizeof *c)))
            return RC_NOMEM;
        c->owner = s;
        if (pthread_setspecific(s->key, c) != 0) {
            free(c);
            return RC_NOMEM;
        }
        pthread_mutex_lock(&s->lock);
        c->next = s->conns;
        s->conns = c;
        pthread_mutex_unlock(&s->lock);
    }
    if (c->pg && !conn_alive(c)) {
        log_warn("pg: the connection to the database was lost; reconnecting");
        conn_drop(c);
    }
    if (!c->pg) {
        if (*connects <= 0)
            return RC_UNAVAILABLE; /* store_last_error already says why */
        (*connects)--;
        enum rc rc = conn_connect(s, c);
        if (rc != RC_OK)
            return rc;
    }
    *out = c;
    return RC_OK;
}

/* Run q once on c, preparing it first if this connection has not. *sent says whether the
 * statement may have reached the server; on failure *broken says the connection is lost. */
static enum rc conn_run(struct pg_store *s, struct conn *c, enum query q, const struct params *p,
                        PGresult **out, bool *sent, bool *broken)
{
    *out = NULL;
    *sent = false;
    *broken = false;
    enum rc rc;
    if (!c->prepared[q]) {
        PGresult *r = PQprepare(c->pg, query_name[q], query_sql[q], 0, NULL);
        if (PQresultStatus(r) != PGRES_COMMAND_OK) {
            rc = fail(s, c, r, query_name[q], broken);
            PQclear(r);
            return rc;
        }
        PQclear(r);
        c->prepared[q] = true;
    }
    *sent = true;
    PGresult *r = PQexecPrepared(c->pg, query_name[q], p ? p->n : 0, p ? p->values : NULL, NULL,
                                 NULL, 0);
    ExecStatusType status = PQresultStatus(r);
    if (status == PGRES_COMMAND_OK || status == PGRES_TUPLES_OK) {
        *out = r;
        return RC_OK;
    }
    rc = fail(s, c, r, query_name[q], broken);
    PQclear(r);
    return rc;
}

/* Run q with params p on this thread's connection; *out (freed with PQclear) on RC_OK. A lost
 * connection is replaced once and the statement retried, unless it writes and may already have
 * run: then RC_UNAVAILABLE, since the outcome is unknown. */
static enum rc query(struct pg_store *s, enum query q, const struct params *p, PGresult **out)
{
    int connects = 1;
    enum rc rc;
    *out = NULL;
    for (int attempt = 0;; attempt++) {
        struct conn *c;
        if ((rc = get_conn(s, &c, &connects)) != RC_OK)
            return rc;
        bool sent, broken;
        rc = conn_run(s, c, q, p, out, &sent, &broken);
        if (rc == RC_OK || !broken)
            return rc;
        conn_drop(c);
        if (attempt > 0 || connects <= 0 || (sent && query_writes[q]))
            return RC_UNAVAILABLE;
        log_warn("pg: %s: retrying on a new connection", query_name[q]);
    }
}

/* Run q, which returns no rows; *changes gets the number of rows it changed. */
static enum rc run(struct pg_store *s, enum query q, const struct params *p, int *changes)
{
    PGresult *r;
    enum rc rc = query(s, q, p, &r);
    if (rc == RC_OK && changes)
        *changes = (int)strtol(PQcmdTuples(r), NULL, 10);
    PQclear(r);
    return rc;
}

/* Run a query expected to return at most one row; RC_NOT_FOUND when there is none. */
static enum rc fetch_one(struct pg_store *s, enum query q, const struct params *p, PGresult **out)
{
    enum rc rc = query(s, q, p, out);
    if (rc == RC_OK && PQntuples(*out) == 0) {
        PQclear(*out);
        *out = NULL;
        rc = RC_NOT_FOUND;
    }
    return rc;
}

static void col(const PGresult *r, int row, int i, char *dst, size_t size)
{
    store_copy_field(dst, size, PQgetvalue(r, row, i)); /* NULL reads as "" */
}

static int64_t col_int(const PGresult *r, int row, int i)
{
    return strtoll(PQgetvalue(r, row, i), NULL, 10);
}

static void read_user(const PGresult *r, int row, int at, struct store_user *u)
{
    col(r, row, at + 0, u->id, sizeof u->id);
    col(r, row, at + 1, u->email, sizeof u->email);
    col(r, row, at + 2, u->name, sizeof u->name);
    u->created_at = col_int(r, row, at + 3);
}

static void read_org(const PGresult *r, int row, void *out)
{
    struct store_org *o = out;
    col(r, row, 0, o->id, sizeof o->id);
    col(r, row, 1, o->name, sizeof o->name);
    col(r, row, 2, o->verbose_name, sizeof o->verbose_name);
    col(r, row, 3, o->daily_key_sealed, sizeof o->daily_key_sealed);
    o->created_at = col_int(r, row, 4);
    col(r, row, 5, o->role, sizeof o->role);
}

static void read_token(const PGresult *r, int row, void *out)
{
    struct store_token *t = out;
    col(r, row, 0, t->id, sizeof t->id);
    col(r, row, 1, t->user_id, sizeof t->user_id);
    t->kind = (int)col_int(r, row, 2);
    col(r, row, 3, t->name, sizeof t->name);
    col(r, row, 4, t->display, sizeof t->display);
    col(r, row, 5, t->digest, sizeof t->digest);
    col(r, row, 6, t->scopes, sizeof t->scopes);
    col(r, row, 7, t->org_id, sizeof t->org_id);
    t->created_at = col_int(r, row, 8);
    t->expires_at = col_int(r, row, 9);
    t->last_used_at = col_int(r, row, 10);
    t->revoked_at = col_int(r, row, 11);
    col(r, row, 12, t->last_used_ip, sizeof t->last_used_ip);
    col(r, row, 13, t->last_used_agent, sizeof t->last_used_agent);
    col(r, row, 14, t->previous_digest, sizeof t->previous_digest);
    t->previous_expires_at = col_int(r, row, 15);
    t->rotated_at = col_int(r, row, 16);
}

static void read_policy(const PGresult *r, int at, struct store_token_policy *p)
{
    p->require_expiry = (int)col_int(r, 0, at + 0);
    p->max_lifetime_days = (int)col_int(r, 0, at + 1);
    p->require_binding = (int)col_int(r, 0, at + 2);
    p->updated_at = col_int(r, 0, at + 3);
}

static void read_audit(const PGresult *r, int row, void *out)
{
    struct store_audit *a = out;
    a->id = col_int(r, row, 0);
    a->at = col_int(r, row, 1);
    col(r, row, 2, a->event, sizeof a->event);
    col(r, row, 3, a->user_id, sizeof a->user_id);
    col(r, row, 4, a->token_id, sizeof a->token_id);
    col(r, row, 5, a->org_id, sizeof a->org_id);
    col(r, row, 6, a->ip, sizeof a->ip);
    col(r, row, 7, a->detail, sizeof a->detail);
}

/* Run q and collect every row into an array of elem_size-byte rows filled by reader. */
static enum rc fetch_all(struct pg_store *s, enum query q, const struct params *p, size_t elem_size,
                         void (*reader)(const PGresult *, int, void *), void **list, size_t *count)
{
    PGresult *r = NULL;
    char *rows = NULL;
    size_t n = 0;
    enum rc rc = query(s, q, p, &r);
    if (rc != RC_OK)
        goto out;
    n = (size_t)PQntuples(r);
    if (n && !(rows = calloc(n, elem_size))) {
        rc = RC_NOMEM;
        n = 0;
        goto out;
    }
    for (size_t i = 0; i < n; i++)
        reader(r, (int)i, rows + i * elem_size);
out:
    PQclear(r);
    *list = rows;
    *count = n;
    return rc;
}

#define SELF struct pg_store *s = (struct pg_store *)st_

static enum rc s_user_create(struct store *st_, struct store_user *u)
{
    SELF;
    struct params p = {0};
    add_text(&p, u->id);
    add_text(&p, u->email);
    add_text(&p, u->name);
    add_int(&p, u->created_at);
    add_text(&p, u->kind[0] ? u->kind : "human");
    return run(s, Q_USER_INSERT, &p, NULL);
}

static enum rc user_by(struct pg_store *s, enum query q, const char *key, struct store_user *out)
{
    struct params p = {0};
    PGresult *r;
    add_text(&p, key);
    enum rc rc = fetch_one(s, q, &p, &r);
    if (rc == RC_OK) {
        read_user(r, 0, 0, out);
        col(r, 0, 4, out->kind, sizeof out->kind);
    }
    PQclear(r);
    return rc;
}

static enum rc s_user_by_email(struct store *st_, const char *email, struct store_user *out)
{
    SELF;
    return user_by(s, Q_USER_BY_EMAIL, email, out);
}

static enum rc s_user_by_id(struct store *st_, const char *id, struct store_user *out)
{
    SELF;
    return user_by(s, Q_USER_BY_ID, id, out);
}

static enum rc s_org_create(struct store *st_, struct store_org *o)
{
    SELF;
    struct params p = {0};
    add_text(&p, o->id);
    add_text(&p, o->name);
    add_text(&p, o->verbose_name);
    add_text(&p, o->daily_key_sealed);
    add_int(&p, o->created_at);
    return run(s, Q_ORG_INSERT, &p, NULL);
}

static enum rc s_org_by_name(struct store *st_, const char *name, struct store_org *out)
{
    SELF;
    struct params p = {0};
    PGresult *r;
    add_text(&p, name);
    enum rc rc = fetch_one(s, Q_ORG_BY_NAME, &p, &r);
    if (rc == RC_OK)
        read_org(r, 0, out);
    PQclear(r);
    return rc;
}

static enum rc s_org_set_daily_key(struct store *st_, const char *org_id, const char *sealed)
{
    SELF;
    struct params p = {0};
    add_text(&p, org_id);
    add_text(&p, sealed ? sealed : "");
    int changes = 0;
    enum rc rc = run(s, Q_ORG_SET_DAILY, &p, &changes);
    return rc == RC_OK && changes == 0 ? RC_NOT_FOUND : rc;
}

static enum rc s_membership_put(struct store *st_, const char *user_id, const char *org_id,
                                const char *role, int64_t now)
{
    SELF;
    struct params p = {0};
    add_text(&p, user_id);
    add_text(&p, org_id);
    add_text(&p, role);
    add_int(&p, now);
    return run(s, Q_MEMBER_PUT, &p, NULL);
}

static enum rc s_orgs_for_user(struct store *st_, const char *user_id, struct store_org **list,
                               size_t *count)
{
    SELF;
    struct params p = {0};
    add_text(&p, user_id);
    return fetch_all(s, Q_ORGS_FOR_USER, &p, sizeof **list, read_org, (void **)list, count);
}

static enum rc s_org_for_member(struct store *st_, const char *user_id, const char *org_name,
                                struct store_org *out)
{
    SELF;
    struct params p = {0};
    PGresult *r;
    add_text(&p, user_id);
    add_text(&p, org_name);
    enum rc rc = fetch_one(s, Q_ORG_FOR_MEMBER, &p, &r);
    if (rc == RC_OK) {
        read_org(r, 0, out);
        read_policy(r, 6, &out->token_policy);
    }
    PQclear(r);
    return rc;
}

/* The parameters of Q_TOKEN_INSERT, into p (which holds the numbers: not to be copied). */
static void token_params(struct params *p, const struct store_token *t)
{
    add_text(p, t->id);
    add_text(p, t->user_id);
    add_int(p, t->kind);
    add_text(p, t->name);
    add_text(p, t->display);
    add_text(p, t->digest);
    add_text(p, t->scopes);
    add_optional(p, t->org_id);
    add_int(p, t->created_at);
    add_int(p, t->expires_at);
}

static enum rc s_token_insert(struct store *st_, const struct store_token *t)
{
    SELF;
    struct params p = {0};
    token_params(&p, t);
    return run(s, Q_TOKEN_INSERT, &p, NULL);
}

static enum rc s_token_lookup(struct store *st_, const char *digest, struct store_token *tok,
                              struct store_user *owner)
{
    SELF;
    struct params p = {0};
    PGresult *r;
    add_text(&p, digest);
    enum rc rc = fetch_one(s, Q_TOKEN_LOOKUP, &p, &r);
    if (rc == RC_OK) {
        read_token(r, 0, tok);
        read_user(r, 0, TOKEN_COLUMN_COUNT, owner);
        col(r, 0, TOKEN_COLUMN_COUNT + 4, owner->kind, sizeof owner->kind);
    }
    PQclear(r);
    return rc;
}

static enum rc s_token_by_id(struct store *st_, const char *user_id, const char *token_id,
                             struct store_token *out)
{
    SELF;
    struct params p = {0};
    PGresult *r;
    add_text(&p, user_id);
    add_text(&p, token_id);
    enum rc rc = fetch_one(s, Q_TOKEN_BY_ID, &p, &r);
    if (rc == RC_OK)
        read_token(r, 0, out);
    PQclear(r);
    return rc;
}

static enum rc s_tokens_for_user(struct store *st_, const char *user_id, struct store_token **list,
                                 size_t *count)
{
    SELF;
    struct params p = {0};
    add_text(&p, user_id);
    return fetch_all(s, Q_TOKENS_FOR_USER, &p, sizeof **list, read_token, (void **)list, count);
}

static enum rc s_token_revoke(struct store *st_, const char *user_id, const char *token_id,
                              int64_t now)
{
    SELF;
    struct params p = {0};
    add_text(&p, user_id);
    add_text(&p, token_id);
    add_int(&p, now);
    int changes = 0;
    enum rc rc = run(s, Q_TOKEN_REVOKE, &p, &changes);
    return rc == RC_OK && changes == 0 ? RC_NOT_FOUND : rc;
}

static enum rc s_token_touch(struct store *st_, const char *token_id, int64_t now, const char *ip,
                             const char *agent)
{
    SELF;
    struct params p = {0};
    add_text(&p, token_id);
    add_int(&p, now);
    add_text(&p, ip ? ip : "");
    add_text(&p, agent ? agent : "");
    return run(s, Q_TOKEN_TOUCH, &p, NULL);
}

/* The one number that query q answers with (a count, a counter). */
static enum rc fetch_number(struct pg_store *s, enum query q, int64_t *out)
{
    PGresult *r;
    enum rc rc = fetch_one(s, q, NULL, &r);
    if (rc == RC_OK)
        *out = col_int(r, 0, 0);
    PQclear(r);
    return rc;
}

static enum rc s_token_count(struct store *st_, int64_t *count)
{
    SELF;
    return fetch_number(s, Q_TOKEN_COUNT, count);
}

static enum rc s_credential_generation(struct store *st_, uint64_t *out)
{
    SELF;
    int64_t value = 0;
    enum rc rc = fetch_number(s, Q_CREDENTIAL_GENERATION, &value);
    *out = (uint64_t)value;
    return rc;
}

static enum rc s_audit_append(struct store *st_, struct store_audit *ev)
{
    SELF;
    struct params p = {0};
    PGresult *r;
    add_int(&p, ev->at);
    add_text(&p, ev->event);
    add_text(&p, ev->user_id);
    add_text(&p, ev->token_id);
    add_text(&p, ev->org_id);
    add_text(&p, ev->ip);
    add_text(&p, ev->detail[0] ? ev->detail : "{}");
    enum rc rc = fetch_one(s, Q_AUDIT_INSERT, &p, &r);
    if (rc == RC_OK)
        ev->id = col_int(r, 0, 0);
    PQclear(r);
    return rc;
}

static enum rc s_audit_for_user(struct store *st_, const char *user_id, int64_t before_id,
                                size_t limit, struct store_audit **list, size_t *count)
{
    SELF;
    struct params p = {0};
    add_text(&p, user_id);
    add_int(&p, before_id > 0 ? before_id : INT64_MAX);
    add_int(&p, limit > INT64_MAX ? INT64_MAX : (int64_t)limit);
    return fetch_all(s, Q_AUDIT_FOR_USER, &p, sizeof **list, read_audit, (void **)list, count);
}

/* Run sql (not prepared: one-off statements such as migrations) on c, inside a transaction.
 * Without p it may hold several statements. *out, when given, gets the result on RC_OK. */
static enum rc tx_exec(struct pg_store *s, struct conn *c, const char *what, const char *sql,
                       const struct params *p, PGresult **out)
{
    PGresult *r = p ? PQexecParams(c->pg, sql, p->n, NULL, p->values, NULL, NULL, 0)
                    : PQexec(c->pg, sql);
    ExecStatusType status = PQresultStatus(r);
    enum rc rc = RC_OK;
    if (status != PGRES_COMMAND_OK && status != PGRES_TUPLES_OK) {
        bool broken;
        rc = fail(s, c, r, what, &broken);
    }
    if (rc == RC_OK && out)
        *out = r;
    else
        PQclear(r);
    return rc;
}

typedef enum rc (*tx_body)(struct pg_store *s, struct conn *c, void *arg);

/* Run body in one transaction on this thread's connection; ROLLBACK when it fails. The body
 * runs its statements with tx_exec or conn_run, which never reconnect. A transaction whose
 * connection is lost before COMMIT is sent committed nothing, so it is run once more on a new
 * connection; a COMMIT whose answer is lost returns RC_UNAVAILABLE (the outcome is unknown). */
static enum rc transaction(struct pg_store *s, tx_body body, void *arg)
{
    int connects = 1;
    enum rc rc;
    for (int attempt = 0;; attempt++) {
        struct conn *c;
        if ((rc = get_conn(s, &c, &connects)) != RC_OK)
            return rc;
        rc = tx_exec(s, c, "begin", "BEGIN ISOLATION LEVEL READ COMMITTED", NULL, NULL);
        if (rc == RC_OK && (rc = body(s, c, arg)) == RC_OK) {
            PGresult *r = NULL;
            rc = tx_exec(s, c, "commit", "COMMIT", NULL, &r);
            /* COMMIT of a transaction that already failed answers ROLLBACK, not an error. */
            if (rc == RC_OK && strcmp(PQcmdStatus(r), "COMMIT") != 0) {
                set_error(s, true, "commit: the transaction was rolled back");
                rc = RC_STORE;
            }
            PQclear(r);
            if (rc != RC_OK && PQstatus(c->pg) != CONNECTION_OK)
                conn_drop(c);
            return rc;
        }
        if (PQstatus(c->pg) == CONNECTION_OK && rc != RC_UNAVAILABLE) {
            PGresult *r = PQexec(c->pg, "ROLLBACK");
            if (PQresultStatus(r) != PGRES_COMMAND_OK)
                conn_drop(c);
            PQclear(r);
            return rc;
        }
        conn_drop(c);
        if (attempt > 0 || connects <= 0)
            return RC_UNAVAILABLE;
        log_warn("pg: transaction: retrying on a new connection");
    }
}

/* --- platform tables: properties, API keys, secrets, services ------------------------------ */

/* Run q on c inside a transaction body; *out (may be NULL: result dropped) on RC_OK. A lost
 * connection is left for transaction() to notice. */
static enum rc tx_query(struct pg_store *s, struct conn *c, enum query q, const struct params *p,
                        PGresult **out)
{
    PGresult *r = NULL;
    bool sent, broken;
    enum rc rc = conn_run(s, c, q, p, &r, &sent, &broken);
    if (rc == RC_OK && out)
        *out = r;
    else
        PQclear(r);
    return rc;
}

/* Like tx_query for a statement that changes rows: RC_NOT_FOUND when it changed none. */
static enum rc tx_change(struct pg_store *s, struct conn *c, enum query q, const struct params *p)
{
    PGresult *r = NULL;
    enum rc rc = tx_query(s, c, q, p, &r);
    if (rc == RC_OK && strtol(PQcmdTuples(r), NULL, 10) == 0)
        rc = RC_NOT_FOUND;
    PQclear(r);
    return rc;
}

/* Run q, which changes rows; RC_NOT_FOUND when it changed none. */
static enum rc run_changing(struct pg_store *s, enum query q, const struct params *p)
{
    int changes = 0;
    enum rc rc = run(s, q, p, &changes);
    return rc == RC_OK && changes == 0 ? RC_NOT_FOUND : rc;
}

static void read_property(const PGresult *r, int row, void *out)
{
    struct store_property *p = out;
    col(r, row, 0, p->name, sizeof p->name);
    col(r, row, 1, p->value, sizeof p->value);
    p->updated_at = col_int(r, row, 2);
}

static void read_api_key(const PGresult *r, int row, void *out)
{
    struct store_api_key *k = out;
    col(r, row, 0, k->id, sizeof k->id);
    col(r, row, 1, k->org_id, sizeof k->org_id);
    col(r, row, 2, k->kind, sizeof k->kind);
    col(r, row, 3, k->name, sizeof k->name);
    col(r, row, 4, k->public_value, sizeof k->public_value);
    col(r, row, 5, k->display, sizeof k->display);
    col(r, row, 6, k->digest, sizeof k->digest);
    col(r, row, 7, k->created_by, sizeof k->created_by);
    k->created_at = col_int(r, row, 8);
    k->last_used_at = col_int(r, row, 9);
    k->revoked_at = col_int(r, row, 10);
}

static void read_secret_set(const PGresult *r, int row, void *out)
{
    struct store_secret_set *set = out;
    col(r, row, 0, set->id, sizeof set->id);
    col(r, row, 1, set->org_id, sizeof set->org_id);
    col(r, row, 2, set->name, sizeof set->name);
    col(r, row, 3, set->kind, sizeof set->kind);
    col(r, row, 4, set->region, sizeof set->region);
    col(r, row, 5, set->host, sizeof set->host);
    set->created_at = col_int(r, row, 6);
    set->updated_at = col_int(r, row, 7);
}

static void read_secret(const PGresult *r, int row, void *out)
{
    struct store_secret *sec = out;
    col(r, row, 0, sec->set_id, sizeof sec->set_id);
    col(r, row, 1, sec->name, sizeof sec->name);
    col(r, row, 2, sec->nonce, sizeof sec->nonce);
    sec->created_at = col_int(r, row, 3);
    sec->updated_at = col_int(r, row, 4);
}

static void read_service(const PGresult *r, int row, void *out)
{
    struct store_service *svc = out;
    col(r, row, 0, svc->id, sizeof svc->id);
    col(r, row, 1, svc->org_id, sizeof svc->org_id);
    col(r, row, 2, svc->name, sizeof svc->name);
    col(r, row, 3, svc->region, sizeof svc->region);
    svc->min_agents = (int)col_int(r, row, 4);
    svc->max_agents = (int)col_int(r, row, 5);
    col(r, row, 6, svc->active_deployment_id, sizeof svc->active_deployment_id);
    svc->created_at = col_int(r, row, 7);
    svc->updated_at = col_int(r, row, 8);
}

static void read_deployment(const PGresult *r, int row, void *out)
{
    struct store_deployment *d = out;
    col(r, row, 0, d->id, sizeof d->id);
    col(r, row, 1, d->service_id, sizeof d->service_id);
    d->revision = (int)col_int(r, row, 2);
    col(r, row, 3, d->image, sizeof d->image);
    col(r, row, 4, d->build_id, sizeof d->build_id);
    col(r, row, 5, d->secret_set, sizeof d->secret_set);
    col(r, row, 6, d->image_pull_secret_set, sizeof d->image_pull_secret_set);
    col(r, row, 7, d->agent_profile, sizeof d->agent_profile);
    col(r, row, 8, d->krisp_viva_filter, sizeof d->krisp_viva_filter);
    d->enable_krisp = (int)col_int(r, row, 9);
    col(r, row, 10, d->websocket_auth, sizeof d->websocket_auth);
    d->max_session_duration = (int)col_int(r, row, 11);
    col(r, row, 12, d->created_by, sizeof d->created_by);
    d->created_at = col_int(r, row, 13);
}

/* Run a query for at most one row and hand it to reader; RC_NOT_FOUND when there is none. */
static enum rc fetch_row(struct pg_store *s, enum query q, const struct params *p,
                         void (*reader)(const PGresult *, int, void *), void *out)
{
    PGresult *r = NULL;
    enum rc rc = fetch_one(s, q, p, &r);
    if (rc == RC_OK)
        reader(r, 0, out);
    PQclear(r);
    return rc;
}

/* Parameters (org_id, name) or (id, name): the key of most lookups below. */
static struct params two_texts(const char *a, const char *b)
{
    struct params p = {0};
    add_text(&p, a);
    add_text(&p, b);
    return p;
}

static enum rc s_org_properties(struct store *st_, const char *org_id, struct store_property **list,
                                size_t *count)
{
    SELF;
    struct params p = {0};
    add_text(&p, org_id);
    return fetch_all(s, Q_PROPERTIES_FOR_ORG, &p, sizeof **list, read_property, (void **)list,
                     count);
}

static enum rc s_org_property_put(struct store *st_, const char *org_id, const char *name,
                                  const char *value, int64_t now)
{
    SELF;
    struct params p = two_texts(org_id, name);
    add_text(&p, value);
    add_int(&p, now);
    return run(s, Q_PROPERTY_PUT, &p, NULL);
}

static enum rc s_api_key_insert(struct store *st_, const struct store_api_key *k)
{
    SELF;
    struct params p = two_texts(k->id, k->org_id);
    add_text(&p, k->kind);
    add_text(&p, k->name);
    add_text(&p, k->public_value);
    add_text(&p, k->display);
    add_text(&p, k->digest);
    add_text(&p, k->created_by);
    add_int(&p, k->created_at);
    return run(s, Q_APIKEY_INSERT, &p, NULL);
}

static enum rc s_api_key_lookup(struct store *st_, const char *digest, struct store_api_key *out)
{
    SELF;
    struct params p = {0};
    add_text(&p, digest);
    return fetch_row(s, Q_APIKEY_LOOKUP, &p, read_api_key, out);
}

static enum rc s_api_keys_for_org(struct store *st_, const char *org_id,
                                  struct store_api_key **list, size_t *count)
{
    SELF;
    struct params p = {0};
    add_text(&p, org_id);
    return fetch_all(s, Q_APIKEYS_FOR_ORG, &p, sizeof **list, read_api_key, (void **)list, count);
}

static enum rc s_api_key_revoke(struct store *st_, const char *org_id, const char *key_id,
                                int64_t now)
{
    SELF;
    struct params p = two_texts(org_id, key_id);
    add_int(&p, now);
    return run_changing(s, Q_APIKEY_REVOKE, &p);
}

static enum rc s_api_key_touch(struct store *st_, const char *key_id, int64_t now)
{
    SELF;
    struct params p = {0};
    add_text(&p, key_id);
    add_int(&p, now);
    return run(s, Q_APIKEY_TOUCH, &p, NULL);
}

static enum rc s_secret_sets_for_org(struct store *st_, const char *org_id, const char *region,
                                     struct store_secret_set **list, size_t *count)
{
    SELF;
    struct params p = two_texts(org_id, region ? region : "");
    return fetch_all(s, Q_SETS_FOR_ORG, &p, sizeof **list, read_secret_set, (void **)list, count);
}

static enum rc s_secret_set_by_name(struct store *st_, const char *org_id, const char *name,
                                    struct store_secret_set *out)
{
    SELF;
    struct params p = two_texts(org_id, name);
    return fetch_row(s, Q_SET_BY_NAME, &p, read_secret_set, out);
}

struct secret_put_args {
    struct store_secret_set *set;
    const struct store_secret *secret;
    const char *ciphertext;
};

static enum rc secret_put_body(struct pg_store *s, struct conn *c, void *arg)
{
    struct secret_put_args *a = arg;
    const struct store_secret_set *set = a->set;
    struct store_secret_set stored;
    PGresult *r = NULL;
    struct params p = two_texts(set->id, set->org_id);
    add_text(&p, set->name);
    add_text(&p, set->kind);
    add_text(&p, set->region);
    add_text(&p, set->host);
    add_int(&p, set->created_at);
    add_int(&p, set->updated_at);
    enum rc rc = tx_query(s, c, Q_SET_INSERT, &p, NULL);
    if (rc != RC_OK)
        goto out;
    p = two_texts(set->org_id, set->name);
    if ((rc = tx_query(s, c, Q_SET_BY_NAME, &p, &r)) != RC_OK)
        goto out;
    if (PQntuples(r) != 1) {
        rc = RC_NOT_FOUND; /* deleted between the insert and the read: cannot happen in one tx */
        goto out;
    }
    read_secret_set(r, 0, &stored);
    if (strcmp(stored.kind, set->kind) != 0 || strcmp(stored.region, set->region) != 0) {
        *a->set = stored;
        rc = RC_CONFLICT;
        goto out;
    }
    store_copy_field(stored.host, sizeof stored.host, set->host);
    stored.updated_at = set->updated_at;
    p = two_texts(stored.id, stored.host);
    add_int(&p, stored.updated_at);
    if ((rc = tx_query(s, c, Q_SET_TOUCH, &p, NULL)) != RC_OK)
        goto out;
    p = two_texts(stored.id, a->secret->name);
    add_text(&p, a->secret->nonce);
    add_text(&p, a->ciphertext);
    add_int(&p, a->secret->updated_at);
    if ((rc = tx_query(s, c, Q_SECRET_PUT, &p, NULL)) != RC_OK)
        goto out;
    *a->set = stored;
out:
    PQclear(r);
    return rc;
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
    struct params p = {0};
    add_text(&p, set_id);
    return fetch_all(s, Q_SECRET_NAMES, &p, sizeof **list, read_secret, (void **)list, count);
}

static enum rc s_secret_get(struct store *st_, const char *set_id, const char *name,
                            struct store_secret *out, char **ciphertext)
{
    SELF;
    struct params p = two_texts(set_id, name);
    PGresult *r = NULL;
    *ciphertext = NULL;
    enum rc rc = fetch_one(s, Q_SECRET_GET, &p, &r);
    if (rc == RC_OK) {
        read_secret(r, 0, out);
        if (!(*ciphertext = strdup(PQgetvalue(r, 0, 5))))
            rc = RC_NOMEM;
    }
    PQclear(r);
    return rc;
}

struct secret_delete_args {
    const char *set_id, *name;
    int64_t now;
    int *set_deleted;
};

/* The stamp comes first: its row lock on the set waits for a concurrent secret_put (which
 * updates the same row) to commit, so the emptiness check below sees the key it added. */
static enum rc secret_delete_body(struct pg_store *s, struct conn *c, void *arg)
{
    struct secret_delete_args *a = arg;
    *a->set_deleted = 0;
    struct params p = {0};
    add_text(&p, a->set_id);
    add_int(&p, a->now);
    enum rc rc = tx_change(s, c, Q_SET_STAMP, &p);
    if (rc != RC_OK)
        return rc;
    p = two_texts(a->set_id, a->name);
    if ((rc = tx_change(s, c, Q_SECRET_DELETE, &p)) != RC_OK)
        return rc;
    p = (struct params){0};
    add_text(&p, a->set_id);
    rc = tx_change(s, c, Q_SET_DELETE_IF_EMPTY, &p);
    *a->set_deleted = rc == RC_OK;
    return rc == RC_NOT_FOUND ? RC_OK : rc;
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
    struct params p = two_texts(org_id, name);
    return run_changing(s, Q_SET_DELETE, &p);
}

/* Insert dep as the service's next revision on c and read back the revision it got. */
static enum rc tx_deployment_insert(struct pg_store *s, struct conn *c, struct store_deployment *d)
{
    PGresult *r = NULL;
    struct params p = two_texts(d->id, d->service_id);
    add_text(&p, d->image);
    add_text(&p, d->build_id);
    add_text(&p, d->secret_set);
    add_text(&p, d->image_pull_secret_set);
    add_text(&p, d->agent_profile);
    add_text(&p, d->krisp_viva_filter);
    add_int(&p, d->enable_krisp);
    add_text(&p, d->websocket_auth);
    add_int(&p, d->max_session_duration);
    add_text(&p, d->created_by);
    add_int(&p, d->created_at);
    enum rc rc = tx_query(s, c, Q_DEPLOYMENT_INSERT, &p, NULL);
    if (rc != RC_OK)
        return rc;
    p = (struct params){0};
    add_text(&p, d->id);
    if ((rc = tx_query(s, c, Q_DEPLOYMENT_REVISION, &p, &r)) == RC_OK)
        d->revision = PQntuples(r) == 1 ? (int)col_int(r, 0, 0) : 0;
    PQclear(r);
    return rc;
}

struct service_write_args {
    const struct store_service *svc;
    struct store_deployment *dep;
};

static enum rc service_create_body(struct pg_store *s, struct conn *c, void *arg)
{
    struct service_write_args *a = arg;
    const struct store_service *svc = a->svc;
    struct params p = two_texts(svc->id, svc->org_id);
    add_text(&p, svc->name);
    add_text(&p, svc->region);
    add_int(&p, svc->min_agents);
    add_int(&p, svc->max_agents);
    add_text(&p, svc->active_deployment_id);
    add_int(&p, svc->created_at);
    add_int(&p, svc->updated_at);
    enum rc rc = tx_query(s, c, Q_SERVICE_INSERT, &p, NULL);
    return rc == RC_OK ? tx_deployment_insert(s, c, a->dep) : rc;
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

/* The service row first: a service deleted meanwhile is RC_NOT_FOUND, not a foreign-key
 * conflict of the deployment; and its row lock makes concurrent deploys of one service take
 * turns, so each reads the revision the previous one wrote. */
static enum rc service_update_body(struct pg_store *s, struct conn *c, void *arg)
{
    struct service_write_args *a = arg;
    struct params p = {0};
    add_text(&p, a->svc->id);
    add_int(&p, a->svc->min_agents);
    add_int(&p, a->svc->max_agents);
    add_text(&p, a->dep ? a->dep->id : a->svc->active_deployment_id);
    add_int(&p, a->svc->updated_at);
    enum rc rc = tx_change(s, c, Q_SERVICE_UPDATE, &p);
    if (rc == RC_OK && a->dep)
        rc = tx_deployment_insert(s, c, a->dep);
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
    struct params p = two_texts(org_id, name);
    return fetch_row(s, Q_SERVICE_BY_NAME, &p, read_service, out);
}

static enum rc s_services_for_org(struct store *st_, const char *org_id, const char *region,
                                  struct store_service **list, size_t *count)
{
    SELF;
    struct params p = two_texts(org_id, region ? region : "");
    return fetch_all(s, Q_SERVICES_FOR_ORG, &p, sizeof **list, read_service, (void **)list, count);
}

static enum rc s_service_delete(struct store *st_, const char *org_id, const char *name)
{
    SELF;
    struct params p = two_texts(org_id, name);
    return run_changing(s, Q_SERVICE_DELETE, &p);
}

static enum rc s_deployment_by_id(struct store *st_, const char *service_id, const char *id,
                                  struct store_deployment *out)
{
    SELF;
    struct params p = two_texts(service_id, id);
    return fetch_row(s, Q_DEPLOYMENT_BY_ID, &p, read_deployment, out);
}

static enum rc s_deployments_for_service(struct store *st_, const char *service_id,
                                         struct store_deployment **list, size_t *count)
{
    SELF;
    struct params p = {0};
    add_text(&p, service_id);
    return fetch_all(s, Q_DEPLOYMENTS_FOR_SERVICE, &p, sizeof **list, read_deployment,
                     (void **)list, count);
}

/* --- dashboard: passwords, web sessions, members (migration 0004) ------------------------- */

static enum rc s_user_set_password(struct store *st_, const char *user_id, const char *hash)
{
    SELF;
    struct params p = two_texts(user_id, hash);
    return run_changing(s, Q_USER_SET_PASSWORD, &p);
}

static void read_password(const PGresult *r, int row, void *out)
{
    col(r, row, 0, out, STORE_PASSWORD_HASH_SIZE);
}

/* The user by email, then the hash by id (see sqlite.c: users are never deleted). */
static enum rc s_user_password_by_email(struct store *st_, const char *email,
                                        struct store_user *out, char hash[STORE_PASSWORD_HASH_SIZE])
{
    SELF;
    enum rc rc = s_user_by_email(st_, email, out);
    if (rc != RC_OK)
        return rc;
    struct params p = {0};
    add_text(&p, out->id);
    return fetch_row(s, Q_USER_PASSWORD, &p, read_password, hash);
}

static enum rc s_web_session_insert(struct store *st_, const struct store_web_session *ws)
{
    SELF;
    struct params p = two_texts(ws->id, ws->user_id);
    add_text(&p, ws->active_org);
    add_int(&p, ws->created_at);
    add_int(&p, ws->last_seen_at);
    add_int(&p, ws->expires_at);
    return run(s, Q_WS_INSERT, &p, NULL);
}

static void read_web_session(const PGresult *r, int row, void *out)
{
    struct store_web_session *ws = out;
    col(r, row, 0, ws->id, sizeof ws->id);
    col(r, row, 1, ws->user_id, sizeof ws->user_id);
    col(r, row, 2, ws->active_org, sizeof ws->active_org);
    ws->created_at = col_int(r, row, 3);
    ws->last_seen_at = col_int(r, row, 4);
    ws->expires_at = col_int(r, row, 5);
}

static enum rc s_web_session_lookup(struct store *st_, const char *id,
                                    struct store_web_session *out, struct store_user *user)
{
    SELF;
    struct params p = {0};
    add_text(&p, id);
    enum rc rc = fetch_row(s, Q_WS_LOOKUP, &p, read_web_session, out);
    if (rc == RC_OK)
        rc = s_user_by_id(st_, out->user_id, user);
    return rc;
}

static enum rc s_web_session_touch(struct store *st_, const char *id, int64_t now)
{
    SELF;
    struct params p = {0};
    add_text(&p, id);
    add_int(&p, now);
    return run_changing(s, Q_WS_TOUCH, &p);
}

static enum rc s_web_session_set_org(struct store *st_, const char *id, const char *org_id)
{
    SELF;
    struct params p = two_texts(id, org_id);
    return run_changing(s, Q_WS_SET_ORG, &p);
}

static enum rc s_web_session_delete(struct store *st_, const char *id)
{
    SELF;
    struct params p = {0};
    add_text(&p, id);
    return run_changing(s, Q_WS_DELETE, &p);
}

static void read_member(const PGresult *r, int row, void *out)
{
    struct store_member *m = out;
    col(r, row, 0, m->user.id, sizeof m->user.id);
    col(r, row, 1, m->user.email, sizeof m->user.email);
    col(r, row, 2, m->user.name, sizeof m->user.name);
    m->user.created_at = col_int(r, row, 3);
    col(r, row, 4, m->role, sizeof m->role);
    m->joined_at = col_int(r, row, 5);
}

static enum rc s_members_of_org(struct store *st_, const char *org_id, struct store_member **list,
                                size_t *count)
{
    SELF;
    struct params p = {0};
    add_text(&p, org_id);
    return fetch_all(s, Q_MEMBERS_OF_ORG, &p, sizeof **list, read_member, (void **)list, count);
}

struct membership_change_args {
    const char *org_id, *user_id, *role;
};

static enum rc membership_change_body(struct pg_store *s, struct conn *c, void *arg)
{
    struct membership_change_args *a = arg;
    PGresult *r = NULL;
    struct params p = two_texts(a->org_id, a->user_id);
    enum rc rc = tx_query(s, c, Q_MEMBER_ROLE, &p, &r);
    if (rc != RC_OK)
        goto out;
    if (PQntuples(r) != 1) {
        rc = RC_NOT_FOUND;
        goto out;
    }
    int was_admin = strcmp(PQgetvalue(r, 0, 0), "admin") == 0;
    PQclear(r);
    r = NULL;
    if (was_admin && (!a->role || strcmp(a->role, "admin") != 0)) {
        struct params q = {0};
        add_text(&q, a->org_id);
        if ((rc = tx_query(s, c, Q_ADMIN_COUNT, &q, &r)) != RC_OK)
            goto out;
        if (col_int(r, 0, 0) <= 1) {
            rc = RC_FORBIDDEN;
            goto out;
        }
    }
    if (a->role)
        add_text(&p, a->role);
    rc = tx_change(s, c, a->role ? Q_MEMBER_SET_ROLE : Q_MEMBER_DELETE, &p);
out:
    PQclear(r);
    return rc;
}

static enum rc s_membership_change(struct store *st_, const char *org_id, const char *user_id,
                                   const char *role)
{
    SELF;
    struct membership_change_args a = {org_id, user_id, role};
    return transaction(s, membership_change_body, &a);
}

struct migrate_state {
    int applied;
};

/* --- token lifecycle: rotation, addresses, org oversight, policies, service accounts ------- */

static enum rc s_token_rotate(struct store *st_, const struct store_token *t,
                              const char *expected_digest)
{
    SELF;
    struct params p = {0};
    add_text(&p, t->id);
    add_text(&p, t->digest);
    add_text(&p, t->display);
    add_optional(&p, t->previous_digest);
    add_int(&p, t->previous_expires_at);
    add_int(&p, t->rotated_at);
    add_text(&p, expected_digest);
    enum rc rc = run_changing(s, Q_TOKEN_ROTATE, &p);
    if (rc != RC_NOT_FOUND)
        return rc;
    /* Nothing changed: the decision is made; this read only names the reason. */
    struct params q = {0};
    add_text(&q, t->id);
    PGresult *r = NULL;
    if ((rc = fetch_one(s, Q_TOKEN_ACTIVE, &q, &r)) != RC_OK)
        return rc;
    int64_t active = col_int(r, 0, 0);
    PQclear(r);
    return active ? RC_CONFLICT : RC_NOT_FOUND;
}

static enum rc s_token_ip_add(struct store *st_, const char *token_id, const char *ip, int64_t now)
{
    SELF;
    struct params p = {0};
    add_text(&p, token_id);
    add_text(&p, ip ? ip : "");
    add_int(&p, now);
    int changes = 0;
    enum rc rc = run(s, Q_TOKEN_IP_ADD, &p, &changes);
    return rc == RC_OK && changes == 0 ? RC_CONFLICT : rc;
}

static void read_org_token(const PGresult *r, int row, void *out)
{
    struct store_org_token *o = out;
    read_token(r, row, &o->token);
    col(r, row, TOKEN_COLUMN_COUNT + 0, o->owner_id, sizeof o->owner_id);
    col(r, row, TOKEN_COLUMN_COUNT + 1, o->owner_email, sizeof o->owner_email);
    col(r, row, TOKEN_COLUMN_COUNT + 2, o->owner_kind, sizeof o->owner_kind);
}

static enum rc s_tokens_for_org(struct store *st_, const char *org_id,
                                struct store_org_token **list, size_t *count)
{
    SELF;
    struct params p = {0};
    add_text(&p, org_id);
    return fetch_all(s, Q_TOKENS_FOR_ORG, &p, sizeof **list, read_org_token, (void **)list, count);
}

static enum rc s_audit_for_org(struct store *st_, const char *org_id, int64_t before_id,
                               size_t limit, struct store_audit **list, size_t *count)
{
    SELF;
    struct params p = {0};
    add_text(&p, org_id);
    add_int(&p, before_id > 0 ? before_id : INT64_MAX);
    add_int(&p, limit > INT64_MAX ? INT64_MAX : (int64_t)limit);
    return fetch_all(s, Q_AUDIT_FOR_ORG, &p, sizeof **list, read_audit, (void **)list, count);
}

static enum rc s_token_policy_put(struct store *st_, const char *org_id,
                                  const struct store_token_policy *pol)
{
    SELF;
    struct params p = {0};
    add_text(&p, org_id);
    add_int(&p, pol->require_expiry);
    add_int(&p, pol->max_lifetime_days);
    add_int(&p, pol->require_binding);
    add_int(&p, pol->updated_at);
    return run(s, Q_POLICY_PUT, &p, NULL);
}

static void read_service_account(const PGresult *r, int row, void *out)
{
    struct store_service_account *a = out;
    col(r, row, 0, a->user_id, sizeof a->user_id);
    col(r, row, 1, a->org_id, sizeof a->org_id);
    col(r, row, 2, a->name, sizeof a->name);
    col(r, row, 3, a->created_by, sizeof a->created_by);
    a->created_at = col_int(r, row, 4);
}

struct sa_create {
    const struct store_user *user;
    const struct store_service_account *account;
};

static enum rc sa_create_body(struct pg_store *s, struct conn *c, void *arg)
{
    const struct sa_create *a = arg;
    struct params p = two_texts(a->account->org_id, a->account->name);
    PGresult *r = NULL;
    enum rc rc = tx_query(s, c, Q_SA_BY_NAME, &p, &r);
    if (rc == RC_OK && PQntuples(r) > 0)
        rc = RC_CONFLICT;
    PQclear(r);
    if (rc != RC_OK)
        return rc;
    struct params u = {0};
    add_text(&u, a->user->id);
    add_text(&u, a->user->email);
    add_text(&u, a->user->name);
    add_int(&u, a->user->created_at);
    if ((rc = tx_query(s, c, Q_SA_USER, &u, NULL)) != RC_OK)
        return rc;
    struct params m = {0};
    add_text(&m, a->user->id);
    add_text(&m, a->account->org_id);
    add_int(&m, a->account->created_at);
    if ((rc = tx_query(s, c, Q_SA_MEMBER, &m, NULL)) != RC_OK)
        return rc;
    struct params q = {0};
    add_text(&q, a->user->id);
    add_text(&q, a->account->org_id);
    add_text(&q, a->account->name);
    add_text(&q, a->account->created_by);
    add_int(&q, a->account->created_at);
    return tx_query(s, c, Q_SA_INSERT, &q, NULL);
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
    struct params p = {0};
    add_text(&p, org_id);
    return fetch_all(s, Q_SAS_FOR_ORG, &p, sizeof **list, read_service_account, (void **)list,
                     count);
}

static enum rc s_service_account_by_name(struct store *st_, const char *org_id, const char *name,
                                         struct store_service_account *out)
{
    SELF;
    struct params p = two_texts(org_id, name);
    return fetch_row(s, Q_SA_BY_NAME, &p, read_service_account, out);
}

static enum rc s_service_account_delete(struct store *st_, const char *org_id, const char *name)
{
    SELF;
    struct params p = two_texts(org_id, name);
    return run_changing(s, Q_SA_DELETE, &p);
}

/* Apply the embedded migrations newer than the recorded version. The advisory lock, held until
 * the transaction ends, makes a second node wait and then find nothing left to apply. */
static enum rc migrate_body(struct pg_store *s, struct conn *c, void *arg)
{
    struct migrate_state *m = arg;
    PGresult *r = NULL;
    enum rc rc;
    m->applied = 0;
    if ((rc = tx_exec(s, c, "migration lock", MIGRATION_LOCK_SQL, NULL, NULL)) != RC_OK)
        goto out;
    rc = tx_exec(s, c, "schema_migrations",
                 "CREATE TABLE IF NOT EXISTS schema_migrations (version INTEGER PRIMARY KEY, "
                 "name TEXT NOT NULL, applied_at BIGINT NOT NULL)",
                 NULL, NULL);
    if (rc != RC_OK)
        goto out;
    rc = tx_exec(s, c, "schema_migrations",
                 "SELECT coalesce(max(version), 0) FROM schema_migrations", NULL, &r);
    if (rc != RC_OK)
        goto out;
    int current = (int)col_int(r, 0, 0), known = 0;
    while (pg_migrations[known])
        known++;
    if (current > known)
        log_warn("pg: the database schema (version %d) is newer than this pccd knows (%d)", current,
                 known);
    for (int v = current; v < known; v++) {
        if ((rc = tx_exec(s, c, pg_migrations_names[v], pg_migrations[v], NULL, NULL)) != RC_OK)
            goto out;
        struct params p = {0};
        add_int(&p, v + 1);
        add_text(&p, pg_migrations_names[v]);
        rc = tx_exec(s, c, "schema_migrations",
                     "INSERT INTO schema_migrations (version, name, applied_at) "
                     "VALUES ($1, $2, extract(epoch FROM now())::bigint)",
                     &p, NULL);
        if (rc != RC_OK)
            goto out;
        m->applied++;
    }
out:
    PQclear(r);
    return rc;
}

static enum rc s_migrate(struct store *st_, int *applied, char *err, size_t errlen)
{
    SELF;
    struct migrate_state m = {0};
    enum rc rc = transaction(s, migrate_body, &m);
    if (rc != RC_OK)
        snprintf(err, errlen, "%s", store_last_error(&s->base));
    if (applied)
        *applied = rc == RC_OK ? m.applied : 0;
    return rc;
}

/* --- OAuth: codes, refresh-token families (migration 0005) -------------------------------- */

static void read_oauth_code(const PGresult *r, int row, void *out)
{
    struct store_oauth_code *o = out;
    col(r, row, 0, o->digest, sizeof o->digest);
    col(r, row, 1, o->user_id, sizeof o->user_id);
    col(r, row, 2, o->client_id, sizeof o->client_id);
    col(r, row, 3, o->redirect_uri, sizeof o->redirect_uri);
    col(r, row, 4, o->code_challenge, sizeof o->code_challenge);
    col(r, row, 5, o->scopes, sizeof o->scopes);
    o->created_at = col_int(r, row, 6);
    o->expires_at = col_int(r, row, 7);
    o->used_at = col_int(r, row, 8);
    col(r, row, 9, o->family_id, sizeof o->family_id);
}

static void read_oauth_device(const PGresult *r, int row, void *out)
{
    struct store_oauth_device *o = out;
    col(r, row, 0, o->digest, sizeof o->digest);
    col(r, row, 1, o->user_code, sizeof o->user_code);
    col(r, row, 2, o->client_id, sizeof o->client_id);
    col(r, row, 3, o->scopes, sizeof o->scopes);
    col(r, row, 4, o->user_id, sizeof o->user_id);
    col(r, row, 5, o->status, sizeof o->status);
    o->created_at = col_int(r, row, 6);
    o->expires_at = col_int(r, row, 7);
    o->interval_s = col_int(r, row, 8);
    o->last_poll_at = col_int(r, row, 9);
}

static void read_oauth_login(const PGresult *r, int row, void *out)
{
    struct store_oauth_login *o = out;
    col(r, row, 0, o->family_id, sizeof o->family_id);
    col(r, row, 1, o->client_id, sizeof o->client_id);
    col(r, row, 2, o->scopes, sizeof o->scopes);
    o->created_at = col_int(r, row, 3);
    o->refreshed_at = col_int(r, row, 4);
    o->expires_at = col_int(r, row, 5);
}

static void read_oauth_refresh(const PGresult *r, int row, void *out)
{
    struct store_oauth_refresh *o = out;
    col(r, row, 0, o->digest, sizeof o->digest);
    col(r, row, 1, o->family_id, sizeof o->family_id);
    col(r, row, 2, o->user_id, sizeof o->user_id);
    col(r, row, 3, o->client_id, sizeof o->client_id);
    col(r, row, 4, o->scopes, sizeof o->scopes);
    o->created_at = col_int(r, row, 5);
    o->expires_at = col_int(r, row, 6);
    o->used_at = col_int(r, row, 7);
    o->revoked_at = col_int(r, row, 8);
}

static enum rc s_oauth_code_insert(struct store *st_, const struct store_oauth_code *o)
{
    SELF;
    struct params p = two_texts(o->digest, o->user_id);
    add_text(&p, o->client_id);
    add_text(&p, o->redirect_uri);
    add_text(&p, o->code_challenge);
    add_text(&p, o->scopes);
    add_int(&p, o->created_at);
    add_int(&p, o->expires_at);
    add_text(&p, o->family_id);
    return run(s, Q_OAUTH_CODE_INSERT, &p, NULL);
}

/* Spend a row with use (UPDATE ... WHERE unused RETURNING: only one caller can win); when it
 * was spent before, read it with get and answer RC_CONFLICT. */
static enum rc take_row(struct pg_store *s, enum query use, enum query get, const char *digest,
                        int64_t now, void (*reader)(const PGresult *, int, void *), void *out)
{
    struct params p = {0};
    add_text(&p, digest);
    add_int(&p, now);
    enum rc rc = fetch_row(s, use, &p, reader, out);
    if (rc != RC_NOT_FOUND)
        return rc;
    struct params q = {0};
    add_text(&q, digest);
    rc = fetch_row(s, get, &q, reader, out);
    return rc == RC_OK ? RC_CONFLICT : rc;
}

static enum rc s_oauth_code_take(struct store *st_, const char *digest, int64_t now,
                                 struct store_oauth_code *out)
{
    SELF;
    return take_row(s, Q_OAUTH_CODE_USE, Q_OAUTH_CODE_GET, digest, now, read_oauth_code, out);
}

/* The parameters of Q_OAUTH_RT_INSERT, into p (which holds the numbers: not to be copied). */
static void refresh_params(struct params *p, const struct store_oauth_refresh *o)
{
    add_text(p, o->digest);
    add_text(p, o->family_id);
    add_text(p, o->user_id);
    add_text(p, o->client_id);
    add_text(p, o->scopes);
    add_int(p, o->created_at);
    add_int(p, o->expires_at);
}

static enum rc s_oauth_refresh_insert(struct store *st_, const struct store_oauth_refresh *o)
{
    SELF;
    struct params p = {0};
    refresh_params(&p, o);
    return run(s, Q_OAUTH_RT_INSERT, &p, NULL);
}

static enum rc s_oauth_refresh_take(struct store *st_, const char *digest, int64_t now,
                                    struct store_oauth_refresh *out)
{
    SELF;
    return take_row(s, Q_OAUTH_RT_USE, Q_OAUTH_RT_GET, digest, now, read_oauth_refresh, out);
}

static enum rc s_oauth_access_link(struct store *st_, const char *token_id, const char *family_id)
{
    SELF;
    struct params p = two_texts(token_id, family_id);
    return run(s, Q_OAUTH_ACCESS_LINK, &p, NULL);
}

static enum rc s_oauth_refresh_get(struct store *st_, const char *digest,
                                   struct store_oauth_refresh *out)
{
    SELF;
    struct params p = {0};
    add_text(&p, digest);
    return fetch_row(s, Q_OAUTH_RT_GET, &p, read_oauth_refresh, out);
}

struct refresh_rotate {
    const char *digest;
    int64_t now;
    const struct store_token *access;
    const struct store_oauth_refresh *next;
};

/* Spend the refresh token, then write its successors; any failure rolls back all of it. A
 * concurrent spender waits on the row lock of the UPDATE and, once this commits, finds the
 * token spent. */
static enum rc refresh_rotate_body(struct pg_store *s, struct conn *c, void *arg)
{
    const struct refresh_rotate *a = arg;
    struct params use = {0};
    add_text(&use, a->digest);
    add_int(&use, a->now);
    PGresult *r = NULL;
    enum rc rc = tx_query(s, c, Q_OAUTH_RT_USE, &use, &r);
    int spent = rc == RC_OK && PQntuples(r) == 1;
    PQclear(r);
    if (rc != RC_OK)
        return rc;
    if (!spent)
        return RC_CONFLICT;
    struct params tok = {0}, next = {0};
    struct params link = two_texts(a->access->id, a->next->family_id);
    token_params(&tok, a->access);
    refresh_params(&next, a->next);
    if ((rc = tx_query(s, c, Q_TOKEN_INSERT, &tok, NULL)) != RC_OK ||
        (rc = tx_query(s, c, Q_OAUTH_ACCESS_LINK, &link, NULL)) != RC_OK)
        return rc;
    return tx_query(s, c, Q_OAUTH_RT_INSERT, &next, NULL);
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
    struct params p = {0};
    add_text(&p, family_id);
    add_int(&p, now);
    enum rc rc = run(s, Q_OAUTH_FAMILY_RT_REVOKE, &p, NULL);
    return rc == RC_OK ? run(s, Q_OAUTH_FAMILY_AT_REVOKE, &p, NULL) : rc;
}

static void read_family(const PGresult *r, int row, void *out) { col(r, row, 0, out, ID_BUF_SIZE); }

static enum rc s_oauth_family_of(struct store *st_, const char *token_id,
                                 char family_id[ID_BUF_SIZE])
{
    SELF;
    struct params p = {0};
    add_text(&p, token_id);
    return fetch_row(s, Q_OAUTH_FAMILY_OF, &p, read_family, family_id);
}

static enum rc s_oauth_device_insert(struct store *st_, const struct store_oauth_device *o)
{
    SELF;
    struct params p = two_texts(o->digest, o->user_code);
    add_text(&p, o->client_id);
    add_text(&p, o->scopes);
    add_int(&p, o->created_at);
    add_int(&p, o->expires_at);
    add_int(&p, o->interval_s);
    return run(s, Q_OAUTH_DEVICE_INSERT, &p, NULL);
}

static enum rc s_oauth_device_take(struct store *st_, const char *digest, int64_t now,
                                   struct store_oauth_device *out)
{
    SELF;
    return take_row(s, Q_OAUTH_DEVICE_USE, Q_OAUTH_DEVICE_GET, digest, now, read_oauth_device, out);
}

static enum rc s_oauth_device_poll(struct store *st_, const char *digest, int64_t now,
                                   int64_t interval_s)
{
    SELF;
    struct params p = {0};
    add_text(&p, digest);
    add_int(&p, now);
    add_int(&p, interval_s);
    return run_changing(s, Q_OAUTH_DEVICE_POLL, &p);
}

static enum rc s_oauth_device_by_user_code(struct store *st_, const char *user_code,
                                           struct store_oauth_device *out)
{
    SELF;
    struct params p = {0};
    add_text(&p, user_code);
    return fetch_row(s, Q_OAUTH_DEVICE_BY_USER_CODE, &p, read_oauth_device, out);
}

static enum rc s_oauth_device_decide(struct store *st_, const char *user_code, const char *user_id,
                                     const char *status, int64_t now)
{
    SELF;
    struct params p = two_texts(user_code, user_id);
    add_text(&p, status);
    add_int(&p, now);
    enum rc rc = run_changing(s, Q_OAUTH_DEVICE_DECIDE, &p);
    return rc == RC_NOT_FOUND ? RC_CONFLICT : rc;
}

static enum rc s_oauth_logins_for_user(struct store *st_, const char *user_id, int64_t now,
                                       struct store_oauth_login **list, size_t *count)
{
    SELF;
    struct params p = {0};
    add_text(&p, user_id);
    add_int(&p, now);
    return fetch_all(s, Q_OAUTH_LOGINS_FOR_USER, &p, sizeof **list, read_oauth_login, (void **)list,
                     count);
}

static enum rc s_oauth_revoke_user(struct store *st_, const char *user_id, int64_t now)
{
    SELF;
    struct params p = {0};
    add_text(&p, user_id);
    add_int(&p, now);
    enum rc rc = run(s, Q_OAUTH_USER_RT_REVOKE, &p, NULL);
    return rc == RC_OK ? run(s, Q_OAUTH_USER_AT_REVOKE, &p, NULL) : rc;
}

static enum rc s_web_sessions_delete_user(struct store *st_, const char *user_id)
{
    SELF;
    struct params p = {0};
    add_text(&p, user_id);
    return run(s, Q_WS_DELETE_USER, &p, NULL);
}

static enum rc s_purge_expired(struct store *st_, int64_t before, int64_t *removed)
{
    SELF;
    static const enum query purges[] = {Q_PURGE_CODES, Q_PURGE_DEVICE_CODES, Q_PURGE_WEB_SESSIONS,
                                        Q_PURGE_EMAIL_CODES};
    *removed = 0;
    for (size_t i = 0; i < sizeof purges / sizeof purges[0]; i++) {
        struct params p = {0};
        add_int(&p, before);
        int changes = 0;
        enum rc rc = run(s, purges[i], &p, &changes);
        if (rc != RC_OK)
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
    struct params p = two_texts(u->id, u->email);
    add_text(&p, u->name);
    add_int(&p, u->created_at);
    add_text(&p, password_hash);
    return run(s, Q_SIGNUP_USER_INSERT, &p, NULL);
}

static void read_verified(const PGresult *r, int row, void *out)
{
    *(int *)out = col_int(r, row, 0) != 0;
}

static enum rc s_user_email_verified(struct store *st_, const char *user_id, int *verified)
{
    SELF;
    struct params p = {0};
    add_text(&p, user_id);
    return fetch_row(s, Q_USER_VERIFIED, &p, read_verified, verified);
}

static void read_email_code(const PGresult *r, int row, void *out)
{
    struct store_email_code *e = out;
    col(r, row, 0, e->digest, sizeof e->digest);
    col(r, row, 1, e->user_id, sizeof e->user_id);
    e->created_at = col_int(r, row, 2);
    e->expires_at = col_int(r, row, 3);
    e->used_at = col_int(r, row, 4);
}

static enum rc s_email_code_insert(struct store *st_, const struct store_email_code *e)
{
    SELF;
    struct params p = two_texts(e->digest, e->user_id);
    add_int(&p, e->created_at);
    add_int(&p, e->expires_at);
    return run(s, Q_EMAIL_CODE_INSERT, &p, NULL);
}

static enum rc s_email_code_get(struct store *st_, const char *digest, struct store_email_code *out)
{
    SELF;
    struct params p = {0};
    add_text(&p, digest);
    return fetch_row(s, Q_EMAIL_CODE_GET, &p, read_email_code, out);
}

struct email_code_take_args {
    const char *digest;
    int64_t now;
    struct store_email_code *out;
};

static enum rc email_code_take_body(struct pg_store *s, struct conn *c, void *arg)
{
    struct email_code_take_args *a = arg;
    PGresult *r = NULL;
    struct params p = {0};
    add_text(&p, a->digest);
    add_int(&p, a->now);
    enum rc rc = tx_query(s, c, Q_EMAIL_CODE_USE, &p, &r);
    if (rc != RC_OK)
        return rc;
    long changes = strtol(PQcmdTuples(r), NULL, 10);
    PQclear(r);
    r = NULL;
    struct params q = {0};
    add_text(&q, a->digest);
    if ((rc = tx_query(s, c, Q_EMAIL_CODE_GET, &q, &r)) != RC_OK)
        return rc;
    if (PQntuples(r) != 1) {
        PQclear(r);
        return RC_NOT_FOUND;
    }
    read_email_code(r, 0, a->out);
    PQclear(r);
    if (changes == 0)
        return RC_CONFLICT;
    struct params u = {0};
    add_text(&u, a->out->user_id);
    return tx_query(s, c, Q_USER_SET_VERIFIED, &u, NULL);
}

static enum rc s_email_code_take(struct store *st_, const char *digest, int64_t now,
                                 struct store_email_code *out)
{
    SELF;
    struct email_code_take_args a = {digest, now, out};
    return transaction(s, email_code_take_body, &a);
}

static void read_invitation(const PGresult *r, int row, void *out)
{
    struct store_invitation *i = out;
    col(r, row, 0, i->id, sizeof i->id);
    col(r, row, 1, i->org_id, sizeof i->org_id);
    col(r, row, 2, i->email, sizeof i->email);
    col(r, row, 3, i->role, sizeof i->role);
    col(r, row, 4, i->invited_by, sizeof i->invited_by);
    i->created_at = col_int(r, row, 5);
    i->expires_at = col_int(r, row, 6);
    col(r, row, 7, i->status, sizeof i->status);
    i->decided_at = col_int(r, row, 8);
    col(r, row, 9, i->org_name, sizeof i->org_name);
    col(r, row, 10, i->org_verbose_name, sizeof i->org_verbose_name);
    col(r, row, 11, i->inviter_email, sizeof i->inviter_email);
}

static enum rc invitation_insert_body(struct pg_store *s, struct conn *c, void *arg)
{
    const struct store_invitation *inv = arg;
    struct params p = two_texts(inv->org_id, inv->email);
    add_int(&p, inv->created_at);
    enum rc rc = tx_query(s, c, Q_INVITATIONS_SUPERSEDE, &p, NULL);
    if (rc != RC_OK)
        return rc;
    struct params q = two_texts(inv->id, inv->org_id);
    add_text(&q, inv->email);
    add_text(&q, inv->role);
    add_text(&q, inv->invited_by);
    add_int(&q, inv->created_at);
    add_int(&q, inv->expires_at);
    return tx_query(s, c, Q_INVITATION_INSERT, &q, NULL);
}

static enum rc s_invitation_insert(struct store *st_, const struct store_invitation *inv)
{
    SELF;
    return transaction(s, invitation_insert_body, (void *)inv);
}

static enum rc invitations_for(struct pg_store *s, enum query q, const char *key, int64_t now,
                               struct store_invitation **list, size_t *count)
{
    struct params p = {0};
    add_text(&p, key);
    add_int(&p, now);
    return fetch_all(s, q, &p, sizeof **list, read_invitation, (void **)list, count);
}

static enum rc s_invitations_for_org(struct store *st_, const char *org_id, int64_t now,
                                     struct store_invitation **list, size_t *count)
{
    SELF;
    return invitations_for(s, Q_INVITATIONS_FOR_ORG, org_id, now, list, count);
}

static enum rc s_invitations_for_email(struct store *st_, const char *email, int64_t now,
                                       struct store_invitation **list, size_t *count)
{
    SELF;
    return invitations_for(s, Q_INVITATIONS_FOR_EMAIL, email, now, list, count);
}

struct invitation_decide_args {
    const char *id, *user_id;
    int accept;
    int64_t now;
    struct store_invitation *out;
};

static enum rc invitation_decide_body(struct pg_store *s, struct conn *c, void *arg)
{
    struct invitation_decide_args *a = arg;
    PGresult *r = NULL;
    struct params p = {0};
    add_text(&p, a->id);
    enum rc rc = tx_query(s, c, Q_INVITATION_GET, &p, &r);
    if (rc != RC_OK)
        return rc;
    if (PQntuples(r) != 1) {
        PQclear(r);
        return RC_NOT_FOUND;
    }
    read_invitation(r, 0, a->out);
    PQclear(r);
    r = NULL;
    struct params u = {0};
    add_text(&u, a->user_id);
    if ((rc = tx_query(s, c, Q_USER_VERIFIED, &u, &r)) != RC_OK)
        return rc;
    int mine = PQntuples(r) == 1 && col_int(r, 0, 0) != 0 &&
               strcasecmp(PQgetvalue(r, 0, 1), a->out->email) == 0;
    PQclear(r);
    if (!mine)
        return RC_NOT_FOUND;
    if (strcmp(a->out->status, "pending") != 0 || a->out->expires_at <= a->now)
        return RC_CONFLICT;
    if (a->accept) {
        struct params m = two_texts(a->user_id, a->out->org_id);
        add_text(&m, a->out->role);
        add_int(&m, a->now);
        if ((rc = tx_query(s, c, Q_MEMBER_JOIN, &m, NULL)) != RC_OK)
            return rc;
    }
    struct params d = two_texts(a->id, a->accept ? "accepted" : "declined");
    add_int(&d, a->now);
    if ((rc = tx_change(s, c, Q_INVITATION_DECIDED, &d)) != RC_OK)
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
    struct params p = two_texts(org_id, id);
    add_int(&p, now);
    return run_changing(s, Q_INVITATION_REVOKE, &p);
}

static void s_close(struct store *st_)
{
    SELF;
    struct conn *c = s->conns;
    while (c) {
        struct conn *next = c->next;
        conn_free(c);
        c = next;
    }
    pthread_key_delete(s->key);
    pthread_mutex_destroy(&s->lock);
    store_error_release(&s->base);
    free(s->url);
    free(s);
}

/* --- Daily API keys left in plaintext (migration 0010) ------------------------------------ */

static void read_legacy_daily_key(const PGresult *r, int row, void *out)
{
    struct store_legacy_daily_key *k = out;
    col(r, row, 0, k->org_id, sizeof k->org_id);
    col(r, row, 1, k->key, sizeof k->key);
}

static enum rc s_daily_keys_legacy(struct store *st_, struct store_legacy_daily_key **list,
                                   size_t *count)
{
    SELF;
    struct params p = {0};
    return fetch_all(s, Q_DAILY_LEGACY_LIST, &p, sizeof **list, read_legacy_daily_key,
                     (void **)list, count);
}

static enum rc s_daily_key_seal_legacy(struct store *st_, const char *org_id, const char *sealed)
{
    SELF;
    struct params p = two_texts(org_id, sealed);
    return run_changing(s, Q_DAILY_LEGACY_SEAL, &p);
}

static const struct store_ops pg_ops = {
    .close = s_close,
    .purge_expired = s_purge_expired,
    .credential_generation = s_credential_generation,
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

enum rc store_pg_open(const char *url, struct store **out, char *err, size_t errlen)
{
    struct pg_store *s = NULL;
    enum rc rc = RC_OK;
    *out = NULL;
    if (!PQisthreadsafe()) {
        snprintf(err, errlen, "libpq was built without thread safety");
        return RC_INTERNAL;
    }
    /* Reject a malformed URL here. libpq's reason quotes the URL, which may hold a password,
     * so it is not passed on. */
    char *why = NULL;
    PQconninfoOption *opts = PQconninfoParse(url, &why);
    PQfreemem(why);
    if (!opts) {
        snprintf(err, errlen,
                 "invalid database URL: expected "
                 "postgres://USER[:PASSWORD]@HOST[:PORT]/DATABASE[?PARAM=VALUE&...]");
        return RC_INVALID;
    }
    PQconninfoFree(opts);

    if (!(s = calloc(1, sizeof *s)))
        return RC_NOMEM;
    s->base.ops = &pg_ops;
    if (store_error_init(&s->base) != RC_OK) {
        free(s);
        return RC_NOMEM;
    }
    pthread_mutex_init(&s->lock, NULL);
    if (!(s->url = strdup(url)) || pthread_key_create(&s->key, thread_exit) != 0) {
        pthread_mutex_destroy(&s->lock);
        store_error_release(&s->base);
        free(s->url);
        free(s);
        return RC_NOMEM;
    }
    /* Connect now so a wrong URL or an unreachable server fails here, not on the first request. */
    struct conn *c;
    int connects = 1;
    if ((rc = get_conn(s, &c, &connects)) != RC_OK) {
        snprintf(err, errlen, "%s", store_last_error(&s->base));
        s_close(&s->base);
        return rc;
    }
    *out = &s->base;
    return RC_OK;
}
