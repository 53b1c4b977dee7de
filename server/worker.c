/*
 * worker.c: the worker threads. Each has its own event_base and owns the connections dispatched to it
 * for their whole life.
 *
 * Hand-off: the listener appends a struct conn_req to the worker's queue under queue_lock (held for a
 * few instructions) and writes to the worker's eventfd, which the worker's base watches; the worker
 * drains the queue and creates the connections on its own thread. Stopping uses the same path: a flag
 * under queue_lock and a write to the eventfd. No lock is taken on the request path.
 *
 * Stop: the worker processes what its connections already received, stops reading, flushes their
 * output and closes each as it drains; a timer force-closes whatever has not drained after
 * DRAIN_TIMEOUT_S. The loop ends when the last connection is gone, and main joins the thread.
 *
 * Write batching: the loop runs one libevent turn at a time. During a turn a connection that produced
 * output joins the worker's write queue (a doubly linked list through the connections, each at most
 * once) instead of calling writev; after the turn batch_flush() prepares one IORING_OP_SENDMSG per
 * queued connection, each with its own msghdr and iovec slot in struct write_batch, submits them with
 * one io_uring_enter that also waits for all of them, and hands each result to conn_batch_done(). A
 * connection that writes inline or is freed leaves the queue first, so no slot ever names a freed
 * connection, and nothing is in flight once batch_flush() returns. Without a ring (--io-uring no, or
 * io_uring_setup refused: ENOSYS, EPERM under seccomp, an old kernel) batch is NULL, nothing is
 * queued and every connection writes inline with writev as soon as it has read.
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

/* One connection's sendmsg in a batch; msg and its iovecs stay put until the completion is read. */
struct batch_slot {
    struct conn *c;
    struct msghdr msg;
    size_t len; /* bytes the iovecs hold */
    int res;    /* the completion's result */
    bool done;  /* a completion arrived */
};

struct write_batch {
    struct uring *ring;
    unsigned nslots;
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
        conn_destroy(w->conns);
    event_base_loopbreak(w->base);
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
    bool stop = w->stop_requested;
    pthread_mutex_unlock(&w->queue_lock);

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

/* A connection of this worker was freed (called by conn_destroy on the worker thread). */
void worker_conn_closed(struct worker *w)
{
    atomic_fetch_sub_explicit(&w->srv->curr_conns, 1, memory_order_relaxed);
    if (w->stopping && w->nconns == 0)
        event_base_loopbreak(w->base);
}

/* ---- write batching ---- */

/* Write queue: c joins at the tail once; worker thread only. */
void worker_queue_write(struct worker *w, struct conn *c)
{
    if (c->write_queued)
        return;
    c->write_queued = true;
    c->wq_next = NULL;
    c->wq_prev = w->wq_tail;
    if (w->wq_tail != NULL)
        w->wq_tail->wq_next = c;
    else
        w->wq_head = c;
    w->wq_tail = c;
}

/* Takes c off the write queue if it is on it. */
void worker_unqueue_write(struct worker *w, struct conn *c)
{
    if (!c->write_queued)
        return;
    if (c->wq_prev != NULL)
        c->wq_prev->wq_next = c->wq_next;
    else
        w->wq_head = c->wq_next;
    if (c->wq_next != NULL)
        c->wq_next->wq_prev = c->wq_prev;
    else
        w->wq_tail = c->wq_prev;
    c->write_queued = false;
    c->wq_prev = c->wq_next = NULL;
}

/* Sets up the ring and its buffers on the worker thread (the ring is single-issuer), or leaves
 * w->batch NULL so that every write goes out with writev; logs which at -v. */
static void batch_setup(struct worker *w)
{
    struct server *srv = w->srv;
    struct write_batch *b;

    if (!srv->settings->io_uring) {
        server_log(srv, 1, "worker %u: io_uring off (--io-uring no): responses written with writev\n", w->id);
        return;
    }
    b = calloc(1, sizeof(*b));
    if (b == NULL) {
        server_log(srv, 1, "worker %u: no memory for io_uring: responses written with writev\n", w->id);
        return;
    }
    if (uring_create(BATCH_SLOTS, &b->ring) != URING_OK) {
        server_log(srv, 1, "worker %u: io_uring unavailable (%s): responses written with writev\n", w->id,
                   strerror(errno));
        free(b);
        return;
    }
    b->nslots = uring_capacity(b->ring) < BATCH_SLOTS ? uring_capacity(b->ring) : BATCH_SLOTS;
    w->batch = b;
    server_log(srv, 1, "worker %u: responses batched per loop turn through io_uring\n", w->id);
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

/* Takes connections off the write queue and prepares one sendmsg each, up to the ring's size;
 * returns how many. A connection with nothing to send (already flushed) is settled inline. */
static unsigned batch_prepare(struct worker *w)
{
    struct write_batch *b = w->batch;
    unsigned n = 0;

    while (w->wq_head != NULL && n < b->nslots) {
        struct conn *c = w->wq_head;
        struct batch_slot *s = &b->slots[n];
        worker_unqueue_write(w, c);
        int k = conn_batch_iov(c, b->iov[n], BATCH_IOV, &s->len);
        if (k <= 0) {
            conn_flush(c);
            continue;
        }
        memset(&s->msg, 0, sizeof(s->msg));
        s->msg.msg_iov = b->iov[n];
        s->msg.msg_iovlen = (size_t)k;
        s->c = c;
        s->done = false;
        if (!uring_prep_sendmsg(b->ring, c->fd, &s->msg, MSG_DONTWAIT | MSG_NOSIGNAL, n)) {
            worker_queue_write(w, c); /* cannot happen: n stays under the ring's size */
            break;
        }
        n++;
    }
    return n;
}

/*
 * Sends the queued connections' output: one io_uring_enter per round of up to nslots connections
 * (one round for the ~36 connections an epoll_wait returns under load), then each connection's
 * result. Every sendmsg carries MSG_DONTWAIT, so a full socket completes at once with -EAGAIN and the
 * enter never waits on a slow reader. Entries the kernel refused are written with writev, and the
 * worker stops using the ring. Nothing is in flight on return; the queue is empty.
 */
static void batch_flush(struct worker *w)
{
    while (w->wq_head != NULL && w->batch != NULL) {
        struct write_batch *b = w->batch;
        unsigned n = batch_prepare(w), got;
        struct uring_cqe cqe;
        enum uring_status st = uring_submit_wait(b->ring, &got);
        int err = errno;

        while (uring_next_cqe(b->ring, &cqe)) {
            if (cqe.user_data < n) {
                b->slots[cqe.user_data].res = cqe.res;
                b->slots[cqe.user_data].done = true;
            }
        }
        for (unsigned i = 0; i < n; i++) {
            if (b->slots[i].done)
                conn_batch_done(b->slots[i].c, b->slots[i].res, b->slots[i].len);
            else
                conn_flush(b->slots[i].c);
        }
        if (st != URING_OK) {
            server_log(w->srv, 1, "worker %u: io_uring_enter failed (%s): writing with writev\n", w->id,
                       strerror(err));
            batch_teardown(w);
        }
    }
    while (w->wq_head != NULL)
        conn_flush(w->wq_head);
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
        if (rc != 0 || event_base_got_break(w->base) || event_base_got_exit(w->base))
            break;
    }
    while (w->conns != NULL)
        conn_destroy(w->conns);
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
    w->iov = calloc(IOV_MAX, sizeof(*w->iov));
    if (w->notify_ev == NULL || w->drain_timer == NULL || w->iov == NULL)
        return false;
    return event_add(w->notify_ev, NULL) == 0;
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
    if (w->base != NULL)
        event_base_free(w->base);
    if (w->notify_fd >= 0)
        close(w->notify_fd);
    free(w->iov);
    pthread_mutex_destroy(&w->queue_lock);
    pthread_mutex_destroy(&w->conns_lock);
}

/* Joins the worker threads and frees them. */
void worker_destroy_all(struct server *srv)
{
    if (srv->workers == NULL)
        return;
    worker_stop_all(srv);
    for (unsigned i = 0; i < srv->nworkers; i++) {
        struct worker *w = &srv->workers[i];
        if (w->started)
            pthread_join(w->thread, NULL);
        worker_free(w);
    }
    free(srv->workers);
    srv->workers = NULL;
    srv->nworkers = 0;
}
