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
    if ((status = org_path(s, path, sizeof path, "properties", schema ? "schema" : NULL, NULL)) !=
            EXIT_OK ||
        (status = org_call(s, method, path, body, r)) != EXIT_OK)
        return status;
    *props = json_object_get(r->body, "properties");
    if (!json_is_object(*props)) {
        out_error(s->cli, "%s",
                  strcmp(method, "PATCH") == 0
                      ? "Failed to update property: the answer has no properties"
                      : "unexpected answer from the server: no properties");
        return EXIT_FAIL;
    }
    return EXIT_OK;
}

/* A property's value as text, "not set" when null or missing. */
static const char *value_or_unset(const json_t *value, const json_t *row, void *ctx, char *buf,
                                  size_t size)
{
    (void)row, (void)ctx;
    return json_text(value, buf, size, "not set");
}

static int cmd_props_list(struct cli *cli, int argc, char **argv)
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
    static const struct column cols[] = {
        {"PROPERTY", COLUMN_NAME, NULL}, {"VALUE", NULL, value_or_unset}, COLUMN_END};
    status = out_rows(cli, cols, props, NULL);
out:
    client_reply_release(&r);
    session_close(&s);
    return status;
}

/* The availableValues list of a schema entry, comma-separated, into buf. */
static const char *joined_values(const json_t *entry, const json_t *row, void *ctx, char *buf,
                                 size_t size)
{
    (void)row, (void)ctx;
    size_t i, len = 0;
    json_t *v;
    buf[0] = '\0';
    json_array_foreach(json_object_get(entry, "availableValues"), i, v)
    {
        char one[128];
        const char *t = json_text(v, one, sizeof one, "null");
        int w = snprintf(buf + len, size - len, "%s%s", i ? ", " : "", t);
        if (w < 0 || (size_t)w >= size - len)
            break;
        len += (size_t)w;
    }
    return buf;
}

static const char *settable(const json_t *value, const json_t *row, void *ctx, char *buf,
                            size_t size)
{
    (void)row, (void)ctx, (void)buf, (void)size;
    return json_is_true(value) ? "no" : "yes";
}

static int cmd_props_schema(struct cli *cli, int argc, char **argv)
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
    static const struct column cols[] = {{"PROPERTY", COLUMN_NAME, NULL},
                                         {"TYPE", "type", NULL},
                                         {"CURRENT", "currentValue", value_or_unset},
                                         {"DEFAULT", "default", NULL},
                                         {"SETTABLE", "readOnly", settable},
                                         {"VALUES", NULL, joined_values},
                                         {"DESCRIPTION", "description", NULL},
                                         COLUMN_END};
    status = out_rows(cli, cols, props, NULL);
out:
    client_reply_release(&r);
    session_close(&s);
    return status;
}

/* PATCH {name: value}; prints what the server now holds. */
static int set_property(struct cli *cli, const char *flag_org, const char *name, const char *value,
                        const char *label)
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

static int cmd_props_set(struct cli *cli, int argc, char **argv)
{
    const char *flag_org = NULL, *pos[2] = {NULL, NULL};
    int npos, status = args_parse_org(cli, argc, argv, &flag_org, pos, 2, &npos);
    if (status != EXIT_OK)
        return status;
    if (npos != 2 || !*pos[0]) {
        out_error(cli,
                  "usage: %s organizations properties set NAME VALUE (see `%s "
                  "organizations properties schema` for names)",
                  cli->prog, cli->prog);
        return EXIT_USAGE;
    }
    return set_property(cli, flag_org, pos[0], pos[1], NULL);
}

static int cmd_orgs_default_region(struct cli *cli, int argc, char **argv)
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
        out_field(cli, "Available regions",
                  joined_values(entry, NULL, NULL, values, sizeof values));
out:
    client_reply_release(&r);
    session_close(&s);
    return status;
}

static int cmd_regions_list(struct cli *cli, int argc, char **argv)
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

/* The commands of this file: name, summary, synopsis, description and examples; their --help,
 * docs/cli page, completion and man page are generated from these and the option tables. */
const struct command props_commands[] = {
    COMMAND(
        "organizations", "default-region", cmd_orgs_default_region,
        "show or set the organization's default region", "[REGION] [-o ORG]",
        "Without REGION, show the organization's default region and the regions available.\n"
        "With REGION, make it the default: agents and secret sets created without --region are\n"
        "placed there. Needs the admin role.\n",
        "  pipecat cloud organizations default-region\n"
        "  pipecat cloud organizations default-region eu-central\n"),
    COMMAND("organizations properties", "list", cmd_props_list,
            "show the organization's properties", "[-o ORG]",
            "Show the organization's properties and their current values.\n",
            "  pipecat cloud organizations properties list\n"),
    COMMAND(
        "organizations properties", "schema", cmd_props_schema,
        "describe the properties that can be set", "[-o ORG]",
        "Describe every organization property: type, current value, default, whether it can be\n"
        "changed, what it means and the values it accepts.\n",
        "  pipecat cloud organizations properties schema\n"),
    COMMAND(
        "organizations properties", "set", cmd_props_set, "set an organization property",
        "NAME VALUE [-o ORG]",
        "Set property NAME to VALUE, for example\n"
        "    pipecat cloud organizations properties set defaultRegion eu-central\n"
        "See `organizations properties schema` for the names and values. Needs the admin role.\n",
        "  pipecat cloud organizations properties set defaultRegion eu-central\n"),
    COMMAND("regions", "list", cmd_regions_list, "list the regions agents can run in", "[-o ORG]",
            "List the regions agents and secret sets can be placed in: code and name.\n",
            "  pipecat cloud regions list\n"),
    COMMAND_END};
