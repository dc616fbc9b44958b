/* demux_fuzz.c: libFuzzer target for the container engine's multiplexed log stream
 * (lib/runtime/demux.c): any bytes, split at a point the input chooses, decode into lines that
 * stay inside their cap, and the same lines whatever the split. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "demux.h"

struct tally {
    uint64_t hash;
    size_t lines;
};

static int line(void *arg, enum runtime_stream stream, int64_t at, const char *text, size_t len)
{
    struct tally *t = arg;
    if (len > RUNTIME_LOG_LINE_CAP || (stream != RUNTIME_STDOUT && stream != RUNTIME_STDERR))
        abort();
    t->hash = t->hash * 1099511628211u ^ (uint64_t)stream ^ (uint64_t)at ^ len;
    for (size_t i = 0; i < len; i++)
        t->hash = (t->hash ^ (unsigned char)text[i]) * 1099511628211u;
    t->lines++;
    return 0;
}

static struct tally run(const uint8_t *data, size_t size, size_t split)
{
    struct tally t = {14695981039346656037u, 0};
    struct runtime_demux dx;
    runtime_demux_init(&dx, line, &t);
    runtime_demux_feed(&dx, (const char *)data, split);
    runtime_demux_feed(&dx, (const char *)data + split, size - split);
    runtime_demux_finish(&dx);
    runtime_demux_release(&dx);
    return t;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size < 1)
        return 0;
    size_t split = data[0] % size;
    struct tally whole = run(data + 1, size - 1, 0),
                 parts = run(data + 1, size - 1, split < size - 1 ? split : 0);
    if (whole.hash != parts.hash || whole.lines != parts.lines)
        abort();
    runtime_parse_time((const char *)data, size);
    return 0;
}
