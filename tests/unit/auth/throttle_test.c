/* throttle_test.c: the failure throttle keeps counting whatever the table holds: a key whose
 * slots are all held by blocked keys is still blocked after its own failures (and stays blocked
 * while older blocks give way), a full table of stale entries makes room, and a key that never
 * failed is never blocked. */
#include <stdio.h>
#include <string.h>

#include <criterion/criterion.h>
#include <sodium.h>

#include "auth.h"

static const struct auth_limits limits = {3, 60, 60}; /* 3 failures a minute: blocked a minute */

static void block(struct auth_throttle *t, const char *key, int64_t now)
{
    for (unsigned i = 0; i < limits.failures; i++)
        auth_throttle_fail(t, key, now);
}

Test(throttle, a_key_past_its_limit_is_blocked_and_released_after_the_cooling_period)
{
    cr_assert(sodium_init() >= 0);
    struct auth_throttle *t = auth_throttle_new(&limits);
    auth_throttle_fail(t, "203.0.113.9", 1000);
    auth_throttle_fail(t, "203.0.113.9", 1001);
    cr_assert_eq(auth_throttle_blocked(t, "203.0.113.9", 1001), 0);
    auth_throttle_fail(t, "203.0.113.9", 1002);
    cr_assert_eq(auth_throttle_blocked(t, "203.0.113.9", 1002), 60);
    cr_assert_eq(auth_throttle_blocked(t, "198.51.100.7", 1002), 0, "another key is spared");
    cr_assert_eq(auth_throttle_blocked(t, "203.0.113.9", 1062), 0);
    auth_throttle_free(t);
}

/* The review's case: an attacker fills the table with blocked keys, so that the slots a victim
 * key (an account) may use are all taken and nothing can be evicted. Its failures must still
 * count: before the fix they were dropped and the key was never blocked. */
Test(throttle, keeps_counting_when_every_probed_slot_is_blocked)
{
    cr_assert(sodium_init() >= 0);
    struct auth_throttle *t = auth_throttle_new(&limits);
    char key[64];
    for (int i = 0; i < 40000; i++) {
        snprintf(key, sizeof key, "filler-%d", i);
        block(t, key, 1000);
    }
    int free_keys = 0;
    for (int v = 0; v < 50; v++) {
        snprintf(key, sizeof key, "victim-%d", v);
        cr_assert_eq(auth_throttle_blocked(t, key, 1001), 0, "%s never failed", key);
        block(t, key, 1001);
        if (auth_throttle_blocked(t, key, 1001) > 0)
            free_keys++;
    }
    cr_assert_eq(free_keys, 50, "only %d of 50 keys were blocked after their failures", free_keys);
    /* More keys failing later push out the older blocks first, not the victims' newer ones. */
    for (int i = 0; i < 200; i++) {
        snprintf(key, sizeof key, "late-%d", i);
        block(t, key, 1002);
    }
    int still = 0;
    for (int v = 0; v < 50; v++) {
        snprintf(key, sizeof key, "victim-%d", v);
        still += auth_throttle_blocked(t, key, 1002) > 0;
    }
    cr_assert_eq(still, 50, "only %d of 50 victims are still blocked", still);
    auth_throttle_free(t);
}

Test(throttle, stale_entries_make_room_for_new_keys)
{
    cr_assert(sodium_init() >= 0);
    struct auth_throttle *t = auth_throttle_new(&limits);
    char key[64];
    for (int i = 0; i < 40000; i++) {
        snprintf(key, sizeof key, "old-%d", i);
        block(t, key, 1000);
    }
    /* Two minutes on, every block and window has ended: a new key gets a slot of its own and
     * is blocked by its own failures only. */
    auth_throttle_fail(t, "fresh", 1200);
    cr_assert_eq(auth_throttle_blocked(t, "fresh", 1200), 0);
    block(t, "fresh", 1200);
    cr_assert_eq(auth_throttle_blocked(t, "fresh", 1200), 60);
    cr_assert_eq(auth_throttle_blocked(t, "other", 1200), 0);
    auth_throttle_free(t);
}
