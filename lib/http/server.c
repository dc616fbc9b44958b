/* server.c: libmicrohttpd glue: limits, request lifecycle, routing and JSON replies. */
#include <arpa/inet.h>
#include <errno.h>
#include <netdb.h>
#include <netinet/in.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/socket.h>
#include <linux/tcp.h> /* struct tcp_info with tcpi_bytes_received (glibc's has not) */
#include <stddef.h>
#include <time.h>
#include <unistd.h>

#include <microhttpd.h>

#include "http.h"
#include "json.h"
#include "log.h"
#include "token.h"
#include "text.h"
#include "timefmt.h"
#include "banned.h"

/* MHD's own per-connection pool; headers beyond HTTP_MAX_HEADER_BYTES but inside this pool get
 * our JSON 431, larger ones MHD's built-in 431 (it offers no hook to change that body). MHD
 * zeroes the pool between requests, so it is kept small: it costs time on every request. */
#define CONNECTION_MEMORY_BYTES ((size_t)32 << 10)
#define LISTEN_BACKLOG 1024
/* A year; not includeSubDomains: other hosts under this name may be other services. */
#define HTTP_HSTS "max-age=31536000"
#define WATCHDOG_TICK_MS 250

/* Every connection, from accept to close, as the connection watchdog sees it. libmicrohttpd's
 * --timeout is an idle timeout only: a client that trickles a header line every few seconds
 * keeps its connection for ever, and over TLS no timeout at all runs during the handshake. So
 * each request must arrive whole (headers and body) within the request deadline of its first
 * byte, or the watchdog shuts its socket down; and when connections run short, the slowest
 * incomplete ones are shed to make room for new ones. */
enum conn_state {
    CONN_READING,  /* a request is arriving: since = its first byte (or the accept) */
    CONN_IDLE,     /* between keep-alive requests: bytes_seen = bytes received so far */
    CONN_HANDLING, /* the request is whole: the handler or the response is under way */
};

struct conn_track {
    struct conn_track *prev, *next;
    int fd;
    int cut;          /* shut down by the watchdog or the shedding; closing */
    atomic_int first; /* still on the connection's first request (its TLS handshake included) */
    atomic_int state;
    atomic_llong since;       /* CLOCK_MONOTONIC milliseconds the state began */
    atomic_ullong bytes_seen; /* CONN_IDLE: tcpi_bytes_received when it began */
};

struct http_server {
    struct MHD_Daemon *daemon;
    struct http_config cfg;
    unsigned port;
    int fd;
    int tls; /* serving HTTPS itself */
    /* The connection watchdog and the connections it watches (under track_lock). */
    pthread_mutex_t track_lock;
    pthread_cond_t track_wake;
    struct conn_track *tracked;     /* newest first */
    unsigned live;                  /* tracked and not cut */
    unsigned shed_above;            /* shed the slowest incomplete connection past this many */
    long long request_ms, first_ms; /* deadlines: any request; a TLS connection's first */
    atomic_uint shed_count;         /* since the watchdog last logged */
    pthread_t watchdog;
    int watchdog_running;
    int wake_ready; /* track_wake initialised */
    int stopping;
    char id_prefix[8]; /* random per process, so request ids are unique across restarts */
    atomic_ulong next_id;
    /* The slow-work threads (HTTP_ROUTE_SLOW) and the requests waiting for them. */
    pthread_mutex_t slow_lock;
    pthread_cond_t slow_wake;
    struct http_request *slow_head, *slow_tail;
    size_t slow_queued;
    int slow_stopping;
    unsigned slow_count;
    pthread_t slow_threads[4];
};

struct http_request {
    struct http_server *srv;
    struct MHD_Connection *conn;
    const char *method;
    char path[HTTP_MAX_PATH];
    struct buf body;
    int body_too_large;
    size_t param_count;
    const char *param_names[HTTP_MAX_PARAMS];
    size_t param_name_lens[HTTP_MAX_PARAMS];
    char param_values[HTTP_MAX_PARAMS][256];
    char log_path[HTTP_MAX_PATH]; /* path with anything token-shaped redacted, for logs */
    char ip[64];
    char request_id[32];
    void *principal;
    void (*principal_free)(void *);
    const struct http_route *route;
    struct conn_track *track; /* the connection's, or NULL */
    struct timespec started;
    /* HTTP_ROUTE_SLOW: the answer a slow-work thread made, and the queue link. */
    struct http_response *pending_res; /* owned by the slow-work thread while queued */
    struct http_response *slow_res;    /* the answer, once made */
    struct http_request *slow_next;
};

void *http_app(const struct http_request *req) { return req->srv->cfg.app; }
const char *http_method(const struct http_request *req) { return req->method; }
const char *http_path(const struct http_request *req) { return req->path; }
const char *http_client_ip(const struct http_request *req) { return req->ip; }
const char *http_request_id(const struct http_request *req) { return req->request_id; }
void http_set_principal(struct http_request *req, void *principal, void (*free_fn)(void *))
{
    req->principal = principal;
    req->principal_free = free_fn;
}
void *http_principal(const struct http_request *req) { return req->principal; }
const struct http_route *http_matched_route(const struct http_request *req) { return req->route; }

const char *http_param(const struct http_request *req, const char *name)
{
    size_t len = strlen(name);
    for (size_t i = 0; i < req->param_count; i++)
        if (req->param_name_lens[i] == len && memcmp(req->param_names[i], name, len) == 0)
            return req->param_values[i];
    return NULL;
}

const char *http_header(const struct http_request *req, const char *name)
{
    return MHD_lookup_connection_value(req->conn, MHD_HEADER_KIND, name);
}

const char *http_query(const struct http_request *req, const char *name)
{
    return MHD_lookup_connection_value(req->conn, MHD_GET_ARGUMENT_KIND, name);
}

const char *http_body(const struct http_request *req, size_t *len)
{
    if (len)
        *len = req->body.len;
    return buf_str(&req->body);
}

void http_reply(struct http_response *res, int status, json_t *body)
{
    if (res->body)
        json_decref(res->body);
    free(res->raw);
    res->raw = NULL;
    res->content_type = NULL;
    res->status = status;
    res->body = body;
}

void http_reply_raw(struct http_response *res, int status, const char *content_type,
                    const char *cache_control, char *body, size_t len)
{
    if (res->body)
        json_decref(res->body);
    res->body = NULL;
    free(res->raw);
    res->status = status;
    res->raw = body;
    res->raw_len = body ? len : 0;
    res->content_type = content_type;
    res->cache_control = cache_control;
}

const char *http_cookie(const struct http_request *req, const char *name)
{
    return MHD_lookup_connection_value(req->conn, MHD_COOKIE_KIND, name);
}

int http_secure(const struct http_request *req)
{
    if (req->srv->tls)
        return 1;
    const char *proto = http_header(req, "X-Forwarded-Proto");
    return req->srv->cfg.trust_proxy && proto && strcasecmp(proto, "https") == 0;
}

/* Whether to send Strict-Transport-Security over our own TLS: not to "localhost" names, where
 * browsers would then refuse plain http:// to every other port of the machine (they ignore the
 * header for IP addresses by themselves). */
static int hsts_applies(const struct http_request *req)
{
    const char *host = http_header(req, "Host");
    if (!host)
        return 1;
    size_t n = host[0] == '[' ? strcspn(host, "]") : strcspn(host, ":");
    static const char local[] = "localhost";
    size_t ln = sizeof local - 1;
    if (n == ln && strncasecmp(host, local, ln) == 0)
        return 0;
    return !(n > ln && host[n - ln - 1] == '.' && strncasecmp(host + n - ln, local, ln) == 0);
}

void http_add_header(struct http_response *res, const char *name, const char *value)
{
    if (res->header_count >= HTTP_MAX_EXTRA_HEADERS)
        return;
    snprintf(res->headers[res->header_count].name, sizeof res->headers[0].name, "%s", name);
    snprintf(res->headers[res->header_count].value, sizeof res->headers[0].value, "%s", value);
    res->header_count++;
}

void http_error(struct http_request *req, struct http_response *res, enum rc rc,
                const char *message)
{
    int status = rc_http_status(rc);
    if (status < 400)
        status = 500;
    if (status >= 500) {
        /* Internals stay in the log; the caller gets the request id to quote. A refusal of
         * what this server does not offer is no failure of it: info, not error. */
        if (rc_is_refusal(rc))
            log_info("request %s: %s %s refused: %s (%s)", req ? req->request_id : "-",
                     req ? req->method : "-", req ? req->log_path : "-", rc_name(rc),
                     message ? message : rc_message(rc));
        else
            log_error("request %s: %s %s failed: %s (%s)", req ? req->request_id : "-",
                      req ? req->method : "-", req ? req->log_path : "-", rc_name(rc),
                      message ? message : rc_message(rc));
        char text[128];
        snprintf(text, sizeof text, "%s (request id %s)", rc_message(rc),
                 req ? req->request_id : "-");
        http_reply(res, status, json_pack("{s:s, s:s}", "error", text, "code", rc_api_code(rc)));
        return;
    }
    http_reply(res, status,
               json_pack("{s:s, s:s}", "error", message ? message : rc_message(rc), "code",
                         rc_api_code(rc)));
}

json_t *http_json_body(struct http_request *req, struct http_response *res,
                       const char *const allowed[])
{
    const char *ctype = http_header(req, "Content-Type");
    /* The media type exactly (parameters such as charset may follow): not application/jsonp. */
    if (ctype && (strncasecmp(ctype, "application/json", 16) != 0 ||
                  (ctype[16] && ctype[16] != ';' && ctype[16] != ' ' && ctype[16] != '\t'))) {
        http_error(req, res, RC_UNSUPPORTED_MEDIA, NULL);
        return NULL;
    }
    char err[256];
    json_t *obj = NULL;
    enum rc rc;
    if (req->body.len == 0) {
        http_error(req, res, RC_BAD_JSON, "malformed JSON: the request body is empty");
        return NULL;
    }
    if ((rc = json_parse_object(req->body.data, req->body.len, &obj, err, sizeof err)) != RC_OK ||
        (rc = json_check_fields(obj, allowed, err, sizeof err)) != RC_OK) {
        json_decref(obj);
        http_error(req, res, rc, err);
        return NULL;
    }
    return obj;
}

/* Match path against pattern segment by segment, capturing {name} segments into req. */
static int route_matches(struct http_request *req, const char *pattern)
{
    const char *p = pattern, *s = req->path;
    size_t nparams = 0;
    while (*p && *s) {
        if (*p != '/' || *s != '/')
            return 0;
        p++;
        s++;
        const char *pend = strchr(p, '/'), *send = strchr(s, '/');
        size_t plen = pend ? (size_t)(pend - p) : strlen(p);
        size_t slen = send ? (size_t)(send - s) : strlen(s);
        if (plen >= 2 && p[0] == '{' && p[plen - 1] == '}') {
            if (slen == 0 || slen >= sizeof req->param_values[0] || nparams >= HTTP_MAX_PARAMS)
                return 0;
            req->param_names[nparams] = p + 1;
            req->param_name_lens[nparams] = plen - 2;
            memcpy(req->param_values[nparams], s, slen);
            req->param_values[nparams][slen] = '\0';
            nparams++;
        } else if (plen != slen || memcmp(p, s, plen) != 0) {
            return 0;
        }
        p += plen;
        s += slen;
    }
    if (*p || *s)
        return 0;
    req->param_count = nparams;
    return 1;
}

/* The route's authentication hook, then its handler. */
static void authenticate_and_handle(struct http_request *req, struct http_response *res,
                                    const struct http_route *r)
{
    const struct http_config *cfg = &req->srv->cfg;
    if ((r->flags & HTTP_ROUTE_AUTH) && cfg->authenticate && cfg->authenticate(req, res) != RC_OK)
        return;
    if (r->flags & HTTP_ROUTE_PUBLIC_KEY) {
        /* Fail closed: a key route without its hook is never served unauthenticated. */
        if (!cfg->authenticate_public_key) {
            http_error(req, res, RC_UNAUTHORIZED, NULL);
            return;
        }
        if (cfg->authenticate_public_key(req, res) != RC_OK)
            return;
    }
    r->handler(req, res);
}

/* Run the matched route (req->route) inside the application's request bracket. */
static void run_route(struct http_request *req, struct http_response *res)
{
    const struct http_config *cfg = &req->srv->cfg;
    if (cfg->route_begin)
        cfg->route_begin(cfg->app);
    authenticate_and_handle(req, res, req->route);
    if (cfg->route_end)
        cfg->route_end(cfg->app);
}

/* 1 when s holds a control byte (C0 or DEL; unescape() turns an escaped one into DEL). */
static int has_control_byte(const char *s)
{
    for (; *s; s++)
        if ((unsigned char)*s < 0x20 || *s == 0x7f)
            return 1;
    return 0;
}

/* Match req against the routes, once per request: the route (also left in req->route, its
 * {params} filled), or NULL after putting 404, or 405 with Allow, or 400 for a path with a
 * control byte (no route or handler ever sees one), into res. */
static const struct http_route *match_route(struct http_request *req, struct http_response *res)
{
    const struct http_config *cfg = &req->srv->cfg;
    if (has_control_byte(req->path)) {
        http_error(req, res, RC_INVALID, "the request path contains a control character");
        return NULL;
    }
    const char *method = strcmp(req->method, "HEAD") == 0 ? "GET" : req->method;
    int path_known = 0;
    for (size_t i = 0; i < cfg->route_count; i++) {
        const struct http_route *r = &cfg->routes[i];
        if (!route_matches(req, r->pattern))
            continue;
        path_known = 1;
        if (strcmp(r->method, method) != 0)
            continue;
        req->route = r;
        return r;
    }
    if (path_known) {
        char allow[128] = "";
        size_t used = 0;
        for (size_t i = 0; i < cfg->route_count; i++)
            if (route_matches(req, cfg->routes[i].pattern) && used < sizeof allow)
                used += (size_t)snprintf(allow + used, sizeof allow - used, "%s%s",
                                         used ? ", " : "", cfg->routes[i].method);
        http_add_header(res, "Allow", allow);
        char msg[160];
        snprintf(msg, sizeof msg, "method %s not allowed here; allowed: %s", req->method, allow);
        http_error(req, res, RC_METHOD, msg);
        return NULL;
    }
    http_error(req, res, RC_NOT_FOUND, "no such endpoint");
    return NULL;
}

static enum MHD_Result send_response(struct http_request *req, struct http_response *res)
{
    char *text;
    size_t text_len;
    if (res->content_type) { /* http_reply_raw */
        text = res->raw;
        text_len = res->raw_len;
        res->raw = NULL;
    } else {
        if (!res->body)
            res->body = json_pack("{s:s}", "status", "OK");
        text = res->body ? json_to_string(res->body) : NULL;
        if (!text)
            return MHD_NO;
        text_len = strlen(text);
    }
    struct MHD_Response *r = MHD_create_response_from_buffer(text_len, text, MHD_RESPMEM_MUST_FREE);
    if (!r) {
        free(text);
        return MHD_NO;
    }
    MHD_add_response_header(r, "Content-Type",
                            res->content_type ? res->content_type : "application/json");
    MHD_add_response_header(r, "Cache-Control",
                            res->cache_control ? res->cache_control : "no-store");
    MHD_add_response_header(r, "X-Content-Type-Options", "nosniff");
    MHD_add_response_header(r, "X-Request-Id", req->request_id);
    if (req->srv->tls && hsts_applies(req))
        MHD_add_response_header(r, "Strict-Transport-Security", HTTP_HSTS);
    for (size_t i = 0; i < res->header_count; i++)
        MHD_add_response_header(r, res->headers[i].name, res->headers[i].value);
    enum MHD_Result ok = MHD_queue_response(req->conn, (unsigned)res->status, r);
    MHD_destroy_response(r);

    if (log_enabled(LOG_INFO)) {
        struct timespec now;
        clock_gettime(CLOCK_MONOTONIC, &now);
        double ms = (double)(now.tv_sec - req->started.tv_sec) * 1e3 +
                    (double)(now.tv_nsec - req->started.tv_nsec) / 1e6;
        log_info("%s %s %s %d %.2fms ip=%s", req->request_id, req->method, req->log_path,
                 res->status, ms, req->ip);
    }
    return ok;
}

/* The request is whole (or refused before its body): out of reach of the request deadline. */
static void track_handling(struct http_request *req)
{
    if (req->track)
        atomic_store(&req->track->state, CONN_HANDLING);
}

static enum MHD_Result respond(struct http_request *req, struct http_response *res)
{
    track_handling(req);
    enum MHD_Result ok = send_response(req, res);
    json_decref(res->body);
    res->body = NULL;
    free(res->raw);
    res->raw = NULL;
    return ok;
}

/* What one pass over a request's header lines finds about its framing (RFC 9112 6.3). */
struct framing {
    size_t bytes;            /* the header block's size, about */
    unsigned host, cl, te;   /* Host, Content-Length, Transfer-Encoding lines */
    const char *cl_value;    /* the first Content-Length */
    int cl_conflict;         /* Content-Length lines that disagree, or one that is not digits */
    int te_unknown;          /* a Transfer-Encoding other than exactly "chunked" */
    int bad_name, bad_value; /* a name that is no token; a value with a control byte */
};

static int is_token_char(unsigned char c)
{
    return c > 0x20 && c < 0x7f && !strchr("\"(),/:;<=>?@[\\]{}", c);
}

static int all_digits(const char *s)
{
    if (!*s)
        return 0;
    for (; *s; s++)
        if (*s < '0' || *s > '9')
            return 0;
    return 1;
}

static enum MHD_Result scan_header(void *cls, enum MHD_ValueKind kind, const char *key,
                                   size_t key_size, const char *value, size_t value_size)
{
    (void)kind;
    struct framing *f = cls;
    f->bytes += key_size + value_size + 4;
    for (size_t i = 0; i < key_size; i++)
        if (!is_token_char((unsigned char)key[i]))
            f->bad_name = 1;
    if (key_size == 0)
        f->bad_name = 1;
    for (size_t i = 0; i < value_size; i++)
        if (((unsigned char)value[i] < 0x20 && value[i] != '\t') || value[i] == 0x7f)
            f->bad_value = 1;
    if (key_size == 4 && strcasecmp(key, "Host") == 0) {
        f->host++;
    } else if (key_size == 14 && strcasecmp(key, "Content-Length") == 0) {
        if (!value || !all_digits(value) || (f->cl && strcmp(value, f->cl_value) != 0))
            f->cl_conflict = 1;
        if (!f->cl++)
            f->cl_value = value;
    } else if (key_size == 17 && strcasecmp(key, "Transfer-Encoding") == 0) {
        f->te++;
        if (!value || strcasecmp(value, "chunked") != 0)
            f->te_unknown = 1;
    }
    return MHD_YES;
}

/* The framing rules of RFC 9112 (sections 3.2, 5 and 6.3) that libmicrohttpd 0.9.75 does not
 * apply itself: RC_OK, or the failure with its message. A request that fails gets its answer
 * before its body is read and its connection closed, so nothing after it on the connection is
 * read as a request. */
static enum rc check_framing(const struct framing *f, const char *version, const char **msg)
{
    if (f->bad_name) {
        *msg = "malformed header field name (whitespace before the colon?)";
        return RC_INVALID;
    }
    if (f->bad_value) {
        *msg = "a header field value contains a control character";
        return RC_INVALID;
    }
    if (f->host > 1 || (f->host == 0 && strcmp(version, MHD_HTTP_VERSION_1_1) == 0)) {
        *msg = "an HTTP/1.1 request needs exactly one Host header";
        return RC_INVALID;
    }
    if (f->te && f->cl) {
        *msg = "a request may not have both Transfer-Encoding and Content-Length";
        return RC_INVALID;
    }
    if (f->te && strcmp(version, MHD_HTTP_VERSION_1_1) != 0) {
        *msg = "Transfer-Encoding needs HTTP/1.1";
        return RC_INVALID;
    }
    if (f->te > 1) {
        *msg = "more than one Transfer-Encoding header";
        return RC_INVALID;
    }
    if (f->te_unknown) {
        *msg = "the only transfer coding supported is chunked";
        return RC_NOT_IMPLEMENTED;
    }
    if (f->cl_conflict) {
        *msg = "invalid or conflicting Content-Length headers";
        return RC_INVALID;
    }
    return RC_OK;
}

/* Keep the value of the last X-Forwarded-For header line seen. */
static enum MHD_Result last_forwarded_for(void *cls, enum MHD_ValueKind kind, const char *key,
                                          const char *value)
{
    (void)kind;
    if (value && strcasecmp(key, "X-Forwarded-For") == 0)
        *(const char **)cls = value;
    return MHD_YES;
}

static void client_address(struct http_request *req)
{
    const union MHD_ConnectionInfo *ci = MHD_get_connection_info(
        req->conn, MHD_CONNECTION_INFO_CLIENT_ADDRESS);
    snprintf(req->ip, sizeof req->ip, "unknown");
    if (ci && ci->client_addr) {
        const struct sockaddr *sa = ci->client_addr;
        if (sa->sa_family == AF_INET)
            inet_ntop(AF_INET, &((const struct sockaddr_in *)sa)->sin_addr, req->ip,
                      sizeof req->ip);
        else if (sa->sa_family == AF_INET6)
            inet_ntop(AF_INET6, &((const struct sockaddr_in6 *)sa)->sin6_addr, req->ip,
                      sizeof req->ip);
    }
    if (req->srv->cfg.trust_proxy) {
        /* Only the hop our own proxy appended can be trusted: the last one of the last line
         * (a proxy that adds its own header line puts it after any the client sent). */
        const char *xff = NULL;
        MHD_get_connection_values(req->conn, MHD_HEADER_KIND, last_forwarded_for, &xff);
        if (xff && *xff) {
            const char *last = strrchr(xff, ',');
            last = last ? last + 1 : xff;
            while (*last == ' ')
                last++;
            size_t n = strcspn(last, " ");
            if (n > 0 && n < sizeof req->ip) {
                memcpy(req->ip, last, n);
                req->ip[n] = '\0';
            }
        }
    }
}

/* Length of the credential prefix at p ("pcc_xxx_", or "pk_"/"sk_" before an API key's 32 or
 * more base62 characters), or 0 when none starts there. */
static size_t credential_prefix(const char *p)
{
    if (strncmp(p, "pcc_", 4) == 0 && p[4] && p[5] && p[6] && p[7] == '_')
        return 8;
    if (strncmp(p, "pk_", 3) == 0 || strncmp(p, "sk_", 3) == 0) {
        size_t n = 0;
        while (n < 32 &&
               ((p[3 + n] >= '0' && p[3 + n] <= '9') || (p[3 + n] >= 'a' && p[3 + n] <= 'z') ||
                (p[3 + n] >= 'A' && p[3 + n] <= 'Z')))
            n++;
        return n == 32 ? 3 : 0;
    }
    return 0;
}

/* Copy path for the log with every credential-shaped run ("pcc_xxx_" or an API key) cut to its
 * prefix: a token pasted into a URL must not reach the log. */
static void redact_path(const char *path, char *out, size_t size)
{
    size_t j = 0;
    for (size_t i = 0; path[i] && j + 1 < size;) {
        size_t prefix = credential_prefix(path + i);
        if (prefix) {
            size_t keep = prefix < size - 1 - j ? prefix : size - 1 - j;
            memcpy(out + j, path + i, keep);
            j += keep;
            i += prefix;
            while (path[i] && path[i] != '/')
                i++;
            const char *mark = "[redacted]";
            size_t mlen = strlen(mark);
            if (j + mlen < size) {
                memcpy(out + j, mark, mlen);
                j += mlen;
            }
            continue;
        }
        out[j++] = path[i++];
    }
    out[j] = '\0';
}

static struct http_request *request_new(struct http_server *srv, struct MHD_Connection *conn,
                                        const char *url, const char *method)
{
    /* Not calloc: the struct holds several KiB of buffers that are always written before use,
     * and zeroing them on every request showed up in profiles. */
    struct http_request *req = malloc(sizeof *req);
    if (!req)
        return NULL;
    req->body_too_large = 0;
    req->param_count = 0;
    req->principal = NULL;
    req->principal_free = NULL;
    req->route = NULL;
    req->pending_res = NULL;
    req->slow_res = NULL;
    req->slow_next = NULL;
    req->srv = srv;
    req->conn = conn;
    req->method = method;
    const union MHD_ConnectionInfo *ci = MHD_get_connection_info(
        conn, MHD_CONNECTION_INFO_SOCKET_CONTEXT);
    req->track = ci ? ci->socket_context : NULL;
    clock_gettime(CLOCK_MONOTONIC, &req->started);
    buf_init(&req->body, HTTP_MAX_BODY_BYTES);
    snprintf(req->path, sizeof req->path, "%s", url);
    redact_path(req->path, req->log_path, sizeof req->log_path);
    unsigned long n = atomic_fetch_add(&srv->next_id, 1);
    snprintf(req->request_id, sizeof req->request_id, "%s%06lx", srv->id_prefix, n);
    client_address(req);
    return req;
}

/* --- slow-work threads (HTTP_ROUTE_SLOW) ---------------------------------------------------
 * A handler that hashes a password holds its thread for tens of milliseconds; on a connection
 * thread that would stall every connection the thread serves. Such requests are suspended
 * (MHD_suspend_connection), run here, and resumed with their answer, which the connection
 * thread then sends. */

static void response_init(struct http_response *res)
{
    res->status = 200;
    res->body = NULL;
    res->raw = NULL;
    res->raw_len = 0;
    res->content_type = NULL;
    res->cache_control = NULL;
    res->header_count = 0;
}

/* Queue req for a slow-work thread, suspending its connection. RC_OK when queued; otherwise
 * the caller answers itself: RC_THROTTLED (the queue is full) or RC_UNAVAILABLE (stopping, or
 * no memory: the caller runs it inline). */
static enum rc slow_enqueue(struct http_request *req)
{
    struct http_server *srv = req->srv;
    struct http_response *res = malloc(sizeof *res);
    if (!res)
        return RC_UNAVAILABLE;
    response_init(res);
    pthread_mutex_lock(&srv->slow_lock);
    enum rc rc = RC_OK;
    if (srv->slow_stopping)
        rc = RC_UNAVAILABLE;
    else if (srv->slow_queued >= HTTP_SLOW_QUEUE)
        rc = RC_THROTTLED;
    else {
        /* Suspend first: a worker may finish and resume it before this call returns. */
        MHD_suspend_connection(req->conn);
        req->pending_res = res;
        req->slow_next = NULL;
        if (srv->slow_tail)
            srv->slow_tail->slow_next = req;
        else
            srv->slow_head = req;
        srv->slow_tail = req;
        srv->slow_queued++;
        pthread_cond_signal(&srv->slow_wake);
    }
    pthread_mutex_unlock(&srv->slow_lock);
    if (rc != RC_OK)
        free(res);
    return rc;
}

static void slow_refuse(struct http_request *req, struct http_response *res)
{
    http_add_header(res, "Retry-After", "1");
    http_error(req, res, RC_UNAVAILABLE, "the server is busy; try again in a moment");
}

static void *slow_worker(void *arg)
{
    struct http_server *srv = arg;
    pthread_mutex_lock(&srv->slow_lock);
    for (;;) {
        while (!srv->slow_head && !srv->slow_stopping)
            pthread_cond_wait(&srv->slow_wake, &srv->slow_lock);
        struct http_request *req = srv->slow_head;
        if (!req)
            break; /* stopping, and nothing left to answer */
        srv->slow_head = req->slow_next;
        if (!srv->slow_head)
            srv->slow_tail = NULL;
        srv->slow_queued--;
        pthread_mutex_unlock(&srv->slow_lock);
        struct http_response *res = req->pending_res;
        run_route(req, res);
        req->pending_res = NULL;
        req->slow_res = res; /* published to the connection thread by the resume's lock */
        MHD_resume_connection(req->conn);
        pthread_mutex_lock(&srv->slow_lock);
    }
    pthread_mutex_unlock(&srv->slow_lock);
    return NULL;
}

static enum MHD_Result respond_slow(struct http_request *req)
{
    struct http_response *res = req->slow_res;
    req->slow_res = NULL;
    enum MHD_Result ok = respond(req, res);
    free(res);
    return ok;
}

/* Start the slow-work threads: half the CPUs, at least one, at most the array's size. */
static void slow_start(struct http_server *srv, long cpus)
{
    pthread_mutex_init(&srv->slow_lock, NULL);
    pthread_cond_init(&srv->slow_wake, NULL);
    unsigned want = cpus > 1 ? (unsigned)(cpus / 2) : 1;
    unsigned max = sizeof srv->slow_threads / sizeof srv->slow_threads[0];
    if (want > max)
        want = max;
    while (srv->slow_count < want &&
           pthread_create(&srv->slow_threads[srv->slow_count], NULL, slow_worker, srv) == 0)
        srv->slow_count++;
}

/* Answer everything queued, then end the threads; from here on slow requests run inline. */
static void slow_stop(struct http_server *srv)
{
    pthread_mutex_lock(&srv->slow_lock);
    srv->slow_stopping = 1;
    pthread_cond_broadcast(&srv->slow_wake);
    pthread_mutex_unlock(&srv->slow_lock);
    for (unsigned i = 0; i < srv->slow_count; i++)
        pthread_join(srv->slow_threads[i], NULL);
}

static enum MHD_Result on_request(void *cls, struct MHD_Connection *conn, const char *url,
                                  const char *method, const char *version, const char *upload_data,
                                  size_t *upload_data_size, void **con_cls)
{
    struct http_server *srv = cls;
    struct http_request *req = *con_cls;
    struct http_response res; /* headers[] is filled up to header_count only */
    res.status = 200;
    res.body = NULL;
    res.raw = NULL;
    res.raw_len = 0;
    res.content_type = NULL;
    res.cache_control = NULL;
    res.header_count = 0;

    if (!req) {
        req = request_new(srv, conn, url, method);
        if (!req)
            return MHD_NO;
        *con_cls = req;
        struct framing f = {.bytes = strlen(url)};
        MHD_get_connection_values_n(conn, MHD_HEADER_KIND, scan_header, &f);
        if (f.bytes > HTTP_MAX_HEADER_BYTES || strlen(url) >= HTTP_MAX_PATH) {
            http_error(req, &res, RC_HEADERS_TOO_LARGE, NULL);
            return respond(req, &res);
        }
        const char *why = NULL;
        enum rc rc = check_framing(&f, version, &why);
        if (rc != RC_OK) {
            http_add_header(&res, "Connection", "close");
            http_error(req, &res, rc, why);
            return respond(req, &res);
        }
        if (f.cl) {
            char *end;
            errno = 0;
            unsigned long long n = strtoull(f.cl_value, &end, 10);
            if (errno || *end || n > HTTP_MAX_BODY_BYTES) {
                char msg[96];
                snprintf(msg, sizeof msg, "request body too large: at most %zu bytes",
                         HTTP_MAX_BODY_BYTES);
                http_error(req, &res, RC_TOO_LARGE, msg);
                return respond(req, &res);
            }
        }
        return MHD_YES;
    }
    if (*upload_data_size) {
        if (!req->body_too_large && buf_add(&req->body, upload_data, *upload_data_size) != RC_OK) {
            req->body_too_large = 1;
            buf_release(&req->body);
        }
        *upload_data_size = 0;
        return MHD_YES;
    }
    if (req->slow_res) /* back from a slow-work thread (MHD calls again after the resume) */
        return respond_slow(req);
    if (req->body_too_large) {
        http_error(req, &res, RC_TOO_LARGE, NULL);
    } else if (!match_route(req, &res)) {
        /* 404 or 405, in res */
    } else if ((req->route->flags & HTTP_ROUTE_SLOW) && srv->slow_count) {
        track_handling(req);
        enum rc rc = slow_enqueue(req);
        if (rc == RC_OK)
            return MHD_YES; /* suspended until the answer is made */
        if (rc == RC_THROTTLED)
            slow_refuse(req, &res);
        else
            run_route(req, &res); /* stopping, or no memory: answer it here */
    } else {
        run_route(req, &res);
    }
    return respond(req, &res);
}

/* Bytes the kernel has received on the socket so far (TCP_INFO), 0 when it cannot say: then a
 * keep-alive request never leaves CONN_IDLE and only the idle timeout bounds it. */
static unsigned long long bytes_received(int fd)
{
    struct tcp_info ti;
    socklen_t len = sizeof ti;
    if (getsockopt(fd, IPPROTO_TCP, TCP_INFO, &ti, &len) != 0 ||
        len < offsetof(struct tcp_info, tcpi_bytes_received) + sizeof ti.tcpi_bytes_received)
        return 0;
    return ti.tcpi_bytes_received;
}

static void on_completed(void *cls, struct MHD_Connection *conn, void **con_cls,
                         enum MHD_RequestTerminationCode toe)
{
    (void)cls;
    (void)conn;
    (void)toe;
    struct http_request *req = *con_cls;
    if (!req)
        return;
    struct conn_track *t = req->track;
    if (t) { /* between requests: the next one's clock starts with its first byte */
        atomic_store(&t->first, 0);
        atomic_store(&t->bytes_seen, bytes_received(t->fd));
        atomic_store(&t->since, timefmt_monotonic_ms());
        atomic_store(&t->state, CONN_IDLE);
    }
    buf_release_secret(&req->body); /* bodies may carry secrets */
    if (req->slow_res) {            /* answered by a slow-work thread, but the client had gone */
        json_decref(req->slow_res->body);
        free(req->slow_res->raw);
        free(req->slow_res);
    }
    if (req->principal_free)
        req->principal_free(req->principal);
    free(req);
    *con_cls = NULL;
}

/* Under track_lock: shut t's socket down (MHD then sees the connection fail and closes it). */
static void cut_connection(struct http_server *srv, struct conn_track *t)
{
    shutdown(t->fd, SHUT_RDWR);
    t->cut = 1;
    srv->live--;
}

/* Under track_lock, when connections run short: cut the connection whose incomplete request
 * began longest ago, or failing that the one idle the longest; never keep (the newcomer) nor
 * one whose request is whole. */
static void shed_one(struct http_server *srv, const struct conn_track *keep)
{
    struct conn_track *victim = NULL;
    int victim_state = CONN_HANDLING;
    long long victim_since = 0;
    for (struct conn_track *t = srv->tracked; t; t = t->next) {
        if (t == keep || t->cut)
            continue;
        int state = atomic_load(&t->state);
        long long since = atomic_load(&t->since);
        if (state == CONN_HANDLING)
            continue;
        if (!victim || (state == CONN_READING && victim_state != CONN_READING) ||
            (state == victim_state && since <= victim_since)) {
            victim = t;
            victim_state = state;
            victim_since = since;
        }
    }
    if (victim) {
        cut_connection(srv, victim);
        atomic_fetch_add(&srv->shed_count, 1);
    }
}

/* Track every connection from accept to close (MHD calls this in the connection's thread,
 * before it closes the socket, so the watchdog never touches a reused descriptor). */
static void on_connection(void *cls, struct MHD_Connection *conn, void **socket_context,
                          enum MHD_ConnectionNotificationCode code)
{
    struct http_server *srv = cls;
    struct conn_track *t = *socket_context;
    if (code == MHD_CONNECTION_NOTIFY_STARTED) {
        const union MHD_ConnectionInfo *ci = MHD_get_connection_info(
            conn, MHD_CONNECTION_INFO_CONNECTION_FD);
        if (!ci || !(t = calloc(1, sizeof *t)))
            return; /* unwatched: MHD's own limits still apply */
        t->fd = ci->connect_fd;
        atomic_init(&t->first, 1);
        atomic_init(&t->state, CONN_READING); /* its first request's clock runs from accept */
        atomic_init(&t->since, timefmt_monotonic_ms());
        atomic_init(&t->bytes_seen, 0);
        pthread_mutex_lock(&srv->track_lock);
        t->next = srv->tracked;
        if (t->next)
            t->next->prev = t;
        srv->tracked = t;
        if (++srv->live > srv->shed_above)
            shed_one(srv, t);
        pthread_mutex_unlock(&srv->track_lock);
        *socket_context = t;
        return;
    }
    if (!t)
        return;
    pthread_mutex_lock(&srv->track_lock);
    if (t->prev)
        t->prev->next = t->next;
    else
        srv->tracked = t->next;
    if (t->next)
        t->next->prev = t->prev;
    if (!t->cut)
        srv->live--;
    pthread_mutex_unlock(&srv->track_lock);
    free(t);
    *socket_context = NULL;
}

/* Four times a second: a connection between requests whose socket has received bytes since
 * starts its next request's clock; one whose request is not whole by its deadline (over TLS,
 * the first one's includes the handshake) is shut down. */
static void *conn_watchdog(void *arg)
{
    struct http_server *srv = arg;
    pthread_mutex_lock(&srv->track_lock);
    while (!srv->stopping) {
        struct timespec wake;
        clock_gettime(CLOCK_MONOTONIC, &wake);
        wake.tv_nsec += WATCHDOG_TICK_MS * 1000000L;
        if (wake.tv_nsec >= 1000000000L) {
            wake.tv_sec++;
            wake.tv_nsec -= 1000000000L;
        }
        pthread_cond_timedwait(&srv->track_wake, &srv->track_lock, &wake);
        long long now = timefmt_monotonic_ms();
        unsigned cut = 0;
        for (struct conn_track *t = srv->tracked; t; t = t->next) {
            if (t->cut)
                continue;
            int state = atomic_load(&t->state);
            if (state == CONN_IDLE) {
                if (bytes_received(t->fd) > atomic_load(&t->bytes_seen)) {
                    atomic_store(&t->since, now);
                    atomic_compare_exchange_strong(&t->state, &state, CONN_READING);
                }
            } else if (state == CONN_READING) {
                long long limit = atomic_load(&t->first) ? srv->first_ms : srv->request_ms;
                if (now - atomic_load(&t->since) >= limit) {
                    cut_connection(srv, t);
                    cut++;
                }
            }
        }
        unsigned shed = atomic_exchange(&srv->shed_count, 0);
        if (cut)
            log_info("http: closed %u connection(s) whose request did not arrive whole within "
                     "%llds",
                     cut, srv->request_ms / 1000);
        if (shed)
            log_warn("http: %u connection(s) shed, slowest incomplete first: %u of at most %u "
                     "connections open (--max-connections)",
                     shed, srv->live, srv->cfg.max_connections ? srv->cfg.max_connections : 1024u);
    }
    pthread_mutex_unlock(&srv->track_lock);
    return NULL;
}

static void watchdog_stop(struct http_server *srv)
{
    if (!srv->watchdog_running)
        return;
    pthread_mutex_lock(&srv->track_lock);
    srv->stopping = 1;
    pthread_cond_signal(&srv->track_wake);
    pthread_mutex_unlock(&srv->track_lock);
    pthread_join(srv->watchdog, NULL);
    srv->watchdog_running = 0;
}

static enum rc watchdog_start(struct http_server *srv)
{
    pthread_condattr_t attr;
    if (pthread_condattr_init(&attr) != 0)
        return RC_NOMEM;
    pthread_condattr_setclock(&attr, CLOCK_MONOTONIC);
    int failed = pthread_cond_init(&srv->track_wake, &attr) != 0;
    pthread_condattr_destroy(&attr);
    if (failed)
        return RC_NOMEM;
    srv->wake_ready = 1;
    if (pthread_create(&srv->watchdog, NULL, conn_watchdog, srv) != 0)
        return RC_NOMEM;
    srv->watchdog_running = 1;
    return RC_OK;
}

/* MHD's unescaping of the path and of query arguments (%XX; a bad escape stays as it is),
 * except that an escaped control byte decodes to DEL: a %00 cannot cut a path parameter short
 * ("secrets/victimset%00.x" acting on "victimset") and %0a cannot reach a log as a line end;
 * match_route refuses a path holding DEL like any other control byte. */
static size_t unescape(void *cls, struct MHD_Connection *conn, char *s)
{
    (void)cls;
    (void)conn;
    char *w = s;
    for (const char *r = s; *r;) {
        int hi, lo;
        if (r[0] == '%' && (hi = text_hex_value(r[1])) >= 0 && (lo = text_hex_value(r[2])) >= 0) {
            unsigned char c = (unsigned char)(hi << 4 | lo);
            *w++ = (char)(c < 0x20 ? 0x7f : c);
            r += 3;
        } else {
            *w++ = *r++;
        }
    }
    *w = '\0';
    return (size_t)(w - s);
}

static void mhd_log(void *cls, const char *fmt, va_list ap)
{
    const struct http_server *srv = cls;
    char msg[512];
    vsnprintf(msg, sizeof msg, fmt, ap);
    size_t n = strlen(msg);
    while (n && (msg[n - 1] == '\n' || msg[n - 1] == '\r'))
        msg[--n] = '\0';
    /* Failed handshakes are the clients' doing (plain HTTP to this port, a client without the
     * CA, a scanner): worth a line, not a warning, and one that says what it means. */
    if (srv && srv->tls && strstr(msg, "andshake"))
        log_info("http: a TLS handshake failed (plain HTTP sent to this HTTPS port, or a client "
                 "that does not trust the certificate?): %s",
                 msg);
    else
        log_warn("http: %s", msg);
}

/* Parse "HOST:PORT" or "[V6]:PORT", bind and listen. */
static enum rc open_listener(const char *listen_addr, int *fd_out, unsigned *port_out, char *err,
                             size_t errlen)
{
    char host[256];
    const char *colon = strrchr(listen_addr, ':');
    if (!colon || colon == listen_addr || (size_t)(colon - listen_addr) >= sizeof host) {
        snprintf(err, errlen, "listen address \"%s\" must be HOST:PORT", listen_addr);
        return RC_INVALID;
    }
    size_t hlen = (size_t)(colon - listen_addr);
    memcpy(host, listen_addr, hlen);
    host[hlen] = '\0';
    if (host[0] == '[' && hlen >= 2 && host[hlen - 1] == ']') {
        memmove(host, host + 1, hlen - 2);
        host[hlen - 2] = '\0';
    }
    struct addrinfo hints = {.ai_family = AF_UNSPEC,
                             .ai_socktype = SOCK_STREAM,
                             .ai_flags = AI_PASSIVE | AI_NUMERICSERV};
    struct addrinfo *ai = NULL;
    int gai = getaddrinfo(host, colon + 1, &hints, &ai);
    if (gai != 0) {
        snprintf(err, errlen, "listen address \"%s\": %s", listen_addr, gai_strerror(gai));
        return RC_INVALID;
    }
    int fd = socket(ai->ai_family, SOCK_STREAM | SOCK_CLOEXEC, 0);
    int one = 1;
    if (fd < 0 || setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one) != 0 ||
        bind(fd, ai->ai_addr, ai->ai_addrlen) != 0 || listen(fd, LISTEN_BACKLOG) != 0) {
        snprintf(err, errlen, "cannot listen on %s: %s", listen_addr, strerror(errno));
        if (fd >= 0)
            close(fd);
        freeaddrinfo(ai);
        return RC_IO;
    }
    freeaddrinfo(ai);
    struct sockaddr_storage ss;
    socklen_t sl = sizeof ss;
    getsockname(fd, (struct sockaddr *)&ss, &sl);
    *port_out = ntohs(ss.ss_family == AF_INET6 ? ((struct sockaddr_in6 *)&ss)->sin6_port
                                               : ((struct sockaddr_in *)&ss)->sin_port);
    *fd_out = fd;
    return RC_OK;
}

enum rc http_server_start(const struct http_config *cfg, struct http_server **out, char *err,
                          size_t errlen)
{
    if (cfg->tls && !http_tls_supported()) {
        snprintf(err, errlen,
                 "this libmicrohttpd was built without TLS support: use a build "
                 "with GnuTLS (Debian's libmicrohttpd12 has it) or a TLS proxy in front");
        return RC_INVALID;
    }
    struct http_server *srv = calloc(1, sizeof *srv);
    if (!srv)
        return RC_NOMEM;
    srv->cfg = *cfg;
    srv->cfg.tls = NULL; /* the caller wipes the key once the daemon has its own copy */
    srv->tls = cfg->tls != NULL;
    token_random_base62(srv->id_prefix, 6);
    enum rc rc = open_listener(cfg->listen, &srv->fd, &srv->port, err, errlen);
    if (rc != RC_OK) {
        free(srv);
        return rc;
    }
    long cpus = sysconf(_SC_NPROCESSORS_ONLN);
    unsigned threads = cfg->threads ? cfg->threads : (cpus > 0 ? (unsigned)cpus : 2);
    /* MHD copies the pair into GnuTLS credentials while starting, and never reads it again.
     * The plain-HTTP server registers none of this, so it pays nothing for it. */
    struct MHD_OptionItem tls_options[] = {
        {MHD_OPTION_HTTPS_MEM_CERT, 0, cfg->tls ? cfg->tls->cert_pem : NULL},
        {MHD_OPTION_HTTPS_MEM_KEY, 0, cfg->tls ? cfg->tls->key_pem : NULL},
        {MHD_OPTION_HTTPS_PRIORITIES, 0, (void *)HTTP_TLS_PRIORITIES},
        {MHD_OPTION_END, 0, NULL}};
    unsigned flags = MHD_USE_INTERNAL_POLLING_THREAD | MHD_USE_EPOLL | MHD_USE_TURBO |
                     MHD_USE_ERROR_LOG | MHD_ALLOW_SUSPEND_RESUME;
    if (cfg->tls)
        flags |= MHD_USE_TLS;
    else
        tls_options[0].option = MHD_OPTION_END;
    unsigned max_connections = cfg->max_connections ? cfg->max_connections : 1024u;
    unsigned timeout = cfg->timeout_seconds ? cfg->timeout_seconds : 30u;
    unsigned request_timeout = cfg->request_timeout_seconds ? cfg->request_timeout_seconds : 30u;
    srv->request_ms = (long long)request_timeout * 1000;
    /* Over TLS the first request's clock includes the handshake, for which MHD runs no idle
     * timeout: the shorter of the two deadlines applies. */
    srv->first_ms = srv->tls && timeout < request_timeout ? (long long)timeout * 1000
                                                          : srv->request_ms;
    /* Shed before MHD's own limit is reached (it then stops accepting, and a new client waits
     * in the backlog behind the slow ones); an eighth is kept free, as MHD splits its limit
     * between the threads and they do not fill evenly. */
    srv->shed_above = max_connections - max_connections / 8;
    pthread_mutex_init(&srv->track_lock, NULL);
    srv->daemon = MHD_start_daemon(
        flags, 0, NULL, NULL, on_request, srv, MHD_OPTION_EXTERNAL_LOGGER, mhd_log, srv,
        MHD_OPTION_ARRAY, tls_options, MHD_OPTION_LISTEN_SOCKET, srv->fd,
        MHD_OPTION_THREAD_POOL_SIZE, threads, MHD_OPTION_CONNECTION_LIMIT, max_connections,
        MHD_OPTION_PER_IP_CONNECTION_LIMIT, cfg->max_per_ip ? cfg->max_per_ip : 256u,
        MHD_OPTION_CONNECTION_TIMEOUT, timeout, MHD_OPTION_NOTIFY_CONNECTION, on_connection, srv,
        MHD_OPTION_CONNECTION_MEMORY_LIMIT, CONNECTION_MEMORY_BYTES, MHD_OPTION_NOTIFY_COMPLETED,
        on_completed, srv, MHD_OPTION_UNESCAPE_CALLBACK, unescape, srv, MHD_OPTION_END);
    if (srv->daemon)
        slow_start(srv, cpus);
    if (!srv->daemon) {
        snprintf(err, errlen, "cannot start the %s server on %s", cfg->tls ? "HTTPS" : "HTTP",
                 cfg->listen);
        close(srv->fd);
        pthread_mutex_destroy(&srv->track_lock);
        free(srv);
        return RC_IO;
    }
    if (watchdog_start(srv) != RC_OK) {
        snprintf(err, errlen, "cannot start the connection watchdog");
        http_server_stop(srv);
        return RC_NOMEM;
    }
    *out = srv;
    return RC_OK;
}

unsigned http_server_port(const struct http_server *srv) { return srv->port; }

void http_server_stop(struct http_server *srv)
{
    if (!srv)
        return;
    watchdog_stop(srv);
    slow_stop(srv); /* MHD must not be stopped with a connection suspended */
    MHD_stop_daemon(srv->daemon);
    close(srv->fd);
    pthread_mutex_destroy(&srv->track_lock);
    if (srv->wake_ready)
        pthread_cond_destroy(&srv->track_wake);
    pthread_mutex_destroy(&srv->slow_lock);
    pthread_cond_destroy(&srv->slow_wake);
    free(srv);
}
