/*
 * test_expiry.c: the relative clock, lazy expiry, touch and get-and-touch, background reclaim, and
 * flush_all now and later. (memcached's exptime rules are the protocol's: tests/unit/protocol.)
 */
#include "tests/unit/storage/storage_test.h"

#include <pthread.h>
#include <time.h>

static struct cache *c;

static void setup(void)
{
    c = st_cache(0, 0, 2, 4);
    cache_clock_set(c, 1000);
}

static void teardown(void)
{
    cache_destroy(&c);
}

TestSuite(expiry, .init = setup, .fini = teardown);

Test(expiry, clock_starts_after_zero_and_ticks_forward)
{
    struct cache *fresh = st_cache(0, 0, 0, 0);
    time_t started = cache_process_started(fresh);
    time_t now = time(NULL);

    cr_assert(started >= now - 3 && started <= now - 2, "started %lld now %lld",
              (long long)started, (long long)now);
    cr_assert_geq(cache_rel_time(fresh), 2);
    cache_clock_tick(fresh, started + 500);
    cr_assert_eq(cache_rel_time(fresh), 500);
    cache_clock_tick(fresh, started + 400);
    cr_assert_eq(cache_rel_time(fresh), 500, "the clock never goes back");
    cache_clock_set(fresh, 7);
    cr_assert_eq(cache_rel_time(fresh), 7);
    cache_destroy(&fresh);
}

Test(expiry, negative_exptime_store_is_immediately_dead)
{
    cr_assert_eq(st_store(c, "k", "v", 0, st_at(1), CACHE_SET, 0, NULL), CACHE_OK);
    st_expect_miss(c, "k", CACHE_MISS_EXPIRED);
    st_expect_miss(c, "k", CACHE_MISS_NONE);
}

Test(expiry, lazy_expiry_on_get)
{
    struct cache_stats s;

    cr_assert_eq(st_store(c, "k", "v", 0, st_in(c, 10), CACHE_SET, 0, NULL), CACHE_OK);
    cr_assert_eq(st_set(c, "forever", "v"), CACHE_OK);
    cache_clock_set(c, 1009);
    st_expect(c, "k", "v");
    cache_clock_set(c, 1010);
    st_expect_miss(c, "k", CACHE_MISS_EXPIRED);
    s = st_stats(c);
    cr_assert_eq(s.curr_items, 1, "the expired item was unlinked by the lookup");
    st_expect_miss(c, "k", CACHE_MISS_NONE);
    cache_clock_set(c, 100000000);
    st_expect(c, "forever", "v");
}

Test(expiry, expired_items_count_as_absent_for_stores)
{
    cache_exp_t exp = st_in(c, 5);

    cr_assert_eq(st_store(c, "k", "v", 0, exp, CACHE_SET, 0, NULL), CACHE_OK);
    cache_clock_set(c, 1005);
    cr_assert_eq(st_store(c, "k", "x", 0, 0, CACHE_REPLACE, 0, NULL), CACHE_NOT_STORED);
    cr_assert_eq(st_store(c, "k", "x", 0, exp, CACHE_SET, 0, NULL), CACHE_OK);
    cr_assert_eq(st_store(c, "k", "y", 0, 0, CACHE_ADD, 0, NULL), CACHE_OK,
                 "an item stored already expired is absent for ADD");
    st_expect(c, "k", "y");
}

Test(expiry, touch_and_get_touch)
{
    struct item *it;
    enum cache_miss_reason why;

    cr_assert_eq(st_store(c, "k", "v", 0, st_in(c, 10), CACHE_SET, 0, NULL), CACHE_OK);
    cr_assert_eq(cache_touch(c, "k", 1, st_in(c, 100)), CACHE_OK);
    cr_assert_eq(cache_touch(c, "nope", 4, st_at(5)), CACHE_NOT_FOUND);
    cache_clock_set(c, 1050);
    st_expect(c, "k", "v");
    it = cache_get_touch(c, "k", 1, st_in(c, 5), &why);
    cr_assert_not_null(it);
    cr_assert_eq(why, CACHE_MISS_NONE);
    cr_assert_eq(item_exptime(it), 1055);
    cr_assert_neq(item_state(it) & ITEM_FETCHED, 0);
    cache_item_release(c, &it);
    cache_clock_set(c, 1055);
    cr_assert_null(cache_get_touch(c, "k", 1, 0, &why), "expired before the touch");
    cr_assert_eq(why, CACHE_MISS_EXPIRED);
    cr_assert_eq(cache_touch(c, "k", 1, 0), CACHE_NOT_FOUND);
    cr_assert_eq(st_set(c, "k", "v"), CACHE_OK);
    cr_assert_eq(cache_touch(c, "k", 1, st_at(1)), CACHE_OK);
    st_expect_miss(c, "k", CACHE_MISS_EXPIRED);
}

/* The accessors the protocol layer uses to read exptime and atime without the shard lock. */
Test(expiry, exptime_and_atime_accessors)
{
    struct item *it;

    cr_assert_eq(st_store(c, "k", "v", 0, st_in(c, 10), CACHE_SET, 0, NULL), CACHE_OK);
    it = cache_get(c, "k", 1, NULL);
    cr_assert_not_null(it);
    cr_assert_eq(item_exptime(it), 1010);
    cr_assert_eq(item_atime(it), 1000);
    cache_clock_set(c, 1003);
    cr_assert_eq(cache_touch(c, "k", 1, CACHE_EXP_NEVER), CACHE_OK);
    cr_assert_eq(item_exptime(it), 0, "a held reference sees the touch");
    cr_assert_eq(item_atime(it), 1003, "a touch is an access");
    cache_item_release(c, &it);
}

struct toucher_arg {
    int rounds;
    int bad;
    struct item *held;
};

/* Touches "k" back and forth between two exptimes. */
static void *toucher(void *p)
{
    struct toucher_arg *a = p;
    int i;

    for (i = 0; i < a->rounds; i++)
        if (cache_touch(c, "k", 1, st_at((i & 1) ? 5000u : 7000u)) != CACHE_OK)
            a->bad++;
    return NULL;
}

/* Reads exptime and atime of a held item without any lock while another thread touches it: every
 * value read is one that was written (relaxed atomics: no torn or invented values). */
Test(expiry, unlocked_exptime_reads_race_only_with_whole_values)
{
    struct toucher_arg a = {.rounds = 20000};
    pthread_t th;
    int i, seen5 = 0, seen7 = 0;

    cr_assert_eq(st_store(c, "k", "v", 0, st_at(7000u), CACHE_SET, 0, NULL), CACHE_OK);
    a.held = cache_get(c, "k", 1, NULL);
    cr_assert_not_null(a.held);
    cr_assert_eq(pthread_create(&th, NULL, toucher, &a), 0);
    for (i = 0; i < 200000; i++) {
        uint32_t e = item_exptime(a.held);

        seen5 += e == 5000u;
        seen7 += e == 7000u;
        if (e != 5000u && e != 7000u)
            a.bad++;
        if (item_atime(a.held) != 1000)
            a.bad++;
    }
    pthread_join(th, NULL);
    cr_assert_eq(a.bad, 0);
    cr_assert_eq(seen5 + seen7, 200000);
    cr_assert_eq(item_exptime(a.held), 5000u, "the last touch wins");
    cache_item_release(c, &a.held);
}

Test(expiry, reclaim_unlinks_expired_items_resumably)
{
    char key[32];
    size_t i, got = 0, calls = 0;
    struct cache_stats s;

    for (i = 0; i < 300; i++) {
        snprintf(key, sizeof key, "k%zu", i);
        cr_assert_eq(st_store(c, key, "v", 0, i % 3 == 0 ? 0 : st_in(c, 10), CACHE_SET, 0, NULL), CACHE_OK);
    }
    for (i = 0; i < 300; i += 3) {
        snprintf(key, sizeof key, "k%zu", i + 1);
        st_expect(c, key, "v"); /* 100 of the expiring items were fetched */
    }
    cr_assert_eq(cache_reclaim(c, 100000), 0, "nothing has expired yet");
    cache_clock_set(c, 1010);
    while (got < 200 && calls++ < 1000)
        got += cache_reclaim(c, 7);
    cr_assert_eq(got, 200);
    cr_assert_eq(cache_reclaim(c, 100000), 0);
    s = st_stats(c);
    cr_assert_eq(s.curr_items, 100);
    cr_assert_eq(s.reclaimed, 200);
    cr_assert_eq(s.expired_unfetched, 100);
    for (i = 0; i < 300; i += 3) {
        snprintf(key, sizeof key, "k%zu", i);
        st_expect(c, key, "v");
    }
    cache_stats_reset(c);
    s = st_stats(c);
    cr_assert_eq(s.reclaimed, 0);
    cr_assert_eq(s.expired_unfetched, 0);
}

Test(expiry, reclaim_of_a_referenced_item_keeps_its_bytes)
{
    struct item *it;

    cr_assert_eq(st_store(c, "k", "payload", 0, st_in(c, 1), CACHE_SET, 0, NULL), CACHE_OK);
    it = cache_get(c, "k", 1, NULL);
    cr_assert_not_null(it);
    cache_clock_set(c, 1001);
    cr_assert_eq(cache_reclaim(c, 1000), 1);
    cr_assert(memcmp(item_value(it), "payload", 7) == 0);
    cache_item_release(c, &it);
    cr_assert_eq(st_stats(c).curr_items, 0);
}

Test(expiry, flush_now_with_cas)
{
    cr_assert_eq(st_set(c, "a", "1"), CACHE_OK);
    cr_assert_eq(st_set(c, "b", "2"), CACHE_OK);
    cache_flush(c, 0);
    cr_assert_eq(st_set(c, "c", "3"), CACHE_OK);
    st_expect_miss(c, "a", CACHE_MISS_FLUSHED);
    st_expect_miss(c, "a", CACHE_MISS_NONE);
    st_expect(c, "c", "3"); /* stored in the same second, after the flush */
    cr_assert_eq(st_store(c, "b", "x", 0, 0, CACHE_ADD, 0, NULL), CACHE_OK, "flushed = absent");
    st_expect(c, "b", "x");
    cache_clock_set(c, 1100);
    st_expect(c, "c", "3");
    st_expect(c, "b", "x");
}

/* memcached's immediate flush_all takes a CAS unique of its own: set (1), flush (2), set (3). */
Test(expiry, flush_now_consumes_a_cas_unique)
{
    uint64_t before = 0, after = 0;

    cr_assert_eq(st_store(c, "a", "1", 0, 0, CACHE_SET, 0, &before), CACHE_OK);
    cache_flush(c, 0);
    cr_assert_eq(st_store(c, "b", "2", 0, 0, CACHE_SET, 0, &after), CACHE_OK);
    cr_assert_eq(after, before + 2);
    cache_flush(c, cache_rel_time(c) + 100); /* a delayed flush takes none */
    cr_assert_eq(st_store(c, "d", "4", 0, 0, CACHE_SET, 0, &before), CACHE_OK);
    cr_assert_eq(before, after + 1);
}

Test(expiry, flush_now_without_cas)
{
    struct cache_options o;
    struct cache *nc;

    cache_options_default(&o);
    o.use_cas = false;
    nc = cache_create(&o, NULL);
    cache_clock_set(nc, 500);
    cr_assert_eq(st_set(nc, "a", "1"), CACHE_OK);
    cache_flush(nc, 500);
    st_expect_miss(nc, "a", CACHE_MISS_FLUSHED);
    cache_clock_set(nc, 501);
    cr_assert_eq(st_set(nc, "a", "2"), CACHE_OK);
    st_expect(nc, "a", "2");
    cache_destroy(&nc);
}

Test(expiry, flush_later)
{
    struct cache_stats s;

    cr_assert_eq(st_set(c, "old", "1"), CACHE_OK);
    cache_flush(c, 1010);
    cache_clock_set(c, 1005);
    st_expect(c, "old", "1");
    cr_assert_eq(st_set(c, "mid", "2"), CACHE_OK);
    cache_clock_set(c, 1008);
    st_expect(c, "mid", "2");
    cache_clock_set(c, 1009);
    st_expect_miss(c, "old", CACHE_MISS_FLUSHED);
    st_expect_miss(c, "mid", CACHE_MISS_FLUSHED);
    cache_clock_set(c, 1010);
    cr_assert_eq(st_set(c, "new", "3"), CACHE_OK);
    cache_clock_set(c, 2000);
    st_expect(c, "new", "3");
    s = st_stats(c);
    cr_assert_eq(s.curr_items, 1);
}

Test(expiry, reclaim_removes_flushed_items)
{
    char key[16];
    int i;

    for (i = 0; i < 50; i++) {
        snprintf(key, sizeof key, "k%d", i);
        cr_assert_eq(st_set(c, key, "v"), CACHE_OK);
    }
    cache_flush(c, 0);
    cr_assert_eq(st_set(c, "after", "v"), CACHE_OK);
    cr_assert_eq(cache_reclaim(c, 1000), 50);
    cr_assert_eq(st_stats(c).curr_items, 1);
    cr_assert_eq(st_stats(c).expired_unfetched, 0, "flushed items are not expired_unfetched");
    st_expect(c, "after", "v");
}

Test(expiry, reclaim_on_a_sparse_table_is_bounded_and_resumes)
{
    struct cache *big = st_cache(0, 0, 6, 12); /* 64 shards x 4096 buckets */
    size_t calls = 0, got = 0;

    cache_clock_set(big, 1000);
    cr_assert_eq(st_store(big, "lonely", "v", 0, st_at(1001), CACHE_SET, 0, NULL), CACHE_OK);
    cr_assert_eq(st_store(big, "other", "v", 0, st_at(1001), CACHE_SET, 0, NULL), CACHE_OK);
    cache_clock_set(big, 1001);
    while (got < 2 && calls < 10000) {
        got += cache_reclaim(big, 10);
        calls++;
    }
    cr_assert_eq(got, 2);
    cr_assert_gt(calls, 10, "a call with max_items 10 scans at most 160 buckets");
    cr_assert_leq(calls, (64u * 4096u) / 160u + 2u, "the cursor resumes where it stopped");
    cr_assert_eq(st_stats(big).curr_items, 0);
    cache_destroy(&big);
}

/* ---- precise expiries (cache_exp_t with the precise bit: Redis's PX, EXAT, PXAT) ---- */

/* Stores key with a precise expiry at relative millisecond ms. */
static void set_precise(const char *key, uint64_t ms)
{
    cr_assert_eq(st_store(c, key, "v", 0, cache_exp_from_rel_ms(ms), CACHE_SET, 0, NULL), CACHE_OK);
}

/* Whether key is there, without marking an access that matters here. */
static bool alive(const char *key)
{
    struct item *it = cache_get(c, key, strlen(key), NULL);
    bool found = it != NULL;

    cache_item_release(c, &it);
    return found;
}

/* With the millisecond clock frozen: alive at M - 1, dead at M, whatever M's place in its second. */
Test(expiry, precise_expiry_dies_at_its_millisecond)
{
    static const uint64_t ms[] = {1000100, 1000999, 1001000, 1001001, 1002500};

    for (size_t i = 0; i < sizeof ms / sizeof ms[0]; i++) {
        struct item *it;

        cache_clock_set(c, 1000);
        set_precise("p", ms[i]);
        it = cache_get(c, "p", 1, NULL);
        cr_assert_not_null(it);
        cr_assert_eq(item_exp(it), cache_exp_from_rel_ms(ms[i]), "case %zu: kept exactly", i);
        cr_assert_eq(item_exptime(it), (ms[i] + 999) / 1000, "case %zu: memcached's second", i);
        cache_item_release(c, &it);
        cache_clock_set_ms(c, ms[i] - 1);
        cr_assert(alive("p"), "case %zu: alive 1 ms before", i);
        cache_clock_set_ms(c, ms[i]);
        st_expect_miss(c, "p", CACHE_MISS_EXPIRED);
    }
}

/* memcached's whole-second items die by the seconds clock exactly as before: an item with exptime
 * 1001 is alive through 1000.999 and dead at 1001.000, and its expiry has no precise bit. */
Test(expiry, whole_second_items_unchanged)
{
    struct item *it;

    cr_assert_eq(st_store(c, "w", "v", 0, st_in(c, 1), CACHE_SET, 0, NULL), CACHE_OK);
    it = cache_get(c, "w", 1, NULL);
    cr_assert_not_null(it);
    cr_assert_eq(item_exp(it), st_at(1001));
    cr_assert_not(cache_exp_precise(item_exp(it)));
    cr_assert_eq(item_exptime(it), 1001);
    cache_item_release(c, &it);
    cache_clock_set_ms(c, 1000999);
    cr_assert(alive("w"));
    cache_clock_set_ms(c, 1001000);
    st_expect_miss(c, "w", CACHE_MISS_EXPIRED);
    /* the seconds clock decides, not the millisecond one: a tick to 1001 kills it too */
    cache_clock_set(c, 1000);
    cr_assert_eq(st_store(c, "w", "v", 0, st_in(c, 1), CACHE_SET, 0, NULL), CACHE_OK);
    cache_clock_set(c, 1001);
    st_expect_miss(c, "w", CACHE_MISS_EXPIRED);
}

/* touch and gat switch an item between a precise and a whole-second expiry, both ways. */
Test(expiry, touch_switches_between_precise_and_whole)
{
    struct item *it;

    set_precise("k", 1000500);
    cr_assert_eq(cache_touch(c, "k", 1, st_at(1003)), CACHE_OK);
    cache_clock_set_ms(c, 1002999);
    cr_assert(alive("k"), "now whole-second: alive until second 1003");
    it = cache_get_touch(c, "k", 1, cache_exp_from_rel_ms(1003100), NULL);
    cr_assert_not_null(it);
    cr_assert_eq(item_exp(it), cache_exp_from_rel_ms(1003100));
    cache_item_release(c, &it);
    cache_clock_set_ms(c, 1003099);
    cr_assert(alive("k"), "precise again: past the old second");
    cache_clock_set_ms(c, 1003100);
    st_expect_miss(c, "k", CACHE_MISS_EXPIRED);
    set_precise("k", 1004000);
    cr_assert_eq(cache_touch(c, "k", 1, CACHE_EXP_NEVER), CACHE_OK);
    cache_clock_set(c, 100000);
    cr_assert(alive("k"), "touched to never");
}

/* The Unix-millisecond conversions use the clock death uses; a time at or before the origin is an
 * expiry already passed, never "never". */
Test(expiry, unix_ms_conversions)
{
    int64_t origin = (int64_t)cache_process_started(c) * 1000;
    cache_exp_t e;

    cache_clock_set_ms(c, 1000250);
    cr_assert_eq(cache_now_unix_ms(c), origin + 1000250);
    e = cache_exp_from_unix_ms(c, origin + 1000400);
    cr_assert(cache_exp_precise(e));
    cr_assert_eq(cache_exp_rel_ms(e), 1000400);
    cr_assert_eq(cache_exp_to_unix_ms(c, e), origin + 1000400);
    cr_assert_eq(cache_exp_to_unix_ms(c, CACHE_EXP_NEVER), -1);
    cr_assert_eq(cache_exp_to_unix_ms(c, st_at(1005)), origin + 1005000);
    cr_assert_not(cache_exp_passed(c, e, cache_rel_time(c)));
    for (int64_t t = origin; t >= origin - 5000; t -= 2500) {
        e = cache_exp_from_unix_ms(c, t);
        cr_assert_neq(e, CACHE_EXP_NEVER);
        cr_assert(cache_exp_passed(c, e, cache_rel_time(c)));
        cr_assert_eq(st_store(c, "old", "v", 0, e, CACHE_SET, 0, NULL), CACHE_OK);
        st_expect_miss(c, "old", CACHE_MISS_EXPIRED);
    }
    e = cache_exp_from_unix_ms(c, INT64_MAX);
    cr_assert_eq(cache_exp_rel_ms(e), ITEM_EXP_MS_MAX, "clamped to what an item holds");
}

/* On the real clock (a tick unfreezes it): an item set to live 300 ms is there at once and gone
 * 400 ms later although no tick moved the seconds clock, i.e. not at the next second. */
Test(expiry, precise_expiry_on_the_real_clock)
{
    struct timespec ts = {0, 400 * 1000000L};
    struct cache *r = st_cache(0, 0, 0, 0);
    uint32_t sec;

    cache_clock_tick(r, time(NULL));
    sec = cache_rel_time(r);
    cr_assert_eq(
        st_store(r, "px", "v", 0, cache_exp_from_unix_ms(r, cache_now_unix_ms(r) + 300), CACHE_SET, 0, NULL),
        CACHE_OK);
    st_expect(r, "px", "v");
    nanosleep(&ts, NULL);
    cr_assert_eq(cache_rel_time(r), sec, "the seconds clock did not move");
    st_expect_miss(r, "px", CACHE_MISS_EXPIRED);
    cache_destroy(&r);
}

/* Dead precise items are found by the eviction clock's and reclaim's rule too (one function). */
Test(expiry, reclaim_takes_precise_items_at_their_millisecond)
{
    char key[16];

    for (int i = 0; i < 20; i++) {
        snprintf(key, sizeof key, "p%d", i);
        set_precise(key, 1000000 + 100 * (uint64_t)i + 50);
    }
    cache_clock_set_ms(c, 1001000);
    cr_assert_eq(cache_reclaim(c, 100000), 10);
    cr_assert_eq(st_stats(c).curr_items, 10);
    cache_clock_set_ms(c, 1002000);
    cr_assert_eq(cache_reclaim(c, 100000), 10);
}

struct switcher_arg {
    int rounds;
    int bad;
    struct item *held;
};

/* Touches "k" back and forth between a precise and a whole-second expiry. */
static void *switcher(void *p)
{
    struct switcher_arg *a = p;

    for (int i = 0; i < a->rounds; i++)
        if (cache_touch(c, "k", 1, (i & 1) ? st_at(5000u) : cache_exp_from_rel_ms(7000777u)) != CACHE_OK)
            a->bad++;
    return NULL;
}

/* The lengths share their word with the expiry's ms field: a reader without the lock always sees
 * the right key and value lengths while another thread rewrites the ms bits. */
Test(expiry, unlocked_length_reads_while_ms_bits_change)
{
    struct switcher_arg a = {.rounds = 20000};
    char val[9000];
    pthread_t th;

    memset(val, 'x', sizeof val - 1);
    val[sizeof val - 1] = '\0';
    cr_assert_eq(st_store(c, "k", val, 0, st_at(5000u), CACHE_SET, 0, NULL), CACHE_OK);
    a.held = cache_get(c, "k", 1, NULL);
    cr_assert_not_null(a.held);
    cr_assert_eq(pthread_create(&th, NULL, switcher, &a), 0);
    for (int i = 0; i < 200000; i++) {
        uint32_t e = item_exptime(a.held);

        if (item_nkey(a.held) != 1 || item_nbytes(a.held) != sizeof val - 1 || item_key(a.held)[0] != 'k')
            a.bad++;
        if (e != 5000u && e != 7001u)
            a.bad++;
    }
    pthread_join(th, NULL);
    cr_assert_eq(a.bad, 0);
    cr_assert_eq(item_exp(a.held), st_at(5000u), "the last touch wins");
    cache_item_release(c, &a.held);
}

/* cache_item_set_idle (RESTORE IDLETIME) moves the access time back, but never to or before a
 * flush_all's horizon: that would make the item read as flushed. Without CAS the horizon is judged by
 * the access time alone. */
Test(expiry, set_idle_stays_above_the_flush_horizon)
{
    struct cache_options o;
    struct cache *nc;
    struct item *it;

    cache_options_default(&o);
    o.use_cas = false;
    nc = cache_create(&o, NULL);
    cache_clock_set(nc, 1000);
    cr_assert_eq(st_set(nc, "a", "1"), CACHE_OK);
    it = cache_get(nc, "a", 1, NULL);
    cr_assert_not_null(it);
    cache_item_set_idle(nc, it, 300);
    cr_expect_eq(item_atime(it), 700);
    cache_item_set_idle(nc, it, 5000);
    cr_expect_eq(item_atime(it), 0, "before the clock's start: 0");
    cache_item_release(nc, &it);

    cache_clock_set(nc, 2000);
    cache_flush(nc, 2000); /* items accessed at 2000 or before are dead */
    cache_clock_set(nc, 2100);
    cr_assert_eq(st_set(nc, "b", "2"), CACHE_OK);
    it = cache_get(nc, "b", 1, NULL);
    cr_assert_not_null(it);
    cache_item_set_idle(nc, it, 900); /* 1200: cut short to 2001 */
    cr_expect_eq(item_atime(it), 2001);
    cache_item_release(nc, &it);
    st_expect(nc, "b", "2");
    cache_destroy(&nc);
}
