/* orgtokens.c: what admins of the active organization control about tokens, as the API's
 * organization endpoints do: the tokens that can act in it (revocable), its token policy, and
 * service accounts with their tokens (a new token shown once). The checks, store calls and audit
 * records are lib/auth's (orgadmin.h), shared with the API; this file reads forms and renders.
 * Members get 403 on the pages, and on anything that names a token or account the 404 of one that
 * does not exist. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <sodium.h>

#include "internal.h"
#include "orgadmin.h"
#include "banned.h"

#define UNAVAILABLE "The server cannot reach its database. Try again in a moment."

/* The signed-in admin, as lib/auth's organization admin functions record it (no token). */
#define ACTOR(req, ctx) (&(const struct orgadmin_actor){(ctx)->user.id, NULL, http_client_ip(req)})

/* The active organization as stored (with the caller's role, which the orgadmin_* calls check, and
 * its token policy) into org. RC_OK, or the reply is in res: 404 without an organization, 503 when
 * storage fails. post: check the form's CSRF first. */
static enum rc target_ctx(struct http_request *req, struct http_response *res, struct web_ctx *ctx,
                          struct store_org *org, int post)
{
    if (post && web_check_post(req, res, ctx) != RC_OK)
        return RC_FORBIDDEN;
    if (!ctx->have_org) {
        web_message(req, res, 404, ctx, "No organization",
                    "You belong to no organization yet: create one first.", "/orgs");
        return RC_NOT_FOUND;
    }
    enum rc rc = store_org_for_member(APP(req)->store, ctx->user.id, ctx->org.name, org);
    if (rc != RC_OK)
        web_message(req, res, 503, ctx, "Unavailable", UNAVAILABLE, "/");
    return rc;
}

/* target_ctx for the organization's admins only: a member gets 403 "Admins only" (what names the
 * page). For the list pages, which name no token or account. */
static enum rc admin_ctx(struct http_request *req, struct http_response *res, struct web_ctx *ctx,
                         struct store_org *org, int post, const char *what)
{
    char err[200], msg[220];
    enum rc rc = target_ctx(req, res, ctx, org, post);
    if (rc == RC_OK && (rc = orgadmin_require(org, what, err, sizeof err)) != RC_OK) {
        web_sentence(err, msg, sizeof msg);
        web_message(req, res, 403, ctx, "Admins only", msg, "/account/tokens");
    }
    return rc;
}

/* The reply to a failed orgadmin_* call on one token or service account: RC_NOT_FOUND and
 * RC_FORBIDDEN (a member who is no admin) get the same 404 page, so a member learns nothing about
 * what exists; anything else is a storage failure, 503. */
static void target_failed(struct http_request *req, struct http_response *res, struct web_ctx *ctx,
                          enum rc rc, const char *not_found, const char *back)
{
    if (rc == RC_NOT_FOUND || rc == RC_FORBIDDEN)
        web_message(req, res, 404, ctx, "Not found", not_found, back);
    else
        web_message(req, res, 503, ctx, "Unavailable", UNAVAILABLE, back);
}

/* --- tokens that can act in the organization, and its policy ------------------------------ */

static void org_tokens_page(struct http_request *req, struct http_response *res,
                            struct web_ctx *ctx, const struct store_org *org, int status,
                            const char *error)
{
    struct store_org_token *toks = NULL;
    size_t count = 0;
    char err[200];
    if (orgadmin_tokens(&APP(req)->auth, org, &toks, &count, err, sizeof err) != RC_OK) {
        web_message(req, res, 503, ctx, "Unavailable", UNAVAILABLE, "/");
        return;
    }
    struct buf rows = BUF_INIT, body = BUF_INIT;
    for (size_t i = 0; i < count; i++) {
        const struct store_token *t = &toks[i].token;
        char expires[32], used[32];
        web_time(t->expires_at, expires);
        web_time(t->last_used_at, used);
        if (!orgadmin_token_owned(org, &toks[i])) {
            struct tpl_var m[] = {{"id", t->id, 0},
                                  {"owner", toks[i].owner_email, 0},
                                  {"scopes", t->scopes[0] ? t->scopes : "full", 0},
                                  {"expires", expires, 0}};
            web_render(&rows, "org_token_member_row.html", m, sizeof m / sizeof m[0]);
            continue;
        }
        struct tpl_var v[] = {
            {"id", t->id, 0},
            {"owner", toks[i].owner_email, 0},
            {"kind", strcmp(toks[i].owner_kind, "service") == 0 ? "service account" : "", 0},
            {"name", t->name, 0},
            {"display", t->display, 0},
            {"scopes", t->scopes[0] ? t->scopes : "full", 0},
            {"binding", t->org_id[0] ? org->name : "any (unbound)", 0},
            {"expires", expires, 0},
            {"used", used, 0}};
        web_render(&rows, "org_token_row.html", v, sizeof v / sizeof v[0]);
    }
    const char *done = http_query(req, "done");
    const char *notice = !done                          ? ""
                         : strcmp(done, "revoked") == 0 ? "Token revoked."
                         : strcmp(done, "policy") == 0  ? "Token policy saved."
                                                        : "";
    char max_days[16] = "";
    if (org->token_policy.max_lifetime_days)
        snprintf(max_days, sizeof max_days, "%d", org->token_policy.max_lifetime_days);
    struct tpl_var v[] = {
        {"org", org->verbose_name, 0},
        {"slug", org->name, 0},
        {"csrf", ctx->csrf, 0},
        {"rows", buf_str(&rows), 1},
        {"empty", count ? "hidden" : "", 0},
        {"notice", notice, 0},
        {"notice_class", notice[0] ? "notice" : "hidden", 0},
        {"error", error ? error : "", 0},
        {"error_class", error ? "error" : "hidden", 0},
        {"expiry_checked", org->token_policy.require_expiry ? "checked" : "", 0},
        {"binding_checked", org->token_policy.require_binding ? "checked" : "", 0},
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
    if (admin_ctx(req, res, &ctx, &org, 0, "managing the organization's tokens") == RC_OK)
        org_tokens_page(req, res, &ctx, &org, 200, NULL);
    web_ctx_release(&ctx);
}

#define NO_ORG_TOKEN "No active token that can act in this organization has that id."

/* Where a revocation returns to: the service accounts page for one of their tokens
 * (?from=service-accounts), else /org/tokens. Only these two: never a URL from the request. */
static const char *revoke_back(struct http_request *req)
{
    const char *from = http_query(req, "from");
    return from && strcmp(from, "service-accounts") == 0 ? "/org/service-accounts" : "/org/tokens";
}

void web_org_token_revoke_page(struct http_request *req, struct http_response *res)
{
    struct web_ctx ctx;
    struct store_org org;
    struct store_org_token tok;
    char err[200], action[128], detail[160];
    const char *back = revoke_back(req);
    if (web_session_require(req, res, &ctx) != RC_OK)
        return;
    if (target_ctx(req, res, &ctx, &org, 0) != RC_OK)
        goto out;
    enum rc rc = orgadmin_token_find(&APP(req)->auth, &org, http_param(req, "id"), &tok, err,
                                     sizeof err);
    if (rc != RC_OK) {
        target_failed(req, res, &ctx, rc, NO_ORG_TOKEN, back);
        goto out;
    }
    if (orgadmin_token_revocable(&org, &tok, err, sizeof err) != RC_OK) {
        char msg[400];
        web_sentence(err, msg, sizeof msg);
        web_message(req, res, 403, &ctx, "Not the organization's token", msg, back);
        goto out;
    }
    int service = strcmp(tok.owner_kind, "service") == 0;
    snprintf(action, sizeof action, "/org/tokens/%s/revoke%s", tok.token.id,
             strcmp(back, "/org/tokens") != 0 ? "?from=service-accounts" : "");
    snprintf(detail, sizeof detail, "%s of %s%s", tok.token.display, tok.owner_email,
             service ? " (service account)" : "");
    web_confirm(req, res, &ctx, "Token oversight: revoke",
                &(const struct web_confirm){
                    "Revoke this token?", tok.token.name, detail,
                    "Anything using it gets 401 Unauthorized from its next request on, in every "
                    "organization it can act in. Its owner's audit log records that you revoked "
                    "it. This cannot be undone.",
                    action, "Revoke token", back});
out:
    web_ctx_release(&ctx);
}

void web_org_token_revoke(struct http_request *req, struct http_response *res)
{
    struct web_ctx ctx;
    struct store_org org;
    char err[200], done[64];
    const char *back = revoke_back(req);
    if (web_session_require(req, res, &ctx) != RC_OK)
        return;
    if (target_ctx(req, res, &ctx, &org, 1) != RC_OK)
        goto out;
    enum rc rc = orgadmin_token_revoke(&APP(req)->auth, &org, http_param(req, "id"),
                                       ACTOR(req, &ctx), err, sizeof err);
    snprintf(done, sizeof done, "%s?done=revoked", back);
    if (rc == RC_OK) {
        web_redirect(res, done);
    } else if (rc == RC_FORBIDDEN && strcmp(org.role, "admin") == 0) {
        char msg[400]; /* an admin, refused a token the organization does not own */
        web_sentence(err, msg, sizeof msg);
        web_message(req, res, 403, &ctx, "Not the organization's token", msg, back);
    } else {
        target_failed(req, res, &ctx, rc, NO_ORG_TOKEN, back);
    }
out:
    web_ctx_release(&ctx);
}

void web_org_policy(struct http_request *req, struct http_response *res)
{
    struct web_ctx ctx;
    struct store_org org;
    char field[16], err[200], msg[220];
    if (web_session_require(req, res, &ctx) != RC_OK)
        return;
    if (admin_ctx(req, res, &ctx, &org, 1, "changing the token policy") != RC_OK)
        goto out;
    struct store_token_policy p = org.token_policy;
    p.require_expiry = web_field(req, "require_expiry", field, sizeof field) == RC_OK &&
                       strcmp(field, "1") == 0;
    p.require_binding = web_field(req, "require_binding", field, sizeof field) == RC_OK &&
                        strcmp(field, "1") == 0;
    p.max_lifetime_days = 0;
    enum rc rc = RC_OK;
    if (web_field(req, "max_lifetime_days", field, sizeof field) == RC_OK && field[0]) {
        char *end;
        errno = 0;
        long n = strtol(field, &end, 10);
        if (errno || *end)
            n = 0;
        if ((rc = orgadmin_check_lifetime(n, "Maximum lifetime", err, sizeof err)) == RC_OK)
            p.max_lifetime_days = (int)n;
    }
    /* As PATCH /v1/organizations/{org}/token-policy: stored, audited token_policy.updated. */
    if (rc == RC_OK)
        rc = orgadmin_policy_set(&APP(req)->auth, &org, &p, ACTOR(req, &ctx), err, sizeof err);
    if (rc == RC_OK) {
        web_redirect(res, "/org/tokens?done=policy");
    } else if (rc == RC_INVALID) {
        web_sentence(err, msg, sizeof msg);
        org_tokens_page(req, res, &ctx, &org, 400, msg);
    } else {
        web_message(req, res, 503, &ctx, "Unavailable", UNAVAILABLE, "/org/tokens");
    }
out:
    web_ctx_release(&ctx);
}

/* --- service accounts ---------------------------------------------------------------------- */

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
                                  {"used", used, 0}};
            web_render(&rows, "sa_token_row.html", v, sizeof v / sizeof v[0]);
        }
        store_free_list(toks);
        char created_at[32], email[STORE_EMAIL_SIZE];
        web_time(list[i].created_at, created_at);
        snprintf(email, sizeof email, "%s@%s.%s", list[i].name, org->name, ORGADMIN_SA_DOMAIN);
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
    const char *notice = !done                          ? ""
                         : strcmp(done, "created") == 0 ? "Service account created."
                         : strcmp(done, "deleted") == 0 ? "Service account deleted."
                         : strcmp(done, "revoked") == 0 ? "Token revoked."
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
    if (admin_ctx(req, res, &ctx, &org, 0, "managing service accounts") == RC_OK)
        sa_page(req, res, &ctx, &org, 200, NULL, NULL, NULL);
    web_ctx_release(&ctx);
}

void web_service_account_create(struct http_request *req, struct http_response *res)
{
    struct web_ctx ctx;
    struct store_org org;
    struct store_service_account acct;
    char name[ORGADMIN_SA_NAME_MAX + 2], err[200] = "", msg[220];
    if (web_session_require(req, res, &ctx) != RC_OK)
        return;
    if (admin_ctx(req, res, &ctx, &org, 1, "managing service accounts") != RC_OK)
        goto out;
    if (web_field(req, "name", name, sizeof name) != RC_OK)
        name[0] = '\0'; /* refused below, with the rule */
    /* As POST /v1/organizations/{org}/service-accounts. */
    enum rc rc = orgadmin_sa_create(&APP(req)->auth, &org, name, ACTOR(req, &ctx), &acct, err,
                                    sizeof err);
    if (rc == RC_OK) {
        web_redirect(res, "/org/service-accounts?done=created");
    } else if (rc == RC_INVALID || rc == RC_CONFLICT) {
        web_sentence(err, msg, sizeof msg);
        sa_page(req, res, &ctx, &org, rc == RC_CONFLICT ? 409 : 400, msg, NULL, NULL);
    } else {
        web_message(req, res, 503, &ctx, "Unavailable", UNAVAILABLE, "/org/service-accounts");
    }
out:
    web_ctx_release(&ctx);
}

#define NO_ACCOUNT "This organization has no service account by that name."

/* The service account {name} of the active organization into acct, for its admins: RC_OK, or the
 * reply is in res (a member who is no admin gets the 404 of a missing account). */
static enum rc find_account(struct http_request *req, struct http_response *res,
                            struct web_ctx *ctx, struct store_org *org,
                            struct store_service_account *acct, int post, const char *not_found)
{
    char err[200];
    enum rc rc = target_ctx(req, res, ctx, org, post);
    if (rc != RC_OK)
        return rc;
    rc = orgadmin_sa_find(&APP(req)->auth, org, http_param(req, "name"), acct, err, sizeof err);
    if (rc != RC_OK)
        target_failed(req, res, ctx, rc, not_found, "/org/service-accounts");
    return rc;
}

void web_service_account_delete_page(struct http_request *req, struct http_response *res)
{
    struct web_ctx ctx;
    struct store_org org;
    struct store_service_account acct;
    size_t count = 0;
    char action[128], email[STORE_EMAIL_SIZE], consequence[300];
    if (web_session_require(req, res, &ctx) != RC_OK)
        return;
    if (find_account(req, res, &ctx, &org, &acct, 0, NO_ACCOUNT) != RC_OK)
        goto out;
    if (orgadmin_sa_token_count(&APP(req)->auth, &acct, &count) != RC_OK) {
        web_message(req, res, 503, &ctx, "Unavailable", UNAVAILABLE, "/org/service-accounts");
        goto out;
    }
    snprintf(action, sizeof action, "/org/service-accounts/%s/delete", acct.name);
    snprintf(email, sizeof email, "%s@%s.%s", acct.name, org.name, ORGADMIN_SA_DOMAIN);
    if (count)
        snprintf(consequence, sizeof consequence,
                 "Its %zu active token%s stop%s working from the next request on, and it leaves "
                 "the organization. This cannot be undone.",
                 count, count == 1 ? "" : "s", count == 1 ? "s" : "");
    else
        snprintf(consequence, sizeof consequence,
                 "It has no active tokens; it leaves the organization. This cannot be undone.");
    web_confirm(req, res, &ctx, "Service accounts: delete",
                &(const struct web_confirm){"Delete this service account?", acct.name, email,
                                            consequence, action, "Delete service account",
                                            "/org/service-accounts"});
out:
    web_ctx_release(&ctx);
}

void web_service_account_delete(struct http_request *req, struct http_response *res)
{
    struct web_ctx ctx;
    struct store_org org;
    struct store_service_account acct;
    char err[200];
    if (web_session_require(req, res, &ctx) != RC_OK)
        return;
    if (find_account(req, res, &ctx, &org, &acct, 1, NO_ACCOUNT) != RC_OK)
        goto out;
    enum rc rc = orgadmin_sa_delete(&APP(req)->auth, &org, &acct, ACTOR(req, &ctx), err,
                                    sizeof err);
    if (rc == RC_OK)
        web_redirect(res, "/org/service-accounts?done=deleted");
    else
        target_failed(req, res, &ctx, rc, NO_ACCOUNT, "/org/service-accounts");
out:
    web_ctx_release(&ctx);
}

static const char *const sa_expiry_choices[] = {"7", "30", "90"};

void web_sa_token_create(struct http_request *req, struct http_response *res)
{
    struct web_ctx ctx;
    struct store_org org;
    struct store_service_account acct;
    char name[STORE_NAME_SIZE + 1], scope[16], expiry[16], err[256] = "", msg[300];
    char secret[TOKEN_BUF_SIZE];
    struct store_token row;
    if (web_session_require(req, res, &ctx) != RC_OK)
        return;
    if (find_account(req, res, &ctx, &org, &acct, 1, NO_ACCOUNT) != RC_OK)
        goto out;
    if (web_field(req, "name", name, sizeof name) != RC_OK || !name[0]) {
        sa_page(req, res, &ctx, &org, 400, "Give the token a name that says where it is used.",
                NULL, NULL);
        goto out;
    }
    if (web_field(req, "scope", scope, sizeof scope) != RC_OK || !scope[0])
        snprintf(scope, sizeof scope, "full");
    if (web_field(req, "expiry", expiry, sizeof expiry) != RC_OK || !expiry[0])
        snprintf(expiry, sizeof expiry, "never");
    struct auth_pat_spec spec = {.name = name, .scopes = scope};
    int known = strcmp(expiry, "never") == 0;
    for (size_t i = 0; i < sizeof sa_expiry_choices / sizeof *sa_expiry_choices; i++)
        if (strcmp(expiry, sa_expiry_choices[i]) == 0) {
            spec.expires_at = auth_now(&APP(req)->auth) + strtol(expiry, NULL, 10) * 86400;
            known = 1;
        }
    if (!known) {
        sa_page(req, res, &ctx, &org, 400, "Choose an expiry from the list.", NULL, NULL);
        goto out;
    }
    /* As POST .../service-accounts/{name}/tokens: bound to the organization, checked against its
     * policy, then scope, name and expiry as every token. */
    enum rc rc = orgadmin_sa_issue(&APP(req)->auth, &org, &acct, &spec, ACTOR(req, &ctx), secret,
                                   &row, err, sizeof err);
    if (rc == RC_OK) {
        sa_page(req, res, &ctx, &org, 201, NULL, &row, secret);
        sodium_memzero(secret, sizeof secret);
    } else if (rc == RC_INVALID || rc == RC_CONFLICT || rc == RC_FORBIDDEN) {
        web_sentence(err, msg, sizeof msg);
        sa_page(req, res, &ctx, &org, rc == RC_CONFLICT ? 409 : 400, msg, NULL, NULL);
    } else {
        web_message(req, res, 503, &ctx, "Unavailable", UNAVAILABLE, "/org/service-accounts");
    }
out:
    web_ctx_release(&ctx);
}
