/*
 * proto_redis.c: Redis's RESP2 protocol for cairn-bench (SET and GET only).
 *
 * Requests are arrays of bulk strings, the form every Redis client sends:
 *   SET: *3\r\n$3\r\nSET\r\n$<klen>\r\n<key>\r\n$<vlen>\r\n<value>\r\n
 *   GET: *2\r\n$3\r\nGET\r\n$<klen>\r\n<key>\r\n
 * With at most KS_KEY_MAX_LEN-byte keys and values below 2^30 bytes, the framing takes at most 36
 * bytes, inside proto_request_bound's 64.
 *
 * Replies are one RESP2 value each, read in order:
 *   +OK\r\n             a SET stored (PROTO_REPLY_STORED)
 *   $<n>\r\n<n bytes>\r\n a GET hit (PROTO_REPLY_HIT: value below; RESP carries no key and no flags,
 *                       so the reply's key is NULL and flags 0, and the caller checks value only)
 *   $-1\r\n             a GET miss (PROTO_REPLY_MISS)
 *   -<message>\r\n      an error, e.g. -OOM or -WRONGTYPE (PROTO_REPLY_REFUSED)
 * Any other well-framed simple value (+ other than OK, :integer, a bulk reply to a SET, +OK to a GET)
 * is not success either and is PROTO_REPLY_REFUSED. An array (*), an unknown type byte, a line longer
 * than PROTO_MAX_LINE without its \r\n, a bad length or a bulk not followed by \r\n is PROTO_BAD: the
 * stream's framing cannot be trusted after it. Like the memcache parser this one is pure and
 * incremental: a reply counts only once all its bytes are present, and nothing is consumed before.
 */
#include "config.h"

#include <string.h>

#include "benchmarks/bench/proto.h"

#define MAX_BULK ((uint64_t)1 << 40)

/* Appends one bulk string: $<len>\r\n<bytes>\r\n. */
static size_t put_bulk(char *dst, const char *s, size_t len)
{
    size_t n = proto_put(dst, "$", 1);
    n += proto_put_u64(dst + n, len);
    n += proto_put(dst + n, "\r\n", 2);
    n += proto_put(dst + n, s, len);
    n += proto_put(dst + n, "\r\n", 2);
    return n;
}

static size_t redis_write_set(char *dst, const char *key, size_t key_len, const char *value, size_t value_len)
{
    size_t n = proto_put(dst, "*3\r\n$3\r\nSET\r\n", 13);
    n += put_bulk(dst + n, key, key_len);
    n += put_bulk(dst + n, value, value_len);
    return n;
}

static size_t redis_write_get(char *dst, const char *key, size_t key_len)
{
    size_t n = proto_put(dst, "*2\r\n$3\r\nGET\r\n", 13);
    n += put_bulk(dst + n, key, key_len);
    return n;
}

/* The length of a bulk header line "$<digits>" or "$-1": 0 and *len set, 1 for nil, -1 if bad. */
static int bulk_length(const char *line, size_t n, uint64_t *len)
{
    if (n == 3 && memcmp(line, "$-1", 3) == 0)
        return 1;
    if (n < 2)
        return -1;
    uint64_t v = 0;
    for (size_t i = 1; i < n; i++) {
        if (line[i] < '0' || line[i] > '9' || v > MAX_BULK)
            return -1;
        v = v * 10 + (uint64_t)(line[i] - '0');
    }
    if (v > MAX_BULK)
        return -1;
    *len = v;
    return 0;
}

/* A bulk reply whose header line (ln bytes) is at buf: frames it and fills value, or nil. */
static enum proto_status parse_bulk(const char *buf, size_t len, size_t ln, struct proto_reply *r,
                                    size_t *used, int *nil)
{
    uint64_t vlen = 0;
    int b = bulk_length(buf, ln, &vlen);
    if (b < 0)
        return PROTO_BAD;
    *nil = b == 1;
    if (*nil) {
        *used = ln + 2;
        return PROTO_OK;
    }
    size_t total = ln + 2 + (size_t)vlen + 2;
    if (len < total)
        return PROTO_NEED_MORE;
    if (buf[total - 2] != '\r' || buf[total - 1] != '\n')
        return PROTO_BAD;
    r->value = buf + ln + 2;
    r->value_len = (size_t)vlen;
    *used = total;
    return PROTO_OK;
}

/* The kind of a well-framed reply of type t to a request of kind op. */
static enum proto_reply_kind reply_kind(enum proto_op op, char t, int nil, const char *line, size_t ln)
{
    if (op == PROTO_OP_SET)
        return t == '+' && ln == 3 && memcmp(line, "+OK", 3) == 0 ? PROTO_REPLY_STORED : PROTO_REPLY_REFUSED;
    if (t != '$')
        return PROTO_REPLY_REFUSED;
    return nil ? PROTO_REPLY_MISS : PROTO_REPLY_HIT;
}

static enum proto_status redis_parse(enum proto_op op, const char *buf, size_t len, struct proto_reply *r,
                                     size_t *used)
{
    long n = proto_line_end(buf, len);
    if (n < 0)
        return n == -1 ? PROTO_NEED_MORE : PROTO_BAD;
    size_t ln = (size_t)n;
    if (ln == 0)
        return PROTO_BAD;
    memset(r, 0, sizeof(*r));
    r->line = buf;
    r->line_len = ln;
    *used = ln + 2;
    char t = buf[0];
    int nil = 0;
    if (t == '$') {
        enum proto_status st = parse_bulk(buf, len, ln, r, used, &nil);
        if (st != PROTO_OK)
            return st;
    } else if (t != '+' && t != '-' && t != ':') {
        return PROTO_BAD;
    }
    r->kind = reply_kind(op, t, nil, buf, ln);
    return PROTO_OK;
}

const struct proto_ops proto_redis_ops = {
    .name = "redis",
    .write_set = redis_write_set,
    .write_get = redis_write_get,
    .parse = redis_parse,
};
