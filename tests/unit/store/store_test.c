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
    cr_assert_eq(store_user_create(st, &u), RC_OK, "%s", st->last_error);
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
    cr_assert_eq(store_org_create(st, &o), RC_OK, "%s", st->last_error);
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
    cr_assert_eq(store_token_insert(st, &t), RC_OK, "%s", st->last_error);
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

    cr_assert_eq(store_org_set_daily_key(st, a.id, "dk_123"), RC_OK);
    cr_assert_eq(store_org_by_name(st, a.name, &got), RC_OK);
    cr_assert_str_eq(got.daily_api_key, "dk_123");
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
    cr_assert_eq(store_token_insert(st, &t), RC_OK, "%s", st->last_error);
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
