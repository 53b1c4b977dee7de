/*
 * test_mcbin_session.c: the binary protocol's session over a small real cache, through
 * mcbin_proto_ops: every command's replies (statuses, bodies, quiet variants), a stream fed whole,
 * byte by byte and at every split giving the same bytes, the value window, the reply pause, the
 * receiving budget, STAT re-framing the text producers' lines, and values shared with the text
 * protocol's session. Expectations are memcached 1.6.18's (checked against it over TCP).
 */
#include <criterion/criterion.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "protocol/mc/memcache.h"
#include "protocol/mcbin/mcbin.h"
#include "protocol/mcbin/mcbin_parse.h"
#include "protocol/outq.h"
#include "storage/cache.h"
#include "protocol_test.h"

/* ---- requests ---- */

struct buf {
    char p[1 << 16];
    size_t n;
};

static void put(struct buf *b, const void *p, size_t n)
{
    cr_assert_leq(b->n + n, sizeof(b->p));
    memcpy(b->p + b->n, p, n);
    b->n += n;
}

/* Appends one request. */
static void rq(struct buf *b, uint8_t op, const char *key, const void *ext, uint8_t next, const char *val,
               size_t nval, uint32_t opaque, uint64_t cas)
{
    unsigned char h[MCBIN_HEADER_LEN];
    size_t nkey = key ? strlen(key) : 0;
    uint32_t body = (uint32_t)(next + nkey + nval);

    memset(h, 0, sizeof(h));
    h[0] = 0x80;
    h[1] = op;
    h[2] = (unsigned char)(nkey >> 8);
    h[3] = (unsigned char)nkey;
    h[4] = next;
    h[8] = (unsigned char)(body >> 24);
    h[9] = (unsigned char)(body >> 16);
    h[10] = (unsigned char)(body >> 8);
    h[11] = (unsigned char)body;
    h[12] = (unsigned char)(opaque >> 24);
    h[13] = (unsigned char)(opaque >> 16);
    h[14] = (unsigned char)(opaque >> 8);
    h[15] = (unsigned char)opaque;
    for (int i = 0; i < 8; i++)
        h[16 + i] = (unsigned char)(cas >> (56 - 8 * i));
    put(b, h, sizeof(h));
    if (next)
        put(b, ext, next);
    if (nkey)
        put(b, key, nkey);
    if (nval)
        put(b, val, nval);
}

static void be32(unsigned char *p, uint32_t v)
{
    p[0] = (unsigned char)(v >> 24);
    p[1] = (unsigned char)(v >> 16);
    p[2] = (unsigned char)(v >> 8);
    p[3] = (unsigned char)v;
}

static void set_rq(struct buf *b, uint8_t op, const char *key, const char *val, uint32_t flags, uint32_t exp,
                   uint32_t opaque, uint64_t cas)
{
    unsigned char e[8];
    be32(e, flags);
    be32(e + 4, exp);
    rq(b, op, key, e, 8, val, strlen(val), opaque, cas);
}

static void arith_rq(struct buf *b, uint8_t op, const char *key, uint64_t delta, uint64_t initial,
                     uint32_t exp, uint32_t opaque)
{
    unsigned char e[20];
    be32(e, (uint32_t)(delta >> 32));
    be32(e + 4, (uint32_t)delta);
    be32(e + 8, (uint32_t)(initial >> 32));
    be32(e + 12, (uint32_t)initial);
    be32(e + 16, exp);
    rq(b, op, key, e, 20, NULL, 0, opaque, 0);
}

/* ---- a session ---- */

struct run {
    struct cache *cache;
    struct mc_context ctx;
    struct mc_stats stats;
    void *s;
    struct outq *out;
    enum proto_status st;
    size_t left;
};

static void run_init(struct run *t)
{
    memset(t, 0, sizeof(*t));
    t->cache = pt_cache_create(8u << 20);
    t->ctx.cache = t->cache;
    t->ctx.item_size_max = 1024 * 1024;
    t->ctx.use_cas = true;
    t->ctx.version = "1.6.18";
    t->s = mcbin_proto_ops.create(&t->ctx, &t->stats);
    t->out = outq_create(t->cache);
    cr_assert(t->s && t->out);
}

static void run_fini(struct run *t)
{
    outq_destroy(&t->out);
    mcbin_proto_ops.destroy(t->s);
    cache_destroy(&t->cache);
}

/* Feeds in chunks of chunk bytes like a server's read buffer; stops at a status other than OK. */
static enum proto_status feed(struct run *t, const char *in, size_t n, size_t chunk)
{
    char *acc = malloc(n + 1);
    size_t have = 0, off = 0;
    enum proto_status st = PROTO_OK;

    cr_assert_not_null(acc);
    while (off < n && st == PROTO_OK) {
        size_t m = n - off < chunk ? n - off : chunk;
        memcpy(acc + have, in + off, m);
        have += m;
        off += m;
        size_t used = 0;
        st = mcbin_proto_ops.feed(t->s, acc, have, &used, t->out);
        cr_assert_leq(used, have);
        memmove(acc, acc + used, have - used);
        have -= used;
    }
    t->left = have + (n - off);
    t->st = st;
    free(acc);
    return st;
}

/* ---- replies ---- */

struct pkt {
    uint8_t magic, op, extlen;
    uint16_t keylen, status;
    uint32_t bodylen, opaque;
    uint64_t cas;
    const char *ext, *key, *val;
    size_t nval;
};

static uint32_t rd32(const unsigned char *p)
{
    return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 | (uint32_t)p[2] << 8 | p[3];
}

/* Splits out[0..n) into packets; returns how many (at most max). */
static size_t packets(const char *out, size_t n, struct pkt *pk, size_t max)
{
    size_t k = 0, off = 0;
    while (off + MCBIN_HEADER_LEN <= n && k < max) {
        const unsigned char *p = (const unsigned char *)out + off;
        struct pkt *x = &pk[k++];
        x->magic = p[0];
        x->op = p[1];
        x->keylen = (uint16_t)(p[2] << 8 | p[3]);
        x->extlen = p[4];
        x->status = (uint16_t)(p[6] << 8 | p[7]);
        x->bodylen = rd32(p + 8);
        x->opaque = rd32(p + 12);
        x->cas = (uint64_t)rd32(p + 16) << 32 | rd32(p + 20);
        x->ext = out + off + MCBIN_HEADER_LEN;
        x->key = x->ext + x->extlen;
        x->val = x->key + x->keylen;
        x->nval = x->bodylen - x->extlen - x->keylen;
        off += MCBIN_HEADER_LEN + x->bodylen;
        cr_assert_leq(off, n, "a packet runs past the output");
    }
    cr_assert_eq(off, n, "output left over after %zu packets", k);
    return k;
}

static void expect_pkt(const struct pkt *p, uint8_t op, uint16_t status, uint32_t opaque, const char *val)
{
    cr_expect_eq(p->magic, 0x81);
    cr_expect_eq(p->op, op, "opcode %#x, want %#x", p->op, op);
    cr_expect_eq(p->status, status, "op %#x: status %#x, want %#x", op, p->status, status);
    cr_expect_eq(p->opaque, opaque, "op %#x: opaque %u, want %u", op, p->opaque, opaque);
    if (val != NULL) {
        cr_expect_eq(p->nval, strlen(val), "op %#x: body of %zu bytes, want \"%s\"", op, p->nval, val);
        if (p->nval == strlen(val))
            cr_expect(memcmp(p->val, val, p->nval) == 0, "op %#x: body differs from \"%s\"", op, val);
    }
}

/* Runs b whole through a fresh session; returns the output (malloc'd), *n its length. */
static char *exchange(const struct buf *b, size_t chunk, size_t *n, enum proto_status *st)
{
    struct run t;
    run_init(&t);
    *st = feed(&t, b->p, b->n, chunk);
    char *out = pt_drain(t.out, (size_t)-1, n);
    run_fini(&t);
    return out;
}

/* ---- tests ---- */

/* A stream of every command; the expected statuses and bodies are memcached 1.6.18's. */
static void every_command(struct buf *b)
{
    unsigned char t4[4];
    be32(t4, 100);
    set_rq(b, MCBIN_OP_SET, "k", "hello", 5, 0, 1, 0);               /* 1 OK */
    rq(b, MCBIN_OP_GET, "k", NULL, 0, NULL, 0, 2, 0);                /* 2 hello */
    rq(b, MCBIN_OP_GETK, "k", NULL, 0, NULL, 0, 3, 0);               /* 3 key + hello */
    rq(b, MCBIN_OP_GETQ, "nx", NULL, 0, NULL, 0, 4, 0);              /* silent */
    rq(b, MCBIN_OP_GETK, "nx", NULL, 0, NULL, 0, 5, 0);              /* 4 miss with key */
    rq(b, MCBIN_OP_GET, "nx", NULL, 0, NULL, 0, 6, 0);               /* 5 Not found */
    set_rq(b, MCBIN_OP_ADD, "k", "x", 0, 0, 7, 0);                   /* 6 exists */
    set_rq(b, MCBIN_OP_ADDQ, "k", "x", 0, 0, 8, 0);                  /* 7 exists (errors are sent) */
    set_rq(b, MCBIN_OP_REPLACE, "nx", "x", 0, 0, 9, 0);              /* 8 Not found */
    set_rq(b, MCBIN_OP_SETQ, "q", "1", 0, 0, 10, 0);                 /* silent */
    rq(b, MCBIN_OP_APPEND, "q", NULL, 0, "2", 1, 11, 0);             /* 9 OK */
    rq(b, MCBIN_OP_PREPENDQ, "q", NULL, 0, "0", 1, 12, 0);           /* silent */
    rq(b, MCBIN_OP_APPEND, "nx", NULL, 0, "2", 1, 13, 0);            /* 10 Not stored. */
    arith_rq(b, MCBIN_OP_INCREMENT, "q", 5, 0, 0, 14);               /* 11 = 17 */
    arith_rq(b, MCBIN_OP_DECREMENT, "c", 1, 10, 0, 15);              /* 12 created = 10 */
    arith_rq(b, MCBIN_OP_INCREMENT, "nc", 1, 10, 0xffffffffu, 16);   /* 13 Not found */
    arith_rq(b, MCBIN_OP_INCREMENT, "k", 1, 0, 0, 17);               /* 14 non-numeric */
    arith_rq(b, MCBIN_OP_INCREMENTQ, "c", 1, 0, 0, 18);              /* silent */
    rq(b, MCBIN_OP_TOUCH, "k", t4, 4, NULL, 0, 19, 0);               /* 15 flags only */
    rq(b, MCBIN_OP_GATK, "k", t4, 4, NULL, 0, 20, 0);                /* 16 key + hello */
    rq(b, MCBIN_OP_GATQ, "nx", t4, 4, NULL, 0, 21, 0);               /* silent */
    rq(b, MCBIN_OP_DELETE, "k", NULL, 0, NULL, 0, 22, 0);            /* 17 OK */
    rq(b, MCBIN_OP_DELETEQ, "k", NULL, 0, NULL, 0, 23, 0);           /* 18 Not found */
    rq(b, MCBIN_OP_VERSION, NULL, NULL, 0, NULL, 0, 24, 0);          /* 19 1.6.18 */
    rq(b, 0x1b, NULL, NULL, 0, NULL, 0, 25, 0);                      /* 20 VERBOSITY: unknown */
    rq(b, MCBIN_OP_SASL_LIST_MECHS, NULL, NULL, 0, NULL, 0, 26, 0);  /* 21 unknown */
    rq(b, MCBIN_OP_SASL_AUTH, "PLAIN", NULL, 0, "\0u\0p", 4, 27, 0); /* 22 unknown, value skipped */
    rq(b, MCBIN_OP_FLUSHQ, NULL, NULL, 0, NULL, 0, 28, 0);           /* silent */
    rq(b, MCBIN_OP_GET, "q", NULL, 0, NULL, 0, 29, 0);               /* 23 Not found (flushed) */
    rq(b, MCBIN_OP_NOOP, NULL, NULL, 0, NULL, 0, 30, 0);             /* 24 */
    rq(b, MCBIN_OP_QUITQ, NULL, NULL, 0, NULL, 0, 31, 0);            /* silent, closes */
    rq(b, MCBIN_OP_NOOP, NULL, NULL, 0, NULL, 0, 32, 0);             /* never read */
}

static void check_every_command(const char *out, size_t n)
{
    struct pkt p[32];
    size_t k = packets(out, n, p, 32);

    cr_assert_eq(k, 24, "%zu packets", k);
    expect_pkt(&p[0], MCBIN_OP_SET, 0, 1, "");
    cr_expect_neq(p[0].cas, 0);
    expect_pkt(&p[1], MCBIN_OP_GET, 0, 2, "hello");
    cr_expect_eq(p[1].extlen, 4);
    cr_expect_eq(rd32((const unsigned char *)p[1].ext), 5u);
    cr_expect_eq(p[1].cas, p[0].cas);
    expect_pkt(&p[2], MCBIN_OP_GETK, 0, 3, "hello");
    cr_expect_eq(p[2].keylen, 1);
    cr_expect_eq(p[2].key[0], 'k');
    expect_pkt(&p[3], MCBIN_OP_GETK, MCBIN_ST_KEY_ENOENT, 5, "");
    cr_expect_eq(p[3].keylen, 2);
    expect_pkt(&p[4], MCBIN_OP_GET, MCBIN_ST_KEY_ENOENT, 6, "Not found");
    expect_pkt(&p[5], MCBIN_OP_ADD, MCBIN_ST_KEY_EEXISTS, 7, "Data exists for key.");
    expect_pkt(&p[6], MCBIN_OP_ADDQ, MCBIN_ST_KEY_EEXISTS, 8, "Data exists for key.");
    expect_pkt(&p[7], MCBIN_OP_REPLACE, MCBIN_ST_KEY_ENOENT, 9, "Not found");
    expect_pkt(&p[8], MCBIN_OP_APPEND, 0, 11, "");
    expect_pkt(&p[9], MCBIN_OP_APPEND, MCBIN_ST_NOT_STORED, 13, "Not stored.");
    expect_pkt(&p[10], MCBIN_OP_INCREMENT, 0, 14, NULL);
    cr_expect_eq(p[10].nval, 8);
    cr_expect_eq((unsigned char)p[10].val[7], 17);
    expect_pkt(&p[11], MCBIN_OP_DECREMENT, 0, 15, NULL);
    cr_expect_eq((unsigned char)p[11].val[7], 10);
    expect_pkt(&p[12], MCBIN_OP_INCREMENT, MCBIN_ST_KEY_ENOENT, 16, "Not found");
    expect_pkt(&p[13], MCBIN_OP_INCREMENT, MCBIN_ST_DELTA_BADVAL, 17,
               "Non-numeric server-side value for incr or decr");
    expect_pkt(&p[14], MCBIN_OP_TOUCH, 0, 19, "");
    cr_expect_eq(p[14].extlen, 4);
    expect_pkt(&p[15], MCBIN_OP_GATK, 0, 20, "hello");
    expect_pkt(&p[16], MCBIN_OP_DELETE, 0, 22, "");
    cr_expect_eq(p[16].cas, 0);
    expect_pkt(&p[17], MCBIN_OP_DELETEQ, MCBIN_ST_KEY_ENOENT, 23, "Not found");
    expect_pkt(&p[18], MCBIN_OP_VERSION, 0, 24, "1.6.18");
    expect_pkt(&p[19], 0x1b, MCBIN_ST_UNKNOWN_COMMAND, 25, "Unknown command");
    expect_pkt(&p[20], MCBIN_OP_SASL_LIST_MECHS, MCBIN_ST_UNKNOWN_COMMAND, 26, "Unknown command");
    expect_pkt(&p[21], MCBIN_OP_SASL_AUTH, MCBIN_ST_UNKNOWN_COMMAND, 27, "Unknown command");
    expect_pkt(&p[22], MCBIN_OP_GET, MCBIN_ST_KEY_ENOENT, 29, "Not found");
    expect_pkt(&p[23], MCBIN_OP_NOOP, 0, 30, "");
}

Test(mcbin_session, every_command)
{
    static struct buf b;
    size_t n;
    enum proto_status st;

    b.n = 0;
    every_command(&b);
    char *out = exchange(&b, b.n, &n, &st);
    cr_expect_eq(st, PROTO_CLOSE);
    check_every_command(out, n);
    free(out);
}

/* The same stream fed byte by byte and in sevens gives the same bytes (CAS uniques included: each
 * run has a fresh cache). */
Test(mcbin_session, split_feeds_give_the_same_bytes)
{
    static struct buf b;
    size_t n0, n;
    enum proto_status st;

    b.n = 0;
    every_command(&b);
    char *whole = exchange(&b, b.n, &n0, &st);
    size_t chunks[] = {1, 2, 7, 23, 24, 25};
    for (size_t i = 0; i < sizeof(chunks) / sizeof(chunks[0]); i++) {
        char *out = exchange(&b, chunks[i], &n, &st);
        cr_expect_eq(st, PROTO_CLOSE);
        cr_expect_eq(n, n0, "chunk %zu: %zu bytes, want %zu", chunks[i], n, n0);
        if (n == n0)
            cr_expect(memcmp(out, whole, n) == 0, "chunk %zu: bytes differ", chunks[i]);
        free(out);
    }
    free(whole);
}

/* Lengths that break an opcode's rule: "Invalid arguments", then close; a bad magic closes silently. */
Test(mcbin_session, protocol_errors_close)
{
    static struct buf b;
    size_t n;
    enum proto_status st;
    struct pkt p[4];

    b.n = 0;
    rq(&b, MCBIN_OP_NOOP, NULL, NULL, 0, "zz", 2, 9, 0);
    char *out = exchange(&b, b.n, &n, &st);
    cr_expect_eq(st, PROTO_CLOSE);
    cr_assert_eq(packets(out, n, p, 4), 1);
    expect_pkt(&p[0], MCBIN_OP_NOOP, MCBIN_ST_EINVAL, 9, "Invalid arguments");
    free(out);

    b.n = 0;
    rq(&b, MCBIN_OP_NOOP, NULL, NULL, 0, NULL, 0, 1, 0);
    put(&b, "get k\r\n                 ", 24);
    out = exchange(&b, b.n, &n, &st);
    cr_expect_eq(st, PROTO_CLOSE);
    cr_assert_eq(packets(out, n, p, 4), 1);
    free(out);
}

/* A value over -I: "Too large." at once, the value skipped however it is split, the old value of a
 * SET dropped, and the next request answered. */
Test(mcbin_session, too_large_swallowed)
{
    static struct buf b;
    static char big[40000];
    struct pkt p[4];
    size_t n;
    enum proto_status st;
    struct run t;

    memset(big, 'v', sizeof(big));
    big[sizeof(big) - 1] = '\0';
    run_init(&t);
    t.ctx.item_size_max = 1024;
    b.n = 0;
    set_rq(&b, MCBIN_OP_SET, "big", "old", 0, 0, 1, 0);
    set_rq(&b, MCBIN_OP_SETQ, "big", big, 0, 0, 2, 0);
    rq(&b, MCBIN_OP_GET, "big", NULL, 0, NULL, 0, 3, 0);
    rq(&b, MCBIN_OP_NOOP, NULL, NULL, 0, NULL, 0, 4, 0);
    cr_expect_eq(feed(&t, b.p, b.n, 1000), PROTO_OK);
    cr_expect_eq(t.left, 0);
    char *out = pt_drain(t.out, (size_t)-1, &n);
    cr_assert_eq(packets(out, n, p, 4), 4);
    expect_pkt(&p[0], MCBIN_OP_SET, 0, 1, "");
    expect_pkt(&p[1], MCBIN_OP_SETQ, MCBIN_ST_E2BIG, 2, "Too large.");
    expect_pkt(&p[2], MCBIN_OP_GET, MCBIN_ST_KEY_ENOENT, 3, "Not found");
    expect_pkt(&p[3], MCBIN_OP_NOOP, 0, 4, "");
    cr_expect_eq(t.stats.store_too_large, 1);
    free(out);
    run_fini(&t);
    (void)st;
}

/* The value window offers all but the value's last byte, which completes the store through feed. */
Test(mcbin_session, value_window_leaves_the_last_byte)
{
    static struct buf b;
    char val[100];
    char *dst;
    size_t len, used, n;
    struct run t;
    struct pkt p[2];

    memset(val, 'a', sizeof(val) - 1);
    val[99] = '\0';
    run_init(&t);
    b.n = 0;
    set_rq(&b, MCBIN_OP_SET, "w", val, 0, 0, 1, 0);
    size_t head = b.n - 99;
    cr_assert_eq(mcbin_proto_ops.feed(t.s, b.p, head, &used, t.out), PROTO_OK);
    cr_expect_eq(used, head);
    cr_expect(mcbin_proto_ops.mid_value(t.s));
    cr_assert(mcbin_proto_ops.value_window(t.s, &dst, &len));
    cr_expect_eq(len, 98);
    memcpy(dst, val, 98);
    mcbin_proto_ops.value_filled(t.s, 98);
    cr_expect(!mcbin_proto_ops.value_window(t.s, &dst, &len));
    cr_expect_eq(outq_pending(t.out), 0);
    cr_assert_eq(mcbin_proto_ops.feed(t.s, "a", 1, &used, t.out), PROTO_OK);
    cr_expect_eq(used, 1);
    cr_expect(!mcbin_proto_ops.mid_value(t.s));
    char *out = pt_drain(t.out, (size_t)-1, &n);
    cr_assert_eq(packets(out, n, p, 2), 1);
    expect_pkt(&p[0], MCBIN_OP_SET, 0, 1, "");
    free(out);
    run_fini(&t);
}

/* A session destroyed in the middle of a value releases the item and its budget. */
Test(mcbin_session, destroy_mid_value)
{
    static struct buf b;
    static char val[20000];
    _Atomic uint64_t budget = 0;
    size_t used;
    struct run t;

    memset(val, 'a', sizeof(val) - 1);
    run_init(&t);
    t.ctx.recv_bytes = &budget;
    t.ctx.recv_limit = 1u << 20;
    b.n = 0;
    set_rq(&b, MCBIN_OP_SET, "w", val, 0, 0, 1, 0);
    cr_assert_eq(mcbin_proto_ops.feed(t.s, b.p, 1000, &used, t.out), PROTO_OK);
    cr_expect_eq(budget, sizeof(val) - 1);
    run_fini(&t);
    cr_expect_eq(budget, 0);
}

/* With the output queue full the session stops before the next request and resumes there. */
Test(mcbin_session, pause_between_requests)
{
    static struct buf b;
    size_t used = 0, total = 0, n;
    unsigned pauses = 0;
    struct run t;
    struct pkt p[64];

    run_init(&t);
    t.ctx.out_pause = 100;
    b.n = 0;
    set_rq(&b, MCBIN_OP_SET, "k", "0123456789", 0, 0, 0, 0);
    for (uint32_t i = 1; i <= 20; i++)
        rq(&b, MCBIN_OP_GET, "k", NULL, 0, NULL, 0, i, 0);
    char *all = malloc(1 << 16);
    size_t have = 0;
    size_t off = 0;
    while (off < b.n) {
        enum proto_status st = mcbin_proto_ops.feed(t.s, b.p + off, b.n - off, &used, t.out);
        off += used;
        if (st == PROTO_PAUSE) {
            pauses++;
            cr_assert_geq(outq_weight(t.out), 100);
        } else {
            cr_assert_eq(st, PROTO_OK);
        }
        char *o = pt_drain(t.out, (size_t)-1, &n);
        memcpy(all + have, o, n);
        have += n;
        total += n;
        free(o);
    }
    cr_expect_gt(pauses, 5);
    cr_assert_eq(packets(all, have, p, 64), 21);
    for (uint32_t i = 1; i <= 20; i++)
        expect_pkt(&p[i], MCBIN_OP_GET, 0, i, "0123456789");
    free(all);
    run_fini(&t);
    (void)total;
}

/* The receiving budget: a large value waits (PROTO_BUSY, nothing consumed), then after no_wait it
 * is refused "Out of memory" and skipped. */
Test(mcbin_session, receiving_budget)
{
    static struct buf b;
    static char val[20000];
    _Atomic uint64_t budget = 0;
    size_t used, n;
    struct run t;
    struct pkt p[2];

    memset(val, 'a', sizeof(val) - 1);
    run_init(&t);
    t.ctx.recv_bytes = &budget;
    t.ctx.recv_limit = 1000;
    b.n = 0;
    set_rq(&b, MCBIN_OP_SET, "w", val, 0, 0, 1, 0);
    rq(&b, MCBIN_OP_NOOP, NULL, NULL, 0, NULL, 0, 2, 0);
    cr_assert_eq(mcbin_proto_ops.feed(t.s, b.p, b.n, &used, t.out), PROTO_BUSY);
    cr_expect_eq(used, 0);
    mcbin_proto_ops.no_wait(t.s);
    cr_assert_eq(mcbin_proto_ops.feed(t.s, b.p, b.n, &used, t.out), PROTO_OK);
    cr_expect_eq(used, b.n);
    char *out = pt_drain(t.out, (size_t)-1, &n);
    cr_assert_eq(packets(out, n, p, 2), 2);
    expect_pkt(&p[0], MCBIN_OP_SET, MCBIN_ST_ENOMEM, 1, "Out of memory");
    expect_pkt(&p[1], MCBIN_OP_NOOP, 0, 2, "");
    cr_expect_eq(budget, 0);
    free(out);
    run_fini(&t);
}

static enum mc_stats_result stats_cb(void *arg, int argc, char **argv, struct outq *out)
{
    (void)arg;
    if (argc == 0) {
        outq_add_str(out, "STAT pid 42\r\nSTAT version 1.6.18 x\r\n");
        return MC_STATS_END;
    }
    if (strcmp(argv[0], "settings") == 0) {
        outq_add_str(out, "STAT maxbytes 64\r\n");
        return MC_STATS_END;
    }
    if (strcmp(argv[0], "reset") == 0) {
        outq_add_str(out, "RESET\r\n");
        return MC_STATS_DONE;
    }
    return MC_STATS_UNKNOWN;
}

/* STAT: the text producers' lines as packets, the empty terminator, memcached's choice of group. */
Test(mcbin_session, stat_groups)
{
    static struct buf b;
    size_t n;
    struct run t;
    struct pkt p[16];

    run_init(&t);
    t.ctx.stats = stats_cb;
    b.n = 0;
    rq(&b, MCBIN_OP_STAT, NULL, NULL, 0, NULL, 0, 1, 0);
    rq(&b, MCBIN_OP_STAT, "settingsxyz", NULL, 0, NULL, 0, 2, 0);
    rq(&b, MCBIN_OP_STAT, "reset", NULL, 0, NULL, 0, 3, 0);
    rq(&b, MCBIN_OP_STAT, "items", NULL, 0, NULL, 0, 4, 0); /* unknown to this callback */
    rq(&b, MCBIN_OP_STAT, "conns", NULL, 0, NULL, 0, 5, 0); /* not a binary group in 1.6.18 */
    rq(&b, MCBIN_OP_STAT, "detail x", NULL, 0, NULL, 0, 6, 0);
    cr_assert_eq(feed(&t, b.p, b.n, b.n), PROTO_OK);
    char *out = pt_drain(t.out, (size_t)-1, &n);
    cr_assert_eq(packets(out, n, p, 16), 9);
    expect_pkt(&p[0], MCBIN_OP_STAT, 0, 1, "42");
    cr_expect(p[0].keylen == 3 && memcmp(p[0].key, "pid", 3) == 0);
    expect_pkt(&p[1], MCBIN_OP_STAT, 0, 1, "1.6.18 x");
    expect_pkt(&p[2], MCBIN_OP_STAT, 0, 1, "");
    cr_expect_eq(p[2].keylen, 0);
    expect_pkt(&p[3], MCBIN_OP_STAT, 0, 2, "64");
    expect_pkt(&p[4], MCBIN_OP_STAT, 0, 2, "");
    expect_pkt(&p[5], MCBIN_OP_STAT, 0, 3, "");
    cr_expect_eq(p[5].keylen, 0);
    expect_pkt(&p[6], MCBIN_OP_STAT, MCBIN_ST_KEY_ENOENT, 4, "Not found");
    expect_pkt(&p[7], MCBIN_OP_STAT, MCBIN_ST_KEY_ENOENT, 5, "Not found");
    expect_pkt(&p[8], MCBIN_OP_STAT, MCBIN_ST_KEY_ENOENT, 6, "Not found");
    free(out);
    run_fini(&t);
}

/* The binary protocol counts in the text protocol's counters. */
Test(mcbin_session, counters)
{
    static struct buf b;
    struct run t;

    run_init(&t);
    b.n = 0;
    set_rq(&b, MCBIN_OP_SET, "a", "1", 0, 0, 0, 0);
    rq(&b, MCBIN_OP_GET, "a", NULL, 0, NULL, 0, 0, 0);
    rq(&b, MCBIN_OP_GETQ, "b", NULL, 0, NULL, 0, 0, 0);
    arith_rq(&b, MCBIN_OP_INCREMENT, "a", 1, 0, 0, 0);
    arith_rq(&b, MCBIN_OP_DECREMENT, "z", 1, 0, 0xffffffffu, 0);
    rq(&b, MCBIN_OP_DELETE, "a", NULL, 0, NULL, 0, 0, 0);
    rq(&b, MCBIN_OP_DELETE, "a", NULL, 0, NULL, 0, 0, 0);
    rq(&b, MCBIN_OP_FLUSH, NULL, NULL, 0, NULL, 0, 0, 0);
    feed(&t, b.p, b.n, b.n);
    cr_expect_eq(t.stats.cmd_set, 1);
    cr_expect_eq(t.stats.cmd_get, 2);
    cr_expect_eq(t.stats.get_hits, 1);
    cr_expect_eq(t.stats.get_misses, 1);
    cr_expect_eq(t.stats.incr_hits, 1);
    cr_expect_eq(t.stats.decr_misses, 1);
    cr_expect_eq(t.stats.delete_hits, 1);
    cr_expect_eq(t.stats.delete_misses, 1);
    cr_expect_eq(t.stats.cmd_flush, 1);
    run_fini(&t);
}

/* A value set over the binary protocol is read by the text protocol's session with its flags and
 * CAS, and the other way round. */
Test(mcbin_session, shared_with_the_text_protocol)
{
    static struct buf b;
    struct run t;
    size_t used, n;
    struct pkt p[2];
    char line[128];

    run_init(&t);
    struct mc_session *text = mc_session_create(&t.ctx, &t.stats);
    cr_assert_not_null(text);
    b.n = 0;
    set_rq(&b, MCBIN_OP_SET, "x", "bin", 77, 0, 1, 0);
    feed(&t, b.p, b.n, b.n);
    char *out = pt_drain(t.out, (size_t)-1, &n);
    cr_assert_eq(packets(out, n, p, 2), 1);
    uint64_t cas = p[0].cas;
    free(out);
    const char *req = "gets x\r\nset y 9 0 4\r\ntext\r\n";
    cr_assert_eq(mc_session_feed(text, req, strlen(req), &used, t.out), PROTO_OK);
    out = pt_drain(t.out, (size_t)-1, &n);
    snprintf(line, sizeof(line), "VALUE x 77 3 %llu\r\nbin\r\nEND\r\nSTORED\r\n", (unsigned long long)cas);
    cr_expect_str_eq(out, line);
    free(out);
    b.n = 0;
    rq(&b, MCBIN_OP_GET, "y", NULL, 0, NULL, 0, 2, 0);
    feed(&t, b.p, b.n, b.n);
    out = pt_drain(t.out, (size_t)-1, &n);
    cr_assert_eq(packets(out, n, p, 2), 1);
    expect_pkt(&p[0], MCBIN_OP_GET, 0, 2, "text");
    cr_expect_eq(rd32((const unsigned char *)p[0].ext), 9u);
    free(out);
    mc_session_destroy(&text);
    run_fini(&t);
}

/* -F refuses FLUSH with "Auth failure." (memcached); --disable-admin-commands also refuses the STAT
 * groups that change the server (cairn's, as its text protocol). */
Test(mcbin_session, flush_and_admin_refused)
{
    static struct buf b;
    size_t n;
    struct run t;
    struct pkt p[8];

    run_init(&t);
    t.ctx.flush_disabled = true;
    b.n = 0;
    set_rq(&b, MCBIN_OP_SET, "a", "1", 0, 0, 1, 0);
    rq(&b, MCBIN_OP_FLUSHQ, NULL, NULL, 0, NULL, 0, 2, 0);
    rq(&b, MCBIN_OP_GET, "a", NULL, 0, NULL, 0, 3, 0);
    feed(&t, b.p, b.n, b.n);
    char *out = pt_drain(t.out, (size_t)-1, &n);
    cr_assert_eq(packets(out, n, p, 8), 3);
    expect_pkt(&p[1], MCBIN_OP_FLUSHQ, MCBIN_ST_AUTH_ERROR, 2, "Auth failure.");
    expect_pkt(&p[2], MCBIN_OP_GET, 0, 3, "1");
    cr_expect_eq(t.stats.cmd_flush, 0);
    free(out);
    t.ctx.flush_disabled = false;
    t.ctx.admin_disabled = true;
    b.n = 0;
    rq(&b, MCBIN_OP_FLUSH, NULL, NULL, 0, NULL, 0, 4, 0);
    rq(&b, MCBIN_OP_STAT, "reset", NULL, 0, NULL, 0, 5, 0);
    rq(&b, MCBIN_OP_STAT, "detail on", NULL, 0, NULL, 0, 6, 0);
    feed(&t, b.p, b.n, b.n);
    out = pt_drain(t.out, (size_t)-1, &n);
    cr_assert_eq(packets(out, n, p, 8), 3);
    expect_pkt(&p[0], MCBIN_OP_FLUSH, MCBIN_ST_AUTH_ERROR, 4, "Auth failure.");
    expect_pkt(&p[1], MCBIN_OP_STAT, MCBIN_ST_AUTH_ERROR, 5, "Auth failure.");
    expect_pkt(&p[2], MCBIN_OP_STAT, MCBIN_ST_AUTH_ERROR, 6, "Auth failure.");
    free(out);
    run_fini(&t);
}

/* -C: a storage request's CAS is dropped (memcached's items have none to compare), while DELETE and
 * INCREMENT with a CAS find no match. */
Test(mcbin_session, cas_disabled)
{
    static struct buf b;
    size_t n;
    struct run t;
    struct pkt p[8];

    run_init(&t);
    cache_destroy(&t.cache);
    struct cache_options o;
    cache_options_default(&o);
    o.memory_limit = 8u << 20;
    o.use_cas = false;
    const char *err = NULL;
    t.cache = cache_create(&o, &err);
    cr_assert_not_null(t.cache);
    outq_destroy(&t.out);
    t.out = outq_create(t.cache);
    t.ctx.cache = t.cache;
    t.ctx.use_cas = false;
    b.n = 0;
    set_rq(&b, MCBIN_OP_SET, "k", "v", 0, 0, 1, 0);
    set_rq(&b, MCBIN_OP_SET, "k", "w", 0, 0, 2, 5);
    rq(&b, MCBIN_OP_APPEND, "k", NULL, 0, "x", 1, 3, 7);
    rq(&b, MCBIN_OP_GET, "k", NULL, 0, NULL, 0, 4, 0);
    rq(&b, MCBIN_OP_DELETE, "k", NULL, 0, NULL, 0, 5, 3);
    feed(&t, b.p, b.n, b.n);
    char *out = pt_drain(t.out, (size_t)-1, &n);
    cr_assert_eq(packets(out, n, p, 8), 5);
    expect_pkt(&p[1], MCBIN_OP_SET, 0, 2, "");
    expect_pkt(&p[2], MCBIN_OP_APPEND, 0, 3, "");
    expect_pkt(&p[3], MCBIN_OP_GET, 0, 4, "wx");
    cr_expect_eq(p[3].cas, 0);
    expect_pkt(&p[4], MCBIN_OP_DELETE, MCBIN_ST_KEY_EEXISTS, 5, "Data exists for key.");
    free(out);
    run_fini(&t);
}
