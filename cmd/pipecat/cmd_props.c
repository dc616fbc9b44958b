/* cmd_props.c: `organizations properties list|schema|set`, `organizations default-region` and
 * `regions list`: the organization's settings and where its agents can run. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"
#include "banned.h"

/* GET (or PATCH with body) .../properties[/schema]; the "properties" object into *props (a
 * reference owned by r). */
static int properties_call(struct session *s, const char *method, int schema, const json_t *body,
                           struct client_reply *r, json_t **props)
{
    char path[512];
    int status;
    if ((status = org_path(s, path, sizeof path, "properties", schema ? "schema" : NULL,
                           NULL)) != EXIT_OK ||
        (status = org_call(s, method, path, body, r)) != EXIT_OK)
        return status;
    *props = json_object_get(r->body, "properties");
    if (!json_is_object(*props)) {
        out_error(s->cli, "%s", strcmp(method, "PATCH") == 0
                                    ? "Failed to update property: the answer has no properties"
                                    : "unexpected answer from the server: no properties");
        return EXIT_FAIL;
    }
    return EXIT_OK;
}

int cmd_props_list(struct cli *cli, int argc, char **argv)
{
    const char *flag_org = NULL;
    int npos, status = args_parse_org(cli, argc, argv, &flag_org, NULL, 0, &npos);
    if (status != EXIT_OK)
        return status;
    struct session s;
    struct client_reply r = {0};
    json_t *props;
    if ((status = platform_open(cli, &s, flag_org)) != EXIT_OK ||
        (status = properties_call(&s, "GET", 0, NULL, &r, &props)) != EXIT_OK)
        goto out;
    if (cli->json) {
        out_json(json_pack("{s:s, s:O}", "organization", s.org, "properties", props));
        goto out;
    }
    size_t n = json_object_size(props);
    if (n == 0) {
        printf("No properties configured.\n");
        goto out;
    }
    const char **cells = calloc(n * 2, sizeof *cells);
    char(*text)[256] = calloc(n, sizeof *text);
    if (!cells || !text) {
        free(cells);
        free(text);
        status = EXIT_FAIL;
        goto out;
    }
    const char *name;
    json_t *value;
    size_t i = 0;
    json_object_foreach(props, name, value) {
        cells[i * 2] = name;
        cells[i * 2 + 1] = json_text(value, text[i], sizeof text[i], "not set");
        i++;
    }
    static const char *const headers[] = {"PROPERTY", "VALUE"};
    out_table(cli, 2, headers, cells, n);
    free(cells);
    free(text);
out:
    client_reply_release(&r);
    session_close(&s);
    return status;
}

/* The availableValues list of a schema entry, comma-separated, into buf. */
static const char *joined_values(const json_t *entry, char *buf, size_t size)
{
    size_t i, len = 0;
    json_t *v;
    buf[0] = '\0';
    json_array_foreach(json_object_get(entry, "availableValues"), i, v) {
        char one[128];
        const char *t = json_text(v, one, sizeof one, "null");
        int w = snprintf(buf + len, size - len, "%s%s", i ? ", " : "", t);
        if (w < 0 || (size_t)w >= size - len)
            break;
        len += (size_t)w;
    }
    return buf;
}

int cmd_props_schema(struct cli *cli, int argc, char **argv)
{
    const char *flag_org = NULL;
    int npos, status = args_parse_org(cli, argc, argv, &flag_org, NULL, 0, &npos);
    if (status != EXIT_OK)
        return status;
    struct session s;
    struct client_reply r = {0};
    json_t *props;
    if ((status = platform_open(cli, &s, flag_org)) != EXIT_OK ||
        (status = properties_call(&s, "GET", 1, NULL, &r, &props)) != EXIT_OK)
        goto out;
    if (cli->json) {
        out_json(json_pack("{s:s, s:O}", "organization", s.org, "properties", props));
        goto out;
    }
    size_t n = json_object_size(props);
    if (n == 0) {
        printf("No properties configured.\n");
        goto out;
    }
    enum { COLS = 7 };
    const char **cells = calloc(n * COLS, sizeof *cells);
    char(*text)[4][256] = calloc(n, sizeof *text);
    if (!cells || !text) {
        free(cells);
        free(text);
        status = EXIT_FAIL;
        goto out;
    }
    const char *name;
    json_t *e;
    size_t i = 0;
    json_object_foreach(props, name, e) {
        cells[i * COLS + 0] = name;
        cells[i * COLS + 1] = json_text(json_object_get(e, "type"), text[i][0], 256, "");
        cells[i * COLS + 2] =
            json_text(json_object_get(e, "currentValue"), text[i][1], 256, "not set");
        cells[i * COLS + 3] = json_text(json_object_get(e, "default"), text[i][2], 256, "");
        cells[i * COLS + 4] = json_is_true(json_object_get(e, "readOnly")) ? "no" : "yes";
        cells[i * COLS + 5] = joined_values(e, text[i][3], 256);
        const char *desc = json_string_value(json_object_get(e, "description"));
        cells[i * COLS + 6] = desc ? desc : "";
        i++;
    }
    static const char *const headers[COLS] = {"PROPERTY", "TYPE",   "CURRENT",    "DEFAULT",
                                              "SETTABLE", "VALUES", "DESCRIPTION"};
    out_table(cli, COLS, headers, cells, n);
    free(cells);
    free(text);
out:
    client_reply_release(&r);
    session_close(&s);
    return status;
}

/* PATCH {name: value}; prints what the server now holds. */
static int set_property(struct cli *cli, const char *flag_org, const char *name,
                        const char *value, const char *label)
{
    struct session s;
    struct client_reply r = {0};
    json_t *props, *body = json_object();
    json_object_set_new(body, name, json_string(value));
    int status;
    if ((status = platform_open(cli, &s, flag_org)) != EXIT_OK ||
        (status = properties_call(&s, "PATCH", 0, body, &r, &props)) != EXIT_OK)
        goto out;
    char text[256];
    const char *now = json_text(json_object_get(props, name), text, sizeof text, value);
    if (cli->json)
        out_json(json_pack("{s:s, s:O}", "organization", s.org, "properties", props));
    else if (label)
        printf("%s set to %s\n", label, now);
    else
        printf("Property %s set to %s\n", name, now);
out:
    json_decref(body);
    client_reply_release(&r);
    session_close(&s);
    return status;
}

int cmd_props_set(struct cli *cli, int argc, char **argv)
{
    const char *flag_org = NULL, *pos[2] = {NULL, NULL};
    int npos, status = args_parse_org(cli, argc, argv, &flag_org, pos, 2, &npos);
    if (status != EXIT_OK)
        return status;
    if (npos != 2 || !*pos[0]) {
        out_error(cli, "usage: %s organizations properties set NAME VALUE (see `%s "
                       "organizations properties schema` for names)", cli->prog, cli->prog);
        return EXIT_USAGE;
    }
    return set_property(cli, flag_org, pos[0], pos[1], NULL);
}

int cmd_orgs_default_region(struct cli *cli, int argc, char **argv)
{
    const char *flag_org = NULL, *pos[1] = {NULL};
    int npos, status = args_parse_org(cli, argc, argv, &flag_org, pos, 1, &npos);
    if (status != EXIT_OK)
        return status;
    if (npos == 1) {
        if (!*pos[0]) {
            out_error(cli, "the region must not be empty (see `%s regions list`)", cli->prog);
            return EXIT_USAGE;
        }
        return set_property(cli, flag_org, "defaultRegion", pos[0], "Default region");
    }
    struct session s;
    struct client_reply r = {0};
    json_t *props;
    if ((status = platform_open(cli, &s, flag_org)) != EXIT_OK ||
        (status = properties_call(&s, "GET", 1, NULL, &r, &props)) != EXIT_OK)
        goto out;
    json_t *entry = json_object_get(props, "defaultRegion");
    if (!entry) {
        out_error(cli, "No default region configured: the server has no defaultRegion property");
        status = EXIT_FAIL;
        goto out;
    }
    json_t *current = json_object_get(entry, "currentValue");
    if (!json_is_string(current))
        current = json_object_get(entry, "default");
    if (cli->json) {
        json_t *avail = json_object_get(entry, "availableValues");
        out_json(json_pack("{s:s, s:O, s:O}", "organization", s.org, "defaultRegion",
                           json_is_string(current) ? current : json_null(), "availableRegions",
                           avail ? avail : json_array()));
        goto out;
    }
    char values[1024];
    out_field(cli, "Default region",
              json_is_string(current) ? json_string_value(current) : "not set");
    if (json_array_size(json_object_get(entry, "availableValues")))
        out_field(cli, "Available regions", joined_values(entry, values, sizeof values));
out:
    client_reply_release(&r);
    session_close(&s);
    return status;
}

int cmd_regions_list(struct cli *cli, int argc, char **argv)
{
    const char *flag_org = NULL;
    int npos, status = args_parse_org(cli, argc, argv, &flag_org, NULL, 0, &npos);
    if (status != EXIT_OK)
        return status;
    struct session s;
    json_t *list = NULL;
    if ((status = platform_open(cli, &s, flag_org)) != EXIT_OK ||
        (status = regions_fetch(&s, &list)) != EXIT_OK)
        goto out;
    if (cli->json) {
        out_json(json_pack("{s:O}", "regions", list));
        goto out;
    }
    size_t n = json_array_size(list);
    if (n == 0) {
        printf("No regions available.\n");
        goto out;
    }
    static const struct column cols[] = {
        {"CODE", "code", NULL}, {"NAME", "display_name", NULL}, COLUMN_END};
    status = out_rows(cli, cols, list, NULL);
out:
    json_decref(list);
    session_close(&s);
    return status;
}
