/*
 * conn.c: one client connection on its worker thread: reading requests, feeding them to the protocol
 * session, and writing the response queue out with writev.
 *
 * Data: a read buffer rbuf[0..rlen) holding bytes the session has not consumed yet (at most an
 * incomplete request line); it starts at RBUF_INIT and doubles up to rbuf_max(), enough for the
 * longest request line of the connection's protocol (ops->line_max: a memcached get line), and
 * shrinks back when the connection goes idle. While the session waits
 * for a value block and the buffer is empty, read() goes straight into the item's memory (the value
 * window), so a large value is never copied through the buffer.
 *
 * One readable event reads at most -R times (default 20) and then yields (conn_yields); libevent's
 * level-triggered polling brings the connection back on the next loop turn. Output goes out after the
 * reads; whatever the socket does not take waits for EV_WRITE and goes out with writev. Backpressure:
 * with more than HIGH_WATER bytes queued the connection stops reading until the queue falls under
 * LOW_WATER.
 *
 * Batched I/O (io_uring, worker.c): a connection that is only readable joins the worker's read queue;
 * after the loop turn the worker receives for every queued connection with one system call and calls
 * conn_read_done() for each, which feeds the bytes and goes on reading inline while the socket may
 * hold more (within -R). Fresh output then joins the write queue, sent the same way with one call and
 * conn_batch_done(). Without a ring, the same steps run inline: read(), then writev().
 *
 * Closing: `quit`, a fatal protocol error, EOF from the client or a server stop set `closing`: no more
 * reading, the queued output is flushed, then the connection is freed. A write error frees it at once.
 * A connection on a queue leaves it before it reads or writes inline or is freed, so the worker never
 * reads or sends for a freed connection, and output always leaves in queue order.
 *
 * Threads: everything here runs on the owning worker's thread. `stats conns` on other threads reads
 * addr (immutable), state and last_cmd (atomics) under the worker's conns_lock, which guards the list.
 */
#include "config.h"

#include <errno.h>
#include <limits.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/uio.h>
#include <unistd.h>

#include <event2/event.h>

#include "protocol/auth.h"
#include "protocol/proto.h"
#include "protocol/outq.h"
#include "server/server_internal.h"
#include "server/snapshot_ctl.h"

#define RBUF_INIT ((size_t)16 * 1024)

enum io_result {
    IO_OK = 0, /* carry on (the socket would block, or the read budget is spent) */
    IO_CLOSE   /* the connection is broken: kill it */
};

static void on_event(evutil_socket_t fd, short what, void *arg);

/* `stats conns` name of a state. */
const char *conn_state_name(int state)
{
    switch (state) {
    case CONN_WAITING:
        return "conn_waiting";
    case CONN_PARSE_CMD:
        return "conn_parse_cmd";
    case CONN_NREAD:
        return "conn_nread";
    case CONN_MWRITE:
        return "conn_mwrite";
    case CONN_CLOSING:
        return "conn_closing";
    default:
        return "conn_unknown";
    }
}

static void set_state(struct conn *c, enum conn_state st)
{
    atomic_store_explicit(&c->state, (int)st, memory_order_relaxed);
}

static int64_t server_now(const struct conn *c)
{
    return atomic_load_explicit(&c->w->srv->now, memory_order_relaxed);
}

/* Points the connection's event at flags (EV_READ, EV_WRITE, both or none). */
static void set_events(struct conn *c, short flags)
{
    if (flags == c->ev_flags)
        return;
    event_del(c->ev);
    c->ev_flags = flags;
    if (flags == 0)
        return;
    event_assign(c->ev, c->w->base, c->fd, (short)(flags | EV_PERSIST), on_event, c);
    event_add(c->ev, NULL);
}

/* Changes c's read buffer to n bytes, keeping the bytes beyond RBUF_INIT counted against the
 * server's read_buf_limit. False (nothing changed) when that limit or the allocator says no. */
static bool resize_buffer(struct conn *c, size_t n)
{
    struct server *srv = c->w->srv;
    size_t extra_old = c->rsize > RBUF_INIT ? c->rsize - RBUF_INIT : 0;
    size_t extra_new = n > RBUF_INIT ? n - RBUF_INIT : 0;
    uint64_t limit = srv->settings->read_buf_limit;

    if (extra_new > extra_old) {
        uint64_t grow = extra_new - extra_old;
        uint64_t before = atomic_fetch_add_explicit(&srv->rbuf_extra, grow, memory_order_relaxed);
        if (limit != 0 && before + grow > limit) {
            atomic_fetch_sub_explicit(&srv->rbuf_extra, grow, memory_order_relaxed);
            return false;
        }
    }
    char *p = realloc(c->rbuf, n);
    if (p == NULL) {
        if (extra_new > extra_old)
            atomic_fetch_sub_explicit(&srv->rbuf_extra, extra_new - extra_old, memory_order_relaxed);
        return false;
    }
    if (extra_new < extra_old)
        atomic_fetch_sub_explicit(&srv->rbuf_extra, extra_old - extra_new, memory_order_relaxed);
    c->rbuf = p;
    c->rsize = n;
    return true;
}

/* The most the read buffer grows to: the protocol's longest line and a read's worth more. */
static size_t rbuf_max(const struct conn *c)
{
    return c->ops->line_max + RBUF_INIT;
}

/* Makes room at the end of the read buffer. False when a request line outgrew rbuf_max() (*oom
 * false), or when no memory is left for a longer line (*oom true). */
static bool ensure_space(struct conn *c, bool *oom)
{
    *oom = false;
    if (c->rlen < c->rsize)
        return true;
    size_t max = rbuf_max(c);
    if (c->rsize >= max)
        return false;
    size_t n = c->rsize * 2 > max ? max : c->rsize * 2;
    if (resize_buffer(c, n))
        return true;
    *oom = true;
    return false;
}

/* Gives a grown read buffer and reply queue back once the connection is idle. */
static void shrink_buffer(struct conn *c)
{
    if (c->rlen != 0)
        return;
    outq_trim(c->out);
    if (c->rsize > RBUF_INIT)
        resize_buffer(c, RBUF_INIT);
}

/* Whether c waits for the server's answer to a request (no request runs meanwhile). */
static bool server_waits(const struct conn *c)
{
    return c->snap_wait != NULL || c->auth_wait;
}

/* Whether c takes more requests now: alive, not closing, not held back by its output queue, not
 * waiting for the server's answer (server_waits). */
static bool may_read(const struct conn *c)
{
    return !c->dead && !c->closing && !c->read_paused && !server_waits(c) && !c->recv_wait;
}

/* Enters or leaves the wait for the receiving budget (PROTO_BUSY), keeping the server's count. */
static void set_recv_wait(struct conn *c, bool on, int64_t now)
{
    if (on == c->recv_wait)
        return;
    c->recv_wait = on;
    if (on) {
        if (c->recv_wait_since == 0)
            c->recv_wait_since = now;
        worker_count(&c->w->ws.receive_waits, 1);
        atomic_fetch_add_explicit(&c->w->srv->recv_waiting, 1, memory_order_relaxed);
    } else {
        atomic_fetch_sub_explicit(&c->w->srv->recv_waiting, 1, memory_order_relaxed);
    }
}

/* The session's value window; none before the session exists. */
static bool sess_value_window(struct conn *c, char **dst, size_t *len)
{
    return c->sess != NULL && c->ops->value_window(c->sess, dst, len);
}

/* Has a new session time its requests into the worker's histograms and the server's slow log, which
 * shows the client as "ip:port" (the address without its "tcp:" kind). sess may be NULL. */
static void meter_session(struct conn *c, const struct proto_ops *ops, void *sess)
{
    const char *colon = strchr(c->addr, ':');
    struct timing_meter m = {&c->w->srv->clock, c->w->lat, c->w->srv->slowlog,
                             colon != NULL ? colon + 1 : c->addr};

    if (sess != NULL && ops->meter != NULL)
        ops->meter(sess, &m);
}

/* On a listener that also takes RESP (star_ops) or the binary protocol (bin_ops), the first byte
 * picks the protocol: '*' is RESP (every Redis client sends a multibulk first), 0x80 the binary
 * protocol's request magic, anything else the listener's own. The session is created here, once;
 * false when no memory is left for it. */
static bool pick_protocol(struct conn *c)
{
    const struct listener *l = &c->w->srv->listeners[c->listener];
    const struct proto_ops *ops = l->ops;
    const void *ctx = l->ctx;

    if (c->sess != NULL)
        return true;
    if (l->star_ops != NULL && c->rlen > 0 && c->rbuf[0] == '*') {
        ops = l->star_ops;
        ctx = l->star_ctx;
    } else if (l->bin_ops != NULL && c->rlen > 0 && (unsigned char)c->rbuf[0] == 0x80) {
        ops = l->bin_ops;
        ctx = l->bin_ctx;
    }
    void *sess = ops->create(ctx, worker_proto_stats(c->w, ops));
    meter_session(c, ops, sess);
    pthread_mutex_lock(&c->w->conns_lock);
    c->ops = ops;
    c->sess = sess;
    pthread_mutex_unlock(&c->w->conns_lock);
    return sess != NULL;
}

static void after_io(struct conn *c);
static void feed(struct conn *c);

/* The held-back reply of a failed authentication is due: queue it and run the requests behind it. */
static void on_auth_timer(evutil_socket_t fd, short what, void *arg)
{
    struct conn *c = arg;
    (void)fd;
    (void)what;
    c->auth_wait = false;
    if (c->dead)
        return;
    c->ops->answer(c->sess, &(struct proto_outcome){.ev = PROTO_EV_AUTH_DELAYED}, c->out);
    if (c->rlen > 0)
        feed(c);
    after_io(c);
}

/* PROTO_WAIT_AUTH_DELAY: c runs nothing for AUTH_FAIL_DELAY_MS, then the reply is queued. When the
 * timer cannot be set up the reply goes out at once (the delay only slows guessing down). */
static void start_auth_delay(struct conn *c)
{
    struct timeval tv = {.tv_sec = AUTH_FAIL_DELAY_MS / 1000, .tv_usec = (AUTH_FAIL_DELAY_MS % 1000) * 1000};

    if (c->auth_timer == NULL)
        c->auth_timer = evtimer_new(c->w->base, on_auth_timer, c);
    if (c->auth_timer == NULL || evtimer_add(c->auth_timer, &tv) != 0) {
        c->ops->answer(c->sess, &(struct proto_outcome){.ev = PROTO_EV_AUTH_DELAYED}, c->out);
        return;
    }
    c->auth_wait = true;
}

/* A request the server answers (PROTO_WAIT): a `snapshot`, answered now or when the snapshot thread
 * replies, or a failed authentication whose reply is held back. */
static void start_wait(struct conn *c)
{
    struct server *srv = c->w->srv;
    enum proto_wait wait = c->ops->take_wait(c->sess);
    struct proto_outcome now = {.ev = PROTO_EV_SNAPSHOT_OFF};

    if (wait == PROTO_WAIT_AUTH_DELAY) {
        start_auth_delay(c);
        return;
    }
    bool bg = wait == PROTO_WAIT_SNAPSHOT_BG;
    if (srv->snapshot == NULL || snapshot_ctl_request(srv->snapshot, c, bg, &now, &c->snap_wait))
        c->ops->answer(c->sess, &now, c->out);
}

/* Whether c is in the middle of a request the client has not finished sending: a partial line, or a
 * value block being received or swallowed. A line held back by a full output queue is not. */
static bool mid_request(const struct conn *c)
{
    if (c->refeed)
        return false;
    return c->rlen > 0 || (c->sess != NULL && c->ops->mid_value(c->sess));
}

/* Runs every complete request in the buffer through the session and keeps the unconsumed tail; stops
 * at a `snapshot` that waits for its reply, or when the output queue is full (PROTO_PAUSE: the rest is
 * fed again once the queue drains, see resume). */
static void feed(struct conn *c)
{
    enum proto_status st;
    int64_t now = server_now(c);

    if (!pick_protocol(c)) {
        c->closing = true;
        c->rlen = 0;
        return;
    }
    if (outq_pending(c->out) == 0)
        c->out_progress = now;
    c->refeed = false;
    set_state(c, CONN_PARSE_CMD);
    atomic_store_explicit(&c->last_cmd, now, memory_order_relaxed);
    do {
        size_t used = 0;
        st = c->ops->feed(c->sess, c->rbuf, c->rlen, &used, c->out);
        if (used > c->rlen)
            used = c->rlen;
        if (used < c->rlen)
            memmove(c->rbuf, c->rbuf + used, c->rlen - used);
        c->rlen -= used;
        if (st == PROTO_WAIT)
            start_wait(c);
    } while (st == PROTO_WAIT && !server_waits(c) && c->rlen > 0);
    if (st != PROTO_BUSY)
        c->recv_wait_since = 0;
    if (st == PROTO_PAUSE) {
        c->refeed = true;
        c->read_paused = true;
        worker_count(&c->w->ws.reply_pauses, 1);
    } else if (st == PROTO_FLUSH) {
        c->refeed = true;
        c->flush_wait = true;
    } else if (st == PROTO_BUSY) {
        c->refeed = true;
        set_recv_wait(c, true, now);
    } else if (st == PROTO_CLOSE) {
        c->closing = true;
    } else if (st == PROTO_SHUTDOWN) {
        c->closing = true;
        if (!c->shutdown_sent) {
            c->shutdown_sent = true;
            server_request_shutdown(c->w->srv);
        }
    }
    if (!mid_request(c))
        c->req_since = 0;
    else if (c->req_since == 0)
        c->req_since = now;
    char *dst;
    size_t len;
    set_state(c, sess_value_window(c, &dst, &len) ? CONN_NREAD : CONN_WAITING);
}

/* Writes as much queued output as the socket takes. A queue that lost bytes to an allocation
 * failure is never sent: the connection is broken. */
static enum io_result flush_output(struct conn *c)
{
    struct worker *w = c->w;

    if (c->dead)
        return IO_CLOSE;
    if (outq_failed(c->out)) {
        worker_count(&w->ws.response_obj_oom, 1);
        return IO_CLOSE;
    }
    while (outq_pending(c->out) > 0) {
        int n = outq_iov(c->out, w->iov, IOV_MAX);
        if (n <= 0)
            break;
        ssize_t k = writev(c->fd, w->iov, n);
        if (k > 0) {
            outq_consume(c->out, (size_t)k);
            worker_count(&w->mc.bytes_written, (uint64_t)k);
            c->out_progress = server_now(c);
            continue;
        }
        if (k < 0 && errno == EINTR)
            continue;
        if (k < 0 && (errno == EAGAIN || errno == EWOULDBLOCK))
            return IO_OK;
        return IO_CLOSE;
    }
    return IO_OK;
}

/* A request line needs more buffer than the read_buf limit allows: the protocol's answer, then close. */
static void refuse_read_memory(struct conn *c)
{
    worker_count(&c->w->ws.read_buf_oom, 1);
    c->rlen = 0;
    if (c->sess != NULL)
        c->ops->answer(c->sess, &(struct proto_outcome){.ev = PROTO_EV_READ_NO_MEMORY}, c->out);
    c->closing = true;
}

/* Where the next read goes: the value window when a value is pending and nothing is buffered (then
 * *window is set), else the free end of the buffer. False when a request line outgrew rbuf_max(), or
 * when the buffer may not grow (then the connection is closing with memcached's error). */
static bool read_dest(struct conn *c, char **dst, size_t *len, bool *window)
{
    bool oom;

    if (c->rlen == 0 && sess_value_window(c, dst, len) && *len > 0) {
        *window = true;
        return true;
    }
    *window = false;
    if (!ensure_space(c, &oom)) {
        if (oom)
            refuse_read_memory(c);
        return false;
    }
    *dst = c->rbuf + c->rlen;
    *len = c->rsize - c->rlen;
    return true;
}

/* Takes in n > 0 bytes a read put where read_dest() said: counts them, then fills the value or feeds
 * the buffered requests to the session. */
static void read_taken(struct conn *c, bool window, size_t n)
{
    worker_count(&c->w->mc.bytes_read, (uint64_t)n);
    c->last_read = server_now(c);
    if (window) {
        c->ops->value_filled(c->sess, n);
        return;
    }
    c->rlen += n;
    feed(c);
}

/* One read(): into the value window when a value is pending and nothing is buffered, else into the
 * buffer followed by a feed. Returns the read() result (0 = EOF, -1 = error with errno); *drained is
 * set when read() returned less than it was offered, i.e. the socket had nothing more at that moment. */
static ssize_t read_once(struct conn *c, bool *drained)
{
    char *dst;
    size_t len;
    bool window;

    if (!read_dest(c, &dst, &len, &window)) {
        if (c->closing) {
            *drained = true;
            return 1; /* refused for memory: the error goes out, then the connection closes */
        }
        errno = EMSGSIZE;
        return -1;
    }
    ssize_t n = read(c->fd, dst, len);
    if (n > 0) {
        *drained = (size_t)n < len;
        read_taken(c, window, (size_t)n);
    }
    return n;
}

/* The output queue is full (a single reply larger than out_pause): write now, and stop reading if
 * it stays full. */
static enum io_result check_backlog(struct conn *c)
{
    if (outq_weight(c->out) < CONN_OUT_PAUSE && !outq_failed(c->out))
        return IO_OK;
    if (flush_output(c) == IO_CLOSE)
        return IO_CLOSE;
    if (outq_weight(c->out) >= CONN_OUT_PAUSE)
        c->read_paused = true;
    return IO_OK;
}

/* Reads and executes requests until the socket is empty (drained), budget reads were made, the output
 * queue is too long, a request is held back (refeed: it goes on from after_io, within that turn's
 * budget), or the connection starts closing. A short read ends the loop without the read() that would
 * only return EAGAIN: level-triggered polling reports any bytes that arrive after it. */
static enum io_result read_loop(struct conn *c, unsigned budget, bool drained)
{
    while (may_read(c) && !drained && !c->refeed) {
        if (budget-- == 0) {
            worker_count(&c->w->ws.conn_yields, 1);
            return IO_OK;
        }
        ssize_t n = read_once(c, &drained);
        if (n == 0) {
            c->closing = true;
            return IO_OK;
        }
        if (n < 0) {
            if (errno == EINTR)
                continue;
            if (errno == EAGAIN || errno == EWOULDBLOCK)
                return IO_OK;
            return IO_CLOSE;
        }
        if (check_backlog(c) == IO_CLOSE)
            return IO_CLOSE;
    }
    return IO_OK;
}

/* Reads and executes requests within the -R budget (see read_loop). */
static enum io_result read_requests(struct conn *c)
{
    return read_loop(c, c->w->srv->settings->reqs_per_event, false);
}

/* Once a paused connection's queue has drained to CONN_OUT_RESUME, it may take requests again, and
 * the requests it already holds (a get that stopped at a key, a pipeline) are fed. Returns the reply
 * weight the feed added (0 when it did not feed, at least 1 when it did). */
static size_t resume(struct conn *c)
{
    if (c->read_paused && outq_weight(c->out) <= CONN_OUT_RESUME)
        c->read_paused = false;
    if (c->flush_wait && !outq_holds_items(c->out))
        c->flush_wait = false;
    if (c->dead || !c->refeed || c->read_paused || c->flush_wait || server_waits(c) || c->recv_wait)
        return 0;
    size_t before = outq_weight(c->out);
    feed(c);
    size_t after = outq_weight(c->out);
    return after > before ? after - before : 1;
}

/* After writing: decide what to wait for, or finish closing (c is then killed). */
static void settle(struct conn *c)
{
    if (c->dead)
        return;
    if (c->read_paused && outq_weight(c->out) <= CONN_OUT_RESUME)
        c->read_paused = false;
    size_t pending = outq_pending(c->out);
    if (c->closing && pending == 0 && !server_waits(c) && !c->refeed) {
        conn_kill(c);
        return;
    }
    if (pending == 0)
        c->out_progress = server_now(c);
    short flags = 0;
    if (may_read(c))
        flags |= EV_READ;
    /* A held-back request that may run now comes back through EV_WRITE (writable at once). */
    if (pending > 0 || (c->refeed && !c->read_paused && !server_waits(c) && !c->recv_wait))
        flags |= EV_WRITE;
    if (c->closing)
        set_state(c, CONN_CLOSING);
    else if (pending > 0)
        set_state(c, CONN_MWRITE);
    else if (atomic_load_explicit(&c->state, memory_order_relaxed) == CONN_MWRITE)
        set_state(c, CONN_WAITING);
    if (c->rlen == 0 && pending == 0)
        shrink_buffer(c);
    set_events(c, flags);
}

/* Flushes inline, feeds what a drained queue lets run, then decides what to wait for. A connection on
 * the write queue leaves it first: its output goes out here, in order. Fairness: one turn feeds at
 * most -R times and at most CONN_TURN_WEIGHT of replies; a connection with more held back (a long
 * multi-get to a client whose socket takes everything) goes on at the next turn, after the others. */
static void after_io(struct conn *c)
{
    unsigned budget = c->w->srv->settings->reqs_per_event;
    size_t fed = 0;

    worker_unqueue(c);
    for (;;) {
        if (flush_output(c) == IO_CLOSE) {
            conn_kill(c);
            return;
        }
        if (budget-- == 0 || fed >= CONN_TURN_WEIGHT)
            break;
        size_t w = resume(c);
        if (w == 0)
            break;
        fed += w;
    }
    settle(c);
}

/* After reading: with batching, fresh output of a connection that has none left over joins the
 * worker's write queue and goes out at the end of the loop turn with the other connections' (one
 * io_uring_enter for all); otherwise it is written now. */
static void after_read(struct conn *c)
{
    if (c->dead)
        return;
    if (worker_batches_io(c->w) && !(c->ev_flags & EV_WRITE) && outq_pending(c->out) > 0 &&
        !outq_failed(c->out)) {
        worker_queue(&c->w->write_q, c);
        return;
    }
    after_io(c);
}

/*
 * The socket is readable and/or writable. With batching, a connection that is only readable joins
 * the worker's read queue: after the loop turn one io_uring_enter reads every queued connection
 * (conn_read_done). Output left over from a full socket waits for EV_WRITE and goes out here with
 * writev, after any inline read.
 */
static void on_event(evutil_socket_t fd, short what, void *arg)
{
    struct conn *c = arg;
    (void)fd;

    if (c->dead)
        return;
    if ((what & EV_READ) && may_read(c)) {
        if (what == EV_READ && worker_batches_io(c->w)) {
            worker_queue(&c->w->read_q, c);
            return;
        }
        conn_read_inline(c);
        return;
    }
    after_io(c);
}

/* Reads and answers c inline (as without batching). */
void conn_read_inline(struct conn *c)
{
    worker_unqueue(c);
    if (may_read(c) && read_requests(c) == IO_CLOSE) {
        conn_kill(c);
        return;
    }
    after_read(c);
}

/* Batched read, step 1: where the recv goes (see server_internal.h). */
bool conn_read_target(struct conn *c, char **dst, size_t *len)
{
    if (!may_read(c))
        return false;
    return read_dest(c, dst, len, &c->batch_window);
}

/* Batched read, step 2: applies the recv result res for up to len bytes (see server_internal.h). */
void conn_read_done(struct conn *c, int res, size_t len)
{
    enum io_result r = IO_OK;

    if (c->dead)
        return;
    if (res > 0) {
        read_taken(c, c->batch_window, (size_t)res);
        r = check_backlog(c);
        if (r == IO_OK)
            r = read_loop(c, c->w->srv->settings->reqs_per_event - 1, (size_t)res < len);
    } else if (res == 0) {
        c->closing = true;
    } else if (res != -EAGAIN && res != -EWOULDBLOCK && res != -EINTR) {
        r = IO_CLOSE;
    }
    if (r == IO_CLOSE) {
        conn_kill(c);
        return;
    }
    after_read(c);
}

/* Writes c's queued output inline with writev and decides what c waits for next. */
void conn_flush(struct conn *c)
{
    if (!c->dead)
        after_io(c);
}

/* Batched write, step 1: iovecs of the queued output and their total length (see server_internal.h). */
int conn_batch_iov(struct conn *c, struct iovec *iov, int max, size_t *len)
{
    int n = !c->dead && outq_pending(c->out) > 0 && !outq_failed(c->out) ? outq_iov(c->out, iov, max) : 0;
    size_t total = 0;

    for (int i = 0; i < n; i++)
        total += iov[i].iov_len;
    *len = total;
    return n;
}

/* Batched write, step 2: applies the sendmsg result res for len bytes (see server_internal.h). */
void conn_batch_done(struct conn *c, int res, size_t len)
{
    if (c->dead)
        return;
    if (res > 0) {
        outq_consume(c->out, (size_t)res);
        worker_count(&c->w->mc.bytes_written, (uint64_t)res);
        c->out_progress = server_now(c);
        /* All of it went: the socket may take the rest too, and held-back requests may run. A short
         * send means it is full. */
        if ((size_t)res == len) {
            after_io(c);
            return;
        }
    } else if (res != -EAGAIN && res != -EWOULDBLOCK && res != -EINTR) {
        conn_kill(c);
        return;
    }
    settle(c);
}

/* Worker stop: processes what already arrived, then flushes and closes (worker thread). */
void conn_begin_close(struct conn *c)
{
    if (c->dead)
        return;
    worker_unqueue(c);
    if (may_read(c) && read_requests(c) == IO_CLOSE) {
        conn_kill(c);
        return;
    }
    c->closing = true;
    after_io(c);
}

/* The reply to c's waiting `snapshot` arrived: queue it and run the requests behind it (worker
 * thread). */
void conn_snapshot_done(struct conn *c, const struct proto_outcome *o)
{
    c->snap_wait = NULL;
    if (c->dead)
        return;
    c->ops->answer(c->sess, o, c->out);
    if (c->rlen > 0)
        feed(c);
    after_io(c);
}

/* A storage line waiting for the receiving budget: offered again (refused once it has waited
 * CONN_RECV_WAIT_S). */
static void retry_recv_wait(struct conn *c, int64_t now)
{
    if (now - c->recv_wait_since >= CONN_RECV_WAIT_S)
        c->ops->no_wait(c->sess);
    set_recv_wait(c, false, now);
    feed(c);
    after_io(c);
}

/* See server_internal.h: the timeouts, checked once a second by the worker. */
void conn_sweep(struct conn *c, int64_t now)
{
    struct server *srv = c->w->srv;
    const struct settings *s = srv->settings;
    struct worker_stats *ws = &c->w->ws;

    if (c->dead)
        return;
    if (c->recv_wait) {
        retry_recv_wait(c, now);
        return;
    }
    char *dst;
    size_t len;
    if (sess_value_window(c, &dst, &len) && now - c->last_read > CONN_RECV_STALL_S &&
        atomic_load_explicit(&srv->recv_waiting, memory_order_relaxed) > 0) {
        worker_count(&ws->receive_stalls, 1);
        server_log(srv, 1, "<%d closing: value stalled while others wait for memory\n", c->fd);
        conn_kill(c);
        return;
    }
    if (outq_pending(c->out) > 0) {
        if (s->output_timeout != 0 && now - c->out_progress > (int64_t)s->output_timeout) {
            worker_count(&ws->output_timeouts, 1);
            server_log(c->w->srv, 1, "<%d closing: no reply bytes taken for %u s\n", c->fd, s->output_timeout);
            conn_kill(c);
        }
        return;
    }
    if (server_waits(c))
        return;
    if (c->req_since != 0) {
        if (s->request_timeout != 0 && now - c->req_since > (int64_t)s->request_timeout) {
            worker_count(&ws->request_timeouts, 1);
            server_log(c->w->srv, 1, "<%d closing: request not complete after %u s\n", c->fd,
                       s->request_timeout);
            conn_kill(c);
        }
        return;
    }
    int64_t last = atomic_load_explicit(&c->last_cmd, memory_order_relaxed);
    if (s->idle_timeout != 0 && now - last > (int64_t)s->idle_timeout) {
        worker_count(&ws->idle_kicks, 1);
        server_log(c->w->srv, 1, "<%d closing idle connection\n", c->fd);
        conn_kill(c);
    }
}

/* Fills the peer address as `stats conns` shows it. */
static void peer_address(struct conn *c, bool is_unix)
{
    struct sockaddr_storage ss;
    socklen_t len = sizeof(ss);

    if (is_unix || getpeername(c->fd, (struct sockaddr *)&ss, &len) != 0) {
        snprintf(c->addr, sizeof(c->addr), "%s", c->w->srv->listeners[c->listener].addr);
        return;
    }
    listen_format_addr((struct sockaddr *)&ss, c->addr, sizeof(c->addr));
}

/* Links c into its worker's list (seen by `stats conns`). */
static void link_conn(struct conn *c)
{
    struct worker *w = c->w;
    pthread_mutex_lock(&w->conns_lock);
    c->next = w->conns;
    if (w->conns != NULL)
        w->conns->prev = c;
    w->conns = c;
    pthread_mutex_unlock(&w->conns_lock);
    w->nconns++;
}

/* Frees what a connection owns (c may be NULL or half built), closes fd and tells the worker. */
static void conn_free(struct conn *c, struct worker *w, int fd)
{
    if (c != NULL) {
        if (c->ev != NULL)
            event_free(c->ev);
        if (c->auth_timer != NULL)
            event_free(c->auth_timer);
        snapshot_waiter_cancel(&c->snap_wait);
        if (c->sess != NULL)
            c->ops->destroy(c->sess);
        outq_destroy(&c->out);
        if (c->rsize > RBUF_INIT)
            atomic_fetch_sub_explicit(&w->srv->rbuf_extra, c->rsize - RBUF_INIT, memory_order_relaxed);
        free(c->rbuf);
        free(c);
    }
    close(fd);
    worker_conn_closed(w);
}

/* Creates a connection for fd on worker w (worker thread). NULL on failure (fd is then closed). */
struct conn *conn_create(struct worker *w, int fd, unsigned listener)
{
    struct server *srv = w->srv;
    bool is_unix = srv->listeners[listener].is_unix;
    struct conn *c = calloc(1, sizeof(*c));

    if (c == NULL)
        goto fail;
    c->w = w;
    c->fd = fd;
    c->listener = listener;
    c->rsize = RBUF_INIT;
    c->rbuf = malloc(c->rsize);
    c->out = outq_create(srv->cache);
    c->ops = srv->listeners[listener].ops;
    /* with a choice of protocols the first byte decides (pick_protocol) */
    bool chosen_later = srv->listeners[listener].star_ops != NULL || srv->listeners[listener].bin_ops != NULL;
    if (!chosen_later)
        c->sess = c->ops->create(srv->listeners[listener].ctx, worker_proto_stats(w, c->ops));
    peer_address(c, is_unix);
    meter_session(c, c->ops, c->sess);
    c->ev = event_new(w->base, fd, EV_READ | EV_PERSIST, on_event, c);
    if (c->rbuf == NULL || c->out == NULL || c->ev == NULL || (c->sess == NULL && !chosen_later))
        goto fail;
    if (!is_unix) {
        int one = 1;
        setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
    }
    c->created = server_now(c);
    atomic_store_explicit(&c->last_cmd, c->created, memory_order_relaxed);
    if (event_add(c->ev, NULL) != 0)
        goto fail;
    c->ev_flags = EV_READ;
    link_conn(c);
    server_log(srv, 2, "<%d new client connection from %s\n", fd, c->addr);
    return c;
fail:
    conn_free(c, w, fd);
    return NULL;
}

/* See server_internal.h: marks c dead, takes it off every list and event and drops what it holds;
 * the worker frees it after the loop turn (conn_reap). Killing a dead connection does nothing. */
void conn_kill(struct conn *c)
{
    struct worker *w = c->w;

    if (c->dead)
        return;
    c->dead = true;
    c->closing = true;
    set_recv_wait(c, false, 0);
    worker_unqueue(c);
    set_events(c, 0);
    snapshot_waiter_cancel(&c->snap_wait);
    if (c->auth_wait)
        evtimer_del(c->auth_timer);
    c->auth_wait = false;
    outq_clear(c->out); /* the items its replies held go back now */
    pthread_mutex_lock(&w->conns_lock);
    if (c->prev != NULL)
        c->prev->next = c->next;
    else
        w->conns = c->next;
    if (c->next != NULL)
        c->next->prev = c->prev;
    pthread_mutex_unlock(&w->conns_lock);
    w->nconns--;

    server_log(w->srv, 2, "<%d connection closed.\n", c->fd);
    c->dead_next = w->dead;
    w->dead = c;
}

/* See server_internal.h. */
void conn_reap(struct worker *w)
{
    while (w->dead != NULL) {
        struct conn *c = w->dead;
        w->dead = c->dead_next;
        conn_free(c, w, c->fd);
    }
}
