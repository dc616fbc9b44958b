/* routes.c: the route table of the JSON API (paths as in docs/api/). */
#include "internal.h"
#include "banned.h"

#define ORG "/v1/organizations/{org}"
/* What a token must be allowed to do on each route (auth.h, enum auth_capability). */
#define R (HTTP_ROUTE_AUTH | API_NEEDS(AUTH_CAP_READ))    /* reads: every scope */
#define D (HTTP_ROUTE_AUTH | API_NEEDS(AUTH_CAP_DEPLOY))  /* agents, deployments, sessions */
#define S (HTTP_ROUTE_AUTH | API_NEEDS(AUTH_CAP_SECRETS)) /* secret sets */
#define F (HTTP_ROUTE_AUTH | API_NEEDS(AUTH_CAP_FULL))    /* tokens, keys, properties, policy */
#define SA ORG "/service-accounts/{name}"

static const struct http_route routes[] = {
    {"GET", "/healthz", api_health, HTTP_ROUTE_PUBLIC},
    {"GET", "/auth/config", api_auth_config, HTTP_ROUTE_PUBLIC},
    {"GET", "/.well-known/openid-configuration", api_oidc_config, HTTP_ROUTE_PUBLIC},
    {"POST", "/oauth/token", api_oauth_token, HTTP_ROUTE_PUBLIC},
    {"POST", "/oauth/revoke", api_oauth_revoke, HTTP_ROUTE_PUBLIC},
    {"POST", "/oauth/device/code", api_oauth_device_code, HTTP_ROUTE_PUBLIC},
    {"POST", "/auth/logout", api_auth_logout, R}, /* any token may end its own login */
    {"GET", "/v1/users", api_get_user, R},
    {"GET", "/v1/organizations", api_list_orgs, R},
    {"GET", "/v1/organizations/{org}/daily", api_get_daily_key, R},
    {"GET", "/v1/users/me/tokens", api_list_tokens, R},
    {"POST", "/v1/users/me/tokens", api_create_token, F},
    {"DELETE", "/v1/users/me/tokens/{id}", api_revoke_token, F},
    {"GET", "/v1/tokens/self", api_token_self, R},
    {"DELETE", "/v1/tokens/self", api_revoke_self, R}, /* any token may end itself */
    {"GET", ORG "/regions", api_list_regions, R},
    {"GET", ORG "/properties", api_get_properties, R},
    {"PATCH", ORG "/properties", api_patch_properties, F},
    {"GET", ORG "/properties/schema", api_get_properties_schema, R},
    {"GET", ORG "/apiKeys", api_list_api_keys, R},
    {"POST", ORG "/apiKeys", api_create_api_key, F},
    {"DELETE", ORG "/apiKeys/{id}", api_revoke_api_key, F},
    {"GET", ORG "/secrets", api_list_secret_sets, R},
    {"GET", ORG "/secrets/{set}", api_get_secret_set, R},
    {"PUT", ORG "/secrets/{set}", api_put_secret, S},
    {"DELETE", ORG "/secrets/{set}", api_delete_secret_set, S},
    {"DELETE", ORG "/secrets/{set}/{key}", api_delete_secret, S},
    {"GET", ORG "/services", api_list_services, R},
    {"POST", ORG "/services", api_create_service, D},
    {"PUT", ORG "/services", api_update_service, D}, /* the name is in the body */
    {"GET", ORG "/services/{service}", api_get_service, R},
    {"DELETE", ORG "/services/{service}", api_delete_service, D},
    {"GET", ORG "/services/{service}/logs", api_service_logs, R},
    {"GET", ORG "/services/{service}/deployments", api_service_deployments, R},
    {"GET", ORG "/services/{service}/sessions", api_service_sessions, R},
    {"GET", ORG "/services/{service}/sessions/{id}", api_service_session, R},
    {"DELETE", ORG "/services/{service}/sessions/{id}", api_service_session, D},
    {"POST", "/v1/public/{service}/start", api_public_start, HTTP_ROUTE_PUBLIC_KEY},
    {"POST", "/v1/users/me/tokens/{id}/rotate", api_rotate_token, F},
    {"POST", "/v1/tokens/self/rotate", api_rotate_self, R}, /* same scopes, new secret */
    {"POST", "/v1/tokens/revoke", api_report_leaked, HTTP_ROUTE_PUBLIC},
    {"GET", "/v1/users/me/audit", api_user_audit, R},
    {"GET", ORG "/audit", api_org_audit, R},
    {"GET", ORG "/tokens", api_org_tokens, R},
    {"DELETE", ORG "/tokens/{id}", api_org_revoke_token, F},
    {"GET", ORG "/token-policy", api_get_token_policy, R},
    {"PATCH", ORG "/token-policy", api_patch_token_policy, F},
    {"GET", ORG "/service-accounts", api_list_service_accounts, R},
    {"POST", ORG "/service-accounts", api_create_service_account, F},
    {"DELETE", SA, api_delete_service_account, F},
    {"GET", SA "/tokens", api_sa_list_tokens, R},
    {"POST", SA "/tokens", api_sa_create_token, F},
    {"DELETE", SA "/tokens/{id}", api_sa_revoke_token, F},
    {"POST", SA "/tokens/{id}/rotate", api_sa_rotate_token, F},
    {"GET", ORG "/invitations", api_list_invitations, R},
    {"POST", ORG "/invitations", api_create_invitation, F},
    {"DELETE", ORG "/invitations/{id}", api_revoke_invitation, F},
    {"GET", "/v1/users/me/invitations", api_my_invitations, R},
    {"POST", "/v1/users/me/invitations/{id}/accept", api_accept_invitation, F},
    {"POST", "/v1/users/me/invitations/{id}/decline", api_decline_invitation, F},
    {"POST", ORG "/builds/upload-url", api_builds_unavailable, D},
    {"GET", ORG "/builds", api_builds_unavailable, R},
    {"POST", ORG "/builds", api_builds_unavailable, D},
    {"GET", ORG "/builds/{id}", api_builds_unavailable, R},
    {"GET", ORG "/builds/{id}/logs", api_builds_unavailable, R},
};

const struct http_route *api_routes(size_t *count)
{
    *count = sizeof routes / sizeof routes[0];
    return routes;
}
