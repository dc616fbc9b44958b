/* oauth_test.c: the offline parts of OAuth: user codes as people type them, redirect URIs and
 * code challenges, table-driven. */
#include <stdio.h>
#include <string.h>

#include <criterion/criterion.h>

#include "auth.h"

Test(oauth, user_codes_are_read_as_people_type_them)
{
    static const struct {
        const char *typed;
        const char *want; /* NULL: refused */
    } cases[] = {
        {"BCDF-GHJK", "BCDFGHJK"},
        {"bcdf-ghjk", "BCDFGHJK"},
        {"bcdfghjk", "BCDFGHJK"},
        {" BCDF GHJK ", "BCDFGHJK"},
        {"B-C-D-F-G-H-J-K", "BCDFGHJK"},
        {"XZWV-TSRQ", "XZWVTSRQ"},
        {"BCDF-GHJ", NULL},         /* too short */
        {"BCDF-GHJKL", NULL},       /* too long */
        {"BCDF-GHJA", NULL},        /* a vowel is not in the alphabet */
        {"BCDF-GHJ0", NULL},        /* nor a digit */
        {"BCDF-GHJ\xc3\x9f", NULL}, /* nor anything beyond ASCII */
        {"", NULL},
        {"--------", NULL},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        char out[AUTH_OAUTH_USER_CODE_LEN + 1] = "";
        int ok = auth_oauth_user_code_normalize(cases[i].typed, out);
        if (cases[i].want) {
            cr_assert(ok, "'%s' should be accepted", cases[i].typed);
            cr_assert_str_eq(out, cases[i].want);
        } else {
            cr_assert(!ok, "'%s' should be refused", cases[i].typed);
        }
    }
    char out[AUTH_OAUTH_USER_CODE_LEN + 1];
    cr_assert(!auth_oauth_user_code_normalize(NULL, out));
}

Test(oauth, redirect_uris_are_only_the_loopback_callback)
{
    static const struct {
        const char *uri;
        int ok;
    } cases[] = {
        {"http://127.0.0.1:8400/oauth_callback", 1},
        {"http://127.0.0.1:1/oauth_callback", 1},
        {"http://127.0.0.1:65535/oauth_callback", 1},
        {"http://127.0.0.1:65536/oauth_callback", 0},
        {"http://127.0.0.1:0/oauth_callback", 0},
        {"http://127.0.0.1:08400/oauth_callback", 0},
        {"http://localhost:8400/oauth_callback", 0},
        {"https://127.0.0.1:8400/oauth_callback", 0},
        {"http://127.0.0.1:8400/oauth_callback?x=1", 0},
        {"http://127.0.0.1:8400/other", 0},
        {"http://127.0.0.1/oauth_callback", 0},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++)
        cr_assert_eq(auth_oauth_redirect_ok(cases[i].uri), cases[i].ok, "%s", cases[i].uri);
}
