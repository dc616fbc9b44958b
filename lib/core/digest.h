/* digest.h: keyed digests of credentials (HMAC-SHA-256 under the server secret), constant-time
 * comparison and wiping. Storage only ever sees the hex digest, never a token. */
#ifndef PCC_DIGEST_H
#define PCC_DIGEST_H

#include <stddef.h>

#define DIGEST_KEY_LEN 32
#define DIGEST_LEN 32
#define DIGEST_HEX_SIZE (DIGEST_LEN * 2 + 1)

struct digest_key {
    unsigned char bytes[DIGEST_KEY_LEN];
};

/* hex_out = lowercase hex HMAC-SHA-256(key, secret); hex_out holds DIGEST_HEX_SIZE bytes. */
void digest_secret(const struct digest_key *key, const char *secret, size_t len,
                   char hex_out[DIGEST_HEX_SIZE]);
/* 1 when the two hex digests are equal, compared in constant time; 0 otherwise. */
int digest_equal(const char *a_hex, const char *b_hex);
/* Overwrite n bytes at p so the compiler cannot elide it. */
void digest_wipe(void *p, size_t n);
/* Constant-time equality of two byte strings of possibly different lengths (lengths leak). */
int digest_bytes_equal(const void *a, size_t alen, const void *b, size_t blen);

#endif
