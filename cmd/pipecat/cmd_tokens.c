/* cmd_tokens.c: `tokens list`, `tokens create`, `tokens revoke`: pcc's own PAT management. */
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <sodium.h>

#include "cli.h"
#include "banned.h"

static int no_args(struct cli *cli, int argc, char **argv)
{
    if (argc > 1) {
        out_error(cli, "unexpected argument '%s' (see --help)", argv[1]);
        return EXIT_USAGE;
    }
    return EXIT_OK;
}

int cmd_tokens_list(struct cli *cli, int argc, char **argv)
{
    int status = no_args(cli, argc, argv);
    if (status != EXIT_OK)
        return status;
    struct session s;
    struct client_reply r = {0};
    if ((status = session_open(cli, &s, 1)) != EXIT_OK ||
        (status = session_call(&s, "GET", "/v1/users/me/tokens", NULL, &r)) != EXIT_OK)
        goto out;
    json_t *tokens = json_object_get(r.body, "tokens");
    if (cli->json) {
        out_json(json_pack("{s:O}", "tokens", tokens ? tokens : json_array()));
        goto out;
    }
    size_t n = json_array_size(tokens);
    if (n == 0) {
        printf("No personal access tokens. Create one with `%s tokens create --name NAME`.\n",
               cli->prog);
        goto out;
    }
    enum { COLS = 5 };
    const char **cells = calloc(n * COLS, sizeof *cells);
    char(*when)[2][64] = calloc(n, sizeof *when);
    if (!cells || !when) {
        free(cells);
        free(when);
        status = EXIT_FAIL;
        goto out;
    }
    for (size_t i = 0; i < n; i++) {
        json_t *t = json_array_get(tokens, i);
        const char *id = json_string_value(json_object_get(t, "id"));
        const char *name = json_string_value(json_object_get(t, "name"));
        const char *display = json_string_value(json_object_get(t, "display"));
        cells[i * COLS + 0] = id ? id : "";
        cells[i * COLS + 1] = name ? name : "";
        cells[i * COLS + 2] = display ? display : "";
        cells[i * COLS + 3] = out_when(json_object_get(t, "createdAt"), when[i][0], 64);
        cells[i * COLS + 4] = out_when(json_object_get(t, "lastUsedAt"), when[i][1], 64);
    }
    static const char *const headers[COLS] = {"ID", "NAME", "TOKEN", "CREATED", "LAST USED"};
    out_table(cli, COLS, headers, cells, n);
    free(cells);
    free(when);
out:
    client_reply_release(&r);
    session_close(&s);
    return status;
}

int cmd_tokens_create(struct cli *cli, int argc, char **argv)
{
    static const struct option opts[] = {{"name", required_argument, NULL, 'n'}, {0, 0, 0, 0}};
    const char *name = NULL;
    int c;
    opterr = 0;
    while ((c = getopt_long(argc, argv, "+:n:", opts, NULL)) != -1) {
        if (c == 'n') {
            name = optarg;
            continue;
        }
        return out_bad_option(cli, c, argv);
    }
    if (optind < argc) {
        out_error(cli, "unexpected argument '%s' (see --help)", argv[optind]);
        return EXIT_USAGE;
    }
    if (!name || !*name) {
        out_error(cli, "a token needs a name: --name NAME (say what uses it, e.g. ci-deploy)");
        return EXIT_USAGE;
    }
    struct session s;
    struct client_reply r = {0};
    json_t *body = json_pack("{s:s}", "name", name);
    int status;
    if ((status = session_open(cli, &s, 1)) != EXIT_OK ||
        (status = session_call(&s, "POST", "/v1/users/me/tokens", body, &r)) != EXIT_OK)
        goto out;
    const char *secret = json_string_value(json_object_get(r.body, "token"));
    if (!secret) {
        out_error(cli, "the server did not return a token");
        status = EXIT_FAIL;
        goto out;
    }
    if (cli->json) {
        out_json(json_incref(r.body));
    } else {
        printf("%s\n", secret);
        out_note(cli, "Created token '%s' (%s). Copy it now: it will not be shown again.",
                 json_string_value(json_object_get(r.body, "name")),
                 json_string_value(json_object_get(r.body, "id")));
    }
    fflush(stdout);
    sodium_memzero((void *)secret, strlen(secret));
out:
    json_decref(body);
    client_reply_release(&r);
    session_close(&s);
    return status;
}

int cmd_tokens_revoke(struct cli *cli, int argc, char **argv)
{
    if (argc != 2 || argv[1][0] == '-') {
        out_error(cli, "usage: %s tokens revoke ID (see `%s tokens list`)", cli->prog, cli->prog);
        return EXIT_USAGE;
    }
    if (strncmp(argv[1], "pcc_", 4) == 0) {
        /* A pasted secret: never send it anywhere or echo it back. */
        out_error(cli, "that is a token itself, not its id: find the id (tok_...) with `%s "
                       "tokens list`. The token was shown on your screen: revoke it.",
                  cli->prog);
        return EXIT_USAGE;
    }
    struct session s;
    struct client_reply r = {0};
    char seg[256], path[320];
    if (client_escape_segment(argv[1], seg, sizeof seg) != RC_OK) {
        out_error(cli, "token id too long");
        return EXIT_USAGE;
    }
    snprintf(path, sizeof path, "/v1/users/me/tokens/%s", seg);
    int status;
    if ((status = session_open(cli, &s, 1)) != EXIT_OK)
        goto out;
    s.quiet_not_found = 1;
    if ((status = session_call(&s, "DELETE", path, NULL, &r)) == SESSION_NOT_FOUND) {
        out_error(cli, "you have no active token with id '%s' (see `%s tokens list`)", argv[1],
                  cli->prog);
        status = EXIT_FAIL;
    }
    if (status != EXIT_OK)
        goto out;
    if (cli->json)
        out_json(json_pack("{s:s, s:b}", "id", argv[1], "revoked", 1));
    else
        printf("Token %s revoked.\n", argv[1]);
out:
    client_reply_release(&r);
    session_close(&s);
    return status;
}
