/* log_test.c: the log sink writes one line per record whatever the message holds: control
 * bytes, backslash and bytes that are not printable UTF-8 come out as \xNN (\\ for backslash). */
#include <stdio.h>
#include <string.h>

#include <criterion/criterion.h>

#include "log.h"

/* The message part of the one record written for msg ("TIME LEVEL " cut off). */
static void record_of(const char *msg, char *out, size_t size)
{
    FILE *f = tmpfile();
    cr_assert(f);
    log_init(f, LOG_INFO);
    log_info("%s", msg);
    log_init(NULL, LOG_INFO);
    rewind(f);
    char line[8192];
    size_t n = fread(line, 1, sizeof line - 1, f);
    fclose(f);
    line[n] = '\0';
    cr_assert(n > 0 && line[n - 1] == '\n', "a record ends with its one newline");
    cr_assert_eq(strchr(line, '\n'), line + n - 1, "one line per record: %s", line);
    line[n - 1] = '\0';
    const char *m = strstr(line, " info ");
    cr_assert(m);
    snprintf(out, size, "%s", m + 6);
}

struct log_case {
    const char *in, *out;
};

static const struct log_case log_cases[] = {
    {"GET /v1/organizations 200", "GET /v1/organizations 200"},
    {"GET /a\n2026-01-01T00:00:00.000Z info forged",
     "GET /a\\x0a2026-01-01T00:00:00.000Z info forged"},
    {"cr\r lf\n tab\t", "cr\\x0d lf\\x0a tab\\x09"},
    {"esc \x1b[31mred", "esc \\x1b[31mred"},
    {"del \x7f", "del \\x7f"},
    {"back\\slash", "back\\\\slash"},
    {"d\xc3\xa9ploiement \xe2\x9c\x93 \xf0\x9f\x9a\x80",
     "d\xc3\xa9ploiement \xe2\x9c\x93 \xf0\x9f\x9a\x80"},
    {"c1 \xc2\x9b"
     "2J",
     "c1 \\xc2\\x9b2J"}, /* CSI as a C1 control */
    {"raw \x9b"
     "2J",
     "raw \\x9b2J"}, /* CSI as a lone byte */
    {"overlong \xc0\xaf", "overlong \\xc0\\xaf"},
    {"cut \xe2\x9c", "cut \\xe2\\x9c"},
};

Test(log, control_bytes_are_escaped)
{
    for (size_t i = 0; i < sizeof log_cases / sizeof log_cases[0]; i++) {
        char got[4096];
        record_of(log_cases[i].in, got, sizeof got);
        cr_expect_str_eq(got, log_cases[i].out, "case %zu", i);
    }
}

Test(log, a_long_message_of_control_bytes_stays_one_line)
{
    char msg[1100];
    memset(msg, '\n', sizeof msg - 1);
    msg[sizeof msg - 1] = '\0';
    char got[8192];
    record_of(msg, got, sizeof got);
    cr_assert(strncmp(got, "\\x0a\\x0a", 8) == 0, "%s", got);
}
