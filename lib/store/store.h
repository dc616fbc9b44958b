/* store.h: the storage interface. Handlers and auth code see only these row structs and calls;
 * SQL lives in the backends (sqlite.c, pg.c). Every backend passes one conformance suite
 * (tests/unit/store/). All calls are safe from several threads at once. */
#ifndef PCC_STORE_H
#define PCC_STORE_H

#include <pthread.h>
#include <stddef.h>
#include <stdint.h>

#include "digest.h"
#include "rc.h"
#include "token.h"

#define STORE_EMAIL_SIZE 256
#define STORE_NAME_SIZE 128   /* token names, display names: at most 100 bytes accepted */
#define STORE_SLUG_SIZE 64    /* organization slugs: [a-z0-9][a-z0-9-]* up to 63 */
#define STORE_ROLE_SIZE 16    /* "admin" | "member" */
#define STORE_SCOPES_SIZE 128 /* space-separated scope names */
#define STORE_IP_SIZE 64
#define STORE_AGENT_SIZE 128
#define STORE_SECRET_SIZE 256 /* org settings such as the Daily API key, in plaintext */
#define STORE_SEALED_SIZE 640 /* such a setting sealed: 48 hex nonce, ':', 2 * (255 + 16) hex */
#define STORE_EVENT_SIZE 48
#define STORE_DETAIL_SIZE 512
#define STORE_REGION_SIZE 32 /* region codes: [a-z0-9-], at most 31 bytes */
#define STORE_KIND_SIZE 24   /* "public" | "private", "secret" | "imagePullSecret" */
#define STORE_PROPERTY_NAME_SIZE 48
#define STORE_PROPERTY_VALUE_SIZE 128
#define STORE_APIKEY_SIZE 48         /* a full pk_ key: "pk_" + 32 base62 + 6 base62 checksum */
#define STORE_SET_NAME_SIZE 72       /* secret set names: at most 64 bytes accepted */
#define STORE_SECRET_NAME_SIZE 72    /* secret key names: at most 64 bytes accepted */
#define STORE_NONCE_HEX_SIZE 64      /* a hex secretbox nonce (48 digits) */
#define STORE_HOST_SIZE 256          /* an image registry host */
#define STORE_SERVICE_NAME_SIZE 64   /* service names: at most 54 bytes accepted */
#define STORE_IMAGE_SIZE 520         /* image references: at most 512 bytes accepted */
#define STORE_SHORT_SIZE 16          /* agent profiles, filters, websocket auth modes */
#define STORE_PASSWORD_HASH_SIZE 128 /* crypto_pwhash_str output (Argon2id, encoded) */

struct store_user {
    char id[ID_BUF_SIZE];
    char email[STORE_EMAIL_SIZE];
    char name[STORE_NAME_SIZE];
    int64_t created_at;
    char kind[STORE_ROLE_SIZE]; /* "human" | "service" (a service account) */
};

/* A Daily API key stored in plaintext by an earlier pccd (migration 0010), to be sealed. */
struct store_legacy_daily_key {
    char org_id[ID_BUF_SIZE];
    char key[STORE_SECRET_SIZE];
};

/* What an organization demands of the tokens acting in it; all zero: nothing. */
struct store_token_policy {
    int require_expiry;    /* tokens without an expiry cannot act in the org */
    int max_lifetime_days; /* 0: no cap; else expires_at - created_at may not exceed it */
    int require_binding;   /* tokens not bound to the org cannot act in it */
    int64_t updated_at;
};

struct store_org {
    char id[ID_BUF_SIZE];
    char name[STORE_SLUG_SIZE];               /* the slug used in URLs */
    char verbose_name[STORE_NAME_SIZE];       /* the human name */
    char daily_key_sealed[STORE_SEALED_SIZE]; /* the Daily API key as auth_daily_key_seal
                                                * made it; "" when none is configured */
    char role[STORE_ROLE_SIZE]; /* the member's role, when read through a membership */
    int64_t created_at;
    struct store_token_policy token_policy; /* filled by org_for_member only */
};

/* A credential row: PATs now, OAuth tokens later. Never holds the secret, only its digest. */
struct store_token {
    char id[ID_BUF_SIZE];
    char user_id[ID_BUF_SIZE];
    int kind; /* enum token_kind */
    char name[STORE_NAME_SIZE];
    char display[TOKEN_DISPLAY_SIZE];
    char digest[DIGEST_HEX_SIZE];
    char scopes[STORE_SCOPES_SIZE];
    char org_id[ID_BUF_SIZE]; /* "" when not bound to one organization */
    int64_t created_at;
    int64_t expires_at;   /* 0: never */
    int64_t last_used_at; /* 0: never */
    int64_t revoked_at;   /* 0: active */
    char last_used_ip[STORE_IP_SIZE];
    char last_used_agent[STORE_AGENT_SIZE];
    /* Rotation: the secret before the last rotation still verifies until previous_expires_at
     * (the grace period); "" when there is none. */
    char previous_digest[DIGEST_HEX_SIZE];
    int64_t previous_expires_at;
    int64_t rotated_at; /* 0: never rotated */
};

/* A token as an organization's admins see it: with its owner. */
struct store_org_token {
    struct store_token token;
    char owner_id[ID_BUF_SIZE];
    char owner_email[STORE_EMAIL_SIZE];
    char owner_kind[STORE_ROLE_SIZE]; /* "human" | "service" */
};

/* A service account: a user of kind "service" owned by one organization. */
struct store_service_account {
    char user_id[ID_BUF_SIZE];
    char org_id[ID_BUF_SIZE];
    char name[STORE_NAME_SIZE];
    char created_by[ID_BUF_SIZE];
    int64_t created_at;
};

/* One append-only audit record. detail is a short JSON object; never a secret. */
struct store_audit {
    int64_t id; /* assigned by the store */
    int64_t at;
    char event[STORE_EVENT_SIZE]; /* e.g. "token.created", "auth.failed" */
    char user_id[ID_BUF_SIZE];    /* the affected user, "" if unknown */
    char token_id[ID_BUF_SIZE];   /* the credential involved, "" if none */
    char org_id[ID_BUF_SIZE];
    char ip[STORE_IP_SIZE];
    char detail[STORE_DETAIL_SIZE];
};

/* One organization property (e.g. defaultRegion) that was set explicitly. */
struct store_property {
    char name[STORE_PROPERTY_NAME_SIZE];
    char value[STORE_PROPERTY_VALUE_SIZE];
    int64_t updated_at;
};

/* An organization API key. Private keys exist here only as their digest; public keys also keep
 * their value, because the reference client lists them in full and reuses them. */
struct store_api_key {
    char id[ID_BUF_SIZE];
    char org_id[ID_BUF_SIZE];
    char kind[STORE_KIND_SIZE]; /* "public" | "private" */
    char name[STORE_NAME_SIZE];
    char public_value[STORE_APIKEY_SIZE]; /* the full pk_ key; "" for private keys */
    char display[TOKEN_DISPLAY_SIZE];     /* "pk_abcd...wxyz" */
    char digest[DIGEST_HEX_SIZE];
    char created_by[ID_BUF_SIZE]; /* the user who created it */
    int64_t created_at;
    int64_t last_used_at; /* 0: never */
    int64_t revoked_at;   /* 0: active */
};

/* A named set of secrets, or an image pull secret, living in one region. */
struct store_secret_set {
    char id[ID_BUF_SIZE];
    char org_id[ID_BUF_SIZE];
    char name[STORE_SET_NAME_SIZE];
    char kind[STORE_KIND_SIZE]; /* "secret" | "imagePullSecret" */
    char region[STORE_REGION_SIZE];
    char host[STORE_HOST_SIZE]; /* image pull secrets: the registry host; else "" */
    int64_t created_at;
    int64_t updated_at;
};

/* One key of a secret set. The value is stored only encrypted: nonce here, the hex ciphertext
 * passed beside the row (rows in lists hold no pointers). */
struct store_secret {
    char set_id[ID_BUF_SIZE];
    char name[STORE_SECRET_NAME_SIZE];
    char nonce[STORE_NONCE_HEX_SIZE];
    int64_t created_at;
    int64_t updated_at;
};

/* A service (agent): its identity, region and scaling; the configuration lives in deployments. */
struct store_service {
    char id[ID_BUF_SIZE];
    char org_id[ID_BUF_SIZE];
    char name[STORE_SERVICE_NAME_SIZE];
    char region[STORE_REGION_SIZE];
    int min_agents;
    int max_agents;
    char active_deployment_id[ID_BUF_SIZE];
    int64_t created_at;
    int64_t updated_at;
};

/* One revision of a service's configuration; never changed once written. */
struct store_deployment {
    char id[ID_BUF_SIZE];
    char service_id[ID_BUF_SIZE];
    int revision; /* 1, 2, ... per service; assigned by the store */
    char image[STORE_IMAGE_SIZE];
    char build_id[ID_BUF_SIZE];
    char secret_set[STORE_SET_NAME_SIZE];            /* "" when none */
    char image_pull_secret_set[STORE_SET_NAME_SIZE]; /* "" when none */
    char agent_profile[STORE_SHORT_SIZE];
    char krisp_viva_filter[STORE_SHORT_SIZE]; /* "" when disabled */
    int enable_krisp;
    char websocket_auth[STORE_SHORT_SIZE];
    int max_session_duration; /* seconds */
    char created_by[ID_BUF_SIZE];
    int64_t created_at;
};

/* A dashboard session. id is the keyed digest of the cookie's secret, never the secret. */
struct store_web_session {
    char id[DIGEST_HEX_SIZE];
    char user_id[ID_BUF_SIZE];
    char active_org[ID_BUF_SIZE]; /* the organization the dashboard shows; "" for the first */
    int64_t created_at;
    int64_t last_seen_at; /* written coalesced, not on every request */
    int64_t expires_at;   /* absolute expiry */
};

/* OAuth (migration 0005). An authorization code, stored by the keyed digest of its secret. */
#define STORE_CLIENT_ID_SIZE 64
#define STORE_REDIRECT_URI_SIZE 256
#define STORE_CHALLENGE_SIZE 64 /* BASE64URL(SHA-256) without padding: 43 characters */
struct store_oauth_code {
    char digest[DIGEST_HEX_SIZE];
    char user_id[ID_BUF_SIZE];
    char client_id[STORE_CLIENT_ID_SIZE];
    char redirect_uri[STORE_REDIRECT_URI_SIZE];
    char code_challenge[STORE_CHALLENGE_SIZE];
    char scopes[STORE_SCOPES_SIZE];
    int64_t created_at;
    int64_t expires_at;
    int64_t used_at;             /* 0: not exchanged yet */
    char family_id[ID_BUF_SIZE]; /* the refresh family its exchange starts (migration 0006) */
};

/* A device authorization (RFC 8628), stored by the keyed digests of its device code and of
 * its normalized user code. status: "pending", "approved", "denied" or "used". */
#define STORE_STATUS_SIZE 16
struct store_oauth_device {
    char digest[DIGEST_HEX_SIZE];
    char user_code[DIGEST_HEX_SIZE]; /* the keyed digest of the user code, never the code */
    char client_id[STORE_CLIENT_ID_SIZE];
    char scopes[STORE_SCOPES_SIZE];
    char user_id[ID_BUF_SIZE]; /* who approved or denied; "" while pending */
    char status[STORE_STATUS_SIZE];
    int64_t created_at;
    int64_t expires_at;
    int64_t interval_s;   /* the polling interval the client must keep */
    int64_t last_poll_at; /* 0: never polled */
};

/* One OAuth login (a refresh family) of a user, as the dashboard lists it. */
struct store_oauth_login {
    char family_id[ID_BUF_SIZE];
    char client_id[STORE_CLIENT_ID_SIZE];
    char scopes[STORE_SCOPES_SIZE];
    int64_t created_at;   /* the first token of the family: the sign-in */
    int64_t refreshed_at; /* the newest token of the family */
    int64_t expires_at;   /* the newest refresh token's expiry */
};

/* An OAuth refresh token: one of a family (one login), each spent by the refresh it makes. */
struct store_oauth_refresh {
    char digest[DIGEST_HEX_SIZE];
    char family_id[ID_BUF_SIZE];
    char user_id[ID_BUF_SIZE];
    char client_id[STORE_CLIENT_ID_SIZE];
    char scopes[STORE_SCOPES_SIZE];
    int64_t created_at;
    int64_t expires_at;
    int64_t used_at;    /* 0: not spent yet */
    int64_t revoked_at; /* 0: the family is alive */
};

/* Accounts and invitations (migration 0008). A one-time email verification code, stored by the
 * keyed digest of its secret. */
struct store_email_code {
    char digest[DIGEST_HEX_SIZE];
    char user_id[ID_BUF_SIZE];
    int64_t created_at;
    int64_t expires_at;
    int64_t used_at; /* 0: not used yet */
};

/* An invitation to join an organization, addressed to an email address. status: "pending",
 * "accepted", "declined" or "revoked"; a pending one past expires_at can no longer be accepted. */
struct store_invitation {
    char id[ID_BUF_SIZE];
    char org_id[ID_BUF_SIZE];
    char email[STORE_EMAIL_SIZE];
    char role[STORE_ROLE_SIZE];
    char invited_by[ID_BUF_SIZE];
    int64_t created_at;
    int64_t expires_at;
    char status[STORE_STATUS_SIZE];
    int64_t decided_at;
    /* Read only, filled by the reads: the organization's slug and name, the inviter's email
     * ("" when that account is gone). */
    char org_name[STORE_SLUG_SIZE];
    char org_verbose_name[STORE_NAME_SIZE];
    char inviter_email[STORE_EMAIL_SIZE];
};

/* A member of an organization, as its members page lists them. */
struct store_member {
    struct store_user user;
    char role[STORE_ROLE_SIZE];
    int64_t joined_at;
};

struct store;

/* The operations a backend implements. Return codes: RC_OK; RC_NOT_FOUND when the row does not
 * exist (or is not visible to that user); RC_CONFLICT on a uniqueness violation; RC_STORE on a
 * storage failure; RC_UNAVAILABLE when the database cannot be reached. */
struct store_ops {
    void (*close)(struct store *st);
    enum rc (*migrate)(struct store *st, int *applied, char *err, size_t errlen);

    enum rc (*user_create)(struct store *st, struct store_user *user);
    enum rc (*user_by_email)(struct store *st, const char *email, struct store_user *out);
    enum rc (*user_by_id)(struct store *st, const char *id, struct store_user *out);

    enum rc (*org_create)(struct store *st, struct store_org *org);
    enum rc (*org_by_name)(struct store *st, const char *name, struct store_org *out);
    /* Store the organization's Daily API key, already sealed (auth_daily_key_seal; "" removes
     * it). RC_NOT_FOUND for no such organization. */
    enum rc (*org_set_daily_key)(struct store *st, const char *org_id, const char *sealed);
    enum rc (*membership_put)(struct store *st, const char *user_id, const char *org_id,
                              const char *role, int64_t now);
    enum rc (*orgs_for_user)(struct store *st, const char *user_id, struct store_org **list,
                             size_t *count);
    enum rc (*org_for_member)(struct store *st, const char *user_id, const char *org_name,
                              struct store_org *out);

    enum rc (*token_insert)(struct store *st, const struct store_token *tok);
    enum rc (*token_lookup)(struct store *st, const char *digest, struct store_token *tok,
                            struct store_user *owner);
    enum rc (*token_by_id)(struct store *st, const char *user_id, const char *token_id,
                           struct store_token *out);
    enum rc (*tokens_for_user)(struct store *st, const char *user_id, struct store_token **list,
                               size_t *count);
    enum rc (*token_revoke)(struct store *st, const char *user_id, const char *token_id,
                            int64_t now);
    enum rc (*token_touch)(struct store *st, const char *token_id, int64_t now, const char *ip,
                           const char *agent);
    enum rc (*token_count)(struct store *st, int64_t *count);

    enum rc (*audit_append)(struct store *st, struct store_audit *ev);
    enum rc (*audit_for_user)(struct store *st, const char *user_id, int64_t before_id,
                              size_t limit, struct store_audit **list, size_t *count);

    /* Token lifecycle (migration 0003). token_lookup also finds a token by its previous
     * digest (the caller compares which one matched). token_rotate writes tok's digest,
     * display, previous_digest ("" for none), previous_expires_at and rotated_at, only while
     * the token's secret is still expected_digest (the one the caller read), so of concurrent
     * rotations exactly one wins: RC_CONFLICT for the others, RC_NOT_FOUND unless tok->id is
     * an active token. token_ip_add records that token_id was used from ip:
     * RC_OK when that is new, RC_CONFLICT when it was known. tokens_for_org: the active tokens
     * that can act in org_id (its members', unbound or bound to it), oldest first. */
    enum rc (*token_rotate)(struct store *st, const struct store_token *tok,
                            const char *expected_digest);
    enum rc (*token_ip_add)(struct store *st, const char *token_id, const char *ip, int64_t now);
    enum rc (*tokens_for_org)(struct store *st, const char *org_id, struct store_org_token **list,
                              size_t *count);
    /* An organization's audit events, newest first, ids below before_id (0: from the end). */
    enum rc (*audit_for_org)(struct store *st, const char *org_id, int64_t before_id, size_t limit,
                             struct store_audit **list, size_t *count);
    /* Insert or replace the organization's token policy. */
    enum rc (*token_policy_put)(struct store *st, const char *org_id,
                                const struct store_token_policy *policy);
    /* Service accounts. create writes, in one transaction, user (kind "service"), its
     * "member" membership of org_id and the account row; RC_CONFLICT when the org has one of
     * that name. delete removes the user with its tokens; RC_NOT_FOUND when there is none. */
    enum rc (*service_account_create)(struct store *st, const struct store_user *user,
                                      const struct store_service_account *account);
    enum rc (*service_accounts_for_org)(struct store *st, const char *org_id,
                                        struct store_service_account **list, size_t *count);
    enum rc (*service_account_by_name)(struct store *st, const char *org_id, const char *name,
                                       struct store_service_account *out);
    enum rc (*service_account_delete)(struct store *st, const char *org_id, const char *name);

    /* Organization properties that were set, by name; put inserts or replaces one. */
    enum rc (*org_properties)(struct store *st, const char *org_id, struct store_property **list,
                              size_t *count);
    enum rc (*org_property_put)(struct store *st, const char *org_id, const char *name,
                                const char *value, int64_t now);

    /* API keys: insert (RC_CONFLICT on a digest already stored), look up by digest (revoked
     * keys too), list an organization's keys oldest first (revoked too), revoke softly
     * (RC_NOT_FOUND unless the key is the org's and active), stamp the last use. */
    enum rc (*api_key_insert)(struct store *st, const struct store_api_key *key);
    enum rc (*api_key_lookup)(struct store *st, const char *digest, struct store_api_key *out);
    enum rc (*api_keys_for_org)(struct store *st, const char *org_id, struct store_api_key **list,
                                size_t *count);
    enum rc (*api_key_revoke)(struct store *st, const char *org_id, const char *key_id,
                              int64_t now);
    enum rc (*api_key_touch)(struct store *st, const char *key_id, int64_t now);

    /* Secret sets of an organization by name (region "" for every region). */
    enum rc (*secret_sets_for_org)(struct store *st, const char *org_id, const char *region,
                                   struct store_secret_set **list, size_t *count);
    enum rc (*secret_set_by_name)(struct store *st, const char *org_id, const char *name,
                                  struct store_secret_set *out);
    /* In one transaction: create set (by org_id and name) if missing, else check that the
     * stored one has set's kind and region (RC_CONFLICT otherwise, nothing written) and update
     * its host and updated_at; then insert or replace the secret (name, nonce, ciphertext hex).
     * On RC_OK and RC_CONFLICT, *set holds the stored row. */
    enum rc (*secret_put)(struct store *st, struct store_secret_set *set,
                          const struct store_secret *secret, const char *ciphertext);
    /* The keys of a set, by name, without values. */
    enum rc (*secret_names)(struct store *st, const char *set_id, struct store_secret **list,
                            size_t *count);
    /* One key with its ciphertext (*ciphertext: hex, the caller free()s it). */
    enum rc (*secret_get)(struct store *st, const char *set_id, const char *name,
                          struct store_secret *out, char **ciphertext);
    /* Delete one key of a set and stamp the set's updated_at with now; in the same
     * transaction, a set left without keys is deleted too (a set always holds a key) and
     * *set_deleted says so. RC_NOT_FOUND: no such set or key. */
    enum rc (*secret_delete)(struct store *st, const char *set_id, const char *name, int64_t now,
                             int *set_deleted);
    /* Delete a set with all its keys; RC_NOT_FOUND when the org has no set of that name. */
    enum rc (*secret_set_delete)(struct store *st, const char *org_id, const char *name);

    /* Services and deployments. create writes the service and its first deployment (revision
     * 1, made active) in one transaction; RC_CONFLICT when the org has a service of that name.
     * update (one transaction) adds dep as the next revision when dep is not NULL and writes
     * the service's scaling, active deployment and updated_at; RC_NOT_FOUND when it is gone.
     * Both fill dep->service_id and dep->revision. */
    enum rc (*service_create)(struct store *st, struct store_service *svc,
                              struct store_deployment *dep);
    enum rc (*service_update)(struct store *st, const struct store_service *svc,
                              struct store_deployment *dep);
    enum rc (*service_by_name)(struct store *st, const char *org_id, const char *name,
                               struct store_service *out);
    /* An organization's services by name (region "" for every region). */
    enum rc (*services_for_org)(struct store *st, const char *org_id, const char *region,
                                struct store_service **list, size_t *count);
    /* Delete a service with its deployments; RC_NOT_FOUND when there is none of that name. */
    enum rc (*service_delete)(struct store *st, const char *org_id, const char *name);
    enum rc (*deployment_by_id)(struct store *st, const char *service_id, const char *id,
                                struct store_deployment *out);
    /* A service's deployments, newest first. */
    enum rc (*deployments_for_service)(struct store *st, const char *service_id,
                                       struct store_deployment **list, size_t *count);

    /* Dashboard (migration 0004). Passwords: set a user's crypto_pwhash_str hash
     * (RC_NOT_FOUND for no such user); read it with the user by email (hash "" when none). */
    enum rc (*user_set_password)(struct store *st, const char *user_id, const char *hash);
    enum rc (*user_password_by_email)(struct store *st, const char *email, struct store_user *out,
                                      char hash[STORE_PASSWORD_HASH_SIZE]);
    /* Web sessions: insert; look up by id with the user (expired ones too: the caller
     * decides); stamp last_seen_at; set the active organization; delete (RC_NOT_FOUND when
     * gone). */
    enum rc (*web_session_insert)(struct store *st, const struct store_web_session *ws);
    enum rc (*web_session_lookup)(struct store *st, const char *id, struct store_web_session *out,
                                  struct store_user *user);
    enum rc (*web_session_touch)(struct store *st, const char *id, int64_t now);
    enum rc (*web_session_set_org)(struct store *st, const char *id, const char *org_id);
    enum rc (*web_session_delete)(struct store *st, const char *id);
    /* Members of an organization, admins first, then by email. */
    enum rc (*members_of_org)(struct store *st, const char *org_id, struct store_member **list,
                              size_t *count);
    /* Change a member's role, or remove the member (role NULL), in one transaction that keeps
     * at least one admin: RC_FORBIDDEN when it would leave the organization without one,
     * RC_NOT_FOUND when user_id is not a member. */
    enum rc (*membership_change)(struct store *st, const char *org_id, const char *user_id,
                                 const char *role);

    /* OAuth (migration 0005). Codes and refresh tokens are taken (spent) atomically: take
     * marks the row used and fills out; RC_CONFLICT (out filled) when it was already used or
     * revoked, RC_NOT_FOUND when there is none. access_link ties an OAuth access token (a
     * tokens row) to its family; family_revoke revokes every refresh and access token of the
     * family that is still active; family_of gives the family of an access token
     * (RC_NOT_FOUND for other tokens). */
    enum rc (*oauth_code_insert)(struct store *st, const struct store_oauth_code *code);
    enum rc (*oauth_code_take)(struct store *st, const char *digest, int64_t now,
                               struct store_oauth_code *out);
    enum rc (*oauth_refresh_insert)(struct store *st, const struct store_oauth_refresh *rt);
    enum rc (*oauth_refresh_take)(struct store *st, const char *digest, int64_t now,
                                  struct store_oauth_refresh *out);
    enum rc (*oauth_access_link)(struct store *st, const char *token_id, const char *family_id);
    enum rc (*oauth_family_revoke)(struct store *st, const char *family_id, int64_t now);
    enum rc (*oauth_family_of)(struct store *st, const char *token_id, char family_id[ID_BUF_SIZE]);

    /* OAuth device authorizations and logins (migration 0006). device_take spends an approved
     * authorization (status "used"): RC_OK for the one caller that wins, RC_CONFLICT (out
     * filled) when it is in any other state, RC_NOT_FOUND when there is none. device_poll
     * records a poll at now and the interval the client must keep from then on.
     * device_by_user_code finds an authorization by its user code's digest; device_decide
     * moves a pending, unexpired one to status ("approved" or "denied") by user_id:
     * RC_CONFLICT when it is no longer pending or has expired. */
    enum rc (*oauth_device_insert)(struct store *st, const struct store_oauth_device *dev);
    enum rc (*oauth_device_take)(struct store *st, const char *digest, int64_t now,
                                 struct store_oauth_device *out);
    enum rc (*oauth_device_poll)(struct store *st, const char *digest, int64_t now,
                                 int64_t interval_s);
    enum rc (*oauth_device_by_user_code)(struct store *st, const char *user_code,
                                         struct store_oauth_device *out);
    enum rc (*oauth_device_decide)(struct store *st, const char *user_code, const char *user_id,
                                   const char *status, int64_t now);
    /* The user's OAuth logins that are alive at now (a refresh token neither revoked nor
     * expired), oldest first; free with store_free_list. */
    enum rc (*oauth_logins_for_user)(struct store *st, const char *user_id, int64_t now,
                                     struct store_oauth_login **list, size_t *count);
    /* Revoke every refresh token and OAuth access token of user_id ("sign out everywhere"). */
    enum rc (*oauth_revoke_user)(struct store *st, const char *user_id, int64_t now);
    /* Delete every dashboard session of user_id. */
    enum rc (*web_sessions_delete_user)(struct store *st, const char *user_id);

    /* Refresh rotation (no migration of its own). refresh_get reads a refresh token without
     * spending it (RC_NOT_FOUND). refresh_rotate spends the refresh token digest and, in the
     * same transaction, issues its successors: access (a tokens row) linked to next's family,
     * and next (a refresh row). RC_OK for the one caller that wins; RC_CONFLICT (out filled with
     * the row as it is now) when it was spent or revoked already, and nothing is written;
     * RC_NOT_FOUND when there is none. */
    enum rc (*oauth_refresh_get)(struct store *st, const char *digest,
                                 struct store_oauth_refresh *out);
    enum rc (*oauth_refresh_rotate)(struct store *st, const char *digest, int64_t now,
                                    const struct store_token *access,
                                    const struct store_oauth_refresh *next,
                                    struct store_oauth_refresh *out);

    /* Housekeeping: delete authorization codes, device codes and dashboard sessions that
     * expired before `before` (none of them can be used any more); *removed gets how many. */
    enum rc (*purge_expired)(struct store *st, int64_t before, int64_t *removed);

    /* A value that changes with every committed write to credential data (tokens, users,
     * organizations, memberships, token policies), kept by the database itself (triggers of
     * migration 0007), so cache.c can trust its entries across nodes. NULL for SQLite, where
     * cache.c keeps the value in memory shared by the processes of one machine. */
    enum rc (*credential_generation)(struct store *st, uint64_t *out);

    /* Daily API keys an earlier pccd stored in plaintext, set aside by migration 0010 until
     * they are sealed: list them (free with store_free_list; wipe the keys first), and replace
     * one by its sealed form, which RC_NOT_FOUND refuses once the row holds no plaintext any
     * more (another process sealed it, or org_set_daily_key set a new key meanwhile); the
     * plaintext is not sent back to the database to say which. */
    enum rc (*daily_keys_legacy)(struct store *st, struct store_legacy_daily_key **list,
                                 size_t *count);
    enum rc (*daily_key_seal_legacy)(struct store *st, const char *org_id, const char *sealed);
    /* Accounts and invitations (migration 0008). signup_user_create inserts user (kind "human")
     * with its password hash and an unverified email in one statement; RC_CONFLICT when the
     * email is taken. user_email_verified: *verified 1 or 0 (RC_NOT_FOUND for no such user).
     * email_code_take spends a code and marks its user's email verified, in one transaction:
     * RC_OK for the one caller that wins, RC_CONFLICT (out filled) when it was used or has
     * expired, RC_NOT_FOUND when there is none. email_code_get reads one without spending it. */
    enum rc (*signup_user_create)(struct store *st, const struct store_user *user,
                                  const char *password_hash);
    enum rc (*user_email_verified)(struct store *st, const char *user_id, int *verified);
    enum rc (*email_code_insert)(struct store *st, const struct store_email_code *code);
    enum rc (*email_code_get)(struct store *st, const char *digest, struct store_email_code *out);
    enum rc (*email_code_take)(struct store *st, const char *digest, int64_t now,
                               struct store_email_code *out);
    /* invitation_insert writes inv and, in the same transaction, revokes the organization's
     * earlier pending invitations of that address (a new invitation replaces them). The lists
     * hold the pending invitations that have not expired at now, oldest first: of an
     * organization, or addressed to email (compared without regard to case). */
    enum rc (*invitation_insert)(struct store *st, const struct store_invitation *inv);
    enum rc (*invitations_for_org)(struct store *st, const char *org_id, int64_t now,
                                   struct store_invitation **list, size_t *count);
    enum rc (*invitations_for_email)(struct store *st, const char *email, int64_t now,
                                     struct store_invitation **list, size_t *count);
    /* In one transaction: invitation id must be pending, unexpired at now and addressed to the
     * verified email of user_id (else RC_NOT_FOUND: it is not theirs to see); accept makes
     * user_id a member with its role (a member already keeps the role they have) and marks it
     * "accepted", else it is marked "declined". RC_CONFLICT (out filled) when it was decided,
     * revoked or has expired. out (may be NULL) gets the row. */
    enum rc (*invitation_decide)(struct store *st, const char *id, const char *user_id, int accept,
                                 int64_t now, struct store_invitation *out);
    /* Revoke org_id's pending invitation id; RC_NOT_FOUND when there is no such pending one. */
    enum rc (*invitation_revoke)(struct store *st, const char *org_id, const char *id, int64_t now);
};

struct store_cache;

#define STORE_ERROR_SIZE 256

struct store {
    const struct store_ops *ops;
    struct store_cache *cache; /* cache.c, in front of the backend; NULL without one */
    /* Each thread's detail of its last failure (store_last_error): per thread, as each
     * thread has its own connection, so one request never reads another's error. */
    pthread_key_t error_key;
};

/* Open the database named by url: "sqlite:PATH" (or a bare path) for SQLite. Does not migrate.
 * On failure returns an error and writes the reason into err. *out is freed by store_close. */
enum rc store_open(const char *url, struct store **out, char *err, size_t errlen);
/* SQLite only (backup.c): copy the database of url into the file dest (created by this
 * process, replaced atomically, fsynced) as one consistent snapshot, while pccd serves it. */
enum rc store_backup(const char *url, const char *dest, char *err, size_t errlen);
/* SQLite only: replace the database of url by the backup at src after checking it (intact,
 * pcc's schema, not newer than this binary; *version gets its schema version). An existing
 * database is replaced only with replace set, and nothing may serve it meanwhile. */
enum rc store_restore(const char *src, const char *url, int replace, int *version, char *err,
                      size_t errlen);
/* Bracket one request on this thread: between the two, the credential cache (cache.c) takes
 * the generation once, at the first cached read, so the request sees one view of the
 * credential data and PostgreSQL answers one query for it, not one per read. A credential
 * write made through st inside the bracket ends that view (the next read takes it anew). No-op
 * without a cache. */
void store_request_begin(struct store *st);
void store_request_end(struct store *st);
/* The detail of the last failure of a call made through st by the calling thread ("" when
 * none), for the log and for administrators; never for API callers. Valid until this
 * thread's next call through st. Other threads' failures never show here. */
const char *store_last_error(struct store *st);
/* Close and free; store_close(NULL) is a no-op. */
void store_close(struct store *st);
/* Copy src (NULL as "") into a row field of size bytes, truncating; always NUL-terminates. */
void store_copy_field(char *dst, size_t size, const char *src);
/* Free a list returned by the *_for_user calls (rows hold no pointers). */
void store_free_list(void *list);

/* Thin wrappers so callers read as store_user_by_email(st, ...). */
#define store_migrate(st, ...) ((st)->ops->migrate((st), __VA_ARGS__))
#define store_user_create(st, ...) ((st)->ops->user_create((st), __VA_ARGS__))
#define store_user_by_email(st, ...) ((st)->ops->user_by_email((st), __VA_ARGS__))
#define store_user_by_id(st, ...) ((st)->ops->user_by_id((st), __VA_ARGS__))
#define store_org_create(st, ...) ((st)->ops->org_create((st), __VA_ARGS__))
#define store_org_by_name(st, ...) ((st)->ops->org_by_name((st), __VA_ARGS__))
#define store_org_set_daily_key(st, ...) ((st)->ops->org_set_daily_key((st), __VA_ARGS__))
#define store_membership_put(st, ...) ((st)->ops->membership_put((st), __VA_ARGS__))
#define store_orgs_for_user(st, ...) ((st)->ops->orgs_for_user((st), __VA_ARGS__))
#define store_org_for_member(st, ...) ((st)->ops->org_for_member((st), __VA_ARGS__))
#define store_token_insert(st, ...) ((st)->ops->token_insert((st), __VA_ARGS__))
#define store_token_lookup(st, ...) ((st)->ops->token_lookup((st), __VA_ARGS__))
#define store_token_by_id(st, ...) ((st)->ops->token_by_id((st), __VA_ARGS__))
#define store_tokens_for_user(st, ...) ((st)->ops->tokens_for_user((st), __VA_ARGS__))
#define store_token_revoke(st, ...) ((st)->ops->token_revoke((st), __VA_ARGS__))
#define store_token_touch(st, ...) ((st)->ops->token_touch((st), __VA_ARGS__))
#define store_token_count(st, ...) ((st)->ops->token_count((st), __VA_ARGS__))
#define store_audit_append(st, ...) ((st)->ops->audit_append((st), __VA_ARGS__))
#define store_audit_for_user(st, ...) ((st)->ops->audit_for_user((st), __VA_ARGS__))
#define store_token_rotate(st, ...) ((st)->ops->token_rotate((st), __VA_ARGS__))
#define store_token_ip_add(st, ...) ((st)->ops->token_ip_add((st), __VA_ARGS__))
#define store_tokens_for_org(st, ...) ((st)->ops->tokens_for_org((st), __VA_ARGS__))
#define store_audit_for_org(st, ...) ((st)->ops->audit_for_org((st), __VA_ARGS__))
#define store_token_policy_put(st, ...) ((st)->ops->token_policy_put((st), __VA_ARGS__))
#define store_service_account_create(st, ...) ((st)->ops->service_account_create((st), __VA_ARGS__))
#define store_service_accounts_for_org(st, ...)                                                    \
    ((st)->ops->service_accounts_for_org((st), __VA_ARGS__))
#define store_service_account_by_name(st, ...)                                                     \
    ((st)->ops->service_account_by_name((st), __VA_ARGS__))
#define store_service_account_delete(st, ...) ((st)->ops->service_account_delete((st), __VA_ARGS__))
#define store_org_properties(st, ...) ((st)->ops->org_properties((st), __VA_ARGS__))
#define store_org_property_put(st, ...) ((st)->ops->org_property_put((st), __VA_ARGS__))
#define store_api_key_insert(st, ...) ((st)->ops->api_key_insert((st), __VA_ARGS__))
#define store_api_key_lookup(st, ...) ((st)->ops->api_key_lookup((st), __VA_ARGS__))
#define store_api_keys_for_org(st, ...) ((st)->ops->api_keys_for_org((st), __VA_ARGS__))
#define store_api_key_revoke(st, ...) ((st)->ops->api_key_revoke((st), __VA_ARGS__))
#define store_api_key_touch(st, ...) ((st)->ops->api_key_touch((st), __VA_ARGS__))
#define store_secret_sets_for_org(st, ...) ((st)->ops->secret_sets_for_org((st), __VA_ARGS__))
#define store_secret_set_by_name(st, ...) ((st)->ops->secret_set_by_name((st), __VA_ARGS__))
#define store_secret_put(st, ...) ((st)->ops->secret_put((st), __VA_ARGS__))
#define store_secret_names(st, ...) ((st)->ops->secret_names((st), __VA_ARGS__))
#define store_secret_get(st, ...) ((st)->ops->secret_get((st), __VA_ARGS__))
#define store_secret_delete(st, ...) ((st)->ops->secret_delete((st), __VA_ARGS__))
#define store_secret_set_delete(st, ...) ((st)->ops->secret_set_delete((st), __VA_ARGS__))
#define store_service_create(st, ...) ((st)->ops->service_create((st), __VA_ARGS__))
#define store_service_update(st, ...) ((st)->ops->service_update((st), __VA_ARGS__))
#define store_service_by_name(st, ...) ((st)->ops->service_by_name((st), __VA_ARGS__))
#define store_services_for_org(st, ...) ((st)->ops->services_for_org((st), __VA_ARGS__))
#define store_service_delete(st, ...) ((st)->ops->service_delete((st), __VA_ARGS__))
#define store_deployment_by_id(st, ...) ((st)->ops->deployment_by_id((st), __VA_ARGS__))
#define store_deployments_for_service(st, ...)                                                     \
    ((st)->ops->deployments_for_service((st), __VA_ARGS__))
#define store_user_set_password(st, ...) ((st)->ops->user_set_password((st), __VA_ARGS__))
#define store_user_password_by_email(st, ...) ((st)->ops->user_password_by_email((st), __VA_ARGS__))
#define store_web_session_insert(st, ...) ((st)->ops->web_session_insert((st), __VA_ARGS__))
#define store_web_session_lookup(st, ...) ((st)->ops->web_session_lookup((st), __VA_ARGS__))
#define store_web_session_touch(st, ...) ((st)->ops->web_session_touch((st), __VA_ARGS__))
#define store_web_session_set_org(st, ...) ((st)->ops->web_session_set_org((st), __VA_ARGS__))
#define store_web_session_delete(st, ...) ((st)->ops->web_session_delete((st), __VA_ARGS__))
#define store_members_of_org(st, ...) ((st)->ops->members_of_org((st), __VA_ARGS__))
#define store_membership_change(st, ...) ((st)->ops->membership_change((st), __VA_ARGS__))
#define store_oauth_code_insert(st, ...) ((st)->ops->oauth_code_insert((st), __VA_ARGS__))
#define store_oauth_code_take(st, ...) ((st)->ops->oauth_code_take((st), __VA_ARGS__))
#define store_oauth_refresh_insert(st, ...) ((st)->ops->oauth_refresh_insert((st), __VA_ARGS__))
#define store_oauth_refresh_take(st, ...) ((st)->ops->oauth_refresh_take((st), __VA_ARGS__))
#define store_oauth_refresh_get(st, ...) ((st)->ops->oauth_refresh_get((st), __VA_ARGS__))
#define store_oauth_refresh_rotate(st, ...) ((st)->ops->oauth_refresh_rotate((st), __VA_ARGS__))
#define store_oauth_access_link(st, ...) ((st)->ops->oauth_access_link((st), __VA_ARGS__))
#define store_oauth_family_revoke(st, ...) ((st)->ops->oauth_family_revoke((st), __VA_ARGS__))
#define store_purge_expired(st, ...) ((st)->ops->purge_expired((st), __VA_ARGS__))
#define store_oauth_family_of(st, ...) ((st)->ops->oauth_family_of((st), __VA_ARGS__))
#define store_oauth_device_insert(st, ...) ((st)->ops->oauth_device_insert((st), __VA_ARGS__))
#define store_oauth_device_take(st, ...) ((st)->ops->oauth_device_take((st), __VA_ARGS__))
#define store_oauth_device_poll(st, ...) ((st)->ops->oauth_device_poll((st), __VA_ARGS__))
#define store_oauth_device_by_user_code(st, ...)                                                   \
    ((st)->ops->oauth_device_by_user_code((st), __VA_ARGS__))
#define store_oauth_device_decide(st, ...) ((st)->ops->oauth_device_decide((st), __VA_ARGS__))
#define store_oauth_logins_for_user(st, ...) ((st)->ops->oauth_logins_for_user((st), __VA_ARGS__))
#define store_oauth_revoke_user(st, ...) ((st)->ops->oauth_revoke_user((st), __VA_ARGS__))
#define store_web_sessions_delete_user(st, ...)                                                    \
    ((st)->ops->web_sessions_delete_user((st), __VA_ARGS__))
#define store_daily_keys_legacy(st, ...) ((st)->ops->daily_keys_legacy((st), __VA_ARGS__))
#define store_daily_key_seal_legacy(st, ...) ((st)->ops->daily_key_seal_legacy((st), __VA_ARGS__))

#define store_signup_user_create(st, ...) ((st)->ops->signup_user_create((st), __VA_ARGS__))
#define store_user_email_verified(st, ...) ((st)->ops->user_email_verified((st), __VA_ARGS__))
#define store_email_code_insert(st, ...) ((st)->ops->email_code_insert((st), __VA_ARGS__))
#define store_email_code_get(st, ...) ((st)->ops->email_code_get((st), __VA_ARGS__))
#define store_email_code_take(st, ...) ((st)->ops->email_code_take((st), __VA_ARGS__))
#define store_invitation_insert(st, ...) ((st)->ops->invitation_insert((st), __VA_ARGS__))
#define store_invitations_for_org(st, ...) ((st)->ops->invitations_for_org((st), __VA_ARGS__))
#define store_invitations_for_email(st, ...) ((st)->ops->invitations_for_email((st), __VA_ARGS__))
#define store_invitation_decide(st, ...) ((st)->ops->invitation_decide((st), __VA_ARGS__))
#define store_invitation_revoke(st, ...) ((st)->ops->invitation_revoke((st), __VA_ARGS__))

#endif
