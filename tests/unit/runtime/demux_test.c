/* demux_test.c: the decoder of the engine's multiplexed log stream (lib/runtime/demux.c) and its
 * RFC 3339 times. Every stream is fed whole and in every split of chunk sizes, since the engine
 * hands bytes over in whatever pieces the socket gives. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <criterion/criterion.h>

#include "demux.h"

struct frame {
    int stream;
    const char *payload;
};

struct seen {
    char text[4096]; /* "E|time|line\n" per line: E for stderr, O for stdout */
    size_t len;
    int stop_after; /* 0: never stop */
    int lines;
};

static int record(void *arg, enum runtime_stream stream, int64_t at, const char *line, size_t len)
{
    struct seen *s = arg;
    int n = snprintf(s->text + s->len, sizeof s->text - s->len, "%c|%lld|%.*s\n",
                     stream == RUNTIME_STDERR ? 'E' : 'O', (long long)at, (int)len, line);
    cr_assert(n > 0 && (size_t)n < sizeof s->text - s->len);
    s->len += (size_t)n;
    s->lines++;
    return s->stop_after && s->lines >= s->stop_after;
}

/* The frames encoded as the engine sends them; *len gets the length. Caller frees. */
static char *encode(const struct frame *frames, size_t n, size_t *len)
{
    size_t total = 0;
    for (size_t i = 0; i < n; i++)
        total += 8 + strlen(frames[i].payload);
    char *out = malloc(total ? total : 1), *p = out;
    cr_assert_not_null(out);
    for (size_t i = 0; i < n; i++) {
        size_t plen = strlen(frames[i].payload);
        unsigned char head[8] = {(unsigned char)frames[i].stream,
                                 0,
                                 0,
                                 0,
                                 (unsigned char)(plen >> 24),
                                 (unsigned char)(plen >> 16),
                                 (unsigned char)(plen >> 8),
                                 (unsigned char)plen};
        memcpy(p, head, 8);
        memcpy(p + 8, frames[i].payload, plen);
        p += 8 + plen;
    }
    *len = total;
    return out;
}

/* Decodes bytes in chunks of chunk bytes (0: all at once) into s. */
static void decode(const char *bytes, size_t len, size_t chunk, struct seen *s)
{
    struct runtime_demux dx;
    runtime_demux_init(&dx, record, s);
    int stopped = 0;
    for (size_t at = 0; at < len && !stopped;) {
        size_t take = chunk && chunk < len - at ? chunk : len - at;
        stopped = runtime_demux_feed(&dx, bytes + at, take);
        at += take;
    }
    runtime_demux_finish(&dx);
    runtime_demux_release(&dx);
}

static const struct {
    const char *name;
    struct frame frames[6];
    size_t n;
    const char *want;
} cases[] = {
    {"one line per frame, both streams",
     {{2, "2026-12-04T16:58:31Z starting\n"}, {1, "2026-12-04T16:58:32.250Z ready\n"}},
     2,
     "E|1796403511000|starting\nO|1796403512250|ready\n"},
    {"a line spanning frames; two lines in one frame",
     {{2, "2026-12-04T16:58:31.123456789Z hel"}, {2, "lo\n2026-12-04T16:58:33Z x | s1 - y\n"}},
     2,
     "E|1796403511123|hello\nE|1796403513000|x | s1 - y\n"},
    {"streams interleaved mid-line keep their own partial lines",
     {{1, "2026-12-04T16:58:31Z out-"}, {2, "2026-12-04T16:58:31Z err\n"}, {1, "put\n"}},
     3,
     "E|1796403511000|err\nO|1796403511000|out-put\n"},
    {"an unterminated last line, CRLF, a time with an offset",
     {{1, "2026-12-04T17:58:31+01:00 crlf\r\n"}, {2, "2026-12-04T16:58:31Z tail"}},
     2,
     "O|1796403511000|crlf\nE|1796403511000|tail\n"},
    {"lines without a readable time keep their text whole",
     {{1, "no time here\n"}, {1, "0001-01-01T00:00:00Z never\n"}, {1, "\n"}},
     3,
     "O|0|no time here\nO|0|0001-01-01T00:00:00Z never\nO|0|\n"},
    {"an empty frame",
     {{1, ""}, {2, "2026-12-04T16:58:31Z after\n"}},
     2,
     "E|1796403511000|after\n"},
};

Test(demux, known_streams_in_every_split)
{
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        size_t len;
        char *bytes = encode(cases[i].frames, cases[i].n, &len);
        for (size_t chunk = 0; chunk <= len; chunk++) {
            struct seen s = {.len = 0};
            decode(bytes, len, chunk, &s);
            cr_expect_str_eq(s.text, cases[i].want, "%s, chunks of %zu:\n%s", cases[i].name, chunk,
                             s.text);
        }
        free(bytes);
    }
}

Test(demux, the_reader_can_stop_and_nothing_more_is_read)
{
    struct frame frames[] = {{1, "a\nb\nc\n"}, {2, "d\n"}};
    size_t len;
    char *bytes = encode(frames, 2, &len);
    for (size_t chunk = 0; chunk <= len; chunk++) {
        struct seen s = {.stop_after = 2};
        decode(bytes, len, chunk, &s);
        cr_expect_str_eq(s.text, "O|0|a\nO|0|b\n", "chunks of %zu", chunk);
    }
    free(bytes);
}

struct lengths {
    size_t len[4];
    size_t count;
};

static int record_length(void *arg, enum runtime_stream stream, int64_t at, const char *line,
                         size_t len)
{
    struct lengths *l = arg;
    (void)stream, (void)at, (void)line;
    if (l->count < 4)
        l->len[l->count] = len;
    l->count++;
    return 0;
}

Test(demux, a_line_over_the_cap_comes_in_pieces)
{
    size_t n = RUNTIME_LOG_LINE_CAP + 10;
    char *payload = malloc(n + 2);
    cr_assert_not_null(payload);
    memset(payload, 'x', n);
    memcpy(payload + n, "\n", 2);
    struct frame frames[] = {{2, payload}};
    size_t len;
    char *bytes = encode(frames, 1, &len);
    struct lengths l = {.count = 0};
    struct runtime_demux dx;
    runtime_demux_init(&dx, record_length, &l);
    cr_expect_eq(runtime_demux_feed(&dx, bytes, len), 0);
    runtime_demux_finish(&dx);
    runtime_demux_release(&dx);
    cr_expect_eq(l.count, 2);
    cr_expect_eq(l.len[0], RUNTIME_LOG_LINE_CAP);
    cr_expect_eq(l.len[1], 10);
    free(bytes);
    free(payload);
}

Test(demux, times)
{
    static const struct {
        const char *in;
        int64_t ms;
    } t[] = {
        {"2026-12-04T16:58:31Z", 1796403511000},
        {"2026-12-04T16:58:31.5Z", 1796403511500},
        {"2026-12-04T16:58:31.123456789Z", 1796403511123},
        {"2026-12-04T18:58:31+02:00", 1796403511000},
        {"2026-12-04T14:28:31-02:30", 1796403511000},
        {"0001-01-01T00:00:00Z", 0},
        {"2026-12-04T16:58:31", 0},
        {"2026-12-04T16:58:31+0200", 0},
        {"2026-12-04T16:58:31Zjunk", 0},
        {"yesterday", 0},
        {"", 0},
    };
    for (size_t i = 0; i < sizeof t / sizeof t[0]; i++)
        cr_expect_eq(runtime_parse_time(t[i].in, strlen(t[i].in)), t[i].ms, "%s", t[i].in);
}
