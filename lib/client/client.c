/* client.c: the API client. Plain http:// hosts (a local pccd, CI runners talking to a private
 * network) use a small HTTP/1.1 client over one keep-alive socket, so a CLI run does not pay
 * for loading libcurl and its TLS stack; https:// hosts use libcurl, loaded on first use with
 * dlopen. Both speak the same client.h interface. Measured (hyperfine, `auth whoami` against a
 * local pccd, -O2, 2026-12): this client 6 ms CPU and 2.4 MiB peak RSS per run; libcurl for
 * http:// 36 ms CPU and 10.7 MiB (Debian's libcurl4 pulls in some 30 libraries); linking
 * libcurl instead of dlopen-ing it adds about 25 ms CPU to every run, `--version` included. */
#include "client.h"

#include <dlfcn.h>
#include <errno.h>
#include <fcntl.h>
#include <netdb.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include <curl/curl.h>
#include <sodium.h>

#include "buf.h"
#include "httpparse.h"
#include "json.h"
#include "timefmt.h"
#include "banned.h"

#define CONNECT_TIMEOUT_MS 10000
#define EXPIRATION_HEADER "Pipecat-Token-Expiration"
#define IO_TIMEOUT_MS (CLIENT_TIMEOUT_SECONDS * 1000)

/* libcurl entry points, resolved from libcurl.so.4 when the first https request is made. */
struct curl_api {
    void *lib;
    CURLcode (*global_init)(long);
    CURL *(*easy_init)(void);
    CURLcode (*easy_setopt)(CURL *, CURLoption, ...);
    CURLcode (*easy_perform)(CURL *);
    CURLcode (*easy_getinfo)(CURL *, CURLINFO, ...);
    void (*easy_reset)(CURL *);
    void (*easy_cleanup)(CURL *);
    const char *(*easy_strerror)(CURLcode);
    struct curl_slist *(*slist_append)(struct curl_slist *, const char *);
    void (*slist_free_all)(struct curl_slist *);
};

struct client {
    char *base; /* "scheme://authority[/prefix]" without a trailing '/' */
    char *user_agent;
    char *auth_header; /* "Authorization: Bearer ..." or NULL; wiped on change and free */
    int tls;
    /* plain HTTP */
    char hostname[256];
    char port[8];
    char host_header[300];
    const char *prefix; /* path prefix inside base, "" if none */
    int fd;             /* kept-alive connection, -1 when none */
    /* HTTPS */
    struct curl_api curl;
    CURL *easy;
    char curl_error[CURL_ERROR_SIZE];
    int tls_failed; /* the last request failed in TLS */
};

/* Frozen configuration, set once by the front end before any request (docs/engineering.md rule 12). */
static const char *ca_file;
static const char *ca_dir;

void client_use_ca_file(const char *path) { ca_file = path && *path ? path : NULL; }
void client_use_ca_dir(const char *path) { ca_dir = path && *path ? path : NULL; }

static void wipe_free(char *s)
{
    if (s) {
        sodium_memzero(s, strlen(s));
        free(s);
    }
}

/* Split base into host, port and path prefix. RC_INVALID for anything but a plain
 * scheme://host[:port][/prefix] (credentials in the URL are refused: they would be logged). */
static enum rc parse_base(struct client *c)
{
    const char *authority = c->base + (c->tls ? 8 : 7);
    const char *slash = strchr(authority, '/');
    size_t alen = slash ? (size_t)(slash - authority) : strlen(authority);
    c->prefix = slash ? slash : "";
    if (alen == 0 || alen >= sizeof c->host_header || memchr(authority, '@', alen) ||
        memchr(authority, '?', alen) || memchr(authority, '#', alen))
        return RC_INVALID;
    memcpy(c->host_header, authority, alen);
    c->host_header[alen] = '\0';
    const char *host = c->host_header, *port = NULL;
    size_t hlen;
    if (host[0] == '[') {
        const char *close = strchr(host, ']');
        if (!close)
            return RC_INVALID;
        hlen = (size_t)(close - host - 1);
        host++;
        if (close[1] == ':')
            port = close + 2;
        else if (close[1])
            return RC_INVALID;
    } else {
        const char *colon = strchr(host, ':');
        hlen = colon ? (size_t)(colon - host) : strlen(host);
        port = colon ? colon + 1 : NULL;
    }
    if (hlen == 0 || hlen >= sizeof c->hostname)
        return RC_INVALID;
    memcpy(c->hostname, host, hlen);
    c->hostname[hlen] = '\0';
    if (port) {
        size_t plen = strlen(port);
        if (plen == 0 || plen >= sizeof c->port || strspn(port, "0123456789") != plen)
            return RC_INVALID;
        memcpy(c->port, port, plen + 1);
    } else {
        snprintf(c->port, sizeof c->port, "%s", c->tls ? "443" : "80");
    }
    return RC_OK;
}

enum rc client_new(const char *api_host, const char *user_agent, struct client **out)
{
    *out = NULL;
    if (!api_host)
        return RC_INVALID;
    int tls = strncmp(api_host, "https://", 8) == 0;
    if (!tls && strncmp(api_host, "http://", 7) != 0)
        return RC_INVALID;
    struct client *c = calloc(1, sizeof *c);
    if (!c)
        return RC_NOMEM;
    c->fd = -1;
    c->tls = tls;
    c->base = strdup(api_host);
    c->user_agent = strdup(user_agent ? user_agent : "pcc");
    if (!c->base || !c->user_agent) {
        client_free(c);
        return RC_NOMEM;
    }
    size_t n = strlen(c->base);
    while (n > 0 && c->base[n - 1] == '/')
        c->base[--n] = '\0';
    if (parse_base(c) != RC_OK) {
        client_free(c);
        return RC_INVALID;
    }
    *out = c;
    return RC_OK;
}

static void close_socket(struct client *c)
{
    if (c->fd >= 0)
        close(c->fd);
    c->fd = -1;
}

void client_free(struct client *c)
{
    if (!c)
        return;
    close_socket(c);
    if (c->easy)
        c->curl.easy_cleanup(c->easy);
    if (c->curl.lib)
        dlclose(c->curl.lib);
    free(c->base);
    free(c->user_agent);
    wipe_free(c->auth_header);
    free(c);
}

const char *client_host(const struct client *c) { return c->base; }

int client_tls_failed(const struct client *c) { return c->tls_failed; }

enum rc client_set_token(struct client *c, const char *token)
{
    wipe_free(c->auth_header);
    c->auth_header = NULL;
    if (!token || !*token)
        return RC_OK;
    if (strpbrk(token, "\r\n"))
        return RC_INVALID; /* would split the header */
    struct buf b;
    buf_init(&b, 4096);
    enum rc rc = buf_addf(&b, "Authorization: Bearer %s", token);
    if (rc != RC_OK) {
        buf_release_secret(&b);
        return rc;
    }
    c->auth_header = buf_detach(&b, NULL);
    return c->auth_header ? RC_OK : RC_NOMEM;
}

/* --- plain HTTP/1.1 -------------------------------------------------------------------- */

/* Wait until fd is ready for events or the deadline passes: 1 ready, 0 timeout, -1 error. */
static int wait_fd(int fd, short events, int64_t deadline)
{
    for (;;) {
        int64_t left = deadline - timefmt_monotonic_ms();
        if (left <= 0)
            return 0;
        struct pollfd p = {.fd = fd, .events = events};
        int r = poll(&p, 1, (int)left);
        if (r < 0 && errno == EINTR)
            continue;
        return r < 0 ? -1 : r;
    }
}

static enum rc plain_connect(struct client *c, char *err, size_t errlen)
{
    struct addrinfo hints = {
        .ai_family = AF_UNSPEC, .ai_socktype = SOCK_STREAM, .ai_flags = AI_NUMERICSERV};
    struct addrinfo *ai = NULL;
    int gai = getaddrinfo(c->hostname, c->port, &hints, &ai);
    if (gai != 0) {
        snprintf(err, errlen, "cannot reach %s: %s", c->base, gai_strerror(gai));
        return RC_NETWORK;
    }
    int saved = 0;
    for (struct addrinfo *a = ai; a; a = a->ai_next) {
        int fd = socket(a->ai_family, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
        if (fd < 0) {
            saved = errno;
            continue;
        }
        int ok = connect(fd, a->ai_addr, a->ai_addrlen) == 0;
        if (!ok && errno == EINPROGRESS &&
            wait_fd(fd, POLLOUT, timefmt_monotonic_ms() + CONNECT_TIMEOUT_MS) == 1) {
            int soerr = 0;
            socklen_t sl = sizeof soerr;
            getsockopt(fd, SOL_SOCKET, SO_ERROR, &soerr, &sl);
            ok = soerr == 0;
            errno = soerr ? soerr : ETIMEDOUT;
        } else if (!ok && errno == EINPROGRESS) {
            errno = ETIMEDOUT;
        }
        if (ok) {
            int one = 1;
            setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
            c->fd = fd;
            freeaddrinfo(ai);
            return RC_OK;
        }
        saved = errno;
        close(fd);
    }
    freeaddrinfo(ai);
    snprintf(err, errlen, "cannot reach %s: %s", c->base, strerror(saved ? saved : ECONNREFUSED));
    return RC_NETWORK;
}

static int send_all(int fd, const char *data, size_t len, int64_t deadline)
{
    while (len) {
        ssize_t n = send(fd, data, len, MSG_NOSIGNAL);
        if (n < 0 && errno == EINTR)
            continue;
        if (n < 0 && errno == EAGAIN) {
            if (wait_fd(fd, POLLOUT, deadline) != 1)
                return -1;
            continue;
        }
        if (n <= 0)
            return -1;
        data += n;
        len -= (size_t)n;
    }
    return 0;
}

/* Read one whole response into resp and find its parts. Returns RC_OK, RC_NETWORK (with
 * *nothing_read set when the peer closed before sending a byte: a stale kept-alive socket) or
 * RC_PROTOCOL. */
static enum rc read_response(struct client *c, struct buf *resp, struct buf *body, long *status,
                             int *nothing_read, size_t *head_start, size_t *head_len, char *err,
                             size_t errlen)
{
    int64_t deadline = timefmt_monotonic_ms() + IO_TIMEOUT_MS;
    struct httpparse_head head = {0};
    size_t head_at = 0; /* start of the current head (after any 1xx) */
    int have_head = 0;
    char chunk[16384];
    *nothing_read = 1;
    for (;;) {
        if (have_head) {
            const char *b = resp->data + head_at + head.head_len;
            size_t avail = resp->len - head_at - head.head_len;
            if (head.chunked) {
                size_t used;
                enum rc rc = httpparse_chunked(b, avail, body, &used);
                if (rc == RC_OK)
                    break;
                if (rc != RC_INCOMPLETE) {
                    snprintf(err, errlen, "%s sent a malformed chunked body", c->base);
                    return RC_PROTOCOL;
                }
            } else if (head.content_length >= 0 && avail >= (uint64_t)head.content_length) {
                if (buf_add(body, b, (size_t)head.content_length) != RC_OK) {
                    snprintf(err, errlen, "%s sent a reply larger than %zu bytes", c->base,
                             CLIENT_MAX_REPLY_BYTES);
                    return RC_PROTOCOL;
                }
                break;
            }
        }
        int w = wait_fd(c->fd, POLLIN, deadline);
        if (w != 1) {
            snprintf(err, errlen, "%s did not answer within %ld s", c->base,
                     CLIENT_TIMEOUT_SECONDS);
            return RC_NETWORK;
        }
        ssize_t n = recv(c->fd, chunk, sizeof chunk, 0);
        if (n < 0 && (errno == EINTR || errno == EAGAIN))
            continue;
        if (n <= 0) {
            if (have_head && !head.chunked && head.content_length < 0) {
                /* A close-delimited body ends here. */
                if (buf_add(body, resp->data + head_at + head.head_len,
                            resp->len - head_at - head.head_len) != RC_OK)
                    return RC_PROTOCOL;
                head.close = 1;
                break;
            }
            snprintf(err, errlen, "%s closed the connection %s", c->base,
                     resp->len ? "in the middle of a reply" : "without answering");
            return RC_NETWORK;
        }
        *nothing_read = 0;
        if (buf_add(resp, chunk, (size_t)n) != RC_OK) {
            snprintf(err, errlen, "%s sent a reply larger than %zu bytes", c->base,
                     CLIENT_MAX_REPLY_BYTES);
            sodium_memzero(chunk, sizeof chunk);
            return RC_PROTOCOL;
        }
        while (!have_head) {
            enum rc rc = httpparse_head(resp->data + head_at, resp->len - head_at, &head);
            if (rc == RC_INCOMPLETE)
                break;
            if (rc != RC_OK) {
                snprintf(err, errlen, "%s did not answer in HTTP/1.1", c->base);
                return RC_PROTOCOL;
            }
            if (head.status >= 200) {
                have_head = 1;
            } else {
                head_at += head.head_len; /* skip 1xx interim answers */
            }
        }
    }
    sodium_memzero(chunk, sizeof chunk);
    *status = head.status;
    *head_start = head_at;
    *head_len = head.head_len;
    if (head.close)
        close_socket(c);
    return RC_OK;
}

static enum rc plain_request(struct client *c, const char *method, const char *path,
                             const char *payload, const char *ctype, long *status, struct buf *body,
                             char expiration[CLIENT_EXPIRATION_SIZE], char *err, size_t errlen)
{
    struct buf req, resp;
    buf_init(&req, CLIENT_MAX_REPLY_BYTES);
    buf_init(&resp, CLIENT_MAX_REPLY_BYTES + HTTPPARSE_MAX_HEAD);
    size_t plen = payload ? strlen(payload) : 0;
    int needs_length = payload || (strcmp(method, "GET") != 0 && strcmp(method, "DELETE") != 0);
    enum rc rc = buf_addf(&req,
                          "%s %s%s HTTP/1.1\r\nHost: %s\r\nUser-Agent: %s\r\n"
                          "Accept: application/json\r\n",
                          method, c->prefix, path, c->host_header, c->user_agent);
    if (rc == RC_OK && c->auth_header)
        rc = buf_addf(&req, "%s\r\n", c->auth_header);
    if (rc == RC_OK && payload)
        rc = buf_addf(&req, "Content-Type: %s\r\n", ctype);
    if (rc == RC_OK && needs_length)
        rc = buf_addf(&req, "Content-Length: %zu\r\n", plen);
    if (rc == RC_OK)
        rc = buf_adds(&req, "\r\n");
    if (rc == RC_OK && payload)
        rc = buf_add(&req, payload, plen);
    if (rc != RC_OK)
        goto out;

    /* A kept-alive socket may have been closed by the server while idle; then, and only when
     * nothing at all came back, the request is sent once more on a new connection. */
    for (int attempt = 0; attempt < 2; attempt++) {
        int reused = c->fd >= 0;
        if (!reused && (rc = plain_connect(c, err, errlen)) != RC_OK)
            goto out;
        int nothing_read = 1;
        buf_reset(&resp);
        buf_reset(body);
        if (send_all(c->fd, req.data, req.len, timefmt_monotonic_ms() + IO_TIMEOUT_MS) != 0) {
            close_socket(c);
            if (reused)
                continue;
            snprintf(err, errlen, "cannot send to %s: %s", c->base, strerror(errno));
            rc = RC_NETWORK;
            goto out;
        }
        size_t head_start = 0, head_len = 0;
        rc = read_response(c, &resp, body, status, &nothing_read, &head_start, &head_len, err,
                           errlen);
        if (rc == RC_OK) {
            httpparse_header(resp.data + head_start, head_len, EXPIRATION_HEADER, expiration,
                             CLIENT_EXPIRATION_SIZE);
            goto out;
        }
        close_socket(c);
        if (!(reused && nothing_read && rc == RC_NETWORK))
            goto out;
    }
out:
    buf_release_secret(&req);  /* holds the Authorization header */
    buf_release_secret(&resp); /* replies can carry a new token */
    return rc;
}

/* --- HTTPS through libcurl ------------------------------------------------------------- */

static enum rc load_curl(struct client *c, char *err, size_t errlen)
{
    if (c->easy)
        return RC_OK;
    struct curl_api *a = &c->curl;
    a->lib = dlopen("libcurl.so.4", RTLD_NOW | RTLD_LOCAL);
    if (!a->lib) {
        snprintf(err, errlen, "https:// hosts need libcurl (Debian package libcurl4): %s",
                 dlerror());
        return RC_NETWORK;
    }
#define RESOLVE(field, name)                                                                       \
    do {                                                                                           \
        *(void **)&a->field = dlsym(a->lib, name);                                                 \
        if (!a->field) {                                                                           \
            snprintf(err, errlen, "libcurl lacks %s", name);                                       \
            return RC_NETWORK;                                                                     \
        }                                                                                          \
    } while (0)
    RESOLVE(global_init, "curl_global_init");
    RESOLVE(easy_init, "curl_easy_init");
    RESOLVE(easy_setopt, "curl_easy_setopt");
    RESOLVE(easy_perform, "curl_easy_perform");
    RESOLVE(easy_getinfo, "curl_easy_getinfo");
    RESOLVE(easy_reset, "curl_easy_reset");
    RESOLVE(easy_cleanup, "curl_easy_cleanup");
    RESOLVE(easy_strerror, "curl_easy_strerror");
    RESOLVE(slist_append, "curl_slist_append");
    RESOLVE(slist_free_all, "curl_slist_free_all");
#undef RESOLVE
    if (a->global_init(CURL_GLOBAL_DEFAULT) != CURLE_OK || !(c->easy = a->easy_init())) {
        snprintf(err, errlen, "cannot initialise libcurl");
        return RC_NETWORK;
    }
    return RC_OK;
}

/* libcurl's header callback: keep the token expiration header's value. */
static size_t on_header(char *ptr, size_t size, size_t nmemb, void *userdata)
{
    size_t n = size * nmemb;
    httpparse_header(ptr, n, EXPIRATION_HEADER, userdata, CLIENT_EXPIRATION_SIZE);
    return n;
}

static size_t on_data(char *ptr, size_t size, size_t nmemb, void *userdata)
{
    struct buf *b = userdata;
    size_t n = size * nmemb;
    return buf_add(b, ptr, n) == RC_OK ? n : 0;
}

/* Say what went wrong with a failed transfer, and for certificate trouble what to do next. */
static void transfer_error(struct client *c, CURLcode cc, char *err, size_t errlen)
{
    const char *detail = c->curl_error[0] ? c->curl_error : c->curl.easy_strerror(cc);
    c->tls_failed = cc == CURLE_PEER_FAILED_VERIFICATION || cc == CURLE_SSL_CACERT_BADFILE ||
                    cc == CURLE_SSL_CONNECT_ERROR;
    if (cc == CURLE_PEER_FAILED_VERIFICATION && ca_file)
        snprintf(err, errlen,
                 "cannot reach %s: the TLS certificate of %s could not be verified "
                 "with the CA file %s (%s)",
                 c->base, c->hostname, ca_file, detail);
    else if (cc == CURLE_PEER_FAILED_VERIFICATION && ca_dir)
        snprintf(err, errlen,
                 "cannot reach %s: the TLS certificate of %s could not be verified "
                 "with the system's CAs and those in %s (%s)",
                 c->base, c->hostname, ca_dir, detail);
    else if (cc == CURLE_PEER_FAILED_VERIFICATION)
        snprintf(err, errlen,
                 "cannot reach %s: the TLS certificate of %s could not be verified "
                 "(%s); if your own CA signed it, set SSL_CERT_FILE to that CA's PEM file",
                 c->base, c->hostname, detail);
    else if (cc == CURLE_SSL_CACERT_BADFILE && ca_file)
        snprintf(err, errlen,
                 "cannot use the CA file %s for %s (%s): SSL_CERT_FILE or "
                 "CURL_CA_BUNDLE must name a readable PEM file",
                 ca_file, c->base, detail);
    else if (cc == CURLE_SSL_CONNECT_ERROR)
        snprintf(err, errlen,
                 "cannot reach %s: the TLS handshake with %s failed (%s); if the "
                 "server speaks plain HTTP, use http://",
                 c->base, c->hostname, detail);
    else
        snprintf(err, errlen, "cannot reach %s: %s", c->base, detail);
}

static enum rc curl_request(struct client *c, const char *method, const char *path,
                            const char *payload, const char *ctype, long *status, struct buf *body,
                            char expiration[CLIENT_EXPIRATION_SIZE], char *err, size_t errlen)
{
    enum rc rc = load_curl(c, err, errlen);
    if (rc != RC_OK)
        return rc;
    struct curl_api *a = &c->curl;
    struct buf url, ct;
    buf_init(&url, 8192);
    buf_init(&ct, 256);
    struct curl_slist *headers = NULL;
    if ((rc = buf_addf(&url, "%s%s", c->base, path)) != RC_OK)
        goto out;
    headers = a->slist_append(headers, "Accept: application/json");
    if (c->auth_header)
        headers = a->slist_append(headers, c->auth_header);
    if (payload && (rc = buf_addf(&ct, "Content-Type: %s", ctype)) != RC_OK)
        goto out;
    if (payload)
        headers = a->slist_append(headers, buf_str(&ct));
    CURL *h = c->easy;
    c->tls_failed = 0;
    a->easy_reset(h);
    c->curl_error[0] = '\0';
    a->easy_setopt(h, CURLOPT_URL, buf_str(&url));
    a->easy_setopt(h, CURLOPT_CUSTOMREQUEST, method);
    a->easy_setopt(h, CURLOPT_HTTPHEADER, headers);
    a->easy_setopt(h, CURLOPT_USERAGENT, c->user_agent);
    a->easy_setopt(h, CURLOPT_WRITEFUNCTION, on_data);
    a->easy_setopt(h, CURLOPT_WRITEDATA, body);
    a->easy_setopt(h, CURLOPT_HEADERFUNCTION, on_header);
    a->easy_setopt(h, CURLOPT_HEADERDATA, expiration);
    a->easy_setopt(h, CURLOPT_ERRORBUFFER, c->curl_error);
    a->easy_setopt(h, CURLOPT_TIMEOUT, CLIENT_TIMEOUT_SECONDS);
    a->easy_setopt(h, CURLOPT_CONNECTTIMEOUT, 10L);
    a->easy_setopt(h, CURLOPT_NOSIGNAL, 1L);
    /* Never follow redirects: one could carry the bearer token to another host. */
    a->easy_setopt(h, CURLOPT_FOLLOWLOCATION, 0L);
    a->easy_setopt(h, CURLOPT_PROTOCOLS_STR, "https");
    /* Verification stays on whatever happens: a failure is reported, never worked around. */
    a->easy_setopt(h, CURLOPT_SSL_VERIFYPEER, 1L);
    a->easy_setopt(h, CURLOPT_SSL_VERIFYHOST, 2L);
    if (ca_file)
        a->easy_setopt(h, CURLOPT_CAINFO, ca_file);
    if (ca_dir)
        a->easy_setopt(h, CURLOPT_CAPATH, ca_dir);
    if (payload)
        a->easy_setopt(h, CURLOPT_POSTFIELDS, payload);
    else if (strcmp(method, "GET") != 0)
        a->easy_setopt(h, CURLOPT_POSTFIELDSIZE, 0L);
    if (strcmp(method, "GET") == 0)
        a->easy_setopt(h, CURLOPT_HTTPGET, 1L);
    CURLcode cc = a->easy_perform(h);
    if (cc != CURLE_OK) {
        transfer_error(c, cc, err, errlen);
        rc = RC_NETWORK;
        goto out;
    }
    a->easy_getinfo(h, CURLINFO_RESPONSE_CODE, status);
out:
    a->slist_free_all(headers); /* the list holds a copy of the Authorization header */
    buf_release(&url);
    buf_release(&ct);
    return rc;
}

/* --- common ---------------------------------------------------------------------------- */

/* Send payload (NULL: none) of type ctype and parse the JSON answer into reply. */
static enum rc send_payload(struct client *c, const char *method, const char *path,
                            const char *payload, const char *ctype, struct client_reply *reply,
                            char *err, size_t errlen)
{
    struct buf resp;
    buf_init(&resp, CLIENT_MAX_REPLY_BYTES);
    enum rc rc = c->tls ? curl_request(c, method, path, payload, ctype, &reply->status, &resp,
                                       reply->token_expiration, err, errlen)
                        : plain_request(c, method, path, payload, ctype, &reply->status, &resp,
                                        reply->token_expiration, err, errlen);
    if (rc == RC_OK && resp.len > 0) {
        json_error_t jerr;
        reply->body = json_loadb(resp.data, resp.len, 0, &jerr);
        if (!reply->body) {
            snprintf(err, errlen, "%s answered HTTP %ld with a body that is not JSON", c->base,
                     reply->status);
            rc = RC_PROTOCOL;
        }
    }
    buf_release_secret(&resp);
    return rc;
}

enum rc client_request(struct client *c, const char *method, const char *path, const json_t *body,
                       struct client_reply *reply, char *err, size_t errlen)
{
    reply->status = 0;
    reply->body = NULL;
    reply->token_expiration[0] = '\0';
    char *payload = body ? json_to_string(body) : NULL;
    if (body && !payload)
        return RC_NOMEM;
    enum rc rc = send_payload(c, method, path, payload, "application/json", reply, err, errlen);
    if (payload) {
        sodium_memzero(payload, strlen(payload));
        free(payload);
    }
    return rc;
}

enum rc client_post_form(struct client *c, const char *path, const char *form,
                         struct client_reply *reply, char *err, size_t errlen)
{
    reply->status = 0;
    reply->body = NULL;
    reply->token_expiration[0] = '\0';
    return send_payload(c, "POST", path, form ? form : "", "application/x-www-form-urlencoded",
                        reply, err, errlen);
}

void client_reply_release(struct client_reply *reply)
{
    json_decref(reply->body);
    reply->body = NULL;
}

const char *client_reply_error(const struct client_reply *reply)
{
    static const char *const fallback = "the server answered with an error";
    if (!reply->body)
        return fallback;
    const char *s = json_string_value(json_object_get(reply->body, "error"));
    if (!s)
        s = json_string_value(json_object_get(reply->body, "message"));
    return s && *s ? s : fallback;
}

enum rc client_escape_segment(const char *s, char *out, size_t size)
{
    static const char hex[] = "0123456789ABCDEF";
    size_t j = 0;
    for (size_t i = 0; s[i]; i++) {
        unsigned char ch = (unsigned char)s[i];
        int plain = (ch >= 'a' && ch <= 'z') || (ch >= 'A' && ch <= 'Z') ||
                    (ch >= '0' && ch <= '9') || ch == '-' || ch == '_' || ch == '.' || ch == '~';
        if (j + (plain ? 1 : 3) >= size)
            return RC_TOO_LARGE;
        if (plain) {
            out[j++] = (char)ch;
        } else {
            out[j++] = '%';
            out[j++] = hex[ch >> 4];
            out[j++] = hex[ch & 15];
        }
    }
    out[j] = '\0';
    return RC_OK;
}
