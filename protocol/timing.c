/*
 * timing.c: summing workers' latency histograms, their bucket bounds and quantiles, and the names of
 * memcached's command slots. See timing.h.
 */
#include "config.h"

#include <stdio.h>
#include <string.h>
#include <time.h>

#include "protocol/timing.h"

/* memcached's text commands by slot (enum mc_cmd's order, protocol/mc/mc_parse.h), then the meta
 * commands from TIMING_TEXT_META. */
static const char *const text_names[TIMING_BINARY_BASE - TIMING_TEXT_BASE] = {
    NULL,        "get",   "gets",     "gat",         "gats",  "set",   "add",    "replace",
    "append",    "prepend", "cas",    "incr",        "decr",  "delete", "touch", "flush_all",
    "version",   "verbosity", "quit", "shutdown",    "stats", "cache_memlimit", "slabs", "lru_crawler",
    "lru",       "watch", NULL,       NULL,          "mg",    "ms",    "md",     "ma",
    "mn",        "me"};

/* The binary protocol's opcodes (protocol-binary.txt's names, quiet variants apart). */
static const char *const binary_names[TIMING_RESP_BASE - TIMING_BINARY_BASE] = {
    [0x00] = "get",        [0x01] = "set",       [0x02] = "add",        [0x03] = "replace",
    [0x04] = "delete",     [0x05] = "increment", [0x06] = "decrement",  [0x07] = "quit",
    [0x08] = "flush",      [0x09] = "getq",      [0x0a] = "noop",       [0x0b] = "version",
    [0x0c] = "getk",       [0x0d] = "getkq",     [0x0e] = "append",     [0x0f] = "prepend",
    [0x10] = "stat",       [0x11] = "setq",      [0x12] = "addq",       [0x13] = "replaceq",
    [0x14] = "deleteq",    [0x15] = "incrementq", [0x16] = "decrementq", [0x17] = "quitq",
    [0x18] = "flushq",     [0x19] = "appendq",   [0x1a] = "prependq",   [0x1b] = "verbosity",
    [0x1c] = "touch",      [0x1d] = "gat",       [0x1e] = "gatq",       [0x20] = "sasl_list_mechs",
    [0x21] = "sasl_auth",  [0x22] = "sasl_step", [0x23] = "gatk",       [0x24] = "gatkq"};

/* See timing.h. */
void timing_hist_add(struct timing_hist *sum, const struct timing_hist *h)
{
    for (unsigned s = 0; s < TIMING_SLOTS; s++) {
        for (unsigned b = 0; b < TIMING_BUCKETS; b++)
            sum->count[s][b] += __atomic_load_n(&h->count[s][b], __ATOMIC_RELAXED);
        sum->sum_us[s] += __atomic_load_n(&h->sum_us[s], __ATOMIC_RELAXED);
        sum->rejected[s] += __atomic_load_n(&h->rejected[s], __ATOMIC_RELAXED);
        sum->failed[s] += __atomic_load_n(&h->failed[s], __ATOMIC_RELAXED);
    }
}

/* See timing.h. */
uint64_t timing_bucket_le_us(unsigned i)
{
    return i + 1 < TIMING_BUCKETS ? (uint64_t)1 << i : UINT64_MAX;
}

/* See timing.h. */
const char *timing_slot_name(unsigned slot, enum timing_proto *proto)
{
    if (slot < TIMING_BINARY_BASE) {
        *proto = TIMING_PROTO_TEXT;
        return text_names[slot - TIMING_TEXT_BASE];
    }
    if (slot < TIMING_RESP_BASE) {
        *proto = TIMING_PROTO_BINARY;
        return binary_names[slot - TIMING_BINARY_BASE];
    }
    *proto = TIMING_PROTO_RESP;
    return NULL;
}

/* See timing.h. */
uint64_t timing_quantile_us(const uint64_t *buckets, double q)
{
    uint64_t total = 0, seen = 0;

    for (unsigned b = 0; b < TIMING_BUCKETS; b++)
        total += buckets[b];
    if (total == 0)
        return 0;
    uint64_t rank = (uint64_t)(q * (double)total + 0.999999);
    if (rank == 0)
        rank = 1;
    for (unsigned b = 0; b < TIMING_BUCKETS; b++) {
        seen += buckets[b];
        if (seen >= rank)
            return b + 1 < TIMING_BUCKETS ? timing_bucket_le_us(b) : timing_bucket_le_us(TIMING_BUCKETS - 2) * 2;
    }
    return 0;
}

/* Whether /proc/cpuinfo lists both flags that make the time-stamp counter a clock: constant_tsc
 * (a fixed rate whatever the frequency) and nonstop_tsc (it runs in deep idle states too). */
static bool tsc_is_a_clock(void)
{
    FILE *f = fopen("/proc/cpuinfo", "r");
    char line[4096];
    bool constant = false, nonstop = false;

    if (f == NULL)
        return false;
    while (fgets(line, sizeof(line), f) != NULL) {
        if (strncmp(line, "flags", 5) != 0)
            continue;
        constant = strstr(line, " constant_tsc") != NULL;
        nonstop = strstr(line, " nonstop_tsc") != NULL;
        break;
    }
    fclose(f);
    return constant && nonstop;
}

/* See timing.h. */
void timing_clock_init(struct timing_clock *c)
{
    c->tsc = false;
    c->us_mult = ((uint64_t)1 << 32) / 1000; /* nanoseconds */
#ifdef TIMING_HAVE_TSC
    if (!tsc_is_a_clock())
        return;
    struct timespec pause = {0, 5 * 1000 * 1000};
    uint64_t ns0 = timing_now_ns(), t0 = __rdtsc();
    nanosleep(&pause, NULL);
    uint64_t ns1 = timing_now_ns(), t1 = __rdtsc();
    if (t1 <= t0 || ns1 <= ns0)
        return;
    double ticks_per_us = (double)(t1 - t0) * 1000.0 / (double)(ns1 - ns0);
    if (ticks_per_us < 1.0) /* not a counter worth the name */
        return;
    c->us_mult = (uint64_t)(4294967296.0 / ticks_per_us);
    c->tsc = true;
#endif
}
