/*
 * hashtable.c: the sharded, incrementally growing hash table of linked items.
 *
 * Data structure (see hashtable_internal.h): per shard, an array of 32-bit bucket heads (arena
 * handles) and, while growing, the old array being emptied a few buckets per operation. Chains run
 * through item->h_next, so the table costs 4 bytes per bucket and nothing per item.
 *
 * Invariants: a linked item is in exactly one chain: old[hash & old_mask] if that index is at least
 * migrate_pos, else buckets[hash & mask]. The table owns no items: linking, reference counts and
 * statistics are the cache's business (cache.c); this file only moves handles.
 *
 * Threads: the caller holds the shard's lock for every _locked function.
 */
#include "config.h"

#include "storage/hashtable_internal.h"
#include "storage/hotkeys.h"

#include <stdlib.h>
#include <string.h>
#include <xxhash.h>

/* The 64-bit XXH3 hash of a key. Pure. */
uint64_t ht_hash(const char *key, size_t nkey)
{
    return XXH3_64bits(key, nkey);
}

/*
 * Allocates every shard's first bucket array and per-class counters. Returns 0, or -1 (everything
 * already allocated is freed by ht_deinit, which the caller runs on failure).
 */
int ht_init(struct ht *t, unsigned shard_bits, unsigned power, const struct slab *slab,
            unsigned nclasses)
{
    unsigned i, n;

    memset(t, 0, sizeof *t);
    if (shard_bits > HT_SHARD_BITS_MAX || power < 1 || power > HT_POWER_MAX)
        return -1;
    n = 1u << shard_bits;
    t->shards = calloc(n, sizeof *t->shards);
    if (!t->shards)
        return -1;
    t->shard_bits = shard_bits;
    t->slab = slab;
    for (i = 0; i < n; i++) {
        struct ht_shard *sh = &t->shards[i];

        pthread_mutex_init(&sh->lock, NULL);
        sh->power = power;
        sh->buckets = calloc((size_t)1 << power, sizeof *sh->buckets);
        sh->cls = calloc(nclasses + 1, sizeof *sh->cls);
        sh->hot = calloc(1, sizeof *sh->hot);
        if (!sh->buckets || !sh->cls || !sh->hot)
            return -1;
    }
    return 0;
}

/* Frees the shards' arrays and locks. */
void ht_deinit(struct ht *t)
{
    unsigned i;

    if (!t->shards)
        return;
    for (i = 0; i < ht_nshards(t); i++) {
        free(t->shards[i].buckets);
        free(t->shards[i].old);
        free(t->shards[i].cls);
        free(t->shards[i].hot);
        pthread_mutex_destroy(&t->shards[i].lock);
    }
    free(t->shards);
    memset(t, 0, sizeof *t);
}

/* The chain head slot where a key of this hash lives now. */
static uint32_t *ht_slot_locked(struct ht_shard *sh, uint64_t hash)
{
    if (sh->old) {
        size_t ob = hash & (((size_t)1 << sh->old_power) - 1);

        if (ob >= sh->migrate_pos)
            return &sh->old[ob];
    }
    return &sh->buckets[hash & (((size_t)1 << sh->power) - 1)];
}

/* Moves one old bucket's chain into the new table. */
static void ht_move_bucket_locked(struct ht *t, struct ht_shard *sh, size_t b)
{
    uint32_t h = sh->old[b];
    size_t mask = ((size_t)1 << sh->power) - 1;

    while (h) {
        struct item *it = slab_item(t->slab, h);
        uint32_t next = it->h_next;
        size_t nb = ht_hash(item_key(it), item_nkey(it)) & mask;

        it->h_next = sh->buckets[nb];
        sh->buckets[nb] = h;
        h = next;
    }
    sh->old[b] = 0;
}

/* See hashtable_internal.h. */
void ht_migrate_locked(struct ht *t, struct ht_shard *sh, size_t n)
{
    size_t old_size;

    if (!sh->old)
        return;
    old_size = (size_t)1 << sh->old_power;
    while (n-- > 0 && sh->migrate_pos < old_size)
        ht_move_bucket_locked(t, sh, sh->migrate_pos++);
    if (sh->migrate_pos == old_size) {
        free(sh->old);
        sh->old = NULL;
        sh->migrate_pos = 0;
    }
}

/* Starts a growth if the shard is loaded past 1.5 items per bucket and not growing already. */
static void ht_maybe_grow_locked(struct ht_shard *sh)
{
    size_t size = (size_t)1 << sh->power;
    uint32_t *bigger;

    if (sh->old || sh->power >= HT_POWER_MAX || sh->count <= size + size / 2)
        return;
    bigger = calloc(size * 2, sizeof *bigger);
    if (!bigger)
        return; /* keep the longer chains; try again on a later insert */
    sh->old = sh->buckets;
    sh->old_power = sh->power;
    sh->migrate_pos = 0;
    sh->buckets = bigger;
    sh->power++;
}

/* See hashtable_internal.h. */
struct item *ht_find_locked(struct ht *t, struct ht_shard *sh, uint64_t hash, const char *key,
                            size_t nkey)
{
    uint32_t h;

    ht_migrate_locked(t, sh, HT_MIGRATE_STEP);
    for (h = *ht_slot_locked(sh, hash); h;) {
        struct item *it = slab_item(t->slab, h);

        if (item_nkey(it) == nkey && memcmp(item_key(it), key, nkey) == 0)
            return it;
        h = it->h_next;
    }
    return NULL;
}

/* See hashtable_internal.h. */
void ht_insert_locked(struct ht *t, struct ht_shard *sh, uint64_t hash, struct item *it)
{
    uint32_t *slot = ht_slot_locked(sh, hash);

    it->h_next = *slot;
    *slot = slab_handle(t->slab, it);
    if (!t->fixed)
        ht_maybe_grow_locked(sh);
}

/* The slot (bucket head or h_next) that holds it's handle, or NULL if it is not in its chain. */
static uint32_t *ht_slot_of_locked(struct ht *t, struct ht_shard *sh, uint64_t hash, const struct item *it)
{
    uint32_t target = slab_handle(t->slab, it);
    uint32_t *slot = ht_slot_locked(sh, hash);

    while (*slot && *slot != target)
        slot = &slab_item(t->slab, *slot)->h_next;
    return *slot ? slot : NULL;
}

/* See hashtable_internal.h. */
bool ht_remove_locked(struct ht *t, struct ht_shard *sh, uint64_t hash, struct item *it)
{
    uint32_t *slot = ht_slot_of_locked(t, sh, hash, it);

    if (!slot)
        return false;
    *slot = it->h_next;
    it->h_next = 0;
    return true;
}

/* See hashtable_internal.h. */
bool ht_replace_locked(struct ht *t, struct ht_shard *sh, uint64_t hash, struct item *old, struct item *nw)
{
    uint32_t *slot = ht_slot_of_locked(t, sh, hash, old);

    if (!slot)
        return false;
    nw->h_next = old->h_next;
    *slot = slab_handle(t->slab, nw);
    old->h_next = 0;
    return true;
}

/* See hashtable_internal.h. */
size_t ht_scan_size_locked(const struct ht_shard *sh)
{
    return (sh->old ? (size_t)1 << sh->old_power : 0) + ((size_t)1 << sh->power);
}

/* See hashtable_internal.h. */
uint32_t *ht_scan_slot_locked(struct ht_shard *sh, size_t i)
{
    size_t old_size = sh->old ? (size_t)1 << sh->old_power : 0;

    return i < old_size ? &sh->old[i] : &sh->buckets[i - old_size];
}
