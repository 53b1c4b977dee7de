/*
 * resp_db.h: the RESP commands' seam to the storage engine (resp_db.c). Internal to protocol/resp/.
 */
#ifndef CAIRN_PROTOCOL_RESP_DB_H
#define CAIRN_PROTOCOL_RESP_DB_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "protocol/resp/resp_parse.h"
#include "storage/cache.h"

struct outq;
struct resp_session;

enum resp_set_mode { RESP_SET_ANY = 0, RESP_SET_NX, RESP_SET_XX };

/* The real time in Unix milliseconds, on the clock expiries are judged by. */
int64_t resp_now_ms(const struct resp_session *s);

/* A precise expiry at a Unix millisecond (one at or before the cache's origin is already past). */
cache_exp_t resp_exp_at(const struct resp_session *s, int64_t unix_ms);

/* Looks a key up (one reference for the caller, or NULL); count: a read that counts keyspace
 * hits and misses (Redis's lookupKeyRead), else a write's lookup that does not. */
struct item *resp_lookup(struct resp_session *s, const char *key, size_t nkey, bool count);

/* A live key's item without counting or marking an access (TTL, TYPE...); NULL if none. */
struct item *resp_peek(struct resp_session *s, const char *key, size_t nkey);

/* Whether a live key exists (no counting, no access mark). */
bool resp_exists(struct resp_session *s, const char *key, size_t nkey);

/* A new private item with this key and value (copied); NULL with *st on failure. */
struct item *resp_item_new(struct resp_session *s, const char *key, size_t nkey, const char *val, size_t nval,
                           cache_exp_t exp, enum cache_status *st);

/* The item for a SET-like command's key argument ki and value argument vi: the one the value was
 * received into, or a new one with a copy. NULL with *st (CACHE_TOO_LARGE for a value whose bytes
 * were dropped). */
struct item *resp_value_item(struct resp_session *s, const struct resp_args *a, size_t ki, size_t vi,
                             enum cache_status *st);

/* Links a private item under Redis's SET rules: mode NX/XX, exp (or the old item's expiry when
 * keep_ttl), and the old live item handed back with a reference when old is not NULL (NULL if
 * none). CACHE_OK, CACHE_NOT_STORED (NX/XX condition), or a memory failure. */
enum cache_status resp_store(struct resp_session *s, struct item *it, enum resp_set_mode mode, cache_exp_t exp,
                             bool keep_ttl, struct item **old);

/* Replies Redis's error for a failed allocation or store (size or memory). */
void resp_status_error(struct resp_session *s, enum cache_status st, struct outq *out);

#endif

/* Read-modify-write of one key, atomically under its lock (Redis's INCR, APPEND, SETRANGE ...). plan
 * sees the live old item (NULL when missing) and either sets *nbytes and returns 0, or returns a
 * non-zero code to stop (nothing changes; the code comes back in *stopped). fill then writes the new
 * value. The new item keeps the old one's flags and expiry (none for a new key). */
typedef int (*resp_plan_fn)(void *arg, const struct item *old, size_t *nbytes);
typedef void (*resp_fill_fn)(void *arg, const struct item *old, char *dst);
enum cache_status resp_rmw(struct resp_session *s, const char *key, size_t nkey, resp_plan_fn plan,
                           resp_fill_fn fill, void *arg, int *stopped);
