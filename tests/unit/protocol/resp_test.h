/*
 * resp_test.h: what the RESP session tests share: sessions created through resp_proto_ops with a
 * struct resp_context over a real cache and a fake server (info callback, client walk, timeout and
 * stats hooks), requests fed as bytes, and the output queue's bytes read back.
 *
 * The cache's clock is frozen at 1000 s after its origin (cache_clock_set), so expiries and TTLs are
 * exact until a test moves it.
 */
#ifndef CAIRN_TESTS_RESP_TEST_H
#define CAIRN_TESTS_RESP_TEST_H

#include <criterion/criterion.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "protocol/outq.h"
#include "protocol/resp/resp.h"
#include "protocol/resp/resp_internal.h"
#include "protocol/resp/resp_server.h"
#include "storage/cache.h"

#define MAX_SESS 2

/* The relative time (ms) the cache's clock is frozen at when a test starts. */
#define RT_CLOCK_START_MS 1000000u

struct rt {
    struct cache *cache;
    struct resp_context ctx;
    struct resp_stats stats;
    _Atomic uint64_t next_id;
    struct resp_server_info info; /* what the info callback reports */
    void *sess[MAX_SESS];
    int nsess;
    struct outq *out;
    enum proto_status st;
    unsigned timeout_set;
    int timeout_calls, resets;
};

/* The local address the fake walk reports for every client. */
#define RT_LADDR "127.0.0.1:6380"

static inline void fake_info(void *server, struct resp_server_info *out)
{
    *out = ((struct rt *)server)->info;
}

static inline void fake_walk(void *server,
                             void (*each)(void *arg, void *sess, const char *addr, const char *laddr, int fd,
                                          int64_t age_s, int64_t idle_s),
                             void *arg)
{
    struct rt *t = server;
    for (int i = 0; i < t->nsess; i++) {
        char addr[32];
        snprintf(addr, sizeof(addr), "127.0.0.1:%d", 50000 + i);
        each(arg, t->sess[i], addr, RT_LADDR, 7 + i, 3, 1);
    }
}

static inline bool fake_set_timeout(void *server, unsigned seconds)
{
    struct rt *t = server;
    t->timeout_set = seconds;
    t->timeout_calls++;
    return true;
}

static inline void fake_reset(void *server)
{
    ((struct rt *)server)->resets++;
}

static inline struct rt *rt_new(void)
{
    struct rt *t = calloc(1, sizeof(*t));
    struct cache_options o;
    const char *err = NULL;

    cr_assert_not_null(t);
    cache_options_default(&o);
    o.memory_limit = 8u << 20;
    o.shard_bits = 2;
    o.hash_power = 6;
    t->cache = cache_create(&o, &err);
    cr_assert_not_null(t->cache, "cache_create: %s", err ? err : "?");
    cache_clock_set(t->cache, RT_CLOCK_START_MS / 1000);
    t->ctx.cache = t->cache;
    t->ctx.item_size_max = 1024 * 1024;
    t->ctx.version = "9.9.9";
    t->ctx.query_max = 1 << 20;
    t->ctx.server = t;
    t->ctx.info = fake_info;
    t->ctx.clients = fake_walk;
    t->ctx.set_timeout = fake_set_timeout;
    t->ctx.reset_stats = fake_reset;
    t->ctx.next_client_id = &t->next_id;
    t->info = (struct resp_server_info){
        .version = "9.9.9",
        .process_id = 4242,
        .tcp_port = 6380,
        .uptime_s = 90061,
        .unix_ms = 1700000000000,
        .connected_clients = 2,
        .total_connections = 5,
        .maxclients = 1024,
        .used_memory = 1048576,
        .maxmemory = 8388608,
        .total_commands = 77,
        .keyspace_hits = 11,
        .keyspace_misses = 12,
        .evicted_keys = 13,
        .expired_keys = 14,
        .error_replies = 15,
        .keys = 3,
        .expires = 1,
        .last_save_ok = true,
        .last_save_unix = 1699999000,
        .changes_since_save = 9,
        .timeout_s = 300,
    };
    t->out = outq_create(t->cache);
    cr_assert_not_null(t->out);
    t->sess[t->nsess++] = resp_proto_ops.create(&t->ctx, &t->stats);
    cr_assert_not_null(t->sess[0]);
    return t;
}

/* A second client on the same server. */
static inline void *rt_add(struct rt *t)
{
    cr_assert_lt(t->nsess, MAX_SESS);
    t->sess[t->nsess] = resp_proto_ops.create(&t->ctx, &t->stats);
    cr_assert_not_null(t->sess[t->nsess]);
    return t->sess[t->nsess++];
}

static inline struct resp_session *S(struct rt *t)
{
    return t->sess[0];
}

static inline void rt_free(struct rt *t)
{
    for (int i = 0; i < t->nsess; i++)
        resp_proto_ops.destroy(t->sess[i]);
    outq_destroy(&t->out);
    cache_destroy(&t->cache);
    free(t);
}

/* Everything queued, as a malloc'd string with a NUL after its *n bytes (n may be NULL). */
static inline char *drain_n(struct outq *q, size_t *n)
{
    size_t cap = outq_pending(q) + 1, len = 0;
    char *s = malloc(cap);
    cr_assert_not_null(s);
    while (outq_pending(q) > 0) {
        struct iovec iov[16];
        int k = outq_iov(q, iov, 16);
        size_t took = 0;
        cr_assert_gt(k, 0);
        for (int i = 0; i < k; i++) {
            memcpy(s + len, iov[i].iov_base, iov[i].iov_len);
            len += iov[i].iov_len;
            took += iov[i].iov_len;
        }
        outq_consume(q, took);
    }
    s[len] = '\0';
    if (n != NULL)
        *n = len;
    return s;
}

/* Everything queued, as a NUL-terminated string (for replies that hold no NUL). */
static inline char *drain(struct outq *q)
{
    return drain_n(q, NULL);
}

/* Feeds bytes to session sess, at most step bytes a call (0: all at once); the status of the last feed
 * is kept in t->st. */
static inline void feed_step(struct rt *t, void *sess, const char *in, size_t n, size_t step)
{
    size_t off = 0;
    t->st = PROTO_OK;
    while (off < n && t->st == PROTO_OK) {
        size_t used = 0, len = step != 0 && n - off > step ? step : n - off;
        t->st = resp_proto_ops.feed(sess, in + off, len, &used, t->out);
        off += used;
        if (used == 0)
            break;
    }
}

/* Feeds bytes to session sess all at once. */
static inline void feed_to(struct rt *t, void *sess, const char *in, size_t n)
{
    feed_step(t, sess, in, n, 0);
}

/* A command (NULL-terminated arguments) as a multibulk request: malloc'd bytes, *n their length. */
static inline char *multibulk(const char *const *argv, size_t *n)
{
    size_t argc = 0, cap = 32, len;
    for (; argv[argc] != NULL; argc++)
        cap += strlen(argv[argc]) + 32;
    char *req = malloc(cap);
    cr_assert_not_null(req);
    len = (size_t)sprintf(req, "*%zu\r\n", argc);
    for (size_t i = 0; i < argc; i++)
        len += (size_t)sprintf(req + len, "$%zu\r\n%s\r\n", strlen(argv[i]), argv[i]);
    *n = len;
    return req;
}

/* One command (NULL-terminated arguments) to session sess; returns the output (malloc'd). */
static inline char *vcmd(struct rt *t, void *sess, const char *first, va_list ap)
{
    const char *argv[33];
    size_t argc = 0, n;
    for (const char *a = first; a != NULL; a = va_arg(ap, const char *)) {
        cr_assert_lt(argc, 32u);
        argv[argc++] = a;
    }
    argv[argc] = NULL;
    char *req = multibulk(argv, &n);
    feed_to(t, sess, req, n);
    free(req);
    return drain(t->out);
}

static inline char *cmd(struct rt *t, const char *first, ...)
{
    va_list ap;
    va_start(ap, first);
    char *r = vcmd(t, S(t), first, ap);
    va_end(ap);
    return r;
}

static inline char *cmd_on(struct rt *t, void *sess, const char *first, ...)
{
    va_list ap;
    va_start(ap, first);
    char *r = vcmd(t, sess, first, ap);
    va_end(ap);
    return r;
}

/* Checks one command's reply. */
#define EXPECT(t, want, ...)                                                                                 \
    do {                                                                                                     \
        char *got_ = cmd(t, __VA_ARGS__, NULL);                                                              \
        cr_expect_str_eq(got_, want, "%s: got [%s]", #__VA_ARGS__, got_);                                    \
        free(got_);                                                                                          \
    } while (0)

/* Stores key = value straight into the cache. */
static inline void put(struct rt *t, const char *key, const char *value)
{
    enum cache_status st;
    struct item *it = cache_alloc(t->cache, key, strlen(key), 0, 0, strlen(value), &st);
    cr_assert_not_null(it);
    memcpy(item_value(it), value, strlen(value));
    cr_assert_eq(cache_store(t->cache, it, CACHE_SET, 0, NULL), CACHE_OK);
    cache_item_release(t->cache, &it);
}

static inline bool starts(const char *s, const char *prefix)
{
    return strncmp(s, prefix, strlen(prefix)) == 0;
}

static inline bool ends(const char *s, const char *suffix)
{
    size_t n = strlen(s), k = strlen(suffix);
    return n >= k && strcmp(s + n - k, suffix) == 0;
}

static inline char *repeat(char c, size_t n)
{
    char *s = malloc(n + 1);
    cr_assert_not_null(s);
    memset(s, c, n);
    s[n] = '\0';
    return s;
}

#endif
