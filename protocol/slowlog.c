/*
 * slowlog.c: the server's slow log (see slowlog.h): a list of the newest entries, newest first, under
 * one mutex; each entry is one allocation holding its cut arguments and strings.
 */
#include "config.h"

#include <inttypes.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "protocol/slowlog.h"

struct slow_entry {
    struct slow_entry *next; /* older */
    struct slowlog_entry e;
};

struct slowlog {
    pthread_mutex_t lock;
    _Atomic int64_t threshold;
    _Atomic uint64_t max_len;
    struct slow_entry *head; /* newest */
    size_t len;
    uint64_t next_id;
};

struct slowlog *slowlog_create(void)
{
    struct slowlog *log = calloc(1, sizeof(*log));
    if (log == NULL)
        return NULL;
    pthread_mutex_init(&log->lock, NULL);
    log->threshold = SLOWLOG_DEFAULT_THRESHOLD_US;
    log->max_len = SLOWLOG_DEFAULT_MAX_LEN;
    return log;
}

/* Frees e and every older entry. */
static void free_from(struct slow_entry *e)
{
    while (e != NULL) {
        struct slow_entry *next = e->next;
        free(e);
        e = next;
    }
}

void slowlog_destroy(struct slowlog *log)
{
    if (log == NULL)
        return;
    free_from(log->head);
    pthread_mutex_destroy(&log->lock);
    free(log);
}

int64_t slowlog_threshold(const struct slowlog *log)
{
    return atomic_load_explicit(&((struct slowlog *)log)->threshold, memory_order_relaxed);
}

void slowlog_set_threshold(struct slowlog *log, int64_t us)
{
    atomic_store_explicit(&log->threshold, us, memory_order_relaxed);
}

uint64_t slowlog_max_len(const struct slowlog *log)
{
    return atomic_load_explicit(&((struct slowlog *)log)->max_len, memory_order_relaxed);
}

/* Drops entries past max_len (under the lock). */
static void trim(struct slowlog *log)
{
    uint64_t max = atomic_load_explicit(&log->max_len, memory_order_relaxed);
    struct slow_entry **p = &log->head;
    size_t kept = 0;

    while (*p != NULL && kept < max) {
        p = &(*p)->next;
        kept++;
    }
    free_from(*p);
    *p = NULL;
    log->len = kept;
}

void slowlog_set_max_len(struct slowlog *log, uint64_t len)
{
    atomic_store_explicit(&log->max_len, len, memory_order_relaxed);
    pthread_mutex_lock(&log->lock);
    trim(log);
    pthread_mutex_unlock(&log->lock);
}

/* The argument i as the log keeps it: its bytes (at most SLOWLOG_MAX_ARGLEN) and what replaces the
 * rest; returns the length of the whole into buf (NUL-terminated), buf NULL: only the length. */
static size_t cut_arg(size_t argc, const char *const *argv, const size_t *lens, size_t i, char *buf)
{
    char tail[64];
    size_t head, n;

    if (argc > SLOWLOG_MAX_ARGC && i == SLOWLOG_MAX_ARGC - 1) {
        n = (size_t)snprintf(tail, sizeof(tail), "... (%zu more arguments)", argc - SLOWLOG_MAX_ARGC + 1);
        if (buf != NULL)
            memcpy(buf, tail, n + 1);
        return n;
    }
    head = lens[i] > SLOWLOG_MAX_ARGLEN ? SLOWLOG_MAX_ARGLEN : lens[i];
    n = lens[i] > SLOWLOG_MAX_ARGLEN
            ? (size_t)snprintf(tail, sizeof(tail), "... (%zu more bytes)", lens[i] - SLOWLOG_MAX_ARGLEN)
            : 0;
    if (buf != NULL) {
        memcpy(buf, argv[i], head);
        memcpy(buf + head, tail, n);
        buf[head + n] = '\0';
    }
    return head + n;
}

/* Copies a NUL-terminated string to *p and advances it. */
static const char *put_str(char **p, const char *s)
{
    size_t n = strlen(s) + 1;
    char *d = *p;
    memcpy(d, s, n);
    *p += n;
    return d;
}

void slowlog_add(struct slowlog *log, uint64_t duration_us, size_t argc, const char *const *argv,
                 const size_t *lens, const char *proto, const char *addr, const char *name)
{
    size_t kept = argc > SLOWLOG_MAX_ARGC ? SLOWLOG_MAX_ARGC : argc;
    size_t bytes = 0;

    addr = addr != NULL ? addr : "";
    name = name != NULL ? name : "";
    proto = proto != NULL ? proto : "";
    for (size_t i = 0; i < kept; i++)
        bytes += cut_arg(argc, argv, lens, i, NULL) + 1;
    bytes += strlen(addr) + strlen(name) + strlen(proto) + 3;
    struct slow_entry *e =
        malloc(sizeof(*e) + kept * (sizeof(char *) + sizeof(size_t)) + bytes);
    if (e == NULL)
        return;
    const char **av = (const char **)(e + 1);
    size_t *al = (size_t *)(av + kept);
    char *p = (char *)(al + kept);
    for (size_t i = 0; i < kept; i++) {
        al[i] = cut_arg(argc, argv, lens, i, p);
        av[i] = p;
        p += al[i] + 1;
    }
    e->e.argc = kept;
    e->e.argv = av;
    e->e.lens = al;
    e->e.proto = put_str(&p, proto);
    e->e.addr = put_str(&p, addr);
    e->e.name = put_str(&p, name);
    e->e.time = (int64_t)time(NULL);
    e->e.duration_us = duration_us;

    pthread_mutex_lock(&log->lock);
    e->e.id = log->next_id++;
    e->next = log->head;
    log->head = e;
    log->len++;
    trim(log);
    pthread_mutex_unlock(&log->lock);
}

size_t slowlog_get(struct slowlog *log, int64_t n, void (*begin)(void *arg, size_t count),
                   void (*each)(void *arg, const struct slowlog_entry *e), void *arg)
{
    pthread_mutex_lock(&log->lock);
    size_t count = n < 0 || (uint64_t)n > log->len ? log->len : (size_t)n;
    begin(arg, count);
    struct slow_entry *e = log->head;
    for (size_t i = 0; i < count; i++, e = e->next)
        each(arg, &e->e);
    pthread_mutex_unlock(&log->lock);
    return count;
}

size_t slowlog_len(struct slowlog *log)
{
    pthread_mutex_lock(&log->lock);
    size_t n = log->len;
    pthread_mutex_unlock(&log->lock);
    return n;
}

void slowlog_reset(struct slowlog *log)
{
    pthread_mutex_lock(&log->lock);
    free_from(log->head);
    log->head = NULL;
    log->len = 0;
    pthread_mutex_unlock(&log->lock);
}
