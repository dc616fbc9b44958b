/* main.c: the pipecat CLI: `pipecat cloud GROUP COMMAND ...`, or `pcc GROUP COMMAND ...`.
 * Dispatches through the commands[] table; each command lives in cmd_<group>.c. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <sodium.h>

#include "cli.h"
#include "banned.h"

#define H_OPTS "\nOptions:\n"
#define H_JSON "  --json                   print machine-readable JSON on stdout\n"
#define H_ORG "  -o, --organization ORG   act on ORG instead of the active organization\n"
#define H_HELP "  -h, --help               show this help\n"

const struct command cli_commands[] = {
    {"auth", "use-pat", cmd_auth_use_pat, "validate a personal access token and store it",
     "usage: %s auth use-pat [TOKEN]\n\n"
     "Validate a personal access token against the API, then store it (with the active\n"
     "organization) in the credentials file. The token is read from a hidden prompt on a\n"
     "terminal, or from the first line of standard input when it is piped:\n"
     "    echo \"$PIPECAT_TOKEN\" | pipecat cloud auth use-pat\n"
     "Passing TOKEN as an argument still works but leaks it to shell history.\n" H_OPTS H_JSON
     H_HELP},
    {"auth", "whoami", cmd_auth_whoami, "show the user, organization and credential in use",
     "usage: %s auth whoami [-o ORG]\n\n"
     "Show the signed-in user, the active organization, how the CLI authenticates (PAT or\n"
     "OAuth) and where the token came from (PIPECAT_TOKEN or the credentials file).\n" H_OPTS
     H_ORG H_JSON H_HELP},
    {"auth", "status", cmd_auth_status, "check that the stored or given token works",
     "usage: %s auth status\n\n"
     "Check the token in use against the API. Exits 0 when it is accepted, 1 when there is\n"
     "no token or the server rejects it.\n" H_OPTS H_JSON H_HELP},
    {"auth", "logout", cmd_auth_logout, "remove local credentials (optionally revoke the token)",
     "usage: %s auth logout [--revoke]\n\n"
     "Remove the credentials file. A personal access token stays valid until it is revoked;\n"
     "--revoke revokes it on the server first.\n" H_OPTS
     "  --revoke                 revoke the token server-side before removing it\n" H_JSON
     H_HELP},
    {"organizations", "list", cmd_orgs_list, "list your organizations",
     "usage: %s organizations list\n\n"
     "List the organizations you belong to; the active one is marked.\n" H_OPTS H_ORG H_JSON
     H_HELP},
    {"organizations", "select", cmd_orgs_select, "choose the active organization",
     "usage: %s organizations select [-o ORG]\n\n"
     "Store ORG as the active organization. Without -o, pick from a list (terminal only).\n"
     H_OPTS H_ORG H_JSON H_HELP},
    {"tokens", "list", cmd_tokens_list, "list your personal access tokens",
     "usage: %s tokens list\n\n"
     "List your active personal access tokens: id, name, display form, creation and last use.\n"
     "Secrets are never shown again after creation.\n" H_OPTS H_JSON H_HELP},
    {"tokens", "create", cmd_tokens_create, "create a personal access token",
     "usage: %s tokens create --name NAME\n\n"
     "Create a personal access token. It is printed once, alone on standard output, so\n"
     "    TOKEN=$(pipecat cloud tokens create --name ci-deploy)\n"
     "captures it. Use one token per pipeline so each can be revoked alone.\n" H_OPTS
     "  -n, --name NAME          a descriptive name (required)\n" H_JSON H_HELP},
    {"tokens", "revoke", cmd_tokens_revoke, "revoke a personal access token",
     "usage: %s tokens revoke ID\n\n"
     "Revoke the token with id ID (see `tokens list`). It stops working at once.\n" H_OPTS
     H_JSON H_HELP},
};
const size_t cli_command_count = sizeof cli_commands / sizeof cli_commands[0];

static const struct {
    const char *name;
    const char *summary;
} groups[] = {
    {"auth", "authenticate the CLI: personal access tokens, whoami, status, logout"},
    {"organizations", "list and select organizations"},
    {"tokens", "manage your personal access tokens"},
};
#define GROUP_COUNT (sizeof groups / sizeof groups[0])

static void usage_root(FILE *f, const struct cli *cli)
{
    fprintf(f, "usage: %s GROUP COMMAND [OPTIONS]\n\n"
               "Pipecat Cloud command-line client (pcc %s).\n\ngroups:\n",
            cli->prog, PCC_CLI_VERSION);
    for (size_t i = 0; i < GROUP_COUNT; i++)
        fprintf(f, "  %-15s %s\n", groups[i].name, groups[i].summary);
    fprintf(f, "\nEnvironment: PIPECAT_API_HOST (server, default %s), PIPECAT_TOKEN,\n"
               "PIPECAT_ORG, PIPECAT_CONFIG_PATH (credentials file). Run `%s GROUP --help`.\n",
            DEFAULT_API_HOST, cli->prog);
}

static void usage_group(FILE *f, const struct cli *cli, const char *group)
{
    fprintf(f, "usage: %s %s COMMAND [OPTIONS]\n\ncommands:\n", cli->prog, group);
    for (size_t i = 0; i < cli_command_count; i++)
        if (strcmp(cli_commands[i].group, group) == 0)
            fprintf(f, "  %-10s %s\n", cli_commands[i].name, cli_commands[i].summary);
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

int main(int argc, char **argv)
{
    if (sodium_init() < 0) {
        fprintf(stderr, "Error: cannot initialise libsodium\n");
        return EXIT_FAIL;
    }
    struct cli cli = {.prog = "pipecat cloud"};
    cli.color_out = use_color(stdout);
    cli.color_err = use_color(stderr);

    /* `pcc` behaves as `pipecat cloud`. */
    const char *base = strrchr(argv[0], '/');
    base = base ? base + 1 : argv[0];
    int i = 1;
    if (strcmp(base, "pcc") == 0) {
        cli.prog = "pcc";
    } else {
        if (i < argc && strcmp(argv[i], "--version") == 0) {
            printf("pipecat (pcc) %s\n", PCC_CLI_VERSION);
            return EXIT_OK;
        }
        if (i >= argc || strcmp(argv[i], "--help") == 0 || strcmp(argv[i], "-h") == 0) {
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

    if (nargs == 0) {
        usage_root(stderr, &cli);
        return EXIT_USAGE;
    }
    if (strcmp(args[0], "--help") == 0 || strcmp(args[0], "-h") == 0) {
        usage_root(stdout, &cli);
        return EXIT_OK;
    }
    if (strcmp(args[0], "--version") == 0) {
        printf("pipecat (pcc) %s\n", PCC_CLI_VERSION);
        return EXIT_OK;
    }
    if (!is_group(args[0])) {
        fprintf(stderr, "Error: unknown command group '%s'\n\n", args[0]);
        usage_root(stderr, &cli);
        return EXIT_USAGE;
    }
    if (nargs == 1 || strcmp(args[1], "--help") == 0 || strcmp(args[1], "-h") == 0) {
        usage_group(nargs == 1 ? stderr : stdout, &cli, args[0]);
        return nargs == 1 ? EXIT_USAGE : EXIT_OK;
    }
    for (size_t k = 0; k < cli_command_count; k++) {
        const struct command *c = &cli_commands[k];
        if (strcmp(c->group, args[0]) != 0 || strcmp(c->name, args[1]) != 0)
            continue;
        if (wants_help(nargs - 1, args + 1)) {
            printf(c->help, cli.prog);
            return EXIT_OK;
        }
        return c->run(&cli, nargs - 1, args + 1);
    }
    fprintf(stderr, "Error: unknown command '%s %s'\n\n", args[0], args[1]);
    usage_group(stderr, &cli, args[0]);
    return EXIT_USAGE;
}
