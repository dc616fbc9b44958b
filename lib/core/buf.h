/* buf.h: a growable byte buffer with a hard cap, always NUL-terminated.
 * Appends past the cap fail with RC_TOO_LARGE and leave the buffer unchanged. */
#ifndef PCC_BUF_H
#define PCC_BUF_H

#include <stdarg.h>
#include <stddef.h>

#include "rc.h"

struct buf {
    char *data; /* NUL-terminated; NULL until the first append */
    size_t len;
    size_t alloc;
    size_t cap; /* maximum len; 0 means BUF_DEFAULT_CAP */
};

#define BUF_DEFAULT_CAP ((size_t)16 << 20)
#define BUF_INIT                                                                                   \
    {                                                                                              \
        NULL, 0, 0, 0                                                                              \
    }

/* Prepare an empty buffer that may hold at most cap bytes (0: the default cap). */
void buf_init(struct buf *b, size_t cap);
/* Free the storage; the buffer is empty and reusable afterwards. */
void buf_release(struct buf *b);
/* Wipe the contents with sodium_memzero, then release: for buffers that held secrets. */
void buf_release_secret(struct buf *b);
/* Drop the contents but keep the storage. */
void buf_reset(struct buf *b);
/* Append len bytes; RC_TOO_LARGE past the cap, RC_NOMEM on allocation failure. */
enum rc buf_add(struct buf *b, const void *data, size_t len);
/* Append a NUL-terminated string. */
enum rc buf_adds(struct buf *b, const char *s);
/* Append one byte. */
enum rc buf_addc(struct buf *b, char c);
/* Append printf-formatted text. */
enum rc buf_addf(struct buf *b, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
enum rc buf_vaddf(struct buf *b, const char *fmt, va_list ap);
/* Hand the contents to the caller (free() it) and leave the buffer empty.
 * Returns an empty string, never NULL, unless memory ran out. */
char *buf_detach(struct buf *b, size_t *len_out);
/* The contents as a C string; "" for an empty buffer. */
const char *buf_str(const struct buf *b);

#endif
