/*
 * hotkeys.h: the most used keys of one hash-table shard, estimated from a sample of its accesses
 * with Space-Saving (Metwally, Agrawal, El Abbadi, 2005).
 *
 * Each shard keeps HK_SLOTS counters. One access in HK_SAMPLE is offered to the sketch (a shard-local
 * xorshift decides which, under the shard lock the access already holds, so the sampling costs a few
 * shifts and one test per access). An offered key already counted gets one more; a new key takes
 * a free slot, or the slot of the smallest count, whose count it inherits plus one (recorded as the
 * estimate's possible error). A key lives in exactly one shard, so the shards' sketches merged are a
 * sketch of the whole cache: any key offered more than 1/HK_SLOTS of a shard's samples is in it.
 *
 * Keys longer than HK_KEY_MAX are kept truncated (flagged) and told apart by their hash.
 */
#ifndef CAIRN_STORAGE_HOTKEYS_H
#define CAIRN_STORAGE_HOTKEYS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define HK_SLOTS   16
#define HK_KEY_MAX 250
#define HK_SAMPLE  16 /* one access in this many is offered; a power of two */

struct hk_slot {
    uint64_t hash;
    uint64_t count; /* samples counted (estimate; includes error) */
    uint64_t error; /* the count inherited when the slot was taken over */
    uint64_t reads, writes;
    uint16_t nkey;  /* bytes kept in key */
    bool truncated; /* the key was longer than HK_KEY_MAX */
    char key[HK_KEY_MAX];
};

struct hk_sketch {
    uint32_t rng;  /* xorshift state deciding which accesses are sampled (never 0) */
    uint32_t used; /* slots in use */
    struct hk_slot slots[HK_SLOTS];
};

/* Whether this access is one of the sampled ones: a pseudo-random one in HK_SAMPLE, so that a
 * periodic access pattern (two keys of one shard alternating in a pipeline) cannot alias with the
 * sampling and hide a key. Caller holds the shard lock. */
static inline bool hk_should_sample(struct hk_sketch *s)
{
    uint32_t x = s->rng != 0 ? s->rng : 0x9e3779b9u;
    x ^= x << 13;
    x ^= x >> 17;
    x ^= x << 5;
    s->rng = x;
    return (x & (HK_SAMPLE - 1)) == 0;
}

/* Offers one access of key (nkey bytes, hash as the table computed it). Caller holds the lock. */
void hk_offer(struct hk_sketch *s, uint64_t hash, const char *key, size_t nkey, bool write);

/* Forgets every count. */
void hk_clear(struct hk_sketch *s);

#endif
