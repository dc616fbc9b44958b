/* oauth.c: OAuth 2.0 for the CLI, a public client: authorization codes bound to a PKCE S256
 * challenge and a loopback redirect URI, device authorizations for machines without a browser,
 * access tokens (pcc_oat_, short-lived rows of tokens) and refresh tokens (pcc_ort_) that
 * rotate on every use, in families revoked as a whole when a spent refresh token or a spent
 * authorization code comes back (RFC 6749, 7636, 8252, 8628, OAuth 2.0 Security BCP). */
#include "auth.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <sodium.h>

#include "log.h"
#include "banned.h"

/* The subkey that derives a refresh token's successors (successors()). */
#define SUCCESSOR_CONTEXT "pccrefsc"
#define SUCCESSOR_SUBKEY_ID 1

int auth_oauth_redirect_ok(const char *uri)
{
    static const char prefix[] = "http://127.0.0.1:";
    static const char path[] = "/oauth_callback";
    if (!uri || strncmp(uri, prefix, sizeof prefix - 1) != 0)
        return 0;
    const char *p = uri + sizeof prefix - 1;
    unsigned long port = 0;
    size_t digits = 0;
    while (*p >= '0' && *p <= '9' && digits < 6) {
        port = port * 10 + (unsigned long)(*p - '0');
        p++;
        digits++;
    }
    if (digits == 0 || digits > 5 || uri[sizeof prefix - 1] == '0' || port < 1 || port > 65535)
        return 0;
    return strcmp(p, path) == 0;
}

static int urlsafe_char(char c)
{
    return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '-' ||
           c == '_';
}

int auth_oauth_challenge_ok(const char *challenge)
{
    if (!challenge || strlen(challenge) != 43)
        return 0;
    for (const char *p = challenge; *p; p++)
        if (!urlsafe_char(*p))
            return 0;
    return 1;
}

/* RFC 7636: 43..128 characters of [A-Z a-z 0-9 - . _ ~]. */
static int verifier_ok(const char *v)
{
    size_t n = v ? strlen(v) : 0;
    if (n < 43 || n > 128)
        return 0;
    for (size_t i = 0; i < n; i++)
        if (!urlsafe_char(v[i]) && v[i] != '.' && v[i] != '~')
            return 0;
    return 1;
}

/* The keyed digest of a code, in a domain of its own. */
static void code_digest(struct auth *a, const char *code, char out[DIGEST_HEX_SIZE])
{
    char msg[AUTH_OAUTH_CODE_BUF_SIZE + 8];
    int n = snprintf(msg, sizeof msg, "code:%s", code);
    digest_secret(&a->key, msg, (size_t)n < sizeof msg ? (size_t)n : sizeof msg - 1, out);
    sodium_memzero(msg, sizeof msg);
}

enum rc auth_oauth_code_issue(struct auth *a, const char *user_id, const char *redirect_uri,
                              const char *challenge, const char *scopes, const char *ip,
                              char code_out[AUTH_OAUTH_CODE_BUF_SIZE])
{
    if (!auth_oauth_redirect_ok(redirect_uri) || !auth_oauth_challenge_ok(challenge))
        return RC_INVALID;
    struct store_oauth_code row = {0};
    token_random_base62(code_out, AUTH_OAUTH_CODE_LEN);
    code_out[AUTH_OAUTH_CODE_LEN] = '\0';
    code_digest(a, code_out, row.digest);
    store_copy_field(row.user_id, sizeof row.user_id, user_id);
    store_copy_field(row.client_id, sizeof row.client_id, AUTH_OAUTH_CLIENT_ID);
    store_copy_field(row.redirect_uri, sizeof row.redirect_uri, redirect_uri);
    store_copy_field(row.code_challenge, sizeof row.code_challenge, challenge);
    store_copy_field(row.scopes, sizeof row.scopes, scopes && *scopes ? scopes : "full");
    token_new_id("fam_", row.family_id); /* what a replay of this code revokes */
    row.created_at = auth_now(a);
    row.expires_at = row.created_at + AUTH_OAUTH_CODE_SECONDS;
    enum rc rc = store_oauth_code_insert(a->store, &row);
    if (rc != RC_OK) {
        sodium_memzero(code_out, AUTH_OAUTH_CODE_BUF_SIZE);
        return rc;
    }
    auth_audit(a, "oauth.consent", user_id, NULL, NULL, ip,
               "{\"client\":\"" AUTH_OAUTH_CLIENT_ID "\"}");
    return RC_OK;
}

static int64_t access_ttl(const struct auth *a)
{
    return a->oauth_access_seconds > 0 ? a->oauth_access_seconds : AUTH_OAUTH_ACCESS_SECONDS;
}

/* The rows of the access token and refresh token out holds (their secrets), issued at now to
 * user_id in family. */
static void pair_rows(struct auth *a, const char *user_id, const char *scopes, const char *family,
                      int64_t now, const struct auth_oauth_tokens *out, struct store_token *row,
                      struct store_oauth_refresh *rt)
{
    memset(row, 0, sizeof *row);
    token_new_id(TOKEN_ID_PREFIX, row->id);
    store_copy_field(row->user_id, sizeof row->user_id, user_id);
    row->kind = TOKEN_KIND_OAUTH_ACCESS;
    snprintf(row->name, sizeof row->name, "CLI login (%s)", family + 4);
    token_display(out->access, TOKEN_LEN, row->display);
    digest_secret(&a->key, out->access, TOKEN_LEN, row->digest);
    store_copy_field(row->scopes, sizeof row->scopes, scopes);
    row->created_at = now;
    row->expires_at = now + access_ttl(a);

    memset(rt, 0, sizeof *rt);
    digest_secret(&a->key, out->refresh, TOKEN_LEN, rt->digest);
    store_copy_field(rt->family_id, sizeof rt->family_id, family);
    store_copy_field(rt->user_id, sizeof rt->user_id, user_id);
    store_copy_field(rt->client_id, sizeof rt->client_id, AUTH_OAUTH_CLIENT_ID);
    store_copy_field(rt->scopes, sizeof rt->scopes, scopes);
    rt->created_at = now;
    rt->expires_at = now + AUTH_OAUTH_REFRESH_SECONDS;
}

/* Issue an access + refresh token pair for user_id in family (a fresh id when family_in is
 * ""); fresh: this pair starts the login (an authorization) rather than refreshing it. */
static enum rc issue_pair(struct auth *a, const char *user_id, const char *scopes,
                          const char *family_in, int fresh, const char *ip,
                          struct auth_oauth_tokens *out)
{
    int64_t now = auth_now(a);
    int64_t ttl = access_ttl(a);
    char family[ID_BUF_SIZE];
    if (family_in && *family_in)
        store_copy_field(family, sizeof family, family_in);
    else
        token_new_id("fam_", family);

    struct store_token row;
    struct store_oauth_refresh rt;
    token_generate(TOKEN_KIND_OAUTH_ACCESS, out->access);
    token_generate(TOKEN_KIND_OAUTH_REFRESH, out->refresh);
    pair_rows(a, user_id, scopes, family, now, out, &row, &rt);
    enum rc rc = store_token_insert(a->store, &row);
    if (rc == RC_OK)
        rc = store_oauth_access_link(a->store, row.id, family);
    if (rc == RC_OK)
        rc = store_oauth_refresh_insert(a->store, &rt);
    if (rc != RC_OK) {
        store_oauth_family_revoke(a->store, family, now); /* nothing half-issued stays usable */
        sodium_memzero(out, sizeof *out);
        return rc;
    }
    out->expires_in = ttl;
    store_copy_field(out->scopes, sizeof out->scopes, scopes);
    char detail[128];
    snprintf(detail, sizeof detail, "{\"client\":\"%s\",\"family\":\"%s\"}", AUTH_OAUTH_CLIENT_ID,
             family);
    auth_audit(a, fresh ? "oauth.login" : "oauth.refreshed", user_id, row.id, NULL, ip, detail);
    return RC_OK;
}

static enum rc refuse(struct auth *a, const char *ip, char *err, size_t errlen, const char *why)
{
    snprintf(err, errlen, "%s", why);
    auth_throttle_fail(a->throttle, ip ? ip : "", auth_now(a));
    return RC_INVALID;
}

enum rc auth_oauth_exchange(struct auth *a, const char *code, const char *client_id,
                            const char *redirect_uri, const char *verifier, const char *ip,
                            struct auth_oauth_tokens *out, char *err, size_t errlen)
{
    int64_t now = auth_now(a);
    if (!code || strlen(code) != AUTH_OAUTH_CODE_LEN)
        return refuse(a, ip, err, errlen, "code: unknown, expired or already used");
    if (!client_id || strcmp(client_id, AUTH_OAUTH_CLIENT_ID) != 0)
        return refuse(a, ip, err, errlen, "client_id: unknown client");
    if (!verifier_ok(verifier))
        return refuse(a, ip, err, errlen, "code_verifier: missing or malformed");
    char digest[DIGEST_HEX_SIZE];
    code_digest(a, code, digest);
    struct store_oauth_code row;
    enum rc rc = store_oauth_code_take(a->store, digest, now, &row);
    if (rc == RC_CONFLICT) {
        /* A replayed code: someone else may hold it, so the login its first exchange started
         * ends too (RFC 6749 4.1.2), and the user sees it in the audit log. */
        char detail[96] = "";
        if (row.family_id[0] && store_oauth_family_revoke(a->store, row.family_id, now) == RC_OK)
            snprintf(detail, sizeof detail, "{\"family\":\"%s\",\"reason\":\"code_replay\"}",
                     row.family_id);
        auth_audit(a, "oauth.code_replayed", row.user_id, NULL, NULL, ip,
                   detail[0] ? detail : NULL);
        if (detail[0])
            auth_audit(a, "oauth.family_revoked", row.user_id, NULL, NULL, ip, detail);
        log_warn("auth: authorization code replayed%s", detail[0] ? "; its login was revoked" : "");
        return refuse(a, ip, err, errlen, "code: unknown, expired or already used");
    }
    if (rc == RC_NOT_FOUND)
        return refuse(a, ip, err, errlen, "code: unknown, expired or already used");
    if (rc != RC_OK)
        return rc;
    if (!digest_equal(digest, row.digest) || row.expires_at <= now)
        return refuse(a, ip, err, errlen, "code: unknown, expired or already used");
    if (!redirect_uri || strcmp(redirect_uri, row.redirect_uri) != 0)
        return refuse(a, ip, err, errlen, "redirect_uri: does not match the authorization request");
    /* PKCE S256: BASE64URL(SHA-256(verifier)) must equal the challenge. */
    unsigned char hash[crypto_hash_sha256_BYTES];
    crypto_hash_sha256(hash, (const unsigned char *)verifier, strlen(verifier));
    char computed[64];
    sodium_bin2base64(computed, sizeof computed, hash, sizeof hash,
                      sodium_base64_VARIANT_URLSAFE_NO_PADDING);
    if (strlen(row.code_challenge) != 43 || strlen(computed) != 43 ||
        sodium_memcmp(computed, row.code_challenge, 43) != 0) {
        auth_audit(a, "oauth.pkce_failed", row.user_id, NULL, NULL, ip, NULL);
        return refuse(a, ip, err, errlen, "code_verifier: does not match the code challenge");
    }
    return issue_pair(a, row.user_id, row.scopes, row.family_id, 1, ip, out);
}

/* The successors of the refresh token refresh: derived from it under a subkey of the server
 * secret kept for this alone, so every refresh with one refresh token (the one that spends it
 * and those racing it within the grace window) computes the same pair, and no secret is
 * stored. Refresh tokens are 190 random bits, so the pair is as unguessable as a drawn one. */
static void successors(struct auth *a, const char *refresh, size_t len,
                       struct auth_oauth_tokens *out)
{
    unsigned char key[crypto_generichash_KEYBYTES], seed[TOKEN_SEED_LEN];
    crypto_generichash_state h;
    crypto_kdf_derive_from_key(key, sizeof key, SUCCESSOR_SUBKEY_ID, SUCCESSOR_CONTEXT,
                               a->key.bytes);
    for (int next = 0; next < 2; next++) {
        const char *purpose = next ? "refresh:" : "access:";
        crypto_generichash_init(&h, key, sizeof key, sizeof seed);
        crypto_generichash_update(&h, (const unsigned char *)purpose, strlen(purpose));
        crypto_generichash_update(&h, (const unsigned char *)refresh, len);
        crypto_generichash_final(&h, seed, sizeof seed);
        if (next)
            token_derive(TOKEN_KIND_OAUTH_REFRESH, seed, out->refresh);
        else
            token_derive(TOKEN_KIND_OAUTH_ACCESS, seed, out->access);
    }
    sodium_memzero(key, sizeof key);
    sodium_memzero(seed, sizeof seed);
    sodium_memzero(&h, sizeof h);
}

/* Whether next (the successor secret) is still the live end of its family: unspent and not
 * revoked. Only then may a repeated refresh hand it out again. */
static int successor_alive(struct auth *a, const char *next)
{
    char digest[DIGEST_HEX_SIZE];
    struct store_oauth_refresh row;
    digest_secret(&a->key, next, TOKEN_LEN, digest);
    return store_oauth_refresh_get(a->store, digest, &row) == RC_OK &&
           digest_equal(digest, row.digest) && !row.used_at && !row.revoked_at;
}

enum rc auth_oauth_refresh(struct auth *a, const char *refresh, const char *client_id,
                           const char *ip, struct auth_oauth_tokens *out, char *err, size_t errlen)
{
    int64_t now = auth_now(a);
    enum token_kind kind;
    size_t len = refresh ? strnlen(refresh, TOKEN_MAX_LEN + 1) : 0;
    if (!refresh || token_parse(refresh, len, &kind) != RC_OK || kind != TOKEN_KIND_OAUTH_REFRESH)
        return refuse(a, ip, err, errlen, "refresh_token: unknown, expired or revoked");
    if (!client_id || strcmp(client_id, AUTH_OAUTH_CLIENT_ID) != 0)
        return refuse(a, ip, err, errlen, "client_id: unknown client");
    char digest[DIGEST_HEX_SIZE], detail[128];
    digest_secret(&a->key, refresh, len, digest);
    struct store_oauth_refresh row;
    enum rc rc = store_oauth_refresh_get(a->store, digest, &row);
    if (rc == RC_NOT_FOUND)
        return refuse(a, ip, err, errlen, "refresh_token: unknown, expired or revoked");
    if (rc != RC_OK)
        return rc;
    if (!digest_equal(digest, row.digest) || row.revoked_at || row.expires_at <= now)
        return refuse(a, ip, err, errlen, "refresh_token: unknown, expired or revoked");
    successors(a, refresh, len, out);
    out->expires_in = access_ttl(a);
    store_copy_field(out->scopes, sizeof out->scopes, row.scopes);
    snprintf(detail, sizeof detail, "{\"client\":\"%s\",\"family\":\"%s\"}", AUTH_OAUTH_CLIENT_ID,
             row.family_id);
    if (!row.used_at) {
        /* Spend it and write its successors in one transaction: one caller wins. */
        struct store_token access;
        struct store_oauth_refresh next;
        pair_rows(a, row.user_id, row.scopes, row.family_id, now, out, &access, &next);
        rc = store_oauth_refresh_rotate(a->store, digest, now, &access, &next, &row);
        if (rc == RC_OK) {
            auth_audit(a, "oauth.refreshed", row.user_id, access.id, NULL, ip, detail);
            return RC_OK;
        }
        if (rc != RC_CONFLICT || !row.used_at) { /* a store failure, or revoked meanwhile */
            sodium_memzero(out, sizeof *out);
            return rc == RC_CONFLICT
                       ? refuse(a, ip, err, errlen, "refresh_token: unknown, expired or revoked")
                       : rc;
        }
    }
    /* Spent. Parallel commands of one CLI refresh with the same token at once: within the grace
     * window, while its successor is still the family's live end, they get the same pair. */
    if (!row.revoked_at && now - row.used_at <= AUTH_OAUTH_REFRESH_GRACE_SECONDS &&
        successor_alive(a, out->refresh)) {
        out->expires_in = row.used_at + access_ttl(a) - now;
        snprintf(detail, sizeof detail, "{\"client\":\"%s\",\"family\":\"%s\",\"repeated\":true}",
                 AUTH_OAUTH_CLIENT_ID, row.family_id);
        auth_audit(a, "oauth.refreshed", row.user_id, NULL, NULL, ip, detail);
        return RC_OK;
    }
    sodium_memzero(out, sizeof *out);
    if (!row.revoked_at) {
        /* Reuse of a spent refresh token: someone holds a copy. End the whole login. */
        store_oauth_family_revoke(a->store, row.family_id, now);
        snprintf(detail, sizeof detail, "{\"family\":\"%s\",\"reason\":\"reuse\"}", row.family_id);
        auth_audit(a, "oauth.family_revoked", row.user_id, NULL, NULL, ip, detail);
        log_warn("auth: refresh token reuse; family %s revoked", row.family_id);
    }
    return refuse(a, ip, err, errlen, "refresh_token: unknown, expired or revoked");
}

enum rc auth_oauth_revoke_refresh(struct auth *a, const char *refresh, const char *ip)
{
    int64_t now = auth_now(a);
    enum token_kind kind;
    size_t len = refresh ? strnlen(refresh, TOKEN_MAX_LEN + 1) : 0;
    if (!refresh || token_parse(refresh, len, &kind) != RC_OK || kind != TOKEN_KIND_OAUTH_REFRESH)
        return RC_NOT_FOUND;
    char digest[DIGEST_HEX_SIZE];
    digest_secret(&a->key, refresh, len, digest);
    struct store_oauth_refresh row;
    enum rc rc = store_oauth_refresh_take(a->store, digest, now, &row);
    if (rc != RC_OK && rc != RC_CONFLICT)
        return rc;
    if (!digest_equal(digest, row.digest))
        return RC_NOT_FOUND;
    if ((rc = store_oauth_family_revoke(a->store, row.family_id, now)) != RC_OK)
        return rc;
    char detail[96];
    snprintf(detail, sizeof detail, "{\"family\":\"%s\",\"reason\":\"logout\"}", row.family_id);
    auth_audit(a, "oauth.family_revoked", row.user_id, NULL, NULL, ip, detail);
    return RC_OK;
}

enum rc auth_oauth_revoke_user(struct auth *a, const char *user_id, const char *ip)
{
    enum rc rc = store_oauth_revoke_user(a->store, user_id, auth_now(a));
    if (rc == RC_OK)
        auth_audit(a, "oauth.revoked_all", user_id, NULL, NULL, ip, NULL);
    return rc;
}

/* --- device authorization grant (RFC 8628) ----------------------------------------------- */

/* Consonants without vowels (no words) and without look-alikes of digits (RFC 8628 6.1). */
static const char user_code_alphabet[] = "BCDFGHJKLMNPQRSTVWXZ";

int auth_oauth_user_code_normalize(const char *typed, char out[AUTH_OAUTH_USER_CODE_LEN + 1])
{
    size_t n = 0;
    for (const char *p = typed ? typed : ""; *p; p++) {
        if (*p == '-' || *p == ' ')
            continue;
        char c = *p >= 'a' && *p <= 'z' ? (char)(*p - 'a' + 'A') : *p;
        if (n == AUTH_OAUTH_USER_CODE_LEN || !c || !strchr(user_code_alphabet, c))
            return 0;
        out[n++] = c;
    }
    out[n] = '\0';
    return n == AUTH_OAUTH_USER_CODE_LEN;
}

/* The keyed digests of a device code and of a (normalized) user code, in domains of their own. */
static void device_digest(struct auth *a, const char *purpose, const char *code,
                          char out[DIGEST_HEX_SIZE])
{
    char msg[AUTH_OAUTH_CODE_BUF_SIZE + 16];
    int n = snprintf(msg, sizeof msg, "%s:%s", purpose, code);
    digest_secret(&a->key, msg, (size_t)n < sizeof msg ? (size_t)n : sizeof msg - 1, out);
    sodium_memzero(msg, sizeof msg);
}

/* 1 when every word of scopes is a scope we know. */
static int scopes_ok(const char *scopes, char *err, size_t errlen)
{
    const char *p = scopes;
    while (*p) {
        size_t n = strcspn(p, " ");
        char name[48];
        snprintf(name, sizeof name, "%.*s", (int)(n < 47 ? n : 47), p);
        if (n >= 47 || auth_check_scope(name, err, errlen) != RC_OK)
            return 0;
        p += n;
        while (*p == ' ')
            p++;
    }
    return 1;
}

enum rc auth_oauth_device_start(struct auth *a, const char *client_id, const char *scopes,
                                const char *ip, struct auth_oauth_device_grant *out,
                                char oauth_error[AUTH_OAUTH_ERROR_SIZE], char *err, size_t errlen)
{
    memset(out, 0, sizeof *out);
    if (!client_id || strcmp(client_id, AUTH_OAUTH_CLIENT_ID) != 0) {
        snprintf(oauth_error, AUTH_OAUTH_ERROR_SIZE, "invalid_client");
        return refuse(a, ip, err, errlen, "client_id: unknown client");
    }
    const char *want = scopes && *scopes ? scopes : "full";
    if (strlen(want) >= STORE_SCOPES_SIZE || !scopes_ok(want, err, errlen)) {
        snprintf(oauth_error, AUTH_OAUTH_ERROR_SIZE, "invalid_scope");
        if (strlen(want) >= STORE_SCOPES_SIZE)
            snprintf(err, errlen, "scope: too long");
        return RC_INVALID;
    }
    struct store_oauth_device row = {0};
    store_copy_field(row.client_id, sizeof row.client_id, client_id);
    store_copy_field(row.scopes, sizeof row.scopes, want);
    row.created_at = auth_now(a);
    row.expires_at = row.created_at + AUTH_OAUTH_DEVICE_SECONDS;
    row.interval_s = AUTH_OAUTH_DEVICE_INTERVAL;
    enum rc rc = RC_CONFLICT;
    /* A user code is short, so two live ones may collide: draw again. */
    for (int attempt = 0; attempt < 4 && rc == RC_CONFLICT; attempt++) {
        char letters[AUTH_OAUTH_USER_CODE_LEN + 1];
        for (size_t i = 0; i < AUTH_OAUTH_USER_CODE_LEN; i++)
            letters[i] = user_code_alphabet[randombytes_uniform(sizeof user_code_alphabet - 1)];
        letters[AUTH_OAUTH_USER_CODE_LEN] = '\0';
        snprintf(out->user_code, sizeof out->user_code, "%.4s-%.4s", letters, letters + 4);
        token_random_base62(out->device_code, AUTH_OAUTH_CODE_LEN);
        out->device_code[AUTH_OAUTH_CODE_LEN] = '\0';
        device_digest(a, "device", out->device_code, row.digest);
        device_digest(a, "user_code", letters, row.user_code);
        rc = store_oauth_device_insert(a->store, &row);
        sodium_memzero(letters, sizeof letters);
    }
    if (rc != RC_OK) {
        sodium_memzero(out, sizeof *out);
        return rc == RC_CONFLICT ? RC_INTERNAL : rc;
    }
    out->expires_in = AUTH_OAUTH_DEVICE_SECONDS;
    out->interval = AUTH_OAUTH_DEVICE_INTERVAL;
    return RC_OK;
}

enum rc auth_oauth_device_find(struct auth *a, const char *user_code,
                               struct store_oauth_device *out)
{
    char digest[DIGEST_HEX_SIZE];
    device_digest(a, "user_code", user_code, digest);
    enum rc rc = store_oauth_device_by_user_code(a->store, digest, out);
    if (rc == RC_OK && !digest_equal(digest, out->user_code))
        rc = RC_NOT_FOUND;
    return rc;
}

enum rc auth_oauth_device_decide(struct auth *a, const char *user_code, const char *user_id,
                                 int approve, const char *ip)
{
    char digest[DIGEST_HEX_SIZE];
    device_digest(a, "user_code", user_code, digest);
    enum rc rc = store_oauth_device_decide(a->store, digest, user_id,
                                           approve ? "approved" : "denied", auth_now(a));
    if (rc == RC_OK)
        auth_audit(a, approve ? "oauth.device_approved" : "oauth.device_denied", user_id, NULL,
                   NULL, ip, "{\"client\":\"" AUTH_OAUTH_CLIENT_ID "\"}");
    return rc;
}

static enum rc device_refuse(struct auth *a, const char *ip,
                             char oauth_error[AUTH_OAUTH_ERROR_SIZE], const char *code, char *err,
                             size_t errlen, const char *why, int counts)
{
    snprintf(oauth_error, AUTH_OAUTH_ERROR_SIZE, "%s", code);
    snprintf(err, errlen, "%s", why);
    if (counts) /* a wrong or spent code; waiting for the user is no failure */
        auth_throttle_fail(a->throttle, ip ? ip : "", auth_now(a));
    return RC_INVALID;
}

enum rc auth_oauth_device_poll(struct auth *a, const char *device_code, const char *client_id,
                               const char *ip, struct auth_oauth_tokens *out,
                               char oauth_error[AUTH_OAUTH_ERROR_SIZE], char *err, size_t errlen)
{
    int64_t now = auth_now(a);
    if (!client_id || strcmp(client_id, AUTH_OAUTH_CLIENT_ID) != 0)
        return device_refuse(a, ip, oauth_error, "invalid_client", err, errlen,
                             "client_id: unknown client", 1);
    if (!device_code || strlen(device_code) != AUTH_OAUTH_CODE_LEN)
        return device_refuse(a, ip, oauth_error, "invalid_grant", err, errlen,
                             "device_code: unknown or already used", 1);
    char digest[DIGEST_HEX_SIZE];
    device_digest(a, "device", device_code, digest);
    struct store_oauth_device row;
    enum rc rc = store_oauth_device_take(a->store, digest, now, &row);
    if (rc == RC_NOT_FOUND ||
        ((rc == RC_OK || rc == RC_CONFLICT) &&
         (!digest_equal(digest, row.digest) || strcmp(row.client_id, client_id) != 0)))
        return device_refuse(a, ip, oauth_error, "invalid_grant", err, errlen,
                             "device_code: unknown or already used", 1);
    if (rc == RC_OK)
        return issue_pair(a, row.user_id, row.scopes, "", 1, ip, out);
    if (rc != RC_CONFLICT)
        return rc;
    if (strcmp(row.status, "used") == 0)
        return device_refuse(a, ip, oauth_error, "invalid_grant", err, errlen,
                             "device_code: unknown or already used", 1);
    if (row.expires_at <= now)
        return device_refuse(a, ip, oauth_error, "expired_token", err, errlen,
                             "device_code: expired; start the sign-in again", 0);
    if (strcmp(row.status, "denied") == 0)
        return device_refuse(a, ip, oauth_error, "access_denied", err, errlen,
                             "the user denied the request", 0);
    /* Pending: a client that polls before its interval is over waits 5 s longer from now on
     * (RFC 8628 3.5). */
    int fast = row.last_poll_at && now - row.last_poll_at < row.interval_s;
    int64_t interval = fast ? row.interval_s + 5 : row.interval_s;
    if ((rc = store_oauth_device_poll(a->store, digest, now, interval)) != RC_OK)
        return rc;
    if (fast) {
        snprintf(err, errlen, "polling too fast; wait %lld seconds between requests",
                 (long long)interval);
        snprintf(oauth_error, AUTH_OAUTH_ERROR_SIZE, "slow_down");
        return RC_INVALID;
    }
    return device_refuse(a, ip, oauth_error, "authorization_pending", err, errlen,
                         "the user has not approved the request yet", 0);
}
