/*
 * test_hotkeys.c: the hot-key sketch (storage/hotkeys.c). Space-Saving's rules on one sketch (counts,
 * the smallest count taken over and recorded as error, truncated long keys), and the cache's merged
 * view under skewed access: the keys a Zipf-like mix of gets and sets uses most come out first, with
 * estimates near the true counts; a uniform scan puts no key far ahead; reset forgets.
 */
#include "config.h"

#include <stdint.h>
#include <stdlib.h>

#include "storage/hotkeys.h"
#include "tests/unit/storage/storage_test.h"

static void offer(struct hk_sketch *s, const char *key, unsigned times, bool write)
{
    for (unsigned i = 0; i < times; i++)
        hk_offer(s, (uint64_t)key[0] * 1000003u + strlen(key), key, strlen(key), write);
}

static const struct hk_slot *slot_of(const struct hk_sketch *s, const char *key)
{
    for (uint32_t i = 0; i < s->used; i++)
        if (s->slots[i].nkey == strlen(key) && memcmp(s->slots[i].key, key, strlen(key)) == 0)
            return &s->slots[i];
    return NULL;
}

Test(hotkeys, space_saving_rules)
{
    static struct hk_sketch s;
    offer(&s, "a", 5, false);
    offer(&s, "b", 3, true);
    cr_assert_eq(s.used, 2);
    cr_expect_eq(slot_of(&s, "a")->count, 5);
    cr_expect_eq(slot_of(&s, "a")->reads, 5);
    cr_expect_eq(slot_of(&s, "b")->writes, 3);
    char key[8];
    for (unsigned i = 0; i < HK_SLOTS - 2; i++) { /* fill every slot: counts 2 */
        snprintf(key, sizeof(key), "k%u", i);
        offer(&s, key, 2, false);
    }
    cr_assert_eq(s.used, HK_SLOTS);
    offer(&s, "new", 1, false); /* takes over a slot of count 2: 3, error 2 */
    const struct hk_slot *n = slot_of(&s, "new");
    cr_assert_not_null(n);
    cr_expect_eq(n->count, 3);
    cr_expect_eq(n->error, 2);
    cr_expect_not_null(slot_of(&s, "a"), "the largest counts stay");
    cr_expect_not_null(slot_of(&s, "b"));
    hk_clear(&s);
    cr_expect_eq(s.used, 0);
}

Test(hotkeys, long_keys_truncated)
{
    static struct hk_sketch s;
    char big[HK_KEY_MAX + 50];
    memset(big, 'x', sizeof(big));
    hk_offer(&s, 7, big, sizeof(big), false);
    hk_offer(&s, 7, big, sizeof(big), false);
    cr_assert_eq(s.used, 1);
    cr_expect(s.slots[0].truncated);
    cr_expect_eq(s.slots[0].nkey, HK_KEY_MAX);
    cr_expect_eq(s.slots[0].count, 2);
}

/* A deterministic generator (xorshift) so the test's mix is the same every run. */
static uint64_t rng = 88172645463325252ull;
static uint64_t next(void)
{
    rng ^= rng << 13;
    rng ^= rng >> 7;
    rng ^= rng << 17;
    return rng;
}

Test(hotkeys, skewed_access_finds_the_hot_keys)
{
    struct cache *c = st_cache(0, 0, 6, 0); /* the server's 64 shards */
    char key[32];
    for (unsigned i = 0; i < 2000; i++) {
        snprintf(key, sizeof(key), "key:%u", i);
        cr_assert_eq(st_store(c, key, "v", 0, 0, CACHE_SET, 0, NULL), CACHE_OK);
    }
    cache_hotkeys_reset(c);
    /* hot:0 gets 20% of 200,000 accesses, hot:1 10%, hot:2 5%; the rest spread over 2,000 keys */
    unsigned truth[3] = {0, 0, 0};
    for (unsigned i = 0; i < 200000; i++) {
        unsigned r = (unsigned)(next() % 100);
        int hot = r < 20 ? 0 : r < 30 ? 1 : r < 35 ? 2 : -1;
        if (hot >= 0) {
            snprintf(key, sizeof(key), "hot:%d", hot);
            truth[hot]++;
        } else {
            snprintf(key, sizeof(key), "key:%u", (unsigned)(next() % 2000));
        }
        if (i % 10 == 0) {
            st_store(c, key, "w", 0, 0, CACHE_SET, 0, NULL);
        } else {
            struct item *it = cache_get(c, key, strlen(key), NULL);
            if (it != NULL)
                cache_item_release(c, &it);
        }
    }
    struct cache_hotkey top[10];
    size_t n = cache_hotkeys(c, top, 10);
    cr_assert_geq(n, 3);
    for (int h = 0; h < 3; h++) {
        snprintf(key, sizeof(key), "hot:%d", h);
        cr_expect(top[h].nkey == strlen(key) && memcmp(top[h].key, key, top[h].nkey) == 0, "rank %d: %.*s", h,
                  (int)top[h].nkey, top[h].key);
        double est = (double)top[h].accesses;
        cr_expect(est > 0.8 * truth[h] && est < 1.2 * truth[h] + (double)top[h].error, "hot:%d estimated %.0f, true %u",
                  h, est, truth[h]);
        cr_expect_gt(top[h].reads, top[h].writes, "nine gets to one set");
    }
    cr_expect_lt(top[3].accesses, top[2].accesses / 2, "the next key is far behind: %.*s %lu vs %.*s %lu",
                 (int)top[3].nkey, top[3].key, (unsigned long)top[3].accesses, (int)top[2].nkey, top[2].key,
                 (unsigned long)top[2].accesses);
    cache_hotkeys_reset(c);
    cr_expect_eq(cache_hotkeys(c, top, 10), 0);
    cache_destroy(&c);
}

/* Two keys of one shard strictly alternating (a pipeline's pattern): sampling must not alias with it
 * and count only one of them. */
Test(hotkeys, periodic_access_does_not_alias)
{
    struct cache *c = st_cache(0, 0, 0, 0); /* one shard */
    for (unsigned i = 0; i < 32000; i++) {
        const char *key = (i & 1) ? "odd" : "even";
        struct item *it = cache_get(c, key, strlen(key), NULL);
        cr_assert_null(it);
    }
    struct cache_hotkey top[4];
    size_t n = cache_hotkeys(c, top, 4);
    cr_assert_eq(n, 2);
    for (size_t i = 0; i < 2; i++)
        cr_expect(top[i].accesses > 12000 && top[i].accesses < 20000, "%.*s: %lu of 16000", (int)top[i].nkey,
                  top[i].key, (unsigned long)top[i].accesses);
    cache_destroy(&c);
}
