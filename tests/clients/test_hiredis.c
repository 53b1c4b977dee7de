/*
 * test_hiredis.c: the server's RESP side driven by a real C client library, hiredis (RESP2): a
 * pipeline of SET/GET/INCR/MGET/DEL queued with redisAppendCommand and read back with redisGetReply,
 * binary-safe keys and values (NUL bytes, CR LF) through %b and the argv API, a 500 KB value, a
 * pipeline whose replies far exceed the socket buffers, and every RESP2 reply type as hiredis sees it
 * (status, error, integer, bulk, nil, arrays with nils, nested and empty arrays, EXEC's nil after a
 * failed WATCH).
 *
 * The server is started with the integration harness (tests/integration/harness.h): cairn with
 * --resp-port on a second free port. CAIRN_TEST_TARGET=redis runs the same tests against redis-server
 * ($REDIS_BIN or /usr/bin/redis-server, no persistence), which is how the expectations are checked
 * against Redis 7.0; with CAIRN_TEST_TARGET=memcached the suite is skipped (no RESP there).
 */
#include "config.h"

#include "tests/integration/harness.h"

#include <criterion/criterion.h>
#include <hiredis.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/time.h>
#include <unistd.h>

static int resp_port;
static redisContext *rc;

static bool target_is_redis(void)
{
    const char *t = getenv("CAIRN_TEST_TARGET");
    return t != NULL && strcmp(t, "redis") == 0;
}

/* redis-server on a free port, without persistence, in the harness's h_srv (so h_teardown stops it). */
static void start_redis(void)
{
    const char *bin = getenv("REDIS_BIN");
    if (bin == NULL || *bin == '\0')
        bin = "/usr/bin/redis-server";
    if (access(bin, X_OK) != 0)
        cr_skip_test("%s is not installed", bin);
    char port[16];
    resp_port = h_free_port();
    snprintf(port, sizeof(port), "%d", resp_port);
    const char *argv[] = {bin,   "--port",       port,         "--bind",      "127.0.0.1", "--save",
                          "",    "--appendonly", "no",         "--daemonize", "no",        "--dir",
                          "/tmp", NULL};
    h_spawn_raw(&h_srv, bin, argv);
    h_srv.port = resp_port;
    for (int i = 0; i < 500; i++) {
        int fd = h_try_connect(resp_port);
        if (fd >= 0) {
            close(fd);
            return;
        }
        h_sleep_ms(10);
    }
    cr_assert_fail("redis-server did not start listening on port %d", resp_port);
}

static void setup(void)
{
    if (h_target_is_memcached())
        cr_skip_test("memcached has no RESP");
    if (target_is_redis()) {
        start_redis();
    } else {
        char opt[32];
        resp_port = h_free_port();
        snprintf(opt, sizeof(opt), "--resp-port=%d", resp_port);
        const char *extra[] = {opt, NULL};
        h_server_start(&h_srv, extra);
    }
    struct timeval tv = {5, 0};
    rc = redisConnectWithTimeout("127.0.0.1", resp_port, tv);
    cr_assert_not_null(rc);
    cr_assert_eq(rc->err, 0, "connect: %s", rc->errstr);
    cr_assert_eq(redisSetTimeout(rc, tv), REDIS_OK);
}

static void teardown(void)
{
    if (rc != NULL)
        redisFree(rc);
    rc = NULL;
    h_teardown();
}

TestSuite(hiredis, .init = setup, .fini = teardown, .timeout = 60);

static const char *type_name(int t)
{
    switch (t) {
    case REDIS_REPLY_STRING: return "string";
    case REDIS_REPLY_ARRAY: return "array";
    case REDIS_REPLY_INTEGER: return "integer";
    case REDIS_REPLY_NIL: return "nil";
    case REDIS_REPLY_STATUS: return "status";
    case REDIS_REPLY_ERROR: return "error";
    default: return "other";
    }
}

/* Reply checks: each names the caller's line and shows what came instead. */
static void check_type(int line, const redisReply *r, int type)
{
    cr_assert_not_null(r, "line %d: no reply: %s", line, rc->errstr);
    cr_assert_eq(r->type, type, "line %d: %s reply where %s was expected%s%.*s", line, type_name(r->type),
                 type_name(type), r->type == REDIS_REPLY_ERROR || r->type == REDIS_REPLY_STATUS ? ": " : "",
                 r->type == REDIS_REPLY_ERROR || r->type == REDIS_REPLY_STATUS ? (int)r->len : 0,
                 r->type == REDIS_REPLY_ERROR || r->type == REDIS_REPLY_STATUS ? r->str : "");
}

static void check_str(int line, const redisReply *r, int type, const void *want, size_t len)
{
    check_type(line, r, type);
    cr_assert_eq(r->len, len, "line %d: length %zu, expected %zu", line, (size_t)r->len, len);
    if (memcmp(r->str, want, len) != 0) {
        char *g = h_escape(r->str, r->len > 200 ? 200 : r->len), *w = h_escape(want, len > 200 ? 200 : len);
        cr_assert_fail("line %d: got \"%s\", expected \"%s\"", line, g, w);
    }
}

static void check_int(int line, const redisReply *r, long long v)
{
    check_type(line, r, REDIS_REPLY_INTEGER);
    cr_assert_eq(r->integer, v, "line %d: integer %lld, expected %lld", line, r->integer, v);
}

static void check_err(int line, const redisReply *r, const char *fragment)
{
    check_type(line, r, REDIS_REPLY_ERROR);
    cr_assert(strstr(r->str, fragment) != NULL, "line %d: error \"%s\" lacks \"%s\"", line, r->str, fragment);
}

#define EXPECT_STATUS(r, s) check_str(__LINE__, (r), REDIS_REPLY_STATUS, (s), strlen(s))
#define EXPECT_BULK(r, s)   check_str(__LINE__, (r), REDIS_REPLY_STRING, (s), strlen(s))
#define EXPECT_BULKN(r, s, n) check_str(__LINE__, (r), REDIS_REPLY_STRING, (s), (n))
#define EXPECT_INT(r, v)    check_int(__LINE__, (r), (v))
#define EXPECT_NIL(r)       check_type(__LINE__, (r), REDIS_REPLY_NIL)
#define EXPECT_ERR(r, frag) check_err(__LINE__, (r), (frag))
#define EXPECT_ARRAY(r, n)                                                                                      \
    do {                                                                                                       \
        check_type(__LINE__, (r), REDIS_REPLY_ARRAY);                                                          \
        cr_assert_eq((r)->elements, (size_t)(n), "line %d: %zu elements, expected %zu", __LINE__,             \
                     (size_t)(r)->elements, (size_t)(n));                                                      \
    } while (0)

/* The next pipelined reply (fails the test on a connection error). */
static redisReply *next_reply(void)
{
    void *r = NULL;
    cr_assert_eq(redisGetReply(rc, &r), REDIS_OK, "redisGetReply: %s", rc->errstr);
    cr_assert_not_null(r);
    return r;
}

/* One blocking command. */
static redisReply *cmd(const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    redisReply *r = redisvCommand(rc, fmt, ap);
    va_end(ap);
    cr_assert_not_null(r, "command %s: %s", fmt, rc->errstr);
    return r;
}

#define FREE(r) freeReplyObject(r)

Test(hiredis, pipeline_set_get_incr_mget_del)
{
    redisAppendCommand(rc, "SET a 1");
    redisAppendCommand(rc, "GET a");
    redisAppendCommand(rc, "INCR a");
    redisAppendCommand(rc, "INCRBY a %d", 40);
    redisAppendCommand(rc, "SET %s %s", "b", "two");
    redisAppendCommand(rc, "MGET a nosuch b a");
    redisAppendCommand(rc, "DEL a nosuch b");
    redisAppendCommand(rc, "GET a");
    redisAppendCommand(rc, "INCR b");
    redisAppendCommand(rc, "MGET a b");
    redisAppendCommand(rc, "PING");

    redisReply *r;
    EXPECT_STATUS(r = next_reply(), "OK");
    FREE(r);
    EXPECT_BULK(r = next_reply(), "1");
    FREE(r);
    EXPECT_INT(r = next_reply(), 2);
    FREE(r);
    EXPECT_INT(r = next_reply(), 42);
    FREE(r);
    EXPECT_STATUS(r = next_reply(), "OK");
    FREE(r);
    r = next_reply();
    EXPECT_ARRAY(r, 4);
    EXPECT_BULK(r->element[0], "42");
    EXPECT_NIL(r->element[1]);
    EXPECT_BULK(r->element[2], "two");
    EXPECT_BULK(r->element[3], "42");
    FREE(r);
    EXPECT_INT(r = next_reply(), 2);
    FREE(r);
    EXPECT_NIL(r = next_reply());
    FREE(r);
    EXPECT_INT(r = next_reply(), 1); /* b was deleted: INCR starts at 0 */
    FREE(r);
    r = next_reply();
    EXPECT_ARRAY(r, 2);
    EXPECT_NIL(r->element[0]);
    EXPECT_BULK(r->element[1], "1");
    FREE(r);
    EXPECT_STATUS(r = next_reply(), "PONG");
    FREE(r);
}

Test(hiredis, long_pipeline_in_order)
{
    enum { N = 5000 };
    for (int i = 0; i < N; i++)
        redisAppendCommand(rc, "SET key:%d value:%d", i, i * 7);
    for (int i = 0; i < N; i++) {
        redisAppendCommand(rc, "GET key:%d", i);
        redisAppendCommand(rc, "INCR ctr");
    }
    redisAppendCommand(rc, "DBSIZE");
    redisReply *r;
    for (int i = 0; i < N; i++) {
        EXPECT_STATUS(r = next_reply(), "OK");
        FREE(r);
    }
    char want[32];
    for (int i = 0; i < N; i++) {
        snprintf(want, sizeof(want), "value:%d", i * 7);
        EXPECT_BULK(r = next_reply(), want);
        FREE(r);
        EXPECT_INT(r = next_reply(), i + 1);
        FREE(r);
    }
    EXPECT_INT(r = next_reply(), N + 1);
    FREE(r);
}

Test(hiredis, binary_safe_keys_and_values)
{
    static const char key[] = "bin\0key\r\n";
    static const char val[] = "a\0b\r\nc\0\0\r\n$3\r\n*1\r\n\xff\x80";
    const size_t kl = sizeof(key) - 1, vl = sizeof(val) - 1;
    redisReply *r;
    EXPECT_STATUS(r = cmd("SET %b %b", key, kl, val, vl), "OK");
    FREE(r);
    EXPECT_BULKN(r = cmd("GET %b", key, kl), val, vl);
    FREE(r);
    EXPECT_INT(r = cmd("STRLEN %b", key, kl), (long long)vl);
    FREE(r);
    EXPECT_NIL(r = cmd("GET %b", key, (size_t)3)); /* "bin" alone is another key */
    FREE(r);
    EXPECT_INT(r = cmd("APPEND %b %b", key, kl, "\0", (size_t)1), (long long)vl + 1);
    FREE(r);
    EXPECT_BULKN(r = cmd("GETRANGE %b 0 3", key, kl), "a\0b\r", 4);
    FREE(r);

    /* the argv API, pipelined, with an empty value and a key made only of NULs */
    const char *argv1[] = {"SET", "\0\0", ""};
    size_t lens1[] = {3, 2, 0};
    const char *argv2[] = {"GET", "\0\0"};
    size_t lens2[] = {3, 2};
    const char *argv3[] = {"MGET", "\0\0", key, "\0"};
    size_t lens3[] = {4, 2, kl, 1};
    cr_assert_eq(redisAppendCommandArgv(rc, 3, argv1, lens1), REDIS_OK);
    cr_assert_eq(redisAppendCommandArgv(rc, 2, argv2, lens2), REDIS_OK);
    cr_assert_eq(redisAppendCommandArgv(rc, 4, argv3, lens3), REDIS_OK);
    EXPECT_STATUS(r = next_reply(), "OK");
    FREE(r);
    EXPECT_BULKN(r = next_reply(), "", 0);
    FREE(r);
    r = next_reply();
    EXPECT_ARRAY(r, 3);
    EXPECT_BULKN(r->element[0], "", 0);
    EXPECT_BULKN(r->element[1], "a\0b\r\nc\0\0\r\n$3\r\n*1\r\n\xff\x80\0", vl + 1);
    EXPECT_NIL(r->element[2]);
    FREE(r);
    EXPECT_INT(r = cmd("EXISTS %b %b %b", "\0\0", (size_t)2, key, kl, "\0", (size_t)1), 2);
    FREE(r);
}

static char *pattern_value(size_t n, unsigned seed)
{
    char *v = malloc(n);
    cr_assert_not_null(v);
    for (size_t i = 0; i < n; i++)
        v[i] = (char)((i * 31 + seed + (i >> 8)) & 0xff); /* every byte value, NUL and CR LF included */
    return v;
}

Test(hiredis, value_of_500_kb)
{
    const size_t n = 500 * 1024;
    char *v = pattern_value(n, 7);
    redisReply *r;
    EXPECT_STATUS(r = cmd("SET big %b", v, n), "OK");
    FREE(r);
    EXPECT_BULKN(r = cmd("GET big"), v, n);
    FREE(r);
    EXPECT_INT(r = cmd("STRLEN big"), (long long)n);
    FREE(r);
    EXPECT_BULKN(r = cmd("GETRANGE big -10 -1"), v + n - 10, 10);
    FREE(r);
    EXPECT_BULKN(r = cmd("GETRANGE big 250000 250099"), v + 250000, 100);
    FREE(r);
    EXPECT_INT(r = cmd("SETRANGE big 1000 %b", "XYZ", (size_t)3), (long long)n);
    FREE(r);
    memcpy(v + 1000, "XYZ", 3);
    EXPECT_BULKN(r = cmd("GET big"), v, n);
    FREE(r);

    /* a pipeline of large writes and reads: 8 MB of replies queued before the first read */
    enum { K = 16 };
    char *vals[K];
    for (int i = 0; i < K; i++) {
        vals[i] = pattern_value(n, (unsigned)i);
        redisAppendCommand(rc, "SET big:%d %b", i, vals[i], n);
    }
    for (int i = 0; i < K; i++)
        redisAppendCommand(rc, "GET big:%d", i);
    redisAppendCommand(rc, "MGET big:3 big:0 nosuch");
    for (int i = 0; i < K; i++) {
        EXPECT_STATUS(r = next_reply(), "OK");
        FREE(r);
    }
    for (int i = 0; i < K; i++) {
        EXPECT_BULKN(r = next_reply(), vals[i], n);
        FREE(r);
    }
    r = next_reply();
    EXPECT_ARRAY(r, 3);
    EXPECT_BULKN(r->element[0], vals[3], n);
    EXPECT_BULKN(r->element[1], vals[0], n);
    EXPECT_NIL(r->element[2]);
    FREE(r);
    for (int i = 0; i < K; i++)
        free(vals[i]);
    free(v);
}

Test(hiredis, reply_types)
{
    redisReply *r;
    EXPECT_STATUS(r = cmd("PING"), "PONG");
    FREE(r);
    EXPECT_BULK(r = cmd("PING %s", "hi"), "hi");
    FREE(r);
    EXPECT_BULK(r = cmd("ECHO %s", "echoed"), "echoed");
    FREE(r);
    EXPECT_STATUS(r = cmd("SET s text"), "OK");
    FREE(r);
    EXPECT_ERR(r = cmd("INCR s"), "ERR value is not an integer or out of range");
    FREE(r);
    EXPECT_ERR(r = cmd("GET"), "ERR wrong number of arguments for 'get' command");
    FREE(r);
    EXPECT_ERR(r = cmd("NOSUCHCOMMAND x"), "ERR unknown command");
    FREE(r);
    EXPECT_NIL(r = cmd("GET nosuch"));
    FREE(r);
    EXPECT_NIL(r = cmd("SET s other NX"));
    FREE(r);
    EXPECT_BULK(r = cmd("SET s other GET"), "text");
    FREE(r);
    EXPECT_INT(r = cmd("TTL s"), -1);
    FREE(r);
    EXPECT_INT(r = cmd("TTL nosuch"), -2);
    FREE(r);
    EXPECT_INT(r = cmd("EXISTS s s nosuch"), 2);
    FREE(r);
    EXPECT_STATUS(r = cmd("TYPE s"), "string");
    FREE(r);
    EXPECT_STATUS(r = cmd("TYPE nosuch"), "none");
    FREE(r);
    EXPECT_BULK(r = cmd("INCRBYFLOAT f 2.5"), "2.5");
    FREE(r);
    r = cmd("KEYS nomatch*");
    EXPECT_ARRAY(r, 0);
    FREE(r);
    r = cmd("MGET nosuch1 nosuch2");
    EXPECT_ARRAY(r, 2);
    EXPECT_NIL(r->element[0]);
    EXPECT_NIL(r->element[1]);
    FREE(r);

    /* SCAN: a nested array [cursor, [keys...]] */
    for (int i = 0; i < 300; i++) {
        redisAppendCommand(rc, "SET scan:%d x", i);
    }
    for (int i = 0; i < 300; i++) {
        EXPECT_STATUS(r = next_reply(), "OK");
        FREE(r);
    }
    char seen[300] = {0};
    int total = 0, rounds = 0;
    char cursor[32] = "0";
    do {
        r = cmd("SCAN %s MATCH scan:* COUNT 50", cursor);
        EXPECT_ARRAY(r, 2);
        check_type(__LINE__, r->element[0], REDIS_REPLY_STRING);
        check_type(__LINE__, r->element[1], REDIS_REPLY_ARRAY);
        snprintf(cursor, sizeof(cursor), "%.*s", (int)r->element[0]->len, r->element[0]->str);
        for (size_t i = 0; i < r->element[1]->elements; i++) {
            redisReply *k = r->element[1]->element[i];
            check_type(__LINE__, k, REDIS_REPLY_STRING);
            int idx = -1;
            cr_assert_eq(sscanf(k->str, "scan:%d", &idx), 1, "unexpected key %s", k->str);
            cr_assert(idx >= 0 && idx < 300 && !seen[idx], "key %s out of range or seen twice", k->str);
            seen[idx] = 1;
            total++;
        }
        FREE(r);
        cr_assert_lt(++rounds, 10000, "SCAN does not terminate");
    } while (strcmp(cursor, "0") != 0);
    cr_assert_eq(total, 300);

    /* MULTI/EXEC: QUEUED statuses, then one array with each command's reply (an error included) */
    EXPECT_STATUS(r = cmd("MULTI"), "OK");
    FREE(r);
    EXPECT_STATUS(r = cmd("SET m 5"), "QUEUED");
    FREE(r);
    EXPECT_STATUS(r = cmd("INCR m"), "QUEUED");
    FREE(r);
    EXPECT_STATUS(r = cmd("INCR s"), "QUEUED");
    FREE(r);
    EXPECT_STATUS(r = cmd("GET m"), "QUEUED");
    FREE(r);
    r = cmd("EXEC");
    EXPECT_ARRAY(r, 4);
    EXPECT_STATUS(r->element[0], "OK");
    EXPECT_INT(r->element[1], 6);
    EXPECT_ERR(r->element[2], "ERR value is not an integer or out of range");
    EXPECT_BULK(r->element[3], "6");
    FREE(r);

    /* EXEC after a WATCHed key changed: a nil (RESP2's *-1) */
    struct timeval tv = {5, 0};
    redisContext *other = redisConnectWithTimeout("127.0.0.1", resp_port, tv);
    cr_assert(other != NULL && other->err == 0);
    EXPECT_STATUS(r = cmd("WATCH m"), "OK");
    FREE(r);
    redisReply *o = redisCommand(other, "SET m changed");
    EXPECT_STATUS(o, "OK");
    FREE(o);
    redisFree(other);
    EXPECT_STATUS(r = cmd("MULTI"), "OK");
    FREE(r);
    EXPECT_STATUS(r = cmd("SET m mine"), "QUEUED");
    FREE(r);
    EXPECT_NIL(r = cmd("EXEC"));
    FREE(r);
    EXPECT_BULK(r = cmd("GET m"), "changed");
    FREE(r);

    /* a queueing error: EXECABORT */
    EXPECT_STATUS(r = cmd("MULTI"), "OK");
    FREE(r);
    EXPECT_ERR(r = cmd("INCR"), "wrong number of arguments");
    FREE(r);
    EXPECT_ERR(r = cmd("EXEC"), "EXECABORT");
    FREE(r);
    r = cmd("EXEC");
    EXPECT_ERR(r, "ERR EXEC without MULTI");
    FREE(r);
}

Test(hiredis, several_connections_share_keys)
{
    enum { C = 8 };
    redisContext *cs[C];
    struct timeval tv = {5, 0};
    for (int i = 0; i < C; i++) {
        cs[i] = redisConnectWithTimeout("127.0.0.1", resp_port, tv);
        cr_assert(cs[i] != NULL && cs[i]->err == 0);
        cr_assert_eq(redisSetTimeout(cs[i], tv), REDIS_OK);
    }
    /* interleaved pipelines: each connection queues 500 INCRs before any reply is read */
    for (int i = 0; i < C; i++)
        for (int j = 0; j < 500; j++)
            redisAppendCommand(cs[i], "INCR shared");
    for (int i = 0; i < C; i++) {
        long long last = 0;
        for (int j = 0; j < 500; j++) {
            void *p = NULL;
            cr_assert_eq(redisGetReply(cs[i], &p), REDIS_OK, "%s", cs[i]->errstr);
            redisReply *r = p;
            check_type(__LINE__, r, REDIS_REPLY_INTEGER);
            cr_assert_gt(r->integer, last, "INCR replies not increasing on one connection");
            last = r->integer;
            FREE(r);
        }
    }
    redisReply *r;
    EXPECT_BULK(r = cmd("GET shared"), "4000");
    FREE(r);
    for (int i = 0; i < C; i++)
        redisFree(cs[i]);
}
