/*
 * memcache.c: the classic text protocol session: request framing, the value block state machine and
 * command execution against the storage engine (see memcache.h).
 *
 * A session is in one of three states:
 *
 *   LINE ----storage command, item allocated----> VALUE --nbytes + "\r\n" received--> LINE
 *     |                                                     (store or "bad data chunk")
 *     +----storage command, too large / no memory--> SWALLOW --nbytes + 2 skipped--> LINE
 *
 * - LINE: look for '\n' in the input; a line ends at it, minus one '\r' before it (memcached strips
 *   the '\r' only when the line has at least one other byte). Without a newline, more than
 *   MC_LINE_MAX bytes close the connection unless the line starts as "get " or "gets " (then up to
 *   MC_KEYS_LINE_MAX); that is what memcached 1.6.18 does, silently.
 * - VALUE: the session holds the one reference to an unlinked item and copies value bytes into it
 *   (or the server read()s into the window directly), then collects the two terminator bytes. The
 *   item is linked only when the block is complete and well terminated, so a client that goes away
 *   mid-value changes nothing.
 * - SWALLOW: a refused value block is skipped byte for byte, however it is split; the refusal
 *   ("SERVER_ERROR ...") is queued when the skipping ends, as memcached does. A declared length
 *   beyond MC_SWALLOW_MAX is not waited for: the refusal goes out at once and the connection closes.
 *
 * Authentication (mc_context.auth, memcached's -Y): while credentials are configured and the
 * connection has not authenticated, every line is answered as memcached 1.6.18 answers it, and only
 * one form does anything: `set <key> <flags> <exptime> <n>` (the 5th word a number by memcached's
 * safe_strtoul; key, flags and exptime are ignored) starts AUTH_VALUE, which waits for all n + 2 bytes
 * and reads the first two space-separated words of the value as user and password:
 *
 *   LINE --"set k f e n", n <= MC_AUTH_VALUE_MAX--> AUTH_VALUE --n + 2 bytes--> LINE
 *     |                                                  (STORED: authenticated; or a CLIENT_ERROR)
 *     +--any other line--> "CLIENT_ERROR unauthenticated" (quit too: the connection stays open)
 *
 * A line is only looked at once at least two bytes are buffered, and more than MC_LINE_MAX bytes
 * without a newline close the connection (no get exemption), as memcached does. Two deliberate
 * differences: memcached waits for any n (and reads outside its buffer for n = 2^32 - 2 and - 1);
 * cairn closes the connection on an n above MC_AUTH_VALUE_MAX, which no user and password of
 * auth.h's lengths need. And memcached writes every refusal of one read into the same reply object,
 * so of a pipeline of refused lines only the last answer reaches the client; cairn answers each. After
 * AUTH_FAIL_FREE consecutive failures a failure's reply is held back (PROTO_WAIT_AUTH_DELAY, appended on
 * PROTO_EV_AUTH_DELAYED). An app user's server-wide commands are refused with "CLIENT_ERROR permission
 * denied" (mc_admin_refused, and mc_meta_exec for `me`).
 *
 * Backpressure (mc_context.out_pause): before each request line, and before each key of a get, the
 * session stops if the output queue is full and returns PROTO_PAUSE with the line unconsumed. A get
 * remembers where it stopped (get_resume, an offset into its line) and goes on from there when the
 * same line is fed again, so a line of 100,000 keys is executed as its replies drain instead of
 * queueing them all at once; the counters and the hits stay exactly as one pass would make them.
 * A key dump (stats cachedump, lru_crawler metadump) goes on the same way: each feed of its line
 * runs one bounded batch of the walk and answers PROTO_PAUSE until END is queued (mc_dump.h).
 *
 * Arithmetic in place (mc_arith.h): incr, decr and ma rewrite a number in its item only when nobody
 * else holds it, as memcached does. memcached writes its replies out after every get and keeps the
 * references of mg hits until a get, an mn or the end of its input; so an incr waits (PROTO_FLUSH,
 * the line unconsumed) while the queue still holds a value, and the session keeps a reference for
 * each mg hit (held, mc_meta.h) until those points: the same pipeline then leaves the same bytes.
 *
 * Values being received (mc_context.recv_limit): a value larger than MC_RECV_SMALL takes its length
 * from a budget shared by every session while its item waits for the bytes, so stalled uploads cannot
 * tie up the whole cache. When the budget is spent the storage line is not executed (PROTO_BUSY): the
 * server offers it again a moment later, and after mc_session_no_wait() it is refused as out of
 * memory.
 *
 * Ownership: the session owns at most one item reference for the pending value and at most
 * MC_META_HELD_MAX for mg hits (held); every other reference from a lookup goes straight into the
 * response queue. Counters go to the thread's struct mc_stats with
 * relaxed atomic loads and stores (one writer, readers elsewhere), never a read-modify-write.
 *
 * Threads: a session is used by the thread that owns its connection; the context is read-only.
 */
#include "config.h"

#include "protocol/mc/memcache.h"

#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "protocol/auth.h"
#include "protocol/mc/mc_admin.h"
#include "protocol/mc/mc_arith.h"
#include "protocol/mc/mc_dump.h"
#include "protocol/mc/mc_internal.h"
#include "protocol/mc/mc_meta.h"
#include "protocol/mc/mc_parse.h"
#include "protocol/outq.h"
#include "protocol/slowlog.h"
#include "protocol/timing.h"
#include "storage/cache.h"

_Static_assert(MC_CMD_WATCH < TIMING_TEXT_META, "text command slots overlap the meta ones");
_Static_assert(TIMING_TEXT_META + 6 <= TIMING_BINARY_BASE, "meta command slots overlap binary's");

enum mc_state { MC_ST_LINE = 0, MC_ST_VALUE, MC_ST_SWALLOW, MC_ST_AUTH_VALUE };

/* The longest authentication value (before its "\r\n") waited for: a user and a password of the
 * longest lengths auth.h accepts, with room for spaces around and between them. Larger: the
 * connection closes. */
#define MC_AUTH_VALUE_MAX (2u * AUTH_NAME_MAX + AUTH_PASS_MAX + 256u)

#define MC_AUTH_UNAUTHENTICATED "CLIENT_ERROR unauthenticated\r\n"
#define MC_AUTH_BAD_TERM        "CLIENT_ERROR bad command line termination\r\n"
#define MC_AUTH_BAD_FORMAT      "CLIENT_ERROR bad authentication token format\r\n"
#define MC_AUTH_FAILURE         "CLIENT_ERROR authentication failure\r\n"

/* A refused value longer than this is not swallowed: the connection closes after the refusal. */
#define MC_SWALLOW_MAX(ctx) (2 * (uint64_t)(ctx)->item_size_max + 2)

#define MC_REL_MAX_DELTA 2592000 /* 30 days: larger client exptimes are absolute Unix times */

/* Room for the stats arguments, NUL-terminated, handed to the server's callback. */
#define MC_STATS_ARGS (MC_PARSE_TOKENS - 1)
#define MC_STATS_BUF  512u

struct mc_session {
    const struct mc_context *ctx;
    struct mc_stats *stats;
    enum mc_state state;
    /* VALUE */
    struct item *it;
    enum cache_store_mode mode;
    uint64_t cas;
    bool noreply;
    size_t got, want;
    char term[2];
    size_t term_got;
    /* SWALLOW */
    size_t swallow;
    const char *swallow_reply;
    /* LINE: bytes of the pending partial line already searched for '\n' */
    size_t scanned;
    /* LINE: a get paused (PROTO_PAUSE) before the key at this offset of its line; 0 = none. The line
     * was parsed and checked when it first ran: a resumed get goes on without parsing it again. */
    size_t get_resume;
    struct {
        enum mc_cmd cmd;
        int32_t exptime;
        size_t keys_end; /* offset in the line */
    } get_held;
    /* LINE: a key dump (stats cachedump, lru_crawler metadump) in progress: its line is fed again
     * (PROTO_PAUSE) and the dump goes on from its cursor until END is queued (mc_dump.h). */
    struct mc_dump dump;
    /* PROTO_WAIT: what the server was asked to do */
    enum proto_wait wait;
    /* VALUE of an ms: the meta reply to build once the value is in (mc_meta.h) */
    bool meta;
    struct mc_meta_set meta_set;
    /* mg hits memcached would still hold in its reply queue (mc_meta.h) */
    struct mc_meta_held held;
    /* Authentication: the connection's state, the bytes AUTH_VALUE waits for (the value and its
     * "\r\n") and a failure's reply held back until PROTO_EV_AUTH_DELAYED (NULL: none). */
    struct auth_conn auth;
    size_t auth_want;
    const char *auth_held;
    /* Timing (protocol/timing.h; meter.hist NULL: none): where the current request's time starts,
     * its slot (0: none in progress or not counted) and, while in the same feed, its line. */
    struct timing_meter meter;
    uint64_t t_mark;
    unsigned t_slot;
    const char *t_line;
    size_t t_len;
};

/* ---- counters ---- */

/* Adds every counter of t into sum. */
void mc_stats_add(struct mc_stats *sum, const struct mc_stats *t)
{
    proto_counters_add(sum, t, sizeof(*sum));
}

/* Subtracts every counter of base from a (a `stats reset` baseline); wraps as unsigned. */
void mc_stats_sub(struct mc_stats *a, const struct mc_stats *base)
{
    proto_counters_sub(a, base, sizeof(*a));
}

/* ---- session life ---- */

/* Returns a session in the LINE state, or NULL on no memory. ctx and stats must outlive it. */
struct mc_session *mc_session_create(const struct mc_context *ctx, struct mc_stats *stats)
{
    struct mc_session *s = calloc(1, sizeof(*s));
    if (s == NULL)
        return NULL;
    s->ctx = ctx;
    s->stats = stats;
    auth_conn_init(&s->auth, ctx->auth);
    return s;
}

/* Releases a half-received item (it was never linked), frees the session and clears *sp. */
void mc_session_destroy(struct mc_session **sp)
{
    if (sp == NULL || *sp == NULL)
        return;
    struct mc_session *s = *sp;
    if (s->it != NULL) {
        mc_recv_unreserve(s->ctx, s->want);
        cache_item_release(s->ctx->cache, &s->it);
    }
    mc_meta_held_release(s->ctx->cache, &s->held);
    mc_dump_abort(s->ctx, &s->dump);
    free(s);
    *sp = NULL;
}

/* Writes v in decimal at p; returns the number of digits. */
static inline size_t mc_fmt_u64(char *p, uint64_t v)
{
    char tmp[20];
    size_t n = 0;
    do {
        tmp[n++] = (char)('0' + v % 10);
        v /= 10;
    } while (v != 0);
    for (size_t i = 0; i < n; i++)
        p[i] = tmp[n - 1 - i];
    return n;
}

/* Queues "VALUE <key> <flags> <bytes>[ <cas>]\r\n", the value and its "\r\n"; takes over it. */
static void mc_add_hit(struct outq *out, struct item *it, bool with_cas)
{
    char hdr[6 + MC_KEY_MAX + 3 * 21 + 2];
    size_t n = 6;
    memcpy(hdr, "VALUE ", 6);
    memcpy(hdr + n, item_key(it), item_nkey(it));
    n += item_nkey(it);
    hdr[n++] = ' ';
    n += mc_fmt_u64(hdr + n, item_client_flags(it));
    hdr[n++] = ' ';
    n += mc_fmt_u64(hdr + n, item_nbytes(it));
    if (with_cas) {
        hdr[n++] = ' ';
        n += mc_fmt_u64(hdr + n, item_cas(it));
    }
    hdr[n++] = '\r';
    hdr[n++] = '\n';
    outq_add(out, hdr, n);
    outq_add_value(out, it);
}

/* ---- commands ---- */

/* Whether the output queue is full (see PROTO_PAUSE). */
static inline bool mc_out_full(const struct mc_session *s, const struct outq *out)
{
    return s->ctx->out_pause != 0 && outq_weight(out) >= s->ctx->out_pause;
}

/* get, gets, gat, gats: every key in order, then END. The parser already checked the key lengths.
 * Returns PROTO_PAUSE when the output queue filled up before the last key (see get_resume). */
static enum proto_status mc_exec_get(struct mc_session *s, const struct mc_request *req, const char *line,
                                     struct outq *out)
{
    struct cache *c = s->ctx->cache;
    struct mc_stats *st = s->stats;
    bool touch = req->cmd == MC_CMD_GAT || req->cmd == MC_CMD_GATS;
    bool with_cas = req->cmd == MC_CMD_GETS || req->cmd == MC_CMD_GATS;
    cache_exp_t exp = touch ? mc_exptime(c, req->exptime) : CACHE_EXP_NEVER;
    const char *pos = s->get_resume != 0 ? line + s->get_resume : req->keys;
    const char *before = pos;
    struct mc_token k;
    s->get_resume = 0;
    while (mc_parse_next_token(&pos, req->keys_end, &k)) {
        if (mc_out_full(s, out)) {
            s->get_resume = (size_t)(before - line);
            s->get_held.cmd = req->cmd;
            s->get_held.exptime = req->exptime;
            s->get_held.keys_end = (size_t)(req->keys_end - line);
            return PROTO_PAUSE;
        }
        before = pos;
        enum cache_miss_reason why = CACHE_MISS_NONE;
        struct item *it = touch ? cache_get_touch(c, k.p, k.len, exp, &why) : cache_get(c, k.p, k.len, &why);
        if (!touch)
            mc_detail_record_get(s->ctx->shared, k.p, k.len, it != NULL);
        if (touch) {
            mc_count(&st->cmd_touch);
            mc_count(it ? &st->touch_hits : &st->touch_misses);
        } else {
            mc_count(&st->cmd_get);
            mc_count(it ? &st->get_hits : &st->get_misses);
        }
        if (it == NULL) {
            mc_count_miss(st, why);
            continue;
        }
        mc_add_hit(out, it, with_cas);
    }
    outq_add(out, "END\r\n", 5);
    return PROTO_OK;
}

static enum cache_store_mode mc_store_mode(enum mc_cmd cmd)
{
    switch (cmd) {
    case MC_CMD_ADD:
        return CACHE_ADD;
    case MC_CMD_REPLACE:
        return CACHE_REPLACE;
    case MC_CMD_APPEND:
        return CACHE_APPEND;
    case MC_CMD_PREPEND:
        return CACHE_PREPEND;
    case MC_CMD_CAS:
        return CACHE_CAS;
    default:
        return CACHE_SET;
    }
}

#define MC_START_SLACK 60 /* memcached 1.6.18: process_started = time(0) - ITEM_UPDATE_INTERVAL - 2 */

static uint32_t mc_clamp_rel(int64_t v)
{
    if (v > (int64_t)UINT32_MAX)
        return UINT32_MAX;
    return v < 1 ? 1 : (uint32_t)v;
}

/* See mc_internal.h. "Already expired" is relative time 1. */
uint32_t mc_realtime(const struct cache *c, int64_t client_exptime)
{
    int64_t started = (int64_t)cache_process_started(c);
    if (client_exptime == 0)
        return 0;
    if (client_exptime < 0)
        return 1;
    if (client_exptime <= MC_REL_MAX_DELTA)
        return mc_clamp_rel((int64_t)cache_rel_time(c) + client_exptime);
    /* memcached's process_started is 60 s further back than cairn's (ITEM_UPDATE_INTERVAL + 2
     * against 2): only a time before that is "before the start" (1, which flush_all treats as no
     * flush at all); a later past time is the start instant (2), already passed. */
    if (client_exptime <= started - MC_START_SLACK)
        return 1;
    int64_t rel = client_exptime - started;
    return mc_clamp_rel(rel < 2 ? 2 : rel);
}

/* See mc_internal.h. */
void mc_flush(struct cache *c, int64_t delay)
{
    uint32_t when = delay > 0 ? mc_realtime(c, delay) : cache_rel_time(c);

    if (when == 1) /* an absolute time before the start: memcached's oldest_live becomes 0 */
        cache_flush_cancel(c);
    else
        cache_flush(c, when);
}

/* See mc_internal.h. */
cache_exp_t mc_exptime(const struct cache *c, int64_t client_exptime)
{
    return cache_exp_from_rel_seconds(mc_realtime(c, client_exptime));
}

/*
 * Whether a value fits under -I as memcached 1.6 counts an item: a 48-byte header (56 with CAS), the
 * key and its NUL, the value and its "\r\n". cairn's own items are smaller (item.h), but clients near
 * the limit must get the same answers from both servers.
 */
bool mc_item_fits(const struct mc_context *ctx, size_t nkey, uint32_t flags, uint64_t nbytes)
{
    uint64_t total = 48u + (ctx->use_cas ? 8u : 0u) + nkey + 1u + (flags != 0 ? 4u : 0u) + nbytes + 2u;
    return total <= ctx->item_size_max;
}

/* See memcache.h. */
bool mc_join_fits(const void *arg, size_t nkey, uint32_t client_flags, uint64_t nbytes)
{
    return mc_item_fits(arg, nkey, client_flags, nbytes);
}

/* See mc_internal.h. */
bool mc_recv_reserve(const struct mc_context *ctx, uint64_t nbytes)
{
    if (ctx->recv_bytes == NULL || nbytes <= MC_RECV_SMALL)
        return true;
    uint64_t before = atomic_fetch_add_explicit(ctx->recv_bytes, nbytes, memory_order_relaxed);
    if (before + nbytes <= ctx->recv_limit)
        return true;
    atomic_fetch_sub_explicit(ctx->recv_bytes, nbytes, memory_order_relaxed);
    return false;
}

/* See mc_internal.h. */
void mc_recv_unreserve(const struct mc_context *ctx, uint64_t nbytes)
{
    if (ctx->recv_bytes != NULL && nbytes > MC_RECV_SMALL)
        atomic_fetch_sub_explicit(ctx->recv_bytes, nbytes, memory_order_relaxed);
}

/* Enters SWALLOW for a refused value block of want bytes (terminator included) whose refusal is
 * reply (NULL: noreply). Beyond MC_SWALLOW_MAX the refusal is queued now and the connection closes
 * (PROTO_CLOSE) rather than waiting for bytes it would only skip. */
static enum proto_status mc_begin_swallow(struct mc_session *s, uint64_t want, const char *reply,
                                          struct outq *out)
{
    if (want > MC_SWALLOW_MAX(s->ctx)) {
        if (reply != NULL)
            outq_add_str(out, reply);
        return PROTO_CLOSE;
    }
    s->state = MC_ST_SWALLOW;
    s->swallow = (size_t)want;
    s->swallow_reply = reply;
    return PROTO_OK;
}

/* A storage command line: allocate the item and wait for the value, or refuse and swallow it. */
static enum proto_status mc_exec_storage(struct mc_session *s, const struct mc_request *req, struct outq *out)
{
    struct cache *c = s->ctx->cache;
    enum cache_status cst = CACHE_TOO_LARGE;
    struct item *it = NULL;
    bool fits = mc_item_fits(s->ctx, req->key.len, req->flags, req->nbytes);
    bool reserved = fits && mc_recv_reserve(s->ctx, req->nbytes);
    if (fits && !reserved && !s->meta_set.no_wait)
        return PROTO_BUSY;
    s->mode = mc_store_mode(req->cmd);
    mc_detail_record_set(s->ctx->shared, req->key.p, req->key.len);
    if (fits) {
        cst = CACHE_NO_MEMORY;
        if (reserved) {
            it = cache_alloc(c, req->key.p, req->key.len, req->flags, mc_exptime(c, req->exptime),
                             req->nbytes, &cst);
            if (it == NULL)
                mc_recv_unreserve(s->ctx, req->nbytes);
        }
    }
    if (it == NULL) {
        bool too_large = cst == CACHE_TOO_LARGE;
        mc_count(too_large ? &s->stats->store_too_large : &s->stats->store_no_memory);
        /* A failed set must not leave the old value readable. */
        if (s->mode == CACHE_SET)
            cache_delete(c, req->key.p, req->key.len, 0);
        return mc_begin_swallow(s, req->nbytes + 2,
                                req->noreply ? NULL
                                : too_large  ? MC_ERR_TOO_LARGE
                                             : MC_ERR_NO_MEMORY,
                                out);
    }
    s->it = it;
    s->cas = req->cas;
    s->noreply = req->noreply;
    s->got = 0;
    s->want = req->nbytes;
    s->term_got = 0;
    s->state = MC_ST_VALUE;
    return PROTO_OK;
}

/* The value block is complete: link the item (or refuse a bad terminator) and answer. */
static void mc_finish_store(struct mc_session *s, struct outq *out)
{
    struct cache *c = s->ctx->cache;
    struct mc_stats *st = s->stats;
    const char *reply;
    s->state = MC_ST_LINE;
    mc_recv_unreserve(s->ctx, s->want);
    if (s->meta) {
        s->meta = false;
        mc_meta_finish_set(s->ctx, st, &s->meta_set, s->it, s->term[0] == '\r' && s->term[1] == '\n', out);
        cache_item_release(c, &s->it);
        return;
    }
    mc_count(&st->cmd_set);
    if (s->term[0] != '\r' || s->term[1] != '\n') {
        reply = MC_ERR_BAD_CHUNK;
    } else {
        enum cache_status cst = cache_store(c, s->it, s->mode, s->cas, NULL);
        switch (cst) {
        case CACHE_OK:
            reply = "STORED\r\n";
            break;
        case CACHE_EXISTS:
            reply = "EXISTS\r\n";
            break;
        case CACHE_NOT_FOUND:
            reply = "NOT_FOUND\r\n";
            break;
        default:
            reply = "NOT_STORED\r\n";
            break;
        }
        if (s->mode == CACHE_CAS) {
            if (cst == CACHE_OK)
                mc_count(&st->cas_hits);
            else if (cst == CACHE_EXISTS)
                mc_count(&st->cas_badval);
            else if (cst == CACHE_NOT_FOUND)
                mc_count(&st->cas_misses);
        }
    }
    cache_item_release(c, &s->it);
    mc_reply(out, s->noreply, reply);
}

static void mc_exec_arith(struct mc_session *s, const struct mc_request *req, struct outq *out)
{
    bool incr = req->cmd == MC_CMD_INCR;
    struct mc_arith a = {.incr = incr, .delta = req->delta, .use_cas = s->ctx->use_cas};
    struct cache_rmw op;
    struct cache_rmw_result r;
    mc_arith_op(&a, &op);
    enum cache_status cst = cache_rmw(s->ctx->cache, req->key.p, req->key.len, &op, &r);
    uint64_t result = a.value;
    switch (cst) {
    case CACHE_OK: {
        mc_count(incr ? &s->stats->incr_hits : &s->stats->decr_hits);
        if (!req->noreply) {
            char num[22];
            size_t n = mc_fmt_u64(num, result);
            num[n++] = '\r';
            num[n++] = '\n';
            outq_add(out, num, n);
        }
        break;
    }
    case CACHE_NOT_FOUND:
        mc_count(incr ? &s->stats->incr_misses : &s->stats->decr_misses);
        mc_reply(out, req->noreply, "NOT_FOUND\r\n");
        break;
    case CACHE_NON_NUMERIC:
        mc_reply(out, req->noreply, MC_ERR_NON_NUMERIC);
        break;
    default:
        mc_reply(out, req->noreply, "SERVER_ERROR out of memory\r\n");
        break;
    }
}

static void mc_exec_touch(struct mc_session *s, const struct mc_request *req, struct outq *out)
{
    struct cache *c = s->ctx->cache;
    enum cache_status cst = cache_touch(c, req->key.p, req->key.len, mc_exptime(c, req->exptime));
    mc_count(&s->stats->cmd_touch);
    mc_count(cst == CACHE_OK ? &s->stats->touch_hits : &s->stats->touch_misses);
    mc_reply(out, req->noreply, cst == CACHE_OK ? "TOUCHED\r\n" : "NOT_FOUND\r\n");
}

static void mc_exec_delete(struct mc_session *s, const struct mc_request *req, struct outq *out)
{
    enum cache_status cst = cache_delete(s->ctx->cache, req->key.p, req->key.len, 0);
    mc_detail_record_delete(s->ctx->shared, req->key.p, req->key.len);
    mc_count(cst == CACHE_OK ? &s->stats->delete_hits : &s->stats->delete_misses);
    mc_reply(out, req->noreply, cst == CACHE_OK ? "DELETED\r\n" : "NOT_FOUND\r\n");
}

static void mc_exec_flush(struct mc_session *s, const struct mc_request *req, struct outq *out)
{
    struct cache *c = s->ctx->cache;
    mc_flush(c, req->has_delay ? req->exptime : 0);
    mc_count(&s->stats->cmd_flush);
    mc_reply(out, req->noreply, "OK\r\n");
}

/* `stats` and its groups; `stats cachedump` starts a dump (PROTO_PAUSE until it is done). */
static enum proto_status mc_exec_stats(struct mc_session *s, const struct mc_request *req, struct outq *out)
{
    char buf[MC_STATS_BUF];
    char *argv[MC_STATS_ARGS + 1];
    int argc = 0;
    size_t used = 0;
    for (size_t i = 1; i < req->ntokens && argc < MC_STATS_ARGS; i++) {
        struct mc_token t = req->tokens[i];
        if (used + t.len + 1 > sizeof(buf))
            break;
        memcpy(buf + used, t.p, t.len);
        buf[used + t.len] = '\0';
        argv[argc++] = buf + used;
        used += t.len + 1;
    }
    argv[argc] = NULL;
    if (argc > 0 && strcmp(argv[0], "detail") == 0) {
        mc_admin_stats_detail(s->ctx, argc, argv, out);
        return PROTO_OK;
    }
    if (argc > 0 && strcmp(argv[0], "cachedump") == 0) {
        mc_dump_cachedump(s->ctx, &s->dump, argc, argv, out);
        return s->dump.kind != MC_DUMP_NONE ? mc_dump_run(s->ctx, &s->dump, out) : PROTO_OK;
    }
    enum mc_stats_result r = MC_STATS_UNKNOWN;
    if (s->ctx->stats != NULL)
        r = s->ctx->stats(s->ctx->server, argc, argv, out);
    else if (argc == 0)
        r = MC_STATS_END;
    if (r == MC_STATS_END)
        outq_add(out, "END\r\n", 5);
    else if (r == MC_STATS_UNKNOWN)
        outq_add(out, MC_ERR_ERROR, sizeof(MC_ERR_ERROR) - 1);
    return PROTO_OK;
}

/* `lru_crawler metadump <arg>` starts a dump (PROTO_PAUSE until it is done); the other lru_crawler
 * subcommands, and every one without shared admin state, are mc_admin.c's. */
static enum proto_status mc_exec_lru_crawler(struct mc_session *s, const struct mc_request *req,
                                             struct outq *out)
{
    if (s->ctx->shared == NULL || req->ntokens != 3 || !MC_TOK_IS(req->tokens[1], "metadump")) {
        mc_admin_exec(s->ctx, req, out);
        return PROTO_OK;
    }
    mc_dump_metadump(s->ctx, &s->dump, req->tokens[2], out);
    return s->dump.kind != MC_DUMP_NONE ? mc_dump_run(s->ctx, &s->dump, out) : PROTO_OK;
}

static enum proto_status mc_exec_shutdown(struct mc_session *s, const struct mc_request *req,
                                          struct outq *out)
{
    if (!s->ctx->enable_shutdown) {
        outq_add_str(out, MC_ERR_SHUTDOWN_DISABLED);
        return PROTO_OK;
    }
    if (req->ntokens == 1 || req->graceful)
        return PROTO_SHUTDOWN;
    outq_add_str(out, MC_ERR_SHUTDOWN_MODE);
    return PROTO_OK;
}

/* `snapshot [bg]`, which the parser leaves unknown: handed to the server (PROTO_WAIT) when snapshots
 * are on. Returns PROTO_OK with the reply queued otherwise. */
static enum proto_status mc_exec_snapshot(struct mc_session *s, const struct mc_request *req,
                                          struct outq *out)
{
    enum proto_wait kind = mc_admin_snapshot_kind(req);
    if (kind == PROTO_WAIT_NONE) {
        outq_add_str(out, MC_ERR_ERROR);
        return PROTO_OK;
    }
    if (!s->ctx->snapshot_enabled) {
        outq_add_str(out, MC_ERR_SNAPSHOT_OFF);
        return PROTO_OK;
    }
    s->wait = kind;
    return PROTO_WAIT;
}

/* A meta command line (mc_meta.h); an ms continues in the VALUE or SWALLOW state. */
static enum proto_status mc_exec_meta(struct mc_session *s, const char *line, size_t len, struct outq *out)
{
    struct mc_meta_set *set = &s->meta_set;
    switch (mc_meta_exec(s->ctx, s->stats, line, len, auth_conn_admin(&s->auth), set, &s->held, out)) {
    case MC_META_BUSY:
        return PROTO_BUSY;
    case MC_META_FLUSH:
        return PROTO_FLUSH;
    case MC_META_VALUE:
        s->it = set->it;
        set->it = NULL;
        s->meta = true;
        s->got = 0;
        s->want = set->nbytes;
        s->term_got = 0;
        s->state = MC_ST_VALUE;
        break;
    case MC_META_SWALLOW:
        return mc_begin_swallow(s, set->swallow, set->error, out);
    case MC_META_DONE:
        break;
    }
    return PROTO_OK;
}

/* A get-family command, after which memcached writes its reply queue out (mc_meta.h's held). */
static enum proto_status mc_exec_get_flush(struct mc_session *s, const struct mc_request *req,
                                           const char *line, struct outq *out)
{
    enum proto_status st = mc_exec_get(s, req, line, out);

    if (st != PROTO_PAUSE)
        mc_meta_held_release(s->ctx->cache, &s->held);
    return st;
}

/* The timing slot of a meta command line (mc_meta_is_meta said it is one). */
static unsigned mc_meta_slot(const char *line, size_t len)
{
    static const char order[] = "gsdane"; /* mg ms md ma mn me: TIMING_TEXT_META's order */
    size_t i = 0;
    while (i < len && line[i] == ' ')
        i++;
    const char *c = i + 1 < len ? memchr(order, line[i + 1], sizeof(order) - 1) : NULL;
    return c != NULL ? TIMING_TEXT_META + (unsigned)(c - order) : 0;
}

/* Parses and executes one request line (line end removed). */
static enum proto_status mc_exec_line(struct mc_session *s, const char *line, size_t len, struct outq *out)
{
    struct mc_request req;
    if (s->dump.kind != MC_DUMP_NONE)
        return mc_dump_run(s->ctx, &s->dump, out); /* the dump's own line, fed again */
    if (s->get_resume != 0) {
        /* A paused get, already parsed and allowed: only what mc_exec_get reads. */
        req.cmd = s->get_held.cmd;
        req.exptime = s->get_held.exptime;
        req.keys = line + s->get_resume;
        req.keys_end = line + s->get_held.keys_end;
        return mc_exec_get_flush(s, &req, line, out);
    }
    if (len > 1 && (line[0] == 'm' || line[0] == ' ')) {
        if (mc_meta_is_meta(line, len)) {
            s->t_slot = mc_meta_slot(line, len);
            return mc_exec_meta(s, line, len, out);
        }
    }
    enum mc_parse_status ps = mc_parse_line(line, len, &req);
    if (ps == MC_PARSE_OK)
        s->t_slot = TIMING_TEXT_BASE + (unsigned)req.cmd;
    if (mc_admin_refused(s->ctx, &req, ps, auth_conn_admin(&s->auth), s->stats, out))
        return PROTO_OK;
    switch (ps) {
    case MC_PARSE_OK:
        break;
    case MC_PARSE_ERROR:
        if (mc_admin_is_snapshot(&req))
            return mc_exec_snapshot(s, &req, out);
        outq_add(out, MC_ERR_ERROR, sizeof(MC_ERR_ERROR) - 1);
        return PROTO_OK;
    case MC_PARSE_CLIENT_ERROR:
        mc_reply(out, req.noreply, req.error);
        return PROTO_OK;
    case MC_PARSE_CLOSE:
        return PROTO_CLOSE;
    }
    switch (req.cmd) {
    case MC_CMD_GET:
    case MC_CMD_GETS:
    case MC_CMD_GAT:
    case MC_CMD_GATS:
        return mc_exec_get_flush(s, &req, line, out);
    case MC_CMD_SET:
    case MC_CMD_ADD:
    case MC_CMD_REPLACE:
    case MC_CMD_APPEND:
    case MC_CMD_PREPEND:
    case MC_CMD_CAS:
        return mc_exec_storage(s, &req, out);
    case MC_CMD_INCR:
    case MC_CMD_DECR:
        if (outq_holds_items(out))
            return PROTO_FLUSH; /* write the values out first (mc_meta_exec's MC_META_FLUSH) */
        mc_exec_arith(s, &req, out);
        break;
    case MC_CMD_DELETE:
        mc_exec_delete(s, &req, out);
        break;
    case MC_CMD_TOUCH:
        mc_exec_touch(s, &req, out);
        break;
    case MC_CMD_FLUSH_ALL:
        mc_exec_flush(s, &req, out);
        break;
    case MC_CMD_VERSION:
        outq_add(out, "VERSION ", 8);
        outq_add_str(out, s->ctx->version ? s->ctx->version : PACKAGE_VERSION);
        outq_add(out, "\r\n", 2);
        break;
    case MC_CMD_VERBOSITY:
        if (s->ctx->verbosity != NULL)
            s->ctx->verbosity(s->ctx->server, req.level);
        mc_reply(out, req.noreply, "OK\r\n");
        break;
    case MC_CMD_QUIT:
        return PROTO_CLOSE;
    case MC_CMD_SHUTDOWN:
        return mc_exec_shutdown(s, &req, out);
    case MC_CMD_STATS:
        return mc_exec_stats(s, &req, out);
    case MC_CMD_LRU_CRAWLER:
        return mc_exec_lru_crawler(s, &req, out);
    case MC_CMD_CACHE_MEMLIMIT:
    case MC_CMD_SLABS:
    case MC_CMD_LRU:
    case MC_CMD_WATCH:
        mc_admin_exec(s->ctx, &req, out);
        break;
    case MC_CMD_NONE:
        outq_add(out, MC_ERR_ERROR, sizeof(MC_ERR_ERROR) - 1);
        break;
    }
    return PROTO_OK;
}

/* ---- timing ---- */

/* Hands a slow request to the slow log: its line's words, or (a value that arrived in a later read,
 * its line gone) the command's name alone. */
static void mc_timing_slow(struct mc_session *s, uint64_t us)
{
    const char *argv[SLOWLOG_MAX_ARGC];
    size_t lens[SLOWLOG_MAX_ARGC], argc = 0;
    enum timing_proto proto;

    if (s->t_line == NULL) {
        argv[0] = timing_slot_name(s->t_slot, &proto);
        lens[0] = strlen(argv[0]);
        argc = 1;
    } else {
        /* every word is counted; the log reads only the ones it keeps (slowlog.h) */
        const char *p = s->t_line, *end = s->t_line + s->t_len;
        while (p < end) {
            while (p < end && *p == ' ')
                p++;
            const char *w = p;
            while (p < end && *p != ' ')
                p++;
            if (p == w)
                break;
            if (argc < SLOWLOG_MAX_ARGC) {
                argv[argc] = w;
                lens[argc] = (size_t)(p - w);
            }
            argc++;
        }
    }
    slowlog_add(s->meter.slowlog, us, argc, argv, lens, "text", s->meter.addr, NULL);
}

/* The request in progress has queued its reply: counts its time and starts the next one's. */
static void mc_timing_done(struct mc_session *s)
{
    if (s->meter.hist == NULL || s->t_slot == 0)
        return;
    uint64_t us;
    if (timing_end(&s->meter, s->t_slot, &s->t_mark, &us))
        mc_timing_slow(s, us);
    s->t_slot = 0;
}

/* ---- framing ---- */

/* VALUE state: copies value bytes, then collects the terminator; returns the bytes used. */
static size_t mc_feed_value(struct mc_session *s, const char *p, size_t n, struct outq *out)
{
    size_t used = 0;
    if (s->got < s->want) {
        used = s->want - s->got < n ? s->want - s->got : n;
        memcpy(item_value(s->it) + s->got, p, used);
        s->got += used;
    }
    while (used < n && s->term_got < 2)
        s->term[s->term_got++] = p[used++];
    if (s->term_got == 2)
        mc_finish_store(s, out);
    return used;
}

/* SWALLOW state: skips refused value bytes; queues the deferred refusal at the end. */
static size_t mc_feed_swallow(struct mc_session *s, size_t n, struct outq *out)
{
    size_t used = s->swallow < n ? s->swallow : n;
    s->swallow -= used;
    if (s->swallow == 0) {
        s->state = MC_ST_LINE;
        if (s->swallow_reply != NULL)
            outq_add_str(out, s->swallow_reply);
        s->swallow_reply = NULL;
    }
    return used;
}

/* ---- authentication (memcached -Y) ---- */

/* C's isspace() in the C locale, as memcached's safe_strtoul tests the byte after a number. */
static inline bool mc_auth_space(char c)
{
    return c == ' ' || (c >= '\t' && c <= '\r');
}

/* Splits p[0..len) at spaces (only ' ', as memcached's tokenizer), up to its first NUL byte (where
 * memcached's string ends); fills at most max tokens and returns how many were found (up to max). */
static size_t mc_auth_tokens(const char *p, size_t len, struct mc_token *tok, size_t max)
{
    const char *nul = memchr(p, '\0', len);
    size_t end = nul != NULL ? (size_t)(nul - p) : len;
    size_t n = 0, i = 0;
    while (i < end && n < max) {
        while (i < end && p[i] == ' ')
            i++;
        if (i == end)
            break;
        size_t start = i;
        while (i < end && p[i] != ' ')
            i++;
        tok[n++] = (struct mc_token){p + start, i - start};
    }
    return n;
}

/* memcached's safe_strtoul on a token: strtoul's base-10 reading (leading white space, a sign, digits
 * that must not overflow 64 bits; a '-' negates modulo 2^64), ended by the token's end or a white
 * space byte; a result that is negative as a signed number is refused when the token holds a '-'.
 * The 64-bit result is truncated to 32 bits, as memcached stores it. */
static bool mc_auth_strtoul(struct mc_token t, uint32_t *out)
{
    size_t i = 0;
    bool neg = false;
    uint64_t v = 0;
    while (i < t.len && mc_auth_space(t.p[i]))
        i++;
    if (i < t.len && (t.p[i] == '+' || t.p[i] == '-'))
        neg = t.p[i++] == '-';
    size_t digits = i;
    for (; i < t.len && t.p[i] >= '0' && t.p[i] <= '9'; i++) {
        unsigned d = (unsigned)(t.p[i] - '0');
        if (v > (UINT64_MAX - d) / 10)
            return false; /* ERANGE */
        v = v * 10 + d;
    }
    if (i == digits || (i < t.len && !mc_auth_space(t.p[i])))
        return false;
    if (neg)
        v = (uint64_t)0 - v;
    if (v > (uint64_t)INT64_MAX && memchr(t.p, '-', t.len) != NULL)
        return false;
    *out = (uint32_t)v;
    return true;
}

/* An unauthenticated connection's line (its '\n' removed, a '\r' kept as memcached keeps it): whether
 * it is `set` with at least five words, the fifth a number; *n gets that number. */
static bool mc_auth_line(const char *line, size_t len, uint32_t *n)
{
    struct mc_token tok[5];
    if (mc_auth_tokens(line, len, tok, 5) < 5 || !MC_TOK_IS(tok[0], "set"))
        return false;
    return mc_auth_strtoul(tok[4], n);
}

/* The reply to a whole authentication value p[0..want) (its "\r\n" included): checks the user and
 * password, counts the attempt and records the outcome on the connection. Returns NULL when the
 * failure's reply must be held back (kept in auth_held). */
static const char *mc_auth_check(struct mc_session *s, const char *p, size_t want)
{
    struct mc_token tok[2];
    enum auth_role role = AUTH_ROLE_NONE;
    if (p[want - 2] != '\r' || p[want - 1] != '\n')
        return MC_AUTH_BAD_TERM;
    if (mc_auth_tokens(p, want - 2, tok, 2) < 2)
        return MC_AUTH_BAD_FORMAT;
    mc_count(&s->stats->auth_cmds);
    if (auth_check(s->ctx->auth, tok[0].p, tok[0].len, tok[1].p, tok[1].len, &role)) {
        auth_conn_passed(&s->auth, role);
        return "STORED\r\n";
    }
    mc_count(&s->stats->auth_errors);
    if (!auth_conn_failed(&s->auth))
        return MC_AUTH_FAILURE;
    s->auth_held = MC_AUTH_FAILURE;
    s->wait = PROTO_WAIT_AUTH_DELAY;
    return NULL;
}

/* An unauthenticated connection's input p[0..n): one line or one whole authentication value.
 * Returns the bytes used (0: wait for more); *st becomes PROTO_CLOSE or PROTO_WAIT when the
 * connection must close or a failure's reply is held back. */
static size_t mc_auth_feed(struct mc_session *s, const char *p, size_t n, struct outq *out,
                           enum proto_status *st)
{
    if (s->state == MC_ST_AUTH_VALUE) {
        size_t want = s->auth_want;
        if (n < want)
            return 0;
        s->state = MC_ST_LINE;
        const char *reply = mc_auth_check(s, p, want);
        if (reply != NULL)
            outq_add_str(out, reply);
        else
            *st = PROTO_WAIT;
        return want;
    }
    if (n < 2) /* memcached looks at nothing shorter */
        return 0;
    const char *nl = memchr(p, '\n', n);
    if (nl == NULL) {
        if (n > MC_LINE_MAX)
            *st = PROTO_CLOSE;
        return 0;
    }
    size_t len = (size_t)(nl - p);
    uint32_t nbytes;
    if (!mc_auth_line(p, len, &nbytes)) {
        outq_add_str(out, MC_AUTH_UNAUTHENTICATED);
        return len + 1;
    }
    if (nbytes > MC_AUTH_VALUE_MAX) {
        *st = PROTO_CLOSE;
        return len + 1;
    }
    s->state = MC_ST_AUTH_VALUE;
    s->auth_want = (size_t)nbytes + 2;
    return len + 1;
}

/* Runs the state machine over buf: value bytes, swallowed bytes and complete lines, in order, until
 * the input ends in a partial line or a request ends the connection. */
enum proto_status mc_session_feed(struct mc_session *s, const char *buf, size_t len, size_t *consumed,
                                  struct outq *out)
{
    size_t pos = 0;
    enum proto_status st = PROTO_OK;
    if (s->meter.hist != NULL)
        s->t_mark = timing_now(&s->meter);
    while (st == PROTO_OK && pos < len) {
        if (!auth_conn_ok(&s->auth)) {
            size_t used = mc_auth_feed(s, buf + pos, len - pos, out, &st);
            if (used == 0)
                break;
            pos += used;
            continue;
        }
        if (s->state == MC_ST_VALUE || s->state == MC_ST_SWALLOW) {
            pos += s->state == MC_ST_VALUE ? mc_feed_value(s, buf + pos, len - pos, out)
                                           : mc_feed_swallow(s, len - pos, out);
            if (s->state == MC_ST_LINE)
                mc_timing_done(s);
            continue;
        }
        const char *line = buf + pos;
        size_t rest = len - pos;
        size_t skip = s->scanned < rest ? s->scanned : 0;
        const char *nl = memchr(line + skip, '\n', rest - skip);
        if (nl == NULL) {
            /* The partial line is offered again with more bytes after it: do not search it twice. */
            s->scanned = rest;
            if (rest > MC_LINE_MAX && (rest > MC_KEYS_LINE_MAX || !mc_parse_is_get_prefix(line, rest)))
                st = PROTO_CLOSE;
            break;
        }
        if (mc_out_full(s, out)) {
            st = PROTO_PAUSE;
            break;
        }
        s->scanned = 0;
        size_t n = (size_t)(nl - line);
        pos += n + 1;
        if (n > 1 && line[n - 1] == '\r')
            n--;
        s->t_line = line;
        s->t_len = n;
        st = mc_exec_line(s, line, n, out);
        if (st == PROTO_PAUSE || st == PROTO_BUSY || st == PROTO_FLUSH) {
            pos = (size_t)(line - buf);       /* the line comes back (a get goes on from get_resume) */
            s->scanned = (size_t)(nl - line); /* its '\n' is found at once next time */
        } else {
            s->meta_set.no_wait = false;
            if (st == PROTO_WAIT)
                s->t_slot = 0; /* answered later by the server: not timed */
            else if (s->state == MC_ST_LINE)
                mc_timing_done(s);
        }
    }
    s->t_line = NULL; /* the buffer is the connection's again */
    /* Out of complete requests: memcached writes its reply queue out here. */
    if (st == PROTO_OK || st == PROTO_CLOSE || st == PROTO_SHUTDOWN)
        mc_meta_held_release(s->ctx->cache, &s->held);
    *consumed = pos;
    return st;
}

/* The request behind the last PROTO_WAIT, once. */
enum proto_wait mc_session_take_wait(struct mc_session *s)
{
    enum proto_wait k = s->wait;
    s->wait = PROTO_WAIT_NONE;
    return k;
}

/* The unfilled part of the pending item's value, for a direct read(); false outside VALUE or once
 * only the terminator is due. */
bool mc_session_value_window(struct mc_session *s, char **dst, size_t *len)
{
    if (s->state != MC_ST_VALUE || s->got >= s->want)
        return false;
    *dst = item_value(s->it) + s->got;
    *len = s->want - s->got;
    return true;
}

/* Counts n bytes written into the window (clamped to what is due). */
void mc_session_value_filled(struct mc_session *s, size_t n)
{
    if (s->state != MC_ST_VALUE)
        return;
    s->got = s->got + n > s->want ? s->want : s->got + n;
}

/* See memcache.h. */
void mc_session_no_wait(struct mc_session *s)
{
    s->meta_set.no_wait = true;
}

/* See memcache.h. */
bool mc_session_mid_value(const struct mc_session *s)
{
    return s->state != MC_ST_LINE;
}

/* See memcache.h: the lines memcached (and cairn's `snapshot` command) answer with. */
void mc_session_answer(struct mc_session *s, const struct proto_outcome *o, struct outq *out)
{
    char line[256];

    switch (o->ev) {
    case PROTO_EV_SNAPSHOT_OFF:
        outq_add_str(out, "SERVER_ERROR snapshots are off (no --snapshot-path)\r\n");
        return;
    case PROTO_EV_SNAPSHOT_BUSY:
        outq_add_str(out, "SERVER_ERROR snapshot already running\r\n");
        return;
    case PROTO_EV_SNAPSHOT_STARTED:
        outq_add_str(out, "OK\r\n");
        return;
    case PROTO_EV_SNAPSHOT_SAVED:
        snprintf(line, sizeof(line), "SNAPSHOT %" PRIu64 " %" PRIu64 " %" PRIu64 "\r\n", o->items, o->bytes,
                 o->usec);
        break;
    case PROTO_EV_SNAPSHOT_FAILED:
        snprintf(line, sizeof(line), "SERVER_ERROR snapshot failed: %s\r\n", o->why != NULL ? o->why : "");
        break;
    case PROTO_EV_NO_MEMORY:
        outq_add_str(out, "SERVER_ERROR out of memory\r\n");
        return;
    case PROTO_EV_AUTH_DELAYED:
        if (s->auth_held != NULL)
            outq_add_str(out, s->auth_held);
        s->auth_held = NULL;
        return;
    case PROTO_EV_READ_NO_MEMORY:
    default:
        outq_add_str(out, "SERVER_ERROR out of memory reading request\r\n");
        return;
    }
    outq_add_str(out, line);
}

/* The typed operations above behind proto.h's untyped table. */
static void *ops_create(const void *ctx, void *stats)
{
    return mc_session_create(ctx, stats);
}

static void ops_destroy(void *sess)
{
    struct mc_session *s = sess;
    mc_session_destroy(&s);
}

static enum proto_status ops_feed(void *sess, const char *buf, size_t len, size_t *used, struct outq *out)
{
    return mc_session_feed(sess, buf, len, used, out);
}

static enum proto_wait ops_take_wait(void *sess)
{
    return mc_session_take_wait(sess);
}

static bool ops_value_window(void *sess, char **dst, size_t *len)
{
    return mc_session_value_window(sess, dst, len);
}

static void ops_value_filled(void *sess, size_t n)
{
    mc_session_value_filled(sess, n);
}

static void ops_no_wait(void *sess)
{
    mc_session_no_wait(sess);
}

static bool ops_mid_value(const void *sess)
{
    return mc_session_mid_value(sess);
}

static void ops_answer(void *sess, const struct proto_outcome *o, struct outq *out)
{
    mc_session_answer(sess, o, out);
}

static void ops_meter(void *sess, const struct timing_meter *m)
{
    struct mc_session *s = sess;
    s->meter = *m;
}

const struct proto_ops mc_proto_ops = {
    .name = "memcache",
    .line_max = MC_KEYS_LINE_MAX,
    .reject = "ERROR Too many open connections\r\n",
    .create = ops_create,
    .destroy = ops_destroy,
    .feed = ops_feed,
    .take_wait = ops_take_wait,
    .value_window = ops_value_window,
    .value_filled = ops_value_filled,
    .no_wait = ops_no_wait,
    .mid_value = ops_mid_value,
    .answer = ops_answer,
    .meter = ops_meter,
};
