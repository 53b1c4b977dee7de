/*
 * tx.c: transactions: one thread holds the locks of a set of hash shards across several cache calls
 * (Redis's MULTI/EXEC; storage's own two-key operations such as cache_rename), and the version of a
 * key for optimistic checks (WATCH).
 *
 * Deadlock freedom: a thread that holds more than one shard lock took them in ascending shard index
 * (cache_tx_begin sorts and deduplicates the shards of the keys it is given), and every other path
 * holds at most one shard lock when it blocks on a shard; the eviction clock and page moves only
 * try-lock shards. Below the shard locks the usual order goes on (shard -> class -> page), so a
 * transaction may allocate and free items.
 *
 * Ownership while open: the thread-local cache_tx_cur points at the thread's record and each held
 * shard names it in tx_owner; the lock wrappers of shard_lock.h skip held shards, so the thread calls
 * the ordinary cache functions on its keys. A key whose shard the transaction does not hold is the
 * caller's bug (cache_tx_claims asserts). Functions that visit every shard (cache_scan,
 * cache_random_item, statistics, snapshots) need cache_tx_begin_all inside a transaction;
 * cache_reclaim must not be called inside one (its cursor lock comes before shard locks).
 *
 * Memory: the shard list lives in the record (TX_INLINE entries) or on the heap for longer lists.
 * A transaction over as many keys as there are shards, or whose list cannot be allocated, holds
 * every shard instead: never a failure, and for a default cache (64 shards) a cheap one.
 *
 * Threads: a transaction belongs to the thread that began it; they do not nest.
 */
#include "config.h"

#include "storage/cache_internal.h"

#include <assert.h>
#include <stdlib.h>

#define TX_INLINE 32u /* shards listed without a heap allocation */

struct cache_tx {
    struct cache *c; /* the cache, NULL while closed */
    bool all;        /* every shard of c is held */
    size_t n;        /* shards held (when !all): idx[0..n), ascending */
    uint32_t *idx;   /* inline_idx or a heap array */
    uint32_t inline_idx[TX_INLINE];
};

_Thread_local struct cache_tx *cache_tx_cur;
static _Thread_local struct cache_tx tx_self;

/* See cache.h. */
uint64_t cache_key_hash(const char *key, size_t nkey)
{
    return ht_hash(key, nkey);
}

/* See shard_lock.h. */
bool cache_tx_claims(const struct ht_shard *sh)
{
    const struct ht *t = &cache_tx_cur->c->ht;

    if (shard_tx_holds(sh))
        return true;
    /* Not held: another cache's shard is fine; one of ours means a key was not declared. */
    assert((sh < t->shards || sh >= t->shards + ht_nshards(t)) &&
           "a transaction touched a shard it does not hold: declare every key at cache_tx_begin");
    (void)t;
    return false;
}

static void tx_lock_shard(struct cache_tx *t, struct ht_shard *sh)
{
    pthread_mutex_lock(&sh->lock);
    __atomic_store_n(&sh->tx_owner, (void *)t, __ATOMIC_RELAXED);
}

static void tx_unlock_shard(struct ht_shard *sh)
{
    __atomic_store_n(&sh->tx_owner, NULL, __ATOMIC_RELAXED);
    pthread_mutex_unlock(&sh->lock);
}

static int cmp_u32(const void *a, const void *b)
{
    uint32_t x = *(const uint32_t *)a, y = *(const uint32_t *)b;

    return x < y ? -1 : x > y;
}

/* The shard indices of n hashes into t->idx, ascending and distinct; sets t->n. */
static void tx_list_shards(struct cache_tx *t, const uint64_t *hashes, size_t n)
{
    const struct ht *ht = &t->c->ht;
    size_t i, k = 0;

    for (i = 0; i < n; i++)
        t->idx[i] = (uint32_t)(ht_shard_of(ht, hashes[i]) - ht->shards);
    qsort(t->idx, n, sizeof *t->idx, cmp_u32);
    for (i = 0; i < n; i++) {
        if (k == 0 || t->idx[k - 1] != t->idx[i])
            t->idx[k++] = t->idx[i];
    }
    t->n = k;
}

/* Opens t on c and publishes it (the wrappers start skipping its shards). */
static void tx_open(struct cache_tx *t, struct cache *c)
{
    assert(!cache_tx_cur && "cache transactions do not nest");
    t->c = c;
    t->all = false;
    t->n = 0;
    t->idx = t->inline_idx;
}

/* See cache.h. */
void cache_tx_begin_all(struct cache *c)
{
    struct cache_tx *t = &tx_self;
    unsigned i;

    tx_open(t, c);
    t->all = true;
    for (i = 0; i < ht_nshards(&c->ht); i++)
        tx_lock_shard(t, &c->ht.shards[i]);
    cache_tx_cur = t;
}

/* See cache.h. */
void cache_tx_begin(struct cache *c, const uint64_t *hashes, size_t n)
{
    struct cache_tx *t = &tx_self;
    size_t i;

    if (n >= ht_nshards(&c->ht)) {
        cache_tx_begin_all(c);
        return;
    }
    tx_open(t, c);
    if (n > TX_INLINE && !(t->idx = malloc(n * sizeof *t->idx))) {
        t->idx = t->inline_idx;
        cache_tx_begin_all(c);
        return;
    }
    tx_list_shards(t, hashes, n);
    for (i = 0; i < t->n; i++)
        tx_lock_shard(t, &c->ht.shards[t->idx[i]]);
    cache_tx_cur = t;
}

/* See cache.h. Unlocks in descending order (any order would do). */
void cache_tx_end(struct cache *c)
{
    struct cache_tx *t = cache_tx_cur;
    size_t i;

    assert(t && t->c == c && "cache_tx_end without cache_tx_begin on this cache and thread");
    (void)c;
    cache_tx_cur = NULL;
    if (t->all) {
        for (i = ht_nshards(&t->c->ht); i-- > 0;)
            tx_unlock_shard(&t->c->ht.shards[i]);
    } else {
        for (i = t->n; i-- > 0;)
            tx_unlock_shard(&t->c->ht.shards[t->idx[i]]);
    }
    if (t->idx != t->inline_idx)
        free(t->idx);
    t->idx = NULL;
    t->c = NULL;
}

/* See cache.h. */
bool cache_tx_active(const struct cache *c)
{
    return cache_tx_cur && cache_tx_cur->c == c;
}

/* A live item's version: its CAS unique mixed with its expiry, which cache_expire and cache_persist
 * change in place (a multiplicative hash spreads the expiry over the 64 bits); never 0. */
static uint64_t item_version(const struct item *it)
{
    uint64_t v = item_cas(it) ^ ((uint64_t)item_exp(it) * 0x9e3779b97f4a7c15ull);

    return v ? v : 1;
}

/* See cache.h. Counts nothing and marks no access. */
uint64_t cache_key_version(struct cache *c, const char *key, size_t nkey)
{
    uint64_t hash = ht_hash(key, nkey);
    struct ht_shard *sh = ht_shard_of(&c->ht, hash);
    struct item *it;
    uint64_t v = 0;

    shard_lock(sh);
    it = cache_find_live_locked(c, sh, hash, key, nkey, NULL);
    if (it)
        v = item_version(it);
    shard_unlock(sh);
    return v;
}
