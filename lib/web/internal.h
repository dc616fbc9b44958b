/* internal.h: what the dashboard's handlers share: the request context (session, user, active
 * organization, CSRF token), escaping templates, page and redirect replies. */
#ifndef PCC_WEB_INTERNAL_H
#define PCC_WEB_INTERNAL_H

#include <stddef.h>

#include "api.h"
#include "buf.h"
#include "store.h"
#include "web.h"

#define WEB_SESSION_COOKIE "pcc_session"
#define WEB_PRESESSION_COOKIE "pcc_presession"
#define WEB_SECRET_LEN 43 /* base62 characters of a cookie secret: 256 bits */
#define WEB_MAX_ORGS 200  /* organizations listed in the switcher */

#define APP(req) ((struct api_app *)http_app(req))
#define WEBCFG(req) ((const struct web *)APP(req)->web)

/* One signed-in request: loaded by web_session_require. */
struct web_ctx {
    struct store_web_session session;
    struct store_user user;
    char csrf[DIGEST_HEX_SIZE]; /* the hidden field every form of this session carries */
    struct store_org org;       /* the active organization, with the user's role */
    int have_org;               /* 0 when the user belongs to no organization */
    struct store_org *orgs;     /* all of the user's organizations (store_free_list) */
    size_t org_count;
};

/* --- templates (template.c) --------------------------------------------------------------- */

/* One template variable: value is HTML-escaped unless raw is set (raw is only for fragments
 * rendered by these same templates). */
struct tpl_var {
    const char *name;
    const char *value;
    int raw;
};

/* Append s to out with & < > " ' escaped. */
enum rc web_escape(struct buf *out, const char *s);
/* Render the embedded template name ("tokens.html") into out: {{x}} is variable x escaped,
 * {{&x}} raw; an unknown variable renders as nothing. RC_NOT_FOUND for no such template. */
enum rc web_render(struct buf *out, const char *name, const struct tpl_var *vars, size_t n);
/* An embedded file's contents, or NULL. */
const char *web_file(const char *name, size_t *len);

/* Reply with a whole page: the layout around body_html (rendered by web_render), the security
 * headers, no-store. ctx NULL: the signed-out layout. */
void web_page(struct http_request *req, struct http_response *res, int status,
              const struct web_ctx *ctx, const char *title, struct buf *body_html);
/* A page holding one message (escaped) and a link back. */
void web_message(struct http_request *req, struct http_response *res, int status,
                 const struct web_ctx *ctx, const char *title, const char *message,
                 const char *back_url);
/* An error message from lib/auth ("expiresAt: ...") as a sentence for a page: capitalised, with
 * a full stop, into out (size bytes). */
void web_sentence(const char *err, char *out, size_t size);
/* What a confirmation page for a destructive action shows: the form POSTs to action with the
 * session's CSRF field; Cancel leads to cancel and changes nothing. */
struct web_confirm {
    const char *title;       /* the question: "Delete this token?" */
    const char *subject;     /* what it acts on, by name */
    const char *detail;      /* beside it: a display form, an owner */
    const char *consequence; /* what happens, and that it cannot be undone */
    const char *action;      /* the POST URL */
    const char *button;      /* the danger button's label */
    const char *cancel;      /* where Cancel goes */
};
/* Reply 200 with confirmation page c (page_title in the title bar). */
void web_confirm(struct http_request *req, struct http_response *res, const struct web_ctx *ctx,
                 const char *page_title, const struct web_confirm *c);
/* 303 See Other to url (a local path). */
void web_redirect(struct http_response *res, const char *url);
/* Add the headers every HTML reply carries: CSP, frame, referrer. */
void web_security_headers(struct http_response *res);
/* An epoch time as "2024-05-01 13:45 UTC", or "never" for 0, into out (32 bytes). */
void web_time(int64_t t, char out[32]);

/* --- sessions and CSRF (session.c) -------------------------------------------------------- */

/* Load the signed-in session of req into ctx (release with web_ctx_release). Without a valid
 * session: a 303 to /signin is in res and RC_UNAUTHORIZED returned. */
enum rc web_session_require(struct http_request *req, struct http_response *res,
                            struct web_ctx *ctx);
void web_ctx_release(struct web_ctx *ctx);
/* Start a session for user: store it and set its cookie in res. */
enum rc web_session_start(struct http_request *req, struct http_response *res,
                          const struct store_user *user, const char *org_id);
/* End ctx's session server-side and clear its cookie. */
void web_session_end(struct http_request *req, struct http_response *res, struct web_ctx *ctx);
/* For a POST of a signed-in form: form body, same-origin request and the session's CSRF
 * token. On failure the 4xx page is in res and the failure returned. */
enum rc web_check_post(struct http_request *req, struct http_response *res,
                       const struct web_ctx *ctx);
/* The signed-out forms (sign-in, sign-up): out gets the hidden-field value bound to the
 * pre-session cookie, setting that cookie in res when the browser has none. */
void web_presession_csrf(struct http_request *req, struct http_response *res,
                         char out[DIGEST_HEX_SIZE]);
/* The check of a signed-out form post (double submit + same origin). */
enum rc web_check_presession_post(struct http_request *req, struct http_response *res);
/* Decode form field name into out (size bytes): RC_OK, or RC_NOT_FOUND / RC_INVALID /
 * RC_TOO_LARGE. Trims nothing. */
enum rc web_field(struct http_request *req, const char *name, char *out, size_t size);
/* Switch ctx's session to org_id. */
enum rc web_session_set_org(struct http_request *req, struct web_ctx *ctx, const char *org_id);

/* --- handlers ----------------------------------------------------------------------------- */

void web_home(struct http_request *req, struct http_response *res);
void web_static(struct http_request *req, struct http_response *res);
void web_signin_page(struct http_request *req, struct http_response *res);
/* OAuth consent (oauth.c). web_oauth_resume: after sign-in, the /oauth/authorize URL the
 * browser was on (remembered in a cookie, which res clears), or NULL. */
void web_oauth_authorize_page(struct http_request *req, struct http_response *res);
void web_oauth_authorize(struct http_request *req, struct http_response *res);
const char *web_oauth_resume(struct http_request *req, struct http_response *res, char *out,
                             size_t size);
/* The device page (oauth.c): GET /device shows the code form, POST /device checks a code and
 * asks for consent, POST /device/decide approves or denies it. */
void web_device_page(struct http_request *req, struct http_response *res);
void web_device_lookup(struct http_request *req, struct http_response *res);
void web_device_decide(struct http_request *req, struct http_response *res);
/* OAuth logins (oauth.c): revoke one (POST /account/logins/{id}/revoke); sign out everywhere
 * (POST /signout/everywhere: every dashboard session and every OAuth login of the user). */
void web_oauth_login_revoke(struct http_request *req, struct http_response *res);
void web_signout_everywhere(struct http_request *req, struct http_response *res);
/* The "CLI logins" section of the tokens page for ctx's user into out (rendered HTML). */
enum rc web_oauth_logins_render(struct http_request *req, const struct web_ctx *ctx,
                                struct buf *out);
void web_signin(struct http_request *req, struct http_response *res);
/* Invitations and email verification (invitations.c, orgs.c). */
void web_invitations_page(struct http_request *req, struct http_response *res);
void web_invitation_accept(struct http_request *req, struct http_response *res);
void web_invitation_decline(struct http_request *req, struct http_response *res);
void web_invitation_revoke(struct http_request *req, struct http_response *res);
void web_verify_page(struct http_request *req, struct http_response *res);
void web_verify(struct http_request *req, struct http_response *res);
void web_verify_resend(struct http_request *req, struct http_response *res);
void web_signup_page(struct http_request *req, struct http_response *res);
void web_signup(struct http_request *req, struct http_response *res);
void web_signout(struct http_request *req, struct http_response *res);
void web_tokens_page(struct http_request *req, struct http_response *res);
void web_token_create(struct http_request *req, struct http_response *res);
void web_token_delete_page(struct http_request *req, struct http_response *res);
void web_token_delete(struct http_request *req, struct http_response *res);
void web_token_rotate_page(struct http_request *req, struct http_response *res);
void web_token_rotate(struct http_request *req, struct http_response *res);
void web_org_tokens_page(struct http_request *req, struct http_response *res);
void web_org_token_revoke_page(struct http_request *req, struct http_response *res);
void web_org_token_revoke(struct http_request *req, struct http_response *res);
void web_org_policy(struct http_request *req, struct http_response *res);
void web_service_accounts_page(struct http_request *req, struct http_response *res);
void web_service_account_create(struct http_request *req, struct http_response *res);
void web_service_account_delete_page(struct http_request *req, struct http_response *res);
void web_service_account_delete(struct http_request *req, struct http_response *res);
void web_sa_token_create(struct http_request *req, struct http_response *res);
void web_audit_page(struct http_request *req, struct http_response *res);
void web_orgs_page(struct http_request *req, struct http_response *res);
void web_org_create(struct http_request *req, struct http_response *res);
void web_org_switch(struct http_request *req, struct http_response *res);
void web_members_page(struct http_request *req, struct http_response *res);
void web_member_add(struct http_request *req, struct http_response *res);
void web_member_role(struct http_request *req, struct http_response *res);
void web_member_remove_page(struct http_request *req, struct http_response *res);
void web_member_remove(struct http_request *req, struct http_response *res);
void web_keys_page(struct http_request *req, struct http_response *res);
void web_key_create(struct http_request *req, struct http_response *res);
void web_key_revoke_page(struct http_request *req, struct http_response *res);
void web_key_revoke(struct http_request *req, struct http_response *res);

#endif
