/*
 * response.c: a connection's outgoing byte queue (see response.h).
 *
 * Data structure: an array of entries in send order and one growable text buffer.
 *
 *   entries:  [TEXT off,len] [VALUE it] [TEXT off,len] ...
 *                  |                         |
 *   text:     "VALUE k 0 3\r\n"          "END\r\n"
 *
 * - A TEXT entry names a byte range of the text buffer by offset, never by pointer, because the buffer
 *   moves when it grows. Appending text right after a TEXT entry that ends at the buffer's end just
 *   extends that entry, so a run of status lines is one iovec.
 * - A VALUE entry stands for item_value(it)[0..nbytes) followed by the two bytes "\r\n" from a
 *   static string (the item stores no terminator). It holds one item reference (owns), except when a
 *   later unwritten entry of the same item took it over (resp_add_value).
 * - head is the first entry not fully written and head_off the bytes of it already written. Entries
 *   before head have had their item references released.
 *
 * Invariants: pending == bytes of all entries from head on, minus head_off. Text offsets grow with the
 * entry index. When everything is written the queue resets to empty without freeing, so the steady
 * state allocates nothing; a queue that never drains fully is compacted once its written prefix grows.
 *
 * Allocation failure while growing marks the queue failed (resp_failed): from then on appends are
 * dropped (a value's reference is released at once) and the connection must be closed, since a
 * client that missed a byte of one reply would be out of step with every later one. The process
 * never aborts for it.
 *
 * Threads: one queue is used by one thread at a time; nothing here locks.
 */
#include "config.h"

#include "protocol/response.h"

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "storage/cache.h"

enum resp_kind { RESP_TEXT = 0, RESP_VALUE };

struct resp_entry {
    enum resp_kind kind;
    bool owns;       /* VALUE: this entry holds the reference (see resp_add_value) */
    size_t off;      /* TEXT: offset into text */
    size_t len;      /* bytes on the wire (VALUE: nbytes + 2) */
    struct item *it; /* VALUE only */
};
_Static_assert(sizeof(struct resp_entry) <= 32, "an entry stays 32 bytes (resp_weight, memory bounds)");

struct resp {
    struct cache *cache;
    char *text;
    size_t text_len, text_cap;
    struct resp_entry *ents;
    size_t n_ents, cap_ents;
    size_t head, head_off;
    size_t pending;
    size_t last_value; /* index of the newest VALUE entry not yet written, or RESP_NONE */
    bool failed; /* an allocation failed: appends are dropped, the connection must close */
};

static const char resp_crlf[2] = {'\r', '\n'};

#define RESP_NONE SIZE_MAX

/* Entries written before compaction is considered, and the minimum text prefix worth moving. */
#define RESP_COMPACT_ENTS 64u
#define RESP_COMPACT_TEXT 65536u

/* Buffer sizes an idle queue keeps; larger ones are freed by resp_trim. */
#define RESP_KEEP_TEXT (256u * 1024u)
#define RESP_KEEP_ENTS 4096u

/* Grows *p to hold at least need elements; false (and *p unchanged) on no memory. */
static bool resp_grow(void **p, size_t *cap, size_t need, size_t elem, size_t min_cap)
{
    size_t c = *cap ? *cap : min_cap;
    while (c < need)
        c *= 2;
    void *np = c <= SIZE_MAX / elem ? realloc(*p, c * elem) : NULL;
    if (np == NULL)
        return false;
    *p = np;
    *cap = c;
    return true;
}

/* Makes room for n more text bytes; false once the queue has failed. */
static inline bool resp_text_reserve(struct resp *r, size_t n)
{
    if (r->failed)
        return false;
    if (r->text_len + n > r->text_cap) {
        void *p = r->text;
        if (n > SIZE_MAX / 2 - r->text_len || !resp_grow(&p, &r->text_cap, r->text_len + n, 1, 1024)) {
            r->failed = true;
            return false;
        }
        r->text = p;
    }
    return true;
}

/* A new entry at the end, or NULL once the queue has failed. */
static inline struct resp_entry *resp_new_entry(struct resp *r)
{
    if (r->failed)
        return NULL;
    if (r->n_ents == r->cap_ents) {
        void *p = r->ents;
        if (!resp_grow(&p, &r->cap_ents, r->n_ents + 1, sizeof(*r->ents), 16)) {
            r->failed = true;
            return NULL;
        }
        r->ents = p;
    }
    return &r->ents[r->n_ents++];
}

/* Records that the last n bytes of text were just appended. */
static inline void resp_text_commit(struct resp *r, size_t n)
{
    size_t off = r->text_len;
    r->text_len += n;
    r->pending += n;
    if (r->n_ents > r->head) {
        struct resp_entry *last = &r->ents[r->n_ents - 1];
        if (last->kind == RESP_TEXT && last->off + last->len == off) {
            last->len += n;
            return;
        }
    }
    struct resp_entry *e = resp_new_entry(r);
    if (e == NULL)
        return;
    e->kind = RESP_TEXT;
    e->off = off;
    e->len = n;
    e->it = NULL;
}

/* Returns an empty queue (nothing allocated until the first append), or NULL on no memory. */
struct resp *resp_create(struct cache *cache)
{
    struct resp *r = calloc(1, sizeof(*r));
    if (r == NULL)
        return NULL;
    r->cache = cache;
    r->last_value = RESP_NONE;
    return r;
}

/* Releases queued item references, frees everything and clears *rp. */
void resp_destroy(struct resp **rp)
{
    if (rp == NULL || *rp == NULL)
        return;
    struct resp *r = *rp;
    resp_clear(r);
    free(r->text);
    free(r->ents);
    free(r);
    *rp = NULL;
}

/* Copies n bytes to the end of the text buffer (extending the last text entry when adjacent). */
void resp_add(struct resp *r, const void *p, size_t n)
{
    if (n == 0 || !resp_text_reserve(r, n))
        return;
    memcpy(r->text + r->text_len, p, n);
    resp_text_commit(r, n);
}

/* Copies a NUL-terminated string. */
void resp_add_str(struct resp *r, const char *s)
{
    resp_add(r, s, strlen(s));
}

/* Formats straight into the text buffer, growing it once if the first attempt did not fit. */
void resp_printf(struct resp *r, const char *fmt, ...)
{
    va_list ap;
    if (!resp_text_reserve(r, 64))
        return;
    size_t room = r->text_cap - r->text_len;
    va_start(ap, fmt);
    int n = vsnprintf(r->text + r->text_len, room, fmt, ap);
    va_end(ap);
    if (n <= 0)
        return;
    if ((size_t)n >= room) {
        if (!resp_text_reserve(r, (size_t)n + 1))
            return;
        va_start(ap, fmt);
        vsnprintf(r->text + r->text_len, (size_t)n + 1, fmt, ap);
        va_end(ap);
    }
    resp_text_commit(r, (size_t)n);
}

/* Queues the item's value and "\r\n" by reference; the caller's reference now belongs to the queue.
 * When the newest unwritten value is the same item (`get a a a`, a pipeline of gets of one key), the
 * new entry takes over that entry's reference and the caller's is released: entries go out in
 * order, so the last entry of a run is the one that must keep the item alive, and a run of any
 * length holds one reference. A hot key read by many pipelining clients then costs one reference
 * per client, not one per queued reply. */
void resp_add_value(struct resp *r, struct item *it)
{
    struct resp_entry *e = resp_new_entry(r);
    if (e == NULL) {
        cache_item_release(r->cache, &it);
        return;
    }
    e->kind = RESP_VALUE;
    e->off = 0;
    e->len = item_nbytes(it) + 2;
    e->it = it;
    e->owns = true;
    if (r->last_value != RESP_NONE && r->ents[r->last_value].it == it) {
        r->ents[r->last_value].owns = false;
        cache_item_release(r->cache, &it);
    }
    r->last_value = (size_t)(e - r->ents);
    r->pending += e->len;
}

/* Bytes queued and not yet consumed. */
size_t resp_pending(const struct resp *r)
{
    return r->pending;
}

/* See response.h. */
size_t resp_weight(const struct resp *r)
{
    return r->pending + (r->n_ents - r->head) * sizeof(struct resp_entry);
}

/* See response.h. */
bool resp_failed(const struct resp *r)
{
    return r->failed;
}

/* Adds the iovecs of entry e starting skip bytes in; returns how many were filled (at most room). */
static int resp_entry_iov(const struct resp *r, const struct resp_entry *e, size_t skip, struct iovec *iov,
                          int room)
{
    if (e->kind == RESP_TEXT) {
        iov[0].iov_base = r->text + e->off + skip;
        iov[0].iov_len = e->len - skip;
        return 1;
    }
    size_t nbytes = e->len - 2;
    int k = 0;
    if (skip < nbytes) {
        iov[k].iov_base = item_value(e->it) + skip;
        iov[k].iov_len = nbytes - skip;
        k++;
        skip = nbytes;
        if (k == room)
            return k;
    }
    iov[k].iov_base = (void *)(resp_crlf + (skip - nbytes));
    iov[k].iov_len = 2 - (skip - nbytes);
    return k + 1;
}

/* Describes up to max iovecs from the first unwritten byte; the queue is not changed. */
int resp_iov(const struct resp *r, struct iovec *iov, int max)
{
    int n = 0;
    size_t skip = r->head_off;
    for (size_t i = r->head; i < r->n_ents && n < max; i++) {
        n += resp_entry_iov(r, &r->ents[i], skip, iov + n, max - n);
        skip = 0;
    }
    return n;
}

/* Empties the queue, keeping its buffers: a connection whose replies go out in 1 MiB rounds (a long
 * multi-get, a pipeline of large values) refills them at once, and freeing and regrowing a megabyte
 * every round costs more than the round (resp_trim gives them back once the connection is idle). */
static void resp_reset(struct resp *r)
{
    r->head = r->n_ents = r->head_off = 0;
    r->last_value = RESP_NONE;
    r->text_len = 0;
}

/* See response.h. */
void resp_trim(struct resp *r)
{
    if (r->head != r->n_ents)
        return;
    resp_reset(r);
    if (r->text_cap > RESP_KEEP_TEXT) {
        free(r->text);
        r->text = NULL;
        r->text_cap = 0;
    }
    if (r->cap_ents > RESP_KEEP_ENTS) {
        free(r->ents);
        r->ents = NULL;
        r->cap_ents = 0;
    }
}

/* Moves the unwritten entries and their text to the front of the arrays. */
static void resp_compact(struct resp *r)
{
    size_t keep = r->n_ents - r->head;
    memmove(r->ents, r->ents + r->head, keep * sizeof(*r->ents));
    if (r->last_value != RESP_NONE)
        r->last_value -= r->head; /* unwritten, so at or after head */
    r->n_ents = keep;
    r->head = 0;
    size_t base = r->text_len;
    for (size_t i = 0; i < keep; i++) {
        if (r->ents[i].kind == RESP_TEXT) {
            base = r->ents[i].off;
            break;
        }
    }
    if (base == 0)
        return;
    memmove(r->text, r->text + base, r->text_len - base);
    r->text_len -= base;
    for (size_t i = 0; i < keep; i++) {
        if (r->ents[i].kind == RESP_TEXT)
            r->ents[i].off -= base;
    }
}

/* Advances past n written bytes, releasing each value's item once its "\r\n" is out; resets the
 * buffers when everything is written, compacts them when a long-lived backlog has a large written
 * prefix. */
void resp_consume(struct resp *r, size_t n)
{
    if (n > r->pending)
        n = r->pending;
    r->pending -= n;
    while (n > 0 && r->head < r->n_ents) {
        struct resp_entry *e = &r->ents[r->head];
        size_t left = e->len - r->head_off;
        if (n < left) {
            r->head_off += n;
            break;
        }
        n -= left;
        if (e->kind == RESP_VALUE && e->owns)
            cache_item_release(r->cache, &e->it);
        if (r->head == r->last_value)
            r->last_value = RESP_NONE;
        r->head++;
        r->head_off = 0;
    }
    if (r->head == r->n_ents) {
        resp_reset(r);
    } else if (r->head >= RESP_COMPACT_ENTS && r->head * 2 >= r->n_ents) {
        resp_compact(r);
    } else if (r->head > 0 && r->ents[r->head].kind == RESP_TEXT &&
               r->ents[r->head].off >= RESP_COMPACT_TEXT && r->ents[r->head].off * 2 >= r->text_len) {
        resp_compact(r);
    }
}

/* Drops everything queued, releasing item references; buffers are kept (shrunk if very large). */
void resp_clear(struct resp *r)
{
    for (size_t i = r->head; i < r->n_ents; i++) {
        if (r->ents[i].kind == RESP_VALUE && r->ents[i].owns)
            cache_item_release(r->cache, &r->ents[i].it);
    }
    resp_reset(r);
    r->pending = 0;
    resp_trim(r);
}
