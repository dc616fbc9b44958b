/* http.h: the HTTP server glue over libmicrohttpd: limits, per-request context, a route table
 * with path parameters, JSON responses, and the one function every error goes out through. */
#ifndef PCC_HTTP_H
#define PCC_HTTP_H

#include <stddef.h>
#include <stdint.h>

#include <jansson.h>

#include "buf.h"
#include "rc.h"

#define HTTP_MAX_BODY_BYTES ((size_t)64 << 10)  /* larger bodies get 413 */
#define HTTP_MAX_HEADER_BYTES ((size_t)8 << 10) /* larger header blocks get 431 */
#define HTTP_MAX_PARAMS 4
#define HTTP_MAX_PATH 1024
#define HTTP_MAX_EXTRA_HEADERS 8

struct http_request;

/* What a handler fills in. body is a JSON object reference the server takes over; headers are
 * copied. A handler that leaves body NULL gets {"status": "OK"} so no reply is ever empty. */
struct http_response {
    int status;
    json_t *body;
    /* A non-JSON reply (HTML page, asset, redirect), set by http_reply_raw; sent instead of
     * body. raw is malloc-ed and taken over by the server. */
    char *raw;
    size_t raw_len;
    const char *content_type;  /* static string */
    const char *cache_control; /* static string */
    size_t header_count;
    struct {
        char name[48];
        char value[1024]; /* room for a Set-Cookie or Location carrying an OAuth request */
    } headers[HTTP_MAX_EXTRA_HEADERS];
};

typedef void (*http_handler)(struct http_request *req, struct http_response *res);

enum http_route_flags {
    HTTP_ROUTE_PUBLIC = 0,
    HTTP_ROUTE_AUTH = 1,       /* the server's authenticate hook runs first */
    HTTP_ROUTE_PUBLIC_KEY = 2, /* the authenticate_public_key hook runs first (API keys) */
    /* CPU-heavy (password hashing): runs on the server's slow-work threads with its connection
     * suspended, so the connection threads keep serving everyone else meanwhile; 503 with
     * Retry-After when HTTP_SLOW_QUEUE requests already wait. */
    HTTP_ROUTE_SLOW = 4,
};
#define HTTP_SLOW_QUEUE 64
#define HTTP_ROUTE_APP_SHIFT 8

struct http_route {
    const char *method;  /* "GET", "POST", ... */
    const char *pattern; /* "/v1/organizations/{org}/daily": {x} matches one segment */
    http_handler handler;
    unsigned flags; /* enum http_route_flags; bits from HTTP_ROUTE_APP_SHIFT up belong to the
                     * application (the API keeps there what a token must be allowed to do) */
};

/* Runs before every HTTP_ROUTE_AUTH (or HTTP_ROUTE_PUBLIC_KEY) handler; returns RC_OK to go
 * on, or fills res (through http_error) and returns the failure. */
typedef enum rc (*http_authenticate_fn)(struct http_request *req, struct http_response *res);

/* The certificate chain and private key of an HTTPS listener, PEM text as read from their
 * files (NUL-terminated, malloc-ed). */
struct http_tls {
    char *cert_pem;
    size_t cert_len;
    char *key_pem; /* wiped by http_tls_release */
    size_t key_len;
};
#define HTTP_TLS_MAX_FILE_BYTES ((size_t)1 << 20)
/* TLS 1.2 and 1.3 only, GnuTLS's NORMAL cipher suites otherwise. */
#define HTTP_TLS_PRIORITIES "NORMAL:-VERS-ALL:+VERS-TLS1.3:+VERS-TLS1.2"

/* 1 when the libmicrohttpd in use was built with TLS (GnuTLS). */
int http_tls_supported(void);
/* Read the certificate (chain) and key files and check them: regular files, the key readable
 * by its owner only (or by a group too when root owns it: 0640 root:ssl-cert), both valid
 * PEM, an unencrypted key that belongs to the certificate. RC_NOT_FOUND / RC_IO (unreadable),
 * RC_FORBIDDEN (key permissions), RC_INVALID (not usable), RC_NOMEM; err then names the file
 * at fault (never its contents) and tls holds nothing. Release with http_tls_release. */
enum rc http_tls_load(struct http_tls *tls, const char *cert_path, const char *key_path, char *err,
                      size_t errlen);
/* Wipe the key and free both texts; safe on a zeroed or released struct, and right after
 * http_server_start (the server keeps its own copy in GnuTLS). */
void http_tls_release(struct http_tls *tls);

struct http_config {
    const char *listen;         /* "HOST:PORT"; port 0 picks a free one */
    const struct http_tls *tls; /* NULL: plain HTTP; else HTTPS with this pair */
    unsigned threads;           /* worker threads; 0 = number of CPUs */
    unsigned max_connections;   /* total concurrent connections */
    unsigned max_per_ip;        /* concurrent connections from one address */
    unsigned timeout_seconds;   /* idle connection timeout; over TLS also the time from accept
                                 * to the first request (handshake included) */
    /* Time a request may take to arrive whole (headers and body), counted from its first byte
     * (for a connection's first request, from its accept); 0 = 30. A connection whose request
     * is late is closed, however steadily it trickles in. */
    unsigned request_timeout_seconds;
    int trust_proxy; /* take the client address from X-Forwarded-For (last hop) */
    const struct http_route *routes;
    size_t route_count;
    http_authenticate_fn authenticate;
    http_authenticate_fn authenticate_public_key; /* for HTTP_ROUTE_PUBLIC_KEY routes */
    void *app;                                    /* handed to handlers through http_app() */
    /* Called with app around the hooks and handler of every matched route, on its thread (may
     * be NULL): a request's reads can share one view of the storage (store_request_begin). */
    void (*route_begin)(void *app);
    void (*route_end)(void *app);
};

struct http_server;

/* Bind and start serving in background threads, over TLS when cfg->tls is set (RC_INVALID
 * when this libmicrohttpd has no TLS). *out is freed by http_server_stop. On failure err says
 * why (bad address, port in use). */
enum rc http_server_start(const struct http_config *cfg, struct http_server **out, char *err,
                          size_t errlen);
/* The bound port (useful after asking for port 0). */
unsigned http_server_port(const struct http_server *srv);
/* Stop accepting, finish in-flight requests, join the threads and free; NULL is a no-op. */
void http_server_stop(struct http_server *srv);

/* Request accessors, valid during the handler. */
void *http_app(const struct http_request *req);
const char *http_method(const struct http_request *req);
const char *http_path(const struct http_request *req);
/* The value of path parameter {name}, or NULL. */
const char *http_param(const struct http_request *req, const char *name);
/* A request header (case-insensitive name) or NULL. */
const char *http_header(const struct http_request *req, const char *name);
/* A query-string argument or NULL. */
const char *http_query(const struct http_request *req, const char *name);
const char *http_client_ip(const struct http_request *req);
const char *http_request_id(const struct http_request *req);
/* The raw body (NUL-terminated, possibly empty). */
const char *http_body(const struct http_request *req, size_t *len);
/* A slot for the authenticate hook to leave the caller's identity for handlers; free_fn (may be
 * NULL) releases it when the request ends. */
void http_set_principal(struct http_request *req, void *principal, void (*free_fn)(void *));
void *http_principal(const struct http_request *req);
/* The route the request matched (set before the authenticate hook runs), or NULL. */
const struct http_route *http_matched_route(const struct http_request *req);

/* Parse the body as a JSON object that may only contain the allowed fields; on failure the
 * 400 is already written to res and NULL returned. The caller json_decref()s the result. */
json_t *http_json_body(struct http_request *req, struct http_response *res,
                       const char *const allowed[]);

/* Set a JSON reply (takes over the reference to body). */
void http_reply(struct http_response *res, int status, json_t *body);
/* The one way errors leave the server: {"error": message, "code": rc's code} with rc's status.
 * message NULL uses rc's default text. A 5xx never carries the message: it is logged with
 * the request id instead. */
void http_error(struct http_request *req, struct http_response *res, enum rc rc,
                const char *message);
/* Add a response header. */
void http_add_header(struct http_response *res, const char *name, const char *value);
/* Set a non-JSON reply: the server takes over body (malloc-ed, len bytes; NULL with len 0 for
 * an empty body, e.g. a 303 with Location). content_type and cache_control are static strings
 * (cache_control NULL: "no-store"). */
void http_reply_raw(struct http_response *res, int status, const char *content_type,
                    const char *cache_control, char *body, size_t len);
/* The value of cookie name sent with the request, or NULL. */
const char *http_cookie(const struct http_request *req, const char *name);
/* 1 when the client reached us over TLS: pccd serves HTTPS itself (http_config.tls), or it is
 * behind a trusted proxy (trust_proxy) that says X-Forwarded-Proto: https. */
int http_secure(const struct http_request *req);

#endif
