/* orgs.c: the caller's organizations and an organization's Daily API key. */
#include <stdio.h>
#include <string.h>

#include <sodium.h>

#include "internal.h"
#include "banned.h"

void api_list_orgs(struct http_request *req, struct http_response *res)
{
    struct store_org *orgs = NULL;
    size_t count = 0;
    enum rc rc = store_orgs_for_user(APP(req)->store, CALLER(req)->user.id, &orgs, &count);
    if (rc != RC_OK) {
        api_store_error(req, res, rc);
        return;
    }
    /* A token bound to one organization sees only that one (so it is the default org). */
    const char *bound = CALLER(req)->token.org_id;
    json_t *list = json_array();
    for (size_t i = 0; i < count; i++)
        if (!bound[0] || strcmp(bound, orgs[i].id) == 0)
            json_array_append_new(list,
                                  json_pack("{s:s, s:s, s:s}", "name", orgs[i].name, "verboseName",
                                            orgs[i].verbose_name, "role", orgs[i].role));
    store_free_list(orgs);
    http_reply(res, 200, json_pack("{s:o}", "organizations", list));
}

void api_get_daily_key(struct http_request *req, struct http_response *res)
{
    struct store_org org;
    char key[STORE_SECRET_SIZE];
    if (api_member_org(req, res, &org) != RC_OK)
        return;
    /* Stored sealed (auth_daily_key_seal); opened only for this answer to a member. */
    enum rc rc = auth_daily_key_unseal(&APP(req)->auth.key, org.daily_key_sealed, key);
    if (rc != RC_OK && rc != RC_NOT_FOUND) {
        char msg[160];
        snprintf(msg, sizeof msg,
                 "the Daily API key of organization '%s' does not open with "
                 "this server's secret",
                 org.name);
        http_error(req, res, rc == RC_NOMEM ? RC_NOMEM : RC_INTERNAL, msg);
        return;
    }
    /* No key configured: no apiKey field, which the reference client shows as "N/A" (a null
     * it would print as "None"). */
    json_t *body = json_pack("{s:s}", "organization", org.name);
    if (body && rc == RC_OK)
        json_object_set_new(body, "apiKey", json_string(key));
    sodium_memzero(key, sizeof key);
    api_reply(req, res, 200, body);
}
