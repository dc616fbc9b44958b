/* public.c: POST /v1/public/{service}/start, authorised by a public API key of the service's
 * organization; and the cloud-build routes, which this pccd does not offer. */
#include <stdio.h>

#include "internal.h"
#include "text.h"
#include "banned.h"

#define PUBLIC_KEY(req) ((const struct store_api_key *)http_principal(req))

void api_public_start(struct http_request *req, struct http_response *res)
{
    static const char *const fields[] = {"createDailyRoom",
                                         "dailyRoomProperties",
                                         "dailyMeetingTokenProperties",
                                         "enableDefaultIceServers",
                                         "transport",
                                         "body",
                                         NULL};
    const struct store_api_key *key = PUBLIC_KEY(req);
    const char *name = http_param(req, "service");
    struct store_service svc;
    /* Only the key's own organization is searched: another org's service answers like a
     * missing one. */
    enum rc rc = text_is_service_name(name)
                     ? store_service_by_name(APP(req)->store, key->org_id, name, &svc)
                     : RC_NOT_FOUND;
    if (rc == RC_NOT_FOUND) {
        char msg[160];
        snprintf(msg, sizeof msg, "service '%.64s' not found", name);
        http_error(req, res, RC_NOT_FOUND, msg);
        return;
    }
    if (rc != RC_OK) {
        api_store_error(req, res, rc);
        return;
    }
    size_t len = 0;
    http_body(req, &len);
    if (len) { /* a malformed request is still told so */
        json_t *body = http_json_body(req, res, fields);
        if (!body)
            return;
        json_decref(body);
    }
    http_error(req, res, RC_NO_RUNTIME, NULL);
}

void api_builds_unavailable(struct http_request *req, struct http_response *res)
{
    struct store_org org;
    if (api_member_org(req, res, &org) == RC_OK)
        http_error(req, res, RC_NO_BUILDS, NULL);
}
