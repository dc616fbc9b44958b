/* orgs.c: organizations (create, list, switch the active one), their members (admins invite by
 * email, withdraw invitations, change roles, remove; never the last admin) and their API keys
 * (create, list, revoke: the data of the apiKeys endpoints). Nobody is added without accepting an
 * invitation (invitations.c), and inviting tells nothing about whether an address has an
 * account. */
#include <stdio.h>
#include <string.h>

#include <sodium.h>

#include "internal.h"
#include "orgadmin.h"
#include "text.h"
#include "banned.h"

#define UNAVAILABLE "The server cannot reach its database. Try again in a moment."

static int is_admin(const struct web_ctx *ctx)
{
    return ctx->have_org && strcmp(ctx->org.role, "admin") == 0;
}

/* --- organizations ------------------------------------------------------------------------ */

static void orgs_page(struct http_request *req, struct http_response *res, struct web_ctx *ctx,
                      int status, const char *error, const char *slug, const char *display)
{
    struct buf rows = BUF_INIT, body = BUF_INIT;
    for (size_t i = 0; i < ctx->org_count; i++) {
        int active = ctx->have_org && strcmp(ctx->orgs[i].id, ctx->org.id) == 0;
        struct tpl_var v[] = {
            {"slug", ctx->orgs[i].name, 0},        {"name", ctx->orgs[i].verbose_name, 0},
            {"role", ctx->orgs[i].role, 0},        {"active", active ? "" : "hidden", 0},
            {"switch", active ? "hidden" : "", 0}, {"csrf", ctx->csrf, 0}};
        web_render(&rows, "org_row.html", v, sizeof v / sizeof v[0]);
    }
    struct tpl_var v[] = {
        {"rows", buf_str(&rows), 1},      {"csrf", ctx->csrf, 0},
        {"error", error ? error : "", 0}, {"error_class", error ? "error" : "hidden", 0},
        {"slug", slug ? slug : "", 0},    {"display", display ? display : "", 0}};
    web_render(&body, "orgs.html", v, sizeof v / sizeof v[0]);
    web_page(req, res, status, ctx, "Organizations", &body);
    buf_release(&rows);
    buf_release(&body);
}

void web_orgs_page(struct http_request *req, struct http_response *res)
{
    struct web_ctx ctx;
    if (web_session_require(req, res, &ctx) != RC_OK)
        return;
    orgs_page(req, res, &ctx, 200, NULL, NULL, NULL);
    web_ctx_release(&ctx);
}

void web_org_create(struct http_request *req, struct http_response *res)
{
    struct api_app *app = APP(req);
    struct web_ctx ctx;
    if (web_session_require(req, res, &ctx) != RC_OK)
        return;
    if (web_check_post(req, res, &ctx) != RC_OK)
        goto out;
    char slug[STORE_SLUG_SIZE + 1], display[STORE_NAME_SIZE + 1];
    if (web_field(req, "slug", slug, sizeof slug) != RC_OK || !text_is_slug(slug)) {
        orgs_page(req, res, &ctx, 400,
                  "The short name must be 1 to 63 lowercase letters, digits or '-', starting "
                  "with a letter or digit.",
                  NULL, NULL);
        goto out;
    }
    enum rc rc = web_field(req, "name", display, sizeof display);
    if (rc == RC_NOT_FOUND || (rc == RC_OK && !*display)) {
        store_copy_field(display, sizeof display, slug);
        rc = RC_OK;
    }
    if (rc != RC_OK || strlen(display) > 100 || !text_is_clean_utf8(display, strlen(display))) {
        orgs_page(req, res, &ctx, 400, "The display name must be at most 100 characters of text.",
                  slug, NULL);
        goto out;
    }
    struct store_org org = {0};
    token_new_id("org_", org.id);
    store_copy_field(org.name, sizeof org.name, slug);
    store_copy_field(org.verbose_name, sizeof org.verbose_name, display);
    org.created_at = auth_now(&app->auth);
    rc = store_org_create(app->store, &org);
    if (rc == RC_CONFLICT) {
        orgs_page(req, res, &ctx, 409, "That short name is taken: choose another.", slug, display);
        goto out;
    }
    if (rc == RC_OK)
        rc = store_membership_put(app->store, ctx.user.id, org.id, "admin", org.created_at);
    if (rc == RC_OK)
        rc = web_session_set_org(req, &ctx, org.id);
    if (rc != RC_OK) {
        web_message(req, res, 503, &ctx, "Unavailable", UNAVAILABLE, "/orgs");
        goto out;
    }
    auth_audit(&app->auth, "org.created", ctx.user.id, NULL, org.id, http_client_ip(req), NULL);
    web_redirect(res, "/orgs");
out:
    web_ctx_release(&ctx);
}

void web_org_switch(struct http_request *req, struct http_response *res)
{
    struct web_ctx ctx;
    if (web_session_require(req, res, &ctx) != RC_OK)
        return;
    if (web_check_post(req, res, &ctx) != RC_OK)
        goto out;
    char slug[STORE_SLUG_SIZE + 1];
    const struct store_org *to = NULL;
    if (web_field(req, "org", slug, sizeof slug) == RC_OK)
        for (size_t i = 0; i < ctx.org_count && !to; i++)
            if (strcmp(ctx.orgs[i].name, slug) == 0)
                to = &ctx.orgs[i];
    if (!to) {
        web_message(req, res, 404, &ctx, "Organization not found",
                    "You are not a member of that organization.", "/orgs");
        goto out;
    }
    if (web_session_set_org(req, &ctx, to->id) != RC_OK) {
        web_message(req, res, 503, &ctx, "Unavailable", UNAVAILABLE, "/orgs");
        goto out;
    }
    web_redirect(res, "/orgs");
out:
    web_ctx_release(&ctx);
}

/* --- members ------------------------------------------------------------------------------ */

static int need_org(struct http_request *req, struct http_response *res, struct web_ctx *ctx)
{
    if (ctx->have_org)
        return 1;
    web_message(req, res, 404, ctx, "No organization",
                "You belong to no organization yet: create one first.", "/orgs");
    return 0;
}

static int need_admin(struct http_request *req, struct http_response *res, struct web_ctx *ctx,
                      const char *what, const char *back)
{
    if (is_admin(ctx))
        return 1;
    char msg[200];
    snprintf(msg, sizeof msg, "%s needs the admin role in this organization; you are a %s.", what,
             ctx->org.role);
    web_message(req, res, 403, ctx, "Admins only", msg, back);
    return 0;
}

static void members_page(struct http_request *req, struct http_response *res, struct web_ctx *ctx,
                         int status, const char *error, const char *notice)
{
    struct store_member *list = NULL;
    size_t n = 0;
    if (store_members_of_org(APP(req)->store, ctx->org.id, &list, &n) != RC_OK) {
        web_message(req, res, 503, ctx, "Unavailable", UNAVAILABLE, "/");
        return;
    }
    struct buf rows = BUF_INIT, body = BUF_INIT;
    int admin = is_admin(ctx);
    for (size_t i = 0; i < n; i++) {
        char joined[32];
        web_time(list[i].joined_at, joined);
        int is_admin_row = strcmp(list[i].role, "admin") == 0;
        struct tpl_var v[] = {{"id", list[i].user.id, 0},
                              {"email", list[i].user.email, 0},
                              {"name", list[i].user.name, 0},
                              {"role", list[i].role, 0},
                              {"joined", joined, 0},
                              {"manage", admin ? "" : "hidden", 0},
                              {"admin_selected", is_admin_row ? "selected" : "", 0},
                              {"member_selected", is_admin_row ? "" : "selected", 0},
                              {"csrf", ctx->csrf, 0}};
        web_render(&rows, "member_row.html", v, sizeof v / sizeof v[0]);
    }
    /* Pending invitations, for admins (orgadmin_invitations refuses others). */
    struct store_invitation *invs = NULL;
    size_t ninv = 0;
    char err[200];
    struct buf inv_rows = BUF_INIT;
    if (admin &&
        orgadmin_invitations(&APP(req)->auth, &ctx->org, &invs, &ninv, err, sizeof err) == RC_OK)
        for (size_t i = 0; i < ninv; i++) {
            char created[32], expires[32];
            web_time(invs[i].created_at, created);
            web_time(invs[i].expires_at, expires);
            struct tpl_var iv[] = {{"id", invs[i].id, 0},     {"email", invs[i].email, 0},
                                   {"role", invs[i].role, 0}, {"created", created, 0},
                                   {"expires", expires, 0},   {"manage", "", 0},
                                   {"csrf", ctx->csrf, 0}};
            web_render(&inv_rows, "org_invitation_row.html", iv, sizeof iv / sizeof iv[0]);
        }
    store_free_list(invs);
    struct tpl_var v[] = {{"org", ctx->org.verbose_name, 0},
                          {"slug", ctx->org.name, 0},
                          {"rows", buf_str(&rows), 1},
                          {"invitations", buf_str(&inv_rows), 1},
                          {"no_invitations", ninv ? "" : "hidden", 0},
                          {"manage", admin ? "" : "hidden", 0},
                          {"csrf", ctx->csrf, 0},
                          {"error", error ? error : "", 0},
                          {"error_class", error ? "error" : "hidden", 0},
                          {"notice", notice ? notice : "", 0},
                          {"notice_class", notice ? "notice" : "hidden", 0}};
    web_render(&body, "members.html", v, sizeof v / sizeof v[0]);
    web_page(req, res, status, ctx, "Members", &body);
    buf_release(&rows);
    buf_release(&inv_rows);
    buf_release(&body);
    store_free_list(list);
}

void web_members_page(struct http_request *req, struct http_response *res)
{
    struct web_ctx ctx;
    if (web_session_require(req, res, &ctx) != RC_OK)
        return;
    if (need_org(req, res, &ctx)) {
        const char *done = http_query(req, "done");
        const char *notice = !done ? NULL
                             : strcmp(done, "invited") == 0
                                 ? "Invitation sent if the address can receive it. "
                                   "They join once they accept it."
                             : strcmp(done, "withdrawn") == 0 ? "Invitation withdrawn."
                             : strcmp(done, "role") == 0      ? "Role changed."
                             : strcmp(done, "removed") == 0   ? "Member removed."
                                                              : NULL;
        members_page(req, res, &ctx, 200, NULL, notice);
    }
    web_ctx_release(&ctx);
}

void web_member_add(struct http_request *req, struct http_response *res)
{
    struct api_app *app = APP(req);
    struct web_ctx ctx;
    if (web_session_require(req, res, &ctx) != RC_OK)
        return;
    if (web_check_post(req, res, &ctx) != RC_OK || !need_org(req, res, &ctx) ||
        !need_admin(req, res, &ctx, "Inviting members", "/org/members"))
        goto out;
    char email[STORE_EMAIL_SIZE], role[STORE_ROLE_SIZE], err[256], msg[300];
    if (web_field(req, "email", email, sizeof email) != RC_OK || !text_is_email(email)) {
        members_page(req, res, &ctx, 400, "Enter the email address of the person to invite.", NULL);
        goto out;
    }
    if (web_field(req, "role", role, sizeof role) != RC_OK ||
        (strcmp(role, "admin") != 0 && strcmp(role, "member") != 0))
        store_copy_field(role, sizeof role, "member");
    const struct orgadmin_actor by = {ctx.user.id, NULL, http_client_ip(req)};
    enum rc rc = orgadmin_invite(&app->auth, &ctx.org, email, role, &by, NULL, err, sizeof err);
    if (rc == RC_CONFLICT || rc == RC_INVALID) {
        web_sentence(err, msg, sizeof msg);
        members_page(req, res, &ctx, rc == RC_CONFLICT ? 409 : 400, msg, NULL);
        goto out;
    }
    if (rc != RC_OK) {
        web_message(req, res, 503, &ctx, "Unavailable", UNAVAILABLE, "/org/members");
        goto out;
    }
    web_redirect(res, "/org/members?done=invited");
out:
    web_ctx_release(&ctx);
}

void web_invitation_revoke(struct http_request *req, struct http_response *res)
{
    struct web_ctx ctx;
    char err[256];
    if (web_session_require(req, res, &ctx) != RC_OK)
        return;
    if (web_check_post(req, res, &ctx) == RC_OK && need_org(req, res, &ctx) &&
        need_admin(req, res, &ctx, "Withdrawing invitations", "/org/members")) {
        const struct orgadmin_actor by = {ctx.user.id, NULL, http_client_ip(req)};
        enum rc rc = orgadmin_invitation_revoke(&APP(req)->auth, &ctx.org, http_param(req, "id"),
                                                &by, err, sizeof err);
        if (rc == RC_NOT_FOUND)
            members_page(req, res, &ctx, 404, "No pending invitation has that id.", NULL);
        else if (rc != RC_OK)
            web_message(req, res, 503, &ctx, "Unavailable", UNAVAILABLE, "/org/members");
        else
            web_redirect(res, "/org/members?done=withdrawn");
    }
    web_ctx_release(&ctx);
}

/* Apply a role change (role) or a removal (role NULL) of member {id}, with its answer. */
static void change_member(struct http_request *req, struct http_response *res, struct web_ctx *ctx,
                          const char *role)
{
    struct api_app *app = APP(req);
    const char *id = http_param(req, "id");
    enum rc rc = store_membership_change(app->store, ctx->org.id, id, role);
    if (rc == RC_FORBIDDEN) {
        members_page(req, res, ctx, 409,
                     "An organization needs at least one admin: make someone else an admin "
                     "first.",
                     NULL);
        return;
    }
    if (rc == RC_NOT_FOUND) {
        members_page(req, res, ctx, 404, "That person is not a member.", NULL);
        return;
    }
    if (rc != RC_OK) {
        web_message(req, res, 503, ctx, "Unavailable", UNAVAILABLE, "/org/members");
        return;
    }
    char detail[96];
    snprintf(detail, sizeof detail, "{\"userId\":\"%.40s\",\"role\":\"%s\"}", id, role ? role : "");
    auth_audit(&app->auth, role ? "membership.role_changed" : "membership.removed", ctx->user.id,
               NULL, ctx->org.id, http_client_ip(req), detail);
    /* Someone who removed themselves no longer sees the members page. */
    web_redirect(res, !role && strcmp(id, ctx->user.id) == 0 ? "/orgs"
                      : role                                 ? "/org/members?done=role"
                                                             : "/org/members?done=removed");
}

void web_member_role(struct http_request *req, struct http_response *res)
{
    struct web_ctx ctx;
    if (web_session_require(req, res, &ctx) != RC_OK)
        return;
    if (web_check_post(req, res, &ctx) == RC_OK && need_org(req, res, &ctx) &&
        need_admin(req, res, &ctx, "Changing roles", "/org/members")) {
        char role[STORE_ROLE_SIZE];
        if (web_field(req, "role", role, sizeof role) != RC_OK ||
            (strcmp(role, "admin") != 0 && strcmp(role, "member") != 0))
            members_page(req, res, &ctx, 400, "A role is admin or member.", NULL);
        else
            change_member(req, res, &ctx, role);
    }
    web_ctx_release(&ctx);
}

/* The member {id} of the active organization, or 0 with a 404 page in res. */
static int find_member(struct http_request *req, struct http_response *res, struct web_ctx *ctx,
                       struct store_member *out)
{
    struct store_member *list = NULL;
    size_t n = 0;
    int found = 0;
    if (store_members_of_org(APP(req)->store, ctx->org.id, &list, &n) == RC_OK)
        for (size_t i = 0; i < n && !found; i++)
            if (strcmp(list[i].user.id, http_param(req, "id")) == 0) {
                *out = list[i];
                found = 1;
            }
    store_free_list(list);
    if (!found)
        web_message(req, res, 404, ctx, "Not a member", "That person is not a member.",
                    "/org/members");
    return found;
}

void web_member_remove_page(struct http_request *req, struct http_response *res)
{
    struct web_ctx ctx;
    struct store_member m;
    if (web_session_require(req, res, &ctx) != RC_OK)
        return;
    if (need_org(req, res, &ctx) &&
        need_admin(req, res, &ctx, "Removing members", "/org/members") &&
        find_member(req, res, &ctx, &m)) {
        char action[96];
        snprintf(action, sizeof action, "/org/members/%s/remove", m.user.id);
        web_confirm(req, res, &ctx, "Members: remove",
                    &(const struct web_confirm){
                        "Remove this member?", m.user.email, ctx.org.verbose_name,
                        "They lose access to this organization at once; their tokens stop "
                        "working here on the next request.",
                        action, "Remove member", "/org/members"});
    }
    web_ctx_release(&ctx);
}

void web_member_remove(struct http_request *req, struct http_response *res)
{
    struct web_ctx ctx;
    if (web_session_require(req, res, &ctx) != RC_OK)
        return;
    if (web_check_post(req, res, &ctx) == RC_OK && need_org(req, res, &ctx) &&
        need_admin(req, res, &ctx, "Removing members", "/org/members"))
        change_member(req, res, &ctx, NULL);
    web_ctx_release(&ctx);
}

/* --- API keys ----------------------------------------------------------------------------- */

static void keys_page(struct http_request *req, struct http_response *res, struct web_ctx *ctx,
                      int status, const char *error, const struct store_api_key *created,
                      const char *key)
{
    struct store_api_key *keys = NULL;
    size_t n = 0;
    if (store_api_keys_for_org(APP(req)->store, ctx->org.id, &keys, &n) != RC_OK) {
        web_message(req, res, 503, ctx, "Unavailable", UNAVAILABLE, "/");
        return;
    }
    struct buf rows = BUF_INIT, fresh = BUF_INIT, body = BUF_INIT;
    int admin = is_admin(ctx);
    size_t active = 0;
    for (size_t i = 0; i < n; i++) {
        if (keys[i].revoked_at)
            continue;
        active++;
        char created_at[32], used[32];
        web_time(keys[i].created_at, created_at);
        web_time(keys[i].last_used_at, used);
        struct tpl_var v[] = {
            {"id", keys[i].id, 0},
            {"name", keys[i].name, 0},
            {"kind", keys[i].kind, 0},
            {"key", keys[i].public_value[0] ? keys[i].public_value : keys[i].display, 0},
            {"created", created_at, 0},
            {"used", used, 0},
            {"manage", admin ? "" : "hidden", 0}};
        web_render(&rows, "key_row.html", v, sizeof v / sizeof v[0]);
    }
    if (created) {
        struct tpl_var v[] = {{"name", created->name, 0},
                              {"kind", created->kind, 0},
                              {"key", key, 0},
                              {"once", strcmp(created->kind, "private") == 0 ? "" : "hidden", 0}};
        web_render(&fresh, "key_created.html", v, sizeof v / sizeof v[0]);
    }
    const char *done = http_query(req, "done");
    struct tpl_var v[] = {
        {"org", ctx->org.verbose_name, 0},
        {"rows", buf_str(&rows), 1},
        {"created", buf_str(&fresh), 1},
        {"empty", active ? "hidden" : "", 0},
        {"manage", admin ? "" : "hidden", 0},
        {"csrf", ctx->csrf, 0},
        {"error", error ? error : "", 0},
        {"error_class", error ? "error" : "hidden", 0},
        {"notice_class", done && strcmp(done, "revoked") == 0 ? "notice" : "hidden", 0}};
    web_render(&body, "keys.html", v, sizeof v / sizeof v[0]);
    web_page(req, res, status, ctx, "API keys", &body);
    sodium_memzero(keys, n * sizeof *keys);
    store_free_list(keys);
    buf_release(&rows);
    buf_release_secret(&fresh);
    buf_release_secret(&body);
}

void web_keys_page(struct http_request *req, struct http_response *res)
{
    struct web_ctx ctx;
    if (web_session_require(req, res, &ctx) != RC_OK)
        return;
    if (need_org(req, res, &ctx))
        keys_page(req, res, &ctx, 200, NULL, NULL, NULL);
    web_ctx_release(&ctx);
}

void web_key_create(struct http_request *req, struct http_response *res)
{
    struct web_ctx ctx;
    if (web_session_require(req, res, &ctx) != RC_OK)
        return;
    if (web_check_post(req, res, &ctx) != RC_OK || !need_org(req, res, &ctx) ||
        !need_admin(req, res, &ctx, "Creating API keys", "/org/keys"))
        goto out;
    char name[STORE_NAME_SIZE + 1], type[16], err[256] = "";
    if (web_field(req, "name", name, sizeof name) != RC_OK || !*name) {
        keys_page(req, res, &ctx, 400, "Give the key a name.", NULL, NULL);
        goto out;
    }
    if (web_field(req, "type", type, sizeof type) != RC_OK)
        store_copy_field(type, sizeof type, "public");
    if (strcmp(type, "public") != 0 && strcmp(type, "private") != 0) {
        keys_page(req, res, &ctx, 400, "A key is public or private.", NULL, NULL);
        goto out;
    }
    char key[AUTH_APIKEY_BUF_SIZE];
    struct store_api_key row;
    enum rc rc = auth_issue_api_key(&APP(req)->auth, ctx.org.id, ctx.user.id,
                                    strcmp(type, "private") == 0 ? AUTH_APIKEY_PRIVATE
                                                                 : AUTH_APIKEY_PUBLIC,
                                    name, http_client_ip(req), key, &row, err, sizeof err);
    if (rc == RC_OK) {
        keys_page(req, res, &ctx, 201, NULL, &row, key);
        sodium_memzero(key, sizeof key);
    } else if (rc == RC_INVALID || rc == RC_FORBIDDEN || rc == RC_CONFLICT) {
        if (err[0] >= 'a' && err[0] <= 'z')
            err[0] = (char)(err[0] - 'a' + 'A');
        keys_page(req, res, &ctx, 400, err, NULL, NULL);
    } else {
        web_message(req, res, 503, &ctx, "Unavailable", UNAVAILABLE, "/org/keys");
    }
out:
    web_ctx_release(&ctx);
}

/* The active key {id} of the active organization, or 0 with a 404 page in res. */
static int find_key(struct http_request *req, struct http_response *res, struct web_ctx *ctx,
                    struct store_api_key *out)
{
    struct store_api_key *keys = NULL;
    size_t n = 0;
    int found = 0;
    if (store_api_keys_for_org(APP(req)->store, ctx->org.id, &keys, &n) == RC_OK)
        for (size_t i = 0; i < n && !found; i++)
            if (!keys[i].revoked_at && strcmp(keys[i].id, http_param(req, "id")) == 0) {
                *out = keys[i];
                found = 1;
            }
    sodium_memzero(keys, n * sizeof *keys);
    store_free_list(keys);
    if (!found)
        web_message(req, res, 404, ctx, "Key not found",
                    "This organization has no active API key with that id.", "/org/keys");
    return found;
}

void web_key_revoke_page(struct http_request *req, struct http_response *res)
{
    struct web_ctx ctx;
    struct store_api_key k;
    if (web_session_require(req, res, &ctx) != RC_OK)
        return;
    if (need_org(req, res, &ctx) && need_admin(req, res, &ctx, "Revoking API keys", "/org/keys") &&
        find_key(req, res, &ctx, &k)) {
        char action[96];
        snprintf(action, sizeof action, "/org/keys/%s/revoke", k.id);
        web_confirm(req, res, &ctx, "API keys: revoke",
                    &(const struct web_confirm){
                        "Revoke this API key?", k.name, k.display,
                        "Apps and servers using it are refused from their next request on. "
                        "This cannot be undone.",
                        action, "Revoke key", "/org/keys"});
        sodium_memzero(&k, sizeof k);
    }
    web_ctx_release(&ctx);
}

void web_key_revoke(struct http_request *req, struct http_response *res)
{
    struct web_ctx ctx;
    struct store_api_key k;
    if (web_session_require(req, res, &ctx) != RC_OK)
        return;
    if (web_check_post(req, res, &ctx) == RC_OK && need_org(req, res, &ctx) &&
        need_admin(req, res, &ctx, "Revoking API keys", "/org/keys") &&
        find_key(req, res, &ctx, &k)) {
        enum rc rc = auth_revoke_api_key(&APP(req)->auth, ctx.org.id, k.id, ctx.user.id,
                                         http_client_ip(req));
        sodium_memzero(&k, sizeof k);
        if (rc == RC_OK || rc == RC_NOT_FOUND)
            web_redirect(res, "/org/keys?done=revoked");
        else
            web_message(req, res, 503, &ctx, "Unavailable", UNAVAILABLE, "/org/keys");
    }
    web_ctx_release(&ctx);
}
