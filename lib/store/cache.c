/* cache.c: an exact cache of the reads every authenticated request makes (the bearer lookup,
 * the caller's organizations, one organization of a member), in front of a backend.
 *
 * Exact, not time-bounded: an entry is used only while no write that could change it has been
 * made anywhere since it was read. Both backends keep a "generation" value that every such
 * write changes; a reader takes the value *before* it queries, tags what it caches with it, and
 * uses an entry only while the value is still its tag. So a revocation committed by any process
 * or node is seen by every other one from its next request on.
 *
 * SQLite (one machine): the value is a 64-bit word in a small file beside the database, mapped
 * by every process that opens it. The writers of credential data (the ops wrapped below) add 1
 * to its high half before the write and 1 to its low half after it, so the halves differ exactly
 * while such a write is in flight, and nothing is cached or served from the cache meanwhile. A
 * writer killed between its two additions leaves them unequal: the cache stays off (every read
 * goes to the database, which is always right) until the word has stood still for
 * STUCK_SECONDS, when a reader sets both halves past their maximum. Values never repeat, so an
 * old entry can never match again. Reading it costs no system call.
 *
 * PostgreSQL (several nodes, no shared memory): the value is a row that triggers bump in the
 * same transaction as the write (migration 0007), read with one small query per request in
 * place of the lookups. It also catches writes made with psql. */
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "store_backend.h"
#include "banned.h"

#define SHARDS 16      /* per table; a shard is one mutex and its slots */
#define TOKEN_SLOTS 64 /* per shard: 1,024 cached bearer lookups */
#define ORGS_SLOTS 32  /* per shard: 512 users' organization lists */
#define ORG_SLOTS 32   /* per shard: 512 (member, organization) pairs */
#define ORGS_MAX 16    /* longer organization lists are not cached */
#define KEY_SIZE (ID_BUF_SIZE + STORE_SLUG_SIZE)
#define STUCK_SECONDS 30 /* an unfinished write older than this is taken for a dead writer */
#define GEN_FILE_SIZE 4096

/* --- the shared generation word ----------------------------------------------------------- */

static int gen_balanced(uint64_t w) { return (uint32_t)(w >> 32) == (uint32_t)w; }

struct generation {
    uint64_t *word;      /* in the shared mapping; NULL: the database keeps the value */
    uint64_t stuck_word; /* an unbalanced value seen by this process... */
    int64_t stuck_since; /* ...since this monotonic second */
    pthread_mutex_t stuck_lock;
};

static int64_t monotonic_seconds(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec;
}

/* The word to tag a read with, or 0 when the cache must not be used now. */
static uint64_t gen_read_shared(struct generation *g)
{
    uint64_t w = __atomic_load_n(g->word, __ATOMIC_ACQUIRE);
    if (gen_balanced(w))
        return w == 0 ? 1 : w; /* 0 means "off"; a fresh file's 0 is as good as any */
    pthread_mutex_lock(&g->stuck_lock);
    int64_t now = monotonic_seconds();
    if (w != g->stuck_word) {
        g->stuck_word = w;
        g->stuck_since = now;
    } else if (now - g->stuck_since >= STUCK_SECONDS) {
        uint32_t hi = (uint32_t)(w >> 32), lo = (uint32_t)w;
        uint64_t next = (uint64_t)((hi > lo ? hi : lo) + 1);
        next = next << 32 | next;
        __atomic_compare_exchange_n(g->word, &w, next, 0, __ATOMIC_ACQ_REL, __ATOMIC_ACQUIRE);
    }
    pthread_mutex_unlock(&g->stuck_lock);
    return 0;
}

static void gen_write_begin(struct generation *g)
{
    if (g->word)
        __atomic_fetch_add(g->word, (uint64_t)1 << 32, __ATOMIC_ACQ_REL);
}

static void gen_write_end(struct generation *g)
{
    if (g->word)
        __atomic_fetch_add(g->word, 1, __ATOMIC_ACQ_REL);
}

static enum rc gen_map(struct generation *g, const char *path, char *err, size_t errlen)
{
    int fd = open(path, O_RDWR | O_CREAT | O_CLOEXEC | O_NOFOLLOW, 0600);
    if (fd < 0) {
        snprintf(err, errlen, "cannot open %s: %s", path, strerror(errno));
        return RC_STORE;
    }
    struct stat sb;
    void *map = MAP_FAILED;
    if (fstat(fd, &sb) == 0 && (sb.st_size >= GEN_FILE_SIZE || ftruncate(fd, GEN_FILE_SIZE) == 0))
        map = mmap(NULL, GEN_FILE_SIZE, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
    int saved = errno;
    close(fd);
    if (map == MAP_FAILED) {
        snprintf(err, errlen, "cannot map %s: %s", path, strerror(saved));
        return RC_STORE;
    }
    g->word = map;
    return RC_OK;
}

/* --- tables of tagged entries --------------------------------------------------------------- */

struct slot {
    uint64_t hash; /* 0: empty */
    uint64_t tag;  /* the generation word it was read under */
    uint64_t tick; /* last use, for eviction */
    char key[KEY_SIZE];
    void *value;
};

struct shard {
    pthread_mutex_t lock;
    uint64_t tick;
    struct slot *slots;
};

struct table {
    size_t slots_per_shard;
    void (*free_value)(void *value);
    struct shard shards[SHARDS];
};

static uint64_t key_hash(const char *key)
{
    uint64_t h = 1469598103934665603ull; /* FNV-1a */
    for (; *key; key++)
        h = (h ^ (unsigned char)*key) * 1099511628211ull;
    return h ? h : 1;
}

static enum rc table_init(struct table *t, size_t slots, void (*free_value)(void *))
{
    t->slots_per_shard = slots;
    t->free_value = free_value;
    for (int i = 0; i < SHARDS; i++) {
        pthread_mutex_init(&t->shards[i].lock, NULL);
        t->shards[i].slots = calloc(slots, sizeof(struct slot));
        if (!t->shards[i].slots)
            return RC_NOMEM;
    }
    return RC_OK;
}

static void table_release(struct table *t)
{
    for (int i = 0; i < SHARDS; i++) {
        struct shard *sh = &t->shards[i];
        for (size_t j = 0; sh->slots && j < t->slots_per_shard; j++)
            t->free_value(sh->slots[j].value);
        free(sh->slots);
        pthread_mutex_destroy(&sh->lock);
    }
}

/* Call copy(value, ctx) under the shard's lock when key has an entry tagged tag; 1 if so. */
static int table_get(struct table *t, const char *key, uint64_t tag,
                     void (*copy)(const void *value, void *ctx), void *ctx)
{
    uint64_t h = key_hash(key);
    struct shard *sh = &t->shards[h % SHARDS];
    int hit = 0;
    pthread_mutex_lock(&sh->lock);
    for (size_t i = 0; i < t->slots_per_shard; i++) {
        struct slot *s = &sh->slots[i];
        if (s->hash == h && s->tag == tag && strcmp(s->key, key) == 0) {
            s->tick = ++sh->tick;
            copy(s->value, ctx);
            hit = 1;
            break;
        }
    }
    pthread_mutex_unlock(&sh->lock);
    return hit;
}

/* Store value (owned by the table from now on) under key, replacing the entry of that key, or
 * an entry of an older generation, or else the least recently used one. */
static void table_put(struct table *t, const char *key, uint64_t tag, void *value)
{
    uint64_t h = key_hash(key);
    struct shard *sh = &t->shards[h % SHARDS];
    pthread_mutex_lock(&sh->lock);
    struct slot *victim = &sh->slots[0];
    for (size_t i = 0; i < t->slots_per_shard; i++) {
        struct slot *s = &sh->slots[i];
        if (s->hash == h && strcmp(s->key, key) == 0) {
            victim = s;
            break;
        }
        if (s->hash == 0 || s->tag != tag) {
            victim = s;
            continue;
        }
        if (victim->hash && victim->tag == tag && s->tick < victim->tick)
            victim = s;
    }
    void *old = victim->value;
    victim->hash = h;
    victim->tag = tag;
    victim->tick = ++sh->tick;
    store_copy_field(victim->key, sizeof victim->key, key);
    victim->value = value;
    pthread_mutex_unlock(&sh->lock);
    t->free_value(old);
}

/* Apply fn(value, ctx) to every entry (under each shard's lock). */
static void table_each(struct table *t, void (*fn)(void *value, void *ctx), void *ctx)
{
    for (int i = 0; i < SHARDS; i++) {
        struct shard *sh = &t->shards[i];
        pthread_mutex_lock(&sh->lock);
        for (size_t j = 0; j < t->slots_per_shard; j++)
            if (sh->slots[j].hash)
                fn(sh->slots[j].value, ctx);
        pthread_mutex_unlock(&sh->lock);
    }
}

/* --- the cache ---------------------------------------------------------------------------- */

struct principal {
    struct store_token token;
    struct store_user owner;
};

struct org_list {
    size_t count;
    struct store_org orgs[];
};

struct store_cache {
    const struct store_ops *backend; /* the backend's own ops */
    struct store_ops ops;            /* installed in the store: the backend's, some wrapped */
    struct generation gen;
    struct table tokens; /* digest -> principal */
    struct table orgs;   /* user id -> org_list */
    struct table member; /* user id "/" org name -> store_org */
};

static struct store_cache *cache_of(struct store *st) { return st->cache; }

/* The request in progress on this thread (store_request_begin) and the generation it took. */
static _Thread_local struct {
    struct store *st;
    int taken;
    uint64_t value;
} request_view;

void store_request_begin(struct store *st)
{
    request_view.st = st && st->cache ? st : NULL;
    request_view.taken = 0;
}

void store_request_end(struct store *st)
{
    if (request_view.st == st)
        request_view.st = NULL;
}

/* The generation to tag a read with, or 0 when the cache must not be used now. */
static uint64_t gen_read(struct store *st)
{
    struct store_cache *c = cache_of(st);
    if (c->gen.word)
        return gen_read_shared(&c->gen); /* free to read: always the current one */
    int in_request = request_view.st == st;
    if (in_request && request_view.taken)
        return request_view.value;
    uint64_t value = 0;
    if (c->backend->credential_generation(st, &value) != RC_OK)
        value = 0; /* the read that follows meets the same trouble and reports it */
    if (in_request) {
        request_view.taken = 1;
        request_view.value = value;
    }
    return value;
}

/* After a credential write the request's view is out of date: take the generation anew. */
static void end_request_view(struct store *st)
{
    if (request_view.st == st)
        request_view.taken = 0;
}

static void copy_principal(const void *value, void *ctx)
{
    memcpy(ctx, value, sizeof(struct principal));
}

static enum rc cached_token_lookup(struct store *st, const char *digest, struct store_token *tok,
                                   struct store_user *owner)
{
    struct store_cache *c = cache_of(st);
    uint64_t tag = gen_read(st);
    struct principal p;
    if (tag && table_get(&c->tokens, digest, tag, copy_principal, &p)) {
        *tok = p.token;
        *owner = p.owner;
        return RC_OK;
    }
    enum rc rc = c->backend->token_lookup(st, digest, tok, owner);
    if (rc == RC_OK && tag) {
        struct principal *copy = malloc(sizeof *copy);
        if (copy) {
            copy->token = *tok;
            copy->owner = *owner;
            table_put(&c->tokens, digest, tag, copy);
        }
    }
    return rc;
}

struct touch {
    const char *token_id;
    int64_t now;
    const char *ip, *agent;
};

static void apply_touch(void *value, void *ctx)
{
    struct principal *p = value;
    const struct touch *t = ctx;
    if (strcmp(p->token.id, t->token_id) != 0)
        return;
    p->token.last_used_at = t->now;
    store_copy_field(p->token.last_used_ip, sizeof p->token.last_used_ip, t->ip);
    store_copy_field(p->token.last_used_agent, sizeof p->token.last_used_agent, t->agent);
}

/* The last-use stamp changes nothing a request decides on, so it is not a generation change;
 * the cached copies take the new stamp, or every request would stamp again. */
static enum rc cached_token_touch(struct store *st, const char *token_id, int64_t now,
                                  const char *ip, const char *agent)
{
    struct store_cache *c = cache_of(st);
    enum rc rc = c->backend->token_touch(st, token_id, now, ip, agent);
    if (rc == RC_OK) {
        struct touch t = {token_id, now, ip, agent};
        table_each(&c->tokens, apply_touch, &t);
    }
    return rc;
}

struct list_out {
    struct store_org *list;
    size_t count;
};

static void copy_org_list(const void *value, void *ctx)
{
    const struct org_list *l = value;
    struct list_out *out = ctx;
    out->list = malloc(l->count ? l->count * sizeof *out->list : 1);
    if (out->list) {
        memcpy(out->list, l->orgs, l->count * sizeof *out->list);
        out->count = l->count;
    }
}

static enum rc cached_orgs_for_user(struct store *st, const char *user_id, struct store_org **list,
                                    size_t *count)
{
    struct store_cache *c = cache_of(st);
    uint64_t tag = gen_read(st);
    struct list_out out = {NULL, 0};
    if (tag && table_get(&c->orgs, user_id, tag, copy_org_list, &out) && out.list) {
        *list = out.list;
        *count = out.count;
        return RC_OK;
    }
    enum rc rc = c->backend->orgs_for_user(st, user_id, list, count);
    if (rc == RC_OK && tag && *count <= ORGS_MAX) {
        struct org_list *copy = malloc(sizeof *copy + *count * sizeof(struct store_org));
        if (copy) {
            copy->count = *count;
            if (*count) /* a user in no organization: *list may be NULL */
                memcpy(copy->orgs, *list, *count * sizeof(struct store_org));
            table_put(&c->orgs, user_id, tag, copy);
        }
    }
    return rc;
}

static void copy_org(const void *value, void *ctx) { memcpy(ctx, value, sizeof(struct store_org)); }

static enum rc cached_org_for_member(struct store *st, const char *user_id, const char *org_name,
                                     struct store_org *out)
{
    struct store_cache *c = cache_of(st);
    char key[KEY_SIZE];
    int n = snprintf(key, sizeof key, "%s/%s", user_id, org_name ? org_name : "");
    uint64_t tag = n > 0 && (size_t)n < sizeof key ? gen_read(st) : 0;
    if (tag && table_get(&c->member, key, tag, copy_org, out))
        return RC_OK;
    enum rc rc = c->backend->org_for_member(st, user_id, org_name, out);
    if (rc == RC_OK && tag) {
        struct store_org *copy = malloc(sizeof *copy);
        if (copy) {
            *copy = *out;
            table_put(&c->member, key, tag, copy);
        }
    }
    return rc;
}

/* Every op that changes what the cached reads return (tokens, users, organizations,
 * memberships, token policies) runs between the two halves of a generation change. A new op of
 * that kind must be added here, with a test in tests/unit/store/cache_test.c that reads through one
 * handle, writes through another and reads again. */
#define WRAP_WRITE(name, params, args)                                                             \
    static enum rc wrapped_##name params                                                           \
    {                                                                                              \
        struct store_cache *c = cache_of(st);                                                      \
        gen_write_begin(&c->gen);                                                                  \
        enum rc rc = c->backend->name args;                                                        \
        gen_write_end(&c->gen);                                                                    \
        end_request_view(st);                                                                      \
        return rc;                                                                                 \
    }
#define CREDENTIAL_WRITES(X)                                                                       \
    X(migrate, (struct store * st, int *applied, char *err, size_t errlen),                        \
      (st, applied, err, errlen))                                                                  \
    X(user_create, (struct store * st, struct store_user * user), (st, user))                      \
    X(org_create, (struct store * st, struct store_org * org), (st, org))                          \
    X(org_set_daily_key, (struct store * st, const char *org_id, const char *sealed),              \
      (st, org_id, sealed))                                                                        \
    X(daily_key_seal_legacy, (struct store * st, const char *org_id, const char *sealed),          \
      (st, org_id, sealed))                                                                        \
    X(membership_put,                                                                              \
      (struct store * st, const char *user_id, const char *org_id, const char *role, int64_t now), \
      (st, user_id, org_id, role, now))                                                            \
    X(token_insert, (struct store * st, const struct store_token *tok), (st, tok))                 \
    X(token_revoke, (struct store * st, const char *user_id, const char *token_id, int64_t now),   \
      (st, user_id, token_id, now))                                                                \
    X(token_rotate,                                                                                \
      (struct store * st, const struct store_token *tok, const char *expected_digest),             \
      (st, tok, expected_digest))                                                                  \
    X(token_policy_put,                                                                            \
      (struct store * st, const char *org_id, const struct store_token_policy *policy),            \
      (st, org_id, policy))                                                                        \
    X(service_account_create,                                                                      \
      (struct store * st, const struct store_user *user,                                           \
       const struct store_service_account *account),                                               \
      (st, user, account))                                                                         \
    X(service_account_delete, (struct store * st, const char *org_id, const char *name),           \
      (st, org_id, name))                                                                          \
    X(membership_change,                                                                           \
      (struct store * st, const char *org_id, const char *user_id, const char *role),              \
      (st, org_id, user_id, role))                                                                 \
    X(oauth_refresh_rotate,                                                                        \
      (struct store * st, const char *digest, int64_t now, const struct store_token *access,       \
       const struct store_oauth_refresh *next, struct store_oauth_refresh *out),                   \
      (st, digest, now, access, next, out))                                                        \
    X(oauth_family_revoke, (struct store * st, const char *family_id, int64_t now),                \
      (st, family_id, now))                                                                        \
    X(oauth_revoke_user, (struct store * st, const char *user_id, int64_t now),                    \
      (st, user_id, now))                                                                          \
    X(invitation_decide,                                                                           \
      (struct store * st, const char *id, const char *user_id, int accept, int64_t now,            \
       struct store_invitation *out),                                                              \
      (st, id, user_id, accept, now, out))

CREDENTIAL_WRITES(WRAP_WRITE)

static void cache_free(struct store_cache *c)
{
    if (!c)
        return;
    table_release(&c->tokens);
    table_release(&c->orgs);
    table_release(&c->member);
    if (c->gen.word)
        munmap(c->gen.word, GEN_FILE_SIZE);
    pthread_mutex_destroy(&c->gen.stuck_lock);
    free(c);
}

static void cached_close(struct store *st)
{
    struct store_cache *c = cache_of(st);
    st->ops = c->backend;
    st->cache = NULL;
    cache_free(c);
    st->ops->close(st);
}

enum rc store_cache_attach(struct store *st, const char *generation_path, char *err, size_t errlen)
{
    if (!generation_path && !st->ops->credential_generation) {
        snprintf(err, errlen, "the database keeps no credential generation");
        return RC_INVALID;
    }
    struct store_cache *c = calloc(1, sizeof *c);
    if (!c)
        return RC_NOMEM;
    pthread_mutex_init(&c->gen.stuck_lock, NULL);
    enum rc rc = generation_path ? gen_map(&c->gen, generation_path, err, errlen) : RC_OK;
    if (rc == RC_OK)
        rc = table_init(&c->tokens, TOKEN_SLOTS, free);
    if (rc == RC_OK)
        rc = table_init(&c->orgs, ORGS_SLOTS, free);
    if (rc == RC_OK)
        rc = table_init(&c->member, ORG_SLOTS, free);
    if (rc != RC_OK) {
        if (rc == RC_NOMEM)
            snprintf(err, errlen, "out of memory");
        cache_free(c);
        return rc;
    }
    c->backend = st->ops;
    c->ops = *st->ops;
    c->ops.close = cached_close;
    c->ops.token_lookup = cached_token_lookup;
    c->ops.token_touch = cached_token_touch;
    c->ops.orgs_for_user = cached_orgs_for_user;
    c->ops.org_for_member = cached_org_for_member;
#define INSTALL(name, params, args) c->ops.name = wrapped_##name;
    CREDENTIAL_WRITES(INSTALL)
#undef INSTALL
    st->cache = c;
    st->ops = &c->ops;
    return RC_OK;
}
