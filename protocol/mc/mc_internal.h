/*
 * mc_internal.h: small helpers shared by the memcached protocols' own files (memcache.c, mc_meta.c,
 * mc_admin.c, and the binary protocol's protocol/mcbin/mcbin.c, which applies the same rules); not
 * part of the layer's interface (memcache.h and mcbin.h are).
 *
 * Threads: the counters are one worker's own (see memcache.h): relaxed load + store, never a
 * read-modify-write, because only that worker writes them.
 */
#ifndef CAIRN_PROTOCOL_MC_INTERNAL_H
#define CAIRN_PROTOCOL_MC_INTERNAL_H

#include <stdbool.h>
#include <stdint.h>

#include "protocol/mc/mc_parse.h"
#include "protocol/mc/memcache.h"
#include "protocol/outq.h"
#include "storage/cache.h"

/* A server-wide command from a connection authenticated as an app user (protocol/auth.h). */
#define MC_ERR_PERMISSION "CLIENT_ERROR permission denied\r\n"

/* Adds one to a worker's counter. */
static inline void mc_count(uint64_t *c)
{
    __atomic_store_n(c, __atomic_load_n(c, __ATOMIC_RELAXED) + 1, __ATOMIC_RELAXED);
}

/* Counts why a lookup missed (get_expired, get_flushed). */
static inline void mc_count_miss(struct mc_stats *st, enum cache_miss_reason why)
{
    if (why == CACHE_MISS_EXPIRED)
        mc_count(&st->get_expired);
    else if (why == CACHE_MISS_FLUSHED)
        mc_count(&st->get_flushed);
}

/* Queues line unless the request said noreply. */
static inline void mc_reply(struct outq *out, bool noreply, const char *line)
{
    if (!noreply)
        outq_add_str(out, line);
}

/*
 * memcached's realtime(): a client's exptime as a relative time on the cache's seconds clock. 0 =
 * never (returns 0); negative = already expired; up to 30 days = seconds from now; larger = absolute
 * Unix time. An expired value maps to relative time 1, a time already past (never 0). memcache.c.
 */
uint32_t mc_realtime(const struct cache *c, int64_t client_exptime);

/* A client's exptime (memcached's rules, mc_realtime) as a whole-second expiry for the cache. */
cache_exp_t mc_exptime(const struct cache *c, int64_t client_exptime);

/* flush_all with delay (0 or less: now) as memcached 1.6.18 applies it, an absolute time before the
 * start included (it forgets every flush). */
void mc_flush(struct cache *c, int64_t delay);

/* Whether an item with this key, client flags and value length is within -I (memcached's accounting:
 * non-zero flags take 4 more bytes in its item); memcache.c. */
bool mc_item_fits(const struct mc_context *ctx, size_t nkey, uint32_t flags, uint64_t nbytes);

/* Values being received (mc_context.recv_limit): takes nbytes from the budget for a value about to be
 * allocated; false (nothing taken) when it would pass the limit. Values of at most MC_RECV_SMALL
 * bytes always pass and are not counted. mc_recv_unreserve() gives the same nbytes back. */
bool mc_recv_reserve(const struct mc_context *ctx, uint64_t nbytes);
void mc_recv_unreserve(const struct mc_context *ctx, uint64_t nbytes);

#endif
