/* tokens.c: Account Settings -> Personal Access Tokens: list, create with scope, expiry and
 * organization binding (the value shown once, with a copy button), delete with confirmation
 * (revoked for the next API request). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <sodium.h>

#include "internal.h"
#include "timefmt.h"
#include "banned.h"

/* What the create form asked for, kept to show the form again after an error. */
struct token_form {
    char name[STORE_NAME_SIZE + 1];
    char scope[16];            /* one of scope_choices */
    char expiry[16];           /* "never", a number of days, or "date" */
    char date[16];             /* "YYYY-MM-DD" when expiry is "date" */
    char org[STORE_SLUG_SIZE]; /* "" unbound */
};

static const char *const scope_choices[][2] = {
    {"full", "full (default)"}, {"read", "read"}, {"deploy", "deploy"}, {"secrets", "secrets"}};
static const char *const expiry_choices[][2] = {{"never", "No expiry"}, {"7", "7 days"},
                                                {"30", "30 days"},      {"60", "60 days"},
                                                {"90", "90 days"},      {"date", "On a date"}};

static void add_option(struct buf *out, const char *value, const char *label, int selected)
{
    struct tpl_var v[] = {
        {"value", value, 0}, {"label", label, 0}, {"selected", selected ? " selected" : "", 1}};
    web_render(out, "option.html", v, 3);
}

/* The slug of organization org_id among ctx's organizations, or NULL. */
static const char *org_slug(const struct web_ctx *ctx, const char *org_id)
{
    for (size_t i = 0; i < ctx->org_count && org_id[0]; i++)
        if (strcmp(ctx->orgs[i].id, org_id) == 0)
            return ctx->orgs[i].name;
    return NULL;
}

/* The tokens page; created (may be NULL) is a token just issued, shown this once. */
static void tokens_page(struct http_request *req, struct http_response *res, struct web_ctx *ctx,
                        int status, const char *error, const struct token_form *form,
                        const struct store_token *created, const char *secret)
{
    struct store_token *toks = NULL;
    size_t count = 0;
    enum rc rc = store_tokens_for_user(APP(req)->store, ctx->user.id, &toks, &count);
    if (rc != RC_OK) {
        web_message(req, res, 503, ctx, "Unavailable",
                    "The server cannot reach its database. Try again in a moment.", "/");
        return;
    }
    int64_t now = auth_now(&APP(req)->auth);
    struct buf rows = BUF_INIT, fresh = BUF_INIT, body = BUF_INIT;
    struct buf scopes = BUF_INIT, expiries = BUF_INIT, orgs = BUF_INIT;
    size_t pats = 0;
    for (size_t i = 0; i < count; i++) {
        if (toks[i].kind != TOKEN_KIND_PAT)
            continue; /* an OAuth access token: its login is listed under CLI logins */
        pats++;
        char created_at[32], used[32], expires[48];
        web_time(toks[i].created_at, created_at);
        web_time(toks[i].last_used_at, used);
        web_time(toks[i].expires_at, expires);
        if (toks[i].expires_at && toks[i].expires_at <= now)
            snprintf(expires + strlen(expires), sizeof expires - strlen(expires), " (expired)");
        const char *slug = org_slug(ctx, toks[i].org_id);
        struct tpl_var v[] = {
            {"id", toks[i].id, 0},
            {"name", toks[i].name, 0},
            {"display", toks[i].display, 0},
            {"scopes", toks[i].scopes[0] ? toks[i].scopes : "full", 0},
            {"org",
             slug                ? slug
             : toks[i].org_id[0] ? toks[i].org_id
                                 : "any",
             0},
            {"created", created_at, 0},
            {"used", used, 0},
            {"used_ip", toks[i].last_used_ip, 0},
            {"used_agent", toks[i].last_used_agent, 0},
            {"used_class",
             toks[i].last_used_ip[0] || toks[i].last_used_agent[0] ? "hint used-from" : "hidden",
             0},
            {"expires", toks[i].expires_at ? expires : "never", 0}};
        web_render(&rows, "token_row.html", v, sizeof v / sizeof v[0]);
    }
    if (created) {
        char expires[32], grace[96] = "", until[32];
        web_time(created->expires_at, expires);
        const char *slug = org_slug(ctx, created->org_id);
        if (created->rotated_at && created->previous_digest[0]) {
            web_time(created->previous_expires_at, until);
            snprintf(grace, sizeof grace, "The previous secret keeps working until %s.", until);
        } else if (created->rotated_at) {
            snprintf(grace, sizeof grace, "The previous secret no longer works.");
        }
        struct tpl_var v[] = {{"verb", created->rotated_at ? "rotated" : "created", 0},
                              {"grace", grace, 0},
                              {"grace_class", grace[0] ? "facts grace" : "hidden", 0},
                              {"name", created->name, 0},
                              {"token", secret, 0},
                              {"scopes", created->scopes, 0},
                              {"org", slug ? slug : "any organization", 0},
                              {"expires", created->expires_at ? expires : "never", 0}};
        web_render(&fresh, "token_created.html", v, sizeof v / sizeof v[0]);
    }
    const char *want_scope = form && form->scope[0] ? form->scope : "full";
    for (size_t i = 0; i < sizeof scope_choices / sizeof scope_choices[0]; i++)
        add_option(&scopes, scope_choices[i][0], scope_choices[i][1],
                   strcmp(want_scope, scope_choices[i][0]) == 0);
    const char *want_expiry = form && form->expiry[0] ? form->expiry : "never";
    for (size_t i = 0; i < sizeof expiry_choices / sizeof expiry_choices[0]; i++)
        add_option(&expiries, expiry_choices[i][0], expiry_choices[i][1],
                   strcmp(want_expiry, expiry_choices[i][0]) == 0);
    add_option(&orgs, "", "Any (not bound)", !form || !form->org[0]);
    for (size_t i = 0; i < ctx->org_count; i++) {
        char label[STORE_NAME_SIZE + STORE_SLUG_SIZE + 8];
        snprintf(label, sizeof label, "%s (%s)", ctx->orgs[i].verbose_name, ctx->orgs[i].name);
        add_option(&orgs, ctx->orgs[i].name, label,
                   form && strcmp(form->org, ctx->orgs[i].name) == 0);
    }
    const char *done = http_query(req, "done");
    struct buf logins = BUF_INIT;
    if (web_oauth_logins_render(req, ctx, &logins) != RC_OK) {
        buf_release(&logins);
        buf_adds(&logins, "<p class=\"error\">CLI logins cannot be listed right now.</p>");
    }
    struct tpl_var v[] = {
        {"csrf", ctx->csrf, 0},
        {"logins", buf_str(&logins), 1},
        {"created", buf_str(&fresh), 1},
        {"rows", buf_str(&rows), 1},
        {"scope_options", buf_str(&scopes), 1},
        {"expiry_options", buf_str(&expiries), 1},
        {"org_options", buf_str(&orgs), 1},
        {"date", form ? form->date : "", 0},
        {"empty", pats ? "hidden" : "", 0},
        {"error", error ? error : "", 0},
        {"error_class", error ? "error" : "hidden", 0},
        {"notice_class", done && strcmp(done, "deleted") == 0 ? "notice" : "hidden", 0},
        {"name", form ? form->name : "", 0}};
    web_render(&body, "tokens.html", v, sizeof v / sizeof v[0]);
    web_page(req, res, status, ctx, "Personal access tokens", &body);
    buf_release_secret(&fresh);
    buf_release(&rows);
    buf_release(&logins);
    buf_release(&scopes);
    buf_release(&expiries);
    buf_release(&orgs);
    buf_release_secret(&body);
    store_free_list(toks);
}

void web_tokens_page(struct http_request *req, struct http_response *res)
{
    struct web_ctx ctx;
    if (web_session_require(req, res, &ctx) != RC_OK)
        return;
    tokens_page(req, res, &ctx, 200, NULL, NULL, NULL, NULL);
    web_ctx_release(&ctx);
}

/* Read the create form into form and spec (org_id receives the bound organization's id). RC_OK,
 * or RC_INVALID with a message for the user in msg. Validation of the values themselves (name,
 * scopes, expiry range, the organization's policy) is lib/auth's, as for the API. */
static enum rc read_form(struct http_request *req, struct web_ctx *ctx, struct token_form *form,
                         struct auth_pat_spec *spec, char org_id[ID_BUF_SIZE], char *msg,
                         size_t msglen)
{
    struct api_app *app = APP(req);
    int64_t now = auth_now(&app->auth);
    char err[256] = "";
    memset(spec, 0, sizeof *spec);
    org_id[0] = '\0';
    spec->user_id = ctx->user.id;
    spec->name = form->name;
    if (web_field(req, "name", form->name, sizeof form->name) != RC_OK || !form->name[0]) {
        snprintf(msg, msglen, "Give the token a name that says where it is used.");
        return RC_INVALID;
    }
    if (web_field(req, "scope", form->scope, sizeof form->scope) != RC_OK || !form->scope[0])
        snprintf(form->scope, sizeof form->scope, "full");
    if (auth_check_scope(form->scope, err, sizeof err) != RC_OK) {
        web_sentence(err, msg, msglen);
        return RC_INVALID;
    }
    spec->scopes = form->scope;
    if (web_field(req, "expiry", form->expiry, sizeof form->expiry) != RC_OK || !form->expiry[0])
        snprintf(form->expiry, sizeof form->expiry, "never");
    if (web_field(req, "expiry_date", form->date, sizeof form->date) != RC_OK)
        form->date[0] = '\0';
    if (strcmp(form->expiry, "date") == 0) {
        if (!form->date[0] ||
            timefmt_parse(form->date, strlen(form->date), &spec->expires_at) != RC_OK) {
            snprintf(msg, msglen, "Pick the expiry date (YYYY-MM-DD).");
            return RC_INVALID;
        }
    } else if (strcmp(form->expiry, "never") != 0) {
        int days = 0;
        for (size_t i = 1; i < sizeof expiry_choices / sizeof expiry_choices[0] - 1; i++)
            if (strcmp(form->expiry, expiry_choices[i][0]) == 0)
                days = (int)strtol(expiry_choices[i][0], NULL, 10);
        if (!days) {
            snprintf(msg, msglen, "Choose an expiry from the list.");
            return RC_INVALID;
        }
        spec->expires_at = now + (int64_t)days * 86400;
    }
    if (auth_check_expiry(spec->expires_at, now, "Expiry", err, sizeof err) != RC_OK) {
        web_sentence(err, msg, msglen);
        return RC_INVALID;
    }
    if (web_field(req, "org", form->org, sizeof form->org) != RC_OK)
        form->org[0] = '\0';
    if (form->org[0]) {
        struct store_org org;
        enum rc rc = store_org_for_member(app->store, ctx->user.id, form->org, &org);
        if (rc == RC_NOT_FOUND) {
            snprintf(msg, msglen, "Choose one of your organizations.");
            return RC_INVALID;
        }
        if (rc != RC_OK)
            return rc;
        /* A token made for an organization must meet its policy, or it could never act
         * there: the same check as POST /v1/tokens. */
        struct store_token probe = {0};
        probe.created_at = now;
        probe.expires_at = spec->expires_at;
        store_copy_field(probe.org_id, sizeof probe.org_id, org.id);
        if (auth_check_policy(&probe, &org.token_policy, org.name, err, sizeof err) != RC_OK) {
            web_sentence(err, msg, msglen);
            return RC_INVALID;
        }
        snprintf(org_id, ID_BUF_SIZE, "%s", org.id);
        spec->org_id = org_id;
    }
    return RC_OK;
}

void web_token_create(struct http_request *req, struct http_response *res)
{
    struct web_ctx ctx;
    if (web_session_require(req, res, &ctx) != RC_OK)
        return;
    if (web_check_post(req, res, &ctx) != RC_OK)
        goto out;
    struct token_form form = {0};
    struct auth_pat_spec spec;
    char org_id[ID_BUF_SIZE], msg[300] = "", err[256] = "";
    enum rc rc = read_form(req, &ctx, &form, &spec, org_id, msg, sizeof msg);
    if (rc == RC_INVALID) {
        tokens_page(req, res, &ctx, 400, msg, &form, NULL, NULL);
        goto out;
    }
    char secret[TOKEN_BUF_SIZE];
    struct store_token row;
    if (rc == RC_OK)
        rc = auth_issue_pat_spec(&APP(req)->auth, &spec, http_client_ip(req), secret, &row, err,
                                 sizeof err);
    if (rc == RC_OK) {
        tokens_page(req, res, &ctx, 201, NULL, NULL, &row, secret);
        sodium_memzero(secret, sizeof secret);
    } else if (rc == RC_INVALID || rc == RC_CONFLICT || rc == RC_FORBIDDEN) {
        web_sentence(err, msg, sizeof msg);
        tokens_page(req, res, &ctx, rc == RC_CONFLICT ? 409 : 400, msg, &form, NULL, NULL);
    } else {
        web_message(req, res, 503, &ctx, "Unavailable",
                    "The token could not be created. Try again in a moment.", "/account/tokens");
    }
out:
    web_ctx_release(&ctx);
}

/* The caller's active token {id}, or NULL with a 404 page in res. */
static int find_token(struct http_request *req, struct http_response *res, struct web_ctx *ctx,
                      struct store_token *out)
{
    enum rc rc = store_token_by_id(APP(req)->store, ctx->user.id, http_param(req, "id"), out);
    if (rc == RC_OK && !out->revoked_at)
        return 1;
    web_message(req, res, 404, ctx, "Token not found",
                "You have no active token with that id; it may have been deleted already.",
                "/account/tokens");
    return 0;
}

void web_token_delete_page(struct http_request *req, struct http_response *res)
{
    struct web_ctx ctx;
    struct store_token tok;
    if (web_session_require(req, res, &ctx) != RC_OK)
        return;
    if (find_token(req, res, &ctx, &tok)) {
        char action[96];
        snprintf(action, sizeof action, "/account/tokens/%s/delete", tok.id);
        web_confirm(req, res, &ctx, "Personal access tokens: delete",
                    &(const struct web_confirm){
                        "Delete this token?", tok.name, tok.display,
                        "Anything still using it (a CI pipeline, a laptop) gets 401 "
                        "Unauthorized from its next request on. This cannot be undone.",
                        action, "Delete token", "/account/tokens"});
    }
    web_ctx_release(&ctx);
}

void web_token_delete(struct http_request *req, struct http_response *res)
{
    struct web_ctx ctx;
    struct store_token tok;
    if (web_session_require(req, res, &ctx) != RC_OK)
        return;
    if (web_check_post(req, res, &ctx) == RC_OK && find_token(req, res, &ctx, &tok)) {
        /* The dashboard is the user themself: every token of theirs is in reach. */
        char err[16];
        enum rc rc = auth_revoke(&APP(req)->auth, NULL, ctx.user.id, tok.id, http_client_ip(req),
                                 err, sizeof err);
        if (rc == RC_OK || rc == RC_NOT_FOUND)
            web_redirect(res, "/account/tokens?done=deleted");
        else
            web_message(req, res, 503, &ctx, "Unavailable",
                        "The token could not be deleted. Try again in a moment.",
                        "/account/tokens");
    }
    web_ctx_release(&ctx);
}

/* Rotation (auth_rotate, as POST /v1/tokens/{id}/rotate): a confirmation page offering a grace
 * period for the current secret, then the new secret shown once like a new token. */
static const int64_t grace_choices[] = {0, 3600, 86400, 7 * 86400};

void web_token_rotate_page(struct http_request *req, struct http_response *res)
{
    struct web_ctx ctx;
    struct store_token tok;
    if (web_session_require(req, res, &ctx) != RC_OK)
        return;
    if (find_token(req, res, &ctx, &tok)) {
        char action[96];
        snprintf(action, sizeof action, "/account/tokens/%s/rotate", tok.id);
        struct buf body = BUF_INIT;
        struct tpl_var v[] = {{"name", tok.name, 0},
                              {"display", tok.display, 0},
                              {"action", action, 0},
                              {"csrf", ctx.csrf, 0}};
        web_render(&body, "rotate.html", v, sizeof v / sizeof v[0]);
        web_page(req, res, 200, &ctx, "Personal access tokens: rotate", &body);
        buf_release(&body);
    }
    web_ctx_release(&ctx);
}

void web_token_rotate(struct http_request *req, struct http_response *res)
{
    struct web_ctx ctx;
    struct store_token tok;
    if (web_session_require(req, res, &ctx) != RC_OK)
        return;
    if (web_check_post(req, res, &ctx) != RC_OK || !find_token(req, res, &ctx, &tok))
        goto out;
    char field[16];
    int64_t grace = -1;
    if (web_field(req, "grace", field, sizeof field) != RC_OK)
        snprintf(field, sizeof field, "0");
    for (size_t i = 0; i < sizeof grace_choices / sizeof grace_choices[0]; i++) {
        char want[16];
        snprintf(want, sizeof want, "%lld", (long long)grace_choices[i]);
        if (strcmp(field, want) == 0)
            grace = grace_choices[i];
    }
    if (grace < 0) {
        web_message(req, res, 400, &ctx, "Personal access tokens",
                    "Choose a grace period from the list.", "/account/tokens");
        goto out;
    }
    char secret[TOKEN_BUF_SIZE], err[320];
    struct store_token row;
    enum rc rc = auth_rotate(&APP(req)->auth, NULL, ctx.user.id, tok.id, grace, http_client_ip(req),
                             secret, &row, err, sizeof err);
    if (rc == RC_OK) {
        tokens_page(req, res, &ctx, 200, NULL, NULL, &row, secret);
        sodium_memzero(secret, sizeof secret);
    } else if (rc == RC_NOT_FOUND) {
        web_message(req, res, 404, &ctx, "Token not found",
                    "You have no active token with that id; it may have expired or been deleted.",
                    "/account/tokens");
    } else if (rc == RC_CONFLICT) {
        web_message(req, res, 409, &ctx, "Rotated meanwhile",
                    "The token was rotated by another request meanwhile; its new secret went "
                    "there. Rotate it again to get one here.",
                    "/account/tokens");
    } else {
        web_message(req, res, 503, &ctx, "Unavailable",
                    "The token could not be rotated. Try again in a moment.", "/account/tokens");
    }
out:
    web_ctx_release(&ctx);
}
