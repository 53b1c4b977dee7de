/*
 * test_rebalance.c: where memory comes from (storage/balance.c). Once every page is handed out, a
 * class that needs memory takes an emptied page from another class: stores of a new size keep
 * succeeding while anything anywhere is evictable, pages with readers are never taken, the page
 * counts stay consistent; a hot class takes the pages of a cold one and gives them back when the
 * load turns (no calcification), two busy classes settle without ping-pong, free chunks are used
 * (compaction, borrowing) before anything is evicted, and all of it holds with four threads storing
 * a mix of sizes into a tiny cache.
 */
#include "tests/unit/storage/storage_test.h"

#include <pthread.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <time.h>

#define MIB ((size_t)1 << 20)
#define VMAX 400000 /* largest value a test checks */

static struct cache *c;

static void teardown(void)
{
    cache_destroy(&c);
}

TestSuite(rebalance, .fini = teardown, .timeout = 120);

/* Key and value of item i of size n: the value is derived from both, so a chunk that was reused
 * under a reader, or a page re-carved under a live item, is detected. The number is zero-padded so
 * that all items of one size have one key length and thus one slab class (with 8-byte classes, a
 * key one byte longer can cross into the next class). */
static void key_of(char *buf, size_t len, size_t n, int i)
{
    snprintf(buf, len, "k%zu_%06d", n, i);
}

static void fill_value(char *v, size_t n, int i)
{
    size_t k;

    for (k = 0; k < n; k++)
        v[k] = (char)('A' + (size_t)(i * 7 + (int)n + (int)k) % 58);
}

static enum cache_status set_sized(size_t n, int i)
{
    enum cache_status st;
    struct item *it;
    char key[48];

    key_of(key, sizeof key, n, i);
    it = cache_alloc(c, key, strlen(key), (uint32_t)i, 0, n, &st);
    if (!it)
        return st;
    fill_value(item_value(it), n, i);
    st = cache_store(c, it, CACHE_SET, 0, NULL);
    cache_item_release(c, &it);
    return st;
}

/* Whether item i of size n is present; asserts its bytes when it is. */
static bool check_sized(size_t n, int i)
{
    static char v[VMAX];
    struct item *it;
    char key[48];

    key_of(key, sizeof key, n, i);
    it = cache_get(c, key, strlen(key), NULL);
    if (!it)
        return false;
    fill_value(v, n, i);
    cr_assert_eq(item_nbytes(it), n);
    cr_assert_eq(item_client_flags(it), (uint32_t)i);
    cr_assert(memcmp(item_value(it), v, n) == 0, "item %zu/%d corrupted", n, i);
    cache_item_release(c, &it);
    return true;
}

/* Class id of items of value size n with a key as key_of(n, 0) gives (found from the class sizes,
 * without allocating: an allocation could itself move a page). */
static unsigned class_of(size_t n)
{
    size_t total;
    unsigned id;
    char key[48];

    key_of(key, sizeof key, n, 0);
    total = item_total_size(strlen(key), n);
    for (id = 1; id <= cache_class_count(c); id++) {
        struct cache_class_stats cs;

        cache_class_stats_get(c, id, &cs);
        if (cs.chunk_size >= total)
            return id;
    }
    cr_assert_fail("no class for %zu bytes", n);
    return 0;
}

static uint64_t class_pages(unsigned id)
{
    struct cache_class_stats cs;

    cache_class_stats_get(c, id, &cs);
    return cs.total_pages;
}

/* The figures that must agree at any quiet moment. */
static void check_consistent(void)
{
    struct cache_stats s = st_stats(c);
    uint64_t pages = 0, number = 0, evicted = 0;
    unsigned id;

    for (id = 1; id <= cache_class_count(c); id++) {
        struct cache_class_stats cs;

        cache_class_stats_get(c, id, &cs);
        pages += cs.total_pages;
        number += cs.number;
        evicted += cs.evicted;
        cr_assert_eq(cs.total_chunks, cs.total_pages * cs.chunks_per_page);
        cr_assert_eq(cs.used_chunks + cs.free_chunks, cs.total_chunks, "class %u", id);
        cr_assert_geq(cs.used_chunks, cs.number, "class %u: linked items need chunks", id);
    }
    cr_assert_eq(pages, s.curr_pages, "sum of class pages == pages handed out");
    cr_assert_leq(s.curr_pages, s.total_pages);
    cr_assert_eq(s.total_malloced, s.curr_pages * MIB);
    cr_assert_eq(number, s.curr_items);
    cr_assert_eq(evicted, s.evictions);
}

/* Fills the cache with one size, then a second, then a third: every store succeeds, pages move. */
Test(rebalance, three_sizes_in_turn_all_store)
{
    static const size_t sizes[] = {100, 5000, 50000};
    struct cache_stats s;
    size_t k;
    int i;

    c = st_cache(4 * MIB, MIB, 2, 4);
    for (k = 0; k < 3; k++) {
        int count = (int)(6 * MIB / sizes[k]);

        for (i = 0; i < count; i++)
            cr_assert_eq(set_sized(sizes[k], i), CACHE_OK, "size %zu item %d", sizes[k], i);
        for (i = count - 10; i < count; i++)
            cr_assert(check_sized(sizes[k], i), "recent %zu/%d missing", sizes[k], i);
        cr_assert_gt(class_pages(class_of(sizes[k])), 0);
        check_consistent();
    }
    s = st_stats(c);
    cr_assert_eq(s.curr_pages, 4, "every page handed out");
    cr_assert_geq(s.slabs_moved, 2, "a page moved to each later size");
    cr_assert_gt(s.evictions, 0);
    cr_assert_eq(s.total_items, s.curr_items + s.evictions, "nothing lost but evictions");
    for (i = 0; i < 10; i++) /* and back to the first size */
        cr_assert_eq(set_sized(100, 100000 + i), CACHE_OK);
    check_consistent();
}

/* The only page is full of small items; a large item takes it over and the small class is left
 * with none. New small items first take the large class's free chunks, then the page again. */
Test(rebalance, a_class_without_pages_takes_the_only_page)
{
    struct cache_stats s;
    int i, n = 0;

    c = st_cache(MIB, MIB, 0, 4);
    while (st_stats(c).evictions == 0)
        cr_assert_eq(set_sized(100, n++), CACHE_OK);
    cr_assert_eq(set_sized(200000, 1), CACHE_OK);
    s = st_stats(c);
    cr_assert_eq(s.slabs_moved, 1);
    cr_assert_eq(s.curr_items, 1, "every small item was evicted with the page");
    cr_assert_eq(s.evictions, (uint64_t)n, "%llu evictions for %d items",
                 (unsigned long long)s.evictions, n);
    cr_assert_eq(class_pages(class_of(100)), 0);
    cr_assert(check_sized(200000, 1));
    for (i = 0; i < 3; i++) /* small ones fit the large class's free chunks: nothing evicted */
        cr_assert_eq(set_sized(100, i), CACHE_OK, "and back");
    cr_assert_eq(st_stats(c).slabs_moved, 1);
    cr_assert_eq(st_stats(c).evictions, (uint64_t)n);
    cr_assert(check_sized(200000, 1));
    for (i = 3; i < 20; i++) /* once those are used, the page comes back */
        cr_assert_eq(set_sized(100, i), CACHE_OK, "and back");
    cr_assert_eq(st_stats(c).slabs_moved, 2);
    cr_assert(check_sized(100, 19));
    check_consistent();
}

/* Items held by readers are never evicted, and their page is never moved or re-carved. */
Test(rebalance, referenced_items_survive_and_pin_their_page)
{
    enum { HELD = 3 };
    struct item *held[HELD];
    unsigned small, big;
    int i, n = 0, per;
    char key[48];

    c = st_cache(4 * MIB, MIB, 1, 4);
    small = class_of(100);
    while (class_pages(small) < 4 || st_stats(c).evictions == 0)
        cr_assert_eq(set_sized(100, n++), CACHE_OK);
    per = n / 4;
    for (i = 0; i < HELD; i++) { /* one reader on each of three pages: the last one is free */
        key_of(key, sizeof key, 100, n - 1 - i * per - per / 2);
        held[i] = cache_get(c, key, strlen(key), NULL);
        cr_assert_not_null(held[i], "%s", key);
    }
    big = class_of(300000);
    for (i = 0; i < 40; i++)
        cr_assert_eq(set_sized(300000, i), CACHE_OK, "big %d", i);
    cr_assert_eq(class_pages(big), 1, "only the page without a reader could move");
    cr_assert_eq(class_pages(small), 3);
    for (i = 0; i < HELD; i++) {
        int idx = n - 1 - i * per - per / 2;
        static char v[100];

        fill_value(v, 100, idx);
        cr_assert(memcmp(item_value(held[i]), v, 100) == 0, "held item %d changed", i);
        cr_assert(check_sized(100, idx), "held item %d was evicted", i);
    }
    check_consistent();
    for (i = 0; i < HELD; i++)
        cache_item_release(c, &held[i]);
}

/* When every page has a reader, a class without pages gets NO_MEMORY, and nothing is lost. */
Test(rebalance, no_memory_when_every_page_is_pinned)
{
    struct item *held;
    enum cache_status st;
    struct item *it;
    int n = 0;

    c = st_cache(MIB, MIB, 0, 4);
    while (st_stats(c).evictions == 0)
        cr_assert_eq(set_sized(1000, n++), CACHE_OK);
    held = cache_get(c, "k1000_000005", 12, NULL);
    cr_assert_not_null(held, "an early item is still there: only one was evicted");
    it = cache_alloc(c, "big", 3, 0, 0, 100000, &st);
    cr_assert_null(it);
    cr_assert_eq(st, CACHE_NO_MEMORY);
    cr_assert_eq(st_stats(c).slabs_moved, 0);
    cache_item_release(c, &held);
    cr_assert_eq(set_sized(100000, 0), CACHE_OK, "the reader has gone: the page can move");
    cr_assert_eq(st_stats(c).slabs_moved, 1);
}

/* Stores count items of size n from index first on, advancing the cache clock one second every
 * per_second stores (the balance signal is measured per second of the cache's clock). */
static void set_run(size_t n, int first, int count, int per_second)
{
    int i;

    for (i = 0; i < count; i++) {
        if (i % per_second == 0)
            cache_clock_set(c, cache_rel_time(c) + 1);
        cr_assert_eq(set_sized(n, first + i), CACHE_OK, "size %zu item %d", n, first + i);
    }
}

static uint64_t class_stat_evicted(unsigned id)
{
    struct cache_class_stats cs;

    cache_class_stats_get(c, id, &cs);
    return cs.evicted;
}

/* A class that starts empty and turns hot takes the pages of a class nobody uses any more, keeping
 * one for it; and then the other way round (no calcification). */
Test(rebalance, a_hot_class_takes_the_pages_of_a_cold_one_and_gives_them_back)
{
    unsigned small, big;

    c = st_cache(8 * MIB, MIB, 1, 4);
    cache_clock_set(c, 10);
    small = class_of(100);
    set_run(100, 0, 80000, 5000); /* 8 pages of small items, evicting for a few seconds */
    cr_assert_eq(class_pages(small), 8);
    big = class_of(20000);
    set_run(20000, 0, 3000, 100);
    cr_assert_eq(class_pages(big), 7, "big holds %llu pages", (unsigned long long)class_pages(big));
    cr_assert_eq(class_pages(small), 1, "the cold class keeps one page");
    for (int i = 2990; i < 3000; i++)
        cr_assert(check_sized(20000, i));
    set_run(100, 100000, 200000, 5000);
    cr_assert_geq(class_pages(small), 6, "small holds %llu pages back",
                  (unsigned long long)class_pages(small));
    check_consistent();
}

/* Two classes under the same steady demand settle: after they have met, pages stop moving. */
Test(rebalance, no_ping_pong_between_two_busy_classes)
{
    uint64_t settled = 0;
    int i, round;

    c = st_cache(8 * MIB, MIB, 1, 4);
    cache_clock_set(c, 10);
    for (round = 0; round < 80; round++) {
        if (round == 40)
            settled = st_stats(c).slabs_moved;
        cache_clock_set(c, cache_rel_time(c) + 1);
        for (i = 0; i < 200; i++) { /* the same bytes per second for both sizes */
            cr_assert_eq(set_sized(1000, round * 200 + i), CACHE_OK);
            cr_assert_eq(set_sized(9000, round * 200 + i), CACHE_OK);
            if (i % 9 == 0)
                cr_assert_eq(set_sized(9000, round * 200 + i + 100000), CACHE_OK);
        }
    }
    cr_assert_gt(class_stat_evicted(class_of(1000)), 0);
    cr_assert_gt(class_stat_evicted(class_of(9000)), 0);
    cr_assert_leq(st_stats(c).slabs_moved - settled, 2, "%llu moves after settling",
                  (unsigned long long)(st_stats(c).slabs_moved - settled));
    check_consistent();
}

/* Age balancing never takes a page that has a reader: the cold class keeps those pages, the held
 * items stay intact, and the hot class still stores (from its own clock, once it has the one page
 * that had no reader). */
Test(rebalance, balancing_skips_pages_with_readers)
{
    struct item *held[7];
    unsigned small, big;
    int i, per;
    char key[48];

    c = st_cache(8 * MIB, MIB, 1, 4);
    cache_clock_set(c, 10);
    small = class_of(100);
    set_run(100, 0, 80000, 5000);
    per = (int)(MIB / 144);
    for (i = 0; i < 7; i++) { /* a reader on 7 of the 8 pages */
        key_of(key, sizeof key, 100, 80000 - 1 - i * per);
        held[i] = cache_get(c, key, strlen(key), NULL);
        cr_assert_not_null(held[i], "%s", key);
    }
    big = class_of(20000);
    set_run(20000, 0, 1000, 100);
    cr_assert_eq(class_pages(big), 1, "only the page without a reader moved");
    cr_assert_eq(class_pages(small), 7);
    cr_assert_gt(st_stats(c).busy_items, 0, "pages with readers were seen and skipped");
    for (i = 0; i < 7; i++) {
        static char v[100];
        int idx = 80000 - 1 - i * per;

        fill_value(v, 100, idx);
        cr_assert(memcmp(item_value(held[i]), v, 100) == 0, "held item %d changed", i);
        cr_assert(check_sized(100, idx), "held item %d was evicted", i);
        cache_item_release(c, &held[i]);
    }
    check_consistent();
}

/* Memory held as free chunks of one class is used before anything is evicted: the page whose items
 * are fewest is emptied by moving them into the class's other free chunks. */
Test(rebalance, compaction_moves_items_instead_of_evicting)
{
    unsigned small;
    int i, n;
    char key[48];

    c = st_cache(4 * MIB, MIB, 2, 4);
    small = class_of(100);
    n = 4 * (int)(MIB / 144) - 8; /* just below 4 full pages */
    for (i = 0; i < n; i++)
        cr_assert_eq(set_sized(100, i), CACHE_OK);
    cr_assert_eq(class_pages(small), 4);
    for (i = 0; i < n; i++) { /* three quarters deleted, spread over every page */
        if (i % 4 == 0)
            continue;
        key_of(key, sizeof key, 100, i);
        cr_assert_eq(cache_delete(c, key, strlen(key), 0), CACHE_OK);
    }
    for (i = 0; i < 60; i++)
        cr_assert_eq(set_sized(20000, i), CACHE_OK);
    cr_assert_eq(st_stats(c).evictions, 0, "nothing evicted while a class had a page free");
    cr_assert_geq(st_stats(c).slabs_moved, 2);
    cr_assert_gt(st_stats(c).rescues, 0);
    for (i = 0; i < n; i += 4)
        cr_assert(check_sized(100, i), "moved item %d lost or changed", i);
    for (i = 0; i < 60; i++)
        cr_assert(check_sized(20000, i));
    check_consistent();
}

/* A rare size with no page of its own goes into a free chunk of a class at most 1.25x larger
 * instead of taking a whole page. */
Test(rebalance, a_size_without_a_page_borrows_a_close_larger_chunk)
{
    struct item *it;
    unsigned small;
    char key[48];

    c = st_cache(4 * MIB, MIB, 2, 4);
    small = class_of(100);
    cr_assert_eq(set_sized(100, 1), CACHE_OK);
    cr_assert_eq(set_sized(92, 1), CACHE_OK); /* 10-byte key: 130 bytes, class 136 */
    cr_assert_neq(class_of(92), small);
    cr_assert_eq(st_stats(c).curr_pages, 1, "no page taken for the rare size");
    key_of(key, sizeof key, 92, 1);
    it = cache_get(c, key, strlen(key), NULL);
    cr_assert_not_null(it);
    cr_assert_eq(cache_item_class(c, it), small);
    cache_item_release(c, &it);
    cr_assert(check_sized(92, 1));
    check_consistent();
}

struct mt_arg {
    unsigned seed;
    int no_memory;
    int corrupt;
    int stored;
};

static const size_t mt_sizes[] = {50, 700, 3000, 12000, 45000};

/* Stores, reads (checking bytes), touches and deletes keys of a mix of sizes. */
static void *mt_worker(void *p)
{
    struct mt_arg *a = p;
    static _Thread_local char v[VMAX];
    int i;

    for (i = 0; i < 4000; i++) {
        unsigned r = (unsigned)rand_r(&a->seed);
        size_t n = mt_sizes[r % 5];
        int idx = (int)((r >> 8) % 300);
        enum cache_status st;
        struct item *it;
        char key[48];

        key_of(key, sizeof key, n, idx);
        switch ((r >> 20) % 5) {
        case 0:
        case 1:
            st = set_sized(n, idx);
            a->no_memory += st == CACHE_NO_MEMORY;
            a->stored += st == CACHE_OK;
            break;
        case 2:
            it = cache_get(c, key, strlen(key), NULL);
            if (it) {
                fill_value(v, n, idx);
                a->corrupt += item_nbytes(it) != n || memcmp(item_value(it), v, n) != 0;
                cache_item_release(c, &it);
            }
            break;
        case 3:
            cache_touch(c, key, strlen(key), st_at(1000000u + (r & 0xff)));
            break;
        default:
            cache_delete(c, key, strlen(key), 0);
        }
    }
    return NULL;
}

/* Runs mt_worker on four threads (seeds mul * i + add) into c; no NO_MEMORY, no corrupt read. */
static void run_four_workers(unsigned mul, unsigned add)
{
    pthread_t th[4];
    struct mt_arg args[4];
    int i;

    for (i = 0; i < 4; i++) {
        args[i] = (struct mt_arg){.seed = mul * (unsigned)i + add};
        cr_assert_eq(pthread_create(&th[i], NULL, mt_worker, &args[i]), 0);
    }
    for (i = 0; i < 4; i++) {
        pthread_join(th[i], NULL);
        cr_assert_eq(args[i].no_memory, 0, "thread %d: %d NO_MEMORY", i, args[i].no_memory);
        cr_assert_eq(args[i].corrupt, 0, "thread %d: %d corrupt reads", i, args[i].corrupt);
        cr_assert_gt(args[i].stored, 0);
    }
}

Test(rebalance, four_threads_mixed_sizes_tiny_limit)
{
    int i;

    c = st_cache(3 * MIB, MIB, 2, 4);
    run_four_workers(17u, 3u);
    cr_assert_gt(st_stats(c).slabs_moved, 0);
    check_consistent();
    for (i = 0; i < 5; i++)
        cr_assert_eq(set_sized(mt_sizes[i], 999), CACHE_OK);
}

static atomic_bool ticking;

/* Advances the cache clock a second every millisecond while the workers run, so that age balancing
 * and the compaction of idle classes happen under them. */
static void *ticker(void *p)
{
    struct timespec ms = {0, 1000000};

    (void)p;
    while (atomic_load(&ticking)) {
        cache_clock_set(c, cache_rel_time(c) + 1);
        nanosleep(&ms, NULL);
    }
    return NULL;
}

/* As above with the clock moving: pages move (balancing, compaction, rescues) while readers hold and
 * check items, and no read ever sees a wrong byte. */
Test(rebalance, four_threads_mixed_sizes_with_a_moving_clock)
{
    pthread_t tick;

    c = st_cache(3 * MIB, MIB, 2, 4);
    cache_clock_set(c, 10);
    atomic_store(&ticking, true);
    cr_assert_eq(pthread_create(&tick, NULL, ticker, NULL), 0);
    run_four_workers(31u, 7u);
    atomic_store(&ticking, false);
    pthread_join(tick, NULL);
    cr_assert_gt(st_stats(c).slabs_moved, 0);
    check_consistent();
}
