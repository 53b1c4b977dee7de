/*
 * resp_server.c: the server and administration commands of Redis 7.0 that have a meaning for a cache:
 * CLIENT, CONFIG, INFO, OBJECT, MEMORY, SAVE, BGSAVE, LASTSAVE, SHUTDOWN, TIME and DEBUG (refused), and
 * the subcommand tables of every container command (COMMAND's functions are in resp_command.c).
 *
 * What cairn is, as Redis's replies say it: one database (databases 1, keyspace db0), eviction
 * on (maxmemory-policy allkeys-lru; noeviction under memcached's -M: the only value CONFIG SET accepts),
 * no append-only file, no replication (role:master, no replicas), snapshots only where the server has a path
 * for them
 * (--snapshot-path). Values are strings; OBJECT ENCODING names the encoding Redis would have chosen
 * for the same bytes. Fields and parameters with no meaning here are left out rather than invented.
 *
 * Texts: errors and help lines are Redis 7.0.15's wherever Redis has the case (CLIENT SETINFO and
 * CLIENT NO-TOUCH are 7.2's, answered as 7.2 answers them); the refusals that are cairn's own say what
 * the server lacks and which option changes it.
 *
 * CONFIG's slowlog-log-slower-than and slowlog-max-len are the server's slow log's (protocol/slowlog.h;
 * SLOWLOG itself is resp_slowlog.c), with Redis 7.0's ranges.
 *
 * Server-wide changes (CONFIG SET, CONFIG RESETSTAT, SAVE, BGSAVE, SHUTDOWN) are refused under
 * --disable-admin-commands; reading (CONFIG GET, INFO, LASTSAVE) stays allowed.
 *
 * Threads: runs on the session's thread. CLIENT LIST and CLIENT INFO read other sessions only through
 * the server's walk and resp_session_describe() (which takes each session's name lock).
 */
#include "config.h"

#include <ctype.h>
#include <inttypes.h>
#include <limits.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/resource.h>
#include <sys/time.h>
#include <sys/utsname.h>
#include <time.h>

#include "protocol/resp/resp_cluster.h"
#include "protocol/resp/resp_errstats.h"
#include "protocol/resp/resp_internal.h"
#include "protocol/resp/resp_server.h"
#include "protocol/resp/resp_util.h"
#include "protocol/slowlog.h"
#include "storage/cache.h"
#include "storage/meta.h"

#define E_SNAPSHOT_OFF "ERR snapshots are not configured (start with --snapshot-path)"

/* ---- small helpers ---- */

/* Copies argument i up to its first NUL (as Redis prints it with %s), at most max bytes. */
static void arg_cstr(const struct resp_args *a, size_t i, char *buf, size_t max)
{
    size_t len = a->argv[i] == NULL ? 0 : a->argl[i];
    const char *nul = len ? memchr(a->argv[i], '\0', len) : NULL;
    if (nul != NULL)
        len = (size_t)(nul - a->argv[i]);
    if (len > max)
        len = max;
    if (len)
        memcpy(buf, a->argv[i], len);
    buf[len] = '\0';
}

/* A growing text (INFO, CLIENT LIST). */
struct tbuf {
    char *p;
    size_t len, cap;
    bool failed;
};

static bool tb_reserve(struct tbuf *b, size_t more)
{
    if (b->failed)
        return false;
    if (b->len + more + 1 <= b->cap)
        return true;
    size_t cap = b->cap ? b->cap : 1024;
    while (cap < b->len + more + 1)
        cap *= 2;
    char *p = realloc(b->p, cap);
    if (p == NULL) {
        b->failed = true;
        return false;
    }
    b->p = p;
    b->cap = cap;
    return true;
}

static void tb_add(struct tbuf *b, const char *s, size_t n)
{
    if (!tb_reserve(b, n))
        return;
    memcpy(b->p + b->len, s, n);
    b->len += n;
    b->p[b->len] = '\0';
}

static void tb_printf(struct tbuf *b, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void tb_printf(struct tbuf *b, const char *fmt, ...)
{
    char line[512];
    va_list ap;
    va_start(ap, fmt);
    int n = vsnprintf(line, sizeof(line), fmt, ap);
    va_end(ap);
    if (n < 0)
        b->failed = true;
    else
        tb_add(b, line, (size_t)n < sizeof(line) ? (size_t)n : sizeof(line) - 1);
}

/* Sends a text as INFO and CLIENT LIST do (RESP3 verbatim "txt", RESP2 bulk) and frees it. */
static void tb_reply(struct resp_session *s, struct tbuf *b, struct outq *out)
{
    if (b->failed)
        resp_error(s, out, RESP_E_OOM);
    else
        resp_add_verbatim(out, s->proto, "txt", b->p != NULL ? b->p : "", b->len);
    free(b->p);
}

/* See resp_server.h. */
void resp_add_help(struct outq *out, const char *container, const char *const *lines)
{
    char head[128];
    size_t n = 0;
    while (lines[n] != NULL)
        n++;
    resp_add_array(out, n + 3);
    snprintf(head, sizeof(head), "%s <subcommand> [<arg> [value] [opt] ...]. Subcommands are:", container);
    resp_add_simple(out, head);
    for (size_t i = 0; i < n; i++)
        resp_add_simple(out, lines[i]);
    resp_add_simple(out, "HELP");
    resp_add_simple(out, "    Prints this help.");
}

/* Refuses a server-wide change under --disable-admin-commands. */
static bool admin_refused(struct resp_session *s, const char *what, struct outq *out)
{
    char line[160];
    if (!s->ctx->admin_disabled)
        return false;
    snprintf(line, sizeof(line), "ERR %s is disabled on this server (--disable-admin-commands)", what);
    resp_error(s, out, line);
    return true;
}

/* See resp.h: the RESP_INFO_FIGURES member named info. */
bool resp_server_info_set(struct resp_server_info *i, const char *info, uint64_t v)
{
    static const struct {
        const char *info;
        size_t off;
    } figures[] = {
#define RESP_INFO_SLOT(field, name) {name, offsetof(struct resp_server_info, field)},
        RESP_INFO_FIGURES(RESP_INFO_SLOT)
#undef RESP_INFO_SLOT
    };
    for (size_t k = 0; k < sizeof(figures) / sizeof(figures[0]); k++)
        if (strcmp(figures[k].info, info) == 0) {
            *(uint64_t *)((char *)i + figures[k].off) = v;
            return true;
        }
    return false;
}

/* What the server reports, or what the cache alone knows when there is no server (tests). */
static void server_info(const struct resp_session *s, struct resp_server_info *i)
{
    memset(i, 0, sizeof(*i));
    if (s->ctx->info != NULL) {
        s->ctx->info(s->ctx->server, i);
        return;
    }
    struct cache_stats cs;
    cache_stats_get(s->ctx->cache, &cs);
    i->used_memory = cs.bytes;
    i->maxmemory = cs.limit_maxbytes;
    i->keys = cs.curr_items;
    i->evicted_keys = cs.evictions;
    i->connected_clients = 1;
    i->last_save_ok = true;
}

/* ---- CLIENT ---- */

static enum proto_status client_id(struct resp_session *s, const struct resp_args *a, struct outq *out)
{
    (void)a;
    resp_add_int(out, (long long)s->id);
    return PROTO_OK;
}

static enum proto_status client_getname(struct resp_session *s, const struct resp_args *a, struct outq *out)
{
    char name[RESP_NAME_MAX + 1];
    (void)a;
    pthread_mutex_lock(&s->name_lock);
    memcpy(name, s->name, sizeof(name));
    pthread_mutex_unlock(&s->name_lock);
    if (name[0] == '\0')
        resp_add_null(out, s->proto);
    else
        resp_add_bulk_str(out, name);
    return PROTO_OK;
}

/* Whether every byte is printable ASCII without space (Redis's check for names shown by CLIENT LIST). */
static bool attr_ok(const char *p, size_t n)
{
    for (size_t i = 0; i < n; i++)
        if ((unsigned char)p[i] < '!' || (unsigned char)p[i] > '~')
            return false;
    return true;
}

/* Stores a validated attribute (name, lib-name, lib-ver) under the name lock; "" clears it. */
static void attr_set(struct resp_session *s, char *dst, const char *p, size_t n)
{
    pthread_mutex_lock(&s->name_lock);
    if (n)
        memcpy(dst, p, n);
    dst[n] = '\0';
    pthread_mutex_unlock(&s->name_lock);
}

static bool attr_too_long(struct resp_session *s, const char *what, size_t n, struct outq *out)
{
    char line[200];
    if (n <= RESP_NAME_MAX)
        return false;
    snprintf(line, sizeof(line), "ERR %s is too long", what);
    resp_error(s, out, line);
    return true;
}

/* CLIENT SETNAME name: checked and stored as HELLO's SETNAME does (resp_conn.c). */
static enum proto_status client_setname(struct resp_session *s, const struct resp_args *a, struct outq *out)
{
    if (a->argv[2] == NULL) /* a bulk larger than the item size limit was dropped */
        resp_error(s, out, "ERR Client name is too long");
    else if (resp_set_client_name(s, a->argv[2], a->argl[2], out))
        resp_add_simple(out, "OK");
    return PROTO_OK;
}

/* CLIENT SETINFO LIB-NAME|LIB-VER <value> (Redis 7.2). */
static enum proto_status client_setinfo(struct resp_session *s, const struct resp_args *a, struct outq *out)
{
    char attr[130], line[200];
    const char *p = a->argv[3];
    size_t n = p == NULL ? SIZE_MAX : a->argl[3];
    char *dst = resp_arg_is(a, 2, "lib-name")  ? s->lib_name
                : resp_arg_is(a, 2, "lib-ver") ? s->lib_ver
                                               : NULL;

    arg_cstr(a, 2, attr, 128);
    if (dst == NULL) {
        snprintf(line, sizeof(line), "ERR Unrecognized option '%s'", attr);
        resp_error(s, out, line);
        return PROTO_OK;
    }
    if (p != NULL && !attr_ok(p, n)) {
        snprintf(line, sizeof(line), "ERR %s cannot contain spaces, newlines or special characters.", attr);
        resp_error(s, out, line);
        return PROTO_OK;
    }
    if (attr_too_long(s, attr, n, out))
        return PROTO_OK;
    attr_set(s, dst, p, n);
    resp_add_simple(out, "OK");
    return PROTO_OK;
}

/* ON or OFF (case-insensitive) into *on; false (syntax error replied) otherwise. */
static bool on_off(struct resp_session *s, const struct resp_args *a, size_t i, bool *on, struct outq *out)
{
    if (resp_arg_is(a, i, "on"))
        *on = true;
    else if (resp_arg_is(a, i, "off"))
        *on = false;
    else {
        resp_error(s, out, RESP_E_SYNTAX);
        return false;
    }
    return true;
}

static enum proto_status client_no_evict(struct resp_session *s, const struct resp_args *a, struct outq *out)
{
    if (on_off(s, a, 2, &s->no_evict, out))
        resp_add_simple(out, "OK");
    return PROTO_OK;
}

/* CLIENT NO-TOUCH (Redis 7.2). */
static enum proto_status client_no_touch(struct resp_session *s, const struct resp_args *a, struct outq *out)
{
    if (on_off(s, a, 2, &s->no_touch, out))
        resp_add_simple(out, "OK");
    return PROTO_OK;
}

/* CLIENT REPLY ON|OFF|SKIP (the withholding itself is resp.c's dispatch_muted). OFF and SKIP reply
 * nothing; ON's +OK is sent even after OFF. */
static enum proto_status client_reply(struct resp_session *s, const struct resp_args *a, struct outq *out)
{
    bool off = resp_arg_is(a, 2, "off"), skip = resp_arg_is(a, 2, "skip");
    if (resp_arg_is(a, 2, "on")) {
        s->reply_off = s->skip_this = s->skip_next = false;
        resp_add_simple(out, "OK");
    } else if (!off && !skip) {
        resp_error(s, out, RESP_E_SYNTAX);
    } else if (!resp_reply_sink(s)) {
        resp_error(s, out, RESP_E_OOM);
    } else if (off) {
        s->reply_off = true;
    } else if (!s->reply_off) {
        s->skip_next = true;
    }
    return PROTO_OK;
}

/* The walk over the server's RESP connections for CLIENT LIST and CLIENT INFO. */
struct client_walk {
    struct tbuf *text;
    const struct resp_session *only; /* CLIENT INFO: this session */
    uint64_t id;                     /* CLIENT LIST ID: this client id (0 = every one) */
    bool found;
};

static void describe_one(void *arg, void *sess, const char *addr, const char *laddr, int fd, int64_t age_s, int64_t idle_s)
{
    struct client_walk *w = arg;
    const struct resp_session *rs = sess;
    char line[1024];

    if ((w->only != NULL && rs != w->only) || (w->id != 0 && rs->id != w->id))
        return;
    size_t n = resp_session_describe(sess, addr, laddr, fd, age_s, idle_s, line, sizeof(line));
    tb_add(w->text, line, n);
    tb_add(w->text, "\n", 1);
    w->found = true;
}

static void walk_clients(const struct resp_session *s, struct client_walk *w)
{
    if (s->ctx->clients != NULL)
        s->ctx->clients(s->ctx->server, describe_one, w);
}

static enum proto_status client_info(struct resp_session *s, const struct resp_args *a, struct outq *out)
{
    struct tbuf text = {0};
    struct client_walk w = {&text, s, 0, false};
    (void)a;
    walk_clients(s, &w);
    if (!w.found)
        describe_one(&w, s, "", "", -1, 0, 0); /* no server walk: the session alone */
    tb_reply(s, &text, out);
    return PROTO_OK;
}

/* Redis's client types: every RESP connection here is "normal". -1 for an unknown name. */
static int client_type(const struct resp_args *a, size_t i)
{
    static const char *const types[] = {"normal", "slave", "replica", "pubsub", "master"};
    for (size_t k = 0; k < sizeof(types) / sizeof(types[0]); k++)
        if (resp_arg_is(a, i, types[k]))
            return (int)k;
    return -1;
}

/* CLIENT LIST ID id [id ...]: the clients with those ids, in the order given. */
static bool client_list_ids(struct resp_session *s, const struct resp_args *a, struct tbuf *text,
                            struct outq *out)
{
    for (size_t j = 3; j < a->argc; j++) {
        long long id;
        if (a->argv[j] == NULL || !resp_str2ll(a->argv[j], a->argl[j], &id)) {
            resp_error(s, out, "ERR Invalid client ID");
            return false;
        }
        struct client_walk w = {text, NULL, (uint64_t)id, false};
        if (id > 0)
            walk_clients(s, &w);
    }
    return true;
}

static enum proto_status client_list(struct resp_session *s, const struct resp_args *a, struct outq *out)
{
    struct tbuf text = {0};
    char line[200], type[130];

    if (a->argc == 4 && resp_arg_is(a, 2, "type")) {
        int t = client_type(a, 3);
        if (t < 0) {
            arg_cstr(a, 3, type, 128);
            snprintf(line, sizeof(line), "ERR Unknown client type '%s'", type);
            resp_error(s, out, line);
            return PROTO_OK;
        }
        if (t == 0) {
            struct client_walk w = {&text, NULL, 0, false};
            walk_clients(s, &w);
        }
    } else if (a->argc > 3 && resp_arg_is(a, 2, "id")) {
        if (!client_list_ids(s, a, &text, out)) {
            free(text.p);
            return PROTO_OK;
        }
    } else if (a->argc != 2) {
        resp_error(s, out, RESP_E_SYNTAX);
        return PROTO_OK;
    } else {
        struct client_walk w = {&text, NULL, 0, false};
        walk_clients(s, &w);
    }
    tb_reply(s, &text, out);
    return PROTO_OK;
}

static enum proto_status client_help(struct resp_session *s, const struct resp_args *a, struct outq *out)
{
    static const char *const help[] = {
        "GETNAME",
        "    Return the name of the current connection.",
        "ID",
        "    Return the ID of the current connection.",
        "INFO",
        "    Return information about the current client connection.",
        "LIST [options ...]",
        "    Return information about client connections. Options:",
        "    * TYPE (NORMAL|MASTER|REPLICA|PUBSUB)",
        "      Return clients of specified type.",
        "    * ID <client-id> [<client-id> ...]",
        "      Return clients with the given IDs.",
        "REPLY (ON|OFF|SKIP)",
        "    Control the replies sent to the current connection (only ON is supported).",
        "SETNAME <name>",
        "    Assign the name <name> to the current connection.",
        "SETINFO <option> <value>",
        "    Set client meta attr. Options are:",
        "    * LIB-NAME: the client lib name.",
        "    * LIB-VER: the client lib version.",
        "NO-EVICT (ON|OFF)",
        "    Protect current client connection from eviction.",
        "NO-TOUCH (ON|OFF)",
        "    Will not touch LRU/LFU stats when this mode is on.",
        NULL,
    };
    (void)s;
    (void)a;
    resp_add_help(out, "CLIENT", help);
    return PROTO_OK;
}

/* ---- CONFIG ---- */

enum cfg_id {
    CFG_APPENDONLY,
    CFG_BIND,
    CFG_DATABASES,
    CFG_MAXCLIENTS,
    CFG_MAXMEMORY,
    CFG_MAXMEMORY_POLICY,
    CFG_PORT,
    CFG_PROTO_MAX_BULK_LEN,
    CFG_SAVE,
    CFG_SLOWLOG_LOG_SLOWER_THAN,
    CFG_SLOWLOG_MAX_LEN,
    CFG_TIMEOUT,
    CFG_COUNT
};

/* Redis's name for the eviction in force: none with memcached's -M. */
static const char *maxmemory_policy(const struct resp_session *s)
{
    return cache_no_evict(s->ctx->cache) ? "noeviction" : "allkeys-lru";
}

/* The parameters CONFIG GET knows, in the order a pattern lists them. */
static const char *const cfg_names[CFG_COUNT] = {
    "appendonly",       "bind",    "databases",          "maxclients", "maxmemory",
    "maxmemory-policy", "port",    "proto-max-bulk-len", "save",       "slowlog-log-slower-than",
    "slowlog-max-len",  "timeout",
};

/* The parameter with this exact name (case-insensitive), or CFG_COUNT. */
static enum cfg_id cfg_lookup(const char *p, size_t n)
{
    for (int i = 0; i < CFG_COUNT; i++)
        if (p != NULL && strlen(cfg_names[i]) == n && strncasecmp(p, cfg_names[i], n) == 0)
            return (enum cfg_id)i;
    return CFG_COUNT;
}

/* The current value of a parameter as Redis prints it; false when it is not reported here. */
static bool cfg_value(const struct resp_session *s, const struct resp_server_info *i, enum cfg_id id,
                      char *buf, size_t size)
{
    switch (id) {
    case CFG_APPENDONLY:
        snprintf(buf, size, "no");
        return true;
    case CFG_BIND:
        if (i->bind == NULL)
            return false;
        snprintf(buf, size, "%s", i->bind);
        return true;
    case CFG_DATABASES:
        snprintf(buf, size, "1");
        return true;
    case CFG_MAXCLIENTS:
        snprintf(buf, size, "%" PRIu64, i->maxclients);
        return true;
    case CFG_MAXMEMORY: {
        struct cache_stats cs;
        cache_stats_get(s->ctx->cache, &cs);
        snprintf(buf, size, "%" PRIu64, cs.limit_maxbytes);
        return true;
    }
    case CFG_MAXMEMORY_POLICY:
        snprintf(buf, size, "%s", maxmemory_policy(s));
        return true;
    case CFG_PORT:
        snprintf(buf, size, "%" PRId64, i->tcp_port);
        return true;
    case CFG_PROTO_MAX_BULK_LEN:
        snprintf(buf, size, "%zu", s->ctx->item_size_max);
        return true;
    case CFG_SAVE:
        if (i->snapshot_interval_s != 0)
            snprintf(buf, size, "%u 0", i->snapshot_interval_s);
        else
            buf[0] = '\0';
        return true;
    case CFG_TIMEOUT:
        snprintf(buf, size, "%u", i->timeout_s);
        return true;
    case CFG_SLOWLOG_LOG_SLOWER_THAN:
        if (s->ctx->slowlog == NULL)
            return false;
        snprintf(buf, size, "%" PRId64, slowlog_threshold(s->ctx->slowlog));
        return true;
    case CFG_SLOWLOG_MAX_LEN:
        if (s->ctx->slowlog == NULL)
            return false;
        snprintf(buf, size, "%" PRIu64, slowlog_max_len(s->ctx->slowlog));
        return true;
    default:
        return false;
    }
}

/* One CONFIG GET result: the name as it is replied (the argument for an exact name, as Redis). */
struct cfg_match {
    const char *key;
    size_t nkey;
    char value[512];
};

static bool cfg_has_glob(const char *p, size_t n)
{
    for (size_t i = 0; i < n && p[i] != '\0'; i++)
        if (p[i] == '*' || p[i] == '?' || p[i] == '[')
            return true;
    return false;
}

/* Adds parameter id as key unless it was added already or is not reported here. */
static size_t cfg_add(const struct resp_session *s, const struct resp_server_info *info, enum cfg_id id,
                      const char *key, size_t nkey, struct cfg_match *m, size_t nm, bool *seen)
{
    if (seen[id] || !cfg_value(s, info, id, m[nm].value, sizeof(m[nm].value)))
        return nm;
    seen[id] = true;
    m[nm].key = key;
    m[nm].nkey = nkey;
    return nm + 1;
}

/* Adds the parameters one CONFIG GET argument names: an exact name (any case), or a glob pattern
 * matched without case against every name. */
static size_t cfg_collect(const struct resp_session *s, const struct resp_server_info *info, const char *p,
                          size_t n, struct cfg_match *m, size_t nm, bool *seen)
{
    if (!cfg_has_glob(p, n)) {
        enum cfg_id id = cfg_lookup(p, n);
        return id == CFG_COUNT ? nm : cfg_add(s, info, id, p, n, m, nm, seen);
    }
    for (int id = 0; id < CFG_COUNT; id++) {
        const char *name = cfg_names[id];
        if (resp_match(p, n, name, strlen(name), true))
            nm = cfg_add(s, info, (enum cfg_id)id, name, strlen(name), m, nm, seen);
    }
    return nm;
}

static enum proto_status config_get(struct resp_session *s, const struct resp_args *a, struct outq *out)
{
    struct resp_server_info info;
    struct cfg_match m[CFG_COUNT];
    bool seen[CFG_COUNT] = {false};
    size_t nm = 0;

    server_info(s, &info);
    for (size_t i = 2; i < a->argc; i++)
        nm = cfg_collect(s, &info, a->argv[i] == NULL ? "" : a->argv[i], a->argv[i] == NULL ? 0 : a->argl[i],
                         m, nm, seen);
    resp_add_map(out, s->proto, nm);
    for (size_t i = 0; i < nm; i++) {
        resp_add_bulk(out, m[i].key, m[i].nkey);
        resp_add_bulk_str(out, m[i].value);
    }
    return PROTO_OK;
}

/* Redis's memtoull: digits and an optional unit b, k, kb, m, mb, g, gb (any case); the number
 * saturates instead of wrapping. */
static bool mem_value(const char *p, size_t n, unsigned long long *v)
{
    static const struct {
        const char *unit;
        unsigned long long mul;
    } units[] = {{"", 1},           {"b", 1},
                 {"k", 1000},       {"kb", 1024},
                 {"m", 1000000},    {"mb", 1024 * 1024},
                 {"g", 1000000000}, {"gb", 1024ull * 1024 * 1024}};
    size_t d = 0;
    unsigned long long x = 0;
    while (d < n && p[d] >= '0' && p[d] <= '9') {
        unsigned digit = (unsigned)(p[d++] - '0');
        x = x > (ULLONG_MAX - digit) / 10 ? ULLONG_MAX : x * 10 + digit;
    }
    if (d >= 128)
        return false;
    for (size_t u = 0; u < sizeof(units) / sizeof(units[0]); u++) {
        if (strlen(units[u].unit) != n - d || strncasecmp(p + d, units[u].unit, n - d) != 0)
            continue;
        *v = x > ULLONG_MAX / units[u].mul ? ULLONG_MAX : x * units[u].mul;
        return true;
    }
    return false;
}

/* One number of a save value as Redis's strtoll check takes it: the whole token (empty is 0). */
static bool save_number(const char *p, size_t n, long long *v)
{
    char buf[64], *end;
    if (n >= sizeof(buf))
        return false;
    memcpy(buf, p, n);
    buf[n] = '\0';
    *v = strtoll(buf, &end, 10);
    return *end == '\0';
}

/* Redis's save value: "" is no automatic save; otherwise pairs of seconds (>= 1) and changes (>= 0)
 * separated by spaces. *count gets the number of numbers, *secs and *chg the first pair. */
static bool save_value(const char *p, size_t n, size_t *count, long long *secs, long long *chg)
{
    size_t i = 0;
    *count = 0;
    while (n > 0 && i <= n) {
        size_t j = i;
        long long v;
        while (j < n && p[j] != ' ')
            j++;
        if (!save_number(p + i, j - i, &v) || v < ((*count & 1) == 0 ? 1 : 0))
            return false;
        if (*count < 2)
            *(*count == 0 ? secs : chg) = v;
        (*count)++;
        i = j + 1;
    }
    return (*count & 1) == 0;
}

/* A value CONFIG SET checked and will apply. */
struct cfg_set {
    enum cfg_id id;
    const char *name; /* as given */
    size_t nname;
    unsigned long long v;
};

/* Whether CONFIG SET can change a parameter here. */
static bool cfg_mutable(const struct resp_session *s, enum cfg_id id)
{
    switch (id) {
    case CFG_MAXMEMORY:
    case CFG_MAXMEMORY_POLICY:
    case CFG_SAVE:
    case CFG_APPENDONLY:
        return true;
    case CFG_TIMEOUT:
        return s->ctx->set_timeout != NULL;
    case CFG_SLOWLOG_LOG_SLOWER_THAN:
    case CFG_SLOWLOG_MAX_LEN:
        return s->ctx->slowlog != NULL;
    default:
        return false;
    }
}

static void cfg_set_error(struct resp_session *s, const char *name, size_t nname, const char *why,
                          struct outq *out)
{
    char line[512];
    snprintf(line, sizeof(line), "ERR CONFIG SET failed (possibly related to argument '%.*s') - %s",
             (int)(nname > 128 ? 128 : nname), name, why);
    resp_error(s, out, line);
}

/* The first problem with the parameter names, as Redis looks for them: unknown, immutable, given
 * twice. Replies and returns false on one. */
static bool cfg_check_names(struct resp_session *s, const struct resp_args *a, struct cfg_set *set, size_t n,
                            struct outq *out)
{
    char line[256], name[130];
    for (size_t i = 0; i < n; i++) {
        size_t k = 2 + 2 * i;
        set[i].name = a->argv[k] == NULL ? "" : a->argv[k];
        set[i].nname = a->argv[k] == NULL ? 0 : a->argl[k];
        set[i].id = cfg_lookup(set[i].name, set[i].nname);
        arg_cstr(a, k, name, 128);
        if (set[i].id == CFG_COUNT) {
            snprintf(line, sizeof(line), "ERR Unknown option or number of arguments for CONFIG SET - '%s'",
                     name);
            resp_error(s, out, line);
            return false;
        }
        if (!cfg_mutable(s, set[i].id)) {
            cfg_set_error(s, name, strlen(name), "can't set immutable config", out);
            return false;
        }
        for (size_t j = 0; j < i; j++)
            if (set[j].id == set[i].id) {
                cfg_set_error(s, name, strlen(name), "duplicate parameter", out);
                return false;
            }
    }
    return true;
}

/* Why a value cannot be set, or NULL when *v holds what to apply. */
static const char *cfg_parse(const struct resp_session *s, const struct resp_server_info *info,
                             enum cfg_id id, const char *p, size_t n, unsigned long long *v, char *why,
                             size_t nwhy)
{
    long long ll, secs = 0, chg = 0;
    size_t count;
    switch (id) {
    case CFG_MAXMEMORY:
        if (!mem_value(p, n, v))
            return "argument must be a memory value";
        if (*v < 1 || *v > cache_memory_limit_max(s->ctx->cache)) {
            snprintf(why, nwhy, "argument must be between 1 and %zu inclusive",
                     cache_memory_limit_max(s->ctx->cache));
            return why;
        }
        return NULL;
    case CFG_MAXMEMORY_POLICY: {
        /* only the policy in force (allkeys-lru, or noeviction under -M) */
        const char *policy = maxmemory_policy(s);
        if (n == strlen(policy) && strncasecmp(p, policy, n) == 0)
            return NULL;
        snprintf(why, nwhy, "argument(s) must be one of the following: %s", policy);
        return why;
    }
    case CFG_TIMEOUT:
        if (!resp_str2ll(p, n, &ll))
            return "argument couldn't be parsed into an integer";
        if (ll < 0 || ll > INT_MAX)
            return "argument must be between 0 and 2147483647 inclusive";
        *v = (unsigned long long)ll;
        return NULL;
    case CFG_SLOWLOG_LOG_SLOWER_THAN: /* Redis: -1 (off) .. LLONG_MAX */
    case CFG_SLOWLOG_MAX_LEN:         /* Redis: 0 .. LONG_MAX */
        if (!resp_str2ll(p, n, &ll))
            return "argument couldn't be parsed into an integer";
        if (ll < (id == CFG_SLOWLOG_MAX_LEN ? 0 : -1))
            return id == CFG_SLOWLOG_MAX_LEN
                       ? "argument must be between 0 and 9223372036854775807 inclusive"
                       : "argument must be between -1 and 9223372036854775807 inclusive";
        *v = (unsigned long long)ll;
        return NULL;
    case CFG_APPENDONLY:
        if (n == 2 && strncasecmp(p, "no", 2) == 0)
            return NULL;
        return n == 3 && strncasecmp(p, "yes", 3) == 0 ? "appendonly is not supported"
                                                       : "argument must be 'yes' or 'no'";
    case CFG_SAVE:
        if (!save_value(p, n, &count, &secs, &chg))
            return "Invalid save parameters";
        if (count == 0 ? info->snapshot_interval_s == 0
                       : count == 2 && secs == (long long)info->snapshot_interval_s && chg == 0)
            return NULL;
        return "automatic snapshots follow --snapshot-interval";
    default:
        return "can't set immutable config";
    }
}

static void cfg_apply(struct resp_session *s, const struct cfg_set *c)
{
    if (c->id == CFG_MAXMEMORY)
        cache_set_memory_limit(s->ctx->cache, (size_t)c->v);
    else if (c->id == CFG_TIMEOUT)
        s->ctx->set_timeout(s->ctx->server, (unsigned)c->v);
    else if (c->id == CFG_SLOWLOG_LOG_SLOWER_THAN)
        slowlog_set_threshold(s->ctx->slowlog, (int64_t)c->v);
    else if (c->id == CFG_SLOWLOG_MAX_LEN)
        slowlog_set_max_len(s->ctx->slowlog, (uint64_t)c->v);
}

/* CONFIG SET name value [name value ...]: all checked before any is applied, as Redis. */
static enum proto_status config_set(struct resp_session *s, const struct resp_args *a, struct outq *out)
{
    struct resp_server_info info;
    struct cfg_set set[CFG_COUNT + 1];
    char why[128];

    if ((a->argc & 1) != 0) {
        resp_error(s, out, RESP_E_SYNTAX);
        return PROTO_OK;
    }
    if (admin_refused(s, "CONFIG SET", out))
        return PROTO_OK;
    size_t n = (a->argc - 2) / 2;
    if (n > CFG_COUNT) /* some parameter is unknown or given twice: the first one is reported */
        n = CFG_COUNT + 1;
    if (!cfg_check_names(s, a, set, n, out))
        return PROTO_OK;
    server_info(s, &info);
    for (size_t i = 0; i < n; i++) {
        size_t k = 3 + 2 * i;
        const char *e = cfg_parse(s, &info, set[i].id, a->argv[k] == NULL ? "" : a->argv[k],
                                  a->argv[k] == NULL ? 0 : a->argl[k], &set[i].v, why, sizeof(why));
        if (e != NULL) {
            cfg_set_error(s, cfg_names[set[i].id], strlen(cfg_names[set[i].id]), e, out);
            return PROTO_OK;
        }
    }
    for (size_t i = 0; i < n; i++)
        cfg_apply(s, &set[i]);
    resp_add_simple(out, "OK");
    return PROTO_OK;
}

static enum proto_status config_resetstat(struct resp_session *s, const struct resp_args *a, struct outq *out)
{
    (void)a;
    if (admin_refused(s, "CONFIG RESETSTAT", out))
        return PROTO_OK;
    cache_stats_reset(s->ctx->cache);
    if (s->ctx->reset_stats != NULL)
        s->ctx->reset_stats(s->ctx->server);
    resp_add_simple(out, "OK");
    return PROTO_OK;
}

static enum proto_status config_rewrite(struct resp_session *s, const struct resp_args *a, struct outq *out)
{
    (void)a;
    resp_error(s, out, "ERR The server is running without a config file");
    return PROTO_OK;
}

static enum proto_status config_help(struct resp_session *s, const struct resp_args *a, struct outq *out)
{
    static const char *const help[] = {
        "GET <pattern>",
        "    Return parameters matching the glob-like <pattern> and their values.",
        "SET <directive> <value>",
        "    Set the configuration <directive> to <value>.",
        "RESETSTAT",
        "    Reset statistics reported by the INFO command.",
        "REWRITE",
        "    Rewrite the configuration file.",
        NULL,
    };
    (void)s;
    (void)a;
    resp_add_help(out, "CONFIG", help);
    return PROTO_OK;
}

/* ---- INFO ---- */

enum {
    SEC_SERVER = 1u << 0,
    SEC_CLIENTS = 1u << 1,
    SEC_MEMORY = 1u << 2,
    SEC_PERSISTENCE = 1u << 3,
    SEC_STATS = 1u << 4,
    SEC_REPLICATION = 1u << 5,
    SEC_CPU = 1u << 6,
    SEC_MODULES = 1u << 7,
    SEC_COMMANDSTATS = 1u << 8, /* not in the default set, as in Redis */
    SEC_ERRORSTATS = 1u << 9,
    SEC_LATENCYSTATS = 1u << 10,
    SEC_CLUSTER = 1u << 11,
    SEC_KEYSPACE = 1u << 12,
    SEC_ALL = (1u << 13) - 1,
    SEC_DEFAULT = SEC_ALL & ~(SEC_COMMANDSTATS | SEC_LATENCYSTATS),
};

/* The sections INFO's arguments ask for (unknown names ask for nothing, as Redis). */
static unsigned info_sections(const struct resp_args *a)
{
    static const struct {
        const char *name;
        unsigned bits;
    } names[] = {
        {"server", SEC_SERVER},
        {"clients", SEC_CLIENTS},
        {"memory", SEC_MEMORY},
        {"persistence", SEC_PERSISTENCE},
        {"stats", SEC_STATS},
        {"replication", SEC_REPLICATION},
        {"cpu", SEC_CPU},
        {"module_list", SEC_MODULES},
        {"modules", SEC_MODULES},
        {"cluster", SEC_CLUSTER},
        {"keyspace", SEC_KEYSPACE},
        {"default", SEC_DEFAULT},
        {"all", SEC_ALL},
        {"everything", SEC_ALL},
        {"commandstats", SEC_COMMANDSTATS},
        {"errorstats", SEC_ERRORSTATS},
        {"latencystats", SEC_LATENCYSTATS},
    };
    unsigned bits = a->argc == 1 ? SEC_DEFAULT : 0;
    for (size_t i = 1; i < a->argc; i++)
        for (size_t k = 0; k < sizeof(names) / sizeof(names[0]); k++)
            if (resp_arg_is(a, i, names[k].name))
                bits |= names[k].bits;
    return bits;
}

/* Redis's bytesToHuman. */
static void bytes_human(char *s, size_t size, unsigned long long n)
{
    static const char units[] = "KMGTP";
    double d = (double)n;
    if (n >= 1024)
        for (int u = 0; u < 5; u++) {
            d /= 1024;
            if (d < 1024) {
                snprintf(s, size, "%.2f%c", d, units[u]);
                return;
            }
        }
    snprintf(s, size, "%lluB", n);
}

static void info_server(struct tbuf *b, const struct resp_session *s, const struct resp_server_info *i)
{
    struct utsname u;
    struct timeval tv;
    const char *version = i->version != NULL ? i->version : s->ctx->version;

    if (uname(&u) != 0)
        memset(&u, 0, sizeof(u));
    gettimeofday(&tv, NULL);
    tb_printf(b, "# Server\r\nredis_version:%s\r\ncairn_version:%s\r\nredis_mode:%s\r\n", RESP_REDIS_VERSION,
              version != NULL ? version : "",
              resp_cluster_get(s->ctx->cluster) != NULL ? "cluster" : "standalone");
    tb_printf(b, "os:%s %s %s\r\narch_bits:%d\r\n", u.sysname, u.release, u.machine, (int)sizeof(void *) * 8);
#ifdef __GNUC__
    tb_printf(b, "gcc_version:%d.%d.%d\r\n", __GNUC__, __GNUC_MINOR__, __GNUC_PATCHLEVEL__);
#endif
    tb_printf(b,
              "process_id:%" PRId64 "\r\ntcp_port:%" PRId64 "\r\nserver_time_usec:%" PRId64
              "\r\nuptime_in_seconds:%" PRId64 "\r\nuptime_in_days:%" PRId64 "\r\nconfig_file:\r\n",
              i->process_id, i->tcp_port, (int64_t)tv.tv_sec * 1000000 + tv.tv_usec, i->uptime_s,
              i->uptime_s / 86400);
}

static void info_clients(struct tbuf *b, const struct resp_server_info *i)
{
    tb_printf(b,
              "# Clients\r\nconnected_clients:%" PRIu64 "\r\nmaxclients:%" PRIu64
              "\r\nblocked_clients:0\r\ntracking_clients:0\r\n",
              i->connected_clients, i->maxclients);
}

static void info_memory(struct tbuf *b, const struct resp_session *s, const struct resp_server_info *i)
{
    char h[32];
    bytes_human(h, sizeof(h), i->used_memory);
    tb_printf(b, "# Memory\r\nused_memory:%" PRIu64 "\r\nused_memory_human:%s\r\n", i->used_memory, h);
    if (i->used_memory_rss != 0) {
        bytes_human(h, sizeof(h), i->used_memory_rss);
        tb_printf(b, "used_memory_rss:%" PRIu64 "\r\nused_memory_rss_human:%s\r\n", i->used_memory_rss, h);
    }
    bytes_human(h, sizeof(h), i->maxmemory);
    tb_printf(b, "maxmemory:%" PRIu64 "\r\nmaxmemory_human:%s\r\nmaxmemory_policy:%s\r\n", i->maxmemory, h,
              maxmemory_policy(s));
}

/* When the last snapshot was saved, or the start time when none was (as Redis's lastsave). */
static int64_t last_save(const struct resp_session *s, const struct resp_server_info *i)
{
    if (i->last_save_unix != 0)
        return i->last_save_unix;
    if (i->unix_ms != 0)
        return i->unix_ms / 1000 - i->uptime_s;
    return (int64_t)cache_process_started(s->ctx->cache);
}

static void info_persistence(struct tbuf *b, const struct resp_session *s, const struct resp_server_info *i)
{
    tb_printf(b,
              "# Persistence\r\nloading:0\r\nasync_loading:0\r\nrdb_changes_since_last_save:%" PRIu64
              "\r\nrdb_bgsave_in_progress:%d\r\nrdb_last_save_time:%" PRId64
              "\r\nrdb_last_bgsave_status:%s\r\naof_enabled:0\r\naof_rewrite_in_progress:0\r\n",
              i->changes_since_save, i->snapshot_in_progress ? 1 : 0, last_save(s, i),
              i->last_save_ok ? "ok" : "err");
}

static void info_stats(struct tbuf *b, const struct resp_server_info *i)
{
    tb_printf(b,
              "# Stats\r\ntotal_connections_received:%" PRIu64 "\r\ntotal_commands_processed:%" PRIu64
              "\r\ntotal_net_input_bytes:%" PRIu64 "\r\ntotal_net_output_bytes:%" PRIu64
              "\r\nrejected_connections:%" PRIu64 "\r\n",
              i->total_connections, i->total_commands, i->net_input_bytes, i->net_output_bytes,
              i->rejected_connections);
    tb_printf(b,
              "expired_keys:%" PRIu64 "\r\nevicted_keys:%" PRIu64 "\r\nkeyspace_hits:%" PRIu64
              "\r\nkeyspace_misses:%" PRIu64 "\r\npubsub_channels:0\r\npubsub_patterns:0\r\n"
              "total_error_replies:%" PRIu64 "\r\nacl_access_denied_auth:%" PRIu64
              "\r\nacl_access_denied_cmd:%" PRIu64 "\r\n",
              i->expired_keys, i->evicted_keys, i->keyspace_hits, i->keyspace_misses, i->error_replies,
              i->acl_denied_auth, i->acl_denied_cmd);
}

static void info_cpu(struct tbuf *b)
{
    struct rusage self, children;
    getrusage(RUSAGE_SELF, &self);
    getrusage(RUSAGE_CHILDREN, &children);
    tb_printf(
        b,
        "# CPU\r\nused_cpu_sys:%ld.%06ld\r\nused_cpu_user:%ld.%06ld\r\nused_cpu_sys_children:%ld.%06ld\r\n"
        "used_cpu_user_children:%ld.%06ld\r\n",
        (long)self.ru_stime.tv_sec, (long)self.ru_stime.tv_usec, (long)self.ru_utime.tv_sec,
        (long)self.ru_utime.tv_usec, (long)children.ru_stime.tv_sec, (long)children.ru_stime.tv_usec,
        (long)children.ru_utime.tv_sec, (long)children.ru_utime.tv_usec);
}

static void info_keyspace(struct tbuf *b, const struct resp_server_info *i)
{
    tb_add(b, "# Keyspace\r\n", 12);
    if (i->keys != 0 || i->expires != 0)
        tb_printf(b, "db0:keys=%" PRIu64 ",expires=%" PRIu64 ",avg_ttl=0\r\n", i->keys, i->expires);
}

/* INFO commandstats and latencystats: one line per RESP command that ran or was refused, in the
 * command table's order (Redis's is its dictionary's). */
struct cmdstats_arg {
    struct tbuf *b;
    bool latency;
};

static void cmdstats_line(void *arg, const struct resp_cmd_figures *f)
{
    struct cmdstats_arg *c = arg;
    if (c->latency) {
        if (f->calls != 0)
            tb_printf(c->b, "latency_percentiles_usec_%s:p50=%.3f,p99=%.3f,p99.9=%.3f\r\n", f->name,
                      (double)f->p50_us, (double)f->p99_us, (double)f->p999_us);
        return;
    }
    tb_printf(c->b,
              "cmdstat_%s:calls=%" PRIu64 ",usec=%" PRIu64 ",usec_per_call=%.2f,rejected_calls=%" PRIu64
              ",failed_calls=%" PRIu64 "\r\n",
              f->name, f->calls, f->usec, f->calls != 0 ? (double)f->usec / (double)f->calls : 0.0,
              f->rejected, f->failed);
}

static void info_cmdstats(struct tbuf *b, const struct resp_session *s, bool latency)
{
    struct cmdstats_arg arg = {b, latency};
    tb_printf(b, latency ? "# Latencystats\r\n" : "# Commandstats\r\n");
    if (s->ctx->cmdstats != NULL)
        s->ctx->cmdstats(s->ctx->server, cmdstats_line, &arg);
}

static void errorstats_line(void *arg, const char *code, uint64_t count)
{
    tb_printf(arg, "errorstat_%s:count=%" PRIu64 "\r\n", code, count);
}

/* INFO errorstats: the error replies by code, in Redis's order (its radix tree's, by name). */
static void info_errorstats(struct tbuf *b, const struct resp_session *s)
{
    tb_add(b, "# Errorstats\r\n", 14);
    resp_errstats_each(s->ctx->errstats, errorstats_line, b);
}

/* Appends one section, with the blank line Redis puts between sections. */
static void info_section(struct tbuf *b, const struct resp_session *s, const struct resp_server_info *i,
                         unsigned sec)
{
    if (b->len != 0)
        tb_add(b, "\r\n", 2);
    switch (sec) {
    case SEC_SERVER:
        info_server(b, s, i);
        break;
    case SEC_CLIENTS:
        info_clients(b, i);
        break;
    case SEC_MEMORY:
        info_memory(b, s, i);
        break;
    case SEC_PERSISTENCE:
        info_persistence(b, s, i);
        break;
    case SEC_STATS:
        info_stats(b, i);
        break;
    case SEC_REPLICATION:
        tb_printf(
            b, "# Replication\r\nrole:master\r\nconnected_slaves:0\r\nmaster_failover_state:no-failover\r\n"
               "master_repl_offset:0\r\nrepl_backlog_active:0\r\n");
        break;
    case SEC_CPU:
        info_cpu(b);
        break;
    case SEC_MODULES:
        tb_add(b, "# Modules\r\n", 11);
        break;
    case SEC_ERRORSTATS:
        info_errorstats(b, s);
        break;
    case SEC_COMMANDSTATS:
    case SEC_LATENCYSTATS:
        info_cmdstats(b, s, sec == SEC_LATENCYSTATS);
        break;
    case SEC_CLUSTER:
        if (resp_cluster_get(s->ctx->cluster) != NULL)
            tb_add(b, "# Cluster\r\ncluster_enabled:1\r\n", 30);
        else
            tb_add(b, "# Cluster\r\ncluster_enabled:0\r\n", 30);
        break;
    default:
        info_keyspace(b, i);
        break;
    }
}

enum proto_status resp_cmd_info(struct resp_session *s, const struct resp_args *a, struct outq *out)
{
    struct resp_server_info info;
    struct tbuf text = {0};
    unsigned sections = info_sections(a);

    server_info(s, &info);
    for (unsigned sec = 1; sec <= SEC_KEYSPACE; sec <<= 1)
        if (sections & sec)
            info_section(&text, s, &info, sec);
    tb_reply(s, &text, out);
    return PROTO_OK;
}

/* ---- OBJECT and MEMORY ---- */

/* The live item at argument i without marking an access (Redis's LOOKUP_NOTOUCH); count: count a
 * keyspace hit or miss (OBJECT does, MEMORY USAGE does not). */
static struct item *peek(struct resp_session *s, const struct resp_args *a, size_t i, bool count)
{
    struct item *it = a->argv[i] == NULL || a->argl[i] > CACHE_KEY_MAX
                          ? NULL
                          : cache_meta_peek(s->ctx->cache, a->argv[i], a->argl[i]);
    if (count)
        resp_count(it != NULL ? &s->stats->keyspace_hits : &s->stats->keyspace_misses);
    return it;
}

/* The encoding Redis 7.0 gives a string of these bytes when SET stores it (tryObjectEncoding). */
static const char *string_encoding(const char *p, size_t n)
{
    long long v;
    if (n <= 20 && resp_str2ll(p, n, &v))
        return "int";
    return n <= 44 ? "embstr" : "raw";
}

/* Looks up OBJECT's key; replies the null reply on a miss. */
static struct item *object_item(struct resp_session *s, const struct resp_args *a, struct outq *out)
{
    struct item *it = peek(s, a, 2, true);
    if (it == NULL)
        resp_add_null(out, s->proto);
    return it;
}

static enum proto_status object_encoding(struct resp_session *s, const struct resp_args *a, struct outq *out)
{
    struct item *it = object_item(s, a, out);
    if (it != NULL) {
        resp_add_bulk_str(out, string_encoding(item_value_const(it), item_nbytes(it)));
        cache_item_release(s->ctx->cache, &it);
    }
    return PROTO_OK;
}

/*
 * OBJECT FREQ: Redis answers it only under an LFU policy, with its logarithmic 0..255 access counter.
 * cairn evicts by CLOCK but counts the most used keys (storage/hotkeys.h), so it answers with the
 * counter Redis's LFU would show for that many accesses (lfu-log-factor 10: reaching counter c takes
 * about 5 (c - 5)^2 accesses from the initial 5), so that `redis-cli --hotkeys` ranks keys as it
 * would on Redis. A key the sketch does not count gets 5, Redis's value for a new key.
 */
static enum proto_status object_freq(struct resp_session *s, const struct resp_args *a, struct outq *out)
{
    struct item *it = object_item(s, a, out);
    if (it != NULL) {
        uint64_t n = cache_hotkey_estimate(s->ctx->cache, a->argv[2], a->argl[2]) / 5, r = 0;
        while (r < 250 && (r + 1) * (r + 1) <= n) /* the integer square root, up to the cap */
            r++;
        resp_add_int(out, (long long)(5 + r));
        cache_item_release(s->ctx->cache, &it);
    }
    return PROTO_OK;
}

static enum proto_status object_idletime(struct resp_session *s, const struct resp_args *a, struct outq *out)
{
    struct item *it = object_item(s, a, out);
    if (it != NULL) {
        uint32_t now = cache_rel_time(s->ctx->cache), atime = item_atime(it);
        resp_add_int(out, now > atime ? (long long)(now - atime) : 0);
        cache_item_release(s->ctx->cache, &it);
    }
    return PROTO_OK;
}

static enum proto_status object_refcount(struct resp_session *s, const struct resp_args *a, struct outq *out)
{
    struct item *it = object_item(s, a, out);
    if (it != NULL) {
        resp_add_int(out, 1);
        cache_item_release(s->ctx->cache, &it);
    }
    return PROTO_OK;
}

static enum proto_status object_help(struct resp_session *s, const struct resp_args *a, struct outq *out)
{
    static const char *const help[] = {
        "ENCODING <key>",
        "    Return the kind of internal representation used in order to store the value",
        "    associated with a <key>.",
        "FREQ <key>",
        "    Return the access frequency index of the <key>. The returned integer is",
        "    proportional to the logarithm of the recent access frequency of the key.",
        "IDLETIME <key>",
        "    Return the idle time of the <key>, that is the approximated number of",
        "    seconds elapsed since the last access to the key.",
        "REFCOUNT <key>",
        "    Return the number of references of the value associated with the specified",
        "    <key>.",
        NULL,
    };
    (void)s;
    (void)a;
    resp_add_help(out, "OBJECT", help);
    return PROTO_OK;
}

/* MEMORY USAGE key [SAMPLES count]: the bytes of the slab chunk the item occupies (header, key and
 * value rounded up to its class's chunk size). SAMPLES is checked and has nothing to sample. */
static enum proto_status memory_usage(struct resp_session *s, const struct resp_args *a, struct outq *out)
{
    for (size_t j = 3; j < a->argc; j++) {
        long long samples;
        if (!resp_arg_is(a, j, "samples") || j + 1 >= a->argc) {
            resp_error(s, out, RESP_E_SYNTAX);
            return PROTO_OK;
        }
        if (!resp_arg_ll(s, a, ++j, &samples, out))
            return PROTO_OK;
        if (samples < 0) {
            resp_error(s, out, RESP_E_SYNTAX);
            return PROTO_OK;
        }
    }
    struct item *it = peek(s, a, 2, false);
    if (it == NULL) {
        resp_add_null(out, s->proto);
        return PROTO_OK;
    }
    resp_add_int(out, (long long)cache_item_chunk_size(s->ctx->cache, it));
    cache_item_release(s->ctx->cache, &it);
    return PROTO_OK;
}

static enum proto_status memory_help(struct resp_session *s, const struct resp_args *a, struct outq *out)
{
    static const char *const help[] = {
        "USAGE <key> [SAMPLES <count>]",
        "    Return memory in bytes used by <key> and its value (the slab chunk that holds",
        "    them). SAMPLES is accepted and ignored: values are strings.",
        NULL,
    };
    (void)s;
    (void)a;
    resp_add_help(out, "MEMORY", help);
    return PROTO_OK;
}

/* ---- persistence, time, shutdown ---- */

enum proto_status resp_cmd_time(struct resp_session *s, const struct resp_args *a, struct outq *out)
{
    struct timeval tv;
    (void)s;
    (void)a;
    gettimeofday(&tv, NULL);
    resp_add_array(out, 2);
    resp_add_bulk_ll(out, (long long)tv.tv_sec);
    resp_add_bulk_ll(out, (long long)tv.tv_usec);
    return PROTO_OK;
}

enum proto_status resp_cmd_lastsave(struct resp_session *s, const struct resp_args *a, struct outq *out)
{
    struct resp_server_info info;
    (void)a;
    server_info(s, &info);
    resp_add_int(out, (long long)last_save(s, &info));
    return PROTO_OK;
}

/* Hands a snapshot to the server (PROTO_WAIT); its outcome becomes the reply (resp.c). */
static enum proto_status snapshot(struct resp_session *s, enum proto_wait kind, struct outq *out)
{
    if (!s->ctx->snapshot_enabled) {
        resp_error(s, out, E_SNAPSHOT_OFF);
        return PROTO_OK;
    }
    s->wait = kind;
    s->wait_cmd = kind == PROTO_WAIT_SNAPSHOT_BG ? 1 : 0;
    return PROTO_WAIT;
}

enum proto_status resp_cmd_save(struct resp_session *s, const struct resp_args *a, struct outq *out)
{
    (void)a;
    if (admin_refused(s, "SAVE", out))
        return PROTO_OK;
    return snapshot(s, PROTO_WAIT_SNAPSHOT, out);
}

/* BGSAVE [SCHEDULE]: SCHEDULE only matters when another save is running, which cairn answers the same
 * way (Background save already in progress). */
enum proto_status resp_cmd_bgsave(struct resp_session *s, const struct resp_args *a, struct outq *out)
{
    if (a->argc > 1 && !(a->argc == 2 && resp_arg_is(a, 1, "schedule"))) {
        resp_error(s, out, RESP_E_SYNTAX);
        return PROTO_OK;
    }
    if (admin_refused(s, "BGSAVE", out))
        return PROTO_OK;
    return snapshot(s, PROTO_WAIT_SNAPSHOT_BG, out);
}

/* SHUTDOWN [NOSAVE|SAVE] [NOW] [FORCE] [ABORT], parsed as Redis 7.0 parses it. The server stops as it
 * stops for memcached's shutdown (saving a snapshot when --snapshot-on-shutdown says so); NOSAVE and
 * SAVE do not change that. No reply: the connection closes, as Redis's does. */
enum proto_status resp_cmd_shutdown(struct resp_session *s, const struct resp_args *a, struct outq *out)
{
    bool nosave = false, save = false, abort = false, other = false;
    for (size_t i = 1; i < a->argc; i++) {
        if (resp_arg_is(a, i, "nosave"))
            nosave = true;
        else if (resp_arg_is(a, i, "save"))
            save = true;
        else if (resp_arg_is(a, i, "now") || resp_arg_is(a, i, "force"))
            other = true;
        else if (resp_arg_is(a, i, "abort"))
            abort = true;
        else {
            resp_error(s, out, RESP_E_SYNTAX);
            return PROTO_OK;
        }
    }
    if ((abort && (nosave || save || other)) || (nosave && save)) {
        resp_error(s, out, RESP_E_SYNTAX);
        return PROTO_OK;
    }
    if (admin_refused(s, "SHUTDOWN", out))
        return PROTO_OK;
    if (!s->ctx->enable_shutdown) {
        resp_error(s, out, "ERR SHUTDOWN is not enabled (start the server with -A, --enable-shutdown)");
        return PROTO_OK;
    }
    if (abort) {
        resp_error(s, out, "ERR No shutdown in progress.");
        return PROTO_OK;
    }
    return PROTO_SHUTDOWN;
}

/* DEBUG: refused as Redis 7.0 refuses it with enable-debug-command at its default (no). */
enum proto_status resp_cmd_debug(struct resp_session *s, const struct resp_args *a, struct outq *out)
{
    (void)a;
    resp_error(s, out, RESP_E_DEBUG); /* not reached from dispatch: RESP_CMD_PROTECTED refuses it first */
    return PROTO_OK;
}

/* ---- ACL ---- */

/* ACL WHOAMI: the user the connection is authenticated as (Redis's only ACL subcommand here: the
 * users come from the credentials file, not from ACL SETUSER). */
static enum proto_status acl_whoami(struct resp_session *s, const struct resp_args *a, struct outq *out)
{
    char user[AUTH_NAME_MAX + 1];
    (void)a;
    resp_add_bulk(out, user, resp_user_name(s, user, sizeof(user)));
    return PROTO_OK;
}

/* ---- the subcommand tables (sorted by name; see resp_cmd_lookup_in) ---- */

#define SUB(n, ar, fl, fn)                                                                                   \
    {                                                                                                        \
        n, ar, fl, 0, 0, 0, fn, NULL, 0, 0                                                                   \
    }
#define KSUB(n, ar, fl, fn)                                                                                  \
    {                                                                                                        \
        n, ar, fl, 2, 2, 1, fn, NULL, 0, 0                                                                   \
    }

const struct resp_cmd resp_client_subs[] = {
    SUB("getname", 2, RESP_CMD_NOSCRIPT, client_getname),
    SUB("help", 2, 0, client_help),
    SUB("id", 2, RESP_CMD_NOSCRIPT, client_id),
    SUB("info", 2, RESP_CMD_NOSCRIPT, client_info),
    SUB("list", -2, RESP_CMD_NOSCRIPT, client_list),
    SUB("no-evict", 3, RESP_CMD_NOSCRIPT, client_no_evict),
    SUB("no-touch", 3, RESP_CMD_NOSCRIPT, client_no_touch),
    SUB("reply", 3, RESP_CMD_NOSCRIPT, client_reply),
    SUB("setinfo", 4, RESP_CMD_NOSCRIPT, client_setinfo),
    SUB("setname", 3, RESP_CMD_NOSCRIPT, client_setname),
};
const size_t resp_client_nsubs = sizeof(resp_client_subs) / sizeof(resp_client_subs[0]);

const struct resp_cmd resp_config_subs[] = {
    SUB("get", -3, RESP_CMD_NOSCRIPT, config_get),
    SUB("help", 2, 0, config_help),
    SUB("resetstat", 2, RESP_CMD_ADMIN | RESP_CMD_NOSCRIPT, config_resetstat),
    SUB("rewrite", 2, RESP_CMD_ADMIN | RESP_CMD_NOSCRIPT, config_rewrite),
    SUB("set", -4, RESP_CMD_ADMIN | RESP_CMD_NOSCRIPT, config_set),
};
const size_t resp_config_nsubs = sizeof(resp_config_subs) / sizeof(resp_config_subs[0]);

const struct resp_cmd resp_command_subs[] = {
    SUB("count", 2, 0, resp_cmd_command_count),      SUB("docs", -2, 0, resp_cmd_command_docs),
    SUB("getkeys", -4, 0, resp_cmd_command_getkeys), SUB("help", 2, 0, resp_cmd_command_help),
    SUB("info", -2, 0, resp_cmd_command_info),       SUB("list", -2, 0, resp_cmd_command_list),
};
const size_t resp_command_nsubs = sizeof(resp_command_subs) / sizeof(resp_command_subs[0]);

const struct resp_cmd resp_object_subs[] = {
    KSUB("encoding", 3, 0, object_encoding), KSUB("freq", 3, 0, object_freq),
    SUB("help", 2, 0, object_help),          KSUB("idletime", 3, 0, object_idletime),
    KSUB("refcount", 3, 0, object_refcount),
};
const size_t resp_object_nsubs = sizeof(resp_object_subs) / sizeof(resp_object_subs[0]);

const struct resp_cmd resp_memory_subs[] = {
    SUB("help", 2, 0, memory_help),
    KSUB("usage", -3, 0, memory_usage),
};
const size_t resp_memory_nsubs = sizeof(resp_memory_subs) / sizeof(resp_memory_subs[0]);

const struct resp_cmd resp_acl_subs[] = {
    SUB("whoami", 2, RESP_CMD_NOSCRIPT, acl_whoami),
};
const size_t resp_acl_nsubs = sizeof(resp_acl_subs) / sizeof(resp_acl_subs[0]);
