/*
 * test_evict.c: CLOCK eviction under the memory limit: sets always succeed while something can be
 * evicted, the clock order and second chance, the ACTIVE bit's inheritance on overwrite, referenced items are never evicted or freed, dead
 * items are reclaimed rather than evicted, and NO_MEMORY only when every chunk is referenced.
 */
#include "tests/unit/storage/storage_test.h"

#include <pthread.h>
#include <stdlib.h>

#define MIB ((size_t)1 << 20)
#define VLEN 1000 /* with 9-byte keys: 1041-byte items, class 1096, 956 per page */

static struct cache *c;
static char value[VLEN + 1];

static void key_of(char *buf, size_t n, int i)
{
    snprintf(buf, n, "key%06d", i);
}

/* The value stored for key i: its index repeated, so a corrupted chunk is detected. */
static void value_of(int i)
{
    size_t k;

    for (k = 0; k < VLEN; k++)
        value[k] = (char)('a' + (i + (int)k) % 26);
    value[VLEN] = '\0';
}

static enum cache_status set_i(int i, cache_exp_t exp)
{
    char key[16];

    key_of(key, sizeof key, i);
    value_of(i);
    return st_store(c, key, value, 0, exp, CACHE_SET, 0, NULL);
}

static struct item *get_i(int i)
{
    char key[16];

    key_of(key, sizeof key, i);
    return cache_get(c, key, strlen(key), NULL);
}

static bool present(int i)
{
    struct item *it = get_i(i);
    bool ok = it != NULL;

    if (it) {
        value_of(i);
        cr_assert(memcmp(item_value(it), value, VLEN) == 0, "key %d corrupted", i);
        cache_item_release(c, &it);
    }
    return ok;
}

/* Chunks per page of the class our items use. */
static unsigned perpage(void)
{
    struct item *it = cache_alloc(c, "key000000", 9, 0, 0, VLEN, NULL);
    struct cache_class_stats cs;

    cr_assert_not_null(it);
    cache_class_stats_get(c, cache_item_class(c, it), &cs);
    cache_item_release(c, &it);
    return cs.chunks_per_page;
}

static void small_cache(size_t limit)
{
    c = st_cache(limit, MIB, 1, 4);
}

static void teardown(void)
{
    cache_destroy(&c);
}

TestSuite(evict, .fini = teardown);

Test(evict, fill_far_past_the_limit)
{
    const int n = 20000;
    struct cache_stats s;
    int i;

    small_cache(2 * MIB);
    for (i = 0; i < n; i++)
        cr_assert_eq(set_i(i, 0), CACHE_OK, "set %d", i);
    s = st_stats(c);
    cr_assert_gt(s.evictions, (uint64_t)n / 2);
    cr_assert_eq(s.evictions + s.curr_items, n, "every item is present or was evicted");
    cr_assert_eq(s.evicted_unfetched, s.evictions);
    cr_assert_eq(s.total_items, n);
    cr_assert_leq(s.curr_items, 2 * perpage());
    cr_assert_eq(s.curr_pages, 2);
    cr_assert_eq(s.bytes, s.curr_items * item_total_size(9, VLEN));
    for (i = n - 500; i < n; i++)
        cr_assert(present(i), "recent key %d was evicted", i);
}

Test(evict, clock_order_and_second_chance)
{
    struct cache_class_stats cs;
    unsigned n, i;
    struct item *it;
    unsigned id;

    small_cache(MIB);
    n = perpage();
    for (i = 0; i < n; i++)
        cr_assert_eq(set_i((int)i, 0), CACHE_OK);
    cr_assert_eq(st_stats(c).evictions, 0);
    it = get_i(0); /* key 0 becomes ACTIVE */
    id = cache_item_class(c, it);
    cache_item_release(c, &it);
    cr_assert_eq(set_i(100000, 0), CACHE_OK);
    cr_assert_eq(set_i(100001, 0), CACHE_OK);
    cr_assert_eq(st_stats(c).evictions, 2);
    cr_assert(present(0), "the active item had a second chance");
    cr_assert(!present(1), "the clock took the first inactive item");
    cr_assert(!present(2));
    cr_assert(present(3));
    cr_assert(present(100000) && present(100001));
    cache_class_stats_get(c, id, &cs);
    cr_assert_eq(cs.evicted, 2);
    cr_assert_eq(cs.evicted_unfetched, 2);
    cr_assert_eq(cs.evicted_active, 0);
    cr_assert_eq(cs.evicted_nonzero, 0);
    cr_assert_eq(cs.number, n);
}

/* An overwrite keeps the ACTIVE bit: the new item gets the second chance the old one had. */
Test(evict, overwrite_inherits_the_active_bit)
{
    unsigned n, i;

    small_cache(MIB);
    n = perpage();
    for (i = 0; i + 1 < n; i++)
        cr_assert_eq(set_i((int)i, 0), CACHE_OK);
    cr_assert(present(1), "key 1 becomes ACTIVE");
    cr_assert_eq(set_i(1, 0), CACHE_OK); /* overwrite: into the last chunk, chunk 1 is freed */
    cr_assert_eq(set_i(100000, 0), CACHE_OK); /* takes the freed chunk 1 */
    cr_assert_eq(st_stats(c).evictions, 0);
    for (i = 0; i < n; i++) /* n - 1 take chunks 0..n-2; the last one reaches key 1's chunk */
        cr_assert_eq(set_i(100001 + (int)i, 0), CACHE_OK);
    cr_assert_eq(st_stats(c).evictions, n);
    cr_assert(!present(0) && !present(2) && !present(100000), "the clock took inactive items");
    cr_assert(present(1), "the overwritten key kept its second chance");
}

Test(evict, eviction_figures_time_and_nonzero)
{
    struct cache_class_stats cs;
    unsigned n, i;
    struct item *it;

    small_cache(MIB);
    n = perpage();
    cache_clock_set(c, 100);
    for (i = 0; i < n; i++)
        cr_assert_eq(set_i((int)i, i == 0 ? st_at(100000) : CACHE_EXP_NEVER), CACHE_OK);
    cache_clock_set(c, 130);
    cr_assert_eq(set_i(-1, 0), CACHE_OK);
    it = get_i(-1);
    cache_class_stats_get(c, cache_item_class(c, it), &cs);
    cache_item_release(c, &it);
    cr_assert_eq(cs.evicted, 1);
    cr_assert_eq(cs.evicted_nonzero, 1, "key 0 had an exptime");
    cr_assert_eq(cs.evicted_time, 30);
    cr_assert_eq(cs.age, 30, "the hand now points at key 1, stored at 100");
    cache_stats_reset(c);
    cache_class_stats_get(c, 1, &cs);
    cr_assert_eq(st_stats(c).evictions, 0);
}

Test(evict, all_active_items_evicted_on_the_second_turn)
{
    unsigned n, i;

    small_cache(MIB);
    n = perpage();
    for (i = 0; i < n; i++)
        cr_assert_eq(set_i((int)i, 0), CACHE_OK);
    for (i = 0; i < n; i++)
        cr_assert(present((int)i));
    cr_assert_eq(set_i(-1, 0), CACHE_OK);
    cr_assert_eq(st_stats(c).evictions, 1);
    cr_assert_eq(st_stats(c).evicted_active, 1);
    cr_assert_eq(st_stats(c).evicted_unfetched, 0);
    cr_assert(!present(0));
    cr_assert(present(1));
}

Test(evict, referenced_item_is_never_evicted_or_freed)
{
    struct item *held;
    int i;

    small_cache(2 * MIB);
    cr_assert_eq(set_i(-7, 0), CACHE_OK);
    held = get_i(-7);
    cr_assert_not_null(held);
    for (i = 0; i < 5000; i++)
        cr_assert_eq(set_i(i, 0), CACHE_OK);
    cr_assert_gt(st_stats(c).evictions, 1000);
    cr_assert(present(-7), "a referenced item stays linked");
    cr_assert_eq(cache_delete(c, "key-00007", 9, 0), CACHE_OK);
    cr_assert(!present(-7));
    for (i = 5000; i < 10000; i++)
        cr_assert_eq(set_i(i, 0), CACHE_OK);
    value_of(-7);
    cr_assert(memcmp(item_value(held), value, VLEN) == 0, "bytes intact until released");
    cr_assert(memcmp(item_key(held), "key-00007", 9) == 0);
    cache_item_release(c, &held);
}

Test(evict, no_memory_only_when_everything_is_referenced)
{
    struct item **held;
    struct cache_class_stats cs;
    unsigned n, i;

    small_cache(MIB);
    n = perpage();
    held = calloc(n, sizeof *held);
    for (i = 0; i < n; i++) {
        cr_assert_eq(set_i((int)i, 0), CACHE_OK);
        held[i] = get_i((int)i);
    }
    cr_assert_eq(set_i(-1, 0), CACHE_NO_MEMORY);
    cache_class_stats_get(c, cache_item_class(c, held[0]), &cs);
    cr_assert_eq(cs.outofmemory, 1);
    cr_assert_eq(st_stats(c).evictions, 0);
    for (i = 0; i < n; i++)
        cr_assert(present((int)i), "a failed store changes nothing");
    cache_item_release(c, &held[5]);
    cr_assert_eq(set_i(-1, 0), CACHE_OK, "the one unreferenced item can go");
    cr_assert(!present(5));
    held[5] = get_i(-1);
    cr_assert_not_null(held[5]);
    cr_assert_eq(set_i(-2, 0), CACHE_NO_MEMORY);
    for (i = 0; i < n; i++)
        cache_item_release(c, &held[i]);
    cr_assert_eq(set_i(-2, 0), CACHE_OK);
    free(held);
}

Test(evict, dead_items_are_reclaimed_not_evicted)
{
    unsigned n, i;
    struct cache_stats s;

    small_cache(MIB);
    n = perpage();
    cache_clock_set(c, 100);
    for (i = 0; i < n; i++)
        cr_assert_eq(set_i((int)i, i < n / 2 ? 110 : 0), CACHE_OK);
    cr_assert(present(0)); /* fetched, then expires: not expired_unfetched */
    cache_flush(c, 0);
    cache_clock_set(c, 110);
    for (i = 0; i < n; i++)
        cr_assert_eq(set_i((int)(n + i), 0), CACHE_OK);
    s = st_stats(c);
    cr_assert_eq(s.evictions, 0);
    cr_assert_eq(s.reclaimed, n);
    cr_assert_eq(s.expired_unfetched, 0, "flushed before expiring: counted flushed");
    cr_assert_eq(s.curr_items, n);
}

Test(evict, expired_unfetched_counted_by_the_clock)
{
    unsigned n, i;
    struct cache_stats s;

    small_cache(MIB);
    n = perpage();
    cache_clock_set(c, 100);
    for (i = 0; i < n; i++)
        cr_assert_eq(set_i((int)i, st_at(110)), CACHE_OK);
    cr_assert(present(0));
    cache_clock_set(c, 110);
    for (i = 0; i < 10; i++)
        cr_assert_eq(set_i((int)(n + i), 0), CACHE_OK);
    s = st_stats(c);
    cr_assert_eq(s.reclaimed, 10);
    cr_assert_eq(s.expired_unfetched, 9);
    cr_assert_eq(s.evictions, 0);
}

Test(evict, append_and_incr_work_in_a_full_single_shard_cache)
{
    struct cache_options o;
    const char *err;
    unsigned i, n;
    uint64_t v = 0;

    cache_options_default(&o);
    o.memory_limit = 2 * MIB;
    o.shard_bits = 0;
    c = cache_create(&o, &err);
    cr_assert(st_store(c, "num", "41", 0, 0, CACHE_SET, 0, NULL) == CACHE_OK); /* page 1 */
    n = perpage();
    for (i = 0; i < n; i++) /* page 2, full */
        cr_assert_eq(set_i((int)i, 0), CACHE_OK);
    cr_assert_eq(st_stats(c).evictions, 0);
    cr_assert_eq(st_store(c, "key000001", "!", 0, 0, CACHE_APPEND, 0, NULL), CACHE_OK);
    cr_assert_eq(st_stats(c).evictions, 1, "the joined item needed a chunk of the full class");
    cr_assert(!present(0), "the clock took key 0");
    value_of(1);
    value[VLEN] = '!';
    {
        struct item *it = get_i(1);

        cr_assert_not_null(it, "the pinned old item must not be the victim");
        cr_assert_eq(item_nbytes(it), VLEN + 1);
        cr_assert(memcmp(item_value(it), value, VLEN + 1) == 0);
        cache_item_release(c, &it);
    }
    for (i = 0; i < 100; i++) {
        char key[16];

        key_of(key, sizeof key, (int)i + 2);
        cr_assert_eq(st_incr(c, key, true, 1, NULL), CACHE_NON_NUMERIC);
    }
    cr_assert_eq(st_incr(c, "num", true, 1, &v), CACHE_OK);
    cr_assert_eq(v, 42);
}

struct worker_arg {
    int id;
    int errors;
};

/* Sets, reads and deletes in a small cache; every value read must match its key. */
static void *evict_worker(void *p)
{
    struct worker_arg *a = p;
    char key[32], val[5100];
    unsigned seed = (unsigned)a->id * 7919u + 1;
    int i;

    for (i = 0; i < 6000; i++) {
        int k = (int)(rand_r(&seed) % 4000);
        int len = 2000 + k % 3000;
        struct item *it;

        snprintf(key, sizeof key, "mt%d", k);
        memset(val, 'a' + k % 26, (size_t)len);
        val[len] = '\0';
        switch (rand_r(&seed) % 4) {
        case 0:
        case 1:
            if (st_store(c, key, val, (uint32_t)k, 0, CACHE_SET, 0, NULL) != CACHE_OK)
                a->errors++;
            break;
        case 2:
            it = cache_get(c, key, strlen(key), NULL);
            if (it && (item_nbytes(it) != (uint32_t)len || item_client_flags(it) != (uint32_t)k ||
                       memcmp(item_value(it), val, (size_t)len) != 0))
                a->errors++;
            cache_item_release(c, &it);
            break;
        default:
            cache_delete(c, key, strlen(key), 0);
        }
    }
    return NULL;
}

Test(evict, concurrent_sets_gets_deletes_under_pressure)
{
    pthread_t th[4];
    struct worker_arg args[4];
    int i;

    small_cache(8 * MIB);
    for (i = 0; i < 4; i++) {
        args[i].id = i;
        args[i].errors = 0;
        cr_assert_eq(pthread_create(&th[i], NULL, evict_worker, &args[i]), 0);
    }
    for (i = 0; i < 4; i++) {
        pthread_join(th[i], NULL);
        cr_assert_eq(args[i].errors, 0, "worker %d saw %d errors", i, args[i].errors);
    }
    cr_assert_gt(st_stats(c).evictions, 0);
}

/* A cache of limit bytes with no_evict (memcached -M). */
static void no_evict_cache(size_t limit)
{
    struct cache_options o;
    const char *err = NULL;

    cache_options_default(&o);
    o.memory_limit = limit;
    o.page_size = MIB;
    o.shard_bits = 1;
    o.hash_power = 4;
    o.no_evict = true;
    c = cache_create(&o, &err);
    cr_assert_not_null(c, "cache_create: %s", err ? err : "?");
}

Test(evict, no_evict_refuses_instead_of_evicting)
{
    struct cache_stats s;
    int i, stored = -1;

    no_evict_cache(2 * MIB);
    for (i = 0; i < 20000; i++) {
        enum cache_status st = set_i(i, 0);
        if (st != CACHE_OK) {
            cr_assert_eq(st, CACHE_NO_MEMORY, "set %d", i);
            stored = i;
            break;
        }
    }
    cr_assert_gt(stored, 0, "2 MiB took 20000 items without a refusal");
    s = st_stats(c);
    cr_assert_eq(s.evictions, 0);
    cr_assert_eq(s.curr_items, (uint64_t)stored);
    for (i = 0; i < stored; i++)
        cr_assert(present(i), "key %d was evicted", i);
    /* an overwrite of a live key cannot take its own chunk either: refused, the old value stays */
    cr_assert_eq(set_i(0, 0), CACHE_NO_MEMORY);
    cr_assert(present(0));
}

Test(evict, no_evict_still_reclaims_dead_items)
{
    unsigned n, i;
    struct cache_stats s;

    no_evict_cache(MIB);
    n = perpage();
    cache_clock_set(c, 100);
    for (i = 0; i < n; i++)
        cr_assert_eq(set_i((int)i, i < n / 2 ? st_at(110) : 0), CACHE_OK);
    cr_assert_eq(set_i((int)n, 0), CACHE_NO_MEMORY, "full, nothing dead yet");
    cache_clock_set(c, 110);
    for (i = 0; i < n / 2; i++)
        cr_assert_eq(set_i((int)(n + i), 0), CACHE_OK, "the expired half makes room (%u)", i);
    s = st_stats(c);
    cr_assert_eq(s.evictions, 0);
    cr_assert_eq(s.reclaimed, n / 2);
    cr_assert_eq(set_i((int)(2 * n), 0), CACHE_NO_MEMORY);
}
