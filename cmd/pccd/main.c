/* main.c: pccd, the pcc server: dispatches to the serve and admin subcommands. */
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>

#include <sodium.h>

#include "log.h"
#include "pccd.h"
#include "banned.h"

static const struct {
    const char *name;
    int (*run)(int argc, char **argv);
    const char *summary;
} commands[] = {
    {"serve", cmd_serve, "run the API server"},
    {"init", cmd_init, "create a data directory: server secret, database, schema"},
    {"migrate", cmd_migrate, "apply pending database migrations"},
    {"user", cmd_user, "manage users: pccd user add, pccd user passwd"},
    {"org", cmd_org, "manage organizations: pccd org daily-key"},
    {"token", cmd_token, "issue and revoke personal access tokens: pccd token create"},
    {"backup", cmd_backup, "copy the SQLite database while serving: pccd backup --to FILE"},
    {"restore", cmd_restore, "put a backup back: pccd restore --from FILE"},
};

static void usage(FILE *f)
{
    fprintf(f, "usage: pccd COMMAND [OPTIONS]\n\n"
               "The pcc server: a self-hostable Pipecat Cloud control plane.\n\ncommands:\n");
    for (size_t i = 0; i < sizeof commands / sizeof commands[0]; i++)
        fprintf(f, "  %-10s %s\n", commands[i].name, commands[i].summary);
    fprintf(f, "\nRun `pccd COMMAND --help` for a command's options. Every option can also be set\n"
               "through a PCCD_* environment variable (listed in each command's help).\n");
}

int main(int argc, char **argv)
{
    if (sodium_init() < 0) {
        fprintf(stderr, "pccd: cannot initialise libsodium\n");
        return 1;
    }
    log_init(stderr, LOG_INFO);
    umask(077); /* the database, its WAL and the secret are private to the server's user */
    if (argc < 2 || strcmp(argv[1], "--help") == 0 || strcmp(argv[1], "-h") == 0 ||
        strcmp(argv[1], "help") == 0) {
        usage(argc < 2 ? stderr : stdout);
        return argc < 2 ? 2 : 0;
    }
    if (strcmp(argv[1], "--version") == 0) {
        printf("pccd %s\n", PCCD_VERSION);
        return 0;
    }
    for (size_t i = 0; i < sizeof commands / sizeof commands[0]; i++)
        if (strcmp(argv[1], commands[i].name) == 0)
            return commands[i].run(argc - 1, argv + 1);
    fprintf(stderr, "pccd: unknown command '%s'\n\n", argv[1]);
    usage(stderr);
    return 2;
}
