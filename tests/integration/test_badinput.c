/*
 * test_badinput.c: a corpus of malformed requests. For each case a fresh connection sends the bytes
 * and must get memcached 1.6.18's exact answer (or be closed where memcached closes it); then the
 * same connection (when open) and a second connection must still work, and a canary item stored
 * before the corpus must be intact.
 */
#include "config.h"

#include "tests/integration/harness.h"

#include <criterion/criterion.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/socket.h>
#include <unistd.h>

/* -B auto, memcached's default, for both servers: a first byte 0x80 is the binary protocol. */
static void setup_auto(void)
{
    const char *extra[] = {"-B", "auto", NULL};
    h_server_start(&h_srv, extra);
}

TestSuite(badinput, .init = setup_auto, .fini = h_teardown, .timeout = 60);

struct bad_case {
    const char *name;
    const char *in;
    size_t in_len;   /* 0: strlen(in) */
    const char *out; /* exact answer */
    bool closes;     /* the server closes the connection after out */
    size_t out_len;  /* 0: strlen(out) */
};

#define S(x) x, sizeof(x) - 1

static const struct bad_case cases[] = {
    {"unknown command", S("foo bar baz\r\n"), "ERROR\r\n", false},
    {"empty line", S("\r\n"), "ERROR\r\n", false},
    {"blank line", S("     \r\n"), "ERROR\r\n", false},
    {"three empty lines", S("\r\n\n\r\n"), "ERROR\r\nERROR\r\nERROR\r\n", false},
    {"control bytes", S("\x00\x01\xff\r\n"), "ERROR\r\n", false},
    /* a binary SET without its extras: "Invalid arguments", then the connection closes */
    {"binary protocol header",
     S("\x80\x01\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00"
       "\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\r\n"),
     "\x81\x01\x00\x00\x00\x00\x00\x04\x00\x00\x00\x11\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00"
     "Invalid arguments",
     true, 24 + 17},
    {"high bytes", S("\xc3\xa9\xe2\x82\xac get\r\n"), "ERROR\r\n", false},
    {"upper case", S("GET canary\r\n"), "ERROR\r\n", false},
    {"huge length", S("set k 0 0 99999999999999999999\r\n"), "CLIENT_ERROR bad command line format\r\n",
     false},
    {"negative length", S("set k 0 0 -5\r\n"), "CLIENT_ERROR bad command line format\r\n", false},
    {"huge delta", S("incr canary 99999999999999999999999\r\n"),
     "CLIENT_ERROR invalid numeric delta argument\r\n", false},
    {"non-numeric exptime", S("set k 0 abc 1\r\nx\r\n"), "CLIENT_ERROR bad command line format\r\nERROR\r\n",
     false},
    {"too many tokens", S("set k 0 0 1 2 3 4 5 6 7\r\nx\r\n"), "ERROR\r\nERROR\r\n", false},
    {"very many tokens",
     S("set k 0 0 1 2 3 4 5 6 7 8 9 10 11 12 13 14 15 16 17 18 19 20 21 22 23 24\r\nx\r\n"),
     "ERROR\r\nERROR\r\n", false},
    {"NUL in key", S("get a\0b\r\n"), "END\r\n", false},
    {"missing arguments", S("incr\r\ndecr a\r\ntouch\r\ncas\r\nappend\r\nverbosity a b c\r\n"),
     "ERROR\r\nERROR\r\nERROR\r\nERROR\r\nERROR\r\nERROR\r\n", false},
    {"value block too long", S("set k 0 0 3\r\nabcde\r\n"), "CLIENT_ERROR bad data chunk\r\nERROR\r\n",
     false},
    /* memcached consumes exactly length + 2 bytes as the block; what follows is the next line. */
    {"value block without CRLF", S("set k 0 0 3\r\nabcXYget canary\r\n"),
     "CLIENT_ERROR bad data chunk\r\nVALUE canary 0 6\r\nintact\r\nEND\r\n", false},
    {"LF-only lines", S("set k 0 0 1\nx\r\nget k\n"), "STORED\r\nVALUE k 0 1\r\nx\r\nEND\r\n", false},
    {"HTTP request", S("GET / HTTP/1.1\r\nHost: localhost\r\n\r\n"), "", true},
};

/* The canary must be readable from a new connection. */
static void check_alive(const char *name)
{
    int fd = h_try_connect(h_srv.port);
    cr_assert(fd >= 0, "[%s] server no longer accepts connections", name);
    char *v = h_get(fd, "canary", NULL);
    cr_assert(v != NULL && strcmp(v, "intact") == 0, "[%s] canary lost", name);
    free(v);
    close(fd);
}

Test(badinput, corpus)
{
    int fd0 = h_connect(h_srv.port);
    h_set(fd0, "canary", "intact");
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        const struct bad_case *c = &cases[i];
        int fd = h_connect(h_srv.port);
        h_send(fd, c->in, c->in_len);
        size_t olen = c->out_len != 0 ? c->out_len : strlen(c->out);
        char *got = malloc(olen + 1);
        size_t n = h_read_n(fd, got, olen, H_IO_TIMEOUT_MS);
        char what[128];
        snprintf(what, sizeof(what), "[%s] answer", c->name);
        h_compare_at(__FILE__, __LINE__, what, c->out, olen, got, n);
        free(got);
        if (c->closes) {
            cr_assert(h_is_closed(fd, 2000), "[%s] connection not closed", c->name);
        } else {
            h_sends(fd, "nosuchcmd\r\nversion\r\n");
            char *line = h_read_line(fd);
            cr_assert_str_eq(line, "ERROR\r\n", "[%s] connection out of step", c->name);
            free(line);
            line = h_read_line(fd);
            cr_assert(strncmp(line, "VERSION ", 8) == 0, "[%s] connection out of step: %s", c->name, line);
            free(line);
        }
        close(fd);
        check_alive(c->name);
    }
    char *v = h_get(fd0, "canary", NULL);
    cr_assert_str_eq(v, "intact");
    free(v);
}

Test(badinput, long_line_without_newline_closes)
{
    int fd0 = h_connect(h_srv.port);
    h_set(fd0, "canary", "intact");
    int fd = h_connect(h_srv.port);
    char buf[8192];
    memset(buf, 'x', sizeof(buf));
    h_send(fd, buf, sizeof(buf));
    cr_assert(h_is_closed(fd, 3000), "an 8 KiB line without a newline was not refused");
    check_alive("long line");
}

Test(badinput, long_key_list_is_accepted)
{
    /* get lines may be far longer than other lines: 300 keys of 250 bytes (75 KiB). */
    int fd = h_connect(h_srv.port);
    h_set(fd, "canary", "intact");
    size_t cap = 300 * 251 + 64, n = 0;
    char *req = malloc(cap);
    n += (size_t)sprintf(req, "get");
    for (int i = 0; i < 300; i++) {
        req[n++] = ' ';
        memset(req + n, 'k', 250);
        n += 250;
    }
    n += (size_t)sprintf(req + n, " canary\r\n");
    h_send(fd, req, n);
    h_expect(fd, "VALUE canary 0 6\r\nintact\r\nEND\r\n");
    free(req);
}

Test(badinput, disconnect_mid_value_stores_nothing)
{
    int fd = h_connect(h_srv.port);
    h_sends(fd, "set half 0 0 100\r\n0123456789");
    close(fd);
    fd = h_connect(h_srv.port);
    h_sends(fd, "set part 0 0 10\r\n0123");
    close(fd);
    h_sleep_ms(100);
    fd = h_connect(h_srv.port);
    h_cmd(fd, "get half part\r\n", "END\r\n");
}

Test(badinput, garbage_flood_random_bytes)
{
    /* 64 KiB of pseudo-random bytes without a LF near the start: the server may answer or close,
     * but must survive. */
    int fd0 = h_connect(h_srv.port);
    h_set(fd0, "canary", "intact");
    uint32_t x = 2463534242u;
    char buf[4096];
    for (int round = 0; round < 16; round++) {
        int fd = h_connect(h_srv.port);
        for (size_t i = 0; i < sizeof(buf); i++) {
            x ^= x << 13;
            x ^= x >> 17;
            x ^= x << 5;
            buf[i] = (char)(x & 0xff);
        }
        /* Best effort: the server may close while we send. */
        send(fd, buf, sizeof(buf), MSG_NOSIGNAL);
        size_t len;
        bool closed;
        free(h_read_idle(fd, 50, &len, &closed));
        close(fd);
    }
    check_alive("random bytes");
}

Test(badinput, client_vanishes_mid_response)
{
    /* Clients that ask for megabytes of answers and then close or reset the connection at once:
     * the server must drop their output and carry on. */
    int fd0 = h_connect(h_srv.port);
    h_set(fd0, "canary", "intact");
    size_t n = 500000;
    char *v = malloc(n);
    memset(v, 'q', n);
    char hdr[64];
    snprintf(hdr, sizeof(hdr), "set big 0 0 %zu\r\n", n);
    h_sends(fd0, hdr);
    h_send(fd0, v, n);
    h_sends(fd0, "\r\n");
    h_expect(fd0, "STORED\r\n");
    free(v);
    char req[100 * 8 + 1];
    for (int i = 0; i < 100; i++)
        memcpy(req + i * 8, "get big\n", 8);
    for (int round = 0; round < 10; round++) {
        int fd = h_connect(h_srv.port);
        h_send(fd, req, 800);
        if (round % 2 == 1) {
            /* Reset instead of an orderly close. */
            struct linger lg = {1, 0};
            setsockopt(fd, SOL_SOCKET, SO_LINGER, &lg, sizeof(lg));
        }
        close(fd);
    }
    check_alive("vanishing clients");
    h_cmd(fd0, "get canary\r\n", "VALUE canary 0 6\r\nintact\r\nEND\r\n");
}
