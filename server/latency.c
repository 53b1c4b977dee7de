/*
 * latency.c: summing and showing the per-command latency histograms. See latency.h.
 */
#include "config.h"

#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <event2/buffer.h>

#include "protocol/resp/resp.h"
#include "server/latency.h"
#include "server/server_internal.h"

static const char *const proto_names[] = {"text", "binary", "resp"};

/* See latency.h. */
void latency_sum(struct server *srv, struct timing_hist *sum)
{
    memset(sum, 0, sizeof(*sum));
    for (unsigned i = 0; i < srv->nworkers; i++)
        if (srv->workers[i].lat != NULL)
            timing_hist_add(sum, srv->workers[i].lat);
}

/* The command of a slot into name (LATENCY_NAME_MAX bytes) and its protocol; false when no command
 * uses the slot. */
static bool slot_name(unsigned slot, const char **proto, char *name)
{
    enum timing_proto p;
    const char *fixed = timing_slot_name(slot, &p);
    *proto = proto_names[p];
    if (p == TIMING_PROTO_RESP)
        return resp_command_name(slot - TIMING_RESP_BASE, name, LATENCY_NAME_MAX);
    if (fixed == NULL)
        return false;
    snprintf(name, LATENCY_NAME_MAX, "%s", fixed);
    return true;
}

static uint64_t slot_count(const struct timing_hist *h, unsigned slot)
{
    uint64_t n = 0;
    for (unsigned b = 0; b < TIMING_BUCKETS; b++)
        n += h->count[slot][b];
    return n;
}

static int by_count(const void *a, const void *b)
{
    const struct latency_row *x = a, *y = b;
    if (x->count != y->count)
        return x->count < y->count ? 1 : -1;
    int c = strcmp(x->proto, y->proto);
    return c != 0 ? c : strcmp(x->cmd, y->cmd);
}

/* See latency.h. */
size_t latency_rows(const struct timing_hist *h, struct latency_row *rows, size_t n)
{
    struct latency_row all[TIMING_SLOTS];
    size_t k = 0;

    for (unsigned slot = 0; slot < TIMING_SLOTS; slot++) {
        const char *proto;
        uint64_t count = slot_count(h, slot);
        if (count == 0 || !slot_name(slot, &proto, all[k].cmd))
            continue;
        all[k].proto = proto;
        all[k].count = count;
        all[k].sum_us = h->sum_us[slot];
        all[k].p50_us = timing_quantile_us(h->count[slot], 0.5);
        all[k].p99_us = timing_quantile_us(h->count[slot], 0.99);
        all[k].p999_us = timing_quantile_us(h->count[slot], 0.999);
        k++;
    }
    qsort(all, k, sizeof(all[0]), by_count);
    if (k > n)
        k = n;
    memcpy(rows, all, k * sizeof(all[0]));
    return k;
}

/* See latency.h. */
void latency_all(const struct timing_hist *h, uint64_t *all)
{
    memset(all, 0, TIMING_BUCKETS * sizeof(*all));
    for (unsigned slot = 0; slot < TIMING_SLOTS; slot++)
        for (unsigned b = 0; b < TIMING_BUCKETS; b++)
            all[b] += h->count[slot][b];
}

/* One command's series: cumulative buckets, +Inf, sum and count. */
static int prom_series(struct evbuffer *b, const char *proto, const char *cmd, const uint64_t *count,
                       uint64_t sum_us)
{
    uint64_t cum = 0;
    for (unsigned i = 0; i < TIMING_BUCKETS; i++) {
        cum += count[i];
        int n = i + 1 < TIMING_BUCKETS
                    ? evbuffer_add_printf(b,
                                          "cairn_request_duration_seconds_bucket{protocol=\"%s\",command=\"%s\","
                                          "le=\"%.9g\"} %" PRIu64 "\n",
                                          proto, cmd, (double)timing_bucket_le_us(i) / 1e6, cum)
                    : evbuffer_add_printf(b,
                                          "cairn_request_duration_seconds_bucket{protocol=\"%s\",command=\"%s\","
                                          "le=\"+Inf\"} %" PRIu64 "\n",
                                          proto, cmd, cum);
        if (n < 0)
            return -1;
    }
    if (evbuffer_add_printf(b, "cairn_request_duration_seconds_sum{protocol=\"%s\",command=\"%s\"} %.6f\n", proto,
                            cmd, (double)sum_us / 1e6) < 0 ||
        evbuffer_add_printf(b, "cairn_request_duration_seconds_count{protocol=\"%s\",command=\"%s\"} %" PRIu64 "\n",
                            proto, cmd, cum) < 0)
        return -1;
    return 0;
}

/* See latency.h. */
int latency_prometheus(struct server *srv, struct evbuffer *b)
{
    struct timing_hist *h = malloc(sizeof(*h));
    int rc = 0;

    if (h == NULL)
        return -1;
    latency_sum(srv, h);
    if (evbuffer_add_printf(b, "# HELP cairn_request_duration_seconds Time from a request's start to its reply "
                               "being queued, by protocol and command (server side).\n"
                               "# TYPE cairn_request_duration_seconds histogram\n") < 0)
        rc = -1;
    for (unsigned slot = 0; slot < TIMING_SLOTS && rc == 0; slot++) {
        const char *proto;
        char name[LATENCY_NAME_MAX];
        if (slot_count(h, slot) != 0 && slot_name(slot, &proto, name))
            rc = prom_series(b, proto, name, h->count[slot], h->sum_us[slot]);
    }
    free(h);
    return rc;
}

/* See latency.h. */
void latency_reset(struct server *srv)
{
    struct timing_hist *now = malloc(sizeof(*now));

    if (now == NULL)
        return; /* the figures go on from where they were */
    pthread_mutex_lock(&srv->stats_lock);
    latency_sum(srv, now);
    struct timing_hist *old = srv->lat_base;
    srv->lat_base = now;
    pthread_mutex_unlock(&srv->stats_lock);
    free(old);
}

/* The workers' histograms since the last reset: summed under stats_lock, as the reset's baseline was,
 * so that no figure is below its baseline (a worker's figures never go back). */
static void since_reset(struct server *srv, struct timing_hist *h)
{
    pthread_mutex_lock(&srv->stats_lock);
    latency_sum(srv, h);
    const struct timing_hist *b = srv->lat_base;
    for (unsigned slot = 0; b != NULL && slot < TIMING_SLOTS; slot++) {
        for (unsigned i = 0; i < TIMING_BUCKETS; i++)
            h->count[slot][i] -= b->count[slot][i];
        h->sum_us[slot] -= b->sum_us[slot];
        h->rejected[slot] -= b->rejected[slot];
        h->failed[slot] -= b->failed[slot];
    }
    pthread_mutex_unlock(&srv->stats_lock);
}

/* See latency.h. */
void latency_resp_cmdstats(void *server, void (*each)(void *arg, const struct resp_cmd_figures *f), void *arg)
{
    struct timing_hist *h = malloc(sizeof(*h));

    if (h == NULL)
        return; /* INFO shows the section's title alone */
    since_reset(server, h);
    for (unsigned slot = TIMING_RESP_BASE; slot < TIMING_SLOTS; slot++) {
        char name[LATENCY_NAME_MAX];
        uint64_t calls = slot_count(h, slot);
        if ((calls == 0 && h->rejected[slot] == 0) ||
            !resp_command_name(slot - TIMING_RESP_BASE, name, sizeof(name)))
            continue;
        struct resp_cmd_figures f = {name,
                                     calls,
                                     h->sum_us[slot],
                                     h->rejected[slot],
                                     h->failed[slot],
                                     timing_quantile_us(h->count[slot], 0.5),
                                     timing_quantile_us(h->count[slot], 0.99),
                                     timing_quantile_us(h->count[slot], 0.999)};
        each(arg, &f);
    }
    free(h);
}
