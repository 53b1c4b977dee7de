/*
 * test_resp_util.c: Redis 7.0's number and pattern rules (resp_util.h), table-driven.
 *
 * Every expectation below was read off a running redis-server 7.0.15 (Debian 12's, x86-64) fed the
 * same bytes, unless its comment says it comes from the source:
 * - string2ll: INCRBY on a fresh key and GETRANGE's start argument (same acceptance both ways);
 * - string2ld and ld2string LD_STR_HUMAN: INCRBYFLOAT (and HINCRBYFLOAT, which agreed on every row),
 *   whose reply is ld2string(stored + increment), both parsed by string2ld;
 * - string2d and addReplyDouble's text: ZADD then ZSCORE, in RESP2 and RESP3;
 * - d2string: the score text a small sorted set keeps in its listpack (DEBUG LISTPACK);
 * - stringmatchlen: KEYS against the key set below (case-sensitive), COMMAND LIST FILTERBY PATTERN
 *   (nocase), PSUBSCRIBE and PUBLISH for the empty string.
 */
#include <criterion/criterion.h>
#include <limits.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "protocol/resp/resp_util.h"

/* Bytes of a string literal, NULs inside included. */
struct bytes {
    const char *p;
    size_t n;
};
/* clang-format off */
#define B(s) {s, sizeof(s) - 1}
/* clang-format on */

/* ---- string2ll ---- */

struct ll_row {
    struct bytes in;
    bool ok;
    long long v;
};

static const struct ll_row ll_rows[] = {
    {B("0"), true, 0},
    {B("1"), true, 1},
    {B("-1"), true, -1},
    {B("10"), true, 10},
    {B("-10"), true, -10},
    {B("9223372036854775807"), true, LLONG_MAX},
    {B("-9223372036854775808"), true, LLONG_MIN},
    {B("-1234567890123456789"), true, -1234567890123456789LL},
    {B("-0"), false, 0},
    {B("00"), false, 0},
    {B("01"), false, 0},
    {B("-00"), false, 0},
    {B("-01"), false, 0},
    {B("+1"), false, 0},
    {B(" 1"), false, 0},
    {B("1 "), false, 0},
    {B("\t1"), false, 0},
    {B("1\r"), false, 0},
    {B("9223372036854775808"), false, 0},
    {B("-9223372036854775809"), false, 0},
    {B("18446744073709551615"), false, 0},
    {B("18446744073709551616"), false, 0},
    {B("99999999999999999999"), false, 0},
    {B("12345678901234567890"), false, 0},
    {B("-12345678901234567890"), false, 0}, /* 21 bytes */
    {B("000000000000000000001"), false, 0}, /* 21 bytes */
    {B("123456789012345678901"), false, 0},
    {B("-"), false, 0},
    {B(""), false, 0},
    {B("1a"), false, 0},
    {B("a1"), false, 0},
    {B("1.0"), false, 0},
    {B("1e3"), false, 0},
    {B("0x10"), false, 0},
    {B("\0001"), false, 0},
    {B("1\000"), false, 0},
};

Test(resp_util, str2ll)
{
    for (size_t i = 0; i < sizeof(ll_rows) / sizeof(ll_rows[0]); i++) {
        const struct ll_row *r = &ll_rows[i];
        long long v = 12345;
        bool ok = resp_str2ll(r->in.p, r->in.n, &v);
        cr_expect_eq(ok, r->ok, "row %zu \"%s\": ok %d", i, r->in.p, ok);
        if (ok && r->ok)
            cr_expect_eq(v, r->v, "row %zu \"%s\": %lld", i, r->in.p, v);
        cr_expect_eq(resp_str2ll(r->in.p, r->in.n, NULL), r->ok, "row %zu without a target", i);
    }
}

/* ---- ll2string (INCRBY's replies print the same digits) ---- */

struct ll2s_row {
    long long v;
    const char *out;
};

static const struct ll2s_row ll2s_rows[] = {
    {0, "0"},
    {1, "1"},
    {-1, "-1"},
    {9, "9"},
    {10, "10"},
    {99, "99"},
    {100, "100"},
    {-100, "-100"},
    {1234567890123456789LL, "1234567890123456789"},
    {LLONG_MAX, "9223372036854775807"},
    {LLONG_MIN, "-9223372036854775808"},
    {LLONG_MIN + 1, "-9223372036854775807"},
};

Test(resp_util, ll2str)
{
    for (size_t i = 0; i < sizeof(ll2s_rows) / sizeof(ll2s_rows[0]); i++) {
        const struct ll2s_row *r = &ll2s_rows[i];
        char buf[RESP_LL_STR_SIZE];
        size_t len = strlen(r->out);
        cr_expect_eq(resp_ll2str(buf, sizeof(buf), r->v), len, "row %zu", i);
        cr_expect_str_eq(buf, r->out, "row %zu", i);
        /* exactly room for the digits and the NUL, then one byte short */
        cr_expect_eq(resp_ll2str(buf, len + 1, r->v), len, "row %zu: tight buffer", i);
        cr_expect_str_eq(buf, r->out);
        cr_expect_eq(resp_ll2str(buf, len, r->v), 0, "row %zu: short buffer", i);
    }
}

/* ---- string2ld, through INCRBYFLOAT on a fresh key: the reply is ld2string(0 + operand) ---- */

struct ld_row {
    struct bytes in;
    const char *out; /* NULL: "ERR value is not a valid float" */
};

static char zeros_5119[5120], zeros_5118_1[5120], zeros_5120[5121], zeros_5119_1[5121];

/* Long operands, built once: 5119 zeros, 5118 zeros and a 1, and the same one byte longer. */
static void long_operands(void)
{
    memset(zeros_5119, '0', 5119);
    memset(zeros_5118_1, '0', 5118);
    zeros_5118_1[5118] = '1';
    memset(zeros_5120, '0', 5120);
    memset(zeros_5119_1, '0', 5119);
    zeros_5119_1[5119] = '1';
}

static const struct ld_row ld_rows[] = {
    {B("1"), "1"},
    {B("1.5"), "1.5"},
    {B("-1.5"), "-1.5"},
    {B("+1.5"), "1.5"},
    {B(".5"), "0.5"},
    {B("5."), "5"},
    {B("1e3"), "1000"},
    {B("1E3"), "1000"},
    {B("1e+3"), "1000"},
    {B("1e-3"), "0.001"},
    {B("0x10"), "16"},
    {B("0x1p-2"), "0.25"},
    {B("0X1P+4"), "16"},
    {B("0x.8"), "0.5"},
    {B("0"), "0"},
    {B("-0"), "0"},
    {B("0.0"), "0"},
    {B("-0.0"), "0"},
    {B("00001"), "1"},
    {B("1e-310"), "0"},
    {B("1e-400"), "0"},
    {B("1e-4940"), "0"}, /* subnormal in an 80-bit long double: ERANGE but not zero, accepted */
    {B("1e-4950"), "0"},
    /* INCRBYFLOAT accepts these operands and then refuses the infinite result */
    {B("inf"), "inf"},
    {B("-inf"), "-inf"},
    {B("Infinity"), "inf"},
    {B("INF"), "inf"},
    {B("+inf"), "inf"},
    {B("1e4932"), NULL}, /* checked apart: 4933 digits */
    {B("1e-4960"), NULL},
    {B("1e-5000"), NULL},
    {B("1.2e4932"), NULL},
    {B("nan"), NULL},
    {B("NaN"), NULL},
    {B("-nan"), NULL},
    {B("nan(123)"), NULL},
    {B(" 1"), NULL},
    {B("\t1"), NULL},
    {B("\n1"), NULL},
    {B("\v1"), NULL},
    {B("\f1"), NULL},
    {B("\r1"), NULL},
    {B("\xa0\x31"), NULL}, /* a no-break space (Latin-1), then "1" */
    {B("1 "), NULL},
    {B("1\000"), NULL},
    {B("\0001"), NULL},
    {B("1.\000"), NULL},
    {B(""), NULL},
    {B("-"), NULL},
    {B("+"), NULL},
    {B("."), NULL},
    {B("e5"), NULL},
    {B("1e"), NULL},
    {B("1e+"), NULL},
    {B("1_000"), NULL},
    {B("1,5"), NULL},
    {B("0x"), NULL},
    {B("0xg"), NULL},
    {B("3.14abc"), NULL},
    {B("\xd9\xa3"), NULL}, /* ARABIC-INDIC DIGIT THREE */
};

Test(resp_util, str2ld, .init = long_operands)
{
    for (size_t i = 0; i < sizeof(ld_rows) / sizeof(ld_rows[0]); i++) {
        const struct ld_row *r = &ld_rows[i];
        long double v;
        bool ok = resp_str2ld(r->in.p, r->in.n, &v);
        bool want = r->out != NULL || strcmp(r->in.p, "1e4932") == 0;
        cr_expect_eq(ok, want, "row %zu \"%s\": ok %d", i, r->in.p, ok);
        if (!ok || r->out == NULL)
            continue;
        char buf[RESP_LD_STR_SIZE];
        resp_ld2str(buf, sizeof(buf), 0.0L + v);
        cr_expect_str_eq(buf, r->out, "row %zu \"%s\"", i, r->in.p);
    }
    long double v;
    cr_expect(resp_str2ld(zeros_5119, 5119, &v) && v == 0, "5119 bytes are accepted");
    cr_expect(resp_str2ld(zeros_5118_1, 5119, &v) && v == 1);
    cr_expect(!resp_str2ld(zeros_5120, 5120, &v), "5120 bytes are refused");
    cr_expect(!resp_str2ld(zeros_5119_1, 5120, &v));
    cr_expect(resp_str2ld("1", 1, NULL));
}

/* ---- ld2string LD_STR_HUMAN: INCRBYFLOAT's reply (and stored value) for stored + increment ---- */

struct incr_row {
    const char *stored, *incr, *out;
};

static const struct incr_row incr_rows[] = {
    {"10.50", "0.1", "10.6"},
    {"10.6", "5.0e3", "5010.60000000000000009"},
    {"0", "0.1", "0.1"},
    {"0.1", "0.2", "0.3"},
    {"1.1", "2.2", "3.3"},
    {"1", "-1", "0"},
    {"5", "-5", "0"},
    {"-0", "0", "0"},
    {"0", "-0", "0"},
    {"0", "-1e-18", "0"}, /* "-0.00000000000000000" trimmed to "-0", printed "0" */
    {"0", "1e-17", "0.00000000000000001"},
    {"0", "1.5e-17", "0.00000000000000002"},
    {"0", "5e-18", "0"},
    {"0", "-5e-18", "0"},
    {"0", "4e-18", "0"},
    {"0", "-6e-18", "-0.00000000000000001"},
    {"3.0", "0", "3"},
    {"1.5", "1.5", "3"},
    {"100", "-0.5", "99.5"},
    {"-1", "0.99", "-0.01"},
    {"2", "0.00001", "2.00001"},
    {"0.0000001", "0", "0.0000001"},
    {"1e20", "0", "100000000000000000000"},
    {"0", "1e17", "100000000000000000"},
    {"0", "1e18", "1000000000000000000"},
    {"0", "1e19", "10000000000000000000"},
    {"0", "12345678901234567890", "12345678901234567890"},
    {"9223372036854775807", "1", "9223372036854775808"},
    {"0", "0.1e1", "1"},
    {"0", "0x10", "16"},
    {"0", "-2.5", "-2.5"},
    {"0", "123456789.123456789", "123456789.12345678899873747"},
    {"0", "3.14159265358979323846", "3.14159265358979324"},
    {"7", "0.33333333333333333333", "7.33333333333333333"},
    {"1000000", "0.01", "1000000.00999999999999091"},
    {"0", "4e-4951", "0"},
};

Test(resp_util, ld2str_incrbyfloat)
{
    for (size_t i = 0; i < sizeof(incr_rows) / sizeof(incr_rows[0]); i++) {
        const struct incr_row *r = &incr_rows[i];
        long double a, b;
        cr_assert(resp_str2ld(r->stored, strlen(r->stored), &a), "row %zu", i);
        cr_assert(resp_str2ld(r->incr, strlen(r->incr), &b), "row %zu", i);
        char buf[RESP_LD_STR_SIZE];
        size_t len = resp_ld2str(buf, sizeof(buf), a + b);
        cr_expect_str_eq(buf, r->out, "row %zu: %s + %s", i, r->stored, r->incr);
        cr_expect_eq(len, strlen(r->out), "row %zu", i);
    }
}

/* Long results: length, first and last 32 digits as the server printed them. */
struct long_row {
    const char *incr;
    size_t len;
    const char *head, *tail;
};

static const struct long_row long_rows[] = {
    {"1.7976931348623157e308", 309, "17976931348623156999592104677410", "20159985926376802466863339536384"},
    {"1e400", 401, "10000000000000000000281880683947", "76309734806343732497430221946880"},
    {"-1e400", 402, "-1000000000000000000028188068394", "76309734806343732497430221946880"},
    {"1e4932", 4933, "10000000000000000000060189493879", "71163141086538418113791886622720"},
};

Test(resp_util, ld2str_long)
{
    for (size_t i = 0; i < sizeof(long_rows) / sizeof(long_rows[0]); i++) {
        const struct long_row *r = &long_rows[i];
        long double v;
        cr_assert(resp_str2ld(r->incr, strlen(r->incr), &v));
        char buf[RESP_LD_STR_SIZE];
        size_t len = resp_ld2str(buf, sizeof(buf), 0.0L + v);
        cr_expect_eq(len, r->len, "row %zu: %zu", i, len);
        cr_expect_eq(strncmp(buf, r->head, 32), 0, "row %zu head", i);
        cr_expect_str_eq(buf + len - 32, r->tail, "row %zu tail", i);
    }
}

/* From the source: the "does not fit" and infinity rules. */
Test(resp_util, ld2str_edges)
{
    char buf[8];
    cr_expect_eq(resp_ld2str(buf, sizeof(buf), INFINITY), 3);
    cr_expect_str_eq(buf, "inf");
    cr_expect_eq(resp_ld2str(buf, sizeof(buf), -INFINITY), 4);
    cr_expect_str_eq(buf, "-inf");
    cr_expect_eq(resp_ld2str(buf, 4, INFINITY), 0, "Redis wants room for \"-inf\" and its NUL");
    /* "1.00000000000000000" is 19 bytes before trimming: it must fit untrimmed, with its NUL */
    char mid[19];
    cr_expect_eq(resp_ld2str(mid, sizeof(mid), 1.0L), 0);
    char ok[20];
    cr_expect_eq(resp_ld2str(ok, sizeof(ok), 1.0L), 1);
    cr_expect_str_eq(ok, "1");
}

/* ---- string2d and addReplyDouble's text: ZADD z <in> m; ZSCORE z m ---- */

struct d_row {
    struct bytes in;
    const char *reply; /* NULL: "ERR value is not a valid float" */
};

static const struct d_row d_rows[] = {
    {B("1"), "1"},
    {B("1.5"), "1.5"},
    {B("-1.5"), "-1.5"},
    {B("+1.5"), "1.5"},
    {B(".5"), "0.5"},
    {B("5."), "5"},
    {B("1e3"), "1000"},
    {B("1e-3"), "0.001"},
    {B("0x10"), "16"},
    {B("0x1p-2"), "0.25"},
    {B("0X1P+4"), "16"},
    {B("0x.8"), "0.5"},
    {B("inf"), "inf"},
    {B("-inf"), "-inf"},
    {B("Infinity"), "inf"},
    {B("+inf"), "inf"},
    {B("0"), "0"},
    {B("00001"), "1"},
    {B("1e-310"), "9.9999999999999694e-311"}, /* subnormal: ERANGE but not zero */
    {B("4e-320"), "3.999955468730732e-320"},
    {B("1e308"), "1e+308"},
    {B("nan"), NULL},
    {B("-nan"), NULL},
    {B(" 1"), NULL},
    {B("\t1"), NULL},
    {B("1 "), NULL},
    {B("1\000"), NULL},
    {B("\0001"), NULL},
    {B(""), NULL},
    {B("-"), NULL},
    {B("."), NULL},
    {B("1e"), NULL},
    {B("1e400"), NULL},
    {B("-1e400"), NULL},
    {B("1.8e308"), NULL},
    {B("1e-400"), NULL}, /* underflow to zero */
    {B("1e-4940"), NULL},
    {B("1e4932"), NULL},
    {B("1_000"), NULL},
    {B("0x"), NULL},
    {B("3.14abc"), NULL},
};

Test(resp_util, str2d)
{
    for (size_t i = 0; i < sizeof(d_rows) / sizeof(d_rows[0]); i++) {
        const struct d_row *r = &d_rows[i];
        double v;
        bool ok = resp_str2d(r->in.p, r->in.n, &v);
        cr_expect_eq(ok, r->reply != NULL, "row %zu \"%s\": ok %d", i, r->in.p, ok);
        if (!ok || r->reply == NULL)
            continue;
        char buf[32];
        cr_expect_eq(resp_d2str_reply(buf, sizeof(buf), v), strlen(r->reply), "row %zu", i);
        cr_expect_str_eq(buf, r->reply, "row %zu", i);
    }
    /* Redis's string2d has no length limit ("0" * 5120 is a valid score there); here that length is
     * refused, as documented. */
    double v;
    cr_expect(resp_str2d("0000000001", 10, &v) && v == 1);
    cr_expect(resp_str2d("1", 1, NULL));
}

/* ---- d2string (the listpack's score text) beside addReplyDouble's (ZSCORE's) ---- */

struct d2s_row {
    const char *in, *d2s, *reply;
};

static const struct d2s_row d2s_rows[] = {
    {"0.1", "0.10000000000000001", "0.10000000000000001"},
    {"-0.1", "-0.10000000000000001", "-0.10000000000000001"},
    {"1.5", "1.5", "1.5"},
    {"123.456", "123.456", "123.456"},
    {"12345678.9", "12345678.9", "12345678.9"},
    {"0.30000000000000004", "0.30000000000000004", "0.30000000000000004"},
    {"3", "3", "3"},
    {"-3", "-3", "-3"},
    {"100", "100", "100"},
    {"0x1.8p1", "3", "3"},
    {"1e15", "1000000000000000", "1000000000000000"},
    {"1e16", "10000000000000000", "10000000000000000"},
    {"1e17", "100000000000000000", "1e+17"},
    {"1e18", "1000000000000000000", "1e+18"},
    {"-1e18", "-1000000000000000000", "-1e+18"},
    {"123456789012345678", "123456789012345680", "1.2345678901234568e+17"},
    /* +-2^62 is the last integer printed as one (LLONG_MAX / 2 rounds to it) */
    {"4611686018427387903", "4611686018427387904", "4.6116860184273879e+18"},
    {"4611686018427387905.5", "4611686018427387904", "4.6116860184273879e+18"},
    {"-4611686018427387905", "-4611686018427387904", "-4.6116860184273879e+18"},
    {"4611687000000000000", "4.611687e+18", "4.611687e+18"},
    {"9223372036854775807", "9.2233720368547758e+18", "9.2233720368547758e+18"},
    {"1e19", "1e+19", "1e+19"},
    {"-1e19", "-1e+19", "-1e+19"},
    {"1e20", "1e+20", "1e+20"},
    {"1e21", "1e+21", "1e+21"},
    {"1e22", "1e+22", "1e+22"},
    {"0.000001", "9.9999999999999995e-07", "9.9999999999999995e-07"},
    {"1e-7", "9.9999999999999995e-08", "9.9999999999999995e-08"},
    {"2.5e-5", "2.5000000000000001e-05", "2.5000000000000001e-05"},
    {"1e-310", "9.9999999999999694e-311", "9.9999999999999694e-311"},
    {"5e-324", "4.9406564584124654e-324", "4.9406564584124654e-324"},
    {"1.7976931348623157e308", "1.7976931348623157e+308", "1.7976931348623157e+308"},
    {"inf", "inf", "inf"},
    {"-inf", "-inf", "-inf"},
};

Test(resp_util, d2str)
{
    for (size_t i = 0; i < sizeof(d2s_rows) / sizeof(d2s_rows[0]); i++) {
        const struct d2s_row *r = &d2s_rows[i];
        double v;
        cr_assert(resp_str2d(r->in, strlen(r->in), &v), "row %zu", i);
        char buf[32];
        cr_expect_eq(resp_d2str(buf, sizeof(buf), v), strlen(r->d2s), "row %zu %s", i, r->in);
        cr_expect_str_eq(buf, r->d2s, "row %zu %s", i, r->in);
        cr_expect_eq(resp_d2str_reply(buf, sizeof(buf), v), strlen(r->reply), "row %zu %s", i, r->in);
        cr_expect_str_eq(buf, r->reply, "row %zu %s", i, r->in);
    }
}

/* Zeros and NaN: d2string's from the source (a sorted set stores -0 as the integer 0, so the server
 * never shows d2string's "-0"); addReplyDouble's seen as ZINCRBY's reply for -0 and a script's
 * {double=0/0} (x86's default NaN has its sign bit set) and {double=-(0/0)}. */
Test(resp_util, zeros_and_nan)
{
    char buf[32];
    cr_expect_eq(resp_d2str(buf, sizeof(buf), 0.0), 1);
    cr_expect_str_eq(buf, "0");
    cr_expect_eq(resp_d2str(buf, sizeof(buf), -0.0), 2);
    cr_expect_str_eq(buf, "-0");
    cr_expect_eq(resp_d2str(buf, sizeof(buf), NAN), 3);
    cr_expect_str_eq(buf, "nan");
    cr_expect_eq(resp_d2str(buf, sizeof(buf), -NAN), 3);
    cr_expect_str_eq(buf, "nan");
    cr_expect_eq(resp_d2str_reply(buf, sizeof(buf), -0.0), 2);
    cr_expect_str_eq(buf, "-0");
    cr_expect_eq(resp_d2str_reply(buf, sizeof(buf), copysign(NAN, -1.0)), 4);
    cr_expect_str_eq(buf, "-nan");
    cr_expect_eq(resp_d2str_reply(buf, sizeof(buf), copysign(NAN, 1.0)), 3);
    cr_expect_str_eq(buf, "nan");
    cr_expect_eq(resp_d2str(buf, 3, 0.5), 0, "does not fit");
    cr_expect_eq(resp_d2str(buf, 3, 100.0), 0);
    cr_expect_eq(resp_d2str_reply(buf, 3, INFINITY), 0);
}

/* ---- stringmatchlen ---- */

/* The keys KEYS ran against. */
static const struct bytes glob_keys[] = {
    B("hello"), B("hallo"), B("hxllo"), B("hllo"), B("heeeello"), B("h"),    B(""),     B("a"),
    B("b"),     B("z"),     B("A"),     B("0"),    B("ab"),       B("abc"),  B("get"),  B("GET"),
    B("set"),   B("*"),     B("?"),     B("["),    B("]"),        B("^"),    B("_"),    B("`"),
    B("-"),     B("\\"),    B("abc\\"), B("a\\b"), B("a\000b"),   B("\000"), B("\x7f"), B("\x80"),
    B("\xc3"),  B("\xff"),  B("[a"),    B("]a"),   B("a]"),       B("-a"),
};

/* A key as the table spells it: printable ASCII as is, '\' doubled, other bytes \xNN, "" for empty. */
static void render_key(char *out, size_t size, struct bytes k)
{
    size_t o = 0;
    if (k.n == 0)
        o += (size_t)snprintf(out, size, "\"\"");
    for (size_t i = 0; i < k.n; i++) {
        unsigned char c = (unsigned char)k.p[i];
        if (c == '\\')
            o += (size_t)snprintf(out + o, size - o, "\\\\");
        else if (c > 0x20 && c < 0x7f)
            o += (size_t)snprintf(out + o, size - o, "%c", c);
        else
            o += (size_t)snprintf(out + o, size - o, "\\x%02x", c);
    }
}

/* The keys pat matches, rendered and joined by spaces, in glob_keys order. */
static void matching_keys(char *out, size_t size, struct bytes pat, bool nocase)
{
    size_t o = 0;
    out[0] = '\0';
    for (size_t i = 0; i < sizeof(glob_keys) / sizeof(glob_keys[0]); i++) {
        if (!resp_match(pat.p, pat.n, glob_keys[i].p, glob_keys[i].n, nocase))
            continue;
        char one[64];
        render_key(one, sizeof(one), glob_keys[i]);
        o += (size_t)snprintf(out + o, size - o, "%s%s", o ? " " : "", one);
    }
}

struct glob_row {
    struct bytes pat;
    const char *keys; /* what KEYS pat answered */
};

static const struct glob_row glob_rows[] = {
    /* KEYS "*" answers every key without matching (a lone "*" is special-cased); stringmatchlen
     * itself never matches "" with a '*' (PSUBSCRIBE "*" does not get PUBLISH ""), as KEYS "**" shows */
    {B("**"), "hello hallo hxllo hllo heeeello h a b z A 0 ab abc get GET set * ? [ ] ^ _ ` - \\\\ "
              "abc\\\\ a\\\\b a\\x00b \\x00 \\x7f \\x80 \\xc3 \\xff [a ]a a] -a"},
    {B("?*"), "hello hallo hxllo hllo heeeello h a b z A 0 ab abc get GET set * ? [ ] ^ _ ` - \\\\ "
              "abc\\\\ a\\\\b a\\x00b \\x00 \\x7f \\x80 \\xc3 \\xff [a ]a a] -a"},
    {B(""), "\"\""},
    {B("?"), "h a b z A 0 * ? [ ] ^ _ ` - \\\\ \\x00 \\x7f \\x80 \\xc3 \\xff"},
    {B("h?llo"), "hello hallo hxllo"},
    {B("h*llo"), "hello hallo hxllo hllo heeeello"},
    {B("h*l*o"), "hello hallo hxllo hllo heeeello"},
    {B("h[ae]llo"), "hello hallo"},
    {B("h[^e]llo"), "hallo hxllo"},
    {B("h[a-b]llo"), "hallo"},
    {B("h[b-a]llo"), "hallo"},
    {B("[z-a]"), "h a b z"},
    {B("[a-c-z]"), "a b z -"},
    {B("\\*"), "*"},
    {B("\\?"), "?"},
    {B("\\\\"), "\\\\"},
    {B("\\"), "\\\\"}, /* a trailing backslash is itself */
    {B("*\\"), "\\\\ abc\\\\"},
    {B("abc\\"), "abc\\\\"},
    {B("a\\b"), "ab"},
    {B("a\\\\b"), "a\\\\b"},
    {B("abc***"), "abc abc\\\\"},
    {B("abc*?"), "abc\\\\"},
    {B("ab*"), "ab abc abc\\\\"},
    {B("*b*"), "b ab abc abc\\\\ a\\\\b a\\x00b"},
    {B("a?b"), "a\\\\b a\\x00b"},
    {B("a\000*"), "a\\x00b"},
    {B("["), ""},
    {B("[^"), "h a b z A 0 * ? [ ] ^ _ ` - \\\\ \\x00 \\x7f \\x80 \\xc3 \\xff"},
    {B("[a"), "a"},
    {B("[^a"), "h b z A 0 * ? [ ] ^ _ ` - \\\\ \\x00 \\x7f \\x80 \\xc3 \\xff"},
    {B("h[a-"), ""},
    {B("[a-]"), "a ] ^ _ `"}, /* the range a..']' */
    {B("[]a]"), ""},
    {B("[]"), ""},
    {B("a[]"), ""},
    {B("[^]"), "h a b z A 0 * ? [ ] ^ _ ` - \\\\ \\x00 \\x7f \\x80 \\xc3 \\xff"},
    {B("[^]]"), "a]"},
    {B("[\\]]"), "]"},
    {B("[\\"), "\\\\"},
    {B("[\\a"), "a"},
    {B("[a\\"), "a \\\\"},
    {B("[-]"), "-"},
    {B("[--a]"), "a A 0 ? [ ] ^ _ ` - \\\\"},
    {B("[\\-]"), "-"},
    {B("[!a]"), "a"},
    {B("[[]"), "["},
    {B("*["), ""},
    {B("]"), "]"},
    {B("^"), "^"},
    /* signed bytes: 0xff is -1, 0x80 is -128 */
    {B("[a-\xff]"), "a A 0 * ? [ ] ^ _ ` - \\\\ \\x00 \\xff"},
    {B("[\x80-\xff]"), "\\x80 \\xc3 \\xff"},
    {B("[\x7f-\x80]"), "h a b z A 0 * ? [ ] ^ _ ` - \\\\ \\x00 \\x7f \\x80 \\xc3 \\xff"},
    {B("[\xc3-z]et"), "get set"},
    {B("[A-Z]*"), "A GET"},
    {B("[^a-z]*"), "A 0 GET * ? [ ] ^ _ ` - \\\\ \\x00 \\x7f \\x80 \\xc3 \\xff [a ]a -a"},
};

Test(resp_util, match_keys)
{
    for (size_t i = 0; i < sizeof(glob_rows) / sizeof(glob_rows[0]); i++) {
        char got[1024];
        matching_keys(got, sizeof(got), glob_rows[i].pat, false);
        cr_expect_str_eq(got, glob_rows[i].keys, "row %zu pattern \"%s\"", i, glob_rows[i].pat.p);
    }
    cr_expect(!resp_match("*", 1, "", 0, false));
    cr_expect(resp_match("*", 1, "x", 1, false));
}

/* nocase, from COMMAND LIST FILTERBY PATTERN: which of the names a pattern matches. */
struct nocase_row {
    struct bytes pat;
    const char *name;
    bool match;
};

/* clang-format off */
static const struct nocase_row nocase_rows[] = {
    {B("GE[T]"), "get", true},
    {B("GE?"), "get", true},
    {B("?ET"), "get", true},
    {B("?ET"), "set", true},
    {B("[F-H]ET"), "get", true},
    {B("g[E-E]t"), "get", true},
    {B("ge\\T"), "get", true},      /* an escape outside a class folds case */
    {B("ge[\\T]"), "get", false},   /* inside one it does not */
    {B("[^\\G]ET"), "get", true},
    {B("[^a-z]et"), "get", false},
    {B("[\xc3-z]et"), "get", false}, /* 0xc3 is -61, folded to 195 after the swap check */
    {B("[\xc3-z]et"), "set", false},
    {B("[a-\xc3]et"), "get", false},
};
/* clang-format on */

Test(resp_util, match_nocase)
{
    for (size_t i = 0; i < sizeof(nocase_rows) / sizeof(nocase_rows[0]); i++) {
        const struct nocase_row *r = &nocase_rows[i];
        bool m = resp_match(r->pat.p, r->pat.n, r->name, strlen(r->name), true);
        cr_expect_eq(m, r->match, "row %zu \"%s\" vs %s", i, r->pat.p, r->name);
    }
    /* without nocase, "[\xc3-z]et" matches get and set (the KEYS table above) */
}

/* "*a" repeated k times against k a's: KEYS found the key for k = 999 and 1000, not for 1001 or 1002;
 * and "*?" * 50000 against 50000 a's found nothing (the nesting limit, not a stack overflow). */
static bool nested(size_t k, const char *unit)
{
    size_t np = 2 * k, ns = k;
    char *pat = malloc(np), *s = malloc(ns);
    cr_assert(pat && s);
    for (size_t i = 0; i < k; i++)
        memcpy(pat + 2 * i, unit, 2);
    memset(s, 'a', ns);
    bool m = resp_match(pat, np, s, ns, false);
    free(pat);
    free(s);
    return m;
}

Test(resp_util, match_nesting_limit)
{
    cr_expect(nested(999, "*a"));
    cr_expect(nested(1000, "*a"));
    cr_expect(!nested(1001, "*a"));
    cr_expect(!nested(1002, "*a"));
    cr_expect(!nested(50000, "*?"));
}

/* A pattern that is exponential without Redis's early exit (CVE-2022-36021) ends at once. */
Test(resp_util, match_gives_up_early, .timeout = 10)
{
    char pat[64 * 2 + 1], s[5000];
    for (size_t i = 0; i < 64; i++)
        memcpy(pat + 2 * i, "a*", 2);
    pat[128] = 'b';
    memset(s, 'a', sizeof(s));
    cr_expect(!resp_match(pat, sizeof(pat), s, sizeof(s), false));
}
