/*
 * test_mcbin_parse.c: the binary protocol's header parser, table-driven. Every row is one request
 * header (magic, opcode and the three lengths) and what memcached 1.6.18 does with it: execute it
 * (which command, quiet or not, how long its value is), answer "Unknown command" and skip some bytes,
 * answer an error and close, or close without a reply. The rows were checked against a running
 * memcached 1.6.18 fed the same bytes.
 *
 * Each row's request is also offered cut short at every length below its head (header, extras, key):
 * the parser must ask for more every time (except that a bad magic is judged on the header alone).
 */
#include <criterion/criterion.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "protocol/mcbin/mcbin_parse.h"

struct row {
    const char *name;
    uint8_t magic, opcode, extlen;
    uint16_t keylen;
    uint32_t bodylen;
    enum mcbin_parse_status st;
    enum mcbin_cmd cmd;
    bool quiet;
    enum mcbin_status error; /* MCBIN_PARSE_ERROR_CLOSE */
    uint32_t swallow;        /* MCBIN_CMD_NONE */
    uint32_t vlen;
};

#define OK(n, op, e, k, b, c, q, v)                                                                          \
    {                                                                                                        \
        n, 0x80, op, e, k, b, MCBIN_PARSE_OK, c, q, 0, 0, v                                                  \
    }
#define BAD(n, op, e, k, b)                                                                                  \
    {                                                                                                        \
        n, 0x80, op, e, k, b, MCBIN_PARSE_ERROR_CLOSE, 0, false, MCBIN_ST_EINVAL, 0, 0                       \
    }
#define UNKNOWN(n, op, e, k, b, sw)                                                                          \
    {                                                                                                        \
        n, 0x80, op, e, k, b, MCBIN_PARSE_OK, MCBIN_CMD_NONE, false, 0, sw, 0                                \
    }
#define UNK_CLOSE(n, op, e, k, b)                                                                            \
    {                                                                                                        \
        n, 0x80, op, e, k, b, MCBIN_PARSE_ERROR_CLOSE, 0, false, MCBIN_ST_UNKNOWN_COMMAND, 0, 0              \
    }

static const struct row rows[] = {
    /* retrieval */
    OK("get", 0x00, 0, 3, 3, MCBIN_CMD_GET, false, 0),
    OK("getq", 0x09, 0, 3, 3, MCBIN_CMD_GET, true, 0),
    OK("getk", 0x0c, 0, 3, 3, MCBIN_CMD_GETK, false, 0),
    OK("getkq", 0x0d, 0, 3, 3, MCBIN_CMD_GETK, true, 0),
    BAD("get no key", 0x00, 0, 0, 0),
    BAD("get extras", 0x00, 4, 3, 7),
    BAD("get value", 0x00, 0, 3, 5),
    BAD("getkq no key", 0x0d, 0, 0, 0),
    OK("get key 250", 0x00, 0, 250, 250, MCBIN_CMD_GET, false, 0),
    BAD("get key 251", 0x00, 0, 251, 251),
    OK("touch", 0x1c, 4, 3, 7, MCBIN_CMD_TOUCH, false, 0),
    OK("gat", 0x1d, 4, 3, 7, MCBIN_CMD_GAT, false, 0),
    OK("gatq", 0x1e, 4, 3, 7, MCBIN_CMD_GAT, true, 0),
    OK("gatk", 0x23, 4, 3, 7, MCBIN_CMD_GATK, false, 0),
    OK("gatkq", 0x24, 4, 3, 7, MCBIN_CMD_GATK, true, 0),
    OK("touch body longer (not checked)", 0x1c, 4, 3, 9, MCBIN_CMD_TOUCH, false, 2),
    BAD("touch no extras", 0x1c, 0, 3, 3),
    BAD("gat no key", 0x1d, 4, 0, 4),
    BAD("gatk extras 8", 0x23, 8, 3, 11),
    /* storage */
    OK("set", 0x01, 8, 3, 16, MCBIN_CMD_SET, false, 5),
    OK("setq", 0x11, 8, 3, 16, MCBIN_CMD_SET, true, 5),
    OK("add", 0x02, 8, 3, 11, MCBIN_CMD_ADD, false, 0),
    OK("addq", 0x12, 8, 3, 11, MCBIN_CMD_ADD, true, 0),
    OK("replace", 0x03, 8, 1, 100, MCBIN_CMD_REPLACE, false, 91),
    OK("replaceq", 0x13, 8, 1, 9, MCBIN_CMD_REPLACE, true, 0),
    BAD("set no extras", 0x01, 0, 3, 8),
    BAD("set extras 4", 0x01, 4, 3, 8),
    BAD("set no key", 0x01, 8, 0, 8),
    OK("append", 0x0e, 0, 3, 5, MCBIN_CMD_APPEND, false, 2),
    OK("appendq", 0x19, 0, 3, 3, MCBIN_CMD_APPEND, true, 0),
    OK("prepend", 0x0f, 0, 3, 5, MCBIN_CMD_PREPEND, false, 2),
    OK("prependq", 0x1a, 0, 3, 5, MCBIN_CMD_PREPEND, true, 2),
    BAD("append extras", 0x0e, 8, 3, 13),
    BAD("append no key", 0x0e, 0, 0, 2),
    /* delete, arithmetic */
    OK("delete", 0x04, 0, 3, 3, MCBIN_CMD_DELETE, false, 0),
    OK("deleteq", 0x14, 0, 3, 3, MCBIN_CMD_DELETE, true, 0),
    BAD("delete value", 0x04, 0, 3, 4),
    BAD("delete extras", 0x04, 4, 3, 7),
    OK("incr", 0x05, 20, 3, 23, MCBIN_CMD_INCR, false, 0),
    OK("incrq", 0x15, 20, 3, 23, MCBIN_CMD_INCR, true, 0),
    OK("decr", 0x06, 20, 3, 23, MCBIN_CMD_DECR, false, 0),
    OK("decrq", 0x16, 20, 3, 23, MCBIN_CMD_DECR, true, 0),
    BAD("incr extras 8", 0x05, 8, 3, 11),
    BAD("incr value", 0x05, 20, 3, 24),
    BAD("decr no key", 0x06, 20, 0, 20),
    /* no key */
    OK("noop", 0x0a, 0, 0, 0, MCBIN_CMD_NOOP, false, 0),
    BAD("noop body", 0x0a, 0, 0, 2),
    BAD("noop key", 0x0a, 0, 1, 1),
    OK("version", 0x0b, 0, 0, 0, MCBIN_CMD_VERSION, false, 0),
    BAD("version extras", 0x0b, 4, 0, 4),
    OK("quit", 0x07, 0, 0, 0, MCBIN_CMD_QUIT, false, 0),
    OK("quitq", 0x17, 0, 0, 0, MCBIN_CMD_QUIT, true, 0),
    BAD("quit body", 0x07, 0, 0, 1),
    OK("flush", 0x08, 0, 0, 0, MCBIN_CMD_FLUSH, false, 0),
    OK("flush exptime", 0x08, 4, 0, 4, MCBIN_CMD_FLUSH, false, 0),
    OK("flushq", 0x18, 0, 0, 0, MCBIN_CMD_FLUSH, true, 0),
    BAD("flush extras 8", 0x08, 8, 0, 8),
    BAD("flush key", 0x08, 0, 1, 1),
    BAD("flush value", 0x08, 4, 0, 6),
    OK("stat", 0x10, 0, 0, 0, MCBIN_CMD_STAT, false, 0),
    OK("stat key", 0x10, 0, 8, 8, MCBIN_CMD_STAT, false, 0),
    OK("stat value (left in the stream)", 0x10, 0, 5, 7, MCBIN_CMD_STAT, false, 2),
    BAD("stat extras", 0x10, 4, 0, 4),
    /* SASL without SASL, VERBOSITY and unknown opcodes */
    UNKNOWN("sasl list mechs", 0x20, 0, 0, 0, 0),
    BAD("sasl list mechs body", 0x20, 0, 0, 3),
    UNKNOWN("sasl auth", 0x21, 0, 5, 8, 3),
    UNKNOWN("sasl step", 0x22, 0, 5, 5, 0),
    BAD("sasl auth no key", 0x21, 0, 0, 3),
    BAD("sasl auth extras", 0x21, 4, 5, 9),
    UNKNOWN("verbosity", 0x1b, 4, 0, 4, 4),
    UNKNOWN("verbosity no extras", 0x1b, 0, 0, 0, 0),
    UNKNOWN("0x1f", 0x1f, 0, 0, 0, 0),
    UNKNOWN("unknown with key", 0x50, 0, 2, 2, 2),
    UNKNOWN("unknown with everything", 0xff, 4, 2, 10, 10),
    BAD("unknown key 251", 0x50, 0, 251, 251),
    /* lengths that contradict each other: before everything else but the magic */
    UNK_CLOSE("key over body", 0x00, 0, 2, 1),
    UNK_CLOSE("key + extras over body", 0x01, 8, 2, 9),
    UNK_CLOSE("unknown key over body", 0x50, 0, 2, 0),
    UNK_CLOSE("key 300 over body", 0x00, 0, 300, 10),
    /* bad magic: close without a reply */
    {"response magic", 0x81, 0x00, 0, 1, 1, MCBIN_PARSE_CLOSE, 0, false, 0, 0, 0},
    {"text", 'g', 'e', 't', 0x206b, 0x0d0a0000, MCBIN_PARSE_CLOSE, 0, false, 0, 0, 0},
};

/* The request's bytes: header, extlen + keylen bytes, then up to 64 bytes of value. */
static unsigned char *build(const struct row *r, size_t *head, size_t *total)
{
    size_t h = MCBIN_HEADER_LEN + r->extlen + r->keylen;
    size_t v = r->bodylen > (uint32_t)r->extlen + r->keylen ? r->bodylen - r->extlen - r->keylen : 0;
    if (v > 64)
        v = 64;
    unsigned char *p = calloc(1, h + v + 1);
    cr_assert_not_null(p);
    p[0] = r->magic;
    p[1] = r->opcode;
    p[2] = (unsigned char)(r->keylen >> 8);
    p[3] = (unsigned char)r->keylen;
    p[4] = r->extlen;
    p[8] = (unsigned char)(r->bodylen >> 24);
    p[9] = (unsigned char)(r->bodylen >> 16);
    p[10] = (unsigned char)(r->bodylen >> 8);
    p[11] = (unsigned char)r->bodylen;
    p[12] = 0xde;
    p[15] = 0x01;
    memset(p + MCBIN_HEADER_LEN + r->extlen, 'k', r->keylen);
    *head = h;
    *total = h + v;
    return p;
}

Test(mcbin_parse, table)
{
    for (size_t i = 0; i < sizeof(rows) / sizeof(rows[0]); i++) {
        const struct row *r = &rows[i];
        size_t head, total;
        unsigned char *p = build(r, &head, &total);
        struct mcbin_request req;
        enum mcbin_parse_status st = mcbin_parse((const char *)p, total, &req);

        cr_expect_eq(st, r->st, "%s: status %d, want %d", r->name, st, r->st);
        if (st == r->st && st == MCBIN_PARSE_OK) {
            cr_expect_eq(req.cmd, r->cmd, "%s: cmd %d, want %d", r->name, req.cmd, r->cmd);
            cr_expect_eq(req.quiet, r->quiet, "%s: quiet", r->name);
            cr_expect_eq(req.head_len, head, "%s: head_len %zu, want %zu", r->name, req.head_len, head);
            cr_expect_eq(req.h.opaque, 0xde000001u, "%s: opaque", r->name);
            if (r->cmd == MCBIN_CMD_NONE)
                cr_expect_eq(req.swallow, r->swallow, "%s: swallow %u, want %u", r->name, req.swallow,
                             r->swallow);
            else
                cr_expect_eq(req.vlen, r->vlen, "%s: vlen %u, want %u", r->name, req.vlen, r->vlen);
            if (r->keylen > 0)
                cr_expect_eq(req.key, (const char *)p + MCBIN_HEADER_LEN + r->extlen, "%s: key", r->name);
        }
        if (st == r->st && st == MCBIN_PARSE_ERROR_CLOSE) {
            cr_expect_eq(req.error, r->error, "%s: error %#x, want %#x", r->name, req.error, r->error);
            cr_expect_eq(req.h.opcode, r->opcode, "%s: opcode kept for the reply", r->name);
        }
        /* cut short anywhere before the head: more is needed (a bad magic shows at 24 bytes) */
        size_t stop = r->st == MCBIN_PARSE_CLOSE ? MCBIN_HEADER_LEN : head;
        for (size_t n = 0; n < stop; n++) {
            enum mcbin_parse_status cut = mcbin_parse((const char *)p, n, &req);
            cr_expect_eq(cut, MCBIN_PARSE_NEED_MORE, "%s: %zu of %zu bytes gave %d", r->name, n, head, cut);
        }
        free(p);
    }
}

/* Header, extras and key beyond memcached's 16 KB read buffer: more is awaited until the buffer
 * would be full, then the connection closes without a reply. */
Test(mcbin_parse, head_over_read_buffer)
{
    size_t n = MCBIN_HEAD_MAX + 64;
    unsigned char *p = calloc(1, n);
    struct mcbin_request req;

    cr_assert_not_null(p);
    p[0] = 0x80;
    p[2] = 0x40; /* keylen 16384 */
    p[8] = 0x01; /* bodylen 16 M */
    cr_expect_eq(mcbin_parse((const char *)p, 100, &req), MCBIN_PARSE_NEED_MORE);
    cr_expect_eq(mcbin_parse((const char *)p, MCBIN_HEAD_MAX - 1, &req), MCBIN_PARSE_NEED_MORE);
    cr_expect_eq(mcbin_parse((const char *)p, MCBIN_HEAD_MAX, &req), MCBIN_PARSE_CLOSE);
    p[2] = 0x3f;
    p[3] = 0xe8; /* keylen 16360: header + key is exactly 16384, judged as a key too long */
    cr_expect_eq(mcbin_parse((const char *)p, MCBIN_HEAD_MAX, &req), MCBIN_PARSE_ERROR_CLOSE);
    cr_expect_eq(req.error, MCBIN_ST_EINVAL);
    free(p);
}

Test(mcbin_parse, extras_decoded)
{
    static const unsigned char set[] = {0x80, 0x01, 0, 1, 8,    0,    0,    0,    0,   0,  0, 10,
                                        0,    0,    0, 0, 0,    0,    0,    0,    0,   0,  0, 0x2a,
                                        0xde, 0xad, 0, 1, 0xff, 0xff, 0xff, 0xff, 'k', 'v'};
    static const unsigned char incr[] = {0x80, 0x05, 0, 1, 20, 0, 0, 0, 0, 0, 0, 21, 0, 0, 0,
                                         7,    0,    0, 0, 0,  0, 0, 0, 0, 0, 0, 0,  0, 0, 0,
                                         0,    5,    0, 0, 0,  0, 0, 0, 1, 0, 0, 0,  0, 9, 'n'};
    static const unsigned char flush[] = {0x80, 0x08, 0, 0, 4, 0, 0, 0, 0, 0, 0, 4, 0, 0,
                                          0,    0,    0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1, 0};
    struct mcbin_request req;

    cr_assert_eq(mcbin_parse((const char *)set, sizeof(set), &req), MCBIN_PARSE_OK);
    cr_expect_eq(req.flags, 0xdead0001u);
    cr_expect_eq(req.exptime, 0xffffffffu);
    cr_expect_eq(req.h.cas, 0x2au);
    cr_expect_eq(req.vlen, 1u);
    cr_expect_eq(req.head_len, sizeof(set) - 1);
    cr_assert_eq(mcbin_parse((const char *)incr, sizeof(incr), &req), MCBIN_PARSE_OK);
    cr_expect_eq(req.delta, 5u);
    cr_expect_eq(req.initial, 256u);
    cr_expect_eq(req.exptime, 9u);
    cr_expect_eq(req.h.opaque, 7u);
    cr_assert_eq(mcbin_parse((const char *)flush, sizeof(flush), &req), MCBIN_PARSE_OK);
    cr_expect_eq(req.exptime, 256u);
}

Test(mcbin_parse, response_header)
{
    unsigned char h[MCBIN_HEADER_LEN];
    static const unsigned char want[] = {0x81, 0x0d, 0x00, 0x03, 0x04, 0x00, 0x00, 0x01,
                                         0x00, 0x00, 0x01, 0x02, 0xaa, 0xbb, 0xcc, 0xdd,
                                         0x01, 0x02, 0x03, 0x04, 0x05, 0x06, 0x07, 0x08};

    mcbin_response_header(h, 0x0d, MCBIN_ST_KEY_ENOENT, 4, 3, 258, 0xaabbccddu, 0x0102030405060708ull);
    cr_expect_arr_eq(h, want, sizeof(want));
}

Test(mcbin_parse, status_texts)
{
    cr_expect_str_eq(mcbin_status_text(MCBIN_ST_KEY_ENOENT), "Not found");
    cr_expect_str_eq(mcbin_status_text(MCBIN_ST_KEY_EEXISTS), "Data exists for key.");
    cr_expect_str_eq(mcbin_status_text(MCBIN_ST_E2BIG), "Too large.");
    cr_expect_str_eq(mcbin_status_text(MCBIN_ST_EINVAL), "Invalid arguments");
    cr_expect_str_eq(mcbin_status_text(MCBIN_ST_NOT_STORED), "Not stored.");
    cr_expect_str_eq(mcbin_status_text(MCBIN_ST_DELTA_BADVAL),
                     "Non-numeric server-side value for incr or decr");
    cr_expect_str_eq(mcbin_status_text(MCBIN_ST_AUTH_ERROR), "Auth failure.");
    cr_expect_str_eq(mcbin_status_text(MCBIN_ST_UNKNOWN_COMMAND), "Unknown command");
    cr_expect_str_eq(mcbin_status_text(MCBIN_ST_ENOMEM), "Out of memory");
    cr_expect_str_eq(mcbin_status_text(MCBIN_ST_OK), "");
}

/* Quiet requests answer errors only; quiet gets answer hits only. */
Test(mcbin_parse, quiet_answers)
{
    struct mcbin_request req;

    memset(&req, 0, sizeof(req));
    req.cmd = MCBIN_CMD_SET;
    cr_expect(mcbin_answers(&req, MCBIN_ST_OK));
    req.quiet = true;
    cr_expect(!mcbin_answers(&req, MCBIN_ST_OK));
    cr_expect(mcbin_answers(&req, MCBIN_ST_KEY_EEXISTS));
    cr_expect(mcbin_answers(&req, MCBIN_ST_KEY_ENOENT));
    req.cmd = MCBIN_CMD_GETK;
    cr_expect(mcbin_answers(&req, MCBIN_ST_OK));
    cr_expect(!mcbin_answers(&req, MCBIN_ST_KEY_ENOENT));
    req.cmd = MCBIN_CMD_GAT;
    cr_expect(!mcbin_answers(&req, MCBIN_ST_KEY_ENOENT));
    req.cmd = MCBIN_CMD_DELETE;
    cr_expect(mcbin_answers(&req, MCBIN_ST_KEY_ENOENT));
}
