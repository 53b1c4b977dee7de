/*
 * latency.h: the workers' per-command latency histograms (protocol/timing.h) summed and shown: as
 * Prometheus histograms on /metrics, as rows for the status page and `stats latency`.
 *
 * Threads: any (the workers' blocks are read with relaxed loads, as `stats` reads counters).
 */
#ifndef CAIRN_SERVER_LATENCY_H
#define CAIRN_SERVER_LATENCY_H

#include <stddef.h>
#include <stdint.h>

#include "protocol/timing.h"

struct server;
struct evbuffer;

/* Sums every worker's histograms into *sum (which it clears first). */
void latency_sum(struct server *srv, struct timing_hist *sum);

/* Room for a command's name ("client|setname"). */
#define LATENCY_NAME_MAX 64

/* One command's figures since start. */
struct latency_row {
    const char *proto; /* "text", "binary", "resp" */
    char cmd[LATENCY_NAME_MAX];
    uint64_t count, sum_us;
    uint64_t p50_us, p99_us, p999_us; /* bucket upper bounds */
};

/* The commands that ran, most run first: at most n rows; returns how many. */
size_t latency_rows(const struct timing_hist *h, struct latency_row *rows, size_t n);

/* The buckets of every command together (TIMING_BUCKETS counts) into all. */
void latency_all(const struct timing_hist *h, uint64_t *all);

/* Appends the histogram family cairn_request_duration_seconds, one series per command that ran,
 * labelled protocol and command; -1 on no memory. */
int latency_prometheus(struct server *srv, struct evbuffer *b);

/* `stats reset` and CONFIG RESETSTAT: INFO commandstats and latencystats count from now on (as Redis's
 * do); /metrics' histograms never go back (Prometheus counters). */
void latency_reset(struct server *srv);

/* resp_cmdstats_fn (protocol/resp/resp.h): every RESP command that ran or was refused since the last
 * reset, for INFO commandstats and latencystats. */
struct resp_cmd_figures;
void latency_resp_cmdstats(void *server, void (*each)(void *arg, const struct resp_cmd_figures *f),
                           void *arg);

#endif
