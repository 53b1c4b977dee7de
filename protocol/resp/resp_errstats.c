/*
 * resp_errstats.c: error replies counted by code (see resp_errstats.h).
 *
 * The names are published by a count: a name slot is written under the mutex, then the count moves
 * past it with a release store, so a reader that acquires the count reads whole names below it and
 * never a slot being written. Names are never removed (a reset zeroes the counts), so an index, once
 * found, stays that code's.
 */
#include "config.h"

#include "protocol/resp/resp_errstats.h"

#include <pthread.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

struct errstats_name {
    char text[RESP_ERRSTATS_NAME_MAX + 1];
    size_t len;
};

struct resp_errstats {
    pthread_mutex_t lock; /* adding a name */
    _Atomic unsigned n;   /* names published */
    struct errstats_name names[RESP_ERRSTATS_MAX];
    _Atomic uint64_t count[RESP_ERRSTATS_MAX];
};

/* See resp_errstats.h. */
struct resp_errstats *resp_errstats_create(void)
{
    struct resp_errstats *e = calloc(1, sizeof(*e));
    if (e == NULL)
        return NULL;
    if (pthread_mutex_init(&e->lock, NULL) != 0) {
        free(e);
        return NULL;
    }
    return e;
}

/* See resp_errstats.h. */
void resp_errstats_destroy(struct resp_errstats *e)
{
    if (e == NULL)
        return;
    pthread_mutex_destroy(&e->lock);
    free(e);
}

/* See resp_errstats.h. Redis 7.0's afterErrorReply looks for the space within the first 32 bytes of
 * the line with its '-'; here the text may come with or without it. */
const char *resp_errstats_code(const char *text, size_t n, size_t *len)
{
    if (n > 0 && text[0] == '-') {
        text++;
        n--;
    }
    size_t look = n < RESP_ERRSTATS_NAME_MAX ? n : RESP_ERRSTATS_NAME_MAX;
    const char *space = memchr(text, ' ', look);
    if (space == NULL || space == text) {
        *len = 3;
        return "ERR";
    }
    *len = (size_t)(space - text);
    return text;
}

/* The index of the code among the first n names, or -1. */
static int find_code(const struct resp_errstats *e, unsigned n, const char *code, size_t len)
{
    for (unsigned i = 0; i < n; i++)
        if (e->names[i].len == len && memcmp(e->names[i].text, code, len) == 0)
            return (int)i;
    return -1;
}

/* Adds the code (looking again under the lock: another thread may have added it); -1 when the table
 * is full. */
static int add_code(struct resp_errstats *e, const char *code, size_t len)
{
    pthread_mutex_lock(&e->lock);
    unsigned n = atomic_load_explicit(&e->n, memory_order_relaxed);
    int i = find_code(e, n, code, len);
    if (i < 0 && n < RESP_ERRSTATS_MAX) {
        memcpy(e->names[n].text, code, len);
        e->names[n].text[len] = '\0';
        e->names[n].len = len;
        atomic_store_explicit(&e->n, n + 1, memory_order_release);
        i = (int)n;
    }
    pthread_mutex_unlock(&e->lock);
    return i;
}

/* See resp_errstats.h. */
void resp_errstats_count(struct resp_errstats *e, const char *text, size_t n)
{
    if (e == NULL)
        return;
    size_t len;
    const char *code = resp_errstats_code(text, n, &len);
    int i = find_code(e, atomic_load_explicit(&e->n, memory_order_acquire), code, len);
    if (i < 0)
        i = add_code(e, code, len);
    if (i >= 0)
        atomic_fetch_add_explicit(&e->count[i], 1, memory_order_relaxed);
}

/* Byte order of two names, a shorter one first where it is the other's prefix. */
static int name_cmp(const struct errstats_name *a, const struct errstats_name *b)
{
    int c = memcmp(a->text, b->text, a->len < b->len ? a->len : b->len);
    if (c != 0)
        return c;
    return a->len < b->len ? -1 : a->len > b->len;
}

/* See resp_errstats.h. */
void resp_errstats_each(const struct resp_errstats *e, resp_errstats_fn fn, void *arg)
{
    if (e == NULL)
        return;
    unsigned n = atomic_load_explicit(&e->n, memory_order_acquire);
    unsigned order[RESP_ERRSTATS_MAX];
    for (unsigned i = 0; i < n; i++) { /* insertion sort: at most a few codes */
        unsigned j = i;
        while (j > 0 && name_cmp(&e->names[order[j - 1]], &e->names[i]) > 0) {
            order[j] = order[j - 1];
            j--;
        }
        order[j] = i;
    }
    for (unsigned k = 0; k < n; k++) {
        uint64_t c = atomic_load_explicit(&e->count[order[k]], memory_order_relaxed);
        if (c != 0)
            fn(arg, e->names[order[k]].text, c);
    }
}

/* See resp_errstats.h. */
void resp_errstats_reset(struct resp_errstats *e)
{
    if (e == NULL)
        return;
    for (unsigned i = 0; i < RESP_ERRSTATS_MAX; i++)
        atomic_store_explicit(&e->count[i], 0, memory_order_relaxed);
}
