/* timefmt.h: ISO-8601 UTC timestamps as the API carries them ("2025-01-01T12:34:56.000Z"). */
#ifndef PCC_TIMEFMT_H
#define PCC_TIMEFMT_H

#include <stddef.h>
#include <stdint.h>

#include "rc.h"

#define TIMEFMT_SIZE 32

/* Format epoch seconds as "YYYY-MM-DDTHH:MM:SS.000Z" (the reference client needs the fraction). */
void timefmt_iso8601(int64_t epoch, char out[TIMEFMT_SIZE]);
/* Milliseconds of CLOCK_MONOTONIC: for deadlines and durations, never for dates. */
int64_t timefmt_monotonic_ms(void);
/* Parse "YYYY-MM-DDTHH:MM:SS[.fff]Z" (or a date "YYYY-MM-DD", taken as midnight UTC) from
 * (s, len). RC_INVALID when it is anything else. */
enum rc timefmt_parse(const char *s, size_t len, int64_t *epoch_out);

#endif
