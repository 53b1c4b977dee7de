/*
 * test_snapshot.c: snapshot save, verify and load (storage/snapshot.h): round trip of every field,
 * TTLs across a moved clock, a save while 8 threads write, and every failure (truncated, corrupt,
 * wrong magic or version, missing, unreadable, unwritable directory, file size limit mid-write),
 * each of which must load nothing and leave the previous snapshot loadable.
 *
 * The loader's table (crafted_files) builds files byte by byte, each with one bad field behind a
 * good record, and checks that each is refused with the status naming it and leaves the cache as it
 * was (same items, CAS counter and chunks in use). The file checks (planted link at the temporary
 * name, link at the path, mode 0600) and the CAS bound follow.
 *
 * Files go to a fresh directory under /tmp per test. CAIRN_SNAPSHOT_ITEMS sets the item count of
 * the timing test (default 100000; 1000000 for the figures); it prints, never asserts, times.
 */
#include "config.h"

#include <errno.h>
#include <pthread.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdint.h>
#include <stdlib.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>
#include <xxhash.h>

#include "storage/snapshot.h"
#include "tests/unit/storage/storage_test.h"

static char dir[64];
static char path[128];

static void setup_dir(void)
{
    snprintf(dir, sizeof dir, "/tmp/cairn-snap-XXXXXX");
    cr_assert_not_null(mkdtemp(dir));
    snprintf(path, sizeof path, "%s/cache.snap", dir);
}

static void teardown_dir(void)
{
    char cmd[128];

    chmod(dir, 0700);
    snprintf(cmd, sizeof cmd, "rm -rf '%s'", dir);
    cr_assert_eq(system(cmd), 0);
}

TestSuite(snapshot, .init = setup_dir, .fini = teardown_dir, .timeout = 120);

static void set_bin(struct cache *c, const char *key, const void *val, size_t n, uint32_t flags,
                    cache_exp_t exp)
{
    enum cache_status st;
    struct item *it = cache_alloc(c, key, strlen(key), flags, exp, n, &st);

    cr_assert_not_null(it, "alloc %s: %d", key, st);
    memcpy(item_value(it), val, n);
    cr_assert_eq(cache_store(c, it, CACHE_SET, 0, NULL), CACHE_OK);
    cache_item_release(c, &it);
}

static void save_ok(struct cache *c, uint64_t want_items)
{
    struct snapshot_result r;

    cr_assert_eq(snapshot_save(c, path, &r), SNAPSHOT_OK, "save: %s (errno %d)",
                 snapshot_strerror(r.status), r.saved_errno);
    cr_assert_eq(r.items, want_items, "saved %llu items", (unsigned long long)r.items);
}

static uint64_t cas_of(struct cache *c, const char *key)
{
    struct item *it = cache_get(c, key, strlen(key), NULL);
    uint64_t cas;

    cr_assert_not_null(it, "%s missing", key);
    cas = item_cas(it);
    cache_item_release(c, &it);
    return cas;
}

Test(snapshot, round_trip_every_field)
{
    struct cache *a = st_cache(0, 0, 2, 0), *b = st_cache(0, 0, 4, 0);
    static char big[500000];
    char key250[251];
    const char bin[] = "a\r\nb\0c\r\n";
    struct snapshot_result r;
    struct item *it;
    uint64_t cas_bin, cas_big;

    for (size_t i = 0; i < sizeof big; i++)
        big[i] = (char)(i * 7);
    memset(key250, 'k', 250);
    key250[250] = 0;
    set_bin(a, "bin", bin, sizeof bin, 0xdeadbeef, 0);
    set_bin(a, "empty", "", 0, 7, 0);
    set_bin(a, key250, "long key", 8, 1, 0);
    set_bin(a, "big", big, sizeof big, 2, 0);
    cas_bin = cas_of(a, "bin");
    cas_big = cas_of(a, "big");
    save_ok(a, 4);
    cr_assert_eq(snapshot_verify(path, &r), SNAPSHOT_OK);
    cr_assert_eq(r.items, 4);
    cr_assert_eq(snapshot_load(b, path, &r), SNAPSHOT_OK, "%s", snapshot_strerror(r.status));
    cr_assert_eq(r.items, 4);
    it = cache_get(b, "bin", 3, NULL);
    cr_assert_not_null(it);
    cr_assert_eq(item_nbytes(it), sizeof bin);
    cr_assert(memcmp(item_value(it), bin, sizeof bin) == 0);
    cr_assert_eq(item_client_flags(it), 0xdeadbeef);
    cr_assert_eq(item_cas(it), cas_bin);
    cr_assert_eq(item_exptime(it), 0);
    cache_item_release(b, &it);
    it = cache_get(b, "big", 3, NULL);
    cr_assert_not_null(it);
    cr_assert_eq(item_nbytes(it), sizeof big);
    cr_assert(memcmp(item_value(it), big, sizeof big) == 0);
    cr_assert_eq(item_cas(it), cas_big);
    cache_item_release(b, &it);
    st_expect(b, "empty", "");
    st_expect(b, key250, "long key");
    cr_assert_eq(st_set(b, "new", "x"), CACHE_OK);
    cr_assert_gt(cas_of(b, "new"), cas_big, "CAS must move past the loaded ones");
    cache_destroy(&a);
    cache_destroy(&b);
}

Test(snapshot, ttl_kept_across_moved_clock_and_expired_skipped)
{
    struct cache *a = st_cache(0, 0, 0, 0), *b = st_cache(0, 0, 0, 0);
    struct snapshot_result r;
    struct item *it;
    int64_t left;

    cache_clock_set(a, 1000);
    set_bin(a, "ttl", "v", 1, 0, st_at(1000 + 500));
    set_bin(a, "short", "v", 1, 0, st_at(1000 + 5));
    set_bin(a, "gone", "v", 1, 0, st_at(1000 + 1));
    set_bin(a, "forever", "v", 1, 0, 0);
    cache_clock_set(a, 1001);
    save_ok(a, 3);
    cr_assert_eq(snapshot_save(a, path, &r), SNAPSHOT_OK);
    cr_assert_eq(r.expired, 1);
    /* b started 100 s later in Unix time, and 10 s have passed on its clock */
    cache_clock_set(b, 10);
    left = (int64_t)cache_process_started(a) + 1500 - (int64_t)cache_process_started(b);
    cr_assert_eq(snapshot_load(b, path, &r), SNAPSHOT_OK);
    it = cache_get(b, "ttl", 3, NULL);
    cr_assert_not_null(it);
    cr_assert_eq((int64_t)item_exptime(it), left, "exptime %u want %lld", item_exptime(it),
                 (long long)left);
    cache_item_release(b, &it);
    it = cache_get(b, "forever", 7, NULL);
    cr_assert_not_null(it);
    cr_assert_eq(item_exptime(it), 0);
    cache_item_release(b, &it);
    cache_destroy(&b);
    /* a cache whose clock is past the short TTL skips it */
    b = st_cache(0, 0, 0, 0);
    cache_clock_set(b, (uint32_t)((int64_t)cache_process_started(a) + 1006 -
                                  (int64_t)cache_process_started(b)));
    cr_assert_eq(snapshot_load(b, path, &r), SNAPSHOT_OK);
    cr_assert_eq(r.items, 2);
    cr_assert_eq(r.expired, 1);
    st_expect_miss(b, "short", CACHE_MISS_NONE);
    cache_destroy(&a);
    cache_destroy(&b);
}

/* Version 3: a precise expiry keeps its Unix millisecond across caches started at different times,
 * a whole-second one stays whole; keys of 255, 256 and 65536 bytes, an empty key and a raw key (bytes
 * the text protocols cannot name, no base64 mark) come back byte for byte. */
Test(snapshot, precise_expiries_and_long_keys_round_trip)
{
    struct cache *a = st_cache(0, 0, 2, 0), *b = st_cache(0, 0, 3, 0);
    static char keys[3][65536];
    static const size_t nkeys[3] = {255, 256, 65536};
    const char raw[] = "a b\r\n\0z";
    int64_t precise_ms, whole_ms;
    struct snapshot_result r;
    enum cache_status cst;
    struct item *it;

    cache_clock_set_ms(a, 1000000);
    set_bin(a, "px", "p", 1, 0, cache_exp_from_rel_ms(1000000 + 1234));
    set_bin(a, "ex", "w", 1, 0, st_at(1000 + 60));
    for (int i = 0; i < 3; i++) {
        memset(keys[i], 'a' + i, nkeys[i]);
        it = cache_alloc(a, keys[i], nkeys[i], (uint32_t)i, CACHE_EXP_NEVER, 3, &cst);
        cr_assert_not_null(it, "key of %zu bytes: %d", nkeys[i], cst);
        memcpy(item_value(it), "abc", 3);
        cr_assert_eq(cache_store(a, it, CACHE_SET, 0, NULL), CACHE_OK);
        cache_item_release(a, &it);
    }
    it = cache_alloc(a, "", 0, 0, CACHE_EXP_NEVER, 5, &cst);
    cr_assert_not_null(it);
    memcpy(item_value(it), "empty", 5);
    cr_assert_eq(cache_store(a, it, CACHE_SET, 0, NULL), CACHE_OK);
    cache_item_release(a, &it);
    it = cache_alloc(a, raw, sizeof raw - 1, 0, CACHE_EXP_NEVER, 1, &cst);
    cr_assert_not_null(it);
    memcpy(item_value(it), "r", 1);
    cr_assert_eq(cache_store(a, it, CACHE_SET, 0, NULL), CACHE_OK);
    cache_item_release(a, &it);
    precise_ms = cache_exp_to_unix_ms(a, cache_exp_from_rel_ms(1000000 + 1234));
    whole_ms = cache_exp_to_unix_ms(a, st_at(1000 + 60));
    save_ok(a, 7);

    cr_assert_eq(snapshot_load(b, path, &r), SNAPSHOT_OK, "%s", snapshot_strerror(r.status));
    cr_assert_eq(r.items, 7);
    it = cache_get(b, "px", 2, NULL);
    cr_assert_not_null(it);
    cr_assert(cache_exp_precise(item_exp(it)));
    cr_assert_eq(cache_exp_to_unix_ms(b, item_exp(it)), precise_ms, "the millisecond is kept");
    cache_item_release(b, &it);
    it = cache_get(b, "ex", 2, NULL);
    cr_assert_not_null(it);
    cr_assert_not(cache_exp_precise(item_exp(it)));
    cr_assert_eq(cache_exp_to_unix_ms(b, item_exp(it)), whole_ms, "the second is kept");
    cache_item_release(b, &it);
    for (int i = 0; i < 3; i++) {
        it = cache_get(b, keys[i], nkeys[i], NULL);
        cr_assert_not_null(it, "key of %zu bytes", nkeys[i]);
        cr_assert_eq(item_nkey(it), nkeys[i]);
        cr_assert(memcmp(item_key(it), keys[i], nkeys[i]) == 0);
        cr_assert_eq(item_client_flags(it), (uint32_t)i);
        cr_assert(memcmp(item_value(it), "abc", 3) == 0);
        cache_item_release(b, &it);
    }
    it = cache_get(b, "", 0, NULL);
    cr_assert_not_null(it, "the empty key");
    cr_assert(memcmp(item_value(it), "empty", 5) == 0);
    cache_item_release(b, &it);
    it = cache_get(b, raw, sizeof raw - 1, NULL);
    cr_assert_not_null(it, "the raw key");
    cr_assert_not(item_key_binary(it), "a raw key gets no base64 mark");
    cache_item_release(b, &it);
    cache_destroy(&b);

    /* a cache whose clock is 1 ms short of the precise expiry loads it; one at it skips it */
    for (int late = 0; late < 2; late++) {
        b = st_cache(0, 0, 0, 0);
        cache_clock_set_ms(b, (uint64_t)(precise_ms - (int64_t)cache_process_started(b) * 1000 - 1 + late));
        cr_assert_eq(snapshot_load(b, path, &r), SNAPSHOT_OK);
        cr_assert_eq(r.expired, (uint64_t)late, "late %d", late);
        cr_assert_eq(r.items, 7 - (uint64_t)late);
        cache_destroy(&b);
    }
    cache_destroy(&a);
}

/* ---- CAS uniques above 48 bits (the item header's CAS extension) ---- */

/* Rewrites the CAS of the first record of the snapshot at path (written by a cache holding one
 * item) and the footer's checksum, as a snapshot from a cache with such uniques would hold. */
static void patch_first_cas(uint64_t cas)
{
    unsigned char buf[4096];
    FILE *f = fopen(path, "r+b");
    size_t n;
    uint64_t h;

    cr_assert_not_null(f);
    n = fread(buf, 1, sizeof buf, f);
    cr_assert_gt(n, 28 + 26 + 24, "one small record");
    for (unsigned i = 0; i < 8; i++)
        buf[28 + 14 + i] = (unsigned char)(cas >> (8 * i));
    h = XXH3_64bits(buf, n - 24);
    for (unsigned i = 0; i < 8; i++)
        buf[n - 24 + 16 + i] = (unsigned char)(h >> (8 * i));
    cr_assert_eq(fseek(f, 0, SEEK_SET), 0);
    cr_assert_eq(fwrite(buf, 1, n, f), n);
    cr_assert_eq(fclose(f), 0);
}

/* A loaded unique of 2^48 + 5 is kept whole; the counter moves past it, so later items (one of them
 * allocated before the load, without room for a wide unique) get 2^48 + 6 and on; compare, delete
 * and a second save and load all see the full 64 bits. */
Test(snapshot, cas_above_48_bits_survives_load_store_and_save)
{
    const uint64_t wide = ((uint64_t)1 << 48) + 5;
    struct cache *a = st_cache(0, 0, 2, 0), *b = st_cache(0, 0, 2, 0), *d = st_cache(0, 0, 2, 0);
    struct snapshot_result r;
    enum cache_status st;
    struct item *early, *it;
    uint64_t cas = 0;

    set_bin(a, "hi", "value", 5, 9, 0);
    save_ok(a, 1);
    patch_first_cas(wide);
    early = cache_alloc(b, "early", 5, 0, 0, 3, &st);
    cr_assert_not_null(early);
    memcpy(item_value(early), "abc", 3);
    cr_assert_eq(snapshot_load(b, path, &r), SNAPSHOT_OK, "%s", snapshot_strerror(r.status));
    it = cache_get(b, "hi", 2, NULL);
    cr_assert_not_null(it);
    cr_assert_eq(item_cas(it), wide, "loaded %llu", (unsigned long long)item_cas(it));
    cr_assert_eq(item_nbytes(it), 5);
    cr_assert(memcmp(item_value(it), "value", 5) == 0);
    cr_assert_eq(item_client_flags(it), 9);
    cache_item_release(b, &it);
    cr_assert_eq(cache_store(b, early, CACHE_SET, 0, &cas), CACHE_OK);
    cache_item_release(b, &early);
    cr_assert_eq(cas, wide + 1, "stored %llu", (unsigned long long)cas);
    cr_assert_eq(cas_of(b, "early"), wide + 1);
    st_expect(b, "early", "abc");
    cr_assert_eq(st_store(b, "later", "xyz", 0, 0, CACHE_SET, 0, &cas), CACHE_OK);
    cr_assert_eq(cas, wide + 2);
    cr_assert_eq(st_store(b, "hi", "new", 0, 0, CACHE_CAS, 5, NULL), CACHE_EXISTS,
                 "the low 48 bits alone do not match");
    cr_assert_eq(st_store(b, "hi", "new", 0, 0, CACHE_CAS, wide, &cas), CACHE_OK);
    cr_assert_eq(cas, wide + 3);
    cr_assert_eq(cache_delete(b, "later", 5, 2), CACHE_EXISTS);
    cr_assert_eq(cache_delete(b, "later", 5, wide + 2), CACHE_OK);
    cr_assert_eq(st_stats(b).bytes,
                 item_total_size_ext(2, 3, true) + item_total_size_ext(5, 3, true),
                 "stats bytes count the 8-byte extension");
    save_ok(b, 2);
    cr_assert_eq(snapshot_load(d, path, &r), SNAPSHOT_OK);
    cr_assert_eq(cas_of(d, "hi"), wide + 3);
    cr_assert_eq(cas_of(d, "early"), wide + 1);
    st_expect(d, "hi", "new");
    cache_destroy(&a);
    cache_destroy(&b);
    cache_destroy(&d);
}

/* ---- a save while 8 threads write ---- */

#define WRITERS 8
#define WKEYS 2000

struct writer {
    struct cache *c;
    unsigned id;
    atomic_bool *stop;
};

/* Values are "<key>:<round>:" followed by a filler whose length and bytes derive from the key and
 * round, so a loaded value can be checked as one whole write. */
static size_t make_value(char *buf, const char *key, unsigned round)
{
    int n = snprintf(buf, 64, "%s:%u:", key, round);
    size_t fill = (round * 13u) % 300u;

    for (size_t i = 0; i < fill; i++)
        buf[(size_t)n + i] = (char)('a' + (round + i) % 26);
    return (size_t)n + fill;
}

static void *writer_main(void *arg)
{
    struct writer *w = arg;
    char key[32], val[400];

    for (unsigned round = 0; !atomic_load(w->stop); round++) {
        for (unsigned k = 0; k < WKEYS; k++) {
            snprintf(key, sizeof key, "w%u-%u", w->id, k);
            set_bin(w->c, key, val, make_value(val, key, round), w->id, 0);
        }
    }
    return NULL;
}

static void check_whole(struct cache *c, const char *key)
{
    struct item *it = cache_get(c, key, strlen(key), NULL);
    char want[400];
    unsigned round;

    if (!it)
        return;
    cr_assert_eq(sscanf(item_value(it) + strlen(key) + 1, "%u", &round), 1, "%s", key);
    cr_assert_eq(item_nbytes(it), make_value(want, key, round), "%s: torn length", key);
    cr_assert(memcmp(item_value(it), want, item_nbytes(it)) == 0, "%s: torn value", key);
    cache_item_release(c, &it);
}

Test(snapshot, save_while_eight_threads_write)
{
    struct cache *a = st_cache(0, 0, 3, 4), *b = st_cache(0, 0, 0, 0);
    struct writer w[WRITERS];
    pthread_t t[WRITERS];
    atomic_bool stop = false;
    struct snapshot_result r;
    char key[32];

    for (unsigned i = 0; i < WRITERS; i++) {
        w[i] = (struct writer){a, i, &stop};
        cr_assert_eq(pthread_create(&t[i], NULL, writer_main, &w[i]), 0);
    }
    nanosleep(&(struct timespec){0, 20000000}, NULL);
    for (int i = 0; i < 3; i++)
        cr_assert_eq(snapshot_save(a, path, &r), SNAPSHOT_OK);
    atomic_store(&stop, true);
    for (unsigned i = 0; i < WRITERS; i++)
        pthread_join(t[i], NULL);
    cr_assert_eq(snapshot_load(b, path, &r), SNAPSHOT_OK);
    cr_assert_gt(r.items, 0);
    for (unsigned i = 0; i < WRITERS; i++)
        for (unsigned k = 0; k < WKEYS; k++) {
            snprintf(key, sizeof key, "w%u-%u", i, k);
            check_whole(b, key);
        }
    cache_destroy(&a);
    cache_destroy(&b);
}

/* ---- failures ---- */

/* A snapshot of "old" = "1" at path, plus the file's bytes. */
static unsigned char *good_file(size_t *len)
{
    struct cache *c = st_cache(0, 0, 0, 0);
    unsigned char *buf = malloc(1 << 16);
    FILE *f;

    st_set(c, "old", "1");
    st_set(c, "other", "some value here");
    save_ok(c, 2);
    cache_destroy(&c);
    f = fopen(path, "rb");
    cr_assert_not_null(f);
    *len = fread(buf, 1, 1 << 16, f);
    fclose(f);
    return buf;
}

static void write_file(const char *p, const unsigned char *b, size_t n)
{
    FILE *f = fopen(p, "wb");

    cr_assert_not_null(f);
    cr_assert_eq(fwrite(b, 1, n, f), n);
    fclose(f);
}

/* Loading p into a fresh cache gives want and stores nothing. */
static void expect_bad(const char *p, enum snapshot_status want)
{
    struct cache *c = st_cache(0, 0, 0, 0);
    struct snapshot_result r;
    enum snapshot_status st = snapshot_verify(p, &r);

    cr_assert_eq(st, want, "verify: %d (%s), want %d", st, snapshot_strerror(st), want);
    st = snapshot_load(c, p, &r);
    cr_assert_eq(st, want, "load: %d (%s), want %d", st, snapshot_strerror(st), want);
    cr_assert_eq(r.status, want);
    cr_assert_eq(r.items, 0);
    cr_assert_eq(st_stats(c).curr_items, 0, "a bad file must load nothing");
    cr_assert_str_neq(snapshot_strerror(st), "ok");
    cache_destroy(&c);
}

/* The snapshot at path still loads with its two items. */
static void expect_old_intact(void)
{
    struct cache *c = st_cache(0, 0, 0, 0);
    struct snapshot_result r;

    cr_assert_eq(snapshot_load(c, path, &r), SNAPSHOT_OK, "%s", snapshot_strerror(r.status));
    cr_assert_eq(r.items, 2);
    st_expect(c, "old", "1");
    cache_destroy(&c);
}

Test(snapshot, truncated_at_several_offsets)
{
    size_t len;
    unsigned char *b = good_file(&len);
    char bad[160];
    size_t cuts[] = {len - 1, len - 24, len - 25, 30, 24, 12};

    snprintf(bad, sizeof bad, "%s.bad", path);
    for (size_t i = 0; i < sizeof cuts / sizeof cuts[0]; i++) {
        write_file(bad, b, cuts[i]);
        expect_bad(bad, SNAPSHOT_ERR_TRUNCATED);
    }
    write_file(bad, b, 3);
    expect_bad(bad, SNAPSHOT_ERR_MAGIC);
    expect_old_intact();
    free(b);
}

Test(snapshot, flipped_bytes)
{
    size_t len;
    unsigned char *b = good_file(&len);
    char bad[160];

    snprintf(bad, sizeof bad, "%s.bad", path);
    b[len - 24 - 2] ^= 0x20; /* last byte of the last value */
    write_file(bad, b, len);
    expect_bad(bad, SNAPSHOT_ERR_CHECKSUM);
    b[len - 24 - 2] ^= 0x20;
    b[len - 1] ^= 0x01; /* the footer's checksum */
    write_file(bad, b, len);
    expect_bad(bad, SNAPSHOT_ERR_CHECKSUM);
    b[len - 1] ^= 0x01;
    b[len - 16] ^= 0x01; /* the footer's record count */
    write_file(bad, b, len);
    expect_bad(bad, SNAPSHOT_ERR_FOOTER);
    b[len - 16] ^= 0x01;
    b[28] = 0x07; /* the first record's tag */
    write_file(bad, b, len);
    expect_bad(bad, SNAPSHOT_ERR_RECORD);
    expect_old_intact();
    free(b);
}

Test(snapshot, wrong_magic_and_version_and_trailing_bytes)
{
    size_t len;
    unsigned char *b = good_file(&len);
    unsigned char *longer = malloc(len + 1);
    char bad[160];

    snprintf(bad, sizeof bad, "%s.bad", path);
    b[0] = 'X';
    write_file(bad, b, len);
    expect_bad(bad, SNAPSHOT_ERR_MAGIC);
    b[0] = 'C';
    b[8] = SNAPSHOT_VERSION + 1;
    write_file(bad, b, len);
    expect_bad(bad, SNAPSHOT_ERR_VERSION);
    b[8] = SNAPSHOT_VERSION;
    memcpy(longer, b, len);
    longer[len] = 0;
    write_file(bad, longer, len + 1);
    expect_bad(bad, SNAPSHOT_ERR_TRAILING);
    expect_old_intact();
    free(longer);
    free(b);
}

Test(snapshot, missing_and_unreadable_file)
{
    char bad[160];
    struct snapshot_result r;

    snprintf(bad, sizeof bad, "%s/none", dir);
    expect_bad(bad, SNAPSHOT_ERR_OPEN);
    cr_assert_eq(snapshot_verify(bad, &r), SNAPSHOT_ERR_OPEN);
    cr_assert_eq(r.saved_errno, ENOENT);
    expect_bad(dir, SNAPSHOT_ERR_NOT_FILE); /* a directory is refused before any read */
    if (geteuid() != 0) { /* root reads any file */
        size_t len;
        free(good_file(&len));
        chmod(path, 0);
        expect_bad(path, SNAPSHOT_ERR_OPEN);
        chmod(path, 0600);
    }
}

Test(snapshot, unwritable_directory_keeps_old_file)
{
    struct cache *c = st_cache(0, 0, 0, 0);
    struct snapshot_result r;
    char sub[160];
    size_t len;

    free(good_file(&len));
    st_set(c, "new", "2");
    snprintf(sub, sizeof sub, "%s/nodir/cache.snap", dir);
    cr_assert_eq(snapshot_save(c, sub, &r), SNAPSHOT_ERR_OPEN);
    cr_assert_eq(r.saved_errno, ENOENT);
    if (geteuid() != 0) {
        chmod(dir, 0500);
        cr_assert_eq(snapshot_save(c, path, &r), SNAPSHOT_ERR_OPEN);
        cr_assert_eq(r.saved_errno, EACCES);
        chmod(dir, 0700);
    }
    /* a path that is a directory cannot be renamed over */
    snprintf(sub, sizeof sub, "%s/adir", dir);
    cr_assert_eq(mkdir(sub, 0700), 0);
    snprintf(sub, sizeof sub, "%s/adir/x", dir);
    write_file(sub, (const unsigned char *)"x", 1);
    snprintf(sub, sizeof sub, "%s/adir", dir);
    cr_assert_eq(snapshot_save(c, sub, &r), SNAPSHOT_ERR_RENAME);
    expect_old_intact();
    cache_destroy(&c);
}

Test(snapshot, file_size_limit_mid_write_keeps_old_file)
{
    struct cache *c = st_cache(0, 0, 0, 0);
    struct snapshot_result r;
    struct rlimit old, lim;
    char key[32], val[1000];
    size_t len;
    char tmp[200];

    free(good_file(&len));
    memset(val, 'v', sizeof val);
    for (int i = 0; i < 2000; i++) {
        snprintf(key, sizeof key, "k%d", i);
        set_bin(c, key, val, sizeof val, 0, 0);
    }
    signal(SIGXFSZ, SIG_IGN);
    cr_assert_eq(getrlimit(RLIMIT_FSIZE, &old), 0);
    lim = old;
    lim.rlim_cur = 100000;
    cr_assert_eq(setrlimit(RLIMIT_FSIZE, &lim), 0);
    cr_assert_eq(snapshot_save(c, path, &r), SNAPSHOT_ERR_WRITE);
    cr_assert_eq(setrlimit(RLIMIT_FSIZE, &old), 0);
    cr_assert_eq(r.saved_errno, EFBIG, "errno %d", r.saved_errno);
    snprintf(tmp, sizeof tmp, "%s.tmp.%ld", path, (long)getpid());
    cr_assert_eq(access(tmp, F_OK), -1, "the temporary file must be removed");
    expect_old_intact();
    cache_destroy(&c);
}

Test(snapshot, more_than_fits_reports_left_out)
{
    struct cache *a = st_cache(64u << 20, 0, 0, 0), *b = st_cache(2u << 20, 1u << 20, 0, 0);
    struct snapshot_result r;
    char key[32], val[1000];
    int n = 20000;

    memset(val, 'x', sizeof val);
    for (int i = 0; i < n; i++) {
        snprintf(key, sizeof key, "k%d", i);
        set_bin(a, key, val, sizeof val, 0, 0);
    }
    save_ok(a, (uint64_t)n);
    cr_assert_eq(snapshot_load(b, path, &r), SNAPSHOT_PARTIAL);
    cr_assert_gt(r.items, 0);
    cr_assert_gt(r.left_out, 0);
    cr_assert_eq(r.items + r.left_out, (uint64_t)n);
    cr_assert_eq(st_stats(b).curr_items, r.items, "loaded items must not be evicted");
    cr_assert_eq(st_stats(b).evictions, 0);
    cache_destroy(&a);
    cache_destroy(&b);
}

Test(snapshot, timing_save_and_load)
{
    const char *env = getenv("CAIRN_SNAPSHOT_ITEMS");
    uint64_t n = env ? strtoull(env, NULL, 10) : 100000;
    struct cache *a = st_cache(1u << 30, 0, 6, 0), *b = st_cache(1u << 30, 0, 6, 0);
    struct snapshot_result r;
    char key[32], val[100];

    memset(val, 'v', sizeof val);
    for (uint64_t i = 0; i < n; i++) {
        snprintf(key, sizeof key, "key:%010llu", (unsigned long long)i);
        set_bin(a, key, val, sizeof val, 0, 0);
    }
    cr_assert_eq(snapshot_save(a, path, &r), SNAPSHOT_OK);
    fprintf(stderr, "snapshot: save %llu items of 100 B: %.3f s, %llu bytes\n",
            (unsigned long long)n, (double)r.duration_ns / 1e9, (unsigned long long)r.bytes);
    cr_assert_eq(snapshot_load(b, path, &r), SNAPSHOT_OK);
    cr_assert_eq(r.items, n);
    fprintf(stderr, "snapshot: load %llu items: %.3f s, %.0f items/s (verify included)\n",
            (unsigned long long)n, (double)r.duration_ns / 1e9,
            (double)n / ((double)r.duration_ns / 1e9));
    cache_destroy(&a);
    cache_destroy(&b);
}

/* ---- crafted files: the loader's checks, table-driven ---- */

struct craft {
    unsigned char p[1 << 18];
    size_t len;
};

static void craft_put(struct craft *f, const void *b, size_t n)
{
    cr_assert_leq(f->len + n, sizeof f->p);
    memcpy(f->p + f->len, b, n);
    f->len += n;
}

static void craft_u32(struct craft *f, uint32_t v)
{
    unsigned char b[4];

    for (unsigned i = 0; i < 4; i++)
        b[i] = (unsigned char)(v >> (8 * i));
    craft_put(f, b, 4);
}

static void craft_u64(struct craft *f, uint64_t v)
{
    unsigned char b[8];

    for (unsigned i = 0; i < 8; i++)
        b[i] = (unsigned char)(v >> (8 * i));
    craft_put(f, b, 8);
}

/* One record of a file of this version (kind: version 3's expiry kind); nbytes is the length the
 * record declares (the value written is val, nval bytes). */
static void craft_record(struct craft *f, uint32_t version, uint8_t tag, uint8_t kind, const char *key,
                         size_t nkey, uint64_t expiry, uint64_t cas, uint32_t nbytes, const char *val,
                         size_t nval)
{
    unsigned char fixed[2] = {tag, version >= 3 ? kind : (unsigned char)nkey};

    craft_put(f, fixed, 2);
    craft_u32(f, 0x01020304);
    craft_u64(f, expiry);
    craft_u64(f, cas);
    craft_u32(f, nbytes);
    if (version >= 3)
        craft_u32(f, (uint32_t)nkey);
    craft_put(f, key, nkey);
    craft_put(f, val, nval);
}

/* One case: a file of header, record "good1", the case's record, record "keep", footer; fields
 * left 0 take the good default. */
struct crafted {
    const char *name;
    uint32_t version;     /* 0: 2 */
    uint32_t hdr_flags;
    uint64_t created;     /* 0: now */
    uint32_t size_max;    /* 0: 1 MiB (version 2 only) */
    uint8_t tag;          /* 0: text */
    uint8_t kind;         /* version 3's expiry kind: 0 whole second, 1 precise */
    const char *key;      /* NULL: "case" */
    size_t nkey;          /* 0: strlen(key) */
    bool empty_key;       /* nkey 0 */
    uint64_t expiry;      /* Unix s (versions 1, 2) or ms (3) */
    uint64_t ahead;       /* else: expiry = created + ahead in the version's unit (0: never) ... */
    uint64_t extra;       /* ... plus this */
    uint64_t cas;         /* 0: 1000 */
    uint32_t nbytes;      /* 0: the value's length (5) */
    uint64_t count_delta; /* added to the footer's record count */
    bool flip;            /* flip a value byte after the checksum was computed */
    size_t cut;           /* bytes cut from the end */
    size_t trailing;      /* zero bytes after the footer */
    enum snapshot_status want;
    bool want_binary;     /* on success: the case's key is loaded as binary */
};

static void craft_file(const struct crafted *k, struct craft *f)
{
    uint32_t version = k->version ? k->version : 2;
    uint64_t created = k->created ? k->created : (uint64_t)time(NULL);
    const char *key = k->key ? k->key : "case";
    size_t nkey = k->empty_key ? 0 : k->nkey ? k->nkey : strlen(key);
    uint64_t unit = version >= 3 ? 1000 : 1;
    uint64_t expiry = k->expiry ? k->expiry : k->ahead ? (created + k->ahead) * unit + k->extra : 0;
    uint64_t h;

    f->len = 0;
    craft_put(f, SNAPSHOT_MAGIC, 8);
    craft_u32(f, version);
    craft_u32(f, k->hdr_flags);
    craft_u64(f, created);
    if (version >= 2)
        craft_u32(f, k->size_max ? k->size_max : 1u << 20);
    craft_record(f, version, 1, 0, "good1", 5, 0, 900, 3, "one", 3);
    craft_record(f, version, k->tag ? k->tag : 1, k->kind, key, nkey, expiry, k->cas ? k->cas : 1000,
                 k->nbytes ? k->nbytes : 5, "value", 5);
    craft_record(f, version, 1, 0, "keep", 4, 0, 1100, 3, "new", 3);
    h = XXH3_64bits(f->p, f->len);
    craft_put(f, "\xff" "SNAPEND", 8);
    craft_u64(f, 3 + k->count_delta);
    craft_u64(f, h);
    if (k->flip)
        f->p[f->len - 24 - 2] ^= 0x01; /* a byte of "new" */
    for (size_t i = 0; i < k->trailing; i++)
        craft_put(f, "", 1);
    f->len -= k->cut;
}

/* What a cache looks like from outside: items, bytes, chunks in use, the next CAS it hands out is
 * checked separately (it consumes one). */
struct cache_view {
    uint64_t curr_items, total_items, bytes, used_chunks;
};

static struct cache_view view_of(struct cache *c)
{
    struct cache_stats s = st_stats(c);
    struct cache_view v = {s.curr_items, s.total_items, s.bytes, 0};

    for (unsigned id = 1; id <= cache_class_count(c); id++) {
        struct cache_class_stats cs;

        cache_class_stats_get(c, id, &cs);
        v.used_chunks += cs.used_chunks;
    }
    return v;
}

static const char key251[252] = "kkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkk"
                                "kkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkk"
                                "kkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkk"
                                "kkkkkkkkkkkkkkkkkkkkkkk";

static char key64k[65537]; /* 'k' bytes, filled by crafted_files */

static const struct crafted cases[] = {
    {.name = "good", .want = SNAPSHOT_OK},
    {.name = "bad checksum", .flip = true, .want = SNAPSHOT_ERR_CHECKSUM},
    {.name = "truncated in the footer", .cut = 10, .want = SNAPSHOT_ERR_TRUNCATED},
    {.name = "truncated in a record", .cut = 24 + 7 + 26 + 3, .want = SNAPSHOT_ERR_TRUNCATED},
    {.name = "key with \\r", .key = "a\rb", .want = SNAPSHOT_ERR_KEY_BYTES},
    {.name = "key with \\n", .key = "a\nb", .want = SNAPSHOT_ERR_KEY_BYTES},
    {.name = "key with space", .key = "a b", .want = SNAPSHOT_ERR_KEY_BYTES},
    {.name = "key with NUL", .key = "a\0b", .nkey = 3, .want = SNAPSHOT_ERR_KEY_BYTES},
    {.name = "key with tab", .key = "a\tb", .want = SNAPSHOT_ERR_KEY_BYTES},
    {.name = "key with DEL", .key = "a\x7f", .want = SNAPSHOT_ERR_KEY_BYTES},
    {.name = "key too long", .key = key251, .want = SNAPSHOT_ERR_KEY_LENGTH},
    {.name = "empty key", .empty_key = true, .want = SNAPSHOT_ERR_KEY_LENGTH},
    {.name = "key of 250 bytes", .key = key251, .nkey = 250, .want = SNAPSHOT_OK},
    {.name = "key with UTF-8 bytes", .key = "caf\xc3\xa9", .want = SNAPSHOT_OK},
    {.name = "binary key allowed",
     .tag = 2,
     .key = "a\r\n b\0",
     .nkey = 6,
     .want = SNAPSHOT_OK,
     .want_binary = true},
    {.name = "binary tag in version 1", .version = 1, .tag = 2, .want = SNAPSHOT_ERR_RECORD},
    {.name = "version 1 text key", .version = 1, .want = SNAPSHOT_OK},
    {.name = "version 1 untagged binary key",
     .version = 1,
     .key = "a b\r\n",
     .want = SNAPSHOT_OK,
     .want_binary = true},
    {.name = "unknown tag", .tag = 3, .want = SNAPSHOT_ERR_RECORD},
    {.name = "CAS 2^64-1", .cas = UINT64_MAX, .want = SNAPSHOT_ERR_CAS},
    {.name = "CAS 2^63", .cas = 1ull << 63, .want = SNAPSHOT_ERR_CAS},
    {.name = "CAS 2^63-1", .cas = (1ull << 63) - 1, .want = SNAPSHOT_OK},
    {.name = "value too long", .nbytes = (1u << 20) + 1, .want = SNAPSHOT_ERR_VALUE_LENGTH},
    {.name = "value of 4 GiB", .nbytes = UINT32_MAX, .want = SNAPSHOT_ERR_VALUE_LENGTH},
    {.name = "value over a declared small limit",
     .size_max = 1024,
     .nbytes = 1025,
     .want = SNAPSHOT_ERR_VALUE_LENGTH},
    {.name = "expiry 2^64-1", .expiry = UINT64_MAX, .want = SNAPSHOT_ERR_EXPIRY},
    {.name = "expiry 1000 years ahead", .ahead = 1000ull * 366 * 86400, .want = SNAPSHOT_ERR_EXPIRY},
    {.name = "expiry just past the bound", .ahead = (1ull << 33) + 1, .want = SNAPSHOT_ERR_EXPIRY},
    {.name = "expiry at the bound", .ahead = 1ull << 33, .want = SNAPSHOT_OK},
    {.name = "expiry in 2100", .expiry = 4102444800ull, .want = SNAPSHOT_OK},
    {.name = "trailing garbage", .trailing = 1, .want = SNAPSHOT_ERR_TRAILING},
    {.name = "wrong record count", .count_delta = 1, .want = SNAPSHOT_ERR_FOOTER},
    {.name = "header flags", .hdr_flags = 1, .want = SNAPSHOT_ERR_HEADER},
    {.name = "header created absurd", .created = 1ull << 40, .want = SNAPSHOT_ERR_HEADER},
    {.name = "header item size limit 0", .size_max = 1, .want = SNAPSHOT_ERR_HEADER},
    {.name = "header item size limit over 1 GiB", .size_max = (1u << 30) + 1, .want = SNAPSHOT_ERR_HEADER},
    {.name = "unsupported version", .version = 4, .want = SNAPSHOT_ERR_VERSION},
    /* version 3: long and empty keys, raw keys, expiries in milliseconds of two kinds */
    {.name = "v3 good", .version = 3, .want = SNAPSHOT_OK},
    {.name = "v3 key of 251 bytes", .version = 3, .key = key251, .want = SNAPSHOT_OK},
    {.name = "v3 empty key", .version = 3, .empty_key = true, .want = SNAPSHOT_OK},
    {.name = "v3 key of 64 KiB", .version = 3, .key = key64k, .nkey = 65536, .want = SNAPSHOT_OK},
    {.name = "v3 key over 64 KiB",
     .version = 3,
     .key = key64k,
     .nkey = 65537,
     .want = SNAPSHOT_ERR_KEY_LENGTH},
    {.name = "v3 key at the declared item size limit",
     .version = 3,
     .size_max = 1024,
     .key = key64k,
     .nkey = 1024,
     .want = SNAPSHOT_OK},
    {.name = "v3 key over the declared item size limit",
     .version = 3,
     .size_max = 1024,
     .key = key64k,
     .nkey = 1025,
     .want = SNAPSHOT_ERR_KEY_LENGTH},
    {.name = "v3 raw key", .version = 3, .tag = 3, .key = "a b\r\n", .want = SNAPSHOT_OK},
    {.name = "v3 raw empty key", .version = 3, .tag = 3, .empty_key = true, .want = SNAPSHOT_OK},
    {.name = "v3 unknown tag", .version = 3, .tag = 4, .want = SNAPSHOT_ERR_RECORD},
    {.name = "v3 text key with space", .version = 3, .key = "a b", .want = SNAPSHOT_ERR_KEY_BYTES},
    {.name = "v3 binary key",
     .version = 3,
     .tag = 2,
     .key = "a\r\n b\0",
     .nkey = 6,
     .want = SNAPSHOT_OK,
     .want_binary = true},
    {.name = "v3 unknown expiry kind", .version = 3, .kind = 2, .want = SNAPSHOT_ERR_EXPIRY},
    {.name = "v3 whole second not a multiple of 1000 ms",
     .version = 3,
     .expiry = 4102444800123ull,
     .want = SNAPSHOT_ERR_EXPIRY},
    {.name = "v3 whole second in 2100", .version = 3, .expiry = 4102444800000ull, .want = SNAPSHOT_OK},
    {.name = "v3 precise in 2100", .version = 3, .kind = 1, .expiry = 4102444800123ull, .want = SNAPSHOT_OK},
    {.name = "v3 precise without expiry", .version = 3, .kind = 1, .want = SNAPSHOT_ERR_EXPIRY},
    {.name = "v3 precise at the bound", .version = 3, .kind = 1, .ahead = 1ull << 33, .want = SNAPSHOT_OK},
    {.name = "v3 precise just past the bound",
     .version = 3,
     .kind = 1,
     .ahead = 1ull << 33,
     .extra = 1,
     .want = SNAPSHOT_ERR_EXPIRY},
    {.name = "v3 whole second just past the bound",
     .version = 3,
     .ahead = (1ull << 33) + 1,
     .want = SNAPSHOT_ERR_EXPIRY},
    {.name = "v3 expiry 2^64-1", .version = 3, .kind = 1, .expiry = UINT64_MAX, .want = SNAPSHOT_ERR_EXPIRY},
    {.name = "v3 truncated in a record",
     .version = 3,
     .cut = 24 + 7 + 30 + 3,
     .want = SNAPSHOT_ERR_TRUNCATED},
    {.name = "v3 value too long", .version = 3, .nbytes = (1u << 20) + 1, .want = SNAPSHOT_ERR_VALUE_LENGTH},
    {.name = "v3 CAS 2^63", .version = 3, .cas = 1ull << 63, .want = SNAPSHOT_ERR_CAS},
};

/* Loads case k into a cache that holds "keep" = "old" and checks the outcome. */
static void run_crafted(const struct crafted *k)
{
    struct cache *c = st_cache(0, 0, 2, 0);
    const char *key = k->key ? k->key : "case";
    size_t nkey = k->empty_key ? 0 : k->nkey ? k->nkey : strlen(key);
    static struct craft f;
    struct snapshot_result r;
    struct cache_view before, after;
    enum snapshot_status st;
    uint64_t keep_cas, cas = 0;
    struct item *it;

    craft_file(k, &f);
    write_file(path, f.p, f.len);
    cr_assert_eq(st_set(c, "keep", "old"), CACHE_OK);
    keep_cas = cas_of(c, "keep");
    before = view_of(c);
    st = snapshot_verify(path, &r);
    cr_assert_eq(st, k->want, "%s: verify %s (%s), want %s", k->name, snapshot_status_token(st),
                 snapshot_strerror(st), snapshot_status_token(k->want));
    st = snapshot_load(c, path, &r);
    cr_assert_eq(st, k->want, "%s: load %s (%s), want %s", k->name, snapshot_status_token(st),
                 snapshot_strerror(st), snapshot_status_token(k->want));
    cr_assert_eq(r.status, k->want);
    if (k->want == SNAPSHOT_OK) {
        cr_assert_eq(r.items, 3, "%s: %llu items", k->name, (unsigned long long)r.items);
        st_expect(c, "good1", "one");
        st_expect(c, "keep", "new");
        it = cache_get(c, key, nkey, NULL);
        cr_assert_not_null(it, "%s: the case's key is not reachable", k->name);
        cr_assert_eq(item_key_binary(it), k->want_binary, "%s: binary mark", k->name);
        cr_assert(memcmp(item_value(it), "value", 5) == 0);
        cr_assert_eq(cache_exp_precise(item_exp(it)), k->kind == 1, "%s: expiry kind", k->name);
        cache_item_release(c, &it);
        cache_destroy(&c);
        return;
    }
    cr_assert_eq(r.items, 0, "%s", k->name);
    after = view_of(c);
    cr_assert_eq(after.curr_items, before.curr_items, "%s: items linked", k->name);
    cr_assert_eq(after.total_items, before.total_items, "%s: items linked", k->name);
    cr_assert_eq(after.bytes, before.bytes, "%s", k->name);
    cr_assert_eq(after.used_chunks, before.used_chunks, "%s: staged chunks not given back", k->name);
    st_expect(c, "keep", "old");
    cr_assert_eq(cas_of(c, "keep"), keep_cas, "%s", k->name);
    st_expect_miss(c, "good1", CACHE_MISS_NONE);
    cr_assert_eq(st_store(c, "next", "x", 0, 0, CACHE_SET, 0, &cas), CACHE_OK);
    cr_assert_eq(cas, keep_cas + 1, "%s: the CAS counter moved (%llu)", k->name, (unsigned long long)cas);
    cache_destroy(&c);
}

Test(snapshot, crafted_files)
{
    memset(key64k, 'k', sizeof key64k);
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++)
        run_crafted(&cases[i]);
}

/* A version 2 file (written by earlier builds: whole-second expiries in Unix seconds, u8 key
 * lengths) still loads, its expiries whole seconds. */
Test(snapshot, version_2_file_loads_with_whole_second_expiries)
{
    struct cache *c = st_cache(0, 0, 0, 0);
    uint64_t created = (uint64_t)time(NULL);
    static struct craft f;
    struct snapshot_result r;
    struct item *it;
    uint64_t h;

    craft_put(&f, SNAPSHOT_MAGIC, 8);
    craft_u32(&f, 2);
    craft_u32(&f, 0);
    craft_u64(&f, created);
    craft_u32(&f, 1u << 20);
    craft_record(&f, 2, 1, 0, "ttl", 3, created + 500, 7, 2, "v2", 2);
    craft_record(&f, 2, 2, 0, "b\r\n", 3, 0, 8, 1, "b", 1);
    h = XXH3_64bits(f.p, f.len);
    craft_put(&f,
              "\xff"
              "SNAPEND",
              8);
    craft_u64(&f, 2);
    craft_u64(&f, h);
    write_file(path, f.p, f.len);
    cr_assert_eq(snapshot_load(c, path, &r), SNAPSHOT_OK, "%s", snapshot_strerror(r.status));
    cr_assert_eq(r.items, 2);
    it = cache_get(c, "ttl", 3, NULL);
    cr_assert_not_null(it);
    cr_assert_not(cache_exp_precise(item_exp(it)));
    cr_assert_eq(cache_exp_to_unix_ms(c, item_exp(it)), (int64_t)(created + 500) * 1000);
    cr_assert_eq(item_cas(it), 7);
    cache_item_release(c, &it);
    it = cache_get(c, "b\r\n", 3, NULL);
    cr_assert_not_null(it);
    cr_assert(item_key_binary(it));
    cache_item_release(c, &it);
    cache_destroy(&c);
}

/* The loaded CAS bound: a file at 2^63 - 1 loads, and the counter then stays there instead of
 * wrapping (every later unique nonzero, never below the loaded one). */
Test(snapshot, loaded_cas_bound_and_counter_never_wraps)
{
    struct crafted k = {.name = "bound", .cas = (1ull << 63) - 1, .want = SNAPSHOT_OK};
    struct cache *c = st_cache(0, 0, 0, 0);
    static struct craft f;
    struct snapshot_result r;
    uint64_t cas = 0;

    craft_file(&k, &f);
    write_file(path, f.p, f.len);
    cr_assert_eq(snapshot_load(c, path, &r), SNAPSHOT_OK);
    cr_assert_eq(cas_of(c, "case"), (1ull << 63) - 1);
    for (int i = 0; i < 3; i++) {
        cr_assert_eq(st_store(c, "after", "x", 0, 0, CACHE_SET, 0, &cas), CACHE_OK);
        cr_assert_eq(cas, (1ull << 63) - 1, "unique %llu", (unsigned long long)cas);
    }
    cache_flush(c, 0);
    cr_assert_eq(st_store(c, "after-flush", "x", 0, 0, CACHE_SET, 0, &cas), CACHE_OK);
    cr_assert_neq(cas, 0);
    cache_destroy(&c);
}

/* A binary key (meta b) keeps its mark across a save and a load. */
Test(snapshot, binary_key_mark_round_trip)
{
    struct cache *a = st_cache(0, 0, 0, 0), *b = st_cache(0, 0, 0, 0);
    const char key[] = "bin\r\n \0key";
    enum cache_status cst;
    struct item *it = cache_alloc(a, key, sizeof key - 1, 0, 0, 2, &cst);
    struct snapshot_result r;

    cr_assert_not_null(it);
    memcpy(item_value(it), "xy", 2);
    item_set_key_binary(it, true);
    cr_assert_eq(cache_store(a, it, CACHE_SET, 0, NULL), CACHE_OK);
    cache_item_release(a, &it);
    cr_assert_eq(st_set(a, "text", "t"), CACHE_OK);
    save_ok(a, 2);
    cr_assert_eq(snapshot_load(b, path, &r), SNAPSHOT_OK, "%s", snapshot_strerror(r.status));
    it = cache_get(b, key, sizeof key - 1, NULL);
    cr_assert_not_null(it);
    cr_assert(item_key_binary(it));
    cache_item_release(b, &it);
    it = cache_get(b, "text", 4, NULL);
    cr_assert_not_null(it);
    cr_assert(!item_key_binary(it));
    cache_item_release(b, &it);
    cache_destroy(&a);
    cache_destroy(&b);
}

/* ---- the files themselves ---- */

Test(snapshot, file_mode_0600)
{
    struct cache *c = st_cache(0, 0, 0, 0);
    struct stat sb;
    mode_t old = umask(0);

    st_set(c, "a", "1");
    save_ok(c, 1);
    umask(old);
    cr_assert_eq(stat(path, &sb), 0);
    cr_assert_eq(sb.st_mode & 07777, 0600, "mode %o", (unsigned)(sb.st_mode & 07777));
    cache_destroy(&c);
}

Test(snapshot, planted_symlink_at_temp_name_is_not_followed)
{
    struct cache *c = st_cache(0, 0, 0, 0);
    struct snapshot_result r;
    char tmp[200], target[160], buf[16] = "";
    struct stat sb;
    FILE *f;
    size_t len;

    free(good_file(&len));
    snprintf(target, sizeof target, "%s/victim", dir);
    write_file(target, (const unsigned char *)"precious", 8);
    snprintf(tmp, sizeof tmp, "%s.tmp.%ld", path, (long)getpid());
    cr_assert_eq(symlink(target, tmp), 0);
    st_set(c, "new", "2");
    cr_assert_eq(snapshot_save(c, path, &r), SNAPSHOT_ERR_TEMP_EXISTS);
    cr_assert_eq(r.saved_errno, EEXIST);
    f = fopen(target, "rb");
    cr_assert_not_null(f);
    cr_assert_eq(fread(buf, 1, sizeof buf, f), 8);
    fclose(f);
    cr_assert_str_eq(buf, "precious", "the link's target was written");
    cr_assert_eq(lstat(tmp, &sb), 0);
    cr_assert(S_ISLNK(sb.st_mode), "the planted link was removed or replaced");
    expect_old_intact();
    /* a dangling link is not created through either */
    unlink(tmp);
    unlink(target);
    cr_assert_eq(symlink(target, tmp), 0);
    cr_assert_eq(snapshot_save(c, path, &r), SNAPSHOT_ERR_TEMP_EXISTS);
    cr_assert_eq(access(target, F_OK), -1, "a file was created through the dangling link");
    unlink(tmp);
    save_ok(c, 1);
    cache_destroy(&c);
}

Test(snapshot, symlink_at_snapshot_path_refused)
{
    struct cache *c = st_cache(0, 0, 0, 0);
    struct snapshot_result r;
    char real[160];
    size_t len;
    struct stat sb;

    free(good_file(&len));
    snprintf(real, sizeof real, "%s/real.snap", dir);
    cr_assert_eq(rename(path, real), 0);
    cr_assert_eq(symlink(real, path), 0);
    expect_bad(path, SNAPSHOT_ERR_SYMLINK);
    st_set(c, "a", "1");
    cr_assert_eq(snapshot_save(c, path, &r), SNAPSHOT_ERR_SYMLINK);
    cr_assert_eq(lstat(path, &sb), 0);
    cr_assert(S_ISLNK(sb.st_mode), "the link was replaced");
    /* a FIFO at the path is refused without blocking */
    unlink(path);
    cr_assert_eq(mkfifo(path, 0600), 0);
    expect_bad(path, SNAPSHOT_ERR_NOT_FILE);
    cache_destroy(&c);
}

Test(snapshot, every_status_has_a_token_and_a_message)
{
    for (int st = SNAPSHOT_OK; st <= SNAPSHOT_ERR_TRAILING; st++) {
        const char *t = snapshot_status_token((enum snapshot_status)st);

        cr_assert_str_neq(t, "unknown", "status %d", st);
        cr_assert_null(strchr(t, ' '), "token %s", t);
        cr_assert_str_neq(snapshot_strerror((enum snapshot_status)st), "unknown snapshot status");
        for (int o = SNAPSHOT_OK; o < st; o++)
            cr_assert_str_neq(t, snapshot_status_token((enum snapshot_status)o));
    }
}
