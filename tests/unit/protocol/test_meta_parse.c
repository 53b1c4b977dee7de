/*
 * test_meta_parse.c: the meta command parser (protocol/mc/mc_meta.c), table-driven. Each row is one
 * request line (without its line end) and the status and error line memcached 1.6.18 answers it
 * with (measured against the real server). Further tests check the parsed fields, the flag order,
 * base64 and the swallow rule of a refused ms.
 */
#include <criterion/criterion.h>
#include <stdio.h>
#include <string.h>

#include "protocol/mc/mc_meta.h"

#define K50  "kkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkk"
#define K250 K50 K50 K50 K50 K50
#define K251 K250 "k"
#define O32  "O1234567890123456789012345678901"
#define O33  O32 "2"
#define V17  " v v v v v v v v v v v v v v v v v"

struct meta_case {
    const char *line;
    enum mc_parse_status st;
    enum mc_meta_cmd cmd;
    const char *error;
    bool swallow;
};

#define OK(l, c)                                                                                             \
    {                                                                                                        \
        l, MC_PARSE_OK, c, NULL, false                                                                       \
    }
#define ERR(l)                                                                                               \
    {                                                                                                        \
        l, MC_PARSE_ERROR, MC_META_NONE, NULL, false                                                         \
    }
#define CERR(l, c, e)                                                                                        \
    {                                                                                                        \
        l, MC_PARSE_CLIENT_ERROR, c, e, false                                                                \
    }
#define SWALLOW(l, e)                                                                                        \
    {                                                                                                        \
        l, MC_PARSE_CLIENT_ERROR, MC_META_MS, e, true                                                        \
    }

static const struct meta_case cases[] = {
    /* token counts */
    ERR("mg"),
    ERR("md"),
    ERR("ma"),
    ERR("ms"),
    ERR("mx a"),
    ERR("MG a"),
    OK("mn", MC_META_MN),
    OK("mn x y", MC_META_MN),
    CERR("me", MC_META_ME, MC_ERR_BAD_FORMAT),
    CERR("ms a", MC_META_MS, MC_ERR_BAD_FORMAT),
    /* keys */
    OK("mg " K250, MC_META_MG),
    CERR("mg " K251 " v", MC_META_MG, MC_ERR_BAD_FORMAT),
    CERR("ms " K251 " 2", MC_META_MS, MC_ERR_BAD_FORMAT),
    CERR("md " K251, MC_META_MD, MC_ERR_BAD_FORMAT),
    CERR("ma " K251, MC_META_MA, MC_ERR_BAD_FORMAT),
    CERR("me " K251, MC_META_ME, MC_ERR_BAD_FORMAT),
    OK("  mg   a   v  ", MC_META_MG),
    /* every mg flag */
    OK("mg a c C1 f h k l O1 q s t u v", MC_META_MG),
    OK("mg a N30 R30 T30", MC_META_MG),
    OK("mg a F5 C1 MZ J1 D1 I P L", MC_META_MG),
    OK("mg a vx kx cz", MC_META_MG),
    CERR("mg a x", MC_META_MG, MC_META_ERR_INVALID),
    CERR("mg a Z", MC_META_MG, MC_META_ERR_INVALID),
    CERR("mg a E5", MC_META_MG, MC_META_ERR_INVALID),
    CERR("mg a 1", MC_META_MG, MC_META_ERR_INVALID),
    CERR("mg a v v", MC_META_MG, MC_META_ERR_DUPLICATE),
    CERR("mg a \xc3\xa9", MC_META_MG, MC_META_ERR_DUPLICATE),
    CERR("mg a N", MC_META_MG, MC_META_ERR_BAD_TOKEN),
    CERR("mg a Nx", MC_META_MG, MC_META_ERR_BAD_TOKEN),
    CERR("mg a R", MC_META_MG, MC_META_ERR_BAD_TOKEN),
    CERR("mg a T", MC_META_MG, MC_META_ERR_BAD_TOKEN),
    CERR("mg a Tx Fy", MC_META_MG, MC_META_ERR_BAD_TOKEN),
    CERR("mg a Fy Tx", MC_META_MG, MC_META_ERR_BAD_TOKEN),
    CERR("mg a Fy", MC_META_MG, MC_ERR_BAD_FORMAT),
    CERR("mg a Cx", MC_META_MG, MC_META_ERR_BAD_TOKEN),
    CERR("mg a M", MC_META_MG, MC_META_ERR_M_LENGTH),
    CERR("mg a Jx", MC_META_MG, MC_META_ERR_INITIAL),
    CERR("mg a Dx", MC_META_MG, MC_META_ERR_DELTA),
    CERR("mg a b v", MC_META_MG, MC_META_ERR_DECODE),
    CERR("mg Y=== b", MC_META_MG, MC_META_ERR_DECODE),
    CERR("mg a Tx b", MC_META_MG, MC_META_ERR_DECODE),
    OK("mg a " O32, MC_META_MG),
    OK("mg a " O33, MC_META_MG), /* opaque_late: see late_opaque_error */
    CERR("mg a " O33 " zz", MC_META_MG, MC_META_ERR_INVALID),
    CERR("mg a" V17, MC_META_MG, MC_META_ERR_DUPLICATE),
    CERR("mg a v" V17, MC_META_MG, MC_META_ERR_TOO_LONG_MG),
    /* ms */
    OK("ms a 2", MC_META_MS),
    OK("ms a 2 c C1 F5 I k O1 q s T30 MS", MC_META_MS),
    OK("ms a 2 ME", MC_META_MS),
    OK("ms a 2 MA", MC_META_MS),
    OK("ms a 2 MP", MC_META_MS),
    OK("ms a 2 MR", MC_META_MS),
    OK("ms a 2 MS", MC_META_MS),
    CERR("ms a abc", MC_META_MS, MC_ERR_BAD_FORMAT),
    CERR("ms a -1", MC_META_MS, MC_ERR_BAD_FORMAT),
    CERR("ms a 2 v" V17, MC_META_MS, MC_META_ERR_TOO_LONG),
    SWALLOW("ms a 2 S2", MC_META_ERR_INVALID),
    SWALLOW("ms a 2 E5", MC_META_ERR_INVALID),
    SWALLOW("ms a 2 zz", MC_META_ERR_INVALID),
    SWALLOW("ms a 2 T1 T2", MC_META_ERR_DUPLICATE),
    SWALLOW("ms a 2 Tx", MC_META_ERR_BAD_TOKEN),
    SWALLOW("ms a 2 Fx", MC_ERR_BAD_FORMAT),
    SWALLOW("ms a 2 F-1", MC_ERR_BAD_FORMAT),
    SWALLOW("ms a 2 C", MC_META_ERR_BAD_TOKEN),
    SWALLOW("ms a 2 MX", MC_META_ERR_MODE_MS),
    SWALLOW("ms a 2 Ms", MC_META_ERR_MODE_MS),
    SWALLOW("ms a 2 MEE", MC_META_ERR_M_LENGTH),
    SWALLOW("ms a 2 MS MA", MC_META_ERR_DUPLICATE),
    SWALLOW("ms a 2 MZ Tx", MC_META_ERR_BAD_TOKEN),
    SWALLOW("ms a 2 " O33, MC_META_ERR_OPAQUE),
    SWALLOW("ms a 2 " O33 " MZ", MC_META_ERR_MODE_MS),
    SWALLOW("ms a 2 b", MC_META_ERR_DECODE),
    /* md */
    OK("md a C1 I k O1 q T30", MC_META_MD),
    CERR("md a x", MC_META_MD, MC_META_ERR_INV_OR_DUP),
    CERR("md a T1 T1", MC_META_MD, MC_META_ERR_INV_OR_DUP),
    CERR("md a Tx", MC_META_MD, MC_META_ERR_INV_OR_DUP),
    CERR("md Y b", MC_META_MD, MC_META_ERR_INV_OR_DUP),
    CERR("md a " O33, MC_META_MD, MC_META_ERR_OPAQUE),
    CERR("md a " O33 " zz", MC_META_MD, MC_META_ERR_INV_OR_DUP),
    CERR("md a v" V17, MC_META_MD, MC_META_ERR_TOO_LONG),
    /* ma */
    OK("ma a N0 J10 D5 T30 C1 c t v k O1 q MI", MC_META_MA),
    OK("ma a M+", MC_META_MA),
    OK("ma a MD", MC_META_MA),
    OK("ma a M-", MC_META_MA),
    CERR("ma a MX", MC_META_MA, MC_META_ERR_MODE_MA),
    CERR("ma a Mi", MC_META_MA, MC_META_ERR_MODE_MA),
    CERR("ma a Md", MC_META_MA, MC_META_ERR_MODE_MA),
    CERR("ma a M", MC_META_MA, MC_META_ERR_INV_OR_DUP),
    CERR("ma a Dx", MC_META_MA, MC_META_ERR_INV_OR_DUP),
    CERR("ma a D18446744073709551616", MC_META_MA, MC_META_ERR_INV_OR_DUP),
    CERR("ma a Jx", MC_META_MA, MC_META_ERR_INV_OR_DUP),
    CERR("ma a zz", MC_META_MA, MC_META_ERR_INV_OR_DUP),
    CERR("ma a b", MC_META_MA, MC_META_ERR_INV_OR_DUP),
    CERR("ma a " O33 " MZ", MC_META_MA, MC_META_ERR_MODE_MA),
    CERR("ma a v" V17, MC_META_MA, MC_META_ERR_TOO_LONG),
    /* me */
    OK("me a", MC_META_ME),
    OK("me a x", MC_META_ME),
    OK("me YQ== b c", MC_META_ME),
    CERR("me a b", MC_META_ME, MC_ERR_BAD_FORMAT),
};

Test(meta_parse, table)
{
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        const struct meta_case *c = &cases[i];
        struct mc_meta_request req;
        enum mc_parse_status st = mc_meta_parse(c->line, strlen(c->line), &req);
        cr_expect_eq(st, c->st, "\"%s\": status %d, expected %d", c->line, st, c->st);
        if (c->st == MC_PARSE_ERROR)
            continue;
        cr_expect_eq(req.cmd, c->cmd, "\"%s\": cmd %d, expected %d", c->line, req.cmd, c->cmd);
        if (c->st == MC_PARSE_CLIENT_ERROR) {
            cr_expect_str_eq(req.error, c->error, "\"%s\"", c->line);
            cr_expect_eq(req.swallow, c->swallow, "\"%s\": swallow %d", c->line, req.swallow);
        }
    }
}

static struct mc_meta_request parse_ok(const char *line)
{
    struct mc_meta_request req;
    enum mc_parse_status st = mc_meta_parse(line, strlen(line), &req);
    cr_assert_eq(st, MC_PARSE_OK, "\"%s\": status %d (%s)", line, st, req.error ? req.error : "");
    return req;
}

Test(meta_parse, flag_order_and_arguments)
{
    struct mc_meta_request r = parse_ok("mg key s v f t k Oab c h l u N30 R5 T-1 q");
    cr_assert_eq(r.cmd, MC_META_MG);
    cr_assert_eq(r.nkey, 3);
    cr_assert(memcmp(r.key, "key", 3) == 0);
    cr_assert_eq(r.norder, 14);
    cr_assert(memcmp(r.order, "svftkOchluNRTq", 14) == 0);
    cr_assert_eq(r.vivify_ttl, 30);
    cr_assert_eq(r.recache_ttl, 5);
    cr_assert_eq(r.ttl, -1);
    cr_assert_eq(r.opaque.len, 3);
    cr_assert(memcmp(r.opaque.p, "Oab", 3) == 0);
    cr_assert(mc_meta_has(&r, 'q') && mc_meta_has(&r, 'T') && !mc_meta_has(&r, 'I'));
    cr_assert_eq(r.delta, 1, "ma's delta defaults to 1");
}

Test(meta_parse, ms_fields)
{
    struct mc_meta_request r = parse_ok("ms k 10 F4294967296 C77 MA I");
    cr_assert_eq(r.nbytes, 10);
    cr_assert_eq(r.client_flags, 0, "flags are truncated to 32 bits, as memcached does");
    cr_assert_eq(r.cas, 77);
    cr_assert_eq(r.mode, 'A');
    r = parse_ok("ms k 0 F4294967295");
    cr_assert_eq(r.client_flags, 4294967295u);
    struct mc_meta_request bad;
    cr_assert_eq(mc_meta_parse("ms k 5 zz", 9, &bad), MC_PARSE_CLIENT_ERROR);
    cr_assert(bad.swallow);
    cr_assert_eq(bad.nbytes, 5, "the swallow length is known");
}

Test(meta_parse, ma_fields)
{
    struct mc_meta_request r = parse_ok("ma k D18446744073709551615 J42 N0 MD");
    cr_assert_eq(r.delta, UINT64_MAX);
    cr_assert_eq(r.initial, 42);
    cr_assert_eq(r.mode, 'D');
}

Test(meta_parse, base64_keys)
{
    struct mc_meta_request r = parse_ok("mg YWJj b k");
    cr_assert(r.binary);
    cr_assert_eq(r.nkey, 3);
    cr_assert(memcmp(r.key, "abc", 3) == 0);
    r = parse_ok("ms Y!Q== 1 b");
    cr_assert_eq(r.nkey, 1, "bytes outside the alphabet are skipped");
    cr_assert_eq(r.key[0], 'a');
    r = parse_ok("me YWI= b");
    cr_assert_eq(r.nkey, 2);
}

Test(meta_parse, base64_round_trip)
{
    char in[256], enc[400], dec[400];
    for (size_t n = 1; n <= 255; n++) {
        for (size_t i = 0; i < n; i++)
            in[i] = (char)(i * 37 + n);
        size_t e = mc_meta_base64_encode(in, n, enc);
        cr_assert_eq(e, 4 * ((n + 2) / 3));
        size_t d = mc_meta_base64_decode(enc, e, dec);
        cr_assert_eq(d, n, "length %zu", n);
        cr_assert(memcmp(in, dec, n) == 0);
    }
    cr_assert_eq(mc_meta_base64_decode("YQ", 2, dec), 0, "unpadded");
    cr_assert_eq(mc_meta_base64_decode("====", 4, dec), 0, "only padding");
    cr_assert_eq(mc_meta_base64_decode("!!!!", 4, dec), 0, "nothing in the alphabet");
}

Test(meta_parse, late_opaque_error)
{
    struct mc_meta_request r = parse_ok("mg a v O123456789012345678901234567890123");
    cr_assert(r.opaque_late, "mg takes effect before memcached notices the long opaque");
    r = parse_ok("ma a O123456789012345678901234567890123");
    cr_assert(r.opaque_late);
    r = parse_ok("mg a v O1234567890123456789012345678901");
    cr_assert(!r.opaque_late, "32 bytes are allowed");
}

Test(meta_parse, detection)
{
    cr_assert(mc_meta_is_meta("mg a", 4));
    cr_assert(mc_meta_is_meta("  mn", 4));
    cr_assert(mc_meta_is_meta("me", 2));
    cr_assert(!mc_meta_is_meta("mget a", 6));
    cr_assert(!mc_meta_is_meta("m", 1));
    cr_assert(!mc_meta_is_meta("get a", 5));
    cr_assert(!mc_meta_is_meta("\0mg a", 5), "the line ends at a NUL byte");
}

Test(meta_parse, nul_cuts_the_line)
{
    struct mc_meta_request r;
    cr_assert_eq(mc_meta_parse("mg a\0zz", 7, &r), MC_PARSE_OK);
    cr_assert_eq(r.norder, 0);
}
