/* httpparse.h: parsing of HTTP/1.1 responses as the CLI's client receives them: the status
 * line and headers, and chunked bodies. Pure code over (ptr, len); fuzzed. */
#ifndef PCC_HTTPPARSE_H
#define PCC_HTTPPARSE_H

#include <stddef.h>
#include <stdint.h>

#include "buf.h"
#include "rc.h"

#define HTTPPARSE_MAX_HEAD ((size_t)64 << 10)

struct httpparse_head {
    int status;             /* 100..599 */
    int chunked;            /* Transfer-Encoding: chunked */
    int close;              /* Connection: close, or HTTP/1.0 without keep-alive */
    int64_t content_length; /* -1 when absent */
    size_t head_len;        /* bytes of status line + headers + the empty line */
};

/* Parse the response head at the start of (data, len). RC_OK fills out; RC_INCOMPLETE when the
 * empty line ending the head has not arrived yet; RC_PARSE for malformed input (a bad status
 * line, a header without ':', conflicting or invalid lengths); RC_TOO_LARGE past
 * HTTPPARSE_MAX_HEAD. */
enum rc httpparse_head(const char *data, size_t len, struct httpparse_head *out);

/* Decode a complete chunked body at the start of (data, len) into body (whose cap bounds it).
 * RC_OK sets *consumed to the bytes used (trailers included); RC_INCOMPLETE when more input is
 * needed (body is left reset); RC_PARSE when malformed; RC_TOO_LARGE past body's cap. */
enum rc httpparse_chunked(const char *data, size_t len, struct buf *body, size_t *consumed);

/* Find header name (case-insensitive) among the header lines of (data, len) (a response head,
 * or one header line as libcurl hands them over) and copy its value, trimmed, into out (size
 * bytes, truncated). RC_OK when found; RC_NOT_FOUND leaves out untouched. */
enum rc httpparse_header(const char *data, size_t len, const char *name, char *out, size_t size);

#endif
