/*
 * slab_internal.h: the slab arena and its size classes, shared by the files of storage/ only.
 *
 * The arena is one anonymous mapping of arena_pages * page_size bytes (MAP_NORESERVE, so pages that
 * were never handed out cost no resident memory), reserved for the largest limit allowed (32 GiB) so
 * that the memory limit can be raised at run time; total_pages is the budget the limit allows now.
 * Pages given back by `slabs reassign N 0` wait in the free pool (free_pages), their memory released
 * with madvise(MADV_DONTNEED); a class takes from the pool before untouched arena pages, and only
 * while the pages held by classes (next_page - nfree) are fewer than total_pages. Pages go, in address order,
 * to whichever class first needs one; once all are handed out, a page can move from one class to another when
 * it has been emptied (rebalancing, see balance.c). A class carves its newest page lazily
 * (carve_next/carve_left), so chunks that were never used are still zero: from the mapping, or, on a
 * page that moved, because the move zeroes each new chunk's header.
 *
 * Invariants, under the class lock and outside a page move (balance.c, which takes a page's free
 * chunks off the list and marks the chunks it empties SLAB_CHUNK_VACATED until the page moves or is
 * put back): a carved chunk of the class has ITEM_FREE in its state word if
 * and only if it is on the class's free list (slab_take_locked clears the word when it pops a
 * chunk); while carve_left > 0 the page being carved is pages[npages - 1]; the pages of all classes
 * plus the pool's pages plus the pages not yet handed out (arena_pages - next_page) are exactly the
 * arena's pages.
 *
 * Page classes: page_class[p] is the class that holds arena page p, 0 while the page is in the pool
 * or not handed out. It is written under the class lock(s) that cover the page's move, with relaxed
 * atomic stores, and read without a lock (slab_class_of): an item does not record its class, and a
 * page cannot change class while it holds a linked or referenced item, so whoever may look at an
 * item reads a settled entry. Class 0 means no class (a page not handed out).
 *
 * An item is named by a 32-bit handle: (byte offset in the arena / 8) + 1, 0 meaning none. Chunk
 * sizes and the page size are multiples of 8, so every chunk has a handle; the arena is at most
 * 32 GiB, so every handle fits.
 *
 *   arena: | page 0 | page 1 | page 2 | ... |      page k of class c: | chunk | chunk | ... | tail |
 *
 * Locking: each class has one mutex that covers its free list, its page list, its clock hand and its
 * counters. page_lock covers next_page, total_pages, limit_bytes and the free pool. Lock order: hash shard
 * lock -> class lock -> page_lock; the eviction clock, which holds a class lock, only ever try-locks a shard.
 * Rebalancing holds the requesting class's lock and only ever try-locks a second class (the order between two
 * classes is not defined, so it must never block on one). npages is written under the class lock with relaxed
 * atomic stores so that a rebalance may read other classes' page counts (slab_npages) without their
 * locks, as a hint for choosing a donor.
 */
#ifndef CAIRN_STORAGE_SLAB_INTERNAL_H
#define CAIRN_STORAGE_SLAB_INTERNAL_H

#include <pthread.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "storage/cache.h"
#include "storage/item_internal.h"

/* The state of a chunk a page move has emptied (evicted or moved its item): a combination no item or
 * free chunk has, so that a chunk whose last reference another thread has just dropped (state 0,
 * waiting for the class lock to free it) is never mistaken for one. Only inside a page move. */
#define SLAB_CHUNK_VACATED (ITEM_FREE | ITEM_LINKED)

#define SLAB_CLASS_MAX 255u              /* class ids are 1..255 (page_class is 8 bits, 0 = none) */
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
    uint64_t pages_moved_in;  /* pages this class received from other classes (slabs_moved) */
    uint64_t rescues;         /* live items moved to another chunk when their page was vacated */
    uint64_t busy_items;      /* page vacates given up because an item had a reader */
    uint64_t borrowed;        /* items of this class placed in a larger class's free chunk */
    uint32_t borrow_last;     /* largest class id whose chunks are at most 1.25x this one's (fixed) */
    uint8_t sparse;           /* free_count + carve_left >= half a page: counted in slab.sparse (atomic) */
    uint32_t compact_failed;  /* relative second compaction last failed to empty a page of it (atomic) */
    /* The balance signal (see balance.c): the clock's revolution period. */
    uint32_t evicts_since_check; /* own-clock evictions since the last balance check */
    uint32_t unread_fast;        /* share of never-read items among those the hand passed, 1/65536 ... */
    uint64_t unread_slow;        /* ... recently, and over the long run (32.32 fixed point) */
    uint32_t steps_win;          /* clock steps in the window that started at win_start */
    uint32_t win_start;          /* relative second the window started (0 = none yet) */
    double step_rate;            /* clock steps per second, smoothed over windows */
    uint32_t evict_age_ms;       /* chunks / step_rate in ms: how long an unread item survives (atomic) */
    uint32_t last_evict;         /* relative second of the last own-clock eviction, 0 = never (atomic) */
    uint32_t last_alloc;         /* relative second of the last chunk handed out (atomic) */
};

struct slab {
    char *base;
    size_t arena_size;
    bool huge; /* the arena has the kernel's MADV_HUGEPAGE advice (options.large_pages) */
    size_t page_size;
    size_t item_size_max;
    uint32_t arena_pages;     /* pages the mapping can hold (fixed) */
    uint32_t total_pages;     /* page budget from the memory limit, under page_lock */
    uint64_t limit_bytes;     /* the memory limit as set, under page_lock */
    uint32_t next_page;       /* under page_lock */
    uint32_t *free_pages;     /* the free pool (arena_pages entries), under page_lock */
    uint8_t *page_class;      /* class id of each arena page (0 = none), see slab_class_of */
    unsigned page_shift;      /* log2(page_size) when it is a power of two, else 0 */
    uint32_t nfree;
    uint32_t *page_used; /* per arena page: chunks in use (not free-listed, not uncarved) */
    uint32_t sparse;     /* classes whose free chunks add up to half a page or more (atomic) */
    uint8_t has_free[SLAB_CLASS_MAX + 1]; /* per class: a free or uncarved chunk exists (a hint, atomic) */
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

/* Takes a chunk from cls's free list or the page it is carving, never a new page; adds requested to
 * mem_requested. NULL when it has neither. Caller holds cls->lock; the header is not initialised. */
struct item *slab_take_locked(struct slab *s, struct slab_class *cls, size_t requested);

/* Whether a class could get a page now (from the pool or the arena, within the budget). A hint read
 * without page_lock. */
bool slab_page_available(const struct slab *s);

/* Recomputes cls->sparse (free and uncarved chunks add up to at least half a page), the slab-wide
 * count of such classes and its has_free hint. Caller holds cls->lock. */
void slab_avail_update_locked(struct slab *s, struct slab_class *cls);

/* Takes the free chunks of page index idx off cls's free list (their state stays ITEM_FREE), so that
 * chunks taken from the list afterwards lie on other pages. Caller holds cls->lock. */
void slab_unlist_page_index_locked(struct slab *s, struct slab_class *cls, uint32_t idx);

/* Undoes an unfinished vacate of page index idx: chunks left ITEM_FREE by slab_unlist_page_index_locked
 * go back on the free list, chunks emptied by the vacate (SLAB_CHUNK_VACATED) are freed. cls must have no chunk
 * left to carve on that page. Caller holds cls->lock. */
void slab_relist_page_locked(struct slab *s, struct slab_class *cls, uint32_t idx);

/* Puts a chunk whose last reference is gone back on its class's free list. Caller holds cls->lock. */
void slab_free_locked(struct slab *s, struct slab_class *cls, struct item *it);

/* As slab_free_locked, taking the class lock itself. */
void slab_free(struct slab *s, struct item *it);

/* Makes room in cls->pages for one more page. Returns false when out of memory. Caller holds
 * cls->lock. */
bool slab_reserve_locked(struct slab_class *cls);

/* Puts an unreferenced chunk whose mem_requested is already taken off back on the free list.
 * Caller holds cls->lock. */
void slab_push_free_locked(struct slab *s, struct slab_class *cls, struct item *it);

/*
 * Moves page index idx of `from` to `to`: takes the page's chunks off from's free list, drops the
 * page from from's list (keeping the order, the clock hand and the carving page right), zeroes the
 * header of every chunk of to's layout on it and makes it to's page being carved. Every carved chunk
 * of the page must be free or unreferenced and unlinked, and to must have no chunk left to carve and
 * room reserved (slab_reserve_locked). Caller holds both class locks.
 */
void slab_page_move_locked(struct slab *s, struct slab_class *from, uint32_t idx,
                           struct slab_class *to);

/* Sets the memory limit (bytes; the page budget is limit / page_size, at least 1). False when the
 * limit exceeds the arena. Takes page_lock. */
bool slab_set_limit(struct slab *s, uint64_t bytes);

/* Gives cls one more page (from the pool, else the arena) if the budget allows; the page becomes
 * cls's page being carved. Any chunk cls had left to carve goes on its free list first. False when
 * no page is available. Caller holds cls->lock. */
bool slab_grow_now_locked(struct slab *s, struct slab_class *cls);

/* Moves page index idx of `from` to the free pool and releases its memory. Every carved chunk of the
 * page must be free or unreferenced and unlinked. Caller holds from->lock. */
void slab_page_release_locked(struct slab *s, struct slab_class *from, uint32_t idx);

/* Puts the chunks cls has not carved yet on its free list, so that carve_left becomes 0. Caller
 * holds cls->lock. */
void slab_finish_carving_locked(struct slab *s, struct slab_class *cls);

/* cls's page count without its lock (a hint: it may change at once). */
static inline uint32_t slab_npages(const struct slab_class *cls)
{
    return __atomic_load_n(&cls->npages, __ATOMIC_RELAXED);
}

/* Chunk number `chunk` of the class's page number `page` (an index into cls->pages). */
struct item *slab_chunk_at(const struct slab *s, const struct slab_class *cls, uint32_t page,
                           uint32_t chunk);

/* The class id of the chunk it (1..nclasses).
 * No locking: the caller holds a reference to the item, or its shard lock while it is linked, or
 * its class lock. */
static inline unsigned slab_class_of(const struct slab *s, const struct item *it)
{
    uintptr_t off = (uintptr_t)it - (uintptr_t)s->base;
    size_t page;

    if (off >= s->arena_size)
        return 0;
    page = s->page_shift ? off >> s->page_shift : off / s->page_size;
    return __atomic_load_n(&s->page_class[page], __ATOMIC_RELAXED);
}

/* The class of an arena chunk, for a caller that holds a reference (see slab_class_of). */
static inline struct slab_class *slab_class_ptr(struct slab *s, const struct item *it)
{
    return &s->classes[slab_class_of(s, it)];
}

/* The arena page number of an arena chunk. */
static inline uint32_t slab_page_of(const struct slab *s, const struct item *it)
{
    size_t off = (size_t)((const char *)it - s->base);

    return (uint32_t)(s->page_shift ? off >> s->page_shift : off / s->page_size);
}

static inline struct item *slab_item(const struct slab *s, uint32_t handle)
{
    return (struct item *)(void *)(s->base + (size_t)(handle - 1) * 8);
}

static inline uint32_t slab_handle(const struct slab *s, const struct item *it)
{
    return (uint32_t)(((const char *)it - s->base) / 8 + 1);
}

#endif
