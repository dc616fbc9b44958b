/* tokens.c: pcc's own token management: list, create (with scopes, org binding and expiry;
 * secret shown once), rotate, revoke, introspection of the calling token, and the
 * unauthenticated leaked-token report. The reference client never calls these paths. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <sodium.h>

#include "internal.h"
#include "timefmt.h"
#include "banned.h"

#define LEAK_REPORT_MAX 100 /* tokens per report */

/* Tokens of a service account are managed by its organization's admins, not by itself. */
static int refuse_service_account(struct http_request *req, struct http_response *res)
{
    if (strcmp(CALLER(req)->user.kind, "service") != 0)
        return 0;
    http_error(req, res, RC_FORBIDDEN,
               "a service account's tokens are managed by its organization's admins");
    return 1;
}

/* Write each token of list as JSON into an array, with its organization's slug. */
static json_t *token_list_json(struct http_request *req, const struct store_token *toks,
                               size_t count)
{
    struct store_org *orgs = NULL;
    size_t norgs = 0;
    if (store_orgs_for_user(APP(req)->store, CALLER(req)->user.id, &orgs, &norgs) != RC_OK)
        norgs = 0;
    json_t *list = json_array();
    for (size_t i = 0; i < count; i++) {
        const char *slug = NULL;
        for (size_t k = 0; k < norgs && toks[i].org_id[0]; k++)
            if (strcmp(orgs[k].id, toks[i].org_id) == 0)
                slug = orgs[k].name;
        json_array_append_new(list, api_token_json(&toks[i], slug));
    }
    store_free_list(orgs);
    return list;
}

/* The caller's tokens that are no wider than the calling token (auth_check_reach): a token
 * bound to one organization, or expiring, lists only what it could rotate or revoke. The
 * answer says how many it left out, so the CLI can say so. */
void api_list_tokens(struct http_request *req, struct http_response *res)
{
    struct store_token *toks = NULL;
    size_t count = 0, shown = 0;
    enum rc rc = store_tokens_for_user(APP(req)->store, CALLER(req)->user.id, &toks, &count);
    if (rc != RC_OK) {
        api_store_error(req, res, rc);
        return;
    }
    char why[256];
    for (size_t i = 0; i < count; i++)
        if (auth_check_reach(&CALLER(req)->token, &toks[i], why, sizeof why) == RC_OK)
            toks[shown++] = toks[i];
    json_t *list = token_list_json(req, toks, shown);
    store_free_list(toks);
    api_reply(req, res, 200,
              json_pack("{s:o, s:I}", "tokens", list, "omitted", (json_int_t)(count - shown)));
}

enum rc api_token_spec(struct http_request *req, struct http_response *res, json_t *body,
                       const char *owner_id, const struct store_org *bind_org,
                       struct auth_pat_spec *spec, char scopes[STORE_SCOPES_SIZE],
                       char org_id[ID_BUF_SIZE], char org_name[STORE_SLUG_SIZE])
{
    const struct auth_principal *caller = CALLER(req);
    struct api_app *app = APP(req);
    int64_t now = auth_now(&app->auth);
    char err[256] = "";
    memset(spec, 0, sizeof *spec);
    spec->user_id = owner_id;
    scopes[0] = org_id[0] = org_name[0] = '\0';
    enum rc rc = json_get_string(body, "name", 0, 1024, &spec->name, err, sizeof err);
    if (rc != RC_OK)
        goto fail;

    /* scopes: an array of names, default ["full"]; never wider than the caller's own. */
    json_t *list = json_object_get(body, "scopes");
    if (list && !json_is_null(list)) {
        if (!json_is_array(list) || json_array_size(list) == 0 || json_array_size(list) > 8) {
            snprintf(err, sizeof err, "scopes: must be a non-empty array of scope names");
            rc = RC_INVALID;
            goto fail;
        }
        size_t i, used = 0;
        json_t *v;
        json_array_foreach(list, i, v)
        {
            const char *name = json_string_value(v);
            if (!name) {
                snprintf(err, sizeof err, "scopes: must be a non-empty array of scope names");
                rc = RC_INVALID;
                goto fail;
            }
            if ((rc = auth_check_scope(name, err, sizeof err)) != RC_OK)
                goto fail;
            used += (size_t)snprintf(scopes + used, STORE_SCOPES_SIZE - used, "%s%s",
                                     used ? " " : "", name);
        }
    } else {
        snprintf(scopes, STORE_SCOPES_SIZE, "full");
    }
    spec->scopes = scopes;

    /* organization: bind to one of the owner's organizations. A bound caller can only make
     * tokens bound to the same organization. */
    const char *slug = NULL;
    if ((rc = json_get_string(body, "organization", 1, STORE_SLUG_SIZE - 1, &slug, err,
                              sizeof err)) != RC_OK &&
        rc != RC_NOT_FOUND)
        goto fail;
    struct store_org org;
    if (bind_org) {
        if (slug && strcmp(slug, bind_org->name) != 0) {
            snprintf(err, sizeof err, "organization: a service account's tokens are bound to '%s'",
                     bind_org->name);
            rc = RC_INVALID;
            goto fail;
        }
        org = *bind_org;
        slug = org.name;
    } else if (slug) {
        rc = store_org_for_member(app->store, owner_id, slug, &org);
        if (rc == RC_NOT_FOUND) {
            snprintf(err, sizeof err, "organization: '%.64s' is not one of your organizations",
                     slug);
            rc = RC_INVALID;
            goto fail;
        }
        if (rc != RC_OK) {
            api_store_error(req, res, rc);
            return rc;
        }
    }
    if (caller->token.org_id[0] && !bind_org) {
        if (!slug) {
            char own[STORE_SLUG_SIZE];
            api_org_slug(req, caller->token.org_id, own, sizeof own);
            if ((rc = store_org_for_member(app->store, owner_id, own, &org)) != RC_OK) {
                api_store_error(req, res, rc == RC_NOT_FOUND ? RC_STORE : rc);
                return rc;
            }
            slug = org.name;
        }
    }
    if (slug) {
        snprintf(org_id, ID_BUF_SIZE, "%s", org.id);
        snprintf(org_name, STORE_SLUG_SIZE, "%s", org.name);
        spec->org_id = org_id;
    }

    /* expiry: expiresAt (ISO-8601) or expiresInDays, not both; default never. */
    json_t *at = json_object_get(body, "expiresAt");
    json_t *days = json_object_get(body, "expiresInDays");
    if (at && !json_is_null(at) && days && !json_is_null(days)) {
        snprintf(err, sizeof err, "give expiresAt or expiresInDays, not both");
        rc = RC_INVALID;
        goto fail;
    }
    if (at && !json_is_null(at)) {
        const char *text = json_string_value(at);
        if (!text || timefmt_parse(text, strlen(text), &spec->expires_at) != RC_OK) {
            snprintf(err, sizeof err,
                     "expiresAt: must be an ISO-8601 time such as 2025-12-31T00:00:00Z");
            rc = RC_INVALID;
            goto fail;
        }
    } else if (days && !json_is_null(days)) {
        if (!json_is_integer(days) || json_integer_value(days) < 1 ||
            json_integer_value(days) > AUTH_MAX_LIFETIME_DAYS) {
            snprintf(err, sizeof err, "expiresInDays: must be an integer from 1 to %d",
                     AUTH_MAX_LIFETIME_DAYS);
            rc = RC_INVALID;
            goto fail;
        }
        spec->expires_at = now + (int64_t)json_integer_value(days) * 86400;
    }
    /* A caller that expires makes tokens that expire no later, by default at its own expiry
     * (as a bound caller's tokens are bound by default); an OAuth login renews itself and
     * counts as never expiring (auth_check_reach). */
    if ((!at || json_is_null(at)) && (!days || json_is_null(days)) &&
        caller->token.kind == TOKEN_KIND_PAT)
        spec->expires_at = caller->token.expires_at;
    if ((rc = auth_check_expiry(spec->expires_at, now, "expiresAt", err, sizeof err)) != RC_OK)
        goto fail;
    /* The new token may be no wider than the caller: scopes, binding, expiry. */
    struct store_token made = {0};
    made.kind = TOKEN_KIND_PAT;
    store_copy_field(made.scopes, sizeof made.scopes, scopes);
    store_copy_field(made.org_id, sizeof made.org_id, slug ? org.id : "");
    made.expires_at = spec->expires_at;
    if ((rc = auth_check_reach(&caller->token, &made, err, sizeof err)) != RC_OK)
        goto fail;

    /* A token made for an organization must meet its policy, or it could never act there. */
    if (slug) {
        struct store_token probe = {0};
        probe.created_at = now;
        probe.expires_at = spec->expires_at;
        store_copy_field(probe.org_id, sizeof probe.org_id, org.id);
        if ((rc = auth_check_policy(&probe, &org.token_policy, org.name, err, sizeof err)) !=
            RC_OK) {
            rc = RC_INVALID;
            goto fail;
        }
    }
    return RC_OK;
fail:
    http_error(req, res, rc, err);
    return rc;
}

void api_token_created(struct http_request *req, struct http_response *res,
                       const struct store_token *row, const char *org_name,
                       char secret[TOKEN_BUF_SIZE])
{
    json_t *reply = api_token_json(row, org_name && org_name[0] ? org_name : NULL);
    if (reply)
        json_object_set_new(reply, "token", json_string(secret));
    sodium_memzero(secret, TOKEN_BUF_SIZE);
    api_reply(req, res, 201, reply);
}

/* Issue the token of spec and answer 201 with it and its secret. */
static void issue(struct http_request *req, struct http_response *res,
                  const struct auth_pat_spec *spec, const char *org_name)
{
    char err[256] = "";
    char secret[TOKEN_BUF_SIZE];
    struct store_token row;
    enum rc rc = auth_issue_pat_spec(&APP(req)->auth, spec, http_client_ip(req), secret, &row, err,
                                     sizeof err);
    if (rc == RC_STORE || rc == RC_UNAVAILABLE) {
        api_store_error(req, res, rc);
        return;
    }
    if (rc != RC_OK) {
        http_error(req, res, rc, err);
        return;
    }
    api_token_created(req, res, &row, org_name, secret);
}

void api_create_token(struct http_request *req, struct http_response *res)
{
    static const char *const fields[] = {"name",      "scopes",        "organization",
                                         "expiresAt", "expiresInDays", NULL};
    if (refuse_service_account(req, res))
        return;
    json_t *body = http_json_body(req, res, fields);
    if (!body)
        return;
    struct auth_pat_spec spec;
    char scopes[STORE_SCOPES_SIZE], org_id[ID_BUF_SIZE], org_name[STORE_SLUG_SIZE];
    if (api_token_spec(req, res, body, CALLER(req)->user.id, NULL, &spec, scopes, org_id,
                       org_name) == RC_OK)
        issue(req, res, &spec, org_name);
    json_decref(body);
}

enum rc api_grace(struct http_request *req, struct http_response *res, int64_t *grace)
{
    static const char *const fields[] = {"graceSeconds", NULL};
    *grace = 0;
    size_t len = 0;
    http_body(req, &len);
    if (len == 0)
        return RC_OK; /* no body: no grace period */
    json_t *body = http_json_body(req, res, fields);
    if (!body)
        return RC_INVALID;
    enum rc rc = RC_OK;
    json_t *v = json_object_get(body, "graceSeconds");
    if (v && !json_is_null(v)) {
        if (!json_is_integer(v) || json_integer_value(v) < 0 ||
            json_integer_value(v) > AUTH_MAX_GRACE_SECONDS) {
            char msg[96];
            snprintf(msg, sizeof msg, "graceSeconds: must be an integer from 0 to %d (7 days)",
                     AUTH_MAX_GRACE_SECONDS);
            http_error(req, res, RC_INVALID, msg);
            rc = RC_INVALID;
        } else {
            *grace = (int64_t)json_integer_value(v);
        }
    }
    json_decref(body);
    return rc;
}

void api_rotated(struct http_request *req, struct http_response *res, const struct store_token *row,
                 const char *org_name, char secret[TOKEN_BUF_SIZE])
{
    json_t *reply = api_token_json(row, org_name && *org_name ? org_name : NULL);
    if (reply) {
        json_object_set_new(reply, "token", json_string(secret));
        json_object_set_new(reply, "previousSecretExpiresAt",
                            api_time(row->previous_digest[0] ? row->previous_expires_at : 0));
    }
    sodium_memzero(secret, TOKEN_BUF_SIZE);
    api_reply(req, res, 200, reply);
}

/* Rotate the caller's token id and answer. */
static void rotate(struct http_request *req, struct http_response *res, const char *id)
{
    int64_t grace;
    if (api_grace(req, res, &grace) != RC_OK)
        return;
    char secret[TOKEN_BUF_SIZE], err[320];
    struct store_token row;
    enum rc rc = auth_rotate(&APP(req)->auth, &CALLER(req)->token, CALLER(req)->user.id, id, grace,
                             http_client_ip(req), secret, &row, err, sizeof err);
    if (rc != RC_OK) {
        api_rule_error(req, res, rc, err);
        return;
    }
    char slug[STORE_SLUG_SIZE];
    api_org_slug(req, row.org_id, slug, sizeof slug);
    api_rotated(req, res, &row, slug, secret);
}

void api_rotate_token(struct http_request *req, struct http_response *res)
{
    if (refuse_service_account(req, res))
        return;
    rotate(req, res, http_param(req, "id"));
}

void api_rotate_self(struct http_request *req, struct http_response *res)
{
    rotate(req, res, CALLER(req)->token.id);
}

/* Revoke token id of the caller and answer; shared by DELETE .../tokens/{id} and .../self. */
static void revoke(struct http_request *req, struct http_response *res, const char *id)
{
    char err[320] = "";
    enum rc rc = auth_revoke(&APP(req)->auth, &CALLER(req)->token, CALLER(req)->user.id, id,
                             http_client_ip(req), err, sizeof err);
    if (rc == RC_FORBIDDEN) {
        http_error(req, res, rc, err);
        return;
    }
    if (rc == RC_NOT_FOUND) {
        /* The id is not echoed: people paste secrets where ids belong. */
        http_error(req, res, RC_NOT_FOUND, "no active token of yours has that id");
        return;
    }
    if (rc != RC_OK) {
        api_store_error(req, res, rc);
        return;
    }
    http_reply(res, 200, json_pack("{s:s, s:s, s:b}", "status", "OK", "id", id, "revoked", 1));
}

void api_token_self(struct http_request *req, struct http_response *res)
{
    const struct auth_principal *p = CALLER(req);
    char slug[STORE_SLUG_SIZE];
    api_org_slug(req, p->token.org_id, slug, sizeof slug);
    json_t *reply = api_token_json(&p->token, slug[0] ? slug : NULL);
    if (reply)
        json_object_set_new(reply, "owner",
                            json_pack("{s:s, s:s}", "userId", p->user.id, "email", p->user.email));
    api_reply(req, res, 200, reply);
}

void api_revoke_token(struct http_request *req, struct http_response *res)
{
    if (refuse_service_account(req, res))
        return;
    revoke(req, res, http_param(req, "id"));
}

void api_revoke_self(struct http_request *req, struct http_response *res)
{
    revoke(req, res, CALLER(req)->token.id);
}

void api_report_leaked(struct http_request *req, struct http_response *res)
{
    static const char *const fields[] = {"tokens", NULL};
    json_t *body = http_json_body(req, res, fields);
    if (!body)
        return;
    json_t *list = json_object_get(body, "tokens");
    const char *tokens[LEAK_REPORT_MAX];
    size_t n = 0, i;
    json_t *v;
    if (!json_is_array(list) || json_array_size(list) == 0 ||
        json_array_size(list) > LEAK_REPORT_MAX) {
        char msg[96];
        snprintf(msg, sizeof msg, "tokens: must be an array of 1 to %d strings", LEAK_REPORT_MAX);
        http_error(req, res, RC_INVALID, msg);
        goto out;
    }
    json_array_foreach(list, i, v)
    {
        if (!json_is_string(v)) {
            http_error(req, res, RC_INVALID, "tokens: must be an array of strings");
            goto out;
        }
        tokens[n++] = json_string_value(v);
    }
    int retry_after = 0;
    enum rc rc = auth_report_leaked(&APP(req)->auth, tokens, n, http_client_ip(req), &retry_after);
    if (rc == RC_THROTTLED) {
        char secs[16];
        snprintf(secs, sizeof secs, "%d", retry_after);
        http_add_header(res, "Retry-After", secs);
        http_error(req, res, RC_THROTTLED, "too many reports from this address; try again later");
        goto out;
    }
    /* The same answer whatever was valid: the endpoint must not be a token oracle. */
    api_reply(req, res, 200, json_pack("{s:s, s:I}", "status", "OK", "received", (json_int_t)n));
out:
    json_decref(body);
}
