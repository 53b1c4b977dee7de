/*
 * hashtable_internal.h: the sharded hash table, shared by the files of storage/ only.
 *
 * hash = XXH3_64bits(key). The top shard_bits bits pick a shard; the low bits pick a bucket in that
 * shard. A bucket holds the handle of the first item of its chain; items chain through h_next.
 *
 * Each shard grows on its own and incrementally: when it holds more than 1.5 items per bucket it
 * allocates a table twice as large and, from then on, every operation on the shard moves a few old
 * buckets (old[migrate_pos..]) into the new table. A key whose old bucket index is below migrate_pos
 * lives in the new table, otherwise still in the old one; a bucket is moved whole, so this rule finds
 * every key at every moment. The old table is freed when the last bucket has moved.
 *
 * Each shard also keeps its statistics (items, bytes, per-class counts), changed only under its lock.
 *
 * Locking: every function named _locked expects the caller to hold sh->lock.
 */
#ifndef CAIRN_STORAGE_HASHTABLE_INTERNAL_H
#define CAIRN_STORAGE_HASHTABLE_INTERNAL_H

#include <pthread.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "storage/item.h"
#include "storage/slab_internal.h"

#define HT_SHARD_BITS_MAX 16u
#define HT_POWER_MAX 30u
#define HT_MIGRATE_STEP 4u /* old buckets moved per operation while a shard grows */

struct ht_class_count {
    uint64_t number;            /* linked items of this class in this shard */
    uint64_t reclaimed;
    uint64_t expired_unfetched;
    /* `stats slabs` per-class operation counters, written under the shard lock the operation holds
     * anyway; the class is that of the item found (for a store, of the new item). */
    uint64_t get_hits, cmd_set, delete_hits, incr_hits, decr_hits, cas_hits, cas_badval, touch_hits;
};

struct hk_sketch;

struct ht_shard {
    pthread_mutex_t lock;
    uint32_t *buckets;
    unsigned power;             /* buckets has 2^power entries */
    uint32_t *old;              /* table being emptied while growing, NULL otherwise */
    unsigned old_power;
    size_t migrate_pos;         /* old buckets below this index have moved */
    uint64_t count;             /* linked items (curr_items); relaxed atomic stores, see cache_count */
    uint64_t expires;           /* linked items with an expiry (Redis's INFO keyspace expires=) */
    uint64_t bytes;             /* item_size() of linked items */
    uint64_t total_items;
    struct ht_class_count *cls; /* indexed by slab class id */
    void *tx_owner;             /* the transaction holding the lock, else NULL (shard_lock.h) */
    struct hk_sketch *hot;      /* the shard's most used keys, from sampled accesses (hotkeys.h) */
};

struct ht {
    struct ht_shard *shards;
    unsigned shard_bits;
    bool fixed; /* no shard grows (memcached's no_hashexpand) */
    const struct slab *slab;
};

/* Builds 2^shard_bits shards of 2^power buckets. Returns 0, or -1 on bad sizes or no memory. */
int ht_init(struct ht *t, unsigned shard_bits, unsigned power, const struct slab *slab,
            unsigned nclasses);

/* Frees the bucket arrays (not the items). Safe on a zeroed table. */
void ht_deinit(struct ht *t);

uint64_t ht_hash(const char *key, size_t nkey);

static inline struct ht_shard *ht_shard_of(const struct ht *t, uint64_t hash)
{
    return t->shard_bits ? &t->shards[hash >> (64 - t->shard_bits)] : &t->shards[0];
}

static inline unsigned ht_nshards(const struct ht *t)
{
    return 1u << t->shard_bits;
}

/* The linked item with this key, or NULL. Also moves a few buckets if the shard is growing. */
struct item *ht_find_locked(struct ht *t, struct ht_shard *sh, uint64_t hash, const char *key,
                            size_t nkey);

/* Puts it at the head of its chain (the key must not be present) and may start a growth. */
void ht_insert_locked(struct ht *t, struct ht_shard *sh, uint64_t hash, struct item *it);

/* Takes it out of its chain. Returns false if it was not there. */
bool ht_remove_locked(struct ht *t, struct ht_shard *sh, uint64_t hash, struct item *it);

/* Puts nw (not linked, same key) in old's place in its chain. Returns false if old was not there. */
bool ht_replace_locked(struct ht *t, struct ht_shard *sh, uint64_t hash, struct item *old, struct item *nw);

/* Moves up to n old buckets into the new table. */
void ht_migrate_locked(struct ht *t, struct ht_shard *sh, size_t n);

/* Head slot of bucket i of the old table (i < 2^old_power) or, past it, of the new table. */
uint32_t *ht_scan_slot_locked(struct ht_shard *sh, size_t i);

/* Number of positions ht_scan_slot_locked accepts. */
size_t ht_scan_size_locked(const struct ht_shard *sh);

#endif
