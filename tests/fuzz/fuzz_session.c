/*
 * fuzz_session.c: libFuzzer target for the protocol session (protocol/mc/memcache.h) over a small real
 * cache: request streams go through mc_session_feed the way a connection feeds them, and the replies
 * come out of the response queue the way a connection writes them.
 *
 * Input: a configuration byte, a 4-byte seed, then the payload.
 *   config bit 0  the payload is a program of well-formed requests (below), else the raw stream
 *          bit 1  reply backpressure on (mc_context.out_pause small: PROTO_PAUSE)
 *          bit 2  a receiving budget (recv_limit: PROTO_BUSY, then mc_session_no_wait)
 *          bit 3  snapshots on (`snapshot` answers PROTO_WAIT)
 *          bit 4  value bytes go through mc_session_value_window/value_filled when possible
 *          bit 5  `shutdown` enabled
 *          bit 6  shared admin state with `stats detail` on
 *          bit 7  CAS off
 * The seed drives a small generator that picks where the stream is cut into reads, how much of the
 * reply queue each write takes and through how many iovecs: the fuzzer chooses the split points.
 *
 * What must hold for any stream:
 * - feed never consumes more than it was given; after PROTO_OK outside a value block, what is left
 *   holds no complete line; inside one, everything was taken; every byte offered is consumed, left
 *   over, or went into the value window;
 * - PROTO_WAIT only with snapshots on and take_wait says what, once; PROTO_PAUSE only at the pause limit
 *   (or between the batches of a key dump);
 *   PROTO_BUSY only with a budget; the loop always makes progress;
 * - the reply stream is memcached's: lines end in "\r\n", no bare "\n" inside one, each starts with a
 *   known reply word or a number, and every VALUE / VA block has exactly the length it announces;
 * - the receiving budget's counter is back to 0 once the session is gone.
 * With a program (config bit 0), the target also knows what each request must answer: it keeps a
 * model of the eight keys it uses (value, flags, CAS when a gets showed it) and checks every reply
 * (a key set and read back returns the value set; nothing is evicted in a cache this size, and the
 * clock does not move, so a miss is a bug) and, at the end, every key in the cache itself, with the
 * item's reference count back to the table's one.
 */
#include "config.h"

#include <inttypes.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "protocol/mc/memcache.h"
#include "protocol/outq.h"
#include "storage/cache.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define FUZZ_CHECK(cond)                                                                         \
    do {                                                                                         \
        if (!(cond)) {                                                                           \
            fprintf(stderr, "fuzz_session: check failed at line %d: %s\n", __LINE__, #cond);     \
            abort();                                                                             \
        }                                                                                        \
    } while (0)

#define CFG_PROGRAM   0x01u
#define CFG_PAUSE     0x02u
#define CFG_BUDGET    0x04u
#define CFG_SNAPSHOT  0x08u
#define CFG_WINDOW    0x10u
#define CFG_SHUTDOWN  0x20u
#define CFG_DETAIL    0x40u
#define CFG_NO_CAS    0x80u

#define OUT_PAUSE   96u
#define RECV_LIMIT  (40u * 1024u)
#define NKEYS       8u
#define VALUE_MAX   64u

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

static void buf_printf(struct buf *b, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void buf_printf(struct buf *b, const char *fmt, ...)
{
    char tmp[512];
    va_list ap;
    va_start(ap, fmt);
    int n = vsnprintf(tmp, sizeof(tmp), fmt, ap);
    va_end(ap);
    FUZZ_CHECK(n >= 0 && (size_t)n < sizeof(tmp));
    buf_add(b, tmp, (size_t)n);
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

/* A read or write size: mostly small, sometimes everything. */
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

/* ---- the connection emulation ---- */

struct run {
    unsigned cfg;
    uint32_t rng;
    struct cache *cache;
    struct mc_shared *shared;
    _Atomic uint64_t recv_bytes;
    struct mc_context ctx;
    struct mc_stats stats;
    struct mc_session *s;
    struct outq *r;
    struct buf out; /* every reply byte written so far */
    bool closed;
};

static void run_init(struct run *t, unsigned cfg, uint32_t seed)
{
    memset(t, 0, sizeof(*t));
    t->cfg = cfg;
    t->rng = seed;
    struct cache_options o;
    cache_options_default(&o);
    /* Raw streams: four 1 MiB pages, so that pages move between classes and items are evicted.
     * Programs: room enough that nothing is (a program whose cache evicts anyway stops being
     * checked against the model). */
    o.memory_limit = (cfg & CFG_PROGRAM) ? 32u << 20 : 4u << 20;
    o.item_size_max = 256u << 10;
    o.shard_bits = 2;
    o.hash_power = 4;
    o.use_cas = !(cfg & CFG_NO_CAS);
    const char *err = NULL;
    t->cache = cache_create(&o, &err);
    FUZZ_CHECK(t->cache != NULL);
    cache_clock_set(t->cache, 1000);
    if (cfg & CFG_DETAIL) {
        t->shared = mc_shared_create(':');
        FUZZ_CHECK(t->shared != NULL);
        mc_detail_set(t->shared, true);
    }
    t->ctx.cache = t->cache;
    t->ctx.item_size_max = o.item_size_max;
    t->ctx.enable_shutdown = (cfg & CFG_SHUTDOWN) != 0;
    t->ctx.use_cas = o.use_cas;
    t->ctx.version = "1.6.18";
    t->ctx.shared = t->shared;
    t->ctx.snapshot_enabled = (cfg & CFG_SNAPSHOT) != 0;
    t->ctx.out_pause = (cfg & CFG_PAUSE) ? OUT_PAUSE : 0;
    if (cfg & CFG_BUDGET) {
        t->ctx.recv_bytes = &t->recv_bytes;
        t->ctx.recv_limit = RECV_LIMIT;
    }
    t->s = mc_session_create(&t->ctx, &t->stats);
    t->r = outq_create(t->cache);
    FUZZ_CHECK(t->s != NULL && t->r != NULL);
}

static void run_fini(struct run *t)
{
    mc_session_destroy(&t->s);
    FUZZ_CHECK(t->s == NULL);
    if (t->cfg & CFG_BUDGET)
        FUZZ_CHECK(atomic_load(&t->recv_bytes) == 0);
    outq_destroy(&t->r);
    mc_shared_destroy(&t->shared);
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
        FUZZ_CHECK(took <= outq_pending(t->r));
        outq_consume(t->r, took);
        max -= took;
    }
}

static void drain_all(struct run *t)
{
    drain_some(t, SIZE_MAX);
    FUZZ_CHECK(outq_pending(t->r) == 0);
}

/* Whether the buffered input starts with a key dump request (it may answer PROTO_PAUSE below the
 * pause weight, once per batch). */
static bool is_dump_line(const char *p, size_t n)
{
    while (n > 0 && *p == ' ') {
        p++;
        n--;
    }
    return (n >= 6 && memcmp(p, "stats ", 6) == 0) || (n >= 12 && memcmp(p, "lru_crawler ", 12) == 0);
}

/* Feeds the stream in[0..n) through the session as a connection would; returns the bytes that
 * were never consumed (a partial line at the end, or what followed a close). */
static size_t run_stream(struct run *t, const char *in, size_t n)
{
    char *rbuf = malloc(n + 1);
    FUZZ_CHECK(rbuf != NULL);
    size_t rlen = 0, off = 0, consumed = 0, windowed = 0;
    size_t steps = 0, limit = 64 * n + 1024;
    bool refeed = false;

    while (!t->closed) {
        FUZZ_CHECK(++steps < limit); /* no livelock */
        char *dst;
        size_t wlen;
        if (rlen == 0 && off < n && (t->cfg & CFG_WINDOW) && mc_session_value_window(t->s, &dst, &wlen)) {
            FUZZ_CHECK(wlen > 0 && mc_session_mid_value(t->s));
            size_t k = rng_chunk(&t->rng, wlen < n - off ? wlen : n - off);
            memcpy(dst, in + off, k);
            mc_session_value_filled(t->s, k);
            off += k;
            windowed += k;
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
        refeed = false;
        size_t used = SIZE_MAX;
        enum proto_status st = mc_session_feed(t->s, rbuf, rlen, &used, t->r);
        FUZZ_CHECK(used <= rlen);
        consumed += used;
        memmove(rbuf, rbuf + used, rlen - used);
        rlen -= used;
        switch (st) {
        case PROTO_OK:
            if (mc_session_mid_value(t->s))
                FUZZ_CHECK(rlen == 0);
            else
                FUZZ_CHECK(memchr(rbuf, '\n', rlen) == NULL);
            break;
        case PROTO_CLOSE:
        case PROTO_SHUTDOWN:
            FUZZ_CHECK(st == PROTO_CLOSE || t->ctx.enable_shutdown);
            t->closed = true;
            break;
        case PROTO_WAIT: {
            FUZZ_CHECK(t->ctx.snapshot_enabled);
            enum proto_wait k = mc_session_take_wait(t->s);
            FUZZ_CHECK(k == PROTO_WAIT_SNAPSHOT || k == PROTO_WAIT_SNAPSHOT_BG);
            FUZZ_CHECK(mc_session_take_wait(t->s) == PROTO_WAIT_NONE);
            outq_add_str(t->r, "OK\r\n"); /* the server's answer */
            refeed = rlen > 0;
            break;
        }
        case PROTO_PAUSE:
            /* or a key dump that yields between batches (its line is fed again) */
            FUZZ_CHECK((t->ctx.out_pause > 0 && outq_weight(t->r) >= t->ctx.out_pause) ||
                       is_dump_line(rbuf, rlen));
            FUZZ_CHECK(rlen > 0);
            drain_all(t);
            refeed = true;
            break;
        case PROTO_BUSY:
            FUZZ_CHECK(t->ctx.recv_bytes != NULL && rlen > 0);
            mc_session_no_wait(t->s);
            refeed = true;
            break;
        case PROTO_FLUSH:
            /* an incr/decr/ma behind a queued value: written out first, as a server does */
            FUZZ_CHECK(rlen > 0 && outq_holds_items(t->r));
            drain_all(t);
            FUZZ_CHECK(!outq_holds_items(t->r));
            refeed = true;
            break;
        default:
            FUZZ_CHECK(!"unknown session status");
        }
        FUZZ_CHECK(!outq_failed(t->r));
        drain_some(t, rng_chunk(&t->rng, outq_pending(t->r) + 1));
    }
    drain_all(t);
    FUZZ_CHECK(consumed + windowed + rlen == off);
    free(rbuf);
    return rlen + (n - off);
}

/* ---- the reply stream ---- */

static const char *const reply_words[] = {"VALUE",
                                          "END",
                                          "STORED",
                                          "NOT_STORED",
                                          "EXISTS",
                                          "NOT_FOUND",
                                          "DELETED",
                                          "TOUCHED",
                                          "OK",
                                          "ERROR",
                                          "ERROR:",
                                          "CLIENT_ERROR",
                                          "SERVER_ERROR",
                                          "VERSION",
                                          "STAT",
                                          "RESET",
                                          "BUSY",
                                          "BADCLASS",
                                          "NOSPARE",
                                          "SAME",
                                          "MEMLIMIT_ADJUST_FAILED",
                                          "MEMLIMIT_TOO_SMALL",
                                          "PREFIX",
                                          "PREFIXES_DROPPED",
                                          "VA",
                                          "HD",
                                          "NF",
                                          "NS",
                                          "EX",
                                          "EN",
                                          "ME",
                                          "MN",
                                          "ITEM",
                                          "NOTSTARTED",
                                          NULL};

static bool all_digits(const char *p, size_t n)
{
    if (n == 0)
        return false;
    for (size_t i = 0; i < n; i++)
        if (p[i] < '0' || p[i] > '9')
            return false;
    return true;
}

/* Whether p (rest bytes) starts a metadump line, "key=<URL-encoded key> ...", which memcached ends
 * with a bare "\n". */
static bool is_metadump_line(const char *p, size_t rest)
{
    return rest >= 4 && memcmp(p, "key=", 4) == 0;
}

/* Reads one reply line at *pos (without its "\r\n", or a metadump line's "\n"); false at the end of
 * the stream. */
static bool next_line(const struct buf *o, size_t *pos, const char **line, size_t *len)
{
    if (*pos >= o->len)
        return false;
    const char *p = o->p + *pos;
    size_t rest = o->len - *pos;
    const char *nl = memchr(p, '\n', rest);
    FUZZ_CHECK(nl != NULL);           /* every reply line is terminated */
    if (is_metadump_line(p, rest)) {
        *line = p;
        *len = (size_t)(nl - p);
        *pos += *len + 1;
        for (size_t i = 0; i < *len; i++)
            FUZZ_CHECK(p[i] > ' ' || p[i] == ' '); /* the key is encoded: no control byte */
        return true;
    }
    FUZZ_CHECK(nl > p && nl[-1] == '\r'); /* by "\r\n" */
    *line = p;
    *len = (size_t)(nl - p) - 1;
    *pos += *len + 2;
    return true;
}

/* The i-th space-separated token of a line. */
static bool line_token(const char *line, size_t len, unsigned i, const char **tok, size_t *tlen)
{
    size_t pos = 0;
    for (unsigned k = 0;; k++) {
        while (pos < len && line[pos] == ' ')
            pos++;
        if (pos == len)
            return false;
        size_t start = pos;
        while (pos < len && line[pos] != ' ')
            pos++;
        if (k == i) {
            *tok = line + start;
            *tlen = pos - start;
            return true;
        }
    }
}

static uint64_t token_u64(const char *p, size_t n)
{
    FUZZ_CHECK(all_digits(p, n) && n <= 20);
    uint64_t v = 0;
    for (size_t i = 0; i < n; i++)
        v = v * 10 + (uint64_t)(p[i] - '0');
    return v;
}

/* Skips a data block of n bytes and its "\r\n". */
static void skip_block(const struct buf *o, size_t *pos, uint64_t n)
{
    FUZZ_CHECK(n <= o->len - *pos && o->len - *pos - n >= 2);
    *pos += n;
    FUZZ_CHECK(o->p[*pos] == '\r' && o->p[*pos + 1] == '\n');
    *pos += 2;
}

/* The whole reply stream is well formed. */
static void check_replies(const struct buf *o)
{
    size_t pos = 0, len, tlen;
    const char *line, *tok;
    while (next_line(o, &pos, &line, &len)) {
        FUZZ_CHECK(len > 0);
        size_t w = 0;
        while (w < len && line[w] != ' ')
            w++;
        bool known = all_digits(line, w) || is_metadump_line(line, len);
        for (size_t i = 0; !known && reply_words[i] != NULL; i++)
            known = strlen(reply_words[i]) == w && memcmp(reply_words[i], line, w) == 0;
        if (!known) {
            fprintf(stderr, "fuzz_session: unknown reply line: %.*s\n", (int)len, line);
            FUZZ_CHECK(known);
        }
        if (w == 5 && memcmp(line, "VALUE", 5) == 0) {
            FUZZ_CHECK(line_token(line, len, 3, &tok, &tlen));
            FUZZ_CHECK(!line_token(line, len, 5, &tok, &tlen) || !"too many tokens");
            line_token(line, len, 3, &tok, &tlen);
            skip_block(o, &pos, token_u64(tok, tlen));
        } else if (w == 2 && memcmp(line, "VA", 2) == 0) {
            FUZZ_CHECK(line_token(line, len, 1, &tok, &tlen));
            skip_block(o, &pos, token_u64(tok, tlen));
        }
    }
}

/* ---- programs: well-formed requests and the replies they must get ---- */

struct key_model {
    bool present;
    bool known;       /* the value is what the model says (else only its presence is known) */
    bool cas_known;   /* cas holds the item's unique, read by a gets since the last change */
    uint64_t gen;     /* bumped by every request that may change the key */
    uint32_t flags;
    uint64_t cas;
    size_t nvalue;
    char value[8192];
};

enum expect_kind {
    EX_NONE = 0,   /* noreply: nothing */
    EX_LINE,       /* exactly this line */
    EX_GET,        /* VALUE blocks of the keys in keys[], then END */
    EX_GETS,       /* as EX_GET, one key, with CAS (recorded) */
    EX_MG,         /* VA <n> f<flags> + block, or EN */
    EX_ARITH,      /* a number (the model's result, or any when lenient), NOT_FOUND, non-numeric */
};

struct expect {
    enum expect_kind kind;
    char line[64];
    unsigned keys[4];
    unsigned nkeys;
    /* the model's view when the request ran (the reply is checked after the whole stream) */
    bool present[4];
    bool known[4];
    uint32_t flags[4];
    size_t nvalue[4];
    char *value[4];     /* malloc'd copies */
    uint64_t gen;       /* EX_GETS: the key's generation when the gets was made */
    bool lenient;       /* EX_ARITH: any number or the non-numeric error */
    uint64_t number;
};

struct program {
    struct key_model keys[NKEYS];
    struct buf stream;
    struct expect *ex;
    size_t nex, capex;
    bool use_cas;
    /* Without CAS a flush_all kills every item whose time is not after the flush's second
     * (memcached's rule): with the clock stopped, every later store too. */
    bool flush_kills;
    bool lost; /* the cache evicted: the model no longer knows what it holds */
};

static struct expect *expect_new(struct program *p, enum expect_kind kind)
{
    if (p->nex == p->capex) {
        p->capex = p->capex ? 2 * p->capex : 64;
        p->ex = realloc(p->ex, p->capex * sizeof(*p->ex));
        FUZZ_CHECK(p->ex != NULL);
    }
    struct expect *e = &p->ex[p->nex++];
    memset(e, 0, sizeof(*e));
    e->kind = kind;
    return e;
}

static void expect_line(struct program *p, bool noreply, const char *line)
{
    if (noreply)
        return;
    struct expect *e = expect_new(p, EX_LINE);
    snprintf(e->line, sizeof(e->line), "%s", line);
}

/* Snapshots key k into slot i of e. */
static void expect_key(struct program *p, struct expect *e, unsigned i, unsigned k)
{
    const struct key_model *m = &p->keys[k];
    e->keys[i] = k;
    e->present[i] = m->present;
    e->known[i] = m->known;
    e->flags[i] = m->flags;
    e->nvalue[i] = m->nvalue;
    e->gen = m->gen;
    e->value[i] = NULL;
    if (m->present && m->known) {
        e->value[i] = malloc(m->nvalue + 1);
        FUZZ_CHECK(e->value[i] != NULL);
        memcpy(e->value[i], m->value, m->nvalue);
    }
}

/* Reads the input like a tape; zeros once it runs out. */
struct tape {
    const uint8_t *p;
    size_t n, pos;
};

static uint8_t tape_byte(struct tape *t)
{
    return t->pos < t->n ? t->p[t->pos++] : 0;
}

/* The key may change: a CAS read before is no longer the item's. */
static void model_change(struct key_model *m)
{
    m->gen++;
    m->cas_known = false;
}

static void model_store(struct key_model *m, const char *v, size_t n, uint32_t flags, int exptime)
{
    model_change(m);
    m->present = exptime >= 0;
    m->known = true;
    m->cas_known = false;
    m->flags = flags;
    m->nvalue = n;
    memcpy(m->value, v, n);
}

/* A value of the model's digits followed by spaces: its number (false when it is not one, or it
 * overflows: then the reply is not predicted). */
static bool model_number(const struct key_model *m, uint64_t *v)
{
    size_t i = 0;
    uint64_t x = 0;
    while (i < m->nvalue && m->value[i] >= '0' && m->value[i] <= '9') {
        uint64_t d = (uint64_t)(m->value[i] - '0');
        if (x > (UINT64_MAX - d) / 10)
            return false;
        x = x * 10 + d;
        i++;
    }
    if (i == 0)
        return false;
    for (; i < m->nvalue; i++)
        if (m->value[i] != ' ')
            return false;
    *v = x;
    return true;
}

static const int exptimes[4] = { 0, 100, -1, 0 };

struct run;
static void program_flush(struct run *t, struct program *p);

/* Appends one request to the program, with its expected reply and its effect on the model. A cas
 * meant to succeed needs the unique a gets before it returned: the requests so far are run first. */
static void program_op(struct run *t, struct program *p, struct tape *tp)
{
    uint8_t op = tape_byte(tp), a = tape_byte(tp);
    unsigned k = a % NKEYS;
    bool noreply = (a & 0x80u) != 0;
    int exptime = exptimes[(a >> 3) & 3u];
    int eff_exptime = p->flush_kills ? -1 : exptime; /* for the model */
    struct key_model *m = &p->keys[k];
    char key[8];
    snprintf(key, sizeof(key), "%sk%u", (a & 0x40u) ? "p:" : "", k % 4u);
    /* Keys "k0".."k3" and "p:k0".."p:k3": eight keys, some with a detail prefix. */
    k = (a & 0x40u) ? 4u + k % 4u : k % 4u;
    m = &p->keys[k];

    switch (op % 16u) {
    case 0: case 1: case 2: case 3: case 4: case 5: { /* storage commands */
        static const char *const cmds[] = { "set", "add", "replace", "append", "prepend", "cas" };
        unsigned c = op % 16u;
        if (c == 5 && !p->use_cas)
            c = 0;
        uint32_t flags = tape_byte(tp);
        size_t n = tape_byte(tp) % VALUE_MAX;
        char v[VALUE_MAX];
        for (size_t i = 0; i < n; i++)
            v[i] = (char)tape_byte(tp);
        uint64_t unique = 0;
        if (c == 5) {
            bool right = (tape_byte(tp) & 1u) && m->present;
            if (right && !m->cas_known)
                program_flush(t, p);
            right = right && m->cas_known;
            unique = right ? m->cas : UINT64_MAX - 1 - (uint64_t)(op >> 4);
        }
        buf_printf(&p->stream, "%s %s %" PRIu32 " %d %zu", cmds[c], key, flags, exptime, n);
        if (c == 5)
            buf_printf(&p->stream, " %" PRIu64, unique);
        buf_printf(&p->stream, "%s\r\n", noreply ? " noreply" : "");
        buf_add(&p->stream, v, n);
        buf_add(&p->stream, "\r\n", 2);
        bool stored;
        switch (c) {
        case 0:
            stored = true;
            model_store(m, v, n, flags, eff_exptime);
            break;
        case 1:
            stored = !m->present;
            if (stored)
                model_store(m, v, n, flags, eff_exptime);
            break;
        case 2:
            stored = m->present;
            if (stored)
                model_store(m, v, n, flags, eff_exptime);
            break;
        case 3:
        case 4:
            stored = m->present;
            if (stored && m->known && m->nvalue + n <= sizeof(m->value)) {
                if (c == 4) {
                    memmove(m->value + n, m->value, m->nvalue);
                    memcpy(m->value, v, n);
                } else {
                    memcpy(m->value + m->nvalue, v, n);
                }
                m->nvalue += n;
            } else if (stored) {
                m->known = false;
            }
            model_change(m);
            break;
        default: /* cas */
            if (!m->present) {
                expect_line(p, noreply, "NOT_FOUND");
                return;
            }
            stored = unique == m->cas && m->cas_known;
            if (!stored) {
                expect_line(p, noreply, "EXISTS");
                return;
            }
            model_store(m, v, n, flags, eff_exptime);
            break;
        }
        expect_line(p, noreply, stored ? "STORED" : "NOT_STORED");
        return;
    }
    case 6:
    case 7: { /* get / gets of one key */
        buf_printf(&p->stream, "%s %s\r\n", op % 16u == 6 ? "get" : "gets", key);
        struct expect *e = expect_new(p, op % 16u == 6 ? EX_GET : EX_GETS);
        e->nkeys = 1;
        expect_key(p, e, 0, k);
        return;
    }
    case 8: { /* get of several keys, repeats allowed */
        struct expect *e = expect_new(p, EX_GET);
        uint8_t b = tape_byte(tp);
        e->nkeys = 1 + (a & 3u);
        buf_add(&p->stream, "get", 3);
        for (unsigned i = 0; i < e->nkeys; i++) {
            unsigned kk = (b >> (2 * i)) & 3u;
            kk = ((a >> 5) & 1u) && i % 2 ? kk + 4u : kk;
            buf_printf(&p->stream, " %sk%u", kk >= 4 ? "p:" : "", kk % 4u);
            expect_key(p, e, i, kk);
        }
        buf_add(&p->stream, "\r\n", 2);
        return;
    }
    case 9: /* delete */
        buf_printf(&p->stream, "delete %s%s\r\n", key, noreply ? " noreply" : "");
        expect_line(p, noreply, m->present ? "DELETED" : "NOT_FOUND");
        model_change(m);
        m->present = false;
        return;
    case 10: { /* incr / decr */
        bool incr = (op & 0x10u) != 0;
        uint64_t delta = tape_byte(tp);
        if (tape_byte(tp) & 1u)
            delta *= UINT64_C(0x0101010101010101);
        buf_printf(&p->stream, "%s %s %" PRIu64 "\r\n", incr ? "incr" : "decr", key, delta);
        struct expect *e = expect_new(p, EX_ARITH);
        if (!m->present) {
            snprintf(e->line, sizeof(e->line), "NOT_FOUND");
            return;
        }
        uint64_t v;
        model_change(m);
        if (!m->known || !model_number(m, &v)) {
            e->lenient = true;
            m->known = false;
            return;
        }
        v = incr ? v + delta : (v < delta ? 0 : v - delta);
        e->number = v;
        char num[24];
        size_t nd = (size_t)snprintf(num, sizeof(num), "%" PRIu64, v);
        if (nd < m->nvalue) {
            /* padded in place, or the bare digits in a new item when a queued reply still holds the
             * old one (memcached's rule): which one depends on how much output was drained */
            m->known = false;
            return;
        } else {
            m->nvalue = nd;
        }
        memcpy(m->value, num, nd);
        return;
    }
    case 11: /* touch */
        buf_printf(&p->stream, "touch %s %d%s\r\n", key, exptime, noreply ? " noreply" : "");
        expect_line(p, noreply, m->present ? "TOUCHED" : "NOT_FOUND");
        model_change(m);
        if (exptime < 0)
            m->present = false;
        return;
    case 12: { /* mg with value and flags */
        buf_printf(&p->stream, "mg %s v f\r\n", key);
        struct expect *e = expect_new(p, EX_MG);
        e->nkeys = 1;
        expect_key(p, e, 0, k);
        return;
    }
    case 13: { /* ms */
        uint32_t flags = tape_byte(tp);
        size_t n = tape_byte(tp) % VALUE_MAX;
        char v[VALUE_MAX];
        for (size_t i = 0; i < n; i++)
            v[i] = (char)tape_byte(tp);
        buf_printf(&p->stream, "ms %s %zu F%" PRIu32 " T%d%s\r\n", key, n, flags, exptime, noreply ? " q" : "");
        buf_add(&p->stream, v, n);
        buf_add(&p->stream, "\r\n", 2);
        model_store(m, v, n, flags, eff_exptime);
        expect_line(p, noreply, "HD");
        return;
    }
    case 14: /* md */
        buf_printf(&p->stream, "md %s\r\n", key);
        expect_line(p, false, m->present ? "HD" : "NF");
        model_change(m);
        m->present = false;
        return;
    default: /* flush_all, mn, version, an unknown command */
        switch (a & 3u) {
        case 0:
            buf_printf(&p->stream, "flush_all%s\r\n", noreply ? " noreply" : "");
            expect_line(p, noreply, "OK");
            for (unsigned i = 0; i < NKEYS; i++) {
                model_change(&p->keys[i]);
                p->keys[i].present = false;
            }
            p->flush_kills = !p->use_cas;
            return;
        case 1:
            buf_add(&p->stream, "mn\r\n", 4);
            expect_line(p, false, "MN");
            return;
        case 2:
            buf_add(&p->stream, "version\r\n", 9);
            expect_line(p, false, "VERSION 1.6.18");
            return;
        default:
            buf_add(&p->stream, "bogus\r\n", 7);
            expect_line(p, false, "ERROR");
            return;
        }
    }
}

static bool line_is(const char *line, size_t len, const char *s)
{
    return strlen(s) == len && memcmp(line, s, len) == 0;
}

/* One VALUE block for slot i of e at *pos: header, value as the model had it. */
static void check_value(const struct buf *o, size_t *pos, const struct expect *e, unsigned i, bool gets,
                        struct program *p, const char *line, size_t len)
{
    const char *tok;
    size_t tlen;
    unsigned k = e->keys[i];
    char key[8];
    snprintf(key, sizeof(key), "%sk%u", k >= 4 ? "p:" : "", k % 4u);
    FUZZ_CHECK(line_token(line, len, 0, &tok, &tlen) && tlen == 5 && memcmp(tok, "VALUE", 5) == 0);
    FUZZ_CHECK(line_token(line, len, 1, &tok, &tlen) && line_is(tok, tlen, key));
    FUZZ_CHECK(line_token(line, len, 2, &tok, &tlen) && token_u64(tok, tlen) == e->flags[i]);
    FUZZ_CHECK(line_token(line, len, 3, &tok, &tlen));
    uint64_t n = token_u64(tok, tlen);
    if (gets) {
        FUZZ_CHECK(line_token(line, len, 4, &tok, &tlen));
        uint64_t cas = token_u64(tok, tlen);
        FUZZ_CHECK(p->use_cas ? cas != 0 : cas == 0);
        /* Nothing changed the key since this gets: a later cas may use the unique. */
        if (p->keys[k].gen == e->gen && p->keys[k].present) {
            p->keys[k].cas = cas;
            p->keys[k].cas_known = true;
        }
    }
    if (e->known[i]) {
        FUZZ_CHECK(n == e->nvalue[i]);
        FUZZ_CHECK(memcmp(o->p + *pos, e->value[i], n) == 0);
    }
    skip_block(o, pos, n);
}

/* Checks every reply of the program, in order. */
static void check_program(const struct buf *o, struct program *p)
{
    size_t pos = 0, len, tlen;
    const char *line, *tok;
    for (size_t x = 0; x < p->nex; x++) {
        const struct expect *e = &p->ex[x];
        FUZZ_CHECK(next_line(o, &pos, &line, &len));
        switch (e->kind) {
        case EX_NONE:
            break;
        case EX_LINE:
            if (!line_is(line, len, e->line)) {
                fprintf(stderr, "fuzz_session: reply %zu: got '%.*s', want '%s'\n", x, (int)len, line, e->line);
                FUZZ_CHECK(!"unexpected reply");
            }
            break;
        case EX_GET:
        case EX_GETS:
            for (unsigned i = 0; i < e->nkeys; i++) {
                if (!e->present[i])
                    continue;
                check_value(o, &pos, e, i, e->kind == EX_GETS, p, line, len);
                FUZZ_CHECK(next_line(o, &pos, &line, &len));
            }
            FUZZ_CHECK(line_is(line, len, "END"));
            break;
        case EX_MG:
            if (!e->present[0]) {
                FUZZ_CHECK(line_is(line, len, "EN"));
                break;
            }
            FUZZ_CHECK(line_token(line, len, 0, &tok, &tlen) && line_is(tok, tlen, "VA"));
            FUZZ_CHECK(line_token(line, len, 1, &tok, &tlen));
            uint64_t n = token_u64(tok, tlen);
            FUZZ_CHECK(line_token(line, len, 2, &tok, &tlen) && tlen >= 2 && tok[0] == 'f');
            FUZZ_CHECK(token_u64(tok + 1, tlen - 1) == e->flags[0]);
            FUZZ_CHECK(!line_token(line, len, 3, &tok, &tlen));
            if (e->known[0]) {
                FUZZ_CHECK(n == e->nvalue[0]);
                FUZZ_CHECK(memcmp(o->p + pos, e->value[0], n) == 0);
            }
            skip_block(o, &pos, n);
            break;
        case EX_ARITH:
            if (e->line[0] != '\0') {
                FUZZ_CHECK(line_is(line, len, e->line));
            } else if (e->lenient) {
                FUZZ_CHECK(all_digits(line, len) ||
                           line_is(line, len, "CLIENT_ERROR cannot increment or decrement non-numeric value"));
            } else {
                FUZZ_CHECK(token_u64(line, len) == e->number);
            }
            break;
        }
    }
    FUZZ_CHECK(pos == o->len); /* no reply nobody asked for */
}

/* At the end, the cache itself agrees with the model, and holds no reference beyond the table's. */
static void check_cache(struct run *t, struct program *p)
{
    for (unsigned k = 0; k < NKEYS; k++) {
        char key[8];
        snprintf(key, sizeof(key), "%sk%u", k >= 4 ? "p:" : "", k % 4u);
        const struct key_model *m = &p->keys[k];
        struct item *it = cache_get(t->cache, key, strlen(key), NULL);
        if (it == NULL) {
            FUZZ_CHECK(!m->present);
            continue;
        }
        FUZZ_CHECK(m->present);
        FUZZ_CHECK((item_state(it) & ITEM_REFCOUNT_MASK) == 2);
        FUZZ_CHECK(it->client_flags == m->flags);
        if (m->known)
            FUZZ_CHECK(item_nbytes(it) == m->nvalue && memcmp(item_value_const(it), m->value, m->nvalue) == 0);
        cache_item_release(t->cache, &it);
    }
}

static void program_free_expects(struct program *p)
{
    for (size_t x = 0; x < p->nex; x++)
        for (unsigned i = 0; i < 4; i++)
            free(p->ex[x].value[i]);
    p->nex = 0;
}

static void program_free(struct program *p)
{
    program_free_expects(p);
    free(p->ex);
    free(p->stream.p);
}

/* Runs the requests made so far and checks their replies; the session goes on with the next ones. */
static void program_flush(struct run *t, struct program *p)
{
    size_t left = run_stream(t, p->stream.p, p->stream.len);
    if (getenv("FUZZ_SESSION_DEBUG") != NULL) /* triage: the requests and the replies */
    {
        fputs("---- requests\n", stderr);
        fwrite(p->stream.p, 1, p->stream.len, stderr);
        fputs("---- replies\n", stderr);
        fwrite(t->out.p, 1, t->out.len, stderr);
        fputs("----\n", stderr);
    }
    FUZZ_CHECK(left == 0 && !t->closed && !mc_session_mid_value(t->s));
    check_replies(&t->out);
    struct cache_stats cs;
    cache_stats_get(t->cache, &cs);
    p->lost = p->lost || cs.evictions > 0 || cs.slabs_moved > 0;
    if (!p->lost)
        check_program(&t->out, p);
    program_free_expects(p);
    p->stream.len = 0;
    t->out.len = 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size < 5)
        return 0;
    unsigned cfg = data[0];
    uint32_t seed = (uint32_t)data[1] | (uint32_t)data[2] << 8 | (uint32_t)data[3] << 16 | (uint32_t)data[4] << 24;
    data += 5;
    size -= 5;

    struct run t;
    if (!(cfg & CFG_PROGRAM)) {
        run_init(&t, cfg, seed);
        char *in = malloc(size ? size : 1);
        FUZZ_CHECK(in != NULL);
        memcpy(in, data, size);
        run_stream(&t, in, size);
        free(in);
        if (getenv("FUZZ_SESSION_DEBUG") != NULL) {
            fwrite(t.out.p, 1, t.out.len, stderr);
            struct cache_stats cs;
            cache_stats_get(t.cache, &cs);
            fprintf(stderr, "---- evictions %" PRIu64 " slabs_moved %" PRIu64 " pages %" PRIu64 " rescues %" PRIu64
                    " items %" PRIu64 "\n", cs.evictions, cs.slabs_moved, cs.curr_pages, cs.rescues, cs.curr_items);
        }
        check_replies(&t.out);
        run_fini(&t);
        return 0;
    }

    /* A program: its requests go through the session as one stream, cut where the seed says,
     * except that a cas meant to succeed first runs what came before it (program_flush). */
    cfg &= ~(unsigned)(CFG_SNAPSHOT | CFG_SHUTDOWN);
    run_init(&t, cfg, seed);
    static struct program p;
    memset(&p, 0, sizeof(p));
    p.use_cas = !(cfg & CFG_NO_CAS);
    struct tape tp = { data, size, 0 };
    while (tp.pos < tp.n)
        program_op(&t, &p, &tp);
    program_flush(&t, &p);
    if (!p.lost)
        check_cache(&t, &p);
    program_free(&p);
    run_fini(&t);
    return 0;
}
