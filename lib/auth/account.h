/* account.h: what an account proves and consents to, shared by the API, the dashboard and pccd:
 * its email address (a one-time link sent through a pluggable mailer), the invitations addressed
 * to it (accepted or declined by the invitee only), and the budgets of sign-in failures per
 * account and of sign-ups per address. */
#ifndef PCC_ACCOUNT_H
#define PCC_ACCOUNT_H

#include <stddef.h>
#include <stdint.h>

#include "auth.h"

#define AUTH_VERIFY_SECONDS (24 * 3600) /* a verification link works for a day */
#define AUTH_VERIFY_CODE_LEN 43         /* base62 characters: 256 bits */
#define AUTH_VERIFY_CODE_BUF_SIZE (AUTH_VERIFY_CODE_LEN + 1)
#define AUTH_INVITATION_SECONDS (7 * 86400) /* an invitation can be accepted for a week */

/* The defaults of the budgets (auth_init installs them): 20 failed sign-ins of one account (from
 * any addresses) in 15 minutes block its sign-in for 15 minutes; 10 sign-ups from one address in
 * an hour block its sign-ups for an hour. */
extern const struct auth_limits auth_account_defaults;
extern const struct auth_limits auth_signup_defaults;

/* --- mailers ------------------------------------------------------------------------------ */

/* One message. link is what the message is for (a verification link), also inside text. */
struct auth_mail {
    const char *to;
    const char *subject;
    const char *text;
    const char *link;
};

/* Where mail goes. send may be called from several threads at once; it returns RC_OK or
 * RC_UNAVAILABLE with err (never holding the message). free releases the mailer. */
struct auth_mailer {
    enum rc (*send)(struct auth_mailer *m, const struct auth_mail *mail, char *err, size_t errlen);
    void (*free)(struct auth_mailer *m);
};

/* The default mailer: writes "mail to ADDRESS: SUBJECT: LINK" to the log at info level. The
 * link is this mailer's delivery (the operator passes it on): it is the one secret that reaches
 * the log, and only through this mailer. NULL when out of memory. */
struct auth_mailer *auth_mailer_log_new(void);
/* A mailer that sends through the SMTP relay at url (smtp://HOST[:PORT] or smtps://...) with
 * libcurl, from the address from. RC_INVALID with err for another scheme or a bad from. */
enum rc auth_mailer_smtp_new(const char *url, const char *from, struct auth_mailer **out, char *err,
                             size_t errlen);
/* Free m (NULL: no-op). */
void auth_mailer_free(struct auth_mailer *m);
/* Replace a's mailer with m (a owns it from now on). */
void auth_set_mailer(struct auth *a, struct auth_mailer *m);
/* Replace the sign-in and sign-up budgets (NULL keeps one); RC_NOMEM. */
enum rc auth_set_account_limits(struct auth *a, const struct auth_limits *account,
                                const struct auth_limits *signup);

/* --- sign-in and sign-up budgets ---------------------------------------------------------- */

/* Seconds the sign-in of email stays refused at now, because of its address's failures (ip) or
 * of the account's (from every address); 0 when it may try. The same for an address that has
 * no account, so the answer tells nothing about accounts. */
int auth_signin_blocked(struct auth *a, const char *ip, const char *email);
/* Count a failed sign-in of email from ip, against both budgets. */
void auth_signin_failed(struct auth *a, const char *ip, const char *email);
/* Count a sign-up attempt from ip; seconds it must wait (0: go on) when it is over budget. */
int auth_signup_attempt(struct auth *a, const char *ip);

/* --- email verification ------------------------------------------------------------------- */

/* Send user a new verification link, base_url + "/verify-email?code=CODE" (the code stored as
 * its keyed digest, valid AUTH_VERIFY_SECONDS), through a's mailer; audits
 * "email.verification_sent". RC_UNAVAILABLE with err when the mailer fails. */
enum rc auth_verification_send(struct auth *a, const struct store_user *user, const char *base_url,
                               const char *ip, char *err, size_t errlen);
/* Tell email that someone tried to sign up with it while it has an account (sign-up answers
 * the same either way, so this mail is where the owner learns it). */
enum rc auth_signup_taken_send(struct auth *a, const char *email, const char *base_url, char *err,
                               size_t errlen);
/* The code's row and its user without spending it: RC_OK when it can still be used,
 * RC_CONFLICT when used or expired, RC_NOT_FOUND when unknown (or malformed). */
enum rc auth_verification_find(struct auth *a, const char *code, struct store_email_code *out,
                               struct store_user *user);
/* Spend the code: its user's email is verified. Audits "email.verified". Errors as find. */
enum rc auth_verification_use(struct auth *a, const char *code, const char *ip,
                              struct store_user *user);

/* --- invitations, as the invitee sees them ------------------------------------------------ */

/* The pending, unexpired invitations addressed to user (*list freed with store_free_list).
 * *verified: 0 when user's email is not verified, and then the list is empty. */
enum rc auth_invitations_for(struct auth *a, const struct store_user *user,
                             struct store_invitation **list, size_t *count, int *verified);
/* Accept (accept 1) or decline invitation id as user, through token_id (NULL for a dashboard
 * session) from ip. RC_NOT_FOUND (err) when no invitation of theirs has that id (an
 * unverified address sees none); RC_CONFLICT (err says why) when it expired or was decided or
 * revoked. Audits "invitation.accepted" and "membership.added", or "invitation.declined".
 * out (may be NULL) gets the row. */
enum rc auth_invitation_decide(struct auth *a, const struct store_user *user, const char *id,
                               int accept, const char *token_id, const char *ip,
                               struct store_invitation *out, char *err, size_t errlen);

#endif
