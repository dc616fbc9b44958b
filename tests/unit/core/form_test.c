/* form_test.c: application/x-www-form-urlencoded parsing: decoding, lookup, whole-body checks. */
#include <stdio.h>
#include <string.h>

#include <criterion/criterion.h>

#include "form.h"

struct decode_case {
    const char *in;
    enum rc rc;
    const char *out;
};

static const struct decode_case decode_cases[] = {
    {"ci-deploy", RC_OK, "ci-deploy"},
    {"a+b", RC_OK, "a b"},
    {"a%2Bb", RC_OK, "a+b"},
    {"%3Cscript%3E", RC_OK, "<script>"},
    {"caf%C3%A9", RC_OK, "caf\xc3\xa9"},
    {"", RC_OK, ""},
    {"%", RC_INVALID, NULL},
    {"%4", RC_INVALID, NULL},
    {"%zz", RC_INVALID, NULL},
    {"nul%00", RC_INVALID, NULL},
    {"0123456789abcdef", RC_TOO_LARGE, NULL}, /* 16 bytes do not fit 16 with the NUL */
};

Test(form, decode_table)
{
    for (size_t i = 0; i < sizeof decode_cases / sizeof decode_cases[0]; i++) {
        const struct decode_case *c = &decode_cases[i];
        char out[16];
        size_t n = 99;
        enum rc rc = form_decode(c->in, strlen(c->in), out, sizeof out, &n);
        cr_expect_eq(rc, c->rc, "case %zu (%s): %s", i, c->in, rc_name(rc));
        if (c->out && rc == RC_OK) {
            cr_expect_str_eq(out, c->out, "case %zu", i);
            cr_expect_eq(n, strlen(c->out), "case %zu", i);
        }
    }
}

Test(form, get_finds_fields_without_relying_on_nul)
{
    const char body[] = "csrf=abc&name=ci+deploy&&empty=&flag&name2=%3Cb%3E";
    size_t len = strlen(body);
    char out[64];
    cr_assert_eq(form_get(body, len, "name", out, sizeof out), RC_OK);
    cr_expect_str_eq(out, "ci deploy");
    cr_assert_eq(form_get(body, len, "empty", out, sizeof out), RC_OK);
    cr_expect_str_eq(out, "");
    cr_assert_eq(form_get(body, len, "flag", out, sizeof out), RC_OK);
    cr_expect_str_eq(out, "");
    cr_assert_eq(form_get(body, len, "name2", out, sizeof out), RC_OK);
    cr_expect_str_eq(out, "<b>");
    cr_expect_eq(form_get(body, len, "missing", out, sizeof out), RC_NOT_FOUND);
    /* A prefix of the body only: the field cut off at len is not seen past it. */
    cr_assert_eq(form_get(body, 16, "name", out, sizeof out), RC_OK);
    cr_expect_str_eq(out, "ci");
}

Test(form, check_refuses_duplicates_bad_escapes_and_floods)
{
    char err[128];
    const char *ok = "a=1&b=2&c=%41";
    cr_expect_eq(form_check(ok, strlen(ok), err, sizeof err), RC_OK);
    const char *dup = "name=a&x=1&na%6De=b";
    cr_expect_eq(form_check(dup, strlen(dup), err, sizeof err), RC_INVALID);
    cr_expect(strstr(err, "\"name\" appears twice"), "%s", err);
    const char *bad = "name=%G1";
    cr_expect_eq(form_check(bad, strlen(bad), err, sizeof err), RC_INVALID);
    cr_expect(strstr(err, "\"name\""), "%s", err);
    char flood[1024] = "";
    size_t n = 0;
    for (int i = 0; i <= FORM_MAX_FIELDS; i++)
        n += (size_t)snprintf(flood + n, sizeof flood - n, "f%d=1&", i);
    cr_expect_eq(form_check(flood, n, err, sizeof err), RC_INVALID);
}
