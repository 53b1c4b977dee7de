/*
 * resp_bits.c: Redis's bitmap commands over string values: SETBIT, GETBIT, BITCOUNT, BITPOS, BITOP,
 * BITFIELD and BITFIELD_RO, with Redis 7.0's argument order, errors and replies. The arithmetic on
 * bytes is in resp_bitops.c.
 *
 * Writes are read-modify-writes of one key (resp_rmw): the new value is worked out under the key's
 * lock and replaces the old item in one step, keeping its expiry. A write that leaves the value's
 * bytes as they were (SETBIT of a bit that already has that value, a BITFIELD whose SETs store what
 * was there) changes nothing, so a WATCH on the key does not fail, as in Redis. BITOP reads its
 * sources and stores its destination under the shard locks of all its keys (cache_tx_begin, as MSET),
 * so it is atomic as in Redis; its result has no expiry.
 *
 * Limits: Redis refuses a bit offset whose byte is at or past proto-max-bulk-len, which is cairn's
 * item size limit (-I; CONFIG GET proto-max-bulk-len answers it), with Redis's own error. A value
 * that fits that limit but not an item with its key gets the string-size error, as SETRANGE does.
 */
#include "config.h"

#include <stdlib.h>
#include <string.h>

#include "protocol/resp/resp_bitops.h"
#include "protocol/resp/resp_db.h"
#include "protocol/resp/resp_internal.h"
#include "protocol/resp/resp_reply.h"
#include "protocol/resp/resp_util.h"
#include "storage/cache.h"

#define E_BIT_OFFSET "ERR bit offset is not an integer or out of range"
#define E_BIT_VALUE  "ERR bit is not an integer or out of range"
#define E_BIT_ARG    "ERR The bit argument must be 1 or 0."
#define E_BF_TYPE                                                                                            \
    "ERR Invalid bitfield type. Use something like i16 u8. Note that u64 is not supported but i64 is."
#define E_BF_OVERFLOW "ERR Invalid OVERFLOW type specified"
#define E_BF_RO       "ERR BITFIELD_RO only supports the GET subcommand"
#define E_BITOP_NOT   "ERR BITOP NOT must be called with a single source key."

/* Stop codes of the plans (resp_rmw): the value would not change, it would be too large, no memory
 * for a working copy. */
enum { STOP_SAME = 1, STOP_TOOBIG, STOP_NOMEM };

/* A bit offset (Redis's getBitOffsetFromArgument): a non-negative integer, or with hash_bits > 0 also
 * "#N", meaning N * hash_bits; its byte must be below the size limit. */
static bool parse_offset(struct resp_session *s, const struct resp_args *a, size_t i, unsigned hash_bits,
                         uint64_t *offset, struct outq *out)
{
    const char *p = a->argv[i];
    size_t n = a->argl[i];
    bool hash = n > 0 && p[0] == '#' && hash_bits > 0;
    long long v;
    if (!resp_str2ll(p + hash, n - hash, &v)) {
        resp_error(s, out, E_BIT_OFFSET);
        return false;
    }
    if (hash) /* Redis multiplies in long long; an overflow wraps as it does there */
        v = (long long)((unsigned long long)v * hash_bits);
    if (v < 0 || (unsigned long long)(v >> 3) >= s->ctx->item_size_max) {
        resp_error(s, out, E_BIT_OFFSET);
        return false;
    }
    *offset = (uint64_t)v;
    return true;
}

/* Replies the error of a write that stopped or failed. */
static void write_error(struct resp_session *s, enum cache_status st, int stopped, struct outq *out)
{
    if (stopped == STOP_TOOBIG)
        resp_error(s, out, RESP_E_TOOBIG);
    else if (stopped == STOP_NOMEM)
        resp_error(s, out, RESP_E_OOM);
    else
        resp_status_error(s, st, out);
}

/* The length a value of old length n gets when byte `last` must exist. */
static size_t grown(size_t n, uint64_t last_byte)
{
    return last_byte + 1 > n ? (size_t)last_byte + 1 : n;
}

/* ---- SETBIT, GETBIT ---- */

struct setbit_op {
    uint64_t offset;
    int on, old;
    size_t limit;
};

static int setbit_plan(void *arg, const struct item *old, size_t *nbytes)
{
    struct setbit_op *op = arg;
    size_t n = old != NULL ? item_nbytes(old) : 0;
    size_t len = grown(n, op->offset >> 3);
    op->old = old != NULL ? bits_get((const unsigned char *)item_value_const(old), n, op->offset) : 0;
    if (old != NULL && len == n && op->old == op->on)
        return STOP_SAME;
    if (len > op->limit)
        return STOP_TOOBIG;
    *nbytes = len;
    return 0;
}

static void setbit_fill(void *arg, const struct item *old, char *dst)
{
    struct setbit_op *op = arg;
    size_t n = old != NULL ? item_nbytes(old) : 0;
    size_t len = grown(n, op->offset >> 3);
    if (n > 0)
        memcpy(dst, item_value_const(old), n);
    memset(dst + n, 0, len - n);
    bits_set((unsigned char *)dst, op->offset, op->on);
}

enum proto_status resp_cmd_setbit(struct resp_session *s, const struct resp_args *a, struct outq *out)
{
    struct setbit_op op = {.limit = s->ctx->item_size_max};
    long long on;
    int stopped = 0;
    if (!parse_offset(s, a, 2, 0, &op.offset, out))
        return PROTO_OK;
    if (!resp_str2ll(a->argv[3], a->argl[3], &on) || (on != 0 && on != 1)) {
        resp_error(s, out, E_BIT_VALUE);
        return PROTO_OK;
    }
    op.on = (int)on;
    enum cache_status st = resp_rmw(s, a->argv[1], a->argl[1], setbit_plan, setbit_fill, &op, &stopped);
    if (st == CACHE_OK || stopped == STOP_SAME)
        resp_add_int(out, op.old);
    else
        write_error(s, st, stopped, out);
    return PROTO_OK;
}

enum proto_status resp_cmd_getbit(struct resp_session *s, const struct resp_args *a, struct outq *out)
{
    uint64_t offset;
    if (!parse_offset(s, a, 2, 0, &offset, out))
        return PROTO_OK;
    struct item *it = resp_lookup(s, a->argv[1], a->argl[1], true);
    int bit = it != NULL ? bits_get((const unsigned char *)item_value_const(it), item_nbytes(it), offset) : 0;
    cache_item_release(s->ctx->cache, &it);
    resp_add_int(out, bit);
    return PROTO_OK;
}

/* ---- BITCOUNT, BITPOS ---- */

/* A start..end range over a value of n bytes, in bytes or (bit_unit) bits, with Redis's negative
 * indexes and clamping, as the bits first..last. False when it is empty. */
static bool range_bits(long long start, long long end, bool bit_unit, size_t n, uint64_t *first,
                       uint64_t *last)
{
    long long total = bit_unit ? (long long)n * 8 : (long long)n;
    if (start < 0)
        start += total;
    if (end < 0)
        end += total;
    if (start < 0)
        start = 0;
    if (end < 0)
        end = 0;
    if (end >= total)
        end = total - 1;
    if (start > end)
        return false;
    *first = bit_unit ? (uint64_t)start : (uint64_t)start * 8;
    *last = bit_unit ? (uint64_t)end : (uint64_t)end * 8 + 7;
    return true;
}

/* BYTE or BIT as argument i; false after replying a syntax error. */
static bool parse_unit(struct resp_session *s, const struct resp_args *a, size_t i, bool *bit_unit,
                       struct outq *out)
{
    if (resp_arg_is(a, i, "bit"))
        *bit_unit = true;
    else if (resp_arg_is(a, i, "byte"))
        *bit_unit = false;
    else {
        resp_error(s, out, RESP_E_SYNTAX);
        return false;
    }
    return true;
}

/* BITCOUNT's reply for a value of n bytes, or false after an error reply. Redis reads the key first: a
 * missing key counts 0 whatever the range says. */
static bool bitcount_of(struct resp_session *s, const struct resp_args *a, const unsigned char *p, size_t n,
                        long long *count, struct outq *out)
{
    long long start = 0, end = (long long)n - 1;
    bool bit_unit = false;
    uint64_t first, last;
    *count = 0;
    if (a->argc == 4 || a->argc == 5) {
        if (!resp_arg_ll(s, a, 2, &start, out) || !resp_arg_ll(s, a, 3, &end, out))
            return false;
        if (start < 0 && end < 0 && start > end)
            return true;
        if (a->argc == 5 && !parse_unit(s, a, 4, &bit_unit, out))
            return false;
    } else if (a->argc != 2) {
        resp_error(s, out, RESP_E_SYNTAX);
        return false;
    }
    if (range_bits(start, end, bit_unit, n, &first, &last))
        *count = (long long)bits_count(p, first, last);
    return true;
}

enum proto_status resp_cmd_bitcount(struct resp_session *s, const struct resp_args *a, struct outq *out)
{
    struct item *it = resp_lookup(s, a->argv[1], a->argl[1], true);
    long long count = 0;
    if (it == NULL ||
        bitcount_of(s, a, (const unsigned char *)item_value_const(it), item_nbytes(it), &count, out))
        resp_add_int(out, count);
    cache_item_release(s->ctx->cache, &it);
    return PROTO_OK;
}

/* BITPOS's reply for a value of n bytes, or false after an error reply. */
static bool bitpos_of(struct resp_session *s, const struct resp_args *a, int bit, const unsigned char *p,
                      size_t n, long long *pos, struct outq *out)
{
    long long start = 0, end = (long long)n - 1;
    bool bit_unit = false, end_given = false;
    uint64_t first, last;
    if (a->argc >= 4 && a->argc <= 6) {
        if (!resp_arg_ll(s, a, 3, &start, out))
            return false;
        if (a->argc == 6 && !parse_unit(s, a, 5, &bit_unit, out))
            return false;
        if (a->argc >= 5) {
            if (!resp_arg_ll(s, a, 4, &end, out))
                return false;
            end_given = true;
        }
    } else if (a->argc != 3) {
        resp_error(s, out, RESP_E_SYNTAX);
        return false;
    }
    *pos = -1;
    if (!range_bits(start, end, bit_unit, n, &first, &last))
        return true;
    *pos = bits_find(p, first, last, bit);
    /* looking for a clear bit without an end: the value reads as followed by clear bits */
    if (*pos < 0 && bit == 0 && !end_given)
        *pos = (long long)last + 1;
    return true;
}

enum proto_status resp_cmd_bitpos(struct resp_session *s, const struct resp_args *a, struct outq *out)
{
    long long bit, pos = -1;
    if (!resp_arg_ll(s, a, 2, &bit, out))
        return PROTO_OK;
    if (bit != 0 && bit != 1) {
        resp_error(s, out, E_BIT_ARG);
        return PROTO_OK;
    }
    struct item *it = resp_lookup(s, a->argv[1], a->argl[1], true);
    if (it == NULL)
        resp_add_int(out, bit ? -1 : 0);
    else if (bitpos_of(s, a, (int)bit, (const unsigned char *)item_value_const(it), item_nbytes(it), &pos,
                       out))
        resp_add_int(out, pos);
    cache_item_release(s->ctx->cache, &it);
    return PROTO_OK;
}

/* ---- BITOP ---- */

/* The sources of a BITOP, read under the locks of every key. */
struct bitop_srcs {
    struct item **items;
    const unsigned char **p;
    size_t *len;
    size_t n, maxlen;
};

/* Reads the n sources from argument 3 on; false on no memory. */
static bool bitop_read(struct resp_session *s, const struct resp_args *a, struct bitop_srcs *b)
{
    b->n = a->argc - 3;
    b->items = calloc(b->n, sizeof(*b->items));
    b->p = calloc(b->n, sizeof(*b->p));
    b->len = calloc(b->n, sizeof(*b->len));
    if (b->items == NULL || b->p == NULL || b->len == NULL)
        return false;
    for (size_t i = 0; i < b->n; i++) {
        struct item *it = resp_lookup(s, a->argv[3 + i], a->argl[3 + i], true);
        b->items[i] = it;
        if (it == NULL)
            continue;
        b->p[i] = (const unsigned char *)item_value_const(it);
        b->len[i] = item_nbytes(it);
        if (b->len[i] > b->maxlen)
            b->maxlen = b->len[i];
    }
    return true;
}

static void bitop_free(struct resp_session *s, struct bitop_srcs *b)
{
    for (size_t i = 0; b->items != NULL && i < b->n; i++)
        cache_item_release(s->ctx->cache, &b->items[i]);
    free(b->items);
    free(b->p);
    free(b->len);
}

/* Stores op over the sources under destination key argument 2 (deleting it when the result is
 * empty), and replies the result's length. */
static void bitop_store(struct resp_session *s, const struct resp_args *a, enum bits_op op,
                        const struct bitop_srcs *b, struct outq *out)
{
    enum cache_status st;
    if (b->maxlen == 0) {
        cache_delete(s->ctx->cache, a->argv[2], a->argl[2], 0);
        resp_add_int(out, 0);
        return;
    }
    struct item *it = cache_alloc(s->ctx->cache, a->argv[2], a->argl[2], 0, CACHE_EXP_NEVER, b->maxlen, &st);
    if (it == NULL) {
        resp_status_error(s, st, out);
        return;
    }
    bits_op(op, (unsigned char *)item_value(it), b->maxlen, b->p, b->len, b->n);
    st = resp_store(s, it, RESP_SET_ANY, CACHE_EXP_NEVER, false, NULL);
    cache_item_release(s->ctx->cache, &it); /* the table holds it now (or nobody) */
    if (st == CACHE_OK)
        resp_add_int(out, (long long)b->maxlen);
    else
        resp_status_error(s, st, out);
}

/* Runs the operation with every key's shard locked (unless EXEC holds them already). */
static void bitop_run(struct resp_session *s, const struct resp_args *a, enum bits_op op, struct outq *out)
{
    struct bitop_srcs b = {0};
    bool own_tx = !cache_tx_active(s->ctx->cache);
    uint64_t *hashes = NULL;
    size_t nkeys = a->argc - 2;

    if (own_tx) {
        hashes = malloc(nkeys * sizeof(*hashes));
        if (hashes == NULL) {
            resp_error(s, out, RESP_E_OOM);
            return;
        }
        for (size_t i = 0; i < nkeys; i++)
            hashes[i] = cache_key_hash(a->argv[2 + i], a->argl[2 + i]);
        cache_tx_begin(s->ctx->cache, hashes, nkeys);
    }
    if (bitop_read(s, a, &b))
        bitop_store(s, a, op, &b, out);
    else
        resp_error(s, out, RESP_E_OOM);
    bitop_free(s, &b);
    if (own_tx)
        cache_tx_end(s->ctx->cache);
    free(hashes);
}

enum proto_status resp_cmd_bitop(struct resp_session *s, const struct resp_args *a, struct outq *out)
{
    static const char *const names[] = {"and", "or", "xor", "not"};
    size_t op = 0;
    while (op < 4 && !resp_arg_is(a, 1, names[op]))
        op++;
    if (op == 4) {
        resp_error(s, out, RESP_E_SYNTAX);
        return PROTO_OK;
    }
    if (op == BITS_NOT && a->argc != 4) {
        resp_error(s, out, E_BITOP_NOT);
        return PROTO_OK;
    }
    bitop_run(s, a, (enum bits_op)op, out);
    return PROTO_OK;
}

/* ---- BITFIELD, BITFIELD_RO ---- */

enum bf_kind { BF_GET = 0, BF_SET, BF_INCRBY };

struct bf_op {
    enum bf_kind kind;
    enum bits_overflow ow;
    bool is_signed;
    unsigned bits;
    uint64_t offset;
    int64_t arg;
    /* the reply */
    bool null;
    int64_t value;
};

struct bitfield {
    struct bf_op *ops;
    size_t n;
    bool writes;
    uint64_t last_bit; /* the highest bit a SET or INCRBY touches */
    size_t limit;
    unsigned char *buf; /* the new value, worked out by the plan */
    size_t len;
};

/* A type argument: i1..i64 or u1..u63 (Redis compares up to an embedded NUL, as C strings). */
static bool parse_type(struct resp_session *s, const struct resp_args *a, size_t i, struct bf_op *op,
                       struct outq *out)
{
    const char *p = a->argv[i];
    size_t n = strnlen(p, a->argl[i]);
    long long bits;
    if (n == 0 || (p[0] != 'i' && p[0] != 'u') || !resp_str2ll(p + 1, n - 1, &bits) || bits < 1 ||
        bits > (p[0] == 'i' ? 64 : 63)) {
        resp_error(s, out, E_BF_TYPE);
        return false;
    }
    op->is_signed = p[0] == 'i';
    op->bits = (unsigned)bits;
    return true;
}

/* Parses the subcommands from argument 2 on into bf->ops; false after an error reply. */
static bool bf_parse(struct resp_session *s, const struct resp_args *a, struct bitfield *bf, struct outq *out)
{
    enum bits_overflow ow = BITS_WRAP;
    bf->ops = calloc(a->argc / 2 + 1, sizeof(*bf->ops));
    if (bf->ops == NULL) {
        resp_error(s, out, RESP_E_OOM);
        return false;
    }
    for (size_t j = 2; j < a->argc; j++) {
        size_t more = a->argc - j - 1;
        struct bf_op *op = &bf->ops[bf->n];
        if (resp_arg_is(a, j, "get") && more >= 2) {
            op->kind = BF_GET;
        } else if (resp_arg_is(a, j, "set") && more >= 3) {
            op->kind = BF_SET;
        } else if (resp_arg_is(a, j, "incrby") && more >= 3) {
            op->kind = BF_INCRBY;
        } else if (resp_arg_is(a, j, "overflow") && more >= 1) {
            j++;
            if (resp_arg_is(a, j, "wrap"))
                ow = BITS_WRAP;
            else if (resp_arg_is(a, j, "sat"))
                ow = BITS_SAT;
            else if (resp_arg_is(a, j, "fail"))
                ow = BITS_FAIL;
            else {
                resp_error(s, out, E_BF_OVERFLOW);
                return false;
            }
            continue;
        } else {
            resp_error(s, out, RESP_E_SYNTAX);
            return false;
        }
        if (!parse_type(s, a, j + 1, op, out) || !parse_offset(s, a, j + 2, op->bits, &op->offset, out))
            return false;
        if (op->kind != BF_GET) {
            long long v;
            bf->writes = true;
            if (op->offset + op->bits - 1 > bf->last_bit)
                bf->last_bit = op->offset + op->bits - 1;
            if (!resp_arg_ll(s, a, j + 3, &v, out))
                return false;
            op->arg = v;
        }
        op->ow = ow;
        bf->n++;
        j += op->kind == BF_GET ? 2 : 3;
    }
    return true;
}

/* Runs one SET or INCRBY on buf, recording its reply. */
static void bf_write(unsigned char *buf, size_t len, struct bf_op *op)
{
    uint64_t old = op->is_signed ? (uint64_t)bits_field_get_signed(buf, len, op->offset, op->bits)
                                 : bits_field_get(buf, len, op->offset, op->bits);
    uint64_t result = 0;
    int over = op->kind == BF_INCRBY
                   ? bits_field_add(op->is_signed, op->bits, old, op->arg, op->ow, &result)
                   : bits_field_add(op->is_signed, op->bits, (uint64_t)op->arg, 0, op->ow, &result);
    if (over != 0 && op->ow == BITS_FAIL) {
        op->null = true;
        return;
    }
    op->value = (int64_t)(op->kind == BF_INCRBY ? result : old);
    bits_field_set(buf, op->offset, op->bits, result);
}

/* Reads one GET from p[0..n). */
static void bf_read(const unsigned char *p, size_t n, struct bf_op *op)
{
    if (op->is_signed)
        op->value = bits_field_get_signed(p, n, op->offset, op->bits);
    else
        op->value = (int64_t)bits_field_get(p, n, op->offset, op->bits);
}

/* Works out the new value and every reply in a copy of the old value; stops when it is unchanged. */
static int bf_plan(void *arg, const struct item *old, size_t *nbytes)
{
    struct bitfield *bf = arg;
    size_t n = old != NULL ? item_nbytes(old) : 0;
    bf->len = grown(n, bf->last_bit >> 3);
    if (bf->len > bf->limit)
        return STOP_TOOBIG;
    free(bf->buf);
    bf->buf = malloc(bf->len);
    if (bf->buf == NULL)
        return STOP_NOMEM;
    if (n > 0)
        memcpy(bf->buf, item_value_const(old), n);
    memset(bf->buf + n, 0, bf->len - n);
    for (size_t i = 0; i < bf->n; i++) {
        if (bf->ops[i].kind == BF_GET)
            bf_read(bf->buf, bf->len, &bf->ops[i]);
        else
            bf_write(bf->buf, bf->len, &bf->ops[i]);
    }
    if (old != NULL && bf->len == n && memcmp(bf->buf, item_value_const(old), n) == 0)
        return STOP_SAME;
    *nbytes = bf->len;
    return 0;
}

static void bf_fill(void *arg, const struct item *old, char *dst)
{
    struct bitfield *bf = arg;
    (void)old;
    memcpy(dst, bf->buf, bf->len);
}

static void bf_reply(struct resp_session *s, const struct bitfield *bf, struct outq *out)
{
    resp_add_array(out, bf->n);
    for (size_t i = 0; i < bf->n; i++) {
        if (bf->ops[i].null)
            resp_add_null(out, s->proto);
        else
            resp_add_int(out, bf->ops[i].value);
    }
}

/* Only GETs: read the key (a missing one reads as zeros). */
static void bf_get_only(struct resp_session *s, const struct resp_args *a, struct bitfield *bf,
                        struct outq *out)
{
    struct item *it = resp_lookup(s, a->argv[1], a->argl[1], true);
    const unsigned char *p = it != NULL ? (const unsigned char *)item_value_const(it) : NULL;
    size_t n = it != NULL ? item_nbytes(it) : 0;
    for (size_t i = 0; i < bf->n; i++)
        bf_read(p, n, &bf->ops[i]);
    cache_item_release(s->ctx->cache, &it);
    bf_reply(s, bf, out);
}

static void bitfield_generic(struct resp_session *s, const struct resp_args *a, bool read_only,
                             struct outq *out)
{
    struct bitfield bf = {.limit = s->ctx->item_size_max};
    int stopped = 0;
    if (!bf_parse(s, a, &bf, out)) {
        free(bf.ops);
        return;
    }
    if (!bf.writes) {
        bf_get_only(s, a, &bf, out);
    } else if (read_only) {
        resp_error(s, out, E_BF_RO);
    } else {
        enum cache_status st = resp_rmw(s, a->argv[1], a->argl[1], bf_plan, bf_fill, &bf, &stopped);
        if (st == CACHE_OK || stopped == STOP_SAME)
            bf_reply(s, &bf, out);
        else
            write_error(s, st, stopped, out);
    }
    free(bf.buf);
    free(bf.ops);
}

enum proto_status resp_cmd_bitfield(struct resp_session *s, const struct resp_args *a, struct outq *out)
{
    bitfield_generic(s, a, false, out);
    return PROTO_OK;
}

enum proto_status resp_cmd_bitfield_ro(struct resp_session *s, const struct resp_args *a, struct outq *out)
{
    bitfield_generic(s, a, true, out);
    return PROTO_OK;
}
