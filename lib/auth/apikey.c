/* apikey.c: organization API keys: their format ("pk_"/"sk_" + base62 + checksum), issuance
 * (public keys kept retrievable, private ones as a digest only) and soft revocation. */
#include "auth.h"

#include <stdio.h>
#include <string.h>

#include <jansson.h>
#include <sodium.h>

#include "json.h"
#include "text.h"
#include "banned.h"

static const char *const prefixes[] = {"pk_", "sk_"};

const char *auth_apikey_kind_name(enum auth_apikey_kind kind)
{
    return kind == AUTH_APIKEY_PRIVATE ? "private" : "public";
}

static int is_base62(char c)
{
    return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z');
}

enum rc auth_apikey_parse(const char *s, size_t len, enum auth_apikey_kind *kind)
{
    if (!s || len != AUTH_APIKEY_LEN)
        return RC_TOKEN_FORMAT;
    int which = -1;
    for (int i = 0; i < 2; i++)
        if (memcmp(s, prefixes[i], AUTH_APIKEY_PREFIX_LEN) == 0)
            which = i;
    if (which < 0)
        return RC_TOKEN_FORMAT;
    for (size_t i = AUTH_APIKEY_PREFIX_LEN; i < len; i++)
        if (!is_base62(s[i]))
            return RC_TOKEN_FORMAT;
    char sum[TOKEN_CHECKSUM_LEN + 1];
    token_checksum(s + AUTH_APIKEY_PREFIX_LEN, TOKEN_RANDOM_LEN, sum);
    if (!digest_bytes_equal(sum, TOKEN_CHECKSUM_LEN, s + AUTH_APIKEY_PREFIX_LEN + TOKEN_RANDOM_LEN,
                            TOKEN_CHECKSUM_LEN))
        return RC_TOKEN_CHECKSUM;
    *kind = which == 1 ? AUTH_APIKEY_PRIVATE : AUTH_APIKEY_PUBLIC;
    return RC_OK;
}

/* A fresh key of kind into out (AUTH_APIKEY_BUF_SIZE bytes), 190 bits from the CSPRNG. */
static void generate(enum auth_apikey_kind kind, char out[AUTH_APIKEY_BUF_SIZE])
{
    char *random = out + AUTH_APIKEY_PREFIX_LEN;
    memcpy(out, prefixes[kind == AUTH_APIKEY_PRIVATE], AUTH_APIKEY_PREFIX_LEN);
    token_random_base62(random, TOKEN_RANDOM_LEN);
    char sum[TOKEN_CHECKSUM_LEN + 1];
    token_checksum(random, TOKEN_RANDOM_LEN, sum);
    memcpy(random + TOKEN_RANDOM_LEN, sum, TOKEN_CHECKSUM_LEN);
    out[AUTH_APIKEY_LEN] = '\0';
}

static enum rc check_name(const char *name, char *err, size_t errlen)
{
    size_t len = name ? strlen(name) : 0;
    if (len == 0 || len > AUTH_APIKEY_NAME_MAX) {
        snprintf(err, errlen, "field \"name\" must be 1 to %d characters", AUTH_APIKEY_NAME_MAX);
        return RC_INVALID;
    }
    if (!text_is_clean_utf8(name, len) || name[0] == ' ' || name[len - 1] == ' ') {
        snprintf(err, errlen,
                 "field \"name\" must be UTF-8 text without control characters "
                 "or surrounding spaces");
        return RC_INVALID;
    }
    return RC_OK;
}

/* A short JSON object for the audit log from a jansson value (consumed); never a secret. */
static void audit_json(struct auth *a, const char *event, const char *user_id, const char *key_id,
                       const char *org_id, const char *ip, json_t *detail)
{
    char *text = detail ? json_to_string(detail) : NULL;
    auth_audit(a, event, user_id, key_id, org_id, ip, text);
    free(text);
    json_decref(detail);
}

enum rc auth_issue_api_key(struct auth *a, const char *org_id, const char *user_id,
                           enum auth_apikey_kind kind, const char *name, const char *ip,
                           char key_out[AUTH_APIKEY_BUF_SIZE], struct store_api_key *row_out,
                           char *err, size_t errlen)
{
    struct store_api_key row = {0};
    struct store_api_key *list = NULL;
    size_t count = 0, active = 0;
    enum rc rc = check_name(name, err, errlen);
    if (rc != RC_OK)
        goto out;
    if ((rc = store_api_keys_for_org(a->store, org_id, &list, &count)) != RC_OK) {
        snprintf(err, errlen, "cannot list API keys");
        goto out;
    }
    for (size_t i = 0; i < count; i++)
        active += list[i].revoked_at == 0;
    if (active >= AUTH_MAX_API_KEYS) {
        snprintf(err, errlen, "too many active API keys (at most %d): revoke unused ones first",
                 AUTH_MAX_API_KEYS);
        rc = RC_FORBIDDEN;
        goto out;
    }
    generate(kind, key_out);
    token_new_id("key_", row.id);
    store_copy_field(row.org_id, sizeof row.org_id, org_id);
    store_copy_field(row.kind, sizeof row.kind, auth_apikey_kind_name(kind));
    store_copy_field(row.name, sizeof row.name, name);
    if (kind == AUTH_APIKEY_PUBLIC) /* the reference client lists public keys in full */
        store_copy_field(row.public_value, sizeof row.public_value, key_out);
    snprintf(row.display, sizeof row.display, "%.*s%.4s...%.4s", AUTH_APIKEY_PREFIX_LEN, key_out,
             key_out + AUTH_APIKEY_PREFIX_LEN, key_out + AUTH_APIKEY_LEN - 4);
    digest_secret(&a->key, key_out, AUTH_APIKEY_LEN, row.digest);
    store_copy_field(row.created_by, sizeof row.created_by, user_id);
    row.created_at = auth_now(a);
    if ((rc = store_api_key_insert(a->store, &row)) != RC_OK) {
        sodium_memzero(key_out, AUTH_APIKEY_BUF_SIZE);
        snprintf(err, errlen, "cannot store the API key");
        goto out;
    }
    audit_json(a, "apikey.created", user_id, row.id, org_id, ip,
               json_pack("{s:s, s:s}", "type", row.kind, "name", row.name));
    if (row_out)
        *row_out = row;
out:
    sodium_memzero(row.public_value, sizeof row.public_value);
    store_free_list(list);
    return rc;
}

enum rc auth_revoke_api_key(struct auth *a, const char *org_id, const char *key_id,
                            const char *user_id, const char *ip)
{
    enum rc rc = store_api_key_revoke(a->store, org_id, key_id, auth_now(a));
    if (rc == RC_OK)
        auth_audit(a, "apikey.revoked", user_id, key_id, org_id, ip, NULL);
    return rc;
}
