/*
 * cache.h: the storage engine's whole interface. Items, a slab allocator under one memory limit, a
 * sharded hash table keyed by XXH3-64, eviction, expiry and the cache's clock.
 *
 * Ownership: every function that returns a struct item * hands the caller one reference, to be given
 * back with cache_item_release(). cache_alloc() returns an unlinked item for the caller to fill;
 * cache_store() links it (the table takes its own reference) and the caller still releases its own.
 *
 * Threads: every function may be called from any thread at once, except cache_create/cache_destroy.
 * No function blocks for longer than one shard lock or one slab class lock is held.
 *
 * Time: the cache keeps a relative clock in seconds (0 = process start, minus a small margin, as
 * memcached does) that the server advances with cache_clock_tick() about once a second; tests set it
 * directly. Expiries (cache_exp_t, item.h) are on that clock's origin at millisecond resolution: a
 * whole-second expiry dies when the ticking seconds clock reaches it (memcached's rule); a precise one
 * dies when the real time in milliseconds reaches it (Redis's PX). The storage engine knows no
 * protocol's rules: memcached's exptime conversion (30 days relative, else absolute) lives in
 * protocol/mc (mc_exptime).
 */
#ifndef CAIRN_STORAGE_CACHE_H
#define CAIRN_STORAGE_CACHE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <time.h>

#include "storage/item.h"

struct cache;

/* The longest key the engine stores, in bytes (keys of 255 bytes and more cost 4 bytes more per item:
 * item.h). memcached's protocols keep their 250 (protocol/mc). */
#define CACHE_KEY_MAX 65536u

struct cache_options {
    size_t memory_limit;   /* bytes of slab memory, -m (default 64 MiB); at most 32 GiB */
    size_t item_size_max;  /* largest item incl. header and key, -I (default 1 MiB) */
    size_t page_size;      /* slab page; 0 = max(1 MiB, item_size_max) */
    double growth_factor;  /* chunk size ratio between classes, -f (default 1.25) */
    size_t chunk_min;      /* smallest chunk, -n (default 48, plus the item header) */
    unsigned shard_bits;   /* log2 of the number of hash table shards (default 6) */
    unsigned hash_power;   /* log2 of each shard's initial bucket count (default 12) */
    bool use_cas;          /* assign CAS uniques (default true) */
};

/* Fills o with memcached's defaults. */
void cache_options_default(struct cache_options *o);

enum cache_status {
    CACHE_OK = 0,
    CACHE_NOT_FOUND,  /* no such key (or it expired / was flushed: see cache_miss_reason) */
    CACHE_EXISTS,     /* cas mismatch */
    CACHE_NOT_STORED, /* add on an existing key; replace/append/prepend on a missing one */
    CACHE_TOO_LARGE,  /* item larger than item_size_max */
    CACHE_NO_MEMORY,  /* no free chunk, and nothing evictable in that class or movable from another */
    CACHE_NON_NUMERIC /* incr/decr on a value that is not a decimal number */
};

/* Why a lookup missed; feeds memcached's get_expired / get_flushed statistics. */
enum cache_miss_reason { CACHE_MISS_NONE = 0, CACHE_MISS_EXPIRED, CACHE_MISS_FLUSHED };

enum cache_store_mode {
    CACHE_SET = 0,
    CACHE_ADD,
    CACHE_REPLACE,
    CACHE_APPEND,
    CACHE_PREPEND,
    CACHE_CAS
};

/* Creates a cache, or returns NULL (with *err set to a static message) on bad options or no memory. */
struct cache *cache_create(const struct cache_options *o, const char **err);

/* Frees the cache and every item; clears *c. No other thread may be using it. NULL is a no-op. */
void cache_destroy(struct cache **c);

/* ---- clock ---- */

/* Advances the relative clock to match the Unix time now (called by the server about once a second). */
void cache_clock_tick(struct cache *c, time_t unix_now);

/* Sets the relative clock directly (tests): as cache_clock_set_ms(c, rel_now * 1000). */
void cache_clock_set(struct cache *c, uint32_t rel_now);

/*
 * Freezes the millisecond clock (the one precise expiries die by) at rel_ms since the origin and sets
 * the seconds clock to rel_ms / 1000 (tests). Both stay there until the next cache_clock_set*() or
 * cache_clock_tick(), which goes back to the real time. Without a freeze the millisecond clock is
 * CLOCK_REALTIME minus cache_process_started().
 */
void cache_clock_set_ms(struct cache *c, uint64_t rel_ms);

/* The relative clock now, in seconds. */
uint32_t cache_rel_time(const struct cache *c);

/* The Unix time of relative time 0. */
time_t cache_process_started(const struct cache *c);

/* The Unix time in milliseconds now, on the clock precise expiries die by (frozen by
 * cache_clock_set_ms, else the real time). */
int64_t cache_now_unix_ms(const struct cache *c);

/* A precise expiry at Unix time unix_ms (Redis's PXAT). A time at or before the clock's origin is
 * already past: the result is an expiry that has passed, never CACHE_EXP_NEVER. Times beyond what an
 * item holds (ITEM_EXP_MS_MAX after the origin, 136 years) are clamped to it. */
cache_exp_t cache_exp_from_unix_ms(const struct cache *c, int64_t unix_ms);

/* The Unix time in milliseconds of an expiry, or -1 for CACHE_EXP_NEVER. */
int64_t cache_exp_to_unix_ms(const struct cache *c, cache_exp_t exp);

/* Whether an expiry has passed: the one rule every lookup, the eviction clock, reclaim, snapshots
 * and rebalancing use. now is the seconds clock (cache_rel_time()) the caller read; a precise expiry
 * within a few seconds of it is compared with the millisecond clock. CACHE_EXP_NEVER never passes. */
bool cache_exp_passed(const struct cache *c, cache_exp_t exp, uint32_t now);

/* ---- items ---- */

/*
 * Allocates an unlinked item for key (nkey <= CACHE_KEY_MAX, 0 allowed) and a value of nbytes,
 * expiring at exp, evicting if needed. The caller writes nbytes into item_value() and then calls
 * cache_store() or just releases it. Returns NULL with *st = CACHE_TOO_LARGE (key, or the whole item
 * over the item size limit) or CACHE_NO_MEMORY.
 */
struct item *cache_alloc(struct cache *c, const char *key, size_t nkey, uint32_t client_flags,
                         cache_exp_t exp, size_t nbytes, enum cache_status *st);

/*
 * Links a filled item under mode. For CACHE_CAS, cas_in is the client's unique. APPEND and PREPEND
 * build a new item joining the old value and this one's value, keeping the old flags and exptime.
 * On CACHE_OK, *cas_out (if not NULL) receives the stored item's CAS unique. Does not consume the
 * caller's reference to it.
 * Returns CACHE_OK, CACHE_NOT_STORED, CACHE_EXISTS, CACHE_NOT_FOUND (cas on a missing key),
 * CACHE_TOO_LARGE or CACHE_NO_MEMORY (append/prepend result).
 */
enum cache_status cache_store(struct cache *c, struct item *it, enum cache_store_mode mode,
                              uint64_t cas_in, uint64_t *cas_out);

/*
 * Looks key up. On a hit returns the item with one reference for the caller and marks it accessed
 * (ACTIVE, FETCHED, atime). On a miss returns NULL and, if why is not NULL, tells whether the key was
 * there but expired or flushed (it is then unlinked).
 */
struct item *cache_get(struct cache *c, const char *key, size_t nkey, enum cache_miss_reason *why);

/* As cache_get, and also sets the item's expiry (gat, gats). */
struct item *cache_get_touch(struct cache *c, const char *key, size_t nkey, cache_exp_t exp,
                             enum cache_miss_reason *why);

/* Sets a live item's expiry. CACHE_OK or CACHE_NOT_FOUND. */
enum cache_status cache_touch(struct cache *c, const char *key, size_t nkey, cache_exp_t exp);

/* Unlinks key. cas = 0 deletes whatever is there; otherwise only an item with that unique
 * (CACHE_EXISTS if it differs). CACHE_OK or CACHE_NOT_FOUND. */
enum cache_status cache_delete(struct cache *c, const char *key, size_t nkey, uint64_t cas);

/*
 * incr (incr = true) or decr a decimal value by delta: incr wraps at 2^64, decr stops at 0. The
 * value is read as memcached 1.6 reads it (strtoull rules: leading whitespace, optional sign, digits,
 * then whitespace or the end). The new value replaces the item (same flags and exptime, new CAS):
 * the decimal number padded with spaces to the old length when it is not longer, else exactly the
 * number. *result gets the new number, *cas_out (if not NULL) the new unique. CACHE_OK,
 * CACHE_NOT_FOUND, CACHE_NON_NUMERIC or CACHE_NO_MEMORY.
 */
enum cache_status cache_arith(struct cache *c, const char *key, size_t nkey, bool incr,
                              uint64_t delta, uint64_t *result, uint64_t *cas_out);

/*
 * Invalidates every item stored before relative time `when` (flush_all): when <= now flushes now,
 * a later time schedules it. Items are reclaimed lazily and by cache_reclaim().
 */
void cache_flush(struct cache *c, uint32_t when);

/* Gives back the caller's reference and clears *it; frees the chunk if it was the last one. */
void cache_item_release(struct cache *c, struct item **it);

/* Takes one more reference on an item the caller already holds a reference to; false only when no
 * memory is left for counting a reference past the state word's (an item held by hundreds of
 * readers at once). */
bool cache_item_acquire(struct cache *c, struct item *it);

/* How many references were ever counted past an item's state word (readers of one item beyond
 * the word's count at the same time; storage/refs.c). */
uint64_t cache_ref_overflows(const struct cache *c);

/* The slab class id (1..cache_class_count()) of an item the caller holds. Lock-free. */
unsigned cache_item_class(const struct cache *c, const struct item *it);

/*
 * Background reclaim: visits up to max_items items (continuing where the last call stopped, shard by
 * shard, bucket by bucket, each shard lock held only briefly) and unlinks the expired and flushed
 * ones. A call also stops after 16 * max_items buckets or one full pass, so a sparse table costs
 * little. Returns the number reclaimed.
 */
size_t cache_reclaim(struct cache *c, size_t max_items);

/* ---- statistics (memcached's names) ---- */

struct cache_stats {
    uint64_t curr_items;
    uint64_t total_items;
    uint64_t bytes;             /* sum of item sizes (header + key + value) of linked items */
    uint64_t limit_maxbytes;
    uint64_t total_malloced;    /* bytes of slab pages handed to classes */
    uint64_t evictions;
    uint64_t evicted_unfetched;
    uint64_t evicted_active;
    uint64_t expired_unfetched;
    uint64_t reclaimed;
    uint64_t curr_pages;        /* pages assigned to classes */
    uint64_t total_pages;       /* pages the limit allows */
    uint64_t hash_power_level;  /* log2 of the total bucket count */
    uint64_t hash_bytes;
    uint64_t hash_is_expanding;
    uint64_t slabs_moved;       /* pages moved from one slab class to another (rebalancing) */
    uint64_t pool_pages;        /* pages in the free pool (slab_global_page_pool) */
    uint64_t rescues;           /* live items moved to another chunk when a page was vacated */
    uint64_t busy_items;        /* page vacates given up for an item with a reader */
};

struct cache_class_stats {
    uint32_t chunk_size;
    uint32_t chunks_per_page;
    uint64_t total_pages;
    uint64_t total_chunks;
    uint64_t used_chunks;
    uint64_t free_chunks;
    uint64_t mem_requested;     /* bytes of items in this class before rounding */
    uint64_t number;            /* linked items */
    uint64_t age;               /* now - atime of the oldest item the clock hand can see, seconds */
    uint64_t evicted;
    uint64_t evicted_nonzero;
    uint64_t evicted_time;      /* seconds since last access of the last evicted item */
    uint64_t evicted_unfetched;
    uint64_t evicted_active;
    uint64_t expired_unfetched;
    uint64_t reclaimed;
    uint64_t outofmemory;
    /* Operations on items of this class (memcached's per-class `stats slabs` counters): get_hits
     * (get, gets), touch_hits (touch, gat, gats), cmd_set (every store call, in the new item's
     * class), delete_hits, incr_hits, decr_hits, cas_hits and cas_badval (in the class of the item
     * found). Summed over the classes they equal the cache-wide hit counts. */
    uint64_t get_hits;
    uint64_t cmd_set;
    uint64_t delete_hits;
    uint64_t incr_hits;
    uint64_t decr_hits;
    uint64_t cas_hits;
    uint64_t cas_badval;
    uint64_t touch_hits;
    uint64_t free_chunks_end;   /* never-used chunks left on the page being carved */
};

/* Sums the cache-wide statistics. Takes each lock briefly; the figures are a near-instant snapshot. */
void cache_stats_get(struct cache *c, struct cache_stats *s);

/* Number of slab classes (ids 1..n). */
unsigned cache_class_count(const struct cache *c);

/* Statistics of class id (1..cache_class_count()). */
void cache_class_stats_get(struct cache *c, unsigned id, struct cache_class_stats *s);

/* Zeroes the counters that memcached's `stats reset` zeroes (evictions, reclaimed, ...). */
void cache_stats_reset(struct cache *c);

/* ---- run-time administration (memcached's cache_memlimit and slabs commands) ---- */

/* The largest memory limit cache_set_memory_limit() can accept: the slab arena's reserved address
 * space (32 GiB, or the limit given at create when reserving that much failed). */
size_t cache_memory_limit_max(const struct cache *c);

/*
 * Changes the memory limit (bytes; rounded down to whole slab pages, at least one page). Raising it
 * lets classes take more pages at once. Lowering it only stops handing out pages beyond the new
 * budget: pages classes hold now stay theirs (their items are not evicted for it); pages given back
 * to the free pool (cache_slabs_reassign() to class 0) are reused only while the classes hold fewer
 * pages than the budget. CACHE_OK, or CACHE_TOO_LARGE when above cache_memory_limit_max().
 */
enum cache_status cache_set_memory_limit(struct cache *c, size_t bytes);

/* Results of cache_slabs_reassign(), one per reply of memcached's `slabs reassign`. */
enum cache_reassign_result {
    CACHE_REASSIGN_OK = 0,   /* the page moved */
    CACHE_REASSIGN_BUSY,     /* no page of src could be emptied now (items being read): try again */
    CACHE_REASSIGN_BADCLASS, /* src or dst out of range */
    CACHE_REASSIGN_NOSPARE,  /* src holds fewer than two pages (class 0: no free page in budget) */
    CACHE_REASSIGN_SAME      /* src == dst */
};

/*
 * Moves one slab page from class src to class dst, evicting the items on it. Class 0 is the pool of
 * free pages: src 0 gives dst a page from the pool (or the unused budget), dst 0 returns a page of
 * src to the pool (its memory is released to the system). src -1 picks the class with the most pages
 * other than dst. A class keeps at least one page. Takes the two class locks in turn (never waits
 * for the second one) and the page lock; never a shard lock for long.
 */
enum cache_reassign_result cache_slabs_reassign(struct cache *c, int src, int dst);

/*
 * Age balancing of pages between classes (memcached's `slabs automove`, see balance.c): 0 = pages move
 * between classes only when an allocation finds nothing else (compaction and borrowing still run);
 * 1 (default) = also a class that evicts takes a page from the class whose items survive over 1.5x
 * longer, checked every 1/16 page of its evictions; 2 = that check on every eviction. Values above 2
 * are taken as 2.
 */
void cache_set_automove(struct cache *c, unsigned mode);

/* The current automove mode. */
unsigned cache_automove(const struct cache *c);

#endif
