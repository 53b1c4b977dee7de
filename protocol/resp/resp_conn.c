/*
 * resp_conn.c: connection and transaction commands, as Redis 7.0 answers them: PING ECHO QUIT RESET
 * AUTH HELLO SELECT, and MULTI EXEC DISCARD WATCH UNWATCH.
 *
 * Transactions: MULTI queues copies of the commands (resp.c); EXEC locks the storage shards of every
 * key the queued commands and the watched keys name, in ascending shard order (cache_tx_begin), so
 * no other client's command on those keys interleaves; a queued command that reaches the whole
 * keyspace (FLUSHALL, KEYS, SCAN, RANDOMKEY, DBSIZE) makes EXEC lock every shard. Under the locks it
 * compares each watched key's version (its CAS unique, 0 when absent) with the one WATCH saw: any
 * change aborts EXEC with a null array, as Redis does when a watched key was touched.
 *
 * Authentication: without credentials (resp_context.auth NULL or empty) every connection is the user
 * "default" with no password, and AUTH answers as Redis does for it. With credentials a connection
 * runs nothing but AUTH, HELLO, QUIT and RESET until AUTH [user] password or HELLO ... AUTH user
 * password names a user of the credentials ("default" when AUTH has no user: --requirepass's), as
 * Redis 7.0 with requirepass or ACL users; the refusals are in resp.c (permitted). A failure leaves an
 * authenticated connection as it was; after AUTH_FAIL_FREE consecutive ones each failure's reply is
 * held back (PROTO_WAIT_AUTH_DELAY). RESET makes the connection unauthenticated again, as Redis's
 * does for a user with a password.
 *
 * Threads: the session's.
 */
#include "config.h"

#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "protocol/resp/resp_db.h"
#include "protocol/resp/resp_cluster.h"
#include "protocol/resp/resp_internal.h"
#include "protocol/resp/resp_util.h"
#include "storage/cache.h"

/* The version HELLO and INFO report as redis_version: clients gate features on it, and cairn answers
 * the commands it serves as Redis 7.0 does. */
#define RESP_REDIS_VERSION "7.0.15"

enum proto_status resp_cmd_ping(struct resp_session *s, const struct resp_args *a, struct outq *out)
{
    if (a->argc > 2)
        resp_arity_error(s, NULL, resp_cmd_lookup("ping", 4), out);
    else if (a->argc == 1)
        resp_add_simple(out, "PONG");
    else
        resp_add_bulk(out, a->argv[1], a->argl[1]);
    return PROTO_OK;
}

enum proto_status resp_cmd_echo(struct resp_session *s, const struct resp_args *a, struct outq *out)
{
    (void)s;
    resp_add_bulk(out, a->argv[1], a->argl[1]);
    return PROTO_OK;
}

enum proto_status resp_cmd_quit(struct resp_session *s, const struct resp_args *a, struct outq *out)
{
    (void)s;
    (void)a;
    resp_add_simple(out, "OK");
    return PROTO_CLOSE;
}

/* Sets the client name (empty clears it); false after replying Redis's error for a bad name. */
static bool set_name(struct resp_session *s, const char *p, size_t n, struct outq *out)
{
    for (size_t i = 0; i < n; i++) {
        if (p[i] < '!' || p[i] > '~') {
            resp_error(s, out, "ERR Client names cannot contain spaces, newlines or special characters.");
            return false;
        }
    }
    if (n > RESP_NAME_MAX) {
        resp_error(s, out, "ERR Client name is too long");
        return false;
    }
    pthread_mutex_lock(&s->name_lock);
    memcpy(s->name, p, n);
    s->name[n] = '\0';
    pthread_mutex_unlock(&s->name_lock);
    return true;
}

/* See resp_internal.h. */
bool resp_set_client_name(struct resp_session *s, const char *p, size_t n, struct outq *out)
{
    return set_name(s, p, n, out);
}

enum proto_status resp_cmd_reset(struct resp_session *s, const struct resp_args *a, struct outq *out)
{
    (void)a;
    resp_multi_clear(s);
    resp_unwatch_all(s);
    __atomic_store_n(&s->proto, 2, __ATOMIC_RELAXED); /* CLIENT LIST reads it on another thread */
    s->no_evict = false;
    s->no_touch = false;
    s->reply_off = s->skip_this = s->skip_next = false;
    if (s->auth.required)
        s->auth.role = AUTH_ROLE_NONE; /* the consecutive failures are kept: RESET does not lift the delay */
    pthread_mutex_lock(&s->name_lock);
    s->name[0] = '\0';
    memcpy(s->user, "default", sizeof("default"));
    pthread_mutex_unlock(&s->name_lock);
    resp_add_simple(out, "RESET");
    return PROTO_OK;
}

/* Whether user/password authenticate: only the default user exists, without a password, so any
 * password is accepted for it (Redis's nopass user) and any other user is refused. */
static bool auth_ok(const struct resp_args *a, size_t ui)
{
    return a->argl[ui] == 7 && memcmp(a->argv[ui], "default", 7) == 0;
}

/* See resp_internal.h. */
size_t resp_user_name(struct resp_session *s, char *buf, size_t size)
{
    pthread_mutex_lock(&s->name_lock);
    size_t n = strlen(s->user);
    n = n < size ? n : size - 1;
    memcpy(buf, s->user, n);
    buf[n] = '\0';
    pthread_mutex_unlock(&s->name_lock);
    return n;
}

/* Records that the connection is now user (ulen bytes; NULL: "default") with role. */
static void auth_passed(struct resp_session *s, const char *user, size_t ulen, enum auth_role role)
{
    if (user == NULL) {
        user = "default";
        ulen = 7;
    }
    pthread_mutex_lock(&s->name_lock);
    memcpy(s->user, user, ulen);
    s->user[ulen] = '\0';
    pthread_mutex_unlock(&s->name_lock);
    auth_conn_passed(&s->auth, role);
}

/*
 * Checks user argument ui (0: none, the user "default") and password argument pi against the
 * credentials. On success the connection becomes that user and true is returned. On failure false is
 * returned and the WRONGPASS reply is made, or held back after AUTH_FAIL_FREE consecutive failures:
 * then *st becomes PROTO_WAIT and the reply is appended on PROTO_EV_AUTH_DELAYED. Inside EXEC the reply
 * goes into EXEC's array at once and EXEC's completion waits instead.
 */
static bool authenticate(struct resp_session *s, const struct resp_args *a, size_t ui, size_t pi,
                         struct outq *out, enum proto_status *st)
{
    const char *user = ui != 0 ? a->argv[ui] : NULL;
    size_t ulen = ui != 0 ? a->argl[ui] : 0;
    enum auth_role role;

    resp_count(&s->stats->auth_cmds);
    if ((ui == 0 || (user != NULL && ulen != 0 && ulen <= AUTH_NAME_MAX)) && a->argv[pi] != NULL &&
        auth_check(s->ctx->auth, user, ulen, a->argv[pi], a->argl[pi], &role)) {
        auth_passed(s, user, ulen, role);
        return true;
    }
    resp_count(&s->stats->auth_errors);
    if (!auth_conn_failed(&s->auth)) {
        resp_error(s, out, RESP_E_WRONGPASS);
        return false;
    }
    s->wait = PROTO_WAIT_AUTH_DELAY;
    if (s->in_exec)
        resp_error(s, out, RESP_E_WRONGPASS);
    else
        s->held_wrongpass = true;
    *st = PROTO_WAIT;
    return false;
}

enum proto_status resp_cmd_auth(struct resp_session *s, const struct resp_args *a, struct outq *out)
{
    enum proto_status st = PROTO_OK;

    if (a->argc > 3)
        resp_error(s, out, RESP_E_SYNTAX);
    else if (s->auth.required) {
        if (authenticate(s, a, a->argc == 3 ? 1 : 0, a->argc - 1, out, &st))
            resp_add_simple(out, "OK");
    } else if (a->argc == 2)
        resp_error(s, out,
                   "ERR AUTH <password> called without any password configured for the default user. "
                   "Are you sure your configuration is correct?");
    else if (!auth_ok(a, 1))
        resp_error(s, out, RESP_E_WRONGPASS);
    else
        resp_add_simple(out, "OK");
    return st;
}

/* HELLO's reply map. */
static void hello_reply(struct resp_session *s, struct outq *out)
{
    resp_add_map(out, s->proto, 7);
    resp_add_bulk_str(out, "server");
    resp_add_bulk_str(out, "redis");
    resp_add_bulk_str(out, "version");
    resp_add_bulk_str(out, RESP_REDIS_VERSION);
    resp_add_bulk_str(out, "proto");
    resp_add_int(out, s->proto);
    resp_add_bulk_str(out, "id");
    resp_add_int(out, (long long)s->id);
    resp_add_bulk_str(out, "mode");
    resp_add_bulk_str(out, resp_cluster_get(s->ctx->cluster) != NULL ? "cluster" : "standalone");
    resp_add_bulk_str(out, "role");
    resp_add_bulk_str(out, "master");
    resp_add_bulk_str(out, "modules");
    resp_add_array(out, 0);
}

/* HELLO's AUTH option (user argument ui, password ui + 1), checked where Redis 7.0 checks it: while
 * the options are read, so one before a bad option still authenticates. */
static bool hello_auth(struct resp_session *s, const struct resp_args *a, size_t ui, struct outq *out,
                       enum proto_status *st)
{
    if (s->auth.required)
        return authenticate(s, a, ui, ui + 1, out, st);
    if (auth_ok(a, ui))
        return true;
    resp_error(s, out, RESP_E_WRONGPASS);
    return false;
}

enum proto_status resp_cmd_hello(struct resp_session *s, const struct resp_args *a, struct outq *out)
{
    long long ver = 0;
    size_t j = 1, name = 0;
    enum proto_status st = PROTO_OK;

    if (a->argc >= 2) {
        if (!resp_str2ll(a->argv[1], a->argl[1], &ver)) {
            resp_error(s, out, "ERR Protocol version is not an integer or out of range");
            return PROTO_OK;
        }
        if (ver < 2 || ver > 3) {
            resp_error(s, out, "NOPROTO unsupported protocol version");
            return PROTO_OK;
        }
        j = 2;
    }
    for (; j < a->argc; j++) {
        size_t more = a->argc - 1 - j;
        if (resp_arg_is(a, j, "auth") && more >= 2) {
            if (!hello_auth(s, a, j + 1, out, &st))
                return st;
            j += 2;
        } else if (resp_arg_is(a, j, "setname") && more >= 1) {
            name = ++j; /* Redis 7.0 sets it here, before it looks at the next option */
            if (!set_name(s, a->argv[name], a->argl[name], out))
                return PROTO_OK;
        } else {
            const char *nul = memchr(a->argv[j], '\0', a->argl[j]);
            resp_count_error(s, "ERR");
            resp_add_errorf(out, "ERR Syntax error in HELLO option '%.*s'",
                            (int)(nul ? (size_t)(nul - a->argv[j]) : a->argl[j]), a->argv[j]);
            return PROTO_OK;
        }
    }
    if (!auth_conn_ok(&s->auth)) {
        resp_error(s, out,
                   "NOAUTH HELLO must be called with the client already authenticated, otherwise the HELLO "
                   "AUTH <user> <pass> option can be used to authenticate the client and select the RESP "
                   "protocol version at the same time");
        return PROTO_OK;
    }
    if (ver != 0)
        __atomic_store_n(&s->proto, (int)ver, __ATOMIC_RELAXED); /* read by CLIENT LIST elsewhere */
    hello_reply(s, out);
    return PROTO_OK;
}

/* A database index argument as Redis's getIntFromObjectOrReply reads it; false after its error. */
static bool arg_db(struct resp_session *s, const struct resp_args *a, size_t i, long long *id,
                   struct outq *out)
{
    if (!resp_arg_ll(s, a, i, id, out))
        return false;
    if (*id < INT_MIN || *id > INT_MAX) {
        resp_error(s, out, "ERR value is out of range, value must between -2147483648 and 2147483647");
        return false;
    }
    return true;
}

enum proto_status resp_cmd_select(struct resp_session *s, const struct resp_args *a, struct outq *out)
{
    long long id;
    if (!arg_db(s, a, 1, &id, out))
        return PROTO_OK;
    if (id != 0)
        resp_error(s, out, RESP_E_DBRANGE);
    else
        resp_add_simple(out, "OK");
    return PROTO_OK;
}

/* MOVE key db: with one database, every move is either to the same one or out of range. */
enum proto_status resp_cmd_move(struct resp_session *s, const struct resp_args *a, struct outq *out)
{
    long long id;
    if (s->ctx->cluster != NULL) {
        resp_error(s, out, "ERR MOVE is not allowed in cluster mode");
        return PROTO_OK;
    }
    if (!arg_db(s, a, 2, &id, out))
        return PROTO_OK;
    resp_error(s, out, id == 0 ? "ERR source and destination objects are the same" : RESP_E_DBRANGE);
    return PROTO_OK;
}

/* SWAPDB index1 index2: only 0 with 0, which changes nothing. */
enum proto_status resp_cmd_swapdb(struct resp_session *s, const struct resp_args *a, struct outq *out)
{
    long long id1, id2;
    if (s->ctx->cluster != NULL) {
        resp_error(s, out, "ERR SWAPDB is not allowed in cluster mode");
        return PROTO_OK;
    }
    if (!resp_str2ll(a->argv[1], a->argl[1], &id1) || id1 < INT_MIN || id1 > INT_MAX) {
        resp_error(s, out, "ERR invalid first DB index");
        return PROTO_OK;
    }
    if (!resp_str2ll(a->argv[2], a->argl[2], &id2) || id2 < INT_MIN || id2 > INT_MAX) {
        resp_error(s, out, "ERR invalid second DB index");
        return PROTO_OK;
    }
    if (id1 != 0 || id2 != 0)
        resp_error(s, out, RESP_E_DBRANGE);
    else
        resp_add_simple(out, "OK");
    return PROTO_OK;
}

/* ---- transactions ---- */

enum proto_status resp_cmd_multi(struct resp_session *s, const struct resp_args *a, struct outq *out)
{
    (void)a;
    if (s->in_multi) {
        resp_error(s, out, "ERR MULTI calls can not be nested");
        return PROTO_OK;
    }
    s->in_multi = true;
    resp_multi_show(s);
    s->multi_error = false;
    resp_add_simple(out, "OK");
    return PROTO_OK;
}

enum proto_status resp_cmd_discard(struct resp_session *s, const struct resp_args *a, struct outq *out)
{
    (void)a;
    if (!s->in_multi) {
        resp_error(s, out, "ERR DISCARD without MULTI");
        return PROTO_OK;
    }
    resp_multi_clear(s);
    resp_unwatch_all(s);
    resp_add_simple(out, "OK");
    return PROTO_OK;
}

/* Adds a watched key, unless it is watched already; false on no memory. */
static bool watch_add(struct resp_session *s, const char *key, size_t nkey)
{
    for (size_t i = 0; i < s->nwatch; i++)
        if (s->watch[i]->nkey == nkey && memcmp(s->watch[i]->key, key, nkey) == 0)
            return true;
    if (s->nwatch == s->watch_cap) {
        size_t cap = s->watch_cap ? s->watch_cap * 2 : 4;
        struct resp_watch **w = realloc(s->watch, cap * sizeof(*w));
        if (w == NULL)
            return false;
        s->watch = w;
        s->watch_cap = cap;
    }
    struct resp_watch *w = malloc(sizeof(*w) + nkey);
    if (w == NULL)
        return false;
    w->nkey = nkey;
    memcpy(w->key, key, nkey);
    w->version = cache_key_version(s->ctx->cache, key, nkey);
    s->watch[s->nwatch++] = w;
    return true;
}

enum proto_status resp_cmd_watch(struct resp_session *s, const struct resp_args *a, struct outq *out)
{
    if (s->in_multi) {
        resp_error(s, out, "ERR WATCH inside MULTI is not allowed");
        return PROTO_OK;
    }
    for (size_t i = 1; i < a->argc; i++) {
        if (!watch_add(s, a->argv[i], a->argl[i])) {
            resp_error(s, out, RESP_E_OOM);
            return PROTO_OK;
        }
    }
    resp_add_simple(out, "OK");
    return PROTO_OK;
}

enum proto_status resp_cmd_unwatch(struct resp_session *s, const struct resp_args *a, struct outq *out)
{
    (void)a;
    resp_unwatch_all(s);
    resp_add_simple(out, "OK");
    return PROTO_OK;
}

/* The key arguments of a command, by its key spec: calls fn for each. */
static size_t key_hashes(const struct resp_cmd *cmd, const struct resp_args *a, uint64_t *h, size_t cap)
{
    size_t n = 0;
    if (cmd->first_key <= 0)
        return 0;
    size_t last = cmd->last_key < 0 ? a->argc + (size_t)(cmd->last_key + 1) - 1 : (size_t)cmd->last_key;
    for (size_t i = (size_t)cmd->first_key; i <= last && i < a->argc && n < cap; i += (size_t)cmd->key_step)
        h[n++] = cache_key_hash(a->argv[i] != NULL ? a->argv[i] : "", a->argl[i]);
    return n;
}

/* Whether EXEC must lock every shard for a queued command: one without a key spec may reach any
 * shard (FLUSHALL, KEYS, SCAN, RANDOMKEY, INFO's statistics, and subcommands such as OBJECT ENCODING
 * whose key the table does not place), and a shard the transaction does not hold must not be touched
 * inside it. Only a command's key spec lets EXEC lock less, and the commands that run before
 * authentication (AUTH, HELLO: the queueable ones) touch no key at all (AUTH's credentials have a lock
 * of their own, taken after the shards'). */
static bool whole_keyspace(const struct resp_cmd *cmd)
{
    return cmd->first_key <= 0 && !(cmd->flags & RESP_CMD_NOAUTH);
}

/* Collects the key hashes EXEC locks; *all set when every shard must be locked. NULL on no memory. */
static uint64_t *exec_hashes(struct resp_session *s, size_t *n, bool *all)
{
    size_t cap = s->nwatch;
    for (struct resp_queued *q = s->q_head; q != NULL; q = q->next)
        cap += q->args.argc;
    uint64_t *h = malloc((cap ? cap : 1) * sizeof(*h));
    if (h == NULL)
        return NULL;
    *n = 0;
    *all = false;
    for (size_t i = 0; i < s->nwatch; i++)
        h[(*n)++] = cache_key_hash(s->watch[i]->key, s->watch[i]->nkey);
    for (struct resp_queued *q = s->q_head; q != NULL; q = q->next) {
        *all |= whole_keyspace(q->cmd);
        *n += key_hashes(q->cmd, &q->args, h + *n, cap - *n);
    }
    return h;
}

/* Whether every watched key still has the version WATCH saw (under the EXEC locks). */
static bool watched_unchanged(struct resp_session *s)
{
    for (size_t i = 0; i < s->nwatch; i++)
        if (cache_key_version(s->ctx->cache, s->watch[i]->key, s->watch[i]->nkey) != s->watch[i]->version)
            return false;
    return true;
}

/* Whether a queued command must wait for the server (SAVE, BGSAVE, SHUTDOWN): not inside EXEC. */
static bool needs_server(const struct resp_cmd *cmd)
{
    return cmd->fn == resp_cmd_save || cmd->fn == resp_cmd_bgsave || cmd->fn == resp_cmd_shutdown;
}

/* Runs the queued commands into one array reply, under the locks. A queued AUTH may have changed the
 * user since a command was queued: a server-wide one the user may no longer run is refused in its
 * place, as Redis's EXEC does when the ACL rules changed. */
static enum proto_status exec_run(struct resp_session *s, struct outq *out)
{
    enum proto_status st = PROTO_OK;
    resp_add_array(out, s->q_count);
    s->in_exec = true;
    for (struct resp_queued *q = s->q_head; q != NULL; q = q->next) {
        if (needs_server(q->cmd)) {
            resp_error(s, out, "ERR Command not allowed inside a transaction");
            continue;
        }
        if ((q->cmd->flags & RESP_CMD_ADMIN) && !auth_conn_admin(&s->auth)) {
            resp_count(&s->stats->denied_cmds);
            resp_error(s, out,
                       "NOPERM ACLs rules changed between the moment the transaction was accumulated and the "
                       "EXEC call. This command is no longer allowed for the following reason: no permission "
                       "to execute the command or subcommand");
            continue;
        }
        enum proto_status r = resp_call_queued(s, q, out);
        if (r == PROTO_CLOSE || (r == PROTO_WAIT && st != PROTO_CLOSE))
            st = r; /* PROTO_WAIT: a failed AUTH's delay, after the array */
    }
    s->in_exec = false;
    return st;
}

enum proto_status resp_cmd_exec(struct resp_session *s, const struct resp_args *a, struct outq *out)
{
    size_t n;
    bool all;
    enum proto_status st = PROTO_OK;

    (void)a;
    if (!s->in_multi) {
        resp_error(s, out, "ERR EXEC without MULTI");
        return PROTO_OK;
    }
    if (s->multi_error) {
        resp_multi_clear(s);
        resp_unwatch_all(s);
        resp_error(s, out, "EXECABORT Transaction discarded because of previous errors.");
        return PROTO_OK;
    }
    uint64_t *h = exec_hashes(s, &n, &all);
    if (h == NULL) {
        resp_multi_clear(s);
        resp_unwatch_all(s);
        resp_error(s, out, RESP_E_OOM);
        return PROTO_OK;
    }
    s->in_multi = false;
    resp_multi_show(s);
    if (all)
        cache_tx_begin_all(s->ctx->cache);
    else
        cache_tx_begin(s->ctx->cache, h, n);
    if (watched_unchanged(s))
        st = exec_run(s, out);
    else
        resp_add_null_array(out, s->proto);
    cache_tx_end(s->ctx->cache);
    free(h);
    resp_multi_clear(s);
    resp_unwatch_all(s);
    return st;
}
