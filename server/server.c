/*
 * server.c: the server's life on the main thread: set-up in an order that reports errors where the
 * user sees them, the listener's event loop, and an orderly stop.
 *
 * Order: bind the listen sockets (errors reach the terminal), detach (-d), write the pid file, create
 * the cache, drop privileges (-u), load the snapshot and start the snapshot thread (with
 * --snapshot-path; a bad file stops here), start the workers, then accept. The main thread's
 * event_base carries the listen sockets, the signals (libevent signal events: nothing runs in a
 * signal handler), the 1-second clock that advances the cache's clock, the background reclaim of
 * expired items in small batches, and an eventfd a worker writes to after an accepted `shutdown`
 * command.
 *
 * Signals (the README's table): SIGTERM and SIGINT stop the server (final snapshot when
 * --snapshot-on-shutdown is yes); SIGUSR1 is memcached 1.6's graceful stop: it prints "Gracefully
 * stopping" and, when --snapshot-path is set, always saves the snapshot first; SIGHUP never stops
 * the server: cairn logs to stderr (or the --config file's logfile, opened once for appending) and
 * reads its config file once, so there is nothing to reopen or reread; the signal is logged (-v)
 * and otherwise ignored.
 *
 * All four are blocked (sigprocmask) before anything else happens, so every thread started later
 * inherits the block and a signal that arrives early (say, the moment the pid file appears) stays
 * pending instead of killing the process (SIGHUP's default action is to terminate too). Once the
 * libevent signal events exist and every thread is started, the main thread unblocks them: a
 * pending signal is then delivered to libevent's handler. The workers keep them blocked, so only the
 * main thread ever receives them.
 *
 * Stop: close the listeners, tell every worker to finish and flush (worker.c), leave the loop, join the
 * workers, run the final snapshot (snapshot_ctl.c: after the save in progress, if any), then free
 * everything: the cache last, since connections hold item references until closed. A failed final
 * snapshot makes the exit status SNAPSHOT_EXIT_IO.
 */
#include "config.h"

#include <errno.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/eventfd.h>
#include <unistd.h>

#include <event2/event.h>

#include "protocol/auth.h"
#include "protocol/mc/memcache.h"
#include "protocol/resp/resp_errstats.h"
#include "protocol/slowlog.h"
#include "server/latency.h"
#include "server/server_internal.h"
#include "server/snapshot_ctl.h"
#include "storage/cache.h"

#define EXIT_OSERR          71
#define RECLAIM_INTERVAL_MS 100
#define RECLAIM_BATCH       1000
#define CRAWL_BATCH         5000

/* "2026-12-04T11:20:33.123Z " (UTC) into buf; its length. */
static size_t log_stamp(char *buf, size_t size)
{
    struct timespec ts;
    struct tm tm;
    clock_gettime(CLOCK_REALTIME, &ts);
    gmtime_r(&ts.tv_sec, &tm);
    size_t n = strftime(buf, size, "%Y-%m-%dT%H:%M:%S", &tm);
    int m = snprintf(buf + n, size - n, ".%03ldZ ", ts.tv_nsec / 1000000);
    return m > 0 ? n + (size_t)m : n;
}

/* Logs to stderr when the server's verbosity is at least level: one write per line; with a log file
 * each line starts with the time (UTC, milliseconds). */
void server_log(struct server *srv, unsigned level, const char *fmt, ...)
{
    va_list ap;
    char line[1024];
    size_t n = 0;

    if (atomic_load_explicit(&srv->verbose, memory_order_relaxed) < level)
        return;
    if (srv->settings->log_file != NULL)
        n = log_stamp(line, sizeof(line));
    va_start(ap, fmt);
    int m = vsnprintf(line + n, sizeof(line) - n, fmt, ap);
    va_end(ap);
    if (m < 0)
        return;
    n += (size_t)m < sizeof(line) - n ? (size_t)m : sizeof(line) - n - 1;
    if (n > 0 && line[n - 1] != '\n' && n + 1 < sizeof(line)) /* a cut line still ends its line */
        line[n++] = '\n';
    fwrite(line, 1, n, stderr); /* one call: lines of several threads do not interleave */
}

/* Asks the main thread to stop the server as on SIGTERM; safe from any thread. */
void server_request_shutdown(struct server *srv)
{
    uint64_t one = 1;
    ssize_t n;
    do {
        n = write(srv->shutdown_fd, &one, sizeof(one));
    } while (n < 0 && errno == EINTR);
}

/* The protocol's `verbosity` command. */
static void on_verbosity(void *arg, unsigned level)
{
    struct server *srv = arg;
    atomic_store_explicit(&srv->verbose, level, memory_order_relaxed);
}

/* Stops accepting and tells the workers to finish; the loop ends and server_run() cleans up. */
static void begin_stop(struct server *srv, const char *why)
{
    if (srv->stopping)
        return;
    srv->stopping = true;
    daemon_notify("STOPPING=1");
    server_log(srv, 1, "%s: shutting down\n", why);
    listen_close(srv);
    worker_stop_all(srv);
    event_base_loopbreak(srv->base);
}

/* SIGHUP: the log file is opened again by name, so that after logrotate moved it the lines go to a
 * new file; when it cannot be opened (the -u user may not create files there) the old one stays. */
static void reopen_log(struct server *srv)
{
    const struct settings *s = srv->settings;
    if (s->log_file == NULL)
        return;
    int fd = daemon_open_log(s);
    if (fd < 0) {
        server_log(srv, 0, "SIGHUP: the log file %s was not reopened; logging on to the old one\n",
                   s->log_file);
        return;
    }
    if (!daemon_redirect_log(fd))
        server_log(srv, 0, "SIGHUP: the log file %s could not replace the old one\n", s->log_file);
    else
        server_log(srv, 1, "SIGHUP: log file %s reopened\n", s->log_file);
}

/* SIGHUP: rereads the credentials; on failure the ones in force stay (memcached keeps its old
 * table too) and the reason is logged whatever the verbosity. */
static void reload_auth(struct server *srv)
{
    const struct settings *s = srv->settings;
    char err[512];

    if (srv->auth == NULL)
        return;
    if (auth_load(srv->auth, s->auth_file, s->requirepass, err, sizeof(err)))
        server_log(srv, 1, "SIGHUP: credentials reloaded: %zu users\n", auth_users(srv->auth));
    else
        server_log(srv, 0, "SIGHUP: credentials not reloaded, the previous ones stay: %s\n", err);
}

/* The port that picks this node's line of the cluster file: the RESP port, else the main one. */
static int cluster_own_port(const struct settings *s)
{
    return s->resp_port > 0 ? s->resp_port : s->port;
}

/* Keeps a replaced topology until every worker has passed a sweep after its replacement (listener
 * thread). */
static void retire_cluster(struct server *srv, struct resp_cluster *old)
{
    if (old == NULL)
        return;
    old->retired_gen = atomic_fetch_add_explicit(&srv->cluster_gen, 1, memory_order_acq_rel) + 1;
    old->retired = srv->cluster_retired;
    srv->cluster_retired = old;
    atomic_fetch_add_explicit(&srv->cluster_reloads, 1, memory_order_relaxed);
    atomic_fetch_add_explicit(&srv->cluster_retired_n, 1, memory_order_relaxed);
}

/* Frees the replaced topologies no worker can still be reading (listener thread, once a second). */
static void free_retired_clusters(struct server *srv)
{
    uint64_t seen = UINT64_MAX;

    if (srv->cluster_retired == NULL)
        return;
    for (unsigned i = 0; i < srv->nworkers; i++) {
        uint64_t g = atomic_load_explicit(&srv->workers[i].seen_gen, memory_order_acquire);
        seen = g < seen ? g : seen;
    }
    for (struct resp_cluster **p = &srv->cluster_retired; *p != NULL;) {
        struct resp_cluster *c = *p;
        if (c->retired_gen > seen) {
            p = &c->retired;
            continue;
        }
        *p = c->retired;
        c->retired = NULL;
        resp_cluster_free(&c);
        atomic_fetch_sub_explicit(&srv->cluster_retired_n, 1, memory_order_relaxed);
    }
}

/* SIGHUP: rereads the cluster topology file; a bad file leaves the topology in force and the reason
 * is logged whatever the verbosity. */
static void reload_cluster(struct server *srv)
{
    const struct settings *s = srv->settings;
    char err[512];

    if (s->cluster_config == NULL || srv->cluster.cur == NULL)
        return;
    struct resp_cluster *c = resp_cluster_load(s->cluster_config, cluster_own_port(s), err, sizeof(err));
    if (c == NULL) {
        server_log(srv, 0, "SIGHUP: cluster topology not reloaded, the previous one stays: %s\n", err);
        return;
    }
    retire_cluster(srv, resp_cluster_swap(&srv->cluster, c));
    server_log(srv, 1, "SIGHUP: cluster topology reloaded: %zu nodes, %zu slots assigned\n", c->nnodes,
               c->assigned);
}

/* The signals the main loop handles; blocked everywhere else. */
static const int handled_signals[SERVER_NSIGNALS] = {SIGTERM, SIGINT, SIGUSR1, SIGHUP};

static void on_signal(evutil_socket_t sig, short what, void *arg)
{
    struct server *srv = arg;
    (void)what;
    switch (sig) {
    case SIGHUP:
        /* The log file is reopened (logrotate moved it) and the credentials are reread
         * (connections already authenticated keep their role); the config file is read once. */
        reopen_log(srv);
        reload_auth(srv);
        reload_cluster(srv);
        if (srv->auth == NULL && srv->settings->log_file == NULL && srv->settings->cluster_config == NULL)
            server_log(srv, 1, "SIGHUP: no log file to reopen, nothing to reload\n");
        break;
    case SIGUSR1:
        /* memcached prints this line whatever the verbosity. */
        if (!srv->stopping) {
            fprintf(stderr, "Gracefully stopping\n");
            snapshot_ctl_save_on_stop(srv->snapshot);
        }
        begin_stop(srv, "SIGUSR1");
        break;
    default:
        begin_stop(srv, sig == SIGINT ? "SIGINT" : "SIGTERM");
        break;
    }
}

static void on_shutdown_request(evutil_socket_t fd, short what, void *arg)
{
    uint64_t v;
    (void)what;
    while (read(fd, &v, sizeof(v)) < 0 && errno == EINTR)
        ;
    begin_stop(arg, "shutdown command");
}

/* Once a second: the server's and the cache's clocks. */
static void on_clock(evutil_socket_t fd, short what, void *arg)
{
    struct server *srv = arg;
    (void)fd;
    (void)what;
    time_t now = time(NULL);
    atomic_store_explicit(&srv->now, (int64_t)now, memory_order_relaxed);
    cache_clock_tick(srv->cache, now);
    free_retired_clusters(srv);
}

/* Background expiry: a small batch per tick, each shard lock held only briefly by the cache; while an
 * `lru_crawler crawl` runs, CRAWL_BATCH more per tick until it has visited what it asked for. */
static void on_reclaim(evutil_socket_t fd, short what, void *arg)
{
    struct server *srv = arg;
    (void)fd;
    (void)what;
    cache_reclaim(srv->cache, RECLAIM_BATCH + mc_crawler_take(srv->ctx.shared, CRAWL_BATCH));
}

/* Creates the main thread's base and its events. */
static bool setup_main_loop(struct server *srv)
{
    struct timeval sec = {1, 0};
    struct timeval reclaim = {0, RECLAIM_INTERVAL_MS * 1000};

    srv->base = event_base_new();
    if (srv->base == NULL)
        return false;
    srv->shutdown_fd = eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
    if (srv->shutdown_fd < 0)
        return false;
    for (size_t i = 0; i < SERVER_NSIGNALS; i++) {
        srv->signals[i] = evsignal_new(srv->base, handled_signals[i], on_signal, srv);
        if (srv->signals[i] == NULL || event_add(srv->signals[i], NULL) != 0)
            return false;
    }
    srv->shutdown_ev = event_new(srv->base, srv->shutdown_fd, EV_READ | EV_PERSIST, on_shutdown_request, srv);
    srv->clock_timer = event_new(srv->base, -1, EV_PERSIST, on_clock, srv);
    srv->reclaim_timer = event_new(srv->base, -1, EV_PERSIST, on_reclaim, srv);
    if (srv->shutdown_ev == NULL || srv->clock_timer == NULL || srv->reclaim_timer == NULL)
        return false;
    return event_add(srv->shutdown_ev, NULL) == 0 && event_add(srv->clock_timer, &sec) == 0 &&
           event_add(srv->reclaim_timer, &reclaim) == 0;
}

/* RESP's context (below). */
static void setup_resp(struct server *srv);

/* Creates the cache from the settings; prints the reason on failure. */
static bool setup_cache(struct server *srv)
{
    const struct settings *s = srv->settings;
    struct cache_options o;
    const char *err = NULL;

    cache_options_default(&o);
    o.memory_limit = s->memory_limit;
    o.item_size_max = s->item_size_max;
    o.growth_factor = s->growth_factor;
    o.chunk_min = s->chunk_min;
    o.use_cas = s->use_cas;
    o.no_evict = s->no_evict;
    o.no_hash_expand = s->no_hash_expand;
    o.large_pages = s->large_pages;
    o.join_fits = mc_join_fits; /* memcached's -I accounting for append/prepend */
    o.join_fits_arg = &srv->ctx;
    if (s->hashpower_init != 0) /* memcached's hashpower counts every bucket; cairn's, one shard's */
        o.hash_power = s->hashpower_init > o.shard_bits ? s->hashpower_init - o.shard_bits : 1;
    srv->cache = cache_create(&o, &err);
    if (srv->cache == NULL) {
        fprintf(stderr, "failed to create the cache: %s\n", err != NULL ? err : "unknown error");
        return false;
    }
    cache_clock_tick(srv->cache, time(NULL));
    cache_set_automove(srv->cache, s->slab_automove);
    srv->ctx.cache = srv->cache;
    srv->ctx.slowlog = srv->slowlog;
    srv->ctx.item_size_max = s->item_size_max;
    srv->ctx.enable_shutdown = s->enable_shutdown;
    srv->ctx.flush_disabled = !s->flush_enabled;
    srv->ctx.admin_disabled = s->admin_disabled;
    srv->ctx.watch_disabled = s->watch_disabled;
    srv->ctx.reassign_disabled = !s->slab_reassign;
    srv->ctx.dump_disabled = s->dump_disabled;
    srv->ctx.use_cas = s->use_cas;
    srv->ctx.version = CAIRN_PROTOCOL_VERSION;
    srv->ctx.server = srv;
    srv->ctx.stats = stats_answer;
    srv->ctx.verbosity = on_verbosity;
    srv->ctx.out_pause = CONN_OUT_PAUSE;
    srv->ctx.recv_bytes = &srv->recv_bytes;
    srv->ctx.recv_limit = s->memory_limit / 2; /* half of -m may wait for values in all */
    srv->ctx.shared = mc_shared_create(s->prefix_delimiter);
    if (srv->ctx.shared == NULL) {
        fprintf(stderr, "failed to create the cache: out of memory\n");
        return false;
    }
    if (s->detail_enabled)
        mc_detail_set(srv->ctx.shared, true);
    mc_crawler_setup(srv->ctx.shared, s->lru_crawler, s->crawler_sleep, s->crawler_tocrawl);
    setup_resp(srv);
    return true;
}

/* The -l addresses separated by spaces, as Redis's CONFIG GET bind shows them; NULL on no memory. */
static char *join_listen(const struct settings *s)
{
    size_t n = 1;
    for (size_t i = 0; i < s->nlisten; i++)
        n += strlen(s->listen[i]) + 1;
    char *p = malloc(n);
    if (p == NULL)
        return NULL;
    p[0] = '\0';
    for (size_t i = 0; i < s->nlisten; i++) {
        if (i > 0)
            strcat(p, " ");
        strcat(p, s->listen[i]);
    }
    return p;
}

/* RESP's context: the same cache, limits and receiving budget as memcached's. */
static void setup_resp(struct server *srv)
{
    const struct settings *s = srv->settings;
    struct resp_context *r = &srv->resp_ctx;

    r->cache = srv->cache;
    r->slowlog = srv->slowlog;
    r->item_size_max = s->item_size_max;
    r->enable_shutdown = s->enable_shutdown;
    r->flush_disabled = !s->flush_enabled;
    r->admin_disabled = s->admin_disabled;
    r->version = CAIRN_VERSION;
    r->out_pause = CONN_OUT_PAUSE;
    r->recv_bytes = &srv->recv_bytes;
    r->recv_limit = s->memory_limit / 2;
    r->query_max = 2 * s->item_size_max + ((size_t)1 << 20);
    r->server = srv;
    r->info = stats_resp_info;
    r->clients = stats_resp_clients;
    r->reset_stats = stats_resp_reset;
    r->cmdstats = latency_resp_cmdstats;
    srv->resp_bind = join_listen(s);
    r->next_client_id = &srv->next_client_id;
}

/* With --snapshot-path: the snapshot controller, and the file's contents loaded into the cache before
 * any client is served. Returns an exit status, 0 when the server may start. */
static int setup_snapshot(struct server *srv)
{
    const struct settings *s = srv->settings;
    struct snapshot_ctl_options o = {
        .path = s->snapshot_path,
        .interval_s = s->snapshot_interval,
        .on_shutdown = s->snapshot_on_shutdown,
        .set_aside = s->snapshot_set_aside,
        .consume = s->memory_file != NULL,
    };

    if (s->snapshot_path == NULL)
        return 0;
    srv->snapshot = snapshot_ctl_create(srv, srv->cache, &o);
    if (srv->snapshot == NULL) {
        fprintf(stderr, "failed to set up snapshots: out of memory\n");
        return EXIT_OSERR;
    }
    int rc = snapshot_ctl_load(srv->snapshot);
    if (rc != 0)
        return rc;
    if (!snapshot_ctl_start(srv->snapshot))
        return EXIT_OSERR;
    srv->ctx.snapshot_enabled = true;
    srv->resp_ctx.snapshot_enabled = true;
    return 0;
}

/* Frees one event if set. */
static void free_event(struct event **ev)
{
    if (*ev != NULL)
        event_free(*ev);
    *ev = NULL;
}

/* Frees everything server_run() set up, in reverse order (workers, then the final snapshot, then the
 * cache). Returns false when the final snapshot failed. */
static bool teardown(struct server *srv)
{
    listen_close(srv);
    http_close(srv);
    worker_destroy_all(srv);
    bool saved = snapshot_ctl_stop(srv->snapshot);
    snapshot_ctl_destroy(&srv->snapshot);
    for (size_t i = 0; i < SERVER_NSIGNALS; i++)
        free_event(&srv->signals[i]);
    free_event(&srv->shutdown_ev);
    free_event(&srv->clock_timer);
    free_event(&srv->reclaim_timer);
    if (srv->base != NULL)
        event_base_free(srv->base);
    if (srv->shutdown_fd >= 0)
        close(srv->shutdown_fd);
    cache_destroy(&srv->cache);
    mc_shared_destroy(&srv->ctx.shared);
    free(srv->resp_bind);
    free(srv->listeners);
    pthread_mutex_destroy(&srv->stats_lock);
    return saved;
}

/* Prints the -v start-up lines: the server, its listeners, what -M, -L and -e do, and the options
 * that were accepted for memcached's sake and change nothing here. */
static void log_start(struct server *srv)
{
    const struct settings *s = srv->settings;
    server_log(srv, 1, "%s (protocol version %s) started: %u worker threads, %zu MiB, %u connections max\n",
               CAIRN_VERSION, CAIRN_PROTOCOL_VERSION, s->threads, s->memory_limit >> 20, s->maxconns);
    for (size_t i = 0; i < srv->nlisteners; i++)
        server_log(srv, 1, "listening on %s\n", srv->listeners[i].addr);
    if (s->no_evict)
        server_log(srv, 1, "-M: a full cache answers out of memory instead of evicting\n");
    if (s->large_pages)
        server_log(srv, 1, "-L: %s\n",
                   cache_large_pages(srv->cache)
                       ? "item memory asks for transparent huge pages"
                       : "the kernel gives no transparent huge pages; ordinary pages");
    if (s->memory_file != NULL)
        server_log(srv, 1, "-e: the cache is saved to %s on SIGUSR1\n", s->snapshot_path);
    for (size_t i = 0; i < s->nno_effect; i++)
        server_log(srv, 1, "%s: accepted for memcached's sake; no effect in cairn\n", s->no_effect[i]);
}

/* Sets up everything after the listen sockets; returns an exit status, 0 when all is ready. */
static int start(struct server *srv)
{
    const struct settings *s = srv->settings;

    int log_fd = daemon_open_log(s);
    if (log_fd == -2)
        return EXIT_OSERR;
    if (s->daemonize ? !daemon_detach(log_fd) : !daemon_redirect_log(log_fd))
        return EXIT_OSERR;
    if (!daemon_write_pid(s))
        return EXIT_OSERR;
    srv->pid_written = s->pid_file != NULL;
    if (!setup_cache(srv))
        return EXIT_OSERR;
    if (s->lock_memory)
        daemon_lock_memory();
    if (!daemon_drop_privileges(s))
        return EXIT_OSERR;
    int rc = setup_snapshot(srv);
    if (rc != 0)
        return rc;
    if (!setup_main_loop(srv) || !worker_start_all(srv) || !listen_start(srv)) {
        fprintf(stderr, "failed to start the event loops\n");
        return EXIT_OSERR;
    }
    if (!http_open(srv))
        return EXIT_OSERR;
    return 0;
}

/* Blocks (block = true) or unblocks the handled signals for the calling thread. */
static void stop_signals_mask(bool block)
{
    sigset_t set;

    sigemptyset(&set);
    for (size_t i = 0; i < SERVER_NSIGNALS; i++)
        sigaddset(&set, handled_signals[i]);
    pthread_sigmask(block ? SIG_BLOCK : SIG_UNBLOCK, &set, NULL);
}

/* Loads the credentials when -Y, -S or --requirepass asked for them (before listening: protected
 * mode depends on them, and before privileges are dropped: the file may be readable by root only).
 * Prints why and returns false when they cannot be loaded. */
static bool setup_auth(struct server *srv)
{
    const struct settings *s = srv->settings;
    char err[512];

    if (s->auth_file == NULL && s->requirepass == NULL)
        return true;
    srv->auth = auth_create();
    if (srv->auth == NULL) {
        fprintf(stderr, "failed to load the credentials: out of memory\n");
        return false;
    }
    if (!auth_load(srv->auth, s->auth_file, s->requirepass, err, sizeof(err))) {
        fprintf(stderr, "failed to load the credentials: %s\n", err);
        return false;
    }
    if (!auth_enabled(srv->auth)) {
        fprintf(stderr, "failed to load the credentials: %s defines no user\n", s->auth_file);
        return false;
    }
    srv->ctx.auth = srv->auth;
    srv->resp_ctx.auth = srv->auth;
    return true;
}

/* Loads the cluster topology when --cluster-config or --cluster-enabled asked for cluster mode.
 * Prints why (the file and line) and returns false when the file is bad. */
static bool setup_cluster(struct server *srv)
{
    const struct settings *s = srv->settings;
    char err[512];
    struct resp_cluster *c;

    if (s->cluster_config != NULL) {
        c = resp_cluster_load(s->cluster_config, cluster_own_port(s), err, sizeof(err));
        if (c == NULL) {
            fprintf(stderr, "failed to load the cluster topology: %s\n", err);
            return false;
        }
    } else if (s->cluster_enabled) {
        c = resp_cluster_single(s->nlisten > 0 ? s->listen[0] : "127.0.0.1", cluster_own_port(s));
        if (c == NULL) {
            fprintf(stderr, "failed to set up cluster mode: out of memory\n");
            return false;
        }
    } else {
        return true;
    }
    resp_cluster_free(&srv->cluster.cur);
    srv->cluster.cur = c;
    srv->resp_ctx.cluster = &srv->cluster;
    return true;
}

/* The slow log every protocol writes to, with --slowlog-log-slower-than and --slowlog-max-len (both
 * changed at run time by CONFIG SET). Prints why and returns false on no memory. */
static bool setup_slowlog(struct server *srv)
{
    srv->slowlog = slowlog_create();
    if (srv->slowlog == NULL) {
        fprintf(stderr, "failed to create the slow log: out of memory\n");
        return false;
    }
    slowlog_set_threshold(srv->slowlog, srv->settings->slowlog_log_slower_than);
    slowlog_set_max_len(srv->slowlog, srv->settings->slowlog_max_len);
    return true;
}

/* INFO errorstats' table of error replies by code (protocol/resp/resp_errstats.h). Prints why and
 * returns false on no memory. */
static bool setup_errstats(struct server *srv)
{
    srv->resp_ctx.errstats = resp_errstats_create();
    if (srv->resp_ctx.errstats == NULL) {
        fprintf(stderr, "failed to create the error statistics: out of memory\n");
        return false;
    }
    return true;
}

/* Runs the server with parsed settings until it is stopped; returns the process exit status. */
int server_run(const struct settings *s)
{
    struct server srv;

    stop_signals_mask(true);

    memset(&srv, 0, sizeof(srv));
    srv.settings = s;
    srv.shutdown_fd = -1;
    srv.started = time(NULL);
    atomic_store(&srv.now, (int64_t)srv.started);
    atomic_store(&srv.verbose, s->verbose);
    pthread_mutex_init(&srv.stats_lock, NULL);
    timing_clock_init(&srv.clock);

    int rc = !setup_auth(&srv) || !setup_cluster(&srv) || !setup_slowlog(&srv) || !setup_errstats(&srv)
                 ? EXIT_FAILURE
             : listen_open(&srv) ? start(&srv)
                                 : EXIT_OSERR;
    if (rc == 0) {
        log_start(&srv);
        daemon_notify("READY=1\nSTATUS=serving");
        stop_signals_mask(false);
        event_base_dispatch(srv.base);
        /* A stop is under way: a second SIGTERM (or any handled signal) must not take its default
         * action once teardown frees the handlers, in the middle of the final snapshot. */
        stop_signals_mask(true);
    }
    if (!teardown(&srv) && rc == 0)
        rc = SNAPSHOT_EXIT_IO;
    if (srv.pid_written)
        daemon_remove_pid(s);
    auth_destroy(&srv.auth);
    resp_cluster_free(&srv.cluster.cur);
    resp_cluster_free(&srv.cluster_retired); /* the workers are gone */
    slowlog_destroy(srv.slowlog);
    resp_errstats_destroy(srv.resp_ctx.errstats);
    free(srv.lat_base);
    return rc;
}
