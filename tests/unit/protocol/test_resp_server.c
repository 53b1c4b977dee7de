/*
 * test_resp_server.c: the server and administration commands over RESP (CLIENT, CONFIG, INFO,
 * OBJECT, MEMORY, COMMAND, SAVE, BGSAVE, LASTSAVE, SHUTDOWN, TIME), through resp_proto_ops against a
 * real cache, a fake server (info callback, client walk, timeout and stats hooks) and the bytes of the
 * output queue (resp_test.h).
 *
 * Expected bytes: the texts, error replies and reply shapes were checked against redis-server 7.0.15
 * fed the same requests (RESP2, and RESP3 after HELLO 3); CLIENT SETINFO and CLIENT NO-TOUCH follow
 * Redis 7.2's source. Values are this server's (the fake server's numbers, the cache's limit), and so is
 * the order of several names where Redis prints its hash table's order (CONFIG GET, COMMAND LIST).
 * Lines marked "cairn" are answers of cairn's own (refusals, or what it lacks).
 */
#include <time.h>

#include "resp_test.h"

/* ---- CLIENT ---- */

Test(resp_server, client_id_and_name)
{
    struct rt *t = rt_new();
    EXPECT(t, ":1\r\n", "CLIENT", "ID");
    EXPECT(t, "$-1\r\n", "CLIENT", "GETNAME");
    EXPECT(t, "+OK\r\n", "CLIENT", "SETNAME", "foo");
    EXPECT(t, "$3\r\nfoo\r\n", "client", "getname");
    EXPECT(t, "-ERR Client names cannot contain spaces, newlines or special characters.\r\n", "CLIENT",
           "SETNAME", "a b");
    EXPECT(t, "-ERR Client names cannot contain spaces, newlines or special characters.\r\n", "CLIENT",
           "SETNAME", "caf\xc3\xa9");
    EXPECT(t, "$3\r\nfoo\r\n", "CLIENT", "GETNAME");
    EXPECT(t, "+OK\r\n", "CLIENT", "SETNAME", "");
    EXPECT(t, "$-1\r\n", "CLIENT", "GETNAME");
    S(t)->proto = 3;
    EXPECT(t, "_\r\n", "CLIENT", "GETNAME");
    char *longname = repeat('n', RESP_NAME_MAX + 1);
    EXPECT(t, "-ERR Client name is too long\r\n", "CLIENT", "SETNAME", longname); /* cairn (as HELLO) */
    free(longname);
    void *second = rt_add(t);
    char *got = cmd_on(t, second, "CLIENT", "ID", NULL);
    cr_expect_str_eq(got, ":2\r\n");
    free(got);
    rt_free(t);
}

Test(resp_server, client_dispatch_errors)
{
    struct rt *t = rt_new();
    EXPECT(t, "-ERR wrong number of arguments for 'client' command\r\n", "CLIENT");
    EXPECT(t, "-ERR unknown subcommand 'foo'. Try CLIENT HELP.\r\n", "CLIENT", "foo");
    EXPECT(t, "-ERR wrong number of arguments for 'client|setname' command\r\n", "CLIENT", "SETNAME");
    EXPECT(t, "-ERR wrong number of arguments for 'client|help' command\r\n", "CLIENT", "HELP", "x");
    EXPECT(t, "-ERR wrong number of arguments for 'client|id' command\r\n", "CLIENT", "ID", "x");
    rt_free(t);
}

Test(resp_server, client_modes)
{
    struct rt *t = rt_new();
    EXPECT(t, "+OK\r\n", "CLIENT", "NO-EVICT", "ON");
    cr_expect(S(t)->no_evict);
    EXPECT(t, "+OK\r\n", "CLIENT", "no-evict", "off");
    cr_expect(!S(t)->no_evict);
    EXPECT(t, "-ERR syntax error\r\n", "CLIENT", "NO-EVICT", "maybe");
    EXPECT(t, "+OK\r\n", "CLIENT", "NO-TOUCH", "on"); /* 7.2 */
    cr_expect(S(t)->no_touch);
    EXPECT(t, "-ERR syntax error\r\n", "CLIENT", "NO-TOUCH", "yes");
    EXPECT(t, "+OK\r\n", "CLIENT", "REPLY", "ON");
    EXPECT(t, "-ERR syntax error\r\n", "CLIENT", "REPLY", "foo");
    EXPECT(t, "", "CLIENT", "REPLY", "OFF"); /* no reply: test_resp_bits has the rest */
    cr_expect(S(t)->reply_off);
    EXPECT(t, "", "CLIENT", "REPLY", "foo"); /* its syntax error withheld too */
    EXPECT(t, "+OK\r\n", "CLIENT", "REPLY", "ON");
    rt_free(t);
}

Test(resp_server, client_setinfo)
{
    struct rt *t = rt_new();
    EXPECT(t, "+OK\r\n", "CLIENT", "SETINFO", "LIB-NAME", "redis-py");
    EXPECT(t, "+OK\r\n", "CLIENT", "SETINFO", "lib-ver", "5.0.1");
    EXPECT(t, "-ERR LIB-NAME cannot contain spaces, newlines or special characters.\r\n", "CLIENT", "SETINFO",
           "LIB-NAME", "a b");
    EXPECT(t, "-ERR Unrecognized option 'foo'\r\n", "CLIENT", "SETINFO", "foo", "x");
    EXPECT(t, "-ERR wrong number of arguments for 'client|setinfo' command\r\n", "CLIENT", "SETINFO",
           "lib-name");
    cr_expect_str_eq(S(t)->lib_name, "redis-py");
    cr_expect_str_eq(S(t)->lib_ver, "5.0.1");
    char *got = cmd(t, "CLIENT", "INFO", NULL);
    cr_expect(strstr(got, " lib-name=redis-py lib-ver=5.0.1") != NULL, "%s", got);
    free(got);
    EXPECT(t, "+OK\r\n", "CLIENT", "SETINFO", "lib-name", "");
    cr_expect_str_eq(S(t)->lib_name, "");
    rt_free(t);
}

/* The line resp_session_describe writes for session i of the fake walk, plus "\n". */
static char *line_of(struct rt *t, int i)
{
    char addr[32], *line = malloc(1100);
    cr_assert_not_null(line);
    snprintf(addr, sizeof(addr), "127.0.0.1:%d", 50000 + i);
    size_t n = resp_session_describe(t->sess[i], addr, RT_LADDR, 7 + i, 3, 1, line, 1024);
    memcpy(line + n, "\n", 2);
    return line;
}

static char *bulk_of(const char *body)
{
    char *s = malloc(strlen(body) + 32);
    cr_assert_not_null(s);
    sprintf(s, "$%zu\r\n%s\r\n", strlen(body), body);
    return s;
}

/* Checks that the reply to a CLIENT command is the lines of the given sessions (as the fake walk
 * describes them after the command ran: "cmd=" names it). */
static void expect_lines(struct rt *t, const char *got, int proto, const int *which, int n)
{
    char body[2400] = "", want[2500];
    for (int i = 0; i < n; i++) {
        char *l = line_of(t, which[i]);
        strcat(body, l);
        free(l);
    }
    if (proto == 3)
        snprintf(want, sizeof(want), "=%zu\r\ntxt:%s\r\n", strlen(body) + 4, body);
    else
        snprintf(want, sizeof(want), "$%zu\r\n%s\r\n", strlen(body), body);
    cr_expect_str_eq(got, want);
}

#define EXPECT_LINES(t, proto, which, ...)                                                                   \
    do {                                                                                                     \
        static const int which_[] = which;                                                                   \
        char *got_ = cmd(t, __VA_ARGS__, NULL);                                                              \
        expect_lines(t, got_, proto, which_, (int)(sizeof(which_) / sizeof(which_[0])));                     \
        free(got_);                                                                                          \
    } while (0)
#define L(...)                                                                                               \
    {                                                                                                        \
        __VA_ARGS__                                                                                          \
    }

Test(resp_server, client_info_and_list)
{
    struct rt *t = rt_new();
    void *second = rt_add(t);
    char *got = cmd_on(t, second, "CLIENT", "SETNAME", "two", NULL);
    free(got);
    EXPECT_LINES(t, 2, L(0), "CLIENT", "INFO");
    char *l0 = line_of(t, 0);
    cr_expect(starts(l0, "id=1 addr=127.0.0.1:50000 "), "%s", l0);
    free(l0);
    EXPECT_LINES(t, 2, L(0, 1), "CLIENT", "LIST");
    EXPECT_LINES(t, 2, L(0, 1), "CLIENT", "LIST", "TYPE", "normal");
    EXPECT_LINES(t, 2, L(1), "CLIENT", "LIST", "ID", "2");
    EXPECT_LINES(t, 2, L(1, 0), "CLIENT", "LIST", "ID", "2", "99", "1");
    EXPECT_LINES(t, 2, L(0, 0), "CLIENT", "LIST", "ID", "1", "1");
    EXPECT(t, "$0\r\n\r\n", "CLIENT", "LIST", "TYPE", "master");
    EXPECT(t, "$0\r\n\r\n", "CLIENT", "LIST", "TYPE", "PUBSUB");
    EXPECT(t, "$0\r\n\r\n", "CLIENT", "LIST", "ID", "99999");
    EXPECT(t, "-ERR Unknown client type 'foo'\r\n", "CLIENT", "LIST", "TYPE", "foo");
    EXPECT(t, "-ERR Invalid client ID\r\n", "CLIENT", "LIST", "ID", "abc");
    EXPECT(t, "-ERR syntax error\r\n", "CLIENT", "LIST", "TYPE");
    EXPECT(t, "-ERR syntax error\r\n", "CLIENT", "LIST", "ID");
    EXPECT(t, "-ERR syntax error\r\n", "CLIENT", "LIST", "x", "y", "z");
    S(t)->proto = 3;
    EXPECT_LINES(t, 3, L(0), "CLIENT", "INFO");
    EXPECT(t, "=4\r\ntxt:\r\n", "CLIENT", "LIST", "TYPE", "replica");
    t->ctx.clients = NULL; /* no walk: CLIENT INFO still describes the session */
    got = cmd(t, "CLIENT", "INFO", NULL);
    cr_expect(starts(got, "=") && strstr(got, "txt:id=1 addr= laddr= fd=-1 name= age=0 idle=0 ") != NULL,
              "%s", got);
    free(got);
    rt_free(t);
}

Test(resp_server, client_help)
{
    struct rt *t = rt_new();
    char *got = cmd(t, "CLIENT", "HELP", NULL);
    cr_expect(
        starts(got,
               "*27\r\n+CLIENT <subcommand> [<arg> [value] [opt] ...]. Subcommands are:\r\n+GETNAME\r\n"),
        "%s", got);
    cr_expect(ends(got, "\r\n+HELP\r\n+    Prints this help.\r\n"), "%s", got);
    free(got);
    rt_free(t);
}

/* ---- CONFIG ---- */

Test(resp_server, config_get)
{
    struct rt *t = rt_new();
    EXPECT(t, "*2\r\n$9\r\nmaxmemory\r\n$7\r\n8388608\r\n", "CONFIG", "GET", "maxmemory");
    EXPECT(t, "*2\r\n$9\r\nMAXMEMORY\r\n$7\r\n8388608\r\n", "CONFIG", "GET", "MAXMEMORY");
    EXPECT(t, "*2\r\n$9\r\nmaxmemory\r\n$7\r\n8388608\r\n", "CONFIG", "GET", "maxmemory", "MAXMEMORY");
    EXPECT(t, "*4\r\n$9\r\nmaxmemory\r\n$7\r\n8388608\r\n$16\r\nmaxmemory-policy\r\n$11\r\nallkeys-lru\r\n",
           "CONFIG", "GET", "max*y"); /* cairn: Redis also lists maxmemory-eviction-tenacity */
    EXPECT(t, "*4\r\n$9\r\nMAXMEMORY\r\n$7\r\n8388608\r\n$16\r\nmaxmemory-policy\r\n$11\r\nallkeys-lru\r\n",
           "CONFIG", "GET", "MAXMEMORY", "Max*Y");
    EXPECT(t, "*4\r\n$4\r\nsave\r\n$0\r\n\r\n$10\r\nappendonly\r\n$2\r\nno\r\n", "CONFIG", "GET", "save",
           "appendonly");
    EXPECT(t, "*0\r\n", "CONFIG", "GET", "nonexist");
    EXPECT(t, "*0\r\n", "CONFIG", "GET", "bind"); /* cairn: the server did not say */
    EXPECT(t,
           "*8\r\n$4\r\nport\r\n$4\r\n6380\r\n$7\r\ntimeout\r\n$3\r\n300\r\n$9\r\ndatabases\r\n$1\r\n1\r\n"
           "$10\r\nmaxclients\r\n$4\r\n1024\r\n",
           "CONFIG", "GET", "port", "timeout", "databases", "maxclients");
    EXPECT(t, "*2\r\n$18\r\nproto-max-bulk-len\r\n$7\r\n1048576\r\n", "CONFIG", "GET", "proto-max-bulk-len");
    t->info.bind = "127.0.0.1 ::1";
    t->info.snapshot_interval_s = 3600;
    EXPECT(t, "*4\r\n$4\r\nbind\r\n$13\r\n127.0.0.1 ::1\r\n$4\r\nsave\r\n$6\r\n3600 0\r\n", "CONFIG", "GET",
           "bind", "save");
    S(t)->proto = 3;
    EXPECT(t, "%1\r\n$9\r\nmaxmemory\r\n$7\r\n8388608\r\n", "CONFIG", "GET", "maxmemory");
    EXPECT(t, "%0\r\n", "CONFIG", "GET", "nonexist");
    EXPECT(t, "-ERR wrong number of arguments for 'config|get' command\r\n", "CONFIG", "GET");
    rt_free(t);
}

Test(resp_server, config_set_maxmemory)
{
    struct rt *t = rt_new();
    struct cache_stats cs;
    EXPECT(t, "+OK\r\n", "CONFIG", "SET", "maxmemory", "16mb");
    cache_stats_get(t->cache, &cs);
    cr_expect_eq(cs.limit_maxbytes, 16u << 20);
    EXPECT(t, "*2\r\n$9\r\nmaxmemory\r\n$8\r\n16777216\r\n", "CONFIG", "GET", "maxmemory");
    EXPECT(t, "+OK\r\n", "CONFIG", "SET", "MAXMEMORY", "12MB");
    cache_stats_get(t->cache, &cs);
    cr_expect_eq(cs.limit_maxbytes, 12u << 20);
    const char *bad =
        "-ERR CONFIG SET failed (possibly related to argument 'maxmemory') - argument must be a memory "
        "value\r\n";
    EXPECT(t, bad, "CONFIG", "SET", "maxmemory", "abc");
    EXPECT(t, bad, "CONFIG", "SET", "MAXMEMORY", "1.5gb");
    EXPECT(t, bad, "CONFIG", "SET", "maxmemory", "-1");
    EXPECT(t, bad, "CONFIG", "SET", "maxmemory", "10 mb");
    char want[200];
    snprintf(want, sizeof(want),
             "-ERR CONFIG SET failed (possibly related to argument 'maxmemory') - argument must be between 1 "
             "and %zu "
             "inclusive\r\n",
             cache_memory_limit_max(t->cache));
    EXPECT(t, want, "CONFIG", "SET", "maxmemory", "0"); /* cairn: Redis's 0 is "no limit" */
    EXPECT(t, want, "CONFIG", "SET", "maxmemory", "99999999999999999999999");
    cache_stats_get(t->cache, &cs);
    cr_expect_eq(cs.limit_maxbytes, 12u << 20);
    rt_free(t);
}

Test(resp_server, config_set_others)
{
    struct rt *t = rt_new();
    EXPECT(t, "+OK\r\n", "CONFIG", "SET", "maxmemory-policy", "allkeys-lru");
    EXPECT(t, "+OK\r\n", "CONFIG", "SET", "maxmemory-policy", "ALLKEYS-LRU");
    EXPECT(t,
           "-ERR CONFIG SET failed (possibly related to argument 'maxmemory-policy') - argument(s) must be "
           "one of the "
           "following: allkeys-lru\r\n",
           "CONFIG", "SET", "maxmemory-policy", "noeviction"); /* cairn: the only policy */
    EXPECT(t, "+OK\r\n", "CONFIG", "SET", "timeout", "5");
    cr_expect_eq(t->timeout_set, 5u);
    EXPECT(t,
           "-ERR CONFIG SET failed (possibly related to argument 'timeout') - argument must be between 0 and "
           "2147483647 inclusive\r\n",
           "CONFIG", "SET", "timeout", "-1");
    EXPECT(t,
           "-ERR CONFIG SET failed (possibly related to argument 'timeout') - argument couldn't be parsed "
           "into an "
           "integer\r\n",
           "CONFIG", "SET", "TIMEOUT", "abc");
    EXPECT(t, "-ERR CONFIG SET failed (possibly related to argument 'TIMEOUT') - duplicate parameter\r\n",
           "CONFIG", "SET", "timeout", "5", "TIMEOUT", "6");
    EXPECT(t, "-ERR Unknown option or number of arguments for CONFIG SET - 'foo'\r\n", "CONFIG", "SET", "foo",
           "bar");
    EXPECT(t, "-ERR Unknown option or number of arguments for CONFIG SET - 'foo'\r\n", "CONFIG", "SET",
           "timeout", "abc", "foo", "1");
    EXPECT(
        t,
        "-ERR CONFIG SET failed (possibly related to argument 'databases') - can't set immutable config\r\n",
        "CONFIG", "SET", "databases", "3");
    EXPECT(t, "-ERR syntax error\r\n", "CONFIG", "SET", "timeout", "1", "maxmemory");
    EXPECT(t, "-ERR wrong number of arguments for 'config|set' command\r\n", "CONFIG", "SET", "maxmemory");
    cr_expect_eq(t->timeout_calls, 1);
    /* all or nothing: the bad value second leaves the first unapplied */
    EXPECT(t,
           "-ERR CONFIG SET failed (possibly related to argument 'maxmemory') - argument must be a memory "
           "value\r\n",
           "CONFIG", "SET", "timeout", "9", "maxmemory", "x");
    cr_expect_eq(t->timeout_calls, 1);
    EXPECT(t, "+OK\r\n", "CONFIG", "SET", "save", "");
    EXPECT(t, "-ERR CONFIG SET failed (possibly related to argument 'save') - Invalid save parameters\r\n",
           "CONFIG", "SET", "save", "1");
    EXPECT(t, "-ERR CONFIG SET failed (possibly related to argument 'save') - Invalid save parameters\r\n",
           "CONFIG", "SET", "save", "0 1");
    EXPECT(t,
           "-ERR CONFIG SET failed (possibly related to argument 'save') - automatic snapshots follow "
           "--snapshot-interval\r\n",
           "CONFIG", "SET", "save", "3600 1"); /* cairn */
    EXPECT(t, "+OK\r\n", "CONFIG", "SET", "appendonly", "no");
    EXPECT(t,
           "-ERR CONFIG SET failed (possibly related to argument 'appendonly') - argument must be 'yes' or "
           "'no'\r\n",
           "CONFIG", "SET", "appendonly", "maybe");
    EXPECT(t,
           "-ERR CONFIG SET failed (possibly related to argument 'appendonly') - appendonly is not "
           "supported\r\n",
           "CONFIG", "SET", "appendonly", "yes"); /* cairn */
    t->ctx.set_timeout = NULL;
    EXPECT(t,
           "-ERR CONFIG SET failed (possibly related to argument 'timeout') - can't set immutable config\r\n",
           "CONFIG", "SET", "timeout", "5");
    rt_free(t);
}

Test(resp_server, config_admin_and_misc)
{
    struct rt *t = rt_new();
    EXPECT(t, "+OK\r\n", "CONFIG", "RESETSTAT");
    cr_expect_eq(t->resets, 1);
    EXPECT(t, "-ERR The server is running without a config file\r\n", "CONFIG", "REWRITE");
    char *got = cmd(t, "CONFIG", "HELP", NULL);
    cr_expect_str_eq(
        got, "*11\r\n+CONFIG <subcommand> [<arg> [value] [opt] ...]. Subcommands are:\r\n+GET <pattern>\r\n"
             "+    Return parameters matching the glob-like <pattern> and their values.\r\n"
             "+SET <directive> <value>\r\n+    Set the configuration <directive> to <value>.\r\n"
             "+RESETSTAT\r\n+    Reset statistics reported by the INFO command.\r\n+REWRITE\r\n"
             "+    Rewrite the configuration file.\r\n+HELP\r\n+    Prints this help.\r\n");
    free(got);
    t->ctx.admin_disabled = true;
    EXPECT(t, "-ERR CONFIG SET is disabled on this server (--disable-admin-commands)\r\n", "CONFIG", "SET",
           "maxmemory", "1mb");
    EXPECT(t, "-ERR CONFIG RESETSTAT is disabled on this server (--disable-admin-commands)\r\n", "CONFIG",
           "RESETSTAT");
    EXPECT(t, "*2\r\n$7\r\ntimeout\r\n$3\r\n300\r\n", "CONFIG", "GET", "timeout");
    rt_free(t);
}

/* ---- INFO ---- */

#define EXPECT_BULK(t, body, ...)                                                                            \
    do {                                                                                                     \
        char *want_ = bulk_of(body);                                                                         \
        EXPECT(t, want_, __VA_ARGS__);                                                                       \
        free(want_);                                                                                         \
    } while (0)

Test(resp_server, info_sections)
{
    struct rt *t = rt_new();
    EXPECT_BULK(t, "# Keyspace\r\ndb0:keys=3,expires=1,avg_ttl=0\r\n", "INFO", "keyspace");
    EXPECT_BULK(t, "# Keyspace\r\ndb0:keys=3,expires=1,avg_ttl=0\r\n", "INFO", "KEYSPACE");
    EXPECT(t, "$43\r\n# Modules\r\n\r\n# Cluster\r\ncluster_enabled:0\r\n\r\n", "INFO", "cluster", "modules");
    EXPECT(t, "$0\r\n\r\n", "INFO", "foo");
    EXPECT_BULK(t,
                "# Replication\r\nrole:master\r\nconnected_slaves:0\r\nmaster_failover_state:no-failover\r\n"
                "master_repl_offset:0\r\nrepl_backlog_active:0\r\n",
                "INFO", "replication");
    EXPECT_BULK(t,
                "# Memory\r\nused_memory:1048576\r\nused_memory_human:1.00M\r\nmaxmemory:8388608\r\n"
                "maxmemory_human:8.00M\r\nmaxmemory_policy:allkeys-lru\r\n",
                "INFO", "memory");
    t->info.used_memory = 1023;
    t->info.used_memory_rss = (uint64_t)5 << 30;
    t->info.maxmemory = 1536;
    EXPECT_BULK(t,
                "# Memory\r\nused_memory:1023\r\nused_memory_human:1023B\r\nused_memory_rss:5368709120\r\n"
                "used_memory_rss_human:5.00G\r\nmaxmemory:1536\r\nmaxmemory_human:1.50K\r\n"
                "maxmemory_policy:allkeys-lru\r\n",
                "INFO", "memory");
    t->info.keys = t->info.expires = 0;
    EXPECT(t, "$12\r\n# Keyspace\r\n\r\n", "INFO", "keyspace");
    S(t)->proto = 3;
    EXPECT(t, "=16\r\ntxt:# Keyspace\r\n\r\n", "INFO", "keyspace");
    rt_free(t);
}

Test(resp_server, info_default)
{
    struct rt *t = rt_new();
    char *got = cmd(t, "INFO", NULL);
    static const char *const in_order[] = {
        "# Server\r\nredis_version:7.0.15\r\ncairn_version:9.9.9\r\nredis_mode:standalone\r\n",
        "process_id:4242\r\ntcp_port:6380\r\n",
        "uptime_in_seconds:90061\r\nuptime_in_days:1\r\n",
        "\r\n\r\n# Clients\r\nconnected_clients:2\r\nmaxclients:1024\r\nblocked_clients:0\r\n",
        "\r\n\r\n# Memory\r\nused_memory:1048576\r\n",
        "\r\n\r\n# Persistence\r\nloading:0\r\nasync_loading:0\r\nrdb_changes_since_last_save:9\r\n"
        "rdb_bgsave_in_progress:0\r\nrdb_last_save_time:1699999000\r\nrdb_last_bgsave_status:ok\r\naof_"
        "enabled:0\r\n",
        "\r\n\r\n# Stats\r\ntotal_connections_received:5\r\ntotal_commands_processed:77\r\n",
        "expired_keys:14\r\nevicted_keys:13\r\nkeyspace_hits:11\r\nkeyspace_misses:12\r\n",
        "total_error_replies:15",
        "\r\n\r\n# Replication\r\nrole:master\r\n",
        "\r\n\r\n# CPU\r\nused_cpu_sys:",
        "\r\n\r\n# Modules\r\n\r\n# Errorstats\r\n\r\n# Cluster\r\ncluster_enabled:0\r\n\r\n# "
        "Keyspace\r\ndb0:keys=3,expires=1,avg_ttl=0\r\n\r\n",
    };
    const char *p = got;
    cr_expect(strncmp(got, "$", 1) == 0);
    for (size_t i = 0; i < sizeof(in_order) / sizeof(in_order[0]); i++) {
        const char *q = strstr(p, in_order[i]);
        cr_expect_not_null(q, "missing or out of order: %s", in_order[i]);
        if (q != NULL)
            p = q + strlen(in_order[i]);
    }
    cr_expect_eq(*p, '\0');
    char *all = cmd(t, "INFO", "everything", NULL), *def = cmd(t, "INFO", "default", NULL);
    cr_expect(strlen(all) > 500 && strlen(def) > 500);
    free(all);
    free(def);
    free(got);
    rt_free(t);
}

Test(resp_server, lastsave_time)
{
    struct rt *t = rt_new();
    EXPECT(t, ":1699999000\r\n", "LASTSAVE");
    t->info.last_save_unix = 0;
    EXPECT(t, ":1699909939\r\n", "LASTSAVE"); /* no save yet: the start time (unix_ms - uptime) */
    char *got = cmd(t, "TIME", NULL);
    long long sec = 0, usec = -1;
    int n1 = 0, n2 = 0;
    cr_assert_eq(sscanf(got, "*2\r\n$%d\r\n%lld\r\n$%d\r\n%lld\r\n", &n1, &sec, &n2, &usec), 4, "%s", got);
    cr_expect(llabs(sec - (long long)time(NULL)) <= 2);
    cr_expect(usec >= 0 && usec < 1000000);
    free(got);
    rt_free(t);
}

/* ---- OBJECT and MEMORY ---- */

Test(resp_server, object_encoding)
{
    struct rt *t = rt_new();
    char *s44 = repeat('a', 44), *s45 = repeat('a', 45);
    put(t, "i", "12345");
    put(t, "neg", "-9223372036854775808");
    put(t, "big", "12345678901234567890");
    put(t, "m0", "-0");
    put(t, "lead", "01");
    put(t, "e", "");
    put(t, "f", "1.5");
    put(t, "s44", s44);
    put(t, "s45", s45);
    EXPECT(t, "$3\r\nint\r\n", "OBJECT", "ENCODING", "i");
    EXPECT(t, "$3\r\nint\r\n", "object", "encoding", "neg");
    EXPECT(t, "$6\r\nembstr\r\n", "OBJECT", "ENCODING", "big");
    EXPECT(t, "$6\r\nembstr\r\n", "OBJECT", "ENCODING", "m0");
    EXPECT(t, "$6\r\nembstr\r\n", "OBJECT", "ENCODING", "lead");
    EXPECT(t, "$6\r\nembstr\r\n", "OBJECT", "ENCODING", "e");
    EXPECT(t, "$6\r\nembstr\r\n", "OBJECT", "ENCODING", "f");
    EXPECT(t, "$6\r\nembstr\r\n", "OBJECT", "ENCODING", "s44");
    EXPECT(t, "$3\r\nraw\r\n", "OBJECT", "ENCODING", "s45");
    EXPECT(t, "$-1\r\n", "OBJECT", "ENCODING", "nokey");
    S(t)->proto = 3;
    EXPECT(t, "_\r\n", "OBJECT", "ENCODING", "nokey");
    cr_expect_eq(t->stats.keyspace_hits, 9u);
    cr_expect_eq(t->stats.keyspace_misses, 2u);
    free(s44);
    free(s45);
    rt_free(t);
}

Test(resp_server, object_others)
{
    struct rt *t = rt_new();
    put(t, "k", "v");
    cache_clock_set(t->cache, 1010);
    EXPECT(t, ":10\r\n", "OBJECT", "IDLETIME", "k");
    EXPECT(t, ":10\r\n", "OBJECT", "IDLETIME", "k"); /* OBJECT does not touch */
    EXPECT(t, ":1\r\n", "OBJECT", "REFCOUNT", "k");
    EXPECT(t, ":5\r\n", "OBJECT", "FREQ", "k"); /* a key the hot-key sketch does not count: a new key's 5 */
    EXPECT(t, "$-1\r\n", "OBJECT", "FREQ", "nokey");
    EXPECT(t, "$-1\r\n", "OBJECT", "IDLETIME", "nokey");
    EXPECT(t, "$-1\r\n", "OBJECT", "REFCOUNT", "nokey");
    EXPECT(t, "-ERR wrong number of arguments for 'object|encoding' command\r\n", "OBJECT", "ENCODING");
    EXPECT(t, "-ERR wrong number of arguments for 'object|encoding' command\r\n", "OBJECT", "ENCODING", "a",
           "b");
    EXPECT(t, "-ERR unknown subcommand 'foo'. Try OBJECT HELP.\r\n", "OBJECT", "foo");
    EXPECT(t, "-ERR wrong number of arguments for 'object' command\r\n", "OBJECT");
    char *got = cmd(t, "OBJECT", "HELP", NULL);
    cr_expect(
        starts(
            got,
            "*15\r\n+OBJECT <subcommand> [<arg> [value] [opt] ...]. Subcommands are:\r\n+ENCODING <key>\r\n"),
        "%s", got);
    free(got);
    rt_free(t);
}

Test(resp_server, memory_usage)
{
    struct rt *t = rt_new();
    char *v = repeat('x', 500);
    put(t, "k", v);
    struct item *it = cache_get(t->cache, "k", 1, NULL);
    cr_assert_not_null(it);
    struct cache_class_stats cs;
    cache_class_stats_get(t->cache, cache_item_class(t->cache, it), &cs);
    cache_item_release(t->cache, &it);
    cr_expect_geq(cs.chunk_size, 28 + 1 + 500);
    char want[32];
    snprintf(want, sizeof(want), ":%u\r\n", cs.chunk_size);
    EXPECT(t, want, "MEMORY", "USAGE", "k");
    EXPECT(t, want, "MEMORY", "USAGE", "k", "SAMPLES", "0");
    EXPECT(t, want, "memory", "usage", "k", "samples", "5", "SAMPLES", "7");
    EXPECT(t, "-ERR syntax error\r\n", "MEMORY", "USAGE", "k", "SAMPLES", "-1");
    EXPECT(t, "-ERR value is not an integer or out of range\r\n", "MEMORY", "USAGE", "k", "SAMPLES", "x");
    EXPECT(t, "-ERR syntax error\r\n", "MEMORY", "USAGE", "k", "SAMPLES");
    EXPECT(t, "-ERR syntax error\r\n", "MEMORY", "USAGE", "k", "foo", "1");
    EXPECT(t, "-ERR syntax error\r\n", "MEMORY", "USAGE", "nokey", "foo");
    EXPECT(t, "$-1\r\n", "MEMORY", "USAGE", "nokey");
    EXPECT(t, "-ERR wrong number of arguments for 'memory|usage' command\r\n", "MEMORY", "USAGE");
    S(t)->proto = 3;
    EXPECT(t, "_\r\n", "MEMORY", "USAGE", "nokey");
    cr_expect_eq(t->stats.keyspace_hits + t->stats.keyspace_misses, 0u);
    free(v);
    rt_free(t);
}

/* ---- persistence, shutdown ---- */

static void answer(struct rt *t, enum proto_event ev)
{
    struct proto_outcome o = {.ev = ev};
    resp_proto_ops.answer(S(t), &o, t->out);
}

Test(resp_server, save_bgsave)
{
    struct rt *t = rt_new();
    const char *off = "-ERR snapshots are not configured (start with --snapshot-path)\r\n";
    EXPECT(t, off, "SAVE");
    EXPECT(t, off, "BGSAVE");
    cr_expect_eq(resp_proto_ops.take_wait(S(t)), PROTO_WAIT_NONE);
    t->ctx.snapshot_enabled = true;

    char *got = cmd(t, "SAVE", NULL);
    cr_expect_str_eq(got, "");
    free(got);
    cr_expect_eq(t->st, PROTO_WAIT);
    cr_expect_eq(resp_proto_ops.take_wait(S(t)), PROTO_WAIT_SNAPSHOT);
    answer(t, PROTO_EV_SNAPSHOT_SAVED);
    got = drain(t->out);
    cr_expect_str_eq(got, "+OK\r\n");
    free(got);

    got = cmd(t, "BGSAVE", "SCHEDULE", NULL);
    cr_expect_eq(t->st, PROTO_WAIT);
    free(got);
    cr_expect_eq(resp_proto_ops.take_wait(S(t)), PROTO_WAIT_SNAPSHOT_BG);
    answer(t, PROTO_EV_SNAPSHOT_STARTED);
    got = drain(t->out);
    cr_expect_str_eq(got, "+Background saving started\r\n");
    free(got);

    EXPECT(t, "-ERR syntax error\r\n", "BGSAVE", "foo");
    EXPECT(t, "-ERR syntax error\r\n", "BGSAVE", "SCHEDULE", "x");
    t->ctx.admin_disabled = true;
    EXPECT(t, "-ERR SAVE is disabled on this server (--disable-admin-commands)\r\n", "SAVE");
    EXPECT(t, "-ERR BGSAVE is disabled on this server (--disable-admin-commands)\r\n", "BGSAVE");
    cr_expect_eq(t->st, PROTO_OK);
    rt_free(t);
}

Test(resp_server, shutdown)
{
    struct rt *t = rt_new();
    EXPECT(t, "-ERR SHUTDOWN is not enabled (start the server with -A, --enable-shutdown)\r\n", "SHUTDOWN");
    t->ctx.enable_shutdown = true;
    EXPECT(t, "-ERR syntax error\r\n", "SHUTDOWN", "foo");
    EXPECT(t, "-ERR syntax error\r\n", "SHUTDOWN", "NOSAVE", "SAVE");
    EXPECT(t, "-ERR syntax error\r\n", "SHUTDOWN", "ABORT", "NOW");
    EXPECT(t, "-ERR No shutdown in progress.\r\n", "SHUTDOWN", "ABORT");
    cr_expect_eq(t->st, PROTO_OK);
    EXPECT(t, "", "SHUTDOWN", "nosave", "now", "force");
    cr_expect_eq(t->st, PROTO_SHUTDOWN);
    t->ctx.admin_disabled = true;
    EXPECT(t, "-ERR SHUTDOWN is disabled on this server (--disable-admin-commands)\r\n", "SHUTDOWN");
    rt_free(t);
}

Test(resp_server, debug_refused)
{
    struct rt *t = rt_new();
    const char *argv[] = {"DEBUG", "SLEEP", "0"};
    const size_t argl[] = {5, 5, 1};
    struct resp_args a = {3, argv, argl, false};
    cr_expect_eq(resp_cmd_debug(S(t), &a, t->out), PROTO_OK);
    char *got = drain(t->out);
    cr_expect_str_eq(
        got, "-ERR DEBUG command not allowed. If the enable-debug-command option is set to \"local\", you "
             "can run it from a local connection, otherwise you need to set this option in the "
             "configuration file, and then restart the server.\r\n");
    free(got);
    rt_free(t);
}

/* ---- COMMAND ---- */

Test(resp_server, command_info_docs_exact)
{
    struct rt *t = rt_new();
    const char *get_info =
        "*1\r\n*10\r\n$3\r\nget\r\n:2\r\n*2\r\n+readonly\r\n+fast\r\n:1\r\n:1\r\n:1\r\n*3\r\n+@read\r\n+@"
        "string\r\n"
        "+@fast\r\n*0\r\n*1\r\n*6\r\n$5\r\nflags\r\n*2\r\n+RO\r\n+access\r\n$12\r\nbegin_search\r\n*4\r\n$"
        "4\r\ntype\r\n"
        "$5\r\nindex\r\n$4\r\nspec\r\n*2\r\n$5\r\nindex\r\n:1\r\n$9\r\nfind_keys\r\n*4\r\n$4\r\ntype\r\n$"
        "5\r\nrange\r\n"
        "$4\r\nspec\r\n*6\r\n$7\r\nlastkey\r\n:0\r\n$7\r\nkeystep\r\n:1\r\n$5\r\nlimit\r\n:0\r\n*0\r\n";
    EXPECT(t, get_info, "COMMAND", "INFO", "get");
    EXPECT(t, get_info, "COMMAND", "INFO", "GET");
    EXPECT(t,
           "*2\r\n$6\r\nincrby\r\n*10\r\n$7\r\nsummary\r\n$56\r\nIncrement the integer value of a key by the "
           "given "
           "amount\r\n$5\r\nsince\r\n$5\r\n1.0.0\r\n$5\r\ngroup\r\n$6\r\nstring\r\n$10\r\ncomplexity\r\n$"
           "4\r\nO(1)\r\n"
           "$9\r\narguments\r\n*2\r\n*6\r\n$4\r\nname\r\n$3\r\nkey\r\n$4\r\ntype\r\n$3\r\nkey\r\n$14\r\nkey_"
           "spec_index\r\n"
           ":0\r\n*4\r\n$4\r\nname\r\n$9\r\nincrement\r\n$4\r\ntype\r\n$7\r\ninteger\r\n",
           "COMMAND", "DOCS", "incrby");
    EXPECT(t,
           "*2\r\n$14\r\nclient|setname\r\n*10\r\n$7\r\nsummary\r\n$31\r\nSet the current connection "
           "name\r\n$5\r\n"
           "since\r\n$5\r\n2.6.9\r\n$5\r\ngroup\r\n$10\r\nconnection\r\n$10\r\ncomplexity\r\n$4\r\nO(1)\r\n$"
           "9\r\n"
           "arguments\r\n*1\r\n*4\r\n$4\r\nname\r\n$15\r\nconnection-name\r\n$4\r\ntype\r\n$6\r\nstring\r\n",
           "COMMAND", "DOCS", "client|setname");
    const char *enc_info = "*1\r\n*10\r\n$15\r\nobject|encoding\r\n:3\r\n~1\r\n+readonly\r\n:2\r\n:2\r\n:"
                           "1\r\n~3\r\n+@keyspace\r\n"
                           "+@read\r\n+@slow\r\n~1\r\n$23\r\nnondeterministic_output\r\n~1\r\n%3\r\n$"
                           "5\r\nflags\r\n~1\r\n+RO\r\n$12\r\n"
                           "begin_search\r\n%2\r\n$4\r\ntype\r\n$5\r\nindex\r\n$4\r\nspec\r\n%1\r\n$"
                           "5\r\nindex\r\n:2\r\n$9\r\nfind_keys\r\n"
                           "%2\r\n$4\r\ntype\r\n$5\r\nrange\r\n$4\r\nspec\r\n%3\r\n$7\r\nlastkey\r\n:0\r\n$"
                           "7\r\nkeystep\r\n:1\r\n$5\r\n"
                           "limit\r\n:0\r\n~0\r\n";
    EXPECT(t, "*1\r\n$-1\r\n", "COMMAND", "INFO", "nosuch");
    S(t)->proto = 3;
    EXPECT(t, enc_info, "COMMAND", "INFO", "object|encoding");
    EXPECT(t,
           "%1\r\n$4\r\necho\r\n%5\r\n$7\r\nsummary\r\n$21\r\nEcho the given "
           "string\r\n$5\r\nsince\r\n$5\r\n1.0.0\r\n"
           "$5\r\ngroup\r\n$10\r\nconnection\r\n$10\r\ncomplexity\r\n$4\r\nO(1)\r\n$9\r\narguments\r\n*1\r\n%"
           "2\r\n$4\r\n"
           "name\r\n$7\r\nmessage\r\n$4\r\ntype\r\n$6\r\nstring\r\n",
           "COMMAND", "DOCS", "echo", "nosuch");
    EXPECT(t, "*1\r\n_\r\n", "COMMAND", "INFO", "nosuch");
    EXPECT(t, "*1\r\n_\r\n", "COMMAND", "INFO", "get|x");
    EXPECT(t, "%0\r\n", "COMMAND", "DOCS", "nosuch");
    rt_free(t);
}

Test(resp_server, command_count_list_getkeys)
{
    struct rt *t = rt_new();
    char want[32];
    snprintf(want, sizeof(want), ":%zu\r\n", resp_ncommands);
    EXPECT(t, want, "COMMAND", "COUNT");
    EXPECT(
        t,
        "*6\r\n$6\r\nconfig\r\n$10\r\nconfig|get\r\n$11\r\nconfig|help\r\n$16\r\nconfig|resetstat\r\n$14\r\n"
        "config|rewrite\r\n$10\r\nconfig|set\r\n",
        "COMMAND", "LIST", "FILTERBY", "pattern", "CONF*"); /* Redis: the same names, hash order */
    EXPECT(t, "*0\r\n", "COMMAND", "LIST", "FILTERBY", "module", "foo");
    EXPECT(t, "*0\r\n", "COMMAND", "LIST", "FILTERBY", "aclcat", "nosuchcat");
    EXPECT(t, "*1\r\n$4\r\ntime\r\n", "COMMAND", "LIST", "FILTERBY", "PATTERN", "T[h-j]?E");
    EXPECT(t, "*5\r\n$7\r\ndiscard\r\n$4\r\nexec\r\n$5\r\nmulti\r\n$7\r\nunwatch\r\n$5\r\nwatch\r\n",
           "COMMAND", "LIST", "FILTERBY", "ACLCAT", "Transaction"); /* Redis: the same names, hash order */
    EXPECT(t, "-ERR syntax error\r\n", "COMMAND", "LIST", "foo");
    EXPECT(t, "-ERR syntax error\r\n", "COMMAND", "LIST", "FILTERBY", "pattern");
    EXPECT(t, "-ERR syntax error\r\n", "COMMAND", "LIST", "FILTERBY", "x", "y");
    EXPECT(t, "*2\r\n$1\r\na\r\n$1\r\nc\r\n", "COMMAND", "GETKEYS", "mset", "a", "b", "c", "d");
    EXPECT(t, "*1\r\n$1\r\nk\r\n", "COMMAND", "GETKEYS", "GET", "k");
    EXPECT(t, "*1\r\n$1\r\nk\r\n", "COMMAND", "GETKEYS", "object", "encoding", "k");
    EXPECT(t, "-ERR The command has no key arguments\r\n", "COMMAND", "GETKEYS", "ping", "x", "y");
    EXPECT(t, "-ERR Invalid command specified\r\n", "COMMAND", "GETKEYS", "nosuch", "a", "b");
    EXPECT(t, "-ERR Invalid command specified\r\n", "COMMAND", "GETKEYS", "object", "nosuch", "k");
    EXPECT(t, "-ERR Invalid number of arguments specified for command\r\n", "COMMAND", "GETKEYS", "get", "a",
           "b");
    EXPECT(t, "-ERR wrong number of arguments for 'command|getkeys' command\r\n", "COMMAND", "GETKEYS",
           "get");
    char *got = cmd(t, "COMMAND", "LIST", NULL);
    cr_expect(strstr(got, "$14\r\nclient|setname\r\n") != NULL);
    free(got);
    got = cmd(t, "COMMAND", "HELP", NULL);
    cr_expect(starts(got, "*19\r\n+COMMAND <subcommand> [<arg> [value] [opt] ...]. Subcommands are:\r\n"),
              "%s", got);
    free(got);
    rt_free(t);
}

/* ---- a RESP reader, to check whole replies as redis-cli reads them ---- */

struct rv {
    char type; /* + - : $ * % ~ _ */
    const char *s;
    size_t n;
    long long i;
    struct rv *e; /* elements (a map: 2n of them) */
    size_t ne;
};

static const char *rv_parse(const char *p, struct rv *v)
{
    char *end;
    memset(v, 0, sizeof(*v));
    v->type = *p++;
    const char *eol = strstr(p, "\r\n");
    cr_assert_not_null(eol);
    switch (v->type) {
    case '+':
    case '-':
        v->s = p;
        v->n = (size_t)(eol - p);
        return eol + 2;
    case ':':
        v->i = strtoll(p, &end, 10);
        return eol + 2;
    case '_':
        return eol + 2;
    case '$':
        v->n = (size_t)strtoll(p, &end, 10);
        v->s = eol + 2;
        cr_assert(v->s[v->n] == '\r' && v->s[v->n + 1] == '\n');
        return v->s + v->n + 2;
    case '*':
    case '~':
    case '%':
        v->ne = (size_t)strtoll(p, &end, 10) * (v->type == '%' ? 2 : 1);
        v->e = calloc(v->ne + 1, sizeof(*v->e));
        p = eol + 2;
        for (size_t k = 0; k < v->ne; k++)
            p = rv_parse(p, &v->e[k]);
        return p;
    default:
        cr_assert_fail("unexpected RESP type %c", v->type);
        return NULL;
    }
}

static void rv_free(struct rv *v)
{
    for (size_t k = 0; k < v->ne; k++)
        rv_free(&v->e[k]);
    free(v->e);
}

static bool rv_is(const struct rv *v, const char *s)
{
    return v->type == '$' && v->n == strlen(s) && memcmp(v->s, s, v->n) == 0;
}

static bool is_map(const struct rv *v, int proto)
{
    return proto == 3 ? v->type == '%' : v->type == '*' && v->ne % 2 == 0;
}

/* One argument map as redis-cli's cliAddArgument reads it (it asserts these). */
static void check_arg(const struct rv *a, int proto)
{
    const char *type = NULL;
    cr_assert(is_map(a, proto));
    for (size_t k = 0; k < a->ne; k += 2) {
        cr_assert_eq(a->e[k].type, '$');
        const struct rv *val = &a->e[k + 1];
        if (rv_is(&a->e[k], "name") || rv_is(&a->e[k], "token"))
            cr_assert_eq(val->type, '$');
        if (rv_is(&a->e[k], "type")) {
            cr_assert_eq(val->type, '$');
            type = val->s;
        }
        if (rv_is(&a->e[k], "flags")) {
            cr_assert(val->type == (proto == 3 ? '~' : '*'));
            for (size_t j = 0; j < val->ne; j++)
                cr_assert_eq(val->e[j].type, '+');
        }
        if (rv_is(&a->e[k], "arguments")) {
            cr_assert_eq(val->type, '*');
            for (size_t j = 0; j < val->ne; j++)
                check_arg(&val->e[j], proto);
        }
    }
    cr_assert_not_null(type);
    static const char *const types[] = {"string",    "integer",    "double", "key",  "pattern",
                                        "unix-time", "pure-token", "oneof",  "block"};
    bool known = false;
    for (size_t k = 0; k < sizeof(types) / sizeof(types[0]); k++)
        known |= strncmp(type, types[k], strlen(types[k])) == 0 && type[strlen(types[k])] == '\r';
    cr_assert(known, "type %.10s", type);
}

/* One command's docs as redis-cli's cliInitCommandHelpEntry reads them. */
static size_t check_docs(const struct rv *d, int proto)
{
    size_t entries = 1;
    bool summary = false, group = false;
    cr_assert(is_map(d, proto));
    for (size_t k = 0; k < d->ne; k += 2) {
        const struct rv *val = &d->e[k + 1];
        cr_assert_eq(d->e[k].type, '$');
        summary |= rv_is(&d->e[k], "summary") && val->type == '$';
        group |= rv_is(&d->e[k], "group") && val->type == '$';
        if (rv_is(&d->e[k], "since"))
            cr_assert_eq(val->type, '$');
        if (rv_is(&d->e[k], "arguments")) {
            cr_assert_eq(val->type, '*');
            for (size_t j = 0; j < val->ne; j++)
                check_arg(&val->e[j], proto);
        }
        if (rv_is(&d->e[k], "subcommands")) {
            cr_assert(is_map(val, proto));
            for (size_t j = 0; j < val->ne; j += 2) {
                cr_assert(val->e[j].type == '$' && memchr(val->e[j].s, '|', val->e[j].n) != NULL);
                entries += check_docs(&val->e[j + 1], proto);
            }
        }
    }
    cr_assert(summary && group);
    return entries;
}

/* The command table and every container's subcommands are in strcmp order: lookups binary-search
 * them, and a row out of place makes its neighbours unknown commands. */
Test(resp_server, command_table_is_sorted)
{
    for (size_t i = 1; i < resp_ncommands; i++)
        cr_expect_lt(strcmp(resp_commands[i - 1].name, resp_commands[i].name), 0, "%s before %s",
                     resp_commands[i - 1].name, resp_commands[i].name);
    for (size_t i = 0; i < resp_ncommands; i++) {
        const struct resp_cmd *c = &resp_commands[i];
        for (size_t j = 1; c->subs != NULL && j < resp_cmd_nsubs(c); j++)
            cr_expect_lt(strcmp(c->subs[j - 1].name, c->subs[j].name), 0, "%s|%s before %s|%s", c->name,
                         c->subs[j - 1].name, c->name, c->subs[j].name);
    }
}

Test(resp_server, command_docs_as_redis_cli_reads_them)
{
    struct rt *t = rt_new();
    const char *bad = NULL;
    cr_assert(resp_docs_check(&bad), "documentation row %s", bad ? bad : "?");
    for (int proto = 2; proto <= 3; proto++) {
        S(t)->proto = proto;
        char *got = cmd(t, "COMMAND", "DOCS", NULL);
        struct rv top;
        cr_assert_eq(*rv_parse(got, &top), '\0');
        cr_assert(is_map(&top, proto));
        cr_assert_eq(top.ne, 2 * resp_ncommands);
        size_t entries = 0;
        for (size_t k = 0; k < top.ne; k += 2) {
            cr_assert_eq(top.e[k].type, '$');
            entries += check_docs(&top.e[k + 1], proto);
        }
        cr_expect_gt(entries, resp_ncommands);
        rv_free(&top);
        free(got);

        got = cmd(t, "COMMAND", NULL);
        cr_assert_eq(*rv_parse(got, &top), '\0');
        cr_assert_eq(top.ne, resp_ncommands);
        for (size_t k = 0; k < top.ne; k++) {
            cr_assert_eq(top.e[k].type, '*');
            cr_assert_eq(top.e[k].ne, 10u);
            cr_assert_eq(top.e[k].e[1].type, ':');
        }
        rv_free(&top);
        free(got);
    }
    rt_free(t);
}
