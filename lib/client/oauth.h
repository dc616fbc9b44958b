/* oauth.h: the CLI's OAuth 2.0 client: endpoint discovery, the authorization code grant with
 * PKCE S256 and a loopback redirect (RFC 6749/7636/8252), the device authorization grant
 * (RFC 8628) and the refresh grant. It never prints, exits or reads the environment: errors
 * come back as text in err, for the front end to print. */
#ifndef PCC_OAUTH_H
#define PCC_OAUTH_H

#include <stddef.h>
#include <stdint.h>

#include "buf.h"
#include "client.h"
#include "rc.h"

#define OAUTH_CALLBACK_PATH "/oauth_callback"

/* What /auth/config and the issuer's OpenID configuration name. */
struct oauth_endpoints {
    char issuer[512];
    char client_id[128];
    char scopes[256];
    char authorize[1024];
    char token[1024];
    char device[1024]; /* the device authorization endpoint; "" when the server has none */
};

/* GET api_host/auth/config, then the issuer's /.well-known/openid-configuration, checked: the
 * issuer matches, the endpoints are https:// (or http:// when api_host is), PKCE S256 and the
 * code flow are supported. RC_OK with ep filled; RC_INVALID when api_host is not a URL; any
 * other failure RC_PROTOCOL or RC_NETWORK with the whole message in err. */
enum rc oauth_discover(const char *api_host, const char *user_agent, struct oauth_endpoints *ep,
                       char *err, size_t errlen);

/* Append name=value, both percent-encoded, to b; sep ('&', '?' or 0 for none) first. */
enum rc oauth_form_add(struct buf *b, const char *name, const char *value, char sep);

/* A PKCE pair and the state of one authorization request (all base64url, unpadded). */
struct oauth_pkce {
    char verifier[100]; /* 64 characters from 48 random bytes */
    char challenge[64]; /* base64url(SHA-256(verifier)) */
    char state[64];     /* 43 characters from 32 random bytes */
};
/* Fresh random verifier, its challenge, and a state. Wipe with oauth_pkce_wipe. */
void oauth_pkce_new(struct oauth_pkce *p);
void oauth_pkce_wipe(struct oauth_pkce *p);
/* The authorization URL for p and redirect_uri redirect into url (appended). */
enum rc oauth_authorize_url(const struct oauth_endpoints *ep, const struct oauth_pkce *p,
                            const char *redirect, struct buf *url);

/* POST form to the token endpoint. RC_OK with reply holding a 200 answer that has a usable
 * access_token; otherwise an error code, why in err, and reply released. */
enum rc oauth_token_post(const struct oauth_endpoints *ep, const char *user_agent, const char *form,
                         struct client_reply *reply, char *err, size_t errlen);
/* The authorization code grant's token request (RFC 7636 4.5), through oauth_token_post. */
enum rc oauth_exchange_code(const struct oauth_endpoints *ep, const char *user_agent,
                            const char *code, const char *redirect, const char *verifier,
                            struct client_reply *reply, char *err, size_t errlen);
/* The refresh grant (RFC 6749 6), through oauth_token_post. */
enum rc oauth_refresh(const struct oauth_endpoints *ep, const char *user_agent,
                      const char *refresh_token, struct client_reply *reply, char *err,
                      size_t errlen);
/* expires_in of a token answer in seconds (absent or not positive: 86400). */
double oauth_expires_in(const json_t *body);

/* The loopback redirect listener: the first free port of first..last on 127.0.0.1 (first 0:
 * one the kernel picks, for tests). */
struct oauth_loopback {
    int fd;
    int port;
    char redirect[64]; /* http://127.0.0.1:PORT/oauth_callback */
};
/* RC_OK listening; RC_CONFLICT when every port is taken; RC_IO otherwise. */
enum rc oauth_loopback_open(struct oauth_loopback *lb, int first, int last);
void oauth_loopback_close(struct oauth_loopback *lb);

/* What came back to the redirect URI. */
struct oauth_callback {
    char code[512];
    char state[256];
    char error[128];
    int state_ok; /* the state matched the request's (constant-time compare) */
};
/* Wait up to timeout_ms for a browser's GET /oauth_callback, answering it with a page that
 * says what happened (other requests get 404 and the wait goes on). RC_OK with cb filled;
 * RC_UNAVAILABLE when none came in time. */
enum rc oauth_loopback_wait(struct oauth_loopback *lb, const char *state, int64_t timeout_ms,
                            struct oauth_callback *cb);

/* A device authorization (RFC 8628 3.2) in progress. */
struct oauth_device {
    char device_code[256];
    char user_code[65];
    char uri[1001];
    char uri_complete[1101]; /* "" when the server sent none */
    int64_t expires_in;      /* seconds, 1..1800 */
    int64_t interval;        /* seconds between polls, 1..60 */
};
/* Ask the device authorization endpoint for a code. RC_NOT_IMPLEMENTED when the issuer has
 * none; other failures with the message in err. */
enum rc oauth_device_start(const struct oauth_endpoints *ep, const char *user_agent,
                           struct oauth_device *d, char *err, size_t errlen);
enum oauth_device_result {
    OAUTH_DEVICE_APPROVED, /* tokens holds the token endpoint's 200 answer */
    OAUTH_DEVICE_DENIED,
    OAUTH_DEVICE_EXPIRED,
    OAUTH_DEVICE_FAILED, /* why in err */
};
/* Poll the token endpoint at d's interval (5 s longer after each slow_down) until the code is
 * approved, denied or expires. Wipes d's device code before returning. */
enum oauth_device_result oauth_device_poll(const struct oauth_endpoints *ep, const char *user_agent,
                                           struct oauth_device *d, struct client_reply *tokens,
                                           char *err, size_t errlen);

#endif
