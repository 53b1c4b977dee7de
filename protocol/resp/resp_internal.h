/*
 * resp_internal.h: what the files of protocol/resp/ share: the session, the command table and the
 * small helpers every command uses. Not part of the protocol's interface (resp.h is).
 *
 * A command is a row of the table (resp_commands.c): its lowercase name, Redis's arity (n > 0 exactly
 * n arguments with the name; n < 0 at least -n), flags, the position of its keys (for the shard locks
 * of EXEC and for WATCH) and its function. Container commands (CLIENT, CONFIG, COMMAND, OBJECT,
 * MEMORY, SLOWLOG, ...) have a table of subcommands, looked up as Redis 7.0 does (argv[1], case-insensitive).
 *
 * A command function runs with the arguments of one complete request and appends exactly one reply
 * (an array counts as one) unless it returns something else than PROTO_OK that says otherwise.
 *
 * Threads: a session is used by the thread that owns its connection.
 */
#ifndef CAIRN_PROTOCOL_RESP_INTERNAL_H
#define CAIRN_PROTOCOL_RESP_INTERNAL_H

#include <pthread.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "protocol/timing.h"
#include "protocol/auth.h"
#include "protocol/outq.h"
#include "protocol/proto.h"
#include "protocol/resp/resp.h"
#include "protocol/resp/resp_parse.h"
#include "protocol/resp/resp_reply.h"
#include "storage/item.h"

struct resp_session;

typedef enum proto_status (*resp_cmd_fn)(struct resp_session *s, const struct resp_args *a,
                                         struct outq *out);

/* Command flags. */
#define RESP_CMD_WRITE   0x01u /* changes the keyspace */
#define RESP_CMD_ADMIN                                                                                       \
    0x02u                       /* server-wide: needs role admin (protocol/auth.h); CONFIG SET and           \
                                 * the like are also refused under --disable-admin-commands */
#define RESP_CMD_NOQUEUE 0x04u /* runs at once inside MULTI (EXEC, DISCARD, MULTI, WATCH, QUIT, RESET) */
#define RESP_CMD_NOSCRIPT 0x08u
#define RESP_CMD_NOAUTH   0x10u /* runs before authentication (Redis's no_auth): AUTH HELLO QUIT RESET */
#define RESP_CMD_PROTECTED                                                                                   \
    0x20u /* refused to everyone, before authentication is looked at (Redis's                                \
           * protected commands with enable-debug-command no): DEBUG */

struct resp_cmd {
    const char *name;  /* lowercase; for a subcommand "setname" (fullname "client|setname") */
    int arity;
    unsigned flags;
    int first_key, last_key, key_step; /* Redis's key spec: positions (last -1 = the last argument) */
    resp_cmd_fn fn;
    const struct resp_cmd *subs; /* container: its subcommands, sorted by name (count: resp_cmd_nsubs) */
    size_t nsubs_unused;
    int value_arg; /* > 0: this argument is a value that may be received straight into an item */
};

/* A command queued by MULTI: a private copy of its arguments. */
struct resp_queued {
    struct resp_queued *next;
    const struct resp_cmd *cmd, *parent; /* parent: cmd's container, if any */
    struct resp_args args; /* argv/argl point into the same allocation */
};

/* A key watched by WATCH: its version (CAS unique, 0 = absent) when it was watched. */
struct resp_watch {
    uint64_t version;
    size_t nkey;
    char key[];
};

#define RESP_NAME_MAX 128u /* CLIENT SETNAME longer names are refused */

struct resp_session {
    const struct resp_context *ctx;
    struct resp_stats *stats;
    struct resp_parser *parser;
    int proto;             /* 2, or 3 after HELLO 3 */
    uint64_t id;           /* CLIENT ID */
    enum proto_wait wait;  /* PROTO_WAIT: what the server is asked to do */
    int wait_cmd;          /* 0 = SAVE, 1 = BGSAVE: which reply the outcome becomes */
    /* A large value being received straight into its item (zero-copy). */
    struct item *it;
    size_t it_reserved;    /* bytes taken from the receiving budget for it */
    size_t it_index;       /* its argument number */
    bool it_skip;          /* the argument is too large: its bytes are dropped (size error) */
    /* MULTI */
    bool in_multi;
    int multi_shown;       /* CLIENT LIST's multi=: -1, or the commands queued (resp_multi_show; relaxed
                            * atomic, read by the thread that walks the connections) */
    bool multi_error;      /* a command failed to queue: EXEC answers EXECABORT */
    struct resp_queued *q_head, *q_tail;
    size_t q_count, q_bytes;
    /* WATCH */
    struct resp_watch **watch;
    size_t nwatch, watch_cap;
    /* CLIENT */
    pthread_mutex_t name_lock; /* the names are read by CLIENT LIST on another thread */
    char name[RESP_NAME_MAX + 1];
    char lib_name[RESP_NAME_MAX + 1], lib_ver[RESP_NAME_MAX + 1];
    /* The last command run and its container (CLIENT LIST's cmd=, "client|list"): written with
     * relaxed atomic stores by the session's thread, read so by CLIENT LIST on another. */
    const struct resp_cmd *last_cmd, *last_parent;
    const struct resp_cmd *cur_parent; /* the container of the command being resolved, if any */
    bool no_evict, no_touch;
    /* CLIENT REPLY: OFF withholds every reply until ON (or RESET); SKIP withholds the next command's.
     * A withheld reply is written into `sink` (created by the first OFF or SKIP) and dropped, so
     * commands run and count exactly as when answered. skip_this: the current command's reply is
     * skipped; wait_muted: the answer of a command that waits (PROTO_WAIT) is withheld. */
    bool reply_off, skip_next, skip_this, wait_muted;
    struct outq *sink;
    /* Authentication (protocol/auth.h): the role, and the user CLIENT LIST and ACL WHOAMI name
     * (under name_lock; "default" until another user authenticates). */
    struct auth_conn auth;
    char user[AUTH_NAME_MAX + 1];
    bool held_wrongpass; /* PROTO_WAIT_AUTH_DELAY: the WRONGPASS reply is appended on
                          * PROTO_EV_AUTH_DELAYED */
    bool in_exec;        /* EXEC is running the queue: a failure's reply cannot be held back */
    /* Timing (protocol/timing.h; meter.hist NULL: none): where the current request's time starts and
     * the top-level command it runs (NULL: none yet, or not timed; EXEC's own for the queue) */
    struct timing_meter meter;
    uint64_t t_mark;
    const struct resp_cmd *t_cmd, *t_parent; /* t_parent: t_cmd's container, if any */
    uint64_t t_errors; /* stats->errors when t_cmd started: more at its end means it failed */
};

/* Makes the sink withheld replies go to (CLIENT REPLY OFF or SKIP); false on no memory. */
bool resp_reply_sink(struct resp_session *s);

/* The timing slot (protocol/timing.h) of a command; parent: its container, NULL for a top-level one
 * (resp_commands.c). */
unsigned resp_cmd_slot(const struct resp_cmd *parent, const struct resp_cmd *cmd);

/* ---- helpers (resp.c) ---- */

/* CLUSTER COUNTKEYSINSLOT (count_only: the number of the slot's live keys) and GETKEYSINSLOT (at
 * most max of them, in scan order), replied into out; O(N), a scan of the whole keyspace as KEYS
 * (resp_keys.c). */
void resp_keys_in_slot(struct resp_session *s, unsigned slot, uint64_t max, bool count_only,
                       struct outq *out);

/* Publishes in_multi and q_count for CLIENT LIST on another thread (multi_shown). */
void resp_multi_show(struct resp_session *s);

/* Runs one command of EXEC's queue and counts it as Redis does: under its own name (calls, time,
 * failures, the slow log), its errors not EXEC's; CLIENT LIST's cmd= stays exec. */
enum proto_status resp_call_queued(struct resp_session *s, const struct resp_queued *q, struct outq *out);

/* Adds one to one of the worker's counters (one writer: relaxed load and store). */
static inline void resp_count(uint64_t *c)
{
    __atomic_store_n(c, __atomic_load_n(c, __ATOMIC_RELAXED) + 1, __ATOMIC_RELAXED);
}

/* Whether argument i equals the NUL-terminated word w, ignoring ASCII case. */
bool resp_arg_is(const struct resp_args *a, size_t i, const char *w);

/* Replies Redis's error and counts it. */
void resp_error(struct resp_session *s, struct outq *out, const char *line);

/* Counts an error reply that is written some other way: total_error_replies, and INFO errorstats
 * under text's code (its first word, as resp_errstats_code reads it). */
void resp_count_error(struct resp_session *s, const char *text);

/* The common error replies, Redis 7.0's text. */
#define RESP_E_SYNTAX   "ERR syntax error"
#define RESP_E_NOTINT   "ERR value is not an integer or out of range"
#define RESP_E_NOTFLOAT "ERR value is not a valid float"
#define RESP_E_OVERFLOW "ERR increment or decrement would overflow"
#define RESP_E_WRONGTYPE "WRONGTYPE Operation against a key holding the wrong kind of value"
#define RESP_E_NOKEY    "ERR no such key"
#define RESP_E_DBRANGE   "ERR DB index is out of range"
#define RESP_E_OOM      "OOM command not allowed when used memory > 'maxmemory'."
#define RESP_E_TOOBIG   "ERR string exceeds maximum allowed size (proto-max-bulk-len)"
#define RESP_E_NOAUTH    "NOAUTH Authentication required."
#define RESP_E_WRONGPASS "WRONGPASS invalid username-password pair or user is disabled."
#define RESP_E_DEBUG                                                                                         \
    "ERR DEBUG command not allowed. If the enable-debug-command option is set to \"local\", you can run it " \
    "from a local connection, otherwise you need to set this option in the configuration file, and then "    \
    "restart the server."

/* Parses argument i as Redis's long long (string2ll); on failure replies RESP_E_NOTINT. */
bool resp_arg_ll(struct resp_session *s, const struct resp_args *a, size_t i, long long *v,
                 struct outq *out);

/* The arity error for cmd ("ERR wrong number of arguments for '<fullname>' command"). */
void resp_arity_error(struct resp_session *s, const struct resp_cmd *parent, const struct resp_cmd *cmd,
                      struct outq *out);

/* The item a SET-like command's value argument i was received into (zero-copy), handed over to the
 * caller with its reference; NULL when argument i was not received that way. */
struct item *resp_take_received(struct resp_session *s, const struct resp_args *a, size_t i);

/* The command table (resp_commands.c). */
const struct resp_cmd *resp_cmd_lookup(const char *name, size_t len);
const struct resp_cmd *resp_cmd_lookup_in(const struct resp_cmd *tab, size_t n, const char *name,
                                          size_t len);
size_t resp_cmd_nsubs(const struct resp_cmd *cmd);
extern const struct resp_cmd resp_commands[];
extern const size_t resp_ncommands;

/* ---- command functions, by file ---- */

/* resp_strings.c */
enum proto_status resp_cmd_get(struct resp_session *, const struct resp_args *, struct outq *);
enum proto_status resp_cmd_set(struct resp_session *, const struct resp_args *, struct outq *);
enum proto_status resp_cmd_setnx(struct resp_session *, const struct resp_args *, struct outq *);
enum proto_status resp_cmd_setex(struct resp_session *, const struct resp_args *, struct outq *);
enum proto_status resp_cmd_psetex(struct resp_session *, const struct resp_args *, struct outq *);
enum proto_status resp_cmd_getset(struct resp_session *, const struct resp_args *, struct outq *);
enum proto_status resp_cmd_getdel(struct resp_session *, const struct resp_args *, struct outq *);
enum proto_status resp_cmd_getex(struct resp_session *, const struct resp_args *, struct outq *);
enum proto_status resp_cmd_mget(struct resp_session *, const struct resp_args *, struct outq *);
enum proto_status resp_cmd_mset(struct resp_session *, const struct resp_args *, struct outq *);
enum proto_status resp_cmd_msetnx(struct resp_session *, const struct resp_args *, struct outq *);
enum proto_status resp_cmd_append(struct resp_session *, const struct resp_args *, struct outq *);
enum proto_status resp_cmd_strlen(struct resp_session *, const struct resp_args *, struct outq *);
enum proto_status resp_cmd_getrange(struct resp_session *, const struct resp_args *, struct outq *);
enum proto_status resp_cmd_setrange(struct resp_session *, const struct resp_args *, struct outq *);
enum proto_status resp_cmd_incr(struct resp_session *, const struct resp_args *, struct outq *);
enum proto_status resp_cmd_decr(struct resp_session *, const struct resp_args *, struct outq *);
enum proto_status resp_cmd_incrby(struct resp_session *, const struct resp_args *, struct outq *);
enum proto_status resp_cmd_decrby(struct resp_session *, const struct resp_args *, struct outq *);
enum proto_status resp_cmd_incrbyfloat(struct resp_session *, const struct resp_args *, struct outq *);

/* resp_dump.c */
enum proto_status resp_cmd_dump(struct resp_session *, const struct resp_args *, struct outq *);
enum proto_status resp_cmd_restore(struct resp_session *, const struct resp_args *, struct outq *);

/* resp_lcs.c */
enum proto_status resp_cmd_lcs(struct resp_session *, const struct resp_args *, struct outq *);

/* resp_bits.c */
enum proto_status resp_cmd_setbit(struct resp_session *, const struct resp_args *, struct outq *);
enum proto_status resp_cmd_getbit(struct resp_session *, const struct resp_args *, struct outq *);
enum proto_status resp_cmd_bitcount(struct resp_session *, const struct resp_args *, struct outq *);
enum proto_status resp_cmd_bitpos(struct resp_session *, const struct resp_args *, struct outq *);
enum proto_status resp_cmd_bitop(struct resp_session *, const struct resp_args *, struct outq *);
enum proto_status resp_cmd_bitfield(struct resp_session *, const struct resp_args *, struct outq *);
enum proto_status resp_cmd_bitfield_ro(struct resp_session *, const struct resp_args *, struct outq *);

/* resp_keys.c */
enum proto_status resp_cmd_del(struct resp_session *, const struct resp_args *, struct outq *);
enum proto_status resp_cmd_exists(struct resp_session *, const struct resp_args *, struct outq *);
enum proto_status resp_cmd_touch(struct resp_session *, const struct resp_args *, struct outq *);
enum proto_status resp_cmd_type(struct resp_session *, const struct resp_args *, struct outq *);
enum proto_status resp_cmd_rename(struct resp_session *, const struct resp_args *, struct outq *);
enum proto_status resp_cmd_renamenx(struct resp_session *, const struct resp_args *, struct outq *);
enum proto_status resp_cmd_copy(struct resp_session *, const struct resp_args *, struct outq *);
enum proto_status resp_cmd_expire(struct resp_session *, const struct resp_args *, struct outq *);
enum proto_status resp_cmd_pexpire(struct resp_session *, const struct resp_args *, struct outq *);
enum proto_status resp_cmd_expireat(struct resp_session *, const struct resp_args *, struct outq *);
enum proto_status resp_cmd_pexpireat(struct resp_session *, const struct resp_args *, struct outq *);
enum proto_status resp_cmd_ttl(struct resp_session *, const struct resp_args *, struct outq *);
enum proto_status resp_cmd_pttl(struct resp_session *, const struct resp_args *, struct outq *);
enum proto_status resp_cmd_expiretime(struct resp_session *, const struct resp_args *, struct outq *);
enum proto_status resp_cmd_pexpiretime(struct resp_session *, const struct resp_args *, struct outq *);
enum proto_status resp_cmd_persist(struct resp_session *, const struct resp_args *, struct outq *);
enum proto_status resp_cmd_keys(struct resp_session *, const struct resp_args *, struct outq *);
enum proto_status resp_cmd_scan(struct resp_session *, const struct resp_args *, struct outq *);
enum proto_status resp_cmd_randomkey(struct resp_session *, const struct resp_args *, struct outq *);
enum proto_status resp_cmd_dbsize(struct resp_session *, const struct resp_args *, struct outq *);
enum proto_status resp_cmd_flushall(struct resp_session *, const struct resp_args *, struct outq *);

/* resp_conn.c: connection and transaction commands */
enum proto_status resp_cmd_ping(struct resp_session *, const struct resp_args *, struct outq *);
enum proto_status resp_cmd_echo(struct resp_session *, const struct resp_args *, struct outq *);
enum proto_status resp_cmd_quit(struct resp_session *, const struct resp_args *, struct outq *);
enum proto_status resp_cmd_reset(struct resp_session *, const struct resp_args *, struct outq *);
enum proto_status resp_cmd_auth(struct resp_session *, const struct resp_args *, struct outq *);
enum proto_status resp_cmd_hello(struct resp_session *, const struct resp_args *, struct outq *);
enum proto_status resp_cmd_select(struct resp_session *, const struct resp_args *, struct outq *);
enum proto_status resp_cmd_move(struct resp_session *, const struct resp_args *, struct outq *);
enum proto_status resp_cmd_swapdb(struct resp_session *, const struct resp_args *, struct outq *);
enum proto_status resp_cmd_multi(struct resp_session *, const struct resp_args *, struct outq *);
enum proto_status resp_cmd_exec(struct resp_session *, const struct resp_args *, struct outq *);
enum proto_status resp_cmd_discard(struct resp_session *, const struct resp_args *, struct outq *);
enum proto_status resp_cmd_watch(struct resp_session *, const struct resp_args *, struct outq *);
enum proto_status resp_cmd_unwatch(struct resp_session *, const struct resp_args *, struct outq *);

/* resp_server.c: CLIENT, COMMAND, CONFIG, INFO, persistence, MEMORY, OBJECT, TIME */
extern const struct resp_cmd resp_client_subs[], resp_config_subs[], resp_command_subs[], resp_object_subs[],
    resp_memory_subs[], resp_acl_subs[];
extern const size_t resp_client_nsubs, resp_config_nsubs, resp_command_nsubs, resp_object_nsubs,
    resp_memory_nsubs, resp_acl_nsubs;
enum proto_status resp_cmd_command(struct resp_session *, const struct resp_args *, struct outq *);
enum proto_status resp_cmd_info(struct resp_session *, const struct resp_args *, struct outq *);
enum proto_status resp_cmd_time(struct resp_session *, const struct resp_args *, struct outq *);
enum proto_status resp_cmd_lastsave(struct resp_session *, const struct resp_args *, struct outq *);
enum proto_status resp_cmd_save(struct resp_session *, const struct resp_args *, struct outq *);
enum proto_status resp_cmd_bgsave(struct resp_session *, const struct resp_args *, struct outq *);
enum proto_status resp_cmd_shutdown(struct resp_session *, const struct resp_args *, struct outq *);
enum proto_status resp_cmd_debug(struct resp_session *, const struct resp_args *, struct outq *);

/* resp_cluster_cmd.c: CLUSTER, READONLY, READWRITE, ASKING */
extern const struct resp_cmd resp_cluster_subs[];
extern const size_t resp_cluster_nsubs;
enum proto_status resp_cmd_cluster_ok(struct resp_session *, const struct resp_args *, struct outq *);

/* resp_slowlog.c: SLOWLOG */
extern const struct resp_cmd resp_slowlog_subs[];
extern const size_t resp_slowlog_nsubs;

/* In cluster mode, the refusal of a command whose keys this node does not serve (Redis 7.0's
 * CROSSSLOT, MOVED or CLUSTERDOWN text, possibly written into line); NULL when it runs here. For EXEC
 * the keys of every queued command count together. */
const char *resp_cluster_redirect(struct resp_session *s, const struct resp_cmd *cmd,
                                  const struct resp_args *a, char *line, size_t size);

/* Sets the client name (CLIENT SETNAME, HELLO SETNAME; empty clears it); false after replying
 * Redis's error for a name with spaces or special characters (resp_conn.c). */
bool resp_set_client_name(struct resp_session *s, const char *p, size_t n, struct outq *out);

/* resp_conn.c: the user the connection is authenticated as (ACL WHOAMI), copied into buf. */
size_t resp_user_name(struct resp_session *s, char *buf, size_t size);

/* Ends MULTI state: frees the queued commands (DISCARD, EXEC, RESET, destroy). */
void resp_multi_clear(struct resp_session *s);

/* Forgets every watched key (UNWATCH, EXEC, DISCARD, RESET, destroy). */
void resp_unwatch_all(struct resp_session *s);

#endif
