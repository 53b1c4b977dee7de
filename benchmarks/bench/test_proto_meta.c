/*
 * test_proto_meta.c: cairn-bench's meta protocol (proto_meta.c) without a server: the exact request
 * bytes, and a table of replies (as memcached 1.6.18 and cairn send them, and broken ones) with the
 * status and reply kind each must give. Every reply that parses is also cut at every shorter length,
 * which must ask for more bytes, so a reply split anywhere waits for its last byte.
 */
#include "config.h"

#include <criterion/criterion.h>
#include <string.h>

#include "benchmarks/bench/proto.h"

struct reply_case {
    enum proto_op op;
    const char *bytes;
    enum proto_status status;
    enum proto_reply_kind kind; /* checked when status is PROTO_OK */
};

static const struct reply_case cases[] = {
    {PROTO_OP_SET, "HD\r\n", PROTO_OK, PROTO_REPLY_STORED},
    {PROTO_OP_SET, "HD kfoo\r\n", PROTO_OK, PROTO_REPLY_STORED},
    {PROTO_OP_SET, "NS\r\n", PROTO_OK, PROTO_REPLY_REFUSED},
    {PROTO_OP_SET, "EX\r\n", PROTO_OK, PROTO_REPLY_REFUSED},
    {PROTO_OP_SET, "NF\r\n", PROTO_OK, PROTO_REPLY_REFUSED},
    {PROTO_OP_SET, "ERROR\r\n", PROTO_OK, PROTO_REPLY_REFUSED},
    {PROTO_OP_SET, "CLIENT_ERROR bad data chunk\r\n", PROTO_OK, PROTO_REPLY_REFUSED},
    {PROTO_OP_SET, "SERVER_ERROR object too large for cache\r\n", PROTO_OK, PROTO_REPLY_REFUSED},
    {PROTO_OP_SET, "STORED\r\n", PROTO_BAD, 0},
    {PROTO_OP_SET, "HDX\r\n", PROTO_BAD, 0},
    {PROTO_OP_SET, "HD\n", PROTO_BAD, 0},
    {PROTO_OP_SET, "VA 1 f0 ka\r\nx\r\n", PROTO_BAD, 0},
    {PROTO_OP_GET, "EN\r\n", PROTO_OK, PROTO_REPLY_MISS},
    {PROTO_OP_GET, "EN knokey\r\n", PROTO_OK, PROTO_REPLY_MISS},
    {PROTO_OP_GET, "VA 5 f0 kfoo\r\nhello\r\n", PROTO_OK, PROTO_REPLY_HIT},
    {PROTO_OP_GET, "VA 0 f0 kfoo\r\n\r\n", PROTO_OK, PROTO_REPLY_HIT},
    {PROTO_OP_GET, "VA 5 kfoo f7 W\r\nhello\r\n", PROTO_OK, PROTO_REPLY_HIT},
    {PROTO_OP_GET, "CLIENT_ERROR bad command line format\r\n", PROTO_OK, PROTO_REPLY_REFUSED},
    {PROTO_OP_GET, "VA 5 f0\r\nhello\r\n", PROTO_BAD, 0},
    {PROTO_OP_GET, "VA 5 kfoo\r\nhello\r\n", PROTO_BAD, 0},
    {PROTO_OP_GET, "VA 5 f0 kfoo \r\nhello\r\n", PROTO_BAD, 0},
    {PROTO_OP_GET, "VA 5  f0 kfoo\r\nhello\r\n", PROTO_BAD, 0},
    {PROTO_OP_GET, "VA x f0 kfoo\r\nhello\r\n", PROTO_BAD, 0},
    {PROTO_OP_GET, "VA 5 f0 f0 kfoo\r\nhello\r\n", PROTO_BAD, 0},
    {PROTO_OP_GET, "VA 5 f4294967296 kfoo\r\nhello\r\n", PROTO_BAD, 0},
    {PROTO_OP_GET, "VA 5 f0 kfoo\r\nhelloXY", PROTO_BAD, 0},
    {PROTO_OP_GET, "VA\r\n", PROTO_BAD, 0},
    {PROTO_OP_GET, "HD\r\n", PROTO_BAD, 0},
    {PROTO_OP_GET, "END\r\n", PROTO_BAD, 0},
    {PROTO_OP_GET, "VALUE foo 0 5\r\nhello\r\nEND\r\n", PROTO_BAD, 0},
};

Test(proto_meta, lookup_by_name)
{
    enum proto_kind kind;
    cr_assert_eq(proto_parse_name("meta", &kind), 0);
    cr_assert_eq(proto_lookup(kind), &proto_meta_ops);
}

Test(proto_meta, request_bytes)
{
    char buf[128];
    size_t n = proto_meta_ops.write_set(buf, "key:1", 5, "hello", 5);
    cr_expect_eq(n, strlen("ms key:1 5 T0 F0\r\nhello\r\n"));
    cr_expect_arr_eq(buf, "ms key:1 5 T0 F0\r\nhello\r\n", n);
    cr_expect_leq(n, proto_request_bound(5, 5));
    n = proto_meta_ops.write_get(buf, "key:1", 5);
    cr_expect_eq(n, strlen("mg key:1 v f k\r\n"));
    cr_expect_arr_eq(buf, "mg key:1 v f k\r\n", n);
}

Test(proto_meta, reply_table)
{
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        const struct reply_case *c = &cases[i];
        size_t len = strlen(c->bytes), used = 0;
        struct proto_reply r;
        enum proto_status st = proto_meta_ops.parse(c->op, c->bytes, len, &r, &used);
        cr_expect_eq(st, c->status, "\"%s\": status %d, want %d", c->bytes, st, c->status);
        if (st != PROTO_OK || c->status != PROTO_OK)
            continue;
        cr_expect_eq(r.kind, c->kind, "\"%s\": kind %d, want %d", c->bytes, r.kind, c->kind);
        cr_expect_eq(used, len, "\"%s\": used %zu of %zu", c->bytes, used, len);
        for (size_t cut = 0; cut < len; cut++)
            cr_expect_eq(proto_meta_ops.parse(c->op, c->bytes, cut, &r, &used), PROTO_NEED_MORE,
                         "\"%s\" cut at %zu", c->bytes, cut);
    }
}

Test(proto_meta, hit_fields_and_pipelined_rest)
{
    const char *s = "VA 5 f3 kab\r\nhello\r\nEN\r\n";
    struct proto_reply r;
    size_t used = 0;
    cr_assert_eq(proto_meta_ops.parse(PROTO_OP_GET, s, strlen(s), &r, &used), PROTO_OK);
    cr_expect_eq(used, strlen("VA 5 f3 kab\r\nhello\r\n"));
    cr_expect_eq(r.flags, 3);
    cr_expect_eq(r.key_len, 2);
    cr_expect_arr_eq(r.key, "ab", 2);
    cr_expect_eq(r.value_len, 5);
    cr_expect_arr_eq(r.value, "hello", 5);
    cr_expect_eq(proto_meta_ops.parse(PROTO_OP_GET, s + used, strlen(s) - used, &r, &used), PROTO_OK);
    cr_expect_eq(r.kind, PROTO_REPLY_MISS);
}

Test(proto_meta, line_without_end_is_bad)
{
    char big[2000];
    struct proto_reply r;
    size_t used;
    memset(big, 'a', sizeof(big));
    cr_expect_eq(proto_meta_ops.parse(PROTO_OP_GET, big, sizeof(big), &r, &used), PROTO_BAD);
    cr_expect_eq(proto_meta_ops.parse(PROTO_OP_GET, big, 100, &r, &used), PROTO_NEED_MORE);
}
