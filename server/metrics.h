/*
 * metrics.h: every figure the server reports, declared once as data.
 *
 * struct metric_values is one reading of everything (the per-worker counter blocks summed with the
 * `stats reset` baseline taken off, the server's own counters and gauges, the cache's, the process's);
 * metric_defs[] (metrics_defs.c) names each figure once: its Prometheus name, type and help, its
 * memcached `stats` name, its Redis INFO name, and where it lies in struct metric_values. The
 * per-worker counters are declared by X-macro lists (MC_STATS_FIELDS, RESP_STATS_FIELDS,
 * WORKER_STATS_FIELDS) that make both their structs and their table entries. Every view reads
 * metrics_collect() and walks the table: /metrics and the status page print every entry, plain
 * `stats` and `stats clients` print theirs by memcached name in memcached's order (server/stats.c's
 * layouts), INFO takes those with an INFO name (resp_server_info_set). Tests check each name of the
 * table against the `stats` and INFO replies, so no figure can be missing or stale in one view.
 *
 * Threads: metrics_collect() may run on any thread (it reads other threads' counters with relaxed
 * loads, as `stats` does).
 */
#ifndef CAIRN_SERVER_METRICS_H
#define CAIRN_SERVER_METRICS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "protocol/mc/memcache.h"
#include "protocol/resp/resp.h"
#include "server/server_internal.h"
#include "storage/cache.h"

/* Connections by protocol (metric_values.conns_by_proto). */
enum metric_proto { METRIC_PROTO_TEXT = 0, METRIC_PROTO_BINARY, METRIC_PROTO_RESP, METRIC_PROTO_NONE, METRIC_NPROTO };

struct metric_values {
    struct mc_stats mc;     /* memcached's protocols (text, meta, binary), summed, less the baseline */
    struct worker_stats ws; /* connection bounds, summed, less the baseline */
    struct resp_stats resp; /* RESP, summed */
    struct cache_stats cache;
    uint64_t total_conns, rejected_conns, listen_disabled; /* less the baseline */
    uint64_t curr_conns, conn_structs, max_conns, read_buf_bytes, recv_bytes, recv_waiting;
    uint64_t uptime_s, threads, accepting;
    uint64_t ref_overflows;
    uint64_t cluster_reloads, cluster_retired; /* topology reloads; replaced ones not freed yet */
    /* the per-client bounds in force (`stats clients`) */
    uint64_t reply_pause_bytes, output_timeout_s, request_timeout_s, idle_timeout_s, read_buf_limit, recv_limit;
    uint64_t conns_by_proto[METRIC_NPROTO]; /* METRIC_PROTO_NONE: no byte received yet */
    /* snapshots (all 0 without --snapshot-path) */
    uint64_t snapshot_enabled, snapshot_in_progress, snapshot_saves, snapshot_failures, snapshot_last_time,
        snapshot_last_items, snapshot_last_bytes, snapshot_last_duration_us, snapshot_loaded_items,
        snapshot_load_left_out, snapshot_load_duration_us;
    const char *snapshot_last_status, *snapshot_load_status; /* NULL without --snapshot-path */
    /* the process: the server's clock (Unix seconds) and CPU time used (getrusage, microseconds) */
    uint64_t time_s, rusage_user_us, rusage_system_us;
};

enum metric_type { METRIC_COUNTER, METRIC_GAUGE };

struct metric_def {
    const char *name; /* Prometheus: cairn_<name> (counters end in _total) */
    enum metric_type type;
    const char *help;
    const char *mc_name;   /* memcached `stats` (or `stats clients`) name; NULL: none */
    const char *info_name; /* Redis INFO name (resp.h's RESP_INFO_FIGURES); NULL: none */
    size_t offset;         /* of a uint64_t in struct metric_values */
    bool micros;           /* the value is in microseconds; Prometheus shows seconds */
};

extern const struct metric_def metric_defs[];
extern const size_t metric_ndefs;

/* The definition whose memcached name is mc_name; NULL when none is. */
const struct metric_def *metric_by_mc_name(const char *mc_name);

/* Reads every figure. */
/* with_conns: also count the connections by protocol (conns_by_proto), which walks every worker's
 * connection list under its lock; `stats` and INFO, polled often and not showing them, skip it. */
void metrics_collect(struct server *srv, struct metric_values *v, bool with_conns);

/* The value a definition names. */
static inline uint64_t metric_value(const struct metric_values *v, const struct metric_def *d)
{
    return *(const uint64_t *)((const char *)v + d->offset);
}

/* Appends the Prometheus text exposition (format 0.0.4) of everything to buf; false on no memory. */
struct evbuffer;
int metrics_prometheus(struct server *srv, struct evbuffer *buf);

#endif
