/*
 * evict.c: CLOCK (second chance) eviction, one clock per slab class.
 *
 * Why CLOCK and not LRU lists (a deliberate change from DESIGN.md): LRU lists need two links per
 * item (16 bytes with handles in a 32-byte header we could not afford) and a lock on every hit to
 * move the item to the head. With CLOCK a hit only sets ITEM_ACTIVE with an atomic OR, and the item
 * header has no list links at all. The price is that a victim is found by walking chunks in memory
 * order instead of popping a list tail; the walk is bounded and runs only when a class has neither a
 * free chunk nor a new page to take.
 *
 * The walk: the class's hand moves through its chunks page by page. Skipped: free and never-used
 * chunks, unlinked chunks, items with readers (refcount > 1), items whose shard is locked by someone
 * else (try-lock, because the delete path holds a shard lock and then takes the class lock we hold).
 * Under the victim's shard lock: an expired or flushed item is reclaimed (counted `reclaimed`, not an
 * eviction); an ACTIVE item loses the bit and is passed over (second chance); anything else is
 * evicted. The walk goes at most two full turns plus one chunk, so every ACTIVE item gets its bit
 * cleared and is then eligible: NULL (CACHE_NO_MEMORY) means every chunk was busy.
 *
 * evicted_active counts victims found on the second turn, i.e. items that were passed over for being
 * active (or busy) on this walk's first turn and are evicted anyway because nothing else was free.
 *
 * Threads: called with the class lock held, from any thread.
 */
#include "config.h"

#include "storage/cache_internal.h"

#include <assert.h>

static void clock_advance(struct slab_class *cls)
{
    if (++cls->hand_chunk == cls->perpage) {
        cls->hand_chunk = 0;
        if (++cls->hand_page >= cls->npages)
            cls->hand_page = 0;
    }
}

/* Counts the victim's removal in the class's counters. */
static void count_victim(struct slab_class *cls, const struct item *it, uint16_t st,
                         enum cache_miss_reason why, uint32_t now, bool second_turn)
{
    if (why != CACHE_MISS_NONE) {
        cls->reclaimed++;
        if (why == CACHE_MISS_EXPIRED && !(st & ITEM_FETCHED))
            cls->expired_unfetched++;
        return;
    }
    cls->evicted++;
    if (it->exptime != 0)
        cls->evicted_nonzero++;
    cls->evicted_time = now >= it->atime ? now - it->atime : 0;
    if (!(st & ITEM_FETCHED))
        cls->evicted_unfetched++;
    if (second_turn)
        cls->evicted_active++;
}

/* Decides on one linked item under its shard lock; on removal leaves the chunk unreferenced. */
static bool reap_locked(struct cache *c, struct slab_class *cls, struct ht_shard *sh,
                        uint64_t hash, struct item *it, bool second_turn)
{
    uint16_t st = atomic_load(&it->state);
    uint32_t now = cache_rel_time(c);
    enum cache_miss_reason why;
    uint16_t old;

    if (!(st & ITEM_LINKED) || (st & ITEM_REFCOUNT_MASK) != 1)
        return false;
    why = cache_item_dead_locked(c, it, now);
    if (why == CACHE_MISS_NONE && (st & ITEM_ACTIVE)) {
        atomic_fetch_and(&it->state, (uint16_t)~ITEM_ACTIVE);
        return false;
    }
    count_victim(cls, it, st, why, now, second_turn);
    cache_unlink_locked(c, sh, hash, it);
    old = atomic_fetch_sub(&it->state, 1);
    assert((old & ITEM_REFCOUNT_MASK) == 1);
    (void)old;
    atomic_store(&it->state, 0);
    cls->mem_requested -= item_total_size(it->nkey, it->nbytes);
    return true;
}

/* Tries one chunk. The key of a linked chunk is stable while we hold the class lock: the chunk can
 * be neither freed nor reused without it. */
static bool try_victim(struct cache *c, struct slab_class *cls, struct item *it,
                       struct ht_shard *held, bool second_turn)
{
    uint16_t st = atomic_load(&it->state);
    struct ht_shard *sh;
    uint64_t hash;
    bool ok;

    if (!(st & ITEM_LINKED) || (st & ITEM_REFCOUNT_MASK) != 1)
        return false;
    hash = ht_hash(item_key(it), it->nkey);
    sh = ht_shard_of(&c->ht, hash);
    if (sh != held && pthread_mutex_trylock(&sh->lock) != 0)
        return false;
    ok = reap_locked(c, cls, sh, hash, it, second_turn);
    if (sh != held)
        pthread_mutex_unlock(&sh->lock);
    return ok;
}

/* See cache_internal.h. */
struct item *cache_evict_locked(struct cache *c, struct slab_class *cls, struct ht_shard *held)
{
    uint64_t total = (uint64_t)cls->npages * cls->perpage;
    uint64_t step;

    if (total == 0)
        return NULL;
    for (step = 0; step < 2 * total + 1; step++) {
        struct item *it = slab_chunk_at(&c->slab, cls, cls->hand_page, cls->hand_chunk);

        clock_advance(cls);
        if (try_victim(c, cls, it, held, step >= total))
            return it;
    }
    return NULL;
}
