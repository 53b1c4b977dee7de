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
 * Counters: the per-worker struct mc_stats and struct worker_stats blocks are summed on demand (each
 * written only by its own worker, read here with relaxed loads). `stats reset` never writes another
 * thread's counters: it stores the current sums as a baseline (under stats_lock) that later reports
 * subtract, and zeroes the cache's own counters with cache_stats_reset().
 *
 * Threads: called on whichever worker runs the `stats` request. `stats conns` walks every worker's
 * connection list under that worker's conns_lock.
 */
#include "config.h"

#include <inttypes.h>
#include <stdio.h>
#include <string.h>
#include <sys/resource.h>
#include <unistd.h>

#include <event2/event.h>

#include "protocol/mc/memcache.h"
#include "protocol/mc/mc_dump.h"
#include "protocol/mc/mc_slowlog.h"
#include "protocol/outq.h"
#include "server/metrics.h"
#include "server/server_internal.h"
#include "server/snapshot_ctl.h"
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

#define WS_WORDS (sizeof(struct worker_stats) / sizeof(uint64_t))
_Static_assert(sizeof(struct worker_stats) % sizeof(uint64_t) == 0, "worker_stats holds only uint64_t");

/* Adds every counter of t (another thread's live block: relaxed loads) into sum. */
static void worker_stats_add(struct worker_stats *sum, const struct worker_stats *t)
{
    uint64_t *d = (uint64_t *)sum;
    const uint64_t *s = (const uint64_t *)t;
    for (size_t i = 0; i < WS_WORDS; i++)
        d[i] += __atomic_load_n(&s[i], __ATOMIC_RELAXED);
}

/* Subtracts the `stats reset` baseline. */
static void worker_stats_sub(struct worker_stats *a, const struct worker_stats *base)
{
    uint64_t *d = (uint64_t *)a;
    const uint64_t *s = (const uint64_t *)base;
    for (size_t i = 0; i < WS_WORDS; i++)
        d[i] -= s[i];
}

#define RS_WORDS (sizeof(struct resp_stats) / sizeof(uint64_t))
_Static_assert(sizeof(struct resp_stats) % sizeof(uint64_t) == 0, "resp_stats holds only uint64_t");

static void resp_stats_sub(struct resp_stats *a, const struct resp_stats *base)
{
    uint64_t *d = (uint64_t *)a;
    const uint64_t *s = (const uint64_t *)base;
    for (size_t i = 0; i < RS_WORDS; i++)
        d[i] -= s[i];
}

/* Sums every worker's counters and subtracts the `stats reset` baseline; memcached's auth_cmds and
 * auth_errors then take in RESP's attempts (one count of authentication for every protocol). */
static void sum_counters(struct server *srv, struct resettable *r)
{
    memset(r, 0, sizeof(*r));
    for (unsigned i = 0; i < srv->nworkers; i++) {
        struct worker *w = &srv->workers[i];
        mc_stats_add(&r->mc, &w->mc);
        worker_stats_add(&r->ws, &w->ws);
        resp_stats_add(&r->resp, &w->resp);
    }
    r->total_conns = atomic_load_explicit(&srv->total_conns, memory_order_relaxed);
    r->rejected_conns = atomic_load_explicit(&srv->rejected_conns, memory_order_relaxed);
    r->listen_disabled = atomic_load_explicit(&srv->listen_disabled_num, memory_order_relaxed);

    pthread_mutex_lock(&srv->stats_lock);
    mc_stats_sub(&r->mc, &srv->base_mc);
    worker_stats_sub(&r->ws, &srv->base_ws);
    resp_stats_sub(&r->resp, &srv->base_resp);
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
    for (unsigned i = 0; i < srv->nworkers; i++) {
        mc_stats_add(&now.mc, &srv->workers[i].mc);
        worker_stats_add(&now.ws, &srv->workers[i].ws);
        resp_stats_add(&now.resp, &srv->workers[i].resp);
    }
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
}

static void stat_u64(struct outq *out, const char *name, uint64_t v)
{
    outq_printf(out, "STAT %s %" PRIu64 "\r\n", name, v);
}

static void stat_str(struct outq *out, const char *name, const char *v)
{
    outq_printf(out, "STAT %s %s\r\n", name, v);
}

/* pid ... connection_structures. */
static void general_process(struct server *srv, const struct resettable *r, struct outq *out)
{
    struct rusage ru;
    int64_t now = atomic_load_explicit(&srv->now, memory_order_relaxed);

    getrusage(RUSAGE_SELF, &ru);
    stat_u64(out, "pid", (uint64_t)getpid());
    stat_u64(out, "uptime", (uint64_t)(now - (int64_t)srv->started));
    stat_u64(out, "time", (uint64_t)now);
    stat_str(out, "version", CAIRN_PROTOCOL_VERSION);
    stat_str(out, "libevent", event_get_version());
    stat_u64(out, "pointer_size", 8 * sizeof(void *));
    outq_printf(out, "STAT rusage_user %ld.%06ld\r\n", (long)ru.ru_utime.tv_sec, (long)ru.ru_utime.tv_usec);
    outq_printf(out, "STAT rusage_system %ld.%06ld\r\n", (long)ru.ru_stime.tv_sec, (long)ru.ru_stime.tv_usec);
    stat_u64(out, "max_connections", srv->settings->maxconns);
    stat_u64(out, "curr_connections", atomic_load_explicit(&srv->curr_conns, memory_order_relaxed));
    stat_u64(out, "total_connections", r->total_conns);
    stat_u64(out, "rejected_connections", r->rejected_conns);
    stat_u64(out, "connection_structures", atomic_load_explicit(&srv->conn_structs, memory_order_relaxed));
    /* cairn has no response-object or read-buffer pools (memcached 1.6's): the counts and the
     * out-of-memory refusals are real, the pool figures 0 except read_buf_bytes (grown buffers) */
    stat_u64(out, "response_obj_oom", r->ws.response_obj_oom);
    stat_u64(out, "response_obj_count", 0);
    stat_u64(out, "response_obj_bytes", 0);
    stat_u64(out, "read_buf_count", 0);
    stat_u64(out, "read_buf_bytes", atomic_load_explicit(&srv->rbuf_extra, memory_order_relaxed));
    stat_u64(out, "read_buf_bytes_free", 0);
    stat_u64(out, "read_buf_oom", r->ws.read_buf_oom);
    stat_u64(out, "reserved_fds", 0);
}

/* cmd_get ... bytes_written: the summed protocol counters, from the metrics table (server/metrics.c). */
static void general_commands(const struct server *srv, const struct resettable *r, struct outq *out)
{
    struct metric_values v;

    memset(&v, 0, sizeof(v));
    v.mc = r->mc;
    v.ws = r->ws;
    v.resp = r->resp;
    for (size_t i = 0; i < metric_ndefs; i++) {
        const struct metric_def *d = &metric_defs[i];
        if (d->mc_block == METRIC_MC_COMMANDS ||
            (d->mc_block == METRIC_MC_COMMANDS_IF_IDLE && srv->settings->idle_timeout != 0))
            stat_u64(out, d->mc_name, metric_value(&v, d));
    }
}

/* Prints each name with value 0 (placeholders for machinery cairn does not have). */
static void stat_zeroes(struct outq *out, const char *const *names, size_t n)
{
    for (size_t i = 0; i < n; i++)
        stat_u64(out, names[i], 0);
}

/* slab_reassign_* ... round_robin_fallback: the page mover, crawler, maintainer and logger. */
static void general_machinery(const struct cache_stats *cs, struct outq *out)
{
    /* placeholders: cairn moves pages inline (no mover thread, no chunked items) */
    static const char *const mover[] = {"slab_reassign_chunk_rescues", "slab_reassign_evictions_nomem",
                                        "slab_reassign_inline_reclaim"};
    static const char *const mover2[] = {"slab_reassign_busy_deletes", "slab_reassign_running"};
    /* placeholders: no LRU crawler, no LRU maintainer, no log watchers, no NAPI */
    static const char *const idle[] = {
        "lru_crawler_running", "lru_crawler_starts",  "lru_maintainer_juggles", "malloc_fails",
        "log_worker_dropped",  "log_worker_written",  "log_watcher_skipped",    "log_watcher_sent",
        "log_watchers",        "unexpected_napi_ids", "round_robin_fallback"};

    stat_u64(out, "slab_reassign_rescues", cs->rescues);
    stat_zeroes(out, mover, sizeof(mover) / sizeof(mover[0]));
    stat_u64(out, "slab_reassign_busy_items", cs->busy_items);
    stat_zeroes(out, mover2, sizeof(mover2) / sizeof(mover2[0]));
    stat_u64(out, "slabs_moved", cs->slabs_moved);
    stat_zeroes(out, idle, sizeof(idle) / sizeof(idle[0]));
}

/* limit_maxbytes ... lru_bumps_dropped: server state and the cache's figures. */
static void general_cache(struct server *srv, const struct resettable *r, struct outq *out)
{
    /* placeholders: no LRU crawler, no segmented LRU (nothing moves between segments) */
    static const char *const lru[] = {
        "crawler_reclaimed", "crawler_items_checked", "lrutail_reflocked", "moves_to_cold",
        "moves_to_warm",     "moves_within_lru",      "direct_reclaims",   "lru_bumps_dropped"};
    struct cache_stats cs;

    memset(&cs, 0, sizeof(cs));
    cache_stats_get(srv->cache, &cs);
    stat_u64(out, "limit_maxbytes", cs.limit_maxbytes);
    stat_u64(out, "accepting_conns", atomic_load(&srv->accepting) ? 1 : 0);
    stat_u64(out, "listen_disabled_num", r->listen_disabled);
    stat_u64(out, "time_in_listen_disabled_us", 0); /* placeholder: not measured */
    stat_u64(out, "threads", srv->nworkers);
    stat_u64(out, "conn_yields", r->ws.conn_yields);
    stat_u64(out, "hash_power_level", cs.hash_power_level);
    stat_u64(out, "hash_bytes", cs.hash_bytes);
    stat_u64(out, "hash_is_expanding", cs.hash_is_expanding);
    general_machinery(&cs, out);
    stat_u64(out, "bytes", cs.bytes);
    stat_u64(out, "curr_items", cs.curr_items);
    stat_u64(out, "total_items", cs.total_items);
    stat_u64(out, "slab_global_page_pool", cs.pool_pages);
    stat_u64(out, "expired_unfetched", cs.expired_unfetched);
    stat_u64(out, "evicted_unfetched", cs.evicted_unfetched);
    stat_u64(out, "evicted_active", cs.evicted_active);
    stat_u64(out, "evictions", cs.evictions);
    stat_u64(out, "reclaimed", cs.reclaimed);
    stat_zeroes(out, lru, sizeof(lru) / sizeof(lru[0]));
}

/* cairn's own lines after memcached's, only with --snapshot-path: the last save and the start-up load. */
static void general_snapshot(struct server *srv, struct outq *out)
{
    struct snapshot_ctl_stats st;

    if (srv->snapshot == NULL)
        return;
    snapshot_ctl_stats(srv->snapshot, &st);
    stat_u64(out, "snapshot_in_progress", st.in_progress ? 1 : 0);
    stat_u64(out, "snapshot_saves", st.saves);
    stat_u64(out, "snapshot_failures", st.failures);
    stat_u64(out, "snapshot_last_time", (uint64_t)st.last_time);
    stat_str(out, "snapshot_last_status", st.last_status);
    stat_u64(out, "snapshot_last_items", st.last_items);
    stat_u64(out, "snapshot_last_bytes", st.last_bytes);
    stat_u64(out, "snapshot_last_duration_us", st.last_duration_us);
    stat_str(out, "snapshot_load_status", st.load_status);
    stat_u64(out, "snapshot_loaded_items", st.loaded_items);
    stat_u64(out, "snapshot_load_left_out", st.load_left_out);
    stat_u64(out, "snapshot_load_duration_us", st.load_duration_us);
}

/* Plain `stats`. */
static void stats_general(struct server *srv, struct outq *out)
{
    struct resettable r;

    sum_counters(srv, &r);
    general_process(srv, &r, out);
    general_commands(srv, &r, out);
    general_cache(srv, &r, out);
    general_snapshot(srv, out);
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

/* `stats clients` (cairn's): what each client may take and how often a bound was reached. */
static void stats_clients(struct server *srv, struct outq *out)
{
    const struct settings *s = srv->settings;
    struct resettable r;

    sum_counters(srv, &r);
    stat_u64(out, "reply_pause_bytes", CONN_OUT_PAUSE);
    stat_u64(out, "reply_pauses", r.ws.reply_pauses);
    stat_u64(out, "output_timeout", s->output_timeout);
    stat_u64(out, "output_timeouts", r.ws.output_timeouts);
    stat_u64(out, "request_timeout", s->request_timeout);
    stat_u64(out, "request_timeouts", r.ws.request_timeouts);
    stat_u64(out, "idle_timeout", s->idle_timeout);
    stat_u64(out, "idle_kicks", r.ws.idle_kicks);
    stat_u64(out, "read_buf_limit", s->read_buf_limit);
    stat_u64(out, "read_buf_bytes", atomic_load_explicit(&srv->rbuf_extra, memory_order_relaxed));
    stat_u64(out, "read_buf_oom", r.ws.read_buf_oom);
    stat_u64(out, "response_obj_oom", r.ws.response_obj_oom);
    stat_u64(out, "receiving_limit", srv->ctx.recv_limit);
    stat_u64(out, "receiving_bytes", atomic_load_explicit(&srv->recv_bytes, memory_order_relaxed));
    stat_u64(out, "receiving_waits", r.ws.receive_waits);
    stat_u64(out, "receiving_stalls", r.ws.receive_stalls);
    stat_u64(out, "ref_overflows", cache_ref_overflows(srv->cache));
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

/* See resp.h (resp_info_fn): what the server knows, for INFO and CONFIG (any thread). */
void stats_resp_info(void *server, struct resp_server_info *o)
{
    struct server *srv = server;
    const struct settings *s = srv->settings;
    struct resettable r;
    struct cache_stats cs;
    struct timespec ts;

    memset(o, 0, sizeof(*o));
    memset(&cs, 0, sizeof(cs));
    sum_counters(srv, &r);
    cache_stats_get(srv->cache, &cs);
    clock_gettime(CLOCK_REALTIME, &ts);
    o->version = CAIRN_VERSION;
    o->process_id = (int64_t)getpid();
    o->tcp_port = s->resp_port >= 0 ? s->resp_port : s->port;
    o->uptime_s = (int64_t)(time(NULL) - srv->started);
    o->unix_ms = (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
    o->connected_clients = atomic_load_explicit(&srv->curr_conns, memory_order_relaxed);
    o->total_connections = r.total_conns;
    o->rejected_connections = r.rejected_conns;
    o->maxclients = s->maxconns;
    o->used_memory_rss = process_rss();
    o->maxmemory = cs.limit_maxbytes;
    o->total_commands = r.resp.commands + r.mc.cmd_get + r.mc.cmd_set + r.mc.cmd_touch + r.mc.cmd_flush;
    o->keyspace_hits = r.resp.keyspace_hits + r.mc.get_hits;
    o->keyspace_misses = r.resp.keyspace_misses + r.mc.get_misses;
    o->evicted_keys = cs.evictions;
    o->expired_keys = cs.reclaimed + r.resp.expired_keys;
    o->net_input_bytes = r.mc.bytes_read;
    o->net_output_bytes = r.mc.bytes_written;
    o->keys = cs.curr_items;
    o->expires = cs.expires;
    o->used_memory = cs.total_malloced + cs.hash_bytes; /* slab pages handed out and the hash table */
    o->error_replies = r.resp.errors;
    o->acl_denied_auth = r.resp.auth_errors;
    o->acl_denied_cmd = r.resp.denied_cmds;
    o->snapshot_interval_s = s->snapshot_path != NULL ? s->snapshot_interval : 0;
    o->bind = srv->resp_bind;
    o->threads = srv->nworkers;
    o->timeout_s = s->idle_timeout;
    if (srv->snapshot != NULL) {
        struct snapshot_ctl_stats st;
        snapshot_ctl_stats(srv->snapshot, &st);
        o->snapshot_enabled = true;
        o->snapshot_in_progress = st.in_progress;
        o->last_save_ok = st.failures == 0 || strcmp(st.last_status, "ok") == 0;
        o->last_save_unix = st.last_time;
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
