/*
 * protocol_test.h: helpers shared by the protocol unit tests: a small real cache, a session with its
 * response queue, feeding a byte stream in chunks the way a server would, and draining the queue.
 */
#ifndef CAIRN_TESTS_PROTOCOL_TEST_H
#define CAIRN_TESTS_PROTOCOL_TEST_H

#include <criterion/criterion.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "protocol/mc/memcache.h"
#include "protocol/outq.h"
#include "storage/cache.h"

/* A cache small enough to create hundreds of times in one test. */
static inline struct cache *pt_cache_create(size_t limit)
{
    struct cache_options o;
    cache_options_default(&o);
    o.memory_limit = limit;
    o.shard_bits = 2;
    o.hash_power = 6;
    const char *err = NULL;
    struct cache *c = cache_create(&o, &err);
    cr_assert_not_null(c, "cache_create: %s", err ? err : "?");
    cache_clock_set(c, 1000);
    return c;
}

static inline uint16_t pt_refcount(struct item *it)
{
    return (uint16_t)(item_state(it) & ITEM_REFCOUNT_MASK);
}

/* Collects every pending byte (through iovecs, consuming in steps of at most step bytes) into a
 * malloc'd NUL-terminated string; *n gets the length. */
static inline char *pt_drain(struct outq *r, size_t step, size_t *n)
{
    size_t cap = outq_pending(r) + 1, len = 0;
    char *out = malloc(cap);
    cr_assert_not_null(out);
    while (outq_pending(r) > 0) {
        struct iovec iov[8];
        int k = outq_iov(r, iov, 8);
        cr_assert_gt(k, 0);
        size_t took = 0;
        for (int i = 0; i < k && took < step; i++) {
            size_t m = iov[i].iov_len < step - took ? iov[i].iov_len : step - took;
            memcpy(out + len, iov[i].iov_base, m);
            len += m;
            took += m;
        }
        outq_consume(r, took);
    }
    out[len] = '\0';
    if (n != NULL)
        *n = len;
    return out;
}

/* Writes the queue out the way a server does before feeding again after a PROTO_FLUSH (an incr or
 * ma waits until no queued value holds an item): the bytes stay queued in the same order, as text
 * that holds no item, so the caller's final pt_drain still sees the whole output. */
static inline void pt_write_out(struct outq *r)
{
    size_t n;
    char *out = pt_drain(r, (size_t)-1, &n);
    outq_add(r, out, n);
    free(out);
}

/* mc_session_feed, fed again after each PROTO_FLUSH. */
static inline enum proto_status pt_session_feed(struct mc_session *s, const char *buf, size_t len,
                                                size_t *used, struct outq *r)
{
    size_t total = 0;
    enum proto_status st;

    for (;;) {
        size_t u = 0;
        st = mc_session_feed(s, buf + total, len - total, &u, r);
        total += u;
        if (st != PROTO_FLUSH)
            break;
        pt_write_out(r);
    }
    *used = total;
    return st;
}

struct pt_run {
    struct cache *cache;
    struct mc_context ctx;
    struct mc_stats stats;
    struct mc_session *s;
    struct outq *r;
    enum proto_status st;
    size_t unconsumed; /* bytes left over when feeding stopped */
};

static inline void pt_run_init(struct pt_run *t, size_t limit)
{
    memset(t, 0, sizeof(*t));
    t->cache = pt_cache_create(limit);
    t->ctx.cache = t->cache;
    t->ctx.item_size_max = 1024 * 1024;
    t->ctx.use_cas = true;
    t->ctx.version = "1.6.18";
    t->s = mc_session_create(&t->ctx, &t->stats);
    t->r = outq_create(t->cache);
    cr_assert(t->s && t->r);
}

static inline void pt_run_fini(struct pt_run *t)
{
    outq_destroy(&t->r);
    mc_session_destroy(&t->s);
    cache_destroy(&t->cache);
}

/* Feeds in[0..n) in chunks of chunk bytes, keeping unconsumed bytes in front of the next chunk like
 * a server's read buffer; stops at the first status other than PROTO_OK. */
static inline enum proto_status pt_feed(struct pt_run *t, const char *in, size_t n, size_t chunk)
{
    char *acc = malloc(n + 1);
    size_t have = 0, off = 0;
    enum proto_status st = PROTO_OK;
    cr_assert_not_null(acc);
    while (off < n && st == PROTO_OK) {
        size_t m = n - off < chunk ? n - off : chunk;
        memcpy(acc + have, in + off, m);
        have += m;
        off += m;
        size_t used = 0;
        st = pt_session_feed(t->s, acc, have, &used, t->r);
        cr_assert_leq(used, have);
        memmove(acc, acc + used, have - used);
        have -= used;
    }
    t->unconsumed = have + (n - off);
    t->st = st;
    free(acc);
    return st;
}

/* Runs a whole stream through a fresh session and cache; returns the output (malloc'd). */
static inline char *pt_exchange(const char *in, size_t n, size_t chunk, enum proto_status *st)
{
    struct pt_run t;
    pt_run_init(&t, 8u << 20);
    enum proto_status s = pt_feed(&t, in, n, chunk);
    if (st != NULL)
        *st = s;
    char *out = pt_drain(t.r, (size_t)-1, NULL);
    pt_run_fini(&t);
    return out;
}

#endif
