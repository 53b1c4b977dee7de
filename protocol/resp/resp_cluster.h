/*
 * resp_cluster.h: a static Redis Cluster topology for RESP: which node serves which of the 16384 hash
 * slots, read from a file given with --cluster-config (one line per node), and the key slot of Redis
 * Cluster (CRC16 of the key, or of its {hash tag}). cairn nodes stay independent: no gossip, no
 * failover, no resharding; each node only answers for its slots and redirects the rest (MOVED).
 *
 * File format, one node per line:
 *     <name-or-40-hex-id> <ip>:<port> [myself] <slot-range>...
 * a slot range is "first-last" or a single slot; ranges of the whole file must not overlap and need
 * not cover every slot; '#' starts a comment; blank lines are skipped. The node's own line is the one
 * marked "myself", else the one whose port is the node's RESP port. A name that is not 40 hex digits
 * becomes a stable id: the hex of the first 20 bytes of its SHA-256.
 *
 * A topology is immutable once built; the server swaps in a new one on reload (struct
 * resp_cluster_ref) and keeps the old ones until it ends, since a worker may still read them.
 */
#ifndef CAIRN_PROTOCOL_RESP_CLUSTER_H
#define CAIRN_PROTOCOL_RESP_CLUSTER_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define RESP_CLUSTER_SLOTS  16384u
#define RESP_CLUSTER_IP_MAX 64u

struct resp_cluster_node {
    char id[41]; /* 40 lowercase hex digits */
    char ip[RESP_CLUSTER_IP_MAX + 1];
    int port;
};

struct resp_cluster {
    struct resp_cluster_node *nodes; /* in the file's order */
    size_t nnodes;
    size_t self;                       /* index of this node */
    size_t assigned;                   /* slots with an owner */
    int16_t owner[RESP_CLUSTER_SLOTS]; /* node index, -1: nobody */
    struct resp_cluster *retired;      /* the server's list of replaced topologies */
    uint64_t retired_gen;              /* on that list: the reload generation that replaced it */
};

/* Where a request goes, as Redis's getNodeByQuery decides it. */
enum resp_cluster_route {
    RESP_CLUSTER_HERE,      /* no keys, or every key's slot is this node's */
    RESP_CLUSTER_CROSSSLOT, /* keys of different slots */
    RESP_CLUSTER_MOVED,     /* the slot is another node's */
    RESP_CLUSTER_DOWN,      /* nobody serves the slot */
};

/* The hash slot of a key: CRC16 (XMODEM) of the key, or of the bytes between the first '{' and the
 * first '}' after it when there are some. */
unsigned resp_cluster_keyslot(const char *key, size_t len);

/* Builds a topology from the file's text; own_port picks this node's line when no line says
 * "myself". NULL on a bad file or no memory, with why (naming the line: "line 3: ...") in err. */
struct resp_cluster *resp_cluster_parse(const char *text, size_t len, int own_port, char *err, size_t errlen);

/* Reads and parses a file; NULL with why in err ("<path>: ..."). */
struct resp_cluster *resp_cluster_load(const char *path, int own_port, char *err, size_t errlen);

/* A one-node cluster owning every slot (--cluster-enabled=yes without a file). */
struct resp_cluster *resp_cluster_single(const char *ip, int port);

/* Frees a topology and its retired list; sets *c to NULL. */
void resp_cluster_free(struct resp_cluster **c);

/* The route of a request whose keys are argv[first], argv[first+step], ... up to last (Redis's key
 * spec; last < 0 counts from the end). *slot and *node get the slot and owner for MOVED. */
enum resp_cluster_route resp_cluster_route_keys(const struct resp_cluster *c, size_t argc,
                                                const char *const *argv, const size_t *argl, int first,
                                                int last, int step, int *slot,
                                                const struct resp_cluster_node **node);

/* The topology in force, swapped by the server's reload (one writer; workers read). */
struct resp_cluster_ref {
    struct resp_cluster *cur; /* read and written with __atomic builtins */
};

static inline const struct resp_cluster *resp_cluster_get(const struct resp_cluster_ref *r)
{
    return r == NULL ? NULL : __atomic_load_n(&r->cur, __ATOMIC_ACQUIRE);
}

/* Puts c in force and returns the topology it replaces (NULL: none), which sessions on other threads
 * may still be reading: the caller frees it once every one has finished the command it was running
 * (server/server.c: a grace period seen by every worker). */
struct resp_cluster *resp_cluster_swap(struct resp_cluster_ref *r, struct resp_cluster *c);

#endif
