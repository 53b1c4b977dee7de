/*
 * mc_dump.c: the key dumps, `stats cachedump` and `lru_crawler metadump` (see mc_dump.h).
 *
 * Both walk the hash table with storage's scan cursor (cache_scan: a few buckets of one shard per
 * call, under that shard's lock only), keep the items of the classes asked for and write one line per
 * item straight into the connection's output queue. A batch (mc_dump_run) makes at most
 * DUMP_SCANS_PER_BATCH scan calls and stops as soon as the queue reaches the session's pause weight;
 * the session then answers PROTO_PAUSE with the request line unconsumed, the connection writes what
 * is queued and feeds the line again, and the walk goes on from its cursor. So a dump of millions of
 * keys holds no lock for longer than one scan call, keeps at most about one pause weight of lines
 * queued, and shares its worker thread with the other connections between batches.
 *
 * What a dump shows, as memcached 1.6.18 does (doc/protocol.md has the whole table):
 * - cachedump: "ITEM <key> [<value bytes> b; <exptime> s]" per item of one class, exptime a Unix
 *   time or 0, at most <limit> lines (0 = no limit) and at most MC_CACHEDUMP_MAX bytes with the END,
 *   as memcached caps its reply; keys given in base64 are skipped. memcached lists only the class's
 *   cold LRU segment; cairn has one CLOCK per class, which `stats items` reports as the cold segment,
 *   so it lists the whole class.
 * - metadump: "key=<URL-encoded key> exp=<-1|Unix time> la=<Unix time> cas=<n> fetch=<yes|no>
 *   cls=<class> size=<bytes>" ending in a bare "\n", then "END\r\n"; every key, binary ones too
 *   (their raw bytes, URL-encoded). size is memcached's item size (mc_dump_mc_size), so a tool summing
 *   it sees the figures memcached would give.
 * Both skip expired and flushed items (the scan does); the walk's guarantee is storage's: a key
 * present for the whole dump is listed at least once (a key may come twice while a shard grows).
 * A cachedump walks the whole table for its class (items do not record their class, and a class's
 * pages hold no key order a cursor could resume in while pages move), unless the class is empty:
 * then it answers END at once.
 *
 * Threads: the session's thread. The scan callback runs under a shard lock: it only formats and
 * appends to the queue.
 */
#include "config.h"

#include "protocol/mc/mc_dump.h"

#include <inttypes.h>
#include <stdio.h>
#include <string.h>

#include "protocol/mc/mc_admin.h"
#include "protocol/mc/mc_internal.h"
#include "protocol/outq.h"
#include "storage/cache.h"

#define DUMP_SCANS_PER_BATCH 64u /* cache_scan calls in one batch: about 1,000 items, 32k buckets */
#define DUMP_END             "END\r\n"
#define DUMP_KEY_CHUNK       256u /* key bytes URL-encoded at a time (RESP keys can be 64 KB) */

/* ---- formatting ---- */

/* See mc_dump.h. memcached's table: isalnum() in the C locale and "-._~" pass through. */
size_t mc_dump_urlencode(const char *src, size_t n, char *dst)
{
    static const char hex[] = "0123456789ABCDEF";
    size_t d = 0;

    for (size_t i = 0; i < n; i++) {
        unsigned char ch = (unsigned char)src[i];
        bool plain = (ch >= 'a' && ch <= 'z') || (ch >= 'A' && ch <= 'Z') || (ch >= '0' && ch <= '9') ||
                     ch == '-' || ch == '.' || ch == '_' || ch == '~';
        if (plain) {
            dst[d++] = (char)ch;
        } else {
            dst[d++] = '%';
            dst[d++] = hex[ch >> 4];
            dst[d++] = hex[ch & 15];
        }
    }
    return d;
}

/* See mc_dump.h. */
bool mc_dump_key_listable(const char *key, size_t nkey, bool binary)
{
    if (binary || nkey == 0 || nkey > MC_KEY_MAX)
        return false;
    for (size_t i = 0; i < nkey; i++) {
        unsigned char ch = (unsigned char)key[i];
        if (ch <= ' ' || ch == 0x7f)
            return false;
    }
    return true;
}

/* See mc_dump.h. */
size_t mc_dump_item_line(char *buf, const char *key, size_t nkey, uint64_t nbytes, uint64_t exptime)
{
    size_t n = 5;

    memcpy(buf, "ITEM ", 5);
    memcpy(buf + n, key, nkey);
    n += nkey;
    n += (size_t)snprintf(buf + n, MC_DUMP_ITEM_LINE_MAX - n, " [%" PRIu64 " b; %" PRIu64 " s]\r\n", nbytes,
                          exptime);
    return n;
}

/* See mc_dump.h. */
size_t mc_dump_meta_tail(char *buf, int64_t exp, uint64_t la, uint64_t cas, bool fetched, unsigned cls,
                         uint64_t size)
{
    int n = snprintf(buf, MC_DUMP_META_TAIL_MAX,
                     " exp=%" PRId64 " la=%" PRIu64 " cas=%" PRIu64 " fetch=%s cls=%u size=%" PRIu64 "\n",
                     exp, la, cas, fetched ? "yes" : "no", cls, size);
    return n > 0 ? (size_t)n : 0;
}

/* See mc_dump.h. */
uint64_t mc_dump_mc_size(size_t nkey, uint64_t nbytes, uint32_t flags, bool use_cas)
{
    return 48u + nkey + 1u + nbytes + 2u + (flags != 0 ? 4u : 0u) + (use_cas ? 8u : 0u);
}

/* ---- classes ---- */

static void classes_add(struct mc_dump *d, unsigned id)
{
    if (id < 64u * MC_DUMP_CLASS_WORDS)
        d->classes[id / 64] |= (uint64_t)1 << (id % 64);
}

/* Adds memcached class id (1..MC_DUMP_CLASS_TOP) to d: that cairn class, or for the top id every
 * class from it up. */
static void classes_add_mc(struct mc_dump *d, unsigned id)
{
    if (id < MC_DUMP_CLASS_TOP) {
        classes_add(d, id);
        return;
    }
    for (unsigned c = MC_DUMP_CLASS_TOP; c < 64u * MC_DUMP_CLASS_WORDS; c++)
        classes_add(d, c);
}

static bool classes_has(const struct mc_dump *d, unsigned id)
{
    return id < 64u * MC_DUMP_CLASS_WORDS && (d->classes[id / 64] >> (id % 64) & 1u) != 0;
}

static bool classes_empty(const struct mc_dump *d)
{
    for (unsigned i = 0; i < MC_DUMP_CLASS_WORDS; i++) {
        if (d->classes[i] != 0)
            return false;
    }
    return true;
}

/* Whether any class of d holds a linked item now: a cachedump of empty classes (most of the 64 ids
 * memcdump asks for) answers END without walking the table. */
static bool classes_hold_items(struct cache *c, const struct mc_dump *d)
{
    unsigned n = cache_class_count(c);
    for (unsigned id = 1; id <= n; id++) {
        struct cache_class_stats cs;
        if (!classes_has(d, id))
            continue;
        cache_class_stats_get(c, id, &cs);
        if (cs.number != 0)
            return true;
    }
    return false;
}

/* ---- the walk ---- */

struct dump_walk {
    const struct mc_context *ctx;
    struct mc_dump *d;
    struct outq *out;
    uint64_t started; /* the cache's Unix time of relative time 0 */
};

/* One cachedump line for it, unless the limit or the cap was reached. */
static void cachedump_visit(struct dump_walk *w, const struct item *it)
{
    struct mc_dump *d = w->d;
    char line[MC_DUMP_ITEM_LINE_MAX];
    const char *key = item_key(it);
    size_t nkey = item_nkey(it);
    uint32_t exptime = item_exptime(it);

    if (d->full || !mc_dump_key_listable(key, nkey, item_key_binary(it)))
        return;
    size_t n = mc_dump_item_line(line, key, nkey, item_nbytes(it), exptime != 0 ? exptime + w->started : 0);
    /* memcached keeps room for "END\r\n" and a NUL */
    if (d->bytes + n + sizeof(DUMP_END) > MC_CACHEDUMP_MAX) {
        d->full = true;
        return;
    }
    outq_add(w->out, line, n);
    d->bytes += n;
    d->shown++;
    if (d->limit != 0 && d->shown >= d->limit)
        d->full = true;
}

/* One metadump line for it; a key longer than memcached's is encoded in pieces. */
static void metadump_visit(struct dump_walk *w, const struct item *it, unsigned cls)
{
    char enc[3 * DUMP_KEY_CHUNK];
    char tail[MC_DUMP_META_TAIL_MAX];
    const char *key = item_key(it);
    size_t nkey = item_nkey(it);
    uint32_t exptime = item_exptime(it);
    size_t nbytes = item_nbytes(it);

    outq_add(w->out, "key=", 4);
    for (size_t off = 0; off < nkey; off += DUMP_KEY_CHUNK) {
        size_t m = nkey - off < DUMP_KEY_CHUNK ? nkey - off : DUMP_KEY_CHUNK;
        outq_add(w->out, enc, mc_dump_urlencode(key + off, m, enc));
    }
    size_t n =
        mc_dump_meta_tail(tail, exptime != 0 ? (int64_t)(exptime + w->started) : -1,
                          item_atime(it) + w->started, item_cas(it), (item_state(it) & ITEM_FETCHED) != 0,
                          cls, mc_dump_mc_size(nkey, nbytes, item_client_flags(it), w->ctx->use_cas));
    outq_add(w->out, tail, n);
}

/* cache_scan's callback, under the item's shard lock. */
static void dump_visit(void *arg, const struct item *it)
{
    struct dump_walk *w = arg;
    unsigned cls = cache_item_class(w->ctx->cache, it);

    if (!classes_has(w->d, cls))
        return;
    if (w->d->kind == MC_DUMP_CACHEDUMP)
        cachedump_visit(w, it);
    else
        metadump_visit(w, it, cls);
}

/* See mc_dump.h. */
void mc_dump_abort(const struct mc_context *ctx, struct mc_dump *d)
{
    if (d->holds_crawler)
        mc_crawler_release(ctx->shared);
    memset(d, 0, sizeof(*d));
}

/* See mc_dump.h. */
enum proto_status mc_dump_run(const struct mc_context *ctx, struct mc_dump *d, struct outq *out)
{
    struct dump_walk w = {
        .ctx = ctx, .d = d, .out = out, .started = (uint64_t)cache_process_started(ctx->cache)};

    for (unsigned i = 0; i < DUMP_SCANS_PER_BATCH; i++) {
        if (d->full || (d->started && d->cursor == 0))
            break;
        if (ctx->out_pause != 0 && outq_weight(out) >= ctx->out_pause)
            return PROTO_PAUSE;
        d->cursor = cache_scan(ctx->cache, d->cursor, dump_visit, &w);
        d->started = true;
    }
    if (!d->full && !(d->started && d->cursor == 0))
        return PROTO_PAUSE;
    outq_add(out, DUMP_END, sizeof(DUMP_END) - 1);
    mc_dump_abort(ctx, d);
    return PROTO_OK;
}

/* ---- commands ---- */

static bool parse_u32_str(const char *s, uint32_t *v)
{
    struct mc_token t = {s, strlen(s)};
    return mc_parse_u32(t, v);
}

/* See mc_dump.h. memcached checks -X first, then the word count, then the numbers, then the id. */
void mc_dump_cachedump(const struct mc_context *ctx, struct mc_dump *d, int argc, char **argv,
                       struct outq *out)
{
    uint32_t id, limit;

    if (ctx->dump_disabled) {
        outq_add_str(out, "CLIENT_ERROR stats cachedump not allowed\r\n");
        return;
    }
    if (argc < 3) {
        outq_add_str(out, "CLIENT_ERROR bad command line\r\n");
        return;
    }
    if (!parse_u32_str(argv[1], &id) || !parse_u32_str(argv[2], &limit)) {
        outq_add_str(out, MC_ERR_BAD_FORMAT);
        return;
    }
    if (id > MC_DUMP_CLASS_TOP) {
        outq_add_str(out, "CLIENT_ERROR Illegal slab id\r\n");
        return;
    }
    memset(d, 0, sizeof(*d));
    d->kind = MC_DUMP_CACHEDUMP;
    d->limit = limit;
    if (id != 0) /* memcached's class 0 holds nothing: END alone */
        classes_add_mc(d, id);
    if (id == 0 || !classes_hold_items(ctx->cache, d))
        d->full = true;
}

/* The classes of a metadump argument, as memcached reads them: "all", "hash" (every item, by the
 * hash table: the same walk here) or ids 1..63 separated by commas, empty parts skipped. False on a
 * bad id. */
static bool metadump_classes(struct mc_dump *d, struct mc_token arg)
{
    if (MC_TOK_IS(arg, "all") || MC_TOK_IS(arg, "hash")) {
        for (unsigned c = 1; c < 64u * MC_DUMP_CLASS_WORDS; c++)
            classes_add(d, c);
        return true;
    }
    size_t i = 0;
    while (i < arg.len) {
        size_t j = i;
        while (j < arg.len && arg.p[j] != ',')
            j++;
        if (j > i) {
            uint32_t id;
            struct mc_token part = {arg.p + i, j - i};
            if (!mc_parse_u32(part, &id) || id < 1 || id > MC_DUMP_CLASS_TOP)
                return false;
            classes_add_mc(d, id);
        }
        i = j + 1;
    }
    return true;
}

/* See mc_dump.h. memcached's order: crawler switched off, -X, the class list, a crawl running. */
void mc_dump_metadump(const struct mc_context *ctx, struct mc_dump *d, struct mc_token arg, struct outq *out)
{
    if (!mc_crawler_enabled(ctx->shared)) {
        outq_add_str(out, "CLIENT_ERROR lru crawler disabled\r\n");
        return;
    }
    if (ctx->dump_disabled) {
        outq_add_str(out, "ERROR metadump not allowed\r\n");
        return;
    }
    memset(d, 0, sizeof(*d));
    if (!metadump_classes(d, arg)) {
        memset(d, 0, sizeof(*d));
        outq_add_str(out, "BADCLASS invalid class id\r\n");
        return;
    }
    if (classes_empty(d)) {
        outq_add_str(out, "NOTSTARTED no items to crawl\r\n");
        return;
    }
    if (!mc_crawler_claim(ctx->shared)) {
        memset(d, 0, sizeof(*d));
        outq_add_str(out, "BUSY currently processing crawler request\r\n");
        return;
    }
    d->kind = MC_DUMP_METADUMP;
    d->holds_crawler = true;
}
