/* client.h: the pcc API client for the CLI: one kept-alive connection, JSON in and out, and
 * errors mapped to enum rc. It never prints, exits or reads the environment. */
#ifndef PCC_CLIENT_H
#define PCC_CLIENT_H

#include <stddef.h>

#include <jansson.h>

#include "rc.h"

#define CLIENT_MAX_REPLY_BYTES ((size_t)8 << 20)
#define CLIENT_TIMEOUT_SECONDS 30L

struct client;

/* Trust the CA certificates in the PEM file at path (instead of the system's store) for every
 * https:// request of this process; NULL restores the system's store. The front end calls it
 * once, before any client is made, from SSL_CERT_FILE or CURL_CA_BUNDLE (libcurl, unlike the
 * curl tool, reads neither). The string must outlive the clients. */
void client_use_ca_file(const char *path);
/* Also trust the CA certificates in the directory at path (OpenSSL's hashed layout, as
 * `openssl rehash` makes it), from SSL_CERT_DIR; NULL for none. Same rules as the file. */
void client_use_ca_dir(const char *path);

/* A client for api_host (e.g. "http://127.0.0.1:8787"; a trailing '/' is dropped) sending
 * "User-Agent: user_agent". RC_INVALID when the host is not an http(s) URL. */
enum rc client_new(const char *api_host, const char *user_agent, struct client **out);
/* Free the client and wipe its token; NULL is a no-op. */
void client_free(struct client *c);
/* Use token (copied; NULL or "" for none) as the bearer credential of later requests. */
enum rc client_set_token(struct client *c, const char *token);
/* 1 when the last request failed in TLS (certificate not verified, CA file unusable,
 * handshake refused): the server may well be running, so "is it up?" is the wrong hint. */
int client_tls_failed(const struct client *c);
/* The API host requests go to. */
const char *client_host(const struct client *c);

#define CLIENT_EXPIRATION_SIZE 40

/* The outcome of one request. */
struct client_reply {
    long status;  /* HTTP status; 0 when no answer arrived */
    json_t *body; /* the parsed JSON body, or NULL when it was empty or not JSON */
    /* The Pipecat-Token-Expiration header: when the token used expires (ISO-8601), "" when
     * the server sent none (the token never expires). */
    char token_expiration[CLIENT_EXPIRATION_SIZE];
};

/* Send METHOD api_host+path with body (NULL: none) as JSON. RC_OK whenever an HTTP answer
 * arrived, whatever its status; RC_NETWORK (err says why) when none did; RC_PROTOCOL when the
 * answer was not JSON. The caller releases reply with client_reply_release. */
enum rc client_request(struct client *c, const char *method, const char *path, const json_t *body,
                       struct client_reply *reply, char *err, size_t errlen);
/* POST api_host+path with form (already application/x-www-form-urlencoded) as the body, for
 * OAuth token endpoints; results as client_request (the answer must be JSON). */
enum rc client_post_form(struct client *c, const char *path, const char *form,
                         struct client_reply *reply, char *err, size_t errlen);
void client_reply_release(struct client_reply *reply);

/* The error message of an error reply ({"error": ...} or {"message": ...}), or a generic text
 * naming the status. Never NULL; valid while reply is. */
const char *client_reply_error(const struct client_reply *reply);

/* Percent-encode s for use as one path segment into out (size bytes). RC_TOO_LARGE if it does
 * not fit. */
enum rc client_escape_segment(const char *s, char *out, size_t size);

#endif
