/*
 * reclaim.c: background reclaim of expired and flushed items.
 *
 * A resumable cursor (shard, scan position) walks every shard's buckets, old table first while the
 * shard grows (see ht_scan_slot_locked). Each shard lock is held for at most RECLAIM_BATCH buckets,
 * so a reclaim pass never stalls requests for long. Items that move from an unvisited old bucket into
 * an already visited new one during growth are simply found on the next pass.
 *
 * Threads: any; concurrent callers serialise on reclaim_lock (taken before any shard lock).
 */
#include "config.h"

#include "storage/cache_internal.h"

#define RECLAIM_BATCH 64u           /* buckets per shard lock hold */
#define RECLAIM_BUCKETS_PER_ITEM 16u /* bucket budget per item of max_items */

/* Unlinks the dead items of one chain; counts visits in *visited. Caller holds sh->lock. */
static size_t reclaim_chain_locked(struct cache *c, struct ht_shard *sh, uint32_t head,
                                   uint32_t now, size_t *visited)
{
    size_t n = 0;

    while (head) {
        struct item *it = slab_item(&c->slab, head);
        enum cache_miss_reason why = cache_item_dead_locked(c, it, now);

        head = it->h_next;
        (*visited)++;
        if (why == CACHE_MISS_NONE)
            continue;
        struct ht_class_count *k = &sh->cls[slab_class_of(&c->slab, it)];

        k->reclaimed++;
        if (why == CACHE_MISS_EXPIRED && !(item_state(it) & ITEM_FETCHED))
            k->expired_unfetched++;
        cache_unlink_locked(c, sh, ht_hash(item_key(it), item_nkey(it)), it);
        cache_item_unref(c, it);
        n++;
    }
    return n;
}

/* One batch of buckets of the cursor's shard; counts buckets in *buckets. Returns true when the
 * shard is finished. */
static bool reclaim_batch(struct cache *c, size_t max_items, size_t *visited, size_t *buckets,
                          size_t *reclaimed)
{
    struct ht_shard *sh = &c->ht.shards[c->reclaim_shard];
    uint32_t now = cache_rel_time(c);
    unsigned b;
    bool done;

    shard_lock(sh);
    for (b = 0; b < RECLAIM_BATCH && *visited < max_items; b++) {
        if (c->reclaim_pos >= ht_scan_size_locked(sh))
            break;
        *reclaimed += reclaim_chain_locked(c, sh, *ht_scan_slot_locked(sh, c->reclaim_pos++), now,
                                           visited);
        (*buckets)++;
    }
    done = c->reclaim_pos >= ht_scan_size_locked(sh);
    shard_unlock(sh);
    return done;
}

/* See cache.h. Stops after max_items items, RECLAIM_BUCKETS_PER_ITEM * max_items buckets (so a
 * sparse table costs little per call) or one full pass over all shards, whichever comes first. */
size_t cache_reclaim(struct cache *c, size_t max_items)
{
    unsigned nshards = ht_nshards(&c->ht);
    size_t visited = 0, buckets = 0, reclaimed = 0;
    size_t max_buckets = max_items * RECLAIM_BUCKETS_PER_ITEM;
    unsigned finished = 0;

    if (max_buckets / RECLAIM_BUCKETS_PER_ITEM != max_items)
        max_buckets = SIZE_MAX;
    pthread_mutex_lock(&c->reclaim_lock);
    while (visited < max_items && buckets < max_buckets && finished <= nshards) {
        if (reclaim_batch(c, max_items, &visited, &buckets, &reclaimed)) {
            c->reclaim_pos = 0;
            c->reclaim_shard = (c->reclaim_shard + 1) % nshards;
            finished++;
        }
    }
    pthread_mutex_unlock(&c->reclaim_lock);
    return reclaimed;
}

/* See cache.h. A whole pass with its own position: no reclaim_lock (so a transaction holding shard
 * locks may call it: the locks it holds are skipped by shard_lock, the others taken one batch at a
 * time, never while waiting for reclaim_lock, which cache_reclaim takes before shard locks). */
size_t cache_purge_dead(struct cache *c)
{
    size_t reclaimed = 0, visited = 0;

    for (unsigned i = 0; i < ht_nshards(&c->ht); i++) {
        struct ht_shard *sh = &c->ht.shards[i];
        size_t pos = 0;
        bool done = false;

        while (!done) {
            uint32_t now = cache_rel_time(c);

            shard_lock(sh);
            for (unsigned b = 0; b < RECLAIM_BATCH && pos < ht_scan_size_locked(sh); b++)
                reclaimed += reclaim_chain_locked(c, sh, *ht_scan_slot_locked(sh, pos++), now, &visited);
            done = pos >= ht_scan_size_locked(sh);
            shard_unlock(sh);
        }
    }
    return reclaimed;
}
