/* routes.c: the dashboard's route table. Pages check the session themselves (a signed-out
 * browser is redirected to /signin rather than answered with JSON 401). */
#include "internal.h"
#include "banned.h"

static const struct http_route routes[] = {
    {"GET", "/", web_home, HTTP_ROUTE_PUBLIC},
    {"GET", "/static/{file}", web_static, HTTP_ROUTE_PUBLIC},
    {"GET", "/signin", web_signin_page, HTTP_ROUTE_PUBLIC},
    {"GET", "/oauth/authorize", web_oauth_authorize_page, HTTP_ROUTE_PUBLIC},
    {"POST", "/oauth/authorize", web_oauth_authorize, HTTP_ROUTE_PUBLIC},
    {"POST", "/signin", web_signin, HTTP_ROUTE_SLOW}, /* Argon2id: off the connection threads */
    {"GET", "/signup", web_signup_page, HTTP_ROUTE_PUBLIC},
    {"POST", "/signup", web_signup, HTTP_ROUTE_SLOW},
    {"POST", "/signout", web_signout, HTTP_ROUTE_PUBLIC},
    {"POST", "/signout/everywhere", web_signout_everywhere, HTTP_ROUTE_PUBLIC},
    {"GET", "/device", web_device_page, HTTP_ROUTE_PUBLIC},
    {"POST", "/device", web_device_lookup, HTTP_ROUTE_PUBLIC},
    {"POST", "/device/decide", web_device_decide, HTTP_ROUTE_PUBLIC},
    {"POST", "/account/logins/{id}/revoke", web_oauth_login_revoke, HTTP_ROUTE_PUBLIC},
    {"GET", "/account/tokens", web_tokens_page, HTTP_ROUTE_PUBLIC},
    {"POST", "/account/tokens", web_token_create, HTTP_ROUTE_PUBLIC},
    {"GET", "/account/tokens/{id}/delete", web_token_delete_page, HTTP_ROUTE_PUBLIC},
    {"POST", "/account/tokens/{id}/delete", web_token_delete, HTTP_ROUTE_PUBLIC},
    {"GET", "/account/tokens/{id}/rotate", web_token_rotate_page, HTTP_ROUTE_PUBLIC},
    {"POST", "/account/tokens/{id}/rotate", web_token_rotate, HTTP_ROUTE_PUBLIC},
    {"GET", "/account/audit", web_audit_page, HTTP_ROUTE_PUBLIC},
    {"GET", "/account/invitations", web_invitations_page, HTTP_ROUTE_PUBLIC},
    {"POST", "/account/invitations/{id}/accept", web_invitation_accept, HTTP_ROUTE_PUBLIC},
    {"POST", "/account/invitations/{id}/decline", web_invitation_decline, HTTP_ROUTE_PUBLIC},
    /* It mails (an SMTP relay may take seconds): off the connection threads. */
    {"POST", "/account/verify/resend", web_verify_resend, HTTP_ROUTE_SLOW},
    {"GET", "/verify-email", web_verify_page, HTTP_ROUTE_PUBLIC},
    {"POST", "/verify-email", web_verify, HTTP_ROUTE_PUBLIC},
    {"POST", "/org/invitations/{id}/revoke", web_invitation_revoke, HTTP_ROUTE_PUBLIC},
    {"GET", "/orgs", web_orgs_page, HTTP_ROUTE_PUBLIC},
    {"POST", "/orgs", web_org_create, HTTP_ROUTE_PUBLIC},
    {"POST", "/orgs/switch", web_org_switch, HTTP_ROUTE_PUBLIC},
    {"GET", "/org/members", web_members_page, HTTP_ROUTE_PUBLIC},
    {"POST", "/org/members", web_member_add, HTTP_ROUTE_PUBLIC},
    {"POST", "/org/members/{id}/role", web_member_role, HTTP_ROUTE_PUBLIC},
    {"GET", "/org/members/{id}/remove", web_member_remove_page, HTTP_ROUTE_PUBLIC},
    {"POST", "/org/members/{id}/remove", web_member_remove, HTTP_ROUTE_PUBLIC},
    {"GET", "/org/keys", web_keys_page, HTTP_ROUTE_PUBLIC},
    {"POST", "/org/keys", web_key_create, HTTP_ROUTE_PUBLIC},
    {"GET", "/org/keys/{id}/revoke", web_key_revoke_page, HTTP_ROUTE_PUBLIC},
    {"POST", "/org/keys/{id}/revoke", web_key_revoke, HTTP_ROUTE_PUBLIC},
    {"GET", "/org/tokens", web_org_tokens_page, HTTP_ROUTE_PUBLIC},
    {"POST", "/org/tokens/policy", web_org_policy, HTTP_ROUTE_PUBLIC},
    {"GET", "/org/tokens/{id}/revoke", web_org_token_revoke_page, HTTP_ROUTE_PUBLIC},
    {"POST", "/org/tokens/{id}/revoke", web_org_token_revoke, HTTP_ROUTE_PUBLIC},
    {"GET", "/org/service-accounts", web_service_accounts_page, HTTP_ROUTE_PUBLIC},
    {"POST", "/org/service-accounts", web_service_account_create, HTTP_ROUTE_PUBLIC},
    {"GET", "/org/service-accounts/{name}/delete", web_service_account_delete_page,
     HTTP_ROUTE_PUBLIC},
    {"POST", "/org/service-accounts/{name}/delete", web_service_account_delete, HTTP_ROUTE_PUBLIC},
    {"POST", "/org/service-accounts/{name}/tokens", web_sa_token_create, HTTP_ROUTE_PUBLIC},
};

const struct http_route *web_routes(size_t *count)
{
    *count = sizeof routes / sizeof routes[0];
    return routes;
}
