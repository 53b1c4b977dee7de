/*
 * metrics.c: one reading of every figure (metrics_collect), for every view, and the Prometheus text
 * exposition (metrics_prometheus). The table of figures is metrics_defs.c. See metrics.h.
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
#include "protocol/resp/resp_errstats.h"
#include "server/latency.h"
#include "server/metrics.h"
#include "server/snapshot_ctl.h"

/* Keys /metrics lists as cairn_hotkey_accesses. */
#define METRICS_HOT_KEYS 10

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
    v->snapshot_load_left_out = st.load_left_out;
    v->snapshot_load_duration_us = st.load_duration_us;
    v->snapshot_last_status = st.last_status;
    v->snapshot_load_status = st.load_status;
}

/* The process's CPU time (`stats` rusage_user and rusage_system, /metrics' process_cpu_seconds). */
static void collect_rusage(struct metric_values *v)
{
    struct rusage ru;

    getrusage(RUSAGE_SELF, &ru);
    v->rusage_user_us = (uint64_t)ru.ru_utime.tv_sec * 1000000 + (uint64_t)ru.ru_utime.tv_usec;
    v->rusage_system_us = (uint64_t)ru.ru_stime.tv_sec * 1000000 + (uint64_t)ru.ru_stime.tv_usec;
}

/* See metrics.h. */
void metrics_collect(struct server *srv, struct metric_values *v, bool with_conns)
{
    memset(v, 0, sizeof(*v));
    stats_sum_counters(srv, &v->mc, &v->ws, &v->resp, &v->total_conns, &v->rejected_conns,
                       &v->listen_disabled);
    cache_stats_get(srv->cache, &v->cache);
    int64_t now = atomic_load_explicit(&srv->now, memory_order_relaxed);
    v->time_s = now > 0 ? (uint64_t)now : 0;
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
    v->cluster_reloads = atomic_load_explicit(&srv->cluster_reloads, memory_order_relaxed);
    v->cluster_retired = atomic_load_explicit(&srv->cluster_retired_n, memory_order_relaxed);
    v->reply_pause_bytes = CONN_OUT_PAUSE;
    v->output_timeout_s = srv->settings->output_timeout;
    v->request_timeout_s = srv->settings->request_timeout;
    v->idle_timeout_s = srv->settings->idle_timeout;
    v->read_buf_limit = srv->settings->read_buf_limit;
    v->recv_limit = srv->ctx.recv_limit;
    if (with_conns)
        count_protocols(srv, v->conns_by_proto);
    collect_snapshot(srv, v);
    collect_rusage(v);
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
    static const char *const protos[METRIC_NPROTO] = {"memcache_text", "memcache_binary", "resp",
                                                      "undecided"};
    int rc = family(b, "connections_by_protocol", "gauge", "Open connections by protocol (undecided: no byte yet).");
    for (int p = 0; p < METRIC_NPROTO && rc == 0; p++) {
        char labels[48];
        snprintf(labels, sizeof(labels), "{protocol=\"%s\"}", protos[p]);
        rc = sample(b, "connections_by_protocol", labels, v->conns_by_proto[p]);
    }
    double cpu = (double)(v->rusage_user_us + v->rusage_system_us) / 1e6;
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

struct prom_errors_arg {
    struct evbuffer *b;
    int rc;
};

static void prom_error_code(void *arg, const char *code, uint64_t count)
{
    struct prom_errors_arg *a = arg;
    if (a->rc == 0 && strpbrk(code, "\"\\\n") == NULL) /* codes are cairn's words; never a broken label */
        a->rc = evbuffer_add_printf(a->b, "cairn_resp_errors_by_code_total{code=\"%s\"} %" PRIu64 "\n", code,
                                    count) < 0
                    ? -1
                    : 0;
}

/* RESP's error replies by code, INFO errorstats' figures. */
static int prom_errors(struct server *srv, struct evbuffer *b)
{
    struct prom_errors_arg a = {b, 0};
    a.rc =
        family(b, "resp_errors_by_code_total", "counter",
               "RESP error replies by code, their first word (INFO errorstats); since the last stats reset.");
    if (a.rc == 0)
        resp_errstats_each(srv->resp_ctx.errstats, prom_error_code, &a);
    return a.rc;
}

int metrics_prometheus(struct server *srv, struct evbuffer *b)
{
    struct metric_values v;
    metrics_collect(srv, &v, true);
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
        rc = prom_errors(srv, b);
    if (rc == 0)
        rc = latency_prometheus(srv, b);
    return rc;
}
