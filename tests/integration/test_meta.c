/*
 * test_meta.c: the meta commands over TCP against the real binary: every mg flag on a hit and a miss,
 * ms modes and value blocks (large, refused, split into one-byte sends), quiet pipelines closed by
 * mn, stale-while-revalidate and recache tokens seen by several clients at once, meta and classic
 * commands sharing items, and the stats counters each meta command moves.
 *
 * CAS uniques and TTLs are read from the server and compared, never assumed, so the suite also
 * passes against memcached 1.6.18 (CAIRN_TEST_TARGET=memcached), which is how it was checked.
 */
#include "config.h"

#include "tests/integration/harness.h"

#include <criterion/criterion.h>
#include <errno.h>
#include <inttypes.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/socket.h>
#include <unistd.h>

TestSuite(meta, .init = h_setup, .fini = h_teardown, .timeout = 60);

/* The CAS unique of key, read with `mg <key> c` (0 when missing). */
static uint64_t meta_cas(int fd, const char *key)
{
    char req[300];
    snprintf(req, sizeof(req), "mg %s c\r\n", key);
    h_sends(fd, req);
    char *line = h_read_line(fd);
    unsigned long long cas = 0;
    if (strncmp(line, "HD c", 4) == 0)
        cas = strtoull(line + 4, NULL, 10);
    free(line);
    return cas;
}

/* The reply line to req (one line expected). malloc'd. */
static char *meta_line(int fd, const char *req)
{
    h_sends(fd, req);
    return h_read_line(fd);
}

Test(meta, mn_and_simple_hit_miss)
{
    int fd = h_connect(h_srv.port);
    h_cmd(fd, "mn\r\n", "MN\r\n");
    h_cmd(fd, "mg a v\r\n", "EN\r\n");
    h_cmd(fd, "ms a 2\r\nhi\r\n", "HD\r\n");
    h_cmd(fd, "mg a\r\n", "HD\r\n");
    h_cmd(fd, "mg a v\r\n", "VA 2\r\nhi\r\n");
    h_cmd(fd, "mg a k v\r\n", "VA 2 ka\r\nhi\r\n");
    h_cmd(fd, "mg b k O99 v\r\n", "EN kb O99\r\n");
    close(fd);
}

Test(meta, every_mg_flag_on_a_hit)
{
    int fd = h_connect(h_srv.port);
    h_cmd(fd, "ms a 5 F77 T0\r\nhello\r\n", "HD\r\n");
    uint64_t cas = meta_cas(fd, "a");
    cr_assert_neq(cas, 0);
    char exp[200];
    /* meta_cas fetched the item: h1; l0 (same second, usually; allow l1 below). */
    snprintf(exp, sizeof(exp), "VA 5 s5 f77 t-1 ka Oab c%" PRIu64 " h1", cas);
    char *line = meta_line(fd, "mg a s v f t k Oab c h l\r\n");
    cr_assert(strncmp(line, exp, strlen(exp)) == 0, "got %s, want %s l0|l1", line, exp);
    cr_assert(strcmp(line + strlen(exp), " l0\r\n") == 0 || strcmp(line + strlen(exp), " l1\r\n") == 0, "%s",
              line);
    free(line);
    h_expect(fd, "hello\r\n");
    /* u: no access marked, so h stays as it was: a fresh item reads h0 after mg u. */
    h_cmd(fd, "ms b 1\r\nx\r\n", "HD\r\n");
    h_cmd(fd, "mg b u\r\n", "HD\r\n");
    h_cmd(fd, "mg b h\r\n", "HD h0\r\n");
    h_cmd(fd, "mg b h\r\n", "HD h1\r\n");
    /* q hides only EN. */
    h_cmd(fd, "mg b q\r\nmg nope q v\r\nmn\r\n", "HD\r\nMN\r\n");
    close(fd);
}

Test(meta, ttl_flags_apply_in_line_order)
{
    int fd = h_connect(h_srv.port);
    h_cmd(fd, "ms a 1 T1000\r\n1\r\n", "HD\r\n");
    char *line = meta_line(fd, "mg a t T500\r\n");
    cr_assert(strcmp(line, "HD t1000\r\n") == 0 || strcmp(line, "HD t999\r\n") == 0, "t before T: %s", line);
    free(line);
    line = meta_line(fd, "mg a t\r\n");
    cr_assert(strcmp(line, "HD t500\r\n") == 0 || strcmp(line, "HD t499\r\n") == 0, "%s", line);
    free(line);
    h_cmd(fd, "mg a T400 t\r\n", "HD t400\r\n");
    h_cmd(fd, "mg a T0 t\r\n", "HD t-1\r\n");
    h_cmd(fd, "mg a T-1\r\nmg a\r\n", "HD\r\nEN\r\n");
    close(fd);
}

Test(meta, ms_modes_and_cas)
{
    int fd = h_connect(h_srv.port);
    h_cmd(fd, "ms a 1 MR\r\n1\r\n", "NS\r\n");
    h_cmd(fd, "ms a 1 ME\r\n1\r\n", "HD\r\n");
    h_cmd(fd, "ms a 1 ME\r\n2\r\n", "NS\r\n");
    h_cmd(fd, "ms a 1 MA\r\n2\r\n", "HD\r\n");
    h_cmd(fd, "ms a 1 MP\r\n0\r\n", "HD\r\n");
    h_cmd(fd, "ms a 1 MS\r\n9\r\nmg a v\r\n", "HD\r\nVA 1\r\n9\r\n");
    uint64_t cas = meta_cas(fd, "a");
    char req[200], exp[200];
    snprintf(req, sizeof(req), "ms a 1 C%" PRIu64 "\r\nx\r\n", cas + 1000);
    h_cmd(fd, req, "EX\r\n");
    snprintf(req, sizeof(req), "ms a 1 C%" PRIu64 " c k\r\nx\r\n", cas);
    char *line = meta_line(fd, req);
    uint64_t ncas = meta_cas(fd, "a");
    snprintf(exp, sizeof(exp), "HD c%" PRIu64 " ka\r\n", ncas);
    cr_assert_str_eq(line, exp);
    free(line);
    cr_assert_gt(ncas, cas);
    h_cmd(fd, "ms nope 1 C5\r\n1\r\n", "NF\r\n");
    h_cmd(fd, "ms a 1 C0\r\n1\r\n", "EX\r\n");
    /* Append with a CAS check. */
    snprintf(req, sizeof(req), "ms a 1 MA C%" PRIu64 "\r\nz\r\n", ncas + 1);
    h_cmd(fd, req, "EX\r\n");
    snprintf(req, sizeof(req), "ms a 1 MA C%" PRIu64 "\r\nz\r\nmg a v\r\n", ncas);
    h_cmd(fd, req, "HD\r\nVA 2\r\nxz\r\n");
    close(fd);
}

Test(meta, errors_and_swallowing)
{
    int fd = h_connect(h_srv.port);
    h_cmd(fd, "ms a 2 zz\r\nhi\r\nmn\r\n", "CLIENT_ERROR invalid flag\r\nMN\r\n");
    h_cmd(fd, "ms a 2 MX\r\nhi\r\nmn\r\n", "CLIENT_ERROR invalid mode for ms M token\r\nMN\r\n");
    h_cmd(fd, "ms a abc\r\nmn\r\n", "CLIENT_ERROR bad command line format\r\nMN\r\n");
    h_cmd(fd, "ms a 2\r\nhiXX\r\nmn\r\n", "CLIENT_ERROR bad data chunk\r\nERROR\r\nMN\r\n");
    h_cmd(fd, "mg a v v\r\n", "CLIENT_ERROR duplicate flag\r\n");
    h_cmd(fd, "md a x\r\n", "CLIENT_ERROR invalid or duplicate flag\r\n");
    h_cmd(fd, "ma a MX\r\n", "CLIENT_ERROR invalid mode for ma M token\r\n");
    h_cmd(fd, "mg\r\nmd\r\nma\r\nms\r\n", "ERROR\r\nERROR\r\nERROR\r\nERROR\r\n");
    /* Errors are never quiet. */
    h_cmd(fd, "mg a q x\r\nmn\r\n", "CLIENT_ERROR invalid flag\r\nMN\r\n");
    /* A value over -I is refused after it has been swallowed; the old value is gone. */
    h_cmd(fd, "ms big 1\r\n1\r\n", "HD\r\n");
    size_t n = 2 * 1024 * 1024;
    char *v = malloc(n + 64);
    int hl = snprintf(v, 64, "ms big %zu\r\n", n);
    memset(v + hl, 'x', n);
    memcpy(v + hl + n, "\r\nmn\r\n", 6);
    h_send(fd, v, (size_t)hl + n + 6);
    h_expect(fd, "SERVER_ERROR object too large for cache\r\nMN\r\n");
    free(v);
    h_cmd(fd, "mg big v\r\n", "EN\r\n");
    close(fd);
}

Test(meta, large_value_and_split_packets)
{
    int fd = h_connect(h_srv.port);
    size_t n = 200 * 1000;
    char *v = malloc(n + 64);
    int hl = snprintf(v, 64, "ms big %zu T0 F3\r\n", n);
    for (size_t i = 0; i < n; i++)
        v[hl + i] = (char)('a' + i % 26);
    memcpy(v + hl + n, "\r\n", 2);
    h_send(fd, v, (size_t)hl + n + 2);
    h_expect(fd, "HD\r\n");
    h_sends(fd, "get big\r\n");
    char hdr[64];
    snprintf(hdr, sizeof(hdr), "VALUE big 3 %zu\r\n", n);
    h_expect(fd, hdr);
    h_expectn(fd, v + hl, n);
    h_expect(fd, "\r\nEND\r\n");
    free(v);
    /* A pipeline of meta requests sent a byte at a time gets the same answers as sent whole. */
    const char *req =
        "ms s 3 c q\r\nabc\r\nmg s v s f\r\nma n N0 J5 v\r\nmd s q\r\nmg s v\r\nms s 2 MA\r\nzz\r\nmn\r\n";
    const char *ans = "VA 3 s3 f0\r\nabc\r\nVA 1\r\n5\r\nEN\r\nNS\r\nMN\r\n";
    h_send_bytewise(fd, req, strlen(req));
    h_expect(fd, ans);
    h_cmd(fd, "md n\r\n", "HD\r\n");
    h_send(fd, req, strlen(req));
    h_expect(fd, ans);
    close(fd);
}

Test(meta, quiet_pipeline_closed_by_mn)
{
    int fd = h_connect(h_srv.port);
    h_sends(fd, "ms a 1 q\r\n1\r\nms b 1 q\r\n2\r\nms c 1 q MR\r\n3\r\n"
                "mg a q v k\r\nmg zz q v k\r\nmg b q v k\r\nmd b q\r\nmd b q\r\nma n q\r\nmn\r\n");
    h_expect(fd, "NS\r\nVA 1 ka\r\n1\r\nVA 1 kb\r\n2\r\nNF\r\nNF\r\nMN\r\n");
    cr_assert(h_is_quiet(fd, 100));
    close(fd);
}

Test(meta, base64_keys)
{
    int fd = h_connect(h_srv.port);
    h_cmd(fd, "ms Zm9vIGJhcg== 2 b k\r\nhi\r\n", "HD kZm9vIGJhcg== b\r\n");
    h_cmd(fd, "mg Zm9vIGJhcg== b v k\r\n", "VA 2 kZm9vIGJhcg== b\r\nhi\r\n");
    h_cmd(fd, "mg Zm9v b k O1\r\n", "EN kZm9v b O1\r\n");
    h_cmd(fd, "md Zm9vIGJhcg== b\r\nmg Zm9vIGJhcg== b\r\n", "HD\r\nEN\r\n");
    h_cmd(fd, "ms YWJj 1 b\r\n1\r\nget abc\r\n", "HD\r\nVALUE abc 0 1\r\n1\r\nEND\r\n");
    h_cmd(fd, "mg a b\r\n", "CLIENT_ERROR error decoding key\r\n");
    close(fd);
}

/* As memcached 1.6.18: the item remembers that ms stored it under a base64 key; mg and me show the
 * key as the item has it, whatever the request says; in-place changes keep the mark, copies drop it. */
Test(meta, base64_mark_lives_on_the_item)
{
    int fd = h_connect(h_srv.port);
    h_cmd(fd, "set foo 0 0 1\r\na\r\nmg Zm9v b k v\r\n",
          "STORED\r\nVA 1 kfoo\r\na\r\n");
    h_cmd(fd, "ms Zm9v 1 b\r\n1\r\nmg foo k v\r\nmg Zm9v b k\r\nmg Zm9v k\r\n",
          "HD\r\nVA 1 kZm9v b\r\n1\r\nHD kZm9v b\r\nEN kZm9v\r\n");
    h_cmd(fd, "ma foo\r\nmg foo k\r\nmd foo I\r\nmg foo k\r\ntouch foo 100\r\nmg foo k\r\n",
          "HD\r\nHD kZm9v b\r\nHD\r\nHD kZm9v b X W\r\nTOUCHED\r\nHD kZm9v b Z X\r\n");
    h_cmd(fd, "incr foo 100\r\nmg foo k\r\n", "102\r\nHD kfoo\r\n");
    h_cmd(fd, "ms Zm9v 1 b\r\na\r\nappend foo 0 0 1\r\nb\r\nmg foo k\r\n", "HD\r\nSTORED\r\nHD kfoo\r\n");
    h_cmd(fd, "mg YmFy b N30 k\r\nmg YmFy b k\r\n", "HD kbar W\r\nHD kbar Z\r\n");
    close(fd);
}

Test(meta, stale_while_revalidate_several_clients)
{
    int a = h_connect(h_srv.port), b = h_connect(h_srv.port), c = h_connect(h_srv.port);
    h_cmd(a, "ms k 3 T1000\r\nold\r\n", "HD\r\n");
    uint64_t cas_old = meta_cas(a, "k");
    h_cmd(a, "md k I T30\r\n", "HD\r\n");
    uint64_t cas_stale = meta_cas(c, "k"); /* this mg is the first reader: it took the token */
    cr_assert_gt(cas_stale, cas_old, "invalidation gives a new CAS unique");
    h_cmd(b, "mg k v\r\n", "VA 3 Z X\r\nold\r\n");
    h_cmd(a, "mg k v\r\n", "VA 3 Z X\r\nold\r\n");
    /* A write with the pre-invalidation CAS and I lands, but stays stale. */
    char req[200];
    snprintf(req, sizeof(req), "ms k 3 I C%" PRIu64 "\r\nmid\r\n", cas_old);
    h_cmd(c, req, "HD\r\n");
    h_cmd(b, "mg k v\r\n", "VA 3 Z X\r\nmid\r\n");
    /* The winner writes the new value with the current CAS: fresh again. */
    uint64_t cur = meta_cas(a, "k");
    snprintf(req, sizeof(req), "ms k 3 C%" PRIu64 "\r\nnew\r\n", cur);
    h_cmd(c, req, "HD\r\n");
    h_cmd(a, "mg k v\r\n", "VA 3\r\nnew\r\n");
    h_cmd(b, "mg k v\r\n", "VA 3\r\nnew\r\n");
    close(a);
    close(b);
    close(c);
}

Test(meta, first_stale_reader_wins)
{
    int a = h_connect(h_srv.port), b = h_connect(h_srv.port);
    int rcvbuf = 64 * 1024;
    cr_assert_eq(setsockopt(b, SOL_SOCKET, SO_RCVBUF, &rcvbuf, sizeof(rcvbuf)), 0);
    h_cmd(a, "ms k 1\r\n1\r\nmd k I\r\n", "HD\r\nHD\r\n");
    h_cmd(b, "mg k v\r\n", "VA 1 X W\r\n1\r\n");
    h_cmd(a, "mg k v\r\n", "VA 1 Z X\r\n1\r\n");
    h_cmd(a, "md k I q\r\nmg k\r\n", "HD X W\r\n");
    h_cmd(b, "md k\r\nmg k\r\n", "HD\r\nEN\r\n");
    close(a);
    close(b);
}

Test(meta, vivify_on_miss_several_clients)
{
    int a = h_connect(h_srv.port), b = h_connect(h_srv.port), c = h_connect(h_srv.port);
    h_cmd(a, "mg k N30 v\r\n", "VA 0 W\r\n\r\n");
    h_cmd(b, "mg k N30 v\r\n", "VA 0 Z\r\n\r\n");
    h_cmd(c, "mg k N30 s q\r\n", "HD s0 Z\r\n");
    h_cmd(a, "ms k 5\r\nvalue\r\n", "HD\r\n");
    h_cmd(b, "mg k N30 v\r\n", "VA 5\r\nvalue\r\n");
    close(a);
    close(b);
    close(c);
}

Test(meta, recache_token)
{
    int a = h_connect(h_srv.port), b = h_connect(h_srv.port);
    int rcvbuf = 64 * 1024;
    cr_assert_eq(setsockopt(b, SOL_SOCKET, SO_RCVBUF, &rcvbuf, sizeof(rcvbuf)), 0);
    h_cmd(a, "ms k 1 T100\r\n1\r\nms n 1\r\n1\r\n", "HD\r\nHD\r\n");
    h_cmd(a, "mg k R30 v\r\n", "VA 1\r\n1\r\n");
    h_cmd(a, "mg n R300 v\r\n", "VA 1\r\n1\r\n");
    h_cmd(a, "mg k R200 v\r\n", "VA 1 W\r\n1\r\n");
    h_cmd(b, "mg k R200 v\r\n", "VA 1 Z\r\n1\r\n");
    h_cmd(b, "mg k\r\n", "HD Z\r\n");
    close(a);
    close(b);
}

Test(meta, arithmetic)
{
    int fd = h_connect(h_srv.port);
    h_cmd(fd, "ma n\r\nma n q\r\n", "NF\r\nNF\r\n");
    h_cmd(fd, "ma n N0 J10 v\r\nma n v\r\nma n MD D20 v\r\n", "VA 2\r\n10\r\nVA 2\r\n11\r\nVA 1\r\n0\r\n");
    h_cmd(fd, "get n\r\n", "VALUE n 0 2\r\n0 \r\nEND\r\n");
    h_cmd(fd, "ma n q MD D5\r\nma n v M+ D18446744073709551615\r\n", "VA 20\r\n18446744073709551615\r\n");
    uint64_t cas = meta_cas(fd, "n");
    char req[200], exp[200];
    snprintf(req, sizeof(req), "ma n C%" PRIu64 " k O1\r\n", cas + 1);
    h_cmd(fd, req, "EX kn O1\r\n");
    snprintf(req, sizeof(req), "ma n C%" PRIu64 " c t T100 v\r\n", cas);
    char *line = meta_line(fd, req);
    h_expect(fd, "0\r\n");
    snprintf(exp, sizeof(exp), "VA 1 c%" PRIu64 " t-1\r\n", meta_cas(fd, "n"));
    cr_assert_str_eq(line, exp);
    free(line);
    h_cmd(fd, "ma n T500 t\r\n", "HD t500\r\n");
    h_cmd(fd, "ms s 2\r\nab\r\nma s\r\n",
          "HD\r\nCLIENT_ERROR cannot increment or decrement non-numeric value\r\n");
    h_cmd(fd, "ms w 1\r\n \r\nma w\r\n", "HD\r\nCLIENT_ERROR cannot increment or decrement non-numeric value\r\n");
    close(fd);
}

/* memcached rewrites a number that fits in place when nobody else holds the item: the item keeps
 * its fetched bit, stale mark and recache token, flags and TTL, and gets a new CAS; a longer number
 * goes into a new item without that state. Each request waits for its answer, so memcached has
 * written out the earlier replies (and dropped their references) by then. The item is fetched only
 * once before each ma (the other reads are mg u): memcached's second fetch of an item marks it
 * active and may queue it for its LRU thread, which holds a reference for up to a second. */
Test(meta, arithmetic_in_place_keeps_the_item_state)
{
    int fd = h_connect(h_srv.port);
    h_cmd(fd, "ms k 3 F5 T0\r\n100\r\n", "HD\r\n");
    char *line = meta_line(fd, "mg k c v\r\n");
    cr_assert(strncmp(line, "VA 3 c", 6) == 0, "%s", line);
    uint64_t cas = strtoull(line + 6, NULL, 10);
    free(line);
    h_expect(fd, "100\r\n");
    line = meta_line(fd, "ma k MD c\r\n");
    cr_assert(strncmp(line, "HD c", 4) == 0, "%s", line);
    cr_assert_gt(strtoull(line + 4, NULL, 10), cas, "a new CAS unique in place too");
    free(line);
    h_cmd(fd, "mg k h f t s v u\r\n", "VA 3 h1 f5 t-1 s3\r\n99 \r\n");
    /* invalidated: the stale mark and the won token survive ma */
    h_cmd(fd, "md k I\r\n", "HD\r\n");
    h_cmd(fd, "mg k u\r\n", "HD X W\r\n");
    h_cmd(fd, "ma k v\r\n", "VA 3\r\n100\r\n");
    h_cmd(fd, "mg k h v u\r\n", "VA 3 h1 Z X\r\n100\r\n");
    h_cmd(fd, "ma k MD D100 v\r\n", "VA 1\r\n0\r\n");
    h_cmd(fd, "mg k s v u\r\n", "VA 3 s3 Z X\r\n0  \r\n");
    /* a number longer than the value: a new item, none of that state */
    h_cmd(fd, "ma k D1000 v\r\n", "VA 4\r\n1000\r\n");
    h_cmd(fd, "mg k h f v u\r\n", "VA 4 h0 f5\r\n1000\r\n");
    /* classic decr keeps the state the same way */
    h_cmd(fd, "md k I\r\n", "HD\r\n");
    h_cmd(fd, "mg k\r\n", "HD X W\r\n");
    h_cmd(fd, "decr k 1\r\nmg k h u\r\n", "999\r\nHD h1 Z X\r\n");
    close(fd);
}

/* ma's T: applied to the item when the number is rewritten in place; when it is relinked memcached
 * applies T to the old, unlinked item, so the stored one keeps its TTL (the reply's t shows T). */
Test(meta, arithmetic_ttl_only_in_place)
{
    int fd = h_connect(h_srv.port);
    h_cmd(fd, "ms g 2 T0\r\n99\r\n", "HD\r\n");
    h_cmd(fd, "ma g T100 t\r\n", "HD t100\r\n");
    h_cmd(fd, "mg g t v\r\n", "VA 3 t-1\r\n100\r\n");
    h_cmd(fd, "ma g T100 t\r\n", "HD t100\r\n");
    char *line = meta_line(fd, "mg g t v\r\n");
    cr_assert(strcmp(line, "VA 3 t100\r\n") == 0 || strcmp(line, "VA 3 t99\r\n") == 0, "%s", line);
    free(line);
    h_expect(fd, "101\r\n");
    close(fd);
}

/* In one pipeline memcached still holds an mg hit's reference when the ma runs (it writes its
 * replies out after a get or an mn, or at the end of the input), so the number is relinked
 * unpadded; after a get or an mn it is rewritten in place. */
Test(meta, arithmetic_after_mg_in_one_pipeline)
{
    int fd = h_connect(h_srv.port);
    h_cmd(fd, "ms a 3\r\n100\r\nmg a v\r\nma a MD\r\nmg a h v\r\n",
          "HD\r\nVA 3\r\n100\r\nHD\r\nVA 2 h0\r\n99\r\n");
    h_cmd(fd, "ms b 3\r\n100\r\nmg b v\r\nmn\r\nma b MD\r\nmg b h v\r\n",
          "HD\r\nVA 3\r\n100\r\nMN\r\nHD\r\nVA 3 h1\r\n99 \r\n");
    h_cmd(fd, "ms d 3\r\n100\r\nmg d\r\nmn\r\nma d MD\r\nmg d h v\r\n",
          "HD\r\nHD\r\nMN\r\nHD\r\nVA 3 h1\r\n99 \r\n");
    h_cmd(fd, "ms e 3\r\n100\r\nmg e\r\nget zz\r\nma e MD\r\nmg e h v\r\n",
          "HD\r\nHD\r\nEND\r\nHD\r\nVA 3 h1\r\n99 \r\n");
    /* md I marks the very item memcached holds for the mg: still held */
    h_cmd(fd, "ms f 3\r\n100\r\nmg f\r\nmd f I\r\nma f MD\r\nmg f v\r\n",
          "HD\r\nHD\r\nHD\r\nHD\r\nVA 2\r\n99\r\n");
    h_cmd(fd, "set i 0 0 3\r\n100\r\nget i\r\ndecr i 1\r\nget i\r\n",
          "STORED\r\nVALUE i 0 3\r\n100\r\nEND\r\n99\r\nVALUE i 0 3\r\n99 \r\nEND\r\n");
    close(fd);
}

/* Reads from fd until `count` replies ending in "END\r\n" have arrived (or 20 s pass); returns the
 * bytes (malloc'd), their length in *len. */
static char *read_replies(int fd, int count, size_t *len)
{
    size_t cap = 1 << 20, got = 0;
    char *buf = malloc(cap);
    int ends = 0;
    int64_t end = h_now_ms() + 20000;
    cr_assert_not_null(buf);
    while (ends < count && h_now_ms() < end) {
        if (cap - got < (1 << 19)) {
            cap *= 2;
            buf = realloc(buf, cap);
            cr_assert_not_null(buf);
        }
        ssize_t r = recv(fd, buf + got, cap - got - 1, 0);
        if (r < 0 && (errno == EINTR || errno == EAGAIN || errno == EWOULDBLOCK))
            continue;
        cr_assert_gt(r, 0, "the server hung up");
        size_t from = got > 4 ? got - 4 : 0;
        got += (size_t)r;
        for (char *p = buf + from; (p = memmem(p, got - (size_t)(p - buf), "END\r\n", 5)) != NULL; p += 5)
            ends++;
    }
    buf[got] = '\0';
    *len = got;
    return buf;
}

/* A client that asked for a large value 40 times and reads nothing holds the item (its replies
 * cannot all be sent): decr then puts the number in a new item of exactly its digits, without the
 * item's state, and the reader still gets whole replies of the old or the new value. The reader's
 * receive buffer is fixed (64 KiB, not grown by the kernel): on a machine whose socket buffers grow
 * to tens of megabytes, all 40 replies could otherwise be taken by the kernel, nothing would hold
 * the item, and decr would rightly rewrite it in place. */
Test(meta, arithmetic_relinks_while_a_reader_holds_the_item)
{
    enum { N = 500000, GETS = 40 };
    int a = h_connect(h_srv.port), b = h_connect(h_srv.port);
    int rcvbuf = 64 * 1024;
    cr_assert_eq(setsockopt(b, SOL_SOCKET, SO_RCVBUF, &rcvbuf, sizeof(rcvbuf)), 0);
    char *set = malloc(N + 64);
    int n = snprintf(set, 64, "set k 7 0 %d\r\n100", N);
    memset(set + n, ' ', N - 3);
    memcpy(set + n + N - 3, "\r\n", 2);
    h_send(a, set, (size_t)n + N - 1);
    h_expect(a, "STORED\r\n");
    free(set);
    h_cmd(a, "md k I\r\n", "HD\r\n");
    uint64_t gets_before = h_stat(a, "cmd_get");
    bool cairn = !h_target_is_memcached();
    uint64_t pauses_before = cairn ? h_stat_of(a, "clients", "reply_pauses") : 0, pauses_now = pauses_before;
    for (int i = 0; i < GETS; i++)
        h_sends(b, "get k\r\n");
    /* b's gets must have run as far as they will (their unread replies hold the item, and past the
     * reply bound b pauses) before the decr: a get of b before the decr holds the old item, or the
     * decr rewrites it in place; one after it would fetch the new item. Wait until cmd_get has
     * moved and then stays put, and (cairn) b has paused with replies still unwritten, not for a
     * time. */
    uint64_t gets_now = gets_before, gets_prev;
    for (int i = 0; i < 100; i++) {
        gets_prev = gets_now;
        h_sleep_ms(100);
        gets_now = h_stat(a, "cmd_get");
        if (cairn)
            pauses_now = h_stat_of(a, "clients", "reply_pauses");
        if (gets_now > gets_before && gets_now == gets_prev && pauses_now >= pauses_before + cairn)
            break;
    }
    cr_assert_gt(gets_now, gets_before, "b's gets did not run");
    if (cairn)
        cr_assert_gt(pauses_now, pauses_before, "b did not pause behind its unread replies");
    h_cmd(a, "decr k 1\r\n", "99\r\n");
    h_cmd(a, "mg k s h f v\r\n", "VA 2 s2 h0 f7\r\n99\r\n");
    size_t len;
    char *got = read_replies(b, GETS, &len);
    int ends = 0, big = 0;
    for (char *p = got; (p = memmem(p, len - (size_t)(p - got), "VALUE k 7 ", 10)) != NULL; p += 10) {
        big += strncmp(p + 10, "500000\r\n100 ", 12) == 0;
        ends += strncmp(p + 10, "2\r\n99\r\nEND\r\n", 12) == 0;
    }
    cr_assert_eq(big + ends, GETS, "%d old and %d new replies of %d", big, ends, GETS);
    cr_assert_gt(big, 0);
    free(got);
    h_cmd(a, "decr k 1\r\nmg k s v\r\n", "98\r\nVA 2 s2\r\n98\r\n");
    close(a);
    close(b);
}

Test(meta, me_debug_line)
{
    int fd = h_connect(h_srv.port);
    h_cmd(fd, "me k\r\n", "EN\r\n");
    h_cmd(fd, "ms k 2\r\nhi\r\n", "HD\r\n");
    uint64_t cas = meta_cas(fd, "k");
    char *line = meta_line(fd, "me k\r\n");
    char want[100];
    snprintf(want, sizeof(want), " cas=%" PRIu64 " fetch=yes cls=", cas);
    cr_assert(strncmp(line, "ME k exp=-1 la=", 15) == 0, "got %s", line);
    cr_assert(strstr(line, want) != NULL, "got %s, want %s", line, want);
    cr_assert(strstr(line, " size=") != NULL);
    free(line);
    h_cmd(fd, "me\r\n", "CLIENT_ERROR bad command line format\r\n");
    close(fd);
}

Test(meta, classic_and_meta_share_items)
{
    int fd = h_connect(h_srv.port);
    h_cmd(fd, "set a 42 0 2\r\nhi\r\n", "STORED\r\n");
    uint64_t cas;
    char *v = h_gets(fd, "a", &cas);
    cr_assert_str_eq(v, "hi");
    free(v);
    char exp[200];
    snprintf(exp, sizeof(exp), "VA 2 f42 c%" PRIu64 "\r\nhi\r\n", cas);
    h_cmd(fd, "mg a f c v\r\n", exp);
    h_cmd(fd, "ms b 3 F9\r\nxyz\r\nget b\r\n", "HD\r\nVALUE b 9 3\r\nxyz\r\nEND\r\n");
    uint64_t mcas = meta_cas(fd, "b");
    v = h_gets(fd, "b", &cas);
    free(v);
    cr_assert_eq(cas, mcas);
    h_cmd(fd, "delete b\r\nmg b\r\n", "DELETED\r\nEN\r\n");
    h_cmd(fd, "set n 0 0 1\r\n5\r\nma n v\r\nincr n 1\r\n", "STORED\r\nVA 1\r\n6\r\n7\r\n");
    h_cmd(fd, "md n\r\nget n\r\n", "HD\r\nEND\r\n");
    close(fd);
}

Test(meta, stats_counters)
{
    int fd = h_connect(h_srv.port);
    h_cmd(fd, "ms x 1\r\n1\r\n", "HD\r\n");
    uint64_t get_hits = h_stat(fd, "get_hits"), get_misses = h_stat(fd, "get_misses");
    uint64_t cmd_get = h_stat(fd, "cmd_get"), touch_hits = h_stat(fd, "touch_hits");
    uint64_t cmd_set = h_stat(fd, "cmd_set"), delete_hits = h_stat(fd, "delete_hits");
    uint64_t delete_misses = h_stat(fd, "delete_misses"), incr_misses = h_stat(fd, "incr_misses");
    uint64_t cas_misses = h_stat(fd, "cas_misses");
    h_cmd(fd, "mg x v\r\nmg nx v\r\nmg x T100\r\n", "VA 1\r\n1\r\nEN\r\nHD\r\n");
    h_cmd(fd, "ms y 1\r\n1\r\nms z 1 C1\r\n1\r\n", "HD\r\nNF\r\n");
    h_cmd(fd, "md y\r\nmd y\r\nma nn\r\n", "HD\r\nNF\r\nNF\r\n");
    cr_assert_eq(h_stat(fd, "get_hits"), get_hits + 1);
    cr_assert_eq(h_stat(fd, "get_misses"), get_misses + 1);
    cr_assert_eq(h_stat(fd, "cmd_get"), cmd_get + 2);
    cr_assert_eq(h_stat(fd, "touch_hits"), touch_hits + 1);
    cr_assert_eq(h_stat(fd, "cmd_set"), cmd_set + 2);
    cr_assert_eq(h_stat(fd, "cas_misses"), cas_misses + 1);
    cr_assert_eq(h_stat(fd, "delete_hits"), delete_hits + 1);
    cr_assert_eq(h_stat(fd, "delete_misses"), delete_misses + 1);
    cr_assert_eq(h_stat(fd, "incr_misses"), incr_misses + 1);
    close(fd);
}

/* ---- many clients racing for one token ---- */

#define RACERS 8

struct racer {
    int fd;
    pthread_barrier_t *go;
    const char *req;
    char *reply;
};

static void *racer_main(void *arg)
{
    struct racer *r = arg;
    pthread_barrier_wait(r->go);
    h_sends(r->fd, r->req);
    r->reply = h_read_line(r->fd);
    return NULL;
}

/* Sends req on RACERS connections at once; returns how many replies carry " W". */
static int race(const char *req, const char *expect_prefix)
{
    pthread_t th[RACERS];
    struct racer rs[RACERS];
    pthread_barrier_t go;
    int wins = 0;
    pthread_barrier_init(&go, NULL, RACERS);
    for (int i = 0; i < RACERS; i++) {
        rs[i] = (struct racer){h_connect(h_srv.port), &go, req, NULL};
        cr_assert_eq(pthread_create(&th[i], NULL, racer_main, &rs[i]), 0);
    }
    for (int i = 0; i < RACERS; i++) {
        pthread_join(th[i], NULL);
        cr_assert(strncmp(rs[i].reply, expect_prefix, strlen(expect_prefix)) == 0, "%s", rs[i].reply);
        wins += strstr(rs[i].reply, " W\r\n") != NULL;
        cr_assert(strstr(rs[i].reply, " W\r\n") != NULL || strstr(rs[i].reply, " Z") != NULL, "%s",
                  rs[i].reply);
        free(rs[i].reply);
        close(rs[i].fd);
    }
    pthread_barrier_destroy(&go);
    return wins;
}

Test(meta, racing_clients_one_winner)
{
    int fd = h_connect(h_srv.port);
    for (int round = 0; round < 20; round++) {
        char req[64];
        snprintf(req, sizeof(req), "mg race%d N30 s\r\n", round);
        cr_assert_eq(race(req, "HD s0"), 1, "vivify round %d", round);
        h_cmd(fd, "ms stale 1\r\n1\r\nmd stale I\r\n", "HD\r\nHD\r\n");
        cr_assert_eq(race("mg stale s\r\n", "HD s1"), 1, "stale round %d", round);
    }
    close(fd);
}

static void setup_no_cas(void)
{
    static const char *const extra[] = {"-C", NULL};
    h_server_start(&h_srv, extra);
}

/* With -C items carry no CAS unique (c0): the client's C cannot be stored with the item, so a CAS
 * store never matches, append ignores C, md and ma compare C with 0. */
Test(meta, without_cas_uniques, .init = setup_no_cas, .fini = h_teardown)
{
    int fd = h_connect(h_srv.port);
    h_cmd(fd, "ms a 1 c\r\n1\r\nmg a c\r\n", "HD c0\r\nHD c0\r\n");
    h_cmd(fd, "ms a 1 C0\r\n2\r\nms a 1 C1\r\n2\r\nms nope 1 C1\r\n2\r\n", "EX\r\nEX\r\nNF\r\n");
    h_cmd(fd, "ms a 1 MA C1\r\n2\r\nms a 1 MP C7\r\n0\r\nmg a v\r\n", "HD\r\nHD\r\nVA 3\r\n012\r\n");
    h_cmd(fd, "md a C1\r\nmd a C0 q\r\nmg a\r\n", "EX\r\nEN\r\n");
    h_cmd(fd, "ma n N0 J4\r\nma n C1\r\nma n C0 v\r\n", "HD\r\nEX\r\nVA 1\r\n5\r\n");
    close(fd);
}
