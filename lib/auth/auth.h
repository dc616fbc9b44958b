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
#define AUTH_MAX_ACTIVE_TOKENS 500         /* per user, through the API */
#define AUTH_MAX_GRACE_SECONDS (7 * 86400) /* longest a rotated-out secret keeps working */
#define AUTH_MAX_LIFETIME_DAYS 3650        /* longest expiry a token can be given */
#define AUTH_ROTATE_INTERVAL 10            /* seconds before a token can be rotated again */
#define AUTH_EXPIRY_HEADER "Pipecat-Token-Expiration"

/* What a token may do. A route needs one capability; a token's scopes grant a set:
 * "read" = READ, "deploy" = READ|DEPLOY, "secrets" = READ|SECRETS, "full" = everything. */
enum auth_capability {
    AUTH_CAP_READ = 1u << 0,    /* every GET */
    AUTH_CAP_DEPLOY = 1u << 1,  /* agents, deployments and sessions */
    AUTH_CAP_SECRETS = 1u << 2, /* secret sets and image pull secrets */
    AUTH_CAP_FULL = 1u << 3,    /* tokens, API keys, properties, policies, service accounts */
};
#define AUTH_CAP_ALL (AUTH_CAP_READ | AUTH_CAP_DEPLOY | AUTH_CAP_SECRETS | AUTH_CAP_FULL)

struct auth_throttle;
struct auth_seen;

struct auth_limits {
    unsigned failures;       /* failed attempts from one address within window... */
    unsigned window_seconds; /* ...that trigger a block */
    unsigned block_seconds;  /* how long the address then gets 429 */
};

/* Clock used for every decision (expiry, last use, throttling); tests may replace it. */
typedef int64_t (*auth_clock_fn)(void *ctx);

struct auth {
    struct store *store;
    struct digest_key key;
    struct auth_throttle *throttle;
    auth_clock_fn clock;
    void *clock_ctx;
    struct auth_throttle *report_throttle; /* POST /v1/tokens/revoke, per address */
    struct auth_seen *seen;                /* (token, address) pairs known to be recorded */
    int64_t oauth_access_seconds;          /* OAuth access token lifetime; 0: the default */
    /* Accounts (account.h): failed sign-ins per account, sign-ups per address, and where
     * verification links go (owned: auth_release frees it). */
    struct auth_throttle *account_throttle;
    struct auth_throttle *signup_throttle;
    struct auth_mailer *mailer;
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
                           const char *user_agent, struct auth_principal *out, int *retry_after);

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

/* Revoke user_id's token token_id (effective on the next request) and audit it, on behalf of
 * actor (the calling token; NULL for the user themself: a dashboard session, an administrator's
 * command). RC_NOT_FOUND when the user has no such active token; RC_FORBIDDEN (err says why)
 * when it is wider than actor (auth_check_reach). */
enum rc auth_revoke(struct auth *a, const struct store_token *actor, const char *user_id,
                    const char *token_id, const char *ip, char *err, size_t errlen);

/* --- token lifecycle (tokens.c) --------------------------------------------------------- */

/* What a new PAT is to be. scopes: space-separated scope names (NULL or "": "full"); org_id:
 * the one organization it may act in ("" or NULL: unbound); expires_at: 0 for never. */
struct auth_pat_spec {
    const char *user_id;
    const char *name;
    const char *scopes;
    const char *org_id;
    int64_t expires_at;
};

/* The capabilities granted by stored scopes (space-separated names; unknown names grant
 * nothing). */
unsigned auth_scope_caps(const char *scopes);
/* The scope name that grants cap with the least else: "read", "deploy", "secrets", "full". */
const char *auth_capability_scope(unsigned cap);
/* Check one scope name; RC_INVALID (err names it and the valid ones) when it is unknown. */
enum rc auth_check_scope(const char *name, char *err, size_t errlen);
/* Check an expiry for a token created at now: 0 (never), or after now and at most
 * AUTH_MAX_LIFETIME_DAYS ahead. RC_INVALID with err naming field otherwise. */
enum rc auth_check_expiry(int64_t expires_at, int64_t now, const char *field, char *err,
                          size_t errlen);
/* Whether tok may act in an organization with policy p: RC_OK, or RC_FORBIDDEN with err
 * saying which rule it breaks (the token is not revoked: it just cannot act there). */
enum rc auth_check_policy(const struct store_token *tok, const struct store_token_policy *p,
                          const char *org_name, char *err, size_t errlen);

/* Whether the credential actor may act on target (list, rotate or revoke it, or create it):
 * only when target is no wider than actor in scopes (a subset), organization binding (an
 * unbound target is wider than a bound actor; one bound to another organization is out of
 * reach) and expiry (a never-expiring or later-expiring target is wider than an expiring
 * actor). An OAuth access token stands for its login, the user's CLI sign-in, which renews
 * itself: it counts as unbound and never expiring, on either side. RC_OK, or RC_FORBIDDEN with
 * err naming the field in which target is wider. actor NULL (the user themself): RC_OK. */
enum rc auth_check_reach(const struct store_token *actor, const struct store_token *target,
                         char *err, size_t errlen);

/* auth_issue_pat with scopes, org binding and expiry (spec). RC_INVALID for a bad name, scope
 * or expiry (err says which); otherwise as auth_issue_pat. The audit event names the scopes
 * and carries the org. */
enum rc auth_issue_pat_spec(struct auth *a, const struct auth_pat_spec *spec, const char *ip,
                            char token_out[TOKEN_BUF_SIZE], struct store_token *row_out, char *err,
                            size_t errlen);

/* Give user_id's active token token_id a new secret (token_out, shown once) keeping its id,
 * name, scopes, binding and expiry, on behalf of actor (as auth_revoke). The secret it had
 * keeps working for grace_seconds (0..AUTH_MAX_GRACE_SECONDS), then fails; a secret from an
 * earlier rotation stops at once. Audits "token.rotated". RC_NOT_FOUND unless it is an active
 * token of that user; RC_INVALID for an OAuth access token (its login renews itself);
 * RC_FORBIDDEN when it is wider than actor; RC_CONFLICT when a concurrent rotation of it won
 * (exactly one does) or it was rotated less than AUTH_ROTATE_INTERVAL seconds ago; err says
 * why for each. row_out (may be NULL) gets the updated row. */
enum rc auth_rotate(struct auth *a, const struct store_token *actor, const char *user_id,
                    const char *token_id, int64_t grace_seconds, const char *ip,
                    char token_out[TOKEN_BUF_SIZE], struct store_token *row_out, char *err,
                    size_t errlen);

/* Revoke token_id of owner_id on behalf of someone else (an org admin: actor_id, in org_id)
 * and audit "token.revoked" with who did it. RC_NOT_FOUND when it is not active. */
enum rc auth_revoke_for(struct auth *a, const char *owner_id, const char *token_id,
                        const char *actor_id, const char *org_id, const char *ip);

/* Leaked-token report: revoke each of the n presented strings that is a currently valid PAT
 * (its current secret, or its previous one inside the grace period) and audit
 * "token.revoked" for its owner with {"reason":"leak-report","source":ip}. Invalid entries are
 * ignored silently. RC_THROTTLED (with *retry_after) when ip reported too often. */
enum rc auth_report_leaked(struct auth *a, const char *const tokens[], size_t n, const char *ip,
                           int *retry_after);

/* Append an audit event (best effort: a failure is logged, not returned). Any id may be
 * NULL. detail is a JSON object text or NULL; it must never contain a secret. */
void auth_audit(struct auth *a, const char *event, const char *user_id, const char *token_id,
                const char *org_id, const char *ip, const char *detail);

/* --- OAuth for the CLI (oauth.c): authorization code + PKCE S256, refresh families -------- */

#define AUTH_OAUTH_CLIENT_ID "pipecat-cli"      /* the one public client */
#define AUTH_OAUTH_SCOPES "full"                /* what it asks for */
#define AUTH_OAUTH_ACCESS_SECONDS 3600          /* default access token lifetime */
#define AUTH_OAUTH_REFRESH_SECONDS (30 * 86400) /* refresh token lifetime */
#define AUTH_OAUTH_CODE_SECONDS 60              /* authorization codes */
#define AUTH_OAUTH_REFRESH_GRACE_SECONDS 60     /* a spent refresh token repeats its answer */
#define AUTH_OAUTH_CODE_LEN 43                  /* base62 characters of a code: 256 bits */
#define AUTH_OAUTH_CODE_BUF_SIZE (AUTH_OAUTH_CODE_LEN + 1)

#define AUTH_OAUTH_DEVICE_SECONDS 600 /* device authorizations (RFC 8628) */
#define AUTH_OAUTH_DEVICE_INTERVAL 5  /* seconds between polls; slow_down adds 5 */
#define AUTH_OAUTH_USER_CODE_LEN 8    /* letters of a user code, shown as "BCDF-GHJK" */
#define AUTH_OAUTH_USER_CODE_BUF_SIZE (AUTH_OAUTH_USER_CODE_LEN + 2)
#define AUTH_OAUTH_ERROR_SIZE 32

/* A device authorization just started: the secrets go to the client once. */
struct auth_oauth_device_grant {
    char device_code[AUTH_OAUTH_CODE_BUF_SIZE];
    char user_code[AUTH_OAUTH_USER_CODE_BUF_SIZE]; /* with its dash: "BCDF-GHJK" */
    int64_t expires_in;
    int64_t interval;
};

/* What a successful grant hands the client; the caller wipes it after replying. */
struct auth_oauth_tokens {
    char access[TOKEN_BUF_SIZE];
    char refresh[TOKEN_BUF_SIZE];
    int64_t expires_in;
    char scopes[STORE_SCOPES_SIZE];
};

/* 1 when uri is a redirect URI the CLI may use: http://127.0.0.1:PORT/oauth_callback (RFC 8252
 * loopback, any port 1..65535), nothing else (no query, fragment or other host). */
int auth_oauth_redirect_ok(const char *uri);
/* 1 when challenge is a S256 code challenge's shape (43 base64url characters). */
int auth_oauth_challenge_ok(const char *challenge);
/* Issue an authorization code for user_id (consent was given): stored as its digest, valid
 * AUTH_OAUTH_CODE_SECONDS, usable once. code_out gets the secret. */
enum rc auth_oauth_code_issue(struct auth *a, const char *user_id, const char *redirect_uri,
                              const char *challenge, const char *scopes, const char *ip,
                              char code_out[AUTH_OAUTH_CODE_BUF_SIZE]);
/* Exchange code (grant_type=authorization_code): the code must be unused and unexpired and
 * redirect_uri, client_id and verifier (SHA-256 compared in constant time with the stored
 * challenge) must match. Starts a new refresh family. RC_INVALID with err for every refusal
 * (the OAuth "invalid_grant"); a replayed code also revokes what the first exchange issued. */
enum rc auth_oauth_exchange(struct auth *a, const char *code, const char *client_id,
                            const char *redirect_uri, const char *verifier, const char *ip,
                            struct auth_oauth_tokens *out, char *err, size_t errlen);
/* Rotate refresh (grant_type=refresh_token): spends it and issues a new access and refresh
 * token in its family. Presenting it again within AUTH_OAUTH_REFRESH_GRACE_SECONDS of its
 * use, while the pair it gave is unused, answers that same pair (parallel CLI processes
 * refresh with one token at once); presenting it after that revokes the whole family.
 * RC_INVALID with err for every refusal. */
enum rc auth_oauth_refresh(struct auth *a, const char *refresh, const char *client_id,
                           const char *ip, struct auth_oauth_tokens *out, char *err, size_t errlen);
/* Revoke the family of refresh (its refresh and access tokens). RC_NOT_FOUND when refresh is
 * no refresh token of ours. */
enum rc auth_oauth_revoke_refresh(struct auth *a, const char *refresh, const char *ip);

/* Start a device authorization (RFC 8628 3.1) for client_id and scopes (space-separated; ""
 * is "full"). RC_INVALID with oauth_error ("invalid_client", "invalid_scope") and err for a
 * refusal. Both codes are stored only as keyed digests; out holds the secrets (wipe it). */
enum rc auth_oauth_device_start(struct auth *a, const char *client_id, const char *scopes,
                                const char *ip, struct auth_oauth_device_grant *out,
                                char oauth_error[AUTH_OAUTH_ERROR_SIZE], char *err, size_t errlen);
/* A user code as typed (any case, dashes and spaces ignored) into its canonical 8 letters;
 * 0 when it cannot be one (wrong length or a letter outside the alphabet). */
int auth_oauth_user_code_normalize(const char *typed, char out[AUTH_OAUTH_USER_CODE_LEN + 1]);
/* The device authorization of a user code (normalized); RC_NOT_FOUND when there is none. The
 * caller judges its status and expiry. */
enum rc auth_oauth_device_find(struct auth *a, const char *user_code,
                               struct store_oauth_device *out);
/* Approve or deny (approve 0) the pending, unexpired authorization of user_code for user_id.
 * RC_CONFLICT when it was decided, used or expired meanwhile. */
enum rc auth_oauth_device_decide(struct auth *a, const char *user_code, const char *user_id,
                                 int approve, const char *ip);
/* Poll (grant_type=urn:ietf:params:oauth:grant-type:device_code). RC_OK: out holds a new
 * login, the authorization is spent. RC_INVALID: oauth_error holds the RFC 8628 3.5 answer
 * ("authorization_pending", "slow_down" (the interval grew by 5 s), "expired_token",
 * "access_denied", "invalid_grant", "invalid_client") and err a description. */
enum rc auth_oauth_device_poll(struct auth *a, const char *device_code, const char *client_id,
                               const char *ip, struct auth_oauth_tokens *out,
                               char oauth_error[AUTH_OAUTH_ERROR_SIZE], char *err, size_t errlen);
/* Revoke every OAuth login of user_id (refresh families and their access tokens). */
enum rc auth_oauth_revoke_user(struct auth *a, const char *user_id, const char *ip);

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

/* An organization's Daily API key is sealed the same way under a subkey of its own, into one
 * text "NONCE:CIPHERTEXT" (both hex) stored in its place. At most AUTH_DAILY_KEY_MAX bytes. */
#define AUTH_DAILY_KEY_MAX (STORE_SECRET_SIZE - 1)
/* sealed gets plain sealed ("" for an empty plain, which means no key). RC_INVALID when plain
 * is too long, RC_NOMEM. */
enum rc auth_daily_key_seal(const struct digest_key *server, const char *plain,
                            char sealed[STORE_SEALED_SIZE]);
/* plain gets the key sealed in sealed; the caller wipes it. RC_NOT_FOUND for "" (no key),
 * RC_INVALID when it does not open (another server secret, altered data). */
enum rc auth_daily_key_unseal(const struct digest_key *server, const char *sealed,
                              char plain[STORE_SECRET_SIZE]);
/* Seal the Daily API keys an earlier pccd stored in plaintext (set aside by migration 0010);
 * every pccd command runs this right after migrating. *count gets how many it sealed. */
enum rc auth_daily_keys_seal_legacy(struct store *st, const struct digest_key *server, int *count);

/* Server secret file: DIGEST_KEY_LEN random bytes, hex-encoded, mode 0600. create fails with
 * RC_CONFLICT if path exists. load refuses a file others can read (RC_FORBIDDEN). */
enum rc auth_key_create(const char *path, char *err, size_t errlen);
enum rc auth_key_load(const char *path, struct digest_key *key, char *err, size_t errlen);

/* Seen set (tokens.c): remembers, in a fixed-size table, (token, address) pairs already
 * recorded in storage, so a request from a known address costs no storage write. */
struct auth_seen *auth_seen_new(void);
void auth_seen_free(struct auth_seen *s);
/* 1 when (token_id, ip) was marked before; otherwise marks it and returns 0. */
int auth_seen_check(struct auth_seen *s, const char *token_id, const char *ip);

/* Throttle (throttle.c): per-address failure counting; safe from several threads. */
struct auth_throttle *auth_throttle_new(const struct auth_limits *limits);
void auth_throttle_free(struct auth_throttle *t);
/* Seconds ip stays blocked at now (0: not blocked). */
int auth_throttle_blocked(struct auth_throttle *t, const char *ip, int64_t now);
/* Count one failure from ip at now. */
void auth_throttle_fail(struct auth_throttle *t, const char *ip, int64_t now);

#endif
