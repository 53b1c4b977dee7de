/*
 * test_store.c: store modes, CAS, append/prepend, reference counts (including the heap copy at
 * saturation), delete, and the item statistics. (incr/decr: tests/unit/protocol/test_arith.c.)
 */
#include "storage/item_internal.h"
#include "tests/unit/storage/storage_test.h"

#include <pthread.h>
#include <stdlib.h>

static struct cache *c;

static void setup(void)
{
    c = st_cache(0, 0, 2, 4);
}

static void teardown(void)
{
    cache_destroy(&c);
    cr_assert_null(c);
}

TestSuite(store, .init = setup, .fini = teardown);

static uint64_t cas_of(const char *key)
{
    struct item *it = cache_get(c, key, strlen(key), NULL);
    uint64_t cas;

    cr_assert_not_null(it, "%s missing", key);
    cas = item_cas(it);
    cache_item_release(c, &it);
    return cas;
}

Test(store, set_then_get)
{
    cr_assert_eq(st_set(c, "k", "hello"), CACHE_OK);
    st_expect(c, "k", "hello");
    cr_assert_eq(st_set(c, "k", "world!"), CACHE_OK);
    st_expect(c, "k", "world!");
    cr_assert_eq(st_set(c, "empty", ""), CACHE_OK);
    st_expect(c, "empty", "");
    st_expect_miss(c, "other", CACHE_MISS_NONE);
}

struct mode_case {
    enum cache_store_mode mode;
    bool exists;                /* "k" = "old" before the store */
    enum cache_status want;
    const char *value_after;    /* NULL = missing */
};

static const struct mode_case mode_cases[] = {
    {CACHE_SET, false, CACHE_OK, "new"},
    {CACHE_SET, true, CACHE_OK, "new"},
    {CACHE_ADD, false, CACHE_OK, "new"},
    {CACHE_ADD, true, CACHE_NOT_STORED, "old"},
    {CACHE_REPLACE, false, CACHE_NOT_STORED, NULL},
    {CACHE_REPLACE, true, CACHE_OK, "new"},
    {CACHE_APPEND, false, CACHE_NOT_STORED, NULL},
    {CACHE_APPEND, true, CACHE_OK, "oldnew"},
    {CACHE_PREPEND, false, CACHE_NOT_STORED, NULL},
    {CACHE_PREPEND, true, CACHE_OK, "newold"},
    {CACHE_CAS, false, CACHE_NOT_FOUND, NULL},
};

Test(store, modes_table)
{
    size_t i;

    for (i = 0; i < sizeof mode_cases / sizeof mode_cases[0]; i++) {
        const struct mode_case *k = &mode_cases[i];
        struct cache_stats s;

        cache_delete(c, "k", 1, 0);
        st_expect_miss(c, "k", CACHE_MISS_NONE);
        if (k->exists)
            cr_assert_eq(st_set(c, "k", "old"), CACHE_OK);
        cr_assert_eq(st_store(c, "k", "new", 0, 0, k->mode, 12345, NULL), k->want, "case %zu", i);
        if (k->value_after)
            st_expect(c, "k", k->value_after);
        else
            st_expect_miss(c, "k", CACHE_MISS_NONE);
        cache_stats_get(c, &s);
        cr_assert_eq(s.curr_items, k->value_after ? 1 : 0, "case %zu", i);
    }
}

Test(store, add_keeps_the_old_item_untouched)
{
    uint64_t cas1 = 0;

    cr_assert_eq(st_store(c, "k", "one", 5, 0, CACHE_SET, 0, &cas1), CACHE_OK);
    cr_assert_eq(st_store(c, "k", "two", 6, 0, CACHE_ADD, 0, NULL), CACHE_NOT_STORED);
    st_expect(c, "k", "one");
    cr_assert_eq(cas_of("k"), cas1);
}

Test(store, cas_unique_rules)
{
    uint64_t cas1 = 0, cas2 = 0, cas3 = 0;

    cr_assert_eq(st_store(c, "k", "a", 0, 0, CACHE_SET, 0, &cas1), CACHE_OK);
    cr_assert_neq(cas1, 0);
    cr_assert_eq(cas_of("k"), cas1);
    cr_assert_eq(st_store(c, "k", "b", 0, 0, CACHE_CAS, cas1 + 1, NULL), CACHE_EXISTS);
    st_expect(c, "k", "a");
    cr_assert_eq(st_store(c, "k", "c", 0, 0, CACHE_CAS, cas1, &cas2), CACHE_OK);
    st_expect(c, "k", "c");
    cr_assert_gt(cas2, cas1);
    cr_assert_eq(st_store(c, "k", "d", 0, 0, CACHE_CAS, cas1, NULL), CACHE_EXISTS, "stale unique");
    cr_assert_eq(st_store(c, "other", "x", 0, 0, CACHE_SET, 0, &cas3), CACHE_OK);
    cr_assert_gt(cas3, cas2, "uniques grow across keys");
}

Test(store, without_cas_every_unique_is_zero)
{
    struct cache_options o;
    struct cache *nc;
    uint64_t cas = 99;

    cache_options_default(&o);
    o.use_cas = false;
    nc = cache_create(&o, NULL);
    cr_assert_not_null(nc);
    cr_assert_eq(st_store(nc, "k", "v", 0, 0, CACHE_SET, 0, &cas), CACHE_OK);
    cr_assert_eq(cas, 0);
    cache_destroy(&nc);
}

Test(store, append_prepend_keep_flags_and_exptime)
{
    uint32_t exp = cache_rel_time(c) + 100;
    uint64_t cas1 = 0, cas2 = 0;
    struct item *it;

    cr_assert_eq(st_store(c, "k", "middle", 42, st_at(exp), CACHE_SET, 0, &cas1), CACHE_OK);
    cr_assert_eq(st_store(c, "k", "-end", 7, 0, CACHE_APPEND, 0, &cas2), CACHE_OK);
    cr_assert_gt(cas2, cas1);
    cr_assert_eq(st_store(c, "k", "start-", 8, 0, CACHE_PREPEND, 0, NULL), CACHE_OK);
    st_expect(c, "k", "start-middle-end");
    it = cache_get(c, "k", 1, NULL);
    cr_assert_not_null(it);
    cr_assert_eq(item_client_flags(it), 42);
    cr_assert_eq(item_exptime(it), exp);
    cr_assert_gt(item_cas(it), cas2);
    cache_item_release(c, &it);
}

Test(store, append_past_item_size_max_fails_and_changes_nothing)
{
    size_t big = ((size_t)1 << 20) - ITEM_HEADER_SIZE - 1 - 10;
    char *v = malloc(big + 1);
    enum cache_status st;
    struct item *it;

    memset(v, 'a', big);
    v[big] = '\0';
    cr_assert_eq(st_set(c, "k", v), CACHE_OK);
    it = cache_alloc(c, "k", 1, 0, 0, 11, &st);
    cr_assert_not_null(it);
    memset(item_value(it), 'b', 11);
    cr_assert_eq(cache_store(c, it, CACHE_APPEND, 0, NULL), CACHE_TOO_LARGE);
    cache_item_release(c, &it);
    st_expect(c, "k", v);
    free(v);
}

Test(store, delete_with_and_without_cas)
{
    uint64_t cas = 0;

    cr_assert_eq(cache_delete(c, "k", 1, 0), CACHE_NOT_FOUND);
    cr_assert_eq(st_store(c, "k", "v", 0, 0, CACHE_SET, 0, &cas), CACHE_OK);
    cr_assert_eq(cache_delete(c, "k", 1, cas + 1), CACHE_EXISTS);
    st_expect(c, "k", "v");
    cr_assert_eq(cache_delete(c, "k", 1, cas), CACHE_OK);
    st_expect_miss(c, "k", CACHE_MISS_NONE);
    cr_assert_eq(st_set(c, "k", "v"), CACHE_OK);
    cr_assert_eq(cache_delete(c, "k", 1, 0), CACHE_OK);
    cr_assert_eq(cache_delete(c, "k", 1, 0), CACHE_NOT_FOUND);
}

Test(store, a_reader_keeps_the_bytes_after_delete_and_overwrite)
{
    struct item *it;
    struct cache_class_stats cs;
    unsigned id;

    cr_assert_eq(st_set(c, "k", "precious"), CACHE_OK);
    it = cache_get(c, "k", 1, NULL);
    cr_assert_not_null(it);
    id = cache_item_class(c, it);
    cr_assert_eq(cache_delete(c, "k", 1, 0), CACHE_OK);
    cr_assert_eq(st_set(c, "k", "replaced"), CACHE_OK);
    cr_assert_eq(st_set(c, "j", "xxxxxxxx"), CACHE_OK);
    cr_assert(memcmp(item_value(it), "precious", 8) == 0);
    cr_assert_eq(item_state(it) & ITEM_LINKED, 0);
    cache_class_stats_get(c, id, &cs);
    cr_assert_eq(cs.used_chunks, 3, "deleted but referenced chunk is still in use");
    cache_item_release(c, &it);
    cr_assert_null(it);
    cache_class_stats_get(c, id, &cs);
    cr_assert_eq(cs.used_chunks, 2, "last release freed the chunk");
    st_expect(c, "k", "replaced");
}

Test(store, acquire_adds_a_reference)
{
    struct item *it, *again;

    cr_assert_eq(st_set(c, "k", "v"), CACHE_OK);
    it = cache_get(c, "k", 1, NULL);
    cr_assert_eq(item_state(it) & ITEM_REFCOUNT_MASK, 2);
    again = it;
    cache_item_acquire(c, again);
    cr_assert_eq(item_state(it) & ITEM_REFCOUNT_MASK, 3);
    cache_item_release(c, &again);
    cache_item_release(c, &it);
    cache_item_release(c, &it); /* NULL: no-op */
    cache_item_release(c, NULL);
    cr_assert_eq(cache_delete(c, "k", 1, 0), CACHE_OK);
}

/* Regression test (false misses from popular items): past the state word's count, readers keep
 * getting the one shared item (references counted in the side table), and the item is freed exactly
 * when the last of them is released. */
Test(store, references_past_the_word_share_the_item)
{
    enum { HELD = 3000 };
    struct item **held = malloc(HELD * sizeof *held);
    struct cache_class_stats cs;
    unsigned id;
    size_t i;

    cr_assert_eq(st_store(c, "hot", "value", 3, 0, CACHE_SET, 0, NULL), CACHE_OK);
    for (i = 0; i < HELD; i++) {
        held[i] = cache_get(c, "hot", 3, NULL);
        cr_assert_eq(held[i], held[0], "the same item for every reader (%zu)", i);
    }
    id = cache_item_class(c, held[0]);
    cr_assert_eq(item_state(held[0]) & ITEM_REFCOUNT_MASK, ITEM_REF_SAT);
    cr_assert(item_state(held[0]) & ITEM_REF_OVERFLOW);
    struct item *extra = held[0];
    cr_assert(cache_item_acquire(c, extra));
    cache_item_release(c, &extra);
    cr_assert_eq(cache_delete(c, "hot", 3, 0), CACHE_OK);
    cr_assert_null(cache_get(c, "hot", 3, NULL));
    for (i = 0; i + 1 < HELD; i++) {
        cr_assert(memcmp(item_value(held[i]), "value", 5) == 0);
        cache_item_release(c, &held[i]);
        cache_class_stats_get(c, id, &cs);
        cr_assert_eq(cs.used_chunks, 1, "still held by %d readers", HELD - 1 - (int)i);
    }
    cr_assert_not(item_state(held[HELD - 1]) & ITEM_REF_OVERFLOW);
    cr_assert_eq(item_state(held[HELD - 1]) & ITEM_REFCOUNT_MASK, 1);
    cache_item_release(c, &held[HELD - 1]);
    cache_class_stats_get(c, id, &cs);
    cr_assert_eq(cs.used_chunks, 0, "the last release frees the chunk");
    free(held);
}

struct ref_churn {
    struct cache *c;
    unsigned rounds;
};

/* Takes and drops references on "hot" in bursts that cross the saturation point both ways. */
static void *ref_churn_worker(void *arg)
{
    struct ref_churn *a = arg;
    struct item *held[700];

    for (unsigned r = 0; r < a->rounds; r++) {
        for (size_t i = 0; i < 700; i++) {
            held[i] = cache_get(a->c, "hot", 3, NULL);
            cr_assert_not_null(held[i]);
        }
        for (size_t i = 0; i < 700; i++)
            cache_item_release(a->c, &held[i]);
    }
    return NULL;
}

/* Four threads cross the saturation point at once: every get hits, and afterwards the word holds
 * only the table's reference again. */
Test(store, references_past_the_word_under_threads)
{
    struct ref_churn arg = {c, 200};
    pthread_t th[4];
    struct item *it;

    cr_assert_eq(st_store(c, "hot", "value", 0, 0, CACHE_SET, 0, NULL), CACHE_OK);
    for (size_t i = 0; i < 4; i++)
        cr_assert_eq(pthread_create(&th[i], NULL, ref_churn_worker, &arg), 0);
    for (size_t i = 0; i < 4; i++)
        pthread_join(th[i], NULL);
    it = cache_get(c, "hot", 3, NULL);
    cr_assert_not_null(it);
    cr_assert_eq(item_state(it) & (ITEM_REFCOUNT_MASK | ITEM_REF_OVERFLOW), 2);
    cache_item_release(c, &it);
}

/* Regression test (false misses under a deep pipeline): thousands of readers of one 100 KB value in a
 * 2 MB cache all get it; none is refused and nothing is copied. */
Test(store, a_popular_large_item_is_never_missing)
{
    enum { HELD = 5000, VLEN = 100000 };
    struct cache *small = st_cache((size_t)2 << 20, (size_t)1 << 20, 0, 0);
    struct item **held = malloc(HELD * sizeof *held);
    enum cache_status st;
    size_t i;
    struct item *it = cache_alloc(small, "big", 3, 0, 0, VLEN, &st);

    cr_assert_not_null(it);
    memset(item_value(it), 'v', VLEN);
    cr_assert_eq(cache_store(small, it, CACHE_SET, 0, NULL), CACHE_OK);
    cache_item_release(small, &it);
    for (i = 0; i < HELD; i++) {
        held[i] = cache_get(small, "big", 3, NULL);
        cr_assert_eq(held[i], held[0], "reader %zu", i);
    }
    for (i = 0; i < HELD; i++)
        cache_item_release(small, &held[i]);
    free(held);
    cr_assert_eq(st_store(small, "after", "x", 0, 0, CACHE_SET, 0, NULL), CACHE_OK);
    cache_destroy(&small);
}

/* ---- the 28-byte header's escapes (item.h): keys of 255 bytes and more, values of 8191 bytes and
 * more, 64-bit CAS; the expiry's ms field beside the lengths ---- */

struct layout_case {
    size_t nkey;
    size_t nbytes;
    bool cas_ext;
    uint64_t cas;
    bool precise; /* a precise expiry (ms field 1..1000), else a whole-second one */
};

static const struct layout_case layout_cases[] = {
    {0, 0, false, 0, false}, /* an empty key (RESP) */
    {1, 0, false, 0, true},
    {15, 100, false, 1, false},
    {250, 5, false, ITEM_CAS_ESC - 1, true}, /* largest CAS of the 48-bit field */
    {254, 10, false, 2, false},              /* largest inline key length */
    {255, 10, false, 2, true},               /* the key sentinel itself: extension */
    {256, 10, true, 3, false},
    {65536, 100000, true, UINT64_MAX, true},  /* long key, long value, wide CAS */
    {3, ITEM_NBYTES_ESC - 1, false, 7, true}, /* largest length of the 13-bit field */
    {3, ITEM_NBYTES_ESC, false, 7, false},    /* the sentinel itself: extension */
    {3, ITEM_NBYTES_ESC + 1, false, 7, true},
    {300, ITEM_NBYTES_ESC, true, 5, true}, /* every extension at once */
    {3, 17u << 20, true, UINT64_MAX, false},
    {9, 10, true, ITEM_CAS_ESC, false}, /* first CAS that needs the extension */
    {9, 10, true, 3, true},             /* extension reserved, small CAS */
};

/* Checks every field of it against case t (i: the case's index). */
static void layout_check(const struct item *it, const struct layout_case *t, size_t i, const char *key,
                         cache_exp_t exp, size_t total)
{
    cr_assert_eq(item_has_cas_ext(it), t->cas_ext, "case %zu", i);
    cr_assert_eq(item_nkey(it), t->nkey, "case %zu: nkey", i);
    cr_assert_eq(item_nbytes(it), t->nbytes, "case %zu: nbytes", i);
    cr_assert_eq(item_cas(it), t->cas, "case %zu: cas", i);
    cr_assert_eq(item_size(it), total, "case %zu: item_size", i);
    cr_assert_eq(item_client_flags(it), 0xfeedf00d);
    cr_assert_eq(item_exp(it), exp, "case %zu: expiry", i);
    cr_assert_eq(item_atime(it), 66);
    cr_assert(memcmp(item_key(it), key, t->nkey) == 0, "case %zu: key", i);
    cr_assert_leq((size_t)(item_value_const(it) + t->nbytes - (const char *)it) + (t->cas_ext ? 8 : 0), total,
                  "case %zu: value inside the item", i);
    for (size_t k = 0; k < t->nbytes; k += 4093)
        cr_assert_eq(item_value_const(it)[k], 'v', "case %zu: value byte %zu", i, k);
}

/* item_init and the accessors on a private buffer: every field reads back, nothing overlaps; the
 * key mark and a change of the expiry (precise, whole, never) leave the lengths and bytes alone. */
Test(store, item_layout_escapes_read_back_exactly)
{
    for (size_t i = 0; i < sizeof layout_cases / sizeof layout_cases[0]; i++) {
        const struct layout_case *t = &layout_cases[i];
        size_t total = item_total_size_ext(t->nkey, t->nbytes, t->cas_ext);
        struct item *it = malloc(total < sizeof *it ? sizeof *it : total);
        char *key = malloc(t->nkey + 1);
        cache_exp_t exp = t->precise ? cache_exp_from_rel_ms(77123) : st_at(77);

        cr_assert(it && key);
        cr_assert_eq(total,
                     ITEM_HEADER_SIZE + (t->nkey >= 255 ? 4 : 0) + t->nkey + t->nbytes +
                         (t->nbytes >= 8191 ? 4 : 0) + (t->cas_ext ? 8 : 0),
                     "case %zu: size", i);
        for (size_t k = 0; k < t->nkey; k++)
            key[k] = (char)('a' + (i + k) % 26);
        item_init(it, key, t->nkey, t->nbytes, t->cas_ext, 0xfeedf00d, exp, 66);
        memset(item_value(it), 'v', t->nbytes);
        cr_assert_eq(item_cas(it), 0, "case %zu: CAS 0 before it is set", i);
        cr_assert(item_set_cas_private(it, t->cas), "case %zu: CAS fits", i);
        cr_assert_eq(item_state(it), 1, "case %zu: refcount 1, no flags", i);
        cr_assert_eq(item_exptime(it), t->precise ? 78u : 77u, "case %zu: the second field", i);
        layout_check(it, t, i, key, exp, total);
        item_set_key_binary(it, true);
        cr_assert(item_key_binary(it));
        item_set_exp(it, cache_exp_from_rel_ms(5000)); /* ms field 1000 */
        layout_check(it, t, i, key, cache_exp_from_rel_ms(5000), total);
        item_set_exp(it, st_at(9));
        layout_check(it, t, i, key, st_at(9), total);
        item_set_exp(it, CACHE_EXP_NEVER);
        layout_check(it, t, i, key, CACHE_EXP_NEVER, total);
        cr_assert(item_key_binary(it), "case %zu: the mark survives expiry changes", i);
        item_set_key_binary(it, false);
        cr_assert_not(item_key_binary(it));
        /* state changes leave the CAS alone */
        item_state_set(it, ITEM_LINKED | ITEM_ACTIVE);
        item_state_add(it, 1);
        item_state_clear(it, ITEM_ACTIVE);
        item_state_unref(it);
        cr_assert_eq(item_state(it), ITEM_LINKED | 1, "case %zu: state", i);
        cr_assert_eq(item_cas(it), t->cas, "case %zu: cas after state changes", i);
        free(key);
        free(it);
    }
}

/* The expiry's encoding in the header (item.h): exptime is the first whole second at or after a
 * precise expiry and the ms field its offset past the second before, 1..1000; every millisecond of
 * a few seconds round-trips, the ends of the range are clamped, a whole second stays whole. */
Test(store, item_expiry_encoding_round_trips)
{
    struct item *it = malloc(sizeof *it + 8);

    cr_assert_not_null(it);
    item_init(it, "k", 1, 2, false, 0, CACHE_EXP_NEVER, 0);
    cr_assert_eq(item_exp(it), CACHE_EXP_NEVER);
    cr_assert_eq(item_exptime(it), 0);
    for (uint64_t ms = 1; ms < 4000; ms++) {
        item_set_exp(it, cache_exp_from_rel_ms(ms));
        cr_assert_eq(item_exp(it), cache_exp_from_rel_ms(ms), "ms %llu", (unsigned long long)ms);
        cr_assert_eq(item_exptime(it), (ms + 999) / 1000, "ms %llu", (unsigned long long)ms);
        cr_assert_eq(item_nkey(it), 1);
        cr_assert_eq(item_nbytes(it), 2);
    }
    item_set_exp(it, cache_exp_from_rel_ms(0));
    cr_assert_eq(item_exp(it), cache_exp_from_rel_ms(1), "precise at the origin is kept as 1 ms");
    cr_assert_neq(item_exptime(it), 0, "never 'never'");
    item_set_exp(it, cache_exp_from_rel_ms(ITEM_EXP_MS_MAX));
    cr_assert_eq(item_exp(it), cache_exp_from_rel_ms(ITEM_EXP_MS_MAX));
    cr_assert_eq(item_exptime(it), UINT32_MAX);
    item_set_exp(it, cache_exp_from_rel_ms(ITEM_EXP_MS_MAX + 5));
    cr_assert_eq(item_exp(it), cache_exp_from_rel_ms(ITEM_EXP_MS_MAX), "clamped");
    item_set_exp(it, st_at(UINT32_MAX));
    cr_assert_eq(item_exp(it), st_at(UINT32_MAX));
    cr_assert_eq(item_exptime(it), UINT32_MAX);
    item_set_exp(it, st_at(1));
    cr_assert_eq(item_exp(it), st_at(1));
    cr_assert_not(cache_exp_precise(item_exp(it)));
    cr_assert_lt(st_at(5), cache_exp_from_rel_ms(5000), "a whole second sorts before the same ms");
    cr_assert_lt(cache_exp_from_rel_ms(4999), st_at(5));
    free(it);
}

/* Without the extension, a CAS of 2^48 - 1 or more is refused and the item is unchanged. */
Test(store, item_without_extension_refuses_a_wide_cas)
{
    struct item *it = malloc(sizeof *it + 8);

    cr_assert_not_null(it);
    item_init(it, "k", 1, 2, false, 0, 0, 0);
    cr_assert(item_set_cas_private(it, 42));
    cr_assert_not(item_set_cas_private(it, ITEM_CAS_ESC));
    cr_assert_not(item_set_cas_private(it, UINT64_MAX));
    cr_assert_eq(item_cas(it), 42);
    cr_assert_not(item_has_cas_ext(it));
    free(it);
}

/* A value of ITEM_NBYTES_ESC (8191) bytes and a 17 MiB one (possible with -I 32m) keep their exact
 * length through store, get, append and the statistics; one byte less needs no extension. */
Test(store, values_at_the_length_escape_and_more)
{
    static const size_t sizes[] = {ITEM_NBYTES_ESC - 1, ITEM_NBYTES_ESC, 17u << 20};
    struct cache_options o;
    struct cache *big;
    struct cache_stats s;
    enum cache_status st;
    uint64_t want_bytes = 0;
    size_t i, k;

    cache_options_default(&o);
    o.memory_limit = (size_t)128 << 20;
    o.item_size_max = (size_t)32 << 20;
    o.shard_bits = 1;
    big = cache_create(&o, NULL);
    cr_assert_not_null(big);
    for (i = 0; i < sizeof sizes / sizeof sizes[0]; i++) {
        char key[8];
        struct item *it;

        snprintf(key, sizeof key, "k%zu", i);
        it = cache_alloc(big, key, strlen(key), 5, 0, sizes[i], &st);
        cr_assert_not_null(it, "size %zu: status %d", sizes[i], st);
        for (k = 0; k < sizes[i]; k++)
            item_value(it)[k] = (char)(k * 7 + i);
        cr_assert_eq(cache_store(big, it, CACHE_SET, 0, NULL), CACHE_OK);
        cache_item_release(big, &it);
        want_bytes += item_total_size(strlen(key), sizes[i]);
        it = cache_get(big, key, strlen(key), NULL);
        cr_assert_not_null(it);
        cr_assert_eq(item_nbytes(it), sizes[i], "size %zu read back as %zu", sizes[i],
                     item_nbytes(it));
        cr_assert_eq(item_client_flags(it), 5);
        cr_assert(memcmp(item_key(it), key, strlen(key)) == 0);
        for (k = 0; k < sizes[i]; k++)
            if (item_value(it)[k] != (char)(k * 7 + i))
                cr_assert_fail("size %zu: byte %zu differs", sizes[i], k);
        cache_item_release(big, &it);
    }
    cr_assert_eq(item_total_size(2, ITEM_NBYTES_ESC - 1), ITEM_HEADER_SIZE + 2 + ITEM_NBYTES_ESC - 1);
    cr_assert_eq(item_total_size(2, ITEM_NBYTES_ESC), ITEM_HEADER_SIZE + 2 + 4 + ITEM_NBYTES_ESC);
    s = st_stats(big);
    cr_assert_eq(s.bytes, want_bytes, "stats bytes include the length extension");
    /* appending one byte to the 8190-byte value crosses into the extension */
    {
        struct item *it = cache_alloc(big, "k0", 2, 0, 0, 1, &st);

        cr_assert_not_null(it);
        item_value(it)[0] = '!';
        cr_assert_eq(cache_store(big, it, CACHE_APPEND, 0, NULL), CACHE_OK);
        cache_item_release(big, &it);
        it = cache_get(big, "k0", 2, NULL);
        cr_assert_not_null(it);
        cr_assert_eq(item_nbytes(it), ITEM_NBYTES_ESC);
        cr_assert_eq(item_value(it)[ITEM_NBYTES_ESC - 2], (char)((ITEM_NBYTES_ESC - 2) * 7));
        cr_assert_eq(item_value(it)[ITEM_NBYTES_ESC - 1], '!');
        cache_item_release(big, &it);
    }
    cache_destroy(&big);
}

/* Stores key (nkey bytes) = value under mode. */
static enum cache_status store_n(const char *key, size_t nkey, const char *value, enum cache_store_mode mode)
{
    enum cache_status st;
    size_t n = strlen(value);
    struct item *it = cache_alloc(c, key, nkey, 0, CACHE_EXP_NEVER, n, &st);

    if (!it)
        return st;
    memcpy(item_value(it), value, n);
    st = cache_store(c, it, mode, 0, NULL);
    cache_item_release(c, &it);
    return st;
}

/* Asserts that key (nkey bytes) holds value. */
static void expect_n(const char *key, size_t nkey, const char *value)
{
    struct item *it = cache_get(c, key, nkey, NULL);

    cr_assert_not_null(it, "key of %zu bytes missing", nkey);
    cr_assert_eq(item_nkey(it), nkey);
    cr_assert(memcmp(item_key(it), key, nkey) == 0);
    cr_assert_eq(item_nbytes(it), strlen(value), "key of %zu bytes: %zu bytes", nkey, item_nbytes(it));
    cr_assert(memcmp(item_value(it), value, item_nbytes(it)) == 0, "key of %zu bytes: value", nkey);
    cache_item_release(c, &it);
}

/* Keys the engine takes beyond memcached's 250 bytes (RESP), and the empty key: set, add, append,
 * prepend, incr, touch, delete, and keys that differ only past the first 255 bytes stay apart; the
 * statistics count each item's 4-byte key extension. */
Test(store, long_keys_and_the_empty_key_through_every_operation)
{
    static const size_t lens[] = {0, 1, 250, 254, 255, 256, 4096, 65536};
    static char key[65536], other[65536];
    uint64_t v = 0;

    for (size_t i = 0; i < sizeof lens / sizeof lens[0]; i++) {
        size_t n = lens[i];
        uint64_t bytes = st_stats(c).bytes;

        memset(key, 'a' + (int)i, n);
        memcpy(other, key, n);
        if (n > 0)
            other[n - 1] = 'Z';
        cr_assert_eq(store_n(key, n, "10", CACHE_SET), CACHE_OK, "key of %zu bytes", n);
        cr_assert_eq(st_stats(c).bytes - bytes, item_total_size(n, 2));
        cr_assert_eq(item_total_size(n, 2), ITEM_HEADER_SIZE + n + 2 + (n >= 255 ? 4 : 0));
        cr_assert_eq(store_n(key, n, "x", CACHE_ADD), CACHE_NOT_STORED);
        if (n > 0) {
            cr_assert_eq(store_n(other, n, "o", CACHE_ADD), CACHE_OK, "a key differing in its last byte");
            expect_n(other, n, "o");
        }
        cr_assert_eq(st_incr_n(c, key, n, true, 5, &v), CACHE_OK);
        cr_assert_eq(v, 15);
        cr_assert_eq(store_n(key, n, "-end", CACHE_APPEND), CACHE_OK);
        cr_assert_eq(store_n(key, n, "start-", CACHE_PREPEND), CACHE_OK);
        expect_n(key, n, "start-15-end");
        cr_assert_eq(cache_touch(c, key, n, cache_exp_from_rel_ms(5000000)), CACHE_OK);
        cr_assert_eq(cache_delete(c, key, n, 0), CACHE_OK);
        cr_assert_null(cache_get(c, key, n, NULL));
        if (n > 0)
            expect_n(other, n, "o");
    }
}
