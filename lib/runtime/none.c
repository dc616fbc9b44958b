/* none.c: the runtime adapter of a pccd without a container engine. Every operation answers
 * RC_NO_RUNTIME, so the API says honestly that agents cannot start here. */
#include <stdio.h>
#include <stdlib.h>

#include "runtime.h"
#include "banned.h"

static enum rc refuse(char *err, size_t errlen)
{
    snprintf(err, errlen, "%s", rc_message(RC_NO_RUNTIME));
    return RC_NO_RUNTIME;
}

static void none_free(struct runtime *rt) { free(rt); }

static enum rc none_ping(struct runtime *rt, struct runtime_version *out, char *err, size_t errlen)
{
    (void)rt, (void)out;
    return refuse(err, errlen);
}

static enum rc none_image_inspect(struct runtime *rt, const char *image, struct runtime_image *out,
                                  char *err, size_t errlen)
{
    (void)rt, (void)image, (void)out;
    return refuse(err, errlen);
}

static enum rc none_image_pull(struct runtime *rt, const char *image,
                               const struct runtime_registry_auth *auth, char *err, size_t errlen)
{
    (void)rt, (void)image, (void)auth;
    return refuse(err, errlen);
}

static enum rc none_image_remove(struct runtime *rt, const char *image, char *err, size_t errlen)
{
    (void)rt, (void)image;
    return refuse(err, errlen);
}

static enum rc none_create(struct runtime *rt, const struct runtime_spec *spec,
                           struct runtime_instance *out, char *err, size_t errlen)
{
    (void)rt, (void)spec, (void)out;
    return refuse(err, errlen);
}

static enum rc none_inspect(struct runtime *rt, const char *id, struct runtime_instance *out,
                            char *err, size_t errlen)
{
    (void)rt, (void)id, (void)out;
    return refuse(err, errlen);
}

static enum rc none_stop(struct runtime *rt, const char *id, int timeout_s, char *err,
                         size_t errlen)
{
    (void)rt, (void)id, (void)timeout_s;
    return refuse(err, errlen);
}

static enum rc none_remove(struct runtime *rt, const char *id, char *err, size_t errlen)
{
    (void)rt, (void)id;
    return refuse(err, errlen);
}

static enum rc none_list(struct runtime *rt, const char *label, struct runtime_instance **list,
                         size_t *count, char *err, size_t errlen)
{
    (void)rt, (void)label;
    *list = NULL;
    *count = 0;
    return refuse(err, errlen);
}

static enum rc none_logs(struct runtime *rt, const char *id, int64_t since_ms, int follow,
                         runtime_log_fn fn, void *arg, char *err, size_t errlen)
{
    (void)rt, (void)id, (void)since_ms, (void)follow, (void)fn, (void)arg;
    return refuse(err, errlen);
}

static enum rc none_stats(struct runtime *rt, const char *id, struct runtime_stats *out, char *err,
                          size_t errlen)
{
    (void)rt, (void)id, (void)out;
    return refuse(err, errlen);
}

static enum rc none_wait(struct runtime *rt, const char *id, int timeout_ms, int *exit_code,
                         char *err, size_t errlen)
{
    (void)rt, (void)id, (void)timeout_ms, (void)exit_code;
    return refuse(err, errlen);
}

static const struct runtime_ops none_ops = {
    .free = none_free,
    .ping = none_ping,
    .image_inspect = none_image_inspect,
    .image_pull = none_image_pull,
    .image_remove = none_image_remove,
    .create = none_create,
    .inspect = none_inspect,
    .stop = none_stop,
    .remove = none_remove,
    .list = none_list,
    .logs = none_logs,
    .stats = none_stats,
    .wait = none_wait,
};

enum rc runtime_none_new(struct runtime **out)
{
    struct runtime *rt = calloc(1, sizeof *rt);
    *out = NULL;
    if (!rt)
        return RC_NOMEM;
    rt->ops = &none_ops;
    rt->kind = "none";
    rt->address = "";
    *out = rt;
    return RC_OK;
}
