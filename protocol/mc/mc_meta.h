/*
 * mc_meta.h: memcached 1.6.18's meta commands (mg, ms, md, ma, mn, me), internal to protocol/: a pure
 * request-line parser and the executors the classic session (memcache.c) calls.
 *
 * A meta line is `<cmd> <key> <flag>*` (ms: `ms <key> <datalen> <flag>*`, then the value block as
 * for set). Each flag is one token whose first byte names it and whose rest is its argument
 * (`T30`, `Oabc`); a flag may appear once. The parser checks everything memcached checks, in
 * memcached's order, so a bad line gets memcached's exact CLIENT_ERROR; it keeps the flags' order,
 * since the reply echoes return flags in the order they were asked for. With `b` the key is base64
 * and is decoded into the request; replies encode it again.
 *
 * The parser is a function of its input (no cache, no session); executors run against the cache and
 * append replies to a struct outq. An ms is executed in two steps: mc_meta_exec() allocates the item
 * and hands it to the session, which reads the value into it as for set; mc_meta_finish_set() then
 * stores it and answers. Threads: as memcache.h (one session per thread, context read-only).
 */
#ifndef CAIRN_PROTOCOL_MC_META_H
#define CAIRN_PROTOCOL_MC_META_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "protocol/mc/mc_parse.h"
#include "storage/cache.h"

struct mc_context;
struct mc_stats;
struct outq;

#define MC_META_TOKENS     24 /* tokens kept: memcached's tokenizer limit */
#define MC_META_TOKENS_MAX 19 /* more tokens on a line: "options flags (are) too long" */
#define MC_META_OPAQUE_MAX 32 /* longest O token, the O included */

enum mc_meta_cmd { MC_META_NONE = 0, MC_META_MG, MC_META_MS, MC_META_MD, MC_META_MA, MC_META_MN, MC_META_ME };

/* Error lines (with "\r\n") of the meta commands, as memcached 1.6.18 sends them. */
#define MC_META_ERR_TOO_LONG_MG "CLIENT_ERROR options flags are too long\r\n"
#define MC_META_ERR_TOO_LONG    "CLIENT_ERROR options flags too long\r\n"
#define MC_META_ERR_DUPLICATE   "CLIENT_ERROR duplicate flag\r\n"
#define MC_META_ERR_INVALID     "CLIENT_ERROR invalid flag\r\n"
#define MC_META_ERR_INV_OR_DUP  "CLIENT_ERROR invalid or duplicate flag\r\n"
#define MC_META_ERR_BAD_TOKEN   "CLIENT_ERROR bad token in command line format\r\n"
#define MC_META_ERR_DECODE      "CLIENT_ERROR error decoding key\r\n"
#define MC_META_ERR_M_LENGTH    "CLIENT_ERROR incorrect length for M token\r\n"
#define MC_META_ERR_INITIAL     "CLIENT_ERROR invalid numeric initial value\r\n"
#define MC_META_ERR_DELTA       "CLIENT_ERROR invalid numeric delta value\r\n"
#define MC_META_ERR_MODE_MS     "CLIENT_ERROR invalid mode for ms M token\r\n"
#define MC_META_ERR_MODE_MA     "CLIENT_ERROR invalid mode for ma M token\r\n"
#define MC_META_ERR_OPAQUE      "CLIENT_ERROR opaque token too long\r\n"
#define MC_META_ERR_NOMEM       "SERVER_ERROR out of memory\r\n"

struct mc_meta_request {
    enum mc_meta_cmd cmd;
    const char *error; /* MC_PARSE_CLIENT_ERROR: the reply line */
    bool swallow;      /* ms refused after its length was read: skip nbytes + 2 bytes */
    uint32_t nbytes;   /* ms: value length */
    const char *key;   /* the key (decoded into key_buf with b) */
    size_t nkey;
    bool binary;                /* b */
    uint64_t seen[2];           /* flag bytes present (bit per byte value below 128) */
    char order[MC_META_TOKENS]; /* flag bytes in line order */
    size_t norder;
    struct mc_token opaque; /* the O token, O included */
    bool opaque_late;       /* mg, ma: O too long; memcached finds out while writing the reply, so
                             * the command takes effect and then answers MC_META_ERR_OPAQUE */
    int32_t ttl;            /* T: client exptime */
    int32_t vivify_ttl;     /* N */
    int32_t recache_ttl;    /* R */
    uint32_t client_flags;  /* F */
    uint64_t cas;           /* C */
    uint64_t delta;         /* D (ma; default 1) */
    uint64_t initial;       /* J (ma; default 0) */
    char mode;              /* M's byte, 0 without M */
    char key_buf[MC_KEY_MAX];
};

/* Whether flag byte f was on the line. */
static inline bool mc_meta_has(const struct mc_meta_request *r, char f)
{
    unsigned char u = (unsigned char)f;
    return u < 128 && (r->seen[u >> 6] >> (u & 63) & 1u) != 0;
}

/* Whether line's first token is a meta command (mg ms md ma mn me). */
bool mc_meta_is_meta(const char *line, size_t len);

/*
 * Parses one meta request line (line end removed). MC_PARSE_OK: req is valid; MC_PARSE_ERROR:
 * answer "ERROR" (no key where one is needed); MC_PARSE_CLIENT_ERROR: answer req->error, and with
 * req->swallow skip req->nbytes + 2 bytes first. req->key may point into line or req->key_buf.
 */
enum mc_parse_status mc_meta_parse(const char *line, size_t len, struct mc_meta_request *req);

/* Base64 (memcached's flavour: bytes outside the alphabet are skipped, padding required). Decode
 * returns the decoded length, 0 on bad input; out has room for len bytes. Encode returns the length
 * written; out has room for 4 * ((len + 2) / 3) bytes. */
size_t mc_meta_base64_decode(const char *in, size_t len, char *out);
size_t mc_meta_base64_encode(const char *in, size_t len, char *out);

/* An ms between its line and the end of its value block. */
struct mc_meta_set {
    struct item *it; /* allocated item, handed to the session (MC_META_VALUE) */
    uint32_t nbytes;
    enum cache_store_mode mode;
    uint64_t cas;
    bool set_stale;             /* I */
    bool quiet;                 /* q */
    bool binary;                /* b */
    char order[MC_META_TOKENS]; /* return flags in line order: O, k, c */
    size_t norder;
    char opaque[MC_META_OPAQUE_MAX];
    size_t nopaque;
    size_t swallow; /* MC_META_SWALLOW: bytes to skip, then reply `error` */
    const char *error;
    bool no_wait; /* set by the session: refuse a value the receiving budget cannot take now
                   * instead of answering MC_META_BUSY (kept by mc_meta_exec) */
};

/*
 * The items memcached 1.6.18 would still hold for this connection when an incr, decr or ma runs.
 * memcached keeps the reference of every mg hit in its reply queue until it writes the queue out,
 * which it does after each get, gets, gat, gats and mn and once it has run out of input; an incr
 * of an item it still holds sees another holder and puts the number in a new item instead of
 * rewriting it in place (mc_arith.h): no padding, and the item's fetched, stale and token state is
 * gone. cairn queues replies differently (an mg without v queues no value at all), so the session
 * keeps one reference per such mg hit here, dropped at memcached's flush points. An md I of such a
 * key moves the reference to cairn's stale copy (memcached marks the same item). Bounded: memcached
 * also writes its queue out after 20 requests of one connection (its default -R).
 */
#define MC_META_HELD_MAX 20

struct mc_meta_held {
    struct item *it[MC_META_HELD_MAX];
    size_t n;
};

/* Drops every reference in h (memcached wrote its reply queue out). */
void mc_meta_held_release(struct cache *c, struct mc_meta_held *h);

enum mc_meta_result {
    MC_META_DONE = 0, /* answered */
    MC_META_VALUE,    /* ms: read set->nbytes + 2 bytes into set->it, then mc_meta_finish_set() */
    MC_META_SWALLOW,  /* ms refused: skip set->swallow bytes, then send set->error */
    MC_META_BUSY,     /* ms: the receiving budget is spent (mc_recv_reserve); nothing was done,
                       * run the line again later */
    MC_META_FLUSH     /* ma: out still holds values; nothing was done, run the line again once
                       * out has been written (PROTO_FLUSH, see mc_meta_exec) */
};

/* Parses and executes one meta line, appending replies to out. An mg hit leaves one reference in
 * held (released at memcached's flush points: an mn here, the others by the session). An ma waits
 * (MC_META_FLUSH) while out holds values, as memcached's queue would have been written out by then
 * (a get's) or counts in held (an mg's), so that the references cairn's queue holds do not decide
 * whether the number is rewritten in place. admin is the connection's role (protocol/auth.h): without
 * it an `me` (a debug dump) is refused with "CLIENT_ERROR permission denied". */
enum mc_meta_result mc_meta_exec(const struct mc_context *ctx, struct mc_stats *stats, const char *line,
                                 size_t len, bool admin, struct mc_meta_set *set, struct mc_meta_held *held,
                                 struct outq *out);

/* The value block of an ms has arrived (chunk_ok: it ended in "\r\n"): stores it (the caller keeps
 * its reference and releases it) and answers. */
void mc_meta_finish_set(const struct mc_context *ctx, struct mc_stats *stats, const struct mc_meta_set *set,
                        struct item *it, bool chunk_ok, struct outq *out);

#endif
