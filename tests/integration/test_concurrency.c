/*
 * test_concurrency.c: 8 client threads, each with its own connection, hammer the server at once:
 * incr on one counter (N incr's give exactly N), cas-loop increments (never lost), set/get on private
 * keys (always read back), and readers racing writers on one key (a value read is always one of the
 * values written, whole, never torn).
 *
 * Threads must not call Criterion asserts (those unwind the main thread's stack), so they use the
 * small non-failing helpers below and count errors; the main thread asserts on the totals.
 */
#include "config.h"

#include "tests/integration/harness.h"

#include <criterion/criterion.h>
#include <errno.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/socket.h>
#include <unistd.h>

TestSuite(concurrency, .init = h_setup, .fini = h_teardown, .timeout = 90);

#define NTHREADS 8

struct worker {
    pthread_t tid;
    int id;
    int fd;
    int iterations;
    int errors;
    char detail[160];
};

static bool t_send(int fd, const void *buf, size_t len)
{
    const char *p = buf;
    while (len > 0) {
        ssize_t n = send(fd, p, len, MSG_NOSIGNAL);
        if (n < 0 && errno == EINTR)
            continue;
        if (n <= 0)
            return false;
        p += n;
        len -= (size_t)n;
    }
    return true;
}

/* Read one line into buf (NUL-terminated, \r\n included); false on error. */
static bool t_line(int fd, char *buf, size_t cap)
{
    size_t n = 0;
    while (n + 1 < cap) {
        ssize_t r = recv(fd, buf + n, 1, 0);
        if (r < 0 && errno == EINTR)
            continue;
        if (r <= 0)
            return false;
        n++;
        if (n >= 2 && buf[n - 2] == '\r' && buf[n - 1] == '\n') {
            buf[n] = '\0';
            return true;
        }
    }
    return false;
}

static bool t_exact(int fd, char *buf, size_t n)
{
    return h_read_n(fd, buf, n, H_IO_TIMEOUT_MS) == n;
}

static void fail(struct worker *w, const char *what, const char *got)
{
    if (w->errors++ == 0)
        snprintf(w->detail, sizeof(w->detail), "thread %d: %s (got \"%.60s\")", w->id, what, got);
}

static void run_threads(struct worker *ws, void *(*fn)(void *), int iterations)
{
    for (int i = 0; i < NTHREADS; i++) {
        ws[i].id = i;
        ws[i].iterations = iterations;
        ws[i].errors = 0;
        ws[i].fd = h_connect(h_srv.port);
    }
    for (int i = 0; i < NTHREADS; i++)
        cr_assert(pthread_create(&ws[i].tid, NULL, fn, &ws[i]) == 0);
    for (int i = 0; i < NTHREADS; i++) {
        pthread_join(ws[i].tid, NULL);
        close(ws[i].fd);
    }
    for (int i = 0; i < NTHREADS; i++)
        cr_assert_eq(ws[i].errors, 0, "%d errors; first: %s", ws[i].errors, ws[i].detail);
}

static void *incr_loop(void *arg)
{
    struct worker *w = arg;
    char line[128];
    for (int i = 0; i < w->iterations; i++) {
        if (!t_send(w->fd, "incr ctr 1\r\n", 12) || !t_line(w->fd, line, sizeof(line))) {
            fail(w, "incr I/O", "");
            return NULL;
        }
        if (line[0] < '1' || line[0] > '9')
            fail(w, "incr answer", line);
    }
    return NULL;
}

Test(concurrency, incr_counts_exactly)
{
    int fd = h_connect(h_srv.port);
    h_set(fd, "ctr", "0");
    struct worker ws[NTHREADS];
    run_threads(ws, incr_loop, 1000);
    char *v = h_get(fd, "ctr", NULL);
    cr_assert_str_eq(v, "8000");
    free(v);
}

static void *cas_loop(void *arg)
{
    struct worker *w = arg;
    char line[256], val[64];
    int done = 0, guard = 0;
    while (done < w->iterations && guard++ < w->iterations * 200) {
        if (!t_send(w->fd, "gets cc\r\n", 9) || !t_line(w->fd, line, sizeof(line))) {
            fail(w, "gets I/O", "");
            return NULL;
        }
        char key[16];
        unsigned flags;
        size_t len;
        unsigned long long cas;
        if (sscanf(line, "VALUE %15s %u %zu %llu", key, &flags, &len, &cas) != 4 || len >= sizeof(val) - 2 ||
            !t_exact(w->fd, val, len + 2) || !t_line(w->fd, line, sizeof(line)) ||
            strcmp(line, "END\r\n") != 0) {
            fail(w, "gets answer", line);
            return NULL;
        }
        val[len] = '\0';
        char req[128], num[32];
        int nl = snprintf(num, sizeof(num), "%llu", strtoull(val, NULL, 10) + 1);
        int rl = snprintf(req, sizeof(req), "cas cc 0 0 %d %llu\r\n%s\r\n", nl, cas, num);
        if (!t_send(w->fd, req, (size_t)rl) || !t_line(w->fd, line, sizeof(line))) {
            fail(w, "cas I/O", "");
            return NULL;
        }
        if (strcmp(line, "STORED\r\n") == 0)
            done++;
        else if (strcmp(line, "EXISTS\r\n") != 0)
            fail(w, "cas answer", line);
    }
    if (done < w->iterations)
        fail(w, "cas loop starved", "");
    return NULL;
}

Test(concurrency, cas_loop_never_loses_increments)
{
    int fd = h_connect(h_srv.port);
    h_set(fd, "cc", "0");
    struct worker ws[NTHREADS];
    run_threads(ws, cas_loop, 150);
    char *v = h_get(fd, "cc", NULL);
    cr_assert_str_eq(v, "1200");
    free(v);
}

static void *private_keys(void *arg)
{
    struct worker *w = arg;
    char line[256], buf[600];
    for (int i = 0; i < w->iterations; i++) {
        char key[32], val[512];
        snprintf(key, sizeof(key), "t%d_k%d", w->id, i % 50);
        int vl = snprintf(val, sizeof(val), "%d-%d-%0*d", w->id, i, 100 + (i % 300), i);
        char req[700];
        int rl = snprintf(req, sizeof(req), "set %s %d 0 %d\r\n%s\r\nget %s\r\n", key, w->id, vl, val, key);
        if (!t_send(w->fd, req, (size_t)rl) || !t_line(w->fd, line, sizeof(line)) ||
            strcmp(line, "STORED\r\n") != 0) {
            fail(w, "set", line);
            return NULL;
        }
        char hdr[128];
        snprintf(hdr, sizeof(hdr), "VALUE %s %d %d\r\n", key, w->id, vl);
        if (!t_line(w->fd, line, sizeof(line)) || strcmp(line, hdr) != 0 ||
            !t_exact(w->fd, buf, (size_t)vl + 7) || memcmp(buf, val, (size_t)vl) != 0 ||
            memcmp(buf + vl, "\r\nEND\r\n", 7) != 0) {
            fail(w, "get of own key", line);
            return NULL;
        }
    }
    return NULL;
}

Test(concurrency, private_keys_read_back)
{
    struct worker ws[NTHREADS];
    run_threads(ws, private_keys, 1000);
}

/* Writers store on one key a value whose bytes are all one letter with a length tied to the letter;
 * readers check every value they see is whole. */
static size_t shared_len(char c)
{
    return 100 + (size_t)(c - 'a') * 997;
}

static void *shared_key(void *arg)
{
    struct worker *w = arg;
    char line[256];
    char *buf = malloc(32 * 1024);
    for (int i = 0; i < w->iterations && w->errors == 0; i++) {
        if (w->id % 2 == 0) {
            char c = (char)('a' + (w->id / 2) * 5 + i % 5);
            size_t n = shared_len(c);
            char hdr[64];
            int hl = snprintf(hdr, sizeof(hdr), "set shared 0 0 %zu\r\n", n);
            char *req = malloc((size_t)hl + n + 2);
            memcpy(req, hdr, (size_t)hl);
            memset(req + hl, c, n);
            memcpy(req + hl + n, "\r\n", 2);
            bool ok = t_send(w->fd, req, (size_t)hl + n + 2) && t_line(w->fd, line, sizeof(line)) &&
                      strcmp(line, "STORED\r\n") == 0;
            free(req);
            if (!ok)
                fail(w, "set shared", line);
        } else {
            if (!t_send(w->fd, "get shared\r\n", 12) || !t_line(w->fd, line, sizeof(line))) {
                fail(w, "get I/O", "");
                break;
            }
            if (strcmp(line, "END\r\n") == 0)
                continue;
            size_t n;
            if (sscanf(line, "VALUE shared 0 %zu", &n) != 1 || n + 7 > 32 * 1024 ||
                !t_exact(w->fd, buf, n + 7)) {
                fail(w, "get shared header", line);
                break;
            }
            char c = buf[0];
            bool whole = c >= 'a' && c <= 't' && shared_len(c) == n && memcmp(buf + n, "\r\nEND\r\n", 7) == 0;
            for (size_t k = 0; whole && k < n; k++)
                whole = buf[k] == c;
            if (!whole)
                fail(w, "torn or foreign value", line);
        }
    }
    free(buf);
    return NULL;
}

Test(concurrency, shared_key_values_never_torn)
{
    struct worker ws[NTHREADS];
    run_threads(ws, shared_key, 600);
}

static void *connect_churn(void *arg)
{
    struct worker *w = arg;
    char line[64];
    for (int i = 0; i < w->iterations; i++) {
        int fd = h_try_connect(h_srv.port);
        if (fd < 0) {
            fail(w, "connect", "");
            return NULL;
        }
        if (!t_send(fd, "incr churn 1\r\n", 14) || !t_line(fd, line, sizeof(line)))
            fail(w, "incr on new connection", line);
        close(fd);
    }
    return NULL;
}

Test(concurrency, connection_churn)
{
    int fd = h_connect(h_srv.port);
    h_set(fd, "churn", "0");
    struct worker ws[NTHREADS];
    run_threads(ws, connect_churn, 100);
    char *v = h_get(fd, "churn", NULL);
    cr_assert_str_eq(v, "800");
    free(v);
    /* Closed connections are no longer counted (allow the server a moment to notice). */
    int64_t end = h_now_ms() + 3000;
    uint64_t cur;
    while ((cur = h_stat(fd, "curr_connections")) > 3 && h_now_ms() < end)
        h_sleep_ms(20);
    cr_assert_leq(cur, 3, "curr_connections %llu after churn", (unsigned long long)cur);
}

Test(concurrency, many_connections_at_once)
{
    /* 300 clients connected at the same time, each answered. */
    enum { N = 300 };
    static int fds[N];
    int fd0 = h_connect(h_srv.port);
    h_set(fd0, "shared", "v");
    for (int i = 0; i < N; i++)
        fds[i] = h_connect(h_srv.port);
    for (int i = 0; i < N; i++)
        h_sends(fds[i], "get shared\r\n");
    for (int i = 0; i < N; i++)
        h_expect(fds[i], "VALUE shared 0 1\r\nv\r\nEND\r\n");
    cr_assert_geq(h_stat(fd0, "curr_connections"), N + 1);
    for (int i = 0; i < N; i++)
        close(fds[i]);
}

static void setup_one_thread(void)
{
    static const char *const extra[] = {"-t", "1", NULL};
    h_server_start(&h_srv, extra);
}

Test(concurrency, one_worker_thread_serves_all, .init = setup_one_thread, .fini = h_teardown)
{
    /* With -t 1 every connection shares one event loop; the counts must still be exact. */
    int fd = h_connect(h_srv.port);
    h_set(fd, "ctr", "0");
    cr_assert_eq(h_stat(fd, "threads"), 1);
    struct worker ws[NTHREADS];
    run_threads(ws, incr_loop, 300);
    char *v = h_get(fd, "ctr", NULL);
    cr_assert_str_eq(v, "2400");
    free(v);
}
