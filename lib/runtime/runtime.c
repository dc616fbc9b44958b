/* runtime.c: adapter selection, engine socket discovery and the helpers every adapter and
 * caller shares (profile limits, CPU rates, labels). */
#include "runtime.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "banned.h"

const char *const runtime_default_sockets[] = {"/run/podman/podman.sock", "/var/run/docker.sock",
                                               NULL};

static int is_socket(const char *path)
{
    struct stat st;
    return stat(path, &st) == 0 && S_ISSOCK(st.st_mode);
}

static enum rc copy_path(const char *path, char *out, size_t outlen, char *err, size_t errlen)
{
    size_t len = strlen(path);
    if (len == 0 || len >= outlen || len >= RUNTIME_SOCKET_SIZE) {
        snprintf(err, errlen, "engine socket path is empty or longer than %d bytes",
                 RUNTIME_SOCKET_SIZE - 1);
        return RC_INVALID;
    }
    memcpy(out, path, len + 1);
    return RC_OK;
}

enum rc runtime_socket_find(const char *explicit_path, const char *docker_host,
                            const char *const *candidates, char *out, size_t outlen, char *err,
                            size_t errlen)
{
    if (explicit_path && *explicit_path)
        return copy_path(explicit_path, out, outlen, err, errlen);
    if (docker_host && strncmp(docker_host, "unix://", 7) == 0 && docker_host[7])
        return copy_path(docker_host + 7, out, outlen, err, errlen);
    size_t at = 0;
    char tried[512] = "";
    for (size_t i = 0; candidates && candidates[i]; i++) {
        if (is_socket(candidates[i]))
            return copy_path(candidates[i], out, outlen, err, errlen);
        int n = snprintf(tried + at, sizeof tried - at, "%s%s", at ? ", " : "", candidates[i]);
        if (n > 0 && (size_t)n < sizeof tried - at)
            at += (size_t)n;
    }
    snprintf(err, errlen, "no container engine socket found (tried %s)", at ? tried : "nothing");
    return RC_NOT_FOUND;
}

enum rc runtime_open(const char *spec, const char *docker_host, const char *const *candidates,
                     struct runtime **out, char *err, size_t errlen)
{
    *out = NULL;
    if (!spec || strcmp(spec, "none") == 0)
        return runtime_none_new(out);
    if (strcmp(spec, "docker") == 0 || strncmp(spec, "docker:", 7) == 0) {
        char path[RUNTIME_SOCKET_SIZE];
        enum rc rc = runtime_socket_find(spec[6] == ':' ? spec + 7 : NULL, docker_host, candidates,
                                         path, sizeof path, err, errlen);
        return rc != RC_OK ? rc : runtime_docker_new(path, out, err, errlen);
    }
    snprintf(err, errlen, "unknown runtime '%.64s': use none, docker or docker:SOCKET", spec);
    return RC_INVALID;
}

void runtime_free(struct runtime *rt)
{
    if (rt)
        rt->ops->free(rt);
}

enum rc runtime_profile_limits(const char *profile, int64_t *nano_cpus, int64_t *memory_bytes)
{
    static const struct {
        const char *name;
        int64_t nano_cpus, memory;
    } profiles[] = {
        {"agent-1x", 500000000, (int64_t)1 << 30},
        {"agent-2x", 1000000000, (int64_t)2 << 30},
    };
    for (size_t i = 0; i < sizeof profiles / sizeof profiles[0]; i++)
        if (profile && strcmp(profile, profiles[i].name) == 0) {
            *nano_cpus = profiles[i].nano_cpus;
            *memory_bytes = profiles[i].memory;
            return RC_OK;
        }
    return RC_INVALID;
}

int64_t runtime_millicores(const struct runtime_stats *before, const struct runtime_stats *after)
{
    if (after->at <= before->at || after->cpu_ns < before->cpu_ns)
        return 0;
    /* ns of CPU per ms of wall time: 1e6 ns/ms is one CPU, i.e. 1000 millicores. */
    return (int64_t)((after->cpu_ns - before->cpu_ns) / 1000 / (uint64_t)(after->at - before->at));
}

const char *runtime_label(const struct runtime_instance *inst, const char *key)
{
    for (size_t i = 0; i < inst->n_labels; i++)
        if (strcmp(inst->labels[i].key, key) == 0)
            return inst->labels[i].value;
    return NULL;
}

const char *runtime_state_name(enum runtime_state state)
{
    switch (state) {
    case RUNTIME_STATE_CREATED: return "created";
    case RUNTIME_STATE_RUNNING: return "running";
    case RUNTIME_STATE_EXITED: return "exited";
    default: return "unknown";
    }
}
