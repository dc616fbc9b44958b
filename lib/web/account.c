/* account.c: sign-up, sign-in and sign-out. Passwords are Argon2id hashes (libsodium's
 * crypto_pwhash_str, interactive limits); failed sign-ins count against the address in the
 * same throttle as failed API authentications. */
#include <pthread.h>
#include <stdio.h>
#include <string.h>

#include <sodium.h>

#include "internal.h"
#include "log.h"
#include "text.h"
#include "banned.h"

void web_home(struct http_request *req, struct http_response *res)
{
    const char *cookie = http_cookie(req, WEB_SESSION_COOKIE);
    web_redirect(res, cookie && *cookie ? "/account/tokens" : "/signin");
    (void)req;
}

static void signin_form(struct http_request *req, struct http_response *res, int status,
                        const char *error, const char *email)
{
    char csrf[DIGEST_HEX_SIZE];
    web_presession_csrf(req, res, csrf);
    struct buf body = BUF_INIT;
    struct tpl_var v[] = {{"csrf", csrf, 0},
                          {"error", error ? error : "", 0},
                          {"error_class", error ? "error" : "hidden", 0},
                          {"email", email ? email : "", 0},
                          {"signup", WEBCFG(req)->signup_open ? "" : "hidden", 0}};
    web_render(&body, "signin.html", v, sizeof v / sizeof v[0]);
    web_page(req, res, status, NULL, "Sign in", &body);
    buf_release(&body);
}

void web_signin_page(struct http_request *req, struct http_response *res)
{
    signin_form(req, res, 200, NULL, NULL);
}

/* A hash to verify against when the email is unknown or has no password, so the answer takes
 * as long as for a wrong password. Made once, on first use. */
static char dummy_hash[crypto_pwhash_STRBYTES];
static pthread_once_t dummy_once = PTHREAD_ONCE_INIT;
static void make_dummy_hash(void)
{
    char pw[24];
    token_random_base62(pw, sizeof pw);
    if (crypto_pwhash_str(dummy_hash, pw, sizeof pw, crypto_pwhash_OPSLIMIT_INTERACTIVE,
                          crypto_pwhash_MEMLIMIT_INTERACTIVE) != 0)
        dummy_hash[0] = '\0';
}

static void throttled(struct http_request *req, struct http_response *res, int left)
{
    char secs[16];
    snprintf(secs, sizeof secs, "%d", left);
    http_add_header(res, "Retry-After", secs);
    web_message(req, res, 429, NULL, "Too many attempts",
                "Too many failed sign-ins from your address. Wait a minute, then try again.",
                "/signin");
}

void web_signin(struct http_request *req, struct http_response *res)
{
    struct api_app *app = APP(req);
    if (web_check_presession_post(req, res) != RC_OK)
        return;
    const char *ip = http_client_ip(req);
    int left = auth_throttle_blocked(app->auth.throttle, ip, auth_now(&app->auth));
    if (left > 0) {
        throttled(req, res, left);
        return;
    }
    char email[STORE_EMAIL_SIZE], password[WEB_PASSWORD_MAX + 1];
    char hash[STORE_PASSWORD_HASH_SIZE] = "";
    struct store_user user;
    enum rc rc = RC_INVALID;
    if (web_field(req, "email", email, sizeof email) != RC_OK ||
        web_field(req, "password", password, sizeof password) != RC_OK || !*email ||
        !*password) {
        signin_form(req, res, 400, "Enter your email and password.", email);
        goto out;
    }
    rc = store_user_password_by_email(app->store, email, &user, hash);
    if (rc != RC_OK && rc != RC_NOT_FOUND) {
        web_message(req, res, 503, NULL, "Unavailable",
                    "The server cannot reach its database. Try again in a moment.", "/signin");
        goto out;
    }
    pthread_once(&dummy_once, make_dummy_hash);
    int ok = crypto_pwhash_str_verify(rc == RC_OK && hash[0] ? hash : dummy_hash, password,
                                      strlen(password)) == 0 &&
             rc == RC_OK && hash[0];
    if (!ok) {
        auth_throttle_fail(app->auth.throttle, ip, auth_now(&app->auth));
        auth_audit(&app->auth, "web.signin_failed", rc == RC_OK ? user.id : NULL, NULL, NULL,
                   ip, NULL);
        signin_form(req, res, 401, "Wrong email or password.", email);
        goto out;
    }
    if (web_session_start(req, res, &user, "") != RC_OK) {
        web_message(req, res, 503, NULL, "Unavailable",
                    "The server cannot reach its database. Try again in a moment.", "/signin");
        goto out;
    }
    auth_audit(&app->auth, "web.signin", user.id, NULL, NULL, ip, NULL);
    char resume[1024]; /* back to the OAuth consent page that sent the browser here */
    web_redirect(res, web_oauth_resume(req, res, resume, sizeof resume) ? resume
                                                                        : "/account/tokens");
out:
    sodium_memzero(password, sizeof password);
}

static void signup_form(struct http_request *req, struct http_response *res, int status,
                        const char *error, const char *email)
{
    if (!WEBCFG(req)->signup_open) {
        web_message(req, res, 403, NULL, "Sign-up is closed",
                    "This server does not take new accounts. Ask its operator for one.",
                    "/signin");
        return;
    }
    char csrf[DIGEST_HEX_SIZE], min[8];
    web_presession_csrf(req, res, csrf);
    snprintf(min, sizeof min, "%d", WEB_PASSWORD_MIN);
    struct buf body = BUF_INIT;
    struct tpl_var v[] = {{"csrf", csrf, 0},
                          {"error", error ? error : "", 0},
                          {"error_class", error ? "error" : "hidden", 0},
                          {"email", email ? email : "", 0},
                          {"min", min, 0}};
    web_render(&body, "signup.html", v, sizeof v / sizeof v[0]);
    web_page(req, res, status, NULL, "Create an account", &body);
    buf_release(&body);
}

void web_signup_page(struct http_request *req, struct http_response *res)
{
    signup_form(req, res, 200, NULL, NULL);
}

/* A slug for the personal organization of email: its local part in [a-z0-9-], then a random
 * suffix when taken. */
static void personal_slug(const char *email, int attempt, char out[STORE_SLUG_SIZE])
{
    size_t j = 0;
    for (const char *p = email; *p && *p != '@' && j < 40; p++) {
        char c = *p;
        if (c >= 'A' && c <= 'Z')
            c = (char)(c - 'A' + 'a');
        if ((c >= 'a' && c <= 'z') || (c >= '0' && c <= '9'))
            out[j++] = c;
        else if (j && out[j - 1] != '-')
            out[j++] = '-';
    }
    while (j && out[j - 1] == '-')
        j--;
    if (!j) {
        memcpy(out, "user", 4);
        j = 4;
    }
    if (attempt) {
        char r[6];
        token_random_base62(r, sizeof r);
        out[j++] = '-';
        for (size_t i = 0; i < sizeof r; i++)
            out[j++] = r[i] >= 'A' && r[i] <= 'Z' ? (char)(r[i] - 'A' + 'a') : r[i];
    }
    out[j] = '\0';
}

void web_signup(struct http_request *req, struct http_response *res)
{
    struct api_app *app = APP(req);
    if (!app->web || !WEBCFG(req)->signup_open) {
        signup_form(req, res, 403, NULL, NULL);
        return;
    }
    if (web_check_presession_post(req, res) != RC_OK)
        return;
    char email[STORE_EMAIL_SIZE], password[WEB_PASSWORD_MAX + 1];
    size_t pwlen = 0;
    enum rc rc = web_field(req, "email", email, sizeof email);
    if (rc != RC_OK || !text_is_email(email)) {
        signup_form(req, res, 400, "Enter a valid email address.", rc == RC_OK ? email : "");
        goto out;
    }
    rc = web_field(req, "password", password, sizeof password);
    pwlen = rc == RC_OK ? strlen(password) : 0;
    if (rc != RC_OK || pwlen < WEB_PASSWORD_MIN || !text_is_clean_utf8(password, pwlen)) {
        char msg[96];
        snprintf(msg, sizeof msg, "Choose a password of %d to %d characters.", WEB_PASSWORD_MIN,
                 WEB_PASSWORD_MAX);
        signup_form(req, res, 400, msg, email);
        goto out;
    }
    char hash[STORE_PASSWORD_HASH_SIZE];
    if (crypto_pwhash_str(hash, password, pwlen, crypto_pwhash_OPSLIMIT_INTERACTIVE,
                          crypto_pwhash_MEMLIMIT_INTERACTIVE) != 0) {
        http_error(req, res, RC_NOMEM, "cannot hash the password");
        goto out;
    }
    struct store_user user = {0};
    token_new_id("usr_", user.id);
    store_copy_field(user.email, sizeof user.email, email);
    user.created_at = auth_now(&app->auth);
    rc = store_user_create(app->store, &user);
    if (rc == RC_CONFLICT) {
        signup_form(req, res, 409,
                    "An account with this email already exists. Sign in instead.", email);
        goto out;
    }
    if (rc == RC_OK)
        rc = store_user_set_password(app->store, user.id, hash);
    /* A personal organization, its new owner as admin. */
    struct store_org org = {0};
    for (int attempt = 0; rc == RC_OK && attempt < 5; attempt++) {
        token_new_id("org_", org.id);
        personal_slug(email, attempt, org.name);
        snprintf(org.verbose_name, sizeof org.verbose_name, "%.100s (personal)", org.name);
        org.created_at = user.created_at;
        rc = store_org_create(app->store, &org);
        if (rc != RC_CONFLICT)
            break;
        rc = RC_OK;
        org.id[0] = '\0';
    }
    if (rc == RC_OK && !org.id[0])
        rc = RC_CONFLICT;
    if (rc == RC_OK)
        rc = store_membership_put(app->store, user.id, org.id, "admin", user.created_at);
    if (rc == RC_OK)
        rc = web_session_start(req, res, &user, org.id);
    if (rc != RC_OK) {
        web_message(req, res, 503, NULL, "Unavailable",
                    "The account could not be created. Try again in a moment.", "/signup");
        goto out;
    }
    auth_audit(&app->auth, "web.signup", user.id, NULL, org.id, http_client_ip(req), NULL);
    web_redirect(res, "/account/tokens");
out:
    sodium_memzero(password, sizeof password);
}

void web_signout(struct http_request *req, struct http_response *res)
{
    struct web_ctx ctx;
    if (web_session_require(req, res, &ctx) != RC_OK)
        return;
    if (web_check_post(req, res, &ctx) == RC_OK) {
        web_session_end(req, res, &ctx);
        auth_audit(&APP(req)->auth, "web.signout", ctx.user.id, NULL, NULL, http_client_ip(req),
                   NULL);
        web_redirect(res, "/signin");
    }
    web_ctx_release(&ctx);
}
