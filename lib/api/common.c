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
                     "kind", tok->kind == TOKEN_KIND_OAUTH_ACCESS ? "oauth" : "pat", "name",
                     tok->name, "display", tok->display, "scopes", scopes, "organization",
                     text_or_null(org_name), "createdAt", api_time(tok->created_at), "expiresAt",
                     api_time(tok->expires_at), "lastUsedAt", api_time(tok->last_used_at),
                     "lastUsedIp", text_or_null(tok->last_used_ip), "lastUsedUserAgent",
                     text_or_null(tok->last_used_agent));
}

void api_store_error(struct http_request *req, struct http_response *res, enum rc rc)
{
    http_error(req, res, rc == RC_UNAVAILABLE ? RC_UNAVAILABLE : RC_STORE,
               store_last_error(APP(req)->store));
}

void api_rule_error(struct http_request *req, struct http_response *res, enum rc rc,
                    const char *err)
{
    if (rc == RC_FORBIDDEN || rc == RC_NOT_FOUND || rc == RC_INVALID || rc == RC_CONFLICT)
        http_error(req, res, rc, err);
    else
        api_store_error(req, res, rc);
}

void api_org_slug(struct http_request *req, const char *org_id, char *out, size_t size)
{
    out[0] = '\0';
    if (!org_id || !*org_id)
        return;
    struct store_org *orgs = NULL;
    size_t count = 0;
    if (store_orgs_for_user(APP(req)->store, CALLER(req)->user.id, &orgs, &count) == RC_OK)
        for (size_t i = 0; i < count; i++)
            if (strcmp(orgs[i].id, org_id) == 0)
                snprintf(out, size, "%s", orgs[i].name);
    store_free_list(orgs);
}

static enum rc member_org(struct http_request *req, struct http_response *res,
                          struct store_org *out, int check_policy);

enum rc api_member_org(struct http_request *req, struct http_response *res, struct store_org *out)
{
    return member_org(req, res, out, 1);
}

enum rc api_member_org_any_token(struct http_request *req, struct http_response *res,
                                 struct store_org *out)
{
    return member_org(req, res, out, 0);
}

static enum rc member_org(struct http_request *req, struct http_response *res,
                          struct store_org *out, int check_policy)
{
    const char *name = http_param(req, "org");
    const struct auth_principal *caller = CALLER(req);
    enum rc rc = store_org_for_member(APP(req)->store, caller->user.id, name, out);
    /* A token bound to one organization sees no other. */
    if (rc == RC_OK && caller->token.org_id[0] && strcmp(caller->token.org_id, out->id) != 0)
        rc = RC_NOT_FOUND;
    if (rc == RC_NOT_FOUND) {
        /* Same answer whether the org is missing or merely not the caller's. */
        char msg[160];
        snprintf(msg, sizeof msg, "organization '%.64s' not found", name);
        http_error(req, res, RC_NOT_FOUND, msg);
    } else if (rc != RC_OK) {
        api_store_error(req, res, rc);
    } else if (check_policy && caller->token.id[0]) {
        /* The org's token policy is checked here, at use: a token outside it is not revoked,
         * it just cannot act in this organization. */
        char msg[256];
        rc = auth_check_policy(&caller->token, &out->token_policy, out->name, msg, sizeof msg);
        if (rc != RC_OK) {
            api_audit(req, "token.policy_refused", out->id, json_pack("{s:s}", "reason", msg));
            http_error(req, res, rc, msg);
        }
    }
    return rc;
}

enum rc api_require_admin(struct http_request *req, struct http_response *res,
                          const struct store_org *org, const char *what)
{
    if (strcmp(org->role, "admin") == 0)
        return RC_OK;
    char msg[200];
    snprintf(msg, sizeof msg, "%s needs the admin role in organization '%s'; you are a %s", what,
             org->name, org->role);
    http_error(req, res, RC_FORBIDDEN, msg);
    return RC_FORBIDDEN;
}

void api_audit(struct http_request *req, const char *event, const char *org_id, json_t *detail)
{
    const struct auth_principal *caller = CALLER(req);
    char *text = detail ? json_to_string(detail) : NULL;
    auth_audit(&APP(req)->auth, event, caller->user.id, caller->token.id, org_id,
               http_client_ip(req), text);
    free(text);
    json_decref(detail);
}

void api_reply(struct http_request *req, struct http_response *res, int status, json_t *body)
{
    if (!body) {
        http_error(req, res, RC_NOMEM, NULL);
        return;
    }
    http_reply(res, status, body);
}

/* The 401/429/5xx of a failed authentication, whichever credential it was. */
static void authentication_failed(struct http_request *req, struct http_response *res, enum rc rc,
                                  int retry_after)
{
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
}

enum rc api_authenticate_public_key(struct http_request *req, struct http_response *res)
{
    struct store_api_key *key = malloc(sizeof *key); /* filled by auth_verify_public_key */
    if (!key) {
        http_error(req, res, RC_NOMEM, NULL);
        return RC_NOMEM;
    }
    int retry_after = 0;
    enum rc rc = auth_verify_public_key(&APP(req)->auth, http_header(req, "Authorization"),
                                        http_client_ip(req), key, &retry_after);
    if (rc == RC_OK) {
        http_set_principal(req, key, free);
        return RC_OK;
    }
    free(key);
    authentication_failed(req, res, rc, retry_after);
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
    if (rc != RC_OK) {
        free(p);
        authentication_failed(req, res, rc, retry_after);
        return rc;
    }
    http_set_principal(req, p, free);
    if (p->token.expires_at) {
        char when[TIMEFMT_SIZE];
        timefmt_iso8601(p->token.expires_at, when);
        http_add_header(res, AUTH_EXPIRY_HEADER, when);
    }
    /* Scopes are enforced here, for every route at once: a route names the capability it
     * needs in its flags (none: full). */
    const struct http_route *route = http_matched_route(req);
    unsigned need = route ? route->flags >> HTTP_ROUTE_APP_SHIFT : 0;
    if (!need)
        need = AUTH_CAP_FULL;
    if (!(auth_scope_caps(p->token.scopes) & need)) {
        const char *scope = auth_capability_scope(need);
        char msg[96];
        snprintf(msg, sizeof msg, "token lacks the %s scope", scope);
        api_audit(req, "token.scope_refused", p->token.org_id,
                  json_pack("{s:s, s:s, s:s}", "needed", scope, "method", http_method(req), "route",
                            route ? route->pattern : ""));
        http_error(req, res, RC_FORBIDDEN, msg);
        return RC_FORBIDDEN;
    }
    return RC_OK;
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
