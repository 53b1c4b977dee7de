/*
 * mc_arith.h: memcached 1.6.18's incr/decr rules, as a read-modify-write for storage's cache_rmw
 * (the storage engine replaces the item atomically; this file says what the new value is). Used by
 * the classic incr/decr (memcache.c) and by the meta ma (mc_meta.c, through cache_meta_arith, which
 * adds ma's CAS check and expiry rules).
 *
 * The rules, byte for byte as memcached answers:
 * - the stored value is parsed as strtoull() parses it followed by "\r\n": leading whitespace, one
 *   optional sign, decimal digits, then whitespace, a NUL byte or the end; no digits, or a number
 *   past 2^64 - 1, is not numeric; a '-' negates modulo 2^64 and is refused when the result read as
 *   a signed 64-bit number is negative ("-0" is 0, "-18446744073709551615" is 1, "-1" fails); an
 *   empty value or only whitespace is not numeric;
 * - a value memcached would store in chunks is not numeric either, whatever it holds: one whose
 *   item, as memcached sizes it (48-byte header, the key and a NUL, 4 bytes of flags unless they are
 *   0, the value and "\r\n", 8 bytes of CAS unless -C), is over its 512 KiB slab_chunk_max;
 * - incr wraps at 2^64, decr stops at 0;
 * - a result not longer than the old value is written over it in place, padded with spaces to the
 *   old length ("10" decr 1 is "9 "), when nobody else holds the item (memcached's refcount == 2):
 *   the item keeps its state (fetched, stale mark and recache token, the base64-key mark of a meta
 *   `b` key, flags, expiry) and gets a new CAS unique and access time; otherwise (a longer result,
 *   or a reader still writing the item out) a new item holds exactly the digits, with old's flags
 *   and expiry and none of that state (memcached relinks it);
 * - a missing key is CACHE_NOT_FOUND unless vivify is set (ma's N), which creates it holding
 *   `initial` exactly, flags 0.
 *
 * Threads: a struct mc_arith belongs to one call; the callbacks run under the key's shard lock.
 */
#ifndef CAIRN_PROTOCOL_MC_ARITH_H
#define CAIRN_PROTOCOL_MC_ARITH_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "storage/cache.h"

#define MC_ARITH_DIGITS_MAX 20 /* 18446744073709551615 */
#define MC_ARITH_CHUNK_MAX  (512u * 1024u) /* memcached's slab_chunk_max: larger items are chunked */

struct mc_arith {
    bool incr; /* else decr */
    uint64_t delta;
    bool use_cas; /* the server gives CAS uniques (memcached's item size counts 8 bytes for them) */
    bool vivify; /* a missing key is created holding initial (ma N) */
    uint64_t initial;
    /* set by the plan: */
    uint64_t value; /* the new number (initial when created) */
    char digits[MC_ARITH_DIGITS_MAX + 1];
    size_t ndigits;
};

/* Fills op with the plan and fill of a (arg = a) and the incr_hits/decr_hits counter, for cache_rmw
 * or cache_meta_arith. After CACHE_OK, a->value is the number the reply shows. */
void mc_arith_op(struct mc_arith *a, struct cache_rmw *op);

/* Whether old is refused before anything else is looked at (arg = a struct mc_arith): empty, or
 * stored in chunks by memcached (above). ma checks it before the CAS (cache_meta_arith's refuse);
 * the plan checks it again. */
bool mc_arith_refuse(void *arg, const struct item *old);

#endif
