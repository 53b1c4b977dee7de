/*
 * evict.c: CLOCK (second chance) eviction, one clock per slab class.
 *
 * Why CLOCK and not LRU lists (a deliberate change from DESIGN.md): LRU lists need two links per
 * item (16 bytes with handles in a 28-byte header we could not afford) and a lock on every hit to
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
 * cleared and is then eligible: NULL (CACHE_NO_MEMORY) means every chunk was busy. An overwrite
 * inherits the ACTIVE bit of the item it replaces (store.c), so a key that is read and rewritten
 * often does not look new to the clock. A two-bit counter (a second hit level) was tried: in a
 * simulation of the issue 3 hit-ratio load it adds only 0.004, and the state word has no spare bit
 * (the 10-bit refcount and six flags fill its 16 bits; see benchmarks/MEMORY.md).
 *
 * evicted_active counts victims found on the second turn, i.e. items that were passed over for being
 * active (or busy) on this walk's first turn and are evicted anyway because nothing else was free.
 *
 * Rebalancing (cache_rebalance_locked): when a class has no free chunk, no page is left in the arena
 * and its own clock finds nothing (or it has no page at all), it takes a page from another class, so
 * no class starves while others hold evictable items. Steps, all under the requesting class's lock:
 *   1. pick a donor: the class with the most pages (read without its lock, a hint), not yet tried;
 *   2. pthread_mutex_trylock the donor: two class locks have no defined order (another thread may be
 *      rebalancing the other way round), so we never block on the second one; busy = next donor;
 *   3. pick one of its pages, starting at its clock hand (the items its clock would take next); a
 *      page is worth emptying only if every carved chunk is free or a linked item that only the table
 *      references (no reader, no half-built item); then each linked item is evicted under its shard
 *      lock, try-locked as the clock does (the delete path holds a shard and then waits for a class
 *      lock), ACTIVE or not, counted as an eviction of the donor (dead ones as reclaimed);
 *   4. if the whole page is empty, slab_page_move_locked() takes its free chunks off the donor's free
 *      list and gives the page to the requester, re-carved to its chunk size; if one item could not
 *      be evicted, what was evicted goes on the donor's free list and the next page is tried.
 * At most REBALANCE_DONORS donors and REBALANCE_PAGES pages each per call. A chunk cannot change
 * hands behind our back: allocating or freeing in the donor needs the donor's lock, and a linked
 * item's table reference is only dropped under its shard lock, which we hold while evicting it.
 * A failed call reports REBALANCE_FAILED; the allocator (store.c) then retries a bounded number of
 * times, so only a cache whose every item is referenced answers CACHE_NO_MEMORY.
 *
 * Proactive moves, so that one class cannot hoard every page: each time a class's own clock has
 * freed a page's worth of chunks (perpage), it asks once for a page from the class with the most
 * pages, if that class holds more than 2n + 1 pages where n is the asker's. The rule cannot
 * ping-pong (after a move the reverse condition is false) and costs one scan of the page counts per
 * page of evictions. It does not try to match memcached's automove, only to bound the imbalance.
 * Moves are counted per receiving class (pages_moved_in) and summed as slabs_moved. The policy is
 * switched by cache_set_automove(): 0 turns proactive moves off, 2 checks after every eviction.
 *
 * Explicit moves (cache_slabs_reassign, memcached's `slabs reassign`): the same page emptying, on
 * any page of the source class, holding the source's lock and try-locking the receiver; class 0 is
 * the free page pool (slab.c). A busy receiver or a page with readers is retried a few times with a
 * short sleep, then reported BUSY.
 *
 * Threads: called with the class lock held, from any thread.
 */
#include "config.h"

#include "storage/cache_internal.h"

#include <assert.h>
#include <time.h>

#define REASSIGN_TRIES 20 /* attempts of an explicit move, 1 ms apart, before BUSY */

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
    uint32_t atime;

    if (why != CACHE_MISS_NONE) {
        cls->reclaimed++;
        if (why == CACHE_MISS_EXPIRED && !(st & ITEM_FETCHED))
            cls->expired_unfetched++;
        return;
    }
    cls->evicted++;
    if (item_exptime(it) != 0)
        cls->evicted_nonzero++;
    atime = item_atime(it);
    cls->evicted_time = now >= atime ? now - atime : 0;
    if (!(st & ITEM_FETCHED))
        cls->evicted_unfetched++;
    if (second_turn)
        cls->evicted_active++;
}

/* Decides on one linked item under its shard lock; on removal leaves the chunk unreferenced.
 * force: evict even an ACTIVE item (rebalancing empties whole pages). */
static bool reap_locked(struct cache *c, struct slab_class *cls, struct ht_shard *sh,
                        uint64_t hash, struct item *it, bool second_turn, bool force)
{
    uint16_t st = item_state(it);
    uint32_t now = cache_rel_time(c);
    enum cache_miss_reason why;
    uint16_t old;

    if (!(st & ITEM_LINKED) || (st & ITEM_REFCOUNT_MASK) != 1)
        return false;
    why = cache_item_dead_locked(c, it, now);
    if (why == CACHE_MISS_NONE && (st & ITEM_ACTIVE) && !force) {
        item_state_clear(it, ITEM_ACTIVE);
        return false;
    }
    count_victim(cls, it, st, why, now, second_turn);
    cache_unlink_locked(c, sh, hash, it);
    old = item_state_unref(it);
    assert((old & ITEM_REFCOUNT_MASK) == 1);
    (void)old;
    cls->mem_requested -= item_size(it); /* before the reset: the size depends on the CAS field */
    item_state_reset(it, 0);
    return true;
}

/* Tries one chunk. The key of a linked chunk is stable while we hold the class lock: the chunk can
 * be neither freed nor reused without it. */
static bool try_victim(struct cache *c, struct slab_class *cls, struct item *it,
                       struct ht_shard *held, bool second_turn, bool force)
{
    uint16_t st = item_state(it);
    struct ht_shard *sh;
    uint64_t hash;
    bool ok;

    if (!(st & ITEM_LINKED) || (st & ITEM_REFCOUNT_MASK) != 1)
        return false;
    hash = ht_hash(item_key(it), item_nkey(it));
    sh = ht_shard_of(&c->ht, hash);
    if (sh != held && pthread_mutex_trylock(&sh->lock) != 0)
        return false;
    ok = reap_locked(c, cls, sh, hash, it, second_turn, force);
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
        if (try_victim(c, cls, it, held, step >= total, false))
            return it;
    }
    return NULL;
}

/* ---- rebalancing: moving a page from one class to another ---- */

/* Whether every carved chunk of page idx is free or a linked item only the table references, i.e.
 * whether emptying the page is worth trying. Caller holds d->lock. */
static bool page_emptiable_locked(struct cache *c, struct slab_class *d, uint32_t idx)
{
    uint32_t carved = slab_page_carved_locked(d, idx);
    uint32_t k;

    for (k = 0; k < carved; k++) {
        uint16_t st = item_state(slab_chunk_at(&c->slab, d, idx, k));

        if (st & ITEM_FREE)
            continue;
        if (!(st & ITEM_LINKED) || (st & ITEM_REFCOUNT_MASK) != 1)
            return false;
    }
    return true;
}

/* Puts back on d's free list the chunks of page idx below `upto` that this attempt evicted (state
 * 0: nobody else can hold an unlinked, unreferenced chunk of a page whose class lock we hold and
 * which we saw free or linked a moment ago). */
static void page_undo_locked(struct cache *c, struct slab_class *d, uint32_t idx, uint32_t upto)
{
    uint32_t k;

    for (k = 0; k < upto; k++) {
        struct item *it = slab_chunk_at(&c->slab, d, idx, k);

        if (item_state(it) == 0)
            slab_push_free_locked(&c->slab, d, it);
    }
}

/*
 * Evicts every linked item of page idx of d (each under a try-locked shard, only at refcount 1,
 * counted as an eviction of d). Returns true when the page holds nothing but free chunks and chunks
 * just evicted; otherwise puts what it evicted on d's free list and returns false.
 */
static bool page_empty_locked(struct cache *c, struct slab_class *d, uint32_t idx,
                              struct ht_shard *held)
{
    uint32_t carved = slab_page_carved_locked(d, idx);
    uint32_t k;

    if (!page_emptiable_locked(c, d, idx))
        return false;
    for (k = 0; k < carved; k++) {
        struct item *it = slab_chunk_at(&c->slab, d, idx, k);

        if (item_state(it) & ITEM_FREE)
            continue;
        if (!try_victim(c, d, it, held, false, true)) {
            page_undo_locked(c, d, idx, k);
            return false;
        }
    }
    return true;
}

/* Tries up to REBALANCE_PAGES pages of donor d, from its clock hand on (the items the clock would
 * take next), and moves the first it can empty to `to`. Caller holds both class locks. */
static bool take_page_locked(struct cache *c, struct slab_class *d, struct slab_class *to,
                             struct ht_shard *held)
{
    uint32_t n = d->npages;
    uint32_t idx = d->hand_page < n ? d->hand_page : 0;
    uint32_t tries;

    for (tries = 0; tries < REBALANCE_PAGES && tries < n; tries++, idx = (idx + 1) % n) {
        if (page_empty_locked(c, d, idx, held)) {
            slab_page_move_locked(&c->slab, d, idx, to);
            return true;
        }
    }
    return false;
}

/* The class (other than `to` and those in tried[]) that holds the most pages, or NULL if none holds
 * more than min_pages. Reads page counts without the classes' locks: a hint. */
static struct slab_class *pick_donor(struct cache *c, const struct slab_class *to,
                                     const bool *tried, uint32_t min_pages)
{
    struct slab_class *best = NULL;
    uint32_t best_pages = min_pages;
    unsigned k;

    for (k = 1; k <= c->slab.nclasses; k++) {
        struct slab_class *d = &c->slab.classes[k];
        uint32_t n = slab_npages(d);

        if (d != to && !tried[k] && n > best_pages) {
            best = d;
            best_pages = n;
        }
    }
    return best;
}

/* See cache_internal.h. */
enum rebalance_result cache_rebalance_locked(struct cache *c, struct slab_class *to,
                                             struct ht_shard *held, bool proactive)
{
    bool tried[SLAB_CLASS_MAX + 1] = {false};
    uint32_t min_pages = proactive ? 2 * to->npages + 1 : 0;
    enum rebalance_result r = REBALANCE_NONE;
    unsigned n;

    assert(to->carve_left == 0);
    if (!slab_reserve_locked(to))
        return REBALANCE_NONE;
    for (n = 0; n < (proactive ? 1u : REBALANCE_DONORS); n++) {
        struct slab_class *d = pick_donor(c, to, tried, min_pages);
        bool moved;

        if (!d)
            break;
        tried[d - c->slab.classes] = true;
        r = REBALANCE_FAILED;
        if (pthread_mutex_trylock(&d->lock) != 0)
            continue;
        moved = take_page_locked(c, d, to, held);
        pthread_mutex_unlock(&d->lock);
        if (moved)
            return REBALANCE_MOVED;
    }
    /* Page counts read without locks can miss a page that is moving between two classes while we
     * scan: unless `to` holds every page, one exists elsewhere, so report FAILED (retry). */
    if (r == REBALANCE_NONE && !proactive &&
        to->npages < __atomic_load_n(&c->slab.total_pages, __ATOMIC_RELAXED))
        r = REBALANCE_FAILED;
    return r;
}

/* ---- explicit moves (slabs reassign) ---- */

/* Empties one page of `from` (any page, first that can be emptied) and gives it to `to`, or to the
 * free pool when to is NULL. Caller holds from->lock and, if not NULL, to->lock. */
static bool move_any_page_locked(struct cache *c, struct slab_class *from, struct slab_class *to)
{
    uint32_t idx;

    if (to) {
        slab_finish_carving_locked(&c->slab, to);
        if (!slab_reserve_locked(to))
            return false;
    }
    for (idx = 0; idx < from->npages; idx++) {
        if (!page_empty_locked(c, from, idx, NULL))
            continue;
        if (to)
            slab_page_move_locked(&c->slab, from, idx, to);
        else
            slab_page_release_locked(&c->slab, from, idx);
        return true;
    }
    return false;
}

/* One attempt of a class-to-class (or class-to-pool) move. Sets *nospare when from keeps too few
 * pages. */
static bool reassign_once(struct cache *c, struct slab_class *from, struct slab_class *to,
                          bool *nospare)
{
    bool moved = false;

    pthread_mutex_lock(&from->lock);
    *nospare = from->npages < 2;
    if (!*nospare && (!to || pthread_mutex_trylock(&to->lock) == 0)) {
        moved = move_any_page_locked(c, from, to);
        if (to)
            pthread_mutex_unlock(&to->lock);
    }
    pthread_mutex_unlock(&from->lock);
    return moved;
}

/* A page from the pool (or the unused budget) for `to`. */
static enum cache_reassign_result reassign_from_pool(struct cache *c, struct slab_class *to)
{
    bool ok;

    pthread_mutex_lock(&to->lock);
    ok = slab_grow_now_locked(&c->slab, to); /* reserves the class's slot itself */
    pthread_mutex_unlock(&to->lock);
    return ok ? CACHE_REASSIGN_OK : CACHE_REASSIGN_NOSPARE;
}

/* See cache.h. Holds no shard lock; takes the source class lock, try-locks the receiver's. */
enum cache_reassign_result cache_slabs_reassign(struct cache *c, int src, int dst)
{
    bool tried[SLAB_CLASS_MAX + 1] = {false};
    int n = (int)c->slab.nclasses;
    struct slab_class *to;
    unsigned k;

    if (src == dst)
        return CACHE_REASSIGN_SAME;
    if (dst < 0 || dst > n)
        return CACHE_REASSIGN_BADCLASS;
    to = dst > 0 ? &c->slab.classes[dst] : NULL;
    if (src == -1) {
        struct slab_class *d = pick_donor(c, to, tried, 1);

        src = d ? (int)(d - c->slab.classes) : -1;
    }
    if (src < 0 || src > n)
        return CACHE_REASSIGN_BADCLASS;
    if (src == 0)
        return to ? reassign_from_pool(c, to) : CACHE_REASSIGN_SAME;
    for (k = 0; k < REASSIGN_TRIES; k++) {
        struct timespec ms = {0, 1000000};
        bool nospare;

        if (reassign_once(c, &c->slab.classes[src], to, &nospare))
            return CACHE_REASSIGN_OK;
        if (nospare)
            return CACHE_REASSIGN_NOSPARE;
        nanosleep(&ms, NULL);
    }
    return CACHE_REASSIGN_BUSY;
}
