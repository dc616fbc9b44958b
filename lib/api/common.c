/* common.c: the API's authentication hook and helpers shared by handlers. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "internal.h"
#include "timefmt.h"
#include "banned.h"

json_t *api_time(int64_t epoch)
{
    if (!epoch)
        return json_null();
    char buf[TIMEFMT_SIZE];
    timefmt_iso8601(epoch, buf);
    return json_string(buf);
}

static json_t *text_or_null(const char *s) { return s && *s ? json_string(s) : json_null(); }

json_t *api_token_json(const struct store_token *tok, const char *org_name)
{
    json_t *scopes = json_array();
    /* scopes are stored space-separated */
    const char *p = tok->scopes;
    while (*p) {
        size_t n = strcspn(p, " ");
        if (n)
            json_array_append_new(scopes, json_stringn(p, n));
        p += n;
        while (*p == ' ')
            p++;
    }
    return json_pack("{s:s, s:s, s:s, s:s, s:o, s:o, s:o, s:o, s:o, s:o, s:o}", "id", tok->id,
                     "kind", "pat", "name", tok->name, "display", tok->display, "scopes", scopes,
                     "organization", text_or_null(org_name), "createdAt",
                     api_time(tok->created_at), "expiresAt", api_time(tok->expires_at),
                     "lastUsedAt", api_time(tok->last_used_at), "lastUsedIp",
                     text_or_null(tok->last_used_ip), "lastUsedUserAgent",
                     text_or_null(tok->last_used_agent));
}

void api_store_error(struct http_request *req, struct http_response *res, enum rc rc)
{
    http_error(req, res, rc == RC_UNAVAILABLE ? RC_UNAVAILABLE : RC_STORE,
               APP(req)->store->last_error);
}

enum rc api_member_org(struct http_request *req, struct http_response *res,
                       struct store_org *out)
{
    const char *name = http_param(req, "org");
    enum rc rc = store_org_for_member(APP(req)->store, CALLER(req)->user.id, name, out);
    if (rc == RC_NOT_FOUND) {
        /* Same answer whether the org is missing or merely not the caller's. */
        char msg[160];
        snprintf(msg, sizeof msg, "organization '%.64s' not found", name);
        http_error(req, res, RC_NOT_FOUND, msg);
    } else if (rc != RC_OK) {
        api_store_error(req, res, rc);
    }
    return rc;
}

enum rc api_authenticate(struct http_request *req, struct http_response *res)
{
    struct api_app *app = APP(req);
    struct auth_principal *p = malloc(sizeof *p); /* filled by auth_verify_bearer */
    if (!p) {
        http_error(req, res, RC_NOMEM, NULL);
        return RC_NOMEM;
    }
    int retry_after = 0;
    enum rc rc = auth_verify_bearer(&app->auth, http_header(req, "Authorization"),
                                    http_client_ip(req), http_header(req, "User-Agent"), p,
                                    &retry_after);
    if (rc == RC_OK) {
        http_set_principal(req, p, free);
        return RC_OK;
    }
    free(p);
    if (rc == RC_THROTTLED) {
        char secs[16];
        snprintf(secs, sizeof secs, "%d", retry_after);
        http_add_header(res, "Retry-After", secs);
        http_error(req, res, RC_THROTTLED, NULL);
    } else if (rc == RC_UNAUTHORIZED) {
        http_add_header(res, "WWW-Authenticate", "Bearer realm=\"pcc\"");
        http_error(req, res, RC_UNAUTHORIZED, NULL);
    } else {
        api_store_error(req, res, rc);
    }
    return rc;
}

void api_health(struct http_request *req, struct http_response *res)
{
    struct store_user u;
    enum rc rc = store_user_by_id(APP(req)->store, "", &u);
    if (rc != RC_OK && rc != RC_NOT_FOUND) {
        http_error(req, res, RC_UNAVAILABLE, "database unreachable");
        return;
    }
    http_reply(res, 200,
               json_pack("{s:s, s:s, s:s}", "status", "ok", "version", APP(req)->version,
                         "database", "ok"));
}
