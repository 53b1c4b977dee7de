/*
 * stats.c: summing the storage engine's counters on demand.
 *
 * Counters live where they are changed, under the lock already held there: per shard (items, bytes,
 * total_items, and per class the linked count and reclaim figures of lazy/background reclaim) and per
 * slab class (pages, chunks, eviction figures, reclaim by the eviction clock). Nothing on the hot path
 * pays for an atomic. Reading takes each lock briefly, one at a time, so the sums are a near-instant
 * snapshot rather than an exact one.
 *
 * Threads: any.
 */
#include "config.h"

#include "storage/cache_internal.h"

#include <string.h>

static unsigned floor_log2(uint64_t v)
{
    unsigned n = 0;

    while (v > 1) {
        v >>= 1;
        n++;
    }
    return n;
}

static void stats_add_shards(struct cache *c, struct cache_stats *s)
{
    uint64_t buckets = 0;
    unsigned i, k;

    for (i = 0; i < ht_nshards(&c->ht); i++) {
        struct ht_shard *sh = &c->ht.shards[i];

        shard_lock(sh);
        s->curr_items += sh->count;
        s->expires += sh->expires;
        s->bytes += sh->bytes;
        s->total_items += sh->total_items;
        for (k = 1; k <= c->slab.nclasses; k++) {
            s->reclaimed += sh->cls[k].reclaimed;
            s->expired_unfetched += sh->cls[k].expired_unfetched;
        }
        buckets += (uint64_t)1 << sh->power;
        s->hash_bytes += ((uint64_t)1 << sh->power) * sizeof(uint32_t);
        if (sh->old) {
            s->hash_bytes += ((uint64_t)1 << sh->old_power) * sizeof(uint32_t);
            s->hash_is_expanding = 1;
        }
        shard_unlock(sh);
    }
    s->hash_power_level = floor_log2(buckets);
}

static void stats_add_classes(struct cache *c, struct cache_stats *s)
{
    unsigned k;

    for (k = 1; k <= c->slab.nclasses; k++) {
        struct slab_class *cls = &c->slab.classes[k];

        pthread_mutex_lock(&cls->lock);
        s->evictions += cls->evicted;
        s->evicted_unfetched += cls->evicted_unfetched;
        s->evicted_active += cls->evicted_active;
        s->expired_unfetched += cls->expired_unfetched;
        s->reclaimed += cls->reclaimed;
        s->curr_pages += cls->npages;
        s->slabs_moved += cls->pages_moved_in;
        s->rescues += cls->rescues;
        s->busy_items += cls->busy_items;
        pthread_mutex_unlock(&cls->lock);
    }
}

/* See cache.h. */
void cache_stats_get(struct cache *c, struct cache_stats *s)
{
    memset(s, 0, sizeof *s);
    stats_add_shards(c, s);
    stats_add_classes(c, s);
    pthread_mutex_lock(&c->slab.page_lock);
    s->limit_maxbytes = c->slab.limit_bytes;
    s->total_pages = c->slab.total_pages;
    s->pool_pages = c->slab.nfree;
    pthread_mutex_unlock(&c->slab.page_lock);
    s->total_malloced = s->curr_pages * c->slab.page_size;
}

/* See cache.h. */
unsigned cache_class_count(const struct cache *c)
{
    return c->slab.nclasses;
}

/* now - atime of the first linked item at or after the clock hand (within one page), or 0. */
static uint64_t class_age_locked(struct cache *c, struct slab_class *cls)
{
    uint32_t now = cache_rel_time(c);
    uint32_t i, chunk = cls->hand_chunk;

    if (cls->npages == 0)
        return 0;
    for (i = 0; i < cls->perpage; i++, chunk = (chunk + 1) % cls->perpage) {
        struct item *it = slab_chunk_at(&c->slab, cls, cls->hand_page, chunk);
        /* Acquire: a page move fills a chunk of this class (under another class's lock) and then
         * stores its state; the atime read below must see that copy. */
        uint16_t st = (uint16_t)atomic_load_explicit(&it->state_cas, memory_order_acquire);

        if (st & ITEM_LINKED) {
            uint32_t at = item_atime(it);

            return now >= at ? now - at : 0;
        }
    }
    return 0;
}

/* Adds the per-shard counters of class id (items and operations) into s. */
static void stats_add_class_ops(struct cache *c, unsigned id, struct cache_class_stats *s)
{
    unsigned i;

    for (i = 0; i < ht_nshards(&c->ht); i++) {
        struct ht_shard *sh = &c->ht.shards[i];
        const struct ht_class_count *k = &sh->cls[id];

        shard_lock(sh);
        s->number += k->number;
        s->reclaimed += k->reclaimed;
        s->expired_unfetched += k->expired_unfetched;
        s->get_hits += k->get_hits;
        s->cmd_set += k->cmd_set;
        s->delete_hits += k->delete_hits;
        s->incr_hits += k->incr_hits;
        s->decr_hits += k->decr_hits;
        s->cas_hits += k->cas_hits;
        s->cas_badval += k->cas_badval;
        s->touch_hits += k->touch_hits;
        shard_unlock(sh);
    }
}

/* See cache.h. An id out of range gives all zeroes. */
void cache_class_stats_get(struct cache *c, unsigned id, struct cache_class_stats *s)
{
    struct slab_class *cls;

    memset(s, 0, sizeof *s);
    if (id < 1 || id > c->slab.nclasses)
        return;
    cls = &c->slab.classes[id];
    pthread_mutex_lock(&cls->lock);
    s->chunk_size = cls->size;
    s->chunks_per_page = cls->perpage;
    s->total_pages = cls->npages;
    s->total_chunks = (uint64_t)cls->npages * cls->perpage;
    s->free_chunks = cls->free_count + cls->carve_left;
    s->free_chunks_end = cls->carve_left;
    s->used_chunks = s->total_chunks - s->free_chunks;
    s->mem_requested = cls->mem_requested;
    s->age = class_age_locked(c, cls);
    s->evicted = cls->evicted;
    s->evicted_nonzero = cls->evicted_nonzero;
    s->evicted_time = cls->evicted_time;
    s->evicted_unfetched = cls->evicted_unfetched;
    s->evicted_active = cls->evicted_active;
    s->expired_unfetched = cls->expired_unfetched;
    s->reclaimed = cls->reclaimed;
    s->outofmemory = cls->outofmemory;
    pthread_mutex_unlock(&cls->lock);
    stats_add_class_ops(c, id, s);
}

/* See cache.h: evictions, reclaims, total_items, the evicted_* and expired_unfetched counters and
 * outofmemory and slabs_moved go to zero; curr_items, bytes and memory figures do not. */
void cache_stats_reset(struct cache *c)
{
    unsigned i, k;

    for (i = 0; i < ht_nshards(&c->ht); i++) {
        struct ht_shard *sh = &c->ht.shards[i];

        shard_lock(sh);
        sh->total_items = 0;
        for (k = 1; k <= c->slab.nclasses; k++) {
            uint64_t number = sh->cls[k].number;

            memset(&sh->cls[k], 0, sizeof sh->cls[k]);
            sh->cls[k].number = number;
        }
        shard_unlock(sh);
    }
    for (k = 1; k <= c->slab.nclasses; k++) {
        struct slab_class *cls = &c->slab.classes[k];

        pthread_mutex_lock(&cls->lock);
        cls->evicted = cls->evicted_nonzero = cls->evicted_time = 0;
        cls->evicted_unfetched = cls->evicted_active = 0;
        cls->expired_unfetched = cls->reclaimed = cls->outofmemory = 0;
        cls->pages_moved_in = cls->rescues = cls->busy_items = 0;
        pthread_mutex_unlock(&cls->lock);
    }
}
