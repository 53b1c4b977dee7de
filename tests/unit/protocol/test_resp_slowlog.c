/*
 * test_resp_slowlog.c: SLOWLOG GET, LEN, RESET and HELP and CONFIG's slowlog-* parameters over RESP,
 * through resp_proto_ops against a slow log filled directly with slowlog_add() (the protocols' own
 * calls are the server's), compared with the bytes of the output queue (resp_test.h).
 *
 * Expected bytes: texts, errors and reply shapes as redis-server 7.0.15 answers the same requests
 * (RESP2, and RESP3 after HELLO 3: the same bytes for SLOWLOG).
 */
#include "resp_test.h"

#include "protocol/slowlog.h"

static struct rt *rt_with_log(void)
{
    struct rt *t = rt_new();
    t->ctx.slowlog = slowlog_create();
    cr_assert_not_null(t->ctx.slowlog);
    return t;
}

static void rt_free_log(struct rt *t)
{
    slowlog_destroy(t->ctx.slowlog);
    rt_free(t);
}

static void add(struct rt *t, uint64_t us, size_t argc, const char *const *argv, const char *name)
{
    size_t lens[64];
    for (size_t i = 0; i < argc; i++)
        lens[i] = strlen(argv[i]);
    slowlog_add(t->ctx.slowlog, us, argc, argv, lens, "resp", "127.0.0.1:5000", name);
}

/* An entry's reply with its time replaced by T (the time is the clock's). */
static char *untimed(char *reply)
{
    char *p = reply;
    while ((p = strstr(p, "\r\n*6\r\n:")) != NULL) {
        p = strstr(p + 7, "\r\n:") + 3; /* the time's digits */
        char *end = strstr(p, "\r\n");
        memmove(p + 1, end, strlen(end) + 1);
        *p = 'T';
    }
    return reply;
}

#define EXPECT_UNTIMED(t, want, ...)                                                                         \
    do {                                                                                                     \
        char *got_ = untimed(cmd(t, __VA_ARGS__, NULL));                                                     \
        cr_expect_str_eq(got_, want, "%s: got [%s]", #__VA_ARGS__, got_);                                    \
        free(got_);                                                                                          \
    } while (0)

Test(resp_slowlog, get_len_reset)
{
    struct rt *t = rt_with_log();
    EXPECT(t, ":0\r\n", "SLOWLOG", "LEN");
    EXPECT(t, "*0\r\n", "SLOWLOG", "GET");
    const char *set[] = {"SET", "k", "v"};
    const char *get[] = {"GET", "k"};
    add(t, 15, 3, set, "");
    add(t, 7, 2, get, "app");
    EXPECT(t, ":2\r\n", "slowlog", "len");
    EXPECT_UNTIMED(
        t,
        "*2\r\n*6\r\n:1\r\n:T\r\n:7\r\n*2\r\n$3\r\nGET\r\n$1\r\nk\r\n$14\r\n127.0.0.1:5000\r\n$3\r\napp\r\n"
        "*6\r\n:0\r\n:T\r\n:15\r\n*3\r\n$3\r\nSET\r\n$1\r\nk\r\n$1\r\nv\r\n$14\r\n127.0.0.1:5000\r\n$"
        "0\r\n\r\n",
        "SLOWLOG", "GET");
    EXPECT_UNTIMED(
        t,
        "*1\r\n*6\r\n:1\r\n:T\r\n:7\r\n*2\r\n$3\r\nGET\r\n$1\r\nk\r\n$14\r\n127.0.0.1:5000\r\n$3\r\napp\r\n",
        "SLOWLOG", "GET", "1");
    S(t)->proto = 3; /* RESP3: the same bytes */
    EXPECT_UNTIMED(
        t,
        "*1\r\n*6\r\n:1\r\n:T\r\n:7\r\n*2\r\n$3\r\nGET\r\n$1\r\nk\r\n$14\r\n127.0.0.1:5000\r\n$3\r\napp\r\n",
        "SLOWLOG", "GET", "1");
    EXPECT(t, ":2\r\n", "SLOWLOG", "LEN");
    S(t)->proto = 2;
    EXPECT(t, "*0\r\n", "SLOWLOG", "GET", "0");
    char *all = cmd(t, "SLOWLOG", "GET", "-1", NULL);
    cr_expect(starts(all, "*2\r\n"), "%s", all);
    free(all);

    /* the default count is 10 */
    for (int i = 0; i < 12; i++)
        add(t, 1, 2, get, "");
    all = cmd(t, "SLOWLOG", "GET", NULL);
    cr_expect(starts(all, "*10\r\n*6\r\n:13\r\n"), "%.20s", all);
    free(all);
    all = cmd(t, "SLOWLOG", "GET", "-1", NULL);
    cr_expect(starts(all, "*14\r\n"), "%.20s", all);
    free(all);

    EXPECT(t, "+OK\r\n", "SLOWLOG", "RESET");
    EXPECT(t, ":0\r\n", "SLOWLOG", "LEN");
    add(t, 1, 2, get, "");
    EXPECT_UNTIMED(
        t, "*1\r\n*6\r\n:14\r\n:T\r\n:1\r\n*2\r\n$3\r\nGET\r\n$1\r\nk\r\n$14\r\n127.0.0.1:5000\r\n$0\r\n\r\n",
        "SLOWLOG", "GET");
    rt_free_log(t);
}

Test(resp_slowlog, errors_and_help)
{
    struct rt *t = rt_with_log();
    static const char *const bad_counts[] = {
        "-2", "abc", "", "1.5", "+3", "-0", "99999999999999999999", "-9223372036854775808", " 1"};
    for (size_t i = 0; i < sizeof(bad_counts) / sizeof(bad_counts[0]); i++)
        EXPECT(t, "-ERR count should be greater than or equal to -1\r\n", "SLOWLOG", "GET", bad_counts[i]);
    EXPECT(t, "*0\r\n", "SLOWLOG", "GET", "9223372036854775807");
    EXPECT(t, "-ERR unknown subcommand or wrong number of arguments for 'GET'. Try SLOWLOG HELP.\r\n",
           "SLOWLOG", "GET", "-1", "x");
    EXPECT(t, "-ERR unknown subcommand or wrong number of arguments for 'get'. Try SLOWLOG HELP.\r\n",
           "SLOWLOG", "get", "1", "2", "3");
    EXPECT(t, "-ERR wrong number of arguments for 'slowlog' command\r\n", "SLOWLOG");
    EXPECT(t, "-ERR wrong number of arguments for 'slowlog|len' command\r\n", "SLOWLOG", "LEN", "x");
    EXPECT(t, "-ERR wrong number of arguments for 'slowlog|reset' command\r\n", "SLOWLOG", "RESET", "x");
    EXPECT(t, "-ERR wrong number of arguments for 'slowlog|help' command\r\n", "SLOWLOG", "HELP", "x");
    EXPECT(t, "-ERR unknown subcommand 'FOO'. Try SLOWLOG HELP.\r\n", "SLOWLOG", "FOO");
    EXPECT(t, "-ERR unknown subcommand 'FOO'. Try SLOWLOG HELP.\r\n", "SLOWLOG", "FOO", "bar");
    static const char help[] =
        "*12\r\n+SLOWLOG <subcommand> [<arg> [value] [opt] ...]. Subcommands are:\r\n+GET [<count>]\r\n"
        "+    Return top <count> entries from the slowlog (default: 10, -1 mean all).\r\n"
        "+    Entries are made of:\r\n"
        "+    id, timestamp, time in microseconds, arguments array, client IP and port,\r\n"
        "+    client name\r\n+LEN\r\n+    Return the length of the slowlog.\r\n+RESET\r\n"
        "+    Reset the slowlog.\r\n+HELP\r\n+    Prints this help.\r\n";
    EXPECT(t, help, "SLOWLOG", "HELP");
    EXPECT(t, help, "slowlog", "help");
    rt_free_log(t);
}

Test(resp_slowlog, cut_arguments)
{
    struct rt *t = rt_with_log();
    char *big = repeat('x', 200);
    const char *set[] = {"SET", "k", big};
    add(t, 1, 3, set, "");
    char want[512];
    cr_assert(
        snprintf(want, sizeof(want),
                 "*1\r\n*6\r\n:0\r\n:T\r\n:1\r\n*3\r\n$3\r\nSET\r\n$1\r\nk\r\n$147\r\n%.128s... (72 more "
                 "bytes)\r\n$14\r\n127.0.0.1:5000\r\n$0\r\n\r\n",
                 big) > 0);
    EXPECT_UNTIMED(t, want, "SLOWLOG", "GET", "1");
    free(big);

    const char *del[40];
    char words[40][8];
    del[0] = "DEL";
    for (int i = 1; i < 40; i++) {
        snprintf(words[i], sizeof(words[i]), "k%d", i - 1);
        del[i] = words[i];
    }
    add(t, 1, 40, del, "");
    char *got = cmd(t, "SLOWLOG", "GET", "1", NULL);
    cr_expect(strstr(got, "\r\n*32\r\n$3\r\nDEL\r\n") != NULL, "%s", got);
    cr_expect(strstr(got, "$3\r\nk29\r\n$22\r\n... (9 more arguments)\r\n$14\r\n") != NULL, "%s", got);
    free(got);
    rt_free_log(t);
}

Test(resp_slowlog, reset_refused_without_admin_commands)
{
    struct rt *t = rt_with_log();
    t->ctx.admin_disabled = true;
    EXPECT(t, "-ERR SLOWLOG RESET is disabled on this server (--disable-admin-commands)\r\n", "SLOWLOG",
           "RESET"); /* cairn */
    EXPECT(t, ":0\r\n", "SLOWLOG", "LEN");
    rt_free_log(t);
}

Test(resp_slowlog, without_a_log)
{
    struct rt *t = rt_new();
    EXPECT(t, "*0\r\n", "SLOWLOG", "GET");
    EXPECT(t, ":0\r\n", "SLOWLOG", "LEN");
    EXPECT(t, "+OK\r\n", "SLOWLOG", "RESET");
    EXPECT(t, "*0\r\n", "CONFIG", "GET", "slowlog*");
    rt_free(t);
}

Test(resp_slowlog, config_get_set)
{
    struct rt *t = rt_with_log();
    EXPECT(t,
           "*4\r\n$23\r\nslowlog-log-slower-than\r\n$5\r\n10000\r\n$15\r\nslowlog-max-len\r\n$3\r\n128\r\n",
           "CONFIG", "GET", "slowlog*");
    EXPECT(t, "+OK\r\n", "CONFIG", "SET", "slowlog-log-slower-than", "0", "slowlog-max-len", "2");
    cr_expect_eq(slowlog_threshold(t->ctx.slowlog), 0);
    cr_expect_eq(slowlog_max_len(t->ctx.slowlog), 2);
    EXPECT(t, "*2\r\n$15\r\nSLOWLOG-MAX-LEN\r\n$1\r\n2\r\n", "CONFIG", "GET", "SLOWLOG-MAX-LEN");
    const char *ping[] = {"PING"};
    for (int i = 0; i < 5; i++)
        add(t, 1, 1, ping, "");
    EXPECT(t, ":2\r\n", "SLOWLOG", "LEN");
    EXPECT(t, "+OK\r\n", "CONFIG", "SET", "slowlog-max-len", "1");
    EXPECT(t, ":1\r\n", "SLOWLOG", "LEN");
    EXPECT(t, "+OK\r\n", "CONFIG", "SET", "slowlog-log-slower-than", "-1");
    cr_expect_not(slowlog_wants(t->ctx.slowlog, UINT64_MAX));
    EXPECT(t, "+OK\r\n", "CONFIG", "SET", "slowlog-log-slower-than", "9223372036854775807", "slowlog-max-len",
           "9223372036854775807");
    EXPECT(t,
           "*4\r\n$23\r\nslowlog-log-slower-than\r\n$19\r\n9223372036854775807\r\n$15\r\nslowlog-max-len\r\n"
           "$19\r\n9223372036854775807\r\n",
           "CONFIG", "GET", "slowlog*");

    static const struct {
        const char *name, *value, *err;
    } bad[] = {
        {"slowlog-max-len", "-1", "argument must be between 0 and 9223372036854775807 inclusive"},
        {"slowlog-max-len", "abc", "argument couldn't be parsed into an integer"},
        {"slowlog-max-len", "9223372036854775808", "argument couldn't be parsed into an integer"},
        {"slowlog-log-slower-than", "-5", "argument must be between -1 and 9223372036854775807 inclusive"},
        {"slowlog-log-slower-than", "1.5", "argument couldn't be parsed into an integer"},
        {"slowlog-log-slower-than", "99999999999999999999", "argument couldn't be parsed into an integer"},
    };
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        char want[256];
        snprintf(want, sizeof(want), "-ERR CONFIG SET failed (possibly related to argument '%s') - %s\r\n",
                 bad[i].name, bad[i].err);
        EXPECT(t, want, "CONFIG", "SET", bad[i].name, bad[i].value);
    }
    S(t)->proto = 3;
    EXPECT(t, "%1\r\n$15\r\nslowlog-max-len\r\n$19\r\n9223372036854775807\r\n", "CONFIG", "GET",
           "slowlog-max-len");
    rt_free_log(t);
}
