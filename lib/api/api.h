/* api.h: the JSON API of pccd: its route table, the application context handlers share, and
 * the authentication hook the HTTP layer runs before protected routes. */
#ifndef PCC_API_H
#define PCC_API_H

#include <stddef.h>

#include "auth.h"
#include "http.h"
#include "store.h"

#define API_MAX_REGIONS 32
#define API_REGION_NAME_SIZE 64

/* A region agents and secret sets can live in. */
struct api_region {
    char code[STORE_REGION_SIZE];            /* e.g. "us-west" */
    char display_name[API_REGION_NAME_SIZE]; /* e.g. "US West" */
};

struct api_app {
    struct store *store;
    struct auth auth;
    const char *version;
    /* The configured regions, in order; the first is the default region of organizations that
     * never chose one. region_count 0 means the defaults of api_regions_parse. */
    struct api_region regions[API_MAX_REGIONS];
    size_t region_count;
    const void *web; /* the dashboard's struct web (lib/web), NULL when it is not served */
    /* The server's public URL, no trailing slash ("https://pcc.example.com"): the OAuth
     * issuer, and the base of its endpoints. */
    const char *public_url;
};

/* The API's routes, for http_config.routes. */
const struct http_route *api_routes(size_t *count);
/* http_config.authenticate: verifies the bearer token and leaves a struct auth_principal. */
enum rc api_authenticate(struct http_request *req, struct http_response *res);
/* http_config.authenticate_public_key: verifies a public API key ("Bearer pk_...") and leaves
 * its struct store_api_key, for the public start route. */
enum rc api_authenticate_public_key(struct http_request *req, struct http_response *res);

/* Parse a region list "CODE[=Display Name],..." (codes [a-z0-9-], no duplicates, at most
 * API_MAX_REGIONS) into out; a code without a name is its own display name. NULL or "" gives
 * the defaults: us-west, us-east, eu-central, ap-south. RC_INVALID with err naming the bad
 * entry. */
enum rc api_regions_parse(const char *list, struct api_region out[API_MAX_REGIONS], size_t *count,
                          char *err, size_t errlen);

#endif
