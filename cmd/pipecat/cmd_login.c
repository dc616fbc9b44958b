/* cmd_login.c: `auth login` (OAuth 2.0 authorization code grant with PKCE S256 and a loopback
 * redirect, RFC 6749/7636/8252; with --headless the device authorization grant, RFC 8628),
 * the transparent refresh of an expiring OAuth access token (API-COMPAT 2.4) and the
 * server-side revocation of `auth logout` (2.5). */
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <poll.h>
#include <spawn.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include <sodium.h>

#include "cli.h"
#include "form.h"
#include "banned.h"

extern char **environ;

#define LOGIN_WAIT_SECONDS 120
/* Tests may shorten the wait (never lengthen it): honoured only from 1 to 119 seconds. */
#define LOGIN_WAIT_ENV "PIPECAT_LOGIN_TIMEOUT"
#define DEVICE_GRANT "urn:ietf:params:oauth:grant-type:device_code"
#define DEVICE_MAX_SECONDS 1800 /* however long the server says a code lives */
#define CALLBACK_PATH "/oauth_callback"
#define FIRST_PORT 8400
#define LAST_PORT 8404

struct oauth_endpoints {
    char issuer[512];
    char client_id[128];
    char scopes[256];
    char authorize[1024];
    char token[1024];
    char device[1024]; /* the device authorization endpoint; "" when the server has none */
};

static double now_epoch(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static int is_pat(const char *token) { return token && strncmp(token, "pcc_pat_", 8) == 0; }

/* Append name=value (both percent-encoded) to a form or query in b, '&'-separated. */
static enum rc form_add(struct buf *b, const char *name, const char *value, char sep)
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
    json_array_foreach(list, i, v) {
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

/* GET /auth/config and the issuer's discovery document; prints the error and returns an exit
 * code on failure. */
static int oauth_discover(struct session *s, struct oauth_endpoints *ep)
{
    struct cli *cli = s->cli;
    char agent[64], err[512];
    snprintf(agent, sizeof agent, "pcc-cli/%s", PCC_CLI_VERSION);
    memset(ep, 0, sizeof *ep);
    struct client *c = NULL;
    struct client_reply r = {0};
    int status = EXIT_FAIL;
    if (client_new(s->api_host, agent, &c) != RC_OK) {
        out_error(cli, "PIPECAT_API_HOST '%s' is not an http:// or https:// URL", s->api_host);
        return EXIT_USAGE;
    }
    enum rc rc = client_request(c, "GET", "/auth/config", NULL, &r, err, sizeof err);
    if (rc != RC_OK || r.status != 200) {
        out_error(cli, "Failed to fetch authentication configuration from %s: %s",
                  client_host(c), rc != RC_OK ? err : client_reply_error(&r));
        goto out;
    }
    if (!copy_str(r.body, "issuer", ep->issuer, sizeof ep->issuer) ||
        !copy_str(r.body, "client_id", ep->client_id, sizeof ep->client_id) ||
        !copy_str(r.body, "scopes", ep->scopes, sizeof ep->scopes)) {
        out_error(cli, "Failed to fetch authentication configuration: %s/auth/config lacks "
                       "issuer, client_id or scopes", client_host(c));
        goto out;
    }
    client_reply_release(&r);
    client_free(c);
    c = NULL;
    if (client_new(ep->issuer, agent, &c) != RC_OK) {
        out_error(cli, "the issuer '%s' is not an http:// or https:// URL", ep->issuer);
        goto out;
    }
    rc = client_request(c, "GET", "/.well-known/openid-configuration", NULL, &r, err,
                        sizeof err);
    if (rc != RC_OK || r.status != 200) {
        out_error(cli, "cannot read the OpenID configuration of %s: %s", ep->issuer,
                  rc != RC_OK ? err : client_reply_error(&r));
        goto out;
    }
    const char *issuer = json_string_value(json_object_get(r.body, "issuer"));
    if (!issuer || strcmp(issuer, ep->issuer) != 0) {
        out_error(cli, "the OpenID configuration names issuer '%s', not '%s': refusing it",
                  issuer ? issuer : "(none)", ep->issuer);
        goto out;
    }
    if (!copy_str(r.body, "authorization_endpoint", ep->authorize, sizeof ep->authorize) ||
        !copy_str(r.body, "token_endpoint", ep->token, sizeof ep->token)) {
        out_error(cli, "the OpenID configuration of %s lacks its endpoints", ep->issuer);
        goto out;
    }
    if (!copy_str(r.body, "device_authorization_endpoint", ep->device, sizeof ep->device))
        ep->device[0] = '\0';
    if (!endpoint_ok(s->api_host, ep->authorize) || !endpoint_ok(s->api_host, ep->token) ||
        (ep->device[0] && !endpoint_ok(s->api_host, ep->device))) {
        out_error(cli, "the OpenID configuration of %s names endpoints that are not https://",
                  ep->issuer);
        goto out;
    }
    if (!list_allows(json_object_get(r.body, "code_challenge_methods_supported"), "S256") ||
        !list_allows(json_object_get(r.body, "response_types_supported"), "code")) {
        out_error(cli, "%s does not support the authorization code flow with PKCE S256",
                  ep->issuer);
        goto out;
    }
    status = EXIT_OK;
out:
    client_reply_release(&r);
    client_free(c);
    return status;
}

/* POST form to the token endpoint; EXIT_OK with reply holding a 200 answer that has an
 * access_token, else an exit code (why in err). */
static int token_post(const struct oauth_endpoints *ep, const char *form,
                      struct client_reply *reply, char *err, size_t errlen)
{
    char agent[64];
    snprintf(agent, sizeof agent, "pcc-cli/%s", PCC_CLI_VERSION);
    struct client *c = NULL;
    memset(reply, 0, sizeof *reply);
    if (client_new(ep->token, agent, &c) != RC_OK) {
        snprintf(err, errlen, "the token endpoint '%s' is not a URL", ep->token);
        return EXIT_FAIL;
    }
    enum rc rc = client_post_form(c, "", form, reply, err, errlen);
    client_free(c);
    if (rc != RC_OK)
        return EXIT_FAIL;
    if (reply->status != 200) {
        const char *desc = json_string_value(json_object_get(reply->body, "error_description"));
        snprintf(err, errlen, "%s (HTTP %ld)", desc && *desc ? desc : client_reply_error(reply),
                 reply->status);
        client_reply_release(reply);
        return EXIT_FAIL;
    }
    const char *at = json_string_value(json_object_get(reply->body, "access_token"));
    if (!at || !*at || strpbrk(at, "\r\n")) {
        snprintf(err, errlen, "the token endpoint answered without an access_token");
        client_reply_release(reply);
        return EXIT_FAIL;
    }
    return EXIT_OK;
}

static double expires_in_of(const json_t *body)
{
    json_t *v = json_object_get(body, "expires_in");
    double d = json_is_number(v) ? json_number_value(v) : 86400;
    return d > 0 ? d : 86400;
}

/* Store a token endpoint answer (and org, when given) in the credentials file and save it. */
static int store_tokens(struct session *s, const json_t *body, const char *org)
{
    const char *at = json_string_value(json_object_get(body, "access_token"));
    const char *rt = json_string_value(json_object_get(body, "refresh_token"));
    enum rc rc;
    if ((rc = credfile_set_token(s->file, at)) != RC_OK ||
        (org && (rc = credfile_set_active_org(s->file, org)) != RC_OK) ||
        (rt && *rt && (rc = credfile_set_refresh_token(s->file, rt)) != RC_OK) ||
        (rc = credfile_set_token_expires_at(s->file, now_epoch() + expires_in_of(body))) !=
            RC_OK) {
        out_error(s->cli, "cannot update the credentials: %s", rc_message(rc));
        return EXIT_FAIL;
    }
    return session_save(s);
}

/* The refresh token to use when the session's token is due for a refresh, else NULL. */
static const char *refresh_due(const struct session *s)
{
    double expires_at;
    if (s->source != TOKEN_SOURCE_FILE || !s->token || is_pat(s->token) ||
        !credfile_token_expires_at(s->file, &expires_at) || expires_at <= 0 ||
        now_epoch() <= expires_at - 60)
        return NULL;
    const char *rt = credfile_get(s->file, "refresh_token");
    return rt && *rt ? rt : NULL; /* none: nothing to refresh with, the server judges */
}

/* Take an exclusive lock on the credentials file and read it again, so that of two commands
 * started together only one spends the refresh token (spending it twice would revoke the
 * whole login); the other finds the new tokens. Returns the lock's descriptor (-1: none). */
static int lock_and_reload(struct session *s)
{
    int fd = open(s->config_path, O_RDONLY | O_CLOEXEC);
    if (fd < 0)
        return -1;
    if (flock(fd, LOCK_EX) != 0) {
        close(fd);
        return -1;
    }
    struct credfile *fresh = NULL;
    char err[256];
    if (credfile_load(s->config_path, &fresh, NULL, err, sizeof err) == RC_OK) {
        credfile_free(s->file);
        s->file = fresh;
        s->token = credfile_get(s->file, "token");
        if (!s->token || !*s->token)
            s->token = credfile_org_get(s->file, "token");
        if (s->token && !*s->token)
            s->token = NULL;
    }
    return fd;
}

int oauth_refresh_if_due(struct session *s)
{
    if (!refresh_due(s))
        return EXIT_OK;
    struct cli *cli = s->cli;
    struct oauth_endpoints ep;
    struct buf form;
    buf_init(&form, 8192);
    struct client_reply r = {0};
    char err[512] = "";
    int status = EXIT_FAIL;
    int lock = lock_and_reload(s);
    const char *rt = refresh_due(s);
    if (!rt) { /* another command refreshed meanwhile (or the file changed) */
        if (s->token && client_set_token(s->client, s->token) == RC_OK) {
            if (lock >= 0)
                close(lock);
            return EXIT_OK;
        }
        snprintf(err, sizeof err, "the credentials file changed meanwhile");
        goto fail;
    }
    status = oauth_discover(s, &ep);
    if (status != EXIT_OK)
        goto fail;
    if (form_add(&form, "grant_type", "refresh_token", 0) != RC_OK ||
        form_add(&form, "refresh_token", rt, '&') != RC_OK ||
        form_add(&form, "client_id", ep.client_id, '&') != RC_OK) {
        snprintf(err, sizeof err, "the refresh token is too long");
        goto fail;
    }
    if (token_post(&ep, buf_str(&form), &r, err, sizeof err) != EXIT_OK)
        goto fail;
    if (store_tokens(s, r.body, NULL) != EXIT_OK)
        goto fail;
    s->token = credfile_get(s->file, "token");
    if (client_set_token(s->client, s->token) != RC_OK)
        goto fail;
    client_reply_release(&r);
    buf_release_secret(&form);
    if (lock >= 0)
        close(lock);
    return EXIT_OK;
fail:
    if (lock >= 0)
        close(lock);
    client_reply_release(&r);
    buf_release_secret(&form);
    if (err[0])
        out_note(cli, "Refreshing the OAuth access token failed: %s", err);
    out_error(cli, "your login expired: run `%s auth login`", cli->prog);
    return EXIT_FAIL;
}

int oauth_logout(struct session *s)
{
    struct cli *cli = s->cli;
    const char *rt = credfile_get(s->file, "refresh_token");
    if (!rt || !*rt || !s->token)
        return 0;
    json_t *body = json_pack("{s:s}", "refresh_token", rt);
    struct client_reply r = {0};
    char err[512];
    enum rc rc = body ? client_request(s->client, "POST", "/auth/logout", body, &r, err,
                                       sizeof err)
                      : RC_NOMEM;
    json_decref(body);
    int revoked = 0;
    if (rc == RC_NETWORK) {
        out_warn(cli, "Could not reach logout endpoint (%s); the session may stay valid until "
                      "it expires.", err);
    } else if (rc == RC_OK && r.status >= 200 && r.status < 300) {
        revoked = 1;
        if (!cli->json)
            printf("Logged out and session revoked.\n");
    } else if (rc == RC_OK && r.status == 503) {
        out_warn(cli, "Session revocation is temporarily unavailable; the access token expires "
                      "on its own within 24 hours.");
    } else if (!cli->json) {
        printf("Local credentials removed. Server-side revocation could not be confirmed%s.\n",
               rc == RC_OK && r.status == 401 ? " (the server rejected the stored token)" : "");
    }
    client_reply_release(&r);
    return revoked;
}

/* --- the loopback redirect ----------------------------------------------------------------- */

static int listen_loopback(int *port)
{
    for (int p = FIRST_PORT; p <= LAST_PORT; p++) {
        int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
        if (fd < 0)
            return -1;
        int one = 1;
        setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
        struct sockaddr_in a = {.sin_family = AF_INET, .sin_port = htons((uint16_t)p)};
        a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
        if (bind(fd, (struct sockaddr *)&a, sizeof a) == 0 && listen(fd, 8) == 0) {
            *port = p;
            return fd;
        }
        close(fd);
    }
    return -1;
}

static int64_t mono_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
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

/* What came back to the redirect URI. */
struct callback {
    char code[512];
    char state[256];
    char error[128];
};

/* Read one request from a browser (5 s at most); 1 and cb filled for GET /oauth_callback,
 * 0 for anything else (answered 404). */
static int serve_one(int fd, const char *want_state, struct callback *cb, int *state_ok)
{
    char req[8192];
    size_t len = 0;
    int64_t deadline = mono_ms() + 5000;
    while (len < sizeof req - 1 && !memmem(req, len, "\r\n\r\n", 4)) {
        int64_t left = deadline - mono_ms();
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
    size_t plen = strlen(CALLBACK_PATH);
    if (!target || strncmp(target, CALLBACK_PATH, plen) != 0 ||
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
    *state_ok = strlen(cb->state) == sl && sodium_memcmp(cb->state, want_state, sl) == 0;
    if (!*state_ok)
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

/* Start xdg-open on url, detached, when a graphical session seems to be there. */
static void open_browser(const char *url)
{
    const char *d = getenv("DISPLAY"), *w = getenv("WAYLAND_DISPLAY");
    if ((!d || !*d) && (!w || !*w))
        return;
    const char *path = getenv("PATH");
    char exe[4096] = "";
    while (path && *path) {
        size_t n = strcspn(path, ":");
        if (n > 0 && n < sizeof exe - 10) {
            snprintf(exe, sizeof exe, "%.*s/xdg-open", (int)n, path);
            if (access(exe, X_OK) == 0)
                break;
        }
        exe[0] = '\0';
        path += n + (path[n] == ':');
    }
    if (!exe[0])
        return;
    posix_spawn_file_actions_t fa;
    posix_spawnattr_t attr;
    posix_spawn_file_actions_init(&fa);
    posix_spawnattr_init(&attr);
    posix_spawn_file_actions_addopen(&fa, 0, "/dev/null", O_RDONLY, 0);
    posix_spawn_file_actions_addopen(&fa, 1, "/dev/null", O_WRONLY, 0);
    posix_spawn_file_actions_addopen(&fa, 2, "/dev/null", O_WRONLY, 0);
    posix_spawnattr_setflags(&attr, POSIX_SPAWN_SETSID);
    char *argv[] = {"xdg-open", (char *)url, NULL};
    pid_t pid;
    posix_spawn(&pid, exe, &fa, &attr, argv, environ);
    posix_spawn_file_actions_destroy(&fa);
    posix_spawnattr_destroy(&attr);
}

/* A base64url (no padding) text of n random bytes into out. */
static void random_b64url(size_t n, char *out, size_t size)
{
    unsigned char raw[64];
    randombytes_buf(raw, n);
    sodium_bin2base64(out, size, raw, n, sodium_base64_VARIANT_URLSAFE_NO_PADDING);
    sodium_memzero(raw, sizeof raw);
}

/* The seconds `auth login` waits for the browser: LOGIN_WAIT_SECONDS, or less when the
 * environment asks for less (tests); a larger or malformed value is ignored. */
static int login_wait_seconds(void)
{
    const char *v = getenv(LOGIN_WAIT_ENV);
    if (!v || !*v)
        return LOGIN_WAIT_SECONDS;
    char *end;
    errno = 0;
    long n = strtol(v, &end, 10);
    if (errno || *end || n < 1 || n >= LOGIN_WAIT_SECONDS)
        return LOGIN_WAIT_SECONDS;
    return (int)n;
}

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

/* Sleep ms milliseconds (or less, when the deadline comes first). */
static void sleep_until(int64_t ms, int64_t deadline)
{
    int64_t end = mono_ms() + ms;
    if (end > deadline)
        end = deadline;
    while (mono_ms() < end) {
        int64_t left = end - mono_ms();
        struct timespec ts = {(time_t)(left / 1000), (long)(left % 1000) * 1000000L};
        nanosleep(&ts, NULL);
    }
}

/* The device authorization grant (RFC 8628): print the code, poll the token endpoint at the
 * interval the server asks (longer after slow_down) until approval, denial or expiry.
 * EXIT_OK with tokens holding the 200 answer, else the message is printed. */
static int device_login(struct cli *cli, const struct oauth_endpoints *ep,
                        struct client_reply *tokens)
{
    char agent[64], err[512];
    snprintf(agent, sizeof agent, "pcc-cli/%s", PCC_CLI_VERSION);
    struct client *dc = NULL, *tc = NULL;
    struct client_reply r = {0};
    struct buf form;
    buf_init(&form, 8192);
    char device_code[256] = "";
    int status = EXIT_FAIL;
    memset(tokens, 0, sizeof *tokens);
    if (!ep->device[0]) {
        out_error(cli, "%s does not offer headless sign-in (its OpenID configuration has no "
                       "device_authorization_endpoint); run `%s auth login` without --headless",
                  ep->issuer, cli->prog);
        goto out;
    }
    if (client_new(ep->device, agent, &dc) != RC_OK || client_new(ep->token, agent, &tc) != RC_OK) {
        out_error(cli, "the device authorization or token endpoint is not a URL");
        goto out;
    }
    if (form_add(&form, "client_id", ep->client_id, 0) != RC_OK ||
        form_add(&form, "scope", ep->scopes, '&') != RC_OK) {
        out_error(cli, "the device authorization request is too long");
        goto out;
    }
    if (client_post_form(dc, "", buf_str(&form), &r, err, sizeof err) != RC_OK) {
        out_error(cli, "cannot start the headless sign-in: %s", err);
        goto out;
    }
    if (r.status != 200) {
        const char *desc = json_string_value(json_object_get(r.body, "error_description"));
        out_error(cli, "cannot start the headless sign-in: %s (HTTP %ld)",
                  desc && *desc ? desc : client_reply_error(&r), r.status);
        goto out;
    }
    const char *user_code = json_string_value(json_object_get(r.body, "user_code"));
    const char *uri = json_string_value(json_object_get(r.body, "verification_uri"));
    const char *complete = json_string_value(json_object_get(r.body, "verification_uri_complete"));
    json_t *jexp = json_object_get(r.body, "expires_in");
    json_t *jint = json_object_get(r.body, "interval");
    if (!copy_str(r.body, "device_code", device_code, sizeof device_code) ||
        !printable(user_code, 64) || !printable(uri, 1000) || !json_is_integer(jexp) ||
        (complete && !printable(complete, 1100))) {
        out_error(cli, "the device authorization answer of %s lacks device_code, user_code, "
                       "verification_uri or expires_in", ep->issuer);
        goto out;
    }
    int64_t expires_in = (int64_t)json_integer_value(jexp);
    int64_t interval = json_is_integer(jint) ? (int64_t)json_integer_value(jint) : 5;
    if (expires_in < 1 || expires_in > DEVICE_MAX_SECONDS)
        expires_in = expires_in < 1 ? 1 : DEVICE_MAX_SECONDS;
    if (interval < 1 || interval > 60)
        interval = 5;
    fprintf(stderr,
            "To sign in, open this URL in a browser on any device:\n\n    %s\n\n"
            "and enter the code:\n\n    %s\n\n",
            uri, user_code);
    if (complete)
        fprintf(stderr, "Or open this URL, which carries the code:\n\n    %s\n\n", complete);
    fprintf(stderr, "Waiting for approval (the code expires in %lld seconds)...\n",
            (long long)expires_in);
    fflush(stderr);
    client_reply_release(&r);

    int64_t deadline = mono_ms() + expires_in * 1000;
    for (;;) {
        sleep_until(interval * 1000, deadline);
        if (mono_ms() >= deadline)
            break;
        buf_reset(&form);
        if (form_add(&form, "grant_type", DEVICE_GRANT, 0) != RC_OK ||
            form_add(&form, "device_code", device_code, '&') != RC_OK ||
            form_add(&form, "client_id", ep->client_id, '&') != RC_OK) {
            out_error(cli, "the token request is too long");
            goto out;
        }
        if (client_post_form(tc, "", buf_str(&form), &r, err, sizeof err) != RC_OK) {
            out_error(cli, "the sign-in failed: %s", err);
            goto out;
        }
        const char *error = json_string_value(json_object_get(r.body, "error"));
        if (r.status == 200) {
            const char *at = json_string_value(json_object_get(r.body, "access_token"));
            if (!at || !*at || strpbrk(at, "\r\n")) {
                out_error(cli, "the token endpoint answered without an access_token");
                goto out;
            }
            *tokens = r;
            memset(&r, 0, sizeof r);
            status = EXIT_OK;
            goto out;
        }
        if (r.status == 400 && error && strcmp(error, "authorization_pending") == 0) {
            /* keep waiting */
        } else if ((r.status == 400 || r.status == 429) && error &&
                   strcmp(error, "slow_down") == 0) {
            interval += 5; /* RFC 8628 3.5: and for every later request */
        } else if (r.status == 400 && error && strcmp(error, "expired_token") == 0) {
            break;
        } else if (r.status == 400 && error && strcmp(error, "access_denied") == 0) {
            out_error(cli, "Authorization was denied.");
            goto out;
        } else {
            const char *desc = json_string_value(json_object_get(r.body, "error_description"));
            out_error(cli, "the sign-in failed: %s (HTTP %ld)",
                      desc && *desc ? desc : client_reply_error(&r), r.status);
            goto out;
        }
        client_reply_release(&r);
    }
    out_error(cli, "The code expired before it was approved. Run `%s auth login --headless` "
                   "again for a new code.", cli->prog);
out:
    sodium_memzero(device_code, sizeof device_code);
    client_reply_release(&r);
    buf_release_secret(&form);
    client_free(dc);
    client_free(tc);
    return status;
}

/* The browser flow: loopback listener, authorization URL, wait, code exchange. EXIT_OK with
 * tokens holding the token endpoint's 200 answer, else the message is printed. */
static int browser_login(struct cli *cli, const struct oauth_endpoints *ep, int no_browser,
                         struct client_reply *tokens)
{
    struct buf url, form;
    buf_init(&url, 8192);
    buf_init(&form, 8192);
    int lfd = -1, status = EXIT_FAIL;
    int wait_seconds = login_wait_seconds();
    char verifier[100], challenge[64], state[64], redirect[64];
    memset(tokens, 0, sizeof *tokens);
    int port = 0;
    if ((lfd = listen_loopback(&port)) < 0) {
        out_error(cli, "cannot listen on 127.0.0.1 ports %d-%d for the sign-in answer: all "
                       "are in use", FIRST_PORT, LAST_PORT);
        goto out;
    }
    snprintf(redirect, sizeof redirect, "http://127.0.0.1:%d%s", port, CALLBACK_PATH);
    random_b64url(48, verifier, sizeof verifier); /* 64 characters */
    random_b64url(32, state, sizeof state);
    unsigned char digest[crypto_hash_sha256_BYTES];
    crypto_hash_sha256(digest, (const unsigned char *)verifier, strlen(verifier));
    sodium_bin2base64(challenge, sizeof challenge, digest, sizeof digest,
                      sodium_base64_VARIANT_URLSAFE_NO_PADDING);
    if (buf_adds(&url, ep->authorize) != RC_OK ||
        form_add(&url, "response_type", "code", strchr(ep->authorize, '?') ? '&' : '?') !=
            RC_OK ||
        form_add(&url, "client_id", ep->client_id, '&') != RC_OK ||
        form_add(&url, "redirect_uri", redirect, '&') != RC_OK ||
        form_add(&url, "scope", ep->scopes, '&') != RC_OK ||
        form_add(&url, "code_challenge", challenge, '&') != RC_OK ||
        form_add(&url, "code_challenge_method", "S256", '&') != RC_OK ||
        form_add(&url, "state", state, '&') != RC_OK) {
        out_error(cli, "the authorization URL is too long");
        goto out;
    }
    if (!no_browser)
        open_browser(buf_str(&url));
    fprintf(stderr, "Open this URL in your browser to sign in:\n\n    %s\n\n"
                    "Waiting for the sign-in (up to %d seconds)...\n",
            buf_str(&url), wait_seconds);
    fflush(stderr);

    struct callback cb;
    int state_ok = 0, got = 0;
    int64_t deadline = mono_ms() + (int64_t)wait_seconds * 1000;
    while (!got) {
        int64_t left = deadline - mono_ms();
        struct pollfd p = {.fd = lfd, .events = POLLIN};
        int pr = left > 0 ? poll(&p, 1, (int)left) : 0;
        if (pr < 0 && errno == EINTR)
            continue;
        if (pr <= 0) {
            out_error(cli, "Authentication timed out: no sign-in came back within %d seconds. "
                           "Run `%s auth login` again, or `%s auth login --headless` when no "
                           "browser on this machine can reach 127.0.0.1.",
                      wait_seconds, cli->prog, cli->prog);
            goto out;
        }
        int cfd = accept4(lfd, NULL, NULL, SOCK_CLOEXEC);
        if (cfd < 0)
            continue;
        got = serve_one(cfd, state, &cb, &state_ok);
        close(cfd);
    }
    close(lfd);
    lfd = -1;
    if (!state_ok) {
        out_error(cli, "the sign-in answer carried the wrong state (a possible cross-site "
                       "request forgery): nothing was stored. Run `%s auth login` again.",
                  cli->prog);
        goto out;
    }
    if (strcmp(cb.error, "access_denied") == 0) {
        out_error(cli, "Authorization was denied.");
        goto out;
    }
    if (cb.error[0] || !cb.code[0]) {
        out_error(cli, "Authentication was cancelled or failed%s%s.", cb.error[0] ? ": " : "",
                  cb.error);
        goto out;
    }
    char err[512];
    if (form_add(&form, "grant_type", "authorization_code", 0) != RC_OK ||
        form_add(&form, "code", cb.code, '&') != RC_OK ||
        form_add(&form, "redirect_uri", redirect, '&') != RC_OK ||
        form_add(&form, "client_id", ep->client_id, '&') != RC_OK ||
        form_add(&form, "code_verifier", verifier, '&') != RC_OK) {
        out_error(cli, "the token request is too long");
        goto out;
    }
    if (token_post(ep, buf_str(&form), tokens, err, sizeof err) != EXIT_OK) {
        out_error(cli, "the token exchange failed: %s", err);
        goto out;
    }
    status = EXIT_OK;
out:
    if (lfd >= 0)
        close(lfd);
    sodium_memzero(verifier, sizeof verifier);
    buf_release(&url);
    buf_release_secret(&form);
    return status;
}

int cmd_auth_login(struct cli *cli, int argc, char **argv)
{
    int no_browser = 0, headless = 0;
    const struct opt opts[] = {
        OPT_BOOL(0, "no-browser", &no_browser, "do not try to open a browser; only print the URL"),
        OPT_BOOL(0, "headless", &headless, "sign in with a code entered on another device"),
        OPT_END()};
    int npos = 0;
    int status = args_parse(cli, argc, argv, opts, NULL, 0, &npos);
    if (status != EXIT_OK)
        return status;

    struct session s;
    struct oauth_endpoints ep;
    struct client_reply r = {0};
    if ((status = session_open(cli, &s, 0)) != EXIT_OK)
        goto out;
    if ((status = oauth_discover(&s, &ep)) != EXIT_OK)
        goto out;
    status = headless ? device_login(cli, &ep, &r) : browser_login(cli, &ep, no_browser, &r);
    if (status != EXIT_OK)
        goto out;
    status = EXIT_FAIL;
    char err[512];
    /* The organization, as use-pat picks it: keep the current one if it is the user's. */
    const char *at = json_string_value(json_object_get(r.body, "access_token"));
    client_set_token(s.client, at);
    struct client_reply orgs_reply;
    if (client_request(s.client, "GET", "/v1/organizations", NULL, &orgs_reply, err,
                       sizeof err) != RC_OK) {
        out_error(cli, "%s", err);
        goto out;
    }
    json_t *orgs = json_object_get(orgs_reply.body, "organizations");
    if (orgs_reply.status != 200 || !json_is_array(orgs) || json_array_size(orgs) == 0) {
        if (orgs_reply.status != 200)
            out_error(cli, "%s (HTTP %ld from %s). Nothing was stored.",
                      client_reply_error(&orgs_reply), orgs_reply.status, client_host(s.client));
        else
            out_error(cli, "Account has no associated namespace (organization). Ask an "
                           "organization admin to add you.");
        client_reply_release(&orgs_reply);
        goto out;
    }
    const char *current = getenv("PIPECAT_ORG");
    if (!current || !*current)
        current = credfile_get(s.file, "org");
    const char *chosen = NULL;
    size_t i;
    json_t *o2;
    json_array_foreach(orgs, i, o2) {
        const char *name = json_string_value(json_object_get(o2, "name"));
        if (name && current && strcmp(name, current) == 0)
            chosen = name;
    }
    if (!chosen)
        chosen = json_string_value(json_object_get(json_array_get(orgs, 0), "name"));
    char org[128];
    snprintf(org, sizeof org, "%s", chosen ? chosen : "");
    client_reply_release(&orgs_reply);
    if (store_tokens(&s, r.body, org) != EXIT_OK)
        goto out;
    if (cli->json) {
        out_json(json_pack("{s:b, s:s, s:s, s:s}", "authenticated", 1, "authMethod", "OAuth",
                           "organization", org, "configPath", s.config_path));
    } else {
        printf("Authentication successful! Active organization: %s\n", org);
        printf("Credentials stored in %s\n", s.config_path);
    }
    const char *env = getenv("PIPECAT_TOKEN");
    if (env && *env)
        out_warn(cli, "PIPECAT_TOKEN is set and takes precedence over the stored token.");
    status = EXIT_OK;
out:
    client_reply_release(&r);
    session_close(&s);
    return status;
}
