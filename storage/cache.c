/*
 * cache.c: the cache object, its clock, and the read side of the storage API (get, touch, delete,
 * flush, references). Writing (alloc, store, arith) lives in store.c, the eviction clock in evict.c,
 * background reclaim and statistics in reclaim.c and stats.c.
 *
 * References: the item's state word holds a 9-bit refcount. The table holds one while ITEM_LINKED; cache_get
 * takes one under the shard lock; releases are lock-free atomic decrements. Whoever drops the count
 * to zero frees the chunk to its class, which can only happen once the item is unlinked, because the
 * table's own reference is dropped only after ITEM_LINKED is cleared (under the shard lock). Past
 * ITEM_REF_SAT readers, references are counted in a side table (refs.c): a reader is never refused
 * because an item is popular.
 *
 * Death: an item is expired when its expiry has passed (cache_exp_passed, the one rule): a
 * whole-second expiry when exptime <= now on the ticking seconds clock, exactly as memcached; a
 * precise one when the millisecond clock has reached it. It is flushed when a flush horizon h is set
 * and reached (now >= h) and atime <= h, or (with CAS) when its CAS unique is below the unique that
 * was next to be issued at an immediate flush_all. Dead items are unlinked lazily when a lookup finds
 * them, by cache_reclaim() and by the eviction clock.
 *
 * Clock: process_started = time(NULL) - 2 at create, so relative times start at 2 and an "already
 * expired" exptime of 1 is in the past from the start (as in memcached). Clock times before 1 are
 * not meaningful for tests. The millisecond clock is read (clock_gettime, CLOCK_REALTIME: a vDSO
 * call) only for a precise expiry between now and CLOCK_MS_MARGIN seconds ahead of the ticking
 * clock; the ticking clock lags the real time by up to a tick (and the timer's delay), so a precise
 * expiry further ahead cannot have passed, and one at or before now has. Tests freeze it with
 * cache_clock_set_ms().
 *
 * Threads: see cache.h. Lock order: shard -> class -> page; no function here holds two shard locks.
 */
#include "config.h"

#include "storage/cache_internal.h"

#include <assert.h>
#include <stdlib.h>
#include <string.h>

#define CLOCK_MS_MARGIN 2u /* seconds ahead of the ticking clock a precise expiry may have passed */

/* Fills o with memcached's defaults (-m 64 -I 1m -f 1.25 -n 48) and ours (64 shards, 4096 buckets). */
void cache_options_default(struct cache_options *o)
{
    memset(o, 0, sizeof *o);
    o->memory_limit = (size_t)64 << 20;
    o->item_size_max = (size_t)1 << 20;
    o->page_size = 0;
    o->growth_factor = 1.25;
    o->chunk_min = 48;
    o->shard_bits = 6;
    o->hash_power = 12;
    o->use_cas = true;
}

/* Creates the cache (arena reserved, tables allocated). NULL with *err on bad options or no memory. */
struct cache *cache_create(const struct cache_options *o, const char **err)
{
    const char *dummy;
    struct cache *c;

    if (!err)
        err = &dummy;
    c = calloc(1, sizeof *c);
    if (!c) {
        *err = "out of memory";
        return NULL;
    }
    c->opt = *o;
    if (slab_init(&c->slab, o, err) != 0)
        goto fail;
    if (ht_init(&c->ht, o->shard_bits, o->hash_power, &c->slab, c->slab.nclasses) != 0) {
        *err = "bad hash table size (shard_bits <= 16, 1 <= hash_power <= 30) or out of memory";
        goto fail;
    }
    c->ht.fixed = o->no_hash_expand;
    pthread_mutex_init(&c->reclaim_lock, NULL);
    cache_refs_init(&c->refs);
    c->process_started = time(NULL) - 2;
    atomic_store(&c->now, 2);
    atomic_store(&c->frozen_ms, -1);
    atomic_store(&c->next_cas, 1);
    atomic_store(&c->automove, 1);
    return c;
fail:
    ht_deinit(&c->ht);
    slab_deinit(&c->slab);
    free(c);
    return NULL;
}

/* Frees everything; items still referenced by readers become invalid. Clears *c. */
void cache_destroy(struct cache **c)
{
    if (!c || !*c)
        return;
    ht_deinit(&(*c)->ht);
    slab_deinit(&(*c)->slab);
    pthread_mutex_destroy(&(*c)->reclaim_lock);
    cache_refs_deinit(&(*c)->refs);
    free(*c);
    *c = NULL;
}

/* ---- clock ---- */

/* Moves the relative clock forward to unix_now (never backwards); the millisecond clock follows the
 * real time again. */
void cache_clock_tick(struct cache *c, time_t unix_now)
{
    int64_t rel = (int64_t)unix_now - (int64_t)c->process_started;

    atomic_store(&c->frozen_ms, -1);
    if (rel > (int64_t)UINT32_MAX)
        rel = UINT32_MAX;
    if (rel > (int64_t)atomic_load(&c->now))
        atomic_store(&c->now, (uint32_t)rel);
}

/* Sets the relative clock to any value and freezes the millisecond clock at its start (tests). */
void cache_clock_set(struct cache *c, uint32_t rel_now)
{
    cache_clock_set_ms(c, (uint64_t)rel_now * 1000u);
}

/* See cache.h. */
void cache_clock_set_ms(struct cache *c, uint64_t rel_ms)
{
    uint64_t sec = rel_ms / 1000u;

    if (rel_ms > (uint64_t)INT64_MAX)
        rel_ms = INT64_MAX;
    atomic_store(&c->frozen_ms, (int64_t)rel_ms);
    atomic_store(&c->now, sec > UINT32_MAX ? UINT32_MAX : (uint32_t)sec);
}

/* The relative clock now. */
uint32_t cache_rel_time(const struct cache *c)
{
    return atomic_load(&((struct cache *)c)->now);
}

/* Unix time of relative time 0. */
time_t cache_process_started(const struct cache *c)
{
    return c->process_started;
}

/* The millisecond clock: milliseconds since the origin, frozen (tests) or the real time (0 when the
 * system clock was stepped back before the origin). */
static uint64_t clock_rel_ms(const struct cache *c)
{
    int64_t frozen = atomic_load_explicit(&((struct cache *)c)->frozen_ms, memory_order_relaxed);
    struct timespec ts;
    int64_t ms;

    if (frozen >= 0)
        return (uint64_t)frozen;
    clock_gettime(CLOCK_REALTIME, &ts);
    ms = (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000 - (int64_t)c->process_started * 1000;
    return ms > 0 ? (uint64_t)ms : 0;
}

/* See cache.h. */
int64_t cache_now_unix_ms(const struct cache *c)
{
    return (int64_t)c->process_started * 1000 + (int64_t)clock_rel_ms(c);
}

/* See cache.h. */
cache_exp_t cache_exp_from_unix_ms(const struct cache *c, int64_t unix_ms)
{
    int64_t origin = (int64_t)c->process_started * 1000;
    uint64_t rel;

    if (unix_ms <= origin)
        return cache_exp_from_rel_ms(0);
    rel = (uint64_t)unix_ms - (uint64_t)origin;
    return cache_exp_from_rel_ms(rel > ITEM_EXP_MS_MAX ? ITEM_EXP_MS_MAX : rel);
}

/* See cache.h. */
int64_t cache_exp_to_unix_ms(const struct cache *c, cache_exp_t exp)
{
    if (exp == CACHE_EXP_NEVER)
        return -1;
    return (int64_t)c->process_started * 1000 + (int64_t)cache_exp_rel_ms(exp);
}

/* See cache.h and the file comment. */
bool cache_exp_passed(const struct cache *c, cache_exp_t exp, uint32_t now)
{
    uint64_t ms = cache_exp_rel_ms(exp);

    if (exp == CACHE_EXP_NEVER)
        return false;
    if (ms <= (uint64_t)now * 1000u)
        return true;
    if (!cache_exp_precise(exp) || ms > ((uint64_t)now + CLOCK_MS_MARGIN) * 1000u)
        return false;
    return clock_rel_ms(c) >= ms;
}

/* ---- death, linking, references ---- */

/* See cache_internal.h. Flushed is checked first, as memcached does (get_flushed before expired). */
enum cache_miss_reason cache_item_dead_locked(const struct cache *c, const struct item *it,
                                              uint32_t now)
{
    struct cache *mc = (struct cache *)c;
    uint64_t horizon = atomic_load(&mc->flush_horizon);
    uint64_t fcas = atomic_load(&mc->flush_cas);

    if (horizon && now >= horizon - 1 && item_atime(it) <= horizon - 1)
        return CACHE_MISS_FLUSHED;
    if (fcas) {
        uint64_t cas = item_cas(it);

        if (cas && cas < fcas)
            return CACHE_MISS_FLUSHED;
    }
    if (cache_exp_passed(c, item_exp(it), now))
        return CACHE_MISS_EXPIRED;
    return CACHE_MISS_NONE;
}

/* See cache_internal.h. */
void cache_unlink_locked(struct cache *c, struct ht_shard *sh, uint64_t hash, struct item *it)
{
    bool removed = ht_remove_locked(&c->ht, sh, hash, it);

    assert(removed);
    (void)removed;
    __atomic_store_n(&sh->count, sh->count - 1, __ATOMIC_RELAXED); /* cache_count reads it unlocked */
    if (item_exp(it) != CACHE_EXP_NEVER)
        sh->expires--;
    sh->bytes -= item_size(it);
    sh->cls[slab_class_of(&c->slab, it)].number--;
    item_state_clear(it, ITEM_LINKED);
}

/* See cache_internal.h. */
void cache_set_exp_locked(struct ht_shard *sh, struct item *it, cache_exp_t exp)
{
    bool had = item_exp(it) != CACHE_EXP_NEVER, has = exp != CACHE_EXP_NEVER;

    if (had != has)
        sh->expires += has ? 1 : (uint64_t)-1;
    item_set_exp(it, exp);
}

/* See cache_internal.h. */
void cache_link_with_cas_locked(struct cache *c, struct ht_shard *sh, uint64_t hash,
                                struct item *it, uint64_t cas)
{
    uint16_t old;
    bool set = item_set_cas_private(it, cas);

    /* Only if 2^32 uniques were drawn between cache_store's check and here (cache_internal.h):
     * the item then keeps CAS 0, as with CAS disabled, rather than a wrong unique. */
    assert(set);
    (void)set;
    item_set_atime(it, cache_rel_time(c));
    old = item_state_add(it, (uint16_t)(ITEM_LINKED + 1));
    assert(!(old & ITEM_LINKED));
    (void)old;
    __atomic_store_n(&sh->count, sh->count + 1, __ATOMIC_RELAXED);
    if (item_exp(it) != CACHE_EXP_NEVER)
        sh->expires++;
    sh->bytes += item_size(it);
    sh->total_items++;
    sh->cls[slab_class_of(&c->slab, it)].number++;
    ht_insert_locked(&c->ht, sh, hash, it);
}

/* The next CAS unique: one atomic add; at CACHE_CAS_LIMIT the counter stops instead of wrapping to 0
 * (see cache_internal.h). Concurrent draws past the limit push it at most one per thread beyond. */
static uint64_t cas_draw(struct cache *c)
{
    uint64_t v = atomic_fetch_add(&c->next_cas, 1);

    if (v < CACHE_CAS_LIMIT)
        return v;
    atomic_store(&c->next_cas, CACHE_CAS_LIMIT);
    return CACHE_CAS_LIMIT - 1;
}

/* See cache_internal.h. */
void cache_link_locked(struct cache *c, struct ht_shard *sh, uint64_t hash, struct item *it)
{
    cache_link_with_cas_locked(c, sh, hash, it, c->opt.use_cas ? cas_draw(c) : 0);
}

/* See cache_internal.h. The headroom check comes first so that no unique is drawn in vain. */
bool cache_recas_locked(struct cache *c, struct item *it)
{
    bool set;

    assert(item_state_unshared(item_state(it)) && (item_state(it) & ITEM_LINKED));
    if (!c->opt.use_cas)
        return item_set_cas_private(it, 0);
    if (!item_has_cas_ext(it) && cache_cas_needs_ext(c))
        return false;
    set = item_set_cas_private(it, cas_draw(c));
    assert(set); /* the headroom covers the uniques drawn since the check (cache_internal.h) */
    return set;
}

/* See cache_internal.h. */
void cache_item_unref(struct cache *c, struct item *it)
{
    uint16_t old = cache_item_drop_ref(c, it);

    if (old != 1)
        return;
    assert(!(item_state(it) & ITEM_LINKED));
    slab_free(&c->slab, it);
}

/* See cache.h. No locking: an item's page keeps its class while anyone holds the item. */
unsigned cache_item_class(const struct cache *c, const struct item *it)
{
    return slab_class_of(&c->slab, it);
}

/* See cache.h. Class sizes never change after cache_create: no lock. */
size_t cache_item_chunk_size(const struct cache *c, const struct item *it)
{
    return c->slab.classes[slab_class_of(&c->slab, it)].size;
}

/* Gives back the caller's reference and clears *it. NULL or *it NULL is a no-op. */
void cache_item_release(struct cache *c, struct item **it)
{
    if (!it || !*it)
        return;
    cache_item_unref(c, *it);
    *it = NULL;
}

/* One more reference on an item the caller holds; false only on no memory (see cache_ref_locked). */
bool cache_item_acquire(struct cache *c, struct item *it)
{
    return cache_ref_locked(c, it);
}

/* See cache_internal.h. */
struct item *cache_find_live_locked(struct cache *c, struct ht_shard *sh, uint64_t hash,
                                    const char *key, size_t nkey, enum cache_miss_reason *why)
{
    struct item *it = ht_find_locked(&c->ht, sh, hash, key, nkey);
    enum cache_miss_reason r;

    if (why)
        *why = CACHE_MISS_NONE;
    if (!it)
        return NULL;
    r = cache_item_dead_locked(c, it, cache_rel_time(c));
    if (r == CACHE_MISS_NONE)
        return it;
    cache_unlink_locked(c, sh, hash, it);
    cache_item_unref(c, it);
    if (why)
        *why = r;
    return NULL;
}

/* See cache_internal.h. An item that has both bits already is not written, which keeps the hottest
 * items' cache lines clean. */
void cache_note_access_locked(struct cache *c, struct item *it)
{
    uint16_t add = ITEM_ACTIVE | ITEM_FETCHED;

    item_set_atime(it, cache_rel_time(c));
    if ((item_state(it) & add) != add)
        item_state_set(it, add);
}

/* Marks a live item accessed and returns it with one more reference (NULL only on no memory for a
 * side-table entry, see refs.c). */
static struct item *item_take_for_reader_locked(struct cache *c, struct item *it)
{
    cache_note_access_locked(c, it);
    return cache_ref_locked(c, it) ? it : NULL;
}

static struct item *cache_lookup(struct cache *c, const char *key, size_t nkey, bool touch, cache_exp_t exp,
                                 enum cache_miss_reason *why)
{
    uint64_t hash = ht_hash(key, nkey);
    struct ht_shard *sh = ht_shard_of(&c->ht, hash);
    struct item *it;

    shard_lock(sh);
    cache_hot_note_locked(sh, hash, key, nkey, false);
    it = cache_find_live_locked(c, sh, hash, key, nkey, why);
    if (it) {
        if (touch) {
            cache_set_exp_locked(sh, it, exp);
            sh->cls[slab_class_of(&c->slab, it)].touch_hits++;
        } else {
            sh->cls[slab_class_of(&c->slab, it)].get_hits++;
        }
        it = item_take_for_reader_locked(c, it);
    }
    shard_unlock(sh);
    return it;
}

/* See cache.h. Takes the key's shard lock once. */
struct item *cache_get(struct cache *c, const char *key, size_t nkey, enum cache_miss_reason *why)
{
    return cache_lookup(c, key, nkey, false, CACHE_EXP_NEVER, why);
}

/* See cache.h. Takes the key's shard lock once. */
struct item *cache_get_touch(struct cache *c, const char *key, size_t nkey, cache_exp_t exp,
                             enum cache_miss_reason *why)
{
    return cache_lookup(c, key, nkey, true, exp, why);
}

/* See cache.h. A touch counts as an access (ACTIVE, FETCHED, atime). */
enum cache_status cache_touch(struct cache *c, const char *key, size_t nkey, cache_exp_t exp)
{
    uint64_t hash = ht_hash(key, nkey);
    struct ht_shard *sh = ht_shard_of(&c->ht, hash);
    struct item *it;

    shard_lock(sh);
    cache_hot_note_locked(sh, hash, key, nkey, false);
    it = cache_find_live_locked(c, sh, hash, key, nkey, NULL);
    if (it) {
        sh->cls[slab_class_of(&c->slab, it)].touch_hits++;
        cache_set_exp_locked(sh, it, exp);
        cache_note_access_locked(c, it);
    }
    shard_unlock(sh);
    return it ? CACHE_OK : CACHE_NOT_FOUND;
}

/* See cache.h. The chunk is freed once the last reader releases it. */
enum cache_status cache_delete(struct cache *c, const char *key, size_t nkey, uint64_t cas)
{
    uint64_t hash = ht_hash(key, nkey);
    struct ht_shard *sh = ht_shard_of(&c->ht, hash);
    enum cache_status st = CACHE_NOT_FOUND;
    struct item *it;

    shard_lock(sh);
    cache_hot_note_locked(sh, hash, key, nkey, true);
    it = cache_find_live_locked(c, sh, hash, key, nkey, NULL);
    if (it && cas != 0 && item_cas(it) != cas) {
        st = CACHE_EXISTS;
    } else if (it) {
        sh->cls[slab_class_of(&c->slab, it)].delete_hits++;
        cache_unlink_locked(c, sh, hash, it);
        cache_item_unref(c, it);
        st = CACHE_OK;
    }
    shard_unlock(sh);
    return st;
}

/*
 * flush_all with memcached's rules. Immediate (when <= now): with CAS every item whose unique is
 * below the next one to be issued is dead (so items stored later in the same second survive);
 * without CAS every item with atime <= now. Delayed: items with atime <= when - 1 die once
 * now >= when - 1. Lock-free: two atomic stores that lookups read.
 */
void cache_flush(struct cache *c, uint32_t when)
{
    uint32_t now = cache_rel_time(c);
    uint32_t horizon;

    if (when <= now) {
        if (c->opt.use_cas) {
            atomic_store(&c->flush_cas, cas_draw(c)); /* consumes a unique, as memcached */
            horizon = now > 0 ? now - 1 : 0;
        } else {
            horizon = now;
        }
    } else {
        horizon = when - 1;
    }
    atomic_store(&c->flush_horizon, (uint64_t)horizon + 1);
}

/* See cache.h. */
void cache_item_set_idle(struct cache *c, struct item *it, uint32_t idle_s)
{
    uint32_t now = cache_rel_time(c);
    uint64_t horizon = atomic_load(&c->flush_horizon);
    uint32_t atime = idle_s < now ? now - idle_s : 0;

    /* the access time is also what flush_all judges items by: never at or before its horizon */
    if (horizon != 0 && atime <= horizon - 1)
        atime = horizon <= now ? (uint32_t)horizon : now;
    item_set_atime(it, atime);
}

/* See cache.h. */
void cache_flush_cancel(struct cache *c)
{
    atomic_store(&c->flush_horizon, 0);
    atomic_store(&c->flush_cas, 0);
}

/* See cache.h. */
size_t cache_memory_limit_max(const struct cache *c)
{
    return (size_t)c->slab.arena_pages * c->slab.page_size;
}

/* See cache.h. Takes the slab page lock. */
enum cache_status cache_set_memory_limit(struct cache *c, size_t bytes)
{
    return slab_set_limit(&c->slab, bytes) ? CACHE_OK : CACHE_TOO_LARGE;
}

/* See cache.h. */
void cache_set_automove(struct cache *c, unsigned mode)
{
    atomic_store_explicit(&c->automove, mode > 2 ? 2 : mode, memory_order_relaxed);
}

/* See cache.h. */
bool cache_no_evict(const struct cache *c)
{
    return c->opt.no_evict;
}

/* See cache.h. */
bool cache_large_pages(const struct cache *c)
{
    return c->slab.huge;
}

/* See cache.h. */
unsigned cache_automove(const struct cache *c)
{
    return atomic_load_explicit(&c->automove, memory_order_relaxed);
}
