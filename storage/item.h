/*
 * item.h: the layout of one cached item, and the accessors every layer uses.
 *
 * One slab chunk holds one item: a 28-byte header, then the key, then the value. The value is stored
 * without memcached's trailing "\r\n" (the response writer adds it from a static buffer), and the key
 * is not NUL-terminated. Chunks are 8-byte aligned, so the 64-bit word at offset 0 is too.
 *
 *   0               4               8              12              16
 *   +---------------+---------------+---------------+---------------+
 *   | state (16) | cas (48 bits)    | h_next        | exptime       |
 *   +---------------+---------------+---------------+---------------+
 *   | atime         | client_flags  |nkey|b|ms|nbytes|   lens: nkey 8, KEY_BINARY 1, ms 10, nbytes 13
 *   +---------------+---------------+---------------+
 *   | [nkey ext, 4] key[nkey] [nbytes ext, 4] value[nbytes] [cas ext, 8]
 *
 * - state_cas: one 64-bit atomic word. The low 16 bits are the state: refcount in the low 9 bits,
 *   then the flag bits below. The hash table holds one reference while the item is linked; each
 *   reader (a connection writing the value out) holds one more. Whoever drops the last reference
 *   frees the chunk. Refcount and flag changes are atomic add/and/or on the whole word, which never
 *   carry into the CAS bits (the count stops at ITEM_REF_SAT; references past it are counted in the
 *   cache's side table and flagged by ITEM_REF_OVERFLOW, see storage/refs.c). The high 48 bits
 *   are the CAS unique; they are written while the item is private (before it is linked), and
 *   once more only by an in-place incr/decr (storage/rmw.c), under the shard lock while the table's
 *   reference is the only one: so no reader holding the item ever sees its CAS change.
 * - h_next: next item in the same hash bucket (or on the class free list), as an arena handle
 *   (0 = none). Handles are 32-bit offsets into the slab arena in 8-byte units, which is why the
 *   arena is at most 32 GiB.
 * - exptime, atime: seconds on the cache's relative clock (see cache_rel_time()); exptime 0 = never.
 * - lens: nbytes in the low 13 bits; then the 10-bit ms field of the expiry (below); then the
 *   KEY_BINARY bit (the key arrived in base64 through a meta `ms ... b`: memcached's mg and me then
 *   show it encoded); nkey in the high 8 bits.
 * - The slab class is not stored: the slab arena records the class of each page (slab_class_of in
 *   slab_internal.h, cache_item_class in cache.h).
 *
 * The expiry (a cache_exp_t, below) is exptime and the ms field together. ms 0: a whole-second
 * expiry at relative second exptime (memcached's). ms 1..1000: a precise expiry at relative
 * millisecond M = (exptime - 1) * 1000 + ms, that is exptime = ceil(M / 1000), the first whole second
 * at or after M (what memcached would show as the exptime), and ms = M's offset past the second
 * before, 1..1000. So exptime is 0 only for "never", whatever the kind, and a precise expiry costs no
 * byte. A precise expiry at M = 0 (the clock's origin, seconds before the cache existed) is stored
 * as M = 1; past ITEM_EXP_MS_MAX (136 years) it is stored as that.
 *
 * Escapes, so that nothing is lost to the short fields, each paid only by the items that need it: a
 * key of 255 bytes or more stores ITEM_NKEY_ESC in the 8-bit field and its real length in 4 bytes
 * right before the key (RESP keys; memcached's are at most 250 bytes, an empty key is nkey 0); a
 * value of ITEM_NBYTES_ESC (8191) bytes or more stores ITEM_NBYTES_ESC in the 13-bit field and its
 * real length in 4 bytes between the key and the value; an item whose CAS may not fit in 48 bits
 * (2^48 - 1 or more: a loaded snapshot's, or a counter that ran that far) stores ITEM_CAS_ESC in the
 * 48-bit field and the full CAS in 8 bytes after the value. item_key() is one add of 0 or 4 (no
 * branch), item_value() reads only the lens word and the extensions it names. The extensions are
 * unaligned and read with memcpy. The CAS extension is decided when the chunk is allocated (it
 * changes the item's size): such an item has the escape in its CAS field from allocation on, its
 * real CAS 0 until it is linked.
 *
 * The header fields are immutable while the item is linked, except atime, the expiry (exptime and
 * the ms bits of lens: touch, gat), the ACTIVE/FETCHED bits, and the CAS and the value bytes of an
 * in-place incr/decr (only while no reader holds the item, above). Those are written under the item's
 * shard lock but read by threads that do not hold it (the protocol layer answering a meta request,
 * statistics, the eviction clock), so every access goes through the relaxed atomic accessors below:
 * item_exp(), item_set_exp(), item_exptime(), item_atime(), item_set_atime(), and every read of lens
 * (item_lens(): the key and value lengths share the word with the ms bits). Relaxed is enough: each
 * field is one independent 32-bit hint, the nkey, nbytes and KEY_BINARY bits never change while the
 * item is linked (so a lens read racing a touch always sees the right lengths), and the shard lock
 * orders everything that must be ordered. item_exp() reads two words: without the shard lock, a
 * touch in between can pair the new exptime with the old ms bits; under the lock it is exact (every
 * decision about death is made under it).
 *
 * The functions that write the header (initialisation, CAS, state bits) are storage/'s own and live
 * in storage/item_internal.h; other layers only read through the accessors here.
 *
 * Which thread: any thread holding a reference may read an item.
 */
#ifndef CAIRN_STORAGE_ITEM_H
#define CAIRN_STORAGE_ITEM_H

#include <stdatomic.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#define ITEM_HEADER_SIZE 28u

#define ITEM_REFCOUNT_MASK 0x01ffu
#define ITEM_REF_SAT 0x01feu      /* the word's count stops here; more go to the side table */
#define ITEM_REF_OVERFLOW 0x0200u /* references past ITEM_REF_SAT are in the cache's side table */
#define ITEM_WON 0x0400u     /* meta: a client was handed the recache token (W flag) */
#define ITEM_STALE 0x0800u   /* meta: invalidated (md I / ms I); readers see X and may win a recache */
#define ITEM_LINKED 0x1000u  /* in the hash table */
#define ITEM_ACTIVE 0x2000u  /* hit since the eviction clock last passed: gets a second chance */
#define ITEM_FETCHED 0x4000u /* read at least once since it was stored */
#define ITEM_FREE 0x8000u    /* chunk is on its slab class's free list */

#define ITEM_STATE_BITS 16u                  /* low bits of state_cas: refcount and flags */
#define ITEM_NBYTES_ESC      0x1fffu /* lens, low 13 bits: the length is in the 4-byte extension */
#define ITEM_LENS_MS_SHIFT   13u     /* lens: the expiry's ms field, 10 bits ... */
#define ITEM_LENS_MS_MASK    (0x3ffu << ITEM_LENS_MS_SHIFT) /* ... 0 = whole second, 1..1000 precise */
#define ITEM_LENS_KEY_BINARY 0x800000u                      /* lens: the key was given in base64 (meta b) */
#define ITEM_LENS_NKEY_SHIFT 24u                            /* lens, high 8 bits: nkey ... */
#define ITEM_NKEY_ESC        0xffu /* ... or this: the length is in the 4-byte key extension */
#define ITEM_CAS_ESC 0xffffffffffffull       /* CAS field: the CAS is in the 8-byte extension */
#define ITEM_NKEY_EXT        4u
#define ITEM_NBYTES_EXT 4u
#define ITEM_CAS_EXT 8u
#define ITEM_EXP_MS_MAX      ((uint64_t)UINT32_MAX * 1000u) /* the latest precise expiry an item holds */

_Static_assert((ITEM_NBYTES_ESC & ITEM_LENS_MS_MASK) == 0 &&
                   (ITEM_LENS_MS_MASK & ITEM_LENS_KEY_BINARY) == 0 &&
                   (ITEM_NBYTES_ESC | ITEM_LENS_MS_MASK | ITEM_LENS_KEY_BINARY) == 0xffffffu,
               "lens: nbytes, ms and KEY_BINARY fill the low 24 bits, nkey the high 8");
_Static_assert((ITEM_LENS_MS_MASK >> ITEM_LENS_MS_SHIFT) >= 1000u, "the ms field holds 1..1000");

/*
 * An expiry on the cache's clock (cache.h): 0 = never; otherwise the time in milliseconds since the
 * clock's origin (cache_process_started()), shifted left one bit, with the low bit set when the expiry
 * is precise. A precise expiry (Redis's EX/PX/EXAT/PXAT) takes effect at its millisecond against the
 * real time; a whole-second one (memcached's exptime, always a multiple of 1000 ms) takes effect when
 * the cache's ticking seconds clock reaches it, exactly as memcached's does. Encoded values order as
 * the times they stand for (a whole second sorts just before a precise expiry at the same instant).
 */
typedef uint64_t cache_exp_t;

#define CACHE_EXP_NEVER ((cache_exp_t)0)

/* A whole-second expiry at relative second rel (0 = never). */
static inline cache_exp_t cache_exp_from_rel_seconds(uint32_t rel)
{
    return rel ? ((cache_exp_t)rel * 1000u) << 1 : CACHE_EXP_NEVER;
}

/* A precise expiry at relative millisecond rel_ms. */
static inline cache_exp_t cache_exp_from_rel_ms(uint64_t rel_ms)
{
    return (rel_ms << 1) | 1u;
}

/* The relative millisecond of an expiry (0 for never). */
static inline uint64_t cache_exp_rel_ms(cache_exp_t e)
{
    return e >> 1;
}

/* Whether an expiry takes effect at its millisecond (else at its second on the ticking clock). */
static inline bool cache_exp_precise(cache_exp_t e)
{
    return (e & 1u) != 0;
}

/* The first whole relative second at or after an expiry (0 for never): memcached's exptime for it. */
static inline uint64_t cache_exp_rel_seconds(cache_exp_t e)
{
    return (cache_exp_rel_ms(e) + 999u) / 1000u;
}

struct item {
    _Atomic uint64_t state_cas; /* state in the low 16 bits, CAS (or ITEM_CAS_ESC) in the high 48 */
    uint32_t h_next;
    uint32_t exptime;
    uint32_t atime;
    uint32_t client_flags;
    uint32_t lens; /* nbytes (or ITEM_NBYTES_ESC) 13 bits, ms 10, KEY_BINARY, nkey 8 */
    char data[];
};

/* sizeof(struct item) is 32: the 8-byte alignment of state_cas pads the struct, but data[] starts at
 * 28 and every size here counts from ITEM_HEADER_SIZE, never from sizeof. */
_Static_assert(offsetof(struct item, data) == ITEM_HEADER_SIZE, "item header must stay 28 bytes");

/* Whether a key of nkey bytes needs the 4-byte key length extension. */
static inline bool item_nkey_needs_ext(size_t nkey)
{
    return nkey >= ITEM_NKEY_ESC;
}

/* Whether a value of nbytes needs the 4-byte length extension. */
static inline bool item_nbytes_needs_ext(size_t nbytes)
{
    return nbytes >= ITEM_NBYTES_ESC;
}

/* Whether a CAS unique fits the header's 48-bit field (else it needs the 8-byte extension). */
static inline bool item_cas_fits(uint64_t cas)
{
    return cas < ITEM_CAS_ESC;
}

/* Total bytes an item with this key and value length occupies (before slab rounding), for a CAS
 * that fits 48 bits (no CAS extension). */
static inline size_t item_total_size(size_t nkey, size_t nbytes)
{
    return ITEM_HEADER_SIZE + (item_nkey_needs_ext(nkey) ? ITEM_NKEY_EXT : 0) + nkey + nbytes +
           (item_nbytes_needs_ext(nbytes) ? ITEM_NBYTES_EXT : 0);
}

/* As item_total_size, with room for a full 64-bit CAS when cas_ext is true. */
static inline size_t item_total_size_ext(size_t nkey, size_t nbytes, bool cas_ext)
{
    return item_total_size(nkey, nbytes) + (cas_ext ? ITEM_CAS_EXT : 0);
}

/* The lens word (lengths, KEY_BINARY, the expiry's ms field); safe without the shard lock. */
static inline uint32_t item_lens(const struct item *it)
{
    return __atomic_load_n(&it->lens, __ATOMIC_RELAXED);
}

/* The exptime field: the whole second of the expiry (for a precise one the first whole second at or
 * after it, as memcached would show it), 0 = never. Safe without the shard lock. Whether the item is
 * dead is decided from item_exp() (cache_item_dead_locked), never from this alone. */
static inline uint32_t item_exptime(const struct item *it)
{
    return __atomic_load_n(&it->exptime, __ATOMIC_RELAXED);
}

/* The item's expiry (see the header comment); exact under the shard lock. */
static inline cache_exp_t item_exp(const struct item *it)
{
    uint32_t e = item_exptime(it);
    uint32_t ms = (item_lens(it) & ITEM_LENS_MS_MASK) >> ITEM_LENS_MS_SHIFT;

    if (ms == 0 || e == 0) /* e == 0 with ms bits: only a read racing a touch, without the lock */
        return cache_exp_from_rel_seconds(e);
    return cache_exp_from_rel_ms((uint64_t)(e - 1) * 1000u + ms);
}

/* Sets the expiry (exptime and the ms field); the caller holds the item's shard lock or the only
 * reference, so nobody else writes lens meanwhile. */
static inline void item_set_exp(struct item *it, cache_exp_t exp)
{
    uint64_t ms = cache_exp_rel_ms(exp);
    uint32_t sec, frac = 0;

    if (!cache_exp_precise(exp)) {
        sec = ms / 1000u > UINT32_MAX ? UINT32_MAX : (uint32_t)(ms / 1000u);
    } else {
        ms = ms == 0 ? 1 : ms > ITEM_EXP_MS_MAX ? ITEM_EXP_MS_MAX : ms;
        sec = (uint32_t)((ms + 999u) / 1000u);
        frac = (uint32_t)(ms - (uint64_t)(sec - 1) * 1000u);
    }
    __atomic_store_n(&it->exptime, sec, __ATOMIC_RELAXED);
    __atomic_store_n(&it->lens, (item_lens(it) & ~ITEM_LENS_MS_MASK) | frac << ITEM_LENS_MS_SHIFT,
                     __ATOMIC_RELAXED);
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

/* Bytes before the key: the key length extension, if any (0 or 4, no branch). */
static inline size_t item_key_offset(uint32_t lens)
{
    return (size_t)((lens >> ITEM_LENS_NKEY_SHIFT) == ITEM_NKEY_ESC) * ITEM_NKEY_EXT;
}

/* Key length (0..CACHE_KEY_MAX; memcached's keys are 1..250). */
static inline size_t item_nkey(const struct item *it)
{
    uint32_t n = item_lens(it) >> ITEM_LENS_NKEY_SHIFT;

    if (n == ITEM_NKEY_ESC)
        memcpy(&n, it->data, sizeof n);
    return n;
}

/* Bytes between the start of data[] and the value: key length extension, key, value length
 * extension. */
static inline size_t item_value_offset(const struct item *it)
{
    uint32_t lens = item_lens(it);

    return item_key_offset(lens) + item_nkey(it) +
           ((lens & ITEM_NBYTES_ESC) == ITEM_NBYTES_ESC ? ITEM_NBYTES_EXT : 0);
}

/* Value length in bytes. */
static inline size_t item_nbytes(const struct item *it)
{
    uint32_t lens = item_lens(it);
    uint32_t n = lens & ITEM_NBYTES_ESC;

    if (n == ITEM_NBYTES_ESC)
        memcpy(&n, it->data + item_key_offset(lens) + item_nkey(it), sizeof n);
    return n;
}

/* Whether the key arrived in base64 (meta `ms ... b`); immutable while the item is linked. */
static inline bool item_key_binary(const struct item *it)
{
    return (item_lens(it) & ITEM_LENS_KEY_BINARY) != 0;
}

/* Marks (or unmarks) the key as given in base64; only on a private item (not yet linked). */
static inline void item_set_key_binary(struct item *it, bool binary)
{
    uint32_t lens = item_lens(it);

    lens = binary ? (lens | ITEM_LENS_KEY_BINARY) : (lens & ~ITEM_LENS_KEY_BINARY);
    __atomic_store_n(&it->lens, lens, __ATOMIC_RELAXED);
}

/* The state word (refcount and flag bits); a relaxed snapshot. */
static inline uint16_t item_state(const struct item *it)
{
    return (uint16_t)atomic_load_explicit(&it->state_cas, memory_order_relaxed);
}

/* Whether the item carries the 8-byte CAS extension (decided at allocation, never changes). */
static inline bool item_has_cas_ext(const struct item *it)
{
    return (atomic_load_explicit(&it->state_cas, memory_order_relaxed) >> ITEM_STATE_BITS) ==
           ITEM_CAS_ESC;
}

/* Bytes the item occupies (before slab rounding), extensions included. */
static inline size_t item_size(const struct item *it)
{
    return item_total_size_ext(item_nkey(it), item_nbytes(it), item_has_cas_ext(it));
}

/* The key (item_nkey() bytes, not NUL-terminated): right after the header, or after the key
 * length extension. */
static inline const char *item_key(const struct item *it)
{
    return it->data + item_key_offset(item_lens(it));
}

/* The value (item_nbytes() bytes, no trailing "\r\n"); writable only while the item is private, or
 * by an in-place rewrite under the shard lock while the table's reference is the only one (rmw.c). */
static inline char *item_value(struct item *it)
{
    return it->data + item_value_offset(it);
}

/* As item_value, read-only. */
static inline const char *item_value_const(const struct item *it)
{
    return it->data + item_value_offset(it);
}

/* The CAS unique (0 while unlinked or without CAS). Immutable while anyone but the table holds the
 * item (see the header comment). */
static inline uint64_t item_cas(const struct item *it)
{
    uint64_t cas = atomic_load_explicit(&it->state_cas, memory_order_relaxed) >> ITEM_STATE_BITS;

    if (cas == ITEM_CAS_ESC)
        memcpy(&cas, item_value_const(it) + item_nbytes(it), sizeof cas);
    return cas;
}

/* The client's 32-bit flags. */
static inline uint32_t item_client_flags(const struct item *it)
{
    return it->client_flags;
}

#endif
