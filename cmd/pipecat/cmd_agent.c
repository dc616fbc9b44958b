/* cmd_agent.c: `agent list|status|deployments|logs|sessions|delete|start|stop`: deployed
 * agents (the API's services) and their sessions. `agent start` alone uses a public API key
 * instead of the user's token. */
#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"
#include "timefmt.h"
#include "banned.h"

static const char *str_or(const json_t *v, const char *fallback)
{
    const char *s = json_string_value(v);
    return s ? s : fallback;
}

/* The agent name: the argument, else agent_name of the deploy file. */
static int agent_name_from(struct cli *cli, const char *arg, const char *config_file,
                           struct deploy_config *dc, const char **name)
{
    memset(dc, 0, sizeof *dc);
    if (arg) {
        *name = arg;
        return EXIT_OK;
    }
    int status = deploy_config_load(cli, config_file, dc);
    if (status != EXIT_OK)
        return status;
    if (!dc->agent_name) {
        out_error(cli, "no agent name: pass NAME, or set agent_name in %s",
                  dc->path[0] ? dc->path : "pcc-deploy.toml");
        return EXIT_USAGE;
    }
    *name = dc->agent_name;
    return EXIT_OK;
}

/* GET .../services/NAME: the "body" object (owned by r); a 404 names the agent. */
static int get_service(struct session *s, const char *name, struct client_reply *r, json_t **body)
{
    char path[1024];
    int status;
    if ((status = org_path(s, path, sizeof path, "services", name, NULL)) != EXIT_OK)
        return status;
    s->quiet_not_found = 1;
    status = session_call(s, "GET", path, NULL, r);
    s->quiet_not_found = 0;
    if (status == SESSION_NOT_FOUND)
        return org_not_found(s, "No agent named '%s' in organization '%s' (see `%s agent list`)",
                             name, s->org, s->cli->prog);
    if (status != EXIT_OK)
        return status;
    *body = json_object_get(r->body, "body");
    if (!json_is_object(*body))
        return org_not_found(s, "No deployment data found for agent '%s'", name);
    return EXIT_OK;
}

/* A GET under .../services/NAME/... whose 404 means the agent (or the item) is missing. */
static int get_under_service(struct session *s, const char *path, struct client_reply *r,
                             const char *missing)
{
    s->quiet_not_found = 1;
    int status = session_call(s, "GET", path, NULL, r);
    s->quiet_not_found = 0;
    if (status == SESSION_NOT_FOUND)
        return org_not_found(s, "%s", missing);
    return status;
}

static int cmd_agent_list(struct cli *cli, int argc, char **argv)
{
    const char *flag_org = NULL, *region = NULL;
    int npos;
    const struct opt opts[] = {
        OPT_STRING('r', "region", &region, "REGION", "only agents in REGION"), OPT_ORG(&flag_org),
        OPT_END()};
    int status = args_parse(cli, argc, argv, opts, NULL, 0, &npos);
    if (status != EXIT_OK)
        return status;
    struct session s;
    struct client_reply r = {0};
    char path[1024];
    if ((status = platform_open(cli, &s, flag_org)) != EXIT_OK)
        goto out;
    if (region && (status = region_check(&s, region)) != EXIT_OK)
        goto out;
    if ((status = org_path(&s, path, sizeof path, "services", NULL)) != EXIT_OK ||
        (status = path_query(cli, path, sizeof path, "region", region)) != EXIT_OK ||
        (status = org_call(&s, "GET", path, NULL, &r)) != EXIT_OK)
        goto out;
    json_t *services = json_object_get(r.body, "services");
    if (cli->json) {
        out_json(json_pack("{s:s, s:O}", "organization", s.org, "services",
                           services ? services : json_array()));
        goto out;
    }
    size_t n = json_array_size(services);
    if (n == 0) {
        printf("No agents found in organization '%s'%s%s. Deploy one with `%s deploy`.\n", s.org,
               region ? " in region " : "", region ? region : "", cli->prog);
        goto out;
    }
    static const struct column cols[] = {{"NAME", "name", NULL},
                                         {"REGION", "region", NULL},
                                         {"AGENT ID", "id", NULL},
                                         {"ACTIVE DEPLOYMENT", "activeDeploymentId", NULL},
                                         {"CREATED", "createdAt", col_when},
                                         {"UPDATED", "updatedAt", col_when},
                                         COLUMN_END};
    status = out_rows(cli, cols, services, NULL);
out:
    client_reply_release(&r);
    session_close(&s);
    return status;
}

static void revision_line(struct cli *cli, const char *label, const json_t *rev)
{
    if (!json_is_object(rev))
        return;
    char line[300], n[32];
    const json_t *replicas = json_object_get(rev, "readyReplicas");
    snprintf(line, sizeof line, "%.8s %s%s%s%s", str_or(json_object_get(rev, "deploymentID"), "?"),
             str_or(json_object_get(rev, "phase"), "Unknown"),
             json_is_integer(replicas) ? ", " : "",
             json_is_integer(replicas) ? json_text(replicas, n, sizeof n, "") : "",
             json_is_integer(replicas) ? " agents ready" : "");
    out_field(cli, label, line);
    const json_t *h = json_object_get(rev, "health");
    if (json_is_object(h) && !(json_is_true(json_object_get(h, "ready")) &&
                               json_integer_value(json_object_get(h, "restartCount")) == 0)) {
        struct buf b;
        char num[32], msg[256];
        buf_init(&b, 1024);
        buf_adds(&b, str_or(json_object_get(h, "state"), "unknown"));
        if (json_is_string(json_object_get(h, "reason")))
            buf_addf(&b, " (%s)", json_string_value(json_object_get(h, "reason")));
        buf_addf(&b, ", %s restarts",
                 json_text(json_object_get(h, "restartCount"), num, sizeof num, "0"));
        if (json_object_get(h, "message"))
            buf_addf(&b, ": %s", json_text(json_object_get(h, "message"), msg, sizeof msg, ""));
        out_field(cli, "  Health", buf_str(&b));
        buf_release(&b);
    }
    if (json_is_true(json_object_get(rev, "hasInfrastructureIssue")))
        out_field(cli, "  Infrastructure", "an issue was detected: contact your operator");
}

static int cmd_agent_status(struct cli *cli, int argc, char **argv)
{
    const char *flag_org = NULL, *pos[1] = {NULL};
    int npos;
    int status = args_parse_org(cli, argc, argv, &flag_org, pos, 1, &npos);
    if (status != EXIT_OK)
        return status;
    if (npos != 1)
        return args_usage(cli);
    struct session s;
    struct client_reply r = {0};
    json_t *b;
    if ((status = platform_open(cli, &s, flag_org)) != EXIT_OK ||
        (status = get_service(&s, pos[0], &r, &b)) != EXIT_OK)
        goto out;
    if (cli->json) {
        out_json(json_incref(b));
        goto out;
    }
    char t1[64], t2[64], n1[32], n2[32], n3[32];
    json_t *spec = json_object_get(json_object_get(json_object_get(b, "deployment"), "manifest"),
                                   "spec");
    json_t *scaling = json_object_get(b, "autoScaling");
    json_t *krisp = json_object_get(json_object_get(b, "krispViva"), "audioFilter");
    json_t *msd = json_object_get(spec, "maxSessionDurationSeconds");
    /* A pccd without a runtime calls a recorded deployment ready; nothing runs it. */
    int attached = runtime_attached(b);
    int ready = attached && json_is_true(json_object_get(b, "ready"));
    out_field(cli, "Agent", pos[0]);
    out_field(cli, "Ready", ready ? "yes" : attached ? "no" : "no (no agent runtime attached)");
    if (json_object_get(b, "region"))
        out_field(cli, "Region", str_or(json_object_get(b, "region"), ""));
    out_field(cli, "Image", str_or(json_object_get(spec, "image"), "N/A"));
    if (json_object_get(b, "agentProfile"))
        out_field(cli, "Agent Profile", str_or(json_object_get(b, "agentProfile"), ""));
    if (json_array_size(json_object_get(spec, "envFromSecretNames"))) {
        struct buf names;
        size_t k;
        json_t *nm;
        buf_init(&names, 4096);
        json_array_foreach(json_object_get(spec, "envFromSecretNames"), k, nm)
            buf_addf(&names, "%s%s", k ? ", " : "", str_or(nm, "?"));
        out_field(cli, "Secret Sets", buf_str(&names));
        buf_release(&names);
    }
    const json_t *pull = json_object_get(spec, "imagePullSecretName");
    if (json_is_string(pull))
        out_field(cli, "Image Pull Secret", json_string_value(pull));
    out_field(cli, "Active Deployment ID", str_or(json_object_get(b, "activeDeploymentId"), "N/A"));
    out_field(cli, "Active Session Count",
              json_text(json_object_get(b, "activeSessionCount"), n1, sizeof n1, "N/A"));
    out_field(cli, "Min Agents",
              json_text(json_object_get(scaling, "minReplicas"), n2, sizeof n2, "N/A"));
    out_field(cli, "Max Agents",
              json_text(json_object_get(scaling, "maxReplicas"), n3, sizeof n3, "N/A"));
    char kv[64];
    snprintf(kv, sizeof kv, "Enabled (%s)", str_or(krisp, ""));
    out_field(cli, "Krisp VIVA", json_is_string(krisp) ? kv : "Disabled");
    char d[32];
    if (json_is_integer(msd))
        snprintf(d, sizeof d, "%llds", (long long)json_integer_value(msd));
    out_field(cli, "Max Session Duration", json_is_integer(msd) ? d : "Default");
    out_field(cli, "Created", out_when(json_object_get(b, "createdAt"), t1, sizeof t1));
    out_field(cli, "Updated", out_when(json_object_get(b, "updatedAt"), t2, sizeof t2));
    revision_line(cli, "Current Revision", json_object_get(b, "currentRevision"));
    revision_line(cli, "Previous Revision", json_object_get(b, "previousRevision"));
    size_t i;
    json_t *c;
    json_array_foreach(json_object_get(b, "conditions"), i, c)
    {
        char line[600];
        const char *msg = json_string_value(json_object_get(c, "message"));
        const char *reason = json_string_value(json_object_get(c, "reason"));
        snprintf(line, sizeof line, "%s=%s%s%s%s%s", str_or(json_object_get(c, "type"), "?"),
                 str_or(json_object_get(c, "status"), "?"), reason ? " (" : "",
                 reason ? reason : "", reason ? ")" : "", "");
        if (msg) {
            size_t len = strlen(line);
            snprintf(line + len, sizeof line - len, ": %s", msg);
        }
        out_field(cli, "Condition", line);
    }
    json_array_foreach(json_object_get(b, "errors"), i, c)
    {
        char line[600], buf[400];
        const char *msg = json_string_value(json_object_get(c, "message"));
        if (!msg)
            msg = json_text(json_object_get(c, "error"), buf, sizeof buf, "Unknown error");
        snprintf(line, sizeof line, "%s %s", str_or(json_object_get(c, "code"), ""), msg);
        out_field(cli, "Error", line);
    }
    if (ready)
        out_note(cli, "Start a session with `%s agent start %s`.", cli->prog, pos[0]);
    else if (attached)
        out_note(cli, "Check its logs with `%s agent logs %s`.", cli->prog, pos[0]);
out:
    client_reply_release(&r);
    session_close(&s);
    return status;
}

static int cmd_agent_deployments(struct cli *cli, int argc, char **argv)
{
    const char *flag_org = NULL, *pos[1] = {NULL};
    int npos;
    int status = args_parse_org(cli, argc, argv, &flag_org, pos, 1, &npos);
    if (status != EXIT_OK)
        return status;
    if (npos != 1)
        return args_usage(cli);
    struct session s;
    struct client_reply r = {0};
    char path[1024], missing[400];
    snprintf(missing, sizeof missing, "No agent named '%s' (see `%s agent list`)", pos[0],
             cli->prog);
    if ((status = platform_open(cli, &s, flag_org)) != EXIT_OK ||
        (status = org_path(&s, path, sizeof path, "services", pos[0], "deployments", NULL)) !=
            EXIT_OK ||
        (status = get_under_service(&s, path, &r, missing)) != EXIT_OK)
        goto out;
    json_t *list = json_object_get(r.body, "deployments");
    if (cli->json) {
        out_json(
            json_pack("{s:s, s:O}", "agent", pos[0], "deployments", list ? list : json_array()));
        goto out;
    }
    size_t n = json_array_size(list);
    if (n == 0) {
        printf("No deployments found for agent '%s'.\n", pos[0]);
        goto out;
    }
    static const struct column cols[] = {{"ID", "id", NULL},
                                         {"NODE TYPE", "manifest.spec.dailyNodeType", NULL},
                                         {"IMAGE", "manifest.spec.image", NULL},
                                         {"CREATED", "createdAt", col_when},
                                         {"UPDATED", "updatedAt", col_when},
                                         COLUMN_END};
    status = out_rows(cli, cols, list, NULL);
out:
    client_reply_release(&r);
    session_close(&s);
    return status;
}

static const char *const LEVELS[] = {"DEBUG", "INFO", "WARNING", "ERROR", "CRITICAL"};

/* The level of a log line as the reference client decides it: the first level name (in the
 * order above) found in the upper-cased text, INFO when there is none. */
static const char *level_of(const char *log)
{
    size_t n = strlen(log);
    char *up = malloc(n + 1);
    if (!up)
        return "INFO";
    for (size_t i = 0; i <= n; i++)
        up[i] = (char)toupper((unsigned char)log[i]);
    const char *level = "INFO";
    for (size_t l = 0; l < 5; l++)
        if (strstr(up, LEVELS[l])) {
            level = LEVELS[l];
            break;
        }
    free(up);
    return level;
}

static int cmd_agent_logs(struct cli *cli, int argc, char **argv)
{
    const char *flag_org = NULL, *level = NULL, *format = NULL, *limit_text = NULL;
    const char *deployment = NULL, *session_id = NULL, *pos[1] = {NULL};
    int npos;
    const struct opt opts[] = {
        OPT_STRING('l', "level", &level, "LEVEL",
                   "only entries of LEVEL: DEBUG, INFO, WARNING, ERROR, CRITICAL"),
        OPT_STRING('f', "format", &format, "FORMAT",
                   "TEXT (default), or JSON: one {\"timestamp\", \"log\"} per line"),
        OPT_STRING('n', "limit", &limit_text, "LIMIT",
                   "how many entries to fetch, 1-10000 (default 100)"),
        OPT_STRING('d', "deployment", &deployment, "ID", "only entries of deployment ID"),
        OPT_STRING('s', "session-id", &session_id, "ID", "only entries of session ID"),
        OPT_ORG(&flag_org),
        OPT_END()};
    int status = args_parse(cli, argc, argv, opts, pos, 1, &npos);
    if (status != EXIT_OK)
        return status;
    if (npos != 1)
        return args_usage(cli);
    const char *want = NULL;
    if (level) {
        for (size_t l = 0; l < 5; l++)
            if (strcasecmp(level, LEVELS[l]) == 0)
                want = LEVELS[l];
        if (!want) {
            out_error(cli, "--level must be DEBUG, INFO, WARNING, ERROR or CRITICAL, not '%s'",
                      level);
            return EXIT_USAGE;
        }
    }
    int as_json_lines = 0;
    if (format) {
        if (strcasecmp(format, "JSON") == 0)
            as_json_lines = 1;
        else if (strcasecmp(format, "TEXT") != 0) {
            out_error(cli, "--format must be TEXT or JSON, not '%s'", format);
            return EXIT_USAGE;
        }
    }
    long limit = 100;
    if (limit_text && (status = args_int(cli, "--limit", limit_text, 1, 10000, &limit)) != EXIT_OK)
        return status;
    char limit_str[16];
    snprintf(limit_str, sizeof limit_str, "%ld", limit);
    struct session s;
    struct client_reply r = {0};
    char path[1024], missing[400];
    snprintf(missing, sizeof missing, "No agent named '%s' (see `%s agent list`)", pos[0],
             cli->prog);
    if ((status = platform_open(cli, &s, flag_org)) != EXIT_OK ||
        (status = org_path(&s, path, sizeof path, "services", pos[0], "logs", NULL)) != EXIT_OK ||
        (status = path_query(cli, path, sizeof path, "limit", limit_str)) != EXIT_OK ||
        (status = path_query(cli, path, sizeof path, "deploymentId", deployment)) != EXIT_OK ||
        (status = path_query(cli, path, sizeof path, "sessionId", session_id)) != EXIT_OK ||
        (status = get_under_service(&s, path, &r, missing)) != EXIT_OK)
        goto out;
    json_t *logs = json_object_get(r.body, "logs"), *shown = json_array();
    size_t i;
    json_t *entry;
    json_array_foreach(logs, i, entry)
    {
        const char *text = json_string_value(json_object_get(entry, "log"));
        if (!text || !*text || (want && strcmp(level_of(text), want) != 0))
            continue;
        json_array_append(shown, entry);
    }
    if (cli->json) {
        out_json(json_pack("{s:s, s:o}", "agent", pos[0], "logs", shown));
        goto out;
    }
    if (json_array_size(shown) == 0) {
        out_note(cli, "No logs found for agent '%s'%s%s.", pos[0], want ? " at level " : "",
                 want ? want : "");
        json_decref(shown);
        goto out;
    }
    json_array_foreach(shown, i, entry)
    {
        const char *text = json_string_value(json_object_get(entry, "log"));
        const char *ts = str_or(json_object_get(entry, "timestamp"), "");
        if (as_json_lines) {
            json_t *line = json_pack("{s:s, s:s}", "timestamp", ts, "log", text);
            char *dump = json_dumps(line, JSON_COMPACT | JSON_PRESERVE_ORDER);
            printf("%s\n", dump ? dump : "{}");
            free(dump);
            json_decref(line);
        } else {
            printf("%s %s\n", ts, text);
        }
    }
    json_decref(shown);
out:
    client_reply_release(&r);
    session_close(&s);
    return status;
}

/* Seconds between two ISO timestamps, or -1. */
static double seconds_between(const json_t *from, const json_t *to)
{
    const char *a = json_string_value(from), *b = json_string_value(to);
    int64_t ta, tb;
    if (!a || !b || timefmt_parse(a, strlen(a), &ta) != RC_OK ||
        timefmt_parse(b, strlen(b), &tb) != RC_OK || tb < ta)
        return -1;
    return (double)(tb - ta);
}

static int cmp_double(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return x < y ? -1 : x > y;
}

/* "avg (p5 .., p95 ..)" of n values, or "N/A". */
static const char *summary_of(double *v, size_t n, char *buf, size_t size)
{
    if (n == 0)
        return "N/A";
    qsort(v, n, sizeof *v, cmp_double);
    double sum = 0;
    for (size_t i = 0; i < n; i++)
        sum += v[i];
    snprintf(buf, size, "%.1fs (p5 %.1fs, p95 %.1fs)", sum / (double)n,
             v[(size_t)(0.05 * (double)(n - 1))], v[(size_t)(0.95 * (double)(n - 1) + 0.5)]);
    return buf;
}

static const char *session_status(const json_t *sess)
{
    if (!json_is_string(json_object_get(sess, "endedAt")))
        return "Active";
    const char *cs = json_string_value(json_object_get(sess, "completionStatus"));
    return cs && strcmp(cs, "500") == 0 ? "Error (500)" : "Complete";
}

static int show_session(struct cli *cli, const char *agent, const json_t *d)
{
    char t1[64], t2[64], dur[32], bs[32], n[32];
    double secs = seconds_between(json_object_get(d, "createdAt"), json_object_get(d, "endedAt"));
    if (secs >= 0)
        snprintf(dur, sizeof dur, "%.0fs", secs);
    out_field(cli, "Agent", agent);
    out_field(cli, "Session ID", str_or(json_object_get(d, "sessionId"), ""));
    out_field(cli, "Status", session_status(d));
    out_field(cli, "Duration", secs >= 0 ? dur : "N/A");
    out_field(cli, "Created", out_when(json_object_get(d, "createdAt"), t1, sizeof t1));
    out_field(cli, "Ended",
              json_is_string(json_object_get(d, "endedAt"))
                  ? out_when(json_object_get(d, "endedAt"), t2, sizeof t2)
                  : "N/A");
    const json_t *bot = json_object_get(d, "botStartSeconds");
    if (json_is_number(bot))
        snprintf(bs, sizeof bs, "%ss", json_text(bot, n, sizeof n, ""));
    out_field(cli, "Bot Start", json_is_number(bot) ? bs : "N/A");
    const json_t *cold = json_object_get(d, "coldStart");
    out_field(cli, "Cold Start", json_is_true(cold) ? "yes" : json_is_false(cold) ? "no" : "N/A");
    const json_t *m = json_object_get(d, "resourceMetrics");
    if (json_is_object(m)) {
        char line[200], a[32];
        snprintf(line, sizeof line, "%s samples",
                 json_text(json_object_get(m, "sampleCount"), a, sizeof a, "0"));
        out_field(cli, "Resource Metrics", line);
        snprintf(line, sizeof line, "p50 %.2f cores, p99 %.2f cores",
                 json_number_value(json_object_get(m, "cpuMillicoresP50")) / 1000.0,
                 json_number_value(json_object_get(m, "cpuMillicoresP99")) / 1000.0);
        out_field(cli, "  CPU", line);
        snprintf(line, sizeof line, "p50 %.0f MB, p99 %.0f MB",
                 json_number_value(json_object_get(m, "memoryBytesP50")) / 1048576.0,
                 json_number_value(json_object_get(m, "memoryBytesP99")) / 1048576.0);
        out_field(cli, "  Memory", line);
    }
    return EXIT_OK;
}

static int cmd_agent_sessions(struct cli *cli, int argc, char **argv)
{
    const char *flag_org = NULL, *session_id = NULL, *config_file = NULL, *pos[1] = {NULL};
    int npos;
    const struct opt opts[] = {
        OPT_STRING('i', "id", &session_id, "SESSION_ID", "show this session only"),
        OPT_STRING(0, "config-file", &config_file, "FILE",
                   "the deploy file to read the agent name from (default\n"
                   "$PIPECAT_DEPLOY_CONFIG_PATH, else ./pcc-deploy.toml)"),
        OPT_ORG(&flag_org), OPT_END()};
    int status = args_parse(cli, argc, argv, opts, pos, 1, &npos);
    if (status != EXIT_OK)
        return status;
    struct deploy_config dc;
    const char *name = NULL;
    struct session s;
    struct client_reply r = {0};
    memset(&s, 0, sizeof s);
    char path[1024], missing[400];
    if ((status = agent_name_from(cli, pos[0], config_file, &dc, &name)) != EXIT_OK)
        goto out;
    if (session_id)
        snprintf(missing, sizeof missing, "Session '%s' not found for agent '%s'", session_id,
                 name);
    else
        snprintf(missing, sizeof missing, "No agent named '%s' (see `%s agent list`)", name,
                 cli->prog);
    if ((status = platform_open(cli, &s, flag_org)) != EXIT_OK ||
        (status = org_path(&s, path, sizeof path, "services", name, "sessions", session_id,
                           NULL)) != EXIT_OK ||
        (status = get_under_service(&s, path, &r, missing)) != EXIT_OK)
        goto out;
    if (session_id) {
        if (cli->json)
            out_json(json_incref(r.body));
        else
            show_session(cli, name, r.body);
        goto out;
    }
    json_t *list = json_object_get(r.body, "sessions");
    if (cli->json) {
        out_json(json_pack("{s:s, s:O}", "agent", name, "sessions", list ? list : json_array()));
        goto out;
    }
    size_t n = json_array_size(list);
    if (n == 0) {
        printf("No sessions found for agent '%s'.\n", name);
        goto out;
    }
    enum { COLS = 7 };
    const char **cells = calloc(n * COLS, sizeof *cells);
    char(*text)[4][64] = calloc(n, sizeof *text);
    double *durations = calloc(n, sizeof *durations), *starts = calloc(n, sizeof *starts);
    if (!cells || !text || !durations || !starts) {
        free(cells);
        free(text);
        free(durations);
        free(starts);
        status = EXIT_FAIL;
        goto out;
    }
    size_t nd = 0, ns = 0, cold = 0;
    for (size_t i = 0; i < n; i++) {
        json_t *x = json_array_get(list, i);
        double secs = seconds_between(json_object_get(x, "createdAt"),
                                      json_object_get(x, "endedAt"));
        const json_t *bot = json_object_get(x, "botStartSeconds");
        const json_t *cs = json_object_get(x, "coldStart");
        if (secs >= 0)
            durations[nd++] = secs;
        if (json_is_number(bot))
            starts[ns++] = json_number_value(bot);
        cold += json_is_true(cs);
        cells[i * COLS + 0] = str_or(json_object_get(x, "sessionId"), "");
        cells[i * COLS + 1] = out_when(json_object_get(x, "createdAt"), text[i][0], 64);
        cells[i * COLS + 2] = json_is_string(json_object_get(x, "endedAt"))
                                  ? out_when(json_object_get(x, "endedAt"), text[i][1], 64)
                                  : "";
        if (secs >= 0)
            snprintf(text[i][2], 64, "%.0fs", secs);
        cells[i * COLS + 3] = secs >= 0 ? text[i][2] : "";
        cells[i * COLS + 4] = session_status(x);
        if (json_is_number(bot)) {
            char nb[32];
            snprintf(text[i][3], 64, "%ss", json_text(bot, nb, sizeof nb, ""));
        }
        cells[i * COLS + 5] = json_is_number(bot) ? text[i][3] : "";
        cells[i * COLS + 6] = json_is_true(cs) ? "yes" : json_is_false(cs) ? "no" : "";
    }
    char line[200], sum[100];
    snprintf(line, sizeof line, "%zu (%zu cold start%s, %.0f%%)", n, cold, cold == 1 ? "" : "s",
             100.0 * (double)cold / (double)n);
    out_field(cli, "Sessions", line);
    out_field(cli, "Average Duration", summary_of(durations, nd, sum, sizeof sum));
    out_field(cli, "Bot Start Time", summary_of(starts, ns, sum, sizeof sum));
    putchar('\n');
    static const char *const headers[COLS] = {"SESSION ID", "CREATED",   "ENDED",     "DURATION",
                                              "STATUS",     "BOT START", "COLD START"};
    out_table(cli, COLS, headers, cells, n);
    free(cells);
    free(text);
    free(durations);
    free(starts);
out:
    client_reply_release(&r);
    session_close(&s);
    deploy_config_release(&dc);
    return status;
}

static int cmd_agent_delete(struct cli *cli, int argc, char **argv)
{
    const char *flag_org = NULL, *pos[1] = {NULL};
    int force = 0, npos;
    const struct opt opts[] = {OPT_BOOL('f', "force", &force, "do not ask for confirmation"),
                               OPT_ORG(&flag_org), OPT_END()};
    int status = args_parse(cli, argc, argv, opts, pos, 1, &npos);
    if (status != EXIT_OK)
        return status;
    if (npos != 1)
        return args_usage(cli);
    if ((status = confirm_unless(cli, force, "--force", 0,
                                 "Delete agent '%s'? Active sessions are not interrupted",
                                 pos[0])) != EXIT_OK)
        return status;
    struct session s;
    struct client_reply r = {0};
    char path[1024];
    if ((status = platform_open(cli, &s, flag_org)) != EXIT_OK ||
        (status = org_path(&s, path, sizeof path, "services", pos[0], NULL)) != EXIT_OK)
        goto out;
    s.quiet_not_found = 1;
    status = session_call(&s, "DELETE", path, NULL, &r);
    s.quiet_not_found = 0;
    if (status == SESSION_NOT_FOUND) {
        status = org_not_found(&s, "Agent '%s' not found in organization '%s'", pos[0], s.org);
        goto out;
    }
    if (status != EXIT_OK)
        goto out;
    if (cli->json)
        out_json(json_pack("{s:s, s:b}", "name", pos[0], "deleted", 1));
    else
        printf("Agent '%s' deleted successfully\n", pos[0]);
out:
    client_reply_release(&r);
    session_close(&s);
    return status;
}

/* POST /v1/public/NAME/start with the public key as the credential. */
static int public_start(struct session *s, const char *name, const char *key, const json_t *body,
                        struct client_reply *r)
{
    struct cli *cli = s->cli;
    struct client *pub = NULL;
    char seg[512], path[600], err[512], agent[64];
    snprintf(agent, sizeof agent, "pcc-cli/%s", PCC_CLI_VERSION);
    if (client_escape_segment(name, seg, sizeof seg) != RC_OK) {
        out_error(cli, "agent name too long");
        return EXIT_USAGE;
    }
    snprintf(path, sizeof path, "/v1/public/%s/start", seg);
    if (client_new(s->api_host, agent, &pub) != RC_OK || client_set_token(pub, key) != RC_OK) {
        client_free(pub);
        return EXIT_FAIL;
    }
    enum rc rc = client_request(pub, "POST", path, body, r, err, sizeof err);
    client_free(pub);
    if (rc != RC_OK) {
        out_error(cli, "%s", err);
        return EXIT_FAIL;
    }
    if (r->status >= 200 && r->status < 300)
        return EXIT_OK;
    const char *msg = client_reply_error(r);
    const char *code = json_string_value(json_object_get(r->body, "code"));
    if (r->status == 401)
        out_error(cli,
                  "the public API key was rejected (%s): it is invalid, revoked or not a "
                  "public key. See `%s organizations keys list`.",
                  msg, cli->prog);
    else if (r->status == 404)
        out_error(cli, "%s (HTTP 404): the agent does not exist in the API key's organization",
                  msg);
    else if (r->status == 503)
        out_error(cli, "agent '%s' cannot start a session now: %s (HTTP 503%s%s)", name, msg,
                  code && strcmp(code, "503") != 0 ? ", " : "",
                  code && strcmp(code, "503") != 0 ? code : "");
    else
        out_error(cli, "%s (HTTP %ld%s%s)", msg, r->status, code ? ", code " : "",
                  code ? code : "");
    client_reply_release(r);
    return EXIT_FAIL;
}

static int cmd_agent_start(struct cli *cli, int argc, char **argv)
{
    const char *flag_org = NULL, *key = NULL, *data = NULL, *props = NULL, *config_file = NULL;
    const char *pos[1] = {NULL};
    int force = 0, daily = 0, npos;
    const struct opt opts[] = {
        OPT_STRING('k', "api-key", &key, "KEY", "the public API key (pk_...) to start with"),
        OPT_STRING('d', "data", &data, "JSON", "JSON passed to the bot as its body"),
        OPT_BOOL('D', "use-daily", &daily, "create a Daily room for the session"),
        OPT_STRING('p', "daily-properties", &props, "JSON",
                   "Daily room properties (with --use-daily)"),
        OPT_BOOL('f', "force", &force, "do not ask for confirmation"),
        OPT_STRING(0, "config-file", &config_file, "FILE",
                   "the deploy file to read the agent name from (default\n"
                   "$PIPECAT_DEPLOY_CONFIG_PATH, else ./pcc-deploy.toml)"),
        OPT_ORG(&flag_org),
        OPT_END()};
    int status = args_parse(cli, argc, argv, opts, pos, 1, &npos);
    if (status != EXIT_OK)
        return status;
    json_t *data_json = NULL, *props_json = NULL, *body = NULL;
    json_error_t jerr;
    struct deploy_config dc;
    struct session s;
    struct client_reply r = {0}, started = {0};
    memset(&dc, 0, sizeof dc);
    memset(&s, 0, sizeof s);
    const char *name = NULL;
    if (data && !(data_json = json_loads(data, JSON_DECODE_ANY | JSON_REJECT_DUPLICATES, &jerr))) {
        out_error(cli, "--data is not valid JSON: %s (column %d)", jerr.text, jerr.column);
        status = EXIT_USAGE;
        goto out;
    }
    if (props && !daily) {
        out_error(cli, "--daily-properties needs --use-daily");
        status = EXIT_USAGE;
        goto out;
    }
    if (props && (!(props_json = json_loads(props, JSON_REJECT_DUPLICATES, &jerr)) ||
                  !json_is_object(props_json))) {
        out_error(cli, "--daily-properties must be a JSON object%s%s", props_json ? "" : ": ",
                  props_json ? "" : jerr.text);
        status = EXIT_USAGE;
        goto out;
    }
    if (key && !*key) {
        out_error(cli, "--api-key must not be empty");
        status = EXIT_USAGE;
        goto out;
    }
    if ((status = agent_name_from(cli, pos[0], config_file, &dc, &name)) != EXIT_OK)
        goto out;
    if ((status = confirm_unless(cli, force, "--force", 1, "Start a session of agent '%s'?",
                                 name)) != EXIT_OK)
        goto out;
    if ((status = platform_open(cli, &s, flag_org)) != EXIT_OK)
        goto out;
    if (!key)
        key = credfile_org_get_in(s.file, s.org, "default_public_key");
    if (!key || !*key) {
        out_error(cli,
                  "Public API Key Required: pass --api-key pk_..., or make a key the "
                  "default of %s with `%s organizations keys use`",
                  s.org, cli->prog);
        status = EXIT_USAGE;
        goto out;
    }
    json_t *svc;
    if ((status = get_service(&s, name, &r, &svc)) != EXIT_OK)
        goto out;
    if (!json_is_true(json_object_get(svc, "ready"))) {
        out_error(cli, "agent '%s' is not ready: see `%s agent status %s`", name, cli->prog, name);
        status = EXIT_FAIL;
        goto out;
    }
    body = json_pack("{s:b}", "createDailyRoom", daily);
    if (data_json)
        json_object_set(body, "body", data_json);
    if (props_json)
        json_object_set(body, "dailyRoomProperties", props_json);
    if ((status = public_start(&s, name, key, body, &started)) != EXIT_OK)
        goto out;
    if (cli->json) {
        out_json(json_incref(started.body));
        goto out;
    }
    const char *room = json_string_value(json_object_get(started.body, "dailyRoom"));
    const char *token = json_string_value(json_object_get(started.body, "dailyToken"));
    const char *sid = json_string_value(json_object_get(started.body, "sessionId"));
    printf("Agent '%s' started successfully\n", name);
    if (room) {
        char url[2048];
        snprintf(url, sizeof url, "%s%s%s", room, token ? "?t=" : "", token ? token : "");
        out_field(cli, "Join", url);
    }
    if (sid)
        out_field(cli, "Session ID", sid);
out:
    json_decref(data_json);
    json_decref(props_json);
    json_decref(body);
    client_reply_release(&r);
    client_reply_release(&started);
    session_close(&s);
    deploy_config_release(&dc);
    return status;
}

static int cmd_agent_stop(struct cli *cli, int argc, char **argv)
{
    const char *flag_org = NULL, *session_id = NULL, *config_file = NULL, *pos[1] = {NULL};
    int force = 0, npos;
    const struct opt opts[] = {
        OPT_STRING('s', "session-id", &session_id, "ID", "the session to stop (required)"),
        OPT_BOOL('f', "force", &force, "do not ask for confirmation"),
        OPT_STRING(0, "config-file", &config_file, "FILE",
                   "the deploy file to read the agent name from (default\n"
                   "$PIPECAT_DEPLOY_CONFIG_PATH, else ./pcc-deploy.toml)"),
        OPT_ORG(&flag_org), OPT_END()};
    int status = args_parse(cli, argc, argv, opts, pos, 1, &npos);
    if (status != EXIT_OK)
        return status;
    if (!session_id || !*session_id) {
        out_error(cli, "which session? pass --session-id ID (see `%s agent sessions`)", cli->prog);
        return EXIT_USAGE;
    }
    struct deploy_config dc;
    struct session s;
    struct client_reply r = {0};
    memset(&s, 0, sizeof s);
    const char *name = NULL;
    char path[1024];
    if ((status = agent_name_from(cli, pos[0], config_file, &dc, &name)) != EXIT_OK)
        goto out;
    if ((status = confirm_unless(cli, force, "--force", 0, "Stop session '%s' of agent '%s'?",
                                 session_id, name)) != EXIT_OK)
        goto out;
    if ((status = platform_open(cli, &s, flag_org)) != EXIT_OK ||
        (status = org_path(&s, path, sizeof path, "services", name, "sessions", session_id,
                           NULL)) != EXIT_OK)
        goto out;
    s.quiet_not_found = 1;
    status = session_call(&s, "DELETE", path, NULL, &r);
    s.quiet_not_found = 0;
    if (status == SESSION_NOT_FOUND) {
        status = org_not_found(&s, "Session '%s' of agent '%s' not found (it may have ended)",
                               session_id, name);
        goto out;
    }
    if (status != EXIT_OK)
        goto out;
    if (cli->json)
        out_json(
            json_pack("{s:s, s:s, s:b}", "agent", name, "sessionId", session_id, "stopped", 1));
    else
        printf("Session '%s' stopped successfully\n", session_id);
out:
    client_reply_release(&r);
    session_close(&s);
    deploy_config_release(&dc);
    return status;
}

/* The commands of this file: name, summary, synopsis, description and examples; their --help,
 * docs/cli page, completion and man page are generated from these and the option tables. */
const struct command agent_commands[] = {
    COMMAND("agent", "list", cmd_agent_list, "list the organization's agents",
            "[-r REGION] [-o ORG]",
            "List the organization's agents: name, region, id, active deployment, creation and\n"
            "update time.\n",
            "  pipecat cloud agent list\n"),
    COMMAND(
        "agent", "status", cmd_agent_status, "show an agent's deployment status", "NAME [-o ORG]",
        "Show agent NAME: readiness, image, profile, scaling, session count, revisions, health,\n"
        "conditions and errors. Exits 0 when the agent exists, ready or not.\n",
        "  pipecat cloud agent status my-agent\n"),
    COMMAND("agent", "deployments", cmd_agent_deployments, "list an agent's deployments",
            "NAME [-o ORG]",
            "List the deployments of agent NAME: id, node type, image, creation and update time.\n",
            "  pipecat cloud agent deployments my-agent\n"),
    COMMAND("agent", "logs", cmd_agent_logs, "show an agent's logs", "NAME [OPTIONS]",
            "Show the logs of agent NAME, one entry per line (timestamp, then the message).\n",
            "  pipecat cloud agent logs my-agent -n 20 -l ERROR\n"),
    COMMAND(
        "agent", "sessions", cmd_agent_sessions, "list an agent's sessions, or show one",
        "[NAME] [-i SESSION_ID] [--config-file FILE] [-o ORG]",
        "List the sessions of agent NAME with a summary (count, durations, bot start times, cold\n"
        "starts), or with --id show one session in detail. NAME defaults to agent_name in the\n"
        "deploy file.\n",
        "  pipecat cloud agent sessions my-agent\n"),
    COMMAND("agent", "delete", cmd_agent_delete, "delete an agent", "NAME [-f] [-o ORG]",
            "Delete agent NAME and its deployments. Active sessions are not interrupted. Asks to\n"
            "confirm unless --force (needed without a terminal).\n",
            "  pipecat cloud agent delete my-agent --force\n"),
    COMMAND("agent", "start", cmd_agent_start, "start a session of an agent",
            "[NAME] [-k KEY] [-d JSON] [-D [-p JSON]] [-f] [-o ORG]",
            "Start a session of agent NAME (default: agent_name in the deploy file) through the\n"
            "public start endpoint, authenticated with a public API key: --api-key, else the\n"
            "organization's default key (see `organizations keys use`). The agent must be ready.\n"
            "Asks to confirm unless --force (needed without a terminal).\n",
            "  pipecat cloud agent start my-agent --force -D\n"),
    COMMAND(
        "agent", "stop", cmd_agent_stop, "stop a session of an agent",
        "[NAME] -s SESSION_ID [-f] [-o ORG]",
        "Stop session SESSION_ID of agent NAME (default: agent_name in the deploy file). Asks to\n"
        "confirm unless --force (needed without a terminal).\n",
        "  pipecat cloud agent stop my-agent --session-id sess_... --force\n"),
    COMMAND_END};
