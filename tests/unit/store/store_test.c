/* store_test.c: the store conformance suite. Every backend must pass it unchanged: it runs on
 * SQLite by default, and on the database named by PCC_TEST_DB_URL when that is set. */
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <criterion/criterion.h>
#include <sodium.h>

#include "store.h"

static struct store *st;
static char dir[] = "/tmp/pcc-store-XXXXXX";

static void open_store(void)
{
    cr_assert(sodium_init() >= 0);
    char url[256], err[256] = "";
    const char *env = getenv("PCC_TEST_DB_URL");
    if (env && *env) {
        snprintf(url, sizeof url, "%s", env);
    } else {
        cr_assert(mkdtemp(dir));
        snprintf(url, sizeof url, "sqlite:%s/pcc.db", dir);
    }
    cr_assert_eq(store_open(url, &st, err, sizeof err), RC_OK, "%s", err);
    int applied = -1;
    cr_assert_eq(store_migrate(st, &applied, err, sizeof err), RC_OK, "%s", err);
}

static void close_store(void)
{
    store_close(st);
    st = NULL;
}

TestSuite(store, .init = open_store, .fini = close_store);

/* Unique values per call, so the suite also runs against a shared PostgreSQL database. */
static void unique(char *out, size_t size, const char *prefix)
{
    char r[13];
    token_random_base62(r, 12);
    r[12] = '\0';
    snprintf(out, size, "%s%s", prefix, r);
}

static struct store_user make_user(void)
{
    struct store_user u = {0};
    token_new_id("usr_", u.id);
    char local[64];
    unique(local, sizeof local, "u");
    snprintf(u.email, sizeof u.email, "%s@example.com", local);
    snprintf(u.name, sizeof u.name, "User %s", local);
    u.created_at = 1700000000;
    cr_assert_eq(store_user_create(st, &u), RC_OK, "%s", store_last_error(st));
    return u;
}

static struct store_org make_org(void)
{
    struct store_org o = {0};
    token_new_id("org_", o.id);
    char slug[64];
    unique(slug, sizeof slug, "org-");
    for (char *p = slug; *p; p++)
        if (*p >= 'A' && *p <= 'Z')
            *p = (char)(*p - 'A' + 'a');
    snprintf(o.name, sizeof o.name, "%s", slug);
    snprintf(o.verbose_name, sizeof o.verbose_name, "Org %s", slug);
    o.created_at = 1700000000;
    cr_assert_eq(store_org_create(st, &o), RC_OK, "%s", store_last_error(st));
    return o;
}

static struct store_token make_token(const char *user_id, const char *name)
{
    struct store_token t = {0};
    token_new_id("tok_", t.id);
    snprintf(t.user_id, sizeof t.user_id, "%s", user_id);
    t.kind = TOKEN_KIND_PAT;
    snprintf(t.name, sizeof t.name, "%s", name);
    snprintf(t.display, sizeof t.display, "pcc_pat_abcd...wxyz");
    char secret[TOKEN_BUF_SIZE] = {0};
    token_generate(TOKEN_KIND_PAT, secret);
    struct digest_key k = {{0}};
    digest_secret(&k, secret, TOKEN_LEN, t.digest);
    snprintf(t.scopes, sizeof t.scopes, "full");
    static int64_t clock_tick = 1700000100; /* distinct times: lists are ordered by them */
    t.created_at = clock_tick++;
    cr_assert_eq(store_token_insert(st, &t), RC_OK, "%s", store_last_error(st));
    return t;
}

Test(store, migrate_is_idempotent)
{
    char err[256];
    int applied = -1;
    cr_assert_eq(store_migrate(st, &applied, err, sizeof err), RC_OK, "%s", err);
    cr_assert_eq(applied, 0);
}

Test(store, users_round_trip_and_unique_email)
{
    struct store_user u = make_user(), got;
    cr_assert_eq(store_user_by_email(st, u.email, &got), RC_OK);
    cr_assert_str_eq(got.id, u.id);
    cr_assert_str_eq(got.name, u.name);
    cr_assert_eq(got.created_at, u.created_at);
    cr_assert_eq(store_user_by_id(st, u.id, &got), RC_OK);
    cr_assert_str_eq(got.email, u.email);
    struct store_user dup = u;
    token_new_id("usr_", dup.id);
    cr_assert_eq(store_user_create(st, &dup), RC_CONFLICT);
    cr_assert_eq(store_user_by_email(st, "nobody@example.com", &got), RC_NOT_FOUND);
}

Test(store, orgs_and_memberships)
{
    struct store_user u = make_user(), other = make_user();
    struct store_org a = make_org(), b = make_org(), got;
    cr_assert_eq(store_org_by_name(st, a.name, &got), RC_OK);
    cr_assert_str_eq(got.verbose_name, a.verbose_name);
    struct store_org dup = a;
    token_new_id("org_", dup.id);
    cr_assert_eq(store_org_create(st, &dup), RC_CONFLICT);

    cr_assert_eq(store_membership_put(st, u.id, b.id, "member", 10), RC_OK);
    cr_assert_eq(store_membership_put(st, u.id, a.id, "admin", 20), RC_OK);
    struct store_org *list = NULL;
    size_t n = 0;
    cr_assert_eq(store_orgs_for_user(st, u.id, &list, &n), RC_OK);
    cr_assert_eq(n, 2);
    /* Order of joining: the first is the default organization. */
    cr_assert_str_eq(list[0].name, b.name);
    cr_assert_str_eq(list[0].role, "member");
    cr_assert_str_eq(list[1].name, a.name);
    store_free_list(list);

    cr_assert_eq(store_org_for_member(st, u.id, a.name, &got), RC_OK);
    cr_assert_str_eq(got.role, "admin");
    cr_assert_eq(store_org_for_member(st, other.id, a.name, &got), RC_NOT_FOUND);
    cr_assert_eq(store_org_for_member(st, u.id, "no-such-org", &got), RC_NOT_FOUND);

    cr_assert_eq(store_membership_put(st, u.id, a.id, "member", 30), RC_OK);
    cr_assert_eq(store_org_for_member(st, u.id, a.name, &got), RC_OK);
    cr_assert_str_eq(got.role, "member");
    cr_assert_eq(store_membership_put(st, u.id, a.id, "owner", 30), RC_CONFLICT);

    cr_assert_eq(store_org_set_daily_key(st, a.id, "n0nce:c1pher"), RC_OK);
    cr_assert_eq(store_org_by_name(st, a.name, &got), RC_OK);
    cr_assert_str_eq(got.daily_key_sealed, "n0nce:c1pher");
    cr_assert_eq(store_org_set_daily_key(st, "org_missing", "x"), RC_NOT_FOUND);
}

Test(store, tokens_lookup_touch_revoke)
{
    struct store_user u = make_user(), other = make_user();
    struct store_token t = make_token(u.id, "ci"), got;
    struct store_user owner;
    cr_assert_eq(store_token_lookup(st, t.digest, &got, &owner), RC_OK);
    cr_assert_str_eq(got.id, t.id);
    cr_assert_str_eq(got.name, "ci");
    cr_assert_str_eq(got.org_id, "");
    cr_assert_eq(got.revoked_at, 0);
    cr_assert_eq(got.last_used_at, 0);
    cr_assert_str_eq(owner.email, u.email);

    cr_assert_eq(store_token_touch(st, t.id, 1700000200, "10.0.0.1", "curl/8"), RC_OK);
    cr_assert_eq(store_token_by_id(st, u.id, t.id, &got), RC_OK);
    cr_assert_eq(got.last_used_at, 1700000200);
    cr_assert_str_eq(got.last_used_ip, "10.0.0.1");
    cr_assert_str_eq(got.last_used_agent, "curl/8");

    struct store_token dup = t;
    token_new_id("tok_", dup.id);
    cr_assert_eq(store_token_insert(st, &dup), RC_CONFLICT, "digests are unique");

    /* Only the owner can revoke, and only once. */
    cr_assert_eq(store_token_revoke(st, other.id, t.id, 1700000300), RC_NOT_FOUND);
    cr_assert_eq(store_token_by_id(st, other.id, t.id, &got), RC_NOT_FOUND);
    cr_assert_eq(store_token_revoke(st, u.id, t.id, 1700000300), RC_OK);
    cr_assert_eq(store_token_revoke(st, u.id, t.id, 1700000400), RC_NOT_FOUND);
    cr_assert_eq(store_token_lookup(st, t.digest, &got, &owner), RC_OK);
    cr_assert_eq(got.revoked_at, 1700000300);
    cr_assert_eq(store_token_lookup(st, "00", &got, &owner), RC_NOT_FOUND);
}

Test(store, token_lists_hold_active_tokens_in_creation_order)
{
    struct store_user u = make_user();
    struct store_token a = make_token(u.id, "a"), b = make_token(u.id, "b");
    make_token(u.id, "c");
    cr_assert_eq(store_token_revoke(st, u.id, b.id, 5), RC_OK);
    struct store_token *list = NULL;
    size_t n = 0;
    cr_assert_eq(store_tokens_for_user(st, u.id, &list, &n), RC_OK);
    cr_assert_eq(n, 2);
    cr_assert_str_eq(list[0].name, a.name);
    cr_assert_str_eq(list[1].name, "c");
    store_free_list(list);
}

Test(store, token_org_binding)
{
    struct store_user u = make_user();
    struct store_org o = make_org();
    struct store_token t = {0}, got;
    struct store_user owner;
    token_new_id("tok_", t.id);
    snprintf(t.user_id, sizeof t.user_id, "%s", u.id);
    snprintf(t.name, sizeof t.name, "bound");
    snprintf(t.display, sizeof t.display, "pcc_pat_x...y");
    unique(t.digest, sizeof t.digest, "ab12");
    snprintf(t.scopes, sizeof t.scopes, "read");
    snprintf(t.org_id, sizeof t.org_id, "%s", o.id);
    t.expires_at = 1800000000;
    cr_assert_eq(store_token_insert(st, &t), RC_OK, "%s", store_last_error(st));
    cr_assert_eq(store_token_lookup(st, t.digest, &got, &owner), RC_OK);
    cr_assert_str_eq(got.org_id, o.id);
    cr_assert_str_eq(got.scopes, "read");
    cr_assert_eq(got.expires_at, 1800000000);
}

Test(store, audit_appends_in_order)
{
    struct store_user u = make_user();
    int64_t ids[3];
    for (int i = 0; i < 3; i++) {
        struct store_audit ev = {0};
        ev.at = 100 + i;
        snprintf(ev.event, sizeof ev.event, "test.event%d", i);
        snprintf(ev.user_id, sizeof ev.user_id, "%s", u.id);
        snprintf(ev.ip, sizeof ev.ip, "127.0.0.1");
        cr_assert_eq(store_audit_append(st, &ev), RC_OK);
        ids[i] = ev.id;
        if (i)
            cr_assert_gt(ids[i], ids[i - 1]);
    }
    struct store_audit *list = NULL;
    size_t n = 0;
    cr_assert_eq(store_audit_for_user(st, u.id, 0, 10, &list, &n), RC_OK);
    cr_assert_eq(n, 3);
    cr_assert_str_eq(list[0].event, "test.event2"); /* newest first */
    cr_assert_str_eq(list[0].detail, "{}");
    store_free_list(list);
    cr_assert_eq(store_audit_for_user(st, u.id, ids[2], 10, &list, &n), RC_OK);
    cr_assert_eq(n, 2, "paging by id");
    store_free_list(list);
}

struct writer_arg {
    const char *user_id;
    int index;
    int failures;
};

static void *writer(void *p)
{
    struct writer_arg *a = p;
    for (int i = 0; i < 25; i++) {
        struct store_token t = {0};
        token_new_id("tok_", t.id);
        snprintf(t.user_id, sizeof t.user_id, "%s", a->user_id);
        snprintf(t.name, sizeof t.name, "w%d-%d", a->index, i);
        snprintf(t.display, sizeof t.display, "x");
        snprintf(t.digest, sizeof t.digest, "%s", t.id); /* unique */
        snprintf(t.scopes, sizeof t.scopes, "full");
        if (store_token_insert(st, &t) != RC_OK)
            a->failures++;
        struct store_token *list = NULL;
        size_t n = 0;
        if (store_tokens_for_user(st, a->user_id, &list, &n) != RC_OK)
            a->failures++;
        store_free_list(list);
    }
    return NULL;
}

Test(store, concurrent_writers_lose_nothing)
{
    struct store_user u = make_user();
    enum { THREADS = 8 };
    pthread_t th[THREADS];
    struct writer_arg args[THREADS];
    for (int i = 0; i < THREADS; i++) {
        args[i] = (struct writer_arg){u.id, i, 0};
        pthread_create(&th[i], NULL, writer, &args[i]);
    }
    for (int i = 0; i < THREADS; i++) {
        pthread_join(th[i], NULL);
        cr_expect_eq(args[i].failures, 0, "thread %d", i);
    }
    struct store_token *list = NULL;
    size_t n = 0;
    cr_assert_eq(store_tokens_for_user(st, u.id, &list, &n), RC_OK);
    cr_assert_eq(n, THREADS * 25);
    store_free_list(list);
}

/* Two threads fail differently, one after the other, then each reads its own detail: a 5xx log
 * line must never carry another request's error. */
struct error_arg {
    pthread_barrier_t *failed, *both_failed;
    const struct store_user *taken_user;
    const struct store_org *taken_org;
    enum rc rc;
    char seen[STORE_ERROR_SIZE];
};

static void *fail_on_email(void *arg_)
{
    struct error_arg *a = arg_;
    struct store_user dup = *a->taken_user;
    token_new_id("usr_", dup.id);
    a->rc = store_user_create(st, &dup); /* the email is taken */
    pthread_barrier_wait(a->failed);     /* now the other thread fails */
    pthread_barrier_wait(a->both_failed);
    snprintf(a->seen, sizeof a->seen, "%s", store_last_error(st));
    return NULL;
}

static void *fail_on_org(void *arg_)
{
    struct error_arg *a = arg_;
    pthread_barrier_wait(a->failed);
    struct store_org dup = *a->taken_org;
    token_new_id("org_", dup.id);
    a->rc = store_org_create(st, &dup); /* the slug is taken */
    pthread_barrier_wait(a->both_failed);
    snprintf(a->seen, sizeof a->seen, "%s", store_last_error(st));
    return NULL;
}

Test(store, each_thread_reads_its_own_error_detail)
{
    struct store_user u = make_user();
    struct store_org o = make_org();
    pthread_barrier_t failed, both_failed;
    pthread_barrier_init(&failed, NULL, 2);
    pthread_barrier_init(&both_failed, NULL, 2);
    struct error_arg a = {&failed, &both_failed, &u, &o, RC_OK, ""};
    struct error_arg b = a;
    pthread_t ta, tb;
    pthread_create(&ta, NULL, fail_on_email, &a);
    pthread_create(&tb, NULL, fail_on_org, &b);
    pthread_join(ta, NULL);
    pthread_join(tb, NULL);
    pthread_barrier_destroy(&failed);
    pthread_barrier_destroy(&both_failed);
    cr_assert_eq(a.rc, RC_CONFLICT);
    cr_assert_eq(b.rc, RC_CONFLICT);
    cr_expect(strstr(a.seen, "email") && !strstr(a.seen, "organizations"),
              "the email failure reads: %s", a.seen);
    cr_expect(strstr(b.seen, "organizations") && !strstr(b.seen, "email"),
              "the organization failure reads: %s", b.seen);
    /* This thread made no failing call: no detail, not the others'. */
    cr_expect_str_empty(store_last_error(st));
}

/* --- platform tables: properties, API keys, secrets, services ------------------------------ */

static struct store_api_key make_api_key(const char *org_id, const char *kind, const char *name)
{
    struct store_api_key k = {0};
    token_new_id("key_", k.id);
    snprintf(k.org_id, sizeof k.org_id, "%s", org_id);
    snprintf(k.kind, sizeof k.kind, "%s", kind);
    snprintf(k.name, sizeof k.name, "%s", name);
    if (strcmp(kind, "public") == 0)
        unique(k.public_value, sizeof k.public_value, "pk_");
    snprintf(k.display, sizeof k.display, "%.2s_abcd...wxyz",
             kind[0] == 'p' && kind[1] == 'u' ? "pk" : "sk");
    unique(k.digest, sizeof k.digest, "d1g");
    snprintf(k.created_by, sizeof k.created_by, "usr_creator");
    static int64_t clock_tick = 1700001000; /* distinct times: lists are ordered by them */
    k.created_at = clock_tick++;
    cr_assert_eq(store_api_key_insert(st, &k), RC_OK, "%s", store_last_error(st));
    return k;
}

Test(store, org_properties_put_and_replace)
{
    struct store_org o = make_org(), other = make_org();
    struct store_property *list = NULL;
    size_t n = 99;
    cr_assert_eq(store_org_properties(st, o.id, &list, &n), RC_OK);
    cr_assert_eq(n, 0, "nothing set yet");
    store_free_list(list);
    cr_assert_eq(store_org_property_put(st, o.id, "defaultRegion", "eu-central", 10), RC_OK);
    cr_assert_eq(store_org_property_put(st, o.id, "defaultRegion", "us-east", 20), RC_OK);
    cr_assert_eq(store_org_property_put(st, other.id, "defaultRegion", "ap-south", 30), RC_OK);
    cr_assert_eq(store_org_properties(st, o.id, &list, &n), RC_OK);
    cr_assert_eq(n, 1, "a second put replaces the value");
    cr_assert_str_eq(list[0].name, "defaultRegion");
    cr_assert_str_eq(list[0].value, "us-east");
    cr_assert_eq(list[0].updated_at, 20);
    store_free_list(list);
    cr_assert_eq(store_org_property_put(st, "org_missing", "defaultRegion", "x", 1), RC_CONFLICT,
                 "the organization must exist");
}

Test(store, api_keys_lookup_list_and_soft_revoke)
{
    struct store_org o = make_org(), other = make_org();
    struct store_api_key pub = make_api_key(o.id, "public", "web app");
    struct store_api_key priv = make_api_key(o.id, "private", "ci");
    make_api_key(other.id, "public", "elsewhere");

    struct store_api_key got;
    cr_assert_eq(store_api_key_lookup(st, pub.digest, &got), RC_OK);
    cr_assert_str_eq(got.id, pub.id);
    cr_assert_str_eq(got.org_id, o.id);
    cr_assert_str_eq(got.kind, "public");
    cr_assert_str_eq(got.public_value, pub.public_value);
    cr_assert_str_eq(got.created_by, "usr_creator");
    cr_assert_eq(got.revoked_at, 0);
    cr_assert_eq(store_api_key_lookup(st, priv.digest, &got), RC_OK);
    cr_assert_str_eq(got.public_value, "", "private keys keep no value");
    cr_assert_eq(store_api_key_lookup(st, "00", &got), RC_NOT_FOUND);

    struct store_api_key dup = pub;
    token_new_id("key_", dup.id);
    cr_assert_eq(store_api_key_insert(st, &dup), RC_CONFLICT, "digests are unique");
    dup = pub;
    token_new_id("key_", dup.id);
    unique(dup.digest, sizeof dup.digest, "d1g");
    snprintf(dup.kind, sizeof dup.kind, "secret");
    cr_assert_eq(store_api_key_insert(st, &dup), RC_CONFLICT, "kind is public or private");

    cr_assert_eq(store_api_key_touch(st, pub.id, 1700002000), RC_OK);
    /* Only the owning organization revokes, and only once; the row stays. */
    cr_assert_eq(store_api_key_revoke(st, other.id, pub.id, 1700003000), RC_NOT_FOUND);
    cr_assert_eq(store_api_key_revoke(st, o.id, pub.id, 1700003000), RC_OK);
    cr_assert_eq(store_api_key_revoke(st, o.id, pub.id, 1700004000), RC_NOT_FOUND);
    cr_assert_eq(store_api_key_lookup(st, pub.digest, &got), RC_OK);
    cr_assert_eq(got.revoked_at, 1700003000);
    cr_assert_eq(got.last_used_at, 1700002000, "audit fields survive revocation");

    struct store_api_key *list = NULL;
    size_t n = 0;
    cr_assert_eq(store_api_keys_for_org(st, o.id, &list, &n), RC_OK);
    cr_assert_eq(n, 2, "revoked keys are still listed");
    cr_assert_str_eq(list[0].id, pub.id, "oldest first");
    cr_assert_eq(list[0].revoked_at, 1700003000);
    cr_assert_str_eq(list[1].id, priv.id);
    store_free_list(list);
}

static struct store_secret_set new_set(const char *org_id, const char *name, const char *kind,
                                       const char *region, int64_t now)
{
    struct store_secret_set set = {0};
    token_new_id("set_", set.id);
    snprintf(set.org_id, sizeof set.org_id, "%s", org_id);
    snprintf(set.name, sizeof set.name, "%s", name);
    snprintf(set.kind, sizeof set.kind, "%s", kind);
    snprintf(set.region, sizeof set.region, "%s", region);
    set.created_at = set.updated_at = now;
    return set;
}

static struct store_secret new_secret(const char *name, int64_t now)
{
    struct store_secret sec = {0};
    snprintf(sec.name, sizeof sec.name, "%s", name);
    unique(sec.nonce, sizeof sec.nonce, "n0nce");
    sec.created_at = sec.updated_at = now;
    return sec;
}

Test(store, secret_sets_upsert_keys_and_keep_kind_and_region)
{
    struct store_org o = make_org(), other = make_org();
    struct store_secret_set set = new_set(o.id, "prod", "secret", "us-west", 100);
    const char *first_id = NULL;
    char id[ID_BUF_SIZE];
    struct store_secret a = new_secret("API_KEY", 100);
    cr_assert_eq(store_secret_put(st, &set, &a, "c1phe4"), RC_OK, "%s", store_last_error(st));
    snprintf(id, sizeof id, "%s", set.id);
    first_id = id;

    /* A second key goes into the same set; the set's id survives, updated_at moves. */
    struct store_secret_set again = new_set(o.id, "prod", "secret", "us-west", 200);
    struct store_secret b = new_secret("OTHER", 200);
    cr_assert_eq(store_secret_put(st, &again, &b, "beef"), RC_OK, "%s", store_last_error(st));
    cr_assert_str_eq(again.id, first_id);
    cr_assert_eq(again.created_at, 100);
    cr_assert_eq(again.updated_at, 200);

    /* Replacing a key keeps one row with the new value. */
    struct store_secret a2 = new_secret("API_KEY", 300);
    again = new_set(o.id, "prod", "secret", "us-west", 300);
    cr_assert_eq(store_secret_put(st, &again, &a2, "f00d"), RC_OK);
    struct store_secret got;
    char *cipher = NULL;
    cr_assert_eq(store_secret_get(st, first_id, "API_KEY", &got, &cipher), RC_OK);
    cr_assert_str_eq(cipher, "f00d");
    cr_assert_str_eq(got.nonce, a2.nonce);
    cr_assert_eq(got.created_at, 100);
    cr_assert_eq(got.updated_at, 300);
    free(cipher);
    cr_assert_eq(store_secret_get(st, first_id, "MISSING", &got, &cipher), RC_NOT_FOUND);
    cr_assert_null(cipher);

    /* Another kind or region for the set: refused, nothing written, the stored row returned. */
    struct store_secret_set wrong = new_set(o.id, "prod", "imagePullSecret", "us-west", 400);
    struct store_secret c = new_secret("THIRD", 400);
    cr_assert_eq(store_secret_put(st, &wrong, &c, "00"), RC_CONFLICT);
    cr_assert_str_eq(wrong.kind, "secret");
    wrong = new_set(o.id, "prod", "secret", "eu-central", 400);
    cr_assert_eq(store_secret_put(st, &wrong, &c, "00"), RC_CONFLICT);
    cr_assert_str_eq(wrong.region, "us-west");
    cr_assert_eq(wrong.updated_at, 300, "the refused put changed nothing");

    struct store_secret *names = NULL;
    size_t n = 0;
    cr_assert_eq(store_secret_names(st, first_id, &names, &n), RC_OK);
    cr_assert_eq(n, 2);
    cr_assert_str_eq(names[0].name, "API_KEY");
    cr_assert_str_eq(names[1].name, "OTHER");
    store_free_list(names);

    /* The same name in another organization is another set. */
    struct store_secret_set theirs = new_set(other.id, "prod", "imagePullSecret", "eu-central", 1);
    snprintf(theirs.host, sizeof theirs.host, "registry.example.com");
    struct store_secret auth = new_secret("auth", 1);
    cr_assert_eq(store_secret_put(st, &theirs, &auth, "aa"), RC_OK);
    cr_assert_str_neq(theirs.id, first_id);
    struct store_secret_set byname;
    cr_assert_eq(store_secret_set_by_name(st, other.id, "prod", &byname), RC_OK);
    cr_assert_str_eq(byname.host, "registry.example.com");
    cr_assert_str_eq(byname.kind, "imagePullSecret");
    cr_assert_eq(store_secret_set_by_name(st, o.id, "nope", &byname), RC_NOT_FOUND);

    struct store_secret_set east = new_set(o.id, "east-only", "secret", "us-east", 5);
    struct store_secret e = new_secret("K", 5);
    cr_assert_eq(store_secret_put(st, &east, &e, "01"), RC_OK);
    struct store_secret_set *sets = NULL;
    cr_assert_eq(store_secret_sets_for_org(st, o.id, "", &sets, &n), RC_OK);
    cr_assert_eq(n, 2);
    cr_assert_str_eq(sets[0].name, "east-only", "by name");
    cr_assert_str_eq(sets[1].name, "prod");
    store_free_list(sets);
    cr_assert_eq(store_secret_sets_for_org(st, o.id, "us-west", &sets, &n), RC_OK);
    cr_assert_eq(n, 1, "filtered by region");
    cr_assert_str_eq(sets[0].name, "prod");
    store_free_list(sets);

    int set_deleted = -1;
    cr_assert_eq(store_secret_delete(st, first_id, "OTHER", 500, &set_deleted), RC_OK);
    cr_assert_eq(set_deleted, 0, "API_KEY is left");
    cr_assert_eq(store_secret_delete(st, first_id, "OTHER", 500, &set_deleted), RC_NOT_FOUND);
    cr_assert_eq(store_secret_set_delete(st, other.id, "east-only"), RC_NOT_FOUND,
                 "another organization's set");
    cr_assert_eq(store_secret_set_delete(st, o.id, "prod"), RC_OK);
    cr_assert_eq(store_secret_set_delete(st, o.id, "prod"), RC_NOT_FOUND);
    cr_assert_eq(store_secret_names(st, first_id, &names, &n), RC_OK);
    cr_assert_eq(n, 0, "a deleted set takes its keys along");
    store_free_list(names);
    cr_assert_eq(store_secret_set_by_name(st, other.id, "prod", &byname), RC_OK);
}

static struct store_service new_service(const char *org_id, const char *name, const char *region)
{
    struct store_service svc = {0};
    token_new_id("svc_", svc.id);
    snprintf(svc.org_id, sizeof svc.org_id, "%s", org_id);
    snprintf(svc.name, sizeof svc.name, "%s", name);
    snprintf(svc.region, sizeof svc.region, "%s", region);
    svc.min_agents = 0;
    svc.max_agents = 5;
    svc.created_at = svc.updated_at = 1000;
    return svc;
}

static struct store_deployment new_deployment(const char *image, int64_t now)
{
    struct store_deployment d = {0};
    token_new_id("dep_", d.id);
    snprintf(d.image, sizeof d.image, "%s", image);
    snprintf(d.secret_set, sizeof d.secret_set, "prod");
    snprintf(d.agent_profile, sizeof d.agent_profile, "agent-1x");
    snprintf(d.krisp_viva_filter, sizeof d.krisp_viva_filter, "tel");
    snprintf(d.websocket_auth, sizeof d.websocket_auth, "token");
    d.max_session_duration = 7200;
    d.enable_krisp = 1;
    snprintf(d.created_by, sizeof d.created_by, "usr_x");
    d.created_at = now;
    return d;
}

Test(store, services_deploy_revisions_in_transactions)
{
    struct store_org o = make_org(), other = make_org();
    struct store_service svc = new_service(o.id, "my-agent", "us-west");
    struct store_deployment d1 = new_deployment("repo/agent:1", 1000);
    cr_assert_eq(store_service_create(st, &svc, &d1), RC_OK, "%s", store_last_error(st));
    cr_assert_eq(d1.revision, 1);
    cr_assert_str_eq(d1.service_id, svc.id);
    cr_assert_str_eq(svc.active_deployment_id, d1.id);

    struct store_service got;
    cr_assert_eq(store_service_by_name(st, o.id, "my-agent", &got), RC_OK);
    cr_assert_str_eq(got.id, svc.id);
    cr_assert_str_eq(got.region, "us-west");
    cr_assert_eq(got.max_agents, 5);
    cr_assert_str_eq(got.active_deployment_id, d1.id);
    cr_assert_eq(store_service_by_name(st, other.id, "my-agent", &got), RC_NOT_FOUND);

    /* A second create of the name fails as a whole: no stray deployment is left behind. */
    struct store_service dup = new_service(o.id, "my-agent", "us-east");
    struct store_deployment dd = new_deployment("repo/agent:dup", 1001);
    cr_assert_eq(store_service_create(st, &dup, &dd), RC_CONFLICT);
    struct store_deployment dgot;
    cr_assert_eq(store_deployment_by_id(st, dup.id, dd.id, &dgot), RC_NOT_FOUND);

    /* An update with a new deployment: the next revision becomes active. */
    struct store_deployment d2 = new_deployment("repo/agent:2", 2000);
    svc.max_agents = 7;
    svc.updated_at = 2000;
    cr_assert_eq(store_service_update(st, &svc, &d2), RC_OK, "%s", store_last_error(st));
    cr_assert_eq(d2.revision, 2);
    cr_assert_eq(store_service_by_name(st, o.id, "my-agent", &got), RC_OK);
    cr_assert_str_eq(got.active_deployment_id, d2.id);
    cr_assert_eq(got.max_agents, 7);
    cr_assert_eq(got.updated_at, 2000);
    cr_assert_eq(got.created_at, 1000);

    /* Scaling only: no new deployment. */
    got.min_agents = 1;
    got.updated_at = 3000;
    cr_assert_eq(store_service_update(st, &got, NULL), RC_OK);
    cr_assert_eq(store_service_by_name(st, o.id, "my-agent", &got), RC_OK);
    cr_assert_eq(got.min_agents, 1);
    cr_assert_str_eq(got.active_deployment_id, d2.id);

    cr_assert_eq(store_deployment_by_id(st, svc.id, d1.id, &dgot), RC_OK);
    cr_assert_str_eq(dgot.image, "repo/agent:1");
    cr_assert_str_eq(dgot.secret_set, "prod");
    cr_assert_str_eq(dgot.image_pull_secret_set, "");
    cr_assert_str_eq(dgot.krisp_viva_filter, "tel");
    cr_assert_str_eq(dgot.websocket_auth, "token");
    cr_assert_eq(dgot.max_session_duration, 7200);
    cr_assert_eq(dgot.enable_krisp, 1);
    cr_assert_eq(dgot.created_at, 1000);
    struct store_deployment *deps = NULL;
    size_t n = 0;
    cr_assert_eq(store_deployments_for_service(st, svc.id, &deps, &n), RC_OK);
    cr_assert_eq(n, 2);
    cr_assert_eq(deps[0].revision, 2, "newest first");
    cr_assert_str_eq(deps[1].id, d1.id);
    store_free_list(deps);

    struct store_service east = new_service(o.id, "another", "us-east");
    struct store_deployment d3 = new_deployment("repo/other:1", 1);
    cr_assert_eq(store_service_create(st, &east, &d3), RC_OK);
    struct store_service *list = NULL;
    cr_assert_eq(store_services_for_org(st, o.id, "", &list, &n), RC_OK);
    cr_assert_eq(n, 2);
    cr_assert_str_eq(list[0].name, "another", "by name");
    store_free_list(list);
    cr_assert_eq(store_services_for_org(st, o.id, "us-west", &list, &n), RC_OK);
    cr_assert_eq(n, 1);
    cr_assert_str_eq(list[0].name, "my-agent");
    store_free_list(list);

    cr_assert_eq(store_service_delete(st, other.id, "my-agent"), RC_NOT_FOUND);
    cr_assert_eq(store_service_delete(st, o.id, "my-agent"), RC_OK);
    cr_assert_eq(store_service_delete(st, o.id, "my-agent"), RC_NOT_FOUND);
    cr_assert_eq(store_deployments_for_service(st, svc.id, &deps, &n), RC_OK);
    cr_assert_eq(n, 0, "a deleted service takes its deployments along");
    store_free_list(deps);
    /* An update of a deleted service writes nothing. */
    struct store_deployment d4 = new_deployment("repo/agent:4", 4000);
    cr_assert_eq(store_service_update(st, &svc, &d4), RC_NOT_FOUND);
    cr_assert_eq(store_deployment_by_id(st, svc.id, d4.id, &dgot), RC_NOT_FOUND);
    /* The name is free again. */
    struct store_service again = new_service(o.id, "my-agent", "eu-central");
    struct store_deployment d5 = new_deployment("repo/agent:5", 5000);
    cr_assert_eq(store_service_create(st, &again, &d5), RC_OK);
    cr_assert_eq(d5.revision, 1);
}

struct deployer_arg {
    struct store_service svc;
    int index;
    int ok;
    int conflicts;
    int failures;
};

static void *deployer(void *p)
{
    struct deployer_arg *a = p;
    for (int i = 0; i < 10; i++) {
        char image[64];
        snprintf(image, sizeof image, "repo/agent:%d-%d", a->index, i);
        struct store_deployment d = new_deployment(image, 1);
        enum rc rc = store_service_update(st, &a->svc, &d);
        if (rc == RC_OK)
            a->ok++;
        else if (rc == RC_CONFLICT)
            a->conflicts++;
        else
            a->failures++;
    }
    return NULL;
}

Test(store, concurrent_deploys_get_distinct_revisions)
{
    struct store_org o = make_org();
    struct store_service svc = new_service(o.id, "busy", "us-west");
    struct store_deployment first = new_deployment("repo/busy:0", 1);
    cr_assert_eq(store_service_create(st, &svc, &first), RC_OK);
    enum { THREADS = 6 };
    pthread_t th[THREADS];
    struct deployer_arg args[THREADS];
    for (int i = 0; i < THREADS; i++) {
        args[i] = (struct deployer_arg){svc, i, 0, 0, 0};
        pthread_create(&th[i], NULL, deployer, &args[i]);
    }
    int ok = 0;
    for (int i = 0; i < THREADS; i++) {
        pthread_join(th[i], NULL);
        cr_expect_eq(args[i].failures, 0, "thread %d", i);
        ok += args[i].ok;
    }
    struct store_deployment *deps = NULL;
    size_t n = 0;
    cr_assert_eq(store_deployments_for_service(st, svc.id, &deps, &n), RC_OK);
    cr_assert_eq(n, (size_t)ok + 1, "every acknowledged deploy is stored, nothing else");
    for (size_t i = 0; i < n; i++)
        cr_assert_eq(deps[i].revision, (int)(n - i), "revisions are dense and distinct");
    struct store_service got;
    cr_assert_eq(store_service_by_name(st, o.id, "busy", &got), RC_OK);
    cr_assert_str_eq(got.active_deployment_id, deps[0].id, "the newest revision is active");
    store_free_list(deps);
}

/* --- dashboard (migration 0004): passwords, web sessions, members ------------------------- */

Test(store, passwords_are_stored_per_user)
{
    struct store_user u = make_user(), got;
    char hash[STORE_PASSWORD_HASH_SIZE];
    cr_assert_eq(store_user_password_by_email(st, u.email, &got, hash), RC_OK);
    cr_expect_str_eq(got.id, u.id);
    cr_expect_str_eq(hash, "", "a user made without a password has none");
    const char *h = "$argon2id$v=19$m=65536,t=2,p=1$c2FsdHNhbHQ$aGFzaGhhc2g";
    cr_assert_eq(store_user_set_password(st, u.id, h), RC_OK, "%s", store_last_error(st));
    cr_assert_eq(store_user_password_by_email(st, u.email, &got, hash), RC_OK);
    cr_expect_str_eq(hash, h);
    cr_expect_eq(store_user_set_password(st, "usr_nobody", h), RC_NOT_FOUND);
    cr_expect_eq(store_user_password_by_email(st, "nobody@example.com", &got, hash), RC_NOT_FOUND);
}

Test(store, web_sessions_round_trip_touch_switch_and_delete)
{
    struct store_user u = make_user(), who;
    struct store_org o = make_org();
    struct store_web_session ws = {0}, got;
    char secret[TOKEN_BUF_SIZE];
    token_generate(TOKEN_KIND_PAT, secret);
    struct digest_key k = {{1}};
    digest_secret(&k, secret, TOKEN_LEN, ws.id);
    snprintf(ws.user_id, sizeof ws.user_id, "%s", u.id);
    ws.created_at = ws.last_seen_at = 1700000000;
    ws.expires_at = 1700604800;
    cr_assert_eq(store_web_session_insert(st, &ws), RC_OK, "%s", store_last_error(st));
    cr_expect_eq(store_web_session_insert(st, &ws), RC_CONFLICT);
    cr_assert_eq(store_web_session_lookup(st, ws.id, &got, &who), RC_OK);
    cr_expect_str_eq(got.user_id, u.id);
    cr_expect_str_eq(who.email, u.email);
    cr_expect_str_eq(got.active_org, "");
    cr_expect_eq(got.expires_at, ws.expires_at);
    cr_assert_eq(store_web_session_touch(st, ws.id, 1700000600), RC_OK);
    cr_assert_eq(store_web_session_set_org(st, ws.id, o.id), RC_OK);
    cr_assert_eq(store_web_session_lookup(st, ws.id, &got, &who), RC_OK);
    cr_expect_eq(got.last_seen_at, 1700000600);
    cr_expect_eq(got.created_at, 1700000000);
    cr_expect_str_eq(got.active_org, o.id);
    cr_assert_eq(store_web_session_delete(st, ws.id), RC_OK);
    cr_expect_eq(store_web_session_lookup(st, ws.id, &got, &who), RC_NOT_FOUND);
    cr_expect_eq(store_web_session_delete(st, ws.id), RC_NOT_FOUND);
    cr_expect_eq(store_web_session_touch(st, ws.id, 1700000700), RC_NOT_FOUND);
}

Test(store, members_roles_and_the_last_admin)
{
    struct store_org o = make_org();
    struct store_user a = make_user(), b = make_user(), outsider = make_user();
    cr_assert_eq(store_membership_put(st, a.id, o.id, "admin", 1700000000), RC_OK);
    cr_assert_eq(store_membership_put(st, b.id, o.id, "member", 1700000001), RC_OK);
    struct store_member *list = NULL;
    size_t n = 0;
    cr_assert_eq(store_members_of_org(st, o.id, &list, &n), RC_OK);
    cr_assert_eq(n, 2);
    cr_expect_str_eq(list[0].user.id, a.id, "admins first");
    cr_expect_str_eq(list[0].role, "admin");
    cr_expect_str_eq(list[1].user.email, b.email);
    cr_expect_str_eq(list[1].role, "member");
    cr_expect_eq(list[1].joined_at, 1700000001);
    store_free_list(list);

    /* The only admin can be neither demoted nor removed. */
    cr_expect_eq(store_membership_change(st, o.id, a.id, "member"), RC_FORBIDDEN);
    cr_expect_eq(store_membership_change(st, o.id, a.id, NULL), RC_FORBIDDEN);
    cr_expect_eq(store_membership_change(st, o.id, outsider.id, "member"), RC_NOT_FOUND);
    cr_expect_eq(store_membership_change(st, o.id, outsider.id, NULL), RC_NOT_FOUND);
    /* With a second admin, the first can step down, and then the second is the last. */
    cr_assert_eq(store_membership_change(st, o.id, b.id, "admin"), RC_OK, "%s",
                 store_last_error(st));
    cr_assert_eq(store_membership_change(st, o.id, a.id, "member"), RC_OK);
    cr_expect_eq(store_membership_change(st, o.id, b.id, NULL), RC_FORBIDDEN);
    cr_assert_eq(store_membership_change(st, o.id, a.id, NULL), RC_OK, "members can leave");
    cr_assert_eq(store_members_of_org(st, o.id, &list, &n), RC_OK);
    cr_assert_eq(n, 1);
    cr_expect_str_eq(list[0].user.id, b.id);
    cr_expect_str_eq(list[0].role, "admin");
    store_free_list(list);
    struct store_org got;
    cr_expect_eq(store_org_for_member(st, a.id, o.name, &got), RC_NOT_FOUND);
}

struct demotion {
    const char *org_id, *user_id;
    enum rc rc;
};

static void *demote(void *p)
{
    struct demotion *d = p;
    d->rc = store_membership_change(st, d->org_id, d->user_id, "member");
    return NULL;
}

Test(store, concurrent_demotions_keep_one_admin)
{
    for (int round = 0; round < 5; round++) {
        struct store_org o = make_org();
        struct store_user a = make_user(), b = make_user();
        cr_assert_eq(store_membership_put(st, a.id, o.id, "admin", 1700000000), RC_OK);
        cr_assert_eq(store_membership_put(st, b.id, o.id, "admin", 1700000000), RC_OK);
        struct demotion d[2] = {{o.id, a.id, RC_INTERNAL}, {o.id, b.id, RC_INTERNAL}};
        pthread_t t[2];
        for (int i = 0; i < 2; i++)
            cr_assert_eq(pthread_create(&t[i], NULL, demote, &d[i]), 0);
        for (int i = 0; i < 2; i++)
            pthread_join(t[i], NULL);
        cr_expect((d[0].rc == RC_OK) != (d[1].rc == RC_OK), "exactly one demotion wins: %s %s",
                  rc_name(d[0].rc), rc_name(d[1].rc));
        struct store_member *list = NULL;
        size_t n = 0, admins = 0;
        cr_assert_eq(store_members_of_org(st, o.id, &list, &n), RC_OK);
        for (size_t i = 0; i < n; i++)
            admins += strcmp(list[i].role, "admin") == 0;
        store_free_list(list);
        cr_expect_eq(admins, 1);
    }
}

/* --- token lifecycle (migration 0003) ------------------------------------------------------ */

Test(store, token_rotation_keeps_identity_and_finds_the_previous_digest)
{
    struct store_user u = make_user();
    struct store_token t = make_token(u.id, "rotating"), got;
    struct store_user owner;
    struct store_token r = t;
    char old_digest[DIGEST_HEX_SIZE];
    snprintf(old_digest, sizeof old_digest, "%s", t.digest);
    unique(r.digest, sizeof r.digest, "cd34");
    snprintf(r.display, sizeof r.display, "pcc_pat_new1...new2");
    snprintf(r.previous_digest, sizeof r.previous_digest, "%s", old_digest);
    r.previous_expires_at = 1700009999;
    r.rotated_at = 1700005000;
    cr_assert_eq(store_token_rotate(st, &r, old_digest), RC_OK, "%s", store_last_error(st));
    cr_assert_eq(store_token_lookup(st, r.digest, &got, &owner), RC_OK);
    cr_assert_str_eq(got.id, t.id);
    cr_assert_str_eq(got.display, "pcc_pat_new1...new2");
    cr_assert_str_eq(owner.kind, "human");
    cr_assert_eq(store_token_lookup(st, old_digest, &got, &owner), RC_OK, "previous digest");
    cr_assert_str_eq(got.id, t.id);
    cr_assert_str_eq(got.previous_digest, old_digest);
    cr_assert_eq(got.previous_expires_at, 1700009999);
    cr_assert_eq(got.rotated_at, 1700005000);
    /* Rotating again without a grace period drops the previous digest. */
    char second[DIGEST_HEX_SIZE];
    snprintf(second, sizeof second, "%s", r.digest);
    unique(r.digest, sizeof r.digest, "ef56");
    r.previous_digest[0] = '\0';
    r.previous_expires_at = 0;
    /* A rotation from a secret read before another rotation loses: one of two racing wins. */
    cr_assert_eq(store_token_rotate(st, &r, old_digest), RC_CONFLICT);
    cr_assert_eq(store_token_lookup(st, second, &got, &owner), RC_OK, "the loser changed nothing");
    cr_assert_eq(store_token_rotate(st, &r, second), RC_OK);
    cr_assert_eq(store_token_lookup(st, old_digest, &got, &owner), RC_NOT_FOUND);
    cr_assert_eq(store_token_lookup(st, second, &got, &owner), RC_NOT_FOUND);
    cr_assert_eq(store_token_revoke(st, u.id, t.id, 1700006000), RC_OK);
    cr_assert_eq(store_token_rotate(st, &r, r.digest), RC_NOT_FOUND,
                 "revoked tokens do not rotate");
}

/* Migration 0009: the schema, not a check before the insert, keeps active PAT names unique per
 * user, so concurrent creates cannot both get in. */
Test(store, active_token_names_are_unique_per_user)
{
    struct store_user u = make_user(), v = make_user();
    struct store_token first = make_token(u.id, "ci");
    struct store_token dup = first;
    token_new_id("tok_", dup.id);
    unique(dup.digest, sizeof dup.digest, "dup");
    cr_assert_eq(store_token_insert(st, &dup), RC_CONFLICT, "a second active \"ci\"");
    make_token(v.id, "ci"); /* another user's name is theirs */
    cr_assert_eq(store_token_revoke(st, u.id, first.id, 1700000500), RC_OK);
    cr_assert_eq(store_token_insert(st, &dup), RC_OK, "the name is free once revoked: %s",
                 store_last_error(st));
    /* OAuth access tokens carry their login's name, one per refresh. */
    struct store_token a = dup, b = dup;
    a.kind = b.kind = TOKEN_KIND_OAUTH_ACCESS;
    snprintf(a.name, sizeof a.name, "CLI login (x)");
    snprintf(b.name, sizeof b.name, "CLI login (x)");
    token_new_id("tok_", a.id);
    token_new_id("tok_", b.id);
    unique(a.digest, sizeof a.digest, "oa");
    unique(b.digest, sizeof b.digest, "ob");
    cr_assert_eq(store_token_insert(st, &a), RC_OK, "%s", store_last_error(st));
    cr_assert_eq(store_token_insert(st, &b), RC_OK, "%s", store_last_error(st));
}

Test(store, token_addresses_are_recorded_once)
{
    struct store_user u = make_user();
    struct store_token t = make_token(u.id, "roaming");
    cr_assert_eq(store_token_ip_add(st, t.id, "10.0.0.1", 1), RC_OK, "%s", store_last_error(st));
    cr_assert_eq(store_token_ip_add(st, t.id, "10.0.0.1", 2), RC_CONFLICT);
    cr_assert_eq(store_token_ip_add(st, t.id, "10.0.0.2", 3), RC_OK);
}

Test(store, org_tokens_policy_and_audit)
{
    struct store_user admin = make_user(), member = make_user(), outsider = make_user();
    struct store_org o = make_org(), other = make_org();
    cr_assert_eq(store_membership_put(st, admin.id, o.id, "admin", 1), RC_OK);
    cr_assert_eq(store_membership_put(st, member.id, o.id, "member", 1), RC_OK);
    cr_assert_eq(store_membership_put(st, member.id, other.id, "member", 1), RC_OK);
    struct store_token a = make_token(admin.id, "a"), m = make_token(member.id, "m");
    make_token(outsider.id, "x");
    struct store_token bound = {0};
    token_new_id("tok_", bound.id);
    snprintf(bound.user_id, sizeof bound.user_id, "%s", member.id);
    snprintf(bound.name, sizeof bound.name, "elsewhere");
    snprintf(bound.display, sizeof bound.display, "pcc_pat_x...y");
    unique(bound.digest, sizeof bound.digest, "0b0b");
    snprintf(bound.scopes, sizeof bound.scopes, "full");
    snprintf(bound.org_id, sizeof bound.org_id, "%s", other.id);
    bound.created_at = 1700009000;
    cr_assert_eq(store_token_insert(st, &bound), RC_OK);

    struct store_org_token *list = NULL;
    size_t n = 0;
    cr_assert_eq(store_tokens_for_org(st, o.id, &list, &n), RC_OK, "%s", store_last_error(st));
    cr_assert_eq(n, 2, "members' tokens, not the outsider's nor one bound elsewhere");
    cr_assert_str_eq(list[0].token.id, a.id);
    cr_assert_str_eq(list[0].owner_email, admin.email);
    cr_assert_str_eq(list[1].token.id, m.id);
    cr_assert_str_eq(list[1].owner_kind, "human");
    store_free_list(list);

    struct store_org got;
    cr_assert_eq(store_org_for_member(st, admin.id, o.name, &got), RC_OK);
    cr_assert_eq(got.token_policy.require_expiry, 0);
    struct store_token_policy p = {1, 90, 1, 1700000500};
    cr_assert_eq(store_token_policy_put(st, o.id, &p), RC_OK, "%s", store_last_error(st));
    cr_assert_eq(store_org_for_member(st, admin.id, o.name, &got), RC_OK);
    cr_assert_eq(got.token_policy.require_expiry, 1);
    cr_assert_eq(got.token_policy.max_lifetime_days, 90);
    cr_assert_eq(got.token_policy.require_binding, 1);
    cr_assert_eq(got.token_policy.updated_at, 1700000500);
    p.max_lifetime_days = 0;
    cr_assert_eq(store_token_policy_put(st, o.id, &p), RC_OK);
    cr_assert_eq(store_org_for_member(st, admin.id, o.name, &got), RC_OK);
    cr_assert_eq(got.token_policy.max_lifetime_days, 0);

    struct store_audit ev = {0};
    ev.at = 5;
    snprintf(ev.event, sizeof ev.event, "apikey.created");
    snprintf(ev.org_id, sizeof ev.org_id, "%s", o.id);
    cr_assert_eq(store_audit_append(st, &ev), RC_OK);
    ev.at = 6;
    snprintf(ev.event, sizeof ev.event, "apikey.revoked");
    cr_assert_eq(store_audit_append(st, &ev), RC_OK);
    struct store_audit *evs = NULL;
    cr_assert_eq(store_audit_for_org(st, o.id, 0, 10, &evs, &n), RC_OK, "%s", store_last_error(st));
    cr_assert_eq(n, 2);
    cr_assert_str_eq(evs[0].event, "apikey.revoked", "newest first");
    int64_t before = evs[0].id;
    store_free_list(evs);
    cr_assert_eq(store_audit_for_org(st, o.id, before, 10, &evs, &n), RC_OK);
    cr_assert_eq(n, 1);
    store_free_list(evs);
}

Test(store, service_accounts_are_org_owned_users)
{
    struct store_org o = make_org();
    struct store_user u = {0};
    token_new_id("usr_", u.id);
    char local[64];
    unique(local, sizeof local, "bot");
    snprintf(u.email, sizeof u.email, "%s@%s.service-account.invalid", local, o.name);
    u.created_at = 1700000000;
    struct store_service_account a = {0};
    snprintf(a.user_id, sizeof a.user_id, "%s", u.id);
    snprintf(a.org_id, sizeof a.org_id, "%s", o.id);
    snprintf(a.name, sizeof a.name, "%s", local);
    a.created_at = 1700000001;
    cr_assert_eq(store_service_account_create(st, &u, &a), RC_OK, "%s", store_last_error(st));
    struct store_user again = u;
    token_new_id("usr_", again.id);
    snprintf(again.email, sizeof again.email, "x%s", u.email);
    cr_assert_eq(store_service_account_create(st, &again, &a), RC_CONFLICT, "names are unique");
    struct store_user got;
    cr_assert_eq(store_user_by_id(st, u.id, &got), RC_OK);
    cr_assert_str_eq(got.kind, "service");
    struct store_org member_of;
    cr_assert_eq(store_org_for_member(st, u.id, o.name, &member_of), RC_OK);
    cr_assert_str_eq(member_of.role, "member");
    struct store_service_account *list = NULL, one;
    size_t n = 0;
    cr_assert_eq(store_service_accounts_for_org(st, o.id, &list, &n), RC_OK);
    cr_assert_eq(n, 1);
    cr_assert_str_eq(list[0].name, local);
    store_free_list(list);
    cr_assert_eq(store_service_account_by_name(st, o.id, local, &one), RC_OK);
    cr_assert_str_eq(one.user_id, u.id);
    struct store_token t = make_token(u.id, "pipeline");
    cr_assert_eq(store_service_account_delete(st, o.id, local), RC_OK, "%s", store_last_error(st));
    cr_assert_eq(store_service_account_delete(st, o.id, local), RC_NOT_FOUND);
    struct store_user owner;
    struct store_token gone;
    cr_assert_eq(store_token_lookup(st, t.digest, &gone, &owner), RC_NOT_FOUND,
                 "its tokens are gone with it");
    cr_assert_eq(store_user_by_id(st, u.id, &got), RC_NOT_FOUND);
}

/* --- OAuth (migration 0005) ------------------------------------------------------------------ */

static void random_digest(char out[DIGEST_HEX_SIZE])
{
    char secret[TOKEN_BUF_SIZE] = {0};
    token_generate(TOKEN_KIND_OAUTH_REFRESH, secret);
    struct digest_key k = {{0}};
    digest_secret(&k, secret, TOKEN_LEN, out);
}

Test(store, oauth_codes_are_spent_once)
{
    struct store_user u = make_user();
    struct store_oauth_code code = {0}, got;
    random_digest(code.digest);
    snprintf(code.user_id, sizeof code.user_id, "%s", u.id);
    snprintf(code.client_id, sizeof code.client_id, "pipecat-cli");
    snprintf(code.redirect_uri, sizeof code.redirect_uri, "http://127.0.0.1:8400/oauth_callback");
    snprintf(code.code_challenge, sizeof code.code_challenge, "abc");
    snprintf(code.scopes, sizeof code.scopes, "full");
    token_new_id("fam_", code.family_id);
    code.created_at = 1700000000;
    code.expires_at = 1700000060;
    cr_assert_eq(store_oauth_code_insert(st, &code), RC_OK, "%s", store_last_error(st));
    cr_assert_eq(store_oauth_code_take(st, code.digest, 1700000010, &got), RC_OK, "%s",
                 store_last_error(st));
    cr_assert_str_eq(got.user_id, u.id);
    cr_assert_str_eq(got.redirect_uri, code.redirect_uri);
    cr_assert_str_eq(got.code_challenge, "abc");
    cr_assert_eq(got.expires_at, 1700000060);
    cr_assert_eq(got.used_at, 1700000010);
    cr_assert_eq(store_oauth_code_take(st, code.digest, 1700000011, &got), RC_CONFLICT,
                 "a second exchange of the same code is refused");
    cr_assert_eq(got.used_at, 1700000010, "the first use stays recorded");
    cr_assert_str_eq(got.family_id, code.family_id, "a replay learns the login to revoke");
    char other[DIGEST_HEX_SIZE];
    random_digest(other);
    cr_assert_eq(store_oauth_code_take(st, other, 1700000010, &got), RC_NOT_FOUND);
}

/* A refresh spends its token and writes the successors in one transaction: of callers racing
 * with one refresh token exactly one writes them, and every loser finds the token spent. */
struct refresh_racer {
    const struct store_oauth_refresh *spent;
    const char *user_id;
    enum rc rc;
    struct store_oauth_refresh seen;
};

static void *race_refresh(void *arg_)
{
    struct refresh_racer *a = arg_;
    struct store_token access = {0};
    token_new_id("tok_", access.id);
    snprintf(access.user_id, sizeof access.user_id, "%s", a->user_id);
    access.kind = TOKEN_KIND_OAUTH_ACCESS;
    snprintf(access.name, sizeof access.name, "CLI login");
    snprintf(access.display, sizeof access.display, "pcc_oat_abcd...wxyz");
    random_digest(access.digest);
    snprintf(access.scopes, sizeof access.scopes, "full");
    access.created_at = 1700000100;
    access.expires_at = 1700003700;
    struct store_oauth_refresh next = *a->spent;
    random_digest(next.digest);
    next.created_at = 1700000100;
    a->rc = store_oauth_refresh_rotate(st, a->spent->digest, 1700000100, &access, &next, &a->seen);
    return NULL;
}

Test(store, oauth_refresh_rotation_has_one_winner_and_writes_all_or_nothing)
{
    struct store_user u = make_user();
    struct store_oauth_refresh rt = {0}, got;
    random_digest(rt.digest);
    token_new_id("fam_", rt.family_id);
    snprintf(rt.user_id, sizeof rt.user_id, "%s", u.id);
    snprintf(rt.client_id, sizeof rt.client_id, "pipecat-cli");
    snprintf(rt.scopes, sizeof rt.scopes, "full");
    rt.created_at = 1700000000;
    rt.expires_at = 1702592000;
    cr_assert_eq(store_oauth_refresh_insert(st, &rt), RC_OK, "%s", store_last_error(st));
    cr_assert_eq(store_oauth_refresh_get(st, rt.digest, &got), RC_OK);
    cr_assert_eq(got.used_at, 0, "reading does not spend it");
    enum { RACERS = 4 };
    pthread_t th[RACERS];
    struct refresh_racer racers[RACERS];
    for (int i = 0; i < RACERS; i++) {
        racers[i] = (struct refresh_racer){.spent = &rt, .user_id = u.id, .rc = RC_OK};
        pthread_create(&th[i], NULL, race_refresh, &racers[i]);
    }
    int won = 0;
    for (int i = 0; i < RACERS; i++) {
        pthread_join(th[i], NULL);
        if (racers[i].rc == RC_OK) {
            won++;
            continue;
        }
        cr_expect_eq(racers[i].rc, RC_CONFLICT, "racer %d", i);
        cr_expect_eq(racers[i].seen.used_at, 1700000100, "a loser sees it spent");
    }
    cr_assert_eq(won, 1);
    struct store_oauth_login *logins = NULL;
    size_t n = 0;
    cr_assert_eq(store_oauth_logins_for_user(st, u.id, 1700000200, &logins, &n), RC_OK);
    cr_assert_eq(n, 1);
    store_free_list(logins);
    struct store_token *toks = NULL;
    cr_assert_eq(store_tokens_for_user(st, u.id, &toks, &n), RC_OK);
    cr_assert_eq(n, 1, "one access token: the losers wrote nothing");
    char family[ID_BUF_SIZE];
    cr_assert_eq(store_oauth_family_of(st, toks[0].id, family), RC_OK);
    cr_assert_str_eq(family, rt.family_id);
    store_free_list(toks);
    random_digest(got.digest);
    cr_assert_eq(store_oauth_refresh_get(st, got.digest, &got), RC_NOT_FOUND);
}

Test(store, oauth_refresh_families_rotate_and_revoke_together)
{
    struct store_user u = make_user();
    struct store_token access = make_token(u.id, "oauth access");
    char family[ID_BUF_SIZE];
    token_new_id("fam_", family);
    cr_assert_eq(store_oauth_access_link(st, access.id, family), RC_OK, "%s", store_last_error(st));
    char got_family[ID_BUF_SIZE];
    cr_assert_eq(store_oauth_family_of(st, access.id, got_family), RC_OK);
    cr_assert_str_eq(got_family, family);
    struct store_token pat = make_token(u.id, "a pat");
    cr_assert_eq(store_oauth_family_of(st, pat.id, got_family), RC_NOT_FOUND);

    struct store_oauth_refresh rt = {0}, rt2 = {0}, got;
    random_digest(rt.digest);
    snprintf(rt.family_id, sizeof rt.family_id, "%s", family);
    snprintf(rt.user_id, sizeof rt.user_id, "%s", u.id);
    snprintf(rt.client_id, sizeof rt.client_id, "pipecat-cli");
    snprintf(rt.scopes, sizeof rt.scopes, "full");
    rt.created_at = 1700000000;
    rt.expires_at = 1702592000;
    cr_assert_eq(store_oauth_refresh_insert(st, &rt), RC_OK, "%s", store_last_error(st));
    rt2 = rt;
    random_digest(rt2.digest);
    cr_assert_eq(store_oauth_refresh_insert(st, &rt2), RC_OK, "%s", store_last_error(st));
    cr_assert_eq(store_oauth_refresh_take(st, rt.digest, 1700000100, &got), RC_OK);
    cr_assert_str_eq(got.family_id, family);
    cr_assert_eq(store_oauth_refresh_take(st, rt.digest, 1700000200, &got), RC_CONFLICT,
                 "a spent refresh token is reported as reuse");

    cr_assert_eq(store_oauth_family_revoke(st, family, 1700000300), RC_OK, "%s",
                 store_last_error(st));
    cr_assert_eq(store_oauth_refresh_take(st, rt2.digest, 1700000400, &got), RC_CONFLICT,
                 "an unspent token of a revoked family no longer works");
    cr_assert_eq(got.revoked_at, 1700000300);
    struct store_user owner;
    struct store_token t;
    cr_assert_eq(store_token_lookup(st, access.digest, &t, &owner), RC_OK);
    cr_assert_eq(t.revoked_at, 1700000300, "the family's access tokens are revoked too");
    cr_assert_eq(store_token_lookup(st, pat.digest, &t, &owner), RC_OK);
    cr_assert_eq(t.revoked_at, 0, "other tokens are untouched");
}

static struct store_oauth_device make_device(const char *scopes, int64_t now)
{
    struct store_oauth_device d = {0};
    random_digest(d.digest);
    random_digest(d.user_code);
    snprintf(d.client_id, sizeof d.client_id, "pipecat-cli");
    snprintf(d.scopes, sizeof d.scopes, "%s", scopes);
    d.created_at = now;
    d.expires_at = now + 600;
    d.interval_s = 5;
    cr_assert_eq(store_oauth_device_insert(st, &d), RC_OK, "%s", store_last_error(st));
    return d;
}

Test(store, oauth_device_authorizations_are_decided_once_and_spent_once)
{
    struct store_user u = make_user();
    struct store_oauth_device d = make_device("read deploy", 1700000000), got;
    cr_assert_eq(store_oauth_device_by_user_code(st, d.user_code, &got), RC_OK, "%s",
                 store_last_error(st));
    cr_assert_str_eq(got.digest, d.digest);
    cr_assert_str_eq(got.status, "pending");
    cr_assert_str_eq(got.scopes, "read deploy");
    cr_assert_eq(got.interval_s, 5);
    cr_assert_eq(got.last_poll_at, 0);
    cr_assert_str_eq(got.user_id, "");

    /* Polling a pending authorization spends nothing; the poll and new interval are kept. */
    cr_assert_eq(store_oauth_device_take(st, d.digest, 1700000005, &got), RC_CONFLICT);
    cr_assert_str_eq(got.status, "pending");
    cr_assert_eq(store_oauth_device_poll(st, d.digest, 1700000006, 10), RC_OK, "%s",
                 store_last_error(st));
    cr_assert_eq(store_oauth_device_take(st, d.digest, 1700000007, &got), RC_CONFLICT);
    cr_assert_eq(got.last_poll_at, 1700000006);
    cr_assert_eq(got.interval_s, 10);

    cr_assert_eq(store_oauth_device_decide(st, d.user_code, u.id, "approved", 1700000010), RC_OK,
                 "%s", store_last_error(st));
    cr_assert_eq(store_oauth_device_decide(st, d.user_code, u.id, "denied", 1700000011),
                 RC_CONFLICT, "a decided authorization stays decided");
    cr_assert_eq(store_oauth_device_take(st, d.digest, 1700000020, &got), RC_OK, "%s",
                 store_last_error(st));
    cr_assert_str_eq(got.user_id, u.id);
    cr_assert_str_eq(got.status, "used");
    cr_assert_eq(store_oauth_device_take(st, d.digest, 1700000025, &got), RC_CONFLICT,
                 "an approved authorization gives tokens once");
    cr_assert_str_eq(got.status, "used");

    /* Expiry: no decision, and no tokens for an approval that came just in time. */
    struct store_oauth_device late = make_device("full", 1700000000);
    cr_assert_eq(store_oauth_device_decide(st, late.user_code, u.id, "approved", 1700000600),
                 RC_CONFLICT, "an expired authorization cannot be decided");
    struct store_oauth_device slow = make_device("full", 1700000000);
    cr_assert_eq(store_oauth_device_decide(st, slow.user_code, u.id, "approved", 1700000599),
                 RC_OK);
    cr_assert_eq(store_oauth_device_take(st, slow.digest, 1700000600, &got), RC_CONFLICT);
    cr_assert_str_eq(got.status, "approved");

    char other[DIGEST_HEX_SIZE];
    random_digest(other);
    cr_assert_eq(store_oauth_device_take(st, other, 1700000000, &got), RC_NOT_FOUND);
    cr_assert_eq(store_oauth_device_by_user_code(st, other, &got), RC_NOT_FOUND);
    cr_assert_eq(store_oauth_device_poll(st, other, 1700000000, 5), RC_NOT_FOUND);
}

static void add_refresh(const char *user_id, const char *family, int64_t created, int64_t expires)
{
    struct store_oauth_refresh rt = {0};
    random_digest(rt.digest);
    snprintf(rt.family_id, sizeof rt.family_id, "%s", family);
    snprintf(rt.user_id, sizeof rt.user_id, "%s", user_id);
    snprintf(rt.client_id, sizeof rt.client_id, "pipecat-cli");
    snprintf(rt.scopes, sizeof rt.scopes, "full");
    rt.created_at = created;
    rt.expires_at = expires;
    cr_assert_eq(store_oauth_refresh_insert(st, &rt), RC_OK, "%s", store_last_error(st));
}

Test(store, oauth_logins_are_listed_and_revoked_per_user)
{
    struct store_user u = make_user(), other = make_user();
    char fam1[ID_BUF_SIZE], fam2[ID_BUF_SIZE], fam_old[ID_BUF_SIZE], fam_other[ID_BUF_SIZE];
    token_new_id("fam_", fam1);
    token_new_id("fam_", fam2);
    token_new_id("fam_", fam_old);
    token_new_id("fam_", fam_other);
    add_refresh(u.id, fam1, 1700000000, 1702592000);
    add_refresh(u.id, fam1, 1700003600, 1702595600); /* a refresh of the same login */
    add_refresh(u.id, fam2, 1700001000, 1702593000);
    add_refresh(u.id, fam_old, 1600000000, 1600000100); /* expired long ago */
    add_refresh(other.id, fam_other, 1700000000, 1702592000);
    struct store_token access = make_token(u.id, "oauth access");
    struct store_token other_access = make_token(other.id, "oauth access");
    struct store_token pat = make_token(u.id, "a pat");
    cr_assert_eq(store_oauth_access_link(st, access.id, fam1), RC_OK);
    cr_assert_eq(store_oauth_access_link(st, other_access.id, fam_other), RC_OK);

    struct store_oauth_login *list = NULL;
    size_t n = 0;
    cr_assert_eq(store_oauth_logins_for_user(st, u.id, 1700010000, &list, &n), RC_OK, "%s",
                 store_last_error(st));
    cr_assert_eq(n, 2, "live logins only, one row per family");
    cr_assert_str_eq(list[0].family_id, fam1);
    cr_assert_eq(list[0].created_at, 1700000000);
    cr_assert_eq(list[0].refreshed_at, 1700003600);
    cr_assert_eq(list[0].expires_at, 1702595600);
    cr_assert_str_eq(list[0].client_id, "pipecat-cli");
    cr_assert_str_eq(list[1].family_id, fam2);
    store_free_list(list);

    cr_assert_eq(store_oauth_revoke_user(st, u.id, 1700020000), RC_OK, "%s", store_last_error(st));
    cr_assert_eq(store_oauth_logins_for_user(st, u.id, 1700030000, &list, &n), RC_OK);
    cr_assert_eq(n, 0);
    store_free_list(list);
    struct store_user owner;
    struct store_token t;
    cr_assert_eq(store_token_lookup(st, access.digest, &t, &owner), RC_OK);
    cr_assert_eq(t.revoked_at, 1700020000, "OAuth access tokens end with their logins");
    cr_assert_eq(store_token_lookup(st, pat.digest, &t, &owner), RC_OK);
    cr_assert_eq(t.revoked_at, 0, "personal access tokens are not OAuth logins");
    cr_assert_eq(store_token_lookup(st, other_access.digest, &t, &owner), RC_OK);
    cr_assert_eq(t.revoked_at, 0, "other users are untouched");
    cr_assert_eq(store_oauth_logins_for_user(st, other.id, 1700030000, &list, &n), RC_OK);
    cr_assert_eq(n, 1);
    store_free_list(list);
}

Test(store, web_sessions_of_a_user_are_deleted_together)
{
    struct store_user u = make_user(), other = make_user();
    struct store_web_session a = {0}, b = {0}, c = {0}, got;
    struct store_user who;
    random_digest(a.id);
    random_digest(b.id);
    random_digest(c.id);
    snprintf(a.user_id, sizeof a.user_id, "%s", u.id);
    snprintf(b.user_id, sizeof b.user_id, "%s", u.id);
    snprintf(c.user_id, sizeof c.user_id, "%s", other.id);
    a.created_at = b.created_at = c.created_at = 1700000000;
    a.last_seen_at = b.last_seen_at = c.last_seen_at = 1700000000;
    a.expires_at = b.expires_at = c.expires_at = 1700600000;
    cr_assert_eq(store_web_session_insert(st, &a), RC_OK, "%s", store_last_error(st));
    cr_assert_eq(store_web_session_insert(st, &b), RC_OK, "%s", store_last_error(st));
    cr_assert_eq(store_web_session_insert(st, &c), RC_OK, "%s", store_last_error(st));
    cr_assert_eq(store_web_sessions_delete_user(st, u.id), RC_OK, "%s", store_last_error(st));
    cr_assert_eq(store_web_session_lookup(st, a.id, &got, &who), RC_NOT_FOUND);
    cr_assert_eq(store_web_session_lookup(st, b.id, &got, &who), RC_NOT_FOUND);
    cr_assert_eq(store_web_session_lookup(st, c.id, &got, &who), RC_OK);
}

/* Housekeeping removes what expired before the cut-off and nothing else. Times far in the past
 * keep the count to this test's rows when the suite shares a PostgreSQL database. */
Test(store, purge_removes_only_what_expired_before_the_cutoff)
{
    struct store_user u = make_user(), who;
    struct store_oauth_code codes[2], got_code;
    struct store_web_session sessions[2], got_ws;
    struct store_oauth_device devices[2], got_dev;
    memset(codes, 0, sizeof codes);
    memset(sessions, 0, sizeof sessions);
    for (int i = 0; i < 2; i++) {
        int64_t expiry = i == 0 ? 1500 : 2500; /* the cut-off is 2000 */
        random_digest(codes[i].digest);
        snprintf(codes[i].user_id, sizeof codes[i].user_id, "%s", u.id);
        snprintf(codes[i].client_id, sizeof codes[i].client_id, "pipecat-cli");
        snprintf(codes[i].redirect_uri, sizeof codes[i].redirect_uri,
                 "http://127.0.0.1:8400/oauth_callback");
        snprintf(codes[i].code_challenge, sizeof codes[i].code_challenge, "abc");
        snprintf(codes[i].scopes, sizeof codes[i].scopes, "full");
        token_new_id("fam_", codes[i].family_id);
        codes[i].created_at = 1000;
        codes[i].expires_at = expiry;
        cr_assert_eq(store_oauth_code_insert(st, &codes[i]), RC_OK, "%s", store_last_error(st));
        random_digest(sessions[i].id);
        snprintf(sessions[i].user_id, sizeof sessions[i].user_id, "%s", u.id);
        sessions[i].created_at = sessions[i].last_seen_at = 1000;
        sessions[i].expires_at = expiry;
        cr_assert_eq(store_web_session_insert(st, &sessions[i]), RC_OK, "%s", store_last_error(st));
        devices[i] = make_device("full", expiry - 600);
    }
    int64_t removed = -1;
    cr_assert_eq(store_purge_expired(st, 2000, &removed), RC_OK, "%s", store_last_error(st));
    cr_assert_eq(removed, 3, "one code, one device code and one session expired before 2000");
    cr_assert_eq(store_oauth_code_take(st, codes[0].digest, 1000, &got_code), RC_NOT_FOUND);
    cr_assert_eq(store_web_session_lookup(st, sessions[0].id, &got_ws, &who), RC_NOT_FOUND);
    cr_assert_eq(store_oauth_device_by_user_code(st, devices[0].user_code, &got_dev), RC_NOT_FOUND);
    cr_assert_eq(store_web_session_lookup(st, sessions[1].id, &got_ws, &who), RC_OK);
    cr_assert_eq(store_oauth_device_by_user_code(st, devices[1].user_code, &got_dev), RC_OK);
    cr_assert_eq(store_oauth_code_take(st, codes[1].digest, 1000, &got_code), RC_OK);
    cr_assert_eq(store_purge_expired(st, 2000, &removed), RC_OK);
    cr_assert_eq(removed, 0, "nothing left to remove");
}

/* --- migration 0010: empty secret sets, API key order, Daily keys left in plaintext --------- */

Test(store, deleting_the_last_key_deletes_the_set)
{
    struct store_org o = make_org();
    struct store_secret_set set = new_set(o.id, "solo", "secret", "us-west", 100);
    struct store_secret k1 = new_secret("ONE", 100), k2 = new_secret("TWO", 100);
    cr_assert_eq(store_secret_put(st, &set, &k1, "01"), RC_OK, "%s", store_last_error(st));
    cr_assert_eq(store_secret_put(st, &set, &k2, "02"), RC_OK, "%s", store_last_error(st));
    int set_deleted = -1;
    cr_assert_eq(store_secret_delete(st, set.id, "ONE", 200, &set_deleted), RC_OK);
    cr_assert_eq(set_deleted, 0);
    struct store_secret_set got;
    cr_assert_eq(store_secret_set_by_name(st, o.id, "solo", &got), RC_OK);
    cr_assert_eq(got.updated_at, 200, "removing a key changes the set");
    cr_assert_eq(store_secret_delete(st, set.id, "MISSING", 300, &set_deleted), RC_NOT_FOUND);
    cr_assert_eq(store_secret_set_by_name(st, o.id, "solo", &got), RC_OK);
    cr_assert_eq(got.updated_at, 200, "a refused delete changes nothing");

    cr_assert_eq(store_secret_delete(st, set.id, "TWO", 400, &set_deleted), RC_OK);
    cr_assert_eq(set_deleted, 1, "the last key takes the set along");
    cr_assert_eq(store_secret_set_by_name(st, o.id, "solo", &got), RC_NOT_FOUND);
    struct store_secret_set *sets = NULL;
    size_t n = 99;
    cr_assert_eq(store_secret_sets_for_org(st, o.id, "", &sets, &n), RC_OK);
    cr_assert_eq(n, 0, "no empty set is listed");
    store_free_list(sets);
    cr_assert_eq(store_secret_delete(st, set.id, "TWO", 500, &set_deleted), RC_NOT_FOUND);
}

Test(store, api_keys_of_the_same_second_list_in_creation_order)
{
    struct store_org o = make_org();
    /* Ids that sort against the order of creation, all in one second. */
    static const char *const ids[] = {"key_zzzz", "key_mmmm", "key_aaaa"};
    for (size_t i = 0; i < 3; i++) {
        struct store_api_key k = {0};
        snprintf(k.id, sizeof k.id, "%s%.12s", ids[i], o.id + 4);
        snprintf(k.org_id, sizeof k.org_id, "%s", o.id);
        snprintf(k.kind, sizeof k.kind, "public");
        snprintf(k.name, sizeof k.name, "key %zu", i);
        unique(k.public_value, sizeof k.public_value, "pk_");
        snprintf(k.display, sizeof k.display, "pk_abcd...wxyz");
        unique(k.digest, sizeof k.digest, "d1g");
        k.created_at = 1700005000;
        cr_assert_eq(store_api_key_insert(st, &k), RC_OK, "%s", store_last_error(st));
    }
    struct store_api_key *list = NULL;
    size_t n = 0;
    cr_assert_eq(store_api_keys_for_org(st, o.id, &list, &n), RC_OK);
    cr_assert_eq(n, 3);
    static const char *const names[] = {"key 0", "key 1", "key 2"};
    for (size_t i = 0; i < 3; i++)
        cr_assert_str_eq(list[i].name, names[i], "oldest first, whatever the ids");
    store_free_list(list);
}

Test(store, daily_keys_left_in_plaintext_are_replaced_once)
{
    struct store_org o = make_org();
    struct store_legacy_daily_key *list = NULL;
    size_t n = 99;
    /* Only migration 0010 fills the legacy column, from rows an earlier pccd wrote: nothing
     * to seal in a new database, and sealing a row that holds no plaintext is refused. */
    cr_assert_eq(store_daily_keys_legacy(st, &list, &n), RC_OK);
    for (size_t i = 0; i < n; i++)
        cr_assert_str_neq(list[i].org_id, o.id);
    store_free_list(list);
    cr_assert_eq(store_daily_key_seal_legacy(st, o.id, "n:c"), RC_NOT_FOUND);
    cr_assert_eq(store_daily_key_seal_legacy(st, "org_missing", "n:c"), RC_NOT_FOUND);
    struct store_org got;
    cr_assert_eq(store_org_by_name(st, o.name, &got), RC_OK);
    cr_assert_str_eq(got.daily_key_sealed, "", "nothing was written");
}

static struct store_invitation make_invitation(const struct store_org *o, const char *email,
                                               const char *role, int64_t at)
{
    struct store_invitation inv = {0};
    token_new_id("inv_", inv.id);
    snprintf(inv.org_id, sizeof inv.org_id, "%s", o->id);
    snprintf(inv.email, sizeof inv.email, "%s", email);
    snprintf(inv.role, sizeof inv.role, "%s", role);
    inv.created_at = at;
    inv.expires_at = at + 7 * 86400;
    cr_assert_eq(store_invitation_insert(st, &inv), RC_OK, "%s", store_last_error(st));
    return inv;
}

Test(store, invitations_are_answered_once_by_their_verified_invitee_before_they_expire)
{
    struct store_user u = make_user(), other = make_user();
    struct store_org o = make_org();
    char upper[STORE_EMAIL_SIZE];
    snprintf(upper, sizeof upper, "%s", u.email);
    for (char *p = upper; *p; p++)
        if (*p >= 'a' && *p <= 'z')
            *p = (char)(*p - 'a' + 'A');
    struct store_invitation inv = make_invitation(&o, upper, "admin", 1700000000);
    struct store_invitation *list = NULL, row;
    size_t n = 0;
    cr_assert_eq(store_invitations_for_email(st, u.email, 1700000001, &list, &n), RC_OK);
    cr_assert_eq(n, 1, "matched without regard to case");
    cr_assert_str_eq(list[0].org_name, o.name);
    store_free_list(list);
    cr_assert_eq(store_invitations_for_org(st, o.id, 1700000001, &list, &n), RC_OK);
    cr_assert_eq(n, 1);
    store_free_list(list);
    /* Not the invitee: as if there were none. */
    cr_assert_eq(store_invitation_decide(st, inv.id, other.id, 1, 1700000002, &row), RC_NOT_FOUND);
    cr_assert_eq(store_invitation_decide(st, inv.id, u.id, 1, 1700000002, &row), RC_OK);
    cr_assert_str_eq(row.status, "accepted");
    struct store_org member;
    cr_assert_eq(store_org_for_member(st, u.id, o.name, &member), RC_OK);
    cr_assert_str_eq(member.role, "admin");
    cr_assert_eq(store_invitation_decide(st, inv.id, u.id, 0, 1700000003, &row), RC_CONFLICT);
    cr_assert_str_eq(row.status, "accepted");

    /* Expired, then replaced, then revoked. */
    struct store_org o2 = make_org();
    struct store_invitation old = make_invitation(&o2, u.email, "member", 1700000000);
    cr_assert_eq(store_invitation_decide(st, old.id, u.id, 1, 1700000000 + 8 * 86400, &row),
                 RC_CONFLICT);
    struct store_invitation newer = make_invitation(&o2, u.email, "member", 1700000010);
    cr_assert_eq(store_invitation_decide(st, old.id, u.id, 1, 1700000020, &row), RC_CONFLICT);
    cr_assert_str_eq(row.status, "revoked", "a new invitation replaces a pending one");
    cr_assert_eq(store_invitation_revoke(st, o2.id, newer.id, 1700000030), RC_OK);
    cr_assert_eq(store_invitation_revoke(st, o2.id, newer.id, 1700000031), RC_NOT_FOUND);
    cr_assert_eq(store_org_for_member(st, u.id, o2.name, &member), RC_NOT_FOUND);
}

Test(store, an_unverified_signup_sees_no_invitation_until_its_code_is_spent)
{
    struct store_user u = {0};
    token_new_id("usr_", u.id);
    char local[64];
    unique(local, sizeof local, "s");
    snprintf(u.email, sizeof u.email, "%s@example.com", local);
    u.created_at = 1700000000;
    cr_assert_eq(store_signup_user_create(st, &u, "$argon2id$x"), RC_OK, "%s",
                 store_last_error(st));
    cr_assert_eq(store_signup_user_create(st, &u, "$argon2id$x"), RC_CONFLICT);
    int verified = 1;
    cr_assert_eq(store_user_email_verified(st, u.id, &verified), RC_OK);
    cr_assert_eq(verified, 0);
    struct store_user made = make_user();
    cr_assert_eq(store_user_email_verified(st, made.id, &verified), RC_OK);
    cr_assert_eq(verified, 1, "other accounts count as verified");

    struct store_org o = make_org();
    struct store_invitation inv = make_invitation(&o, u.email, "member", 1700000000);
    cr_assert_eq(store_invitation_decide(st, inv.id, u.id, 1, 1700000001, NULL), RC_NOT_FOUND);

    struct store_email_code code = {0}, row;
    unsigned char raw[32];
    randombytes_buf(raw, sizeof raw);
    sodium_bin2hex(code.digest, sizeof code.digest, raw, sizeof raw);
    snprintf(code.user_id, sizeof code.user_id, "%s", u.id);
    code.created_at = 1700000000;
    code.expires_at = 1700000000 + 86400;
    cr_assert_eq(store_email_code_insert(st, &code), RC_OK);
    cr_assert_eq(store_email_code_take(st, code.digest, 1700000000 + 86401, &row), RC_CONFLICT,
                 "expired");
    cr_assert_eq(store_email_code_take(st, code.digest, 1700000002, &row), RC_OK);
    cr_assert_str_eq(row.user_id, u.id);
    cr_assert_eq(store_email_code_take(st, code.digest, 1700000003, &row), RC_CONFLICT,
                 "spent once");
    cr_assert_eq(store_email_code_take(st, "00", 1700000003, &row), RC_NOT_FOUND);
    cr_assert_eq(store_user_email_verified(st, u.id, &verified), RC_OK);
    cr_assert_eq(verified, 1);
    cr_assert_eq(store_invitation_decide(st, inv.id, u.id, 1, 1700000004, NULL), RC_OK);
}
