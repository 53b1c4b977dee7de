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

#endif
