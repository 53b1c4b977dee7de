/*
 * resp_cluster_cmd.c: CLUSTER (SLOTS, SHARDS, NODES, INFO, KEYSLOT, MYID), READONLY, READWRITE and
 * ASKING, and the redirect of a request whose keys another node serves (resp_cluster_redirect, called
 * by dispatch where Redis 7.0's processCommand looks at the cluster). Replies are Redis 7.0's in
 * cluster mode, byte for byte, for a stable healthy cluster of masters (resp_cluster.h).
 *
 * What Redis fills from its gossip has fixed values here, those a settled cluster of masters shows:
 * every node is a master, connected, "online" with replication offset 0; the config epoch of the
 * n-th node of the file is n and the current epoch the number of nodes; ping-sent is 0 and
 * pong-received the current time (myself: the current second); the message counters are 0 (Redis
 * prints only the totals then). CLUSTER NODES and CLUSTER SHARDS list the nodes in the file's order
 * (Redis's order is its hash table's). Redis answers CLUSTERDOWN only when a slot has no owner and
 * cluster-require-full-coverage is no; that is the behaviour here (cluster_state stays ok).
 *
 * Without cluster mode every CLUSTER subcommand, READONLY, READWRITE and ASKING answer Redis's
 * "cluster support disabled" error (after the arity check, as Redis).
 */
#include "config.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "protocol/resp/resp_cluster.h"
#include "protocol/resp/resp_internal.h"
#include "protocol/resp/resp_server.h"

#define E_DISABLED  "ERR This instance has cluster support disabled"
#define E_CROSSSLOT "CROSSSLOT Keys in request don't hash to the same slot"
#define E_DOWN      "CLUSTERDOWN Hash slot not served"

/* The topology in force, or NULL (and the disabled error replied) when cluster mode is off. */
static const struct resp_cluster *topology(struct resp_session *s, struct outq *out)
{
    const struct resp_cluster *c = resp_cluster_get(s->ctx->cluster);
    if (c == NULL)
        resp_error(s, out, E_DISABLED);
    return c;
}

/* The end of the run of slots that starts at slot and has its owner. */
static unsigned run_end(const struct resp_cluster *c, unsigned slot)
{
    unsigned e = slot;
    while (e + 1 < RESP_CLUSTER_SLOTS && c->owner[e + 1] == c->owner[slot])
        e++;
    return e;
}

/* The number of slot runs node idx owns. */
static size_t node_runs(const struct resp_cluster *c, size_t idx)
{
    size_t n = 0;
    for (unsigned s = 0; s < RESP_CLUSTER_SLOTS; s = run_end(c, s) + 1)
        n += c->owner[s] == (int16_t)idx;
    return n;
}

static enum proto_status cluster_slots(struct resp_session *s, const struct resp_args *a, struct outq *out)
{
    const struct resp_cluster *c = topology(s, out);
    size_t runs = 0;
    (void)a;
    if (c == NULL)
        return PROTO_OK;
    for (unsigned sl = 0; sl < RESP_CLUSTER_SLOTS; sl = run_end(c, sl) + 1)
        runs += c->owner[sl] >= 0;
    resp_add_array(out, runs);
    for (unsigned sl = 0; sl < RESP_CLUSTER_SLOTS; sl = run_end(c, sl) + 1) {
        if (c->owner[sl] < 0)
            continue;
        const struct resp_cluster_node *n = &c->nodes[c->owner[sl]];
        resp_add_array(out, 3);
        resp_add_int(out, sl);
        resp_add_int(out, run_end(c, sl));
        resp_add_array(out, 4);
        resp_add_bulk_str(out, n->ip);
        resp_add_int(out, n->port);
        resp_add_bulk_str(out, n->id);
        resp_add_map(out, s->proto, 0);
    }
    return PROTO_OK;
}

static void shard_node(struct resp_session *s, const struct resp_cluster_node *n, struct outq *out)
{
    resp_add_map(out, s->proto, 7);
    resp_add_bulk_str(out, "id");
    resp_add_bulk_str(out, n->id);
    resp_add_bulk_str(out, "port");
    resp_add_int(out, n->port);
    resp_add_bulk_str(out, "ip");
    resp_add_bulk_str(out, n->ip);
    resp_add_bulk_str(out, "endpoint");
    resp_add_bulk_str(out, n->ip);
    resp_add_bulk_str(out, "role");
    resp_add_bulk_str(out, "master");
    resp_add_bulk_str(out, "replication-offset");
    resp_add_int(out, 0);
    resp_add_bulk_str(out, "health");
    resp_add_bulk_str(out, "online");
}

static enum proto_status cluster_shards(struct resp_session *s, const struct resp_args *a, struct outq *out)
{
    const struct resp_cluster *c = topology(s, out);
    (void)a;
    if (c == NULL)
        return PROTO_OK;
    resp_add_array(out, c->nnodes);
    for (size_t i = 0; i < c->nnodes; i++) {
        resp_add_map(out, s->proto, 2);
        resp_add_bulk_str(out, "slots");
        resp_add_array(out, 2 * node_runs(c, i));
        for (unsigned sl = 0; sl < RESP_CLUSTER_SLOTS; sl = run_end(c, sl) + 1) {
            if (c->owner[sl] != (int16_t)i)
                continue;
            resp_add_int(out, sl);
            resp_add_int(out, run_end(c, sl));
        }
        resp_add_bulk_str(out, "nodes");
        resp_add_array(out, 1);
        shard_node(s, &c->nodes[i], out);
    }
    return PROTO_OK;
}

/* A growing text (CLUSTER NODES, CLUSTER INFO); on no memory the text is cut short. */
struct text {
    char *p;
    size_t len, cap;
};

static void text_printf(struct text *t, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

static void text_printf(struct text *t, const char *fmt, ...)
{
    va_list ap;
    for (;;) {
        size_t room = t->cap - t->len;
        va_start(ap, fmt);
        int n = vsnprintf(t->p ? t->p + t->len : NULL, room, fmt, ap);
        va_end(ap);
        if (n < 0)
            return;
        if ((size_t)n < room) {
            t->len += (size_t)n;
            return;
        }
        size_t cap = (t->cap ? t->cap * 2 : 1024) + (size_t)n;
        char *p = realloc(t->p, cap);
        if (p == NULL)
            return;
        t->p = p;
        t->cap = cap;
    }
}

static void node_line(struct text *t, const struct resp_cluster *c, size_t i, long long now_ms)
{
    const struct resp_cluster_node *n = &c->nodes[i];
    bool me = i == c->self;
    text_printf(t, "%s %s:%d@%d %s - 0 %lld %zu connected", n->id, n->ip, n->port, n->port + 10000,
                me ? "myself,master" : "master", me ? now_ms / 1000 * 1000 : now_ms, i + 1);
    for (unsigned sl = 0; sl < RESP_CLUSTER_SLOTS; sl = run_end(c, sl) + 1) {
        if (c->owner[sl] != (int16_t)i)
            continue;
        unsigned e = run_end(c, sl);
        if (e == sl)
            text_printf(t, " %u", sl);
        else
            text_printf(t, " %u-%u", sl, e);
    }
    text_printf(t, "\n");
}

static enum proto_status cluster_nodes(struct resp_session *s, const struct resp_args *a, struct outq *out)
{
    const struct resp_cluster *c = topology(s, out);
    struct text t = {0};
    struct timespec ts;
    (void)a;
    if (c == NULL)
        return PROTO_OK;
    clock_gettime(CLOCK_REALTIME, &ts);
    long long now_ms = (long long)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
    for (size_t i = 0; i < c->nnodes; i++)
        node_line(&t, c, i, now_ms);
    resp_add_verbatim(out, s->proto, "txt", t.p != NULL ? t.p : "", t.len);
    free(t.p);
    return PROTO_OK;
}

static enum proto_status cluster_info(struct resp_session *s, const struct resp_args *a, struct outq *out)
{
    const struct resp_cluster *c = topology(s, out);
    struct text t = {0};
    size_t size = 0;
    (void)a;
    if (c == NULL)
        return PROTO_OK;
    for (size_t i = 0; i < c->nnodes; i++)
        size += node_runs(c, i) != 0;
    text_printf(&t,
                "cluster_state:ok\r\ncluster_slots_assigned:%zu\r\ncluster_slots_ok:%zu\r\n"
                "cluster_slots_pfail:0\r\ncluster_slots_fail:0\r\ncluster_known_nodes:%zu\r\n"
                "cluster_size:%zu\r\ncluster_current_epoch:%zu\r\ncluster_my_epoch:%zu\r\n"
                "cluster_stats_messages_sent:0\r\ncluster_stats_messages_received:0\r\n"
                "total_cluster_links_buffer_limit_exceeded:0\r\n",
                c->assigned, c->assigned, c->nnodes, size, c->nnodes, c->self + 1);
    resp_add_verbatim(out, s->proto, "txt", t.p != NULL ? t.p : "", t.len);
    free(t.p);
    return PROTO_OK;
}

static enum proto_status cluster_keyslot(struct resp_session *s, const struct resp_args *a, struct outq *out)
{
    if (topology(s, out) == NULL)
        return PROTO_OK;
    resp_add_int(out, resp_cluster_keyslot(a->argv[2] != NULL ? a->argv[2] : "", a->argl[2]));
    return PROTO_OK;
}

static enum proto_status cluster_myid(struct resp_session *s, const struct resp_args *a, struct outq *out)
{
    const struct resp_cluster *c = topology(s, out);
    (void)a;
    if (c != NULL)
        resp_add_bulk_str(out, c->nodes[c->self].id);
    return PROTO_OK;
}

/* READONLY, READWRITE, ASKING: +OK in cluster mode (no replicas, no migrations: nothing changes). */
enum proto_status resp_cmd_cluster_ok(struct resp_session *s, const struct resp_args *a, struct outq *out)
{
    (void)a;
    if (topology(s, out) != NULL)
        resp_add_simple(out, "OK");
    return PROTO_OK;
}

/* ---- keys by slot ---- */

/* CLUSTER COUNTKEYSINSLOT slot: the live keys of the slot on this node. */
static enum proto_status cluster_countkeysinslot(struct resp_session *s, const struct resp_args *a,
                                                 struct outq *out)
{
    long long slot;
    if (topology(s, out) == NULL || !resp_arg_ll(s, a, 2, &slot, out))
        return PROTO_OK;
    if (slot < 0 || slot >= RESP_CLUSTER_SLOTS) {
        resp_error(s, out, "ERR Invalid slot");
        return PROTO_OK;
    }
    resp_keys_in_slot(s, (unsigned)slot, UINT64_MAX, true, out);
    return PROTO_OK;
}

/* CLUSTER GETKEYSINSLOT slot count: at most count of the slot's keys (in scan order; Redis gives the
 * newest first). */
static enum proto_status cluster_getkeysinslot(struct resp_session *s, const struct resp_args *a,
                                               struct outq *out)
{
    long long slot, max;
    if (topology(s, out) == NULL || !resp_arg_ll(s, a, 2, &slot, out) || !resp_arg_ll(s, a, 3, &max, out))
        return PROTO_OK;
    if (slot < 0 || slot >= RESP_CLUSTER_SLOTS || max < 0) {
        resp_error(s, out, "ERR Invalid slot or number of keys");
        return PROTO_OK;
    }
    resp_keys_in_slot(s, (unsigned)slot, (uint64_t)max, false, out);
    return PROTO_OK;
}

/* CLUSTER HELP: Redis 7.0's lines, in its order, for the subcommands answered here. */
static enum proto_status cluster_help(struct resp_session *s, const struct resp_args *a, struct outq *out)
{
    static const char *const help[] = {
        "COUNTKEYSINSLOT <slot>",
        "    Return the number of keys in <slot>.",
        "GETKEYSINSLOT <slot> <count>",
        "    Return key names stored by current node in a slot.",
        "INFO",
        "    Return information about the cluster.",
        "KEYSLOT <key>",
        "    Return the hash slot for <key>.",
        "MYID",
        "    Return the node id.",
        "NODES",
        "    Return cluster configuration seen by node. Output format:",
        "    <id> <ip:port> <flags> <master> <pings> <pongs> <epoch> <link> <slot> ...",
        "SLOTS",
        "    Return information about slots range mappings. Each range is made of:",
        "    start, end, master and replicas IP addresses, ports and ids",
        "SHARDS",
        "    Return information about slot range mappings and the nodes associated with them.",
        NULL,
    };
    (void)a;
    if (topology(s, out) != NULL)
        resp_add_help(out, "CLUSTER", help);
    return PROTO_OK;
}

#define SUB(n, ar, fn)                                                                                       \
    {                                                                                                        \
        n, ar, 0, 0, 0, 0, fn, NULL, 0, 0                                                                    \
    }

/* Sorted by name. */
const struct resp_cmd resp_cluster_subs[] = {
    SUB("countkeysinslot", 3, cluster_countkeysinslot),
    SUB("getkeysinslot", 4, cluster_getkeysinslot),
    SUB("help", 2, cluster_help),
    SUB("info", 2, cluster_info),
    SUB("keyslot", 3, cluster_keyslot),
    SUB("myid", 2, cluster_myid),
    SUB("nodes", 2, cluster_nodes),
    SUB("shards", 2, cluster_shards),
    SUB("slots", 2, cluster_slots),
};
const size_t resp_cluster_nsubs = sizeof(resp_cluster_subs) / sizeof(resp_cluster_subs[0]);

/* ---- redirects ---- */

/* The route of one command's keys. */
static enum resp_cluster_route route_cmd(const struct resp_cluster *c, const struct resp_cmd *cmd,
                                         const struct resp_args *a, int *slot,
                                         const struct resp_cluster_node **node)
{
    return resp_cluster_route_keys(c, a->argc, a->argv, a->argl, cmd->first_key, cmd->last_key, cmd->key_step,
                                   slot, node);
}

/* EXEC: every queued command's keys together must be in one slot of this node. */
static enum resp_cluster_route route_exec(const struct resp_cluster *c, const struct resp_session *s,
                                          int *slot, const struct resp_cluster_node **node)
{
    int found = -1;
    for (const struct resp_queued *q = s->q_head; q != NULL; q = q->next) {
        int sl = -1;
        enum resp_cluster_route r = route_cmd(c, q->cmd, &q->args, &sl, node);
        if (r == RESP_CLUSTER_CROSSSLOT || r == RESP_CLUSTER_DOWN || r == RESP_CLUSTER_MOVED) {
            *slot = sl;
            return r;
        }
        if (sl < 0)
            continue;
        if (found >= 0 && sl != found)
            return RESP_CLUSTER_CROSSSLOT;
        found = sl;
    }
    return RESP_CLUSTER_HERE;
}

/* See resp_internal.h. */
const char *resp_cluster_redirect(struct resp_session *s, const struct resp_cmd *cmd,
                                  const struct resp_args *a, char *line, size_t size)
{
    const struct resp_cluster *c = resp_cluster_get(s->ctx->cluster);
    const struct resp_cluster_node *node = NULL;
    enum resp_cluster_route r;
    int slot = -1;

    if (c == NULL)
        return NULL;
    if (cmd->fn == resp_cmd_exec)
        r = s->in_multi ? route_exec(c, s, &slot, &node) : RESP_CLUSTER_HERE;
    else
        r = route_cmd(c, cmd, a, &slot, &node);
    switch (r) {
    case RESP_CLUSTER_HERE:
        return NULL;
    case RESP_CLUSTER_CROSSSLOT:
        return E_CROSSSLOT;
    case RESP_CLUSTER_DOWN:
        return E_DOWN;
    case RESP_CLUSTER_MOVED:
        break;
    }
    snprintf(line, size, "MOVED %d %s:%d", slot, node->ip, node->port);
    return line;
}
