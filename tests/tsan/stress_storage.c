/*
 * stress_storage.c: the storage engine under several threads at once, for ThreadSanitizer.
 *
 * The Criterion unit tests cannot run under ThreadSanitizer (Criterion's shared arena cannot be
 * mapped where TSan allows it), so this plain program does what their threaded cases do, mixed:
 * worker threads set, get (reading the value while holding the reference), append, incr, touch and
 * delete over a small key space in a cache small enough that items are evicted and pages move
 * between classes, while one more thread runs the background work (reclaim, page reassignment,
 * statistics, flush_all, snapshot saves). A get reads the whole value while it holds the
 * reference. The verdict is the race detector's (and ASan's in the sanitizer build); the program
 * itself fails only when a snapshot save fails.
 *
 * Redis's operations join in: the workers also run SET's options, GETDEL, EXPIRE, PERSIST, RENAME,
 * WATCH versions and MULTI/EXEC transactions over two or three keys (incr is a cache_rmw), and one
 * more thread scans (SCAN to the end while the table grows, RANDOMKEY, DBSIZE).
 *
 *   stress_storage [seconds]     (default 3)
 */
#include "config.h"

#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "storage/cache.h"
#include "storage/snapshot.h"

#define WORKERS 4
#define KEYS    512

static struct cache *cache;
static atomic_bool stop;
static atomic_int failures;
static char snap_path[256];

static uint32_t next_rand(uint32_t *s)
{
    *s ^= *s << 13;
    *s ^= *s >> 17;
    *s ^= *s << 5;
    return *s;
}

/* A value of n bytes of its length's last digit. */
static void fill(char *v, size_t n)
{
    memset(v, '0' + (int)(n % 10), n);
}

/* An incr through cache_rmw: the value's leading digits plus one (a missing key is created as 1);
 * with in_place, rewritten in the item itself when nobody else holds it (memcached's incr), padded
 * with spaces. */
struct counter {
    char digits[24];
    size_t n;
    bool in_place;
};

static enum cache_status counter_plan(void *arg, const struct item *old, struct cache_rmw_new *nw)
{
    struct counter *k = arg;
    unsigned long long v = 0;
    size_t i;
    for (i = 0; old && i < item_nbytes(old) && i < 18 && item_value_const(old)[i] >= '0' &&
                item_value_const(old)[i] <= '9';
         i++)
        v = v * 10 + (unsigned long long)(item_value_const(old)[i] - '0');
    k->n = (size_t)snprintf(k->digits, sizeof(k->digits), "%llu", v + 1);
    nw->nbytes = k->n;
    nw->in_place = k->in_place;
    return CACHE_OK;
}

static void counter_fill(void *arg, const struct item *old, char *value, size_t nbytes)
{
    const struct counter *k = arg;
    (void)old;
    memcpy(value, k->digits, k->n);
    memset(value + k->n, ' ', nbytes - k->n);
}

/* Redis's single-key operations: SET with GET/KEEPTTL/NX, GETDEL, EXPIRE with a condition (or one
 * already past), PERSIST, the WATCH version. */
static void redis_keyops(const char *key, size_t nkey, uint32_t r)
{
    enum cache_status st;
    cache_exp_t soon = cache_exp_from_rel_seconds(cache_rel_time(cache) + 1 + r % 4);
    switch ((r >> 20) % 5) {
    case 0: {
        struct item *it = cache_alloc(cache, key, nkey, 0, 0, 100, &st);
        if (it == NULL)
            break;
        fill(item_value(it), 100);
        struct cache_store_opts o = {
            .mode = (r & 2) ? CACHE_ADD : CACHE_SET, .keep_ttl = r & 4, .want_old = r & 8};
        struct cache_store_result res;
        cache_store_ex(cache, it, &o, &res);
        cache_item_release(cache, &it);
        if (res.old != NULL && item_nbytes(res.old) > 0)
            (void)*(volatile const char *)item_value_const(res.old);
        cache_item_release(cache, &res.old);
        break;
    }
    case 1: {
        struct item *old = NULL;
        cache_delete_ex(cache, key, nkey, 0, &old);
        cache_item_release(cache, &old);
        break;
    }
    case 2:
        if (r & 1)
            cache_expire_past(cache, key, nkey, soon, CACHE_EXPIRE_LT);
        else
            cache_expire(cache, key, nkey, soon, (enum cache_expire_cond)(r % 5));
        break;
    case 3:
        cache_persist(cache, key, nkey);
        break;
    default:
        (void)cache_key_version(cache, key, nkey);
        break;
    }
}

/* MULTI/EXEC: a transaction over two or three keys that reads one, stores another, renames among
 * them and increments one, after a WATCH-style version check. */
static void transaction(uint32_t r)
{
    char keys[3][16];
    size_t n[3];
    uint64_t hashes[3];
    unsigned k, nk = 2 + r % 2;
    enum cache_status st;
    for (k = 0; k < nk; k++) {
        n[k] = (size_t)snprintf(keys[k], sizeof(keys[k]), "k%u", (r >> (4 + 7 * k)) % KEYS);
        hashes[k] = cache_key_hash(keys[k], n[k]);
    }
    uint64_t watched = cache_key_version(cache, keys[0], n[0]);
    cache_tx_begin(cache, hashes, nk);
    if (cache_key_version(cache, keys[0], n[0]) == watched) {
        struct item *it = cache_get(cache, keys[0], n[0], NULL);
        cache_item_release(cache, &it);
        it = cache_alloc(cache, keys[1], n[1], 0, 0, 10, &st);
        if (it != NULL) {
            fill(item_value(it), 10);
            cache_store(cache, it, CACHE_SET, 0, NULL);
            cache_item_release(cache, &it);
        }
        cache_rename(cache, keys[1], n[1], keys[nk - 1], n[nk - 1], false, NULL);
        struct counter c = {.in_place = (r & 4) != 0};
        struct cache_rmw op = {.plan = counter_plan, .fill = counter_fill, .arg = &c};
        struct cache_rmw_result res;
        cache_rmw(cache, keys[0], n[0], &op, &res);
    }
    cache_tx_end(cache);
}

static void *worker(void *arg)
{
    uint32_t seed = (uint32_t)(uintptr_t)arg * 2654435761u + 1;
    char key[16], val[4096];
    while (!atomic_load_explicit(&stop, memory_order_relaxed)) {
        uint32_t r = next_rand(&seed);
        size_t nkey = (size_t)snprintf(key, sizeof(key), "k%u", r % KEYS);
        enum cache_status st;
        switch ((r >> 12) % 12) {
        case 0:
        case 1: {
            size_t n = (r >> 16) % 3000;
            cache_exp_t exp =
                (r & 1) ? CACHE_EXP_NEVER : cache_exp_from_rel_seconds(cache_rel_time(cache) + 2);
            struct item *it = cache_alloc(cache, key, nkey, 0, exp, n, &st);
            if (it == NULL)
                break;
            fill(item_value(it), n);
            cache_store(cache, it, CACHE_SET, 0, NULL);
            cache_item_release(cache, &it);
            break;
        }
        case 2:
        case 3:
        case 4: {
            struct item *it = cache_get(cache, key, nkey, NULL);
            if (it == NULL)
                break;
            memcpy(val, item_value_const(it), item_nbytes(it) < sizeof(val) ? item_nbytes(it) : sizeof(val));
            cache_item_release(cache, &it);
            break;
        }
        case 5: {
            struct counter k = {.in_place = (r & 2) != 0};
            struct cache_rmw op = {.plan = counter_plan, .fill = counter_fill, .arg = &k};
            struct cache_rmw_result res;
            op.count = (r & 1) ? CACHE_RMW_COUNT_INCR : CACHE_RMW_COUNT_DECR;
            cache_rmw(cache, key, nkey, &op, &res);
            break;
        }
        case 6: {
            struct item *it = cache_alloc(cache, key, nkey, 0, 0, 3, &st);
            if (it == NULL)
                break;
            memcpy(item_value(it), "333", 3);
            cache_store(cache, it, (r & 1) ? CACHE_APPEND : CACHE_ADD, 0, NULL);
            cache_item_release(cache, &it);
            break;
        }
        case 7:
            if (r & 1)
                cache_delete(cache, key, nkey, 0);
            else
                cache_touch(cache, key, nkey,
                            (r & 2) ? cache_exp_from_rel_seconds(cache_rel_time(cache) + 5)
                                    : cache_exp_from_unix_ms(cache, cache_now_unix_ms(cache) + r % 3000));
            break;
        case 8:
            redis_keyops(key, nkey, r);
            break;
        case 9: {
            char dst[16];
            size_t ndst = (size_t)snprintf(dst, sizeof(dst), "k%u", (r >> 20) % KEYS);
            cache_rename(cache, key, nkey, dst, ndst, r & 1, NULL);
            break;
        }
        default:
            transaction(r);
            break;
        }
    }
    return NULL;
}

/* SCAN, RANDOMKEY and DBSIZE meanwhile: full scans (the table grows while they run), random items
 * read while held, counts. */
static void scan_visit(void *arg, const struct item *it)
{
    char buf[64];
    size_t n = item_nkey(it) < sizeof(buf) ? item_nkey(it) : sizeof(buf);
    memcpy(buf, item_key(it), n);
    *(size_t *)arg += n + (size_t)buf[0];
}

static void *scanner(void *arg)
{
    (void)arg;
    size_t bytes = 0;
    while (!atomic_load_explicit(&stop, memory_order_relaxed)) {
        uint64_t cur = 0;
        do
            cur = cache_scan(cache, cur, scan_visit, &bytes);
        while (cur != 0 && !atomic_load_explicit(&stop, memory_order_relaxed));
        struct item *it = cache_random_item(cache);
        if (it != NULL && item_nbytes(it) > 0)
            (void)*(volatile const char *)item_value_const(it);
        cache_item_release(cache, &it);
        (void)cache_count(cache);
    }
    return NULL;
}

/* What the server's main thread and admin commands do meanwhile. */
static void *background(void *arg)
{
    (void)arg;
    uint32_t seed = 7;
    unsigned n = 0;
    while (!atomic_load_explicit(&stop, memory_order_relaxed)) {
        uint32_t r = next_rand(&seed);
        struct cache_stats st;
        struct cache_class_stats cs;
        cache_reclaim(cache, 100);
        cache_stats_get(cache, &st);
        cache_class_stats_get(cache, 1 + r % cache_class_count(cache), &cs);
        cache_slabs_reassign(cache, -1, (int)(1 + (r >> 8) % cache_class_count(cache)));
        if (++n % 64 == 0)
            cache_slabs_reassign(cache, -1, 0);
        if (n % 200 == 0)
            cache_flush(cache, cache_rel_time(cache));
        if (n % 100 == 0) {
            struct snapshot_result res;
            enum snapshot_status s = snapshot_save(cache, snap_path, &res);
            if (s != SNAPSHOT_OK) {
                fprintf(stderr, "stress_storage: snapshot_save: %s\n", snapshot_strerror(s));
                atomic_fetch_add(&failures, 1);
            }
        }
        if (n % 50 == 0)
            cache_clock_set(cache, cache_rel_time(cache) + 1);
        usleep(200);
    }
    return NULL;
}

int main(int argc, char **argv)
{
    int secs = argc > 1 ? atoi(argv[1]) : 3;
    struct cache_options o;
    cache_options_default(&o);
    o.memory_limit = 4u << 20;
    o.shard_bits = 2;
    o.hash_power = 4; /* grows while the threads run */
    const char *err = NULL;
    cache = cache_create(&o, &err);
    if (cache == NULL) {
        fprintf(stderr, "stress_storage: cache_create: %s\n", err);
        return 1;
    }
    cache_clock_set(cache, 100);
    const char *tmp = getenv("TMPDIR") ? getenv("TMPDIR") : "/tmp";
    snprintf(snap_path, sizeof(snap_path), "%s/cairn-stress-%ld.snap", tmp, (long)getpid());

    pthread_t th[WORKERS + 2];
    for (uintptr_t i = 0; i < WORKERS; i++)
        pthread_create(&th[i], NULL, worker, (void *)(i + 1));
    pthread_create(&th[WORKERS], NULL, background, NULL);
    pthread_create(&th[WORKERS + 1], NULL, scanner, NULL);
    sleep((unsigned)secs);
    atomic_store(&stop, true);
    for (int i = 0; i <= WORKERS + 1; i++)
        pthread_join(th[i], NULL);

    struct cache_stats st;
    cache_stats_get(cache, &st);
    printf("stress_storage: %d s, %u threads: items %llu, evictions %llu, pages moved %llu, reclaimed %llu\n",
           secs, WORKERS + 2, (unsigned long long)st.curr_items, (unsigned long long)st.evictions,
           (unsigned long long)st.slabs_moved, (unsigned long long)st.reclaimed);
    cache_destroy(&cache);
    unlink(snap_path);
    return atomic_load(&failures) == 0 ? 0 : 1;
}
