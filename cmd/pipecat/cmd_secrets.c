/* cmd_secrets.c: `secrets set|list|unset|delete|image-pull-secret`. Values go to the server
 * and nowhere else: previews show at most their first 4 characters, and buffers that held them
 * are wiped. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <sodium.h>

#include "cli.h"
#include "text.h"
#include "banned.h"

#define MAX_SECRET_PAIRS 500
#define MAX_SECRET_FILE ((size_t)1 << 20)

struct pair {
    char *key;   /* points into the argument or the file buffer */
    char *value; /* likewise, or into stdin_value */
};

struct pairs {
    struct pair items[MAX_SECRET_PAIRS];
    size_t n;
    struct buf file;   /* the --file contents, wiped at the end */
    char *stdin_value; /* a value given as -, wiped at the end */
};

static void pairs_release(struct pairs *p)
{
    buf_release_secret(&p->file);
    if (p->stdin_value) {
        sodium_memzero(p->stdin_value, strlen(p->stdin_value));
        free(p->stdin_value);
    }
}

/* Wipe the string under key (a copy of a secret) before the object is freed. */
static void json_wipe_decref(json_t *obj, const char *key)
{
    const char *v = json_string_value(json_object_get(obj, key));
    if (v)
        sodium_memzero((void *)v, strlen(v));
    json_decref(obj);
}

static char *trim(char *s)
{
    while (*s == ' ' || *s == '\t')
        s++;
    size_t n = strlen(s);
    while (n && (s[n - 1] == ' ' || s[n - 1] == '\t' || s[n - 1] == '\r'))
        s[--n] = '\0';
    return s;
}

static int add_pair(struct cli *cli, struct pairs *p, char *key, char *value, const char *where)
{
    if (!text_is_secret_key(key)) {
        out_error(cli, "%sinvalid key '%s': keys are 1-64 characters of A-Z a-z 0-9 _ -", where,
                  key);
        return EXIT_USAGE;
    }
    for (size_t i = 0; i < p->n; i++)
        if (strcmp(p->items[i].key, key) == 0) {
            out_error(cli, "%skey '%s' is given twice", where, key);
            return EXIT_USAGE;
        }
    if (p->n >= MAX_SECRET_PAIRS) {
        out_error(cli, "too many keys: at most %d at a time", MAX_SECRET_PAIRS);
        return EXIT_USAGE;
    }
    p->items[p->n].key = key;
    p->items[p->n++].value = value;
    return EXIT_OK;
}

/* KEY=VALUE lines of a dotenv-like file: # comments, blank lines, "quoted" values. */
static int read_pairs_file(struct cli *cli, struct pairs *p, const char *path)
{
    FILE *f = fopen(path, "rb");
    if (!f) {
        out_error(cli, "cannot read %s: %s", path, strerror(errno));
        return EXIT_FAIL;
    }
    buf_init(&p->file, MAX_SECRET_FILE);
    char chunk[4096];
    size_t n;
    enum rc rc = RC_OK;
    while (rc == RC_OK && (n = fread(chunk, 1, sizeof chunk, f)) > 0)
        rc = buf_add(&p->file, chunk, n);
    sodium_memzero(chunk, sizeof chunk);
    fclose(f);
    if (rc != RC_OK) {
        out_error(cli, "cannot read %s: %s", path,
                  rc == RC_TOO_LARGE ? "larger than 1 MiB" : rc_message(rc));
        return EXIT_FAIL;
    }
    if (p->file.len == 0 || memchr(p->file.data, '\0', p->file.len)) {
        out_error(cli, "%s %s", path, p->file.len ? "is not a text file" : "is empty");
        return EXIT_USAGE;
    }
    char *line = p->file.data;
    for (int lineno = 1; line && *line; lineno++) {
        char *next = strchr(line, '\n');
        if (next)
            *next++ = '\0';
        char *t = trim(line);
        line = next;
        if (!*t || *t == '#')
            continue;
        char where[300];
        snprintf(where, sizeof where, "%s:%d: ", path, lineno);
        char *eq = strchr(t, '=');
        if (!eq) {
            out_error(cli, "%sexpected KEY=VALUE", where);
            return EXIT_USAGE;
        }
        *eq = '\0';
        char *key = trim(t), *value = trim(eq + 1);
        size_t vlen = strlen(value);
        if (vlen >= 2 && value[0] == '"' && value[vlen - 1] == '"') {
            value[vlen - 1] = '\0';
            value++;
        }
        int status = add_pair(cli, p, key, value, where);
        if (status != EXIT_OK)
            return status;
    }
    if (p->n == 0) {
        out_error(cli, "%s holds no KEY=VALUE lines", path);
        return EXIT_USAGE;
    }
    return EXIT_OK;
}

/* Read the one value given as "-": a hidden prompt on a terminal, else all of stdin (without
 * its final newline). */
static int read_stdin_value(struct cli *cli, struct pairs *p, struct pair *pair)
{
    if (stdin_is_terminal()) {
        char prompt[128];
        snprintf(prompt, sizeof prompt, "Value for %s: ", pair->key);
        p->stdin_value = prompt_hidden(prompt);
    } else {
        struct buf b;
        buf_init(&b, MAX_SECRET_FILE);
        char chunk[4096];
        size_t n;
        enum rc rc = RC_OK;
        while (rc == RC_OK && (n = fread(chunk, 1, sizeof chunk, stdin)) > 0)
            rc = buf_add(&b, chunk, n);
        sodium_memzero(chunk, sizeof chunk);
        if (rc != RC_OK) {
            buf_release_secret(&b);
            out_error(cli, "the value of %s on standard input is larger than 1 MiB", pair->key);
            return EXIT_USAGE;
        }
        if (b.len && b.data[b.len - 1] == '\n')
            b.data[--b.len] = '\0';
        if (b.len && b.data[b.len - 1] == '\r')
            b.data[--b.len] = '\0';
        if (b.len && memchr(b.data, '\0', b.len)) {
            buf_release_secret(&b);
            out_error(cli, "the value of %s on standard input contains a NUL byte", pair->key);
            return EXIT_USAGE;
        }
        p->stdin_value = buf_detach(&b, NULL);
    }
    if (!p->stdin_value) {
        out_error(cli, "no value for %s on standard input", pair->key);
        return EXIT_USAGE;
    }
    pair->value = p->stdin_value;
    return EXIT_OK;
}

/* GET .../secrets/NAME: the set's key names (a reference owned by r) or NULL when there is no
 * such set. Returns an exit code. */
static int get_set(struct session *s, const char *name, const char *region, struct client_reply *r,
                   json_t **keys)
{
    char path[1024];
    int status;
    *keys = NULL;
    if ((status = org_path(s, path, sizeof path, "secrets", name, NULL)) != EXIT_OK ||
        (status = path_query(s->cli, path, sizeof path, "region", region)) != EXIT_OK)
        return status;
    s->quiet_not_found = 1;
    status = session_call(s, "GET", path, NULL, r);
    s->quiet_not_found = 0;
    if (status == SESSION_NOT_FOUND) {
        /* The set does not exist, unless it is the organization that does not. */
        int mine = org_is_mine(s);
        return mine > 0 ? EXIT_OK : mine < 0 ? EXIT_FAIL : org_not_found(s, NULL);
    }
    if (status != EXIT_OK)
        return status;
    json_t *list = json_object_get(r->body, "secrets");
    if (json_array_size(list) > 0)
        *keys = list;
    return EXIT_OK;
}

static int has_key(const json_t *keys, const char *key)
{
    size_t i;
    json_t *k;
    json_array_foreach(keys, i, k)
    {
        const char *name = json_string_value(json_object_get(k, "fieldName"));
        if (name && strcmp(name, key) == 0)
            return 1;
    }
    return 0;
}

static int cmd_secrets_set(struct cli *cli, int argc, char **argv)
{
    const char *flag_org = NULL, *file = NULL, *region = NULL;
    const char *pos[MAX_SECRET_PAIRS + 1];
    int skip = 0, npos;
    const struct opt opts[] = {
        OPT_STRING('f', "file", &file, "FILE",
                   "read KEY=VALUE lines from FILE (not with KEY=VALUE arguments)"),
        OPT_STRING('r', "region", &region, "REGION",
                   "region of a new set (default: the organization's default)"),
        OPT_BOOL('s', "skip", &skip, "do not ask for confirmation"), OPT_ORG(&flag_org), OPT_END()};
    int status = args_parse(cli, argc, argv, opts, pos, MAX_SECRET_PAIRS + 1, &npos);
    if (status != EXIT_OK)
        return status;
    if (npos < 1) {
        out_error(cli, "usage: %s secrets set NAME KEY=VALUE ... (or -f FILE)", cli->prog);
        return EXIT_USAGE;
    }
    const char *name = pos[0];
    if (!text_is_secret_set_name(name)) {
        out_error(cli,
                  "invalid secret set name '%s': 1-64 letters, digits, - and _, "
                  "starting and ending with a letter or digit",
                  name);
        return EXIT_USAGE;
    }
    if (file && npos > 1) {
        out_error(cli, "give KEY=VALUE arguments or --file, not both");
        return EXIT_USAGE;
    }
    if (!file && npos < 2) {
        out_error(cli, "no secrets given: pass KEY=VALUE arguments or --file FILE");
        return EXIT_USAGE;
    }
    if (region && !*region) {
        out_error(cli, "--region must not be empty");
        return EXIT_USAGE;
    }
    if (!skip && !stdin_is_terminal()) {
        out_error(cli, "secrets set asks to confirm and there is no terminal to ask on: pass "
                       "--skip to proceed without asking");
        return EXIT_USAGE;
    }
    struct pairs *p = calloc(1, sizeof *p);
    struct session s;
    struct client_reply r = {0}, props_r = {0};
    json_t *existing = NULL, *written = json_array();
    const char *shown_region = region;
    int created = 0;
    memset(&s, 0, sizeof s);
    if (!p) {
        json_decref(written);
        return EXIT_FAIL;
    }
    if (file) {
        if ((status = read_pairs_file(cli, p, file)) != EXIT_OK)
            goto out;
    } else {
        for (int i = 1; i < npos; i++) {
            char *eq = strchr(pos[i], '=');
            if (!eq) {
                out_error(cli, "'%s' is not KEY=VALUE", pos[i]);
                status = EXIT_USAGE;
                goto out;
            }
            *eq = '\0';
            if ((status = add_pair(cli, p, (char *)pos[i], eq + 1, "")) != EXIT_OK)
                goto out;
        }
    }
    struct pair *from_stdin = NULL;
    for (size_t i = 0; i < p->n; i++)
        if (strcmp(p->items[i].value, "-") == 0) {
            if (from_stdin) {
                out_error(cli, "only one value can come from standard input (-): %s and %s",
                          from_stdin->key, p->items[i].key);
                status = EXIT_USAGE;
                goto out;
            }
            from_stdin = &p->items[i];
        }
    if (from_stdin && (status = read_stdin_value(cli, p, from_stdin)) != EXIT_OK)
        goto out;

    if ((status = platform_open(cli, &s, flag_org)) != EXIT_OK)
        goto out;
    if (region && (status = region_check(&s, region)) != EXIT_OK)
        goto out;
    if ((status = get_set(&s, name, NULL, &r, &existing)) != EXIT_OK)
        goto out;
    created = r.body == NULL; /* a 404: no such set yet */
    if (!region && !skip) {
        /* Only to say where a new set goes. */
        char path[512];
        if (org_path(&s, path, sizeof path, "properties", NULL) == EXIT_OK &&
            session_call(&s, "GET", path, NULL, &props_r) == EXIT_OK)
            shown_region = json_string_value(
                json_object_get(json_object_get(props_r.body, "properties"), "defaultRegion"));
    }
    if (!skip) {
        printf("Secret set '%s' (%s%s%s)\n", name, created ? "new" : "existing",
               shown_region && created ? ", in " : "", shown_region && created ? shown_region : "");
        const char **cells = calloc(p->n * 3, sizeof *cells);
        char(*masks)[64] = calloc(p->n, sizeof *masks);
        if (!cells || !masks) {
            free(cells);
            free(masks);
            status = EXIT_FAIL;
            goto out;
        }
        size_t replaced = 0;
        for (size_t i = 0; i < p->n; i++) {
            int exists = has_key(existing, p->items[i].key);
            replaced += (size_t)exists;
            cells[i * 3] = p->items[i].key;
            cells[i * 3 + 1] = out_mask(p->items[i].value, masks[i], sizeof masks[i]);
            cells[i * 3 + 2] = exists ? "replace" : "add";
        }
        static const char *const headers[] = {"KEY", "VALUE", "CHANGE"};
        out_table(cli, 3, headers, cells, p->n);
        free(cells);
        free(masks);
        fflush(stdout);
        char q[400];
        snprintf(q, sizeof q, "%s secret set '%s' with %zu key%s?", created ? "Create" : "Update",
                 name, p->n, p->n == 1 ? "" : "s");
        if ((status = ask_confirm(cli, q, 1, "--skip")) != EXIT_OK)
            goto out;
        if (replaced) {
            snprintf(q, sizeof q, "Replace the values of %zu existing key%s?", replaced,
                     replaced == 1 ? "" : "s");
            if ((status = ask_confirm(cli, q, 0, "--skip")) != EXIT_OK)
                goto out;
        }
    }
    char path[1024];
    if ((status = org_path(&s, path, sizeof path, "secrets", name, NULL)) != EXIT_OK)
        goto out;
    char region_copy[128] = "";
    if (shown_region)
        snprintf(region_copy, sizeof region_copy, "%s", shown_region);
    struct client_reply put = {0};
    for (size_t i = 0; i < p->n; i++) {
        json_t *body = json_pack("{s:s, s:b, s:s, s:s}", "name", name, "isImagePullSecret", 0,
                                 "secretKey", p->items[i].key, "secretValue", p->items[i].value);
        if (region)
            json_object_set_new(body, "region", json_string(region));
        client_reply_release(&put);
        status = org_call(&s, "PUT", path, body, &put);
        json_wipe_decref(body, "secretValue");
        if (status != EXIT_OK) {
            if (i > 0)
                out_note(cli,
                         "%zu of %zu keys were stored before this failure; run the command "
                         "again to store the rest.",
                         i, p->n);
            goto out;
        }
        json_array_append_new(written, json_string(p->items[i].key));
        const char *stored = json_string_value(json_object_get(put.body, "region"));
        if (stored)
            snprintf(region_copy, sizeof region_copy, "%s", stored);
    }
    client_reply_release(&put);
    if (cli->json) {
        out_json(json_pack("{s:s, s:s?, s:b, s:O}", "name", name, "region",
                           region_copy[0] ? region_copy : NULL, "created", created, "keys",
                           written));
    } else {
        printf("Secret set '%s' %s successfully%s%s\n", name, created ? "created" : "modified",
               region_copy[0] ? " in " : "", region_copy);
        if (!created)
            out_note(cli, "Agents using it see the new values after a redeploy (`%s deploy`).",
                     cli->prog);
    }
out:
    json_decref(written);
    client_reply_release(&r);
    client_reply_release(&props_r);
    session_close(&s);
    pairs_release(p);
    sodium_memzero(p, sizeof *p);
    free(p);
    return status;
}

static const char *set_type(const json_t *value, const json_t *row, void *ctx, char *buf,
                            size_t size)
{
    (void)row, (void)ctx, (void)buf, (void)size;
    const char *type = json_string_value(value);
    return type && strcmp(type, "imagePullSecret") == 0 ? "Image Pull Secret" : "Secret Set";
}

static int cmd_secrets_list(struct cli *cli, int argc, char **argv)
{
    const char *flag_org = NULL, *region = NULL, *pos[1] = {NULL};
    int sets_only = 0, npos;
    const struct opt opts[] = {
        OPT_BOOL('s', "sets", &sets_only, "only secret sets (leave out image pull secrets)"),
        OPT_STRING('r', "region", &region, "REGION", "only those in REGION"), OPT_ORG(&flag_org),
        OPT_END()};
    int status = args_parse(cli, argc, argv, opts, pos, 1, &npos);
    if (status != EXIT_OK)
        return status;
    struct session s;
    struct client_reply r = {0};
    char path[1024];
    if ((status = platform_open(cli, &s, flag_org)) != EXIT_OK)
        goto out;
    if (region && (status = region_check(&s, region)) != EXIT_OK)
        goto out;
    if (pos[0]) {
        json_t *keys;
        if ((status = get_set(&s, pos[0], region, &r, &keys)) != EXIT_OK)
            goto out;
        if (!keys && !r.body) {
            status = org_not_found(&s, "secret set '%s' not found in organization '%s'", pos[0],
                                   s.org);
            goto out;
        }
        if (cli->json) {
            json_t *names = json_array();
            size_t i;
            json_t *k;
            json_array_foreach(keys, i, k)
                json_array_append(names, json_object_get(k, "fieldName"));
            out_json(json_pack("{s:s, s:O, s:o}", "name", pos[0], "region",
                               json_object_get(r.body, "region") ? json_object_get(r.body, "region")
                                                                 : json_null(),
                               "keys", names));
            goto out;
        }
        if (!keys) {
            printf("Secret set '%s' holds no keys.\n", pos[0]);
            goto out;
        }
        size_t n = json_array_size(keys);
        const char **cells = calloc(n, sizeof *cells);
        if (!cells) {
            status = EXIT_FAIL;
            goto out;
        }
        for (size_t i = 0; i < n; i++) {
            const char *k = json_string_value(
                json_object_get(json_array_get(keys, i), "fieldName"));
            cells[i] = k ? k : "";
        }
        static const char *const headers[] = {"KEY"};
        out_table(cli, 1, headers, cells, n);
        free(cells);
        goto out;
    }
    if ((status = org_path(&s, path, sizeof path, "secrets", NULL)) != EXIT_OK ||
        (status = path_query(cli, path, sizeof path, "region", region)) != EXIT_OK ||
        (status = org_call(&s, "GET", path, NULL, &r)) != EXIT_OK)
        goto out;
    json_t *sets = json_object_get(r.body, "sets"), *shown = json_array();
    size_t i;
    json_t *set;
    json_array_foreach(sets, i, set)
    {
        const char *type = json_string_value(json_object_get(set, "type"));
        if (sets_only && type && strcmp(type, "imagePullSecret") == 0)
            continue;
        json_array_append(shown, set);
    }
    if (cli->json) {
        out_json(json_pack("{s:s, s:o}", "organization", s.org, "sets", shown));
        goto out;
    }
    size_t n = json_array_size(shown);
    if (n == 0) {
        printf("No secret sets found in organization '%s'%s%s.\n", s.org,
               region ? " in region " : "", region ? region : "");
        json_decref(shown);
        goto out;
    }
    static const struct column cols[] = {{"NAME", "name", NULL},
                                         {"REGION", "region", NULL},
                                         {"TYPE", "type", set_type},
                                         {"STATUS", "status", NULL},
                                         COLUMN_END};
    status = out_rows(cli, cols, shown, NULL);
    json_decref(shown);
out:
    client_reply_release(&r);
    session_close(&s);
    return status;
}

static int cmd_secrets_unset(struct cli *cli, int argc, char **argv)
{
    const char *flag_org = NULL, *pos[2] = {NULL, NULL};
    int skip = 0, npos;
    const struct opt opts[] = {OPT_BOOL('s', "skip", &skip, "do not ask for confirmation"),
                               OPT_ORG(&flag_org), OPT_END()};
    int status = args_parse(cli, argc, argv, opts, pos, 2, &npos);
    if (status != EXIT_OK)
        return status;
    if (npos != 2)
        return args_usage(cli);
    if (!text_is_secret_set_name(pos[0])) {
        out_error(cli, "invalid secret set name '%s'", pos[0]);
        return EXIT_USAGE;
    }
    if (!text_is_secret_key(pos[1])) {
        out_error(cli, "invalid key '%s': keys are 1-64 characters of A-Z a-z 0-9 _ -", pos[1]);
        return EXIT_USAGE;
    }
    if ((status = confirm_unless(cli, skip, "--skip", 0, "Delete key '%s' from secret set '%s'?",
                                 pos[1], pos[0])) != EXIT_OK)
        return status;
    struct session s;
    struct client_reply r = {0};
    char path[1024];
    if ((status = platform_open(cli, &s, flag_org)) != EXIT_OK ||
        (status = org_path(&s, path, sizeof path, "secrets", pos[0], pos[1], NULL)) != EXIT_OK)
        goto out;
    s.quiet_not_found = 1;
    status = session_call(&s, "DELETE", path, NULL, &r);
    s.quiet_not_found = 0;
    if (status == SESSION_NOT_FOUND) {
        status = org_not_found(&s, "Key '%s' not found in secret set '%s'", pos[1], pos[0]);
        goto out;
    }
    if (status != EXIT_OK)
        goto out;
    /* The server deletes a set with its last key (it never keeps an empty one). */
    int set_deleted = json_is_true(json_object_get(r.body, "setDeleted"));
    if (cli->json) {
        out_json(json_pack("{s:s, s:s, s:b, s:b}", "name", pos[0], "key", pos[1], "deleted", 1,
                           "setDeleted", set_deleted));
    } else {
        printf("Secret '%s' deleted successfully from secret set '%s'\n", pos[1], pos[0]);
        if (set_deleted)
            printf("It was the last key: secret set '%s' has been deleted\n", pos[0]);
    }
out:
    client_reply_release(&r);
    session_close(&s);
    return status;
}

static int cmd_secrets_delete(struct cli *cli, int argc, char **argv)
{
    const char *flag_org = NULL, *pos[1] = {NULL};
    int skip = 0, npos;
    const struct opt opts[] = {OPT_BOOL('s', "skip", &skip, "do not ask for confirmation"),
                               OPT_ORG(&flag_org), OPT_END()};
    int status = args_parse(cli, argc, argv, opts, pos, 1, &npos);
    if (status != EXIT_OK)
        return status;
    if (npos != 1)
        return args_usage(cli);
    if (!text_is_secret_set_name(pos[0])) {
        out_error(cli, "invalid secret set name '%s'", pos[0]);
        return EXIT_USAGE;
    }
    if ((status = confirm_unless(cli, skip, "--skip", 0, "Delete secret set '%s' and all its keys?",
                                 pos[0])) != EXIT_OK)
        return status;
    struct session s;
    struct client_reply r = {0};
    char path[1024];
    if ((status = platform_open(cli, &s, flag_org)) != EXIT_OK ||
        (status = org_path(&s, path, sizeof path, "secrets", pos[0], NULL)) != EXIT_OK)
        goto out;
    s.quiet_not_found = 1;
    status = session_call(&s, "DELETE", path, NULL, &r);
    s.quiet_not_found = 0;
    if (status == SESSION_NOT_FOUND) {
        status = org_not_found(&s, "No secret set named '%s' in organization '%s'", pos[0], s.org);
        goto out;
    }
    if (status != EXIT_OK)
        goto out;
    if (cli->json)
        out_json(json_pack("{s:s, s:b}", "name", pos[0], "deleted", 1));
    else
        printf("Secret set '%s' deleted successfully\n", pos[0]);
out:
    client_reply_release(&r);
    session_close(&s);
    return status;
}

/* Read USER:PASS for a registry: prompts on a terminal, else the first line of stdin. */
static char *read_registry_credentials(struct cli *cli)
{
    if (!stdin_is_terminal())
        return read_stdin_line();
    char *user = ask_line("Registry user name: ");
    if (!user || !*user) {
        free(user);
        return NULL;
    }
    char *pass = prompt_hidden("Password or token: ");
    if (!pass) {
        free(user);
        return NULL;
    }
    struct buf b;
    buf_init(&b, 0);
    buf_addf(&b, "%s:%s", user, pass);
    sodium_memzero(pass, strlen(pass));
    free(pass);
    free(user);
    (void)cli;
    return buf_detach(&b, NULL);
}

static int cmd_secrets_image_pull_secret(struct cli *cli, int argc, char **argv)
{
    const char *flag_org = NULL, *region = NULL, *pos[3] = {NULL, NULL, NULL};
    int skip = 0, as_given = 0, npos;
    const struct opt opts[] = {
        OPT_BOOL('e', "encode", &as_given,
                 "the credentials are already base64-encoded: send as given"),
        OPT_STRING('r', "region", &region, "REGION",
                   "region of the secret (default: the organization's default)"),
        OPT_BOOL('s', "skip", &skip, "do not ask for confirmation"), OPT_ORG(&flag_org), OPT_END()};
    int status = args_parse(cli, argc, argv, opts, pos, 3, &npos);
    if (status != EXIT_OK)
        return status;
    if (npos < 2)
        return args_usage(cli);
    const char *name = pos[0], *host = pos[1];
    if (!text_is_secret_set_name(name)) {
        out_error(cli,
                  "invalid image pull secret name '%s': 1-64 letters, digits, - and "
                  "_, starting and ending with a letter or digit",
                  name);
        return EXIT_USAGE;
    }
    if (!*host || strchr(host, ' ') || strstr(host, "://")) {
        out_error(cli, "invalid registry host '%s': give a host name such as ghcr.io", host);
        return EXIT_USAGE;
    }
    char *creds = NULL, *encoded = NULL;
    if (npos == 3) {
        out_warn(cli,
                 "credentials given as an argument end up in your shell history; pipe "
                 "them instead: echo \"$USER:$TOKEN\" | %s secrets image-pull-secret "
                 "NAME HOST",
                 cli->prog);
        creds = strdup(pos[2]);
    } else {
        creds = read_registry_credentials(cli);
    }
    struct session s;
    struct client_reply list = {0}, r = {0};
    json_t *body = NULL;
    memset(&s, 0, sizeof s);
    if (!creds || !*creds) {
        out_error(cli, "no credentials: pass USER:PASS, or pipe them on standard input");
        status = EXIT_USAGE;
        goto out;
    }
    if (!as_given) {
        char *colon = strchr(creds, ':');
        if (!colon || colon == creds) {
            out_error(cli, "credentials must be USER:PASS (or already base64-encoded with "
                           "--encode)");
            status = EXIT_USAGE;
            goto out;
        }
        size_t len = strlen(creds);
        size_t outlen = sodium_base64_ENCODED_LEN(len, sodium_base64_VARIANT_ORIGINAL);
        if (!(encoded = malloc(outlen))) {
            status = EXIT_FAIL;
            goto out;
        }
        sodium_bin2base64(encoded, outlen, (const unsigned char *)creds, len,
                          sodium_base64_VARIANT_ORIGINAL);
    }
    char path[1024];
    if ((status = platform_open(cli, &s, flag_org)) != EXIT_OK)
        goto out;
    if (region && (status = region_check(&s, region)) != EXIT_OK)
        goto out;
    if ((status = org_path(&s, path, sizeof path, "secrets", NULL)) != EXIT_OK ||
        (status = org_call(&s, "GET", path, NULL, &list)) != EXIT_OK)
        goto out;
    int exists = 0;
    size_t i;
    json_t *set;
    json_array_foreach(json_object_get(list.body, "sets"), i, set)
    {
        const char *nm = json_string_value(json_object_get(set, "name"));
        const char *type = json_string_value(json_object_get(set, "type"));
        if (nm && strcmp(nm, name) == 0 && type && strcmp(type, "imagePullSecret") == 0)
            exists = 1;
    }
    if ((status = confirm_unless(cli, !exists || skip, "--skip", 0,
                                 "Image pull secret '%s' exists. Replace it?", name)) != EXIT_OK)
        goto out;
    body = json_pack("{s:b, s:s, s:s}", "isImagePullSecret", 1, "secretValue",
                     encoded ? encoded : creds, "host", host);
    if (region)
        json_object_set_new(body, "region", json_string(region));
    if ((status = org_path(&s, path, sizeof path, "secrets", name, NULL)) != EXIT_OK ||
        (status = org_call(&s, "PUT", path, body, &r)) != EXIT_OK)
        goto out;
    const char *stored = json_string_value(json_object_get(r.body, "region"));
    if (!stored)
        stored = region;
    if (cli->json)
        out_json(json_pack("{s:s, s:s, s:s?, s:b}", "name", name, "host", host, "region", stored,
                           "created", !exists));
    else
        printf("Image pull secret '%s' for %s %s successfully%s%s.\n", name, host,
               exists ? "updated" : "created", stored ? " in " : "", stored ? stored : "");
out:
    json_wipe_decref(body, "secretValue");
    if (creds) {
        sodium_memzero(creds, strlen(creds));
        free(creds);
    }
    if (encoded) {
        sodium_memzero(encoded, strlen(encoded));
        free(encoded);
    }
    client_reply_release(&list);
    client_reply_release(&r);
    session_close(&s);
    return status;
}

/* The commands of this file: name, summary, synopsis, description and examples; their --help,
 * docs/cli page, completion and man page are generated from these and the option tables. */
const struct command secrets_commands[] = {
    COMMAND(
        "secrets", "set", cmd_secrets_set, "create a secret set or set keys in it",
        "NAME [KEY=VALUE ...] [-f FILE] [-r REGION] [-s] [-o ORG]",
        "Create secret set NAME, or add or replace keys in it (one request per key). Values come\n"
        "from KEY=VALUE arguments or from FILE: one KEY=VALUE per line, # comments and blank "
        "lines\n"
        "ignored, surrounding double quotes stripped. A VALUE of - is read from standard input\n"
        "(a hidden prompt on a terminal), which keeps it out of shell history:\n"
        "    printf %s \"$OPENAI_KEY\" | pipecat cloud secrets set my-secrets OPENAI_API_KEY=- -s\n"
        "Keys are 1-64 characters of A-Z a-z 0-9 _ -. A preview shows each key with at most the\n"
        "first 4 characters of its value and asks to confirm, again before replacing existing\n"
        "keys; --skip answers yes and is needed without a terminal. Agents see new values after\n"
        "a redeploy.\n",
        "  pipecat cloud secrets set my-secrets OPENAI_API_KEY=sk-live-0123456789 PORT=8080\n"),
    COMMAND(
        "secrets", "list", cmd_secrets_list, "list secret sets, or the keys of one",
        "[NAME] [-s] [-r REGION] [-o ORG]",
        "Without NAME, list the secret sets and image pull secrets: name, region and type. With\n"
        "NAME, list the key names of that set. Values are never shown.\n",
        "  pipecat cloud secrets list\n"
        "  pipecat cloud secrets list my-secrets\n"),
    COMMAND("secrets", "unset", cmd_secrets_unset, "remove a key from a secret set",
            "NAME KEY [-s] [-o ORG]",
            "Remove KEY from secret set NAME. A set holds at least one key: removing its last key\n"
            "deletes the set. Asks to confirm unless --skip (needed without a terminal).\n",
            "  pipecat cloud secrets unset my-secrets PORT --skip\n"),
    COMMAND(
        "secrets", "delete", cmd_secrets_delete, "delete a secret set", "NAME [-s] [-o ORG]",
        "Delete secret set (or image pull secret) NAME with all its keys. Asks to confirm unless\n"
        "--skip (needed without a terminal).\n",
        "  pipecat cloud secrets delete my-secrets --skip\n"),
    COMMAND(
        "secrets", "image-pull-secret", cmd_secrets_image_pull_secret,
        "store registry credentials for pulling images", "NAME HOST [USER:PASS] [OPTIONS]",
        "Store the credentials for pulling images from registry HOST as image pull secret NAME;\n"
        "`deploy --credentials NAME` uses it. The credentials come from the USER:PASS argument,\n"
        "from prompts for user name and (hidden) password on a terminal, or else from the first\n"
        "line of standard input:\n"
        "    echo \"$REGISTRY_USER:$REGISTRY_TOKEN\" | pipecat cloud secrets image-pull-secret \\\n"
        "        ghcr ghcr.io -s\n"
        "They are sent base64-encoded; with --encode they are sent as given (already base64).\n"
        "Replacing an existing one asks to confirm unless --skip.\n",
        "  echo \"robot:$GHCR_TOKEN\" | pipecat cloud secrets image-pull-secret ghcr ghcr.io "
        "--skip\n"
        "  pipecat cloud deploy my-agent ghcr.io/acme/bot:1.0 --credentials ghcr --yes\n"),
    COMMAND_END};
