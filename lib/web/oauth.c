/* oauth.c: the OAuth consent page (GET/POST /oauth/authorize). The CLI sends the browser here
 * with a PKCE challenge and a loopback redirect URI; a signed-in user sees which client asks
 * and what it could do, and approves (a single-use code goes back to the redirect URI) or
 * denies (error=access_denied). Signed-out browsers sign in first and come back. */
#include <stdio.h>
#include <string.h>

#include <sodium.h>

#include "internal.h"
#include "banned.h"

#define RESUME_COOKIE "pcc_oauth_resume"
#define PARAM_MAX 256
/* The consent page may send its form to the loopback callback's origin (form-action applies
 * to the redirect that follows the approval); otherwise the dashboard's usual policy. */
#define CONSENT_CSP                                                                            \
    "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self'; "               \
    "form-action 'self' http://127.0.0.1:*; frame-ancestors 'none'; base-uri 'none'"

struct oauth_request {
    char client_id[PARAM_MAX], redirect_uri[PARAM_MAX], scope[PARAM_MAX], state[PARAM_MAX],
        challenge[PARAM_MAX], method[PARAM_MAX], response_type[PARAM_MAX];
};

static void copy_param(char *out, const char *v) { snprintf(out, PARAM_MAX, "%s", v ? v : ""); }

/* Append s percent-encoded (RFC 3986 unreserved characters kept). */
static void url_encode(struct buf *out, const char *s)
{
    static const char hex[] = "0123456789ABCDEF";
    for (const unsigned char *p = (const unsigned char *)s; *p; p++) {
        if ((*p >= 'A' && *p <= 'Z') || (*p >= 'a' && *p <= 'z') || (*p >= '0' && *p <= '9') ||
            *p == '-' || *p == '.' || *p == '_' || *p == '~') {
            buf_add(out, (const char *)p, 1);
        } else {
            char e[3] = {'%', hex[*p >> 4], hex[*p & 15]};
            buf_add(out, e, 3);
        }
    }
}

/* 303 back to the client's (validated) redirect URI with name=value and the state. */
static void back_to_client(struct http_response *res, const struct oauth_request *r,
                           const char *name, const char *value)
{
    struct buf url = BUF_INIT;
    buf_adds(&url, r->redirect_uri);
    buf_adds(&url, "?");
    buf_adds(&url, name);
    buf_adds(&url, "=");
    url_encode(&url, value);
    if (r->state[0]) {
        buf_adds(&url, "&state=");
        url_encode(&url, r->state);
    }
    web_redirect(res, buf_str(&url));
    buf_release(&url);
}

/* Check the request. An unknown client or a redirect URI that is not the loopback callback
 * gets an error page (never a redirect); other faults go back to the client as OAuth errors.
 * RC_OK when the consent can be asked. */
static enum rc check_request(struct http_request *req, struct http_response *res,
                             const struct oauth_request *r)
{
    if (strcmp(r->client_id, AUTH_OAUTH_CLIENT_ID) != 0) {
        web_message(req, res, 400, NULL, "Unknown application",
                    "This sign-in link names an application this server does not know.", "/");
        return RC_INVALID;
    }
    if (!auth_oauth_redirect_ok(r->redirect_uri)) {
        web_message(req, res, 400, NULL, "Invalid sign-in link",
                    "The link asks to return to an address other than "
                    "http://127.0.0.1:PORT/oauth_callback on your own computer, so it was "
                    "refused.",
                    "/");
        return RC_INVALID;
    }
    if (strcmp(r->response_type, "code") != 0) {
        back_to_client(res, r, "error", "unsupported_response_type");
        return RC_INVALID;
    }
    if (strcmp(r->method, "S256") != 0 || !auth_oauth_challenge_ok(r->challenge)) {
        back_to_client(res, r, "error", "invalid_request");
        return RC_INVALID;
    }
    const char *p = r->scope[0] ? r->scope : "full";
    while (*p) {
        size_t n = strcspn(p, " ");
        char name[48], err[128];
        snprintf(name, sizeof name, "%.*s", (int)(n < 47 ? n : 47), p);
        if (auth_check_scope(name, err, sizeof err) != RC_OK) {
            back_to_client(res, r, "error", "invalid_scope");
            return RC_INVALID;
        }
        p += n;
        while (*p == ' ')
            p++;
    }
    return RC_OK;
}

static const char *describe(const char *scope)
{
    unsigned caps = auth_scope_caps(scope[0] ? scope : "full");
    if (caps & AUTH_CAP_FULL)
        return "read everything; deploy, start and stop agents; manage secrets; and manage "
               "tokens, API keys and organization settings.";
    if ((caps & AUTH_CAP_DEPLOY) && (caps & AUTH_CAP_SECRETS))
        return "read everything; deploy, start and stop agents; and manage secrets.";
    if (caps & AUTH_CAP_DEPLOY)
        return "read everything; and deploy, start and stop agents.";
    if (caps & AUTH_CAP_SECRETS)
        return "read everything; and manage secrets.";
    return "read your organizations, agents and settings (no changes).";
}

/* Remember the authorize URL (its query) so the browser comes back after signing in. Only a
 * cookie-safe query is kept; any other is dropped (the user starts again). */
static void remember(struct http_request *req, struct http_response *res)
{
    struct buf q = BUF_INIT;
    const char *names[] = {"response_type", "client_id", "redirect_uri", "scope",
                           "code_challenge", "code_challenge_method", "state"};
    for (size_t i = 0; i < sizeof names / sizeof names[0]; i++) {
        const char *v = http_query(req, names[i]);
        if (!v)
            continue;
        if (q.len)
            buf_adds(&q, "&");
        buf_adds(&q, names[i]);
        buf_adds(&q, "=");
        url_encode(&q, v);
    }
    if (q.len && q.len < 700) {
        char c[900];
        snprintf(c, sizeof c, "%s=%s; Path=/; HttpOnly; SameSite=Lax; Max-Age=600%s",
                 RESUME_COOKIE, buf_str(&q), http_secure(req) ? "; Secure" : "");
        http_add_header(res, "Set-Cookie", c);
    }
    buf_release(&q);
}

const char *web_oauth_resume(struct http_request *req, struct http_response *res, char *out,
                             size_t size)
{
    const char *v = http_cookie(req, RESUME_COOKIE);
    if (!v || !*v)
        return NULL;
    http_add_header(res, "Set-Cookie", RESUME_COOKIE "=; Path=/; HttpOnly; SameSite=Lax; Max-Age=0");
    for (const char *p = v; *p; p++) /* only what remember() writes */
        if (!((*p >= 'A' && *p <= 'Z') || (*p >= 'a' && *p <= 'z') || (*p >= '0' && *p <= '9') ||
              strchr("-._~%&=", *p)))
            return NULL;
    int n = snprintf(out, size, "/oauth/authorize?%s", v);
    return n > 0 && (size_t)n < size ? out : NULL;
}

void web_oauth_authorize_page(struct http_request *req, struct http_response *res)
{
    struct oauth_request r;
    copy_param(r.client_id, http_query(req, "client_id"));
    copy_param(r.redirect_uri, http_query(req, "redirect_uri"));
    copy_param(r.scope, http_query(req, "scope"));
    copy_param(r.state, http_query(req, "state"));
    copy_param(r.challenge, http_query(req, "code_challenge"));
    copy_param(r.method, http_query(req, "code_challenge_method"));
    copy_param(r.response_type, http_query(req, "response_type"));
    if (check_request(req, res, &r) != RC_OK)
        return;
    struct web_ctx ctx;
    if (web_session_require(req, res, &ctx) != RC_OK) {
        remember(req, res);
        return;
    }
    struct buf body = BUF_INIT, page = BUF_INIT;
    struct tpl_var v[] = {{"client", "pipecat CLI", 0},
                          {"client_id", r.client_id, 0},
                          {"email", ctx.user.email, 0},
                          {"can", describe(r.scope), 0},
                          {"redirect", r.redirect_uri, 0},
                          {"scope", r.scope[0] ? r.scope : "full", 0},
                          {"state", r.state, 0},
                          {"challenge", r.challenge, 0},
                          {"csrf", ctx.csrf, 0}};
    web_render(&body, "oauth_consent.html", v, sizeof v / sizeof v[0]);
    const struct web *w = WEBCFG(req);
    struct tpl_var lv[] = {{"title", "Authorize pipecat CLI", 0},
                           {"css", w->css_url, 0},
                           {"js", w->js_url, 0},
                           {"nav", "", 1},
                           {"body", buf_str(&body), 1}};
    enum rc rc = web_render(&page, "layout.html", lv, sizeof lv / sizeof lv[0]);
    buf_release(&body);
    web_ctx_release(&ctx);
    size_t len;
    char *text = rc == RC_OK ? buf_detach(&page, &len) : NULL;
    buf_release(&page);
    if (!text) {
        http_error(req, res, RC_INTERNAL, "cannot render the page");
        return;
    }
    http_add_header(res, "Content-Security-Policy", CONSENT_CSP);
    http_add_header(res, "X-Frame-Options", "DENY");
    /* same-origin, not no-referrer: under no-referrer Chromium posts the consent form with
     * "Origin: null" and no Referer, which the CSRF origin check refuses. The redirect to the
     * loopback callback is cross-origin, so it still gets no Referer. */
    http_add_header(res, "Referrer-Policy", "same-origin");
    http_reply_raw(res, 200, "text/html; charset=utf-8", NULL, text, len);
}

void web_oauth_authorize(struct http_request *req, struct http_response *res)
{
    struct web_ctx ctx;
    if (web_session_require(req, res, &ctx) != RC_OK)
        return;
    if (web_check_post(req, res, &ctx) != RC_OK)
        goto out;
    struct oauth_request r;
    char decision[16];
    if (web_field(req, "client_id", r.client_id, PARAM_MAX) != RC_OK ||
        web_field(req, "redirect_uri", r.redirect_uri, PARAM_MAX) != RC_OK ||
        web_field(req, "scope", r.scope, PARAM_MAX) != RC_OK ||
        web_field(req, "code_challenge", r.challenge, PARAM_MAX) != RC_OK ||
        web_field(req, "decision", decision, sizeof decision) != RC_OK) {
        web_message(req, res, 400, &ctx, "Bad request", "The form could not be read.", "/");
        goto out;
    }
    if (web_field(req, "state", r.state, PARAM_MAX) != RC_OK)
        r.state[0] = '\0';
    copy_param(r.method, "S256");
    copy_param(r.response_type, "code");
    if (check_request(req, res, &r) != RC_OK)
        goto out;
    const char *ip = http_client_ip(req);
    if (strcmp(decision, "approve") != 0) {
        auth_audit(&APP(req)->auth, "oauth.denied", ctx.user.id, NULL, NULL, ip, NULL);
        back_to_client(res, &r, "error", "access_denied");
        goto out;
    }
    char code[AUTH_OAUTH_CODE_BUF_SIZE];
    enum rc rc = auth_oauth_code_issue(&APP(req)->auth, ctx.user.id, r.redirect_uri, r.challenge,
                                       r.scope[0] ? r.scope : "full", ip, code);
    if (rc != RC_OK) {
        web_message(req, res, 503, &ctx, "Unavailable",
                    "The server cannot reach its database. Try again in a moment.", "/");
        goto out;
    }
    back_to_client(res, &r, "code", code);
    sodium_memzero(code, sizeof code);
out:
    web_ctx_release(&ctx);
}
