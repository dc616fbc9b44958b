/* tokens.c: pcc's own token management: list, create (secret shown once), revoke, and
 * introspection of the calling token. The reference client never calls these paths. */
#include <string.h>

#include <sodium.h>

#include "internal.h"
#include "banned.h"

void api_list_tokens(struct http_request *req, struct http_response *res)
{
    struct store_token *toks = NULL;
    size_t count = 0;
    enum rc rc = store_tokens_for_user(APP(req)->store, CALLER(req)->user.id, &toks, &count);
    if (rc != RC_OK) {
        api_store_error(req, res, rc);
        return;
    }
    json_t *list = json_array();
    for (size_t i = 0; i < count; i++)
        json_array_append_new(list, api_token_json(&toks[i], NULL));
    store_free_list(toks);
    http_reply(res, 200, json_pack("{s:o}", "tokens", list));
}

void api_create_token(struct http_request *req, struct http_response *res)
{
    static const char *const fields[] = {"name", NULL};
    struct api_app *app = APP(req);
    json_t *body = http_json_body(req, res, fields);
    if (!body)
        return;
    char err[256] = "";
    const char *name = NULL;
    enum rc rc = json_get_string(body, "name", 0, 1024, &name, err, sizeof err);
    if (rc != RC_OK) {
        http_error(req, res, rc, err);
        goto out;
    }
    char secret[TOKEN_BUF_SIZE];
    struct store_token row;
    rc = auth_issue_pat(&app->auth, CALLER(req)->user.id, name, http_client_ip(req), secret, &row,
                        err, sizeof err);
    if (rc == RC_STORE || rc == RC_UNAVAILABLE) {
        api_store_error(req, res, rc);
        goto out;
    }
    if (rc != RC_OK) {
        http_error(req, res, rc, err);
        goto out;
    }
    json_t *reply = api_token_json(&row, NULL);
    json_object_set_new(reply, "token", json_string(secret));
    sodium_memzero(secret, sizeof secret);
    http_reply(res, 201, reply);
out:
    json_decref(body);
}

/* Revoke token id of the caller and answer; shared by DELETE .../tokens/{id} and .../self. */
static void revoke(struct http_request *req, struct http_response *res, const char *id)
{
    enum rc rc = auth_revoke(&APP(req)->auth, CALLER(req)->user.id, id, http_client_ip(req));
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
    json_t *reply = api_token_json(&p->token, NULL);
    json_object_set_new(reply, "owner",
                        json_pack("{s:s, s:s}", "userId", p->user.id, "email", p->user.email));
    http_reply(res, 200, reply);
}

void api_revoke_token(struct http_request *req, struct http_response *res)
{
    revoke(req, res, http_param(req, "id"));
}

void api_revoke_self(struct http_request *req, struct http_response *res)
{
    revoke(req, res, CALLER(req)->token.id);
}
