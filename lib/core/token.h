/* token.h: the shape of pcc credentials: prefix + 32 base62 random + 6 base62 CRC-32.
 * Pure format code: generation, offline validation (checksum) and the display form. */
#ifndef PCC_TOKEN_H
#define PCC_TOKEN_H

#include <stddef.h>

#include "rc.h"

#define TOKEN_RANDOM_LEN 32
#define TOKEN_CHECKSUM_LEN 6
#define TOKEN_PREFIX_LEN 8                                                   /* "pcc_pat_" */
#define TOKEN_LEN (TOKEN_PREFIX_LEN + TOKEN_RANDOM_LEN + TOKEN_CHECKSUM_LEN) /* 46 */
#define TOKEN_BUF_SIZE (TOKEN_LEN + 1)
/* Longest credential any part of pcc accepts: tokens issued elsewhere have other lengths. */
#define TOKEN_MAX_LEN 512
/* "pcc_pat_abcd...wxyz" */
#define TOKEN_DISPLAY_SIZE 32
#define TOKEN_ID_PREFIX "tok_"
#define TOKEN_ID_RANDOM_LEN 16
#define ID_BUF_SIZE 40

enum token_kind {
    TOKEN_KIND_PAT,          /* pcc_pat_ */
    TOKEN_KIND_OAUTH_ACCESS, /* pcc_oat_ */
    TOKEN_KIND_OAUTH_REFRESH /* pcc_ort_ */
};

/* The prefix of kind, e.g. "pcc_pat_". */
const char *token_prefix(enum token_kind kind);

/* Fill out with a fresh token of kind from the OS CSPRNG (190 bits of randomness).
 * out must hold TOKEN_BUF_SIZE bytes; it is NUL-terminated. Wipe it after use. */
void token_generate(enum token_kind kind, char out[TOKEN_BUF_SIZE]);

/* Check that (s, len) is a well-formed pcc token: known prefix, exact length, base62 body and a
 * matching checksum. Does not touch storage. RC_OK and *kind set, RC_TOKEN_FORMAT (wrong shape)
 * or RC_TOKEN_CHECKSUM (right shape, wrong checksum: mistyped or forged). */
enum rc token_parse(const char *s, size_t len, enum token_kind *kind);

/* Checks the CLI makes before sending any PAT: RC_OK when (s, len) starts with "pcc_pat_", is
 * at most TOKEN_MAX_LEN long and has no whitespace or control characters; and, when it has pcc's
 * own length and alphabet, a valid checksum (RC_TOKEN_CHECKSUM otherwise). Tokens of other
 * lengths (issued elsewhere) pass. RC_TOKEN_FORMAT for the rest. */
enum rc token_check_pat_offline(const char *s, size_t len);

/* The display form shown after creation: "pcc_pat_" + first 4 of the random part + "..." + last
 * 4 characters. out must hold TOKEN_DISPLAY_SIZE bytes. */
void token_display(const char *s, size_t len, char out[TOKEN_DISPLAY_SIZE]);

/* Base62 checksum of (data, len): CRC-32 (IEEE) as 6 zero-padded base62 digits + NUL. */
void token_checksum(const char *data, size_t len, char out[TOKEN_CHECKSUM_LEN + 1]);

/* Fill out with the token of kind that seed determines (TOKEN_SEED_LEN bytes, which must be
 * secret and uniformly random, e.g. a keyed hash): the same seed always gives the same token,
 * as uniform over the token space as token_generate's. Wipe it after use. */
#define TOKEN_SEED_LEN 32
void token_derive(enum token_kind kind, const unsigned char seed[TOKEN_SEED_LEN],
                  char out[TOKEN_BUF_SIZE]);

/* Fill out[0..n) with uniformly random base62 characters (no NUL added). */
void token_random_base62(char *out, size_t n);

/* A public record identifier: prefix (e.g. "tok_") + 16 base62; out holds ID_BUF_SIZE bytes. */
void token_new_id(const char *prefix, char out[ID_BUF_SIZE]);

#endif
