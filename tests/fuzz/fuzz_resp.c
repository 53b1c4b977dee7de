/*
 * fuzz_resp.c: libFuzzer target for the RESP request parser (protocol/resp/resp_parse.h).
 *
 * The input's first byte picks how the rest is fed and with which limits; the rest is the byte stream
 * a client sent. The stream is parsed three ways and each way writes a transcript (every command's
 * arguments, then the final status and error line):
 *   whole   the stream in one buffer, commands taken one by one as a pipeline;
 *   split   the stream in chunks of 1..16 bytes (sizes from the first byte), each chunk a fresh
 *           allocation freed as soon as the parser asks for more, so an argument left pointing into
 *           an old chunk reads freed memory (ASan) or wrong bytes (the comparison);
 *   into    as split, and a pending bulk argument is handed a destination of its own
 *           (resp_parser_bulk_into), as a server receiving a value into its item will do.
 * What must hold: the three transcripts are equal (how a stream is cut never changes what it means),
 * no command has more arguments than its limit or an argument longer than max_bulk_len, and an error
 * is one of Redis's protocol error lines.
 */
#include "config.h"

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "protocol/resp/resp_parse.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define FUZZ_CHECK(cond)                                                                         \
    do {                                                                                         \
        if (!(cond)) {                                                                           \
            fprintf(stderr, "fuzz_resp: check failed at line %d: %s\n", __LINE__, #cond);        \
            abort();                                                                             \
        }                                                                                        \
    } while (0)

enum feed_mode { FEED_WHOLE, FEED_SPLIT, FEED_INTO };

/* A growing transcript. */
struct log {
    char *p;
    size_t len, cap;
};

static void log_add(struct log *l, const void *p, size_t n)
{
    if (l->len + n > l->cap) {
        size_t cap = l->cap ? l->cap : 256;
        while (cap < l->len + n)
            cap *= 2;
        l->p = realloc(l->p, cap);
        FUZZ_CHECK(l->p != NULL);
        l->cap = cap;
    }
    memcpy(l->p + l->len, p, n);
    l->len += n;
}

static void log_num(struct log *l, size_t v)
{
    log_add(l, &v, sizeof(v));
}

static void log_command(struct log *l, const struct resp_args *a, const struct resp_parser_options *o)
{
    /* The count and length limits are multibulk's; an inline line is bounded by its 64 KiB. */
    FUZZ_CHECK(a->argc > 0 && (a->is_inline || (long long)a->argc <= o->max_multibulk_len));
    log_num(l, a->argc);
    log_num(l, a->is_inline);
    for (size_t i = 0; i < a->argc; i++) {
        FUZZ_CHECK(a->argv[i] != NULL);
        FUZZ_CHECK(a->is_inline || (long long)a->argl[i] <= o->max_bulk_len);
        log_num(l, a->argl[i]);
        log_add(l, a->argv[i], a->argl[i]);
    }
}

static void log_end(struct log *l, enum resp_parse_status st, const char *err)
{
    log_num(l, 1000 + (size_t)st);
    if (st == RESP_PARSE_ERROR) {
        FUZZ_CHECK(err != NULL && strncmp(err, "-ERR Protocol error: ", 21) == 0);
        size_t n = strlen(err);
        FUZZ_CHECK(n >= 2 && err[n - 2] == '\r' && err[n - 1] == '\n');
        log_add(l, err, n);
    }
}

/* Offers buf[0..n) to p, taking commands until it needs more; returns the status it stopped at. */
static enum resp_parse_status drain(struct resp_parser *p, const char *buf, size_t n, struct log *l,
                                    const struct resp_parser_options *o, const char **err)
{
    for (;;) {
        size_t used = 0;
        struct resp_args a;
        enum resp_parse_status st = resp_parse(p, buf, n, &used, &a, err);
        FUZZ_CHECK(used <= n);
        if (st != RESP_PARSE_OK) {
            FUZZ_CHECK(st != RESP_PARSE_NEED_MORE || used == n);
            return st;
        }
        log_command(l, &a, o);
        buf += used;
        n -= used;
    }
}

static void run(const uint8_t *in, size_t n, uint8_t seed, enum feed_mode mode,
                const struct resp_parser_options *o, struct log *l)
{
    struct resp_parser *p = resp_parser_create(o);
    FUZZ_CHECK(p != NULL);
    const char *err = NULL;
    enum resp_parse_status st = RESP_PARSE_NEED_MORE;
    char *dst = NULL;
    size_t off = 0;
    unsigned step = seed;

    if (mode == FEED_WHOLE) {
        st = drain(p, (const char *)in, n, l, o, &err);
    } else {
        while (off < n && st == RESP_PARSE_NEED_MORE) {
            step = step * 1103515245u + 12345u;
            size_t m = 1 + (step >> 16) % 16;
            if (m > n - off)
                m = n - off;
            char *chunk = malloc(m);
            FUZZ_CHECK(chunk != NULL);
            memcpy(chunk, in + off, m);
            off += m;
            st = drain(p, chunk, m, l, o, &err);
            struct resp_pending_bulk pb;
            if (st == RESP_PARSE_NEED_MORE && mode == FEED_INTO && dst == NULL &&
                resp_parser_pending_bulk(p, &pb) && pb.len > 0 && pb.len <= 1u << 20) {
                dst = malloc(pb.len);
                FUZZ_CHECK(dst != NULL);
                FUZZ_CHECK(resp_parser_bulk_into(p, dst));
            }
            if (dst != NULL && !resp_parser_pending_bulk(p, &pb) && !resp_parser_mid_request(p)) {
                /* the command that used dst is logged; the next bulk may get one of its own */
                free(dst);
                dst = NULL;
            }
            /* A command logged from this chunk was copied into the log before it is freed. */
            memset(chunk, 0xa5, m);
            free(chunk);
        }
    }
    log_end(l, st, err);
    resp_parser_destroy(&p);
    FUZZ_CHECK(p == NULL);
    free(dst);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size < 1)
        return 0;
    uint8_t seed = data[0];
    struct resp_parser_options o;
    resp_parser_options_default(&o);
    if (seed & 0x80) {
        o.max_bulk_len = 64; /* small limits, as a server with a small item size would set */
        o.max_multibulk_len = 16;
    }
    struct log whole = {0}, split = {0}, into = {0};
    run(data + 1, size - 1, seed, FEED_WHOLE, &o, &whole);
    run(data + 1, size - 1, seed, FEED_SPLIT, &o, &split);
    run(data + 1, size - 1, seed, FEED_INTO, &o, &into);
    FUZZ_CHECK(whole.len == split.len && memcmp(whole.p, split.p, whole.len) == 0);
    FUZZ_CHECK(whole.len == into.len && memcmp(whole.p, into.p, whole.len) == 0);
    free(whole.p);
    free(split.p);
    free(into.p);
    return 0;
}
