/*
 * fuzz_parse.c: libFuzzer target for the request-line parsers, classic (mc_parse_line) and meta
 * (mc_meta_parse), and the meta protocol's base64 codec.
 *
 * The input is one request line without its line end, as the session hands it over. Each parser is
 * a pure function of its input, so besides the sanitizers' own checks the target asserts what the
 * session relies on:
 *
 * - every pointer the request carries (tokens, key, get keys) lies inside the line, or for a decoded
 *   meta key inside the request's key_buf;
 * - a key accepted for execution is 1..MC_KEY_MAX bytes;
 * - an error status comes with a reply line that ends in "\r\n" and has no other line end;
 * - a refused ms that must swallow its value has read the value length;
 * - base64: what encode writes, decode gives back unchanged.
 *
 * The line is copied into a buffer of exactly its length, so a read past its end is caught.
 */
#include "config.h"

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "protocol/mc/mc_meta.h"
#include "protocol/mc/mc_parse.h"
#include "storage/item.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define FUZZ_CHECK(cond)                                                                         \
    do {                                                                                         \
        if (!(cond)) {                                                                           \
            fprintf(stderr, "fuzz_parse: check failed at line %d: %s\n", __LINE__, #cond);       \
            abort();                                                                             \
        }                                                                                        \
    } while (0)

/* Whether [p, p + n) lies inside [base, base + len). */
static int inside(const char *p, size_t n, const char *base, size_t len)
{
    return p >= base && (size_t)(p - base) <= len && n <= len - (size_t)(p - base);
}

/* An error reply: one line, "\r\n" at its end and nowhere else. */
static void check_reply_line(const char *s)
{
    FUZZ_CHECK(s != NULL);
    size_t n = strlen(s);
    FUZZ_CHECK(n >= 3 && s[n - 2] == '\r' && s[n - 1] == '\n');
    FUZZ_CHECK(memchr(s, '\n', n - 1) == NULL);
}

static void check_classic(const char *line, size_t len)
{
    struct mc_request req;
    memset(&req, 0xa5, sizeof(req));
    enum mc_parse_status st = mc_parse_line(line, len, &req);

    switch (st) {
    case MC_PARSE_OK:
        break;
    case MC_PARSE_CLIENT_ERROR:
        check_reply_line(req.error);
        return;
    case MC_PARSE_ERROR:
    case MC_PARSE_CLOSE:
        return;
    default:
        FUZZ_CHECK(!"unknown parse status");
    }
    FUZZ_CHECK(req.ntokens >= 1 && req.ntokens <= MC_PARSE_TOKENS);
    for (size_t i = 0; i < req.ntokens; i++) {
        FUZZ_CHECK(req.tokens[i].len > 0);
        FUZZ_CHECK(inside(req.tokens[i].p, req.tokens[i].len, line, len));
        FUZZ_CHECK(memchr(req.tokens[i].p, ' ', req.tokens[i].len) == NULL);
    }
    switch (req.cmd) {
    case MC_CMD_GET:
    case MC_CMD_GETS:
    case MC_CMD_GAT:
    case MC_CMD_GATS: {
        FUZZ_CHECK(req.keys <= req.keys_end);
        FUZZ_CHECK(inside(req.keys, (size_t)(req.keys_end - req.keys), line, len));
        /* The executor walks the keys with mc_parse_next_token: each one must be a plain key. */
        const char *pos = req.keys;
        struct mc_token t;
        size_t nkeys = 0;
        while (mc_parse_next_token(&pos, req.keys_end, &t)) {
            FUZZ_CHECK(t.len > 0 && inside(t.p, t.len, req.keys, (size_t)(req.keys_end - req.keys)));
            nkeys++;
        }
        FUZZ_CHECK(pos == req.keys_end);
        (void)nkeys;
        break;
    }
    case MC_CMD_SET:
    case MC_CMD_ADD:
    case MC_CMD_REPLACE:
    case MC_CMD_APPEND:
    case MC_CMD_PREPEND:
    case MC_CMD_CAS:
    case MC_CMD_INCR:
    case MC_CMD_DECR:
    case MC_CMD_DELETE:
    case MC_CMD_TOUCH:
        FUZZ_CHECK(req.key.len >= 1 && req.key.len <= MC_KEY_MAX);
        FUZZ_CHECK(inside(req.key.p, req.key.len, line, len));
        FUZZ_CHECK(memchr(req.key.p, ' ', req.key.len) == NULL);
        break;
    default:
        break;
    }
}

static void check_meta(const char *line, size_t len)
{
    struct mc_meta_request req;
    memset(&req, 0xa5, sizeof(req));
    /* The session hands the meta parser only lines mc_meta_is_meta() accepts. */
    if (!mc_meta_is_meta(line, len))
        return;
    enum mc_parse_status st = mc_meta_parse(line, len, &req);

    if (st == MC_PARSE_CLIENT_ERROR) {
        check_reply_line(req.error);
        return;
    }
    if (st != MC_PARSE_OK)
        return;
    FUZZ_CHECK(req.cmd >= MC_META_MG && req.cmd <= MC_META_ME);
    FUZZ_CHECK(req.norder <= MC_META_TOKENS);
    for (size_t i = 0; i < req.norder; i++)
        FUZZ_CHECK(mc_meta_has(&req, req.order[i]));
    if (req.cmd != MC_META_MN) {
        FUZZ_CHECK(req.nkey >= 1 && req.nkey <= MC_KEY_MAX);
        FUZZ_CHECK(inside(req.key, req.nkey, line, len) || inside(req.key, req.nkey, req.key_buf, sizeof(req.key_buf)));
    }
    if (mc_meta_has(&req, 'O') && !req.opaque_late) {
        FUZZ_CHECK(req.opaque.len >= 1 && req.opaque.len <= MC_META_OPAQUE_MAX);
        FUZZ_CHECK(inside(req.opaque.p, req.opaque.len, line, len));
    }
}

/* decode(encode(x)) == x for any bytes x (keys up to MC_KEY_MAX). */
static void check_base64(const uint8_t *data, size_t size)
{
    char enc[4 * ((MC_KEY_MAX + 2) / 3)];
    char dec[sizeof(enc)];
    size_t n = size < MC_KEY_MAX ? size : MC_KEY_MAX;
    if (n == 0)
        return;
    size_t e = mc_meta_base64_encode((const char *)data, n, enc);
    FUZZ_CHECK(e == 4 * ((n + 2) / 3));
    size_t d = mc_meta_base64_decode(enc, e, dec);
    FUZZ_CHECK(d == n && memcmp(dec, data, n) == 0);
    /* And decoding arbitrary text stays within the output it was given. */
    char *in = malloc(n);
    char *out = malloc(n);
    FUZZ_CHECK(in && out);
    memcpy(in, data, n);
    FUZZ_CHECK(mc_meta_base64_decode(in, n, out) <= n);
    free(in);
    free(out);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    /* An exact-size copy: any read past the line's end is an ASan finding. */
    char *line = malloc(size ? size : 1);
    if (line == NULL)
        return 0;
    memcpy(line, data, size);
    check_classic(line, size);
    check_meta(line, size);
    free(line);
    check_base64(data, size);
    return 0;
}
