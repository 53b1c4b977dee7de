/*
 * bench.h: cairn-bench's shared types: the options, the run every thread reads, a thread with its
 * connections, and the per-thread counters. Internal to benchmarks/bench/.
 *
 * Threads: main parses options into struct bench_options, builds struct bench_run (read-only to the
 * workers except for the stop flag), and starts one bench_thread per --threads. Each worker owns its
 * event_base, its connections, its histogram and its counters; it is the only writer of them. The
 * counters are relaxed atomics written by their one owner (a plain load and store on the hot path)
 * so the main thread may read them for the per-second progress line; everything else is read only
 * after the workers are joined.
 *
 * Phases: an optional fill (every key of the range set once, the range cut into one contiguous slice
 * per connection) and then the measured run, each a full start/join of the workers.
 */
#ifndef CAIRN_BENCH_BENCH_H
#define CAIRN_BENCH_BENCH_H

#include <pthread.h>
#include <stdatomic.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/socket.h>
#include <sys/types.h>

#include "benchmarks/bench/hist.h"
#include "benchmarks/bench/keyspace.h"
#include "benchmarks/bench/proto.h"

#define BENCH_MAX_PERCENTILES 16

struct bench_options {
    const char *server;
    unsigned port;
    const char *unix_socket;
    enum proto_kind protocol;
    unsigned threads;
    unsigned clients; /* connections per thread */
    unsigned pipeline;
    unsigned ratio_set, ratio_get;
    struct ks_options ks;
    enum ks_pattern pattern_set, pattern_get;
    double test_time;  /* seconds; 0 = run --requests instead */
    uint64_t requests; /* per connection, when test_time is 0 */
    int fill;
    uint64_t seed;
    const char *json_out;
    int hide_histogram;
    int quiet;
    double timeout;  /* seconds without any reply before outstanding requests fail */
    long server_pid; /* 0 = none; else its CPU time is read from /proc around the run */
    double percentiles[BENCH_MAX_PERCENTILES];
    size_t n_percentiles;
};

enum bench_status {
    BENCH_OK = 0,
    BENCH_USAGE, /* bad options: message printed */
    BENCH_HELP,  /* --help printed */
};

enum bench_phase {
    BENCH_PHASE_FILL,
    BENCH_PHASE_RUN,
};

/* Counters of one thread. Single writer: the thread; readers: main (progress, totals). */
struct bench_counters {
    _Atomic uint64_t sets, gets, hits, misses;
    _Atomic uint64_t bytes_in, bytes_out;
    _Atomic uint64_t lat_sum_ns;
    _Atomic uint64_t err_value;      /* a hit with the wrong key, flags, length or bytes */
    _Atomic uint64_t err_refused;    /* NOT_STORED, ERROR, CLIENT_ERROR, SERVER_ERROR ... */
    _Atomic uint64_t err_protocol;   /* a reply that is not one: framing lost, connection dropped */
    _Atomic uint64_t err_connection; /* connect failure, reset, early close */
    _Atomic uint64_t err_timeout;    /* requests unanswered after --timeout */
};

/* Plain sums of the counters, taken by main. */
struct bench_totals {
    uint64_t sets, gets, hits, misses, bytes_in, bytes_out, lat_sum_ns;
    uint64_t err_value, err_refused, err_protocol, err_connection, err_timeout;
};

/* What every thread reads. */
struct bench_run {
    const struct bench_options *opt;
    const struct keyspace *ks;
    const struct proto_ops *proto;
    enum bench_phase phase;
    struct sockaddr_storage addr;
    socklen_t addr_len;
    pthread_barrier_t start; /* threads + main: connections made, clock starts */
    atomic_int stop;         /* main asks the threads to finish: no new requests, drain, close */
    atomic_int abort_run;    /* a thread could not connect: nobody starts */
    atomic_uint threads_done;
};

struct bench_thread;

/* One in-flight request, in send order. */
struct bench_pending {
    uint64_t key;
    uint64_t sent_ns;
    enum proto_op op;
};

struct bench_conn {
    struct bench_thread *thread;
    unsigned index; /* within the thread */
    int fd;
    struct event *ev_read, *ev_write;
    int write_armed;
    uint64_t last_ns; /* last reply, or the send that made the ring non-empty: for --timeout */
    struct ks_stream st_set, st_get;
    unsigned ratio_pos;
    uint64_t issued, limit;       /* requests sent; limit is UINT64_MAX for a timed run */
    uint64_t fill_next, fill_end; /* fill phase: absolute key indexes still to set */
    char *in;
    size_t in_len, in_cap;
    char *out;
    size_t out_off, out_len, out_cap;
    struct bench_pending *ring; /* pipeline slots */
    unsigned ring_head, ring_count;
    int open;
};

struct bench_thread {
    unsigned index;
    struct bench_run *run;
    pthread_t tid;
    struct event_base *base;
    struct event *tick;
    struct bench_conn *conns;
    unsigned live;
    unsigned errors_shown;
    struct hist hist;
    struct bench_counters c;
};

/* Relaxed single-writer increment: a load and a store, no bus lock. */
static inline void bench_count(_Atomic uint64_t *c, uint64_t n)
{
    atomic_store_explicit(c, atomic_load_explicit(c, memory_order_relaxed) + n, memory_order_relaxed);
}

static inline uint64_t bench_read(_Atomic uint64_t *c)
{
    return atomic_load_explicit(c, memory_order_relaxed);
}

/* options.c */

/* Fills *opt from argv (defaults as memtier_benchmark's); prints usage or the error itself. */
enum bench_status bench_options_parse(struct bench_options *opt, int argc, char **argv);

/* conn.c */

/* The thread body: connects its --clients connections, waits on run->start, runs its event loop
 * until its connections are done, and returns. arg is the struct bench_thread. */
void *bench_thread_main(void *arg);

/* Frees what bench_thread_main left (connections, buffers, events, base). */
void bench_thread_cleanup(struct bench_thread *t);

/* Monotonic clock in nanoseconds. */
uint64_t bench_now_ns(void);

/* report.c */

struct bench_result {
    const struct bench_options *opt;
    double elapsed_s;
    struct bench_totals tot;
    struct hist *hist;
    double cpu_user_s, cpu_sys_s;
    double server_cpu_s; /* < 0 when unknown */
    int fill_done;
    double fill_s;
    uint64_t fill_ops, fill_errors;
};

/* Sums the counters of n threads into *out. */
void bench_totals_sum(struct bench_totals *out, struct bench_thread *threads, unsigned n);

/* All errors in *t. */
uint64_t bench_totals_errors(const struct bench_totals *t);

/* Prints the human report (and, unless hidden, the histogram) to stdout. */
void bench_report_text(const struct bench_result *r);

/* Writes the flat JSON object to path; returns 0 or -1 (errno set). */
int bench_report_json(const struct bench_result *r, const char *path);

#endif
