/*
 * test_meta.c: the storage operations of the meta commands (storage/meta.c): mg's lookup with touch,
 * recache tokens and stale items, md's invalidation, ms's stale-CAS store and CAS-checked append,
 * me's peek; and races: many threads asking for one token, exactly one wins. (ma with CAS, TTL and
 * creation needs memcached's number rules: tests/unit/protocol/test_arith.c.)
 */
#include "config.h"

#include <pthread.h>
#include <stdatomic.h>
#include <string.h>

#include "storage/meta.h"
#include "tests/unit/storage/storage_test.h"

#define KEY(s) s, strlen(s)

static struct cache *meta_cache(void)
{
    struct cache *c = st_cache(8u << 20, 0, 2, 6);
    cache_clock_set(c, 1000);
    return c;
}

static struct item *mget(struct cache *c, const char *key, const struct cache_meta_get_opts *o,
                         struct cache_meta_info *info)
{
    static const struct cache_meta_get_opts none;
    return cache_meta_get(c, KEY(key), o ? o : &none, info);
}

static uint64_t cas_of(struct cache *c, const char *key)
{
    struct item *it = cache_meta_peek(c, KEY(key));
    cr_assert_not_null(it, "%s missing", key);
    uint64_t cas = item_cas(it);
    cache_item_release(c, &it);
    return cas;
}

Test(meta, get_reports_state_before_the_access)
{
    struct cache *c = meta_cache();
    struct cache_meta_info info;
    st_store(c, "a", "hi", 5, st_at(1100), CACHE_SET, 0, NULL);
    cache_clock_set(c, 1010);
    struct item *it = mget(c, "a", NULL, &info);
    cr_assert_not_null(it);
    cr_assert_eq(info.status, CACHE_OK);
    cr_assert_eq(info.exptime_before, st_at(1100));
    cr_assert_eq(info.atime_before, 1000);
    cr_assert(!info.fetched_before && !info.won && !info.already_won && !info.stale && !info.created);
    cache_item_release(c, &it);
    it = mget(c, "a", NULL, &info);
    cr_assert(info.fetched_before, "the first get marked the item fetched");
    cr_assert_eq(info.atime_before, 1010);
    cache_item_release(c, &it);
    cr_assert_null(mget(c, "nope", NULL, &info));
    cr_assert_eq(info.status, CACHE_NOT_FOUND);
    cache_destroy(&c);
}

Test(meta, no_update_leaves_the_item_unfetched)
{
    struct cache *c = meta_cache();
    struct cache_meta_get_opts o = {.no_update = true};
    struct cache_meta_info info;
    st_set(c, "a", "1");
    struct item *it = mget(c, "a", &o, &info);
    cache_item_release(c, &it);
    it = mget(c, "a", NULL, &info);
    cr_assert(!info.fetched_before, "u must not mark the access");
    cache_item_release(c, &it);
    it = cache_meta_peek(c, KEY("a"));
    cr_assert(item_state(it) & ITEM_FETCHED);
    cache_item_release(c, &it);
    cache_destroy(&c);
}

Test(meta, touch_sets_exptime)
{
    struct cache *c = meta_cache();
    struct cache_meta_get_opts o = {.set_ttl = true, .ttl = st_at(1300)};
    struct cache_meta_info info;
    st_set(c, "a", "1");
    struct item *it = mget(c, "a", &o, &info);
    cr_assert_eq(info.exptime_before, CACHE_EXP_NEVER);
    cr_assert_eq(item_exptime(it), 1300);
    cache_item_release(c, &it);
    cache_clock_set(c, 1300);
    cr_assert_null(mget(c, "a", NULL, &info));
    cr_assert_eq(info.why, CACHE_MISS_EXPIRED);
    cache_destroy(&c);
}

Test(meta, vivify_creates_once_and_wins_once)
{
    struct cache *c = meta_cache();
    struct cache_meta_get_opts o = {.vivify = true, .vivify_exptime = st_at(1030)};
    struct cache_meta_info info;
    struct item *it = mget(c, "a", &o, &info);
    cr_assert_not_null(it);
    cr_assert(info.created && info.won && !info.already_won);
    cr_assert_eq(item_nbytes(it), 0);
    cr_assert_eq(item_exptime(it), 1030);
    cache_item_release(c, &it);
    it = mget(c, "a", &o, &info);
    cr_assert(!info.created && !info.won && info.already_won);
    cache_item_release(c, &it);
    /* A store replaces the placeholder: the token goes with it. */
    st_set(c, "a", "v");
    it = mget(c, "a", NULL, &info);
    cr_assert(!info.won && !info.already_won);
    cache_item_release(c, &it);
    cache_destroy(&c);
}

Test(meta, recache_wins_below_the_threshold)
{
    struct cache *c = meta_cache();
    struct cache_meta_get_opts o = {.recache = true, .recache_time = st_at(1200)};
    struct cache_meta_info info;
    st_store(c, "short", "1", 0, st_at(1100), CACHE_SET, 0, NULL);
    st_store(c, "long", "1", 0, st_at(1500), CACHE_SET, 0, NULL);
    st_set(c, "never", "1");
    struct item *it = mget(c, "long", &o, &info);
    cr_assert(!info.won, "exptime above the recache time");
    cache_item_release(c, &it);
    it = mget(c, "never", &o, &info);
    cr_assert(!info.won, "no exptime: never a recache win");
    cache_item_release(c, &it);
    it = mget(c, "short", &o, &info);
    cr_assert(info.won);
    cache_item_release(c, &it);
    it = mget(c, "short", &o, &info);
    cr_assert(!info.won && info.already_won);
    cache_item_release(c, &it);
    /* R after T compares with the new exptime. */
    struct cache_meta_get_opts ot = {.recache = true,
                                     .recache_time = st_at(1200),
                                     .set_ttl = true,
                                     .ttl = st_at(1100),
                                     .recache_after_ttl = true};
    it = mget(c, "long", &ot, &info);
    cr_assert(info.won);
    cache_item_release(c, &it);
    cache_destroy(&c);
}

Test(meta, invalidate_marks_stale_and_hands_one_token)
{
    struct cache *c = meta_cache();
    struct cache_meta_info info;
    uint64_t cas;
    st_store(c, "a", "hi", 7, 0, CACHE_SET, 0, &cas);
    cr_assert_eq(cache_meta_delete(c, KEY("a"), false, 0, true, true, st_at(1030)), CACHE_OK);
    cr_assert_gt(cas_of(c, "a"), cas, "invalidation gives a new CAS unique");
    struct item *it = mget(c, "a", NULL, &info);
    cr_assert_not_null(it, "a stale item is still served");
    cr_assert(info.stale && info.won && !info.already_won);
    cr_assert_eq(item_exptime(it), 1030);
    cr_assert_eq(item_client_flags(it), 7);
    cr_assert(memcmp(item_value(it), "hi", 2) == 0);
    cache_item_release(c, &it);
    it = mget(c, "a", NULL, &info);
    cr_assert(info.stale && !info.won && info.already_won);
    cache_item_release(c, &it);
    /* A second invalidation clears the token: the next reader wins again. */
    cr_assert_eq(cache_meta_delete(c, KEY("a"), false, 0, true, false, 0), CACHE_OK);
    it = mget(c, "a", NULL, &info);
    cr_assert(info.stale && info.won);
    cache_item_release(c, &it);
    cache_destroy(&c);
}

Test(meta, delete_with_cas)
{
    struct cache *c = meta_cache();
    uint64_t cas;
    st_store(c, "a", "1", 0, 0, CACHE_SET, 0, &cas);
    cr_assert_eq(cache_meta_delete(c, KEY("a"), true, cas + 1, false, false, 0), CACHE_EXISTS);
    cr_assert_eq(cache_meta_delete(c, KEY("a"), true, 0, false, false, 0), CACHE_EXISTS, "C0 never matches");
    cr_assert_eq(cache_meta_delete(c, KEY("a"), true, cas, false, false, 0), CACHE_OK);
    cr_assert_eq(cache_meta_delete(c, KEY("a"), false, 0, false, false, 0), CACHE_NOT_FOUND);
    cache_destroy(&c);
}

static enum cache_status meta_store(struct cache *c, const char *key, const char *v,
                                    enum cache_store_mode mode, uint64_t cas_in, bool stale,
                                    uint64_t *cas_out)
{
    enum cache_status st;
    struct item *it = cache_alloc(c, KEY(key), 0, 0, strlen(v), &st);
    cr_assert_not_null(it);
    memcpy(item_value(it), v, strlen(v));
    st = cache_meta_store(c, it, mode, cas_in, stale, cas_out);
    cache_item_release(c, &it);
    return st;
}

Test(meta, store_stale_cas)
{
    struct cache *c = meta_cache();
    struct cache_meta_info info;
    uint64_t cas, out = 99;
    st_set(c, "a", "first"); /* so that an older CAS unique than the current one exists */
    st_store(c, "a", "old", 0, st_at(1500), CACHE_SET, 0, &cas);
    cr_assert_eq(meta_store(c, "a", "x", CACHE_CAS, cas + 1, true, &out), CACHE_EXISTS, "newer CAS");
    cr_assert_eq(out, 0, "no CAS unique on failure");
    cr_assert_eq(meta_store(c, "a", "x", CACHE_CAS, 0, true, NULL), CACHE_EXISTS, "no CAS");
    cr_assert_eq(meta_store(c, "a", "x", CACHE_CAS, cas - 1, false, NULL), CACHE_EXISTS, "older, no I");
    /* Take the token first: a stale store keeps it. */
    struct cache_meta_get_opts o = {.recache = true, .recache_time = st_at(2000)};
    struct item *it = mget(c, "a", &o, &info);
    cr_assert(info.won);
    cache_item_release(c, &it);
    cr_assert_eq(meta_store(c, "a", "new", CACHE_CAS, cas - 1, true, &out), CACHE_OK);
    cr_assert_gt(out, cas);
    it = mget(c, "a", NULL, &info);
    cr_assert(info.stale && info.already_won && !info.won);
    cr_assert_eq(item_exptime(it), 1500, "a stale store keeps the old exptime");
    cr_assert(memcmp(item_value(it), "new", 3) == 0);
    cache_item_release(c, &it);
    /* A matching CAS stores a fresh item. */
    cr_assert_eq(meta_store(c, "a", "fresh", CACHE_CAS, out, true, NULL), CACHE_OK);
    it = mget(c, "a", NULL, &info);
    cr_assert(!info.stale && !info.already_won);
    cache_item_release(c, &it);
    cr_assert_eq(meta_store(c, "b", "x", CACHE_CAS, 5, true, NULL), CACHE_NOT_FOUND);
    cache_destroy(&c);
}

Test(meta, append_with_cas)
{
    struct cache *c = meta_cache();
    uint64_t cas, out;
    st_store(c, "a", "mid", 3, 0, CACHE_SET, 0, &cas);
    cr_assert_eq(meta_store(c, "a", "x", CACHE_APPEND, cas + 1, false, NULL), CACHE_EXISTS);
    cr_assert_eq(meta_store(c, "a", "<", CACHE_PREPEND, cas, false, &out), CACHE_OK);
    cr_assert_eq(meta_store(c, "a", ">", CACHE_APPEND, out, false, NULL), CACHE_OK);
    cr_assert_eq(meta_store(c, "a", "!", CACHE_APPEND, 0, false, NULL), CACHE_OK, "no CAS: plain append");
    st_expect(c, "a", "<mid>!");
    cr_assert_eq(meta_store(c, "b", "x", CACHE_APPEND, 5, false, NULL), CACHE_NOT_STORED);
    cache_destroy(&c);
}

Test(meta, peek_does_not_mark_access)
{
    struct cache *c = meta_cache();
    st_set(c, "a", "1");
    cache_clock_set(c, 1005);
    struct item *it = cache_meta_peek(c, KEY("a"));
    cr_assert_not_null(it);
    cr_assert_eq(item_state(it) & ITEM_FETCHED, 0);
    cr_assert_eq(item_atime(it), 1000);
    cache_item_release(c, &it);
    cr_assert_null(cache_meta_peek(c, KEY("b")));
    cache_destroy(&c);
}

/* ---- races: one token, many readers ---- */

#define RACE_THREADS 8
#define RACE_ROUNDS  200

struct race {
    struct cache *c;
    pthread_barrier_t *start;
    const struct cache_meta_get_opts *o;
    char key[16];
    _Atomic int *wins;
};

static void *race_worker(void *arg)
{
    struct race *r = arg;
    struct cache_meta_info info;
    pthread_barrier_wait(r->start);
    struct item *it = cache_meta_get(r->c, r->key, strlen(r->key), r->o, &info);
    if (it != NULL && info.won)
        atomic_fetch_add(r->wins, 1);
    cache_item_release(r->c, &it);
    return NULL;
}

/* Runs RACE_THREADS concurrent gets of key with o; returns how many won. */
static int race_round(struct cache *c, const char *key, const struct cache_meta_get_opts *o)
{
    pthread_t th[RACE_THREADS];
    struct race args[RACE_THREADS];
    pthread_barrier_t start;
    _Atomic int wins = 0;
    pthread_barrier_init(&start, NULL, RACE_THREADS);
    for (int i = 0; i < RACE_THREADS; i++) {
        args[i] = (struct race){c, &start, o, "", &wins};
        snprintf(args[i].key, sizeof(args[i].key), "%s", key);
        cr_assert_eq(pthread_create(&th[i], NULL, race_worker, &args[i]), 0);
    }
    for (int i = 0; i < RACE_THREADS; i++)
        pthread_join(th[i], NULL);
    pthread_barrier_destroy(&start);
    return atomic_load(&wins);
}

Test(meta, race_vivify_exactly_one_winner, .timeout = 60)
{
    struct cache *c = meta_cache();
    struct cache_meta_get_opts o = {.vivify = true, .vivify_exptime = CACHE_EXP_NEVER};
    for (int round = 0; round < RACE_ROUNDS; round++) {
        char key[16];
        snprintf(key, sizeof(key), "k%d", round);
        cr_assert_eq(race_round(c, key, &o), 1, "round %d", round);
    }
    cache_destroy(&c);
}

Test(meta, race_stale_exactly_one_winner, .timeout = 60)
{
    struct cache *c = meta_cache();
    struct cache_meta_get_opts o = {0};
    st_set(c, "s", "v");
    for (int round = 0; round < RACE_ROUNDS; round++) {
        cr_assert_eq(cache_meta_delete(c, KEY("s"), false, 0, true, false, 0), CACHE_OK);
        cr_assert_eq(race_round(c, "s", &o), 1, "round %d", round);
    }
    cache_destroy(&c);
}
