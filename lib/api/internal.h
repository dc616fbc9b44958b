/* internal.h: helpers shared by the API handlers (not part of the API layer's interface). */
#ifndef PCC_API_INTERNAL_H
#define PCC_API_INTERNAL_H

#include <jansson.h>

#include "api.h"
#include "json.h"
#include "orgadmin.h"

/* The application and the verified caller of the current request. */
#define APP(req) ((struct api_app *)http_app(req))
#define CALLER(req) ((struct auth_principal *)http_principal(req))

/* The capability (enum auth_capability) a route needs, kept in its flags; a route that names
 * none needs AUTH_CAP_FULL, so a forgotten one fails closed. */
#define API_NEEDS(cap) ((unsigned)(cap) << HTTP_ROUTE_APP_SHIFT)

/* An ISO-8601 string for epoch seconds, or JSON null for 0 ("never"). New reference. */
json_t *api_time(int64_t epoch);
/* The public JSON form of a token row (never its digest or secret). New reference. */
json_t *api_token_json(const struct store_token *tok, const char *org_name);
/* Look up {org} as an organization the caller belongs to. On RC_OK fills out; otherwise the
 * 404 (same for missing and not-a-member) or 5xx is already in res. */
enum rc api_member_org(struct http_request *req, struct http_response *res, struct store_org *out);
/* api_member_org without the organization's token policy: for the policy endpoints, so that
 * admins can always change a policy their own token no longer meets. */
enum rc api_member_org_any_token(struct http_request *req, struct http_response *res,
                                 struct store_org *out);
/* The slug of organization org_id among the caller's organizations into out (size bytes), ""
 * when org_id is "" or unknown. */
void api_org_slug(struct http_request *req, const char *org_id, char *out, size_t size);
/* The caller as lib/auth/orgadmin.c records an organization admin's action. */
#define API_ACTOR(req)                                                                             \
    (&(const struct orgadmin_actor){CALLER(req)->user.id, CALLER(req)->token.id,                   \
                                    http_client_ip(req)})
/* Write a storage failure as a 5xx (503 when the database is unreachable). */
void api_store_error(struct http_request *req, struct http_response *res, enum rc rc);
/* Write what a rule of lib/auth refused (rc 403, 404, 400 or 409, with its message err) as
 * that answer; any other rc is a storage failure (api_store_error). */
void api_rule_error(struct http_request *req, struct http_response *res, enum rc rc,
                    const char *err);
/* RC_OK when the caller is an admin of org; otherwise a 403 naming the role and what it is
 * needed for (e.g. "creating API keys") is in res and RC_FORBIDDEN returned. */
enum rc api_require_admin(struct http_request *req, struct http_response *res,
                          const struct store_org *org, const char *what);
/* Audit event for the caller (user, token, address) in org; detail (consumed, may be NULL) is a
 * JSON object that must never hold a secret value. */
void api_audit(struct http_request *req, const char *event, const char *org_id, json_t *detail);
/* Set a JSON reply from a jansson builder; a NULL body (allocation failed) becomes a 500. */
void api_reply(struct http_request *req, struct http_response *res, int status, json_t *body);

/* Regions (regions.c). The configured regions (the defaults when none were configured). */
const struct api_region *api_regions(struct api_app *app, size_t *count);
/* 1 when code is a configured region. */
int api_region_known(struct api_app *app, const char *code);
/* The organization's default region: its defaultRegion property when that is still a
 * configured region, else the first configured region. out holds STORE_REGION_SIZE bytes. */
enum rc api_default_region(struct api_app *app, const struct store_org *org,
                           char out[STORE_REGION_SIZE]);
/* The optional ?region= filter: NULL when absent; a configured region; or NULL with a 400 in
 * res and *failed set. */
const char *api_region_filter(struct http_request *req, struct http_response *res, int *failed);
/* The 400 for an unknown region in field (e.g. "region"), listing the configured ones. */
void api_unknown_region(struct http_request *req, struct http_response *res, const char *field,
                        const char *code);

void api_list_regions(struct http_request *req, struct http_response *res);
void api_get_properties(struct http_request *req, struct http_response *res);
void api_get_properties_schema(struct http_request *req, struct http_response *res);
void api_patch_properties(struct http_request *req, struct http_response *res);
void api_list_api_keys(struct http_request *req, struct http_response *res);
void api_create_api_key(struct http_request *req, struct http_response *res);
void api_revoke_api_key(struct http_request *req, struct http_response *res);
void api_list_secret_sets(struct http_request *req, struct http_response *res);
void api_get_secret_set(struct http_request *req, struct http_response *res);
void api_put_secret(struct http_request *req, struct http_response *res);
void api_delete_secret(struct http_request *req, struct http_response *res);
void api_delete_secret_set(struct http_request *req, struct http_response *res);
void api_list_services(struct http_request *req, struct http_response *res);
void api_create_service(struct http_request *req, struct http_response *res);
void api_update_service(struct http_request *req, struct http_response *res);
void api_get_service(struct http_request *req, struct http_response *res);
void api_delete_service(struct http_request *req, struct http_response *res);
void api_service_logs(struct http_request *req, struct http_response *res);
void api_service_deployments(struct http_request *req, struct http_response *res);
void api_service_sessions(struct http_request *req, struct http_response *res);
void api_service_session(struct http_request *req, struct http_response *res);
void api_public_start(struct http_request *req, struct http_response *res);
void api_builds_unavailable(struct http_request *req, struct http_response *res);

void api_get_user(struct http_request *req, struct http_response *res);
void api_list_orgs(struct http_request *req, struct http_response *res);
void api_get_daily_key(struct http_request *req, struct http_response *res);
void api_list_tokens(struct http_request *req, struct http_response *res);
void api_create_token(struct http_request *req, struct http_response *res);
void api_revoke_token(struct http_request *req, struct http_response *res);
void api_token_self(struct http_request *req, struct http_response *res);
void api_revoke_self(struct http_request *req, struct http_response *res);
void api_health(struct http_request *req, struct http_response *res);

/* OAuth for the CLI (oauth.c): discovery, the token endpoint, revocation and logout. */
void api_auth_config(struct http_request *req, struct http_response *res);
void api_oidc_config(struct http_request *req, struct http_response *res);
void api_oauth_token(struct http_request *req, struct http_response *res);
void api_oauth_device_code(struct http_request *req, struct http_response *res);
void api_oauth_revoke(struct http_request *req, struct http_response *res);
void api_auth_logout(struct http_request *req, struct http_response *res);

/* Token lifecycle (tokens.c, audit.c, orgtokens.c). */
void api_rotate_token(struct http_request *req, struct http_response *res);
void api_rotate_self(struct http_request *req, struct http_response *res);
void api_report_leaked(struct http_request *req, struct http_response *res);
void api_user_audit(struct http_request *req, struct http_response *res);
void api_org_audit(struct http_request *req, struct http_response *res);
void api_org_tokens(struct http_request *req, struct http_response *res);
void api_org_revoke_token(struct http_request *req, struct http_response *res);
void api_get_token_policy(struct http_request *req, struct http_response *res);
void api_patch_token_policy(struct http_request *req, struct http_response *res);
void api_list_service_accounts(struct http_request *req, struct http_response *res);
void api_create_service_account(struct http_request *req, struct http_response *res);
void api_delete_service_account(struct http_request *req, struct http_response *res);
void api_sa_list_tokens(struct http_request *req, struct http_response *res);
void api_sa_create_token(struct http_request *req, struct http_response *res);
void api_sa_revoke_token(struct http_request *req, struct http_response *res);
void api_sa_rotate_token(struct http_request *req, struct http_response *res);
/* Invitations (invitations.c): an organization's admins invite, list and withdraw; the invitee
 * lists, accepts and declines. */
void api_create_invitation(struct http_request *req, struct http_response *res);
void api_list_invitations(struct http_request *req, struct http_response *res);
void api_revoke_invitation(struct http_request *req, struct http_response *res);
void api_my_invitations(struct http_request *req, struct http_response *res);
void api_accept_invitation(struct http_request *req, struct http_response *res);
void api_decline_invitation(struct http_request *req, struct http_response *res);
/* Shared by the token handlers: parse a creation body (name, scopes, organization,
 * expiresAt, expiresInDays) into spec (strings point into body or into the buffers given);
 * on failure the 4xx is in res. bind_org forces the binding (service accounts). */
enum rc api_token_spec(struct http_request *req, struct http_response *res, json_t *body,
                       const char *owner_id, const struct store_org *bind_org,
                       struct auth_pat_spec *spec, char scopes[STORE_SCOPES_SIZE],
                       char org_id[ID_BUF_SIZE], char org_name[STORE_SLUG_SIZE]);
/* Answer 201 with a token just issued: its object plus "token" (the secret, wiped here). */
void api_token_created(struct http_request *req, struct http_response *res,
                       const struct store_token *row, const char *org_name,
                       char secret[TOKEN_BUF_SIZE]);
/* Parse an optional rotation body {"graceSeconds": N} into *grace; 4xx in res on failure. */
enum rc api_grace(struct http_request *req, struct http_response *res, int64_t *grace);
/* Answer a rotation: the token object plus "token" (the new secret, wiped here). */
void api_rotated(struct http_request *req, struct http_response *res, const struct store_token *row,
                 const char *org_name, char secret[TOKEN_BUF_SIZE]);

#endif
