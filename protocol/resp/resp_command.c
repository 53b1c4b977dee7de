/*
 * resp_command.c: COMMAND and its subcommands (COUNT, DOCS, GETKEYS, HELP, INFO, LIST): the command
 * table (resp_commands.c) described in Redis 7.0's reply shapes, so that redis-cli (which reads COMMAND
 * DOCS when it starts, for its hints and HELP) and client libraries (COMMAND INFO, COMMAND GETKEYS)
 * find what they expect.
 *
 * The table rows carry what dispatch needs (name, arity, key positions); what only COMMAND reports
 * lives here, one row per command or subcommand in resp_docs[]: Redis's summary, since, group and
 * complexity, its command flags and ACL categories as Redis 7.0 lists them, the flags of the command's
 * key range, and its arguments in a compact syntax (arg_parse) that is turned into Redis's argument
 * maps. A command of the table without a row is still reported, with flags derived from its own.
 *
 * Differences from Redis, all in what is reported, not in what is accepted: one key spec per command
 * (its legacy range; Redis gives RENAME two), no history, no deprecation notes, and commands in the
 * table's (sorted) order where Redis's order is its hash table's.
 */
#include "config.h"

#include <stdio.h>
#include <string.h>
#include <strings.h>

#include "protocol/resp/resp_internal.h"
#include "protocol/resp/resp_server.h"
#include "protocol/resp/resp_util.h"

/* What COMMAND reports about one command beyond its table row. */
struct resp_doc {
    const char *name; /* fullname: "get", "client|setname" */
    const char *summary;
    const char *since; /* the Redis version that introduced it */
    const char *group; /* Redis's command group */
    const char *complexity;
    const char *flags;    /* Redis's command flags, space separated */
    const char *acl;      /* ACL categories, space separated */
    const char *tips;     /* command tips, space separated, or NULL */
    const char *keyflags; /* flags of its key spec (when the row has keys) */
    const char *args;     /* arguments (see arg_parse), or NULL when it takes none */
};

#define RW_ACCESS "RW access update"
#define COND      "[condition(NX|XX|GT|LT)]"
#define EXPIRY                                                                                               \
    "EX=seconds:integer|PX=milliseconds:integer|EXAT=unix-time-seconds:unix-time|"                           \
    "PXAT=unix-time-milliseconds:unix-time"
#define HELP_SUMMARY "Show helpful text about the different subcommands"

/* Sorted by name (strcmp); the unit test checks the order and that every syntax parses. */
static const struct resp_doc resp_docs[] = {
    {"acl", "A container for Access List Control commands ", "6.0.0", "server", "Depends on subcommand.", "",
     "@slow", NULL, NULL, NULL},
    {"acl|whoami", "Return the name of the user associated to the current connection", "6.0.0", "server",
     "O(1)", "noscript loading stale", "@slow", NULL, NULL, NULL},
    {"append", "Append a value to a key", "2.0.0", "string", "O(1)", "write denyoom fast",
     "@write @string @fast", NULL, "RW insert", "key:key value:string"},
    {"asking", "Sent by cluster clients after an -ASK redirect", "3.0.0", "cluster", "O(1)", "fast",
     "@fast @connection", NULL, NULL, NULL},
    {"auth", "Authenticate to the server", "1.0.0", "connection", "O(1)",
     "noscript loading stale fast no_auth allow_busy", "@fast @connection", NULL, NULL,
     "[username:string] password:string"},
    {"bgsave", "Asynchronously save the dataset to disk", "1.0.0", "server", "O(1)",
     "admin noscript no_async_loading", "@admin @slow @dangerous", NULL, NULL, "[SCHEDULE]"},
    {"bitcount", "Count set bits in a string", "2.6.0", "bitmap", "O(N)", "readonly", "@read @bitmap @slow",
     NULL, "RO access", "key:key [index{start:integer end:integer [index_unit(BYTE|BIT)]}]"},
    {"bitfield", "Perform arbitrary bitfield integer operations on strings", "3.2.0", "bitmap",
     "O(1) for each subcommand specified", "write denyoom", "@write @bitmap @slow", NULL,
     "RW access update variable_flags",
     "key:key [operation(GET=encoding_offset{encoding:string offset:integer}|write{[OVERFLOW=wrap_sat_fail("
     "WRAP|SAT|FAIL)] write_operation(SET=encoding_offset_value{encoding:string offset:integer "
     "value:integer}|"
     "INCRBY=encoding_offset_increment{encoding:string offset:integer increment:integer})})...]"},
    {"bitfield_ro", "Perform arbitrary bitfield integer operations on strings. Read-only variant of BITFIELD",
     "6.0.0", "bitmap", "O(1) for each subcommand specified", "readonly fast", "@read @bitmap @fast", NULL,
     "RO access", "key:key [GET=encoding_offset{encoding:string offset:integer}...]"},
    {"bitop", "Perform bitwise operations between strings", "2.6.0", "bitmap", "O(N)", "write denyoom",
     "@write @bitmap @slow", NULL, "OW update", "operation:string destkey:key key:key..."},
    {"bitpos", "Find first bit set or clear in a string", "2.8.7", "bitmap", "O(N)", "readonly",
     "@read @bitmap @slow", NULL, "RO access",
     "key:key bit:integer [index{start:integer [end_index{end:integer [index_unit(BYTE|BIT)]}]}]"},
    {"client", "A container for client connection commands", "2.4.0", "connection", "Depends on subcommand.",
     "", "@slow", NULL, NULL, NULL},
    {"client|getname", "Get the current connection name", "2.6.9", "connection", "O(1)",
     "noscript loading stale", "@slow @connection", NULL, NULL, NULL},
    {"client|help", HELP_SUMMARY, "5.0.0", "connection", "O(1)", "loading stale", "@slow @connection", NULL,
     NULL, NULL},
    {"client|id", "Returns the client ID for the current connection", "5.0.0", "connection", "O(1)",
     "noscript loading stale", "@slow @connection", NULL, NULL, NULL},
    {"client|info", "Returns information about the current client connection.", "6.2.0", "connection", "O(1)",
     "noscript loading stale", "@slow @connection", "nondeterministic_output", NULL, NULL},
    {"client|list", "Get the list of client connections", "2.4.0", "connection",
     "O(N) where N is the number of client connections", "admin noscript loading stale",
     "@admin @slow @dangerous @connection", "nondeterministic_output", NULL,
     "[TYPE=normal_master_replica_pubsub(NORMAL|MASTER|REPLICA|PUBSUB)] [ID=id{client-id:integer...}]"},
    {"client|no-evict", "Set client eviction mode for the current connection", "7.0.0", "connection", "O(1)",
     "admin noscript loading stale", "@admin @slow @dangerous @connection", NULL, NULL, "enabled(ON|OFF)"},
    {"client|no-touch",
     "Controls whether commands sent by the client will alter the LRU/LFU of the keys they access.", "7.2.0",
     "connection", "O(1)", "noscript loading stale", "@slow @connection", NULL, NULL, "enabled(ON|OFF)"},
    {"client|reply", "Instruct the server whether to reply to commands", "3.2.0", "connection", "O(1)",
     "noscript loading stale", "@slow @connection", NULL, NULL, "on_off_skip(ON|OFF|SKIP)"},
    {"client|setinfo", "Set client or connection specific info", "7.2.0", "connection", "O(1)",
     "noscript loading stale", "@slow @connection", NULL, NULL,
     "attr(LIB-NAME=libname:string|LIB-VER=libver:string)"},
    {"client|setname", "Set the current connection name", "2.6.9", "connection", "O(1)",
     "noscript loading stale", "@slow @connection", NULL, NULL, "connection-name:string"},
    {"cluster", "A container for cluster commands", "3.0.0", "cluster", "Depends on subcommand.", "", "@slow",
     NULL, NULL, NULL},
    {"cluster|countkeysinslot", "Return the number of local keys in the specified hash slot", "3.0.0",
     "cluster", "O(1)", "stale", "@slow", NULL, NULL, "slot:integer"},
    {"cluster|getkeysinslot", "Return local key names in the specified hash slot", "3.0.0", "cluster",
     "O(log(N)) where N is the number of requested keys", "stale", "@slow", "nondeterministic_output", NULL,
     "slot:integer count:integer"},
    {"cluster|help", "Show helpful text about the different subcommands", "5.0.0", "cluster", "O(1)",
     "loading stale", "@slow", NULL, NULL, NULL},
    {"cluster|info", "Provides info about Redis Cluster node state", "3.0.0", "cluster", "O(1)", "stale",
     "@slow", "nondeterministic_output", NULL, NULL},
    {"cluster|keyslot", "Returns the hash slot of the specified key", "3.0.0", "cluster",
     "O(N) where N is the number of bytes in the key", "stale", "@slow", NULL, NULL, "key:string"},
    {"cluster|myid", "Return the node id", "3.0.0", "cluster", "O(1)", "stale", "@slow", NULL, NULL, NULL},
    {"cluster|nodes", "Get Cluster config for the node", "3.0.0", "cluster",
     "O(N) where N is the total number of Cluster nodes", "stale", "@slow", "nondeterministic_output", NULL,
     NULL},
    {"cluster|shards", "Get array of cluster slots to node mappings", "7.0.0", "cluster",
     "O(N) where N is the total number of cluster nodes", "stale", "@slow", "nondeterministic_output", NULL,
     NULL},
    {"cluster|slots", "Get array of Cluster slot to node mappings", "3.0.0", "cluster",
     "O(N) where N is the total number of Cluster nodes", "stale", "@slow", "nondeterministic_output", NULL,
     NULL},
    {"command", "Get array of Redis command details", "2.8.13", "server",
     "O(N) where N is the total number of Redis commands", "loading stale", "@slow @connection",
     "nondeterministic_output_order", NULL, NULL},
    {"command|count", "Get total number of Redis commands", "2.8.13", "server", "O(1)", "loading stale",
     "@slow @connection", NULL, NULL, NULL},
    {"command|docs", "Get array of specific Redis command documentation", "7.0.0", "server",
     "O(N) where N is the number of commands to look up", "loading stale", "@slow @connection",
     "nondeterministic_output_order", NULL, "[command-name:string...]"},
    {"command|getkeys", "Extract keys given a full Redis command", "2.8.13", "server",
     "O(N) where N is the number of arguments to the command", "loading stale", "@slow @connection", NULL,
     NULL, NULL},
    {"command|help", HELP_SUMMARY, "5.0.0", "server", "O(1)", "loading stale", "@slow @connection", NULL,
     NULL, NULL},
    {"command|info", "Get array of specific Redis command details, or all when no argument is given.",
     "2.8.13", "server", "O(N) where N is the number of commands to look up", "loading stale",
     "@slow @connection", "nondeterministic_output_order", NULL, "[command-name:string...]"},
    {"command|list", "Get an array of Redis command names", "7.0.0", "server",
     "O(N) where N is the total number of Redis commands", "loading stale", "@slow @connection",
     "nondeterministic_output_order", NULL,
     "[FILTERBY=filterby(MODULE=module-name:string|ACLCAT=category:string|PATTERN=pattern:pattern)]"},
    {"config", "A container for server configuration commands", "2.0.0", "server", "Depends on subcommand.",
     "", "@slow", NULL, NULL, NULL},
    {"config|get", "Get the values of configuration parameters", "2.0.0", "server",
     "O(N) when N is the number of configuration parameters provided", "admin noscript loading stale",
     "@admin @slow @dangerous", NULL, NULL, "parameter{parameter:string}..."},
    {"config|help", HELP_SUMMARY, "5.0.0", "server", "O(1)", "loading stale", "@slow", NULL, NULL, NULL},
    {"config|resetstat", "Reset the stats returned by INFO", "2.0.0", "server", "O(1)",
     "admin noscript loading stale", "@admin @slow @dangerous", NULL, NULL, NULL},
    {"config|rewrite", "Rewrite the configuration file with the in memory configuration", "2.8.0", "server",
     "O(1)", "admin noscript loading stale", "@admin @slow @dangerous", NULL, NULL, NULL},
    {"config|set", "Set configuration parameters to the given values", "2.0.0", "server",
     "O(N) when N is the number of configuration parameters provided", "admin noscript loading stale",
     "@admin @slow @dangerous", "request_policy:all_nodes response_policy:all_succeeded", NULL,
     "parameter_value{parameter:string value:string}..."},
    {"copy", "Copy a key", "6.2.0", "generic",
     "O(N) worst case for collections, where N is the number of nested items. O(1) for string values.",
     "write denyoom", "@keyspace @write @slow", NULL, "RO access",
     "source:key destination:key [DB=destination-db:integer] [REPLACE]"},
    {"dbsize", "Return the number of keys in the selected database", "1.0.0", "server", "O(1)",
     "readonly fast", "@keyspace @read @fast", "request_policy:all_shards response_policy:agg_sum", NULL,
     NULL},
    {"debug", "A container for debugging commands", "1.0.0", "server", "Depends on subcommand.",
     "admin noscript loading stale", "@admin @slow @dangerous", NULL, NULL, NULL},
    {"decr", "Decrement the integer value of a key by one", "1.0.0", "string", "O(1)", "write denyoom fast",
     "@write @string @fast", NULL, RW_ACCESS, "key:key"},
    {"decrby", "Decrement the integer value of a key by the given number", "1.0.0", "string", "O(1)",
     "write denyoom fast", "@write @string @fast", NULL, RW_ACCESS, "key:key decrement:integer"},
    {"del", "Delete a key", "1.0.0", "generic", "O(N) where N is the number of keys that will be removed.",
     "write", "@keyspace @write @slow", "request_policy:multi_shard response_policy:agg_sum", "RM delete",
     "key:key..."},
    {"discard", "Discard all commands issued after MULTI", "2.0.0", "transactions",
     "O(N), when N is the number of queued commands", "noscript loading stale fast allow_busy",
     "@fast @transaction", NULL, NULL, NULL},
    {"dump", "Return a serialized version of the value stored at the specified key.", "2.6.0", "generic",
     "O(1) to access the key and additional O(N*M) to serialize it, where N is the number of Redis objects "
     "composing the value and M their average size. For small string values the time complexity is thus "
     "O(1)+O(1*M) where M is small, so simply O(1).",
     "readonly", "@keyspace @read @slow", "nondeterministic_output", "RO access", "key:key"},
    {"echo", "Echo the given string", "1.0.0", "connection", "O(1)", "loading stale fast",
     "@fast @connection", NULL, NULL, "message:string"},
    {"exec", "Execute all commands issued after MULTI", "1.2.0", "transactions",
     "Depends on commands in the transaction", "noscript loading stale skip_slowlog", "@slow @transaction",
     NULL, NULL, NULL},
    {"exists", "Determine if a key exists", "1.0.0", "generic",
     "O(N) where N is the number of keys to check.", "readonly fast", "@keyspace @read @fast",
     "request_policy:multi_shard response_policy:agg_sum", "RO", "key:key..."},
    {"expire", "Set a key's time to live in seconds", "1.0.0", "generic", "O(1)", "write fast",
     "@keyspace @write @fast", NULL, "RW update", "key:key seconds:integer " COND},
    {"expireat", "Set the expiration for a key as a UNIX timestamp", "1.2.0", "generic", "O(1)", "write fast",
     "@keyspace @write @fast", NULL, "RW update", "key:key unix-time-seconds:unix-time " COND},
    {"expiretime", "Get the expiration Unix timestamp for a key", "7.0.0", "generic", "O(1)", "readonly fast",
     "@keyspace @read @fast", NULL, "RO access", "key:key"},
    {"flushall", "Remove all keys from all databases", "1.0.0", "server",
     "O(N) where N is the total number of keys in all databases", "write",
     "@keyspace @write @slow @dangerous", "request_policy:all_shards response_policy:all_succeeded", NULL,
     "[async(ASYNC|SYNC)]"},
    {"flushdb", "Remove all keys from the current database", "1.0.0", "server",
     "O(N) where N is the number of keys in the selected database", "write",
     "@keyspace @write @slow @dangerous", "request_policy:all_shards response_policy:all_succeeded", NULL,
     "[async(ASYNC|SYNC)]"},
    {"get", "Get the value of a key", "1.0.0", "string", "O(1)", "readonly fast", "@read @string @fast", NULL,
     "RO access", "key:key"},
    {"getbit", "Returns the bit value at offset in the string value stored at key", "2.2.0", "bitmap", "O(1)",
     "readonly fast", "@read @bitmap @fast", NULL, "RO access", "key:key offset:integer"},
    {"getdel", "Get the value of a key and delete the key", "6.2.0", "string", "O(1)", "write fast",
     "@write @string @fast", NULL, "RW access delete", "key:key"},
    {"getex", "Get the value of a key and optionally set its expiration", "6.2.0", "string", "O(1)",
     "write fast", "@write @string @fast", NULL, RW_ACCESS, "key:key [expiration(" EXPIRY "|PERSIST)]"},
    {"getrange", "Get a substring of the string stored at a key", "2.4.0", "string",
     "O(N) where N is the length of the returned string.", "readonly", "@read @string @slow", NULL,
     "RO access", "key:key start:integer end:integer"},
    {"getset", "Set the string value of a key and return its old value", "1.0.0", "string", "O(1)",
     "write denyoom fast", "@write @string @fast", NULL, RW_ACCESS, "key:key value:string"},
    {"hello", "Handshake with Redis", "6.0.0", "connection", "O(1)",
     "noscript loading stale fast no_auth allow_busy", "@fast @connection", NULL, NULL,
     "[arguments{protover:integer [AUTH=username_password{username:string password:string}] "
     "[SETNAME=clientname:string]}]"},
    {"incr", "Increment the integer value of a key by one", "1.0.0", "string", "O(1)", "write denyoom fast",
     "@write @string @fast", NULL, RW_ACCESS, "key:key"},
    {"incrby", "Increment the integer value of a key by the given amount", "1.0.0", "string", "O(1)",
     "write denyoom fast", "@write @string @fast", NULL, RW_ACCESS, "key:key increment:integer"},
    {"incrbyfloat", "Increment the float value of a key by the given amount", "2.6.0", "string", "O(1)",
     "write denyoom fast", "@write @string @fast", NULL, RW_ACCESS, "key:key increment:double"},
    {"info", "Get information and statistics about the server", "1.0.0", "server", "O(1)", "loading stale",
     "@slow @dangerous", "nondeterministic_output request_policy:all_shards response_policy:special", NULL,
     "[section:string...]"},
    {"keys", "Find all keys matching the given pattern", "1.0.0", "generic",
     "O(N) with N being the number of keys in the database", "readonly", "@keyspace @read @slow @dangerous",
     "request_policy:all_shards nondeterministic_output_order", NULL, "pattern:pattern"},
    {"lastsave", "Get the UNIX time stamp of the last successful save to disk", "1.0.0", "server", "O(1)",
     "loading stale fast", "@admin @fast @dangerous", "nondeterministic_output", NULL, NULL},
    {"lcs", "Find longest common substring", "7.0.0", "string",
     "O(N*M) where N and M are the lengths of s1 and s2, respectively", "readonly", "@read @string @slow",
     NULL, "RO access", "key1:key key2:key [LEN] [IDX] [MINMATCHLEN=len:integer] [WITHMATCHLEN]"},
    {"memory", "A container for memory diagnostics commands", "4.0.0", "server", "Depends on subcommand.", "",
     "@slow", NULL, NULL, NULL},
    {"memory|help", HELP_SUMMARY, "4.0.0", "server", "O(1)", "loading stale", "@slow", NULL, NULL, NULL},
    {"memory|usage", "Estimate the memory usage of a key", "4.0.0", "server",
     "O(N) where N is the number of samples.", "readonly", "@read @slow", NULL, "RO",
     "key:key [SAMPLES=count:integer]"},
    {"mget", "Get the values of all the given keys", "1.0.0", "string",
     "O(N) where N is the number of keys to retrieve.", "readonly fast", "@read @string @fast",
     "request_policy:multi_shard", "RO access", "key:key..."},
    {"move", "Move a key to another database", "1.0.0", "generic", "O(1)", "write fast",
     "@keyspace @write @fast", NULL, "RW access update", "key:key db:integer"},
    {"mset", "Set multiple keys to multiple values", "1.0.1", "string",
     "O(N) where N is the number of keys to set.", "write denyoom", "@write @string @slow",
     "request_policy:multi_shard response_policy:all_succeeded", "OW update",
     "key_value{key:key value:string}..."},
    {"msetnx", "Set multiple keys to multiple values, only if none of the keys exist", "1.0.1", "string",
     "O(N) where N is the number of keys to set.", "write denyoom", "@write @string @slow",
     "request_policy:multi_shard response_policy:agg_min", "OW insert", "key_value{key:key value:string}..."},
    {"multi", "Mark the start of a transaction block", "1.2.0", "transactions", "O(1)",
     "noscript loading stale fast allow_busy", "@fast @transaction", NULL, NULL, NULL},
    {"object", "A container for object introspection commands", "2.2.3", "generic", "Depends on subcommand.",
     "", "@slow", NULL, NULL, NULL},
    {"object|encoding", "Inspect the internal encoding of a Redis object", "2.2.3", "generic", "O(1)",
     "readonly", "@keyspace @read @slow", "nondeterministic_output", "RO", "key:key"},
    {"object|freq", "Get the logarithmic access frequency counter of a Redis object", "4.0.0", "generic",
     "O(1)", "readonly", "@keyspace @read @slow", "nondeterministic_output", "RO", "key:key"},
    {"object|help", HELP_SUMMARY, "6.2.0", "generic", "O(1)", "loading stale", "@keyspace @slow", NULL, NULL,
     NULL},
    {"object|idletime", "Get the time since a Redis object was last accessed", "2.2.3", "generic", "O(1)",
     "readonly", "@keyspace @read @slow", "nondeterministic_output", "RO", "key:key"},
    {"object|refcount", "Get the number of references to the value of the key", "2.2.3", "generic", "O(1)",
     "readonly", "@keyspace @read @slow", "nondeterministic_output", "RO", "key:key"},
    {"persist", "Remove the expiration from a key", "2.2.0", "generic", "O(1)", "write fast",
     "@keyspace @write @fast", NULL, "RW update", "key:key"},
    {"pexpire", "Set a key's time to live in milliseconds", "2.6.0", "generic", "O(1)", "write fast",
     "@keyspace @write @fast", NULL, "RW update", "key:key milliseconds:integer " COND},
    {"pexpireat", "Set the expiration for a key as a UNIX timestamp specified in milliseconds", "2.6.0",
     "generic", "O(1)", "write fast", "@keyspace @write @fast", NULL, "RW update",
     "key:key unix-time-milliseconds:unix-time " COND},
    {"pexpiretime", "Get the expiration Unix timestamp for a key in milliseconds", "7.0.0", "generic", "O(1)",
     "readonly fast", "@keyspace @read @fast", NULL, "RO access", "key:key"},
    {"ping", "Ping the server", "1.0.0", "connection", "O(1)", "fast", "@fast @connection",
     "request_policy:all_shards response_policy:all_succeeded", NULL, "[message:string]"},
    {"psetex", "Set the value and expiration in milliseconds of a key", "2.6.0", "string", "O(1)",
     "write denyoom", "@write @string @slow", NULL, "OW update", "key:key milliseconds:integer value:string"},
    {"pttl", "Get the time to live for a key in milliseconds", "2.6.0", "generic", "O(1)", "readonly fast",
     "@keyspace @read @fast", "nondeterministic_output", "RO access", "key:key"},
    {"quit", "Close the connection", "1.0.0", "connection", "O(1)",
     "noscript loading stale fast no_auth allow_busy", "@fast @connection", NULL, NULL, NULL},
    {"randomkey", "Return a random key from the keyspace", "1.0.0", "generic", "O(1)", "readonly",
     "@keyspace @read @slow", "request_policy:all_shards nondeterministic_output", NULL, NULL},
    {"readonly", "Enables read queries for a connection to a cluster replica node", "3.0.0", "cluster",
     "O(1)", "loading stale fast", "@fast @connection", NULL, NULL, NULL},
    {"readwrite", "Disables read queries for a connection to a cluster replica node", "3.0.0", "cluster",
     "O(1)", "loading stale fast", "@fast @connection", NULL, NULL, NULL},
    {"rename", "Rename a key", "1.0.0", "generic", "O(1)", "write", "@keyspace @write @slow", NULL,
     "RW access delete", "key:key newkey:key"},
    {"renamenx", "Rename a key, only if the new key does not exist", "1.0.0", "generic", "O(1)", "write fast",
     "@keyspace @write @fast", NULL, "RW access delete", "key:key newkey:key"},
    {"reset", "Reset the connection", "6.2.0", "connection", "O(1)",
     "noscript loading stale fast no_auth allow_busy", "@fast @connection", NULL, NULL, NULL},
    {"restore", "Create a key using the provided serialized value, previously obtained using DUMP.", "2.6.0",
     "generic",
     "O(1) to create the new key and additional O(N*M) to reconstruct the serialized value, where N is the "
     "number of Redis objects composing the value and M their average size. For small string values the time "
     "complexity is thus O(1)+O(1*M) where M is small, so simply O(1). However for sorted set values the "
     "complexity is O(N*M*log(N)) because inserting values into sorted sets is O(log(N)).",
     "write denyoom", "@keyspace @write @slow @dangerous", NULL, "OW update",
     "key:key ttl:integer serialized-value:string [REPLACE] [ABSTTL] [IDLETIME=seconds:integer] "
     "[FREQ=frequency:integer]"},
    {"save", "Synchronously save the dataset to disk", "1.0.0", "server",
     "O(N) where N is the total number of keys in all databases", "admin noscript no_async_loading no_multi",
     "@admin @slow @dangerous", NULL, NULL, NULL},
    {"scan", "Incrementally iterate the keys space", "2.8.0", "generic",
     "O(1) for every call. O(N) for a complete iteration.", "readonly", "@keyspace @read @slow",
     "nondeterministic_output request_policy:special", NULL,
     "cursor:integer [MATCH=pattern:pattern] [COUNT=count:integer] [TYPE=type:string]"},
    {"select", "Change the selected database for the current connection", "1.0.0", "connection", "O(1)",
     "loading stale fast", "@fast @connection", NULL, NULL, "index:integer"},
    {"set", "Set the string value of a key", "1.0.0", "string", "O(1)", "write denyoom",
     "@write @string @slow", NULL, "RW access update variable_flags",
     "key:key value:string [condition(NX|XX)] [GET] [expiration(" EXPIRY "|KEEPTTL)]"},
    {"setbit", "Sets or clears the bit at offset in the string value stored at key", "2.2.0", "bitmap",
     "O(1)", "write denyoom", "@write @bitmap @slow", NULL, "RW access update",
     "key:key offset:integer value:integer"},
    {"setex", "Set the value and expiration of a key", "2.0.0", "string", "O(1)", "write denyoom",
     "@write @string @slow", NULL, "OW update", "key:key seconds:integer value:string"},
    {"setnx", "Set the value of a key, only if the key does not exist", "1.0.0", "string", "O(1)",
     "write denyoom fast", "@write @string @fast", NULL, "OW insert", "key:key value:string"},
    {"setrange", "Overwrite part of a string at key starting at the specified offset", "2.2.0", "string",
     "O(1), not counting the time taken to copy the new string in place.", "write denyoom",
     "@write @string @slow", NULL, "RW update", "key:key offset:integer value:string"},
    {"shutdown", "Synchronously save the dataset to disk and then shut down the server", "1.0.0", "server",
     "O(N) when saving, where N is the total number of keys in all databases when saving data, otherwise "
     "O(1)",
     "admin noscript loading stale no_multi allow_busy", "@admin @slow @dangerous", NULL, NULL,
     "[nosave_save(NOSAVE|SAVE)] [NOW] [FORCE] [ABORT]"},
    {"slowlog", "A container for slow log commands", "2.2.12", "server", "Depends on subcommand.", "",
     "@slow", NULL, NULL, NULL},
    {"slowlog|get", "Get the slow log's entries", "2.2.12", "server",
     "O(N) where N is the number of entries returned", "admin loading stale", "@admin @slow @dangerous",
     "request_policy:all_nodes nondeterministic_output", NULL, "[count:integer]"},
    {"slowlog|help", HELP_SUMMARY, "6.2.0", "server", "O(1)", "loading stale", "@slow", NULL, NULL, NULL},
    {"slowlog|len", "Get the slow log's length", "2.2.12", "server", "O(1)", "admin loading stale",
     "@admin @slow @dangerous", "request_policy:all_nodes response_policy:agg_sum nondeterministic_output",
     NULL, NULL},
    {"slowlog|reset", "Clear all entries from the slow log", "2.2.12", "server",
     "O(N) where N is the number of entries in the slowlog", "admin loading stale", "@admin @slow @dangerous",
     "request_policy:all_nodes response_policy:all_succeeded", NULL, NULL},
    {"strlen", "Get the length of the value stored in a key", "2.2.0", "string", "O(1)", "readonly fast",
     "@read @string @fast", NULL, "RO", "key:key"},
    {"swapdb", "Swaps two Redis databases", "4.0.0", "server",
     "O(N) where N is the count of clients watching or blocking on keys from both databases.", "write fast",
     "@keyspace @write @fast @dangerous", NULL, NULL, "index1:integer index2:integer"},
    {"time", "Return the current server time", "2.6.0", "server", "O(1)", "loading stale fast", "@fast",
     "nondeterministic_output", NULL, NULL},
    {"touch", "Alters the last access time of a key(s). Returns the number of existing keys specified.",
     "3.2.1", "generic", "O(N) where N is the number of keys that will be touched.", "readonly fast",
     "@keyspace @read @fast", "request_policy:multi_shard response_policy:agg_sum", "RO", "key:key..."},
    {"ttl", "Get the time to live for a key in seconds", "1.0.0", "generic", "O(1)", "readonly fast",
     "@keyspace @read @fast", "nondeterministic_output", "RO access", "key:key"},
    {"type", "Determine the type stored at key", "1.0.0", "generic", "O(1)", "readonly fast",
     "@keyspace @read @fast", NULL, "RO", "key:key"},
    {"unlink",
     "Delete a key asynchronously in another thread. Otherwise it is just as DEL, but non blocking.", "4.0.0",
     "generic", "O(1) for each key removed regardless of its size.", "write fast", "@keyspace @write @fast",
     "request_policy:multi_shard response_policy:agg_sum", "RM delete", "key:key..."},
    {"unwatch", "Forget about all watched keys", "2.2.0", "transactions", "O(1)",
     "noscript loading stale fast allow_busy", "@fast @transaction", NULL, NULL, NULL},
    {"watch", "Watch the given keys to determine execution of the MULTI/EXEC block", "2.2.0", "transactions",
     "O(1) for every key.", "noscript loading stale fast allow_busy", "@fast @transaction", NULL, "RO",
     "key:key..."},
};

#define NDOCS (sizeof(resp_docs) / sizeof(resp_docs[0]))

/* ---- names ---- */

/* "parent|name" (or "name") into buf. */
static size_t full_name(const struct resp_cmd *parent, const struct resp_cmd *c, char *buf, size_t size)
{
    int n = parent != NULL ? snprintf(buf, size, "%s|%s", parent->name, c->name)
                           : snprintf(buf, size, "%s", c->name);
    return n < 0 ? 0 : (size_t)n < size ? (size_t)n : size - 1;
}

static const struct resp_doc *doc_find(const char *fullname)
{
    size_t lo = 0, hi = NDOCS;
    while (lo < hi) {
        size_t mid = lo + (hi - lo) / 2;
        int c = strcmp(fullname, resp_docs[mid].name);
        if (c == 0)
            return &resp_docs[mid];
        if (c < 0)
            hi = mid;
        else
            lo = mid + 1;
    }
    return NULL;
}

/* Redis's lookupCommandBySds: "name" or "container|sub", any case; NULL when there is none. *parent
 * gets the container of a subcommand. */
static const struct resp_cmd *lookup_full(const char *p, size_t n, const struct resp_cmd **parent)
{
    const char *bar = p != NULL ? memchr(p, '|', n) : NULL;
    *parent = NULL;
    if (p == NULL)
        return NULL;
    if (bar == NULL)
        return resp_cmd_lookup(p, n);
    const struct resp_cmd *c = resp_cmd_lookup(p, (size_t)(bar - p));
    if (c == NULL || c->subs == NULL || memchr(bar + 1, '|', n - (size_t)(bar - p) - 1) != NULL)
        return NULL;
    *parent = c;
    return resp_cmd_lookup_in(c->subs, resp_cmd_nsubs(c), bar + 1, n - (size_t)(bar - p) - 1);
}

/* ---- word lists (flags, categories, tips) ---- */

static size_t words_count(const char *s)
{
    size_t n = 0;
    for (const char *p = s; p != NULL && *p != '\0';) {
        while (*p == ' ')
            p++;
        if (*p == '\0')
            break;
        n++;
        while (*p != '\0' && *p != ' ')
            p++;
    }
    return n;
}

/* A set of the words of s, each a simple string (status: flags, categories) or a bulk string (tips). */
static void words_reply(struct outq *out, int proto, const char *s, bool status)
{
    resp_add_set(out, proto, words_count(s));
    for (const char *p = s; p != NULL && *p != '\0';) {
        char word[64];
        size_t n = 0;
        while (*p == ' ')
            p++;
        while (*p != '\0' && *p != ' ')
            if (n + 1 < sizeof(word))
                word[n++] = *p++;
            else
                p++;
        word[n] = '\0';
        if (n == 0)
            continue;
        if (status)
            resp_add_simple(out, word);
        else
            resp_add_bulk(out, word, n);
    }
}

/* The flags of a command without a documentation row, from its table flags. */
static const char *derived_flags(const struct resp_cmd *c)
{
    if (c->flags & RESP_CMD_ADMIN)
        return c->flags & RESP_CMD_WRITE ? "write admin noscript" : "admin noscript";
    if (c->flags & RESP_CMD_WRITE)
        return "write";
    return c->first_key > 0 ? "readonly" : "";
}

/* ---- COMMAND INFO ---- */

/* The one key spec of a command with keys: its legacy range as Redis 7.0 prints a range spec. */
static void key_spec_reply(struct outq *out, int proto, const struct resp_cmd *c, const struct resp_doc *d)
{
    resp_add_set(out, proto, 1);
    resp_add_map(out, proto, 3);
    resp_add_bulk_str(out, "flags");
    words_reply(out, proto,
                d != NULL && d->keyflags != NULL ? d->keyflags
                : (c->flags & RESP_CMD_WRITE)    ? "RW"
                                                 : "RO",
                true);
    resp_add_bulk_str(out, "begin_search");
    resp_add_map(out, proto, 2);
    resp_add_bulk_str(out, "type");
    resp_add_bulk_str(out, "index");
    resp_add_bulk_str(out, "spec");
    resp_add_map(out, proto, 1);
    resp_add_bulk_str(out, "index");
    resp_add_int(out, c->first_key);
    resp_add_bulk_str(out, "find_keys");
    resp_add_map(out, proto, 2);
    resp_add_bulk_str(out, "type");
    resp_add_bulk_str(out, "range");
    resp_add_bulk_str(out, "spec");
    resp_add_map(out, proto, 3);
    resp_add_bulk_str(out, "lastkey");
    resp_add_int(out, c->last_key < 0 ? c->last_key : c->last_key - c->first_key);
    resp_add_bulk_str(out, "keystep");
    resp_add_int(out, c->key_step);
    resp_add_bulk_str(out, "limit");
    resp_add_int(out, 0);
}

/* One command as Redis's addReplyCommandInfo: name, arity, flags, first key, last key, step, ACL
 * categories, tips, key specs, subcommands. */
static void info_reply(struct resp_session *s, const struct resp_cmd *parent, const struct resp_cmd *c,
                       struct outq *out)
{
    char name[96];
    size_t n = full_name(parent, c, name, sizeof(name));
    const struct resp_doc *d = doc_find(name);

    resp_add_array(out, 10);
    resp_add_bulk(out, name, n);
    resp_add_int(out, c->arity);
    words_reply(out, s->proto, d != NULL ? d->flags : derived_flags(c), true);
    resp_add_int(out, c->first_key);
    resp_add_int(out, c->last_key);
    resp_add_int(out, c->key_step);
    words_reply(out, s->proto, d != NULL ? d->acl : "@slow", true);
    words_reply(out, s->proto, d != NULL ? d->tips : NULL, false);
    if (c->first_key > 0)
        key_spec_reply(out, s->proto, c, d);
    else
        resp_add_set(out, s->proto, 0);
    if (c->subs == NULL) {
        resp_add_set(out, s->proto, 0);
        return;
    }
    resp_add_array(out, resp_cmd_nsubs(c));
    for (size_t i = 0; i < resp_cmd_nsubs(c); i++)
        info_reply(s, c, &c->subs[i], out);
}

/* COMMAND: every command of the table. */
enum proto_status resp_cmd_command(struct resp_session *s, const struct resp_args *a, struct outq *out)
{
    (void)a;
    resp_add_array(out, resp_ncommands);
    for (size_t i = 0; i < resp_ncommands; i++)
        info_reply(s, NULL, &resp_commands[i], out);
    return PROTO_OK;
}

/* COMMAND INFO [name ...]: the named ones (a null for an unknown name), or every one. */
enum proto_status resp_cmd_command_info(struct resp_session *s, const struct resp_args *a, struct outq *out)
{
    if (a->argc == 2)
        return resp_cmd_command(s, a, out);
    resp_add_array(out, a->argc - 2);
    for (size_t i = 2; i < a->argc; i++) {
        const struct resp_cmd *parent;
        const struct resp_cmd *c = lookup_full(a->argv[i], a->argl[i], &parent);
        if (c == NULL)
            resp_add_null(out, s->proto);
        else
            info_reply(s, parent, c, out);
    }
    return PROTO_OK;
}

enum proto_status resp_cmd_command_count(struct resp_session *s, const struct resp_args *a, struct outq *out)
{
    (void)s;
    (void)a;
    resp_add_int(out, (long long)resp_ncommands);
    return PROTO_OK;
}

/* ---- arguments (COMMAND DOCS) ---- */

/*
 * The argument syntax of resp_doc.args, a list of arguments separated by single spaces:
 *   name:type          an argument (type key, string, integer, double, pattern, unix-time)
 *   TOKEN=name:type    the same, introduced by TOKEN
 *   TOKEN              a pure token (its name is the token in lowercase)
 *   name(a|b|...)      one of the alternatives (each an argument); TOKEN=name(...) with a token
 *   name{a b ...}      a block of arguments in sequence; TOKEN=name{...} with a token
 *   [arg]              arg is optional;  arg...  arg may repeat
 */

#define ARG_OPTIONAL 1u
#define ARG_MULTIPLE 2u
#define ARG_NODES    48

struct arg_node {
    const char *name, *token, *type;
    size_t nname, ntoken, ntype;
    unsigned flags;
    int child, next; /* first child (oneof, block) and next sibling: node indices, -1 for none */
};

struct arg_parser {
    const char *p, *end;
    struct arg_node node[ARG_NODES];
    int n;
    bool bad;
};

static bool at(const struct arg_parser *ps, char c)
{
    return ps->p < ps->end && *ps->p == c;
}

static size_t word(struct arg_parser *ps)
{
    const char *start = ps->p;
    while (ps->p < ps->end && strchr(" []|(){}=:.", *ps->p) == NULL)
        ps->p++;
    if (ps->p == start)
        ps->bad = true;
    return (size_t)(ps->p - start);
}

static int arg_list(struct arg_parser *ps, char sep);

/* [TOKEN=]name:type, [TOKEN=]name(alternatives), [TOKEN=]name{block}, or TOKEN. */
static int arg_elem(struct arg_parser *ps)
{
    if (ps->n >= ARG_NODES) {
        ps->bad = true;
        return -1;
    }
    int i = ps->n++;
    struct arg_node *a = &ps->node[i];
    *a = (struct arg_node){.child = -1, .next = -1};
    a->name = ps->p;
    a->nname = word(ps);
    if (at(ps, '=')) {
        ps->p++;
        a->token = a->name;
        a->ntoken = a->nname;
        a->name = ps->p;
        a->nname = word(ps);
    }
    if (at(ps, ':')) {
        ps->p++;
        a->type = ps->p;
        a->ntype = word(ps);
    } else if (at(ps, '(') || at(ps, '{')) {
        char close = at(ps, '(') ? ')' : '}';
        a->type = close == ')' ? "oneof" : "block";
        a->ntype = strlen(a->type);
        ps->p++;
        ps->node[i].child = arg_list(ps, close == ')' ? '|' : ' ');
        if (!at(ps, close))
            ps->bad = true;
        ps->p++;
    } else if (a->token == NULL) {
        a->token = a->name;
        a->ntoken = a->nname;
        a->type = "pure-token";
        a->ntype = strlen(a->type);
    } else {
        ps->bad = true;
    }
    return i;
}

/* An element, optional in brackets, then "..." when it may repeat. */
static int arg_item(struct arg_parser *ps)
{
    int i;
    if (at(ps, '[')) {
        ps->p++;
        i = arg_item(ps);
        if (!at(ps, ']'))
            ps->bad = true;
        ps->p++;
        if (i >= 0)
            ps->node[i].flags |= ARG_OPTIONAL;
    } else {
        i = arg_elem(ps);
    }
    if (ps->end - ps->p >= 3 && memcmp(ps->p, "...", 3) == 0) {
        ps->p += 3;
        if (i >= 0)
            ps->node[i].flags |= ARG_MULTIPLE;
    }
    return i;
}

/* Items separated by sep; returns the first (linked through next). */
static int arg_list(struct arg_parser *ps, char sep)
{
    int first = -1, last = -1;
    do {
        if (last >= 0)
            ps->p++;
        int i = arg_item(ps);
        if (ps->bad || i < 0)
            return -1;
        if (last >= 0)
            ps->node[last].next = i;
        else
            first = i;
        last = i;
    } while (!ps->bad && at(ps, sep));
    return first;
}

/* Parses an argument syntax; false when it is malformed (a table error the unit test catches). */
static bool arg_parse(struct arg_parser *ps, const char *syntax)
{
    ps->p = syntax;
    ps->end = syntax + strlen(syntax);
    ps->n = 0;
    ps->bad = false;
    arg_list(ps, ' ');
    return !ps->bad && ps->p == ps->end && ps->n > 0;
}

static size_t arg_siblings(const struct arg_parser *ps, int i)
{
    size_t n = 0;
    for (; i >= 0; i = ps->node[i].next)
        n++;
    return n;
}

static void arg_reply(struct outq *out, int proto, const struct arg_parser *ps, int i);

static void args_reply(struct outq *out, int proto, const struct arg_parser *ps, int first)
{
    resp_add_array(out, arg_siblings(ps, first));
    for (int i = first; i >= 0; i = ps->node[i].next)
        arg_reply(out, proto, ps, i);
}

/* One argument as Redis's addReplyCommandArgList: name, type, key_spec_index, token, flags,
 * arguments. */
static void arg_reply(struct outq *out, int proto, const struct arg_parser *ps, int i)
{
    const struct arg_node *a = &ps->node[i];
    bool key = a->ntype == 3 && memcmp(a->type, "key", 3) == 0;
    char name[64];
    size_t nname = a->nname < sizeof(name) ? a->nname : sizeof(name) - 1;

    for (size_t k = 0; k < nname; k++)
        name[k] = (char)(a->name[k] >= 'A' && a->name[k] <= 'Z' ? a->name[k] + 32 : a->name[k]);
    resp_add_map(out, proto, 2 + key + (a->token != NULL) + (a->flags != 0) + (a->child >= 0));
    resp_add_bulk_str(out, "name");
    resp_add_bulk(out, name, nname);
    resp_add_bulk_str(out, "type");
    resp_add_bulk(out, a->type, a->ntype);
    if (key) {
        resp_add_bulk_str(out, "key_spec_index");
        resp_add_int(out, 0);
    }
    if (a->token != NULL) {
        resp_add_bulk_str(out, "token");
        resp_add_bulk(out, a->token, a->ntoken);
    }
    if (a->flags != 0) {
        resp_add_bulk_str(out, "flags");
        words_reply(out, proto,
                    a->flags == (ARG_OPTIONAL | ARG_MULTIPLE) ? "optional multiple"
                    : a->flags == ARG_OPTIONAL                ? "optional"
                                                              : "multiple",
                    true);
    }
    if (a->child >= 0) {
        resp_add_bulk_str(out, "arguments");
        args_reply(out, proto, ps, a->child);
    }
}

/* ---- COMMAND DOCS ---- */

/* One command's documentation map as Redis's addReplyCommandDocs. */
static void docs_reply(struct resp_session *s, const struct resp_cmd *parent, const struct resp_cmd *c,
                       struct outq *out)
{
    char name[96];
    struct arg_parser ps;
    full_name(parent, c, name, sizeof(name));
    const struct resp_doc *d = doc_find(name);
    bool args = d != NULL && d->args != NULL && arg_parse(&ps, d->args);
    size_t n =
        2 + (d != NULL && d->since != NULL) + (d != NULL && d->complexity != NULL) + args + (c->subs != NULL);

    resp_add_map(out, s->proto, n);
    resp_add_bulk_str(out, "summary");
    resp_add_bulk_str(out, d != NULL ? d->summary : "");
    if (d != NULL && d->since != NULL) {
        resp_add_bulk_str(out, "since");
        resp_add_bulk_str(out, d->since);
    }
    resp_add_bulk_str(out, "group");
    resp_add_bulk_str(out, d != NULL ? d->group : "generic");
    if (d != NULL && d->complexity != NULL) {
        resp_add_bulk_str(out, "complexity");
        resp_add_bulk_str(out, d->complexity);
    }
    if (args) {
        resp_add_bulk_str(out, "arguments");
        args_reply(out, s->proto, &ps, 0);
    }
    if (c->subs != NULL) {
        resp_add_bulk_str(out, "subcommands");
        resp_add_map(out, s->proto, resp_cmd_nsubs(c));
        for (size_t i = 0; i < resp_cmd_nsubs(c); i++) {
            size_t k = full_name(c, &c->subs[i], name, sizeof(name));
            resp_add_bulk(out, name, k);
            docs_reply(s, c, &c->subs[i], out);
        }
    }
}

/* COMMAND DOCS [name ...]: a map of the named commands that exist (all of them without names). */
enum proto_status resp_cmd_command_docs(struct resp_session *s, const struct resp_args *a, struct outq *out)
{
    const struct resp_cmd *parent, *c;
    char name[96];
    size_t n = 0;

    if (a->argc == 2) {
        resp_add_map(out, s->proto, resp_ncommands);
        for (size_t i = 0; i < resp_ncommands; i++) {
            resp_add_bulk_str(out, resp_commands[i].name);
            docs_reply(s, NULL, &resp_commands[i], out);
        }
        return PROTO_OK;
    }
    for (size_t i = 2; i < a->argc; i++)
        n += lookup_full(a->argv[i], a->argl[i], &parent) != NULL;
    resp_add_map(out, s->proto, n);
    for (size_t i = 2; i < a->argc; i++) {
        if ((c = lookup_full(a->argv[i], a->argl[i], &parent)) == NULL)
            continue;
        resp_add_bulk(out, name, full_name(parent, c, name, sizeof(name)));
        docs_reply(s, parent, c, out);
    }
    return PROTO_OK;
}

/* ---- COMMAND LIST ---- */

struct list_filter {
    int kind; /* 0 none, 1 module, 2 ACL category, 3 pattern */
    const char *arg;
    size_t narg;
};

/* Whether the space-separated categories acl hold @cat (case-insensitive). */
static bool acl_has(const char *acl, const char *cat, size_t n)
{
    for (const char *p = acl; *p != '\0';) {
        const char *w = p;
        while (*p != '\0' && *p != ' ')
            p++;
        if (*w == '@' && (size_t)(p - w - 1) == n && strncasecmp(w + 1, cat, n) == 0)
            return true;
        while (*p == ' ')
            p++;
    }
    return false;
}

/* Whether a command passes the filter (no module has commands here). */
static bool list_keep(const struct list_filter *f, const char *name, size_t n)
{
    const struct resp_doc *d;
    switch (f->kind) {
    case 1:
        return false;
    case 2:
        d = doc_find(name);
        return d != NULL && acl_has(d->acl, f->arg, f->narg);
    case 3:
        return resp_match(f->arg, f->narg, name, n, true);
    default:
        return true;
    }
}

static size_t list_add(struct outq *out, const struct list_filter *f, const struct resp_cmd *parent,
                       const struct resp_cmd *c, bool count_only)
{
    char name[96];
    size_t k = full_name(parent, c, name, sizeof(name)), n = 0;
    if (list_keep(f, name, k)) {
        if (!count_only)
            resp_add_bulk(out, name, k);
        n++;
    }
    for (size_t i = 0; c->subs != NULL && i < resp_cmd_nsubs(c); i++)
        n += list_add(out, f, c, &c->subs[i], count_only);
    return n;
}

/* COMMAND LIST [FILTERBY MODULE name|ACLCAT category|PATTERN pattern]. */
enum proto_status resp_cmd_command_list(struct resp_session *s, const struct resp_args *a, struct outq *out)
{
    struct list_filter f = {0, NULL, 0};
    for (size_t i = 2; i < a->argc; i += 3) {
        static const char *const kinds[] = {"module", "aclcat", "pattern"};
        if (!resp_arg_is(a, i, "filterby") || a->argc - 1 - i != 2) {
            resp_error(s, out, RESP_E_SYNTAX);
            return PROTO_OK;
        }
        for (int k = 0; k < 3; k++)
            if (resp_arg_is(a, i + 1, kinds[k]))
                f.kind = k + 1;
        if (f.kind == 0 || a->argv[i + 2] == NULL) {
            resp_error(s, out, RESP_E_SYNTAX);
            return PROTO_OK;
        }
        f.arg = a->argv[i + 2];
        f.narg = a->argl[i + 2];
    }
    size_t n = 0;
    for (size_t i = 0; i < resp_ncommands; i++)
        n += list_add(out, &f, NULL, &resp_commands[i], true);
    resp_add_array(out, n);
    for (size_t i = 0; i < resp_ncommands; i++)
        list_add(out, &f, NULL, &resp_commands[i], false);
    return PROTO_OK;
}

/* ---- COMMAND GETKEYS ---- */

/* COMMAND GETKEYS command [arg ...]: the keys of a full command, from its key range. */
enum proto_status resp_cmd_command_getkeys(struct resp_session *s, const struct resp_args *a,
                                           struct outq *out)
{
    const struct resp_cmd *c = a->argv[2] == NULL ? NULL : resp_cmd_lookup(a->argv[2], a->argl[2]);
    size_t argc = a->argc - 2;

    if (c != NULL && c->subs != NULL && argc >= 2)
        c = a->argv[3] == NULL ? NULL
                               : resp_cmd_lookup_in(c->subs, resp_cmd_nsubs(c), a->argv[3], a->argl[3]);
    if (c == NULL) {
        resp_error(s, out, "ERR Invalid command specified");
        return PROTO_OK;
    }
    if (c->first_key <= 0) {
        resp_error(s, out, "ERR The command has no key arguments");
        return PROTO_OK;
    }
    if (c->arity > 0 ? argc != (size_t)c->arity : argc < (size_t)-c->arity) {
        resp_error(s, out, "ERR Invalid number of arguments specified for command");
        return PROTO_OK;
    }
    long long first = c->first_key, last = c->last_key < 0 ? (long long)argc + c->last_key : c->last_key;
    long long step = c->key_step > 0 ? c->key_step : 1;
    if (last >= (long long)argc || last < first) {
        resp_error(s, out, "ERR Invalid arguments specified for command");
        return PROTO_OK;
    }
    resp_add_array(out, (size_t)((last - first) / step + 1));
    for (long long k = first; k <= last; k += step)
        resp_add_bulk(out, a->argv[2 + k] != NULL ? a->argv[2 + k] : "",
                      a->argv[2 + k] != NULL ? a->argl[2 + k] : 0);
    return PROTO_OK;
}

enum proto_status resp_cmd_command_help(struct resp_session *s, const struct resp_args *a, struct outq *out)
{
    static const char *const help[] = {
        "(no subcommand)",
        "    Return details about all Redis commands.",
        "COUNT",
        "    Return the total number of commands in this Redis server.",
        "LIST",
        "    Return a list of all commands in this Redis server.",
        "INFO [<command-name> ...]",
        "    Return details about multiple Redis commands.",
        "    If no command names are given, documentation details for all",
        "    commands are returned.",
        "DOCS [<command-name> ...]",
        "    Return documentation details about multiple Redis commands.",
        "    If no command names are given, documentation details for all",
        "    commands are returned.",
        "GETKEYS <full-command>",
        "    Return the keys from a full Redis command.",
        NULL,
    };
    (void)s;
    (void)a;
    resp_add_help(out, "COMMAND", help);
    return PROTO_OK;
}

/* See resp_server.h. */
bool resp_docs_check(const char **bad)
{
    struct arg_parser ps;
    for (size_t i = 0; i < NDOCS; i++) {
        if ((i > 0 && strcmp(resp_docs[i - 1].name, resp_docs[i].name) >= 0) ||
            (resp_docs[i].args != NULL && !arg_parse(&ps, resp_docs[i].args))) {
            *bad = resp_docs[i].name;
            return false;
        }
    }
    return true;
}
