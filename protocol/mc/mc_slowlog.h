/*
 * mc_slowlog.h: `stats slowlog` on memcached's text protocol, the server's slow log (protocol/
 * slowlog.h) as STAT lines (the format is documented in doc/protocol.md and mc_slowlog.c).
 */
#ifndef CAIRN_PROTOCOL_MC_SLOWLOG_H
#define CAIRN_PROTOCOL_MC_SLOWLOG_H

#include "protocol/mc/memcache.h"

struct outq;
struct slowlog;

/* Answers `stats slowlog` (argv[0] "slowlog"; words after it ignored as memcached ignores them) with
 * the log's STAT lines (MC_STATS_END: the caller adds END), or `stats slowlog reset` with "RESET"
 * (MC_STATS_DONE). A NULL log reads as an empty one that is off. */
enum mc_stats_result mc_slowlog_stats(struct slowlog *log, int argc, char **argv, struct outq *out);

#endif
