/* seal.c: secrets at rest: crypto_secretbox under subkeys of the server secret, one derived for
 * each purpose (secret values, Daily API keys), so a copy of the database without the secret
 * file reveals none of them, and a ciphertext moved from one column to another does not open. */
#include "auth.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <sodium.h>

#include "banned.h"

#define SEAL_SUBKEY_SECRET_VALUE 1
#define SEAL_SUBKEY_DAILY_KEY 2

/* The secretbox key for one purpose; the caller wipes it. */
static void derive_key(const struct digest_key *server, uint64_t subkey,
                       unsigned char key[crypto_secretbox_KEYBYTES])
{
    crypto_kdf_derive_from_key(key, crypto_secretbox_KEYBYTES, subkey, AUTH_SEAL_CONTEXT,
                               server->bytes);
}

static enum rc seal_with(const struct digest_key *server, uint64_t subkey, const void *value,
                         size_t len, char nonce_hex[AUTH_SEAL_NONCE_HEX_SIZE], char **cipher_hex)
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
    derive_key(server, subkey, key);
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

static enum rc unseal_with(const struct digest_key *server, uint64_t subkey, const char *nonce_hex,
                           size_t nonce_hex_len, const char *cipher_hex, char **value_out,
                           size_t *len_out)
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
    if (sodium_hex2bin(nonce, sizeof nonce, nonce_hex, nonce_hex_len, NULL, &nlen, NULL) ||
        nlen != sizeof nonce ||
        sodium_hex2bin(cipher, hexlen / 2 + 1, cipher_hex, hexlen, NULL, &clen, NULL) ||
        clen < crypto_secretbox_MACBYTES)
        goto out;
    if (!(plain = malloc(clen - crypto_secretbox_MACBYTES + 1))) {
        rc = RC_NOMEM;
        goto out;
    }
    derive_key(server, subkey, key);
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

enum rc auth_seal(const struct auth *a, const void *value, size_t len,
                  char nonce_hex[AUTH_SEAL_NONCE_HEX_SIZE], char **cipher_hex)
{
    return seal_with(&a->key, SEAL_SUBKEY_SECRET_VALUE, value, len, nonce_hex, cipher_hex);
}

enum rc auth_unseal(const struct auth *a, const char *nonce_hex, const char *cipher_hex,
                    char **value_out, size_t *len_out)
{
    return unseal_with(&a->key, SEAL_SUBKEY_SECRET_VALUE, nonce_hex, strlen(nonce_hex), cipher_hex,
                       value_out, len_out);
}

/* --- Daily API keys ------------------------------------------------------------------------ */

enum rc auth_daily_key_seal(const struct digest_key *server, const char *plain,
                            char sealed[STORE_SEALED_SIZE])
{
    char nonce[AUTH_SEAL_NONCE_HEX_SIZE], *cipher = NULL;
    size_t len = strlen(plain);
    sealed[0] = '\0';
    if (len == 0)
        return RC_OK;
    if (len > AUTH_DAILY_KEY_MAX)
        return RC_INVALID;
    enum rc rc = seal_with(server, SEAL_SUBKEY_DAILY_KEY, plain, len, nonce, &cipher);
    if (rc == RC_OK)
        snprintf(sealed, STORE_SEALED_SIZE, "%s:%s", nonce, cipher);
    free(cipher);
    return rc;
}

enum rc auth_daily_key_unseal(const struct digest_key *server, const char *sealed,
                              char plain[STORE_SECRET_SIZE])
{
    const char *colon = strchr(sealed, ':');
    char *value = NULL;
    size_t len = 0;
    plain[0] = '\0';
    if (!sealed[0])
        return RC_NOT_FOUND;
    if (!colon)
        return RC_INVALID;
    enum rc rc = unseal_with(server, SEAL_SUBKEY_DAILY_KEY, sealed, (size_t)(colon - sealed),
                             colon + 1, &value, &len);
    if (rc != RC_OK)
        return rc;
    if (len > AUTH_DAILY_KEY_MAX || memchr(value, '\0', len))
        rc = RC_INVALID;
    else
        memcpy(plain, value, len + 1);
    sodium_memzero(value, len);
    free(value);
    return rc;
}

enum rc auth_daily_keys_seal_legacy(struct store *st, const struct digest_key *server,
                                    int *count_out)
{
    struct store_legacy_daily_key *list = NULL;
    size_t count = 0;
    char sealed[STORE_SEALED_SIZE];
    *count_out = 0;
    enum rc rc = store_daily_keys_legacy(st, &list, &count);
    for (size_t i = 0; rc == RC_OK && i < count; i++) {
        if ((rc = auth_daily_key_seal(server, list[i].key, sealed)) == RC_OK) {
            rc = store_daily_key_seal_legacy(st, list[i].org_id, sealed);
            if (rc == RC_OK)
                (*count_out)++;
            else if (rc == RC_NOT_FOUND) /* sealed by another process, or replaced */
                rc = RC_OK;
        }
    }
    if (list)
        sodium_memzero(list, count * sizeof *list);
    store_free_list(list);
    return rc;
}
