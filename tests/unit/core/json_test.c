/* json_test.c: strict parsing of untrusted bodies and field validation. */
#include <string.h>

#include <criterion/criterion.h>

#include "json.h"

struct parse_case {
    const char *body;
    enum rc expect;
    const char *message_part;
};

static const struct parse_case cases[] = {
    {"{\"name\":\"ci\"}", RC_OK, ""},
    {"{\"name\":\"ci\",}", RC_BAD_JSON, "line 1"},
    {"{\"name\":\"ci\",\"name\":\"x\"}", RC_BAD_JSON, "duplicate"},
    {"[1,2]", RC_INVALID, "JSON object"},
    {"\"x\"", RC_BAD_JSON, ""},
    {"{\"name\":\"\xff\"}", RC_BAD_JSON, "decode byte"},
    {"{\"a\":[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[1]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]}", RC_BAD_JSON,
     "nesting"},
    {"", RC_BAD_JSON, ""},
};

Test(json, parse_table)
{
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        json_t *v = NULL;
        char err[256] = "";
        enum rc rc = json_parse_object(cases[i].body, strlen(cases[i].body), &v, err, sizeof err);
        cr_expect_eq(rc, cases[i].expect, "case %zu: %s -> %s (%s)", i, cases[i].body, rc_name(rc),
                     err);
        cr_expect(strstr(err, cases[i].message_part) != NULL, "case %zu: message '%s'", i, err);
        cr_expect_eq(v != NULL, rc == RC_OK);
        json_decref(v);
    }
}

Test(json, unknown_fields_are_named)
{
    static const char *const allowed[] = {"name", NULL};
    json_t *v = json_pack("{s:s, s:i}", "name", "x", "scope", 1);
    char err[128] = "";
    cr_assert_eq(json_check_fields(v, allowed, err, sizeof err), RC_INVALID);
    cr_assert(strstr(err, "\"scope\"") != NULL, "%s", err);
    json_decref(v);
}

Test(json, get_string_checks_type_and_length)
{
    json_t *v = json_pack("{s:s, s:i, s:s}", "name", "ci", "num", 3, "empty", "");
    const char *out = NULL;
    char err[128] = "";
    cr_assert_eq(json_get_string(v, "name", 0, 10, &out, err, sizeof err), RC_OK);
    cr_assert_str_eq(out, "ci");
    cr_assert_eq(json_get_string(v, "num", 0, 10, &out, err, sizeof err), RC_INVALID);
    cr_assert(strstr(err, "must be a string") != NULL);
    cr_assert_eq(json_get_string(v, "empty", 0, 10, &out, err, sizeof err), RC_INVALID);
    cr_assert_eq(json_get_string(v, "missing", 1, 10, &out, err, sizeof err), RC_NOT_FOUND);
    cr_assert_eq(json_get_string(v, "missing", 0, 10, &out, err, sizeof err), RC_INVALID);
    cr_assert(strstr(err, "required") != NULL);
    cr_assert_eq(json_get_string(v, "name", 0, 1, &out, err, sizeof err), RC_INVALID);
    json_decref(v);
}
