/* invitations.c: invitations to join an organization: its admins invite an address, list and
 * withdraw; the invitee lists, accepts and declines their own. The rules and audit records are
 * lib/auth's (orgadmin.h for admins, account.h for the invitee); this file parses and replies. */
#include <stdio.h>
#include <string.h>

#include "internal.h"
#include "account.h"
#include "orgadmin.h"
#include "banned.h"

/* What the inviter is told in every case, account or not (docs/api/invitations.md). */
#define SENT "invitation sent if the address can receive it"

/* An invitation as its organization's admins see it. */
static json_t *admin_json(const struct store_invitation *inv)
{
    return json_pack("{s:s, s:s, s:s, s:s, s:o, s:o}", "id", inv->id, "email", inv->email, "role",
                     inv->role, "status", inv->status, "createdAt", api_time(inv->created_at),
                     "expiresAt", api_time(inv->expires_at));
}

/* An invitation as its invitee sees it: which organization, who invited, as what. */
static json_t *invitee_json(const struct store_invitation *inv)
{
    return json_pack("{s:s, s:s, s:s, s:s, s:s, s:s, s:o, s:o}", "id", inv->id, "organization",
                     inv->org_name, "organizationName", inv->org_verbose_name, "role", inv->role,
                     "invitedBy", inv->inviter_email, "status", inv->status, "createdAt",
                     api_time(inv->created_at), "expiresAt", api_time(inv->expires_at));
}

void api_create_invitation(struct http_request *req, struct http_response *res)
{
    static const char *const fields[] = {"email", "role", NULL};
    struct store_org org;
    char err[256];
    if (api_member_org(req, res, &org) != RC_OK)
        return;
    enum rc rc = orgadmin_require(&org, "inviting members", err, sizeof err);
    if (rc != RC_OK) {
        api_rule_error(req, res, rc, err);
        return;
    }
    json_t *body = http_json_body(req, res, fields);
    if (!body)
        return;
    json_t *email = json_object_get(body, "email"), *role = json_object_get(body, "role");
    if (!json_is_string(email) || (role && !json_is_string(role))) {
        http_error(req, res, RC_INVALID,
                   !json_is_string(email) ? "email: must be a string" : "role: must be a string");
        goto out;
    }
    struct store_invitation inv;
    rc = orgadmin_invite(&APP(req)->auth, &org, json_string_value(email),
                         role ? json_string_value(role) : "member", API_ACTOR(req), &inv, err,
                         sizeof err);
    if (rc != RC_OK) {
        api_rule_error(req, res, rc, err);
        goto out;
    }
    json_t *reply = admin_json(&inv);
    json_object_set_new(reply, "message", json_string(SENT));
    api_reply(req, res, 201, reply);
out:
    json_decref(body);
}

void api_list_invitations(struct http_request *req, struct http_response *res)
{
    struct store_org org;
    char err[256];
    if (api_member_org(req, res, &org) != RC_OK)
        return;
    struct store_invitation *list = NULL;
    size_t n = 0;
    enum rc rc = orgadmin_invitations(&APP(req)->auth, &org, &list, &n, err, sizeof err);
    if (rc != RC_OK) {
        api_rule_error(req, res, rc, err);
        return;
    }
    json_t *arr = json_array();
    for (size_t i = 0; i < n; i++)
        json_array_append_new(arr, admin_json(&list[i]));
    store_free_list(list);
    api_reply(req, res, 200, json_pack("{s:s, s:o}", "organization", org.name, "invitations", arr));
}

void api_revoke_invitation(struct http_request *req, struct http_response *res)
{
    struct store_org org;
    char err[256];
    if (api_member_org(req, res, &org) != RC_OK)
        return;
    const char *id = http_param(req, "id");
    enum rc rc = orgadmin_invitation_revoke(&APP(req)->auth, &org, id, API_ACTOR(req), err,
                                            sizeof err);
    if (rc != RC_OK) {
        api_rule_error(req, res, rc, err);
        return;
    }
    api_reply(req, res, 200,
              json_pack("{s:s, s:s, s:s}", "status", "OK", "id", id, "invitation", "revoked"));
}

void api_my_invitations(struct http_request *req, struct http_response *res)
{
    struct store_invitation *list = NULL;
    size_t n = 0;
    int verified = 0;
    enum rc rc = auth_invitations_for(&APP(req)->auth, &CALLER(req)->user, &list, &n, &verified);
    if (rc != RC_OK) {
        api_store_error(req, res, rc);
        return;
    }
    json_t *arr = json_array();
    for (size_t i = 0; i < n; i++)
        json_array_append_new(arr, invitee_json(&list[i]));
    store_free_list(list);
    api_reply(req, res, 200,
              json_pack("{s:o, s:b}", "invitations", arr, "emailVerified", verified));
}

static void decide(struct http_request *req, struct http_response *res, int accept)
{
    char err[256];
    const struct auth_principal *caller = CALLER(req);
    /* Joining widens what every unbound token of the caller reaches: a token bound to one
     * organization cannot decide that. */
    if (caller->token.org_id[0]) {
        http_error(req, res, RC_FORBIDDEN,
                   "a token bound to one organization cannot answer invitations: use an "
                   "unbound token or the dashboard");
        return;
    }
    struct store_invitation inv;
    enum rc rc = auth_invitation_decide(&APP(req)->auth, &caller->user, http_param(req, "id"),
                                        accept, caller->token.id, http_client_ip(req), &inv, err,
                                        sizeof err);
    if (rc != RC_OK) {
        api_rule_error(req, res, rc, err);
        return;
    }
    api_reply(req, res, 200, invitee_json(&inv));
}

void api_accept_invitation(struct http_request *req, struct http_response *res)
{
    decide(req, res, 1);
}

void api_decline_invitation(struct http_request *req, struct http_response *res)
{
    decide(req, res, 0);
}
