/*
 * conn.c: a worker thread of cairn-bench and its connections.
 *
 * Each thread owns an event_base (no locking: nothing else touches it) and --clients connections.
 * A connection keeps up to --pipeline requests in flight: the ring holds them in send order, and
 * replies are matched to the ring's head, since both protocols answer in order. One read callback:
 *
 *   recv into the input buffer -> parse every complete reply (timestamp once per callback), check
 *   it against its request, free its slot -> write new requests into the output buffer until the
 *   ring is full -> send what the output buffer holds (arming a write event only if the socket is
 *   full).
 *
 * A reply may be split anywhere: the parser reports NEED_MORE and the bytes wait in the input buffer
 * (compacted to its front after each callback, grown when a large value needs it). Latency runs from
 * the callback that wrote the request to the callback that read its whole reply.
 *
 * A connection ends when it will issue nothing more (fill slice done, --requests reached, or the
 * run's stop flag) and its ring and output buffer are empty; a connection that fails (reset, reply
 * that is not one, nothing heard for --timeout) is closed and counted as an error. The thread's loop
 * exits when its last connection closes. A 50 ms tick notices the stop flag for idle connections and
 * enforces the timeout.
 */
#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include <event2/event.h>

#include "benchmarks/bench/bench.h"

#define IN_CHUNK         65536
#define OUT_INITIAL      65536
#define TICK_USEC        50000
#define ERRORS_SHOWN_MAX 5

/* CLOCK_MONOTONIC in ns. */
uint64_t bench_now_ns(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

/* Prints the first few errors of a thread, so a failing run says why. */
static void show_error(struct bench_conn *c, const char *what, const char *detail, size_t n)
{
    struct bench_thread *t = c->thread;
    if (t->errors_shown >= ERRORS_SHOWN_MAX)
        return;
    t->errors_shown++;
    if (n > 120)
        n = 120;
    fprintf(stderr, "cairn-bench: thread %u connection %u: %s%s%.*s\n", t->index, c->index, what,
            n ? ": " : "", (int)n, detail ? detail : "");
}

/* Frees the connection's events and closes its socket; either may be missing. */
static void conn_release(struct bench_conn *c)
{
    if (c->ev_read != NULL)
        event_free(c->ev_read);
    if (c->ev_write != NULL)
        event_free(c->ev_write);
    c->ev_read = c->ev_write = NULL;
    if (c->fd >= 0)
        close(c->fd);
    c->fd = -1;
    c->open = 0;
}

/* Closes an open connection; the thread's loop exits with its last one. */
static void conn_close(struct bench_conn *c)
{
    if (!c->open)
        return;
    conn_release(c);
    if (--c->thread->live == 0)
        event_base_loopexit(c->thread->base, NULL);
}

/* Counts a failure of the connection itself and closes it. */
static void conn_fail(struct bench_conn *c, _Atomic uint64_t *counter, const char *what, const char *detail,
                      size_t n)
{
    bench_count(counter, 1);
    show_error(c, what, detail, n);
    conn_close(c);
}

static int grow(char **buf, size_t *cap, size_t need)
{
    if (need <= *cap)
        return 0;
    size_t n = *cap ? *cap : 4096;
    while (n < need)
        n *= 2;
    char *p = realloc(*buf, n);
    if (p == NULL)
        return -1;
    *buf = p;
    *cap = n;
    return 0;
}

/* Whether the connection will send nothing more. */
static int conn_exhausted(const struct bench_conn *c)
{
    const struct bench_run *run = c->thread->run;
    if (run->phase == BENCH_PHASE_FILL)
        return c->fill_next >= c->fill_end;
    return c->issued >= c->limit || atomic_load_explicit(&run->stop, memory_order_relaxed);
}

/* Chooses the next request's operation and key; returns 0 when there is none. */
static int next_request(struct bench_conn *c, enum proto_op *op, uint64_t *key)
{
    const struct bench_run *run = c->thread->run;
    const struct bench_options *opt = run->opt;
    if (conn_exhausted(c))
        return 0;
    if (run->phase == BENCH_PHASE_FILL) {
        *op = PROTO_OP_SET;
        *key = c->fill_next++;
        return 1;
    }
    *op = c->ratio_pos < opt->ratio_set ? PROTO_OP_SET : PROTO_OP_GET;
    if (++c->ratio_pos == opt->ratio_set + opt->ratio_get)
        c->ratio_pos = 0;
    if (*op == PROTO_OP_SET)
        *key = ks_next_key(&c->st_set, run->ks, opt->pattern_set);
    else
        *key = ks_next_key(&c->st_get, run->ks, opt->pattern_get);
    return 1;
}

/* Appends one request to the output buffer and its slot to the ring. */
static int conn_write_request(struct bench_conn *c, enum proto_op op, uint64_t key, uint64_t now)
{
    const struct bench_run *run = c->thread->run;
    char text[KS_KEY_MAX_LEN + 1];
    size_t klen = ks_key_text(run->ks, key, text), vlen = 0;
    const char *value = op == PROTO_OP_SET ? ks_value(run->ks, key, &vlen) : NULL;
    if (grow(&c->out, &c->out_cap, c->out_len + proto_request_bound(klen, vlen)) != 0)
        return -1;
    char *dst = c->out + c->out_len;
    c->out_len += op == PROTO_OP_SET ? run->proto->write_set(dst, text, klen, value, vlen)
                                     : run->proto->write_get(dst, text, klen);
    unsigned slot = (c->ring_head + c->ring_count) % run->opt->pipeline;
    c->ring[slot] = (struct bench_pending){.key = key, .sent_ns = now, .op = op};
    if (c->ring_count++ == 0)
        c->last_ns = now;
    c->issued++;
    return 0;
}

/* Fills the pipeline. */
static int conn_issue(struct bench_conn *c, uint64_t now)
{
    enum proto_op op;
    uint64_t key;
    while (c->ring_count < c->thread->run->opt->pipeline && next_request(c, &op, &key)) {
        if (conn_write_request(c, op, key, now) != 0)
            return -1;
    }
    return 0;
}

static void conn_arm_write(struct bench_conn *c, int on)
{
    if (on == c->write_armed)
        return;
    c->write_armed = on;
    if (on)
        event_add(c->ev_write, NULL);
    else
        event_del(c->ev_write);
}

/* Sends the output buffer; returns -1 when the connection failed (and is closed). */
static int conn_flush(struct bench_conn *c)
{
    while (c->out_off < c->out_len) {
        ssize_t n = send(c->fd, c->out + c->out_off, c->out_len - c->out_off, MSG_NOSIGNAL);
        if (n > 0) {
            c->out_off += (size_t)n;
            bench_count(&c->thread->c.bytes_out, (uint64_t)n);
        } else if (n < 0 && errno == EINTR) {
            continue;
        } else if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK)) {
            conn_arm_write(c, 1);
            return 0;
        } else {
            conn_fail(c, &c->thread->c.err_connection, "send failed", strerror(errno), 64);
            return -1;
        }
    }
    c->out_off = c->out_len = 0;
    conn_arm_write(c, 0);
    return 0;
}

/* Closes a connection that has nothing left to do. */
static void conn_maybe_finish(struct bench_conn *c)
{
    if (c->open && c->ring_count == 0 && c->out_len == 0 && conn_exhausted(c))
        conn_close(c);
}

/* A hit must carry the requested key (when the protocol echoes it), flags 0, and exactly the key's
 * value. */
static int verify_hit(struct bench_conn *c, uint64_t key, const struct proto_reply *r)
{
    const struct keyspace *ks = c->thread->run->ks;
    char text[KS_KEY_MAX_LEN + 1];
    size_t klen = ks_key_text(ks, key, text), vlen;
    const char *value = ks_value(ks, key, &vlen);
    if (r->key != NULL && (r->key_len != klen || memcmp(r->key, text, klen) != 0)) {
        show_error(c, "reply for another key", r->line, r->line_len);
        return -1;
    }
    if (r->flags != 0 || r->value_len != vlen) {
        show_error(c, "wrong flags or length", r->line, r->line_len);
        return -1;
    }
    if (memcmp(r->value, value, vlen) != 0) {
        show_error(c, "wrong value bytes for", text, klen);
        return -1;
    }
    return 0;
}

/* Accounts one reply to its request. */
static void conn_complete(struct bench_conn *c, const struct bench_pending *p, const struct proto_reply *r,
                          uint64_t now)
{
    struct bench_thread *t = c->thread;
    uint64_t lat = now - p->sent_ns;
    hist_record(&t->hist, lat);
    bench_count(&t->c.lat_sum_ns, lat);
    bench_count(p->op == PROTO_OP_SET ? &t->c.sets : &t->c.gets, 1);
    switch (r->kind) {
    case PROTO_REPLY_STORED:
        break;
    case PROTO_REPLY_MISS:
        bench_count(&t->c.misses, 1);
        break;
    case PROTO_REPLY_HIT:
        if (verify_hit(c, p->key, r) == 0)
            bench_count(&t->c.hits, 1);
        else
            bench_count(&t->c.err_value, 1);
        break;
    case PROTO_REPLY_REFUSED:
        bench_count(&t->c.err_refused, 1);
        show_error(c, "refused", r->line, r->line_len);
        break;
    }
}

/* Parses every complete reply in the input buffer; returns -1 when the connection was dropped. */
static int conn_consume(struct bench_conn *c, uint64_t now)
{
    const struct bench_run *run = c->thread->run;
    size_t off = 0;
    while (c->ring_count > 0 && off < c->in_len) {
        struct bench_pending *p = &c->ring[c->ring_head];
        struct proto_reply r;
        size_t used = 0;
        enum proto_status st = run->proto->parse(p->op, c->in + off, c->in_len - off, &r, &used);
        if (st == PROTO_NEED_MORE)
            break;
        if (st == PROTO_BAD) {
            size_t n = c->in_len - off;
            const char *nl = memchr(c->in + off, '\n', n);
            conn_fail(c, &c->thread->c.err_protocol, "not a reply", c->in + off,
                      nl ? (size_t)(nl - (c->in + off)) : n);
            return -1;
        }
        conn_complete(c, p, &r, now);
        off += used;
        c->ring_head = (c->ring_head + 1) % run->opt->pipeline;
        c->ring_count--;
        c->last_ns = now;
    }
    if (c->ring_count == 0 && off < c->in_len) {
        conn_fail(c, &c->thread->c.err_protocol, "data nobody asked for", c->in + off, c->in_len - off);
        return -1;
    }
    memmove(c->in, c->in + off, c->in_len - off);
    c->in_len -= off;
    return 0;
}

/* Reads what the socket has; returns -1 when the connection ended (and is closed). */
static int conn_read(struct bench_conn *c)
{
    for (;;) {
        if (grow(&c->in, &c->in_cap, c->in_len + IN_CHUNK) != 0) {
            conn_fail(c, &c->thread->c.err_connection, "out of memory", NULL, 0);
            return -1;
        }
        size_t room = c->in_cap - c->in_len;
        ssize_t n = recv(c->fd, c->in + c->in_len, room, 0);
        if (n > 0) {
            c->in_len += (size_t)n;
            bench_count(&c->thread->c.bytes_in, (uint64_t)n);
            if ((size_t)n < room)
                return 0;
        } else if (n == 0) {
            conn_fail(c, &c->thread->c.err_connection, "server closed the connection", NULL, 0);
            return -1;
        } else if (errno == EINTR) {
            continue;
        } else if (errno == EAGAIN || errno == EWOULDBLOCK) {
            return 0;
        } else {
            conn_fail(c, &c->thread->c.err_connection, "recv failed", strerror(errno), 64);
            return -1;
        }
    }
}

/* Issues what the pipeline has room for and sends it. */
static void conn_advance(struct bench_conn *c, uint64_t now)
{
    if (conn_issue(c, now) != 0) {
        conn_fail(c, &c->thread->c.err_connection, "out of memory", NULL, 0);
        return;
    }
    if (conn_flush(c) != 0)
        return;
    conn_maybe_finish(c);
}

static void on_readable(evutil_socket_t fd, short what, void *arg)
{
    struct bench_conn *c = arg;
    (void)fd;
    (void)what;
    if (conn_read(c) != 0)
        return;
    uint64_t now = bench_now_ns();
    if (conn_consume(c, now) != 0)
        return;
    conn_advance(c, now);
}

static void on_writable(evutil_socket_t fd, short what, void *arg)
{
    struct bench_conn *c = arg;
    (void)fd;
    (void)what;
    if (conn_flush(c) == 0)
        conn_maybe_finish(c);
}

/* Stop flag for idle connections; --timeout for stuck ones. */
static void on_tick(evutil_socket_t fd, short what, void *arg)
{
    struct bench_thread *t = arg;
    const struct bench_options *opt = t->run->opt;
    uint64_t now = bench_now_ns();
    uint64_t limit = (uint64_t)(opt->timeout * 1e9);
    (void)fd;
    (void)what;
    for (unsigned i = 0; i < opt->clients; i++) {
        struct bench_conn *c = &t->conns[i];
        if (!c->open)
            continue;
        if (c->ring_count > 0 && now - c->last_ns > limit) {
            bench_count(&t->c.err_timeout, c->ring_count);
            show_error(c, "no reply within --timeout; closing", NULL, 0);
            conn_close(c);
            continue;
        }
        conn_maybe_finish(c);
    }
}

/* Blocking connect, then non-blocking for the loop; TCP_NODELAY on TCP. */
static int connect_socket(const struct bench_run *run)
{
    int fd = socket(run->addr.ss_family, SOCK_STREAM | SOCK_CLOEXEC, 0);
    if (fd < 0)
        return -1;
    if (connect(fd, (const struct sockaddr *)&run->addr, run->addr_len) != 0) {
        int e = errno;
        close(fd);
        errno = e;
        return -1;
    }
    if (run->addr.ss_family != AF_UNIX) {
        int one = 1;
        setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
    }
    if (fcntl(fd, F_SETFL, fcntl(fd, F_GETFL) | O_NONBLOCK) != 0) {
        close(fd);
        return -1;
    }
    return fd;
}

/* Seeds the streams, sets the fill slice and the request limit of connection i. */
static void conn_setup_workload(struct bench_conn *c)
{
    const struct bench_run *run = c->thread->run;
    const struct bench_options *opt = run->opt;
    uint64_t g = (uint64_t)c->thread->index * opt->clients + c->index;
    uint64_t n = (uint64_t)opt->threads * opt->clients;
    uint64_t range = run->ks->range;
    uint64_t lo = (uint64_t)((unsigned __int128)range * g / n);
    uint64_t hi = (uint64_t)((unsigned __int128)range * (g + 1) / n);
    ks_stream_seed(&c->st_set, run->ks, opt->seed, c->thread->index, 2 * c->index, lo);
    ks_stream_seed(&c->st_get, run->ks, opt->seed, c->thread->index, 2 * c->index + 1, lo);
    c->fill_next = opt->ks.key_min + lo;
    c->fill_end = opt->ks.key_min + hi;
    c->limit = opt->test_time > 0 ? UINT64_MAX : opt->requests;
}

/* Connects and allocates connection i of thread t. */
static int conn_open(struct bench_thread *t, unsigned i)
{
    struct bench_conn *c = &t->conns[i];
    c->thread = t;
    c->index = i;
    c->fd = connect_socket(t->run);
    if (c->fd < 0) {
        fprintf(stderr, "cairn-bench: connect: %s\n", strerror(errno));
        return -1;
    }
    c->open = 1;
    t->live++;
    c->ring = calloc(t->run->opt->pipeline, sizeof(*c->ring));
    c->ev_read = event_new(t->base, c->fd, EV_READ | EV_PERSIST, on_readable, c);
    c->ev_write = event_new(t->base, c->fd, EV_WRITE | EV_PERSIST, on_writable, c);
    if (c->ring == NULL || c->ev_read == NULL || c->ev_write == NULL ||
        grow(&c->out, &c->out_cap, OUT_INITIAL) != 0 || grow(&c->in, &c->in_cap, IN_CHUNK) != 0)
        return -1;
    conn_setup_workload(c);
    return event_add(c->ev_read, NULL);
}

/* A base without locks: only this thread uses it. */
static struct event_base *base_create(void)
{
    struct event_config *cfg = event_config_new();
    if (cfg == NULL)
        return NULL;
    event_config_set_flag(cfg, EVENT_BASE_FLAG_NOLOCK);
    struct event_base *b = event_base_new_with_config(cfg);
    event_config_free(cfg);
    return b;
}

/* Everything a thread needs before the start barrier. */
static int thread_prepare(struct bench_thread *t)
{
    const struct bench_options *opt = t->run->opt;
    t->base = base_create();
    t->conns = calloc(opt->clients, sizeof(*t->conns));
    if (t->base == NULL || t->conns == NULL)
        return -1;
    for (unsigned i = 0; i < opt->clients; i++)
        t->conns[i].fd = -1;
    for (unsigned i = 0; i < opt->clients; i++) {
        if (conn_open(t, i) != 0)
            return -1;
    }
    struct timeval tv = {0, TICK_USEC};
    t->tick = event_new(t->base, -1, EV_PERSIST, on_tick, t);
    return t->tick == NULL ? -1 : event_add(t->tick, &tv);
}

/* Connect, meet the others at the barrier, send the first window, loop. */
void *bench_thread_main(void *arg)
{
    struct bench_thread *t = arg;
    struct bench_run *run = t->run;
    if (thread_prepare(t) != 0)
        atomic_store(&run->abort_run, 1);
    pthread_barrier_wait(&run->start);
    if (!atomic_load(&run->abort_run)) {
        uint64_t now = bench_now_ns();
        for (unsigned i = 0; i < run->opt->clients; i++)
            conn_advance(&t->conns[i], now);
        if (t->live > 0)
            event_base_dispatch(t->base);
    }
    atomic_fetch_add(&run->threads_done, 1);
    return NULL;
}

/* Frees connections, events and the base; safe after a failed prepare. */
void bench_thread_cleanup(struct bench_thread *t)
{
    if (t->conns != NULL) {
        for (unsigned i = 0; i < t->run->opt->clients; i++) {
            struct bench_conn *c = &t->conns[i];
            conn_release(c);
            free(c->ring);
            free(c->in);
            free(c->out);
        }
        free(t->conns);
        t->conns = NULL;
    }
    if (t->tick != NULL)
        event_free(t->tick);
    t->tick = NULL;
    if (t->base != NULL)
        event_base_free(t->base);
    t->base = NULL;
    t->live = 0;
}
