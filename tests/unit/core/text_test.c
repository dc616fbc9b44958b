/* text_test.c: validation of user-supplied names, slugs and emails; the capped buffer. */
#include <string.h>

#include <criterion/criterion.h>

#include "buf.h"
#include "text.h"

struct utf8_case {
    const char *s;
    int ok;
};

static const struct utf8_case utf8_cases[] = {
    {"ci-deploy", 1},
    {"d\xc3\xa9ploiement", 1},         /* é */
    {"\xe2\x9c\x93 done", 1},          /* check mark */
    {"\xf0\x9f\x9a\x80", 1},           /* rocket */
    {"tab\there", 0},
    {"nl\n", 0},
    {"del\x7f", 0},
    {"\xc2\x85", 0},                   /* C1 control NEL */
    {"\xc0\xaf", 0},                   /* overlong */
    {"\xed\xa0\x80", 0},               /* surrogate */
    {"\xe2\x9c", 0},                   /* truncated */
    {"\xf4\x90\x80\x80", 0},           /* beyond U+10FFFF */
};

Test(text, utf8_table)
{
    for (size_t i = 0; i < sizeof utf8_cases / sizeof utf8_cases[0]; i++)
        cr_expect_eq(text_is_clean_utf8(utf8_cases[i].s, strlen(utf8_cases[i].s)),
                     utf8_cases[i].ok, "case %zu", i);
}

Test(text, slugs)
{
    cr_expect(text_is_slug("acme"));
    cr_expect(text_is_slug("acme-2"));
    cr_expect(text_is_slug("0x"));
    cr_expect_not(text_is_slug("-acme"));
    cr_expect_not(text_is_slug("acme-"));
    cr_expect_not(text_is_slug("Acme"));
    cr_expect_not(text_is_slug("ac me"));
    cr_expect_not(text_is_slug(""));
    char long_slug[70];
    memset(long_slug, 'a', 64);
    long_slug[64] = '\0';
    cr_expect_not(text_is_slug(long_slug));
}

Test(text, emails)
{
    cr_expect(text_is_email("alice@example.com"));
    cr_expect_not(text_is_email("alice"));
    cr_expect_not(text_is_email("@example.com"));
    cr_expect_not(text_is_email("a@b@c"));
    cr_expect_not(text_is_email("a b@example.com"));
}

Test(buf, cap_is_enforced_and_contents_kept)
{
    struct buf b;
    buf_init(&b, 8);
    cr_assert_eq(buf_adds(&b, "12345"), RC_OK);
    cr_assert_eq(buf_adds(&b, "6789"), RC_TOO_LARGE);
    cr_assert_str_eq(buf_str(&b), "12345");
    cr_assert_eq(buf_addf(&b, "%d", 678), RC_OK);
    cr_assert_str_eq(buf_str(&b), "12345678");
    cr_assert_eq(buf_addc(&b, 'x'), RC_TOO_LARGE);
    size_t len;
    char *s = buf_detach(&b, &len);
    cr_assert_eq(len, 8);
    cr_assert_str_eq(s, "12345678");
    free(s);
    cr_assert_str_eq(buf_str(&b), "");
    buf_release(&b);
}
