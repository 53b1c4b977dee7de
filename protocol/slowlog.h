/*
 * slowlog.h: the server's slow log, Redis's SLOWLOG for every protocol.
 *
 * One log per server, shared by every worker: a request that took at least the threshold is added
 * (under the log's mutex: only slow requests pay for it) with what Redis keeps of it: a unique id, the
 * Unix time it ended, its duration in microseconds, its arguments (at most SLOWLOG_MAX_ARGC, the last
 * kept one replaced by "... (N more arguments)"; each at most SLOWLOG_MAX_ARGLEN bytes, cut ones
 * ending "... (N more bytes)"), the client's address and name, and (cairn's) the protocol. The log
 * keeps the newest max_len entries. The threshold and the length change at run time (CONFIG SET
 * slowlog-log-slower-than / slowlog-max-len); a negative threshold turns the log off, 0 logs every
 * request.
 *
 * Threads: every function may run on any thread. slowlog_threshold is a relaxed atomic load, cheap
 * enough for every request.
 */
#ifndef CAIRN_PROTOCOL_SLOWLOG_H
#define CAIRN_PROTOCOL_SLOWLOG_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define SLOWLOG_MAX_ARGC 32
#define SLOWLOG_MAX_ARGLEN 128
#define SLOWLOG_DEFAULT_THRESHOLD_US 10000 /* Redis's slowlog-log-slower-than */
#define SLOWLOG_DEFAULT_MAX_LEN 128        /* Redis's slowlog-max-len */

struct slowlog;

/* A log with Redis's defaults; NULL on no memory. */
struct slowlog *slowlog_create(void);
void slowlog_destroy(struct slowlog *log);

/* The threshold in microseconds (< 0: off). */
int64_t slowlog_threshold(const struct slowlog *log);
void slowlog_set_threshold(struct slowlog *log, int64_t us);
uint64_t slowlog_max_len(const struct slowlog *log);
/* Drops the oldest entries past the new length. */
void slowlog_set_max_len(struct slowlog *log, uint64_t len);

/* Whether a request of us microseconds belongs in the log. */
static inline bool slowlog_wants(const struct slowlog *log, uint64_t us)
{
    int64_t t = log == NULL ? -1 : slowlog_threshold(log);
    return t >= 0 && us >= (uint64_t)t;
}

/* Adds one request: argc arguments argv[i] of lens[i] bytes, as the protocol received them; proto is
 * "text", "binary" or "resp"; addr and name may be NULL (""). When argc > SLOWLOG_MAX_ARGC only the
 * first SLOWLOG_MAX_ARGC - 1 of argv and lens are read (the caller need not gather the rest). An entry
 * that cannot be given memory is left out. */
void slowlog_add(struct slowlog *log, uint64_t duration_us, size_t argc, const char *const *argv,
                 const size_t *lens, const char *proto, const char *addr, const char *name);

/* One entry as slowlog_get shows it (the arguments already cut as the file comment says). */
struct slowlog_entry {
    uint64_t id;
    int64_t time; /* Unix seconds when the request ended */
    uint64_t duration_us;
    size_t argc;
    const char *const *argv;
    const size_t *lens;
    const char *proto, *addr, *name; /* never NULL */
};

/* Under the log's lock: calls begin once with how many entries follow (the newest n; every entry for
 * n < 0), then each on them, newest first. Returns that count. */
size_t slowlog_get(struct slowlog *log, int64_t n, void (*begin)(void *arg, size_t count),
                   void (*each)(void *arg, const struct slowlog_entry *e), void *arg);
size_t slowlog_len(struct slowlog *log);
/* Empties the log (ids go on from where they were, as in Redis). */
void slowlog_reset(struct slowlog *log);

#endif
