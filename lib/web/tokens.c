/* tokens.c: Account Settings -> Personal Access Tokens: list, create (the value shown once,
 * with a copy button), delete with confirmation (revoked for the next API request). */
#include <stdio.h>
#include <string.h>

#include <sodium.h>

#include "internal.h"
#include "banned.h"

/* The tokens page; created (may be NULL) is a token just issued, shown this once. */
static void tokens_page(struct http_request *req, struct http_response *res, struct web_ctx *ctx,
                        int status, const char *error, const char *name,
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
    struct buf rows = BUF_INIT, fresh = BUF_INIT, body = BUF_INIT;
    for (size_t i = 0; i < count; i++) {
        char created_at[32], used[32], expires[32];
        web_time(toks[i].created_at, created_at);
        web_time(toks[i].last_used_at, used);
        web_time(toks[i].expires_at, expires);
        struct tpl_var v[] = {{"id", toks[i].id, 0},         {"name", toks[i].name, 0},
                              {"display", toks[i].display, 0}, {"created", created_at, 0},
                              {"used", used, 0},
                              {"expires", toks[i].expires_at ? expires : "never", 0}};
        web_render(&rows, "token_row.html", v, sizeof v / sizeof v[0]);
    }
    if (created) {
        struct tpl_var v[] = {{"name", created->name, 0}, {"token", secret, 0}};
        web_render(&fresh, "token_created.html", v, 2);
    }
    const char *done = http_query(req, "done");
    struct tpl_var v[] = {{"csrf", ctx->csrf, 0},
                          {"created", buf_str(&fresh), 1},
                          {"rows", buf_str(&rows), 1},
                          {"empty", count ? "hidden" : "", 0},
                          {"error", error ? error : "", 0},
                          {"error_class", error ? "error" : "hidden", 0},
                          {"notice_class", done && strcmp(done, "deleted") == 0 ? "notice" : "hidden", 0},
                          {"name", name ? name : "", 0}};
    web_render(&body, "tokens.html", v, sizeof v / sizeof v[0]);
    web_page(req, res, status, ctx, "Personal access tokens", &body);
    buf_release_secret(&fresh);
    buf_release(&rows);
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

void web_token_create(struct http_request *req, struct http_response *res)
{
    struct web_ctx ctx;
    if (web_session_require(req, res, &ctx) != RC_OK)
        return;
    if (web_check_post(req, res, &ctx) != RC_OK)
        goto out;
    char name[STORE_NAME_SIZE + 1], err[256] = "";
    enum rc rc = web_field(req, "name", name, sizeof name);
    if (rc != RC_OK || !*name) {
        tokens_page(req, res, &ctx, 400, "Give the token a name that says where it is used.",
                    NULL, NULL, NULL);
        goto out;
    }
    char secret[TOKEN_BUF_SIZE];
    struct store_token row;
    rc = auth_issue_pat(&APP(req)->auth, ctx.user.id, name, http_client_ip(req), secret, &row,
                        err, sizeof err);
    if (rc == RC_OK) {
        tokens_page(req, res, &ctx, 201, NULL, NULL, &row, secret);
        sodium_memzero(secret, sizeof secret);
    } else if (rc == RC_INVALID || rc == RC_CONFLICT || rc == RC_FORBIDDEN) {
        char msg[300];
        snprintf(msg, sizeof msg, "%s.", err);
        if (msg[0] >= 'a' && msg[0] <= 'z')
            msg[0] = (char)(msg[0] - 'a' + 'A');
        tokens_page(req, res, &ctx, rc == RC_CONFLICT ? 409 : 400, msg, name, NULL, NULL);
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
        struct buf body = BUF_INIT;
        struct tpl_var v[] = {{"title", "Delete this token?", 0},
                              {"subject", tok.name, 0},
                              {"detail", tok.display, 0},
                              {"consequence",
                               "Anything still using it (a CI pipeline, a laptop) gets 401 "
                               "Unauthorized from its next request on. This cannot be undone.",
                               0},
                              {"action", action, 0},
                              {"button", "Delete token", 0},
                              {"cancel", "/account/tokens", 0},
                              {"csrf", ctx.csrf, 0}};
        web_render(&body, "confirm.html", v, sizeof v / sizeof v[0]);
        web_page(req, res, 200, &ctx, "Personal access tokens: delete", &body);
        buf_release(&body);
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
        enum rc rc = auth_revoke(&APP(req)->auth, ctx.user.id, tok.id, http_client_ip(req));
        if (rc == RC_OK || rc == RC_NOT_FOUND)
            web_redirect(res, "/account/tokens?done=deleted");
        else
            web_message(req, res, 503, &ctx, "Unavailable",
                        "The token could not be deleted. Try again in a moment.",
                        "/account/tokens");
    }
    web_ctx_release(&ctx);
}
