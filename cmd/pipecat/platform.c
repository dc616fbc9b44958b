/* platform.c: what the organization-scoped commands (keys, properties, regions, secrets,
 * agents, deploy) share: paths under /v1/organizations/{org}, 404s that name what is missing,
 * the region check, and masking of secret values. */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"
#include "banned.h"

int platform_open(struct cli *cli, struct session *s, const char *flag_org)
{
    int status = session_open(cli, s, 1);
    if (status != EXIT_OK)
        return status;
    return session_resolve_org(s, flag_org);
}

static int add_segment(struct cli *cli, char *out, size_t size, size_t *len, const char *seg)
{
    char esc[1024];
    /* "", "." and ".." would change which resource the path names (or be normalised away by
     * a proxy): they are never valid names. */
    if (!*seg || strcmp(seg, ".") == 0 || strcmp(seg, "..") == 0) {
        out_error(cli, "invalid name '%s'", seg);
        return EXIT_USAGE;
    }
    if (client_escape_segment(seg, esc, sizeof esc) != RC_OK || *len + 1 + strlen(esc) >= size) {
        out_error(cli, "name too long: '%.40s...'", seg);
        return EXIT_USAGE;
    }
    *len += (size_t)snprintf(out + *len, size - *len, "/%s", esc);
    return EXIT_OK;
}

static int org_vpath(struct session *s, char *out, size_t size, va_list ap)
{
    size_t len = (size_t)snprintf(out, size, "/v1/organizations");
    int status = add_segment(s->cli, out, size, &len, s->org);
    const char *seg;
    while (status == EXIT_OK && (seg = va_arg(ap, const char *)) != NULL)
        status = add_segment(s->cli, out, size, &len, seg);
    return status;
}

int org_path(struct session *s, char *out, size_t size, ...)
{
    va_list ap;
    va_start(ap, size);
    int status = org_vpath(s, out, size, ap);
    va_end(ap);
    return status;
}

int org_request(struct cli *cli, struct session *s, const char *flag_org, const char *method,
                const json_t *body, struct client_reply *reply, ...)
{
    char path[1024];
    memset(reply, 0, sizeof *reply);
    int status = platform_open(cli, s, flag_org);
    if (status != EXIT_OK)
        return status;
    va_list ap;
    va_start(ap, reply);
    status = org_vpath(s, path, sizeof path, ap);
    va_end(ap);
    if (status != EXIT_OK)
        return status;
    return org_call(s, method, path, body, reply);
}

int path_query(struct cli *cli, char *path, size_t size, const char *key, const char *value)
{
    if (!value)
        return EXIT_OK;
    char esc[1024];
    size_t len = strlen(path);
    if (client_escape_segment(value, esc, sizeof esc) != RC_OK ||
        len + strlen(key) + strlen(esc) + 2 >= size) {
        out_error(cli, "value of %s too long", key);
        return EXIT_USAGE;
    }
    snprintf(path + len, size - len, "%c%s=%s", strchr(path, '?') ? '&' : '?', key, esc);
    return EXIT_OK;
}

int org_is_mine(struct session *s)
{
    json_t *orgs = session_orgs(s);
    if (!orgs)
        return -1;
    size_t i;
    json_t *o;
    json_array_foreach(orgs, i, o)
    {
        const char *name = json_string_value(json_object_get(o, "name"));
        if (name && strcmp(name, s->org) == 0)
            return 1;
    }
    return 0;
}

int org_not_found(struct session *s, const char *fmt, ...)
{
    int mine = org_is_mine(s);
    if (mine < 0)
        return EXIT_FAIL;
    if (!mine) {
        out_error(s->cli, "organization '%s' not found among yours (see `%s organizations list`)",
                  s->org, s->cli->prog);
        return EXIT_FAIL;
    }
    if (!fmt) {
        out_error(s->cli, "%s", s->not_found[0] ? s->not_found : "not found");
        return EXIT_FAIL;
    }
    char msg[512];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof msg, fmt, ap);
    va_end(ap);
    out_error(s->cli, "%s", msg);
    return EXIT_FAIL;
}

int org_call(struct session *s, const char *method, const char *path, const json_t *body,
             struct client_reply *reply)
{
    s->quiet_not_found = 1;
    int status = session_call(s, method, path, body, reply);
    s->quiet_not_found = 0;
    if (status == SESSION_NOT_FOUND)
        return org_not_found(s, NULL);
    return status;
}

/* --- regions ------------------------------------------------------------------------------ */

int regions_fetch(struct session *s, json_t **out)
{
    char path[512];
    struct client_reply r = {0};
    int status;
    if ((status = org_path(s, path, sizeof path, "regions", NULL)) != EXIT_OK ||
        (status = org_call(s, "GET", path, NULL, &r)) != EXIT_OK)
        return status;
    json_t *list = json_object_get(r.body, "regions");
    if (!json_is_array(list)) {
        out_error(s->cli, "unexpected answer from %s: no regions list", client_host(s->client));
        client_reply_release(&r);
        return EXIT_FAIL;
    }
    *out = json_incref(list);
    client_reply_release(&r);
    return EXIT_OK;
}

int region_check(struct session *s, const char *region)
{
    json_t *list = NULL;
    int status = regions_fetch(s, &list);
    if (status != EXIT_OK)
        return status;
    struct buf codes;
    buf_init(&codes, 4096);
    size_t i;
    json_t *r;
    int found = 0;
    json_array_foreach(list, i, r)
    {
        const char *code = json_string_value(json_object_get(r, "code"));
        if (!code)
            continue;
        if (strcmp(code, region) == 0)
            found = 1;
        buf_addf(&codes, "%s%s", codes.len ? ", " : "", code);
    }
    if (!found) {
        out_error(s->cli, "invalid region '%s': valid regions are %s (see `%s regions list`)",
                  region, codes.len ? buf_str(&codes) : "(none)", s->cli->prog);
        status = EXIT_USAGE;
    }
    buf_release(&codes);
    json_decref(list);
    return status;
}

/* --- secrets ------------------------------------------------------------------------------ */

const char *out_mask(const char *secret, char *out, size_t size)
{
    size_t n = strlen(secret);
    if (n < 12)
        snprintf(out, size, "**** (%zu characters)", n);
    else
        snprintf(out, size, "%.4s... (%zu characters)", secret, n);
    return out;
}

/* --- values ------------------------------------------------------------------------------- */

const char *json_text(const json_t *v, char *buf, size_t size, const char *missing)
{
    if (!v || json_is_null(v))
        return missing;
    if (json_is_string(v))
        return json_string_value(v);
    if (json_is_true(v))
        return "true";
    if (json_is_false(v))
        return "false";
    if (json_is_integer(v)) {
        snprintf(buf, size, "%lld", (long long)json_integer_value(v));
        return buf;
    }
    if (json_is_real(v)) {
        snprintf(buf, size, "%g", json_real_value(v));
        return buf;
    }
    char *dump = json_dumps(v, JSON_COMPACT);
    snprintf(buf, size, "%s", dump ? dump : "");
    free(dump);
    return buf;
}

int runtime_attached(const json_t *status)
{
    const char *runtime = json_string_value(json_object_get(status, "runtime"));
    return !(runtime && strcmp(runtime, "none") == 0);
}
