/*
 * item.h: the layout of one cached item, and the accessors every layer uses.
 *
 * One slab chunk holds one item: a 32-byte header, then the key, then the value. The value is stored
 * without memcached's trailing "\r\n" (the response writer adds it from a static buffer), and the key
 * is not NUL-terminated.
 *
 *   0               4               8              12              16
 *   +---------------+---------------+---------------+---------------+
 *   | h_next        | exptime       | atime         | client_flags  |
 *   +---------------+---------------+---------------+---------------+
 *   | cas (64 bits)                 | nbytes        |nkey|cls|state |
 *   +---------------+---------------+---------------+---------------+
 *   | key[nkey] value[nbytes] ...
 *
 * - h_next: next item in the same hash bucket, as an arena handle (0 = none). Handles are 32-bit
 *   offsets into the slab arena in 8-byte units, which is why the arena is at most 32 GiB.
 * - exptime, atime: seconds on the cache's relative clock (see cache_rel_time()); exptime 0 = never.
 * - state: a 16-bit atomic word: refcount in the low 10 bits, then the flag bits below. The hash table
 *   holds one reference while the item is linked; each reader (a connection writing the value out)
 *   holds one more. Whoever drops the last reference frees the chunk.
 *
 * The header fields are immutable while the item is linked, except atime, exptime (touch, gat) and
 * the ACTIVE/FETCHED bits. Those are written under the item's shard lock but read by threads that do
 * not hold it (the protocol layer answering a meta request, statistics, the eviction clock), so every
 * access goes through the relaxed atomic accessors below: item_exptime(), item_set_exptime(),
 * item_atime(), item_set_atime(). Relaxed is enough: each field is one independent 32-bit hint, and
 * the shard lock orders everything that must be ordered.
 *
 * Which thread: any thread holding a reference may read an item.
 */
#ifndef CAIRN_STORAGE_ITEM_H
#define CAIRN_STORAGE_ITEM_H

#include <stdatomic.h>
#include <stddef.h>
#include <stdint.h>

#define ITEM_HEADER_SIZE 32u
#define ITEM_KEY_MAX 250u

#define ITEM_REFCOUNT_MASK 0x03ffu
#define ITEM_WON 0x0400u     /* meta: a client was handed the recache token (W flag) */
#define ITEM_STALE 0x0800u   /* meta: invalidated (md I / ms I); readers see X and may win a recache */
#define ITEM_LINKED 0x1000u  /* in the hash table */
#define ITEM_ACTIVE 0x2000u  /* hit since the eviction clock last passed: gets a second chance */
#define ITEM_FETCHED 0x4000u /* read at least once since it was stored */
#define ITEM_FREE 0x8000u    /* chunk is on its slab class's free list */

struct item {
    uint32_t h_next;
    uint32_t exptime;
    uint32_t atime;
    uint32_t client_flags;
    uint64_t cas;
    uint32_t nbytes;
    uint8_t nkey;
    uint8_t clsid;
    _Atomic uint16_t state;
    char data[];
};

_Static_assert(sizeof(struct item) == ITEM_HEADER_SIZE, "item header must stay 32 bytes");

/* Total bytes an item with this key and value length occupies (before slab rounding). */
static inline size_t item_total_size(size_t nkey, size_t nbytes)
{
    return ITEM_HEADER_SIZE + nkey + nbytes;
}

/* The item's exptime (relative seconds, 0 = never); safe without the shard lock. */
static inline uint32_t item_exptime(const struct item *it)
{
    return __atomic_load_n(&it->exptime, __ATOMIC_RELAXED);
}

/* Sets exptime; the caller holds the item's shard lock or the only reference. */
static inline void item_set_exptime(struct item *it, uint32_t exptime)
{
    __atomic_store_n(&it->exptime, exptime, __ATOMIC_RELAXED);
}

/* The item's last access time (relative seconds); safe without the shard lock. */
static inline uint32_t item_atime(const struct item *it)
{
    return __atomic_load_n(&it->atime, __ATOMIC_RELAXED);
}

/* Sets the last access time; the caller holds the item's shard lock or the only reference. */
static inline void item_set_atime(struct item *it, uint32_t atime)
{
    __atomic_store_n(&it->atime, atime, __ATOMIC_RELAXED);
}

/* Layers outside storage/ read the header only through these accessors, so that the layout can change. */
static inline size_t item_nkey(const struct item *it)
{
    return it->nkey;
}

static inline size_t item_nbytes(const struct item *it)
{
    return it->nbytes;
}

static inline uint64_t item_cas(const struct item *it)
{
    return it->cas;
}

static inline uint32_t item_client_flags(const struct item *it)
{
    return it->client_flags;
}

/* The state word (refcount and flag bits); a relaxed snapshot, for statistics and tests. */
static inline uint16_t item_state(const struct item *it)
{
    return atomic_load_explicit(&it->state, memory_order_relaxed);
}

/* The item's slab class id (0 = a private heap copy); immutable while the item lives. */
static inline unsigned item_clsid(const struct item *it)
{
    return it->clsid;
}

/* Sets flag bits (ITEM_WON, ITEM_STALE, ITEM_ACTIVE, ITEM_FETCHED) in the state word; atomic, so
 * the refcount beside them is never disturbed. The caller holds the item's shard lock or the only
 * reference. */
static inline void item_state_set(struct item *it, uint16_t bits)
{
    atomic_fetch_or(&it->state, bits);
}

/* Clears flag bits of the state word; same rules as item_state_set(). */
static inline void item_state_clear(struct item *it, uint16_t bits)
{
    atomic_fetch_and(&it->state, (uint16_t)~bits);
}

static inline const char *item_key(const struct item *it)
{
    return it->data;
}

static inline char *item_value(struct item *it)
{
    return it->data + it->nkey;
}

static inline const char *item_value_const(const struct item *it)
{
    return it->data + it->nkey;
}

#endif
