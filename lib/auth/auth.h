/* auth.h: credential verification and issuance: bearer tokens checked offline (format,
 * checksum), then by keyed digest against storage, with per-address throttling of failures and
 * an audit record for every failure, issue and revocation. */
#ifndef PCC_AUTH_H
#define PCC_AUTH_H

#include <stdint.h>

#include "digest.h"
#include "rc.h"
#include "store.h"
#include "token.h"

#define AUTH_LAST_USED_INTERVAL 60 /* seconds between stored last-use stamps of one token */
#define AUTH_TOKEN_NAME_MAX 100
#define AUTH_MAX_ACTIVE_TOKENS 500 /* per user, through the API */

struct auth_throttle;

struct auth_limits {
    unsigned failures;        /* failed attempts from one address within window... */
    unsigned window_seconds;  /* ...that trigger a block */
    unsigned block_seconds;   /* how long the address then gets 429 */
};

/* Clock used for every decision (expiry, last use, throttling); tests may replace it. */
typedef int64_t (*auth_clock_fn)(void *ctx);

struct auth {
    struct store *store;
    struct digest_key key;
    struct auth_throttle *throttle;
    auth_clock_fn clock;
    void *clock_ctx;
};

/* Who is calling: the verified token and its owner. */
struct auth_principal {
    struct store_user user;
    struct store_token token;
};

/* Prepare a with its own copy of key. limits NULL: the defaults (30 failures a minute, then a
 * one-minute block). Release with auth_release. */
enum rc auth_init(struct auth *a, struct store *st, const struct digest_key *key,
                  const struct auth_limits *limits);
/* Wipe the key and free the throttle. */
void auth_release(struct auth *a);
/* The current time by a's clock (epoch seconds). */
int64_t auth_now(const struct auth *a);

/* Verify an Authorization header value ("Bearer <token>"). RC_OK fills out. Every failure is
 * RC_UNAUTHORIZED (whatever the cause: missing, malformed, unknown, revoked, expired), except
 * RC_THROTTLED when ip is blocked (*retry_after gets the seconds left) and RC_STORE /
 * RC_UNAVAILABLE when storage fails. Failures are counted against ip and audited. */
enum rc auth_verify_bearer(struct auth *a, const char *authorization, const char *ip,
                           const char *user_agent, struct auth_principal *out,
                           int *retry_after);

/* Validate a token name: 1..AUTH_TOKEN_NAME_MAX bytes of UTF-8 text without control
 * characters. RC_INVALID with a message in err. */
enum rc auth_check_token_name(const char *name, char *err, size_t errlen);

/* Create a PAT for user_id named name: generate, store the digest, audit "token.created".
 * token_out receives the secret (TOKEN_BUF_SIZE bytes; the caller wipes it after showing it
 * once); row_out (may be NULL) the stored row. RC_CONFLICT when an active token of that user
 * already has the name, RC_FORBIDDEN past AUTH_MAX_ACTIVE_TOKENS. */
enum rc auth_issue_pat(struct auth *a, const char *user_id, const char *name, const char *ip,
                       char token_out[TOKEN_BUF_SIZE], struct store_token *row_out, char *err,
                       size_t errlen);

/* Revoke user_id's token token_id (effective on the next request) and audit it.
 * RC_NOT_FOUND when the user has no such active token. */
enum rc auth_revoke(struct auth *a, const char *user_id, const char *token_id, const char *ip);

/* Append an audit event (best effort: a failure is logged, not returned). Any id may be
 * NULL. detail is a JSON object text or NULL; it must never contain a secret. */
void auth_audit(struct auth *a, const char *event, const char *user_id, const char *token_id,
                const char *org_id, const char *ip, const char *detail);

/* --- API keys (apikey.c): "pk_" / "sk_" + 32 base62 random + 6 base62 CRC-32 ------------- */

#define AUTH_APIKEY_PREFIX_LEN 3
#define AUTH_APIKEY_LEN (AUTH_APIKEY_PREFIX_LEN + TOKEN_RANDOM_LEN + TOKEN_CHECKSUM_LEN) /* 41 */
#define AUTH_APIKEY_BUF_SIZE (AUTH_APIKEY_LEN + 1)
#define AUTH_APIKEY_NAME_MAX 100
#define AUTH_MAX_API_KEYS 100 /* active keys per organization */

enum auth_apikey_kind {
    AUTH_APIKEY_PUBLIC, /* pk_: starts sessions of its organization's agents; listed in full */
    AUTH_APIKEY_PRIVATE /* sk_: stored as a digest only, shown once */
};

/* "public" or "private". */
const char *auth_apikey_kind_name(enum auth_apikey_kind kind);
/* Check that (s, len) has an API key's shape (prefix, length, base62, checksum) without
 * touching storage. RC_OK and *kind set, RC_TOKEN_FORMAT or RC_TOKEN_CHECKSUM. */
enum rc auth_apikey_parse(const char *s, size_t len, enum auth_apikey_kind *kind);

/* Create an API key of kind named name for org_id on behalf of user_id, store it (a public key
 * with its value, a private one as its digest only) and audit "apikey.created". key_out gets
 * the key (the caller wipes it after showing it once); row_out the stored row. RC_INVALID for
 * a bad name, RC_FORBIDDEN past AUTH_MAX_API_KEYS active keys, with err saying why. */
enum rc auth_issue_api_key(struct auth *a, const char *org_id, const char *user_id,
                           enum auth_apikey_kind kind, const char *name, const char *ip,
                           char key_out[AUTH_APIKEY_BUF_SIZE], struct store_api_key *row_out,
                           char *err, size_t errlen);

/* Revoke org_id's key key_id softly (the row stays, marked revoked) and audit
 * "apikey.revoked". RC_NOT_FOUND unless it is an active key of that organization. */
enum rc auth_revoke_api_key(struct auth *a, const char *org_id, const char *key_id,
                            const char *user_id, const char *ip);

/* Verify an Authorization header carrying a public key ("Bearer pk_..."), as auth_verify_bearer
 * does PATs: the same throttle, constant-time comparison, audit of failures and uniform
 * RC_UNAUTHORIZED (also for private and revoked keys). RC_OK fills out with the key's row. */
enum rc auth_verify_public_key(struct auth *a, const char *authorization, const char *ip,
                               struct store_api_key *out, int *retry_after);

/* --- secret values at rest (seal.c) -------------------------------------------------------- */

/* Secret values are encrypted with crypto_secretbox under a key derived from the server
 * secret for this purpose alone (crypto_kdf context "pccsecrt"), a random nonce per value. */
#define AUTH_SEAL_CONTEXT "pccsecrt"
#define AUTH_SEAL_NONCE_HEX_SIZE 49 /* 24 nonce bytes in hex, plus NUL */

/* Encrypt (value, len): nonce_hex gets the fresh nonce, *cipher_hex a new hex string of the
 * ciphertext (the caller free()s it). RC_NOMEM. */
enum rc auth_seal(const struct auth *a, const void *value, size_t len,
                  char nonce_hex[AUTH_SEAL_NONCE_HEX_SIZE], char **cipher_hex);
/* Decrypt what auth_seal produced: *value_out is a new NUL-terminated buffer of *len_out bytes
 * that the caller wipes (sodium_memzero) and frees. RC_INVALID when it does not authenticate
 * (another server secret, or altered data). */
enum rc auth_unseal(const struct auth *a, const char *nonce_hex, const char *cipher_hex,
                    char **value_out, size_t *len_out);

/* Server secret file: DIGEST_KEY_LEN random bytes, hex-encoded, mode 0600. create fails with
 * RC_CONFLICT if path exists. load refuses a file others can read (RC_FORBIDDEN). */
enum rc auth_key_create(const char *path, char *err, size_t errlen);
enum rc auth_key_load(const char *path, struct digest_key *key, char *err, size_t errlen);

/* Throttle (throttle.c): per-address failure counting; safe from several threads. */
struct auth_throttle *auth_throttle_new(const struct auth_limits *limits);
void auth_throttle_free(struct auth_throttle *t);
/* Seconds ip stays blocked at now (0: not blocked). */
int auth_throttle_blocked(struct auth_throttle *t, const char *ip, int64_t now);
/* Count one failure from ip at now. */
void auth_throttle_fail(struct auth_throttle *t, const char *ip, int64_t now);

#endif
