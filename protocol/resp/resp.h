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

/*
 * Per-thread counters, declared once: X(field, metric, info, help) with metric the server's
 * Prometheus name (cairn_<metric>_total), info Redis INFO's name for the same figure (NULL: none, or
 * only as part of a sum the server computes) and help a sentence for /metrics. The list makes struct
 * resp_stats's fields and the server's table of figures (server/metrics_defs.c).
 */
#define RESP_STATS_FIELDS(X)                                                                                 \
    X(commands, "resp_commands", NULL, "RESP commands processed.")                                           \
    X(keyspace_hits, "resp_keyspace_hits", NULL, "RESP lookups of a key that was there.")                    \
    X(keyspace_misses, "resp_keyspace_misses", NULL, "RESP lookups of a key that was not there.")            \
    X(expired_keys, "resp_expired_keys", NULL, "Keys deleted by a past expiry given over RESP.")             \
    X(errors, "resp_error_replies", "total_error_replies", "RESP error replies.")                            \
    X(connections, "resp_connections", NULL, "RESP connections accepted.")                                   \
    X(rejected_calls, "resp_rejected_calls", NULL,                                                           \
      "RESP commands refused (unknown, arity, syntax, NOAUTH, NOPERM).")                                     \
    X(auth_cmds, "resp_auth_attempts", NULL, "RESP authentication attempts (in auth_cmds too).")             \
    X(auth_errors, "resp_auth_failures", "acl_access_denied_auth",                                           \
      "Failed RESP authentications (INFO's acl_access_denied_auth; in auth_errors too).")                    \
    X(denied_cmds, "resp_denied_commands", "acl_access_denied_cmd",                                          \
      "RESP commands refused to the user's role (INFO's acl_access_denied_cmd).")

/* Per-thread counters (INFO's stats section; summed over the workers by the server). */
struct resp_stats {
#define RESP_STATS_FIELD(field, metric, info, help) uint64_t field;
    RESP_STATS_FIELDS(RESP_STATS_FIELD)
#undef RESP_STATS_FIELD
};
_Static_assert(sizeof(struct resp_stats) % sizeof(uint64_t) == 0, "resp_stats holds only uint64_t");

/*
 * INFO's figures that are one of the server's counters or gauges as it is: X(field, info) with field
 * the struct resp_server_info member and info its INFO name ("keys" and "expires": the fields of the
 * db0 line). The server fills them by name (resp_server_info_set) from its table of figures, where
 * each carries its INFO name, so that INFO cannot miss one; INFO prints them in Redis's order.
 */
#define RESP_INFO_FIGURES(X)                                                                                 \
    X(connected_clients, "connected_clients")                                                                \
    X(total_connections, "total_connections_received")                                                       \
    X(rejected_connections, "rejected_connections")                                                          \
    X(maxclients, "maxclients")                                                                              \
    X(maxmemory, "maxmemory")                                                                                \
    X(evicted_keys, "evicted_keys")                                                                          \
    X(error_replies, "total_error_replies")                                                                  \
    X(acl_denied_auth, "acl_access_denied_auth")                                                             \
    X(acl_denied_cmd, "acl_access_denied_cmd")                                                               \
    X(net_input_bytes, "total_net_input_bytes")                                                              \
    X(net_output_bytes, "total_net_output_bytes")                                                            \
    X(keys, "keys")                                                                                          \
    X(expires, "expires")

/* What the server knows that INFO, CONFIG and CLIENT report; filled on request by the server's
 * callback (any thread). Fields that have no meaning here stay 0. */
struct resp_server_info {
    const char *version; /* cairn's version (INFO's cairn_version; redis_version says 7.0.15) */
    int64_t process_id;
    int64_t tcp_port;          /* the RESP port, else the memcached port */
    int64_t uptime_s;
    int64_t unix_ms;           /* server time now */
#define RESP_INFO_FIGURE(field, info) uint64_t field;
    RESP_INFO_FIGURES(RESP_INFO_FIGURE) /* see RESP_INFO_FIGURES */
#undef RESP_INFO_FIGURE
    /* INFO's sums and derived figures, computed by the server (see stats_resp_info) */
    uint64_t used_memory;     /* bytes of items and the hash table */
    uint64_t used_memory_rss; /* RSS of the process, 0 if unknown */
    uint64_t total_commands;  /* every protocol */
    uint64_t keyspace_hits, keyspace_misses, expired_keys;
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

/* Sets the RESP_INFO_FIGURES member whose INFO name is info to v; false when no member has that name. */
bool resp_server_info_set(struct resp_server_info *i, const char *info, uint64_t v);

/* CONFIG SET timeout: the server applies a new idle timeout (seconds, 0 = none); false if it cannot. */
typedef bool (*resp_set_timeout_fn)(void *server, unsigned seconds);

/* CONFIG RESETSTAT: the server zeroes the counters INFO reports (every worker's resp_stats, its own);
 * the cache's counters are reset by the protocol (cache_stats_reset). */
typedef void (*resp_reset_stats_fn)(void *server);

/* One RESP command's figures since start, for INFO commandstats and latencystats (quantiles are the
 * upper bounds of the log2 buckets of protocol/timing.h, in microseconds). */
struct resp_cmd_figures {
    const char *name;
    uint64_t calls, usec, rejected, failed;
    uint64_t p50_us, p99_us, p999_us;
};

/* The server calls each for every RESP command that ran or was refused. */
typedef void (*resp_cmdstats_fn)(void *server, void (*each)(void *arg, const struct resp_cmd_figures *f),
                                 void *arg);

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
    resp_cmdstats_fn cmdstats;        /* NULL: INFO commandstats and latencystats are empty */
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
    /* INFO errorstats (protocol/resp/resp_errstats.h): error replies by code; NULL = not counted. */
    struct resp_errstats *errstats;
};

/* Redis's answer to a connection past the connection limit (-c). */
#define RESP_REJECT_LINE "-ERR max number of clients reached\r\n"

/* RESP as a struct proto_ops (protocol/proto.h): ctx is a struct resp_context, stats a struct
 * resp_stats. */
extern const struct proto_ops resp_proto_ops;

/* As resp_proto_ops, for a --resp-port listener: the same protocol (inline commands work on either:
 * only the first byte of the memcached port decides). */

/* The name of the RESP command counted in timing slot TIMING_RESP_BASE + i (protocol/timing.h) into
 * buf: "get", or for a subcommand "client|setname" (Redis's full name); false past the last. */
bool resp_command_name(size_t i, char *buf, size_t size);

/* The fields of a session that CLIENT LIST shows (called by the thread walking the connections:
 * the session's id, name and last command are read with relaxed atomics). Writes one line without
 * a newline into buf; returns its length. */
size_t resp_session_describe(void *sess, const char *addr, const char *laddr, int fd, int64_t age_s, int64_t idle_s,
                             char *buf, size_t size);

#endif
