/*
 * refs.c: item references past the state word's 9-bit count (see item.h and cache_internal.h).
 *
 * The common case is one atomic operation on the item's state word. A count reaches ITEM_REF_SAT
 * (510) only when hundreds of readers hold one item at once: a hot value asked for by hundreds of
 * connections whose replies are still queued, or a client that pipelines the same key thousands of
 * times. Then the references past the word go to a side table, one entry per such item:
 *
 *   ovf.slots: open addressing on the item's address, linear probing, at most half full
 *   ITEM_REF_OVERFLOW set in the state word <=> the item has an entry with count >= 1
 *
 * Taking: item_try_ref() first; when the word is saturated, cache_ref_overflow() adds one to the
 * item's entry under ovf.lock and sets the bit. Dropping (cache_item_unref): while the bit is set a
 * release takes one from the entry instead of the word, and the last one clears the bit, both under
 * ovf.lock; a release without the bit is a compare-and-swap on the word that fails if the bit appears
 * meanwhile. So the word's count never falls below the saturation point while the entry holds any,
 * and no reader is ever refused because an item is popular: the old design handed out heap copies
 * past a 10-bit count and, past a memory cap for them, reported the item missing.
 *
 * Cost: nothing per item; 16 bytes per entry while an item is over the count (the table starts at
 * REFS_MIN_SLOTS and doubles; it is freed when it empties). The total number of references is bounded
 * by the connections' reply queues (server/conn.c), so the table is too. Allocation failure when the
 * table must grow is the one way a reference can be refused (the caller answers out of memory).
 *
 * Lock order: ovf.lock is a leaf: taken under a shard lock (readers), or alone (releases); nothing is
 * locked while it is held.
 */
#include "config.h"

#include <assert.h>
#include <stdint.h>
#include <stdlib.h>

#include "storage/cache_internal.h"
#include "storage/item_internal.h"

#define REFS_MIN_SLOTS 64u

static size_t refs_slot_of(const struct item *it, size_t mask)
{
    uint64_t h = (uint64_t)(uintptr_t)it * 0x9e3779b97f4a7c15ull;

    return (size_t)(h >> 32) & mask;
}

/* The slot of it, or of the empty slot where it would go. The table has at least one empty slot. */
static struct ref_slot *refs_find(struct ref_overflow *o, const struct item *it)
{
    size_t mask = o->cap - 1;
    size_t i = refs_slot_of(it, mask);

    while (o->slots[i].it != NULL && o->slots[i].it != it)
        i = (i + 1) & mask;
    return &o->slots[i];
}

/* Rehashes into cap slots; false on no memory (the table is unchanged). */
static bool refs_resize(struct ref_overflow *o, size_t cap)
{
    struct ref_overflow nw = {.cap = cap, .used = o->used};

    nw.slots = calloc(cap, sizeof *nw.slots);
    if (nw.slots == NULL)
        return false;
    for (size_t i = 0; i < o->cap; i++) {
        if (o->slots[i].it != NULL)
            *refs_find(&nw, o->slots[i].it) = o->slots[i];
    }
    free(o->slots);
    o->slots = nw.slots;
    o->cap = cap;
    return true;
}

/* Removes the entry at s, moving later entries of its probe run back (no tombstones). */
static void refs_remove(struct ref_overflow *o, struct ref_slot *s)
{
    size_t mask = o->cap - 1;
    size_t hole = (size_t)(s - o->slots);

    o->slots[hole].it = NULL;
    o->used--;
    for (size_t i = (hole + 1) & mask; o->slots[i].it != NULL; i = (i + 1) & mask) {
        size_t home = refs_slot_of(o->slots[i].it, mask);
        /* The entry may move to the hole if its home is not in (hole, i]. */
        bool between = hole < i ? (home > hole && home <= i) : (home > hole || home <= i);

        if (!between) {
            o->slots[hole] = o->slots[i];
            o->slots[i].it = NULL;
            hole = i;
        }
    }
    if (o->used == 0) {
        free(o->slots);
        o->slots = NULL;
        o->cap = 0;
    }
}

void cache_refs_init(struct ref_overflow *o)
{
    pthread_mutex_init(&o->lock, NULL);
    o->slots = NULL;
    o->cap = o->used = 0;
}

void cache_refs_deinit(struct ref_overflow *o)
{
    free(o->slots);
    o->slots = NULL;
    o->cap = o->used = 0;
    pthread_mutex_destroy(&o->lock);
}

/* See cache_internal.h. */
bool cache_ref_overflow(struct cache *c, struct item *it)
{
    struct ref_overflow *o = &c->refs;
    struct ref_slot *s;
    bool ok = true;

    pthread_mutex_lock(&o->lock);
    if (o->cap == 0 || (o->used + 1) * 2 > o->cap)
        ok = refs_resize(o, o->cap == 0 ? REFS_MIN_SLOTS : o->cap * 2);
    if (ok) {
        s = refs_find(o, it);
        if (s->it == NULL) {
            s->it = it;
            s->count = 0;
            o->used++;
            item_state_set(it, ITEM_REF_OVERFLOW);
        }
        s->count++;
        atomic_fetch_add_explicit(&c->refs_overflowed, 1, memory_order_relaxed);
    }
    pthread_mutex_unlock(&o->lock);
    return ok;
}

/* Drops a reference held in the side table; false if the item has no entry any more (the caller
 * then drops one from the word). */
static bool refs_drop_overflow(struct cache *c, struct item *it)
{
    struct ref_overflow *o = &c->refs;
    bool dropped = false;

    pthread_mutex_lock(&o->lock);
    if (item_state(it) & ITEM_REF_OVERFLOW) {
        struct ref_slot *s = refs_find(o, it);

        assert(s->it == it && s->count > 0);
        dropped = true;
        if (--s->count == 0) {
            item_state_clear(it, ITEM_REF_OVERFLOW);
            refs_remove(o, s);
        }
    }
    pthread_mutex_unlock(&o->lock);
    return dropped;
}

/* See cache_internal.h. */
uint16_t cache_item_drop_ref(struct cache *c, struct item *it)
{
    uint64_t w = atomic_load(&it->state_cas);

    for (;;) {
        if (w & ITEM_REF_OVERFLOW) {
            if (refs_drop_overflow(c, it))
                return ITEM_REF_SAT; /* not the last: the word still holds the saturated count */
            w = atomic_load(&it->state_cas);
            continue;
        }
        assert((w & ITEM_REFCOUNT_MASK) != 0);
        if (atomic_compare_exchange_weak(&it->state_cas, &w, w - 1))
            return (uint16_t)(w & ITEM_REFCOUNT_MASK);
    }
}

/* See cache_internal.h. */
bool cache_ref_locked(struct cache *c, struct item *it)
{
    return item_try_ref(it) || cache_ref_overflow(c, it);
}

/* See cache.h. */
uint64_t cache_ref_overflows(const struct cache *c)
{
    return atomic_load_explicit(&((struct cache *)c)->refs_overflowed, memory_order_relaxed);
}
