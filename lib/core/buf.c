/* buf.c: capped growable buffer (see buf.h). */
#include "buf.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <sodium.h>
#include "banned.h"


void buf_init(struct buf *b, size_t cap)
{
    b->data = NULL;
    b->len = 0;
    b->alloc = 0;
    b->cap = cap;
}

void buf_release(struct buf *b)
{
    free(b->data);
    b->data = NULL;
    b->len = 0;
    b->alloc = 0;
}

void buf_release_secret(struct buf *b)
{
    if (b->data)
        sodium_memzero(b->data, b->alloc);
    buf_release(b);
}

void buf_reset(struct buf *b)
{
    b->len = 0;
    if (b->data)
        b->data[0] = '\0';
}

static size_t effective_cap(const struct buf *b) { return b->cap ? b->cap : BUF_DEFAULT_CAP; }

static enum rc grow(struct buf *b, size_t extra)
{
    if (extra > effective_cap(b) || b->len > effective_cap(b) - extra)
        return RC_TOO_LARGE;
    size_t need = b->len + extra + 1;
    if (need <= b->alloc)
        return RC_OK;
    size_t n = b->alloc ? b->alloc : 64;
    while (n < need)
        n = n < SIZE_MAX / 2 ? n * 2 : need;
    char *p = realloc(b->data, n);
    if (!p)
        return RC_NOMEM;
    b->data = p;
    b->alloc = n;
    return RC_OK;
}

enum rc buf_add(struct buf *b, const void *data, size_t len)
{
    enum rc rc = grow(b, len);
    if (rc != RC_OK)
        return rc;
    if (len)
        memcpy(b->data + b->len, data, len);
    b->len += len;
    b->data[b->len] = '\0';
    return RC_OK;
}

enum rc buf_adds(struct buf *b, const char *s) { return buf_add(b, s, strlen(s)); }

enum rc buf_addc(struct buf *b, char c) { return buf_add(b, &c, 1); }

enum rc buf_vaddf(struct buf *b, const char *fmt, va_list ap)
{
    va_list ap2;
    va_copy(ap2, ap);
    int n = vsnprintf(NULL, 0, fmt, ap2);
    va_end(ap2);
    if (n < 0)
        return RC_INTERNAL;
    enum rc rc = grow(b, (size_t)n);
    if (rc != RC_OK)
        return rc;
    vsnprintf(b->data + b->len, (size_t)n + 1, fmt, ap);
    b->len += (size_t)n;
    return RC_OK;
}

enum rc buf_addf(struct buf *b, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    enum rc rc = buf_vaddf(b, fmt, ap);
    va_end(ap);
    return rc;
}

char *buf_detach(struct buf *b, size_t *len_out)
{
    char *p = b->data;
    size_t len = b->len;
    if (!p)
        p = calloc(1, 1);
    b->data = NULL;
    b->len = 0;
    b->alloc = 0;
    if (len_out)
        *len_out = len;
    return p;
}

const char *buf_str(const struct buf *b) { return b->data ? b->data : ""; }
