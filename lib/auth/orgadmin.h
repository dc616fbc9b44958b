/* orgadmin.h: what organization admins control, shared by the JSON API and the dashboard: the
 * admin check, the tokens that can act in an organization (seen in full and revoked only when the
 * organization owns them), its token policy, service accounts with their tokens, and invitations
 * (nobody joins without accepting one). Callers only parse and reply. */
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

/* What an organization owns and so oversees: a token bound to it, or a token of one of its service
 * accounts. A member's unbound token acts in org only through the membership: its admins see that
 * it exists (no name, display, last use, address or user agent) and cannot revoke it; removing the
 * member is their remedy, and only its owner revokes it. */
int orgadmin_token_owned(const struct store_org *org, const struct store_org_token *tok);
/* RC_OK when org's admins may revoke tok (org owns it); else RC_FORBIDDEN with err saying why and
 * what to do instead. */
enum rc orgadmin_token_revocable(const struct store_org *org, const struct store_org_token *tok,
                                 char *err, size_t errlen);
/* The active tokens that can act in org (admins only: RC_FORBIDDEN with err), oldest first, into
 * *list (free with store_free_list); the ones org does not own come with their details blanked as
 * above. */
enum rc orgadmin_tokens(struct auth *a, const struct store_org *org, struct store_org_token **list,
                        size_t *count, char *err, size_t errlen);
/* The active token token_id that can act in org, with its owner, into out (details blanked unless
 * org owns it). RC_NOT_FOUND (err says so) when there is none; RC_FORBIDDEN for a non-admin,
 * before any lookup. */
enum rc orgadmin_token_find(struct auth *a, const struct store_org *org, const char *token_id,
                            struct store_org_token *out, char *err, size_t errlen);
/* Revoke that token (next request on, every node); audits "token.revoked" naming the actor. Errors
 * as orgadmin_token_find, and RC_FORBIDDEN (err says why) for a token org does not own. */
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

/* --- invitations: the admin's side (the invitee's is account.h) ------------------------------ */

/* Invite email into org as role ("admin" or "member"), valid AUTH_INVITATION_SECONDS; a pending
 * invitation of the same address is replaced. The answer never tells whether the address has an
 * account (an account whose address is unverified simply cannot see it). RC_INVALID for a bad
 * address or role, RC_CONFLICT when the address belongs to a member already. Audits
 * "invitation.created". out (may be NULL) gets the row. */
enum rc orgadmin_invite(struct auth *a, const struct store_org *org, const char *email,
                        const char *role, const struct orgadmin_actor *by,
                        struct store_invitation *out, char *err, size_t errlen);
/* Org's pending, unexpired invitations, oldest first (free with store_free_list). */
enum rc orgadmin_invitations(struct auth *a, const struct store_org *org,
                             struct store_invitation **list, size_t *count, char *err,
                             size_t errlen);
/* Withdraw org's pending invitation id; audits "invitation.revoked". RC_NOT_FOUND with err. */
enum rc orgadmin_invitation_revoke(struct auth *a, const struct store_org *org, const char *id,
                                   const struct orgadmin_actor *by, char *err, size_t errlen);

#endif
