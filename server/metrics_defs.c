/*
 * metrics_defs.c: the table of every figure the server reports (metric_defs, see metrics.h). The
 * per-worker counters come from their X-macro lists (protocol/mc/memcache.h, protocol/resp/resp.h,
 * server/server_internal.h), so adding a counter there is one line; the server's own counters and
 * gauges and the cache's are listed here. Order is /metrics' (and the status page's); memcached's
 * `stats` order is server/stats.c's layout. Kept apart from the collector so that a unit test can
 * link the table alone.
 */
#include "config.h"

#include <string.h>

#include "server/metrics.h"

#define OFF(field) offsetof(struct metric_values, field)

/* Shorthands: the per-worker counters from their lists, a counter or gauge of the server or cache. */
/* clang-format off */
#define MC_DEF(field, info, help)           {#field "_total", METRIC_COUNTER, help, #field, info, OFF(mc.field), false},
#define WS_DEF(field, metric, stats, help)  {metric "_total", METRIC_COUNTER, help, stats, NULL, OFF(ws.field), false},
#define RESP_DEF(field, metric, info, help) {metric "_total", METRIC_COUNTER, help, NULL, info, OFF(resp.field), false},
#define COUNTER(name, mc, info, off, help)  {name "_total", METRIC_COUNTER, help, mc, info, off, false}
#define GAUGE(name, mc, info, off, help)    {name, METRIC_GAUGE, help, mc, info, off, false}
#define GAUGE_US(name, mc, off, help)       {name, METRIC_GAUGE, help, mc, NULL, off, true}
/* clang-format on */

const struct metric_def metric_defs[] = {
    /* memcached's protocols (MC_STATS_FIELDS) */
    MC_STATS_FIELDS(MC_DEF)

    /* connections */
    GAUGE("curr_connections", "curr_connections", "connected_clients", OFF(curr_conns),
          "Open client connections."),
    GAUGE("max_connections", "max_connections", "maxclients", OFF(max_conns), "The connection limit (-c)."),
    COUNTER("connections", "total_connections", "total_connections_received", OFF(total_conns),
            "Connections accepted."),
    COUNTER("rejected_connections", "rejected_connections", "rejected_connections", OFF(rejected_conns),
            "Connections refused at the connection limit."),
    GAUGE("connection_structures", "connection_structures", NULL, OFF(conn_structs),
          "Connection structures allocated."),
    COUNTER("listen_disabled", "listen_disabled_num", NULL, OFF(listen_disabled),
            "Times accepting was paused at the connection limit."),
    GAUGE("accepting_connections", "accepting_conns", NULL, OFF(accepting),
          "1 while new connections are accepted."),
    GAUGE("threads", "threads", NULL, OFF(threads), "Worker threads."),
    GAUGE("uptime_seconds", "uptime", NULL, OFF(uptime_s), "Seconds since the server started."),

    /* what clients may take (`stats clients` and `stats`): the workers' counters (WORKER_STATS_FIELDS)
     * and the server's gauges and bounds */
    WORKER_STATS_FIELDS(WS_DEF) GAUGE("read_buf_bytes", "read_buf_bytes", NULL, OFF(read_buf_bytes),
                                      "Read-buffer bytes beyond each connection's first."),
    GAUGE("receiving_bytes", "receiving_bytes", NULL, OFF(recv_bytes), "Bytes of values being received."),
    GAUGE("receiving_waiting", "receiving_waiting", NULL, OFF(recv_waiting),
          "Connections whose storage request waits for the receiving budget."),

    COUNTER("ref_overflows", "ref_overflows", NULL, OFF(ref_overflows),
            "References counted past an item's state word (more simultaneous readers of one item than it "
            "holds)."),
    GAUGE("reply_pause_bytes", "reply_pause_bytes", NULL, OFF(reply_pause_bytes),
          "Unread reply bytes at which a connection's requests pause."),
    GAUGE("output_timeout_seconds", "output_timeout", NULL, OFF(output_timeout_s),
          "--output-timeout (0: never)."),
    GAUGE("request_timeout_seconds", "request_timeout", NULL, OFF(request_timeout_s),
          "--request-timeout (0: never)."),
    GAUGE("idle_timeout_seconds", "idle_timeout", NULL, OFF(idle_timeout_s), "-o idle_timeout (0: never)."),
    GAUGE("read_buf_limit_bytes", "read_buf_limit", NULL, OFF(read_buf_limit),
          "--read-buf-limit in bytes (0: none)."),
    GAUGE("receiving_limit_bytes", "receiving_limit", NULL, OFF(recv_limit),
          "Bytes values being received may hold in all."),

    /* RESP (RESP_STATS_FIELDS) */
    RESP_STATS_FIELDS(RESP_DEF)

    /* the cache */
    GAUGE("limit_bytes", "limit_maxbytes", "maxmemory", OFF(cache.limit_maxbytes),
          "Memory for items (-m), bytes."),
    GAUGE("bytes", "bytes", NULL, OFF(cache.bytes), "Bytes of the items stored (header, key, value)."),
    GAUGE("malloced_bytes", "total_malloced", NULL, OFF(cache.total_malloced),
          "Bytes of slab pages handed to classes."),
    GAUGE("items", "curr_items", "keys", OFF(cache.curr_items), "Items stored."),
    GAUGE("items_with_expiry", NULL, "expires", OFF(cache.expires), "Items stored with an expiry."),
    COUNTER("items_stored", "total_items", NULL, OFF(cache.total_items), "Items stored since start."),
    COUNTER("evictions", "evictions", "evicted_keys", OFF(cache.evictions), "Items evicted to make room."),
    COUNTER("evicted_unfetched", "evicted_unfetched", NULL, OFF(cache.evicted_unfetched),
            "Items evicted that were never read."),
    COUNTER("evicted_active", "evicted_active", NULL, OFF(cache.evicted_active),
            "Items evicted although recently read."),
    COUNTER("expired_unfetched", "expired_unfetched", NULL, OFF(cache.expired_unfetched),
            "Items expired that were never read."),
    COUNTER("reclaimed", "reclaimed", NULL, OFF(cache.reclaimed), "Expired items whose memory was reused."),
    COUNTER("slabs_moved", "slabs_moved", NULL, OFF(cache.slabs_moved), "Pages moved between slab classes."),
    COUNTER("slab_reassign_rescues", "slab_reassign_rescues", NULL, OFF(cache.rescues),
            "Live items moved when a page was vacated."),
    COUNTER("slab_reassign_busy_items", "slab_reassign_busy_items", NULL, OFF(cache.busy_items),
            "Page vacates given up for an item being read."),
    GAUGE("slab_pages", NULL, NULL, OFF(cache.curr_pages), "Pages assigned to slab classes."),
    GAUGE("slab_pages_limit", NULL, NULL, OFF(cache.total_pages), "Pages the memory limit allows."),
    GAUGE("slab_global_page_pool", "slab_global_page_pool", NULL, OFF(cache.pool_pages),
          "Pages in the free pool."),
    GAUGE("hash_power_level", "hash_power_level", NULL, OFF(cache.hash_power_level),
          "log2 of the hash table's buckets."),
    GAUGE("hash_bytes", "hash_bytes", NULL, OFF(cache.hash_bytes), "Bytes of the hash table."),
    GAUGE("hash_is_expanding", "hash_is_expanding", NULL, OFF(cache.hash_is_expanding),
          "1 while the hash table grows."),

    /* snapshots */
    GAUGE("snapshot_enabled", NULL, NULL, OFF(snapshot_enabled), "1 when --snapshot-path is set."),
    GAUGE("snapshot_in_progress", "snapshot_in_progress", NULL, OFF(snapshot_in_progress),
          "1 while a save runs."),
    COUNTER("snapshot_saves", "snapshot_saves", NULL, OFF(snapshot_saves), "Snapshots saved."),
    COUNTER("snapshot_failures", "snapshot_failures", NULL, OFF(snapshot_failures),
            "Snapshot saves that failed."),
    GAUGE("snapshot_last_time_seconds", "snapshot_last_time", NULL, OFF(snapshot_last_time),
          "Unix time the last save ended (0: none)."),
    GAUGE("snapshot_last_items", "snapshot_last_items", NULL, OFF(snapshot_last_items),
          "Items in the last save."),
    GAUGE("snapshot_last_bytes", "snapshot_last_bytes", NULL, OFF(snapshot_last_bytes),
          "Bytes of the last save."),
    GAUGE_US("snapshot_last_duration_seconds", "snapshot_last_duration_us", OFF(snapshot_last_duration_us),
             "How long the last save took."),
    GAUGE("snapshot_loaded_items", "snapshot_loaded_items", NULL, OFF(snapshot_loaded_items),
          "Items loaded at start."),
    GAUGE("snapshot_load_left_out", "snapshot_load_left_out", NULL, OFF(snapshot_load_left_out),
          "Records of the snapshot not loaded at start for lack of memory (or too large)."),
    GAUGE_US("snapshot_load_duration_seconds", "snapshot_load_duration_us", OFF(snapshot_load_duration_us),
             "How long the start-up load took."),

    /* cluster mode */
    COUNTER("cluster_reloads", NULL, NULL, OFF(cluster_reloads),
            "Cluster topologies put in force by SIGHUP."),
    GAUGE("cluster_topologies_retired", NULL, NULL, OFF(cluster_retired),
          "Replaced cluster topologies kept until no worker can be reading them (freed within seconds)."),
};

const size_t metric_ndefs = sizeof(metric_defs) / sizeof(metric_defs[0]);

/* See metrics.h. A linear walk: `stats` asks for some ninety names, a few microseconds. */
const struct metric_def *metric_by_mc_name(const char *mc_name)
{
    for (size_t i = 0; i < metric_ndefs; i++)
        if (metric_defs[i].mc_name != NULL && strcmp(metric_defs[i].mc_name, mc_name) == 0)
            return &metric_defs[i];
    return NULL;
}
