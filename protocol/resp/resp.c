/*
 * resp.c: the RESP session: framing through the parser, dispatch through the command table, MULTI
 * queueing, large values received straight into their item, and the proto_ops table (see resp.h).
 *
 * Feeding: the parser consumes every byte it is offered (it keeps what an incomplete request needs),
 * so the session stops only between requests: before parsing the next one it returns PROTO_PAUSE
 * when the output queue is at its pause weight, leaving the unparsed bytes to the connection.
 *
 * Dispatch, as Redis 7.0's processCommand: look the name up (a container command looks its
 * subcommand up in argv[1]); an unknown name or subcommand, or a wrong arity, is refused with Redis's
 * text and, inside MULTI, marks the transaction failed (EXEC then answers EXECABORT); inside MULTI
 * every other command but EXEC, DISCARD, MULTI, WATCH, QUIT and RESET is copied and answered QUEUED.
 *
 * Large values: when the parser waits for the payload of a bulk argument, the session looks at the
 * command so far. A SET-like command's value larger than the item size limit can never be stored: its
 * bytes are dropped (resp_parser_bulk_skip) and the command answers Redis's size error, the stream
 * staying in step (other arguments are kept within the request's bound, query_max). A
 * value of a SET-like command (the table's value_arg) of at least RESP_ZC_MIN bytes gets its item at
 * once, takes its length from the receiving budget shared with memcached's protocol, and the parser
 * writes the payload straight into the item (resp_parser_bulk_into), or the server read()s into it
 * (value window). When the budget is spent or no memory is left, the payload is dropped and the
 * command answers Redis's OOM error.
 *
 * Ownership: the session owns its parser, queued commands, watched keys and at most one item (the
 * value being received). Every reference from a lookup goes into the output queue.
 *
 * Threads: a session is used by the thread that owns its connection; CLIENT LIST on another thread
 * reads its name and last command under name_lock.
 */
#include "config.h"

#include "protocol/resp/resp.h"

#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "protocol/resp/resp_errstats.h"
#include "protocol/resp/resp_internal.h"
#include "protocol/slowlog.h"
#include "protocol/resp/resp_util.h"
#include "storage/cache.h"

/* Values at least this long are received into their item; shorter ones are copied (as memcached's
 * MC_RECV_SMALL: small values always pass the budget). */
#define RESP_ZC_MIN ((size_t)16 * 1024)

/* ---- helpers shared by the command files ---- */

bool resp_arg_is(const struct resp_args *a, size_t i, const char *w)
{
    size_t n = strlen(w);
    return i < a->argc && a->argv[i] != NULL && a->argl[i] == n && strncasecmp(a->argv[i], w, n) == 0;
}

void resp_count_error(struct resp_session *s, const char *text)
{
    resp_count(&s->stats->errors);
    resp_errstats_count(s->ctx->errstats, text, strlen(text));
}

void resp_error(struct resp_session *s, struct outq *out, const char *line)
{
    resp_count_error(s, line);
    resp_add_error(out, line);
}

bool resp_arg_ll(struct resp_session *s, const struct resp_args *a, size_t i, long long *v,
                 struct outq *out)
{
    if (a->argv[i] != NULL && resp_str2ll(a->argv[i], a->argl[i], v))
        return true;
    resp_error(s, out, RESP_E_NOTINT);
    return false;
}

void resp_arity_error(struct resp_session *s, const struct resp_cmd *parent, const struct resp_cmd *cmd,
                      struct outq *out)
{
    char line[160];
    if (parent != NULL)
        snprintf(line, sizeof(line), "ERR wrong number of arguments for '%s|%s' command", parent->name,
                 cmd->name);
    else
        snprintf(line, sizeof(line), "ERR wrong number of arguments for '%s' command", cmd->name);
    resp_error(s, out, line);
}

/* Appends "'<arg>' " pieces as Redis's unknown-command reply does: arguments after the name while
 * the text is under 128 bytes, each cut to what is left of the 128. Stops at a NUL (Redis prints
 * with %s). */
static size_t unknown_args(const struct resp_args *a, char *buf, size_t size)
{
    size_t n = 0;
    for (size_t i = 1; i < a->argc && n < 128; i++) {
        size_t room = 128 - n, len = a->argv[i] == NULL ? 0 : a->argl[i];
        const char *nul = len ? memchr(a->argv[i], '\0', len) : NULL;
        if (nul != NULL)
            len = (size_t)(nul - a->argv[i]);
        if (len > room)
            len = room;
        if (n + len + 3 >= size)
            break;
        buf[n++] = '\'';
        memcpy(buf + n, a->argv[i], len);
        n += len;
        buf[n++] = '\'';
        buf[n++] = ' ';
    }
    buf[n] = '\0';
    return n;
}

/* Copies at most max bytes of an argument up to its first NUL into buf (for %s-style texts). */
static void arg_text(const struct resp_args *a, size_t i, size_t max, char *buf)
{
    size_t len = a->argv[i] == NULL ? 0 : a->argl[i];
    const char *nul = len ? memchr(a->argv[i], '\0', len) : NULL;
    if (nul != NULL)
        len = (size_t)(nul - a->argv[i]);
    if (len > max)
        len = max;
    memcpy(buf, a->argv[i] == NULL ? "" : a->argv[i], len);
    buf[len] = '\0';
}

/* Redis's "unknown command" and "unknown subcommand" replies. */
static void unknown_command(struct resp_session *s, const struct resp_args *a, const struct resp_cmd *parent,
                            struct outq *out)
{
    char line[512], args[200], name[130];
    if (parent != NULL) {
        char upper[32];
        size_t k;
        for (k = 0; parent->name[k] != '\0' && k + 1 < sizeof(upper); k++)
            upper[k] = (char)(parent->name[k] >= 'a' && parent->name[k] <= 'z' ? parent->name[k] - 32
                                                                                : parent->name[k]);
        upper[k] = '\0';
        arg_text(a, 1, 128, name);
        snprintf(line, sizeof(line), "ERR unknown subcommand '%s'. Try %s HELP.", name, upper);
    } else {
        arg_text(a, 0, 128, name);
        unknown_args(a, args, sizeof(args));
        snprintf(line, sizeof(line), "ERR unknown command '%s', with args beginning with: %s", name, args);
    }
    resp_error(s, out, line);
}

static bool arity_ok(const struct resp_cmd *c, size_t argc)
{
    return c->arity > 0 ? argc == (size_t)c->arity : argc >= (size_t)-c->arity;
}

/* ---- MULTI queue ---- */

void resp_multi_clear(struct resp_session *s)
{
    while (s->q_head != NULL) {
        struct resp_queued *q = s->q_head;
        s->q_head = q->next;
        free(q);
    }
    s->q_tail = NULL;
    s->q_count = 0;
    s->q_bytes = 0;
    s->in_multi = false;
    s->multi_error = false;
    resp_multi_show(s);
}

void resp_multi_show(struct resp_session *s)
{
    __atomic_store_n(&s->multi_shown, s->in_multi ? (int)s->q_count : -1, __ATOMIC_RELAXED);
}

void resp_unwatch_all(struct resp_session *s)
{
    for (size_t i = 0; i < s->nwatch; i++)
        free(s->watch[i]);
    s->nwatch = 0;
}

/* Copies a command and its arguments to the end of the MULTI queue; false on no memory. */
static bool queue_command(struct resp_session *s, const struct resp_cmd *cmd, const struct resp_args *a)
{
    size_t bytes = sizeof(struct resp_queued) + a->argc * (sizeof(char *) + sizeof(size_t));
    for (size_t i = 0; i < a->argc; i++)
        bytes += a->argl[i];
    if (s->q_bytes + bytes > s->ctx->query_max)
        return false;
    struct resp_queued *q = malloc(bytes);
    if (q == NULL)
        return false;
    const char **argv = (const char **)(q + 1);
    size_t *argl = (size_t *)(argv + a->argc);
    char *p = (char *)(argl + a->argc);
    for (size_t i = 0; i < a->argc; i++) {
        argl[i] = a->argl[i];
        if (a->argv[i] == NULL) {
            argv[i] = NULL;
            continue;
        }
        memcpy(p, a->argv[i], a->argl[i]);
        argv[i] = p;
        p += a->argl[i];
    }
    q->next = NULL;
    q->cmd = cmd;
    q->parent = s->cur_parent;
    q->args = (struct resp_args){a->argc, argv, argl, a->is_inline};
    if (s->q_tail != NULL)
        s->q_tail->next = q;
    else
        s->q_head = q;
    s->q_tail = q;
    s->q_count++;
    resp_multi_show(s);
    s->q_bytes += bytes;
    return true;
}

/* ---- dispatch ---- */

/* Runs one command (already looked up and arity-checked) and counts it. */
static enum proto_status resp_call(struct resp_session *s, const struct resp_cmd *cmd,
                                   const struct resp_args *a, struct outq *out)
{
    resp_count(&s->stats->commands);
    if (s->t_cmd == NULL) { /* the outermost: EXEC times its whole queue */
        s->t_cmd = cmd;
        s->t_parent = s->cur_parent;
        s->t_errors = s->stats->errors;
    }
    /* two relaxed stores, no lock (CLIENT LIST on another thread composes the fullname) */
    __atomic_store_n(&s->last_parent, s->cur_parent, __ATOMIC_RELAXED);
    __atomic_store_n(&s->last_cmd, cmd, __ATOMIC_RELAXED);
    return cmd->fn(s, a, out);
}

/* Redis's per-command rejected_calls (INFO commandstats); parent: cmd's container, if any. */
static void count_rejected(struct resp_session *s, const struct resp_cmd *parent, const struct resp_cmd *cmd)
{
    if (s->meter.hist != NULL)
        timing_bump(&s->meter.hist->rejected[resp_cmd_slot(parent, cmd)]);
}

/* Finds the command (and subcommand) of a request; replies and returns NULL when there is none or
 * its arity is wrong. */
static const struct resp_cmd *resolve(struct resp_session *s, const struct resp_args *a, struct outq *out)
{
    const struct resp_cmd *cmd = a->argv[0] == NULL ? NULL : resp_cmd_lookup(a->argv[0], a->argl[0]);
    s->cur_parent = NULL;
    if (cmd == NULL) {
        unknown_command(s, a, NULL, out);
        return NULL;
    }
    if (cmd->subs != NULL && a->argc >= 2) {
        const struct resp_cmd *sub =
            a->argv[1] == NULL ? NULL : resp_cmd_lookup_in(cmd->subs, resp_cmd_nsubs(cmd), a->argv[1], a->argl[1]);
        if (sub == NULL) {
            unknown_command(s, a, cmd, out);
            return NULL;
        }
        if (!arity_ok(sub, a->argc)) {
            count_rejected(s, cmd, sub);
            resp_arity_error(s, cmd, sub, out);
            return NULL;
        }
        s->cur_parent = cmd;
        return sub;
    }
    if (!arity_ok(cmd, a->argc)) {
        count_rejected(s, NULL, cmd);
        if (cmd->fn == resp_cmd_exec) { /* Redis's execCommandAbort: the transaction ends */
            char line[160];
            snprintf(line, sizeof(line),
                     "EXECABORT Transaction discarded because of: wrong number of arguments for '%s' command",
                     cmd->name);
            resp_multi_clear(s);
            resp_unwatch_all(s);
            resp_error(s, out, line);
            return NULL;
        }
        resp_arity_error(s, NULL, cmd, out);
        return NULL;
    }
    return cmd;
}

/* Refuses a command that was found, as Redis's rejectCommand: the refusal flags an open transaction,
 * and refusing EXEC itself ends the transaction (EXECABORT, naming why). */
static void reject(struct resp_session *s, const struct resp_cmd *cmd, const char *why, struct outq *out)
{
    resp_count(&s->stats->rejected_calls);
    count_rejected(s, s->cur_parent, cmd);
    if (cmd->fn == resp_cmd_exec) {
        char line[256];
        snprintf(line, sizeof(line), "EXECABORT Transaction discarded because of: %s", why);
        resp_multi_clear(s);
        resp_unwatch_all(s);
        resp_error(s, out, line);
        return;
    }
    if (s->in_multi)
        s->multi_error = true;
    resp_error(s, out, why);
}

/* Whether the connection may run cmd (found and arity-checked), in the order of Redis 7.0's
 * processCommand: a protected command (DEBUG) is refused to everyone; before authentication only the
 * no_auth commands run (NOAUTH); then a user whose role is not admin is refused the server-wide ones
 * (Redis's ACL refusal, naming "container|subcommand"). Replies the refusal and returns false. */
static bool permitted(struct resp_session *s, const struct resp_cmd *cmd, struct outq *out)
{
    char line[200];

    if (cmd->flags & RESP_CMD_PROTECTED) {
        reject(s, cmd, RESP_E_DEBUG, out);
        return false;
    }
    if (!auth_conn_ok(&s->auth) && !(cmd->flags & RESP_CMD_NOAUTH)) {
        reject(s, cmd, RESP_E_NOAUTH, out);
        return false;
    }
    if (!(cmd->flags & RESP_CMD_ADMIN) || auth_conn_admin(&s->auth))
        return true;
    resp_count(&s->stats->denied_cmds);
    if (s->cur_parent != NULL)
        snprintf(line, sizeof(line), "NOPERM this user has no permissions to run the '%s|%s' command",
                 s->cur_parent->name, cmd->name);
    else
        snprintf(line, sizeof(line), "NOPERM this user has no permissions to run the '%s' command",
                 cmd->name);
    reject(s, cmd, line, out);
    return false;
}

/* In cluster mode, refuses a command whose keys this node does not serve (MOVED, CROSSSLOT,
 * CLUSTERDOWN), as Redis 7.0's processCommand after its ACL check: inside MULTI the refusal flags the
 * transaction; refusing EXEC discards it (with the plain error, not EXECABORT). */
static bool redirected(struct resp_session *s, const struct resp_cmd *cmd, const struct resp_args *a,
                       struct outq *out)
{
    char line[160];
    const char *why = s->ctx->cluster == NULL ? NULL : resp_cluster_redirect(s, cmd, a, line, sizeof(line));
    if (why == NULL)
        return false;
    if (cmd->fn == resp_cmd_exec) {
        resp_count(&s->stats->rejected_calls);
        resp_multi_clear(s);
        resp_unwatch_all(s);
        resp_error(s, out, why);
        return true;
    }
    reject(s, cmd, why, out);
    return true;
}

/* Runs one parsed request: refusals, MULTI queueing, or the command. */
static enum proto_status dispatch(struct resp_session *s, const struct resp_args *a, struct outq *out)
{
    if (a->argc == 0)
        return PROTO_OK;
    const struct resp_cmd *cmd = resolve(s, a, out);
    if (cmd == NULL) {
        resp_count(&s->stats->rejected_calls);
        if (s->in_multi)
            s->multi_error = true;
        return PROTO_OK;
    }
    if (!permitted(s, cmd, out) || redirected(s, cmd, a, out))
        return PROTO_OK;
    if (s->in_multi && !(cmd->flags & RESP_CMD_NOQUEUE)) {
        if (!queue_command(s, cmd, a)) {
            s->multi_error = true;
            resp_error(s, out, RESP_E_OOM);
            return PROTO_OK;
        }
        resp_add_simple(out, "QUEUED");
        return PROTO_OK;
    }
    return resp_call(s, cmd, a, out);
}

/* ---- large values ---- */

static void value_release(struct resp_session *s)
{
    if (s->it != NULL)
        cache_item_release(s->ctx->cache, &s->it);
    if (s->it_reserved != 0 && s->ctx->recv_bytes != NULL)
        atomic_fetch_sub_explicit(s->ctx->recv_bytes, s->it_reserved, memory_order_relaxed);
    s->it_reserved = 0;
    s->it_skip = false;
}

/* Takes nbytes from the receiving budget; false when it would pass the limit. */
static bool budget_take(struct resp_session *s, size_t nbytes)
{
    const struct resp_context *ctx = s->ctx;
    if (ctx->recv_bytes == NULL)
        return true;
    uint64_t now = atomic_fetch_add_explicit(ctx->recv_bytes, nbytes, memory_order_relaxed);
    if (now + nbytes > ctx->recv_limit) {
        atomic_fetch_sub_explicit(ctx->recv_bytes, nbytes, memory_order_relaxed);
        return false;
    }
    s->it_reserved = nbytes;
    return true;
}

/* Whether a pending bulk is the value argument of a SET-like command (resolved from its name). */
static bool is_value_arg(const struct resp_pending_bulk *pb)
{
    if (pb->index < 2 || pb->before.argv[0] == NULL)
        return false;
    const struct resp_cmd *cmd = resp_cmd_lookup(pb->before.argv[0], pb->before.argl[0]);
    return cmd != NULL && cmd->value_arg > 0 && (size_t)cmd->value_arg == pb->index &&
           arity_ok(cmd, pb->argc) && pb->before.argv[1] != NULL;
}

/* The parser waits for a bulk's payload: drop it if it can never be stored, receive a SET-like
 * command's large value into its item. Decided once per bulk. */
static void pending_bulk(struct resp_session *s)
{
    struct resp_pending_bulk pb;

    if (s->it != NULL || s->it_skip || !resp_parser_pending_bulk(s->parser, &pb))
        return;
    if (pb.len > s->ctx->item_size_max) {
        /* a value that can never be stored is dropped (its command answers the size error); any
         * other argument is kept like every argument, within the request's bound (query_max) */
        if (is_value_arg(&pb))
            s->it_skip = resp_parser_bulk_skip(s->parser);
        return;
    }
    /* before authentication nothing is given cache memory: the value stays an argument (its command
     * is refused) */
    if (pb.len < RESP_ZC_MIN || !auth_conn_ok(&s->auth) || !is_value_arg(&pb))
        return;
    enum cache_status st;
    if (!budget_take(s, pb.len)) {
        s->it_skip = resp_parser_bulk_skip(s->parser);
        return;
    }
    s->it = cache_alloc(s->ctx->cache, pb.before.argv[1], pb.before.argl[1], 0, CACHE_EXP_NEVER, pb.len, &st);
    if (s->it == NULL || !resp_parser_bulk_into(s->parser, item_value(s->it))) {
        value_release(s);
        s->it_skip = resp_parser_bulk_skip(s->parser);
        return;
    }
    s->it_index = pb.index;
}

/* See resp_internal.h (resp_value_item): the item a SET-like command's value was received into. */
struct item *resp_take_received(struct resp_session *s, const struct resp_args *a, size_t i)
{
    struct item *it = s->it;
    if (it == NULL || i != s->it_index || a->argv[i] != item_value(it))
        return NULL;
    s->it = NULL;
    return it;
}

/* ---- the session ---- */

/* Creates a session; NULL on no memory. */
static struct resp_session *session_create(const struct resp_context *ctx, struct resp_stats *stats)
{
    struct resp_session *s = calloc(1, sizeof(*s));
    struct resp_parser_options po;

    if (s == NULL)
        return NULL;
    resp_parser_options_default(&po);
    if (ctx->query_max != 0)
        po.max_buffered = ctx->query_max;
    s->parser = resp_parser_create(&po);
    if (s->parser == NULL) {
        free(s);
        return NULL;
    }
    pthread_mutex_init(&s->name_lock, NULL);
    auth_conn_init(&s->auth, ctx->auth);
    memcpy(s->user, "default", sizeof("default"));
    s->ctx = ctx;
    s->stats = stats;
    s->proto = 2;
    s->multi_shown = -1;
    s->id = ctx->next_client_id != NULL
                ? atomic_fetch_add_explicit(ctx->next_client_id, 1, memory_order_relaxed) + 1
                : 1;
    resp_count(&stats->connections);
    return s;
}

static void session_destroy(struct resp_session *s)
{
    if (s == NULL)
        return;
    value_release(s);
    resp_multi_clear(s);
    resp_unwatch_all(s);
    free(s->watch);
    resp_parser_destroy(&s->parser);
    outq_destroy(&s->sink);
    pthread_mutex_destroy(&s->name_lock);
    free(s);
}

/* ---- CLIENT REPLY ---- */

/* See resp_internal.h. */
bool resp_reply_sink(struct resp_session *s)
{
    if (s->sink == NULL)
        s->sink = outq_create(s->ctx->cache);
    return s->sink != NULL;
}

/* Whether replies are withheld now. */
static bool muted(const struct resp_session *s)
{
    return (s->reply_off || s->skip_this) && s->sink != NULL;
}

/* Whether request a lifts the withholding before it replies, so that its own reply is sent, as in
 * Redis: RESET, and CLIENT REPLY ON outside MULTI (inside, it is only queued). */
static bool lifts_mute(const struct resp_session *s, const struct resp_args *a)
{
    if (a->argc == 1 && resp_arg_is(a, 0, "reset"))
        return true;
    return a->argc == 3 && !s->in_multi && resp_arg_is(a, 0, "client") && resp_arg_is(a, 1, "reply") &&
           resp_arg_is(a, 2, "on");
}

/* After each command, as Redis's resetClient: a SKIP applies to the one command after it. */
static void reply_skip_advance(struct resp_session *s)
{
    s->skip_this = s->skip_next;
    s->skip_next = false;
}

/* Runs one request, its reply withheld when CLIENT REPLY says so. */
static enum proto_status dispatch_muted(struct resp_session *s, const struct resp_args *a, struct outq *out)
{
    struct outq *target = muted(s) && !lifts_mute(s, a) ? s->sink : out;
    enum proto_status st = dispatch(s, a, target);
    if (target != out) {
        outq_clear(target);
        s->wait_muted = st == PROTO_WAIT;
    }
    reply_skip_advance(s);
    return st;
}

static bool out_full(const struct resp_session *s, const struct outq *out)
{
    return s->ctx->out_pause != 0 && outq_weight(out) >= s->ctx->out_pause;
}

/* Whether argument i of a request of cmd is a password the slow log shows as "(redacted)", as
 * Redis's does: every argument of AUTH, the two after HELLO's AUTH. */
static bool arg_redacted(const struct resp_cmd *cmd, const struct resp_args *a, size_t i)
{
    if (cmd->fn == resp_cmd_auth)
        return i > 0;
    if (cmd->fn != resp_cmd_hello)
        return false;
    /* HELLO protover [AUTH user pass] [SETNAME name], read as HELLO does up to the first bad option */
    for (size_t j = 2; j < a->argc && j < i && a->argv[j] != NULL; j++) {
        size_t more = a->argc - j - 1;
        if (more >= 2 && a->argl[j] == 4 && strncasecmp(a->argv[j], "auth", 4) == 0) {
            if (i <= j + 2)
                return true;
            j += 2;
        } else if (more >= 1 && a->argl[j] == 7 && strncasecmp(a->argv[j], "setname", 7) == 0) {
            j++;
        } else {
            return false;
        }
    }
    return false;
}

/* Hands a request of cmd that took us microseconds to the slow log, with its arguments (a value
 * received into the item `it` read from there) and the client's name. */
static void slow_add(struct resp_session *s, const struct resp_cmd *cmd, const struct resp_args *a,
                     struct item *it, uint64_t us)
{
    const char *argv[SLOWLOG_MAX_ARGC];
    size_t lens[SLOWLOG_MAX_ARGC];
    for (size_t i = 0; i < a->argc && i < SLOWLOG_MAX_ARGC; i++) {
        bool in_item = a->argv[i] == NULL && it != NULL;
        if (arg_redacted(cmd, a, i)) {
            argv[i] = "(redacted)";
            lens[i] = strlen(argv[i]);
            continue;
        }
        argv[i] = a->argv[i] != NULL ? a->argv[i] : in_item ? item_value(it) : "";
        lens[i] = a->argv[i] != NULL || in_item ? a->argl[i] : 0;
    }
    slowlog_add(s->meter.slowlog, us, a->argc, argv, lens, "resp", s->meter.addr, s->name);
}

/* The request that ran has queued its reply: counts its time under its command, hands a slow one to
 * the slow log (not EXEC, whose commands each go there, as Redis's skip_slowlog flag has it), and
 * starts the next one's time. */
static void timing_done(struct resp_session *s, const struct resp_args *a)
{
    if (s->meter.hist == NULL || s->t_cmd == NULL)
        return;
    uint64_t us;
    unsigned slot = resp_cmd_slot(s->t_parent, s->t_cmd);
    bool slow = timing_end(&s->meter, slot, &s->t_mark, &us);
    if (s->stats->errors != s->t_errors) /* Redis's failed_calls: the command replied an error */
        timing_bump(&s->meter.hist->failed[slot]);
    if (slow && s->t_cmd->fn != resp_cmd_exec)
        slow_add(s, s->t_cmd, a, s->it, us);
    s->t_cmd = NULL;
}

enum proto_status resp_call_queued(struct resp_session *s, const struct resp_queued *q, struct outq *out)
{
    uint64_t start = s->meter.hist != NULL ? timing_now(&s->meter) : 0;
    uint64_t errors = s->stats->errors;

    resp_count(&s->stats->commands);
    enum proto_status st = q->cmd->fn(s, &q->args, out);
    if (s->meter.hist == NULL)
        return st;
    uint64_t us;
    unsigned slot = resp_cmd_slot(q->parent, q->cmd);
    bool slow = timing_end(&s->meter, slot, &start, &us);
    if (s->stats->errors != errors) {
        timing_bump(&s->meter.hist->failed[slot]);
        s->t_errors += s->stats->errors - errors; /* this command's failure, not EXEC's */
    }
    if (slow)
        slow_add(s, q->cmd, &q->args, NULL, us);
    return st;
}

/* Parses and runs every complete request in buf; see the file comment. */
static enum proto_status session_feed(struct resp_session *s, const char *buf, size_t len, size_t *used,
                                      struct outq *out)
{
    size_t pos = 0;
    enum proto_status st = PROTO_OK;

    if (s->meter.hist != NULL)
        s->t_mark = timing_now(&s->meter);
    while (st == PROTO_OK && pos < len) {
        struct resp_args a;
        const char *err = NULL;
        size_t n = 0;
        if (!resp_parser_mid_request(s->parser) && out_full(s, out)) {
            st = PROTO_PAUSE;
            break;
        }
        /* a pending SKIP is used up by an empty request too; only then are they counted here (skip_next
         * is never set between requests: the SKIP's own dispatch moved it to skip_this) */
        uint64_t empty = s->skip_this ? resp_parser_empty_requests(s->parser) : 0;
        enum resp_parse_status ps = resp_parse(s->parser, buf + pos, len - pos, &n, &a, &err);
        pos += n;
        if (s->skip_this && resp_parser_empty_requests(s->parser) != empty)
            reply_skip_advance(s);
        if (ps == RESP_PARSE_NEED_MORE) {
            pending_bulk(s);
            break;
        }
        if (ps == RESP_PARSE_ERROR) {
            resp_count_error(s, err);
            if (!muted(s))
                outq_add_str(out, err);
            st = PROTO_CLOSE;
            break;
        }
        if (ps == RESP_PARSE_NOMEM) {
            st = PROTO_CLOSE;
            break;
        }
        st = dispatch_muted(s, &a, out);
        if (st == PROTO_WAIT)
            s->t_cmd = NULL; /* answered later by the server: not timed */
        else if (st != PROTO_PAUSE)
            timing_done(s, &a);
        value_release(s);
    }
    *used = pos;
    return st;
}

static bool session_value_window(struct resp_session *s, char **dst, size_t *len)
{
    struct resp_pending_bulk pb;
    if (s->it == NULL || !resp_parser_pending_bulk(s->parser, &pb) || pb.index != s->it_index)
        return false;
    *dst = item_value(s->it) + pb.have;
    *len = pb.len - pb.have;
    return true;
}

/* ---- CLIENT LIST ---- */

/* An address as Redis shows it: the server's "tcp:" / "tcp6:" / "unix:" prefix left out. */
static const char *bare_addr(const char *a)
{
    const char *colon = strchr(a, ':');
    return colon != NULL && (strncmp(a, "tcp", 3) == 0 || strncmp(a, "unix", 4) == 0) ? colon + 1 : a;
}

/* See resp.h. */
size_t resp_session_describe(void *sess, const char *addr, const char *laddr, int fd, int64_t age_s, int64_t idle_s, char *buf,
                             size_t size)
{
    struct resp_session *s = sess;
    char name[RESP_NAME_MAX + 1], lib[RESP_NAME_MAX + 1], ver[RESP_NAME_MAX + 1], cmd[64];
    char user[AUTH_NAME_MAX + 1];
    const struct resp_cmd *last = __atomic_load_n(&s->last_cmd, __ATOMIC_RELAXED);
    const struct resp_cmd *parent = __atomic_load_n(&s->last_parent, __ATOMIC_RELAXED);
    int multi = __atomic_load_n(&s->multi_shown, __ATOMIC_RELAXED);
    int n;

    addr = bare_addr(addr);
    laddr = bare_addr(laddr);
    pthread_mutex_lock(&s->name_lock);
    memcpy(name, s->name, sizeof(name));
    memcpy(lib, s->lib_name, sizeof(lib));
    memcpy(ver, s->lib_ver, sizeof(ver));
    memcpy(user, s->user, sizeof(user));
    pthread_mutex_unlock(&s->name_lock);
    if (last == NULL)
        snprintf(cmd, sizeof(cmd), "NULL");
    else if (parent != NULL)
        snprintf(cmd, sizeof(cmd), "%s|%s", parent->name, last->name);
    else
        snprintf(cmd, sizeof(cmd), "%s", last->name);
    n = snprintf(buf, size,
                 "id=%" PRIu64 " addr=%s laddr=%s fd=%d name=%s age=%" PRId64 " idle=%" PRId64
                 " flags=%s db=0 sub=0 psub=0 ssub=0 multi=%d qbuf=0 qbuf-free=0 argv-mem=0 multi-mem=0 "
                 "rbs=0 rbp=0 obl=0 oll=0 omem=0 tot-mem=0 events=r cmd=%s user=%s redir=-1 resp=%d"
                 " lib-name=%s lib-ver=%s",
                 s->id, addr, laddr, fd, name, age_s, idle_s, multi >= 0 ? "x" : "N", multi, cmd, user,
                 __atomic_load_n(&s->proto, __ATOMIC_RELAXED), lib, ver);
    return n < 0 ? 0 : (size_t)n < size ? (size_t)n : size - 1;
}

/* ---- outcomes the server reached for the session ---- */

static void session_answer(struct resp_session *s, const struct proto_outcome *o, struct outq *out)
{
    char line[256];

    if (s->wait_muted && s->sink != NULL)
        out = s->sink; /* the waiting command's reply is withheld (CLIENT REPLY) */

    switch (o->ev) {
    case PROTO_EV_SNAPSHOT_OFF:
        resp_error(s, out, "ERR snapshots are not configured (start with --snapshot-path)");
        break;
    case PROTO_EV_SNAPSHOT_BUSY:
        resp_error(s, out, "ERR Background save already in progress");
        break;
    case PROTO_EV_SNAPSHOT_STARTED:
        resp_add_simple(out, "Background saving started");
        break;
    case PROTO_EV_SNAPSHOT_SAVED:
        if (s->wait_cmd == 1)
            resp_add_simple(out, "Background saving started");
        else
            resp_add_simple(out, "OK");
        break;
    case PROTO_EV_SNAPSHOT_FAILED:
        snprintf(line, sizeof(line), "ERR %s", o->why != NULL ? o->why : "snapshot failed");
        resp_error(s, out, line);
        break;
    case PROTO_EV_NO_MEMORY:
        resp_error(s, out, RESP_E_OOM);
        break;
    case PROTO_EV_READ_NO_MEMORY:
        break; /* Redis drops a client past its query buffer limit without a reply */
    case PROTO_EV_AUTH_DELAYED:
        /* the failed AUTH's reply held back by authenticate() (resp_conn.c; none after one inside EXEC, whose
         * reply is in EXEC's array already) */
        if (s->held_wrongpass)
            resp_error(s, out, RESP_E_WRONGPASS);
        s->held_wrongpass = false;
        break;
    }
    if (out == s->sink) {
        outq_clear(s->sink);
        s->wait_muted = false;
    }
}

/* ---- struct proto_ops ---- */

static void *ops_create(const void *ctx, void *stats)
{
    return session_create(ctx, stats);
}

static void ops_destroy(void *sess)
{
    session_destroy(sess);
}

static enum proto_status ops_feed(void *sess, const char *buf, size_t len, size_t *used, struct outq *out)
{
    return session_feed(sess, buf, len, used, out);
}

static enum proto_wait ops_take_wait(void *sess)
{
    struct resp_session *s = sess;
    enum proto_wait w = s->wait;
    s->wait = PROTO_WAIT_NONE;
    return w;
}

static bool ops_value_window(void *sess, char **dst, size_t *len)
{
    return session_value_window(sess, dst, len);
}

static void ops_value_filled(void *sess, size_t n)
{
    struct resp_session *s = sess;
    resp_parser_bulk_advance(s->parser, n);
}

static void ops_no_wait(void *sess)
{
    (void)sess; /* RESP never answers PROTO_BUSY: a value the budget cannot take is refused at once */
}

static bool ops_mid_value(const void *sess)
{
    const struct resp_session *s = sess;
    return resp_parser_mid_request(s->parser);
}

static void ops_answer(void *sess, const struct proto_outcome *o, struct outq *out)
{
    session_answer(sess, o, out);
}

static void ops_meter(void *sess, const struct timing_meter *m)
{
    struct resp_session *s = sess;
    s->meter = *m;
}

const struct proto_ops resp_proto_ops = {
    .name = "resp",
    .line_max = RESP_INLINE_MAX_SIZE + 2,
    .reject = RESP_REJECT_LINE,
    .create = ops_create,
    .destroy = ops_destroy,
    .feed = ops_feed,
    .take_wait = ops_take_wait,
    .value_window = ops_value_window,
    .value_filled = ops_value_filled,
    .no_wait = ops_no_wait,
    .mid_value = ops_mid_value,
    .answer = ops_answer,
    .meter = ops_meter,
};
