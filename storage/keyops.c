/*
 * keyops.c: key operations Redis needs beyond memcached's: stores with SET's options (KEEPTTL, GET,
 * NX/XX), delete that hands back what it removed (GETDEL), expiry with EXPIRE's conditions and
 * PERSIST, and RENAME/RENAMENX.
 *
 * Each works under its key's shard lock as store.c does: find the live item (dead ones are unlinked
 * on the way and count as absent), decide, change in one step. An item handed back to the caller
 * carries a reference, counts as a get hit in its class and is marked accessed. Expiry changes are
 * written in place with item_set_exp under the shard lock (as memcached's touch does), so they
 * keep the CAS unique; cache_key_version (tx.c) mixes the expiry in for WATCH.
 *
 * Rename holds two shard locks: it opens a transaction over the two keys (tx.c: ascending shard
 * order, one lock when both keys share a shard) unless the caller's transaction holds them already,
 * and allocates the new item under both locks. The eviction clock then treats both shards as the
 * caller's (shard_lock.h: it evicts from them without locking, never waits for them), and the source
 * and the replaced destination are pinned with a reference so it cannot choose them.
 *
 * Expiry: the API speaks cache_exp_t, which items store (item_exp, item_set_exp).
 *
 * Threads: any; lock order: shards ascending, then class, then page, as everywhere in storage/.
 */
#include "config.h"

#include "storage/cache_internal.h"

#include <assert.h>
#include <string.h>

/* ---- shared ---- */

/* Hands the live item old to the caller with a reference: a get hit, accessed. NULL when there is
 * none (or no memory for a side-table reference). Caller holds sh->lock. */
static struct item *hand_back_locked(struct cache *c, struct ht_shard *sh, struct item *old)
{
    if (!old || !cache_ref_locked(c, old))
        return NULL;
    sh->cls[slab_class_of(&c->slab, old)].get_hits++;
    cache_note_access_locked(c, old);
    return old;
}

/* ---- SET options, GETDEL ---- */

/* See cache.h. */
enum cache_status cache_store_ex(struct cache *c, struct item *it, const struct cache_store_opts *o,
                                 struct cache_store_result *r)
{
    uint64_t hash = ht_hash(item_key(it), item_nkey(it));
    struct ht_shard *sh = ht_shard_of(&c->ht, hash);
    enum cache_status st;
    struct item *old;

    memset(r, 0, sizeof *r);
    shard_lock(sh);
    old = cache_find_live_locked(c, sh, hash, item_key(it), item_nkey(it), NULL);
    if (o->want_old)
        r->old = hand_back_locked(c, sh, old);
    if (o->keep_ttl && old)
        item_set_exp(it, item_exp(old)); /* it is still private */
    st = cache_store_locked(c, sh, hash, old, it, o->mode, o->cas_in, &r->cas);
    shard_unlock(sh);
    return st;
}

/* See cache.h. */
enum cache_status cache_delete_ex(struct cache *c, const char *key, size_t nkey, uint64_t cas,
                                  struct item **old)
{
    uint64_t hash = ht_hash(key, nkey);
    struct ht_shard *sh = ht_shard_of(&c->ht, hash);
    enum cache_status st = CACHE_NOT_FOUND;
    struct item *it;

    if (old)
        *old = NULL;
    shard_lock(sh);
    it = cache_find_live_locked(c, sh, hash, key, nkey, NULL);
    if (it && cas != 0 && item_cas(it) != cas) {
        st = CACHE_EXISTS;
    } else if (it) {
        if (old)
            *old = hand_back_locked(c, sh, it);
        sh->cls[slab_class_of(&c->slab, it)].delete_hits++;
        cache_unlink_locked(c, sh, hash, it);
        cache_item_unref(c, it);
        st = CACHE_OK;
    }
    shard_unlock(sh);
    return st;
}

/* ---- expiry ---- */

/* An expiry in the order of time, with "never" as infinite (Redis's rule for GT and LT). */
static uint64_t exp_rank(cache_exp_t e)
{
    return e == CACHE_EXP_NEVER ? UINT64_MAX : cache_exp_rel_ms(e);
}

/* Whether EXPIRE's condition allows replacing the expiry cur by exp. */
static bool expire_allowed(cache_exp_t cur, cache_exp_t exp, unsigned cond)
{
    if ((cond & CACHE_EXPIRE_NX) && cur != CACHE_EXP_NEVER)
        return false;
    if ((cond & CACHE_EXPIRE_XX) && cur == CACHE_EXP_NEVER)
        return false;
    if ((cond & CACHE_EXPIRE_GT) && !(exp_rank(exp) > exp_rank(cur)))
        return false;
    if ((cond & CACHE_EXPIRE_LT) && !(exp_rank(exp) < exp_rank(cur)))
        return false;
    return true;
}

/* The live item's expiry becomes exp (touch_hits, accessed). Caller holds sh->lock. */
static void set_expiry_locked(struct cache *c, struct ht_shard *sh, struct item *it, cache_exp_t exp)
{
    sh->cls[slab_class_of(&c->slab, it)].touch_hits++;
    cache_set_exp_locked(sh, it, exp);
    cache_note_access_locked(c, it);
}

/* cache_expire (unlink = false) and cache_expire_past (unlink = true). */
static enum cache_status expire_key(struct cache *c, const char *key, size_t nkey, cache_exp_t exp,
                                    unsigned cond, bool unlink)
{
    uint64_t hash = ht_hash(key, nkey);
    struct ht_shard *sh = ht_shard_of(&c->ht, hash);
    enum cache_status st = CACHE_NOT_FOUND;
    struct item *it;

    shard_lock(sh);
    it = cache_find_live_locked(c, sh, hash, key, nkey, NULL);
    if (it && !expire_allowed(item_exp(it), exp, cond)) {
        st = CACHE_NOT_STORED;
    } else if (it && unlink) {
        sh->cls[slab_class_of(&c->slab, it)].delete_hits++;
        cache_unlink_locked(c, sh, hash, it);
        cache_item_unref(c, it);
        st = CACHE_OK;
    } else if (it) {
        set_expiry_locked(c, sh, it, exp);
        st = CACHE_OK;
    }
    shard_unlock(sh);
    return st;
}

/* See cache.h. */
enum cache_status cache_expire(struct cache *c, const char *key, size_t nkey, cache_exp_t exp,
                               unsigned cond)
{
    return expire_key(c, key, nkey, exp, cond, false);
}

/* See cache.h. */
enum cache_status cache_expire_past(struct cache *c, const char *key, size_t nkey, cache_exp_t exp,
                                    unsigned cond)
{
    return expire_key(c, key, nkey, exp, cond, true);
}

/* See cache.h. */
enum cache_status cache_persist(struct cache *c, const char *key, size_t nkey)
{
    return expire_key(c, key, nkey, CACHE_EXP_NEVER, CACHE_EXPIRE_XX, false);
}

/* ---- rename ---- */

struct rename_keys {
    const char *src, *dst;
    size_t nsrc, ndst;
    uint64_t shash, dhash;
    struct ht_shard *ssh, *dsh;
};

/* A copy of src under the key dst (value, flags, expiry), allocated with src and the item it will
 * replace pinned against eviction. NULL with *st set. */
static struct item *rename_copy_locked(struct cache *c, const struct rename_keys *k, struct item *src,
                                       struct item *replaced, enum cache_status *st)
{
    bool pin_src = item_try_ref(src), pin_dst = replaced && item_try_ref(replaced);
    struct item *nw = cache_alloc_held(c, k->ssh, k->dst, k->ndst, item_client_flags(src), item_exp(src),
                                       item_nbytes(src), st);

    if (pin_src)
        cache_item_unref(c, src);
    if (pin_dst)
        cache_item_unref(c, replaced);
    if (nw)
        memcpy(item_value(nw), item_value_const(src), item_nbytes(src));
    return nw;
}

/* Rename under both shard locks. */
static enum cache_status rename_locked(struct cache *c, const struct rename_keys *k, bool nx,
                                       uint64_t *cas_out)
{
    struct item *src = cache_find_live_locked(c, k->ssh, k->shash, k->src, k->nsrc, NULL);
    struct item *dst, *nw;
    enum cache_status st;

    if (!src)
        return CACHE_NOT_FOUND;
    if (k->nsrc == k->ndst && memcmp(k->src, k->dst, k->nsrc) == 0) {
        *cas_out = item_cas(src);
        return nx ? CACHE_NOT_STORED : CACHE_OK; /* Redis 7.0: RENAME answers OK, RENAMENX 0 */
    }
    dst = cache_find_live_locked(c, k->dsh, k->dhash, k->dst, k->ndst, NULL);
    if (dst && nx)
        return CACHE_NOT_STORED;
    nw = rename_copy_locked(c, k, src, dst, &st);
    if (!nw)
        return st;
    k->dsh->cls[slab_class_of(&c->slab, nw)].cmd_set++;
    item_state_set(nw, (uint16_t)(item_state(src) & ITEM_ACTIVE));
    cache_replace_locked(c, k->dsh, k->dhash, dst, nw);
    cache_unlink_locked(c, k->ssh, k->shash, src);
    cache_item_unref(c, src);
    *cas_out = item_cas(nw);
    cache_item_unref(c, nw);
    return CACHE_OK;
}

/* COPY under both shard locks. */
static enum cache_status copy_locked(struct cache *c, const struct rename_keys *k, bool replace,
                                     uint64_t *cas_out)
{
    struct item *src, *dst, *nw;
    enum cache_status st;

    if (k->nsrc == k->ndst && memcmp(k->src, k->dst, k->nsrc) == 0)
        return CACHE_NOT_STORED; /* the caller refuses it first, as Redis does */
    src = cache_find_live_locked(c, k->ssh, k->shash, k->src, k->nsrc, NULL);
    if (!src)
        return CACHE_NOT_FOUND;
    dst = cache_find_live_locked(c, k->dsh, k->dhash, k->dst, k->ndst, NULL);
    if (dst && !replace)
        return CACHE_NOT_STORED;
    nw = rename_copy_locked(c, k, src, dst, &st);
    if (!nw)
        return st;
    k->dsh->cls[slab_class_of(&c->slab, nw)].cmd_set++;
    cache_replace_locked(c, k->dsh, k->dhash, dst, nw);
    *cas_out = item_cas(nw);
    cache_item_unref(c, nw);
    return CACHE_OK;
}

/* Runs rename (copy false) or copy (flag: nx for rename, replace for copy) under both keys' shard
 * locks, taken in a transaction unless the caller's covers them. */
static enum cache_status two_keys(struct cache *c, const char *src, size_t nsrc, const char *dst, size_t ndst,
                                  bool copy, bool flag, uint64_t *cas_out)
{
    struct rename_keys k = {.src = src, .dst = dst, .nsrc = nsrc, .ndst = ndst};
    bool own = !cache_tx_cur; /* inside the caller's transaction its locks cover both keys */
    uint64_t cas = 0, hashes[2];
    enum cache_status st;

    k.shash = hashes[0] = ht_hash(src, nsrc);
    k.dhash = hashes[1] = ht_hash(dst, ndst);
    k.ssh = ht_shard_of(&c->ht, k.shash);
    k.dsh = ht_shard_of(&c->ht, k.dhash);
    assert((own || cache_tx_active(c)) && "a transaction on another cache is open");
    if (own)
        cache_tx_begin(c, hashes, 2);
    shard_lock(k.ssh); /* held: no-ops that check the caller's transaction declared both keys */
    shard_lock(k.dsh);
    st = copy ? copy_locked(c, &k, flag, &cas) : rename_locked(c, &k, flag, &cas);
    shard_unlock(k.dsh);
    shard_unlock(k.ssh);
    if (own)
        cache_tx_end(c);
    if (cas_out)
        *cas_out = st == CACHE_OK ? cas : 0;
    return st;
}

/* See cache.h. */
enum cache_status cache_rename(struct cache *c, const char *src, size_t nsrc, const char *dst, size_t ndst,
                               bool nx, uint64_t *cas_out)
{
    return two_keys(c, src, nsrc, dst, ndst, false, nx, cas_out);
}

/* See cache.h. */
enum cache_status cache_copy(struct cache *c, const char *src, size_t nsrc, const char *dst, size_t ndst,
                             bool replace, uint64_t *cas_out)
{
    return two_keys(c, src, nsrc, dst, ndst, true, replace, cas_out);
}
