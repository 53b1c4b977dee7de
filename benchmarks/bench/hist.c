/*
 * hist.c: the log-bucketed histogram (see hist.h).
 *
 * Index: with B = HIST_SUB_BITS and v >= 2^B, let e = msb(v) - (B - 1), so v >> e lies in
 * [2^(B-1), 2^B); the index is e * 2^(B-1) + (v >> e). For v < 2^B the index is v itself (e = 0).
 * Consecutive exponents therefore tile the index space without gaps:
 *
 *   e = 0: [0, 2^B)          one value per bucket
 *   e = 1: [2^B, 2^B + 2^(B-1))       two values per bucket
 *   e = 2: next 2^(B-1) indexes       four values per bucket ... and so on.
 */
#include "config.h"

#include <string.h>

#include "benchmarks/bench/hist.h"

#define HALF (1u << (HIST_SUB_BITS - 1))

static size_t bucket_of(uint64_t v)
{
    if (v < (1u << HIST_SUB_BITS))
        return (size_t)v;
    unsigned e = (unsigned)(63 - __builtin_clzll(v)) - (HIST_SUB_BITS - 1);
    size_t i = (size_t)e * HALF + (size_t)(v >> e);
    return i < HIST_BUCKETS ? i : HIST_BUCKETS - 1;
}

/* Inverse of bucket_of for the bucket's bounds. */
void hist_bucket_range(size_t i, uint64_t *lo, uint64_t *hi)
{
    if (i < (1u << HIST_SUB_BITS)) {
        *lo = *hi = i;
        return;
    }
    size_t e = i / HALF - 1;
    uint64_t m = (uint64_t)(i - e * HALF);
    *lo = m << e;
    *hi = *lo + (((uint64_t)1 << e) - 1);
}

/* Zeroes every bucket. */
void hist_init(struct hist *h)
{
    memset(h, 0, sizeof(*h));
    h->min = UINT64_MAX;
}

/* One increment plus the exact extremes. */
void hist_record(struct hist *h, uint64_t ns)
{
    h->buckets[bucket_of(ns)]++;
    h->count++;
    h->sum += (double)ns;
    if (ns < h->min)
        h->min = ns;
    if (ns > h->max)
        h->max = ns;
}

/* Bucket-wise sum. */
void hist_merge(struct hist *dst, const struct hist *src)
{
    for (size_t i = 0; i < HIST_BUCKETS; i++)
        dst->buckets[i] += src->buckets[i];
    dst->count += src->count;
    dst->sum += src->sum;
    if (src->min < dst->min)
        dst->min = src->min;
    if (src->max > dst->max)
        dst->max = src->max;
}

/* Walks the buckets until the cumulative count reaches the rank of pct. */
uint64_t hist_percentile(const struct hist *h, double pct)
{
    if (h->count == 0)
        return 0;
    double want = pct / 100.0 * (double)h->count;
    uint64_t rank = (uint64_t)want;
    if ((double)rank < want || rank == 0)
        rank++;
    if (rank > h->count)
        rank = h->count;
    uint64_t seen = 0;
    for (size_t i = 0; i < HIST_BUCKETS; i++) {
        seen += h->buckets[i];
        if (seen >= rank) {
            uint64_t lo, hi;
            hist_bucket_range(i, &lo, &hi);
            if (hi > h->max)
                hi = h->max;
            return hi < h->min ? h->min : hi;
        }
    }
    return h->max;
}

/* sum / count. */
double hist_mean(const struct hist *h)
{
    return h->count ? h->sum / (double)h->count : 0.0;
}
