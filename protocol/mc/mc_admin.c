/*
 * mc_admin.c: memcached 1.6.18's administrative text commands (cache_memlimit, slabs, lru_crawler,
 * lru, watch, stats detail) and the shared state behind them (struct mc_shared).
 *
 * Replies follow the reference byte for byte, including its token-count rules and where it honours
 * "noreply" (measured against memcached 1.6.18; see doc/protocol.md for the full table).
 *
 * lru_crawler: cairn has no crawler thread, but the server reclaims expired items in the background
 * (cache_reclaim on the main thread). The crawler switch is a flag that starts on, as memcached's
 * crawler does, so `enable` answers memcached's "ERROR failed to start lru crawler thread" while on;
 * `crawl <classes>` asks the server for one extra reclaim pass over the items (mc_crawler_take), and
 * while that pass runs another crawl is "BUSY", so a client cannot make the server do more than one
 * pass at a time. `metadump` is a key dump (mc_dump.c); it holds the same crawler as a crawl does
 * (crawl_left is CRAWL_DUMPING meanwhile), so the two are BUSY for each other, as in memcached, where
 * one crawler thread runs either. Machinery cairn does not have answers as memcached does with it switched
 * off: the segmented-LRU maintainer (lru: "ERROR") and the log watchers (watch: "ERROR").
 *
 * Bounds, so that no client can hurt another through these commands: the detail table holds at most
 * MC_DETAIL_MAX_PREFIXES prefixes (later ones are counted as dropped, shown in `stats detail dump`),
 * so its memory, its lookups and the dump stay bounded; `slabs reassign` moves at most
 * REASSIGN_PER_SECOND pages a second server-wide (then "BUSY", memcached's answer while a move runs);
 * `cache_memlimit` takes memcached's range. The server can refuse the server-wide commands
 * altogether (mc_admin_refused: -F, --disable-admin-commands).
 *
 * `snapshot [bg]` is cairn's own: only its arguments are checked here; the save itself belongs to
 * the server, which the session asks through PROTO_WAIT (memcache.c), since it answers later.
 *
 * Per-prefix statistics (`stats detail`): a key's prefix is its bytes before the first delimiter
 * (-D, ':' by default); keys without one are not counted. The table is a fixed array of hash
 * buckets with chained entries (at most MC_DETAIL_MAX_PREFIXES of them), under one mutex; it is touched only
 * while detail is on (an atomic flag read first), which is off by default, so the common path pays one
 * relaxed load.
 *
 * Ownership: the server creates the struct mc_shared, puts it in the mc_context and destroys it
 * after every session is gone. Threads: any; the table's mutex covers every entry.
 */
#include "config.h"

#include "protocol/mc/mc_admin.h"

#include <inttypes.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>

#include "protocol/mc/mc_internal.h"
#include "protocol/outq.h"
#include "storage/cache.h"

#define PREFIX_BUCKETS      256u
#define PREFIX_MAX          250u        /* a key is at most 250 bytes */
#define MEMLIMIT_MIN_MB     8u          /* memcached refuses less */
#define MEMLIMIT_MAX_MB     1000000000u /* above this memcached assumes bytes were meant */
#define CRAWLER_SLEEP_MAX   1000000u    /* one second, in microseconds */
#define CRAWLER_CLASS_MAX   63u         /* memcached: ids 1 .. MAX_NUMBER_OF_SLAB_CLASSES - 1 */
#define REASSIGN_PER_SECOND 10u         /* page moves one second may ask for, server-wide */
#define CRAWL_DUMPING       UINT64_MAX  /* crawl_left while a metadump holds the crawler */

struct prefix_entry {
    struct prefix_entry *next;
    uint64_t gets, hits, sets, dels;
    size_t len;
    char name[];
};

struct mc_shared {
    atomic_bool detail;
    char delimiter;
    atomic_bool crawler_on; /* lru_crawler enable|disable; starts on, as memcached's */
    _Atomic unsigned crawler_sleep;
    _Atomic unsigned crawler_tocrawl;
    _Atomic uint64_t crawl_left; /* items the requested crawl has still to visit; 0 = none;
                                  * CRAWL_DUMPING: a metadump runs */
    pthread_mutex_t lock;        /* covers buckets, every entry, the counts and the reassign window */
    struct prefix_entry *buckets[PREFIX_BUCKETS];
    size_t nprefixes;
    uint64_t prefixes_dropped; /* new prefixes not tracked: the table was full */
    uint32_t reassign_second;  /* the cache's relative time of the current window */
    unsigned reassign_count;   /* reassigns asked for in that second */
};

/* ---- shared state ---- */

/* See memcache.h. */
struct mc_shared *mc_shared_create(char delimiter)
{
    struct mc_shared *sh = calloc(1, sizeof(*sh));
    if (sh == NULL)
        return NULL;
    sh->delimiter = delimiter;
    atomic_init(&sh->detail, false);
    atomic_init(&sh->crawler_on, true);
    atomic_init(&sh->crawl_left, 0);
    atomic_init(&sh->crawler_sleep, 100);
    atomic_init(&sh->crawler_tocrawl, 0);
    pthread_mutex_init(&sh->lock, NULL);
    return sh;
}

/* See memcache.h. */
void mc_crawler_setup(struct mc_shared *sh, bool on, unsigned sleep, unsigned tocrawl)
{
    atomic_store(&sh->crawler_on, on);
    atomic_store(&sh->crawler_sleep, sleep);
    atomic_store(&sh->crawler_tocrawl, tocrawl);
}

/* Frees every entry. Caller holds sh->lock (or is the only user). */
static void detail_clear_locked(struct mc_shared *sh)
{
    for (size_t i = 0; i < PREFIX_BUCKETS; i++) {
        struct prefix_entry *e = sh->buckets[i];
        while (e != NULL) {
            struct prefix_entry *next = e->next;
            free(e);
            e = next;
        }
        sh->buckets[i] = NULL;
    }
    sh->nprefixes = 0;
    sh->prefixes_dropped = 0;
}

/* See memcache.h. */
void mc_shared_destroy(struct mc_shared **shp)
{
    if (shp == NULL || *shp == NULL)
        return;
    detail_clear_locked(*shp);
    pthread_mutex_destroy(&(*shp)->lock);
    free(*shp);
    *shp = NULL;
}

/* See memcache.h. */
void mc_detail_set(struct mc_shared *sh, bool on)
{
    if (sh != NULL)
        atomic_store_explicit(&sh->detail, on, memory_order_relaxed);
}

/* See memcache.h. */
bool mc_detail_enabled(const struct mc_shared *sh)
{
    return sh != NULL && atomic_load_explicit(&sh->detail, memory_order_relaxed);
}

/* See memcache.h. */
char mc_detail_delimiter(const struct mc_shared *sh)
{
    return sh != NULL ? sh->delimiter : ':';
}

/* See memcache.h. Takes the table's mutex. */
void mc_detail_reset(struct mc_shared *sh)
{
    if (sh == NULL)
        return;
    pthread_mutex_lock(&sh->lock);
    detail_clear_locked(sh);
    pthread_mutex_unlock(&sh->lock);
}

/* See memcache.h. */
unsigned mc_crawler_sleep(const struct mc_shared *sh)
{
    return sh != NULL ? atomic_load_explicit(&sh->crawler_sleep, memory_order_relaxed) : 100;
}

/* See memcache.h. */
unsigned mc_crawler_tocrawl(const struct mc_shared *sh)
{
    return sh != NULL ? atomic_load_explicit(&sh->crawler_tocrawl, memory_order_relaxed) : 0;
}

/* See memcache.h. */
bool mc_crawler_enabled(const struct mc_shared *sh)
{
    return sh != NULL && atomic_load_explicit(&sh->crawler_on, memory_order_relaxed);
}

/* See memcache.h. */
size_t mc_crawler_take(struct mc_shared *sh, size_t max)
{
    if (sh == NULL)
        return 0;
    uint64_t left = atomic_load_explicit(&sh->crawl_left, memory_order_relaxed);
    for (;;) {
        if (left == 0 || left == CRAWL_DUMPING)
            return 0;
        uint64_t n = left < max ? left : max;
        if (atomic_compare_exchange_weak_explicit(&sh->crawl_left, &left, left - n, memory_order_relaxed,
                                                  memory_order_relaxed))
            return (size_t)n;
    }
}

/* See mc_admin.h. */
bool mc_crawler_claim(struct mc_shared *sh)
{
    uint64_t idle = 0;
    return sh != NULL && atomic_compare_exchange_strong_explicit(&sh->crawl_left, &idle, CRAWL_DUMPING,
                                                                 memory_order_relaxed, memory_order_relaxed);
}

/* See mc_admin.h. */
void mc_crawler_release(struct mc_shared *sh)
{
    uint64_t dumping = CRAWL_DUMPING;
    if (sh != NULL)
        atomic_compare_exchange_strong_explicit(&sh->crawl_left, &dumping, 0, memory_order_relaxed,
                                                memory_order_relaxed);
}

/* See memcache.h. Takes the table's mutex. */
void mc_detail_counts(struct mc_shared *sh, size_t *prefixes, uint64_t *dropped)
{
    *prefixes = 0;
    *dropped = 0;
    if (sh == NULL)
        return;
    pthread_mutex_lock(&sh->lock);
    *prefixes = sh->nprefixes;
    *dropped = sh->prefixes_dropped;
    pthread_mutex_unlock(&sh->lock);
}

/* ---- per-prefix statistics ---- */

/* FNV-1a over the prefix: the table is small and off by default, so a simple hash will do. */
static size_t prefix_bucket(const char *p, size_t len)
{
    uint32_t h = 2166136261u;
    for (size_t i = 0; i < len; i++)
        h = (h ^ (unsigned char)p[i]) * 16777619u;
    return h % PREFIX_BUCKETS;
}

/* The entry for prefix p, created if new; NULL when the table is full (the prefix is counted as
 * dropped) or on no memory. Caller holds sh->lock. */
static struct prefix_entry *prefix_find_locked(struct mc_shared *sh, const char *p, size_t len)
{
    size_t b = prefix_bucket(p, len);
    for (struct prefix_entry *e = sh->buckets[b]; e != NULL; e = e->next) {
        if (e->len == len && memcmp(e->name, p, len) == 0)
            return e;
    }
    if (sh->nprefixes >= MC_DETAIL_MAX_PREFIXES) {
        sh->prefixes_dropped++;
        return NULL;
    }
    struct prefix_entry *e = calloc(1, sizeof(*e) + len + 1);
    if (e == NULL)
        return NULL;
    sh->nprefixes++;
    memcpy(e->name, p, len);
    e->len = len;
    e->next = sh->buckets[b];
    sh->buckets[b] = e;
    return e;
}

enum detail_op { DETAIL_GET, DETAIL_HIT, DETAIL_SET, DETAIL_DEL };

/* Counts op for key's prefix when detail is on and the key has one. */
static void detail_record(struct mc_shared *sh, const char *key, size_t nkey, enum detail_op op)
{
    if (!mc_detail_enabled(sh))
        return;
    const char *d = memchr(key, sh->delimiter, nkey);
    if (d == NULL)
        return;
    pthread_mutex_lock(&sh->lock);
    struct prefix_entry *e = prefix_find_locked(sh, key, (size_t)(d - key));
    if (e != NULL) {
        switch (op) {
        case DETAIL_HIT:
            e->hits++;
            e->gets++;
            break;
        case DETAIL_GET:
            e->gets++;
            break;
        case DETAIL_SET:
            e->sets++;
            break;
        case DETAIL_DEL:
            e->dels++;
            break;
        }
    }
    pthread_mutex_unlock(&sh->lock);
}

/* See mc_admin.h. */
void mc_detail_record_get(struct mc_shared *sh, const char *key, size_t nkey, bool hit)
{
    detail_record(sh, key, nkey, hit ? DETAIL_HIT : DETAIL_GET);
}

/* See mc_admin.h. */
void mc_detail_record_set(struct mc_shared *sh, const char *key, size_t nkey)
{
    detail_record(sh, key, nkey, DETAIL_SET);
}

/* See mc_admin.h. */
void mc_detail_record_delete(struct mc_shared *sh, const char *key, size_t nkey)
{
    detail_record(sh, key, nkey, DETAIL_DEL);
}

/* "PREFIX <p> get <n> hit <n> set <n> del <n>" per prefix (at most MC_DETAIL_MAX_PREFIXES lines,
 * about 2.7 MB with 250-byte prefixes), then, only when the table was full, cairn's
 * "PREFIXES_DROPPED <n> limit <max>" line (memcached's table has no limit), then END. */
static void detail_dump(struct mc_shared *sh, struct outq *out)
{
    if (sh != NULL) {
        pthread_mutex_lock(&sh->lock);
        for (size_t i = 0; i < PREFIX_BUCKETS; i++) {
            for (const struct prefix_entry *e = sh->buckets[i]; e != NULL; e = e->next)
                outq_printf(out,
                            "PREFIX %.*s get %" PRIu64 " hit %" PRIu64 " set %" PRIu64 " del %" PRIu64 "\r\n",
                            (int)e->len, e->name, e->gets, e->hits, e->sets, e->dels);
        }
        if (sh->prefixes_dropped > 0)
            outq_printf(out, "PREFIXES_DROPPED %" PRIu64 " limit %u\r\n", sh->prefixes_dropped,
                        (unsigned)MC_DETAIL_MAX_PREFIXES);
        pthread_mutex_unlock(&sh->lock);
    }
    outq_add_str(out, "END\r\n");
}

/* See mc_admin.h. memcached looks only at the word after "detail"; later words are ignored. */
void mc_admin_stats_detail(const struct mc_context *ctx, int argc, char **argv, struct outq *out)
{
    struct mc_shared *sh = ctx->shared;
    const char *what = argc > 1 ? argv[1] : "";

    if (strcmp(what, "dump") == 0) {
        detail_dump(sh, out);
    } else if ((strcmp(what, "on") == 0 || strcmp(what, "off") == 0) && sh != NULL) {
        mc_detail_set(sh, what[1] == 'n');
        outq_add_str(out, "OK\r\n");
    } else {
        outq_add_str(out, "CLIENT_ERROR usage: stats detail on|off|dump\r\n");
    }
}

/* ---- commands ---- */

/* cache_memlimit <megabytes> [noreply] */
static void admin_memlimit(const struct mc_context *ctx, const struct mc_request *req, struct outq *out)
{
    uint32_t mb;

    if (req->ntokens != 2 && req->ntokens != 3) {
        outq_add_str(out, MC_ERR_ERROR);
        return;
    }
    if (!mc_parse_u32(req->tokens[1], &mb)) {
        mc_reply(out, req->noreply, MC_ERR_ERROR);
    } else if (mb < MEMLIMIT_MIN_MB) {
        mc_reply(out, req->noreply, "MEMLIMIT_TOO_SMALL cannot set maxbytes to less than 8m\r\n");
    } else if (mb > MEMLIMIT_MAX_MB) {
        mc_reply(out, req->noreply, "MEMLIMIT_ADJUST_FAILED input value is megabytes not bytes\r\n");
    } else if (cache_set_memory_limit(ctx->cache, (size_t)mb << 20) != CACHE_OK) {
        mc_reply(out, req->noreply, "MEMLIMIT_ADJUST_FAILED out of bounds or unable to adjust\r\n");
    } else {
        mc_reply(out, req->noreply, "OK\r\n");
    }
}

static const char *reassign_reply(enum cache_reassign_result r)
{
    switch (r) {
    case CACHE_REASSIGN_OK:
        return "OK\r\n";
    case CACHE_REASSIGN_BUSY:
        return "BUSY currently processing reassign request\r\n";
    case CACHE_REASSIGN_BADCLASS:
        return "BADCLASS invalid src or dst class id\r\n";
    case CACHE_REASSIGN_NOSPARE:
        return "NOSPARE source class has no spare pages\r\n";
    case CACHE_REASSIGN_SAME:
        break;
    }
    return "SAME src and dst class are identical\r\n";
}

/* Whether one more `slabs reassign` fits this second's budget (REASSIGN_PER_SECOND, server-wide):
 * each moves a page under the cache's locks, so a client looping on it would stall the others. */
static bool reassign_allowed(const struct mc_context *ctx)
{
    struct mc_shared *sh = ctx->shared;
    if (sh == NULL)
        return true;
    uint32_t now = cache_rel_time(ctx->cache);
    pthread_mutex_lock(&sh->lock);
    if (sh->reassign_second != now) {
        sh->reassign_second = now;
        sh->reassign_count = 0;
    }
    bool ok = sh->reassign_count < REASSIGN_PER_SECOND;
    if (ok)
        sh->reassign_count++;
    pthread_mutex_unlock(&sh->lock);
    return ok;
}

/* slabs automove <0|1|2> [any] ; slabs reassign <src> <dst> (memcached ignores noreply there). */
static void admin_slabs(const struct mc_context *ctx, const struct mc_request *req, struct outq *out)
{
    size_t n = req->ntokens;

    if ((n == 3 || n == 4) && MC_TOK_IS(req->tokens[1], "automove")) {
        uint32_t mode;
        if (!mc_parse_u32(req->tokens[2], &mode))
            mc_reply(out, req->noreply, MC_ERR_BAD_FORMAT);
        else if (mode > 2)
            mc_reply(out, req->noreply, MC_ERR_ERROR);
        else {
            cache_set_automove(ctx->cache, mode);
            mc_reply(out, req->noreply, "OK\r\n");
        }
        return;
    }
    if (n == 4 && MC_TOK_IS(req->tokens[1], "reassign")) {
        int32_t src, dst;
        if (ctx->reassign_disabled)
            outq_add_str(out, "CLIENT_ERROR slab reassignment disabled\r\n"); /* before the numbers */
        else if (!mc_parse_i32(req->tokens[2], &src) || !mc_parse_i32(req->tokens[3], &dst))
            outq_add_str(out, MC_ERR_BAD_FORMAT);
        else if (!reassign_allowed(ctx))
            outq_add_str(out, reassign_reply(CACHE_REASSIGN_BUSY));
        else
            outq_add_str(out, reassign_reply(cache_slabs_reassign(ctx->cache, src, dst)));
        return;
    }
    outq_add_str(out, MC_ERR_ERROR);
}

/* Whether a crawl's class list is valid as memcached reads it: "all" or ids 1..63 separated by
 * commas (empty parts skipped, as strtok_r does). "hash" is separate (the caller's). */
static bool crawl_classes_ok(struct mc_token t)
{
    if (MC_TOK_IS(t, "all"))
        return true;
    size_t i = 0;
    while (i < t.len) {
        size_t j = i;
        while (j < t.len && t.p[j] != ',')
            j++;
        if (j > i) {
            uint32_t id;
            struct mc_token part = {t.p + i, j - i};
            if (!mc_parse_u32(part, &id) || id < 1 || id > CRAWLER_CLASS_MAX)
                return false;
        }
        i = j + 1;
    }
    return true;
}

/* Drops what is left of a running crawl. A metadump keeps the crawler until it ends (memcached's
 * disable waits for its crawler thread), so that only its own end gives the crawler back. */
static void crawl_stop(struct mc_shared *sh)
{
    uint64_t left = atomic_load_explicit(&sh->crawl_left, memory_order_relaxed);
    while (left != CRAWL_DUMPING && left != 0 &&
           !atomic_compare_exchange_weak_explicit(&sh->crawl_left, &left, 0, memory_order_relaxed,
                                                  memory_order_relaxed))
        ;
}

/* `lru_crawler crawl <classes>`: one reclaim pass over the items (up to tocrawl of them when set),
 * run by the server's reclaim timer in batches; BUSY while the previous one runs. cairn's reclaim
 * pass covers every class, so a class list only decides validity. */
static const char *crawl_start(const struct mc_context *ctx, struct mc_token classes)
{
    struct mc_shared *sh = ctx->shared;

    if (!mc_crawler_enabled(sh))
        return "CLIENT_ERROR lru crawler disabled\r\n";
    if (MC_TOK_IS(classes, "hash"))
        return "ERROR an unknown error happened\r\n"; /* memcached: no expiry crawl by hash */
    if (!crawl_classes_ok(classes))
        return "BADCLASS invalid class id\r\n";
    struct cache_stats st;
    cache_stats_get(ctx->cache, &st);
    uint64_t want = st.curr_items + 1;
    unsigned cap = atomic_load_explicit(&sh->crawler_tocrawl, memory_order_relaxed);
    if (cap > 0 && want > cap)
        want = cap;
    uint64_t idle = 0;
    if (!atomic_compare_exchange_strong_explicit(&sh->crawl_left, &idle, want, memory_order_relaxed,
                                                 memory_order_relaxed))
        return "BUSY currently processing crawler request\r\n";
    return "OK\r\n";
}

/* lru_crawler as memcached 1.6.18 answers it; noreply is never honoured. `lru_crawler metadump <arg>`
 * never comes here with shared state: the session runs it (mc_dump_metadump). */
static void admin_lru_crawler(const struct mc_context *ctx, const struct mc_request *req, struct outq *out)
{
    struct mc_shared *sh = ctx->shared;
    uint32_t v;

    if (sh == NULL) {
        outq_add_str(out, MC_ERR_ERROR);
    } else if (req->ntokens == 2 && MC_TOK_IS(req->tokens[1], "enable")) {
        /* memcached: starting the crawler while it runs fails. */
        bool was_on = atomic_exchange(&sh->crawler_on, true);
        outq_add_str(out, was_on ? "ERROR failed to start lru crawler thread\r\n" : "OK\r\n");
    } else if (req->ntokens == 2 && MC_TOK_IS(req->tokens[1], "disable")) {
        atomic_store(&sh->crawler_on, false);
        crawl_stop(sh);
        outq_add_str(out, "OK\r\n");
    } else if (req->ntokens == 3 && MC_TOK_IS(req->tokens[1], "crawl")) {
        outq_add_str(out, crawl_start(ctx, req->tokens[2]));
    } else if (req->ntokens == 3 && MC_TOK_IS(req->tokens[1], "sleep")) {
        if (!mc_parse_u32(req->tokens[2], &v))
            outq_add_str(out, MC_ERR_BAD_FORMAT);
        else if (v > CRAWLER_SLEEP_MAX)
            outq_add_str(out, "CLIENT_ERROR sleep must be one second or less\r\n");
        else {
            atomic_store_explicit(&sh->crawler_sleep, v, memory_order_relaxed);
            outq_add_str(out, "OK\r\n");
        }
    } else if (req->ntokens == 3 && MC_TOK_IS(req->tokens[1], "tocrawl")) {
        if (!mc_parse_u32(req->tokens[2], &v))
            outq_add_str(out, MC_ERR_BAD_FORMAT);
        else {
            atomic_store_explicit(&sh->crawler_tocrawl, v, memory_order_relaxed);
            outq_add_str(out, "OK\r\n");
        }
    } else {
        outq_add_str(out, MC_ERR_ERROR);
    }
}

/* The name a refusal quotes for a server-wide command, or NULL for one any client may use. */
static const char *admin_name(const struct mc_request *req, enum mc_parse_status ps)
{
    if (ps == MC_PARSE_ERROR)
        return mc_admin_is_snapshot(req) ? "snapshot" : NULL;
    switch (req->cmd) {
    case MC_CMD_FLUSH_ALL:
        return "flush_all";
    case MC_CMD_CACHE_MEMLIMIT:
        return "cache_memlimit";
    case MC_CMD_SLABS:
        return "slabs";
    case MC_CMD_LRU_CRAWLER:
        return "lru_crawler";
    case MC_CMD_LRU:
        return "lru";
    case MC_CMD_WATCH:
        return "watch";
    case MC_CMD_VERBOSITY:
        return "verbosity";
    case MC_CMD_SHUTDOWN:
        return "shutdown";
    case MC_CMD_STATS:
        if (req->ntokens >= 2 && MC_TOK_IS(req->tokens[1], "detail"))
            return "stats detail";
        if (req->ntokens >= 2 && MC_TOK_IS(req->tokens[1], "reset"))
            return "stats reset";
        if (req->ntokens >= 3 && MC_TOK_IS(req->tokens[1], "slowlog") && MC_TOK_IS(req->tokens[2], "reset"))
            return "stats slowlog reset";
        return NULL;
    default:
        return NULL;
    }
}

/* The switches' refusals (-F, --disable-admin-commands); see mc_admin_refused. */
static bool admin_disabled_refused(const struct mc_context *ctx, const struct mc_request *req,
                                   enum mc_parse_status ps, struct mc_stats *stats, struct outq *out)
{
    if (!ctx->flush_disabled && !ctx->admin_disabled)
        return false;
    /* memcached refuses flush_all before it reads the arguments, and counts it. */
    if (req->cmd == MC_CMD_FLUSH_ALL && ps != MC_PARSE_ERROR && ctx->flush_disabled) {
        mc_count(&stats->cmd_flush);
        mc_reply(out, req->noreply, "CLIENT_ERROR flush_all not allowed\r\n");
        return true;
    }
    if (!ctx->admin_disabled || (ps == MC_PARSE_CLIENT_ERROR && req->cmd != MC_CMD_VERBOSITY))
        return false;
    const char *name = admin_name(req, ps);
    if (name == NULL)
        return false;
    if (req->cmd == MC_CMD_SHUTDOWN) {
        outq_add_str(out, MC_ERR_SHUTDOWN_DISABLED);
        return true;
    }
    bool quiet = req->noreply && (req->cmd == MC_CMD_VERBOSITY || req->cmd == MC_CMD_CACHE_MEMLIMIT);
    if (!quiet)
        outq_printf(out, "CLIENT_ERROR %s not allowed\r\n", name);
    return true;
}

/* Whether req is a server-wide command an app user may not run: every command admin_name() names,
 * `stats cachedump` (a key dump, which -X governs rather than --disable-admin-commands) and `stats
 * slowlog` (other clients' requests, Redis's @admin SLOWLOG). */
static bool admin_needs_role(const struct mc_request *req, enum mc_parse_status ps)
{
    if (admin_name(req, ps) != NULL)
        return true;
    return ps != MC_PARSE_ERROR && req->cmd == MC_CMD_STATS && req->ntokens >= 2 &&
           (MC_TOK_IS(req->tokens[1], "cachedump") || MC_TOK_IS(req->tokens[1], "slowlog"));
}

/* See mc_admin.h. */
bool mc_admin_refused(const struct mc_context *ctx, const struct mc_request *req, enum mc_parse_status ps,
                      bool admin, struct mc_stats *stats, struct outq *out)
{
    if (ps == MC_PARSE_CLOSE)
        return false;
    if (admin_disabled_refused(ctx, req, ps, stats, out))
        return true;
    if (admin || !admin_needs_role(req, ps))
        return false;
    /* The role is checked before the arguments, so an app user learns nothing of the command's
     * syntax; noreply is honoured, as the other refusals of a command that can carry it are. */
    mc_reply(out, req->noreply, MC_ERR_PERMISSION);
    return true;
}

/* See mc_admin.h. */
bool mc_admin_is_snapshot(const struct mc_request *req)
{
    return req->cmd == MC_CMD_NONE && req->ntokens >= 1 && MC_TOK_IS(req->tokens[0], "snapshot");
}

/* See mc_admin.h. */
enum proto_wait mc_admin_snapshot_kind(const struct mc_request *req)
{
    if (req->ntokens == 1)
        return PROTO_WAIT_SNAPSHOT;
    if (req->ntokens == 2 && MC_TOK_IS(req->tokens[1], "bg"))
        return PROTO_WAIT_SNAPSHOT_BG;
    return PROTO_WAIT_NONE;
}

/* See mc_admin.h. */
void mc_admin_exec(const struct mc_context *ctx, const struct mc_request *req, struct outq *out)
{
    switch (req->cmd) {
    case MC_CMD_CACHE_MEMLIMIT:
        admin_memlimit(ctx, req, out);
        break;
    case MC_CMD_SLABS:
        admin_slabs(ctx, req, out);
        break;
    case MC_CMD_LRU_CRAWLER:
        admin_lru_crawler(ctx, req, out);
        break;
    case MC_CMD_WATCH:
        /* memcached -W refuses watch before anything else; without -W, no log watchers: ERROR */
        mc_reply(out, req->noreply,
                 ctx->watch_disabled ? "CLIENT_ERROR watch commands not allowed\r\n" : MC_ERR_ERROR);
        break;
    default:
        /* lru (no LRU maintainer): memcached's answer without it. */
        mc_reply(out, req->noreply, MC_ERR_ERROR);
        break;
    }
}
