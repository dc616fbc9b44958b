/* docker_test.c: the Docker Engine API adapter (lib/runtime/docker.c) against a real engine and
 * real containers of the test agent (tests/agent). The engine's socket comes from
 * PCC_TEST_ENGINE_SOCKET, which `make unit` sets after scripts/engine.sh and agent-image.sh;
 * without it the engine tests skip. Every container carries this run's label and is removed. */
#include <curl/curl.h>
#include <stdarg.h>
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <signal.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <unistd.h>

#include <criterion/criterion.h>
#include <sodium.h>

#include "runtime.h"

#define IMAGE_DEFAULT "localhost/pcc-test-agent:latest"
#define NO_SUCH_IMAGE "localhost/pcc-no-such-image:latest"

static struct runtime *rt;
static const char *image;
static char run_label[96]; /* pcc.test-run=<unique>: every container of this test */
static char run_id[48];
static int64_t memory_limit;  /* start_agent's memory limit when not 0; else agent-1x's */
static int64_t nofile = 4096; /* start_agent's nofile ulimit */

static int64_t now_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static void setup(void)
{
    const char *sock = getenv("PCC_TEST_ENGINE_SOCKET");
    char err[256] = "";
    if (!sock || !*sock)
        cr_skip_test("PCC_TEST_ENGINE_SOCKET is not set: no container engine to test against "
                     "(make unit sets it after scripts/engine.sh)");
    cr_assert(sodium_init() >= 0);
    image = getenv("PCC_TEST_AGENT_IMAGE") && *getenv("PCC_TEST_AGENT_IMAGE")
                ? getenv("PCC_TEST_AGENT_IMAGE")
                : IMAGE_DEFAULT;
    snprintf(run_id, sizeof run_id, "%d-%08x", (int)getpid(), randombytes_random());
    snprintf(run_label, sizeof run_label, "pcc.test-run=%s", run_id);
    cr_assert_eq(runtime_docker_new(sock, &rt, err, sizeof err), RC_OK, "%s", err);
    struct runtime_version v;
    cr_assert_eq(rt->ops->ping(rt, &v, err, sizeof err), RC_OK, "engine on %s: %s", sock, err);
    /* Containers of an earlier run killed before its teardown (no test lasts ten minutes). */
    struct runtime_instance *stale = NULL;
    size_t n = 0;
    if (rt->ops->list(rt, "pcc.test-run", &stale, &n, err, sizeof err) == RC_OK)
        for (size_t i = 0; i < n; i++)
            if (stale[i].started_at && stale[i].started_at < now_ms() - 600000)
                rt->ops->remove(rt, stale[i].id, err, sizeof err);
    free(stale);
}

/* Removes every container of this run, whatever the test's outcome. */
static void teardown(void)
{
    struct runtime_instance *list = NULL;
    size_t n = 0;
    char err[256];
    if (!rt)
        return;
    if (rt->ops->list(rt, run_label, &list, &n, err, sizeof err) == RC_OK)
        for (size_t i = 0; i < n; i++)
            rt->ops->remove(rt, list[i].id, err, sizeof err);
    free(list);
    runtime_free(rt);
    rt = NULL;
}

TestSuite(docker, .init = setup, .fini = teardown, .timeout = 120);

/* Creates and starts an agent named <run>-<suffix> with the run's labels, agent-1x limits and
 * env (NULL-terminated name, value pairs after the mode). */
static struct runtime_instance start_agent(const char *suffix, const char *mode, ...)
{
    struct runtime_pair env[16] = {
        {"PORT", "8080"}, {"SHUTDOWN_TIMEOUT", "2"}, {"AGENT_MODE", mode}};
    size_t n_env = 3;
    va_list ap;
    va_start(ap, mode);
    for (const char *name; (name = va_arg(ap, const char *)) && n_env < 16; n_env++) {
        env[n_env].name = name;
        env[n_env].value = va_arg(ap, const char *);
    }
    va_end(ap);
    char name[128], err[256] = "";
    snprintf(name, sizeof name, "pcc-test-%s-%s", run_id, suffix);
    struct runtime_pair labels[] = {{"pcc.test-run", run_id},
                                    {"pcc.organization", "test-org"},
                                    {"pcc.agent", suffix},
                                    {"pcc.revision", "3"}};
    struct runtime_spec spec = {.image = image,
                                .name = name,
                                .labels = labels,
                                .n_labels = 4,
                                .env = env,
                                .n_env = n_env,
                                .container_port = 8080,
                                .nofile = nofile,
                                .nproc = 4096,
                                .stop_timeout_s = 5};
    cr_assert_eq(runtime_profile_limits("agent-1x", &spec.nano_cpus, &spec.memory_bytes), RC_OK);
    if (memory_limit)
        spec.memory_bytes = memory_limit;
    struct runtime_instance inst;
    enum rc rc = rt->ops->create(rt, &spec, &inst, err, sizeof err);
    cr_assert_eq(rc, RC_OK, "create %s: %s: %s", name, rc_name(rc), err);
    return inst;
}

struct body {
    char data[65536];
    size_t len;
};

static size_t take(char *p, size_t size, size_t n, void *arg)
{
    struct body *b = arg;
    size_t total = size * n;
    if (total > sizeof b->data - 1 - b->len)
        return 0;
    memcpy(b->data + b->len, p, total);
    b->len += total;
    b->data[b->len] = '\0';
    return total;
}

/* One HTTP call to the agent on 127.0.0.1:port; returns the status (0: no answer). */
static long http(int port, const char *method, const char *path, const char *session,
                 const char *json, struct body *out, long timeout_ms)
{
    char url[256], header[200];
    struct body ignored;
    struct curl_slist *headers = NULL;
    long status = 0;
    CURL *h = curl_easy_init();
    cr_assert_not_null(h);
    if (!out)
        out = &ignored;
    out->len = 0;
    out->data[0] = '\0';
    snprintf(url, sizeof url, "http://127.0.0.1:%d%s", port, path);
    curl_easy_setopt(h, CURLOPT_URL, url);
    curl_easy_setopt(h, CURLOPT_CUSTOMREQUEST, method);
    curl_easy_setopt(h, CURLOPT_TIMEOUT_MS, timeout_ms);
    curl_easy_setopt(h, CURLOPT_NOSIGNAL, 1L);
    curl_easy_setopt(h, CURLOPT_WRITEFUNCTION, take);
    curl_easy_setopt(h, CURLOPT_WRITEDATA, out);
    if (session) {
        snprintf(header, sizeof header, "X-Daily-Session-Id: %s", session);
        headers = curl_slist_append(headers, header);
    }
    if (json) {
        headers = curl_slist_append(headers, "Content-Type: application/json");
        curl_easy_setopt(h, CURLOPT_POSTFIELDS, json);
    }
    curl_easy_setopt(h, CURLOPT_HTTPHEADER, headers);
    if (curl_easy_perform(h) == CURLE_OK)
        curl_easy_getinfo(h, CURLINFO_RESPONSE_CODE, &status);
    curl_slist_free_all(headers);
    curl_easy_cleanup(h);
    return status;
}

/* Polls GET /readyz until 200 or the deadline; returns the last status. */
static long wait_ready(int port, int deadline_ms)
{
    long status = 0;
    for (int64_t end = now_ms() + deadline_ms; now_ms() < end; usleep(50 * 1000))
        if ((status = http(port, "GET", "/readyz", NULL, NULL, NULL, 1000)) == 200)
            break;
    return status;
}

struct lines {
    char text[16384];
    size_t len;
    int stderr_lines;
    int timed; /* lines that came with their time */
};

static int collect_line(void *arg, enum runtime_stream stream, int64_t at, const char *line,
                        size_t len)
{
    struct lines *l = arg;
    if (len + 2 < sizeof l->text - l->len) {
        memcpy(l->text + l->len, line, len);
        l->len += len;
        l->text[l->len++] = '\n';
        l->text[l->len] = '\0';
    }
    l->stderr_lines += stream == RUNTIME_STDERR;
    l->timed += at > 0;
    return 0;
}

/* The instance's logs, read again until they hold needle or 5 s passed: the engine writes
 * them asynchronously, so a line the agent wrote a moment ago may not be readable yet. */
static void logs_until(const char *id, const char *needle, struct lines *l)
{
    char err[256] = "";
    for (int64_t end = now_ms() + 5000;; usleep(100 * 1000)) {
        memset(l, 0, sizeof *l);
        cr_assert_eq(rt->ops->logs(rt, id, 0, 0, collect_line, l, err, sizeof err), RC_OK, "%s",
                     err);
        if (strstr(l->text, needle) || now_ms() > end)
            return;
    }
}

Test(docker, ping_names_the_engine_and_api_version)
{
    struct runtime_version v;
    char err[256] = "";
    cr_assert_eq(rt->ops->ping(rt, &v, err, sizeof err), RC_OK, "%s", err);
    cr_expect(strstr(v.engine, "Engine") != NULL, "engine '%s'", v.engine);
    cr_expect(v.version[0] != '\0');
    cr_expect(strncmp(v.api_version, "1.", 2) == 0, "api version '%s'", v.api_version);
    cr_expect_str_eq(rt->address, getenv("PCC_TEST_ENGINE_SOCKET"));
}

Test(docker, agent_starts_published_on_loopback_becomes_ready_and_gets_its_secrets)
{
    const char *secret = "s3cr3t \"quoted\" = \\ and ünïcode";
    struct runtime_instance inst = start_agent("ready", "normal", "DAILY_API_KEY", secret, "EMPTY",
                                               "", NULL);
    char err[256] = "";
    cr_assert_gt(inst.host_port, 0, "create returns the published port");
    cr_expect_eq(inst.state, RUNTIME_STATE_RUNNING, "state %s", runtime_state_name(inst.state));
    cr_assert_eq(wait_ready(inst.host_port, 10000), 200, "GET /readyz answers 200");
    cr_expect_eq(http(inst.host_port, "GET", "/livez", NULL, NULL, NULL, 2000), 200);

    struct body env;
    cr_assert_eq(http(inst.host_port, "GET", "/env", NULL, NULL, &env, 2000), 200);
    json_t *j = json_loads(env.data, 0, NULL);
    cr_assert_not_null(j, "/env is JSON: %s", env.data);
    cr_expect_str_eq(json_string_value(json_object_get(j, "DAILY_API_KEY")), secret);
    cr_expect_str_eq(json_string_value(json_object_get(j, "EMPTY")), "");
    cr_expect_str_eq(json_string_value(json_object_get(j, "PORT")), "8080");
    cr_expect_str_eq(json_string_value(json_object_get(j, "SHUTDOWN_TIMEOUT")), "2");
    json_decref(j);

    struct runtime_instance again;
    cr_assert_eq(rt->ops->inspect(rt, inst.id, &again, err, sizeof err), RC_OK, "%s", err);
    cr_expect_str_eq(again.id, inst.id);
    cr_expect_eq(again.host_port, inst.host_port);
    cr_expect_gt(again.started_at, now_ms() - 120000, "started_at %lld",
                 (long long)again.started_at);
    cr_expect_eq(again.finished_at, 0);
    cr_expect_str_eq(runtime_label(&again, "pcc.organization"), "test-org");
    cr_expect_str_eq(runtime_label(&again, "pcc.agent"), "ready");
    cr_expect_str_eq(runtime_label(&again, "pcc.revision"), "3");

    /* The profile's limits are enforced: the engine reports agent-1x's 1 GiB as the limit. */
    struct runtime_stats a, b;
    cr_assert_eq(rt->ops->stats(rt, inst.id, &a, err, sizeof err), RC_OK, "%s", err);
    cr_expect_eq(a.memory_limit, (uint64_t)1 << 30, "memory limit %llu",
                 (unsigned long long)a.memory_limit);
    cr_expect_gt(a.memory_bytes, 0);
    cr_expect_gt(a.cpu_ns, 0);
    usleep(300 * 1000);
    cr_assert_eq(rt->ops->stats(rt, inst.id, &b, err, sizeof err), RC_OK, "%s", err);
    cr_expect_geq(b.cpu_ns, a.cpu_ns);
    cr_expect_lt(runtime_millicores(&a, &b), 500, "an idle agent under its 0.5 CPU limit");
}

Test(docker, a_session_is_held_open_and_logged_with_its_id_and_body)
{
    struct runtime_instance inst = start_agent("session", "normal", NULL);
    char err[256] = "";
    cr_assert_eq(wait_ready(inst.host_port, 10000), 200);
    int64_t before = now_ms();
    struct body reply;
    long status = http(inst.host_port, "POST", "/bot", "sess-42",
                       "{\"durationSeconds\": 1, \"note\": \"hello from the test\"}", &reply,
                       10000);
    cr_assert_eq(status, 200);
    cr_expect_str_eq(reply.data, "{}");
    cr_expect_geq(now_ms() - before, 1000, "/bot answers only when the session ends");

    struct lines l;
    logs_until(inst.id, "| sess-42 - session ended", &l);
    cr_expect(strstr(l.text, "| sess-42 - session started, body {\"durationSeconds\": 1, "
                             "\"note\": \"hello from the test\"}") != NULL,
              "logs:\n%s", l.text);
    cr_expect(strstr(l.text, "| sess-42 - session ended: duration reached") != NULL, "logs:\n%s",
              l.text);
    cr_expect_geq(l.stderr_lines, 3, "the agent logs to stderr");
    cr_expect_eq(l.timed, l.stderr_lines, "every line has its time");

    /* since: only what came after. */
    struct lines later = {.len = 0};
    cr_assert_eq(
        rt->ops->logs(rt, inst.id, now_ms() + 60000, 0, collect_line, &later, err, sizeof err),
        RC_OK, "%s", err);
    cr_expect_eq(later.len, 0, "nothing logged in the future: %s", later.text);
}

Test(docker, a_session_ends_on_request_and_sigterm_lets_the_agent_exit_cleanly)
{
    struct runtime_instance inst = start_agent("end", "normal", NULL);
    char err[256] = "";
    cr_assert_eq(wait_ready(inst.host_port, 10000), 200);
    cr_expect_eq(http(inst.host_port, "POST", "/end?session=none", NULL, "{}", NULL, 2000), 404);
    /* A session held open (no duration) is ended from outside. */
    pid_t child = fork();
    cr_assert_geq(child, 0);
    if (child == 0) {
        usleep(500 * 1000);
        _exit(http(inst.host_port, "POST", "/end?session=held", NULL, "{}", NULL, 2000) == 200 ? 0
                                                                                               : 1);
    }
    cr_expect_eq(http(inst.host_port, "POST", "/bot", "held", "{}", NULL, 10000), 200);
    int ws;
    waitpid(child, &ws, 0);
    cr_expect(WIFEXITED(ws) && WEXITSTATUS(ws) == 0, "POST /end found the session");

    /* SIGTERM during a session: the agent lets it run SHUTDOWN_TIMEOUT (2 s), answers it,
     * and exits 0 before the stop timeout's SIGKILL. */
    child = fork();
    cr_assert_geq(child, 0);
    if (child == 0)
        _exit(http(inst.host_port, "POST", "/bot", "draining", "{}", NULL, 20000) == 200 ? 0 : 1);
    usleep(500 * 1000);
    int64_t t0 = now_ms();
    cr_assert_eq(rt->ops->stop(rt, inst.id, 10, err, sizeof err), RC_OK, "%s", err);
    cr_expect_geq(now_ms() - t0, 1500, "the running session was given SHUTDOWN_TIMEOUT");
    cr_expect_lt(now_ms() - t0, 9000, "and the agent exited before SIGKILL");
    waitpid(child, &ws, 0);
    cr_expect(WIFEXITED(ws) && WEXITSTATUS(ws) == 0, "the draining session was answered");
    struct runtime_instance after;
    cr_assert_eq(rt->ops->inspect(rt, inst.id, &after, err, sizeof err), RC_OK, "%s", err);
    cr_expect_eq(after.state, RUNTIME_STATE_EXITED, "%s", runtime_state_name(after.state));
    cr_expect_eq(after.exit_code, 0, "SIGTERM is a clean exit");
    struct runtime_stats st;
    struct runtime_version v;
    cr_assert_eq(rt->ops->ping(rt, &v, err, sizeof err), RC_OK, "%s", err);
    if (strcmp(v.engine, "Podman Engine") == 0)
        cr_expect_eq(rt->ops->stats(rt, inst.id, &st, err, sizeof err), RC_CONFLICT, "%s", err);
    cr_expect_geq(after.finished_at, after.started_at);
    cr_expect_eq(rt->ops->stop(rt, inst.id, 5, err, sizeof err), RC_OK, "stopping twice is fine");
}

Test(docker, crash_mode_gives_the_exit_code_and_exited_state)
{
    struct runtime_instance inst = start_agent("crash", "crash", "AGENT_EXIT_CODE", "7",
                                               "AGENT_CRASH_AFTER_MS", "300", NULL);
    char err[256] = "";
    int code = -1;
    cr_assert_eq(rt->ops->wait(rt, inst.id, 10000, &code, err, sizeof err), RC_OK, "%s", err);
    cr_expect_eq(code, 7);
    struct runtime_instance after;
    cr_assert_eq(rt->ops->inspect(rt, inst.id, &after, err, sizeof err), RC_OK, "%s", err);
    cr_expect_eq(after.state, RUNTIME_STATE_EXITED, "%s", runtime_state_name(after.state));
    cr_expect_eq(after.exit_code, 7);
    cr_expect_eq(after.oom_killed, 0);
    struct lines l;
    logs_until(inst.id, "crashing as configured", &l);
    cr_expect(strstr(l.text, "crashing as configured, exit code 7") != NULL, "%s", l.text);
}

Test(docker, an_instance_dying_mid_session_drops_the_session)
{
    struct runtime_instance inst = start_agent("midcrash", "normal", "AGENT_EXIT_CODE", "9", NULL);
    char err[256] = "";
    cr_assert_eq(wait_ready(inst.host_port, 10000), 200);
    long status = http(inst.host_port, "POST", "/bot", "doomed", "{\"crash\": true}", NULL, 5000);
    cr_expect_eq(status, 0, "no answer from a dead instance");
    int code = -1;
    cr_assert_eq(rt->ops->wait(rt, inst.id, 10000, &code, err, sizeof err), RC_OK, "%s", err);
    cr_expect_eq(code, 9);
}

/* The kernel kills it (SIGKILL: 137). Podman 4.3 on cgroups v1 does not set OOMKilled, so
 * only dockerd's answer is checked for it; see docs/runtime.md. */
Test(docker, over_its_memory_limit_an_instance_is_killed)
{
    memory_limit = (int64_t)64 << 20;
    struct runtime_instance inst = start_agent("oom", "normal", NULL);
    char err[256] = "";
    cr_assert_eq(wait_ready(inst.host_port, 10000), 200);
    cr_expect_eq(
        http(inst.host_port, "POST", "/bot", "greedy", "{\"allocateMB\": 512}", NULL, 10000), 0,
        "no answer from a killed instance");
    int code = -1;
    cr_assert_eq(rt->ops->wait(rt, inst.id, 10000, &code, err, sizeof err), RC_OK, "%s", err);
    struct runtime_instance after;
    cr_assert_eq(rt->ops->inspect(rt, inst.id, &after, err, sizeof err), RC_OK, "%s", err);
    cr_expect_eq(after.state, RUNTIME_STATE_EXITED);
    cr_expect_eq(after.exit_code, 137, "SIGKILL: exit code %d", after.exit_code);
    cr_expect_eq(code, 137);
    struct runtime_version v;
    cr_assert_eq(rt->ops->ping(rt, &v, err, sizeof err), RC_OK, "%s", err);
    if (strcmp(v.engine, "Docker Engine") == 0)
        cr_expect_eq(after.oom_killed, 1, "dockerd says it was the memory limit");
}

Test(docker, a_start_the_engine_refuses_leaves_no_instance_behind)
{
    nofile = (int64_t)1 << 40; /* above any hard limit: the OCI runtime refuses to start it */
    char name[128], err[256] = "";
    snprintf(name, sizeof name, "pcc-test-%s-refused", run_id);
    struct runtime_pair labels[] = {{"pcc.test-run", run_id}};
    struct runtime_spec spec = {.image = image,
                                .name = name,
                                .labels = labels,
                                .n_labels = 1,
                                .container_port = 8080,
                                .nofile = nofile,
                                .nproc = 4096};
    struct runtime_instance inst;
    enum rc rc = rt->ops->create(rt, &spec, &inst, err, sizeof err);
    cr_expect_eq(rc, RC_ENGINE, "%s: %s", rc_name(rc), err);
    cr_expect(strstr(err, "start") != NULL, "the message says what failed: %s", err);
    struct runtime_instance *list = NULL;
    size_t n = 0;
    cr_assert_eq(rt->ops->list(rt, run_label, &list, &n, err, sizeof err), RC_OK, "%s", err);
    cr_expect_eq(n, 0, "the created instance was removed again");
    free(list);
}

struct until {
    const char *needle;
    int seen;
};

static int stop_at(void *arg, enum runtime_stream stream, int64_t at, const char *line, size_t len)
{
    struct until *u = arg;
    (void)stream, (void)at;
    u->seen += memmem(line, len, u->needle, strlen(u->needle)) != NULL;
    return u->seen > 0;
}

Test(docker, followed_logs_end_with_the_instance_or_when_the_reader_stops)
{
    struct runtime_instance dying = start_agent("follow1", "crash", "AGENT_CRASH_AFTER_MS", "1500",
                                                NULL);
    struct runtime_instance living = start_agent("follow2", "normal", NULL);
    char err[256] = "";
    /* Follows until the instance exits: the crash line is the last one. */
    struct lines l = {.len = 0};
    int64_t t0 = now_ms();
    cr_assert_eq(rt->ops->logs(rt, dying.id, 0, 1, collect_line, &l, err, sizeof err), RC_OK, "%s",
                 err);
    cr_expect(strstr(l.text, "crashing as configured") != NULL, "%s", l.text);
    cr_expect_lt(now_ms() - t0, 15000);
    /* Stops at the reader's word, though the instance lives on. */
    struct until u = {.needle = "listening on"};
    cr_assert_eq(rt->ops->logs(rt, living.id, 0, 1, stop_at, &u, err, sizeof err), RC_OK, "%s",
                 err);
    cr_expect_eq(u.seen, 1);
    struct runtime_instance still;
    cr_assert_eq(rt->ops->inspect(rt, living.id, &still, err, sizeof err), RC_OK, "%s", err);
    cr_expect_eq(still.state, RUNTIME_STATE_RUNNING);
}

Test(docker, never_ready_stays_503_while_alive)
{
    struct runtime_instance inst = start_agent("never", "never-ready", NULL);
    cr_expect_eq(wait_ready(inst.host_port, 2000), 503, "never ready");
    cr_expect_eq(http(inst.host_port, "GET", "/livez", NULL, NULL, NULL, 2000), 200);
}

Test(docker, slow_ready_becomes_ready_later)
{
    struct runtime_instance inst = start_agent("slow", "slow-ready", "AGENT_READY_AFTER_MS", "1500",
                                               NULL);
    int64_t t0 = now_ms();
    cr_expect_eq(wait_ready(inst.host_port, 10000), 200);
    cr_expect_geq(now_ms() - t0, 500, "not ready at once");
}

Test(docker, wait_times_out_on_a_running_instance)
{
    struct runtime_instance inst = start_agent("wait", "normal", NULL);
    char err[256] = "";
    int code = -1;
    cr_expect_eq(rt->ops->wait(rt, inst.id, 500, &code, err, sizeof err), RC_TIMEOUT, "%s", err);
}

Test(docker, list_by_label_finds_exactly_this_runs_instances_and_remove_leaves_none)
{
    struct runtime_instance one = start_agent("list1", "normal", NULL);
    struct runtime_instance two = start_agent("list2", "crash", NULL);
    struct runtime_instance *list = NULL;
    size_t n = 0;
    char err[256] = "";
    cr_assert_eq(rt->ops->list(rt, run_label, &list, &n, err, sizeof err), RC_OK, "%s", err);
    cr_assert_eq(n, 2, "found %zu", n);
    int seen_one = 0, seen_two = 0;
    for (size_t i = 0; i < n; i++) {
        seen_one += strcmp(list[i].id, one.id) == 0;
        seen_two += strcmp(list[i].id, two.id) == 0;
        cr_expect_str_eq(runtime_label(&list[i], "pcc.test-run"), run_id);
    }
    cr_expect(seen_one == 1 && seen_two == 1);
    free(list);

    cr_assert_eq(rt->ops->stop(rt, one.id, 2, err, sizeof err), RC_OK, "%s", err);
    cr_assert_eq(rt->ops->remove(rt, one.id, err, sizeof err), RC_OK, "%s", err);
    cr_assert_eq(rt->ops->remove(rt, two.id, err, sizeof err), RC_OK, "%s", err);
    cr_assert_eq(rt->ops->list(rt, run_label, &list, &n, err, sizeof err), RC_OK, "%s", err);
    cr_expect_eq(n, 0, "none left");
    free(list);
    cr_expect_eq(rt->ops->remove(rt, one.id, err, sizeof err), RC_NOT_FOUND);
    struct runtime_instance gone;
    cr_expect_eq(rt->ops->inspect(rt, one.id, &gone, err, sizeof err), RC_NOT_FOUND);
    cr_expect_eq(
        rt->ops->logs(rt, one.id, 0, 0, collect_line, &(struct lines){.len = 0}, err, sizeof err),
        RC_NOT_FOUND, "%s", err);
}

Test(docker, a_taken_name_is_a_conflict)
{
    start_agent("twice", "normal", NULL);
    char name[128], err[256] = "";
    snprintf(name, sizeof name, "pcc-test-%s-twice", run_id);
    struct runtime_pair labels[] = {{"pcc.test-run", run_id}};
    struct runtime_spec spec = {.image = image,
                                .name = name,
                                .labels = labels,
                                .n_labels = 1,
                                .container_port = 8080,
                                .nofile = 4096,
                                .nproc = 4096};
    struct runtime_instance inst;
    cr_expect_eq(rt->ops->create(rt, &spec, &inst, err, sizeof err), RC_CONFLICT, "%s", err);
}

Test(docker, a_missing_image_is_image_not_found)
{
    char name[128], err[256] = "";
    snprintf(name, sizeof name, "pcc-test-%s-noimage", run_id);
    struct runtime_pair labels[] = {{"pcc.test-run", run_id}};
    struct runtime_spec spec = {.image = NO_SUCH_IMAGE,
                                .name = name,
                                .labels = labels,
                                .n_labels = 1,
                                .container_port = 8080};
    struct runtime_instance inst;
    cr_expect_eq(rt->ops->create(rt, &spec, &inst, err, sizeof err), RC_IMAGE_NOT_FOUND, "%s", err);
    cr_expect(strstr(err, NO_SUCH_IMAGE) != NULL, "the message names the image: %s", err);
    struct runtime_image img;
    cr_expect_eq(rt->ops->image_inspect(rt, NO_SUCH_IMAGE, &img, err, sizeof err),
                 RC_IMAGE_NOT_FOUND);
    cr_assert_eq(rt->ops->image_inspect(rt, image, &img, err, sizeof err), RC_OK, "%s", err);
    cr_expect_gt(img.size_bytes, 0);
    cr_expect(img.id[0] != '\0');
}

static pid_t registry_pid;

/* Starts tests/agent/registry.py serving the test image's OCI layout to robot:password on
 * 127.0.0.1; returns its port. The test runs from the repository's root (as make runs it). */
static int start_registry(const char *password)
{
    const char *oci = getenv("PCC_TEST_AGENT_OCI");
    cr_assert(oci && *oci, "PCC_TEST_AGENT_OCI (the test image as an OCI layout) is not set: "
                           "make unit sets it after scripts/agent-image.sh");
    cr_assert_eq(access("tests/agent/registry.py", R_OK), 0, "run from the repository's root");
    int fds[2];
    cr_assert_eq(pipe(fds), 0);
    registry_pid = fork();
    cr_assert_geq(registry_pid, 0);
    if (registry_pid == 0) {
        dup2(fds[1], 1);
        close(fds[0]);
        execl("/usr/bin/python3", "python3", "tests/agent/registry.py", oci, "robot", password,
              (char *)NULL);
        _exit(127);
    }
    close(fds[1]);
    char line[32] = "";
    size_t have = 0;
    for (ssize_t n; have < sizeof line - 1 && !strchr(line, '\n'); have += (size_t)n)
        if ((n = read(fds[0], line + have, sizeof line - 1 - have)) <= 0)
            break;
    close(fds[0]);
    cr_assert(strchr(line, '\n'), "the registry printed its port");
    return (int)strtol(line, NULL, 10);
}

/* The test's own .fini replaces the suite's: stop the registry, then tidy as every test does. */
static void stop_registry(void)
{
    if (registry_pid > 0) {
        kill(registry_pid, SIGTERM);
        waitpid(registry_pid, NULL, 0);
        registry_pid = 0;
    }
    teardown();
}

Test(docker, a_pull_with_the_image_pull_secret_runs_and_wrong_credentials_are_refused,
     .fini = stop_registry)
{
    char password[40], ref[128], missing[128], server[32], err[512] = "";
    snprintf(password, sizeof password, "pull-%08x", randombytes_random());
    int port = start_registry(password);
    snprintf(server, sizeof server, "127.0.0.1:%d", port);
    snprintf(ref, sizeof ref, "%s/pcc-test-agent:latest", server);
    snprintf(missing, sizeof missing, "%s/pcc-test-agent:no-such-tag", server);

    struct runtime_registry_auth bad = {
        .username = "robot", .password = "not-the-password", .server = server};
    enum rc rc = rt->ops->image_pull(rt, ref, &bad, err, sizeof err);
    cr_expect_eq(rc, RC_PULL_REFUSED, "%s: %s", rc_name(rc), err);
    cr_expect(strstr(err, "not-the-password") == NULL, "no secret in: %s", err);
    rc = rt->ops->image_pull(rt, ref, NULL, err, sizeof err);
    cr_expect_eq(rc, RC_PULL_REFUSED, "anonymous: %s: %s", rc_name(rc), err);

    struct runtime_registry_auth good = {
        .username = "robot", .password = password, .server = server};
    rc = rt->ops->image_pull(rt, missing, &good, err, sizeof err);
    cr_expect_eq(rc, RC_IMAGE_NOT_FOUND, "%s: %s", rc_name(rc), err);
    cr_expect(strstr(err, password) == NULL, "no secret in: %s", err);

    rc = rt->ops->image_pull(rt, ref, &good, err, sizeof err);
    cr_assert_eq(rc, RC_OK, "%s: %s", rc_name(rc), err);
    struct runtime_image img;
    cr_expect_eq(rt->ops->image_inspect(rt, ref, &img, err, sizeof err), RC_OK, "%s", err);
    /* The pulled image runs. */
    const char *local = image;
    image = ref;
    struct runtime_instance inst = start_agent("pulled", "normal", NULL);
    image = local;
    cr_expect_eq(wait_ready(inst.host_port, 10000), 200);
    cr_assert_eq(rt->ops->remove(rt, inst.id, err, sizeof err), RC_OK, "%s", err);
    /* The pulled name is one more tag of the local image: removing it leaves the other. */
    cr_expect_eq(rt->ops->image_remove(rt, ref, err, sizeof err), RC_OK, "%s", err);
    cr_expect_eq(rt->ops->image_inspect(rt, ref, &img, err, sizeof err), RC_IMAGE_NOT_FOUND);
    cr_expect_eq(rt->ops->image_remove(rt, ref, err, sizeof err), RC_IMAGE_NOT_FOUND, "%s", err);
    cr_expect_eq(rt->ops->image_inspect(rt, image, &img, err, sizeof err), RC_OK, "%s", err);
}

Test(docker, a_failed_pull_names_the_image_and_never_the_password)
{
    /* Nothing can be pulled here: a registry on a closed loopback port fails for sure. */
    const char *pull_image = "127.0.0.1:9/pcc/nothing:latest";
    struct runtime_registry_auth auth = {
        .username = "robot", .password = "hunter2-pull-secret", .server = "127.0.0.1:9"};
    char err[512] = "";
    enum rc rc = rt->ops->image_pull(rt, pull_image, &auth, err, sizeof err);
    cr_expect_neq(rc, RC_OK);
    cr_expect(strstr(err, "127.0.0.1:9/pcc/nothing") != NULL, "%s: %s", rc_name(rc), err);
    cr_expect(strstr(err, "hunter2") == NULL, "no secret in: %s", err);
}

Test(docker, invalid_references_never_reach_the_engine)
{
    struct runtime_instance inst;
    char err[256] = "";
    cr_expect_eq(rt->ops->inspect(rt, "../../version", &inst, err, sizeof err), RC_INVALID);
    cr_expect_eq(rt->ops->inspect(rt, "a?b", &inst, err, sizeof err), RC_INVALID);
    cr_expect_eq(rt->ops->remove(rt, "", err, sizeof err), RC_INVALID);
    struct runtime_pair env[] = {{"A=B", "c"}};
    struct runtime_pair labels[] = {{"pcc.test-run", run_id}};
    struct runtime_spec spec = {.image = image,
                                .name = "pcc-test-badenv",
                                .labels = labels,
                                .n_labels = 1,
                                .env = env,
                                .n_env = 1,
                                .container_port = 8080};
    cr_expect_eq(rt->ops->create(rt, &spec, &inst, err, sizeof err), RC_INVALID);
    cr_expect(strstr(err, "A=B") != NULL, "%s", err);
    spec.env = NULL, spec.n_env = 0, spec.name = "../x";
    cr_expect_eq(rt->ops->create(rt, &spec, &inst, err, sizeof err), RC_INVALID);
}

/* --- without an engine ---------------------------------------------------------------------- */

Test(runtime, an_unreachable_socket_is_engine_unreachable)
{
    const char *paths[] = {"/nonexistent-pcc-dir/engine.sock", "/dev/null"};
    for (size_t i = 0; i < 2; i++) {
        struct runtime *r;
        struct runtime_version v;
        struct runtime_instance inst;
        char err[256] = "";
        cr_assert_eq(runtime_docker_new(paths[i], &r, err, sizeof err), RC_OK, "%s", err);
        cr_expect_eq(r->ops->ping(r, &v, err, sizeof err), RC_ENGINE_UNREACHABLE, "%s", paths[i]);
        cr_expect(strstr(err, paths[i]) != NULL, "the message names the socket: %s", err);
        cr_expect_eq(r->ops->inspect(r, "abc", &inst, err, sizeof err), RC_ENGINE_UNREACHABLE);
        runtime_free(r);
    }
}

Test(runtime, none_refuses_everything_honestly)
{
    struct runtime *r;
    struct runtime_version v;
    struct runtime_instance inst;
    struct runtime_spec spec = {.image = IMAGE_DEFAULT, .name = "x", .container_port = 8080};
    char err[256] = "";
    cr_assert_eq(runtime_open("none", NULL, runtime_default_sockets, &r, err, sizeof err), RC_OK);
    cr_expect_str_eq(r->kind, "none");
    cr_expect_eq(r->ops->ping(r, &v, err, sizeof err), RC_NO_RUNTIME);
    cr_expect_eq(r->ops->create(r, &spec, &inst, err, sizeof err), RC_NO_RUNTIME);
    cr_expect(strstr(err, "no agent runtime is attached") != NULL, "%s", err);
    runtime_free(r);
    runtime_free(NULL);
    cr_expect_eq(runtime_open("kubernetes", NULL, NULL, &r, err, sizeof err), RC_INVALID);
    cr_expect_null(r);
}

Test(runtime, socket_discovery_prefers_explicit_then_docker_host_then_candidates)
{
    char dir[] = "/tmp/pcc-sock-XXXXXX", sock[128], out[RUNTIME_SOCKET_SIZE], err[512] = "";
    cr_assert_not_null(mkdtemp(dir));
    snprintf(sock, sizeof sock, "%s/engine.sock", dir);
    struct sockaddr_un addr = {.sun_family = AF_UNIX};
    snprintf(addr.sun_path, sizeof addr.sun_path, "%s", sock);
    int fd = socket(AF_UNIX, SOCK_STREAM, 0);
    cr_assert(fd >= 0 && bind(fd, (struct sockaddr *)&addr, sizeof addr) == 0,
              "a socket file to find");
    const char *candidates[] = {"/nonexistent-pcc/a.sock", sock, NULL};

    cr_assert_eq(runtime_socket_find("/x/explicit.sock", "unix:///x/host.sock", candidates, out,
                                     sizeof out, err, sizeof err),
                 RC_OK);
    cr_expect_str_eq(out, "/x/explicit.sock");
    cr_assert_eq(runtime_socket_find("", "unix:///x/host.sock", candidates, out, sizeof out, err,
                                     sizeof err),
                 RC_OK);
    cr_expect_str_eq(out, "/x/host.sock");
    cr_assert_eq(runtime_socket_find(NULL, "tcp://10.0.0.1:2375", candidates, out, sizeof out, err,
                                     sizeof err),
                 RC_OK);
    cr_expect_str_eq(out, sock, "the first candidate that is a socket");
    const char *none[] = {"/nonexistent-pcc/a.sock", dir, NULL};
    cr_expect_eq(runtime_socket_find(NULL, NULL, none, out, sizeof out, err, sizeof err),
                 RC_NOT_FOUND);
    cr_expect(strstr(err, "/nonexistent-pcc/a.sock") != NULL, "%s", err);

    struct runtime *r;
    char spec[200];
    snprintf(spec, sizeof spec, "docker:%s", sock);
    cr_assert_eq(runtime_open(spec, NULL, NULL, &r, err, sizeof err), RC_OK, "%s", err);
    cr_expect_str_eq(r->kind, "docker");
    runtime_free(r);
    close(fd);
    unlink(sock);
    rmdir(dir);
}

Test(runtime, profiles_and_cpu_rates)
{
    int64_t cpus, mem;
    cr_assert_eq(runtime_profile_limits("agent-1x", &cpus, &mem), RC_OK);
    cr_expect(cpus == 500000000 && mem == (int64_t)1 << 30);
    cr_assert_eq(runtime_profile_limits("agent-2x", &cpus, &mem), RC_OK);
    cr_expect(cpus == 1000000000 && mem == (int64_t)2 << 30);
    cr_expect_eq(runtime_profile_limits("agent-3x", &cpus, &mem), RC_INVALID);
    struct runtime_stats a = {.at = 1000, .cpu_ns = 0}, b = {.at = 3000, .cpu_ns = 1000000000};
    cr_expect_eq(runtime_millicores(&a, &b), 500, "1 s of CPU in 2 s is half a CPU");
    cr_expect_eq(runtime_millicores(&b, &a), 0);
}
