/* cmd_deploy.c: `deploy [AGENT_NAME] [IMAGE]`: merge options over pcc-deploy.toml, check that
 * the secret set and image pull secret exist, show the plan, create or update the agent, then
 * wait until the deployment is ready (docs/api/services.md). */
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "cli.h"
#include "text.h"
#include "banned.h"

#define POLL_SECONDS 2
#define DEFAULT_TIMEOUT 600

struct deploy {
    const char *name, *image, *build_id, *credentials, *secret_set, *region, *profile;
    const char *audio_filter, *websocket_auth;
    int enable_krisp, force, no_credentials;
    int has_min, has_max, has_msd, has_krisp; /* has_krisp: enable_krisp was given */
    long min_agents, max_agents, max_session_duration;
};

static double now_seconds(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static void sleep_seconds(double s)
{
    if (s <= 0)
        return;
    struct timespec ts = {(time_t)s, (long)((s - (double)(time_t)s) * 1e9)};
    nanosleep(&ts, NULL);
}

/* The request body. A create sends the reference client's payload; an update sends only what
 * the options and the deploy file give, and the server keeps everything else as it is
 * (--no-credentials sends null, which removes the image pull secret). */
static json_t *payload(const struct deploy *d, int update)
{
    json_t *p = json_pack("{s:s}", "serviceName", d->name);
    if (d->build_id)
        json_object_set_new(p, "buildId", json_string(d->build_id));
    else
        json_object_set_new(p, "image", json_string(d->image));
    if (d->credentials)
        json_object_set_new(p, "imagePullSecretSet", json_string(d->credentials));
    else if (update && d->no_credentials)
        json_object_set_new(p, "imagePullSecretSet", json_null());
    if (d->secret_set)
        json_object_set_new(p, "secretSet", json_string(d->secret_set));
    if (d->region)
        json_object_set_new(p, "region", json_string(d->region));
    json_t *scaling = json_object();
    if (d->has_min || !update)
        json_object_set_new(scaling, "minAgents", json_integer(d->has_min ? d->min_agents : 0));
    if (d->has_max)
        json_object_set_new(scaling, "maxAgents", json_integer(d->max_agents));
    if (json_object_size(scaling))
        json_object_set_new(p, "autoScaling", scaling);
    else
        json_decref(scaling);
    if (d->has_krisp || !update)
        json_object_set_new(p, "enableKrisp", json_boolean(d->enable_krisp));
    if (d->profile)
        json_object_set_new(p, "agentProfile", json_string(d->profile));
    if (d->audio_filter)
        json_object_set_new(p, "krispViva", json_pack("{s:s}", "audioFilter", d->audio_filter));
    else if (!update)
        json_object_set_new(p, "krispViva", json_object());
    if (d->force)
        json_object_set_new(p, "forceRedeploy", json_true());
    if (d->websocket_auth)
        json_object_set_new(p, "websocketAuth", json_string(d->websocket_auth));
    if (d->has_msd)
        json_object_set_new(p, "maxSessionDuration", json_integer(d->max_session_duration));
    return p;
}

static int condition_true(const json_t *b, const char *type)
{
    size_t i;
    json_t *c;
    json_array_foreach(json_object_get(b, "conditions"), i, c)
    {
        const char *t = json_string_value(json_object_get(c, "type"));
        const char *st = json_string_value(json_object_get(c, "status"));
        if (t && st && strcmp(t, type) == 0 && strcmp(st, "True") == 0)
            return 1;
    }
    return 0;
}

enum readiness {
    WAITING,
    READY,
    DEGRADED_AVAILABLE,
    PROGRESSING_AVAILABLE,
    PROGRESSING,
    UNAVAILABLE
};
static const char *const READINESS_TEXT[] = {"waiting for the new deployment to be picked up",
                                             "ready",
                                             "degraded (the previous revision still serves)",
                                             "rolling out (the previous revision serves)",
                                             "rolling out",
                                             "not available yet"};

/* interpret_deployment_status of the reference client, in its order. */
static enum readiness readiness_of(const json_t *b)
{
    const char *desired = json_string_value(json_object_get(b, "desiredDeploymentId"));
    if (!desired)
        desired = json_string_value(json_object_get(b, "activeDeploymentId"));
    const char *reconciled = json_string_value(json_object_get(b, "reconciledDeploymentId"));
    if (desired && (!reconciled || strcmp(reconciled, desired) != 0))
        return WAITING;
    int ready = json_is_true(json_object_get(b, "ready"));
    const json_t *av = json_object_get(b, "available");
    int available = json_is_boolean(av) ? json_is_true(av) : ready;
    if (available && (ready || json_is_true(json_object_get(b, "activeDeploymentReady"))))
        return READY;
    if (condition_true(b, "Degraded") && available)
        return DEGRADED_AVAILABLE;
    if (available)
        return PROGRESSING_AVAILABLE;
    if (condition_true(b, "Progressing"))
        return PROGRESSING;
    return UNAVAILABLE;
}

static void print_errors(struct cli *cli, const char *name, const json_t *errors)
{
    out_error(cli, "deployment of agent '%s' failed:", name);
    size_t i;
    json_t *e;
    json_array_foreach(errors, i, e)
    {
        char buf[400];
        const char *msg = json_string_value(json_object_get(e, "message"));
        if (!msg)
            msg = json_text(json_object_get(e, "error"), buf, sizeof buf, "unknown error");
        const char *code = json_string_value(json_object_get(e, "code"));
        out_note(cli, "  %s%s%s", code ? code : "", code ? ": " : "", msg);
    }
}

/* Poll GET .../services/NAME until ready, failed or timeout seconds. On EXIT_OK *final holds
 * the last status body (a new reference). */
static int wait_ready(struct session *s, const char *name, long timeout, json_t **final)
{
    static const char spinner[] = "|/-\\";
    struct cli *cli = s->cli;
    int tty = isatty(STDERR_FILENO);
    double start = now_seconds(), deadline = start + (double)timeout;
    char path[1024];
    int status, frame = 0;
    enum readiness state = UNAVAILABLE;
    if ((status = org_path(s, path, sizeof path, "services", name, NULL)) != EXIT_OK)
        return status;
    for (;;) {
        struct client_reply r = {0};
        s->quiet_not_found = 1;
        status = session_call(s, "GET", path, NULL, &r);
        s->quiet_not_found = 0;
        if (status == SESSION_NOT_FOUND) {
            status = EXIT_FAIL;
            out_error(cli, "agent '%s' disappeared while it was being deployed", name);
        }
        if (status != EXIT_OK)
            break;
        json_t *b = json_object_get(r.body, "body");
        if (!json_is_object(b)) {
            out_error(cli, "unexpected answer from %s: no status for agent '%s'",
                      client_host(s->client), name);
            client_reply_release(&r);
            status = EXIT_FAIL;
            break;
        }
        const json_t *errors = json_object_get(b, "errors");
        const json_t *rev = json_object_get(b, "currentRevision");
        const char *phase = json_string_value(json_object_get(rev, "phase"));
        if (json_array_size(errors) > 0 || (phase && strcmp(phase, "Failed") == 0)) {
            if (tty)
                fputs("\r\033[K", stderr);
            if (json_array_size(errors) > 0)
                print_errors(cli, name, errors);
            else
                out_error(cli,
                          "deployment of agent '%s' failed (revision phase Failed): see "
                          "`%s agent status %s` and `%s agent logs %s`",
                          name, cli->prog, name, cli->prog, name);
            client_reply_release(&r);
            status = EXIT_FAIL;
            break;
        }
        state = readiness_of(b);
        if (state == READY) {
            *final = json_incref(b);
            client_reply_release(&r);
            break;
        }
        client_reply_release(&r);
        double next = now_seconds() + POLL_SECONDS;
        if (next > deadline)
            next = deadline; /* one last look at the deadline itself */
        if (now_seconds() >= deadline) {
            status = EXIT_FAIL;
            if (tty)
                fputs("\r\033[K", stderr);
            out_error(cli,
                      "agent '%s' is not ready after %lds: %s. It may still become ready: "
                      "check `%s agent status %s`.",
                      name, timeout, READINESS_TEXT[state], cli->prog, name);
            break;
        }
        while (now_seconds() < next) {
            if (tty) {
                fprintf(stderr, "\r\033[K%c Waiting for agent '%s' to be ready: %s (%.0fs)",
                        spinner[frame++ % 4], name, READINESS_TEXT[state], now_seconds() - start);
                fflush(stderr);
            }
            double left = next - now_seconds();
            sleep_seconds(tty && left > 0.25 ? 0.25 : left);
        }
    }
    if (tty && status == EXIT_OK) {
        fputs("\r\033[K", stderr);
        fflush(stderr);
    }
    return status;
}

/* Whether the organization has an image pull secret named name: 1, 0 (message printed), or
 * a negative exit code. */
/* A secret set or image pull secret must live in the agent's region. */
static int same_region(struct session *s, const char *what, const char *name,
                       const char *set_region, const char *agent_region)
{
    if (!set_region || !agent_region || strcmp(set_region, agent_region) == 0)
        return EXIT_OK;
    out_error(s->cli,
              "%s '%s' is in region %s, but the agent is in %s: it must be in the "
              "agent's region (create one there with -r %s)",
              what, name, set_region, agent_region, agent_region);
    return EXIT_FAIL;
}

static int check_pull_secret(struct session *s, const char *name, const char *agent_region)
{
    char path[512];
    struct client_reply r = {0};
    int status;
    if ((status = org_path(s, path, sizeof path, "secrets", NULL)) != EXIT_OK ||
        (status = org_call(s, "GET", path, NULL, &r)) != EXIT_OK)
        return status;
    size_t i;
    json_t *set;
    int found = 0, other_type = 0;
    json_array_foreach(json_object_get(r.body, "sets"), i, set)
    {
        const char *nm = json_string_value(json_object_get(set, "name"));
        const char *type = json_string_value(json_object_get(set, "type"));
        if (!nm || strcmp(nm, name) != 0)
            continue;
        if (type && strcmp(type, "imagePullSecret") == 0) {
            found = 1;
            status = same_region(s, "image pull secret", name,
                                 json_string_value(json_object_get(set, "region")), agent_region);
        } else {
            other_type = 1;
        }
    }
    client_reply_release(&r);
    if (found)
        return status;
    if (other_type)
        out_error(s->cli,
                  "'%s' is a secret set, not an image pull secret: create one with `%s "
                  "secrets image-pull-secret %s HOST`",
                  name, s->cli->prog, name);
    else
        out_error(s->cli,
                  "image pull secret '%s' not found in organization '%s': create it with "
                  "`%s secrets image-pull-secret %s HOST`",
                  name, s->org, s->cli->prog, name);
    return EXIT_FAIL;
}

static int check_secret_set(struct session *s, const char *name, const char *agent_region)
{
    char path[1024];
    struct client_reply r = {0};
    int status;
    if ((status = org_path(s, path, sizeof path, "secrets", name, NULL)) != EXIT_OK)
        return status;
    s->quiet_not_found = 1;
    status = session_call(s, "GET", path, NULL, &r);
    s->quiet_not_found = 0;
    if (status == EXIT_OK && json_array_size(json_object_get(r.body, "secrets")) == 0)
        status = SESSION_NOT_FOUND;
    if (status == EXIT_OK)
        status = same_region(s, "secret set", name,
                             json_string_value(json_object_get(r.body, "region")), agent_region);
    client_reply_release(&r);
    if (status == SESSION_NOT_FOUND)
        return org_not_found(s,
                             "Secret set '%s' not found in organization '%s': create it with "
                             "`%s secrets set %s KEY=VALUE`",
                             name, s->org, s->cli->prog, name);
    return status;
}

static void plan_line(struct cli *cli, const char *label, const char *value)
{
    char l[64];
    snprintf(l, sizeof l, "  %s", label);
    out_field(cli, l, value);
}

/* "unchanged (VALUE)" for a field an update leaves as it is. */
static const char *unchanged(char *buf, size_t size, const char *value)
{
    snprintf(buf, size, "unchanged (%s)", value && *value ? value : "none");
    return buf;
}

/* current: the agent's status when it exists (an update), else NULL. */
static void show_plan(struct cli *cli, const struct session *s, const struct deploy *d,
                      const json_t *current, const char *default_region)
{
    char buf[256], num[32];
    const json_t *spec = json_object_get(
        json_object_get(json_object_get(current, "deployment"), "manifest"), "spec");
    const json_t *scaling = json_object_get(current, "autoScaling");
    printf("%s agent '%s' in organization '%s':\n", current ? "Update" : "Create", d->name, s->org);
    if (d->build_id)
        plan_line(cli, "Build", d->build_id);
    else
        plan_line(cli, "Image", d->image);
    if (d->region) {
        plan_line(cli, "Region", d->region);
    } else if (!current) {
        snprintf(buf, sizeof buf, "%s (the organization's default)",
                 default_region ? default_region : "?");
        plan_line(cli, "Region", buf);
    }
    if (d->credentials)
        plan_line(cli, "Image pull secret", d->credentials);
    else if (current && !d->no_credentials)
        plan_line(cli, "Image pull secret",
                  unchanged(buf, sizeof buf,
                            json_string_value(json_object_get(spec, "imagePullSecretName"))));
    else
        plan_line(cli, "Image pull secret", "none (public image)");
    if (d->secret_set)
        plan_line(cli, "Secret set", d->secret_set);
    else
        plan_line(cli, "Secret set",
                  current ? unchanged(buf, sizeof buf,
                                      json_string_value(json_array_get(
                                          json_object_get(spec, "envFromSecretNames"), 0)))
                          : "none");
    if (d->has_min || !current) {
        snprintf(buf, sizeof buf, "%ld", d->has_min ? d->min_agents : 0);
    } else {
        snprintf(num, sizeof num, "%" JSON_INTEGER_FORMAT,
                 json_integer_value(json_object_get(scaling, "minReplicas")));
        unchanged(buf, sizeof buf, num);
    }
    plan_line(cli, "Min agents", buf);
    if (d->has_max) {
        snprintf(buf, sizeof buf, "%ld", d->max_agents);
    } else if (current) {
        snprintf(num, sizeof num, "%" JSON_INTEGER_FORMAT,
                 json_integer_value(json_object_get(scaling, "maxReplicas")));
        unchanged(buf, sizeof buf, num);
    } else {
        snprintf(buf, sizeof buf, "server default");
    }
    plan_line(cli, "Max agents", buf);
    if (d->profile)
        plan_line(cli, "Profile", d->profile);
    else
        plan_line(cli, "Profile",
                  current ? unchanged(buf, sizeof buf,
                                      json_string_value(json_object_get(current, "agentProfile")))
                          : "server default (agent-1x)");
    if (d->has_msd) {
        snprintf(buf, sizeof buf, "%lds", d->max_session_duration);
    } else if (current) {
        snprintf(num, sizeof num, "%" JSON_INTEGER_FORMAT "s",
                 json_integer_value(json_object_get(current, "maxSessionDuration")));
        unchanged(buf, sizeof buf, num);
    } else {
        snprintf(buf, sizeof buf, "server default (7200s)");
    }
    plan_line(cli, "Max session duration", buf);
    const char *filter = json_string_value(
        json_object_get(json_object_get(current, "krispViva"), "audioFilter"));
    if (d->audio_filter) {
        snprintf(buf, sizeof buf, "Enabled (%s)", d->audio_filter);
    } else if (current) {
        snprintf(num, sizeof num, "Enabled (%s)", filter ? filter : "");
        unchanged(buf, sizeof buf, filter ? num : "Disabled");
    } else {
        snprintf(buf, sizeof buf, "Disabled");
    }
    plan_line(cli, "Krisp VIVA", buf);
    if (d->enable_krisp)
        plan_line(cli, "Krisp (deprecated)", "enabled");
    if (d->websocket_auth)
        plan_line(cli, "WebSocket auth", d->websocket_auth);
    if (d->force)
        plan_line(cli, "Force redeploy", "yes");
    fflush(stdout);
}

static int cmd_deploy(struct cli *cli, int argc, char **argv)
{
    const char *flag_org = NULL, *config_file = NULL, *credentials = NULL, *secret_set = NULL;
    const char *min_text = NULL, *max_text = NULL, *min_inst = NULL, *max_inst = NULL;
    const char *audio_filter = NULL, *profile = NULL, *region = NULL, *msd_text = NULL;
    const char *build_dir = NULL, *dockerfile = NULL, *build_id = NULL, *timeout_text = NULL;
    const char *pos[2] = {NULL, NULL};
    int enable_krisp = 0, force = 0, yes = 0, no_credentials = 0, npos;
    const struct opt opts[] = {
        OPT_STRING(0, "config-file", &config_file, "FILE",
                   "the deploy file (default $PIPECAT_DEPLOY_CONFIG_PATH, else\n"
                   "./pcc-deploy.toml if it exists)"),
        OPT_STRING('c', "credentials", &credentials, "NAME",
                   "image pull secret for a private registry"),
        OPT_ALIAS_BOOL("-nc", "no-credentials", &no_credentials,
                       "the image is public: deploy without --credentials (an\n"
                       "update drops the agent's image pull secret)"),
        OPT_STRING('s', "secrets", &secret_set, "NAME",
                   "secret set passed to the agent as environment variables"),
        OPT_STRING('r', "region", &region, "REGION",
                   "region of a new agent (default: the organization's default)"),
        OPT_ALIAS_STRING("-min", "min-agents", &min_text, "N",
                         "agents kept running, at least 0 (default 0)"),
        OPT_ALIAS_STRING("-max", "max-agents", &max_text, "N",
                         "upper bound of agents, at least 1 and at least --min-agents"),
        OPT_STRING('p', "profile", &profile, "PROFILE",
                   "agent profile: agent-1x (default), agent-2x, agent-3x"),
        OPT_STRING(0, "max-session-duration", &msd_text, "SECONDS",
                   "longest session, 60-14400 (default 7200)"),
        OPT_STRING(0, "krisp-viva-audio-filter", &audio_filter, "FILTER",
                   "enable Krisp VIVA noise filtering: tel or pro"),
        OPT_ALIAS_BOOL("-krisp", "enable-krisp", &enable_krisp,
                       "enable Krisp noise cancellation (deprecated)"),
        OPT_STRING('b', "build-id", &build_id, "ID", "deploy a cloud build instead of IMAGE"),
        /* One help row for the two options of cloud builds (--dockerfile is hidden below). */
        OPT_STRING('d', "build-dir", &build_dir, "DIR, --dockerfile FILE",
                   "cloud builds from source: not supported by this client"),
        OPT_BOOL('f', "force", &force,
                 "make a new deployment even if nothing changed (implies --yes)"),
        OPT_BOOL('y', "yes", &yes, "do not ask for confirmation"),
        OPT_STRING(0, "timeout", &timeout_text, "SECONDS",
                   "how long to wait for readiness (default 600)"),
        OPT_ORG(&flag_org), OPT_HIDDEN_STRING("min-instances", &min_inst),
        OPT_HIDDEN_STRING("max-instances", &max_inst), OPT_HIDDEN_STRING("dockerfile", &dockerfile),
        OPT_END()};
    int status = args_parse(cli, argc, argv, opts, pos, 2, &npos);
    if (status != EXIT_OK)
        return status;

    struct deploy_config dc;
    struct deploy d;
    struct session s;
    struct client_reply r = {0}, props = {0}, done = {0};
    json_t *body = NULL, *final = NULL;
    memset(&d, 0, sizeof d);
    memset(&s, 0, sizeof s);
    if ((status = deploy_config_load(cli, config_file, &dc)) != EXIT_OK)
        goto out;
    status = EXIT_USAGE;

    /* Options and arguments override the deploy file. */
    d.name = pos[0] ? pos[0] : dc.agent_name;
    if (pos[1] && build_id) {
        out_error(cli, "give IMAGE or --build-id, not both");
        goto out;
    }
    d.image = pos[1] ? pos[1] : build_id ? NULL : dc.image;
    d.build_id = build_id ? build_id : pos[1] ? NULL : dc.build_id;
    d.credentials = credentials ? credentials : dc.image_credentials;
    d.secret_set = secret_set ? secret_set : dc.secret_set;
    d.region = region ? region : dc.region;
    d.profile = profile ? profile : dc.agent_profile;
    d.audio_filter = audio_filter ? audio_filter : dc.audio_filter;
    d.websocket_auth = dc.websocket_auth;
    d.enable_krisp = enable_krisp || (dc.has_enable_krisp && dc.enable_krisp);
    d.has_krisp = enable_krisp || dc.has_enable_krisp;
    d.force = force;
    if (force)
        yes = 1;
    d.has_min = dc.has_min_agents;
    d.min_agents = dc.min_agents;
    d.has_max = dc.has_max_agents;
    d.max_agents = dc.max_agents;
    d.has_msd = dc.has_max_session_duration;
    d.max_session_duration = dc.max_session_duration;

    if (!d.name) {
        out_error(cli, "no agent name: pass AGENT_NAME, or set agent_name in pcc-deploy.toml");
        goto out;
    }
    if (!text_is_service_name(d.name)) {
        out_error(cli,
                  "invalid agent name '%s': 1-54 characters of a-z, 0-9 and -, starting "
                  "and ending with a letter or digit",
                  d.name);
        goto out;
    }
    if (!d.image && !d.build_id) {
        out_error(cli, "no image: pass IMAGE (repository:tag), or --build-id ID%s",
                  build_dir || dockerfile ? "; cloud builds from source (--build-dir, "
                                            "--dockerfile) are not supported by this client"
                                          : "");
        goto out;
    }
    if (d.image && !text_is_image_ref(d.image)) {
        out_error(cli,
                  "invalid image '%s': give repository:tag (e.g. repo/img:1.0) or "
                  "repository@sha256:DIGEST",
                  d.image);
        goto out;
    }
    if (min_inst) {
        out_warn(cli, "--min-instances is deprecated: use --min-agents");
        if (!min_text)
            min_text = min_inst;
    }
    if (max_inst) {
        out_warn(cli, "--max-instances is deprecated: use --max-agents");
        if (!max_text)
            max_text = max_inst;
    }
    if (min_text) {
        if (args_int(cli, "--min-agents", min_text, 0, LONG_MAX, &d.min_agents) != EXIT_OK)
            goto out;
        d.has_min = 1;
    }
    if (max_text) {
        if (args_int(cli, "--max-agents", max_text, 1, LONG_MAX, &d.max_agents) != EXIT_OK)
            goto out;
        d.has_max = 1;
    }
    if (d.has_min && d.has_max && d.max_agents < d.min_agents) {
        out_error(cli, "--max-agents (%ld) must be at least --min-agents (%ld)", d.max_agents,
                  d.min_agents);
        goto out;
    }
    if (msd_text) {
        if (args_int(cli, "--max-session-duration", msd_text, 60, 14400, &d.max_session_duration) !=
            EXIT_OK)
            goto out;
        d.has_msd = 1;
    }
    if (d.audio_filter && strcmp(d.audio_filter, "tel") != 0 &&
        strcmp(d.audio_filter, "pro") != 0) {
        out_error(cli, "--krisp-viva-audio-filter must be tel or pro, not '%s'", d.audio_filter);
        goto out;
    }
    if (credentials && no_credentials) {
        out_error(cli, "give --credentials or --no-credentials, not both");
        goto out;
    }
    if (no_credentials)
        d.credentials = NULL;
    d.no_credentials = no_credentials;
    if (d.enable_krisp)
        out_warn(cli, "--enable-krisp is deprecated: use --krisp-viva-audio-filter tel|pro");
    long timeout = DEFAULT_TIMEOUT;
    if (timeout_text && args_int(cli, "--timeout", timeout_text, 1, 86400, &timeout) != EXIT_OK)
        goto out;
    if (!yes && !stdin_is_terminal()) {
        out_error(cli, "deploy asks to confirm and there is no terminal to ask on: pass --yes "
                       "to deploy without asking");
        goto out;
    }

    if ((status = platform_open(cli, &s, flag_org)) != EXIT_OK)
        goto out;
    const char *default_region = NULL;
    char path[1024];
    if (d.region) {
        if ((status = region_check(&s, d.region)) != EXIT_OK)
            goto out;
    } else {
        /* Where a new agent goes; this also stops at an unknown organization. */
        if ((status = org_path(&s, path, sizeof path, "properties", NULL)) != EXIT_OK ||
            (status = org_call(&s, "GET", path, NULL, &props)) != EXIT_OK)
            goto out;
        default_region = json_string_value(
            json_object_get(json_object_get(props.body, "properties"), "defaultRegion"));
    }
    if ((status = org_path(&s, path, sizeof path, "services", d.name, NULL)) != EXIT_OK)
        goto out;
    s.quiet_not_found = 1;
    status = session_call(&s, "GET", path, NULL, &r);
    s.quiet_not_found = 0;
    int exists = status == EXIT_OK;
    if (status == SESSION_NOT_FOUND)
        status = EXIT_OK;
    if (status != EXIT_OK)
        goto out;
    /* The agent's region: an existing agent keeps its own. */
    char agent_region[128] = "";
    const json_t *current_status = exists ? json_object_get(r.body, "body") : NULL;
    const char *current = json_string_value(json_object_get(current_status, "region"));
    snprintf(agent_region, sizeof agent_region, "%s",
             exists && current ? current
             : d.region        ? d.region
             : default_region  ? default_region
                               : "");
    const char *target = agent_region[0] ? agent_region : NULL;
    if (d.secret_set && (status = check_secret_set(&s, d.secret_set, target)) != EXIT_OK)
        goto out;
    if (d.credentials && !d.build_id &&
        (status = check_pull_secret(&s, d.credentials, target)) != EXIT_OK)
        goto out;

    if (!cli->json)
        show_plan(cli, &s, &d, current_status, default_region);
    if (!d.credentials && !d.build_id && !no_credentials && !yes && !exists)
        out_warn(cli, "no image pull secret: the image must be public (--no-credentials says "
                      "so; --credentials NAME names a secret)");
    if ((status = confirm_unless(cli, yes, "--yes", 1, "%s agent '%s'?",
                                 exists ? "Update" : "Deploy", d.name)) != EXIT_OK)
        goto out;

    body = payload(&d, exists);
    if ((status = org_path(&s, path, sizeof path, "services", NULL)) != EXIT_OK ||
        (status = org_call(&s, exists ? "PUT" : "POST", path, body, &done)) != EXIT_OK)
        goto out;
    const char *warning = json_string_value(json_object_get(done.body, "warning"));
    if (warning)
        out_warn(cli, "%s", warning);
    if (!cli->json)
        out_note(cli, "%s agent '%s'; waiting for the deployment to be ready...",
                 exists ? "Updated" : "Created", d.name);
    if ((status = wait_ready(&s, d.name, timeout, &final)) != EXIT_OK)
        goto out;
    if (cli->json) {
        out_json(json_pack("{s:s, s:s, s:s, s:b, s:O}", "name", d.name, "organization", s.org,
                           "action", exists ? "updated" : "created", "ready",
                           runtime_attached(final), "status", final));
    } else if (!runtime_attached(final)) {
        /* Nothing runs it: say so rather than call it ready. */
        printf("Agent deployment '%s' is recorded; this pccd has no agent runtime attached, so "
               "it does not run and sessions cannot be started\n",
               d.name);
    } else {
        printf("Agent deployment '%s' is ready\n", d.name);
        out_note(cli, "Start a session with `%s agent start %s`.", cli->prog, d.name);
    }
out:
    json_decref(body);
    json_decref(final);
    client_reply_release(&r);
    client_reply_release(&props);
    client_reply_release(&done);
    session_close(&s);
    deploy_config_release(&dc);
    return status;
}

/* The commands of this file: name, summary, synopsis, description and examples; their --help,
 * docs/cli page, completion and man page are generated from these and the option tables. */
const struct command deploy_commands[] = {
    COMMAND(
        "", "deploy", cmd_deploy, "deploy an agent image, or update a deployed agent",
        "[AGENT_NAME] [IMAGE] [OPTIONS]",
        "Create agent AGENT_NAME running IMAGE (repository:tag), or update it. Arguments and\n"
        "options override the deploy file, pcc-deploy.toml (see --config-file). Before anything\n"
        "changes, the plan is shown and confirmed; --yes answers yes and is needed without a\n"
        "terminal:\n"
        "    pipecat cloud deploy my-agent repo/img:1.0 --yes\n"
        "An update changes only what the arguments, options and deploy file give: the agent\n"
        "keeps its other settings (scaling, secrets, profile...).\n"
        "Then it waits until the deployment is ready (a progress indicator on a terminal) and\n"
        "exits 0, or 1 if it failed or is not ready within --timeout. A pccd without an agent\n"
        "runtime records the deployment and runs nothing: deploy says so instead of \"ready\".\n",
        "  pipecat cloud deploy my-agent repo/img:1.0 --secrets my-secrets --yes\n"),
    COMMAND_END};
