/* oauth.c: the OAuth endpoints the CLI uses (docs/api/oauth.md): discovery (/auth/config and
 * the OpenID configuration), device authorization (RFC 8628), the token endpoint
 * (authorization_code with PKCE, refresh_token, device_code), revocation (RFC 7009) and
 * POST /auth/logout. The consent and device pages live in lib/web. */
#include <stdio.h>
#include <string.h>
#include <strings.h>

#include <sodium.h>

#include "form.h"
#include "internal.h"
#include "banned.h"

#define FORM_TYPE "application/x-www-form-urlencoded"
#define FIELD_MAX 512
#define DEVICE_GRANT "urn:ietf:params:oauth:grant-type:device_code"

void api_auth_config(struct http_request *req, struct http_response *res)
{
    http_reply(res, 200,
               json_pack("{s:s, s:s, s:s}", "issuer", APP(req)->public_url, "client_id",
                         AUTH_OAUTH_CLIENT_ID, "scopes", AUTH_OAUTH_SCOPES));
}

void api_oidc_config(struct http_request *req, struct http_response *res)
{
    const char *base = APP(req)->public_url;
    char authorize[512], token[512], revoke[512], device[512];
    snprintf(authorize, sizeof authorize, "%s/oauth/authorize", base);
    snprintf(token, sizeof token, "%s/oauth/token", base);
    snprintf(revoke, sizeof revoke, "%s/oauth/revoke", base);
    snprintf(device, sizeof device, "%s/oauth/device/code", base);
    json_t *body = json_pack(
        "{s:s, s:s, s:s, s:s, s:s, s:[s], s:[s], s:[sss], s:[s], s:[s,s,s,s]}", "issuer", base,
        "authorization_endpoint", authorize, "token_endpoint", token, "revocation_endpoint", revoke,
        "device_authorization_endpoint", device, "code_challenge_methods_supported", "S256",
        "response_types_supported", "code", "grant_types_supported", "authorization_code",
        "refresh_token", DEVICE_GRANT, "token_endpoint_auth_methods_supported", "none",
        "scopes_supported", "read", "deploy", "secrets", "full");
    http_reply(res, 200, body);
}

/* An OAuth error reply (RFC 6749 5.2): {"error": code, "error_description": ..., "code"}. */
static void oauth_error(struct http_response *res, int status, const char *error,
                        const char *description)
{
    char code[8];
    snprintf(code, sizeof code, "%d", status);
    http_reply(res, status,
               json_pack("{s:s, s:s, s:s}", "error", error, "error_description",
                         description ? description : error, "code", code));
}

/* The form body of an OAuth request; RC_OK or the 400 is in res. */
static enum rc read_form(struct http_request *req, struct http_response *res)
{
    const char *ctype = http_header(req, "Content-Type");
    size_t len;
    const char *body = http_body(req, &len);
    char err[160];
    if (!ctype || strncasecmp(ctype, FORM_TYPE, strlen(FORM_TYPE)) != 0) {
        oauth_error(res, 400, "invalid_request",
                    "the body must be application/x-www-form-urlencoded");
        return RC_INVALID;
    }
    if (form_check(body, len, err, sizeof err) != RC_OK) {
        oauth_error(res, 400, "invalid_request", err);
        return RC_INVALID;
    }
    return RC_OK;
}

/* Field name of the form into out ("" when absent); 0 when it is malformed or too long. */
static int field(struct http_request *req, const char *name, char out[FIELD_MAX])
{
    size_t len;
    const char *body = http_body(req, &len);
    enum rc rc = form_get(body, len, name, out, FIELD_MAX);
    if (rc == RC_NOT_FOUND)
        out[0] = '\0';
    return rc == RC_OK || rc == RC_NOT_FOUND;
}

void api_oauth_token(struct http_request *req, struct http_response *res)
{
    struct api_app *app = APP(req);
    const char *ip = http_client_ip(req);
    int left = auth_throttle_blocked(app->auth.throttle, ip ? ip : "", auth_now(&app->auth));
    if (left > 0) {
        char retry[16];
        snprintf(retry, sizeof retry, "%d", left);
        http_add_header(res, "Retry-After", retry);
        oauth_error(res, 429, "slow_down", "too many failed attempts; try again later");
        return;
    }
    if (read_form(req, res) != RC_OK)
        return;
    char grant[FIELD_MAX], code[FIELD_MAX], redirect[FIELD_MAX], client[FIELD_MAX],
        verifier[FIELD_MAX], refresh[FIELD_MAX], device[FIELD_MAX], err[160];
    char oauth_err[AUTH_OAUTH_ERROR_SIZE] = "";
    if (!field(req, "grant_type", grant) || !field(req, "code", code) ||
        !field(req, "redirect_uri", redirect) || !field(req, "client_id", client) ||
        !field(req, "code_verifier", verifier) || !field(req, "refresh_token", refresh) ||
        !field(req, "device_code", device)) {
        oauth_error(res, 400, "invalid_request", "a field is malformed or too long");
        return;
    }
    struct auth_oauth_tokens t = {0};
    enum rc rc;
    if (strcmp(grant, "authorization_code") == 0) {
        rc = auth_oauth_exchange(&app->auth, code, client, redirect, verifier, ip, &t, err,
                                 sizeof err);
    } else if (strcmp(grant, "refresh_token") == 0) {
        rc = auth_oauth_refresh(&app->auth, refresh, client, ip, &t, err, sizeof err);
    } else if (strcmp(grant, DEVICE_GRANT) == 0) {
        rc = auth_oauth_device_poll(&app->auth, device, client, ip, &t, oauth_err, err, sizeof err);
    } else {
        oauth_error(res, 400, grant[0] ? "unsupported_grant_type" : "invalid_request",
                    "grant_type must be authorization_code, refresh_token or " DEVICE_GRANT);
        goto out;
    }
    if (rc == RC_INVALID && oauth_err[0]) {
        oauth_error(res, 400, oauth_err, err);
        goto out;
    }
    if (rc == RC_INVALID) {
        oauth_error(res, 400,
                    strncmp(err, "client_id", 9) == 0 ? "invalid_client" : "invalid_grant", err);
        goto out;
    }
    if (rc != RC_OK) {
        api_store_error(req, res, rc);
        goto out;
    }
    http_add_header(res, "Pragma", "no-cache");
    http_reply(res, 200,
               json_pack("{s:s, s:s, s:I, s:s, s:s}", "access_token", t.access, "token_type",
                         "Bearer", "expires_in", (json_int_t)t.expires_in, "refresh_token",
                         t.refresh, "scope", t.scopes));
out:
    sodium_memzero(&t, sizeof t);
    sodium_memzero(refresh, sizeof refresh);
    sodium_memzero(code, sizeof code);
    sodium_memzero(verifier, sizeof verifier);
    sodium_memzero(device, sizeof device);
}

void api_oauth_device_code(struct http_request *req, struct http_response *res)
{
    struct api_app *app = APP(req);
    const char *ip = http_client_ip(req);
    /* Each request stores a row: an address may start only so many a minute. */
    char key[STORE_IP_SIZE];
    snprintf(key, sizeof key, "device:%s", ip ? ip : "");
    int64_t now = auth_now(&app->auth);
    int left = auth_throttle_blocked(app->auth.throttle, key, now);
    if (left <= 0)
        left = auth_throttle_blocked(app->auth.throttle, ip ? ip : "", now);
    if (left > 0) {
        char retry[16];
        snprintf(retry, sizeof retry, "%d", left);
        http_add_header(res, "Retry-After", retry);
        oauth_error(res, 429, "slow_down", "too many requests; try again later");
        return;
    }
    if (read_form(req, res) != RC_OK)
        return;
    char client[FIELD_MAX], scope[FIELD_MAX], err[160], oauth_err[AUTH_OAUTH_ERROR_SIZE] = "";
    if (!field(req, "client_id", client) || !field(req, "scope", scope)) {
        oauth_error(res, 400, "invalid_request", "a field is malformed or too long");
        return;
    }
    struct auth_oauth_device_grant g;
    enum rc rc = auth_oauth_device_start(&app->auth, client, scope, ip, &g, oauth_err, err,
                                         sizeof err);
    if (rc == RC_INVALID) {
        oauth_error(res, 400, oauth_err, err);
        return;
    }
    if (rc != RC_OK) {
        api_store_error(req, res, rc);
        return;
    }
    auth_throttle_fail(app->auth.throttle, key, now);
    char uri[512], complete[600];
    snprintf(uri, sizeof uri, "%s/device", app->public_url);
    snprintf(complete, sizeof complete, "%s?user_code=%s", uri, g.user_code);
    http_add_header(res, "Pragma", "no-cache");
    http_reply(res, 200,
               json_pack("{s:s, s:s, s:s, s:s, s:I, s:I}", "device_code", g.device_code,
                         "user_code", g.user_code, "verification_uri", uri,
                         "verification_uri_complete", complete, "expires_in",
                         (json_int_t)g.expires_in, "interval", (json_int_t)g.interval));
    sodium_memzero(&g, sizeof g);
    sodium_memzero(complete, sizeof complete);
}

void api_oauth_revoke(struct http_request *req, struct http_response *res)
{
    if (read_form(req, res) != RC_OK)
        return;
    char token[FIELD_MAX];
    if (!field(req, "token", token) || !token[0]) {
        oauth_error(res, 400, "invalid_request", "token: required");
        return;
    }
    /* RFC 7009 2.2: the answer is 200 whether or not the token was valid. */
    enum rc rc = auth_oauth_revoke_refresh(&APP(req)->auth, token, http_client_ip(req));
    sodium_memzero(token, sizeof token);
    if (rc != RC_OK && rc != RC_NOT_FOUND) {
        api_store_error(req, res, rc);
        return;
    }
    http_reply(res, 200, json_pack("{s:s}", "status", "OK"));
}

void api_auth_logout(struct http_request *req, struct http_response *res)
{
    static const char *const allowed[] = {"refresh_token", NULL};
    json_t *body = http_json_body(req, res, allowed);
    if (!body)
        return;
    const char *refresh = json_string_value(json_object_get(body, "refresh_token"));
    struct api_app *app = APP(req);
    struct auth_principal *me = CALLER(req);
    enum rc rc = RC_NOT_FOUND;
    if (refresh && *refresh)
        rc = auth_oauth_revoke_refresh(&app->auth, refresh, http_client_ip(req));
    /* The calling OAuth token's own login ends too, whatever refresh token came with it. */
    char family[ID_BUF_SIZE];
    if ((rc == RC_OK || rc == RC_NOT_FOUND) && me->token.kind == TOKEN_KIND_OAUTH_ACCESS &&
        store_oauth_family_of(app->store, me->token.id, family) == RC_OK) {
        enum rc r2 = store_oauth_family_revoke(app->store, family, auth_now(&app->auth));
        rc = r2 == RC_OK ? RC_OK : r2;
    }
    json_decref(body);
    if (rc == RC_NOT_FOUND) {
        http_error(req, res, RC_NOT_FOUND, "refresh_token: no such OAuth session");
        return;
    }
    if (rc != RC_OK) {
        api_store_error(req, res, rc);
        return;
    }
    api_audit(req, "oauth.logout", NULL, NULL);
    http_reply(res, 200, json_pack("{s:s}", "status", "revoked"));
}
