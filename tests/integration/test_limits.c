/*
 * test_limits.c: the connection limit (-c) and the item size limit (-I) as memcached enforces them.
 *
 * Over the connection limit memcached accepts the socket, writes "ERROR Too many open connections"
 * and closes it; connections under the limit keep working and a freed slot is usable again. (The
 * exact number of clients memcached admits under -c depends on its own descriptors, so the test
 * only requires that some are admitted, the limit bites before 40, and cairn admits at most -c.)
 */
#include "config.h"

#include "tests/integration/harness.h"

#include <criterion/criterion.h>
#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>

static void setup_conn_limit(void)
{
    static const char *const extra[] = {"-c", "30", NULL};
    h_server_start(&h_srv, extra);
}

static void setup_big_items(void)
{
    static const char *const extra[] = {"-I", "2m", NULL};
    h_server_start(&h_srv, extra);
}

Test(limits, connection_limit, .init = setup_conn_limit, .fini = h_teardown, .timeout = 60)
{
    int fds[40];
    int admitted = 0, refused = 0;
    for (int i = 0; i < 40; i++) {
        fds[i] = h_connect(h_srv.port);
        h_sends(fds[i], "version\r\n");
        char *line = h_read_line(fds[i]);
        if (strncmp(line, "VERSION ", 8) == 0) {
            admitted++;
        } else {
            h_compare_at(__FILE__, __LINE__, "over-limit answer", "ERROR Too many open connections\r\n", 33,
                         line, strlen(line));
            cr_assert(h_is_closed(fds[i], 2000), "over-limit connection left open");
            refused++;
        }
        free(line);
    }
    cr_assert_gt(admitted, 0);
    cr_assert_gt(refused, 0, "40 connections admitted under -c 30");
    if (!h_srv.memcached)
        cr_assert_leq(admitted, 30);
    /* Admitted connections still work. */
    for (int i = 0; i < admitted; i++)
        h_cmd(fds[i], "get nosuch\r\n", "END\r\n");
    for (int i = 0; i < 40; i++)
        close(fds[i]);
    /* Once clients leave, new connections are admitted again. */
    int64_t end = h_now_ms() + 3000;
    bool ok = false;
    while (!ok && h_now_ms() < end) {
        int fd = h_connect(h_srv.port);
        h_sends(fd, "version\r\n");
        char *line = h_read_line(fd);
        ok = strncmp(line, "VERSION ", 8) == 0;
        free(line);
        close(fd);
        if (!ok)
            h_sleep_ms(20);
    }
    cr_assert(ok, "no connection admitted after all clients left");
}

Test(limits, item_size_option, .init = setup_big_items, .fini = h_teardown, .timeout = 60)
{
    int fd = h_connect(h_srv.port);
    char val[64];
    char *s = h_stats_raw(fd, "settings");
    cr_assert(h_stat_find(s, "item_size_max", val, sizeof(val)));
    cr_assert_str_eq(val, "2097152");
    free(s);
    size_t n = 1500000;
    char *v = malloc(2600000);
    memset(v, 'i', 2600000);
    char req[64];
    snprintf(req, sizeof(req), "set a 0 0 %zu\r\n", n);
    h_sends(fd, req);
    h_send(fd, v, n);
    h_sends(fd, "\r\n");
    h_expect(fd, "STORED\r\n");
    snprintf(req, sizeof(req), "set b 0 0 %d\r\n", 2600000);
    h_sends(fd, req);
    h_send(fd, v, 2600000);
    h_sends(fd, "\r\n");
    h_expect(fd, "SERVER_ERROR object too large for cache\r\n");
    h_sends(fd, "get a b\r\n");
    size_t len;
    char *r = h_read_until(fd, "END\r\n", &len);
    cr_assert_eq(len, strlen("VALUE a 0 1500000\r\n") + n + 7);
    free(r);
    free(v);
}

Test(limits, too_large_with_noreply_is_silent, .init = h_setup, .fini = h_teardown, .timeout = 60)
{
    /* With noreply memcached keeps quiet about the too-large value and swallows it. */
    int fd = h_connect(h_srv.port);
    size_t n = 2 * 1024 * 1024;
    char *v = malloc(n);
    memset(v, 'z', n);
    char req[64];
    snprintf(req, sizeof(req), "set big 0 0 %zu noreply\r\n", n);
    h_sends(fd, req);
    h_send(fd, v, n);
    h_sends(fd, "\r\nget big\r\n");
    h_expect(fd, "END\r\n");
    free(v);
}

Test(limits, line_length, .init = h_setup, .fini = h_teardown, .timeout = 30)
{
    int fd = h_connect(h_srv.port);
    /* A long but complete line is just an unknown command. */
    char line[2100];
    memset(line, 'x', 2000);
    memcpy(line + 2000, "\r\n", 3);
    h_cmd(fd, line, "ERROR\r\n");
    /* A partial line of 2000 bytes waits for its end. */
    h_send(fd, line, 1000);
    cr_assert(h_is_quiet(fd, 200), "answer to a partial line");
    h_cmd(fd, "\r\n", "ERROR\r\n");
    h_cmd(fd, "get nosuch\r\n", "END\r\n");
}
