/*
 * test_resp_cluster.c: cluster mode's pieces, table-driven: key slots (CRC16 and the {hash tag} rule,
 * values checked against redis-server 7.0's CLUSTER KEYSLOT), the topology file (good and bad lines),
 * redirect decisions, and the session's replies with a topology in its context (byte for byte as Redis
 * 7.0 in cluster mode) and without one (Redis's non-cluster answers).
 */
#include <criterion/criterion.h>
#include <string.h>

#include "protocol/resp/resp_cluster.h"
#include "resp_test.h"

/* ---- key slots ---- */

static const struct {
    const char *key;
    unsigned slot;
} slots[] = {
    {"foo", 12182},
    {"a", 15495},
    {"b", 3300},
    {"{a}1", 15495},
    {"{user1000}.following", 3443},
    {"{user1000}.followers", 3443},
    {"{}", 15257},           /* empty tag: the whole key */
    {"{", 4092},             /* no closing brace */
    {"}{", 12793},           /* the brace closes before it opens */
    {"foo{}{bar}", 8363},    /* the first tag is empty: the whole key */
    {"foo{{bar}}zap", 4015}, /* the tag is "{bar" */
    {"foo{bar}{zap}", 5061}, /* the first tag counts */
    {"a{b", 13340},
    {"", 0},
};

Test(resp_cluster, keyslot)
{
    for (size_t i = 0; i < sizeof(slots) / sizeof(slots[0]); i++)
        cr_expect_eq(resp_cluster_keyslot(slots[i].key, strlen(slots[i].key)), slots[i].slot, "%s: %u, want %u",
                     slots[i].key, resp_cluster_keyslot(slots[i].key, strlen(slots[i].key)), slots[i].slot);
}

/* ---- the file ---- */

#define THREE                                                                                                \
    "# three nodes\n"                                                                                        \
    "alpha 127.0.0.1:7001 0-5460\n"                                                                          \
    "\n"                                                                                                     \
    "beta 127.0.0.1:7002 5461-10922   # the middle\n"                                                        \
    "gamma 127.0.0.1:7003 10923-16383\n"

static struct resp_cluster *parse(const char *text, int port, char *err)
{
    return resp_cluster_parse(text, strlen(text), port, err, 256);
}

Test(resp_cluster, parse_three)
{
    char err[256] = "";
    struct resp_cluster *c = parse(THREE, 7002, err);
    cr_assert_not_null(c, "%s", err);
    cr_expect_eq(c->nnodes, 3u);
    cr_expect_eq(c->self, 1u);
    cr_expect_eq(c->assigned, 16384u);
    cr_expect_eq(c->owner[0], 0);
    cr_expect_eq(c->owner[5460], 0);
    cr_expect_eq(c->owner[5461], 1);
    cr_expect_eq(c->owner[16383], 2);
    cr_expect_str_eq(c->nodes[2].ip, "127.0.0.1");
    cr_expect_eq(c->nodes[2].port, 7003);
    cr_expect_eq(strlen(c->nodes[0].id), 40u);
    cr_expect_str_neq(c->nodes[0].id, c->nodes[1].id);
    resp_cluster_free(&c);
    cr_expect_null(c);
}

Test(resp_cluster, parse_ids_myself_single_slots)
{
    char err[256] = "";
    const char *text = "E94773CB3E5A00422E5108E10738576CB71DE02A 10.0.0.1:6379 0 2-3\n"
                       "b 10.0.0.2:6379 myself 1 4-16000\n"
                       "c [::1]:6380\n"
                       "d ::2:6381 # a node without slots\n";
    struct resp_cluster *c = parse(text, 6379, err);
    cr_assert_not_null(c, "%s", err);
    cr_expect_str_eq(c->nodes[0].id, "e94773cb3e5a00422e5108e10738576cb71de02a");
    cr_expect_eq(c->self, 1u, "myself wins over the port");
    cr_expect_eq(c->owner[0], 0);
    cr_expect_eq(c->owner[1], 1);
    cr_expect_eq(c->owner[3], 0);
    cr_expect_eq(c->owner[16001], -1);
    cr_expect_eq(c->assigned, 16001u);
    cr_expect_eq(c->nnodes, 4u);
    cr_expect_str_eq(c->nodes[2].ip, "::1");
    cr_expect_eq(c->nodes[2].port, 6380);
    cr_expect_str_eq(c->nodes[3].ip, "::2");
    /* a name's id is stable */
    struct resp_cluster *d = parse(text, 6379, err);
    cr_assert_not_null(d);
    cr_expect_str_eq(c->nodes[1].id, d->nodes[1].id);
    resp_cluster_free(&c);
    resp_cluster_free(&d);
}

static const struct {
    const char *text;
    const char *err; /* the start of the reason */
} bad[] = {
    {"", "no nodes"},
    {"# nothing\n\n", "no nodes"},
    {"a\n", "line 1: expected"},
    {"a 127.0.0.1:7001 0-10\nb 127.0.0.1 11\n", "line 2: bad address"},
    {"a 127.0.0.1:0 1\n", "line 1: bad address"},
    {"a 127.0.0.1:70000 1\n", "line 1: bad address"},
    {"a :7001 1\n", "line 1: bad address"},
    {"a 127.0.0.1:7001 0-16384\n", "line 1: bad slot range"},
    {"a 127.0.0.1:7001 10-5\n", "line 1: bad slot range"},
    {"a 127.0.0.1:7001 x\n", "line 1: bad slot range"},
    {"a 127.0.0.1:7001 -5\n", "line 1: bad slot range"},
    {"a 127.0.0.1:7001 0-100\n# c\nb 127.0.0.1:7002 100-200\n", "line 3: slot 100 is already assigned"},
    {"a 127.0.0.1:7001 0-1 1\n", "line 1: slot 1 is already assigned"},
    {"a 127.0.0.1:7001 myself 1\nb 127.0.0.1:7002 myself 2\n", "line 2: a second line marked myself"},
    {"a 127.0.0.1:7001 1\na 127.0.0.1:7002 2\n", "line 2: node 'a' appears twice"},
    {"a 127.0.0.1:7001 1\nb 127.0.0.1:7002 2\n", "no line is marked myself"},
};

Test(resp_cluster, parse_bad)
{
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        char err[256] = "";
        struct resp_cluster *c = parse(bad[i].text, 9999, err);
        cr_expect_null(c, "accepted [%s]", bad[i].text);
        cr_expect(strncmp(err, bad[i].err, strlen(bad[i].err)) == 0, "[%s]: %s, want %s", bad[i].text, err,
                  bad[i].err);
        resp_cluster_free(&c);
    }
}

Test(resp_cluster, load_names_the_file)
{
    char err[256] = "";
    cr_expect_null(resp_cluster_load("/nonexistent/topology", 1, err, sizeof(err)));
    cr_expect(strncmp(err, "/nonexistent/topology: ", 23) == 0, "%s", err);
}

Test(resp_cluster, single)
{
    struct resp_cluster *c = resp_cluster_single("127.0.0.1", 6380);
    cr_assert_not_null(c);
    cr_expect_eq(c->nnodes, 1u);
    cr_expect_eq(c->assigned, 16384u);
    cr_expect_eq(c->owner[0], 0);
    cr_expect_eq(c->owner[16383], 0);
    resp_cluster_free(&c);
}

/* ---- redirect decisions ---- */

static const struct {
    const char *args[5];
    int first, last, step;
    enum resp_cluster_route want;
    int slot;
} routes[] = {
    {{"get", "b"}, 1, 1, 1, RESP_CLUSTER_HERE, 3300},
    {{"get", "foo"}, 1, 1, 1, RESP_CLUSTER_MOVED, 12182},
    {{"mget", "b", "f"}, 1, -1, 1, RESP_CLUSTER_CROSSSLOT, -1},
    {{"mget", "{a}1", "{a}2"}, 1, -1, 1, RESP_CLUSTER_MOVED, 15495},
    {{"mset", "{b}x", "1", "{b}y", "2"}, 1, -1, 2, RESP_CLUSTER_HERE, 3300},
    {{"mset", "b", "{a}", "f", "{a}"}, 1, -1, 2, RESP_CLUSTER_CROSSSLOT, -1},
    {{"ping"}, 0, 0, 0, RESP_CLUSTER_HERE, -1},
    {{"get", "x"}, 1, 1, 1, RESP_CLUSTER_DOWN, 16287},
};

Test(resp_cluster, route)
{
    char err[256] = "";
    /* slots 0-5460 here, 5461-16000 another node's, the rest nobody's */
    struct resp_cluster *c = parse("me 127.0.0.1:7001 0-5460\nother 127.0.0.1:7002 5461-16000\n", 7001, err);
    cr_assert_not_null(c, "%s", err);
    for (size_t i = 0; i < sizeof(routes) / sizeof(routes[0]); i++) {
        size_t argc = 0, argl[5];
        while (argc < 5 && routes[i].args[argc] != NULL) {
            argl[argc] = strlen(routes[i].args[argc]);
            argc++;
        }
        int slot = -1;
        const struct resp_cluster_node *node = NULL;
        enum resp_cluster_route r = resp_cluster_route_keys(c, argc, routes[i].args, argl, routes[i].first,
                                                            routes[i].last, routes[i].step, &slot, &node);
        cr_expect_eq(r, routes[i].want, "row %zu: route %d, want %d", i, r, routes[i].want);
        if (r == RESP_CLUSTER_MOVED) {
            cr_expect_eq(slot, routes[i].slot, "row %zu", i);
            cr_expect_eq(node, &c->nodes[1], "row %zu", i);
        }
        if (r == RESP_CLUSTER_DOWN)
            cr_expect_eq(slot, routes[i].slot, "row %zu", i);
    }
    resp_cluster_free(&c);
}

/* ---- the session ---- */

static struct resp_cluster_ref ref;

static struct rt *rt_cluster(const char *text, int port)
{
    char err[256] = "";
    struct rt *t = rt_new();
    struct resp_cluster *c = parse(text, port, err);
    cr_assert_not_null(c, "%s", err);
    ref.cur = NULL;
    resp_cluster_swap(&ref, c);
    t->ctx.cluster = &ref;
    return t;
}

static void rt_cluster_free(struct rt *t)
{
    rt_free(t);
    resp_cluster_free(&ref.cur);
}

#define ID_A "e94773cb3e5a00422e5108e10738576cb71de02a"
#define ID_B "6f3ffb6d369cd376d33c5957213d9424ed558cfb"
#define ID_C "9f61581cf235fcb7ba4d6a8e39c72cd85a1ac951"
#define THREE_IDS                                                                                            \
    ID_A " 127.0.0.1:17001 0-5460\n" ID_B " 127.0.0.1:17002 5461-10922\n" ID_C " 127.0.0.1:17003 10923-16383\n"

Test(resp_cluster, session_redirects)
{
    struct rt *t = rt_cluster(THREE_IDS, 17001);
    EXPECT(t, "-MOVED 12182 127.0.0.1:17003\r\n", "GET", "foo");
    EXPECT(t, "-CROSSSLOT Keys in request don't hash to the same slot\r\n", "MGET", "a", "b");
    EXPECT(t, "+OK\r\n", "SET", "b", "1");
    EXPECT(t, "$1\r\n1\r\n", "GET", "b");
    EXPECT(t, "+PONG\r\n", "PING");
    /* inside MULTI: refused at queueing, and EXEC aborts */
    EXPECT(t, "+OK\r\n", "MULTI");
    EXPECT(t, "+QUEUED\r\n", "SET", "b", "1");
    EXPECT(t, "-MOVED 12222 127.0.0.1:17003\r\n", "SET", "y", "1");
    EXPECT(t, "-EXECABORT Transaction discarded because of previous errors.\r\n", "EXEC");
    /* keys of two local slots in one transaction: EXEC answers CROSSSLOT and discards it */
    EXPECT(t, "+OK\r\n", "MULTI");
    EXPECT(t, "+QUEUED\r\n", "SET", "b", "2");
    EXPECT(t, "+QUEUED\r\n", "SET", "f", "2");
    EXPECT(t, "-CROSSSLOT Keys in request don't hash to the same slot\r\n", "EXEC");
    EXPECT(t, "$1\r\n1\r\n", "GET", "b");
    EXPECT(t, "-ERR EXEC without MULTI\r\n", "EXEC");
    rt_cluster_free(t);
}

Test(resp_cluster, session_clusterdown)
{
    struct rt *t = rt_cluster("a 127.0.0.1:7001 0-100\n", 7001);
    EXPECT(t, "-CLUSTERDOWN Hash slot not served\r\n", "GET", "foo");
    rt_cluster_free(t);
}

Test(resp_cluster, session_replies)
{
    struct rt *t = rt_cluster(THREE_IDS, 17001);
    EXPECT(t,
           "*3\r\n*3\r\n:0\r\n:5460\r\n*4\r\n$9\r\n127.0.0.1\r\n:17001\r\n$40\r\n" ID_A "\r\n*0\r\n"
           "*3\r\n:5461\r\n:10922\r\n*4\r\n$9\r\n127.0.0.1\r\n:17002\r\n$40\r\n" ID_B "\r\n*0\r\n"
           "*3\r\n:10923\r\n:16383\r\n*4\r\n$9\r\n127.0.0.1\r\n:17003\r\n$40\r\n" ID_C "\r\n*0\r\n",
           "CLUSTER", "SLOTS");
    EXPECT(t, "$40\r\n" ID_A "\r\n", "CLUSTER", "MYID");
    EXPECT(t, ":12182\r\n", "CLUSTER", "KEYSLOT", "foo");
    EXPECT(t, "-ERR wrong number of arguments for 'cluster|keyslot' command\r\n", "CLUSTER", "KEYSLOT");
    EXPECT(t, "-ERR unknown subcommand 'FOO'. Try CLUSTER HELP.\r\n", "CLUSTER", "FOO");
    EXPECT(t, "-ERR wrong number of arguments for 'cluster' command\r\n", "CLUSTER");
    EXPECT(t, "+OK\r\n", "READONLY");
    EXPECT(t, "+OK\r\n", "READWRITE");
    EXPECT(t, "+OK\r\n", "ASKING");
    EXPECT(t, "-ERR wrong number of arguments for 'readonly' command\r\n", "READONLY", "x");
    EXPECT(t,
           "$312\r\ncluster_state:ok\r\ncluster_slots_assigned:16384\r\ncluster_slots_ok:16384\r\n"
           "cluster_slots_pfail:0\r\ncluster_slots_fail:0\r\ncluster_known_nodes:3\r\ncluster_size:3\r\n"
           "cluster_current_epoch:3\r\ncluster_my_epoch:1\r\ncluster_stats_messages_sent:0\r\n"
           "cluster_stats_messages_received:0\r\ntotal_cluster_links_buffer_limit_exceeded:0\r\n\r\n",
           "CLUSTER", "INFO");
    char *shards = cmd(t, "CLUSTER", "SHARDS", NULL);
    static const char first[] = "*3\r\n*4\r\n$5\r\nslots\r\n*2\r\n:0\r\n:5460\r\n$5\r\nnodes\r\n*1\r\n*14\r\n$2\r\nid\r\n$40\r\n" ID_A
                      "\r\n$4\r\nport\r\n:17001\r\n$2\r\nip\r\n$9\r\n127.0.0.1\r\n$8\r\nendpoint\r\n$9\r\n127.0.0.1\r\n"
                      "$4\r\nrole\r\n$6\r\nmaster\r\n$18\r\nreplication-offset\r\n:0\r\n$6\r\nhealth\r\n$6\r\nonline\r\n";
    cr_expect(strncmp(shards, first, strlen(first)) == 0, "%s", shards);
    free(shards);
    char *nodes = cmd(t, "CLUSTER", "NODES", NULL);
    cr_expect(strstr(nodes, ID_A " 127.0.0.1:17001@27001 myself,master - 0 ") != NULL, "%s", nodes);
    cr_expect(strstr(nodes, "000 1 connected 0-5460\n" ID_B " 127.0.0.1:17002@27002 master - 0 ") != NULL, "%s",
              nodes);
    cr_expect(strstr(nodes, " 3 connected 10923-16383\n\r\n") != NULL, "%s", nodes);
    free(nodes);
    char *info = cmd(t, "INFO", "cluster", NULL);
    cr_expect_str_eq(info, "$30\r\n# Cluster\r\ncluster_enabled:1\r\n\r\n");
    free(info);
    char *server = cmd(t, "INFO", "server", NULL);
    cr_expect(strstr(server, "\r\nredis_mode:cluster\r\n") != NULL, "%s", server);
    free(server);
    /* RESP3: maps and verbatim strings; HELLO's mode is cluster */
    char *hello = cmd(t, "HELLO", "3", NULL);
    cr_expect(strstr(hello, "$4\r\nmode\r\n$7\r\ncluster\r\n") != NULL, "%s", hello);
    free(hello);
    char *sl = cmd(t, "CLUSTER", "SLOTS", NULL);
    cr_expect(strstr(sl, ID_A "\r\n%0\r\n*3\r\n:5461\r\n") != NULL, "%s", sl);
    free(sl);
    rt_cluster_free(t);
}

Test(resp_cluster, session_single_resp3)
{
    struct rt *t = rt_cluster(ID_A " 127.0.0.1:17001 0-16383\n", 17001);
    free(cmd(t, "HELLO", "3", NULL));
    char *info = cmd(t, "CLUSTER", "INFO", NULL);
    cr_expect(strncmp(info, "=316\r\ntxt:cluster_state:ok\r\n", 28) == 0, "%s", info);
    free(info);
    char *shards = cmd(t, "CLUSTER", "SHARDS", NULL);
    static const char first[] = "*1\r\n%2\r\n$5\r\nslots\r\n*2\r\n:0\r\n:16383\r\n$5\r\nnodes\r\n*1\r\n%7\r\n$2\r\nid\r\n";
    cr_expect(strncmp(shards, first, strlen(first)) == 0, "%s", shards);
    free(shards);
    rt_cluster_free(t);
}

Test(resp_cluster, disabled)
{
    struct rt *t = rt_new();
    static const char *const subs[] = {"SLOTS", "SHARDS", "NODES", "INFO", "MYID"};
    for (size_t i = 0; i < 5; i++)
        EXPECT(t, "-ERR This instance has cluster support disabled\r\n", "CLUSTER", subs[i]);
    EXPECT(t, "-ERR This instance has cluster support disabled\r\n", "CLUSTER", "KEYSLOT", "foo");
    EXPECT(t, "-ERR This instance has cluster support disabled\r\n", "READONLY");
    EXPECT(t, "-ERR This instance has cluster support disabled\r\n", "READWRITE");
    EXPECT(t, "-ERR This instance has cluster support disabled\r\n", "ASKING");
    EXPECT(t, "-ERR wrong number of arguments for 'cluster|keyslot' command\r\n", "CLUSTER", "KEYSLOT");
    EXPECT(t, "-ERR wrong number of arguments for 'cluster' command\r\n", "CLUSTER");
    EXPECT(t, "$-1\r\n", "GET", "foo");
    EXPECT(t, "*2\r\n$-1\r\n$-1\r\n", "MGET", "a", "b");
    char *info = cmd(t, "INFO", "cluster", NULL);
    cr_expect_str_eq(info, "$30\r\n# Cluster\r\ncluster_enabled:0\r\n\r\n");
    free(info);
    rt_free(t);
}
