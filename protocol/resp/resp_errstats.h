/*
 * resp_errstats.h: Redis's INFO errorstats, the error replies counted by their code.
 *
 * An error reply's code is its first word ("ERR", "WRONGTYPE", "MOVED"), read as Redis 7.0 reads it:
 * up to the first space within the first 32 bytes, else "ERR". The codes are learnt as replies use
 * them (cairn's texts decide which there are; at most RESP_ERRSTATS_MAX, Redis's bound, and a code
 * past it is not counted), so no list of codes can fall behind the texts. INFO lists the codes with a
 * count, in byte order of their names (Redis's radix tree order); CONFIG RESETSTAT and `stats reset`
 * zero the counts, and a code then shows again only once it is replied again, as in Redis.
 *
 * Threads: one table per server, shared by every worker. Counting is a lookup among the names already
 * published (acquire load, no lock) and a relaxed atomic add; only a code never seen before takes the
 * mutex. Error replies are not the fast path, so the shared counters' cache line is not a concern.
 */
#ifndef CAIRN_PROTOCOL_RESP_ERRSTATS_H
#define CAIRN_PROTOCOL_RESP_ERRSTATS_H

#include <stddef.h>
#include <stdint.h>

#define RESP_ERRSTATS_MAX      128 /* Redis 7's ERROR_STATS_NUMBER */
#define RESP_ERRSTATS_NAME_MAX 31  /* a code is found within the first 32 bytes */

struct resp_errstats;

/* An empty table; NULL on no memory. */
struct resp_errstats *resp_errstats_create(void);
void resp_errstats_destroy(struct resp_errstats *e);

/* The code of the error reply text (without the leading '-'): *len gets its length. */
const char *resp_errstats_code(const char *text, size_t n, size_t *len);

/* Counts one error reply with this text (e NULL: nothing). */
void resp_errstats_count(struct resp_errstats *e, const char *text, size_t n);

/* Every code with a count other than 0, in byte order of the names. */
typedef void (*resp_errstats_fn)(void *arg, const char *code, uint64_t count);
void resp_errstats_each(const struct resp_errstats *e, resp_errstats_fn fn, void *arg);

/* CONFIG RESETSTAT: every count to 0. */
void resp_errstats_reset(struct resp_errstats *e);

#endif
