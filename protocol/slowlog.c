/*
 * slowlog.c: the server's slow log (slowlog.h), what Redis 7.0's slowlog.c keeps, for every protocol.
 *
 * The entries are a ring of pointers, newest at head - 1, that grows by doubling up to max_len; each
 * entry is one allocation holding its struct, its argument vectors and every string (the cut
 * arguments, the protocol, the address and the name), so adding is one malloc and dropping one free.
 *
 * As Redis: an entry's arguments are at most SLOWLOG_MAX_ARGC (with more, the last kept one is
 * replaced by "... (N more arguments)", N counting that replaced one too); an argument longer than
 * SLOWLOG_MAX_ARGLEN keeps that many bytes followed by "... (N more bytes)". Ids start at 0 and go on
 * across SLOWLOG RESET; a request logged while max_len is 0 uses an id (Redis 7.0 creates the entry
 * and trims it at once).
 *
 * Threads: everything under one mutex except the threshold, a relaxed atomic (slowlog_wants() runs on
 * every request). Entries are freed outside the lock where that is easy (reset, shrinking).
 */
#include "config.h"

#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "protocol/slowlog.h"

/* The longest suffix that cutting adds: "... (18446744073709551615 more arguments)". */
#define CUT_SUFFIX_MAX 48

/* One entry: the public view, with every pointer into the same allocation. */
struct entry {
    struct slowlog_entry e;
    struct entry *next; /* only while being freed */
    /* then: const char *argv[argc], size_t lens[argc], the argument bytes (each NUL-terminated),
     * proto, addr, name */
};

struct slowlog {
    pthread_mutex_t lock;
    int64_t threshold_us; /* atomic: read without the lock */
    uint64_t max_len;
    uint64_t next_id;
    struct entry **ring; /* cap slots; the n newest entries end at head - 1 */
    size_t cap, head, n;
};

/* See slowlog.h. */
struct slowlog *slowlog_create(void)
{
    struct slowlog *log = calloc(1, sizeof(*log));
    if (log == NULL)
        return NULL;
    if (pthread_mutex_init(&log->lock, NULL) != 0) {
        free(log);
        return NULL;
    }
    log->threshold_us = SLOWLOG_DEFAULT_THRESHOLD_US;
    log->max_len = SLOWLOG_DEFAULT_MAX_LEN;
    return log;
}

/* See slowlog.h. */
void slowlog_destroy(struct slowlog *log)
{
    if (log == NULL)
        return;
    slowlog_reset(log);
    free(log->ring);
    pthread_mutex_destroy(&log->lock);
    free(log);
}

/* See slowlog.h. */
int64_t slowlog_threshold(const struct slowlog *log)
{
    return __atomic_load_n(&log->threshold_us, __ATOMIC_RELAXED);
}

/* See slowlog.h. */
void slowlog_set_threshold(struct slowlog *log, int64_t us)
{
    __atomic_store_n(&log->threshold_us, us, __ATOMIC_RELAXED);
}

/* See slowlog.h. */
uint64_t slowlog_max_len(const struct slowlog *log)
{
    return __atomic_load_n(&log->max_len, __ATOMIC_RELAXED);
}

/* The slot of the i-th newest entry (0 = newest); under the lock, i < n. */
static size_t slot_of(const struct slowlog *log, size_t i)
{
    return (log->head + log->cap - 1 - i) % log->cap;
}

/* Unlinks the oldest entries until at most keep remain, onto the list *gone (freed by the caller
 * after unlocking: free_list). Under the lock. */
static void drop_oldest(struct slowlog *log, uint64_t keep, struct entry **gone)
{
    while (log->n > keep) {
        size_t s = slot_of(log, log->n - 1);
        log->ring[s]->next = *gone;
        *gone = log->ring[s];
        log->ring[s] = NULL;
        log->n--;
    }
}

/* Frees a list drop_oldest() or ring_push() made (outside the lock). */
static void free_list(struct entry *e)
{
    while (e != NULL) {
        struct entry *next = e->next;
        free(e);
        e = next;
    }
}

/* See slowlog.h. */
void slowlog_set_max_len(struct slowlog *log, uint64_t len)
{
    struct entry *gone = NULL;
    pthread_mutex_lock(&log->lock);
    __atomic_store_n(&log->max_len, len, __ATOMIC_RELAXED);
    drop_oldest(log, len, &gone);
    pthread_mutex_unlock(&log->lock);
    free_list(gone);
}

/* The bytes argument i keeps and the suffix cutting gives it (suffix[0] = '\0' when none). The
 * argument that the count replaces is not read (slowlog.h: the caller need not gather it). */
static size_t cut_arg(size_t i, size_t argc, size_t kept, const size_t *lens, char *suffix)
{
    suffix[0] = '\0';
    if (kept != argc && i == kept - 1) {
        snprintf(suffix, CUT_SUFFIX_MAX, "... (%zu more arguments)", argc - kept + 1);
        return 0;
    }
    size_t len = lens[i];
    if (len > SLOWLOG_MAX_ARGLEN) {
        snprintf(suffix, CUT_SUFFIX_MAX, "... (%zu more bytes)", len - SLOWLOG_MAX_ARGLEN);
        return SLOWLOG_MAX_ARGLEN;
    }
    return len;
}

/* Copies a string (NULL as "") to p; returns where it lies and advances p. */
static const char *put_str(char **p, const char *s)
{
    const char *at = *p;
    size_t n = s == NULL ? 0 : strlen(s);
    if (n)
        memcpy(*p, s, n);
    (*p)[n] = '\0';
    *p += n + 1;
    return at;
}

/* One entry in one allocation, the arguments cut; NULL on no memory. */
static struct entry *entry_make(size_t argc, const char *const *argv, const size_t *lens, const char *proto,
                                const char *addr, const char *name)
{
    size_t kept = argc > SLOWLOG_MAX_ARGC ? SLOWLOG_MAX_ARGC : argc;
    char suffix[CUT_SUFFIX_MAX];
    size_t bytes = sizeof(struct entry) + kept * (sizeof(char *) + sizeof(size_t));
    for (size_t i = 0; i < kept; i++)
        bytes += cut_arg(i, argc, kept, lens, suffix) + strlen(suffix) + 1;
    bytes += (proto ? strlen(proto) : 0) + (addr ? strlen(addr) : 0) + (name ? strlen(name) : 0) + 3;

    struct entry *en = malloc(bytes);
    if (en == NULL)
        return NULL;
    const char **av = (const char **)(en + 1);
    size_t *al = (size_t *)(av + kept);
    char *p = (char *)(al + kept);
    for (size_t i = 0; i < kept; i++) {
        size_t keep = cut_arg(i, argc, kept, lens, suffix);
        size_t ns = strlen(suffix);
        av[i] = p;
        if (keep)
            memcpy(p, argv[i], keep);
        memcpy(p + keep, suffix, ns);
        al[i] = keep + ns;
        p[al[i]] = '\0';
        p += al[i] + 1;
    }
    en->e.argc = kept;
    en->e.argv = av;
    en->e.lens = al;
    en->e.proto = put_str(&p, proto);
    en->e.addr = put_str(&p, addr);
    en->e.name = put_str(&p, name);
    return en;
}

/* Doubles the ring up to max slots (under the lock, n == cap < max); false on no memory. */
static bool ring_grow(struct slowlog *log, uint64_t max)
{
    size_t cap = log->cap ? log->cap * 2 : 16;
    if (cap > max)
        cap = (size_t)max;
    struct entry **ring = calloc(cap, sizeof(*ring));
    if (ring == NULL)
        return false;
    for (size_t i = 0; i < log->n; i++) /* oldest first from slot 0 */
        ring[i] = log->ring[slot_of(log, log->n - 1 - i)];
    free(log->ring);
    log->ring = ring;
    log->cap = cap;
    log->head = log->n;
    return true;
}

/* Puts en in as the newest entry (under the lock, max_len > 0); false when there is no slot for it
 * (an empty ring that cannot be given memory). A full ring that cannot grow loses its oldest. */
static bool ring_push(struct slowlog *log, struct entry *en, struct entry **gone)
{
    if (log->n == log->cap && log->cap < log->max_len)
        (void)ring_grow(log, log->max_len);
    if (log->cap == 0)
        return false;
    if (log->n == log->cap) { /* full: the oldest lies at head */
        log->ring[log->head]->next = *gone;
        *gone = log->ring[log->head];
        log->n--;
    }
    log->ring[log->head] = en;
    log->head = (log->head + 1) % log->cap;
    log->n++;
    drop_oldest(log, log->max_len, gone); /* the ring may be larger than a shrunk max_len */
    return true;
}

/* See slowlog.h. */
void slowlog_add(struct slowlog *log, uint64_t duration_us, size_t argc, const char *const *argv,
                 const size_t *lens, const char *proto, const char *addr, const char *name)
{
    if (log == NULL)
        return;
    struct entry *en = entry_make(argc, argv, lens, proto, addr, name);
    struct entry *gone = NULL;
    if (en != NULL) {
        en->e.time = (int64_t)time(NULL);
        en->e.duration_us = duration_us;
    }
    pthread_mutex_lock(&log->lock);
    uint64_t id = log->next_id++; /* used even when the entry is not kept, as in Redis 7.0 */
    if (en != NULL) {
        en->e.id = id;
        if (log->max_len > 0 && ring_push(log, en, &gone))
            en = NULL;
    }
    pthread_mutex_unlock(&log->lock);
    free_list(gone);
    free(en);
}

/* See slowlog.h. */
size_t slowlog_get(struct slowlog *log, int64_t n, void (*begin)(void *arg, size_t count),
                   void (*each)(void *arg, const struct slowlog_entry *e), void *arg)
{
    pthread_mutex_lock(&log->lock);
    size_t count = n < 0 || (uint64_t)n > log->n ? log->n : (size_t)n;
    if (begin != NULL)
        begin(arg, count);
    for (size_t i = 0; i < count && each != NULL; i++)
        each(arg, &log->ring[slot_of(log, i)]->e);
    pthread_mutex_unlock(&log->lock);
    return count;
}

/* See slowlog.h. */
size_t slowlog_len(struct slowlog *log)
{
    pthread_mutex_lock(&log->lock);
    size_t n = log->n;
    pthread_mutex_unlock(&log->lock);
    return n;
}

/* See slowlog.h. The ring is taken whole under the lock and its entries freed outside it. */
void slowlog_reset(struct slowlog *log)
{
    pthread_mutex_lock(&log->lock);
    struct entry **ring = log->ring;
    size_t cap = log->cap;
    log->ring = NULL;
    log->cap = log->head = log->n = 0;
    pthread_mutex_unlock(&log->lock);
    for (size_t i = 0; i < cap; i++)
        free(ring[i]);
    free(ring);
}
