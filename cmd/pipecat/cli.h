/* cli.h: shared state and helpers of the pipecat CLI front end: global options, output,
 * prompts, and the session (credentials, organization, API client) commands work through. */
#ifndef PCC_CLI_H
#define PCC_CLI_H

#include <stdio.h>

#include <jansson.h>

#include "client.h"
#include "credfile.h"

#define PCC_CLI_VERSION "0.1.0"
#define DEFAULT_API_HOST "http://127.0.0.1:8787"

/* Exit codes: the CLI never reports a failure as success. */
enum { EXIT_OK = 0, EXIT_FAIL = 1, EXIT_USAGE = 2 };

struct cli {
    int json;           /* --json: machine-readable output on stdout */
    int color_out;      /* colour on stdout */
    int color_err;      /* colour on stderr */
    const char *prog;   /* "pipecat cloud" or "pcc", for messages */
};

/* One command of the table in main.c. */
struct command {
    const char *group; /* "auth", "organizations", "tokens" */
    const char *name;  /* "use-pat", ... */
    int (*run)(struct cli *cli, int argc, char **argv);
    const char *summary;
    const char *help; /* full usage text shown by --help */
};

/* --- output.c --- */
/* "Error: ..." on stderr (red on a terminal). */
void out_error(struct cli *cli, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
/* "Warning: ..." on stderr (yellow on a terminal). */
void out_warn(struct cli *cli, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
/* A note for people on stderr (kept out of stdout so scripts can capture results). */
void out_note(struct cli *cli, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
/* "Label: value" on stdout, the label bold on a terminal. */
void out_field(struct cli *cli, const char *label, const char *value);
/* Print v as indented JSON on stdout (steals the reference). */
void out_json(json_t *v);
/* Print a table: ncols headers, then rows of ncols strings ("" for empty). */
void out_table(struct cli *cli, size_t ncols, const char *const headers[],
               const char *const *cells, size_t nrows);
/* Read a line from the terminal without echo (prompt on stderr). Returns a malloc'd string the
 * caller wipes and frees, or NULL on end of input. */
char *prompt_hidden(const char *prompt);
/* Read the first line of stdin (trailing newline removed); malloc'd, or NULL. */
char *read_stdin_line(void);
/* An ISO timestamp as "YYYY-MM-DD HH:MM UTC", or "never" for null. Returns buf. */
const char *out_when(const json_t *iso, char *buf, size_t size);
/* Report what getopt_long (run with a ':'-led optstring and opterr = 0) returned in c: a
 * missing value (':') or an unknown option ('?'). Returns EXIT_USAGE. */
int out_bad_option(struct cli *cli, int c, char **argv);
/* Whether a help flag (-h/--help) is among argv[1..]. */
int wants_help(int argc, char **argv);

/* --- session.c --- */
enum token_source { TOKEN_SOURCE_NONE, TOKEN_SOURCE_ENV, TOKEN_SOURCE_FILE };

struct session {
    struct cli *cli;
    char config_path[4096];
    struct credfile *file;
    const char *token;          /* points into env or file; never printed */
    enum token_source source;
    const char *api_host;
    struct client *client;
    char org[128];              /* resolved organization slug */
    json_t *orgs;               /* cached GET /v1/organizations list */
    int quiet_not_found;        /* session_call returns SESSION_NOT_FOUND on 404, silently */
};

/* What session_call returns for a 404 when quiet_not_found is set: the command words it. */
#define SESSION_NOT_FOUND (-1)

/* Load settings and credentials. need_token: fail (message printed) when there is no token.
 * Returns 0 or an exit code. Release with session_close. */
int session_open(struct cli *cli, struct session *s, int need_token);
void session_close(struct session *s);
/* A short description of where the token came from: "PIPECAT_TOKEN" or the file path. */
const char *session_token_source(const struct session *s);
/* Call the API; on any failure print a message naming cause and next step and return an exit
 * code; on a 2xx return 0 with the reply (release with client_reply_release). */
int session_call(struct session *s, const char *method, const char *path, const json_t *body,
                 struct client_reply *reply);
/* Fetch (once) and return the caller's organizations array; NULL after printing an error. */
json_t *session_orgs(struct session *s);
/* Resolve the active org: flag (-o) > PIPECAT_ORG > file org > first listed. Prints an error
 * and returns an exit code when none can be found; 0 with s->org filled otherwise. */
int session_resolve_org(struct session *s, const char *flag_org);
/* Save the credentials file, printing an error on failure; returns 0 or an exit code. */
int session_save(struct session *s);

/* --- commands --- */
int cmd_auth_use_pat(struct cli *cli, int argc, char **argv);
int cmd_auth_whoami(struct cli *cli, int argc, char **argv);
int cmd_auth_status(struct cli *cli, int argc, char **argv);
int cmd_auth_logout(struct cli *cli, int argc, char **argv);
int cmd_orgs_list(struct cli *cli, int argc, char **argv);
int cmd_orgs_select(struct cli *cli, int argc, char **argv);
int cmd_tokens_list(struct cli *cli, int argc, char **argv);
int cmd_tokens_create(struct cli *cli, int argc, char **argv);
int cmd_tokens_revoke(struct cli *cli, int argc, char **argv);

extern const struct command cli_commands[];
extern const size_t cli_command_count;

#endif
