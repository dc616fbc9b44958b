/* backup.c: `pccd backup` and `pccd restore`: a consistent copy of the SQLite database taken
 * while pccd serves, and putting one back into a data directory. */
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>

#include "admin_options.h"
#include "pccd.h"
#include "banned.h"

enum { OPT_TO = 2000, OPT_FROM, OPT_FORCE };

#define SECRET_NOTE                                                                                \
    "The backup holds the database only. Token digests are keyed with the server secret\n"         \
    "(DIR/secret): keep a copy of that file too, apart from the backups; a database restored\n"    \
    "without its secret rejects every token.\n"

/* Parse the shared options plus --to/--from (into *path) and --force; 0, or an exit code. */
static int parse(int argc, char **argv, const char *cmd, const char *help, int path_opt,
                 struct pccd_settings *s, const char **path, int *force)
{
    const struct option opts[] = {COMMON_OPTIONS,
                                  {"to", required_argument, NULL, OPT_TO},
                                  {"from", required_argument, NULL, OPT_FROM},
                                  {"force", no_argument, NULL, OPT_FORCE},
                                  {0, 0, 0, 0}};
    settings_from_env(s);
    int c;
    while ((c = getopt_long(argc, argv, "", opts, NULL)) != -1) {
        if (c == OPT_HELP) {
            fputs(help, stdout);
            return -1;
        }
        if (c == path_opt)
            *path = optarg;
        else if (c == OPT_FORCE && force)
            *force = 1;
        else if (!common_option(c, s)) {
            fputs(help, stderr);
            return 2;
        }
    }
    if (optind < argc || !*path) {
        fputs(help, stderr);
        return 2;
    }
    return settings_finish(s, cmd);
}

int cmd_backup(int argc, char **argv)
{
    static const char help[] =
        "usage: pccd backup --data DIR --to FILE\n\n"
        "Copy the SQLite database into FILE (mode 0600, replaced atomically) as one consistent\n"
        "snapshot, while pccd serves it: requests go on during the copy. On PostgreSQL, use\n"
        "pg_dump instead.\n\n" SECRET_NOTE "\n"
        "  --to FILE           where to write the backup\n" COMMON_HELP;
    struct pccd_settings s;
    const char *to = NULL;
    int status = parse(argc, argv, "backup", help, OPT_TO, &s, &to, NULL);
    if (status)
        return status < 0 ? 0 : status;
    char err[512];
    if (store_backup(s.db_url, to, err, sizeof err) != RC_OK) {
        die_msg("backup", "%s", err);
        return 1;
    }
    fprintf(stderr, "pccd backup: wrote %s\n", to);
    return 0;
}

int cmd_restore(int argc, char **argv)
{
    static const char help[] =
        "usage: pccd restore --data DIR --from FILE [--force]\n\n"
        "Put the database saved by `pccd backup` into DIR, which is created (0700) when\n"
        "missing. The backup is checked first (an intact SQLite database with pcc's schema,\n"
        "not newer than this pccd). An existing database is replaced only with --force, and\n"
        "only while no pccd uses it: stop pccd first. Pending migrations are applied when pccd\n"
        "next starts. On PostgreSQL, use pg_restore instead.\n\n" SECRET_NOTE "\n"
        "  --from FILE         the backup to restore\n"
        "  --force             replace the database that is there\n" COMMON_HELP;
    struct pccd_settings s;
    const char *from = NULL;
    int force = 0;
    int status = parse(argc, argv, "restore", help, OPT_FROM, &s, &from, &force);
    if (status)
        return status < 0 ? 0 : status;
    if (s.data_dir && mkdir(s.data_dir, 0700) != 0 && errno != EEXIST) {
        die_msg("restore", "%s: %s", s.data_dir, strerror(errno));
        return 1;
    }
    char err[512];
    int version = 0;
    enum rc rc = store_restore(from, s.db_url, force, &version, err, sizeof err);
    if (rc != RC_OK) {
        die_msg("restore", "%s", err);
        return rc == RC_IO || rc == RC_STORE ? 1 : 2;
    }
    fprintf(stderr, "pccd restore: restored %s (schema version %d)\n", from, version);
    struct stat st;
    if (stat(s.secret_file, &st) != 0)
        fprintf(stderr,
                "pccd restore: no server secret at %s yet: put the secret this "
                "database was used with there, or every token is rejected\n",
                s.secret_file);
    return 0;
}
