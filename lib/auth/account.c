/* account.c: email verification links, the invitee's side of invitations, and the sign-in and
 * sign-up budgets (see account.h). The mailers are in mailer.c. */
#include "account.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include <jansson.h>
#include <sodium.h>

#include "log.h"
#include "banned.h"

const struct auth_limits auth_account_defaults = {20, 900, 900};
const struct auth_limits auth_signup_defaults = {10, 3600, 3600};

enum rc auth_set_account_limits(struct auth *a, const struct auth_limits *account,
                                const struct auth_limits *signup)
{
    struct auth_throttle *acct = account ? auth_throttle_new(account) : NULL;
    struct auth_throttle *sign = signup ? auth_throttle_new(signup) : NULL;
    if ((account && !acct) || (signup && !sign)) {
        auth_throttle_free(acct);
        auth_throttle_free(sign);
        return RC_NOMEM;
    }
    if (acct) {
        auth_throttle_free(a->account_throttle);
        a->account_throttle = acct;
    }
    if (sign) {
        auth_throttle_free(a->signup_throttle);
        a->signup_throttle = sign;
    }
    return RC_OK;
}

void auth_set_mailer(struct auth *a, struct auth_mailer *m)
{
    auth_mailer_free(a->mailer);
    a->mailer = m;
}

/* --- budgets ------------------------------------------------------------------------------- */

/* The throttle key of an account: a hash of its lower-cased address (the table keeps no
 * addresses, and any address, with or without an account, has a key). */
static void account_key(const char *email, char out[STORE_IP_SIZE])
{
    unsigned char h[16];
    crypto_generichash_state st;
    crypto_generichash_init(&st, NULL, 0, sizeof h);
    for (const char *p = email; *p; p++) {
        unsigned char c = (unsigned char)*p;
        if (c >= 'A' && c <= 'Z')
            c = (unsigned char)(c - 'A' + 'a');
        crypto_generichash_update(&st, &c, 1);
    }
    crypto_generichash_final(&st, h, sizeof h);
    memcpy(out, "account:", 8);
    sodium_bin2hex(out + 8, STORE_IP_SIZE - 8, h, sizeof h);
}

int auth_signin_blocked(struct auth *a, const char *ip, const char *email)
{
    int64_t now = auth_now(a);
    char key[STORE_IP_SIZE];
    int left = auth_throttle_blocked(a->throttle, ip, now);
    if (email && *email) {
        account_key(email, key);
        int acct = auth_throttle_blocked(a->account_throttle, key, now);
        if (acct > left)
            left = acct;
    }
    return left;
}

void auth_signin_failed(struct auth *a, const char *ip, const char *email)
{
    int64_t now = auth_now(a);
    char key[STORE_IP_SIZE];
    auth_throttle_fail(a->throttle, ip, now);
    if (email && *email) {
        account_key(email, key);
        auth_throttle_fail(a->account_throttle, key, now);
    }
}

int auth_signup_attempt(struct auth *a, const char *ip)
{
    int64_t now = auth_now(a);
    int left = auth_throttle_blocked(a->signup_throttle, ip, now);
    if (left > 0)
        return left;
    auth_throttle_fail(a->signup_throttle, ip, now);
    return 0;
}

/* --- email verification -------------------------------------------------------------------- */

/* The keyed digest of a verification code, in a domain of its own. */
static void code_digest(struct auth *a, const char *code, char out[DIGEST_HEX_SIZE])
{
    char msg[AUTH_VERIFY_CODE_BUF_SIZE + 8];
    int n = snprintf(msg, sizeof msg, "verify:%s", code);
    digest_secret(&a->key, msg, (size_t)n < sizeof msg ? (size_t)n : sizeof msg - 1, out);
    sodium_memzero(msg, sizeof msg);
}

static int code_shape_ok(const char *code)
{
    size_t n = strnlen(code, AUTH_VERIFY_CODE_LEN + 1);
    if (n != AUTH_VERIFY_CODE_LEN)
        return 0;
    for (size_t i = 0; i < n; i++) {
        char c = code[i];
        if (!((c >= '0' && c <= '9') || (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z')))
            return 0;
    }
    return 1;
}

static enum rc send_mail(struct auth *a, const struct auth_mail *mail, char *err, size_t errlen)
{
    if (!a->mailer) {
        snprintf(err, errlen, "no mailer is configured");
        return RC_UNAVAILABLE;
    }
    return a->mailer->send(a->mailer, mail, err, errlen);
}

enum rc auth_verification_send(struct auth *a, const struct store_user *user, const char *base_url,
                               const char *ip, char *err, size_t errlen)
{
    char code[AUTH_VERIFY_CODE_BUF_SIZE], link[1024], text[1536];
    struct store_email_code row = {0};
    token_random_base62(code, AUTH_VERIFY_CODE_LEN);
    code[AUTH_VERIFY_CODE_LEN] = '\0';
    code_digest(a, code, row.digest);
    store_copy_field(row.user_id, sizeof row.user_id, user->id);
    row.created_at = auth_now(a);
    row.expires_at = row.created_at + AUTH_VERIFY_SECONDS;
    enum rc rc = store_email_code_insert(a->store, &row);
    if (rc != RC_OK) {
        snprintf(err, errlen, "cannot store the verification code");
        goto out;
    }
    snprintf(link, sizeof link, "%s/verify-email?code=%s", base_url, code);
    snprintf(text, sizeof text,
             "Someone (we hope you) created an account with this address (%s).\n\n"
             "To confirm the address, open this link within 24 hours and press Confirm:\n\n"
             "%s\n\n"
             "If you did not create the account, ignore this message: the address stays\n"
             "unconfirmed, and nobody can invite that account to an organization.\n",
             user->email, link);
    struct auth_mail mail = {user->email, "Confirm your email address", text, link};
    if ((rc = send_mail(a, &mail, err, errlen)) != RC_OK)
        goto out;
    auth_audit(a, "email.verification_sent", user->id, NULL, NULL, ip, NULL);
out:
    sodium_memzero(code, sizeof code);
    sodium_memzero(link, sizeof link);
    sodium_memzero(text, sizeof text);
    return rc;
}

enum rc auth_signup_taken_send(struct auth *a, const char *email, const char *base_url, char *err,
                               size_t errlen)
{
    char link[600], text[1200];
    snprintf(link, sizeof link, "%s/signin", base_url);
    snprintf(text, sizeof text,
             "Someone tried to create an account with this address (%s), which already has\n"
             "one. Nothing was changed. To use your account, sign in:\n\n%s\n\n"
             "If it was not you, you can ignore this message.\n",
             email, link);
    struct auth_mail mail = {email, "You already have an account", text, link};
    return send_mail(a, &mail, err, errlen);
}

enum rc auth_verification_find(struct auth *a, const char *code, struct store_email_code *out,
                               struct store_user *user)
{
    char digest[DIGEST_HEX_SIZE];
    if (!code || !code_shape_ok(code))
        return RC_NOT_FOUND;
    code_digest(a, code, digest);
    enum rc rc = store_email_code_get(a->store, digest, out);
    if (rc == RC_OK && (out->used_at || out->expires_at <= auth_now(a)))
        rc = RC_CONFLICT;
    if ((rc == RC_OK || rc == RC_CONFLICT) && user) {
        enum rc u = store_user_by_id(a->store, out->user_id, user);
        if (u != RC_OK)
            rc = u;
    }
    return rc;
}

enum rc auth_verification_use(struct auth *a, const char *code, const char *ip,
                              struct store_user *user)
{
    char digest[DIGEST_HEX_SIZE];
    struct store_email_code row;
    if (!code || !code_shape_ok(code))
        return RC_NOT_FOUND;
    code_digest(a, code, digest);
    enum rc rc = store_email_code_take(a->store, digest, auth_now(a), &row);
    if ((rc == RC_OK || rc == RC_CONFLICT) && user) {
        enum rc u = store_user_by_id(a->store, row.user_id, user);
        if (u != RC_OK)
            return u;
    }
    if (rc == RC_OK)
        auth_audit(a, "email.verified", row.user_id, NULL, NULL, ip, NULL);
    return rc;
}

/* --- invitations, as the invitee sees them ------------------------------------------------- */

enum rc auth_invitations_for(struct auth *a, const struct store_user *user,
                             struct store_invitation **list, size_t *count, int *verified)
{
    *list = NULL;
    *count = 0;
    enum rc rc = store_user_email_verified(a->store, user->id, verified);
    if (rc != RC_OK || !*verified)
        return rc;
    return store_invitations_for_email(a->store, user->email, auth_now(a), list, count);
}

enum rc auth_invitation_decide(struct auth *a, const struct store_user *user, const char *id,
                               int accept, const char *token_id, const char *ip,
                               struct store_invitation *out, char *err, size_t errlen)
{
    struct store_invitation row;
    int64_t now = auth_now(a);
    enum rc rc = store_invitation_decide(a->store, id, user->id, accept, now, &row);
    if (rc == RC_NOT_FOUND)
        snprintf(err, errlen, "no invitation of yours has that id");
    if (rc == RC_CONFLICT)
        snprintf(err, errlen, "the invitation to organization '%s' %s", row.org_name,
                 strcmp(row.status, "pending") != 0
                     ? (strcmp(row.status, "revoked") == 0    ? "was withdrawn"
                        : strcmp(row.status, "accepted") == 0 ? "was accepted already"
                                                              : "was declined already")
                     : "has expired: ask an admin of the organization for a new one");
    if (rc != RC_OK)
        return rc;
    json_t *detail = json_pack("{s:s, s:s}", "invitationId", row.id, "role", row.role);
    char *text = detail ? json_dumps(detail, JSON_COMPACT) : NULL;
    auth_audit(a, accept ? "invitation.accepted" : "invitation.declined", user->id, token_id,
               row.org_id, ip, text);
    free(text);
    json_decref(detail);
    if (accept) {
        detail = json_pack("{s:s, s:s, s:s}", "userId", user->id, "role", row.role, "invitationId",
                           row.id);
        text = detail ? json_dumps(detail, JSON_COMPACT) : NULL;
        auth_audit(a, "membership.added", user->id, token_id, row.org_id, ip, text);
        free(text);
        json_decref(detail);
    }
    if (out)
        *out = row;
    return RC_OK;
}
