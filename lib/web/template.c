/* template.c: the dashboard's escaping templates, page layout, security headers and the
 * content-hashed static assets, all from files embedded at build time (web/). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <sodium.h>

#include "internal.h"
#include "log.h"
#include "banned.h"

/* Generated from web/templates/ and web/static/ by scripts/embed.sh. */
extern const char *const web_files[];
extern const char *const web_files_names[];

#define CSP                                                                                        \
    "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self'; "                    \
    "form-action 'self'; frame-ancestors 'none'; base-uri 'none'"
#define HTML_TYPE "text/html; charset=utf-8"
#define ASSET_CACHE "public, max-age=31536000, immutable"

const char *web_file(const char *name, size_t *len)
{
    for (size_t i = 0; web_files[i]; i++)
        if (strcmp(web_files_names[i], name) == 0) {
            if (len)
                *len = strlen(web_files[i]);
            return web_files[i];
        }
    return NULL;
}

enum rc web_escape(struct buf *out, const char *s)
{
    enum rc rc = RC_OK;
    for (const char *p = s ? s : ""; *p && rc == RC_OK; p++) {
        switch (*p) {
        case '&': rc = buf_adds(out, "&amp;"); break;
        case '<': rc = buf_adds(out, "&lt;"); break;
        case '>': rc = buf_adds(out, "&gt;"); break;
        case '"': rc = buf_adds(out, "&quot;"); break;
        case '\'': rc = buf_adds(out, "&#39;"); break;
        default: rc = buf_addc(out, *p);
        }
    }
    return rc;
}

enum rc web_render(struct buf *out, const char *name, const struct tpl_var *vars, size_t n)
{
    const char *t = web_file(name, NULL);
    if (!t) {
        log_error("web: no template %s", name);
        return RC_NOT_FOUND;
    }
    enum rc rc = RC_OK;
    while (*t && rc == RC_OK) {
        const char *open = strstr(t, "{{");
        if (!open)
            return buf_adds(out, t);
        if ((rc = buf_add(out, t, (size_t)(open - t))) != RC_OK)
            break;
        const char *close = strstr(open + 2, "}}");
        if (!close)
            return buf_adds(out, open);
        const char *key = open + 2;
        int raw = *key == '&';
        key += raw;
        size_t klen = (size_t)(close - key);
        for (size_t i = 0; i < n; i++)
            if (strlen(vars[i].name) == klen && memcmp(vars[i].name, key, klen) == 0) {
                /* A raw variable is only honoured where the template asks for it raw. */
                rc = raw && vars[i].raw ? buf_adds(out, vars[i].value ? vars[i].value : "")
                                        : web_escape(out, vars[i].value);
                break;
            }
        t = close + 2;
    }
    return rc;
}

void web_security_headers(struct http_response *res)
{
    http_add_header(res, "Content-Security-Policy", CSP);
    http_add_header(res, "X-Frame-Options", "DENY");
    http_add_header(res, "Referrer-Policy", "same-origin");
}

void web_time(int64_t t, char out[32])
{
    if (!t) {
        snprintf(out, 32, "never");
        return;
    }
    time_t tt = (time_t)t;
    struct tm tm;
    gmtime_r(&tt, &tm);
    strftime(out, 32, "%Y-%m-%d %H:%M UTC", &tm);
}

/* The navigation and organization line of a signed-in page. */
static enum rc render_nav(struct buf *out, const struct web_ctx *ctx, const char *title)
{
    static const struct {
        const char *url, *label;
    } links[] = {{"/account/tokens", "Personal access tokens"},
                 {"/orgs", "Organizations"},
                 {"/org/members", "Members"},
                 {"/org/keys", "API keys"},
                 {"/org/tokens", "Token oversight"},
                 {"/org/service-accounts", "Service accounts"},
                 {"/account/invitations", "Invitations"},
                 {"/account/audit", "Audit log"}};
    struct buf items = BUF_INIT;
    enum rc rc = RC_OK;
    for (size_t i = 0; i < sizeof links / sizeof links[0] && rc == RC_OK; i++) {
        int current = strstr(title, links[i].label) != NULL;
        struct tpl_var v[] = {{"url", links[i].url, 0},
                              {"label", links[i].label, 0},
                              {"current", current ? "page" : "false", 0}};
        rc = web_render(&items, "nav_item.html", v, 3);
    }
    struct tpl_var v[] = {{"items", buf_str(&items), 1},
                          {"email", ctx->user.email, 0},
                          {"org", ctx->have_org ? ctx->org.verbose_name : "no organization", 0},
                          {"org_slug", ctx->have_org ? ctx->org.name : "", 0},
                          {"role", ctx->have_org ? ctx->org.role : "", 0},
                          {"csrf", ctx->csrf, 0}};
    if (rc == RC_OK)
        rc = web_render(out, "nav.html", v, sizeof v / sizeof v[0]);
    buf_release(&items);
    return rc;
}

void web_page(struct http_request *req, struct http_response *res, int status,
              const struct web_ctx *ctx, const char *title, struct buf *body_html)
{
    const struct web *w = WEBCFG(req);
    struct buf nav = BUF_INIT, page = BUF_INIT;
    enum rc rc = ctx ? render_nav(&nav, ctx, title) : RC_OK;
    struct tpl_var v[] = {{"title", title, 0},
                          {"css", w->css_url, 0},
                          {"js", w->js_url, 0},
                          {"nav", buf_str(&nav), 1},
                          {"body", buf_str(body_html), 1}};
    if (rc == RC_OK)
        rc = web_render(&page, "layout.html", v, sizeof v / sizeof v[0]);
    buf_release(&nav);
    if (rc != RC_OK) {
        buf_release(&page);
        http_error(req, res, RC_INTERNAL, "cannot render the page");
        return;
    }
    size_t len;
    char *text = buf_detach(&page, &len);
    if (!text) {
        http_error(req, res, RC_NOMEM, NULL);
        return;
    }
    web_security_headers(res);
    http_reply_raw(res, status, HTML_TYPE, NULL, text, len);
}

void web_message(struct http_request *req, struct http_response *res, int status,
                 const struct web_ctx *ctx, const char *title, const char *message,
                 const char *back_url)
{
    struct buf body = BUF_INIT;
    struct tpl_var v[] = {{"title", title, 0}, {"message", message, 0}, {"back", back_url, 0}};
    web_render(&body, "message.html", v, 3);
    web_page(req, res, status, ctx, title, &body);
    buf_release(&body);
}

void web_sentence(const char *err, char *out, size_t size)
{
    snprintf(out, size, "%s.", err);
    if (out[0] >= 'a' && out[0] <= 'z')
        out[0] = (char)(out[0] - 'a' + 'A');
}

void web_confirm(struct http_request *req, struct http_response *res, const struct web_ctx *ctx,
                 const char *page_title, const struct web_confirm *c)
{
    struct buf body = BUF_INIT;
    struct tpl_var v[] = {{"title", c->title, 0},   {"subject", c->subject, 0},
                          {"detail", c->detail, 0}, {"consequence", c->consequence, 0},
                          {"action", c->action, 0}, {"button", c->button, 0},
                          {"cancel", c->cancel, 0}, {"csrf", ctx->csrf, 0}};
    web_render(&body, "confirm.html", v, sizeof v / sizeof v[0]);
    web_page(req, res, 200, ctx, page_title, &body);
    buf_release(&body);
}

void web_redirect(struct http_response *res, const char *url)
{
    http_add_header(res, "Location", url);
    web_security_headers(res);
    http_reply_raw(res, 303, HTML_TYPE, NULL, NULL, 0);
}

/* --- static assets ------------------------------------------------------------------------ */

static const struct {
    const char *file, *type;
    size_t url_offset; /* where struct web keeps its URL */
} assets[] = {{"app.css", "text/css; charset=utf-8", offsetof(struct web, css_url)},
              {"app.js", "text/javascript; charset=utf-8", offsetof(struct web, js_url)}};

enum rc web_init(struct web *w, int signup_open)
{
    memset(w, 0, sizeof *w);
    w->signup_open = signup_open;
    for (size_t i = 0; i < sizeof assets / sizeof assets[0]; i++) {
        size_t len = 0;
        const char *data = web_file(assets[i].file, &len);
        if (!data)
            return RC_INTERNAL;
        unsigned char h[16];
        crypto_generichash(h, sizeof h, (const unsigned char *)data, len, NULL, 0);
        char hex[33];
        sodium_bin2hex(hex, sizeof hex, h, sizeof h);
        const char *dot = strrchr(assets[i].file, '.');
        snprintf((char *)w + assets[i].url_offset, WEB_ASSET_URL_SIZE, "/static/%.*s.%.12s%s",
                 (int)(dot - assets[i].file), assets[i].file, hex, dot);
    }
    return RC_OK;
}

void web_static(struct http_request *req, struct http_response *res)
{
    const struct web *w = WEBCFG(req);
    const char *path = http_path(req);
    for (size_t i = 0; i < sizeof assets / sizeof assets[0]; i++) {
        if (strcmp(path, (const char *)w + assets[i].url_offset) != 0)
            continue;
        size_t len = 0;
        const char *data = web_file(assets[i].file, &len);
        char *copy = malloc(len ? len : 1);
        if (!copy) {
            http_error(req, res, RC_NOMEM, NULL);
            return;
        }
        memcpy(copy, data, len);
        http_reply_raw(res, 200, assets[i].type, ASSET_CACHE, copy, len);
        return;
    }
    http_error(req, res, RC_NOT_FOUND, "no such file");
}
