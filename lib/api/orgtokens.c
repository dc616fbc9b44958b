/* orgtokens.c: what organization admins control about tokens: the tokens that can act in the
 * organization (listed with owners, revocable), the organization's token policy, and service
 * accounts with their tokens. */
#include <stdio.h>
#include <string.h>

#include <sodium.h>

#include "internal.h"
#include "text.h"
#include "banned.h"

#define SERVICE_ACCOUNT_NAME_MAX 48
#define SERVICE_ACCOUNT_DOMAIN "service-account.invalid" /* RFC 2606: never a real mailbox */

/* The organization of the path, for its admins only (4xx/5xx in res otherwise). */
static enum rc admin_org(struct http_request *req, struct http_response *res,
                         struct store_org *org, const char *what)
{
    enum rc rc = api_member_org(req, res, org);
    if (rc == RC_OK)
        rc = api_require_admin(req, res, org, what);
    return rc;
}

void api_org_tokens(struct http_request *req, struct http_response *res)
{
    struct store_org org;
    if (admin_org(req, res, &org, "listing the organization's tokens") != RC_OK)
        return;
    struct store_org_token *toks = NULL;
    size_t count = 0;
    enum rc rc = store_tokens_for_org(APP(req)->store, org.id, &toks, &count);
    if (rc != RC_OK) {
        api_store_error(req, res, rc);
        return;
    }
    json_t *list = json_array();
    for (size_t i = 0; i < count; i++) {
        json_t *t = api_token_json(&toks[i].token, toks[i].token.org_id[0] ? org.name : NULL);
        if (t)
            json_object_set_new(t, "owner",
                                json_pack("{s:s, s:s, s:s}", "userId", toks[i].owner_id,
                                          "email", toks[i].owner_email, "kind",
                                          toks[i].owner_kind));
        json_array_append_new(list, t);
    }
    store_free_list(toks);
    api_reply(req, res, 200, json_pack("{s:o}", "tokens", list));
}

void api_org_revoke_token(struct http_request *req, struct http_response *res)
{
    struct store_org org;
    if (admin_org(req, res, &org, "revoking the organization's tokens") != RC_OK)
        return;
    const char *id = http_param(req, "id");
    struct store_org_token *toks = NULL;
    size_t count = 0;
    enum rc rc = store_tokens_for_org(APP(req)->store, org.id, &toks, &count);
    if (rc != RC_OK) {
        api_store_error(req, res, rc);
        return;
    }
    char owner[ID_BUF_SIZE] = "";
    for (size_t i = 0; i < count; i++)
        if (strcmp(toks[i].token.id, id) == 0)
            snprintf(owner, sizeof owner, "%s", toks[i].owner_id);
    store_free_list(toks);
    if (!owner[0]) {
        http_error(req, res, RC_NOT_FOUND, "no active token that can act in this organization "
                                           "has that id");
        return;
    }
    rc = auth_revoke_for(&APP(req)->auth, owner, id, CALLER(req)->user.id, org.id,
                         http_client_ip(req));
    if (rc == RC_NOT_FOUND) {
        http_error(req, res, RC_NOT_FOUND, "no active token that can act in this organization "
                                           "has that id");
        return;
    }
    if (rc != RC_OK) {
        api_store_error(req, res, rc);
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
                     "requireBinding", p->require_binding, "updatedAt",
                     api_time(p->updated_at));
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
    if (api_member_org_any_token(req, res, &org) != RC_OK ||
        api_require_admin(req, res, &org, "changing the token policy") != RC_OK)
        return;
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
        if (json_is_null(v)) {
            p.max_lifetime_days = 0;
        } else if (!json_is_integer(v) || json_integer_value(v) < 1 ||
                   json_integer_value(v) > AUTH_MAX_LIFETIME_DAYS) {
            char msg[96];
            snprintf(msg, sizeof msg, "maxLifetimeDays: must be null or an integer from 1 to %d",
                     AUTH_MAX_LIFETIME_DAYS);
            http_error(req, res, RC_INVALID, msg);
            goto out;
        } else {
            p.max_lifetime_days = (int)json_integer_value(v);
        }
    }
    p.updated_at = auth_now(&APP(req)->auth);
    enum rc rc = store_token_policy_put(APP(req)->store, org.id, &p);
    if (rc != RC_OK) {
        api_store_error(req, res, rc);
        goto out;
    }
    org.token_policy = p;
    api_audit(req, "token_policy.updated", org.id,
              json_pack("{s:b, s:i, s:b}", "requireExpiry", p.require_expiry, "maxLifetimeDays",
                        p.max_lifetime_days, "requireBinding", p.require_binding));
    api_reply(req, res, 200, policy_json(&org));
out:
    json_decref(body);
}

/* --- service accounts ------------------------------------------------------------------ */

static json_t *account_json(const struct store_service_account *a, const char *org_name)
{
    return json_pack("{s:s, s:s, s:s, s:o}", "id", a->user_id, "name", a->name,
                     "organization", org_name, "createdAt", api_time(a->created_at));
}

/* Service account names: 1..48 of [a-z0-9-], starting with a letter or digit. */
static int valid_account_name(const char *name)
{
    size_t n = strlen(name);
    if (n == 0 || n > SERVICE_ACCOUNT_NAME_MAX || name[0] == '-')
        return 0;
    for (size_t i = 0; i < n; i++)
        if (!((name[i] >= 'a' && name[i] <= 'z') || (name[i] >= '0' && name[i] <= '9') ||
              name[i] == '-'))
            return 0;
    return 1;
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
    char err[160];
    const char *name = NULL;
    enum rc rc = json_get_string(body, "name", 0, SERVICE_ACCOUNT_NAME_MAX, &name, err,
                                 sizeof err);
    if (rc == RC_OK && !valid_account_name(name)) {
        snprintf(err, sizeof err, "name: 1-%d lowercase letters, digits and '-', not starting "
                                  "with '-'", SERVICE_ACCOUNT_NAME_MAX);
        rc = RC_INVALID;
    }
    if (rc != RC_OK) {
        http_error(req, res, rc, err);
        goto out;
    }
    int64_t now = auth_now(&APP(req)->auth);
    struct store_user user = {0};
    token_new_id("usr_", user.id);
    snprintf(user.email, sizeof user.email, "%s@%s.%s", name, org.name, SERVICE_ACCOUNT_DOMAIN);
    snprintf(user.name, sizeof user.name, "%s (service account of %s)", name, org.name);
    user.created_at = now;
    snprintf(user.kind, sizeof user.kind, "service");
    struct store_service_account acct = {0};
    snprintf(acct.user_id, sizeof acct.user_id, "%s", user.id);
    snprintf(acct.org_id, sizeof acct.org_id, "%s", org.id);
    snprintf(acct.name, sizeof acct.name, "%s", name);
    snprintf(acct.created_by, sizeof acct.created_by, "%s", CALLER(req)->user.id);
    acct.created_at = now;
    rc = store_service_account_create(APP(req)->store, &user, &acct);
    if (rc == RC_CONFLICT) {
        snprintf(err, sizeof err, "organization '%s' already has a service account named '%s'",
                 org.name, name);
        http_error(req, res, RC_CONFLICT, err);
        goto out;
    }
    if (rc != RC_OK) {
        api_store_error(req, res, rc);
        goto out;
    }
    api_audit(req, "service_account.created", org.id,
              json_pack("{s:s, s:s}", "name", name, "serviceAccountId", user.id));
    api_audit(req, "membership.added", org.id,
              json_pack("{s:s, s:s}", "userId", user.id, "role", "member"));
    api_reply(req, res, 201, account_json(&acct, org.name));
out:
    json_decref(body);
}

/* The service account {name} of the org, for its admins; 4xx/5xx in res otherwise. */
static enum rc find_account(struct http_request *req, struct http_response *res,
                            struct store_org *org, struct store_service_account *acct)
{
    enum rc rc = admin_org(req, res, org, "managing service accounts");
    if (rc != RC_OK)
        return rc;
    rc = store_service_account_by_name(APP(req)->store, org->id, http_param(req, "name"), acct);
    if (rc == RC_NOT_FOUND) {
        char msg[160];
        snprintf(msg, sizeof msg, "organization '%s' has no service account named '%.48s'",
                 org->name, http_param(req, "name"));
        http_error(req, res, RC_NOT_FOUND, msg);
    } else if (rc != RC_OK) {
        api_store_error(req, res, rc);
    }
    return rc;
}

void api_delete_service_account(struct http_request *req, struct http_response *res)
{
    struct store_org org;
    struct store_service_account acct;
    if (find_account(req, res, &org, &acct) != RC_OK)
        return;
    enum rc rc = store_service_account_delete(APP(req)->store, org.id, acct.name);
    if (rc != RC_OK && rc != RC_NOT_FOUND) {
        api_store_error(req, res, rc);
        return;
    }
    api_audit(req, "service_account.deleted", org.id,
              json_pack("{s:s, s:s}", "name", acct.name, "serviceAccountId", acct.user_id));
    api_audit(req, "membership.removed", org.id, json_pack("{s:s}", "userId", acct.user_id));
    http_reply(res, 200, json_pack("{s:s, s:s, s:b}", "status", "OK", "name", acct.name,
                                   "deleted", 1));
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
    static const char *const fields[] = {"name", "scopes", "organization", "expiresAt",
                                         "expiresInDays", NULL};
    struct store_org org;
    struct store_service_account acct;
    if (find_account(req, res, &org, &acct) != RC_OK)
        return;
    json_t *body = http_json_body(req, res, fields);
    if (!body)
        return;
    struct auth_pat_spec spec;
    char scopes[STORE_SCOPES_SIZE], org_id[ID_BUF_SIZE], org_name[STORE_SLUG_SIZE];
    if (api_token_spec(req, res, body, acct.user_id, &org, &spec, scopes, org_id, org_name) ==
        RC_OK)
        api_issue_for(req, res, &spec, org_name);
    json_decref(body);
}

void api_sa_revoke_token(struct http_request *req, struct http_response *res)
{
    struct store_org org;
    struct store_service_account acct;
    if (find_account(req, res, &org, &acct) != RC_OK)
        return;
    enum rc rc = auth_revoke_for(&APP(req)->auth, acct.user_id, http_param(req, "id"),
                                 CALLER(req)->user.id, org.id, http_client_ip(req));
    if (rc == RC_NOT_FOUND) {
        http_error(req, res, RC_NOT_FOUND, "the service account has no active token with that id");
        return;
    }
    if (rc != RC_OK) {
        api_store_error(req, res, rc);
        return;
    }
    http_reply(res, 200, json_pack("{s:s, s:s, s:b}", "status", "OK", "id",
                                   http_param(req, "id"), "revoked", 1));
}

void api_sa_rotate_token(struct http_request *req, struct http_response *res)
{
    struct store_org org;
    struct store_service_account acct;
    int64_t grace;
    if (find_account(req, res, &org, &acct) != RC_OK || api_grace(req, res, &grace) != RC_OK)
        return;
    char secret[TOKEN_BUF_SIZE];
    struct store_token row;
    enum rc rc = auth_rotate(&APP(req)->auth, acct.user_id, http_param(req, "id"), grace,
                             http_client_ip(req), secret, &row);
    if (rc == RC_NOT_FOUND) {
        http_error(req, res, RC_NOT_FOUND, "the service account has no active token with that id");
        return;
    }
    if (rc != RC_OK) {
        api_store_error(req, res, rc);
        return;
    }
    api_rotated(req, res, &row, org.name, secret);
}
