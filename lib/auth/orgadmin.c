/* orgadmin.c: the checks, store calls and audit records behind what organization admins do
 * (token oversight, policy, service accounts, invitations), one copy for the API and the
 * dashboard. */
#include "orgadmin.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "account.h"
#include "text.h"

#include <jansson.h>

#include "banned.h"

/* Audit event for the actor in org; detail (consumed, may be NULL) never holds a secret. */
static void audit(struct auth *a, const char *event, const struct orgadmin_actor *by,
                  const char *org_id, json_t *detail)
{
    char *text = detail ? json_dumps(detail, JSON_COMPACT) : NULL;
    auth_audit(a, event, by->user_id, by->token_id, org_id, by->ip, text);
    free(text);
    json_decref(detail);
}

enum rc orgadmin_require(const struct store_org *org, const char *what, char *err, size_t errlen)
{
    if (strcmp(org->role, "admin") == 0)
        return RC_OK;
    snprintf(err, errlen, "%s needs the admin role in organization '%s'; you are a %s", what,
             org->name, org->role[0] ? org->role : "non-member");
    return RC_FORBIDDEN;
}

/* --- tokens that can act in the organization ---------------------------------------------- */

int orgadmin_token_owned(const struct store_org *org, const struct store_org_token *tok)
{
    return strcmp(tok->token.org_id, org->id) == 0 || strcmp(tok->owner_kind, "service") == 0;
}

/* What admins may not see of a token their organization does not own. */
static void blank_unowned(const struct store_org *org, struct store_org_token *t)
{
    if (orgadmin_token_owned(org, t))
        return;
    t->token.name[0] = '\0';
    t->token.display[0] = '\0';
    t->token.digest[0] = '\0';
    t->token.previous_digest[0] = '\0';
    t->token.last_used_at = 0;
    t->token.last_used_ip[0] = '\0';
    t->token.last_used_agent[0] = '\0';
    t->token.rotated_at = 0;
    t->token.previous_expires_at = 0;
}

enum rc orgadmin_token_revocable(const struct store_org *org, const struct store_org_token *tok,
                                 char *err, size_t errlen)
{
    if (orgadmin_token_owned(org, tok))
        return RC_OK;
    snprintf(err, errlen,
             "token %s is not bound to organization '%s': it acts here only through its owner's "
             "membership, and only its owner can revoke it; remove the member to end its access "
             "here",
             tok->token.id, org->name);
    return RC_FORBIDDEN;
}

enum rc orgadmin_tokens(struct auth *a, const struct store_org *org, struct store_org_token **list,
                        size_t *count, char *err, size_t errlen)
{
    *list = NULL;
    *count = 0;
    enum rc rc = orgadmin_require(org, "listing the organization's tokens", err, errlen);
    if (rc != RC_OK || (rc = store_tokens_for_org(a->store, org->id, list, count)) != RC_OK)
        return rc;
    for (size_t i = 0; i < *count; i++)
        blank_unowned(org, &(*list)[i]);
    return RC_OK;
}

enum rc orgadmin_token_find(struct auth *a, const struct store_org *org, const char *token_id,
                            struct store_org_token *out, char *err, size_t errlen)
{
    struct store_org_token *toks = NULL;
    size_t count = 0;
    enum rc rc = orgadmin_require(org, "revoking the organization's tokens", err, errlen);
    if (rc != RC_OK)
        return rc;
    if ((rc = store_tokens_for_org(a->store, org->id, &toks, &count)) != RC_OK)
        return rc;
    rc = RC_NOT_FOUND;
    for (size_t i = 0; i < count && rc != RC_OK; i++)
        if (strcmp(toks[i].token.id, token_id) == 0) {
            *out = toks[i];
            blank_unowned(org, out);
            rc = RC_OK;
        }
    store_free_list(toks);
    if (rc == RC_NOT_FOUND)
        snprintf(err, errlen, "no active token that can act in this organization has that id");
    return rc;
}

enum rc orgadmin_token_revoke(struct auth *a, const struct store_org *org, const char *token_id,
                              const struct orgadmin_actor *by, char *err, size_t errlen)
{
    struct store_org_token tok;
    enum rc rc = orgadmin_token_find(a, org, token_id, &tok, err, errlen);
    if (rc != RC_OK)
        return rc;
    if ((rc = orgadmin_token_revocable(org, &tok, err, errlen)) != RC_OK)
        return rc;
    rc = auth_revoke_for(a, tok.owner_id, tok.token.id, by->user_id, org->id, by->ip);
    if (rc == RC_NOT_FOUND) /* revoked by someone else in between */
        snprintf(err, errlen, "no active token that can act in this organization has that id");
    return rc;
}

/* --- the token policy ----------------------------------------------------------------------- */

enum rc orgadmin_check_lifetime(long long days, const char *field, char *err, size_t errlen)
{
    if (days >= 1 && days <= AUTH_MAX_LIFETIME_DAYS)
        return RC_OK;
    snprintf(err, errlen, "%s: must be a number of days from 1 to %d, or none for no limit", field,
             AUTH_MAX_LIFETIME_DAYS);
    return RC_INVALID;
}

enum rc orgadmin_policy_set(struct auth *a, struct store_org *org,
                            const struct store_token_policy *p, const struct orgadmin_actor *by,
                            char *err, size_t errlen)
{
    struct store_token_policy next = *p;
    enum rc rc = orgadmin_require(org, "changing the token policy", err, errlen);
    if (rc != RC_OK)
        return rc;
    if (next.max_lifetime_days &&
        (rc = orgadmin_check_lifetime(next.max_lifetime_days, "maxLifetimeDays", err, errlen)) !=
            RC_OK)
        return rc;
    next.updated_at = auth_now(a);
    if ((rc = store_token_policy_put(a->store, org->id, &next)) != RC_OK)
        return rc;
    org->token_policy = next;
    audit(a, "token_policy.updated", by, org->id,
          json_pack("{s:b, s:i, s:b}", "requireExpiry", next.require_expiry, "maxLifetimeDays",
                    next.max_lifetime_days, "requireBinding", next.require_binding));
    return RC_OK;
}

/* --- service accounts ----------------------------------------------------------------------- */

#define MANAGING "managing service accounts"

enum rc orgadmin_check_sa_name(const char *name, char *err, size_t errlen)
{
    size_t n = strnlen(name, ORGADMIN_SA_NAME_MAX + 1);
    int ok = n > 0 && n <= ORGADMIN_SA_NAME_MAX && name[0] != '-';
    for (size_t i = 0; ok && i < n; i++)
        ok = (name[i] >= 'a' && name[i] <= 'z') || (name[i] >= '0' && name[i] <= '9') ||
             name[i] == '-';
    if (ok)
        return RC_OK;
    snprintf(err, errlen, "name: 1-%d lowercase letters, digits and '-', not starting with '-'",
             ORGADMIN_SA_NAME_MAX);
    return RC_INVALID;
}

enum rc orgadmin_sa_create(struct auth *a, const struct store_org *org, const char *name,
                           const struct orgadmin_actor *by, struct store_service_account *out,
                           char *err, size_t errlen)
{
    enum rc rc = orgadmin_require(org, MANAGING, err, errlen);
    if (rc != RC_OK || (rc = orgadmin_check_sa_name(name, err, errlen)) != RC_OK)
        return rc;
    int64_t now = auth_now(a);
    struct store_user user = {0};
    token_new_id("usr_", user.id);
    snprintf(user.email, sizeof user.email, "%s@%s.%s", name, org->name, ORGADMIN_SA_DOMAIN);
    snprintf(user.name, sizeof user.name, "%s (service account of %s)", name, org->name);
    user.created_at = now;
    snprintf(user.kind, sizeof user.kind, "service");
    struct store_service_account acct = {0};
    store_copy_field(acct.user_id, sizeof acct.user_id, user.id);
    store_copy_field(acct.org_id, sizeof acct.org_id, org->id);
    store_copy_field(acct.name, sizeof acct.name, name);
    store_copy_field(acct.created_by, sizeof acct.created_by, by->user_id);
    acct.created_at = now;
    rc = store_service_account_create(a->store, &user, &acct);
    if (rc == RC_CONFLICT)
        snprintf(err, errlen, "organization '%s' already has a service account named '%s'",
                 org->name, name);
    if (rc != RC_OK)
        return rc;
    audit(a, "service_account.created", by, org->id,
          json_pack("{s:s, s:s}", "name", name, "serviceAccountId", user.id));
    audit(a, "membership.added", by, org->id,
          json_pack("{s:s, s:s}", "userId", user.id, "role", "member"));
    *out = acct;
    return RC_OK;
}

enum rc orgadmin_sa_find(struct auth *a, const struct store_org *org, const char *name,
                         struct store_service_account *out, char *err, size_t errlen)
{
    enum rc rc = orgadmin_require(org, MANAGING, err, errlen);
    if (rc != RC_OK)
        return rc;
    rc = store_service_account_by_name(a->store, org->id, name, out);
    if (rc == RC_NOT_FOUND)
        snprintf(err, errlen, "organization '%s' has no service account named '%.48s'", org->name,
                 name);
    return rc;
}

enum rc orgadmin_sa_token_count(struct auth *a, const struct store_service_account *acct,
                                size_t *count)
{
    struct store_token *toks = NULL;
    enum rc rc = store_tokens_for_user(a->store, acct->user_id, &toks, count);
    store_free_list(toks);
    return rc;
}

enum rc orgadmin_sa_delete(struct auth *a, const struct store_org *org,
                           const struct store_service_account *acct,
                           const struct orgadmin_actor *by, char *err, size_t errlen)
{
    enum rc rc = orgadmin_require(org, MANAGING, err, errlen);
    if (rc != RC_OK)
        return rc;
    rc = store_service_account_delete(a->store, org->id, acct->name);
    if (rc != RC_OK && rc != RC_NOT_FOUND) /* gone already: the same outcome */
        return rc;
    audit(a, "service_account.deleted", by, org->id,
          json_pack("{s:s, s:s}", "name", acct->name, "serviceAccountId", acct->user_id));
    audit(a, "membership.removed", by, org->id, json_pack("{s:s}", "userId", acct->user_id));
    return RC_OK;
}

enum rc orgadmin_sa_issue(struct auth *a, const struct store_org *org,
                          const struct store_service_account *acct, struct auth_pat_spec *spec,
                          const struct orgadmin_actor *by, char token_out[TOKEN_BUF_SIZE],
                          struct store_token *row_out, char *err, size_t errlen)
{
    enum rc rc = orgadmin_require(org, MANAGING, err, errlen);
    if (rc != RC_OK)
        return rc;
    spec->user_id = acct->user_id;
    spec->org_id = org->id;
    /* A token that breaks the policy could never act in the organization it is bound to. */
    struct store_token probe = {0};
    probe.created_at = auth_now(a);
    probe.expires_at = spec->expires_at;
    store_copy_field(probe.org_id, sizeof probe.org_id, org->id);
    if (auth_check_policy(&probe, &org->token_policy, org->name, err, errlen) != RC_OK)
        return RC_INVALID;
    return auth_issue_pat_spec(a, spec, by->ip, token_out, row_out, err, errlen);
}

enum rc orgadmin_sa_revoke(struct auth *a, const struct store_org *org,
                           const struct store_service_account *acct, const char *token_id,
                           const struct orgadmin_actor *by, char *err, size_t errlen)
{
    enum rc rc = orgadmin_require(org, MANAGING, err, errlen);
    if (rc != RC_OK)
        return rc;
    rc = auth_revoke_for(a, acct->user_id, token_id, by->user_id, org->id, by->ip);
    if (rc == RC_NOT_FOUND)
        snprintf(err, errlen, "the service account has no active token with that id");
    return rc;
}

/* --- invitations ---------------------------------------------------------------------------- */

#define INVITING "inviting members"

enum rc orgadmin_invite(struct auth *a, const struct store_org *org, const char *email,
                        const char *role, const struct orgadmin_actor *by,
                        struct store_invitation *out, char *err, size_t errlen)
{
    enum rc rc = orgadmin_require(org, INVITING, err, errlen);
    if (rc != RC_OK)
        return rc;
    if (!email || !text_is_email(email) || strlen(email) >= STORE_EMAIL_SIZE) {
        snprintf(err, errlen, "email: must be an email address");
        return RC_INVALID;
    }
    if (!role || (strcmp(role, "admin") != 0 && strcmp(role, "member") != 0)) {
        snprintf(err, errlen, "role: must be admin or member");
        return RC_INVALID;
    }
    /* Already a member: the members list shows it anyway, so saying so reveals nothing. */
    struct store_user user;
    struct store_org existing;
    rc = store_user_by_email(a->store, email, &user);
    if (rc == RC_OK)
        rc = store_org_for_member(a->store, user.id, org->name, &existing);
    if (rc == RC_OK) {
        snprintf(err, errlen, "%s is a member of organization '%s' already", email, org->name);
        return RC_CONFLICT;
    }
    if (rc != RC_NOT_FOUND)
        return rc;
    struct store_invitation inv = {0};
    token_new_id("inv_", inv.id);
    store_copy_field(inv.org_id, sizeof inv.org_id, org->id);
    store_copy_field(inv.email, sizeof inv.email, email);
    store_copy_field(inv.role, sizeof inv.role, role);
    store_copy_field(inv.invited_by, sizeof inv.invited_by, by->user_id);
    inv.created_at = auth_now(a);
    inv.expires_at = inv.created_at + AUTH_INVITATION_SECONDS;
    store_copy_field(inv.status, sizeof inv.status, "pending");
    store_copy_field(inv.org_name, sizeof inv.org_name, org->name);
    store_copy_field(inv.org_verbose_name, sizeof inv.org_verbose_name, org->verbose_name);
    if ((rc = store_invitation_insert(a->store, &inv)) != RC_OK)
        return rc;
    audit(a, "invitation.created", by, org->id,
          json_pack("{s:s, s:s, s:s}", "invitationId", inv.id, "email", email, "role", role));
    if (out)
        *out = inv;
    return RC_OK;
}

enum rc orgadmin_invitations(struct auth *a, const struct store_org *org,
                             struct store_invitation **list, size_t *count, char *err,
                             size_t errlen)
{
    *list = NULL;
    *count = 0;
    enum rc rc = orgadmin_require(org, INVITING, err, errlen);
    if (rc != RC_OK)
        return rc;
    return store_invitations_for_org(a->store, org->id, auth_now(a), list, count);
}

enum rc orgadmin_invitation_revoke(struct auth *a, const struct store_org *org, const char *id,
                                   const struct orgadmin_actor *by, char *err, size_t errlen)
{
    enum rc rc = orgadmin_require(org, INVITING, err, errlen);
    if (rc != RC_OK)
        return rc;
    rc = store_invitation_revoke(a->store, org->id, id, auth_now(a));
    if (rc == RC_NOT_FOUND)
        snprintf(err, errlen, "organization '%s' has no pending invitation with that id",
                 org->name);
    if (rc != RC_OK)
        return rc;
    audit(a, "invitation.revoked", by, org->id, json_pack("{s:s}", "invitationId", id));
    return RC_OK;
}
