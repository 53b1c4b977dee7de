/*
 * test_cluster.c: cluster mode on the real binary: three cairn nodes started from one topology file
 * (--cluster-config, each finding its own line by its --resp-port). Keys land on the node the slot map
 * names, the others answer MOVED to it, keys of two slots get CROSSSLOT, the CLUSTER replies agree
 * between nodes; a SIGHUP rereads the file (a bad one keeps the old map); a bad file at start refuses
 * to start, naming the file and the line; --cluster-enabled=yes alone is a one-node cluster.
 */
#include "config.h"

#include <criterion/criterion.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "harness.h"

#define NNODES 3

static struct h_server nodes[NNODES];
static int rport[NNODES];
static int mport; /* node 0's --metrics-port */
static char conf[64];

static void write_file(const char *path, const char *text)
{
    FILE *f = fopen(path, "w");
    cr_assert_not_null(f);
    fputs(text, f);
    cr_assert_eq(fclose(f), 0);
}

/* The topology: node i owns its third of the slots (Redis's usual split). */
static void write_topology(const char *extra)
{
    char text[512];
    snprintf(text, sizeof(text),
             "# test topology\nalpha 127.0.0.1:%d 0-5460\nbeta 127.0.0.1:%d 5461-10922\n"
             "gamma 127.0.0.1:%d 10923-16383\n%s",
             rport[0], rport[1], rport[2], extra);
    write_file(conf, text);
}

static void start_nodes(void)
{
    snprintf(conf, sizeof(conf), "/tmp/cairn-cluster-%d.conf", (int)getpid());
    for (int i = 0; i < NNODES; i++) {
        rport[i] = h_free_port();
        for (int k = 0; k < i; k++)
            if (rport[k] == rport[i])
                i--; /* taken twice: pick again */
    }
    write_topology("");
    do
        mport = h_free_port();
    while (mport == rport[0] || mport == rport[1] || mport == rport[2]);
    for (int i = 0; i < NNODES; i++) {
        char rp[32], cf[96], mp[32];
        snprintf(rp, sizeof(rp), "--resp-port=%d", rport[i]);
        snprintf(cf, sizeof(cf), "--cluster-config=%s", conf);
        snprintf(mp, sizeof(mp), "--metrics-port=%d", mport);
        const char *extra[] = {rp, cf, i == 0 ? mp : NULL, NULL};
        h_server_start(&nodes[i], extra);
    }
}

static void stop_nodes(void)
{
    for (int i = 0; i < NNODES; i++) {
        bool to;
        h_server_stop(&nodes[i], SIGKILL, &to);
    }
    unlink(conf);
}

TestSuite(cluster, .init = start_nodes, .fini = stop_nodes, .timeout = 90);

/* One request on a connection; the whole reply (read until term). */
static char *ask(int fd, const char *req, const char *term)
{
    h_sends(fd, req);
    return h_read_until(fd, term, NULL);
}

static int slot_of(int fd, const char *key)
{
    char req[128];
    snprintf(req, sizeof(req), "CLUSTER KEYSLOT %s\r\n", key);
    char *r = ask(fd, req, "\r\n");
    int slot = atoi(r + 1);
    free(r);
    return slot;
}

static int owner_of(int slot)
{
    return slot <= 5460 ? 0 : slot <= 10922 ? 1 : 2;
}

static long dbsize(int fd)
{
    char *r = ask(fd, "DBSIZE\r\n", "\r\n");
    long n = atol(r + 1);
    free(r);
    return n;
}

Test(cluster, keys_land_where_the_map_says)
{
    int fd[NNODES];
    long want[NNODES] = {0};
    for (int i = 0; i < NNODES; i++)
        fd[i] = h_connect(rport[i]);
    for (int k = 0; k < 60; k++) {
        char key[32], req[96], moved[96];
        snprintf(key, sizeof(key), "key:%d", k);
        int slot = slot_of(fd[0], key), own = owner_of(slot);
        want[own]++;
        for (int i = 0; i < NNODES; i++) {
            snprintf(req, sizeof(req), "SET %s v%d\r\n", key, k);
            char *r = ask(fd[i], req, "\r\n");
            if (i == own) {
                cr_expect_str_eq(r, "+OK\r\n", "%s on its owner %d", key, i);
            } else {
                snprintf(moved, sizeof(moved), "-MOVED %d 127.0.0.1:%d\r\n", slot, rport[own]);
                cr_expect_str_eq(r, moved, "%s on node %d", key, i);
            }
            free(r);
        }
    }
    for (int i = 0; i < NNODES; i++) {
        cr_expect_eq(dbsize(fd[i]), want[i], "node %d holds %ld keys, want %ld", i, dbsize(fd[i]), want[i]);
        cr_expect_gt(want[i], 0);
        close(fd[i]);
    }
}

Test(cluster, crossslot_and_hash_tags)
{
    int fd = h_connect(rport[0]);
    /* "b" (3300) and "f" (3168) are both node 0's, in two slots */
    h_sends(fd, "MSET b 1 f 2\r\n");
    h_expect(fd, "-CROSSSLOT Keys in request don't hash to the same slot\r\n");
    h_sends(fd, "MSET {b}1 1 {b}2 2\r\nMGET {b}1 {b}2\r\n");
    static const char ok[] = "+OK\r\n*2\r\n$1\r\n1\r\n$1\r\n2\r\n";
    h_expectn(fd, ok, sizeof(ok) - 1);
    /* BITOP's destination and sources are its keys too */
    h_sends(fd, "BITOP OR b f\r\n");
    h_expect(fd, "-CROSSSLOT Keys in request don't hash to the same slot\r\n");
    h_sends(fd, "MOVE b 0\r\nSWAPDB 0 0\r\n"); /* one database, and none of them in cluster mode */
    h_expect(fd,
             "-ERR MOVE is not allowed in cluster mode\r\n-ERR SWAPDB is not allowed in cluster mode\r\n");
    h_sends(fd, "BITOP OR {b}3 {b}1 {b}2\r\nBITCOUNT {b}3\r\n");
    h_expect(fd, ":1\r\n:4\r\n"); /* "1" | "2" is "3", four bits */
    close(fd);
}

/* CLUSTER SLOTS is the same on every node; CLUSTER MYID and the myself line differ. */
Test(cluster, cluster_replies_agree)
{
    char *slots[NNODES], *ids[NNODES];
    for (int i = 0; i < NNODES; i++) {
        int fd = h_connect(rport[i]);
        /* each reply is one small write: read until its known end */
        slots[i] = ask(fd, "CLUSTER SLOTS\r\n", "\r\n*0\r\n");
        cr_expect(strstr(slots[i], ":10923\r\n:16383\r\n") != NULL, "%s", slots[i]);
        char id[48];
        h_sends(fd, "CLUSTER MYID\r\n");
        cr_assert_eq(h_read_n(fd, id, 47, H_IO_TIMEOUT_MS), 47u);
        id[47] = '\0';
        cr_expect(strncmp(id, "$40\r\n", 5) == 0 && strcmp(id + 45, "\r\n") == 0, "%s", id);
        memmove(id, id + 5, 40);
        id[40] = '\0';
        ids[i] = strdup(id);
        char *info = ask(fd, "CLUSTER INFO\r\n", "total_cluster_links_buffer_limit_exceeded:0\r\n\r\n");
        char want[64];
        snprintf(want, sizeof(want), "cluster_my_epoch:%d\r\n", i + 1);
        cr_expect(strstr(info, "cluster_state:ok\r\ncluster_slots_assigned:16384\r\n") != NULL, "%s", info);
        cr_expect(strstr(info, want) != NULL, "%s", info);
        free(info);
        char *nodes_txt = ask(fd, "CLUSTER NODES\r\n", "\n\r\n");
        char mine[128];
        snprintf(mine, sizeof(mine), "%.40s 127.0.0.1:%d@%d myself,master - 0 ", id, rport[i],
                 rport[i] + 10000);
        cr_expect(strstr(nodes_txt, mine) != NULL, "%s", nodes_txt);
        free(nodes_txt);
        close(fd);
    }
    for (int i = 1; i < NNODES; i++) {
        cr_expect_str_eq(slots[i], slots[0]);
        cr_expect_str_neq(ids[i], ids[0]);
    }
    char want[128];
    snprintf(want, sizeof(want), "*3\r\n*3\r\n:0\r\n:5460\r\n*4\r\n$9\r\n127.0.0.1\r\n:%d\r\n$40\r\n%.40s",
             rport[0], ids[0]);
    cr_expect(strncmp(slots[0], want, strlen(want)) == 0, "%s", slots[0]);
    for (int i = 0; i < NNODES; i++) {
        free(slots[i]);
        free(ids[i]);
    }
}

/* Polls node's answer to GET foo (slot 12182) until it is want (at most 5 s). */
static bool get_foo_becomes(int node, const char *want)
{
    for (int tries = 0; tries < 250; tries++) {
        int fd = h_connect(rport[node]);
        char *r = ask(fd, "GET foo\r\n", "\r\n");
        bool same = strcmp(r, want) == 0;
        free(r);
        close(fd);
        if (same)
            return true;
        h_sleep_ms(20);
    }
    return false;
}

/* Polls node 0's log until it holds text (at most 5 s). */
static bool log_shows(const char *text)
{
    for (int tries = 0; tries < 250; tries++) {
        char *log = h_server_log(&nodes[0]);
        bool found = strstr(log, text) != NULL;
        free(log);
        if (found)
            return true;
        h_sleep_ms(20);
    }
    return false;
}

Test(cluster, sighup_rereads_the_topology)
{
    char moved[64];
    snprintf(moved, sizeof(moved), "-MOVED 12182 127.0.0.1:%d\r\n", rport[2]);
    cr_assert(get_foo_becomes(0, moved));
    /* a bad file: the old map stays, the reason is logged */
    write_topology("delta 127.0.0.1:1 100\n");
    kill(nodes[0].pid, SIGHUP);
    cr_assert(log_shows("line 5: slot 100 is already assigned"), "the bad file's reason was not logged");
    cr_assert(get_foo_becomes(0, moved));
    /* slot 12182 moves to node 0 */
    char text[512];
    snprintf(text, sizeof(text),
             "alpha 127.0.0.1:%d 0-5460 12182\nbeta 127.0.0.1:%d 5461-10922\n"
             "gamma 127.0.0.1:%d 10923-12181 12183-16383\n",
             rport[0], rport[1], rport[2]);
    write_file(conf, text);
    kill(nodes[0].pid, SIGHUP);
    cr_assert(get_foo_becomes(0, "$-1\r\n"), "SIGHUP did not move slot 12182");
}

/* The value of a sample of node 0's /metrics (-1 when it has none). */
static double metric(const char *name)
{
    int fd = h_connect(mport);
    h_sends(fd, "GET /metrics HTTP/1.0\r\n\r\n");
    bool closed = false;
    char *all = h_read_idle(fd, 2000, NULL, &closed);
    close(fd);
    char needle[128];
    snprintf(needle, sizeof(needle), "\n%s ", name);
    const char *p = strstr(all, needle);
    double v = p != NULL ? strtod(p + strlen(needle), NULL) : -1;
    free(all);
    return v;
}

/* Each reload replaces a topology (its slot map alone is 32 KiB) that sessions on the workers may
 * still be reading; it is freed once every worker has swept past the swap (within about two seconds),
 * not kept until exit. */
Test(cluster, sighups_free_replaced_topologies)
{
    for (int i = 0; i < 300; i++) {
        kill(nodes[0].pid, SIGHUP);
        h_sleep_ms(5);
    }
    double reloads = -1, retired = -1;
    for (int tries = 0; tries < 100; tries++) {
        reloads = metric("cairn_cluster_reloads_total");
        retired = metric("cairn_cluster_topologies_retired");
        if (reloads >= 50 && retired == 0)
            break;
        h_sleep_ms(100);
    }
    cr_expect_geq(reloads, 50, "reloads: %.0f of 300 SIGHUPs", reloads);
    cr_expect_eq(retired, 0, "%.0f replaced topologies still kept 10 s later", retired);
    char moved[64];
    snprintf(moved, sizeof(moved), "-MOVED 12182 127.0.0.1:%d\r\n", rport[2]);
    cr_expect(get_foo_becomes(0, moved), "the map in force still routes");
}

static void bad_start(const char *text, const char *want)
{
    struct h_server srv = {0};
    char path[64], cf[96];
    snprintf(path, sizeof(path), "/tmp/cairn-cluster-bad-%d.conf", (int)getpid());
    write_file(path, text);
    snprintf(cf, sizeof(cf), "--cluster-config=%s", path);
    const char *argv[] = {h_cairn_bin(), "-u", "root", "-p", "0", "--resp-port=0", cf, NULL};
    h_spawn_raw(&srv, h_cairn_bin(), argv);
    int st;
    bool exited = h_server_wait(&srv, 5000, &st);
    char *log = h_server_log(&srv);
    bool to;
    h_server_stop(&srv, SIGKILL, &to);
    unlink(path);
    cr_expect(exited && WIFEXITED(st) && WEXITSTATUS(st) == 1, "status 0x%x", (unsigned)st);
    char full[256];
    snprintf(full, sizeof(full), "%s: %s", path, want);
    cr_expect(strstr(log, full) != NULL, "[%s] not in [%s]", full, log);
    free(log);
}

Test(cluster, bad_file_refuses_to_start)
{
    bad_start("a 127.0.0.1:7001 myself 0-10\nb 127.0.0.1:7002 5-20\n", "line 2: slot 5 is already assigned");
    bad_start("# one\na 127.0.0.1:7001 myself 0-16384\n", "line 2: bad slot range '0-16384'");
}

/* --cluster-enabled=yes without a file: one node owning every slot, at -l's first address. */
Test(cluster, enabled_alone)
{
    struct h_server srv = {0};
    int rp = h_free_port();
    char rps[32];
    snprintf(rps, sizeof(rps), "--resp-port=%d", rp);
    const char *extra[] = {rps, "--cluster-enabled=yes", NULL};
    h_server_start(&srv, extra);
    int fd = h_connect(rp);
    char want[128];
    snprintf(want, sizeof(want), "*1\r\n*3\r\n:0\r\n:16383\r\n*4\r\n$9\r\n127.0.0.1\r\n:%d\r\n$40\r\n", rp);
    char *r = ask(fd, "CLUSTER SLOTS\r\n", "\r\n*0\r\n");
    cr_expect(strncmp(r, want, strlen(want)) == 0, "%s", r);
    free(r);
    h_sends(fd, "SET foo 1\r\nINFO cluster\r\n");
    static const char ok[] = "+OK\r\n$30\r\n# Cluster\r\ncluster_enabled:1\r\n\r\n";
    h_expectn(fd, ok, sizeof(ok) - 1);
    close(fd);
    bool to;
    h_server_stop(&srv, SIGKILL, &to);
}

/* CLUSTER COUNTKEYSINSLOT and GETKEYSINSLOT count and list the node's own keys of a slot, with
 * Redis 7.0's errors; CLUSTER HELP lists the subcommands answered; without cluster mode every one is
 * refused as Redis refuses it. */
Test(cluster, keys_in_slot_and_help)
{
    int fd = h_connect(rport[0]);
    int slot = slot_of(fd, "{b}1"); /* 3300, node 0's */
    h_sends(fd, "MSET {b}1 1 {b}2 2 {b}3 3\r\nSET f 1\r\n");
    h_expect(fd, "+OK\r\n+OK\r\n");
    char req[128], want[64];
    snprintf(req, sizeof(req), "CLUSTER COUNTKEYSINSLOT %d\r\n", slot);
    h_sends(fd, req);
    h_expect(fd, ":3\r\n");
    h_sends(fd, "CLUSTER COUNTKEYSINSLOT 0\r\n");
    h_expect(fd, ":0\r\n");
    /* the three keys, in scan order: "*3" and three "$4 {b}N" (34 bytes); then two of them (24) */
    char got[64];
    snprintf(req, sizeof(req), "CLUSTER GETKEYSINSLOT %d 10\r\n", slot);
    h_sends(fd, req);
    cr_assert_eq(h_read_n(fd, got, 34, 5000), 34);
    got[34] = '\0';
    cr_expect(strncmp(got, "*3\r\n", 4) == 0 && strstr(got, "$4\r\n{b}1\r\n") != NULL &&
                  strstr(got, "$4\r\n{b}2\r\n") != NULL && strstr(got, "$4\r\n{b}3\r\n") != NULL,
              "%s", got);
    snprintf(req, sizeof(req), "CLUSTER GETKEYSINSLOT %d 2\r\n", slot);
    h_sends(fd, req);
    cr_assert_eq(h_read_n(fd, got, 24, 5000), 24);
    got[24] = '\0';
    cr_expect(strncmp(got, "*2\r\n$4\r\n{b}", 11) == 0 && strncmp(got + 12, "\r\n$4\r\n{b}", 9) == 0 &&
                  got[11] != got[21],
              "%s", got);
    snprintf(req, sizeof(req), "CLUSTER GETKEYSINSLOT %d 0\r\n", slot);
    h_sends(fd, req);
    h_expect(fd, "*0\r\n");
    /* the empty key is slot 0's, node 0's */
    h_sends(
        fd,
        "*3\r\n$3\r\nSET\r\n$0\r\n\r\n$1\r\nv\r\nCLUSTER GETKEYSINSLOT 0 5\r\nCLUSTER COUNTKEYSINSLOT 0\r\n");
    h_expect(fd, "+OK\r\n*1\r\n$0\r\n\r\n:1\r\n");
    static const struct {
        const char *req, *want;
    } errs[] = {
        {"CLUSTER COUNTKEYSINSLOT x\r\n", "-ERR value is not an integer or out of range\r\n"},
        {"CLUSTER COUNTKEYSINSLOT -1\r\n", "-ERR Invalid slot\r\n"},
        {"CLUSTER COUNTKEYSINSLOT 16384\r\n", "-ERR Invalid slot\r\n"},
        {"CLUSTER COUNTKEYSINSLOT\r\n",
         "-ERR wrong number of arguments for 'cluster|countkeysinslot' command\r\n"},
        {"CLUSTER GETKEYSINSLOT 1 -1\r\n", "-ERR Invalid slot or number of keys\r\n"},
        {"CLUSTER GETKEYSINSLOT 16384 1\r\n", "-ERR Invalid slot or number of keys\r\n"},
        {"CLUSTER GETKEYSINSLOT x 1\r\n", "-ERR value is not an integer or out of range\r\n"},
        {"CLUSTER GETKEYSINSLOT 1 x\r\n", "-ERR value is not an integer or out of range\r\n"},
        {"CLUSTER GETKEYSINSLOT 1\r\n",
         "-ERR wrong number of arguments for 'cluster|getkeysinslot' command\r\n"},
        {"CLUSTER HELP x\r\n", "-ERR wrong number of arguments for 'cluster|help' command\r\n"},
    };
    for (size_t i = 0; i < sizeof(errs) / sizeof(errs[0]); i++) {
        h_sends(fd, errs[i].req);
        h_expect(fd, errs[i].want);
    }
    char *r = ask(fd, "CLUSTER HELP\r\n", "Prints this help.\r\n");
    cr_expect(strncmp(r,
                      "*21\r\n+CLUSTER <subcommand> [<arg> [value] [opt] ...]. Subcommands are:\r\n"
                      "+COUNTKEYSINSLOT <slot>\r\n",
                      95) == 0,
              "%s", r);
    cr_expect(strstr(r,
                     "+SHARDS\r\n+    Return information about slot range mappings and the nodes associated "
                     "with them.\r\n+HELP\r\n") != NULL,
              "%s", r);
    free(r);
    close(fd);
    /* a node without cluster mode refuses them (the test harness's own server) */
    snprintf(want, sizeof(want), "-ERR This instance has cluster support disabled\r\n");
    struct h_server plain = {0};
    h_server_start(&plain, NULL);
    int pfd = h_connect(plain.port);
    h_sends(pfd, "*2\r\n$7\r\nCLUSTER\r\n$4\r\nHELP\r\n");
    h_expect(pfd, want);
    h_sends(pfd, "*3\r\n$7\r\nCLUSTER\r\n$15\r\nCOUNTKEYSINSLOT\r\n$1\r\n1\r\n");
    h_expect(pfd, want);
    close(pfd);
    bool to;
    h_server_stop(&plain, SIGKILL, &to);
}
