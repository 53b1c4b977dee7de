/*
 * test_commands.c: every classic text-protocol command and response form against the real server:
 * storage commands, retrieval (get/gets/gat/gats), cas, incr/decr, delete, touch, flush_all,
 * version, verbosity, quit, noreply on each command that takes it, key and flag limits, binary-safe
 * values and the -I item size limit. Expected bytes are memcached 1.6.18's.
 *
 * Each test gets a fresh server (suite init/fini), so tests never see each other's keys.
 */
#include "config.h"

#include "tests/integration/harness.h"

#include <criterion/criterion.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

TestSuite(cmd, .init = h_setup, .fini = h_teardown, .timeout = 30);

Test(cmd, set_get_basic)
{
    int fd = h_connect(h_srv.port);
    h_cmd(fd, "set foo 5 0 3\r\nbar\r\n", "STORED\r\n");
    h_cmd(fd, "get foo\r\n", "VALUE foo 5 3\r\nbar\r\nEND\r\n");
    h_cmd(fd, "set foo 0 0 0\r\n\r\n", "STORED\r\n");
    h_cmd(fd, "get foo\r\n", "VALUE foo 0 0\r\n\r\nEND\r\n");
    h_cmd(fd, "get nosuch\r\n", "END\r\n");
}

Test(cmd, get_many_keys_and_missing)
{
    int fd = h_connect(h_srv.port);
    h_cmd(fd, "set a 1 0 1\r\nA\r\n", "STORED\r\n");
    h_cmd(fd, "set c 3 0 3\r\nCCC\r\n", "STORED\r\n");
    h_cmd(fd, "get a b c d a\r\n", "VALUE a 1 1\r\nA\r\nVALUE c 3 3\r\nCCC\r\nVALUE a 1 1\r\nA\r\nEND\r\n");
    h_cmd(fd, "get x y z\r\n", "END\r\n");
    /* Extra blanks between keys are ignored. */
    h_cmd(fd, "get  a   c \r\n", "VALUE a 1 1\r\nA\r\nVALUE c 3 3\r\nCCC\r\nEND\r\n");
    /* A bare newline ends a request too. */
    h_cmd(fd, "get a\n", "VALUE a 1 1\r\nA\r\nEND\r\n");
}

Test(cmd, gets_cas_changes_on_every_store)
{
    int fd = h_connect(h_srv.port);
    h_set(fd, "k", "v1");
    uint64_t c1, c2, c3;
    free(h_gets(fd, "k", &c1));
    h_set(fd, "k", "v2");
    free(h_gets(fd, "k", &c2));
    h_cmd(fd, "append k 0 0 1\r\nx\r\n", "STORED\r\n");
    free(h_gets(fd, "k", &c3));
    cr_assert(c1 != c2 && c2 != c3 && c1 != c3, "cas uniques %llu %llu %llu", (unsigned long long)c1,
              (unsigned long long)c2, (unsigned long long)c3);
    /* Reading does not change the unique. */
    uint64_t c4;
    free(h_gets(fd, "k", &c4));
    cr_assert_eq(c3, c4);
    char req[128], exp[128];
    snprintf(req, sizeof(req), "gets k nosuch k\r\n");
    snprintf(exp, sizeof(exp), "VALUE k 0 3 %llu\r\nv2x\r\nVALUE k 0 3 %llu\r\nv2x\r\nEND\r\n",
             (unsigned long long)c4, (unsigned long long)c4);
    h_cmd(fd, req, exp);
}

Test(cmd, add)
{
    int fd = h_connect(h_srv.port);
    h_cmd(fd, "add k 0 0 1\r\na\r\n", "STORED\r\n");
    h_cmd(fd, "add k 0 0 1\r\nb\r\n", "NOT_STORED\r\n");
    h_cmd(fd, "get k\r\n", "VALUE k 0 1\r\na\r\nEND\r\n");
}

Test(cmd, replace)
{
    int fd = h_connect(h_srv.port);
    h_cmd(fd, "replace k 0 0 1\r\na\r\n", "NOT_STORED\r\n");
    h_cmd(fd, "get k\r\n", "END\r\n");
    h_set(fd, "k", "x");
    h_cmd(fd, "replace k 7 0 2\r\nbb\r\n", "STORED\r\n");
    h_cmd(fd, "get k\r\n", "VALUE k 7 2\r\nbb\r\nEND\r\n");
}

Test(cmd, append_prepend)
{
    int fd = h_connect(h_srv.port);
    h_cmd(fd, "append k 0 0 1\r\na\r\n", "NOT_STORED\r\n");
    h_cmd(fd, "prepend k 0 0 1\r\na\r\n", "NOT_STORED\r\n");
    h_cmd(fd, "set k 9 0 3\r\nmid\r\n", "STORED\r\n");
    /* Flags and exptime of append/prepend are ignored: the item keeps its own. */
    h_cmd(fd, "append k 1 0 4\r\n_end\r\n", "STORED\r\n");
    h_cmd(fd, "prepend k 2 0 6\r\nstart_\r\n", "STORED\r\n");
    h_cmd(fd, "get k\r\n", "VALUE k 9 13\r\nstart_mid_end\r\nEND\r\n");
}

Test(cmd, cas_forms)
{
    int fd = h_connect(h_srv.port);
    h_cmd(fd, "cas k 0 0 1 1\r\na\r\n", "NOT_FOUND\r\n");
    h_set(fd, "k", "v");
    uint64_t c;
    free(h_gets(fd, "k", &c));
    char req[128];
    snprintf(req, sizeof(req), "cas k 3 0 2 %llu\r\nv2\r\n", (unsigned long long)(c + 1000));
    h_cmd(fd, req, "EXISTS\r\n");
    snprintf(req, sizeof(req), "cas k 3 0 2 %llu\r\nv2\r\n", (unsigned long long)c);
    h_cmd(fd, req, "STORED\r\n");
    h_cmd(fd, req, "EXISTS\r\n");
    h_cmd(fd, "get k\r\n", "VALUE k 3 2\r\nv2\r\nEND\r\n");
    /* Missing unique: the line is an error and the data line is an unknown command. */
    h_cmd(fd, "cas k 0 0 1\r\n", "ERROR\r\n");
    h_cmd(fd, "cas k 0 0 1 abc\r\ny\r\n", "CLIENT_ERROR bad command line format\r\nERROR\r\n");
    h_cmd(fd, "cas k 0 0 1 0 noreply\r\nz\r\n", "");
    h_cmd(fd, "get k\r\n", "VALUE k 3 2\r\nv2\r\nEND\r\n");
}

Test(cmd, incr_decr)
{
    int fd = h_connect(h_srv.port);
    h_cmd(fd, "incr n 1\r\n", "NOT_FOUND\r\n");
    h_cmd(fd, "decr n 1\r\n", "NOT_FOUND\r\n");
    h_set(fd, "n", "10");
    h_cmd(fd, "incr n 5\r\n", "15\r\n");
    h_cmd(fd, "decr n 3\r\n", "12\r\n");
    h_cmd(fd, "decr n 100\r\n", "0\r\n");
    h_cmd(fd, "incr n 18446744073709551615\r\n", "18446744073709551615\r\n");
    h_cmd(fd, "incr n 2\r\n", "1\r\n");
    h_cmd(fd, "set n 0 0 3\r\n100\r\n", "STORED\r\n");
    /* decr keeps the length: the value is padded with blanks when it shrinks. */
    h_cmd(fd, "decr n 1\r\n", "99\r\n");
    h_cmd(fd, "get n\r\n", "VALUE n 0 3\r\n99 \r\nEND\r\n");
    h_cmd(fd, "incr n 1\r\n", "100\r\n");
    h_cmd(fd, "get n\r\n", "VALUE n 0 3\r\n100\r\nEND\r\n");
}

Test(cmd, incr_wraps_at_2_64)
{
    int fd = h_connect(h_srv.port);
    h_set(fd, "n", "18446744073709551615");
    h_cmd(fd, "incr n 2\r\n", "1\r\n");
    h_cmd(fd, "get n\r\n", "VALUE n 0 20\r\n1                   \r\nEND\r\n");
    h_set(fd, "m", "18446744073709551614");
    h_cmd(fd, "incr m 1\r\n", "18446744073709551615\r\n");
}

Test(cmd, incr_errors)
{
    int fd = h_connect(h_srv.port);
    h_set(fd, "s", "abc");
    h_cmd(fd, "incr s 1\r\n", "CLIENT_ERROR cannot increment or decrement non-numeric value\r\n");
    h_cmd(fd, "decr s 1\r\n", "CLIENT_ERROR cannot increment or decrement non-numeric value\r\n");
    h_set(fd, "n", "5");
    h_cmd(fd, "incr n abc\r\n", "CLIENT_ERROR invalid numeric delta argument\r\n");
    h_cmd(fd, "incr n -1\r\n", "CLIENT_ERROR invalid numeric delta argument\r\n");
    h_cmd(fd, "incr n 18446744073709551616\r\n", "CLIENT_ERROR invalid numeric delta argument\r\n");
    h_cmd(fd, "incr n\r\n", "ERROR\r\n");
    h_cmd(fd, "get n\r\n", "VALUE n 0 1\r\n5\r\nEND\r\n");
}

Test(cmd, delete_forms)
{
    int fd = h_connect(h_srv.port);
    h_cmd(fd, "delete k\r\n", "NOT_FOUND\r\n");
    h_set(fd, "k", "v");
    h_cmd(fd, "delete k\r\n", "DELETED\r\n");
    h_cmd(fd, "get k\r\n", "END\r\n");
    h_set(fd, "k", "v");
    /* The legacy time argument 0 is accepted; anything else is refused. */
    h_cmd(fd, "delete k 5\r\n", "CLIENT_ERROR bad command line format.  Usage: delete <key> [noreply]\r\n");
    h_cmd(fd, "delete k 0\r\n", "DELETED\r\n");
    h_set(fd, "k", "v");
    h_cmd(fd, "delete k noreply\r\n", "");
    h_cmd(fd, "get k\r\n", "END\r\n");
    h_cmd(fd, "delete\r\n", "ERROR\r\n");
}

Test(cmd, touch_gat_gats)
{
    int fd = h_connect(h_srv.port);
    h_cmd(fd, "touch k 10\r\n", "NOT_FOUND\r\n");
    h_cmd(fd, "set k 4 0 1\r\nv\r\n", "STORED\r\n");
    h_cmd(fd, "touch k 100\r\n", "TOUCHED\r\n");
    h_cmd(fd, "gat 100 k nosuch\r\n", "VALUE k 4 1\r\nv\r\nEND\r\n");
    uint64_t c;
    free(h_gets(fd, "k", &c));
    char exp[128];
    snprintf(exp, sizeof(exp), "VALUE k 4 1 %llu\r\nv\r\nEND\r\n", (unsigned long long)c);
    h_cmd(fd, "gats 0 k\r\n", exp);
    h_cmd(fd, "gat 0 nosuch\r\n", "END\r\n");
    h_cmd(fd, "touch k\r\n", "ERROR\r\n");
    h_cmd(fd, "gat\r\n", "ERROR\r\n");
    h_cmd(fd, "gat 10\r\n", "END\r\n");
    h_cmd(fd, "gat abc k\r\n", "CLIENT_ERROR invalid exptime argument\r\n");
    h_cmd(fd, "touch k 10 noreply\r\n", "");
    h_cmd(fd, "get k\r\n", "VALUE k 4 1\r\nv\r\nEND\r\n");
}

Test(cmd, touch_and_gat_set_expiry, .timeout = 30)
{
    int fd = h_connect(h_srv.port);
    h_set(fd, "t", "v");
    h_set(fd, "g", "v");
    h_cmd(fd, "touch t 1\r\n", "TOUCHED\r\n");
    h_cmd(fd, "gat 1 g\r\n", "VALUE g 0 1\r\nv\r\nEND\r\n");
    h_sleep_ms(2500);
    h_cmd(fd, "get t g\r\n", "END\r\n");
}

Test(cmd, expiry_relative, .timeout = 30)
{
    int fd = h_connect(h_srv.port);
    h_cmd(fd, "set e 0 1 1\r\nv\r\n", "STORED\r\n");
    h_cmd(fd, "set f 0 100 1\r\nw\r\n", "STORED\r\n");
    h_cmd(fd, "get e\r\n", "VALUE e 0 1\r\nv\r\nEND\r\n");
    h_sleep_ms(2500);
    h_cmd(fd, "get e f\r\n", "VALUE f 0 1\r\nw\r\nEND\r\n");
}

Test(cmd, expiry_negative_and_absolute_past)
{
    int fd = h_connect(h_srv.port);
    h_cmd(fd, "set n 0 -1 1\r\nv\r\n", "STORED\r\n");
    h_cmd(fd, "get n\r\n", "END\r\n");
    /* An absolute Unix time in the past (more than 30 days is absolute). */
    h_cmd(fd, "set p 0 1000000000 1\r\nv\r\n", "STORED\r\n");
    h_cmd(fd, "get p\r\n", "END\r\n");
    /* An absolute time in the future is kept. */
    char req[128];
    snprintf(req, sizeof(req), "set f 0 %lld 1\r\nv\r\n", (long long)time(NULL) + 3600);
    h_cmd(fd, req, "STORED\r\n");
    h_cmd(fd, "get f\r\n", "VALUE f 0 1\r\nv\r\nEND\r\n");
    h_set(fd, "t", "v");
    h_cmd(fd, "touch t -1\r\n", "TOUCHED\r\n");
    h_cmd(fd, "get t\r\n", "END\r\n");
}

Test(cmd, flush_all_forms)
{
    int fd = h_connect(h_srv.port);
    h_set(fd, "a", "1");
    h_cmd(fd, "flush_all\r\n", "OK\r\n");
    h_cmd(fd, "get a\r\n", "END\r\n");
    h_set(fd, "a", "1");
    h_cmd(fd, "flush_all 0\r\n", "OK\r\n");
    h_cmd(fd, "get a\r\n", "END\r\n");
    h_set(fd, "a", "1");
    h_cmd(fd, "flush_all noreply\r\n", "");
    h_cmd(fd, "get a\r\n", "END\r\n");
    h_set(fd, "a", "1");
    h_cmd(fd, "flush_all 0 noreply\r\n", "");
    h_cmd(fd, "get a\r\n", "END\r\n");
    /* Items stored after a flush are visible. */
    h_set(fd, "b", "2");
    h_cmd(fd, "get b\r\n", "VALUE b 0 1\r\n2\r\nEND\r\n");
    h_cmd(fd, "flush_all abc\r\n", "CLIENT_ERROR invalid exptime argument\r\n");
    h_cmd(fd, "flush_all 99999999999999999999\r\n", "CLIENT_ERROR invalid exptime argument\r\n");
    h_cmd(fd, "get b\r\n", "VALUE b 0 1\r\n2\r\nEND\r\n");
}

Test(cmd, flush_all_delayed, .timeout = 30)
{
    int fd = h_connect(h_srv.port);
    h_set(fd, "a", "1");
    h_cmd(fd, "flush_all 2\r\n", "OK\r\n");
    /* Not yet flushed. */
    h_cmd(fd, "get a\r\n", "VALUE a 0 1\r\n1\r\nEND\r\n");
    /* Poll: the item must disappear within a few seconds. */
    int64_t end = h_now_ms() + 5000;
    char *v;
    while ((v = h_get(fd, "a", NULL)) != NULL && h_now_ms() < end) {
        free(v);
        h_sleep_ms(100);
    }
    cr_assert_null(v, "item still present 5 s after flush_all 2");
}

Test(cmd, version_verbosity_quit)
{
    int fd = h_connect(h_srv.port);
    size_t len;
    h_sends(fd, "version\r\n");
    char *line = h_read_until(fd, "\r\n", &len);
    if (h_srv.memcached)
        cr_assert_str_eq(line, "VERSION 1.6.18\r\n");
    else
        cr_assert_str_eq(line, "VERSION 1.6.18-cairn-0.1.0\r\n");
    free(line);
    h_cmd(fd, "verbosity 1\r\n", "OK\r\n");
    h_cmd(fd, "verbosity 0 noreply\r\n", "");
    h_cmd(fd, "verbosity\r\n", "ERROR\r\n");
    h_sends(fd, "quit\r\nget a\r\n");
    cr_assert(h_is_closed(fd, 2000), "connection not closed after quit");
    /* quit with trailing tokens also closes. */
    fd = h_connect(h_srv.port);
    h_set(fd, "a", "1");
    h_sends(fd, "quit now\r\n");
    cr_assert(h_is_closed(fd, 2000), "connection not closed after quit now");
}

Test(cmd, noreply_everywhere)
{
    int fd = h_connect(h_srv.port);
    h_sends(fd, "set a 0 0 1 noreply\r\n1\r\n");
    h_sends(fd, "add a 0 0 1 noreply\r\n2\r\n");
    h_sends(fd, "add b 0 0 1 noreply\r\n2\r\n");
    h_sends(fd, "replace b 0 0 2 noreply\r\n22\r\n");
    h_sends(fd, "append b 0 0 1 noreply\r\n3\r\n");
    h_sends(fd, "prepend b 0 0 1 noreply\r\n1\r\n");
    h_sends(fd, "set n 0 0 2 noreply\r\n10\r\n");
    h_sends(fd, "incr n 5 noreply\r\n");
    h_sends(fd, "decr n 2 noreply\r\n");
    h_sends(fd, "touch n 100 noreply\r\n");
    h_sends(fd, "set d 0 0 1 noreply\r\nx\r\n");
    h_sends(fd, "delete d noreply\r\n");
    h_sends(fd, "delete nosuch noreply\r\n");
    h_sends(fd, "incr nosuch 1 noreply\r\n");
    h_sends(fd, "verbosity 0 noreply\r\n");
    h_cmd(fd, "get a b n d\r\n", "VALUE a 0 1\r\n1\r\nVALUE b 0 4\r\n1223\r\nVALUE n 0 2\r\n13\r\nEND\r\n");
    uint64_t c;
    free(h_gets(fd, "a", &c));
    char req[128];
    snprintf(req, sizeof(req), "cas a 0 0 1 %llu noreply\r\n9\r\n", (unsigned long long)c);
    h_sends(fd, req);
    h_cmd(fd, "get a\r\n", "VALUE a 0 1\r\n9\r\nEND\r\n");
    h_sends(fd, "flush_all noreply\r\n");
    h_cmd(fd, "get a\r\n", "END\r\n");
}

Test(cmd, noreply_suppresses_errors)
{
    int fd = h_connect(h_srv.port);
    /* memcached also keeps quiet about a failed incr and a bad data chunk under noreply; the
     * bytes after the value block are still parsed as a command line. */
    h_set(fd, "s", "abc");
    h_cmd(fd, "incr s 1 noreply\r\n", "");
    h_cmd(fd, "set n 0 0 1 noreply\r\nxy\r\n", "ERROR\r\n");
    h_cmd(fd, "get s n\r\n", "VALUE s 0 3\r\nabc\r\nEND\r\n");
}

Test(cmd, key_length_limits)
{
    int fd = h_connect(h_srv.port);
    char key[252];
    memset(key, 'k', 250);
    key[250] = '\0';
    char req[600], exp[600];
    snprintf(req, sizeof(req), "set %s 0 0 1\r\nx\r\n", key);
    h_cmd(fd, req, "STORED\r\n");
    snprintf(req, sizeof(req), "get %s\r\n", key);
    snprintf(exp, sizeof(exp), "VALUE %s 0 1\r\nx\r\nEND\r\n", key);
    h_cmd(fd, req, exp);
    memset(key, 'k', 251);
    key[251] = '\0';
    snprintf(req, sizeof(req), "set %s 0 0 1\r\nx\r\n", key);
    h_cmd(fd, req, "CLIENT_ERROR bad command line format\r\nERROR\r\n");
    snprintf(req, sizeof(req), "get %s\r\n", key);
    h_cmd(fd, req, "CLIENT_ERROR bad command line format\r\n");
    snprintf(req, sizeof(req), "delete %s\r\n", key);
    h_cmd(fd, req, "CLIENT_ERROR bad command line format\r\n");
    snprintf(req, sizeof(req), "incr %s 1\r\n", key);
    h_cmd(fd, req, "CLIENT_ERROR bad command line format\r\n");
    snprintf(req, sizeof(req), "touch %s 1\r\n", key);
    h_cmd(fd, req, "CLIENT_ERROR bad command line format\r\n");
    h_cmd(fd, "version\r\n", h_srv.memcached ? "VERSION 1.6.18\r\n" : "VERSION 1.6.18-cairn-0.1.0\r\n");
}

Test(cmd, flags_limits)
{
    int fd = h_connect(h_srv.port);
    h_cmd(fd, "set a 4294967295 0 1\r\nx\r\n", "STORED\r\n");
    h_cmd(fd, "get a\r\n", "VALUE a 4294967295 1\r\nx\r\nEND\r\n");
    h_cmd(fd, "set b -1 0 1\r\nx\r\n", "CLIENT_ERROR bad command line format\r\nERROR\r\n");
    h_cmd(fd, "set b abc 0 1\r\nx\r\n", "CLIENT_ERROR bad command line format\r\nERROR\r\n");
    h_cmd(fd, "get b\r\n", "END\r\n");
    h_cmd(fd, "set b 18446744073709551616 0 1\r\nx\r\n", "CLIENT_ERROR bad command line format\r\nERROR\r\n");
}

Test(cmd, flags_over_32_bits_truncate)
{
    /* memcached 1.6.18 parses flags as a 64-bit number and keeps the low 32 bits. */
    int fd = h_connect(h_srv.port);
    h_cmd(fd, "set b 4294967296 0 1\r\nx\r\n", "STORED\r\n");
    h_cmd(fd, "set c 4294967301 0 1\r\nx\r\n", "STORED\r\n");
    h_cmd(fd, "get b c\r\n", "VALUE b 0 1\r\nx\r\nVALUE c 5 1\r\nx\r\nEND\r\n");
}

Test(cmd, binary_safe_values)
{
    int fd = h_connect(h_srv.port);
    static const char val[] = "a\r\nb\0c\r\n\r\nEND\r\n\xff\x80";
    size_t vlen = sizeof(val) - 1;
    char req[128];
    int n = snprintf(req, sizeof(req), "set bin 0 0 %zu\r\n", vlen);
    h_send(fd, req, (size_t)n);
    h_send(fd, val, vlen);
    h_send(fd, "\r\n", 2);
    h_expect(fd, "STORED\r\n");
    h_sends(fd, "get bin\r\n");
    char exp[128];
    n = snprintf(exp, sizeof(exp), "VALUE bin 0 %zu\r\n", vlen);
    memcpy(exp + n, val, vlen);
    memcpy(exp + n + vlen, "\r\nEND\r\n", 7);
    h_expectn(fd, exp, (size_t)n + vlen + 7);
}

Test(cmd, bad_data_chunk)
{
    int fd = h_connect(h_srv.port);
    h_set(fd, "k", "old");
    /* The value block is longer than announced: the item is not stored, the rest is a command. */
    h_cmd(fd, "set k 0 0 1\r\nxyz\r\n", "CLIENT_ERROR bad data chunk\r\nERROR\r\n");
    h_cmd(fd, "get k\r\n", "VALUE k 0 3\r\nold\r\nEND\r\n");
    h_cmd(fd, "set k 0 0 1\r\nx\rget k\r\n", "CLIENT_ERROR bad data chunk\r\nERROR\r\n");
    h_cmd(fd, "get k\r\n", "VALUE k 0 3\r\nold\r\nEND\r\n");
}

Test(cmd, bad_command_lines)
{
    int fd = h_connect(h_srv.port);
    h_cmd(fd, "set a 0 0 -1\r\n", "CLIENT_ERROR bad command line format\r\n");
    h_cmd(fd, "set a 0 0 abc\r\n", "CLIENT_ERROR bad command line format\r\n");
    h_cmd(fd, "set a 0 0 99999999999999999999\r\n", "CLIENT_ERROR bad command line format\r\n");
    h_cmd(fd, "set a 0 0\r\n", "ERROR\r\n");
    h_cmd(fd, "set a 0 abc 1\r\nx\r\n", "CLIENT_ERROR bad command line format\r\nERROR\r\n");
    h_cmd(fd, "get\r\n", "ERROR\r\n");
    h_cmd(fd, "gets\r\n", "ERROR\r\n");
    h_cmd(fd, "foo\r\n", "ERROR\r\n");
    h_cmd(fd, "\r\n", "ERROR\r\n");
    h_cmd(fd, "SET a 0 0 1\r\n", "ERROR\r\n");
    h_cmd(fd, "set  a  0 0 1\r\nx\r\n", "STORED\r\n");
    h_cmd(fd, "get a\r\n", "VALUE a 0 1\r\nx\r\nEND\r\n");
}

Test(cmd, item_size_limit)
{
    int fd = h_connect(h_srv.port);
    h_set(fd, "small", "ok");
    /* Default -I is 1 MiB: 1 MiB minus overhead fits, 2 MB does not. */
    size_t big = 2000000;
    char *buf = malloc(big);
    cr_assert(buf != NULL);
    memset(buf, 'x', big);
    char req[128];
    snprintf(req, sizeof(req), "set big 0 0 %zu\r\n", big);
    h_sends(fd, req);
    h_send(fd, buf, big);
    h_sends(fd, "\r\n");
    h_expect(fd, "SERVER_ERROR object too large for cache\r\n");
    /* The connection is still in step: the value bytes were swallowed. */
    h_cmd(fd, "get big small\r\n", "VALUE small 0 2\r\nok\r\nEND\r\n");
    size_t fits = 1000 * 1000;
    snprintf(req, sizeof(req), "set fits 0 0 %zu\r\n", fits);
    h_sends(fd, req);
    h_send(fd, buf, fits);
    h_sends(fd, "\r\n");
    h_expect(fd, "STORED\r\n");
    h_sends(fd, "get fits\r\n");
    size_t len;
    char *resp = h_read_until(fd, "END\r\n", &len);
    cr_assert_eq(len, strlen("VALUE fits 0 1000000\r\n") + fits + 7);
    free(resp);
    free(buf);
}

Test(cmd, stats_counters_move)
{
    int fd = h_connect(h_srv.port);
    uint64_t get0 = h_stat(fd, "cmd_get"), set0 = h_stat(fd, "cmd_set");
    uint64_t hits0 = h_stat(fd, "get_hits"), miss0 = h_stat(fd, "get_misses");
    uint64_t total0 = h_stat(fd, "total_items");
    cr_assert_eq(h_stat(fd, "curr_items"), 0);
    h_set(fd, "a", "1");
    h_set(fd, "b", "2");
    h_cmd(fd, "get a b c\r\n", "VALUE a 0 1\r\n1\r\nVALUE b 0 1\r\n2\r\nEND\r\n");
    cr_assert_eq(h_stat(fd, "cmd_get"), get0 + 3);
    cr_assert_eq(h_stat(fd, "get_hits"), hits0 + 2);
    cr_assert_eq(h_stat(fd, "get_misses"), miss0 + 1);
    cr_assert_eq(h_stat(fd, "cmd_set"), set0 + 2);
    cr_assert_eq(h_stat(fd, "curr_items"), 2);
    cr_assert_eq(h_stat(fd, "total_items"), total0 + 2);
    h_cmd(fd, "delete a\r\n", "DELETED\r\n");
    h_cmd(fd, "delete a\r\n", "NOT_FOUND\r\n");
    cr_assert_eq(h_stat(fd, "curr_items"), 1);
    cr_assert_eq(h_stat(fd, "delete_hits"), 1);
    cr_assert_eq(h_stat(fd, "delete_misses"), 1);
    h_set(fd, "n", "1");
    h_cmd(fd, "incr n 1\r\n", "2\r\n");
    h_cmd(fd, "incr x 1\r\n", "NOT_FOUND\r\n");
    h_cmd(fd, "decr n 1\r\n", "1\r\n");
    cr_assert_eq(h_stat(fd, "incr_hits"), 1);
    cr_assert_eq(h_stat(fd, "incr_misses"), 1);
    cr_assert_eq(h_stat(fd, "decr_hits"), 1);
    h_cmd(fd, "touch n 0\r\n", "TOUCHED\r\n");
    cr_assert_eq(h_stat(fd, "touch_hits"), 1);
    cr_assert_eq(h_stat(fd, "cmd_touch"), 1);
    /* curr_connections drops by one when a client leaves (the server notices the close). */
    int fd2 = h_connect(h_srv.port);
    h_cmd(fd2, "version\r\n", h_srv.memcached ? "VERSION 1.6.18\r\n" : "VERSION 1.6.18-cairn-0.1.0\r\n");
    uint64_t conns = h_stat(fd, "curr_connections");
    cr_assert_geq(conns, 2);
    close(fd2);
    int64_t end = h_now_ms() + 3000;
    while (h_stat(fd, "curr_connections") != conns - 1 && h_now_ms() < end)
        h_sleep_ms(10);
    cr_assert_eq(h_stat(fd, "curr_connections"), conns - 1);
    uint64_t bytes_read = h_stat(fd, "bytes_read");
    cr_assert_gt(bytes_read, 0);
    cr_assert_gt(h_stat(fd, "bytes_written"), 0);
    cr_assert_gt(h_stat(fd, "total_connections"), 1);
    cr_assert_eq(h_stat(fd, "threads"), 4);
    cr_assert_eq(h_stat(fd, "limit_maxbytes"), 64ull * 1024 * 1024);
    cr_assert_gt(h_stat(fd, "pid"), 0);
    h_cmd(fd, "flush_all\r\n", "OK\r\n");
    cr_assert_eq(h_stat(fd, "cmd_flush"), 1);
}

Test(cmd, stats_fields_present)
{
    int fd = h_connect(h_srv.port);
    char *s = h_stats_raw(fd, NULL);
    static const char *const names[] = {"pid",
                                        "uptime",
                                        "time",
                                        "version",
                                        "pointer_size",
                                        "curr_connections",
                                        "total_connections",
                                        "cmd_get",
                                        "cmd_set",
                                        "cmd_flush",
                                        "cmd_touch",
                                        "get_hits",
                                        "get_misses",
                                        "get_expired",
                                        "get_flushed",
                                        "delete_misses",
                                        "delete_hits",
                                        "incr_misses",
                                        "incr_hits",
                                        "decr_misses",
                                        "decr_hits",
                                        "cas_misses",
                                        "cas_hits",
                                        "cas_badval",
                                        "touch_hits",
                                        "touch_misses",
                                        "bytes_read",
                                        "bytes_written",
                                        "limit_maxbytes",
                                        "threads",
                                        "bytes",
                                        "curr_items",
                                        "total_items",
                                        "evictions",
                                        "reclaimed",
                                        NULL};
    char val[128];
    for (size_t i = 0; names[i] != NULL; i++)
        cr_expect(h_stat_find(s, names[i], val, sizeof(val)), "stats lacks %s", names[i]);
    /* Every line is "STAT name value". */
    for (char *p = s; strncmp(p, "END\r\n", 5) != 0;) {
        cr_assert(strncmp(p, "STAT ", 5) == 0, "bad stats line at \"%.60s\"", p);
        p = strstr(p, "\r\n");
        cr_assert_not_null(p);
        p += 2;
    }
    cr_assert(h_stat_find(s, "time", val, sizeof(val)));
    long long t = atoll(val), now = (long long)time(NULL);
    cr_assert(t >= now - 5 && t <= now + 5, "stats time %lld vs now %lld", t, now);
    free(s);
}

Test(cmd, stats_groups)
{
    int fd = h_connect(h_srv.port);
    h_set(fd, "a", "1");
    char val[128];
    char *s = h_stats_raw(fd, "settings");
    cr_expect(h_stat_find(s, "maxbytes", val, sizeof(val)) && strcmp(val, "67108864") == 0);
    cr_expect(h_stat_find(s, "maxconns", val, sizeof(val)));
    cr_expect(h_stat_find(s, "tcpport", val, sizeof(val)) && atoi(val) == h_srv.port);
    cr_expect(h_stat_find(s, "num_threads", val, sizeof(val)) && strcmp(val, "4") == 0);
    cr_expect(h_stat_find(s, "item_size_max", val, sizeof(val)) && strcmp(val, "1048576") == 0);
    cr_expect(h_stat_find(s, "growth_factor", val, sizeof(val)) && strcmp(val, "1.25") == 0);
    free(s);
    s = h_stats_raw(fd, "items");
    cr_expect(strstr(s, "STAT items:") != NULL && strstr(s, ":number 1\r\n") != NULL,
              "stats items: \"%.300s\"", s);
    free(s);
    s = h_stats_raw(fd, "slabs");
    cr_expect(strstr(s, "STAT active_slabs ") != NULL, "stats slabs: \"%.300s\"", s);
    cr_expect(strstr(s, "STAT total_malloced ") != NULL);
    cr_expect(strstr(s, ":chunk_size ") != NULL);
    free(s);
    s = h_stats_raw(fd, "conns");
    cr_expect(strstr(s, ":addr ") != NULL && strstr(s, ":state ") != NULL, "stats conns: \"%.300s\"", s);
    free(s);
    h_cmd(fd, "get a\r\n", "VALUE a 0 1\r\n1\r\nEND\r\n");
    cr_assert_eq(h_stat(fd, "get_hits"), 1);
    h_cmd(fd, "stats reset\r\n", "RESET\r\n");
    cr_assert_eq(h_stat(fd, "get_hits"), 0);
    cr_assert_eq(h_stat(fd, "cmd_get"), 0);
    /* reset keeps the items. */
    cr_assert_eq(h_stat(fd, "curr_items"), 1);
    h_cmd(fd, "stats nosuchgroup\r\n", "ERROR\r\n");
}

Test(cmd, shutdown_refused_without_A)
{
    int fd = h_connect(h_srv.port);
    h_cmd(fd, "shutdown\r\n", "ERROR: shutdown not enabled\r\n");
    h_cmd(fd, "get a\r\n", "END\r\n");
}

Test(cmd, flush_all_items_reclaimed)
{
    /* Flushed items are reclaimed in the background without being fetched: curr_items falls to
     * 0 within a few seconds of flush_all. */
    int fd = h_connect(h_srv.port);
    h_set(fd, "a", "1");
    h_set(fd, "b", "2");
    h_set(fd, "c", "3");
    cr_assert_eq(h_stat(fd, "curr_items"), 3);
    h_cmd(fd, "flush_all\r\n", "OK\r\n");
    int64_t end = h_now_ms() + 5000;
    while (h_stat(fd, "curr_items") != 0 && h_now_ms() < end)
        h_sleep_ms(50);
    cr_assert_eq(h_stat(fd, "curr_items"), 0, "flushed items still counted 5 s after flush_all");
    h_set(fd, "d", "4");
    cr_assert_eq(h_stat(fd, "curr_items"), 1);
    cr_assert_eq(h_stat(fd, "total_items"), 4);
}

Test(cmd, cas_unique_changes_on_incr_not_on_touch)
{
    int fd = h_connect(h_srv.port);
    h_set(fd, "a", "1");
    uint64_t c1, c2, c3, c4;
    free(h_gets(fd, "a", &c1));
    h_cmd(fd, "incr a 1\r\n", "2\r\n");
    free(h_gets(fd, "a", &c2));
    cr_assert_neq(c1, c2, "incr kept the CAS unique");
    h_cmd(fd, "touch a 100\r\n", "TOUCHED\r\n");
    free(h_gets(fd, "a", &c3));
    cr_assert_eq(c2, c3, "touch changed the CAS unique");
    h_cmd(fd, "gat 100 a\r\n", "VALUE a 0 1\r\n2\r\nEND\r\n");
    free(h_gets(fd, "a", &c4));
    cr_assert_eq(c3, c4, "gat changed the CAS unique");
}

/* incr and decr write a result that fits over the old value, padded with spaces to its length,
 * keeping the flags and giving a new CAS unique; a longer one is exactly its digits. A pipelined
 * get's reply is written before the incr runs, so it shows the old value. (An item is read at most
 * once before each incr: memcached's second read of an item may queue it for its LRU thread, which
 * holds a reference for up to a second.) */
Test(cmd, incr_in_place_pads_and_keeps_flags)
{
    int fd = h_connect(h_srv.port);
    uint64_t c1, c2;
    h_cmd(fd, "set k 9 0 5\r\n  5  \r\n", "STORED\r\n");
    free(h_gets(fd, "k", &c1));
    h_cmd(fd, "incr k 1\r\ndecr k 7\r\n", "6\r\n0\r\n");
    char *v = h_gets(fd, "k", &c2);
    cr_assert_str_eq(v, "0    ");
    free(v);
    cr_assert_neq(c1, c2, "a new CAS unique");
    h_cmd(fd, "incr k 123456\r\ndecr k 123450\r\nget k\r\n",
          "123456\r\n6\r\nVALUE k 9 6\r\n6     \r\nEND\r\n");
    h_cmd(fd, "set m 3 0 3\r\n100\r\nget m\r\ndecr m 1\r\nget m\r\n",
          "STORED\r\nVALUE m 3 3\r\n100\r\nEND\r\n99\r\nVALUE m 3 3\r\n99 \r\nEND\r\n");
    close(fd);
}

/* Stores key = "100" padded with spaces to n bytes, flags 7. */
static void set_padded_number(int fd, const char *key, size_t n)
{
    char *req = malloc(n + 64);
    int h = snprintf(req, 64, "set %s 7 0 %zu\r\n", key, n);
    memset(req + h, ' ', n);
    memcpy(req + h, "100", 3);
    memcpy(req + h + n, "\r\n", 2);
    h_send(fd, req, (size_t)h + n + 2);
    h_expect(fd, "STORED\r\n");
    free(req);
}

/* memcached stores an item over 512 KiB in chunks and refuses to increment it, whatever it holds
 * (ma before comparing its CAS). For key "k" and flags 7 that is a value over 524224 bytes. */
Test(cmd, incr_refuses_a_value_memcached_stores_in_chunks)
{
    int fd = h_connect(h_srv.port);
    set_padded_number(fd, "k", 524224);
    h_cmd(fd, "decr k 1\r\n", "99\r\n");
    set_padded_number(fd, "k", 524225);
    h_cmd(fd, "decr k 1\r\n", "CLIENT_ERROR cannot increment or decrement non-numeric value\r\n");
    h_cmd(fd, "ma k C1\r\n", "CLIENT_ERROR cannot increment or decrement non-numeric value\r\n");
    close(fd);
}

Test(cmd, cas_and_touch_counters)
{
    int fd = h_connect(h_srv.port);
    h_cmd(fd, "cas nope 0 0 1 1\r\n1\r\n", "NOT_FOUND\r\n");
    h_set(fd, "x", "1");
    h_cmd(fd, "cas x 0 0 1 999999\r\n1\r\n", "EXISTS\r\n");
    uint64_t c;
    free(h_gets(fd, "x", &c));
    char req[64];
    snprintf(req, sizeof(req), "cas x 0 0 1 %llu\r\n2\r\n", (unsigned long long)c);
    h_cmd(fd, req, "STORED\r\n");
    h_cmd(fd, "touch nope 1\r\n", "NOT_FOUND\r\n");
    cr_assert_eq(h_stat(fd, "cas_misses"), 1);
    cr_assert_eq(h_stat(fd, "cas_badval"), 1);
    cr_assert_eq(h_stat(fd, "cas_hits"), 1);
    cr_assert_eq(h_stat(fd, "touch_misses"), 1);
    cr_assert_eq(h_stat(fd, "cmd_touch"), 1);
}

Test(cmd, touch_extends_life)
{
    int fd = h_connect(h_srv.port);
    h_cmd(fd, "set t 0 1 1\r\n1\r\n", "STORED\r\n");
    h_cmd(fd, "touch t 100\r\n", "TOUCHED\r\n");
    h_sleep_ms(2200);
    h_cmd(fd, "get t\r\n", "VALUE t 0 1\r\n1\r\nEND\r\n");
}

Test(cmd, flush_all_delayed_covers_items_stored_before_deadline)
{
    /* Items stored after `flush_all 2` but before its deadline are flushed too. */
    int fd = h_connect(h_srv.port);
    h_set(fd, "a", "1");
    h_cmd(fd, "flush_all 2\r\n", "OK\r\n");
    h_set(fd, "b", "2");
    h_cmd(fd, "get a b\r\n", "VALUE a 0 1\r\n1\r\nVALUE b 0 1\r\n2\r\nEND\r\n");
    h_sleep_ms(3200);
    h_cmd(fd, "get a b\r\n", "END\r\n");
    h_set(fd, "c", "3");
    h_cmd(fd, "get c\r\n", "VALUE c 0 1\r\n3\r\nEND\r\n");
}

Test(cmd, append_past_item_size_limit)
{
    /* Each piece fits under -I, the result does not: memcached answers NOT_STORED and keeps the
     * old value. */
    int fd = h_connect(h_srv.port);
    size_t n = 1000000;
    char *v = malloc(n);
    memset(v, 'x', n);
    char hdr[64];
    snprintf(hdr, sizeof(hdr), "set a 0 0 %zu\r\n", n);
    h_sends(fd, hdr);
    h_send(fd, v, n);
    h_sends(fd, "\r\n");
    h_expect(fd, "STORED\r\n");
    h_sends(fd, "append a 0 0 100000\r\n");
    h_send(fd, v, 100000);
    h_sends(fd, "\r\n");
    h_expect(fd, "NOT_STORED\r\n");
    h_sends(fd, "prepend a 0 0 48000\r\n");
    h_send(fd, v, 48000);
    h_sends(fd, "\r\n");
    h_expect(fd, "STORED\r\n");
    h_sends(fd, "prepend a 0 0 48600\r\n");
    h_send(fd, v, 48600);
    h_sends(fd, "\r\n");
    h_expect(fd, "NOT_STORED\r\n");
    h_sends(fd, "get a\r\n");
    size_t len;
    char *r = h_read_until(fd, "END\r\n", &len);
    cr_assert_eq(len, strlen("VALUE a 0 1048000\r\n") + 1048000 + 7);
    free(r);
    free(v);
}

/* Store a value of n bytes under key; return the first answer line (malloc'd). */
static char *store_n(int fd, const char *key, size_t n)
{
    char *v = malloc(n);
    memset(v, 's', n);
    char hdr[320];
    snprintf(hdr, sizeof(hdr), "set %s 0 0 %zu\r\n", key, n);
    h_sends(fd, hdr);
    h_send(fd, v, n);
    h_sends(fd, "\r\n");
    free(v);
    return h_read_line(fd);
}

Test(cmd, item_size_boundary)
{
    /* memcached 1.6.18 counts an item as a 48-byte header, the key and a NUL, the value and its
     * CRLF, and an 8-byte CAS: with -I 1m (1048576) a 1-byte key takes a value of 1048516 bytes
     * and no more; a 250-byte key takes 1048267. Clients near the limit see the same answers. */
    int fd = h_connect(h_srv.port);
    char key[251];
    memset(key, 'k', 250);
    key[250] = '\0';
    struct {
        const char *key;
        size_t fits;
    } cases[] = {{"k", 1048516}, {key, 1048267}};
    for (size_t i = 0; i < 2; i++) {
        char *l = store_n(fd, cases[i].key, cases[i].fits);
        cr_expect_str_eq(l, "STORED\r\n", "%zu-byte key, %zu-byte value", strlen(cases[i].key),
                         cases[i].fits);
        free(l);
        l = store_n(fd, cases[i].key, cases[i].fits + 1);
        cr_expect_str_eq(l, "SERVER_ERROR object too large for cache\r\n", "%zu-byte key, %zu-byte value",
                         strlen(cases[i].key), cases[i].fits + 1);
        free(l);
    }
    h_cmd(fd, "get nosuch\r\n", "END\r\n");
}

/* Sends "<cmd> <key> <flags> 0 <n>" with n bytes of 'v' and checks the one-line answer. */
static void store_nv(int fd, const char *cmd, const char *key, unsigned flags, size_t n, const char *exp)
{
    char line[128];
    char *buf = malloc(n + 2);

    cr_assert_not_null(buf);
    snprintf(line, sizeof(line), "%s %s %u 0 %zu\r\n", cmd, key, flags, n);
    memset(buf, 'v', n);
    memcpy(buf + n, "\r\n", 2);
    h_sends(fd, line);
    h_send(fd, buf, n + 2);
    free(buf);
    h_expect(fd, exp);
}

/* memcached's -I accounting: 48-byte header + 8 CAS + key + NUL + value + CRLF, and 4 more bytes when
 * the flags are not 0 (1 MiB default: the largest value with a 3-byte key is 1,048,514 bytes with
 * flags 0, 1,048,510 with flags). */
Test(cmd, item_limit_counts_nonzero_flags)
{
    int fd = h_connect(h_srv.port);
    store_nv(fd, "set", "big", 0, 1048514, "STORED\r\n");
    store_nv(fd, "set", "big", 0, 1048515, "SERVER_ERROR object too large for cache\r\n");
    store_nv(fd, "set", "bfl", 1, 1048510, "STORED\r\n");
    store_nv(fd, "set", "bfl", 1, 1048511, "SERVER_ERROR object too large for cache\r\n");
    h_cmd(fd, "get bfl\r\n", "END\r\n"); /* a failed set drops the old value, as memcached */
}

/* An append whose result would pass -I is NOT_STORED and the old value stays. */
Test(cmd, append_past_item_limit_not_stored)
{
    int fd = h_connect(h_srv.port);
    store_nv(fd, "set", "big", 0, 1048504, "STORED\r\n");
    store_nv(fd, "append", "big", 0, 20, "NOT_STORED\r\n");
    store_nv(fd, "prepend", "big", 0, 20, "NOT_STORED\r\n");
    store_nv(fd, "append", "big", 0, 10, "STORED\r\n"); /* exactly at the limit */
    char *v = h_get(fd, "big", NULL);
    cr_assert_not_null(v);
    cr_assert_eq(strlen(v), 1048514);
    free(v);
    /* with flags on the old item its 4 bytes count too */
    store_nv(fd, "set", "flg", 7, 1048500, "STORED\r\n");
    store_nv(fd, "append", "flg", 0, 11, "NOT_STORED\r\n");
    store_nv(fd, "append", "flg", 0, 10, "STORED\r\n");
}

/* flush_all at an absolute time before the server started flushes nothing and forgets a flush that
 * is pending (memcached: oldest_live 0); one at a past time after the start flushes everything. */
Test(cmd, flush_all_absolute_past)
{
    int fd = h_connect(h_srv.port);
    h_cmd(fd, "set a 0 0 1\r\n1\r\n", "STORED\r\n");
    h_cmd(fd, "flush_all 1000000000\r\n", "OK\r\n");
    h_cmd(fd, "get a\r\n", "VALUE a 0 1\r\n1\r\nEND\r\n");
    h_cmd(fd, "flush_all 100\r\n", "OK\r\n");
    h_cmd(fd, "flush_all 1000000000\r\n", "OK\r\n");
    h_cmd(fd, "get a\r\n", "VALUE a 0 1\r\n1\r\nEND\r\n");
    char line[64];
    snprintf(line, sizeof(line), "flush_all %lld\r\n", (long long)time(NULL) - 1);
    h_cmd(fd, line, "OK\r\n");
    h_cmd(fd, "get a\r\n", "END\r\n");
}

/* A cas with unique 0 on an existing key is EXISTS, also under -C, where items carry no unique
 * (memcached: a zero unique is CAS_NONE, which never matches). */
Test(cmd_nocas, cas_zero_unique_is_exists, .fini = h_teardown)
{
    const char *const extra[] = {"-C", NULL};
    h_server_start(&h_srv, extra);
    int fd = h_connect(h_srv.port);
    h_cmd(fd, "set k 0 0 1\r\na\r\n", "STORED\r\n");
    h_cmd(fd, "cas k 0 0 1 0\r\nb\r\n", "EXISTS\r\n");
    h_cmd(fd, "gets k\r\n", "VALUE k 0 1 0\r\na\r\nEND\r\n");
    h_cmd(fd, "cas nokey 0 0 1 0\r\nb\r\n", "NOT_FOUND\r\n");
}
