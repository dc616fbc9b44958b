/* runtime.h: the agent runtime interface. pccd sees container engines only through these calls
 * (a struct of function pointers, like store.h): docker.c speaks the Docker Engine API (dockerd,
 * Podman's service), none.c refuses everything. See docs/runtime.md. */
#ifndef PCC_RUNTIME_H
#define PCC_RUNTIME_H

#include <stddef.h>
#include <stdint.h>

#include "rc.h"

#define RUNTIME_ID_SIZE 72 /* an engine's instance id (64 hex digits for Docker) */
#define RUNTIME_NAME_SIZE 128
#define RUNTIME_IMAGE_SIZE 520 /* image references: at most 512 bytes accepted */
#define RUNTIME_LABEL_KEY_SIZE 64
#define RUNTIME_LABEL_VALUE_SIZE 128
#define RUNTIME_LABELS_MAX 8 /* labels kept per instance: those under RUNTIME_LABEL_PREFIX */
#define RUNTIME_ERROR_SIZE 256
#define RUNTIME_VERSION_SIZE 64
#define RUNTIME_SOCKET_SIZE 108     /* sun_path */
#define RUNTIME_LABEL_PREFIX "pcc." /* pcc's labels: pcc.organization, pcc.agent, ... */

/* What the engine says of an instance. Paused and restarting count as running. */
enum runtime_state {
    RUNTIME_STATE_UNKNOWN,
    RUNTIME_STATE_CREATED, /* created, never started */
    RUNTIME_STATE_RUNNING,
    RUNTIME_STATE_EXITED, /* stopped, crashed or killed: see exit_code and oom_killed */
};

enum runtime_stream { RUNTIME_STDOUT = 1, RUNTIME_STDERR = 2 };

/* A name and a value, for labels and environment variables given to create. */
struct runtime_pair {
    const char *name;
    const char *value; /* environment values may be secrets: adapters wipe their copies */
};

struct runtime_label {
    char key[RUNTIME_LABEL_KEY_SIZE];
    char value[RUNTIME_LABEL_VALUE_SIZE];
};

/* The engine's identity, from ping. */
struct runtime_version {
    char engine[RUNTIME_VERSION_SIZE];      /* "Podman Engine", "Docker Engine" */
    char version[RUNTIME_VERSION_SIZE];     /* e.g. "4.3.1" */
    char api_version[RUNTIME_VERSION_SIZE]; /* the API version the adapter speaks, e.g. "1.41" */
};

/* An image as the engine has it locally. */
struct runtime_image {
    char id[RUNTIME_ID_SIZE];
    int64_t size_bytes;
};

/* Credentials for a private registry (an image pull secret). Never logged; adapters wipe the
 * encoded forms they build. */
struct runtime_registry_auth {
    const char *username;
    const char *password;
    const char *server; /* e.g. "registry.example.com" */
};

/* One instance to create and start. Every pointer is borrowed for the call. */
struct runtime_spec {
    const char *image;
    const char *name; /* unique in the engine; [a-zA-Z0-9][a-zA-Z0-9_.-]* */
    const struct runtime_pair *labels;
    size_t n_labels;
    const struct runtime_pair *env;
    size_t n_env;
    int container_port;   /* the agent's PORT; published on 127.0.0.1 at a port the engine picks */
    int64_t nano_cpus;    /* CPU limit in 1e-9 CPUs (0.5 CPU: 500000000); 0: none */
    int64_t memory_bytes; /* memory limit, swap included; 0: none */
    int64_t nofile;       /* RLIMIT_NOFILE soft = hard; 0: the engine's default */
    int64_t nproc;        /* RLIMIT_NPROC soft = hard; 0: the engine's default */
    int stop_timeout_s;   /* SIGTERM to SIGKILL on stop (the agent's SHUTDOWN_TIMEOUT) */
};

/* An instance as the engine reports it. Times are milliseconds since the epoch, 0 for never. */
struct runtime_instance {
    char id[RUNTIME_ID_SIZE];
    char name[RUNTIME_NAME_SIZE];
    char image[RUNTIME_IMAGE_SIZE];
    enum runtime_state state;
    int exit_code;     /* meaningful when state is EXITED */
    int oom_killed;    /* 1 when the engine says the memory limit killed it (Podman 4.3 on
                          cgroups v1 never does: exit code 137 is all there is) */
    int restart_count; /* restarts made by the engine */
    int64_t started_at;
    int64_t finished_at;
    int host_port;                  /* the published container port on 127.0.0.1; 0 when none */
    char error[RUNTIME_ERROR_SIZE]; /* the engine's error for it (e.g. a failed start), or "" */
    struct runtime_label labels[RUNTIME_LABELS_MAX]; /* the RUNTIME_LABEL_PREFIX ones */
    size_t n_labels;
};

/* One resource sample. CPU is cumulative: runtime_millicores turns two samples into a rate. */
struct runtime_stats {
    int64_t at;            /* when the engine read it, ms since the epoch */
    uint64_t cpu_ns;       /* CPU time used since start, nanoseconds */
    uint64_t memory_bytes; /* memory in use */
    uint64_t memory_limit; /* the limit the engine enforces (host memory when none) */
};

/* Called once per log line, without its newline; at is ms since the epoch (0 if unknown).
 * Return nonzero to stop reading. */
typedef int (*runtime_log_fn)(void *arg, enum runtime_stream stream, int64_t at, const char *line,
                              size_t len);

struct runtime;

/* The operations an adapter implements. All are safe from several threads at once. Each fills
 * err (a caller-owned buffer, never a secret) on failure. Common return codes: RC_OK;
 * RC_NO_RUNTIME (adapter none); RC_ENGINE_UNREACHABLE (nothing answers on the socket);
 * RC_NOT_FOUND (no such instance); RC_ENGINE (the engine refused: err says why). */
struct runtime_ops {
    void (*free)(struct runtime *rt);
    /* Check the engine answers; fills out and fixes the API version used from then on. */
    enum rc (*ping)(struct runtime *rt, struct runtime_version *out, char *err, size_t errlen);
    /* RC_IMAGE_NOT_FOUND when the engine does not hold image locally. */
    enum rc (*image_inspect)(struct runtime *rt, const char *image, struct runtime_image *out,
                             char *err, size_t errlen);
    /* Pull image, with auth (NULL: anonymous). RC_IMAGE_NOT_FOUND when the registry has no
     * such image, RC_PULL_REFUSED when it refuses the credentials, RC_ENGINE otherwise. */
    enum rc (*image_pull)(struct runtime *rt, const char *image,
                          const struct runtime_registry_auth *auth, char *err, size_t errlen);
    /* Remove the local image by that name: the name alone when the image has others, else the
     * image. RC_IMAGE_NOT_FOUND when the engine holds no such name; RC_CONFLICT when an
     * instance still uses the image. */
    enum rc (*image_remove)(struct runtime *rt, const char *image, char *err, size_t errlen);
    /* Create and start spec's instance; out gets its id and published host port. On a failed
     * start the instance is removed again. RC_IMAGE_NOT_FOUND when the image is not local;
     * RC_CONFLICT when the name is taken. */
    enum rc (*create)(struct runtime *rt, const struct runtime_spec *spec,
                      struct runtime_instance *out, char *err, size_t errlen);
    enum rc (*inspect)(struct runtime *rt, const char *id, struct runtime_instance *out, char *err,
                       size_t errlen);
    /* SIGTERM, then SIGKILL after timeout_s. RC_OK also when it was not running. */
    enum rc (*stop)(struct runtime *rt, const char *id, int timeout_s, char *err, size_t errlen);
    /* Remove, killing it if running. RC_NOT_FOUND when it does not exist. */
    enum rc (*remove)(struct runtime *rt, const char *id, char *err, size_t errlen);
    /* Every instance (running or not) carrying label ("key=value", or "key" for any value);
     * *list is freed with free(). */
    enum rc (*list)(struct runtime *rt, const char *label, struct runtime_instance **list,
                    size_t *count, char *err, size_t errlen);
    /* Its stdout and stderr since since_ms (0: from the start), one fn call per line; with
     * follow, until it exits or fn returns nonzero. */
    enum rc (*logs)(struct runtime *rt, const char *id, int64_t since_ms, int follow,
                    runtime_log_fn fn, void *arg, char *err, size_t errlen);
    /* One resource sample of a running instance; RC_CONFLICT when it is not running (dockerd
     * may answer zeros instead). */
    enum rc (*stats)(struct runtime *rt, const char *id, struct runtime_stats *out, char *err,
                     size_t errlen);
    /* Block until it is not running, at most timeout_ms (0: no limit); *exit_code gets its
     * code. RC_TIMEOUT when it still runs at the deadline. */
    enum rc (*wait)(struct runtime *rt, const char *id, int timeout_ms, int *exit_code, char *err,
                    size_t errlen);
};

struct runtime {
    const struct runtime_ops *ops;
    const char *kind;    /* "none", "docker" */
    const char *address; /* where the engine is: its socket path; "" for none */
};

/* Open the runtime named by spec: "none", "docker" (socket from runtime_socket_find with
 * docker_host, the caller's $DOCKER_HOST or NULL, and candidates) or "docker:SOCKET". Does not
 * contact the engine (call ping). RC_INVALID for an unknown spec, RC_NOT_FOUND when no socket is
 * found. *out is freed by runtime_free. */
enum rc runtime_open(const char *spec, const char *docker_host, const char *const *candidates,
                     struct runtime **out, char *err, size_t errlen);
/* The adapter that refuses every operation with RC_NO_RUNTIME. */
enum rc runtime_none_new(struct runtime **out);
/* The Docker Engine API adapter over the Unix socket at path (no I/O until the first call). */
enum rc runtime_docker_new(const char *path, struct runtime **out, char *err, size_t errlen);
/* Free; runtime_free(NULL) is a no-op. */
void runtime_free(struct runtime *rt);

/* Find the engine's socket: explicit when not empty, else the path of docker_host when it is
 * "unix://PATH", else the first of the NULL-terminated candidates that is a socket. The library
 * reads no environment: the front end passes $DOCKER_HOST and the usual paths. Copies the path
 * into out; RC_NOT_FOUND (err lists what was tried) when none is found. */
enum rc runtime_socket_find(const char *explicit_path, const char *docker_host,
                            const char *const *candidates, char *out, size_t outlen, char *err,
                            size_t errlen);
/* The usual socket paths: Podman's rootful service, then Docker's; NULL-terminated. */
extern const char *const runtime_default_sockets[];

/* The CPU and memory limits of an agent profile ("agent-1x": 0.5 CPU and 1 GiB, "agent-2x":
 * 1 CPU and 2 GiB). RC_INVALID for another name. */
enum rc runtime_profile_limits(const char *profile, int64_t *nano_cpus, int64_t *memory_bytes);
/* CPU use between two samples of one instance in millicores (1000: one CPU busy); 0 when the
 * samples are not in order. */
int64_t runtime_millicores(const struct runtime_stats *before, const struct runtime_stats *after);
/* The value of label key in inst, or NULL. */
const char *runtime_label(const struct runtime_instance *inst, const char *key);
/* Lowercase name of a state: "unknown", "created", "running", "exited". */
const char *runtime_state_name(enum runtime_state state);

#endif
