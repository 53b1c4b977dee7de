/*
 * test_scan.c: walking the keyspace (storage/scan.c): a full scan visits every key and ends at cursor
 * 0, dead keys are skipped, odd cursors end the scan; the dictScan guarantee while shards grow
 * between calls (deterministic: keys added after every call, lookups moving old buckets) and while
 * another thread inserts enough keys to force growth and reads (which migrates) during the scan;
 * random items (empty, one key, rough uniformity, never a dead one); cache_count.
 */
#include "config.h"

#include <pthread.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>

#include "tests/unit/storage/storage_test.h"

#define KEY(s) s, strlen(s)
#define MAXK   200000

/* One timeout for the whole suite (per-test timeouts of different lengths leak in Criterion's
 * runner under LeakSanitizer). */
TestSuite(scan, .timeout = 120);

/* Visit counts by key number, for keys named "<prefix><number>". */
struct seen {
    const char *prefix;
    unsigned *count; /* MAXK entries */
    size_t visits;
};

static void record(void *arg, const struct item *it)
{
    struct seen *s = arg;
    size_t np = strlen(s->prefix), n = item_nkey(it);
    char buf[32];

    s->visits++;
    if (n <= np || n - np >= sizeof buf || memcmp(item_key(it), s->prefix, np) != 0)
        return;
    memcpy(buf, item_key(it) + np, n - np);
    buf[n - np] = '\0';
    unsigned k = (unsigned)atoi(buf);
    if (k < MAXK)
        s->count[k]++;
}

static struct seen *seen_new(const char *prefix)
{
    struct seen *s = calloc(1, sizeof *s);

    s->prefix = prefix;
    s->count = calloc(MAXK, sizeof *s->count);
    return s;
}

static void seen_free(struct seen *s)
{
    free(s->count);
    free(s);
}

static void set_n(struct cache *c, const char *prefix, unsigned from, unsigned to)
{
    char key[32];

    for (unsigned i = from; i < to; i++) {
        snprintf(key, sizeof key, "%s%u", prefix, i);
        cr_assert_eq(st_set(c, key, "v"), CACHE_OK);
    }
}

/* Runs a scan to the end, calling between() after every call; returns the number of calls. */
static unsigned scan_all(struct cache *c, struct seen *s, void (*between)(struct cache *, unsigned))
{
    uint64_t cur = 0;
    unsigned calls = 0;

    do {
        cur = cache_scan(c, cur, record, s);
        calls++;
        cr_assert_lt(calls, 10000000u, "the scan does not end");
        if (between && cur)
            between(c, calls);
    } while (cur != 0);
    return calls;
}

static void expect_all(const struct seen *s, unsigned n)
{
    for (unsigned i = 0; i < n; i++)
        cr_assert_geq(s->count[i], 1, "%s%u never visited", s->prefix, i);
}

Test(scan, empty_cache_ends_at_once)
{
    struct cache *c = st_cache(0, 0, 6, 0);
    struct seen *s = seen_new("k");

    cr_assert_eq(cache_scan(c, 0, record, s), 0);
    cr_assert_eq(s->visits, 0);
    cr_assert_eq(cache_count(c), 0);
    seen_free(s);
    cache_destroy(&c);
}

Test(scan, visits_every_key_once_without_growth)
{
    struct cache *c = st_cache(0, 0, 3, 10);
    struct seen *s = seen_new("k");
    unsigned calls;

    set_n(c, "k", 0, 3000);
    cr_assert_eq(cache_count(c), 3000);
    calls = scan_all(c, s, NULL);
    expect_all(s, 3000);
    cr_assert_eq(s->visits, 3000, "no duplicates while nothing moves");
    cr_assert_gt(calls, 3000 / 32, "a call returns after a few items");
    seen_free(s);
    cache_destroy(&c);
}

Test(scan, skips_dead_items_and_odd_cursors_end)
{
    struct cache *c = st_cache(0, 0, 2, 4);
    struct seen *s = seen_new("k");

    cache_clock_set(c, 100);
    set_n(c, "k", 0, 50);
    cr_assert_eq(st_store(c, "k50", "v", 0, st_at(120), CACHE_SET, 0, NULL), CACHE_OK);
    scan_all(c, s, NULL);
    cr_assert_eq(s->visits, 51, "alive until second 120");
    cr_assert_eq(s->count[50], 1);
    s->visits = 0;
    memset(s->count, 0, MAXK * sizeof *s->count);
    cache_clock_set(c, 130);
    scan_all(c, s, NULL);
    cr_assert_eq(s->visits, 50);
    cr_assert_eq(s->count[50], 0, "an expired key is not visited");
    cr_assert_eq(cache_scan(c, (uint64_t)4 << 32, record, s), 0, "shard past the last");
    cr_assert_eq(cache_scan(c, UINT64_MAX, record, s), 0);
    seen_free(s);
    cache_destroy(&c);
}

static unsigned grow_next;

/* After every call: 40 new keys (so shards grow again and again), and lookups that move old buckets. */
static void grow_between(struct cache *c, unsigned call)
{
    char key[32];

    set_n(c, "new", grow_next, grow_next + 40);
    grow_next += 40;
    for (unsigned i = 0; i < 8; i++) {
        snprintf(key, sizeof key, "k%u", (call * 7 + i) % 500);
        struct item *it = cache_get(c, KEY(key), NULL);
        cache_item_release(c, &it);
    }
}

Test(scan, every_key_present_throughout_is_visited_while_shards_grow)
{
    struct cache *c = st_cache(64u << 20, 0, 1, 1);
    struct seen *s = seen_new("k");
    struct cache_stats st;

    set_n(c, "k", 0, 500);
    grow_next = 0;
    scan_all(c, s, grow_between);
    expect_all(s, 500);
    st = st_stats(c);
    cr_assert_gt(st.hash_power_level, 8, "the table grew during the scan (power %llu)",
                 (unsigned long long)st.hash_power_level);
    seen_free(s);
    cache_destroy(&c);
}

/* The scan starts while a shard is half migrated and keys keep coming. */
Test(scan, starts_in_the_middle_of_a_migration)
{
    struct cache *c = st_cache(64u << 20, 0, 0, 4);
    struct seen *s = seen_new("k");
    struct cache_stats st;
    unsigned n = 0;

    do { /* until a growth is under way */
        set_n(c, "k", n, n + 1);
        n++;
        st = st_stats(c);
    } while (!st.hash_is_expanding);
    grow_next = 0;
    scan_all(c, s, grow_between);
    expect_all(s, n);
    seen_free(s);
    cache_destroy(&c);
}

/* ---- the scan against a writer thread ---- */

static struct cache *rc;
static atomic_bool writer_stop, writer_done;

static void *writer(void *p)
{
    char key[32];
    unsigned i = 0;

    (void)p;
    while (!atomic_load(&writer_stop) && i < 150000) {
        snprintf(key, sizeof key, "w%u", i++);
        st_set(rc, key, "w");
        if (i % 4 == 0) { /* reads move old buckets too; deletes of the writer's own keys */
            snprintf(key, sizeof key, "k%u", i % 2000);
            struct item *it = cache_get(rc, KEY(key), NULL);
            cache_item_release(rc, &it);
            snprintf(key, sizeof key, "w%u", i / 2);
            cache_delete(rc, KEY(key), 0);
        }
    }
    atomic_store(&writer_done, true);
    return NULL;
}

static void slow_between(struct cache *c, unsigned call)
{
    (void)c;
    if (call % 16 == 0)
        sched_yield();
}

Test(scan, concurrent_inserts_force_growth_and_lose_no_key)
{
    pthread_t th;
    struct seen *s = seen_new("k");
    struct cache_stats before, after;

    rc = st_cache(256u << 20, 0, 2, 2);
    set_n(rc, "k", 0, 2000);
    before = st_stats(rc);
    atomic_store(&writer_stop, false);
    atomic_store(&writer_done, false);
    cr_assert_eq(pthread_create(&th, NULL, writer, NULL), 0);
    /* at least 3 full scans, and on until the table grew twice while they ran (or the writer ended) */
    for (int round = 0; round < 3 || (st_stats(rc).hash_power_level < before.hash_power_level + 2 &&
                                      !atomic_load(&writer_done));
         round++) {
        memset(s->count, 0, MAXK * sizeof *s->count);
        scan_all(rc, s, slow_between);
        expect_all(s, 2000);
    }
    atomic_store(&writer_stop, true);
    pthread_join(th, NULL);
    after = st_stats(rc);
    cr_assert_gt(after.hash_power_level, before.hash_power_level, "the writer made the table grow");
    seen_free(s);
    cache_destroy(&rc);
}

/* ---- random items ---- */

Test(scan, random_item_empty_and_single)
{
    struct cache *c = st_cache(0, 0, 6, 0);
    struct item *it;

    cr_assert_null(cache_random_item(c));
    st_set(c, "only", "v");
    for (int i = 0; i < 20; i++) {
        it = cache_random_item(c);
        cr_assert_not_null(it);
        cr_assert_eq(item_nkey(it), 4);
        cr_assert(memcmp(item_key(it), "only", 4) == 0);
        cache_item_release(c, &it);
    }
    cache_clock_set(c, 100);
    cr_assert_eq(st_store(c, "only", "v", 0, st_at(110), CACHE_SET, 0, NULL), CACHE_OK);
    it = cache_random_item(c);
    cr_assert_not_null(it, "alive until second 110");
    cache_item_release(c, &it);
    cache_clock_set(c, 120);
    cr_assert_null(cache_random_item(c), "a dead item is never returned");
    cache_destroy(&c);
}

Test(scan, random_item_is_roughly_uniform)
{
    struct cache *c = st_cache(0, 0, 3, 6);
    struct seen *s = seen_new("k");
    enum { N = 100, DRAWS = 40000 };
    unsigned lo = DRAWS, hi = 0;

    set_n(c, "k", 0, N);
    for (int i = 0; i < DRAWS; i++) {
        struct item *it = cache_random_item(c);

        cr_assert_not_null(it);
        record(s, it);
        cache_item_release(c, &it);
    }
    for (int k = 0; k < N; k++) {
        lo = s->count[k] < lo ? s->count[k] : lo;
        hi = s->count[k] > hi ? s->count[k] : hi;
    }
    /* mean 400 per key: every key drawn, none more than 3x or less than a third as often */
    cr_assert_gt(lo, DRAWS / N / 3, "least drawn key: %u", lo);
    cr_assert_lt(hi, DRAWS / N * 3, "most drawn key: %u", hi);
    seen_free(s);
    cache_destroy(&c);
}

Test(scan, count_follows_links)
{
    struct cache *c = st_cache(0, 0, 4, 0);

    set_n(c, "k", 0, 100);
    cr_assert_eq(cache_count(c), 100);
    cache_delete(c, KEY("k7"), 0);
    cr_assert_eq(cache_count(c), 99);
    cr_assert_eq(cache_count(c), st_stats(c).curr_items);
    cache_destroy(&c);
}
