/* mailer.c: where verification links go: the log (the default, for servers without mail) or an
 * SMTP relay through libcurl (pccd serve --smtp-url). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <curl/curl.h>

#include "account.h"
#include "buf.h"
#include "log.h"
#include "text.h"
#include "banned.h"

#define SMTP_TIMEOUT_SECONDS 20

void auth_mailer_free(struct auth_mailer *m)
{
    if (m)
        m->free(m);
}

/* --- the log ------------------------------------------------------------------------------- */

static enum rc log_send(struct auth_mailer *m, const struct auth_mail *mail, char *err,
                        size_t errlen)
{
    (void)m;
    (void)err;
    (void)errlen;
    log_info("mail to %s: %s: %s", mail->to, mail->subject, mail->link);
    return RC_OK;
}

static void plain_free(struct auth_mailer *m) { free(m); }

struct auth_mailer *auth_mailer_log_new(void)
{
    struct auth_mailer *m = calloc(1, sizeof *m);
    if (m) {
        m->send = log_send;
        m->free = plain_free;
    }
    return m;
}

/* --- SMTP through libcurl ------------------------------------------------------------------ */

struct smtp_mailer {
    struct auth_mailer base;
    char url[512];
    char from[STORE_EMAIL_SIZE];
};

struct upload {
    const char *data;
    size_t len, at;
};

static size_t read_message(char *out, size_t size, size_t n, void *arg)
{
    struct upload *u = arg;
    size_t room = size * n, left = u->len - u->at;
    size_t k = left < room ? left : room;
    memcpy(out, u->data + u->at, k);
    u->at += k;
    return k;
}

/* An address that can stand between angle brackets in an SMTP command and a header. */
static int plain_address(const char *s) { return text_is_email(s) && !strpbrk(s, "<>()[],;:\\\""); }

/* The message: headers, then text with CRLF line ends (and dot-stuffing left to libcurl). */
static enum rc compose(const struct smtp_mailer *sm, const struct auth_mail *mail, struct buf *b)
{
    char date[64];
    time_t now = time(NULL);
    struct tm tm;
    gmtime_r(&now, &tm);
    strftime(date, sizeof date, "%a, %d %b %Y %H:%M:%S +0000", &tm);
    char id[ID_BUF_SIZE];
    token_new_id("msg_", id);
    const char *domain = strchr(sm->from, '@') + 1;
    enum rc rc = buf_addf(b,
                          "Date: %s\r\nFrom: <%s>\r\nTo: <%s>\r\nSubject: %s\r\n"
                          "Message-ID: <%s@%s>\r\nMIME-Version: 1.0\r\n"
                          "Content-Type: text/plain; charset=utf-8\r\n"
                          "Content-Transfer-Encoding: 8bit\r\n\r\n",
                          date, sm->from, mail->to, mail->subject, id, domain);
    for (const char *p = mail->text; rc == RC_OK && *p; p++)
        rc = *p == '\n' ? buf_add(b, "\r\n", 2) : buf_addc(b, *p);
    return rc;
}

static enum rc smtp_send(struct auth_mailer *m, const struct auth_mail *mail, char *err,
                         size_t errlen)
{
    struct smtp_mailer *sm = (struct smtp_mailer *)m;
    struct buf msg = BUF_INIT;
    struct curl_slist *rcpt = NULL;
    CURL *c = NULL;
    char to[STORE_EMAIL_SIZE + 2], from[STORE_EMAIL_SIZE + 2];
    enum rc rc = RC_UNAVAILABLE;
    if (!plain_address(mail->to) || strpbrk(mail->subject, "\r\n")) {
        snprintf(err, errlen, "cannot mail that address");
        return RC_INVALID;
    }
    buf_init(&msg, 64 * 1024);
    if (compose(sm, mail, &msg) != RC_OK) {
        snprintf(err, errlen, "the message is too long");
        goto out;
    }
    snprintf(to, sizeof to, "<%s>", mail->to);
    snprintf(from, sizeof from, "<%s>", sm->from);
    struct upload up = {buf_str(&msg), msg.len, 0};
    if (!(c = curl_easy_init()) || !(rcpt = curl_slist_append(NULL, to))) {
        snprintf(err, errlen, "out of memory");
        goto out;
    }
    curl_easy_setopt(c, CURLOPT_URL, sm->url);
    curl_easy_setopt(c, CURLOPT_PROTOCOLS_STR, "smtp,smtps");
    curl_easy_setopt(c, CURLOPT_MAIL_FROM, from);
    curl_easy_setopt(c, CURLOPT_MAIL_RCPT, rcpt);
    curl_easy_setopt(c, CURLOPT_READFUNCTION, read_message);
    curl_easy_setopt(c, CURLOPT_READDATA, &up);
    curl_easy_setopt(c, CURLOPT_UPLOAD, 1L);
    curl_easy_setopt(c, CURLOPT_NOSIGNAL, 1L);
    curl_easy_setopt(c, CURLOPT_TIMEOUT, (long)SMTP_TIMEOUT_SECONDS);
    CURLcode cc = curl_easy_perform(c);
    if (cc != CURLE_OK) {
        snprintf(err, errlen, "smtp: %s", curl_easy_strerror(cc));
        goto out;
    }
    log_info("mail to %s: %s: sent through the SMTP relay", mail->to, mail->subject);
    rc = RC_OK;
out:
    curl_slist_free_all(rcpt);
    if (c)
        curl_easy_cleanup(c);
    buf_release_secret(&msg);
    return rc;
}

enum rc auth_mailer_smtp_new(const char *url, const char *from, struct auth_mailer **out, char *err,
                             size_t errlen)
{
    *out = NULL;
    if (!url || (strncmp(url, "smtp://", 7) != 0 && strncmp(url, "smtps://", 8) != 0) ||
        strlen(url) >= sizeof((struct smtp_mailer *)0)->url || strpbrk(url, " \r\n")) {
        snprintf(err, errlen, "the SMTP URL must be smtp://HOST[:PORT] or smtps://HOST[:PORT]");
        return RC_INVALID;
    }
    if (!from || !plain_address(from)) {
        snprintf(err, errlen, "the sender must be a plain email address");
        return RC_INVALID;
    }
    /* Once, before any thread can send: curl_global_init is not thread-safe. */
    if (curl_global_init(CURL_GLOBAL_DEFAULT) != CURLE_OK) {
        snprintf(err, errlen, "cannot initialise libcurl");
        return RC_NOMEM;
    }
    struct smtp_mailer *sm = calloc(1, sizeof *sm);
    if (!sm) {
        snprintf(err, errlen, "out of memory");
        return RC_NOMEM;
    }
    sm->base.send = smtp_send;
    sm->base.free = plain_free;
    snprintf(sm->url, sizeof sm->url, "%s", url);
    snprintf(sm->from, sizeof sm->from, "%s", from);
    *out = &sm->base;
    return RC_OK;
}
