/*
 * mc_dump.h: memcached's key dumps, `stats cachedump <class> <limit>` and `lru_crawler metadump
 * <classes>|all|hash` (internal to protocol/mc; the session in memcache.c drives them).
 *
 * A dump is a walk of the cache (storage's scan cursor) that goes on across feeds: each feed runs one
 * bounded batch and returns PROTO_PAUSE until the walk is over, so the connection writes the lines
 * out (and serves its other connections) between batches and the reply is never buffered whole.
 * The state of a dump in progress is one struct mc_dump in the session.
 *
 * Class ids: a dump names classes with memcached's ids, 1..MC_DUMP_CLASS_TOP. cairn has more, finer
 * classes (storage/slab.c): ids below MC_DUMP_CLASS_TOP are cairn's class of that id, and
 * MC_DUMP_CLASS_TOP stands for every class from it up, so that a tool asking for ids 1..63 (memcdump)
 * sees every item. metadump's cls= shows cairn's own class id, as `stats items` and `stats slabs`
 * number them.
 */
#ifndef CAIRN_PROTOCOL_MC_DUMP_H
#define CAIRN_PROTOCOL_MC_DUMP_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "protocol/mc/mc_parse.h"
#include "protocol/mc/memcache.h"

struct outq;

#define MC_DUMP_CLASS_TOP   63u /* memcached's highest class id (MAX_NUMBER_OF_SLAB_CLASSES - 1) */
#define MC_DUMP_CLASS_WORDS 4u  /* bitmap words: cairn has at most 255 classes */
#define MC_CACHEDUMP_MAX    (2u * 1024 * 1024) /* memcached's cap on a cachedump reply, END included */

/* Room for the longest cachedump line, "ITEM " key " [" bytes " b; " time " s]\r\n", and a NUL. */
#define MC_DUMP_ITEM_LINE_MAX (5 + MC_KEY_MAX + 2 + 20 + 4 + 20 + 5 + 1)
/* The longest metadump line after the key: " exp=.. la=.. cas=.. fetch=yes cls=.. size=..\n". */
#define MC_DUMP_META_TAIL_MAX 160u

enum mc_dump_kind { MC_DUMP_NONE = 0, MC_DUMP_CACHEDUMP, MC_DUMP_METADUMP };

/* A dump in progress (kind != MC_DUMP_NONE); all zero when none. */
struct mc_dump {
    enum mc_dump_kind kind;
    bool started;                          /* the first batch ran (cursor 0 then means done) */
    bool full;                             /* cachedump: the limit or the 2 MB cap was reached */
    bool holds_crawler;                    /* metadump: holds the server's crawler (mc_crawler_claim) */
    uint64_t cursor;                       /* cache_scan's */
    uint64_t classes[MC_DUMP_CLASS_WORDS]; /* cairn class ids to list, one bit each */
    uint32_t limit;                        /* cachedump: lines at most; 0 = no limit */
    uint32_t shown;                        /* cachedump: lines so far */
    size_t bytes;                          /* cachedump: bytes of lines so far */
};

/* ---- formatting (pure) ---- */

/* URL-encodes n bytes of src as memcached does (letters, digits and "-._~" stay, every other byte
 * becomes %XX, upper-case hex) into dst, which has room for 3 * n bytes; returns the length. No NUL. */
size_t mc_dump_urlencode(const char *src, size_t n, char *dst);

/* Whether cachedump lists a key: memcached skips keys given in base64 (binary) and empty items;
 * cairn also skips keys the text protocol cannot carry (RESP's: longer than 250 bytes, or holding a
 * space, a control byte or DEL), which would break the line. */
bool mc_dump_key_listable(const char *key, size_t nkey, bool binary);

/* "ITEM <key> [<nbytes> b; <exptime> s]\r\n" into buf (at least MC_DUMP_ITEM_LINE_MAX bytes; nkey at
 * most MC_KEY_MAX); exptime is a Unix time, 0 for none. Returns the length. */
size_t mc_dump_item_line(char *buf, const char *key, size_t nkey, uint64_t nbytes, uint64_t exptime);

/* A metadump line's fields after the key, " exp=<exp> la=<la> cas=<cas> fetch=<yes|no> cls=<cls>
 * size=<size>\n" (memcached ends these lines with a bare newline), into buf (at least
 * MC_DUMP_META_TAIL_MAX bytes); exp is -1 for none. Returns the length. */
size_t mc_dump_meta_tail(char *buf, int64_t exp, uint64_t la, uint64_t cas, bool fetched, unsigned cls,
                         uint64_t size);

/* The item size memcached reports (metadump's size=): its 48-byte header, the key and a NUL, the
 * value with its "\r\n", 4 bytes of client flags when they are not 0 and 8 of CAS when enabled. */
uint64_t mc_dump_mc_size(size_t nkey, uint64_t nbytes, uint32_t flags, bool use_cas);

/* ---- commands ---- */

/* `stats cachedump` with argv the words after "stats" (argv[0] is "cachedump"): either queues the
 * whole reply (a refusal or an error, as memcached 1.6.18 words them) or starts d. */
void mc_dump_cachedump(const struct mc_context *ctx, struct mc_dump *d, int argc, char **argv,
                       struct outq *out);

/* `lru_crawler metadump <arg>`: queues the refusal or error, or starts d (holding the server's
 * crawler: another metadump or a crawl is BUSY until it ends). */
void mc_dump_metadump(const struct mc_context *ctx, struct mc_dump *d, struct mc_token arg, struct outq *out);

/* Runs one batch of the dump d: lines for the items of a few hundred buckets, stopping early when
 * the output queue reaches ctx->out_pause. PROTO_PAUSE while there is more (run it again once the
 * queue drained); PROTO_OK once "END\r\n" is queued and d is cleared. */
enum proto_status mc_dump_run(const struct mc_context *ctx, struct mc_dump *d, struct outq *out);

/* Ends a dump the connection will not finish (it is closing): gives the crawler back. */
void mc_dump_abort(const struct mc_context *ctx, struct mc_dump *d);

#endif
