/* invitations.c: the invitee's side of invitations (list, accept, decline) and email
 * verification: the page a verification link opens (GET only shows a Confirm button, so a mail
 * scanner that follows links spends nothing; the POST with its CSRF field verifies) and sending a
 * new link. The rules are lib/auth's (account.h); this file reads forms and renders. */
#include <stdio.h>
#include <string.h>

#include <sodium.h>

#include "internal.h"
#include "account.h"
#include "banned.h"

#define UNAVAILABLE "The server cannot reach its database. Try again in a moment."

static void invitations_page(struct http_request *req, struct http_response *res,
                             struct web_ctx *ctx, const char *notice)
{
    struct api_app *app = APP(req);
    struct store_invitation *list = NULL;
    size_t n = 0;
    int verified = 0;
    if (auth_invitations_for(&app->auth, &ctx->user, &list, &n, &verified) != RC_OK) {
        web_message(req, res, 503, ctx, "Unavailable", UNAVAILABLE, "/account/tokens");
        return;
    }
    struct buf rows = BUF_INIT, body = BUF_INIT;
    for (size_t i = 0; i < n; i++) {
        char expires[32];
        web_time(list[i].expires_at, expires);
        struct tpl_var v[] = {{"id", list[i].id, 0},
                              {"org", list[i].org_name, 0},
                              {"name", list[i].org_verbose_name, 0},
                              {"role", list[i].role, 0},
                              {"by", list[i].inviter_email[0] ? list[i].inviter_email : "-", 0},
                              {"expires", expires, 0},
                              {"csrf", ctx->csrf, 0}};
        web_render(&rows, "invitation_row.html", v, sizeof v / sizeof v[0]);
    }
    struct tpl_var v[] = {{"email", ctx->user.email, 0},
                          {"rows", buf_str(&rows), 1},
                          {"empty", n ? "hidden" : "", 0},
                          {"verified", verified ? "" : "hidden", 0},
                          {"unverified", verified ? "hidden" : "", 0},
                          {"csrf", ctx->csrf, 0},
                          {"notice", notice ? notice : "", 0},
                          {"notice_class", notice ? "notice" : "hidden", 0}};
    web_render(&body, "invitations.html", v, sizeof v / sizeof v[0]);
    web_page(req, res, 200, ctx, "Invitations", &body);
    buf_release(&rows);
    buf_release(&body);
    store_free_list(list);
}

void web_invitations_page(struct http_request *req, struct http_response *res)
{
    struct web_ctx ctx;
    if (web_session_require(req, res, &ctx) != RC_OK)
        return;
    const char *done = http_query(req, "done");
    const char *notice = !done                           ? NULL
                         : strcmp(done, "accepted") == 0 ? "Invitation accepted: you are a "
                                                           "member now (see Organizations)."
                         : strcmp(done, "declined") == 0 ? "Invitation declined."
                         : strcmp(done, "sent") == 0     ? "A new link is on its way to your "
                                                           "address."
                                                         : NULL;
    invitations_page(req, res, &ctx, notice);
    web_ctx_release(&ctx);
}

static void decide(struct http_request *req, struct http_response *res, int accept)
{
    struct web_ctx ctx;
    char err[256], msg[300];
    if (web_session_require(req, res, &ctx) != RC_OK)
        return;
    if (web_check_post(req, res, &ctx) != RC_OK)
        goto out;
    enum rc rc = auth_invitation_decide(&APP(req)->auth, &ctx.user, http_param(req, "id"), accept,
                                        NULL, http_client_ip(req), NULL, err, sizeof err);
    if (rc == RC_NOT_FOUND || rc == RC_CONFLICT) {
        web_sentence(err, msg, sizeof msg);
        web_message(req, res, rc == RC_NOT_FOUND ? 404 : 409, &ctx, "Invitation", msg,
                    "/account/invitations");
    } else if (rc != RC_OK) {
        web_message(req, res, 503, &ctx, "Unavailable", UNAVAILABLE, "/account/invitations");
    } else {
        web_redirect(res, accept ? "/account/invitations?done=accepted"
                                 : "/account/invitations?done=declined");
    }
out:
    web_ctx_release(&ctx);
}

void web_invitation_accept(struct http_request *req, struct http_response *res)
{
    decide(req, res, 1);
}

void web_invitation_decline(struct http_request *req, struct http_response *res)
{
    decide(req, res, 0);
}

/* --- email verification -------------------------------------------------------------------- */

#define LINK_SPENT                                                                                 \
    "This link was used already or has expired. Sign in and send a new one from the "              \
    "Invitations page."
#define LINK_UNKNOWN "This link is not valid. Check that it was copied whole."

static void link_failed(struct http_request *req, struct http_response *res, enum rc rc)
{
    if (rc == RC_CONFLICT)
        web_message(req, res, 410, NULL, "Link used or expired", LINK_SPENT, "/signin");
    else if (rc == RC_NOT_FOUND)
        web_message(req, res, 404, NULL, "Link not valid", LINK_UNKNOWN, "/signin");
    else
        web_message(req, res, 503, NULL, "Unavailable", UNAVAILABLE, "/signin");
}

void web_verify_page(struct http_request *req, struct http_response *res)
{
    const char *code = http_query(req, "code");
    struct store_email_code row;
    struct store_user user;
    enum rc rc = auth_verification_find(&APP(req)->auth, code, &row, &user);
    if (rc != RC_OK) {
        link_failed(req, res, rc);
        return;
    }
    char csrf[DIGEST_HEX_SIZE], created[32];
    web_presession_csrf(req, res, csrf);
    web_time(user.created_at, created);
    struct buf body = BUF_INIT;
    struct tpl_var v[] = {
        {"email", user.email, 0}, {"created", created, 0}, {"csrf", csrf, 0}, {"code", code, 0}};
    web_render(&body, "verify.html", v, sizeof v / sizeof v[0]);
    web_page(req, res, 200, NULL, "Confirm your email address", &body);
    buf_release_secret(&body);
}

void web_verify(struct http_request *req, struct http_response *res)
{
    char code[AUTH_VERIFY_CODE_BUF_SIZE + 1] = "", msg[400];
    if (web_check_presession_post(req, res) != RC_OK)
        return;
    struct store_user user;
    enum rc rc = web_field(req, "code", code, sizeof code);
    rc = rc == RC_OK ? auth_verification_use(&APP(req)->auth, code, http_client_ip(req), &user)
                     : RC_NOT_FOUND;
    sodium_memzero(code, sizeof code);
    if (rc != RC_OK) {
        link_failed(req, res, rc);
        return;
    }
    snprintf(msg, sizeof msg,
             "%s is confirmed. Organizations can invite it now: invitations wait on the "
             "Invitations page once you sign in.",
             user.email);
    web_message(req, res, 200, NULL, "Address confirmed", msg, "/account/invitations");
}

void web_verify_resend(struct http_request *req, struct http_response *res)
{
    struct api_app *app = APP(req);
    struct web_ctx ctx;
    char err[200];
    if (web_session_require(req, res, &ctx) != RC_OK)
        return;
    if (web_check_post(req, res, &ctx) != RC_OK)
        goto out;
    int verified = 0;
    if (store_user_email_verified(app->store, ctx.user.id, &verified) != RC_OK) {
        web_message(req, res, 503, &ctx, "Unavailable", UNAVAILABLE, "/account/invitations");
        goto out;
    }
    if (verified) {
        web_redirect(res, "/account/invitations");
        goto out;
    }
    /* Each link is a mail: the sign-up budget of the address limits them. */
    int left = auth_signup_attempt(&app->auth, http_client_ip(req));
    if (left > 0) {
        char secs[16];
        snprintf(secs, sizeof secs, "%d", left);
        http_add_header(res, "Retry-After", secs);
        web_message(req, res, 429, &ctx, "Too many attempts",
                    "Too many links were sent from your address. Wait, then try again.",
                    "/account/invitations");
        goto out;
    }
    if (auth_verification_send(&app->auth, &ctx.user, app->public_url, http_client_ip(req), err,
                               sizeof err) != RC_OK) {
        web_message(req, res, 503, &ctx, "Unavailable",
                    "The link could not be sent. Try again in a moment.", "/account/invitations");
        goto out;
    }
    web_redirect(res, "/account/invitations?done=sent");
out:
    web_ctx_release(&ctx);
}
