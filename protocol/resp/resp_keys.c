/*
 * resp_keys.c: Redis 7.0's key commands over cairn's one keyspace: DEL UNLINK EXISTS TOUCH TYPE
 * RENAME RENAMENX, the EXPIRE family with NX XX GT LT, TTL PTTL EXPIRETIME PEXPIRETIME PERSIST, KEYS,
 * SCAN, RANDOMKEY, DBSIZE, FLUSHALL and FLUSHDB.
 *
 * Every key holds a string (memcached's items included), so TYPE answers "string" or "none" and
 * SCAN's TYPE filter keeps everything or nothing.
 *
 * An expiry already in the past deletes the key (Redis replies 1): storage takes the past expiry and
 * the key is dead from that moment, reclaimed like any expired item.
 *
 * SCAN walks storage's cursor (cache_scan: every key present for the whole scan is returned at least
 * once, while shards grow too), COUNT * 10 steps at most per call as Redis does.
 *
 * Threads: the session's.
 */
#include "config.h"

#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "protocol/resp/resp_cluster.h"
#include "protocol/resp/resp_db.h"
#include "protocol/resp/resp_internal.h"
#include "protocol/resp/resp_util.h"
#include "storage/cache.h"

enum proto_status resp_cmd_del(struct resp_session *s, const struct resp_args *a, struct outq *out)
{
    long long n = 0;
    for (size_t i = 1; i < a->argc; i++)
        n += cache_delete(s->ctx->cache, a->argv[i], a->argl[i], 0) == CACHE_OK;
    resp_add_int(out, n);
    return PROTO_OK;
}

enum proto_status resp_cmd_exists(struct resp_session *s, const struct resp_args *a, struct outq *out)
{
    long long n = 0;
    for (size_t i = 1; i < a->argc; i++)
        n += resp_exists(s, a->argv[i], a->argl[i]);
    resp_add_int(out, n);
    return PROTO_OK;
}

enum proto_status resp_cmd_touch(struct resp_session *s, const struct resp_args *a, struct outq *out)
{
    long long n = 0;
    for (size_t i = 1; i < a->argc; i++) {
        struct item *it = resp_lookup(s, a->argv[i], a->argl[i], false);
        n += it != NULL;
        cache_item_release(s->ctx->cache, &it);
    }
    resp_add_int(out, n);
    return PROTO_OK;
}

enum proto_status resp_cmd_type(struct resp_session *s, const struct resp_args *a, struct outq *out)
{
    resp_add_simple(out, resp_exists(s, a->argv[1], a->argl[1]) ? "string" : "none");
    return PROTO_OK;
}

/* RENAME and RENAMENX. */
static void rename_generic(struct resp_session *s, const struct resp_args *a, bool nx, struct outq *out)
{
    enum cache_status st = cache_rename(s->ctx->cache, a->argv[1], a->argl[1], a->argv[2], a->argl[2], nx, NULL);
    if (st == CACHE_NOT_FOUND)
        resp_error(s, out, RESP_E_NOKEY);
    else if (st == CACHE_NOT_STORED)
        resp_add_int(out, 0);
    else if (st != CACHE_OK)
        resp_status_error(s, st, out);
    else if (nx)
        resp_add_int(out, a->argl[1] == a->argl[2] && memcmp(a->argv[1], a->argv[2], a->argl[1]) == 0 ? 0 : 1);
    else
        resp_add_simple(out, "OK");
}

enum proto_status resp_cmd_rename(struct resp_session *s, const struct resp_args *a, struct outq *out)
{
    rename_generic(s, a, false, out);
    return PROTO_OK;
}

enum proto_status resp_cmd_renamenx(struct resp_session *s, const struct resp_args *a, struct outq *out)
{
    rename_generic(s, a, true, out);
    return PROTO_OK;
}

/* ---- EXPIRE family ---- */

/* Redis's parseExtendedExpireArgumentsOrReply: NX XX GT LT from argument 3 on. */
static bool expire_flags(struct resp_session *s, const struct resp_args *a, unsigned *cond,
                         struct outq *out)
{
    bool nx = false, xx = false, gt = false, lt = false;
    for (size_t j = 3; j < a->argc; j++) {
        if (resp_arg_is(a, j, "nx"))
            nx = true;
        else if (resp_arg_is(a, j, "xx"))
            xx = true;
        else if (resp_arg_is(a, j, "gt"))
            gt = true;
        else if (resp_arg_is(a, j, "lt"))
            lt = true;
        else {
            const char *nul = memchr(a->argv[j], '\0', a->argl[j]);
            resp_count_error(s, "ERR");
            resp_add_errorf(out, "ERR Unsupported option %.*s",
                            (int)(nul ? (size_t)(nul - a->argv[j]) : a->argl[j]), a->argv[j]);
            return false;
        }
    }
    if (nx && (xx || gt || lt)) {
        resp_error(s, out, "ERR NX and XX, GT or LT options at the same time are not compatible");
        return false;
    }
    if (gt && lt) {
        resp_error(s, out, "ERR GT and LT options at the same time are not compatible");
        return false;
    }
    *cond = (nx ? CACHE_EXPIRE_NX : 0) | (xx ? CACHE_EXPIRE_XX : 0) | (gt ? CACHE_EXPIRE_GT : 0) |
            (lt ? CACHE_EXPIRE_LT : 0);
    return true;
}

/* expireGenericCommand: basetime 0 for the *AT forms, else now; seconds or milliseconds. */
static void expire_generic(struct resp_session *s, const struct resp_args *a, bool relative, bool seconds,
                           const char *cmd, struct outq *out)
{
    unsigned cond;
    long long when;
    char line[96];

    if (!expire_flags(s, a, &cond, out) || !resp_arg_ll(s, a, 2, &when, out))
        return;
    snprintf(line, sizeof(line), "ERR invalid expire time in '%s' command", cmd);
    if (seconds) {
        if (when > LLONG_MAX / 1000 || when < LLONG_MIN / 1000) {
            resp_error(s, out, line);
            return;
        }
        when *= 1000;
    }
    long long base = relative ? resp_now_ms(s) : 0;
    if (when > LLONG_MAX - base) {
        resp_error(s, out, line);
        return;
    }
    when += base;
    enum cache_status st = when <= resp_now_ms(s)
                               ? cache_expire_past(s->ctx->cache, a->argv[1], a->argl[1], resp_exp_at(s, when), cond)
                               : cache_expire(s->ctx->cache, a->argv[1], a->argl[1], resp_exp_at(s, when), cond);
    resp_add_int(out, st == CACHE_OK);
}

enum proto_status resp_cmd_expire(struct resp_session *s, const struct resp_args *a, struct outq *out)
{
    expire_generic(s, a, true, true, "expire", out);
    return PROTO_OK;
}

enum proto_status resp_cmd_pexpire(struct resp_session *s, const struct resp_args *a, struct outq *out)
{
    expire_generic(s, a, true, false, "pexpire", out);
    return PROTO_OK;
}

enum proto_status resp_cmd_expireat(struct resp_session *s, const struct resp_args *a, struct outq *out)
{
    expire_generic(s, a, false, true, "expireat", out);
    return PROTO_OK;
}

enum proto_status resp_cmd_pexpireat(struct resp_session *s, const struct resp_args *a, struct outq *out)
{
    expire_generic(s, a, false, false, "pexpireat", out);
    return PROTO_OK;
}

/* ttlGenericCommand: -2 no key, -1 no expiry, else the time left (or the expiry itself when abs). */
static void ttl_generic(struct resp_session *s, const struct resp_args *a, bool ms, bool abs, struct outq *out)
{
    struct item *it = resp_peek(s, a->argv[1], a->argl[1]);
    if (it == NULL) {
        resp_add_int(out, -2);
        return;
    }
    cache_exp_t e = item_exp(it);
    cache_item_release(s->ctx->cache, &it);
    if (e == CACHE_EXP_NEVER) {
        resp_add_int(out, -1);
        return;
    }
    long long at = cache_exp_to_unix_ms(s->ctx->cache, e);
    long long ttl = abs ? at : at - resp_now_ms(s);
    if (ttl < 0)
        ttl = 0;
    resp_add_int(out, ms ? ttl : (ttl + 500) / 1000);
}

enum proto_status resp_cmd_ttl(struct resp_session *s, const struct resp_args *a, struct outq *out)
{
    ttl_generic(s, a, false, false, out);
    return PROTO_OK;
}

enum proto_status resp_cmd_pttl(struct resp_session *s, const struct resp_args *a, struct outq *out)
{
    ttl_generic(s, a, true, false, out);
    return PROTO_OK;
}

enum proto_status resp_cmd_expiretime(struct resp_session *s, const struct resp_args *a, struct outq *out)
{
    ttl_generic(s, a, false, true, out);
    return PROTO_OK;
}

enum proto_status resp_cmd_pexpiretime(struct resp_session *s, const struct resp_args *a, struct outq *out)
{
    ttl_generic(s, a, true, true, out);
    return PROTO_OK;
}

enum proto_status resp_cmd_persist(struct resp_session *s, const struct resp_args *a, struct outq *out)
{
    resp_add_int(out, cache_persist(s->ctx->cache, a->argv[1], a->argl[1]) == CACHE_OK);
    return PROTO_OK;
}

/* ---- KEYS, SCAN ---- */

/* Keys collected under a shard lock, to be replied once the walk is over. */
struct keylist {
    char **keys;
    size_t *lens;
    size_t n, cap;
    bool failed;
    const char *pat;
    size_t npat;
    bool match_all;
    bool none; /* SCAN TYPE other than string: nothing matches */
    /* CLUSTER COUNTKEYSINSLOT / GETKEYSINSLOT: only the keys of one slot, at most max of them
     * (collected, or only counted in n when count_only) */
    bool by_slot, count_only;
    unsigned slot;
    uint64_t max;
};

static void keylist_add(void *arg, const struct item *it)
{
    struct keylist *k = arg;
    const char *key = item_key(it);
    size_t nkey = item_nkey(it);

    if (k->failed || k->none || (!k->match_all && !resp_match(k->pat, k->npat, key, nkey, false)))
        return;
    if (k->by_slot && (k->n >= k->max || resp_cluster_keyslot(key, nkey) != k->slot))
        return;
    if (k->count_only) {
        k->n++;
        return;
    }
    if (k->n == k->cap) {
        size_t cap = k->cap ? k->cap * 2 : 16;
        char **keys = realloc(k->keys, cap * sizeof(*keys));
        size_t *lens = keys ? realloc(k->lens, cap * sizeof(*lens)) : NULL;
        if (keys != NULL)
            k->keys = keys;
        if (lens == NULL) {
            k->failed = true;
            return;
        }
        k->lens = lens;
        k->cap = cap;
    }
    char *copy = malloc(nkey ? nkey : 1);
    if (copy == NULL) {
        k->failed = true;
        return;
    }
    memcpy(copy, key, nkey);
    k->keys[k->n] = copy;
    k->lens[k->n++] = nkey;
}

static void keylist_free(struct keylist *k)
{
    for (size_t i = 0; !k->count_only && i < k->n; i++)
        free(k->keys[i]);
    free(k->keys);
    free(k->lens);
}

/* Replies the collected keys as an array (or the memory error). */
static void keylist_reply(struct resp_session *s, struct keylist *k, struct outq *out)
{
    if (k->failed) {
        resp_error(s, out, RESP_E_OOM);
        return;
    }
    resp_add_array(out, k->n);
    for (size_t i = 0; i < k->n; i++)
        resp_add_bulk(out, k->keys[i], k->lens[i]);
}

static void keylist_pattern(struct keylist *k, const char *pat, size_t npat)
{
    k->pat = pat;
    k->npat = npat;
    k->match_all = npat == 1 && pat[0] == '*';
}

/* See resp_internal.h. A scan of the whole keyspace, as KEYS. */
void resp_keys_in_slot(struct resp_session *s, unsigned slot, uint64_t max, bool count_only, struct outq *out)
{
    struct keylist k;
    uint64_t cursor = 0;

    memset(&k, 0, sizeof(k));
    k.match_all = true;
    k.by_slot = true;
    k.count_only = count_only;
    k.slot = slot;
    k.max = max;
    while (k.n < max && !k.failed) {
        cursor = cache_scan(s->ctx->cache, cursor, keylist_add, &k);
        if (cursor == 0)
            break;
    }
    if (count_only)
        resp_add_int(out, (long long)k.n);
    else
        keylist_reply(s, &k, out);
    keylist_free(&k);
}

enum proto_status resp_cmd_keys(struct resp_session *s, const struct resp_args *a, struct outq *out)
{
    struct keylist k;
    uint64_t cursor = 0;

    memset(&k, 0, sizeof(k));
    keylist_pattern(&k, a->argv[1], a->argl[1]);
    do
        cursor = cache_scan(s->ctx->cache, cursor, keylist_add, &k);
    while (cursor != 0 && !k.failed);
    keylist_reply(s, &k, out);
    keylist_free(&k);
    return PROTO_OK;
}

/* Redis's parseScanCursorOrReply: strtoul over the whole argument. */
static bool scan_cursor(const struct resp_args *a, size_t i, uint64_t *cursor)
{
    char buf[64];
    char *end;
    if (a->argl[i] >= sizeof(buf) || memchr(a->argv[i], '\0', a->argl[i]) != NULL)
        return false;
    memcpy(buf, a->argv[i], a->argl[i]);
    buf[a->argl[i]] = '\0';
    if (buf[0] == ' ' || (buf[0] >= '\t' && buf[0] <= '\r'))
        return false;
    errno = 0;
    unsigned long v = strtoul(buf, &end, 10);
    if (*end != '\0' || errno == ERANGE)
        return false;
    *cursor = v;
    return true;
}

/* SCAN's options; false after replying an error. */
static bool scan_opts(struct resp_session *s, const struct resp_args *a, struct keylist *k, long long *count,
                      struct outq *out)
{
    for (size_t j = 2; j < a->argc; j += 2) {
        bool more = j + 1 < a->argc;
        if (resp_arg_is(a, j, "count") && more) {
            if (!resp_arg_ll(s, a, j + 1, count, out))
                return false;
            if (*count < 1) {
                resp_error(s, out, RESP_E_SYNTAX);
                return false;
            }
        } else if (resp_arg_is(a, j, "match") && more) {
            keylist_pattern(k, a->argv[j + 1], a->argl[j + 1]);
        } else if (resp_arg_is(a, j, "type") && more) {
            k->none = !resp_arg_is(a, j + 1, "string");
        } else {
            resp_error(s, out, RESP_E_SYNTAX);
            return false;
        }
    }
    return true;
}

enum proto_status resp_cmd_scan(struct resp_session *s, const struct resp_args *a, struct outq *out)
{
    struct keylist k;
    uint64_t cursor;
    long long count = 10;
    char buf[24];

    memset(&k, 0, sizeof(k));
    k.match_all = true;
    if (!scan_cursor(a, 1, &cursor)) {
        resp_error(s, out, "ERR invalid cursor");
        return PROTO_OK;
    }
    if (!scan_opts(s, a, &k, &count, out))
        return PROTO_OK;
    long long steps = count * 10;
    do
        cursor = cache_scan(s->ctx->cache, cursor, keylist_add, &k);
    while (cursor != 0 && steps-- > 0 && k.n < (size_t)count && !k.failed);
    if (k.failed) {
        resp_error(s, out, RESP_E_OOM);
    } else {
        int n = snprintf(buf, sizeof(buf), "%llu", (unsigned long long)cursor);
        resp_add_array(out, 2);
        resp_add_bulk(out, buf, (size_t)n);
        keylist_reply(s, &k, out);
    }
    keylist_free(&k);
    return PROTO_OK;
}

enum proto_status resp_cmd_randomkey(struct resp_session *s, const struct resp_args *a, struct outq *out)
{
    (void)a;
    struct item *it = cache_random_item(s->ctx->cache);
    if (it == NULL) {
        resp_add_null(out, s->proto);
        return PROTO_OK;
    }
    resp_add_bulk(out, item_key(it), item_nkey(it));
    cache_item_release(s->ctx->cache, &it);
    return PROTO_OK;
}

enum proto_status resp_cmd_dbsize(struct resp_session *s, const struct resp_args *a, struct outq *out)
{
    (void)a;
    resp_add_int(out, (long long)cache_count(s->ctx->cache));
    return PROTO_OK;
}

enum proto_status resp_cmd_flushall(struct resp_session *s, const struct resp_args *a, struct outq *out)
{
    if (a->argc > 2 || (a->argc == 2 && !resp_arg_is(a, 1, "sync") && !resp_arg_is(a, 1, "async"))) {
        resp_error(s, out, RESP_E_SYNTAX);
        return PROTO_OK;
    }
    if (s->ctx->flush_disabled) {
        resp_error(s, out, "ERR FLUSHALL is disabled on this server (-F)");
        return PROTO_OK;
    }
    cache_flush(s->ctx->cache, cache_rel_time(s->ctx->cache));
    /* Redis empties the keyspace at once (DBSIZE is 0 after it): one pass unlinks what the flush
     * made dead (inside EXEC too, where every shard is held). */
    cache_purge_dead(s->ctx->cache);
    resp_add_simple(out, "OK");
    return PROTO_OK;
}

/* ---- COPY ---- */

/* COPY's destination-db: only 0 exists (Redis's getIntFromObjectOrReply, then selectDb's range). */
static bool copy_db_ok(struct resp_session *s, const struct resp_args *a, size_t i, struct outq *out)
{
    long long id;
    if (!resp_arg_ll(s, a, i, &id, out))
        return false;
    if (id < INT_MIN || id > INT_MAX) {
        resp_error(s, out, "ERR value is out of range, value must between -2147483648 and 2147483647");
        return false;
    }
    if (id != 0) {
        resp_error(s, out, RESP_E_DBRANGE);
        return false;
    }
    return true;
}

/* COPY source destination [DB destination-db] [REPLACE]: 1 when copied, 0 when the source is missing
 * or the destination exists (without REPLACE). */
enum proto_status resp_cmd_copy(struct resp_session *s, const struct resp_args *a, struct outq *out)
{
    bool replace = false;
    for (size_t j = 3; j < a->argc; j++) {
        if (resp_arg_is(a, j, "replace")) {
            replace = true;
        } else if (resp_arg_is(a, j, "db") && j + 1 < a->argc) {
            if (!copy_db_ok(s, a, ++j, out))
                return PROTO_OK;
        } else {
            resp_error(s, out, RESP_E_SYNTAX);
            return PROTO_OK;
        }
    }
    if (a->argl[1] == a->argl[2] && memcmp(a->argv[1], a->argv[2], a->argl[1]) == 0) {
        resp_error(s, out, "ERR source and destination objects are the same");
        return PROTO_OK;
    }
    enum cache_status st =
        cache_copy(s->ctx->cache, a->argv[1], a->argl[1], a->argv[2], a->argl[2], replace, NULL);
    if (st == CACHE_OK || st == CACHE_NOT_FOUND || st == CACHE_NOT_STORED)
        resp_add_int(out, st == CACHE_OK ? 1 : 0);
    else
        resp_status_error(s, st, out);
    return PROTO_OK;
}
