/*
 * resp_dump.c: DUMP and RESTORE for string values, byte for byte as Redis 7.0 (the serialized form
 * is resp_rdb.c's), so that keys move between cairn and Redis with the tools that use them: DUMP on
 * one, RESTORE on the other. A payload of another Redis type (a list, a hash ...) cannot be held
 * here and is refused with Redis's "Bad data format".
 *
 * RESTORE stores like SET (the key's shard lock, one step): without REPLACE it stores only if the key
 * is still absent (BUSYKEY otherwise, as when it was there before); with REPLACE it replaces. A TTL
 * already past stores nothing and replies OK, deleting the key under REPLACE, as Redis does. IDLETIME
 * sets the item's access time back (OBJECT IDLETIME reads it), though not past the last FLUSHALL,
 * which judges items by that time (cache_item_set_idle); FREQ is checked and, under the only policy
 * cairn has (allkeys-lru), ignored, as Redis ignores it under an LRU policy.
 */
#include "config.h"

#include <stdlib.h>
#include <string.h>

#include "protocol/resp/resp_db.h"
#include "protocol/resp/resp_internal.h"
#include "protocol/resp/resp_rdb.h"
#include "protocol/resp/resp_reply.h"
#include "protocol/resp/resp_util.h"
#include "storage/cache.h"

enum proto_status resp_cmd_dump(struct resp_session *s, const struct resp_args *a, struct outq *out)
{
    struct item *it = resp_lookup(s, a->argv[1], a->argl[1], true);
    if (it == NULL) {
        resp_add_null(out, s->proto);
        return PROTO_OK;
    }
    size_t n = item_nbytes(it);
    unsigned char *buf = malloc(rdb_dump_bound(n)), *scratch = n > 20 ? malloc(n) : NULL;
    if (buf == NULL || (n > 20 && scratch == NULL)) {
        resp_error(s, out, RESP_E_OOM);
    } else {
        size_t len = rdb_dump_string((const unsigned char *)item_value_const(it), n, buf, scratch);
        resp_add_bulk(out, buf, len);
    }
    free(buf);
    free(scratch);
    cache_item_release(s->ctx->cache, &it);
    return PROTO_OK;
}

struct restore_opts {
    bool replace, absttl;
    long long idle, freq; /* -1: not given */
};

/* RESTORE's options from argument 4 on, as Redis reads them (IDLETIME and FREQ exclude each other:
 * the second is a syntax error); false after an error reply. */
static bool restore_opts(struct resp_session *s, const struct resp_args *a, struct restore_opts *o,
                         struct outq *out)
{
    *o = (struct restore_opts){false, false, -1, -1};
    for (size_t j = 4; j < a->argc; j++) {
        bool more = j + 1 < a->argc;
        if (resp_arg_is(a, j, "replace")) {
            o->replace = true;
        } else if (resp_arg_is(a, j, "absttl")) {
            o->absttl = true;
        } else if (resp_arg_is(a, j, "idletime") && more && o->freq == -1) {
            if (!resp_arg_ll(s, a, ++j, &o->idle, out))
                return false;
            if (o->idle < 0) {
                resp_error(s, out, "ERR Invalid IDLETIME value, must be >= 0");
                return false;
            }
        } else if (resp_arg_is(a, j, "freq") && more && o->idle == -1) {
            if (!resp_arg_ll(s, a, ++j, &o->freq, out))
                return false;
            if (o->freq < 0 || o->freq > 255) {
                resp_error(s, out, "ERR Invalid FREQ value, must be >= 0 and <= 255");
                return false;
            }
        } else {
            resp_error(s, out, RESP_E_SYNTAX);
            return false;
        }
    }
    return true;
}

/* The payload's value, or false after RESTORE's error for it. */
static bool restore_value(struct resp_session *s, const struct resp_args *a, unsigned char **v, size_t *n,
                          struct outq *out)
{
    const unsigned char *p = (const unsigned char *)a->argv[3];
    if (rdb_verify(p, a->argl[3]) != RDB_OK) {
        resp_error(s, out, "ERR DUMP payload version or checksum are wrong");
        return false;
    }
    switch (rdb_load_string(p, a->argl[3], s->ctx->item_size_max, v, n)) {
    case RDB_OK:
        return true;
    case RDB_TOO_BIG:
        resp_error(s, out, RESP_E_TOOBIG);
        return false;
    case RDB_NO_MEMORY:
        resp_error(s, out, RESP_E_OOM);
        return false;
    default:
        resp_error(s, out, "ERR Bad data format");
        return false;
    }
}

/* Links the value under the key with the expiry (CACHE_EXP_NEVER for none); replies. */
static void restore_store(struct resp_session *s, const struct resp_args *a, const struct restore_opts *o,
                          const unsigned char *v, size_t n, cache_exp_t exp, struct outq *out)
{
    enum cache_status st;
    struct item *it = resp_item_new(s, a->argv[1], a->argl[1], (const char *)v, n, exp, &st);
    if (it == NULL) {
        resp_status_error(s, st, out);
        return;
    }
    st = resp_store(s, it, o->replace ? RESP_SET_ANY : RESP_SET_NX, exp, false, NULL);
    if (st == CACHE_OK && o->idle > 0)
        cache_item_set_idle(s->ctx->cache, it, o->idle < UINT32_MAX ? (uint32_t)o->idle : UINT32_MAX);
    cache_item_release(s->ctx->cache, &it);
    if (st == CACHE_OK)
        resp_add_simple(out, "OK");
    else if (st == CACHE_NOT_STORED) /* created meanwhile by another client */
        resp_error(s, out, "BUSYKEY Target key name already exists.");
    else
        resp_status_error(s, st, out);
}

enum proto_status resp_cmd_restore(struct resp_session *s, const struct resp_args *a, struct outq *out)
{
    struct restore_opts o;
    long long ttl;
    unsigned char *v = NULL;
    size_t n = 0;

    if (!restore_opts(s, a, &o, out))
        return PROTO_OK;
    if (!o.replace && resp_exists(s, a->argv[1], a->argl[1])) {
        resp_error(s, out, "BUSYKEY Target key name already exists.");
        return PROTO_OK;
    }
    if (!resp_arg_ll(s, a, 2, &ttl, out))
        return PROTO_OK;
    if (ttl < 0) {
        resp_error(s, out, "ERR Invalid TTL value, must be >= 0");
        return PROTO_OK;
    }
    if (!restore_value(s, a, &v, &n, out))
        return PROTO_OK;
    int64_t now = resp_now_ms(s);
    if (ttl != 0 && !o.absttl)
        ttl = ttl > INT64_MAX - now ? INT64_MAX : ttl + now;
    if (ttl != 0 && ttl <= now) { /* already expired: nothing is stored */
        if (o.replace)
            cache_delete(s->ctx->cache, a->argv[1], a->argl[1], 0);
        resp_add_simple(out, "OK");
    } else {
        restore_store(s, a, &o, v, n, ttl != 0 ? resp_exp_at(s, ttl) : CACHE_EXP_NEVER, out);
    }
    free(v);
    return PROTO_OK;
}
