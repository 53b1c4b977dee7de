/*
 * resp_cluster.c: the static cluster topology and key slots (see resp_cluster.h).
 */
#include "config.h"

#include "protocol/resp/resp_cluster.h"

#include <ctype.h>
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "protocol/auth.h"

/* ---- key slots ---- */

/* CRC16 as Redis Cluster uses it: XMODEM (polynomial 0x1021, initial value 0), bit by bit. */
static uint16_t crc16(const char *p, size_t len)
{
    uint16_t crc = 0;
    for (size_t i = 0; i < len; i++) {
        crc ^= (uint16_t)((uint16_t)(unsigned char)p[i] << 8);
        for (int b = 0; b < 8; b++)
            crc = (uint16_t)(crc & 0x8000 ? (crc << 1) ^ 0x1021 : crc << 1);
    }
    return crc;
}

/* See resp_cluster.h. */
unsigned resp_cluster_keyslot(const char *key, size_t len)
{
    const char *open = len ? memchr(key, '{', len) : NULL;
    if (open != NULL) {
        size_t start = (size_t)(open - key) + 1;
        const char *close = memchr(key + start, '}', len - start);
        if (close != NULL && close > key + start)
            return crc16(key + start, (size_t)(close - key - start)) & (RESP_CLUSTER_SLOTS - 1);
    }
    return crc16(key, len) & (RESP_CLUSTER_SLOTS - 1);
}

/* ---- the file ---- */

static void fail(char *err, size_t errlen, unsigned line, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));

static void fail(char *err, size_t errlen, unsigned line, const char *fmt, ...)
{
    va_list ap;
    int n = snprintf(err, errlen, "line %u: ", line);
    if (n < 0 || (size_t)n >= errlen)
        return;
    va_start(ap, fmt);
    vsnprintf(err + n, errlen - (size_t)n, fmt, ap);
    va_end(ap);
}

static bool is_hex40(const char *w, size_t n)
{
    if (n != 40)
        return false;
    for (size_t i = 0; i < n; i++)
        if (!isxdigit((unsigned char)w[i]))
            return false;
    return true;
}

/* The node id of a name: itself (lowercased) when it is 40 hex digits, else hex of a SHA-256 prefix. */
static void name_to_id(const char *w, size_t n, char id[41])
{
    static const char hex[] = "0123456789abcdef";
    if (is_hex40(w, n)) {
        for (size_t i = 0; i < 40; i++)
            id[i] = (char)tolower((unsigned char)w[i]);
    } else {
        uint8_t d[32];
        auth_sha256(w, n, d);
        for (size_t i = 0; i < 20; i++) {
            id[2 * i] = hex[d[i] >> 4];
            id[2 * i + 1] = hex[d[i] & 15];
        }
    }
    id[40] = '\0';
}

/* Parses a decimal number in [0, max]; false otherwise. */
static bool parse_num(const char *w, size_t n, long max, long *v)
{
    long x = 0;
    if (n == 0 || n > 6)
        return false;
    for (size_t i = 0; i < n; i++) {
        if (w[i] < '0' || w[i] > '9')
            return false;
        x = x * 10 + (w[i] - '0');
    }
    if (x > max)
        return false;
    *v = x;
    return true;
}

/* "<ip>:<port>" (the last colon separates, so IPv6 addresses may be written bare or in brackets, which
 * are dropped: Redis shows the bare address). */
static bool parse_addr(const char *w, size_t n, struct resp_cluster_node *node)
{
    const char *colon = NULL;
    long port;
    for (size_t i = 0; i < n; i++)
        if (w[i] == ':')
            colon = w + i;
    if (colon == NULL || colon == w || (size_t)(colon - w) > RESP_CLUSTER_IP_MAX)
        return false;
    if (!parse_num(colon + 1, (size_t)(w + n - colon - 1), 65535, &port) || port == 0)
        return false;
    size_t n_ip = (size_t)(colon - w);
    if (n_ip > 2 && w[0] == '[' && w[n_ip - 1] == ']') {
        w++;
        n_ip -= 2;
    }
    memcpy(node->ip, w, n_ip);
    node->ip[n_ip] = '\0';
    node->port = (int)port;
    return true;
}

/* "first-last" or "slot". */
static bool parse_range(const char *w, size_t n, long *lo, long *hi)
{
    const char *dash = memchr(w, '-', n);
    if (dash == NULL) {
        if (!parse_num(w, n, RESP_CLUSTER_SLOTS - 1, lo))
            return false;
        *hi = *lo;
        return true;
    }
    return parse_num(w, (size_t)(dash - w), RESP_CLUSTER_SLOTS - 1, lo) &&
           parse_num(dash + 1, (size_t)(w + n - dash - 1), RESP_CLUSTER_SLOTS - 1, hi) && *lo <= *hi;
}

/* The next word of p[0..len) from *i on; false when there is none. */
static bool next_word(const char *p, size_t len, size_t *i, const char **w, size_t *wl)
{
    while (*i < len && (p[*i] == ' ' || p[*i] == '\t' || p[*i] == '\r'))
        (*i)++;
    if (*i >= len)
        return false;
    *w = p + *i;
    while (*i < len && p[*i] != ' ' && p[*i] != '\t' && p[*i] != '\r')
        (*i)++;
    *wl = (size_t)(p + *i - *w);
    return true;
}

/* Gives the slots lo..hi to node idx; false with err set when one is taken. */
static bool assign(struct resp_cluster *c, long lo, long hi, size_t idx, unsigned lineno, char *err,
                   size_t errlen)
{
    for (long s = lo; s <= hi; s++) {
        if (c->owner[s] >= 0) {
            fail(err, errlen, lineno, "slot %ld is already assigned", s);
            return false;
        }
        c->owner[s] = (int16_t)idx;
        c->assigned++;
    }
    return true;
}

/* Parses one node line into c (already sized); false with err set. */
static bool parse_line(struct resp_cluster *c, const char *p, size_t len, unsigned lineno, bool *myself,
                       char *err, size_t errlen)
{
    size_t i = 0, idx = c->nnodes, nl, al, wl;
    const char *name, *addr, *w;
    struct resp_cluster_node *node = &c->nodes[idx];

    if (!next_word(p, len, &i, &name, &nl) || !next_word(p, len, &i, &addr, &al)) {
        fail(err, errlen, lineno, "expected <name> <ip>:<port> [myself] <slot-range>...");
        return false;
    }
    name_to_id(name, nl, node->id);
    for (size_t k = 0; k < idx; k++)
        if (strcmp(c->nodes[k].id, node->id) == 0) {
            fail(err, errlen, lineno, "node '%.*s' appears twice", (int)nl, name);
            return false;
        }
    if (!parse_addr(addr, al, node)) {
        fail(err, errlen, lineno, "bad address '%.*s' (expected <ip>:<port>)", (int)al, addr);
        return false;
    }
    *myself = false;
    while (next_word(p, len, &i, &w, &wl)) {
        long lo, hi;
        if (wl == 6 && memcmp(w, "myself", 6) == 0) {
            *myself = true;
            continue;
        }
        if (!parse_range(w, wl, &lo, &hi)) {
            fail(err, errlen, lineno, "bad slot range '%.*s' (expected 0-16383 or first-last)", (int)wl, w);
            return false;
        }
        if (!assign(c, lo, hi, idx, lineno, err, errlen))
            return false;
    }
    c->nnodes++;
    return true;
}

static struct resp_cluster *cluster_alloc(size_t nodes)
{
    struct resp_cluster *c = calloc(1, sizeof(*c));
    if (c == NULL)
        return NULL;
    c->nodes = calloc(nodes ? nodes : 1, sizeof(*c->nodes));
    if (c->nodes == NULL) {
        free(c);
        return NULL;
    }
    for (size_t i = 0; i < RESP_CLUSTER_SLOTS; i++)
        c->owner[i] = -1;
    return c;
}

/* Picks this node's line: the one marked myself, else the one with our port. */
static bool pick_self(struct resp_cluster *c, long marked, int own_port, char *err, size_t errlen)
{
    if (marked >= 0) {
        c->self = (size_t)marked;
        return true;
    }
    for (size_t i = 0; i < c->nnodes; i++)
        if (c->nodes[i].port == own_port) {
            c->self = i;
            return true;
        }
    snprintf(err, errlen, "no line is marked myself and none has this node's port %d", own_port);
    return false;
}

/* See resp_cluster.h. */
struct resp_cluster *resp_cluster_parse(const char *text, size_t len, int own_port, char *err, size_t errlen)
{
    size_t lines = 1;
    unsigned lineno = 0;
    long marked = -1;
    struct resp_cluster *c;

    for (size_t i = 0; i < len; i++)
        lines += text[i] == '\n';
    if (lines > INT16_MAX) {
        snprintf(err, errlen, "too many lines");
        return NULL;
    }
    c = cluster_alloc(lines);
    if (c == NULL) {
        snprintf(err, errlen, "out of memory");
        return NULL;
    }
    for (size_t pos = 0; pos < len;) {
        const char *nl = memchr(text + pos, '\n', len - pos);
        size_t end = nl != NULL ? (size_t)(nl - text) : len, n = end - pos;
        const char *hash = memchr(text + pos, '#', n);
        const char *w;
        size_t wl, i = 0;
        bool myself;
        lineno++;
        if (hash != NULL)
            n = (size_t)(hash - (text + pos));
        if (next_word(text + pos, n, &i, &w, &wl)) {
            if (!parse_line(c, text + pos, n, lineno, &myself, err, errlen))
                goto bad;
            if (myself && marked >= 0) {
                fail(err, errlen, lineno, "a second line marked myself");
                goto bad;
            }
            if (myself)
                marked = (long)c->nnodes - 1;
        }
        pos = end + 1;
    }
    if (c->nnodes == 0) {
        snprintf(err, errlen, "no nodes");
        goto bad;
    }
    if (!pick_self(c, marked, own_port, err, errlen))
        goto bad;
    return c;
bad:
    resp_cluster_free(&c);
    return NULL;
}

/* See resp_cluster.h. */
struct resp_cluster *resp_cluster_load(const char *path, int own_port, char *err, size_t errlen)
{
    FILE *f = fopen(path, "r");
    char *buf = NULL, why[256];
    size_t len = 0, cap = 0;
    struct resp_cluster *c;

    if (f == NULL) {
        snprintf(err, errlen, "%s: %s", path, strerror(errno));
        return NULL;
    }
    for (;;) {
        if (len == cap) {
            char *nb = cap < (1u << 24) ? realloc(buf, cap ? cap * 2 : 4096) : NULL;
            if (nb == NULL) {
                free(buf);
                fclose(f);
                snprintf(err, errlen, "%s: too large or out of memory", path);
                return NULL;
            }
            buf = nb;
            cap = cap ? cap * 2 : 4096;
        }
        size_t got = fread(buf + len, 1, cap - len, f);
        len += got;
        if (got == 0)
            break;
    }
    fclose(f);
    c = resp_cluster_parse(buf, len, own_port, why, sizeof(why));
    free(buf);
    if (c == NULL)
        snprintf(err, errlen, "%s: %s", path, why);
    return c;
}

/* See resp_cluster.h. */
struct resp_cluster *resp_cluster_single(const char *ip, int port)
{
    struct resp_cluster *c = cluster_alloc(1);
    char name[96];
    if (c == NULL)
        return NULL;
    snprintf(c->nodes[0].ip, sizeof(c->nodes[0].ip), "%s", ip);
    c->nodes[0].port = port;
    snprintf(name, sizeof(name), "%s:%d", ip, port);
    name_to_id(name, strlen(name), c->nodes[0].id);
    c->nnodes = 1;
    for (size_t i = 0; i < RESP_CLUSTER_SLOTS; i++)
        c->owner[i] = 0;
    c->assigned = RESP_CLUSTER_SLOTS;
    return c;
}

/* See resp_cluster.h. */
void resp_cluster_free(struct resp_cluster **cp)
{
    struct resp_cluster *c = *cp;
    while (c != NULL) {
        struct resp_cluster *next = c->retired;
        free(c->nodes);
        free(c);
        c = next;
    }
    *cp = NULL;
}

/* See resp_cluster.h. */
struct resp_cluster *resp_cluster_swap(struct resp_cluster_ref *r, struct resp_cluster *c)
{
    struct resp_cluster *old = __atomic_load_n(&r->cur, __ATOMIC_RELAXED);
    __atomic_store_n(&r->cur, c, __ATOMIC_RELEASE);
    return old;
}

/* ---- routing ---- */

/* See resp_cluster.h. */
enum resp_cluster_route resp_cluster_route_keys(const struct resp_cluster *c, size_t argc,
                                                const char *const *argv, const size_t *argl, int first,
                                                int last, int step, int *slot,
                                                const struct resp_cluster_node **node)
{
    long end = last < 0 ? (long)argc + last : last;
    int found = -1;

    if (first <= 0 || step <= 0)
        return RESP_CLUSTER_HERE;
    if (end >= (long)argc)
        end = (long)argc - 1;
    for (long i = first; i <= end; i += step) {
        int s = (int)resp_cluster_keyslot(argv[i] != NULL ? argv[i] : "", argv[i] != NULL ? argl[i] : 0);
        if (found >= 0 && s != found)
            return RESP_CLUSTER_CROSSSLOT;
        found = s;
    }
    if (found < 0)
        return RESP_CLUSTER_HERE;
    *slot = found;
    if (c->owner[found] < 0)
        return RESP_CLUSTER_DOWN;
    if ((size_t)c->owner[found] == c->self)
        return RESP_CLUSTER_HERE;
    *node = &c->nodes[c->owner[found]];
    return RESP_CLUSTER_MOVED;
}
