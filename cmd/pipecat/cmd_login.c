/* cmd_login.c: `auth login`: the browser sign-in (OAuth 2.0 authorization code grant with PKCE
 * and a loopback redirect) or, with --headless, the device authorization grant. The protocol
 * is lib/client/oauth.c; this file prints, opens the browser and stores the tokens. */
#include <errno.h>
#include <fcntl.h>
#include <spawn.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cli.h"
#include "oauth.h"
#include "banned.h"

extern char **environ;

#define LOGIN_WAIT_SECONDS 120
/* Tests may shorten the wait (never lengthen it): honoured only from 1 to 119 seconds. */
#define LOGIN_WAIT_ENV "PIPECAT_LOGIN_TIMEOUT"
#define FIRST_PORT 8400
#define LAST_PORT 8404

/* Start xdg-open on url, detached, when a graphical session seems to be there. */
static void open_browser(const char *url)
{
    const char *d = getenv("DISPLAY"), *w = getenv("WAYLAND_DISPLAY");
    if ((!d || !*d) && (!w || !*w))
        return;
    const char *path = getenv("PATH");
    char exe[4096] = "";
    while (path && *path) {
        size_t n = strcspn(path, ":");
        if (n > 0 && n < sizeof exe - 10) {
            snprintf(exe, sizeof exe, "%.*s/xdg-open", (int)n, path);
            if (access(exe, X_OK) == 0)
                break;
        }
        exe[0] = '\0';
        path += n + (path[n] == ':');
    }
    if (!exe[0])
        return;
    posix_spawn_file_actions_t fa;
    posix_spawnattr_t attr;
    posix_spawn_file_actions_init(&fa);
    posix_spawnattr_init(&attr);
    posix_spawn_file_actions_addopen(&fa, 0, "/dev/null", O_RDONLY, 0);
    posix_spawn_file_actions_addopen(&fa, 1, "/dev/null", O_WRONLY, 0);
    posix_spawn_file_actions_addopen(&fa, 2, "/dev/null", O_WRONLY, 0);
    posix_spawnattr_setflags(&attr, POSIX_SPAWN_SETSID);
    char *argv[] = {"xdg-open", (char *)url, NULL};
    pid_t pid;
    posix_spawn(&pid, exe, &fa, &attr, argv, environ);
    posix_spawn_file_actions_destroy(&fa);
    posix_spawnattr_destroy(&attr);
}

/* The seconds `auth login` waits for the browser: LOGIN_WAIT_SECONDS, or less when the
 * environment asks for less (tests); a larger or malformed value is ignored. */
static int login_wait_seconds(void)
{
    const char *v = getenv(LOGIN_WAIT_ENV);
    if (!v || !*v)
        return LOGIN_WAIT_SECONDS;
    char *end;
    errno = 0;
    long n = strtol(v, &end, 10);
    if (errno || *end || n < 1 || n >= LOGIN_WAIT_SECONDS)
        return LOGIN_WAIT_SECONDS;
    return (int)n;
}

/* The device authorization grant (RFC 8628): print the code, then wait for approval.
 * EXIT_OK with tokens holding the 200 answer, else the message is printed. */
static int device_login(struct cli *cli, const struct oauth_endpoints *ep,
                        struct client_reply *tokens)
{
    char err[512];
    struct oauth_device d;
    memset(tokens, 0, sizeof *tokens);
    enum rc rc = oauth_device_start(ep, CLI_USER_AGENT, &d, err, sizeof err);
    if (rc == RC_NOT_IMPLEMENTED) {
        out_error(cli,
                  "%s does not offer headless sign-in (its OpenID configuration has no "
                  "device_authorization_endpoint); run `%s auth login` without --headless",
                  ep->issuer, cli->prog);
        return EXIT_FAIL;
    }
    if (rc != RC_OK) {
        out_error(cli, "%s", err);
        return EXIT_FAIL;
    }
    fprintf(stderr,
            "To sign in, open this URL in a browser on any device:\n\n    %s\n\n"
            "and enter the code:\n\n    %s\n\n",
            d.uri, d.user_code);
    if (d.uri_complete[0])
        fprintf(stderr, "Or open this URL, which carries the code:\n\n    %s\n\n", d.uri_complete);
    fprintf(stderr, "Waiting for approval (the code expires in %lld seconds)...\n",
            (long long)d.expires_in);
    fflush(stderr);
    switch (oauth_device_poll(ep, CLI_USER_AGENT, &d, tokens, err, sizeof err)) {
    case OAUTH_DEVICE_APPROVED: return EXIT_OK;
    case OAUTH_DEVICE_DENIED: out_error(cli, "Authorization was denied."); break;
    case OAUTH_DEVICE_EXPIRED:
        out_error(cli,
                  "The code expired before it was approved. Run `%s auth login --headless` "
                  "again for a new code.",
                  cli->prog);
        break;
    case OAUTH_DEVICE_FAILED: out_error(cli, "the sign-in failed: %s", err); break;
    }
    return EXIT_FAIL;
}

/* The browser flow: loopback listener, authorization URL, wait, code exchange. EXIT_OK with
 * tokens holding the token endpoint's 200 answer, else the message is printed. */
static int browser_login(struct cli *cli, const struct oauth_endpoints *ep, int no_browser,
                         struct client_reply *tokens)
{
    struct buf url;
    buf_init(&url, 8192);
    struct oauth_loopback lb = {.fd = -1};
    struct oauth_pkce pkce;
    struct oauth_callback cb;
    int status = EXIT_FAIL, wait_seconds = login_wait_seconds();
    char err[512];
    memset(tokens, 0, sizeof *tokens);
    memset(&cb, 0, sizeof cb);
    oauth_pkce_new(&pkce);
    if (oauth_loopback_open(&lb, FIRST_PORT, LAST_PORT) != RC_OK) {
        out_error(cli,
                  "cannot listen on 127.0.0.1 ports %d-%d for the sign-in answer: all "
                  "are in use",
                  FIRST_PORT, LAST_PORT);
        goto out;
    }
    if (oauth_authorize_url(ep, &pkce, lb.redirect, &url) != RC_OK) {
        out_error(cli, "the authorization URL is too long");
        goto out;
    }
    if (!no_browser)
        open_browser(buf_str(&url));
    fprintf(stderr,
            "Open this URL in your browser to sign in:\n\n    %s\n\n"
            "Waiting for the sign-in (up to %d seconds)...\n",
            buf_str(&url), wait_seconds);
    fflush(stderr);
    if (oauth_loopback_wait(&lb, pkce.state, (int64_t)wait_seconds * 1000, &cb) != RC_OK) {
        out_error(cli,
                  "Authentication timed out: no sign-in came back within %d seconds. "
                  "Run `%s auth login` again, or `%s auth login --headless` when no "
                  "browser on this machine can reach 127.0.0.1.",
                  wait_seconds, cli->prog, cli->prog);
        goto out;
    }
    oauth_loopback_close(&lb);
    if (!cb.state_ok) {
        out_error(cli,
                  "the sign-in answer carried the wrong state (a possible cross-site "
                  "request forgery): nothing was stored. Run `%s auth login` again.",
                  cli->prog);
        goto out;
    }
    if (strcmp(cb.error, "access_denied") == 0) {
        out_error(cli, "Authorization was denied.");
        goto out;
    }
    if (cb.error[0] || !cb.code[0]) {
        out_error(cli, "Authentication was cancelled or failed%s%s.", cb.error[0] ? ": " : "",
                  cb.error);
        goto out;
    }
    if (oauth_exchange_code(ep, CLI_USER_AGENT, cb.code, lb.redirect, pkce.verifier, tokens, err,
                            sizeof err) != RC_OK) {
        out_error(cli, "the token exchange failed: %s", err);
        goto out;
    }
    status = EXIT_OK;
out:
    oauth_loopback_close(&lb);
    oauth_pkce_wipe(&pkce);
    memset(&cb, 0, sizeof cb);
    buf_release(&url);
    return status;
}

static int cmd_auth_login(struct cli *cli, int argc, char **argv)
{
    int no_browser = 0, headless = 0;
    const struct opt opts[] = {
        OPT_BOOL(0, "no-browser", &no_browser, "do not try to open a browser; only print the URL"),
        OPT_BOOL(0, "headless", &headless, "sign in with a code entered on another device"),
        OPT_END()};
    int npos = 0;
    int status = args_parse(cli, argc, argv, opts, NULL, 0, &npos);
    if (status != EXIT_OK)
        return status;

    struct session s;
    struct oauth_endpoints ep;
    struct client_reply r = {0};
    if ((status = session_open(cli, &s, 0)) != EXIT_OK)
        goto out;
    if ((status = session_discover(&s, &ep)) != EXIT_OK)
        goto out;
    status = headless ? device_login(cli, &ep, &r) : browser_login(cli, &ep, no_browser, &r);
    if (status != EXIT_OK)
        goto out;
    status = EXIT_FAIL;
    char err[512];
    /* The organization, as use-pat picks it: keep the current one if it is the user's. */
    const char *at = json_string_value(json_object_get(r.body, "access_token"));
    client_set_token(s.client, at);
    struct client_reply orgs_reply;
    if (client_request(s.client, "GET", "/v1/organizations", NULL, &orgs_reply, err, sizeof err) !=
        RC_OK) {
        out_error(cli, "%s", err);
        goto out;
    }
    json_t *orgs = json_object_get(orgs_reply.body, "organizations");
    if (orgs_reply.status != 200 || !json_is_array(orgs) || json_array_size(orgs) == 0) {
        if (orgs_reply.status != 200)
            out_error(cli, "%s (HTTP %ld from %s). Nothing was stored.",
                      client_reply_error(&orgs_reply), orgs_reply.status, client_host(s.client));
        else
            out_error(cli, "Account has no associated namespace (organization). Ask an "
                           "organization admin to add you.");
        client_reply_release(&orgs_reply);
        goto out;
    }
    const char *current = getenv("PIPECAT_ORG");
    if (!current || !*current)
        current = credfile_get(s.file, "org");
    const char *chosen = NULL;
    size_t i;
    json_t *o2;
    json_array_foreach(orgs, i, o2)
    {
        const char *name = json_string_value(json_object_get(o2, "name"));
        if (name && current && strcmp(name, current) == 0)
            chosen = name;
    }
    if (!chosen)
        chosen = json_string_value(json_object_get(json_array_get(orgs, 0), "name"));
    char org[128];
    snprintf(org, sizeof org, "%s", chosen ? chosen : "");
    client_reply_release(&orgs_reply);
    if (session_store_tokens(&s, r.body, org) != EXIT_OK)
        goto out;
    if (cli->json) {
        out_json(json_pack("{s:b, s:s, s:s, s:s}", "authenticated", 1, "authMethod", "OAuth",
                           "organization", org, "configPath", s.config_path));
    } else {
        printf("Authentication successful! Active organization: %s\n", org);
        printf("Credentials stored in %s\n", s.config_path);
    }
    const char *env = getenv("PIPECAT_TOKEN");
    if (env && *env)
        out_warn(cli, "PIPECAT_TOKEN is set and takes precedence over the stored token.");
    status = EXIT_OK;
out:
    client_reply_release(&r);
    session_close(&s);
    return status;
}

/* The commands of this file: name, summary, synopsis, description and examples; their --help,
 * docs/cli page, completion and man page are generated from these and the option tables. */
const struct command login_commands[] = {
    COMMAND("auth", "login", cmd_auth_login, "sign in through the browser, or with a code (OAuth)",
            "[--no-browser | --headless]",
            "Sign in through the browser: the CLI opens the sign-in page of the server (or prints\n"
            "its URL), you approve access, and the browser hands the answer back to the CLI on\n"
            "http://127.0.0.1:8400-8404/oauth_callback (OAuth 2.0 authorization code with PKCE).\n"
            "Gives up after 120 seconds. With --headless (a machine without a browser, or one\n"
            "whose browser cannot reach 127.0.0.1 here) the CLI prints a URL and a short code\n"
            "instead: open the URL on any device, sign in and enter the code; the CLI waits until\n"
            "the code is approved, denied or expires (OAuth 2.0 device authorization grant).\n"
            "The access token, the refresh token that renews it, its expiry and the active\n"
            "organization are stored in the credentials file.\n",
            "  pipecat cloud auth login\n"
            "  pipecat cloud auth login --headless\n"),
    COMMAND_END};
