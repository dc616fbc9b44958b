/* deploy_config.c: pcc-deploy.toml, the deploy file of the reference client
 * (docs/cli/deploy.md), read strictly: an unknown key or a value of the wrong type is an error that names
 * it, not something silently ignored. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"
#include "text.h"
#include "banned.h"

#define DEFAULT_DEPLOY_FILE "pcc-deploy.toml"

static int bad(struct cli *cli, const struct deploy_config *dc, const char *fmt, const char *key,
               const char *detail)
{
    char msg[512];
    snprintf(msg, sizeof msg, fmt, key, detail);
    out_error(cli, "invalid deploy file %s: %s", dc->path, msg);
    return EXIT_FAIL;
}

/* A string value under key (absent: *out untouched). */
static int get_string(struct cli *cli, const struct deploy_config *dc, const struct toml_table *t,
                      const char *key, const char **out)
{
    enum toml_type type = toml_type_of(t, key);
    if (type == TOML_NONE)
        return EXIT_OK;
    if (type != TOML_STRING)
        return bad(cli, dc, "%s must be a string%s", key, "");
    *out = toml_get_string(t, key);
    return EXIT_OK;
}

static int get_int(struct cli *cli, const struct deploy_config *dc, const struct toml_table *t,
                   const char *key, long min, long max, long *out, int *has)
{
    int64_t v;
    enum rc rc = toml_get_int(t, key, &v);
    if (rc == RC_NOT_FOUND)
        return EXIT_OK;
    if (rc != RC_OK)
        return bad(cli, dc, "%s must be an integer%s", key, "");
    if (v < min || v > max) {
        char range[64];
        if (max == 1000000)
            snprintf(range, sizeof range, " of at least %ld", min);
        else
            snprintf(range, sizeof range, " from %ld to %ld", min, max);
        return bad(cli, dc, "%s must be an integer%s", key, range);
    }
    *out = (long)v;
    *has = 1;
    return EXIT_OK;
}

static int only_keys(struct cli *cli, const struct deploy_config *dc, const struct toml_table *t,
                     const char *table, const char *const *allowed)
{
    for (size_t i = 0; i < toml_count(t); i++) {
        const char *key = toml_key_at(t, i);
        int ok = 0;
        for (const char *const *a = allowed; *a; a++)
            if (strcmp(*a, key) == 0)
                ok = 1;
        if (!ok) {
            char where[128];
            snprintf(where, sizeof where, "%s%s%s", table ? "[" : "", table ? table : "",
                     table ? "] " : "");
            return bad(cli, dc, "unknown key %s'%s'", where, key);
        }
    }
    return EXIT_OK;
}

/* min_agents, or its deprecated alias min_instances. */
static int scaling_int(struct cli *cli, const struct deploy_config *dc, const struct toml_table *t,
                       const char *name, const char *alias, long min, long *out, int *has)
{
    int has_alias = 0;
    long alias_value = 0;
    int status;
    if ((status = get_int(cli, dc, t, name, min, 1000000, out, has)) != EXIT_OK ||
        (status = get_int(cli, dc, t, alias, min, 1000000, &alias_value, &has_alias)) != EXIT_OK)
        return status;
    if (has_alias && *has)
        return bad(cli, dc, "[scaling] sets both %s and its deprecated alias %s", name, alias);
    if (has_alias) {
        out_warn(cli, "%s: [scaling] %s is deprecated; call it %s", dc->path, alias, name);
        *out = alias_value;
        *has = 1;
    }
    return EXIT_OK;
}

static int validate(struct cli *cli, struct deploy_config *dc)
{
    static const char *const top[] = {"agent_name",
                                      "image",
                                      "build_id",
                                      "image_credentials",
                                      "secret_set",
                                      "region",
                                      "enable_krisp",
                                      "agent_profile",
                                      "websocket_auth",
                                      "max_session_duration",
                                      "scaling",
                                      "krisp_viva",
                                      "build",
                                      "docker",
                                      NULL};
    static const char *const scaling[] = {"min_agents", "max_agents", "min_instances",
                                          "max_instances", NULL};
    static const char *const krisp[] = {"audio_filter", NULL};
    const struct toml_table *t = dc->doc;
    int status;
    if ((status = only_keys(cli, dc, t, NULL, top)) != EXIT_OK ||
        (status = get_string(cli, dc, t, "agent_name", &dc->agent_name)) != EXIT_OK ||
        (status = get_string(cli, dc, t, "image", &dc->image)) != EXIT_OK ||
        (status = get_string(cli, dc, t, "build_id", &dc->build_id)) != EXIT_OK ||
        (status = get_string(cli, dc, t, "image_credentials", &dc->image_credentials)) != EXIT_OK ||
        (status = get_string(cli, dc, t, "secret_set", &dc->secret_set)) != EXIT_OK ||
        (status = get_string(cli, dc, t, "region", &dc->region)) != EXIT_OK ||
        (status = get_string(cli, dc, t, "agent_profile", &dc->agent_profile)) != EXIT_OK ||
        (status = get_string(cli, dc, t, "websocket_auth", &dc->websocket_auth)) != EXIT_OK ||
        (status = get_int(cli, dc, t, "max_session_duration", 60, 14400, &dc->max_session_duration,
                          &dc->has_max_session_duration)) != EXIT_OK)
        return status;
    if (dc->image && !text_is_image_ref(dc->image))
        return bad(cli, dc, "image '%s' is not repository:tag (or repository@sha256:...)%s",
                   dc->image, "");
    if (dc->image && dc->build_id)
        return bad(cli, dc, "image and build_id exclude each other%s%s", "", "");
    if (dc->websocket_auth && strcmp(dc->websocket_auth, "none") != 0 &&
        strcmp(dc->websocket_auth, "token") != 0)
        return bad(cli, dc, "websocket_auth must be none or token, not '%s'%s", dc->websocket_auth,
                   "");
    if (toml_type_of(t, "enable_krisp") != TOML_NONE) {
        bool v;
        if (toml_get_bool(t, "enable_krisp", &v) != RC_OK)
            return bad(cli, dc, "%s must be true or false%s", "enable_krisp", "");
        dc->has_enable_krisp = 1;
        dc->enable_krisp = v;
    }
    static const char *const tables[] = {"scaling", "krisp_viva", "build", "docker"};
    for (size_t i = 0; i < sizeof tables / sizeof tables[0]; i++)
        if (toml_type_of(t, tables[i]) != TOML_NONE && !toml_get_table(t, tables[i]))
            return bad(cli, dc, "%s must be a table ([%s])", tables[i], tables[i]);

    const struct toml_table *sc = toml_get_table(t, "scaling");
    if (sc) {
        if ((status = only_keys(cli, dc, sc, "scaling", scaling)) != EXIT_OK ||
            (status = scaling_int(cli, dc, sc, "min_agents", "min_instances", 0, &dc->min_agents,
                                  &dc->has_min_agents)) != EXIT_OK ||
            (status = scaling_int(cli, dc, sc, "max_agents", "max_instances", 1, &dc->max_agents,
                                  &dc->has_max_agents)) != EXIT_OK)
            return status;
        if (dc->has_min_agents && dc->has_max_agents && dc->max_agents < dc->min_agents)
            return bad(cli, dc, "[scaling] max_agents must be at least min_agents%s%s", "", "");
    }
    const struct toml_table *kv = toml_get_table(t, "krisp_viva");
    if (kv) {
        if ((status = only_keys(cli, dc, kv, "krisp_viva", krisp)) != EXIT_OK ||
            (status = get_string(cli, dc, kv, "audio_filter", &dc->audio_filter)) != EXIT_OK)
            return status;
        if (dc->audio_filter && strcmp(dc->audio_filter, "tel") != 0 &&
            strcmp(dc->audio_filter, "pro") != 0)
            return bad(cli, dc, "[krisp_viva] audio_filter must be tel or pro, not '%s'%s",
                       dc->audio_filter, "");
    }
    const struct toml_table *build = toml_get_table(t, "build");
    if (build) {
        /* Only for cloud builds, which this client does not run; other keys are ignored as
         * the reference client ignores them. Types are still checked. */
        const char *unused = NULL;
        if ((status = get_string(cli, dc, build, "context_dir", &unused)) != EXIT_OK ||
            (status = get_string(cli, dc, build, "dockerfile", &unused)) != EXIT_OK)
            return status;
        if (toml_type_of(build, "exclude") != TOML_NONE) {
            const struct toml_table *ex = toml_get_table(build, "exclude");
            if (!ex)
                return bad(cli, dc, "[build] %s must be a table%s", "exclude", "");
            const struct toml_array *pat = toml_get_array(ex, "patterns");
            if (toml_type_of(ex, "patterns") != TOML_NONE && !pat)
                return bad(cli, dc, "[build.exclude] %s must be a list of strings%s", "patterns",
                           "");
            for (size_t i = 0; i < toml_array_len(pat); i++)
                if (!toml_array_string(pat, i))
                    return bad(cli, dc, "[build.exclude] %s must be a list of strings%s",
                               "patterns", "");
        }
    }
    return EXIT_OK;
}

int deploy_config_load(struct cli *cli, const char *explicit_path, struct deploy_config *dc)
{
    memset(dc, 0, sizeof *dc);
    const char *env = getenv("PIPECAT_DEPLOY_CONFIG_PATH");
    const char *path = explicit_path;
    int must_exist = 1;
    if (!path && env && *env)
        path = env;
    if (!path) {
        path = DEFAULT_DEPLOY_FILE;
        must_exist = 0;
    }
    snprintf(dc->path, sizeof dc->path, "%s", path);

    FILE *f = fopen(path, "rb");
    if (!f) {
        if (errno == ENOENT && !must_exist) {
            dc->path[0] = '\0';
            return EXIT_OK;
        }
        out_error(cli, "cannot read the deploy file %s%s: %s", path,
                  explicit_path ? " (--config-file)" : " (PIPECAT_DEPLOY_CONFIG_PATH)",
                  strerror(errno));
        return EXIT_FAIL;
    }
    struct buf raw;
    buf_init(&raw, TOML_MAX_SIZE);
    char chunk[8192];
    size_t n;
    enum rc rc = RC_OK;
    while (rc == RC_OK && (n = fread(chunk, 1, sizeof chunk, f)) > 0)
        rc = buf_add(&raw, chunk, n);
    int read_error = ferror(f);
    fclose(f);
    if (rc != RC_OK || read_error) {
        out_error(cli, "cannot read the deploy file %s: %s", path,
                  rc == RC_TOO_LARGE ? "larger than 1 MiB" : "read error");
        buf_release(&raw);
        return EXIT_FAIL;
    }
    char err[256];
    rc = toml_parse(buf_str(&raw), raw.len, &dc->doc, err, sizeof err);
    buf_release(&raw);
    if (rc != RC_OK) {
        out_error(cli, "invalid deploy file %s: %s", path, err);
        return EXIT_FAIL;
    }
    return validate(cli, dc);
}

void deploy_config_release(struct deploy_config *dc)
{
    toml_free(dc->doc);
    memset(dc, 0, sizeof *dc);
}
