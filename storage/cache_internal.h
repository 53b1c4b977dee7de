/*
 * cache_internal.h: the cache object and the helpers that the files of storage/ share. Nothing outside
 * storage/ includes this file; the public contract is cache.h.
 *
 * Lock order: shard lock -> class lock -> slab page lock. The eviction clock holds a class lock and
 * only try-locks shards. Rebalancing holds one class lock and only try-locks a second class and the
 * shards. The reclaim cursor has its own lock, taken before any shard lock.
 */
#ifndef CAIRN_STORAGE_CACHE_INTERNAL_H
#define CAIRN_STORAGE_CACHE_INTERNAL_H

#include <pthread.h>
#include <stdbool.h>
#include <stdatomic.h>

#include "storage/cache.h"
#include "storage/hashtable_internal.h"
#include "storage/hotkeys.h"
#include "storage/shard_lock.h"
#include "storage/slab_internal.h"

/* References past ITEM_REF_SAT, per item (storage/refs.c). */
struct ref_slot {
    struct item *it; /* NULL = empty */
    uint64_t count;
};

struct ref_overflow {
    pthread_mutex_t lock; /* a leaf lock: see refs.c */
    struct ref_slot *slots;
    size_t cap, used;
};

struct cache {
    struct cache_options opt;
    struct slab slab;
    struct ht ht;
    _Atomic uint32_t now;            /* relative clock, seconds */
    _Atomic int64_t frozen_ms;       /* millisecond clock frozen here (tests); -1 = real time */
    time_t process_started;          /* Unix time of relative time 0 */
    _Atomic uint64_t next_cas;       /* next CAS unique to hand out */
    _Atomic uint64_t flush_horizon;  /* 1 + relative time of the last flush_all horizon; 0 = none */
    _Atomic uint64_t flush_cas;      /* items with a lower nonzero CAS are flushed; 0 = none */
    _Atomic unsigned automove;       /* age balancing mode, 0..2 (cache_set_automove) */
    struct ref_overflow refs;        /* references past the state word's count */
    _Atomic uint64_t refs_overflowed; /* references ever taken through the side table */
    pthread_mutex_t reclaim_lock;
    unsigned reclaim_shard;          /* reclaim cursor: shard ... */
    size_t reclaim_pos;              /* ... and scan position in it (see ht_scan_slot_locked) */
};

/* Why a linked item is dead at time now (expired or flushed), or CACHE_MISS_NONE if it is live.
 * Reads the expiry, so the caller holds the item's shard lock. Expiry: cache_exp_passed(). */
enum cache_miss_reason cache_item_dead_locked(const struct cache *c, const struct item *it,
                                              uint32_t now);

/* Takes a linked item out of the table and its shard's counters and clears ITEM_LINKED. The
 * table's reference is NOT dropped: the caller does that (cache_item_unref) or reuses the chunk. */
void cache_unlink_locked(struct cache *c, struct ht_shard *sh, uint64_t hash, struct item *it);

/* Takes one more reference on it in its state word unless the word's count is at ITEM_REF_SAT.
 * Returns whether a reference was taken. Lock-free: one compare-and-swap loop on the whole state/CAS
 * word (below saturation, + 1 touches only the count). */
static inline bool item_try_ref(struct item *it)
{
    uint64_t w = atomic_load_explicit(&it->state_cas, memory_order_relaxed);

    while ((w & ITEM_REFCOUNT_MASK) < ITEM_REF_SAT) {
        if (atomic_compare_exchange_weak(&it->state_cas, &w, w + 1))
            return true;
    }
    return false;
}

/* One access of key in shard sh for the hot-key sketch: one in HK_SAMPLE is counted. Caller holds
 * sh->lock. */
static inline void cache_hot_note_locked(struct ht_shard *sh, uint64_t hash, const char *key, size_t nkey,
                                         bool write)
{
    if (hk_should_sample(sh->hot))
        hk_offer(sh->hot, hash, key, nkey, write);
}

/* Marks one access: atime, ACTIVE (a second chance from the clock) and FETCHED. Caller holds the
 * item's shard lock. */
void cache_note_access_locked(struct cache *c, struct item *it);

/* Whether the table's reference is the only one on an item with state st (no reader holds it). */
static inline bool item_state_unshared(uint16_t st)
{
    return (st & (ITEM_REFCOUNT_MASK | ITEM_REF_OVERFLOW)) == 1;
}

/* One more reference on a live item for a reader: in the state word, or past its count in the side
 * table (refs.c). False only when the side table cannot grow (no memory). Caller holds the item's
 * shard lock, or already holds a reference to it. */
bool cache_ref_locked(struct cache *c, struct item *it);

/* Takes a reference in the side table (the word's count is saturated); false on no memory. */
bool cache_ref_overflow(struct cache *c, struct item *it);

/* Drops one reference (from the side table while the item has references there); returns the word's
 * count before, so 1 means the caller dropped the last reference. Lock-free unless the item has
 * references in the side table. */
uint16_t cache_item_drop_ref(struct cache *c, struct item *it);

void cache_refs_init(struct ref_overflow *o);
void cache_refs_deinit(struct ref_overflow *o);

/* Store helpers shared by store.c and meta.c (caller holds sh->lock). */

/* Replaces old (may be NULL) by the filled item nw in the table; nw inherits old's ACTIVE bit. */
void cache_replace_locked(struct cache *c, struct ht_shard *sh, uint64_t hash, struct item *old,
                          struct item *nw);

/* Allocates an item with old's key and flags, the given expiry, for a value of nbytes; old is
 * pinned against eviction meanwhile. */
struct item *cache_alloc_like_locked(struct cache *c, struct ht_shard *sh, struct item *old, cache_exp_t exp,
                                     size_t nbytes, enum cache_status *st);

/* APPEND (append) / PREPEND: links a new item joining old's value and it's, with old's flags and
 * expiry; *cas_out (may be NULL) gets its unique. */
enum cache_status cache_join_locked(struct cache *c, struct ht_shard *sh, uint64_t hash, struct item *old,
                                    const struct item *it, bool append, uint64_t *cas_out);

/* Sets a linked item's expiry, keeping the shard's count of items with one (sh->expires). Caller
 * holds sh->lock. Every change of a linked item's expiry goes through here. */
void cache_set_exp_locked(struct ht_shard *sh, struct item *it, cache_exp_t exp);

/* cache_store's decision and link for the live item old (NULL if none) under mode, with its
 * per-class counters. Caller holds sh->lock. */
enum cache_status cache_store_locked(struct cache *c, struct ht_shard *sh, uint64_t hash, struct item *old,
                                     struct item *it, enum cache_store_mode mode, uint64_t cas_in,
                                     uint64_t *cas_out);

/* cache_rmw on the live item old (NULL if none) of key, whose shard lock sh the caller holds (the
 * ma path of meta.c supplies the plan and fill it got from the protocol). Fills r. */
enum cache_status cache_rmw_locked(struct cache *c, struct ht_shard *sh, uint64_t hash, const char *key,
                                   size_t nkey, struct item *old, const struct cache_rmw *op,
                                   struct cache_rmw_result *r);

/*
 * CAS uniques that need the 8-byte extension (see item.h). The counter next_cas reaches 2^48 - 1
 * only after a snapshot with such uniques was loaded (or after centuries of stores), but then every
 * item needs the extension. An item's size is fixed at allocation while its unique is drawn at link
 * time, so allocation reserves the extension once the counter is within CACHE_CAS_HEADROOM of the
 * limit, and cache_store re-checks under the shard lock (an item may have waited long for its value)
 * and moves a value into a wider item when needed. The headroom covers the uniques other shards can
 * draw between that check and the link, a few instructions later.
 */
#define CACHE_CAS_HEADROOM (1ull << 32)

/*
 * Every CAS unique is below CACHE_CAS_LIMIT (2^63). The counter never wraps to 0 (0 means "no CAS"
 * and would make later items unreachable for `cas` and flush_all's CAS horizon): once a draw reaches
 * the limit, every later draw gets CACHE_CAS_LIMIT - 1. Starting from 1 that takes 2^63 stores
 * (centuries at any rate); a loaded snapshot may not start the counter at or above the limit
 * (storage/snapshot.c refuses such a record), so the counter can only reach it the same slow way.
 */
#define CACHE_CAS_LIMIT (1ull << 63)

/* Whether a new item must reserve the CAS extension now. Lock-free. */
static inline bool cache_cas_needs_ext(struct cache *c)
{
    return c->opt.use_cas && atomic_load(&c->next_cas) >= ITEM_CAS_ESC - CACHE_CAS_HEADROOM;
}

/* Drops one reference; frees the chunk if it was the last. Takes the class lock
 * when freeing, so the caller must not hold it. */
void cache_item_unref(struct cache *c, struct item *it);

/*
 * The CLOCK: walks cls's chunks from its hand for a dead or evictable item, unlinks it and returns
 * its chunk, ready for reuse (state 0, mem_requested already reduced). NULL if nothing could be
 * freed. Caller holds cls->lock and possibly the lock of shard `held` (which is then not
 * try-locked again; may be NULL).
 */
struct item *cache_evict_locked(struct cache *c, struct slab_class *cls, struct ht_shard *held);

/* As cache_evict_locked, never choosing a chunk on arena page skip_page (UINT32_MAX: none). */
struct item *cache_evict_skip_locked(struct cache *c, struct slab_class *cls, struct ht_shard *held,
                                     uint32_t skip_page);

/* Decides on one linked item under its shard lock sh: reclaims it if dead, else clears a set ACTIVE
 * bit and keeps it (unless force), else evicts it. On removal the chunk is left unreferenced, state
 * 0, its size taken off cls->mem_requested. Returns whether it was removed. Caller holds cls->lock. */
bool cache_reap_locked(struct cache *c, struct slab_class *cls, struct ht_shard *sh, uint64_t hash,
                       struct item *it, bool second_turn, bool force);

/* As cache_reap_locked for a chunk of cls whose shard is not locked yet: skips free, unlinked and
 * referenced chunks, try-locks the shard unless it is `held`. Caller holds cls->lock. */
bool cache_try_victim_locked(struct cache *c, struct slab_class *cls, struct item *it, struct ht_shard *held,
                             bool second_turn, bool force);

/* ---- balance.c: where memory goes when a class has no free chunk ---- */

#define REBALANCE_DONORS 64 /* donor classes one rebalance tries */
#define REBALANCE_PAGES 4  /* pages of one donor it tries */

enum rebalance_result {
    REBALANCE_MOVED = 0, /* a page moved to the requesting class */
    REBALANCE_FAILED,    /* donors exist, but none could give a page now (busy or referenced) */
    REBALANCE_NONE       /* no other class holds a page */
};

/* Records one run of cls's clock: steps the hand made, whether it found a victim. Feeds the class's
 * eviction age (balance.c). Caller holds cls->lock. */
void balance_note_clock_locked(struct cache *c, struct slab_class *cls, uint32_t steps, bool victim);

/* Records that cls handed out a chunk now (its last allocation time). Caller holds cls->lock. */
static inline void balance_note_alloc_locked(struct cache *c, struct slab_class *cls)
{
    uint32_t now = atomic_load_explicit(&c->now, memory_order_relaxed);

    if (__atomic_load_n(&cls->last_alloc, __ATOMIC_RELAXED) != now)
        __atomic_store_n(&cls->last_alloc, now, __ATOMIC_RELAXED);
}

/* A free chunk of the nearest larger class that has one, up to 1.25x cls's size (any size when any
 * is true), for an item of `total` bytes of cls (counted in that class), or NULL. Only try-locks the
 * other classes. Caller holds cls->lock. */
struct item *balance_borrow_locked(struct cache *c, struct slab_class *cls, size_t total, bool any);

/* Whether cls should place its next item in a larger class's free chunk rather than take a page of
 * its own: it has no page yet and has borrowed fewer than a quarter page of chunks, or no page is
 * left to take. */
bool balance_borrow_first(struct cache *c, const struct slab_class *cls);

/* Compaction: if some class's free chunks add up to half a page, empties its emptiest page by moving
 * its items into free chunks of that class or of the nearest larger classes (nothing is evicted) and
 * gives the page to `to`. A class where that failed is not tried again in the same second. Caller
 * holds to->lock and no shard lock; `to` has no chunk left to carve. */
bool balance_compact_locked(struct cache *c, struct slab_class *to);

/* Age balancing, checked every few evictions of `to`: if another class's items survive much longer
 * than to's (its eviction age is over 1.5x to's), one of its pages moves to `to`; its items that
 * were read since the clock last passed are moved to other chunks of their class, the rest evicted.
 * Caller holds to->lock and no shard lock; `to` has no chunk left to carve. */
bool balance_check_locked(struct cache *c, struct slab_class *to);

/*
 * A page for a class that must have memory and whose own clock found nothing (or that has no page):
 * from the donor whose items are oldest (then any class with a page), emptying the page as
 * balance_check_locked does. Caller holds to->lock (and, if not NULL, shard `held`'s lock); `to` has
 * no chunk left to carve.
 */
enum rebalance_result cache_rebalance_locked(struct cache *c, struct slab_class *to, struct ht_shard *held);

/* Allocation as cache_alloc, for a caller that may hold shard `held`'s lock (NULL if none). */
struct item *cache_alloc_held(struct cache *c, struct ht_shard *held, const char *key, size_t nkey,
                              uint32_t client_flags, cache_exp_t exp, size_t nbytes, enum cache_status *st);

/* As cache_alloc_held; cas_ext = true reserves the 64-bit CAS extension whatever the counter says
 * (for an explicit unique that does not fit 48 bits, see cache_link_with_cas_locked). */
struct item *cache_alloc_ext_held(struct cache *c, struct ht_shard *held, const char *key, size_t nkey,
                                  uint32_t client_flags, cache_exp_t exp, size_t nbytes, bool cas_ext,
                                  enum cache_status *st);

/* Links a filled, unlinked item: new CAS (if enabled), atime = now, ITEM_LINKED and the table's
 * reference, counters. The key must not be linked already. Caller holds sh->lock. */
void cache_link_locked(struct cache *c, struct ht_shard *sh, uint64_t hash, struct item *it);

/* Gives a linked item that only the table references a new CAS unique in place (0 with CAS
 * disabled). False, changing nothing, when the unique would not fit its CAS field (the counter is
 * near 2^48 and the item has no extension): the caller then links a new item instead. Caller holds
 * sh->lock. */
bool cache_recas_locked(struct cache *c, struct item *it);

/* As cache_link_locked, with the given CAS unique instead of a new one (a loaded snapshot's). An
 * unique that does not fit 48 bits needs an item allocated with the CAS extension. Caller holds
 * sh->lock. */
void cache_link_with_cas_locked(struct cache *c, struct ht_shard *sh, uint64_t hash,
                                struct item *it, uint64_t cas);

/* Looks a key up and unlinks it if dead, reporting why in *why. Returns the live item or NULL.
 * Caller holds sh->lock. Takes no reference. */
struct item *cache_find_live_locked(struct cache *c, struct ht_shard *sh, uint64_t hash,
                                    const char *key, size_t nkey, enum cache_miss_reason *why);

#endif
