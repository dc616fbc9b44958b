/* session.c: where the CLI's credentials and organization come from (environment, then the
 * credentials file, then the API), the transparent refresh of an expiring OAuth access token,
 * and API calls with errors turned into next steps. */
#include <fcntl.h>
#include <pwd.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <time.h>
#include <unistd.h>

#include "cli.h"
#include "oauth.h"
#include "timefmt.h"
#include "token.h"
#include "banned.h"

static const char *env_nonempty(const char *name)
{
    const char *v = getenv(name);
    return v && *v ? v : NULL;
}

static void default_config_path(char *out, size_t size)
{
    const char *explicit_path = env_nonempty("PIPECAT_CONFIG_PATH");
    if (explicit_path) {
        snprintf(out, size, "%s", explicit_path);
        return;
    }
    const char *home = env_nonempty("HOME");
    if (!home) {
        struct passwd *pw = getpwuid(getuid());
        home = pw ? pw->pw_dir : "/";
    }
    snprintf(out, size, "%s/.config/pipecatcloud/pipecatcloud.toml", home);
}

const char *session_token_source(const struct session *s)
{
    switch (s->source) {
    case TOKEN_SOURCE_ENV: return "PIPECAT_TOKEN";
    case TOKEN_SOURCE_FILE: return s->config_path;
    default: return "none";
    }
}

static double now_epoch(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

/* --- OAuth tokens: stored after a login, refreshed when due -------------------------------- */

int session_store_tokens(struct session *s, const json_t *body, const char *org)
{
    const char *at = json_string_value(json_object_get(body, "access_token"));
    const char *rt = json_string_value(json_object_get(body, "refresh_token"));
    enum rc rc;
    if ((rc = credfile_set_token(s->file, at)) != RC_OK ||
        (org && (rc = credfile_set_active_org(s->file, org)) != RC_OK) ||
        (rt && *rt && (rc = credfile_set_refresh_token(s->file, rt)) != RC_OK) ||
        (rc = credfile_set_token_expires_at(s->file, now_epoch() + oauth_expires_in(body))) !=
            RC_OK) {
        out_error(s->cli, "cannot update the credentials: %s", rc_message(rc));
        return EXIT_FAIL;
    }
    return session_save(s);
}

/* The refresh token to use when the session's token is due for a refresh, else NULL. */
static const char *refresh_due(const struct session *s)
{
    double expires_at;
    if (s->source != TOKEN_SOURCE_FILE || !s->token || strncmp(s->token, "pcc_pat_", 8) == 0 ||
        !credfile_token_expires_at(s->file, &expires_at) || expires_at <= 0 ||
        now_epoch() <= expires_at - 60)
        return NULL;
    const char *rt = credfile_get(s->file, "refresh_token");
    return rt && *rt ? rt : NULL; /* none: nothing to refresh with, the server judges */
}

/* Take an exclusive lock on the credentials file and read it again, so that of two commands
 * started together only one spends the refresh token (spending it twice would revoke the
 * whole login); the other finds the new tokens. Returns the lock's descriptor (-1: none). */
static int lock_and_reload(struct session *s)
{
    int fd = open(s->config_path, O_RDONLY | O_CLOEXEC);
    if (fd < 0)
        return -1;
    if (flock(fd, LOCK_EX) != 0) {
        close(fd);
        return -1;
    }
    struct credfile *fresh = NULL;
    char err[256];
    if (credfile_load(s->config_path, &fresh, NULL, err, sizeof err) == RC_OK) {
        credfile_free(s->file);
        s->file = fresh;
        s->token = credfile_get(s->file, "token");
        if (!s->token || !*s->token)
            s->token = credfile_org_get(s->file, "token");
        if (s->token && !*s->token)
            s->token = NULL;
    }
    return fd;
}

/* When the token from the file is an OAuth access token that expires within 60 s and a
 * refresh token is stored, trade the refresh token for new tokens at the issuer's token
 * endpoint and store them (docs/api/oauth.md). EXIT_OK (also when nothing was due), or EXIT_FAIL
 * after telling the user to log in again. */
static int refresh_if_due(struct session *s)
{
    if (!refresh_due(s))
        return EXIT_OK;
    struct cli *cli = s->cli;
    struct oauth_endpoints ep;
    struct client_reply r = {0};
    char err[512] = "";
    int lock = lock_and_reload(s);
    const char *rt = refresh_due(s);
    if (!rt) { /* another command refreshed meanwhile (or the file changed) */
        if (s->token && client_set_token(s->client, s->token) == RC_OK) {
            if (lock >= 0)
                close(lock);
            return EXIT_OK;
        }
        snprintf(err, sizeof err, "the credentials file changed meanwhile");
        goto fail;
    }
    if (session_discover(s, &ep) != EXIT_OK)
        goto fail;
    if (oauth_refresh(&ep, CLI_USER_AGENT, rt, &r, err, sizeof err) != RC_OK)
        goto fail;
    if (session_store_tokens(s, r.body, NULL) != EXIT_OK)
        goto fail;
    s->token = credfile_get(s->file, "token");
    if (client_set_token(s->client, s->token) != RC_OK)
        goto fail;
    client_reply_release(&r);
    if (lock >= 0)
        close(lock);
    return EXIT_OK;
fail:
    if (lock >= 0)
        close(lock);
    client_reply_release(&r);
    if (err[0])
        out_note(cli, "Refreshing the OAuth access token failed: %s", err);
    out_error(cli, "your login expired: run `%s auth login`", cli->prog);
    return EXIT_FAIL;
}

int session_discover(struct session *s, struct oauth_endpoints *ep)
{
    char err[512];
    enum rc rc = oauth_discover(s->api_host, CLI_USER_AGENT, ep, err, sizeof err);
    if (rc == RC_OK)
        return EXIT_OK;
    out_error(s->cli, "%s", err);
    return rc == RC_INVALID ? EXIT_USAGE : EXIT_FAIL;
}

int session_open(struct cli *cli, struct session *s, int need_token)
{
    memset(s, 0, sizeof *s);
    s->cli = cli;
    default_config_path(s->config_path, sizeof s->config_path);
    s->api_host = env_nonempty("PIPECAT_API_HOST");
    if (!s->api_host)
        s->api_host = DEFAULT_API_HOST;

    char err[512];
    int repaired = 0;
    if (credfile_load(s->config_path, &s->file, &repaired, err, sizeof err) != RC_OK) {
        out_error(cli, "cannot use the credentials file %s: %s", s->config_path, err);
        out_note(cli, "Fix the file, or remove it with `%s auth logout`.", cli->prog);
        return EXIT_FAIL;
    }
    if (repaired)
        out_warn(cli,
                 "%s was readable by other users; its permissions were reset to 0600. "
                 "Consider revoking the token it holds if others could read it.",
                 s->config_path);

    if ((s->token = env_nonempty("PIPECAT_TOKEN")))
        s->source = TOKEN_SOURCE_ENV;
    else if ((s->token = credfile_get(s->file, "token")) && *s->token)
        s->source = TOKEN_SOURCE_FILE;
    else if ((s->token = credfile_org_get(s->file, "token")) && *s->token)
        s->source = TOKEN_SOURCE_FILE;
    else
        s->token = NULL;

    if (!s->token && need_token) {
        out_error(cli,
                  "not logged in: run `%s auth login`, set PIPECAT_TOKEN, or run `%s auth "
                  "use-pat`",
                  cli->prog, cli->prog);
        return EXIT_FAIL;
    }
    if (s->token && strncmp(s->token, "pcc_pat_", 8) == 0) {
        enum rc rc = token_check_pat_offline(s->token, strlen(s->token));
        if (rc != RC_OK) {
            out_error(cli, "the token from %s %s", session_token_source(s),
                      rc == RC_TOKEN_CHECKSUM
                          ? "looks mistyped: its checksum does not match. Copy it again."
                          : "is malformed: it contains whitespace or control characters.");
            return EXIT_FAIL;
        }
    }
    enum rc rc = client_new(s->api_host, CLI_USER_AGENT, &s->client);
    if (rc != RC_OK) {
        out_error(cli, "PIPECAT_API_HOST '%s' is not an http:// or https:// URL", s->api_host);
        return EXIT_USAGE;
    }
    if (client_set_token(s->client, s->token) != RC_OK)
        return EXIT_FAIL;
    if (need_token)
        return refresh_if_due(s);
    return EXIT_OK;
}

void session_close(struct session *s)
{
    client_free(s->client);
    credfile_free(s->file);
    json_decref(s->orgs);
    memset(s, 0, sizeof *s);
}

/* Warn once per run when the token in use expires within a week. */
static void warn_if_expiring(struct session *s, const char *expiration)
{
    int64_t at;
    if (s->expiry_warned || !expiration[0] ||
        timefmt_parse(expiration, strlen(expiration), &at) != RC_OK)
        return;
    int64_t left = at - (int64_t)time(NULL);
    if (left >= 7 * 86400)
        return;
    s->expiry_warned = 1;
    char when[64];
    out_warn(s->cli,
             "the token in use (from %s) expires %s (%s): create or rotate one with `%s tokens "
             "rotate ID` before then",
             session_token_source(s), out_when_text(expiration, when, sizeof when),
             left <= 86400 ? "within a day" : "within 7 days", s->cli->prog);
}

int session_call(struct session *s, const char *method, const char *path, const json_t *body,
                 struct client_reply *reply)
{
    struct cli *cli = s->cli;
    char err[512];
    enum rc rc = client_request(s->client, method, path, body, reply, err, sizeof err);
    if (rc == RC_NETWORK) {
        out_error(cli, "%s", err);
        if (!client_tls_failed(s->client))
            out_note(cli, "Is the server running? PIPECAT_API_HOST selects it (now %s).",
                     client_host(s->client));
        return EXIT_FAIL;
    }
    if (rc != RC_OK) {
        out_error(cli, "%s", err);
        return EXIT_FAIL;
    }
    warn_if_expiring(s, reply->token_expiration);
    if (reply->status >= 200 && reply->status < 300)
        return EXIT_OK;
    if (reply->status == 404 && s->quiet_not_found) {
        snprintf(s->not_found, sizeof s->not_found, "%s", client_reply_error(reply));
        client_reply_release(reply);
        return SESSION_NOT_FOUND;
    }
    if (reply->status == 401) {
        out_error(cli,
                  "token rejected by %s (invalid, expired or revoked): run `%s auth "
                  "%s%s",
                  client_host(s->client), cli->prog,
                  s->token && strncmp(s->token, "pcc_pat_", 8) != 0
                      ? "login`"
                      : "use-pat` with a valid personal access token",
                  s->source == TOKEN_SOURCE_ENV ? " (or fix PIPECAT_TOKEN)" : "");
    } else if (reply->status == 429) {
        out_error(cli,
                  "%s: too many failed attempts from this address; wait a minute and "
                  "retry",
                  client_host(s->client));
    } else {
        out_error(cli, "%s (HTTP %ld from %s)", client_reply_error(reply), reply->status,
                  client_host(s->client));
    }
    client_reply_release(reply);
    return EXIT_FAIL;
}

json_t *session_orgs(struct session *s)
{
    if (s->orgs)
        return s->orgs;
    struct client_reply reply;
    if (session_call(s, "GET", "/v1/organizations", NULL, &reply) != EXIT_OK)
        return NULL;
    json_t *list = json_object_get(reply.body, "organizations");
    if (!json_is_array(list)) {
        out_error(s->cli, "unexpected answer from %s: no organizations list",
                  client_host(s->client));
        client_reply_release(&reply);
        return NULL;
    }
    s->orgs = json_incref(list);
    client_reply_release(&reply);
    return s->orgs;
}

int session_resolve_org(struct session *s, const char *flag_org)
{
    const char *org = flag_org;
    if (!org)
        org = env_nonempty("PIPECAT_ORG");
    if (!org) {
        org = credfile_get(s->file, "org");
        if (org && !*org)
            org = NULL;
    }
    if (!org) {
        json_t *orgs = session_orgs(s);
        if (!orgs)
            return EXIT_FAIL;
        org = json_string_value(json_object_get(json_array_get(orgs, 0), "name"));
        if (!org) {
            out_error(s->cli, "your account has no organization: ask an organization admin to "
                              "add you");
            return EXIT_FAIL;
        }
    }
    snprintf(s->org, sizeof s->org, "%s", org);
    return EXIT_OK;
}

int session_save(struct session *s)
{
    char err[512];
    if (credfile_save(s->file, err, sizeof err) != RC_OK) {
        out_error(s->cli, "cannot write the credentials file %s: %s", s->config_path, err);
        return EXIT_FAIL;
    }
    return EXIT_OK;
}
