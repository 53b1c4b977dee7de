/*
 * test_binary.c: memcached's binary protocol over TCP: every opcode and error status, quiet
 * pipelines ended by NOOP, a stream split at every byte and many requests in one write, values read
 * across protocols, a value over several reads and one over -I, the connection closes memcached
 * makes, -B binary and -B ascii, and a non-reading client's bounded memory.
 *
 * The suite passes against memcached 1.6.18 too (CAIRN_TEST_TARGET=memcached, started with -B auto),
 * except where a test says it is cairn's (RESP, its version string, RSS bounds).
 */
#include <criterion/criterion.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "harness.h"

#define HDR 24

static void setup_bin(void)
{
    const char *extra[] = {"-B", "auto", NULL};
    h_server_start(&h_srv, extra);
}

TestSuite(binary, .init = setup_bin, .fini = h_teardown, .timeout = 60);

/* ---- requests ---- */

struct req {
    char *p;
    size_t n, cap;
};

static void put(struct req *r, const void *p, size_t n)
{
    if (r->n + n > r->cap) {
        r->cap = (r->n + n) * 2 + 64;
        r->p = realloc(r->p, r->cap);
        cr_assert_not_null(r->p);
    }
    memcpy(r->p + r->n, p, n);
    r->n += n;
}

static void be32(unsigned char *p, uint32_t v)
{
    p[0] = (unsigned char)(v >> 24);
    p[1] = (unsigned char)(v >> 16);
    p[2] = (unsigned char)(v >> 8);
    p[3] = (unsigned char)v;
}

static uint32_t rd32(const unsigned char *p)
{
    return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 | (uint32_t)p[2] << 8 | p[3];
}

/* Appends a request; bodylen is computed unless body_override is not -1. */
static void rq_raw(struct req *r, uint8_t op, const char *key, size_t nkey, const void *ext, uint8_t next,
                   const void *val, size_t nval, uint32_t opaque, uint64_t cas, long body_override)
{
    unsigned char h[HDR];
    uint32_t body = body_override >= 0 ? (uint32_t)body_override : (uint32_t)(next + nkey + nval);

    memset(h, 0, sizeof(h));
    h[0] = 0x80;
    h[1] = op;
    h[2] = (unsigned char)(nkey >> 8);
    h[3] = (unsigned char)nkey;
    h[4] = next;
    be32(h + 8, body);
    be32(h + 12, opaque);
    be32(h + 16, (uint32_t)(cas >> 32));
    be32(h + 20, (uint32_t)cas);
    put(r, h, sizeof(h));
    if (next)
        put(r, ext, next);
    if (nkey)
        put(r, key, nkey);
    if (nval)
        put(r, val, nval);
}

static void rq(struct req *r, uint8_t op, const char *key, uint32_t opaque)
{
    rq_raw(r, op, key, key ? strlen(key) : 0, NULL, 0, NULL, 0, opaque, 0, -1);
}

static void rq_set(struct req *r, uint8_t op, const char *key, const void *val, size_t nval, uint32_t flags,
                   uint32_t exp, uint32_t opaque, uint64_t cas)
{
    unsigned char e[8];
    be32(e, flags);
    be32(e + 4, exp);
    rq_raw(r, op, key, strlen(key), e, 8, val, nval, opaque, cas, -1);
}

static void rq_arith(struct req *r, uint8_t op, const char *key, uint64_t delta, uint64_t init, uint32_t exp,
                     uint32_t opaque, uint64_t cas)
{
    unsigned char e[20];
    be32(e, (uint32_t)(delta >> 32));
    be32(e + 4, (uint32_t)delta);
    be32(e + 8, (uint32_t)(init >> 32));
    be32(e + 12, (uint32_t)init);
    be32(e + 16, exp);
    rq_raw(r, op, key, strlen(key), e, 20, NULL, 0, opaque, cas, -1);
}

static void rq_exp(struct req *r, uint8_t op, const char *key, uint32_t exp, uint32_t opaque)
{
    unsigned char e[4];
    be32(e, exp);
    rq_raw(r, op, key, key ? strlen(key) : 0, e, 4, NULL, 0, opaque, 0, -1);
}

static void send_req(int fd, struct req *r)
{
    h_send(fd, r->p, r->n);
    r->n = 0;
}

/* ---- responses ---- */

struct rsp {
    uint8_t magic, op, extlen;
    uint16_t keylen, status;
    uint32_t bodylen, opaque;
    uint64_t cas;
    uint32_t flags; /* when extlen == 4 */
    char *key, *val;
    size_t nval;
};

static void rsp_free(struct rsp *r)
{
    free(r->key);
    free(r->val);
    memset(r, 0, sizeof(*r));
}

/* Reads one response packet; fails the test when it does not come. */
static void read_rsp(int fd, struct rsp *r)
{
    unsigned char h[HDR];

    memset(r, 0, sizeof(*r));
    cr_assert_eq(h_read_n(fd, h, HDR, H_IO_TIMEOUT_MS), HDR, "no response header");
    r->magic = h[0];
    r->op = h[1];
    r->keylen = (uint16_t)(h[2] << 8 | h[3]);
    r->extlen = h[4];
    r->status = (uint16_t)(h[6] << 8 | h[7]);
    r->bodylen = rd32(h + 8);
    r->opaque = rd32(h + 12);
    r->cas = (uint64_t)rd32(h + 16) << 32 | rd32(h + 20);
    cr_assert_eq(r->magic, 0x81);
    char *body = malloc(r->bodylen + 1);
    cr_assert_not_null(body);
    cr_assert_eq(h_read_n(fd, body, r->bodylen, H_IO_TIMEOUT_MS), r->bodylen, "short body");
    if (r->extlen == 4)
        r->flags = rd32((unsigned char *)body);
    r->key = malloc(r->keylen + 1u);
    memcpy(r->key, body + r->extlen, r->keylen);
    r->key[r->keylen] = '\0';
    r->nval = r->bodylen - r->extlen - r->keylen;
    r->val = malloc(r->nval + 1);
    memcpy(r->val, body + r->extlen + r->keylen, r->nval);
    r->val[r->nval] = '\0';
    free(body);
}

/* Reads a response and checks opcode, status, opaque and (unless NULL) the body after extras and key. */
static void expect_rsp_at(int line, int fd, uint8_t op, uint16_t status, uint32_t opaque, const char *val,
                          struct rsp *keep)
{
    struct rsp r;
    read_rsp(fd, &r);
    cr_expect_eq(r.op, op, "line %d: opcode %#x, want %#x", line, r.op, op);
    cr_expect_eq(r.status, status, "line %d: status %#x, want %#x", line, r.status, status);
    cr_expect_eq(r.opaque, opaque, "line %d: opaque %u, want %u", line, r.opaque, opaque);
    if (val != NULL)
        h_compare_at(__FILE__, line, "body", val, strlen(val), r.val, r.nval);
    if (keep != NULL)
        *keep = r;
    else
        rsp_free(&r);
}
#define expect_rsp(fd, op, st, opq, val)         expect_rsp_at(__LINE__, fd, op, st, opq, val, NULL)
#define expect_rsp_keep(fd, op, st, opq, val, k) expect_rsp_at(__LINE__, fd, op, st, opq, val, k)

/* Reads an INCREMENT/DECREMENT success and checks its 8-byte number. */
static void expect_num_at(int line, int fd, uint8_t op, uint32_t opaque, uint64_t want)
{
    struct rsp r;
    expect_rsp_at(line, fd, op, 0, opaque, NULL, &r);
    cr_assert_eq(r.nval, 8, "line %d: body of %zu bytes", line, r.nval);
    uint64_t v = (uint64_t)rd32((unsigned char *)r.val) << 32 | rd32((unsigned char *)r.val + 4);
    cr_expect_eq(v, want, "line %d: %llu, want %llu", line, (unsigned long long)v, (unsigned long long)want);
    cr_expect_neq(r.cas, 0, "line %d: a CAS", line);
    rsp_free(&r);
}
#define expect_num(fd, op, opq, want) expect_num_at(__LINE__, fd, op, opq, want)

enum {
    OK = 0,
    ENOENT = 1,
    EEXISTS = 2,
    E2BIG = 3,
    EINVAL = 4,
    NOT_STORED = 5,
    BADVAL = 6,
    UNKNOWN = 0x81,
    ENOMEM = 0x82
};

/* ---- every opcode ---- */

Test(binary, get_set_and_their_variants)
{
    int fd = h_connect(h_srv.port);
    struct req r = {0};
    struct rsp a, b;

    rq_set(&r, 0x01, "k", "hello", 5, 42, 0, 1, 0);
    rq(&r, 0x00, "k", 2);
    rq(&r, 0x0c, "k", 3);
    rq(&r, 0x00, "nx", 4);
    rq(&r, 0x0c, "nx", 5);
    send_req(fd, &r);
    expect_rsp_keep(fd, 0x01, OK, 1, "", &a);
    cr_expect_neq(a.cas, 0);
    expect_rsp_keep(fd, 0x00, OK, 2, "hello", &b);
    cr_expect_eq(b.extlen, 4);
    cr_expect_eq(b.flags, 42);
    cr_expect_eq(b.cas, a.cas);
    cr_expect_eq(b.keylen, 0);
    rsp_free(&b);
    expect_rsp_keep(fd, 0x0c, OK, 3, "hello", &b);
    cr_expect_str_eq(b.key, "k");
    rsp_free(&b);
    expect_rsp(fd, 0x00, ENOENT, 4, "Not found");
    expect_rsp_keep(fd, 0x0c, ENOENT, 5, "", &b);
    cr_expect_str_eq(b.key, "nx");
    cr_expect_eq(b.cas, 0);
    rsp_free(&b);

    /* add, replace, cas */
    rq_set(&r, 0x02, "k", "x", 1, 0, 0, 6, 0);
    rq_set(&r, 0x03, "nx", "x", 1, 0, 0, 7, 0);
    rq_set(&r, 0x01, "k", "new", 3, 0, 0, 8, a.cas + 1000);
    rq_set(&r, 0x01, "nx", "new", 3, 0, 0, 9, 5);
    rq_set(&r, 0x03, "k", "v2", 2, 7, 0, 10, a.cas);
    rq_set(&r, 0x02, "fresh", "f", 1, 0, 0, 11, 0);
    send_req(fd, &r);
    expect_rsp(fd, 0x02, EEXISTS, 6, "Data exists for key.");
    expect_rsp(fd, 0x03, ENOENT, 7, "Not found");
    expect_rsp(fd, 0x01, EEXISTS, 8, "Data exists for key.");
    expect_rsp(fd, 0x01, ENOENT, 9, "Not found");
    expect_rsp_keep(fd, 0x03, OK, 10, "", &b);
    cr_expect_neq(b.cas, a.cas);
    rsp_free(&b);
    rsp_free(&a);
    expect_rsp(fd, 0x02, OK, 11, "");

    /* append, prepend (with a CAS) */
    rq_raw(&r, 0x0e, "k", 1, NULL, 0, "-a", 2, 12, 0, -1);
    rq_raw(&r, 0x0f, "k", 1, NULL, 0, "p-", 2, 13, 0, -1);
    rq_raw(&r, 0x0e, "nx", 2, NULL, 0, "z", 1, 14, 0, -1);
    rq_raw(&r, 0x0e, "k", 1, NULL, 0, "z", 1, 15, 12345678, -1);
    rq(&r, 0x00, "k", 16);
    send_req(fd, &r);
    expect_rsp(fd, 0x0e, OK, 12, "");
    expect_rsp(fd, 0x0f, OK, 13, "");
    expect_rsp(fd, 0x0e, NOT_STORED, 14, "Not stored.");
    expect_rsp(fd, 0x0e, EEXISTS, 15, "Data exists for key.");
    expect_rsp_keep(fd, 0x00, OK, 16, "p-v2-a", &b);
    cr_expect_eq(b.flags, 7);
    rsp_free(&b);
    free(r.p);
    close(fd);
}

Test(binary, delete_incr_decr_touch_gat)
{
    int fd = h_connect(h_srv.port);
    struct req r = {0};
    struct rsp b;

    rq_set(&r, 0x01, "d", "1", 1, 0, 0, 1, 0);
    rq_raw(&r, 0x04, "d", 1, NULL, 0, NULL, 0, 2, 99999999, -1);
    rq(&r, 0x04, "d", 3);
    rq(&r, 0x04, "d", 4);
    send_req(fd, &r);
    expect_rsp(fd, 0x01, OK, 1, "");
    expect_rsp(fd, 0x04, EEXISTS, 2, "Data exists for key.");
    expect_rsp_keep(fd, 0x04, OK, 3, "", &b);
    cr_expect_eq(b.cas, 0);
    rsp_free(&b);
    expect_rsp(fd, 0x04, ENOENT, 4, "Not found");

    /* incr creates with the initial value unless the expiration is 0xffffffff */
    rq_arith(&r, 0x05, "n", 5, 10, 0, 5, 0);
    rq_arith(&r, 0x05, "n", 5, 10, 0, 6, 0);
    rq_arith(&r, 0x06, "n", 100, 0, 0, 7, 0);
    rq_arith(&r, 0x05, "m", 1, 10, 0xffffffffu, 8, 0);
    rq_arith(&r, 0x06, "m", 1, 10, 0xffffffffu, 9, 0);
    rq_set(&r, 0x01, "s", "abc", 3, 0, 0, 10, 0);
    rq_arith(&r, 0x05, "s", 1, 0, 0, 11, 0);
    rq_arith(&r, 0x05, "n", 1, 0, 0, 12, 987654321);
    rq_arith(&r, 0x05, "big", 1, UINT64_MAX, 0, 13, 0);
    rq_arith(&r, 0x05, "big", 2, 0, 0, 14, 0);
    send_req(fd, &r);
    expect_num(fd, 0x05, 5, 10);
    expect_num(fd, 0x05, 6, 15);
    expect_num(fd, 0x06, 7, 0);
    expect_rsp(fd, 0x05, ENOENT, 8, "Not found");
    expect_rsp(fd, 0x06, ENOENT, 9, "Not found");
    expect_rsp(fd, 0x01, OK, 10, "");
    expect_rsp(fd, 0x05, BADVAL, 11, "Non-numeric server-side value for incr or decr");
    expect_rsp(fd, 0x05, EEXISTS, 12, "Data exists for key.");
    expect_num(fd, 0x05, 13, UINT64_MAX);
    expect_num(fd, 0x05, 14, 1); /* wraps */

    /* the text protocol reads the padded value memcached leaves after a decr */
    int t = h_connect(h_srv.port);
    h_cmd(t, "get n\r\n", "VALUE n 0 2\r\n0 \r\nEND\r\n");
    close(t);

    /* touch answers flags only; gat and gatk the value; misses are "Not found" (gatk: the key) */
    rq_set(&r, 0x01, "t", "tv", 2, 9, 0, 20, 0);
    rq_exp(&r, 0x1c, "t", 100, 21);
    rq_exp(&r, 0x1d, "t", 100, 22);
    rq_exp(&r, 0x23, "t", 100, 23);
    rq_exp(&r, 0x1c, "nx", 100, 24);
    rq_exp(&r, 0x1d, "nx", 100, 25);
    rq_exp(&r, 0x23, "nx", 100, 26);
    rq_exp(&r, 0x1c, "t", 0xffffffffu, 27); /* far in the future (unsigned), not expired */
    rq(&r, 0x00, "t", 28);
    send_req(fd, &r);
    expect_rsp(fd, 0x01, OK, 20, "");
    expect_rsp_keep(fd, 0x1c, OK, 21, "", &b);
    cr_expect_eq(b.extlen, 4);
    cr_expect_eq(b.flags, 9);
    rsp_free(&b);
    expect_rsp(fd, 0x1d, OK, 22, "tv");
    expect_rsp_keep(fd, 0x23, OK, 23, "tv", &b);
    cr_expect_str_eq(b.key, "t");
    rsp_free(&b);
    expect_rsp(fd, 0x1c, ENOENT, 24, "Not found");
    expect_rsp(fd, 0x1d, ENOENT, 25, "Not found");
    expect_rsp_keep(fd, 0x23, ENOENT, 26, "", &b);
    cr_expect_str_eq(b.key, "nx");
    rsp_free(&b);
    expect_rsp(fd, 0x1c, OK, 27, "");
    expect_rsp(fd, 0x00, OK, 28, "tv");
    free(r.p);
    close(fd);
}

Test(binary, noop_version_flush_stat_verbosity_sasl)
{
    int fd = h_connect(h_srv.port);
    struct req r = {0};
    struct rsp b;

    rq(&r, 0x0a, NULL, 1);
    rq(&r, 0x0b, NULL, 2);
    send_req(fd, &r);
    expect_rsp(fd, 0x0a, OK, 1, "");
    expect_rsp_keep(fd, 0x0b, OK, 2, NULL, &b);
    cr_expect(strncmp(b.val, "1.6.18", 6) == 0, "version %s", b.val);
    rsp_free(&b);

    /* flush now, flush later (the extras' exptime), quiet flush */
    rq_set(&r, 0x01, "f", "1", 1, 0, 0, 3, 0);
    rq(&r, 0x08, NULL, 4);
    rq(&r, 0x00, "f", 5);
    rq_set(&r, 0x01, "f", "1", 1, 0, 0, 6, 0);
    rq_exp(&r, 0x08, NULL, 100, 7);
    rq(&r, 0x00, "f", 8);
    rq(&r, 0x18, NULL, 9);
    rq(&r, 0x00, "f", 10);
    send_req(fd, &r);
    expect_rsp(fd, 0x01, OK, 3, "");
    expect_rsp(fd, 0x08, OK, 4, "");
    expect_rsp(fd, 0x00, ENOENT, 5, "Not found");
    expect_rsp(fd, 0x01, OK, 6, "");
    expect_rsp(fd, 0x08, OK, 7, "");
    expect_rsp(fd, 0x00, OK, 8, "1");
    expect_rsp(fd, 0x00, ENOENT, 10, "Not found");

    /* STAT: every packet carries the opaque; the group ends with the empty packet */
    rq(&r, 0x10, NULL, 11);
    send_req(fd, &r);
    int n = 0;
    bool seen_pid = false;
    for (;;) {
        read_rsp(fd, &b);
        cr_assert_eq(b.op, 0x10);
        cr_assert_eq(b.opaque, 11);
        cr_assert_eq(b.status, OK);
        if (b.keylen == 0 && b.nval == 0) {
            rsp_free(&b);
            break;
        }
        seen_pid |= strcmp(b.key, "pid") == 0;
        n++;
        rsp_free(&b);
    }
    cr_expect(seen_pid);
    cr_expect_gt(n, 40);
    const char *groups[] = {"settings", "slabs", "items", "sizes", "reset", "detail on", "detail off", NULL};
    for (int i = 0; groups[i] != NULL; i++) {
        rq_raw(&r, 0x10, groups[i], strlen(groups[i]), NULL, 0, NULL, 0, 12, 0, -1);
        send_req(fd, &r);
        for (;;) {
            read_rsp(fd, &b);
            cr_assert_eq(b.status, OK, "stat %s", groups[i]);
            bool end = b.keylen == 0;
            rsp_free(&b);
            if (end)
                break;
        }
    }
    rq_raw(&r, 0x10, "conns", 5, NULL, 0, NULL, 0, 13, 0, -1);
    rq_raw(&r, 0x10, "bogus", 5, NULL, 0, NULL, 0, 14, 0, -1);
    rq_raw(&r, 0x10, "detail dump", 11, NULL, 0, NULL, 0, 15, 0, -1);
    send_req(fd, &r);
    expect_rsp(fd, 0x10, ENOENT, 13, "Not found");
    expect_rsp(fd, 0x10, ENOENT, 14, "Not found");
    expect_rsp_keep(fd, 0x10, OK, 15, NULL, &b);
    cr_expect_str_eq(b.key, "detailed");
    rsp_free(&b);
    expect_rsp(fd, 0x10, OK, 15, "");

    /* VERBOSITY is not served by 1.6.18; SASL without SASL is "Unknown command", its value skipped */
    rq(&r, 0x1b, NULL, 16);
    rq(&r, 0x20, NULL, 17);
    rq_raw(&r, 0x21, "PLAIN", 5, NULL, 0, "\0u\0p", 4, 18, 0, -1);
    rq_raw(&r, 0x22, "PLAIN", 5, NULL, 0, NULL, 0, 19, 0, -1);
    rq(&r, 0x0a, NULL, 20);
    send_req(fd, &r);
    expect_rsp(fd, 0x1b, UNKNOWN, 16, "Unknown command");
    expect_rsp(fd, 0x20, UNKNOWN, 17, "Unknown command");
    expect_rsp(fd, 0x21, UNKNOWN, 18, "Unknown command");
    expect_rsp(fd, 0x22, UNKNOWN, 19, "Unknown command");
    expect_rsp(fd, 0x0a, OK, 20, "");
    free(r.p);
    close(fd);
}

/* An unknown opcode: "Unknown command", then memcached skips bodylen bytes counted after the key
 * (so two bytes past this request's end here). */
Test(binary, unknown_opcode_skips_its_body)
{
    int fd = h_connect(h_srv.port);
    struct req r = {0};

    rq(&r, 0x50, "ab", 1);
    put(&r, "ZZ", 2);
    rq(&r, 0x0a, NULL, 2);
    send_req(fd, &r);
    expect_rsp(fd, 0x50, UNKNOWN, 1, "Unknown command");
    expect_rsp(fd, 0x0a, OK, 2, "");
    free(r.p);
    close(fd);
}

/* Quiet commands: successes and quiet-get misses say nothing; errors are answered; NOOP ends it. */
Test(binary, quiet_pipeline_ended_by_noop)
{
    int fd = h_connect(h_srv.port);
    struct req r = {0};
    char key[16];
    struct rsp b;

    for (int i = 0; i < 100; i += 2) {
        snprintf(key, sizeof(key), "q%d", i);
        rq_set(&r, 0x11, key, key, strlen(key), (uint32_t)i, 0, (uint32_t)i, 0);
    }
    rq_set(&r, 0x12, "q0", "dup", 3, 0, 0, 1000, 0); /* ADDQ on an existing key: answered */
    rq(&r, 0x14, "q0-missing", 1001);                /* DELETEQ miss: answered */
    for (int i = 0; i < 100; i++) {
        snprintf(key, sizeof(key), "q%d", i);
        rq(&r, i % 2 ? 0x09 : 0x0d, key, (uint32_t)(2000 + i));
    }
    rq(&r, 0x0a, NULL, 3000);
    send_req(fd, &r);
    expect_rsp(fd, 0x12, EEXISTS, 1000, "Data exists for key.");
    expect_rsp(fd, 0x14, ENOENT, 1001, "Not found");
    for (int i = 0; i < 100; i += 2) {
        snprintf(key, sizeof(key), "q%d", i);
        expect_rsp_keep(fd, 0x0d, OK, (uint32_t)(2000 + i), key, &b);
        cr_expect_str_eq(b.key, key);
        cr_expect_eq(b.flags, (uint32_t)i);
        rsp_free(&b);
    }
    expect_rsp(fd, 0x0a, OK, 3000, "");
    cr_expect(h_is_quiet(fd, 100));
    free(r.p);
    close(fd);
}

/* Every quiet opcode: its success says nothing, its error is answered with the quiet opcode. */
Test(binary, every_quiet_opcode)
{
    int fd = h_connect(h_srv.port);
    struct req r = {0};
    struct rsp b;

    rq_set(&r, 0x11, "q", "1", 1, 0, 0, 1, 0);           /* SETQ */
    rq_set(&r, 0x12, "q2", "2", 1, 0, 0, 2, 0);          /* ADDQ */
    rq_set(&r, 0x12, "q", "2", 1, 0, 0, 3, 0);           /* ADDQ: exists */
    rq_set(&r, 0x13, "q2", "3", 1, 0, 0, 4, 0);          /* REPLACEQ */
    rq_set(&r, 0x13, "nx", "3", 1, 0, 0, 5, 0);          /* REPLACEQ: not found */
    rq_raw(&r, 0x19, "q", 1, NULL, 0, "a", 1, 6, 0, -1); /* APPENDQ */
    rq_raw(&r, 0x19, "nx", 2, NULL, 0, "a", 1, 7, 0, -1);
    rq_raw(&r, 0x1a, "q", 1, NULL, 0, "p", 1, 8, 0, -1); /* PREPENDQ */
    rq_raw(&r, 0x1a, "nx", 2, NULL, 0, "p", 1, 9, 0, -1);
    rq_arith(&r, 0x15, "c", 1, 5, 0, 10, 0);            /* INCREMENTQ: created */
    rq_arith(&r, 0x16, "c", 1, 0, 0, 11, 0);            /* DECREMENTQ */
    rq_arith(&r, 0x15, "q", 1, 0, 0, 12, 0);            /* INCREMENTQ: not a number */
    rq_arith(&r, 0x16, "nx", 1, 0, 0xffffffffu, 13, 0); /* DECREMENTQ: not found */
    rq_exp(&r, 0x1e, "q", 0, 14);                       /* GATQ hit: answered */
    rq_exp(&r, 0x1e, "nx", 0, 15);                      /* GATQ miss: silent */
    rq_exp(&r, 0x24, "q", 0, 16);                       /* GATKQ hit: answered with the key */
    rq_exp(&r, 0x24, "nx", 0, 17);
    rq(&r, 0x14, "q2", 18); /* DELETEQ */
    rq(&r, 0x14, "q2", 19); /* DELETEQ: not found */
    rq(&r, 0x0c, "c", 20);
    rq(&r, 0x0a, NULL, 21);
    send_req(fd, &r);
    expect_rsp(fd, 0x12, EEXISTS, 3, "Data exists for key.");
    expect_rsp(fd, 0x13, ENOENT, 5, "Not found");
    expect_rsp(fd, 0x19, NOT_STORED, 7, "Not stored.");
    expect_rsp(fd, 0x1a, NOT_STORED, 9, "Not stored.");
    expect_rsp(fd, 0x15, BADVAL, 12, "Non-numeric server-side value for incr or decr");
    expect_rsp(fd, 0x16, ENOENT, 13, "Not found");
    expect_rsp(fd, 0x1e, OK, 14, "p1a");
    expect_rsp_keep(fd, 0x24, OK, 16, "p1a", &b);
    cr_expect_str_eq(b.key, "q");
    rsp_free(&b);
    expect_rsp(fd, 0x14, ENOENT, 19, "Not found");
    expect_rsp(fd, 0x0c, OK, 20, "4");
    expect_rsp(fd, 0x0a, OK, 21, "");
    cr_expect(h_is_quiet(fd, 100));
    free(r.p);
    close(fd);
}

/* The same stream answered the same whether it comes in one write or one byte per write. */
Test(binary, split_at_every_byte)
{
    struct req r = {0};
    rq_set(&r, 0x01, "sp", "value", 5, 3, 0, 1, 0);
    rq(&r, 0x0c, "sp", 2);
    rq_raw(&r, 0x0e, "sp", 2, NULL, 0, "++", 2, 3, 0, -1);
    rq_arith(&r, 0x05, "spn", 1, 7, 0, 4, 0);
    rq(&r, 0x09, "nope", 5);
    rq(&r, 0x04, "spn", 6);
    rq(&r, 0x0a, NULL, 7);
    size_t n1, n2;
    bool closed;

    int a = h_connect(h_srv.port);
    h_send_bytewise(a, r.p, r.n);
    char *one = h_read_idle(a, 300, &n1, &closed);
    close(a);
    int fd = h_connect(h_srv.port);
    h_cmd(fd, "delete sp\r\n", "DELETED\r\n");
    close(fd);
    int b = h_connect(h_srv.port);
    h_send(b, r.p, r.n);
    char *whole = h_read_idle(b, 300, &n2, &closed);
    close(b);
    cr_assert_gt(n1, 6 * HDR);
    cr_assert_eq(n1, n2, "%zu bytes split, %zu whole", n1, n2);
    /* the CAS uniques differ between the runs: compare everything else */
    for (size_t off = 0; off + HDR <= n1;) {
        uint32_t body = rd32((unsigned char *)one + off + 8);
        cr_expect(memcmp(one + off, whole + off, 16) == 0, "header at %zu", off);
        cr_expect(memcmp(one + off + HDR, whole + off + HDR, body) == 0, "body at %zu", off);
        off += HDR + body;
    }
    free(one);
    free(whole);
    free(r.p);
}

/* A thousand requests in one write. */
Test(binary, many_requests_in_one_write)
{
    int fd = h_connect(h_srv.port);
    struct req r = {0};
    char key[16];
    struct rsp b;

    for (int i = 0; i < 1000; i++) {
        snprintf(key, sizeof(key), "m%d", i);
        rq_set(&r, 0x01, key, key, strlen(key), 0, 0, (uint32_t)i, 0);
        rq(&r, 0x00, key, (uint32_t)(10000 + i));
    }
    send_req(fd, &r);
    for (int i = 0; i < 1000; i++) {
        snprintf(key, sizeof(key), "m%d", i);
        expect_rsp(fd, 0x01, OK, (uint32_t)i, "");
        expect_rsp_keep(fd, 0x00, OK, (uint32_t)(10000 + i), key, &b);
        rsp_free(&b);
    }
    free(r.p);
    close(fd);
}

/* Flags, CAS and values agree across the binary and text protocols (and RESP on cairn). */
Test(binary, cross_protocol)
{
    int fd = h_connect(h_srv.port), t = h_connect(h_srv.port);
    struct req r = {0};
    struct rsp a, b;
    char line[128];

    rq_set(&r, 0x01, "x", "binval", 6, 77, 0, 1, 0);
    send_req(fd, &r);
    expect_rsp_keep(fd, 0x01, OK, 1, "", &a);
    snprintf(line, sizeof(line), "VALUE x 77 6 %llu\r\nbinval\r\nEND\r\n", (unsigned long long)a.cas);
    h_cmd(t, "gets x\r\n", line);
    h_cmd(t, "set y 123 0 4\r\ntext\r\n", "STORED\r\n");
    uint64_t cas;
    char *v = h_gets(t, "y", &cas);
    free(v);
    rq(&r, 0x00, "y", 2);
    send_req(fd, &r);
    expect_rsp_keep(fd, 0x00, OK, 2, "text", &b);
    cr_expect_eq(b.flags, 123);
    cr_expect_eq(b.cas, cas);
    rsp_free(&b);
    rsp_free(&a);
    /* a binary delete is seen by mg */
    rq(&r, 0x04, "y", 3);
    send_req(fd, &r);
    expect_rsp(fd, 0x04, OK, 3, "");
    h_cmd(t, "mg y v\r\n", "EN\r\n");
    if (!h_target_is_memcached()) {
        int rs = h_connect(h_srv.port);
        h_cmd(rs, "*2\r\n$3\r\nGET\r\n$1\r\nx\r\n", "$6\r\nbinval\r\n");
        h_cmd(rs, "*3\r\n$3\r\nSET\r\n$1\r\nz\r\n$3\r\nres\r\n", "+OK\r\n");
        close(rs);
        rq(&r, 0x00, "z", 4);
        send_req(fd, &r);
        expect_rsp_keep(fd, 0x00, OK, 4, "res", &b);
        cr_expect_eq(b.flags, 0);
        rsp_free(&b);
    }
    /* the binary requests count in the same statistics */
    char *st = h_stats_raw(t, NULL);
    char val[64];
    cr_assert(h_stat_find(st, "cmd_get", val, sizeof(val)));
    cr_expect_geq(strtoull(val, NULL, 10), 1);
    free(st);
    free(r.p);
    close(fd);
    close(t);
}

/* A 600 KB value arrives over many reads and comes back whole. */
Test(binary, large_value_over_several_reads)
{
    enum { N = 600 * 1024 };
    int fd = h_connect(h_srv.port);
    struct req r = {0};
    char *val = malloc(N);
    struct rsp b;

    for (size_t i = 0; i < N; i++)
        val[i] = (char)('a' + i % 26);
    rq_set(&r, 0x01, "large", val, N, 5, 0, 1, 0);
    rq(&r, 0x00, "large", 2);
    for (size_t off = 0; off < r.n; off += 65536) {
        h_send(fd, r.p + off, r.n - off < 65536 ? r.n - off : 65536);
        h_sleep_ms(5);
    }
    expect_rsp(fd, 0x01, OK, 1, "");
    expect_rsp_keep(fd, 0x00, OK, 2, NULL, &b);
    cr_assert_eq(b.nval, N);
    cr_expect(memcmp(b.val, val, N) == 0);
    rsp_free(&b);
    free(val);
    free(r.p);
    close(fd);
}

/* A value over -I: "Too large." at once, the value skipped, the old value of a SET gone. */
Test(binary, value_over_item_size_max)
{
    enum { N = 1024 * 1024 + 1 };
    int fd = h_connect(h_srv.port);
    struct req r = {0};
    char *val = calloc(1, N);

    rq_set(&r, 0x01, "over", "old", 3, 0, 0, 1, 0);
    rq_set(&r, 0x01, "over", val, N, 0, 0, 2, 0);
    rq_raw(&r, 0x0e, "over2", 5, NULL, 0, val, N, 3, 0, -1);
    rq(&r, 0x00, "over", 4);
    send_req(fd, &r);
    expect_rsp(fd, 0x01, OK, 1, "");
    expect_rsp(fd, 0x01, E2BIG, 2, "Too large.");
    expect_rsp(fd, 0x0e, E2BIG, 3, "Too large.");
    expect_rsp(fd, 0x00, ENOENT, 4, "Not found");
    free(val);
    free(r.p);
    close(fd);
}

/* Errors that close the connection: bad lengths ("Invalid arguments"), a key over 250 bytes, a key
 * longer than the body ("Unknown command"), a bad magic (no reply). */
Test(binary, errors_that_close)
{
    struct req r = {0};
    char key[300];
    int fd;

    memset(key, 'k', sizeof(key));
    fd = h_connect(h_srv.port);
    rq_raw(&r, 0x0a, NULL, 0, NULL, 0, "zz", 2, 1, 0, -1);
    send_req(fd, &r);
    expect_rsp(fd, 0x0a, EINVAL, 1, "Invalid arguments");
    cr_expect(h_is_closed(fd, 2000));
    close(fd);

    fd = h_connect(h_srv.port);
    rq_raw(&r, 0x00, key, 251, NULL, 0, NULL, 0, 2, 0, -1);
    send_req(fd, &r);
    expect_rsp(fd, 0x00, EINVAL, 2, "Invalid arguments");
    cr_expect(h_is_closed(fd, 2000));
    close(fd);

    fd = h_connect(h_srv.port);
    rq_raw(&r, 0x00, "xx", 2, NULL, 0, NULL, 0, 3, 0, 1);
    send_req(fd, &r);
    expect_rsp(fd, 0x00, UNKNOWN, 3, "Unknown command");
    cr_expect(h_is_closed(fd, 2000));
    close(fd);

    /* (a first byte other than 0x80 picks the text protocol: the bad magic comes second) */
    fd = h_connect(h_srv.port);
    rq(&r, 0x0a, NULL, 4);
    send_req(fd, &r);
    expect_rsp(fd, 0x0a, OK, 4, "");
    rq(&r, 0x0a, NULL, 5);
    r.p[0] = (char)0x81;
    send_req(fd, &r);
    cr_expect(h_is_closed(fd, 2000));
    close(fd);

    /* header and key beyond the 16 KB read buffer: closed without a reply */
    fd = h_connect(h_srv.port);
    char *huge = calloc(1, 20000);
    rq_raw(&r, 0x00, huge, 20000, NULL, 0, NULL, 0, 5, 0, -1);
    free(huge);
    h_send_some(fd, r.p, r.n);
    r.n = 0;
    cr_expect(h_is_closed(fd, 2000));
    close(fd);
    free(r.p);
}

/* QUIT answers then closes; QUITQ closes silently. */
Test(binary, quit)
{
    struct req r = {0};
    int fd = h_connect(h_srv.port);
    rq(&r, 0x07, NULL, 1);
    rq(&r, 0x0a, NULL, 2);
    send_req(fd, &r);
    expect_rsp(fd, 0x07, OK, 1, "");
    cr_expect(h_is_closed(fd, 2000));
    close(fd);
    fd = h_connect(h_srv.port);
    rq(&r, 0x0a, NULL, 3);
    rq(&r, 0x17, NULL, 4);
    send_req(fd, &r);
    expect_rsp(fd, 0x0a, OK, 3, "");
    cr_expect(h_is_closed(fd, 2000));
    close(fd);
    free(r.p);
}

/* Clients that pipeline gets of a 100 KB value and never read: each reply queue stops at its pause
 * weight, so the server's memory stays bounded and another client is served at once. */
Test(binary, nonreading_clients_memory_is_bounded, .timeout = 120)
{
    enum { CLIENTS = 10, REQS = 100, VALUE = 100 * 1024 };
    struct req r = {0}, s = {0};
    char *value = malloc(VALUE);
    int bad[CLIENTS], fd = h_connect(h_srv.port);

    if (h_target_is_memcached())
        cr_skip_test("RSS bounds are cairn's");
    memset(value, 'v', VALUE);
    rq_set(&r, 0x01, "big", value, VALUE, 0, 0, 1, 0);
    send_req(fd, &r);
    expect_rsp(fd, 0x01, OK, 1, "");
    for (int i = 0; i < REQS; i++)
        rq(&s, 0x00, "big", (uint32_t)i);
    uint64_t before = h_server_rss_kb(&h_srv);
    for (int i = 0; i < CLIENTS; i++) {
        bad[i] = h_connect_small_window(h_srv.port);
        h_send_some(bad[i], s.p, s.n);
    }
    h_sleep_ms(1000);
    uint64_t after = h_server_rss_kb(&h_srv);
    /* unbounded: every client's 10 MB of replies queued by reference still costs entries */
    cr_expect_lt(after - before, (uint64_t)CLIENTS * 5 * 1024, "RSS grew by %lu KB",
                 (unsigned long)(after - before));
    rq(&r, 0x0a, NULL, 2);
    send_req(fd, &r);
    expect_rsp(fd, 0x0a, OK, 2, "");
    for (int i = 0; i < CLIENTS; i++)
        close(bad[i]);
    free(value);
    free(r.p);
    free(s.p);
    close(fd);
}

/* ---- -B binary and -B ascii ---- */

static void start_with(const char *mode)
{
    const char *extra[] = {"-B", mode, NULL};
    if (strcmp(mode, "binary") != 0) {
        h_server_start(&h_srv, extra);
        return;
    }
    /* the harness's readiness probe speaks text: wait for the port by hand */
    const char *bin = h_target_is_memcached() ? h_memcached_bin() : h_cairn_bin();
    char port[16];
    h_srv.port = h_free_port();
    h_srv.memcached = h_target_is_memcached();
    snprintf(port, sizeof(port), "%d", h_srv.port);
    const char *argv[] = {"memcached", "-p", port,   "-l", "127.0.0.1", "-U",
                          "0",         "-u", "root", "-B", "binary",    NULL};
    h_spawn_raw(&h_srv, bin, argv);
    for (int i = 0; i < 100; i++) {
        int fd = h_try_connect(h_srv.port);
        if (fd >= 0) {
            close(fd);
            return;
        }
        h_sleep_ms(50);
    }
    cr_assert_fail("the server did not listen");
}

static void setup_binary_only(void)
{
    start_with("binary");
}

static void setup_ascii_only(void)
{
    start_with("ascii");
}

/* -B binary: binary requests are served; text is read as a header and closed. */
Test(binary_mode, binary_only, .init = setup_binary_only, .fini = h_teardown, .timeout = 30)
{
    struct req r = {0};
    int fd = h_connect(h_srv.port);
    rq(&r, 0x0a, NULL, 1);
    send_req(fd, &r);
    expect_rsp(fd, 0x0a, OK, 1, "");
    close(fd);
    fd = h_connect(h_srv.port);
    h_sends(fd, "get k\r\nget k\r\nget k\r\nget k\r\n");
    cr_expect(h_is_closed(fd, 2000));
    close(fd);
    fd = h_connect(h_srv.port);
    rq_raw(&r, 0x10, "settings", 8, NULL, 0, NULL, 0, 2, 0, -1);
    send_req(fd, &r);
    bool found = false;
    for (;;) {
        struct rsp b;
        read_rsp(fd, &b);
        bool end = b.keylen == 0;
        if (strcmp(b.key, "binding_protocol") == 0) {
            found = true;
            cr_expect_str_eq(b.val, "binary");
        }
        rsp_free(&b);
        if (end)
            break;
    }
    cr_expect(found);
    close(fd);
    free(r.p);
}

/* -B ascii: a binary request is read as text (its opcode 0x0a ends a line: "ERROR"). */
Test(binary_mode, ascii_only, .init = setup_ascii_only, .fini = h_teardown, .timeout = 30)
{
    struct req r = {0};
    int fd = h_connect(h_srv.port);
    rq(&r, 0x0a, NULL, 1);
    send_req(fd, &r);
    h_expect(fd, "ERROR\r\n");
    close(fd);
    fd = h_connect(h_srv.port);
    char *st = h_stats_raw(fd, "settings");
    char val[64];
    cr_assert(h_stat_find(st, "binding_protocol", val, sizeof(val)));
    cr_expect_str_eq(val, "ascii");
    free(st);
    close(fd);
    free(r.p);
}
