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

static void *worker(void *arg)
{
    uint32_t seed = (uint32_t)(uintptr_t)arg * 2654435761u + 1;
    char key[16], val[4096];
    while (!atomic_load_explicit(&stop, memory_order_relaxed)) {
        uint32_t r = next_rand(&seed);
        size_t nkey = (size_t)snprintf(key, sizeof(key), "k%u", r % KEYS);
        enum cache_status st;
        switch ((r >> 12) % 8) {
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
            uint64_t res;
            cache_arith(cache, key, nkey, r & 1, r % 100, &res, NULL);
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
        default:
            if (r & 1)
                cache_delete(cache, key, nkey, 0);
            else
                cache_touch(cache, key, nkey,
                            (r & 2) ? cache_exp_from_rel_seconds(cache_rel_time(cache) + 5)
                                    : cache_exp_from_unix_ms(cache, cache_now_unix_ms(cache) + r % 3000));
            break;
        }
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

    pthread_t th[WORKERS + 1];
    for (uintptr_t i = 0; i < WORKERS; i++)
        pthread_create(&th[i], NULL, worker, (void *)(i + 1));
    pthread_create(&th[WORKERS], NULL, background, NULL);
    sleep((unsigned)secs);
    atomic_store(&stop, true);
    for (int i = 0; i <= WORKERS; i++)
        pthread_join(th[i], NULL);

    struct cache_stats st;
    cache_stats_get(cache, &st);
    printf("stress_storage: %d s, %u threads: items %llu, evictions %llu, pages moved %llu, reclaimed %llu\n", secs,
           WORKERS + 1, (unsigned long long)st.curr_items, (unsigned long long)st.evictions,
           (unsigned long long)st.slabs_moved, (unsigned long long)st.reclaimed);
    cache_destroy(&cache);
    unlink(snap_path);
    return atomic_load(&failures) == 0 ? 0 : 1;
}
