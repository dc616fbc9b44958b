/* timefmt.c: ISO-8601 formatting and parsing without locale or timezone state. */
#include "timefmt.h"

#include <stdio.h>
#include <time.h>
#include "banned.h"


void timefmt_iso8601(int64_t epoch, char out[TIMEFMT_SIZE])
{
    time_t t = (time_t)epoch;
    struct tm tm;
    if (!gmtime_r(&t, &tm)) {
        snprintf(out, TIMEFMT_SIZE, "1970-01-01T00:00:00.000Z");
        return;
    }
    /* The modulos bound every field, so the output provably fits (years past 9999 wrap). */
    snprintf(out, TIMEFMT_SIZE, "%04u-%02u-%02uT%02u:%02u:%02u.000Z",
             (unsigned)(tm.tm_year + 1900) % 10000u, (unsigned)(tm.tm_mon + 1) % 100u,
             (unsigned)tm.tm_mday % 100u, (unsigned)tm.tm_hour % 100u, (unsigned)tm.tm_min % 100u,
             (unsigned)tm.tm_sec % 100u);
}

static int digits(const char *s, size_t n, int *out)
{
    int v = 0;
    for (size_t i = 0; i < n; i++) {
        if (s[i] < '0' || s[i] > '9')
            return 0;
        v = v * 10 + (s[i] - '0');
    }
    *out = v;
    return 1;
}

/* Days since 1970-01-01 of a proleptic Gregorian date (Howard Hinnant's algorithm). */
static int64_t days_from_civil(int64_t y, int m, int d)
{
    y -= m <= 2;
    int64_t era = (y >= 0 ? y : y - 399) / 400;
    int64_t yoe = y - era * 400;
    int64_t doy = (153 * (m + (m > 2 ? -3 : 9)) + 2) / 5 + d - 1;
    int64_t doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    return era * 146097 + doe - 719468;
}

enum rc timefmt_parse(const char *s, size_t len, int64_t *epoch_out)
{
    int y, mo, d, h = 0, mi = 0, sec = 0;
    if (len < 10 || !digits(s, 4, &y) || s[4] != '-' || !digits(s + 5, 2, &mo) || s[7] != '-' ||
        !digits(s + 8, 2, &d))
        return RC_INVALID;
    if (len > 10) {
        if (len < 20 || s[10] != 'T' || !digits(s + 11, 2, &h) || s[13] != ':' ||
            !digits(s + 14, 2, &mi) || s[16] != ':' || !digits(s + 17, 2, &sec))
            return RC_INVALID;
        size_t i = 19;
        if (s[i] == '.') {
            i++;
            size_t start = i;
            while (i < len && s[i] >= '0' && s[i] <= '9')
                i++;
            if (i == start)
                return RC_INVALID;
        }
        if (i != len - 1 || s[i] != 'Z')
            return RC_INVALID;
    }
    static const int mdays[] = {31, 29, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
    if (mo < 1 || mo > 12 || d < 1 || d > mdays[mo - 1] || h > 23 || mi > 59 || sec > 60)
        return RC_INVALID;
    int leap = (y % 4 == 0 && y % 100 != 0) || y % 400 == 0;
    if (mo == 2 && d == 29 && !leap)
        return RC_INVALID;
    *epoch_out = days_from_civil(y, mo, d) * 86400 + h * 3600 + mi * 60 + sec;
    return RC_OK;
}

int64_t timefmt_monotonic_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}
