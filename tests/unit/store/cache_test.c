/* cache_test.c: the credential cache (lib/store/cache.c). Two store handles on one database
 * stand for two processes or nodes (pccd serve and an admin command): a change made through
 * either is seen by the other from its next read. On SQLite, a change made behind the store's
 * back is not (which shows the cache is really in use) unless a write is in flight; on
 * PostgreSQL it is (the database's triggers keep the generation). Runs on SQLite by default and
 * on the database named by PCC_TEST_DB_URL when that is set. */
#include <fcntl.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include <criterion/criterion.h>
#include <libpq-fe.h>
#include <sodium.h>
#include <sqlite3.h>

#include "store.h"

static char dir[] = "/tmp/pcc-cache-XXXXXX";
static char db_path[256];
static const char *pg_url;  /* set: the suite runs on PostgreSQL */
static struct store *a, *b; /* two "processes" */

static struct store *open_one(void)
{
    struct store *st;
    char url[300], err[256] = "";
    snprintf(url, sizeof url, pg_url ? "%s" : "sqlite:%s", pg_url ? pg_url : db_path);
    cr_assert_eq(store_open(url, &st, err, sizeof err), RC_OK, "%s", err);
    return st;
}

static void setup(void)
{
    cr_assert(sodium_init() >= 0);
    pg_url = getenv("PCC_TEST_DB_URL");
    if (pg_url && !*pg_url)
        pg_url = NULL;
    cr_assert(mkdtemp(dir));
    snprintf(db_path, sizeof db_path, "%s/pcc.db", dir);
    a = open_one();
    int applied;
    char err[256];
    cr_assert_eq(store_migrate(a, &applied, err, sizeof err), RC_OK, "%s", err);
    b = open_one();
    cr_assert_not_null(a->cache, "the store has its cache");
}

static void teardown(void)
{
    store_close(a);
    store_close(b);
    char cmd[300];
    snprintf(cmd, sizeof cmd, "rm -rf %s", dir);
    cr_assert_eq(system(cmd), 0);
}

TestSuite(cache, .init = setup, .fini = teardown);

struct fixture {
    struct store_user user;
    struct store_org org;
    struct store_token token;
};

static struct fixture make_fixture(void)
{
    struct fixture f = {0};
    token_new_id("usr_", f.user.id);
    snprintf(f.user.email, sizeof f.user.email, "%s@example.com", f.user.id);
    snprintf(f.user.kind, sizeof f.user.kind, "human");
    cr_assert_eq(store_user_create(a, &f.user), RC_OK);
    token_new_id("org_", f.org.id);
    /* Unique names: on PostgreSQL every test shares one database. */
    snprintf(f.org.name, sizeof f.org.name, "acme-%s", f.user.id + 4);
    for (char *p = f.org.name; *p; p++)
        if (*p >= 'A' && *p <= 'Z')
            *p = (char)(*p - 'A' + 'a');
    snprintf(f.org.verbose_name, sizeof f.org.verbose_name, "Acme");
    cr_assert_eq(store_org_create(a, &f.org), RC_OK);
    cr_assert_eq(store_membership_put(a, f.user.id, f.org.id, "admin", 1700000000), RC_OK);
    token_new_id("tok_", f.token.id);
    snprintf(f.token.user_id, sizeof f.token.user_id, "%s", f.user.id);
    f.token.kind = TOKEN_KIND_PAT;
    snprintf(f.token.name, sizeof f.token.name, "ci");
    snprintf(f.token.scopes, sizeof f.token.scopes, "full");
    unsigned char raw[DIGEST_HEX_SIZE / 2];
    randombytes_buf(raw, sizeof raw);
    sodium_bin2hex(f.token.digest, sizeof f.token.digest, raw, sizeof raw);
    f.token.created_at = 1700000000;
    cr_assert_eq(store_token_insert(a, &f.token), RC_OK);
    return f;
}

/* A change behind the store's back, as a foreign writer (sqlite3, psql) would make it. */
static void raw_sql(const char *fmt, const char *token_id, int64_t revoked_at)
{
    char sql[256];
    snprintf(sql, sizeof sql, fmt, (long long)revoked_at, token_id);
    if (pg_url) {
        PGconn *pg = PQconnectdb(pg_url);
        cr_assert_eq(PQstatus(pg), CONNECTION_OK, "%s", PQerrorMessage(pg));
        PGresult *r = PQexec(pg, sql);
        cr_assert_eq(PQresultStatus(r), PGRES_COMMAND_OK, "%s", PQerrorMessage(pg));
        PQclear(r);
        PQfinish(pg);
        return;
    }
    sqlite3 *db;
    cr_assert_eq(sqlite3_open(db_path, &db), SQLITE_OK);
    sqlite3_busy_timeout(db, 5000);
    char *msg = NULL;
    cr_assert_eq(sqlite3_exec(db, sql, NULL, NULL, &msg), SQLITE_OK, "%s", msg ? msg : "");
    sqlite3_close(db);
}

#define REVOKE_SQL "UPDATE tokens SET revoked_at = %lld WHERE id = '%s'"

static int64_t revoked_at(struct store *st, const char *digest)
{
    struct store_token tok;
    struct store_user owner;
    cr_assert_eq(store_token_lookup(st, digest, &tok, &owner), RC_OK);
    return tok.revoked_at;
}

Test(cache, revocation_by_another_process_is_seen_at_once)
{
    struct fixture f = make_fixture();
    cr_assert_eq(revoked_at(a, f.token.digest), 0); /* cached in a now */
    cr_assert_eq(store_token_revoke(b, f.user.id, f.token.id, 1700000500), RC_OK);
    cr_assert_eq(revoked_at(a, f.token.digest), 1700000500);
}

Test(cache, revocation_in_the_same_process_is_seen_at_once)
{
    struct fixture f = make_fixture();
    cr_assert_eq(revoked_at(a, f.token.digest), 0);
    cr_assert_eq(store_token_revoke(a, f.user.id, f.token.id, 1700000600), RC_OK);
    cr_assert_eq(revoked_at(a, f.token.digest), 1700000600);
}

Test(cache, reads_are_served_from_the_cache_while_nothing_changed)
{
    if (pg_url)
        cr_skip_test("on PostgreSQL no write escapes the generation: see the next test");
    struct fixture f = make_fixture();
    cr_assert_eq(revoked_at(a, f.token.digest), 0);
    raw_sql(REVOKE_SQL, f.token.id, 42); /* invisible to the generation word */
    cr_assert_eq(revoked_at(a, f.token.digest), 0, "the cached row answered");
    cr_assert_eq(revoked_at(b, f.token.digest), 42, "b had nothing cached: it read the file");
}

Test(cache, membership_changes_reach_the_organization_reads)
{
    struct fixture f = make_fixture();
    struct store_org *list = NULL, org;
    size_t count = 0;
    cr_assert_eq(store_orgs_for_user(a, f.user.id, &list, &count), RC_OK);
    cr_assert_eq(count, 1);
    store_free_list(list);
    cr_assert_eq(store_org_for_member(a, f.user.id, f.org.name, &org), RC_OK);
    cr_assert_str_eq(org.role, "admin");

    struct store_org other = {0};
    token_new_id("org_", other.id);
    snprintf(other.name, sizeof other.name, "beta-%s", f.org.name);
    cr_assert_eq(store_org_create(b, &other), RC_OK);
    cr_assert_eq(store_membership_put(b, f.user.id, other.id, "member", 1700000001), RC_OK);
    struct store_token_policy p = {.require_expiry = 1};
    cr_assert_eq(store_token_policy_put(b, f.org.id, &p), RC_OK);

    cr_assert_eq(store_orgs_for_user(a, f.user.id, &list, &count), RC_OK);
    cr_assert_eq(count, 2);
    store_free_list(list);
    cr_assert_eq(store_org_for_member(a, f.user.id, f.org.name, &org), RC_OK);
    cr_assert_eq(org.token_policy.require_expiry, 1);
}

/* The generation word of the database: what a writer killed mid-write leaves behind. */
static uint64_t *map_generation(void)
{
    char path[300];
    snprintf(path, sizeof path, "%s-generation", db_path);
    int fd = open(path, O_RDWR);
    cr_assert(fd >= 0);
    void *m = mmap(NULL, 4096, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
    close(fd);
    cr_assert(m != MAP_FAILED);
    return m;
}

Test(cache, writes_made_with_psql_are_seen_on_postgresql)
{
    if (!pg_url)
        cr_skip_test("SQLite: see reads_are_served_from_the_cache_while_nothing_changed");
    struct fixture f = make_fixture();
    cr_assert_eq(revoked_at(a, f.token.digest), 0);
    raw_sql(REVOKE_SQL, f.token.id, 46); /* the triggers of migration 0007 see it */
    cr_assert_eq(revoked_at(a, f.token.digest), 46);
}

Test(cache, a_write_in_flight_turns_the_cache_off)
{
    if (pg_url)
        cr_skip_test("the generation word is SQLite's");
    struct fixture f = make_fixture();
    cr_assert_eq(revoked_at(a, f.token.digest), 0);
    uint64_t *word = map_generation();
    __atomic_fetch_add(word, (uint64_t)1 << 32, __ATOMIC_SEQ_CST); /* begun, never finished */
    raw_sql(REVOKE_SQL, f.token.id, 43);
    cr_assert_eq(revoked_at(a, f.token.digest), 43, "read from the file, not the cache");
    raw_sql(REVOKE_SQL, f.token.id, 44);
    cr_assert_eq(revoked_at(a, f.token.digest), 44, "and nothing was cached meanwhile");
    __atomic_fetch_add(word, 1, __ATOMIC_SEQ_CST); /* the write ends */
    cr_assert_eq(revoked_at(a, f.token.digest), 44);
    raw_sql(REVOKE_SQL, f.token.id, 45);
    cr_assert_eq(revoked_at(a, f.token.digest), 44, "cached again once balanced");
    munmap(word, 4096);
}

Test(cache, last_use_stamps_update_the_cached_row)
{
    struct fixture f = make_fixture();
    struct store_token tok;
    struct store_user owner;
    cr_assert_eq(store_token_lookup(a, f.token.digest, &tok, &owner), RC_OK);
    cr_assert_eq(tok.last_used_at, 0);
    cr_assert_eq(store_token_touch(a, f.token.id, 1700000700, "192.0.2.1", "ci/1"), RC_OK);
    cr_assert_eq(store_token_lookup(a, f.token.digest, &tok, &owner), RC_OK);
    cr_assert_eq(tok.last_used_at, 1700000700, "else every request would stamp again");
    cr_assert_str_eq(tok.last_used_ip, "192.0.2.1");
}

Test(cache, generation_file_is_private)
{
    if (pg_url)
        cr_skip_test("the generation file is SQLite's");
    char path[300];
    snprintf(path, sizeof path, "%s-generation", db_path);
    struct stat sb;
    cr_assert_eq(stat(path, &sb), 0);
    cr_assert_eq(sb.st_mode & 0777, 0600);
}

/* Every other write that changes what the cached reads return, made by the other process. */
Test(cache, rotation_is_seen_at_once)
{
    struct fixture f = make_fixture();
    cr_assert_eq(revoked_at(a, f.token.digest), 0);
    struct store_token rotated = f.token;
    rotated.digest[0] = rotated.digest[0] == 'a' ? 'b' : 'a';
    snprintf(rotated.previous_digest, sizeof rotated.previous_digest, "%s", f.token.digest);
    rotated.previous_expires_at = 1700000900;
    rotated.rotated_at = 1700000800;
    cr_assert_eq(store_token_rotate(b, &rotated, f.token.digest), RC_OK);
    struct store_token tok;
    struct store_user owner;
    cr_assert_eq(store_token_lookup(a, f.token.digest, &tok, &owner), RC_OK);
    cr_assert_str_eq(tok.digest, rotated.digest, "the old secret now finds the rotated row");
    cr_assert_eq(tok.previous_expires_at, 1700000900);
}

Test(cache, role_changes_and_daily_keys_are_seen_at_once)
{
    struct fixture f = make_fixture();
    struct store_user second = {0};
    token_new_id("usr_", second.id);
    snprintf(second.email, sizeof second.email, "%s@example.com", second.id);
    cr_assert_eq(store_user_create(b, &second), RC_OK);
    cr_assert_eq(store_membership_put(b, second.id, f.org.id, "admin", 1700000002), RC_OK);
    struct store_org org;
    cr_assert_eq(store_org_for_member(a, f.user.id, f.org.name, &org), RC_OK);
    cr_assert_str_eq(org.role, "admin");
    cr_assert_eq(store_membership_change(b, f.org.id, f.user.id, "member"), RC_OK);
    cr_assert_eq(store_org_for_member(a, f.user.id, f.org.name, &org), RC_OK);
    cr_assert_str_eq(org.role, "member");
    cr_assert_eq(store_org_set_daily_key(b, f.org.id, "n0nce:dk_new"), RC_OK);
    cr_assert_eq(store_org_for_member(a, f.user.id, f.org.name, &org), RC_OK);
    cr_assert_str_eq(org.daily_key_sealed, "n0nce:dk_new");
    cr_assert_eq(store_membership_change(b, f.org.id, f.user.id, NULL), RC_OK);
    cr_assert_eq(store_org_for_member(a, f.user.id, f.org.name, &org), RC_NOT_FOUND);
}

Test(cache, deleting_a_service_account_ends_its_tokens_at_once)
{
    struct fixture f = make_fixture();
    struct store_user bot = {0};
    token_new_id("usr_", bot.id);
    snprintf(bot.email, sizeof bot.email, "%s@acme.service-account.invalid", bot.id);
    struct store_service_account acct = {0};
    snprintf(acct.user_id, sizeof acct.user_id, "%s", bot.id);
    snprintf(acct.org_id, sizeof acct.org_id, "%s", f.org.id);
    snprintf(acct.name, sizeof acct.name, "deployer");
    cr_assert_eq(store_service_account_create(b, &bot, &acct), RC_OK);
    struct store_token tok = f.token;
    token_new_id("tok_", tok.id);
    snprintf(tok.user_id, sizeof tok.user_id, "%s", bot.id);
    tok.digest[0] = tok.digest[0] == 'f' ? 'e' : 'f';
    cr_assert_eq(store_token_insert(b, &tok), RC_OK);
    cr_assert_eq(revoked_at(a, tok.digest), 0);
    cr_assert_eq(store_service_account_delete(b, f.org.id, "deployer"), RC_OK);
    struct store_user owner;
    cr_assert_eq(store_token_lookup(a, tok.digest, &tok, &owner), RC_NOT_FOUND);
}

Test(cache, ending_an_oauth_login_is_seen_at_once)
{
    struct fixture f = make_fixture();
    char family[ID_BUF_SIZE];
    token_new_id("fam_", family);
    cr_assert_eq(store_oauth_access_link(b, f.token.id, family), RC_OK);
    cr_assert_eq(revoked_at(a, f.token.digest), 0);
    cr_assert_eq(store_oauth_family_revoke(b, family, 1700000950), RC_OK);
    cr_assert_eq(revoked_at(a, f.token.digest), 1700000950);
}

Test(cache, signing_out_everywhere_is_seen_at_once)
{
    struct fixture f = make_fixture();
    char family[ID_BUF_SIZE];
    token_new_id("fam_", family);
    cr_assert_eq(store_oauth_access_link(b, f.token.id, family), RC_OK);
    cr_assert_eq(revoked_at(a, f.token.digest), 0);
    cr_assert_eq(store_oauth_revoke_user(b, f.user.id, 1700000960), RC_OK);
    cr_assert_eq(revoked_at(a, f.token.digest), 1700000960);
}

/* A request's reads share one view (store_request_begin): the next request sees a change made
 * elsewhere, and a request sees its own credential writes at once. */
Test(cache, requests_see_changes_from_their_next_start_and_their_own_writes_at_once)
{
    struct fixture f = make_fixture();
    store_request_begin(a);
    cr_assert_eq(revoked_at(a, f.token.digest), 0);
    cr_assert_eq(store_token_revoke(b, f.user.id, f.token.id, 1700001000), RC_OK);
    store_request_end(a);
    store_request_begin(a);
    cr_assert_eq(revoked_at(a, f.token.digest), 1700001000, "the next request sees it");
    store_request_end(a);

    struct fixture g = make_fixture();
    store_request_begin(a);
    cr_assert_eq(revoked_at(a, g.token.digest), 0);
    cr_assert_eq(store_token_revoke(a, g.user.id, g.token.id, 1700001001), RC_OK);
    cr_assert_eq(revoked_at(a, g.token.digest), 1700001001, "its own write, in the request");
    store_request_end(a);
}

/* Under concurrency: once a revocation through another handle has returned, no lookup that
 * starts afterwards may see the token alive, while lookups run all the time on two threads. */
struct race {
    const char *digest;
    int revoked; /* set (atomically) once the revocation has returned */
    int stale;   /* lookups that started after it and still saw the token alive */
    int lookups; /* all lookups */
    int after;   /* lookups that started after it */
};

static void *lookup_loop(void *arg)
{
    struct race *r = arg;
    /* Until 50 lookups have started after the revocation (or, as a guard, 200,000 in all). */
    while (__atomic_load_n(&r->after, __ATOMIC_RELAXED) < 50 &&
           __atomic_load_n(&r->lookups, __ATOMIC_RELAXED) < 200000) {
        int after = __atomic_load_n(&r->revoked, __ATOMIC_ACQUIRE);
        struct store_token tok;
        struct store_user owner;
        if (store_token_lookup(a, r->digest, &tok, &owner) != RC_OK)
            continue;
        __atomic_fetch_add(&r->lookups, 1, __ATOMIC_RELAXED);
        if (!after)
            continue;
        __atomic_fetch_add(&r->after, 1, __ATOMIC_RELAXED);
        if (tok.revoked_at == 0)
            __atomic_fetch_add(&r->stale, 1, __ATOMIC_RELAXED);
    }
    return NULL;
}

Test(cache, no_lookup_after_a_revocation_sees_the_token_alive)
{
    struct fixture f = make_fixture();
    struct race r = {.digest = f.token.digest};
    pthread_t readers[2];
    for (int i = 0; i < 2; i++)
        cr_assert_eq(pthread_create(&readers[i], NULL, lookup_loop, &r), 0);
    while (__atomic_load_n(&r.lookups, __ATOMIC_RELAXED) < 200)
        usleep(100);
    cr_assert_eq(store_token_revoke(b, f.user.id, f.token.id, 1700002000), RC_OK);
    __atomic_store_n(&r.revoked, 1, __ATOMIC_RELEASE);
    for (int i = 0; i < 2; i++)
        pthread_join(readers[i], NULL);
    cr_assert_geq(r.after, 50, "lookups ran on after the revocation");
    cr_assert_eq(r.stale, 0, "%d lookups saw a revoked token alive", r.stale);
    cr_assert_eq(revoked_at(a, f.token.digest), 1700002000);
}

/* A generation file that cannot be made (here a directory stands in its way): the store still
 * opens and answers, every read from the database, so nothing can be stale. */
Test(cache, without_its_generation_file_the_store_works_uncached)
{
    if (pg_url)
        cr_skip_test("the generation file is SQLite's");
    char other[300], url[320], gen[340], err[256] = "";
    snprintf(other, sizeof other, "%s/other.db", dir);
    snprintf(gen, sizeof gen, "%s-generation", other);
    cr_assert_eq(mkdir(gen, 0700), 0);
    struct store *plain;
    snprintf(url, sizeof url, "sqlite:%s", other);
    cr_assert_eq(store_open(url, &plain, err, sizeof err), RC_OK, "%s", err);
    int applied;
    cr_assert_eq(store_migrate(plain, &applied, err, sizeof err), RC_OK, "%s", err);
    struct store *saved = a;
    a = plain; /* make_fixture writes through a */
    struct fixture f = make_fixture();
    a = saved;
    cr_assert_null(plain->cache);
    cr_assert_eq(revoked_at(plain, f.token.digest), 0);
    struct store_user owner;
    struct store_token tok;
    cr_assert_eq(store_token_revoke(plain, f.user.id, f.token.id, 1700003000), RC_OK);
    cr_assert_eq(store_token_lookup(plain, f.token.digest, &tok, &owner), RC_OK);
    cr_assert_eq(tok.revoked_at, 1700003000);
    store_close(plain);
}

/* Accepting an invitation adds a membership: read through one handle, accept through the
 * other, and the first sees the new organization at once. */
Test(cache, accepting_an_invitation_reaches_the_organization_reads)
{
    struct fixture f = make_fixture();
    struct store_org *list = NULL, other = {0};
    size_t count = 0;
    cr_assert_eq(store_orgs_for_user(a, f.user.id, &list, &count), RC_OK);
    cr_assert_eq(count, 1);
    store_free_list(list);
    token_new_id("org_", other.id);
    snprintf(other.name, sizeof other.name, "inv-%s", f.org.name);
    cr_assert_eq(store_org_create(b, &other), RC_OK);
    struct store_invitation inv = {0};
    token_new_id("inv_", inv.id);
    snprintf(inv.org_id, sizeof inv.org_id, "%s", other.id);
    snprintf(inv.email, sizeof inv.email, "%s", f.user.email);
    snprintf(inv.role, sizeof inv.role, "member");
    inv.created_at = 1700000000;
    inv.expires_at = 1700000000 + 7 * 86400;
    cr_assert_eq(store_invitation_insert(b, &inv), RC_OK);
    cr_assert_eq(store_orgs_for_user(a, f.user.id, &list, &count), RC_OK); /* cached now */
    cr_assert_eq(count, 1);
    store_free_list(list);
    cr_assert_eq(store_invitation_decide(b, inv.id, f.user.id, 1, 1700000100, NULL), RC_OK);
    cr_assert_eq(store_orgs_for_user(a, f.user.id, &list, &count), RC_OK);
    cr_assert_eq(count, 2, "the accepted invitation's organization is seen at once");
    store_free_list(list);
}
