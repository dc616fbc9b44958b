/* oauth_test.c: the CLI's OAuth client (lib/client/oauth.c) on real loopback sockets: PKCE and
 * the authorization URL, the loopback redirect listener as a browser meets it, and the token
 * and device endpoints against a tiny scripted HTTP responder (a forked child). Discovery runs
 * against a real pccd in tests/e2e/test_oauth_cli*.py. */
#include <arpa/inet.h>
#include <netinet/in.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include <criterion/criterion.h>
#include <sodium.h>

#include "oauth.h"

#include "banned.h"

#define UA "pcc-test/1"

static void init(void) { cr_assert(sodium_init() >= 0); }

TestSuite(oauth, .init = init);

/* --- PKCE and the authorization URL -------------------------------------------------------- */

Test(oauth, pkce_challenge_is_the_sha256_of_the_verifier)
{
    struct oauth_pkce a, b;
    oauth_pkce_new(&a);
    oauth_pkce_new(&b);
    cr_assert_eq(strlen(a.verifier), 64); /* RFC 7636: 43-128 characters */
    cr_assert_eq(strlen(a.state), 43);
    cr_assert_str_neq(a.verifier, b.verifier);
    cr_assert_str_neq(a.state, b.state);
    unsigned char digest[crypto_hash_sha256_BYTES];
    char want[64];
    crypto_hash_sha256(digest, (const unsigned char *)a.verifier, strlen(a.verifier));
    sodium_bin2base64(want, sizeof want, digest, sizeof digest,
                      sodium_base64_VARIANT_URLSAFE_NO_PADDING);
    cr_assert_str_eq(a.challenge, want);
    oauth_pkce_wipe(&a);
    cr_assert_eq(a.verifier[0], '\0');
}

Test(oauth, form_values_are_percent_encoded)
{
    struct buf b;
    buf_init(&b, 1024);
    cr_assert_eq(oauth_form_add(&b, "a b", "x&y=z/~._-", 0), RC_OK);
    cr_assert_eq(oauth_form_add(&b, "k", "", '&'), RC_OK);
    cr_assert_str_eq(buf_str(&b), "a%20b=x%26y%3Dz%2F~._-&k=");
    buf_release(&b);
}

Test(oauth, authorization_url_carries_pkce_state_and_redirect)
{
    struct oauth_endpoints ep = {0};
    snprintf(ep.authorize, sizeof ep.authorize, "https://id.example/authorize?tenant=1");
    snprintf(ep.client_id, sizeof ep.client_id, "pcc-cli");
    snprintf(ep.scopes, sizeof ep.scopes, "openid offline_access");
    struct oauth_pkce p;
    oauth_pkce_new(&p);
    struct buf url;
    buf_init(&url, 8192);
    cr_assert_eq(oauth_authorize_url(&ep, &p, "http://127.0.0.1:8401/oauth_callback", &url), RC_OK);
    const char *u = buf_str(&url);
    cr_assert(strncmp(u, "https://id.example/authorize?tenant=1&response_type=code&", 57) == 0,
              "%s", u);
    char want[256];
    snprintf(want, sizeof want, "&code_challenge=%s&code_challenge_method=S256&state=%s",
             p.challenge, p.state);
    cr_assert(strstr(u, want), "%s", u);
    cr_assert(strstr(u, "&redirect_uri=http%3A%2F%2F127.0.0.1%3A8401%2Foauth_callback&"), "%s", u);
    cr_assert(strstr(u, "&scope=openid%20offline_access&"), "%s", u);
    cr_assert(!strstr(u, p.verifier), "the verifier never leaves the CLI");
    buf_release(&url);
}

/* --- the loopback redirect ----------------------------------------------------------------- */

/* Connect to the listener and send request (the listen backlog holds it until the wait). */
static int browser_send(int port, const char *request)
{
    int fd = socket(AF_INET, SOCK_STREAM, 0);
    struct sockaddr_in a = {.sin_family = AF_INET, .sin_port = htons((uint16_t)port)};
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    cr_assert(fd >= 0 && connect(fd, (struct sockaddr *)&a, sizeof a) == 0);
    cr_assert_eq(send(fd, request, strlen(request), 0), (ssize_t)strlen(request));
    return fd;
}

/* What the listener answered on fd (until it closed). */
static void browser_read(int fd, char *out, size_t size)
{
    size_t len = 0;
    ssize_t n;
    while (len < size - 1 && (n = recv(fd, out + len, size - 1 - len, 0)) > 0)
        len += (size_t)n;
    out[len] = '\0';
    close(fd);
}

Test(oauth, loopback_receives_the_code_and_checks_the_state)
{
    struct oauth_loopback lb;
    cr_assert_eq(oauth_loopback_open(&lb, 0, 0), RC_OK);
    char want[64];
    snprintf(want, sizeof want, "http://127.0.0.1:%d/oauth_callback", lb.port);
    cr_assert_str_eq(lb.redirect, want);

    /* A stray request first (a favicon): 404, and the wait goes on to the real answer. */
    int stray = browser_send(lb.port, "GET /favicon.ico HTTP/1.1\r\nHost: x\r\n\r\n");
    int fd = browser_send(lb.port,
                          "GET /oauth_callback?code=c%2Fde&state=S1 HTTP/1.1\r\nHost: x\r\n\r\n");
    struct oauth_callback cb;
    cr_assert_eq(oauth_loopback_wait(&lb, "S1", 5000, &cb), RC_OK);
    cr_assert_str_eq(cb.code, "c/de");
    cr_assert(cb.state_ok);
    cr_assert_str_eq(cb.error, "");
    char page[4096];
    browser_read(stray, page, sizeof page);
    cr_assert(strncmp(page, "HTTP/1.1 404 ", 13) == 0, "%s", page);
    browser_read(fd, page, sizeof page);
    cr_assert(strncmp(page, "HTTP/1.1 200 ", 13) == 0, "%s", page);
    cr_assert(strstr(page, "Signed in"), "%s", page);
    cr_assert(strstr(page, "Cache-Control: no-store"), "%s", page);

    /* A forged answer: wrong state, and a state that is a prefix of the right one. */
    const char *forged[] = {"S2", "S", ""};
    for (size_t i = 0; i < 3; i++) {
        char req[256];
        snprintf(req, sizeof req, "GET /oauth_callback?code=x&state=%s HTTP/1.1\r\n\r\n",
                 forged[i]);
        fd = browser_send(lb.port, req);
        cr_assert_eq(oauth_loopback_wait(&lb, "S1", 5000, &cb), RC_OK);
        cr_assert(!cb.state_ok, "state '%s' accepted", forged[i]);
        browser_read(fd, page, sizeof page);
        cr_assert(strstr(page, "Sign-in failed"), "%s", page);
    }

    /* The user refused: the error comes through. */
    fd = browser_send(lb.port, "GET /oauth_callback?error=access_denied&state=S1 HTTP/1.1\r\n\r\n");
    cr_assert_eq(oauth_loopback_wait(&lb, "S1", 5000, &cb), RC_OK);
    cr_assert(cb.state_ok);
    cr_assert_str_eq(cb.error, "access_denied");
    cr_assert_str_eq(cb.code, "");
    browser_read(fd, page, sizeof page);
    oauth_loopback_close(&lb);
    cr_assert_eq(lb.fd, -1);
}

Test(oauth, loopback_wait_times_out)
{
    struct oauth_loopback lb;
    struct oauth_callback cb;
    cr_assert_eq(oauth_loopback_open(&lb, 0, 0), RC_OK);
    cr_assert_eq(oauth_loopback_wait(&lb, "S", 100, &cb), RC_UNAVAILABLE);
    oauth_loopback_close(&lb);
}

Test(oauth, loopback_takes_the_next_free_port)
{
    struct oauth_loopback a, b;
    cr_assert_eq(oauth_loopback_open(&a, 0, 0), RC_OK);
    cr_assert_eq(oauth_loopback_open(&b, a.port, a.port), RC_CONFLICT);
    oauth_loopback_close(&a);
}

/* --- the token and device endpoints, against a scripted responder -------------------------- */

struct responder {
    pid_t pid;
    int port;
    char log[64]; /* the requests received, one after the other */
};

/* Fork a child that answers n connections in turn with the JSON bodies given (status first:
 * "400 {...}"), one request each, and appends each request to r->log. */
static void responder_start(struct responder *r, const char *const *answers, int n)
{
    int lfd = socket(AF_INET, SOCK_STREAM, 0);
    struct sockaddr_in a = {.sin_family = AF_INET};
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    socklen_t alen = sizeof a;
    cr_assert(lfd >= 0 && bind(lfd, (struct sockaddr *)&a, sizeof a) == 0 && listen(lfd, 8) == 0 &&
              getsockname(lfd, (struct sockaddr *)&a, &alen) == 0);
    r->port = ntohs(a.sin_port);
    snprintf(r->log, sizeof r->log, "/tmp/pcc-oauth-test-XXXXXX");
    int logfd = mkstemp(r->log);
    cr_assert(logfd >= 0);
    close(logfd);
    r->pid = fork();
    cr_assert(r->pid >= 0);
    if (r->pid > 0) {
        close(lfd);
        return;
    }
    for (int i = 0; i < n; i++) {
        int fd = accept(lfd, NULL, NULL);
        if (fd < 0)
            _exit(1);
        char req[16384];
        size_t len = 0;
        ssize_t got;
        char *end = NULL;
        while (len < sizeof req - 1 && (got = recv(fd, req + len, sizeof req - 1 - len, 0)) > 0) {
            len += (size_t)got;
            req[len] = '\0';
            if ((end = strstr(req, "\r\n\r\n"))) {
                const char *cl = strcasestr(req, "Content-Length:");
                size_t want = cl ? (size_t)strtoul(cl + 15, NULL, 10) : 0;
                if (len >= (size_t)(end + 4 - req) + want)
                    break;
            }
        }
        FILE *f = fopen(r->log, "a");
        if (f) {
            fprintf(f, "%s\n--\n", req);
            fclose(f);
        }
        const char *body = strchr(answers[i], ' ') + 1;
        char head[256];
        int h = snprintf(head, sizeof head,
                         "HTTP/1.1 %.3s X\r\nContent-Type: application/json\r\n"
                         "Content-Length: %zu\r\nConnection: close\r\n\r\n",
                         answers[i], strlen(body));
        if (send(fd, head, (size_t)h, MSG_NOSIGNAL) == h)
            (void)!send(fd, body, strlen(body), MSG_NOSIGNAL);
        close(fd);
    }
    _exit(0);
}

/* Wait for the child; the requests it logged into out. */
static void responder_finish(struct responder *r, char *out, size_t size)
{
    int st = 0;
    kill(r->pid, SIGTERM); /* when the client sent fewer requests than scripted */
    waitpid(r->pid, &st, 0);
    FILE *f = fopen(r->log, "r");
    size_t n = f ? fread(out, 1, size - 1, f) : 0;
    out[n] = '\0';
    if (f)
        fclose(f);
    unlink(r->log);
}

static void endpoints_at(struct oauth_endpoints *ep, int port)
{
    memset(ep, 0, sizeof *ep);
    snprintf(ep->issuer, sizeof ep->issuer, "http://127.0.0.1:%d", port);
    snprintf(ep->client_id, sizeof ep->client_id, "pcc-cli");
    snprintf(ep->scopes, sizeof ep->scopes, "openid");
    snprintf(ep->token, sizeof ep->token, "http://127.0.0.1:%d/token", port);
    snprintf(ep->device, sizeof ep->device, "http://127.0.0.1:%d/device", port);
}

Test(oauth, code_exchange_sends_the_verifier_and_returns_the_tokens)
{
    const char *answers[] = {
        "200 {\"access_token\": \"at-1\", \"refresh_token\": \"rt-1\", \"expires_in\": 600}"};
    struct responder r;
    responder_start(&r, answers, 1);
    struct oauth_endpoints ep;
    endpoints_at(&ep, r.port);
    struct client_reply reply;
    char err[512] = "", log[16384];
    enum rc rc = oauth_exchange_code(&ep, UA, "the code", "http://127.0.0.1:8400/oauth_callback",
                                     "VERIFIER", &reply, err, sizeof err);
    responder_finish(&r, log, sizeof log);
    cr_assert_eq(rc, RC_OK, "%s", err);
    cr_assert_str_eq(json_string_value(json_object_get(reply.body, "access_token")), "at-1");
    cr_assert_eq(oauth_expires_in(reply.body), 600.0);
    client_reply_release(&reply);
    cr_assert(strncmp(log, "POST /token HTTP/1.1\r\n", 22) == 0, "%s", log);
    cr_assert(strstr(log, "\r\n\r\ngrant_type=authorization_code&code=the%20code&redirect_uri="
                          "http%3A%2F%2F127.0.0.1%3A8400%2Foauth_callback&client_id=pcc-cli&"
                          "code_verifier=VERIFIER"),
              "%s", log);
}

Test(oauth, token_errors_name_the_cause)
{
    const char *answers[] = {
        "400 {\"error\": \"invalid_grant\", \"error_description\": \"the code was used\"}",
        "200 {\"token_type\": \"bearer\"}", "200 {\"access_token\": \"a\\r\\nX-Evil: 1\"}"};
    struct responder r;
    responder_start(&r, answers, 3);
    struct oauth_endpoints ep;
    endpoints_at(&ep, r.port);
    struct client_reply reply;
    char err[512] = "", log[16384];
    cr_assert_eq(oauth_refresh(&ep, UA, "rt", &reply, err, sizeof err), RC_UNAUTHORIZED);
    cr_assert_str_eq(err, "the code was used (HTTP 400)");
    cr_assert_null(reply.body);
    cr_assert_eq(oauth_refresh(&ep, UA, "rt", &reply, err, sizeof err), RC_PROTOCOL);
    cr_assert(strstr(err, "without an access_token"), "%s", err);
    cr_assert_eq(oauth_refresh(&ep, UA, "rt", &reply, err, sizeof err), RC_PROTOCOL);
    responder_finish(&r, log, sizeof log);
    cr_assert(strstr(log, "grant_type=refresh_token&refresh_token=rt&client_id=pcc-cli"), "%s",
              log);
}

Test(oauth, device_grant_polls_until_approved, .timeout = 20)
{
    const char *answers[] = {
        "200 {\"device_code\": \"DC\", \"user_code\": \"ABCD-EFGH\", \"verification_uri\": "
        "\"http://x/device\", \"expires_in\": 30, \"interval\": 1}",
        "400 {\"error\": \"authorization_pending\"}",
        "200 {\"access_token\": \"at-d\", \"refresh_token\": \"rt-d\"}"};
    struct responder r;
    responder_start(&r, answers, 3);
    struct oauth_endpoints ep;
    endpoints_at(&ep, r.port);
    struct oauth_device d;
    struct client_reply tokens;
    char err[512] = "", log[16384];
    cr_assert_eq(oauth_device_start(&ep, UA, &d, err, sizeof err), RC_OK, "%s", err);
    cr_assert_str_eq(d.user_code, "ABCD-EFGH");
    cr_assert_str_eq(d.uri, "http://x/device");
    cr_assert_str_eq(d.uri_complete, "");
    cr_assert_eq(d.interval, 1);
    cr_assert_eq(oauth_device_poll(&ep, UA, &d, &tokens, err, sizeof err), OAUTH_DEVICE_APPROVED,
                 "%s", err);
    cr_assert_str_eq(json_string_value(json_object_get(tokens.body, "access_token")), "at-d");
    cr_assert_eq(d.device_code[0], '\0', "the device code is wiped");
    client_reply_release(&tokens);
    responder_finish(&r, log, sizeof log);
    cr_assert(strstr(log, "client_id=pcc-cli&scope=openid"), "%s", log);
    cr_assert(strstr(log, "grant_type=urn%3Aietf%3Aparams%3Aoauth%3Agrant-type%3Adevice_code&"
                          "device_code=DC&client_id=pcc-cli"),
              "%s", log);
}

Test(oauth, device_grant_denied_and_malformed_answers, .timeout = 20)
{
    const char *answers[] = {
        "200 {\"device_code\": \"DC\", \"user_code\": \"AB CD\", \"verification_uri\": "
        "\"http://x/device\", \"expires_in\": 30}",
        "200 {\"device_code\": \"DC\", \"user_code\": \"ABCD\", \"verification_uri\": "
        "\"http://x/device\", \"expires_in\": 30, \"interval\": 1}",
        "400 {\"error\": \"access_denied\"}"};
    struct responder r;
    responder_start(&r, answers, 3);
    struct oauth_endpoints ep;
    endpoints_at(&ep, r.port);
    struct oauth_device d;
    struct client_reply tokens;
    char err[512] = "", log[16384];
    /* A user code with a space could carry terminal tricks: refused. */
    cr_assert_eq(oauth_device_start(&ep, UA, &d, err, sizeof err), RC_PROTOCOL);
    cr_assert(strstr(err, "lacks device_code, user_code"), "%s", err);
    cr_assert_eq(oauth_device_start(&ep, UA, &d, err, sizeof err), RC_OK, "%s", err);
    cr_assert_eq(oauth_device_poll(&ep, UA, &d, &tokens, err, sizeof err), OAUTH_DEVICE_DENIED);
    responder_finish(&r, log, sizeof log);

    ep.device[0] = '\0';
    cr_assert_eq(oauth_device_start(&ep, UA, &d, err, sizeof err), RC_NOT_IMPLEMENTED);
}
