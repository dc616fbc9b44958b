/* cmd_tokens.c: `tokens list|create|revoke|rotate|report-leaked`: pcc's own PAT management,
 * for the caller's tokens or (with --service-account) those of an organization's service
 * account. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <sodium.h>

#include "cli.h"
#include "banned.h"

#define TOKENS_PATH "/v1/users/me/tokens"
#define REPORT_MAX 100

/* The tokens collection: the caller's, or service account sa's in the session's org. */
static int tokens_path(struct session *s, const char *sa, char *out, size_t size)
{
    if (!sa) {
        snprintf(out, size, "%s", TOKENS_PATH);
        return EXIT_OK;
    }
    return org_path(s, out, size, "service-accounts", sa, "tokens", NULL);
}

/* Open the session: with a service account the organization must be resolved too. */
static int open_for(struct cli *cli, struct session *s, const char *sa, const char *org)
{
    return sa || org ? platform_open(cli, s, org) : session_open(cli, s, 1);
}

/* "read,deploy" from a token's scopes array. */
static const char *col_scopes(const json_t *value, const json_t *row, void *ctx, char *buf,
                              size_t size)
{
    (void)row, (void)ctx;
    size_t used = 0, i;
    json_t *v;
    buf[0] = '\0';
    json_array_foreach(value, i, v)
    {
        if (used < size)
            used += (size_t)snprintf(buf + used, size - used, "%s%s", used ? "," : "",
                                     json_string_value(v) ? json_string_value(v) : "?");
    }
    return buf;
}

/* The organization a token is bound to, "(any)" when unbound. */
/* An organization's view of a member's unbound token shows only that it gives access. */
static const char *col_name(const json_t *value, const json_t *row, void *ctx, char *buf,
                            size_t size)
{
    (void)ctx, (void)buf, (void)size;
    const char *access = json_string_value(json_object_get(row, "access"));
    if (access && strcmp(access, "membership") == 0)
        return "(access through membership)";
    return json_string_value(value) ? json_string_value(value) : "";
}

static const char *col_bound(const json_t *value, const json_t *row, void *ctx, char *buf,
                             size_t size)
{
    (void)row, (void)ctx, (void)buf, (void)size;
    return json_string_value(value) ? json_string_value(value) : "(any)";
}

/* Print a tokens array as a table; with_owner adds the owner column (organization view). */
void tokens_table(struct cli *cli, json_t *tokens, int with_owner)
{
    static const struct column cols[] = {{"ID", "id", NULL},
                                         {"NAME", "name", col_name},
                                         {"TOKEN", "display", NULL},
                                         {"SCOPES", "scopes", col_scopes},
                                         {"ORG", "organization", col_bound},
                                         {"EXPIRES", "expiresAt", col_when},
                                         {"LAST USED", "lastUsedAt", col_when},
                                         {"LAST IP", "lastUsedIp", NULL},
                                         {"OWNER", "owner.email", NULL},
                                         COLUMN_END};
    enum { OWNER = 8 }; /* the last column: left out of a user's own list */
    struct column shown[OWNER + 2];
    memcpy(shown, cols, sizeof shown);
    if (!with_owner)
        shown[OWNER] = (struct column)COLUMN_END;
    out_rows(cli, shown, tokens, NULL);
}

static int cmd_tokens_list(struct cli *cli, int argc, char **argv)
{
    const char *sa = NULL, *org = NULL;
    const struct opt opts[] = {
        OPT_STRING(0, "service-account", &sa, "NAME",
                   "list the tokens of the organization's service account NAME\n"
                   "(organization admins)"),
        OPT_ORG(&org), OPT_END()};
    int npos = 0;
    int status = args_parse(cli, argc, argv, opts, NULL, 0, &npos);
    if (status != EXIT_OK)
        return status;
    struct session s;
    struct client_reply r = {0};
    char path[512];
    if ((status = open_for(cli, &s, sa, org)) != EXIT_OK ||
        (status = tokens_path(&s, sa, path, sizeof path)) != EXIT_OK ||
        (status = sa ? org_call(&s, "GET", path, NULL, &r)
                     : session_call(&s, "GET", path, NULL, &r)) != EXIT_OK)
        goto out;
    json_t *tokens = json_object_get(r.body, "tokens");
    /* A token bound to one organization, or expiring, sees only the tokens no wider than
     * itself; the server says how many others there are. */
    json_int_t omitted = json_integer_value(json_object_get(r.body, "omitted"));
    if (cli->json) {
        out_json(
            json_pack("{s:O, s:I}", "tokens", tokens ? tokens : json_array(), "omitted", omitted));
        goto out;
    }
    if (json_array_size(tokens) == 0)
        printf("No personal access tokens%s. Create one with `%s tokens create --name NAME`.\n",
               omitted > 0 ? " in reach of this token" : "", cli->prog);
    else
        tokens_table(cli, tokens, 0);
    if (omitted > 0)
        out_note(cli,
                 "%lld more token%s not listed: wider than the token in use (another "
                 "organization, unbound, longer-lived or with more scopes), which can "
                 "neither see nor change them.",
                 (long long)omitted, omitted == 1 ? " is" : "s are");
out:
    client_reply_release(&r);
    session_close(&s);
    return status;
}

/* "YYYY-MM-DD" or a full ISO-8601 time, as the API's expiresAt. */
static int expiry_arg(struct cli *cli, const char *text, char *out, size_t size)
{
    size_t n = strlen(text);
    if (n == 10 && text[4] == '-' && text[7] == '-') {
        snprintf(out, size, "%sT00:00:00Z", text);
        return EXIT_OK;
    }
    if (n >= 20 && n < size && text[10] == 'T') {
        snprintf(out, size, "%s", text);
        return EXIT_OK;
    }
    out_error(cli, "--expires-at: give a date (YYYY-MM-DD) or a time (YYYY-MM-DDTHH:MM:SSZ)");
    return EXIT_USAGE;
}

static int cmd_tokens_create(struct cli *cli, int argc, char **argv)
{
    const char *name = NULL, *scopes = NULL, *org = NULL, *in_days = NULL, *at = NULL;
    const char *sa = NULL;
    const struct opt opts[] = {
        OPT_STRING('n', "name", &name, "NAME", "a descriptive name (required)"),
        OPT_STRING('s', "scopes", &scopes, "LIST",
                   "comma-separated: read (no writes), deploy (read, agents,\n"
                   "deploys, sessions), secrets (read, secrets), full (default)"),
        OPT_STRING('o', "organization", &org, "ORG",
                   "bind the token to ORG: other organizations are invisible\n"
                   "to it"),
        OPT_STRING(0, "expires-in", &in_days, "DAYS",
                   "expire after DAYS days (e.g. 7, 30, 60, 90); default never\n"
                   "(or, when the token in use expires, when it does)"),
        OPT_STRING(0, "expires-at", &at, "DATE",
                   "expire at DATE (YYYY-MM-DD, or YYYY-MM-DDTHH:MM:SSZ)"),
        OPT_STRING(0, "service-account", &sa, "NAME",
                   "create the token for the service account NAME of ORG (or\n"
                   "the active organization; organization admins)"),
        OPT_END()};
    int npos = 0;
    int status = args_parse(cli, argc, argv, opts, NULL, 0, &npos);
    if (status != EXIT_OK)
        return status;
    if (!name || !*name) {
        out_error(cli, "a token needs a name: --name NAME (say what uses it, e.g. ci-deploy)");
        return EXIT_USAGE;
    }
    if (in_days && at) {
        out_error(cli, "give --expires-in or --expires-at, not both");
        return EXIT_USAGE;
    }
    json_t *body = json_pack("{s:s}", "name", name);
    if (scopes) {
        json_t *list = json_array();
        char copy[256];
        snprintf(copy, sizeof copy, "%s", scopes);
        for (char *p = copy; *p;) {
            size_t n = strcspn(p, ", ");
            if (n)
                json_array_append_new(list, json_stringn(p, n));
            p += n;
            while (*p == ',' || *p == ' ')
                p++;
        }
        json_object_set_new(body, "scopes", list);
    }
    if (org && !sa)
        json_object_set_new(body, "organization", json_string(org));
    if (in_days) {
        long days;
        if ((status = args_int(cli, "--expires-in", in_days, 1, 3650, &days)) != EXIT_OK) {
            json_decref(body);
            return status;
        }
        json_object_set_new(body, "expiresInDays", json_integer(days));
    }
    if (at) {
        char iso[64];
        if ((status = expiry_arg(cli, at, iso, sizeof iso)) != EXIT_OK) {
            json_decref(body);
            return status;
        }
        json_object_set_new(body, "expiresAt", json_string(iso));
    }
    struct session s;
    struct client_reply r = {0};
    char path[512];
    if ((status = open_for(cli, &s, sa, sa ? org : NULL)) != EXIT_OK ||
        (status = tokens_path(&s, sa, path, sizeof path)) != EXIT_OK ||
        (status = sa ? org_call(&s, "POST", path, body, &r)
                     : session_call(&s, "POST", path, body, &r)) != EXIT_OK)
        goto out;
    const char *secret = json_string_value(json_object_get(r.body, "token"));
    if (!secret) {
        out_error(cli, "the server did not return a token");
        status = EXIT_FAIL;
        goto out;
    }
    if (cli->json) {
        out_json(json_incref(r.body));
    } else {
        char when[64];
        printf("%s\n", secret);
        out_note(cli,
                 "Created token '%s' (%s), expires %s. Copy it now: it will not be shown "
                 "again.",
                 json_string_value(json_object_get(r.body, "name")),
                 json_string_value(json_object_get(r.body, "id")),
                 out_when(json_object_get(r.body, "expiresAt"), when, sizeof when));
    }
    fflush(stdout);
    sodium_memzero((void *)secret, strlen(secret));
out:
    json_decref(body);
    client_reply_release(&r);
    session_close(&s);
    return status;
}

/* Refuse a pasted secret where an id belongs: never send it anywhere or echo it back. */
static int not_a_secret(struct cli *cli, const char *id)
{
    if (strncmp(id, "pcc_", 4) != 0)
        return EXIT_OK;
    out_error(cli,
              "that is a token itself, not its id: find the id (tok_...) with `%s tokens "
              "list`. The token was shown on your screen: revoke it.",
              cli->prog);
    return EXIT_USAGE;
}

static int cmd_tokens_revoke(struct cli *cli, int argc, char **argv)
{
    const char *sa = NULL, *org = NULL, *pos[1];
    int yes = 0;
    const struct opt opts[] = {
        OPT_STRING(0, "service-account", &sa, "NAME",
                   "revoke a token of the organization's service account NAME"),
        OPT_BOOL('y', "yes", &yes, "do not ask for confirmation"), OPT_ORG(&org), OPT_END()};
    int npos = 0;
    int status = args_parse(cli, argc, argv, opts, pos, 1, &npos);
    if (status != EXIT_OK)
        return status;
    if (npos != 1) {
        out_error(cli, "usage: %s tokens revoke ID (see `%s tokens list`)", cli->prog, cli->prog);
        return EXIT_USAGE;
    }
    const char *id = pos[0];
    if ((status = not_a_secret(cli, id)) != EXIT_OK)
        return status;
    /* One's own token is one's own business; a service account's is the organization's. */
    if (sa && (status = confirm_unless(cli, yes, "--yes", 0,
                                       "Revoke token %s of service account %s? Whoever uses it "
                                       "gets 401 from its next request",
                                       id, sa)) != EXIT_OK)
        return status;
    struct session s;
    struct client_reply r = {0};
    char base[512], seg[256], path[800];
    if (client_escape_segment(id, seg, sizeof seg) != RC_OK) {
        out_error(cli, "token id too long");
        return EXIT_USAGE;
    }
    if ((status = open_for(cli, &s, sa, sa ? org : NULL)) != EXIT_OK ||
        (status = tokens_path(&s, sa, base, sizeof base)) != EXIT_OK)
        goto out;
    snprintf(path, sizeof path, "%s/%s", base, seg);
    s.quiet_not_found = 1;
    if ((status = session_call(&s, "DELETE", path, NULL, &r)) == SESSION_NOT_FOUND) {
        out_error(cli, "%s (see `%s tokens list`)", s.not_found, cli->prog);
        status = EXIT_FAIL;
    }
    if (status != EXIT_OK)
        goto out;
    if (cli->json)
        out_json(json_pack("{s:s, s:b}", "id", id, "revoked", 1));
    else
        printf("Token %s revoked.\n", id);
out:
    client_reply_release(&r);
    session_close(&s);
    return status;
}

/* "90", "90s", "15m", "1h", "2d" as seconds in 0..7 days. */
static int duration_arg(struct cli *cli, const char *text, long *out)
{
    char *end;
    errno = 0;
    long v = strtol(text, &end, 10);
    long unit = 1;
    if (*end == 's')
        end++;
    else if (*end == 'm')
        unit = 60, end++;
    else if (*end == 'h')
        unit = 3600, end++;
    else if (*end == 'd')
        unit = 86400, end++;
    if (errno || end == text || *end || v < 0 || v > 7 * 86400 / unit) {
        out_error(cli, "--grace: give a duration of at most 7 days such as 90s, 15m, 1h or 2d");
        return EXIT_USAGE;
    }
    *out = v * unit;
    return EXIT_OK;
}

static int cmd_tokens_rotate(struct cli *cli, int argc, char **argv)
{
    const char *sa = NULL, *org = NULL, *grace_text = NULL, *pos[1];
    const struct opt opts[] = {
        OPT_STRING('g', "grace", &grace_text, "DURATION",
                   "how long the old secret keeps working: 90s, 15m, 1h, 2d"),
        OPT_STRING(0, "service-account", &sa, "NAME",
                   "rotate a token of the organization's service account NAME"),
        OPT_ORG(&org), OPT_END()};
    int npos = 0;
    int status = args_parse(cli, argc, argv, opts, pos, 1, &npos);
    if (status != EXIT_OK)
        return status;
    if (npos != 1) {
        out_error(cli, "usage: %s tokens rotate ID [--grace DURATION] (see `%s tokens list`)",
                  cli->prog, cli->prog);
        return EXIT_USAGE;
    }
    const char *id = pos[0];
    long grace = 0;
    if ((status = not_a_secret(cli, id)) != EXIT_OK ||
        (grace_text && (status = duration_arg(cli, grace_text, &grace)) != EXIT_OK))
        return status;
    struct session s;
    struct client_reply r = {0};
    char base[512], seg[256], path[800];
    if (client_escape_segment(id, seg, sizeof seg) != RC_OK) {
        out_error(cli, "token id too long");
        return EXIT_USAGE;
    }
    json_t *body = json_pack("{s:I}", "graceSeconds", (json_int_t)grace);
    if ((status = open_for(cli, &s, sa, sa ? org : NULL)) != EXIT_OK ||
        (status = tokens_path(&s, sa, base, sizeof base)) != EXIT_OK)
        goto out;
    snprintf(path, sizeof path, "%s/%s/rotate", base, seg);
    s.quiet_not_found = 1;
    if ((status = session_call(&s, "POST", path, body, &r)) == SESSION_NOT_FOUND) {
        out_error(cli, "%s (see `%s tokens list`)", s.not_found, cli->prog);
        status = EXIT_FAIL;
    }
    if (status != EXIT_OK)
        goto out;
    const char *secret = json_string_value(json_object_get(r.body, "token"));
    if (!secret) {
        out_error(cli, "the server did not return a token");
        status = EXIT_FAIL;
        goto out;
    }
    if (cli->json) {
        out_json(json_incref(r.body));
    } else {
        char when[64];
        printf("%s\n", secret);
        if (grace)
            out_note(
                cli,
                "Rotated token %s. The old secret keeps working until %s; store the "
                "new one (e.g. `%s auth use-pat`) before then.",
                id, out_when(json_object_get(r.body, "previousSecretExpiresAt"), when, sizeof when),
                cli->prog);
        else
            out_note(cli, "Rotated token %s. The old secret no longer works.", id);
    }
    fflush(stdout);
    sodium_memzero((void *)secret, strlen(secret));
out:
    json_decref(body);
    client_reply_release(&r);
    session_close(&s);
    return status;
}

static int cmd_tokens_report_leaked(struct cli *cli, int argc, char **argv)
{
    int npos = 0;
    const struct opt opts[] = {OPT_END()};
    int status = args_parse(cli, argc, argv, opts, NULL, 0, &npos);
    if (status != EXIT_OK)
        return status;
    if (isatty(STDIN_FILENO))
        out_note(cli, "Paste the leaked tokens, one per line, then Ctrl-D:");
    json_t *list = json_array();
    char line[512];
    size_t n = 0;
    while (fgets(line, sizeof line, stdin) && n < REPORT_MAX) {
        char *p = line;
        while (*p == ' ' || *p == '\t')
            p++;
        size_t len = strcspn(p, " \t\r\n");
        if (len) {
            json_array_append_new(list, json_stringn(p, len));
            n++;
        }
    }
    sodium_memzero(line, sizeof line);
    struct session s;
    struct client_reply r = {0};
    json_t *body = json_pack("{s:o}", "tokens", list);
    if (n == 0) {
        out_error(cli, "no tokens on standard input (one per line)");
        json_decref(body);
        return EXIT_USAGE;
    }
    /* No credential is needed or sent: anyone who finds a token can report it. */
    if ((status = session_open(cli, &s, 0)) != EXIT_OK)
        goto out;
    client_set_token(s.client, NULL);
    if ((status = session_call(&s, "POST", "/v1/tokens/revoke", body, &r)) != EXIT_OK)
        goto out;
    if (cli->json)
        out_json(json_pack("{s:I}", "received", (json_int_t)n));
    else
        printf("Reported %zu token(s). Every one that was valid is now revoked, and its owner "
               "can see the report in their audit log.\n",
               n);
out:
    /* The body holds the reported secrets. */
    json_t *v;
    size_t i;
    json_array_foreach(json_object_get(body, "tokens"), i, v)
    {
        const char *t = json_string_value(v);
        if (t)
            sodium_memzero((void *)t, strlen(t));
    }
    json_decref(body);
    client_reply_release(&r);
    session_close(&s);
    return status;
}

/* The commands of this file: name, summary, synopsis, description and examples; their --help,
 * docs/cli page, completion and man page are generated from these and the option tables. */
const struct command tokens_commands[] = {
    COMMAND("tokens", "list", cmd_tokens_list, "list your personal access tokens",
            "[--service-account NAME [-o ORG]]",
            "List your active personal access tokens: id, name, display form, scopes, the\n"
            "organization a token is bound to, expiry, and its last use (time and address).\n"
            "Secrets are never shown again after creation. A token in use that is bound to one\n"
            "organization, expires, or has fewer scopes lists only the tokens no wider than\n"
            "itself, and says how many others there are.\n",
            "  pipecat cloud tokens list\n"),
    COMMAND("tokens", "create", cmd_tokens_create, "create a personal access token",
            "--name NAME [--scopes LIST] [-o ORG] [--expires-in DAYS]",
            "Create a personal access token. It is printed once, alone on standard output, so\n"
            "    TOKEN=$(pipecat cloud tokens create --name ci-deploy --scopes deploy --expires-in "
            "90)\n"
            "captures it. Use one token per pipeline so each can be revoked alone.\n",
            "  TOKEN=$(pipecat cloud tokens create --name github-deploy)\n"),
    COMMAND("tokens", "revoke", cmd_tokens_revoke, "revoke a personal access token",
            "ID [--service-account NAME [-o ORG] [--yes]]",
            "Revoke the token with id ID (see `tokens list`). It stops working at once. A service\n"
            "account's token: asks to confirm unless --yes (needed without a terminal).\n",
            "  pipecat cloud tokens revoke tok_4bX...\n"),
    COMMAND("tokens", "rotate", cmd_tokens_rotate,
            "give a token a new secret, keeping its identity", "ID [--grace DURATION]",
            "Give token ID a new secret, printed once on standard output; its id, name, scopes,\n"
            "organization and expiry stay. The old secret keeps working for the grace period\n"
            "(default 0: it stops at once; at most 7d), long enough to update CI:\n"
            "    NEW=$(pipecat cloud tokens rotate tok_... --grace 1h)\n"
            "    echo \"$NEW\" | pipecat cloud auth use-pat\n",
            "  NEW=$(pipecat cloud tokens rotate tok_4bX... --grace 1h)\n"
            "  echo \"$NEW\" | pipecat cloud auth use-pat\n"),
    COMMAND("tokens", "report-leaked", cmd_tokens_report_leaked, "revoke tokens found exposed",
            "< FILE",
            "Report tokens found where they should not be (a public repository, a log, a chat),\n"
            "one per line on standard input. Each one that is valid is revoked at once and its\n"
            "owner sees the report in their audit log. Needs no credential; the answer never says\n"
            "which tokens were valid.\n",
            "  grep -ho 'pcc_pat_[0-9A-Za-z]*' build.log | pipecat cloud tokens report-leaked\n"),
    COMMAND_END};
