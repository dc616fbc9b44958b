/* cmd_keys.c: `organizations keys list|create|revoke|use`: the organization's API keys, and
 * the default public key `agent start` uses, kept in the org's table of the credentials file. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <sodium.h>

#include "cli.h"
#include "banned.h"

/* One key as the commands show it, from either list of the API answer. */
struct key_row {
    const char *id, *name, *created, *type;
    const char *key;     /* the full pk_ key; NULL for private keys */
    const char *display; /* what may be shown: the full pk_ key or a private key's display */
    int revoked;
    char masked[64];
};

static const char *str_or(const json_t *v, const char *fallback)
{
    const char *s = json_string_value(v);
    return s ? s : fallback;
}

/* Flatten the API answer ({"public": [...], "private": [...]}) into rows (malloc'd). */
static struct key_row *key_rows(const json_t *body, size_t *count)
{
    static const char *const lists[] = {"public", "private"};
    size_t total = 0;
    for (size_t l = 0; l < 2; l++)
        total += json_array_size(json_object_get(body, lists[l]));
    struct key_row *rows = calloc(total ? total : 1, sizeof *rows);
    if (!rows)
        return NULL;
    size_t n = 0;
    for (size_t l = 0; l < 2; l++) {
        size_t i;
        json_t *k;
        json_array_foreach(json_object_get(body, lists[l]), i, k)
        {
            struct key_row *r = &rows[n++];
            r->id = str_or(json_object_get(k, "id"), "");
            r->name = str_or(json_object_get(json_object_get(k, "metadata"), "name"),
                             str_or(json_object_get(k, "name"), ""));
            r->created = str_or(json_object_get(k, "createdAt"), "");
            r->revoked = json_is_true(json_object_get(k, "revoked"));
            const char *key = json_string_value(json_object_get(k, "key"));
            const char *display = json_string_value(json_object_get(k, "display"));
            if (l == 0 && key && strncmp(key, "sk_", 3) != 0) {
                r->type = "public";
                r->key = key;
                r->display = key;
            } else {
                /* A private key is never shown in full, even if a server sent it. */
                r->type = "private";
                r->display = display ? display
                             : key   ? out_mask(key, r->masked, sizeof r->masked)
                                     : "";
            }
        }
    }
    *count = n;
    return rows;
}

static int fetch_keys(struct session *s, struct client_reply *r, struct key_row **rows, size_t *n)
{
    char path[512];
    int status;
    if ((status = org_path(s, path, sizeof path, "apiKeys", NULL)) != EXIT_OK ||
        (status = org_call(s, "GET", path, NULL, r)) != EXIT_OK)
        return status;
    if (!json_is_array(json_object_get(r->body, "public"))) {
        out_error(s->cli, "unexpected answer from %s: no list of public keys",
                  client_host(s->client));
        return EXIT_FAIL;
    }
    if (!(*rows = key_rows(r->body, n)))
        return EXIT_FAIL;
    return EXIT_OK;
}

static int cmd_keys_list(struct cli *cli, int argc, char **argv)
{
    const char *flag_org = NULL;
    int npos, status = args_parse_org(cli, argc, argv, &flag_org, NULL, 0, &npos);
    if (status != EXIT_OK)
        return status;
    struct session s;
    struct client_reply r = {0};
    struct key_row *rows = NULL;
    size_t n = 0;
    if ((status = platform_open(cli, &s, flag_org)) != EXIT_OK ||
        (status = fetch_keys(&s, &r, &rows, &n)) != EXIT_OK)
        goto out;
    const char *def = credfile_org_get_in(s.file, s.org, "default_public_key");
    if (cli->json) {
        json_t *list = json_array();
        for (size_t i = 0; i < n; i++)
            json_array_append_new(
                list, json_pack("{s:s, s:s, s:s, s:s, s:s, s:b, s:b}", "id", rows[i].id, "name",
                                rows[i].name, "type", rows[i].type, "key", rows[i].display,
                                "createdAt", rows[i].created, "revoked", rows[i].revoked, "default",
                                def && rows[i].key && strcmp(def, rows[i].key) == 0));
        out_json(json_pack("{s:s, s:o}", "organization", s.org, "keys", list));
        goto out;
    }
    if (n == 0) {
        printf("No API keys found. Create one with `%s organizations keys create`.\n", cli->prog);
        goto out;
    }
    enum { COLS = 6 };
    const char **cells = calloc(n * COLS, sizeof *cells);
    char(*when)[64] = calloc(n, sizeof *when);
    if (!cells || !when) {
        free(cells);
        free(when);
        status = EXIT_FAIL;
        goto out;
    }
    for (size_t i = 0; i < n; i++) {
        int is_default = def && rows[i].key && strcmp(def, rows[i].key) == 0;
        cells[i * COLS + 0] = rows[i].name;
        cells[i * COLS + 1] = rows[i].id;
        cells[i * COLS + 2] = rows[i].display;
        cells[i * COLS + 3] = rows[i].type;
        cells[i * COLS + 4] = out_when_text(rows[i].created, when[i], 64);
        cells[i * COLS + 5] = rows[i].revoked ? "revoked"
                              : is_default    ? "active (default)"
                                              : "active";
    }
    static const char *const headers[COLS] = {"NAME", "ID", "KEY", "TYPE", "CREATED", "STATUS"};
    out_table(cli, COLS, headers, cells, n);
    free(cells);
    free(when);
out:
    free(rows);
    client_reply_release(&r);
    session_close(&s);
    return status;
}

static int cmd_keys_create(struct cli *cli, int argc, char **argv)
{
    const char *flag_org = NULL, *name = NULL, *type = "public";
    int make_default = 0, npos;
    const struct opt opts[] = {
        OPT_STRING('n', "name", &name, "NAME", "a descriptive name for the key"),
        OPT_BOOL('d', "default", &make_default, "make it this organization's default key"),
        OPT_STRING('t', "type", &type, "TYPE", "public (default) or private"), OPT_ORG(&flag_org),
        OPT_END()};
    int status = args_parse(cli, argc, argv, opts, NULL, 0, &npos);
    if (status != EXIT_OK)
        return status;
    int private_key = strcmp(type, "private") == 0;
    if (!private_key && strcmp(type, "public") != 0) {
        out_error(cli, "--type must be public or private, not '%s'", type);
        return EXIT_USAGE;
    }
    if (private_key && make_default) {
        out_error(cli, "only a public key can be the default for `agent start`: drop --default "
                       "or --type private");
        return EXIT_USAGE;
    }
    char *asked = NULL;
    if (!name) {
        if (!stdin_is_terminal()) {
            out_error(cli, "a key needs a name and there is no terminal to ask on: pass "
                           "--name NAME");
            return EXIT_USAGE;
        }
        name = asked = ask_line("Name of the new key: ");
    }
    if (!name || !*name) {
        out_error(cli, "a key needs a name: pass --name NAME");
        free(asked);
        return EXIT_USAGE;
    }
    struct session s;
    struct client_reply r = {0};
    json_t *body = json_pack("{s:s, s:s}", "name", name, "type", type);
    if ((status = org_request(cli, &s, flag_org, "POST", body, &r, "apiKeys", NULL)) != EXIT_OK)
        goto out;
    const char *key = json_string_value(json_object_get(r.body, "key"));
    if (!key) {
        out_error(cli, "Invalid response from server: no key in the answer");
        status = EXIT_FAIL;
        goto out;
    }
    const char *id = json_string_value(json_object_get(r.body, "id"));
    if (private_key) {
        /* A private key is a secret: alone on stdout, once, for capture by a script. */
        if (cli->json)
            out_json(json_pack("{s:s?, s:s, s:s, s:s, s:s}", "id", id, "name", name, "type",
                               "private", "key", key, "organization", s.org));
        else
            printf("%s\n", key);
        fflush(stdout);
        sodium_memzero((void *)key, strlen(key));
        if (!cli->json)
            out_note(cli,
                     "Created private key '%s' (%s) in %s. Copy it now: it will not be "
                     "shown again.",
                     name, id ? id : "?", s.org);
        goto out;
    }
    if (!make_default && stdin_is_terminal() && !cli->json) {
        char q[300];
        snprintf(q, sizeof q, "Make it the default key for `agent start` in %s?", s.org);
        make_default = ask_yes_no(q, 0);
    }
    if (make_default &&
        (credfile_org_set(s.file, s.org, "default_public_key", key) != RC_OK ||
         credfile_org_set(s.file, s.org, "default_public_key_name", name) != RC_OK ||
         session_save(&s) != EXIT_OK)) {
        out_error(cli, "the key was created but could not be stored as the default");
        status = EXIT_FAIL;
        goto out;
    }
    if (cli->json) {
        out_json(json_pack("{s:s?, s:s, s:s, s:s, s:b}", "id", id, "name", name, "key", key,
                           "organization", s.org, "default", make_default));
    } else {
        static const char *const headers[] = {"NAME", "KEY", "ORGANIZATION"};
        const char *cells[] = {name, key, s.org};
        out_table(cli, 3, headers, cells, 1);
        if (make_default)
            out_note(cli, "Stored as the default key of %s for `%s agent start`.", s.org,
                     cli->prog);
        else
            out_note(cli,
                     "Make it the default for `%s agent start` with `%s organizations keys "
                     "use %s`.",
                     cli->prog, cli->prog, id ? id : name);
    }
out:
    free(asked);
    json_decref(body);
    client_reply_release(&r);
    session_close(&s);
    return status;
}

/* The row KEY_ID names (its id, else its name if only one row has it), among rows for which
 * usable says yes; or one picked on the terminal. Returns an exit code; *out on EXIT_OK. */
static int choose_key(struct cli *cli, struct key_row *rows, size_t n, const char *wanted,
                      int include_revoked, int public_only, const char *verb, struct key_row **out)
{
    if (wanted) {
        struct key_row *by_name = NULL;
        int names = 0;
        for (size_t i = 0; i < n; i++) {
            if (strcmp(rows[i].id, wanted) == 0) {
                *out = &rows[i];
                goto found;
            }
            if (strcmp(rows[i].name, wanted) == 0 && (include_revoked || !rows[i].revoked)) {
                by_name = &rows[i];
                names++;
            }
        }
        if (names > 1) {
            out_error(cli,
                      "%d keys are named '%s': give the key's ID instead (see `%s "
                      "organizations keys list`)",
                      names, wanted, cli->prog);
            return EXIT_FAIL;
        }
        if (!by_name) {
            out_error(cli, "no API key with ID or name '%s' (see `%s organizations keys list`)",
                      wanted, cli->prog);
            return EXIT_FAIL;
        }
        *out = by_name;
    found:
        if ((*out)->revoked && !include_revoked) {
            out_error(cli, "API key '%s' (%s) is revoked", (*out)->name, (*out)->id);
            return EXIT_FAIL;
        }
        if (public_only && !(*out)->key) {
            out_error(cli, "API key '%s' is a private key: only public keys (pk_) start agents",
                      (*out)->name);
            return EXIT_FAIL;
        }
        return EXIT_OK;
    }
    const char **labels = calloc(n ? n : 1, sizeof *labels);
    struct key_row **map = calloc(n ? n : 1, sizeof *map);
    char(*text)[256] = calloc(n ? n : 1, sizeof *text);
    size_t m = 0;
    int status = EXIT_FAIL;
    if (!labels || !map || !text)
        goto out;
    for (size_t i = 0; i < n; i++) {
        if ((rows[i].revoked && !include_revoked) || (public_only && !rows[i].key))
            continue;
        snprintf(text[m], sizeof text[m], "%s (%s) %s", rows[i].name, rows[i].id, rows[i].display);
        labels[m] = text[m];
        map[m++] = &rows[i];
    }
    if (m == 0) {
        out_error(cli,
                  "no active API key to %s (create one with `%s organizations keys "
                  "create`)",
                  verb, cli->prog);
        goto out;
    }
    char title[64];
    snprintf(title, sizeof title, "API key to %s", verb);
    size_t pick;
    if ((status = ask_pick(cli, title, labels, m, "the key's ID as an argument", &pick)) == EXIT_OK)
        *out = map[pick];
out:
    free(labels);
    free(map);
    free(text);
    return status;
}

static int keys_revoke(struct cli *cli, int argc, char **argv)
{
    const char *flag_org = NULL, *pos[1] = {NULL};
    int npos, status = args_parse_org(cli, argc, argv, &flag_org, pos, 1, &npos);
    if (status != EXIT_OK)
        return status;
    struct session s;
    struct client_reply r = {0}, del = {0};
    struct key_row *rows = NULL, *key = NULL;
    size_t n = 0;
    char path[512];
    if ((status = platform_open(cli, &s, flag_org)) != EXIT_OK ||
        (status = fetch_keys(&s, &r, &rows, &n)) != EXIT_OK)
        goto out;
    if ((status = choose_key(cli, rows, n, pos[0], 0, 0, "revoke", &key)) != EXIT_OK ||
        (status = org_path(&s, path, sizeof path, "apiKeys", key->id, NULL)) != EXIT_OK)
        goto out;
    s.quiet_not_found = 1;
    status = session_call(&s, "DELETE", path, NULL, &del);
    s.quiet_not_found = 0;
    if (status == SESSION_NOT_FOUND) {
        status = org_not_found(&s, "API key '%s' not found (already deleted?)", key->id);
        goto out;
    }
    if (status != EXIT_OK)
        goto out;
    const char *def = credfile_org_get_in(s.file, s.org, "default_public_key");
    int was_default = def && key->key && strcmp(def, key->key) == 0;
    if (was_default) {
        if (credfile_org_set(s.file, s.org, "default_public_key", NULL) != RC_OK ||
            credfile_org_set(s.file, s.org, "default_public_key_name", NULL) != RC_OK ||
            session_save(&s) != EXIT_OK) {
            status = EXIT_FAIL;
            goto out;
        }
    }
    if (cli->json) {
        out_json(json_pack("{s:s, s:s, s:b, s:b}", "id", key->id, "name", key->name, "revoked", 1,
                           "wasDefault", was_default));
    } else {
        printf("API key with ID '%s' revoked successfully.\n", key->id);
        if (was_default)
            out_note(cli,
                     "It was your default key for %s; the default was removed. Choose "
                     "another with `%s organizations keys use`.",
                     s.org, cli->prog);
    }
out:
    free(rows);
    client_reply_release(&r);
    client_reply_release(&del);
    session_close(&s);
    return status;
}

static int cmd_keys_revoke(struct cli *cli, int argc, char **argv)
{
    return keys_revoke(cli, argc, argv);
}

static int cmd_keys_delete(struct cli *cli, int argc, char **argv)
{
    out_warn(cli, "`organizations keys delete` is deprecated: use `organizations keys revoke`");
    return keys_revoke(cli, argc, argv);
}

static int cmd_keys_use(struct cli *cli, int argc, char **argv)
{
    const char *flag_org = NULL, *pos[1] = {NULL};
    int npos, status = args_parse_org(cli, argc, argv, &flag_org, pos, 1, &npos);
    if (status != EXIT_OK)
        return status;
    struct session s;
    struct client_reply r = {0};
    struct key_row *rows = NULL, *key = NULL;
    size_t n = 0;
    if ((status = platform_open(cli, &s, flag_org)) != EXIT_OK ||
        (status = fetch_keys(&s, &r, &rows, &n)) != EXIT_OK ||
        (status = choose_key(cli, rows, n, pos[0], 0, 1, "use", &key)) != EXIT_OK)
        goto out;
    if (credfile_org_set(s.file, s.org, "default_public_key", key->key) != RC_OK ||
        credfile_org_set(s.file, s.org, "default_public_key_name", key->name) != RC_OK ||
        (status = session_save(&s)) != EXIT_OK) {
        status = EXIT_FAIL;
        goto out;
    }
    if (cli->json)
        out_json(json_pack("{s:s, s:s, s:s, s:s}", "organization", s.org, "id", key->id, "name",
                           key->name, "key", key->key));
    else
        printf("Default API key of %s set to '%s' (%s).\n", s.org, key->name, key->id);
out:
    free(rows);
    client_reply_release(&r);
    session_close(&s);
    return status;
}

/* The commands of this file: name, summary, synopsis, description and examples; their --help,
 * docs/cli page, completion and man page are generated from these and the option tables. */
const struct command keys_commands[] = {
    COMMAND(
        "organizations keys", "list", cmd_keys_list, "list the organization's API keys", "[-o ORG]",
        "List the organization's API keys: name, id, key, creation time and status. Public keys\n"
        "(pk_...) are shown in full, as they are meant to ship inside client apps; private keys\n"
        "only by their display form. Your default key for `agent start` is marked.\n",
        "  pipecat cloud organizations keys list\n"),
    COMMAND(
        "organizations keys", "create", cmd_keys_create, "create an API key",
        "[-n NAME] [-d] [-t TYPE] [-o ORG]",
        "Create a public API key (pk_...), the credential of `agent start` and of client apps.\n"
        "Without --name the name is asked for (terminal only). With --default the key becomes\n"
        "this organization's default in the credentials file; on a terminal you are asked.\n"
        "--type private creates a private key (sk_...) for the management API instead: it is\n"
        "printed once, alone on standard output. Needs the admin role.\n",
        "  pipecat cloud organizations keys create --name \"web app\" --default\n"),
    COMMAND("organizations keys", "revoke", cmd_keys_revoke, "revoke an API key",
            "[KEY_ID] [-o ORG]",
            "Revoke an API key: it stops working at once and stays listed as revoked. If it was\n"
            "your default key, the default is removed from the credentials file. Needs the admin\n"
            "role.\n"
            "KEY_ID is the key's id or name as `organizations keys list` shows them; without it,\n"
            "pick from a list (terminal only).\n",
            "  pipecat cloud organizations keys revoke key_C5RRL0RuQ58AcC7c\n"),
    COMMAND("organizations keys", "delete", cmd_keys_delete, NULL, "[KEY_ID] [-o ORG]",
            "Deprecated: use `organizations keys revoke`, which this runs.\n", NULL),
    COMMAND("organizations keys", "use", cmd_keys_use,
            "make an API key the default for agent start", "[KEY_ID] [-o ORG]",
            "Make an API key this organization's default for `agent start`: its key and name are\n"
            "stored as default_public_key and default_public_key_name in the organization's table\n"
            "of the credentials file.\n"
            "KEY_ID is the key's id or name as `organizations keys list` shows them; without it,\n"
            "pick from a list (terminal only).\n",
            "  pipecat cloud organizations keys use \"web app\"\n"),
    COMMAND_END};
