/*
 * test_parse.c: the request-line parser, table-driven. Every row is one line (without its line end)
 * and the status, command, reply and noreply flag memcached 1.6.18 gives it (measured against the
 * real server, see doc/protocol.md). Further tests check the fields and the number rules.
 */
#include <criterion/criterion.h>
#include <stdio.h>
#include <string.h>

#include "protocol/mc/mc_parse.h"

#define K50  "kkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkk"
#define K250 K50 K50 K50 K50 K50
#define K251 K250 "k"

struct parse_case {
    const char *line;
    enum mc_parse_status st;
    enum mc_cmd cmd;
    const char *error; /* for MC_PARSE_CLIENT_ERROR */
    bool noreply;
};

#define OK(l, c)                                                                                             \
    {                                                                                                        \
        l, MC_PARSE_OK, c, NULL, false                                                                       \
    }
#define OKNR(l, c)                                                                                           \
    {                                                                                                        \
        l, MC_PARSE_OK, c, NULL, true                                                                        \
    }
#define ERR(l)                                                                                               \
    {                                                                                                        \
        l, MC_PARSE_ERROR, MC_CMD_NONE, NULL, false                                                          \
    }
#define CERR(l, c, e)                                                                                        \
    {                                                                                                        \
        l, MC_PARSE_CLIENT_ERROR, c, e, false                                                                \
    }
#define CERRNR(l, c, e)                                                                                      \
    {                                                                                                        \
        l, MC_PARSE_CLIENT_ERROR, c, e, true                                                                 \
    }
#define CLOSE(l)                                                                                             \
    {                                                                                                        \
        l, MC_PARSE_CLOSE, MC_CMD_NONE, NULL, false                                                          \
    }

static const struct parse_case cases[] = {
    /* empty and unknown */
    ERR(""),
    ERR(" "),
    ERR("\r"),
    ERR("foo"),
    ERR("SET a 0 0 1"),
    ERR("Get a"),
    ERR("set\ta 0 0 1"),
    ERR("get\ta"),
    ERR("foo HTTPS"),
    ERR("foo http/1.1"),
    ERR("GET /"),
    ERR("GET / HTTP/1.1 x"),
    ERR("misbehave"),
    ERR("extstore free_memchunks 0 0"),
    ERR("mg a v"),
    ERR("debugtime"),
    /* HTTP request lines close the connection */
    CLOSE("GET / HTTP/1.1"),
    CLOSE("POST /x HTTP/1.0"),
    CLOSE("HTTP/1.1"),
    CLOSE("FOO HTTP/1.0"),
    /* get family */
    OK("get a", MC_CMD_GET),
    OK("get a b c", MC_CMD_GET),
    OK("  get  a  ", MC_CMD_GET),
    OK("gets a", MC_CMD_GETS),
    OK("get " K250, MC_CMD_GET),
    OK("get / HTTP/1.1", MC_CMD_GET),
    OK("get a noreply", MC_CMD_GET),
    OK("gat 0 a", MC_CMD_GAT),
    OK("gats 10 a b", MC_CMD_GATS),
    OK("gat 0", MC_CMD_GAT),
    OK("get a\r", MC_CMD_GET),
    {"get", MC_PARSE_ERROR, MC_CMD_GET, NULL, false},
    {"get ", MC_PARSE_ERROR, MC_CMD_GET, NULL, false},
    {"gets", MC_PARSE_ERROR, MC_CMD_GETS, NULL, false},
    {"gat", MC_PARSE_ERROR, MC_CMD_GAT, NULL, false},
    CERR("get " K251, MC_CMD_GET, MC_ERR_BAD_FORMAT),
    CERR("get a " K251 " b", MC_CMD_GET, MC_ERR_BAD_FORMAT),
    CERR("gets a " K251, MC_CMD_GETS, MC_ERR_BAD_FORMAT),
    CERR("gat x a", MC_CMD_GAT, MC_ERR_EXPTIME),
    CERR("gat noreply a", MC_CMD_GAT, MC_ERR_EXPTIME),
    CERR("gat 0 " K251, MC_CMD_GAT, MC_ERR_BAD_FORMAT),
    /* storage */
    OK("set a 0 0 1", MC_CMD_SET),
    OK("set a 0 0 1 garbage", MC_CMD_SET),
    OKNR("set a 0 0 1 noreply", MC_CMD_SET),
    OK("add a 0 0 1", MC_CMD_ADD),
    OK("replace a 0 0 1", MC_CMD_REPLACE),
    OK("append a 0 0 1", MC_CMD_APPEND),
    OK("prepend a 0 0 1", MC_CMD_PREPEND),
    OK("cas a 0 0 1 5", MC_CMD_CAS),
    OKNR("cas a 0 0 1 5 noreply", MC_CMD_CAS),
    OK("cas a 0 0 1 1 2", MC_CMD_CAS),
    OK("set a 0 0 1\t", MC_CMD_SET),
    OK("set a 4294967297 0 1", MC_CMD_SET),
    OK("set a 0 0 4294967297", MC_CMD_SET),
    OK("set a 0 2147483648 1", MC_CMD_SET),
    OK("set a 0 -1 1", MC_CMD_SET),
    OK("set a +5 +5 +1", MC_CMD_SET),
    OK("set a -0 0 1", MC_CMD_SET),
    OK("set " K250 " 0 0 1", MC_CMD_SET),
    OK("set a 0 0 2147483645", MC_CMD_SET),
    {"set a 0 0", MC_PARSE_ERROR, MC_CMD_SET, NULL, false},
    {"set a 0 0 1 2 3", MC_PARSE_ERROR, MC_CMD_SET, NULL, false},
    {"set a 0 0\t1", MC_PARSE_ERROR, MC_CMD_SET, NULL, false},
    {"set HTTP/1.1", MC_PARSE_ERROR, MC_CMD_SET, NULL, false},
    {"cas a 0 0 1", MC_PARSE_ERROR, MC_CMD_CAS, NULL, false},
    CERR("set " K251 " 0 0 1", MC_CMD_SET, MC_ERR_BAD_FORMAT),
    CERR("set a abc 0 1", MC_CMD_SET, MC_ERR_BAD_FORMAT),
    CERR("set a -1 0 1", MC_CMD_SET, MC_ERR_BAD_FORMAT),
    CERR("set a 0 abc 1", MC_CMD_SET, MC_ERR_BAD_FORMAT),
    CERR("set a 0 5x 1", MC_CMD_SET, MC_ERR_BAD_FORMAT),
    CERR("set a 0 0 -1", MC_CMD_SET, MC_ERR_BAD_FORMAT),
    CERR("set a 0 0 abc", MC_CMD_SET, MC_ERR_BAD_FORMAT),
    CERR("set a 0 0 2147483646", MC_CMD_SET, MC_ERR_BAD_FORMAT),
    CERR("set a 18446744073709551616 0 1", MC_CMD_SET, MC_ERR_BAD_FORMAT),
    CERR("set a 0 9223372036854775808 1", MC_CMD_SET, MC_ERR_BAD_FORMAT),
    CERRNR("set a x 0 1 noreply", MC_CMD_SET, MC_ERR_BAD_FORMAT),
    CERRNR("set a 0 0 noreply", MC_CMD_SET, MC_ERR_BAD_FORMAT),
    CERR("cas a 0 0 1 abc", MC_CMD_CAS, MC_ERR_BAD_FORMAT),
    CERR("cas a 0 0 1 -1", MC_CMD_CAS, MC_ERR_BAD_FORMAT),
    CERR("cas a 0 0 1 18446744073709551616", MC_CMD_CAS, MC_ERR_BAD_FORMAT),
    /* incr / decr */
    OK("incr a 1", MC_CMD_INCR),
    OK("decr a 1", MC_CMD_DECR),
    OKNR("incr a 1 noreply", MC_CMD_INCR),
    OK("incr a 1 2", MC_CMD_INCR),
    OK("incr a +1", MC_CMD_INCR),
    OK("incr a 18446744073709551615", MC_CMD_INCR),
    {"incr", MC_PARSE_ERROR, MC_CMD_INCR, NULL, false},
    {"incr a", MC_PARSE_ERROR, MC_CMD_INCR, NULL, false},
    {"incr a 1 2 3", MC_PARSE_ERROR, MC_CMD_INCR, NULL, false},
    CERR("incr a x", MC_CMD_INCR, MC_ERR_DELTA),
    CERR("incr a -1", MC_CMD_INCR, MC_ERR_DELTA),
    CERR("incr a 1x", MC_CMD_INCR, MC_ERR_DELTA),
    CERR("decr a 18446744073709551616", MC_CMD_DECR, MC_ERR_DELTA),
    CERRNR("incr a x noreply", MC_CMD_INCR, MC_ERR_DELTA),
    CERR("incr " K251 " 1", MC_CMD_INCR, MC_ERR_BAD_FORMAT),
    /* delete */
    OK("delete a", MC_CMD_DELETE),
    OK("delete a 0", MC_CMD_DELETE),
    OKNR("delete a noreply", MC_CMD_DELETE),
    OKNR("delete a 0 noreply", MC_CMD_DELETE),
    {"delete", MC_PARSE_ERROR, MC_CMD_DELETE, NULL, false},
    {"delete a 0 0 0", MC_PARSE_ERROR, MC_CMD_DELETE, NULL, false},
    CERR("delete a 1", MC_CMD_DELETE, MC_ERR_DELETE_USAGE),
    CERR("delete a x", MC_CMD_DELETE, MC_ERR_DELETE_USAGE),
    CERR("delete a noreply x", MC_CMD_DELETE, MC_ERR_DELETE_USAGE),
    CERR("delete a 0 x", MC_CMD_DELETE, MC_ERR_DELETE_USAGE),
    CERR("delete a b HTTP/1.1", MC_CMD_DELETE, MC_ERR_DELETE_USAGE),
    CERRNR("delete a 1 noreply", MC_CMD_DELETE, MC_ERR_DELETE_USAGE),
    CERR("delete " K251, MC_CMD_DELETE, MC_ERR_BAD_FORMAT),
    /* touch */
    OK("touch a 10", MC_CMD_TOUCH),
    OKNR("touch a 10 noreply", MC_CMD_TOUCH),
    OK("touch a 10 extra", MC_CMD_TOUCH),
    {"touch a", MC_PARSE_ERROR, MC_CMD_TOUCH, NULL, false},
    {"touch a 10 noreply x", MC_PARSE_ERROR, MC_CMD_TOUCH, NULL, false},
    CERR("touch a x", MC_CMD_TOUCH, MC_ERR_EXPTIME),
    CERRNR("touch a x noreply", MC_CMD_TOUCH, MC_ERR_EXPTIME),
    CERR("touch " K251 " 1", MC_CMD_TOUCH, MC_ERR_BAD_FORMAT),
    /* flush_all */
    OK("flush_all", MC_CMD_FLUSH_ALL),
    OK("flush_all 0", MC_CMD_FLUSH_ALL),
    OK("flush_all -1", MC_CMD_FLUSH_ALL),
    OKNR("flush_all noreply", MC_CMD_FLUSH_ALL),
    OKNR("flush_all 10 noreply", MC_CMD_FLUSH_ALL),
    OK("flush_all 1 2", MC_CMD_FLUSH_ALL),
    OK("flush_all 99999999999", MC_CMD_FLUSH_ALL),
    {"flush_all 1 2 3", MC_PARSE_ERROR, MC_CMD_FLUSH_ALL, NULL, false},
    CERR("flush_all x", MC_CMD_FLUSH_ALL, MC_ERR_EXPTIME),
    CERRNR("flush_all x noreply", MC_CMD_FLUSH_ALL, MC_ERR_EXPTIME),
    CERR("flush_all noreply x", MC_CMD_FLUSH_ALL, MC_ERR_EXPTIME),
    /* the rest */
    OK("version", MC_CMD_VERSION),
    OK("version x", MC_CMD_VERSION),
    OK("version HTTP/1.1", MC_CMD_VERSION),
    OK("verbosity 1", MC_CMD_VERBOSITY),
    OK("verbosity 1 2", MC_CMD_VERBOSITY),
    OKNR("verbosity 1 noreply", MC_CMD_VERBOSITY),
    {"verbosity", MC_PARSE_ERROR, MC_CMD_VERBOSITY, NULL, false},
    {"verbosity 1 2 3", MC_PARSE_ERROR, MC_CMD_VERBOSITY, NULL, false},
    CERR("verbosity x", MC_CMD_VERBOSITY, MC_ERR_BAD_FORMAT),
    CERRNR("verbosity noreply", MC_CMD_VERBOSITY, MC_ERR_BAD_FORMAT),
    OK("quit", MC_CMD_QUIT),
    OK("quit x", MC_CMD_QUIT),
    OK("shutdown", MC_CMD_SHUTDOWN),
    OK("shutdown graceful", MC_CMD_SHUTDOWN),
    OK("shutdown x", MC_CMD_SHUTDOWN),
    OK("stats", MC_CMD_STATS),
    OK("stats items", MC_CMD_STATS),
    OK("stats detail on", MC_CMD_STATS),
};

Test(parse, table)
{
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        const struct parse_case *pc = &cases[i];
        struct mc_request req;
        enum mc_parse_status st = mc_parse_line(pc->line, strlen(pc->line), &req);
        cr_expect_eq(st, pc->st, "line \"%s\": status %d, want %d", pc->line, st, pc->st);
        if (pc->st == MC_PARSE_CLOSE)
            continue;
        cr_expect_eq(req.cmd, pc->cmd, "line \"%s\": cmd %d, want %d", pc->line, req.cmd, pc->cmd);
        if (pc->st == MC_PARSE_CLIENT_ERROR && st == MC_PARSE_CLIENT_ERROR)
            cr_expect_str_eq(req.error, pc->error, "line \"%s\"", pc->line);
        if (st == pc->st && st != MC_PARSE_ERROR)
            cr_expect_eq(req.noreply, pc->noreply, "line \"%s\": noreply %d", pc->line, req.noreply);
    }
}

static enum mc_parse_status parse(const char *line, struct mc_request *req)
{
    return mc_parse_line(line, strlen(line), req);
}

Test(parse, storage_fields)
{
    struct mc_request req;
    cr_assert_eq(parse("set key 4294967297 -5 4294967297 noreply", &req), MC_PARSE_OK);
    cr_expect_eq(req.key.len, 3);
    cr_expect_eq(memcmp(req.key.p, "key", 3), 0);
    cr_expect_eq(req.flags, 1);
    cr_expect_eq(req.exptime, -5);
    cr_expect_eq(req.nbytes, 1);
    cr_expect(req.noreply);
    cr_assert_eq(parse("cas k 18446744073709551615 2147483648 10 18446744073709551615", &req), MC_PARSE_OK);
    cr_expect_eq(req.flags, 4294967295u);
    cr_expect_eq(req.exptime, INT32_MIN);
    cr_expect_eq(req.nbytes, 10);
    cr_expect_eq(req.cas, UINT64_MAX);
    cr_expect(!req.noreply);
    cr_assert_eq(parse("set k -18446744073709551615 0 0", &req), MC_PARSE_OK);
    cr_expect_eq(req.flags, 1);
}

Test(parse, get_keys_walk)
{
    struct mc_request req;
    const char *line = "gat 100   a  bb ccc ";
    cr_assert_eq(parse(line, &req), MC_PARSE_OK);
    cr_expect_eq(req.exptime, 100);
    const char *pos = req.keys;
    struct mc_token t;
    const char *want[] = {"a", "bb", "ccc"};
    size_t n = 0;
    while (mc_parse_next_token(&pos, req.keys_end, &t)) {
        cr_assert_lt(n, 3);
        cr_expect_eq(t.len, strlen(want[n]));
        cr_expect_eq(memcmp(t.p, want[n], t.len), 0);
        n++;
    }
    cr_expect_eq(n, 3);
}

Test(parse, many_keys)
{
    char line[4096] = "get";
    for (int i = 0; i < 100; i++)
        sprintf(line + strlen(line), " key%d", i);
    struct mc_request req;
    cr_assert_eq(parse(line, &req), MC_PARSE_OK);
    const char *pos = req.keys;
    struct mc_token t;
    int n = 0;
    while (mc_parse_next_token(&pos, req.keys_end, &t))
        n++;
    cr_expect_eq(n, 100);
    strcat(line, " " K251);
    cr_expect_eq(parse(line, &req), MC_PARSE_CLIENT_ERROR);
}

Test(parse, nul_ends_the_line)
{
    struct mc_request req;
    static const char line[] = "get a\0 " K251;
    cr_assert_eq(mc_parse_line(line, sizeof(line) - 1, &req), MC_PARSE_OK);
    cr_expect_eq(req.keys_end - req.keys, 2);
}

Test(parse, other_fields)
{
    struct mc_request req;
    cr_assert_eq(parse("incr k 18446744073709551615", &req), MC_PARSE_OK);
    cr_expect_eq(req.delta, UINT64_MAX);
    cr_assert_eq(parse("flush_all 30", &req), MC_PARSE_OK);
    cr_expect(req.has_delay);
    cr_expect_eq(req.exptime, 30);
    cr_assert_eq(parse("flush_all noreply", &req), MC_PARSE_OK);
    cr_expect(!req.has_delay);
    cr_assert_eq(parse("verbosity 5 noreply", &req), MC_PARSE_OK);
    cr_expect_eq(req.level, 5);
    cr_assert_eq(parse("shutdown graceful", &req), MC_PARSE_OK);
    cr_expect(req.graceful);
    cr_assert_eq(parse("shutdown graceful x", &req), MC_PARSE_OK);
    cr_expect(!req.graceful);
    cr_assert_eq(parse("stats slabs x", &req), MC_PARSE_OK);
    cr_expect_eq(req.ntokens, 3);
}

struct num_case {
    const char *s;
    bool ok;
    uint64_t v;
};

Test(parse, numbers_u64)
{
    static const struct num_case nc[] = {
        {"0", true, 0},
        {"18446744073709551615", true, UINT64_MAX},
        {"18446744073709551616", false, 0},
        {"+7", true, 7},
        {"-0", true, 0},
        {"-1", false, 0},
        {"-18446744073709551615", true, 1},
        {"\t5", true, 5},
        {"5\t", true, 5},
        {"5\tx", true, 5},
        {"5x", false, 0},
        {"x", false, 0},
        {"+", false, 0},
        {"-", false, 0},
        {"\tx", true, 0},
        {"9223372036854775808", true, 1ull << 63},
    };
    for (size_t i = 0; i < sizeof(nc) / sizeof(nc[0]); i++) {
        uint64_t v = 12345;
        struct mc_token t = {nc[i].s, strlen(nc[i].s)};
        bool ok = mc_parse_u64(t, &v);
        cr_expect_eq(ok, nc[i].ok, "\"%s\"", nc[i].s);
        if (ok && nc[i].ok)
            cr_expect_eq(v, nc[i].v, "\"%s\"", nc[i].s);
    }
}

Test(parse, numbers_i32)
{
    int32_t v;
    struct mc_token t;
#define I32(str) (t.p = (str), t.len = strlen(str), mc_parse_i32(t, &v))
    cr_expect(I32("-2147483649") && v == INT32_MAX);
    cr_expect(I32("4294967297") && v == 1);
    cr_expect(I32("-9223372036854775808") && v == 0);
    cr_expect(!I32("9223372036854775808"));
    cr_expect(!I32("-9223372036854775809"));
    cr_expect(I32("+12") && v == 12);
    cr_expect(!I32("1.5"));
#undef I32
}

Test(parse, get_prefix)
{
    cr_expect(mc_parse_is_get_prefix("get abc", 7));
    cr_expect(mc_parse_is_get_prefix("gets abc", 8));
    cr_expect(mc_parse_is_get_prefix("     get a", 10));
    cr_expect(!mc_parse_is_get_prefix("gat 0 a", 7));
    cr_expect(!mc_parse_is_get_prefix("getx", 4));
    char buf[200];
    memset(buf, ' ', 101);
    memcpy(buf + 101, "get a", 5);
    cr_expect(!mc_parse_is_get_prefix(buf, 106));
    cr_expect(mc_parse_is_get_prefix(buf + 1, 105));
}
