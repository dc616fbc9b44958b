/* orgtokens.c: what admins of the active organization control about tokens, as the API's
 * organization endpoints do: the tokens that can act in it (revocable), its token policy, and
 * service accounts with their tokens (a new token shown once). Members get 403. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <sodium.h>

#include "internal.h"
#include "banned.h"

#define UNAVAILABLE "The server cannot reach its database. Try again in a moment."
#define SA_NAME_MAX 48
#define SA_DOMAIN "service-account.invalid" /* as the API: never a real mailbox */

/* Load the session; RC_OK only for an admin of the active organization, whose organization
 * (with its token policy) is then in org. Otherwise the reply is in res. */
static enum rc admin_ctx(struct http_request *req, struct http_response *res,
                         struct web_ctx *ctx, struct store_org *org, int post, const char *back)
{
    if (post && web_check_post(req, res, ctx) != RC_OK)
        return RC_FORBIDDEN;
    if (!ctx->have_org) {
        web_message(req, res, 404, ctx, "No organization",
                    "You belong to no organization yet: create one first.", "/orgs");
        return RC_NOT_FOUND;
    }
    if (strcmp(ctx->org.role, "admin") != 0) {
        char msg[200];
        snprintf(msg, sizeof msg,
                 "Managing the organization's tokens needs the admin role in this "
                 "organization; you are a %s.",
                 ctx->org.role);
        web_message(req, res, 403, ctx, "Admins only", msg, back);
        return RC_FORBIDDEN;
    }
    enum rc rc = store_org_for_member(APP(req)->store, ctx->user.id, ctx->org.name, org);
    if (rc != RC_OK) {
        web_message(req, res, 503, ctx, "Unavailable", UNAVAILABLE, "/");
        return rc;
    }
    return RC_OK;
}

/* An error message from lib/auth ("expiresAt: ...") as a sentence. */
static void sentence(const char *err, char *out, size_t size)
{
    snprintf(out, size, "%s.", err);
    if (out[0] >= 'a' && out[0] <= 'z')
        out[0] = (char)(out[0] - 'a' + 'A');
}

/* --- tokens that can act in the organization, and its policy ------------------------------ */

static void org_tokens_page(struct http_request *req, struct http_response *res,
                            struct web_ctx *ctx, const struct store_org *org, int status,
                            const char *error)
{
    struct store_org_token *toks = NULL;
    size_t count = 0;
    if (store_tokens_for_org(APP(req)->store, org->id, &toks, &count) != RC_OK) {
        web_message(req, res, 503, ctx, "Unavailable", UNAVAILABLE, "/");
        return;
    }
    struct buf rows = BUF_INIT, body = BUF_INIT;
    for (size_t i = 0; i < count; i++) {
        const struct store_token *t = &toks[i].token;
        char expires[32], used[32];
        web_time(t->expires_at, expires);
        web_time(t->last_used_at, used);
        struct tpl_var v[] = {{"id", t->id, 0},
                              {"owner", toks[i].owner_email, 0},
                              {"kind", strcmp(toks[i].owner_kind, "service") == 0
                                           ? "service account"
                                           : "",
                               0},
                              {"name", t->name, 0},
                              {"display", t->display, 0},
                              {"scopes", t->scopes[0] ? t->scopes : "full", 0},
                              {"binding", t->org_id[0] ? org->name : "any (unbound)", 0},
                              {"expires", expires, 0},
                              {"used", used, 0},
                              {"csrf", ctx->csrf, 0}};
        web_render(&rows, "org_token_row.html", v, sizeof v / sizeof v[0]);
    }
    const char *done = http_query(req, "done");
    const char *notice = !done                             ? ""
                         : strcmp(done, "revoked") == 0    ? "Token revoked."
                         : strcmp(done, "policy") == 0     ? "Token policy saved."
                                                           : "";
    char max_days[16] = "";
    if (org->token_policy.max_lifetime_days)
        snprintf(max_days, sizeof max_days, "%d", org->token_policy.max_lifetime_days);
    struct tpl_var v[] = {{"org", org->verbose_name, 0},
                          {"slug", org->name, 0},
                          {"csrf", ctx->csrf, 0},
                          {"rows", buf_str(&rows), 1},
                          {"empty", count ? "hidden" : "", 0},
                          {"notice", notice, 0},
                          {"notice_class", notice[0] ? "notice" : "hidden", 0},
                          {"error", error ? error : "", 0},
                          {"error_class", error ? "error" : "hidden", 0},
                          {"expiry_checked", org->token_policy.require_expiry ? "checked" : "", 0},
                          {"binding_checked", org->token_policy.require_binding ? "checked" : "",
                           0},
                          {"max_days", max_days, 0}};
    web_render(&body, "org_tokens.html", v, sizeof v / sizeof v[0]);
    web_page(req, res, status, ctx, "Token oversight", &body);
    buf_release(&rows);
    buf_release(&body);
    store_free_list(toks);
}

void web_org_tokens_page(struct http_request *req, struct http_response *res)
{
    struct web_ctx ctx;
    struct store_org org;
    if (web_session_require(req, res, &ctx) != RC_OK)
        return;
    if (admin_ctx(req, res, &ctx, &org, 0, "/account/tokens") == RC_OK)
        org_tokens_page(req, res, &ctx, &org, 200, NULL);
    web_ctx_release(&ctx);
}

void web_org_token_revoke(struct http_request *req, struct http_response *res)
{
    struct web_ctx ctx;
    struct store_org org;
    if (web_session_require(req, res, &ctx) != RC_OK)
        return;
    if (admin_ctx(req, res, &ctx, &org, 1, "/account/tokens") != RC_OK)
        goto out;
    /* Only a token that can act in this organization, as DELETE .../tokens/{id}. */
    const char *id = http_param(req, "id");
    struct store_org_token *toks = NULL;
    size_t count = 0;
    if (store_tokens_for_org(APP(req)->store, org.id, &toks, &count) != RC_OK) {
        web_message(req, res, 503, &ctx, "Unavailable", UNAVAILABLE, "/org/tokens");
        goto out;
    }
    char owner[ID_BUF_SIZE] = "";
    for (size_t i = 0; i < count; i++)
        if (strcmp(toks[i].token.id, id) == 0)
            snprintf(owner, sizeof owner, "%s", toks[i].owner_id);
    store_free_list(toks);
    enum rc rc = owner[0] ? auth_revoke_for(&APP(req)->auth, owner, id, ctx.user.id, org.id,
                                            http_client_ip(req))
                          : RC_NOT_FOUND;
    if (rc == RC_OK)
        web_redirect(res, "/org/tokens?done=revoked");
    else if (rc == RC_NOT_FOUND)
        org_tokens_page(req, res, &ctx, &org, 404,
                        "No active token that can act in this organization has that id.");
    else
        web_message(req, res, 503, &ctx, "Unavailable", UNAVAILABLE, "/org/tokens");
out:
    web_ctx_release(&ctx);
}

void web_org_policy(struct http_request *req, struct http_response *res)
{
    struct web_ctx ctx;
    struct store_org org;
    if (web_session_require(req, res, &ctx) != RC_OK)
        return;
    if (admin_ctx(req, res, &ctx, &org, 1, "/account/tokens") != RC_OK)
        goto out;
    struct store_token_policy p = org.token_policy;
    char field[16];
    p.require_expiry = web_field(req, "require_expiry", field, sizeof field) == RC_OK &&
                       strcmp(field, "1") == 0;
    p.require_binding = web_field(req, "require_binding", field, sizeof field) == RC_OK &&
                        strcmp(field, "1") == 0;
    p.max_lifetime_days = 0;
    if (web_field(req, "max_lifetime_days", field, sizeof field) == RC_OK && field[0]) {
        char *end;
        errno = 0;
        long n = strtol(field, &end, 10);
        if (errno || *end || n < 1 || n > AUTH_MAX_LIFETIME_DAYS) {
            char msg[96];
            snprintf(msg, sizeof msg,
                     "The maximum lifetime must be empty or a number of days from 1 to %d.",
                     AUTH_MAX_LIFETIME_DAYS);
            org_tokens_page(req, res, &ctx, &org, 400, msg);
            goto out;
        }
        p.max_lifetime_days = (int)n;
    }
    /* As PATCH /v1/organizations/{org}/token-policy: store it, audit token_policy.updated. */
    p.updated_at = auth_now(&APP(req)->auth);
    if (store_token_policy_put(APP(req)->store, org.id, &p) != RC_OK) {
        web_message(req, res, 503, &ctx, "Unavailable", UNAVAILABLE, "/org/tokens");
        goto out;
    }
    char detail[128];
    snprintf(detail, sizeof detail,
             "{\"requireExpiry\":%s,\"maxLifetimeDays\":%d,\"requireBinding\":%s}",
             p.require_expiry ? "true" : "false", p.max_lifetime_days,
             p.require_binding ? "true" : "false");
    auth_audit(&APP(req)->auth, "token_policy.updated", ctx.user.id, NULL, org.id,
               http_client_ip(req), detail);
    web_redirect(res, "/org/tokens?done=policy");
out:
    web_ctx_release(&ctx);
}

/* --- service accounts ---------------------------------------------------------------------- */

static int valid_account_name(const char *name)
{
    size_t n = strlen(name);
    if (n == 0 || n > SA_NAME_MAX || name[0] == '-')
        return 0;
    for (size_t i = 0; i < n; i++)
        if (!((name[i] >= 'a' && name[i] <= 'z') || (name[i] >= '0' && name[i] <= '9') ||
              name[i] == '-'))
            return 0;
    return 1;
}

/* The page; created and secret (may be NULL): a service account token just issued, shown
 * this once. */
static void sa_page(struct http_request *req, struct http_response *res, struct web_ctx *ctx,
                    const struct store_org *org, int status, const char *error,
                    const struct store_token *created, const char *secret)
{
    struct store_service_account *list = NULL;
    size_t count = 0;
    if (store_service_accounts_for_org(APP(req)->store, org->id, &list, &count) != RC_OK) {
        web_message(req, res, 503, ctx, "Unavailable", UNAVAILABLE, "/");
        return;
    }
    struct buf blocks = BUF_INIT, fresh = BUF_INIT, body = BUF_INIT;
    for (size_t i = 0; i < count; i++) {
        struct store_token *toks = NULL;
        size_t n = 0;
        struct buf rows = BUF_INIT;
        if (store_tokens_for_user(APP(req)->store, list[i].user_id, &toks, &n) != RC_OK)
            n = 0;
        for (size_t k = 0; k < n; k++) {
            char expires[32], used[32];
            web_time(toks[k].expires_at, expires);
            web_time(toks[k].last_used_at, used);
            struct tpl_var v[] = {{"id", toks[k].id, 0},
                                  {"tname", toks[k].name, 0},
                                  {"name", list[i].name, 0},
                                  {"display", toks[k].display, 0},
                                  {"scopes", toks[k].scopes[0] ? toks[k].scopes : "full", 0},
                                  {"expires", expires, 0},
                                  {"used", used, 0},
                                  {"csrf", ctx->csrf, 0}};
            web_render(&rows, "sa_token_row.html", v, sizeof v / sizeof v[0]);
        }
        store_free_list(toks);
        char created_at[32], email[STORE_EMAIL_SIZE];
        web_time(list[i].created_at, created_at);
        snprintf(email, sizeof email, "%s@%s.%s", list[i].name, org->name, SA_DOMAIN);
        struct tpl_var v[] = {{"name", list[i].name, 0},
                              {"created", created_at, 0},
                              {"email", email, 0},
                              {"rows", buf_str(&rows), 1},
                              {"csrf", ctx->csrf, 0}};
        web_render(&blocks, "sa_block.html", v, sizeof v / sizeof v[0]);
        buf_release(&rows);
    }
    if (created) {
        char expires[32];
        web_time(created->expires_at, expires);
        struct tpl_var v[] = {{"verb", "created", 0},
                              {"grace_class", "hidden", 0},
                              {"name", created->name, 0},
                              {"token", secret, 0},
                              {"scopes", created->scopes, 0},
                              {"org", org->name, 0},
                              {"expires", created->expires_at ? expires : "never", 0}};
        web_render(&fresh, "token_created.html", v, sizeof v / sizeof v[0]);
    }
    const char *done = http_query(req, "done");
    const char *notice = !done                            ? ""
                         : strcmp(done, "created") == 0   ? "Service account created."
                         : strcmp(done, "deleted") == 0   ? "Service account deleted."
                         : strcmp(done, "revoked") == 0   ? "Token revoked."
                                                          : "";
    struct tpl_var v[] = {{"org", org->verbose_name, 0},
                          {"csrf", ctx->csrf, 0},
                          {"created", buf_str(&fresh), 1},
                          {"accounts", buf_str(&blocks), 1},
                          {"empty", count ? "hidden" : "", 0},
                          {"notice", notice, 0},
                          {"notice_class", notice[0] ? "notice" : "hidden", 0},
                          {"error", error ? error : "", 0},
                          {"error_class", error ? "error" : "hidden", 0}};
    web_render(&body, "service_accounts.html", v, sizeof v / sizeof v[0]);
    web_page(req, res, status, ctx, "Service accounts", &body);
    buf_release_secret(&fresh);
    buf_release_secret(&body);
    buf_release(&blocks);
    store_free_list(list);
}

void web_service_accounts_page(struct http_request *req, struct http_response *res)
{
    struct web_ctx ctx;
    struct store_org org;
    if (web_session_require(req, res, &ctx) != RC_OK)
        return;
    if (admin_ctx(req, res, &ctx, &org, 0, "/account/tokens") == RC_OK)
        sa_page(req, res, &ctx, &org, 200, NULL, NULL, NULL);
    web_ctx_release(&ctx);
}

void web_service_account_create(struct http_request *req, struct http_response *res)
{
    struct web_ctx ctx;
    struct store_org org;
    if (web_session_require(req, res, &ctx) != RC_OK)
        return;
    if (admin_ctx(req, res, &ctx, &org, 1, "/account/tokens") != RC_OK)
        goto out;
    char name[SA_NAME_MAX + 2];
    if (web_field(req, "name", name, sizeof name) != RC_OK || !valid_account_name(name)) {
        sa_page(req, res, &ctx, &org, 400,
                "A service account name is 1-48 lowercase letters, digits and '-', not "
                "starting with '-'.",
                NULL, NULL);
        goto out;
    }
    /* As POST /v1/organizations/{org}/service-accounts. */
    int64_t now = auth_now(&APP(req)->auth);
    struct store_user user = {0};
    token_new_id("usr_", user.id);
    snprintf(user.email, sizeof user.email, "%s@%s.%s", name, org.name, SA_DOMAIN);
    snprintf(user.name, sizeof user.name, "%s (service account of %s)", name, org.name);
    user.created_at = now;
    snprintf(user.kind, sizeof user.kind, "service");
    struct store_service_account acct = {0};
    snprintf(acct.user_id, sizeof acct.user_id, "%s", user.id);
    snprintf(acct.org_id, sizeof acct.org_id, "%s", org.id);
    snprintf(acct.name, sizeof acct.name, "%s", name);
    snprintf(acct.created_by, sizeof acct.created_by, "%s", ctx.user.id);
    acct.created_at = now;
    enum rc rc = store_service_account_create(APP(req)->store, &user, &acct);
    if (rc == RC_CONFLICT) {
        sa_page(req, res, &ctx, &org, 409, "This organization already has a service account "
                                           "with that name.", NULL, NULL);
        goto out;
    }
    if (rc != RC_OK) {
        web_message(req, res, 503, &ctx, "Unavailable", UNAVAILABLE, "/org/service-accounts");
        goto out;
    }
    char detail[160];
    snprintf(detail, sizeof detail, "{\"name\":\"%s\",\"serviceAccountId\":\"%s\"}", name,
             user.id);
    auth_audit(&APP(req)->auth, "service_account.created", ctx.user.id, NULL, org.id,
               http_client_ip(req), detail);
    snprintf(detail, sizeof detail, "{\"userId\":\"%s\",\"role\":\"member\"}", user.id);
    auth_audit(&APP(req)->auth, "membership.added", ctx.user.id, NULL, org.id,
               http_client_ip(req), detail);
    web_redirect(res, "/org/service-accounts?done=created");
out:
    web_ctx_release(&ctx);
}

/* The service account {name} of org: 1, or 0 with a 404 (or 503) page in res. */
static int find_account(struct http_request *req, struct http_response *res,
                        struct web_ctx *ctx, const struct store_org *org,
                        struct store_service_account *acct)
{
    enum rc rc = store_service_account_by_name(APP(req)->store, org->id,
                                               http_param(req, "name"), acct);
    if (rc == RC_OK)
        return 1;
    if (rc == RC_NOT_FOUND)
        sa_page(req, res, ctx, org, 404, "This organization has no service account by that name.",
                NULL, NULL);
    else
        web_message(req, res, 503, ctx, "Unavailable", UNAVAILABLE, "/org/service-accounts");
    return 0;
}

void web_service_account_delete(struct http_request *req, struct http_response *res)
{
    struct web_ctx ctx;
    struct store_org org;
    struct store_service_account acct;
    if (web_session_require(req, res, &ctx) != RC_OK)
        return;
    if (admin_ctx(req, res, &ctx, &org, 1, "/account/tokens") != RC_OK ||
        !find_account(req, res, &ctx, &org, &acct))
        goto out;
    enum rc rc = store_service_account_delete(APP(req)->store, org.id, acct.name);
    if (rc != RC_OK && rc != RC_NOT_FOUND) {
        web_message(req, res, 503, &ctx, "Unavailable", UNAVAILABLE, "/org/service-accounts");
        goto out;
    }
    char detail[160];
    snprintf(detail, sizeof detail, "{\"name\":\"%s\",\"serviceAccountId\":\"%s\"}", acct.name,
             acct.user_id);
    auth_audit(&APP(req)->auth, "service_account.deleted", ctx.user.id, NULL, org.id,
               http_client_ip(req), detail);
    snprintf(detail, sizeof detail, "{\"userId\":\"%s\"}", acct.user_id);
    auth_audit(&APP(req)->auth, "membership.removed", ctx.user.id, NULL, org.id,
               http_client_ip(req), detail);
    web_redirect(res, "/org/service-accounts?done=deleted");
out:
    web_ctx_release(&ctx);
}

void web_sa_token_create(struct http_request *req, struct http_response *res)
{
    struct web_ctx ctx;
    struct store_org org;
    struct store_service_account acct;
    if (web_session_require(req, res, &ctx) != RC_OK)
        return;
    if (admin_ctx(req, res, &ctx, &org, 1, "/account/tokens") != RC_OK ||
        !find_account(req, res, &ctx, &org, &acct))
        goto out;
    char name[STORE_NAME_SIZE + 1], scope[16], expiry[16], err[256] = "", msg[300];
    if (web_field(req, "name", name, sizeof name) != RC_OK || !name[0]) {
        sa_page(req, res, &ctx, &org, 400, "Give the token a name that says where it is used.",
                NULL, NULL);
        goto out;
    }
    if (web_field(req, "scope", scope, sizeof scope) != RC_OK || !scope[0])
        snprintf(scope, sizeof scope, "full");
    if (web_field(req, "expiry", expiry, sizeof expiry) != RC_OK || !expiry[0])
        snprintf(expiry, sizeof expiry, "never");
    int64_t now = auth_now(&APP(req)->auth);
    struct auth_pat_spec spec = {.user_id = acct.user_id, .name = name, .scopes = scope,
                                 .org_id = org.id};
    if (strcmp(expiry, "never") != 0) {
        long days = strcmp(expiry, "7") == 0 ? 7 : strcmp(expiry, "30") == 0 ? 30
                                               : strcmp(expiry, "90") == 0   ? 90
                                                                             : 0;
        if (!days) {
            sa_page(req, res, &ctx, &org, 400, "Choose an expiry from the list.", NULL, NULL);
            goto out;
        }
        spec.expires_at = now + (int64_t)days * 86400;
    }
    /* The same checks as POST .../service-accounts/{name}/tokens: scope, then the policy of
     * the organization the token is bound to; auth_issue_pat_spec checks the rest. */
    enum rc rc = auth_check_scope(scope, err, sizeof err);
    if (rc == RC_OK) {
        struct store_token probe = {0};
        probe.created_at = now;
        probe.expires_at = spec.expires_at;
        store_copy_field(probe.org_id, sizeof probe.org_id, org.id);
        rc = auth_check_policy(&probe, &org.token_policy, org.name, err, sizeof err);
    }
    char secret[TOKEN_BUF_SIZE];
    struct store_token row;
    if (rc == RC_OK)
        rc = auth_issue_pat_spec(&APP(req)->auth, &spec, http_client_ip(req), secret, &row, err,
                                 sizeof err);
    if (rc == RC_OK) {
        sa_page(req, res, &ctx, &org, 201, NULL, &row, secret);
        sodium_memzero(secret, sizeof secret);
    } else if (rc == RC_INVALID || rc == RC_CONFLICT || rc == RC_FORBIDDEN) {
        sentence(err, msg, sizeof msg);
        sa_page(req, res, &ctx, &org, rc == RC_CONFLICT ? 409 : 400, msg, NULL, NULL);
    } else {
        web_message(req, res, 503, &ctx, "Unavailable", UNAVAILABLE, "/org/service-accounts");
    }
out:
    web_ctx_release(&ctx);
}

void web_sa_token_revoke(struct http_request *req, struct http_response *res)
{
    struct web_ctx ctx;
    struct store_org org;
    struct store_service_account acct;
    if (web_session_require(req, res, &ctx) != RC_OK)
        return;
    if (admin_ctx(req, res, &ctx, &org, 1, "/account/tokens") != RC_OK ||
        !find_account(req, res, &ctx, &org, &acct))
        goto out;
    enum rc rc = auth_revoke_for(&APP(req)->auth, acct.user_id, http_param(req, "id"),
                                 ctx.user.id, org.id, http_client_ip(req));
    if (rc == RC_OK)
        web_redirect(res, "/org/service-accounts?done=revoked");
    else if (rc == RC_NOT_FOUND)
        sa_page(req, res, &ctx, &org, 404, "The service account has no active token with that id.",
                NULL, NULL);
    else
        web_message(req, res, 503, &ctx, "Unavailable", UNAVAILABLE, "/org/service-accounts");
out:
    web_ctx_release(&ctx);
}
