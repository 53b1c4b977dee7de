/*
 * item_internal.h: the functions that write an item's header, shared by the files of storage/ only
 * (other layers read items through the accessors of item.h). The layout and its invariants are
 * described in item.h.
 *
 * The state word: every change of the refcount or a flag is one atomic operation on the whole
 * 64-bit state_cas word whose operand touches only the low 16 bits. An add or a subtract of the
 * refcount never carries or borrows out of its 10 bits (it saturates below the mask and never drops
 * below 0), so the CAS bits above are never disturbed. item_state_reset() is the one write of the
 * whole word: for a chunk that holds no item (free list, reuse by the clock).
 *
 * Threads: item_init() needs the only reference to an unlinked item, item_set_cas_private() that or
 * the shard lock of a linked item only the table references; the state operations are safe from
 * any thread under the locking rules of the caller (cache.c).
 */
#ifndef CAIRN_STORAGE_ITEM_INTERNAL_H
#define CAIRN_STORAGE_ITEM_INTERNAL_H

#include "storage/item.h"

#define ITEM_STATE_MASK 0xffffull

/* Fills the header of a fresh chunk: key (after the key length extension when nkey needs it),
 * lengths (with the value length extension when nbytes needs it), expiry, the CAS escape and a zero
 * 64-bit CAS when cas_ext, refcount 1 and no flags. The chunk must hold
 * item_total_size_ext(nkey, nbytes, cas_ext) bytes. The value is left for the caller. */
static inline void item_init(struct item *it, const char *key, size_t nkey, size_t nbytes, bool cas_ext,
                             uint32_t client_flags, cache_exp_t exp, uint32_t atime)
{
    uint32_t n = item_nbytes_needs_ext(nbytes) ? ITEM_NBYTES_ESC : (uint32_t)nbytes;
    uint32_t k = item_nkey_needs_ext(nkey) ? ITEM_NKEY_ESC : (uint32_t)nkey;
    uint32_t lens = k << ITEM_LENS_NKEY_SHIFT | n;
    uint64_t word = 1;
    char *p = it->data + item_key_offset(lens);

    it->h_next = 0;
    __atomic_store_n(&it->lens, lens, __ATOMIC_RELAXED);
    item_set_exp(it, exp);
    item_set_atime(it, atime);
    it->client_flags = client_flags;
    if (k == ITEM_NKEY_ESC) {
        uint32_t real = (uint32_t)nkey;

        memcpy(it->data, &real, sizeof real);
    }
    memcpy(p, key, nkey);
    if (n == ITEM_NBYTES_ESC) {
        uint32_t real = (uint32_t)nbytes;

        memcpy(p + nkey, &real, sizeof real);
    }
    if (cas_ext) {
        uint64_t zero = 0;

        memcpy(it->data + item_value_offset(it) + nbytes, &zero, sizeof zero);
        word |= ITEM_CAS_ESC << ITEM_STATE_BITS;
    }
    atomic_store(&it->state_cas, word);
}

/* Sets the CAS unique of an unlinked item the caller alone holds, or of a linked item that only
 * the table references, under its shard lock (an in-place rewrite, storage/rmw.c: nobody can take a
 * reference meanwhile, and the state bits are kept by the compare-and-swap). Returns false (and
 * changes nothing) when cas needs the 64-bit extension and the item was allocated without it. */
static inline bool item_set_cas_private(struct item *it, uint64_t cas)
{
    uint64_t w;

    if (item_has_cas_ext(it)) {
        memcpy(item_value(it) + item_nbytes(it), &cas, sizeof cas);
        return true;
    }
    if (!item_cas_fits(cas))
        return false;
    w = atomic_load(&it->state_cas);
    while (!atomic_compare_exchange_weak(&it->state_cas, &w, (w & ITEM_STATE_MASK) | cas << ITEM_STATE_BITS))
        ;
    return true;
}

/* Adds n to the state word (refcount, or refcount plus a flag bit that is clear); returns the
 * state before. */
static inline uint16_t item_state_add(struct item *it, uint16_t n)
{
    return (uint16_t)atomic_fetch_add(&it->state_cas, (uint64_t)n);
}

/* Drops one reference; returns the state before. */
static inline uint16_t item_state_unref(struct item *it)
{
    return (uint16_t)atomic_fetch_sub(&it->state_cas, (uint64_t)1);
}

/* Sets flag bits; returns the state before. */
static inline uint16_t item_state_set(struct item *it, uint16_t bits)
{
    return (uint16_t)atomic_fetch_or(&it->state_cas, (uint64_t)bits);
}

/* Clears flag bits (the CAS bits are kept); returns the state before. */
static inline uint16_t item_state_clear(struct item *it, uint16_t bits)
{
    return (uint16_t)atomic_fetch_and(&it->state_cas, ~(uint64_t)bits);
}

/* Overwrites the whole word of a chunk that holds no item (CAS and extension flag are gone):
 * ITEM_FREE on the free list, 0 for a chunk being reused. Caller holds the chunk's class lock. */
static inline void item_state_reset(struct item *it, uint16_t state)
{
    atomic_store(&it->state_cas, (uint64_t)state);
}

#endif
