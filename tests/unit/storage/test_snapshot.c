/*
 * test_snapshot.c: snapshot save, verify and load (storage/snapshot.h): round trip of every field,
 * TTLs across a moved clock, a save while 8 threads write, and every failure (truncated, corrupt,
 * wrong magic or version, missing, unreadable, unwritable directory, file size limit mid-write),
 * each of which must load nothing and leave the previous snapshot loadable.
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
                    uint32_t exptime)
{
    enum cache_status st;
    struct item *it = cache_alloc(c, key, strlen(key), flags, exptime, n, &st);

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
    set_bin(a, "ttl", "v", 1, 0, 1000 + 500);
    set_bin(a, "short", "v", 1, 0, 1000 + 5);
    set_bin(a, "gone", "v", 1, 0, 1000 + 1);
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
    b[8] = 3;
    write_file(bad, b, len);
    expect_bad(bad, SNAPSHOT_ERR_VERSION);
    b[8] = 2;
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
