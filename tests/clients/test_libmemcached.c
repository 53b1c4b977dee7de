/*
 * test_libmemcached.c: the server driven by a real client library, libmemcached's C API, over the
 * default text protocol: set/get/mget/add/replace/append/prepend/cas/incr/decr/delete/touch/flush/
 * version, and a pool of two servers with ketama consistent hashing to show the server works as a
 * pool member (keys spread over both, every key found again through the client).
 *
 * Servers are started with the integration harness (tests/integration/harness.h), so the same
 * CAIRN_BIN / CAIRN_TEST_TARGET rules apply.
 */
#include "config.h"

#include "tests/integration/harness.h"

#include <criterion/criterion.h>
#include <libmemcached/memcached.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>

static struct h_server second;
static memcached_st *mc;

static void setup_one(void)
{
    h_setup();
    mc = memcached_create(NULL);
    cr_assert_not_null(mc);
    cr_assert_eq(memcached_server_add(mc, "127.0.0.1", (in_port_t)h_srv.port), MEMCACHED_SUCCESS);
    memcached_behavior_set(mc, MEMCACHED_BEHAVIOR_SUPPORT_CAS, 1);
    memcached_behavior_set(mc, MEMCACHED_BEHAVIOR_POLL_TIMEOUT, 5000);
    memcached_behavior_set(mc, MEMCACHED_BEHAVIOR_CONNECT_TIMEOUT, 5000);
}

static void teardown_one(void)
{
    if (mc != NULL)
        memcached_free(mc);
    mc = NULL;
    h_teardown();
}

TestSuite(libmemcached, .init = setup_one, .fini = teardown_one, .timeout = 60);

#define K(s) s, strlen(s)

static void expect_value(const char *key, const char *want, uint32_t want_flags)
{
    size_t len = 0;
    uint32_t flags = 0;
    memcached_return_t rc;
    char *v = memcached_get(mc, key, strlen(key), &len, &flags, &rc);
    cr_assert_eq(rc, MEMCACHED_SUCCESS, "get %s: %s", key, memcached_strerror(mc, rc));
    cr_assert_eq(len, strlen(want), "get %s: length %zu", key, len);
    cr_assert(memcmp(v, want, len) == 0, "get %s: wrong value", key);
    cr_assert_eq(flags, want_flags);
    free(v);
}

static void expect_missing(const char *key)
{
    size_t len;
    uint32_t flags;
    memcached_return_t rc;
    char *v = memcached_get(mc, key, strlen(key), &len, &flags, &rc);
    cr_assert_null(v);
    cr_assert_eq(rc, MEMCACHED_NOTFOUND, "get %s: %s", key, memcached_strerror(mc, rc));
}

Test(libmemcached, set_get)
{
    cr_assert_eq(memcached_set(mc, K("k"), K("hello"), 0, 42), MEMCACHED_SUCCESS);
    expect_value("k", "hello", 42);
    expect_missing("nosuch");
    static const char bin[] = "a\r\nb\0c";
    cr_assert_eq(memcached_set(mc, K("bin"), bin, sizeof(bin) - 1, 0, 0), MEMCACHED_SUCCESS);
    size_t len;
    uint32_t fl;
    memcached_return_t rc;
    char *v = memcached_get(mc, K("bin"), &len, &fl, &rc);
    cr_assert(rc == MEMCACHED_SUCCESS && len == sizeof(bin) - 1 && memcmp(v, bin, len) == 0);
    free(v);
}

Test(libmemcached, mget)
{
    const char *keys[] = {"a", "b", "missing", "c"};
    size_t lens[] = {1, 1, 7, 1};
    memcached_set(mc, K("a"), K("1"), 0, 1);
    memcached_set(mc, K("b"), K("22"), 0, 2);
    memcached_set(mc, K("c"), K("333"), 0, 3);
    cr_assert_eq(memcached_mget(mc, keys, lens, 4), MEMCACHED_SUCCESS);
    int found = 0;
    memcached_result_st *r;
    memcached_return_t rc;
    while ((r = memcached_fetch_result(mc, NULL, &rc)) != NULL) {
        const char *k = memcached_result_key_value(r);
        size_t vl = memcached_result_length(r);
        uint32_t fl = memcached_result_flags(r);
        cr_assert(k[0] >= 'a' && k[0] <= 'c');
        cr_assert_eq(vl, (size_t)(k[0] - 'a' + 1));
        cr_assert_eq(fl, (uint32_t)(k[0] - 'a' + 1));
        found++;
        memcached_result_free(r);
    }
    cr_assert_eq(found, 3);
}

Test(libmemcached, add_replace_append_prepend)
{
    cr_assert_eq(memcached_add(mc, K("k"), K("mid"), 0, 0), MEMCACHED_SUCCESS);
    cr_assert_eq(memcached_add(mc, K("k"), K("x"), 0, 0), MEMCACHED_NOTSTORED);
    cr_assert_eq(memcached_replace(mc, K("nosuch"), K("x"), 0, 0), MEMCACHED_NOTSTORED);
    cr_assert_eq(memcached_append(mc, K("k"), K("_end"), 0, 0), MEMCACHED_SUCCESS);
    cr_assert_eq(memcached_prepend(mc, K("k"), K("start_"), 0, 0), MEMCACHED_SUCCESS);
    expect_value("k", "start_mid_end", 0);
    cr_assert_eq(memcached_replace(mc, K("k"), K("new"), 0, 9), MEMCACHED_SUCCESS);
    expect_value("k", "new", 9);
    cr_assert_eq(memcached_append(mc, K("nosuch"), K("x"), 0, 0), MEMCACHED_NOTSTORED);
}

Test(libmemcached, cas)
{
    memcached_set(mc, K("k"), K("v1"), 0, 0);
    const char *keys[] = {"k"};
    size_t lens[] = {1};
    cr_assert_eq(memcached_mget(mc, keys, lens, 1), MEMCACHED_SUCCESS);
    memcached_return_t rc;
    memcached_result_st *r = memcached_fetch_result(mc, NULL, &rc);
    cr_assert_not_null(r);
    uint64_t cas = memcached_result_cas(r);
    memcached_result_free(r);
    while ((r = memcached_fetch_result(mc, NULL, &rc)) != NULL)
        memcached_result_free(r);
    cr_assert_neq(cas, 0);
    cr_assert_eq(memcached_cas(mc, K("k"), K("v2"), 0, 0, cas + 12345), MEMCACHED_DATA_EXISTS);
    cr_assert_eq(memcached_cas(mc, K("k"), K("v2"), 0, 0, cas), MEMCACHED_SUCCESS);
    cr_assert_eq(memcached_cas(mc, K("k"), K("v3"), 0, 0, cas), MEMCACHED_DATA_EXISTS);
    cr_assert_eq(memcached_cas(mc, K("nosuch"), K("v"), 0, 0, cas), MEMCACHED_NOTFOUND);
    expect_value("k", "v2", 0);
}

Test(libmemcached, incr_decr)
{
    uint64_t v = 0;
    cr_assert_eq(memcached_increment(mc, K("n"), 1, &v), MEMCACHED_NOTFOUND);
    memcached_set(mc, K("n"), K("10"), 0, 0);
    cr_assert_eq(memcached_increment(mc, K("n"), 5, &v), MEMCACHED_SUCCESS);
    cr_assert_eq(v, 15);
    cr_assert_eq(memcached_decrement(mc, K("n"), 20, &v), MEMCACHED_SUCCESS);
    cr_assert_eq(v, 0);
    /* increment_with_initial is a binary-protocol feature: the text protocol refuses it. */
    cr_assert_neq(memcached_increment_with_initial(mc, K("m"), 1, 100, 0, &v), MEMCACHED_SUCCESS);
    memcached_set(mc, K("s"), K("abc"), 0, 0);
    cr_assert_neq(memcached_increment(mc, K("s"), 1, &v), MEMCACHED_SUCCESS);
}

Test(libmemcached, delete_touch_flush)
{
    memcached_set(mc, K("k"), K("v"), 0, 0);
    cr_assert_eq(memcached_delete(mc, K("k"), 0), MEMCACHED_SUCCESS);
    cr_assert_eq(memcached_delete(mc, K("k"), 0), MEMCACHED_NOTFOUND);
    expect_missing("k");
    memcached_set(mc, K("t"), K("v"), 0, 0);
    cr_assert_eq(memcached_touch(mc, K("t"), 100), MEMCACHED_SUCCESS);
    cr_assert_eq(memcached_touch(mc, K("nosuch"), 100), MEMCACHED_NOTFOUND);
    cr_assert_eq(memcached_touch(mc, K("t"), -1), MEMCACHED_SUCCESS);
    expect_missing("t");
    memcached_set(mc, K("f"), K("v"), 0, 0);
    cr_assert_eq(memcached_flush(mc, 0), MEMCACHED_SUCCESS);
    expect_missing("f");
}

Test(libmemcached, expiry, .timeout = 30)
{
    cr_assert_eq(memcached_set(mc, K("e"), K("v"), 1, 0), MEMCACHED_SUCCESS);
    expect_value("e", "v", 0);
    h_sleep_ms(2500);
    expect_missing("e");
}

Test(libmemcached, version_and_stats)
{
    cr_assert_eq(memcached_version(mc), MEMCACHED_SUCCESS);
    const memcached_instance_st *inst = memcached_server_instance_by_position(mc, 0);
    cr_assert_eq(memcached_server_major_version(inst), 1);
    cr_assert_eq(memcached_server_minor_version(inst), 6);
    cr_assert_eq(memcached_server_micro_version(inst), 18);
    memcached_return_t rc;
    memcached_stat_st *st = memcached_stat(mc, NULL, &rc);
    cr_assert_eq(rc, MEMCACHED_SUCCESS, "stat: %s", memcached_strerror(mc, rc));
    cr_assert_eq(st[0].threads, 4);
    cr_assert_eq(st[0].limit_maxbytes, 64ull * 1024 * 1024);
    memcached_stat_free(mc, st);
}

Test(libmemcached, too_large_value)
{
    size_t n = 2 * 1024 * 1024;
    char *v = malloc(n);
    memset(v, 'x', n);
    cr_assert_neq(memcached_set(mc, K("big"), v, n, 0, 0), MEMCACHED_SUCCESS);
    free(v);
    /* The connection stays usable. */
    cr_assert_eq(memcached_set(mc, K("small"), K("ok"), 0, 0), MEMCACHED_SUCCESS);
    expect_value("small", "ok", 0);
}

/* Two servers, ketama: keys spread over both and every key is found again. */
static void setup_pool(void)
{
    h_setup();
    h_server_start(&second, NULL);
    mc = memcached_create(NULL);
    cr_assert_eq(
        memcached_behavior_set(mc, MEMCACHED_BEHAVIOR_DISTRIBUTION, MEMCACHED_DISTRIBUTION_CONSISTENT_KETAMA),
        MEMCACHED_SUCCESS);
    memcached_behavior_set(mc, MEMCACHED_BEHAVIOR_POLL_TIMEOUT, 5000);
    cr_assert_eq(memcached_server_add(mc, "127.0.0.1", (in_port_t)h_srv.port), MEMCACHED_SUCCESS);
    cr_assert_eq(memcached_server_add(mc, "127.0.0.1", (in_port_t)second.port), MEMCACHED_SUCCESS);
}

static void teardown_pool(void)
{
    bool to;
    h_server_stop(&second, SIGTERM, &to);
    teardown_one();
}

Test(libmemcached, ketama_pool, .init = setup_pool, .fini = teardown_pool)
{
    char key[32], val[32];
    for (int i = 0; i < 300; i++) {
        snprintf(key, sizeof(key), "pool:%d", i);
        snprintf(val, sizeof(val), "v%d", i);
        cr_assert_eq(memcached_set(mc, key, strlen(key), val, strlen(val), 0, (uint32_t)i),
                     MEMCACHED_SUCCESS);
    }
    for (int i = 0; i < 300; i++) {
        snprintf(key, sizeof(key), "pool:%d", i);
        snprintf(val, sizeof(val), "v%d", i);
        expect_value(key, val, (uint32_t)i);
    }
    int fa = h_connect(h_srv.port), fb = h_connect(second.port);
    uint64_t a = h_stat(fa, "curr_items"), b = h_stat(fb, "curr_items");
    cr_assert_eq(a + b, 300);
    cr_assert(a > 50 && b > 50, "keys not spread: %llu and %llu", (unsigned long long)a,
              (unsigned long long)b);
    /* Each key lives on exactly the server ketama picked: a direct get on the other misses. */
    uint32_t idx = memcached_generate_hash(mc, "pool:7", 6);
    const memcached_instance_st *inst = memcached_server_instance_by_position(mc, idx);
    int port = (int)memcached_server_port(inst);
    int on = port == h_srv.port ? fa : fb, off = port == h_srv.port ? fb : fa;
    h_cmd(on, "get pool:7\r\n", "VALUE pool:7 7 2\r\nv7\r\nEND\r\n");
    h_cmd(off, "get pool:7\r\n", "END\r\n");
    close(fa);
    close(fb);
}
