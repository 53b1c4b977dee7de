/*
 * test_keyops.c: Redis's key operations in storage (storage/keyops.c): SET's options (NX/XX, KEEPTTL,
 * GET) through cache_store_ex, GETDEL, EXPIRE's conditions as a table, the delete of an expiry
 * already past, PERSIST, RENAME/RENAMENX (same key, same shard, two shards, inside a transaction, with
 * eviction under both locks), the per-class counters; and a race of renames in both directions
 * between the same keys, which must neither deadlock nor lose or duplicate a value.
 */
#include "config.h"

#include <pthread.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>

#include "tests/unit/storage/storage_test.h"

#define KEY(s) s, strlen(s)
#define NOW    1000u

/* One timeout for the whole suite (per-test timeouts of different lengths leak in Criterion's
 * runner under LeakSanitizer). */
TestSuite(keyops, .timeout = 120);

static struct cache *kc(void)
{
    struct cache *c = st_cache(0, 0, 4, 4);

    cache_clock_set(c, NOW);
    return c;
}

/* An expiry at relative second s (0 = never). */
static cache_exp_t at(uint32_t s)
{
    return st_at(s);
}

/* A precise expiry at relative millisecond ms. */
static cache_exp_t at_ms(uint64_t ms)
{
    return cache_exp_from_rel_ms(ms);
}

/* An unlinked item key = value, expiry exp. */
static struct item *mk(struct cache *c, const char *key, const char *value, uint32_t flags, cache_exp_t exp)
{
    enum cache_status st;
    struct item *it = cache_alloc(c, KEY(key), flags, exp, strlen(value), &st);

    cr_assert_not_null(it);
    memcpy(item_value(it), value, strlen(value));
    return it;
}

/* The live key's expiry, both fields (whole second and ms). */
static cache_exp_t exp_of(struct cache *c, const char *key)
{
    struct item *it = cache_get(c, KEY(key), NULL);
    cache_exp_t e;

    cr_assert_not_null(it, "%s missing", key);
    e = item_exp(it);
    cache_item_release(c, &it);
    return e;
}

static void expect_value(const struct item *it, const char *value)
{
    cr_assert_not_null(it);
    cr_assert_eq(item_nbytes(it), strlen(value));
    cr_assert(memcmp(item_value_const(it), value, strlen(value)) == 0);
}

static void class_sums(struct cache *c, struct cache_class_stats *sum)
{
    struct cache_class_stats cs;

    memset(sum, 0, sizeof *sum);
    for (unsigned id = 1; id <= cache_class_count(c); id++) {
        cache_class_stats_get(c, id, &cs);
        sum->get_hits += cs.get_hits;
        sum->cmd_set += cs.cmd_set;
        sum->delete_hits += cs.delete_hits;
        sum->touch_hits += cs.touch_hits;
    }
}

/* ---- SET options ---- */

struct set_case {
    enum cache_store_mode mode;
    bool exists;
    enum cache_status want;
    const char *after; /* NULL: missing */
};

static const struct set_case set_cases[] = {
    {CACHE_SET, false, CACHE_OK, "new"},
    {CACHE_SET, true, CACHE_OK, "new"},
    {CACHE_ADD, false, CACHE_OK, "new"},
    {CACHE_ADD, true, CACHE_NOT_STORED, "old"},
    {CACHE_REPLACE, false, CACHE_NOT_STORED, NULL},
    {CACHE_REPLACE, true, CACHE_OK, "new"},
};

/* SET [NX|XX] GET: the old value comes back whatever the outcome. */
Test(keyops, store_ex_modes_with_get)
{
    for (size_t i = 0; i < sizeof set_cases / sizeof set_cases[0]; i++) {
        const struct set_case *k = &set_cases[i];
        struct cache *c = kc();
        struct cache_store_opts o = {.mode = k->mode, .want_old = true};
        struct cache_store_result r;
        struct item *it;

        if (k->exists)
            st_set(c, "k", "old");
        it = mk(c, "k", "new", 0, 0);
        cr_assert_eq(cache_store_ex(c, it, &o, &r), k->want, "row %zu", i);
        cache_item_release(c, &it);
        if (k->exists)
            expect_value(r.old, "old");
        else
            cr_assert_null(r.old, "row %zu", i);
        cr_assert_eq(r.cas != 0, k->want == CACHE_OK, "row %zu", i);
        cache_item_release(c, &r.old);
        if (k->after)
            st_expect(c, "k", k->after);
        else
            st_expect_miss(c, "k", CACHE_MISS_NONE);
        cache_destroy(&c);
    }
}

Test(keyops, store_ex_keepttl)
{
    struct cache *c = kc();
    struct cache_store_opts o = {.mode = CACHE_SET, .keep_ttl = true};
    struct cache_store_result r;
    struct item *it;

    it = mk(c, "k", "a", 0, 0);
    cr_assert_eq(cache_store_ex(c, it, &o, &r), CACHE_OK);
    cache_item_release(c, &it);
    cr_assert_eq(exp_of(c, "k"), CACHE_EXP_NEVER, "no old item: its own (none)");
    cr_assert_eq(cache_expire(c, KEY("k"), at(5000), CACHE_EXPIRE_NONE), CACHE_OK);
    it = mk(c, "k", "b", 3, at(7000));
    cr_assert_eq(cache_store_ex(c, it, &o, &r), CACHE_OK);
    cache_item_release(c, &it);
    cr_assert_eq(exp_of(c, "k"), at(5000), "KEEPTTL keeps the old expiry");
    /* a precise one too, to the millisecond */
    cr_assert_eq(cache_expire(c, KEY("k"), at_ms(5000u * 1000u + 250), CACHE_EXPIRE_NONE), CACHE_OK);
    it = mk(c, "k", "b", 3, 0);
    cr_assert_eq(cache_store_ex(c, it, &o, &r), CACHE_OK);
    cache_item_release(c, &it);
    cr_assert_eq(exp_of(c, "k"), at_ms(5000u * 1000u + 250), "KEEPTTL keeps the old precise expiry");
    st_expect(c, "k", "b");
    o.keep_ttl = false;
    it = mk(c, "k", "c", 0, 0);
    cr_assert_eq(cache_store_ex(c, it, &o, &r), CACHE_OK);
    cache_item_release(c, &it);
    cr_assert_eq(exp_of(c, "k"), CACHE_EXP_NEVER, "a plain SET clears it");
    cache_destroy(&c);
}

/* The old item handed back keeps its bytes after the replacement. */
Test(keyops, store_ex_old_item_outlives_the_replacement)
{
    struct cache *c = kc();
    struct cache_store_opts o = {.mode = CACHE_SET, .want_old = true};
    struct cache_store_result r;
    struct item *it;
    struct cache_class_stats sum;

    st_set(c, "k", "first");
    it = mk(c, "k", "second", 0, 0);
    cr_assert_eq(cache_store_ex(c, it, &o, &r), CACHE_OK);
    cache_item_release(c, &it);
    expect_value(r.old, "first");
    cr_assert(!(item_state(r.old) & ITEM_LINKED));
    cache_item_release(c, &r.old);
    st_expect(c, "k", "second");
    class_sums(c, &sum);
    cr_assert_eq(sum.cmd_set, 2);
    cr_assert_eq(sum.get_hits, 2, "the handed-back item and st_expect's get");
    cache_destroy(&c);
}

/* ---- GETDEL ---- */

Test(keyops, delete_ex_hands_back_the_item)
{
    struct cache *c = kc();
    struct item *old = (struct item *)1;
    struct cache_class_stats sum;
    uint64_t cas = 0;

    cr_assert_eq(cache_delete_ex(c, KEY("k"), 0, &old), CACHE_NOT_FOUND);
    cr_assert_null(old);
    st_store(c, "k", "v", 0, 0, CACHE_SET, 0, &cas);
    cr_assert_eq(cache_delete_ex(c, KEY("k"), cas + 1, &old), CACHE_EXISTS);
    cr_assert_null(old);
    cr_assert_eq(cache_delete_ex(c, KEY("k"), 0, &old), CACHE_OK);
    expect_value(old, "v");
    cache_item_release(c, &old);
    st_expect_miss(c, "k", CACHE_MISS_NONE);
    st_set(c, "k", "w");
    cr_assert_eq(cache_delete_ex(c, KEY("k"), 0, NULL), CACHE_OK);
    class_sums(c, &sum);
    cr_assert_eq(sum.delete_hits, 2);
    cr_assert_eq(sum.get_hits, 1);
    cache_destroy(&c);
}

/* ---- EXPIRE ---- */

/* A row's expiry, as two fields: NEVER; SEC(s), a whole second (memcached's kind) at relative second
 * s; or MSEC(m), a precise expiry at relative millisecond m. GT and LT compare milliseconds. */
#define NEVER   0, false
#define SEC(s)  (s), false
#define MSEC(m) (m), true

static cache_exp_t row_exp(uint64_t t, bool precise)
{
    if (t == 0)
        return CACHE_EXP_NEVER;
    return precise ? at_ms(t) : at((uint32_t)t);
}

struct expire_case {
    uint64_t cur; /* the key's expiry before (seconds, or milliseconds when cur_precise) */
    bool cur_precise;
    unsigned cond; /* enum cache_expire_cond bits */
    uint64_t exp;  /* the new one */
    bool exp_precise;
    enum cache_status want;
};

/* Redis 7.0's expireGenericCommand: NX needs no expiry, XX one, GT a later time than a set one
 * (never for a key without), LT an earlier one (always for a key without); XX combines with GT or LT.
 * Times are compared to the millisecond, a whole second as its first millisecond. */
static const struct expire_case expire_cases[] = {
    {NEVER, CACHE_EXPIRE_NONE, SEC(2000), CACHE_OK},
    {SEC(3000), CACHE_EXPIRE_NONE, SEC(2000), CACHE_OK},
    {NEVER, CACHE_EXPIRE_NX, SEC(2000), CACHE_OK},
    {SEC(3000), CACHE_EXPIRE_NX, SEC(2000), CACHE_NOT_STORED},
    {NEVER, CACHE_EXPIRE_XX, SEC(2000), CACHE_NOT_STORED},
    {SEC(3000), CACHE_EXPIRE_XX, SEC(2000), CACHE_OK},
    {NEVER, CACHE_EXPIRE_GT, SEC(2000), CACHE_NOT_STORED},
    {SEC(3000), CACHE_EXPIRE_GT, SEC(2000), CACHE_NOT_STORED},
    {SEC(3000), CACHE_EXPIRE_GT, SEC(3000), CACHE_NOT_STORED},
    {SEC(3000), CACHE_EXPIRE_GT, SEC(4000), CACHE_OK},
    {NEVER, CACHE_EXPIRE_LT, SEC(2000), CACHE_OK},
    {SEC(3000), CACHE_EXPIRE_LT, SEC(2000), CACHE_OK},
    {SEC(3000), CACHE_EXPIRE_LT, SEC(3000), CACHE_NOT_STORED},
    {SEC(3000), CACHE_EXPIRE_LT, SEC(4000), CACHE_NOT_STORED},
    /* milliseconds: inside one second, and a whole second against a precise time at its instant */
    {MSEC(3000500), CACHE_EXPIRE_GT, MSEC(3000501), CACHE_OK},
    {MSEC(3000500), CACHE_EXPIRE_GT, MSEC(3000500), CACHE_NOT_STORED},
    {MSEC(3000500), CACHE_EXPIRE_LT, MSEC(3000499), CACHE_OK},
    {MSEC(3000500), CACHE_EXPIRE_LT, MSEC(3000501), CACHE_NOT_STORED},
    {SEC(3000), CACHE_EXPIRE_GT, MSEC(3000001), CACHE_OK},
    {SEC(3000), CACHE_EXPIRE_GT, MSEC(3000000), CACHE_NOT_STORED},
    {SEC(3000), CACHE_EXPIRE_LT, MSEC(3000000), CACHE_NOT_STORED},
    {SEC(3000), CACHE_EXPIRE_LT, MSEC(2999999), CACHE_OK},
    {MSEC(2999999), CACHE_EXPIRE_GT, SEC(3000), CACHE_OK},
    {MSEC(3000001), CACHE_EXPIRE_LT, SEC(3000), CACHE_OK},
    /* combined bits */
    {NEVER, CACHE_EXPIRE_XX | CACHE_EXPIRE_GT, SEC(4000), CACHE_NOT_STORED},
    {SEC(3000), CACHE_EXPIRE_XX | CACHE_EXPIRE_GT, SEC(4000), CACHE_OK},
    {SEC(3000), CACHE_EXPIRE_XX | CACHE_EXPIRE_GT, SEC(2000), CACHE_NOT_STORED},
    {NEVER, CACHE_EXPIRE_XX | CACHE_EXPIRE_LT, SEC(2000), CACHE_NOT_STORED},
    {SEC(3000), CACHE_EXPIRE_XX | CACHE_EXPIRE_LT, SEC(2000), CACHE_OK},
    {SEC(3000), CACHE_EXPIRE_XX | CACHE_EXPIRE_LT, SEC(4000), CACHE_NOT_STORED},
};

Test(keyops, expire_conditions_table)
{
    for (size_t i = 0; i < sizeof expire_cases / sizeof expire_cases[0]; i++) {
        const struct expire_case *k = &expire_cases[i];
        cache_exp_t cur = row_exp(k->cur, k->cur_precise), exp = row_exp(k->exp, k->exp_precise);
        struct cache *c = kc();
        uint64_t cas = 0;

        cr_assert_eq(cache_expire(c, KEY("k"), exp, k->cond), CACHE_NOT_FOUND, "row %zu", i);
        cr_assert_eq(st_store(c, "k", "v", 0, cur, CACHE_SET, 0, &cas), CACHE_OK, "row %zu", i);
        cr_assert_eq(exp_of(c, "k"), cur, "row %zu: stored as given", i);
        cr_assert_eq(cache_expire(c, KEY("k"), exp, k->cond), k->want, "row %zu", i);
        cr_assert_eq(exp_of(c, "k"), k->want == CACHE_OK ? exp : cur, "row %zu", i);
        struct item *it = cache_get(c, KEY("k"), NULL);
        cr_assert_eq(item_cas(it), cas, "row %zu: the expiry changes in place", i);
        cache_item_release(c, &it);
        /* the same decision when the new time is past: delete instead */
        cr_assert_eq(st_store(c, "p", "v", 0, cur, CACHE_SET, 0, NULL), CACHE_OK, "row %zu", i);
        cr_assert_eq(cache_expire_past(c, KEY("p"), exp, k->cond), k->want, "row %zu (past)", i);
        cr_assert_eq(cache_key_version(c, KEY("p")) == 0, k->want == CACHE_OK, "row %zu (past)", i);
        cache_destroy(&c);
    }
}

Test(keyops, expire_past_deletes_and_expire_sets)
{
    struct cache *c = kc();
    struct cache_class_stats sum;
    uint64_t v;

    st_set(c, "k", "v");
    v = cache_key_version(c, KEY("k"));
    cr_assert_eq(cache_expire(c, KEY("k"), at(NOW + 10), CACHE_EXPIRE_NONE), CACHE_OK);
    cr_assert_neq(cache_key_version(c, KEY("k")), v, "WATCH sees the expiry change");
    cr_assert_eq(cache_expire_past(c, KEY("k"), at(NOW - 5), CACHE_EXPIRE_GT), CACHE_NOT_STORED);
    st_expect(c, "k", "v");
    cr_assert_eq(cache_expire_past(c, KEY("k"), at(NOW - 5), CACHE_EXPIRE_NONE), CACHE_OK);
    st_expect_miss(c, "k", CACHE_MISS_NONE);
    cr_assert_eq(cache_expire_past(c, KEY("k"), at(NOW - 5), CACHE_EXPIRE_NONE), CACHE_NOT_FOUND);
    /* an expiry set in the past without the delete: the key is dead (expired) at once */
    st_set(c, "j", "v");
    cr_assert_eq(cache_expire(c, KEY("j"), at(NOW - 1), CACHE_EXPIRE_NONE), CACHE_OK);
    st_expect_miss(c, "j", CACHE_MISS_EXPIRED);
    class_sums(c, &sum);
    cr_assert_eq(sum.touch_hits, 2);
    cr_assert_eq(sum.delete_hits, 1);
    cache_destroy(&c);
}

/* A precise expiry inside the current second keeps the key until the clock's next second. */
Test(keyops, expire_precise_is_never_early)
{
    struct cache *c = kc();

    st_set(c, "k", "v");
    cr_assert_eq(
        cache_expire(c, KEY("k"), cache_exp_from_rel_ms((uint64_t)NOW * 1000 + 300), CACHE_EXPIRE_NONE),
        CACHE_OK);
    st_expect(c, "k", "v");
    cache_clock_set(c, NOW + 1);
    st_expect_miss(c, "k", CACHE_MISS_EXPIRED);
    cache_destroy(&c);
}

Test(keyops, persist)
{
    struct cache *c = kc();

    cr_assert_eq(cache_persist(c, KEY("k")), CACHE_NOT_FOUND);
    st_set(c, "k", "v");
    cr_assert_eq(cache_persist(c, KEY("k")), CACHE_NOT_STORED);
    cr_assert_eq(cache_expire(c, KEY("k"), at(NOW + 100), CACHE_EXPIRE_NONE), CACHE_OK);
    cr_assert_eq(exp_of(c, "k"), at(NOW + 100));
    cr_assert_eq(cache_persist(c, KEY("k")), CACHE_OK);
    cr_assert_eq(exp_of(c, "k"), CACHE_EXP_NEVER);
    cache_clock_set(c, NOW + 200);
    st_expect(c, "k", "v");
    cache_destroy(&c);
}

/* ---- RENAME ---- */

/* Two keys in different shards, and two in the same shard, of a 16-shard cache. */
static void key_pairs(char *a, char *b, char *s1, char *s2)
{
    unsigned i;

    strcpy(a, "src");
    for (i = 0;; i++) {
        sprintf(b, "dst%u", i);
        if (cache_key_hash(KEY(a)) >> 60 != cache_key_hash(KEY(b)) >> 60)
            break;
    }
    for (i = 0;; i++) {
        sprintf(s2, "same%u", i);
        if (cache_key_hash(KEY(a)) >> 60 == cache_key_hash(KEY(s2)) >> 60)
            break;
    }
    strcpy(s1, a);
}

/* dst holds "value" with flags 42, expiry exp and CAS unique cas: what RENAME and COPY carry over. */
static void expect_carried(struct cache *c, const char *dst, cache_exp_t exp, uint64_t cas)
{
    struct item *it = cache_get(c, KEY(dst), NULL);
    expect_value(it, "value");
    cr_assert_eq(item_client_flags(it), 42);
    cr_assert_eq(item_exp(it), exp);
    cr_assert_eq(item_cas(it), cas);
    cache_item_release(c, &it);
}

static void check_rename(struct cache *c, const char *src, const char *dst)
{
    const cache_exp_t exp = at_ms((uint64_t)(NOW + 50) * 1000u + 123); /* both fields copied */
    uint64_t cas_src = 0, cas = 0;

    st_store(c, src, "value", 42, exp, CACHE_SET, 0, &cas_src);
    cr_assert_eq(cache_rename(c, KEY(src), KEY(dst), false, &cas), CACHE_OK);
    cr_assert_gt(cas, cas_src, "a new unique");
    st_expect_miss(c, src, CACHE_MISS_NONE);
    expect_carried(c, dst, exp, cas);
    /* over an existing dst; NX refuses */
    st_set(c, src, "again");
    cr_assert_eq(cache_rename(c, KEY(src), KEY(dst), true, &cas), CACHE_NOT_STORED);
    cr_assert_eq(cas, 0);
    st_expect(c, src, "again");
    st_expect(c, dst, "value");
    cr_assert_eq(cache_rename(c, KEY(src), KEY(dst), false, NULL), CACHE_OK);
    st_expect(c, dst, "again");
    st_expect_miss(c, src, CACHE_MISS_NONE);
    cr_assert_eq(st_stats(c).curr_items, 1);
    /* back, with NX onto a free key */
    cr_assert_eq(cache_rename(c, KEY(dst), KEY(src), true, NULL), CACHE_OK);
    st_expect(c, src, "again");
    cr_assert_eq(cache_rename(c, KEY(dst), KEY(src), false, NULL), CACHE_NOT_FOUND);
}

Test(keyops, rename_across_and_within_a_shard)
{
    struct cache *c = kc();
    char a[16], b[16], s1[16], s2[16];

    key_pairs(a, b, s1, s2);
    check_rename(c, a, b);
    cache_delete(c, KEY(a), 0);
    check_rename(c, s1, s2);
    cache_destroy(&c);
}

Test(keyops, rename_same_key_and_missing)
{
    struct cache *c = kc();
    uint64_t cas = 0, got = 0;

    cr_assert_eq(cache_rename(c, KEY("k"), KEY("k"), false, NULL), CACHE_NOT_FOUND);
    cr_assert_eq(cache_rename(c, KEY("k"), KEY("k"), true, NULL), CACHE_NOT_FOUND);
    cr_assert_eq(cache_rename(c, KEY("k"), KEY("other"), false, NULL), CACHE_NOT_FOUND);
    st_store(c, "k", "v", 0, 0, CACHE_SET, 0, &cas);
    cr_assert_eq(cache_rename(c, KEY("k"), KEY("k"), false, &got), CACHE_OK);
    cr_assert_eq(got, cas, "nothing changed");
    cr_assert_eq(cache_rename(c, KEY("k"), KEY("k"), true, NULL), CACHE_NOT_STORED);
    st_expect(c, "k", "v");
    /* storage takes keys up to CACHE_KEY_MAX bytes (memcached's 250 is protocol/mc's limit) */
    char *big = malloc(CACHE_KEY_MAX + 1);
    cr_assert_not_null(big);
    memset(big, 'x', CACHE_KEY_MAX + 1);
    cr_assert_eq(cache_rename(c, KEY("k"), big, 300, false, NULL), CACHE_OK, "a 300-byte key");
    st_expect_miss(c, "k", CACHE_MISS_NONE);
    cr_assert_eq(cache_rename(c, big, 300, big, CACHE_KEY_MAX, false, NULL), CACHE_OK, "the longest key");
    cr_assert_eq(cache_rename(c, big, CACHE_KEY_MAX, KEY("k"), false, NULL), CACHE_OK);
    st_expect(c, "k", "v");
    cr_assert_eq(cache_rename(c, KEY("k"), big, CACHE_KEY_MAX + 1, false, NULL), CACHE_TOO_LARGE);
    st_expect(c, "k", "v");
    cr_assert_eq(cache_key_version(c, big, CACHE_KEY_MAX + 1), 0, "nothing under the long key");
    cr_assert_eq(st_stats(c).curr_items, 1);
    free(big);
    cache_destroy(&c);
}

static void check_copy(struct cache *c, const char *src, const char *dst)
{
    const cache_exp_t exp = at_ms((uint64_t)(NOW + 50) * 1000u + 123); /* both fields copied */
    uint64_t cas_src = 0, cas = 0;

    st_store(c, src, "value", 42, exp, CACHE_SET, 0, &cas_src);
    cr_assert_eq(cache_copy(c, KEY(src), KEY(dst), false, &cas), CACHE_OK);
    cr_assert_gt(cas, cas_src, "a new unique");
    st_expect(c, src, "value");
    expect_carried(c, dst, exp, cas);
    cr_assert_eq(st_stats(c).curr_items, 2);
    /* onto an existing dst: refused without replace, done with it */
    st_set(c, src, "again");
    cr_assert_eq(cache_copy(c, KEY(src), KEY(dst), false, &cas), CACHE_NOT_STORED);
    cr_assert_eq(cas, 0);
    st_expect(c, dst, "value");
    cr_assert_eq(cache_copy(c, KEY(src), KEY(dst), true, NULL), CACHE_OK);
    st_expect(c, dst, "again");
    st_expect(c, src, "again");
    cr_assert_eq(st_stats(c).curr_items, 2);
    cache_delete(c, KEY(src), 0);
    cr_assert_eq(cache_copy(c, KEY(src), KEY(dst), true, NULL), CACHE_NOT_FOUND);
    st_expect(c, dst, "again");
    cr_assert_eq(cache_copy(c, KEY(dst), KEY(dst), true, NULL), CACHE_NOT_STORED, "src == dst");
    cache_delete(c, KEY(dst), 0);
}

Test(keyops, copy_across_and_within_a_shard)
{
    struct cache *c = kc();
    char a[16], b[16], s1[16], s2[16];

    key_pairs(a, b, s1, s2);
    check_copy(c, a, b);
    check_copy(c, s1, s2);
    cr_assert_eq(st_stats(c).curr_items, 0);
    cache_destroy(&c);
}

Test(keyops, rename_inside_a_transaction)
{
    struct cache *c = kc();
    uint64_t hs[2] = {cache_key_hash(KEY("a")), cache_key_hash(KEY("b"))};

    st_set(c, "a", "1");
    cache_tx_begin(c, hs, 2);
    cr_assert_eq(cache_rename(c, KEY("a"), KEY("b"), false, NULL), CACHE_OK);
    st_expect(c, "b", "1");
    cr_assert_eq(cache_rename(c, KEY("b"), KEY("a"), true, NULL), CACHE_OK);
    cache_tx_end(c);
    st_expect(c, "a", "1");
    cache_destroy(&c);
}

/* A full class: the copy evicts under both shard locks, never the source or the replaced item. */
Test(keyops, rename_allocates_under_both_locks)
{
    struct cache *c = st_cache(1u << 20, 0, 2, 0);
    char key[16], val[200];
    unsigned i;

    memset(val, 'v', sizeof val - 1);
    val[sizeof val - 1] = '\0';
    st_set(c, "src0000", val);
    st_set(c, "dst0000", "short");
    for (i = 0; st_stats(c).evictions == 0; i++) {
        snprintf(key, sizeof key, "f%06u", i);
        cr_assert_eq(st_set(c, key, val), CACHE_OK);
        if (i % 64 == 0) {
            st_expect(c, "src0000", val);
            st_expect(c, "dst0000", "short");
        }
    }
    uint64_t before = st_stats(c).evictions;
    cr_assert_eq(cache_rename(c, KEY("src0000"), KEY("dst0000"), false, NULL), CACHE_OK);
    cr_assert_gt(st_stats(c).evictions, before, "the copy needed a chunk of the full class");
    st_expect(c, "dst0000", val);
    st_expect_miss(c, "src0000", CACHE_MISS_NONE);
    cache_destroy(&c);
}

/* ---- race: renames both ways between the same keys ---- */

#define SLOTS   8
#define RENAMES 20000

static struct cache *rc;
static atomic_int race_errors;

static void *renamer(void *p)
{
    uint32_t seed = (uint32_t)(uintptr_t)p * 2654435761u + 1;
    char a[16], b[16];
    unsigned r;

    for (r = 0; r < RENAMES; r++) {
        seed ^= seed << 13;
        seed ^= seed >> 17;
        seed ^= seed << 5;
        unsigned i = seed % SLOTS, j = (seed >> 8) % SLOTS;
        enum cache_status st;

        snprintf(a, sizeof a, "slot%u", i);
        snprintf(b, sizeof b, "slot%u", j);
        st = cache_rename(rc, KEY(a), KEY(b), true, NULL);
        if (st != CACHE_OK && st != CACHE_NOT_FOUND && st != CACHE_NOT_STORED)
            atomic_fetch_add(&race_errors, 1);
    }
    return NULL;
}

/* Tokens move between slots with RENAMENX only: their number never changes. */
Test(keyops, renames_race_without_deadlock_or_loss)
{
    pthread_t th[4];
    char key[16], val[16];
    unsigned i, found = 0;
    bool seen[SLOTS / 2] = {false};

    rc = st_cache(0, 0, 3, 2);
    for (i = 0; i < SLOTS / 2; i++) {
        snprintf(key, sizeof key, "slot%u", i * 2);
        snprintf(val, sizeof val, "token%u", i);
        st_set(rc, key, val);
    }
    for (i = 0; i < 4; i++)
        cr_assert_eq(pthread_create(&th[i], NULL, renamer, (void *)(uintptr_t)(i + 1)), 0);
    for (i = 0; i < 4; i++)
        pthread_join(th[i], NULL);
    cr_assert_eq(atomic_load(&race_errors), 0);
    for (i = 0; i < SLOTS; i++) {
        struct item *it;

        snprintf(key, sizeof key, "slot%u", i);
        it = cache_get(rc, KEY(key), NULL);
        if (!it)
            continue;
        unsigned t = (unsigned)(item_value_const(it)[5] - '0');
        cr_assert_lt(t, SLOTS / 2);
        cr_assert(!seen[t], "token %u twice", t);
        seen[t] = true;
        found++;
        cache_item_release(rc, &it);
    }
    cr_assert_eq(found, SLOTS / 2);
    cr_assert_eq(st_stats(rc).curr_items, SLOTS / 2);
    cache_destroy(&rc);
}
