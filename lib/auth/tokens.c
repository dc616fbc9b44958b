/* tokens.c: the token lifecycle beyond verification: scopes, expiry and org policies, issuing
 * with scopes/binding/expiry, rotation with a grace period, revocation on behalf of others and
 * of reported leaks, and the seen set that keeps new-address detection off storage. */
#include "auth.h"

#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>
#include <sodium.h>

#include "log.h"
#include "timefmt.h"
#include "banned.h"

#define SEEN_SLOTS 8192

static const struct {
    const char *name;
    unsigned caps;
} scopes[] = {
    {"read", AUTH_CAP_READ},
    {"deploy", AUTH_CAP_READ | AUTH_CAP_DEPLOY},
    {"secrets", AUTH_CAP_READ | AUTH_CAP_SECRETS},
    {"full", AUTH_CAP_ALL},
};
#define SCOPE_COUNT (sizeof scopes / sizeof scopes[0])

unsigned auth_scope_caps(const char *list)
{
    unsigned caps = 0;
    const char *p = list ? list : "";
    while (*p) {
        size_t n = strcspn(p, " ");
        for (size_t i = 0; i < SCOPE_COUNT; i++)
            if (strlen(scopes[i].name) == n && memcmp(scopes[i].name, p, n) == 0)
                caps |= scopes[i].caps;
        p += n;
        while (*p == ' ')
            p++;
    }
    return caps;
}

const char *auth_capability_scope(unsigned cap)
{
    if (cap & AUTH_CAP_FULL)
        return "full";
    if (cap & AUTH_CAP_SECRETS)
        return "secrets";
    if (cap & AUTH_CAP_DEPLOY)
        return "deploy";
    return "read";
}

enum rc auth_check_scope(const char *name, char *err, size_t errlen)
{
    for (size_t i = 0; i < SCOPE_COUNT; i++)
        if (strcmp(scopes[i].name, name) == 0)
            return RC_OK;
    snprintf(err, errlen, "scopes: unknown scope '%.40s' (valid: read, deploy, secrets, full)",
             name);
    return RC_INVALID;
}

enum rc auth_check_expiry(int64_t expires_at, int64_t now, const char *field, char *err,
                          size_t errlen)
{
    if (expires_at == 0)
        return RC_OK;
    if (expires_at <= now) {
        snprintf(err, errlen, "%s: the expiry must be in the future", field);
        return RC_INVALID;
    }
    if (expires_at - now > (int64_t)AUTH_MAX_LIFETIME_DAYS * 86400) {
        snprintf(err, errlen, "%s: the expiry may be at most %d days ahead", field,
                 AUTH_MAX_LIFETIME_DAYS);
        return RC_INVALID;
    }
    return RC_OK;
}

enum rc auth_check_policy(const struct store_token *tok, const struct store_token_policy *p,
                          const char *org_name, char *err, size_t errlen)
{
    if (p->require_binding && !tok->org_id[0]) {
        snprintf(err, errlen,
                 "organization '%s' only accepts tokens bound to it; this token is unbound",
                 org_name);
        return RC_FORBIDDEN;
    }
    if ((p->require_expiry || p->max_lifetime_days > 0) && !tok->expires_at) {
        snprintf(err, errlen,
                 "organization '%s' only accepts tokens that expire; this token never does",
                 org_name);
        return RC_FORBIDDEN;
    }
    if (p->max_lifetime_days > 0 &&
        tok->expires_at - tok->created_at > (int64_t)p->max_lifetime_days * 86400) {
        snprintf(err, errlen,
                 "organization '%s' only accepts tokens valid for at most %d days; this token's "
                 "lifetime is longer",
                 org_name, p->max_lifetime_days);
        return RC_FORBIDDEN;
    }
    return RC_OK;
}

/* How long a credential reaches: its expiry, 0 for never. An OAuth access token stands for its
 * login, which renews itself as long as it is used: never. */
static int64_t reach_expiry(const struct store_token *t)
{
    return t->kind == TOKEN_KIND_OAUTH_ACCESS ? 0 : t->expires_at;
}

enum rc auth_check_reach(const struct store_token *actor, const struct store_token *target,
                         char *err, size_t errlen)
{
    if (!actor)
        return RC_OK;
    const char *rule = "a token acts only on tokens no wider than itself";
    if (auth_scope_caps(target->scopes) & ~auth_scope_caps(actor->scopes)) {
        snprintf(err, errlen,
                 "scopes: the token's scopes (%s) are wider than this token's (%s); %s",
                 target->scopes, actor->scopes, rule);
        return RC_FORBIDDEN;
    }
    if (actor->org_id[0] && !target->org_id[0]) {
        snprintf(err, errlen,
                 "organization: the token is unbound, but this token is bound to one "
                 "organization; %s",
                 rule);
        return RC_FORBIDDEN;
    }
    if (actor->org_id[0] && strcmp(actor->org_id, target->org_id) != 0) {
        snprintf(err, errlen,
                 "organization: the token is bound to another organization than this token; %s",
                 rule);
        return RC_FORBIDDEN;
    }
    int64_t limit = reach_expiry(actor), until = reach_expiry(target);
    if (limit && (!until || until > limit)) {
        char when[TIMEFMT_SIZE];
        timefmt_iso8601(limit, when);
        snprintf(err, errlen, "expiresAt: the token %s, but this token expires at %s; %s",
                 until ? "expires later" : "never expires", when, rule);
        return RC_FORBIDDEN;
    }
    return RC_OK;
}

/* Normalise a space-separated scope list: known names only, each once, in table order. */
static enum rc normalize_scopes(const char *in, char out[STORE_SCOPES_SIZE], char *err,
                                size_t errlen)
{
    int wanted[SCOPE_COUNT] = {0};
    const char *p = in && *in ? in : "full";
    while (*p) {
        size_t n = strcspn(p, " ");
        char name[48];
        snprintf(name, sizeof name, "%.*s", (int)(n < sizeof name - 1 ? n : sizeof name - 1), p);
        int found = 0;
        for (size_t i = 0; i < SCOPE_COUNT; i++)
            if (strcmp(scopes[i].name, name) == 0)
                wanted[i] = found = 1;
        if (!found)
            return auth_check_scope(name, err, errlen);
        p += n;
        while (*p == ' ')
            p++;
    }
    size_t used = 0;
    out[0] = '\0';
    for (size_t i = 0; i < SCOPE_COUNT; i++)
        if (wanted[i])
            used += (size_t)snprintf(out + used, STORE_SCOPES_SIZE - used, "%s%s", used ? " " : "",
                                     scopes[i].name);
    if (!used) {
        snprintf(err, errlen, "scopes: give at least one scope");
        return RC_INVALID;
    }
    return RC_OK;
}

enum rc auth_issue_pat_spec(struct auth *a, const struct auth_pat_spec *spec, const char *ip,
                            char token_out[TOKEN_BUF_SIZE], struct store_token *row_out, char *err,
                            size_t errlen)
{
    struct store_token row = {0};
    struct store_token *list = NULL;
    size_t count = 0;
    int64_t now = auth_now(a);
    enum rc rc = auth_check_token_name(spec->name, err, errlen);
    if (rc != RC_OK)
        goto out;
    if ((rc = normalize_scopes(spec->scopes, row.scopes, err, errlen)) != RC_OK)
        goto out;
    if ((rc = auth_check_expiry(spec->expires_at, now, "expiresAt", err, errlen)) != RC_OK)
        goto out;
    if ((rc = store_tokens_for_user(a->store, spec->user_id, &list, &count)) != RC_OK) {
        snprintf(err, errlen, "cannot list tokens");
        goto out;
    }
    if (count >= AUTH_MAX_ACTIVE_TOKENS) {
        snprintf(err, errlen, "too many active tokens (at most %d): revoke unused ones first",
                 AUTH_MAX_ACTIVE_TOKENS);
        rc = RC_FORBIDDEN;
        goto out;
    }
    for (size_t i = 0; i < count; i++)
        if (strcmp(list[i].name, spec->name) == 0) {
            snprintf(err, errlen, "a token named \"%.100s\" already exists", spec->name);
            rc = RC_CONFLICT;
            goto out;
        }
    token_generate(TOKEN_KIND_PAT, token_out);
    token_new_id(TOKEN_ID_PREFIX, row.id);
    store_copy_field(row.user_id, sizeof row.user_id, spec->user_id);
    row.kind = TOKEN_KIND_PAT;
    store_copy_field(row.name, sizeof row.name, spec->name);
    token_display(token_out, TOKEN_LEN, row.display);
    digest_secret(&a->key, token_out, TOKEN_LEN, row.digest);
    store_copy_field(row.org_id, sizeof row.org_id, spec->org_id);
    row.created_at = now;
    row.expires_at = spec->expires_at;
    /* The check above is only for the common case: two creates at once can both pass it, and
     * the schema (a unique index over active tokens' names) lets one of them in. */
    if ((rc = store_token_insert(a->store, &row)) != RC_OK) {
        sodium_memzero(token_out, TOKEN_BUF_SIZE);
        if (rc == RC_CONFLICT)
            snprintf(err, errlen, "a token named \"%.100s\" already exists", spec->name);
        else
            snprintf(err, errlen, "cannot store the token");
        goto out;
    }
    json_t *detail = json_pack("{s:s, s:I}", "scopes", row.scopes, "expiresAt",
                               (json_int_t)row.expires_at);
    char *text = detail ? json_dumps(detail, JSON_COMPACT) : NULL;
    auth_audit(a, "token.created", spec->user_id, row.id, row.org_id, ip, text);
    free(text);
    json_decref(detail);
    if (row_out)
        *row_out = row;
out:
    store_free_list(list);
    return rc;
}

enum rc auth_rotate(struct auth *a, const struct store_token *actor, const char *user_id,
                    const char *token_id, int64_t grace_seconds, const char *ip,
                    char token_out[TOKEN_BUF_SIZE], struct store_token *row_out, char *err,
                    size_t errlen)
{
    struct store_token row;
    char read_digest[DIGEST_HEX_SIZE];
    int64_t now = auth_now(a);
    snprintf(err, errlen, "no active token of yours has that id");
    if (grace_seconds < 0 || grace_seconds > AUTH_MAX_GRACE_SECONDS) {
        snprintf(err, errlen, "graceSeconds: must be from 0 to %d", AUTH_MAX_GRACE_SECONDS);
        return RC_INVALID;
    }
    enum rc rc = store_token_by_id(a->store, user_id, token_id, &row);
    if (rc != RC_OK)
        return rc;
    if (row.revoked_at || (row.expires_at && row.expires_at <= now))
        return RC_NOT_FOUND;
    if (row.kind != TOKEN_KIND_PAT) {
        snprintf(err, errlen,
                 "an OAuth login renews itself (its client refreshes the access token), so its "
                 "token cannot be rotated; for a token to rotate, create a personal access "
                 "token");
        return RC_INVALID;
    }
    if ((rc = auth_check_reach(actor, &row, err, errlen)) != RC_OK)
        return rc;
    /* Rotations of one token that race each other must leave exactly one winner, whose new
     * secret is the one that works. Those the server happens to run one after the other
     * would each succeed and hand out a secret the next one kills: so a token rotated less
     * than AUTH_ROTATE_INTERVAL ago is not rotated again, and two that really run at once
     * are settled by the store, which rotates only from the secret read here. */
    if (row.rotated_at && now - row.rotated_at < AUTH_ROTATE_INTERVAL) {
        snprintf(err, errlen,
                 "the token was rotated by another request %lld seconds ago; its new secret "
                 "went to that request (rotate again after %d seconds if that one is lost)",
                 (long long)(now - row.rotated_at), AUTH_ROTATE_INTERVAL);
        return RC_CONFLICT;
    }
    /* The current secret becomes the previous one; an older previous secret is dropped. */
    store_copy_field(read_digest, sizeof read_digest, row.digest);
    if (grace_seconds > 0) {
        store_copy_field(row.previous_digest, sizeof row.previous_digest, row.digest);
        row.previous_expires_at = now + grace_seconds;
    } else {
        row.previous_digest[0] = '\0';
        row.previous_expires_at = 0;
    }
    token_generate(TOKEN_KIND_PAT, token_out);
    token_display(token_out, TOKEN_LEN, row.display);
    digest_secret(&a->key, token_out, TOKEN_LEN, row.digest);
    row.rotated_at = now;
    /* Only from the secret read above: of concurrent rotations exactly one wins. */
    if ((rc = store_token_rotate(a->store, &row, read_digest)) != RC_OK) {
        sodium_memzero(token_out, TOKEN_BUF_SIZE);
        if (rc == RC_CONFLICT)
            snprintf(err, errlen,
                     "the token was rotated by another request meanwhile; its new secret went "
                     "to that request");
        return rc;
    }
    char detail[96];
    snprintf(detail, sizeof detail, "{\"graceSeconds\":%lld}", (long long)grace_seconds);
    auth_audit(a, "token.rotated", user_id, row.id, row.org_id, ip, detail);
    if (row_out)
        *row_out = row;
    return RC_OK;
}

enum rc auth_revoke_for(struct auth *a, const char *owner_id, const char *token_id,
                        const char *actor_id, const char *org_id, const char *ip)
{
    enum rc rc = store_token_revoke(a->store, owner_id, token_id, auth_now(a));
    if (rc != RC_OK)
        return rc;
    json_t *detail = json_pack("{s:s, s:s}", "reason", "admin", "by", actor_id ? actor_id : "");
    char *text = detail ? json_dumps(detail, JSON_COMPACT) : NULL;
    auth_audit(a, "token.revoked", owner_id, token_id, org_id, ip, text);
    free(text);
    json_decref(detail);
    return RC_OK;
}

/* Revoke the token a leaked secret belongs to, when the secret is valid now. */
static void revoke_leaked(struct auth *a, const char *secret, const char *ip, int64_t now)
{
    size_t len = strnlen(secret, TOKEN_MAX_LEN + 1);
    enum token_kind kind;
    if (token_parse(secret, len, &kind) != RC_OK || kind != TOKEN_KIND_PAT)
        return;
    char digest[DIGEST_HEX_SIZE];
    digest_secret(&a->key, secret, len, digest);
    struct store_token tok;
    struct store_user owner;
    if (store_token_lookup(a->store, digest, &tok, &owner) != RC_OK)
        return;
    int current = digest_equal(digest, tok.digest);
    int previous = !current && tok.previous_digest[0] &&
                   digest_equal(digest, tok.previous_digest) && tok.previous_expires_at > now;
    if ((!current && !previous) || tok.revoked_at || (tok.expires_at && tok.expires_at <= now))
        return;
    if (store_token_revoke(a->store, tok.user_id, tok.id, now) != RC_OK)
        return;
    json_t *detail = json_pack("{s:s, s:s}", "reason", "leak-report", "source", ip ? ip : "");
    char *text = detail ? json_dumps(detail, JSON_COMPACT) : NULL;
    auth_audit(a, "token.revoked", tok.user_id, tok.id, tok.org_id, ip, text);
    free(text);
    json_decref(detail);
    log_warn("auth: token %s revoked after a leak report from %s", tok.id, ip ? ip : "-");
}

enum rc auth_report_leaked(struct auth *a, const char *const tokens[], size_t n, const char *ip,
                           int *retry_after)
{
    int64_t now = auth_now(a);
    int left = auth_throttle_blocked(a->report_throttle, ip ? ip : "", now);
    if (left > 0) {
        if (retry_after)
            *retry_after = left;
        return RC_THROTTLED;
    }
    /* Every report counts, valid or not: the answer must not help anyone test tokens. */
    auth_throttle_fail(a->report_throttle, ip ? ip : "", now);
    for (size_t i = 0; i < n; i++)
        if (tokens[i])
            revoke_leaked(a, tokens[i], ip, now);
    return RC_OK;
}

/* --- seen set -------------------------------------------------------------------------- */

struct auth_seen {
    _Atomic uint64_t slots[SEEN_SLOTS];
};

struct auth_seen *auth_seen_new(void) { return calloc(1, sizeof(struct auth_seen)); }

void auth_seen_free(struct auth_seen *s) { free(s); }

int auth_seen_check(struct auth_seen *s, const char *token_id, const char *ip)
{
    uint64_t h = 14695981039346656037ull; /* FNV-1a, 64 bits */
    for (const char *p = token_id; *p; p++)
        h = (h ^ (unsigned char)*p) * 1099511628211ull;
    h = (h ^ 0xff) * 1099511628211ull;
    for (const char *p = ip ? ip : ""; *p; p++)
        h = (h ^ (unsigned char)*p) * 1099511628211ull;
    h |= 1; /* 0 marks an empty slot */
    _Atomic uint64_t *slot = &s->slots[h % SEEN_SLOTS];
    if (atomic_load_explicit(slot, memory_order_relaxed) == h)
        return 1;
    /* A race or an eviction only costs one more idempotent insert. */
    atomic_store_explicit(slot, h, memory_order_relaxed);
    return 0;
}
