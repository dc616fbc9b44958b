/* orgadmin.h: what organization admins control about tokens, shared by the JSON API and the
 * dashboard: the admin check, the tokens that can act in an organization (found, revoked), its
 * token policy, and service accounts with their tokens. Callers only parse and reply. */
#ifndef PCC_ORGADMIN_H
#define PCC_ORGADMIN_H

#include <stddef.h>
#include <stdint.h>

#include "auth.h"

#define ORGADMIN_SA_NAME_MAX 48
#define ORGADMIN_SA_DOMAIN "service-account.invalid" /* RFC 2606: never a real mailbox */

/* Who acts, for the audit log: an admin through a token (API) or a session (dashboard: token_id
 * NULL). */
struct orgadmin_actor {
    const char *user_id;
    const char *token_id;
    const char *ip;
};

/* RC_OK when org (read through the actor's membership, so with its role) has the actor as admin;
 * RC_FORBIDDEN with err ("WHAT needs the admin role in organization 'x'; you are a member")
 * otherwise. Every function below checks it first with its own what. */
enum rc orgadmin_require(const struct store_org *org, const char *what, char *err, size_t errlen);

/* The active token token_id that can act in org, with its owner, into out. RC_NOT_FOUND (err says
 * so) when there is none; RC_FORBIDDEN for a non-admin, before any lookup. */
enum rc orgadmin_token_find(struct auth *a, const struct store_org *org, const char *token_id,
                            struct store_org_token *out, char *err, size_t errlen);
/* Revoke that token (next request on, every node); audits "token.revoked" naming the actor. Errors
 * as orgadmin_token_find. */
enum rc orgadmin_token_revoke(struct auth *a, const struct store_org *org, const char *token_id,
                              const struct orgadmin_actor *by, char *err, size_t errlen);

/* Check a policy's maximum token lifetime in days (callers map "no limit" to 0 themselves): RC_OK
 * for 1 to AUTH_MAX_LIFETIME_DAYS, else RC_INVALID with err naming field. */
enum rc orgadmin_check_lifetime(long long days, const char *field, char *err, size_t errlen);
/* Store p as org's token policy (updated_at set to now, and org->token_policy too) and audit
 * "token_policy.updated". RC_INVALID for a lifetime out of range. */
enum rc orgadmin_policy_set(struct auth *a, struct store_org *org,
                            const struct store_token_policy *p, const struct orgadmin_actor *by,
                            char *err, size_t errlen);

/* RC_OK for a service account name: 1..ORGADMIN_SA_NAME_MAX of [a-z0-9-], not starting with '-';
 * RC_INVALID with err otherwise. */
enum rc orgadmin_check_sa_name(const char *name, char *err, size_t errlen);
/* Create service account name in org (a user of kind "service", a member of org) into out; audits
 * "service_account.created" and "membership.added". RC_INVALID for a bad name, RC_CONFLICT when org
 * has one of that name. */
enum rc orgadmin_sa_create(struct auth *a, const struct store_org *org, const char *name,
                           const struct orgadmin_actor *by, struct store_service_account *out,
                           char *err, size_t errlen);
/* Org's service account name into out; RC_NOT_FOUND with err when it has none. */
enum rc orgadmin_sa_find(struct auth *a, const struct store_org *org, const char *name,
                         struct store_service_account *out, char *err, size_t errlen);
/* How many active tokens acct has (what its deletion revokes) into *count. */
enum rc orgadmin_sa_token_count(struct auth *a, const struct store_service_account *acct,
                                size_t *count);
/* Delete acct with its tokens; audits "service_account.deleted" and "membership.removed". */
enum rc orgadmin_sa_delete(struct auth *a, const struct store_org *org,
                           const struct store_service_account *acct,
                           const struct orgadmin_actor *by, char *err, size_t errlen);
/* Issue a token for acct (spec->user_id and spec->org_id are set here: always bound to org),
 * checked against org's policy (RC_INVALID with err when it breaks it), then as
 * auth_issue_pat_spec: token_out gets the secret, the caller wipes it. */
enum rc orgadmin_sa_issue(struct auth *a, const struct store_org *org,
                          const struct store_service_account *acct, struct auth_pat_spec *spec,
                          const struct orgadmin_actor *by, char token_out[TOKEN_BUF_SIZE],
                          struct store_token *row_out, char *err, size_t errlen);
/* Revoke acct's token token_id; audits "token.revoked" naming the actor. RC_NOT_FOUND. */
enum rc orgadmin_sa_revoke(struct auth *a, const struct store_org *org,
                           const struct store_service_account *acct, const char *token_id,
                           const struct orgadmin_actor *by, char *err, size_t errlen);

#endif
