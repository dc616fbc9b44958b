/* demux.c: the decoder of the Docker Engine's multiplexed log stream into lines, and the
 * RFC 3339 times engines stamp on lines and states. No I/O. */
#include "demux.h"

#include <string.h>
#include <time.h>

#include "banned.h"

static int digits(const char *p, size_t n)
{
    for (size_t i = 0; i < n; i++)
        if (p[i] < '0' || p[i] > '9')
            return 0;
    return 1;
}

int64_t runtime_parse_time(const char *s, size_t len)
{
    struct tm tm = {0};
    int64_t ms = 0, offset = 0;
    char tmp[64];
    if (!s || len < 20 || len >= sizeof tmp)
        return 0;
    memcpy(tmp, s, len);
    tmp[len] = '\0';
    const char *p = strptime(tmp, "%Y-%m-%dT%H:%M:%S", &tm);
    if (!p || tm.tm_year < 70)
        return 0;
    if (*p == '.') {
        int64_t scale = 100;
        for (p++; *p >= '0' && *p <= '9'; p++, scale /= 10)
            ms += (*p - '0') * scale;
    }
    if ((*p == '+' || *p == '-') && strlen(p) == 6 && digits(p + 1, 2) && p[3] == ':' &&
        digits(p + 4, 2)) {
        offset = ((p[1] - '0') * 10 + (p[2] - '0')) * 3600 +
                 ((p[4] - '0') * 10 + (p[5] - '0')) * 60;
        if (*p == '-')
            offset = -offset;
    } else if (strcmp(p, "Z") != 0) {
        return 0;
    }
    return ((int64_t)timegm(&tm) - offset) * 1000 + ms;
}

void runtime_demux_init(struct runtime_demux *dx, runtime_log_fn fn, void *arg)
{
    memset(dx, 0, sizeof *dx);
    dx->fn = fn;
    dx->arg = arg;
    for (int i = 0; i < 3; i++)
        buf_init(&dx->line[i], RUNTIME_LOG_LINE_CAP + 1);
}

void runtime_demux_release(struct runtime_demux *dx)
{
    for (int i = 0; i < 3; i++)
        buf_release(&dx->line[i]);
}

/* Hands stream's buffered line to fn and empties it; returns fn's stop wish. */
static int emit(struct runtime_demux *dx, int stream)
{
    struct buf *b = &dx->line[stream];
    const char *s = buf_str(b);
    size_t len = b->len;
    int64_t at = 0;
    const char *sp = memchr(s, ' ', len < 48 ? len : 48);
    if (sp && s[0] >= '0' && s[0] <= '9' && (at = runtime_parse_time(s, (size_t)(sp - s)))) {
        len -= (size_t)(sp + 1 - s);
        s = sp + 1;
    }
    if (len && s[len - 1] == '\r')
        len--;
    int stop = dx->fn(dx->arg, stream == 2 ? RUNTIME_STDERR : RUNTIME_STDOUT, at, s, len);
    buf_reset(b);
    if (stop)
        dx->stopped = 1;
    return stop;
}

int runtime_demux_feed(struct runtime_demux *dx, const char *p, size_t len)
{
    size_t at = 0;
    if (dx->stopped)
        return 1;
    while (at < len) {
        if (dx->remaining == 0) {
            size_t take = 8 - dx->head_len < len - at ? 8 - dx->head_len : len - at;
            memcpy(dx->head + dx->head_len, p + at, take);
            dx->head_len += take;
            at += take;
            if (dx->head_len < 8)
                break;
            dx->head_len = 0;
            dx->stream = dx->head[0] == 2 ? 2 : 1;
            dx->remaining = (size_t)dx->head[4] << 24 | (size_t)dx->head[5] << 16 |
                            (size_t)dx->head[6] << 8 | dx->head[7];
            continue;
        }
        size_t take = dx->remaining < len - at ? dx->remaining : len - at;
        for (size_t i = 0; i < take; i++) {
            char ch = p[at + i];
            struct buf *b = &dx->line[dx->stream];
            if (ch == '\n' ? emit(dx, dx->stream)
                           : (buf_addc(b, ch) != RC_OK || b->len >= RUNTIME_LOG_LINE_CAP) &&
                                 emit(dx, dx->stream))
                return 1;
        }
        at += take;
        dx->remaining -= take;
    }
    return 0;
}

void runtime_demux_finish(struct runtime_demux *dx)
{
    for (int s = 1; s <= 2 && !dx->stopped; s++)
        if (dx->line[s].len)
            emit(dx, s);
}
