/* admin_options.h: the options every admin subcommand (init, migrate, user, org, token, backup,
 * restore) shares, for getopt_long. Not for serve, which has its own table. */
#ifndef PCCD_ADMIN_OPTIONS_H
#define PCCD_ADMIN_OPTIONS_H

#include <getopt.h>

#include "pccd.h"

/* Options every admin command shares; extra holds the command's own. */
enum { OPT_DATA = 1000, OPT_DB, OPT_SECRET, OPT_HELP };
#define COMMON_OPTIONS                                                                             \
    {"data", required_argument, NULL, OPT_DATA}, {"db", required_argument, NULL, OPT_DB},          \
        {"secret-file", required_argument, NULL, OPT_SECRET},                                      \
    {                                                                                              \
        "help", no_argument, NULL, OPT_HELP                                                        \
    }
#define COMMON_HELP                                                                                \
    "  --data DIR          data directory (PCCD_DATA)\n"                                           \
    "  --db URL            database, sqlite:PATH (PCCD_DATABASE_URL; default sqlite:DIR/pcc.db)\n" \
    "  --secret-file PATH  server secret (PCCD_SECRET_FILE; default DIR/secret)\n"                 \
    "  --help              show this help\n"

/* Handle a shared option (optarg is its value); returns 1 when it was one. */
int common_option(int c, struct pccd_settings *s);

#endif
