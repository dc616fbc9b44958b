/* log.c: a minimal line logger writing whole records so threads do not interleave. */
#include "log.h"

#include <stdarg.h>
#include <stddef.h>
#include <time.h>
#include "banned.h"


static FILE *log_sink;
static enum log_level log_min = LOG_INFO;

void log_init(FILE *sink, enum log_level min_level)
{
    log_sink = sink;
    log_min = min_level;
}

int log_enabled(enum log_level level) { return log_sink && level >= log_min; }

/* Length of the well-formed UTF-8 sequence at s (at most n bytes) that encodes a printable
 * character: not a C1 control (U+0080..U+009F), not overlong, not a surrogate, at most
 * U+10FFFF. 0 when there is none. */
static size_t utf8_printable(const unsigned char *s, size_t n)
{
    unsigned c = s[0];
    size_t len;
    unsigned cp;
    if (c >= 0xc2 && c <= 0xdf) {
        len = 2;
        cp = c & 0x1f;
    } else if (c >= 0xe0 && c <= 0xef) {
        len = 3;
        cp = c & 0x0f;
    } else if (c >= 0xf0 && c <= 0xf4) {
        len = 4;
        cp = c & 0x07;
    } else {
        return 0;
    }
    if (len > n)
        return 0;
    for (size_t i = 1; i < len; i++) {
        if ((s[i] & 0xc0) != 0x80)
            return 0;
        cp = cp << 6 | (s[i] & 0x3f);
    }
    if (cp < 0xa0 || (len == 3 && cp < 0x800) || (len == 4 && cp < 0x10000) ||
        (cp >= 0xd800 && cp <= 0xdfff) || cp > 0x10ffff)
        return 0;
    return len;
}

/* Copy in to out (size bytes, NUL-terminated) with control bytes, backslash and bytes that are
 * not printable UTF-8 written as \xNN (backslash as \\): a record is one line, whatever a
 * client put into a path or header, and no escape sequence reaches a terminal. */
static void escape_record(const char *in, char *out, size_t size)
{
    static const char hex[] = "0123456789abcdef";
    const unsigned char *s = (const unsigned char *)in;
    size_t n = 0;
    while (s[n])
        n++;
    size_t j = 0;
    for (size_t i = 0; i < n && j + 1 < size;) {
        unsigned c = s[i];
        if (c >= 0x20 && c < 0x7f && c != '\\') {
            out[j++] = (char)c;
            i++;
            continue;
        }
        size_t len = c >= 0x80 ? utf8_printable(s + i, n - i) : 0;
        if (len) {
            if (j + len >= size)
                break;
            for (size_t k = 0; k < len; k++)
                out[j++] = (char)s[i + k];
            i += len;
            continue;
        }
        if (c == '\\') {
            if (j + 2 >= size)
                break;
            out[j++] = '\\';
            out[j++] = '\\';
        } else {
            if (j + 4 >= size)
                break;
            out[j++] = '\\';
            out[j++] = 'x';
            out[j++] = hex[c >> 4];
            out[j++] = hex[c & 15];
        }
        i++;
    }
    out[j] = '\0';
}

void log_write(enum log_level level, const char *fmt, ...)
{
    static const char *const names[] = {"debug", "info", "warn", "error"};
    if (!log_enabled(level))
        return;
    char msg[1024], safe[4 * sizeof msg];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof msg, fmt, ap);
    va_end(ap);
    escape_record(msg, safe, sizeof safe);
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    struct tm tm;
    gmtime_r(&ts.tv_sec, &tm);
    fprintf(log_sink, "%04d-%02d-%02dT%02d:%02d:%02d.%03ldZ %s %s\n", tm.tm_year + 1900,
            tm.tm_mon + 1, tm.tm_mday, tm.tm_hour, tm.tm_min, tm.tm_sec, ts.tv_nsec / 1000000,
            names[level], safe);
}
