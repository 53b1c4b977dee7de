/*
 * hist.h: a log-bucketed latency histogram in the manner of HdrHistogram, written for cairn-bench.
 *
 * Values are nanoseconds. Values below 2^HIST_SUB_BITS have a bucket each; above, every power of two
 * is split into 2^(HIST_SUB_BITS-1) equal buckets, so a bucket is never wider than 1/128 of its lower
 * bound (0.8% precision) up to 2^HIST_MAX_EXP ns (about 18 minutes; larger values are clamped into
 * the last bucket). Recording is an index computation and one increment: no allocation, no lock.
 *
 * Threads: each thread records into its own histogram; the main thread merges them after joining.
 */
#ifndef CAIRN_BENCH_HIST_H
#define CAIRN_BENCH_HIST_H

#include <stddef.h>
#include <stdint.h>

#define HIST_SUB_BITS 8
#define HIST_MAX_EXP  40
#define HIST_BUCKETS  ((HIST_MAX_EXP - HIST_SUB_BITS + 2) << (HIST_SUB_BITS - 1))

struct hist {
    uint64_t count;
    uint64_t min, max; /* exact; min is UINT64_MAX while empty */
    double sum;
    uint64_t buckets[HIST_BUCKETS];
};

/* Empties h. */
void hist_init(struct hist *h);

/* Adds one value (ns). */
void hist_record(struct hist *h, uint64_t ns);

/* Adds every count of src into dst. */
void hist_merge(struct hist *dst, const struct hist *src);

/* The value at or below which pct percent (0..100) of the recorded values lie: the highest value
 * of that bucket, capped to the exact max (and at least the exact min). 0 for an empty histogram. */
uint64_t hist_percentile(const struct hist *h, double pct);

/* The mean, 0 when empty. */
double hist_mean(const struct hist *h);

/* The lowest and highest value that bucket i holds. */
void hist_bucket_range(size_t i, uint64_t *lo, uint64_t *hi);

#endif
