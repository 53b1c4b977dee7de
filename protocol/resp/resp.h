/*
 * resp.h: Redis's protocol (RESP2, and RESP3 after HELLO 3) as a struct proto_ops: a session parses
 * requests (resp_parse.h), executes the string and key commands a cache needs against the same
 * storage engine memcached's protocols use, and writes Redis 7.0's replies into the connection's
 * output queue (resp_reply.h). No sockets: the server feeds bytes and writes the queue out.
 *
 * One keyspace: a key set over RESP is an item with client flags 0 that memcached's get reads, and
 * a memcached item reads back its bytes over RESP, whatever its flags.
 *
 * Shared state: struct resp_context is read-only after setup and shared by every session (the
 * client id counter in it is atomic); struct resp_stats is one per worker thread, written only by
 * that thread's sessions (relaxed atomic stores), read by others for INFO.
 */
#ifndef CAIRN_PROTOCOL_RESP_H
#define CAIRN_PROTOCOL_RESP_H

#include <stdatomic.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "protocol/proto.h"

struct auth;
struct cache;
struct resp_cluster_ref;
struct outq;
struct resp_session;
struct slowlog;

/* Per-thread counters (INFO's stats section; summed over the workers by the server). */
struct resp_stats {
    uint64_t commands;       /* total_commands_processed */
    uint64_t keyspace_hits;  /* lookups of a key that was there */
    uint64_t keyspace_misses;
    uint64_t expired_keys;   /* keys deleted by a past expiry given to EXPIRE/SET... */
    uint64_t errors;         /* total_error_replies */
    uint64_t connections;    /* RESP connections accepted (total) */
    uint64_t rejected_calls; /* commands refused (unknown, arity, syntax, NOAUTH, NOPERM) */
    uint64_t auth_cmds;      /* authentication attempts with credentials configured (AUTH, HELLO AUTH) */
    uint64_t auth_errors;    /* the failed ones (acl_access_denied_auth) */
    uint64_t denied_cmds;    /* commands refused to the user's role (acl_access_denied_cmd) */
};

/* What the server knows that INFO, CONFIG and CLIENT report; filled on request by the server's
 * callback (any thread). Fields that have no meaning here stay 0. */
struct resp_server_info {
    const char *version; /* cairn's version (INFO's cairn_version; redis_version says 7.0.15) */
    int64_t process_id;
    int64_t tcp_port;          /* the RESP port, else the memcached port */
    int64_t uptime_s;
    int64_t unix_ms;           /* server time now */
    uint64_t connected_clients, total_connections, rejected_connections, maxclients;
    uint64_t used_memory;      /* bytes of items (cache stats bytes) */
    uint64_t used_memory_rss;  /* RSS of the process, 0 if unknown */
    uint64_t maxmemory;        /* the cache's memory limit */
    uint64_t total_commands;   /* every protocol */
    uint64_t keyspace_hits, keyspace_misses, evicted_keys, expired_keys;
    uint64_t error_replies; /* total_error_replies: resp_stats.errors summed */
    uint64_t acl_denied_auth, acl_denied_cmd; /* resp_stats.auth_errors, .denied_cmds summed */
    uint64_t net_input_bytes, net_output_bytes;
    uint64_t keys, expires;    /* keys (curr_items); keys with an expiry (0 if not counted) */
    /* persistence: the snapshot */
    bool snapshot_enabled, snapshot_in_progress, last_save_ok;
    int64_t last_save_unix; /* rdb_last_save_time; 0: the start time is reported */
    uint64_t changes_since_save;
    unsigned snapshot_interval_s; /* --snapshot-interval (CONFIG GET save: "<s> 0"); 0 = none */
    unsigned threads;
    unsigned timeout_s;        /* idle timeout ("timeout" config) */
    const char *bind;          /* the listening addresses, space separated (CONFIG GET bind); NULL:
                                * bind is not reported */
};

typedef void (*resp_info_fn)(void *server, struct resp_server_info *out);

/* CONFIG SET timeout: the server applies a new idle timeout (seconds, 0 = none); false if it cannot. */
typedef bool (*resp_set_timeout_fn)(void *server, unsigned seconds);

/* CONFIG RESETSTAT: the server zeroes the counters INFO reports (every worker's resp_stats, its own);
 * the cache's counters are reset by the protocol (cache_stats_reset). */
typedef void (*resp_reset_stats_fn)(void *server);

/* Client list support: the server walks its connections and, for each RESP one, asks the protocol to
 * describe it (CLIENT LIST / CLIENT INFO). */
typedef void (*resp_client_walk_fn)(void *server,
                                    void (*each)(void *arg, void *sess, const char *addr, const char *laddr,
                                                 int fd, int64_t age_s, int64_t idle_s),
                                    void *arg);

struct resp_context {
    struct cache *cache;
    size_t item_size_max;  /* -I: larger values get Redis's size error */
    bool enable_shutdown;  /* -A: SHUTDOWN is allowed */
    bool flush_disabled;   /* -F: FLUSHALL/FLUSHDB refused */
    bool admin_disabled;   /* --disable-admin-commands */
    bool snapshot_enabled; /* SAVE/BGSAVE go to the server (PROTO_WAIT) */
    const char *version;   /* cairn's version, for HELLO and INFO */
    size_t out_pause;      /* as mc_context.out_pause: PROTO_PAUSE at this output weight; 0 = never */
    _Atomic uint64_t *recv_bytes; /* the receiving budget shared with memcached's protocol */
    uint64_t recv_limit;
    size_t query_max;      /* bytes one request may hold while it arrives (parser bound) */
    void *server;
    resp_info_fn info;
    resp_client_walk_fn clients;
    resp_set_timeout_fn set_timeout;  /* NULL: CONFIG SET timeout is refused (immutable) */
    resp_reset_stats_fn reset_stats;  /* NULL: CONFIG RESETSTAT resets the cache's counters only */
    _Atomic uint64_t *next_client_id; /* CLIENT ID source, shared by every session */
    /* Credentials (protocol/auth.h); NULL = none configured: every connection is the admin user
     * "default", as Redis's default user with no password. */
    const struct auth *auth;
    /* Cluster mode (protocol/resp/resp_cluster.h): the topology in force, swapped on reload; NULL =
     * cluster support disabled (Redis's non-cluster answers, no redirects). */
    const struct resp_cluster_ref *cluster;
    /* The server's slow log (protocol/slowlog.h): SLOWLOG, CONFIG slowlog-*; NULL = none (SLOWLOG
     * answers as an empty log that nothing enters). */
    struct slowlog *slowlog;
};

/* Redis's answer to a connection past the connection limit (-c). */
#define RESP_REJECT_LINE "-ERR max number of clients reached\r\n"

/* RESP as a struct proto_ops (protocol/proto.h): ctx is a struct resp_context, stats a struct
 * resp_stats. */
extern const struct proto_ops resp_proto_ops;

/* As resp_proto_ops, for a --resp-port listener: the same protocol (inline commands work on either:
 * only the first byte of the memcached port decides). */

/* The names of RESP's top-level commands, by index (timing slot TIMING_RESP_BASE + i,
 * protocol/timing.h); NULL past the last. */
const char *resp_command_name(size_t i);

/* Adds t's counters into sum (t may be another thread's live block). */
void resp_stats_add(struct resp_stats *sum, const struct resp_stats *t);

/* The fields of a session that CLIENT LIST shows (called by the thread walking the connections:
 * the session's id, name and last command are read with relaxed atomics). Writes one line without
 * a newline into buf; returns its length. */
size_t resp_session_describe(void *sess, const char *addr, const char *laddr, int fd, int64_t age_s, int64_t idle_s,
                             char *buf, size_t size);

#endif
