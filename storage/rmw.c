/*
 * rmw.c: read-modify-write of one key under its shard lock (cache_rmw), the mechanism behind
 * memcached's incr/decr and meta arithmetic (their rules live in protocol/mc/mc_arith.c) and Redis's
 * APPEND, INCR, SETRANGE and the like: storage knows how to replace an item atomically, the caller
 * knows what the new value is.
 *
 * One call: lock the key's shard, find the live item (a dead one is unlinked on the way and counts as
 * absent), ask the caller's plan what the new item is (or to abort with a status), allocate it while
 * still holding the lock, let the caller's fill write its value, and replace the old item in one step
 * (cache_replace_locked), so a reader sees either the old item or the new one, never a missing key.
 * The new item gets a new CAS unique and inherits the old one's ACTIVE bit.
 *
 * In place (memcached's incr/decr, whose plan sets in_place): when the new value fits in the old one
 * and the table's reference is the only one, the value is written into the linked item itself, as
 * memcached's do_add_delta does when the item's refcount says nobody else holds it. No reader can be
 * writing the bytes out then (every reader takes its reference under the shard lock we hold, and the
 * eviction clock and page moves only try-lock it), so nobody sees them change; the item keeps its
 * per-item state (FETCHED, the stale mark and token, the key mark) and gets a new CAS unique and an
 * access time of now, as memcached's rewrite does. When a reader holds it, a new item is linked as
 * for any other plan, without that state: memcached relinks then too.
 *
 * Allocating under the shard lock: the old item is pinned with one extra reference meanwhile, so the
 * eviction clock (which only takes items nobody else references) cannot choose it, and the clock is
 * told which shard we hold (the `held` argument of the allocator) so it evicts from that shard
 * without locking it again. Page moves that would vacate a page are skipped while a shard is held
 * (store.c). Shards held by this thread's transaction are handled by shard_lock.h the same way.
 *
 * Expiry: plans speak cache_exp_t, which items store (item_exp, item_set_exp).
 *
 * Threads: any; lock order shard -> class (allocation) as everywhere in storage/.
 */
#include "config.h"

#include "storage/cache_internal.h"

#include <string.h>

/* ---- one replacement ---- */

/* The plan's starting point: old's flags, expiry and base64-key mark, or none. */
static void rmw_defaults(const struct item *old, struct cache_rmw_new *nw)
{
    memset(nw, 0, sizeof *nw);
    nw->exp = CACHE_EXP_NEVER;
    if (!old)
        return;
    nw->flags = item_client_flags(old);
    nw->exp = item_exp(old);
    nw->key_binary = item_key_binary(old);
}

/* The new item, allocated with old pinned against eviction (a saturated count pins it already). */
static struct item *rmw_alloc_locked(struct cache *c, struct ht_shard *sh, struct item *old, const char *key,
                                     size_t nkey, const struct cache_rmw_new *nw, enum cache_status *st)
{
    bool pinned = old && item_try_ref(old);
    struct item *it = cache_alloc_held(c, sh, key, nkey, nw->flags, nw->exp, nw->nbytes, st);

    if (pinned)
        cache_item_unref(c, old);
    return it;
}

/* The per-class counter the operation asked for: incr/decr hits in old's class (a hit only),
 * cmd_set in the class of the item now linked. */
static void rmw_count_locked(struct cache *c, struct ht_shard *sh, enum cache_rmw_count k,
                             const struct item *old, const struct item *now)
{
    if (k == CACHE_RMW_COUNT_INCR && old)
        sh->cls[slab_class_of(&c->slab, old)].incr_hits++;
    else if (k == CACHE_RMW_COUNT_DECR && old)
        sh->cls[slab_class_of(&c->slab, old)].decr_hits++;
    else if (k == CACHE_RMW_COUNT_SET && now)
        sh->cls[slab_class_of(&c->slab, now)].cmd_set++;
}

/* want_old: old with a reference for the caller (a read hit: counted, access marked), whatever
 * happens next. */
static void rmw_hand_old_locked(struct cache *c, struct ht_shard *sh, struct item *old,
                                struct cache_rmw_result *r)
{
    if (!old || !cache_ref_locked(c, old))
        return;
    sh->cls[slab_class_of(&c->slab, old)].get_hits++;
    cache_note_access_locked(c, old);
    r->old = old;
}

/* Whether the plan's value can be written into old itself (see the file comment). The state is read
 * with acquire: a reader's last read of the value happens before the release of its reference (an
 * atomic read-modify-write), so it happens before our write once we see that reference gone. */
static bool rmw_fits_in_place(const struct item *old, const struct cache_rmw_new *nw)
{
    uint16_t st;

    if (!nw->in_place || !old || nw->nbytes > item_nbytes(old) || nw->flags != item_client_flags(old))
        return false;
    st = (uint16_t)atomic_load_explicit(&old->state_cas, memory_order_acquire);
    return item_state_unshared(st);
}

/* Rewrites old in place: a new CAS unique first (false if it cannot take one: nothing changed), then
 * the value over old's whole length, the access time and the plan's expiry. */
static bool rmw_rewrite_locked(struct cache *c, struct ht_shard *sh, struct item *old,
                               const struct cache_rmw *op, const struct cache_rmw_new *nw)
{
    if (!cache_recas_locked(c, old))
        return false;
    op->fill(op->arg, old, item_value(old), item_nbytes(old));
    item_set_atime(old, cache_rel_time(c));
    if (nw->exp != item_exp(old))
        cache_set_exp_locked(sh, old, nw->exp);
    return true;
}

/* See cache_internal.h. */
enum cache_status cache_rmw_locked(struct cache *c, struct ht_shard *sh, uint64_t hash, const char *key,
                                   size_t nkey, struct item *old, const struct cache_rmw *op,
                                   struct cache_rmw_result *r)
{
    struct cache_rmw_new nw;
    enum cache_status st;
    struct item *it;

    memset(r, 0, sizeof *r);
    if (op->want_old)
        rmw_hand_old_locked(c, sh, old, r);
    rmw_defaults(old, &nw);
    st = op->plan(op->arg, old, &nw);
    if (st != CACHE_OK)
        return st;
    if (nw.unchanged) {
        r->cas = old ? item_cas(old) : 0;
        rmw_count_locked(c, sh, op->count, old, old);
        return CACHE_OK;
    }
    if (rmw_fits_in_place(old, &nw) && rmw_rewrite_locked(c, sh, old, op, &nw)) {
        rmw_count_locked(c, sh, op->count, old, old);
        r->cas = item_cas(old);
        r->in_place = true;
        return CACHE_OK;
    }
    it = rmw_alloc_locked(c, sh, old, key, nkey, &nw, &st);
    if (!it)
        return st;
    op->fill(op->arg, old, item_value(it), nw.nbytes);
    item_set_key_binary(it, nw.key_binary);
    rmw_count_locked(c, sh, op->count, old, it);
    cache_replace_locked(c, sh, hash, old, it);
    r->cas = item_cas(it);
    r->created = old == NULL;
    cache_item_unref(c, it);
    return CACHE_OK;
}

/* See cache.h. Takes the key's shard lock once. */
enum cache_status cache_rmw(struct cache *c, const char *key, size_t nkey, const struct cache_rmw *op,
                            struct cache_rmw_result *r)
{
    uint64_t hash = ht_hash(key, nkey);
    struct ht_shard *sh = ht_shard_of(&c->ht, hash);
    enum cache_status st;
    struct item *old;

    shard_lock(sh);
    cache_hot_note_locked(sh, hash, key, nkey, true);
    old = cache_find_live_locked(c, sh, hash, key, nkey, NULL);
    st = cache_rmw_locked(c, sh, hash, key, nkey, old, op, r);
    shard_unlock(sh);
    return st;
}
