/*
 * meta.c: the storage side of memcached's meta commands (see meta.h): mg's lookup with touch, recache
 * tokens and stale items; md's invalidation; ms's stale-CAS store and CAS-checked append; ma's
 * incr/decr with a CAS check, TTL and creation; me's peek.
 *
 * Every operation works under the key's shard lock only, as store.c does: it finds the live item
 * (dead ones are unlinked on the way), decides, and replaces or marks in one step, so the token
 * decisions (ITEM_WON, ITEM_STALE) are made once per item by exactly one request. Linked items are
 * never rewritten in place except for the state word's flag bits and the expiry/atime fields, which
 * the item.h accessors write atomically, and ma's number when nobody but the table holds the item
 * (rmw.c): invalidation links a new copy, so a reader holding the old item keeps a consistent value
 * and CAS unique.
 *
 * Item fields are read and written only through the item.h accessors (the header layout is private
 * to the allocator). Allocating while holding the shard lock pins the old item with one extra
 * reference, so the eviction clock cannot take it (see store.c).
 *
 * append/prepend, replacing and allocating use store.c's helpers (cache_internal.h), under the shard
 * lock this file already holds for the CAS check and the new TTL. incr/decr go through rmw.c's
 * cache_rmw_locked with the plan and fill the protocol passes in the options (memcached's number
 * rules are protocol/mc/mc_arith.c's); this file adds ma's expiry rules around them.
 *
 * Threads: any; lock order shard -> class (allocation) as everywhere in storage/.
 */
#include "config.h"

#include "storage/meta.h"

#include <string.h>

#include "storage/cache_internal.h"

/* ---- helpers (caller holds the shard lock) ---- */

/* ---- mg ---- */

/* N on a miss: links an empty item (flags 0) whose token the caller wins. Returns it with the
 * caller's reference, or NULL (*st set). */
static struct item *meta_create_locked(struct cache *c, struct ht_shard *sh, uint64_t hash, const char *key,
                                       size_t nkey, cache_exp_t exp, enum cache_status *st)
{
    struct item *it = cache_alloc_held(c, sh, key, nkey, 0, exp, 0, st);

    if (!it)
        return NULL;
    cache_link_locked(c, sh, hash, it);
    item_state_set(it, ITEM_WON);
    return it;
}

/* The token flags of a hit: Z if someone holds the token, X if stale, W if this request wins
 * (stale without a holder, or R with the expiry earlier than the recache time). */
static void meta_decide_tokens(struct item *it, const struct cache_meta_get_opts *o,
                               struct cache_meta_info *info)
{
    uint16_t state = item_state(it);
    bool held = (state & ITEM_WON) != 0;
    cache_exp_t exp = o->set_ttl && o->recache_after_ttl ? o->ttl : info->exptime_before;

    info->already_won = held;
    info->stale = (state & ITEM_STALE) != 0;
    if (!held && o->recache && exp != CACHE_EXP_NEVER && exp < o->recache_time)
        info->won = true;
    if (!held && info->stale)
        info->won = true;
    if (info->won)
        item_state_set(it, ITEM_WON);
}

/* See meta.h. */
struct item *cache_meta_get(struct cache *c, const char *key, size_t nkey,
                            const struct cache_meta_get_opts *o, struct cache_meta_info *info)
{
    uint64_t hash = ht_hash(key, nkey);
    struct ht_shard *sh = ht_shard_of(&c->ht, hash);
    struct item *it;

    memset(info, 0, sizeof(*info));
    info->status = CACHE_OK;
    shard_lock(sh);
    cache_hot_note_locked(sh, hash, key, nkey, false);
    it = cache_find_live_locked(c, sh, hash, key, nkey, &info->why);
    if (!it && o->vivify) {
        it = meta_create_locked(c, sh, hash, key, nkey, o->vivify_exptime, &info->status);
        if (it && o->no_tokens)
            item_state_clear(it, ITEM_WON);
        if (it) {
            info->created = true;
            info->won = !o->no_tokens;
            info->atime_before = item_atime(it);
            sh->cls[slab_class_of(&c->slab, it)].get_hits++;
            if (!o->no_update)
                cache_note_access_locked(c, it); /* memcached counts the creating mg as a fetch */
        }
        shard_unlock(sh);
        return it;
    }
    if (!it) {
        info->status = CACHE_NOT_FOUND;
        shard_unlock(sh);
        return NULL;
    }
    info->exptime_before = item_exp(it);
    info->atime_before = item_atime(it);
    info->fetched_before = (item_state(it) & ITEM_FETCHED) != 0;
    if (!o->no_tokens)
        meta_decide_tokens(it, o, info);
    if (o->set_ttl) {
        cache_set_exp_locked(sh, it, o->ttl);
        sh->cls[slab_class_of(&c->slab, it)].touch_hits++;
    } else {
        sh->cls[slab_class_of(&c->slab, it)].get_hits++;
    }
    if (!o->no_update)
        cache_note_access_locked(c, it);
    if (!cache_ref_locked(c, it))
        it = NULL; /* no memory for a side-table reference */
    shard_unlock(sh);
    return it;
}

/* See meta.h. */
struct item *cache_meta_peek(struct cache *c, const char *key, size_t nkey)
{
    uint64_t hash = ht_hash(key, nkey);
    struct ht_shard *sh = ht_shard_of(&c->ht, hash);
    struct item *it;

    shard_lock(sh);
    it = cache_find_live_locked(c, sh, hash, key, nkey, NULL);
    if (it && !cache_ref_locked(c, it)) /* no access marks: me is not a fetch */
        it = NULL;
    shard_unlock(sh);
    return it;
}

/* ---- md ---- */

/* Replaces old by a copy marked stale: same value and flags, token cleared, new CAS unique, atime
 * kept; expiry set when set_ttl. */
static enum cache_status meta_mark_stale_locked(struct cache *c, struct ht_shard *sh, uint64_t hash,
                                                struct item *old, bool set_ttl, cache_exp_t ttl)
{
    enum cache_status st;
    cache_exp_t exp = set_ttl ? ttl : item_exp(old);
    uint32_t atime = item_atime(old);
    uint16_t fetched = (uint16_t)(item_state(old) & ITEM_FETCHED);
    struct item *nw = cache_alloc_like_locked(c, sh, old, exp, item_nbytes(old), &st);

    if (!nw)
        return st;
    memcpy(item_value(nw), item_value_const(old), item_nbytes(old));
    item_set_key_binary(nw, item_key_binary(old)); /* memcached marks stale in place */
    item_state_set(nw, (uint16_t)(ITEM_STALE | fetched));
    cache_replace_locked(c, sh, hash, old, nw);
    item_set_atime(nw, atime);
    cache_item_unref(c, nw);
    return CACHE_OK;
}

/* See meta.h. A real delete counts delete_hits in the item's class. */
enum cache_status cache_meta_delete(struct cache *c, const char *key, size_t nkey, bool has_cas, uint64_t cas,
                                    bool stale, bool set_ttl, cache_exp_t exp)
{
    uint64_t hash = ht_hash(key, nkey);
    struct ht_shard *sh = ht_shard_of(&c->ht, hash);
    enum cache_status st = CACHE_NOT_FOUND;
    struct item *it;

    shard_lock(sh);
    cache_hot_note_locked(sh, hash, key, nkey, true);
    it = cache_find_live_locked(c, sh, hash, key, nkey, NULL);
    if (it && has_cas && item_cas(it) != cas) {
        st = CACHE_EXISTS;
    } else if (it && stale) {
        st = meta_mark_stale_locked(c, sh, hash, it, set_ttl, exp);
    } else if (it) {
        sh->cls[slab_class_of(&c->slab, it)].delete_hits++;
        cache_unlink_locked(c, sh, hash, it);
        cache_item_unref(c, it);
        st = CACHE_OK;
    }
    shard_unlock(sh);
    return st;
}

/* ---- ms ---- */

/* CAS mode: a matching nonzero unique replaces; with set_stale an older one replaces too, as a
 * stale item that keeps old's expiry and token; anything else (0 included) is CACHE_EXISTS. */
static enum cache_status meta_cas_stale_locked(struct cache *c, struct ht_shard *sh, uint64_t hash,
                                               struct item *old, struct item *it, uint64_t cas_in,
                                               bool set_stale, uint64_t *cas_out)
{
    uint64_t cur = item_cas(old);

    if (cas_in == 0 || cas_in > cur || (cas_in < cur && !set_stale)) {
        sh->cls[slab_class_of(&c->slab, old)].cas_badval++;
        return CACHE_EXISTS;
    }
    if (cas_in < cur) {
        item_set_exp(it, item_exp(old));
        item_state_set(it, (uint16_t)(ITEM_STALE | (item_state(old) & ITEM_WON)));
    }
    sh->cls[slab_class_of(&c->slab, old)].cas_hits++;
    cache_replace_locked(c, sh, hash, old, it);
    *cas_out = item_cas(it);
    return CACHE_OK;
}

/* The store cases cache_store() does not cover (CAS with I or with 0, append/prepend with a CAS),
 * under one shard lock. */
static enum cache_status meta_store_locked(struct cache *c, struct item *it, enum cache_store_mode mode,
                                           uint64_t cas_in, bool set_stale, uint64_t *cas_out)
{
    uint64_t hash = ht_hash(item_key(it), item_nkey(it));
    struct ht_shard *sh = ht_shard_of(&c->ht, hash);
    enum cache_status st;
    struct item *old;

    shard_lock(sh);
    cache_hot_note_locked(sh, hash, item_key(it), item_nkey(it), true);
    old = cache_find_live_locked(c, sh, hash, item_key(it), item_nkey(it), NULL);
    sh->cls[slab_class_of(&c->slab, it)].cmd_set++;
    if (!old)
        st = mode == CACHE_CAS ? CACHE_NOT_FOUND : CACHE_NOT_STORED;
    else if (mode == CACHE_CAS)
        st = meta_cas_stale_locked(c, sh, hash, old, it, cas_in, set_stale, cas_out);
    else if (item_cas(old) != cas_in)
        st = CACHE_EXISTS;
    else
        st = cache_join_locked(c, sh, hash, old, it, mode == CACHE_APPEND, cas_out);
    shard_unlock(sh);
    return st;
}

/* See meta.h. */
enum cache_status cache_meta_store(struct cache *c, struct item *it, enum cache_store_mode mode,
                                   uint64_t cas_in, bool set_stale, uint64_t *cas_out)
{
    uint64_t cas = 0;
    enum cache_status st;
    bool joined = (mode == CACHE_APPEND || mode == CACHE_PREPEND) && cas_in != 0;

    /* CAS 0 never matches, even an item stored without a unique (-C): memcached's "no CAS". */
    if ((mode == CACHE_CAS && (set_stale || cas_in == 0)) || joined)
        st = meta_store_locked(c, it, mode, cas_in, set_stale, &cas);
    else
        st = cache_store(c, it, mode, cas_in, &cas);
    if (cas_out)
        *cas_out = st == CACHE_OK ? cas : 0;
    return st;
}

/* ---- ma ---- */

/* The expiries come as cache_exp_t already. */
static cache_exp_t meta_exp(cache_exp_t e)
{
    return e;
}

/* ma's plan: the protocol's (the number and its length), then ma's expiry: vivify_exptime for a
 * created item, else old's (rmw's default; T is applied afterwards, see meta_arith_locked). */
static enum cache_status meta_arith_plan(void *arg, const struct item *old, struct cache_rmw_new *nw)
{
    const struct cache_meta_arith_opts *o = arg;
    enum cache_status st = o->rmw->plan(o->rmw->arg, old, nw);

    if (!old)
        nw->exp = meta_exp(o->vivify_exptime);
    return st;
}

static void meta_arith_fill(void *arg, const struct item *old, char *value, size_t nbytes)
{
    const struct cache_meta_arith_opts *o = arg;

    o->rmw->fill(o->rmw->arg, old, value, nbytes);
}

/* incr/decr of the live item old, or creation (old NULL), through the protocol's plan and fill;
 * the per-class incr_hits/decr_hits count in old's class (cache_rmw's counter). T sets the expiry
 * of old only when it was rewritten in place: memcached applies T to the item its do_add_delta
 * handed back, which is the old one, unlinked, when the number was relinked in a new item (the
 * reply's t still shows the T value, mc_meta.c). */
static enum cache_status meta_arith_locked(struct cache *c, struct ht_shard *sh, uint64_t hash,
                                           const char *key, size_t nkey, struct item *old,
                                           const struct cache_meta_arith_opts *o,
                                           struct cache_meta_arith_result *r)
{
    struct cache_rmw op = {
        .plan = meta_arith_plan, .fill = meta_arith_fill, .arg = (void *)o, .count = o->rmw->count};
    struct cache_rmw_result rr;
    enum cache_status st = cache_rmw_locked(c, sh, hash, key, nkey, old, &op, &rr);

    if (st == CACHE_OK && rr.in_place && o->set_ttl)
        cache_set_exp_locked(sh, old, meta_exp(o->ttl));
    r->cas = rr.cas;
    r->created = rr.created;
    return st;
}

/* See meta.h. */
enum cache_status cache_meta_arith(struct cache *c, const char *key, size_t nkey,
                                   const struct cache_meta_arith_opts *o, struct cache_meta_arith_result *r)
{
    uint64_t hash = ht_hash(key, nkey);
    struct ht_shard *sh = ht_shard_of(&c->ht, hash);
    enum cache_status st;
    struct item *old;

    memset(r, 0, sizeof(*r));
    shard_lock(sh);
    cache_hot_note_locked(sh, hash, key, nkey, true);
    old = cache_find_live_locked(c, sh, hash, key, nkey, NULL);
    if (!old && o->vivify) {
        st = meta_arith_locked(c, sh, hash, key, nkey, NULL, o, r);
    } else if (!old) {
        st = CACHE_NOT_FOUND;
    } else if (item_nbytes(old) == 0 || (o->refuse && o->refuse(o->rmw->arg, old))) {
        st = CACHE_NON_NUMERIC; /* memcached refuses an empty value before comparing the CAS */
    } else if (o->has_cas && item_cas(old) != o->cas) {
        st = CACHE_EXISTS;
    } else {
        r->exptime_before = item_exp(old);
        st = meta_arith_locked(c, sh, hash, key, nkey, old, o, r);
    }
    shard_unlock(sh);
    return st;
}
