/* auth.c: bearer verification, PAT issuance and revocation, and audit records (see auth.h). */
#include "auth.h"
#include "account.h"

#include <stdio.h>
#include <string.h>
#include <strings.h>
#include <time.h>

#include <jansson.h>
#include <sodium.h>

#include "log.h"
#include "text.h"
#include "banned.h"

static int64_t system_clock(void *ctx)
{
    (void)ctx;
    return (int64_t)time(NULL);
}

enum rc auth_init(struct auth *a, struct store *st, const struct digest_key *key,
                  const struct auth_limits *limits)
{
    static const struct auth_limits defaults = {30, 60, 60};
    static const struct auth_limits reports = {10, 60, 60}; /* leaked-token reports */
    memset(a, 0, sizeof *a);
    a->store = st;
    a->key = *key;
    a->clock = system_clock;
    a->throttle = auth_throttle_new(limits ? limits : &defaults);
    a->report_throttle = auth_throttle_new(&reports);
    a->seen = auth_seen_new();
    a->account_throttle = auth_throttle_new(&auth_account_defaults);
    a->signup_throttle = auth_throttle_new(&auth_signup_defaults);
    a->mailer = auth_mailer_log_new();
    if (!a->throttle || !a->report_throttle || !a->seen || !a->account_throttle ||
        !a->signup_throttle || !a->mailer) {
        auth_release(a);
        return RC_NOMEM;
    }
    return RC_OK;
}

void auth_release(struct auth *a)
{
    sodium_memzero(&a->key, sizeof a->key);
    auth_throttle_free(a->throttle);
    a->throttle = NULL;
    auth_throttle_free(a->report_throttle);
    a->report_throttle = NULL;
    auth_seen_free(a->seen);
    a->seen = NULL;
    auth_throttle_free(a->account_throttle);
    a->account_throttle = NULL;
    auth_throttle_free(a->signup_throttle);
    a->signup_throttle = NULL;
    auth_mailer_free(a->mailer);
    a->mailer = NULL;
}

int64_t auth_now(const struct auth *a) { return a->clock(a->clock_ctx); }

void auth_audit(struct auth *a, const char *event, const char *user_id, const char *token_id,
                const char *org_id, const char *ip, const char *detail)
{
    struct store_audit ev = {0};
    ev.at = auth_now(a);
    store_copy_field(ev.event, sizeof ev.event, event);
    store_copy_field(ev.user_id, sizeof ev.user_id, user_id);
    store_copy_field(ev.token_id, sizeof ev.token_id, token_id);
    store_copy_field(ev.org_id, sizeof ev.org_id, org_id);
    store_copy_field(ev.ip, sizeof ev.ip, ip);
    store_copy_field(ev.detail, sizeof ev.detail, detail ? detail : "{}");
    enum rc rc = store_audit_append(a->store, &ev);
    if (rc != RC_OK)
        log_error("audit: cannot record %s: %s", event, rc_name(rc));
}

/* Record a failed attempt: count it against ip and audit the reason (never the token). */
static enum rc reject(struct auth *a, const char *ip, const char *reason,
                      const struct store_token *tok)
{
    char detail[96];
    snprintf(detail, sizeof detail, "{\"reason\":\"%s\"}", reason);
    auth_throttle_fail(a->throttle, ip ? ip : "", auth_now(a));
    /* An expired token's owner sees the attempt as its own event in their audit log. */
    auth_audit(a, strcmp(reason, "expired") == 0 ? "token.expired_use" : "auth.failed",
               tok ? tok->user_id : NULL, tok ? tok->id : NULL, tok ? tok->org_id : NULL, ip,
               detail);
    return RC_UNAUTHORIZED;
}

enum rc auth_verify_bearer(struct auth *a, const char *authorization, const char *ip,
                           const char *user_agent, struct auth_principal *out, int *retry_after)
{
    int64_t now = auth_now(a);
    if (!authorization || !*authorization)
        return RC_UNAUTHORIZED; /* no credential presented: nothing to count or audit */
    int left = auth_throttle_blocked(a->throttle, ip ? ip : "", now);
    if (left > 0) {
        if (retry_after)
            *retry_after = left;
        return RC_THROTTLED;
    }
    if (strncasecmp(authorization, "Bearer ", 7) != 0)
        return reject(a, ip, "scheme", NULL);
    const char *token = authorization + 7;
    while (*token == ' ')
        token++;
    size_t len = strnlen(token, TOKEN_MAX_LEN + 1);
    enum token_kind kind;
    enum rc rc = token_parse(token, len, &kind);
    if (rc != RC_OK) /* rejected offline: storage is never touched for malformed tokens */
        return reject(a, ip, rc == RC_TOKEN_CHECKSUM ? "checksum" : "malformed", NULL);
    if (kind != TOKEN_KIND_PAT && kind != TOKEN_KIND_OAUTH_ACCESS) /* never a refresh token */
        return reject(a, ip, "kind", NULL);

    char digest[DIGEST_HEX_SIZE];
    digest_secret(&a->key, token, len, digest);
    rc = store_token_lookup(a->store, digest, &out->token, &out->user);
    if (rc == RC_NOT_FOUND)
        return reject(a, ip, "unknown", NULL);
    if (rc != RC_OK)
        return rc;
    /* The index lookup found the row; confirm in constant time all the same. Either the
     * current secret matched, or the one it replaced at its last rotation. */
    int previous = 0;
    if (!digest_equal(digest, out->token.digest)) {
        if (!out->token.previous_digest[0] || !digest_equal(digest, out->token.previous_digest))
            return reject(a, ip, "unknown", NULL);
        previous = 1;
    }
    if (out->token.kind != (int)kind)
        return reject(a, ip, "kind", NULL);
    if (out->token.revoked_at)
        return reject(a, ip, "revoked", &out->token);
    if (out->token.expires_at && out->token.expires_at <= now)
        return reject(a, ip, "expired", &out->token);
    if (previous && out->token.previous_expires_at <= now)
        return reject(a, ip, "rotated", &out->token);

    /* First use from an address: recorded once per (token, address); the seen set keeps
     * requests from known addresses off storage. */
    if (!auth_seen_check(a->seen, out->token.id, ip ? ip : "") &&
        store_token_ip_add(a->store, out->token.id, ip ? ip : "", now) == RC_OK)
        auth_audit(a, "token.new_ip", out->token.user_id, out->token.id, out->token.org_id, ip,
                   previous ? "{\"secret\":\"previous\"}" : NULL);

    /* Coalesced last-use stamp: at most one write per token per interval. */
    if (now - out->token.last_used_at >= AUTH_LAST_USED_INTERVAL) {
        rc = store_token_touch(a->store, out->token.id, now, ip, user_agent);
        if (rc != RC_OK)
            log_warn("auth: cannot record last use of %s: %s", out->token.id, rc_name(rc));
        else {
            out->token.last_used_at = now;
            store_copy_field(out->token.last_used_ip, sizeof out->token.last_used_ip, ip);
            store_copy_field(out->token.last_used_agent, sizeof out->token.last_used_agent,
                             user_agent);
        }
    }
    return RC_OK;
}

/* Record a failed attempt with an API key: counted and audited like a PAT failure. */
static enum rc reject_api_key(struct auth *a, const char *ip, const char *reason,
                              const struct store_api_key *key)
{
    char detail[96];
    snprintf(detail, sizeof detail, "{\"reason\":\"%s\",\"credential\":\"apikey\"}", reason);
    auth_throttle_fail(a->throttle, ip ? ip : "", auth_now(a));
    auth_audit(a, "auth.failed", NULL, key ? key->id : NULL, key ? key->org_id : NULL, ip, detail);
    return RC_UNAUTHORIZED;
}

enum rc auth_verify_public_key(struct auth *a, const char *authorization, const char *ip,
                               struct store_api_key *out, int *retry_after)
{
    int64_t now = auth_now(a);
    if (!authorization || !*authorization)
        return RC_UNAUTHORIZED; /* no credential presented: nothing to count or audit */
    int left = auth_throttle_blocked(a->throttle, ip ? ip : "", now);
    if (left > 0) {
        if (retry_after)
            *retry_after = left;
        return RC_THROTTLED;
    }
    if (strncasecmp(authorization, "Bearer ", 7) != 0)
        return reject_api_key(a, ip, "scheme", NULL);
    const char *key = authorization + 7;
    while (*key == ' ')
        key++;
    size_t len = strnlen(key, TOKEN_MAX_LEN + 1);
    enum auth_apikey_kind kind;
    enum rc rc = auth_apikey_parse(key, len, &kind);
    if (rc != RC_OK) /* rejected offline: storage is never touched for malformed keys */
        return reject_api_key(a, ip, rc == RC_TOKEN_CHECKSUM ? "checksum" : "malformed", NULL);
    if (kind != AUTH_APIKEY_PUBLIC)
        return reject_api_key(a, ip, "kind", NULL);

    char digest[DIGEST_HEX_SIZE];
    digest_secret(&a->key, key, len, digest);
    rc = store_api_key_lookup(a->store, digest, out);
    if (rc == RC_NOT_FOUND)
        return reject_api_key(a, ip, "unknown", NULL);
    if (rc != RC_OK)
        return rc;
    if (!digest_equal(digest, out->digest) || strcmp(out->kind, "public") != 0)
        return reject_api_key(a, ip, "unknown", NULL);
    if (out->revoked_at)
        return reject_api_key(a, ip, "revoked", out);
    if (now - out->last_used_at >= AUTH_LAST_USED_INTERVAL) {
        rc = store_api_key_touch(a->store, out->id, now);
        if (rc != RC_OK)
            log_warn("auth: cannot record last use of %s: %s", out->id, rc_name(rc));
        else
            out->last_used_at = now;
    }
    return RC_OK;
}

enum rc auth_check_token_name(const char *name, char *err, size_t errlen)
{
    size_t len = name ? strlen(name) : 0;
    if (len == 0 || len > AUTH_TOKEN_NAME_MAX) {
        snprintf(err, errlen, "token name must be 1 to %d characters", AUTH_TOKEN_NAME_MAX);
        return RC_INVALID;
    }
    if (!text_is_clean_utf8(name, len)) {
        snprintf(err, errlen, "token name must be UTF-8 text without control characters");
        return RC_INVALID;
    }
    if (name[0] == ' ' || name[len - 1] == ' ') {
        snprintf(err, errlen, "token name must not start or end with a space");
        return RC_INVALID;
    }
    return RC_OK;
}

enum rc auth_issue_pat(struct auth *a, const char *user_id, const char *name, const char *ip,
                       char token_out[TOKEN_BUF_SIZE], struct store_token *row_out, char *err,
                       size_t errlen)
{
    const struct auth_pat_spec spec = {.user_id = user_id, .name = name, .scopes = "full"};
    return auth_issue_pat_spec(a, &spec, ip, token_out, row_out, err, errlen);
}

enum rc auth_revoke(struct auth *a, const struct store_token *actor, const char *user_id,
                    const char *token_id, const char *ip, char *err, size_t errlen)
{
    enum rc rc;
    if (actor) {
        struct store_token target;
        if ((rc = store_token_by_id(a->store, user_id, token_id, &target)) != RC_OK)
            return rc;
        if (target.revoked_at)
            return RC_NOT_FOUND;
        if ((rc = auth_check_reach(actor, &target, err, errlen)) != RC_OK)
            return rc;
    }
    rc = store_token_revoke(a->store, user_id, token_id, auth_now(a));
    if (rc == RC_OK)
        auth_audit(a, "token.revoked", user_id, token_id, NULL, ip, NULL);
    /* Revoking an OAuth access token ends its login: the refresh token stops working too. */
    char family[ID_BUF_SIZE];
    if (rc == RC_OK && store_oauth_family_of(a->store, token_id, family) == RC_OK)
        store_oauth_family_revoke(a->store, family, auth_now(a));
    return rc;
}
