/*
 * store.c: the write side of the storage API: allocating items and linking them under the six store
 * modes. (Read-modify-write, incr/decr among it, is rmw.c's; memcached's number rules are the
 * protocol's, protocol/mc/mc_arith.c.)
 *
 * A store works under the key's shard lock only: it looks the old item up (a dead one counts as
 * absent and is unlinked on the way), decides by mode, and then replaces old with new in one step
 * (unlink old, drop the table's reference, link new), so no reader ever sees the key missing in
 * between. A failed store changes nothing.
 *
 * APPEND and PREPEND build a new item while holding the shard lock. Allocating may run the
 * eviction clock, which must not pick the old item we are about to copy: it is pinned with one extra
 * reference for the duration (the clock only takes items with refcount 1). The clock is told which
 * shard lock we hold so it can still evict from that shard instead of try-locking it.
 *
 * Allocation when a class has no free chunk: the steps of balance.c (borrowing, a new page,
 * compaction, age balancing, the class's own CLOCK, a page from any class). Rebalancing uses only
 * try-locks, so under contention it can report "busy" instead of "nothing to take"; the allocation
 * then drops its class lock, backs off (yields, then sleeps from 1 us doubling to 1 ms) and tries
 * again, ALLOC_RETRIES times (about 50 ms at most), before it answers CACHE_NO_MEMORY. That wait happens only when pages
 * are scarcer than the classes in use and every donor page is busy or has a reader; it may hold the
 * caller's shard lock (append, incr), which then waits as long.
 *
 * Threads: any; lock order shard -> class (allocation) as everywhere in storage/.
 */
#include "config.h"

#include "storage/cache_internal.h"

#include <assert.h>
#include <sched.h>
#include <string.h>
#include <time.h>

#define ALLOC_RETRIES 64    /* failed rebalances retried before CACHE_NO_MEMORY */
#define ALLOC_YIELDS 8      /* of which the first ones only yield (see alloc_backoff) */

/* The steps of a store under the shard lock, shared by cache_store and cache_store_locked and
 * inlined into both, so that cache_store (the hot path) makes no call it did not make before. */
#define STORE_INLINE static inline __attribute__((always_inline))
STORE_INLINE enum cache_status store_decide(enum cache_store_mode mode, const struct item *old,
                                            uint64_t cas_in);
STORE_INLINE void count_store_locked(struct cache *c, struct ht_shard *sh, const struct item *it,
                                     const struct item *old, enum cache_store_mode mode,
                                     enum cache_status st);
STORE_INLINE enum cache_status store_plain_locked(struct cache *c, struct ht_shard *sh, uint64_t hash,
                                                  struct item *old, struct item *it, uint64_t *cas_out);

/* A chunk for a class with no free chunk and no page left to take (balance.c, steps 5-8):
 * compaction, an age-balancing page move when due, the class's own clock, then a page from any
 * class. Page moves that vacate a page are skipped while the caller holds a shard lock, except when
 * nothing else can give memory. Sets *retry when a rebalance failed for now (busy locks or
 * referenced chunks). Caller holds cls->lock. */
static struct item *alloc_full_locked(struct cache *c, struct slab_class *cls,
                                      struct ht_shard *held, size_t total, bool *retry)
{
    enum rebalance_result r;
    struct item *it;

    if (!held && balance_compact_locked(c, cls))
        return slab_take_locked(&c->slab, cls, total);
    if (c->opt.no_evict) {
        /* -M: the clock takes dead items only; moving a page would evict live ones. */
        it = cls->npages > 0 ? cache_evict_locked(c, cls, held) : NULL;
        if (it)
            cls->mem_requested += total;
        return it;
    }
    if (cls->npages > 0) {
        if (!held && balance_check_locked(c, cls))
            return slab_take_locked(&c->slab, cls, total);
        it = cache_evict_locked(c, cls, held);
        if (it) {
            cls->mem_requested += total;
            return it;
        }
    }
    r = cache_rebalance_locked(c, cls, held);
    if (r == REBALANCE_MOVED)
        return slab_take_locked(&c->slab, cls, total);
    *retry = r == REBALANCE_FAILED;
    return NULL;
}

/* A chunk for a class whose free list and carving page are empty (balance.c, steps 2-4): a larger
 * class's free chunk, a new page, then alloc_full_locked. Caller holds cls->lock. */
static struct item *alloc_slow_locked(struct cache *c, struct slab_class *cls, struct ht_shard *held,
                                      size_t total, bool *retry)
{
    bool borrow_first = balance_borrow_first(c, cls);
    struct item *it;

    if (borrow_first && (it = balance_borrow_locked(c, cls, total, false)))
        return it;
    if (slab_grow_now_locked(&c->slab, cls))
        return slab_take_locked(&c->slab, cls, total);
    if (!borrow_first && (it = balance_borrow_locked(c, cls, total, false)))
        return it;
    /* None of our own and no page left: a quarter page of items may go to any larger free chunk
     * before a page is vacated for us (a rare size whose page compaction took stays without one). */
    if (cls->npages == 0 && cls->borrowed < cls->perpage / 4 &&
        (it = balance_borrow_locked(c, cls, total, true)))
        return it;
    return alloc_full_locked(c, cls, held, total, retry);
}

/* Waits before retry number tries + 1: a yield at first, then sleeps doubling from 1 us to 1 ms,
 * so that ALLOC_RETRIES failed rebalances take at most about 50 ms in all. */
static void alloc_backoff(unsigned tries)
{
    struct timespec ts = {0, 1000};

    if (tries < ALLOC_YIELDS) {
        sched_yield();
        return;
    }
    ts.tv_nsec <<= tries - ALLOC_YIELDS < 10 ? tries - ALLOC_YIELDS : 10;
    nanosleep(&ts, NULL);
}

/* A chunk of cls for an item of total bytes, or NULL (outofmemory counted). Retries a failed
 * rebalance ALLOC_RETRIES times, dropping the class lock and yielding in between. */
static struct item *alloc_chunk(struct cache *c, struct slab_class *cls, struct ht_shard *held,
                                size_t total)
{
    unsigned tries;

    for (tries = 0;; tries++) {
        bool retry = false;
        struct item *it;

        pthread_mutex_lock(&cls->lock);
        it = slab_take_locked(&c->slab, cls, total);
        if (!it)
            it = alloc_slow_locked(c, cls, held, total, &retry);
        if (it)
            balance_note_alloc_locked(c, cls);
        if (!it && (!retry || tries == ALLOC_RETRIES)) {
            cls->outofmemory++;
            retry = false;
        }
        pthread_mutex_unlock(&cls->lock);
        if (!retry)
            return it;
        alloc_backoff(tries);
    }
}

/* See cache_internal.h. */
struct item *cache_alloc_ext_held(struct cache *c, struct ht_shard *held, const char *key, size_t nkey,
                                  uint32_t client_flags, cache_exp_t exp, size_t nbytes, bool cas_ext,
                                  enum cache_status *st)
{
    size_t total;
    struct slab_class *cls;
    struct item *it;

    cas_ext = cas_ext || cache_cas_needs_ext(c);
    total = item_total_size_ext(nkey, nbytes, cas_ext);
    if (nkey > CACHE_KEY_MAX || nbytes > c->slab.item_size_max || total > c->slab.item_size_max) {
        *st = CACHE_TOO_LARGE;
        return NULL;
    }
    cls = &c->slab.classes[slab_class_for(&c->slab, total)];
    it = alloc_chunk(c, cls, held, total);
    if (!it) {
        *st = CACHE_NO_MEMORY;
        return NULL;
    }
    item_init(it, key, nkey, nbytes, cas_ext, client_flags, exp, cache_rel_time(c));
    *st = CACHE_OK;
    return it;
}

/* See cache_internal.h. */
struct item *cache_alloc_held(struct cache *c, struct ht_shard *held, const char *key, size_t nkey,
                              uint32_t client_flags, cache_exp_t exp, size_t nbytes, enum cache_status *st)
{
    return cache_alloc_ext_held(c, held, key, nkey, client_flags, exp, nbytes, false, st);
}

/* See cache.h. Keys longer than CACHE_KEY_MAX are reported as CACHE_TOO_LARGE. */
struct item *cache_alloc(struct cache *c, const char *key, size_t nkey, uint32_t client_flags,
                         cache_exp_t exp, size_t nbytes, enum cache_status *st)
{
    enum cache_status dummy;

    return cache_alloc_held(c, NULL, key, nkey, client_flags, exp, nbytes, st ? st : &dummy);
}

/* See cache_internal.h. */
void cache_replace_locked(struct cache *c, struct ht_shard *sh, uint64_t hash, struct item *old,
                          struct item *nw)
{
    if (old) {
        item_state_set(nw, (uint16_t)(item_state(old) & ITEM_ACTIVE));
        cache_unlink_locked(c, sh, hash, old);
        cache_item_unref(c, old);
    }
    cache_link_locked(c, sh, hash, nw);
}

/* See cache_internal.h. */
struct item *cache_alloc_like_locked(struct cache *c, struct ht_shard *sh, struct item *old, cache_exp_t exp,
                                     size_t nbytes, enum cache_status *st)
{
    bool pinned = item_try_ref(old); /* pinned against eviction; saturated = pinned already */
    struct item *nw =
        cache_alloc_held(c, sh, item_key(old), item_nkey(old), item_client_flags(old), exp, nbytes, st);

    if (pinned)
        cache_item_unref(c, old);
    return nw;
}

/* See cache_internal.h. */
enum cache_status cache_join_locked(struct cache *c, struct ht_shard *sh, uint64_t hash, struct item *old,
                                    const struct item *it, bool append, uint64_t *cas_out)
{
    enum cache_status st;
    size_t nbytes = item_nbytes(old) + item_nbytes(it);

    if (c->opt.join_fits != NULL &&
        !c->opt.join_fits(c->opt.join_fits_arg, item_nkey(old), item_client_flags(old), nbytes))
        return CACHE_NOT_STORED;
    struct item *nw = cache_alloc_like_locked(c, sh, old, item_exp(old), nbytes, &st);
    const struct item *first = append ? old : it;
    const struct item *second = append ? it : old;

    if (!nw)
        return st;
    memcpy(item_value(nw), item_value_const(first), item_nbytes(first));
    memcpy(item_value(nw) + item_nbytes(first), item_value_const(second), item_nbytes(second));
    cache_replace_locked(c, sh, hash, old, nw);
    if (cas_out)
        *cas_out = item_cas(nw);
    cache_item_unref(c, nw);
    return CACHE_OK;
}

/* The outcome of mode against the live old item (NULL if absent), before anything changes. */
static enum cache_status store_decide(enum cache_store_mode mode, const struct item *old,
                                      uint64_t cas_in)
{
    switch (mode) {
    case CACHE_SET:
        return CACHE_OK;
    case CACHE_ADD:
        return old ? CACHE_NOT_STORED : CACHE_OK;
    case CACHE_REPLACE:
    case CACHE_APPEND:
    case CACHE_PREPEND:
        return old ? CACHE_OK : CACHE_NOT_STORED;
    case CACHE_CAS:
        if (!old)
            return CACHE_NOT_FOUND;
        /* a unique of 0 never matches (memcached: CAS_NONE), even under -C where items have none */
        return cas_in != 0 && item_cas(old) == cas_in ? CACHE_OK : CACHE_EXISTS;
    }
    return CACHE_NOT_STORED;
}

/* The per-class `stats slabs` counters of one store: cmd_set in the new item's class, cas_hits and
 * cas_badval in the class of the item compared with. Caller holds sh->lock. */
static void count_store_locked(struct cache *c, struct ht_shard *sh, const struct item *it,
                               const struct item *old, enum cache_store_mode mode,
                               enum cache_status st)
{
    sh->cls[slab_class_of(&c->slab, it)].cmd_set++;
    if (mode != CACHE_CAS || !old)
        return;
    if (st == CACHE_OK)
        sh->cls[slab_class_of(&c->slab, old)].cas_hits++;
    else if (st == CACHE_EXISTS)
        sh->cls[slab_class_of(&c->slab, old)].cas_badval++;
}

/* SET, ADD, REPLACE, CAS: links it in place of old. If the CAS counter came near 2^48 since it was
 * allocated and it has no room for a 64-bit unique, its value moves into a wider item first (old
 * pinned meanwhile, as for APPEND); the caller's item then stays unlinked. Caller holds sh->lock. */
static enum cache_status store_plain_locked(struct cache *c, struct ht_shard *sh, uint64_t hash,
                                            struct item *old, struct item *it, uint64_t *cas_out)
{
    enum cache_status st = CACHE_OK;
    struct item *nw = it;

    if (cache_cas_needs_ext(c) && !item_has_cas_ext(it)) {
        bool pinned = old && item_try_ref(old);

        nw = cache_alloc_ext_held(c, sh, item_key(it), item_nkey(it), item_client_flags(it), item_exp(it),
                                  item_nbytes(it), true, &st);
        if (pinned)
            cache_item_unref(c, old);
        if (!nw)
            return st;
        memcpy(item_value(nw), item_value_const(it), item_nbytes(it));
        item_set_key_binary(nw, item_key_binary(it));
    }
    cache_replace_locked(c, sh, hash, old, nw);
    if (cas_out)
        *cas_out = item_cas(nw);
    if (nw != it)
        cache_item_unref(c, nw);
    return CACHE_OK;
}

/* See cache.h. it must come from cache_alloc and not be linked yet. */
enum cache_status cache_store(struct cache *c, struct item *it, enum cache_store_mode mode,
                              uint64_t cas_in, uint64_t *cas_out)
{
    uint64_t hash = ht_hash(item_key(it), item_nkey(it));
    struct ht_shard *sh = ht_shard_of(&c->ht, hash);
    enum cache_status st;
    struct item *old;

    assert(slab_class_of(&c->slab, it) != 0 && !(item_state(it) & ITEM_LINKED));
    shard_lock(sh);
    cache_hot_note_locked(sh, hash, item_key(it), item_nkey(it), true);
    old = cache_find_live_locked(c, sh, hash, item_key(it), item_nkey(it), NULL);
    st = store_decide(mode, old, cas_in);
    count_store_locked(c, sh, it, old, mode, st);
    if (st == CACHE_OK && (mode == CACHE_APPEND || mode == CACHE_PREPEND))
        st = cache_join_locked(c, sh, hash, old, it, mode == CACHE_APPEND, cas_out);
    else if (st == CACHE_OK)
        st = store_plain_locked(c, sh, hash, old, it, cas_out);
    shard_unlock(sh);
    return st;
}

/* See cache_internal.h. The same steps as cache_store's under its lock (kept apart so that
 * cache_store, the hot path, stays one function). */
enum cache_status cache_store_locked(struct cache *c, struct ht_shard *sh, uint64_t hash, struct item *old,
                                     struct item *it, enum cache_store_mode mode, uint64_t cas_in,
                                     uint64_t *cas_out)
{
    enum cache_status st = store_decide(mode, old, cas_in);

    cache_hot_note_locked(sh, hash, item_key(it), item_nkey(it), true);
    count_store_locked(c, sh, it, old, mode, st);
    if (st == CACHE_OK && (mode == CACHE_APPEND || mode == CACHE_PREPEND))
        st = cache_join_locked(c, sh, hash, old, it, mode == CACHE_APPEND, cas_out);
    else if (st == CACHE_OK)
        st = store_plain_locked(c, sh, hash, old, it, cas_out);
    return st;
}
