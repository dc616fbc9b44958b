/* cmd_auth.c: `auth use-pat`, `auth whoami`, `auth status`, `auth logout`. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <sodium.h>

#include "cli.h"
#include "token.h"
#include "banned.h"

static void wipe_free(char *s)
{
    if (s) {
        sodium_memzero(s, strlen(s));
        free(s);
    }
}

/* Trim ASCII spaces around s in place (pasted tokens often carry a newline or blank). */
static char *trim(char *s)
{
    while (*s == ' ' || *s == '\t' || *s == '\r' || *s == '\n')
        s++;
    size_t n = strlen(s);
    while (n && (s[n - 1] == ' ' || s[n - 1] == '\t' || s[n - 1] == '\r' || s[n - 1] == '\n'))
        s[--n] = '\0';
    return s;
}

static int is_pat(const char *token) { return token && strncmp(token, "pcc_pat_", 8) == 0; }

static int cmd_auth_use_pat(struct cli *cli, int argc, char **argv)
{
    const char *pos[1] = {NULL};
    int npos = 0;
    const struct opt opts[] = {OPT_END()};
    int parsed = args_parse(cli, argc, argv, opts, pos, 1, &npos);
    if (parsed != EXIT_OK)
        return parsed;
    char *raw = NULL;
    if (npos == 1) {
        out_warn(cli,
                 "passing the token as an argument leaks it to your shell history and "
                 "process list; pipe it instead: echo \"$TOKEN\" | %s auth use-pat",
                 cli->prog);
        raw = strdup(pos[0]);
    } else if (isatty(STDIN_FILENO)) {
        raw = prompt_hidden("Personal Access Token: ");
    } else {
        raw = read_stdin_line();
    }
    struct session s;
    int status = EXIT_FAIL;
    memset(&s, 0, sizeof s);
    char *token = raw ? trim(raw) : NULL;
    if (!token || !*token) {
        out_error(cli, "No token provided.");
        goto out;
    }
    if (!is_pat(token)) {
        out_error(cli, "Invalid token format: a personal access token starts with pcc_pat_. "
                       "Create one in the dashboard under Account Settings -> Personal Access "
                       "Tokens.");
        goto out;
    }
    enum rc rc = token_check_pat_offline(token, strlen(token));
    if (rc == RC_TOKEN_CHECKSUM) {
        out_error(cli, "this token looks mistyped: its checksum does not match. Copy it again.");
        goto out;
    }
    if (rc != RC_OK) {
        out_error(cli, "Invalid token format: it contains spaces or control characters.");
        goto out;
    }
    if ((status = session_open(cli, &s, 0)) != EXIT_OK)
        goto out;
    status = EXIT_FAIL;
    client_set_token(s.client, token);

    /* Validate before anything is written. */
    char err[512];
    struct client_reply reply;
    rc = client_request(s.client, "GET", "/v1/organizations", NULL, &reply, err, sizeof err);
    if (rc != RC_OK) {
        out_error(cli, "%s", err);
        goto out;
    }
    if (reply.status != 200) {
        if (reply.status == 401)
            out_error(cli, "Invalid or expired token: %s rejected it. Nothing was stored.",
                      client_host(s.client));
        else
            out_error(cli, "%s (HTTP %ld from %s). Nothing was stored.", client_reply_error(&reply),
                      reply.status, client_host(s.client));
        client_reply_release(&reply);
        goto out;
    }
    json_t *orgs = json_object_get(reply.body, "organizations");
    if (!json_is_array(orgs) || json_array_size(orgs) == 0) {
        out_error(cli, "Token is valid but account has no associated namespace (organization). "
                       "Ask an organization admin to add you.");
        client_reply_release(&reply);
        goto out;
    }
    /* Keep the current org when it is one of the user's; else take the first. */
    const char *current = getenv("PIPECAT_ORG");
    if (!current || !*current)
        current = credfile_get(s.file, "org");
    const char *chosen = NULL;
    size_t i;
    json_t *o;
    json_array_foreach(orgs, i, o)
    {
        const char *name = json_string_value(json_object_get(o, "name"));
        if (name && current && strcmp(name, current) == 0)
            chosen = name;
    }
    if (!chosen)
        chosen = json_string_value(json_object_get(json_array_get(orgs, 0), "name"));
    char org[128];
    snprintf(org, sizeof org, "%s", chosen ? chosen : "");
    client_reply_release(&reply);

    /* In the reference client's order: token, org, refresh_token, token_expires_at. */
    if ((rc = credfile_set_token(s.file, token)) != RC_OK ||
        (rc = credfile_set_active_org(s.file, org)) != RC_OK ||
        (rc = credfile_set_refresh_token(s.file, "")) != RC_OK ||
        (rc = credfile_set_token_expires_at(s.file, 0)) != RC_OK) {
        out_error(cli, "cannot update the credentials: %s", rc_message(rc));
        goto out;
    }
    if ((status = session_save(&s)) != EXIT_OK)
        goto out;
    if (cli->json) {
        out_json(json_pack("{s:b, s:s, s:s, s:s}", "authenticated", 1, "authMethod", "PAT",
                           "organization", org, "configPath", s.config_path));
    } else {
        printf("Authenticated via PAT. Active organization: %s\n", org);
        out_note(cli, "Credentials stored in %s", s.config_path);
    }
    const char *env = getenv("PIPECAT_TOKEN");
    if (env && *env && strcmp(env, token) != 0)
        out_warn(cli, "PIPECAT_TOKEN is set and takes precedence over the stored token.");
    status = EXIT_OK;
out:
    wipe_free(raw);
    session_close(&s);
    return status;
}

/* The org entry named slug in orgs, or NULL. */
static json_t *find_org(json_t *orgs, const char *slug)
{
    size_t i;
    json_t *o;
    json_array_foreach(orgs, i, o)
    {
        const char *name = json_string_value(json_object_get(o, "name"));
        if (name && strcmp(name, slug) == 0)
            return o;
    }
    return NULL;
}

/* Show only the start of a secret: "abcd... (32 characters)". */
static void mask_secret(const char *secret, char *out, size_t size)
{
    size_t n = strlen(secret);
    if (n <= 8)
        snprintf(out, size, "**** (%zu characters)", n);
    else
        snprintf(out, size, "%.4s... (%zu characters)", secret, n);
}

static int cmd_auth_whoami(struct cli *cli, int argc, char **argv)
{
    const char *flag_org = NULL;
    int npos;
    int status = args_parse_org(cli, argc, argv, &flag_org, NULL, 0, &npos);
    if (status != EXIT_OK)
        return status;
    struct session s;
    if ((status = session_open(cli, &s, 1)) != EXIT_OK)
        goto out;
    struct client_reply user;
    if ((status = session_call(&s, "GET", "/v1/users", NULL, &user)) != EXIT_OK)
        goto out;
    json_t *u = json_object_get(user.body, "user");
    const char *email = json_string_value(
        json_object_get(json_array_get(json_object_get(u, "emails"), 0), "emailAddress"));
    const char *user_id = json_string_value(json_object_get(u, "userId"));
    char who[320], email_copy[320], expires[64];
    snprintf(who, sizeof who, "%s", email ? email : user_id ? user_id : "unknown");
    /* Every authenticated answer says when the token expires (no header: never). */
    out_when_text(user.token_expiration[0] ? user.token_expiration : NULL, expires, sizeof expires);
    snprintf(email_copy, sizeof email_copy, "%s", email ? email : "");
    client_reply_release(&user); /* email and user_id point into it */

    json_t *orgs;
    if ((status = session_resolve_org(&s, flag_org)) != EXIT_OK || !(orgs = session_orgs(&s))) {
        status = EXIT_FAIL;
        goto out;
    }
    json_t *org = find_org(orgs, s.org);
    if (!org) {
        out_error(cli,
                  "organization '%s' is not one of yours: choose one with `%s "
                  "organizations select`",
                  s.org, cli->prog);
        status = EXIT_FAIL;
        goto out;
    }
    char org_label[300];
    snprintf(org_label, sizeof org_label, "%s (%s)",
             json_string_value(json_object_get(org, "verboseName")), s.org);

    char path[512], seg[256];
    client_escape_segment(s.org, seg, sizeof seg);
    snprintf(path, sizeof path, "/v1/organizations/%s/daily", seg);
    struct client_reply daily;
    if ((status = session_call(&s, "GET", path, NULL, &daily)) != EXIT_OK)
        goto out;
    const char *key = json_string_value(json_object_get(daily.body, "apiKey"));
    char masked[64] = "N/A";
    if (key && *key)
        mask_secret(key, masked, sizeof masked);
    const char *method = is_pat(s.token) ? "PAT" : "OAuth";
    if (cli->json) {
        json_t *out = json_pack("{s:s, s:s, s:s, s:s, s:s, s:s, s:s, s:b}", "user", who, "email",
                                email_copy, "organization", s.org, "organizationName",
                                json_string_value(json_object_get(org, "verboseName")),
                                "authMethod", method, "tokenSource", session_token_source(&s),
                                "apiHost", client_host(s.client), "dailyApiKeyConfigured",
                                key && *key);
        json_object_set_new(out, "tokenExpiresAt",
                            daily.token_expiration[0] ? json_string(daily.token_expiration)
                                                      : json_null());
        out_json(out);
    } else {
        out_field(cli, "User", who);
        out_field(cli, "Active Organization", org_label);
        out_field(cli, "Auth Method", method);
        out_field(cli, "Token Source", session_token_source(&s));
        out_field(cli, "Token Expires", expires);
        out_field(cli, "Daily API Key", masked);
    }
    client_reply_release(&daily);
out:
    session_close(&s);
    return status;
}

static int cmd_auth_status(struct cli *cli, int argc, char **argv)
{
    const struct opt opts[] = {OPT_END()};
    int npos;
    int status = args_parse(cli, argc, argv, opts, NULL, 0, &npos);
    if (status != EXIT_OK)
        return status;
    struct session s;
    if ((status = session_open(cli, &s, 1)) != EXIT_OK)
        goto out;
    struct client_reply self;
    if ((status = session_call(&s, "GET", "/v1/tokens/self", NULL, &self)) != EXIT_OK)
        goto out;
    json_t *owner = json_object_get(self.body, "owner");
    const char *email = json_string_value(json_object_get(owner, "email"));
    const char *name = json_string_value(json_object_get(self.body, "name"));
    const char *display = json_string_value(json_object_get(self.body, "display"));
    char expires[64];
    out_when(json_object_get(self.body, "expiresAt"), expires, sizeof expires);
    if (cli->json) {
        out_json(json_pack(
            "{s:b, s:s, s:s, s:s, s:O, s:O, s:O, s:O, s:O}", "authenticated", 1, "email",
            email ? email : "", "tokenSource", session_token_source(&s), "apiHost",
            client_host(s.client), "token", json_object_get(self.body, "id"), "tokenName",
            json_object_get(self.body, "name"), "expiresAt",
            json_object_get(self.body, "expiresAt"), "scopes", json_object_get(self.body, "scopes"),
            "organization", json_object_get(self.body, "organization")));
    } else {
        printf("Authenticated as %s on %s\n", email ? email : "?", client_host(s.client));
        char tok[300];
        snprintf(tok, sizeof tok, "%s (%s)", name ? name : "?", display ? display : "?");
        out_field(cli, "Token", tok);
        out_field(cli, "Token Source", session_token_source(&s));
        out_field(cli, "Expires", strcmp(expires, "never") == 0 ? "never" : expires);
        char scopes[128] = "";
        size_t used = 0, i;
        json_t *v;
        json_array_foreach(json_object_get(self.body, "scopes"), i, v)
        {
            if (used < sizeof scopes)
                used += (size_t)snprintf(scopes + used, sizeof scopes - used, "%s%s",
                                         used ? ", " : "", json_string_value(v));
        }
        out_field(cli, "Scopes", scopes);
        const char *bound = json_string_value(json_object_get(self.body, "organization"));
        out_field(cli, "Organization", bound ? bound : "any of yours (unbound)");
    }
    client_reply_release(&self);
out:
    session_close(&s);
    return status;
}

/* For an OAuth session (a refresh token is stored): POST /auth/logout and report the outcome
 * (docs/api/oauth.md). 1 when the server confirmed the revocation, else 0. */
static int oauth_logout(struct session *s)
{
    struct cli *cli = s->cli;
    const char *rt = credfile_get(s->file, "refresh_token");
    if (!rt || !*rt || !s->token)
        return 0;
    json_t *body = json_pack("{s:s}", "refresh_token", rt);
    struct client_reply r = {0};
    char err[512];
    enum rc rc = body ? client_request(s->client, "POST", "/auth/logout", body, &r, err, sizeof err)
                      : RC_NOMEM;
    json_decref(body);
    int revoked = 0;
    if (rc == RC_NETWORK) {
        out_warn(cli,
                 "Could not reach logout endpoint (%s); the session may stay valid until "
                 "it expires.",
                 err);
    } else if (rc == RC_OK && r.status >= 200 && r.status < 300) {
        revoked = 1;
        if (!cli->json)
            printf("Logged out and session revoked.\n");
    } else if (rc == RC_OK && r.status == 503) {
        out_warn(cli, "Session revocation is temporarily unavailable; the access token expires "
                      "on its own within 24 hours.");
    } else if (!cli->json) {
        printf("Local credentials removed. Server-side revocation could not be confirmed%s.\n",
               rc == RC_OK && r.status == 401 ? " (the server rejected the stored token)" : "");
    }
    client_reply_release(&r);
    return revoked;
}

static int cmd_auth_logout(struct cli *cli, int argc, char **argv)
{
    int revoke = 0, npos;
    const struct opt opts[] = {
        OPT_BOOL(0, "revoke", &revoke, "revoke the token server-side before removing it"),
        OPT_END()};
    int status = args_parse(cli, argc, argv, opts, NULL, 0, &npos);
    if (status != EXIT_OK)
        return status;
    struct session s;
    status = session_open(cli, &s, revoke);
    if (status != EXIT_OK)
        goto out;
    int revoked = 0, oauth_revoked = 0;
    if (!revoke && s.source == TOKEN_SOURCE_FILE)
        oauth_revoked = oauth_logout(&s);
    if (revoke) {
        struct client_reply r;
        if ((status = session_call(&s, "DELETE", "/v1/tokens/self", NULL, &r)) != EXIT_OK) {
            out_note(cli, "Local credentials were kept, since the token could not be revoked.");
            goto out;
        }
        client_reply_release(&r);
        revoked = 1;
    }
    char err[512];
    int had_file = access(s.config_path, F_OK) == 0;
    if (credfile_remove_file(s.config_path, err, sizeof err) != RC_OK) {
        out_error(cli, "cannot remove %s: %s", s.config_path, err);
        status = EXIT_FAIL;
        goto out;
    }
    const char *env = getenv("PIPECAT_TOKEN");
    int env_set = env && *env;
    if (cli->json) {
        out_json(json_pack("{s:b, s:b, s:b, s:s}", "loggedOut", 1, "revoked",
                           revoked || oauth_revoked, "removedFile", had_file, "configPath",
                           s.config_path));
    } else {
        if (had_file)
            printf("Local credentials removed (%s).\n", s.config_path);
        else
            printf("No local credentials to remove (%s does not exist).\n", s.config_path);
        if (revoked)
            printf("The token was revoked on %s.\n", client_host(s.client));
        else if (s.token && is_pat(s.token))
            printf("The personal access token stays valid until it is revoked: run `%s auth "
                   "logout --revoke`, `%s tokens revoke ID`, or delete it in the dashboard.\n",
                   cli->prog, cli->prog);
    }
    if (env_set && !revoked)
        out_warn(cli, "PIPECAT_TOKEN is still set in your environment; unset it too.");
    status = EXIT_OK;
out:
    session_close(&s);
    return status;
}

/* The commands of this file: name, summary, synopsis, description and examples; their --help,
 * docs/cli page, completion and man page are generated from these and the option tables. */
const struct command auth_commands[] = {
    COMMAND("auth", "use-pat", cmd_auth_use_pat, "validate a personal access token and store it",
            "[TOKEN]",
            "Validate a personal access token against the API, then store it (with the active\n"
            "organization) in the credentials file. The token is read from a hidden prompt on a\n"
            "terminal, or from the first line of standard input when it is piped:\n"
            "    echo \"$PIPECAT_TOKEN\" | pipecat cloud auth use-pat\n"
            "Passing TOKEN as an argument still works but leaks it to shell history.\n",
            "  echo \"$TOKEN\" | pipecat cloud auth use-pat\n"),
    COMMAND("auth", "whoami", cmd_auth_whoami, "show the user, organization and credential in use",
            "[-o ORG]",
            "Show the signed-in user, the active organization, how the CLI authenticates (PAT or\n"
            "OAuth) and where the token came from (PIPECAT_TOKEN or the credentials file).\n",
            "  pipecat cloud auth whoami\n"),
    COMMAND("auth", "status", cmd_auth_status, "check that the stored or given token works", "",
            "Check the token in use against the API. Exits 0 when it is accepted, 1 when there is\n"
            "no token or the server rejects it.\n",
            "  pipecat cloud auth status\n"),
    COMMAND("auth", "logout", cmd_auth_logout,
            "remove local credentials (optionally revoke the token)", "[--revoke]",
            "Remove the credentials file. After `auth login` the session (its access and refresh\n"
            "tokens) is first revoked on the server. A personal access token stays valid until it\n"
            "is revoked; --revoke revokes it on the server first.\n",
            "  pipecat cloud auth logout --revoke\n"),
    COMMAND_END};
