/*
 * timing.h: how long each request took, per command, as cheap log-bucketed counters.
 *
 * Every worker owns one struct timing_hist; its sessions add to it (one writer, so plain increments
 * with relaxed atomic stores) and a scrape on another thread reads it with relaxed loads and sums the
 * workers (server/metrics.c). A request's time runs from the moment the protocol starts on it (the
 * previous request's end within one read, or the start of the read) to the moment its reply is
 * queued: one clock read per request. Requests slower than the slow log's threshold are also handed
 * to the slow log (protocol/slowlog.h) with their arguments.
 *
 * Commands are "slots": memcached's text commands (enum mc_cmd, then the meta commands), the binary
 * protocol's opcodes, and RESP's commands (top-level ones, then subcommands: resp_cmd_slot), each
 * range starting where this file says.
 */
#ifndef CAIRN_PROTOCOL_TIMING_H
#define CAIRN_PROTOCOL_TIMING_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <time.h>

#include "protocol/slowlog.h"

/* Bucket i counts requests that took at most 2^i microseconds (i < TIMING_BUCKETS - 1); the last
 * counts the rest (Prometheus's +Inf). 2^23 us is about 8.4 s. */
#define TIMING_BUCKETS 25

/* Slot ranges. */
#define TIMING_TEXT_BASE 0    /* enum mc_cmd (MC_CMD_NONE unused), then TIMING_TEXT_META.. */
#define TIMING_TEXT_META 28   /* mg ms md ma mn me, in that order */
#define TIMING_BINARY_BASE 34 /* + the opcode (0x00..0x3f) */
#define TIMING_RESP_BASE 98   /* + resp_cmd_slot's numbering (protocol/resp/resp_commands.c) */
#define TIMING_SLOTS       256  /* RESP: 128 of its 158 slots in use (test_timing checks they fit) */

enum timing_proto { TIMING_PROTO_TEXT, TIMING_PROTO_BINARY, TIMING_PROTO_RESP };

struct timing_hist {
    uint64_t count[TIMING_SLOTS][TIMING_BUCKETS];
    uint64_t sum_us[TIMING_SLOTS];   /* microseconds in all */
    uint64_t rejected[TIMING_SLOTS]; /* refused before running (RESP: arity, NOAUTH, NOPERM, MOVED...) */
    uint64_t failed[TIMING_SLOTS];   /* ran and replied with an error (RESP) */
};

struct slowlog;

/* The clock requests are timed with: the CPU's time-stamp counter where it runs at a constant rate
 * whatever the power state and is read without a system call (x86 "constant_tsc" and "nonstop_tsc";
 * about 11 ns a read here, against 27 ns for clock_gettime through a paravirtual clock), else
 * CLOCK_MONOTONIC in nanoseconds. Ticks become microseconds as ticks * us_mult >> 32. Set up once
 * (timing_clock_init) before any session uses it, then read-only. */
struct timing_clock {
    bool tsc;
    uint64_t us_mult;
};

/* Chooses the clock; with the time-stamp counter, measures its rate against CLOCK_MONOTONIC over
 * about 5 ms. */
void timing_clock_init(struct timing_clock *c);

/* What a session measures with: the clock, its worker's histograms, the server's slow log and the
 * client's address (for the slow log). Given to a session by proto_ops.meter; the pointers outlive it. */
struct timing_meter {
    const struct timing_clock *clock; /* NULL: CLOCK_MONOTONIC */
    struct timing_hist *hist;
    struct slowlog *slowlog; /* NULL: none */
    const char *addr;        /* "127.0.0.1:40000", as Redis's slow log shows a client */
};

/* Monotonic nanoseconds. */
static inline uint64_t timing_now_ns(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

#if defined(__x86_64__) || defined(__i386__)
#include <x86intrin.h>
#define TIMING_HAVE_TSC 1
#endif

/* The meter's clock now, in its ticks. */
static inline uint64_t timing_now(const struct timing_meter *m)
{
#ifdef TIMING_HAVE_TSC
    if (m->clock != NULL && m->clock->tsc)
        return __rdtsc();
#endif
    (void)m;
    return timing_now_ns();
}

/* Microseconds between two readings of the meter's clock (0 if the later one reads less: a counter
 * a migrated thread reads on another CPU may lag a little). */
static inline uint64_t timing_us(const struct timing_meter *m, uint64_t from, uint64_t to)
{
    if (to <= from)
        return 0;
    if (m->clock == NULL)
        return (to - from) / 1000;
    return (uint64_t)(((unsigned __int128)(to - from) * m->clock->us_mult) >> 32);
}

/* The bucket of a duration in microseconds. */
static inline unsigned timing_bucket(uint64_t us)
{
    if (us <= 1)
        return 0;
    unsigned b = 64u - (unsigned)__builtin_clzll(us - 1); /* smallest b with 2^b >= us */
    return b < TIMING_BUCKETS - 1 ? b : TIMING_BUCKETS - 1;
}

/* Counts one request of slot that took us microseconds (the worker's own thread). */
static inline void timing_count(struct timing_hist *h, unsigned slot, uint64_t us)
{
    uint64_t *c = &h->count[slot][timing_bucket(us)];
    __atomic_store_n(c, *c + 1, __ATOMIC_RELAXED);
    __atomic_store_n(&h->sum_us[slot], h->sum_us[slot] + us, __ATOMIC_RELAXED);
}

/* Ends a request of slot timed from *mark (the meter has a histogram): counts it, gives its
 * microseconds in *us and moves *mark to now, where the next request's time starts. Whether the
 * slow log wants it. */
static inline bool timing_end(const struct timing_meter *m, unsigned slot, uint64_t *mark, uint64_t *us)
{
    uint64_t now = timing_now(m);
    *us = timing_us(m, *mark, now);
    timing_count(m->hist, slot, *us);
    *mark = now;
    return slowlog_wants(m->slowlog, *us);
}

/* Adds one to a per-slot counter (rejected, failed) of the worker's own block. */
static inline void timing_bump(uint64_t *c)
{
    __atomic_store_n(c, *c + 1, __ATOMIC_RELAXED);
}

/* Adds h (another thread's live block: relaxed loads) into sum. */
void timing_hist_add(struct timing_hist *sum, const struct timing_hist *h);

/* The upper bound of bucket i in microseconds (UINT64_MAX for the last). */
uint64_t timing_bucket_le_us(unsigned i);

/* The protocol of a slot and, for memcached's text and binary slots, the command it counts (NULL for a
 * slot no command uses, and for RESP's slots: their names are resp_command_name(slot -
 * TIMING_RESP_BASE), protocol/resp/resp.h). */
const char *timing_slot_name(unsigned slot, enum timing_proto *proto);

/* The duration at quantile q (0 < q <= 1) of a histogram's buckets, in microseconds (the upper bound
 * of the bucket it falls in); 0 when the counts are all zero. */
uint64_t timing_quantile_us(const uint64_t *buckets, double q);

#endif
