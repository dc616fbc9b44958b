/* docker.c: the runtime adapter for the Docker Engine REST API over its Unix socket (libcurl
 * with CURLOPT_UNIX_SOCKET_PATH), served by dockerd and by Podman's compatible service. One curl
 * handle per call, so calls from several threads never share state. */
#include <curl/curl.h>
#include <jansson.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>

#include <sodium.h>

#include "buf.h"
#include "demux.h"
#include "runtime.h"
#include "banned.h"

#define REPLY_CAP ((size_t)4 << 20)         /* inspect and list answers */
#define PULL_PENDING_CAP ((size_t)64 << 10) /* one progress object of a pull */
#define CALL_TIMEOUT_MS 30000L              /* every call but logs, wait and pull */
#define PULL_TIMEOUT_MS 1800000L
#define API_DEFAULT "1.41" /* Podman 4.3's compat API; dockerd 20.10 and later */
#define API_MAX "1.44"     /* the newest shapes this adapter relies on; dockerd 29's minimum */

struct docker {
    struct runtime base; /* first: a struct runtime * is a struct docker * */
    char socket[RUNTIME_SOCKET_SIZE];
    pthread_mutex_t lock; /* guards api */
    char api[16];
};

/* libcurl's process-wide initialisation, made once by the first runtime_docker_new. */
static pthread_once_t curl_once = PTHREAD_ONCE_INIT;
static CURLcode curl_init_rc;

static void curl_init(void) { curl_init_rc = curl_global_init(CURL_GLOBAL_DEFAULT); }

/* --- requests ----------------------------------------------------------------------------- */

struct call {
    const char *method;
    const char *path; /* after the version prefix, e.g. "/containers/json?all=1" */
    int unversioned;  /* /_ping and /version */
    const char *body; /* JSON, or NULL */
    size_t body_len;
    struct curl_slist *headers;                                 /* extra headers, borrowed */
    long timeout_ms;                                            /* 0: none */
    size_t (*write)(char *p, size_t size, size_t n, void *arg); /* NULL: into reply */
    void *write_arg;
    int *stopped;     /* set by write when it stopped on purpose: not an error */
    struct buf *head; /* the reply's header lines, when wanted */
    /* filled */
    CURL *h;
    long status;
    struct buf reply; /* the body; with write set, only an error reply's body */
};

static size_t collect(char *p, size_t size, size_t n, void *arg)
{
    struct buf *b = arg;
    return buf_add(b, p, size * n) == RC_OK ? size * n : 0;
}

/* With c->write set, the body goes to it when the status is 2xx; an error reply (a JSON
 * message, not the stream write expects) is collected into c->reply instead. */
static size_t dispatch(char *p, size_t size, size_t n, void *arg)
{
    struct call *c = arg;
    if (!c->status)
        curl_easy_getinfo(c->h, CURLINFO_RESPONSE_CODE, &c->status);
    if (c->status >= 200 && c->status < 300)
        return c->write(p, size, n, c->write_arg);
    return collect(p, size, n, &c->reply);
}

static void api_version(struct docker *d, char *out, size_t outlen)
{
    pthread_mutex_lock(&d->lock);
    snprintf(out, outlen, "%s", d->api);
    pthread_mutex_unlock(&d->lock);
}

/* The engine's "message" from an error reply, cut to fit; the status when there is none. */
static void engine_message(const struct call *c, char *out, size_t outlen)
{
    json_t *j = c->reply.len ? json_loadb(c->reply.data, c->reply.len, 0, NULL) : NULL;
    const char *m = json_string_value(json_object_get(j, "message"));
    if (m && *m)
        snprintf(out, outlen, "%s", m);
    else
        snprintf(out, outlen, "HTTP status %ld", c->status);
    json_decref(j);
}

/* Performs c. Transport failures become RC_ENGINE_UNREACHABLE (RC_TIMEOUT at the deadline); any
 * HTTP status is RC_OK here: callers judge c->status. */
static enum rc perform(struct docker *d, struct call *c, char *err, size_t errlen)
{
    char url[2048], api[16], curl_err[CURL_ERROR_SIZE] = "";
    enum rc rc = RC_OK;
    struct curl_slist *headers = NULL;
    CURL *h = NULL;

    if (curl_init_rc != CURLE_OK) {
        snprintf(err, errlen, "libcurl could not be initialised");
        return RC_INTERNAL;
    }
    api_version(d, api, sizeof api);
    int n = c->unversioned ? snprintf(url, sizeof url, "http://engine%s", c->path)
                           : snprintf(url, sizeof url, "http://engine/v%s%s", api, c->path);
    if (n < 0 || (size_t)n >= sizeof url) {
        snprintf(err, errlen, "engine request path too long");
        return RC_INVALID;
    }
    buf_init(&c->reply, REPLY_CAP);
    if (!(h = curl_easy_init())) {
        rc = RC_NOMEM;
        goto out;
    }
    curl_easy_setopt(h, CURLOPT_UNIX_SOCKET_PATH, d->socket);
    curl_easy_setopt(h, CURLOPT_URL, url);
    curl_easy_setopt(h, CURLOPT_CUSTOMREQUEST, c->method);
    curl_easy_setopt(h, CURLOPT_NOSIGNAL, 1L);
    curl_easy_setopt(h, CURLOPT_ERRORBUFFER, curl_err);
    curl_easy_setopt(h, CURLOPT_CONNECTTIMEOUT_MS, 5000L);
    curl_easy_setopt(h, CURLOPT_PROTOCOLS_STR, "http");
    if (c->timeout_ms > 0)
        curl_easy_setopt(h, CURLOPT_TIMEOUT_MS, c->timeout_ms);
    if (c->body) {
        headers = curl_slist_append(headers, "Content-Type: application/json");
        curl_easy_setopt(h, CURLOPT_POSTFIELDS, c->body); /* not copied: the caller wipes it */
        curl_easy_setopt(h, CURLOPT_POSTFIELDSIZE, (long)c->body_len);
    } else if (strcmp(c->method, "POST") == 0) {
        curl_easy_setopt(h, CURLOPT_POSTFIELDS, "");
        curl_easy_setopt(h, CURLOPT_POSTFIELDSIZE, 0L);
    }
    for (struct curl_slist *x = c->headers; x; x = x->next)
        headers = curl_slist_append(headers, x->data);
    headers = curl_slist_append(headers, "Expect:");
    curl_easy_setopt(h, CURLOPT_HTTPHEADER, headers);
    c->h = h;
    c->status = 0;
    curl_easy_setopt(h, CURLOPT_WRITEFUNCTION, c->write ? dispatch : collect);
    curl_easy_setopt(h, CURLOPT_WRITEDATA, c->write ? (void *)c : (void *)&c->reply);
    if (c->head) {
        curl_easy_setopt(h, CURLOPT_HEADERFUNCTION, collect);
        curl_easy_setopt(h, CURLOPT_HEADERDATA, (void *)c->head);
    }

    CURLcode cc = curl_easy_perform(h);
    curl_easy_getinfo(h, CURLINFO_RESPONSE_CODE, &c->status);
    if (cc == CURLE_WRITE_ERROR && c->stopped && *c->stopped)
        cc = CURLE_OK;
    if (cc == CURLE_OPERATION_TIMEDOUT) {
        snprintf(err, errlen, "the container engine did not finish %s %.64s in %ld ms", c->method,
                 c->path, c->timeout_ms);
        rc = RC_TIMEOUT;
    } else if (cc == CURLE_WRITE_ERROR) { /* a reply over its cap, or a stream not as expected */
        snprintf(err, errlen,
                 "the container engine's answer to %s %.64s is unreadable or "
                 "over %zu bytes",
                 c->method, c->path, (size_t)REPLY_CAP);
        rc = RC_PROTOCOL;
    } else if (cc != CURLE_OK) {
        snprintf(err, errlen, "the container engine does not answer on %s: %s", d->socket,
                 curl_err[0] ? curl_err : curl_easy_strerror(cc));
        rc = RC_ENGINE_UNREACHABLE;
    }
out:
    /* The header copies may hold registry credentials. */
    for (struct curl_slist *x = headers; x; x = x->next)
        sodium_memzero(x->data, strlen(x->data));
    curl_slist_free_all(headers);
    curl_easy_cleanup(h);
    c->h = NULL;
    if (rc != RC_OK)
        buf_release(&c->reply);
    return rc;
}

/* Judges a finished call: 2xx (and the statuses in also_ok) are RC_OK; 404 RC_NOT_FOUND, 409
 * RC_CONFLICT, anything else RC_ENGINE, with what (e.g. "inspect abc") and the engine's message
 * in err. */
static enum rc judge(const struct call *c, const char *what, long also_ok, char *err, size_t errlen)
{
    char msg[RUNTIME_ERROR_SIZE];
    if ((c->status >= 200 && c->status < 300) || (also_ok && c->status == also_ok))
        return RC_OK;
    engine_message(c, msg, sizeof msg);
    snprintf(err, errlen, "%s: %s", what, msg);
    return c->status == 404 ? RC_NOT_FOUND : c->status == 409 ? RC_CONFLICT : RC_ENGINE;
}

/* Instance ids and names, and image references, go into URL paths: only their own alphabet. */
static enum rc check_ref(const char *ref, const char *extra, const char *what, char *err,
                         size_t errlen)
{
    static const char alnum[] = "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789_.-";
    size_t len = ref ? strlen(ref) : 0;
    int ok = len > 0 && len < RUNTIME_IMAGE_SIZE - 8 && ref[0] != '-' && ref[0] != '.';
    for (size_t i = 0; ok && i < len; i++)
        ok = strchr(alnum, ref[i]) || (extra && strchr(extra, ref[i]));
    if (!ok) {
        snprintf(err, errlen, "invalid %s '%.64s'", what, ref ? ref : "");
        return RC_INVALID;
    }
    return RC_OK;
}

/* --- times and JSON fields ---------------------------------------------------------------- */

static void copy_string(char *out, size_t outlen, const json_t *v)
{
    snprintf(out, outlen, "%s", json_string_value(v) ? json_string_value(v) : "");
}

static void take_labels(struct runtime_instance *out, const json_t *labels)
{
    const char *key;
    json_t *value;
    size_t plen = strlen(RUNTIME_LABEL_PREFIX);
    json_object_foreach((json_t *)labels, key, value)
    {
        const char *v = json_string_value(value);
        if (out->n_labels == RUNTIME_LABELS_MAX || !v || strncmp(key, RUNTIME_LABEL_PREFIX, plen))
            continue;
        if (strlen(key) >= RUNTIME_LABEL_KEY_SIZE || strlen(v) >= RUNTIME_LABEL_VALUE_SIZE)
            continue;
        struct runtime_label *l = &out->labels[out->n_labels++];
        snprintf(l->key, sizeof l->key, "%s", key);
        snprintf(l->value, sizeof l->value, "%s", v);
    }
}

static enum runtime_state state_of(const char *status)
{
    static const struct {
        const char *name;
        enum runtime_state state;
    } map[] = {{"created", RUNTIME_STATE_CREATED},    {"configured", RUNTIME_STATE_CREATED},
               {"running", RUNTIME_STATE_RUNNING},    {"paused", RUNTIME_STATE_RUNNING},
               {"restarting", RUNTIME_STATE_RUNNING}, {"exited", RUNTIME_STATE_EXITED},
               {"stopped", RUNTIME_STATE_EXITED},     {"dead", RUNTIME_STATE_EXITED},
               {"removing", RUNTIME_STATE_EXITED}};
    for (size_t i = 0; status && i < sizeof map / sizeof map[0]; i++)
        if (strcmp(status, map[i].name) == 0)
            return map[i].state;
    return RUNTIME_STATE_UNKNOWN;
}

/* Fills out from GET /containers/{id}/json. */
static void parse_inspect(const json_t *j, struct runtime_instance *out)
{
    memset(out, 0, sizeof *out);
    copy_string(out->id, sizeof out->id, json_object_get(j, "Id"));
    const char *name = json_string_value(json_object_get(j, "Name"));
    snprintf(out->name, sizeof out->name, "%s", name ? name + (name[0] == '/') : "");
    const json_t *config = json_object_get(j, "Config");
    copy_string(out->image, sizeof out->image, json_object_get(config, "Image"));
    take_labels(out, json_object_get(config, "Labels"));
    const json_t *st = json_object_get(j, "State");
    out->state = state_of(json_string_value(json_object_get(st, "Status")));
    out->exit_code = (int)json_integer_value(json_object_get(st, "ExitCode"));
    out->oom_killed = json_is_true(json_object_get(st, "OOMKilled"));
    copy_string(out->error, sizeof out->error, json_object_get(st, "Error"));
    const char *t = json_string_value(json_object_get(st, "StartedAt"));
    out->started_at = t ? runtime_parse_time(t, strlen(t)) : 0;
    t = json_string_value(json_object_get(st, "FinishedAt"));
    out->finished_at = t ? runtime_parse_time(t, strlen(t)) : 0;
    out->restart_count = (int)json_integer_value(json_object_get(j, "RestartCount"));
    const char *key;
    json_t *bindings;
    json_object_foreach(json_object_get(json_object_get(j, "NetworkSettings"), "Ports"), key,
                        bindings)
    {
        const char *port = json_string_value(
            json_object_get(json_array_get(bindings, 0), "HostPort"));
        if (port && *port && !out->host_port)
            out->host_port = (int)strtol(port, NULL, 10);
    }
}

/* --- operations --------------------------------------------------------------------------- */

static void docker_free(struct runtime *rt)
{
    struct docker *d = (struct docker *)rt;
    if (!d)
        return;
    pthread_mutex_destroy(&d->lock);
    free(d);
}

/* "1.41" < "1.44": compares dotted numbers. */
static int version_less(const char *a, const char *b)
{
    long a1 = strtol(a, (char **)&a, 10), b1 = strtol(b, (char **)&b, 10);
    if (a1 != b1)
        return a1 < b1;
    return strtol(*a == '.' ? a + 1 : a, NULL, 10) < strtol(*b == '.' ? b + 1 : b, NULL, 10);
}

/* The value of header name (with its colon) in the header block head, copied into out. */
static int header_value(const char *head, const char *name, char *out, size_t outlen)
{
    size_t nlen = strlen(name);
    for (const char *line = head; line && *line;
         line = strchr(line, '\n') ? strchr(line, '\n') + 1 : NULL) {
        if (strncasecmp(line, name, nlen) != 0)
            continue;
        const char *v = line + nlen;
        v += strspn(v, " \t");
        size_t len = strcspn(v, "\r\n");
        snprintf(out, outlen, "%.*s", (int)len, v);
        return 1;
    }
    return 0;
}

/* GET /_ping, whose headers name the engine and its API version (GET /version would too, but
 * takes seconds on Podman, which runs conmon and the OCI runtime to report their versions). */
static enum rc docker_ping(struct runtime *rt, struct runtime_version *out, char *err,
                           size_t errlen)
{
    struct docker *d = (struct docker *)rt;
    struct buf head;
    struct call c = {.method = "GET",
                     .path = "/_ping",
                     .unversioned = 1,
                     .head = &head,
                     .timeout_ms = CALL_TIMEOUT_MS};
    char api[16] = "", server[RUNTIME_VERSION_SIZE] = "";
    buf_init(&head, 16384);
    enum rc rc = perform(d, &c, err, errlen);
    if (rc != RC_OK)
        goto out;
    if (c.status != 200 || strcmp(buf_str(&c.reply), "OK") != 0) {
        snprintf(err, errlen, "the socket %s answers, but not as a container engine (HTTP %ld)",
                 d->socket, c.status);
        rc = RC_ENGINE_UNREACHABLE;
        goto out;
    }
    memset(out, 0, sizeof *out);
    if (!header_value(buf_str(&head), "Api-Version:", api, sizeof api) || !*api ||
        strspn(api, "0123456789.") != strlen(api))
        snprintf(api, sizeof api, "%s", API_DEFAULT);
    pthread_mutex_lock(&d->lock);
    snprintf(d->api, sizeof d->api, "%s", version_less(api, API_MAX) ? api : API_MAX);
    pthread_mutex_unlock(&d->lock);
    if (header_value(buf_str(&head), "Libpod-Api-Version:", out->version, sizeof out->version)) {
        snprintf(out->engine, sizeof out->engine, "Podman Engine");
    } else {
        /* dockerd: "Server: Docker/27.3.1 (linux)" */
        snprintf(out->engine, sizeof out->engine, "Docker Engine");
        if (header_value(buf_str(&head), "Server:", server, sizeof server) &&
            strncmp(server, "Docker/", 7) == 0)
            snprintf(out->version, sizeof out->version, "%.*s", (int)strcspn(server + 7, " "),
                     server + 7);
    }
    api_version(d, out->api_version, sizeof out->api_version);
out:
    buf_release(&head);
    buf_release(&c.reply);
    return rc;
}

static enum rc docker_image_inspect(struct runtime *rt, const char *image,
                                    struct runtime_image *out, char *err, size_t errlen)
{
    struct docker *d = (struct docker *)rt;
    char path[RUNTIME_IMAGE_SIZE + 32];
    struct call c = {.method = "GET", .path = path, .timeout_ms = CALL_TIMEOUT_MS};
    json_t *j = NULL;
    enum rc rc = check_ref(image, "/:@", "image", err, errlen);
    if (rc != RC_OK)
        return rc;
    snprintf(path, sizeof path, "/images/%s/json", image);
    if ((rc = perform(d, &c, err, errlen)) != RC_OK)
        goto out;
    if (c.status == 404) {
        snprintf(err, errlen, "image %.200s not found in the container engine", image);
        rc = RC_IMAGE_NOT_FOUND;
        goto out;
    }
    if ((rc = judge(&c, "image inspect", 0, err, errlen)) != RC_OK)
        goto out;
    if (!(j = json_loadb(c.reply.data, c.reply.len, 0, NULL))) {
        snprintf(err, errlen, "the container engine's image answer is not JSON");
        rc = RC_PROTOCOL;
        goto out;
    }
    memset(out, 0, sizeof *out);
    copy_string(out->id, sizeof out->id, json_object_get(j, "Id"));
    out->size_bytes = json_integer_value(json_object_get(j, "Size"));
out:
    json_decref(j);
    buf_release(&c.reply);
    return rc;
}

/* Appends s as a JSON string to out, which has room (6 bytes per input byte + 2). */
static size_t put_json_string(char *out, const char *s)
{
    static const char hex[] = "0123456789abcdef";
    size_t at = 0;
    out[at++] = '"';
    for (; *s; s++) {
        unsigned char ch = (unsigned char)*s;
        if (ch == '"' || ch == '\\') {
            out[at++] = '\\';
            out[at++] = (char)ch;
        } else if (ch < 0x20 || ch == 0x7f) {
            memcpy(out + at, "\\u00", 4);
            out[at + 4] = hex[ch >> 4];
            out[at + 5] = hex[ch & 15];
            at += 6;
        } else {
            out[at++] = (char)ch;
        }
    }
    out[at++] = '"';
    return at;
}

/* Progress of a pull: a stream of JSON objects; the first "error" one says why it failed. */
struct pull {
    char pending[PULL_PENDING_CAP];
    size_t len;
    char error[RUNTIME_ERROR_SIZE];
    int bad;
};

static size_t pull_progress(char *p, size_t size, size_t n, void *arg)
{
    struct pull *pl = arg;
    size_t total = size * n;
    if (total > sizeof pl->pending - pl->len) {
        pl->bad = 1; /* one object larger than the cap: not a progress stream */
        return 0;
    }
    memcpy(pl->pending + pl->len, p, total);
    pl->len += total;
    for (;;) {
        size_t skip = 0;
        while (skip < pl->len && strchr(" \t\r\n", pl->pending[skip]))
            skip++;
        memmove(pl->pending, pl->pending + skip, pl->len - skip);
        pl->len -= skip;
        json_error_t e;
        json_t *j = pl->len ? json_loadb(pl->pending, pl->len, JSON_DISABLE_EOF_CHECK, &e) : NULL;
        if (!j)
            return total; /* incomplete: wait for more */
        const char *msg = json_string_value(json_object_get(j, "error"));
        if (msg && !pl->error[0])
            snprintf(pl->error, sizeof pl->error, "%s", msg);
        json_decref(j);
        memmove(pl->pending, pl->pending + e.position, pl->len - (size_t)e.position);
        pl->len -= (size_t)e.position;
    }
}

static int mentions(const char *msg, const char *const *words)
{
    for (size_t i = 0; words[i]; i++)
        if (strcasestr(msg, words[i]))
            return 1;
    return 0;
}

static enum rc docker_image_pull(struct runtime *rt, const char *image,
                                 const struct runtime_registry_auth *auth, char *err, size_t errlen)
{
    static const char *const refused[] = {
        "unauthorized", "authentication required", "denied", "forbidden", "401", "403", NULL};
    static const char *const missing[] = {"manifest unknown", "not found", "does not exist",
                                          "no such", NULL};
    struct docker *d = (struct docker *)rt;
    char path[3 * RUNTIME_IMAGE_SIZE + 64], *escaped = NULL, *json = NULL, *header = NULL;
    struct curl_slist *headers = NULL;
    struct pull *pl = NULL;
    struct call c = {.method = "POST", .path = path, .timeout_ms = PULL_TIMEOUT_MS};
    enum rc rc = check_ref(image, "/:@", "image", err, errlen);
    if (rc != RC_OK)
        return rc;
    if (!(escaped = curl_easy_escape(NULL, image, 0)) || !(pl = calloc(1, sizeof *pl))) {
        rc = RC_NOMEM;
        goto out;
    }
    snprintf(path, sizeof path, "/images/create?fromImage=%s", escaped);
    if (auth) {
        /* X-Registry-Auth: base64url of {"username","password","serveraddress"}, built by hand
         * in buffers that are wiped (a JSON library would leave copies in freed memory). */
        const char *u = auth->username ? auth->username : "",
                   *pw = auth->password ? auth->password : "",
                   *sv = auth->server ? auth->server : "";
        size_t cap = 6 * (strlen(u) + strlen(pw) + strlen(sv)) + 64;
        size_t hcap = sodium_base64_encoded_len(cap, sodium_base64_VARIANT_URLSAFE) + 32;
        if (!(json = malloc(cap)) || !(header = malloc(hcap))) {
            rc = RC_NOMEM;
            goto out;
        }
        size_t at = 0;
        memcpy(json + at, "{\"username\":", 12), at += 12;
        at += put_json_string(json + at, u);
        memcpy(json + at, ",\"password\":", 12), at += 12;
        at += put_json_string(json + at, pw);
        memcpy(json + at, ",\"serveraddress\":", 17), at += 17;
        at += put_json_string(json + at, sv);
        json[at++] = '}';
        memcpy(header, "X-Registry-Auth: ", 17);
        sodium_bin2base64(header + 17, hcap - 17, (const unsigned char *)json, at,
                          sodium_base64_VARIANT_URLSAFE);
        sodium_memzero(json, cap);
        if (!(headers = curl_slist_append(NULL, header))) {
            rc = RC_NOMEM;
            goto out;
        }
        c.headers = headers;
    }
    c.write = pull_progress;
    c.write_arg = pl;
    if ((rc = perform(d, &c, err, errlen)) != RC_OK)
        goto out;
    if (c.status >= 200 && c.status < 300 && !pl->error[0])
        goto out;
    if (!pl->error[0]) /* an error before the stream began: one {"message": ...} reply */
        engine_message(&c, pl->error, sizeof pl->error);
    rc = mentions(pl->error, refused) && !mentions(pl->error, missing) ? RC_PULL_REFUSED
         : c.status == 404 || mentions(pl->error, missing)             ? RC_IMAGE_NOT_FOUND
                                                                       : RC_ENGINE;
    snprintf(err, errlen, "pull of %.200s: %s", image, pl->error);
out:
    if (header) {
        sodium_memzero(header, strlen(header));
        free(header);
    }
    for (struct curl_slist *x = headers; x; x = x->next)
        sodium_memzero(x->data, strlen(x->data));
    curl_slist_free_all(headers);
    free(json);
    curl_free(escaped);
    free(pl);
    buf_release(&c.reply);
    return rc;
}

static enum rc docker_image_remove(struct runtime *rt, const char *image, char *err, size_t errlen)
{
    struct docker *d = (struct docker *)rt;
    char path[RUNTIME_IMAGE_SIZE + 32];
    struct call c = {.method = "DELETE", .path = path, .timeout_ms = CALL_TIMEOUT_MS};
    enum rc rc = check_ref(image, "/:@", "image", err, errlen);
    if (rc != RC_OK)
        return rc;
    snprintf(path, sizeof path, "/images/%s", image);
    if ((rc = perform(d, &c, err, errlen)) == RC_OK && c.status == 404) {
        snprintf(err, errlen, "image %.200s not found in the container engine", image);
        rc = RC_IMAGE_NOT_FOUND;
    } else if (rc == RC_OK) {
        rc = judge(&c, "image remove", 0, err, errlen);
    }
    buf_release(&c.reply);
    return rc;
}

/* The create body: everything but Env through jansson; Env (secret values) spliced in by hand
 * into one buffer that is wiped after the call. *out is freed with wipe_free(*out, *len). */
static enum rc create_body(const struct runtime_spec *spec, char **out, size_t *len, char *err,
                           size_t errlen)
{
    char port[32];
    char *rest = NULL, *body = NULL;
    enum rc rc = RC_NOMEM;
    json_t *labels = json_object(), *exposed = json_object(), *bindings = json_object();
    json_t *ulimits = json_array(), *root = NULL;
    *out = NULL;
    if (!labels || !exposed || !bindings || !ulimits)
        goto out;
    for (size_t i = 0; i < spec->n_labels; i++)
        if (json_object_set_new(labels, spec->labels[i].name, json_string(spec->labels[i].value)) !=
            0) {
            snprintf(err, errlen, "label '%.64s' is not valid UTF-8", spec->labels[i].name);
            rc = RC_INVALID;
            goto out;
        }
    snprintf(port, sizeof port, "%d/tcp", spec->container_port);
    json_object_set_new(exposed, port, json_object());
    json_object_set_new(bindings, port,
                        json_pack("[{s:s, s:s}]", "HostIp", "127.0.0.1", "HostPort", ""));
    const struct {
        const char *name;
        int64_t value;
    } limits[] = {{"nofile", spec->nofile}, {"nproc", spec->nproc}};
    for (size_t i = 0; i < 2; i++)
        if (limits[i].value > 0)
            json_array_append_new(ulimits, json_pack("{s:s, s:I, s:I}", "Name", limits[i].name,
                                                     "Soft", (json_int_t)limits[i].value, "Hard",
                                                     (json_int_t)limits[i].value));
    /* Least privilege: no privileged mode, no new privileges, the default (bridge) network, no
     * restart by the engine (pcc decides), memory without extra swap. */
    root = json_pack("{s:s, s:O, s:O, s:i, s:{s:I, s:I, s:I, s:O, s:O, s:b, s:[s], s:{s:s}}}",
                     "Image", spec->image, "Labels", labels, "ExposedPorts", exposed, "StopTimeout",
                     spec->stop_timeout_s, "HostConfig", "NanoCpus", (json_int_t)spec->nano_cpus,
                     "Memory", (json_int_t)spec->memory_bytes, "MemorySwap",
                     (json_int_t)(spec->memory_bytes ? spec->memory_bytes : 0), "PortBindings",
                     bindings, "Ulimits", ulimits, "Privileged", 0, "SecurityOpt",
                     "no-new-privileges", "RestartPolicy", "Name", "no");
    if (!root || !(rest = json_dumps(root, JSON_COMPACT)))
        goto out;
    size_t cap = strlen(rest) + 16;
    for (size_t i = 0; i < spec->n_env; i++) {
        const char *name = spec->env[i].name, *value = spec->env[i].value;
        if (!name || !*name || strchr(name, '=')) {
            snprintf(err, errlen, "environment variable name '%.64s' is not valid",
                     name ? name : "");
            rc = RC_INVALID;
            goto out;
        }
        cap += 6 * (strlen(name) + 1 + strlen(value ? value : "")) + 4;
    }
    if (!(body = malloc(cap)))
        goto out;
    size_t at = 0;
    memcpy(body, "{\"Env\":[", 8), at = 8;
    for (size_t i = 0; i < spec->n_env; i++) {
        if (i)
            body[at++] = ',';
        /* "NAME=value" as one JSON string: escape both halves, then join them. */
        at += put_json_string(body + at, spec->env[i].name) - 1; /* drop the closing quote */
        body[at++] = '=';
        size_t vstart = at;
        at += put_json_string(body + at, spec->env[i].value ? spec->env[i].value : "");
        memmove(body + vstart, body + vstart + 1, at - vstart - 1); /* drop the opening quote */
        at--;
    }
    body[at++] = ']';
    body[at++] = ',';
    size_t rlen = strlen(rest);
    memcpy(body + at, rest + 1, rlen - 1); /* rest without its "{" */
    at += rlen - 1;
    body[at] = '\0';
    *out = body;
    *len = at;
    rc = RC_OK;
out:
    free(rest);
    json_decref(root);
    json_decref(labels);
    json_decref(exposed);
    json_decref(bindings);
    json_decref(ulimits);
    return rc;
}

static enum rc docker_inspect(struct runtime *rt, const char *id, struct runtime_instance *out,
                              char *err, size_t errlen)
{
    struct docker *d = (struct docker *)rt;
    char path[RUNTIME_NAME_SIZE + 32], what[RUNTIME_NAME_SIZE + 16];
    struct call c = {.method = "GET", .path = path, .timeout_ms = CALL_TIMEOUT_MS};
    json_t *j = NULL;
    enum rc rc = check_ref(id, NULL, "instance id", err, errlen);
    if (rc != RC_OK)
        return rc;
    snprintf(path, sizeof path, "/containers/%s/json", id);
    snprintf(what, sizeof what, "inspect %.100s", id);
    if ((rc = perform(d, &c, err, errlen)) != RC_OK || (rc = judge(&c, what, 0, err, errlen)))
        goto out;
    if (!(j = json_loadb(c.reply.data, c.reply.len, 0, NULL))) {
        snprintf(err, errlen, "the container engine's inspect answer is not JSON");
        rc = RC_PROTOCOL;
        goto out;
    }
    parse_inspect(j, out);
out:
    json_decref(j);
    buf_release(&c.reply);
    return rc;
}

static enum rc docker_remove(struct runtime *rt, const char *id, char *err, size_t errlen)
{
    struct docker *d = (struct docker *)rt;
    char path[RUNTIME_NAME_SIZE + 48], what[RUNTIME_NAME_SIZE + 16];
    struct call c = {.method = "DELETE", .path = path, .timeout_ms = CALL_TIMEOUT_MS};
    enum rc rc = check_ref(id, NULL, "instance id", err, errlen);
    if (rc != RC_OK)
        return rc;
    snprintf(path, sizeof path, "/containers/%s?force=true&v=true", id);
    snprintf(what, sizeof what, "remove %.100s", id);
    if ((rc = perform(d, &c, err, errlen)) == RC_OK)
        rc = judge(&c, what, 0, err, errlen);
    buf_release(&c.reply);
    return rc;
}

static enum rc docker_create(struct runtime *rt, const struct runtime_spec *spec,
                             struct runtime_instance *out, char *err, size_t errlen)
{
    struct docker *d = (struct docker *)rt;
    char path[RUNTIME_NAME_SIZE + 64], id[RUNTIME_ID_SIZE] = "", msg[RUNTIME_ERROR_SIZE];
    char *body = NULL;
    size_t body_len = 0;
    json_t *j = NULL;
    struct call c = {.method = "POST", .path = path, .timeout_ms = CALL_TIMEOUT_MS};
    enum rc rc;
    memset(out, 0, sizeof *out);
    if ((rc = check_ref(spec->name, NULL, "instance name", err, errlen)) != RC_OK ||
        (rc = check_ref(spec->image, "/:@", "image", err, errlen)) != RC_OK)
        return rc;
    if (spec->container_port <= 0 || spec->container_port > 65535) {
        snprintf(err, errlen, "container port %d is out of range", spec->container_port);
        return RC_INVALID;
    }
    if ((rc = create_body(spec, &body, &body_len, err, errlen)) != RC_OK)
        return rc;
    snprintf(path, sizeof path, "/containers/create?name=%s", spec->name);
    c.body = body;
    c.body_len = body_len;
    rc = perform(d, &c, err, errlen);
    sodium_memzero(body, body_len);
    free(body);
    if (rc != RC_OK)
        goto out;
    if (c.status == 404) {
        snprintf(err, errlen, "image %.200s not found in the container engine", spec->image);
        rc = RC_IMAGE_NOT_FOUND;
        goto out;
    }
    engine_message(&c, msg, sizeof msg);
    if (c.status == 409 || (c.status >= 400 && strstr(msg, "already in use"))) {
        snprintf(err, errlen, "instance name %.100s is taken", spec->name);
        rc = RC_CONFLICT;
        goto out;
    }
    if ((rc = judge(&c, "create", 0, err, errlen)) != RC_OK)
        goto out;
    if (!(j = json_loadb(c.reply.data, c.reply.len, 0, NULL)) ||
        !json_string_value(json_object_get(j, "Id"))) {
        snprintf(err, errlen, "the container engine's create answer has no Id");
        rc = RC_PROTOCOL;
        goto out;
    }
    copy_string(id, sizeof id, json_object_get(j, "Id"));
    buf_release(&c.reply);
    snprintf(path, sizeof path, "/containers/%s/start", id);
    c.body = NULL;
    if ((rc = perform(d, &c, err, errlen)) == RC_OK)
        rc = judge(&c, "start", 304, err, errlen);
    if (rc == RC_OK)
        rc = docker_inspect(rt, id, out, err, errlen);
    if (rc != RC_OK) {
        char ignored[RUNTIME_ERROR_SIZE];
        docker_remove(rt, id, ignored, sizeof ignored);
        if (rc == RC_NOT_FOUND)
            rc = RC_ENGINE; /* the instance, not the request's target, went missing */
    }
out:
    json_decref(j);
    buf_release(&c.reply);
    return rc;
}

static enum rc docker_stop(struct runtime *rt, const char *id, int timeout_s, char *err,
                           size_t errlen)
{
    struct docker *d = (struct docker *)rt;
    char path[RUNTIME_NAME_SIZE + 48], what[RUNTIME_NAME_SIZE + 16];
    struct call c = {.method = "POST",
                     .path = path,
                     .timeout_ms = CALL_TIMEOUT_MS + (long)(timeout_s > 0 ? timeout_s : 0) * 1000};
    enum rc rc = check_ref(id, NULL, "instance id", err, errlen);
    if (rc != RC_OK)
        return rc;
    snprintf(path, sizeof path, "/containers/%s/stop?t=%d", id, timeout_s > 0 ? timeout_s : 0);
    snprintf(what, sizeof what, "stop %.100s", id);
    if ((rc = perform(d, &c, err, errlen)) == RC_OK)
        rc = judge(&c, what, 304, err, errlen);
    buf_release(&c.reply);
    return rc;
}

static enum rc docker_list(struct runtime *rt, const char *label, struct runtime_instance **list,
                           size_t *count, char *err, size_t errlen)
{
    struct docker *d = (struct docker *)rt;
    char path[1024], *filter = NULL, *escaped = NULL;
    struct call c = {.method = "GET", .path = path, .timeout_ms = CALL_TIMEOUT_MS};
    struct runtime_instance *items = NULL;
    size_t n = 0;
    json_t *j = NULL, *f = NULL;
    enum rc rc = RC_NOMEM;
    *list = NULL;
    *count = 0;
    if (!label || !*label || strlen(label) > 256) {
        snprintf(err, errlen, "a label filter key=value is required");
        return RC_INVALID;
    }
    if (!(f = json_pack("{s:[s]}", "label", label)) || !(filter = json_dumps(f, JSON_COMPACT)) ||
        !(escaped = curl_easy_escape(NULL, filter, 0)))
        goto out;
    snprintf(path, sizeof path, "/containers/json?all=true&filters=%s", escaped);
    if ((rc = perform(d, &c, err, errlen)) != RC_OK || (rc = judge(&c, "list", 0, err, errlen)))
        goto out;
    if (!(j = json_loadb(c.reply.data, c.reply.len, 0, NULL)) || !json_is_array(j)) {
        snprintf(err, errlen, "the container engine's list answer is not a JSON array");
        rc = RC_PROTOCOL;
        goto out;
    }
    if (json_array_size(j) && !(items = calloc(json_array_size(j), sizeof *items))) {
        rc = RC_NOMEM;
        goto out;
    }
    /* The list's own rows lack exit codes and times: inspect each (gone meanwhile: skipped). */
    size_t i;
    json_t *row;
    json_array_foreach(j, i, row)
    {
        const char *id = json_string_value(json_object_get(row, "Id"));
        if (!id)
            continue;
        rc = docker_inspect(rt, id, &items[n], err, errlen);
        if (rc == RC_NOT_FOUND)
            continue;
        if (rc != RC_OK)
            goto out;
        n++;
    }
    rc = RC_OK;
    *list = items;
    *count = n;
    items = NULL;
out:
    free(items);
    json_decref(j);
    json_decref(f);
    free(filter);
    curl_free(escaped);
    buf_release(&c.reply);
    return rc;
}

static size_t demux_write(char *p, size_t size, size_t n, void *arg)
{
    return runtime_demux_feed(arg, p, size * n) == 0 ? size * n : 0;
}

static enum rc docker_logs(struct runtime *rt, const char *id, int64_t since_ms, int follow,
                           runtime_log_fn fn, void *arg, char *err, size_t errlen)
{
    struct docker *d = (struct docker *)rt;
    char path[RUNTIME_NAME_SIZE + 128], what[RUNTIME_NAME_SIZE + 16];
    struct runtime_demux dx;
    struct call c = {.method = "GET",
                     .path = path,
                     .write = demux_write,
                     .write_arg = &dx,
                     .stopped = &dx.stopped,
                     .timeout_ms = follow ? 0 : CALL_TIMEOUT_MS};
    enum rc rc = check_ref(id, NULL, "instance id", err, errlen);
    if (rc != RC_OK)
        return rc;
    runtime_demux_init(&dx, fn, arg);
    if (since_ms < 0)
        since_ms = 0;
    snprintf(path, sizeof path,
             "/containers/%s/logs?stdout=true&stderr=true&timestamps=true&follow=%s"
             "&since=%lld.%03lld",
             id, follow ? "true" : "false", (long long)(since_ms / 1000),
             (long long)(since_ms % 1000));
    snprintf(what, sizeof what, "logs %.100s", id);
    if ((rc = perform(d, &c, err, errlen)) == RC_OK)
        rc = judge(&c, what, 0, err, errlen);
    if (rc == RC_OK)
        runtime_demux_finish(&dx); /* the last lines may lack their newline */
    runtime_demux_release(&dx);
    buf_release(&c.reply);
    return rc;
}

static enum rc docker_stats(struct runtime *rt, const char *id, struct runtime_stats *out,
                            char *err, size_t errlen)
{
    struct docker *d = (struct docker *)rt;
    char path[RUNTIME_NAME_SIZE + 64], what[RUNTIME_NAME_SIZE + 16];
    struct call c = {.method = "GET", .path = path, .timeout_ms = CALL_TIMEOUT_MS};
    json_t *j = NULL;
    enum rc rc = check_ref(id, NULL, "instance id", err, errlen);
    if (rc != RC_OK)
        return rc;
    snprintf(path, sizeof path, "/containers/%s/stats?stream=false&one-shot=true", id);
    snprintf(what, sizeof what, "stats %.100s", id);
    if ((rc = perform(d, &c, err, errlen)) != RC_OK || (rc = judge(&c, what, 0, err, errlen)))
        goto out;
    if (c.reply.len == 0 || c.status == 409) { /* Podman: 200 and nothing when not running */
        snprintf(err, errlen, "stats %.100s: the instance is not running", id);
        rc = RC_CONFLICT;
        goto out;
    }
    if (!(j = json_loadb(c.reply.data, c.reply.len, 0, NULL))) {
        snprintf(err, errlen, "the container engine's stats answer is not JSON");
        rc = RC_PROTOCOL;
        goto out;
    }
    memset(out, 0, sizeof *out);
    const json_t *cpu = json_object_get(json_object_get(j, "cpu_stats"), "cpu_usage");
    const json_t *mem = json_object_get(j, "memory_stats");
    out->cpu_ns = (uint64_t)json_integer_value(json_object_get(cpu, "total_usage"));
    out->memory_bytes = (uint64_t)json_integer_value(json_object_get(mem, "usage"));
    out->memory_limit = (uint64_t)json_integer_value(json_object_get(mem, "limit"));
    const char *t = json_string_value(json_object_get(j, "read"));
    out->at = t ? runtime_parse_time(t, strlen(t)) : 0;
    if (!out->at) {
        struct timespec ts;
        clock_gettime(CLOCK_REALTIME, &ts);
        out->at = (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
    }
out:
    json_decref(j);
    buf_release(&c.reply);
    return rc;
}

static enum rc docker_wait(struct runtime *rt, const char *id, int timeout_ms, int *exit_code,
                           char *err, size_t errlen)
{
    struct docker *d = (struct docker *)rt;
    char path[RUNTIME_NAME_SIZE + 64], what[RUNTIME_NAME_SIZE + 16];
    struct call c = {.method = "POST", .path = path, .timeout_ms = timeout_ms > 0 ? timeout_ms : 0};
    json_t *j = NULL;
    enum rc rc = check_ref(id, NULL, "instance id", err, errlen);
    if (rc != RC_OK)
        return rc;
    snprintf(path, sizeof path, "/containers/%s/wait?condition=not-running", id);
    snprintf(what, sizeof what, "wait %.100s", id);
    if ((rc = perform(d, &c, err, errlen)) != RC_OK || (rc = judge(&c, what, 0, err, errlen)))
        goto out;
    if (!(j = json_loadb(c.reply.data, c.reply.len, 0, NULL)) ||
        !json_is_integer(json_object_get(j, "StatusCode"))) {
        snprintf(err, errlen, "the container engine's wait answer has no StatusCode");
        rc = RC_PROTOCOL;
        goto out;
    }
    *exit_code = (int)json_integer_value(json_object_get(j, "StatusCode"));
out:
    json_decref(j);
    buf_release(&c.reply);
    return rc;
}

static const struct runtime_ops docker_ops = {
    .free = docker_free,
    .ping = docker_ping,
    .image_inspect = docker_image_inspect,
    .image_pull = docker_image_pull,
    .image_remove = docker_image_remove,
    .create = docker_create,
    .inspect = docker_inspect,
    .stop = docker_stop,
    .remove = docker_remove,
    .list = docker_list,
    .logs = docker_logs,
    .stats = docker_stats,
    .wait = docker_wait,
};

enum rc runtime_docker_new(const char *path, struct runtime **out, char *err, size_t errlen)
{
    struct docker *d = NULL;
    *out = NULL;
    if (!path || !*path || strlen(path) >= RUNTIME_SOCKET_SIZE) {
        snprintf(err, errlen, "engine socket path is empty or longer than %d bytes",
                 RUNTIME_SOCKET_SIZE - 1);
        return RC_INVALID;
    }
    pthread_once(&curl_once, curl_init);
    if (!(d = calloc(1, sizeof *d)))
        return RC_NOMEM;
    d->base.ops = &docker_ops;
    d->base.kind = "docker";
    snprintf(d->socket, sizeof d->socket, "%s", path);
    d->base.address = d->socket;
    snprintf(d->api, sizeof d->api, "%s", API_DEFAULT);
    pthread_mutex_init(&d->lock, NULL);
    *out = &d->base;
    return RC_OK;
}
