/*
 * proto_meta.c: memcached's meta commands (1.6.18) for cairn-bench: ms to set, mg to get.
 *
 * Requests mirror what the text protocol module sends ("set <key> 0 0 <bytes>": flags 0, never
 * expires), so both protocols store the same items:
 *   set: ms <key> <bytes> T0 F0\r\n<data>\r\n
 *   get: mg <key> v f k\r\n
 * v asks for the value, f for the client flags and k for the key, so a hit can be checked as a text
 * protocol hit is: the right key, flags 0, the right length and bytes. Return flags come back in the
 * order asked for, so memcached 1.6.18 and cairn answer "VA <bytes> f<flags> k<key>".
 *
 * Replies, each read only once it is complete:
 *   ms: HD (PROTO_REPLY_STORED); NS, EX, NF, ERROR, CLIENT_ERROR <msg>, SERVER_ERROR <msg>
 *       (PROTO_REPLY_REFUSED)
 *   mg: VA <bytes> <flag>*\r\n<data>\r\n (PROTO_REPLY_HIT); EN (PROTO_REPLY_MISS; 1.6.18 echoes the
 *       key: "EN k<key>"); the three error lines (PROTO_REPLY_REFUSED)
 * A status word may be followed by return flags (" k<key>", " O<opaque>", ...); they are skipped,
 * except on VA, whose f and k must both be present exactly once (other flags, such as mg's W, X and Z,
 * are skipped). A line longer than PROTO_MAX_LINE without its \r\n, a reply that does not belong to the
 * request (HD to mg, VA to ms), a bad VA header or data not followed by \r\n is PROTO_BAD.
 * The parser is pure and incremental: nothing is consumed before the whole reply is present.
 */
#include "config.h"

#include <string.h>

#include "benchmarks/bench/proto.h"

#define MAX_VALUE ((uint64_t)1 << 40)

static size_t meta_write_set(char *dst, const char *key, size_t key_len, const char *value, size_t value_len)
{
    size_t n = proto_put(dst, "ms ", 3);
    n += proto_put(dst + n, key, key_len);
    n += proto_put(dst + n, " ", 1);
    n += proto_put_u64(dst + n, value_len);
    n += proto_put(dst + n, " T0 F0\r\n", 8);
    n += proto_put(dst + n, value, value_len);
    n += proto_put(dst + n, "\r\n", 2);
    return n;
}

static size_t meta_write_get(char *dst, const char *key, size_t key_len)
{
    size_t n = proto_put(dst, "mg ", 3);
    n += proto_put(dst + n, key, key_len);
    n += proto_put(dst + n, " v f k\r\n", 8);
    return n;
}

/* Reads the decimal number s[0..n) (at least one digit, nothing else, at most max); 0 or -1. */
static int parse_decimal(const char *s, size_t n, uint64_t max, uint64_t *out)
{
    uint64_t v = 0;
    if (n == 0)
        return -1;
    for (size_t i = 0; i < n; i++) {
        if (s[i] < '0' || s[i] > '9')
            return -1;
        v = v * 10 + (uint64_t)(s[i] - '0');
        if (v > max)
            return -1;
    }
    *out = v;
    return 0;
}

/* One return flag token tok[0..n) of a VA line: records f and k, skips the others; 0 or -1. */
static int parse_return_flag(const char *tok, size_t n, struct proto_reply *r, int *seen_f)
{
    uint64_t flags;
    switch (tok[0]) {
    case 'f':
        if (*seen_f || parse_decimal(tok + 1, n - 1, UINT32_MAX, &flags) != 0)
            return -1;
        r->flags = (uint32_t)flags;
        *seen_f = 1;
        return 0;
    case 'k':
        if (r->key != NULL || n < 2)
            return -1;
        r->key = tok + 1;
        r->key_len = n - 1;
        return 0;
    default:
        return 0;
    }
}

/* "VA <bytes> <flag>*": fills value_len, flags and key; both f and k are required. */
static int parse_va_line(const char *line, size_t n, struct proto_reply *r)
{
    const char *p = line + 3, *end = line + n;
    int seen_f = 0, field = 0;
    uint64_t bytes;
    while (p <= end) {
        const char *sp = memchr(p, ' ', (size_t)(end - p));
        const char *tok_end = sp != NULL ? sp : end;
        size_t tn = (size_t)(tok_end - p);
        if (tn == 0)
            return -1;
        if (field++ == 0) {
            if (parse_decimal(p, tn, MAX_VALUE, &bytes) != 0)
                return -1;
            r->value_len = (size_t)bytes;
        } else if (parse_return_flag(p, tn, r, &seen_f) != 0) {
            return -1;
        }
        p = tok_end + 1;
    }
    return field >= 1 && seen_f && r->key != NULL ? 0 : -1;
}

/* A hit: header line, data and \r\n, all present before it counts. */
static enum proto_status parse_hit(const char *buf, size_t len, size_t line_len, struct proto_reply *r,
                                   size_t *used)
{
    if (parse_va_line(buf, line_len, r) != 0)
        return PROTO_BAD;
    size_t data = line_len + 2;
    size_t total = data + r->value_len + 2;
    if (len < total)
        return PROTO_NEED_MORE;
    if (buf[total - 2] != '\r' || buf[total - 1] != '\n')
        return PROTO_BAD;
    r->kind = PROTO_REPLY_HIT;
    r->value = buf + data;
    *used = total;
    return PROTO_OK;
}

/* The reply to an ms whose line (not an error line) is line[0..n). */
static enum proto_status parse_set_reply(const char *line, size_t n, struct proto_reply *r)
{
    if (proto_line_starts(line, n, "HD")) {
        r->kind = PROTO_REPLY_STORED;
        return PROTO_OK;
    }
    if (proto_line_starts(line, n, "NS") || proto_line_starts(line, n, "EX") || proto_line_starts(line, n, "NF")) {
        r->kind = PROTO_REPLY_REFUSED;
        return PROTO_OK;
    }
    return PROTO_BAD;
}

static enum proto_status meta_parse(enum proto_op op, const char *buf, size_t len, struct proto_reply *r,
                                    size_t *used)
{
    long n = proto_line_end(buf, len);
    if (n < 0)
        return n == -1 ? PROTO_NEED_MORE : PROTO_BAD;
    size_t ln = (size_t)n;
    memset(r, 0, sizeof(*r));
    r->line = buf;
    r->line_len = ln;
    *used = ln + 2;
    if (proto_is_error_line(buf, ln)) {
        r->kind = PROTO_REPLY_REFUSED;
        return PROTO_OK;
    }
    if (op == PROTO_OP_SET)
        return parse_set_reply(buf, ln, r);
    if (proto_line_starts(buf, ln, "EN")) {
        r->kind = PROTO_REPLY_MISS;
        return PROTO_OK;
    }
    if (ln > 3 && memcmp(buf, "VA ", 3) == 0)
        return parse_hit(buf, len, ln, r, used);
    return PROTO_BAD;
}

const struct proto_ops proto_meta_ops = {
    .name = "meta",
    .write_set = meta_write_set,
    .write_get = meta_write_get,
    .parse = meta_parse,
};
