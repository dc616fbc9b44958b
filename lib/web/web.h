/* web.h: the HTML dashboard served by pccd: sign-up and sign-in with server-side sessions,
 * personal access tokens, organizations with their members and API keys. Pages and assets are
 * embedded at build time (web/); every form is CSRF-checked; every user string is escaped. */
#ifndef PCC_WEB_H
#define PCC_WEB_H

#include <stddef.h>

#include "http.h"
#include "rc.h"

#define WEB_SESSION_IDLE_SECONDS (12 * 3600)    /* a session unused this long ends */
#define WEB_SESSION_MAX_SECONDS (7 * 24 * 3600) /* and every session ends this long after */
#define WEB_SESSION_TOUCH_INTERVAL 60           /* seconds between stored last-seen stamps */
#define WEB_PASSWORD_MIN 8
#define WEB_PASSWORD_MAX 1024
#define WEB_ASSET_URL_SIZE 64

/* The dashboard's frozen state, hung off api_app.web. */
struct web {
    int signup_open;                  /* anyone may create an account (pccd serve --signup open) */
    char css_url[WEB_ASSET_URL_SIZE]; /* "/static/app.<hash>.css" */
    char js_url[WEB_ASSET_URL_SIZE];
};

/* Prepare w: content-hash the embedded assets for their long-cache URLs. RC_INTERNAL when an
 * asset is missing from the build. */
enum rc web_init(struct web *w, int signup_open);

/* The dashboard's routes (HTML pages, form posts, /static/...), for http_config.routes beside
 * api_routes(); every one is HTTP_ROUTE_PUBLIC: pages check the session cookie themselves. */
const struct http_route *web_routes(size_t *count);

#endif
