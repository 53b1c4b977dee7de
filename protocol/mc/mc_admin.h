/*
 * mc_admin.h: memcached's administrative text commands and the shared, mutable protocol state they
 * use (internal to protocol/; the server sees only the mc_shared_* and mc_detail_* functions in
 * memcache.h).
 */
#ifndef CAIRN_PROTOCOL_MC_ADMIN_H
#define CAIRN_PROTOCOL_MC_ADMIN_H

#include <stdbool.h>
#include <stddef.h>

#include "protocol/mc/mc_parse.h"
#include "protocol/mc/memcache.h"

struct outq;

/* `snapshot` on a server started without --snapshot-path. */
#define MC_ERR_SNAPSHOT_OFF "SERVER_ERROR snapshots are off (no --snapshot-path)\r\n"

/*
 * The server's switches for server-wide commands (-F, --disable-admin-commands): when req (parsed
 * with status ps) is refused, appends memcached's refusal ("CLIENT_ERROR flush_all not allowed",
 * counted in cmd_flush as memcached does; "CLIENT_ERROR <command> not allowed" for cache_memlimit,
 * slabs, lru_crawler, lru, watch, verbosity, stats detail, stats reset and snapshot; "ERROR: shutdown
 * not enabled") and returns true; the caller then executes nothing. False: execute as usual.
 * Then the connection's role (protocol/auth.h): when admin is false (an app user), every server-wide
 * command above, and `stats cachedump`, is refused with MC_ERR_PERMISSION (nothing if noreply).
 */
bool mc_admin_refused(const struct mc_context *ctx, const struct mc_request *req, enum mc_parse_status ps,
                      bool admin, struct mc_stats *stats, struct outq *out);

/* Executes cache_memlimit, slabs, lru_crawler, lru and watch (req->cmd tells which), appending the
 * reply (memcached 1.6.18's, see doc/protocol.md) to out. */
void mc_admin_exec(const struct mc_context *ctx, const struct mc_request *req, struct outq *out);

/* Whether an unknown-command line is `snapshot ...` (the parser does not know the word: the server
 * answers it, see mc_admin_snapshot_kind). */
bool mc_admin_is_snapshot(const struct mc_request *req);

/* `snapshot` -> PROTO_WAIT_SNAPSHOT, `snapshot bg` -> PROTO_WAIT_SNAPSHOT_BG; any other arguments ->
 * PROTO_WAIT_NONE, answered "ERROR" as memcached answers bad admin arguments. noreply is not honoured. */
enum proto_wait mc_admin_snapshot_kind(const struct mc_request *req);

/* The server's one crawler for a metadump: true when it was idle (no crawl, no other metadump) and is
 * now held; mc_crawler_release() gives it back. A crawl asked for meanwhile is BUSY. */
bool mc_crawler_claim(struct mc_shared *sh);
void mc_crawler_release(struct mc_shared *sh);

/* `stats detail ...` (argv[0] is "detail"): writes the whole reply. */
void mc_admin_stats_detail(const struct mc_context *ctx, int argc, char **argv, struct outq *out);

/* Per-prefix counting while `stats detail on`; each is a no-op when detail is off or sh is NULL,
 * and for keys without the delimiter. */
void mc_detail_record_get(struct mc_shared *sh, const char *key, size_t nkey, bool hit);
void mc_detail_record_set(struct mc_shared *sh, const char *key, size_t nkey);
void mc_detail_record_delete(struct mc_shared *sh, const char *key, size_t nkey);

#endif
