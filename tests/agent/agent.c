/* agent.c: pcc's own test agent, a static HTTP/1.1 server speaking the agent container contract
 * (/livez, /readyz, POST /bot held open for the session, GET /env) with modes that misbehave on
 * purpose (AGENT_MODE=crash, never-ready, slow-ready; {"crash": true} or {"allocateMB": N} in a
 * /bot body) so runtime tests see real failures. */
#include <errno.h>
#include <limits.h>
#include <netinet/in.h>
#include <poll.h>
#include <pthread.h>
#include <signal.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include "banned.h"

#define HEADER_MAX 8192     /* a request's header block */
#define BODY_MAX 65536      /* a request's body */
#define SESSION_ID_MAX 128  /* X-Daily-Session-Id, and ?session= of /end */
#define SESSIONS_MAX 64     /* sessions open at once (one is the contract; tests may try more) */
#define CONNECTIONS_MAX 128 /* connections served at once */

extern char **environ;

/* Frozen configuration, read once from the environment. */
static struct {
    int port;
    const char *mode;
    int exit_code;
    long crash_after_ms;
    long ready_after_ms;
    long shutdown_timeout_s;
} cfg;

static int64_t started_ms;
static volatile sig_atomic_t terminating;
static pthread_mutex_t lock = PTHREAD_MUTEX_INITIALIZER;
static int connections;
static struct session {
    char id[SESSION_ID_MAX];
    int used;
    int end_requested;
} sessions[SESSIONS_MAX];
static int sessions_open;

static int64_t now_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* One log line on stderr, in the base image's shape: "time | LEVEL | session - message". */
static void logline(const char *level, const char *session, const char *fmt, ...)
{
    char msg[1024], stamp[32];
    struct timespec ts;
    struct tm tm;
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof msg, fmt, ap);
    va_end(ap);
    clock_gettime(CLOCK_REALTIME, &ts);
    gmtime_r(&ts.tv_sec, &tm);
    strftime(stamp, sizeof stamp, "%Y-%m-%d %H:%M:%S", &tm);
    pthread_mutex_lock(&lock);
    fprintf(stderr, "%s.%03ld | %-8s | %s - %s\n", stamp, ts.tv_nsec / 1000000, level,
            session && *session ? session : "-", msg);
    fflush(stderr);
    pthread_mutex_unlock(&lock);
}

static long env_long(const char *name, long def)
{
    const char *v = getenv(name);
    char *end;
    if (!v || !*v)
        return def;
    errno = 0;
    long n = strtol(v, &end, 10);
    return errno || *end || n < 0 ? def : n;
}

static int ready(void)
{
    if (terminating || strcmp(cfg.mode, "never-ready") == 0)
        return 0;
    if (strcmp(cfg.mode, "slow-ready") == 0)
        return now_ms() - started_ms >= cfg.ready_after_ms;
    return 1;
}

static int write_all(int fd, const char *p, size_t n)
{
    while (n > 0) {
        ssize_t w = send(fd, p, n, MSG_NOSIGNAL);
        if (w < 0 && errno == EINTR)
            continue;
        if (w <= 0)
            return -1;
        p += w;
        n -= (size_t)w;
    }
    return 0;
}

static void reply(int fd, int status, const char *body)
{
    const char *reason = status == 200   ? "OK"
                         : status == 404 ? "Not Found"
                         : status == 503 ? "Service Unavailable"
                         : status == 413 ? "Payload Too Large"
                                         : "Bad Request";
    char head[256];
    int n = snprintf(head, sizeof head,
                     "HTTP/1.1 %d %s\r\nContent-Type: application/json\r\n"
                     "Content-Length: %zu\r\nConnection: close\r\n\r\n",
                     status, reason, strlen(body));
    if (write_all(fd, head, (size_t)n) == 0)
        write_all(fd, body, strlen(body));
}

/* Appends s to out as a JSON string (quotes included); truncates at the cap. */
static size_t json_string(char *out, size_t cap, size_t at, const char *s)
{
    if (at + 2 >= cap)
        return at;
    out[at++] = '"';
    for (; *s && at + 8 < cap; s++) {
        unsigned char c = (unsigned char)*s;
        if (c == '"' || c == '\\') {
            out[at++] = '\\';
            out[at++] = (char)c;
        } else if (c < 0x20) {
            at += (size_t)snprintf(out + at, cap - at, "\\u%04x", c);
        } else {
            out[at++] = (char)c;
        }
    }
    out[at++] = '"';
    out[at] = '\0';
    return at;
}

/* GET /env: {"NAME": "value", ...} of the whole environment (tests check secrets arrive). */
static void serve_env(int fd)
{
    size_t cap = 65536, at = 0;
    char *out = malloc(cap);
    if (!out) {
        reply(fd, 503, "{}");
        return;
    }
    out[at++] = '{';
    for (char **e = environ; *e && at + 16 < cap; e++) {
        const char *eq = strchr(*e, '=');
        char name[256];
        if (!eq || (size_t)(eq - *e) >= sizeof name)
            continue;
        memcpy(name, *e, (size_t)(eq - *e));
        name[eq - *e] = '\0';
        if (at > 1)
            out[at++] = ',';
        at = json_string(out, cap, at, name);
        out[at++] = ':';
        at = json_string(out, cap, at, eq + 1);
    }
    out[at++] = '}';
    out[at] = '\0';
    reply(fd, 200, out);
    free(out);
}

/* The number after "key": in a JSON text, or -1; enough for the test bodies this agent gets. */
static long json_number(const char *body, const char *key)
{
    const char *p = strstr(body, key);
    if (!p)
        return -1;
    p += strlen(key);
    while (*p == ' ' || *p == '"' || *p == ':')
        p++;
    char *end;
    long n = strtol(p, &end, 10);
    return end == p ? -1 : n;
}

static int json_true(const char *body, const char *key)
{
    const char *p = strstr(body, key);
    if (!p)
        return 0;
    p += strlen(key);
    while (*p == ' ' || *p == '"' || *p == ':')
        p++;
    return strncmp(p, "true", 4) == 0;
}

static struct session *session_open(const char *id)
{
    struct session *s = NULL;
    pthread_mutex_lock(&lock);
    for (int i = 0; i < SESSIONS_MAX && !s; i++)
        if (!sessions[i].used) {
            s = &sessions[i];
            snprintf(s->id, sizeof s->id, "%s", id);
            s->used = 1;
            s->end_requested = 0;
            sessions_open++;
        }
    pthread_mutex_unlock(&lock);
    return s;
}

static void session_close(struct session *s)
{
    pthread_mutex_lock(&lock);
    s->used = 0;
    sessions_open--;
    pthread_mutex_unlock(&lock);
}

/* POST /end?session=ID: asks the session to end; 404 when no such session is open. */
static void serve_end(int fd, const char *query)
{
    const char *id = query ? strstr(query, "session=") : NULL;
    int found = 0;
    if (id) {
        id += 8;
        size_t len = strcspn(id, "&");
        pthread_mutex_lock(&lock);
        for (int i = 0; i < SESSIONS_MAX; i++)
            if (sessions[i].used && strlen(sessions[i].id) == len &&
                memcmp(sessions[i].id, id, len) == 0) {
                sessions[i].end_requested = 1;
                found = 1;
            }
        pthread_mutex_unlock(&lock);
    }
    reply(fd, found ? 200 : 404, found ? "{}" : "{\"error\":\"no such session\"}");
}

/* {"allocateMB": N}: takes and touches N MiB (at most 4096), so tests can meet the memory
 * limit. The memory is never given back: the session is meant to be the instance's last. */
static void allocate(const char *sid, long mib)
{
    if (mib <= 0 || mib > 4096)
        return;
    logline("INFO", sid, "allocating %ld MiB", mib);
    for (long i = 0; i < mib; i++) {
        char *p = malloc(1 << 20);
        if (!p)
            break;
        memset(p, 1, 1 << 20);
    }
    logline("INFO", sid, "allocated %ld MiB", mib);
}

/* POST /bot: one session; answers {} only when it ends (duration, /end, shutdown, or the
 * caller closing the connection, in which case nobody is left to answer). */
static void serve_bot(int fd, const char *sid, const char *body)
{
    if (!*sid) {
        reply(fd, 400, "{\"error\":\"X-Daily-Session-Id is required\"}");
        return;
    }
    struct session *s = session_open(sid);
    if (!s) {
        reply(fd, 503, "{\"error\":\"too many sessions\"}");
        return;
    }
    logline("INFO", sid, "session started, body %s", body);
    if (json_true(body, "\"crash\"")) {
        logline("ERROR", sid, "crashing on request, exit code %d", cfg.exit_code);
        _exit(cfg.exit_code);
    }
    allocate(sid, json_number(body, "\"allocateMB\""));
    long duration = json_number(body, "\"durationSeconds\"");
    int64_t deadline = duration >= 0 ? now_ms() + duration * 1000 : INT64_MAX;
    int64_t shutdown_deadline = INT64_MAX;
    const char *why = NULL;
    while (!why) {
        struct pollfd p = {.fd = fd, .events = POLLIN | POLLRDHUP};
        int n = poll(&p, 1, 100);
        if (n > 0 && (p.revents & (POLLRDHUP | POLLHUP | POLLERR)))
            why = "caller closed the connection";
        pthread_mutex_lock(&lock);
        if (s->end_requested)
            why = "end requested";
        pthread_mutex_unlock(&lock);
        if (now_ms() >= deadline)
            why = "duration reached";
        if (terminating && shutdown_deadline == INT64_MAX)
            shutdown_deadline = now_ms() + cfg.shutdown_timeout_s * 1000;
        if (now_ms() >= shutdown_deadline)
            why = "shutdown timeout reached";
    }
    logline("INFO", sid, "session ended: %s", why);
    session_close(s);
    reply(fd, 200, "{}");
}

/* Case-insensitive header lookup in a NUL-terminated header block; copies the value. */
static void header(const char *head, const char *name, char *out, size_t cap)
{
    size_t nlen = strlen(name);
    out[0] = '\0';
    for (const char *line = strstr(head, "\r\n"); line; line = strstr(line + 2, "\r\n")) {
        const char *h = line + 2;
        if (strncasecmp(h, name, nlen) == 0 && h[nlen] == ':') {
            const char *v = h + nlen + 1;
            while (*v == ' ' || *v == '\t')
                v++;
            size_t len = strcspn(v, "\r\n");
            if (len >= cap)
                len = cap - 1;
            memcpy(out, v, len);
            out[len] = '\0';
            return;
        }
    }
}

static void serve(int fd)
{
    char head[HEADER_MAX + 1];
    size_t have = 0;
    char *end = NULL;
    while (!end) {
        if (have == HEADER_MAX) {
            reply(fd, 400, "{\"error\":\"header block too large\"}");
            return;
        }
        ssize_t r = recv(fd, head + have, HEADER_MAX - have, 0);
        if (r < 0 && errno == EINTR)
            continue;
        if (r <= 0)
            return;
        have += (size_t)r;
        head[have] = '\0';
        end = strstr(head, "\r\n\r\n");
    }
    size_t head_len = (size_t)(end - head) + 4;
    char method[8] = "", target[512] = "", length[24], sid[SESSION_ID_MAX];
    if (sscanf(head, "%7s %511s", method, target) != 2) {
        reply(fd, 400, "{\"error\":\"bad request line\"}");
        return;
    }
    header(head, "Content-Length", length, sizeof length);
    header(head, "X-Daily-Session-Id", sid, sizeof sid);
    long want = *length ? strtol(length, NULL, 10) : 0;
    if (want < 0 || want > BODY_MAX) {
        reply(fd, 413, "{\"error\":\"body too large\"}");
        return;
    }
    char *body = malloc((size_t)want + 1);
    if (!body)
        return;
    size_t got = have - head_len < (size_t)want ? have - head_len : (size_t)want;
    memcpy(body, head + head_len, got);
    while (got < (size_t)want) {
        ssize_t r = recv(fd, body + got, (size_t)want - got, 0);
        if (r < 0 && errno == EINTR)
            continue;
        if (r <= 0)
            goto out;
        got += (size_t)r;
    }
    body[got] = '\0';

    char *query = strchr(target, '?');
    if (query)
        *query++ = '\0';
    if (strcmp(method, "GET") == 0 && strcmp(target, "/livez") == 0)
        reply(fd, 200, "{\"status\":\"ok\"}");
    else if (strcmp(method, "GET") == 0 && strcmp(target, "/readyz") == 0)
        reply(fd, ready() ? 200 : 503,
              ready() ? "{\"status\":\"ready\"}" : "{\"status\":\"not ready\"}");
    else if (strcmp(method, "GET") == 0 && strcmp(target, "/env") == 0)
        serve_env(fd);
    else if (strcmp(method, "POST") == 0 && strcmp(target, "/bot") == 0)
        serve_bot(fd, sid, got ? body : "{}");
    else if (strcmp(method, "POST") == 0 && strcmp(target, "/end") == 0)
        serve_end(fd, query);
    else
        reply(fd, 404, "{\"error\":\"not found\"}");
out:
    free(body);
}

static void *connection(void *arg)
{
    int fd = (int)(intptr_t)arg;
    serve(fd);
    close(fd);
    pthread_mutex_lock(&lock);
    connections--;
    pthread_mutex_unlock(&lock);
    return NULL;
}

static void *crash_later(void *arg)
{
    (void)arg;
    usleep((useconds_t)(cfg.crash_after_ms * 1000));
    logline("ERROR", NULL, "crashing as configured, exit code %d", cfg.exit_code);
    _exit(cfg.exit_code);
    return NULL;
}

static void on_term(int sig)
{
    (void)sig;
    terminating = 1;
}

int main(void)
{
    cfg.port = (int)env_long("PORT", 8080);
    cfg.mode = getenv("AGENT_MODE") && *getenv("AGENT_MODE") ? getenv("AGENT_MODE") : "normal";
    cfg.exit_code = (int)env_long("AGENT_EXIT_CODE", 1);
    cfg.crash_after_ms = env_long("AGENT_CRASH_AFTER_MS", 0);
    cfg.ready_after_ms = env_long("AGENT_READY_AFTER_MS", 0);
    cfg.shutdown_timeout_s = env_long("SHUTDOWN_TIMEOUT", 7200);
    started_ms = now_ms();

    if (strcmp(cfg.mode, "crash") == 0 && cfg.crash_after_ms == 0) {
        logline("ERROR", NULL, "crashing at start as configured, exit code %d", cfg.exit_code);
        return cfg.exit_code;
    }
    struct sigaction sa = {.sa_handler = on_term};
    sigaction(SIGTERM, &sa, NULL);
    sigaction(SIGINT, &sa, NULL);

    int one = 1, lfd = socket(AF_INET, SOCK_STREAM, 0);
    struct sockaddr_in addr = {.sin_family = AF_INET,
                               .sin_port = htons((uint16_t)cfg.port),
                               .sin_addr.s_addr = htonl(INADDR_ANY)};
    if (lfd < 0 || setsockopt(lfd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one) != 0 ||
        bind(lfd, (struct sockaddr *)&addr, sizeof addr) != 0 || listen(lfd, 64) != 0) {
        logline("ERROR", NULL, "cannot listen on port %d: %s", cfg.port, strerror(errno));
        return 1;
    }
    pthread_attr_t attr;
    pthread_attr_init(&attr);
    pthread_attr_setdetachstate(&attr, PTHREAD_CREATE_DETACHED);
    pthread_attr_setstacksize(&attr, 256 * 1024);
    if (strcmp(cfg.mode, "crash") == 0) {
        pthread_t t;
        pthread_create(&t, &attr, crash_later, NULL);
    }
    logline("INFO", NULL, "listening on 0.0.0.0:%d, mode %s", cfg.port, cfg.mode);

    while (!terminating) {
        struct pollfd p = {.fd = lfd, .events = POLLIN};
        if (poll(&p, 1, 200) <= 0)
            continue;
        int fd = accept(lfd, NULL, NULL);
        if (fd < 0)
            continue;
        pthread_mutex_lock(&lock);
        int busy = connections >= CONNECTIONS_MAX;
        if (!busy)
            connections++;
        pthread_mutex_unlock(&lock);
        pthread_t t;
        if (busy) {
            close(fd);
        } else if (pthread_create(&t, &attr, connection, (void *)(intptr_t)fd) != 0) {
            close(fd);
            pthread_mutex_lock(&lock);
            connections--;
            pthread_mutex_unlock(&lock);
        }
    }
    close(lfd);
    logline("INFO", NULL, "SIGTERM: no new sessions; waiting up to %lds for running ones",
            cfg.shutdown_timeout_s);
    /* Sessions see `terminating` and end themselves by SHUTDOWN_TIMEOUT; wait for them. */
    for (;;) {
        pthread_mutex_lock(&lock);
        int open = sessions_open;
        pthread_mutex_unlock(&lock);
        if (open == 0)
            break;
        usleep(50 * 1000);
    }
    usleep(50 * 1000); /* let the last answers leave */
    logline("INFO", NULL, "stopped");
    return 0;
}
