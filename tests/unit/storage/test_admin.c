/*
 * test_admin.c: the storage engine's run-time administration: the adjustable memory limit, explicit
 * page moves between classes and the free pool (slabs reassign), the automove switch, and the
 * per-class operation counters adding up to the cache-wide figures.
 */
#include "storage_test.h"

#define PAGE (1024u * 1024u)

/* Fills the class of 100-byte values until it holds at least `pages` pages. */
static unsigned fill_pages(struct cache *c, unsigned pages)
{
    char key[32], val[101];
    struct cache_class_stats cs;
    unsigned id = 0;

    memset(val, 'v', 100);
    val[100] = '\0';
    for (unsigned i = 0;; i++) {
        snprintf(key, sizeof key, "k%08u", i);
        cr_assert_eq(st_store(c, key, val, 0, 0, CACHE_SET, 0, NULL), CACHE_OK);
        if (id == 0) {
            struct item *it = cache_get(c, key, strlen(key), NULL);
            id = cache_item_class(c, it);
            cache_item_release(c, &it);
        }
        cache_class_stats_get(c, id, &cs);
        if (cs.total_pages >= pages)
            return id;
    }
}

Test(admin, memory_limit_adjusts_budget)
{
    struct cache *c = st_cache(PAGE, PAGE, 0, 0);
    struct cache_stats s;

    cr_assert_geq(cache_memory_limit_max(c), (size_t)PAGE);
    cr_assert_eq(cache_set_memory_limit(c, (size_t)2 * PAGE), CACHE_OK);
    cache_stats_get(c, &s);
    cr_assert_eq(s.limit_maxbytes, (uint64_t)2 * PAGE);
    cr_assert_eq(s.total_pages, 2u);
    cr_assert_eq(cache_set_memory_limit(c, cache_memory_limit_max(c) + PAGE), CACHE_TOO_LARGE);
    cache_destroy(&c);
}

Test(admin, lowering_the_limit_stops_new_pages)
{
    struct cache *c = st_cache(8 * PAGE, PAGE, 0, 0);
    unsigned id = fill_pages(c, 3);
    struct cache_stats s;

    cr_assert_eq(cache_set_memory_limit(c, 2 * PAGE), CACHE_OK);
    for (int i = 0; i < 2000; i++) {
        char key[32];
        snprintf(key, sizeof key, "z%d", i);
        st_store(c, key, "0123456789", 0, 0, CACHE_SET, 0, NULL);
    }
    cache_stats_get(c, &s);
    cr_assert_leq(s.curr_pages, 3, "pages in use stay, no new ones: %llu", (unsigned long long)s.curr_pages);
    (void)id;
    cache_destroy(&c);
}

Test(admin, reassign_rules_and_moves)
{
    struct cache *c = st_cache(16 * PAGE, PAGE, 0, 0);
    unsigned id = fill_pages(c, 3);
    unsigned other = id + 3;
    struct cache_class_stats a, b;
    struct cache_stats s;

    cr_assert_eq(cache_slabs_reassign(c, (int)id, (int)id), CACHE_REASSIGN_SAME);
    cr_assert_eq(cache_slabs_reassign(c, (int)id, 999), CACHE_REASSIGN_BADCLASS);
    cr_assert_eq(cache_slabs_reassign(c, (int)other, (int)id), CACHE_REASSIGN_NOSPARE);
    cr_assert_eq(cache_slabs_reassign(c, (int)id, (int)other), CACHE_REASSIGN_OK);
    cache_class_stats_get(c, id, &a);
    cache_class_stats_get(c, other, &b);
    cr_assert_eq(a.total_pages, 2);
    cr_assert_eq(b.total_pages, 1);
    cr_assert_eq(a.used_chunks, a.number, "evicted items left the class");
    cr_assert_eq(cache_slabs_reassign(c, (int)id, 0), CACHE_REASSIGN_OK);
    cache_stats_get(c, &s);
    cr_assert_eq(s.pool_pages, 1);
    cr_assert_eq(cache_slabs_reassign(c, 0, (int)other), CACHE_REASSIGN_OK);
    cache_class_stats_get(c, other, &b);
    cr_assert_eq(b.total_pages, 2);
    cr_assert_eq(cache_slabs_reassign(c, -1, (int)other), CACHE_REASSIGN_BADCLASS,
                 "no class has a spare page");
    cache_destroy(&c);
}

Test(admin, automove_switch)
{
    struct cache *c = st_cache(0, 0, 0, 0);

    cr_assert_eq(cache_automove(c), 1);
    cache_set_automove(c, 0);
    cr_assert_eq(cache_automove(c), 0);
    cache_set_automove(c, 7);
    cr_assert_eq(cache_automove(c), 2);
    cache_destroy(&c);
}

Test(admin, per_class_counters_add_up)
{
    struct cache *c = st_cache(0, 0, 0, 0);
    struct cache_class_stats cs, sum;
    uint64_t cas = 0, result;
    struct item *it;

    st_store(c, "small", "1", 0, 0, CACHE_SET, 0, &cas);
    st_store(c, "big", "0123456789012345678901234567890123456789012345678901234567890123456789"
                       "0123456789012345678901234567890123456789", 0, 0, CACHE_SET, 0, NULL);
    st_store(c, "small", "2", 0, 0, CACHE_CAS, cas, NULL);
    st_store(c, "small", "3", 0, 0, CACHE_CAS, 1, NULL);
    it = cache_get(c, "big", 3, NULL);
    cache_item_release(c, &it);
    it = cache_get_touch(c, "big", 3, 0, NULL);
    cache_item_release(c, &it);
    cache_touch(c, "small", 5, 0);
    st_incr(c, "small", true, 1, &result);
    st_incr(c, "small", false, 1, &result);
    cache_delete(c, "big", 3, 0);
    memset(&sum, 0, sizeof sum);
    for (unsigned id = 1; id <= cache_class_count(c); id++) {
        cache_class_stats_get(c, id, &cs);
        sum.get_hits += cs.get_hits;
        sum.cmd_set += cs.cmd_set;
        sum.delete_hits += cs.delete_hits;
        sum.incr_hits += cs.incr_hits;
        sum.decr_hits += cs.decr_hits;
        sum.cas_hits += cs.cas_hits;
        sum.cas_badval += cs.cas_badval;
        sum.touch_hits += cs.touch_hits;
    }
    cr_assert_eq(sum.get_hits, 1);
    cr_assert_eq(sum.cmd_set, 4);
    cr_assert_eq(sum.delete_hits, 1);
    cr_assert_eq(sum.incr_hits, 1);
    cr_assert_eq(sum.decr_hits, 1);
    cr_assert_eq(sum.cas_hits, 1);
    cr_assert_eq(sum.cas_badval, 1);
    cr_assert_eq(sum.touch_hits, 2);
    cache_destroy(&c);
}
