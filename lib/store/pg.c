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
#include <time.h>

#include <libpq-fe.h>

#include "log.h"
#include "store_backend.h"
#include "banned.h"

#define CONNECT_TIMEOUT "5"        /* seconds, unless the URL sets connect_timeout */
#define RECONNECT_INTERVAL_MS 1000 /* while the database is down: at most one attempt per this */
#define MAX_PARAMS 10
/* The advisory lock that serialises migrations across nodes; its key is "pcc" in ASCII. */
#define MIGRATION_LOCK_SQL "SELECT pg_advisory_xact_lock(7365475)"

enum { READ, WRITE }; /* a write is never retried once it may have reached the server */

/* Every statement the backend runs: the texts of sqlite.c, adapted where PostgreSQL differs. */
#define SQL_TABLE(X)                                                                           \
    X(Q_USER_INSERT, WRITE,                                                                    \
      "INSERT INTO users (id, email, name, created_at) VALUES ($1, $2, $3, $4)")               \
    X(Q_USER_BY_EMAIL, READ, "SELECT id, email, name, created_at FROM users WHERE email = $1") \
    X(Q_USER_BY_ID, READ, "SELECT id, email, name, created_at FROM users WHERE id = $1")       \
    X(Q_ORG_INSERT, WRITE,                                                                     \
      "INSERT INTO organizations (id, name, verbose_name, daily_api_key, created_at) "         \
      "VALUES ($1, $2, $3, $4, $5)")                                                           \
    X(Q_ORG_BY_NAME, READ,                                                                     \
      "SELECT id, name, verbose_name, daily_api_key, created_at, '' "                          \
      "FROM organizations WHERE name = $1")                                                    \
    X(Q_ORG_SET_DAILY, WRITE, "UPDATE organizations SET daily_api_key = $2 WHERE id = $1")     \
    X(Q_MEMBER_PUT, WRITE,                                                                     \
      "INSERT INTO memberships (user_id, org_id, role, created_at, position) VALUES ($1, $2, "  \
      "$3, $4, (SELECT coalesce(max(position), 0) + 1 FROM memberships WHERE user_id = $1)) "   \
      "ON CONFLICT (user_id, org_id) DO UPDATE SET role = EXCLUDED.role")                      \
    X(Q_ORGS_FOR_USER, READ,                                                                   \
      "SELECT o.id, o.name, o.verbose_name, o.daily_api_key, o.created_at, m.role "            \
      "FROM memberships m JOIN organizations o ON o.id = m.org_id "                            \
      "WHERE m.user_id = $1 ORDER BY m.position, o.name")                                    \
    X(Q_ORG_FOR_MEMBER, READ,                                                                  \
      "SELECT o.id, o.name, o.verbose_name, o.daily_api_key, o.created_at, m.role "            \
      "FROM memberships m JOIN organizations o ON o.id = m.org_id "                            \
      "WHERE m.user_id = $1 AND o.name = $2")                                                  \
    X(Q_TOKEN_INSERT, WRITE,                                                                   \
      "INSERT INTO tokens (id, user_id, kind, name, display, digest, scopes, org_id, "         \
      "created_at, expires_at) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10)")              \
    X(Q_TOKEN_LOOKUP, READ,                                                                    \
      "SELECT " TOKEN_COLUMNS ", u.id, u.email, u.name, u.created_at "                         \
      "FROM tokens t JOIN users u ON u.id = t.user_id WHERE t.digest = $1")                    \
    X(Q_TOKEN_BY_ID, READ,                                                                     \
      "SELECT " TOKEN_COLUMNS " FROM tokens t WHERE t.user_id = $1 AND t.id = $2")             \
    X(Q_TOKENS_FOR_USER, READ,                                                                 \
      "SELECT " TOKEN_COLUMNS " FROM tokens t WHERE t.user_id = $1 AND t.revoked_at = 0 "      \
      "ORDER BY t.created_at, t.id")                                                           \
    X(Q_TOKEN_REVOKE, WRITE,                                                                   \
      "UPDATE tokens SET revoked_at = $3 WHERE user_id = $1 AND id = $2 AND revoked_at = 0")   \
    X(Q_TOKEN_TOUCH, WRITE,                                                                    \
      "UPDATE tokens SET last_used_at = $2, last_used_ip = $3, last_used_agent = $4 "          \
      "WHERE id = $1")                                                                         \
    X(Q_TOKEN_COUNT, READ, "SELECT count(*) FROM tokens")                                      \
    X(Q_AUDIT_INSERT, WRITE,                                                                   \
      "INSERT INTO audit_events (at, event, user_id, token_id, org_id, ip, detail) "           \
      "VALUES ($1, $2, $3, $4, $5, $6, $7) RETURNING id")                                      \
    X(Q_AUDIT_FOR_USER, READ,                                                                  \
      "SELECT id, at, event, user_id, token_id, org_id, ip, detail FROM audit_events "         \
      "WHERE user_id = $1 AND id < $2 ORDER BY id DESC LIMIT $3")

#define TOKEN_COLUMNS                                                                          \
    "t.id, t.user_id, t.kind, t.name, t.display, t.digest, t.scopes, coalesce(t.org_id, ''), " \
    "t.created_at, t.expires_at, t.last_used_at, t.revoked_at, t.last_used_ip, "               \
    "t.last_used_agent"
#define TOKEN_COLUMN_COUNT 14

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
    PGconn *pg;   /* NULL before the first connect and after a failure dropped it */
    bool doomed;  /* the server said FATAL outside a query: it is closing the connection */
    bool prepared[Q__COUNT];
    struct conn *next;
};

struct pg_store {
    struct store base;
    char *url;
    pthread_key_t key;
    pthread_mutex_t lock; /* guards conns, the fields below and writes to base.last_error */
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

static int64_t now_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

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

/* Record the detail of a failure in last_error and, when log is set, in the log. */
static void set_error(struct pg_store *s, bool log, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
static void set_error(struct pg_store *s, bool log, const char *fmt, ...)
{
    char msg[sizeof s->base.last_error];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof msg, fmt, ap);
    va_end(ap);
    one_line(msg);
    pthread_mutex_lock(&s->lock);
    memcpy(s->base.last_error, msg, sizeof msg);
    pthread_mutex_unlock(&s->lock);
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
    if (strcmp(state, "23505") == 0 || strcmp(state, "23514") == 0 ||
        strcmp(state, "23503") == 0)
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
    int64_t start = now_ms();
    pthread_mutex_lock(&s->lock);
    if (s->down_since_ms &&
        (s->probing || start - s->last_attempt_ms < RECONNECT_INTERVAL_MS)) {
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
    static const char *const keys[] = {"connect_timeout",  "application_name",
                                       "keepalives_idle",  "keepalives_interval",
                                       "keepalives_count", "tcp_user_timeout",
                                       "dbname",           NULL};
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
                     now_ms() - s->down_since_ms);
        s->down_since_ms = 0;
    } else {
        s->last_attempt_ms = now_ms();
        if (!s->down_since_ms)
            s->down_since_ms = s->last_attempt_ms;
        memcpy(s->down_reason, s->base.last_error, sizeof s->down_reason - 1);
        s->down_reason[sizeof s->down_reason - 1] = '\0';
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
            return RC_UNAVAILABLE; /* last_error already says why */
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
    col(r, row, 3, o->daily_api_key, sizeof o->daily_api_key);
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
static enum rc fetch_all(struct pg_store *s, enum query q, const struct params *p,
                         size_t elem_size, void (*reader)(const PGresult *, int, void *),
                         void **list, size_t *count)
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
    return run(s, Q_USER_INSERT, &p, NULL);
}

static enum rc user_by(struct pg_store *s, enum query q, const char *key, struct store_user *out)
{
    struct params p = {0};
    PGresult *r;
    add_text(&p, key);
    enum rc rc = fetch_one(s, q, &p, &r);
    if (rc == RC_OK)
        read_user(r, 0, 0, out);
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
    add_text(&p, o->daily_api_key);
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

static enum rc s_org_set_daily_key(struct store *st_, const char *org_id, const char *key)
{
    SELF;
    struct params p = {0};
    add_text(&p, org_id);
    add_text(&p, key ? key : "");
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
    if (rc == RC_OK)
        read_org(r, 0, out);
    PQclear(r);
    return rc;
}

static enum rc s_token_insert(struct store *st_, const struct store_token *t)
{
    SELF;
    struct params p = {0};
    add_text(&p, t->id);
    add_text(&p, t->user_id);
    add_int(&p, t->kind);
    add_text(&p, t->name);
    add_text(&p, t->display);
    add_text(&p, t->digest);
    add_text(&p, t->scopes);
    add_optional(&p, t->org_id);
    add_int(&p, t->created_at);
    add_int(&p, t->expires_at);
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

static enum rc s_tokens_for_user(struct store *st_, const char *user_id,
                                 struct store_token **list, size_t *count)
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

static enum rc s_token_touch(struct store *st_, const char *token_id, int64_t now,
                             const char *ip, const char *agent)
{
    SELF;
    struct params p = {0};
    add_text(&p, token_id);
    add_int(&p, now);
    add_text(&p, ip ? ip : "");
    add_text(&p, agent ? agent : "");
    return run(s, Q_TOKEN_TOUCH, &p, NULL);
}

static enum rc s_token_count(struct store *st_, int64_t *count)
{
    SELF;
    PGresult *r;
    enum rc rc = fetch_one(s, Q_TOKEN_COUNT, NULL, &r);
    if (rc == RC_OK)
        *count = col_int(r, 0, 0);
    PQclear(r);
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

struct migrate_state {
    int applied;
};

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
        log_warn("pg: the database schema (version %d) is newer than this pccd knows (%d)",
                 current, known);
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
        snprintf(err, errlen, "%s", s->base.last_error);
    if (applied)
        *applied = rc == RC_OK ? m.applied : 0;
    return rc;
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
    free(s->url);
    free(s);
}

static const struct store_ops pg_ops = {
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
        snprintf(err, errlen, "invalid database URL: expected "
                              "postgres://USER[:PASSWORD]@HOST[:PORT]/DATABASE[?PARAM=VALUE&...]");
        return RC_INVALID;
    }
    PQconninfoFree(opts);

    if (!(s = calloc(1, sizeof *s)))
        return RC_NOMEM;
    s->base.ops = &pg_ops;
    pthread_mutex_init(&s->lock, NULL);
    if (!(s->url = strdup(url)) || pthread_key_create(&s->key, thread_exit) != 0) {
        pthread_mutex_destroy(&s->lock);
        free(s->url);
        free(s);
        return RC_NOMEM;
    }
    /* Connect now so a wrong URL or an unreachable server fails here, not on the first request. */
    struct conn *c;
    int connects = 1;
    if ((rc = get_conn(s, &c, &connects)) != RC_OK) {
        snprintf(err, errlen, "%s", s->base.last_error);
        s_close(&s->base);
        return rc;
    }
    *out = &s->base;
    return RC_OK;
}
