/*
 * status.c: the history behind the status page and the /stats.json document. See status.h.
 *
 * Once a second a timer on the listener thread reads the few counters the page charts (commands,
 * lookups, evictions) and the gauges (bytes, connections, items), turns the counters into rates over
 * the time that really passed and keeps the sample in a ring of STATUS_HISTORY, so a page that has
 * just opened shows the last minutes at once. The reading is the one `stats` makes (per-worker
 * counters summed under no lock, the cache's under its own), never a connection walk.
 */
#include "config.h"

#include <inttypes.h>
#include <math.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <event2/buffer.h>
#include <event2/event.h>

#include "server/latency.h"
#include "server/metrics.h"
#include "server/status.h"

/* Keys /stats.json lists under hot_keys, commands under latency. */
#define STATUS_HOT_KEYS 10
#define STATUS_LATENCY_ROWS 20

/* The counters a sample's rates come from, read at one moment. */
struct reading {
    uint64_t ops;    /* cmd_get + cmd_set + resp_commands */
    uint64_t hits;   /* get_hits + resp_keyspace_hits */
    uint64_t misses; /* get_misses + resp_keyspace_misses */
    uint64_t evictions;
    uint64_t lat[TIMING_BUCKETS]; /* every command's latency buckets together */
    int64_t mono_us; /* CLOCK_MONOTONIC */
};

/* One second of history. */
struct sample {
    int64_t t_ms; /* Unix time of the reading, milliseconds */
    double ops_per_sec, evictions_per_sec;
    double hit_ratio; /* hits / (hits + misses) over the interval; negative: no lookup in it */
    double p50_us, p99_us, p999_us; /* latency quantiles over the interval; negative: no request */
    uint64_t bytes, limit_bytes, connections, items;
};

struct status {
    struct server *srv;
    struct timing_hist *lat; /* scratch for summing the workers' histograms */
    struct event *timer;
    struct reading last;
    struct sample ring[STATUS_HISTORY];
    size_t next, count; /* the slot the next sample goes to; samples held */
};

static int64_t clock_us(clockid_t id)
{
    struct timespec ts;
    clock_gettime(id, &ts);
    return (int64_t)ts.tv_sec * 1000000 + ts.tv_nsec / 1000;
}

/* Reads the counters into r and the gauges into s (its rates are left alone). */
static void read_now(struct status *st, struct reading *r, struct sample *s)
{
    struct server *srv = st->srv;
    struct mc_stats mc;
    struct worker_stats ws;
    struct resp_stats resp;
    struct cache_stats cs;
    uint64_t total, rejected, disabled;

    stats_sum_counters(srv, &mc, &ws, &resp, &total, &rejected, &disabled);
    cache_stats_get(srv->cache, &cs);
    r->ops = mc.cmd_get + mc.cmd_set + resp.commands;
    r->hits = mc.get_hits + resp.keyspace_hits;
    r->misses = mc.get_misses + resp.keyspace_misses;
    r->evictions = cs.evictions;
    latency_sum(srv, st->lat);
    latency_all(st->lat, r->lat);
    r->mono_us = clock_us(CLOCK_MONOTONIC);
    s->t_ms = clock_us(CLOCK_REALTIME) / 1000;
    s->bytes = cs.bytes;
    s->limit_bytes = cs.limit_maxbytes;
    s->items = cs.curr_items;
    s->connections = atomic_load_explicit(&srv->curr_conns, memory_order_relaxed);
}

/* How much a counter grew; one that went back (`stats reset`) counts from zero. */
static uint64_t grown(uint64_t before, uint64_t after)
{
    return after >= before ? after - before : after;
}

/* The latency quantiles of the requests that ended between two readings (none: negative). */
static void latency_interval(const struct reading *before, const struct reading *after, struct sample *s)
{
    uint64_t d[TIMING_BUCKETS], n = 0;

    for (unsigned b = 0; b < TIMING_BUCKETS; b++) {
        d[b] = grown(before->lat[b], after->lat[b]);
        n += d[b];
    }
    s->p50_us = n > 0 ? (double)timing_quantile_us(d, 0.5) : -1;
    s->p99_us = n > 0 ? (double)timing_quantile_us(d, 0.99) : -1;
    s->p999_us = n > 0 ? (double)timing_quantile_us(d, 0.999) : -1;
}

/* Once a second: a sample of the interval since the last reading. */
static void on_tick(evutil_socket_t fd, short what, void *arg)
{
    struct status *st = arg;
    struct reading now;
    struct sample s;
    (void)fd;
    (void)what;

    read_now(st, &now, &s);
    double dt = (double)(now.mono_us - st->last.mono_us) / 1e6;
    if (dt <= 0)
        return;
    uint64_t hits = grown(st->last.hits, now.hits), misses = grown(st->last.misses, now.misses);
    s.ops_per_sec = (double)grown(st->last.ops, now.ops) / dt;
    s.evictions_per_sec = (double)grown(st->last.evictions, now.evictions) / dt;
    s.hit_ratio = hits + misses > 0 ? (double)hits / (double)(hits + misses) : -1;
    latency_interval(&st->last, &now, &s);
    st->last = now;
    st->ring[st->next] = s;
    st->next = (st->next + 1) % STATUS_HISTORY;
    if (st->count < STATUS_HISTORY)
        st->count++;
}

/* See status.h. */
struct status *status_create(struct server *srv)
{
    struct timeval sec = {1, 0};
    struct sample ignored;
    struct status *st = calloc(1, sizeof(*st));
    if (st == NULL)
        return NULL;
    st->srv = srv;
    st->lat = malloc(sizeof(*st->lat));
    if (st->lat == NULL) {
        free(st);
        return NULL;
    }
    read_now(st, &st->last, &ignored);
    st->timer = event_new(srv->base, -1, EV_PERSIST, on_tick, st);
    if (st->timer == NULL || event_add(st->timer, &sec) != 0) {
        status_destroy(&st);
        return NULL;
    }
    return st;
}

/* See status.h. */
void status_destroy(struct status **st)
{
    if (*st == NULL)
        return;
    if ((*st)->timer != NULL)
        event_free((*st)->timer);
    free((*st)->lat);
    free(*st);
    *st = NULL;
}

/* ---- the JSON document ---- */

/* A document being written: the first failure sticks. */
struct json {
    struct evbuffer *b;
    int rc;
};

static void out(struct json *j, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void out(struct json *j, const char *fmt, ...)
{
    va_list ap;
    if (j->rc != 0)
        return;
    va_start(ap, fmt);
    if (evbuffer_add_vprintf(j->b, fmt, ap) < 0)
        j->rc = -1;
    va_end(ap);
}

/* A JSON string of s: printable ASCII as is except " \ < > &, every other byte as \u00XX, so the
 * result is valid JSON (and harmless inside HTML) whatever bytes s holds. */
static void out_bytes(struct json *j, const char *s, size_t n)
{
    out(j, "\"");
    for (const unsigned char *p = (const unsigned char *)s; p < (const unsigned char *)s + n; p++) {
        if (*p >= 0x20 && *p < 0x7f && strchr("\"\\<>&", *p) == NULL)
            out(j, "%c", *p);
        else
            out(j, "\\u%04x", *p);
    }
    out(j, "\"");
}

static void out_str(struct json *j, const char *s)
{
    out_bytes(j, s, strlen(s));
}

/* "hot_keys": the most used keys (storage/hotkeys.h), most used first; a key's bytes are escaped
 * like any string (a key with bytes outside printable ASCII shows them as \u00XX). */
static void out_hot_keys(struct json *j, struct server *srv)
{
    struct cache_hotkey top[STATUS_HOT_KEYS];
    size_t n = cache_hotkeys(srv->cache, top, STATUS_HOT_KEYS);
    out(j, ",\"hot_keys\":[");
    for (size_t i = 0; i < n; i++) {
        out(j, "%s{\"key\":", i > 0 ? "," : "");
        out_bytes(j, top[i].key, top[i].nkey);
        out(j,
            ",\"accesses\":%" PRIu64 ",\"reads\":%" PRIu64 ",\"writes\":%" PRIu64 ",\"error\":%" PRIu64
            ",\"truncated\":%s}",
            top[i].accesses, top[i].reads, top[i].writes, top[i].error, top[i].truncated ? "true" : "false");
    }
    out(j, "]");
}

/* "name": then the value is written by the caller; first tells whether a comma goes before. */
static void out_key(struct json *j, const char *name, bool first)
{
    if (!first)
        out(j, ",");
    out_str(j, name);
    out(j, ":");
}

/* A number, or null when it is none (infinite, NaN, or negative when negative means none). */
static void out_num(struct json *j, double v, bool negative_is_none)
{
    if (!isfinite(v) || (negative_is_none && v < 0))
        out(j, "null");
    else
        out(j, "%.4f", v);
}

/* "figures": every figure of the metrics table under its Prometheus name (no cairn_ prefix). */
static void out_figures(struct json *j, struct server *srv)
{
    static const char *const protos[METRIC_NPROTO] = {"memcache_text", "memcache_binary", "resp",
                                                      "undecided"};
    struct metric_values v;

    metrics_collect(srv, &v);
    out_key(j, "figures", false);
    out(j, "{");
    for (size_t i = 0; i < metric_ndefs; i++) {
        const struct metric_def *d = &metric_defs[i];
        out_key(j, d->name, i == 0);
        if (d->micros)
            out(j, "%.6f", (double)metric_value(&v, d) / 1e6);
        else
            out(j, "%" PRIu64, metric_value(&v, d));
    }
    out(j, "}");
    out_key(j, "connections_by_protocol", false);
    out(j, "{");
    for (int p = 0; p < METRIC_NPROTO; p++) {
        out_key(j, protos[p], p == 0);
        out(j, "%" PRIu64, v.conns_by_proto[p]);
    }
    out(j, "}");
}

/* The i-th sample, oldest first. */
static const struct sample *sample_at(const struct status *st, size_t i)
{
    return &st->ring[(st->next + STATUS_HISTORY - st->count + i) % STATUS_HISTORY];
}

/* "history": one array per series, oldest first, all of the same length. */
static void out_history(struct json *j, const struct status *st)
{
    enum { T, OPS, HIT, EVICT, BYTES, LIMIT, CONNS, ITEMS, P50, P99, P999, NSERIES };
    static const char *const names[NSERIES] = {
        "t_ms",        "ops_per_sec", "hit_ratio",      "evictions_per_sec", "bytes",          "limit_bytes",
        "connections", "items",       "latency_p50_us", "latency_p99_us",    "latency_p999_us"};
    out_key(j, "history", false);
    out(j, "{\"interval_ms\":1000,\"capacity\":%d", STATUS_HISTORY);
    for (int k = 0; k < NSERIES; k++) {
        out_key(j, names[k], false);
        out(j, "[");
        for (size_t i = 0; i < st->count; i++) {
            const struct sample *s = sample_at(st, i);
            if (i > 0)
                out(j, ",");
            switch (k) {
            case T:
                out(j, "%" PRId64, s->t_ms);
                break;
            case OPS:
                out_num(j, s->ops_per_sec, false);
                break;
            case HIT:
                out_num(j, s->hit_ratio, true);
                break;
            case EVICT:
                out_num(j, s->evictions_per_sec, false);
                break;
            case BYTES:
                out(j, "%" PRIu64, s->bytes);
                break;
            case LIMIT:
                out(j, "%" PRIu64, s->limit_bytes);
                break;
            case CONNS:
                out(j, "%" PRIu64, s->connections);
                break;
            case P50:
                out_num(j, s->p50_us, true);
                break;
            case P99:
                out_num(j, s->p99_us, true);
                break;
            case P999:
                out_num(j, s->p999_us, true);
                break;
            default:
                out(j, "%" PRIu64, s->items);
                break;
            }
        }
        out(j, "]");
    }
    out(j, "}");
}

/* "slab_classes": the classes that hold pages, smallest chunks first. */
static void out_classes(struct json *j, struct server *srv)
{
    unsigned n = cache_class_count(srv->cache);
    bool first = true;

    out_key(j, "slab_classes", false);
    out(j, "[");
    for (unsigned id = 1; id <= n; id++) {
        struct cache_class_stats cs;
        cache_class_stats_get(srv->cache, id, &cs);
        if (cs.total_pages == 0)
            continue;
        out(j,
            "%s{\"class\":%u,\"chunk_size\":%" PRIu32 ",\"pages\":%" PRIu64 ",\"chunks_used\":%" PRIu64
            ",\"chunks_free\":%" PRIu64 ",\"items\":%" PRIu64 ",\"requested_bytes\":%" PRIu64
            ",\"evictions\":%" PRIu64 "}",
            first ? "" : ",", id, cs.chunk_size, cs.total_pages, cs.used_chunks, cs.free_chunks, cs.number,
            cs.mem_requested, cs.evicted);
        first = false;
    }
    out(j, "]");
}

/* "latency": the commands that ran, most run first, with their figures since start (microseconds;
 * quantiles are the upper bounds of log2 buckets). */
static void out_latency(struct json *j, struct status *st)
{
    struct latency_row rows[STATUS_LATENCY_ROWS];

    latency_sum(st->srv, st->lat);
    size_t n = latency_rows(st->lat, rows, STATUS_LATENCY_ROWS);
    out(j, ",\"latency\":[");
    for (size_t i = 0; i < n; i++) {
        const struct latency_row *r = &rows[i];
        out(j,
            "%s{\"protocol\":\"%s\",\"command\":\"%s\",\"count\":%" PRIu64
            ",\"mean_us\":%.1f,\"p50_us\":%" PRIu64 ",\"p99_us\":%" PRIu64 ",\"p999_us\":%" PRIu64 "}",
            i > 0 ? "," : "", r->proto, r->cmd, r->count, (double)r->sum_us / (double)r->count, r->p50_us,
            r->p99_us, r->p999_us);
    }
    out(j, "]");
}

/* See status.h. */
int status_json(struct status *st, struct evbuffer *buf)
{
    struct json j = {buf, 0};

    out(&j, "{");
    out_key(&j, "version", true);
    out_str(&j, PACKAGE_VERSION);
    out_key(&j, "time_ms", false);
    out(&j, "%" PRId64, clock_us(CLOCK_REALTIME) / 1000);
    out_figures(&j, st->srv);
    out_history(&j, st);
    out_classes(&j, st->srv);
    out_hot_keys(&j, st->srv);
    out_latency(&j, st);
    out(&j, "}\n");
    return j.rc;
}
