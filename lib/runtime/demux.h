/* demux.h: pure pieces of the Docker adapter, apart so they can be tested byte by byte: the
 * decoder of the engine's multiplexed log stream, and its RFC 3339 times. */
#ifndef PCC_RUNTIME_DEMUX_H
#define PCC_RUNTIME_DEMUX_H

#include <stddef.h>
#include <stdint.h>

#include "buf.h"
#include "runtime.h"

#define RUNTIME_LOG_LINE_CAP ((size_t)64 << 10) /* longer lines are cut into pieces this long */

/* The stream is frames of an 8-byte header (stream: 1 stdout, 2 stderr; three zero bytes; a
 * 32-bit big-endian length) and that many payload bytes. Lines may span frames. */
struct runtime_demux {
    unsigned char head[8];
    size_t head_len;
    size_t remaining; /* payload bytes left in the current frame */
    int stream;
    struct buf line[3]; /* the partial line of each stream */
    runtime_log_fn fn;
    void *arg;
    int stopped; /* fn asked to stop */
};

/* Prepare dx to call fn(arg, ...) once per complete line. */
void runtime_demux_init(struct runtime_demux *dx, runtime_log_fn fn, void *arg);
/* Decode the next len bytes, in any split. A line's leading "TIME " (RFC 3339) becomes its at;
 * a trailing "\r" is dropped. Returns 0, or 1 once fn asked to stop (nothing more is read). */
int runtime_demux_feed(struct runtime_demux *dx, const char *p, size_t len);
/* At the end of the stream: emit each stream's unterminated last line, unless stopped. */
void runtime_demux_finish(struct runtime_demux *dx);
/* Free the line buffers. */
void runtime_demux_release(struct runtime_demux *dx);

/* RFC 3339 ("2025-01-02T03:04:05.123456789Z", or with "+01:00") from (s, len) to ms since the
 * epoch; the engines' "0001-01-01T00:00:00Z" (never) and anything unreadable give 0. */
int64_t runtime_parse_time(const char *s, size_t len);

#endif
