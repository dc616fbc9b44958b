/* audit.c: reading the append-only audit log: the caller's own events, and (for admins) an
 * organization's. Events never hold a secret; they are written by lib/auth and the handlers. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "internal.h"
#include "banned.h"

#define AUDIT_PAGE_DEFAULT 50
#define AUDIT_PAGE_MAX 200

/* ?limit= and ?before= into *limit and *before; a 400 in res when malformed. */
static enum rc page_args(struct http_request *req, struct http_response *res, size_t *limit,
                         int64_t *before)
{
    const char *l = http_query(req, "limit"), *b = http_query(req, "before");
    char *end;
    *limit = AUDIT_PAGE_DEFAULT;
    *before = 0;
    if (l) {
        errno = 0;
        long n = strtol(l, &end, 10);
        if (errno || *end || !*l || n < 1 || n > AUDIT_PAGE_MAX) {
            char msg[80];
            snprintf(msg, sizeof msg, "limit: must be an integer from 1 to %d", AUDIT_PAGE_MAX);
            http_error(req, res, RC_INVALID, msg);
            return RC_INVALID;
        }
        *limit = (size_t)n;
    }
    if (b) {
        errno = 0;
        long long n = strtoll(b, &end, 10);
        if (errno || *end || !*b || n < 1) {
            http_error(req, res, RC_INVALID, "before: must be an event id");
            return RC_INVALID;
        }
        *before = n;
    }
    return RC_OK;
}

static json_t *text_or_null(const char *s) { return s && *s ? json_string(s) : json_null(); }

/* {"events": [...], "next": id or null}: next is the before= of the following page. */
static void reply_events(struct http_request *req, struct http_response *res,
                         const struct store_audit *ev, size_t count, size_t limit)
{
    json_t *list = json_array();
    for (size_t i = 0; i < count; i++) {
        json_t *detail = json_loads(ev[i].detail, 0, NULL);
        if (!json_is_object(detail)) {
            json_decref(detail);
            detail = json_object();
        }
        json_array_append_new(
            list,
            json_pack("{s:I, s:o, s:s, s:o, s:o, s:o, s:o, s:o}", "id", (json_int_t)ev[i].id, "at",
                      api_time(ev[i].at), "event", ev[i].event, "userId",
                      text_or_null(ev[i].user_id), "tokenId", text_or_null(ev[i].token_id), "orgId",
                      text_or_null(ev[i].org_id), "ip", text_or_null(ev[i].ip), "detail", detail));
    }
    json_t *next = count == limit && count ? json_integer((json_int_t)ev[count - 1].id)
                                           : json_null();
    api_reply(req, res, 200, json_pack("{s:o, s:o}", "events", list, "next", next));
}

void api_user_audit(struct http_request *req, struct http_response *res)
{
    size_t limit;
    int64_t before;
    if (page_args(req, res, &limit, &before) != RC_OK)
        return;
    struct store_audit *ev = NULL;
    size_t count = 0;
    enum rc rc = store_audit_for_user(APP(req)->store, CALLER(req)->user.id, before, limit, &ev,
                                      &count);
    if (rc != RC_OK) {
        api_store_error(req, res, rc);
        return;
    }
    reply_events(req, res, ev, count, limit);
    store_free_list(ev);
}

void api_org_audit(struct http_request *req, struct http_response *res)
{
    struct store_org org;
    size_t limit;
    int64_t before;
    if (api_member_org(req, res, &org) != RC_OK ||
        api_require_admin(req, res, &org, "reading the audit log") != RC_OK ||
        page_args(req, res, &limit, &before) != RC_OK)
        return;
    struct store_audit *ev = NULL;
    size_t count = 0;
    enum rc rc = store_audit_for_org(APP(req)->store, org.id, before, limit, &ev, &count);
    if (rc != RC_OK) {
        api_store_error(req, res, rc);
        return;
    }
    reply_events(req, res, ev, count, limit);
    store_free_list(ev);
}
