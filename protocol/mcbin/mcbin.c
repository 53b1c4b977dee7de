/*
 * mcbin.c: the binary protocol's session: framing, the value state machine and the commands, over
 * the text protocol's context, rules and counters (see mcbin.h).
 *
 * A session is in one of three states:
 *
 *   HEAD --storage request, item allocated--> VALUE --vlen bytes received--> HEAD (store, answer)
 *     |
 *     +--refused value (E2BIG, ENOMEM), unknown opcode--> SWALLOW --n bytes skipped--> HEAD
 *     |
 *     +--SASL_AUTH, SASL_STEP (credentials configured)--> SASL --vlen bytes received--> HEAD (answer)
 *
 * - HEAD: mcbin_parse() waits until the header, extras and key are buffered (at most MCBIN_HEAD_MAX
 *   bytes, so the connection's buffer never grows past it), then the request is executed and those
 *   bytes are consumed. Before each request the session stops with PROTO_PAUSE while the output
 *   queue is full (mc_context.out_pause).
 * - VALUE: the session holds the one reference to an unlinked item and the value's bytes go straight
 *   into it, from the buffer or read() into the value window. The window leaves out the value's last
 *   byte: that byte comes through feed, which is what completes the store (a binary value has no
 *   terminator that would otherwise arrive through feed). The item is linked only once complete.
 * - SWALLOW: memcached's skip after a refusal. The refusal is queued before the skip, as memcached
 *   does; the skip is never bounded by -I (memcached swallows any length; it holds no memory).
 *
 * - SASL: the client's response is gathered into a small buffer (at most MCBIN_SASL_MAX bytes) and
 *   checked once complete (see "SASL" below).
 *
 * Replies: a response repeats the request's opcode (a quiet one too) and opaque. Quiet requests
 * answer only errors, quiet gets only hits (mcbin_answers). Values go out by reference
 * (outq_add_value_raw), like the text protocol's.
 *
 * Sharing: values larger than MC_RECV_SMALL take from the same receiving budget as the text
 * protocol's (PROTO_BUSY, then a refusal after no_wait); exptimes go through mc_exptime (a binary
 * exptime is unsigned, so never "already expired" by sign); -I is mc_item_fits; incr/decr are
 * mc_arith's numbers through cache_meta_arith (the CAS check and the creation with `initial` under
 * one shard lock); STAT renders the text protocol's `stats` producers and re-frames each
 * "STAT name value" line as a packet.
 *
 * Ownership and threads: as memcache.c: at most one item reference (the pending value); counters
 * are the worker's struct mc_stats, written with relaxed stores by this thread only.
 */
#include "config.h"

#include "protocol/mcbin/mcbin.h"

#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "protocol/auth.h"
#include "protocol/mc/mc_admin.h"
#include "protocol/mc/mc_arith.h"
#include "protocol/mc/mc_internal.h"
#include "protocol/mc/memcache.h"
#include "protocol/mcbin/mcbin_parse.h"
#include "protocol/outq.h"
#include "protocol/slowlog.h"
#include "protocol/timing.h"
#include "storage/cache.h"
#include "storage/meta.h"

enum mcbin_state { MCBIN_HEAD = 0, MCBIN_VALUE, MCBIN_SWALLOW, MCBIN_SASL };

/* The longest SASL response kept: a PLAIN message naming two users and a password, each as long as a
 * credentials file allows, and its two separators. Anything longer cannot authenticate. */
#define MCBIN_SASL_MAX (2u * AUTH_NAME_MAX + AUTH_PASS_MAX + 2u)
/* memcached's longest mechanism name (a longer one is "Invalid arguments"). */
#define MCBIN_SASL_MECH_MAX 32u

/* incr/decr's expiration that means "do not create a missing key". */
#define MCBIN_NO_VIVIFY 0xffffffffu

struct mcbin_session {
    const struct mc_context *ctx;
    struct mc_stats *stats;
    enum mcbin_state state;
    /* VALUE: the request (its key pointer cleared: the item holds the key) and the item */
    struct mcbin_request pending;
    struct item *it;
    size_t got, want;
    /* SWALLOW */
    uint64_t swallow;
    /* after PROTO_BUSY: refuse the next value the budget cannot take */
    bool no_wait;
    /* authentication: the connection's state; sasl_started and sasl_done are the SASL exchange's (one
     * begun by SASL_AUTH, one that has succeeded: see bin_sasl_finish) */
    struct auth_conn auth;
    bool sasl_started, sasl_done;
    /* SASL: the request whose response is being gathered, whether it named PLAIN, the bytes */
    struct mcbin_request sasl_req;
    bool sasl_plain;
    char *sasl_buf;
    uint32_t sasl_got, sasl_want;
    /* a failed authentication's reply held back (PROTO_WAIT_AUTH_DELAY) */
    struct mcbin_request held;
    bool holding, wait_pending;
    /* timing (protocol/timing.h; meter.hist NULL: none): where the current request's time starts,
     * its slot (0: none) and, while in the same feed, its key */
    struct timing_meter meter;
    uint64_t t_mark;
    unsigned t_slot;
    const char *t_key;
    size_t t_nkey;
};

/* ---- replies ---- */

static void bin_header(struct outq *out, const struct mcbin_request *req, enum mcbin_status st,
                       uint8_t extlen, uint16_t keylen, uint32_t bodylen, uint64_t cas)
{
    unsigned char h[MCBIN_HEADER_LEN];

    mcbin_response_header(h, req->h.opcode, st, extlen, keylen, bodylen, req->h.opaque, cas);
    outq_add(out, h, sizeof(h));
}

/* A reply without extras or key: st's text as the body (none for MCBIN_ST_OK), unless req is quiet
 * and st is not answered. */
static void bin_status(const struct mcbin_request *req, enum mcbin_status st, uint64_t cas, struct outq *out)
{
    if (!mcbin_answers(req, st))
        return;
    const char *text = mcbin_status_text(st);
    size_t n = strlen(text);
    bin_header(out, req, st, 0, 0, (uint32_t)n, cas);
    outq_add(out, text, n);
}

/* A success carrying a body (VERSION). */
static void bin_body(const struct mcbin_request *req, const char *body, size_t n, struct outq *out)
{
    bin_header(out, req, MCBIN_ST_OK, 0, 0, (uint32_t)n, 0);
    outq_add(out, body, n);
}

static void put_be32(unsigned char *p, uint32_t v)
{
    p[0] = (unsigned char)(v >> 24);
    p[1] = (unsigned char)(v >> 16);
    p[2] = (unsigned char)(v >> 8);
    p[3] = (unsigned char)v;
}

/* ---- session life ---- */

static struct mcbin_session *mcbin_session_create(const struct mc_context *ctx, struct mc_stats *stats)
{
    struct mcbin_session *s = calloc(1, sizeof(*s));
    if (s == NULL)
        return NULL;
    s->ctx = ctx;
    s->stats = stats;
    auth_conn_init(&s->auth, ctx->auth);
    return s;
}

/* Releases a half-received item (never linked) and its share of the receiving budget. */
static void mcbin_session_destroy(struct mcbin_session **sp)
{
    if (sp == NULL || *sp == NULL)
        return;
    struct mcbin_session *s = *sp;
    if (s->it != NULL) {
        mc_recv_unreserve(s->ctx, s->want);
        cache_item_release(s->ctx->cache, &s->it);
    }
    free(s->sasl_buf);
    free(s);
    *sp = NULL;
}

static bool bin_out_full(const struct mcbin_session *s, const struct outq *out)
{
    return s->ctx->out_pause != 0 && outq_weight(out) >= s->ctx->out_pause;
}

/* ---- retrieval ---- */

/* GET, GETK, GAT, GATK, TOUCH (and the quiet ones): flags as extras, the key for the K ones, the
 * value except for TOUCH, the item's CAS. A miss is "Not found" (GETK/GATK: the key, no body text). */
static void bin_exec_get(struct mcbin_session *s, const struct mcbin_request *req, struct outq *out)
{
    struct cache *c = s->ctx->cache;
    struct mc_stats *st = s->stats;
    bool touch = req->cmd == MCBIN_CMD_GAT || req->cmd == MCBIN_CMD_GATK || req->cmd == MCBIN_CMD_TOUCH;
    bool with_key = req->cmd == MCBIN_CMD_GETK || req->cmd == MCBIN_CMD_GATK;
    uint16_t nkey = req->h.keylen;
    enum cache_miss_reason why = CACHE_MISS_NONE;
    struct item *it = touch ? cache_get_touch(c, req->key, nkey, mc_exptime(c, (int64_t)req->exptime), &why)
                            : cache_get(c, req->key, nkey, &why);

    mc_count(touch ? &st->cmd_touch : &st->cmd_get);
    if (touch)
        mc_count(it ? &st->touch_hits : &st->touch_misses);
    else
        mc_count(it ? &st->get_hits : &st->get_misses);
    mc_detail_record_get(s->ctx->shared, req->key, nkey, it != NULL);
    if (it == NULL) {
        mc_count_miss(st, why);
        if (!mcbin_answers(req, MCBIN_ST_KEY_ENOENT))
            return;
        if (with_key) {
            bin_header(out, req, MCBIN_ST_KEY_ENOENT, 0, nkey, nkey, 0);
            outq_add(out, req->key, nkey);
        } else {
            bin_status(req, MCBIN_ST_KEY_ENOENT, 0, out);
        }
        return;
    }
    uint32_t nbytes = req->cmd == MCBIN_CMD_TOUCH ? 0 : (uint32_t)item_nbytes(it);
    uint16_t keylen = with_key ? nkey : 0;
    unsigned char flags[4];
    put_be32(flags, item_client_flags(it));
    bin_header(out, req, MCBIN_ST_OK, 4, keylen, 4u + keylen + nbytes, item_cas(it));
    outq_add(out, flags, sizeof(flags));
    if (with_key)
        outq_add(out, req->key, nkey);
    if (nbytes > 0)
        outq_add_value_raw(out, it);
    else
        cache_item_release(c, &it);
}

/* ---- storage ---- */

/* SET, ADD, REPLACE, APPEND, PREPEND: allocates the item and enters VALUE, or refuses (E2BIG over -I,
 * ENOMEM) and swallows the value; a failed SET also drops the old value, as memcached does.
 * PROTO_BUSY when the receiving budget cannot take the value now (nothing done). */
static enum proto_status bin_exec_store(struct mcbin_session *s, const struct mcbin_request *req,
                                        struct outq *out)
{
    struct cache *c = s->ctx->cache;
    bool concat = req->cmd == MCBIN_CMD_APPEND || req->cmd == MCBIN_CMD_PREPEND;
    uint16_t nkey = req->h.keylen;
    bool fits = mc_item_fits(s->ctx, nkey, concat ? 0 : req->flags, req->vlen);
    bool reserved = fits && mc_recv_reserve(s->ctx, req->vlen);
    enum cache_status cst = CACHE_TOO_LARGE;
    struct item *it = NULL;

    if (fits && !reserved && !s->no_wait)
        return PROTO_BUSY;
    mc_detail_record_set(s->ctx->shared, req->key, nkey);
    if (fits) {
        cst = CACHE_NO_MEMORY;
        if (reserved) {
            it = cache_alloc(c, req->key, nkey, concat ? 0 : req->flags,
                             mc_exptime(c, concat ? 0 : (int64_t)req->exptime), req->vlen, &cst);
            if (it == NULL)
                mc_recv_unreserve(s->ctx, req->vlen);
        }
    }
    if (it == NULL) {
        bool too_large = cst == CACHE_TOO_LARGE;
        mc_count(too_large ? &s->stats->store_too_large : &s->stats->store_no_memory);
        bin_status(req, too_large ? MCBIN_ST_E2BIG : MCBIN_ST_ENOMEM, 0, out);
        if (req->cmd == MCBIN_CMD_SET)
            cache_delete(c, req->key, nkey, 0);
        s->state = MCBIN_SWALLOW;
        s->swallow = req->vlen;
        return PROTO_OK;
    }
    s->pending = *req;
    s->pending.key = NULL;
    if (!s->ctx->use_cas)
        s->pending.h.cas = 0; /* -C: memcached's items have no CAS to compare, the request's is dropped */
    s->it = it;
    s->got = 0;
    s->want = req->vlen;
    s->state = MCBIN_VALUE;
    return PROTO_OK;
}

static enum cache_store_mode bin_store_mode(const struct mcbin_request *req)
{
    switch (req->cmd) {
    case MCBIN_CMD_APPEND:
        return CACHE_APPEND;
    case MCBIN_CMD_PREPEND:
        return CACHE_PREPEND;
    default:
        break;
    }
    if (req->h.cas != 0)
        return CACHE_CAS; /* memcached: a CAS makes SET, ADD and REPLACE a cas */
    if (req->cmd == MCBIN_CMD_ADD)
        return CACHE_ADD;
    return req->cmd == MCBIN_CMD_REPLACE ? CACHE_REPLACE : CACHE_SET;
}

/* The value is complete: link the item under the request's mode and answer with memcached's
 * statuses (a refused ADD is "Data exists", a refused REPLACE "Not found", the rest "Not stored."). */
static void bin_finish_store(struct mcbin_session *s, struct outq *out)
{
    struct cache *c = s->ctx->cache;
    struct mc_stats *st = s->stats;
    const struct mcbin_request *req = &s->pending;
    enum cache_store_mode mode = bin_store_mode(req);
    enum mcbin_status bs;
    uint64_t cas = 0;

    s->state = MCBIN_HEAD;
    mc_recv_unreserve(s->ctx, s->want);
    mc_count(&st->cmd_set);
    enum cache_status cst = cache_meta_store(c, s->it, mode, req->h.cas, false, &cas);
    cache_item_release(c, &s->it);
    if (mode == CACHE_CAS) {
        if (cst == CACHE_OK)
            mc_count(&st->cas_hits);
        else if (cst == CACHE_EXISTS)
            mc_count(&st->cas_badval);
        else if (cst == CACHE_NOT_FOUND)
            mc_count(&st->cas_misses);
    }
    switch (cst) {
    case CACHE_OK:
        bs = MCBIN_ST_OK;
        break;
    case CACHE_EXISTS:
        bs = MCBIN_ST_KEY_EEXISTS;
        break;
    case CACHE_NOT_FOUND:
        bs = MCBIN_ST_KEY_ENOENT;
        break;
    default:
        bs = mode == CACHE_ADD       ? MCBIN_ST_KEY_EEXISTS
             : mode == CACHE_REPLACE ? MCBIN_ST_KEY_ENOENT
                                     : MCBIN_ST_NOT_STORED;
        break;
    }
    bin_status(req, bs, cst == CACHE_OK ? cas : 0, out);
}

/* ---- other commands ---- */

static void bin_exec_delete(struct mcbin_session *s, const struct mcbin_request *req, struct outq *out)
{
    enum cache_status cst = cache_delete(s->ctx->cache, req->key, req->h.keylen, req->h.cas);

    mc_detail_record_delete(s->ctx->shared, req->key, req->h.keylen);
    if (cst == CACHE_OK)
        mc_count(&s->stats->delete_hits);
    else if (cst == CACHE_NOT_FOUND)
        mc_count(&s->stats->delete_misses);
    bin_status(req,
               cst == CACHE_OK       ? MCBIN_ST_OK
               : cst == CACHE_EXISTS ? MCBIN_ST_KEY_EEXISTS
                                     : MCBIN_ST_KEY_ENOENT,
               0, out);
}

/* INCREMENT, DECREMENT: mc_arith's numbers; a miss creates the key holding `initial` (flags 0, the
 * request's exptime) unless the exptime is 0xffffffff; a CAS must match. The body is the new number
 * as 8 big-endian bytes, the CAS the new item's. */
static void bin_exec_arith(struct mcbin_session *s, const struct mcbin_request *req, struct outq *out)
{
    struct cache *c = s->ctx->cache;
    bool incr = req->cmd == MCBIN_CMD_INCR;
    bool vivify = req->exptime != MCBIN_NO_VIVIFY;
    struct mc_arith a = {.incr = incr, .delta = req->delta, .vivify = vivify, .initial = req->initial};
    struct cache_rmw op;
    struct cache_meta_arith_result r;

    mc_arith_op(&a, &op);
    struct cache_meta_arith_opts o = {.rmw = &op,
                                      .has_cas = req->h.cas != 0,
                                      .cas = req->h.cas,
                                      .vivify = vivify,
                                      .vivify_exptime = vivify ? mc_exptime(c, (int64_t)req->exptime) : 0};
    enum cache_status cst = cache_meta_arith(c, req->key, req->h.keylen, &o, &r);
    switch (cst) {
    case CACHE_OK: {
        if (!r.created)
            mc_count(incr ? &s->stats->incr_hits : &s->stats->decr_hits);
        if (!mcbin_answers(req, MCBIN_ST_OK))
            break;
        unsigned char v[8];
        put_be32(v, (uint32_t)(a.value >> 32));
        put_be32(v + 4, (uint32_t)a.value);
        bin_header(out, req, MCBIN_ST_OK, 0, 0, sizeof(v), r.cas);
        outq_add(out, v, sizeof(v));
        break;
    }
    case CACHE_NOT_FOUND:
        mc_count(incr ? &s->stats->incr_misses : &s->stats->decr_misses);
        bin_status(req, MCBIN_ST_KEY_ENOENT, 0, out);
        break;
    case CACHE_NON_NUMERIC:
        bin_status(req, MCBIN_ST_DELTA_BADVAL, 0, out);
        break;
    case CACHE_EXISTS:
        bin_status(req, MCBIN_ST_KEY_EEXISTS, 0, out);
        break;
    default:
        bin_status(req, MCBIN_ST_ENOMEM, 0, out);
        break;
    }
}

/* FLUSH: at once, or at the extras' exptime; -F answers "Auth failure." (uncounted, as memcached), and
 * so do --disable-admin-commands (cairn's: the text protocol refuses flush_all there too) and a user
 * whose role is not admin (the connection stays open, as after -F's refusal). */
static void bin_exec_flush(struct mcbin_session *s, const struct mcbin_request *req, struct outq *out)
{
    struct cache *c = s->ctx->cache;

    if (s->ctx->flush_disabled || s->ctx->admin_disabled || !auth_conn_admin(&s->auth)) {
        bin_status(req, MCBIN_ST_AUTH_ERROR, 0, out);
        return;
    }
    mc_flush(c, (int64_t)req->exptime);
    mc_count(&s->stats->cmd_flush);
    bin_status(req, MCBIN_ST_OK, 0, out);
}

/* ---- STAT ---- */

/* One STAT packet: key name, body value (both empty: the terminator). */
static void bin_stat_packet(const struct mcbin_request *req, const char *k, size_t nk, const char *v,
                            size_t nv, struct outq *out)
{
    unsigned char h[MCBIN_HEADER_LEN];

    mcbin_response_header(h, req->h.opcode, MCBIN_ST_OK, 0, (uint16_t)nk, (uint32_t)(nk + nv), req->h.opaque,
                          0);
    outq_add(out, h, sizeof(h));
    outq_add(out, k, nk);
    outq_add(out, v, nv);
}

/* The bytes queued in q, copied into one malloc'd buffer (NUL-terminated); NULL on no memory. q is
 * emptied. */
static char *bin_gather(struct outq *q, size_t *n)
{
    size_t total = outq_pending(q);
    char *buf = malloc(total + 1);
    size_t got = 0;

    if (buf == NULL || outq_failed(q)) {
        free(buf);
        return NULL;
    }
    while (got < total) {
        struct iovec iov[16];
        int k = outq_iov(q, iov, 16);
        size_t round = 0;
        for (int i = 0; i < k; i++) {
            memcpy(buf + got + round, iov[i].iov_base, iov[i].iov_len);
            round += iov[i].iov_len;
        }
        if (round == 0)
            break;
        outq_consume(q, round);
        got += round;
    }
    buf[got] = '\0';
    *n = got;
    return buf;
}

/* Re-frames the text producers' "STAT name value\r\n" lines in text[0..n) as STAT packets. */
static void bin_stat_reframe(const struct mcbin_request *req, const char *text, size_t n, struct outq *out)
{
    const char *p = text, *end = text + n;

    while (p < end) {
        const char *eol = memchr(p, '\n', (size_t)(end - p));
        const char *line_end = eol != NULL ? eol : end;
        const char *next = eol != NULL ? eol + 1 : end;
        if (line_end > p && line_end[-1] == '\r')
            line_end--;
        if (line_end - p > 5 && memcmp(p, "STAT ", 5) == 0) {
            const char *k = p + 5;
            const char *sp = memchr(k, ' ', (size_t)(line_end - k));
            const char *v = sp != NULL ? sp + 1 : line_end;
            bin_stat_packet(req, k, (size_t)((sp != NULL ? sp : line_end) - k), v, (size_t)(line_end - v),
                            out);
        }
        p = next;
    }
}

/* Runs the text protocol's `stats [group]` producer into a scratch queue; detail_dump instead takes
 * `stats detail dump`. Returns the text (caller frees) or NULL (no memory, or no such group: *known
 * tells which). */
static char *bin_stat_text(struct mcbin_session *s, const char *group, bool detail_dump, bool *known,
                           size_t *n)
{
    struct outq *q = outq_create(s->ctx->cache);
    char *argv[3] = {(char *)group, NULL, NULL};
    char *text = NULL;

    *known = true;
    if (q == NULL)
        return NULL;
    if (detail_dump) {
        char detail[] = "detail", dump[] = "dump";
        char *dargv[3] = {detail, dump, NULL};
        mc_admin_stats_detail(s->ctx, 2, dargv, q);
    } else if (s->ctx->stats != NULL) {
        *known = s->ctx->stats(s->ctx->server, group != NULL ? 1 : 0, argv, q) != MC_STATS_UNKNOWN;
    } else {
        *known = group == NULL;
    }
    if (*known)
        text = bin_gather(q, n);
    outq_destroy(&q);
    return text;
}

static bool bin_key_is(const struct mcbin_request *req, const char *word, bool prefix)
{
    size_t n = strlen(word);
    if (req->h.keylen < n || (!prefix && req->h.keylen != n))
        return false;
    return memcmp(req->key, word, n) == 0;
}

/*
 * STAT: memcached 1.6.18's choice of group by the key: none (general), "reset..." (then only the
 * terminator), "settings...", "detail dump|on|off..." (dump: one "detailed" packet holding the text
 * dump), and exactly "items", "slabs" or "sizes"; anything else "Not found". Each group ends with the
 * empty packet. Under --disable-admin-commands, and for a user whose role is not admin, reset and
 * detail are "Auth failure." (cairn's; the connection stays open).
 */
static void bin_exec_stat(struct mcbin_session *s, const struct mcbin_request *req, struct outq *out)
{
    const char *group = NULL;
    bool dump = false, known = true, emit = true;
    size_t n = 0;

    bool admin = !s->ctx->admin_disabled && auth_conn_admin(&s->auth);
    if (!admin && (bin_key_is(req, "reset", true) || bin_key_is(req, "detail", true))) {
        bin_status(req, MCBIN_ST_AUTH_ERROR, 0, out); /* as the text protocol refuses them */
        return;
    }
    if (req->h.keylen == 0) {
        group = NULL;
    } else if (bin_key_is(req, "reset", true)) {
        group = "reset";
        emit = false;
    } else if (bin_key_is(req, "settings", true)) {
        group = "settings";
    } else if (bin_key_is(req, "detail", true)) {
        const char *sub = req->key + 6;
        size_t nsub = req->h.keylen - 6u;
        if (nsub >= 5 && memcmp(sub, " dump", 5) == 0) {
            dump = true;
        } else if (nsub >= 3 && memcmp(sub, " on", 3) == 0) {
            mc_detail_set(s->ctx->shared, true);
            bin_stat_packet(req, "", 0, "", 0, out);
            return;
        } else if (nsub >= 4 && memcmp(sub, " off", 4) == 0) {
            mc_detail_set(s->ctx->shared, false);
            bin_stat_packet(req, "", 0, "", 0, out);
            return;
        } else {
            bin_status(req, MCBIN_ST_KEY_ENOENT, 0, out);
            return;
        }
    } else if (bin_key_is(req, "items", false) || bin_key_is(req, "slabs", false) ||
               bin_key_is(req, "sizes", false)) {
        group = req->key[1] == 't' ? "items" : req->key[1] == 'l' ? "slabs" : "sizes";
    } else {
        bin_status(req, MCBIN_ST_KEY_ENOENT, 0, out);
        return;
    }
    char *text = bin_stat_text(s, group, dump, &known, &n);
    if (!known) {
        bin_status(req, MCBIN_ST_KEY_ENOENT, 0, out);
        return;
    }
    if (text == NULL) {
        bin_status(req, MCBIN_ST_ENOMEM, 0, out);
        return;
    }
    if (dump)
        bin_stat_packet(req, "detailed", 8, text, n, out);
    else if (emit)
        bin_stat_reframe(req, text, n, out);
    free(text);
    bin_stat_packet(req, "", 0, "", 0, out);
}

/* ---- SASL ----
 *
 * memcached's SASL build with Cyrus SASL and the PLAIN mechanism, as it answers (checked over TCP):
 * - SASL_LIST_MECHS answers "PLAIN".
 * - SASL_AUTH names a mechanism (the key: compared without case up to a NUL, as Cyrus does, which
 *   also takes "PLAIN-PLUS") and may carry the client's first response (the value). An unknown
 *   mechanism fails. PLAIN with no response answers AUTH_CONTINUE with an empty body and the
 *   exchange waits for SASL_STEP; with one, it is checked at once.
 * - SASL_STEP carries the response of an exchange SASL_AUTH began (its key is not looked at); without
 *   one, it fails. An empty response fails and the exchange still waits; a failed response may be
 *   followed by another SASL_STEP.
 * - A response is `authzid NUL authcid NUL password` with no other NUL, authcid and password not
 *   empty, and authzid empty or equal to authcid (no user acts for another): it passes when
 *   auth_check accepts authcid and the password. Success answers "Authenticated".
 * - Every SASL command that gets that far first forgets an earlier authentication (memcached resets
 *   it before each one), and once an exchange has succeeded no further response passes on the
 *   connection (Cyrus refuses to step a finished exchange): an authenticated connection that tries
 *   again is left unauthenticated.
 * - Failures answer AUTH_ERROR "Auth failure." and count auth_cmds and auth_errors; successes count
 *   auth_cmds; AUTH_CONTINUE counts nothing. After AUTH_FAIL_FREE consecutive failures, each
 *   failure's reply is held back (PROTO_WAIT_AUTH_DELAY).
 * - A mechanism name over MCBIN_SASL_MECH_MAX bytes is "Invalid arguments" and the value is swallowed
 *   (memcached's check, which changes nothing else). A response over MCBIN_SASL_MAX bytes is "Too
 *   large." and swallowed, uncounted and changing nothing else: no valid PLAIN message is that long,
 *   so refusing it loses no login, and a session never holds more than MCBIN_SASL_MAX bytes for it
 *   (memcached reads any response up to its item size into an item and refuses a larger one with
 *   "Out of memory"; cairn's bound is lower and the status says why).
 */

/* Whether the mechanism name key[0..n) is PLAIN to Cyrus SASL. */
static bool bin_sasl_is_plain(const char *key, size_t n)
{
    const char *nul = memchr(key, '\0', n);
    size_t len = nul != NULL ? (size_t)(nul - key) : n;

    return (len == 5 || (len == 10 && strncasecmp(key + 5, "-PLUS", 5) == 0)) &&
           strncasecmp(key, "PLAIN", 5) == 0;
}

/* Checks a PLAIN response p[0..n); on success *role gets the user's role. */
static bool bin_sasl_plain_check(const struct mcbin_session *s, const char *p, size_t n, enum auth_role *role)
{
    const char *end = p + n;
    const char *nul1 = memchr(p, '\0', n);
    if (nul1 == NULL)
        return false;
    const char *user = nul1 + 1;
    const char *nul2 = memchr(user, '\0', (size_t)(end - user));
    if (nul2 == NULL)
        return false;
    const char *pass = nul2 + 1;
    size_t nzid = (size_t)(nul1 - p), nuser = (size_t)(nul2 - user), npass = (size_t)(end - pass);
    if (memchr(pass, '\0', npass) != NULL || nuser == 0 || npass == 0)
        return false;
    if (nzid != 0 && (nzid != nuser || memcmp(p, user, nuser) != 0))
        return false;
    return auth_check(s->ctx->auth, user, nuser, pass, npass, role);
}

/* A SASL failure: counted, and answered now, or held back (PROTO_WAIT) after too many in a row. */
static enum proto_status bin_sasl_fail(struct mcbin_session *s, const struct mcbin_request *req,
                                       struct outq *out)
{
    mc_count(&s->stats->auth_cmds);
    mc_count(&s->stats->auth_errors);
    if (!auth_conn_failed(&s->auth)) {
        bin_status(req, MCBIN_ST_AUTH_ERROR, 0, out);
        return PROTO_OK;
    }
    s->held = *req;
    s->held.key = NULL;
    s->holding = true;
    s->wait_pending = true;
    return PROTO_WAIT;
}

/* The response s->sasl_buf[0..sasl_want) of s->sasl_req is complete: checks it (see above). */
static enum proto_status bin_sasl_finish(struct mcbin_session *s, struct outq *out)
{
    const struct mcbin_request *req = &s->sasl_req;
    const char *resp = s->sasl_buf;
    size_t n = s->sasl_want;
    enum auth_role role = AUTH_ROLE_NONE;
    bool ok;

    s->state = MCBIN_HEAD;
    s->auth.role = AUTH_ROLE_NONE;
    if (req->cmd == MCBIN_CMD_SASL_AUTH) {
        s->sasl_started = s->sasl_plain;
        if (s->sasl_plain && n == 0) {
            bin_header(out, req, MCBIN_ST_AUTH_CONTINUE, 0, 0, 0, 0);
            return PROTO_OK;
        }
        ok = s->sasl_plain && !s->sasl_done && bin_sasl_plain_check(s, resp, n, &role);
        s->sasl_started = ok;
    } else {
        ok = s->sasl_started && !s->sasl_done && n > 0 && bin_sasl_plain_check(s, resp, n, &role);
    }
    free(s->sasl_buf);
    s->sasl_buf = NULL;
    if (!ok)
        return bin_sasl_fail(s, req, out);
    s->sasl_done = true;
    auth_conn_passed(&s->auth, role);
    mc_count(&s->stats->auth_cmds);
    bin_body(req, "Authenticated", 13, out);
    return PROTO_OK;
}

/* SASL_AUTH, SASL_STEP: refuses a long mechanism name or response (swallowing the value), or starts
 * gathering the response (checked at once when empty). */
static enum proto_status bin_exec_sasl(struct mcbin_session *s, const struct mcbin_request *req,
                                       struct outq *out)
{
    enum mcbin_status refuse = MCBIN_ST_OK;

    if (req->h.keylen > MCBIN_SASL_MECH_MAX)
        refuse = MCBIN_ST_EINVAL;
    else if (req->vlen > MCBIN_SASL_MAX)
        refuse = MCBIN_ST_E2BIG;
    else if (req->vlen > 0 && (s->sasl_buf = malloc(req->vlen)) == NULL)
        refuse = MCBIN_ST_ENOMEM;
    if (refuse != MCBIN_ST_OK) {
        bin_status(req, refuse, 0, out);
        s->state = MCBIN_SWALLOW;
        s->swallow = req->vlen;
        return PROTO_OK;
    }
    s->sasl_req = *req;
    s->sasl_req.key = NULL;
    s->sasl_plain = bin_sasl_is_plain(req->key, req->h.keylen);
    s->sasl_got = 0;
    s->sasl_want = req->vlen;
    s->state = MCBIN_SASL;
    return req->vlen == 0 ? bin_sasl_finish(s, out) : PROTO_OK;
}

/* SASL state: gathers response bytes from the input; checks the response once all are in. */
static enum proto_status bin_feed_sasl(struct mcbin_session *s, const char *p, size_t n, size_t *used,
                                       struct outq *out)
{
    size_t take = s->sasl_want - s->sasl_got < n ? s->sasl_want - s->sasl_got : n;

    memcpy(s->sasl_buf + s->sasl_got, p, take);
    s->sasl_got += (uint32_t)take;
    *used = take;
    return s->sasl_got == s->sasl_want ? bin_sasl_finish(s, out) : PROTO_OK;
}

/* ---- dispatch ---- */

/* Executes one parsed request whose head (header, extras, key) is still in the input. */
static enum proto_status bin_exec(struct mcbin_session *s, const struct mcbin_request *req, struct outq *out)
{
    switch (req->cmd) {
    case MCBIN_CMD_GET:
    case MCBIN_CMD_GETK:
    case MCBIN_CMD_GAT:
    case MCBIN_CMD_GATK:
    case MCBIN_CMD_TOUCH:
        bin_exec_get(s, req, out);
        break;
    case MCBIN_CMD_SET:
    case MCBIN_CMD_ADD:
    case MCBIN_CMD_REPLACE:
    case MCBIN_CMD_APPEND:
    case MCBIN_CMD_PREPEND:
        return bin_exec_store(s, req, out);
    case MCBIN_CMD_DELETE:
        bin_exec_delete(s, req, out);
        break;
    case MCBIN_CMD_INCR:
    case MCBIN_CMD_DECR:
        bin_exec_arith(s, req, out);
        break;
    case MCBIN_CMD_FLUSH:
        bin_exec_flush(s, req, out);
        break;
    case MCBIN_CMD_NOOP:
        bin_status(req, MCBIN_ST_OK, 0, out);
        break;
    case MCBIN_CMD_VERSION: {
        const char *v = s->ctx->version != NULL ? s->ctx->version : PACKAGE_VERSION;
        bin_body(req, v, strlen(v), out);
        break;
    }
    case MCBIN_CMD_QUIT:
        bin_status(req, MCBIN_ST_OK, 0, out);
        return PROTO_CLOSE;
    case MCBIN_CMD_STAT:
        bin_exec_stat(s, req, out);
        break;
    case MCBIN_CMD_SASL_LIST:
        s->auth.role = AUTH_ROLE_NONE; /* memcached forgets an authentication here too */
        bin_body(req, "PLAIN", 5, out);
        break;
    case MCBIN_CMD_SASL_AUTH:
    case MCBIN_CMD_SASL_STEP:
        return bin_exec_sasl(s, req, out);
    case MCBIN_CMD_NONE:
        bin_status(req, MCBIN_ST_UNKNOWN_COMMAND, 0, out);
        s->state = MCBIN_SWALLOW;
        s->swallow = req->swallow;
        break;
    }
    return PROTO_OK;
}

/* The request in progress has queued its reply (or was quietly answered): counts its time, hands a
 * slow one to the slow log (its opcode's name and, while in the same read, its key) and starts the
 * next one's time. */
static void bin_timing_done(struct mcbin_session *s)
{
    if (s->meter.hist == NULL || s->t_slot == 0)
        return;
    uint64_t us;
    if (timing_end(&s->meter, s->t_slot, &s->t_mark, &us)) {
        enum timing_proto proto;
        const char *argv[2] = {timing_slot_name(s->t_slot, &proto), s->t_key};
        size_t lens[2] = {strlen(argv[0]), s->t_nkey};
        slowlog_add(s->meter.slowlog, us, s->t_key != NULL && s->t_nkey > 0 ? 2 : 1, argv, lens, "binary",
                    s->meter.addr, NULL);
    }
    s->t_slot = 0;
}

/* HEAD state: parses and executes the request at buf[0..len); *used gets its head's length once it
 * ran (0 when it needs more bytes or was held back). */
static enum proto_status bin_feed_head(struct mcbin_session *s, const char *buf, size_t len, size_t *used,
                                       struct outq *out)
{
    struct mcbin_request req;
    enum proto_status st;

    *used = 0;
    enum mcbin_parse_status ps = s->auth.required ? mcbin_parse_sasl(buf, len, auth_conn_ok(&s->auth), &req)
                                                  : mcbin_parse(buf, len, &req);
    switch (ps) {
    case MCBIN_PARSE_NEED_MORE:
        return PROTO_OK;
    case MCBIN_PARSE_CLOSE:
        return PROTO_CLOSE;
    case MCBIN_PARSE_ERROR_CLOSE:
        bin_status(&req, req.error, 0, out);
        *used = req.head_len;
        return PROTO_CLOSE;
    case MCBIN_PARSE_OK:
        break;
    }
    s->t_slot = req.h.opcode < TIMING_RESP_BASE - TIMING_BINARY_BASE ? TIMING_BINARY_BASE + req.h.opcode : 0;
    s->t_key = req.key;
    s->t_nkey = req.h.keylen;
    st = bin_exec(s, &req, out);
    if (st == PROTO_BUSY || st == PROTO_PAUSE)
        return st;
    s->no_wait = false;
    *used = req.head_len;
    if (st == PROTO_WAIT || s->state == MCBIN_SASL)
        s->t_slot = 0; /* answered later, or gathering a SASL response: not timed */
    else if (s->state == MCBIN_HEAD)
        bin_timing_done(s);
    return st;
}

/* VALUE state: copies value bytes from the input; completes the store once all are in. */
static size_t bin_feed_value(struct mcbin_session *s, const char *p, size_t n, struct outq *out)
{
    size_t take = s->want - s->got < n ? s->want - s->got : n;

    memcpy(item_value(s->it) + s->got, p, take);
    s->got += take;
    if (s->got == s->want)
        bin_finish_store(s, out);
    return take;
}

/* Runs the state machine over buf[0..len): value bytes, skipped bytes and whole requests, in order,
 * until the input ends (in an unfinished head, which is left for the next feed) or a request stops
 * the session (PROTO_CLOSE, PROTO_PAUSE, PROTO_BUSY); *consumed gets the bytes used. */
static enum proto_status mcbin_session_feed(struct mcbin_session *s, const char *buf, size_t len,
                                            size_t *consumed, struct outq *out)
{
    size_t pos = 0;
    enum proto_status st = PROTO_OK;

    if (s->meter.hist != NULL)
        s->t_mark = timing_now(&s->meter);
    while (st == PROTO_OK) {
        if (s->state == MCBIN_VALUE) {
            if (s->got == s->want)
                bin_finish_store(s, out);
            else if (pos == len)
                break;
            else
                pos += bin_feed_value(s, buf + pos, len - pos, out);
            if (s->state != MCBIN_VALUE)
                bin_timing_done(s);
            continue;
        }
        if (s->state == MCBIN_SASL) {
            if (pos == len)
                break;
            size_t used;
            st = bin_feed_sasl(s, buf + pos, len - pos, &used, out);
            pos += used;
            continue;
        }
        if (s->state == MCBIN_SWALLOW) {
            uint64_t skip = s->swallow < len - pos ? s->swallow : len - pos;
            s->swallow -= skip;
            pos += (size_t)skip;
            if (s->swallow == 0) {
                s->state = MCBIN_HEAD;
                bin_timing_done(s);
            }
            if (pos == len)
                break;
            continue;
        }
        if (pos == len)
            break;
        if (bin_out_full(s, out)) {
            st = PROTO_PAUSE;
            break;
        }
        size_t used;
        st = bin_feed_head(s, buf + pos, len - pos, &used, out);
        if (used == 0 && st == PROTO_OK)
            break; /* an incomplete head: offered again with more bytes */
        pos += used;
    }
    s->t_key = NULL; /* the buffer is the connection's again */
    *consumed = pos;
    return st;
}

/* ---- proto_ops ---- */

static void ops_meter(void *sess, const struct timing_meter *m)
{
    struct mcbin_session *s = sess;
    s->meter = *m;
}

static void *ops_create(const void *ctx, void *stats)
{
    return mcbin_session_create(ctx, stats);
}

static void ops_destroy(void *sess)
{
    struct mcbin_session *s = sess;
    mcbin_session_destroy(&s);
}

static enum proto_status ops_feed(void *sess, const char *buf, size_t len, size_t *used, struct outq *out)
{
    return mcbin_session_feed(sess, buf, len, used, out);
}

/* The binary protocol asks the server to wait only to hold a failed authentication's reply back. */
static enum proto_wait ops_take_wait(void *sess)
{
    struct mcbin_session *s = sess;
    if (!s->wait_pending)
        return PROTO_WAIT_NONE;
    s->wait_pending = false;
    return PROTO_WAIT_AUTH_DELAY;
}

/* All of the pending value but its last byte (see the file comment). */
static bool ops_value_window(void *sess, char **dst, size_t *len)
{
    struct mcbin_session *s = sess;
    if (s->state != MCBIN_VALUE || s->want - s->got < 2)
        return false;
    *dst = item_value(s->it) + s->got;
    *len = s->want - s->got - 1;
    return true;
}

static void ops_value_filled(void *sess, size_t n)
{
    struct mcbin_session *s = sess;
    if (s->state != MCBIN_VALUE)
        return;
    s->got = s->got + n > s->want ? s->want : s->got + n;
}

static void ops_no_wait(void *sess)
{
    struct mcbin_session *s = sess;
    s->no_wait = true;
}

static bool ops_mid_value(const void *sess)
{
    const struct mcbin_session *s = sess;
    return s->state != MCBIN_HEAD;
}

/* What the server reaches on the session's behalf: a held-back authentication failure's time has come
 * (its reply, as it would have been sent), or a memory refusal, answered ENOMEM with opcode 0 (no
 * request is at hand; there is no snapshot command). */
static void ops_answer(void *sess, const struct proto_outcome *o, struct outq *out)
{
    struct mcbin_session *s = sess;
    struct mcbin_request req;

    if (o->ev == PROTO_EV_AUTH_DELAYED) {
        if (s->holding)
            bin_status(&s->held, MCBIN_ST_AUTH_ERROR, 0, out);
        s->holding = false;
        return;
    }
    memset(&req, 0, sizeof(req));
    bin_status(&req, MCBIN_ST_ENOMEM, 0, out);
}

const struct proto_ops mcbin_proto_ops = {
    .name = "memcache-binary",
    .line_max = MCBIN_HEAD_MAX,
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
