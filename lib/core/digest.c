/* digest.c: HMAC digests and constant-time helpers over libsodium (see digest.h). */
#include "digest.h"

#include <string.h>

#include <sodium.h>
#include "banned.h"


void digest_secret(const struct digest_key *key, const char *secret, size_t len,
                   char hex_out[DIGEST_HEX_SIZE])
{
    unsigned char mac[crypto_auth_hmacsha256_BYTES];
    crypto_auth_hmacsha256_state st;
    crypto_auth_hmacsha256_init(&st, key->bytes, DIGEST_KEY_LEN);
    crypto_auth_hmacsha256_update(&st, (const unsigned char *)secret, len);
    crypto_auth_hmacsha256_final(&st, mac);
    sodium_bin2hex(hex_out, DIGEST_HEX_SIZE, mac, sizeof mac);
    sodium_memzero(&st, sizeof st);
}

int digest_equal(const char *a_hex, const char *b_hex)
{
    if (!a_hex || !b_hex)
        return 0;
    return digest_bytes_equal(a_hex, strnlen(a_hex, DIGEST_HEX_SIZE), b_hex,
                              strnlen(b_hex, DIGEST_HEX_SIZE));
}

int digest_bytes_equal(const void *a, size_t alen, const void *b, size_t blen)
{
    if (alen != blen)
        return 0;
    return sodium_memcmp(a, b, alen) == 0;
}

void digest_wipe(void *p, size_t n)
{
    if (p)
        sodium_memzero(p, n);
}
