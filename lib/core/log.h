/* log.h: the process-wide log sink. The front end installs it once; library code logs through
 * it and never writes to stdout/stderr itself. Never pass a secret: log ids and display forms. */
#ifndef PCC_LOG_H
#define PCC_LOG_H

#include <stdio.h>

enum log_level { LOG_DEBUG, LOG_INFO, LOG_WARN, LOG_ERROR };

/* Send records at or above min_level to sink (NULL: discard everything). Call before threads. */
void log_init(FILE *sink, enum log_level min_level);
/* Write one line "TIME LEVEL message". Thread-safe (one fprintf per record). Control bytes,
 * backslash and bytes that are not printable UTF-8 in the message are written as \xNN (\\ for
 * backslash), so request data logged in it can neither forge lines nor reach a terminal raw. */
void log_write(enum log_level level, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
/* Whether a record at level would be written (to skip building costly messages). */
int log_enabled(enum log_level level);

#define log_debug(...) log_write(LOG_DEBUG, __VA_ARGS__)
#define log_info(...) log_write(LOG_INFO, __VA_ARGS__)
#define log_warn(...) log_write(LOG_WARN, __VA_ARGS__)
#define log_error(...) log_write(LOG_ERROR, __VA_ARGS__)

#endif
