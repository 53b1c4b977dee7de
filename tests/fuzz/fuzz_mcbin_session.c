/*
 * fuzz_mcbin_session.c: libFuzzer target for memcached's binary protocol: the header parser
 * (protocol/mcbin/mcbin_parse.h) and the session (mcbin_proto_ops) over a small real cache, fed the
 * way a connection feeds it and drained the way a connection writes.
 *
 * Input: one configuration byte, a 4-byte seed, then the payload.
 *   cfg bit 0  program mode: the payload is 4-byte records turned into requests (below), else it is
 *              the raw stream
 *       bit 1  the output queue's pause weight is 1 (PROTO_PAUSE before nearly every request)
 *       bit 2  values go through ops->value_window / value_filled when the session offers one
 *       bit 3  a receiving budget of 40 KiB (PROTO_BUSY, then no_wait: refused)
 *       bit 4  CAS off
 *       bit 5  flush disabled (-F)
 *       bit 6  a stats callback writing a few text lines (STAT re-frames them)
 *       bit 7  credentials (alice:secret, admin; bob:pw, app): connections authenticate with SASL
 * The seed drives the cutting of the stream into reads and of the output into writes.
 *
 * Program records: [opcode][key][value][extra]. The opcode byte picks one of the opcodes memcached
 * knows (and a few it does not); key picks one of eight short keys (bit 7: a 251-byte key); value
 * picks a value of (value & 0x7f) * 512 bytes (past -I, 64 KiB, from 128); extra bit 7 corrupts the
 * body length, bit 6 sends a CAS of (extra & 0x0f), bits 4-5 pick the exptime (0, 100, 0xffffffff,
 * 1), bits 0-1 drop or add an extras byte when bit 3 is set. SASL_AUTH and SASL_STEP name the
 * mechanism PLAIN (key bit 6: k0..k7, bit 5: 33 bytes, bit 7: 251 bytes) and carry, by value & 3,
 * alice's right password, bob's, a wrong one or nothing (value bit 7: the long digits instead).
 *
 * What must hold:
 * - mcbin_parse: a head it accepts lies within the input, its key within the head, its lengths agree;
 * - no crash, leak or undefined behaviour (ASan, LSan, UBSan);
 * - feed consumes at most what it was given; on PROTO_OK what is left is an unfinished head (the
 *   parser asks for more); PROTO_PAUSE only at the pause weight; PROTO_BUSY only with the budget;
 *   never PROTO_SHUTDOWN, PROTO_WAIT only with credentials (a held-back failure: PROTO_WAIT_AUTH_DELAY
 *   once, answered at once here); nothing is fed after PROTO_CLOSE; the loop makes progress;
 * - with credentials, when the stream holds neither user's right password (as `\0user\0password`),
 *   nothing reaches the cache: no item, no item command counted, no SASL success answered, no other
 *   success but VERSION, SASL_LIST_MECHS and AUTH_CONTINUE; when it holds only bob's (role app),
 *   nothing is flushed;
 * - the output is a sequence of whole response packets (magic 0x81, lengths that agree, a status
 *   memcached sends);
 * - the receiving budget is back to 0 outside a value and after the session is gone; at the end no
 *   item holds a reference beyond the table's and no chunk is lost;
 * - cut into reads or whole, the stream gives the same output bytes, unless a cache evicted or ran
 *   out of memory.
 */
#include "config.h"

#include <inttypes.h>
#include <stdatomic.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/uio.h>
#include <unistd.h>

#include "protocol/auth.h"
#include "protocol/mc/memcache.h"
#include "protocol/mcbin/mcbin.h"
#include "protocol/mcbin/mcbin_parse.h"
#include "protocol/outq.h"
#include "protocol/proto.h"
#include "storage/cache.h"
#include "storage/item.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define FUZZ_CHECK(cond)                                                                                     \
    do {                                                                                                     \
        if (!(cond)) {                                                                                       \
            fprintf(stderr, "fuzz_mcbin_session: check failed at line %d: %s\n", __LINE__, #cond);           \
            abort();                                                                                         \
        }                                                                                                    \
    } while (0)

#define CFG_PROGRAM  0x01u
#define CFG_PAUSE1   0x02u
#define CFG_WINDOW   0x04u
#define CFG_BUDGET   0x08u
#define CFG_NO_CAS   0x10u
#define CFG_NO_FLUSH 0x20u
#define CFG_STATS    0x40u
#define CFG_AUTH     0x80u

#define HEADER_LEN 5u
#define ITEM_MAX   (64u * 1024u)
#define MEMORY     (4u << 20)
#define RECV_LIMIT (40u * 1024u)

static const struct proto_ops *const ops = &mcbin_proto_ops;

/* ---- a growable byte buffer ---- */

struct buf {
    char *p;
    size_t len, cap;
};

static void buf_add(struct buf *b, const void *p, size_t n)
{
    if (b->len + n > b->cap) {
        size_t cap = b->cap ? b->cap : 256;
        while (cap < b->len + n)
            cap *= 2;
        b->p = realloc(b->p, cap);
        FUZZ_CHECK(b->p != NULL);
        b->cap = cap;
    }
    if (n > 0)
        memcpy(b->p + b->len, p, n);
    b->len += n;
}

/* ---- the split generator ---- */

static uint32_t rng_next(uint32_t *s)
{
    uint32_t x = *s ? *s : 0x9e3779b9u;
    x ^= x << 13;
    x ^= x >> 17;
    x ^= x << 5;
    *s = x;
    return x;
}

/* A read or write size in 1..max: mostly small, sometimes everything. */
static size_t rng_chunk(uint32_t *s, size_t max)
{
    uint32_t r = rng_next(s);
    if (max == 0)
        return 0;
    switch (r & 3u) {
    case 0:
        return 1;
    case 1:
        return 1 + (r >> 8) % (max < 8 ? max : 8);
    case 2:
        return 1 + (r >> 8) % max;
    default:
        return max;
    }
}

/* ---- program mode ---- */

static const uint8_t program_ops[] = {MCBIN_OP_GET,
                                      MCBIN_OP_GETQ,
                                      MCBIN_OP_GETK,
                                      MCBIN_OP_GETKQ,
                                      MCBIN_OP_SET,
                                      MCBIN_OP_SETQ,
                                      MCBIN_OP_ADD,
                                      MCBIN_OP_ADDQ,
                                      MCBIN_OP_REPLACE,
                                      MCBIN_OP_REPLACEQ,
                                      MCBIN_OP_DELETE,
                                      MCBIN_OP_DELETEQ,
                                      MCBIN_OP_INCREMENT,
                                      MCBIN_OP_INCREMENTQ,
                                      MCBIN_OP_DECREMENT,
                                      MCBIN_OP_DECREMENTQ,
                                      MCBIN_OP_QUIT,
                                      MCBIN_OP_QUITQ,
                                      MCBIN_OP_FLUSH,
                                      MCBIN_OP_FLUSHQ,
                                      MCBIN_OP_NOOP,
                                      MCBIN_OP_VERSION,
                                      MCBIN_OP_APPEND,
                                      MCBIN_OP_APPENDQ,
                                      MCBIN_OP_PREPEND,
                                      MCBIN_OP_PREPENDQ,
                                      MCBIN_OP_STAT,
                                      MCBIN_OP_VERBOSITY,
                                      MCBIN_OP_TOUCH,
                                      MCBIN_OP_GAT,
                                      MCBIN_OP_GATQ,
                                      MCBIN_OP_GATK,
                                      MCBIN_OP_GATKQ,
                                      MCBIN_OP_SASL_LIST_MECHS,
                                      MCBIN_OP_SASL_AUTH,
                                      MCBIN_OP_SASL_STEP,
                                      0x50,
                                      0xff};

/* The extras length an opcode takes. */
static uint8_t program_extlen(uint8_t op)
{
    switch (op) {
    case MCBIN_OP_SET:
    case MCBIN_OP_SETQ:
    case MCBIN_OP_ADD:
    case MCBIN_OP_ADDQ:
    case MCBIN_OP_REPLACE:
    case MCBIN_OP_REPLACEQ:
        return 8;
    case MCBIN_OP_INCREMENT:
    case MCBIN_OP_INCREMENTQ:
    case MCBIN_OP_DECREMENT:
    case MCBIN_OP_DECREMENTQ:
        return 20;
    case MCBIN_OP_TOUCH:
    case MCBIN_OP_GAT:
    case MCBIN_OP_GATQ:
    case MCBIN_OP_GATK:
    case MCBIN_OP_GATKQ:
    case MCBIN_OP_FLUSH:
    case MCBIN_OP_FLUSHQ:
        return 4;
    default:
        return 0;
    }
}

static bool program_has_key(uint8_t op)
{
    switch (op) {
    case MCBIN_OP_QUIT:
    case MCBIN_OP_QUITQ:
    case MCBIN_OP_FLUSH:
    case MCBIN_OP_FLUSHQ:
    case MCBIN_OP_NOOP:
    case MCBIN_OP_VERSION:
    case MCBIN_OP_SASL_LIST_MECHS:
    case MCBIN_OP_VERBOSITY:
        return false;
    default:
        return true;
    }
}

static bool program_has_value(uint8_t op)
{
    switch (op) {
    case MCBIN_OP_SET:
    case MCBIN_OP_SETQ:
    case MCBIN_OP_ADD:
    case MCBIN_OP_ADDQ:
    case MCBIN_OP_REPLACE:
    case MCBIN_OP_REPLACEQ:
    case MCBIN_OP_APPEND:
    case MCBIN_OP_APPENDQ:
    case MCBIN_OP_PREPEND:
    case MCBIN_OP_PREPENDQ:
    case MCBIN_OP_SASL_AUTH:
    case MCBIN_OP_SASL_STEP:
        return true;
    default:
        return false;
    }
}

/* The credentials of CFG_AUTH and the PLAIN responses program mode sends. */
static const char users_file[] = "alice:secret\nbob:pw:app\n";
#define ALICE_OK "\0alice\0secret"
#define BOB_OK   "\0bob\0pw"
static const struct {
    const char *p;
    size_t n;
} sasl_values[] = {
    {ALICE_OK, sizeof(ALICE_OK) - 1}, {BOB_OK, sizeof(BOB_OK) - 1}, {"\0alice\0wrong", 12}, {"", 0}};

static void put32(unsigned char *p, uint32_t v)
{
    p[0] = (unsigned char)(v >> 24);
    p[1] = (unsigned char)(v >> 16);
    p[2] = (unsigned char)(v >> 8);
    p[3] = (unsigned char)v;
}

/* One record as a request. */
static void program_request(const uint8_t rec[4], uint32_t opaque, struct buf *out)
{
    static const uint32_t exptimes[] = {0, 100, 0xffffffffu, 1};
    uint8_t op = program_ops[rec[0] % sizeof(program_ops)];
    char key[256];
    size_t nkey = 0;
    uint8_t ext[24];
    uint8_t next = program_extlen(op);
    size_t nval = program_has_value(op) ? (size_t)(rec[2] & 0x7f) * 512u + (rec[2] & 1u) : 0;
    uint32_t exp = exptimes[(rec[3] >> 4) & 3u];
    unsigned char h[MCBIN_HEADER_LEN];

    bool sasl = op == MCBIN_OP_SASL_AUTH || op == MCBIN_OP_SASL_STEP;
    if (sasl && !(rec[2] & 0x80))
        nval = sasl_values[rec[2] & 3u].n;
    if (sasl && !(rec[1] & 0xe0)) {
        nkey = 5;
        memcpy(key, "PLAIN", 5);
    } else if (sasl && (rec[1] & 0x20) && !(rec[1] & 0x80)) {
        nkey = 33;
        memset(key, 'P', nkey);
    } else if (program_has_key(op)) {
        if (rec[1] & 0x80) {
            nkey = 251;
            memset(key, 'L', nkey);
        } else {
            nkey = (size_t)snprintf(key, sizeof(key), "k%u", rec[1] & 7u);
        }
    }
    memset(ext, 0, sizeof(ext));
    if (next == 8) {
        put32(ext, rec[1]);
        put32(ext + 4, exp);
    } else if (next == 20) {
        put32(ext + 4, rec[2]);                    /* delta */
        put32(ext + 8, (rec[2] & 0x80) ? ~0u : 0); /* initial */
        put32(ext + 12, rec[1]);
        put32(ext + 16, exp);
    } else if (next == 4) {
        put32(ext, exp);
    }
    if (rec[3] & 0x08)
        next = (uint8_t)((rec[3] & 1) ? next + 1 : (next > 0 ? next - 1 : 0));
    uint32_t body = (uint32_t)(next + nkey + nval);
    if (rec[3] & 0x80)
        body = rec[2] & 0x40 ? body + (rec[3] & 7u) : (body > 3 ? body - 3 : 0);
    memset(h, 0, sizeof(h));
    h[0] = MCBIN_REQ_MAGIC;
    h[1] = op;
    h[2] = (unsigned char)(nkey >> 8);
    h[3] = (unsigned char)nkey;
    h[4] = next;
    put32(h + 8, body);
    put32(h + 12, opaque);
    if (rec[3] & 0x40)
        h[23] = rec[3] & 0x0f;
    buf_add(out, h, sizeof(h));
    buf_add(out, ext, next);
    buf_add(out, key, nkey);
    if (sasl && !(rec[2] & 0x80)) {
        buf_add(out, sasl_values[rec[2] & 3u].p, nval);
        return;
    }
    for (size_t i = 0; i < nval; i++) {
        char c = (char)('0' + (i + rec[2]) % 10);
        buf_add(out, &c, 1);
    }
}

/* ---- the parser alone ---- */

static void check_parse(const uint8_t *p, size_t n)
{
    struct mcbin_request req;
    enum mcbin_parse_status st = mcbin_parse((const char *)p, n, &req);

    if (st == MCBIN_PARSE_NEED_MORE) {
        FUZZ_CHECK(n < MCBIN_HEAD_MAX);
        return;
    }
    if (st == MCBIN_PARSE_CLOSE)
        return;
    FUZZ_CHECK(req.head_len >= MCBIN_HEADER_LEN && req.head_len <= n && req.head_len <= MCBIN_HEAD_MAX);
    FUZZ_CHECK(req.head_len == MCBIN_HEADER_LEN + (size_t)req.h.extlen + req.h.keylen);
    FUZZ_CHECK(req.key == (const char *)p + MCBIN_HEADER_LEN + req.h.extlen);
    if (st == MCBIN_PARSE_ERROR_CLOSE) {
        FUZZ_CHECK(req.error == MCBIN_ST_EINVAL || req.error == MCBIN_ST_UNKNOWN_COMMAND);
        return;
    }
    FUZZ_CHECK(req.h.keylen <= 250);
    FUZZ_CHECK((uint64_t)req.h.extlen + req.h.keylen + req.vlen == req.h.bodylen);
    if (req.cmd == MCBIN_CMD_NONE)
        FUZZ_CHECK(req.swallow <= req.h.bodylen);
}

/* mcbin_parse_sasl: authenticated, what mcbin_parse says but for the SASL commands; not, only SASL
 * and VERSION pass, anything else is "Auth failure." once the lengths are read. */
static void check_parse_sasl(const uint8_t *p, size_t n)
{
    struct mcbin_request plain, in, out;
    enum mcbin_parse_status st = mcbin_parse((const char *)p, n, &plain);
    enum mcbin_parse_status sin = mcbin_parse_sasl((const char *)p, n, true, &in);
    enum mcbin_parse_status sout = mcbin_parse_sasl((const char *)p, n, false, &out);
    bool sasl_op = n >= 2 && (p[1] == MCBIN_OP_SASL_LIST_MECHS || p[1] == MCBIN_OP_SASL_AUTH ||
                              p[1] == MCBIN_OP_SASL_STEP);

    FUZZ_CHECK(sin == st);
    if (st == MCBIN_PARSE_OK && !sasl_op)
        FUZZ_CHECK(in.cmd == plain.cmd && in.head_len == plain.head_len);
    if (st == MCBIN_PARSE_OK && sasl_op)
        FUZZ_CHECK(in.cmd == (p[1] == MCBIN_OP_SASL_LIST_MECHS ? MCBIN_CMD_SASL_LIST
                              : p[1] == MCBIN_OP_SASL_AUTH     ? MCBIN_CMD_SASL_AUTH
                                                               : MCBIN_CMD_SASL_STEP));
    if (sasl_op || (n >= 2 && p[1] == MCBIN_OP_VERSION)) {
        FUZZ_CHECK(sout == sin && (sout != MCBIN_PARSE_OK || out.cmd == in.cmd));
        return;
    }
    if (sout == MCBIN_PARSE_OK)
        FUZZ_CHECK(!"an unauthenticated request was accepted");
    if (sout == MCBIN_PARSE_ERROR_CLOSE)
        FUZZ_CHECK(out.error == MCBIN_ST_AUTH_ERROR || out.error == MCBIN_ST_UNKNOWN_COMMAND);
}

/* The credentials set of CFG_AUTH, loaded once from a 0600 file (kept for the process). */
static const struct auth *fuzz_auth(void)
{
    static struct auth *a;
    char path[] = "/tmp/cairn-fuzz-auth-XXXXXX", err[256];

    if (a != NULL)
        return a;
    a = auth_create();
    int fd = mkstemp(path);
    FUZZ_CHECK(a != NULL && fd >= 0);
    FUZZ_CHECK(fchmod(fd, 0600) == 0);
    FUZZ_CHECK(write(fd, users_file, sizeof(users_file) - 1) == (ssize_t)(sizeof(users_file) - 1));
    close(fd);
    bool ok = auth_load(a, path, NULL, err, sizeof(err));
    unlink(path);
    FUZZ_CHECK(ok);
    return a;
}

/* ---- a session ---- */

struct run {
    unsigned cfg;
    uint32_t rng;
    struct cache *cache;
    struct mc_context ctx;
    struct mc_stats stats;
    _Atomic uint64_t recv_bytes;
    void *s;
    struct outq *r;
    struct buf out;
    bool closed;
};

static enum mc_stats_result fake_stats(void *arg, int argc, char **argv, struct outq *out)
{
    (void)arg;
    if (argc > 0 && strcmp(argv[0], "items") == 0)
        return MC_STATS_UNKNOWN;
    outq_add_str(out, "STAT pid 1\r\nSTAT version 9.9.9 x\r\nSTAT oddline\r\nnot a stat\r\n");
    return MC_STATS_END;
}

static struct cache *make_cache(unsigned cfg)
{
    struct cache_options o;
    cache_options_default(&o);
    o.memory_limit = MEMORY;
    o.item_size_max = ITEM_MAX;
    o.shard_bits = 2;
    o.hash_power = 4;
    o.use_cas = !(cfg & CFG_NO_CAS);
    const char *err = NULL;
    struct cache *c = cache_create(&o, &err);
    FUZZ_CHECK(c != NULL);
    cache_clock_set(c, 1000);
    return c;
}

static void run_init(struct run *t, unsigned cfg, uint32_t seed, struct cache *cache)
{
    memset(t, 0, sizeof(*t));
    t->cfg = cfg;
    t->rng = seed;
    t->cache = cache;
    t->ctx.cache = cache;
    t->ctx.item_size_max = ITEM_MAX;
    t->ctx.use_cas = !(cfg & CFG_NO_CAS);
    t->ctx.version = "9.9.9";
    t->ctx.out_pause = (cfg & CFG_PAUSE1) ? 1 : 200;
    t->ctx.flush_disabled = (cfg & CFG_NO_FLUSH) != 0;
    if (cfg & CFG_BUDGET) {
        t->ctx.recv_bytes = &t->recv_bytes;
        t->ctx.recv_limit = RECV_LIMIT;
    }
    if (cfg & CFG_STATS)
        t->ctx.stats = fake_stats;
    if (cfg & CFG_AUTH)
        t->ctx.auth = fuzz_auth();
    t->s = ops->create(&t->ctx, &t->stats);
    t->r = outq_create(cache);
    FUZZ_CHECK(t->s != NULL && t->r != NULL);
}

static void count_item(void *arg, const struct item *it)
{
    FUZZ_CHECK((item_state(it) & ITEM_REFCOUNT_MASK) == 1);
    (*(uint64_t *)arg)++;
}

/* Session and queue gone: nothing holds an item but the table, and no chunk is lost. */
static void check_cache_clean(struct run *t)
{
    uint64_t seen = 0, cursor = 0, linked = 0;
    struct cache_stats cs;

    do
        cursor = cache_scan(t->cache, cursor, count_item, &seen);
    while (cursor != 0);
    cache_stats_get(t->cache, &cs);
    FUZZ_CHECK(seen <= cs.curr_items);
    for (unsigned id = 1; id <= cache_class_count(t->cache); id++) {
        struct cache_class_stats k;
        cache_class_stats_get(t->cache, id, &k);
        FUZZ_CHECK(k.used_chunks == k.number);
        linked += k.number;
    }
    FUZZ_CHECK(linked == cs.curr_items);
}

/* Whether the cache evicted or refused memory (outputs of the two runs may then differ). */
static bool run_pressed(struct run *t)
{
    struct cache_stats cs;
    cache_stats_get(t->cache, &cs);
    return cs.evictions != 0 || t->stats.store_no_memory != 0;
}

static void run_fini(struct run *t)
{
    ops->destroy(t->s);
    t->s = NULL;
    if (t->cfg & CFG_BUDGET)
        FUZZ_CHECK(atomic_load(&t->recv_bytes) == 0);
    outq_destroy(&t->r);
    check_cache_clean(t);
    cache_destroy(&t->cache);
    free(t->out.p);
}

/* Writes up to max bytes of the queue, as a writev of a random number of iovecs would. */
static void drain_some(struct run *t, size_t max)
{
    while (max > 0 && outq_pending(t->r) > 0) {
        struct iovec iov[16];
        int want = 1 + (int)(rng_next(&t->rng) % 16u);
        int k = outq_iov(t->r, iov, want);
        FUZZ_CHECK(k > 0 && k <= want);
        size_t took = 0;
        for (int i = 0; i < k && took < max; i++) {
            FUZZ_CHECK(iov[i].iov_len > 0);
            size_t m = iov[i].iov_len < max - took ? iov[i].iov_len : max - took;
            buf_add(&t->out, iov[i].iov_base, m);
            took += m;
        }
        outq_consume(t->r, took);
        max -= took;
    }
}

static void drain_all(struct run *t)
{
    drain_some(t, SIZE_MAX);
    FUZZ_CHECK(outq_pending(t->r) == 0);
}

/* What every feed must satisfy (left: the bytes it did not consume, at rest). Returns whether to
 * feed them again at once. */
static bool after_feed(struct run *t, enum proto_status st, const char *rest, size_t left)
{
    struct mcbin_request req;
    bool refeed = false;

    switch (st) {
    case PROTO_OK:
        if (left > 0) {
            FUZZ_CHECK(!ops->mid_value(t->s));
            FUZZ_CHECK(mcbin_parse(rest, left, &req) == MCBIN_PARSE_NEED_MORE);
        }
        break;
    case PROTO_CLOSE:
        t->closed = true;
        break;
    case PROTO_PAUSE:
        FUZZ_CHECK(outq_weight(t->r) >= t->ctx.out_pause);
        FUZZ_CHECK(left > 0);
        drain_all(t);
        refeed = true;
        break;
    case PROTO_BUSY:
        FUZZ_CHECK(t->ctx.recv_bytes != NULL && left > 0);
        ops->no_wait(t->s);
        refeed = true;
        break;
    case PROTO_WAIT:
        /* a held-back authentication failure: the server answers once the delay has passed */
        FUZZ_CHECK(t->ctx.auth != NULL);
        FUZZ_CHECK(ops->take_wait(t->s) == PROTO_WAIT_AUTH_DELAY);
        ops->answer(t->s, &(struct proto_outcome){.ev = PROTO_EV_AUTH_DELAYED}, t->r);
        refeed = true;
        break;
    default:
        FUZZ_CHECK(!"a status the binary protocol never answers");
    }
    FUZZ_CHECK(!outq_failed(t->r));
    FUZZ_CHECK(ops->take_wait(t->s) == PROTO_WAIT_NONE);
    if (t->ctx.recv_bytes != NULL && !ops->mid_value(t->s))
        FUZZ_CHECK(atomic_load(&t->recv_bytes) == 0);
    return refeed;
}

/* The stream cut into reads as the seed says, values through the window when offered. */
static void run_chunked(struct run *t, const char *in, size_t n)
{
    char *rbuf = malloc(n + 1);
    size_t rlen = 0, off = 0, steps = 0, limit = 8 * n + 1024;
    bool refeed = false;

    FUZZ_CHECK(rbuf != NULL);
    while (!t->closed) {
        FUZZ_CHECK(++steps < limit);
        char *dst;
        size_t wlen;
        if (rlen == 0 && off < n && (t->cfg & CFG_WINDOW) && ops->value_window(t->s, &dst, &wlen)) {
            FUZZ_CHECK(wlen > 0 && ops->mid_value(t->s));
            size_t k = rng_chunk(&t->rng, wlen < n - off ? wlen : n - off);
            memcpy(dst, in + off, k);
            ops->value_filled(t->s, k);
            off += k;
            continue;
        }
        if (off < n) {
            size_t k = rng_chunk(&t->rng, n - off);
            memcpy(rbuf + rlen, in + off, k);
            rlen += k;
            off += k;
        } else if (!refeed) {
            break;
        }
        size_t used = SIZE_MAX;
        enum proto_status st = ops->feed(t->s, rbuf, rlen, &used, t->r);
        FUZZ_CHECK(used <= rlen);
        memmove(rbuf, rbuf + used, rlen - used);
        rlen -= used;
        refeed = after_feed(t, st, rbuf, rlen);
        drain_some(t, rng_chunk(&t->rng, outq_pending(t->r) + 1));
    }
    drain_all(t);
    free(rbuf);
}

/* The stream in one read; fed again only after PROTO_PAUSE or PROTO_BUSY. */
static void run_whole(struct run *t, const char *in, size_t n)
{
    size_t pos = 0, steps = 0;
    bool refeed = true;

    while (!t->closed && refeed) {
        FUZZ_CHECK(++steps < 4 * n + 16);
        size_t used = SIZE_MAX;
        enum proto_status st = ops->feed(t->s, in + pos, n - pos, &used, t->r);
        FUZZ_CHECK(used <= n - pos);
        pos += used;
        refeed = after_feed(t, st, in + pos, n - pos);
    }
    drain_all(t);
}

/* The output is whole response packets with statuses memcached sends (AUTH_CONTINUE with SASL). */
static void check_replies(const struct buf *o, bool sasl)
{
    size_t pos = 0;
    while (pos < o->len) {
        FUZZ_CHECK(o->len - pos >= MCBIN_HEADER_LEN);
        struct mcbin_header h;
        mcbin_header_decode((const unsigned char *)o->p + pos, &h);
        FUZZ_CHECK(h.magic == MCBIN_RES_MAGIC);
        FUZZ_CHECK((uint64_t)h.extlen + h.keylen <= h.bodylen);
        FUZZ_CHECK(o->len - pos - MCBIN_HEADER_LEN >= h.bodylen);
        uint16_t st = h.vbucket; /* a response's status */
        FUZZ_CHECK(st <= MCBIN_ST_DELTA_BADVAL || st == MCBIN_ST_AUTH_ERROR ||
                   st == MCBIN_ST_UNKNOWN_COMMAND || st == MCBIN_ST_ENOMEM ||
                   (sasl && st == MCBIN_ST_AUTH_CONTINUE));
        if (st != MCBIN_ST_OK && h.keylen == 0)
            FUZZ_CHECK(h.extlen == 0 && h.bodylen == strlen(mcbin_status_text((enum mcbin_status)st)));
        pos += MCBIN_HEADER_LEN + h.bodylen;
    }
}

/* Whether b holds s[0..n) (n > 0); candidates are found with memchr, so long values cost little. */
static bool contains(const struct buf *b, const char *s, size_t n)
{
    const char *p = b->p, *end = b->p + b->len;

    while (p != NULL && (size_t)(end - p) >= n) {
        p = memchr(p, s[0], (size_t)(end - p) - n + 1);
        if (p == NULL)
            break;
        if (memcmp(p, s, n) == 0)
            return true;
        p++;
    }
    return false;
}

/* With credentials: what the stream could do without a right password (see the file comment). */
static void check_locked(const struct run *t, const struct buf *stream)
{
    bool alice = contains(stream, ALICE_OK, sizeof(ALICE_OK) - 1);
    bool bob = contains(stream, BOB_OK, sizeof(BOB_OK) - 1);
    const struct mc_stats *st = &t->stats;
    struct cache_stats cs;

    if (!alice)
        FUZZ_CHECK(st->cmd_flush == 0);
    if (alice || bob)
        return;
    cache_stats_get(t->cache, &cs);
    FUZZ_CHECK(cs.curr_items == 0 && cs.total_items == 0);
    FUZZ_CHECK(st->cmd_get == 0 && st->cmd_set == 0 && st->cmd_touch == 0 && st->cmd_flush == 0);
    FUZZ_CHECK(st->delete_hits == 0 && st->delete_misses == 0 && st->incr_hits == 0 && st->incr_misses == 0 &&
               st->decr_hits == 0 && st->decr_misses == 0);
    FUZZ_CHECK(st->auth_cmds == st->auth_errors);
    for (size_t pos = 0; pos < t->out.len;) {
        struct mcbin_header h;
        mcbin_header_decode((const unsigned char *)t->out.p + pos, &h);
        if (h.vbucket == MCBIN_ST_OK)
            FUZZ_CHECK(h.opcode == MCBIN_OP_VERSION || h.opcode == MCBIN_OP_SASL_LIST_MECHS);
        pos += MCBIN_HEADER_LEN + h.bodylen;
    }
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    struct buf stream = {0};
    struct run a, b;

    if (size < HEADER_LEN)
        return 0;
    unsigned cfg = data[0];
    uint32_t seed = (uint32_t)data[1] << 24 | (uint32_t)data[2] << 16 | (uint32_t)data[3] << 8 | data[4];
    const uint8_t *payload = data + HEADER_LEN;
    size_t n = size - HEADER_LEN;

    check_parse(payload, n);
    check_parse_sasl(payload, n);
    if (cfg & CFG_PROGRAM) {
        for (size_t i = 0; i + 4 <= n; i += 4)
            program_request(payload + i, (uint32_t)i, &stream);
    } else {
        buf_add(&stream, payload, n);
    }
    if (stream.len == 0) {
        free(stream.p);
        return 0;
    }
    run_init(&a, cfg, seed, make_cache(cfg));
    run_chunked(&a, stream.p, stream.len);
    run_init(&b, cfg, seed, make_cache(cfg));
    run_whole(&b, stream.p, stream.len);
    check_replies(&a.out, (cfg & CFG_AUTH) != 0);
    check_replies(&b.out, (cfg & CFG_AUTH) != 0);
    if (cfg & CFG_AUTH) {
        check_locked(&a, &stream);
        check_locked(&b, &stream);
    }
    if (!run_pressed(&a) && !run_pressed(&b)) {
        FUZZ_CHECK(a.closed == b.closed);
        if (a.out.len != b.out.len || (a.out.len > 0 && memcmp(a.out.p, b.out.p, a.out.len) != 0)) {
            fprintf(stderr, "fuzz_mcbin_session: chunked %zu bytes, whole %zu bytes\n", a.out.len, b.out.len);
            FUZZ_CHECK(!"the two runs differ");
        }
    }
    run_fini(&a);
    run_fini(&b);
    free(stream.p);
    return 0;
}
