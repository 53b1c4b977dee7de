/*
 * resp_slowlog.c: SLOWLOG GET [count], LEN, RESET and HELP, Redis 7.0's replies over the server's
 * slow log (protocol/slowlog.h), which every protocol's requests enter.
 *
 * An entry is Redis's six fields: id, Unix time, duration in microseconds, the (cut) arguments,
 * "ip:port" and the client name; RESP2 and RESP3 replies are the same bytes, as in Redis. GET's count
 * is Redis's: 10 when not given, -1 for every entry, anything else below -1 or not an integer is
 * "count should be greater than or equal to -1". Every subcommand but HELP needs the admin role
 * (Redis's @admin); RESET is also refused under --disable-admin-commands, as CONFIG RESETSTAT is.
 * Without a slow log (a context with none, in tests) the log reads as empty.
 *
 * Threads: runs on the session's thread; the log takes its own lock (the entries are written into the
 * reply under it).
 */
#include "config.h"

#include <stdio.h>

#include "protocol/resp/resp_internal.h"
#include "protocol/resp/resp_server.h"
#include "protocol/resp/resp_util.h"
#include "protocol/slowlog.h"

#define E_COUNT           "ERR count should be greater than or equal to -1"
#define GET_DEFAULT_COUNT 10

/* slowlog_get's begin: the array of entries. */
static void get_begin(void *arg, size_t count)
{
    resp_add_array(arg, count);
}

/* slowlog_get's each: one entry, Redis's six fields. */
static void get_each(void *arg, const struct slowlog_entry *e)
{
    struct outq *out = arg;
    resp_add_array(out, 6);
    resp_add_int(out, (long long)e->id);
    resp_add_int(out, (long long)e->time);
    resp_add_int(out, (long long)e->duration_us);
    resp_add_array(out, e->argc);
    for (size_t i = 0; i < e->argc; i++)
        resp_add_bulk(out, e->argv[i], e->lens[i]);
    resp_add_bulk_str(out, e->addr);
    resp_add_bulk_str(out, e->name);
}

/* Redis's reply to a subcommand given more arguments than it reads. */
static void syntax_error(struct resp_session *s, const struct resp_args *a, struct outq *out)
{
    char line[256];
    int n = a->argv[1] == NULL ? 0 : (int)(a->argl[1] > 128 ? 128 : a->argl[1]);
    snprintf(line, sizeof(line),
             "ERR unknown subcommand or wrong number of arguments for '%.*s'. Try SLOWLOG HELP.", n,
             a->argv[1] == NULL ? "" : a->argv[1]);
    resp_error(s, out, line);
}

static enum proto_status slowlog_get_cmd(struct resp_session *s, const struct resp_args *a, struct outq *out)
{
    long long count = GET_DEFAULT_COUNT;
    if (a->argc > 3) {
        syntax_error(s, a, out);
        return PROTO_OK;
    }
    if (a->argc == 3 && (a->argv[2] == NULL || !resp_str2ll(a->argv[2], a->argl[2], &count) || count < -1)) {
        resp_error(s, out, E_COUNT);
        return PROTO_OK;
    }
    if (s->ctx->slowlog == NULL)
        resp_add_array(out, 0);
    else
        slowlog_get(s->ctx->slowlog, count, get_begin, get_each, out);
    return PROTO_OK;
}

static enum proto_status slowlog_len_cmd(struct resp_session *s, const struct resp_args *a, struct outq *out)
{
    (void)a;
    resp_add_int(out, s->ctx->slowlog == NULL ? 0 : (long long)slowlog_len(s->ctx->slowlog));
    return PROTO_OK;
}

static enum proto_status slowlog_reset_cmd(struct resp_session *s, const struct resp_args *a,
                                           struct outq *out)
{
    (void)a;
    if (s->ctx->admin_disabled) {
        resp_error(s, out, "ERR SLOWLOG RESET is disabled on this server (--disable-admin-commands)");
        return PROTO_OK;
    }
    if (s->ctx->slowlog != NULL)
        slowlog_reset(s->ctx->slowlog);
    resp_add_simple(out, "OK");
    return PROTO_OK;
}

static enum proto_status slowlog_help_cmd(struct resp_session *s, const struct resp_args *a, struct outq *out)
{
    static const char *const help[] = {
        "GET [<count>]",
        "    Return top <count> entries from the slowlog (default: 10, -1 mean all).",
        "    Entries are made of:",
        "    id, timestamp, time in microseconds, arguments array, client IP and port,",
        "    client name",
        "LEN",
        "    Return the length of the slowlog.",
        "RESET",
        "    Reset the slowlog.",
        NULL,
    };
    (void)s;
    (void)a;
    resp_add_help(out, "SLOWLOG", help);
    return PROTO_OK;
}

/* Sorted by name (see resp_cmd_lookup_in); Redis 7.0's arities and flags. */
const struct resp_cmd resp_slowlog_subs[] = {
    {"get", -2, RESP_CMD_ADMIN, 0, 0, 0, slowlog_get_cmd, NULL, 0, 0},
    {"help", 2, 0, 0, 0, 0, slowlog_help_cmd, NULL, 0, 0},
    {"len", 2, RESP_CMD_ADMIN, 0, 0, 0, slowlog_len_cmd, NULL, 0, 0},
    {"reset", 2, RESP_CMD_ADMIN, 0, 0, 0, slowlog_reset_cmd, NULL, 0, 0},
};
const size_t resp_slowlog_nsubs = sizeof(resp_slowlog_subs) / sizeof(resp_slowlog_subs[0]);
