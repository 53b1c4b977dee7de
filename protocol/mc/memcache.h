/*
 * memcache.h: memcached's classic text protocol: parsing request lines, receiving value blocks and
 * executing commands against the storage engine, writing responses into a struct outq.
 *
 * The protocol layer never touches a socket. A connection (server/) owns one struct mc_session and
 * feeds it bytes; the session parses and executes every complete request in order (pipelining) and
 * appends the responses to the connection's queue. Values of storage commands are written straight
 * into the newly allocated item: the server asks for the value window and read()s into it.
 *
 * Shared state: struct mc_context is read-only after setup and shared by every session; struct
 * mc_stats is one per worker thread, written only by that thread's sessions (relaxed atomic stores, so
 * another thread may read it for `stats` without a lock).
 */
#ifndef CAIRN_PROTOCOL_MEMCACHE_H
#define CAIRN_PROTOCOL_MEMCACHE_H

#include <stdatomic.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "protocol/proto.h"

struct auth;
struct cache;
struct outq;
struct mc_session;
struct mc_shared;
struct slowlog;

/* Limits. A request line longer than MC_LINE_MAX without a newline is refused (the connection is
 * closed), except get-style lines, which may run to MC_KEYS_LINE_MAX. */
#define MC_LINE_MAX      2048u
#define MC_KEYS_LINE_MAX (256u * 1024u)

/*
 * Per-thread protocol counters, declared once: X(name, info, help) with name memcached's `stats` name
 * (and the field), info Redis INFO's name for the same figure (NULL: none) and help a sentence for
 * /metrics. The list makes struct mc_stats's fields and the server's table of figures (server/
 * metrics_defs.c: Prometheus cairn_<name>_total, `stats` <name>, INFO <info>), so a counter added
 * here is reported everywhere; where it goes in memcached's `stats` order is server/stats.c's layout.
 */
#define MC_STATS_FIELDS(X)                                                                                   \
    X(cmd_get, NULL, "Keys requested by get-style commands (text, meta, binary).")                           \
    X(cmd_set, NULL, "Storage commands (set, add, replace, append, prepend, cas, ms).")                      \
    X(cmd_flush, NULL, "flush_all commands.")                                                                \
    X(cmd_touch, NULL, "Touch commands (touch, gat, gats).")                                                 \
    X(cmd_meta, NULL, "Meta debug commands (me), as memcached counts cmd_meta.")                             \
    X(get_hits, NULL, "Keys found by get-style commands.")                                                   \
    X(get_misses, NULL, "Keys not found by get-style commands.")                                             \
    X(get_expired, NULL, "Keys not found because they had expired.")                                         \
    X(get_flushed, NULL, "Keys not found because a flush_all had invalidated them.")                         \
    X(delete_misses, NULL, "Deletes of keys that were not there.")                                           \
    X(delete_hits, NULL, "Deletes of keys that were there.")                                                 \
    X(incr_misses, NULL, "incr of keys that were not there.")                                                \
    X(incr_hits, NULL, "incr of keys that were there.")                                                      \
    X(decr_misses, NULL, "decr of keys that were not there.")                                                \
    X(decr_hits, NULL, "decr of keys that were there.")                                                      \
    X(cas_misses, NULL, "cas of keys that were not there.")                                                  \
    X(cas_hits, NULL, "cas that stored.")                                                                    \
    X(cas_badval, NULL, "cas refused because the item had changed.")                                         \
    X(touch_hits, NULL, "Touches of keys that were there.")                                                  \
    X(touch_misses, NULL, "Touches of keys that were not there.")                                            \
    X(store_too_large, NULL, "Stores refused for a value larger than -I.")                                   \
    X(store_no_memory, NULL, "Stores refused for want of memory.")                                           \
    X(auth_cmds, NULL, "Authentication attempts (text, SASL, RESP AUTH and HELLO AUTH).")                    \
    X(auth_errors, NULL, "Failed authentication attempts (every protocol).")                                 \
    X(bytes_read, "total_net_input_bytes", "Bytes read from memcached-protocol clients.")                    \
    X(bytes_written, "total_net_output_bytes", "Bytes written to memcached-protocol clients.")

/* Per-thread protocol counters, named as memcached's `stats` (MC_STATS_FIELDS). */
struct mc_stats {
#define MC_STATS_FIELD(name, info, help) uint64_t name;
    MC_STATS_FIELDS(MC_STATS_FIELD)
#undef MC_STATS_FIELD
};
_Static_assert(sizeof(struct mc_stats) % sizeof(uint64_t) == 0, "mc_stats holds only uint64_t");

/* How the server answered a `stats` request. */
enum mc_stats_result {
    MC_STATS_END = 0, /* lines written; the protocol appends "END\r\n" */
    MC_STATS_DONE,    /* the whole reply was written (e.g. "RESET\r\n" for `stats reset`) */
    MC_STATS_UNKNOWN  /* no such group: the protocol answers as memcached does */
};

/* The server writes every "STAT name value\r\n" line for `stats` with argc/argv the tokens after
 * the word stats (argc 0 for plain `stats`): its own figures, the per-thread struct mc_stats summed
 * with mc_stats_add(), and the cache's (cache_stats_get()). */
typedef enum mc_stats_result (*mc_stats_fn)(void *arg, int argc, char **argv, struct outq *out);

/* Server actions the protocol cannot take itself. */
typedef void (*mc_verbosity_fn)(void *arg, unsigned level);

struct mc_context {
    struct cache *cache;
    size_t item_size_max; /* -I: values larger than this get SERVER_ERROR object too large */
    bool enable_shutdown; /* -A */
    bool use_cas;
    const char *version; /* "VERSION <version>" */
    void *server;        /* passed back to the callbacks */
    mc_stats_fn stats;
    mc_verbosity_fn verbosity;
    struct mc_shared *shared; /* admin state (stats detail, lru_crawler settings); may be NULL */
    bool snapshot_enabled;    /* --snapshot-path given: `snapshot` goes to the server (PROTO_WAIT) */
    /* Reply backpressure: no request (and no further key of a multi-key get) is executed while the
     * output queue's outq_weight() is at or above this; the feed returns PROTO_PAUSE. 0 = never. */
    size_t out_pause;
    /* Values being received: bytes of items allocated for values not yet complete, for every
     * session (a counter the server owns), and the most that values of more than MC_RECV_SMALL
     * bytes may hold in all; past it such a value is refused as out of memory. NULL = no bound. */
    _Atomic uint64_t *recv_bytes;
    uint64_t recv_limit;
    bool flush_disabled; /* -F: flush_all answers "CLIENT_ERROR flush_all not allowed" */
    bool admin_disabled; /* --disable-admin-commands: server-wide commands are refused */
    bool watch_disabled; /* -W: watch answers "CLIENT_ERROR watch commands not allowed" */
    bool reassign_disabled; /* -o no_slab_reassign: "CLIENT_ERROR slab reassignment disabled" */
    bool dump_disabled;     /* -X: stats cachedump and lru_crawler metadump are refused */
    /* Credentials (protocol/auth.h); NULL = none configured: every connection is admin. With them,
     * text connections authenticate as memcached's -Y and binary ones with SASL PLAIN. */
    const struct auth *auth;
    struct slowlog *slowlog; /* the server's slow log (protocol/slowlog.h): `stats slowlog`; NULL = none */
};

/* Values up to this size are always given an item (a stalled one pins little); larger ones count
 * against mc_context.recv_limit. */
#define MC_RECV_SMALL ((uint64_t)16 * 1024)

/* memcached's text protocols as a struct proto_ops (protocol/proto.h): ctx is a struct mc_context,
 * stats a struct mc_stats. The functions below are the same operations, typed. */
extern const struct proto_ops mc_proto_ops;

/* Creates a session for one connection. stats is the calling worker thread's counter block. */
struct mc_session *mc_session_create(const struct mc_context *ctx, struct mc_stats *stats);

/* Frees the session, releasing any half-received item; clears *s. NULL is a no-op. */
void mc_session_destroy(struct mc_session **s);

/*
 * Consumes input: parses and executes every complete request in buf[0..len) in order, appending the
 * responses to out. *consumed gets the bytes used; the rest (an incomplete line) must be offered again
 * with more data after it. While a value block is pending, value bytes in buf are copied into the item.
 * Stops early (with bytes left) only when returning PROTO_CLOSE, PROTO_SHUTDOWN, PROTO_WAIT,
 * PROTO_PAUSE or PROTO_BUSY.
 */
enum proto_status mc_session_feed(struct mc_session *s, const char *buf, size_t len, size_t *consumed,
                                  struct outq *out);

/* After PROTO_WAIT: what the server is asked to do; returns it once, then PROTO_WAIT_NONE. */
enum proto_wait mc_session_take_wait(struct mc_session *s);

/* While a value block is pending: where the next value bytes go and how many are still due, so the
 * server can read() into the item directly. Returns false when no value is pending. */
bool mc_session_value_window(struct mc_session *s, char **dst, size_t *len);

/* Tells the session n bytes were placed at the window. The value's "\r\n" arrives through feed. */
void mc_session_value_filled(struct mc_session *s, size_t n);

/* After PROTO_BUSY: the next storage line whose value the budget cannot take is refused
 * (SERVER_ERROR out of memory storing object) instead of answering PROTO_BUSY again. */
void mc_session_no_wait(struct mc_session *s);

/* Whether the session is inside a value block (receiving or swallowing it). */
bool mc_session_mid_value(const struct mc_session *s);

/* Appends memcached's line for an outcome the server reached on the session's behalf. */
void mc_session_answer(struct mc_session *s, const struct proto_outcome *o, struct outq *out);

/* Adds t's counters into sum. */
void mc_stats_add(struct mc_stats *sum, const struct mc_stats *t);

/* Subtracts base from a (`stats reset` keeps a baseline instead of writing another thread's block). */
void mc_stats_sub(struct mc_stats *a, const struct mc_stats *base);

/*
 * Shared admin state, one per server, mutable at run time by admin commands and safe to use from
 * every thread: the per-key-prefix statistics of `stats detail` (a mutex-protected table, counted
 * only while detail is on) and the lru_crawler settings memcached accepts. delimiter is -D (':').
 * Returns NULL on no memory.
 */
struct mc_shared *mc_shared_create(char delimiter);

/* Frees the state; clears *sh. NULL is a no-op. No session may still use it. */
void mc_shared_destroy(struct mc_shared **sh);

/* storage's join_fits for memcached's append/prepend: arg is the struct mc_context; whether the joined
 * item is within -I by memcached's accounting (mc_item_fits). */
bool mc_join_fits(const void *arg, size_t nkey, uint32_t client_flags, uint64_t nbytes);

/* Turns per-prefix counting on or off (`stats detail on|off`; the server's -D turns it on). */
void mc_detail_set(struct mc_shared *sh, bool on);

/* Whether `stats detail on` is in force. */
bool mc_detail_enabled(const struct mc_shared *sh);

/* The prefix delimiter (stats settings stat_key_prefix). */
char mc_detail_delimiter(const struct mc_shared *sh);

/* Drops every prefix's counters (`stats reset`). */
void mc_detail_reset(struct mc_shared *sh);

/* `lru_crawler sleep` and `lru_crawler tocrawl` as last set (stats settings; defaults 100 and 0). */
unsigned mc_crawler_sleep(const struct mc_shared *sh);
unsigned mc_crawler_tocrawl(const struct mc_shared *sh);

/* The crawler settings at start (memcached's -o lru_crawler/no_lru_crawler, lru_crawler_sleep,
 * lru_crawler_tocrawl); the commands change them later. Main thread, before any session. */
void mc_crawler_setup(struct mc_shared *sh, bool on, unsigned sleep, unsigned tocrawl);

/* Whether `lru_crawler enable` is in force (the default, as in memcached). */
bool mc_crawler_enabled(const struct mc_shared *sh);

/* The server's reclaim timer: how many more items (at most max) the crawl that `lru_crawler crawl`
 * asked for should visit now; 0 when none is running. Each call takes them off what is left, so
 * once it returns 0 the next crawl is accepted (until then it is BUSY). Any thread. */
size_t mc_crawler_take(struct mc_shared *sh, size_t max);

/* At most this many prefixes are tracked by `stats detail`; new ones beyond it are counted as
 * dropped (a PREFIXES_DROPPED line in `stats detail dump`). */
#define MC_DETAIL_MAX_PREFIXES 10000u

/* The detail table's prefix count and how many new prefixes it dropped (full). */
void mc_detail_counts(struct mc_shared *sh, size_t *prefixes, uint64_t *dropped);

#endif
