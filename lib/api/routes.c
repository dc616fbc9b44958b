/* routes.c: the route table of the JSON API (paths as in API-COMPAT.md and docs/api/). */
#include "internal.h"
#include "banned.h"

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
};

const struct http_route *api_routes(size_t *count)
{
    *count = sizeof routes / sizeof routes[0];
    return routes;
}
