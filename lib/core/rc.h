/* rc.h: the one error-code table of pcc. Every fallible function returns enum rc;
 * each code carries its default message, HTTP status and API "code" string. */
#ifndef PCC_RC_H
#define PCC_RC_H

/* X(name, message, http_status, api_code) */
#define RC_TABLE(X)                                                                                \
    X(RC_OK, "ok", 200, "200")                                                                     \
    X(RC_NOMEM, "out of memory", 500, "500")                                                       \
    X(RC_INVALID, "invalid request", 400, "400")                                                   \
    X(RC_BAD_JSON, "malformed JSON", 400, "400")                                                   \
    X(RC_UNAUTHORIZED, "Unauthorized / token invalid, expired or revoked", 401, "401")             \
    X(RC_FORBIDDEN, "forbidden", 403, "403")                                                       \
    X(RC_NOT_FOUND, "not found", 404, "404")                                                       \
    X(RC_METHOD, "method not allowed", 405, "405")                                                 \
    X(RC_CONFLICT, "conflict", 409, "409")                                                         \
    X(RC_TOO_LARGE, "request body too large", 413, "413")                                          \
    X(RC_HEADERS_TOO_LARGE, "request headers too large", 431, "431")                               \
    X(RC_THROTTLED, "too many failed attempts; try again later", 429, "429")                       \
    X(RC_UNSUPPORTED_MEDIA, "request body must be application/json", 415, "415")                   \
    X(RC_IO, "input/output error", 500, "500")                                                     \
    X(RC_STORE, "storage error", 500, "500")                                                       \
    X(RC_INTERNAL, "internal error", 500, "500")                                                   \
    X(RC_NOT_IMPLEMENTED, "not implemented", 501, "501")                                           \
    X(RC_UNAVAILABLE, "service unavailable", 503, "503")                                           \
    X(RC_NO_RUNTIME, "no agent runtime is attached to this pccd, so agents cannot be started",     \
      503, "503")                                                                                  \
    X(RC_ENGINE_UNREACHABLE, "the container engine does not answer", 503, "503")                   \
    X(RC_ENGINE, "the container engine refused the request", 500, "500")                           \
    X(RC_IMAGE_NOT_FOUND, "image not found", 400, "400")                                           \
    X(RC_PULL_REFUSED, "the registry refused to let the image be pulled", 400, "400")              \
    X(RC_TIMEOUT, "timed out", 504, "504")                                                         \
    X(RC_NO_BUILDS, "cloud builds are not available on this pccd: deploy a pushed IMAGE:TAG", 501, \
      "501")                                                                                       \
    X(RC_PARSE, "parse error", 400, "400")                                                         \
    X(RC_TOKEN_FORMAT, "token is not a pcc token", 401, "401")                                     \
    X(RC_TOKEN_CHECKSUM, "token checksum mismatch: it looks mistyped", 401, "401")                 \
    X(RC_NETWORK, "could not reach the server", 0, "0")                                            \
    X(RC_PROTOCOL, "unexpected answer from the server", 0, "0")                                    \
    X(RC_INCOMPLETE, "more input needed", 0, "0")

enum rc {
#define RC_ENUM(name, msg, status, code) name,
    RC_TABLE(RC_ENUM)
#undef RC_ENUM
        RC__COUNT
};

/* Default human message for rc; never NULL. */
const char *rc_message(enum rc rc);
/* HTTP status a server answers with for rc (0 for client-only codes). */
int rc_http_status(enum rc rc);
/* API "code" string for rc, e.g. "401". */
const char *rc_api_code(enum rc rc);
/* Symbolic name, e.g. "RC_NOT_FOUND", for logs and tests. */
const char *rc_name(enum rc rc);
/* 1 for the 5xx codes that answer as configured rather than fail: a feature this server does
 * not offer (no cloud builds, no agent runtime). They are logged at info, not as errors. */
int rc_is_refusal(enum rc rc);

#endif
