/*
 * worker.c: the worker threads. Each has its own event_base and owns the connections dispatched to it
 * for their whole life.
 *
 * Hand-off: the listener appends a struct conn_req to the worker's queue under queue_lock (held for a
 * few instructions) and writes to the worker's eventfd, which the worker's base watches; the worker
 * drains the queue and creates the connections on its own thread. Stopping uses the same path: a flag
 * under queue_lock and a write to the eventfd, and so do deferred replies (a `snapshot` answered by
 * the snapshot thread): a struct worker_msg posted with worker_post() runs on the worker's thread.
 * No lock is taken on the request path.
 *
 * Stop: the worker processes what its connections already received, stops reading, flushes their
 * output and closes each as it drains; a timer force-closes whatever has not drained after
 * DRAIN_TIMEOUT_S. The loop ends when the last connection is gone, and main joins the thread.
 *
 * Batched I/O: the loop runs one libevent turn at a time (EVLOOP_ONCE). During a turn a connection
 * that is readable joins the worker's read queue instead of calling read(); after the turn
 * batch_flush() prepares one IORING_OP_RECV per queued connection (into its value window or read
 * buffer), submits them with one io_uring_enter that also waits for all of them, and hands each
 * result to conn_read_done(), which feeds the session. Connections that produced output join the
 * write queue, and the same happens with one IORING_OP_SENDMSG each (own msghdr and iovec slot in
 * struct io_batch) and conn_batch_done(). So a turn that serves N connections costs epoll_wait
 * plus two io_uring_enter calls instead of N reads and N writevs. The queues are doubly linked lists
 * through the connections (struct conn_queue), a connection on at most one at a time; a connection
 * that reads or writes inline or is freed leaves its queue first, so no slot ever names a freed
 * connection, and nothing is in flight once batch_flush() returns. Without a ring (--io-uring no, or
 * io_uring_setup refused: ENOSYS, EPERM under seccomp, an old kernel) batch is NULL, nothing is
 * queued, and every connection reads and writes inline (read, then writev) as before.
 */
#include "config.h"

#include <errno.h>
#include <limits.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/eventfd.h>
#include <unistd.h>

#include <event2/event.h>

#include "server/server_internal.h"
#include "server/uring.h"


#define DRAIN_TIMEOUT_S 3
#define BATCH_SLOTS     128 /* connections sent per io_uring_enter */
#define BATCH_IOV       32  /* iovecs per connection per batch; any rest goes by writev */

/* One connection's recv or sendmsg in a batch; msg, its iovecs and the recv target stay put until the
 * completion is read. */
struct batch_slot {
    struct conn *c;
    struct msghdr msg; /* sendmsg only */
    size_t len;        /* bytes the iovecs hold, or the room the recv was given */
    int res;           /* the completion's result */
    bool done;         /* a completion arrived */
};

struct io_batch {
    struct uring *ring; /* room for BATCH_SLOTS entries: the kernel rounds up, never down */
    struct batch_slot slots[BATCH_SLOTS];
    struct iovec iov[BATCH_SLOTS][BATCH_IOV];
};

/* Wakes the worker's loop. */
static void notify(struct worker *w)
{
    uint64_t one = 1;
    ssize_t n;
    do {
        n = write(w->notify_fd, &one, sizeof(one));
    } while (n < 0 && errno == EINTR);
}

/* A socket that will never become a connection: close it and give its slot back. */
static void drop_socket(struct server *srv, int fd)
{
    close(fd);
    atomic_fetch_sub_explicit(&srv->curr_conns, 1, memory_order_relaxed);
}

/* See server_internal.h: RESP's counters have their own block; memcached's text and binary
 * protocols count in the same one (memcached's `stats` names, one set for both). */
void *worker_proto_stats(struct worker *w, const struct proto_ops *ops)
{
    if (ops == &resp_proto_ops)
        return &w->resp;
    return &w->mc; /* mc_proto_ops, mcbin_proto_ops */
}

/* Hands an accepted socket to worker w; the worker owns fd from now on (closes it if stopping). */
void worker_dispatch(struct worker *w, int fd, unsigned listener)
{
    struct conn_req *r = malloc(sizeof(*r));
    if (r == NULL) {
        drop_socket(w->srv, fd);
        return;
    }
    r->fd = fd;
    r->listener = listener;
    r->next = NULL;
    pthread_mutex_lock(&w->queue_lock);
    bool stopped = w->stop_requested;
    if (!stopped) {
        if (w->queue_tail != NULL)
            w->queue_tail->next = r;
        else
            w->queue_head = r;
        w->queue_tail = r;
    }
    pthread_mutex_unlock(&w->queue_lock);
    if (stopped) {
        drop_socket(w->srv, fd);
        free(r);
        return;
    }
    notify(w);
}

/* Drain deadline passed: close what is left. */
static void on_drain_timeout(evutil_socket_t fd, short what, void *arg)
{
    struct worker *w = arg;
    (void)fd;
    (void)what;
    while (w->conns != NULL)
        conn_kill(w->conns);
    event_base_loopbreak(w->base);
}

/* Once a second: the connection timeouts (conn_sweep). */
static void on_sweep(evutil_socket_t fd, short what, void *arg)
{
    struct worker *w = arg;
    int64_t now = atomic_load_explicit(&w->srv->now, memory_order_relaxed);
    (void)fd;
    (void)what;

    for (struct conn *c = w->conns, *next; c != NULL; c = next) {
        next = c->next;
        conn_sweep(c, now);
    }
}

/* Begins this worker's stop: every connection finishes, flushes and closes. */
static void begin_stop(struct worker *w)
{
    struct timeval tv = {DRAIN_TIMEOUT_S, 0};

    w->stopping = true;
    struct conn *c = w->conns;
    while (c != NULL) {
        struct conn *next = c->next;
        conn_begin_close(c);
        c = next;
    }
    if (w->nconns == 0) {
        event_base_loopbreak(w->base);
        return;
    }
    evtimer_add(w->drain_timer, &tv);
}

/* The eventfd fired: create the queued connections, and begin stopping if asked to. */
static void on_notify(evutil_socket_t fd, short what, void *arg)
{
    struct worker *w = arg;
    uint64_t v;
    (void)what;

    while (read(fd, &v, sizeof(v)) < 0 && errno == EINTR)
        ;
    pthread_mutex_lock(&w->queue_lock);
    struct conn_req *r = w->queue_head;
    w->queue_head = w->queue_tail = NULL;
    struct worker_msg *m = w->posted_head;
    w->posted_head = w->posted_tail = NULL;
    bool stop = w->stop_requested;
    pthread_mutex_unlock(&w->queue_lock);

    while (m != NULL) {
        struct worker_msg *next = m->next;
        m->next = NULL;
        m->run(m);
        m = next;
    }

    while (r != NULL) {
        struct conn_req *next = r->next;
        if (w->stopping || stop)
            drop_socket(w->srv, r->fd);
        else
            conn_create(w, r->fd, r->listener);
        free(r);
        r = next;
    }
    if (stop && !w->stopping)
        begin_stop(w);
}

/* See server_internal.h. */
void worker_post(struct worker *w, struct worker_msg *m)
{
    m->next = NULL;
    pthread_mutex_lock(&w->queue_lock);
    if (w->posted_tail != NULL)
        w->posted_tail->next = m;
    else
        w->posted_head = m;
    w->posted_tail = m;
    pthread_mutex_unlock(&w->queue_lock);
    notify(w);
}

/* See server_internal.h. */
bool worker_unpost(struct worker *w, struct worker_msg *m)
{
    bool found = false;

    pthread_mutex_lock(&w->queue_lock);
    for (struct worker_msg **p = &w->posted_head, *prev = NULL; *p != NULL; prev = *p, p = &(*p)->next) {
        if (*p == m) {
            *p = m->next;
            if (w->posted_tail == m)
                w->posted_tail = prev;
            found = true;
            break;
        }
    }
    pthread_mutex_unlock(&w->queue_lock);
    return found;
}

/* A connection of this worker was freed (called by conn_reap on the worker thread). */
void worker_conn_closed(struct worker *w)
{
    atomic_fetch_sub_explicit(&w->srv->curr_conns, 1, memory_order_relaxed);
    if (w->stopping && w->nconns == 0)
        event_base_loopbreak(w->base);
}

/* ---- batched reads and writes ---- */

/* Puts c at the tail of q unless it is already on a queue; worker thread only. */
void worker_queue(struct conn_queue *q, struct conn *c)
{
    if (c->queue != NULL)
        return;
    c->queue = q;
    c->q_next = NULL;
    c->q_prev = q->tail;
    if (q->tail != NULL)
        q->tail->q_next = c;
    else
        q->head = c;
    q->tail = c;
}

/* Takes c off the queue it is on, if any. */
void worker_unqueue(struct conn *c)
{
    struct conn_queue *q = c->queue;

    if (q == NULL)
        return;
    if (c->q_prev != NULL)
        c->q_prev->q_next = c->q_next;
    else
        q->head = c->q_next;
    if (c->q_next != NULL)
        c->q_next->q_prev = c->q_prev;
    else
        q->tail = c->q_prev;
    c->queue = NULL;
    c->q_prev = c->q_next = NULL;
}

/* Sets up the ring and its buffers on the worker thread (the ring is single-issuer), or leaves
 * w->batch NULL so that every read and write is inline; logs which at -v. */
static void batch_setup(struct worker *w)
{
    struct server *srv = w->srv;
    struct io_batch *b;

    if (!srv->settings->io_uring) {
        server_log(srv, 1, "worker %u: io_uring off (--io-uring no): inline read and writev\n", w->id);
        return;
    }
    b = calloc(1, sizeof(*b));
    if (b == NULL) {
        server_log(srv, 1, "worker %u: no memory for io_uring: inline read and writev\n", w->id);
        return;
    }
    if (uring_create(BATCH_SLOTS, &b->ring) != URING_OK) {
        server_log(srv, 1, "worker %u: io_uring unavailable (%s): inline read and writev\n", w->id,
                   strerror(errno));
        free(b);
        return;
    }
    w->batch = b;
    server_log(srv, 1, "worker %u: reads and responses batched per loop turn through io_uring\n", w->id);
}

/* Frees the ring and buffers (nothing is in flight between flushes). */
static void batch_teardown(struct worker *w)
{
    if (w->batch == NULL)
        return;
    uring_destroy(&w->batch->ring);
    free(w->batch);
    w->batch = NULL;
}

/* Slot i's recv: into c's value window or read buffer. False: read c inline instead. */
static bool prep_read(struct worker *w, struct conn *c, unsigned i)
{
    struct batch_slot *s = &w->batch->slots[i];
    char *dst;

    if (!conn_read_target(c, &dst, &s->len))
        return false;
    return uring_prep_recv(w->batch->ring, c->fd, dst, s->len, MSG_DONTWAIT, i);
}

/* Slot i's sendmsg: c's queued output in slot i's own iovecs. False: write c inline instead. */
static bool prep_write(struct worker *w, struct conn *c, unsigned i)
{
    struct io_batch *b = w->batch;
    struct batch_slot *s = &b->slots[i];
    int k = conn_batch_iov(c, b->iov[i], BATCH_IOV, &s->len);

    if (k <= 0)
        return false;
    memset(&s->msg, 0, sizeof(s->msg));
    s->msg.msg_iov = b->iov[i];
    s->msg.msg_iovlen = (size_t)k;
    return uring_prep_sendmsg(b->ring, c->fd, &s->msg, MSG_DONTWAIT | MSG_NOSIGNAL, i);
}

/* What one kind of batch does: prepare an entry, apply its result, or do the work inline. */
struct batch_ops {
    bool (*prep)(struct worker *w, struct conn *c, unsigned slot);
    void (*done)(struct conn *c, int res, size_t len);
    void (*inline_io)(struct conn *c);
};

static const struct batch_ops read_ops = {prep_read, conn_read_done, conn_read_inline};
static const struct batch_ops write_ops = {prep_write, conn_batch_done, conn_flush};

/* Takes connections off q and prepares one entry each, up to the ring's size; returns how many. A
 * connection that cannot be batched is handled inline. */
static unsigned batch_prepare(struct worker *w, struct conn_queue *q, const struct batch_ops *ops)
{
    struct io_batch *b = w->batch;
    unsigned n = 0;

    while (q->head != NULL && n < BATCH_SLOTS) {
        struct conn *c = q->head;
        worker_unqueue(c);
        if (!ops->prep(w, c, n)) {
            ops->inline_io(c);
            continue;
        }
        b->slots[n].c = c;
        b->slots[n].done = false;
        n++;
    }
    return n;
}

/*
 * Runs the connections on q through the ring: one io_uring_enter per round of up to BATCH_SLOTS
 * connections (one round for the ~36 connections an epoll_wait returns under load), then each
 * connection's result. Every recv and sendmsg carries MSG_DONTWAIT, so an empty or full socket
 * completes at once with -EAGAIN and the enter never waits on a slow peer. Entries the kernel refused
 * are done inline, and the worker stops using the ring. Nothing is in flight on return; q is empty.
 */
static void batch_run(struct worker *w, struct conn_queue *q, const struct batch_ops *ops)
{
    while (q->head != NULL && w->batch != NULL) {
        struct io_batch *b = w->batch;
        unsigned n = batch_prepare(w, q, ops);
        struct uring_cqe cqe;
        enum uring_status st = uring_submit_wait(b->ring);
        int err = errno;

        while (uring_next_cqe(b->ring, &cqe)) {
            if (cqe.user_data < n) {
                b->slots[cqe.user_data].res = cqe.res;
                b->slots[cqe.user_data].done = true;
            }
        }
        for (unsigned i = 0; i < n; i++) {
            if (b->slots[i].done)
                ops->done(b->slots[i].c, b->slots[i].res, b->slots[i].len);
            else
                ops->inline_io(b->slots[i].c);
        }
        if (st != URING_OK) {
            server_log(w->srv, 1, "worker %u: io_uring_enter failed (%s): inline read and writev\n", w->id,
                       strerror(err));
            batch_teardown(w);
        }
    }
    while (q->head != NULL)
        ops->inline_io(q->head);
}

/* After a loop turn: the queued reads (whose answers join the write queue), then the queued writes. */
static void batch_flush(struct worker *w)
{
    batch_run(w, &w->read_q, &read_ops);
    batch_run(w, &w->write_q, &write_ops);
}

/*
 * Thread body: one loop turn at a time (EVLOOP_ONCE: wait for events, run every active callback,
 * return), then the turn's batched writes; until stopped, then free any connection left.
 * event_base_loop() clears a pending loopbreak only when it starts, so a break requested inside a
 * turn or by the flush after it is still visible to event_base_got_break() here.
 */
static void *worker_main(void *arg)
{
    struct worker *w = arg;

    batch_setup(w);
    for (;;) {
        int rc = event_base_loop(w->base, EVLOOP_ONCE);
        batch_flush(w);
        conn_reap(w);
        if (rc != 0 || event_base_got_break(w->base) || event_base_got_exit(w->base))
            break;
    }
    while (w->conns != NULL)
        conn_kill(w->conns);
    conn_reap(w);
    batch_teardown(w);
    return NULL;
}

/* Sets up one worker's base, eventfd, events and scratch space (main thread). */
static bool worker_init(struct server *srv, struct worker *w, unsigned id)
{
    w->srv = srv;
    w->id = id;
    w->notify_fd = -1;
    pthread_mutex_init(&w->queue_lock, NULL);
    pthread_mutex_init(&w->conns_lock, NULL);
    struct event_config *cfg = event_config_new();
    if (cfg == NULL)
        return false;
    event_config_set_flag(cfg, EVENT_BASE_FLAG_NOLOCK);
    w->base = event_base_new_with_config(cfg);
    event_config_free(cfg);
    if (w->base == NULL)
        return false;
    w->notify_fd = eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
    if (w->notify_fd < 0)
        return false;
    w->notify_ev = event_new(w->base, w->notify_fd, EV_READ | EV_PERSIST, on_notify, w);
    w->drain_timer = evtimer_new(w->base, on_drain_timeout, w);
    w->sweep_timer = event_new(w->base, -1, EV_PERSIST, on_sweep, w);
    w->iov = calloc(IOV_MAX, sizeof(*w->iov));
    w->lat = calloc(1, sizeof(*w->lat));
    if (w->notify_ev == NULL || w->drain_timer == NULL || w->sweep_timer == NULL || w->iov == NULL ||
        w->lat == NULL)
        return false;
    struct timeval second = {1, 0};
    return event_add(w->notify_ev, NULL) == 0 && event_add(w->sweep_timer, &second) == 0;
}

/* Creates the workers' bases and starts their threads. False on error (the caller destroys them). */
bool worker_start_all(struct server *srv)
{
    sigset_t block, old;

    srv->nworkers = srv->settings->threads;
    srv->workers = calloc(srv->nworkers, sizeof(*srv->workers));
    if (srv->workers == NULL)
        return false;
    for (unsigned i = 0; i < srv->nworkers; i++) {
        srv->workers[i].notify_fd = -1;
        if (!worker_init(srv, &srv->workers[i], i)) {
            fprintf(stderr, "failed to set up worker thread %u\n", i);
            return false;
        }
    }
    /* Signals are handled on the main thread; workers inherit a mask that blocks them. */
    sigemptyset(&block);
    sigaddset(&block, SIGTERM);
    sigaddset(&block, SIGINT);
    sigaddset(&block, SIGHUP);
    pthread_sigmask(SIG_BLOCK, &block, &old);
    bool ok = true;
    for (unsigned i = 0; i < srv->nworkers && ok; i++) {
        struct worker *w = &srv->workers[i];
        int rc = pthread_create(&w->thread, NULL, worker_main, w);
        if (rc != 0) {
            fprintf(stderr, "Can't create thread: %s\n", strerror(rc));
            ok = false;
        } else {
            w->started = true;
        }
    }
    pthread_sigmask(SIG_SETMASK, &old, NULL);
    return ok;
}

/* Tells every worker to finish in-flight requests, flush and close its connections, then exit. */
void worker_stop_all(struct server *srv)
{
    for (unsigned i = 0; i < srv->nworkers; i++) {
        struct worker *w = &srv->workers[i];
        if (w->base == NULL || w->notify_fd < 0)
            continue;
        pthread_mutex_lock(&w->queue_lock);
        w->stop_requested = true;
        pthread_mutex_unlock(&w->queue_lock);
        notify(w);
    }
}

/* Frees one worker whose thread has ended (or never started). */
static void worker_free(struct worker *w)
{
    if (w->srv == NULL)
        return;
    while (w->queue_head != NULL) {
        struct conn_req *r = w->queue_head;
        w->queue_head = r->next;
        drop_socket(w->srv, r->fd);
        free(r);
    }
    if (w->notify_ev != NULL)
        event_free(w->notify_ev);
    if (w->drain_timer != NULL)
        event_free(w->drain_timer);
    if (w->sweep_timer != NULL)
        event_free(w->sweep_timer);
    if (w->base != NULL)
        event_base_free(w->base);
    if (w->notify_fd >= 0)
        close(w->notify_fd);
    free(w->iov);
    free(w->lat);
    pthread_mutex_destroy(&w->queue_lock);
    pthread_mutex_destroy(&w->conns_lock);
}

/* Joins every worker thread, then frees the workers. */
void worker_destroy_all(struct server *srv)
{
    if (srv->workers == NULL)
        return;
    worker_stop_all(srv);
    /* Every thread ends before any worker is freed: a worker still running may walk the others'
     * connection lists under their conns_lock (stats conns, CLIENT LIST). */
    for (unsigned i = 0; i < srv->nworkers; i++)
        if (srv->workers[i].started)
            pthread_join(srv->workers[i].thread, NULL);
    for (unsigned i = 0; i < srv->nworkers; i++)
        worker_free(&srv->workers[i]);
    free(srv->workers);
    srv->workers = NULL;
    srv->nworkers = 0;
}
