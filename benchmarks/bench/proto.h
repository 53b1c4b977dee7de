/*
 * proto.h: the wire protocols cairn-bench speaks, as a table of request writers and response parsers.
 *
 * A protocol is a struct proto_ops: write_set/write_get append one request to a buffer the caller has
 * sized (proto_request_bound), and parse reads the reply to the oldest outstanding request from the
 * start of the received bytes. The parser is pure: it never reads a socket, it only reports how many
 * bytes one whole reply took (PROTO_OK), that the reply is not complete yet (PROTO_NEED_MORE: call
 * again with more bytes; nothing is consumed), or that the bytes cannot be a reply (PROTO_BAD: the
 * stream has lost its framing and the connection must be dropped). Pointers in struct proto_reply
 * point into the caller's buffer and are valid until it changes.
 *
 * Four exist: memcache_text (proto_memcache.c), meta, memcached's meta commands ms/mg
 * (proto_meta.c), redis, RESP2 (proto_redis.c), and memcache_binary, memcached's binary protocol
 * (proto_binary.c). A protocol whose replies do not echo the key
 * (RESP) leaves proto_reply.key NULL: the caller then checks the value against the request it sent,
 * which is the reply's only possible owner since replies come in order.
 */
#ifndef CAIRN_BENCH_PROTO_H
#define CAIRN_BENCH_PROTO_H

#include <stddef.h>
#include <stdint.h>
#include <string.h>

enum proto_kind {
    PROTO_MEMCACHE_TEXT,
    PROTO_MEMCACHE_META,
    PROTO_REDIS,
    PROTO_MEMCACHE_BINARY,
};

enum proto_op {
    PROTO_OP_SET,
    PROTO_OP_GET,
};

enum proto_status {
    PROTO_OK = 0,
    PROTO_NEED_MORE,
    PROTO_BAD,
};

enum proto_reply_kind {
    PROTO_REPLY_STORED,  /* a set was stored */
    PROTO_REPLY_HIT,     /* a get found a value: key, flags, value below */
    PROTO_REPLY_MISS,    /* a get found nothing */
    PROTO_REPLY_REFUSED, /* a well-framed reply that is not success: NOT_STORED, ERROR, *_ERROR ... */
};

struct proto_reply {
    enum proto_reply_kind kind;
    const char *key; /* NULL when the protocol's hit carries no key (RESP) */
    size_t key_len;
    uint32_t flags;
    const char *value;
    size_t value_len;
    const char *line; /* the reply's first line (without \r\n) for error reports */
    size_t line_len;
};

struct proto_ops {
    const char *name;
    /* Writes a set of key/value into dst (room for proto_request_bound bytes); returns bytes written. */
    size_t (*write_set)(char *dst, const char *key, size_t key_len, const char *value, size_t value_len);
    /* Writes a get of key into dst; returns bytes written. */
    size_t (*write_get)(char *dst, const char *key, size_t key_len);
    /* Parses the reply to a request of kind op at buf[0..len); on PROTO_OK fills *reply and *used. */
    enum proto_status (*parse)(enum proto_op op, const char *buf, size_t len, struct proto_reply *reply,
                               size_t *used);
};

/* The most bytes one request of a key_len-byte key and value_len-byte value can take. */
static inline size_t proto_request_bound(size_t key_len, size_t value_len)
{
    return key_len + value_len + 64;
}

/* memcached's meta commands ms/mg, in proto_meta.c. */
extern const struct proto_ops proto_meta_ops;

/* RESP2 SET/GET, in proto_redis.c. */
extern const struct proto_ops proto_redis_ops;

/* memcached's binary protocol, SET and GETK, in proto_binary.c. */
extern const struct proto_ops proto_binary_ops;

/* Parses a protocol name into *out; returns 0, or -1 for an unknown name. */
int proto_parse_name(const char *name, enum proto_kind *out);

/* The operations of kind, or NULL for a protocol that is named but not written (none today). */
const struct proto_ops *proto_lookup(enum proto_kind kind);

/* The option spelling of kind. */
const char *proto_name(enum proto_kind kind);

/* Request writers' helpers: copy n bytes / write v in decimal at dst; both return the bytes written. */
static inline size_t proto_put(char *dst, const char *s, size_t n)
{
    memcpy(dst, s, n);
    return n;
}

static inline size_t proto_put_u64(char *dst, uint64_t v)
{
    char digits[24];
    size_t n = 0;
    do {
        digits[n++] = (char)('0' + v % 10);
        v /= 10;
    } while (v != 0);
    for (size_t i = 0; i < n; i++)
        dst[i] = digits[n - 1 - i];
    return n;
}

/* Reply parsers' helpers. The longest reply line accepted before its \r\n. */
#define PROTO_MAX_LINE 1024

/* Finds the first line of buf; returns its length without \r\n, or -1 (need more) / -2 (bad: no
 * \r before the \n, or longer than PROTO_MAX_LINE). */
static inline long proto_line_end(const char *buf, size_t len)
{
    const char *nl = memchr(buf, '\n', len < PROTO_MAX_LINE ? len : PROTO_MAX_LINE);
    if (nl == NULL)
        return len < PROTO_MAX_LINE ? -1 : -2;
    if (nl == buf || nl[-1] != '\r')
        return -2;
    return (long)(nl - 1 - buf);
}

/* Whether the line is word alone or word followed by a space and more. */
static inline int proto_line_starts(const char *line, size_t n, const char *word)
{
    size_t w = strlen(word);
    return n >= w && memcmp(line, word, w) == 0 && (n == w || line[w] == ' ');
}

/* Whether the line is memcached's ERROR, CLIENT_ERROR ... or SERVER_ERROR ... */
static inline int proto_is_error_line(const char *line, size_t n)
{
    return (n == 5 && memcmp(line, "ERROR", 5) == 0) || proto_line_starts(line, n, "CLIENT_ERROR") ||
           proto_line_starts(line, n, "SERVER_ERROR");
}

#endif
