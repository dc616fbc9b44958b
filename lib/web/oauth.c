/* oauth.c: the OAuth consent page (GET/POST /oauth/authorize) and the device page (/device).
 * The CLI sends the browser to the consent page with a PKCE challenge and a loopback redirect
 * URI; a signed-in user sees which client asks and what it could do, and approves (a
 * single-use code goes back to the redirect URI) or denies (error=access_denied). On /device a
 * user types the code a headless CLI shows, then approves or denies it the same way. Signed-out
 * browsers sign in first and come back. Also the user's OAuth logins: revoke one, or all. */
#include <stdio.h>
#include <string.h>

#include <sodium.h>

#include "internal.h"
#include "banned.h"

#define RESUME_COOKIE "pcc_oauth_resume"
#define PARAM_MAX 256
/* The consent page may send its form to the loopback callback's origin (form-action applies
 * to the redirect that follows the approval); otherwise the dashboard's usual policy. */
#define CONSENT_CSP                                                                                \
    "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self'; "                    \
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
    const char *names[] = {"response_type", "client_id",      "redirect_uri",
                           "scope",         "code_challenge", "code_challenge_method",
                           "state"};
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
        snprintf(c, sizeof c, "%s=%s; Path=/; HttpOnly; SameSite=Lax; Max-Age=600%s", RESUME_COOKIE,
                 buf_str(&q), http_secure(req) ? "; Secure" : "");
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
    http_add_header(res, "Set-Cookie",
                    RESUME_COOKIE "=; Path=/; HttpOnly; SameSite=Lax; Max-Age=0");
    for (const char *p = v; *p; p++) /* only what remember() writes */
        if (!((*p >= 'A' && *p <= 'Z') || (*p >= 'a' && *p <= 'z') || (*p >= '0' && *p <= '9') ||
              strchr("-._~%&=", *p)))
            return NULL;
    int n;
    if (strncmp(v, "d.", 2) == 0) /* remember_device(): the device page, with its code */
        n = v[2] ? snprintf(out, size, "/device?user_code=%s", v + 2)
                 : snprintf(out, size, "/device");
    else
        n = snprintf(out, size, "/oauth/authorize?%s", v);
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

/* --- the device page (RFC 8628 3.3): /device ------------------------------------------------ */

#define DEVICE_INPUT_MAX 32

/* The throttle keys of wrong user-code guesses: per address and per session. */
static void guess_keys(struct http_request *req, const struct web_ctx *ctx, char ip_key[64],
                       char session_key[64])
{
    const char *ip = http_client_ip(req);
    snprintf(ip_key, 64, "usercode:%.48s", ip ? ip : "");
    snprintf(session_key, 64, "usercode-s:%.40s", ctx->session.id);
}

/* Render a device page body (a template of web/templates) in the signed-out layout, with the
 * dashboard's security headers. */
static void device_page(struct http_request *req, struct http_response *res, int status,
                        const char *title, const char *tpl, const struct tpl_var *v, size_t n)
{
    struct buf body = BUF_INIT;
    if (web_render(&body, tpl, v, n) != RC_OK) {
        buf_release(&body);
        http_error(req, res, RC_INTERNAL, "cannot render the page");
        return;
    }
    web_page(req, res, status, NULL, title, &body);
    buf_release(&body);
}

/* The code entry form, with error (may be NULL) and the code as typed. */
static void device_form(struct http_request *req, struct http_response *res,
                        const struct web_ctx *ctx, int status, const char *error, const char *typed)
{
    struct tpl_var v[] = {{"csrf", ctx->csrf, 0},
                          {"email", ctx->user.email, 0},
                          {"user_code", typed ? typed : "", 0},
                          {"error", error ? error : "", 0},
                          {"error_class", error ? "error" : "hidden", 0}};
    device_page(req, res, status, "Connect a device", "device.html", v, sizeof v / sizeof v[0]);
}

static void device_result(struct http_request *req, struct http_response *res, int status,
                          const char *title, const char *message)
{
    struct tpl_var v[] = {{"title", title, 0}, {"message", message, 0}};
    device_page(req, res, status, title, "device_result.html", v, sizeof v / sizeof v[0]);
}

/* Remember /device (and its user code) for after sign-in, in the resume cookie. */
static void remember_device(struct http_request *req, struct http_response *res)
{
    char code[AUTH_OAUTH_USER_CODE_LEN + 1] = "", c[128];
    const char *typed = http_query(req, "user_code");
    if (typed && !auth_oauth_user_code_normalize(typed, code))
        code[0] = '\0';
    char shown[AUTH_OAUTH_USER_CODE_BUF_SIZE] = "";
    if (code[0])
        snprintf(shown, sizeof shown, "%.4s-%.4s", code, code + 4);
    snprintf(c, sizeof c, "%s=d.%s; Path=/; HttpOnly; SameSite=Lax; Max-Age=600%s", RESUME_COOKIE,
             shown, http_secure(req) ? "; Secure" : "");
    http_add_header(res, "Set-Cookie", c);
}

void web_device_page(struct http_request *req, struct http_response *res)
{
    struct web_ctx ctx;
    if (web_session_require(req, res, &ctx) != RC_OK) {
        remember_device(req, res);
        return;
    }
    char typed[DEVICE_INPUT_MAX] = "";
    const char *q = http_query(req, "user_code");
    if (q && strlen(q) < sizeof typed)
        snprintf(typed, sizeof typed, "%s", q);
    device_form(req, res, &ctx, 200, NULL, typed);
    web_ctx_release(&ctx);
}

/* Judge the authorization of a normalized code for the page: RC_OK when it is pending and
 * unexpired (row filled); otherwise the answer page is in res. */
static enum rc device_usable(struct http_request *req, struct http_response *res,
                             const struct web_ctx *ctx, const char *code, const char *typed,
                             struct store_oauth_device *row)
{
    struct api_app *app = APP(req);
    enum rc rc = auth_oauth_device_find(&app->auth, code, row);
    if (rc == RC_NOT_FOUND) {
        char ip_key[64], session_key[64];
        guess_keys(req, ctx, ip_key, session_key);
        int64_t now = auth_now(&app->auth);
        auth_throttle_fail(app->auth.throttle, ip_key, now);
        auth_throttle_fail(app->auth.throttle, session_key, now);
        device_form(req, res, ctx, 404,
                    "That code is not valid. Check the code your terminal shows and try again.",
                    typed);
        return rc;
    }
    if (rc != RC_OK) {
        device_result(req, res, 503, "Unavailable",
                      "The server cannot reach its database. Try again in a moment.");
        return rc;
    }
    if (strcmp(row->status, "approved") == 0 || strcmp(row->status, "used") == 0) {
        device_result(req, res, 409, "Code already used",
                      "This code was already approved. If you did not do that, sign out "
                      "everywhere from your tokens page.");
        return RC_CONFLICT;
    }
    if (strcmp(row->status, "denied") == 0) {
        device_result(req, res, 409, "Code already denied",
                      "This request was denied. Run pipecat cloud auth login --headless again "
                      "for a new code.");
        return RC_CONFLICT;
    }
    if (row->expires_at <= auth_now(&app->auth)) {
        device_result(req, res, 410, "Code expired",
                      "This code has expired. Run pipecat cloud auth login --headless again for "
                      "a new code.");
        return RC_CONFLICT;
    }
    return RC_OK;
}

/* The guess throttle: RC_OK, or the 429 page is in res. */
static enum rc device_throttle(struct http_request *req, struct http_response *res,
                               const struct web_ctx *ctx)
{
    struct api_app *app = APP(req);
    char ip_key[64], session_key[64];
    guess_keys(req, ctx, ip_key, session_key);
    int64_t now = auth_now(&app->auth);
    int left = auth_throttle_blocked(app->auth.throttle, ip_key, now);
    int left_s = auth_throttle_blocked(app->auth.throttle, session_key, now);
    if (left_s > left)
        left = left_s;
    if (left <= 0)
        return RC_OK;
    char msg[160], retry[16];
    snprintf(msg, sizeof msg, "Too many wrong codes. Wait %d seconds, then try again.", left);
    snprintf(retry, sizeof retry, "%d", left);
    http_add_header(res, "Retry-After", retry);
    device_result(req, res, 429, "Too many attempts", msg);
    return RC_THROTTLED;
}

void web_device_lookup(struct http_request *req, struct http_response *res)
{
    struct web_ctx ctx;
    if (web_session_require(req, res, &ctx) != RC_OK)
        return;
    if (web_check_post(req, res, &ctx) != RC_OK || device_throttle(req, res, &ctx) != RC_OK)
        goto out;
    char typed[DEVICE_INPUT_MAX], code[AUTH_OAUTH_USER_CODE_LEN + 1];
    if (web_field(req, "user_code", typed, sizeof typed) != RC_OK)
        typed[0] = '\0';
    if (!auth_oauth_user_code_normalize(typed, code)) {
        device_form(req, res, &ctx, 400,
                    "A code has 8 letters, like BCDF-GHJK. Check the code your terminal shows.",
                    typed);
        goto out;
    }
    struct store_oauth_device row;
    if (device_usable(req, res, &ctx, code, typed, &row) != RC_OK)
        goto out;
    char shown[AUTH_OAUTH_USER_CODE_BUF_SIZE];
    snprintf(shown, sizeof shown, "%.4s-%.4s", code, code + 4);
    struct tpl_var v[] = {{"client", "pipecat CLI", 0},
                          {"email", ctx.user.email, 0},
                          {"can", describe(row.scopes), 0},
                          {"user_code", shown, 0},
                          {"csrf", ctx.csrf, 0}};
    device_page(req, res, 200, "Authorize pipecat CLI", "device_consent.html", v,
                sizeof v / sizeof v[0]);
out:
    web_ctx_release(&ctx);
}

void web_device_decide(struct http_request *req, struct http_response *res)
{
    struct web_ctx ctx;
    if (web_session_require(req, res, &ctx) != RC_OK)
        return;
    if (web_check_post(req, res, &ctx) != RC_OK || device_throttle(req, res, &ctx) != RC_OK)
        goto out;
    char typed[DEVICE_INPUT_MAX], code[AUTH_OAUTH_USER_CODE_LEN + 1], decision[16];
    if (web_field(req, "user_code", typed, sizeof typed) != RC_OK ||
        web_field(req, "decision", decision, sizeof decision) != RC_OK ||
        !auth_oauth_user_code_normalize(typed, code)) {
        web_message(req, res, 400, &ctx, "Bad request", "The form could not be read.", "/device");
        goto out;
    }
    struct store_oauth_device row;
    if (device_usable(req, res, &ctx, code, typed, &row) != RC_OK)
        goto out;
    int approve = strcmp(decision, "approve") == 0;
    enum rc rc = auth_oauth_device_decide(&APP(req)->auth, code, ctx.user.id, approve,
                                          http_client_ip(req));
    if (rc == RC_CONFLICT) {
        device_result(req, res, 409, "Code no longer usable",
                      "This code expired or was used while you decided. Run pipecat cloud auth "
                      "login --headless again for a new code.");
    } else if (rc != RC_OK) {
        device_result(req, res, 503, "Unavailable",
                      "The server cannot reach its database. Try again in a moment.");
    } else if (approve) {
        device_result(req, res, 200, "Device connected",
                      "The pipecat CLI is now signed in as you. You can close this page and "
                      "return to your terminal.");
    } else {
        device_result(req, res, 200, "Request denied",
                      "The pipecat CLI was not signed in. If you did not start this sign-in, "
                      "nothing more is needed.");
    }
out:
    web_ctx_release(&ctx);
}

/* --- OAuth logins: list, revoke one, sign out everywhere ------------------------------------ */

enum rc web_oauth_logins_render(struct http_request *req, const struct web_ctx *ctx,
                                struct buf *out)
{
    struct api_app *app = APP(req);
    struct store_oauth_login *logins = NULL;
    size_t count = 0;
    enum rc rc = store_oauth_logins_for_user(app->store, ctx->user.id, auth_now(&app->auth),
                                             &logins, &count);
    if (rc != RC_OK)
        return rc;
    struct buf rows = BUF_INIT;
    for (size_t i = 0; i < count; i++) {
        char created[32], refreshed[32], expires[32];
        web_time(logins[i].created_at, created);
        web_time(logins[i].refreshed_at, refreshed);
        web_time(logins[i].expires_at, expires);
        struct tpl_var v[] = {{"id", logins[i].family_id, 0},
                              {"name", logins[i].family_id + 4, 0},
                              {"client", logins[i].client_id, 0},
                              {"scopes", logins[i].scopes, 0},
                              {"created", created, 0},
                              {"refreshed", refreshed, 0},
                              {"expires", expires, 0},
                              {"csrf", ctx->csrf, 0}};
        web_render(&rows, "oauth_login_row.html", v, sizeof v / sizeof v[0]);
    }
    const char *done = http_query(req, "done");
    struct tpl_var v[] = {
        {"rows", buf_str(&rows), 1},
        {"empty", count ? "hidden" : "", 0},
        {"notice_class", done && strcmp(done, "login-revoked") == 0 ? "notice" : "hidden", 0},
        {"csrf", ctx->csrf, 0}};
    rc = web_render(out, "oauth_logins.html", v, sizeof v / sizeof v[0]);
    buf_release(&rows);
    store_free_list(logins);
    return rc;
}

void web_oauth_login_revoke(struct http_request *req, struct http_response *res)
{
    struct web_ctx ctx;
    if (web_session_require(req, res, &ctx) != RC_OK)
        return;
    if (web_check_post(req, res, &ctx) != RC_OK)
        goto out;
    struct api_app *app = APP(req);
    const char *id = http_param(req, "id");
    struct store_oauth_login *logins = NULL;
    size_t count = 0;
    enum rc rc = store_oauth_logins_for_user(app->store, ctx.user.id, auth_now(&app->auth), &logins,
                                             &count);
    int mine = 0; /* only a login of this user, found among them, is revoked */
    for (size_t i = 0; rc == RC_OK && i < count && !mine; i++)
        mine = id && strcmp(logins[i].family_id, id) == 0;
    store_free_list(logins);
    if (rc == RC_OK && !mine) {
        web_message(req, res, 404, &ctx, "Not found",
                    "That CLI login does not exist or has already ended.", "/account/tokens");
        goto out;
    }
    if (rc == RC_OK)
        rc = store_oauth_family_revoke(app->store, id, auth_now(&app->auth));
    if (rc != RC_OK) {
        web_message(req, res, 503, &ctx, "Unavailable",
                    "The server cannot reach its database. Try again in a moment.", "/");
        goto out;
    }
    char detail[96];
    snprintf(detail, sizeof detail, "{\"family\":\"%s\",\"reason\":\"dashboard\"}", id);
    auth_audit(&app->auth, "oauth.family_revoked", ctx.user.id, NULL, NULL, http_client_ip(req),
               detail);
    web_redirect(res, "/account/tokens?done=login-revoked#logins");
out:
    web_ctx_release(&ctx);
}

void web_signout_everywhere(struct http_request *req, struct http_response *res)
{
    struct web_ctx ctx;
    if (web_session_require(req, res, &ctx) != RC_OK)
        return;
    if (web_check_post(req, res, &ctx) != RC_OK)
        goto out;
    struct api_app *app = APP(req);
    const char *ip = http_client_ip(req);
    enum rc rc = auth_oauth_revoke_user(&app->auth, ctx.user.id, ip);
    if (rc == RC_OK)
        rc = store_web_sessions_delete_user(app->store, ctx.user.id);
    if (rc != RC_OK) {
        web_message(req, res, 503, &ctx, "Unavailable",
                    "The server cannot reach its database. Nothing may have been signed out; "
                    "try again in a moment.",
                    "/account/tokens");
        goto out;
    }
    auth_audit(&app->auth, "web.signout_everywhere", ctx.user.id, NULL, NULL, ip, NULL);
    web_session_end(req, res, &ctx); /* clears this browser's cookie */
    web_redirect(res, "/signin");
out:
    web_ctx_release(&ctx);
}
