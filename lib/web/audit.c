/* audit.c: Account settings -> Audit log: the signed-in user's audit events, newest first,
 * paged by event id; for an admin of the active organization, that organization's events too
 * (?view=org). The same store queries as GET /v1/audit and the organization audit API. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "internal.h"
#include "banned.h"

#define WEB_AUDIT_PAGE 50

static int is_admin(const struct web_ctx *ctx)
{
    return ctx->have_org && strcmp(ctx->org.role, "admin") == 0;
}

void web_audit_page(struct http_request *req, struct http_response *res)
{
    struct web_ctx ctx;
    if (web_session_require(req, res, &ctx) != RC_OK)
        return;
    const char *view = http_query(req, "view");
    int org_view = view && strcmp(view, "org") == 0;
    if (org_view && !is_admin(&ctx)) {
        web_message(req, res, 403, &ctx, "Audit log",
                    "Only admins of the active organization can read its audit log.",
                    "/account/audit");
        goto out;
    }
    int64_t before = 0;
    const char *b = http_query(req, "before");
    if (b && *b) {
        char *end;
        errno = 0;
        long long n = strtoll(b, &end, 10);
        if (errno || *end || n < 1) {
            web_message(req, res, 400, &ctx, "Audit log", "That page does not exist.",
                        "/account/audit");
            goto out;
        }
        before = n;
    }
    struct store_audit *ev = NULL;
    size_t count = 0;
    enum rc rc = org_view ? store_audit_for_org(APP(req)->store, ctx.org.id, before, WEB_AUDIT_PAGE,
                                                &ev, &count)
                          : store_audit_for_user(APP(req)->store, ctx.user.id, before,
                                                 WEB_AUDIT_PAGE, &ev, &count);
    if (rc != RC_OK) {
        web_message(req, res, 503, &ctx, "Unavailable",
                    "The server cannot reach its database. Try again in a moment.", "/");
        goto out;
    }
    struct buf rows = BUF_INIT, body = BUF_INIT;
    for (size_t i = 0; i < count; i++) {
        char at[32];
        web_time(ev[i].at, at);
        const char *org = "";
        for (size_t k = 0; k < ctx.org_count && ev[i].org_id[0]; k++)
            if (strcmp(ctx.orgs[k].id, ev[i].org_id) == 0)
                org = ctx.orgs[k].name;
        struct tpl_var v[] = {{"at", at, 0},
                              {"event", ev[i].event, 0},
                              {"org", org[0] ? org : ev[i].org_id, 0},
                              {"token", ev[i].token_id, 0},
                              {"ip", ev[i].ip, 0},
                              {"detail", ev[i].detail, 0}};
        web_render(&rows, "audit_row.html", v, sizeof v / sizeof v[0]);
    }
    char next[96] = "";
    if (count == WEB_AUDIT_PAGE)
        snprintf(next, sizeof next, "/account/audit?%sbefore=%lld", org_view ? "view=org&" : "",
                 (long long)ev[count - 1].id);
    char heading[STORE_NAME_SIZE + 32];
    if (org_view)
        snprintf(heading, sizeof heading, "Events of %s", ctx.org.verbose_name);
    else
        snprintf(heading, sizeof heading, "Your events");
    struct tpl_var v[] = {{"heading", heading, 0},
                          {"rows", buf_str(&rows), 1},
                          {"empty", count ? "hidden" : "muted", 0},
                          {"mine_current", org_view ? "false" : "page", 0},
                          {"org_current", org_view ? "page" : "false", 0},
                          {"tabs", is_admin(&ctx) ? "tabs" : "hidden", 0},
                          {"org_slug", ctx.have_org ? ctx.org.name : "", 0},
                          {"next", next, 0},
                          {"next_class", next[0] ? "pager" : "hidden", 0},
                          {"first", org_view ? "/account/audit?view=org" : "/account/audit", 0},
                          {"first_class", before ? "pager" : "hidden", 0}};
    web_render(&body, "audit.html", v, sizeof v / sizeof v[0]);
    web_page(req, res, 200, &ctx, "Audit log", &body);
    buf_release(&rows);
    buf_release(&body);
    store_free_list(ev);
out:
    web_ctx_release(&ctx);
}
