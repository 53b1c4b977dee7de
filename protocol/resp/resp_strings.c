/*
 * resp_strings.c: Redis 7.0's string commands (t_string.c semantics): GET SET and its options,
 * SETNX SETEX PSETEX GETSET GETDEL GETEX, MGET MSET MSETNX, APPEND STRLEN GETRANGE SETRANGE, and
 * the INCR family with Redis's number rules. Every reply and error is Redis's, byte for byte.
 *
 * Option parsing follows Redis's parseExtendedStringArgumentsOrReply: each option may repeat (the
 * last expiry wins) but options that exclude each other are a syntax error in any order; expiry
 * values go through getExpireMillisecondsOrReply (an integer, > 0, no overflow once made absolute).
 *
 * Threads: the session's.
 */
#include "config.h"

#include <limits.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "protocol/resp/resp_db.h"
#include "protocol/resp/resp_internal.h"
#include "protocol/resp/resp_util.h"
#include "storage/cache.h"

/* ---- SET / GETEX options ---- */

#define OPT_NX      0x001u
#define OPT_XX      0x002u
#define OPT_GET     0x004u
#define OPT_KEEPTTL 0x008u
#define OPT_PERSIST 0x010u
#define OPT_EX      0x020u
#define OPT_PX      0x040u
#define OPT_EXAT    0x080u
#define OPT_PXAT    0x100u
#define OPT_EXPIRY  (OPT_EX | OPT_PX | OPT_EXAT | OPT_PXAT)

enum opt_cmd { OPT_FOR_SET, OPT_FOR_GET };

struct set_opts {
    unsigned flags;
    size_t expire_arg; /* argument holding the expiry value, 0 = none */
};

/* Whether argument i is the option word w and the flags allow it (the rules of Redis 7.0). */
static unsigned opt_bit(const struct resp_args *a, size_t i, unsigned f, enum opt_cmd t, bool has_next)
{
    bool set = t == OPT_FOR_SET;
    if (resp_arg_is(a, i, "nx") && !(f & OPT_XX) && set)
        return OPT_NX;
    if (resp_arg_is(a, i, "xx") && !(f & OPT_NX) && set)
        return OPT_XX;
    if (resp_arg_is(a, i, "get") && set)
        return OPT_GET;
    if (resp_arg_is(a, i, "keepttl") && !(f & (OPT_PERSIST | OPT_EXPIRY)) && set)
        return OPT_KEEPTTL;
    if (resp_arg_is(a, i, "persist") && !set && !(f & (OPT_EXPIRY | OPT_KEEPTTL)))
        return OPT_PERSIST;
    if (!has_next || (f & (OPT_KEEPTTL | OPT_PERSIST)))
        return 0;
    if (resp_arg_is(a, i, "ex") && !(f & (OPT_EXAT | OPT_PX | OPT_PXAT)))
        return OPT_EX;
    if (resp_arg_is(a, i, "px") && !(f & (OPT_EX | OPT_EXAT | OPT_PXAT)))
        return OPT_PX;
    if (resp_arg_is(a, i, "exat") && !(f & (OPT_EX | OPT_PX | OPT_PXAT)))
        return OPT_EXAT;
    if (resp_arg_is(a, i, "pxat") && !(f & (OPT_EX | OPT_EXAT | OPT_PX)))
        return OPT_PXAT;
    return 0;
}

/* Parses options from argument first on; replies a syntax error and returns false on a bad one. */
static bool parse_opts(struct resp_session *s, const struct resp_args *a, size_t first, enum opt_cmd t,
                       struct set_opts *o, struct outq *out)
{
    o->flags = 0;
    o->expire_arg = 0;
    for (size_t j = first; j < a->argc; j++) {
        unsigned bit = opt_bit(a, j, o->flags, t, j + 1 < a->argc);
        if (bit == 0) {
            resp_error(s, out, RESP_E_SYNTAX);
            return false;
        }
        o->flags |= bit;
        if (bit & OPT_EXPIRY)
            o->expire_arg = ++j;
    }
    return true;
}

/* "ERR invalid expire time in '<cmd>' command". */
static void expire_time_error(struct resp_session *s, const char *cmd, struct outq *out)
{
    char line[96];
    snprintf(line, sizeof(line), "ERR invalid expire time in '%s' command", cmd);
    resp_error(s, out, line);
}

/* Redis's getExpireMillisecondsOrReply: the expiry argument as absolute Unix milliseconds. */
static bool expire_ms(struct resp_session *s, const struct resp_args *a, size_t i, bool seconds, bool relative,
                      const char *cmd, int64_t *ms, struct outq *out)
{
    long long v;
    if (!resp_arg_ll(s, a, i, &v, out))
        return false;
    if (v <= 0 || (seconds && v > LLONG_MAX / 1000)) {
        expire_time_error(s, cmd, out);
        return false;
    }
    if (seconds)
        v *= 1000;
    if (relative) {
        int64_t now = resp_now_ms(s);
        if (v > LLONG_MAX - now) {
            expire_time_error(s, cmd, out);
            return false;
        }
        v += now;
    }
    *ms = v;
    return true;
}

/* The expiry the options ask for, as absolute Unix ms (0 when none). */
static bool opts_expiry(struct resp_session *s, const struct resp_args *a, const struct set_opts *o,
                        const char *cmd, int64_t *ms, struct outq *out)
{
    *ms = 0;
    if (!(o->flags & OPT_EXPIRY))
        return true;
    return expire_ms(s, a, o->expire_arg, (o->flags & (OPT_EX | OPT_EXAT)) != 0,
                     (o->flags & (OPT_EX | OPT_PX)) != 0, cmd, ms, out);
}

/* ---- GET and friends ---- */

/* Replies a key's value, or null; counts the lookup. */
static void reply_value(struct resp_session *s, const struct resp_args *a, size_t i, struct outq *out)
{
    struct item *it = resp_lookup(s, a->argv[i], a->argl[i], true);
    if (it != NULL)
        resp_add_item(out, it);
    else
        resp_add_null(out, s->proto);
}

enum proto_status resp_cmd_get(struct resp_session *s, const struct resp_args *a, struct outq *out)
{
    reply_value(s, a, 1, out);
    return PROTO_OK;
}

enum proto_status resp_cmd_mget(struct resp_session *s, const struct resp_args *a, struct outq *out)
{
    resp_add_array(out, a->argc - 1);
    for (size_t i = 1; i < a->argc; i++)
        reply_value(s, a, i, out);
    return PROTO_OK;
}

enum proto_status resp_cmd_strlen(struct resp_session *s, const struct resp_args *a, struct outq *out)
{
    struct item *it = resp_lookup(s, a->argv[1], a->argl[1], true);
    resp_add_int(out, it != NULL ? (long long)item_nbytes(it) : 0);
    cache_item_release(s->ctx->cache, &it);
    return PROTO_OK;
}

enum proto_status resp_cmd_getrange(struct resp_session *s, const struct resp_args *a, struct outq *out)
{
    long long start, end;
    if (!resp_arg_ll(s, a, 2, &start, out) || !resp_arg_ll(s, a, 3, &end, out))
        return PROTO_OK;
    struct item *it = resp_lookup(s, a->argv[1], a->argl[1], true);
    if (it == NULL) {
        resp_add_bulk(out, "", 0);
        return PROTO_OK;
    }
    long long len = (long long)item_nbytes(it);
    if (start < 0 && end < 0 && start > end) {
        resp_add_bulk(out, "", 0);
    } else {
        if (start < 0)
            start += len;
        if (end < 0)
            end += len;
        if (start < 0)
            start = 0;
        if (end < 0)
            end = 0;
        if (end >= len)
            end = len - 1;
        if (start > end || len == 0)
            resp_add_bulk(out, "", 0);
        else
            resp_add_bulk(out, item_value_const(it) + start, (size_t)(end - start + 1));
    }
    cache_item_release(s->ctx->cache, &it);
    return PROTO_OK;
}

/* ---- SET ---- */

/* Stores argument vi under key argument ki with SET's options; the reply as SET's. */
static void set_generic(struct resp_session *s, const struct resp_args *a, size_t ki, size_t vi,
                        const struct set_opts *o, int64_t ms, bool reply_old, struct outq *out)
{
    enum cache_status st;
    struct item *old = NULL;
    struct item *it = resp_value_item(s, a, ki, vi, &st);
    if (it == NULL) {
        resp_status_error(s, st, out);
        return;
    }
    enum resp_set_mode mode = o->flags & OPT_NX ? RESP_SET_NX : o->flags & OPT_XX ? RESP_SET_XX : RESP_SET_ANY;
    cache_exp_t exp = ms != 0 ? resp_exp_at(s, ms) : CACHE_EXP_NEVER;
    st = resp_store(s, it, mode, exp, (o->flags & OPT_KEEPTTL) != 0, reply_old ? &old : NULL);
    cache_item_release(s->ctx->cache, &it);
    if (reply_old) {
        resp_count(old != NULL ? &s->stats->keyspace_hits : &s->stats->keyspace_misses);
        if (st != CACHE_OK && st != CACHE_NOT_STORED) {
            cache_item_release(s->ctx->cache, &old);
            resp_status_error(s, st, out);
        } else if (old != NULL) {
            resp_add_item(out, old);
        } else {
            resp_add_null(out, s->proto);
        }
        return;
    }
    if (st == CACHE_OK)
        resp_add_simple(out, "OK");
    else if (st == CACHE_NOT_STORED)
        resp_add_null(out, s->proto);
    else
        resp_status_error(s, st, out);
}

enum proto_status resp_cmd_set(struct resp_session *s, const struct resp_args *a, struct outq *out)
{
    struct set_opts o;
    int64_t ms;
    if (!parse_opts(s, a, 3, OPT_FOR_SET, &o, out) || !opts_expiry(s, a, &o, "set", &ms, out))
        return PROTO_OK;
    set_generic(s, a, 1, 2, &o, ms, (o.flags & OPT_GET) != 0, out);
    return PROTO_OK;
}

enum proto_status resp_cmd_getset(struct resp_session *s, const struct resp_args *a, struct outq *out)
{
    struct set_opts o = {0, 0};
    set_generic(s, a, 1, 2, &o, 0, true, out);
    return PROTO_OK;
}

enum proto_status resp_cmd_setnx(struct resp_session *s, const struct resp_args *a, struct outq *out)
{
    enum cache_status st;
    struct item *it = resp_value_item(s, a, 1, 2, &st);
    if (it == NULL) {
        resp_status_error(s, st, out);
        return PROTO_OK;
    }
    st = resp_store(s, it, RESP_SET_NX, CACHE_EXP_NEVER, false, NULL);
    cache_item_release(s->ctx->cache, &it);
    if (st == CACHE_OK || st == CACHE_NOT_STORED)
        resp_add_int(out, st == CACHE_OK);
    else
        resp_status_error(s, st, out);
    return PROTO_OK;
}

/* SETEX and PSETEX: key, a relative expiry, value. */
static void setex_generic(struct resp_session *s, const struct resp_args *a, bool seconds, const char *cmd,
                          struct outq *out)
{
    int64_t ms;
    struct set_opts o = {0, 0};
    if (!expire_ms(s, a, 2, seconds, true, cmd, &ms, out))
        return;
    set_generic(s, a, 1, 3, &o, ms, false, out);
}

enum proto_status resp_cmd_setex(struct resp_session *s, const struct resp_args *a, struct outq *out)
{
    setex_generic(s, a, true, "setex", out);
    return PROTO_OK;
}

enum proto_status resp_cmd_psetex(struct resp_session *s, const struct resp_args *a, struct outq *out)
{
    setex_generic(s, a, false, "psetex", out);
    return PROTO_OK;
}

/* ---- MSET ---- */

/* MSET and MSETNX are atomic, as in Redis: every item is built first (allocation may evict), then
 * the shards of all the keys are locked together (cache_tx_begin; inside EXEC they are held already)
 * while MSETNX checks and every pair is linked. */
struct mset {
    struct item **items;
    uint64_t *hashes;
    size_t n;
};

static void mset_free(struct resp_session *s, struct mset *m)
{
    for (size_t i = 0; i < m->n; i++)
        cache_item_release(s->ctx->cache, &m->items[i]);
    free(m->items);
    free(m->hashes);
}

/* Builds every pair's item; false after replying on a failure (nothing stored). */
static bool mset_build(struct resp_session *s, const struct resp_args *a, struct mset *m, struct outq *out)
{
    size_t pairs = (a->argc - 1) / 2;
    m->n = 0;
    m->items = calloc(pairs, sizeof(*m->items));
    m->hashes = calloc(pairs, sizeof(*m->hashes));
    if (m->items == NULL || m->hashes == NULL) {
        resp_error(s, out, RESP_E_OOM);
        return false;
    }
    for (size_t i = 1; i + 1 < a->argc; i += 2) {
        enum cache_status st;
        struct item *it = resp_value_item(s, a, i, i + 1, &st);
        if (it == NULL) {
            resp_status_error(s, st, out);
            return false;
        }
        m->hashes[m->n] = cache_key_hash(a->argv[i], a->argl[i]);
        m->items[m->n++] = it;
    }
    return true;
}

/* Links every built item (under the keys' shard locks); false after replying on a failure. */
static bool mset_link(struct resp_session *s, struct mset *m, struct outq *out)
{
    for (size_t i = 0; i < m->n; i++) {
        enum cache_status st = resp_store(s, m->items[i], RESP_SET_ANY, CACHE_EXP_NEVER, false, NULL);
        if (st != CACHE_OK) {
            resp_status_error(s, st, out);
            return false;
        }
    }
    return true;
}

/* Whether any key of the pairs exists (MSETNX). */
static bool mset_any_exists(struct resp_session *s, const struct resp_args *a)
{
    for (size_t i = 1; i < a->argc; i += 2)
        if (resp_exists(s, a->argv[i], a->argl[i]))
            return true;
    return false;
}

/* MSET (nx false) and MSETNX: replies. */
static void mset_generic(struct resp_session *s, const struct resp_args *a, bool nx, struct outq *out)
{
    struct mset m = {NULL, NULL, 0};
    bool own_tx = !cache_tx_active(s->ctx->cache);

    if (a->argc % 2 == 0) {
        resp_arity_error(s, NULL, resp_cmd_lookup(nx ? "msetnx" : "mset", nx ? 6 : 4), out);
        return;
    }
    if (mset_build(s, a, &m, out)) {
        if (own_tx)
            cache_tx_begin(s->ctx->cache, m.hashes, m.n);
        if (nx && mset_any_exists(s, a))
            resp_add_int(out, 0);
        else if (mset_link(s, &m, out))
            nx ? resp_add_int(out, 1) : resp_add_simple(out, "OK");
        if (own_tx)
            cache_tx_end(s->ctx->cache);
    }
    mset_free(s, &m);
}

enum proto_status resp_cmd_mset(struct resp_session *s, const struct resp_args *a, struct outq *out)
{
    mset_generic(s, a, false, out);
    return PROTO_OK;
}

enum proto_status resp_cmd_msetnx(struct resp_session *s, const struct resp_args *a, struct outq *out)
{
    mset_generic(s, a, true, out);
    return PROTO_OK;
}

/* ---- GETDEL, GETEX ---- */

enum proto_status resp_cmd_getdel(struct resp_session *s, const struct resp_args *a, struct outq *out)
{
    struct item *it = NULL;
    cache_delete_ex(s->ctx->cache, a->argv[1], a->argl[1], 0, &it);
    resp_count(it != NULL ? &s->stats->keyspace_hits : &s->stats->keyspace_misses);
    if (it != NULL)
        resp_add_item(out, it);
    else
        resp_add_null(out, s->proto);
    return PROTO_OK;
}

enum proto_status resp_cmd_getex(struct resp_session *s, const struct resp_args *a, struct outq *out)
{
    struct set_opts o;
    int64_t ms;
    if (!parse_opts(s, a, 2, OPT_FOR_GET, &o, out))
        return PROTO_OK;
    /* Redis looks the key up before it checks the expiry's value */
    struct item *it = resp_lookup(s, a->argv[1], a->argl[1], true);
    if (it == NULL) {
        resp_add_null(out, s->proto);
        return PROTO_OK;
    }
    if (!opts_expiry(s, a, &o, "getex", &ms, out)) {
        cache_item_release(s->ctx->cache, &it);
        return PROTO_OK;
    }
    resp_add_item(out, it);
    if ((o.flags & (OPT_EXAT | OPT_PXAT)) && ms <= resp_now_ms(s))
        cache_expire_past(s->ctx->cache, a->argv[1], a->argl[1], resp_exp_at(s, ms), CACHE_EXPIRE_NONE);
    else if (o.flags & OPT_EXPIRY)
        cache_expire(s->ctx->cache, a->argv[1], a->argl[1], resp_exp_at(s, ms), CACHE_EXPIRE_NONE);
    else if (o.flags & OPT_PERSIST)
        cache_persist(s->ctx->cache, a->argv[1], a->argl[1]);
    return PROTO_OK;
}

/* ---- read-modify-write: INCR family, INCRBYFLOAT, APPEND, SETRANGE ---- */

enum { STOP_NOTINT = 1, STOP_OVERFLOW, STOP_NOTFLOAT, STOP_NAN, STOP_TOOBIG, STOP_EMPTY };

struct incr_op {
    long long by, result;
    char text[24];
    size_t len;
};

static int incr_plan(void *arg, const struct item *old, size_t *nbytes)
{
    struct incr_op *op = arg;
    long long v = 0;
    if (old != NULL && !resp_str2ll(item_value_const(old), item_nbytes(old), &v))
        return STOP_NOTINT;
    if ((op->by < 0 && v < 0 && op->by < LLONG_MIN - v) || (op->by > 0 && v > 0 && op->by > LLONG_MAX - v))
        return STOP_OVERFLOW;
    op->result = v + op->by;
    op->len = resp_ll2str(op->text, sizeof(op->text), op->result);
    *nbytes = op->len;
    return 0;
}

static void copy_fill(void *arg, const struct item *old, char *dst)
{
    struct incr_op *op = arg;
    (void)old;
    memcpy(dst, op->text, op->len);
}

/* Replies the error behind a read-modify-write that stopped or failed. */
static void rmw_error(struct resp_session *s, enum cache_status st, int stopped, struct outq *out)
{
    switch (stopped) {
    case STOP_NOTINT:
        resp_error(s, out, RESP_E_NOTINT);
        return;
    case STOP_OVERFLOW:
        resp_error(s, out, RESP_E_OVERFLOW);
        return;
    case STOP_NOTFLOAT:
        resp_error(s, out, RESP_E_NOTFLOAT);
        return;
    case STOP_NAN:
        resp_error(s, out, "ERR increment would produce NaN or Infinity");
        return;
    case STOP_TOOBIG:
        resp_error(s, out, RESP_E_TOOBIG);
        return;
    default:
        resp_status_error(s, st, out);
    }
}

static void incr_generic(struct resp_session *s, const struct resp_args *a, long long by, struct outq *out)
{
    struct incr_op op = {.by = by};
    int stopped = 0;
    enum cache_status st = resp_rmw(s, a->argv[1], a->argl[1], incr_plan, copy_fill, &op, &stopped);
    if (st == CACHE_OK)
        resp_add_int(out, op.result);
    else
        rmw_error(s, st, stopped, out);
}

enum proto_status resp_cmd_incr(struct resp_session *s, const struct resp_args *a, struct outq *out)
{
    incr_generic(s, a, 1, out);
    return PROTO_OK;
}

enum proto_status resp_cmd_decr(struct resp_session *s, const struct resp_args *a, struct outq *out)
{
    incr_generic(s, a, -1, out);
    return PROTO_OK;
}

enum proto_status resp_cmd_incrby(struct resp_session *s, const struct resp_args *a, struct outq *out)
{
    long long by;
    if (resp_arg_ll(s, a, 2, &by, out))
        incr_generic(s, a, by, out);
    return PROTO_OK;
}

enum proto_status resp_cmd_decrby(struct resp_session *s, const struct resp_args *a, struct outq *out)
{
    long long by;
    if (!resp_arg_ll(s, a, 2, &by, out))
        return PROTO_OK;
    if (by == LLONG_MIN) {
        resp_error(s, out, "ERR decrement would overflow");
        return PROTO_OK;
    }
    incr_generic(s, a, -by, out);
    return PROTO_OK;
}

struct float_op {
    long double by;
    bool by_ok;
    char text[5 * 1024 + 64];
    size_t len;
};

static int float_plan(void *arg, const struct item *old, size_t *nbytes)
{
    struct float_op *op = arg;
    long double v = 0;
    if (old != NULL && !resp_str2ld(item_value_const(old), item_nbytes(old), &v))
        return STOP_NOTFLOAT;
    if (!op->by_ok)
        return STOP_NOTFLOAT;
    v += op->by;
    if (isnan(v) || isinf(v))
        return STOP_NAN;
    op->len = resp_ld2str(op->text, sizeof(op->text), v);
    *nbytes = op->len;
    return 0;
}

static void float_fill(void *arg, const struct item *old, char *dst)
{
    struct float_op *op = arg;
    (void)old;
    memcpy(dst, op->text, op->len);
}

enum proto_status resp_cmd_incrbyfloat(struct resp_session *s, const struct resp_args *a, struct outq *out)
{
    struct float_op op;
    int stopped = 0;
    op.by_ok = a->argv[2] != NULL && resp_str2ld(a->argv[2], a->argl[2], &op.by);
    enum cache_status st = resp_rmw(s, a->argv[1], a->argl[1], float_plan, float_fill, &op, &stopped);
    if (st == CACHE_OK)
        resp_add_bulk(out, op.text, op.len);
    else
        rmw_error(s, st, stopped, out);
    return PROTO_OK;
}

/* APPEND and SETRANGE: the old value with bytes placed at an offset (APPEND: at its end). */
struct splice_op {
    const char *p;
    size_t n;
    long long offset; /* -1: append */
    size_t limit;     /* largest value */
    size_t result;
};

static int splice_plan(void *arg, const struct item *old, size_t *nbytes)
{
    struct splice_op *op = arg;
    size_t olen = old != NULL ? item_nbytes(old) : 0;
    size_t at = op->offset < 0 ? olen : (size_t)op->offset;
    if (op->n == 0 && op->offset >= 0) { /* SETRANGE with nothing to write: the length, no change */
        op->result = olen;
        return STOP_EMPTY;
    }
    if (at > op->limit || op->n > op->limit - at)
        return STOP_TOOBIG;
    op->result = at + op->n > olen ? at + op->n : olen;
    *nbytes = op->result;
    return 0;
}

static void splice_fill(void *arg, const struct item *old, char *dst)
{
    struct splice_op *op = arg;
    size_t olen = old != NULL ? item_nbytes(old) : 0;
    size_t at = op->offset < 0 ? olen : (size_t)op->offset;
    if (olen > 0)
        memcpy(dst, item_value_const(old), olen);
    if (at > olen)
        memset(dst + olen, 0, at - olen);
    memcpy(dst + at, op->p, op->n);
}

static void splice(struct resp_session *s, const struct resp_args *a, size_t vi, long long offset, struct outq *out)
{
    struct splice_op op = {a->argv[vi], a->argl[vi], offset, s->ctx->item_size_max, 0};
    int stopped = 0;
    if (op.p == NULL) {
        resp_error(s, out, RESP_E_TOOBIG);
        return;
    }
    enum cache_status st = resp_rmw(s, a->argv[1], a->argl[1], splice_plan, splice_fill, &op, &stopped);
    if (st == CACHE_OK || stopped == STOP_EMPTY)
        resp_add_int(out, (long long)op.result);
    else
        rmw_error(s, st, stopped, out);
}

enum proto_status resp_cmd_append(struct resp_session *s, const struct resp_args *a, struct outq *out)
{
    splice(s, a, 2, -1, out);
    return PROTO_OK;
}

enum proto_status resp_cmd_setrange(struct resp_session *s, const struct resp_args *a, struct outq *out)
{
    long long offset;
    if (!resp_arg_ll(s, a, 2, &offset, out))
        return PROTO_OK;
    if (offset < 0) {
        resp_error(s, out, "ERR offset is out of range");
        return PROTO_OK;
    }
    splice(s, a, 3, offset, out);
    return PROTO_OK;
}
