/*
 * meta.h: the storage operations of memcached's meta commands (mg, ms, md, ma, me) that the classic
 * interface in cache.h lacks: get with touch, recache tokens and stale items decided under one shard
 * lock; invalidation (mark stale instead of delete); stores with the stale-CAS rule and CAS-checked
 * append; incr/decr with a CAS check, a new TTL and creation on a miss. Part of the storage module's
 * contract beside cache.h (same ownership, threading and clock rules: see cache.h).
 *
 * Recache tokens (stale-while-revalidate): an item carries two flag bits in its state word.
 * ITEM_WON: one client was told it won the right to recompute the value ("W"); later readers are
 * told so ("Z") and do not recompute. ITEM_STALE: the item was invalidated (md with I, or an ms with
 * I and an older CAS); readers still get the value, flagged "X", and the first of them wins. Both
 * bits change only under the item's shard lock, so of any number of concurrent readers exactly one
 * wins a given token.
 */
#ifndef CAIRN_STORAGE_META_H
#define CAIRN_STORAGE_META_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "storage/cache.h"

/* What an mg asks of the lookup. Expiries are on the cache's clock (item.h's cache_exp_t). */
struct cache_meta_get_opts {
    bool no_update; /* u: do not mark the access (atime, FETCHED, ACTIVE) */
    bool set_ttl;   /* T: give a hit this expiry */
    cache_exp_t ttl;
    bool vivify;                /* N: on a miss create an empty item (flags 0) and win its token */
    cache_exp_t vivify_exptime; /* expiry of such an item */
    bool recache;               /* R: win when the expiry is set and earlier than recache_time */
    cache_exp_t recache_time;
    bool recache_after_ttl; /* R came after T on the line: compare with the new exptime */
    bool no_tokens;         /* decide and set no token bits (the request ends in an error) */
};

/* What the lookup found, as the hit's flags need it. */
struct cache_meta_info {
    cache_exp_t exptime_before; /* expiry before this request (never for a created item) */
    uint32_t atime_before;      /* last access before this request */
    bool fetched_before;        /* read before this request */
    bool created;               /* N created the item */
    bool won;                   /* this request wins the recache token: W */
    bool already_won;           /* another client holds the token: Z */
    bool stale;                 /* the item is stale: X */
    enum cache_miss_reason why; /* on a miss: expired, flushed or neither */
    enum cache_status status;   /* CACHE_OK, CACHE_NOT_FOUND, or CACHE_NO_MEMORY (N could not create) */
};

/*
 * mg: looks key up and decides the token flags under its shard lock. Returns the item with one
 * reference for the caller (release with cache_item_release), or NULL on a miss. A hit counts as
 * get_hits in its class, or touch_hits with set_ttl. info must not be NULL.
 */
struct item *cache_meta_get(struct cache *c, const char *key, size_t nkey,
                            const struct cache_meta_get_opts *o, struct cache_meta_info *info);

/* me: the live item with one reference for the caller, without marking an access; NULL if none. */
struct item *cache_meta_peek(struct cache *c, const char *key, size_t nkey);

/*
 * md: with has_cas, only an item whose unique is cas (else CACHE_EXISTS). With stale, the item is
 * not removed but replaced by a copy marked ITEM_STALE (token cleared, new CAS unique, exptime set
 * when set_ttl). Returns CACHE_OK, CACHE_NOT_FOUND, CACHE_EXISTS or CACHE_NO_MEMORY (stale copy).
 */
enum cache_status cache_meta_delete(struct cache *c, const char *key, size_t nkey, bool has_cas, uint64_t cas,
                                    bool stale, bool set_ttl, cache_exp_t exp);

/*
 * ms: links the filled item it (which the caller keeps its reference to) as memcached's meta set
 * does. mode CACHE_CAS compares cas_in (0 never matches a live item's unique); with set_stale a
 * cas_in older than the item's stores it anyway, as a stale item keeping the old exptime and token.
 * APPEND and PREPEND with a nonzero cas_in require that unique. Other modes as cache_store(), which
 * is used for them. *cas_out (if not NULL) gets the new unique on CACHE_OK, else 0.
 */
enum cache_status cache_meta_store(struct cache *c, struct item *it, enum cache_store_mode mode,
                                   uint64_t cas_in, bool set_stale, uint64_t *cas_out);

/* What an ma asks. Expiries are on the cache's clock. */
struct cache_meta_arith_opts {
    /* memcached's number rules (protocol/mc/mc_arith.c): the plan computes the new value of the live
     * item, or of a created one (old NULL, only with vivify), and counts incr_hits or decr_hits */
    const struct cache_rmw *rmw;
    /* refuses old as CACHE_NON_NUMERIC before the CAS is compared (an empty value always is); called
     * with rmw->arg; NULL refuses nothing more */
    bool (*refuse)(void *arg, const struct item *old);
    bool has_cas; /* C: only if the item's unique is cas (checked after refusing an empty value) */
    uint64_t cas;
    bool vivify; /* N: on a miss create the item (flags 0) holding what rmw's plan says */
    cache_exp_t vivify_exptime;
    bool set_ttl; /* T: the result gets this expiry */
    cache_exp_t ttl;
};

struct cache_meta_arith_result {
    uint64_t cas;            /* the new item's unique */
    cache_exp_t exptime_before; /* expiry before this request (never for a created item) */
    bool created;
};

/*
 * ma: incr/decr through o->rmw (cache_rmw's plan and fill; the new number is the plan's business),
 * with the CAS check, the new TTL and creation done under the key's shard lock: a missing key is
 * CACHE_NOT_FOUND without vivify, an empty value (or one o->refuse refuses) CACHE_NON_NUMERIC
 * before the CAS is compared. A
 * number rewritten in place (cache_rmw_new.in_place) keeps old's state and gets the T exptime if
 * set_ttl; one relinked in a new item keeps old's expiry whatever T says (memcached sets T on the
 * old item then); a created one gets vivify_exptime and flags 0.
 * Returns CACHE_OK, CACHE_NOT_FOUND, CACHE_EXISTS, the plan's status (CACHE_NON_NUMERIC) or
 * CACHE_NO_MEMORY; r is filled on CACHE_OK.
 */
enum cache_status cache_meta_arith(struct cache *c, const char *key, size_t nkey,
                                   const struct cache_meta_arith_opts *o, struct cache_meta_arith_result *r);

#endif
