/* digest_test.c: keyed digests (known answers from Python's hmac module) and constant-time
 * equality. */
#include <string.h>

#include <criterion/criterion.h>
#include <sodium.h>

#include "digest.h"

static void setup(void) { cr_assert(sodium_init() >= 0); }

static struct digest_key counting_key(void)
{
    struct digest_key k;
    for (int i = 0; i < DIGEST_KEY_LEN; i++)
        k.bytes[i] = (unsigned char)i;
    return k;
}

Test(digest, hmac_sha256_known_answers, .init = setup)
{
    struct digest_key k = counting_key();
    char hex[DIGEST_HEX_SIZE];
    const char *tok = "pcc_pat_6G9tdaEV0rtZ0Cii3Cz82y1Da6Yu4Q7Y46NV2Z";
    digest_secret(&k, tok, strlen(tok), hex);
    cr_assert_str_eq(hex, "6d08750df6fa1deec6762697cec0014f601e32ec27dec284d9acdedd58db3a5e");
    digest_secret(&k, "", 0, hex);
    cr_assert_str_eq(hex, "d38b42096d80f45f826b44a9d5607de72496a415d3f4a1a8c88e3bb9da8dc1cb");
}

Test(digest, different_keys_give_different_digests, .init = setup)
{
    struct digest_key a = counting_key(), b = counting_key();
    b.bytes[0] ^= 1;
    char ha[DIGEST_HEX_SIZE], hb[DIGEST_HEX_SIZE];
    digest_secret(&a, "x", 1, ha);
    digest_secret(&b, "x", 1, hb);
    cr_assert_str_neq(ha, hb);
}

Test(digest, equality, .init = setup)
{
    cr_assert(digest_equal("abc", "abc"));
    cr_assert_not(digest_equal("abc", "abd"));
    cr_assert_not(digest_equal("abc", "abcd"));
    cr_assert_not(digest_equal(NULL, "abc"));
    cr_assert(digest_bytes_equal("ab", 2, "ab", 2));
    cr_assert_not(digest_bytes_equal("ab", 2, "ab", 1));
}

Test(digest, wipe_zeroes, .init = setup)
{
    char secret[8] = "secret!";
    digest_wipe(secret, sizeof secret);
    for (size_t i = 0; i < sizeof secret; i++)
        cr_assert_eq(secret[i], 0);
}
