/* orgtokens.c: what organization admins control about tokens: the tokens that can act in the
 * organization (listed with owners, revocable), the organization's token policy, and service
 * accounts with their tokens. The rules and audit records are lib/auth's (orgadmin.h), shared
 * with the dashboard; this file parses JSON and replies. */
#include <stdio.h>
#include <string.h>

#include "internal.h"
#include "orgadmin.h"
#include "banned.h"

/* The organization of the path, for its admins only (4xx/5xx in res otherwise). */
static enum rc admin_org(struct http_request *req, struct http_response *res, struct store_org *org,
                         const char *what)
{
    char err[200];
    enum rc rc = api_member_org(req, res, org);
    if (rc == RC_OK && (rc = orgadmin_require(org, what, err, sizeof err)) != RC_OK)
        api_rule_error(req, res, rc, err);
    return rc;
}

/* A token the organization does not own: that it exists, whose it is and what it may do, and
 * "access": "membership" (no name, last use, address or user agent; it cannot be revoked here). */
static json_t *membership_token_json(const struct store_org_token *t)
{
    json_t *full = api_token_json(&t->token, NULL);
    json_t *out = json_pack("{s:s, s:s, s:O, s:O, s:O}", "id", t->token.id, "access", "membership",
                            "scopes", json_object_get(full, "scopes"), "createdAt",
                            json_object_get(full, "createdAt"), "expiresAt",
                            json_object_get(full, "expiresAt"));
    json_decref(full);
    return out;
}

void api_org_tokens(struct http_request *req, struct http_response *res)
{
    struct store_org org;
    char err[200];
    if (api_member_org(req, res, &org) != RC_OK)
        return;
    struct store_org_token *toks = NULL;
    size_t count = 0;
    enum rc rc = orgadmin_tokens(&APP(req)->auth, &org, &toks, &count, err, sizeof err);
    if (rc != RC_OK) {
        api_rule_error(req, res, rc, err);
        return;
    }
    json_t *list = json_array();
    for (size_t i = 0; i < count; i++) {
        int owned = orgadmin_token_owned(&org, &toks[i]);
        json_t *t = owned
                        ? api_token_json(&toks[i].token, toks[i].token.org_id[0] ? org.name : NULL)
                        : membership_token_json(&toks[i]);
        if (t && owned)
            json_object_set_new(t, "access", json_string("organization"));
        if (t)
            json_object_set_new(t, "owner",
                                json_pack("{s:s, s:s, s:s}", "userId", toks[i].owner_id, "email",
                                          toks[i].owner_email, "kind", toks[i].owner_kind));
        json_array_append_new(list, t);
    }
    store_free_list(toks);
    api_reply(req, res, 200, json_pack("{s:o}", "tokens", list));
}

void api_org_revoke_token(struct http_request *req, struct http_response *res)
{
    struct store_org org;
    char err[200];
    if (admin_org(req, res, &org, "revoking the organization's tokens") != RC_OK)
        return;
    const char *id = http_param(req, "id");
    enum rc rc = orgadmin_token_revoke(&APP(req)->auth, &org, id, API_ACTOR(req), err, sizeof err);
    if (rc != RC_OK) {
        api_rule_error(req, res, rc, err);
        return;
    }
    http_reply(res, 200, json_pack("{s:s, s:s, s:b}", "status", "OK", "id", id, "revoked", 1));
}

static json_t *policy_json(const struct store_org *org)
{
    const struct store_token_policy *p = &org->token_policy;
    return json_pack("{s:s, s:b, s:o, s:b, s:o}", "organization", org->name, "requireExpiry",
                     p->require_expiry, "maxLifetimeDays",
                     p->max_lifetime_days ? json_integer(p->max_lifetime_days) : json_null(),
                     "requireBinding", p->require_binding, "updatedAt", api_time(p->updated_at));
}

void api_get_token_policy(struct http_request *req, struct http_response *res)
{
    struct store_org org;
    if (api_member_org_any_token(req, res, &org) != RC_OK)
        return;
    api_reply(req, res, 200, policy_json(&org));
}

void api_patch_token_policy(struct http_request *req, struct http_response *res)
{
    static const char *const fields[] = {"requireExpiry", "maxLifetimeDays", "requireBinding",
                                         NULL};
    struct store_org org;
    char err[200];
    if (api_member_org_any_token(req, res, &org) != RC_OK)
        return;
    enum rc rc = orgadmin_require(&org, "changing the token policy", err, sizeof err);
    if (rc != RC_OK) {
        api_rule_error(req, res, rc, err);
        return;
    }
    json_t *body = http_json_body(req, res, fields);
    if (!body)
        return;
    struct store_token_policy p = org.token_policy;
    json_t *v;
    if ((v = json_object_get(body, "requireExpiry"))) {
        if (!json_is_boolean(v)) {
            http_error(req, res, RC_INVALID, "requireExpiry: must be true or false");
            goto out;
        }
        p.require_expiry = json_is_true(v);
    }
    if ((v = json_object_get(body, "requireBinding"))) {
        if (!json_is_boolean(v)) {
            http_error(req, res, RC_INVALID, "requireBinding: must be true or false");
            goto out;
        }
        p.require_binding = json_is_true(v);
    }
    if ((v = json_object_get(body, "maxLifetimeDays"))) {
        long long days = json_is_integer(v) ? (long long)json_integer_value(v) : 0;
        if (json_is_null(v)) {
            p.max_lifetime_days = 0;
        } else if ((rc = orgadmin_check_lifetime(days, "maxLifetimeDays", err, sizeof err)) !=
                   RC_OK) {
            api_rule_error(req, res, rc, err);
            goto out;
        } else {
            p.max_lifetime_days = (int)days;
        }
    }
    if ((rc = orgadmin_policy_set(&APP(req)->auth, &org, &p, API_ACTOR(req), err, sizeof err)) !=
        RC_OK) {
        api_rule_error(req, res, rc, err);
        goto out;
    }
    api_reply(req, res, 200, policy_json(&org));
out:
    json_decref(body);
}

/* --- service accounts ------------------------------------------------------------------ */

static json_t *account_json(const struct store_service_account *a, const char *org_name)
{
    return json_pack("{s:s, s:s, s:s, s:o}", "id", a->user_id, "name", a->name, "organization",
                     org_name, "createdAt", api_time(a->created_at));
}

void api_list_service_accounts(struct http_request *req, struct http_response *res)
{
    struct store_org org;
    if (admin_org(req, res, &org, "managing service accounts") != RC_OK)
        return;
    struct store_service_account *list = NULL;
    size_t count = 0;
    enum rc rc = store_service_accounts_for_org(APP(req)->store, org.id, &list, &count);
    if (rc != RC_OK) {
        api_store_error(req, res, rc);
        return;
    }
    json_t *arr = json_array();
    for (size_t i = 0; i < count; i++)
        json_array_append_new(arr, account_json(&list[i], org.name));
    store_free_list(list);
    api_reply(req, res, 200, json_pack("{s:o}", "serviceAccounts", arr));
}

void api_create_service_account(struct http_request *req, struct http_response *res)
{
    static const char *const fields[] = {"name", NULL};
    struct store_org org;
    if (admin_org(req, res, &org, "managing service accounts") != RC_OK)
        return;
    json_t *body = http_json_body(req, res, fields);
    if (!body)
        return;
    char err[200];
    const char *name = NULL;
    struct store_service_account acct;
    enum rc rc = json_get_string(body, "name", 0, ORGADMIN_SA_NAME_MAX, &name, err, sizeof err);
    if (rc == RC_OK)
        rc = orgadmin_sa_create(&APP(req)->auth, &org, name, API_ACTOR(req), &acct, err,
                                sizeof err);
    if (rc != RC_OK)
        api_rule_error(req, res, rc, err);
    else
        api_reply(req, res, 201, account_json(&acct, org.name));
    json_decref(body);
}

/* The service account {name} of the org, for its admins; 4xx/5xx in res otherwise. */
static enum rc find_account(struct http_request *req, struct http_response *res,
                            struct store_org *org, struct store_service_account *acct)
{
    char err[200];
    enum rc rc = admin_org(req, res, org, "managing service accounts");
    if (rc == RC_OK && (rc = orgadmin_sa_find(&APP(req)->auth, org, http_param(req, "name"), acct,
                                              err, sizeof err)) != RC_OK)
        api_rule_error(req, res, rc, err);
    return rc;
}

void api_delete_service_account(struct http_request *req, struct http_response *res)
{
    struct store_org org;
    struct store_service_account acct;
    char err[200];
    if (find_account(req, res, &org, &acct) != RC_OK)
        return;
    enum rc rc = orgadmin_sa_delete(&APP(req)->auth, &org, &acct, API_ACTOR(req), err, sizeof err);
    if (rc != RC_OK) {
        api_rule_error(req, res, rc, err);
        return;
    }
    http_reply(res, 200,
               json_pack("{s:s, s:s, s:b}", "status", "OK", "name", acct.name, "deleted", 1));
}

void api_sa_list_tokens(struct http_request *req, struct http_response *res)
{
    struct store_org org;
    struct store_service_account acct;
    if (find_account(req, res, &org, &acct) != RC_OK)
        return;
    struct store_token *toks = NULL;
    size_t count = 0;
    enum rc rc = store_tokens_for_user(APP(req)->store, acct.user_id, &toks, &count);
    if (rc != RC_OK) {
        api_store_error(req, res, rc);
        return;
    }
    json_t *list = json_array();
    for (size_t i = 0; i < count; i++)
        json_array_append_new(list, api_token_json(&toks[i], org.name));
    store_free_list(toks);
    api_reply(req, res, 200, json_pack("{s:o}", "tokens", list));
}

void api_sa_create_token(struct http_request *req, struct http_response *res)
{
    static const char *const fields[] = {"name",      "scopes",        "organization",
                                         "expiresAt", "expiresInDays", NULL};
    struct store_org org;
    struct store_service_account acct;
    if (find_account(req, res, &org, &acct) != RC_OK)
        return;
    json_t *body = http_json_body(req, res, fields);
    if (!body)
        return;
    struct auth_pat_spec spec;
    char scopes[STORE_SCOPES_SIZE], org_id[ID_BUF_SIZE], org_name[STORE_SLUG_SIZE];
    char err[256] = "", secret[TOKEN_BUF_SIZE];
    struct store_token row;
    if (api_token_spec(req, res, body, acct.user_id, &org, &spec, scopes, org_id, org_name) !=
        RC_OK)
        goto out;
    enum rc rc = orgadmin_sa_issue(&APP(req)->auth, &org, &acct, &spec, API_ACTOR(req), secret,
                                   &row, err, sizeof err);
    if (rc != RC_OK) {
        api_rule_error(req, res, rc, err);
        goto out;
    }
    api_token_created(req, res, &row, org.name, secret);
out:
    json_decref(body);
}

void api_sa_revoke_token(struct http_request *req, struct http_response *res)
{
    struct store_org org;
    struct store_service_account acct;
    char err[200];
    if (find_account(req, res, &org, &acct) != RC_OK)
        return;
    enum rc rc = orgadmin_sa_revoke(&APP(req)->auth, &org, &acct, http_param(req, "id"),
                                    API_ACTOR(req), err, sizeof err);
    if (rc != RC_OK) {
        api_rule_error(req, res, rc, err);
        return;
    }
    http_reply(
        res, 200,
        json_pack("{s:s, s:s, s:b}", "status", "OK", "id", http_param(req, "id"), "revoked", 1));
}

void api_sa_rotate_token(struct http_request *req, struct http_response *res)
{
    struct store_org org;
    struct store_service_account acct;
    int64_t grace;
    if (find_account(req, res, &org, &acct) != RC_OK || api_grace(req, res, &grace) != RC_OK)
        return;
    char secret[TOKEN_BUF_SIZE], err[320];
    struct store_token row;
    enum rc rc = auth_rotate(&APP(req)->auth, &CALLER(req)->token, acct.user_id,
                             http_param(req, "id"), grace, http_client_ip(req), secret, &row, err,
                             sizeof err);
    if (rc == RC_NOT_FOUND) {
        http_error(req, res, RC_NOT_FOUND, "the service account has no active token with that id");
        return;
    }
    if (rc == RC_INVALID || rc == RC_FORBIDDEN || rc == RC_CONFLICT) {
        http_error(req, res, rc, err);
        return;
    }
    if (rc != RC_OK) {
        api_store_error(req, res, rc);
        return;
    }
    api_rotated(req, res, &row, org.name, secret);
}
