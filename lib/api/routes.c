/* routes.c: the route table of the JSON API (paths as in API-COMPAT.md and docs/api/). */
#include "internal.h"
#include "banned.h"

#define ORG "/v1/organizations/{org}"

static const struct http_route routes[] = {
    {"GET", "/healthz", api_health, HTTP_ROUTE_PUBLIC},
    {"GET", "/v1/users", api_get_user, HTTP_ROUTE_AUTH},
    {"GET", "/v1/organizations", api_list_orgs, HTTP_ROUTE_AUTH},
    {"GET", "/v1/organizations/{org}/daily", api_get_daily_key, HTTP_ROUTE_AUTH},
    {"GET", "/v1/users/me/tokens", api_list_tokens, HTTP_ROUTE_AUTH},
    {"POST", "/v1/users/me/tokens", api_create_token, HTTP_ROUTE_AUTH},
    {"DELETE", "/v1/users/me/tokens/{id}", api_revoke_token, HTTP_ROUTE_AUTH},
    {"GET", "/v1/tokens/self", api_token_self, HTTP_ROUTE_AUTH},
    {"DELETE", "/v1/tokens/self", api_revoke_self, HTTP_ROUTE_AUTH},
    {"GET", ORG "/regions", api_list_regions, HTTP_ROUTE_AUTH},
    {"GET", ORG "/properties", api_get_properties, HTTP_ROUTE_AUTH},
    {"PATCH", ORG "/properties", api_patch_properties, HTTP_ROUTE_AUTH},
    {"GET", ORG "/properties/schema", api_get_properties_schema, HTTP_ROUTE_AUTH},
    {"GET", ORG "/apiKeys", api_list_api_keys, HTTP_ROUTE_AUTH},
    {"POST", ORG "/apiKeys", api_create_api_key, HTTP_ROUTE_AUTH},
    {"DELETE", ORG "/apiKeys/{id}", api_revoke_api_key, HTTP_ROUTE_AUTH},
    {"GET", ORG "/secrets", api_list_secret_sets, HTTP_ROUTE_AUTH},
    {"GET", ORG "/secrets/{set}", api_get_secret_set, HTTP_ROUTE_AUTH},
    {"PUT", ORG "/secrets/{set}", api_put_secret, HTTP_ROUTE_AUTH},
    {"DELETE", ORG "/secrets/{set}", api_delete_secret_set, HTTP_ROUTE_AUTH},
    {"DELETE", ORG "/secrets/{set}/{key}", api_delete_secret, HTTP_ROUTE_AUTH},
    {"GET", ORG "/services", api_list_services, HTTP_ROUTE_AUTH},
    {"POST", ORG "/services", api_create_service, HTTP_ROUTE_AUTH},
    {"PUT", ORG "/services", api_update_service, HTTP_ROUTE_AUTH}, /* the name is in the body */
    {"GET", ORG "/services/{service}", api_get_service, HTTP_ROUTE_AUTH},
    {"DELETE", ORG "/services/{service}", api_delete_service, HTTP_ROUTE_AUTH},
    {"GET", ORG "/services/{service}/logs", api_service_logs, HTTP_ROUTE_AUTH},
    {"GET", ORG "/services/{service}/deployments", api_service_deployments, HTTP_ROUTE_AUTH},
    {"GET", ORG "/services/{service}/sessions", api_service_sessions, HTTP_ROUTE_AUTH},
    {"GET", ORG "/services/{service}/sessions/{id}", api_service_session, HTTP_ROUTE_AUTH},
    {"DELETE", ORG "/services/{service}/sessions/{id}", api_service_session, HTTP_ROUTE_AUTH},
    {"POST", "/v1/public/{service}/start", api_public_start, HTTP_ROUTE_PUBLIC_KEY},
    {"POST", ORG "/builds/upload-url", api_builds_unavailable, HTTP_ROUTE_AUTH},
    {"GET", ORG "/builds", api_builds_unavailable, HTTP_ROUTE_AUTH},
    {"POST", ORG "/builds", api_builds_unavailable, HTTP_ROUTE_AUTH},
    {"GET", ORG "/builds/{id}", api_builds_unavailable, HTTP_ROUTE_AUTH},
    {"GET", ORG "/builds/{id}/logs", api_builds_unavailable, HTTP_ROUTE_AUTH},
};

const struct http_route *api_routes(size_t *count)
{
    *count = sizeof routes / sizeof routes[0];
    return routes;
}
