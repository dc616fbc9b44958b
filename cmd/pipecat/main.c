/* main.c: the pipecat CLI: `pipecat cloud GROUP COMMAND ...`, or `pcc GROUP COMMAND ...`.
 * Gathers the command tables of the cmd_*.c files (name, summary, synopsis, description, examples
 * of each command); each command lives in cmd_<group>.c with its option table. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <sodium.h>

#include "cli.h"
#include "banned.h"

static int cmd_help(struct cli *cli, int argc, char **argv);
static int cmd_version(struct cli *cli, int argc, char **argv);
static int cmd_complete(struct cli *cli, int argc, char **argv);

/* The commands of main.c itself: help, version and what the completion scripts ask. */
static const struct command main_commands[] = {
    COMMAND("", "help", cmd_help, "show the help of a group or command", "[GROUP ...] [COMMAND]",
            "Show the help of a group or command, as `GROUP ... COMMAND --help` does; without\n"
            "arguments, the list of groups and commands.\n",
            "  pipecat cloud help agent logs\n"
            "  pipecat help organizations keys\n"),
    COMMAND("", "version", cmd_version, "print the CLI's version", "",
            "Print the version of this client (also `pipecat version`, `pipecat --version`).\n",
            "  pipecat cloud version --json\n"),
    /* Hidden: what the completion scripts ask, the words typed so far in, candidates out. */
    COMMAND("", "__complete", cmd_complete, NULL, "[WORD ...]", "", NULL), COMMAND_END};
/* Every file's table of commands, in the order the help lists them. A command added to a
 * file's table needs nothing here; a new file adds its table to this list. */
static const struct command *const tables[] = {
    login_commands,       auth_commands,  orgs_commands,      tokens_commands,  orgtokens_commands,
    invitations_commands, props_commands, keys_commands,      secrets_commands, agent_commands,
    deploy_commands,      main_commands,  completion_commands};

#define MAX_COMMANDS 256
static const struct command *cli_commands[MAX_COMMANDS];
static size_t cli_command_count;

/* Gather the tables into cli_commands (once, at start). */
static void collect_commands(void)
{
    for (size_t t = 0; t < sizeof tables / sizeof tables[0]; t++)
        for (const struct command *c = tables[t]; c->name && cli_command_count < MAX_COMMANDS; c++)
            cli_commands[cli_command_count++] = c;
}

static const struct {
    const char *name;
    const char *summary;
} groups[] = {
    {"auth", "authenticate the CLI: browser login, personal access tokens, whoami, logout"},
    {"organizations", "list and select organizations, their API keys and properties"},
    {"organizations keys", "manage the organization's API keys"},
    {"organizations properties", "show and set the organization's properties"},
    {"organizations tokens", "oversee the tokens that can act in the organization"},
    {"organizations invitations", "answer the invitations to join organizations"},
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
        if (*path && strncmp(g, path, plen) == 0 && g[plen] == ' ' && strlen(g + plen + 1) >= width)
            width = strlen(g + plen + 1) + 1;
    }
    for (size_t i = 0; i < cli_command_count; i++)
        if (cli_commands[i]->summary && strcmp(cli_commands[i]->group, path) == 0 &&
            strlen(cli_commands[i]->name) >= width)
            width = strlen(cli_commands[i]->name) + 1;
    return width;
}

static void list_entries(FILE *f, const char *path)
{
    size_t plen = strlen(path);
    int width = (int)list_width(path);
    int any = 0;
    for (size_t i = 0; i < cli_command_count; i++) {
        const struct command *c = cli_commands[i];
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
    fprintf(f,
            "usage: %s GROUP COMMAND [OPTIONS]\n\n"
            "Pipecat Cloud command-line client (pcc %s).\n\n",
            cli->prog, PCC_CLI_VERSION);
    list_entries(f, "");
    fprintf(f,
            "\nEnvironment: PIPECAT_API_HOST (server, default %s), PIPECAT_TOKEN,\n"
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
            const struct command *cmd = cli_commands[c];
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

static int cmd_help(struct cli *cli, int argc, char **argv)
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

static int cmd_version(struct cli *cli, int argc, char **argv)
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

static int cmd_complete(struct cli *cli, int argc, char **argv)
{
    char path[128] = "";
    for (int k = 1; k < argc; k++) {
        if (argv[k][0] == '-')
            continue;
        for (size_t c = 0; c < cli_command_count; c++) {
            const struct command *cmd = cli_commands[c];
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
        if (cli_commands[c]->summary && strcmp(cli_commands[c]->group, path) == 0)
            printf("%s\n", cli_commands[c]->name);
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
    collect_commands();
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
