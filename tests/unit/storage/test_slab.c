/*
 * test_slab.c: slab classes, page hand-out under the memory limit, free-list reuse, chunk
 * accounting and size limits, observed through cache.h.
 */
#include "tests/unit/storage/storage_test.h"

#include <stdlib.h>

#define MIB ((size_t)1 << 20)
#define FINE_MAX 512 /* classes below this chunk size are 8 bytes apart (slab.c) */

static struct cache *make(size_t limit, size_t item_max, size_t page, double factor, size_t nmin,
                          const char **err)
{
    struct cache_options o;

    cache_options_default(&o);
    o.memory_limit = limit;
    o.item_size_max = item_max;
    o.page_size = page;
    o.growth_factor = factor;
    o.chunk_min = nmin;
    o.shard_bits = 0;
    o.hash_power = 4;
    return cache_create(&o, err);
}

static size_t round8(double v)
{
    size_t n = (size_t)v;

    if ((double)n < v)
        n++;
    return (n + 7) & ~(size_t)7;
}

struct class_case {
    size_t chunk_min;
    double factor;
    size_t item_max;
    size_t page;       /* 0 = default */
    size_t want_page;  /* the page size the cache must use */
};

static const struct class_case class_cases[] = {
    {48, 1.25, MIB, 0, MIB},
    {48, 2.0, MIB, 0, MIB},
    {0, 1.25, MIB, 0, MIB},
    {100, 1.07, MIB, 0, MIB},
    {48, 1.25, 2 * MIB, 0, 2 * MIB},     /* page = max(1 MiB, -I) */
    {48, 1.25, 64 * 1024, 0, MIB},
    {48, 1.25, 512 * 1024, 512 * 1024, 512 * 1024},
    {48, 1.001, MIB, 0, MIB},            /* would need thousands of classes: capped at 255 */
};

Test(slab, class_sizes_follow_n_and_f)
{
    size_t i;

    for (i = 0; i < sizeof class_cases / sizeof class_cases[0]; i++) {
        const struct class_case *k = &class_cases[i];
        const char *err = NULL;
        struct cache *c = make(8 * MIB, k->item_max, k->page, k->factor, k->chunk_min, &err);
        struct cache_class_stats prev, cur;
        unsigned n, id;

        cr_assert_not_null(c, "case %zu: %s", i, err);
        n = cache_class_count(c);
        cr_assert(n >= 2 && n <= 255, "case %zu: %u classes", i, n);
        cache_class_stats_get(c, 1, &prev);
        cr_assert_eq(prev.chunk_size, round8((double)ITEM_HEADER_SIZE + (double)k->chunk_min), "case %zu first", i);
        for (id = 2; id <= n; id++) {
            cache_class_stats_get(c, id, &cur);
            cr_assert_eq(cur.chunk_size % 8, 0);
            if (id < n) {
                size_t want = round8(prev.chunk_size * k->factor);

                if (want < prev.chunk_size + 8 || prev.chunk_size < FINE_MAX)
                    want = prev.chunk_size + 8;
                cr_assert_eq(cur.chunk_size, want, "case %zu class %u", i, id);
            }
            cr_assert_gt(cur.chunk_size, prev.chunk_size);
            cr_assert_eq(cur.chunks_per_page, k->want_page / cur.chunk_size);
            prev = cur;
        }
        cr_assert_eq(prev.chunk_size, k->want_page, "case %zu: last class is the page", i);
        cr_assert_eq(prev.chunks_per_page, 1);
        if (k->factor < 1.01)
            cr_assert_eq(n, 255);
        cache_destroy(&c);
    }
}

Test(slab, default_classes_are_fine_then_geometric)
{
    const char *err = NULL;
    struct cache *c = make(8 * MIB, MIB, 0, 1.25, 48, &err);
    static const uint32_t want[] = {80, 88, 96, 104, 112};
    static const uint32_t want_above[] = {504, 512, 640, 800, 1000};
    struct cache_class_stats s;
    unsigned i;

    cr_assert_not_null(c);
    for (i = 0; i < sizeof want / sizeof want[0]; i++) {
        cache_class_stats_get(c, i + 1, &s);
        cr_assert_eq(s.chunk_size, want[i], "class %u: %u", i + 1, s.chunk_size);
    }
    for (i = 0; i < sizeof want_above / sizeof want_above[0]; i++) {
        cache_class_stats_get(c, (FINE_MAX - 80) / 8 + i, &s);
        cr_assert_eq(s.chunk_size, want_above[i], "above the fine range, %u: %u", i, s.chunk_size);
    }
    cache_class_stats_get(c, 0, &s);
    cr_assert_eq(s.chunk_size, 0, "id 0 is not a class");
    cache_class_stats_get(c, cache_class_count(c) + 1, &s);
    cr_assert_eq(s.chunk_size, 0);
    cache_destroy(&c);
}

Test(slab, bad_options_are_refused)
{
    const char *err = NULL;

    cr_assert_null(make((size_t)33 << 30, MIB, 0, 1.25, 48, &err));
    cr_assert_not_null(err);
    err = NULL;
    cr_assert_null(make(8 * MIB, MIB, 512 * 1024, 1.25, 48, &err), "page below -I");
    cr_assert_not_null(err);
    err = NULL;
    cr_assert_null(make(8 * MIB, MIB, 0, 1.0, 48, &err), "factor 1.0");
    cr_assert_not_null(err);
    err = NULL;
    cr_assert_null(make(8 * MIB, MIB, MIB + 4, 1.25, 48, &err), "page not a multiple of 8");
    cr_assert_not_null(err);
}

Test(slab, limit_of_32_gib_is_accepted_without_touching_memory)
{
    const char *err = NULL;
    struct cache *c = make((size_t)32 << 30, MIB, 0, 1.25, 48, &err);
    struct cache_stats s;

    if (!c && err && strcmp(err, "cannot reserve the slab arena") == 0)
        cr_skip_test("this host refuses a 32 GiB MAP_NORESERVE mapping (strict overcommit)");
    cr_assert_not_null(c, "%s", err);
    cache_stats_get(c, &s);
    cr_assert_eq(s.total_pages, 32768);
    cr_assert_eq(s.curr_pages, 0);
    cr_assert_eq(st_set(c, "k", "v"), CACHE_OK);
    st_expect(c, "k", "v");
    cache_destroy(&c);
}

Test(slab, limit_below_one_page_gives_one_page)
{
    const char *err = NULL;
    struct cache *c = make(1000, MIB, 0, 1.25, 48, &err);
    struct cache_stats s;

    cr_assert_not_null(c, "%s", err);
    cache_stats_get(c, &s);
    cr_assert_eq(s.total_pages, 1);
    cr_assert_eq(s.limit_maxbytes, 1000);
    cr_assert_eq(st_set(c, "k", "v"), CACHE_OK);
    cache_stats_get(c, &s);
    cr_assert_eq(s.curr_pages, 1);
    cr_assert_eq(s.total_malloced, MIB);
    cache_destroy(&c);
}

/* Allocates (without storing) items of nbytes until NO_MEMORY; returns them. */
static struct item **alloc_all(struct cache *c, size_t nbytes, size_t *count)
{
    size_t cap = 1024, n = 0;
    struct item **v = malloc(cap * sizeof *v);
    enum cache_status st;
    char key[32];

    for (;;) {
        struct item *it;

        snprintf(key, sizeof key, "key%08zu", n); /* all keys 11 bytes */
        it = cache_alloc(c, key, strlen(key), 0, 0, nbytes, &st);
        if (!it)
            break;
        if (n == cap)
            v = realloc(v, (cap *= 2) * sizeof *v);
        v[n++] = it;
    }
    cr_assert_eq(st, CACHE_NO_MEMORY);
    *count = n;
    return v;
}

Test(slab, pages_handed_out_up_to_the_limit_then_free_list_reused)
{
    const char *err = NULL;
    struct cache *c = make(4 * MIB, MIB, 0, 1.25, 48, &err);
    struct cache_class_stats cs;
    struct cache_stats s;
    struct item **v;
    size_t n, n2, i;
    unsigned id;

    cr_assert_not_null(c);
    v = alloc_all(c, 1000, &n);
    id = cache_item_class(c, v[0]);
    cache_class_stats_get(c, id, &cs);
    cr_assert_eq(n, 4 * cs.chunks_per_page, "all four pages carved into one class");
    cr_assert_eq(cs.total_pages, 4);
    cr_assert_eq(cs.used_chunks, n);
    cr_assert_eq(cs.free_chunks, 0);
    cr_assert_eq(cs.mem_requested, n * item_total_size(11, 1000),
                 "mem_requested sums header + key + value");
    cache_stats_get(c, &s);
    cr_assert_eq(s.curr_pages, 4);
    cr_assert_eq(s.total_malloced, 4 * MIB);
    cr_assert_eq(s.curr_items, 0, "allocated items are not linked");
    for (i = 0; i < n; i++) {
        cr_assert_eq(cache_item_class(c, v[i]), id);
        if (i > 0)
            cr_assert_neq(v[i], v[i - 1]);
        cache_item_release(c, &v[i]);
    }
    cache_class_stats_get(c, id, &cs);
    cr_assert_eq(cs.free_chunks, n);
    cr_assert_eq(cs.used_chunks, 0);
    cr_assert_eq(cs.mem_requested, 0);
    free(v);
    v = alloc_all(c, 1000, &n2);
    cr_assert_eq(n2, n, "freed chunks are all reused");
    cache_stats_get(c, &s);
    cr_assert_eq(s.curr_pages, 4, "no new page was needed");
    for (i = 0; i < n2; i++)
        cache_item_release(c, &v[i]);
    free(v);
    cache_destroy(&c);
}

/* Every chunk of the only page is held by an unstored allocation: the page cannot be emptied, so a
 * class without pages gets none and the answer is NO_MEMORY (rebalancing moves only empty pages). */
Test(slab, a_page_whose_chunks_are_all_held_is_not_moved)
{
    const char *err = NULL;
    struct cache *c = make(MIB, MIB, 0, 1.25, 48, &err);
    enum cache_status st = CACHE_OK;
    struct item **v;
    struct item *it;
    size_t n, i;

    cr_assert_not_null(c);
    v = alloc_all(c, 100, &n);
    cr_assert_gt(n, 1000, "n = %zu", n);
    it = cache_alloc(c, "big", 3, 0, 0, 5000, &st);
    cr_assert_null(it);
    cr_assert_eq(st, CACHE_NO_MEMORY);
    for (i = 0; i < n; i++)
        cache_item_release(c, &v[i]);
    free(v);
    it = cache_alloc(c, "big", 3, 0, 0, 5000, &st);
    cr_assert_not_null(it, "a page of free chunks moves to the class that needs it");
    cr_assert_eq(st_stats(c).slabs_moved, 1);
    cr_assert_eq(st_stats(c).evictions, 0, "nothing was linked: nothing evicted");
    cr_assert_eq(st_stats(c).curr_pages, 1);
    cache_item_release(c, &it);
    cache_destroy(&c);
}

Test(slab, items_go_to_the_smallest_class_that_fits)
{
    const char *err = NULL;
    struct cache *c = make(16 * MIB, MIB, 0, 1.25, 48, &err);
    static const size_t sizes[] = {
        0, 1, 40, 47, 48, 49, 100, 1000, 8190, 8191, 50000, MIB - ITEM_HEADER_SIZE - 3 - ITEM_NBYTES_EXT};
    size_t i;

    cr_assert_not_null(c);
    for (i = 0; i < sizeof sizes / sizeof sizes[0]; i++) {
        enum cache_status st;
        struct item *it = cache_alloc(c, "abc", 3, 7, 0, sizes[i], &st);
        struct cache_class_stats cs, below;
        size_t total = item_total_size(3, sizes[i]);

        cr_assert_not_null(it, "size %zu", sizes[i]);
        cr_assert_eq(item_nbytes(it), sizes[i]);
        cr_assert_eq(item_client_flags(it), 7);
        cr_assert(memcmp(item_key(it), "abc", 3) == 0);
        cache_class_stats_get(c, cache_item_class(c, it), &cs);
        cr_assert_geq(cs.chunk_size, total);
        if (cache_item_class(c, it) > 1) {
            cache_class_stats_get(c, cache_item_class(c, it) - 1u, &below);
            cr_assert_lt(below.chunk_size, total, "size %zu fits a smaller class", sizes[i]);
        }
        memset(item_value(it), 'x', sizes[i]);
        cache_item_release(c, &it);
    }
    cache_destroy(&c);
}

/* Issue 3, load (d): a 15-byte key and a 100-byte value used to take a 176-byte chunk (32-byte
 * header, -f 1.25 classes), then 152 (8-byte classes); with the 28-byte header the item is 143
 * bytes and takes 144, so a full 8 MiB cache holds 8 * (1 MiB / 144) such items. */
Test(slab, memtier_sized_items_waste_at_most_7_bytes)
{
    const char *err = NULL;
    struct cache *c = make(8 * MIB, MIB, 0, 1.25, 48, &err);
    char key[32], val[101];
    struct cache_stats s;
    int i;

    cr_assert_not_null(c);
    memset(val, 'v', 100);
    val[100] = '\0';
    for (i = 0; i < 120000; i++) {
        snprintf(key, sizeof key, "memtier-%07d", 1000000 + i);
        cr_assert_eq(st_set(c, key, val), CACHE_OK);
    }
    s = st_stats(c);
    cr_assert_eq(s.curr_items, 8 * (MIB / 144), "%llu items", (unsigned long long)s.curr_items);
    cache_destroy(&c);
}

Test(slab, too_large_items_and_keys)
{
    const char *err = NULL;
    struct cache *c = make(8 * MIB, 64 * 1024, 0, 1.25, 48, &err);
    static char big[CACHE_KEY_MAX + 1];
    char key[300];
    enum cache_status st = CACHE_OK;
    struct item *it;

    cr_assert_not_null(c);
    /* a value of 8191 bytes or more carries its length in 4 bytes after the key (item.h) */
    it = cache_alloc(c, "k", 1, 0, 0, 64 * 1024 - ITEM_HEADER_SIZE - 1 - ITEM_NBYTES_EXT, &st);
    cr_assert_not_null(it, "exactly item_size_max fits");
    cr_assert_eq(st, CACHE_OK);
    cache_item_release(c, &it);
    it = cache_alloc(c, "k", 1, 0, 0, 64 * 1024 - ITEM_HEADER_SIZE - ITEM_NBYTES_EXT, &st);
    cr_assert_null(it);
    cr_assert_eq(st, CACHE_TOO_LARGE);
    /* keys: memcached's 250-byte rule is the protocol's (protocol/mc); the engine takes keys up to
     * CACHE_KEY_MAX as long as the whole item is within item_size_max */
    memset(key, 'k', sizeof key);
    st = CACHE_OK;
    it = cache_alloc(c, key, 251, 0, 0, 1, &st);
    cr_assert_not_null(it);
    cache_item_release(c, &it);
    it = cache_alloc(c, key, 250, 0, 0, 1, &st);
    cr_assert_not_null(it);
    cache_item_release(c, &it);
    it = cache_alloc(c, big, 64 * 1024 - ITEM_HEADER_SIZE - ITEM_NKEY_EXT, 0, 0, 0, &st);
    cr_assert_not_null(it, "a key filling the whole item");
    cache_item_release(c, &it);
    it = cache_alloc(c, big, 64 * 1024 - ITEM_HEADER_SIZE - ITEM_NKEY_EXT + 1, 0, 0, 0, &st);
    cr_assert_null(it);
    cr_assert_eq(st, CACHE_TOO_LARGE);
    cache_destroy(&c);
    c = make(8 * MIB, MIB, 0, 1.25, 48, &err);
    cr_assert_not_null(c);
    it = cache_alloc(c, big, CACHE_KEY_MAX, 0, 0, 1, &st);
    cr_assert_not_null(it, "CACHE_KEY_MAX");
    cache_item_release(c, &it);
    it = cache_alloc(c, big, CACHE_KEY_MAX + 1, 0, 0, 1, &st);
    cr_assert_null(it);
    cr_assert_eq(st, CACHE_TOO_LARGE, "longer than CACHE_KEY_MAX");
    cr_assert_eq(st_set(c, "k", "v"), CACHE_OK);
    cache_destroy(&c);
    cache_destroy(&c); /* NULL is a no-op */
}
