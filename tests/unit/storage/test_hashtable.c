/*
 * test_hashtable.c: the sharded hash table through cache.h: insert/find/delete, keys that differ
 * only in length or in binary bytes, incremental growth (every key findable during and after a
 * migration), and several threads working on shared and private keys while the table grows.
 */
#include "tests/unit/storage/storage_test.h"

#include <pthread.h>
#include <stdlib.h>

static struct cache *c;

static void teardown(void)
{
    cache_destroy(&c);
}

TestSuite(hashtable, .fini = teardown);

static void key_of(char *buf, size_t n, int i)
{
    snprintf(buf, n, "key:%d:%s", i, i % 2 ? "odd" : "even-and-a-bit-longer");
}

static void val_of(char *buf, size_t n, int i)
{
    snprintf(buf, n, "value-%d", i * 31);
}

static void expect_i(int i, bool want_present)
{
    char key[64], val[64];

    key_of(key, sizeof key, i);
    val_of(val, sizeof val, i);
    if (want_present)
        st_expect(c, key, val);
    else
        st_expect_miss(c, key, CACHE_MISS_NONE);
}

static void set_i(int i)
{
    char key[64], val[64];

    key_of(key, sizeof key, i);
    val_of(val, sizeof val, i);
    cr_assert_eq(st_set(c, key, val), CACHE_OK, "set %d", i);
}

Test(hashtable, insert_find_delete)
{
    char key[64];
    int i;

    c = st_cache(0, 0, 3, 6);
    for (i = 0; i < 2000; i++)
        set_i(i);
    for (i = 0; i < 2000; i++)
        expect_i(i, true);
    for (i = 1; i < 2000; i += 2) {
        key_of(key, sizeof key, i);
        cr_assert_eq(cache_delete(c, key, strlen(key), 0), CACHE_OK);
    }
    for (i = 0; i < 2000; i++)
        expect_i(i, i % 2 == 0);
    cr_assert_eq(st_stats(c).curr_items, 1000);
}

Test(hashtable, keys_are_compared_by_length_and_bytes)
{
    static const char k1[] = "ab";
    static const char k2[] = "ab\0c";
    static const char k3[] = "ab\0d";
    enum cache_status st;
    struct item *it;

    c = st_cache(0, 0, 0, 1); /* two buckets: everything collides */
    cr_assert_eq(st_set(c, "a", "1"), CACHE_OK);
    cr_assert_eq(st_set(c, "aa", "2"), CACHE_OK);
    cr_assert_eq(st_set(c, k1, "3"), CACHE_OK);
    it = cache_alloc(c, k2, 4, 0, 0, 1, &st);
    item_value(it)[0] = '4';
    cr_assert_eq(cache_store(c, it, CACHE_SET, 0, NULL), CACHE_OK);
    cache_item_release(c, &it);
    it = cache_alloc(c, k3, 4, 0, 0, 1, &st);
    item_value(it)[0] = '5';
    cr_assert_eq(cache_store(c, it, CACHE_SET, 0, NULL), CACHE_OK);
    cache_item_release(c, &it);
    st_expect(c, "a", "1");
    st_expect(c, "aa", "2");
    st_expect(c, "ab", "3");
    it = cache_get(c, k2, 4, NULL);
    cr_assert_not_null(it);
    cr_assert_eq(item_value(it)[0], '4');
    cache_item_release(c, &it);
    cr_assert_eq(cache_delete(c, k2, 4, 0), CACHE_OK);
    it = cache_get(c, k3, 4, NULL);
    cr_assert_not_null(it);
    cr_assert_eq(item_value(it)[0], '5');
    cache_item_release(c, &it);
    st_expect(c, "ab", "3");
    st_expect_miss(c, "b", CACHE_MISS_NONE);
}

Test(hashtable, grows_incrementally_with_every_key_findable)
{
    const int n = 6000;
    int i, j, checks_while_expanding = 0;
    struct cache_stats s;

    c = st_cache(0, 0, 0, 4);
    s = st_stats(c);
    cr_assert_eq(s.hash_power_level, 4);
    cr_assert_eq(s.hash_bytes, 16 * 4);
    for (i = 0; i < n; i++) {
        set_i(i);
        s = st_stats(c);
        if (s.hash_is_expanding) { /* the lookups below also finish the migration */
            checks_while_expanding++;
            for (j = 0; j <= i; j++)
                expect_i(j, true);
        }
    }
    cr_assert_eq(checks_while_expanding, 8, "16 -> 4096 buckets: eight growths, each checked");
    for (i = 0; i < n; i++)
        expect_i(i, true);
    for (i = 0; i < 2000 && st_stats(c).hash_is_expanding; i++)
        expect_i(i, true); /* lookups also move buckets */
    s = st_stats(c);
    cr_assert_eq(s.hash_is_expanding, 0);
    cr_assert_geq(s.hash_power_level, 12, "6000 items need 4096+ buckets (got 2^%llu)",
                  (unsigned long long)s.hash_power_level);
    cr_assert_eq(s.hash_bytes, ((uint64_t)1 << s.hash_power_level) * 4);
    cr_assert_eq(s.curr_items, n);
}

Test(hashtable, delete_and_replace_during_migration)
{
    char key[64];
    int i, n = 0;

    c = st_cache(0, 0, 0, 6);
    while (!st_stats(c).hash_is_expanding)
        set_i(n++);
    for (i = 0; i < n; i += 2) {
        key_of(key, sizeof key, i);
        cr_assert_eq(cache_delete(c, key, strlen(key), 0), CACHE_OK);
    }
    for (i = 1; i < n; i += 2)
        set_i(i); /* replace */
    for (i = 0; i < n; i++)
        expect_i(i, i % 2 == 1);
    cr_assert_eq(st_stats(c).curr_items, (uint64_t)n / 2);
}

#define THREADS 8
#define PRIVATE 3000
#define SHARED 200

static void *table_worker(void *p)
{
    int t = (int)(intptr_t)p, i, round;
    char key[64], val[64];
    int errors = 0;

    for (i = 0; i < PRIVATE; i++) {
        snprintf(key, sizeof key, "p%d-%d", t, i);
        snprintf(val, sizeof val, "%d/%d", t, i);
        errors += st_set(c, key, val) != CACHE_OK;
        snprintf(key, sizeof key, "s%d", (i * 7 + t) % SHARED);
        snprintf(val, sizeof val, "%d", t);
        if (i % 2)
            errors += st_store(c, key, val, (uint32_t)t, 0, CACHE_SET, 0, NULL) != CACHE_OK;
        else {
            struct item *it = cache_get(c, key, strlen(key), NULL);

            if (it && (item_nbytes(it) != 1 || item_value(it)[0] != (char)('0' + item_client_flags(it))))
                errors++;
            cache_item_release(c, &it);
        }
    }
    for (round = 0; round < 2; round++)
        for (i = 0; i < PRIVATE; i += 3) {
            snprintf(key, sizeof key, "p%d-%d", t, i);
            cache_delete(c, key, strlen(key), 0);
        }
    return (void *)(intptr_t)errors;
}

Test(hashtable, threads_on_shared_and_private_keys_while_growing)
{
    pthread_t th[THREADS];
    char key[64], val[64];
    struct cache_stats s;
    int t, i, shared = 0;

    c = st_cache(0, 0, 2, 2);
    for (t = 0; t < THREADS; t++)
        cr_assert_eq(pthread_create(&th[t], NULL, table_worker, (void *)(intptr_t)t), 0);
    for (t = 0; t < THREADS; t++) {
        void *r;

        pthread_join(th[t], &r);
        cr_assert_eq((intptr_t)r, 0, "thread %d saw %ld errors", t, (long)(intptr_t)r);
    }
    for (t = 0; t < THREADS; t++)
        for (i = 0; i < PRIVATE; i++) {
            snprintf(key, sizeof key, "p%d-%d", t, i);
            snprintf(val, sizeof val, "%d/%d", t, i);
            if (i % 3 == 0)
                st_expect_miss(c, key, CACHE_MISS_NONE);
            else
                st_expect(c, key, val);
        }
    for (i = 0; i < SHARED; i++) {
        struct item *it;

        snprintf(key, sizeof key, "s%d", i);
        it = cache_get(c, key, strlen(key), NULL);
        if (!it)
            continue;
        shared++;
        cr_assert_lt(item_client_flags(it), THREADS);
        cr_assert_eq(item_value(it)[0], (char)('0' + item_client_flags(it)));
        cache_item_release(c, &it);
    }
    s = st_stats(c);
    cr_assert_eq(s.curr_items, (uint64_t)THREADS * (PRIVATE - PRIVATE / 3) + (uint64_t)shared);
    cr_assert_gt(shared, SHARED / 2);
    cr_assert_gt(s.hash_power_level, 2 + 2 + 6, "the shards grew");
}
