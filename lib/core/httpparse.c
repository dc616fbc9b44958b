/* httpparse.c: HTTP/1.1 response head and chunked-body parsing (see httpparse.h). */
#include "httpparse.h"

#include <string.h>
#include <strings.h>

#include "text.h"
#include "banned.h"

/* Find "\r\n" in [p, end); NULL when absent. */
static const char *find_crlf(const char *p, const char *end)
{
    for (; p + 1 < end; p++)
        if (p[0] == '\r' && p[1] == '\n')
            return p;
    return NULL;
}

static int parse_decimal(const char *p, const char *end, int64_t *out)
{
    int64_t v = 0;
    if (p == end)
        return 0;
    for (; p < end; p++) {
        if (*p < '0' || *p > '9' || v > (INT64_MAX - 9) / 10)
            return 0;
        v = v * 10 + (*p - '0');
    }
    *out = v;
    return 1;
}

/* Whether the comma-separated header value [p, end) contains token (case-insensitive). */
static int has_token(const char *p, const char *end, const char *token)
{
    size_t tlen = strlen(token);
    while (p < end) {
        while (p < end && (*p == ' ' || *p == '\t' || *p == ','))
            p++;
        const char *start = p;
        while (p < end && *p != ',')
            p++;
        const char *stop = p;
        while (stop > start && (stop[-1] == ' ' || stop[-1] == '\t'))
            stop--;
        if ((size_t)(stop - start) == tlen && strncasecmp(start, token, tlen) == 0)
            return 1;
    }
    return 0;
}

enum rc httpparse_head(const char *data, size_t len, struct httpparse_head *out)
{
    const char *end = data + len;
    const char *line_end = find_crlf(data, end);
    if (!line_end)
        return len > HTTPPARSE_MAX_HEAD ? RC_TOO_LARGE : RC_INCOMPLETE;
    /* "HTTP/1.x SSS reason" */
    if (line_end - data < 12 || memcmp(data, "HTTP/1.", 7) != 0 ||
        (data[7] != '0' && data[7] != '1') || data[8] != ' ')
        return RC_PARSE;
    int http10 = data[7] == '0';
    int status = 0;
    for (int i = 9; i < 12; i++) {
        if (data[i] < '0' || data[i] > '9')
            return RC_PARSE;
        status = status * 10 + (data[i] - '0');
    }
    if (status < 100 || status > 599 || (line_end - data > 12 && data[12] != ' '))
        return RC_PARSE;
    struct httpparse_head h = {.status = status, .content_length = -1, .close = http10};
    int keep_alive = 0;
    const char *p = line_end + 2;
    for (;;) {
        if ((size_t)(p - data) > HTTPPARSE_MAX_HEAD)
            return RC_TOO_LARGE;
        const char *eol = find_crlf(p, end);
        if (!eol)
            return len > HTTPPARSE_MAX_HEAD ? RC_TOO_LARGE : RC_INCOMPLETE;
        if (eol == p) { /* the empty line */
            h.head_len = (size_t)(eol + 2 - data);
            break;
        }
        const char *colon = memchr(p, ':', (size_t)(eol - p));
        if (!colon || colon == p || *p == ' ' || *p == '\t')
            return RC_PARSE; /* no name, or obsolete line folding */
        size_t name_len = (size_t)(colon - p);
        const char *v = colon + 1, *vend = eol;
        while (v < vend && (*v == ' ' || *v == '\t'))
            v++;
        while (vend > v && (vend[-1] == ' ' || vend[-1] == '\t'))
            vend--;
        for (const char *q = v; q < vend; q++)
            if ((unsigned char)*q < 0x20 && *q != '\t')
                return RC_PARSE;
        if (name_len == 14 && strncasecmp(p, "Content-Length", 14) == 0) {
            int64_t n;
            if (!parse_decimal(v, vend, &n) || (h.content_length >= 0 && h.content_length != n))
                return RC_PARSE;
            h.content_length = n;
        } else if (name_len == 17 && strncasecmp(p, "Transfer-Encoding", 17) == 0) {
            if (!has_token(v, vend, "chunked"))
                return RC_PARSE; /* no other coding is requested, so none is accepted */
            h.chunked = 1;
        } else if (name_len == 10 && strncasecmp(p, "Connection", 10) == 0) {
            if (has_token(v, vend, "close"))
                h.close = 1;
            if (has_token(v, vend, "keep-alive"))
                keep_alive = 1;
        }
        p = eol + 2;
    }
    if (http10 && keep_alive)
        h.close = 0;
    if (h.chunked)
        h.content_length = -1; /* RFC 9112 6.3: chunked wins over Content-Length */
    *out = h;
    return RC_OK;
}

enum rc httpparse_chunked(const char *data, size_t len, struct buf *body, size_t *consumed)
{
    const char *p = data, *end = data + len;
    buf_reset(body);
    for (;;) {
        const char *eol = find_crlf(p, end);
        if (!eol)
            return (size_t)(end - p) > 1024 ? RC_PARSE : RC_INCOMPLETE;
        uint64_t size = 0;
        const char *q = p;
        int digits = 0;
        for (; q < eol && text_hex_value(*q) >= 0; q++, digits++) {
            if (size > (UINT64_MAX >> 4))
                return RC_PARSE;
            size = (size << 4) | (uint64_t)text_hex_value(*q);
        }
        if (!digits || (q < eol && *q != ';' && *q != ' ' && *q != '\t'))
            return RC_PARSE; /* chunk extensions after ';' are ignored */
        size_t cap = body->cap ? body->cap : BUF_DEFAULT_CAP;
        if (size > cap)
            return RC_TOO_LARGE; /* also keeps size + 2 below from wrapping */
        p = eol + 2;
        if (size == 0) {
            /* Trailer fields, then the empty line. */
            for (;;) {
                const char *t = find_crlf(p, end);
                if (!t)
                    return RC_INCOMPLETE;
                if (t == p) {
                    *consumed = (size_t)(t + 2 - data);
                    return RC_OK;
                }
                p = t + 2;
            }
        }
        if ((uint64_t)(end - p) < size + 2)
            return RC_INCOMPLETE;
        if (p[size] != '\r' || p[size + 1] != '\n')
            return RC_PARSE;
        enum rc rc = buf_add(body, p, (size_t)size);
        if (rc != RC_OK)
            return rc;
        p += size + 2;
    }
}

enum rc httpparse_header(const char *data, size_t len, const char *name, char *out, size_t size)
{
    size_t nlen = strlen(name);
    const char *p = data, *end = data + len;
    while (p < end) {
        const char *eol = memchr(p, '\n', (size_t)(end - p));
        const char *line_end = eol ? eol : end;
        if ((size_t)(line_end - p) > nlen && p[nlen] == ':' && strncasecmp(p, name, nlen) == 0) {
            const char *v = p + nlen + 1, *ve = line_end;
            while (v < ve && (*v == ' ' || *v == '\t'))
                v++;
            while (ve > v && (ve[-1] == '\r' || ve[-1] == ' ' || ve[-1] == '\t'))
                ve--;
            if (size == 0)
                return RC_OK;
            size_t n = (size_t)(ve - v) < size - 1 ? (size_t)(ve - v) : size - 1;
            memcpy(out, v, n);
            out[n] = '\0';
            return RC_OK;
        }
        p = eol ? eol + 1 : end;
    }
    return RC_NOT_FOUND;
}
