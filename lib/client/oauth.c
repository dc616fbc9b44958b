/* oauth.c: the CLI's OAuth 2.0 client (see oauth.h): discovery, PKCE and the authorization
 * URL, the token endpoint (code, refresh and device grants) and the loopback redirect
 * listener. Moved out of the front end; the front end prints and reads the environment. */
#include "oauth.h"

#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include <sodium.h>

#include "form.h"
#include "timefmt.h"
#include "banned.h"

#define DEVICE_GRANT "urn:ietf:params:oauth:grant-type:device_code"
#define DEVICE_MAX_SECONDS 1800 /* however long the server says a code lives */
#define REQUEST_WAIT_MS 5000    /* for one browser request on the loopback listener */

enum rc oauth_form_add(struct buf *b, const char *name, const char *value, char sep)
{
    static const char hex[] = "0123456789ABCDEF";
    enum rc rc = RC_OK;
    if (sep)
        rc = buf_addc(b, sep);
    const char *parts[2] = {name, value};
    for (int p = 0; p < 2 && rc == RC_OK; p++) {
        if (p == 1)
            rc = buf_addc(b, '=');
        for (const unsigned char *c = (const unsigned char *)parts[p]; *c && rc == RC_OK; c++) {
            int plain = (*c >= 'a' && *c <= 'z') || (*c >= 'A' && *c <= 'Z') ||
                        (*c >= '0' && *c <= '9') || *c == '-' || *c == '_' || *c == '.' ||
                        *c == '~';
            if (plain) {
                rc = buf_addc(b, (char)*c);
            } else {
                char esc[4] = {'%', hex[*c >> 4], hex[*c & 15], '\0'};
                rc = buf_adds(b, esc);
            }
        }
    }
    return rc;
}

/* Copy the string member key of o into out; 0 if it is missing, not a string or too long. */
static int copy_str(const json_t *o, const char *key, char *out, size_t size)
{
    const char *v = json_string_value(json_object_get(o, key));
    if (!v || !*v || strlen(v) >= size)
        return 0;
    snprintf(out, size, "%s", v);
    return 1;
}

/* Whether list (absent: yes) holds the string want. */
static int list_allows(const json_t *list, const char *want)
{
    if (!list)
        return 1;
    size_t i;
    json_t *v;
    json_array_foreach(list, i, v)
    {
        const char *s = json_string_value(v);
        if (s && strcmp(s, want) == 0)
            return 1;
    }
    return 0;
}

/* An endpoint must be https://, or http:// when the API host itself is plain HTTP (a local
 * or private pccd: the bearer token travels in the clear there anyway). */
static int endpoint_ok(const char *api_host, const char *url)
{
    if (strncmp(url, "https://", 8) == 0)
        return 1;
    return strncmp(url, "http://", 7) == 0 && strncmp(api_host, "http://", 7) == 0;
}

enum rc oauth_discover(const char *api_host, const char *user_agent, struct oauth_endpoints *ep,
                       char *err, size_t errlen)
{
    char why[512];
    memset(ep, 0, sizeof *ep);
    struct client *c = NULL;
    struct client_reply r = {0};
    enum rc status = RC_PROTOCOL;
    if (client_new(api_host, user_agent, &c) != RC_OK) {
        snprintf(err, errlen, "PIPECAT_API_HOST '%s' is not an http:// or https:// URL", api_host);
        return RC_INVALID;
    }
    enum rc rc = client_request(c, "GET", "/auth/config", NULL, &r, why, sizeof why);
    if (rc != RC_OK || r.status != 200) {
        snprintf(err, errlen, "Failed to fetch authentication configuration from %s: %s",
                 client_host(c), rc != RC_OK ? why : client_reply_error(&r));
        status = rc == RC_NETWORK ? RC_NETWORK : RC_PROTOCOL;
        goto out;
    }
    if (!copy_str(r.body, "issuer", ep->issuer, sizeof ep->issuer) ||
        !copy_str(r.body, "client_id", ep->client_id, sizeof ep->client_id) ||
        !copy_str(r.body, "scopes", ep->scopes, sizeof ep->scopes)) {
        snprintf(err, errlen,
                 "Failed to fetch authentication configuration: %s/auth/config "
                 "lacks issuer, client_id or scopes",
                 client_host(c));
        goto out;
    }
    client_reply_release(&r);
    client_free(c);
    c = NULL;
    if (client_new(ep->issuer, user_agent, &c) != RC_OK) {
        snprintf(err, errlen, "the issuer '%s' is not an http:// or https:// URL", ep->issuer);
        goto out;
    }
    rc = client_request(c, "GET", "/.well-known/openid-configuration", NULL, &r, why, sizeof why);
    if (rc != RC_OK || r.status != 200) {
        snprintf(err, errlen, "cannot read the OpenID configuration of %s: %s", ep->issuer,
                 rc != RC_OK ? why : client_reply_error(&r));
        status = rc == RC_NETWORK ? RC_NETWORK : RC_PROTOCOL;
        goto out;
    }
    const char *issuer = json_string_value(json_object_get(r.body, "issuer"));
    if (!issuer || strcmp(issuer, ep->issuer) != 0) {
        snprintf(err, errlen, "the OpenID configuration names issuer '%s', not '%s': refusing it",
                 issuer ? issuer : "(none)", ep->issuer);
        goto out;
    }
    if (!copy_str(r.body, "authorization_endpoint", ep->authorize, sizeof ep->authorize) ||
        !copy_str(r.body, "token_endpoint", ep->token, sizeof ep->token)) {
        snprintf(err, errlen, "the OpenID configuration of %s lacks its endpoints", ep->issuer);
        goto out;
    }
    if (!copy_str(r.body, "device_authorization_endpoint", ep->device, sizeof ep->device))
        ep->device[0] = '\0';
    if (!endpoint_ok(api_host, ep->authorize) || !endpoint_ok(api_host, ep->token) ||
        (ep->device[0] && !endpoint_ok(api_host, ep->device))) {
        snprintf(err, errlen,
                 "the OpenID configuration of %s names endpoints that are not https://",
                 ep->issuer);
        goto out;
    }
    if (!list_allows(json_object_get(r.body, "code_challenge_methods_supported"), "S256") ||
        !list_allows(json_object_get(r.body, "response_types_supported"), "code")) {
        snprintf(err, errlen, "%s does not support the authorization code flow with PKCE S256",
                 ep->issuer);
        goto out;
    }
    status = RC_OK;
out:
    client_reply_release(&r);
    client_free(c);
    return status;
}

/* --- PKCE and the authorization URL -------------------------------------------------------- */

/* A base64url (no padding) text of n random bytes into out. */
static void random_b64url(size_t n, char *out, size_t size)
{
    unsigned char raw[64];
    randombytes_buf(raw, n);
    sodium_bin2base64(out, size, raw, n, sodium_base64_VARIANT_URLSAFE_NO_PADDING);
    sodium_memzero(raw, sizeof raw);
}

void oauth_pkce_new(struct oauth_pkce *p)
{
    random_b64url(48, p->verifier, sizeof p->verifier);
    random_b64url(32, p->state, sizeof p->state);
    unsigned char digest[crypto_hash_sha256_BYTES];
    crypto_hash_sha256(digest, (const unsigned char *)p->verifier, strlen(p->verifier));
    sodium_bin2base64(p->challenge, sizeof p->challenge, digest, sizeof digest,
                      sodium_base64_VARIANT_URLSAFE_NO_PADDING);
}

void oauth_pkce_wipe(struct oauth_pkce *p) { sodium_memzero(p, sizeof *p); }

enum rc oauth_authorize_url(const struct oauth_endpoints *ep, const struct oauth_pkce *p,
                            const char *redirect, struct buf *url)
{
    enum rc rc;
    if ((rc = buf_adds(url, ep->authorize)) != RC_OK ||
        (rc = oauth_form_add(url, "response_type", "code",
                             strchr(ep->authorize, '?') ? '&' : '?')) != RC_OK ||
        (rc = oauth_form_add(url, "client_id", ep->client_id, '&')) != RC_OK ||
        (rc = oauth_form_add(url, "redirect_uri", redirect, '&')) != RC_OK ||
        (rc = oauth_form_add(url, "scope", ep->scopes, '&')) != RC_OK ||
        (rc = oauth_form_add(url, "code_challenge", p->challenge, '&')) != RC_OK ||
        (rc = oauth_form_add(url, "code_challenge_method", "S256", '&')) != RC_OK ||
        (rc = oauth_form_add(url, "state", p->state, '&')) != RC_OK)
        return rc;
    return RC_OK;
}

/* --- the token endpoint -------------------------------------------------------------------- */

/* A usable access token: present, and no line break to smuggle into a header. */
static int has_access_token(const json_t *body)
{
    const char *at = json_string_value(json_object_get(body, "access_token"));
    return at && *at && !strpbrk(at, "\r\n");
}

enum rc oauth_token_post(const struct oauth_endpoints *ep, const char *user_agent, const char *form,
                         struct client_reply *reply, char *err, size_t errlen)
{
    struct client *c = NULL;
    memset(reply, 0, sizeof *reply);
    if (client_new(ep->token, user_agent, &c) != RC_OK) {
        snprintf(err, errlen, "the token endpoint '%s' is not a URL", ep->token);
        return RC_INVALID;
    }
    enum rc rc = client_post_form(c, "", form, reply, err, errlen);
    client_free(c);
    if (rc != RC_OK)
        return rc;
    if (reply->status != 200) {
        const char *desc = json_string_value(json_object_get(reply->body, "error_description"));
        snprintf(err, errlen, "%s (HTTP %ld)", desc && *desc ? desc : client_reply_error(reply),
                 reply->status);
        client_reply_release(reply);
        return RC_UNAUTHORIZED;
    }
    if (!has_access_token(reply->body)) {
        snprintf(err, errlen, "the token endpoint answered without an access_token");
        client_reply_release(reply);
        return RC_PROTOCOL;
    }
    return RC_OK;
}

enum rc oauth_exchange_code(const struct oauth_endpoints *ep, const char *user_agent,
                            const char *code, const char *redirect, const char *verifier,
                            struct client_reply *reply, char *err, size_t errlen)
{
    struct buf form;
    buf_init(&form, 8192);
    enum rc rc;
    memset(reply, 0, sizeof *reply);
    if ((rc = oauth_form_add(&form, "grant_type", "authorization_code", 0)) != RC_OK ||
        (rc = oauth_form_add(&form, "code", code, '&')) != RC_OK ||
        (rc = oauth_form_add(&form, "redirect_uri", redirect, '&')) != RC_OK ||
        (rc = oauth_form_add(&form, "client_id", ep->client_id, '&')) != RC_OK ||
        (rc = oauth_form_add(&form, "code_verifier", verifier, '&')) != RC_OK) {
        snprintf(err, errlen, "the token request is too long");
        goto out;
    }
    rc = oauth_token_post(ep, user_agent, buf_str(&form), reply, err, errlen);
out:
    buf_release_secret(&form);
    return rc;
}

enum rc oauth_refresh(const struct oauth_endpoints *ep, const char *user_agent,
                      const char *refresh_token, struct client_reply *reply, char *err,
                      size_t errlen)
{
    struct buf form;
    buf_init(&form, 8192);
    enum rc rc;
    memset(reply, 0, sizeof *reply);
    if ((rc = oauth_form_add(&form, "grant_type", "refresh_token", 0)) != RC_OK ||
        (rc = oauth_form_add(&form, "refresh_token", refresh_token, '&')) != RC_OK ||
        (rc = oauth_form_add(&form, "client_id", ep->client_id, '&')) != RC_OK) {
        snprintf(err, errlen, "the refresh token is too long");
        goto out;
    }
    rc = oauth_token_post(ep, user_agent, buf_str(&form), reply, err, errlen);
out:
    buf_release_secret(&form);
    return rc;
}

double oauth_expires_in(const json_t *body)
{
    json_t *v = json_object_get(body, "expires_in");
    double d = json_is_number(v) ? json_number_value(v) : 86400;
    return d > 0 ? d : 86400;
}

/* --- the loopback redirect ----------------------------------------------------------------- */

enum rc oauth_loopback_open(struct oauth_loopback *lb, int first, int last)
{
    memset(lb, 0, sizeof *lb);
    lb->fd = -1;
    for (int p = first; p <= last; p++) {
        int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
        if (fd < 0)
            return RC_IO;
        int one = 1;
        setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
        struct sockaddr_in a = {.sin_family = AF_INET, .sin_port = htons((uint16_t)p)};
        a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
        socklen_t alen = sizeof a;
        if (bind(fd, (struct sockaddr *)&a, sizeof a) == 0 && listen(fd, 8) == 0 &&
            getsockname(fd, (struct sockaddr *)&a, &alen) == 0) {
            lb->fd = fd;
            lb->port = ntohs(a.sin_port);
            snprintf(lb->redirect, sizeof lb->redirect, "http://127.0.0.1:%d%s", lb->port,
                     OAUTH_CALLBACK_PATH);
            return RC_OK;
        }
        close(fd);
    }
    return RC_CONFLICT;
}

void oauth_loopback_close(struct oauth_loopback *lb)
{
    if (lb->fd >= 0)
        close(lb->fd);
    lb->fd = -1;
}

static void answer(int fd, int code, const char *title, const char *text)
{
    char page[1024], head[256];
    int n = snprintf(page, sizeof page,
                     "<!doctype html><html><head><meta charset=\"utf-8\"><title>%s</title>"
                     "</head><body style=\"font-family:sans-serif;margin:3em\"><h1>%s</h1>"
                     "<p>%s</p></body></html>\n",
                     title, title, text);
    int h = snprintf(head, sizeof head,
                     "HTTP/1.1 %d %s\r\nContent-Type: text/html; charset=utf-8\r\n"
                     "Content-Length: %d\r\nCache-Control: no-store\r\n"
                     "Referrer-Policy: no-referrer\r\nConnection: close\r\n\r\n",
                     code, code == 200 ? "OK" : "Not Found", n);
    if (send(fd, head, (size_t)h, MSG_NOSIGNAL) == h)
        (void)!send(fd, page, (size_t)n, MSG_NOSIGNAL);
}

/* Read one request from a browser (5 s at most); 1 and cb filled for GET /oauth_callback,
 * 0 for anything else (answered 404). */
static int serve_one(int fd, const char *want_state, struct oauth_callback *cb)
{
    char req[8192];
    size_t len = 0;
    int64_t deadline = timefmt_monotonic_ms() + REQUEST_WAIT_MS;
    while (len < sizeof req - 1 && !memmem(req, len, "\r\n\r\n", 4)) {
        int64_t left = deadline - timefmt_monotonic_ms();
        struct pollfd p = {.fd = fd, .events = POLLIN};
        if (left <= 0 || poll(&p, 1, (int)left) != 1)
            return 0;
        ssize_t n = recv(fd, req + len, sizeof req - 1 - len, 0);
        if (n < 0 && errno == EINTR)
            continue;
        if (n <= 0)
            break;
        len += (size_t)n;
    }
    req[len] = '\0';
    const char *target = strncmp(req, "GET ", 4) == 0 ? req + 4 : NULL;
    size_t plen = strlen(OAUTH_CALLBACK_PATH);
    if (!target || strncmp(target, OAUTH_CALLBACK_PATH, plen) != 0 ||
        (target[plen] != '?' && target[plen] != ' ')) {
        answer(fd, 404, "Not found", "This address only receives the sign-in answer.");
        return 0;
    }
    const char *q = target[plen] == '?' ? target + plen + 1 : "";
    size_t qlen = strcspn(q, " #");
    memset(cb, 0, sizeof *cb);
    form_get(q, qlen, "code", cb->code, sizeof cb->code);
    form_get(q, qlen, "state", cb->state, sizeof cb->state);
    form_get(q, qlen, "error", cb->error, sizeof cb->error);
    size_t sl = strlen(want_state);
    cb->state_ok = strlen(cb->state) == sl && sodium_memcmp(cb->state, want_state, sl) == 0;
    if (!cb->state_ok)
        answer(fd, 200, "Sign-in failed",
               "The answer did not match the sign-in the CLI started. Nothing was stored; "
               "run the login command again.");
    else if (cb->error[0])
        answer(fd, 200, "Sign-in cancelled",
               "The CLI was not authorized. You can close this window.");
    else if (cb->code[0])
        answer(fd, 200, "Signed in",
               "The pipecat CLI received your sign-in. You can close this window and return "
               "to the terminal.");
    else
        answer(fd, 200, "Sign-in failed", "No authorization code came back.");
    sodium_memzero(req, sizeof req);
    return 1;
}

enum rc oauth_loopback_wait(struct oauth_loopback *lb, const char *state, int64_t timeout_ms,
                            struct oauth_callback *cb)
{
    int64_t deadline = timefmt_monotonic_ms() + timeout_ms;
    for (;;) {
        int64_t left = deadline - timefmt_monotonic_ms();
        struct pollfd p = {.fd = lb->fd, .events = POLLIN};
        int pr = left > 0 ? poll(&p, 1, left > 0x7fffffff ? 0x7fffffff : (int)left) : 0;
        if (pr < 0 && errno == EINTR)
            continue;
        if (pr <= 0)
            return RC_UNAVAILABLE;
        int cfd = accept4(lb->fd, NULL, NULL, SOCK_CLOEXEC);
        if (cfd < 0)
            continue;
        int got = serve_one(cfd, state, cb);
        close(cfd);
        if (got)
            return RC_OK;
    }
}

/* --- the device authorization grant -------------------------------------------------------- */

/* 1 when s is short and holds only printable ASCII without spaces (what may go to a terminal
 * from a server's answer). */
static int printable(const char *s, size_t max)
{
    if (!s || !*s || strlen(s) > max)
        return 0;
    for (const char *p = s; *p; p++)
        if (*p <= ' ' || *p > '~')
            return 0;
    return 1;
}

enum rc oauth_device_start(const struct oauth_endpoints *ep, const char *user_agent,
                           struct oauth_device *d, char *err, size_t errlen)
{
    struct client *c = NULL;
    struct client_reply r = {0};
    struct buf form;
    buf_init(&form, 8192);
    char why[512];
    enum rc status = RC_PROTOCOL;
    memset(d, 0, sizeof *d);
    if (!ep->device[0]) {
        snprintf(err, errlen, "%s has no device_authorization_endpoint", ep->issuer);
        status = RC_NOT_IMPLEMENTED;
        goto out;
    }
    if (client_new(ep->device, user_agent, &c) != RC_OK) {
        snprintf(err, errlen, "the device authorization endpoint is not a URL");
        goto out;
    }
    if (oauth_form_add(&form, "client_id", ep->client_id, 0) != RC_OK ||
        oauth_form_add(&form, "scope", ep->scopes, '&') != RC_OK) {
        snprintf(err, errlen, "the device authorization request is too long");
        goto out;
    }
    if ((status = client_post_form(c, "", buf_str(&form), &r, why, sizeof why)) != RC_OK) {
        snprintf(err, errlen, "cannot start the headless sign-in: %s", why);
        goto out;
    }
    status = RC_PROTOCOL;
    if (r.status != 200) {
        const char *desc = json_string_value(json_object_get(r.body, "error_description"));
        snprintf(err, errlen, "cannot start the headless sign-in: %s (HTTP %ld)",
                 desc && *desc ? desc : client_reply_error(&r), r.status);
        goto out;
    }
    const char *user_code = json_string_value(json_object_get(r.body, "user_code"));
    const char *uri = json_string_value(json_object_get(r.body, "verification_uri"));
    const char *complete = json_string_value(json_object_get(r.body, "verification_uri_complete"));
    json_t *jexp = json_object_get(r.body, "expires_in");
    json_t *jint = json_object_get(r.body, "interval");
    if (!copy_str(r.body, "device_code", d->device_code, sizeof d->device_code) ||
        !printable(user_code, 64) || !printable(uri, 1000) || !json_is_integer(jexp) ||
        (complete && !printable(complete, 1100))) {
        snprintf(err, errlen,
                 "the device authorization answer of %s lacks device_code, "
                 "user_code, verification_uri or expires_in",
                 ep->issuer);
        goto out;
    }
    snprintf(d->user_code, sizeof d->user_code, "%s", user_code);
    snprintf(d->uri, sizeof d->uri, "%s", uri);
    snprintf(d->uri_complete, sizeof d->uri_complete, "%s", complete ? complete : "");
    d->expires_in = (int64_t)json_integer_value(jexp);
    d->interval = json_is_integer(jint) ? (int64_t)json_integer_value(jint) : 5;
    if (d->expires_in < 1 || d->expires_in > DEVICE_MAX_SECONDS)
        d->expires_in = d->expires_in < 1 ? 1 : DEVICE_MAX_SECONDS;
    if (d->interval < 1 || d->interval > 60)
        d->interval = 5;
    status = RC_OK;
out:
    if (status != RC_OK)
        sodium_memzero(d->device_code, sizeof d->device_code);
    client_reply_release(&r);
    buf_release(&form);
    client_free(c);
    return status;
}

/* Sleep ms milliseconds (or less, when the deadline comes first). */
static void sleep_until(int64_t ms, int64_t deadline)
{
    int64_t end = timefmt_monotonic_ms() + ms;
    if (end > deadline)
        end = deadline;
    while (timefmt_monotonic_ms() < end) {
        int64_t left = end - timefmt_monotonic_ms();
        struct timespec ts = {(time_t)(left / 1000), (long)(left % 1000) * 1000000L};
        nanosleep(&ts, NULL);
    }
}

enum oauth_device_result oauth_device_poll(const struct oauth_endpoints *ep, const char *user_agent,
                                           struct oauth_device *d, struct client_reply *tokens,
                                           char *err, size_t errlen)
{
    struct client *c = NULL;
    struct client_reply r = {0};
    struct buf form;
    buf_init(&form, 8192);
    char why[512];
    enum oauth_device_result result = OAUTH_DEVICE_FAILED;
    memset(tokens, 0, sizeof *tokens);
    if (client_new(ep->token, user_agent, &c) != RC_OK) {
        snprintf(err, errlen, "the token endpoint is not a URL");
        goto out;
    }
    int64_t interval = d->interval, deadline = timefmt_monotonic_ms() + d->expires_in * 1000;
    for (;;) {
        sleep_until(interval * 1000, deadline);
        if (timefmt_monotonic_ms() >= deadline) {
            result = OAUTH_DEVICE_EXPIRED;
            goto out;
        }
        buf_reset(&form);
        if (oauth_form_add(&form, "grant_type", DEVICE_GRANT, 0) != RC_OK ||
            oauth_form_add(&form, "device_code", d->device_code, '&') != RC_OK ||
            oauth_form_add(&form, "client_id", ep->client_id, '&') != RC_OK) {
            snprintf(err, errlen, "the token request is too long");
            goto out;
        }
        if (client_post_form(c, "", buf_str(&form), &r, why, sizeof why) != RC_OK) {
            snprintf(err, errlen, "%s", why);
            goto out;
        }
        const char *error = json_string_value(json_object_get(r.body, "error"));
        if (r.status == 200) {
            if (!has_access_token(r.body)) {
                snprintf(err, errlen, "the token endpoint answered without an access_token");
                goto out;
            }
            *tokens = r;
            memset(&r, 0, sizeof r);
            result = OAUTH_DEVICE_APPROVED;
            goto out;
        }
        if (r.status == 400 && error && strcmp(error, "authorization_pending") == 0) {
            /* keep waiting */
        } else if ((r.status == 400 || r.status == 429) && error &&
                   strcmp(error, "slow_down") == 0) {
            interval += 5; /* RFC 8628 3.5: and for every later request */
        } else if (r.status == 400 && error && strcmp(error, "expired_token") == 0) {
            result = OAUTH_DEVICE_EXPIRED;
            goto out;
        } else if (r.status == 400 && error && strcmp(error, "access_denied") == 0) {
            result = OAUTH_DEVICE_DENIED;
            goto out;
        } else {
            const char *desc = json_string_value(json_object_get(r.body, "error_description"));
            snprintf(err, errlen, "%s (HTTP %ld)", desc && *desc ? desc : client_reply_error(&r),
                     r.status);
            goto out;
        }
        client_reply_release(&r);
    }
out:
    sodium_memzero(d->device_code, sizeof d->device_code);
    client_reply_release(&r);
    buf_release_secret(&form);
    client_free(c);
    return result;
}
