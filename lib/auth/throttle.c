/* throttle.c: counts failed authentications per client address in a fixed-size table, so an
 * attacker cannot grow memory; an address past the limit is blocked for a cooling period.
 * State is per process: with several pccd nodes each counts on its own (docs/deploy.md). */
#include <pthread.h>
#include <stdlib.h>
#include <string.h>

#include "auth.h"
#include "banned.h"

#define THROTTLE_SLOTS 4096
#define THROTTLE_PROBE 8

struct slot {
    char ip[STORE_IP_SIZE];
    int64_t window_start;
    unsigned failures;
    int64_t blocked_until;
};

struct auth_throttle {
    pthread_mutex_t lock;
    struct auth_limits limits;
    struct slot slots[THROTTLE_SLOTS];
};

struct auth_throttle *auth_throttle_new(const struct auth_limits *limits)
{
    struct auth_throttle *t = calloc(1, sizeof *t);
    if (!t)
        return NULL;
    pthread_mutex_init(&t->lock, NULL);
    t->limits = *limits;
    return t;
}

void auth_throttle_free(struct auth_throttle *t)
{
    if (!t)
        return;
    pthread_mutex_destroy(&t->lock);
    free(t);
}

static uint32_t hash(const char *s)
{
    uint32_t h = 2166136261u; /* FNV-1a */
    while (*s)
        h = (h ^ (unsigned char)*s++) * 16777619u;
    return h;
}

/* The slot of ip, or (create set) a free or stale one to reuse; NULL when none fits. */
static struct slot *find(struct auth_throttle *t, const char *ip, int64_t now, int create)
{
    uint32_t h = hash(ip);
    struct slot *victim = NULL;
    for (unsigned i = 0; i < THROTTLE_PROBE; i++) {
        struct slot *s = &t->slots[(h + i) % THROTTLE_SLOTS];
        if (strcmp(s->ip, ip) == 0)
            return s;
        int stale = s->ip[0] == '\0' ||
                    (s->blocked_until <= now &&
                     s->window_start + (int64_t)t->limits.window_seconds <= now);
        if (stale && !victim)
            victim = s;
    }
    if (!create)
        return NULL;
    if (!victim) /* every probed slot is busy: evict the first unblocked one */
        for (unsigned i = 0; i < THROTTLE_PROBE && !victim; i++) {
            struct slot *s = &t->slots[(h + i) % THROTTLE_SLOTS];
            if (s->blocked_until <= now)
                victim = s;
        }
    if (victim) {
        memset(victim, 0, sizeof *victim);
        size_t n = strnlen(ip, sizeof victim->ip - 1);
        memcpy(victim->ip, ip, n);
        victim->window_start = now;
    }
    return victim;
}

int auth_throttle_blocked(struct auth_throttle *t, const char *ip, int64_t now)
{
    int left = 0;
    pthread_mutex_lock(&t->lock);
    struct slot *s = find(t, ip, now, 0);
    if (s && s->blocked_until > now)
        left = (int)(s->blocked_until - now);
    pthread_mutex_unlock(&t->lock);
    return left;
}

void auth_throttle_fail(struct auth_throttle *t, const char *ip, int64_t now)
{
    pthread_mutex_lock(&t->lock);
    struct slot *s = find(t, ip, now, 1);
    if (s) {
        if (s->window_start + (int64_t)t->limits.window_seconds <= now) {
            s->window_start = now;
            s->failures = 0;
        }
        if (++s->failures >= t->limits.failures)
            s->blocked_until = now + t->limits.block_seconds;
    }
    pthread_mutex_unlock(&t->lock);
}
