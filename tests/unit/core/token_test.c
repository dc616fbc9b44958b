/* token_test.c: token format, checksum (known answers cross-checked with Python's
 * binascii.crc32), offline validation and display form. */
#include <string.h>

#include <criterion/criterion.h>
#include <sodium.h>

#include "token.h"

static void setup(void) { cr_assert(sodium_init() >= 0); }

struct checksum_vector {
    const char *random;
    const char *checksum;
};

/* CRC-32 of the random part, as 6 base62 digits (Python: binascii.crc32). */
static const struct checksum_vector vectors[] = {
    {"00000000000000000000000000000000", "2wjyrI"},
    {"abcdefghijklmnopqrstuvwxyzABCDEF", "1mVgZW"},
    {"6G9tdaEV0rtZ0Cii3Cz82y1Da6Yu4Q7Y", "46NV2Z"},
    {"zzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzz", "4W8LJS"},
};

Test(token, checksum_known_answers, .init = setup)
{
    for (size_t i = 0; i < sizeof vectors / sizeof vectors[0]; i++) {
        char out[TOKEN_CHECKSUM_LEN + 1];
        token_checksum(vectors[i].random, strlen(vectors[i].random), out);
        cr_expect_str_eq(out, vectors[i].checksum, "vector %zu", i);
    }
}

Test(token, generated_tokens_parse, .init = setup)
{
    for (int i = 0; i < 200; i++) {
        char tok[TOKEN_BUF_SIZE] = {0};
        token_generate(TOKEN_KIND_PAT, tok);
        cr_assert_eq(strlen(tok), TOKEN_LEN);
        cr_assert(strncmp(tok, "pcc_pat_", 8) == 0);
        enum token_kind kind = TOKEN_KIND_OAUTH_ACCESS;
        cr_assert_eq(token_parse(tok, TOKEN_LEN, &kind), RC_OK, "%s", tok);
        cr_assert_eq(kind, TOKEN_KIND_PAT);
    }
}

Test(token, derived_tokens_depend_on_the_seed_alone, .init = setup)
{
    unsigned char seed[TOKEN_SEED_LEN] = {1, 2, 3}, other[TOKEN_SEED_LEN] = {1, 2, 4};
    char a[TOKEN_BUF_SIZE], b[TOKEN_BUF_SIZE], c[TOKEN_BUF_SIZE];
    token_derive(TOKEN_KIND_OAUTH_REFRESH, seed, a);
    token_derive(TOKEN_KIND_OAUTH_REFRESH, seed, b);
    token_derive(TOKEN_KIND_OAUTH_REFRESH, other, c);
    cr_assert_str_eq(a, b, "one seed, one token");
    cr_assert_str_neq(a, c);
    enum token_kind kind;
    cr_assert_eq(token_parse(a, strlen(a), &kind), RC_OK, "%s", a);
    cr_assert_eq(kind, TOKEN_KIND_OAUTH_REFRESH);
    token_derive(TOKEN_KIND_OAUTH_ACCESS, seed, c);
    cr_assert_eq(strncmp(c, "pcc_oat_", 8), 0);
    cr_assert_str_eq(c + 8, a + 8, "the kind changes the prefix only");
}

Test(token, generated_tokens_differ, .init = setup)
{
    char a[TOKEN_BUF_SIZE] = {0}, b[TOKEN_BUF_SIZE] = {0};
    token_generate(TOKEN_KIND_PAT, a);
    token_generate(TOKEN_KIND_PAT, b);
    cr_assert_str_neq(a, b);
}

Test(token, kinds_have_their_prefixes, .init = setup)
{
    char tok[TOKEN_BUF_SIZE] = {0};
    token_generate(TOKEN_KIND_OAUTH_ACCESS, tok);
    enum token_kind kind;
    cr_assert_eq(token_parse(tok, TOKEN_LEN, &kind), RC_OK);
    cr_assert_eq(kind, TOKEN_KIND_OAUTH_ACCESS);
    cr_assert(strncmp(tok, "pcc_oat_", 8) == 0);
}

struct parse_case {
    const char *token;
    enum rc expect;
};

static const struct parse_case parse_cases[] = {
    {"pcc_pat_6G9tdaEV0rtZ0Cii3Cz82y1Da6Yu4Q7Y46NV2Z", RC_OK},
    {"pcc_pat_6G9tdaEV0rtZ0Cii3Cz82y1Da6Yu4Q7Y46NV2Y", RC_TOKEN_CHECKSUM}, /* last char */
    {"pcc_pat_6G9tdaEV0rtZ0Cii3Cz82y1Da6Yu4Q7Z46NV2Z", RC_TOKEN_CHECKSUM}, /* body typo */
    {"pcc_pat_6G9tdaEV0rtZ0Cii3Cz82y1Da6Yu4Q7Y46NV2", RC_TOKEN_FORMAT},    /* truncated */
    {"pcc_pat_6G9tdaEV0rtZ0Cii3Cz82y1Da6Yu4Q7Y46NV2Zz", RC_TOKEN_FORMAT},  /* too long */
    {"pcc_pat_6G9tdaEV0rtZ0Cii3Cz82y1Da6Yu4Q7-46NV2Z", RC_TOKEN_FORMAT},   /* not base62 */
    {"pcc_xyz_6G9tdaEV0rtZ0Cii3Cz82y1Da6Yu4Q7Y46NV2Z", RC_TOKEN_FORMAT},   /* unknown prefix */
    {"sk_live_6G9tdaEV0rtZ0Cii3Cz82y1Da6Yu4Q7Y46NV2Z", RC_TOKEN_FORMAT},
    {"", RC_TOKEN_FORMAT},
};

Test(token, parse_table, .init = setup)
{
    for (size_t i = 0; i < sizeof parse_cases / sizeof parse_cases[0]; i++) {
        const char *t = parse_cases[i].token;
        cr_expect_eq(token_parse(t, strlen(t), NULL), parse_cases[i].expect, "case %zu: %s", i, t);
    }
}

Test(token, parse_does_not_read_past_len, .init = setup)
{
    /* A valid token followed by garbage is only valid when len stops at the token. */
    const char *t = "pcc_pat_6G9tdaEV0rtZ0Cii3Cz82y1Da6Yu4Q7Y46NV2Zgarbage";
    cr_assert_eq(token_parse(t, TOKEN_LEN, NULL), RC_OK);
    cr_assert_eq(token_parse(t, strlen(t), NULL), RC_TOKEN_FORMAT);
}

static const struct parse_case offline_cases[] = {
    {"pcc_pat_6G9tdaEV0rtZ0Cii3Cz82y1Da6Yu4Q7Y46NV2Z", RC_OK},
    {"pcc_pat_6G9tdaEV0rtZ0Cii3Cz82y1Da6Yu4Q7Y46NV2Y", RC_TOKEN_CHECKSUM},
    /* Tokens issued elsewhere (other lengths, e.g. 32 hex) pass: never pin one length. */
    {"pcc_pat_0123456789abcdef0123456789abcdef", RC_OK},
    {"pcc_pat_0123456789abcdef0123456789abcdef0123456789", RC_OK},
    {"pcc_pat_abc def", RC_TOKEN_FORMAT},
    {"pcc_pat_abc\tdef", RC_TOKEN_FORMAT},
    {"pcc_pat_abc\x7f", RC_TOKEN_FORMAT},
    {"pcc_pat_", RC_TOKEN_FORMAT},
    {"oat_abcdef", RC_TOKEN_FORMAT},
};

Test(token, offline_check_table, .init = setup)
{
    for (size_t i = 0; i < sizeof offline_cases / sizeof offline_cases[0]; i++) {
        const char *t = offline_cases[i].token;
        cr_expect_eq(token_check_pat_offline(t, strlen(t)), offline_cases[i].expect, "case %zu: %s",
                     i, t);
    }
}

Test(token, display_form, .init = setup)
{
    char out[TOKEN_DISPLAY_SIZE];
    const char *t = "pcc_pat_6G9tdaEV0rtZ0Cii3Cz82y1Da6Yu4Q7Y46NV2Z";
    token_display(t, strlen(t), out);
    cr_assert_str_eq(out, "pcc_pat_6G9t...NV2Z");
    token_display("short", 5, out);
    cr_assert_str_eq(out, "****");
}

Test(token, ids_have_prefix_and_length, .init = setup)
{
    char id[ID_BUF_SIZE];
    token_new_id("tok_", id);
    cr_assert_eq(strlen(id), 4 + TOKEN_ID_RANDOM_LEN);
    cr_assert(strncmp(id, "tok_", 4) == 0);
}
