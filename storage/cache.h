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
    bool no_evict;         /* memcached -M: a full class reclaims only dead items and otherwise
                            * refuses the allocation (CACHE_NO_MEMORY); no live item is evicted */
    bool no_hash_expand;   /* memcached -o no_hashexpand: the shards keep their first size */
    bool large_pages;      /* memcached -L: ask for transparent huge pages on the arena */
    /* CACHE_APPEND/CACHE_PREPEND: whether the joined item (the old item's key and client flags, the
     * two values' length) is within the protocol's size rule; a refusal is CACHE_NOT_STORED, the old
     * item untouched, as memcached answers an append it cannot allocate. NULL: only item_size_max. */
    bool (*join_fits)(const void *arg, size_t nkey, uint32_t client_flags, uint64_t nbytes);
    const void *join_fits_arg;
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
 * build a new item joining the old value and this one's value, keeping the old flags and exptime;
 * on a missing key they are CACHE_NOT_STORED, as memcached answers (Redis's APPEND, which creates the
 * key, is a cache_rmw).
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
 * Invalidates every item stored before relative time `when` (flush_all): when <= now flushes now,
 * a later time schedules it. Items are reclaimed lazily and by cache_reclaim().
 */
void cache_flush(struct cache *c, uint32_t when);

/* Sets the last access time of an item the caller holds to idle_s seconds ago (Redis's RESTORE
 * IDLETIME; OBJECT IDLETIME reads it back), but never back to or before the horizon of the last
 * flush_all, which judges items by that time: an idle time reaching past it is cut short there. */
void cache_item_set_idle(struct cache *c, struct item *it, uint32_t idle_s);

/* Forgets every flush, done or scheduled: items a flush hid and that were not reclaimed yet are live
 * again (memcached's flush_all at an absolute time before its start, which sets oldest_live to 0). */
void cache_flush_cancel(struct cache *c);

/* Gives back the caller's reference and clears *it; frees the chunk if it was the last one. */
void cache_item_release(struct cache *c, struct item **it);

/* Takes one more reference on an item the caller already holds a reference to; false only when no
 * memory is left for counting a reference past the state word's (an item held by hundreds of
 * readers at once). */
bool cache_item_acquire(struct cache *c, struct item *it);

/* How many references were ever counted past an item's state word (readers of one item beyond
 * the word's count at the same time; storage/refs.c). */
uint64_t cache_ref_overflows(const struct cache *c);

/* The size of the chunk an item the caller holds occupies (its slab class's chunk size; Redis's
 * MEMORY USAGE). Lock-free, touches no shard. */
size_t cache_item_chunk_size(const struct cache *c, const struct item *it);

/* The slab class id (1..cache_class_count()) of an item the caller holds. Lock-free. */
unsigned cache_item_class(const struct cache *c, const struct item *it);

/*
 * Background reclaim: visits up to max_items items (continuing where the last call stopped, shard by
 * shard, bucket by bucket, each shard lock held only briefly) and unlinks the expired and flushed
 * ones. A call also stops after 16 * max_items buckets or one full pass, so a sparse table costs
 * little. Returns the number reclaimed.
 */
size_t cache_reclaim(struct cache *c, size_t max_items);

/* One whole pass that unlinks every expired and flushed item (Redis's FLUSHALL empties the keyspace at
 * once). Unlike cache_reclaim it may be called inside a transaction (cache_tx_begin_all): it never
 * waits for the background reclaim. Each shard lock is held for one batch of buckets at a time.
 * Returns the number unlinked. */
size_t cache_purge_dead(struct cache *c);

/* ---- statistics (memcached's names) ---- */

struct cache_stats {
    uint64_t curr_items;
    uint64_t expires;           /* linked items with an expiry (Redis's INFO keyspace expires=) */
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

/* One of the most used keys (storage/hotkeys.h): estimated accesses since the last reset, of which at
 * most error may belong to keys it displaced, and how many of the sampled ones were reads or writes. */
struct cache_hotkey {
    char key[250];
    size_t nkey;    /* bytes in key */
    bool truncated; /* the key is longer than what is kept */
    uint64_t accesses, error, reads, writes;
};

/* Up to max of the most used keys, most used first (every shard's sketch merged; estimates scale the
 * sampled counts back to accesses). Takes each shard lock in turn. Returns how many were written. */
size_t cache_hotkeys(struct cache *c, struct cache_hotkey *out, size_t max);

/* The estimated accesses of one key since the last reset: 0 when the sketch does not count it (it was
 * never among its shard's most used). Takes the key's shard lock. */
uint64_t cache_hotkey_estimate(struct cache *c, const char *key, size_t nkey);

/* Forgets the hot-key counts (as `stats reset` does). */
void cache_hotkeys_reset(struct cache *c);

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

/* Whether the cache was created with no_evict (memcached -M; Redis's maxmemory-policy noeviction). */
bool cache_no_evict(const struct cache *c);

/* Whether the arena got the kernel's huge-page advice (options.large_pages asked for it and
 * madvise(MADV_HUGEPAGE) accepted it). */
bool cache_large_pages(const struct cache *c);

/* ---- mechanisms for other protocols (Redis) ---- */

/*
 * Transactions (Redis's MULTI/EXEC): the calling thread locks the shards of a set of keys, then
 * calls the ordinary functions of this file on those keys, which then neither lock nor unlock the
 * shards; cache_tx_end unlocks. Other threads wait on those shards meanwhile, so everything done in
 * between is atomic for them. Shards are locked in ascending index, which cannot deadlock with other
 * transactions or with single-key calls. Rules (storage/tx.c):
 * - declare every key: a key whose shard is not held fails an assertion (with NDEBUG it is locked,
 *   which may deadlock against another transaction);
 * - functions that visit every shard (cache_scan, cache_random_item, statistics, snapshots) need
 *   cache_tx_begin_all; cache_reclaim and cache_create/destroy are never called inside one;
 * - transactions do not nest; allocation (cache_alloc) inside one is fine and may evict from the
 *   shards it holds.
 * Cost outside transactions: one predictable branch on a thread-local per shard lock and unlock.
 */

/* The hash of a key, for cache_tx_begin. Pure. */
uint64_t cache_key_hash(const char *key, size_t nkey);

/* Locks the shards of the n key hashes (duplicates and keys sharing a shard are fine; n = 0 locks
 * none) for this thread until cache_tx_end. n at least the shard count locks every shard. */
void cache_tx_begin(struct cache *c, const uint64_t *hashes, size_t n);

/* As cache_tx_begin with every shard (a transaction with keyless commands: SCAN, RANDOMKEY...). */
void cache_tx_begin_all(struct cache *c);

/* Unlocks what this thread's cache_tx_begin locked. */
void cache_tx_end(struct cache *c);

/* Whether this thread has a transaction open on c. */
bool cache_tx_active(const struct cache *c);

/*
 * WATCH: an opaque version of key, 0 when it has no live item. A store, delete, rename, incr, append
 * and every other replacement changes it (the new item has a new CAS unique), and so do cache_expire
 * and cache_persist, which change the expiry in place; reading does not. Needs use_cas (otherwise only
 * the expiry counts). A key created and deleted again between two calls reads 0 both times. Callable
 * inside a transaction (the usual check at EXEC). Counts nothing, marks no access.
 */
uint64_t cache_key_version(struct cache *c, const char *key, size_t nkey);

/*
 * Read-modify-write of one key (Redis's APPEND, INCR, SETRANGE...; memcached's incr/decr rules are
 * protocol/mc/mc_arith.c's): under the key's shard lock, plan is called with the live item (NULL if
 * none) and decides; then a new item is allocated, fill writes its value, and it replaces the old one
 * atomically (readers see the old item or the new one, never a missing key) with a new CAS unique.
 * Both callbacks run under the shard lock: they may read old and must not call into the cache.
 *
 * Rewriting in place (memcached's incr/decr, which keep the item and its per-item state): a plan that
 * sets in_place lets the call write into old itself instead, when the new value is not longer than
 * old's, nobody but the table holds old (no reader is writing it out), the flags stay and old's CAS
 * field can take a new unique. fill then gets old's value and old's length (what lies past the new
 * value's nbytes is the fill's to pad) and must not read old's value. old keeps its key mark, ACTIVE,
 * FETCHED and token bits; it gets a new CAS unique, the access time now and nw->exp. Otherwise (or
 * without in_place) a new item of nbytes is linked as above, which carries none of those bits but
 * ACTIVE.
 */
struct cache_rmw_new {
    size_t nbytes;   /* the new value's length: the plan sets it */
    uint32_t flags;  /* client flags; preset to old's (0 without old): keep or replace */
    cache_exp_t exp; /* expiry; preset to old's (never without old): keep or replace */
    bool key_binary; /* memcached's base64-key mark of a new item; preset to old's (false without old) */
    bool unchanged;  /* the plan sets it to succeed without writing anything (old stays) */
    bool in_place;   /* the plan allows rewriting old in place (above) */
};

/* Which per-class `stats slabs` counter an rmw counts on success: incr_hits or decr_hits in old's
 * class (only when there was an old item: a hit), or cmd_set in the class of the item it leaves. */
enum cache_rmw_count {
    CACHE_RMW_COUNT_NONE = 0,
    CACHE_RMW_COUNT_INCR,
    CACHE_RMW_COUNT_DECR,
    CACHE_RMW_COUNT_SET
};

struct cache_rmw {
    /* CACHE_OK to write what *nw says (or nothing, with nw->unchanged); any other status aborts the
     * call with that status and changes nothing. */
    enum cache_status (*plan)(void *arg, const struct item *old, struct cache_rmw_new *nw);
    /* Writes the nbytes of the new value (old as given to plan). */
    void (*fill)(void *arg, const struct item *old, char *value, size_t nbytes);
    void *arg;
    bool want_old; /* hand back the live item found, with a reference (GETSET-style; a get hit) */
    enum cache_rmw_count count;
};

struct cache_rmw_result {
    uint64_t cas;     /* CACHE_OK: the new item's unique (old's when unchanged, 0 when none) */
    struct item *old; /* want_old: the live item before the call with a reference for the caller,
                       * whatever the status (NULL if none); release it with cache_item_release */
    bool created;     /* CACHE_OK and there was no live item: a new key */
    bool in_place;    /* CACHE_OK and old was rewritten in place (cache_rmw_new.in_place) */
};

/* Returns CACHE_OK, the plan's status, CACHE_TOO_LARGE (key or new item) or CACHE_NO_MEMORY. r is
 * always filled. */
enum cache_status cache_rmw(struct cache *c, const char *key, size_t nkey, const struct cache_rmw *op,
                            struct cache_rmw_result *r);

/* Redis's SET options on top of cache_store's modes. */
struct cache_store_opts {
    enum cache_store_mode mode; /* CACHE_SET; CACHE_ADD for NX, CACHE_REPLACE for XX; any other */
    uint64_t cas_in;            /* for CACHE_CAS */
    bool keep_ttl;              /* KEEPTTL: it takes the live old item's expiry (keeps its own, which
                                 * the caller makes "never", when there is none) */
    bool want_old;              /* GET / GETSET: hand back the live old item */
};

struct cache_store_result {
    uint64_t cas;     /* CACHE_OK: the stored item's unique */
    struct item *old; /* want_old: the live item before the call with a reference for the caller,
                       * whatever the status (SET NX GET on an existing key: NOT_STORED and the old
                       * value); NULL if none. A get hit in its class, marked accessed. */
};

/*
 * cache_store with options (SET EX/PX/KEEPTTL/NX/XX/GET, GETSET): one decision under the key's
 * shard lock. Same statuses and counters as cache_store; r is always filled. it's expiry may be
 * changed (keep_ttl). Does not consume the caller's reference to it.
 */
enum cache_status cache_store_ex(struct cache *c, struct item *it, const struct cache_store_opts *o,
                                 struct cache_store_result *r);

/* cache_delete handing back the item it unlinked (GETDEL): on CACHE_OK *old (if old is not NULL) gets
 * it with a reference for the caller (a get hit and a delete hit in its class), else NULL. */
enum cache_status cache_delete_ex(struct cache *c, const char *key, size_t nkey, uint64_t cas,
                                  struct item **old);

/* Redis 7.0's EXPIRE conditions. "No expiry" counts as infinite: GT never applies to a key without
 * one, LT always does. */
/* EXPIRE's conditions, bits that combine as Redis combines them (XX with GT or LT; the protocol
 * refuses NX with any other and GT with LT). */
enum cache_expire_cond {
    CACHE_EXPIRE_NONE = 0, /* no condition */
    CACHE_EXPIRE_NX = 1,   /* only if the key has no expiry */
    CACHE_EXPIRE_XX = 2,   /* only if it has one */
    CACHE_EXPIRE_GT = 4,   /* only if exp is later than the current expiry (none counts as infinite) */
    CACHE_EXPIRE_LT = 8    /* only if exp is earlier than the current expiry (none counts as infinite) */
};

/*
 * Sets a live key's expiry to exp (CACHE_EXP_NEVER removes it) if cond allows, in place under the
 * shard lock (same CAS unique; cache_key_version changes). CACHE_OK (set; touch_hits, accessed),
 * CACHE_NOT_STORED (condition not met) or CACHE_NOT_FOUND (no live key). An exp already past makes
 * the key dead at once; a caller that must delete such a key explicitly (Redis does, and replies 1)
 * uses cache_expire_past.
 */
enum cache_status cache_expire(struct cache *c, const char *key, size_t nkey, cache_exp_t exp,
                               unsigned cond);

/* As cache_expire for an exp the caller has judged already past (Redis: when <= now): when cond
 * allows, the key is deleted (delete_hits) instead; same statuses. */
enum cache_status cache_expire_past(struct cache *c, const char *key, size_t nkey, cache_exp_t exp,
                                    unsigned cond);

/* PERSIST: removes a live key's expiry. CACHE_OK, CACHE_NOT_STORED (it has none), CACHE_NOT_FOUND. */
enum cache_status cache_persist(struct cache *c, const char *key, size_t nkey);

/*
 * RENAME / RENAMENX: atomically dst gets src's value, flags and expiry (as a new item with a new CAS
 * unique, in *cas_out if not NULL) and src disappears; a live dst is replaced, or with nx the call is
 * CACHE_NOT_STORED and nothing changes. A missing src is CACHE_NOT_FOUND (also when src == dst);
 * src == dst is CACHE_OK, with nx CACHE_NOT_STORED (Redis 7.0 answers RENAMENX 0). CACHE_TOO_LARGE
 * (dst longer than CACHE_KEY_MAX, or the item past the size limit with the longer key) and
 * CACHE_NO_MEMORY change nothing. Counts cmd_set in the new item's class. Locks both keys' shards in
 * ascending order (one when shared); inside a transaction both must be held.
 */
enum cache_status cache_rename(struct cache *c, const char *src, size_t nsrc, const char *dst, size_t ndst,
                               bool nx, uint64_t *cas_out);

/*
 * COPY: dst gets a copy of src's value, flags and expiry (a new item with a new CAS unique, in *cas_out
 * if not NULL); src stays. A live dst is CACHE_NOT_STORED unless replace, when it is replaced. A
 * missing src is CACHE_NOT_FOUND; src == dst is CACHE_NOT_STORED (Redis refuses it before looking).
 * CACHE_TOO_LARGE and CACHE_NO_MEMORY change nothing. Counts cmd_set in the new item's class. Locks as
 * cache_rename does.
 */
enum cache_status cache_copy(struct cache *c, const char *src, size_t nsrc, const char *dst, size_t ndst,
                             bool replace, uint64_t *cas_out);

/*
 * SCAN: visits the live items of a few buckets (about 16 items, at most 512 bucket steps, one shard
 * lock at a time) from cursor (0 to start) and returns the cursor to continue from, 0 when the scan
 * is complete. Redis's dictScan guarantee: every key present for the whole scan is visited at least
 * once, even while shards grow; a key may be visited twice; keys added or removed meanwhile may or
 * may not be. fn is called under the shard lock: it may copy the key (and value), must not keep the
 * pointer or call into the cache. Dead items are skipped. Cursor layout (storage/scan.c): shard index
 * in the high 32 bits, a reverse-binary bucket cursor in the low 32; any value is accepted (a shard
 * past the last ends the scan).
 */
uint64_t cache_scan(struct cache *c, uint64_t cursor, void (*fn)(void *arg, const struct item *it),
                    void *arg);

/* RANDOMKEY: a random live item with a reference for the caller, or NULL when the cache is empty.
 * Near uniform (a count-weighted shard, then one of up to 16 items sampled from a random bucket on,
 * as Redis's dictGetFairRandomKey). Counts nothing, marks no access. */
struct item *cache_random_item(struct cache *c);

/* DBSIZE: the number of linked items, lock-free (a sum of per-shard counts). Expired items not yet
 * reclaimed count, as in Redis. */
uint64_t cache_count(struct cache *c);

#endif
