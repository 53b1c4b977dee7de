/*
 * fuzz_snapshot.c: libFuzzer target for the snapshot reader (snapshot_verify, snapshot_load), through
 * the public API only: the input becomes a file, a small cache loads it, and the target checks the
 * cache afterwards.
 *
 * A checksum guards every snapshot, so random bytes would almost never get past it. The first input
 * byte therefore picks how the file is made from the rest (format in storage/snapshot.h), by its
 * value modulo 4 (inputs written when there were three modes keep their meaning):
 *   mode 0  the rest is the whole file, as it is;
 *   mode 1  the rest is header and records; the target appends a footer with the right record count
 *           and checksum;
 *   mode 2  the rest is version 2 records only (26-byte fixed part, u8 key length, expiries in Unix
 *           seconds); the target writes a good version 2 header in front (item size limit 1 MiB) and
 *           the footer;
 *   mode 3  the same with version 3 records (30-byte fixed part: expiry kind, expiries in Unix
 *           milliseconds, u32 key length) and a version 3 header.
 * Modes 1 to 3 put the record parser and the load path in front of the fuzzer.
 *
 * What must hold, whatever the file:
 * - a file that fails verification loads nothing; a load that succeeds had a file that verifies;
 * - every record is stored, skipped as expired or left out, never more; PARTIAL iff some were left out;
 * - the records as this target reads the documented format agree with the verifier's count;
 * - every item in the cache is found by its key and equals a record with that key (flags, value; CAS
 *   and the last record for its key when nothing was skipped); the cache's item count and byte total
 *   match the items found;
 * - saving the loaded cache and loading that file into a fresh cache gives back the same items.
 *
 * Temporary files live in /dev/shm when it exists (a save fsyncs), one pair per process.
 */
#include "config.h"

#include <fcntl.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <xxhash.h>

#include "storage/cache.h"
#include "storage/snapshot.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);
int LLVMFuzzerInitialize(int *argc, char ***argv);

#define FUZZ_CHECK(cond)                                                                         \
    do {                                                                                         \
        if (!(cond)) {                                                                           \
            fprintf(stderr, "fuzz_snapshot: check failed at line %d: %s\n", __LINE__, #cond);    \
            abort();                                                                             \
        }                                                                                        \
    } while (0)

#define HEADER_V1_LEN 24u /* version 1: no item size limit */
#define HEADER_LEN    28u /* versions 2 and 3 */
#define RECORD_V2_LEN 26u /* versions 1 and 2 */
#define RECORD_V3_LEN 30u
#define FOOTER_LEN 24u
#define MAX_RECORDS 4096u

static char path_in[256], path_out[256];

struct rec {
    const uint8_t *key, *value;
    size_t nkey, nbytes;
    uint32_t flags;
    uint64_t expiry, cas;
};

static uint32_t get_u32(const uint8_t *p)
{
    return (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 | (uint32_t)p[3] << 24;
}

static uint64_t get_u64(const uint8_t *p)
{
    return (uint64_t)get_u32(p) | (uint64_t)get_u32(p + 4) << 32;
}

static void put_u32(uint8_t *p, uint32_t v)
{
    for (int i = 0; i < 4; i++)
        p[i] = (uint8_t)(v >> (8 * i));
}

static void put_u64(uint8_t *p, uint64_t v)
{
    for (int i = 0; i < 8; i++)
        p[i] = (uint8_t)(v >> (8 * i));
}

/* The version the file names, read as 1, 2 or 3 (anything else fails verification before the
 * records matter: it is read as version 2). */
static uint32_t file_version(const uint8_t *f, size_t len)
{
    uint32_t v = len >= 12 ? get_u32(f + 8) : 2;
    return v == 1 || v == 3 ? v : 2;
}

/* Whether tag starts a record in a file of this version: 0x01 (text key) always, 0x02 (binary key)
 * from version 2 on, 0x03 (raw key) from version 3 on. */
static bool record_tag(uint8_t tag, uint32_t version)
{
    return tag == 0x01 || (tag == 0x02 && version >= 2) || (tag == 0x03 && version >= 3);
}

/* Walks the records after the header as the format describes them; returns how many there are and
 * sets *end to the offset where the walk stopped (the footer's tag in a good file). */
static size_t walk_records(const uint8_t *f, size_t len, struct rec *out, size_t max, size_t *end)
{
    uint32_t version = file_version(f, len);
    size_t hlen = version == 1 ? HEADER_V1_LEN : HEADER_LEN;
    size_t rlen = version >= 3 ? RECORD_V3_LEN : RECORD_V2_LEN;
    size_t pos = hlen, n = 0;
    while (pos + rlen <= len && record_tag(f[pos], version)) {
        size_t nkey = version >= 3 ? get_u32(f + pos + 26) : f[pos + 1];
        size_t nbytes = get_u32(f + pos + 22);
        if ((version < 3 && nkey == 0) || nbytes > len - pos - rlen || nkey > len - pos - rlen - nbytes)
            break;
        if (n < max) {
            out[n].nkey = nkey;
            out[n].flags = get_u32(f + pos + 2);
            out[n].expiry = get_u64(f + pos + 6);
            out[n].cas = get_u64(f + pos + 14);
            out[n].nbytes = nbytes;
            out[n].key = f + pos + rlen;
            out[n].value = f + pos + rlen + nkey;
        }
        n++;
        pos += rlen + nkey + nbytes;
    }
    *end = pos;
    return n;
}

/* Builds the file for the input's mode; returns a malloc'd buffer. */
static uint8_t *make_file(const uint8_t *data, size_t size, size_t *len)
{
    unsigned mode = size > 0 ? data[0] % 4u : 0;
    const uint8_t *rest = size > 0 ? data + 1 : data;
    size_t nrest = size > 0 ? size - 1 : 0;
    uint8_t *f = malloc(HEADER_LEN + nrest + FOOTER_LEN);
    FUZZ_CHECK(f != NULL);
    size_t n = 0;
    if (mode >= 2) {
        memcpy(f, SNAPSHOT_MAGIC, 8);
        put_u32(f + 8, mode == 2 ? 2 : 3);
        put_u32(f + 12, 0);
        put_u64(f + 16, 1700000000u);
        put_u32(f + 24, 1u << 20); /* the saver's item size limit */
        n = HEADER_LEN;
    }
    memcpy(f + n, rest, nrest);
    n += nrest;
    if (mode != 0 && n >= (file_version(f, n) == 1 ? HEADER_V1_LEN : HEADER_LEN)) {
        size_t end;
        struct rec dummy;
        uint64_t count = walk_records(f, n, &dummy, 0, &end);
        uint64_t sum = XXH3_64bits(f, n);
        f[n] = 0xff;
        memcpy(f + n + 1, "SNAPEND", 7);
        put_u64(f + n + 8, count);
        put_u64(f + n + 16, sum);
        n += FOOTER_LEN;
    }
    *len = n;
    return f;
}

static void write_file(const char *path, const uint8_t *f, size_t n)
{
    int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC, 0600);
    FUZZ_CHECK(fd >= 0);
    FUZZ_CHECK(write(fd, f, n) == (ssize_t)n);
    close(fd);
}

static struct cache *small_cache(void)
{
    struct cache_options o;
    cache_options_default(&o);
    o.memory_limit = 4u << 20; /* four 1 MiB pages: a few classes, and records that do not fit */
    o.item_size_max = 256u << 10;
    o.shard_bits = 2;
    o.hash_power = 4;
    const char *err = NULL;
    struct cache *c = cache_create(&o, &err);
    FUZZ_CHECK(c != NULL);
    return c;
}

static uint64_t curr_items(struct cache *c, uint64_t *bytes)
{
    struct cache_stats st;
    cache_stats_get(c, &st);
    if (bytes != NULL)
        *bytes = st.bytes;
    return st.curr_items;
}

static bool same_as(const struct item *it, const struct rec *r)
{
    return item_nbytes(it) == r->nbytes && it->client_flags == r->flags &&
           memcmp(item_value_const(it), r->value, r->nbytes) == 0;
}

/* The items of src (keys from recs) are in dst unchanged; a miss is allowed only for an item that
 * can expire. */
static void check_copy(struct cache *src, struct cache *dst, const struct rec *recs, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        struct item *a = cache_get(src, (const char *)recs[i].key, recs[i].nkey, NULL);
        if (a == NULL)
            continue;
        struct item *b = cache_get(dst, (const char *)recs[i].key, recs[i].nkey, NULL);
        if (b == NULL) {
            FUZZ_CHECK(item_exptime(a) != 0);
        } else {
            FUZZ_CHECK(item_nbytes(a) == item_nbytes(b) && a->client_flags == b->client_flags);
            FUZZ_CHECK(memcmp(item_value_const(a), item_value_const(b), item_nbytes(a)) == 0);
            FUZZ_CHECK(item_cas(a) == item_cas(b));
            cache_item_release(dst, &b);
        }
        cache_item_release(src, &a);
    }
}

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
    (void)argc;
    (void)argv;
    const char *dir = access("/dev/shm", W_OK) == 0 ? "/dev/shm" : getenv("TMPDIR") ? getenv("TMPDIR") : "/tmp";
    snprintf(path_in, sizeof(path_in), "%s/cairn-fuzz-snap-%ld.in", dir, (long)getpid());
    snprintf(path_out, sizeof(path_out), "%s/cairn-fuzz-snap-%ld.out", dir, (long)getpid());
    return 0;
}

static void cleanup(void)
{
    unlink(path_in);
    unlink(path_out);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    static bool registered;
    if (!registered) {
        atexit(cleanup);
        registered = true;
    }
    size_t flen;
    uint8_t *f = make_file(data, size, &flen);
    write_file(path_in, f, flen);

    struct snapshot_result vr, lr;
    enum snapshot_status vst = snapshot_verify(path_in, &vr);
    /* A file that fails verification goes to one long-lived cache that must stay empty (it stays
     * the same from run to run as long as that holds); a good one to a fresh cache. Creating a
     * cache costs more than the rest of a run. */
    static struct cache *empty;
    if (empty == NULL)
        empty = small_cache();
    struct cache *c = vst == SNAPSHOT_OK ? small_cache() : empty;
    enum snapshot_status lst = snapshot_load(c, path_in, &lr);
    bool loaded = lst == SNAPSHOT_OK || lst == SNAPSHOT_PARTIAL;
    uint64_t bytes;
    uint64_t items = curr_items(c, &bytes);

    if (vst != SNAPSHOT_OK || !loaded) {
        FUZZ_CHECK(!loaded);
        FUZZ_CHECK(items == 0);
        goto out;
    }
    FUZZ_CHECK(lr.items + lr.expired + lr.left_out <= vr.items);
    FUZZ_CHECK((lst == SNAPSHOT_PARTIAL) == (lr.left_out > 0));
    FUZZ_CHECK(items <= lr.items);

    static struct rec recs[MAX_RECORDS];
    size_t end;
    size_t n = walk_records(f, flen, recs, MAX_RECORDS, &end);
    FUZZ_CHECK(n == vr.items);
    FUZZ_CHECK(end + FOOTER_LEN == flen);
    if (n > MAX_RECORDS)
        goto out;

    /* Every key: what the cache holds equals one of its records (the last one when nothing was
     * skipped); the items found account for the cache's count and bytes. */
    uint64_t found = 0, found_bytes = 0;
    bool all_in = lr.expired == 0 && lr.left_out == 0 && lr.items == n;
    for (size_t i = 0; i < n; i++) {
        bool later = false;
        for (size_t j = i + 1; j < n && !later; j++)
            later = recs[j].nkey == recs[i].nkey && memcmp(recs[j].key, recs[i].key, recs[i].nkey) == 0;
        if (later)
            continue; /* judge each key once, at its last record */
        struct item *it = cache_get(c, (const char *)recs[i].key, recs[i].nkey, NULL);
        if (it == NULL) {
            FUZZ_CHECK(!all_in || recs[i].expiry != 0);
            continue;
        }
        found++;
        found_bytes += item_size(it);
        FUZZ_CHECK(item_nkey(it) == recs[i].nkey && memcmp(item_key(it), recs[i].key, recs[i].nkey) == 0);
        if (all_in) {
            FUZZ_CHECK(same_as(it, &recs[i]));
            FUZZ_CHECK(item_cas(it) == recs[i].cas);
        } else {
            bool match = false;
            for (size_t j = 0; j <= i && !match; j++)
                match = recs[j].nkey == recs[i].nkey && memcmp(recs[j].key, recs[i].key, recs[i].nkey) == 0 &&
                        same_as(it, &recs[j]) && item_cas(it) == recs[j].cas;
            FUZZ_CHECK(match);
        }
        cache_item_release(c, &it);
    }
    /* An item may expire between the load and the lookups (a second boundary): allow only that. */
    FUZZ_CHECK(found <= items);
    if (found == items)
        FUZZ_CHECK(found_bytes == bytes);

    /* Round trip: what the loaded cache saves, a fresh cache loads back the same. */
    if (items > 0) {
        struct snapshot_result sr, r2;
        FUZZ_CHECK(snapshot_save(c, path_out, &sr) == SNAPSHOT_OK);
        FUZZ_CHECK(snapshot_verify(path_out, NULL) == SNAPSHOT_OK);
        struct cache *c2 = small_cache();
        enum snapshot_status st2 = snapshot_load(c2, path_out, &r2);
        FUZZ_CHECK(st2 == SNAPSHOT_OK);
        FUZZ_CHECK(r2.items + r2.expired == sr.items);
        check_copy(c, c2, recs, n);
        cache_destroy(&c2);
    }
out:
    if (c != empty)
        cache_destroy(&c);
    free(f);
    return 0;
}
