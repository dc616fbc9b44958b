/* seal.c: secret values at rest: crypto_secretbox under a subkey of the server secret derived
 * for secrets alone, so a copy of the database without the secret file reveals no value. */
#include "auth.h"

#include <stdlib.h>
#include <string.h>

#include <sodium.h>

#include "banned.h"

#define SEAL_SUBKEY_ID 1

/* The secretbox key for secret values; the caller wipes it. */
static void derive_key(const struct auth *a, unsigned char key[crypto_secretbox_KEYBYTES])
{
    crypto_kdf_derive_from_key(key, crypto_secretbox_KEYBYTES, SEAL_SUBKEY_ID, AUTH_SEAL_CONTEXT,
                               a->key.bytes);
}

enum rc auth_seal(const struct auth *a, const void *value, size_t len,
                  char nonce_hex[AUTH_SEAL_NONCE_HEX_SIZE], char **cipher_hex)
{
    unsigned char key[crypto_secretbox_KEYBYTES];
    unsigned char nonce[crypto_secretbox_NONCEBYTES];
    size_t clen = len + crypto_secretbox_MACBYTES;
    unsigned char *cipher = malloc(clen);
    char *hex = malloc(clen * 2 + 1);
    enum rc rc = RC_NOMEM;
    *cipher_hex = NULL;
    if (!cipher || !hex)
        goto out;
    randombytes_buf(nonce, sizeof nonce);
    derive_key(a, key);
    crypto_secretbox_easy(cipher, value, len, nonce, key);
    sodium_memzero(key, sizeof key);
    sodium_bin2hex(nonce_hex, AUTH_SEAL_NONCE_HEX_SIZE, nonce, sizeof nonce);
    sodium_bin2hex(hex, clen * 2 + 1, cipher, clen);
    *cipher_hex = hex;
    hex = NULL;
    rc = RC_OK;
out:
    free(cipher);
    free(hex);
    return rc;
}

enum rc auth_unseal(const struct auth *a, const char *nonce_hex, const char *cipher_hex,
                    char **value_out, size_t *len_out)
{
    unsigned char key[crypto_secretbox_KEYBYTES];
    unsigned char nonce[crypto_secretbox_NONCEBYTES];
    size_t hexlen = strlen(cipher_hex), clen = 0, nlen = 0;
    unsigned char *cipher = malloc(hexlen / 2 + 1);
    char *plain = NULL;
    enum rc rc = RC_NOMEM;
    *value_out = NULL;
    if (!cipher)
        goto out;
    rc = RC_INVALID;
    if (sodium_hex2bin(nonce, sizeof nonce, nonce_hex, strlen(nonce_hex), NULL, &nlen, NULL) ||
        nlen != sizeof nonce ||
        sodium_hex2bin(cipher, hexlen / 2 + 1, cipher_hex, hexlen, NULL, &clen, NULL) ||
        clen < crypto_secretbox_MACBYTES)
        goto out;
    if (!(plain = malloc(clen - crypto_secretbox_MACBYTES + 1))) {
        rc = RC_NOMEM;
        goto out;
    }
    derive_key(a, key);
    int bad = crypto_secretbox_open_easy((unsigned char *)plain, cipher, clen, nonce, key);
    sodium_memzero(key, sizeof key);
    if (bad)
        goto out;
    *len_out = clen - crypto_secretbox_MACBYTES;
    plain[*len_out] = '\0';
    *value_out = plain;
    plain = NULL;
    rc = RC_OK;
out:
    free(plain); /* only reached unfilled: a failed open writes nothing readable */
    free(cipher);
    return rc;
}
