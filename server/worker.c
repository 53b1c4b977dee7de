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


#define DRAIN_TIMEOUT_S 3

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

/* Thread body: run the loop until stopped, then free any connection left. */
static void *worker_main(void *arg)
{
    struct worker *w = arg;

    event_base_dispatch(w->base);
    while (w->conns != NULL)
        conn_destroy(w->conns);
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
