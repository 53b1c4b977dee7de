/*
 * proto_binary.c: memcached's binary protocol for cairn-bench (SET and GETK only), memtier's
 * memcache_binary.
 *
 * Every request and reply starts with a 24-byte header, numbers big-endian:
 *   0 magic (0x80 request, 0x81 reply)  1 opcode  2-3 key length  4 extras length  5 data type (0)
 *   6-7 vbucket (request) or status (reply)  8-11 body length (extras + key + value)  12-15 opaque
 *   16-23 CAS
 * Requests, opaque and CAS 0:
 *   SET  (0x01): extras flags (4 bytes, 0) and expiry (4 bytes, 0), then the key, then the value
 *   GETK (0x0c): no extras, the key
 * SET and GETK both answer every request, in order, so conn.c's ring matches replies to requests as
 * for the text protocols. GETK rather than GET: its hit echoes the key, which verify_hit compares
 * with the requested one (as meta's k flag lets it), so a reply that belongs to another request is
 * caught by its key rather than only by its value. GET with a per-request opaque would need the
 * request's sequence number in the parser, which the operations table does not pass.
 *
 * Replies are one header and its body each:
 *   status 0 to a SET                 PROTO_REPLY_STORED (the body is normally empty; it is skipped)
 *   status 0 to a GETK                PROTO_REPLY_HIT: 4 bytes of flags, the key, the value
 *   status 0x0001 to a GETK           PROTO_REPLY_MISS (the key or "Not found"; the body is skipped)
 *   any other non-zero status         PROTO_REPLY_REFUSED, the body's text (e.g. "Too large.") as line
 * A magic other than 0x81, an opcode other than the request's, a data type other than 0, extras and
 * key longer than the body, a hit without 4 bytes of extras or without its key, or a body over
 * MAX_BODY is PROTO_BAD: the stream's framing cannot be trusted after it. Like the other parsers this
 * one is pure and incremental: a reply counts only once all its bytes are present.
 */
#include "config.h"

#include <string.h>

#include "benchmarks/bench/proto.h"

#define HEADER_LEN  24
#define REQ_MAGIC   0x80
#define REPLY_MAGIC 0x81
#define OP_SET      0x01
#define OP_GETK     0x0c
#define SET_EXTRAS  8
#define HIT_EXTRAS  4
#define STATUS_MISS 0x0001
/* The largest value cairn-bench sends (1 GiB) plus room for extras, key and an error text. */
#define MAX_BODY (((uint32_t)1 << 30) + 4096)

static void put_be16(unsigned char *p, uint16_t v)
{
    p[0] = (unsigned char)(v >> 8);
    p[1] = (unsigned char)v;
}

static void put_be32(unsigned char *p, uint32_t v)
{
    p[0] = (unsigned char)(v >> 24);
    p[1] = (unsigned char)(v >> 16);
    p[2] = (unsigned char)(v >> 8);
    p[3] = (unsigned char)v;
}

static uint16_t get_be16(const unsigned char *p)
{
    return (uint16_t)(p[0] << 8 | p[1]);
}

static uint32_t get_be32(const unsigned char *p)
{
    return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 | (uint32_t)p[2] << 8 | p[3];
}

/* A request header with opaque and CAS 0; returns HEADER_LEN. */
static size_t put_header(char *dst, uint8_t opcode, size_t key_len, uint8_t extras_len, size_t body_len)
{
    unsigned char *h = (unsigned char *)dst;
    memset(h, 0, HEADER_LEN);
    h[0] = REQ_MAGIC;
    h[1] = opcode;
    put_be16(h + 2, (uint16_t)key_len);
    h[4] = extras_len;
    put_be32(h + 8, (uint32_t)body_len);
    return HEADER_LEN;
}

static size_t bin_write_set(char *dst, const char *key, size_t key_len, const char *value, size_t value_len)
{
    size_t n = put_header(dst, OP_SET, key_len, SET_EXTRAS, SET_EXTRAS + key_len + value_len);
    memset(dst + n, 0, SET_EXTRAS); /* flags 0, expiry 0 */
    n += SET_EXTRAS;
    n += proto_put(dst + n, key, key_len);
    n += proto_put(dst + n, value, value_len);
    return n;
}

static size_t bin_write_get(char *dst, const char *key, size_t key_len)
{
    size_t n = put_header(dst, OP_GETK, key_len, 0, key_len);
    n += proto_put(dst + n, key, key_len);
    return n;
}

/* The fields of a reply header that the parser reads. */
struct reply_header {
    uint8_t opcode;
    uint16_t key_len;
    uint8_t extras_len;
    uint16_t status;
    uint32_t body_len;
};

/* Reads and checks the header at h for a reply to op; returns -1 when it cannot be one. */
static int read_header(enum proto_op op, const unsigned char *h, struct reply_header *out)
{
    out->opcode = h[1];
    out->key_len = get_be16(h + 2);
    out->extras_len = h[4];
    out->status = get_be16(h + 6);
    out->body_len = get_be32(h + 8);
    if (h[0] != REPLY_MAGIC || h[5] != 0 || out->opcode != (op == PROTO_OP_SET ? OP_SET : OP_GETK))
        return -1;
    if (out->body_len > MAX_BODY || (uint32_t)out->extras_len + out->key_len > out->body_len)
        return -1;
    return 0;
}

/* Fills a GETK hit's key, flags and value from its body; returns -1 when the body is not a hit's. */
static int fill_hit(const struct reply_header *rh, const char *body, struct proto_reply *r)
{
    if (rh->extras_len != HIT_EXTRAS || rh->key_len == 0)
        return -1;
    r->flags = get_be32((const unsigned char *)body);
    r->key = body + HIT_EXTRAS;
    r->key_len = rh->key_len;
    r->value = r->key + rh->key_len;
    r->value_len = rh->body_len - HIT_EXTRAS - rh->key_len;
    r->line = r->key; /* the key names the reply in an error report */
    r->line_len = r->key_len;
    return 0;
}

static enum proto_status bin_parse(enum proto_op op, const char *buf, size_t len, struct proto_reply *r,
                                   size_t *used)
{
    if (len < HEADER_LEN)
        return PROTO_NEED_MORE;
    struct reply_header rh;
    if (read_header(op, (const unsigned char *)buf, &rh) != 0)
        return PROTO_BAD;
    size_t total = HEADER_LEN + (size_t)rh.body_len;
    if (len < total)
        return PROTO_NEED_MORE;
    const char *body = buf + HEADER_LEN;
    memset(r, 0, sizeof(*r));
    *used = total;
    if (rh.status != 0) {
        size_t skip = (size_t)rh.extras_len + rh.key_len;
        r->line = body + skip;
        r->line_len = rh.body_len - skip;
        r->kind = op == PROTO_OP_GET && rh.status == STATUS_MISS ? PROTO_REPLY_MISS : PROTO_REPLY_REFUSED;
        return PROTO_OK;
    }
    if (op == PROTO_OP_SET) {
        r->kind = PROTO_REPLY_STORED;
        return PROTO_OK;
    }
    r->kind = PROTO_REPLY_HIT;
    return fill_hit(&rh, body, r) == 0 ? PROTO_OK : PROTO_BAD;
}

const struct proto_ops proto_binary_ops = {
    .name = "memcache_binary",
    .write_set = bin_write_set,
    .write_get = bin_write_get,
    .parse = bin_parse,
};
