/*
 * storage_test.h: small helpers shared by the storage unit tests (one Criterion program per module).
 * Each helper asserts on the engine's real results, so a failing engine fails the calling test.
 */
#ifndef CAIRN_TESTS_UNIT_STORAGE_TEST_H
#define CAIRN_TESTS_UNIT_STORAGE_TEST_H

#include <criterion/criterion.h>
#include <stdio.h>
#include <string.h>

#include "storage/cache.h"

/* A cache with the defaults changed by the arguments (0 keeps a default). */
static inline struct cache *st_cache(size_t limit, size_t page_size, unsigned shard_bits,
                                     unsigned hash_power)
{
    struct cache_options o;
    const char *err = NULL;
    struct cache *c;

    cache_options_default(&o);
    if (limit)
        o.memory_limit = limit;
    if (page_size)
        o.page_size = page_size;
    o.shard_bits = shard_bits;
    if (hash_power)
        o.hash_power = hash_power;
    c = cache_create(&o, &err);
    cr_assert_not_null(c, "cache_create: %s", err ? err : "?");
    return c;
}

/* A whole-second expiry (memcached's kind) at relative second rel; 0 = never. */
static inline cache_exp_t st_at(uint32_t rel)
{
    return cache_exp_from_rel_seconds(rel);
}

/* A whole-second expiry secs seconds after the cache's clock now (memcached's relative exptime). */
static inline cache_exp_t st_in(struct cache *c, uint32_t secs)
{
    return st_at(cache_rel_time(c) + secs);
}

/* Stores key = value (strings) under mode; returns the status, CAS in *cas_out if not NULL. */
static inline enum cache_status st_store(struct cache *c, const char *key, const char *value, uint32_t flags,
                                         cache_exp_t exp, enum cache_store_mode mode, uint64_t cas_in,
                                         uint64_t *cas_out)
{
    enum cache_status st;
    size_t n = strlen(value);
    struct item *it = cache_alloc(c, key, strlen(key), flags, exp, n, &st);

    if (!it)
        return st;
    memcpy(item_value(it), value, n);
    st = cache_store(c, it, mode, cas_in, cas_out);
    cache_item_release(c, &it);
    cr_assert_null(it, "release must clear the caller's pointer");
    return st;
}

static inline enum cache_status st_set(struct cache *c, const char *key, const char *value)
{
    return st_store(c, key, value, 0, 0, CACHE_SET, 0, NULL);
}

/* Asserts that key holds exactly value. */
static inline void st_expect(struct cache *c, const char *key, const char *value)
{
    struct item *it = cache_get(c, key, strlen(key), NULL);

    cr_assert_not_null(it, "key %s missing", key);
    cr_assert_eq(item_nbytes(it), strlen(value), "key %s: %zu bytes, want %zu", key, item_nbytes(it),
                 strlen(value));
    cr_assert(memcmp(item_value(it), value, item_nbytes(it)) == 0, "key %s: wrong value", key);
    cache_item_release(c, &it);
}

/* Asserts that key is absent, and why. */
static inline void st_expect_miss(struct cache *c, const char *key, enum cache_miss_reason want)
{
    enum cache_miss_reason why = (enum cache_miss_reason)99;
    struct item *it = cache_get(c, key, strlen(key), &why);

    cr_assert_null(it, "key %s should be missing", key);
    cr_assert_eq(why, want, "key %s: miss reason %d, want %d", key, why, want);
}

static inline struct cache_stats st_stats(struct cache *c)
{
    struct cache_stats s;

    cache_stats_get(c, &s);
    return s;
}

/* ---- a plain decimal counter through cache_rmw (the protocols' own rules are theirs) ---- */

struct st_counter {
    bool incr;
    uint64_t delta;
    uint64_t value;
    char digits[24];
    size_t n;
};

/* Only digits; anything else (or nothing) is CACHE_NON_NUMERIC; a missing key CACHE_NOT_FOUND. */
static inline enum cache_status st_counter_plan(void *arg, const struct item *old, struct cache_rmw_new *nw)
{
    struct st_counter *k = (struct st_counter *)arg;
    uint64_t v = 0;
    size_t i;

    if (!old)
        return CACHE_NOT_FOUND;
    if (item_nbytes(old) == 0 || item_nbytes(old) > 19)
        return CACHE_NON_NUMERIC;
    for (i = 0; i < item_nbytes(old); i++) {
        char ch = item_value_const(old)[i];

        if (ch < '0' || ch > '9')
            return CACHE_NON_NUMERIC;
        v = v * 10 + (uint64_t)(ch - '0');
    }
    k->value = k->incr ? v + k->delta : (v < k->delta ? 0 : v - k->delta);
    k->n = (size_t)snprintf(k->digits, sizeof k->digits, "%llu", (unsigned long long)k->value);
    nw->nbytes = k->n;
    return CACHE_OK;
}

static inline void st_counter_fill(void *arg, const struct item *old, char *value, size_t nbytes)
{
    (void)old;
    memcpy(value, ((struct st_counter *)arg)->digits, nbytes);
}

/* As st_incr for a key of nkey bytes (any bytes). */
static inline enum cache_status st_incr_n(struct cache *c, const char *key, size_t nkey, bool incr,
                                          uint64_t delta, uint64_t *value)
{
    struct st_counter k = {.incr = incr, .delta = delta};
    struct cache_rmw op = {.plan = st_counter_plan,
                           .fill = st_counter_fill,
                           .arg = &k,
                           .count = incr ? CACHE_RMW_COUNT_INCR : CACHE_RMW_COUNT_DECR};
    struct cache_rmw_result r;
    enum cache_status st = cache_rmw(c, key, nkey, &op, &r);

    if (st == CACHE_OK && value)
        *value = k.value;
    return st;
}

/* incr or decr key by delta (counting incr_hits / decr_hits); *value gets the result on CACHE_OK. */
static inline enum cache_status st_incr(struct cache *c, const char *key, bool incr, uint64_t delta,
                                        uint64_t *value)
{
    struct st_counter k = {.incr = incr, .delta = delta};
    struct cache_rmw op = {.plan = st_counter_plan,
                           .fill = st_counter_fill,
                           .arg = &k,
                           .count = incr ? CACHE_RMW_COUNT_INCR : CACHE_RMW_COUNT_DECR};
    struct cache_rmw_result r;
    enum cache_status st = cache_rmw(c, key, strlen(key), &op, &r);

    if (st == CACHE_OK && value)
        *value = k.value;
    return st;
}

#endif
