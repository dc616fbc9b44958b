/* session.c: dashboard sessions and CSRF. The cookie holds a random secret; storage holds only
 * its keyed digest. Every state-changing form carries a token bound to the session (or, before
 * sign-in, to a pre-session cookie) and must come from this same origin. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include <sodium.h>

#include "form.h"
#include "internal.h"
#include "log.h"
#include "banned.h"

#define FORM_TYPE "application/x-www-form-urlencoded"

/* The keyed digest of "purpose:value": session ids, CSRF tokens. */
static void keyed(struct http_request *req, const char *purpose, const char *value,
                  char out[DIGEST_HEX_SIZE])
{
    char msg[160];
    int n = snprintf(msg, sizeof msg, "%s:%s", purpose, value);
    digest_secret(&APP(req)->auth.key, msg, (size_t)n < sizeof msg ? (size_t)n : sizeof msg - 1,
                  out);
    sodium_memzero(msg, sizeof msg);
}

static void set_cookie(struct http_request *req, struct http_response *res, const char *name,
                       const char *value, int max_age)
{
    char c[256];
    snprintf(c, sizeof c, "%s=%s; Path=/; HttpOnly; SameSite=Lax; Max-Age=%d%s", name, value,
             max_age, http_secure(req) ? "; Secure" : "");
    http_add_header(res, "Set-Cookie", c);
    sodium_memzero(c, sizeof c);
}

/* 1 when (s) is a cookie secret's shape: WEB_SECRET_LEN base62 characters. */
static int secret_shape(const char *s)
{
    if (!s || strlen(s) != WEB_SECRET_LEN)
        return 0;
    for (const char *p = s; *p; p++)
        if (!((*p >= '0' && *p <= '9') || (*p >= 'a' && *p <= 'z') || (*p >= 'A' && *p <= 'Z')))
            return 0;
    return 1;
}

void web_ctx_release(struct web_ctx *ctx)
{
    store_free_list(ctx->orgs);
    ctx->orgs = NULL;
    ctx->org_count = 0;
}

enum rc web_session_require(struct http_request *req, struct http_response *res,
                            struct web_ctx *ctx)
{
    struct api_app *app = APP(req);
    memset(ctx, 0, sizeof *ctx);
    const char *secret = http_cookie(req, WEB_SESSION_COOKIE);
    int64_t now = auth_now(&app->auth);
    enum rc rc = RC_UNAUTHORIZED;
    if (secret_shape(secret)) {
        char id[DIGEST_HEX_SIZE];
        keyed(req, "session", secret, id);
        rc = store_web_session_lookup(app->store, id, &ctx->session, &ctx->user);
        if (rc == RC_OK && !digest_equal(id, ctx->session.id))
            rc = RC_NOT_FOUND;
        if (rc == RC_OK && (ctx->session.expires_at <= now ||
                            now - ctx->session.last_seen_at >= WEB_SESSION_IDLE_SECONDS)) {
            store_web_session_delete(app->store, ctx->session.id);
            rc = RC_NOT_FOUND;
        }
    }
    if (rc == RC_NOT_FOUND || rc == RC_UNAUTHORIZED) {
        if (secret)
            set_cookie(req, res, WEB_SESSION_COOKIE, "", 0);
        web_redirect(res, "/signin");
        return RC_UNAUTHORIZED;
    }
    if (rc != RC_OK) {
        web_message(req, res, 503, NULL, "Unavailable",
                    "The server cannot reach its database. Try again in a moment.", "/");
        return rc;
    }
    if (now - ctx->session.last_seen_at >= WEB_SESSION_TOUCH_INTERVAL &&
        store_web_session_touch(app->store, ctx->session.id, now) == RC_OK)
        ctx->session.last_seen_at = now;
    keyed(req, "csrf", ctx->session.id, ctx->csrf);

    /* The active organization: the session's choice while the user is still a member of it,
     * else the first one joined. */
    rc = store_orgs_for_user(app->store, ctx->user.id, &ctx->orgs, &ctx->org_count);
    if (rc != RC_OK) {
        web_message(req, res, 503, NULL, "Unavailable",
                    "The server cannot reach its database. Try again in a moment.", "/");
        return rc;
    }
    for (size_t i = 0; i < ctx->org_count && !ctx->have_org; i++)
        if (strcmp(ctx->orgs[i].id, ctx->session.active_org) == 0) {
            ctx->org = ctx->orgs[i];
            ctx->have_org = 1;
        }
    if (!ctx->have_org && ctx->org_count) {
        ctx->org = ctx->orgs[0];
        ctx->have_org = 1;
    }
    return RC_OK;
}

enum rc web_session_start(struct http_request *req, struct http_response *res,
                          const struct store_user *user, const char *org_id)
{
    struct api_app *app = APP(req);
    char secret[WEB_SECRET_LEN + 1];
    token_random_base62(secret, WEB_SECRET_LEN);
    secret[WEB_SECRET_LEN] = '\0';
    struct store_web_session ws = {0};
    keyed(req, "session", secret, ws.id);
    store_copy_field(ws.user_id, sizeof ws.user_id, user->id);
    store_copy_field(ws.active_org, sizeof ws.active_org, org_id);
    ws.created_at = ws.last_seen_at = auth_now(&app->auth);
    ws.expires_at = ws.created_at + WEB_SESSION_MAX_SECONDS;
    enum rc rc = store_web_session_insert(app->store, &ws);
    if (rc == RC_OK) {
        set_cookie(req, res, WEB_SESSION_COOKIE, secret, WEB_SESSION_MAX_SECONDS);
        set_cookie(req, res, WEB_PRESESSION_COOKIE, "", 0);
    }
    sodium_memzero(secret, sizeof secret);
    return rc;
}

void web_session_end(struct http_request *req, struct http_response *res, struct web_ctx *ctx)
{
    store_web_session_delete(APP(req)->store, ctx->session.id);
    set_cookie(req, res, WEB_SESSION_COOKIE, "", 0);
}

enum rc web_session_set_org(struct http_request *req, struct web_ctx *ctx, const char *org_id)
{
    enum rc rc = store_web_session_set_org(APP(req)->store, ctx->session.id, org_id);
    if (rc == RC_OK)
        store_copy_field(ctx->session.active_org, sizeof ctx->session.active_org, org_id);
    return rc;
}

enum rc web_field(struct http_request *req, const char *name, char *out, size_t size)
{
    size_t len;
    const char *body = http_body(req, &len);
    out[0] = '\0';
    return form_get(body, len, name, out, size);
}

/* 1 when url (an Origin, or a Referer) is this server's own origin, as the browser reached it
 * (the Host header; https only through a trusted proxy that says so). */
static int same_origin(struct http_request *req, const char *url, int is_referer)
{
    const char *host = http_header(req, "Host");
    if (!host || !*host)
        return 0;
    char origin[320];
    int n = snprintf(origin, sizeof origin, "%s://%s", http_secure(req) ? "https" : "http", host);
    if (n <= 0 || (size_t)n >= sizeof origin)
        return 0;
    if (strncasecmp(url, origin, (size_t)n) != 0)
        return 0;
    return is_referer ? url[n] == '/' : url[n] == '\0';
}

/* The checks every form post shares: body type, well-formed fields, same origin. */
static enum rc check_form_post(struct http_request *req, struct http_response *res,
                               const struct web_ctx *ctx)
{
    const char *ctype = http_header(req, "Content-Type");
    size_t len;
    const char *body = http_body(req, &len);
    char err[160];
    if (!ctype || strncasecmp(ctype, FORM_TYPE, strlen(FORM_TYPE)) != 0 ||
        form_check(body, len, err, sizeof err) != RC_OK) {
        web_message(req, res, 400, ctx, "Bad request", "The form could not be read.", "/");
        return RC_INVALID;
    }
    /* Browsers send Origin with every form post; Referer is the fallback for old ones. Either
     * from another site is refused; neither at all leaves the CSRF token to decide. */
    const char *origin = http_header(req, "Origin");
    const char *referer = http_header(req, "Referer");
    int ok = origin && strcmp(origin, "null") != 0 ? same_origin(req, origin, 0)
             : referer                             ? same_origin(req, referer, 1)
                                                   : !origin;
    if (!ok) {
        web_message(req, res, 403, ctx, "Request refused",
                    "This form was sent from another site, so it was not accepted.", "/");
        return RC_FORBIDDEN;
    }
    return RC_OK;
}

static enum rc csrf_refused(struct http_request *req, struct http_response *res,
                            const struct web_ctx *ctx)
{
    log_warn("web: %s %s: CSRF token missing or wrong (ip=%s)", http_method(req), http_path(req),
             http_client_ip(req));
    web_message(req, res, 403, ctx, "Request refused",
                "The form had expired or did not come from this dashboard. Go back, reload the "
                "page and try again.",
                "/");
    return RC_FORBIDDEN;
}

enum rc web_check_post(struct http_request *req, struct http_response *res,
                       const struct web_ctx *ctx)
{
    enum rc rc = check_form_post(req, res, ctx);
    if (rc != RC_OK)
        return rc;
    char sent[DIGEST_HEX_SIZE + 8];
    if (web_field(req, "csrf", sent, sizeof sent) != RC_OK || strlen(sent) != DIGEST_HEX_SIZE - 1 ||
        !digest_equal(sent, ctx->csrf))
        return csrf_refused(req, res, ctx);
    return RC_OK;
}

void web_presession_csrf(struct http_request *req, struct http_response *res,
                         char out[DIGEST_HEX_SIZE])
{
    const char *cookie = http_cookie(req, WEB_PRESESSION_COOKIE);
    char fresh[WEB_SECRET_LEN + 1];
    if (!secret_shape(cookie)) {
        token_random_base62(fresh, WEB_SECRET_LEN);
        fresh[WEB_SECRET_LEN] = '\0';
        set_cookie(req, res, WEB_PRESESSION_COOKIE, fresh, 3600);
        cookie = fresh;
    }
    keyed(req, "presession", cookie, out);
    sodium_memzero(fresh, sizeof fresh);
}

enum rc web_check_presession_post(struct http_request *req, struct http_response *res)
{
    enum rc rc = check_form_post(req, res, NULL);
    if (rc != RC_OK)
        return rc;
    const char *cookie = http_cookie(req, WEB_PRESESSION_COOKIE);
    char sent[DIGEST_HEX_SIZE + 8], want[DIGEST_HEX_SIZE];
    if (!secret_shape(cookie) || web_field(req, "csrf", sent, sizeof sent) != RC_OK ||
        strlen(sent) != DIGEST_HEX_SIZE - 1)
        return csrf_refused(req, res, NULL);
    keyed(req, "presession", cookie, want);
    if (!digest_equal(sent, want))
        return csrf_refused(req, res, NULL);
    return RC_OK;
}
