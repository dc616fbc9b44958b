/* apikey_test.c: the offline shape of API keys: prefixes, length, alphabet and checksum. */
#include <stdio.h>
#include <string.h>

#include <criterion/criterion.h>

#include "auth.h"

/* A key of kind's prefix with a valid checksum over random. */
static void make_key(const char *prefix, const char *random, char out[AUTH_APIKEY_BUF_SIZE])
{
    char sum[TOKEN_CHECKSUM_LEN + 1];
    token_checksum(random, TOKEN_RANDOM_LEN, sum);
    snprintf(out, AUTH_APIKEY_BUF_SIZE, "%s%s%s", prefix, random, sum);
}

Test(apikey, parse_accepts_both_kinds)
{
    const char *random = "0123456789abcdefghijABCDEFGHIJxy";
    char key[AUTH_APIKEY_BUF_SIZE];
    enum auth_apikey_kind kind;
    make_key("pk_", random, key);
    cr_assert_eq(strlen(key), AUTH_APIKEY_LEN);
    cr_assert_eq(auth_apikey_parse(key, strlen(key), &kind), RC_OK);
    cr_assert_eq(kind, AUTH_APIKEY_PUBLIC);
    make_key("sk_", random, key);
    cr_assert_eq(auth_apikey_parse(key, strlen(key), &kind), RC_OK);
    cr_assert_eq(kind, AUTH_APIKEY_PRIVATE);
    cr_assert_str_eq(auth_apikey_kind_name(AUTH_APIKEY_PRIVATE), "private");
    cr_assert_str_eq(auth_apikey_kind_name(AUTH_APIKEY_PUBLIC), "public");
}

Test(apikey, parse_rejects_wrong_shapes_offline)
{
    const char *random = "0123456789abcdefghijABCDEFGHIJxy";
    char key[AUTH_APIKEY_BUF_SIZE + 8];
    enum auth_apikey_kind kind;
    make_key("pk_", random, key);
    key[AUTH_APIKEY_LEN - 1] = key[AUTH_APIKEY_LEN - 1] == 'A' ? 'B' : 'A';
    cr_assert_eq(auth_apikey_parse(key, strlen(key), &kind), RC_TOKEN_CHECKSUM, "mistyped");
    make_key("xk_", random, key);
    cr_assert_eq(auth_apikey_parse(key, strlen(key), &kind), RC_TOKEN_FORMAT, "prefix");
    make_key("pk_", random, key);
    cr_assert_eq(auth_apikey_parse(key, strlen(key) - 1, &kind), RC_TOKEN_FORMAT, "length");
    key[5] = '-';
    cr_assert_eq(auth_apikey_parse(key, strlen(key), &kind), RC_TOKEN_FORMAT, "alphabet");
    cr_assert_eq(auth_apikey_parse("pcc_pat_x", 9, &kind), RC_TOKEN_FORMAT);
    cr_assert_eq(auth_apikey_parse(NULL, 0, &kind), RC_TOKEN_FORMAT);
}
