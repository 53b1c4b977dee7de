/*
 * proto_memcache.c: memcached's classic text protocol for cairn-bench, and the protocol table
 * (names and lookup for every protocol; meta's operations live in proto_meta.c, RESP's in
 * proto_redis.c, the binary protocol's in proto_binary.c).
 *
 * Requests: "set <key> 0 0 <bytes>\r\n<data>\r\n" and "get <key>\r\n" (one key per get, so replies
 * match requests one to one). Replies:
 *   set: STORED | NOT_STORED | EXISTS | NOT_FOUND | ERROR | CLIENT_ERROR <msg> | SERVER_ERROR <msg>
 *   get: END | VALUE <key> <flags> <bytes> [<cas>]\r\n<data>\r\nEND | one of the error lines
 * A reply is parsed only once it is complete; a line longer than PROTO_MAX_LINE without its \r\n, or a
 * line that none of the above describes, is PROTO_BAD.
 */
#include "config.h"

#include <stdlib.h>
#include <string.h>

#include "benchmarks/bench/proto.h"


static size_t mc_write_set(char *dst, const char *key, size_t key_len, const char *value, size_t value_len)
{
    size_t n = proto_put(dst, "set ", 4);
    n += proto_put(dst + n, key, key_len);
    n += proto_put(dst + n, " 0 0 ", 5);
    n += proto_put_u64(dst + n, value_len);
    n += proto_put(dst + n, "\r\n", 2);
    n += proto_put(dst + n, value, value_len);
    n += proto_put(dst + n, "\r\n", 2);
    return n;
}

static size_t mc_write_get(char *dst, const char *key, size_t key_len)
{
    size_t n = proto_put(dst, "get ", 4);
    n += proto_put(dst + n, key, key_len);
    n += proto_put(dst + n, "\r\n", 2);
    return n;
}

static int line_is(const char *line, size_t n, const char *word)
{
    size_t w = strlen(word);
    return n == w && memcmp(line, word, w) == 0;
}

/* Reads a decimal number at *p (below end) followed by a space or end; advances *p. */
static int parse_number(const char **p, const char *end, uint64_t *out)
{
    const char *s = *p;
    uint64_t v = 0;
    if (s == end || *s < '0' || *s > '9')
        return -1;
    while (s < end && *s >= '0' && *s <= '9') {
        if (v > (UINT64_MAX - 9) / 10)
            return -1;
        v = v * 10 + (uint64_t)(*s++ - '0');
    }
    if (s < end && *s != ' ')
        return -1;
    *p = s < end ? s + 1 : s;
    *out = v;
    return 0;
}

/* "VALUE <key> <flags> <bytes> [<cas>]": fills key, flags and value_len. */
static int parse_value_line(const char *line, size_t n, struct proto_reply *r)
{
    const char *p = line + 6, *end = line + n;
    const char *sp = memchr(p, ' ', (size_t)(end - p));
    uint64_t flags, bytes;
    if (sp == NULL || sp == p)
        return -1;
    r->key = p;
    r->key_len = (size_t)(sp - p);
    p = sp + 1;
    if (parse_number(&p, end, &flags) != 0 || flags > UINT32_MAX)
        return -1;
    if (parse_number(&p, end, &bytes) != 0 || bytes > ((uint64_t)1 << 40))
        return -1;
    r->flags = (uint32_t)flags;
    r->value_len = (size_t)bytes;
    return 0;
}

/* A hit: header line, data, \r\n, END\r\n, all present before it counts. */
static enum proto_status parse_hit(const char *buf, size_t len, size_t line_len, struct proto_reply *r,
                                   size_t *used)
{
    if (parse_value_line(buf, line_len, r) != 0)
        return PROTO_BAD;
    size_t data = line_len + 2;
    size_t total = data + r->value_len + 2 + 5;
    if (len < total)
        return PROTO_NEED_MORE;
    const char *tail = buf + data + r->value_len;
    if (memcmp(tail, "\r\nEND\r\n", 7) != 0)
        return PROTO_BAD;
    r->kind = PROTO_REPLY_HIT;
    r->value = buf + data;
    *used = total;
    return PROTO_OK;
}

static enum proto_status mc_parse(enum proto_op op, const char *buf, size_t len, struct proto_reply *r,
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
    if (op == PROTO_OP_SET) {
        if (line_is(buf, ln, "STORED")) {
            r->kind = PROTO_REPLY_STORED;
            return PROTO_OK;
        }
        if (line_is(buf, ln, "NOT_STORED") || line_is(buf, ln, "EXISTS") || line_is(buf, ln, "NOT_FOUND")) {
            r->kind = PROTO_REPLY_REFUSED;
            return PROTO_OK;
        }
        return PROTO_BAD;
    }
    if (line_is(buf, ln, "END")) {
        r->kind = PROTO_REPLY_MISS;
        return PROTO_OK;
    }
    if (proto_line_starts(buf, ln, "VALUE"))
        return parse_hit(buf, len, ln, r, used);
    return PROTO_BAD;
}

static const struct proto_ops memcache_text_ops = {
    .name = "memcache_text",
    .write_set = mc_write_set,
    .write_get = mc_write_get,
    .parse = mc_parse,
};

static const char *const names[] = {
    [PROTO_MEMCACHE_TEXT] = "memcache_text",
    [PROTO_MEMCACHE_META] = "meta",
    [PROTO_REDIS] = "redis",
    [PROTO_MEMCACHE_BINARY] = "memcache_binary",
};

/* Linear search over the names. */
int proto_parse_name(const char *name, enum proto_kind *out)
{
    for (size_t i = 0; i < sizeof(names) / sizeof(names[0]); i++) {
        if (strcmp(name, names[i]) == 0) {
            *out = (enum proto_kind)i;
            return 0;
        }
    }
    return -1;
}

/* The operations table of each protocol. */
const struct proto_ops *proto_lookup(enum proto_kind kind)
{
    switch (kind) {
    case PROTO_MEMCACHE_TEXT:
        return &memcache_text_ops;
    case PROTO_MEMCACHE_META:
        return &proto_meta_ops;
    case PROTO_REDIS:
        return &proto_redis_ops;
    case PROTO_MEMCACHE_BINARY:
        return &proto_binary_ops;
    default:
        return NULL;
    }
}

/* The table above. */
const char *proto_name(enum proto_kind kind)
{
    return names[kind];
}
