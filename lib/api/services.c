/* services.c: services (agents) and their deployments: list, deploy (POST creates, PUT on the
 * collection updates), status, delete, and the logs/deployments/sessions views. The runtime
 * adapter is "none" (docs/runtime.md): a deployment is active at once, nothing runs. */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "internal.h"
#include "text.h"
#include "banned.h"

#define MIN_AGENTS_DEFAULT 0
#define MAX_AGENTS_LIMIT 50
#define MAX_AGENTS_DEFAULT MAX_AGENTS_LIMIT
#define SESSION_SECONDS_MIN 60
#define SESSION_SECONDS_MAX 14400
#define SESSION_SECONDS_DEFAULT 7200
#define LOG_LIMIT_MAX 10000
#define NODE_TYPE "arm"
#define NO_RUNTIME_MESSAGE                                                                         \
    "no agent runtime is attached to this pccd (runtime adapter 'none'): deployments are "         \
    "recorded as desired state, no agent runs and sessions cannot be started"

/* Agent profiles and the resources each one stands for. */
static const struct profile {
    const char *name, *cpu, *memory;
} profiles[] = {
    {"agent-1x", "500m", "1Gi"},
    {"agent-2x", "1", "2Gi"},
    {"agent-3x", "1500m", "3Gi"},
};
#define PROFILE_DEFAULT "agent-1x"

static const struct profile *find_profile(const char *name)
{
    for (size_t i = 0; i < sizeof profiles / sizeof profiles[0]; i++)
        if (strcmp(profiles[i].name, name) == 0)
            return &profiles[i];
    return NULL;
}

/* --- JSON forms ---------------------------------------------------------------------------- */

static json_t *text_or_null(const char *s) { return s[0] ? json_string(s) : json_null(); }

static json_t *manifest_json(const struct store_org *org, const struct store_service *svc,
                             const struct store_deployment *d)
{
    const struct profile *p = find_profile(d->agent_profile);
    json_t *secrets = json_array();
    if (d->secret_set[0])
        json_array_append_new(secrets, json_string(d->secret_set));
    json_t *spec = json_pack(
        "{s:s, s:s, s:{s:i, s:i}, s:o, s:{s:s, s:s}, s:{s:o}, s:b, s:i, s:s, s:s}", "dailyNodeType",
        NODE_TYPE, "image", d->image, "autoScaling", "minReplicas", svc->min_agents, "maxReplicas",
        svc->max_agents, "envFromSecretNames", secrets, "resources", "cpu", p ? p->cpu : "",
        "memory", p ? p->memory : "", "krispViva", "audioFilter",
        text_or_null(d->krisp_viva_filter), "enableKrisp", d->enable_krisp,
        "maxSessionDurationSeconds", d->max_session_duration, "agentProfile", d->agent_profile,
        "websocketAuth", d->websocket_auth);
    if (spec && d->image_pull_secret_set[0])
        json_object_set_new(spec, "imagePullSecretName", json_string(d->image_pull_secret_set));
    if (spec && d->build_id[0])
        json_object_set_new(spec, "buildId", json_string(d->build_id));
    return json_pack("{s:s, s:s, s:{s:s, s:s}, s:o}", "apiVersion", "pcc/v1", "kind", "Agent",
                     "metadata", "name", svc->name, "namespace", org->name, "spec", spec);
}

static json_t *deployment_json(const struct store_org *org, const struct store_service *svc,
                               const struct store_deployment *d)
{
    return json_pack("{s:s, s:s, s:i, s:o, s:o, s:o, s:b}", "id", d->id, "serviceId", svc->id,
                     "revision", d->revision, "manifest", manifest_json(org, svc, d), "createdAt",
                     api_time(d->created_at), "updatedAt", api_time(d->created_at), "active",
                     strcmp(d->id, svc->active_deployment_id) == 0);
}

/* The fields of a service that lists and the status share. The desired, reconciled and
 * active deployment are one: with no runtime, what is recorded is what there is. */
static json_t *service_summary_json(const struct store_org *org, const struct store_service *svc)
{
    return json_pack("{s:s, s:s, s:s, s:s, s:s, s:s, s:s, s:o, s:o, s:n}", "id", svc->id, "name",
                     svc->name, "region", svc->region, "organizationId", org->id,
                     "activeDeploymentId", svc->active_deployment_id, "desiredDeploymentId",
                     svc->active_deployment_id, "reconciledDeploymentId", svc->active_deployment_id,
                     "createdAt", api_time(svc->created_at), "updatedAt", api_time(svc->updated_at),
                     "deletedAt");
}

static json_t *condition(const char *type, const char *status, const char *reason,
                         const char *message, int64_t since)
{
    return json_pack("{s:s, s:s, s:s, s:s, s:o}", "type", type, "status", status, "reason", reason,
                     "message", message, "lastTransitionTime", api_time(since));
}

/* The status the reference client reads (docs/api/services.md): ready and available, so its
 * deploy poll ends at once, with a condition and a revision health saying nothing runs. */
static json_t *service_status_json(const struct store_org *org, const struct store_service *svc,
                                   const struct store_deployment *d)
{
    json_t *obj = service_summary_json(org, svc);
    if (!obj)
        return NULL;
    json_t *conditions = json_pack(
        "[o, o, o, o]",
        condition("Available", "True", "DeploymentActive",
                  "the active deployment is the desired configuration", d->created_at),
        condition("Progressing", "False", "DeploymentActive", "nothing is being rolled out",
                  d->created_at),
        condition("Degraded", "False", "NoRuntime", "nothing runs, so nothing has failed",
                  d->created_at),
        condition("RuntimeAttached", "False", "NoRuntime", NO_RUNTIME_MESSAGE, d->created_at));
    /* No lastExitCode nor lastTerminationReason: nothing has run, so nothing has exited (the
     * reference client would print a 0 as "NoRuntime (exit 0)"). */
    json_t *revision = json_pack(
        "{s:s, s:s, s:i, s:o, s:b, s:{s:b, s:s, s:s, s:s, s:s, s:i, s:i}}", "deploymentID", d->id,
        "phase", "Active", "readyReplicas", 0, "phaseStartedAt", api_time(d->created_at),
        "hasInfrastructureIssue", 0, "health", "ready", 0, "state", "waiting", "reason",
        "NoRuntime", "headline", "No agent runtime is attached: nothing runs this deployment",
        "message", NO_RUNTIME_MESSAGE, "restartCount", 0, "replicasStarted", 0);
    json_t *extra = json_pack(
        "{s:b, s:b, s:b, s:{s:i, s:i}, s:i, s:s, s:{s:o}, s:s, s:i, s:s, s:o, s:o, s:o, s:[]}",
        "ready", 1, "available", 1, "activeDeploymentReady", 1, "autoScaling", "minReplicas",
        svc->min_agents, "maxReplicas", svc->max_agents, "activeSessionCount", 0, "agentProfile",
        d->agent_profile, "krispViva", "audioFilter", text_or_null(d->krisp_viva_filter),
        "websocketAuth", d->websocket_auth, "maxSessionDuration", d->max_session_duration,
        "runtime", "none", "deployment", deployment_json(org, svc, d), "conditions", conditions,
        "currentRevision", revision, "errors");
    if (!extra || json_object_update(obj, extra) != 0) {
        json_decref(extra);
        json_decref(obj);
        return NULL;
    }
    json_decref(extra);
    return obj;
}

/* --- lookups ------------------------------------------------------------------------------- */

static void service_not_found(struct http_request *req, struct http_response *res, const char *name,
                              const struct store_org *org)
{
    char msg[200];
    snprintf(msg, sizeof msg, "service '%.64s' not found in organization '%s'", name, org->name);
    http_error(req, res, RC_NOT_FOUND, msg);
}

/* The caller's org and the service named in the path; on failure the 404 or 5xx is in res. */
static enum rc find_service(struct http_request *req, struct http_response *res,
                            struct store_org *org, struct store_service *out)
{
    enum rc rc = api_member_org(req, res, org);
    if (rc != RC_OK)
        return rc;
    const char *name = http_param(req, "service");
    rc = text_is_service_name(name) ? store_service_by_name(APP(req)->store, org->id, name, out)
                                    : RC_NOT_FOUND;
    if (rc == RC_NOT_FOUND)
        service_not_found(req, res, name, org);
    else if (rc != RC_OK)
        api_store_error(req, res, rc);
    return rc;
}

static enum rc active_deployment(struct http_request *req, struct http_response *res,
                                 const struct store_service *svc, struct store_deployment *out)
{
    enum rc rc = store_deployment_by_id(APP(req)->store, svc->id, svc->active_deployment_id, out);
    if (rc != RC_OK) /* a service always has its active deployment: anything else is internal */
        api_store_error(req, res, rc == RC_NOT_FOUND ? RC_STORE : rc);
    return rc;
}

/* --- deploy -------------------------------------------------------------------------------- */

/* The fields of a deploy request that an update keeps when the request leaves them out. */
enum deploy_field {
    FIELD_IMAGE = 1u << 0, /* image or buildId */
    FIELD_SECRET_SET = 1u << 1,
    FIELD_PULL_SET = 1u << 2,
    FIELD_MIN_AGENTS = 1u << 3,
    FIELD_MAX_AGENTS = 1u << 4,
    FIELD_PROFILE = 1u << 5,
    FIELD_WEBSOCKET_AUTH = 1u << 6,
    FIELD_KRISP_VIVA = 1u << 7,
    FIELD_ENABLE_KRISP = 1u << 8,
    FIELD_SESSION_DURATION = 1u << 9,
};

/* A deploy request, read and checked from its body. Fields it leaves out hold their defaults
 * (what a create uses) and are not in given; an update replaces them by the service's current
 * values (keep_unsent), so a redeploy changes only what it names. A field sent as null is
 * given: it asks for the default again (null secretSet: none). */
struct deploy_request {
    const char *name;
    const char *region; /* NULL: the service's, or the organization's default */
    int force;
    unsigned given;               /* enum deploy_field: what the body holds */
    struct store_service scaling; /* min_agents, max_agents */
    struct store_deployment dep;  /* the configuration */
};

/* 1 when obj holds key, even as null. */
static int has(const json_t *obj, const char *key) { return obj && json_object_get(obj, key); }

static enum rc fail_field(char *err, size_t errlen, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
static enum rc fail_field(char *err, size_t errlen, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(err, errlen, fmt, ap);
    va_end(ap);
    return RC_INVALID;
}

/* obj[key] as an integer in [min, max], def when absent or null. */
static enum rc get_int(const json_t *obj, const char *key, const char *field, int min, int max,
                       int def, int *out, char *err, size_t errlen)
{
    json_t *v = json_object_get(obj, key);
    if (!v || json_is_null(v)) {
        *out = def;
        return RC_OK;
    }
    if (!json_is_integer(v) || json_integer_value(v) < min || json_integer_value(v) > max)
        return fail_field(err, errlen, "field \"%s\" must be an integer from %d to %d", field, min,
                          max);
    *out = (int)json_integer_value(v);
    return RC_OK;
}

/* obj[key] as a boolean, 0 when absent or null. */
static enum rc get_bool(const json_t *obj, const char *key, int *out, char *err, size_t errlen)
{
    json_t *v = json_object_get(obj, key);
    if (v && !json_is_null(v) && !json_is_boolean(v))
        return fail_field(err, errlen, "field \"%s\" must be true or false", key);
    *out = json_is_true(v);
    return RC_OK;
}

/* obj[key] as a string of 1..max bytes, or NULL when absent or null. */
static enum rc get_text(const json_t *obj, const char *key, const char *field, size_t max,
                        const char **out, char *err, size_t errlen)
{
    json_t *v = json_object_get(obj, key);
    *out = NULL;
    if (!v || json_is_null(v))
        return RC_OK;
    if (!json_is_string(v) || json_string_length(v) == 0 || json_string_length(v) > max)
        return fail_field(err, errlen, "field \"%s\" must be a string of 1 to %zu characters",
                          field, max);
    *out = json_string_value(v);
    return RC_OK;
}

/* An optional nested object (e.g. autoScaling) that may hold only the allowed keys; *out NULL
 * when absent or null. */
static enum rc get_object(const json_t *obj, const char *key, const char *const allowed[],
                          const json_t **out, char *err, size_t errlen)
{
    json_t *v = json_object_get(obj, key);
    *out = NULL;
    if (!v || json_is_null(v))
        return RC_OK;
    if (!json_is_object(v))
        return fail_field(err, errlen, "field \"%s\" must be an object", key);
    const char *k;
    json_t *value;
    json_object_foreach(v, k, value)
    {
        int known = 0;
        for (size_t i = 0; allowed[i]; i++)
            known |= strcmp(k, allowed[i]) == 0;
        if (!known)
            return fail_field(err, errlen, "unknown field \"%s.%.64s\"", key, k);
    }
    *out = v;
    return RC_OK;
}

static enum rc read_scaling(const json_t *body, struct deploy_request *r, char *err, size_t errlen)
{
    static const char *const fields[] = {"minAgents", "maxAgents", NULL};
    const json_t *as;
    enum rc rc = get_object(body, "autoScaling", fields, &as, err, errlen);
    if (rc == RC_OK)
        rc = get_int(as, "minAgents", "autoScaling.minAgents", 0, MAX_AGENTS_LIMIT,
                     MIN_AGENTS_DEFAULT, &r->scaling.min_agents, err, errlen);
    if (rc == RC_OK)
        rc = get_int(as, "maxAgents", "autoScaling.maxAgents", 1, MAX_AGENTS_LIMIT,
                     MAX_AGENTS_DEFAULT, &r->scaling.max_agents, err, errlen);
    /* "autoScaling": null asks for both defaults; an object names each bound it sets. */
    int null_scaling = has(body, "autoScaling") && !as;
    if (null_scaling || has(as, "minAgents"))
        r->given |= FIELD_MIN_AGENTS;
    if (null_scaling || has(as, "maxAgents"))
        r->given |= FIELD_MAX_AGENTS;
    return rc;
}

/* After keep_unsent: the bounds must still be in order, whichever of them was sent. */
static enum rc check_scaling(const struct deploy_request *r, char *err, size_t errlen)
{
    if (r->scaling.max_agents >= r->scaling.min_agents)
        return RC_OK;
    return fail_field(
        err, errlen,
        "field \"autoScaling.maxAgents\" (%d%s) must be at least "
        "autoScaling.minAgents (%d%s)",
        r->scaling.max_agents, r->given & FIELD_MAX_AGENTS ? "" : ", the current value",
        r->scaling.min_agents, r->given & FIELD_MIN_AGENTS ? "" : ", the current value");
}

static enum rc read_choices(const json_t *body, struct store_deployment *d, char *err,
                            size_t errlen)
{
    static const char *const krisp_fields[] = {"audioFilter", NULL};
    const char *profile, *ws, *filter = NULL, *node;
    const json_t *krisp;
    enum rc rc = get_text(body, "agentProfile", "agentProfile", 16, &profile, err, errlen);
    if (rc != RC_OK)
        return rc;
    if (profile && !find_profile(profile))
        return fail_field(err, errlen,
                          "field \"agentProfile\" must be agent-1x, agent-2x or "
                          "agent-3x");
    store_copy_field(d->agent_profile, sizeof d->agent_profile,
                     profile ? profile : PROFILE_DEFAULT);
    if ((rc = get_text(body, "websocketAuth", "websocketAuth", 16, &ws, err, errlen)) != RC_OK)
        return rc;
    if (ws && strcmp(ws, "none") != 0 && strcmp(ws, "token") != 0)
        return fail_field(err, errlen, "field \"websocketAuth\" must be \"none\" or \"token\"");
    store_copy_field(d->websocket_auth, sizeof d->websocket_auth, ws ? ws : "token");
    if ((rc = get_object(body, "krispViva", krisp_fields, &krisp, err, errlen)) != RC_OK ||
        (rc = get_text(krisp, "audioFilter", "krispViva.audioFilter", 16, &filter, err, errlen)) !=
            RC_OK)
        return rc;
    if (filter && strcmp(filter, "tel") != 0 && strcmp(filter, "pro") != 0)
        return fail_field(err, errlen,
                          "field \"krispViva.audioFilter\" must be \"tel\" or "
                          "\"pro\"");
    store_copy_field(d->krisp_viva_filter, sizeof d->krisp_viva_filter, filter);
    if ((rc = get_bool(body, "enableKrisp", &d->enable_krisp, err, errlen)) != RC_OK)
        return rc;
    if ((rc = get_text(body, "nodeType", "nodeType", 16, &node, err, errlen)) != RC_OK)
        return rc;
    if (node && strcmp(node, NODE_TYPE) != 0)
        return fail_field(err, errlen, "field \"nodeType\" must be \"" NODE_TYPE "\"");
    return get_int(body, "maxSessionDuration", "maxSessionDuration", SESSION_SECONDS_MIN,
                   SESSION_SECONDS_MAX, SESSION_SECONDS_DEFAULT, &d->max_session_duration, err,
                   errlen);
}

static enum rc read_deploy_request(const json_t *body, struct deploy_request *r, char *err,
                                   size_t errlen)
{
    const char *image, *build, *secret_set, *pull_set;
    int ignored;
    memset(r, 0, sizeof *r);
    enum rc rc = get_text(body, "serviceName", "serviceName", 64, &r->name, err, errlen);
    if (rc != RC_OK)
        return rc;
    if (!r->name || !text_is_service_name(r->name))
        return fail_field(err, errlen,
                          "field \"serviceName\" must be 1 to %d of a-z, 0-9 and "
                          "'-', starting and ending with a letter or digit",
                          TEXT_SERVICE_NAME_MAX);
    if ((rc = get_text(body, "image", "image", TEXT_IMAGE_MAX, &image, err, errlen)) != RC_OK ||
        (rc = get_text(body, "buildId", "buildId", ID_BUF_SIZE - 1, &build, err, errlen)) != RC_OK)
        return rc;
    if (image && build)
        return fail_field(err, errlen, "give exactly one of the fields \"image\" and \"buildId\"");
    if (image || build)
        r->given |= FIELD_IMAGE;
    if (image && !text_is_image_ref(image))
        return fail_field(err, errlen,
                          "field \"image\" must be an image reference with a tag, "
                          "such as repo/agent:1.0");
    store_copy_field(r->dep.image, sizeof r->dep.image, image);
    store_copy_field(r->dep.build_id, sizeof r->dep.build_id, build);
    if ((rc = get_text(body, "region", "region", STORE_REGION_SIZE - 1, &r->region, err, errlen)) !=
            RC_OK ||
        (rc = get_text(body, "secretSet", "secretSet", STORE_SET_NAME_SIZE - 1, &secret_set, err,
                       errlen)) != RC_OK ||
        (rc = get_text(body, "imagePullSecretSet", "imagePullSecretSet", STORE_SET_NAME_SIZE - 1,
                       &pull_set, err, errlen)) != RC_OK)
        return rc;
    store_copy_field(r->dep.secret_set, sizeof r->dep.secret_set, secret_set);
    store_copy_field(r->dep.image_pull_secret_set, sizeof r->dep.image_pull_secret_set, pull_set);
    if ((rc = read_scaling(body, r, err, errlen)) != RC_OK ||
        (rc = read_choices(body, &r->dep, err, errlen)) != RC_OK ||
        (rc = get_bool(body, "forceRedeploy", &r->force, err, errlen)) != RC_OK)
        return rc;
    static const struct {
        const char *key;
        unsigned field;
    } presence[] = {
        {"secretSet", FIELD_SECRET_SET},
        {"imagePullSecretSet", FIELD_PULL_SET},
        {"agentProfile", FIELD_PROFILE},
        {"websocketAuth", FIELD_WEBSOCKET_AUTH},
        {"krispViva", FIELD_KRISP_VIVA},
        {"enableKrisp", FIELD_ENABLE_KRISP},
        {"maxSessionDuration", FIELD_SESSION_DURATION},
    };
    for (size_t i = 0; i < sizeof presence / sizeof presence[0]; i++)
        if (has(body, presence[i].key))
            r->given |= presence[i].field;
    /* Sent by clients before 0.4.0; accepted and ignored. */
    return get_bool(body, "enableIntegratedKeysProxy", &ignored, err, errlen);
}

/* Check that set (a field of the request) exists in org, is of kind and lives in region.
 * On failure the 404 / 400 / 409 naming the field is in res. */
static enum rc check_set(struct http_request *req, struct http_response *res,
                         const struct store_org *org, const char *field, const char *name,
                         const char *kind, const char *region)
{
    struct store_secret_set set;
    char msg[300];
    enum rc rc = text_is_secret_set_name(name)
                     ? store_secret_set_by_name(APP(req)->store, org->id, name, &set)
                     : RC_NOT_FOUND;
    if (rc == RC_NOT_FOUND) {
        snprintf(msg, sizeof msg, "field \"%s\": %s '%.64s' not found in organization '%s'", field,
                 strcmp(kind, "secret") == 0 ? "Secret set" : "Image pull secret", name, org->name);
        http_error(req, res, RC_NOT_FOUND, msg);
        return rc;
    }
    if (rc != RC_OK) {
        api_store_error(req, res, rc);
        return rc;
    }
    if (strcmp(set.kind, kind) != 0) {
        snprintf(msg, sizeof msg, "field \"%s\": '%s' is %s", field, set.name,
                 strcmp(set.kind, "secret") == 0 ? "a secret set, not an image pull secret"
                                                 : "an image pull secret, not a secret set");
        http_error(req, res, RC_INVALID, msg);
        return RC_INVALID;
    }
    if (strcmp(set.region, region) != 0) {
        snprintf(msg, sizeof msg,
                 "field \"%s\": '%s' is in region '%s' but the service is in "
                 "'%s': secret sets must be in the service's region",
                 field, set.name, set.region, region);
        http_error(req, res, RC_CONFLICT, msg);
        return RC_CONFLICT;
    }
    return RC_OK;
}

static int same_configuration(const struct store_deployment *a, const struct store_deployment *b)
{
    return strcmp(a->image, b->image) == 0 && strcmp(a->build_id, b->build_id) == 0 &&
           strcmp(a->secret_set, b->secret_set) == 0 &&
           strcmp(a->image_pull_secret_set, b->image_pull_secret_set) == 0 &&
           strcmp(a->agent_profile, b->agent_profile) == 0 &&
           strcmp(a->krisp_viva_filter, b->krisp_viva_filter) == 0 &&
           a->enable_krisp == b->enable_krisp &&
           strcmp(a->websocket_auth, b->websocket_auth) == 0 &&
           a->max_session_duration == b->max_session_duration;
}

/* An update keeps what the request leaves out: the service's scaling and the active
 * deployment's configuration, field by field. */
static void keep_unsent(struct deploy_request *r, const struct store_service *svc,
                        const struct store_deployment *cur)
{
    struct store_deployment *d = &r->dep;
    unsigned given = r->given;
    if (!(given & FIELD_IMAGE)) {
        store_copy_field(d->image, sizeof d->image, cur->image);
        store_copy_field(d->build_id, sizeof d->build_id, cur->build_id);
    }
    if (!(given & FIELD_SECRET_SET))
        store_copy_field(d->secret_set, sizeof d->secret_set, cur->secret_set);
    if (!(given & FIELD_PULL_SET))
        store_copy_field(d->image_pull_secret_set, sizeof d->image_pull_secret_set,
                         cur->image_pull_secret_set);
    if (!(given & FIELD_MIN_AGENTS))
        r->scaling.min_agents = svc->min_agents;
    if (!(given & FIELD_MAX_AGENTS))
        r->scaling.max_agents = svc->max_agents;
    if (!(given & FIELD_PROFILE))
        store_copy_field(d->agent_profile, sizeof d->agent_profile, cur->agent_profile);
    if (!(given & FIELD_WEBSOCKET_AUTH))
        store_copy_field(d->websocket_auth, sizeof d->websocket_auth, cur->websocket_auth);
    if (!(given & FIELD_KRISP_VIVA))
        store_copy_field(d->krisp_viva_filter, sizeof d->krisp_viva_filter, cur->krisp_viva_filter);
    if (!(given & FIELD_ENABLE_KRISP))
        d->enable_krisp = cur->enable_krisp;
    if (!(given & FIELD_SESSION_DURATION))
        d->max_session_duration = cur->max_session_duration;
}

/* POST (create) and PUT (update) of .../services: validate, check the secret sets, write the
 * service and a deployment in one transaction, answer with the new status. An update changes
 * only the fields the request holds (keep_unsent). */
static void deploy(struct http_request *req, struct http_response *res, int create)
{
    static const char *const fields[] = {"serviceName",
                                         "image",
                                         "buildId",
                                         "imagePullSecretSet",
                                         "secretSet",
                                         "region",
                                         "autoScaling",
                                         "enableKrisp",
                                         "agentProfile",
                                         "krispViva",
                                         "forceRedeploy",
                                         "websocketAuth",
                                         "maxSessionDuration",
                                         "nodeType",
                                         "enableIntegratedKeysProxy",
                                         NULL};
    struct api_app *app = APP(req);
    struct store_org org;
    struct store_service svc = {0};
    struct store_deployment current;
    struct deploy_request r;
    char err[300] = "";
    json_t *body = NULL;
    if (api_member_org(req, res, &org) != RC_OK || !(body = http_json_body(req, res, fields)))
        return;
    enum rc rc = read_deploy_request(body, &r, err, sizeof err);
    if (rc != RC_OK) {
        http_error(req, res, rc, err);
        goto out;
    }
    if (r.region && !api_region_known(app, r.region)) {
        api_unknown_region(req, res, "region", r.region);
        goto out;
    }
    rc = store_service_by_name(app->store, org.id, r.name, &svc);
    if (rc != RC_OK && rc != RC_NOT_FOUND) {
        api_store_error(req, res, rc);
        goto out;
    }
    if (create && rc == RC_OK) {
        snprintf(err, sizeof err,
                 "service '%s' already exists in organization '%s': update it "
                 "with PUT .../services",
                 r.name, org.name);
        http_error(req, res, RC_CONFLICT, err);
        goto out;
    }
    if (!create && rc == RC_NOT_FOUND) {
        service_not_found(req, res, r.name, &org);
        goto out;
    }
    if (!create && r.region && strcmp(r.region, svc.region) != 0) {
        snprintf(err, sizeof err,
                 "service '%s' lives in region '%s', not '%s': a service "
                 "cannot move (delete it and deploy it again)",
                 svc.name, svc.region, r.region);
        http_error(req, res, RC_CONFLICT, err);
        goto out;
    }
    if (!create && active_deployment(req, res, &svc, &current) != RC_OK)
        goto out;
    if (create && !(r.given & FIELD_IMAGE)) {
        http_error(req, res, RC_INVALID,
                   "give exactly one of the fields \"image\" and \"buildId\"");
        goto out;
    }
    if (!create)
        keep_unsent(&r, &svc, &current);
    if ((rc = check_scaling(&r, err, sizeof err)) != RC_OK) {
        http_error(req, res, rc, err);
        goto out;
    }
    if (create) {
        if (r.region)
            store_copy_field(svc.region, sizeof svc.region, r.region);
        else if ((rc = api_default_region(app, &org, svc.region)) != RC_OK) {
            api_store_error(req, res, rc);
            goto out;
        }
    }
    if (r.dep.build_id[0]) {
        snprintf(err, sizeof err,
                 "field \"buildId\": build '%.40s' not found (cloud builds are "
                 "not available on this pccd)",
                 r.dep.build_id);
        http_error(req, res, RC_NOT_FOUND, err);
        goto out;
    }
    /* A set kept from the active deployment is checked too, and named as kept. */
    if ((r.dep.secret_set[0] &&
         check_set(req, res, &org,
                   r.given & FIELD_SECRET_SET ? "secretSet"
                                              : "secretSet (kept from the active deployment)",
                   r.dep.secret_set, "secret", svc.region) != RC_OK) ||
        (r.dep.image_pull_secret_set[0] &&
         check_set(req, res, &org,
                   r.given & FIELD_PULL_SET
                       ? "imagePullSecretSet"
                       : "imagePullSecretSet (kept from the active deployment)",
                   r.dep.image_pull_secret_set, "imagePullSecret", svc.region) != RC_OK))
        goto out;

    int64_t now = auth_now(&app->auth);
    int new_deployment = create || r.force || !same_configuration(&r.dep, &current);
    int rescaled = !create && (svc.min_agents != r.scaling.min_agents ||
                               svc.max_agents != r.scaling.max_agents);
    svc.min_agents = r.scaling.min_agents;
    svc.max_agents = r.scaling.max_agents;
    token_new_id("dep_", r.dep.id);
    store_copy_field(r.dep.created_by, sizeof r.dep.created_by, CALLER(req)->user.id);
    r.dep.created_at = now;
    if (create) {
        token_new_id("svc_", svc.id);
        store_copy_field(svc.org_id, sizeof svc.org_id, org.id);
        store_copy_field(svc.name, sizeof svc.name, r.name);
        svc.created_at = svc.updated_at = now;
        rc = store_service_create(app->store, &svc, &r.dep);
    } else if (new_deployment || rescaled) {
        svc.updated_at = now;
        rc = store_service_update(app->store, &svc, new_deployment ? &r.dep : NULL);
        if (rc == RC_OK && new_deployment)
            store_copy_field(svc.active_deployment_id, sizeof svc.active_deployment_id, r.dep.id);
    }
    if (rc == RC_CONFLICT || rc == RC_NOT_FOUND) {
        snprintf(err, sizeof err, "service '%s' was %s at the same time; try again", r.name,
                 rc == RC_CONFLICT ? "created or changed" : "deleted");
        http_error(req, res, rc, err);
        goto out;
    }
    if (rc != RC_OK) {
        api_store_error(req, res, rc);
        goto out;
    }
    const struct store_deployment *active = new_deployment ? &r.dep : &current;
    if (new_deployment || rescaled)
        api_audit(req, new_deployment ? "service.deployed" : "service.scaled", org.id,
                  json_pack("{s:s, s:s, s:s, s:i, s:b}", "service", svc.name, "region", svc.region,
                            "deploymentId", active->id, "revision", active->revision, "created",
                            create));
    json_t *reply = service_status_json(&org, &svc, active);
    if (reply && !new_deployment)
        json_object_set_new(reply, "warning",
                            json_string(rescaled ? "only the scaling changed: no new deployment"
                                                 : "the configuration is unchanged: no new "
                                                   "deployment (use --force to redeploy)"));
    api_reply(req, res, create ? 201 : 200, reply);
out:
    json_decref(body);
}

void api_create_service(struct http_request *req, struct http_response *res)
{
    deploy(req, res, 1);
}

void api_update_service(struct http_request *req, struct http_response *res)
{
    deploy(req, res, 0);
}

/* --- reads and delete ---------------------------------------------------------------------- */

void api_list_services(struct http_request *req, struct http_response *res)
{
    struct store_org org;
    int failed;
    if (api_member_org(req, res, &org) != RC_OK)
        return;
    const char *region = api_region_filter(req, res, &failed);
    if (failed)
        return;
    const char *include = http_query(req, "includeActiveDeployment");
    int with_deployment = include && (strcmp(include, "true") == 0 || strcmp(include, "1") == 0);
    struct store_service *list = NULL;
    size_t count = 0;
    enum rc rc = store_services_for_org(APP(req)->store, org.id, region, &list, &count);
    if (rc != RC_OK) {
        api_store_error(req, res, rc);
        return;
    }
    json_t *services = json_array();
    for (size_t i = 0; i < count && rc == RC_OK; i++) {
        json_t *item = service_summary_json(&org, &list[i]);
        struct store_deployment d;
        if (item && with_deployment &&
            (rc = store_deployment_by_id(APP(req)->store, list[i].id, list[i].active_deployment_id,
                                         &d)) == RC_OK)
            json_object_set_new(item, "deployment", deployment_json(&org, &list[i], &d));
        json_array_append_new(services, item);
    }
    store_free_list(list);
    if (rc != RC_OK) {
        json_decref(services);
        api_store_error(req, res, rc == RC_NOT_FOUND ? RC_STORE : rc);
        return;
    }
    api_reply(req, res, 200, json_pack("{s:o}", "services", services));
}

void api_get_service(struct http_request *req, struct http_response *res)
{
    struct store_org org;
    struct store_service svc;
    struct store_deployment d;
    if (find_service(req, res, &org, &svc) != RC_OK ||
        active_deployment(req, res, &svc, &d) != RC_OK)
        return;
    /* Wrapped in "body", as the reference client reads it. */
    api_reply(req, res, 200, json_pack("{s:o}", "body", service_status_json(&org, &svc, &d)));
}

void api_delete_service(struct http_request *req, struct http_response *res)
{
    struct store_org org;
    struct store_service svc;
    if (find_service(req, res, &org, &svc) != RC_OK)
        return;
    enum rc rc = store_service_delete(APP(req)->store, org.id, svc.name);
    if (rc == RC_NOT_FOUND) {
        service_not_found(req, res, svc.name, &org);
        return;
    }
    if (rc != RC_OK) {
        api_store_error(req, res, rc);
        return;
    }
    api_audit(req, "service.deleted", org.id,
              json_pack("{s:s, s:s}", "service", svc.name, "region", svc.region));
    api_reply(req, res, 200,
              json_pack("{s:s, s:s, s:b}", "status", "OK", "name", svc.name, "deleted", 1));
}

void api_service_deployments(struct http_request *req, struct http_response *res)
{
    struct store_org org;
    struct store_service svc;
    if (find_service(req, res, &org, &svc) != RC_OK)
        return;
    struct store_deployment *list = NULL;
    size_t count = 0;
    enum rc rc = store_deployments_for_service(APP(req)->store, svc.id, &list, &count);
    if (rc != RC_OK) {
        api_store_error(req, res, rc);
        return;
    }
    json_t *deployments = json_array();
    for (size_t i = 0; i < count; i++)
        json_array_append_new(deployments, deployment_json(&org, &svc, &list[i]));
    store_free_list(list);
    api_reply(req, res, 200, json_pack("{s:o}", "deployments", deployments));
}

void api_service_logs(struct http_request *req, struct http_response *res)
{
    struct store_org org;
    struct store_service svc;
    if (find_service(req, res, &org, &svc) != RC_OK)
        return;
    const char *limit = http_query(req, "limit");
    if (limit) {
        char *end;
        long n = strtol(limit, &end, 10);
        if (!*limit || *end || n < 1 || n > LOG_LIMIT_MAX) {
            char msg[96];
            snprintf(msg, sizeof msg, "query parameter \"limit\" must be an integer from 1 to %d",
                     LOG_LIMIT_MAX);
            http_error(req, res, RC_INVALID, msg);
            return;
        }
    }
    /* Nothing runs, so nothing logs. */
    api_reply(req, res, 200,
              json_pack("{s:[], s:{s:i, s:s}}", "logs", "total", "value", 0, "relation", "eq"));
}

void api_service_sessions(struct http_request *req, struct http_response *res)
{
    struct store_org org;
    struct store_service svc;
    if (find_service(req, res, &org, &svc) != RC_OK)
        return;
    api_reply(req, res, 200, json_pack("{s:[], s:i}", "sessions", "total_count", 0));
}

void api_service_session(struct http_request *req, struct http_response *res)
{
    struct store_org org;
    struct store_service svc;
    if (find_service(req, res, &org, &svc) != RC_OK)
        return;
    char msg[200];
    snprintf(msg, sizeof msg,
             "session '%.64s' not found: no agent runtime is attached, so "
             "service '%s' has no sessions",
             http_param(req, "id"), svc.name);
    http_error(req, res, RC_NOT_FOUND, msg);
}
