/*
 * snapshot.h: saving the cache's contents to a file while it serves, verifying such a file, and
 * loading it back (warm restart).
 *
 * A save walks the hash table one shard at a time: under that shard's lock it copies the live,
 * unexpired items, already encoded as file records, into a private buffer; it then drops the lock
 * and writes the buffer. No lock is held during I/O, and a request waits at most for one shard's
 * copy. The file is written as path + ".tmp.<pid>" in the same directory, fsync'd, renamed over
 * path, and the directory is fsync'd; on any error the temporary file is removed, so the previous
 * snapshot at path is never touched.
 *
 * File format, version 1. All integers are little-endian, fixed width, written byte by byte:
 *
 *   header (24 bytes)
 *   +--------------------------------+----------+----------+------------------------+
 *   | magic "CAIRNSNP" (8)           | version  | flags    | created, Unix s (u64)  |
 *   |                                | u32 = 1  | u32 = 0  |                        |
 *   +--------------------------------+----------+----------+------------------------+
 *   record (26 bytes + key + value), repeated
 *   +-----+------+-------------+------------------+--------------+--------+-----+-------+
 *   | tag | nkey | client flags| expiry (u64)     | CAS (u64)    | nbytes | key | value |
 *   | 0x01| u8   | u32         | Unix s, 0 = never|              | u32    |     |       |
 *   +-----+------+-------------+------------------+--------------+--------+-----+-------+
 *   footer (24 bytes), the last bytes of the file
 *   +-----+--------------------+------------------+-----------------------------------+
 *   | tag | marker "SNAPEND"   | record count u64 | XXH3-64 of every byte before the  |
 *   | 0xFF| (7)                |                  | footer (header and records)       |
 *   +-----+--------------------+------------------+-----------------------------------+
 *
 * nkey is 1..250. The tag byte tells a record from the footer. A record's expiry is absolute so that the time left survives a restart; CAS is
 * the item's unique, restored on load (the cache's counter then moves past the largest one).
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
#define SNAPSHOT_VERSION 1u

enum snapshot_status {
    SNAPSHOT_OK = 0,
    SNAPSHOT_ERR_OPEN,      /* cannot open or create the file (saved_errno) */
    SNAPSHOT_ERR_WRITE,     /* write failed: disk full, file size limit, I/O error (saved_errno) */
    SNAPSHOT_ERR_FSYNC,     /* fsync of the file or its directory failed (saved_errno) */
    SNAPSHOT_ERR_RENAME,    /* renaming the temporary file over the snapshot failed (saved_errno) */
    SNAPSHOT_ERR_READ,      /* read failed (saved_errno) */
    SNAPSHOT_ERR_TRUNCATED, /* the file ends before its footer */
    SNAPSHOT_ERR_MAGIC,     /* not a snapshot file */
    SNAPSHOT_ERR_VERSION,   /* a snapshot of a format version this build does not read */
    SNAPSHOT_ERR_CHECKSUM,  /* the contents do not match the footer's checksum */
    SNAPSHOT_ERR_RECORD,    /* a record with an impossible tag or key length */
    SNAPSHOT_ERR_FOOTER,    /* bad footer marker, wrong record count or bytes after the footer */
    SNAPSHOT_ERR_NOMEM,     /* no memory for a buffer */
    SNAPSHOT_PARTIAL        /* load: the file is good but not everything fit in memory */
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
};

/* A static, human-readable message for st. */
const char *snapshot_strerror(enum snapshot_status st);

/*
 * Saves every live item of c to path (see the design note above). r (may be NULL) gets the
 * outcome. On failure the temporary file is gone and path is unchanged. Holds each shard lock only
 * while copying that shard; never during I/O.
 */
enum snapshot_status snapshot_save(struct cache *c, const char *path, struct snapshot_result *r);

/* Reads the whole file at path and checks magic, version, every record's framing, the record count
 * and the checksum. r (may be NULL) gets the record count and size. */
enum snapshot_status snapshot_verify(const char *path, struct snapshot_result *r);

/*
 * Verifies path, then stores its records in c (as CACHE_SET) with their client flags, remaining
 * time to live and CAS unique; records already expired on c's clock are skipped. A record that
 * finds no memory without evicting is left out (counted) and loading goes on with the next one.
 * A bad file loads nothing. Returns SNAPSHOT_OK, SNAPSHOT_PARTIAL when records were left out, or
 * the file's error.
 */
enum snapshot_status snapshot_load(struct cache *c, const char *path, struct snapshot_result *r);

#endif
