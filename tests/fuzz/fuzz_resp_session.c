/*
 * fuzz_resp_session.c: libFuzzer target for the RESP session (protocol/resp/resp.h, resp_proto_ops)
 * over a small real cache: a client's byte stream goes through ops->feed the way a connection feeds
 * it, and the replies come out of the output queue the way a connection writes them.
 *
 * Input: two configuration bytes, a 4-byte seed, then the payload.
 *   cfg0 bit 0  the payload is text (below) turned into requests, else it is the raw stream
 *        bit 1  the stream starts with HELLO 3 (RESP3 replies)
 *        bit 2  the output queue's pause weight is 1 (PROTO_PAUSE before nearly every request), else 200
 *        bit 3  large values go through ops->value_window / value_filled when the session offers one
 *        bit 4  snapshots on (SAVE and BGSAVE answer PROTO_WAIT; the answer is ops->answer's)
 *        bit 5  SHUTDOWN allowed (PROTO_SHUTDOWN)
 *        bit 6  a receiving budget of 40 KiB (a large value past it is refused)
 *        bit 7  a small request bound (query_max 32 KiB: the parser gives up, the session closes)
 *   cfg1 bit 0  admin commands disabled
 *        bit 1  FLUSHALL/FLUSHDB disabled
 *        bits 2-3  the server's answer to a snapshot request (done, busy, failed, not configured)
 *        bit 4  CAS off (WATCH's versions)
 *        bit 5  no CONFIG SET timeout and CONFIG RESETSTAT hooks
 *        bit 6  credentials (protocol/auth.h): --requirepass x and bob:pw:app, so the stream can
 *               authenticate (AUTH x, AUTH bob pw, HELLO 3 AUTH default x ...)
 *        bit 7  credentials whose passwords cannot be guessed (64 random-looking characters, compared
 *               only as SHA-256 digests, so no comparison can lead the fuzzer to them)
 * The seed drives a small generator that cuts the stream into reads and picks how much of the output
 * queue each write takes and through how many iovecs.
 *
 * Text payload: one request per line ('\n'). A line starting with '!' is sent inline (the rest of the
 * line and "\r\n"), one starting with '~' is sent as it is (raw bytes, nothing added); any other line
 * is split at spaces into the arguments of a multibulk request with the right lengths. In an argument,
 * "" is the empty string, \s \r \n \0 \\ and \xHH are escapes, and %N (N decimal, at most 255) is a
 * value of N * 512 bytes (%N followed by one character: that character repeated), so values pass the
 * 16 KiB zero-copy size and the 64 KiB item size limit.
 *
 * The stream is run twice, each time on a fresh cache and session: cut into reads (with the value
 * window and partial writes), and whole (one feed, repeated only after PROTO_PAUSE or PROTO_WAIT).
 * What must hold for any stream, on both runs:
 * - no crash, leak or undefined behaviour (ASan, LSan, UBSan);
 * - feed consumes at most what it was given, all of it on PROTO_OK; PROTO_PAUSE only at the pause
 *   weight with bytes left, PROTO_WAIT only with snapshots on (take_wait says what, once),
 *   PROTO_SHUTDOWN only when allowed, never PROTO_BUSY; nothing is fed after PROTO_CLOSE/SHUTDOWN;
 *   the loop always makes progress; the output queue never fails;
 * - the output is a sequence of whole, well-formed RESP2/RESP3 replies (simple, error, integer, bulk,
 *   array, map, set, null, double, boolean, verbatim, nested), and RESP3-only types appear only when
 *   the stream holds a HELLO;
 * - the receiving budget is back to 0 between requests and after the session is gone;
 * - at the end, with the session and the queue gone, every linked item holds only the table's
 *   reference, and every slab class's used chunks are its linked items (no item leaked);
 * - with credentials, nothing reaches the cache before a correct AUTH: after every feed that left the
 *   session without a successful authentication, the cache holds no item and no chunk is in use; with
 *   the unguessable passwords that holds for the whole stream; a PROTO_WAIT is a held-back failure
 *   (PROTO_WAIT_AUTH_DELAY, answered PROTO_EV_AUTH_DELAYED) unless it is a snapshot's;
 * - the two runs give the same output bytes and the same close, unless the stream runs a command
 *   whose reply depends on the real time or on chance (TIME, RANDOMKEY, INFO, SCAN, LASTSAVE), the
 *   budget or the small request bound is on (both depend on how the bytes arrive, by design), or either
 *   cache evicted or ran out of memory (which items the queue still held depends on the writes).
 *   The caches' clocks are frozen at the same time, so expiries, TTL and idle times agree.
 */
#include "config.h"

#include <inttypes.h>
#include <math.h>
#include <stdarg.h>
#include <stdatomic.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>
#include <sys/uio.h>
#include <unistd.h>

#include "protocol/auth.h"
#include "protocol/outq.h"
#include "protocol/proto.h"
#include "protocol/resp/resp.h"
#include "protocol/resp/resp_parse.h"
#include "storage/cache.h"
#include "storage/item.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define FUZZ_CHECK(cond)                                                                         \
    do {                                                                                         \
        if (!(cond)) {                                                                           \
            fprintf(stderr, "fuzz_resp_session: check failed at line %d: %s\n", __LINE__, #cond); \
            abort();                                                                             \
        }                                                                                        \
    } while (0)

/* cfg0 */
#define CFG_TEXT      0x01u
#define CFG_RESP3     0x02u
#define CFG_PAUSE1    0x04u
#define CFG_WINDOW    0x08u
#define CFG_SNAPSHOT  0x10u
#define CFG_SHUTDOWN  0x20u
#define CFG_BUDGET    0x40u
#define CFG_SMALLQ    0x80u
/* cfg1 */
#define CFG_NO_ADMIN  0x01u
#define CFG_NO_FLUSH  0x02u
#define CFG_SNAP_MASK 0x0cu
#define CFG_NO_CAS    0x10u
#define CFG_NO_HOOKS  0x20u
#define CFG_AUTH      0x40u
#define CFG_SECRET    0x80u

#define HEADER_LEN   6u
#define ITEM_MAX     (64u * 1024u)
#define MEMORY       (4u << 20)
#define RECV_LIMIT   (40u * 1024u)
#define SMALL_QUERY  (32u * 1024u)
#define STREAM_MAX   ((size_t)4 << 20) /* text payloads stop growing here */
#define DEPTH_MAX    64

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
    if (n > 0 && p != NULL) /* p NULL: room only, filled by the caller */
        memcpy(b->p + b->len, p, n);
    b->len += n;
}

static void buf_addc(struct buf *b, char c)
{
    buf_add(b, &c, 1);
}

static void buf_printf(struct buf *b, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void buf_printf(struct buf *b, const char *fmt, ...)
{
    char tmp[128];
    va_list ap;
    va_start(ap, fmt);
    int n = vsnprintf(tmp, sizeof(tmp), fmt, ap);
    va_end(ap);
    FUZZ_CHECK(n >= 0 && (size_t)n < sizeof(tmp));
    buf_add(b, tmp, (size_t)n);
}

/* Prints p[0..n) escaped (triage). */
static void put_escaped(FILE *f, const char *p, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        unsigned char c = (unsigned char)p[i];
        if (c == '\r')
            fputs("\\r", f);
        else if (c == '\n')
            fputs("\\n", f);
        else if (c == '\\')
            fputs("\\\\", f);
        else if (c < 0x20 || c >= 0x7f)
            fprintf(f, "\\x%02x", c);
        else
            fputc(c, f);
    }
}

static bool debug_on(void)
{
    static int on = -1;
    if (on < 0)
        on = getenv("FUZZ_SESSION_DEBUG") != NULL;
    return on != 0;
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

/* ---- the text payload ---- */

static int hexval(char c)
{
    if (c >= '0' && c <= '9')
        return c - '0';
    if (c >= 'a' && c <= 'f')
        return c - 'a' + 10;
    if (c >= 'A' && c <= 'F')
        return c - 'A' + 10;
    return -1;
}

/* Decodes one argument of a text line into arg. */
static void text_arg(const char *p, size_t n, struct buf *arg)
{
    arg->len = 0;
    if (n == 2 && p[0] == '"' && p[1] == '"')
        return;
    if (n >= 2 && p[0] == '%' && p[1] >= '0' && p[1] <= '9') {
        size_t i = 1, k = 0;
        while (i < n && p[i] >= '0' && p[i] <= '9' && k <= 255)
            k = k * 10 + (size_t)(p[i++] - '0');
        if (k > 255)
            k = 255;
        static const char letters[] = "abcdefghijklmnopqrstuvw"; /* 23: not a divisor of 512 */
        size_t total = k * 512;
        if (total == 0)
            return;
        if (i < n) {
            buf_add(arg, NULL, total);
            memset(arg->p, p[i], total);
            return;
        }
        while (arg->len < total) {
            size_t m = total - arg->len < 23 ? total - arg->len : 23;
            buf_add(arg, letters, m);
        }
        return;
    }
    for (size_t i = 0; i < n; i++) {
        if (p[i] != '\\' || i + 1 == n) {
            buf_addc(arg, p[i]);
            continue;
        }
        char e = p[++i];
        switch (e) {
        case 's':
            buf_addc(arg, ' ');
            break;
        case 'r':
            buf_addc(arg, '\r');
            break;
        case 'n':
            buf_addc(arg, '\n');
            break;
        case '0':
            buf_addc(arg, '\0');
            break;
        case 'x':
            if (i + 2 < n && hexval(p[i + 1]) >= 0 && hexval(p[i + 2]) >= 0) {
                buf_addc(arg, (char)(hexval(p[i + 1]) * 16 + hexval(p[i + 2])));
                i += 2;
            } else {
                buf_addc(arg, 'x');
            }
            break;
        default:
            buf_addc(arg, e);
            break;
        }
    }
}

/* Turns a text payload into the request stream. */
static void text_stream(const char *p, size_t n, struct buf *out)
{
    struct buf arg = {0}, body = {0};
    size_t pos = 0;
    while (pos < n && out->len < STREAM_MAX) {
        const char *nl = memchr(p + pos, '\n', n - pos);
        size_t end = nl != NULL ? (size_t)(nl - p) : n;
        const char *line = p + pos;
        size_t len = end - pos;
        pos = end + 1;
        if (len > 0 && line[0] == '!') {
            buf_add(out, line + 1, len - 1);
            buf_add(out, "\r\n", 2);
            continue;
        }
        if (len > 0 && line[0] == '~') {
            buf_add(out, line + 1, len - 1);
            continue;
        }
        size_t argc = 0, i = 0;
        body.len = 0;
        while (i < len) {
            while (i < len && line[i] == ' ')
                i++;
            if (i == len)
                break;
            size_t start = i;
            while (i < len && line[i] != ' ')
                i++;
            text_arg(line + start, i - start, &arg);
            buf_printf(&body, "$%zu\r\n", arg.len);
            buf_add(&body, arg.p, arg.len);
            buf_add(&body, "\r\n", 2);
            argc++;
        }
        if (argc == 0)
            continue;
        buf_printf(out, "*%zu\r\n", argc);
        buf_add(out, body.p, body.len);
    }
    free(arg.p);
    free(body.p);
}

/* ---- what the stream runs (parsed alone, as the session will parse it) ---- */

struct scan {
    bool hello;     /* a HELLO: RESP3 replies may follow */
    bool unstable;  /* a command whose reply depends on the real time or on chance */
};

static bool name_is(const struct resp_args *a, size_t i, const char *w)
{
    size_t n = strlen(w);
    return i < a->argc && a->argv[i] != NULL && a->argl[i] == n && strncasecmp(a->argv[i], w, n) == 0;
}

static void scan_stream(const char *in, size_t n, struct scan *sc)
{
    static const char *const unstable[] = {"time", "randomkey", "info", "scan", "lastsave", NULL};
    struct resp_parser *p = resp_parser_create(NULL);
    FUZZ_CHECK(p != NULL);
    memset(sc, 0, sizeof(*sc));
    for (;;) {
        size_t used = 0;
        struct resp_args a;
        const char *err = NULL;
        if (resp_parse(p, in, n, &used, &a, &err) != RESP_PARSE_OK)
            break;
        in += used;
        n -= used;
        if (name_is(&a, 0, "hello"))
            sc->hello = true;
        for (size_t k = 0; unstable[k] != NULL; k++)
            if (name_is(&a, 0, unstable[k]))
                sc->unstable = true;
    }
    resp_parser_destroy(&p);
}

/* ---- the reply stream ---- */

struct reply_check {
    const struct buf *o;
    bool resp3;     /* RESP3-only types are allowed */
    const char *who;
};

static void reply_fail(const struct reply_check *c, size_t pos, const char *why)
{
    const struct buf *o = c->o;
    size_t from = pos > 64 ? pos - 64 : 0, to = o->len - pos > 64 ? pos + 64 : o->len;
    fprintf(stderr, "fuzz_resp_session: %s output: malformed reply at byte %zu of %zu: %s\n  before: ", c->who,
            pos, o->len, why);
    put_escaped(stderr, o->p + from, pos - from);
    fputs("\n  after:  ", stderr);
    put_escaped(stderr, o->p + pos, to - pos);
    fputc('\n', stderr);
    FUZZ_CHECK(!"malformed reply");
}

/* The line at *pos (without "\r\n"), which must end in "\r\n" with no CR or LF inside. */
static void reply_line(const struct reply_check *c, size_t *pos, const char **line, size_t *len)
{
    const struct buf *o = c->o;
    const char *p = o->p + *pos;
    size_t rest = o->len - *pos;
    const char *nl = memchr(p, '\n', rest);
    if (nl == NULL)
        reply_fail(c, *pos, "a line without its end");
    if (nl == p || nl[-1] != '\r')
        reply_fail(c, *pos, "a line ending in a bare LF");
    size_t n = (size_t)(nl - p) - 1;
    if (memchr(p, '\r', n) != NULL)
        reply_fail(c, *pos, "a CR inside a line");
    *line = p;
    *len = n;
    *pos += n + 2;
}

/* A decimal as string2ll accepts it (no '+', no leading zeros); *v its value. */
static bool reply_ll(const char *p, size_t n, long long *v)
{
    size_t i = 0;
    bool neg = false;
    if (n > 0 && p[0] == '-') {
        neg = true;
        i = 1;
    }
    if (i == n || n - i > 19)
        return false;
    if (p[i] == '0' && n - i > 1)
        return false;
    unsigned long long u = 0;
    for (; i < n; i++) {
        if (p[i] < '0' || p[i] > '9')
            return false;
        u = u * 10 + (unsigned long long)(p[i] - '0');
    }
    if (u > (unsigned long long)INT64_MAX + (neg ? 1u : 0u))
        return false;
    *v = neg ? (long long)(0 - u) : (long long)u;
    if (neg && u == 0)
        return false; /* "-0" */
    return true;
}

/* The payload of a bulk or verbatim string of length n at *pos, then its "\r\n". */
static void reply_payload(const struct reply_check *c, size_t *pos, long long n)
{
    const struct buf *o = c->o;
    if ((unsigned long long)n > o->len - *pos || o->len - *pos - (size_t)n < 2)
        reply_fail(c, *pos, "a bulk string longer than the output");
    *pos += (size_t)n;
    if (o->p[*pos] != '\r' || o->p[*pos + 1] != '\n')
        reply_fail(c, *pos, "a bulk string not followed by CRLF");
    *pos += 2;
}

static bool double_text_ok(const char *p, size_t n)
{
    static const char *const words[] = {"inf", "-inf", "nan", "-nan", NULL};
    char tmp[64];
    for (size_t i = 0; words[i] != NULL; i++)
        if (strlen(words[i]) == n && memcmp(words[i], p, n) == 0)
            return true;
    if (n == 0 || n >= sizeof(tmp))
        return false;
    for (size_t i = 0; i < n; i++)
        if (!((p[i] >= '0' && p[i] <= '9') || p[i] == '-' || p[i] == '+' || p[i] == '.' || p[i] == 'e'))
            return false;
    memcpy(tmp, p, n);
    tmp[n] = '\0';
    char *end = NULL;
    double d = strtod(tmp, &end);
    return end == tmp + n && isfinite(d);
}

/* One reply at *pos, nested ones included. */
static void reply_one(const struct reply_check *c, size_t *pos, int depth)
{
    const struct buf *o = c->o;
    size_t at = *pos;
    const char *line;
    size_t len;
    long long v;

    if (depth > DEPTH_MAX)
        reply_fail(c, at, "nested too deep");
    if (at >= o->len)
        reply_fail(c, at, "an aggregate with elements missing");
    char type = o->p[at];
    bool resp3_only = strchr("%~_,#=(", type) != NULL && type != '\0';
    if (resp3_only && !c->resp3)
        reply_fail(c, at, "a RESP3 type on a RESP2 connection");
    reply_line(c, pos, &line, &len);
    line++;
    len--;
    switch (type) {
    case '+':
        break;
    case '-':
        if (len == 0 || line[0] < 'A' || line[0] > 'Z')
            reply_fail(c, at, "an error without its upper-case code");
        break;
    case ':':
        if (!reply_ll(line, len, &v))
            reply_fail(c, at, "a bad integer");
        break;
    case '(':
        if (!reply_ll(line, len, &v) && !(len > 0 && strspn(line, "-0123456789") == len))
            reply_fail(c, at, "a bad big number");
        break;
    case '$':
        if (!reply_ll(line, len, &v) || v < -1)
            reply_fail(c, at, "a bad bulk length");
        if (v >= 0)
            reply_payload(c, pos, v);
        break;
    case '=': {
        if (!reply_ll(line, len, &v) || v < 4)
            reply_fail(c, at, "a bad verbatim length");
        size_t start = *pos;
        reply_payload(c, pos, v);
        if (o->p[start + 3] != ':')
            reply_fail(c, start, "a verbatim string without its format");
        break;
    }
    case '*':
    case '%':
    case '~': {
        if (!reply_ll(line, len, &v) || v < (type == '*' ? -1 : 0))
            reply_fail(c, at, "a bad aggregate count");
        if (v <= 0)
            break;
        unsigned long long elems = (unsigned long long)v * (type == '%' ? 2u : 1u);
        if (elems > (o->len - *pos) / 3) /* every element takes at least 3 bytes */
            reply_fail(c, at, "an aggregate with elements missing");
        for (unsigned long long i = 0; i < elems; i++)
            reply_one(c, pos, depth + 1);
        break;
    }
    case '_':
        if (len != 0)
            reply_fail(c, at, "a null with a payload");
        break;
    case ',':
        if (!double_text_ok(line, len))
            reply_fail(c, at, "a bad double");
        break;
    case '#':
        if (len != 1 || (line[0] != 't' && line[0] != 'f'))
            reply_fail(c, at, "a bad boolean");
        break;
    default:
        reply_fail(c, at, "an unknown reply type");
    }
}

static void check_replies(const struct buf *o, bool resp3, const char *who)
{
    struct reply_check c = {o, resp3, who};
    size_t pos = 0;
    while (pos < o->len)
        reply_one(&c, &pos, 0);
}

/* ---- the connection emulation ---- */

struct run {
    unsigned cfg0, cfg1;
    uint32_t rng;
    struct cache *cache;
    _Atomic uint64_t recv_bytes;
    _Atomic uint64_t next_id;
    struct resp_context ctx;
    struct resp_stats stats;
    struct resp_server_info info;
    void *s;
    struct outq *r;
    struct buf out; /* every reply byte written so far */
    bool closed;
    int waits;
};

static const struct proto_ops *const ops = &resp_proto_ops;

static void fake_info(void *server, struct resp_server_info *out)
{
    *out = ((struct run *)server)->info;
}

static void fake_walk(void *server,
                      void (*each)(void *arg, void *sess, const char *addr, const char *laddr, int fd,
                                   int64_t age_s, int64_t idle_s),
                      void *arg)
{
    struct run *t = server;
    if (t->s != NULL)
        each(arg, t->s, "127.0.0.1:50000", "127.0.0.1:6379", 7, 3, 1);
}

static bool fake_set_timeout(void *server, unsigned seconds)
{
    (void)server;
    return seconds != 4242; /* one value the server cannot apply */
}

static void fake_reset(void *server)
{
    (void)server;
}

static struct cache *make_cache(unsigned cfg1)
{
    struct cache_options o;
    cache_options_default(&o);
    o.memory_limit = MEMORY;
    o.item_size_max = ITEM_MAX;
    o.shard_bits = 2;
    o.hash_power = 4;
    o.use_cas = !(cfg1 & CFG_NO_CAS);
    const char *err = NULL;
    struct cache *c = cache_create(&o, &err);
    FUZZ_CHECK(c != NULL);
    return c;
}

/* The two credential sets (cfg1 bits 6 and 7), loaded once per process from a mode 0600 file. */
static const struct auth *credentials(bool secret)
{
    static struct auth *sets[2];
    static const char *const pass[2] = {"x",
                                        "6f1c0e5a9b27d8e34c1a7f0b92d5e6c8a3b4f7d1e0c9b8a7f6e5d4c3b2a19087"};
    static const char *const file[2] = {
        "bob:pw:app\n", "bob:0d9c8b7a6f5e4d3c2b1a09f8e7d6c5b4a3928170f6e5d4c3b2a1908f7e6d5c4b:app\n"};
    if (sets[secret] == NULL) {
        char path[] = "/tmp/cairn-fuzz-auth-XXXXXX", err[128];
        int fd = mkstemp(path);
        FUZZ_CHECK(fd >= 0 && fchmod(fd, 0600) == 0);
        FUZZ_CHECK(write(fd, file[secret], strlen(file[secret])) == (ssize_t)strlen(file[secret]));
        close(fd);
        sets[secret] = auth_create();
        FUZZ_CHECK(sets[secret] != NULL);
        bool ok = auth_load(sets[secret], path, pass[secret], err, sizeof(err));
        unlink(path);
        FUZZ_CHECK(ok);
    }
    return sets[secret];
}

/* A fresh session on cache (created by the caller, so that both runs' clocks share an origin). */
static void run_init(struct run *t, unsigned cfg0, unsigned cfg1, uint32_t seed, struct cache *cache)
{
    memset(t, 0, sizeof(*t));
    t->cfg0 = cfg0;
    t->cfg1 = cfg1;
    t->rng = seed;
    t->cache = cache;
    cache_clock_set(t->cache, 1000);
    t->info = (struct resp_server_info){
        .version = "9.9.9",
        .process_id = 4242,
        .tcp_port = 6380,
        .uptime_s = 998,
        .connected_clients = 1,
        .total_connections = 1,
        .maxclients = 1024,
        .maxmemory = MEMORY,
        .last_save_ok = true,
        .snapshot_enabled = (cfg0 & CFG_SNAPSHOT) != 0,
        .snapshot_interval_s = 60,
        .threads = 4,
        .timeout_s = 0,
        .bind = "127.0.0.1",
    };
    t->ctx.cache = t->cache;
    t->ctx.item_size_max = ITEM_MAX;
    t->ctx.enable_shutdown = (cfg0 & CFG_SHUTDOWN) != 0;
    t->ctx.flush_disabled = (cfg1 & CFG_NO_FLUSH) != 0;
    t->ctx.admin_disabled = (cfg1 & CFG_NO_ADMIN) != 0;
    t->ctx.snapshot_enabled = (cfg0 & CFG_SNAPSHOT) != 0;
    t->ctx.version = "9.9.9";
    t->ctx.out_pause = (cfg0 & CFG_PAUSE1) ? 1 : 200;
    if (cfg0 & CFG_BUDGET) {
        t->ctx.recv_bytes = &t->recv_bytes;
        t->ctx.recv_limit = RECV_LIMIT;
    }
    t->ctx.query_max = (cfg0 & CFG_SMALLQ) ? SMALL_QUERY : 0;
    t->ctx.server = t;
    t->ctx.info = fake_info;
    t->ctx.clients = fake_walk;
    if (!(cfg1 & CFG_NO_HOOKS)) {
        t->ctx.set_timeout = fake_set_timeout;
        t->ctx.reset_stats = fake_reset;
    }
    t->ctx.next_client_id = &t->next_id;
    if (cfg1 & (CFG_AUTH | CFG_SECRET))
        t->ctx.auth = credentials((cfg1 & CFG_SECRET) != 0);
    t->s = ops->create(&t->ctx, &t->stats);
    t->r = outq_create(t->cache);
    FUZZ_CHECK(t->s != NULL && t->r != NULL);
}

static void count_class_items(void *arg, const struct item *it)
{
    /* Under the shard lock, nobody else holding it: the table's reference alone. */
    FUZZ_CHECK((item_state(it) & ITEM_REFCOUNT_MASK) == 1);
    (*(uint64_t *)arg)++;
}

/* Session and queue gone: nothing holds an item but the table, and no chunk is lost. */
static void check_cache_clean(struct run *t)
{
    uint64_t seen = 0, cursor = 0;
    do
        cursor = cache_scan(t->cache, cursor, count_class_items, &seen);
    while (cursor != 0);
    struct cache_stats cs;
    cache_stats_get(t->cache, &cs);
    FUZZ_CHECK(seen <= cs.curr_items);
    uint64_t linked = 0;
    for (unsigned id = 1; id <= cache_class_count(t->cache); id++) {
        struct cache_class_stats k;
        cache_class_stats_get(t->cache, id, &k);
        if (k.used_chunks != k.number) {
            fprintf(stderr, "fuzz_resp_session: class %u (chunk %u): %" PRIu64 " chunks used, %" PRIu64
                    " items linked\n", id, k.chunk_size, k.used_chunks, k.number);
            FUZZ_CHECK(k.used_chunks == k.number);
        }
        linked += k.number;
    }
    FUZZ_CHECK(linked == cs.curr_items);
}

static void run_fini(struct run *t)
{
    ops->destroy(t->s);
    t->s = NULL;
    if (t->cfg0 & CFG_BUDGET)
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

/* PROTO_WAIT: the server does what the session asked and answers as the configuration says. */
static void answer_wait(struct run *t)
{
    enum proto_wait w = ops->take_wait(t->s);
    FUZZ_CHECK(ops->take_wait(t->s) == PROTO_WAIT_NONE);
    struct proto_outcome o = {0};
    if (w == PROTO_WAIT_AUTH_DELAY) { /* the delay itself is the server's: answered at once here */
        FUZZ_CHECK(t->ctx.auth != NULL);
        o.ev = PROTO_EV_AUTH_DELAYED;
        ops->answer(t->s, &o, t->r);
        return;
    }
    FUZZ_CHECK(t->ctx.snapshot_enabled);
    FUZZ_CHECK(w == PROTO_WAIT_SNAPSHOT || w == PROTO_WAIT_SNAPSHOT_BG);
    switch ((t->cfg1 & CFG_SNAP_MASK) >> 2) {
    case 0:
        if (w == PROTO_WAIT_SNAPSHOT_BG) {
            o.ev = PROTO_EV_SNAPSHOT_STARTED;
        } else {
            o.ev = PROTO_EV_SNAPSHOT_SAVED;
            o.items = 3;
            o.bytes = 300;
            o.usec = 1234;
        }
        break;
    case 1:
        o.ev = PROTO_EV_SNAPSHOT_BUSY;
        break;
    case 2:
        o.ev = PROTO_EV_SNAPSHOT_FAILED;
        o.why = (t->waits & 1) ? NULL : "No space left on device";
        break;
    default:
        o.ev = PROTO_EV_SNAPSHOT_OFF;
        break;
    }
    t->waits++;
    ops->answer(t->s, &o, t->r);
}

/* With credentials: until an authentication succeeded, nothing reached the cache (no item linked, no
 * chunk in use, which a value received straight into an item would take). */
static void check_untouched(struct run *t)
{
    if (t->ctx.auth == NULL || t->stats.auth_cmds != t->stats.auth_errors)
        return;
    struct cache_stats cs;
    cache_stats_get(t->cache, &cs);
    FUZZ_CHECK(cs.curr_items == 0);
    for (unsigned id = 1; id <= cache_class_count(t->cache); id++) {
        struct cache_class_stats k;
        cache_class_stats_get(t->cache, id, &k);
        FUZZ_CHECK(k.used_chunks == 0);
    }
}

/* What every feed must satisfy; returns whether to feed the bytes left again at once. */
static bool after_feed(struct run *t, enum proto_status st, size_t left)
{
    bool refeed = false;
    switch (st) {
    case PROTO_OK:
        FUZZ_CHECK(left == 0); /* the parser keeps what it needs */
        break;
    case PROTO_CLOSE:
        t->closed = true;
        break;
    case PROTO_SHUTDOWN:
        FUZZ_CHECK(t->ctx.enable_shutdown);
        t->closed = true;
        break;
    case PROTO_WAIT:
        answer_wait(t);
        refeed = left > 0;
        break;
    case PROTO_PAUSE:
        FUZZ_CHECK(t->ctx.out_pause > 0 && outq_weight(t->r) >= t->ctx.out_pause);
        FUZZ_CHECK(left > 0);
        drain_all(t);
        refeed = true;
        break;
    default:
        FUZZ_CHECK(!"a status RESP never answers");
    }
    FUZZ_CHECK(!outq_failed(t->r));
    check_untouched(t);
    if (t->ctx.recv_bytes != NULL && !ops->mid_value(t->s))
        FUZZ_CHECK(atomic_load(&t->recv_bytes) == 0);
    return refeed;
}

/* The stream cut into reads as the seed says, values through the window when offered. */
static void run_chunked(struct run *t, const char *in, size_t n)
{
    char *rbuf = malloc(n + 1);
    FUZZ_CHECK(rbuf != NULL);
    size_t rlen = 0, off = 0, steps = 0, limit = 8 * n + 1024;
    bool refeed = false;

    while (!t->closed) {
        FUZZ_CHECK(++steps < limit); /* no livelock */
        char *dst;
        size_t wlen;
        if (rlen == 0 && off < n && (t->cfg0 & CFG_WINDOW) && ops->value_window(t->s, &dst, &wlen)) {
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
        refeed = after_feed(t, st, rlen);
        drain_some(t, rng_chunk(&t->rng, outq_pending(t->r) + 1));
    }
    drain_all(t);
    free(rbuf);
}

/* The stream in one read; fed again only after PROTO_PAUSE or PROTO_WAIT. */
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
        refeed = after_feed(t, st, n - pos);
    }
    drain_all(t);
}

/* Whether some reply is Redis's OOM error (a reply starts the output or follows a line end). */
static bool has_oom(const struct buf *o)
{
    size_t i = 0;
    while (i + 5 <= o->len) {
        if (memcmp(o->p + i, "-OOM ", 5) == 0)
            return true;
        const char *nl = memchr(o->p + i, '\n', o->len - i);
        if (nl == NULL)
            break;
        i = (size_t)(nl - o->p) + 1;
    }
    return false;
}

static void report_diff(const struct buf *a, const struct buf *b)
{
    size_t i = 0;
    while (i < a->len && i < b->len && a->p[i] == b->p[i])
        i++;
    size_t from = i > 80 ? i - 80 : 0;
    fprintf(stderr, "fuzz_resp_session: the outputs differ at byte %zu (chunked %zu bytes, whole %zu)\n"
            "  common:  ", i, a->len, b->len);
    put_escaped(stderr, a->p + from, i - from);
    fputs("\n  chunked: ", stderr);
    put_escaped(stderr, a->p + i, a->len - i < 120 ? a->len - i : 120);
    fputs("\n  whole:   ", stderr);
    put_escaped(stderr, b->p + i, b->len - i < 120 ? b->len - i : 120);
    fputc('\n', stderr);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size < HEADER_LEN)
        return 0;
    unsigned cfg0 = data[0], cfg1 = data[1];
    uint32_t seed = (uint32_t)data[2] | (uint32_t)data[3] << 8 | (uint32_t)data[4] << 16 | (uint32_t)data[5] << 24;
    data += HEADER_LEN;
    size -= HEADER_LEN;

    /* The stream, in a buffer of its exact size (ASan sees any read past it). */
    struct buf sb = {0};
    if (cfg0 & CFG_RESP3)
        buf_add(&sb, "*2\r\n$5\r\nHELLO\r\n$1\r\n3\r\n", 22);
    if (cfg0 & CFG_TEXT)
        text_stream((const char *)data, size, &sb);
    else
        buf_add(&sb, data, size);
    size_t n = sb.len;
    char *in = malloc(n ? n : 1);
    FUZZ_CHECK(in != NULL);
    if (n > 0)
        memcpy(in, sb.p, n);
    free(sb.p);

    struct scan sc;
    scan_stream(in, n, &sc);

    /* Two caches whose clocks share an origin (created in the same second). */
    struct cache *ca = make_cache(cfg1), *cb = make_cache(cfg1);
    for (int tries = 0; cache_process_started(ca) != cache_process_started(cb) && tries < 3; tries++) {
        cache_destroy(&cb);
        cb = make_cache(cfg1);
    }
    bool same_origin = cache_process_started(ca) == cache_process_started(cb);

    static struct run ta, tb;
    run_init(&ta, cfg0, cfg1, seed, ca);
    run_init(&tb, cfg0, cfg1, seed, cb);
    run_chunked(&ta, in, n);
    run_whole(&tb, in, n);

    if (debug_on()) {
        fputs("---- stream\n", stderr);
        put_escaped(stderr, in, n);
        fputs("\n---- chunked output\n", stderr);
        put_escaped(stderr, ta.out.p, ta.out.len);
        fprintf(stderr, "\n----%s whole output\n", ta.closed ? " (closed)" : "");
        put_escaped(stderr, tb.out.p, tb.out.len);
        fprintf(stderr, "\n----%s\n", tb.closed ? " (closed)" : "");
    }

    if (cfg1 & CFG_SECRET) { /* nobody knows the passwords: the whole stream ran unauthenticated */
        FUZZ_CHECK(ta.stats.auth_cmds == ta.stats.auth_errors && tb.stats.auth_cmds == tb.stats.auth_errors);
        check_untouched(&ta);
        check_untouched(&tb);
    }
    check_replies(&ta.out, sc.hello, "chunked");
    check_replies(&tb.out, sc.hello, "whole");

    struct cache_stats sa, sb2;
    cache_stats_get(ta.cache, &sa);
    cache_stats_get(tb.cache, &sb2);
    bool comparable = same_origin && !sc.unstable && !(cfg0 & (CFG_BUDGET | CFG_SMALLQ)) && sa.evictions == 0 &&
                      sb2.evictions == 0 && sa.slabs_moved == 0 && sb2.slabs_moved == 0 && !has_oom(&ta.out) &&
                      !has_oom(&tb.out);
    if (comparable) {
        if (ta.out.len != tb.out.len || (ta.out.len > 0 && memcmp(ta.out.p, tb.out.p, ta.out.len) != 0)) {
            report_diff(&ta.out, &tb.out);
            FUZZ_CHECK(!"chunked and whole outputs differ");
        }
        FUZZ_CHECK(ta.closed == tb.closed);
    }

    run_fini(&ta);
    run_fini(&tb);
    free(in);
    return 0;
}
