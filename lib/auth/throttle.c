/* throttle.c: counts failures per key (a client address, an account) in a fixed-size table, so
 * an attacker cannot grow memory; a key past the limit is blocked for a cooling period. State is
 * per process: with several pccd nodes each counts on its own (docs/deploy.md).
 *
 * Slots are found by a keyed hash (SipHash under a random key of this process), so nobody can
 * choose keys that land on one group of slots. A failure is always counted: when every slot a key
 * may use is held by a blocked key, the one whose block ends first gives way (it has served most
 * of its block, and the newest blocks, such as an account under attack, are kept longest). */
#include <pthread.h>
#include <stdlib.h>
#include <string.h>

#include <sodium.h>

#include "auth.h"
#include "banned.h"

#define THROTTLE_SLOTS 4096
#define THROTTLE_PROBE 8

struct counter {
    int64_t window_start;
    unsigned failures;
    int64_t blocked_until;
};

struct slot {
    char ip[STORE_IP_SIZE]; /* the key; "" for a free slot */
    struct counter count;
};

struct auth_throttle {
    pthread_mutex_t lock;
    struct auth_limits limits;
    unsigned char hash_key[crypto_shorthash_KEYBYTES];
    struct slot slots[THROTTLE_SLOTS];
};

struct auth_throttle *auth_throttle_new(const struct auth_limits *limits)
{
    struct auth_throttle *t = calloc(1, sizeof *t);
    if (!t)
        return NULL;
    pthread_mutex_init(&t->lock, NULL);
    t->limits = *limits;
    crypto_shorthash_keygen(t->hash_key);
    return t;
}

void auth_throttle_free(struct auth_throttle *t)
{
    if (!t)
        return;
    pthread_mutex_destroy(&t->lock);
    free(t);
}

static uint64_t hash(const struct auth_throttle *t, const char *key)
{
    unsigned char out[crypto_shorthash_BYTES];
    crypto_shorthash(out, (const unsigned char *)key, strlen(key), t->hash_key);
    uint64_t h = 0;
    for (size_t i = 0; i < sizeof out; i++)
        h = h << 8 | out[i];
    return h;
}

static int counter_stale(const struct auth_throttle *t, const struct counter *c, int64_t now)
{
    return c->blocked_until <= now && c->window_start + (int64_t)t->limits.window_seconds <= now;
}

/* The slot of key, or (create set) one to reuse: a free or stale one, else the first unblocked
 * one, else the one whose block ends first; NULL only without create. */
static struct slot *find(struct auth_throttle *t, const char *key, int64_t now, int create)
{
    uint64_t h = hash(t, key);
    struct slot *victim = NULL, *unblocked = NULL, *soonest = NULL;
    for (unsigned i = 0; i < THROTTLE_PROBE; i++) {
        struct slot *s = &t->slots[(h + i) % THROTTLE_SLOTS];
        if (strcmp(s->ip, key) == 0)
            return s;
        if (!victim && (s->ip[0] == '\0' || counter_stale(t, &s->count, now)))
            victim = s;
        if (!unblocked && s->count.blocked_until <= now)
            unblocked = s;
        if (!soonest || s->count.blocked_until < soonest->count.blocked_until)
            soonest = s;
    }
    if (!create)
        return NULL;
    victim = victim ? victim : unblocked ? unblocked : soonest;
    memset(victim, 0, sizeof *victim);
    size_t n = strnlen(key, sizeof victim->ip - 1);
    memcpy(victim->ip, key, n);
    victim->count.window_start = now;
    return victim;
}

int auth_throttle_blocked(struct auth_throttle *t, const char *ip, int64_t now)
{
    int left = 0;
    pthread_mutex_lock(&t->lock);
    struct slot *s = find(t, ip, now, 0);
    if (s && s->count.blocked_until > now)
        left = (int)(s->count.blocked_until - now);
    pthread_mutex_unlock(&t->lock);
    return left;
}

void auth_throttle_fail(struct auth_throttle *t, const char *ip, int64_t now)
{
    pthread_mutex_lock(&t->lock);
    struct counter *c = &find(t, ip, now, 1)->count;
    if (c->window_start + (int64_t)t->limits.window_seconds <= now) {
        c->window_start = now;
        c->failures = 0;
    }
    if (++c->failures >= t->limits.failures)
        c->blocked_until = now + t->limits.block_seconds;
    pthread_mutex_unlock(&t->lock);
}
