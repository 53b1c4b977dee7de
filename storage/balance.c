/*
 * balance.c: where memory comes from when a slab class has no free chunk, and how pages move between
 * classes so that memory follows the load.
 *
 * The allocator (store.c) asks, in this order, and stops at the first that gives a chunk:
 *   1. the class's own free list and the page it is carving;
 *   2. a larger class's free chunk (borrowing, balance_borrow_locked), first only for a class with no
 *      page of its own yet or when no page is left (see below), then
 *   3. a new page (the free pool, then untouched arena pages, within the memory limit);
 *   4. borrowing, if it was not tried before the page;
 *   5. compaction (balance_compact_locked): a class whose free chunks add up to a page gives its
 *      emptiest page, its items moved into its other free chunks first, so nothing is evicted;
 *   6. age balancing (balance_check_locked), every few evictions: a page from a class whose items
 *      live much longer before the clock evicts them;
 *   7. the class's own clock (evict.c);
 *   8. a page from any class (cache_rebalance_locked), when the clock found nothing or the class has
 *      no page at all.
 * So while memory is idle (a free page, a page's worth of free chunks in one class, a free chunk of a
 * close larger class) no live item is evicted.
 *
 * Borrowing: an item may live in a chunk up to 1.25x its own class's size (memcached's default
 * rounding). A class with no page borrows before it takes one, until it has borrowed a quarter of a
 * page of chunks: a size that is rare keeps no page of its own (with ~55 8-byte classes below 512
 * bytes, one page each would take most of a 64 MiB cache), one that is common soon gets its page and
 * its exact fit. When no page is left at all, every class borrows before it evicts.
 *
 * The balance signal: how long an item that nobody reads survives in a class. For a CLOCK that is
 * one turn of the hand: the class's chunks divided by the hand's steps per second, measured per
 * whole second of the cache clock and smoothed (balance_note_clock_locked). It has sub-second
 * resolution although item times are in seconds. A class that stopped evicting ages by the seconds
 * since it last did; one that never evicted is as old as the seconds since it last allocated. With
 * one such figure per class, the classes stand where a single LRU over all items would put them when
 * their figures are equal (Che's approximation): so a class evicting items that would live 1.5x
 * longer elsewhere takes a page from the class whose figure is highest. The ratio and a 250 ms slack
 * are the hysteresis: after a move the taker's figure rises and the donor's falls (both are rescaled
 * to their new chunk counts at once, so a class does not take page after page on a figure measured
 * before its last move), and the reverse
 * move needs the same gap the other way, so two classes cannot ping-pong. A check costs one pass over
 * the classes' figures (lock-free hints) and runs every perpage/16 evictions of the class (every
 * eviction with `slabs automove 2`, never with 0), so a class that starts cold and turns hot takes a
 * page about every 1/16 page of evictions until its figure meets the others.
 *
 * Vacating a page: the donor's lock is try-locked (two class locks have no defined order), its free
 * chunks on the page are taken off its free list, and each item on it is, under its shard's
 * try-locked lock: reclaimed if dead; moved to another chunk of the donor (a copy, then the hash
 * chain points at the copy) if compacting, or if it was read since the clock last passed it
 * (ACTIVE: memcached's rescue), taking a free chunk or one that the donor's clock frees on another
 * page; otherwise evicted. An item with a reader (refcount > 1) or a busy shard makes the page
 * unmovable now: it is put back as it was (what was moved stays moved) and the next page is tried.
 * Only the table's reference exists for an item that moves, and its shard lock is held, so nobody can
 * see it between the copy and the chain update. No shard lock is held across a page, only one item's.
 *
 * Threads: every function here is called with the requesting class's lock held (explicit moves hold
 * the source's) and only try-locks other classes and the shards.
 */
#include "config.h"

#include "storage/cache_internal.h"

#include <assert.h>
#include <time.h>

#define REASSIGN_TRIES          20 /* attempts of an explicit move, 1 ms apart, before BUSY */
#define BALANCE_RATIO_NUM       3u /* a donor's eviction age must pass the taker's times 3/2 ... */
#define BALANCE_RATIO_DEN       2u
#define BALANCE_SLACK_MS        250u /* ... plus this */
#define BALANCE_CHECKS_PER_PAGE 16u
#define COMPACT_IDLE_S          2u /* seconds without an allocation after which half a page free is idle */

enum vacate_mode {
    VACATE_COMPACT, /* move every live item into a free chunk of its class; evict nothing */
    VACATE_RESCUE   /* move ACTIVE items (free chunk, else one the clock frees), evict the rest */
};

/* ---- the signal ---- */

/* Recomputes cls's eviction age from its measured step rate and its chunk count now (after a page
 * moved in or out), so that the next decision does not use a figure from before the move. */
static void rescale_age_locked(struct slab_class *cls)
{
    double ms;

    if (!(cls->step_rate > 0))
        return;
    ms = (double)cls->npages * cls->perpage * 1000.0 / cls->step_rate;
    __atomic_store_n(&cls->evict_age_ms, ms >= (double)UINT32_MAX ? UINT32_MAX : (uint32_t)ms,
                     __ATOMIC_RELAXED);
}

/* See cache_internal.h. */
void balance_note_clock_locked(struct cache *c, struct slab_class *cls, uint32_t steps, bool victim)
{
    uint32_t now = cache_rel_time(c);

    if (cls->win_start == 0) {
        cls->win_start = now;
    } else if (now > cls->win_start) {
        double inst = (double)cls->steps_win / (double)(now - cls->win_start);
        double chunks = (double)cls->npages * cls->perpage;
        double ms;

        cls->step_rate = cls->step_rate > 0 ? (cls->step_rate + inst) / 2 : inst;
        cls->steps_win = 0;
        cls->win_start = now;
        ms = cls->step_rate > 0 ? chunks * 1000.0 / cls->step_rate : (double)UINT32_MAX;
        __atomic_store_n(&cls->evict_age_ms, ms >= (double)UINT32_MAX ? UINT32_MAX : (uint32_t)ms,
                         __ATOMIC_RELAXED);
    }
    cls->steps_win = steps > UINT32_MAX - cls->steps_win ? UINT32_MAX : cls->steps_win + steps;
    if (victim && __atomic_load_n(&cls->last_evict, __ATOMIC_RELAXED) != now)
        __atomic_store_n(&cls->last_evict, now, __ATOMIC_RELAXED);
}

/* How long, in ms, an unread item survives in d (see the file comment). Lock-free: a hint. */
static uint64_t class_age_ms(const struct slab_class *d, uint32_t now)
{
    uint32_t last = __atomic_load_n(&d->last_evict, __ATOMIC_RELAXED);
    uint64_t age;

    if (last == 0) {
        last = __atomic_load_n(&d->last_alloc, __ATOMIC_RELAXED);
        return last != 0 && now > last ? (uint64_t)(now - last) * 1000 : 0;
    }
    age = __atomic_load_n(&d->evict_age_ms, __ATOMIC_RELAXED);
    if (now > last + 1)
        age += (uint64_t)(now - last - 1) * 1000;
    return age;
}

/* The class other than `to` and those in tried[] with at least min_pages pages whose items survive
 * longest, or NULL; its figure in *age. Reads without locks: a hint. */
static struct slab_class *pick_oldest(struct cache *c, const struct slab_class *to, const bool *tried,
                                      uint32_t min_pages, uint64_t *age)
{
    uint32_t now = cache_rel_time(c);
    struct slab_class *best = NULL;
    unsigned k;

    *age = 0;
    for (k = 1; k <= c->slab.nclasses; k++) {
        struct slab_class *d = &c->slab.classes[k];
        uint64_t a;

        if (d == to || tried[k] || slab_npages(d) < min_pages)
            continue;
        a = class_age_ms(d, now);
        if (!best || a > *age) {
            best = d;
            *age = a;
        }
    }
    return best;
}

/* ---- vacating a page ---- */

/* A free chunk, for an item of n bytes, of the nearest class in first..last that has one (each
 * try-locked), or NULL; *dc gets its class. The chunk is counted in that class as allocated. */
static struct item *take_from_range(struct cache *c, unsigned first, unsigned last, size_t n,
                                    struct slab_class **dc)
{
    struct slab *s = &c->slab;
    unsigned j;

    for (j = first; j <= last; j++) {
        struct slab_class *d = &s->classes[j];
        struct item *it;

        if (!__atomic_load_n(&s->has_free[j], __ATOMIC_RELAXED) || pthread_mutex_trylock(&d->lock) != 0)
            continue;
        it = slab_take_locked(s, d, n);
        if (it)
            balance_note_alloc_locked(c, d);
        pthread_mutex_unlock(&d->lock);
        if (it) {
            *dc = d;
            return it;
        }
    }
    return NULL;
}

/* Moves the linked item it of d (only the table references it; its shard sh is locked) into dst, a
 * chunk of class dc (d, or a larger class) on another page that is counted in use, holds nothing, and
 * whose class's mem_requested already includes the item. */
static void relocate_locked(struct cache *c, struct slab_class *d, struct slab_class *dc, struct ht_shard *sh,
                            uint64_t hash, struct item *it, struct item *dst)
{
    size_t n = item_size(it);
    bool ok;

    memcpy((char *)dst + sizeof dst->state_cas, (const char *)it + sizeof it->state_cas,
           n - sizeof it->state_cas);
    atomic_store(&dst->state_cas, atomic_load(&it->state_cas));
    ok = ht_replace_locked(&c->ht, sh, hash, it, dst);
    assert(ok);
    (void)ok;
    item_state_reset(it, 0);
    d->mem_requested -= n;
    d->rescues++;
    if (dc != d) {
        sh->cls[d - c->slab.classes].number--;
        sh->cls[dc - c->slab.classes].number++;
    }
}

/* A chunk off arena page skip for an item of n bytes of d: a free one of d, else a free one of the
 * nearest larger class, else (may_evict) one that d's clock frees (held: the shard lock the caller
 * holds). *dc gets the chunk's class. */
static struct item *rescue_chunk_locked(struct cache *c, struct slab_class *d, uint32_t skip, size_t n,
                                        struct ht_shard *held, bool may_evict, struct slab_class **dc)
{
    struct item *dst = slab_take_locked(&c->slab, d, n);

    *dc = d;
    if (!dst)
        dst = take_from_range(c, (unsigned)(d - c->slab.classes) + 1, c->slab.nclasses, n, dc);
    if (dst || !may_evict)
        return dst;
    dst = cache_evict_skip_locked(c, d, held, skip);
    if (dst)
        d->mem_requested += n;
    return dst;
}

/* Marks the chunk of an item just evicted or moved as emptied by this page move; passes ok through. */
static bool vacated(struct item *it, bool ok)
{
    if (ok)
        item_state_reset(it, SLAB_CHUNK_VACATED);
    return ok;
}

/* Decides one linked item of the page being vacated under its shard lock. False: keep the page. */
static bool vacate_item_locked(struct cache *c, struct slab_class *d, struct ht_shard *sh, uint64_t hash,
                               struct item *it, uint32_t page, enum vacate_mode mode)
{
    uint16_t st = item_state(it);
    struct slab_class *dc;
    struct item *dst;

    if (!(st & ITEM_LINKED) || !item_state_unshared(st)) {
        d->busy_items++;
        return false;
    }
    if (cache_item_dead_locked(c, it, cache_rel_time(c)) != CACHE_MISS_NONE ||
        (mode == VACATE_RESCUE && !(st & ITEM_ACTIVE)))
        return vacated(it, cache_reap_locked(c, d, sh, hash, it, false, true));
    dst = rescue_chunk_locked(c, d, page, item_size(it), sh, mode == VACATE_RESCUE, &dc);
    if (dst) {
        relocate_locked(c, d, dc, sh, hash, it, dst);
        return vacated(it, true);
    }
    return vacated(it, mode == VACATE_RESCUE && cache_reap_locked(c, d, sh, hash, it, false, true));
}

/* One chunk of the page being vacated: nothing to do for a free or emptied chunk; a linked one is
 * decided under its shard lock (try-locked unless it is `held`). False: keep the page. */
static bool vacate_chunk_locked(struct cache *c, struct slab_class *d, struct item *it, uint32_t page,
                                enum vacate_mode mode, struct ht_shard *held)
{
    /* Acquire: a linked item's key and lengths, written before the link's atomic add by another
     * thread, are read below before any shard lock is taken (to find the shard). */
    uint16_t st = (uint16_t)atomic_load_explicit(&it->state_cas, memory_order_acquire);
    struct ht_shard *sh;
    uint64_t hash;
    bool ok;

    if (st == ITEM_FREE || st == SLAB_CHUNK_VACATED)
        return true;
    if (!(st & ITEM_LINKED) || !item_state_unshared(st)) {
        d->busy_items++;
        return false;
    }
    hash = ht_hash(item_key(it), item_nkey(it));
    sh = ht_shard_of(&c->ht, hash);
    if (sh != held && !shard_trylock(sh))
        return false;
    ok = vacate_item_locked(c, d, sh, hash, it, page, mode);
    if (sh != held)
        shard_unlock(sh);
    return ok;
}

/* Whether every chunk of page idx is free or a linked item only the table references: whether a
 * vacate is worth starting. */
static bool page_movable_locked(struct cache *c, struct slab_class *d, uint32_t idx)
{
    uint32_t k;

    for (k = 0; k < d->perpage; k++) {
        uint16_t st = item_state(slab_chunk_at(&c->slab, d, idx, k));

        if (st == ITEM_FREE)
            continue;
        if (!(st & ITEM_LINKED) || !item_state_unshared(st)) {
            d->busy_items++;
            return false;
        }
    }
    return true;
}

/* Empties page idx of d (d has nothing left to carve). On failure the page is put back as it was,
 * except for what was already moved or evicted. */
static bool vacate_page_locked(struct cache *c, struct slab_class *d, uint32_t idx, enum vacate_mode mode,
                               struct ht_shard *held)
{
    uint32_t page = d->pages[idx];
    uint32_t k;

    if (!page_movable_locked(c, d, idx))
        return false;
    slab_unlist_page_index_locked(&c->slab, d, idx);
    for (k = 0; k < d->perpage; k++) {
        if (!vacate_chunk_locked(c, d, slab_chunk_at(&c->slab, d, idx, k), page, mode, held)) {
            slab_relist_page_locked(&c->slab, d, idx);
            if (mode == VACATE_COMPACT)
                __atomic_store_n(&d->compact_failed, cache_rel_time(c), __ATOMIC_RELAXED);
            return false;
        }
    }
    return true;
}

/* The index of d's page with the fewest chunks in use, skipping the ntried indexes in tried
 * (already tried), or UINT32_MAX. */
static uint32_t emptiest_page_locked(struct cache *c, const struct slab_class *d, const uint32_t *tried,
                                     unsigned ntried)
{
    uint32_t best = UINT32_MAX, best_used = UINT32_MAX, idx;
    unsigned t;

    for (idx = 0; idx < d->npages; idx++) {
        uint32_t used = c->slab.page_used[d->pages[idx]];

        for (t = 0; t < ntried && tried[t] != idx; t++)
            ;
        if (t == ntried && used < best_used) {
            best = idx;
            best_used = used;
        }
    }
    return best;
}

/* Vacates a page of d and gives it to `to` (to the free pool when to is NULL): the emptiest pages
 * first when compacting, else from d's clock hand on (the items its clock would take next). Caller
 * holds d->lock and, if not NULL, to->lock, with room reserved in to's page list. */
static bool move_page_locked(struct cache *c, struct slab_class *d, struct slab_class *to,
                             enum vacate_mode mode, struct ht_shard *held)
{
    uint32_t tried[REBALANCE_PAGES];
    unsigned n;

    if (d->npages == 0)
        return false;
    slab_finish_carving_locked(&c->slab, d);
    for (n = 0; n < REBALANCE_PAGES && n < d->npages; n++) {
        uint32_t idx =
            mode == VACATE_COMPACT ? emptiest_page_locked(c, d, tried, n) : (d->hand_page + n) % d->npages;

        tried[n] = idx;
        if (idx == UINT32_MAX || !vacate_page_locked(c, d, idx, mode, held))
            continue;
        if (to)
            slab_page_move_locked(&c->slab, d, idx, to);
        else
            slab_page_release_locked(&c->slab, d, idx);
        return true;
    }
    return false;
}

/* Whether compaction may take a page of d: its free chunks add up to a page, or to half a page and
 * it has allocated nothing for COMPACT_IDLE_S seconds (a class that is filling a page it just got is
 * left alone, or two growing classes would trade pages and copies). */
static bool compactable_locked(struct cache *c, const struct slab_class *d)
{
    uint64_t avail = d->free_count + d->carve_left;

    return avail >= d->perpage || (d->sparse && d->last_alloc + COMPACT_IDLE_S <= cache_rel_time(c));
}

/* Try-locks donor d and moves one of its pages to `to`. */
static bool take_from_locked(struct cache *c, struct slab_class *d, struct slab_class *to,
                             enum vacate_mode mode, struct ht_shard *held)
{
    bool moved;

    if (pthread_mutex_trylock(&d->lock) != 0)
        return false;
    moved = (mode != VACATE_COMPACT || compactable_locked(c, d)) && move_page_locked(c, d, to, mode, held);
    if (moved) {
        rescale_age_locked(d);
        rescale_age_locked(to);
    }
    pthread_mutex_unlock(&d->lock);
    return moved;
}

/* ---- what the allocator calls ---- */

/* See cache_internal.h. */
bool balance_borrow_first(struct cache *c, const struct slab_class *cls)
{
    return (cls->npages == 0 && cls->borrowed < cls->perpage / 4) || !slab_page_available(&c->slab);
}

/* See cache_internal.h. */
struct item *balance_borrow_locked(struct cache *c, struct slab_class *cls, size_t total, bool any)
{
    struct slab_class *dc;
    unsigned first = (unsigned)(cls - c->slab.classes) + 1;
    struct item *it = take_from_range(c, first, any ? c->slab.nclasses : cls->borrow_last, total, &dc);

    if (it)
        cls->borrowed++;
    return it;
}

/* See cache_internal.h. */
bool balance_compact_locked(struct cache *c, struct slab_class *to)
{
    unsigned k;

    if (__atomic_load_n(&c->slab.sparse, __ATOMIC_RELAXED) == 0 || !slab_reserve_locked(to))
        return false;
    for (k = 1; k <= c->slab.nclasses; k++) {
        struct slab_class *d = &c->slab.classes[k];

        if (d != to && __atomic_load_n(&d->sparse, __ATOMIC_RELAXED) &&
            __atomic_load_n(&d->compact_failed, __ATOMIC_RELAXED) != cache_rel_time(c) &&
            take_from_locked(c, d, to, VACATE_COMPACT, NULL))
            return true;
    }
    return false;
}

/* See cache_internal.h. */
bool balance_check_locked(struct cache *c, struct slab_class *to)
{
    bool tried[SLAB_CLASS_MAX + 1] = {false};
    unsigned mode = cache_automove(c);
    uint32_t every = mode >= 2 ? 1 : to->perpage / BALANCE_CHECKS_PER_PAGE;
    uint64_t own, age;
    struct slab_class *d;

    if (mode == 0 || ++to->evicts_since_check < every)
        return false;
    to->evicts_since_check = 0;
    own = to->last_evict ? to->evict_age_ms : 0;
    d = pick_oldest(c, to, tried, 2, &age);
    if (!d || age * BALANCE_RATIO_DEN <= own * BALANCE_RATIO_NUM + BALANCE_SLACK_MS * BALANCE_RATIO_DEN)
        return false;
    return slab_reserve_locked(to) && take_from_locked(c, d, to, VACATE_RESCUE, NULL);
}

/* See cache_internal.h. */
enum rebalance_result cache_rebalance_locked(struct cache *c, struct slab_class *to, struct ht_shard *held)
{
    bool tried[SLAB_CLASS_MAX + 1] = {false};
    enum rebalance_result r = REBALANCE_NONE;
    unsigned n;

    assert(to->carve_left == 0);
    if (!slab_reserve_locked(to))
        return REBALANCE_NONE;
    for (n = 0; n < REBALANCE_DONORS; n++) {
        uint64_t age;
        struct slab_class *d = pick_oldest(c, to, tried, 2, &age);

        if (!d)
            d = pick_oldest(c, to, tried, 1, &age);
        if (!d)
            break;
        tried[d - c->slab.classes] = true;
        r = REBALANCE_FAILED;
        if (take_from_locked(c, d, to, VACATE_RESCUE, held))
            return REBALANCE_MOVED;
    }
    /* Page counts read without locks can miss a page that is moving between two classes while we
     * scan: unless `to` holds every page, one exists elsewhere, so report FAILED (retry). */
    if (r == REBALANCE_NONE && to->npages < __atomic_load_n(&c->slab.total_pages, __ATOMIC_RELAXED))
        r = REBALANCE_FAILED;
    return r;
}

/* ---- explicit moves (slabs reassign) ---- */

/* One attempt of a class-to-class (or class-to-pool) move. Sets *nospare when from keeps too few
 * pages. */
static bool reassign_once(struct cache *c, struct slab_class *from, struct slab_class *to, bool *nospare)
{
    bool moved = false;

    pthread_mutex_lock(&from->lock);
    *nospare = from->npages < 2;
    if (!*nospare && (!to || pthread_mutex_trylock(&to->lock) == 0)) {
        if (to)
            slab_finish_carving_locked(&c->slab, to);
        if (!to || slab_reserve_locked(to))
            moved = move_page_locked(c, from, to, VACATE_RESCUE, NULL);
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

/* The class with the most pages other than `to`, or NULL if none holds more than one. */
static struct slab_class *most_pages(struct cache *c, const struct slab_class *to)
{
    struct slab_class *best = NULL;
    uint32_t best_pages = 1;
    unsigned k;

    for (k = 1; k <= c->slab.nclasses; k++) {
        struct slab_class *d = &c->slab.classes[k];
        uint32_t n = slab_npages(d);

        if (d != to && n > best_pages) {
            best = d;
            best_pages = n;
        }
    }
    return best;
}

/* See cache.h. Holds no shard lock; takes the source class lock, try-locks the receiver's. */
enum cache_reassign_result cache_slabs_reassign(struct cache *c, int src, int dst)
{
    int n = (int)c->slab.nclasses;
    struct slab_class *to;
    unsigned k;

    if (src == dst)
        return CACHE_REASSIGN_SAME;
    if (dst < 0 || dst > n)
        return CACHE_REASSIGN_BADCLASS;
    to = dst > 0 ? &c->slab.classes[dst] : NULL;
    if (src == -1) {
        struct slab_class *d = most_pages(c, to);

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
