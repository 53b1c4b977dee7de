/*
 * test_rmw.c: read-modify-write (storage/rmw.c) with small plans written here: Redis-style APPEND
 * that creates on a miss, flags and expiry kept by default or replaced, a plan's abort status, a
 * success without a write, the old item handed back, the per-class counters, too large a result,
 * allocation that must evict while the shard is held (never the old item), and races: concurrent
 * increments lose nothing and a reader never finds the key missing. In place (memcached's incr):
 * the item and its per-item state kept, a new CAS, the access time and the plan's expiry; a new
 * item without that state when a reader holds it, the result is longer, the flags change or the
 * plan did not ask; a reader's bytes never change under it.
 */
#include "config.h"

#include <pthread.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>

#include "storage/meta.h"
#include "tests/unit/storage/storage_test.h"

#define KEY(s) s, strlen(s)

/* One timeout for the whole suite (per-test timeouts of different lengths leak in Criterion's
 * runner under LeakSanitizer). */
TestSuite(rmw, .timeout = 120);

/* ---- plans ---- */

/* APPEND: old's value then the suffix; a missing key is created holding the suffix. */
static enum cache_status append_plan(void *arg, const struct item *old, struct cache_rmw_new *nw)
{
    nw->nbytes = (old ? item_nbytes(old) : 0) + strlen(arg);
    return CACHE_OK;
}

static void append_fill(void *arg, const struct item *old, char *value, size_t nbytes)
{
    size_t n = old ? item_nbytes(old) : 0;

    if (old)
        memcpy(value, item_value_const(old), n);
    memcpy(value + n, arg, nbytes - n);
}

static enum cache_status do_append(struct cache *c, const char *key, const char *suffix,
                                   struct cache_rmw_result *r)
{
    struct cache_rmw op = {.plan = append_plan, .fill = append_fill, .arg = (void *)suffix};

    return cache_rmw(c, KEY(key), &op, r);
}

/* A decimal counter: +1, created at 1; NOT_FOUND never (Redis INCR). */
struct counter {
    long value;
    char digits[24];
    size_t n;
};

static enum cache_status counter_plan(void *arg, const struct item *old, struct cache_rmw_new *nw)
{
    struct counter *k = arg;
    char buf[24] = "0";

    if (old) {
        if (item_nbytes(old) >= sizeof buf)
            return CACHE_NON_NUMERIC;
        memcpy(buf, item_value_const(old), item_nbytes(old));
        buf[item_nbytes(old)] = '\0';
    }
    k->value = atol(buf) + 1;
    k->n = (size_t)snprintf(k->digits, sizeof k->digits, "%ld", k->value);
    nw->nbytes = k->n;
    return CACHE_OK;
}

static void counter_fill(void *arg, const struct item *old, char *value, size_t nbytes)
{
    struct counter *k = arg;

    (void)old;
    memcpy(value, k->digits, nbytes);
}

static enum cache_status do_incr(struct cache *c, const char *key, long *value)
{
    struct counter k;
    struct cache_rmw op = {
        .plan = counter_plan, .fill = counter_fill, .arg = &k, .count = CACHE_RMW_COUNT_INCR};
    struct cache_rmw_result r;
    enum cache_status st = cache_rmw(c, KEY(key), &op, &r);

    if (value)
        *value = k.value;
    return st;
}

/* Aborts with the status in arg. */
static enum cache_status abort_plan(void *arg, const struct item *old, struct cache_rmw_new *nw)
{
    (void)old;
    (void)nw;
    return *(enum cache_status *)arg;
}

static void never_fill(void *arg, const struct item *old, char *value, size_t nbytes)
{
    (void)arg;
    (void)old;
    (void)value;
    (void)nbytes;
    cr_assert_fail("fill called");
}

/* Succeeds without writing. */
static enum cache_status unchanged_plan(void *arg, const struct item *old, struct cache_rmw_new *nw)
{
    (void)arg;
    (void)old;
    nw->unchanged = true;
    return CACHE_OK;
}

/* Replaces flags and expiry with those in arg (two cache_exp_t-compatible values). */
struct meta_change {
    uint32_t flags;
    cache_exp_t exp;
};

static enum cache_status retag_plan(void *arg, const struct item *old, struct cache_rmw_new *nw)
{
    const struct meta_change *m = arg;

    nw->nbytes = item_nbytes(old);
    nw->flags = m->flags;
    nw->exp = m->exp;
    return CACHE_OK;
}

static void copy_fill(void *arg, const struct item *old, char *value, size_t nbytes)
{
    (void)arg;
    memcpy(value, item_value_const(old), nbytes);
}

static struct item *peek(struct cache *c, const char *key)
{
    struct item *it = cache_get(c, KEY(key), NULL);

    cr_assert_not_null(it, "%s missing", key);
    return it;
}

/* ---- tests ---- */

Test(rmw, creates_on_a_miss_and_replaces_with_a_new_cas)
{
    struct cache *c = st_cache(0, 0, 2, 0);
    struct cache_rmw_result r;
    uint64_t cas1;

    cr_assert_eq(do_append(c, "k", "ab", &r), CACHE_OK);
    cr_assert(r.created);
    cr_assert_neq(r.cas, 0);
    cr_assert_null(r.old);
    st_expect(c, "k", "ab");
    cas1 = r.cas;
    cr_assert_eq(do_append(c, "k", "cd", &r), CACHE_OK);
    cr_assert(!r.created);
    cr_assert_gt(r.cas, cas1);
    st_expect(c, "k", "abcd");
    cr_assert_eq(st_stats(c).curr_items, 1);
    cache_destroy(&c);
}

Test(rmw, keeps_flags_and_expiry_unless_the_plan_replaces_them)
{
    struct cache *c = st_cache(0, 0, 2, 0);
    struct cache_rmw_result r;
    struct meta_change m = {.flags = 77, .exp = cache_exp_from_rel_seconds(9000)};
    struct cache_rmw op = {.plan = retag_plan, .fill = copy_fill, .arg = &m};
    struct item *it;

    cache_clock_set(c, 1000);
    st_store(c, "k", "v", 5, st_at(2000), CACHE_SET, 0, NULL);
    cr_assert_eq(do_append(c, "k", "w", &r), CACHE_OK);
    cr_assert(!r.created);
    it = peek(c, "k");
    cr_assert_eq(item_client_flags(it), 5);
    cr_assert_eq(item_exp(it), st_at(2000));
    cache_item_release(c, &it);
    cr_assert_eq(cache_rmw(c, KEY("k"), &op, &r), CACHE_OK);
    it = peek(c, "k");
    cr_assert_eq(item_client_flags(it), 77);
    cr_assert_eq(item_exp(it), st_at(9000));
    cr_assert_eq(item_nbytes(it), 2);
    cache_item_release(c, &it);
    /* a precise expiry is kept to the millisecond by a plan that leaves it */
    m.exp = cache_exp_from_rel_ms(9000u * 1000u + 7);
    cr_assert_eq(cache_rmw(c, KEY("k"), &op, &r), CACHE_OK);
    cr_assert_eq(do_append(c, "k", "x", &r), CACHE_OK);
    it = peek(c, "k");
    cr_assert_eq(item_exp(it), cache_exp_from_rel_ms(9000u * 1000u + 7));
    cr_assert_eq(item_client_flags(it), 77);
    cr_assert_eq(item_nbytes(it), 3);
    cache_item_release(c, &it);
    m.exp = CACHE_EXP_NEVER;
    cr_assert_eq(cache_rmw(c, KEY("k"), &op, &r), CACHE_OK);
    it = peek(c, "k");
    cr_assert_eq(item_exp(it), CACHE_EXP_NEVER);
    cache_item_release(c, &it);
    /* an expiry already past (before the clock's first second) kills the item */
    m.exp = cache_exp_from_rel_ms(10);
    cr_assert_eq(cache_rmw(c, KEY("k"), &op, &r), CACHE_OK);
    st_expect_miss(c, "k", CACHE_MISS_EXPIRED);
    cache_destroy(&c);
}

Test(rmw, an_abort_changes_nothing)
{
    struct cache *c = st_cache(0, 0, 2, 0);
    enum cache_status why = CACHE_NON_NUMERIC;
    struct cache_rmw op = {.plan = abort_plan, .fill = never_fill, .arg = &why, .want_old = true};
    struct cache_rmw_result r;
    uint64_t cas = 0;

    st_store(c, "k", "v", 0, 0, CACHE_SET, 0, &cas);
    cr_assert_eq(cache_rmw(c, KEY("k"), &op, &r), CACHE_NON_NUMERIC);
    cr_assert_not_null(r.old, "the old item is handed back whatever the status");
    cr_assert_eq(item_cas(r.old), cas);
    cache_item_release(c, &r.old);
    why = CACHE_NOT_FOUND;
    cr_assert_eq(cache_rmw(c, KEY("missing"), &op, &r), CACHE_NOT_FOUND);
    cr_assert_null(r.old);
    st_expect(c, "k", "v");
    cr_assert_eq(st_stats(c).curr_items, 1);
    cache_destroy(&c);
}

Test(rmw, unchanged_succeeds_without_a_write)
{
    struct cache *c = st_cache(0, 0, 2, 0);
    struct cache_rmw op = {.plan = unchanged_plan, .fill = never_fill, .count = CACHE_RMW_COUNT_SET};
    struct cache_rmw_result r;
    uint64_t cas = 0;

    st_store(c, "k", "v", 0, 0, CACHE_SET, 0, &cas);
    cr_assert_eq(cache_rmw(c, KEY("k"), &op, &r), CACHE_OK);
    cr_assert_eq(r.cas, cas);
    cr_assert(!r.created);
    cr_assert_eq(cache_rmw(c, KEY("none"), &op, &r), CACHE_OK);
    cr_assert_eq(r.cas, 0);
    cr_assert(!r.created);
    cr_assert_eq(st_stats(c).curr_items, 1, "nothing created");
    cache_destroy(&c);
}

/* GETSET-style: the old item comes back with its bytes, also after it was replaced. */
Test(rmw, hands_back_the_old_item)
{
    struct cache *c = st_cache(0, 0, 2, 0);
    struct cache_rmw op = {.plan = append_plan, .fill = append_fill, .arg = "2", .want_old = true};
    struct cache_rmw_result r;

    cr_assert_eq(cache_rmw(c, KEY("k"), &op, &r), CACHE_OK);
    cr_assert_null(r.old);
    cr_assert_eq(cache_rmw(c, KEY("k"), &op, &r), CACHE_OK);
    cr_assert_not_null(r.old);
    cr_assert_eq(item_nbytes(r.old), 1);
    cr_assert(memcmp(item_value_const(r.old), "2", 1) == 0);
    cache_item_release(c, &r.old);
    st_expect(c, "k", "22");
    cache_destroy(&c);
}

static void class_sums(struct cache *c, struct cache_class_stats *sum)
{
    struct cache_class_stats cs;

    memset(sum, 0, sizeof *sum);
    for (unsigned id = 1; id <= cache_class_count(c); id++) {
        cache_class_stats_get(c, id, &cs);
        sum->get_hits += cs.get_hits;
        sum->cmd_set += cs.cmd_set;
        sum->incr_hits += cs.incr_hits;
        sum->decr_hits += cs.decr_hits;
    }
}

Test(rmw, per_class_counters)
{
    struct cache *c = st_cache(0, 0, 2, 0);
    struct cache_rmw set_op = {
        .plan = append_plan, .fill = append_fill, .arg = "x", .count = CACHE_RMW_COUNT_SET, .want_old = true};
    struct cache_rmw_result r;
    struct cache_class_stats sum;
    long v;

    cr_assert_eq(do_incr(c, "n", &v), CACHE_OK); /* created: not a hit */
    cr_assert_eq(do_incr(c, "n", &v), CACHE_OK);
    cr_assert_eq(v, 2);
    cr_assert_eq(cache_rmw(c, KEY("s"), &set_op, &r), CACHE_OK);
    cr_assert_eq(cache_rmw(c, KEY("s"), &set_op, &r), CACHE_OK);
    cache_item_release(c, &r.old);
    class_sums(c, &sum);
    cr_assert_eq(sum.incr_hits, 1);
    cr_assert_eq(sum.decr_hits, 0);
    cr_assert_eq(sum.cmd_set, 2);
    cr_assert_eq(sum.get_hits, 1, "the handed-back old item is a read");
    cache_destroy(&c);
}

static enum cache_status huge_plan(void *arg, const struct item *old, struct cache_rmw_new *nw)
{
    (void)arg;
    (void)old;
    nw->nbytes = 2u << 20;
    return CACHE_OK;
}

Test(rmw, too_large)
{
    struct cache *c = st_cache(0, 0, 2, 0);
    struct cache_rmw op = {.plan = huge_plan, .fill = never_fill};
    struct cache_rmw append = {.plan = append_plan, .fill = append_fill, .arg = "v"};
    struct cache_rmw_result r;
    char *key = malloc(CACHE_KEY_MAX + 1);

    cr_assert_not_null(key);
    st_set(c, "k", "v");
    cr_assert_eq(cache_rmw(c, KEY("k"), &op, &r), CACHE_TOO_LARGE);
    st_expect(c, "k", "v");
    /* storage takes keys up to CACHE_KEY_MAX bytes (memcached's 250 is protocol/mc's limit) */
    memset(key, 'k', CACHE_KEY_MAX + 1);
    cr_assert_eq(cache_rmw(c, key, 300, &append, &r), CACHE_OK, "a key over 250 bytes");
    cr_assert(r.created);
    cr_assert_eq(cache_rmw(c, key, CACHE_KEY_MAX, &append, &r), CACHE_OK, "the longest key");
    cr_assert_eq(cache_rmw(c, key, CACHE_KEY_MAX + 1, &append, &r), CACHE_TOO_LARGE,
                 "a key over CACHE_KEY_MAX");
    cr_assert_eq(cache_rmw(c, key, 300, &op, &r), CACHE_TOO_LARGE, "too large a value under a long key");
    cr_assert_eq(st_stats(c).curr_items, 3, "nothing created by the refused calls");
    free(key);
    cache_destroy(&c);
}

/* A class with no free chunk: the new item evicts under the held shard lock, never the old item. */
Test(rmw, allocation_under_the_lock_never_evicts_the_old_item)
{
    struct cache_options o;
    const char *err;
    struct cache *c;
    struct cache_rmw_result r;
    char key[16], val[200];
    unsigned i;

    cache_options_default(&o);
    o.memory_limit = 1u << 20;
    o.shard_bits = 0;
    c = cache_create(&o, &err);
    cr_assert_not_null(c);
    memset(val, 'v', sizeof val - 1);
    val[sizeof val - 1] = '\0';
    st_set(c, "old0000", val);
    for (i = 0; st_stats(c).evictions == 0; i++) {
        snprintf(key, sizeof key, "f%06u", i);
        cr_assert_eq(st_set(c, key, val), CACHE_OK);
        if (i % 64 == 0) {
            struct item *it = cache_get(c, KEY("old0000"), NULL); /* keep it ACTIVE */

            cr_assert_not_null(it);
            cache_item_release(c, &it);
        }
    }
    uint64_t before = st_stats(c).evictions;
    cr_assert_eq(do_append(c, "old0000", "!", &r), CACHE_OK);
    cr_assert_gt(st_stats(c).evictions, before, "the new item needed a chunk of the full class");
    struct item *it = peek(c, "old0000");
    cr_assert_eq(item_nbytes(it), sizeof val);
    cache_item_release(c, &it);
    cache_destroy(&c);
}

/* ---- races ---- */

#define INCR_THREADS 3
#define INCRS        5000
#define COUNTERS     4

static struct cache *rc;
static atomic_int misses, race_errors;
static atomic_bool stop_reader;

static void *incr_worker(void *p)
{
    char key[16];
    unsigned i;

    (void)p;
    for (i = 0; i < INCRS; i++) {
        snprintf(key, sizeof key, "ctr%u", i % COUNTERS);
        if (do_incr(rc, key, NULL) != CACHE_OK)
            atomic_fetch_add(&race_errors, 1);
    }
    return NULL;
}

static void *missing_reader(void *p)
{
    (void)p;
    while (!atomic_load(&stop_reader)) {
        struct item *it = cache_get(rc, KEY("ctr0"), NULL);

        if (!it)
            atomic_fetch_add(&misses, 1);
        cache_item_release(rc, &it);
    }
    return NULL;
}

Test(rmw, concurrent_increments_lose_nothing_and_the_key_never_goes_missing)
{
    pthread_t th[INCR_THREADS], reader;
    char key[16];
    unsigned i;

    rc = st_cache(0, 0, 1, 2);
    for (i = 0; i < COUNTERS; i++) {
        snprintf(key, sizeof key, "ctr%u", i);
        st_set(rc, key, "0");
    }
    cr_assert_eq(pthread_create(&reader, NULL, missing_reader, NULL), 0);
    for (i = 0; i < INCR_THREADS; i++)
        cr_assert_eq(pthread_create(&th[i], NULL, incr_worker, NULL), 0);
    for (i = 0; i < INCR_THREADS; i++)
        pthread_join(th[i], NULL);
    atomic_store(&stop_reader, true);
    pthread_join(reader, NULL);
    cr_assert_eq(atomic_load(&race_errors), 0);
    cr_assert_eq(atomic_load(&misses), 0, "a reader found the key missing %d times", atomic_load(&misses));
    for (i = 0; i < COUNTERS; i++) {
        char want[16];

        snprintf(key, sizeof key, "ctr%u", i);
        snprintf(want, sizeof want, "%u", INCR_THREADS * INCRS / COUNTERS);
        st_expect(rc, key, want);
    }
    cache_destroy(&rc);
}

/* ---- in place (memcached's incr/decr: cache_rmw_new.in_place) ---- */

/* A counter that asks for an in-place rewrite: digits with trailing spaces parse, the result is
 * nbytes = its digits, the fill pads to the length it is given; flags and key mark as set. */
struct inplace {
    uint64_t delta;
    bool incr;
    bool in_place;
    bool retag;      /* give the result other flags */
    bool key_binary; /* the mark a new item gets */
    cache_exp_t exp; /* replace the expiry when not 0 */
    char digits[24];
    size_t n;
};

static enum cache_status inplace_plan(void *arg, const struct item *old, struct cache_rmw_new *nw)
{
    struct inplace *k = arg;
    uint64_t v = 0;
    size_t i;

    if (!old)
        return CACHE_NOT_FOUND;
    for (i = 0; i < item_nbytes(old) && item_value_const(old)[i] != ' '; i++)
        v = v * 10 + (uint64_t)(item_value_const(old)[i] - '0');
    v = k->incr ? v + k->delta : v - k->delta;
    k->n = (size_t)snprintf(k->digits, sizeof k->digits, "%llu", (unsigned long long)v);
    nw->nbytes = k->n;
    nw->in_place = k->in_place;
    nw->key_binary = k->key_binary;
    if (k->retag)
        nw->flags = 1234;
    if (k->exp)
        nw->exp = k->exp;
    return CACHE_OK;
}

static void inplace_fill(void *arg, const struct item *old, char *value, size_t nbytes)
{
    const struct inplace *k = arg;

    (void)old;
    memcpy(value, k->digits, k->n);
    memset(value + k->n, ' ', nbytes - k->n);
}

static enum cache_status do_inplace(struct cache *c, const char *key, struct inplace *k,
                                    struct cache_rmw_result *r)
{
    struct cache_rmw op = {.plan = inplace_plan,
                           .fill = inplace_fill,
                           .arg = k,
                           .count = k->incr ? CACHE_RMW_COUNT_INCR : CACHE_RMW_COUNT_DECR};

    return cache_rmw(c, KEY(key), &op, r);
}

/* The live item without marking an access (cache_get would set FETCHED). */
static struct item *peek_quiet(struct cache *c, const char *key)
{
    struct item *it = cache_meta_peek(c, KEY(key));

    cr_assert_not_null(it, "%s missing", key);
    return it;
}

/* key = value with flags 7, expiry at 5000, the base64-key mark, read once (FETCHED), then
 * invalidated (STALE) and its recache token won (WON): every per-item bit an incr must keep. */
static void store_with_state(struct cache *c, const char *key, const char *value)
{
    enum cache_status st;
    struct item *it = cache_alloc(c, KEY(key), 7, st_at(5000), strlen(value), &st);
    struct cache_meta_get_opts o = {0};
    struct cache_meta_info info;

    cr_assert_not_null(it);
    memcpy(item_value(it), value, strlen(value));
    item_set_key_binary(it, true);
    cr_assert_eq(cache_store(c, it, CACHE_SET, 0, NULL), CACHE_OK);
    cache_item_release(c, &it);
    it = cache_get(c, KEY(key), NULL);
    cache_item_release(c, &it);
    cr_assert_eq(cache_meta_delete(c, KEY(key), false, 0, true, false, 0), CACHE_OK);
    it = cache_meta_get(c, KEY(key), &o, &info);
    cr_assert(info.stale && info.won);
    cache_item_release(c, &it);
}

#define STATE_BITS (ITEM_FETCHED | ITEM_STALE | ITEM_WON)

Test(rmw, in_place_keeps_the_item_and_its_state)
{
    struct cache *c = st_cache(0, 0, 2, 0);
    struct inplace k = {.delta = 1, .incr = false, .in_place = true};
    struct cache_rmw_result r;
    struct item *it, *after;
    const struct item *before;
    uint64_t cas_before, total_before;

    cache_clock_set(c, 1000);
    store_with_state(c, "n", "100");
    it = peek_quiet(c, "n");
    before = it;
    cas_before = item_cas(it);
    cache_item_release(c, &it);
    total_before = st_stats(c).total_items;
    cache_clock_set(c, 1010);
    cr_assert_eq(do_inplace(c, "n", &k, &r), CACHE_OK);
    cr_assert(r.in_place);
    cr_assert(!r.created);
    after = peek_quiet(c, "n");
    cr_assert_eq(after, before, "the same item");
    cr_assert_eq(item_nbytes(after), 3);
    cr_assert(memcmp(item_value_const(after), "99 ", 3) == 0, "padded in place");
    cr_assert_eq(item_state(after) & STATE_BITS, STATE_BITS, "fetched, stale and token kept");
    cr_assert(item_key_binary(after), "the key mark kept (the plan's false is for a new item)");
    cr_assert_eq(item_client_flags(after), 7);
    cr_assert_eq(item_exp(after), st_at(5000));
    cr_assert_gt(item_cas(after), cas_before, "a new CAS unique");
    cr_assert_eq(r.cas, item_cas(after));
    cr_assert_eq(item_atime(after), 1010, "accessed now");
    cache_item_release(c, &after);
    cr_assert_eq(st_stats(c).total_items, total_before, "nothing linked");
    cr_assert_eq(st_stats(c).curr_items, 1);
    cache_destroy(&c);
}

Test(rmw, in_place_takes_the_plans_expiry)
{
    struct cache *c = st_cache(0, 0, 2, 0);
    struct inplace k = {.delta = 5, .incr = true, .in_place = true, .exp = st_at(7000)};
    struct cache_rmw_result r;
    struct item *it;

    cache_clock_set(c, 1000);
    st_set(c, "n", "10");
    cr_assert_eq(st_stats(c).expires, 0);
    cr_assert_eq(do_inplace(c, "n", &k, &r), CACHE_OK);
    cr_assert(r.in_place);
    it = peek_quiet(c, "n");
    cr_assert_eq(item_exp(it), st_at(7000));
    cache_item_release(c, &it);
    cr_assert_eq(st_stats(c).expires, 1, "the shard counts the new expiry");
    k.exp = 0;
    st_expect(c, "n", "15");
    cache_destroy(&c);
}

/* A reader holds the item, or the result is longer, or the flags change, or the plan did not ask:
 * a new item of exactly the digits, with none of old's per-item state but ACTIVE. */
Test(rmw, a_new_item_when_the_rewrite_cannot_be_in_place)
{
    struct cache *c = st_cache(0, 0, 2, 0);
    struct inplace k = {.delta = 1, .incr = false, .in_place = true};
    struct cache_rmw_result r;
    struct item *reader, *it;

    cache_clock_set(c, 1000);
    store_with_state(c, "n", "100");
    reader = peek_quiet(c, "n");
    cr_assert_eq(do_inplace(c, "n", &k, &r), CACHE_OK);
    cr_assert(!r.in_place);
    cr_assert(memcmp(item_value_const(reader), "100", 3) == 0, "the reader's bytes stay");
    cr_assert_eq(item_state(reader) & STATE_BITS, STATE_BITS);
    it = peek_quiet(c, "n");
    cr_assert_neq(it, reader);
    cr_assert_eq(item_nbytes(it), 2, "exactly the digits");
    cr_assert(memcmp(item_value_const(it), "99", 2) == 0);
    cr_assert_eq(item_state(it) & STATE_BITS, 0, "no state carried");
    cr_assert(!item_key_binary(it), "the plan's mark");
    cr_assert_eq(item_client_flags(it), 7);
    cr_assert_eq(item_exp(it), st_at(5000));
    cr_assert_eq(r.cas, item_cas(it));
    cache_item_release(c, &it);
    cache_item_release(c, &reader);

    store_with_state(c, "n", "99");
    k.incr = true;
    cr_assert_eq(do_inplace(c, "n", &k, &r), CACHE_OK);
    cr_assert(!r.in_place, "100 is longer than 99");
    it = peek_quiet(c, "n");
    cr_assert_eq(item_state(it) & STATE_BITS, 0);
    cache_item_release(c, &it);
    st_expect(c, "n", "100");

    store_with_state(c, "n", "50");
    k.retag = true;
    cr_assert_eq(do_inplace(c, "n", &k, &r), CACHE_OK);
    cr_assert(!r.in_place, "other flags");
    it = peek_quiet(c, "n");
    cr_assert_eq(item_client_flags(it), 1234);
    cr_assert_eq(item_state(it) & STATE_BITS, 0);
    cache_item_release(c, &it);

    store_with_state(c, "n", "50");
    k.retag = false;
    k.in_place = false;
    cr_assert_eq(do_inplace(c, "n", &k, &r), CACHE_OK);
    cr_assert(!r.in_place, "not asked (Redis's INCR)");
    it = peek_quiet(c, "n");
    cr_assert_eq(item_state(it) & STATE_BITS, 0);
    cache_item_release(c, &it);
    st_expect(c, "n", "51");
    cache_destroy(&c);
}

/* Without CAS uniques (-C) an in-place rewrite leaves the CAS at 0. */
Test(rmw, in_place_without_cas)
{
    struct cache_options o;
    const char *err = NULL;
    struct cache *c;
    struct inplace k = {.delta = 1, .incr = true, .in_place = true};
    struct cache_rmw_result r;
    struct item *it;

    cache_options_default(&o);
    o.use_cas = false;
    c = cache_create(&o, &err);
    cr_assert_not_null(c, "%s", err ? err : "?");
    st_set(c, "n", "10");
    cr_assert_eq(do_inplace(c, "n", &k, &r), CACHE_OK);
    cr_assert(r.in_place);
    it = peek_quiet(c, "n");
    cr_assert_eq(item_cas(it), 0);
    cache_item_release(c, &it);
    st_expect(c, "n", "11");
    cache_destroy(&c);
}

/* In-place increments race readers: a reader's bytes never change while it holds the item, and no
 * increment is lost. */
#define INPLACE_THREADS 2
#define INPLACE_ROUNDS  3000

static void *inplace_worker(void *arg)
{
    struct cache *c = arg;
    struct cache_rmw_result r;
    int i;

    for (i = 0; i < INPLACE_ROUNDS; i++) {
        struct inplace k = {.delta = 1, .incr = true, .in_place = true};

        cr_assert_eq(do_inplace(c, "n", &k, &r), CACHE_OK);
    }
    return NULL;
}

static atomic_bool inplace_done;

static void *inplace_reader(void *arg)
{
    struct cache *c = arg;
    char copy[16];

    while (!atomic_load(&inplace_done)) {
        struct item *it = cache_get(c, KEY("n"), NULL);
        size_t n;

        cr_assert_not_null(it, "the key went missing");
        n = item_nbytes(it);
        cr_assert_leq(n, sizeof copy);
        memcpy(copy, item_value_const(it), n);
        for (int spin = 0; spin < 50; spin++)
            cr_assert(memcmp(copy, item_value_const(it), n) == 0, "a held item was rewritten");
        cache_item_release(c, &it);
    }
    return NULL;
}

Test(rmw, in_place_never_rewrites_what_a_reader_holds)
{
    struct cache *c = st_cache(0, 0, 2, 0);
    pthread_t th[INPLACE_THREADS], reader;
    struct item *it;
    unsigned i;

    st_set(c, "n", "0         ");
    atomic_store(&inplace_done, false);
    cr_assert_eq(pthread_create(&reader, NULL, inplace_reader, c), 0);
    for (i = 0; i < INPLACE_THREADS; i++)
        cr_assert_eq(pthread_create(&th[i], NULL, inplace_worker, c), 0);
    for (i = 0; i < INPLACE_THREADS; i++)
        pthread_join(th[i], NULL);
    atomic_store(&inplace_done, true);
    pthread_join(reader, NULL);
    it = peek_quiet(c, "n");
    /* "6000" padded when the last increments were in place, exactly "6000" after a relink */
    cr_assert_geq(item_nbytes(it), 4);
    cr_assert(memcmp(item_value_const(it), "6000", 4) == 0, "lost increments");
    for (i = 4; i < item_nbytes(it); i++)
        cr_assert_eq(item_value_const(it)[i], ' ');
    cache_item_release(c, &it);
    cache_destroy(&c);
}
