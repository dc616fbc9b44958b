/* regions_test.c: the --regions list: defaults, display names, and the entries it refuses. */
#include <stdio.h>
#include <string.h>

#include <criterion/criterion.h>

#include "api.h"

Test(regions, defaults_when_empty)
{
    struct api_region r[API_MAX_REGIONS];
    size_t n = 0;
    char err[128];
    cr_assert_eq(api_regions_parse(NULL, r, &n, err, sizeof err), RC_OK);
    cr_assert_eq(n, 4);
    cr_assert_str_eq(r[0].code, "us-west", "the first is the default region");
    cr_assert_str_eq(r[1].code, "us-east");
    cr_assert_str_eq(r[2].code, "eu-central");
    cr_assert_str_eq(r[3].code, "ap-south");
    cr_assert_str_eq(r[0].display_name, "US West");
    cr_assert_eq(api_regions_parse("", r, &n, err, sizeof err), RC_OK);
    cr_assert_eq(n, 4);
}

Test(regions, codes_with_and_without_names)
{
    struct api_region r[API_MAX_REGIONS];
    size_t n = 0;
    char err[128];
    cr_assert_eq(api_regions_parse("eu-north=EU North (Stockholm),local", r, &n, err, sizeof err),
                 RC_OK, "%s", err);
    cr_assert_eq(n, 2);
    cr_assert_str_eq(r[0].code, "eu-north");
    cr_assert_str_eq(r[0].display_name, "EU North (Stockholm)");
    cr_assert_str_eq(r[1].code, "local");
    cr_assert_str_eq(r[1].display_name, "local", "a code without a name is its own name");
}

Test(regions, refused_entries_are_named)
{
    static const char *const bad[] = {"us-west,", ",us-west", "US-WEST", "a,a",
                                      "x=",       "a b",      "-x",      "x=\x01"};
    struct api_region r[API_MAX_REGIONS];
    size_t n = 0;
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        char err[128] = "";
        cr_expect_eq(api_regions_parse(bad[i], r, &n, err, sizeof err), RC_INVALID, "'%s'", bad[i]);
        cr_expect(err[0], "a reason for '%s'", bad[i]);
    }
    char many[40 * 4] = "";
    for (int i = 0; i < 33; i++) {
        char one[8];
        snprintf(one, sizeof one, "%sr%d", i ? "," : "", i);
        memcpy(many + strlen(many), one, strlen(one) + 1);
    }
    char err[128];
    cr_expect_eq(api_regions_parse(many, r, &n, err, sizeof err), RC_INVALID, "33 regions");
}
