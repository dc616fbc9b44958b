/* api.h: the JSON API of pccd: its route table, the application context handlers share, and
 * the authentication hook the HTTP layer runs before protected routes. */
#ifndef PCC_API_H
#define PCC_API_H

#include <stddef.h>

#include "auth.h"
#include "http.h"
#include "store.h"

struct api_app {
    struct store *store;
    struct auth auth;
    const char *version;
};

/* The API's routes, for http_config.routes. */
const struct http_route *api_routes(size_t *count);
/* http_config.authenticate: verifies the bearer token and leaves a struct auth_principal. */
enum rc api_authenticate(struct http_request *req, struct http_response *res);

#endif
