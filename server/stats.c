/*
 * stats.c: the server's answer to `stats` and its groups (settings, items, slabs, conns, reset), with
 * memcached 1.6's names and order so that existing dashboards and exporters read them. Fields memcached
 * has for machinery cairn does not have (segmented LRU, extstore, TLS, slab mover) are left out; every
 * name printed means what it means in memcached.
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

#include "protocol/memcache.h"
#include "protocol/response.h"
#include "server/server_internal.h"
#include "storage/cache.h"

/* Server-side counters that `stats reset` zeroes. */
struct resettable {
    struct mc_stats mc;
    struct worker_stats ws;
    uint64_t total_conns, rejected_conns, listen_disabled;
};

/* Sums every worker's counters and subtracts the `stats reset` baseline. */
static void sum_counters(struct server *srv, struct resettable *r)
{
    memset(r, 0, sizeof(*r));
    for (unsigned i = 0; i < srv->nworkers; i++) {
        struct worker *w = &srv->workers[i];
        mc_stats_add(&r->mc, &w->mc);
        r->ws.conn_yields += __atomic_load_n(&w->ws.conn_yields, __ATOMIC_RELAXED);
    }
    r->total_conns = atomic_load_explicit(&srv->total_conns, memory_order_relaxed);
    r->rejected_conns = atomic_load_explicit(&srv->rejected_conns, memory_order_relaxed);
    r->listen_disabled = atomic_load_explicit(&srv->listen_disabled_num, memory_order_relaxed);

    pthread_mutex_lock(&srv->stats_lock);
    mc_stats_sub(&r->mc, &srv->base_mc);
    r->ws.conn_yields -= srv->base_ws.conn_yields;
    r->total_conns -= srv->base_total_conns;
    r->rejected_conns -= srv->base_rejected_conns;
    r->listen_disabled -= srv->base_listen_disabled;
    pthread_mutex_unlock(&srv->stats_lock);
}

/* `stats reset`: the current sums become the baseline. */
static void reset_counters(struct server *srv)
{
    struct resettable now;

    memset(&now, 0, sizeof(now));
    for (unsigned i = 0; i < srv->nworkers; i++) {
        mc_stats_add(&now.mc, &srv->workers[i].mc);
        now.ws.conn_yields += __atomic_load_n(&srv->workers[i].ws.conn_yields, __ATOMIC_RELAXED);
    }
    pthread_mutex_lock(&srv->stats_lock);
    srv->base_mc = now.mc;
    srv->base_ws = now.ws;
    srv->base_total_conns = atomic_load_explicit(&srv->total_conns, memory_order_relaxed);
    srv->base_rejected_conns = atomic_load_explicit(&srv->rejected_conns, memory_order_relaxed);
    srv->base_listen_disabled = atomic_load_explicit(&srv->listen_disabled_num, memory_order_relaxed);
    pthread_mutex_unlock(&srv->stats_lock);
    cache_stats_reset(srv->cache);
}

static void stat_u64(struct resp *out, const char *name, uint64_t v)
{
    resp_printf(out, "STAT %s %" PRIu64 "\r\n", name, v);
}

static void stat_str(struct resp *out, const char *name, const char *v)
{
    resp_printf(out, "STAT %s %s\r\n", name, v);
}

/* pid ... connection_structures. */
static void general_process(struct server *srv, const struct resettable *r, struct resp *out)
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
    resp_printf(out, "STAT rusage_user %ld.%06ld\r\n", (long)ru.ru_utime.tv_sec, (long)ru.ru_utime.tv_usec);
    resp_printf(out, "STAT rusage_system %ld.%06ld\r\n", (long)ru.ru_stime.tv_sec, (long)ru.ru_stime.tv_usec);
    stat_u64(out, "max_connections", srv->settings->maxconns);
    stat_u64(out, "curr_connections", atomic_load_explicit(&srv->curr_conns, memory_order_relaxed));
    stat_u64(out, "total_connections", r->total_conns);
    stat_u64(out, "rejected_connections", r->rejected_conns);
    stat_u64(out, "connection_structures", atomic_load_explicit(&srv->conn_structs, memory_order_relaxed));
}

/* cmd_get ... bytes_written: the summed protocol counters. */
static void general_commands(const struct mc_stats *m, struct resp *out)
{
    stat_u64(out, "cmd_get", m->cmd_get);
    stat_u64(out, "cmd_set", m->cmd_set);
    stat_u64(out, "cmd_flush", m->cmd_flush);
    stat_u64(out, "cmd_touch", m->cmd_touch);
    stat_u64(out, "get_hits", m->get_hits);
    stat_u64(out, "get_misses", m->get_misses);
    stat_u64(out, "get_expired", m->get_expired);
    stat_u64(out, "get_flushed", m->get_flushed);
    stat_u64(out, "delete_misses", m->delete_misses);
    stat_u64(out, "delete_hits", m->delete_hits);
    stat_u64(out, "incr_misses", m->incr_misses);
    stat_u64(out, "incr_hits", m->incr_hits);
    stat_u64(out, "decr_misses", m->decr_misses);
    stat_u64(out, "decr_hits", m->decr_hits);
    stat_u64(out, "cas_misses", m->cas_misses);
    stat_u64(out, "cas_hits", m->cas_hits);
    stat_u64(out, "cas_badval", m->cas_badval);
    stat_u64(out, "touch_hits", m->touch_hits);
    stat_u64(out, "touch_misses", m->touch_misses);
    stat_u64(out, "store_too_large", m->store_too_large);
    stat_u64(out, "store_no_memory", m->store_no_memory);
    stat_u64(out, "auth_cmds", m->auth_cmds);
    stat_u64(out, "auth_errors", m->auth_errors);
    stat_u64(out, "bytes_read", m->bytes_read);
    stat_u64(out, "bytes_written", m->bytes_written);
}

/* limit_maxbytes ... reclaimed: server state and the cache's figures. */
static void general_cache(struct server *srv, const struct resettable *r, struct resp *out)
{
    struct cache_stats cs;

    memset(&cs, 0, sizeof(cs));
    cache_stats_get(srv->cache, &cs);
    stat_u64(out, "limit_maxbytes", cs.limit_maxbytes);
    stat_u64(out, "accepting_conns", atomic_load(&srv->accepting) ? 1 : 0);
    stat_u64(out, "listen_disabled_num", r->listen_disabled);
    stat_u64(out, "threads", srv->nworkers);
    stat_u64(out, "conn_yields", r->ws.conn_yields);
    stat_u64(out, "hash_power_level", cs.hash_power_level);
    stat_u64(out, "hash_bytes", cs.hash_bytes);
    stat_u64(out, "hash_is_expanding", cs.hash_is_expanding);
    stat_u64(out, "bytes", cs.bytes);
    stat_u64(out, "curr_items", cs.curr_items);
    stat_u64(out, "total_items", cs.total_items);
    stat_u64(out, "expired_unfetched", cs.expired_unfetched);
    stat_u64(out, "evicted_unfetched", cs.evicted_unfetched);
    stat_u64(out, "evicted_active", cs.evicted_active);
    stat_u64(out, "evictions", cs.evictions);
    stat_u64(out, "reclaimed", cs.reclaimed);
}

/* Plain `stats`. */
static void stats_general(struct server *srv, struct resp *out)
{
    struct resettable r;

    sum_counters(srv, &r);
    general_process(srv, &r, out);
    general_commands(&r.mc, out);
    general_cache(srv, &r, out);
}

/* `stats settings`: the options that apply to cairn, with memcached's names. */
static void stats_settings(struct server *srv, struct resp *out)
{
    const struct settings *s = srv->settings;

    stat_u64(out, "maxbytes", s->memory_limit);
    stat_u64(out, "maxconns", s->maxconns);
    stat_u64(out, "tcpport", s->unix_socket != NULL ? 0 : (uint64_t)s->port);
    stat_u64(out, "udpport", (uint64_t)s->udp_port);
    stat_str(out, "inter", s->unix_socket == NULL && s->listen_spec != NULL ? s->listen_spec : "NULL");
    stat_u64(out, "verbosity", atomic_load_explicit(&srv->verbose, memory_order_relaxed));
    stat_u64(out, "oldest", 0);
    stat_str(out, "evictions", "on");
    stat_str(out, "domain_socket", s->unix_socket != NULL ? s->unix_socket : "NULL");
    resp_printf(out, "STAT umask %o\r\n", s->unix_mask);
    stat_str(out, "shutdown_command", s->enable_shutdown ? "yes" : "no");
    resp_printf(out, "STAT growth_factor %.2f\r\n", s->growth_factor);
    stat_u64(out, "chunk_size", s->chunk_min);
    stat_u64(out, "num_threads", s->threads);
    stat_str(out, "stat_key_prefix", ":");
    stat_str(out, "detail_enabled", "no");
    stat_u64(out, "reqs_per_event", s->reqs_per_event);
    stat_str(out, "cas_enabled", s->use_cas ? "yes" : "no");
    stat_u64(out, "tcp_backlog", (uint64_t)s->backlog);
    stat_str(out, "binding_protocol", "ascii");
    stat_str(out, "auth_enabled_sasl", "no");
    stat_str(out, "auth_enabled_ascii", "no");
    stat_u64(out, "item_size_max", s->item_size_max);
    stat_str(out, "maxconns_fast", "yes");
    stat_u64(out, "hashpower_init", 0);
    stat_str(out, "flush_enabled", "yes");
    stat_str(out, "hash_algorithm", "xxh3");
    stat_u64(out, "idle_timeout", 0);
    stat_str(out, "track_sizes", "no");
}

/* `stats items`: one block per slab class that holds items. */
static void stats_items(struct server *srv, struct resp *out)
{
    unsigned n = cache_class_count(srv->cache);

    for (unsigned id = 1; id <= n; id++) {
        struct cache_class_stats cs;
        memset(&cs, 0, sizeof(cs));
        cache_class_stats_get(srv->cache, id, &cs);
        if (cs.number == 0)
            continue;
        resp_printf(out, "STAT items:%u:number %" PRIu64 "\r\n", id, cs.number);
        resp_printf(out, "STAT items:%u:age %" PRIu64 "\r\n", id, cs.age);
        resp_printf(out, "STAT items:%u:mem_requested %" PRIu64 "\r\n", id, cs.mem_requested);
        resp_printf(out, "STAT items:%u:evicted %" PRIu64 "\r\n", id, cs.evicted);
        resp_printf(out, "STAT items:%u:evicted_nonzero %" PRIu64 "\r\n", id, cs.evicted_nonzero);
        resp_printf(out, "STAT items:%u:evicted_time %" PRIu64 "\r\n", id, cs.evicted_time);
        resp_printf(out, "STAT items:%u:outofmemory %" PRIu64 "\r\n", id, cs.outofmemory);
        resp_printf(out, "STAT items:%u:reclaimed %" PRIu64 "\r\n", id, cs.reclaimed);
        resp_printf(out, "STAT items:%u:expired_unfetched %" PRIu64 "\r\n", id, cs.expired_unfetched);
        resp_printf(out, "STAT items:%u:evicted_unfetched %" PRIu64 "\r\n", id, cs.evicted_unfetched);
        resp_printf(out, "STAT items:%u:evicted_active %" PRIu64 "\r\n", id, cs.evicted_active);
    }
}

/* `stats slabs`: one block per class that owns pages, then the totals. */
static void stats_slabs(struct server *srv, struct resp *out)
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
        resp_printf(out, "STAT %u:chunk_size %u\r\n", id, cs.chunk_size);
        resp_printf(out, "STAT %u:chunks_per_page %u\r\n", id, cs.chunks_per_page);
        resp_printf(out, "STAT %u:total_pages %" PRIu64 "\r\n", id, cs.total_pages);
        resp_printf(out, "STAT %u:total_chunks %" PRIu64 "\r\n", id, cs.total_chunks);
        resp_printf(out, "STAT %u:used_chunks %" PRIu64 "\r\n", id, cs.used_chunks);
        resp_printf(out, "STAT %u:free_chunks %" PRIu64 "\r\n", id, cs.free_chunks);
    }
    memset(&all, 0, sizeof(all));
    cache_stats_get(srv->cache, &all);
    stat_u64(out, "active_slabs", active);
    stat_u64(out, "total_malloced", all.total_malloced);
}

/* `stats conns`: the listeners, then every worker's connections (under its conns_lock). */
static void stats_conns(struct server *srv, struct resp *out)
{
    int64_t now = atomic_load_explicit(&srv->now, memory_order_relaxed);

    if (atomic_load(&srv->accepting)) {
        for (size_t i = 0; i < srv->nlisteners; i++) {
            const struct listener *l = &srv->listeners[i];
            resp_printf(out, "STAT %d:addr %s\r\n", l->fd, l->addr);
            resp_printf(out, "STAT %d:state conn_listening\r\n", l->fd);
            resp_printf(out, "STAT %d:secs_since_last_cmd 0\r\n", l->fd);
        }
    }
    for (unsigned i = 0; i < srv->nworkers; i++) {
        struct worker *w = &srv->workers[i];
        pthread_mutex_lock(&w->conns_lock);
        for (struct conn *c = w->conns; c != NULL; c = c->next) {
            int64_t last = atomic_load_explicit(&c->last_cmd, memory_order_relaxed);
            resp_printf(out, "STAT %d:addr %s\r\n", c->fd, c->addr);
            resp_printf(out, "STAT %d:listen_addr %s\r\n", c->fd, srv->listeners[c->listener].addr);
            resp_printf(out, "STAT %d:state %s\r\n", c->fd,
                        conn_state_name(atomic_load_explicit(&c->state, memory_order_relaxed)));
            resp_printf(out, "STAT %d:secs_since_last_cmd %" PRId64 "\r\n", c->fd,
                        now > last ? now - last : 0);
        }
        pthread_mutex_unlock(&w->conns_lock);
    }
}

/* The protocol's mc_stats_fn: answers `stats` and its groups; arg is the struct server. */
enum mc_stats_result stats_answer(void *arg, int argc, char **argv, struct resp *out)
{
    struct server *srv = arg;

    if (argc == 0) {
        stats_general(srv, out);
        return MC_STATS_END;
    }
    if (argc > 1)
        return MC_STATS_UNKNOWN;
    if (strcmp(argv[0], "reset") == 0) {
        reset_counters(srv);
        resp_add_str(out, "RESET\r\n");
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
    else
        return MC_STATS_UNKNOWN;
    return MC_STATS_END;
}
