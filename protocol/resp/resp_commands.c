/*
 * resp_commands.c: the RESP command table, sorted by name, looked up case-insensitively by binary
 * search (about six comparisons for the whole table). Arity and key positions are Redis 7.0's.
 */
#include "config.h"

#include <stdio.h>
#include <string.h>
#include <strings.h>

#include "protocol/resp/resp_internal.h"

#define W RESP_CMD_WRITE
#define A RESP_CMD_ADMIN
#define NQ RESP_CMD_NOQUEUE
#define NA RESP_CMD_NOAUTH

/* name, arity, flags, first key, last key, step, function, subcommands, count, value argument */
#define CMD(n, ar, fl, fk, lk, st, fn) {n, ar, fl, fk, lk, st, fn, NULL, 0, 0}
#define VCMD(n, ar, fl, fk, lk, st, fn, v) {n, ar, fl, fk, lk, st, fn, NULL, 0, v}
#define CONTAINER(n, ar, fl, fn, subs, nsubs) {n, ar, fl, 0, 0, 0, fn, subs, 0, 0}

const struct resp_cmd resp_commands[] = {
    CONTAINER("acl", -2, 0, NULL, resp_acl_subs, 0),
    CMD("append", 3, W, 1, 1, 1, resp_cmd_append),
    CMD("asking", 1, 0, 0, 0, 0, resp_cmd_cluster_ok),
    CMD("auth", -2, NA, 0, 0, 0, resp_cmd_auth),
    CMD("bgsave", -1, A, 0, 0, 0, resp_cmd_bgsave),
    CMD("bitcount", -2, 0, 1, 1, 1, resp_cmd_bitcount),
    CMD("bitfield", -2, W, 1, 1, 1, resp_cmd_bitfield),
    CMD("bitfield_ro", -2, 0, 1, 1, 1, resp_cmd_bitfield_ro),
    CMD("bitop", -4, W, 2, -1, 1, resp_cmd_bitop),
    CMD("bitpos", -3, 0, 1, 1, 1, resp_cmd_bitpos),
    CONTAINER("client", -2, 0, NULL, resp_client_subs, 0),
    CONTAINER("cluster", -2, 0, NULL, resp_cluster_subs, 0),
    CONTAINER("command", -1, 0, resp_cmd_command, resp_command_subs, 0),
    CONTAINER("config", -2, 0, NULL, resp_config_subs, 0),
    CMD("copy", -3, W, 1, 2, 1, resp_cmd_copy),
    CMD("dbsize", 1, 0, 0, 0, 0, resp_cmd_dbsize),
    CMD("debug", -2, A | RESP_CMD_PROTECTED, 0, 0, 0, resp_cmd_debug),
    CMD("decr", 2, W, 1, 1, 1, resp_cmd_decr),
    CMD("decrby", 3, W, 1, 1, 1, resp_cmd_decrby),
    CMD("del", -2, W, 1, -1, 1, resp_cmd_del),
    CMD("discard", 1, NQ, 0, 0, 0, resp_cmd_discard),
    CMD("dump", 2, 0, 1, 1, 1, resp_cmd_dump),
    CMD("echo", 2, 0, 0, 0, 0, resp_cmd_echo),
    CMD("exec", 1, NQ, 0, 0, 0, resp_cmd_exec),
    CMD("exists", -2, 0, 1, -1, 1, resp_cmd_exists),
    CMD("expire", -3, W, 1, 1, 1, resp_cmd_expire),
    CMD("expireat", -3, W, 1, 1, 1, resp_cmd_expireat),
    CMD("expiretime", 2, 0, 1, 1, 1, resp_cmd_expiretime),
    CMD("flushall", -1, W | A, 0, 0, 0, resp_cmd_flushall),
    CMD("flushdb", -1, W | A, 0, 0, 0, resp_cmd_flushall),
    CMD("get", 2, 0, 1, 1, 1, resp_cmd_get),
    CMD("getbit", 3, 0, 1, 1, 1, resp_cmd_getbit),
    CMD("getdel", 2, W, 1, 1, 1, resp_cmd_getdel),
    CMD("getex", -2, W, 1, 1, 1, resp_cmd_getex),
    CMD("getrange", 4, 0, 1, 1, 1, resp_cmd_getrange),
    VCMD("getset", 3, W, 1, 1, 1, resp_cmd_getset, 2),
    CMD("hello", -1, NA, 0, 0, 0, resp_cmd_hello),
    CMD("incr", 2, W, 1, 1, 1, resp_cmd_incr),
    CMD("incrby", 3, W, 1, 1, 1, resp_cmd_incrby),
    CMD("incrbyfloat", 3, W, 1, 1, 1, resp_cmd_incrbyfloat),
    CMD("info", -1, 0, 0, 0, 0, resp_cmd_info),
    CMD("keys", 2, 0, 0, 0, 0, resp_cmd_keys),
    CMD("lastsave", 1, 0, 0, 0, 0, resp_cmd_lastsave),
    CMD("lcs", -3, 0, 1, 2, 1, resp_cmd_lcs),
    CONTAINER("memory", -2, 0, NULL, resp_memory_subs, 0),
    CMD("mget", -2, 0, 1, -1, 1, resp_cmd_mget),
    CMD("move", 3, W, 1, 1, 1, resp_cmd_move),
    CMD("mset", -3, W, 1, -1, 2, resp_cmd_mset),
    CMD("msetnx", -3, W, 1, -1, 2, resp_cmd_msetnx),
    CMD("multi", 1, NQ, 0, 0, 0, resp_cmd_multi),
    CONTAINER("object", -2, 0, NULL, resp_object_subs, 0),
    CMD("persist", 2, W, 1, 1, 1, resp_cmd_persist),
    CMD("pexpire", -3, W, 1, 1, 1, resp_cmd_pexpire),
    CMD("pexpireat", -3, W, 1, 1, 1, resp_cmd_pexpireat),
    CMD("pexpiretime", 2, 0, 1, 1, 1, resp_cmd_pexpiretime),
    CMD("ping", -1, 0, 0, 0, 0, resp_cmd_ping),
    VCMD("psetex", 4, W, 1, 1, 1, resp_cmd_psetex, 3),
    CMD("pttl", 2, 0, 1, 1, 1, resp_cmd_pttl),
    CMD("quit", -1, NQ | NA, 0, 0, 0, resp_cmd_quit),
    CMD("randomkey", 1, 0, 0, 0, 0, resp_cmd_randomkey),
    CMD("readonly", 1, 0, 0, 0, 0, resp_cmd_cluster_ok),
    CMD("readwrite", 1, 0, 0, 0, 0, resp_cmd_cluster_ok),
    CMD("rename", 3, W, 1, 2, 1, resp_cmd_rename),
    CMD("renamenx", 3, W, 1, 2, 1, resp_cmd_renamenx),
    CMD("reset", 1, NQ | NA, 0, 0, 0, resp_cmd_reset),
    CMD("restore", -4, W, 1, 1, 1, resp_cmd_restore),
    CMD("save", 1, A, 0, 0, 0, resp_cmd_save),
    CMD("scan", -2, 0, 0, 0, 0, resp_cmd_scan),
    CMD("select", 2, 0, 0, 0, 0, resp_cmd_select),
    VCMD("set", -3, W, 1, 1, 1, resp_cmd_set, 2),
    CMD("setbit", 4, W, 1, 1, 1, resp_cmd_setbit),
    VCMD("setex", 4, W, 1, 1, 1, resp_cmd_setex, 3),
    VCMD("setnx", 3, W, 1, 1, 1, resp_cmd_setnx, 2),
    CMD("setrange", 4, W, 1, 1, 1, resp_cmd_setrange),
    CMD("shutdown", -1, A, 0, 0, 0, resp_cmd_shutdown),
    CONTAINER("slowlog", -2, 0, NULL, resp_slowlog_subs, 0),
    CMD("strlen", 2, 0, 1, 1, 1, resp_cmd_strlen),
    CMD("substr", 4, 0, 1, 1, 1, resp_cmd_getrange),
    CMD("swapdb", 3, W, 0, 0, 0, resp_cmd_swapdb),
    CMD("time", 1, 0, 0, 0, 0, resp_cmd_time),
    CMD("touch", -2, 0, 1, -1, 1, resp_cmd_touch),
    CMD("ttl", 2, 0, 1, 1, 1, resp_cmd_ttl),
    CMD("type", 2, 0, 1, 1, 1, resp_cmd_type),
    CMD("unlink", -2, W, 1, -1, 1, resp_cmd_del),
    CMD("unwatch", 1, 0, 0, 0, 0, resp_cmd_unwatch),
    CMD("watch", -2, NQ, 1, -1, 1, resp_cmd_watch),
};

const size_t resp_ncommands = sizeof(resp_commands) / sizeof(resp_commands[0]);
_Static_assert(TIMING_RESP_BASE + sizeof(resp_commands) / sizeof(resp_commands[0]) <= TIMING_SLOTS,
               "RESP's commands need more timing slots");

/* Timing slots (protocol/timing.h) from TIMING_RESP_BASE: the top-level commands by index, then every
 * container's subcommands, containers in table order. */

/* See resp_internal.h. */
unsigned resp_cmd_slot(const struct resp_cmd *parent, const struct resp_cmd *cmd)
{
    if (parent == NULL)
        return TIMING_RESP_BASE + (unsigned)(cmd - resp_commands);
    size_t at = resp_ncommands;
    for (const struct resp_cmd *c = resp_commands; c < parent; c++)
        if (c->subs != NULL)
            at += resp_cmd_nsubs(c);
    at += (size_t)(cmd - parent->subs);
    /* a subcommand past the slots is counted under its container */
    return TIMING_RESP_BASE + at < TIMING_SLOTS ? TIMING_RESP_BASE + (unsigned)at
                                                : TIMING_RESP_BASE + (unsigned)(parent - resp_commands);
}

/* See resp.h. */
bool resp_command_name(size_t i, char *buf, size_t size)
{
    if (i < resp_ncommands) {
        snprintf(buf, size, "%s", resp_commands[i].name);
        return true;
    }
    size_t at = resp_ncommands;
    for (const struct resp_cmd *c = resp_commands; c < resp_commands + resp_ncommands; c++) {
        size_t n = c->subs != NULL ? resp_cmd_nsubs(c) : 0;
        if (i < at + n) {
            snprintf(buf, size, "%s|%s", c->name, c->subs[i - at].name);
            return true;
        }
        at += n;
    }
    return false;
}

/* Compares name[0..len) with a lowercase table name, ignoring the case of name. */
static int name_cmp(const char *name, size_t len, const char *lower)
{
    size_t i;
    for (i = 0; i < len && lower[i] != '\0'; i++) {
        unsigned char c = (unsigned char)name[i];
        if (c >= 'A' && c <= 'Z')
            c = (unsigned char)(c + 32);
        if (c != (unsigned char)lower[i])
            return (int)c - (int)(unsigned char)lower[i];
    }
    if (i < len)
        return 1;
    return lower[i] == '\0' ? 0 : -1;
}

/* Binary search of a sorted table. */
const struct resp_cmd *resp_cmd_lookup_in(const struct resp_cmd *tab, size_t n, const char *name, size_t len)
{
    size_t lo = 0, hi = n;
    while (lo < hi) {
        size_t mid = lo + (hi - lo) / 2;
        int c = name_cmp(name, len, tab[mid].name);
        if (c == 0)
            return &tab[mid];
        if (c < 0)
            hi = mid;
        else
            lo = mid + 1;
    }
    return NULL;
}

/* The number of subcommands of a container (the counts live beside the tables, in resp_server.c). */
size_t resp_cmd_nsubs(const struct resp_cmd *cmd)
{
    if (cmd->subs == resp_client_subs)
        return resp_client_nsubs;
    if (cmd->subs == resp_config_subs)
        return resp_config_nsubs;
    if (cmd->subs == resp_command_subs)
        return resp_command_nsubs;
    if (cmd->subs == resp_object_subs)
        return resp_object_nsubs;
    if (cmd->subs == resp_memory_subs)
        return resp_memory_nsubs;
    if (cmd->subs == resp_acl_subs)
        return resp_acl_nsubs;
    if (cmd->subs == resp_cluster_subs)
        return resp_cluster_nsubs;
    if (cmd->subs == resp_slowlog_subs)
        return resp_slowlog_nsubs;
    return 0;
}

/* A top-level command. */
const struct resp_cmd *resp_cmd_lookup(const char *name, size_t len)
{
    return resp_cmd_lookup_in(resp_commands, resp_ncommands, name, len);
}
