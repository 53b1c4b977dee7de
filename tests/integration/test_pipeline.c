/*
 * test_pipeline.c: many requests in one write are answered in order, and a request stream split into
 * one-byte sends (TCP_NODELAY) gets exactly the answers of the same stream sent whole.
 *
 * The stream is generated together with its expected answer (a tiny model of the cache: each key's
 * value, or absent), so the check is exact without any hand-written expected bytes.
 */
#include "config.h"

#include "tests/integration/harness.h"

#include <criterion/criterion.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/socket.h>
#include <unistd.h>

TestSuite(pipeline, .init = h_setup, .fini = h_teardown, .timeout = 60);

struct buf {
    char *p;
    size_t len, cap;
};

static void put(struct buf *b, const char *s, size_t n)
{
    if (b->len + n + 1 > b->cap) {
        b->cap = (b->len + n + 1) * 2;
        b->p = realloc(b->p, b->cap);
        cr_assert(b->p != NULL);
    }
    memcpy(b->p + b->len, s, n);
    b->len += n;
    b->p[b->len] = '\0';
}

static void putf(struct buf *b, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
#include <stdarg.h>
static void putf(struct buf *b, const char *fmt, ...)
{
    char tmp[1024];
    va_list ap;
    va_start(ap, fmt);
    int n = vsnprintf(tmp, sizeof(tmp), fmt, ap);
    va_end(ap);
    put(b, tmp, (size_t)n);
}

#define NKEYS 16

/* Build count mixed requests over NKEYS keys (prefix pfx) and the answers a correct server gives. */
static void build_script(struct buf *req, struct buf *exp, const char *pfx, int count)
{
    long val[NKEYS];
    bool have[NKEYS] = {false};
    uint32_t x = 88172645u;
    for (int i = 0; i < count; i++) {
        x ^= x << 13;
        x ^= x >> 17;
        x ^= x << 5;
        int k = (int)(x % NKEYS);
        long v = (long)(x % 100000);
        switch ((x >> 8) % 9) {
        case 0:
        case 1: {
            char s[32];
            int n = snprintf(s, sizeof(s), "%ld", v);
            putf(req, "set %s%d 0 0 %d\r\n%s\r\n", pfx, k, n, s);
            put(exp, "STORED\r\n", 8);
            have[k] = true;
            val[k] = v;
            break;
        }
        case 2:
            putf(req, "get %s%d\r\n", pfx, k);
            if (have[k]) {
                char s[32];
                int n = snprintf(s, sizeof(s), "%ld", val[k]);
                putf(exp, "VALUE %s%d 0 %d\r\n%s\r\nEND\r\n", pfx, k, n, s);
            } else {
                put(exp, "END\r\n", 5);
            }
            break;
        case 3:
            putf(req, "incr %s%d 7\r\n", pfx, k);
            if (have[k]) {
                val[k] += 7;
                putf(exp, "%ld\r\n", val[k]);
            } else {
                put(exp, "NOT_FOUND\r\n", 11);
            }
            break;
        case 4:
            putf(req, "delete %s%d\r\n", pfx, k);
            put(exp, have[k] ? "DELETED\r\n" : "NOT_FOUND\r\n", have[k] ? 9 : 11);
            have[k] = false;
            break;
        case 5:
            putf(req, "add %s%d 0 0 2\r\n42\r\n", pfx, k);
            put(exp, have[k] ? "NOT_STORED\r\n" : "STORED\r\n", have[k] ? 12 : 8);
            if (!have[k]) {
                have[k] = true;
                val[k] = 42;
            }
            break;
        case 6:
            putf(req, "set %s%d 0 0 2 noreply\r\n13\r\n", pfx, k);
            have[k] = true;
            val[k] = 13;
            break;
        case 7:
            putf(req, "bogus %d\r\n", k);
            put(exp, "ERROR\r\n", 7);
            break;
        default:
            putf(req, "touch %s%d 0\r\n", pfx, k);
            put(exp, have[k] ? "TOUCHED\r\n" : "NOT_FOUND\r\n", have[k] ? 9 : 11);
            break;
        }
    }
}

/* incr can change a value's length only upwards within our model; decr is left out so padding
 * never appears. Values stay below 10^6, so incr never wraps. */

Test(pipeline, hundreds_in_one_write)
{
    struct buf req = {0}, exp = {0};
    build_script(&req, &exp, "p", 600);
    int fd = h_connect(h_srv.port);
    h_send(fd, req.p, req.len);
    h_expectn(fd, exp.p, exp.len);
    cr_assert(h_is_quiet(fd, 100), "extra bytes after the pipelined answers");
    free(req.p);
    free(exp.p);
}

Test(pipeline, gets_with_values_in_one_write)
{
    int fd = h_connect(h_srv.port);
    struct buf req = {0}, exp = {0};
    char val[1000];
    memset(val, 'v', sizeof(val));
    for (int i = 0; i < 200; i++) {
        putf(&req, "set big%d 0 0 %zu\r\n", i, sizeof(val));
        put(&req, val, sizeof(val));
        put(&req, "\r\n", 2);
        put(&exp, "STORED\r\n", 8);
    }
    for (int i = 0; i < 200; i++) {
        putf(&req, "get big%d\r\n", i);
        putf(&exp, "VALUE big%d 0 %zu\r\n", i, sizeof(val));
        put(&exp, val, sizeof(val));
        put(&exp, "\r\nEND\r\n", 7);
    }
    h_send(fd, req.p, req.len);
    h_expectn(fd, exp.p, exp.len);
    free(req.p);
    free(exp.p);
}

Test(pipeline, bytewise_equals_whole, .timeout = 90)
{
    struct buf req = {0}, exp = {0};
    build_script(&req, &exp, "b", 120);
    /* Add the awkward forms: binary value, noreply, bad chunk, multi-get. */
    put(&req, "set bin 3 0 6\r\n\r\n\0\r\n\r\r\n", 23);
    put(&exp, "STORED\r\n", 8);
    put(&req, "set bad 0 0 1\r\nxyz\r\n", 20);
    put(&exp, "CLIENT_ERROR bad data chunk\r\nERROR\r\n", 36);
    put(&req, "get bin bad bin\r\n", 17);
    put(&exp, "VALUE bin 3 6\r\n\r\n\0\r\n\r\r\nVALUE bin 3 6\r\n\r\n\0\r\n\r\r\nEND\r\n", 47);
    int fd = h_connect(h_srv.port);
    h_send_bytewise(fd, req.p, req.len);
    h_expectn(fd, exp.p, exp.len);
    /* The same stream sent whole on a new connection, after a flush, answers identically. */
    int fd2 = h_connect(h_srv.port);
    h_cmd(fd2, "flush_all\r\n", "OK\r\n");
    h_send(fd2, req.p, req.len);
    h_expectn(fd2, exp.p, exp.len);
    free(req.p);
    free(exp.p);
}

Test(pipeline, large_value_split_slowly)
{
    /* A 100 KB value arriving in 1 KB pieces with pauses. */
    int fd = h_connect(h_srv.port);
    size_t n = 100000;
    char *v = malloc(n);
    for (size_t i = 0; i < n; i++)
        v[i] = (char)('a' + i % 26);
    h_sends(fd, "set slow 0 0 100000\r\n");
    for (size_t off = 0; off < n; off += 1000) {
        h_send(fd, v + off, 1000);
        if (off % 20000 == 0)
            h_sleep_ms(10);
    }
    h_sends(fd, "\r");
    h_sleep_ms(10);
    h_sends(fd, "\n");
    h_expect(fd, "STORED\r\n");
    h_sends(fd, "get slow\r\n");
    size_t len;
    char *r = h_read_until(fd, "END\r\n", &len);
    const char *hdr = "VALUE slow 0 100000\r\n";
    cr_assert_eq(len, strlen(hdr) + n + 7);
    cr_assert(memcmp(r, hdr, strlen(hdr)) == 0 && memcmp(r + strlen(hdr), v, n) == 0);
    free(r);
    free(v);
}

Test(pipeline, long_get_line_in_pieces)
{
    /* A 60 KB get line arriving in 1000-byte pieces: longer than any other line may be. */
    int fd = h_connect(h_srv.port);
    h_set(fd, "last", "L");
    struct buf req = {0};
    put(&req, "get", 3);
    for (int i = 0; i < 600; i++)
        putf(&req, " missing_key_number_%06d_padding_padding_padding_padding_padding_pad", i);
    put(&req, " last\r\n", 7);
    for (size_t off = 0; off < req.len; off += 1000) {
        size_t n = req.len - off < 1000 ? req.len - off : 1000;
        h_send(fd, req.p + off, n);
        h_sleep_ms(2);
    }
    h_expect(fd, "VALUE last 0 1\r\nL\r\nEND\r\n");
    free(req.p);
}

struct slow_writer {
    int fd;
    int count;
};

static void *write_gets(void *arg)
{
    struct slow_writer *w = arg;
    for (int i = 0; i < w->count; i++) {
        if (send(w->fd, "get big\r\n", 9, MSG_NOSIGNAL) != 9)
            break;
    }
    return NULL;
}

Test(pipeline, slow_reader_backpressure)
{
    /* 300 gets of a 100 KB value (30 MB of answers) written while the client does not read for a
     * while: the server must buffer or stop reading, never drop or reorder bytes. */
    int fd = h_connect(h_srv.port);
    size_t n = 100000;
    char *v = malloc(n);
    for (size_t i = 0; i < n; i++)
        v[i] = (char)('A' + i % 23);
    char hdr[64];
    snprintf(hdr, sizeof(hdr), "set big 0 0 %zu\r\n", n);
    h_sends(fd, hdr);
    h_send(fd, v, n);
    h_sends(fd, "\r\n");
    h_expect(fd, "STORED\r\n");
    struct slow_writer w = {fd, 300};
    pthread_t tid;
    cr_assert_eq(pthread_create(&tid, NULL, write_gets, &w), 0);
    h_sleep_ms(300);
    const char *vh = "VALUE big 0 100000\r\n";
    size_t one = strlen(vh) + n + 7;
    char *buf = malloc(one);
    for (int i = 0; i < 300; i++) {
        size_t got = h_read_n(fd, buf, one, H_IO_TIMEOUT_MS);
        if (got != one || memcmp(buf, vh, strlen(vh)) != 0 || memcmp(buf + strlen(vh), v, n) != 0 ||
            memcmp(buf + one - 7, "\r\nEND\r\n", 7) != 0) {
            pthread_join(tid, NULL);
            cr_assert_fail("answer %d of 300 wrong or short (%zu of %zu bytes)", i, got, one);
        }
    }
    pthread_join(tid, NULL);
    free(buf);
    free(v);
}

/* An incr after a get in one write waits until the get's value is written out (as memcached writes
 * it before the next request), then runs: thousands of such pairs are answered in order, without a
 * stall, and without counting as replies held back for a slow reader. The numbers keep four digits,
 * so the bytes do not depend on whether memcached rewrote them in place. */
Test(pipeline, incr_after_get_in_one_write)
{
    enum { PAIRS = 2000 };
    int fd = h_connect(h_srv.port);
    struct buf in = {0}, want = {0};
    char line[64];
    uint64_t pauses = h_target_is_memcached() ? 0 : h_stat_of(fd, "clients", "reply_pauses");
    h_set(fd, "k", "1000");
    for (int i = 0; i < PAIRS; i++) {
        put(&in, "get k\r\nincr k 1\r\n", 17);
        int n = snprintf(line, sizeof(line), "VALUE k 0 4\r\n%d\r\nEND\r\n%d\r\n", 1000 + i, 1001 + i);
        put(&want, line, (size_t)n);
    }
    h_send(fd, in.p, in.len);
    char *got = malloc(want.len + 1);
    size_t n = h_read_n(fd, got, want.len, 10000);
    cr_assert_eq(n, want.len, "%zu of %zu bytes", n, want.len);
    cr_assert(memcmp(got, want.p, want.len) == 0, "replies out of order or wrong");
    if (!h_target_is_memcached())
        cr_assert_eq(h_stat_of(fd, "clients", "reply_pauses"), pauses,
                     "an incr waiting for a get's value is no reply pause");
    free(got);
    free(in.p);
    free(want.p);
    close(fd);
}
