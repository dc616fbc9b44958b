/* serve.c: `pccd serve`: open storage, start the HTTP server, wait for SIGINT/SIGTERM. */
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <sodium.h>
#include <systemd/sd-daemon.h>

#include "account.h"
#include "api.h"
#include "web.h"
#include "http.h"
#include "log.h"
#include "pccd.h"
#include "runtime.h"
#include "banned.h"

/* Parse a whole decimal number in [min, max]; 0 on success. */
static int parse_uint(const char *s, unsigned min, unsigned max, unsigned *out)
{
    char *end;
    errno = 0;
    unsigned long v = strtoul(s ? s : "", &end, 10);
    if (!s || !*s || errno || *end || v < min || v > max)
        return -1;
    *out = (unsigned)v;
    return 0;
}

/* Tests only: the clock of every auth decision is the real time plus the offset in seconds
 * written in this file (read on every call), so tests can move time without sleeping. */
static int64_t test_clock(void *ctx)
{
    const char *path = ctx;
    int64_t offset = 0;
    char text[32];
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd >= 0) {
        ssize_t n = read(fd, text, sizeof text - 1);
        close(fd);
        if (n > 0) {
            text[n] = '\0';
            offset = strtoll(text, NULL, 10);
        }
    }
    return (int64_t)time(NULL) + offset;
}

static const char help[] =
    "usage: pccd serve --data DIR [--listen HOST:PORT] [options]\n\n"
    "Serve the pcc API. Migrations are applied on start. Stops cleanly on SIGINT/SIGTERM.\n\n"
    "  --listen HOST:PORT    address to listen on (PCCD_LISTEN; default 127.0.0.1:8787;\n"
    "                        port 0 picks a free port, printed on start)\n"
    "  --threads N           worker threads (PCCD_THREADS; default: one per CPU)\n"
    "  --max-connections N   concurrent connections (PCCD_MAX_CONNECTIONS; default 1024)\n"
    "  --max-per-ip N        concurrent connections per client address (PCCD_MAX_PER_IP;\n"
    "                        default 256)\n"
    "  --timeout SECONDS     idle connection timeout (PCCD_TIMEOUT; default 30)\n"
    "  --request-timeout SECONDS\n"
    "                        time a request may take to arrive whole, headers and body,\n"
    "                        from its first byte (PCCD_REQUEST_TIMEOUT; default 30)\n"
    "  --auth-fail-limit N   failed authentications per address per minute before it gets\n"
    "                        429 for a minute (PCCD_AUTH_FAIL_LIMIT; default 30)\n"
    "  --account-fail-limit N  failed dashboard sign-ins of one account (from any address)\n"
    "                        per 15 minutes before its sign-in is refused for 15 minutes\n"
    "                        (PCCD_ACCOUNT_FAIL_LIMIT; default 20)\n"
    "  --signup-limit N      dashboard sign-ups per address per hour (PCCD_SIGNUP_LIMIT;\n"
    "                        default 10)\n"
    "  --smtp-url URL        send email verification links through this SMTP relay,\n"
    "                        smtp://HOST[:PORT] or smtps://HOST[:PORT] (PCCD_SMTP_URL);\n"
    "                        without it each link is written to the log at info level\n"
    "  --smtp-from ADDRESS   the sender of that mail (PCCD_SMTP_FROM; default\n"
    "                        pccd@localhost)\n"
    "  --trust-proxy         take the client address from X-Forwarded-For's last hop\n"
    "                        (PCCD_TRUST_PROXY=1); only behind your own reverse proxy\n"
    "  --log-level LEVEL     debug, info, warn or error (PCCD_LOG_LEVEL; default info)\n"
    "  --regions LIST        regions agents and secret sets can live in, comma-separated\n"
    "                        CODE[=Display Name] entries; the first is the default region\n"
    "                        (PCCD_REGIONS; default us-west,us-east,eu-central,ap-south)\n"
    "  --signup open|closed  whether anyone can create a dashboard account at /signup\n"
    "                        (PCCD_SIGNUP; default closed)\n"
    "  --tls-cert FILE       serve HTTPS with this PEM certificate (chain, leaf first)\n"
    "                        (PCCD_TLS_CERT); needs --tls-key. TLS 1.2 and 1.3 only\n"
    "  --tls-key FILE        the certificate's unencrypted PEM private key (PCCD_TLS_KEY);\n"
    "                        refused when group or others can read it (chmod 600 it)\n"
    "  --public-url URL      the URL clients reach this server at, the OAuth issuer\n"
    "                        (PCCD_PUBLIC_URL; default http(s)://HOST:PORT of --listen)\n"
    "  --oauth-access-ttl SECONDS  lifetime of OAuth access tokens (PCCD_OAUTH_ACCESS_TTL;\n"
    "                        default 3600, at most 86400)\n"
    "  --runtime none|docker[:SOCKET]  the container engine agents run on (PCCD_RUNTIME;\n"
    "                        default none). docker: the Docker Engine API of dockerd or\n"
    "                        Podman, on SOCKET or found from DOCKER_HOST and the usual\n"
    "                        sockets; an engine that does not answer leaves none\n"
    "  --data DIR            data directory (PCCD_DATA)\n"
    "  --db URL              database (PCCD_DATABASE_URL; default sqlite:DIR/pcc.db)\n"
    "  --secret-file PATH    server secret (PCCD_SECRET_FILE; default DIR/secret)\n"
    "  --test-clock-file PATH  FOR TESTS ONLY: shift the clock of token expiry, rotation and\n"
    "                        throttling by the seconds written in PATH; refused unless\n"
    "                        PCCD_ALLOW_TEST_CLOCK=1 is set too\n"
    "  --help                show this help\n";

/* The agent runtime named by spec, or NULL for an unknown spec. An engine that cannot be found
 * or does not answer leaves pccd on the "none" runtime, said in one line. */
static struct runtime *open_runtime(const char *spec)
{
    struct runtime *rt = NULL, *none = NULL;
    struct runtime_version v;
    char err[512] = "";
    enum rc rc = runtime_open(spec, getenv("DOCKER_HOST"), runtime_default_sockets, &rt, err,
                              sizeof err);
    if (rc == RC_INVALID)
        return NULL;
    if (rc == RC_OK && strcmp(rt->kind, "none") == 0) {
        log_info("runtime: none: agents cannot start (--runtime docker attaches an engine)");
        return rt;
    }
    if (rc == RC_OK && (rc = rt->ops->ping(rt, &v, err, sizeof err)) == RC_OK) {
        log_info("runtime: docker: %s %s on %s (API %s)", v.engine, v.version, rt->address,
                 v.api_version);
        return rt;
    }
    runtime_free(rt);
    if (runtime_none_new(&none) != RC_OK)
        return NULL;
    log_warn("runtime: none, agents cannot start: %s", err);
    return none;
}

static int parse_level(const char *s, enum log_level *out)
{
    static const char *const names[] = {"debug", "info", "warn", "error"};
    for (int i = 0; i < 4; i++)
        if (strcmp(s, names[i]) == 0) {
            *out = (enum log_level)i;
            return 0;
        }
    return -1;
}

/* Housekeeping: authorization codes, device codes and dashboard sessions that have expired are
 * deleted at start and every HOUSEKEEPING_SECONDS. The margin keeps a code that expired moments
 * ago long enough to recognise its replay. */
#define HOUSEKEEPING_SECONDS 600
#define PURGE_MARGIN_SECONDS 3600

struct housekeeping {
    struct api_app *app;
    pthread_mutex_t lock;
    pthread_cond_t wake;
    int stopping;
    pthread_t thread;
};

static void purge_expired(struct api_app *app)
{
    int64_t removed = 0;
    int64_t before = auth_now(&app->auth) - PURGE_MARGIN_SECONDS;
    enum rc rc = store_purge_expired(app->store, before, &removed);
    if (rc != RC_OK)
        log_warn("housekeeping: cannot delete expired codes and sessions: %s", rc_name(rc));
    else if (removed)
        log_info("housekeeping: deleted %lld expired codes and sessions", (long long)removed);
}

/* Every HOUSEKEEPING_SECONDS after the first run (made at start, before serving). */
static void *housekeeping_run(void *arg)
{
    struct housekeeping *hk = arg;
    pthread_mutex_lock(&hk->lock);
    while (!hk->stopping) {
        struct timespec until;
        clock_gettime(CLOCK_MONOTONIC, &until);
        until.tv_sec += HOUSEKEEPING_SECONDS;
        while (!hk->stopping && pthread_cond_timedwait(&hk->wake, &hk->lock, &until) != ETIMEDOUT)
            ;
        if (hk->stopping)
            break;
        pthread_mutex_unlock(&hk->lock);
        purge_expired(hk->app);
        pthread_mutex_lock(&hk->lock);
    }
    pthread_mutex_unlock(&hk->lock);
    return NULL;
}

static int housekeeping_start(struct housekeeping *hk, struct api_app *app)
{
    purge_expired(app);
    hk->app = app;
    hk->stopping = 0;
    pthread_condattr_t attr;
    pthread_condattr_init(&attr);
    pthread_condattr_setclock(&attr, CLOCK_MONOTONIC);
    pthread_mutex_init(&hk->lock, NULL);
    pthread_cond_init(&hk->wake, &attr);
    pthread_condattr_destroy(&attr);
    return pthread_create(&hk->thread, NULL, housekeeping_run, hk) == 0 ? 0 : -1;
}

static void housekeeping_stop(struct housekeeping *hk)
{
    pthread_mutex_lock(&hk->lock);
    hk->stopping = 1;
    pthread_cond_signal(&hk->wake);
    pthread_mutex_unlock(&hk->lock);
    pthread_join(hk->thread, NULL);
    pthread_cond_destroy(&hk->wake);
    pthread_mutex_destroy(&hk->lock);
}

/* One view of the credential data per request (store_request_begin): on PostgreSQL, one read
 * of the generation per request instead of one per cached read. */
static void begin_request_view(void *app) { store_request_begin(((struct api_app *)app)->store); }
static void end_request_view(void *app) { store_request_end(((struct api_app *)app)->store); }

int cmd_serve(int argc, char **argv)
{
    enum {
        OPT_DATA = 1,
        OPT_DB,
        OPT_SECRET,
        OPT_HELP,
        OPT_LISTEN,
        OPT_THREADS,
        OPT_MAXCONN,
        OPT_PERIP,
        OPT_TIMEOUT,
        OPT_REQ_TIMEOUT,
        OPT_FAILS,
        OPT_PROXY,
        OPT_LOG,
        OPT_REGIONS,
        OPT_TEST_CLOCK,
        OPT_PUBLIC_URL,
        OPT_ACCESS_TTL,
        OPT_TLS_CERT,
        OPT_TLS_KEY,
        OPT_RUNTIME,
        OPT_ACCOUNT_FAILS,
        OPT_SIGNUP_LIMIT,
        OPT_SMTP_URL,
        OPT_SMTP_FROM
    };
    static const struct option opts[] = {
        {"data", required_argument, NULL, OPT_DATA},
        {"db", required_argument, NULL, OPT_DB},
        {"secret-file", required_argument, NULL, OPT_SECRET},
        {"help", no_argument, NULL, OPT_HELP},
        {"listen", required_argument, NULL, OPT_LISTEN},
        {"threads", required_argument, NULL, OPT_THREADS},
        {"max-connections", required_argument, NULL, OPT_MAXCONN},
        {"max-per-ip", required_argument, NULL, OPT_PERIP},
        {"timeout", required_argument, NULL, OPT_TIMEOUT},
        {"request-timeout", required_argument, NULL, OPT_REQ_TIMEOUT},
        {"auth-fail-limit", required_argument, NULL, OPT_FAILS},
        {"trust-proxy", no_argument, NULL, OPT_PROXY},
        {"log-level", required_argument, NULL, OPT_LOG},
        {"regions", required_argument, NULL, OPT_REGIONS},
        {"signup", required_argument, NULL, 'S'},
        {"test-clock-file", required_argument, NULL, OPT_TEST_CLOCK},
        {"public-url", required_argument, NULL, OPT_PUBLIC_URL},
        {"oauth-access-ttl", required_argument, NULL, OPT_ACCESS_TTL},
        {"tls-cert", required_argument, NULL, OPT_TLS_CERT},
        {"tls-key", required_argument, NULL, OPT_TLS_KEY},
        {"runtime", required_argument, NULL, OPT_RUNTIME},
        {"account-fail-limit", required_argument, NULL, OPT_ACCOUNT_FAILS},
        {"signup-limit", required_argument, NULL, OPT_SIGNUP_LIMIT},
        {"smtp-url", required_argument, NULL, OPT_SMTP_URL},
        {"smtp-from", required_argument, NULL, OPT_SMTP_FROM},
        {0, 0, 0, 0}};
    struct pccd_settings s;
    settings_from_env(&s);
    const char *listen = getenv("PCCD_LISTEN") && *getenv("PCCD_LISTEN") ? getenv("PCCD_LISTEN")
                                                                         : "127.0.0.1:8787";
    /* Settings from the environment first; flags below override them. */
    struct {
        const char *env;
        const char *value;
    } numeric[] = {{"PCCD_THREADS", NULL},         {"PCCD_MAX_CONNECTIONS", NULL},
                   {"PCCD_MAX_PER_IP", NULL},      {"PCCD_TIMEOUT", NULL},
                   {"PCCD_AUTH_FAIL_LIMIT", NULL}, {"PCCD_LOG_LEVEL", NULL},
                   {"PCCD_REQUEST_TIMEOUT", NULL}};
    for (size_t i = 0; i < sizeof numeric / sizeof numeric[0]; i++)
        numeric[i].value = getenv(numeric[i].env);
    const char *regions = getenv("PCCD_REGIONS");
    const char *signup = getenv("PCCD_SIGNUP") && *getenv("PCCD_SIGNUP") ? getenv("PCCD_SIGNUP")
                                                                         : "closed";
    const char *proxy_env = getenv("PCCD_TRUST_PROXY");
    int trust_proxy = proxy_env && strcmp(proxy_env, "1") == 0;
    const char *test_clock_file = NULL;
    const char *public_url = getenv("PCCD_PUBLIC_URL");
    const char *access_ttl = getenv("PCCD_OAUTH_ACCESS_TTL");
    const char *tls_cert = getenv("PCCD_TLS_CERT"), *tls_key = getenv("PCCD_TLS_KEY");
    const char *runtime_spec = getenv("PCCD_RUNTIME") && *getenv("PCCD_RUNTIME")
                                   ? getenv("PCCD_RUNTIME")
                                   : "none";
    const char *account_fails = getenv("PCCD_ACCOUNT_FAIL_LIMIT");
    const char *signup_limit = getenv("PCCD_SIGNUP_LIMIT");
    const char *smtp_url = getenv("PCCD_SMTP_URL"), *smtp_from = getenv("PCCD_SMTP_FROM");
    int c;
    while ((c = getopt_long(argc, argv, "", opts, NULL)) != -1) {
        switch (c) {
        case OPT_HELP: fputs(help, stdout); return 0;
        case OPT_DATA: s.data_dir = optarg; break;
        case OPT_DB: s.db_url = optarg; break;
        case OPT_SECRET: s.secret_file = optarg; break;
        case OPT_LISTEN: listen = optarg; break;
        case OPT_THREADS: numeric[0].value = optarg; break;
        case OPT_MAXCONN: numeric[1].value = optarg; break;
        case OPT_PERIP: numeric[2].value = optarg; break;
        case OPT_TIMEOUT: numeric[3].value = optarg; break;
        case OPT_FAILS: numeric[4].value = optarg; break;
        case OPT_PROXY: trust_proxy = 1; break;
        case OPT_LOG: numeric[5].value = optarg; break;
        case OPT_REQ_TIMEOUT: numeric[6].value = optarg; break;
        case OPT_REGIONS: regions = optarg; break;
        case 'S': signup = optarg; break;
        case OPT_TEST_CLOCK: test_clock_file = optarg; break;
        case OPT_PUBLIC_URL: public_url = optarg; break;
        case OPT_ACCESS_TTL: access_ttl = optarg; break;
        case OPT_TLS_CERT: tls_cert = optarg; break;
        case OPT_TLS_KEY: tls_key = optarg; break;
        case OPT_RUNTIME: runtime_spec = optarg; break;
        case OPT_ACCOUNT_FAILS: account_fails = optarg; break;
        case OPT_SIGNUP_LIMIT: signup_limit = optarg; break;
        case OPT_SMTP_URL: smtp_url = optarg; break;
        case OPT_SMTP_FROM: smtp_from = optarg; break;
        default: fputs(help, stderr); return 2;
        }
    }
    if (optind < argc) {
        die_msg("serve", "unexpected argument '%s'", argv[optind]);
        return 2;
    }
    const char *allow_clock = getenv("PCCD_ALLOW_TEST_CLOCK");
    if (test_clock_file && !(allow_clock && strcmp(allow_clock, "1") == 0)) {
        die_msg("serve", "--test-clock-file is for tests only: it needs PCCD_ALLOW_TEST_CLOCK=1");
        return 2;
    }
    unsigned threads = 0, maxconn = 1024, perip = 256, timeout = 30, fails = 30,
             request_timeout = 30;
    enum log_level level = LOG_INFO;
    if ((numeric[0].value && parse_uint(numeric[0].value, 1, 256, &threads)) ||
        (numeric[1].value && parse_uint(numeric[1].value, 1, 100000, &maxconn)) ||
        (numeric[2].value && parse_uint(numeric[2].value, 1, 100000, &perip)) ||
        (numeric[3].value && parse_uint(numeric[3].value, 1, 3600, &timeout)) ||
        (numeric[4].value && parse_uint(numeric[4].value, 1, 1000000, &fails)) ||
        (numeric[6].value && parse_uint(numeric[6].value, 1, 3600, &request_timeout)) ||
        (numeric[5].value && parse_level(numeric[5].value, &level))) {
        die_msg("serve", "invalid number or level in the options (see pccd serve --help)");
        return 2;
    }
    if (tls_cert && !*tls_cert)
        tls_cert = NULL; /* an empty variable counts as unset */
    if (tls_key && !*tls_key)
        tls_key = NULL;
    if (!tls_cert != !tls_key) {
        die_msg("serve", "--tls-cert and --tls-key go together: give both, or neither for "
                         "plain HTTP");
        return 2;
    }
    if (tls_cert && !http_tls_supported()) {
        die_msg("serve",
                "this libmicrohttpd was built without TLS support: install one built "
                "with GnuTLS (Debian's libmicrohttpd12 is), or serve HTTP behind a TLS proxy");
        return 1;
    }
    struct auth_limits account_limits = auth_account_defaults;
    struct auth_limits signup_limits = auth_signup_defaults;
    if ((account_fails && *account_fails &&
         parse_uint(account_fails, 1, 1000000, &account_limits.failures)) ||
        (signup_limit && *signup_limit &&
         parse_uint(signup_limit, 1, 1000000, &signup_limits.failures))) {
        die_msg("serve", "--account-fail-limit and --signup-limit must be whole numbers from 1");
        return 2;
    }
    unsigned access_seconds = 3600;
    if (access_ttl && *access_ttl && parse_uint(access_ttl, 60, 86400, &access_seconds)) {
        die_msg("serve", "--oauth-access-ttl must be 60 to 86400 seconds");
        return 2;
    }
    char public_buf[512];
    if (public_url && *public_url) {
        size_t n = strlen(public_url);
        if ((strncmp(public_url, "http://", 7) != 0 && strncmp(public_url, "https://", 8) != 0) ||
            n >= sizeof public_buf || strpbrk(public_url, "?# \"'<>")) {
            die_msg("serve", "--public-url must be an http:// or https:// URL");
            return 2;
        }
        snprintf(public_buf, sizeof public_buf, "%s", public_url);
        while (n > 0 && public_buf[n - 1] == '/') /* no trailing slash: paths are appended */
            public_buf[--n] = '\0';
    }
    struct api_app app = {.version = PCCD_VERSION, .public_url = public_buf};
    char err[512];
    if (api_regions_parse(regions, app.regions, &app.region_count, err, sizeof err) != RC_OK) {
        die_msg("serve", "--regions: %s", err);
        return 2;
    }
    if (strcmp(runtime_spec, "none") != 0 && strcmp(runtime_spec, "docker") != 0 &&
        strncmp(runtime_spec, "docker:", 7) != 0) {
        die_msg("serve", "--runtime must be none, docker or docker:SOCKET, not '%s'", runtime_spec);
        return 2;
    }
    if (strcmp(signup, "open") != 0 && strcmp(signup, "closed") != 0) {
        die_msg("serve", "--signup must be open or closed, not '%s'", signup);
        return 2;
    }
    struct web web;
    if (web_init(&web, strcmp(signup, "open") == 0) != RC_OK) {
        die_msg("serve", "the dashboard's assets are missing from this build");
        return 1;
    }
    app.web = &web;
    if (settings_finish(&s, "serve"))
        return 2;
    log_init(stderr, level);
    /* The key is read before storage is opened, so a bad pair fails at once; it is wiped as
     * soon as the server has started (or failed to). */
    struct http_tls tls = {0};
    enum rc rc;
    if (tls_cert && (rc = http_tls_load(&tls, tls_cert, tls_key, err, sizeof err)) != RC_OK) {
        die_msg("serve", "%s", err);
        return rc == RC_NOMEM ? 1 : 2;
    }

    /* The mailer before storage, so a bad --smtp-url fails at once. */
    struct auth_mailer *mailer = NULL;
    if (smtp_url && *smtp_url &&
        auth_mailer_smtp_new(smtp_url, smtp_from && *smtp_from ? smtp_from : "pccd@localhost",
                             &mailer, err, sizeof err) != RC_OK) {
        die_msg("serve", "--smtp-url: %s", err);
        http_tls_release(&tls);
        return 2;
    }
    struct digest_key key;
    if (open_backend(&s, &app.store, &key)) {
        auth_mailer_free(mailer);
        http_tls_release(&tls);
        return 1;
    }
    const struct auth_limits limits = {fails, 60, 60};
    rc = auth_init(&app.auth, app.store, &key, &limits);
    sodium_memzero(&key, sizeof key);
    app.auth.oauth_access_seconds = access_seconds;
    if (rc == RC_OK)
        rc = auth_set_account_limits(&app.auth, &account_limits, &signup_limits);
    if (rc == RC_OK && mailer) {
        auth_set_mailer(&app.auth, mailer);
        mailer = NULL;
    }
    auth_mailer_free(mailer);
    if (rc != RC_OK) {
        http_tls_release(&tls);
        store_close(app.store);
        return 1;
    }
    if (test_clock_file) {
        app.auth.clock = test_clock;
        app.auth.clock_ctx = (void *)test_clock_file;
        log_warn("serve: the clock is driven by the test file %s", test_clock_file);
    }

    /* Block the stop signals in every thread; the main thread waits for them below. */
    sigset_t stop;
    sigemptyset(&stop);
    sigaddset(&stop, SIGINT);
    sigaddset(&stop, SIGTERM);
    pthread_sigmask(SIG_BLOCK, &stop, NULL);
    signal(SIGPIPE, SIG_IGN);

    struct http_config cfg = {.listen = listen,
                              .threads = threads,
                              .max_connections = maxconn,
                              .max_per_ip = perip,
                              .timeout_seconds = timeout,
                              .request_timeout_seconds = request_timeout,
                              .trust_proxy = trust_proxy,
                              .authenticate = api_authenticate,
                              .tls = tls_cert ? &tls : NULL,
                              .authenticate_public_key = api_authenticate_public_key,
                              .app = &app,
                              .route_begin = begin_request_view,
                              .route_end = end_request_view};
    /* The JSON API's routes, then the dashboard's. */
    size_t api_count, web_count;
    const struct http_route *api = api_routes(&api_count), *pages = web_routes(&web_count);
    struct http_route *routes = calloc(api_count + web_count, sizeof *routes);
    if (!routes) {
        http_tls_release(&tls);
        auth_release(&app.auth);
        store_close(app.store);
        return 1;
    }
    memcpy(routes, api, api_count * sizeof *routes);
    memcpy(routes + api_count, pages, web_count * sizeof *routes);
    cfg.routes = routes;
    cfg.route_count = api_count + web_count;
    struct http_server *srv;
    rc = http_server_start(&cfg, &srv, err, sizeof err);
    http_tls_release(&tls); /* the key lives on only inside GnuTLS */
    if (rc != RC_OK) {
        die_msg("serve", "%s", err);
        free(routes);
        auth_release(&app.auth);
        store_close(app.store);
        return 1;
    }
    char host[256];
    snprintf(host, sizeof host, "%.*s", (int)(strrchr(listen, ':') - listen), listen);
    /* The issuer defaults to the address served (known only now when the port was 0); no
     * request can arrive before the port is printed below. */
    const char *scheme = tls_cert ? "https" : "http";
    if (!(public_url && *public_url))
        snprintf(public_buf, sizeof public_buf, "%s://%s:%u", scheme, host, http_server_port(srv));
    /* The runtime is attached and reported; the API does not use it yet (agent starts still
     * answer 503 until the session wiring lands). */
    struct runtime *runtime = open_runtime(runtime_spec);
    /* The first purge runs before the address is printed: whoever waits for it (a test, a
     * supervisor) finds the database already tidied. */
    struct housekeeping hk;
    int housekeeping = housekeeping_start(&hk, &app) == 0;
    if (!housekeeping)
        log_warn("housekeeping: cannot start its thread; expired codes and sessions stay");
    fprintf(stderr, "pccd %s listening on %s://%s:%u\n", PCCD_VERSION, scheme, host,
            http_server_port(srv));
    fflush(stderr);
    /* systemd's Type=notify: ready once the address is printed (no-op without NOTIFY_SOCKET). */
    sd_notifyf(0, "READY=1\nSTATUS=serving on %s://%s:%u", scheme, host, http_server_port(srv));

    int sig = 0;
    sigwait(&stop, &sig);
    log_info("received signal %d, stopping", sig);
    sd_notify(0, "STOPPING=1");
    if (housekeeping)
        housekeeping_stop(&hk);
    http_server_stop(srv);
    runtime_free(runtime);
    free(routes);
    auth_release(&app.auth);
    store_close(app.store);
    return 0;
}
