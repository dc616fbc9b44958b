/* apikeys.c: an organization's API keys: list (public keys in full, private ones by display
 * form), create (admins; a private key is shown once) and soft revoke (admins). */
#include <string.h>

#include <sodium.h>

#include "internal.h"
#include "banned.h"

/* The JSON form of a key row. Public keys carry their value in "key", as the reference client
 * needs; private keys only their display form. */
static json_t *api_key_json(const struct store_api_key *k)
{
    json_t *obj = json_pack("{s:s, s:s, s:s, s:{s:s}, s:s, s:o, s:o, s:b, s:o}", "id", k->id,
                            "type", k->kind, "name", k->name, "metadata", "name", k->name,
                            "display", k->display, "createdAt", api_time(k->created_at),
                            "lastUsedAt", api_time(k->last_used_at), "revoked", k->revoked_at != 0,
                            "revokedAt", api_time(k->revoked_at));
    if (obj && k->public_value[0])
        json_object_set_new(obj, "key", json_string(k->public_value));
    return obj;
}

void api_list_api_keys(struct http_request *req, struct http_response *res)
{
    struct store_org org;
    if (api_member_org(req, res, &org) != RC_OK)
        return;
    struct store_api_key *keys = NULL;
    size_t count = 0;
    enum rc rc = store_api_keys_for_org(APP(req)->store, org.id, &keys, &count);
    if (rc != RC_OK) {
        api_store_error(req, res, rc);
        return;
    }
    json_t *public_keys = json_array(), *private_keys = json_array();
    for (size_t i = 0; i < count; i++)
        json_array_append_new(strcmp(keys[i].kind, "public") == 0 ? public_keys : private_keys,
                              api_key_json(&keys[i]));
    sodium_memzero(keys, count * sizeof *keys);
    store_free_list(keys);
    api_reply(req, res, 200,
              json_pack("{s:o, s:o}", "public", public_keys, "private", private_keys));
}

void api_create_api_key(struct http_request *req, struct http_response *res)
{
    static const char *const fields[] = {"name", "type", NULL};
    struct store_org org;
    json_t *body = NULL;
    if (api_member_org(req, res, &org) != RC_OK ||
        api_require_admin(req, res, &org, "creating API keys") != RC_OK)
        return;
    if (!(body = http_json_body(req, res, fields)))
        return;
    char err[256] = "";
    const char *name = NULL, *type = "public";
    enum rc rc = json_get_string(body, "name", 0, 1024, &name, err, sizeof err);
    if (rc == RC_OK) {
        rc = json_get_string(body, "type", 1, 16, &type, err, sizeof err);
        if (rc == RC_NOT_FOUND)
            rc = RC_OK;
    }
    if (rc == RC_OK && strcmp(type, "public") != 0 && strcmp(type, "private") != 0) {
        snprintf(err, sizeof err, "field \"type\" must be \"public\" or \"private\"");
        rc = RC_INVALID;
    }
    if (rc != RC_OK) {
        http_error(req, res, rc, err);
        goto out;
    }
    enum auth_apikey_kind kind = strcmp(type, "private") == 0 ? AUTH_APIKEY_PRIVATE
                                                              : AUTH_APIKEY_PUBLIC;
    char key[AUTH_APIKEY_BUF_SIZE];
    struct store_api_key row;
    rc = auth_issue_api_key(&APP(req)->auth, org.id, CALLER(req)->user.id, kind, name,
                            http_client_ip(req), key, &row, err, sizeof err);
    if (rc == RC_STORE || rc == RC_UNAVAILABLE) {
        api_store_error(req, res, rc);
        goto out;
    }
    if (rc != RC_OK) {
        http_error(req, res, rc, err);
        goto out;
    }
    json_t *reply = api_key_json(&row);
    if (reply) {
        json_object_set_new(reply, "key", json_string(key)); /* shown once for private keys */
        json_object_set_new(reply, "organization", json_string(org.name));
    }
    sodium_memzero(key, sizeof key);
    api_reply(req, res, 201, reply);
out:
    json_decref(body);
}

void api_revoke_api_key(struct http_request *req, struct http_response *res)
{
    struct store_org org;
    if (api_member_org(req, res, &org) != RC_OK ||
        api_require_admin(req, res, &org, "revoking API keys") != RC_OK)
        return;
    const char *id = http_param(req, "id");
    enum rc rc = auth_revoke_api_key(&APP(req)->auth, org.id, id, CALLER(req)->user.id,
                                     http_client_ip(req));
    if (rc == RC_NOT_FOUND) {
        /* The id is not echoed: people paste keys where ids belong. */
        char msg[160];
        snprintf(msg, sizeof msg, "organization '%s' has no active API key with that id", org.name);
        http_error(req, res, RC_NOT_FOUND, msg);
        return;
    }
    if (rc != RC_OK) {
        api_store_error(req, res, rc);
        return;
    }
    api_reply(req, res, 200, json_pack("{s:s, s:s, s:b}", "status", "OK", "id", id, "revoked", 1));
}
