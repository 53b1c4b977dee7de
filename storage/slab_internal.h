/*
 * slab_internal.h: the slab arena and its size classes, shared by the files of storage/ only.
 *
 * The arena is one anonymous mapping of total_pages * page_size bytes (MAP_NORESERVE, so pages that
 * were never handed out cost no resident memory). Pages go, in address order, to whichever class
 * first needs one, and stay with that class for the life of the cache. A class carves its newest page
 * lazily (carve_next/carve_left), so chunks that were never used are still zero from the mapping.
 *
 * An item is named by a 32-bit handle: (byte offset in the arena / 8) + 1, 0 meaning none. Chunk
 * sizes and the page size are multiples of 8, so every chunk has a handle; the arena is at most
 * 32 GiB, so every handle fits.
 *
 *   arena: | page 0 | page 1 | page 2 | ... |      page k of class c: | chunk | chunk | ... | tail |
 *
 * Locking: each class has one mutex that covers its free list, its page list, its clock hand and its
 * counters. page_lock covers next_page. Lock order: hash shard lock -> class lock -> page_lock; the
 * eviction clock, which holds a class lock, only ever try-locks a shard.
 */
#ifndef CAIRN_STORAGE_SLAB_INTERNAL_H
#define CAIRN_STORAGE_SLAB_INTERNAL_H

#include <pthread.h>
#include <stddef.h>
#include <stdint.h>

#include "storage/cache.h"
#include "storage/item.h"

#define SLAB_CLASS_MAX 255u              /* class ids are 1..255 (item->clsid is 8 bits, 0 = heap) */
#define SLAB_ARENA_MAX (32ull << 30)     /* reach of 32-bit handles in 8-byte units */

struct slab_class {
    pthread_mutex_t lock;
    uint32_t size;            /* chunk size, a multiple of 8 */
    uint32_t perpage;         /* chunks per page */
    uint32_t free_head;       /* handle of the first free chunk, 0 = none */
    uint32_t carve_next;      /* handle of the next never-used chunk of the newest page */
    uint32_t carve_left;      /* never-used chunks left in the newest page */
    uint32_t npages;
    uint32_t pages_cap;
    uint32_t *pages;          /* arena page numbers, in the order this class got them */
    uint32_t hand_page;       /* clock hand: index into pages[] ... */
    uint32_t hand_chunk;      /* ... and chunk within that page */
    uint64_t free_count;      /* chunks on the free list */
    uint64_t mem_requested;   /* item bytes (before rounding) of chunks in use */
    uint64_t evicted;
    uint64_t evicted_nonzero;
    uint64_t evicted_time;
    uint64_t evicted_unfetched;
    uint64_t evicted_active;
    uint64_t reclaimed;       /* dead items reused by the clock */
    uint64_t expired_unfetched;
    uint64_t outofmemory;
};

struct slab {
    char *base;
    size_t arena_size;
    size_t page_size;
    size_t item_size_max;
    uint32_t total_pages;
    uint32_t next_page;       /* under page_lock */
    pthread_mutex_t page_lock;
    unsigned nclasses;
    struct slab_class classes[SLAB_CLASS_MAX + 1]; /* [0] unused */
};

/* Sets up the arena and classes from o. Returns 0, or -1 with *err set to a static message. */
int slab_init(struct slab *s, const struct cache_options *o, const char **err);

/* Unmaps the arena and frees the page lists. Safe on a zeroed or half-initialised slab. */
void slab_deinit(struct slab *s);

/* The smallest class whose chunks hold size bytes, or 0 if none does. No locking (classes are fixed). */
unsigned slab_class_for(const struct slab *s, size_t size);

/*
 * Takes a chunk from cls: its free list, then its newest page, then a new page from the arena.
 * Adds requested to mem_requested. Returns NULL when all three are exhausted (the caller may then
 * evict). Caller holds cls->lock. The chunk's header is not initialised.
 */
struct item *slab_alloc_locked(struct slab *s, struct slab_class *cls, size_t requested);

/* Puts a chunk whose last reference is gone back on its class's free list. Caller holds cls->lock. */
void slab_free_locked(struct slab *s, struct slab_class *cls, struct item *it);

/* As slab_free_locked, taking the class lock itself. */
void slab_free(struct slab *s, struct item *it);

/* Chunk number `chunk` of the class's page number `page` (an index into cls->pages). */
struct item *slab_chunk_at(const struct slab *s, const struct slab_class *cls, uint32_t page,
                           uint32_t chunk);

static inline struct item *slab_item(const struct slab *s, uint32_t handle)
{
    return (struct item *)(void *)(s->base + (size_t)(handle - 1) * 8);
}

static inline uint32_t slab_handle(const struct slab *s, const struct item *it)
{
    return (uint32_t)(((const char *)it - s->base) / 8 + 1);
}

#endif
