/*
 * test_resp_parse.c: the RESP request parser, table-driven. Every row is a byte stream and what
 * redis-server 7.0 makes of it: the commands it runs, then either the error reply it sends before
 * closing or whether it is left waiting in the middle of a request. The expectations for the framing
 * edges, errors and inline quoting were taken from a running redis-server 7.0.15 fed the same bytes.
 *
 * Each row is fed whole, one byte at a time, cut in two at every offset and (short rows) cut in three
 * at every pair of offsets; every way must give the same outcome. Each chunk lives in its own heap
 * buffer that is scribbled over and freed as soon as the parser asks for more, so an argument left
 * pointing into an old chunk shows up as wrong bytes (or as a use after free under ASan).
 */
#include <criterion/criterion.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "protocol/resp/resp_parse.h"

/* ---- a growable string ---- */

struct sbuf {
    char *p;
    size_t len, cap;
};

static void sb_put(struct sbuf *b, const char *s, size_t n)
{
    if (b->len + n + 1 > b->cap) {
        size_t cap = b->cap ? b->cap : 64;
        while (cap < b->len + n + 1)
            cap *= 2;
        b->p = realloc(b->p, cap);
        cr_assert_not_null(b->p);
        b->cap = cap;
    }
    memcpy(b->p + b->len, s, n);
    b->len += n;
    b->p[b->len] = '\0';
}

static void sb_puts(struct sbuf *b, const char *s)
{
    sb_put(b, s, strlen(s));
}

/* One argument, readable: \r \n \t \0 \\ escaped, other control bytes and | [ ] as \xHH. */
static void render_arg(struct sbuf *b, const char *s, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        unsigned char c = (unsigned char)s[i];
        char tmp[8];
        if (c == '\r')
            sb_puts(b, "\\r");
        else if (c == '\n')
            sb_puts(b, "\\n");
        else if (c == '\t')
            sb_puts(b, "\\t");
        else if (c == '\0')
            sb_puts(b, "\\0");
        else if (c == '\\')
            sb_puts(b, "\\\\");
        else if (c < 0x20 || c >= 0x7f || c == '|' || c == '[' || c == ']') {
            snprintf(tmp, sizeof(tmp), "\\x%02x", c);
            sb_puts(b, tmp);
        } else
            sb_put(b, (const char *)&c, 1);
    }
}

/* A command as "[arg|arg|...]", with "i" before the bracket for an inline one. */
static void render_cmd(struct sbuf *b, const struct resp_args *a)
{
    if (a->is_inline)
        sb_puts(b, "i");
    sb_puts(b, "[");
    for (size_t i = 0; i < a->argc; i++) {
        if (i > 0)
            sb_puts(b, "|");
        cr_assert_not_null(a->argv[i]);
        render_arg(b, a->argv[i], a->argl[i]);
    }
    sb_puts(b, "]");
}

/* ---- feeding a stream in chunks ---- */

struct outcome {
    char *cmds;      /* rendered commands */
    const char *err; /* error reply, NULL when none */
    enum resp_parse_status last;
    bool mid; /* left in the middle of a request */
};

/*
 * Feeds in[0..len) to a fresh parser, cut at cuts[0..ncuts) (increasing interior offsets), or in
 * chunks of step bytes when step > 0.
 */
static struct outcome feed(const struct resp_parser_options *o, const char *in, size_t len, size_t step,
                           const size_t *cuts, size_t ncuts)
{
    struct resp_parser *p = resp_parser_create(o);
    cr_assert_not_null(p);
    struct sbuf b = {0};
    sb_puts(&b, "");
    struct outcome r = {NULL, NULL, RESP_PARSE_NEED_MORE, false};
    size_t at = 0, ci = 0;
    bool stop = false;
    do {
        size_t end = step > 0 ? (at + step < len ? at + step : len) : (ci < ncuts ? cuts[ci++] : len);
        size_t clen = end - at;
        char *chunk = malloc(clen ? clen : 1);
        cr_assert_not_null(chunk);
        memcpy(chunk, in + at, clen);
        size_t off = 0;
        for (;;) {
            size_t used = 12345;
            struct resp_args a;
            const char *err = NULL;
            enum resp_parse_status st = resp_parse(p, chunk + off, clen - off, &used, &a, &err);
            r.last = st;
            if (st == RESP_PARSE_OK) {
                cr_assert_gt(used, 0, "a command consumes bytes");
                cr_assert_leq(used, clen - off);
                cr_assert_gt(a.argc, 0);
                render_cmd(&b, &a);
                off += used;
                continue;
            }
            if (st == RESP_PARSE_NEED_MORE) {
                cr_assert_eq(used, clen - off, "NEED_MORE consumes everything");
                break;
            }
            cr_assert_not_null(err);
            r.err = err;
            stop = true;
            break;
        }
        memset(chunk, 0xA5, clen);
        free(chunk);
        at = end;
        if (r.err != NULL) {
            /* the text lives in the parser (or is static): keep a copy */
            size_t el = strlen(r.err);
            char *copy = malloc(el + 1);
            cr_assert_not_null(copy);
            memcpy(copy, r.err, el + 1);
            r.err = copy;
            /* errors are sticky */
            size_t used = 1;
            struct resp_args a;
            const char *err2 = NULL;
            cr_assert_eq(resp_parse(p, "PING\r\n", 6, &used, &a, &err2), r.last);
            cr_assert_eq(used, 0);
            cr_assert_str_eq(err2, r.err);
        }
    } while (!stop && at < len);
    r.mid = resp_parser_mid_request(p);
    resp_parser_destroy(&p);
    cr_assert_null(p, "destroy clears the pointer");
    r.cmds = b.p;
    return r;
}

static void outcome_free(struct outcome *r)
{
    free(r->cmds);
    free((char *)r->err);
}

struct row {
    const char *in;
    size_t len;
    const char *cmds; /* rendered commands */
    const char *err;  /* exact error reply, or NULL */
    bool mid;         /* no error: left waiting inside a request */
};

static void check_one(const struct row *w, size_t idx, const char *how, const struct outcome *r)
{
    cr_expect_str_eq(r->cmds, w->cmds, "row %zu (%s): commands", idx, how);
    if (w->err == NULL) {
        cr_expect_null(r->err, "row %zu (%s): unexpected error %s", idx, how, r->err ? r->err : "");
        cr_expect_eq(r->mid, w->mid, "row %zu (%s): mid-request", idx, how);
    } else {
        cr_expect_not_null(r->err, "row %zu (%s): expected an error", idx, how);
        if (r->err != NULL)
            cr_expect_str_eq(r->err, w->err, "row %zu (%s): error", idx, how);
        cr_expect_eq(r->last, RESP_PARSE_ERROR, "row %zu (%s): status", idx, how);
        cr_expect(!r->mid);
    }
}

/* Whole, byte by byte, every two-way cut, and (up to three_max bytes) every three-way cut; longer rows
 * get two-way cuts at a sample of offsets. */
static void check_row(const struct resp_parser_options *o, const struct row *w, size_t idx, size_t three_max)
{
    struct outcome r = feed(o, w->in, w->len, 0, NULL, 0);
    check_one(w, idx, "whole", &r);
    outcome_free(&r);
    r = feed(o, w->in, w->len, 1, NULL, 0);
    check_one(w, idx, "byte by byte", &r);
    outcome_free(&r);
    size_t stride = w->len <= 4096 ? 1 : w->len / 61;
    for (size_t k = 1; k < w->len; k += (k < 3 || k + 3 > w->len) ? 1 : stride) {
        char how[64];
        snprintf(how, sizeof(how), "cut at %zu", k);
        r = feed(o, w->in, w->len, 0, &k, 1);
        check_one(w, idx, how, &r);
        outcome_free(&r);
    }
    if (w->len <= three_max) {
        for (size_t i = 1; i < w->len; i++)
            for (size_t j = i + 1; j < w->len; j++) {
                size_t cuts[2] = {i, j};
                char how[64];
                snprintf(how, sizeof(how), "cut at %zu and %zu", i, j);
                r = feed(o, w->in, w->len, 0, cuts, 2);
                check_one(w, idx, how, &r);
                outcome_free(&r);
            }
    }
}

#define OK(in, cmds)                                                                                         \
    {                                                                                                        \
        in, sizeof(in) - 1, cmds, NULL, false                                                                \
    }
#define MID(in, cmds)                                                                                        \
    {                                                                                                        \
        in, sizeof(in) - 1, cmds, NULL, true                                                                 \
    }
#define ERR(in, cmds, e)                                                                                     \
    {                                                                                                        \
        in, sizeof(in) - 1, cmds, e, false                                                                   \
    }

#define E_MBULK     "-ERR Protocol error: invalid multibulk length\r\n"
#define E_BULK      "-ERR Protocol error: invalid bulk length\r\n"
#define E_QUOTES    "-ERR Protocol error: unbalanced quotes in request\r\n"
#define E_INLINE    "-ERR Protocol error: too big inline request\r\n"
#define E_MBULK_B   "-ERR Protocol error: too big mbulk count string\r\n"
#define E_BULK_B    "-ERR Protocol error: too big bulk count string\r\n"
#define E_DOLLAR(c) "-ERR Protocol error: expected '$', got '" c "'\r\n"

static const struct row rows[] = {
    /* multibulk framing */
    OK("", ""),
    OK("*1\r\n$4\r\nPING\r\n", "[PING]"),
    OK("*3\r\n$3\r\nSET\r\n$1\r\nk\r\n$5\r\nhello\r\n", "[SET|k|hello]"),
    OK("*2\r\n$0\r\n\r\n$1\r\na\r\n", "[|a]"),
    OK("*1\r\n$0\r\n\r\n", "[]"),
    /* binary-safe payloads: CR LF, NUL, high bytes */
    OK("*2\r\n$4\r\n\r\n\r\n\r\n$3\r\na\0b\r\n", "[\\r\\n\\r\\n|a\\0b]"),
    OK("*1\r\n$6\r\n*1\r\n$0\r\n", "[*1\\r\\n$0]"),
    OK("*1\r\n$2\r\n\xff\x80\r\n", "[\\xff\\x80]"),
    /* Redis's leniencies: the byte after a count line's '\r' and the two after a payload are skipped */
    OK("*1\rX$4\r\nPING\r\n", "[PING]"),
    OK("*1\r\n$4\rxPING\r\n", "[PING]"),
    OK("*1\r\n$4\r\nPINGXY*1\r\n$4\r\nPING\r\n", "[PING][PING]"),
    OK("*1\r\n$1\r\na\0\0", "[a]"),
    /* empty requests are skipped */
    OK("*0\r\n", ""),
    OK("*0\r\nPING\r\n", "i[PING]"),
    OK("*-1\r\nPING\r\n", "i[PING]"),
    OK("*-5\r\n*0\r\n*1\r\n$1\r\nx\r\n", "[x]"),
    OK("*-9223372036854775808\r\n", ""),
    OK("\r\n", ""),
    OK("\n\n\r\n", ""),
    OK("   \t \r\n", ""),
    /* invalid multibulk counts */
    ERR("*-0\r\n", "", E_MBULK),
    ERR("*00\r\n", "", E_MBULK),
    ERR("*01\r\n", "", E_MBULK),
    ERR("*\r\n", "", E_MBULK),
    ERR("*x\r\n", "", E_MBULK),
    ERR("*+1\r\n", "", E_MBULK),
    ERR("* 1\r\n", "", E_MBULK),
    ERR("*1 \r\n", "", E_MBULK),
    ERR("*1\n$4\r\nPING\r\n", "", E_MBULK),
    ERR("*-\r\n", "", E_MBULK),
    ERR("*-9223372036854775809\r\n", "", E_MBULK),
    ERR("*9223372036854775808\r\n", "", E_MBULK),
    ERR("*000000000000000000001\r\n", "", E_MBULK),
    ERR("*2147483648\r\n", "", E_MBULK),
    MID("*2147483647\r\n", ""),
    MID("*1048577\r\n", ""),
    /* invalid bulk lengths */
    ERR("*1\r\n$-1\r\n", "", E_BULK),
    ERR("*1\r\n$-0\r\n", "", E_BULK),
    ERR("*1\r\n$\r\n", "", E_BULK),
    ERR("*1\r\n$+4\r\n", "", E_BULK),
    ERR("*1\r\n$04\r\n", "", E_BULK),
    ERR("*1\r\n$ 4\r\n", "", E_BULK),
    ERR("*1\r\n$4 \r\n", "", E_BULK),
    ERR("*1\r\n$x\r\n", "", E_BULK),
    ERR("*1\r\n$536870913\r\n", "", E_BULK),
    ERR("*1\r\n$99999999999999999999\r\n", "", E_BULK),
    MID("*1\r\n$536870912\r\n", ""),
    /* expected '$' (the byte as Redis prints it; CR and LF become a space) */
    ERR("*1\r\nfoo\r\n", "", E_DOLLAR("f")),
    ERR("*1\r\n:4\r\n", "", E_DOLLAR(":")),
    ERR("*1\r\n\r\n\r\n", "", E_DOLLAR(" ")),
    ERR("*1\r\n\n\r\n", "", E_DOLLAR(" ")),
    ERR("*1\r\n\xff\r\n", "", E_DOLLAR("\xff")),
    ERR("*2\r\n$1\r\na\r\n*1\r\n", "", E_DOLLAR("*")),
    OK("*1\r\n$1\r\nab\r\n", "[a]"),
    ERR("*2\r\n$1\r\nab\r\n$1\r\nc\r\n", "", E_DOLLAR(" ")),
    /* incomplete requests wait */
    MID("*", ""),
    MID("*1", ""),
    MID("*1\r", ""),
    MID("*1\r\n", ""),
    MID("*1\r\n$", ""),
    MID("*1\r\n$3\r", ""),
    MID("*1\r\n$3\r\n", ""),
    MID("*1\r\n$3\r\nfo", ""),
    MID("*1\r\n$3\r\nfoo", ""),
    MID("*1\r\n$3\r\nfoo\r", ""),
    MID("*1\r\nfoo", ""),
    MID("*2\r\n$3\r\nfoo\r\n", ""),
    MID("*1\r\n$3\0\r\nfoo\r\n", ""),
    /* pipelines */
    OK("*1\r\n$4\r\nPING\r\nPING\r\n*2\r\n$4\r\nECHO\r\n$2\r\nhi\r\n\r\n", "[PING]i[PING][ECHO|hi]"),
    OK("PING\r\nPING\nECHO a\r\n", "i[PING]i[PING]i[ECHO|a]"),
    OK("*1\r\n$3\r\nfoo\r\n$3\r\n", "[foo]i[$3]"),
    ERR("*1\r\n$4\r\nPING\r\n*x\r\n", "[PING]", E_MBULK),
    ERR("PING\r\nECHO \"a\r\nPING\r\n", "i[PING]", E_QUOTES),
    MID("*1\r\n$4\r\nPING\r\n*2\r\n$1\r\na\r\n", "[PING]"),
    /* inline lines */
    OK("PING\r\n", "i[PING]"),
    OK("PING\n", "i[PING]"),
    OK("\r\nPING\r\n", "i[PING]"),
    OK("PING\r\r\n", "i[PING]"),
    OK("SET k v\r\n", "i[SET|k|v]"),
    OK("  SET   k\tv  \r\n", "i[SET|k|v]"),
    OK("\vECHO a\r\n", "i[ECHO|a]"),
    OK("ECHO a\vb\r\n", "i[ECHO|a\\x0bb]"),
    OK("ECHO a\fb c\r\n", "i[ECHO|a\\x0cb|c]"),
    OK("$3\r\n", "i[$3]"),
    OK("ECHO \xe2\x82\xac\r\n", "i[ECHO|\\xe2\\x82\\xac]"),
    /* inline quoting, as sdssplitargs */
    OK("ECHO \"a\\x41\\n\\tb\\\\\\\"c\\xzz\"\r\n", "i[ECHO|aA\\n\\tb\\\\\"cxzz]"),
    OK("ECHO \"\\r\\n\\b\\a\\q\"\r\n", "i[ECHO|\\r\\n\\x08\\x07q]"),
    OK("ECHO \"\\xFFx\\x00\\x4\"\r\n", "i[ECHO|\\xffx\\0x4]"),
    OK("ECHO 'a\\'b\\\"'\r\n", "i[ECHO|a'b\\\\\"]"),
    OK("ECHO 'a\\nb'\r\n", "i[ECHO|a\\\\nb]"),
    OK("ECHO x\"y z\"\r\n", "i[ECHO|xy z]"),
    OK("ECHO x'y z'\r\n", "i[ECHO|xy z]"),
    OK("ECHO \"\"\r\n", "i[ECHO|]"),
    OK("ECHO ''\r\n", "i[ECHO|]"),
    OK("ECHO \"a\"\t\r\n", "i[ECHO|a]"),
    OK("ECHO \"a\"\v\r\n", "i[ECHO|a]"),
    OK("ECHO \"a\"\r\r\n", "i[ECHO|a]"),
    OK("ECHO \"a\" \"b c\"\r\n", "i[ECHO|a|b c]"),
    OK("ECHO \"it's\" 'say \"hi\"'\r\n", "i[ECHO|it's|say \"hi\"]"),
    ERR("ECHO \"a\"b\r\n", "", E_QUOTES),
    ERR("ECHO 'a'b\r\n", "", E_QUOTES),
    ERR("ECHO \"a\"\"b\"\r\n", "", E_QUOTES),
    ERR("ECHO \"abc\r\n", "", E_QUOTES),
    ERR("ECHO 'abc\r\n", "", E_QUOTES),
    ERR("ECHO \"a\\\"\r\n", "", E_QUOTES),
    ERR("ECHO \"a\\\r\n", "", E_QUOTES),
    ERR("ECHO \"\r\n", "", E_QUOTES),
    ERR("\"\n", "", E_QUOTES),
    /* a NUL hides the line end, as Redis's strchr does */
    MID("ECHO a\0b\r\nPING\r\n", ""),
    MID("PING\r", ""),
    MID("P", ""),
};

Test(resp_parse, table)
{
    for (size_t i = 0; i < sizeof(rows) / sizeof(rows[0]); i++)
        check_row(NULL, &rows[i], i, 48);
}

/* ---- limits at exactly the limit and one past it ---- */

/* a row: prefix (a bytes, NULs allowed), then fill repeated n_fill times, then suffix */
static char *make(const char *prefix, size_t a, char fill, size_t n_fill, const char *suffix, size_t *len)
{
    size_t c = strlen(suffix);
    char *s = malloc(a + n_fill + c + 1);
    cr_assert_not_null(s);
    memcpy(s, prefix, a);
    memset(s + a, fill, n_fill);
    memcpy(s + a + n_fill, suffix, c);
    s[a + n_fill + c] = '\0';
    *len = a + n_fill + c;
    return s;
}

static void check_big_n(const char *prefix, size_t plen, char fill, size_t n_fill, const char *suffix,
                        const char *cmds, const char *err, bool mid)
{
    struct row w;
    char *s = make(prefix, plen, fill, n_fill, suffix, &w.len);
    w.in = s;
    w.cmds = cmds;
    w.err = err;
    w.mid = mid;
    check_row(NULL, &w, n_fill, 0);
    free(s);
}

/* prefix is a string literal and may hold NULs */
#define check_big(prefix, ...) check_big_n(prefix, sizeof(prefix) - 1, __VA_ARGS__)

#define K64 ((size_t)65536)

Test(resp_parse, inline_line_limit)
{
    /* the line end may be the 65537th byte, not later */
    size_t len;
    char *a = make("", 0, 'a', K64, "", &len);
    struct sbuf want = {0};
    sb_puts(&want, "i[");
    sb_put(&want, a, K64);
    sb_puts(&want, "]");
    check_big("", 'a', K64, "\n", want.p, NULL, false);
    want.len = 0;
    sb_puts(&want, "i[");
    sb_put(&want, a, K64 - 1);
    sb_puts(&want, "]");
    check_big("", 'a', K64 - 1, "\r\n", want.p, NULL, false);
    check_big("", 'a', K64, "\r\n", "", E_INLINE, false);
    check_big("", 'a', K64, "", "", NULL, true);
    check_big("", 'a', K64 + 1, "", "", E_INLINE, false);
    /* after a NUL every byte counts, the line end included */
    check_big("ECHO a\0", 'x', K64 - 7, "", "", NULL, true);
    check_big("ECHO a\0", 'x', K64 - 6, "", "", E_INLINE, false);
    /* the limit counts from the start of the request, not of the stream */
    check_big("*1\r\n$4\r\nPING\r\n", 'a', K64, "", "[PING]", NULL, true);
    check_big("*1\r\n$4\r\nPING\r\n", 'a', K64 + 1, "", "[PING]", E_INLINE, false);
    free(a);
    free(want.p);
}

Test(resp_parse, count_line_limits)
{
    check_big("*", '1', K64 - 1, "", "", NULL, true);
    check_big("*", '1', K64, "", "", E_MBULK_B, false);
    /* the '\r' as the 65537th byte is found: then the number is judged */
    check_big("*", '1', K64 - 1, "\r\n", "", E_MBULK, false);
    check_big("*1\r\n$", '1', K64 - 1, "", "", NULL, true);
    check_big("*1\r\n$", '1', K64, "", "", E_BULK_B, false);
    check_big("*1\r\n$", '1', K64 - 1, "\r\n", "", E_BULK, false);
    /* a NUL in a bulk count line */
    check_big("*1\r\n$3\0\r\nfoo\r\n", 'x', K64 - 10, "", "", NULL, true);
    check_big("*1\r\n$3\0\r\nfoo\r\n", 'x', K64 - 9, "", "", E_BULK_B, false);
}

Test(resp_parse, bulk_and_count_options)
{
    struct resp_parser_options o;
    resp_parser_options_default(&o);
    cr_assert_eq(o.max_bulk_len, 512LL * 1024 * 1024);
    cr_assert_eq(o.max_multibulk_len, 2147483647LL);
    o.max_bulk_len = 16;
    o.max_multibulk_len = 3;
    static const struct row opt_rows[] = {
        OK("*1\r\n$16\r\n0123456789abcdef\r\n", "[0123456789abcdef]"),
        ERR("*1\r\n$17\r\n", "", E_BULK),
        OK("*3\r\n$1\r\na\r\n$1\r\nb\r\n$1\r\nc\r\n", "[a|b|c]"),
        ERR("*4\r\n", "", E_MBULK),
        OK("*-4\r\n", ""),
        /* inline requests have no bulk or count limit, as in Redis */
        OK("a b c d 0123456789abcdefg\r\n", "i[a|b|c|d|0123456789abcdefg]"),
    };
    for (size_t i = 0; i < sizeof(opt_rows) / sizeof(opt_rows[0]); i++)
        check_row(&o, &opt_rows[i], i, 48);
    o.max_bulk_len = 0;
    static const struct row zero_rows[] = {
        OK("*1\r\n$0\r\n\r\n", "[]"),
        ERR("*1\r\n$1\r\n", "", E_BULK),
    };
    for (size_t i = 0; i < sizeof(zero_rows) / sizeof(zero_rows[0]); i++)
        check_row(&o, &zero_rows[i], i, 48);
    o.max_bulk_len = -1;
    cr_assert_null(resp_parser_create(&o), "a negative limit is refused");
    resp_parser_options_default(&o);
    o.max_buffered = 0;
    cr_assert_null(resp_parser_create(&o));
}

/* ---- ownership and the API's other promises ---- */

Test(resp_parse, whole_request_points_into_the_buffer)
{
    const char req[] = "*2\r\n$3\r\nGET\r\n$3\r\nkey\r\nPING\r\n";
    struct resp_parser *p = resp_parser_create(NULL);
    cr_assert_not_null(p);
    size_t used;
    struct resp_args a;
    const char *err;
    cr_assert_eq(resp_parse(p, req, sizeof(req) - 1, &used, &a, &err), RESP_PARSE_OK);
    cr_assert_eq(used, 22);
    cr_assert_eq(a.argc, 2);
    cr_assert(!a.is_inline);
    cr_assert_eq(a.argv[0], req + 8, "no copy for a request that arrives whole");
    cr_assert_eq(a.argv[1], req + 17);
    cr_assert_eq(a.argl[1], 3);
    cr_assert(!resp_parser_mid_request(p));
    cr_assert_eq(resp_parse(p, req + used, sizeof(req) - 1 - used, &used, &a, &err), RESP_PARSE_OK);
    cr_assert_eq(used, 6);
    cr_assert(a.is_inline);
    cr_assert_eq(resp_parse(p, "", 0, &used, &a, &err), RESP_PARSE_NEED_MORE);
    cr_assert_eq(used, 0);
    resp_parser_destroy(&p);
    cr_assert_null(p);
    resp_parser_destroy(&p);
    resp_parser_destroy(NULL);
}

/* Empty requests are passed over, not returned, and counted (CLIENT REPLY SKIP applies to them). */
Test(resp_parse, empty_requests_are_counted)
{
    const char req[] = "*0\r\n\r\n   \r\n*-1\r\nPING\r\n*0\r\n";
    struct resp_parser *p = resp_parser_create(NULL);
    cr_assert_not_null(p);
    size_t used;
    struct resp_args a;
    const char *err;
    cr_assert_eq(resp_parser_empty_requests(p), 0);
    cr_assert_eq(resp_parse(p, req, sizeof(req) - 1, &used, &a, &err), RESP_PARSE_OK);
    cr_assert_eq(a.argc, 1, "PING, after four empty requests");
    cr_assert_eq(resp_parser_empty_requests(p), 4);
    cr_assert_eq(resp_parse(p, req + used, sizeof(req) - 1 - used, &used, &a, &err), RESP_PARSE_NEED_MORE);
    cr_assert_eq(resp_parser_empty_requests(p), 5);
    cr_assert_eq(resp_parse(p, "*", 1, &used, &a, &err), RESP_PARSE_NEED_MORE);
    cr_assert_eq(resp_parser_empty_requests(p), 5, "a request begun is not empty");
    resp_parser_destroy(&p);
}

Test(resp_parse, zero_copy_bulk_into_caller_memory)
{
    const size_t big = 100000;
    char *payload = malloc(big);
    cr_assert_not_null(payload);
    for (size_t i = 0; i < big; i++)
        payload[i] = (char)(i * 7 + 3);
    char head[] = "*3\r\n$3\r\nSET\r\n$1\r\nk\r\n$100000\r\n";
    size_t hl = strlen(head);

    struct resp_parser *p = resp_parser_create(NULL);
    cr_assert_not_null(p);
    size_t used;
    struct resp_args a;
    const char *err;
    struct resp_pending_bulk pb;

    /* the header and 1000 payload bytes */
    char *chunk = malloc(hl + 1000);
    memcpy(chunk, head, hl);
    memcpy(chunk + hl, payload, 1000);
    cr_assert_eq(resp_parse(p, chunk, hl + 1000, &used, &a, &err), RESP_PARSE_NEED_MORE);
    memset(chunk, 0, hl + 1000);
    free(chunk);
    cr_assert(resp_parser_pending_bulk(p, &pb));
    cr_assert_eq(pb.index, 2);
    cr_assert_eq(pb.argc, 3);
    cr_assert_eq(pb.len, big);
    cr_assert_eq(pb.have, 1000);
    cr_assert_eq(pb.before.argc, 2);
    cr_assert_eq(pb.before.argl[0], 3);
    cr_assert_eq(memcmp(pb.before.argv[0], "SET", 3), 0, "earlier arguments were copied");
    cr_assert_eq(memcmp(pb.before.argv[1], "k", 1), 0);

    char *dst = malloc(big);
    cr_assert_not_null(dst);
    cr_assert(resp_parser_bulk_into(p, dst));
    cr_assert(!resp_parser_bulk_into(p, dst), "only once");
    cr_assert(resp_parser_pending_bulk(p, &pb));
    cr_assert_eq(pb.have, 1000);

    /* more payload through resp_parse lands in dst */
    cr_assert_eq(resp_parse(p, payload + 1000, 50000, &used, &a, &err), RESP_PARSE_NEED_MORE);
    cr_assert_eq(used, 50000);
    cr_assert(resp_parser_pending_bulk(p, &pb));
    cr_assert_eq(pb.have, 51000);
    /* the rest written straight into dst (as a read() into the item would) */
    memcpy(dst + 51000, payload + 51000, big - 51000);
    cr_assert(!resp_parser_bulk_advance(p, big - 51000 + 1), "more than the payload lacks");
    cr_assert(resp_parser_bulk_advance(p, big - 51000));
    cr_assert(!resp_parser_pending_bulk(p, &pb));
    cr_assert(!resp_parser_bulk_advance(p, 0), "no bulk pending any more");
    cr_assert(resp_parser_mid_request(p), "the trailing CRLF is still due");

    cr_assert_eq(resp_parse(p, "\r\nPING\r\n", 8, &used, &a, &err), RESP_PARSE_OK);
    cr_assert_eq(used, 2);
    cr_assert_eq(a.argc, 3);
    cr_assert_eq(memcmp(a.argv[0], "SET", 3), 0);
    cr_assert_eq(memcmp(a.argv[1], "k", 1), 0);
    cr_assert_eq(a.argv[2], dst);
    cr_assert_eq(a.argl[2], big);
    cr_assert_eq(memcmp(dst, payload, big), 0);
    resp_parser_destroy(&p);
    free(dst);
    free(payload);
}

Test(resp_parse, zero_copy_before_any_payload)
{
    struct resp_parser *p = resp_parser_create(NULL);
    size_t used;
    struct resp_args a;
    const char *err;
    struct resp_pending_bulk pb;
    cr_assert(!resp_parser_pending_bulk(p, &pb));
    cr_assert(!resp_parser_bulk_into(p, (char[4]){0}));
    const char *h = "*1\r\n$4\r\n";
    cr_assert_eq(resp_parse(p, h, strlen(h), &used, &a, &err), RESP_PARSE_NEED_MORE);
    cr_assert(resp_parser_pending_bulk(p, &pb));
    cr_assert_eq(pb.index, 0);
    cr_assert_eq(pb.have, 0);
    cr_assert_eq(pb.before.argc, 0);
    char dst[4];
    cr_assert(resp_parser_bulk_into(p, dst));
    cr_assert_eq(resp_parse(p, "ab", 2, &used, &a, &err), RESP_PARSE_NEED_MORE);
    cr_assert_eq(resp_parse(p, "cd\r\n", 4, &used, &a, &err), RESP_PARSE_OK);
    cr_assert_eq(a.argv[0], dst);
    cr_assert_eq(memcmp(dst, "abcd", 4), 0);
    resp_parser_destroy(&p);
}

Test(resp_parse, default_bulk_limit_header_only)
{
    struct resp_parser *p = resp_parser_create(NULL);
    size_t used;
    struct resp_args a;
    const char *err;
    struct resp_pending_bulk pb;
    const char *h = "*2\r\n$3\r\nSET\r\n$536870912\r\n";
    cr_assert_eq(resp_parse(p, h, strlen(h), &used, &a, &err), RESP_PARSE_NEED_MORE);
    cr_assert(resp_parser_pending_bulk(p, &pb));
    cr_assert_eq(pb.len, (size_t)512 * 1024 * 1024);
    resp_parser_destroy(&p);
}

Test(resp_parse, buffer_limit_and_no_memory)
{
    struct resp_parser_options o;
    resp_parser_options_default(&o);
    o.max_buffered = 4096;
    struct resp_parser *p = resp_parser_create(&o);
    size_t used;
    struct resp_args a;
    const char *err = NULL;
    size_t len;
    /* arriving whole, nothing is held: fine */
    char *s = make("*1\r\n$8000\r\n", 11, 'v', 8000, "\r\n", &len);
    cr_assert_eq(resp_parse(p, s, len, &used, &a, &err), RESP_PARSE_OK);
    cr_assert_eq(a.argl[0], 8000);
    /* cut in two, the parser would hold more than 4096 bytes */
    cr_assert_eq(resp_parse(p, s, 5000, &used, &a, &err), RESP_PARSE_NOMEM);
    cr_assert_str_eq(err, RESP_NOMEM_LIMIT);
    cr_assert_str_eq(err, "request exceeds the parser's buffer limit");
    err = NULL;
    cr_assert_eq(resp_parse(p, s + 5000, len - 5000, &used, &a, &err), RESP_PARSE_NOMEM, "sticky");
    cr_assert_str_eq(err, RESP_NOMEM_LIMIT);
    cr_assert(!resp_parser_mid_request(p));
    resp_parser_destroy(&p);
    /* many small arguments count too (slots and copies) */
    p = resp_parser_create(&o);
    struct sbuf b = {0};
    sb_puts(&b, "*1000\r\n");
    for (int i = 0; i < 999; i++)
        sb_puts(&b, "$1\r\nx\r\n");
    cr_assert_eq(resp_parse(p, b.p, b.len, &used, &a, &err), RESP_PARSE_NOMEM);
    resp_parser_destroy(&p);
    free(b.p);
    free(s);
}

/* ---- random pipelines in random chunks ---- */

static uint64_t rng_next(uint64_t *s)
{
    *s ^= *s << 13;
    *s ^= *s >> 7;
    *s ^= *s << 17;
    return *s;
}

Test(resp_parse, random_pipelines)
{
    uint64_t seed = 0x9e3779b97f4a7c15ULL;
    for (int round = 0; round < 200; round++) {
        struct sbuf in = {0}, want = {0};
        sb_puts(&in, "");
        sb_puts(&want, "");
        int ncmd = 1 + (int)(rng_next(&seed) % 6);
        for (int c = 0; c < ncmd; c++) {
            if (rng_next(&seed) % 4 == 0) {
                /* an inline command of plain words */
                int nw = 1 + (int)(rng_next(&seed) % 4);
                sb_puts(&want, "i[");
                for (int w = 0; w < nw; w++) {
                    char word[16];
                    int wl = 1 + (int)(rng_next(&seed) % 10);
                    for (int k = 0; k < wl; k++)
                        word[k] = (char)('a' + rng_next(&seed) % 26);
                    if (w > 0) {
                        sb_puts(&in, " ");
                        sb_puts(&want, "|");
                    }
                    sb_put(&in, word, (size_t)wl);
                    sb_put(&want, word, (size_t)wl);
                }
                sb_puts(&in, rng_next(&seed) % 2 ? "\r\n" : "\n");
                sb_puts(&want, "]");
            } else {
                int na = 1 + (int)(rng_next(&seed) % 5);
                char hdr[32];
                snprintf(hdr, sizeof(hdr), "*%d\r\n", na);
                sb_puts(&in, hdr);
                sb_puts(&want, "[");
                for (int k = 0; k < na; k++) {
                    size_t al =
                        (size_t)(rng_next(&seed) % 3 == 0 ? rng_next(&seed) % 3000 : rng_next(&seed) % 12);
                    char *arg = malloc(al + 1);
                    for (size_t j = 0; j < al; j++)
                        arg[j] = (char)rng_next(&seed);
                    snprintf(hdr, sizeof(hdr), "$%zu\r\n", al);
                    sb_puts(&in, hdr);
                    sb_put(&in, arg, al);
                    sb_puts(&in, "\r\n");
                    if (k > 0)
                        sb_puts(&want, "|");
                    render_arg(&want, arg, al);
                    free(arg);
                }
                sb_puts(&want, "]");
            }
        }
        /* random cut points */
        size_t cuts[16], nc = 0, last = 0;
        while (nc < 16 && last + 1 < in.len) {
            last += 1 + rng_next(&seed) % (in.len / 4 + 1);
            if (last >= in.len)
                break;
            cuts[nc++] = last;
        }
        struct outcome r = feed(NULL, in.p, in.len, 0, cuts, nc);
        cr_assert_str_eq(r.cmds, want.p, "round %d", round);
        cr_assert_null(r.err);
        cr_assert(!r.mid);
        outcome_free(&r);
        r = feed(NULL, in.p, in.len, 1 + rng_next(&seed) % 7, NULL, 0);
        cr_assert_str_eq(r.cmds, want.p, "round %d (small steps)", round);
        outcome_free(&r);
        free(in.p);
        free(want.p);
    }
}
