/* cmd_invitations.c: `organizations invitations list|accept|decline` for the invitee (nobody
 * joins an organization without accepting), and `organizations invite` for its admins. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"
#include "banned.h"

#define MINE "/v1/users/me/invitations"

int cmd_invitations_list(struct cli *cli, int argc, char **argv)
{
    int npos = 0, status = args_parse(cli, argc, argv, NULL, NULL, 0, &npos);
    if (status != EXIT_OK)
        return status;
    struct session s;
    struct client_reply r = {0};
    if ((status = session_open(cli, &s, 1)) != EXIT_OK)
        return status;
    if ((status = session_call(&s, "GET", MINE, NULL, &r)) != EXIT_OK)
        goto out;
    json_t *list = json_object_get(r.body, "invitations");
    int verified = json_is_true(json_object_get(r.body, "emailVerified"));
    if (cli->json) {
        out_json(json_pack("{s:O, s:b}", "invitations", list ? list : json_array(),
                           "emailVerified", verified));
        goto out;
    }
    if (!verified) {
        printf("Your email address is not confirmed yet: invitations show once it is. Open the "
               "link sent to it, or send a new one from the dashboard's Invitations page.\n");
        goto out;
    }
    size_t n = json_array_size(list);
    if (n == 0) {
        printf("No pending invitations.\n");
        goto out;
    }
    const char **cells = calloc(n * 5 + 1, sizeof *cells);
    char(*when)[64] = calloc(n + 1, sizeof *when);
    if (!cells || !when) {
        free(cells);
        free(when);
        status = EXIT_FAIL;
        goto out;
    }
    for (size_t i = 0; i < n; i++) {
        json_t *inv = json_array_get(list, i);
        const char *const fields[] = {"id", "organization", "role", "invitedBy"};
        for (size_t k = 0; k < 4; k++) {
            const char *v = json_string_value(json_object_get(inv, fields[k]));
            cells[i * 5 + k] = v ? v : "";
        }
        cells[i * 5 + 4] = out_when(json_object_get(inv, "expiresAt"), when[i], 64);
    }
    static const char *const headers[] = {"ID", "ORGANIZATION", "ROLE", "INVITED BY", "EXPIRES"};
    out_table(cli, 5, headers, cells, n);
    free(cells);
    free(when);
out:
    client_reply_release(&r);
    session_close(&s);
    return status;
}

static int decide(struct cli *cli, int argc, char **argv, const char *verb)
{
    const char *pos[1];
    int npos = 0, status = args_parse(cli, argc, argv, NULL, pos, 1, &npos);
    if (status != EXIT_OK)
        return status;
    if (npos != 1) {
        out_error(cli, "usage: %s organizations invitations %s ID (see `%s organizations "
                  "invitations list`)", cli->prog, verb, cli->prog);
        return EXIT_USAGE;
    }
    char seg[256], path[512];
    if (client_escape_segment(pos[0], seg, sizeof seg) != RC_OK) {
        out_error(cli, "invitation id too long");
        return EXIT_USAGE;
    }
    snprintf(path, sizeof path, MINE "/%s/%s", seg, verb);
    struct session s;
    struct client_reply r = {0};
    if ((status = session_open(cli, &s, 1)) != EXIT_OK)
        return status;
    s.quiet_not_found = 1;
    if ((status = session_call(&s, "POST", path, NULL, &r)) == SESSION_NOT_FOUND) {
        out_error(cli, "%s (see `%s organizations invitations list`)", s.not_found, cli->prog);
        status = EXIT_FAIL;
    }
    if (status != EXIT_OK)
        goto out;
    const char *org = json_string_value(json_object_get(r.body, "organization"));
    const char *role = json_string_value(json_object_get(r.body, "role"));
    if (cli->json)
        out_json(json_incref(r.body));
    else if (strcmp(verb, "accept") == 0)
        printf("You are a %s of organization %s now.\n", role ? role : "member", org ? org : "?");
    else
        printf("Invitation to organization %s declined.\n", org ? org : "?");
out:
    client_reply_release(&r);
    session_close(&s);
    return status;
}

int cmd_invitations_accept(struct cli *cli, int argc, char **argv)
{
    return decide(cli, argc, argv, "accept");
}

int cmd_invitations_decline(struct cli *cli, int argc, char **argv)
{
    return decide(cli, argc, argv, "decline");
}

int cmd_orgs_invite(struct cli *cli, int argc, char **argv)
{
    const char *org = NULL, *role = "member", *pos[1];
    const struct opt opts[] = {{'o', "organization", NULL, 1, &org, NULL},
                               {'r', "role", NULL, 1, &role, NULL},
                               {0, NULL, NULL, 0, NULL, NULL}};
    int npos = 0, status = args_parse(cli, argc, argv, opts, pos, 1, &npos);
    if (status != EXIT_OK)
        return status;
    if (npos != 1) {
        out_error(cli, "usage: %s organizations invite EMAIL [--role member|admin] [-o ORG]",
                  cli->prog);
        return EXIT_USAGE;
    }
    struct session s;
    struct client_reply r = {0};
    char path[512];
    json_t *body = json_pack("{s:s, s:s}", "email", pos[0], "role", role);
    if ((status = platform_open(cli, &s, org)) != EXIT_OK ||
        (status = org_path(&s, path, sizeof path, "invitations", NULL)) != EXIT_OK ||
        (status = org_call(&s, "POST", path, body, &r)) != EXIT_OK)
        goto out;
    if (cli->json)
        out_json(json_incref(r.body));
    else
        printf("Invitation to %s sent if the address can receive it: they join organization %s "
               "once they accept it (within 7 days).\n", pos[0], s.org);
out:
    json_decref(body);
    client_reply_release(&r);
    session_close(&s);
    return status;
}
