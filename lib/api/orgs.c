/* orgs.c: the caller's organizations and an organization's Daily API key. */
#include <string.h>

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
            json_array_append_new(list, json_pack("{s:s, s:s, s:s}", "name", orgs[i].name,
                                              "verboseName", orgs[i].verbose_name, "role",
                                              orgs[i].role));
    store_free_list(orgs);
    http_reply(res, 200, json_pack("{s:o}", "organizations", list));
}

void api_get_daily_key(struct http_request *req, struct http_response *res)
{
    struct store_org org;
    if (api_member_org(req, res, &org) != RC_OK)
        return;
    /* No key configured: apiKey null, which the reference client shows as "N/A". */
    http_reply(res, 200,
               json_pack("{s:o, s:s}", "apiKey",
                         org.daily_api_key[0] ? json_string(org.daily_api_key) : json_null(),
                         "organization", org.name));
}
