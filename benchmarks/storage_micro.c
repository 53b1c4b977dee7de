/*
 * storage_micro.c: nanoseconds per storage call, no server and no network: what one shard lock
 * round trip plus the table walk costs on the request path (cache_get, cache_store), measured to
 * see what a change around the shard lock costs.
 *
 * Loads KEYS keys of 32 bytes, then times rounds of gets (hits, each value read while the reference
 * is held) and of sets (alloc + store + release) over a random key sequence, on one thread and on
 * `threads` threads at once. Each figure is the median of `rounds` rounds.
 *
 *   storage_micro [rounds] [threads]      (default 7 rounds, 2 threads)
 *
 * Built on demand: make benchmarks/storage_micro
 */
#include "config.h"

#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "storage/cache.h"

#define KEYS     100000u
#define OPS      2000000u
#define VLEN     32u
#define MAX_RUNS 64

static struct cache *cache;

static uint64_t now_ns(void)
{
    struct timespec ts;

    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

static uint32_t next_rand(uint32_t *s)
{
    *s ^= *s << 13;
    *s ^= *s >> 17;
    *s ^= *s << 5;
    return *s;
}

static size_t key_of(char *buf, size_t cap, uint32_t i)
{
    return (size_t)snprintf(buf, cap, "micro:key:%08u", i);
}

static void set_one(uint32_t i)
{
    char key[32];
    size_t nkey = key_of(key, sizeof key, i);
    enum cache_status st;
    struct item *it = cache_alloc(cache, key, nkey, 0, 0, VLEN, &st);

    if (!it) {
        fprintf(stderr, "storage_micro: alloc failed (%d)\n", (int)st);
        exit(2);
    }
    memset(item_value(it), 'v', VLEN);
    cache_store(cache, it, CACHE_SET, 0, NULL);
    cache_item_release(cache, &it);
}

struct job {
    bool sets;
    uint32_t seed;
    uint64_t sum; /* keeps the reads from being optimised away */
};

static void *run_job(void *p)
{
    struct job *j = p;
    char key[32];
    uint32_t n;

    for (n = 0; n < OPS; n++) {
        uint32_t i = next_rand(&j->seed) % KEYS;

        if (j->sets) {
            set_one(i);
            continue;
        }
        size_t nkey = key_of(key, sizeof key, i);
        struct item *it = cache_get(cache, key, nkey, NULL);

        if (it) {
            j->sum += (unsigned char)item_value_const(it)[VLEN - 1];
            cache_item_release(cache, &it);
        }
    }
    return NULL;
}

/* ns per operation of one round on `threads` threads (each does OPS operations). */
static double round_ns(bool sets, unsigned threads)
{
    pthread_t th[16];
    struct job jobs[16];
    uint64_t t0 = now_ns();
    unsigned k;

    for (k = 0; k < threads; k++) {
        jobs[k] = (struct job){.sets = sets, .seed = 2654435761u * (k + 1)};
        pthread_create(&th[k], NULL, run_job, &jobs[k]);
    }
    for (k = 0; k < threads; k++)
        pthread_join(th[k], NULL);
    return (double)(now_ns() - t0) / OPS;
}

static int cmp_double(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;

    return x < y ? -1 : x > y;
}

static double median_ns(bool sets, unsigned threads, unsigned rounds)
{
    double v[MAX_RUNS];
    unsigned r;

    for (r = 0; r < rounds; r++)
        v[r] = round_ns(sets, threads);
    qsort(v, rounds, sizeof v[0], cmp_double);
    return v[rounds / 2];
}

int main(int argc, char **argv)
{
    unsigned rounds = argc > 1 ? (unsigned)atoi(argv[1]) : 7;
    unsigned threads = argc > 2 ? (unsigned)atoi(argv[2]) : 2;
    struct cache_options o;
    const char *err = NULL;
    uint32_t i;

    if (rounds < 1 || rounds > MAX_RUNS || threads < 1 || threads > 16) {
        fprintf(stderr, "usage: storage_micro [rounds 1..64] [threads 1..16]\n");
        return 2;
    }
    cache_options_default(&o);
    o.memory_limit = (size_t)256 << 20;
    cache = cache_create(&o, &err);
    if (!cache) {
        fprintf(stderr, "storage_micro: %s\n", err);
        return 2;
    }
    for (i = 0; i < KEYS; i++)
        set_one(i);
    printf("get, 1 thread:   %6.1f ns/op\n", median_ns(false, 1, rounds));
    printf("set, 1 thread:   %6.1f ns/op\n", median_ns(true, 1, rounds));
    printf("get, %u threads:  %6.1f ns/op (wall time / ops per thread)\n", threads,
           median_ns(false, threads, rounds));
    cache_destroy(&cache);
    return 0;
}
