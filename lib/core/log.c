/* log.c: a minimal line logger writing whole records so threads do not interleave. */
#include "log.h"

#include <stdarg.h>
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

void log_write(enum log_level level, const char *fmt, ...)
{
    static const char *const names[] = {"debug", "info", "warn", "error"};
    if (!log_enabled(level))
        return;
    char msg[1024];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof msg, fmt, ap);
    va_end(ap);
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    struct tm tm;
    gmtime_r(&ts.tv_sec, &tm);
    fprintf(log_sink, "%04d-%02d-%02dT%02d:%02d:%02d.%03ldZ %s %s\n", tm.tm_year + 1900,
            tm.tm_mon + 1, tm.tm_mday, tm.tm_hour, tm.tm_min, tm.tm_sec, ts.tv_nsec / 1000000,
            names[level], msg);
}
