/* main.c: the pipecat CLI: `pipecat cloud GROUP COMMAND ...`, or `pcc GROUP COMMAND ...`.
 * Dispatches through the cli_commands[] table (name, summary, synopsis, description, examples
 * of each command); each command lives in cmd_<group>.c with its option table. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <sodium.h>

#include "cli.h"
#include "banned.h"

/* A command row: its --help is generated from these fields and the command's option table. */
#define COMMAND(g, n, fn, summ, syn, desc, ex)                                                 \
    {.group = (g), .name = (n), .run = (fn), .summary = (summ), .synopsis = (syn),               \
     .description = (desc), .examples = (ex)}

const struct command cli_commands[] = {
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
    COMMAND("auth", "status", cmd_auth_status, "check that the stored or given token works",
     "",
     "Check the token in use against the API. Exits 0 when it is accepted, 1 when there is\n"
     "no token or the server rejects it.\n",
     "  pipecat cloud auth status\n"),
    COMMAND("auth", "logout", cmd_auth_logout,
            "remove local credentials (optionally revoke the token)",
     "[--revoke]",
     "Remove the credentials file. After `auth login` the session (its access and refresh\n"
     "tokens) is first revoked on the server. A personal access token stays valid until it\n"
     "is revoked; --revoke revokes it on the server first.\n",
     "  pipecat cloud auth logout --revoke\n"),
    COMMAND("organizations", "list", cmd_orgs_list, "list your organizations",
     "",
     "List the organizations you belong to; the active one is marked.\n",
     "  pipecat cloud organizations list\n"),
    COMMAND("organizations", "select", cmd_orgs_select, "choose the active organization",
     "[-o ORG]",
     "Store ORG as the active organization. Without -o, pick from a list (terminal only).\n",
     "  pipecat cloud organizations select -o acme\n"),
    COMMAND("tokens", "list", cmd_tokens_list, "list your personal access tokens",
     "[--service-account NAME [-o ORG]]",
     "List your active personal access tokens: id, name, display form, scopes, the\n"
     "organization a token is bound to, expiry, and its last use (time and address).\n"
     "Secrets are never shown again after creation.\n",
     "  pipecat cloud tokens list\n"),
    COMMAND("tokens", "create", cmd_tokens_create, "create a personal access token",
     "--name NAME [--scopes LIST] [-o ORG] [--expires-in DAYS]",
     "Create a personal access token. It is printed once, alone on standard output, so\n"
     "    TOKEN=$(pipecat cloud tokens create --name ci-deploy --scopes deploy --expires-in 90)\n"
     "captures it. Use one token per pipeline so each can be revoked alone.\n",
     "  TOKEN=$(pipecat cloud tokens create --name github-deploy)\n"),
    COMMAND("tokens", "revoke", cmd_tokens_revoke, "revoke a personal access token",
     "ID [--service-account NAME [-o ORG] [--yes]]",
     "Revoke the token with id ID (see `tokens list`). It stops working at once. A service\n"
     "account's token: asks to confirm unless --yes (needed without a terminal).\n",
     "  pipecat cloud tokens revoke tok_4bX...\n"),
    COMMAND("tokens", "rotate", cmd_tokens_rotate,
            "give a token a new secret, keeping its identity",
     "ID [--grace DURATION]",
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
    COMMAND("audit", "list", cmd_audit_list, "show audit events: yours, or an organization's",
     "[--org | -o ORG] [--limit N] [--before ID]",
     "Show audit events, newest first: your own (tokens created, rotated, revoked, used\n"
     "after expiry or from a new address, scope refusals), or with --org those of the\n"
     "active organization (or ORG; admins), including API key and membership changes.\n"
     "Events never contain a secret.\n",
     "  pipecat cloud audit list --limit 3\n"),
    COMMAND("organizations tokens", "list", cmd_org_tokens_list,
            "list the tokens that can act in the organization",
     "[-o ORG]",
     "List every active token that can act in the organization: its members' tokens that are\n"
     "unbound or bound to it, and its service accounts' tokens, with owner, scopes, expiry\n"
     "and last use. Needs the admin role.\n",
     "  pipecat cloud organizations tokens list -o acme\n"),
    COMMAND("organizations tokens", "revoke", cmd_org_tokens_revoke,
            "revoke a token that can act in the organization",
     "ID [--yes] [-o ORG]",
     "Revoke token ID (see `organizations tokens list`): it stops working everywhere, at\n"
     "once, and its owner sees who revoked it in their audit log. Asks to confirm unless\n"
     "--yes (needed without a terminal). Needs the admin role.\n",
     "  pipecat cloud organizations tokens revoke tok_4mQd9L2xV0bN7cTe\n"),
    COMMAND("organizations", "token-policy", cmd_org_token_policy,
            "show or set what tokens must meet to act in the organization",
     "[--require-expiry yes|no]\n"
     "       [--max-lifetime-days N] [--require-binding yes|no] [-o ORG]",
     "Without options, show the organization's token policy. With options, change it (admin\n"
     "role). A token outside the policy is not revoked: it gets 403 in this organization.\n",
     "  pipecat cloud organizations token-policy --require-expiry yes --max-lifetime-days 90\n"),
    COMMAND("service-accounts", "create", cmd_sa_create, "create a service account",
     "NAME [-o ORG]",
     "Create service account NAME (lowercase letters, digits, '-') in the organization: a\n"
     "non-human member whose tokens its admins manage, for pipelines that must not depend on\n"
     "one person's account. Give it tokens with `tokens create --service-account NAME`.\n"
     "Needs the admin role.\n",
     "  pipecat cloud service-accounts create deploy-bot\n"
     "  TOKEN=$(pipecat cloud tokens create --service-account deploy-bot --name github \\\n"
     "      --scopes deploy --expires-in 90)\n"),
    COMMAND("service-accounts", "list", cmd_sa_list, "list the organization's service accounts",
     "[-o ORG]",
     "List the organization's service accounts. Needs the admin role.\n",
     "  pipecat cloud service-accounts list -o acme\n"),
    COMMAND("service-accounts", "delete", cmd_sa_delete, "delete a service account and its tokens",
     "NAME [--yes] [-o ORG]",
     "Delete service account NAME; all its tokens stop working at once. Asks to confirm\n"
     "unless --yes (needed without a terminal). Needs the admin role.\n",
     "  pipecat cloud service-accounts delete deploy-bot --yes\n"),
    COMMAND("organizations", "default-region", cmd_orgs_default_region,
            "show or set the organization's default region",
     "[REGION] [-o ORG]",
     "Without REGION, show the organization's default region and the regions available.\n"
     "With REGION, make it the default: agents and secret sets created without --region are\n"
     "placed there. Needs the admin role.\n",
     "  pipecat cloud organizations default-region\n"
     "  pipecat cloud organizations default-region eu-central\n"),
    COMMAND("organizations keys", "list", cmd_keys_list, "list the organization's API keys",
     "[-o ORG]",
     "List the organization's API keys: name, id, key, creation time and status. Public keys\n"
     "(pk_...) are shown in full, as they are meant to ship inside client apps; private keys\n"
     "only by their display form. Your default key for `agent start` is marked.\n",
     "  pipecat cloud organizations keys list\n"),
    COMMAND("organizations keys", "create", cmd_keys_create, "create an API key",
     "[-n NAME] [-d] [-t TYPE] [-o ORG]",
     "Create a public API key (pk_...), the credential of `agent start` and of client apps.\n"
     "Without --name the name is asked for (terminal only). With --default the key becomes\n"
     "this organization's default in the credentials file; on a terminal you are asked.\n"
     "--type private creates a private key (sk_...) for the management API instead: it is\n"
     "printed once, alone on standard output. Needs the admin role.\n",
     "  pipecat cloud organizations keys create --name \"web app\" --default\n"),
    COMMAND("organizations keys", "revoke", cmd_keys_revoke, "revoke an API key",
     "[KEY_ID] [-o ORG]",
     "Revoke an API key: it stops working at once and stays listed as revoked. If it was\n"
     "your default key, the default is removed from the credentials file. Needs the admin\n"
     "role.\n"
     "KEY_ID is the key's id or name as `organizations keys list` shows them; without it,\n"
     "pick from a list (terminal only).\n",
     "  pipecat cloud organizations keys revoke key_C5RRL0RuQ58AcC7c\n"),
    COMMAND("organizations keys", "delete", cmd_keys_delete, NULL,
     "[KEY_ID] [-o ORG]",
     "Deprecated: use `organizations keys revoke`, which this runs.\n",
     NULL),
    COMMAND("organizations keys", "use", cmd_keys_use,
            "make an API key the default for agent start",
     "[KEY_ID] [-o ORG]",
     "Make an API key this organization's default for `agent start`: its key and name are\n"
     "stored as default_public_key and default_public_key_name in the organization's table\n"
     "of the credentials file.\n"
     "KEY_ID is the key's id or name as `organizations keys list` shows them; without it,\n"
     "pick from a list (terminal only).\n",
     "  pipecat cloud organizations keys use \"web app\"\n"),
    COMMAND("organizations properties", "list", cmd_props_list,
            "show the organization's properties",
     "[-o ORG]",
     "Show the organization's properties and their current values.\n",
     "  pipecat cloud organizations properties list\n"),
    COMMAND("organizations properties", "schema", cmd_props_schema,
            "describe the properties that can be set",
     "[-o ORG]",
     "Describe every organization property: type, current value, default, whether it can be\n"
     "changed, what it means and the values it accepts.\n",
     "  pipecat cloud organizations properties schema\n"),
    COMMAND("organizations properties", "set", cmd_props_set, "set an organization property",
     "NAME VALUE [-o ORG]",
     "Set property NAME to VALUE, for example\n"
     "    pipecat cloud organizations properties set defaultRegion eu-central\n"
     "See `organizations properties schema` for the names and values. Needs the admin role.\n",
     "  pipecat cloud organizations properties set defaultRegion eu-central\n"),
    COMMAND("regions", "list", cmd_regions_list, "list the regions agents can run in",
     "[-o ORG]",
     "List the regions agents and secret sets can be placed in: code and name.\n",
     "  pipecat cloud regions list\n"),
    COMMAND("secrets", "set", cmd_secrets_set, "create a secret set or set keys in it",
     "NAME [KEY=VALUE ...] [-f FILE] [-r REGION] [-s] [-o ORG]",
     "Create secret set NAME, or add or replace keys in it (one request per key). Values come\n"
     "from KEY=VALUE arguments or from FILE: one KEY=VALUE per line, # comments and blank lines\n"
     "ignored, surrounding double quotes stripped. A VALUE of - is read from standard input\n"
     "(a hidden prompt on a terminal), which keeps it out of shell history:\n"
     "    printf %s \"$OPENAI_KEY\" | pipecat cloud secrets set my-secrets OPENAI_API_KEY=- -s\n"
     "Keys are 1-64 characters of A-Z a-z 0-9 _ -. A preview shows each key with at most the\n"
     "first 4 characters of its value and asks to confirm, again before replacing existing\n"
     "keys; --skip answers yes and is needed without a terminal. Agents see new values after\n"
     "a redeploy.\n",
     "  pipecat cloud secrets set my-secrets OPENAI_API_KEY=sk-live-0123456789 PORT=8080\n"),
    COMMAND("secrets", "list", cmd_secrets_list, "list secret sets, or the keys of one",
     "[NAME] [-s] [-r REGION] [-o ORG]",
     "Without NAME, list the secret sets and image pull secrets: name, region and type. With\n"
     "NAME, list the key names of that set. Values are never shown.\n",
     "  pipecat cloud secrets list\n"
     "  pipecat cloud secrets list my-secrets\n"),
    COMMAND("secrets", "unset", cmd_secrets_unset, "remove a key from a secret set",
     "NAME KEY [-s] [-o ORG]",
     "Remove KEY from secret set NAME. Asks to confirm unless --skip (needed without a\n"
     "terminal).\n",
     "  pipecat cloud secrets unset my-secrets PORT --skip\n"),
    COMMAND("secrets", "delete", cmd_secrets_delete, "delete a secret set",
     "NAME [-s] [-o ORG]",
     "Delete secret set (or image pull secret) NAME with all its keys. Asks to confirm unless\n"
     "--skip (needed without a terminal).\n",
     "  pipecat cloud secrets delete my-secrets --skip\n"),
    COMMAND("secrets", "image-pull-secret", cmd_secrets_image_pull_secret,
            "store registry credentials for pulling images",
     "NAME HOST [USER:PASS] [OPTIONS]",
     "Store the credentials for pulling images from registry HOST as image pull secret NAME;\n"
     "`deploy --credentials NAME` uses it. The credentials come from the USER:PASS argument,\n"
     "from prompts for user name and (hidden) password on a terminal, or else from the first\n"
     "line of standard input:\n"
     "    echo \"$REGISTRY_USER:$REGISTRY_TOKEN\" | pipecat cloud secrets image-pull-secret \\\n"
     "        ghcr ghcr.io -s\n"
     "They are sent base64-encoded; with --encode they are sent as given (already base64).\n"
     "Replacing an existing one asks to confirm unless --skip.\n",
     "  echo \"robot:$GHCR_TOKEN\" | pipecat cloud secrets image-pull-secret ghcr ghcr.io --skip\n"
     "  pipecat cloud deploy my-agent ghcr.io/acme/bot:1.0 --credentials ghcr --yes\n"),
    COMMAND("agent", "list", cmd_agent_list, "list the organization's agents",
     "[-r REGION] [-o ORG]",
     "List the organization's agents: name, region, id, active deployment, creation and\n"
     "update time.\n",
     "  pipecat cloud agent list\n"),
    COMMAND("agent", "status", cmd_agent_status, "show an agent's deployment status",
     "NAME [-o ORG]",
     "Show agent NAME: readiness, image, profile, scaling, session count, revisions, health,\n"
     "conditions and errors. Exits 0 when the agent exists, ready or not.\n",
     "  pipecat cloud agent status my-agent\n"),
    COMMAND("agent", "deployments", cmd_agent_deployments, "list an agent's deployments",
     "NAME [-o ORG]",
     "List the deployments of agent NAME: id, node type, image, creation and update time.\n",
     "  pipecat cloud agent deployments my-agent\n"),
    COMMAND("agent", "logs", cmd_agent_logs, "show an agent's logs",
     "NAME [OPTIONS]",
     "Show the logs of agent NAME, one entry per line (timestamp, then the message).\n",
     "  pipecat cloud agent logs my-agent -n 20 -l ERROR\n"),
    COMMAND("agent", "sessions", cmd_agent_sessions, "list an agent's sessions, or show one",
     "[NAME] [-i SESSION_ID] [--config-file FILE] [-o ORG]",
     "List the sessions of agent NAME with a summary (count, durations, bot start times, cold\n"
     "starts), or with --id show one session in detail. NAME defaults to agent_name in the\n"
     "deploy file.\n",
     "  pipecat cloud agent sessions my-agent\n"),
    COMMAND("agent", "delete", cmd_agent_delete, "delete an agent",
     "NAME [-f] [-o ORG]",
     "Delete agent NAME and its deployments. Active sessions are not interrupted. Asks to\n"
     "confirm unless --force (needed without a terminal).\n",
     "  pipecat cloud agent delete my-agent --force\n"),
    COMMAND("agent", "start", cmd_agent_start, "start a session of an agent",
     "[NAME] [-k KEY] [-d JSON] [-D [-p JSON]] [-f] [-o ORG]",
     "Start a session of agent NAME (default: agent_name in the deploy file) through the\n"
     "public start endpoint, authenticated with a public API key: --api-key, else the\n"
     "organization's default key (see `organizations keys use`). The agent must be ready.\n"
     "Asks to confirm unless --force (needed without a terminal).\n",
     "  pipecat cloud agent start my-agent --force -D\n"),
    COMMAND("agent", "stop", cmd_agent_stop, "stop a session of an agent",
     "[NAME] -s SESSION_ID [-f] [-o ORG]",
     "Stop session SESSION_ID of agent NAME (default: agent_name in the deploy file). Asks to\n"
     "confirm unless --force (needed without a terminal).\n",
     "  pipecat cloud agent stop my-agent --session-id sess_... --force\n"),
    COMMAND("", "deploy", cmd_deploy, "deploy an agent image, or update a deployed agent",
     "[AGENT_NAME] [IMAGE] [OPTIONS]",
     "Create agent AGENT_NAME running IMAGE (repository:tag), or update it. Arguments and\n"
     "options override the deploy file, pcc-deploy.toml (see --config-file). Before anything\n"
     "changes, the plan is shown and confirmed; --yes answers yes and is needed without a\n"
     "terminal:\n"
     "    pipecat cloud deploy my-agent repo/img:1.0 --yes\n"
     "Then it waits until the deployment is ready (a progress indicator on a terminal) and\n"
     "exits 0, or 1 if it failed or is not ready within --timeout.\n",
     "  pipecat cloud deploy my-agent repo/img:1.0 --secrets my-secrets --yes\n"),
    COMMAND("", "help", cmd_help, "show the help of a group or command",
     "[GROUP ...] [COMMAND]",
     "Show the help of a group or command, as `GROUP ... COMMAND --help` does; without\n"
     "arguments, the list of groups and commands.\n",
     "  pipecat cloud help agent logs\n"
     "  pipecat help organizations keys\n"),
    COMMAND("", "version", cmd_version, "print the CLI's version",
     "",
     "Print the version of this client (also `pipecat version`, `pipecat --version`).\n",
     "  pipecat cloud version --json\n"),
    COMMAND("", "completion", cmd_completion, "print a shell completion script (bash, zsh, fish)",
     "SHELL",
     "Print the completion script for SHELL: bash, zsh or fish. It completes groups, commands\n"
     "and options of both pipecat and pcc by asking the CLI itself, so it never goes stale.\n"
     "`make install` installs all three, and man pages for every command (`make man`).\n",
     "  source <(pipecat cloud completion bash)\n"
     "  pipecat cloud completion zsh > \"${fpath[1]}/_pipecat\"\n"
     "  pipecat cloud completion fish > ~/.config/fish/completions/pipecat.fish\n"),
    /* Hidden: what the completion scripts ask, the words typed so far in, candidates out. */
    COMMAND("", "__complete", cmd_complete, NULL, "[WORD ...]", "", NULL),
};
const size_t cli_command_count = sizeof cli_commands / sizeof cli_commands[0];

static const struct {
    const char *name;
    const char *summary;
} groups[] = {
    {"auth", "authenticate the CLI: browser login, personal access tokens, whoami, logout"},
    {"organizations", "list and select organizations, their API keys and properties"},
    {"organizations keys", "manage the organization's API keys"},
    {"organizations properties", "show and set the organization's properties"},
    {"organizations tokens", "oversee the tokens that can act in the organization"},
    {"tokens", "manage your personal access tokens"},
    {"service-accounts", "manage the organization's service accounts"},
    {"audit", "read the audit log"},
    {"regions", "list the regions agents can run in"},
    {"secrets", "manage secret sets and image pull secrets"},
    {"agent", "inspect, start, stop and delete deployed agents"},
};
#define GROUP_COUNT (sizeof groups / sizeof groups[0])

/* The direct subgroups and commands of group path ("" is the top level), as help lists. */
static size_t list_width(const char *path)
{
    size_t width = *path ? 10 : 15, plen = strlen(path);
    for (size_t i = 0; i < GROUP_COUNT; i++) {
        const char *g = groups[i].name;
        if (!*path && !strchr(g, ' ') && strlen(g) > width)
            width = strlen(g) + 1;
        if (*path && strncmp(g, path, plen) == 0 && g[plen] == ' ' &&
            strlen(g + plen + 1) >= width)
            width = strlen(g + plen + 1) + 1;
    }
    for (size_t i = 0; i < cli_command_count; i++)
        if (cli_commands[i].summary && strcmp(cli_commands[i].group, path) == 0 &&
            strlen(cli_commands[i].name) >= width)
            width = strlen(cli_commands[i].name) + 1;
    return width;
}

static void list_entries(FILE *f, const char *path)
{
    size_t plen = strlen(path);
    int width = (int)list_width(path);
    int any = 0;
    for (size_t i = 0; i < cli_command_count; i++) {
        const struct command *c = &cli_commands[i];
        if (!c->summary || strcmp(c->group, path) != 0)
            continue;
        if (!any++)
            fprintf(f, "commands:\n");
        fprintf(f, "  %-*s %s\n", width, c->name, c->summary);
    }
    int groups_listed = 0;
    for (size_t i = 0; i < GROUP_COUNT; i++) {
        const char *g = groups[i].name, *shown;
        if (!*path)
            shown = strchr(g, ' ') ? NULL : g;
        else
            shown = strncmp(g, path, plen) == 0 && g[plen] == ' ' ? g + plen + 1 : NULL;
        if (!shown)
            continue;
        if (!groups_listed++)
            fprintf(f, "%sgroups:\n", any ? "\n" : "");
        fprintf(f, "  %-*s %s\n", width, shown, groups[i].summary);
    }
}

static void usage_root(FILE *f, const struct cli *cli)
{
    fprintf(f, "usage: %s GROUP COMMAND [OPTIONS]\n\n"
               "Pipecat Cloud command-line client (pcc %s).\n\n",
            cli->prog, PCC_CLI_VERSION);
    list_entries(f, "");
    fprintf(f, "\nEnvironment: PIPECAT_API_HOST (server, default %s), PIPECAT_TOKEN,\n"
               "PIPECAT_ORG, PIPECAT_CONFIG_PATH (credentials file). Run `%s GROUP --help`.\n",
            DEFAULT_API_HOST, cli->prog);
}

static void usage_group(FILE *f, const struct cli *cli, const char *group)
{
    fprintf(f, "usage: %s %s COMMAND [OPTIONS]\n\n", cli->prog, group);
    list_entries(f, group);
    fprintf(f, "\nRun `%s %s COMMAND --help` for a command's options.\n", cli->prog, group);
}

static int is_group(const char *name)
{
    for (size_t i = 0; i < GROUP_COUNT; i++)
        if (strcmp(groups[i].name, name) == 0)
            return 1;
    return 0;
}

static int use_color(FILE *f)
{
    const char *no = getenv("NO_COLOR"), *term = getenv("TERM");
    return isatty(fileno(f)) && !(no && *no) && !(term && strcmp(term, "dumb") == 0);
}

int cli_dispatch(struct cli *cli, int nargs, char **args)
{
    if (nargs == 0) {
        usage_root(stderr, cli);
        return EXIT_USAGE;
    }
    if (strcmp(args[0], "--help") == 0 || strcmp(args[0], "-h") == 0) {
        usage_root(stdout, cli);
        return EXIT_OK;
    }
    if (strcmp(args[0], "--version") == 0) {
        printf("pipecat (pcc) %s\n", PCC_CLI_VERSION);
        return EXIT_OK;
    }
    /* Walk down nested groups ("organizations keys") to a command. */
    char path[128] = "";
    for (int k = 0;; k++) {
        if (k >= nargs) {
            usage_group(stderr, cli, path);
            return EXIT_USAGE;
        }
        if (k > 0 && (strcmp(args[k], "--help") == 0 || strcmp(args[k], "-h") == 0)) {
            usage_group(stdout, cli, path);
            return EXIT_OK;
        }
        for (size_t c = 0; c < cli_command_count; c++) {
            const struct command *cmd = &cli_commands[c];
            if (strcmp(cmd->group, path) != 0 || strcmp(cmd->name, args[k]) != 0)
                continue;
            cli->cmd = cmd;
            int status = cmd->run(cli, nargs - k, args + k);
            return status == EXIT_HELP ? EXIT_OK : status;
        }
        char sub[128];
        snprintf(sub, sizeof sub, "%s%s%s", path, *path ? " " : "", args[k]);
        if (is_group(sub)) {
            snprintf(path, sizeof path, "%s", sub);
            continue;
        }
        if (!*path) {
            fprintf(stderr, "Error: unknown command group '%s'\n\n", args[k]);
            usage_root(stderr, cli);
        } else {
            fprintf(stderr, "Error: unknown command '%s %s'\n\n", path, args[k]);
            usage_group(stderr, cli, path);
        }
        return EXIT_USAGE;
    }
}

int cmd_help(struct cli *cli, int argc, char **argv)
{
    const char *pos[5];
    int npos;
    const struct opt opts[] = {OPT_END()};
    int status = args_parse(cli, argc, argv, opts, pos, 4, &npos);
    if (status != EXIT_OK)
        return status;
    if (npos == 0) {
        usage_root(stdout, cli);
        return EXIT_OK;
    }
    char *words[6];
    for (int k = 0; k < npos; k++)
        words[k] = (char *)pos[k];
    words[npos] = "--help";
    words[npos + 1] = NULL;
    return cli_dispatch(cli, npos + 1, words);
}

int cmd_version(struct cli *cli, int argc, char **argv)
{
    int npos;
    const struct opt opts[] = {OPT_END()};
    int status = args_parse(cli, argc, argv, opts, NULL, 0, &npos);
    if (status != EXIT_OK)
        return status;
    if (cli->json)
        out_json(json_pack("{s:s}", "version", PCC_CLI_VERSION));
    else
        printf("pipecat (pcc) %s\n", PCC_CLI_VERSION);
    return EXIT_OK;
}

int cmd_complete(struct cli *cli, int argc, char **argv)
{
    char path[128] = "";
    for (int k = 1; k < argc; k++) {
        if (argv[k][0] == '-')
            continue;
        for (size_t c = 0; c < cli_command_count; c++) {
            const struct command *cmd = &cli_commands[c];
            if (!cmd->summary || strcmp(cmd->group, path) != 0 || strcmp(cmd->name, argv[k]))
                continue;
            char *words[] = {(char *)cmd->name, ARGS_COMPLETION_FLAG, NULL};
            cli->cmd = cmd;
            return cmd->run(cli, 2, words);
        }
        char sub[128];
        snprintf(sub, sizeof sub, "%s%s%s", path, *path ? " " : "", argv[k]);
        if (!is_group(sub))
            return EXIT_OK;
        snprintf(path, sizeof path, "%s", sub);
    }
    size_t plen = strlen(path);
    for (size_t c = 0; c < cli_command_count; c++)
        if (cli_commands[c].summary && strcmp(cli_commands[c].group, path) == 0)
            printf("%s\n", cli_commands[c].name);
    for (size_t g = 0; g < GROUP_COUNT; g++) {
        const char *name = groups[g].name;
        if (!*path && !strchr(name, ' '))
            printf("%s\n", name);
        else if (*path && strncmp(name, path, plen) == 0 && name[plen] == ' ' &&
                 !strchr(name + plen + 1, ' '))
            printf("%s\n", name + plen + 1);
    }
    return EXIT_OK;
}

int main(int argc, char **argv)
{
    if (sodium_init() < 0) {
        fprintf(stderr, "Error: cannot initialise libsodium\n");
        return EXIT_FAIL;
    }
    struct cli cli = {.prog = "pipecat cloud"};
    /* The CA bundle for https:// hosts, as OpenSSL-based clients (the official one included)
     * and the curl tool read it; libcurl itself reads neither variable. */
    const char *ca = getenv("SSL_CERT_FILE");
    client_use_ca_file(ca && *ca ? ca : getenv("CURL_CA_BUNDLE"));
    client_use_ca_dir(getenv("SSL_CERT_DIR"));
    cli.color_out = use_color(stdout);
    cli.color_err = use_color(stderr);

    /* `pcc` behaves as `pipecat cloud`. */
    const char *base = strrchr(argv[0], '/');
    base = base ? base + 1 : argv[0];
    int i = 1;
    if (strcmp(base, "pcc") == 0) {
        cli.prog = "pcc";
    } else {
        if (i < argc && (strcmp(argv[i], "--version") == 0 || strcmp(argv[i], "version") == 0)) {
            printf("pipecat (pcc) %s\n", PCC_CLI_VERSION);
            return EXIT_OK;
        }
        /* `pipecat help cloud agent logs` (or `pipecat help agent logs`): `pipecat cloud help
         * ...`; bare `pipecat help` is `pipecat --help`. */
        if (i < argc && strcmp(argv[i], "help") == 0 && i + 1 < argc) {
            /* Rewritten in place to `cloud help WORDS` (argv[0] was read above). */
            if (strcmp(argv[i + 1], "cloud") == 0) {
                argv[i] = "cloud";
                argv[i + 1] = "help";
            } else {
                i = 0;
                argv[0] = "cloud";
            }
        }
        if (i >= argc || strcmp(argv[i], "--help") == 0 || strcmp(argv[i], "-h") == 0 ||
            strcmp(argv[i], "help") == 0) {
            fprintf(i >= argc ? stderr : stdout,
                    "usage: pipecat cloud GROUP COMMAND [OPTIONS]\n\n"
                    "The Pipecat command-line client. Its `cloud` commands manage Pipecat Cloud\n"
                    "(or a self-hosted pccd). Run `pipecat cloud --help`.\n");
            return i >= argc ? EXIT_USAGE : EXIT_OK;
        }
        if (strcmp(argv[i], "cloud") != 0) {
            fprintf(stderr, "Error: unknown command '%s': try `pipecat cloud --help`\n", argv[i]);
            return EXIT_USAGE;
        }
        i++;
    }

    /* --json may stand anywhere after `cloud`: take it out before command parsing. */
    int n = 0;
    char **args = argv + i;
    int nargs = argc - i;
    for (int k = 0; k < nargs; k++) {
        if (strcmp(args[k], "--") == 0) {
            while (k < nargs)
                args[n++] = args[k++];
            break;
        }
        if (strcmp(args[k], "--json") == 0)
            cli.json = 1;
        else
            args[n++] = args[k];
    }
    nargs = n;

    return cli_dispatch(&cli, nargs, args);
}

