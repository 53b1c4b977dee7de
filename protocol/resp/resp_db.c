/*
 * resp_db.c: the RESP commands' one seam to the storage engine: lookups that count keyspace hits,
 * items built from arguments, stores with Redis's SET semantics, read-modify-write and expiries.
 * Every call into storage/ from protocol/resp/ goes through here, so the engine's API and Redis's
 * rules meet in one file.
 *
 * Expiries: Redis's are absolute Unix milliseconds; storage takes a cache_exp_t on its own clock
 * (precise: the item dies at that millisecond).
 *
 * Threads: called by the session's thread; storage does the locking.
 */
#include "config.h"

#include <stdlib.h>
#include <string.h>
#include <sys/time.h>

#include "protocol/resp/resp_db.h"
#include "protocol/resp/resp_internal.h"
#include "storage/cache.h"
#include "storage/meta.h"

/* See resp_db.h. */
int64_t resp_now_ms(const struct resp_session *s)
{
    return cache_now_unix_ms(s->ctx->cache);
}

/* See resp_db.h. */
cache_exp_t resp_exp_at(const struct resp_session *s, int64_t unix_ms)
{
    return cache_exp_from_unix_ms(s->ctx->cache, unix_ms);
}

/* See resp_db.h. */
struct item *resp_lookup(struct resp_session *s, const char *key, size_t nkey, bool count)
{
    struct item *it = cache_get(s->ctx->cache, key, nkey, NULL);
    if (count)
        resp_count(it != NULL ? &s->stats->keyspace_hits : &s->stats->keyspace_misses);
    return it;
}

/* See resp_db.h. */
bool resp_exists(struct resp_session *s, const char *key, size_t nkey)
{
    struct item *it = cache_meta_peek(s->ctx->cache, key, nkey);
    bool found = it != NULL;
    cache_item_release(s->ctx->cache, &it);
    return found;
}

/* See resp_db.h. */
struct item *resp_peek(struct resp_session *s, const char *key, size_t nkey)
{
    return cache_meta_peek(s->ctx->cache, key, nkey);
}

/* Replies the error for a failed allocation or store. */
void resp_status_error(struct resp_session *s, enum cache_status st, struct outq *out)
{
    resp_error(s, out, st == CACHE_TOO_LARGE ? RESP_E_TOOBIG : RESP_E_OOM);
}

/* See resp_db.h. */
struct item *resp_item_new(struct resp_session *s, const char *key, size_t nkey, const char *val, size_t nval,
                           cache_exp_t exp, enum cache_status *st)
{
    struct item *it = cache_alloc(s->ctx->cache, key, nkey, 0, exp, nval, st);
    if (it != NULL && nval > 0)
        memcpy(item_value(it), val, nval);
    return it;
}

/* See resp_db.h. */
struct item *resp_value_item(struct resp_session *s, const struct resp_args *a, size_t ki, size_t vi,
                             enum cache_status *st)
{
    struct item *it = resp_take_received(s, a, vi);
    if (it != NULL) {
        *st = CACHE_OK;
        return it;
    }
    if (a->argv[vi] == NULL || a->argv[ki] == NULL) {
        *st = CACHE_TOO_LARGE;
        return NULL;
    }
    return resp_item_new(s, a->argv[ki], a->argl[ki], a->argv[vi], a->argl[vi], CACHE_EXP_NEVER, st);
}

/* See resp_db.h. */
enum cache_status resp_store(struct resp_session *s, struct item *it, enum resp_set_mode mode, cache_exp_t exp,
                             bool keep_ttl, struct item **old)
{
    struct cache_store_opts o = {
        .mode = mode == RESP_SET_NX ? CACHE_ADD : mode == RESP_SET_XX ? CACHE_REPLACE : CACHE_SET,
        .keep_ttl = keep_ttl,
        .want_old = old != NULL,
    };
    struct cache_store_result r = {0, NULL};
    item_set_exp(it, keep_ttl ? CACHE_EXP_NEVER : exp); /* private until linked */
    enum cache_status st = cache_store_ex(s->ctx->cache, it, &o, &r);
    if (old != NULL)
        *old = r.old;
    return st;
}

/* cache_rmw's callbacks over the session's simpler plan: a non-zero stop code aborts the call. */
struct rmw_glue {
    resp_plan_fn plan;
    resp_fill_fn fill;
    void *arg;
    int stopped;
};

static enum cache_status glue_plan(void *arg, const struct item *old, struct cache_rmw_new *nw)
{
    struct rmw_glue *g = arg;
    size_t n = 0;
    g->stopped = g->plan(g->arg, old, &n);
    if (g->stopped != 0)
        return CACHE_NOT_STORED;
    nw->nbytes = n;
    return CACHE_OK;
}

static void glue_fill(void *arg, const struct item *old, char *value, size_t nbytes)
{
    struct rmw_glue *g = arg;
    (void)nbytes;
    g->fill(g->arg, old, value);
}

/* See resp_db.h. */
enum cache_status resp_rmw(struct resp_session *s, const char *key, size_t nkey, resp_plan_fn plan,
                           resp_fill_fn fill, void *arg, int *stopped)
{
    struct rmw_glue g = {plan, fill, arg, 0};
    struct cache_rmw op = {.plan = glue_plan, .fill = glue_fill, .arg = &g};
    struct cache_rmw_result r;
    enum cache_status st = cache_rmw(s->ctx->cache, key, nkey, &op, &r);
    *stopped = g.stopped;
    return st;
}
