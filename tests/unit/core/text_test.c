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
    {"ci-deploy", 1},         {"d\xc3\xa9ploiement", 1}, /* é */
    {"\xe2\x9c\x93 done", 1},                            /* check mark */
    {"\xf0\x9f\x9a\x80", 1},                             /* rocket */
    {"tab\there", 0},         {"nl\n", 0},
    {"del\x7f", 0},           {"\xc2\x85", 0}, /* C1 control NEL */
    {"\xc0\xaf", 0},                           /* overlong */
    {"\xed\xa0\x80", 0},                       /* surrogate */
    {"\xe2\x9c", 0},                           /* truncated */
    {"\xf4\x90\x80\x80", 0},                   /* beyond U+10FFFF */
};

Test(text, utf8_table)
{
    for (size_t i = 0; i < sizeof utf8_cases / sizeof utf8_cases[0]; i++)
        cr_expect_eq(text_is_clean_utf8(utf8_cases[i].s, strlen(utf8_cases[i].s)), utf8_cases[i].ok,
                     "case %zu", i);
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

struct name_case {
    const char *s;
    int service, set, key, region, image;
};

/* One row per input: whether each platform validator accepts it. */
static const struct name_case name_cases[] = {
    /* s                      svc set key reg img */
    {"a", 1, 1, 1, 1, 0},
    {"my-agent", 1, 1, 1, 1, 0},
    {"my-agent-", 0, 0, 1, 0, 0},
    {"-agent", 0, 0, 1, 0, 0},
    {"My-Agent", 0, 1, 1, 0, 0},
    {"my_agent", 0, 1, 1, 0, 0},
    {"_key", 0, 0, 1, 0, 0},
    {"API_KEY", 0, 1, 1, 0, 0},
    {"a.b", 0, 0, 0, 0, 0},
    {"a b", 0, 0, 0, 0, 0},
    {"", 0, 0, 0, 0, 0},
    {"repo/agent:1.0", 0, 0, 0, 0, 1},
    {"agent:latest", 0, 0, 0, 0, 1},
    {"registry.example.com:5000/team/agent:v2", 0, 0, 0, 0, 1},
    {"registry.example.com:5000/team/agent", 0, 0, 0, 0, 0},
    {"repo/agent", 0, 0, 0, 0, 0},
    {"repo/agent:", 0, 0, 0, 0, 0},
    {":tag", 0, 0, 0, 0, 0},
    {"repo/agent@sha256:abc123", 0, 0, 0, 0, 1},
    {"repo/agent:1 0", 0, 0, 0, 0, 0},
};

Test(text, platform_names_table)
{
    for (size_t i = 0; i < sizeof name_cases / sizeof name_cases[0]; i++) {
        const struct name_case *c = &name_cases[i];
        cr_expect_eq(text_is_service_name(c->s), c->service, "service name '%s'", c->s);
        cr_expect_eq(text_is_secret_set_name(c->s), c->set, "set name '%s'", c->s);
        cr_expect_eq(text_is_secret_key(c->s), c->key, "key name '%s'", c->s);
        cr_expect_eq(text_is_region_code(c->s), c->region, "region '%s'", c->s);
        cr_expect_eq(text_is_image_ref(c->s), c->image, "image '%s'", c->s);
    }
}

/* s filled with n letters 'a'. */
static const char *letters(char *s, size_t n)
{
    memset(s, 'a', n);
    s[n] = '\0';
    return s;
}

Test(text, platform_name_lengths)
{
    char s[80];
    cr_expect(text_is_service_name(letters(s, 54)));
    cr_expect_not(text_is_service_name(letters(s, 55)));
    cr_expect(text_is_secret_key(letters(s, 64)));
    cr_expect(text_is_secret_set_name(letters(s, 64)));
    cr_expect_not(text_is_secret_key(letters(s, 65)));
    cr_expect_not(text_is_secret_set_name(letters(s, 65)));
    cr_expect(text_is_region_code(letters(s, 31)));
    cr_expect_not(text_is_region_code(letters(s, 32)));
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
