/* timefmt_test.c: ISO-8601 formatting and parsing (known answers from Python's calendar). */
#include <string.h>

#include <criterion/criterion.h>

#include "timefmt.h"

Test(timefmt, format_known_answers)
{
    char out[TIMEFMT_SIZE];
    timefmt_iso8601(1735734896, out);
    cr_assert_str_eq(out, "2025-01-01T12:34:56.000Z");
    timefmt_iso8601(0, out);
    cr_assert_str_eq(out, "1970-01-01T00:00:00.000Z");
    timefmt_iso8601(2147483648LL, out);
    cr_assert_str_eq(out, "2038-01-19T03:14:08.000Z");
}

struct parse_case {
    const char *text;
    enum rc expect;
    int64_t epoch;
};

static const struct parse_case cases[] = {
    {"2025-01-01T12:34:56.000Z", RC_OK, 1735734896},
    {"2025-01-01T12:34:56Z", RC_OK, 1735734896},
    {"2025-01-01T12:34:56.123456789Z", RC_OK, 1735734896},
    {"2000-02-29", RC_OK, 951782400},
    {"2001-02-29", RC_INVALID, 0},
    {"2025-13-01", RC_INVALID, 0},
    {"2025-01-01T24:00:00Z", RC_INVALID, 0},
    {"2025-01-01T12:34:56", RC_INVALID, 0},
    {"2025-01-01T12:34:56+01:00", RC_INVALID, 0},
    {"2025-01-01T12:34:56.Z", RC_INVALID, 0},
    {"yesterday", RC_INVALID, 0},
};

Test(timefmt, parse_table)
{
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        int64_t t = -1;
        enum rc rc = timefmt_parse(cases[i].text, strlen(cases[i].text), &t);
        cr_expect_eq(rc, cases[i].expect, "case %zu: %s", i, cases[i].text);
        if (rc == RC_OK)
            cr_expect_eq(t, cases[i].epoch, "case %zu: %s", i, cases[i].text);
    }
}

Test(timefmt, round_trip)
{
    for (int64_t t = 0; t < 4102444800LL; t += 86400 * 37 + 3671) {
        char out[TIMEFMT_SIZE];
        int64_t back = -1;
        timefmt_iso8601(t, out);
        cr_assert_eq(timefmt_parse(out, strlen(out), &back), RC_OK, "%s", out);
        cr_assert_eq(back, t, "%s", out);
    }
}
