/* cmd_orgs.c: `organizations list` and `organizations select`. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cli.h"
#include "banned.h"

/* The organization's name, marked when it is the active one (ctx). */
static const char *name_marked(const json_t *value, const json_t *row, void *ctx, char *buf,
                               size_t size)
{
    (void)row;
    const char *slug = json_string_value(value);
    slug = slug ? slug : "";
    snprintf(buf, size, "%s%s", slug, strcmp(slug, (const char *)ctx) == 0 ? " (active)" : "");
    return buf;
}

static int cmd_orgs_list(struct cli *cli, int argc, char **argv)
{
    const char *flag_org = NULL;
    int npos;
    int status = args_parse_org(cli, argc, argv, &flag_org, NULL, 0, &npos);
    if (status != EXIT_OK)
        return status;
    struct session s;
    json_t *orgs;
    if ((status = session_open(cli, &s, 1)) != EXIT_OK)
        goto out;
    if (!(orgs = session_orgs(&s)) || (status = session_resolve_org(&s, flag_org)) != EXIT_OK) {
        status = EXIT_FAIL;
        goto out;
    }
    if (cli->json) {
        out_json(json_pack("{s:O, s:s}", "organizations", orgs, "active", s.org));
        goto out;
    }
    size_t n = json_array_size(orgs);
    if (n == 0) {
        printf("No organizations: ask an organization admin to add you.\n");
        goto out;
    }
    static const struct column cols[] = {{"NAME", "name", name_marked},
                                         {"ORGANIZATION", "verboseName", NULL},
                                         {"ROLE", "role", NULL},
                                         COLUMN_END};
    status = out_rows(cli, cols, orgs, s.org);
out:
    session_close(&s);
    return status;
}

static int cmd_orgs_select(struct cli *cli, int argc, char **argv)
{
    const char *flag_org = NULL;
    int npos;
    int status = args_parse_org(cli, argc, argv, &flag_org, NULL, 0, &npos);
    if (status != EXIT_OK)
        return status;
    if (!flag_org && !isatty(STDIN_FILENO)) {
        out_error(cli, "no organization given and no terminal to ask on: pass -o ORG");
        return EXIT_USAGE;
    }
    struct session s;
    json_t *orgs;
    char *answer = NULL;
    if ((status = session_open(cli, &s, 1)) != EXIT_OK)
        goto out;
    status = EXIT_FAIL;
    if (!(orgs = session_orgs(&s)))
        goto out;
    size_t n = json_array_size(orgs);
    const char *chosen = NULL;
    if (flag_org) {
        for (size_t i = 0; i < n; i++) {
            const char *name = json_string_value(json_object_get(json_array_get(orgs, i), "name"));
            if (name && strcmp(name, flag_org) == 0)
                chosen = name;
        }
        if (!chosen) {
            out_error(cli,
                      "organization '%s' not found among yours (see `%s organizations "
                      "list`)",
                      flag_org, cli->prog);
            goto out;
        }
    } else {
        if (n == 0) {
            out_error(cli, "you belong to no organization");
            goto out;
        }
        for (size_t i = 0; i < n; i++) {
            json_t *o = json_array_get(orgs, i);
            fprintf(stderr, "  %zu) %s (%s)\n", i + 1,
                    json_string_value(json_object_get(o, "verboseName")),
                    json_string_value(json_object_get(o, "name")));
        }
        fprintf(stderr, "Select an organization [1-%zu]: ", n);
        fflush(stderr);
        answer = read_stdin_line();
        char *end = NULL;
        long pick = answer ? strtol(answer, &end, 10) : 0;
        if (!answer || end == answer || *end || pick < 1 || (size_t)pick > n) {
            out_error(cli, "no valid choice made; nothing changed");
            goto out;
        }
        chosen = json_string_value(json_object_get(json_array_get(orgs, (size_t)pick - 1), "name"));
    }
    if (credfile_set_active_org(s.file, chosen) != RC_OK || session_save(&s) != EXIT_OK)
        goto out;
    if (cli->json)
        out_json(json_pack("{s:s}", "active", chosen));
    else
        printf("Current organization set to %s\n", chosen);
    const char *env = getenv("PIPECAT_ORG");
    if (env && *env && strcmp(env, chosen) != 0)
        out_warn(cli, "PIPECAT_ORG=%s is set and takes precedence over this choice.", env);
    status = EXIT_OK;
out:
    free(answer);
    session_close(&s);
    return status;
}

/* The commands of this file: name, summary, synopsis, description and examples; their --help,
 * docs/cli page, completion and man page are generated from these and the option tables. */
const struct command orgs_commands[] = {
    COMMAND("organizations", "list", cmd_orgs_list, "list your organizations", "",
            "List the organizations you belong to; the active one is marked.\n",
            "  pipecat cloud organizations list\n"),
    COMMAND("organizations", "select", cmd_orgs_select, "choose the active organization",
            "[-o ORG]",
            "Store ORG as the active organization. Without -o, pick from a list (terminal only).\n",
            "  pipecat cloud organizations select -o acme\n"),
    COMMAND_END};
