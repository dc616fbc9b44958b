/* pccd.h: shared pieces of the pccd front end: settings from flags and PCCD_* variables,
 * opening the data directory, and the subcommand entry points. */
#ifndef PCCD_H
#define PCCD_H

#include "auth.h"
#include "store.h"

#define PCCD_VERSION "0.1.0"

struct pccd_settings {
    const char *data_dir;    /* --data, PCCD_DATA */
    const char *db_url;      /* --db, PCCD_DATABASE_URL; default sqlite:DATA/pcc.db */
    const char *secret_file; /* --secret-file, PCCD_SECRET_FILE; default DATA/secret */
    char db_default[4096];
    char secret_default[4096];
};

/* Fill s from PCCD_* variables; flags parsed later override them. */
void settings_from_env(struct pccd_settings *s);
/* Derive defaults; exit 2 with a message when neither --data nor the explicit paths are set. */
int settings_finish(struct pccd_settings *s, const char *cmd);
/* Open the store, apply migrations and load the server secret; prints errors, returns 0/1. */
int open_backend(struct pccd_settings *s, struct store **st, struct digest_key *key);

int cmd_init(int argc, char **argv);
int cmd_migrate(int argc, char **argv);
int cmd_user(int argc, char **argv);
int cmd_org(int argc, char **argv);
int cmd_token(int argc, char **argv);
int cmd_serve(int argc, char **argv);
int cmd_backup(int argc, char **argv);
int cmd_restore(int argc, char **argv);

/* Print an error as "pccd CMD: message" to stderr. */
void die_msg(const char *cmd, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

#endif
