/* internal.h: helpers shared by the API handlers (not part of the API layer's interface). */
#ifndef PCC_API_INTERNAL_H
#define PCC_API_INTERNAL_H

#include <jansson.h>

#include "api.h"
#include "json.h"

/* The application and the verified caller of the current request. */
#define APP(req) ((struct api_app *)http_app(req))
#define CALLER(req) ((struct auth_principal *)http_principal(req))

/* An ISO-8601 string for epoch seconds, or JSON null for 0 ("never"). New reference. */
json_t *api_time(int64_t epoch);
/* The public JSON form of a token row (never its digest or secret). New reference. */
json_t *api_token_json(const struct store_token *tok, const char *org_name);
/* Look up {org} as an organization the caller belongs to. On RC_OK fills out; otherwise the
 * 404 (same for missing and not-a-member) or 5xx is already in res. */
enum rc api_member_org(struct http_request *req, struct http_response *res,
                       struct store_org *out);
/* Write a storage failure as a 5xx (503 when the database is unreachable). */
void api_store_error(struct http_request *req, struct http_response *res, enum rc rc);

void api_get_user(struct http_request *req, struct http_response *res);
void api_list_orgs(struct http_request *req, struct http_response *res);
void api_get_daily_key(struct http_request *req, struct http_response *res);
void api_list_tokens(struct http_request *req, struct http_response *res);
void api_create_token(struct http_request *req, struct http_response *res);
void api_revoke_token(struct http_request *req, struct http_response *res);
void api_token_self(struct http_request *req, struct http_response *res);
void api_revoke_self(struct http_request *req, struct http_response *res);
void api_health(struct http_request *req, struct http_response *res);

#endif
