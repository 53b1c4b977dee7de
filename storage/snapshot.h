/*
 * snapshot.h: saving the cache's contents to a file while it serves, verifying such a file, and
 * loading it back (warm restart).
 *
 * A save walks the hash table one shard at a time: under that shard's lock it copies the live,
 * unexpired items, already encoded as file records, into a private buffer; it then drops the lock
 * and writes the buffer. No lock is held during I/O, and a request waits at most for one shard's
 * copy. The file is written as path + ".tmp.<pid>" in the same directory, created with
 * O_CREAT|O_EXCL|O_NOFOLLOW and mode 0600 (a name that exists, a planted link included, fails the
 * save: nothing is followed or overwritten), fsync'd, renamed over path, and the directory is
 * fsync'd; on any error the temporary file is removed, so the previous snapshot at path is never
 * touched. A symbolic link at path is refused (save and load): the snapshot is always a regular file
 * in the directory named, never somewhere a link points to.
 *
 * File format, version 3. All integers are little-endian, fixed width, written byte by byte:
 *
 *   header (28 bytes)
 *   +-------------------------+----------+----------+---------------------+------------------+
 *   | magic "CAIRNSNP" (8)    | version  | flags    | created, Unix s     | item size limit  |
 *   |                         | u32 = 3  | u32 = 0  | (u64)               | of the saver, u32|
 *   +-------------------------+----------+----------+---------------------+------------------+
 *   record (30 bytes + key + value), repeated
 *   +-----+------+-------------+-------------------+----------+--------+------+-----+-------+
 *   | tag | kind | client flags| expiry (u64)      | CAS (u64)| nbytes | nkey | key | value |
 *   |     | u8   | u32         | Unix ms, 0 = never|          | u32    | u32  |     |       |
 *   +-----+------+-------------+-------------------+----------+--------+------+-----+-------+
 *   footer (24 bytes), the last bytes of the file
 *   +-----+--------------------+------------------+-----------------------------------+
 *   | tag | marker "SNAPEND"   | record count u64 | XXH3-64 of every byte before the  |
 *   | 0xFF| (7)                |                  | footer (header and records)       |
 *   +-----+--------------------+------------------+-----------------------------------+
 *
 * A record's tag says how its key is kept: 0x01 a text key (no control byte, space or DEL), 0x02 a
 * binary key (stored by a meta command with `b`: ITEM_LENS_KEY_BINARY), 0x03 any other key (bytes the
 * text protocols cannot name, from RESP; no base64 mark). Its kind says how its expiry takes effect:
 * 0x00 at the whole second (memcached's; the expiry is then a multiple of 1000), 0x01 at its
 * millisecond (precise: Redis's PX). The expiry is absolute so that the time left survives a restart
 * to the millisecond; CAS is the item's unique, restored on load (the cache's counter then moves past
 * the largest one).
 *
 * Older versions still load. Version 2 (before long keys and precise expiries) has 26-byte records:
 * tag (0x01 or 0x02), nkey u8, client flags u32, expiry u64 in Unix seconds (whole seconds), CAS
 * u64, nbytes u32, at the same offsets as version 3 except that byte 1 is nkey and there is no u32
 * nkey. Version 1 (written before binary keys were tagged) has a 24-byte header without the item size
 * limit and only tag 0x01; it still loads (see snapshot_load).
 *
 * What a loader accepts (anything else refuses the whole file with the status named):
 *   header   magic, version 1, 2 or 3 (ERR_MAGIC, ERR_VERSION); flags 0, created below 2^40, item size
 *            limit 1 KiB..1 GiB (ERR_HEADER)
 *   tag      0x01, 0x02 (version 2 on), 0x03 (version 3), 0xFF for the footer (ERR_RECORD)
 *   nkey     versions 1 and 2: 1..250; version 3: 0..CACHE_KEY_MAX and at most the header's item size
 *            limit (ERR_KEY_LENGTH)
 *   key      a text key (tag 0x01) has no byte <= 0x20 and no 0x7f, as the text protocols require; a
 *            binary or raw key may hold any byte (ERR_KEY_BYTES)
 *   nbytes   at most the header's item size limit (1 GiB in version 1) (ERR_VALUE_LENGTH); a value
 *            within it but over this cache's limit is left out, not refused (the limit changed)
 *   flags    any 32-bit value
 *   CAS      below SNAPSHOT_CAS_LIMIT = 2^63, so that the counter, moved past it, stays far from
 *            wrapping (ERR_CAS); 0 (a cache without CAS) is kept as 0
 *   expiry   0, or at most created + SNAPSHOT_EXPIRY_SPAN (2^33 s; an item's relative expiry is a
 *            32-bit count of seconds since its cache started); in version 3 (milliseconds) kind 0 or
 *            1, a whole-second expiry a multiple of 1000, 0 only with kind 0 (ERR_EXPIRY)
 *   footer   marker and record count (ERR_FOOTER), checksum (ERR_CHECKSUM), nothing after it
 *            (ERR_TRAILING)
 *
 * Threads: snapshot_save may run while other threads use the cache (one save at a time per path:
 * the caller serialises saves). snapshot_load is meant for start-up but is safe alongside other
 * users. snapshot_verify touches no cache.
 */
#ifndef CAIRN_STORAGE_SNAPSHOT_H
#define CAIRN_STORAGE_SNAPSHOT_H

#include <stdint.h>

#include "storage/cache.h"

#define SNAPSHOT_MAGIC "CAIRNSNP"
#define SNAPSHOT_VERSION       3u
#define SNAPSHOT_KEY_MAX_V2    250u         /* the longest key of a version 1 or 2 file */
#define SNAPSHOT_CAS_LIMIT     (1ull << 63) /* a loaded CAS unique is below this */
#define SNAPSHOT_EXPIRY_SPAN   (1ull << 33) /* a loaded expiry is at most created + this */
#define SNAPSHOT_ITEM_SIZE_MAX (1ull << 30) /* the largest item size limit (-I) a file may declare */

enum snapshot_status {
    SNAPSHOT_OK = 0,
    SNAPSHOT_ERR_OPEN,         /* cannot open or create the file (saved_errno) */
    SNAPSHOT_ERR_WRITE,        /* write failed: disk full, file size limit, I/O error (saved_errno) */
    SNAPSHOT_ERR_FSYNC,        /* fsync of the file or its directory failed (saved_errno) */
    SNAPSHOT_ERR_RENAME,       /* renaming the temporary file over the snapshot failed (saved_errno) */
    SNAPSHOT_ERR_READ,         /* read failed (saved_errno) */
    SNAPSHOT_ERR_TRUNCATED,    /* the file ends before its footer */
    SNAPSHOT_ERR_MAGIC,        /* not a snapshot file */
    SNAPSHOT_ERR_VERSION,      /* a snapshot of a format version this build does not read */
    SNAPSHOT_ERR_CHECKSUM,     /* the contents do not match the footer's checksum */
    SNAPSHOT_ERR_RECORD,       /* a record with an unknown tag */
    SNAPSHOT_ERR_FOOTER,       /* bad footer marker or wrong record count */
    SNAPSHOT_ERR_NOMEM,        /* no memory for a buffer */
    SNAPSHOT_PARTIAL,          /* load: the file is good but not everything fit in memory */
    SNAPSHOT_ERR_SYMLINK,      /* the snapshot path is a symbolic link: refused, never followed */
    SNAPSHOT_ERR_NOT_FILE,     /* the snapshot path is not a regular file (a directory, a FIFO, ...) */
    SNAPSHOT_ERR_TEMP_EXISTS,  /* save: the temporary file's name is taken (nothing overwritten) */
    SNAPSHOT_ERR_HEADER,       /* header flags, creation time or item size limit out of range */
    SNAPSHOT_ERR_KEY_LENGTH,   /* a key of 0 or more than 250 bytes (v1, v2), too long (v3) */
    SNAPSHOT_ERR_KEY_BYTES,    /* a text key with a control byte, space or DEL */
    SNAPSHOT_ERR_VALUE_LENGTH, /* a value longer than the file's item size limit */
    SNAPSHOT_ERR_CAS,          /* a CAS unique at or above SNAPSHOT_CAS_LIMIT */
    SNAPSHOT_ERR_EXPIRY,       /* an expiry beyond the file's creation time + SNAPSHOT_EXPIRY_SPAN */
    SNAPSHOT_ERR_TRAILING      /* bytes after the footer */
};

/* What one call did. Counters that do not apply stay 0. */
struct snapshot_result {
    enum snapshot_status status;
    int saved_errno;      /* errno of the failing system call, 0 if none */
    uint64_t items;       /* records written (save), checked (verify) or stored (load) */
    uint64_t bytes;       /* file size written or read */
    uint64_t duration_ns; /* wall time of the call */
    uint64_t expired;     /* items skipped because they had expired (save, load) */
    uint64_t left_out;    /* load: records not stored for lack of memory (or too large) */
    uint64_t offset;      /* verify, load: where a bad file went wrong (the record or footer at
                             fault, or the header: 0) */
};

/* A static, human-readable message for st. */
const char *snapshot_strerror(enum snapshot_status st);

/* A static token for st without spaces ("ok", "checksum_mismatch", "bad_key_bytes"...), as `stats`
 * shows it. */
const char *snapshot_status_token(enum snapshot_status st);

/*
 * Saves every live item of c to path (see the design note above). r (may be NULL) gets the
 * outcome. On failure the temporary file is gone (unless its name was taken: ERR_TEMP_EXISTS, and
 * then nothing was written) and path is unchanged. Holds each shard lock only while copying that
 * shard; never during I/O.
 */
enum snapshot_status snapshot_save(struct cache *c, const char *path, struct snapshot_result *r);

/* Reads the whole file at path once and checks everything the loader checks (see above). r (may be
 * NULL) gets the record count and size. */
enum snapshot_status snapshot_verify(const char *path, struct snapshot_result *r);

/*
 * Loads the snapshot at path into c in one pass over one open file (O_NOFOLLOW: a link is refused).
 * Each record is checked, then staged: copied into an item allocated but not linked, so that no
 * client can see it. Only when the footer's count and checksum match are the staged items linked
 * (as CACHE_SET, replacing an item with the same key) with their client flags, remaining time to
 * live (to the millisecond for a precise expiry) and CAS unique; a refused file links nothing and
 * gives every staged item's memory back, so the cache is as it was. Records already expired on c's
 * clock are skipped. A record that finds no memory without evicting, or that is over c's item size
 * limit, is left out (counted) and loading goes on with the next one. A version 1 file has no key
 * tags: a key that is a valid text key loads as one, any other (it can only come from a binary key)
 * loads as a binary key. Version 1 and 2 expiries are whole seconds.
 * Returns SNAPSHOT_OK, SNAPSHOT_PARTIAL when records were left out, or the file's error.
 */
enum snapshot_status snapshot_load(struct cache *c, const char *path, struct snapshot_result *r);

#endif
