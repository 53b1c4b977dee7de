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
 * (the 9-bit refcount, the overflow bit and six flags fill its 16 bits; see benchmarks/MEMORY.md).
 *
 * evicted_active counts victims found on the second turn, i.e. items that were passed over for being
 * active (or busy) on this walk's first turn and are evicted anyway because nothing else was free.
 *
 * Scan resistance: an item never read since it was stored (FETCHED clear) is on probation. The
 * hand keeps two running shares of unread items among those it passes: over about the last 256
 * items and over about the last 256k. When the recent share rises 1/8 above the long-run one, a
 * scan is under way (a crawler or a batch job storing keys that are read once): the hand then passes
 * over items that were read (FETCHED) and are not ACTIVE, and takes unread ones, so the scan replaces
 * other unread items and leaves what was read before in place, as S3-FIFO's small queue (SOSP'23)
 * would. When the share is steady, the ordinary second-chance rule runs: always protecting read items
 * (S3-FIFO's 10% queue taken literally) cost 0.008 of hit ratio on the Zipf load of
 * benchmarks/compare (e), where sets overwrite popular keys and each new item starts unread. The
 * first turn of a walk applies it, the second does not, so a victim is still always found.
 *
 * The clock also measures how fast its hand turns (balance_note_clock_locked): the signal by which
 * pages move between classes (balance.c).
 *
 * Threads: called with the class lock held, from any thread.
 */
#include "config.h"

#include "storage/cache_internal.h"

#include <assert.h>

/* Scan resistance (see the file comment): shares in 1/65536; a scan is a recent share of unread items
 * 1/8 above the long-run one; the averages' smoothing, per item seen (fast 1/2^8, slow 1/2^18; the slow
 * one is kept in 32.32 fixed point). */
#define PROBATION_ONE  65536u
#define PROBATION_RISE 8192u
#define PROBATION_FAST 8u
#define PROBATION_SLOW 18u

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
    if (item_exp(it) != CACHE_EXP_NEVER)
        cls->evicted_nonzero++;
    atime = item_atime(it);
    cls->evicted_time = now >= atime ? now - atime : 0;
    if (!(st & ITEM_FETCHED))
        cls->evicted_unfetched++;
    if (second_turn)
        cls->evicted_active++;
}

/* See cache_internal.h. */
bool cache_reap_locked(struct cache *c, struct slab_class *cls, struct ht_shard *sh, uint64_t hash,
                       struct item *it, bool second_turn, bool force)
{
    uint16_t st = item_state(it);
    uint32_t now = cache_rel_time(c);
    enum cache_miss_reason why;
    uint16_t old;

    if (!(st & ITEM_LINKED) || !item_state_unshared(st))
        return false;
    why = cache_item_dead_locked(c, it, now);
    if (why == CACHE_MISS_NONE && c->opt.no_evict)
        return false; /* -M: only dead items give their chunks back */
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

/* See cache_internal.h. */
bool cache_try_victim_locked(struct cache *c, struct slab_class *cls, struct item *it, struct ht_shard *held,
                             bool second_turn, bool force)
{
    /* Acquire: the key read below (to find the shard) was written by another thread before the
     * item's link, or by a page move's copy, each followed by a store of the state. */
    uint16_t st = (uint16_t)atomic_load_explicit(&it->state_cas, memory_order_acquire);
    struct ht_shard *sh;
    uint64_t hash;
    bool ok;

    if (!(st & ITEM_LINKED) || !item_state_unshared(st))
        return false;
    hash = ht_hash(item_key(it), item_nkey(it));
    sh = ht_shard_of(&c->ht, hash);
    if (sh != held && !shard_trylock(sh))
        return false;
    ok = cache_reap_locked(c, cls, sh, hash, it, second_turn, force);
    if (sh != held)
        shard_unlock(sh);
    return ok;
}

/* Feeds one linked chunk the hand passed into the class's two estimates of the share of items never
 * read since they were stored (averages over about the last 2^8 and 2^18 items the hand passed), and
 * says whether the hand should pass over this one: an item that was read (FETCHED, not ACTIVE)
 * while a scan is under way, i.e. while the recent share of unread items is PROBATION_RISE above the
 * long-run one. */
static bool clock_protects(struct slab_class *cls, uint16_t st)
{
    uint32_t unread = (st & ITEM_FETCHED) ? 0 : PROBATION_ONE;

    cls->unread_fast += (unread >> PROBATION_FAST) - (cls->unread_fast >> PROBATION_FAST);
    cls->unread_slow += ((uint64_t)unread << (32 - PROBATION_SLOW)) - (cls->unread_slow >> PROBATION_SLOW);
    return (st & (ITEM_FETCHED | ITEM_ACTIVE)) == ITEM_FETCHED &&
           cls->unread_fast >= (uint32_t)(cls->unread_slow >> 32) + PROBATION_RISE;
}

/* See cache_internal.h. */
struct item *cache_evict_skip_locked(struct cache *c, struct slab_class *cls, struct ht_shard *held,
                                     uint32_t skip_page)
{
    uint64_t total = (uint64_t)cls->npages * cls->perpage;
    struct item *victim = NULL;
    uint64_t step;

    for (step = 0; step < 2 * total + 1; step++) {
        struct item *it = slab_chunk_at(&c->slab, cls, cls->hand_page, cls->hand_chunk);
        uint16_t st = item_state(it);

        clock_advance(cls);
        if (!(st & ITEM_LINKED) || (skip_page != UINT32_MAX && slab_page_of(&c->slab, it) == skip_page))
            continue;
        if (clock_protects(cls, st) && step < total)
            continue;
        if (cache_try_victim_locked(c, cls, it, held, step >= total, false)) {
            victim = it;
            step++;
            break;
        }
    }
    if (total > 0)
        balance_note_clock_locked(c, cls, step > UINT32_MAX ? UINT32_MAX : (uint32_t)step, victim != NULL);
    return victim;
}

/* See cache_internal.h. */
struct item *cache_evict_locked(struct cache *c, struct slab_class *cls, struct ht_shard *held)
{
    return cache_evict_skip_locked(c, cls, held, UINT32_MAX);
}
