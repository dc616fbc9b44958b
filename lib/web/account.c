/* account.c: sign-up, sign-in and sign-out. Passwords are Argon2id hashes (libsodium's
 * crypto_pwhash_str, interactive limits); failed sign-ins count against the address (in the same
 * throttle as failed API authentications) and against the account, from every address. Sign-up
 * answers the same whether or not the address has an account: the mail says which. */
#include <pthread.h>
#include <stdio.h>
#include <string.h>

#include <sodium.h>

#include "internal.h"
#include "account.h"
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

static void throttled(struct http_request *req, struct http_response *res, int left,
                      const char *what, const char *back)
{
    char secs[16], msg[200];
    snprintf(secs, sizeof secs, "%d", left);
    http_add_header(res, "Retry-After", secs);
    snprintf(msg, sizeof msg, "%s Wait %d minute%s, then try again.", what, (left + 59) / 60,
             (left + 59) / 60 == 1 ? "" : "s");
    web_message(req, res, 429, NULL, "Too many attempts", msg, back);
}

#define TOO_MANY_SIGNINS "Too many failed sign-ins, from your address or at this account."

void web_signin(struct http_request *req, struct http_response *res)
{
    struct api_app *app = APP(req);
    if (web_check_presession_post(req, res) != RC_OK)
        return;
    const char *ip = http_client_ip(req);
    int left = auth_signin_blocked(&app->auth, ip, NULL);
    if (left > 0) {
        throttled(req, res, left, TOO_MANY_SIGNINS, "/signin");
        return;
    }
    char email[STORE_EMAIL_SIZE], password[WEB_PASSWORD_MAX + 1];
    char hash[STORE_PASSWORD_HASH_SIZE] = "";
    struct store_user user;
    enum rc rc = RC_INVALID;
    if (web_field(req, "email", email, sizeof email) != RC_OK ||
        web_field(req, "password", password, sizeof password) != RC_OK || !*email || !*password) {
        signin_form(req, res, 400, "Enter your email and password.", email);
        goto out;
    }
    /* The account's own budget, kept for any address, with an account or not: once it is
     * spent no password is even checked, so guesses from many addresses stop too. */
    if ((left = auth_signin_blocked(&app->auth, ip, email)) > 0) {
        throttled(req, res, left, TOO_MANY_SIGNINS, "/signin");
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
        auth_signin_failed(&app->auth, ip, email);
        auth_audit(&app->auth, "web.signin_failed", rc == RC_OK ? user.id : NULL, NULL, NULL, ip,
                   NULL);
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
    web_redirect(res,
                 web_oauth_resume(req, res, resume, sizeof resume) ? resume : "/account/tokens");
out:
    sodium_memzero(password, sizeof password);
}

static void signup_form(struct http_request *req, struct http_response *res, int status,
                        const char *error, const char *email)
{
    if (!WEBCFG(req)->signup_open) {
        web_message(req, res, 403, NULL, "Sign-up is closed",
                    "This server does not take new accounts. Ask its operator for one.", "/signin");
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

/* The one answer to a sign-up that got as far as the mail, whether the address was new or
 * already had an account: nothing on the page or in its headers tells them apart. */
static void signup_sent(struct http_request *req, struct http_response *res, const char *email)
{
    char msg[512];
    snprintf(msg, sizeof msg,
             "If %s can receive mail, a message is on its way to it: it has a link to confirm "
             "the address (within 24 hours), or says what to do if it has an account already. "
             "You can sign in meanwhile; an address is confirmed before anyone can invite it "
             "into an organization.",
             email);
    web_message(req, res, 200, NULL, "Check your email", msg, "/signin");
}

/* Make the account of a new address: the user (unverified), a personal organization with its
 * owner as admin, and the link that verifies the address. */
static enum rc create_account(struct api_app *app, struct store_user *user, const char *hash,
                              const char *ip)
{
    enum rc rc = store_signup_user_create(app->store, user, hash);
    if (rc != RC_OK)
        return rc;
    struct store_org org = {0};
    for (int attempt = 0; attempt < 5; attempt++) {
        token_new_id("org_", org.id);
        personal_slug(user->email, attempt, org.name);
        snprintf(org.verbose_name, sizeof org.verbose_name, "%.100s (personal)", org.name);
        org.created_at = user->created_at;
        rc = store_org_create(app->store, &org);
        if (rc != RC_CONFLICT)
            break;
    }
    if (rc == RC_CONFLICT) /* five slugs taken: a failure, not a taken address */
        rc = RC_STORE;
    if (rc == RC_OK)
        rc = store_membership_put(app->store, user->id, org.id, "admin", user->created_at);
    if (rc != RC_OK)
        return rc;
    auth_audit(&app->auth, "web.signup", user->id, NULL, org.id, ip, NULL);
    char err[200];
    if (auth_verification_send(&app->auth, user, app->public_url, ip, err, sizeof err) != RC_OK)
        log_warn("sign-up: cannot send the verification link of %s: %s", user->id, err);
    return RC_OK;
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
    const char *ip = http_client_ip(req);
    char email[STORE_EMAIL_SIZE], password[WEB_PASSWORD_MAX + 1];
    size_t pwlen = 0;
    int left = auth_signup_attempt(&app->auth, ip);
    if (left > 0) {
        throttled(req, res, left, "Too many sign-ups from your address.", "/signup");
        return;
    }
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
    /* The hash is made in every case, so a taken address answers as slowly as a new one. */
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
    rc = create_account(app, &user, hash, ip);
    if (rc == RC_CONFLICT) {
        /* Taken: the owner hears of it by mail; the page is the one a new address gets. */
        char err[200];
        if (auth_signup_taken_send(&app->auth, email, app->public_url, err, sizeof err) != RC_OK)
            log_warn("sign-up: cannot tell an existing account of the attempt: %s", err);
        auth_audit(&app->auth, "web.signup_taken", NULL, NULL, NULL, ip, NULL);
        rc = RC_OK;
    }
    if (rc != RC_OK) {
        web_message(req, res, 503, NULL, "Unavailable",
                    "The account could not be created. Try again in a moment.", "/signup");
        goto out;
    }
    signup_sent(req, res, email);
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
