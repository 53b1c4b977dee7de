/*
 * test_proto_binary.c: cairn-bench's binary protocol (proto_binary.c) without a server: the exact
 * request bytes, and a table of replies (as memcached 1.6.18 and cairn send them, and broken ones)
 * with the status and reply kind each must give. Each reply is built from its header fields and body;
 * every reply that parses is also cut at every shorter length, which must ask for more bytes, so a
 * reply split anywhere (inside the header or the body) waits for its last byte.
 */
#include "config.h"

#include <criterion/criterion.h>
#include <stdint.h>
#include <string.h>

#include "benchmarks/bench/proto.h"

#define HDR 24

/* The header's body length is the body's own unless claimed is not ACTUAL. */
#define ACTUAL (-1)
/* A body given as a literal that may hold NULs. */
#define BODY(s) s, sizeof(s) - 1

struct reply_case {
    enum proto_op op;
    uint8_t magic, opcode;
    uint16_t key_len;
    uint8_t extras_len, datatype;
    uint16_t status;
    const char *body;
    size_t body_len;
    int64_t claimed;
    enum proto_status want;
    enum proto_reply_kind kind; /* checked when want is PROTO_OK */
};

static const struct reply_case cases[] = {
    /* SET: stored, and memcached's refusals (status, message) */
    {PROTO_OP_SET, 0x81, 0x01, 0, 0, 0, 0x0000, BODY(""), ACTUAL, PROTO_OK, PROTO_REPLY_STORED},
    {PROTO_OP_SET, 0x81, 0x01, 0, 0, 0, 0x0002, BODY("Data exists for key."), ACTUAL, PROTO_OK,
     PROTO_REPLY_REFUSED},
    {PROTO_OP_SET, 0x81, 0x01, 0, 0, 0, 0x0003, BODY("Too large."), ACTUAL, PROTO_OK, PROTO_REPLY_REFUSED},
    {PROTO_OP_SET, 0x81, 0x01, 0, 0, 0, 0x0005, BODY("Not stored."), ACTUAL, PROTO_OK, PROTO_REPLY_REFUSED},
    {PROTO_OP_SET, 0x81, 0x01, 0, 0, 0, 0x0082, BODY("Out of memory"), ACTUAL, PROTO_OK, PROTO_REPLY_REFUSED},
    {PROTO_OP_SET, 0x81, 0x01, 0, 0, 0, 0x0001, BODY("Not found"), ACTUAL, PROTO_OK, PROTO_REPLY_REFUSED},
    /* SET: not a reply to it */
    {PROTO_OP_SET, 0x80, 0x01, 0, 0, 0, 0x0000, BODY(""), ACTUAL, PROTO_BAD, 0},
    {PROTO_OP_SET, 0x81, 0x0c, 0, 0, 0, 0x0000, BODY(""), ACTUAL, PROTO_BAD, 0},
    {PROTO_OP_SET, 0x81, 0x01, 0, 0, 1, 0x0000, BODY(""), ACTUAL, PROTO_BAD, 0},
    {PROTO_OP_SET, 0x81, 0x01, 3, 0, 0, 0x0000, BODY("ab"), ACTUAL, PROTO_BAD, 0},
    {PROTO_OP_SET, 0x81, 0x01, 0, 0, 0, 0x0000, BODY(""), 0xffffffff, PROTO_BAD, 0},
    /* GETK: hits (flags, key, value), misses (memcached's and cairn's: the key; GET's "Not found") */
    {PROTO_OP_GET, 0x81, 0x0c, 3, 4, 0, 0x0000, BODY("\0\0\0\0foohello"), ACTUAL, PROTO_OK, PROTO_REPLY_HIT},
    {PROTO_OP_GET, 0x81, 0x0c, 3, 4, 0, 0x0000, BODY("\0\0\0\7foo"), ACTUAL, PROTO_OK, PROTO_REPLY_HIT},
    {PROTO_OP_GET, 0x81, 0x0c, 3, 4, 0, 0x0000, BODY("\0\0\0\0foo\r\n\0\x81"), ACTUAL, PROTO_OK,
     PROTO_REPLY_HIT},
    {PROTO_OP_GET, 0x81, 0x0c, 3, 0, 0, 0x0001, BODY("foo"), ACTUAL, PROTO_OK, PROTO_REPLY_MISS},
    {PROTO_OP_GET, 0x81, 0x0c, 0, 0, 0, 0x0001, BODY("Not found"), ACTUAL, PROTO_OK, PROTO_REPLY_MISS},
    {PROTO_OP_GET, 0x81, 0x0c, 0, 0, 0, 0x0004, BODY("Invalid arguments"), ACTUAL, PROTO_OK,
     PROTO_REPLY_REFUSED},
    {PROTO_OP_GET, 0x81, 0x0c, 0, 0, 0, 0x0082, BODY("Out of memory"), ACTUAL, PROTO_OK, PROTO_REPLY_REFUSED},
    {PROTO_OP_GET, 0x81, 0x0c, 0, 0, 0, 0x0081, BODY("Unknown command"), ACTUAL, PROTO_OK,
     PROTO_REPLY_REFUSED},
    /* GETK: broken */
    {PROTO_OP_GET, 0x81, 0x0c, 3, 0, 0, 0x0000, BODY("foohello"), ACTUAL, PROTO_BAD, 0},
    {PROTO_OP_GET, 0x81, 0x0c, 0, 4, 0, 0x0000, BODY("\0\0\0\0hello"), ACTUAL, PROTO_BAD, 0},
    {PROTO_OP_GET, 0x81, 0x0c, 10, 4, 0, 0x0000, BODY("\0\0\0\0foo"), ACTUAL, PROTO_BAD, 0},
    {PROTO_OP_GET, 0x81, 0x00, 0, 4, 0, 0x0000, BODY("\0\0\0\0hello"), ACTUAL, PROTO_BAD, 0},
    {PROTO_OP_GET, 0x81, 0x01, 0, 0, 0, 0x0000, BODY(""), ACTUAL, PROTO_BAD, 0},
    {PROTO_OP_GET, 0x80, 0x0c, 3, 4, 0, 0x0000, BODY("\0\0\0\0foohello"), ACTUAL, PROTO_BAD, 0},
    {PROTO_OP_GET, 0x81, 0x0c, 3, 4, 2, 0x0000, BODY("\0\0\0\0foohello"), ACTUAL, PROTO_BAD, 0},
    {PROTO_OP_GET, 0x81, 0x0c, 3, 4, 0, 0x0000, BODY("\0\0\0\0foohello"), 0x7fffffff, PROTO_BAD, 0},
};

/* Writes the case's reply (header then body) into out; returns its length. */
static size_t build(const struct reply_case *c, char *out)
{
    unsigned char *h = (unsigned char *)out;
    uint32_t body_len = c->claimed == ACTUAL ? (uint32_t)c->body_len : (uint32_t)c->claimed;
    memset(h, 0, HDR);
    h[0] = c->magic;
    h[1] = c->opcode;
    h[2] = (unsigned char)(c->key_len >> 8);
    h[3] = (unsigned char)c->key_len;
    h[4] = c->extras_len;
    h[5] = c->datatype;
    h[6] = (unsigned char)(c->status >> 8);
    h[7] = (unsigned char)c->status;
    h[8] = (unsigned char)(body_len >> 24);
    h[9] = (unsigned char)(body_len >> 16);
    h[10] = (unsigned char)(body_len >> 8);
    h[11] = (unsigned char)body_len;
    h[23] = 0x2a; /* a CAS, which the parser ignores */
    memcpy(out + HDR, c->body, c->body_len);
    return HDR + c->body_len;
}

Test(proto_binary, lookup_by_name)
{
    enum proto_kind kind;
    cr_assert_eq(proto_parse_name("memcache_binary", &kind), 0);
    cr_assert_eq(proto_lookup(kind), &proto_binary_ops);
}

Test(proto_binary, request_bytes)
{
    char buf[128];
    static const char set[] = "\x80\x01\x00\x05\x08\x00\x00\x00"
                              "\x00\x00\x00\x12\x00\x00\x00\x00"
                              "\x00\x00\x00\x00\x00\x00\x00\x00"
                              "\x00\x00\x00\x00\x00\x00\x00\x00"
                              "key:1hello";
    size_t n = proto_binary_ops.write_set(buf, "key:1", 5, "hello", 5);
    cr_expect_eq(n, sizeof(set) - 1);
    cr_expect_arr_eq(buf, set, n);
    cr_expect_leq(n, proto_request_bound(5, 5));
    static const char get[] = "\x80\x0c\x00\x05\x00\x00\x00\x00"
                              "\x00\x00\x00\x05\x00\x00\x00\x00"
                              "\x00\x00\x00\x00\x00\x00\x00\x00"
                              "key:1";
    n = proto_binary_ops.write_get(buf, "key:1", 5);
    cr_expect_eq(n, sizeof(get) - 1);
    cr_expect_arr_eq(buf, get, n);
}

Test(proto_binary, long_key_and_value_lengths)
{
    static char key[250], value[70000], buf[71000];
    memset(key, 'k', sizeof(key));
    memset(value, 'v', sizeof(value));
    size_t n = proto_binary_ops.write_set(buf, key, sizeof(key), value, sizeof(value));
    const unsigned char *h = (const unsigned char *)buf;
    cr_expect_eq(n, 24 + 8 + sizeof(key) + sizeof(value));
    cr_expect_leq(n, proto_request_bound(sizeof(key), sizeof(value)));
    cr_expect_eq(h[2] << 8 | h[3], 250);
    cr_expect_eq((uint32_t)h[8] << 24 | (uint32_t)h[9] << 16 | (uint32_t)h[10] << 8 | h[11],
                 8 + sizeof(key) + sizeof(value));
}

Test(proto_binary, reply_table)
{
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        const struct reply_case *c = &cases[i];
        char bytes[HDR + 64];
        size_t len = build(c, bytes), used = 0;
        struct proto_reply r;
        enum proto_status st = proto_binary_ops.parse(c->op, bytes, len, &r, &used);
        cr_expect_eq(st, c->want, "case %zu: status %d, want %d", i, st, c->want);
        if (st != PROTO_OK || c->want != PROTO_OK)
            continue;
        cr_expect_eq(r.kind, c->kind, "case %zu: kind %d, want %d", i, r.kind, c->kind);
        cr_expect_eq(used, len, "case %zu: used %zu of %zu", i, used, len);
        for (size_t cut = 0; cut < len; cut++)
            cr_expect_eq(proto_binary_ops.parse(c->op, bytes, cut, &r, &used), PROTO_NEED_MORE,
                         "case %zu cut at %zu", i, cut);
    }
}

Test(proto_binary, hit_fields_and_pipelined_rest)
{
    static const struct reply_case hit = {
        PROTO_OP_GET, 0x81, 0x0c, 2, 4, 0, 0, BODY("\0\0\0\3abhello"), ACTUAL, PROTO_OK, PROTO_REPLY_HIT};
    static const struct reply_case miss = {
        PROTO_OP_GET, 0x81, 0x0c, 2, 0, 0, 1, BODY("ab"), ACTUAL, PROTO_OK, PROTO_REPLY_MISS};
    char bytes[2 * (HDR + 64)];
    size_t first = build(&hit, bytes);
    size_t len = first + build(&miss, bytes + first);
    struct proto_reply r;
    size_t used = 0;
    cr_assert_eq(proto_binary_ops.parse(PROTO_OP_GET, bytes, len, &r, &used), PROTO_OK);
    cr_expect_eq(used, first);
    cr_expect_eq(r.kind, PROTO_REPLY_HIT);
    cr_expect_eq(r.flags, 3);
    cr_expect_eq(r.key_len, 2);
    cr_expect_arr_eq(r.key, "ab", 2);
    cr_expect_eq(r.value_len, 5);
    cr_expect_arr_eq(r.value, "hello", 5);
    cr_expect_eq(proto_binary_ops.parse(PROTO_OP_GET, bytes + used, len - used, &r, &used), PROTO_OK);
    cr_expect_eq(r.kind, PROTO_REPLY_MISS);
    cr_expect_eq(used, len - first);
}

Test(proto_binary, refusal_reports_its_message)
{
    static const struct reply_case c = {
        PROTO_OP_SET, 0x81, 0x01, 0, 0, 0, 3, BODY("Too large."), ACTUAL, PROTO_OK, PROTO_REPLY_REFUSED};
    char bytes[HDR + 64];
    size_t len = build(&c, bytes), used;
    struct proto_reply r;
    cr_assert_eq(proto_binary_ops.parse(PROTO_OP_SET, bytes, len, &r, &used), PROTO_OK);
    cr_expect_eq(r.line_len, strlen("Too large."));
    cr_expect_arr_eq(r.line, "Too large.", r.line_len);
}

Test(proto_binary, text_reply_is_bad)
{
    const char *s = "SERVER_ERROR out of memory storing object\r\n";
    struct proto_reply r;
    size_t used;
    cr_expect_eq(proto_binary_ops.parse(PROTO_OP_SET, s, strlen(s), &r, &used), PROTO_BAD);
    cr_expect_eq(proto_binary_ops.parse(PROTO_OP_GET, "END\r\n", 5, &r, &used), PROTO_NEED_MORE);
}
