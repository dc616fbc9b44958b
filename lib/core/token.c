/* token.c: generation and offline validation of pcc tokens (see token.h). */
#include "token.h"

#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include <sodium.h>
#include <zlib.h>
#include "banned.h"


static const char BASE62[] = "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz";

static const char *const PREFIXES[] = {
    [TOKEN_KIND_PAT] = "pcc_pat_",
    [TOKEN_KIND_OAUTH_ACCESS] = "pcc_oat_",
    [TOKEN_KIND_OAUTH_REFRESH] = "pcc_ort_",
};
#define PREFIX_COUNT (sizeof(PREFIXES) / sizeof(PREFIXES[0]))

const char *token_prefix(enum token_kind kind)
{
    return (unsigned)kind < PREFIX_COUNT ? PREFIXES[kind] : PREFIXES[TOKEN_KIND_PAT];
}

static int is_base62(char c)
{
    return (c >= '0' && c <= '9') || (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z');
}

void token_random_base62(char *out, size_t n)
{
    for (size_t i = 0; i < n; i++)
        out[i] = BASE62[randombytes_uniform(62)];
}

void token_checksum(const char *data, size_t len, char out[TOKEN_CHECKSUM_LEN + 1])
{
    uint32_t crc = (uint32_t)crc32(0L, (const Bytef *)data, (uInt)len);
    for (int i = TOKEN_CHECKSUM_LEN - 1; i >= 0; i--) {
        out[i] = BASE62[crc % 62];
        crc /= 62;
    }
    out[TOKEN_CHECKSUM_LEN] = '\0';
}

void token_generate(enum token_kind kind, char out[TOKEN_BUF_SIZE])
{
    memcpy(out, token_prefix(kind), TOKEN_PREFIX_LEN);
    char *random = out + TOKEN_PREFIX_LEN;
    token_random_base62(random, TOKEN_RANDOM_LEN);
    token_checksum(random, TOKEN_RANDOM_LEN, random + TOKEN_RANDOM_LEN);
}

void token_derive(enum token_kind kind, const unsigned char seed[TOKEN_SEED_LEN],
                  char out[TOKEN_BUF_SIZE])
{
    /* A ChaCha20 stream from the seed, six bits a byte, 62 and 63 rejected: uniform base62.
     * 1 KiB holds the 32 characters with certainty for any practical purpose (each byte is
     * kept with probability 62/64); the modulo fallback only keeps the function total. */
    unsigned char stream[1024];
    randombytes_buf_deterministic(stream, sizeof stream, seed);
    memcpy(out, token_prefix(kind), TOKEN_PREFIX_LEN);
    char *random = out + TOKEN_PREFIX_LEN;
    size_t n = 0;
    for (size_t i = 0; i < sizeof stream && n < TOKEN_RANDOM_LEN; i++)
        if ((stream[i] & 63) < 62)
            random[n++] = BASE62[stream[i] & 63];
    for (size_t i = 0; n < TOKEN_RANDOM_LEN; i++)
        random[n++] = BASE62[stream[i] % 62];
    sodium_memzero(stream, sizeof stream);
    token_checksum(random, TOKEN_RANDOM_LEN, random + TOKEN_RANDOM_LEN);
}

static enum rc check_body(const char *s)
{
    const char *random = s + TOKEN_PREFIX_LEN;
    for (size_t i = 0; i < TOKEN_RANDOM_LEN + TOKEN_CHECKSUM_LEN; i++)
        if (!is_base62(random[i]))
            return RC_TOKEN_FORMAT;
    char expect[TOKEN_CHECKSUM_LEN + 1];
    token_checksum(random, TOKEN_RANDOM_LEN, expect);
    /* The checksum is public information; a plain compare leaks nothing secret. */
    return memcmp(expect, random + TOKEN_RANDOM_LEN, TOKEN_CHECKSUM_LEN) == 0 ? RC_OK
                                                                              : RC_TOKEN_CHECKSUM;
}

enum rc token_parse(const char *s, size_t len, enum token_kind *kind)
{
    if (!s || len != TOKEN_LEN)
        return RC_TOKEN_FORMAT;
    for (size_t k = 0; k < PREFIX_COUNT; k++) {
        if (memcmp(s, PREFIXES[k], TOKEN_PREFIX_LEN) != 0)
            continue;
        enum rc rc = check_body(s);
        if (rc == RC_OK && kind)
            *kind = (enum token_kind)k;
        return rc;
    }
    return RC_TOKEN_FORMAT;
}

enum rc token_check_pat_offline(const char *s, size_t len)
{
    if (!s || len <= TOKEN_PREFIX_LEN || len > TOKEN_MAX_LEN)
        return RC_TOKEN_FORMAT;
    if (memcmp(s, PREFIXES[TOKEN_KIND_PAT], TOKEN_PREFIX_LEN) != 0)
        return RC_TOKEN_FORMAT;
    int ours = len == TOKEN_LEN;
    for (size_t i = 0; i < len; i++) {
        unsigned char c = (unsigned char)s[i];
        if (c <= 0x20 || c == 0x7f)
            return RC_TOKEN_FORMAT;
        if (i >= TOKEN_PREFIX_LEN && !is_base62((char)c))
            ours = 0;
    }
    return ours ? check_body(s) : RC_OK;
}

void token_display(const char *s, size_t len, char out[TOKEN_DISPLAY_SIZE])
{
    if (!s || len < TOKEN_PREFIX_LEN + 8) {
        snprintf(out, TOKEN_DISPLAY_SIZE, "****");
        return;
    }
    const char *random = s + TOKEN_PREFIX_LEN;
    snprintf(out, TOKEN_DISPLAY_SIZE, "%.*s%.4s...%.4s", TOKEN_PREFIX_LEN, s, random, s + len - 4);
}

void token_new_id(const char *prefix, char out[ID_BUF_SIZE])
{
    size_t plen = strlen(prefix);
    if (plen > ID_BUF_SIZE - TOKEN_ID_RANDOM_LEN - 1)
        plen = ID_BUF_SIZE - TOKEN_ID_RANDOM_LEN - 1;
    memcpy(out, prefix, plen);
    token_random_base62(out + plen, TOKEN_ID_RANDOM_LEN);
    out[plen + TOKEN_ID_RANDOM_LEN] = '\0';
}
