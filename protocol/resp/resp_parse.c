/*
 * resp_parse.c: the RESP request parser (see resp_parse.h for the rules and the ownership model).
 *
 * The parser is driven one state at a time over the caller's chunk. Lines (count lines, inline
 * requests) are scanned in place when they lie wholly in the chunk and copied into the line buffer
 * only when a chunk ends inside one. Bulk payloads that lie wholly in the chunk are returned in place;
 * one that spans chunks is copied into the arena (or the caller's destination). When a call ends
 * without a command, the arguments still pointing into the chunk are copied into the arena first, so
 * the caller may drop its bytes.
 *
 * The arena always ends with the payload being received (if any), so a payload grows by appending.
 * Slots hold arena offsets, not pointers, because the arena may move when it grows.
 */
#include "config.h"

#include "protocol/resp/resp_parse.h"

#include <limits.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* A line must end within this many bytes (Redis errors once more than 64 KiB are buffered). */
#define RESP_LINE_LIMIT ((size_t)RESP_INLINE_MAX_SIZE + 1)
/* Redis's string2ll refuses strings of LONG_STR_SIZE (21) characters or more. */
#define RESP_NUM_MAX 20
/* Buffers above these sizes are freed when a new request starts; smaller ones are reused. */
#define RESP_ARENA_KEEP (64 * 1024)
#define RESP_SLOTS_KEEP 1024
#define RESP_SLOTS_MIN  8

enum resp_state {
    RESP_ST_START,       /* at a request boundary */
    RESP_ST_INLINE,      /* reading an inline line */
    RESP_ST_MBULK_COUNT, /* reading "*<n>\r?" */
    RESP_ST_BULK_COUNT,  /* reading "$<len>\r?" */
    RESP_ST_BULK_DATA,   /* reading a payload */
    RESP_ST_BULK_TAIL,   /* skipping the two bytes after a payload */
    RESP_ST_FAILED       /* sticky error */
};

enum resp_slot_kind {
    RESP_SLOT_CHUNK, /* ptr points into the caller's current chunk */
    RESP_SLOT_ARENA, /* off is an arena offset */
    RESP_SLOT_DEST,  /* ptr is a destination the caller gave */
    RESP_SLOT_SKIP   /* the caller asked for the payload to be dropped (resp_parser_bulk_skip) */
};

struct resp_slot {
    enum resp_slot_kind kind;
    const char *ptr;
    size_t off;
    size_t len;
};

enum resp_line_status { RESP_LINE_DONE, RESP_LINE_MORE, RESP_LINE_TOO_BIG, RESP_LINE_NOMEM };

struct resp_parser {
    struct resp_parser_options opt;
    enum resp_state state;
    enum resp_parse_status fail_status; /* RESP_ST_FAILED: the status to repeat */
    const char *fail_text;

    /* the line being read */
    char *line;      /* saved part of a line cut by the end of a chunk */
    size_t line_len; /* bytes saved in line */
    size_t line_cap;
    size_t line_seen;   /* bytes of this line examined so far (for the 64 KiB rule) */
    bool line_poisoned; /* a NUL came before the line end: it can never end */
    bool line_term;     /* count line: '\r' seen, waiting for the byte after it */

    /* the multibulk request being read */
    size_t argc_declared;
    size_t nslots; /* complete arguments */
    size_t slots_cap;
    struct resp_slot *slots; /* slots[nslots] is the argument being read */
    const char **argv;
    size_t *argl;
    size_t bulk_len;  /* payload being read */
    size_t bulk_have; /* payload bytes received */
    size_t tail_have; /* bytes skipped after the payload */

    char *arena;
    size_t arena_len;
    size_t arena_cap;

    bool emitted; /* the last call returned a command: reset at the next call */
    uint64_t empty; /* empty requests ("*0", "*-1", a blank inline line) passed over so far */
    char err_buf[64];
};

void resp_parser_options_default(struct resp_parser_options *o)
{
    o->max_bulk_len = RESP_DEFAULT_MAX_BULK_LEN;
    o->max_multibulk_len = RESP_DEFAULT_MAX_MULTIBULK_LEN;
    o->max_buffered = RESP_DEFAULT_MAX_BUFFERED;
}

struct resp_parser *resp_parser_create(const struct resp_parser_options *o)
{
    struct resp_parser_options def;
    if (o == NULL) {
        resp_parser_options_default(&def);
        o = &def;
    }
    if (o->max_bulk_len < 0 || o->max_multibulk_len < 0 || o->max_buffered == 0)
        return NULL;
    struct resp_parser *p = calloc(1, sizeof(*p));
    if (p == NULL)
        return NULL;
    p->opt = *o;
    p->state = RESP_ST_START;
    return p;
}

void resp_parser_destroy(struct resp_parser **pp)
{
    if (pp == NULL || *pp == NULL)
        return;
    struct resp_parser *p = *pp;
    free(p->line);
    free(p->slots);
    free(p->argv);
    free(p->argl);
    free(p->arena);
    free(p);
    *pp = NULL;
}

static enum resp_parse_status resp_fail(struct resp_parser *p, enum resp_parse_status st, const char *text)
{
    p->state = RESP_ST_FAILED;
    p->fail_status = st;
    p->fail_text = text;
    return st;
}

/* Bytes held for the current request, counted against max_buffered. */
static size_t resp_held(size_t arena_need, size_t slots_cap)
{
    return arena_need + slots_cap * (sizeof(struct resp_slot) + sizeof(char *) + sizeof(size_t));
}

/* Makes room for extra more arena bytes, growing by doubling but never past arena_len + most. */
static enum resp_parse_status resp_arena_reserve(struct resp_parser *p, size_t extra, size_t most)
{
    size_t need = p->arena_len + extra;
    if (need <= p->arena_cap)
        return RESP_PARSE_OK;
    if (resp_held(need, p->slots_cap) > p->opt.max_buffered)
        return resp_fail(p, RESP_PARSE_NOMEM, RESP_NOMEM_LIMIT);
    size_t cap = p->arena_cap < 256 ? 256 : p->arena_cap * 2;
    size_t top = p->arena_len + (most > extra ? most : extra);
    if (cap > top)
        cap = top;
    if (cap < need)
        cap = need;
    if (resp_held(cap, p->slots_cap) > p->opt.max_buffered)
        cap = need;
    char *a = realloc(p->arena, cap);
    if (a == NULL)
        return resp_fail(p, RESP_PARSE_NOMEM, RESP_NOMEM_ALLOC);
    p->arena = a;
    p->arena_cap = cap;
    return RESP_PARSE_OK;
}

/* Makes room for slot index nslots (the argument about to be read), doubling up to the declared
 * count. */
static enum resp_parse_status resp_slots_reserve(struct resp_parser *p, size_t want)
{
    if (want <= p->slots_cap)
        return RESP_PARSE_OK;
    size_t cap = p->slots_cap < RESP_SLOTS_MIN ? RESP_SLOTS_MIN : p->slots_cap * 2;
    if (cap < want)
        cap = want;
    if (p->argc_declared > 0 && cap > p->argc_declared && want <= p->argc_declared)
        cap = p->argc_declared;
    if (cap > SIZE_MAX / sizeof(struct resp_slot) || resp_held(p->arena_len, cap) > p->opt.max_buffered)
        return resp_fail(p, RESP_PARSE_NOMEM, RESP_NOMEM_LIMIT);
    struct resp_slot *s = realloc(p->slots, cap * sizeof(*s));
    if (s == NULL)
        return resp_fail(p, RESP_PARSE_NOMEM, RESP_NOMEM_ALLOC);
    p->slots = s;
    const char **v = realloc(p->argv, cap * sizeof(*v));
    if (v == NULL)
        return resp_fail(p, RESP_PARSE_NOMEM, RESP_NOMEM_ALLOC);
    p->argv = v;
    size_t *l = realloc(p->argl, cap * sizeof(*l));
    if (l == NULL)
        return resp_fail(p, RESP_PARSE_NOMEM, RESP_NOMEM_ALLOC);
    p->argl = l;
    p->slots_cap = cap;
    return RESP_PARSE_OK;
}

/* Appends n bytes to the line buffer (never more than RESP_LINE_LIMIT in all). */
static bool resp_line_save(struct resp_parser *p, const char *s, size_t n)
{
    if (n == 0)
        return true;
    if (p->line_len + n > p->line_cap) {
        size_t cap = p->line_cap < 128 ? 128 : p->line_cap * 2;
        while (cap < p->line_len + n)
            cap *= 2;
        if (cap > RESP_LINE_LIMIT)
            cap = RESP_LINE_LIMIT;
        char *l = realloc(p->line, cap);
        if (l == NULL)
            return false;
        p->line = l;
        p->line_cap = cap;
    }
    memcpy(p->line + p->line_len, s, n);
    p->line_len += n;
    return true;
}

static void resp_line_reset(struct resp_parser *p)
{
    p->line_len = 0;
    p->line_seen = 0;
    p->line_poisoned = false;
    p->line_term = false;
}

/*
 * Reads the current line from buf[*pos..len). term is '\n' (inline: the line ends there) or '\r' (count
 * line: the line ends one byte later, whatever that byte is). On RESP_LINE_DONE, *s and *n give the line
 * without its terminator (in buf or in the line buffer) and *pos is past it. On RESP_LINE_MORE the rest
 * of the chunk was taken. The hard case is the 64 KiB rule: Redis looks for the terminator with strchr
 * (stopping at a NUL) and fails once more than RESP_INLINE_MAX_SIZE bytes are buffered without one, so
 * the terminator must be among the first RESP_LINE_LIMIT bytes and no NUL may precede it; every byte
 * read after a NUL still counts towards the limit.
 */
static enum resp_line_status resp_take_line(struct resp_parser *p, const char *buf, size_t len, size_t *pos,
                                            char term, const char **s, size_t *n)
{
    size_t start = *pos, avail = len - start;
    if (p->line_term) {
        /* count line: '\r' already seen, the next byte completes it */
        if (avail == 0)
            return RESP_LINE_MORE;
        *pos = start + 1;
        *s = p->line;
        *n = p->line_len;
        return RESP_LINE_DONE;
    }
    size_t scan = RESP_LINE_LIMIT - p->line_seen;
    if (scan > avail)
        scan = avail;
    const char *region = buf + start;
    if (!p->line_poisoned) {
        const char *t = memchr(region, term, scan);
        size_t k = t != NULL ? (size_t)(t - region) : scan;
        if (memchr(region, '\0', k) != NULL) {
            p->line_poisoned = true;
        } else if (t != NULL) {
            size_t after = term == '\r' ? 2 : 1;
            bool whole = k + after <= avail;
            if (p->line_len == 0 && p->line_seen == 0 && whole) {
                *s = region;
                *n = k;
                *pos = start + k + after;
                return RESP_LINE_DONE;
            }
            if (!resp_line_save(p, region, k))
                return RESP_LINE_NOMEM;
            if (!whole) {
                /* only a count line can get here: its '\r' is the chunk's last byte */
                p->line_term = true;
                p->line_seen += k + 1;
                *pos = len;
                return RESP_LINE_MORE;
            }
            *s = p->line;
            *n = p->line_len;
            *pos = start + k + after;
            return RESP_LINE_DONE;
        } else if (!resp_line_save(p, region, scan)) {
            return RESP_LINE_NOMEM;
        }
    }
    p->line_seen += scan;
    *pos = start + scan;
    if (p->line_seen >= RESP_LINE_LIMIT)
        return RESP_LINE_TOO_BIG;
    return RESP_LINE_MORE;
}

/* Redis's string2ll: optional '-', then "0" alone or a digit 1-9 followed by digits, fewer than 21
 * characters, within long long. */
static bool resp_string2ll(const char *s, size_t n, long long *out)
{
    if (n == 0 || n > RESP_NUM_MAX)
        return false;
    if (n == 1 && s[0] == '0') {
        *out = 0;
        return true;
    }
    size_t i = 0;
    bool neg = false;
    if (s[0] == '-') {
        neg = true;
        i++;
        if (i == n)
            return false;
    }
    if (s[i] < '1' || s[i] > '9')
        return false;
    unsigned long long v = 0;
    for (; i < n; i++) {
        if (s[i] < '0' || s[i] > '9')
            return false;
        unsigned d = (unsigned)(s[i] - '0');
        if (v > (ULLONG_MAX - d) / 10)
            return false;
        v = v * 10 + d;
    }
    if (neg) {
        if (v > (unsigned long long)LLONG_MAX + 1)
            return false;
        *out = v == (unsigned long long)LLONG_MAX + 1 ? LLONG_MIN : -(long long)v;
    } else {
        if (v > (unsigned long long)LLONG_MAX)
            return false;
        *out = (long long)v;
    }
    return true;
}

/* isspace() in the C locale, as sdssplitargs uses it. */
static inline bool resp_isspace(char c)
{
    return c == ' ' || c == '\t' || c == '\n' || c == '\v' || c == '\f' || c == '\r';
}

static inline bool resp_ishex(char c)
{
    return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'f') || (c >= 'A' && c <= 'F');
}

static inline int resp_hexval(char c)
{
    if (c >= '0' && c <= '9')
        return c - '0';
    if (c >= 'a' && c <= 'f')
        return c - 'a' + 10;
    return c - 'A' + 10;
}

/*
 * Splits an inline line into arena arguments the way sdssplitargs does. The line holds no NUL (a NUL
 * stops the line search), so the end of the line plays the part of sdssplitargs's terminating NUL:
 * at(i) is 0 past the end. Returns OK, ERROR (unbalanced quotes) or NOMEM.
 */
static enum resp_parse_status resp_split_inline(struct resp_parser *p, const char *s, size_t n)
{
    /* never true (a NUL hides the line end), but sdssplitargs would stop there too */
    const char *z = n > 0 ? memchr(s, '\0', n) : NULL;
    if (z != NULL)
        n = (size_t)(z - s);
    enum resp_parse_status st = resp_arena_reserve(p, n, n);
    if (st != RESP_PARSE_OK)
        return st;
#define AT(i) ((i) < n ? s[(i)] : '\0')
    size_t i = 0;
    for (;;) {
        while (i < n && resp_isspace(s[i]))
            i++;
        if (i == n)
            break;
        if ((st = resp_slots_reserve(p, p->nslots + 1)) != RESP_PARSE_OK)
            return st;
        char *w = p->arena + p->arena_len;
        size_t wl = 0;
        bool inq = false, insq = false, done = false;
        while (!done) {
            char c = AT(i);
            if (inq) {
                if (c == '\\' && AT(i + 1) == 'x' && resp_ishex(AT(i + 2)) && resp_ishex(AT(i + 3))) {
                    w[wl++] = (char)(resp_hexval(AT(i + 2)) * 16 + resp_hexval(AT(i + 3)));
                    i += 3;
                } else if (c == '\\' && AT(i + 1) != '\0') {
                    i++;
                    switch (s[i]) {
                    case 'n':
                        w[wl++] = '\n';
                        break;
                    case 'r':
                        w[wl++] = '\r';
                        break;
                    case 't':
                        w[wl++] = '\t';
                        break;
                    case 'b':
                        w[wl++] = '\b';
                        break;
                    case 'a':
                        w[wl++] = '\a';
                        break;
                    default:
                        w[wl++] = s[i];
                        break;
                    }
                } else if (c == '"') {
                    if (AT(i + 1) != '\0' && !resp_isspace(AT(i + 1)))
                        return RESP_PARSE_ERROR;
                    done = true;
                } else if (c == '\0') {
                    return RESP_PARSE_ERROR;
                } else {
                    w[wl++] = c;
                }
            } else if (insq) {
                if (c == '\\' && AT(i + 1) == '\'') {
                    i++;
                    w[wl++] = '\'';
                } else if (c == '\'') {
                    if (AT(i + 1) != '\0' && !resp_isspace(AT(i + 1)))
                        return RESP_PARSE_ERROR;
                    done = true;
                } else if (c == '\0') {
                    return RESP_PARSE_ERROR;
                } else {
                    w[wl++] = c;
                }
            } else {
                switch (c) {
                case ' ':
                case '\n':
                case '\r':
                case '\t':
                case '\0':
                    done = true;
                    break;
                case '"':
                    inq = true;
                    break;
                case '\'':
                    insq = true;
                    break;
                default:
                    w[wl++] = c;
                    break;
                }
            }
            if (AT(i) != '\0')
                i++;
        }
        p->slots[p->nslots] = (struct resp_slot){RESP_SLOT_ARENA, NULL, p->arena_len, wl};
        p->nslots++;
        p->arena_len += wl;
    }
#undef AT
    return RESP_PARSE_OK;
}

/* Copies the complete arguments still in the caller's chunk into the arena. */
static enum resp_parse_status resp_own_chunk_args(struct resp_parser *p)
{
    size_t need = 0;
    for (size_t i = 0; i < p->nslots; i++)
        if (p->slots[i].kind == RESP_SLOT_CHUNK)
            need += p->slots[i].len;
    enum resp_parse_status st = resp_arena_reserve(p, need, need);
    if (st != RESP_PARSE_OK)
        return st;
    for (size_t i = 0; i < p->nslots; i++) {
        struct resp_slot *sl = &p->slots[i];
        if (sl->kind != RESP_SLOT_CHUNK)
            continue;
        if (sl->len > 0)
            memcpy(p->arena + p->arena_len, sl->ptr, sl->len);
        *sl = (struct resp_slot){RESP_SLOT_ARENA, NULL, p->arena_len, sl->len};
        p->arena_len += sl->len;
    }
    return RESP_PARSE_OK;
}

/* Drops the previous request's arguments; frees buffers that grew large for it. */
static void resp_request_reset(struct resp_parser *p)
{
    p->nslots = 0;
    p->argc_declared = 0;
    p->arena_len = 0;
    if (p->arena_cap > RESP_ARENA_KEEP) {
        free(p->arena);
        p->arena = NULL;
        p->arena_cap = 0;
    }
    if (p->slots_cap > RESP_SLOTS_KEEP) {
        free(p->slots);
        free(p->argv);
        free(p->argl);
        p->slots = NULL;
        p->argv = NULL;
        p->argl = NULL;
        p->slots_cap = 0;
    }
}

/* Fills out with slots [0, n). */
static void resp_export(struct resp_parser *p, size_t n, bool is_inline, struct resp_args *out)
{
    for (size_t i = 0; i < n; i++) {
        const struct resp_slot *sl = &p->slots[i];
        if (sl->kind == RESP_SLOT_SKIP)
            p->argv[i] = NULL; /* dropped: only its length is known */
        else if (sl->len == 0)
            p->argv[i] = ""; /* never a null pointer, even for an empty argument */
        else
            p->argv[i] = sl->kind == RESP_SLOT_ARENA ? p->arena + sl->off : sl->ptr;
        p->argl[i] = sl->len;
    }
    out->argc = n;
    out->argv = p->argv;
    out->argl = p->argl;
    out->is_inline = is_inline;
}

/* Reads payload bytes from buf[*pos..len) for the argument in slots[nslots]. */
static enum resp_parse_status resp_take_payload(struct resp_parser *p, const char *buf, size_t len,
                                                size_t *pos)
{
    struct resp_slot *sl = &p->slots[p->nslots];
    size_t avail = len - *pos, need = p->bulk_len - p->bulk_have;
    size_t n = avail < need ? avail : need;
    if (p->bulk_have == 0 && sl->kind == RESP_SLOT_CHUNK && n == need) {
        sl->ptr = buf + *pos; /* whole payload in this chunk: no copy */
    } else if (sl->kind == RESP_SLOT_DEST) {
        memcpy((char *)sl->ptr + p->bulk_have, buf + *pos, n);
    } else if (sl->kind == RESP_SLOT_SKIP) {
        /* dropped */
    } else {
        if (sl->kind == RESP_SLOT_CHUNK) {
            /* first bytes of a payload that spans chunks: the arena must end with it */
            enum resp_parse_status st = resp_own_chunk_args(p);
            if (st != RESP_PARSE_OK)
                return st;
            sl = &p->slots[p->nslots];
            *sl = (struct resp_slot){RESP_SLOT_ARENA, NULL, p->arena_len, 0};
        }
        enum resp_parse_status st = resp_arena_reserve(p, n, need);
        if (st != RESP_PARSE_OK)
            return st;
        memcpy(p->arena + p->arena_len, buf + *pos, n);
        p->arena_len += n;
    }
    p->bulk_have += n;
    *pos += n;
    return RESP_PARSE_OK;
}

/* The payload of slots[nslots] is complete: count it and go on to its two trailing bytes. */
static void resp_payload_done(struct resp_parser *p)
{
    p->slots[p->nslots].len = p->bulk_len;
    p->nslots++;
    p->tail_have = 0;
    p->state = RESP_ST_BULK_TAIL;
}

static enum resp_parse_status resp_line_fail(struct resp_parser *p, enum resp_line_status ls, const char *big)
{
    if (ls == RESP_LINE_NOMEM)
        return resp_fail(p, RESP_PARSE_NOMEM, RESP_NOMEM_ALLOC);
    return resp_fail(p, RESP_PARSE_ERROR, big);
}

/* One step of the state machine; returns OK to go on, NEED_MORE when the chunk is used up, or a failure.
 * *cmd is set when a command is complete. */
static enum resp_parse_status resp_step(struct resp_parser *p, const char *buf, size_t len, size_t *pos,
                                        bool *cmd, bool *is_inline)
{
    const char *s;
    size_t n;
    enum resp_line_status ls;
    enum resp_parse_status st;
    long long ll;

    switch (p->state) {
    case RESP_ST_START:
        if (*pos == len)
            return RESP_PARSE_NEED_MORE;
        resp_line_reset(p);
        p->state = buf[*pos] == '*' ? RESP_ST_MBULK_COUNT : RESP_ST_INLINE;
        return RESP_PARSE_OK;

    case RESP_ST_INLINE:
        ls = resp_take_line(p, buf, len, pos, '\n', &s, &n);
        if (ls == RESP_LINE_MORE)
            return RESP_PARSE_NEED_MORE;
        if (ls != RESP_LINE_DONE)
            return resp_line_fail(p, ls, RESP_ERR_INLINE_TOO_BIG);
        if (n > 0 && s[n - 1] == '\r')
            n--;
        st = resp_split_inline(p, s, n);
        if (st == RESP_PARSE_ERROR)
            return resp_fail(p, RESP_PARSE_ERROR, RESP_ERR_UNBALANCED);
        if (st != RESP_PARSE_OK)
            return st;
        p->state = RESP_ST_START;
        if (p->nslots > 0) {
            *cmd = true;
            *is_inline = true;
        } else {
            p->empty++;
        }
        return RESP_PARSE_OK;

    case RESP_ST_MBULK_COUNT:
        ls = resp_take_line(p, buf, len, pos, '\r', &s, &n);
        if (ls == RESP_LINE_MORE)
            return RESP_PARSE_NEED_MORE;
        if (ls != RESP_LINE_DONE)
            return resp_line_fail(p, ls, RESP_ERR_MBULK_TOO_BIG);
        if (!resp_string2ll(s + 1, n - 1, &ll) || ll > p->opt.max_multibulk_len)
            return resp_fail(p, RESP_PARSE_ERROR, RESP_ERR_MBULK_LEN);
        if (ll <= 0) {
            p->state = RESP_ST_START; /* "*0", "*-1": no command */
            p->empty++;
            return RESP_PARSE_OK;
        }
        p->argc_declared = (size_t)ll;
        resp_line_reset(p);
        p->state = RESP_ST_BULK_COUNT;
        return RESP_PARSE_OK;

    case RESP_ST_BULK_COUNT:
        ls = resp_take_line(p, buf, len, pos, '\r', &s, &n);
        if (ls == RESP_LINE_MORE)
            return RESP_PARSE_NEED_MORE;
        if (ls != RESP_LINE_DONE)
            return resp_line_fail(p, ls, RESP_ERR_BULK_TOO_BIG);
        /* an empty line is "\r" followed by any byte: its first byte is the '\r' */
        if (n == 0 || s[0] != '$') {
            /* Redis formats the byte with %c and turns CR and LF into spaces */
            char c = n == 0 || s[0] == '\r' || s[0] == '\n' ? ' ' : s[0];
            snprintf(p->err_buf, sizeof(p->err_buf), RESP_ERR_EXPECTED_DOLLAR, c);
            return resp_fail(p, RESP_PARSE_ERROR, p->err_buf);
        }
        if (!resp_string2ll(s + 1, n - 1, &ll) || ll < 0 || ll > p->opt.max_bulk_len ||
            (unsigned long long)ll > SIZE_MAX - 2)
            return resp_fail(p, RESP_PARSE_ERROR, RESP_ERR_BULK_LEN);
        if ((st = resp_slots_reserve(p, p->nslots + 1)) != RESP_PARSE_OK)
            return st;
        p->slots[p->nslots] = (struct resp_slot){RESP_SLOT_CHUNK, NULL, 0, 0};
        p->bulk_len = (size_t)ll;
        p->bulk_have = 0;
        resp_line_reset(p);
        p->state = RESP_ST_BULK_DATA;
        return RESP_PARSE_OK;

    case RESP_ST_BULK_DATA:
        if (p->bulk_have < p->bulk_len) {
            if (*pos == len)
                return RESP_PARSE_NEED_MORE;
            if ((st = resp_take_payload(p, buf, len, pos)) != RESP_PARSE_OK)
                return st;
            if (p->bulk_have < p->bulk_len)
                return RESP_PARSE_NEED_MORE;
        }
        resp_payload_done(p);
        return RESP_PARSE_OK;

    case RESP_ST_BULK_TAIL:
        n = len - *pos < 2 - p->tail_have ? len - *pos : 2 - p->tail_have;
        *pos += n;
        p->tail_have += n;
        if (p->tail_have < 2)
            return RESP_PARSE_NEED_MORE;
        if (p->nslots == p->argc_declared) {
            p->state = RESP_ST_START;
            *cmd = true;
        } else {
            p->state = RESP_ST_BULK_COUNT;
        }
        return RESP_PARSE_OK;

    case RESP_ST_FAILED:
        break;
    }
    return p->fail_status;
}

enum resp_parse_status resp_parse(struct resp_parser *p, const char *buf, size_t len, size_t *consumed,
                                  struct resp_args *out, const char **err)
{
    size_t pos = 0;
    *consumed = 0;
    if (p->state == RESP_ST_FAILED) {
        *err = p->fail_text;
        return p->fail_status;
    }
    if (p->emitted) {
        p->emitted = false;
        resp_request_reset(p);
    }
    for (;;) {
        bool cmd = false, is_inline = false;
        enum resp_parse_status st = resp_step(p, buf, len, &pos, &cmd, &is_inline);
        if (st == RESP_PARSE_OK && cmd) {
            resp_export(p, p->nslots, is_inline, out);
            p->emitted = true;
            *consumed = pos;
            return RESP_PARSE_OK;
        }
        if (st == RESP_PARSE_OK) {
            if (p->state == RESP_ST_START && p->nslots == 0)
                resp_request_reset(p); /* skipped an empty request */
            continue;
        }
        if (st == RESP_PARSE_NEED_MORE) {
            st = resp_own_chunk_args(p);
            if (st == RESP_PARSE_OK) {
                *consumed = len;
                return RESP_PARSE_NEED_MORE;
            }
        }
        *consumed = pos;
        *err = p->fail_text;
        return p->fail_status;
    }
}

bool resp_parser_mid_request(const struct resp_parser *p)
{
    return p->state != RESP_ST_START && p->state != RESP_ST_FAILED;
}

bool resp_parser_pending_bulk(struct resp_parser *p, struct resp_pending_bulk *pb)
{
    if (p->state != RESP_ST_BULK_DATA || p->bulk_have >= p->bulk_len)
        return false;
    pb->index = p->nslots;
    pb->argc = p->argc_declared;
    pb->len = p->bulk_len;
    pb->have = p->bulk_have;
    resp_export(p, p->nslots, false, &pb->before);
    return true;
}

bool resp_parser_bulk_into(struct resp_parser *p, char *dst)
{
    if (p->state != RESP_ST_BULK_DATA || p->bulk_have >= p->bulk_len || dst == NULL)
        return false;
    struct resp_slot *sl = &p->slots[p->nslots];
    if (sl->kind == RESP_SLOT_DEST || sl->kind == RESP_SLOT_SKIP)
        return false;
    if (sl->kind == RESP_SLOT_ARENA) {
        /* the payload's bytes are the arena's tail */
        memcpy(dst, p->arena + sl->off, p->bulk_have);
        p->arena_len = sl->off;
    }
    *sl = (struct resp_slot){RESP_SLOT_DEST, dst, 0, 0};
    return true;
}

bool resp_parser_bulk_skip(struct resp_parser *p)
{
    if (p->state != RESP_ST_BULK_DATA || p->bulk_have >= p->bulk_len)
        return false;
    struct resp_slot *sl = &p->slots[p->nslots];
    if (sl->kind == RESP_SLOT_DEST || sl->kind == RESP_SLOT_SKIP)
        return false;
    if (sl->kind == RESP_SLOT_ARENA)
        p->arena_len = sl->off; /* the payload's bytes are the arena's tail */
    *sl = (struct resp_slot){RESP_SLOT_SKIP, NULL, 0, 0};
    return true;
}

bool resp_parser_bulk_advance(struct resp_parser *p, size_t n)
{
    if (p->state != RESP_ST_BULK_DATA || p->slots[p->nslots].kind != RESP_SLOT_DEST ||
        n > p->bulk_len - p->bulk_have)
        return false;
    p->bulk_have += n;
    if (p->bulk_have == p->bulk_len)
        resp_payload_done(p);
    return true;
}

/* See resp_parse.h. */
uint64_t resp_parser_empty_requests(const struct resp_parser *p)
{
    return p->empty;
}
