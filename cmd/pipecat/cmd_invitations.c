/* cmd_invitations.c: `organizations invitations list|accept|decline` for the invitee (nobody
 * joins an organization without accepting), and `organizations invite` for its admins. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"
#include "banned.h"

#define MINE "/v1/users/me/invitations"

static int cmd_invitations_list(struct cli *cli, int argc, char **argv)
{
    const struct opt opts[] = {OPT_END()};
    int npos = 0, status = args_parse(cli, argc, argv, opts, NULL, 0, &npos);
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
        out_json(json_pack("{s:O, s:b}", "invitations", list ? list : json_array(), "emailVerified",
                           verified));
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
    static const struct column cols[] = {{"ID", "id", NULL},
                                         {"ORGANIZATION", "organization", NULL},
                                         {"ROLE", "role", NULL},
                                         {"INVITED BY", "invitedBy", NULL},
                                         {"EXPIRES", "expiresAt", col_when},
                                         COLUMN_END};
    status = out_rows(cli, cols, list, NULL);
out:
    client_reply_release(&r);
    session_close(&s);
    return status;
}

static int decide(struct cli *cli, int argc, char **argv, const char *verb)
{
    const char *pos[1];
    const struct opt opts[] = {OPT_END()};
    int npos = 0, status = args_parse(cli, argc, argv, opts, pos, 1, &npos);
    if (status != EXIT_OK)
        return status;
    if (npos != 1)
        return args_usage(cli);
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

static int cmd_invitations_accept(struct cli *cli, int argc, char **argv)
{
    return decide(cli, argc, argv, "accept");
}

static int cmd_invitations_decline(struct cli *cli, int argc, char **argv)
{
    return decide(cli, argc, argv, "decline");
}

static int cmd_orgs_invite(struct cli *cli, int argc, char **argv)
{
    const char *org = NULL, *role = "member", *pos[1];
    const struct opt opts[] = {OPT_STRING('r', "role", &role, "ROLE", "member (default) or admin"),
                               OPT_ORG(&org), OPT_END()};
    int npos = 0, status = args_parse(cli, argc, argv, opts, pos, 1, &npos);
    if (status != EXIT_OK)
        return status;
    if (npos != 1)
        return args_usage(cli);
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
               "once they accept it (within 7 days).\n",
               pos[0], s.org);
out:
    json_decref(body);
    client_reply_release(&r);
    session_close(&s);
    return status;
}

const struct command invitations_commands[] = {
    COMMAND(
        "organizations", "invite", cmd_orgs_invite, "invite someone to join the organization",
        "EMAIL [--role member|admin] [-o ORG]",
        "Invite EMAIL into the organization as member (default) or admin. Nobody joins without\n"
        "consent: the person accepts with `organizations invitations accept` or on the\n"
        "dashboard's Invitations page, within 7 days, once their address is confirmed. The\n"
        "answer is the same whether or not the address has an account. Needs the admin role.\n",
        "  pipecat cloud organizations invite bob@example.com --role member\n"),
    COMMAND(
        "organizations invitations", "list", cmd_invitations_list,
        "list the invitations addressed to you", "",
        "List the pending invitations to join organizations that are addressed to your email\n"
        "address (none while the address is not confirmed), with who invited you and when each\n"
        "expires.\n",
        "  pipecat cloud organizations invitations list\n"),
    COMMAND("organizations invitations", "accept", cmd_invitations_accept,
            "accept an invitation: join its organization", "ID",
            "Accept invitation ID (see `organizations invitations list`): you become a member of\n"
            "its organization with the role it names. An expired invitation cannot be accepted.\n"
            "Needs an unbound token with the full scope.\n",
            "  pipecat cloud organizations invitations accept inv_4mQd9L2xV0bN7cTe\n"),
    COMMAND("organizations invitations", "decline", cmd_invitations_decline,
            "decline an invitation", "ID",
            "Decline invitation ID (see `organizations invitations list`); its organization's\n"
            "admins can invite you again.\n",
            "  pipecat cloud organizations invitations decline inv_4mQd9L2xV0bN7cTe\n"),
    COMMAND_END};
