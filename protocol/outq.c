/*
 * outq.c: a connection's outgoing byte queue (see outq.h).
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
 *   static string (the item stores no terminator), or by nothing (the binary protocol's values). It holds one
 * item reference (owns), except when a later unwritten entry of the same item took it over (outq_add_value).
 * - head is the first entry not fully written and head_off the bytes of it already written. Entries
 *   before head have had their item references released.
 *
 * Invariants: pending == bytes of all entries from head on, minus head_off. Text offsets grow with the
 * entry index. When everything is written the queue resets to empty without freeing, so the steady
 * state allocates nothing; a queue that never drains fully is compacted once its written prefix grows.
 *
 * Allocation failure while growing marks the queue failed (outq_failed): from then on appends are
 * dropped (a value's reference is released at once) and the connection must be closed, since a
 * client that missed a byte of one reply would be out of step with every later one. The process
 * never aborts for it.
 *
 * Threads: one queue is used by one thread at a time; nothing here locks.
 */
#include "config.h"

#include "protocol/outq.h"

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "storage/cache.h"

enum outq_kind { OUTQ_TEXT = 0, OUTQ_VALUE };

struct outq_entry {
    enum outq_kind kind;
    bool owns;       /* VALUE: this entry holds the reference (see outq_add_value) */
    bool crlf;       /* VALUE: "\r\n" follows the value (not for outq_add_value_raw) */
    size_t off;      /* TEXT: offset into text */
    size_t len;      /* bytes on the wire (VALUE: nbytes, + 2 with crlf) */
    struct item *it; /* VALUE only */
};
_Static_assert(sizeof(struct outq_entry) <= 32, "an entry stays 32 bytes (outq_weight, memory bounds)");

struct outq {
    struct cache *cache;
    char *text;
    size_t text_len, text_cap;
    struct outq_entry *ents;
    size_t n_ents, cap_ents;
    size_t head, head_off;
    size_t pending;
    size_t last_value; /* index of the newest VALUE entry not yet written, or OUTQ_NONE */
    bool failed;       /* an allocation failed: appends are dropped, the connection must close */
};

static const char outq_crlf[2] = {'\r', '\n'};

#define OUTQ_NONE SIZE_MAX

/* Entries written before compaction is considered, and the minimum text prefix worth moving. */
#define OUTQ_COMPACT_ENTS 64u
#define OUTQ_COMPACT_TEXT 65536u

/* Buffer sizes an idle queue keeps; larger ones are freed by outq_trim. */
#define OUTQ_KEEP_TEXT (256u * 1024u)
#define OUTQ_KEEP_ENTS 4096u

/* Grows *p to hold at least need elements; false (and *p unchanged) on no memory. */
static bool outq_grow(void **p, size_t *cap, size_t need, size_t elem, size_t min_cap)
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
static inline bool outq_text_reserve(struct outq *r, size_t n)
{
    if (r->failed)
        return false;
    if (r->text_len + n > r->text_cap) {
        void *p = r->text;
        if (n > SIZE_MAX / 2 - r->text_len || !outq_grow(&p, &r->text_cap, r->text_len + n, 1, 1024)) {
            r->failed = true;
            return false;
        }
        r->text = p;
    }
    return true;
}

/* A new entry at the end, or NULL once the queue has failed. */
static inline struct outq_entry *outq_new_entry(struct outq *r)
{
    if (r->failed)
        return NULL;
    if (r->n_ents == r->cap_ents) {
        void *p = r->ents;
        if (!outq_grow(&p, &r->cap_ents, r->n_ents + 1, sizeof(*r->ents), 16)) {
            r->failed = true;
            return NULL;
        }
        r->ents = p;
    }
    return &r->ents[r->n_ents++];
}

/* Records that the last n bytes of text were just appended. */
static inline void outq_text_commit(struct outq *r, size_t n)
{
    size_t off = r->text_len;
    r->text_len += n;
    r->pending += n;
    if (r->n_ents > r->head) {
        struct outq_entry *last = &r->ents[r->n_ents - 1];
        if (last->kind == OUTQ_TEXT && last->off + last->len == off) {
            last->len += n;
            return;
        }
    }
    struct outq_entry *e = outq_new_entry(r);
    if (e == NULL)
        return;
    e->kind = OUTQ_TEXT;
    e->off = off;
    e->len = n;
    e->it = NULL;
}

/* Returns an empty queue (nothing allocated until the first append), or NULL on no memory. */
struct outq *outq_create(struct cache *cache)
{
    struct outq *r = calloc(1, sizeof(*r));
    if (r == NULL)
        return NULL;
    r->cache = cache;
    r->last_value = OUTQ_NONE;
    return r;
}

/* Releases queued item references, frees everything and clears *rp. */
void outq_destroy(struct outq **rp)
{
    if (rp == NULL || *rp == NULL)
        return;
    struct outq *r = *rp;
    outq_clear(r);
    free(r->text);
    free(r->ents);
    free(r);
    *rp = NULL;
}

/* Copies n bytes to the end of the text buffer (extending the last text entry when adjacent). */
void outq_add(struct outq *r, const void *p, size_t n)
{
    if (n == 0 || !outq_text_reserve(r, n))
        return;
    memcpy(r->text + r->text_len, p, n);
    outq_text_commit(r, n);
}

/* Copies a NUL-terminated string. */
void outq_add_str(struct outq *r, const char *s)
{
    outq_add(r, s, strlen(s));
}

/* Formats straight into the text buffer, growing it once if the first attempt did not fit. */
void outq_printf(struct outq *r, const char *fmt, ...)
{
    va_list ap;
    if (!outq_text_reserve(r, 64))
        return;
    size_t room = r->text_cap - r->text_len;
    va_start(ap, fmt);
    int n = vsnprintf(r->text + r->text_len, room, fmt, ap);
    va_end(ap);
    if (n <= 0)
        return;
    if ((size_t)n >= room) {
        if (!outq_text_reserve(r, (size_t)n + 1))
            return;
        va_start(ap, fmt);
        vsnprintf(r->text + r->text_len, (size_t)n + 1, fmt, ap);
        va_end(ap);
    }
    outq_text_commit(r, (size_t)n);
}

/* Queues a VALUE entry for it, followed by "\r\n" when crlf (see outq_add_value). */
static void outq_add_item(struct outq *r, struct item *it, bool crlf)
{
    struct outq_entry *e = outq_new_entry(r);
    if (e == NULL) {
        cache_item_release(r->cache, &it);
        return;
    }
    e->kind = OUTQ_VALUE;
    e->off = 0;
    e->crlf = crlf;
    e->len = item_nbytes(it) + (crlf ? 2 : 0);
    e->it = it;
    e->owns = true;
    if (r->last_value != OUTQ_NONE && r->ents[r->last_value].it == it) {
        r->ents[r->last_value].owns = false;
        cache_item_release(r->cache, &it);
    }
    r->last_value = (size_t)(e - r->ents);
    r->pending += e->len;
}

/* Queues the item's value and "\r\n" by reference; the caller's reference now belongs to the queue.
 * When the newest unwritten value is the same item (`get a a a`, a pipeline of gets of one key), the
 * new entry takes over that entry's reference and the caller's is released: entries go out in
 * order, so the last entry of a run is the one that must keep the item alive, and a run of any
 * length holds one reference. A hot key read by many pipelining clients then costs one reference
 * per client, not one per queued reply. */
void outq_add_value(struct outq *r, struct item *it)
{
    outq_add_item(r, it, true);
}

/* See outq.h. An empty value queues nothing (a zero-length entry would never be consumed). */
void outq_add_value_raw(struct outq *r, struct item *it)
{
    if (item_nbytes(it) == 0) {
        cache_item_release(r->cache, &it);
        return;
    }
    outq_add_item(r, it, false);
}

/* Bytes queued and not yet consumed. */
size_t outq_pending(const struct outq *r)
{
    return r->pending;
}

/* See outq.h. */
size_t outq_weight(const struct outq *r)
{
    return r->pending + (r->n_ents - r->head) * sizeof(struct outq_entry);
}

/* See outq.h. */
bool outq_failed(const struct outq *r)
{
    return r->failed;
}

/* Adds the iovecs of entry e starting skip bytes in; returns how many were filled (at most room). */
static int outq_entry_iov(const struct outq *r, const struct outq_entry *e, size_t skip, struct iovec *iov,
                          int room)
{
    if (e->kind == OUTQ_TEXT) {
        iov[0].iov_base = r->text + e->off + skip;
        iov[0].iov_len = e->len - skip;
        return 1;
    }
    size_t nbytes = e->len - (e->crlf ? 2 : 0);
    int k = 0;
    if (skip < nbytes) {
        iov[k].iov_base = item_value(e->it) + skip;
        iov[k].iov_len = nbytes - skip;
        k++;
        skip = nbytes;
        if (k == room || !e->crlf)
            return k;
    }
    iov[k].iov_base = (void *)(outq_crlf + (skip - nbytes));
    iov[k].iov_len = 2 - (skip - nbytes);
    return k + 1;
}

/* Describes up to max iovecs from the first unwritten byte; the queue is not changed. */
int outq_iov(const struct outq *r, struct iovec *iov, int max)
{
    int n = 0;
    size_t skip = r->head_off;
    for (size_t i = r->head; i < r->n_ents && n < max; i++) {
        n += outq_entry_iov(r, &r->ents[i], skip, iov + n, max - n);
        skip = 0;
    }
    return n;
}

/* Empties the queue, keeping its buffers: a connection whose replies go out in 1 MiB rounds (a long
 * multi-get, a pipeline of large values) refills them at once, and freeing and regrowing a megabyte
 * every round costs more than the round (outq_trim gives them back once the connection is idle). */
static void outq_reset(struct outq *r)
{
    r->head = r->n_ents = r->head_off = 0;
    r->last_value = OUTQ_NONE;
    r->text_len = 0;
}

/* See outq.h. */
void outq_trim(struct outq *r)
{
    if (r->head != r->n_ents)
        return;
    outq_reset(r);
    if (r->text_cap > OUTQ_KEEP_TEXT) {
        free(r->text);
        r->text = NULL;
        r->text_cap = 0;
    }
    if (r->cap_ents > OUTQ_KEEP_ENTS) {
        free(r->ents);
        r->ents = NULL;
        r->cap_ents = 0;
    }
}

/* Moves the unwritten entries and their text to the front of the arrays. */
static void outq_compact(struct outq *r)
{
    size_t keep = r->n_ents - r->head;
    memmove(r->ents, r->ents + r->head, keep * sizeof(*r->ents));
    if (r->last_value != OUTQ_NONE)
        r->last_value -= r->head; /* unwritten, so at or after head */
    r->n_ents = keep;
    r->head = 0;
    size_t base = r->text_len;
    for (size_t i = 0; i < keep; i++) {
        if (r->ents[i].kind == OUTQ_TEXT) {
            base = r->ents[i].off;
            break;
        }
    }
    if (base == 0)
        return;
    memmove(r->text, r->text + base, r->text_len - base);
    r->text_len -= base;
    for (size_t i = 0; i < keep; i++) {
        if (r->ents[i].kind == OUTQ_TEXT)
            r->ents[i].off -= base;
    }
}

/* Advances past n written bytes, releasing each value's item once its "\r\n" is out; resets the
 * buffers when everything is written, compacts them when a long-lived backlog has a large written
 * prefix. */
void outq_consume(struct outq *r, size_t n)
{
    if (n > r->pending)
        n = r->pending;
    r->pending -= n;
    while (n > 0 && r->head < r->n_ents) {
        struct outq_entry *e = &r->ents[r->head];
        size_t left = e->len - r->head_off;
        if (n < left) {
            r->head_off += n;
            break;
        }
        n -= left;
        if (e->kind == OUTQ_VALUE && e->owns)
            cache_item_release(r->cache, &e->it);
        if (r->head == r->last_value)
            r->last_value = OUTQ_NONE;
        r->head++;
        r->head_off = 0;
    }
    if (r->head == r->n_ents) {
        outq_reset(r);
    } else if (r->head >= OUTQ_COMPACT_ENTS && r->head * 2 >= r->n_ents) {
        outq_compact(r);
    } else if (r->head > 0 && r->ents[r->head].kind == OUTQ_TEXT &&
               r->ents[r->head].off >= OUTQ_COMPACT_TEXT && r->ents[r->head].off * 2 >= r->text_len) {
        outq_compact(r);
    }
}

/* Drops everything queued, releasing item references; buffers are kept (shrunk if very large). */
void outq_clear(struct outq *r)
{
    for (size_t i = r->head; i < r->n_ents; i++) {
        if (r->ents[i].kind == OUTQ_VALUE && r->ents[i].owns)
            cache_item_release(r->cache, &r->ents[i].it);
    }
    outq_reset(r);
    r->pending = 0;
    outq_trim(r);
}
