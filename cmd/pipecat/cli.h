/* cli.h: shared state and helpers of the pipecat CLI front end: global options, output,
 * prompts, and the session (credentials, organization, API client) commands work through. */
#ifndef PCC_CLI_H
#define PCC_CLI_H

#include <stdio.h>

#include <jansson.h>

#include "buf.h"
#include "client.h"
#include "credfile.h"
#include "toml.h"

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
    const char *group; /* "auth", "organizations keys" (a nested group), "" (top level) */
    const char *name;  /* "use-pat", ... */
    int (*run)(struct cli *cli, int argc, char **argv);
    const char *summary; /* NULL: a hidden (deprecated) command, left out of group help */
    const char *help;    /* full usage text shown by --help */
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
/* The same for a C string (NULL: "never"); text that is not a timestamp is shown as is. */
const char *out_when_text(const char *iso, char *buf, size_t size);
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
    char not_found[256];        /* the server's message of that 404 */
    int expiry_warned;          /* the "token expires soon" warning was shown this run */
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

/* --- cmd_login.c --- */
/* When the token from the file is an OAuth access token that expires within 60 s and a
 * refresh token is stored, trade the refresh token for new tokens at the issuer's token
 * endpoint and store them. EXIT_OK (also when nothing was due), or EXIT_FAIL after telling the
 * user to log in again. */
int oauth_refresh_if_due(struct session *s);
/* For an OAuth session (a refresh token is stored): POST /auth/logout and report the outcome.
 * 1 when the server confirmed the revocation, else 0. */
int oauth_logout(struct session *s);

/* --- args.c --- */
/* One option of a command: -s / --long / a multi-letter single-dash alias of the reference
 * client (e.g. "-min"). A flag sets *flag to 1; an option with a value stores it in *value
 * (and sets *flag too, when given). The table ends with an all-zero entry. */
struct opt {
    char short_name;
    const char *long_name;
    const char *alias;
    int takes_value;
    const char **value;
    int *flag;
};
/* Parse argv[1..] against opts: options may come before or after positional arguments, "--"
 * ends options; at most max_pos positionals go to pos, their count to *npos. Returns EXIT_OK,
 * or EXIT_USAGE after naming the bad option or argument. */
int args_parse(struct cli *cli, int argc, char **argv, const struct opt *opts, const char **pos,
               int max_pos, int *npos);
/* args_parse for commands whose only option is -o/--organization. */
int args_parse_org(struct cli *cli, int argc, char **argv, const char **org, const char **pos,
                   int max_pos, int *npos);
/* text as an integer in min..max into *out; otherwise names option and the range, and
 * returns EXIT_USAGE. */
int args_int(struct cli *cli, const char *option, const char *text, long min, long max,
             long *out);
/* Whether standard input is a terminal: prompts are only ever shown there. */
int stdin_is_terminal(void);
/* Show prompt on stderr and read one line of stdin (malloc'd, or NULL at end of input). */
char *ask_line(const char *prompt);
/* Ask a yes/no question (the caller checked for a terminal); 1 for yes. An empty answer
 * is default_yes, end of input is no. */
int ask_yes_no(const char *question, int default_yes);
/* Ask a yes/no question on the terminal. EXIT_OK for yes; EXIT_FAIL (after "Aborted") for
 * no; EXIT_USAGE without a terminal, after an error naming flag (e.g. "--yes"). */
int ask_confirm(struct cli *cli, const char *question, int default_yes, const char *flag);
/* The confirmation step of a destructive command: EXIT_OK at once when skip (its flag was given),
 * else ask_confirm with the question formatted from fmt. */
int confirm_unless(struct cli *cli, int skip, const char *flag, int default_yes, const char *fmt,
                   ...) __attribute__((format(printf, 5, 6)));
/* Let the user pick one of n labels on the terminal into *choice. EXIT_USAGE without a
 * terminal (the error names `instead`, e.g. "the key ID as an argument"), EXIT_FAIL when no
 * valid choice was made. */
int ask_pick(struct cli *cli, const char *title, const char *const *labels, size_t n,
             const char *instead, size_t *choice);

/* --- platform.c --- */
/* session_open (a token is required) plus session_resolve_org. */
int platform_open(struct cli *cli, struct session *s, const char *flag_org);
/* "/v1/organizations/<org>" followed by "/<segment>" for each NULL-terminated const char *
 * argument, each percent-encoded, into out. EXIT_USAGE (message printed) if too long. */
int org_path(struct session *s, char *out, size_t size, ...);
/* Append "?key=value" or "&key=value" (value percent-encoded) to path; NULL value: nothing. */
int path_query(struct cli *cli, char *path, size_t size, const char *key, const char *value);
/* 1 if s->org is one of the caller's organizations, 0 if not, -1 (error printed) if the list
 * cannot be fetched. */
int org_is_mine(struct session *s);
/* After a 404 under the organization: say the organization is unknown when the caller does
 * not belong to it, otherwise the message fmt (NULL: the server's). Returns EXIT_FAIL. */
int org_not_found(struct session *s, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
/* session_call whose 404 goes through org_not_found(s, NULL). */
int org_call(struct session *s, const char *method, const char *path, const json_t *body,
             struct client_reply *reply);
/* The organization's regions array (new reference) into *out; 0 or an exit code. */
int regions_fetch(struct session *s, json_t **out);
/* EXIT_OK if region is one of the organization's regions; EXIT_USAGE naming the valid ones. */
int region_check(struct session *s, const char *region);
/* A secret's preview: its first 4 characters and its length, or only the length when it is
 * shorter than 12 characters. Returns out. */
const char *out_mask(const char *secret, char *out, size_t size);
/* A JSON scalar as text for a table (numbers and booleans formatted into buf, objects dumped
 * compactly); `missing` for NULL or null. */
const char *json_text(const json_t *v, char *buf, size_t size, const char *missing);

/* --- deploy_config.c --- */
/* pcc-deploy.toml (API-COMPAT section 7), validated; strings point into the parsed document. */
struct deploy_config {
    struct toml_table *doc; /* NULL when there is no file */
    char path[4096];        /* the file read, "" when none */
    const char *agent_name, *image, *build_id, *image_credentials, *secret_set, *region;
    const char *agent_profile, *websocket_auth, *audio_filter;
    int has_enable_krisp, enable_krisp;
    int has_max_session_duration;
    long max_session_duration;
    int has_min_agents, has_max_agents;
    long min_agents, max_agents;
};
/* Read the deploy file: explicit_path (--config-file; must exist) > PIPECAT_DEPLOY_CONFIG_PATH
 * (must exist) > ./pcc-deploy.toml (absent: no file). Unknown keys, wrong types and values out
 * of range are errors (printed, naming the key). Returns EXIT_OK or EXIT_FAIL; release with
 * deploy_config_release either way. */
int deploy_config_load(struct cli *cli, const char *explicit_path, struct deploy_config *dc);
void deploy_config_release(struct deploy_config *dc);

/* --- commands --- */
int cmd_auth_login(struct cli *cli, int argc, char **argv);
int cmd_auth_use_pat(struct cli *cli, int argc, char **argv);
int cmd_auth_whoami(struct cli *cli, int argc, char **argv);
int cmd_auth_status(struct cli *cli, int argc, char **argv);
int cmd_auth_logout(struct cli *cli, int argc, char **argv);
int cmd_orgs_list(struct cli *cli, int argc, char **argv);
int cmd_orgs_select(struct cli *cli, int argc, char **argv);
int cmd_tokens_list(struct cli *cli, int argc, char **argv);
int cmd_tokens_create(struct cli *cli, int argc, char **argv);
int cmd_tokens_revoke(struct cli *cli, int argc, char **argv);
int cmd_tokens_rotate(struct cli *cli, int argc, char **argv);
/* Print a tokens array as a table (cmd_tokens.c); with_owner adds the owner's email. */
void tokens_table(struct cli *cli, json_t *tokens, int with_owner);
int cmd_tokens_report_leaked(struct cli *cli, int argc, char **argv);
int cmd_audit_list(struct cli *cli, int argc, char **argv);
int cmd_org_tokens_list(struct cli *cli, int argc, char **argv);
int cmd_org_tokens_revoke(struct cli *cli, int argc, char **argv);
int cmd_orgs_invite(struct cli *cli, int argc, char **argv);
int cmd_invitations_list(struct cli *cli, int argc, char **argv);
int cmd_invitations_accept(struct cli *cli, int argc, char **argv);
int cmd_invitations_decline(struct cli *cli, int argc, char **argv);
int cmd_org_token_policy(struct cli *cli, int argc, char **argv);
int cmd_sa_create(struct cli *cli, int argc, char **argv);
int cmd_sa_list(struct cli *cli, int argc, char **argv);
int cmd_sa_delete(struct cli *cli, int argc, char **argv);

int cmd_keys_list(struct cli *cli, int argc, char **argv);
int cmd_keys_create(struct cli *cli, int argc, char **argv);
int cmd_keys_revoke(struct cli *cli, int argc, char **argv);
int cmd_keys_delete(struct cli *cli, int argc, char **argv);
int cmd_keys_use(struct cli *cli, int argc, char **argv);
int cmd_props_list(struct cli *cli, int argc, char **argv);
int cmd_props_schema(struct cli *cli, int argc, char **argv);
int cmd_props_set(struct cli *cli, int argc, char **argv);
int cmd_orgs_default_region(struct cli *cli, int argc, char **argv);
int cmd_regions_list(struct cli *cli, int argc, char **argv);
int cmd_secrets_set(struct cli *cli, int argc, char **argv);
int cmd_secrets_list(struct cli *cli, int argc, char **argv);
int cmd_secrets_unset(struct cli *cli, int argc, char **argv);
int cmd_secrets_delete(struct cli *cli, int argc, char **argv);
int cmd_secrets_image_pull_secret(struct cli *cli, int argc, char **argv);
int cmd_agent_list(struct cli *cli, int argc, char **argv);
int cmd_agent_status(struct cli *cli, int argc, char **argv);
int cmd_agent_deployments(struct cli *cli, int argc, char **argv);
int cmd_agent_logs(struct cli *cli, int argc, char **argv);
int cmd_agent_sessions(struct cli *cli, int argc, char **argv);
int cmd_agent_delete(struct cli *cli, int argc, char **argv);
int cmd_agent_start(struct cli *cli, int argc, char **argv);
int cmd_agent_stop(struct cli *cli, int argc, char **argv);
int cmd_deploy(struct cli *cli, int argc, char **argv);

extern const struct command cli_commands[];
extern const size_t cli_command_count;

#endif
