/*
 * metrics.c: the table of every figure (metric_defs), one reading of them (metrics_collect) and the
 * Prometheus text exposition (metrics_prometheus). See metrics.h.
 */
#include "config.h"

#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <time.h>
#include <unistd.h>

#include <event2/buffer.h>

#include "protocol/mc/mc_dump.h"
#include "protocol/mcbin/mcbin.h"
#include "server/latency.h"
#include "server/metrics.h"
#include "server/snapshot_ctl.h"

/* Keys /metrics lists as cairn_hotkey_accesses. */
#define METRICS_HOT_KEYS 10

#define OFF(field) offsetof(struct metric_values, field)

/* Shorthands: a counter of memcached's commands block, a counter or gauge with no block of its own. */
#define MC_CMD(name, field, help) {name "_total", METRIC_COUNTER, help, #field, METRIC_MC_COMMANDS, OFF(mc.field)}
#define COUNTER(name, mc, off, help) {name "_total", METRIC_COUNTER, help, mc, METRIC_MC_NONE, off}
#define GAUGE(name, mc, off, help)   {name, METRIC_GAUGE, help, mc, METRIC_MC_NONE, off}

const struct metric_def metric_defs[] = {
    /* memcached's protocols: the commands block of `stats`, in memcached's order */
    MC_CMD("cmd_get", cmd_get, "Keys requested by get-style commands (text, meta, binary)."),
    MC_CMD("cmd_set", cmd_set, "Storage commands (set, add, replace, append, prepend, cas, ms)."),
    MC_CMD("cmd_flush", cmd_flush, "flush_all commands."),
    MC_CMD("cmd_touch", cmd_touch, "Touch commands (touch, gat, gats)."),
    MC_CMD("cmd_meta", cmd_meta, "Meta debug commands (me), as memcached counts cmd_meta."),
    MC_CMD("get_hits", get_hits, "Keys found by get-style commands."),
    MC_CMD("get_misses", get_misses, "Keys not found by get-style commands."),
    MC_CMD("get_expired", get_expired, "Keys not found because they had expired."),
    MC_CMD("get_flushed", get_flushed, "Keys not found because a flush_all had invalidated them."),
    MC_CMD("delete_misses", delete_misses, "Deletes of keys that were not there."),
    MC_CMD("delete_hits", delete_hits, "Deletes of keys that were there."),
    MC_CMD("incr_misses", incr_misses, "incr of keys that were not there."),
    MC_CMD("incr_hits", incr_hits, "incr of keys that were there."),
    MC_CMD("decr_misses", decr_misses, "decr of keys that were not there."),
    MC_CMD("decr_hits", decr_hits, "decr of keys that were there."),
    MC_CMD("cas_misses", cas_misses, "cas of keys that were not there."),
    MC_CMD("cas_hits", cas_hits, "cas that stored."),
    MC_CMD("cas_badval", cas_badval, "cas refused because the item had changed."),
    MC_CMD("touch_hits", touch_hits, "Touches of keys that were there."),
    MC_CMD("touch_misses", touch_misses, "Touches of keys that were not there."),
    MC_CMD("store_too_large", store_too_large, "Stores refused for a value larger than -I."),
    MC_CMD("store_no_memory", store_no_memory, "Stores refused for want of memory."),
    MC_CMD("auth_cmds", auth_cmds, "Authentication attempts (text, SASL, RESP AUTH and HELLO AUTH)."),
    MC_CMD("auth_errors", auth_errors, "Failed authentication attempts (every protocol)."),
    {"idle_kicks_total", METRIC_COUNTER, "Connections closed for idling past -o idle_timeout.", "idle_kicks",
     METRIC_MC_COMMANDS_IF_IDLE, OFF(ws.idle_kicks)},
    MC_CMD("bytes_read", bytes_read, "Bytes read from memcached-protocol clients."),
    MC_CMD("bytes_written", bytes_written, "Bytes written to memcached-protocol clients."),

    /* connections */
    GAUGE("curr_connections", "curr_connections", OFF(curr_conns), "Open client connections."),
    GAUGE("max_connections", "max_connections", OFF(max_conns), "The connection limit (-c)."),
    COUNTER("connections", "total_connections", OFF(total_conns), "Connections accepted."),
    COUNTER("rejected_connections", "rejected_connections", OFF(rejected_conns),
            "Connections refused at the connection limit."),
    GAUGE("connection_structures", "connection_structures", OFF(conn_structs), "Connection structures allocated."),
    COUNTER("listen_disabled", "listen_disabled_num", OFF(listen_disabled),
            "Times accepting was paused at the connection limit."),
    GAUGE("accepting_connections", "accepting_conns", OFF(accepting), "1 while new connections are accepted."),
    GAUGE("threads", "threads", OFF(threads), "Worker threads."),
    GAUGE("uptime_seconds", "uptime", OFF(uptime_s), "Seconds since the server started."),

    /* what clients may take (`stats clients` and `stats`) */
    COUNTER("conn_yields", "conn_yields", OFF(ws.conn_yields),
            "Reads cut short by -R so that other connections get a turn."),
    COUNTER("reply_pauses", "reply_pauses", OFF(ws.reply_pauses),
            "Requests held back because the connection's replies went unread."),
    COUNTER("request_timeouts", "request_timeouts", OFF(ws.request_timeouts),
            "Connections closed mid-request by --request-timeout."),
    COUNTER("output_timeouts", "output_timeouts", OFF(ws.output_timeouts),
            "Connections closed because their replies went unread (--output-timeout)."),
    COUNTER("read_buf_oom", "read_buf_oom", OFF(ws.read_buf_oom),
            "Connections refused a longer read buffer (--read-buf-limit)."),
    COUNTER("response_obj_oom", "response_obj_oom", OFF(ws.response_obj_oom),
            "Connections closed because a reply could not be allocated."),
    COUNTER("receive_waits", "receiving_waits", OFF(ws.receive_waits),
            "Storage requests held back until the receiving budget had room."),
    COUNTER("receive_stalls", "receiving_stalls", OFF(ws.receive_stalls),
            "Uploads closed for sending nothing while others waited for the receiving budget."),
    GAUGE("read_buf_bytes", "read_buf_bytes", OFF(read_buf_bytes), "Read-buffer bytes beyond each connection's first."),
    GAUGE("receiving_bytes", "receiving_bytes", OFF(recv_bytes), "Bytes of values being received."),
    GAUGE("receiving_waiting", "receiving_waiting", OFF(recv_waiting),
          "Connections whose storage request waits for the receiving budget."),

    COUNTER("ref_overflows", "ref_overflows", OFF(ref_overflows),
            "References counted past an item's state word (more simultaneous readers of one item than it holds)."),
    GAUGE("reply_pause_bytes", "reply_pause_bytes", OFF(reply_pause_bytes),
          "Unread reply bytes at which a connection's requests pause."),
    GAUGE("output_timeout_seconds", "output_timeout", OFF(output_timeout_s), "--output-timeout (0: never)."),
    GAUGE("request_timeout_seconds", "request_timeout", OFF(request_timeout_s), "--request-timeout (0: never)."),
    GAUGE("idle_timeout_seconds", "idle_timeout", OFF(idle_timeout_s), "-o idle_timeout (0: never)."),
    GAUGE("read_buf_limit_bytes", "read_buf_limit", OFF(read_buf_limit), "--read-buf-limit in bytes (0: none)."),
    GAUGE("receiving_limit_bytes", "receiving_limit", OFF(recv_limit),
          "Bytes values being received may hold in all."),

    /* RESP */
    COUNTER("resp_commands", NULL, OFF(resp.commands), "RESP commands processed."),
    COUNTER("resp_keyspace_hits", NULL, OFF(resp.keyspace_hits), "RESP lookups of a key that was there."),
    COUNTER("resp_keyspace_misses", NULL, OFF(resp.keyspace_misses), "RESP lookups of a key that was not there."),
    COUNTER("resp_expired_keys", NULL, OFF(resp.expired_keys), "Keys deleted by a past expiry given over RESP."),
    COUNTER("resp_error_replies", NULL, OFF(resp.errors), "RESP error replies."),
    COUNTER("resp_connections", NULL, OFF(resp.connections), "RESP connections accepted."),
    COUNTER("resp_rejected_calls", NULL, OFF(resp.rejected_calls),
            "RESP commands refused (unknown, arity, syntax, NOAUTH, NOPERM)."),
    COUNTER("resp_auth_attempts", NULL, OFF(resp.auth_cmds), "RESP authentication attempts (in auth_cmds too)."),
    COUNTER("resp_auth_failures", NULL, OFF(resp.auth_errors),
            "Failed RESP authentications (INFO's acl_access_denied_auth; in auth_errors too)."),
    COUNTER("resp_denied_commands", NULL, OFF(resp.denied_cmds),
            "RESP commands refused to the user's role (INFO's acl_access_denied_cmd)."),

    /* the cache */
    GAUGE("limit_bytes", "limit_maxbytes", OFF(cache.limit_maxbytes), "Memory for items (-m), bytes."),
    GAUGE("bytes", "bytes", OFF(cache.bytes), "Bytes of the items stored (header, key, value)."),
    GAUGE("malloced_bytes", "total_malloced", OFF(cache.total_malloced), "Bytes of slab pages handed to classes."),
    GAUGE("items", "curr_items", OFF(cache.curr_items), "Items stored."),
    GAUGE("items_with_expiry", NULL, OFF(cache.expires), "Items stored with an expiry."),
    COUNTER("items_stored", "total_items", OFF(cache.total_items), "Items stored since start."),
    COUNTER("evictions", "evictions", OFF(cache.evictions), "Items evicted to make room."),
    COUNTER("evicted_unfetched", "evicted_unfetched", OFF(cache.evicted_unfetched),
            "Items evicted that were never read."),
    COUNTER("evicted_active", "evicted_active", OFF(cache.evicted_active),
            "Items evicted although recently read."),
    COUNTER("expired_unfetched", "expired_unfetched", OFF(cache.expired_unfetched),
            "Items expired that were never read."),
    COUNTER("reclaimed", "reclaimed", OFF(cache.reclaimed), "Expired items whose memory was reused."),
    COUNTER("slabs_moved", "slabs_moved", OFF(cache.slabs_moved), "Pages moved between slab classes."),
    COUNTER("slab_reassign_rescues", "slab_reassign_rescues", OFF(cache.rescues),
            "Live items moved when a page was vacated."),
    COUNTER("slab_reassign_busy_items", "slab_reassign_busy_items", OFF(cache.busy_items),
            "Page vacates given up for an item being read."),
    GAUGE("slab_pages", NULL, OFF(cache.curr_pages), "Pages assigned to slab classes."),
    GAUGE("slab_pages_limit", NULL, OFF(cache.total_pages), "Pages the memory limit allows."),
    GAUGE("slab_global_page_pool", "slab_global_page_pool", OFF(cache.pool_pages), "Pages in the free pool."),
    GAUGE("hash_power_level", "hash_power_level", OFF(cache.hash_power_level), "log2 of the hash table's buckets."),
    GAUGE("hash_bytes", "hash_bytes", OFF(cache.hash_bytes), "Bytes of the hash table."),
    GAUGE("hash_is_expanding", "hash_is_expanding", OFF(cache.hash_is_expanding), "1 while the hash table grows."),

    /* snapshots */
    GAUGE("snapshot_enabled", NULL, OFF(snapshot_enabled), "1 when --snapshot-path is set."),
    GAUGE("snapshot_in_progress", "snapshot_in_progress", OFF(snapshot_in_progress), "1 while a save runs."),
    COUNTER("snapshot_saves", "snapshot_saves", OFF(snapshot_saves), "Snapshots saved."),
    COUNTER("snapshot_failures", "snapshot_failures", OFF(snapshot_failures), "Snapshot saves that failed."),
    GAUGE("snapshot_last_time_seconds", "snapshot_last_time", OFF(snapshot_last_time),
          "Unix time the last save ended (0: none)."),
    GAUGE("snapshot_last_items", "snapshot_last_items", OFF(snapshot_last_items), "Items in the last save."),
    GAUGE("snapshot_last_bytes", "snapshot_last_bytes", OFF(snapshot_last_bytes), "Bytes of the last save."),
    {"snapshot_last_duration_seconds", METRIC_GAUGE, "How long the last save took.", "snapshot_last_duration_us",
     METRIC_MC_NONE, OFF(snapshot_last_duration_us), true},
    GAUGE("snapshot_loaded_items", "snapshot_loaded_items", OFF(snapshot_loaded_items), "Items loaded at start."),
};

const size_t metric_ndefs = sizeof(metric_defs) / sizeof(metric_defs[0]);

/* Counts each worker's connections by protocol (under its conns_lock). */
static void count_protocols(struct server *srv, uint64_t *by)
{
    for (unsigned i = 0; i < srv->nworkers; i++) {
        struct worker *w = &srv->workers[i];
        pthread_mutex_lock(&w->conns_lock);
        for (struct conn *c = w->conns; c != NULL; c = c->next) {
            if (c->sess == NULL)
                by[METRIC_PROTO_NONE]++;
            else if (c->ops == &resp_proto_ops)
                by[METRIC_PROTO_RESP]++;
            else if (c->ops == &mcbin_proto_ops)
                by[METRIC_PROTO_BINARY]++;
            else
                by[METRIC_PROTO_TEXT]++;
        }
        pthread_mutex_unlock(&w->conns_lock);
    }
}

static void collect_snapshot(struct server *srv, struct metric_values *v)
{
    struct snapshot_ctl_stats st;

    if (srv->snapshot == NULL)
        return;
    snapshot_ctl_stats(srv->snapshot, &st);
    v->snapshot_enabled = 1;
    v->snapshot_in_progress = st.in_progress;
    v->snapshot_saves = st.saves;
    v->snapshot_failures = st.failures;
    v->snapshot_last_time = st.last_time > 0 ? (uint64_t)st.last_time : 0;
    v->snapshot_last_items = st.last_items;
    v->snapshot_last_bytes = st.last_bytes;
    v->snapshot_last_duration_us = st.last_duration_us;
    v->snapshot_loaded_items = st.loaded_items;
}

void metrics_collect(struct server *srv, struct metric_values *v)
{
    memset(v, 0, sizeof(*v));
    stats_sum_counters(srv, &v->mc, &v->ws, &v->resp, &v->total_conns, &v->rejected_conns,
                       &v->listen_disabled);
    cache_stats_get(srv->cache, &v->cache);
    int64_t now = atomic_load_explicit(&srv->now, memory_order_relaxed);
    v->uptime_s = now > (int64_t)srv->started ? (uint64_t)(now - (int64_t)srv->started) : 0;
    v->curr_conns = atomic_load_explicit(&srv->curr_conns, memory_order_relaxed);
    v->conn_structs = atomic_load_explicit(&srv->conn_structs, memory_order_relaxed);
    v->max_conns = srv->settings->maxconns;
    v->read_buf_bytes = atomic_load_explicit(&srv->rbuf_extra, memory_order_relaxed);
    v->recv_bytes = atomic_load_explicit(&srv->recv_bytes, memory_order_relaxed);
    v->recv_waiting = atomic_load_explicit(&srv->recv_waiting, memory_order_relaxed);
    v->threads = srv->nworkers;
    v->accepting = atomic_load(&srv->accepting) ? 1 : 0;
    v->ref_overflows = cache_ref_overflows(srv->cache);
    v->reply_pause_bytes = CONN_OUT_PAUSE;
    v->output_timeout_s = srv->settings->output_timeout;
    v->request_timeout_s = srv->settings->request_timeout;
    v->idle_timeout_s = srv->settings->idle_timeout;
    v->read_buf_limit = srv->settings->read_buf_limit;
    v->recv_limit = srv->ctx.recv_limit;
    count_protocols(srv, v->conns_by_proto);
    collect_snapshot(srv, v);
}

/* ---- Prometheus text exposition ---- */

/* HELP and TYPE; a figure `stats` also shows names its memcached name at the end of the help. */
static int family_of(struct evbuffer *b, const char *name, const char *type, const char *help, const char *mc)
{
    int n = mc != NULL ? evbuffer_add_printf(b, "# HELP cairn_%s %s (stats: %s)\n# TYPE cairn_%s %s\n", name, help,
                                             mc, name, type)
                       : evbuffer_add_printf(b, "# HELP cairn_%s %s\n# TYPE cairn_%s %s\n", name, help, name, type);
    return n < 0 ? -1 : 0;
}

static int family(struct evbuffer *b, const char *name, const char *type, const char *help)
{
    return family_of(b, name, type, help, NULL);
}

static int sample(struct evbuffer *b, const char *name, const char *labels, uint64_t v)
{
    return evbuffer_add_printf(b, "cairn_%s%s %" PRIu64 "\n", name, labels, v) < 0 ? -1 : 0;
}

/* Connections by protocol, and the process's CPU and memory. */
static int prom_process(struct evbuffer *b, const struct metric_values *v)
{
    static const char *const protos[METRIC_NPROTO] = {"memcache_text", "memcache_binary", "resp", "undecided"};
    struct rusage ru;
    int rc = family(b, "connections_by_protocol", "gauge", "Open connections by protocol (undecided: no byte yet).");
    for (int p = 0; p < METRIC_NPROTO && rc == 0; p++) {
        char labels[48];
        snprintf(labels, sizeof(labels), "{protocol=\"%s\"}", protos[p]);
        rc = sample(b, "connections_by_protocol", labels, v->conns_by_proto[p]);
    }
    getrusage(RUSAGE_SELF, &ru);
    double cpu = (double)ru.ru_utime.tv_sec + (double)ru.ru_stime.tv_sec +
                 ((double)ru.ru_utime.tv_usec + (double)ru.ru_stime.tv_usec) / 1e6;
    if (rc == 0)
        rc = family(b, "process_cpu_seconds_total", "counter", "User and system CPU time of the process.");
    if (rc == 0 && evbuffer_add_printf(b, "cairn_process_cpu_seconds_total %.6f\n", cpu) < 0)
        rc = -1;
    if (rc == 0)
        rc = family(b, "build_info", "gauge", "Always 1; the labels name the build.");
    if (rc == 0 && evbuffer_add_printf(b, "cairn_build_info{version=\"%s\",protocol_version=\"%s\"} 1\n",
                                       PACKAGE_VERSION, CAIRN_PROTOCOL_VERSION) < 0)
        rc = -1;
    return rc;
}

/* One gauge family per slab-class figure, a sample per class that owns pages. */
static int prom_classes(struct server *srv, struct evbuffer *b)
{
    static const struct {
        const char *name, *type, *help;
        size_t off;
    } figs[] = {
        {"class_pages", "gauge", "Pages of the slab class.", offsetof(struct cache_class_stats, total_pages)},
        {"class_chunks_used", "gauge", "Chunks of the class holding items.", offsetof(struct cache_class_stats, used_chunks)},
        {"class_chunks_free", "gauge", "Free chunks of the class.", offsetof(struct cache_class_stats, free_chunks)},
        {"class_items", "gauge", "Items of the class.", offsetof(struct cache_class_stats, number)},
        {"class_requested_bytes", "gauge", "Bytes of the class's items before rounding to chunks.",
         offsetof(struct cache_class_stats, mem_requested)},
        {"class_age_seconds", "gauge", "Seconds since the oldest item the eviction hand sees was used.",
         offsetof(struct cache_class_stats, age)},
        {"class_evictions_total", "counter", "Items of the class evicted.", offsetof(struct cache_class_stats, evicted)},
        {"class_outofmemory_total", "counter", "Stores into the class refused for want of memory.",
         offsetof(struct cache_class_stats, outofmemory)},
    };
    unsigned n = cache_class_count(srv->cache);
    struct cache_class_stats *cs = calloc(n + 1, sizeof(*cs));
    if (cs == NULL)
        return -1;
    for (unsigned id = 1; id <= n; id++)
        cache_class_stats_get(srv->cache, id, &cs[id]);
    int rc = 0;
    for (size_t f = 0; f < sizeof(figs) / sizeof(figs[0]) && rc == 0; f++) {
        rc = family(b, figs[f].name, figs[f].type, figs[f].help);
        for (unsigned id = 1; id <= n && rc == 0; id++) {
            if (cs[id].total_pages == 0)
                continue;
            char labels[64];
            snprintf(labels, sizeof(labels), "{class=\"%u\",chunk_size=\"%u\"}", id, cs[id].chunk_size);
            rc = sample(b, figs[f].name, labels, *(const uint64_t *)((const char *)&cs[id] + figs[f].off));
        }
    }
    free(cs);
    return rc;
}

/* The most used keys (storage/hotkeys.h) as a gauge labelled by rank and key; the key URL-encoded
 * (memcached's metadump form), so that any byte of a RESP key is a valid label value. */
static int prom_hotkeys(struct server *srv, struct evbuffer *b)
{
    struct cache_hotkey top[METRICS_HOT_KEYS];
    size_t n = cache_hotkeys(srv->cache, top, METRICS_HOT_KEYS);
    char enc[3 * sizeof(top[0].key) + 1];
    int rc = family(b, "hotkey_accesses", "gauge",
                    "Estimated accesses of the most used keys since the last stats reset (sampled).");
    for (size_t i = 0; i < n && rc == 0; i++) {
        size_t len = mc_dump_urlencode(top[i].key, top[i].nkey, enc);
        if (evbuffer_add_printf(b, "cairn_hotkey_accesses{rank=\"%zu\",key=\"%.*s%s\"} %" PRIu64 "\n", i + 1,
                                (int)len, enc, top[i].truncated ? "..." : "", top[i].accesses) < 0)
            rc = -1;
    }
    return rc;
}

int metrics_prometheus(struct server *srv, struct evbuffer *b)
{
    struct metric_values v;
    metrics_collect(srv, &v);
    int rc = 0;
    for (size_t i = 0; i < metric_ndefs && rc == 0; i++) {
        const struct metric_def *d = &metric_defs[i];
        rc = family_of(b, d->name, d->type == METRIC_COUNTER ? "counter" : "gauge", d->help, d->mc_name);
        if (rc == 0 && d->micros)
            rc = evbuffer_add_printf(b, "cairn_%s %.6f\n", d->name, (double)metric_value(&v, d) / 1e6) < 0 ? -1 : 0;
        else if (rc == 0)
            rc = sample(b, d->name, "", metric_value(&v, d));
    }
    if (rc == 0)
        rc = prom_process(b, &v);
    if (rc == 0)
        rc = prom_classes(srv, b);
    if (rc == 0)
        rc = prom_hotkeys(srv, b);
    if (rc == 0)
        rc = latency_prometheus(srv, b);
    return rc;
}
