/* cmd_orgtokens.c: what organization admins control about tokens: `organizations tokens
 * list|revoke` (every token that can act in the organization), `organizations token-policy`,
 * `service-accounts create|list|delete`, and `audit list`. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"
#include "banned.h"

static int cmd_org_tokens_list(struct cli *cli, int argc, char **argv)
{
    const char *org = NULL;
    int npos = 0, status = args_parse_org(cli, argc, argv, &org, NULL, 0, &npos);
    if (status != EXIT_OK)
        return status;
    struct session s;
    struct client_reply r = {0};
    if ((status = org_request(cli, &s, org, "GET", NULL, &r, "tokens", NULL)) != EXIT_OK)
        goto out;
    json_t *tokens = json_object_get(r.body, "tokens");
    if (cli->json)
        out_json(json_pack("{s:O}", "tokens", tokens ? tokens : json_array()));
    else if (json_array_size(tokens) == 0)
        printf("No token can act in organization %s.\n", s.org);
    else
        tokens_table(cli, tokens, 1);
out:
    client_reply_release(&r);
    session_close(&s);
    return status;
}

static int cmd_org_tokens_revoke(struct cli *cli, int argc, char **argv)
{
    const char *org = NULL, *pos[1];
    int yes = 0, npos = 0;
    const struct opt opts[] = {OPT_BOOL('y', "yes", &yes, "do not ask for confirmation"),
                               OPT_ORG(&org), OPT_END()};
    int status = args_parse(cli, argc, argv, opts, pos, 1, &npos);
    if (status != EXIT_OK)
        return status;
    if (npos != 1 || strncmp(pos[0], "pcc_", 4) == 0) {
        out_error(cli,
                  "usage: %s organizations tokens revoke ID [--yes] (the tok_... id from `%s "
                  "organizations tokens list`)",
                  cli->prog, cli->prog);
        return EXIT_USAGE;
    }
    if ((status = confirm_unless(cli, yes, "--yes", 0,
                                 "Revoke token %s? Whoever uses it gets 401 from its next request",
                                 pos[0])) != EXIT_OK)
        return status;
    struct session s;
    struct client_reply r = {0};
    if ((status = org_request(cli, &s, org, "DELETE", NULL, &r, "tokens", pos[0], NULL)) != EXIT_OK)
        goto out;
    if (cli->json)
        out_json(json_pack("{s:s, s:b}", "id", pos[0], "revoked", 1));
    else
        printf("Token %s revoked.\n", pos[0]);
out:
    client_reply_release(&r);
    session_close(&s);
    return status;
}

/* "yes"/"no" (also true/false, on/off) into a JSON boolean; NULL after an error. */
static json_t *yes_no(struct cli *cli, const char *option, const char *v)
{
    if (!strcmp(v, "yes") || !strcmp(v, "true") || !strcmp(v, "on"))
        return json_true();
    if (!strcmp(v, "no") || !strcmp(v, "false") || !strcmp(v, "off"))
        return json_false();
    out_error(cli, "%s: give yes or no", option);
    return NULL;
}

static int cmd_org_token_policy(struct cli *cli, int argc, char **argv)
{
    const char *org = NULL, *expiry = NULL, *binding = NULL, *max_days = NULL;
    const struct opt opts[] = {
        OPT_STRING(0, "require-expiry", &expiry, "yes|no", "refuse tokens that never expire"),
        OPT_STRING(0, "max-lifetime-days", &max_days, "N",
                   "refuse tokens valid for more than N days (0: no limit)"),
        OPT_STRING(0, "require-binding", &binding, "yes|no",
                   "refuse tokens not bound to this organization"),
        OPT_ORG(&org), OPT_END()};
    int npos = 0, status = args_parse(cli, argc, argv, opts, NULL, 0, &npos);
    if (status != EXIT_OK)
        return status;
    json_t *body = NULL;
    if (expiry || binding || max_days) {
        body = json_object();
        json_t *v;
        if (expiry) {
            if (!(v = yes_no(cli, "--require-expiry", expiry)))
                goto usage;
            json_object_set_new(body, "requireExpiry", v);
        }
        if (binding) {
            if (!(v = yes_no(cli, "--require-binding", binding)))
                goto usage;
            json_object_set_new(body, "requireBinding", v);
        }
        if (max_days) {
            long days;
            if (args_int(cli, "--max-lifetime-days", max_days, 0, 3650, &days) != EXIT_OK)
                goto usage;
            json_object_set_new(body, "maxLifetimeDays", days ? json_integer(days) : json_null());
        }
    }
    struct session s;
    struct client_reply r = {0};
    if ((status = org_request(cli, &s, org, body ? "PATCH" : "GET", body, &r, "token-policy",
                              NULL)) != EXIT_OK)
        goto out;
    if (cli->json) {
        out_json(json_incref(r.body));
    } else {
        json_t *d = json_object_get(r.body, "maxLifetimeDays");
        char days[32] = "no limit";
        if (json_is_integer(d))
            snprintf(days, sizeof days, "%lld days", (long long)json_integer_value(d));
        out_field(cli, "Organization", s.org);
        out_field(cli, "Require expiry",
                  json_is_true(json_object_get(r.body, "requireExpiry")) ? "yes" : "no");
        out_field(cli, "Max lifetime", days);
        out_field(cli, "Require binding",
                  json_is_true(json_object_get(r.body, "requireBinding")) ? "yes" : "no");
    }
out:
    json_decref(body);
    client_reply_release(&r);
    session_close(&s);
    return status;
usage:
    json_decref(body);
    return EXIT_USAGE;
}

static int cmd_sa_create(struct cli *cli, int argc, char **argv)
{
    const char *org = NULL, *pos[1];
    int npos = 0, status = args_parse_org(cli, argc, argv, &org, pos, 1, &npos);
    if (status != EXIT_OK)
        return status;
    if (npos != 1)
        return args_usage(cli);
    struct session s;
    struct client_reply r = {0};
    json_t *body = json_pack("{s:s}", "name", pos[0]);
    if ((status = org_request(cli, &s, org, "POST", body, &r, "service-accounts", NULL)) != EXIT_OK)
        goto out;
    if (cli->json)
        out_json(json_incref(r.body));
    else
        printf("Service account %s created in %s. Give it a token with `%s tokens create "
               "--service-account %s --name NAME`.\n",
               pos[0], s.org, cli->prog, pos[0]);
out:
    json_decref(body);
    client_reply_release(&r);
    session_close(&s);
    return status;
}

static int cmd_sa_list(struct cli *cli, int argc, char **argv)
{
    const char *org = NULL;
    int npos = 0, status = args_parse_org(cli, argc, argv, &org, NULL, 0, &npos);
    if (status != EXIT_OK)
        return status;
    struct session s;
    struct client_reply r;
    if ((status = org_request(cli, &s, org, "GET", NULL, &r, "service-accounts", NULL)) != EXIT_OK)
        goto out;
    json_t *list = json_object_get(r.body, "serviceAccounts");
    if (cli->json) {
        out_json(json_pack("{s:O}", "serviceAccounts", list ? list : json_array()));
        goto out;
    }
    size_t n = json_array_size(list);
    if (n == 0) {
        printf("No service accounts in %s. Create one with `%s service-accounts create NAME`.\n",
               s.org, cli->prog);
        goto out;
    }
    static const struct column cols[] = {
        {"NAME", "name", NULL}, {"ID", "id", NULL}, {"CREATED", "createdAt", col_when}, COLUMN_END};
    status = out_rows(cli, cols, list, NULL);
out:
    client_reply_release(&r);
    session_close(&s);
    return status;
}

static int cmd_sa_delete(struct cli *cli, int argc, char **argv)
{
    const char *org = NULL, *pos[1];
    int yes = 0, npos = 0;
    const struct opt opts[] = {OPT_BOOL('y', "yes", &yes, "do not ask for confirmation"),
                               OPT_ORG(&org), OPT_END()};
    int status = args_parse(cli, argc, argv, opts, pos, 1, &npos);
    if (status != EXIT_OK)
        return status;
    if (npos != 1)
        return args_usage(cli);
    if ((status = confirm_unless(cli, yes, "--yes", 0,
                                 "Delete service account %s and revoke all its tokens?", pos[0])) !=
        EXIT_OK)
        return status;
    struct session s;
    struct client_reply r = {0};
    if ((status = org_request(cli, &s, org, "DELETE", NULL, &r, "service-accounts", pos[0],
                              NULL)) != EXIT_OK)
        goto out;
    if (cli->json)
        out_json(json_pack("{s:s, s:b}", "name", pos[0], "deleted", 1));
    else
        printf("Service account %s deleted; its tokens no longer work.\n", pos[0]);
out:
    client_reply_release(&r);
    session_close(&s);
    return status;
}

/* An event's detail object, compact ("{}" when there is none). */
static const char *detail_text(const json_t *value, const json_t *row, void *ctx, char *buf,
                               size_t size)
{
    (void)row, (void)ctx;
    return value ? json_text(value, buf, size, "{}") : "{}";
}

static int cmd_audit_list(struct cli *cli, int argc, char **argv)
{
    const char *org = NULL, *limit = NULL, *before = NULL;
    int for_org = 0;
    const struct opt opts[] = {
        OPT_BOOL(0, "org", &for_org, "the active organization's events instead of yours"),
        /* -o ORG implies --org. */
        {'o', "organization", NULL, 1, &org, &for_org, "ORG",
         "act on ORG instead of the active organization"},
        OPT_STRING('n', "limit", &limit, "N", "at most N events (1-200, default 50)"),
        OPT_STRING(0, "before", &before, "ID", "events older than event ID (paging)"),
        OPT_END()};
    int npos = 0, status = args_parse(cli, argc, argv, opts, NULL, 0, &npos);
    if (status != EXIT_OK)
        return status;
    long n = 50, b = 0;
    if ((limit && (status = args_int(cli, "--limit", limit, 1, 200, &n)) != EXIT_OK) ||
        (before && (status = args_int(cli, "--before", before, 1, 0x7fffffffL, &b)) != EXIT_OK))
        return status;
    struct session s;
    struct client_reply r = {0};
    char path[600], num[32];
    if ((status = for_org ? platform_open(cli, &s, org) : session_open(cli, &s, 1)) != EXIT_OK)
        goto out;
    if (for_org)
        status = org_path(&s, path, sizeof path, "audit", NULL);
    else
        snprintf(path, sizeof path, "/v1/users/me/audit");
    snprintf(num, sizeof num, "%ld", n);
    if (status != EXIT_OK || (status = path_query(cli, path, sizeof path, "limit", num)) != EXIT_OK)
        goto out;
    snprintf(num, sizeof num, "%ld", b);
    if (b && (status = path_query(cli, path, sizeof path, "before", num)) != EXIT_OK)
        goto out;
    if ((status = for_org ? org_call(&s, "GET", path, NULL, &r)
                          : session_call(&s, "GET", path, NULL, &r)) != EXIT_OK)
        goto out;
    json_t *events = json_object_get(r.body, "events");
    if (cli->json) {
        out_json(json_incref(r.body));
        goto out;
    }
    size_t count = json_array_size(events);
    if (count == 0) {
        printf("No audit events.\n");
        goto out;
    }
    static const struct column cols[] = {
        {"TIME", "at", col_when}, {"EVENT", "event", NULL},          {"TOKEN", "tokenId", NULL},
        {"ADDRESS", "ip", NULL},  {"DETAIL", "detail", detail_text}, COLUMN_END};
    if ((status = out_rows(cli, cols, events, NULL)) != EXIT_OK)
        goto out;
    json_t *next = json_object_get(r.body, "next");
    if (json_is_integer(next))
        out_note(cli, "Older events: add --before %lld", (long long)json_integer_value(next));
out:
    client_reply_release(&r);
    session_close(&s);
    return status;
}

/* The commands of this file: name, summary, synopsis, description and examples; their --help,
 * docs/cli page, completion and man page are generated from these and the option tables. */
const struct command orgtokens_commands[] = {
    COMMAND("audit", "list", cmd_audit_list, "show audit events: yours, or an organization's",
            "[--org | -o ORG] [--limit N] [--before ID]",
            "Show audit events, newest first: your own (tokens created, rotated, revoked, used\n"
            "after expiry or from a new address, scope refusals), or with --org those of the\n"
            "active organization (or ORG; admins), including API key and membership changes.\n"
            "Events never contain a secret.\n",
            "  pipecat cloud audit list --limit 3\n"),
    COMMAND(
        "organizations tokens", "list", cmd_org_tokens_list,
        "list the tokens that can act in the organization", "[-o ORG]",
        "List every active token that can act in the organization. What it owns (tokens bound\n"
        "to it, its service accounts' tokens) is shown with owner, scopes, expiry and last use;\n"
        "a member's unbound token only as \"has access through membership\" (revoking it is\n"
        "its owner's business: remove the member instead). Needs the admin role.\n",
        "  pipecat cloud organizations tokens list -o acme\n"),
    COMMAND(
        "organizations tokens", "revoke", cmd_org_tokens_revoke,
        "revoke a token that can act in the organization", "ID [--yes] [-o ORG]",
        "Revoke token ID (see `organizations tokens list`), bound to the organization or of\n"
        "one of its service accounts: it stops working everywhere, at once, and its owner sees\n"
        "who revoked it in their audit log. A member's unbound token is refused (403): only\n"
        "its owner revokes it. Asks to confirm unless --yes (needed without a terminal).\n"
        "Needs the admin role.\n",
        "  pipecat cloud organizations tokens revoke tok_4mQd9L2xV0bN7cTe\n"),
    COMMAND(
        "organizations", "token-policy", cmd_org_token_policy,
        "show or set what tokens must meet to act in the organization",
        "[--require-expiry yes|no]\n"
        "       [--max-lifetime-days N] [--require-binding yes|no] [-o ORG]",
        "Without options, show the organization's token policy. With options, change it (admin\n"
        "role). A token outside the policy is not revoked: it gets 403 in this organization.\n",
        "  pipecat cloud organizations token-policy --require-expiry yes --max-lifetime-days 90\n"),
    COMMAND(
        "service-accounts", "create", cmd_sa_create, "create a service account", "NAME [-o ORG]",
        "Create service account NAME (lowercase letters, digits, '-') in the organization: a\n"
        "non-human member whose tokens its admins manage, for pipelines that must not depend on\n"
        "one person's account. Give it tokens with `tokens create --service-account NAME`.\n"
        "Needs the admin role.\n",
        "  pipecat cloud service-accounts create deploy-bot\n"
        "  TOKEN=$(pipecat cloud tokens create --service-account deploy-bot --name github \\\n"
        "      --scopes deploy --expires-in 90)\n"),
    COMMAND("service-accounts", "list", cmd_sa_list, "list the organization's service accounts",
            "[-o ORG]", "List the organization's service accounts. Needs the admin role.\n",
            "  pipecat cloud service-accounts list -o acme\n"),
    COMMAND("service-accounts", "delete", cmd_sa_delete, "delete a service account and its tokens",
            "NAME [--yes] [-o ORG]",
            "Delete service account NAME; all its tokens stop working at once. Asks to confirm\n"
            "unless --yes (needed without a terminal). Needs the admin role.\n",
            "  pipecat cloud service-accounts delete deploy-bot --yes\n"),
    COMMAND_END};
