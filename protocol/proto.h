/*
 * proto.h: the contract between a connection (server/) and a wire protocol (protocol/).
 *
 * A connection owns an opaque session of one protocol and talks to it only through that protocol's
 * struct proto_ops, chosen by the listener that accepted it. The connection reads bytes and feeds
 * them; the session parses and executes complete requests in order and appends the replies to the
 * connection's output queue (struct outq); the connection writes the queue out. The session never
 * touches a socket, and the connection never knows a protocol's syntax: what it needs to act on comes
 * back as a status (enum proto_status), and anything the server answers on a session's behalf
 * (a deferred snapshot, a refusal) is an outcome (struct proto_outcome) that each protocol turns into
 * its own bytes.
 *
 * Values are received zero-copy: while a session is inside a value block it offers a window (the
 * item's value bytes still due) and the connection read()s straight into it.
 */
#ifndef CAIRN_PROTOCOL_PROTO_H
#define CAIRN_PROTOCOL_PROTO_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct outq;
struct timing_meter;

/* What the connection should do after a feed. */
enum proto_status {
    PROTO_OK = 0,   /* keep reading */
    PROTO_CLOSE,    /* write out what is queued, then close (quit, fatal protocol error) */
    PROTO_SHUTDOWN, /* a shutdown was accepted: write what is queued, then stop the server */
    PROTO_WAIT,     /* a request the server must answer (ops->take_wait): feed nothing more until
                     * that answer is appended to the queue (ops->answer), then feed the rest */
    PROTO_PAUSE,    /* the output queue reached its pause weight, or a long request (a key dump) has
                     * done one batch: send some of the queue, then feed the same bytes again (the
                     * request resumes where it stopped) */
    PROTO_BUSY,     /* a storage request's value cannot be given memory now (the receiving budget
                     * is spent): nothing was done; feed the same bytes again later, or call
                     * ops->no_wait first to have it refused */
    PROTO_FLUSH     /* a request must wait until no queued value holds an item (outq_holds_items:
                     * memcached's incr after a get, whose reply memcached has written out by
                     * then): nothing was done; write the queue, then feed the same bytes again */
};

/* What a PROTO_WAIT feed asks the server to do. */
enum proto_wait {
    PROTO_WAIT_NONE = 0,
    PROTO_WAIT_SNAPSHOT,    /* save a snapshot; answer when the save is done */
    PROTO_WAIT_SNAPSHOT_BG, /* save a snapshot; answer as soon as the save has started (or not) */
    PROTO_WAIT_AUTH_DELAY   /* a failed authentication's reply is held back AUTH_FAIL_DELAY_MS
                             * (protocol/auth.h): answer PROTO_EV_AUTH_DELAYED once it has passed */
};

/* Something the server answers on a session's behalf. */
enum proto_event {
    PROTO_EV_SNAPSHOT_OFF,     /* no snapshot path is configured */
    PROTO_EV_SNAPSHOT_BUSY,    /* a save is already running (or the server is stopping) */
    PROTO_EV_SNAPSHOT_STARTED, /* a background save started */
    PROTO_EV_SNAPSHOT_SAVED,   /* the save finished: items, bytes, usec */
    PROTO_EV_SNAPSHOT_FAILED,  /* the save failed: why */
    PROTO_EV_NO_MEMORY,        /* the request could not be given memory (no reply state) */
    PROTO_EV_READ_NO_MEMORY,   /* a request outgrew the read buffers' memory limit; the connection
                                * closes after this reply */
    PROTO_EV_AUTH_DELAYED      /* PROTO_WAIT_AUTH_DELAY's time has passed: append the held reply */
};

struct proto_outcome {
    enum proto_event ev;
    uint64_t items, bytes, usec; /* PROTO_EV_SNAPSHOT_SAVED */
    const char *why;             /* PROTO_EV_SNAPSHOT_FAILED: a short reason, no CR or LF */
};

/* A protocol's operations; one constant table per protocol. sess is what create returned. */
struct proto_ops {
    const char *name; /* "memcache", ... (stats, logs) */
    /* The longest request line the connection must buffer before the session can act on it; a
     * longer one is refused by the session itself, so buffers never need to grow past this. */
    size_t line_max;
    /* What a connection accepted past the connection limit is sent before it is closed. */
    const char *reject;
    /* A session for one connection: ctx is the protocol's shared, read-only context, stats the
     * calling worker's counter block for this protocol. NULL on no memory. */
    void *(*create)(const void *ctx, void *stats);
    /* Frees the session and anything it holds (a half-received item). NULL is a no-op. */
    void (*destroy)(void *sess);
    /* Parses and executes every complete request in buf[0..len) in order, appending replies to out;
     * *used gets the bytes consumed (the rest must be offered again with more after it). Stops early
     * only when returning something other than PROTO_OK. */
    enum proto_status (*feed)(void *sess, const char *buf, size_t len, size_t *used, struct outq *out);
    /* After PROTO_WAIT: what the server is asked to do; returns it once, then PROTO_WAIT_NONE. */
    enum proto_wait (*take_wait)(void *sess);
    /* While a value is being received: where the next value bytes go and how many are due. */
    bool (*value_window)(void *sess, char **dst, size_t *len);
    /* n bytes were placed at the window. */
    void (*value_filled)(void *sess, size_t n);
    /* After PROTO_BUSY: the next request the receiving budget cannot take is refused instead. */
    void (*no_wait)(void *sess);
    /* Whether the session is inside a value block (receiving or swallowing it). */
    bool (*mid_value)(const void *sess);
    /* Appends the protocol's reply for an outcome the server reached on the session's behalf. */
    void (*answer)(void *sess, const struct proto_outcome *o, struct outq *out);
    /* From now on the session times its requests into m's histograms and slow log
     * (protocol/timing.h; *m is copied). A session never given a meter times nothing. */
    void (*meter)(void *sess, const struct timing_meter *m);
};

#endif
