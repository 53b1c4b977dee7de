/*
 * stats.c: the server's answer to `stats` and its groups (settings, items, slabs, conns, reset), with
 * exactly memcached 1.6.18's names in memcached's order, so that existing dashboards and exporters read
 * them. Every name memcached prints is printed. Where cairn has the figure it is the true one; for
 * machinery cairn does not have (segmented LRU, LRU crawler and maintainer, log watchers, extstore,
 * TLS, response/read buffer pools, NAPI) the value is what memcached shows with that machinery off
 * or idle (0, "no", its default setting): those are marked "placeholder" below. Items are all in one
 * CLOCK per class, which is reported honestly as memcached's "cold" segment (number_cold = number,
 * number_hot = number_warm = 0).
 *
 * Plain `stats` and `stats clients` are layouts over the table of figures (server/metrics.h): each
 * line is a figure printed under its memcached name, a placeholder, or one of a few formatted lines,
 * all from one metrics_collect(); INFO's figures come from the same reading (stats_resp_info).
 *
 * Counters: the per-worker struct mc_stats, struct worker_stats and struct resp_stats blocks are
 * summed on demand (each written only by its own worker, read here with relaxed loads). `stats reset`
 * never writes another thread's counters: it stores the current sums as a baseline (under
 * stats_lock) that later reports subtract, and zeroes the cache's own counters with
 * cache_stats_reset().
 *
 * Threads: called on whichever worker runs the `stats` request. `stats conns` walks every worker's
 * connection list under that worker's conns_lock.
 */
#include "config.h"

#include <inttypes.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include <event2/event.h>

#include "protocol/mc/memcache.h"
#include "protocol/mc/mc_dump.h"
#include "protocol/mc/mc_slowlog.h"
#include "protocol/outq.h"
#include "protocol/resp/resp_errstats.h"
#include "server/latency.h"
#include "server/metrics.h"
#include "server/server_internal.h"
#include "storage/cache.h"
#include "storage/hotkeys.h"

/* Keys `stats hotkeys` lists. */
#define STATS_HOTKEYS 20

/* Server-side counters that `stats reset` zeroes. */
struct resettable {
    struct mc_stats mc; /* auth_cmds and auth_errors include RESP's attempts */
    struct worker_stats ws;
    struct resp_stats resp;
    uint64_t total_conns, rejected_conns, listen_disabled;
};

/* Adds every worker's counter blocks into r (each another thread's live block: relaxed loads). */
static void add_workers(struct server *srv, struct resettable *r)
{
    for (unsigned i = 0; i < srv->nworkers; i++) {
        struct worker *w = &srv->workers[i];
        proto_counters_add(&r->mc, &w->mc, sizeof(r->mc));
        proto_counters_add(&r->ws, &w->ws, sizeof(r->ws));
        proto_counters_add(&r->resp, &w->resp, sizeof(r->resp));
    }
}

/* Sums every worker's counters and subtracts the `stats reset` baseline; memcached's auth_cmds and
 * auth_errors then take in RESP's attempts (one count of authentication for every protocol). */
static void sum_counters(struct server *srv, struct resettable *r)
{
    memset(r, 0, sizeof(*r));
    add_workers(srv, r);
    r->total_conns = atomic_load_explicit(&srv->total_conns, memory_order_relaxed);
    r->rejected_conns = atomic_load_explicit(&srv->rejected_conns, memory_order_relaxed);
    r->listen_disabled = atomic_load_explicit(&srv->listen_disabled_num, memory_order_relaxed);

    pthread_mutex_lock(&srv->stats_lock);
    proto_counters_sub(&r->mc, &srv->base_mc, sizeof(r->mc));
    proto_counters_sub(&r->ws, &srv->base_ws, sizeof(r->ws));
    proto_counters_sub(&r->resp, &srv->base_resp, sizeof(r->resp));
    r->total_conns -= srv->base_total_conns;
    r->rejected_conns -= srv->base_rejected_conns;
    r->listen_disabled -= srv->base_listen_disabled;
    pthread_mutex_unlock(&srv->stats_lock);
    r->mc.auth_cmds += r->resp.auth_cmds;
    r->mc.auth_errors += r->resp.auth_errors;
}

/* See server_internal.h. */
void stats_sum_counters(struct server *srv, struct mc_stats *mc, struct worker_stats *ws,
                        struct resp_stats *resp, uint64_t *total_conns, uint64_t *rejected_conns,
                        uint64_t *listen_disabled)
{
    struct resettable r;
    sum_counters(srv, &r);
    *mc = r.mc;
    *ws = r.ws;
    *resp = r.resp;
    *total_conns = r.total_conns;
    *rejected_conns = r.rejected_conns;
    *listen_disabled = r.listen_disabled;
}

/* `stats reset`: the current sums become the baseline. */
static void reset_counters(struct server *srv)
{
    struct resettable now;

    memset(&now, 0, sizeof(now));
    add_workers(srv, &now);
    pthread_mutex_lock(&srv->stats_lock);
    srv->base_mc = now.mc;
    srv->base_ws = now.ws;
    srv->base_resp = now.resp;
    srv->base_total_conns = atomic_load_explicit(&srv->total_conns, memory_order_relaxed);
    srv->base_rejected_conns = atomic_load_explicit(&srv->rejected_conns, memory_order_relaxed);
    srv->base_listen_disabled = atomic_load_explicit(&srv->listen_disabled_num, memory_order_relaxed);
    pthread_mutex_unlock(&srv->stats_lock);
    cache_stats_reset(srv->cache);
    cache_hotkeys_reset(srv->cache);
    mc_detail_reset(srv->ctx.shared);
    latency_reset(srv);
    resp_errstats_reset(srv->resp_ctx.errstats);
}

static void stat_u64(struct outq *out, const char *name, uint64_t v)
{
    outq_printf(out, "STAT %s %" PRIu64 "\r\n", name, v);
}

static void stat_str(struct outq *out, const char *name, const char *v)
{
    outq_printf(out, "STAT %s %s\r\n", name, v);
}

/* ---- plain `stats` and `stats clients`: layouts over the table of figures ---- */

/* The lines that are neither a figure of the table nor a placeholder: identity and text. */
static void line_pid(struct outq *out, const char *name, const struct metric_values *v)
{
    (void)v;
    stat_u64(out, name, (uint64_t)getpid());
}

static void line_time(struct outq *out, const char *name, const struct metric_values *v)
{
    stat_u64(out, name, v->time_s);
}

static void line_version(struct outq *out, const char *name, const struct metric_values *v)
{
    (void)v;
    stat_str(out, name, CAIRN_PROTOCOL_VERSION);
}

static void line_libevent(struct outq *out, const char *name, const struct metric_values *v)
{
    (void)v;
    stat_str(out, name, event_get_version());
}

static void line_pointer_size(struct outq *out, const char *name, const struct metric_values *v)
{
    (void)v;
    stat_u64(out, name, 8 * sizeof(void *));
}

/* Seconds with six decimals, as memcached prints rusage. */
static void stat_micros(struct outq *out, const char *name, uint64_t us)
{
    outq_printf(out, "STAT %s %" PRIu64 ".%06" PRIu64 "\r\n", name, us / 1000000, us % 1000000);
}

static void line_rusage_user(struct outq *out, const char *name, const struct metric_values *v)
{
    stat_micros(out, name, v->rusage_user_us);
}

static void line_rusage_system(struct outq *out, const char *name, const struct metric_values *v)
{
    stat_micros(out, name, v->rusage_system_us);
}

static void line_snapshot_last_status(struct outq *out, const char *name, const struct metric_values *v)
{
    stat_str(out, name, v->snapshot_last_status);
}

static void line_snapshot_load_status(struct outq *out, const char *name, const struct metric_values *v)
{
    stat_str(out, name, v->snapshot_load_status);
}

/* When a line is printed: always, only with -o idle_timeout set (memcached's idle_kicks), only with
 * --snapshot-path (cairn's own lines after memcached's). */
enum stat_when { STAT_ALWAYS = 0, STAT_IF_IDLE_TIMEOUT, STAT_IF_SNAPSHOT };

/* One line of a layout: a figure of the table, printed under its memcached name (fn NULL, zero
 * false); a placeholder printed as 0 (zero true); or a line of its own (fn). */
struct stat_line {
    const char *name;
    enum stat_when when;
    bool zero;
    void (*fn)(struct outq *out, const char *name, const struct metric_values *v);
};

/* The layouts' entries, one after another, grouped as memcached prints them. */
/* clang-format off */
#define FIG(n)          {n, STAT_ALWAYS, false, NULL}
#define ZERO(n)         {n, STAT_ALWAYS, true, NULL}
#define LINE(n, f)      {n, STAT_ALWAYS, false, f}
#define IDLE(n)         {n, STAT_IF_IDLE_TIMEOUT, false, NULL}
#define SNAP(n)         {n, STAT_IF_SNAPSHOT, false, NULL}
#define SNAP_LINE(n, f) {n, STAT_IF_SNAPSHOT, false, f}

/* Plain `stats`: memcached 1.6.18's names in its order, then cairn's snapshot lines. */
static const struct stat_line general_layout[] = {
    LINE("pid", line_pid),
    FIG("uptime"),
    LINE("time", line_time),
    LINE("version", line_version),
    LINE("libevent", line_libevent),
    LINE("pointer_size", line_pointer_size),
    LINE("rusage_user", line_rusage_user),
    LINE("rusage_system", line_rusage_system),
    FIG("max_connections"),
    FIG("curr_connections"),
    FIG("total_connections"),
    FIG("rejected_connections"),
    FIG("connection_structures"),
    /* cairn has no response-object or read-buffer pools (memcached 1.6's): the counts and the
     * out-of-memory refusals are real, the pool figures 0 except read_buf_bytes (grown buffers) */
    FIG("response_obj_oom"),
    ZERO("response_obj_count"),
    ZERO("response_obj_bytes"),
    ZERO("read_buf_count"),
    FIG("read_buf_bytes"),
    ZERO("read_buf_bytes_free"),
    FIG("read_buf_oom"),
    ZERO("reserved_fds"),
    /* the commands block */
    FIG("cmd_get"),
    FIG("cmd_set"),
    FIG("cmd_flush"),
    FIG("cmd_touch"),
    FIG("cmd_meta"),
    FIG("get_hits"),
    FIG("get_misses"),
    FIG("get_expired"),
    FIG("get_flushed"),
    FIG("delete_misses"),
    FIG("delete_hits"),
    FIG("incr_misses"),
    FIG("incr_hits"),
    FIG("decr_misses"),
    FIG("decr_hits"),
    FIG("cas_misses"),
    FIG("cas_hits"),
    FIG("cas_badval"),
    FIG("touch_hits"),
    FIG("touch_misses"),
    FIG("store_too_large"),
    FIG("store_no_memory"),
    FIG("auth_cmds"),
    FIG("auth_errors"),
    IDLE("idle_kicks"),
    FIG("bytes_read"),
    FIG("bytes_written"),
    /* server state */
    FIG("limit_maxbytes"),
    FIG("accepting_conns"),
    FIG("listen_disabled_num"),
    ZERO("time_in_listen_disabled_us"), /* placeholder: not measured */
    FIG("threads"),
    FIG("conn_yields"),
    FIG("hash_power_level"),
    FIG("hash_bytes"),
    FIG("hash_is_expanding"),
    /* the page mover; placeholders: cairn moves pages inline (no mover thread, no chunked items) */
    FIG("slab_reassign_rescues"),
    ZERO("slab_reassign_chunk_rescues"),
    ZERO("slab_reassign_evictions_nomem"),
    ZERO("slab_reassign_inline_reclaim"),
    FIG("slab_reassign_busy_items"),
    ZERO("slab_reassign_busy_deletes"),
    ZERO("slab_reassign_running"),
    FIG("slabs_moved"),
    /* placeholders: no LRU crawler, no LRU maintainer, no log watchers, no NAPI */
    ZERO("lru_crawler_running"),
    ZERO("lru_crawler_starts"),
    ZERO("lru_maintainer_juggles"),
    ZERO("malloc_fails"),
    ZERO("log_worker_dropped"),
    ZERO("log_worker_written"),
    ZERO("log_watcher_skipped"),
    ZERO("log_watcher_sent"),
    ZERO("log_watchers"),
    ZERO("unexpected_napi_ids"),
    ZERO("round_robin_fallback"),
    /* the cache */
    FIG("bytes"),
    FIG("curr_items"),
    FIG("total_items"),
    FIG("slab_global_page_pool"),
    FIG("expired_unfetched"),
    FIG("evicted_unfetched"),
    FIG("evicted_active"),
    FIG("evictions"),
    FIG("reclaimed"),
    /* placeholders: no LRU crawler, no segmented LRU (nothing moves between segments) */
    ZERO("crawler_reclaimed"),
    ZERO("crawler_items_checked"),
    ZERO("lrutail_reflocked"),
    ZERO("moves_to_cold"),
    ZERO("moves_to_warm"),
    ZERO("moves_within_lru"),
    ZERO("direct_reclaims"),
    ZERO("lru_bumps_dropped"),
    /* cairn's own, only with --snapshot-path: the last save and the start-up load */
    SNAP("snapshot_in_progress"),
    SNAP("snapshot_saves"),
    SNAP("snapshot_failures"),
    SNAP("snapshot_last_time"),
    SNAP_LINE("snapshot_last_status", line_snapshot_last_status),
    SNAP("snapshot_last_items"),
    SNAP("snapshot_last_bytes"),
    SNAP("snapshot_last_duration_us"),
    SNAP_LINE("snapshot_load_status", line_snapshot_load_status),
    SNAP("snapshot_loaded_items"),
    SNAP("snapshot_load_left_out"),
    SNAP("snapshot_load_duration_us"),
};

/* `stats clients` (cairn's): what each client may take and how often a bound was reached. */
static const struct stat_line clients_layout[] = {
    FIG("reply_pause_bytes"),
    FIG("reply_pauses"),
    FIG("output_timeout"),
    FIG("output_timeouts"),
    FIG("request_timeout"),
    FIG("request_timeouts"),
    FIG("idle_timeout"),
    FIG("idle_kicks"),
    FIG("read_buf_limit"),
    FIG("read_buf_bytes"),
    FIG("read_buf_oom"),
    FIG("response_obj_oom"),
    FIG("receiving_limit"),
    FIG("receiving_bytes"),
    FIG("receiving_waits"),
    FIG("receiving_stalls"),
    FIG("ref_overflows"),
    FIG("receiving_waiting"), /* connections waiting now for the receiving budget */
};
/* clang-format on */

/* Prints a layout from one reading of the figures. A figure's name not in the table would be a
 * mistake of the layout: it prints nothing, and test_differential (memcached's names) and
 * test_metrics (`stats clients`) miss the line. */
static void render(struct server *srv, const struct stat_line *lines, size_t n, struct outq *out)
{
    struct metric_values v;

    metrics_collect(srv, &v, false);
    for (size_t i = 0; i < n; i++) {
        const struct stat_line *l = &lines[i];
        if ((l->when == STAT_IF_IDLE_TIMEOUT && v.idle_timeout_s == 0) ||
            (l->when == STAT_IF_SNAPSHOT && v.snapshot_enabled == 0))
            continue;
        if (l->fn != NULL) {
            l->fn(out, l->name, &v);
        } else if (l->zero) {
            stat_u64(out, l->name, 0);
        } else {
            const struct metric_def *d = metric_by_mc_name(l->name);
            if (d != NULL)
                stat_u64(out, l->name, metric_value(&v, d));
        }
    }
}

/* Plain `stats`. */
static void stats_general(struct server *srv, struct outq *out)
{
    render(srv, general_layout, sizeof(general_layout) / sizeof(general_layout[0]), out);
}

/* stats settings, part 1: maxbytes ... hashpower_init. */
static void settings_server(struct server *srv, const struct cache_stats *cs, struct outq *out)
{
    const struct settings *s = srv->settings;
    char delim[2] = {mc_detail_delimiter(srv->ctx.shared), '\0'};

    stat_u64(out, "maxbytes", cs->limit_maxbytes);
    stat_u64(out, "maxconns", s->maxconns);
    stat_u64(out, "tcpport", s->unix_socket != NULL ? 0 : (uint64_t)s->port);
    stat_u64(out, "udpport", (uint64_t)s->udp_port);
    stat_str(out, "inter", s->unix_socket == NULL && s->listen_spec != NULL ? s->listen_spec : "NULL");
    stat_u64(out, "verbosity", atomic_load_explicit(&srv->verbose, memory_order_relaxed));
    stat_u64(out, "oldest", 0);
    stat_str(out, "evictions", s->no_evict ? "off" : "on");
    stat_str(out, "domain_socket", s->unix_socket != NULL ? s->unix_socket : "NULL");
    outq_printf(out, "STAT umask %o\r\n", s->unix_mask);
    stat_str(out, "shutdown_command", s->enable_shutdown ? "yes" : "no");
    outq_printf(out, "STAT growth_factor %.2f\r\n", s->growth_factor);
    stat_u64(out, "chunk_size", s->chunk_min);
    stat_u64(out, "num_threads", s->threads);
    stat_u64(out, "num_threads_per_udp", s->threads); /* placeholder: no UDP */
    stat_str(out, "stat_key_prefix", delim);
    stat_str(out, "detail_enabled", mc_detail_enabled(srv->ctx.shared) ? "yes" : "no");
    stat_u64(out, "reqs_per_event", s->reqs_per_event);
    stat_str(out, "cas_enabled", s->use_cas ? "yes" : "no");
    stat_u64(out, "tcp_backlog", (uint64_t)s->backlog);
    stat_str(out, "binding_protocol",
             s->protocol == SETTINGS_PROTO_BINARY  ? "binary"
             : s->protocol == SETTINGS_PROTO_ASCII ? "ascii"
                                                   : "auto-negotiate");
    /* With credentials every protocol authenticates: binary with SASL, text as memcached's -Y
     * (which names its file here). */
    bool creds = s->auth_file != NULL || s->requirepass != NULL;
    stat_str(out, "auth_enabled_sasl", creds ? "yes" : "no");
    stat_str(out, "auth_enabled_ascii", s->auth_file != NULL ? s->auth_file : creds ? "yes" : "no");
    stat_u64(out, "item_size_max", s->item_size_max);
    stat_str(out, "maxconns_fast", s->maxconns_fast ? "yes" : "no");
    stat_u64(out, "hashpower_init", s->hashpower_init);
}

/* stats settings, part 2: slab_reassign ... inline_ascii_response. */
static void settings_machinery(struct server *srv, struct outq *out)
{
    const struct mc_shared *sh = srv->ctx.shared;

    stat_str(out, "slab_reassign", srv->settings->slab_reassign ? "yes" : "no");
    stat_u64(out, "slab_automove", cache_automove(srv->cache));
    /* placeholders: memcached's automover tuning, which cairn's policy does not use */
    stat_str(out, "slab_automove_ratio", "0.80");
    stat_u64(out, "slab_automove_window", 30);
    stat_u64(out, "slab_chunk_max", srv->settings->item_size_max); /* one chunk per page at most */
    stat_str(out, "lru_crawler", mc_crawler_enabled(sh) ? "yes" : "no");
    stat_u64(out, "lru_crawler_sleep", mc_crawler_sleep(sh));
    stat_u64(out, "lru_crawler_tocrawl", mc_crawler_tocrawl(sh));
    stat_u64(out, "tail_repair_time", 0);
    stat_str(out, "flush_enabled", srv->settings->flush_enabled ? "yes" : "no");
    stat_str(out, "dump_enabled", srv->settings->dump_disabled ? "no" : "yes");
    stat_str(out, "hash_algorithm", "xxh3");
    stat_str(out, "lru_maintainer_thread", "no");
    stat_str(out, "lru_segmented", "no");
    /* placeholders: segmented-LRU tuning (memcached's defaults; cairn has one CLOCK per class) */
    stat_u64(out, "hot_lru_pct", 20);
    stat_u64(out, "warm_lru_pct", 40);
    stat_str(out, "hot_max_factor", "0.20");
    stat_str(out, "warm_max_factor", "2.00");
    stat_str(out, "temp_lru", "no");
    stat_u64(out, "temporary_ttl", 61);
    stat_u64(out, "idle_timeout", srv->settings->idle_timeout);
    stat_u64(out, "watcher_logbuf_size", 0);
    stat_u64(out, "worker_logbuf_size", 0);
    stat_u64(out, "read_buf_mem_limit", srv->settings->read_buf_limit); /* bytes, as memcached shows it */
    stat_str(out, "track_sizes", "no");
    stat_str(out, "inline_ascii_response", "no");
}

/* stats settings, part 3: ext_* ... memory_file. memcached 1.6.18 as packaged prints the extstore and
 * TLS settings even when neither is in use; these are placeholders with its values for "off", then
 * -N and -e as given. */
static void settings_absent(struct server *srv, struct outq *out)
{
    const struct settings *s = srv->settings;
    static const char *const lines[] = {"ext_item_size 512",     "ext_item_age 4294967295",
                                        "ext_low_ttl 0",         "ext_recache_rate 2000",
                                        "ext_wbuf_size 4194304", "ext_compact_under 0",
                                        "ext_drop_under 0",      "ext_max_sleep 1000000",
                                        "ext_max_frag 0.80",     "slab_automove_freeratio 0.010",
                                        "ext_drop_unread no",    "ssl_enabled no",
                                        "ssl_chain_cert (null)", "ssl_key (null)",
                                        "ssl_verify_mode 0",     "ssl_keyformat 1",
                                        "ssl_ciphers NULL",      "ssl_ca_cert NULL",
                                        "ssl_wbuf_size 16384",   "ssl_session_cache no",
                                        "ssl_kernel_tls no",     "ssl_min_version tlsv1.2"};

    for (size_t i = 0; i < sizeof(lines) / sizeof(lines[0]); i++)
        outq_printf(out, "STAT %s\r\n", lines[i]);
    if (s->napi_ids != 0)
        stat_u64(out, "num_napi_ids", s->napi_ids);
    else
        stat_str(out, "num_napi_ids", "(null)");
    stat_str(out, "memory_file", s->memory_file != NULL ? s->memory_file : "(null)");
}

/* `stats settings`: memcached's settings names, in its order. */
static void stats_settings(struct server *srv, struct outq *out)
{
    struct cache_stats cs;

    memset(&cs, 0, sizeof(cs));
    cache_stats_get(srv->cache, &cs);
    settings_server(srv, &cs, out);
    settings_machinery(srv, out);
    settings_absent(srv, out);
}

/* One "STAT items:<id>:<name> <v>" line. */
static void item_stat(struct outq *out, unsigned id, const char *name, uint64_t v)
{
    outq_printf(out, "STAT items:%u:%s %" PRIu64 "\r\n", id, name, v);
}

/* `stats items` for one class. All items are in one CLOCK, reported as the cold segment. */
static void items_class(struct outq *out, unsigned id, const struct cache_class_stats *cs)
{
    /* placeholders: no tail repairs, crawler, or segment moves */
    static const char *const lru[] = {
        "crawler_reclaimed", "crawler_items_checked", "lrutail_reflocked", "moves_to_cold",
        "moves_to_warm",     "moves_within_lru",      "direct_reclaims"};

    item_stat(out, id, "number", cs->number);
    item_stat(out, id, "number_hot", 0);
    item_stat(out, id, "number_warm", 0);
    item_stat(out, id, "number_cold", cs->number);
    item_stat(out, id, "age_hot", 0);
    item_stat(out, id, "age_warm", 0);
    item_stat(out, id, "age", cs->age);
    item_stat(out, id, "mem_requested", cs->mem_requested);
    item_stat(out, id, "evicted", cs->evicted);
    item_stat(out, id, "evicted_nonzero", cs->evicted_nonzero);
    item_stat(out, id, "evicted_time", cs->evicted_time);
    item_stat(out, id, "outofmemory", cs->outofmemory);
    item_stat(out, id, "tailrepairs", 0);
    item_stat(out, id, "reclaimed", cs->reclaimed);
    item_stat(out, id, "expired_unfetched", cs->expired_unfetched);
    item_stat(out, id, "evicted_unfetched", cs->evicted_unfetched);
    item_stat(out, id, "evicted_active", cs->evicted_active);
    for (size_t i = 0; i < sizeof(lru) / sizeof(lru[0]); i++)
        item_stat(out, id, lru[i], 0);
    item_stat(out, id, "hits_to_hot", 0);
    item_stat(out, id, "hits_to_warm", 0);
    item_stat(out, id, "hits_to_cold", cs->get_hits + cs->touch_hits);
    item_stat(out, id, "hits_to_temp", 0);
}

/* `stats items`: one block per slab class that holds items. */
static void stats_items(struct server *srv, struct outq *out)
{
    unsigned n = cache_class_count(srv->cache);

    for (unsigned id = 1; id <= n; id++) {
        struct cache_class_stats cs;
        memset(&cs, 0, sizeof(cs));
        cache_class_stats_get(srv->cache, id, &cs);
        if (cs.number != 0)
            items_class(out, id, &cs);
    }
}

/* One "STAT <id>:<name> <v>" line. */
static void slab_stat(struct outq *out, unsigned id, const char *name, uint64_t v)
{
    outq_printf(out, "STAT %u:%s %" PRIu64 "\r\n", id, name, v);
}

/* `stats slabs` for one class. free_chunks_end: chunks of the page being carved not carved yet
 * (counted in free_chunks too, as in memcached). */
static void slabs_class(struct outq *out, unsigned id, const struct cache_class_stats *cs)
{
    slab_stat(out, id, "chunk_size", cs->chunk_size);
    slab_stat(out, id, "chunks_per_page", cs->chunks_per_page);
    slab_stat(out, id, "total_pages", cs->total_pages);
    slab_stat(out, id, "total_chunks", cs->total_chunks);
    slab_stat(out, id, "used_chunks", cs->used_chunks);
    slab_stat(out, id, "free_chunks", cs->free_chunks);
    slab_stat(out, id, "free_chunks_end", cs->free_chunks_end);
    slab_stat(out, id, "get_hits", cs->get_hits);
    slab_stat(out, id, "cmd_set", cs->cmd_set);
    slab_stat(out, id, "delete_hits", cs->delete_hits);
    slab_stat(out, id, "incr_hits", cs->incr_hits);
    slab_stat(out, id, "decr_hits", cs->decr_hits);
    slab_stat(out, id, "cas_hits", cs->cas_hits);
    slab_stat(out, id, "cas_badval", cs->cas_badval);
    slab_stat(out, id, "touch_hits", cs->touch_hits);
}

/* `stats slabs`: one block per class that owns pages, then the totals. */
static void stats_slabs(struct server *srv, struct outq *out)
{
    unsigned n = cache_class_count(srv->cache);
    unsigned active = 0;
    struct cache_stats all;

    for (unsigned id = 1; id <= n; id++) {
        struct cache_class_stats cs;
        memset(&cs, 0, sizeof(cs));
        cache_class_stats_get(srv->cache, id, &cs);
        if (cs.total_pages == 0)
            continue;
        active++;
        slabs_class(out, id, &cs);
    }
    memset(&all, 0, sizeof(all));
    cache_stats_get(srv->cache, &all);
    stat_u64(out, "active_slabs", active);
    stat_u64(out, "total_malloced", all.total_malloced);
}

/* `stats conns`: the listeners, then every worker's connections (under its conns_lock). */
static void stats_conns(struct server *srv, struct outq *out)
{
    int64_t now = atomic_load_explicit(&srv->now, memory_order_relaxed);

    if (atomic_load(&srv->accepting)) {
        for (size_t i = 0; i < srv->nlisteners; i++) {
            const struct listener *l = &srv->listeners[i];
            int fd = __atomic_load_n(&l->fd, __ATOMIC_RELAXED); /* listen_close may clear it */
            if (fd < 0)
                continue;
            outq_printf(out, "STAT %d:addr %s\r\n", fd, l->addr);
            outq_printf(out, "STAT %d:state conn_listening\r\n", fd);
            outq_printf(out, "STAT %d:secs_since_last_cmd 0\r\n", fd);
        }
    }
    for (unsigned i = 0; i < srv->nworkers; i++) {
        struct worker *w = &srv->workers[i];
        pthread_mutex_lock(&w->conns_lock);
        for (struct conn *c = w->conns; c != NULL; c = c->next) {
            int64_t last = atomic_load_explicit(&c->last_cmd, memory_order_relaxed);
            outq_printf(out, "STAT %d:addr %s\r\n", c->fd, c->addr);
            outq_printf(out, "STAT %d:listen_addr %s\r\n", c->fd, srv->listeners[c->listener].addr);
            outq_printf(out, "STAT %d:state %s\r\n", c->fd,
                        conn_state_name(atomic_load_explicit(&c->state, memory_order_relaxed)));
            outq_printf(out, "STAT %d:secs_since_last_cmd %" PRId64 "\r\n", c->fd,
                        now > last ? now - last : 0);
        }
        pthread_mutex_unlock(&w->conns_lock);
    }
}

/* `stats hotkeys` (cairn's): the most used keys, estimated from a sample of every access (storage/
 * hotkeys.h), most used first: "STAT hotkey:<rank> key=<url-encoded> accesses=N reads=N writes=N
 * error=N" (error: how much of the estimate may belong to keys it displaced). */
static void stats_hotkeys(struct server *srv, struct outq *out)
{
    struct cache_hotkey top[STATS_HOTKEYS];
    size_t n = cache_hotkeys(srv->cache, top, STATS_HOTKEYS);
    char enc[3 * sizeof(top[0].key) + 1];

    stat_u64(out, "hotkeys_sample_rate", HK_SAMPLE);
    for (size_t i = 0; i < n; i++) {
        size_t len = mc_dump_urlencode(top[i].key, top[i].nkey, enc);
        outq_printf(out,
                    "STAT hotkey:%zu key=%.*s%s accesses=%" PRIu64 " reads=%" PRIu64 " writes=%" PRIu64
                    " error=%" PRIu64 "\r\n",
                    i + 1, (int)len, enc, top[i].truncated ? "..." : "", top[i].accesses, top[i].reads,
                    top[i].writes, top[i].error);
    }
}

/* `stats clients` (cairn's). */
static void stats_clients(struct server *srv, struct outq *out)
{
    render(srv, clients_layout, sizeof(clients_layout) / sizeof(clients_layout[0]), out);
}

/* The protocol's mc_stats_fn: answers `stats` and its groups; arg is the struct server. */
enum mc_stats_result stats_answer(void *arg, int argc, char **argv, struct outq *out)
{
    struct server *srv = arg;

    if (argc == 0) {
        stats_general(srv, out);
        return MC_STATS_END;
    }
    /* memcached ignores words after a group's name */
    if (strcmp(argv[0], "reset") == 0) {
        reset_counters(srv);
        outq_add_str(out, "RESET\r\n");
        return MC_STATS_DONE;
    }
    if (strcmp(argv[0], "settings") == 0)
        stats_settings(srv, out);
    else if (strcmp(argv[0], "items") == 0)
        stats_items(srv, out);
    else if (strcmp(argv[0], "slabs") == 0)
        stats_slabs(srv, out);
    else if (strcmp(argv[0], "conns") == 0)
        stats_conns(srv, out);
    else if (strcmp(argv[0], "clients") == 0)
        stats_clients(srv, out);
    else if (strcmp(argv[0], "hotkeys") == 0)
        stats_hotkeys(srv, out);
    else if (strcmp(argv[0], "slowlog") == 0)
        return mc_slowlog_stats(srv->slowlog, argc, argv, out); /* protocol/mc/mc_slowlog.h */
    else if (strcmp(argv[0], "sizes") == 0)
        stat_str(out, "sizes_status", "disabled"); /* no item size histogram (-o track_sizes) */
    else
        return MC_STATS_UNKNOWN;
    return MC_STATS_END;
}

/* ---- RESP: INFO's figures and CLIENT LIST's walk ---- */

/* Resident set size of the process in bytes, from /proc; 0 if unknown. */
static uint64_t process_rss(void)
{
    FILE *f = fopen("/proc/self/statm", "r");
    unsigned long pages = 0, rss = 0;
    if (f == NULL)
        return 0;
    if (fscanf(f, "%lu %lu", &pages, &rss) != 2)
        rss = 0;
    fclose(f);
    return (uint64_t)rss * (uint64_t)sysconf(_SC_PAGESIZE);
}

/* INFO's figures that are sums or combinations of the table's, so that no one entry of the table can
 * carry their INFO name: Redis has one keyspace and counts every command, hit, miss and expiry in
 * it, and cairn's keyspace is shared by both protocols, so INFO adds memcached's counters (and the
 * cache's reclaimed expiries) to RESP's; used_memory is the slab pages handed out and the hash table. */
static void info_sums(const struct metric_values *v, struct resp_server_info *o)
{
    o->total_commands = v->resp.commands + v->mc.cmd_get + v->mc.cmd_set + v->mc.cmd_touch + v->mc.cmd_flush;
    o->keyspace_hits = v->resp.keyspace_hits + v->mc.get_hits;
    o->keyspace_misses = v->resp.keyspace_misses + v->mc.get_misses;
    o->expired_keys = v->cache.reclaimed + v->resp.expired_keys;
    o->used_memory = v->cache.total_malloced + v->cache.hash_bytes;
}

/* See resp.h (resp_info_fn): what the server knows, for INFO and CONFIG (any thread). The figures
 * INFO shows as they are come from the table by their INFO names; the rest are sums (info_sums),
 * identity, settings and the wall clock (uptime_in_seconds is read at the call, as Redis does, where
 * the table's uptime follows the server's once-a-second clock). */
void stats_resp_info(void *server, struct resp_server_info *o)
{
    struct server *srv = server;
    const struct settings *s = srv->settings;
    struct metric_values v;
    struct timespec ts;

    memset(o, 0, sizeof(*o));
    metrics_collect(srv, &v, false);
    for (size_t i = 0; i < metric_ndefs; i++)
        if (metric_defs[i].info_name != NULL)
            resp_server_info_set(o, metric_defs[i].info_name, metric_value(&v, &metric_defs[i]));
    info_sums(&v, o);
    clock_gettime(CLOCK_REALTIME, &ts);
    o->version = CAIRN_VERSION;
    o->process_id = (int64_t)getpid();
    o->tcp_port = s->resp_port >= 0 ? s->resp_port : s->port;
    o->uptime_s = (int64_t)(time(NULL) - srv->started);
    o->unix_ms = (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
    o->used_memory_rss = process_rss();
    o->snapshot_interval_s = s->snapshot_path != NULL ? s->snapshot_interval : 0;
    o->bind = srv->resp_bind;
    o->threads = srv->nworkers;
    o->timeout_s = s->idle_timeout;
    if (v.snapshot_enabled) {
        o->snapshot_enabled = true;
        o->snapshot_in_progress = v.snapshot_in_progress != 0;
        o->last_save_ok = v.snapshot_failures == 0 || strcmp(v.snapshot_last_status, "ok") == 0;
        o->last_save_unix = (int64_t)v.snapshot_last_time;
    }
    if (o->last_save_unix == 0)
        o->last_save_unix = (int64_t)srv->started;
}

/* See resp.h (resp_client_walk_fn): every RESP connection, under each worker's conns_lock. */
void stats_resp_clients(void *server,
                        void (*each)(void *arg, void *sess, const char *addr, const char *laddr, int fd, int64_t age_s, int64_t idle_s),
                        void *arg)
{
    struct server *srv = server;
    int64_t now = atomic_load_explicit(&srv->now, memory_order_relaxed);

    for (unsigned i = 0; i < srv->nworkers; i++) {
        struct worker *w = &srv->workers[i];
        pthread_mutex_lock(&w->conns_lock);
        for (struct conn *c = w->conns; c != NULL; c = c->next) {
            if (c->ops != &resp_proto_ops || c->sess == NULL)
                continue;
            int64_t last = atomic_load_explicit(&c->last_cmd, memory_order_relaxed);
            each(arg, c->sess, c->addr, srv->listeners[c->listener].addr, c->fd,
                 now > c->created ? now - c->created : 0, now > last ? now - last : 0);
        }
        pthread_mutex_unlock(&w->conns_lock);
    }
}

/* See resp.h (resp_reset_stats_fn): CONFIG RESETSTAT is `stats reset`. */
void stats_resp_reset(void *server)
{
    struct server *srv = server;
    reset_counters(srv);
}
