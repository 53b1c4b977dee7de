/*
 * test_memory.c: memory follows the load (issue 9), against the real binary. Data of mixed sizes that
 * fits the limit is kept whole (no eviction while memory sits idle), and after the value size shifts
 * from small to large the large values get the memory back from the small ones (no calcification).
 * Counts, never timings. Every test also passes against memcached 1.6.18 (CAIRN_TEST_TARGET=memcached),
 * except where cairn is meant to do better (said at the test).
 */
#include "config.h"

#include "tests/integration/harness.h"

#include <criterion/criterion.h>
#include <stdio.h>
#include <stdlib.h>

static void start_with_memory(const char *mb)
{
    const char *extra[] = {"-m", mb, NULL};

    h_server_start(&h_srv, extra);
}

static void setup_64(void)
{
    start_with_memory("64");
}

static void setup_8(void)
{
    start_with_memory("8");
}

/* A deterministic stream of sizes (64-bit LCG). */
static uint64_t rng_next(uint64_t *s)
{
    *s = *s * 6364136223846793005ull + 1442695040888963407ull;
    return *s >> 33;
}

/* The value of key index i with n bytes: derived from both, so a mix-up is seen. */
static void value_of(char *v, size_t n, int i)
{
    for (size_t k = 0; k < n; k++)
        v[k] = (char)('a' + (size_t)(i * 31 + (int)k) % 26);
}

/* Stores keys pfx<first>.. with the given sizes, pipelined 50 per write; every reply is STORED. */
static void set_many(int fd, const char *pfx, int first, const size_t *sizes, int count)
{
    size_t cap = 1 << 20, n = 0;
    char *req = malloc(cap), *exp = malloc(50 * 8);
    int batch = 0;

    for (int i = 0; i < count; i++) {
        size_t need = sizes[i] + 80;

        if (n + need > cap) {
            cap = (n + need) * 2;
            req = realloc(req, cap);
        }
        n += (size_t)sprintf(req + n, "set %s%d 0 0 %zu\r\n", pfx, first + i, sizes[i]);
        value_of(req + n, sizes[i], first + i);
        n += sizes[i];
        memcpy(req + n, "\r\n", 2);
        n += 2;
        memcpy(exp + batch * 8, "STORED\r\n", 8);
        if (++batch == 50 || i == count - 1) {
            h_send(fd, req, n);
            h_expectn(fd, exp, (size_t)batch * 8);
            n = 0;
            batch = 0;
        }
    }
    free(req);
    free(exp);
}

/* Whether key pfx<i> holds its value of n bytes (a miss is false; a wrong value fails the test). */
static bool has_value(int fd, const char *pfx, int i, size_t n)
{
    char key[64], *v;

    snprintf(key, sizeof key, "%s%d", pfx, i);
    v = h_get(fd, key, NULL);
    if (!v)
        return false;
    char *want = malloc(n + 1);
    value_of(want, n, i);
    cr_assert_eq(strlen(v), n, "%s: %zu bytes, want %zu", key, strlen(v), n);
    cr_assert(memcmp(v, want, n) == 0, "%s: wrong bytes", key);
    free(want);
    free(v);
    return true;
}

TestSuite(memory_fit, .init = setup_64, .fini = h_teardown, .timeout = 120);

/* The finding of issue 9: 5,000 keys with values of random size 0-4,095 bytes (10 MB) into the
 * default 64 MB kept only 3,532 of them, with 1,468 evictions. Now, as memcached: all of them. */
Test(memory_fit, five_thousand_keys_of_mixed_size_all_kept)
{
    enum { N = 5000 };
    static size_t sizes[N];
    uint64_t seed = 9;
    int fd = h_connect(h_srv.port), kept = 0;

    for (int i = 0; i < N; i++)
        sizes[i] = rng_next(&seed) % 4096;
    set_many(fd, "key", 0, sizes, N);
    for (int i = 0; i < N; i++)
        kept += has_value(fd, "key", i, sizes[i]);
    cr_assert_eq(kept, N, "kept %d of %d keys", kept, N);
    cr_assert_eq(h_stat(fd, "evictions"), 0);
}

/* About half of -m 64 of mixed sizes (0-4 KB, plus 1% from 4 KB to 100 KB), stored once and read
 * back: every key kept, nothing evicted. */
Test(memory_fit, half_the_limit_of_mixed_sizes_all_kept)
{
    enum { N = 12500 };
    static size_t sizes[N];
    uint64_t seed = 77, total = 0;
    int fd = h_connect(h_srv.port), kept = 0;

    for (int i = 0; i < N; i++) {
        sizes[i] = i % 100 == 99 ? 4096 + rng_next(&seed) % 96000 : rng_next(&seed) % 4096;
        total += sizes[i];
    }
    cr_assert_gt(total, 28u << 20);
    cr_assert_lt(total, 34u << 20);
    set_many(fd, "fit", 0, sizes, N);
    for (int i = 0; i < N; i++)
        kept += has_value(fd, "fit", i, sizes[i]);
    cr_assert_eq(kept, N, "kept %d of %d keys", kept, N);
    cr_assert_eq(h_stat(fd, "evictions"), 0);
}

TestSuite(memory_shift, .init = setup_8, .fini = h_teardown, .timeout = 180);

/* -m 8 filled three times over with 100-byte values, then a working set of 1-4 KB values (about 3.7
 * MB, less than half the limit) is stored and read back in rounds, cache-aside (a miss is stored
 * again). The large values must win the memory back from the small ones: by the last rounds
 * (nearly) every read hits. A cache whose pages stayed with the 100-byte class would keep missing. */
Test(memory_shift, large_values_win_memory_back_from_small_ones)
{
    enum { SMALL = 170000, BIG = 1500, ROUNDS = 6 };
    static size_t small[SMALL], big[BIG];
    uint64_t seed = 5;
    int fd = h_connect(h_srv.port), hits = 0;

    for (int i = 0; i < SMALL; i++)
        small[i] = 100;
    for (int i = 0; i < BIG; i++)
        big[i] = 1024 + rng_next(&seed) % 3072;
    /* A server under ThreadSanitizer (CI sets TSAN_OPTIONS) runs several times slower and its page
     * moves vary from run to run (1227 to 1458 of 1500 hits seen after 6 rounds): it gets up to 24
     * rounds to reach 90%, judged on the last one, so that what is tested stays that the memory
     * comes back, not how fast under the sanitizer. */
    bool tsan = getenv("TSAN_OPTIONS") != NULL;
    int want = tsan ? BIG * 90 / 100 : BIG * 98 / 100, rounds = tsan ? 4 * ROUNDS : ROUNDS;
    set_many(fd, "s", 0, small, SMALL);
    cr_assert_gt(h_stat(fd, "evictions"), 0);
    for (int round = 0; round < rounds && !(tsan && round >= ROUNDS && hits >= want); round++) {
        hits = 0;
        for (int i = 0; i < BIG; i++) {
            if (has_value(fd, "b", i, big[i]))
                hits++;
            else
                set_many(fd, "b", i, &big[i], 1);
        }
        h_sleep_ms(300);
    }
    if (h_target_is_memcached())
        return; /* memcached 1.6.18 moves pages by a 30 s window: 913 of 1,500 here (its figure) */
    cr_assert_geq(hits, want, "last round: %d of %d hits", hits, BIG);
    cr_assert_gt(h_stat(fd, "slabs_moved"), 0);
}
