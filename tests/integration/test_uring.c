/*
 * test_uring.c: the batched write path (one io_uring_enter per loop turn for every connection that
 * has output) and its writev fallback behave the same on the wire.
 *
 * Each case runs twice: against a server with the default --io-uring yes and one with --io-uring no.
 * Where the kernel refuses io_uring the "yes" server falls back to writev too, which the -v log says;
 * the cases still hold. All servers run one worker thread (-t 1), so a worker that blocked on one
 * connection would stall every other connection, which the slow-reader case detects.
 *
 * Cases: a client that never reads must not delay another client; many connections answered in the
 * same loop turn each get exactly their own bytes; a response longer than one batch slot (a multi-get
 * of many values) arrives whole and in order; a client that half-closes after its request still gets
 * the answer and then EOF; SIGTERM while connections have output queued drains them and exits 0.
 */
#include "config.h"

#include "tests/integration/harness.h"

#include <criterion/criterion.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#define BIG_VALUE  ((size_t)256 * 1024)
#define NCONNS     40
#define MULTI_KEYS 100

/* Starts h_srv with one worker and the write path given; the reference server gets just -t 1. */
static void start_with(const char *io_uring)
{
    const char *extra[] = {"-t", "1", "-v", "--io-uring", io_uring, NULL};
    signal(SIGPIPE, SIG_IGN);
    if (h_target_is_memcached())
        extra[2] = NULL;
    h_server_start(&h_srv, extra);
}

static void start_uring(void)
{
    start_with("yes");
}

static void start_writev(void)
{
    start_with("no");
}

TestSuite(uring, .init = start_uring, .fini = h_teardown, .timeout = 60);
TestSuite(writev, .init = start_writev, .fini = h_teardown, .timeout = 60);

/* Stores a BIG_VALUE-byte value of 'x' under key. */
static void set_big(int fd, const char *key)
{
    char head[128];
    char *val = malloc(BIG_VALUE + 2);
    cr_assert(val != NULL);
    memset(val, 'x', BIG_VALUE);
    memcpy(val + BIG_VALUE, "\r\n", 2);
    snprintf(head, sizeof(head), "set %s 0 0 %zu\r\n", key, BIG_VALUE);
    h_sends(fd, head);
    h_send(fd, val, BIG_VALUE + 2);
    h_expect(fd, "STORED\r\n");
    free(val);
}

/* A client that queues 16 MiB of answers and never reads them must not hold up another client. */
static void slow_reader_does_not_block(void)
{
    int fast = h_connect(h_srv.port);
    int slow = h_connect(h_srv.port);
    set_big(fast, "big");
    for (int i = 0; i < 64; i++)
        h_sends(slow, "get big\r\n");
    h_sleep_ms(200); /* the server reads them and fills the slow socket */

    int64_t worst = 0;
    for (int i = 0; i < 200; i++) {
        char req[64], exp[64];
        snprintf(req, sizeof(req), "set k%d 0 0 4\r\nv%03d\r\n", i % 10, i % 1000);
        int64_t t0 = h_now_ms();
        h_cmd(fast, req, "STORED\r\n");
        snprintf(req, sizeof(req), "get k%d\r\n", i % 10);
        snprintf(exp, sizeof(exp), "VALUE k%d 0 4\r\nv%03d\r\nEND\r\n", i % 10, i % 1000);
        h_cmd(fast, req, exp);
        int64_t dt = h_now_ms() - t0;
        if (dt > worst)
            worst = dt;
    }
    cr_expect(worst < 1000, "a request took %lld ms while another client did not read", (long long)worst);

    /* The slow client's answers are intact once it reads. */
    char head[64];
    int n = snprintf(head, sizeof(head), "VALUE big 0 %zu\r\n", BIG_VALUE);
    h_expectn(slow, head, (size_t)n);
    close(slow);
    h_cmd(fast, "get k1\r\n", "VALUE k1 0 4\r\nv191\r\nEND\r\n");
    close(fast);
}

Test(uring, slow_reader_does_not_block)
{
    slow_reader_does_not_block();
}

Test(writev, slow_reader_does_not_block)
{
    slow_reader_does_not_block();
}

/* NCONNS connections send at once, so one loop turn answers many of them; each gets its own bytes. */
static void many_connections_one_turn(void)
{
    int fds[NCONNS];
    int setup = h_connect(h_srv.port);
    for (int i = 0; i < NCONNS; i++) {
        char key[32], val[64];
        snprintf(key, sizeof(key), "conn%d", i);
        snprintf(val, sizeof(val), "value-of-connection-%d", i);
        h_set(setup, key, val);
        fds[i] = h_connect(h_srv.port);
    }
    for (int round = 0; round < 20; round++) {
        for (int i = 0; i < NCONNS; i++) {
            char req[64];
            snprintf(req, sizeof(req), "get conn%d\r\n", i);
            h_sends(fds[i], req);
        }
        for (int i = 0; i < NCONNS; i++) {
            char exp[128], val[64];
            snprintf(val, sizeof(val), "value-of-connection-%d", i);
            snprintf(exp, sizeof(exp), "VALUE conn%d 0 %zu\r\n%s\r\nEND\r\n", i, strlen(val), val);
            h_expect(fds[i], exp);
        }
    }
    for (int i = 0; i < NCONNS; i++)
        close(fds[i]);
    close(setup);
}

Test(uring, many_connections_one_turn)
{
    many_connections_one_turn();
}

Test(writev, many_connections_one_turn)
{
    many_connections_one_turn();
}

/* A multi-get of MULTI_KEYS values needs more iovecs than one batch slot holds: the rest follows. */
static void long_response_whole(void)
{
    int fd = h_connect(h_srv.port);
    size_t cap = (size_t)MULTI_KEYS * 64 + 64;
    char *req = malloc(cap), *exp = malloc(cap);
    size_t rl, el;
    cr_assert(req != NULL && exp != NULL);
    rl = (size_t)snprintf(req, cap, "get");
    el = 0;
    for (int i = 0; i < MULTI_KEYS; i++) {
        char key[32], val[32];
        snprintf(key, sizeof(key), "m%d", i);
        snprintf(val, sizeof(val), "val%d", i * 7);
        h_set(fd, key, val);
        rl += (size_t)snprintf(req + rl, cap - rl, " %s", key);
        el += (size_t)snprintf(exp + el, cap - el, "VALUE %s 0 %zu\r\n%s\r\n", key, strlen(val), val);
    }
    snprintf(req + rl, cap - rl, "\r\n");
    snprintf(exp + el, cap - el, "END\r\n");
    for (int i = 0; i < 5; i++)
        h_cmd(fd, req, exp);
    free(req);
    free(exp);
    close(fd);
}

Test(uring, long_response_whole)
{
    long_response_whole();
}

Test(writev, long_response_whole)
{
    long_response_whole();
}

/* Request then half-close: the answer comes, then EOF (the closing connection drains first). */
static void half_close_gets_answer(void)
{
    int fd = h_connect(h_srv.port);
    h_set(fd, "hc", "answer");
    h_sends(fd, "get hc\r\nget hc\r\n");
    shutdown(fd, SHUT_WR);
    h_expect(fd, "VALUE hc 0 6\r\nanswer\r\nEND\r\nVALUE hc 0 6\r\nanswer\r\nEND\r\n");
    cr_expect(h_is_closed(fd, 2000), "the server did not close after draining");
    close(fd);
}

Test(uring, half_close_gets_answer)
{
    half_close_gets_answer();
}

Test(writev, half_close_gets_answer)
{
    half_close_gets_answer();
}

/* SIGTERM with answers queued on many connections: all of them arrive, and the server exits 0. */
static void sigterm_drains(void)
{
    int fds[NCONNS];
    int setup = h_connect(h_srv.port);
    h_set(setup, "drain", "ok");
    for (int i = 0; i < NCONNS; i++)
        fds[i] = h_connect(h_srv.port);
    h_sleep_ms(100); /* every connection is created on the worker */
    for (int i = 0; i < NCONNS; i++)
        h_sends(fds[i], "get drain\r\nget drain\r\n");
    kill(h_srv.pid, SIGTERM);
    for (int i = 0; i < NCONNS; i++) {
        h_expect(fds[i], "VALUE drain 0 2\r\nok\r\nEND\r\nVALUE drain 0 2\r\nok\r\nEND\r\n");
        cr_expect(h_is_closed(fds[i], 4000), "connection %d was not closed by the stop", i);
        close(fds[i]);
    }
    close(setup);
    int status = 0;
    cr_assert(h_server_wait(&h_srv, 5000, &status), "the server did not exit after SIGTERM");
    cr_expect(WIFEXITED(status) && WEXITSTATUS(status) == 0, "exit status %d", status);
}

Test(uring, sigterm_drains)
{
    sigterm_drains();
}

Test(writev, sigterm_drains)
{
    sigterm_drains();
}

/* -v names the write path each worker took. */
Test(uring, verbose_names_the_path)
{
    if (h_target_is_memcached())
        cr_skip_test("cairn's own log lines");
    int fd = h_connect(h_srv.port);
    h_cmd(fd, "get nothing\r\n", "END\r\n");
    close(fd);
    char *log = h_server_log(&h_srv);
    cr_assert(log != NULL);
    cr_expect(strstr(log, "worker 0: reads and responses batched per loop turn through io_uring") != NULL ||
                  strstr(log, "worker 0: io_uring unavailable") != NULL,
              "no write path in the -v log:\n%s", log);
    free(log);
}

Test(writev, verbose_names_the_path)
{
    if (h_target_is_memcached())
        cr_skip_test("cairn's own log lines");
    int fd = h_connect(h_srv.port);
    h_cmd(fd, "get nothing\r\n", "END\r\n");
    close(fd);
    char *log = h_server_log(&h_srv);
    cr_assert(log != NULL);
    cr_expect(strstr(log, "worker 0: io_uring off (--io-uring no)") != NULL,
              "no writev path in the -v log:\n%s", log);
    free(log);
}

/* Anything but yes or no is refused with a message. */
Test(options, io_uring_value_checked, .timeout = 30)
{
    if (h_target_is_memcached())
        cr_skip_test("a cairn option");
    struct h_server srv = {0};
    const char *argv[] = {h_cairn_bin(), "--io-uring", "maybe", "-p", "0", NULL};
    h_spawn_raw(&srv, argv[0], argv);
    int status = 0;
    cr_assert(h_server_wait(&srv, 5000, &status), "cairn --io-uring maybe did not exit");
    cr_expect(WIFEXITED(status) && WEXITSTATUS(status) != 0, "cairn --io-uring maybe was accepted");
    char *log = h_server_log(&srv);
    cr_assert(log != NULL);
    cr_expect(strstr(log, "--io-uring takes yes or no") != NULL, "no message:\n%s", log);
    free(log);
}
