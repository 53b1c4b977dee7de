/*
 * server_internal.h: the types the files of server/ share: the server, its worker threads and their
 * connections. Nothing outside server/ includes it.
 *
 *   main thread (listener)                       worker thread k (one per -t)
 *   +-----------------------------+              +--------------------------------+
 *   | event_base: listen sockets, |  conn_req    | event_base: notify eventfd,    |
 *   | signals, 1 s clock, reclaim |--queue+efd-->| its connections' sockets       |
 *   +-----------------------------+              | struct mc_stats, conn list     |
 *                                                +--------------------------------+
 *
 * Ownership: struct server owns the settings copy it was given by pointer (main owns the struct), the
 * cache, the listeners and the workers; a worker owns its connections. A connection lives on one
 * worker for its whole life and only that worker's thread touches it, except the fields `stats conns`
 * reads from another thread (addresses, immutable; state and last command time, atomic) under the
 * worker's conns_lock, which also guards the list links.
 *
 * Counters: each worker's struct mc_stats and struct worker_stats are written only by that worker
 * (relaxed atomic stores) and summed by whichever thread answers `stats`. Connection counts shared by
 * the listener and the workers are atomics.
 */
#ifndef CAIRN_SERVER_INTERNAL_H
#define CAIRN_SERVER_INTERNAL_H

#include <limits.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdint.h>
#include <sys/socket.h>
#include <sys/uio.h>
#include <time.h>

#include "protocol/mc/memcache.h"
#include "protocol/resp/resp.h"
#include "protocol/resp/resp_cluster.h"
#include "protocol/slowlog.h"
#include "protocol/timing.h"
#include "server/settings.h"

/* The most iovecs one writev() takes (limits.h has it on Linux; POSIX guarantees at least 16). */
#ifndef IOV_MAX
#define IOV_MAX 1024
#endif

struct event;
struct event_base;
struct evhttp;
struct status;
struct outq;
struct server;
struct snapshot_ctl;
struct snapshot_waiter;
struct worker;
struct io_batch;

/* Connections waiting for the end of the loop turn (a read or a write batch); linked through the
 * connections, each on at most one queue at a time. Worker thread only. */
struct conn_queue {
    struct conn *head, *tail;
};

#define CONN_ADDR_MAX 128

/* What a connection is doing, as `stats conns` names it. */
enum conn_state {
    CONN_WAITING = 0, /* idle, waiting for a request */
    CONN_PARSE_CMD,   /* executing requests */
    CONN_NREAD,       /* reading a value block */
    CONN_MWRITE,      /* output queued, waiting for the socket */
    CONN_CLOSING      /* flushing its last output before closing */
};

/*
 * Per-worker counters the protocol's struct mc_stats has no field for, declared once: X(field, metric,
 * stats, help) with metric the Prometheus name (cairn_<metric>_total), stats memcached's `stats` /
 * `stats clients` name and help a sentence for /metrics. The list makes struct worker_stats and the
 * entries of the table of figures (server/metrics_defs.c).
 */
#define WORKER_STATS_FIELDS(X)                                                                               \
    X(conn_yields, "conn_yields", "conn_yields",                                                             \
      "Reads cut short by -R so that other connections get a turn.")                                         \
    X(reply_pauses, "reply_pauses", "reply_pauses",                                                          \
      "Requests held back because the connection's replies went unread.")                                    \
    X(idle_kicks, "idle_kicks", "idle_kicks", "Connections closed for idling past -o idle_timeout.")         \
    X(request_timeouts, "request_timeouts", "request_timeouts",                                              \
      "Connections closed mid-request by --request-timeout.")                                                \
    X(output_timeouts, "output_timeouts", "output_timeouts",                                                 \
      "Connections closed because their replies went unread (--output-timeout).")                            \
    X(read_buf_oom, "read_buf_oom", "read_buf_oom",                                                          \
      "Connections refused a longer read buffer (--read-buf-limit).")                                        \
    X(response_obj_oom, "response_obj_oom", "response_obj_oom",                                              \
      "Connections closed because a reply could not be allocated.")                                          \
    X(receive_waits, "receive_waits", "receiving_waits",                                                     \
      "Storage requests held back until the receiving budget had room.")                                     \
    X(receive_stalls, "receive_stalls", "receiving_stalls",                                                  \
      "Uploads closed for sending nothing while others waited for the receiving budget.")

struct worker_stats {
#define WORKER_STATS_FIELD(field, metric, stats, help) uint64_t field;
    WORKER_STATS_FIELDS(WORKER_STATS_FIELD)
#undef WORKER_STATS_FIELD
};
_Static_assert(sizeof(struct worker_stats) % sizeof(uint64_t) == 0, "worker_stats holds only uint64_t");

/* Reply backpressure per connection (mc_context.out_pause): requests stop running while the unsent
 * replies weigh CONN_OUT_PAUSE (outq_weight) and start again once they are down to CONN_OUT_RESUME. */
#define CONN_OUT_PAUSE  ((size_t)1024 * 1024)
#define CONN_OUT_RESUME ((size_t)256 * 1024)
/* The reply weight one connection's held-back requests may add in one loop turn (see after_io). */
#define CONN_TURN_WEIGHT CONN_OUT_PAUSE

/* Values being received (mc_context.recv_limit): a storage line the budget cannot take waits up to
 * CONN_RECV_WAIT_S (retried every second) and is then refused; while any line waits, an upload that
 * received nothing for CONN_RECV_STALL_S is closed and its budget given back. */
#define CONN_RECV_WAIT_S  5
#define CONN_RECV_STALL_S 2

/* A message for a worker from another thread (a deferred reply): run on the worker's thread. */
struct worker_msg {
    struct worker_msg *next; /* on the worker's posted list, under queue_lock */
    void (*run)(struct worker_msg *m);
};

/* An accepted socket on its way from the listener to a worker. */
struct conn_req {
    int fd;
    unsigned listener; /* index into server.listeners */
    struct conn_req *next;
};

struct conn {
    struct worker *w;
    int fd;
    struct event *ev; /* EV_READ and/or EV_WRITE, persistent; events re-set as needed */
    short ev_flags;   /* what ev is waiting for now (0 = not added) */
    char *rbuf;       /* unconsumed request bytes at rbuf[0..rlen) */
    size_t rlen, rsize;
    struct outq *out;
    /* The protocol and its session (ops->create). On a listener that also takes RESP the session is
     * created when the first bytes arrive; ops and sess are then set under the worker's conns_lock,
     * so that CLIENT LIST on another thread reads them safely. */
    const struct proto_ops *ops;
    void *sess;
    int64_t created; /* Unix time accepted */
    bool read_paused; /* output above the high-water mark: not reading until it drains */
    bool closing;     /* no more reading: flush, then close */
    bool shutdown_sent;
    struct snapshot_waiter *snap_wait; /* a `snapshot` waits for its reply: no request runs meanwhile */
    struct event *auth_timer; /* a failed authentication's reply is held back (PROTO_WAIT_AUTH_DELAY):
                               * no request runs until it fires; created on first use */
    bool auth_wait;           /* auth_timer is pending */
    _Atomic int state;        /* enum conn_state, read by `stats conns` */
    _Atomic int64_t last_cmd; /* Unix time of the last request */
    char addr[CONN_ADDR_MAX];
    unsigned listener;
    struct conn *prev, *next; /* worker's list, under conns_lock */
    struct conn_queue *queue; /* the worker's read or write queue c is on; NULL: none */
    struct conn *q_prev, *q_next;
    bool batch_window; /* the batched read goes into the value window, not rbuf */
    bool refeed;       /* the session stopped at a full output queue (PROTO_PAUSE): feed rbuf again */
    bool flush_wait;   /* ... or until no queued value holds an item (PROTO_FLUSH) */
    bool dead;         /* killed: off every list and event, freed after the loop turn (conn_reap) */
    struct conn *dead_next;
    int64_t req_since;    /* Unix time the unfinished request began (see conn_sweep); 0 = none */
    int64_t last_read;    /* Unix time bytes last arrived */
    bool recv_wait;       /* a storage line waits for the receiving budget (PROTO_BUSY) */
    int64_t recv_wait_since;
    int64_t out_progress; /* Unix time output last moved or the queue was empty */
};

struct worker {
    struct server *srv;
    unsigned id;
    pthread_t thread;
    bool started;
    struct event_base *base;
    int notify_fd; /* eventfd: new connections queued, or stop */
    struct event *notify_ev;
    struct event *drain_timer; /* during stop: force-close what has not drained */
    pthread_mutex_t queue_lock;
    struct conn_req *queue_head, *queue_tail;
    bool stop_requested; /* under queue_lock */
    struct worker_msg *posted_head, *posted_tail; /* under queue_lock: messages to run */
    bool stopping;       /* worker thread only */
    pthread_mutex_t conns_lock;
    struct conn *conns;
    unsigned nconns; /* worker thread only */
    struct mc_stats mc;
    struct resp_stats resp;
    struct worker_stats ws;
    struct timing_hist *lat;   /* its requests' latency histograms (protocol/timing.h) */
    _Atomic uint64_t seen_gen; /* srv->cluster_gen as of its last sweep, between two events */
    struct iovec *iov;         /* IOV_MAX scratch iovecs for writev */
    struct io_batch *batch; /* io_uring and its buffers; NULL: reads and writes are inline */
    struct conn_queue read_q;  /* readable connections: one recv each after the loop turn */
    struct conn_queue write_q; /* connections with output: one sendmsg each after the reads */
    struct conn *dead;         /* killed connections, freed after the loop turn */
    struct event *sweep_timer; /* 1 s: the connection timeouts (conn_sweep) */
};

struct listener {
    struct server *srv;
    unsigned idx;
    int fd;
    struct event *ev;
    char addr[CONN_ADDR_MAX]; /* "tcp:127.0.0.1:11211", "tcp6:[::1]:11211", "unix:/path" */
    bool is_unix;
    const struct proto_ops *ops; /* what its connections speak */
    const void *ctx;             /* that protocol's shared context (ops->create) */
    /* When set, a connection whose first byte is '*' speaks this protocol instead (RESP on the
     * memcached port): the session is created when the first bytes arrive. */
    const struct proto_ops *star_ops;
    const void *star_ctx;
    /* Likewise for a first byte 0x80: memcached's binary protocol (-B auto). */
    const struct proto_ops *bin_ops;
    const void *bin_ctx;
};

#define SERVER_NSIGNALS 4

struct server {
    const struct settings *settings;
    struct cache *cache;
    struct mc_context ctx;
    struct resp_context resp_ctx;
    struct resp_cluster_ref cluster; /* the cluster topology in force (cur NULL: not in cluster mode) */
    /* Replaced topologies (chained by ->retired, newest first) waiting until every worker has seen
     * cluster_gen reach their retired_gen (worker.seen_gen) before they are freed (listener thread). */
    struct resp_cluster *cluster_retired;
    _Atomic uint64_t cluster_gen;
    _Atomic uint64_t cluster_reloads, cluster_retired_n; /* for /metrics: reloads; the list's length */
    struct auth *auth;               /* the credentials (-Y, -S, --requirepass); NULL = none configured */
    struct evhttp *http;             /* --metrics-port's server; NULL = none */
    struct status *status;           /* its status page's history (server/status.c); NULL = none */
    struct slowlog *slowlog;         /* the slow log (protocol/slowlog.h), shared by every protocol */
    struct timing_hist *lat_base;    /* under stats_lock: the workers' histograms summed at the last
                                      * reset (INFO commandstats counts from it); NULL: none yet */
    struct timing_clock clock;       /* what requests are timed with (protocol/timing.h); set before the
                                      * workers start, read-only after */
    _Atomic uint64_t next_client_id; /* RESP's CLIENT ID */
    char *resp_bind;                  /* the -l addresses, space separated (CONFIG GET bind) */
    struct event_base *base; /* the listener's (main thread) */
    struct listener *listeners;
    size_t nlisteners;
    struct worker *workers;
    unsigned nworkers;
    unsigned next_worker; /* round-robin, listener thread only */
    struct event *signals[SERVER_NSIGNALS]; /* TERM, INT, USR1, HUP (server.c) */
    struct event *clock_timer, *reclaim_timer, *accept_timer;
    struct event *shutdown_ev;
    int shutdown_fd; /* eventfd a worker writes to after `shutdown` */
    struct snapshot_ctl *snapshot; /* NULL without --snapshot-path */
    bool stopping;
    bool pid_written;
    time_t started;
    _Atomic int64_t now; /* Unix time, advanced by the 1 s clock timer */
    _Atomic unsigned verbose;
    _Atomic uint64_t curr_conns, total_conns, rejected_conns, conn_structs;
    _Atomic uint64_t listen_disabled_num;
    _Atomic bool accepting;
    _Atomic uint64_t rbuf_extra; /* read-buffer bytes beyond each connection's first RBUF_INIT */
    _Atomic uint64_t recv_bytes; /* values being received (mc_context.recv_bytes) */
    _Atomic uint64_t recv_waiting; /* connections whose storage line waits for that budget */
    pthread_mutex_t stats_lock; /* the `stats reset` baseline */
    struct mc_stats base_mc;
    struct worker_stats base_ws;
    struct resp_stats base_resp;
    uint64_t base_total_conns, base_rejected_conns, base_listen_disabled;
};

/* ---- server.c ---- */

/* The host part of a -l entry ("[::1]:11311" -> "::1") into host (size bytes); false when it does not
 * fit or the entry is malformed. */
bool listen_host_of(const char *spec, char *host, size_t size);

/* --metrics-port: the HTTP server (/metrics, /healthz, the status page) on the main loop, bound on every -l
 * address; nothing without the option. Prints why and returns false when it cannot listen. */
bool http_open(struct server *srv);

/* Stops and frees the HTTP server (nothing when none). */
void http_close(struct server *srv);

/* The per-worker counters summed, less the `stats reset` baseline, and the server's resettable
 * counters (any thread). */
void stats_sum_counters(struct server *srv, struct mc_stats *mc, struct worker_stats *ws,
                        struct resp_stats *resp, uint64_t *total_conns, uint64_t *rejected_conns,
                        uint64_t *listen_disabled);

/* Runs the server with parsed settings until it is stopped; returns the process exit status. */
int server_run(const struct settings *s);

/* Logs to stderr when the server's verbosity is at least level. */
void server_log(struct server *srv, unsigned level, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

/* Asks the main thread to stop the server as on SIGTERM; safe from any thread. */
void server_request_shutdown(struct server *srv);

/* ---- listen.c ---- */

/* Opens every listen socket the settings ask for; prints memcached-style errors. False on failure. */
bool listen_open(struct server *srv);

/* Starts accepting on the main thread's base. False on no memory. */
bool listen_start(struct server *srv);

/* Formats a socket address as `stats conns` shows it ("tcp:1.2.3.4:5", "tcp6:[::1]:5"). */
void listen_format_addr(const struct sockaddr *sa, char *out, size_t n);

/* Stops accepting and closes the listen sockets (removing a Unix socket file). */
void listen_close(struct server *srv);

/* ---- worker.c ---- */

/* Creates the workers' bases and starts their threads. False (with the started ones stopped) on error. */
bool worker_start_all(struct server *srv);

/* Hands an accepted socket to worker w; the worker owns fd from now on (closes it if stopping). */
void worker_dispatch(struct worker *w, int fd, unsigned listener);

/* The worker's counter block for protocol ops (what ops->create takes as stats). */
void *worker_proto_stats(struct worker *w, const struct proto_ops *ops);

/* Tells every worker to finish in-flight requests, flush and close its connections, then exit. */
void worker_stop_all(struct server *srv);

/* A connection of w was freed: gives its slot back; ends a stopping loop after the last one. */
void worker_conn_closed(struct worker *w);

/* True when w reads and writes its connections in batches at the end of each loop turn (io_uring). */
static inline bool worker_batches_io(const struct worker *w)
{
    return w->batch != NULL;
}

/* Puts c on queue q (w->read_q or w->write_q) unless it is already on a queue. */
void worker_queue(struct conn_queue *q, struct conn *c);

/* Takes c off the queue it is on, if any (before c reads or writes inline, or is freed). */
void worker_unqueue(struct conn *c);

/* Hands m to worker w: its run() is called on w's thread on the next loop turn (any thread). */
void worker_post(struct worker *w, struct worker_msg *m);

/* Takes back a message posted to w that has not run yet; false if it is not there (w's thread). */
bool worker_unpost(struct worker *w, struct worker_msg *m);

/* Joins the worker threads and frees them. */
void worker_destroy_all(struct server *srv);

/* Adds n to one of this worker's counters with a relaxed atomic store (single writer). */
static inline void worker_count(uint64_t *counter, uint64_t n)
{
    __atomic_store_n(counter, __atomic_load_n(counter, __ATOMIC_RELAXED) + n, __ATOMIC_RELAXED);
}

/* ---- conn.c ---- */

/* Creates a connection for fd on worker w (worker thread). NULL on failure (fd is then closed). */
struct conn *conn_create(struct worker *w, int fd, unsigned listener);

/* Worker stop: processes what already arrived, then flushes and closes (worker thread). */
void conn_begin_close(struct conn *c);

/*
 * Ends a connection now, dropping queued output: it is marked dead, taken off the worker's list, its
 * queues and its event, and freed by conn_reap() after the loop turn, so every function that may end
 * a connection leaves its argument valid (check c->dead) until the turn is over (worker thread).
 */
void conn_kill(struct conn *c);

/* Frees the connections killed since the last call (worker thread, once per loop turn). */
void conn_reap(struct worker *w);

/* Applies the timeouts at Unix time now: unread replies (--output-timeout), an unfinished request
 * (--request-timeout), an idle connection (-o idle_timeout); kills c if one has passed. */
void conn_sweep(struct conn *c, int64_t now);

/*
 * Batched write, step 1: fills up to max iovecs from c's queued output (they stay valid until
 * conn_batch_done) and sets *len to their total bytes. Returns the iovec count; 0 if nothing is queued.
 */
int conn_batch_iov(struct conn *c, struct iovec *iov, int max, size_t *len);

/*
 * Batched write, step 2: res is what the sendmsg of those len bytes returned (bytes, or -errno).
 * Consumes what was sent, writes any rest with writev if the socket took everything, keeps the rest
 * for EV_WRITE on a short write or -EAGAIN, and kills c on an error or when a closing connection has
 * drained.
 */
void conn_batch_done(struct conn *c, int res, size_t len);

/* Writes c's queued output inline with writev and decides what c waits for next (as after a read
 * without batching). */
void conn_flush(struct conn *c);

/*
 * Batched read, step 1: where c's next read goes (the value window or the buffer's free end) and how
 * many bytes it may take. False when c should not be read in a batch now (closing, paused, or its
 * request line outgrew the buffer): use conn_read_inline().
 */
bool conn_read_target(struct conn *c, char **dst, size_t *len);

/*
 * Batched read, step 2: res is what the recv of up to len bytes returned (bytes, 0 for EOF, or
 * -errno). Feeds the bytes to the session, goes on reading inline while the socket may hold more
 * (within -R), then queues or writes the output.
 */
void conn_read_done(struct conn *c, int res, size_t len);

/* Reads and answers c inline (as without batching). */
void conn_read_inline(struct conn *c);

/* `stats conns` name of a state. */
const char *conn_state_name(int state);

/* The reply to c's waiting `snapshot` arrived: queue it and run the requests behind it (worker
 * thread). */
void conn_snapshot_done(struct conn *c, const struct proto_outcome *o);

/* ---- stats.c ---- */

/* The protocol's mc_stats_fn: answers `stats` and its groups; arg is the struct server. */
enum mc_stats_result stats_answer(void *arg, int argc, char **argv, struct outq *out);

/* RESP's INFO figures and CLIENT LIST walk (resp.h's resp_info_fn and resp_client_walk_fn). */
void stats_resp_info(void *server, struct resp_server_info *o);
void stats_resp_reset(void *server);
void stats_resp_clients(void *server,
                        void (*each)(void *arg, void *sess, const char *addr, const char *laddr, int fd, int64_t age_s, int64_t idle_s),
                        void *arg);

/* ---- daemon.c ---- */

/* Raises the open-file limit to fit maxconns; prints memcached's error and returns false if it can't. */
bool daemon_raise_nofile(const struct settings *s);

/* Refuses to run as root without -u (memcached's message). */
bool daemon_check_user(const struct settings *s);

/* Detaches from the terminal (fork, setsid, chdir /, stdin to /dev/null, stdout and stderr to log_fd
 * or /dev/null when it is -1; log_fd is closed). False on failure. */
bool daemon_detach(int log_fd);

/* Opens the --config file's logfile for appending: the descriptor, -1 when there is none, -2 when it
 * cannot be opened (reason printed). */
int daemon_open_log(const struct settings *s);

/* Without -d: points stdout and stderr at log_fd and closes it; nothing when log_fd is -1. */
bool daemon_redirect_log(int log_fd);

/* -k: locks the process's memory (mlockall); prints memcached's warning when refused, never fails. */
void daemon_lock_memory(void);

/* -r: raises the core file size limit as far as allowed; false (memcached's message) when core
 * files stay off. */
bool daemon_raise_core(void);

/* Writes the pid file if one is configured. */
bool daemon_write_pid(const struct settings *s);

/* Removes the pid file if one is configured. */
void daemon_remove_pid(const struct settings *s);

/* Tells the service manager the server's state ("READY=1", "STOPPING=1", "RELOADING=1") when it
 * started cairn with Type=notify ($NOTIFY_SOCKET set); false when not, or the message was not sent. */
bool daemon_notify(const char *state);

/* As root with -u, switches to that user. False (with a message) on failure. */
bool daemon_drop_privileges(const struct settings *s);

#endif
