/* seal_test.c: secret values at rest: round trip, fresh nonces, and refusal of altered data
 * or another server secret. */
#include <stdlib.h>
#include <string.h>

#include <criterion/criterion.h>
#include <sodium.h>

#include "auth.h"

static struct auth auth_with_key(unsigned char fill)
{
    struct auth a;
    memset(&a, 0, sizeof a);
    memset(a.key.bytes, fill, sizeof a.key.bytes);
    return a;
}

Test(seal, round_trip_with_fresh_nonces)
{
    cr_assert(sodium_init() >= 0);
    struct auth a = auth_with_key(7);
    static const char value[] = "s3cr3t value\nwith a newline and \xc3\xa9";
    char nonce1[AUTH_SEAL_NONCE_HEX_SIZE], nonce2[AUTH_SEAL_NONCE_HEX_SIZE];
    char *c1 = NULL, *c2 = NULL, *plain = NULL;
    size_t len = 0;
    cr_assert_eq(auth_seal(&a, value, strlen(value), nonce1, &c1), RC_OK);
    cr_assert_eq(auth_seal(&a, value, strlen(value), nonce2, &c2), RC_OK);
    cr_assert_eq(strlen(nonce1), 48);
    cr_assert_str_neq(nonce1, nonce2, "a random nonce per value");
    cr_assert_str_neq(c1, c2, "the same value seals differently each time");
    cr_assert_null(strstr(c1, "s3cr3t"));
    cr_assert_eq(auth_unseal(&a, nonce1, c1, &plain, &len), RC_OK);
    cr_assert_eq(len, strlen(value));
    cr_assert_str_eq(plain, value);
    sodium_memzero(plain, len);
    free(plain);
    free(c1);
    free(c2);
}

Test(seal, empty_value)
{
    struct auth a = auth_with_key(1);
    char nonce[AUTH_SEAL_NONCE_HEX_SIZE], *cipher = NULL, *plain = NULL;
    size_t len = 99;
    cr_assert_eq(auth_seal(&a, "", 0, nonce, &cipher), RC_OK);
    cr_assert_eq(auth_unseal(&a, nonce, cipher, &plain, &len), RC_OK);
    cr_assert_eq(len, 0);
    cr_assert_str_eq(plain, "");
    free(plain);
    free(cipher);
}

Test(seal, refuses_other_key_altered_data_and_garbage)
{
    struct auth a = auth_with_key(2), other = auth_with_key(3);
    char nonce[AUTH_SEAL_NONCE_HEX_SIZE], *cipher = NULL, *plain = NULL;
    size_t len = 0;
    cr_assert_eq(auth_seal(&a, "value", 5, nonce, &cipher), RC_OK);
    cr_assert_eq(auth_unseal(&other, nonce, cipher, &plain, &len), RC_INVALID,
                 "another server secret");
    cr_assert_null(plain);
    cipher[0] = cipher[0] == '0' ? '1' : '0';
    cr_assert_eq(auth_unseal(&a, nonce, cipher, &plain, &len), RC_INVALID, "altered ciphertext");
    cr_assert_eq(auth_unseal(&a, nonce, "zz", &plain, &len), RC_INVALID, "not hex");
    cr_assert_eq(auth_unseal(&a, "00", cipher, &plain, &len), RC_INVALID, "short nonce");
    cr_assert_eq(auth_unseal(&a, nonce, "", &plain, &len), RC_INVALID, "no MAC");
    cr_assert_null(plain);
    free(cipher);
}

Test(seal, daily_keys_round_trip_under_their_own_subkey)
{
    cr_assert(sodium_init() >= 0);
    struct auth a = auth_with_key(4), other = auth_with_key(5);
    char sealed[STORE_SEALED_SIZE], again[STORE_SEALED_SIZE], plain[STORE_SECRET_SIZE];
    cr_assert_eq(auth_daily_key_seal(&a.key, "dk_0123456789abcdef", sealed), RC_OK);
    cr_assert_null(strstr(sealed, "0123456789abcdef"), "no plaintext in the stored form");
    cr_assert_eq(auth_daily_key_seal(&a.key, "dk_0123456789abcdef", again), RC_OK);
    cr_assert_str_neq(sealed, again, "a fresh nonce each time");
    cr_assert_eq(auth_daily_key_unseal(&a.key, sealed, plain), RC_OK);
    cr_assert_str_eq(plain, "dk_0123456789abcdef");
    cr_assert_eq(auth_daily_key_unseal(&other.key, sealed, plain), RC_INVALID,
                 "another server secret");
    cr_assert_str_eq(plain, "");

    /* A secret value's ciphertext does not open as a Daily key: another subkey. */
    char nonce[AUTH_SEAL_NONCE_HEX_SIZE], *cipher = NULL, moved[STORE_SEALED_SIZE];
    cr_assert_eq(auth_seal(&a, "dk_moved", 8, nonce, &cipher), RC_OK);
    snprintf(moved, sizeof moved, "%s:%s", nonce, cipher);
    free(cipher);
    cr_assert_eq(auth_daily_key_unseal(&a.key, moved, plain), RC_INVALID);

    cr_assert_eq(auth_daily_key_seal(&a.key, "", sealed), RC_OK);
    cr_assert_str_eq(sealed, "", "no key is stored as nothing");
    cr_assert_eq(auth_daily_key_unseal(&a.key, "", plain), RC_NOT_FOUND);
    cr_assert_eq(auth_daily_key_unseal(&a.key, "dk_plaintext", plain), RC_INVALID,
                 "a plaintext key is not taken for a sealed one");
    char longest[STORE_SECRET_SIZE + 1];
    memset(longest, 'k', sizeof longest - 1);
    longest[sizeof longest - 1] = '\0';
    cr_assert_eq(auth_daily_key_seal(&a.key, longest, sealed), RC_INVALID);
    longest[AUTH_DAILY_KEY_MAX] = '\0';
    cr_assert_eq(auth_daily_key_seal(&a.key, longest, sealed), RC_OK, "the longest key fits");
    cr_assert_eq(auth_daily_key_unseal(&a.key, sealed, plain), RC_OK);
    cr_assert_str_eq(plain, longest);
}
