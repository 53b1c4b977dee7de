/*
 * test_tx.c: transactions (storage/tx.c): the ordinary calls inside one do not lock their shards
 * again, other threads wait for the held shards, duplicate keys and keys sharing a shard, every
 * shard past the shard count, allocation that must evict inside a transaction, the assertion on an
 * undeclared key, WATCH versions; and a race of transfers between overlapping sets of counters,
 * audited by transactions and mixed with single-key calls: the total never changes and nothing
 * deadlocks.
 */
#include "config.h"

#include <pthread.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "tests/unit/storage/storage_test.h"

#define KEY(s) s, strlen(s)

/* One timeout for the whole suite (per-test timeouts of different lengths leak in Criterion's
 * runner under LeakSanitizer). */
TestSuite(tx, .timeout = 120);

static uint64_t h(const char *key)
{
    return cache_key_hash(key, strlen(key));
}

/* The shard a key maps to in a cache of 2^bits shards. */
static unsigned shard_of(const char *key, unsigned bits)
{
    return bits ? (unsigned)(h(key) >> (64 - bits)) : 0;
}

Test(tx, calls_inside_do_not_lock_again)
{
    struct cache *c = st_cache(0, 0, 6, 0);
    uint64_t hs[2] = {h("a"), h("b")};

    st_set(c, "b", "old");
    cache_tx_begin(c, hs, 2);
    cr_assert(cache_tx_active(c));
    cr_assert_eq(st_set(c, "a", "1"), CACHE_OK);
    st_expect(c, "a", "1");
    st_expect(c, "b", "old");
    cr_assert_eq(cache_delete(c, KEY("b"), 0), CACHE_OK);
    cr_assert_eq(cache_touch(c, KEY("a"), 0), CACHE_OK);
    cr_assert_eq(st_store(c, "b", "new", 0, 0, CACHE_ADD, 0, NULL), CACHE_OK);
    cr_assert_eq(st_store(c, "b", "!", 0, 0, CACHE_APPEND, 0, NULL), CACHE_OK);
    cr_assert_neq(cache_key_version(c, KEY("a")), 0);
    cache_tx_end(c);
    cr_assert(!cache_tx_active(c));
    st_expect(c, "b", "new!");
    cache_destroy(&c);
}

struct waiter {
    struct cache *c;
    atomic_int done;
};

static void *get_a(void *p)
{
    struct waiter *w = p;
    struct item *it = cache_get(w->c, KEY("a"), NULL);

    cache_item_release(w->c, &it);
    atomic_store(&w->done, 1);
    return NULL;
}

Test(tx, other_threads_wait_for_held_shards)
{
    struct waiter w = {.c = st_cache(0, 0, 6, 0)};
    uint64_t ha = h("a");
    pthread_t th;

    st_set(w.c, "a", "x");
    cache_tx_begin(w.c, &ha, 1);
    cr_assert_eq(pthread_create(&th, NULL, get_a, &w), 0);
    usleep(100 * 1000);
    cr_assert_eq(atomic_load(&w.done), 0, "a get went through a held shard");
    cache_tx_end(w.c);
    pthread_join(th, NULL);
    cr_assert_eq(atomic_load(&w.done), 1);
    cache_destroy(&w.c);
}

Test(tx, duplicates_shared_shards_and_every_shard)
{
    struct cache *c = st_cache(0, 0, 2, 0);
    char keys[40][8];
    uint64_t hs[40];
    unsigned i;

    for (i = 0; i < 40; i++) {
        snprintf(keys[i], sizeof keys[i], "k%u", i % 20); /* each key twice */
        hs[i] = h(keys[i]);
    }
    cache_tx_begin(c, hs, 3); /* fewer keys than shards: only theirs */
    for (i = 0; i < 3; i++)
        cr_assert_eq(st_set(c, keys[i], "v"), CACHE_OK);
    cache_tx_end(c);
    cache_tx_begin(c, hs, 40); /* more keys than shards: every shard */
    for (i = 0; i < 40; i++)
        cr_assert_eq(st_set(c, keys[i], keys[i]), CACHE_OK);
    cache_tx_end(c);
    cache_tx_begin(c, NULL, 0);
    cr_assert(cache_tx_active(c));
    cache_tx_end(c);
    cache_tx_begin_all(c);
    for (i = 0; i < 20; i++)
        st_expect(c, keys[i], keys[i]);
    cache_tx_end(c);
    cache_destroy(&c);
}

/* A long list of keys (past the record's inline room) in a cache with many shards. */
Test(tx, long_key_lists)
{
    struct cache *c = st_cache(0, 0, 10, 4);
    enum { N = 300 };
    static char keys[N][12];
    uint64_t hs[N];
    unsigned i;

    for (i = 0; i < N; i++) {
        snprintf(keys[i], sizeof keys[i], "long%u", i);
        hs[i] = h(keys[i]);
    }
    cache_tx_begin(c, hs, N);
    for (i = 0; i < N; i++)
        cr_assert_eq(st_set(c, keys[i], "v"), CACHE_OK);
    cache_tx_end(c);
    for (i = 0; i < N; i++)
        st_expect(c, keys[i], "v");
    cache_destroy(&c);
}

/* A key whose shard was not declared is the caller's bug: an assertion. */
Test(tx, an_undeclared_shard_asserts, .signal = SIGABRT)
{
    struct cache *c = st_cache(0, 0, 6, 0);
    uint64_t ha = h("a");
    char other[16];
    unsigned i;

    for (i = 0;; i++) {
        snprintf(other, sizeof other, "o%u", i);
        if (shard_of(other, 6) != shard_of("a", 6))
            break;
    }
    cache_tx_begin(c, &ha, 1);
    cache_get(c, KEY(other), NULL);
}

/* A full cache: a transaction holding every shard still stores, evicting from its own shards. */
Test(tx, allocation_evicts_from_held_shards)
{
    struct cache *c = st_cache(2u << 20, 0, 2, 0);
    char key[32], val[1000];
    unsigned i;

    memset(val, 'v', sizeof val - 1);
    val[sizeof val - 1] = '\0';
    for (i = 0; st_stats(c).evictions == 0; i++) {
        snprintf(key, sizeof key, "fill%u", i);
        cr_assert_eq(st_set(c, key, val), CACHE_OK);
    }
    uint64_t before = st_stats(c).evictions;
    cache_tx_begin_all(c);
    for (i = 0; i < 200; i++) {
        snprintf(key, sizeof key, "tx%u", i);
        cr_assert_eq(st_set(c, key, val), CACHE_OK, "store %u in the transaction", i);
    }
    cache_tx_end(c);
    cr_assert_gt(st_stats(c).evictions, before);
    st_expect(c, "tx199", val);
    cache_destroy(&c);
}

Test(tx, key_version)
{
    struct cache *c = st_cache(0, 0, 6, 0);
    uint64_t v1, v2;
    struct item *it;

    cr_assert_eq(cache_key_version(c, KEY("k")), 0);
    st_set(c, "k", "1");
    v1 = cache_key_version(c, KEY("k"));
    cr_assert_neq(v1, 0);
    it = cache_get(c, KEY("k"), NULL);
    cache_item_release(c, &it);
    cr_assert_eq(cache_key_version(c, KEY("k")), v1, "a read is not a change");
    st_set(c, "k", "1");
    v2 = cache_key_version(c, KEY("k"));
    cr_assert_neq(v2, v1, "a store of the same bytes is a change");
    cr_assert_eq(cache_touch(c, KEY("k"), 5000), CACHE_OK);
    cr_assert_neq(cache_key_version(c, KEY("k")), v2, "an expiry change is a change");
    cache_delete(c, KEY("k"), 0);
    cr_assert_eq(cache_key_version(c, KEY("k")), 0);
    cache_destroy(&c);
}

/* ---- the race ---- */

#define ACCOUNTS 24
#define START    1000
#define ROUNDS   8000

static struct cache *rc;
static atomic_int race_errors;

static void acct_key(char *buf, size_t cap, unsigned i)
{
    snprintf(buf, cap, "acct:%u", i);
}

/* The decimal value of an account, or -1 if it is missing. */
static long read_acct(unsigned i)
{
    char key[16], buf[32];
    struct item *it;
    long v;

    acct_key(key, sizeof key, i);
    it = cache_get(rc, KEY(key), NULL);
    if (!it)
        return -1;
    memcpy(buf, item_value_const(it), item_nbytes(it));
    buf[item_nbytes(it)] = '\0';
    v = atol(buf);
    cache_item_release(rc, &it);
    return v;
}

static void write_acct(unsigned i, long v)
{
    char key[16], buf[32];

    acct_key(key, sizeof key, i);
    snprintf(buf, sizeof buf, "%ld", v);
    if (st_set(rc, key, buf) != CACHE_OK)
        atomic_fetch_add(&race_errors, 1);
}

static uint32_t next_rand(uint32_t *s)
{
    *s ^= *s << 13;
    *s ^= *s >> 17;
    *s ^= *s << 5;
    return *s;
}

/* Moves 1..3 units from one account to the next ones of a random overlapping set. */
static void *transfer(void *p)
{
    uint32_t seed = (uint32_t)(uintptr_t)p * 2654435761u + 1;
    char key[16];
    unsigned r, k;

    for (r = 0; r < ROUNDS; r++) {
        unsigned n = 2 + next_rand(&seed) % 3, idx[4];
        uint64_t hs[4];

        for (k = 0; k < n; k++) {
            idx[k] = next_rand(&seed) % ACCOUNTS;
            acct_key(key, sizeof key, idx[k]);
            hs[k] = h(key);
        }
        cache_tx_begin(rc, hs, n);
        for (k = 1; k < n; k++) {
            long from = read_acct(idx[0]), to;

            write_acct(idx[0], from - (long)k);
            to = read_acct(idx[k]);
            write_acct(idx[k], to + (long)k);
        }
        cache_tx_end(rc);
    }
    return NULL;
}

/* Sums every account inside a transaction: always the starting total. */
static void *audit(void *p)
{
    char key[16];
    uint64_t hs[ACCOUNTS];
    unsigned r, i;

    (void)p;
    for (i = 0; i < ACCOUNTS; i++) {
        acct_key(key, sizeof key, i);
        hs[i] = h(key);
    }
    for (r = 0; r < ROUNDS / 4; r++) {
        long sum = 0;

        cache_tx_begin(rc, hs, ACCOUNTS);
        for (i = 0; i < ACCOUNTS; i++)
            sum += read_acct(i);
        cache_tx_end(rc);
        if (sum != (long)ACCOUNTS * START)
            atomic_fetch_add(&race_errors, 1);
    }
    return NULL;
}

/* Single-key calls on the same shards: reads of the accounts, writes of other keys. */
static void *plain(void *p)
{
    uint32_t seed = (uint32_t)(uintptr_t)p * 40503u + 7;
    char key[16];
    unsigned r;

    for (r = 0; r < ROUNDS * 4; r++) {
        uint32_t x = next_rand(&seed);

        if (read_acct(x % ACCOUNTS) < 0)
            atomic_fetch_add(&race_errors, 1);
        snprintf(key, sizeof key, "other%u", x % 64);
        if (x & 1)
            st_set(rc, key, "o");
        else
            cache_delete(rc, KEY(key), 0);
    }
    return NULL;
}

Test(tx, overlapping_transfers_keep_the_total)
{
    pthread_t th[6];
    unsigned i;

    rc = st_cache(0, 0, 4, 2);
    for (i = 0; i < ACCOUNTS; i++)
        write_acct(i, START);
    for (i = 0; i < 3; i++)
        cr_assert_eq(pthread_create(&th[i], NULL, transfer, (void *)(uintptr_t)(i + 1)), 0);
    cr_assert_eq(pthread_create(&th[3], NULL, audit, NULL), 0);
    for (i = 4; i < 6; i++)
        cr_assert_eq(pthread_create(&th[i], NULL, plain, (void *)(uintptr_t)i), 0);
    for (i = 0; i < 6; i++)
        pthread_join(th[i], NULL);
    cr_assert_eq(atomic_load(&race_errors), 0, "%d lost updates or torn sums", atomic_load(&race_errors));
    long sum = 0;
    for (i = 0; i < ACCOUNTS; i++)
        sum += read_acct(i);
    cr_assert_eq(sum, (long)ACCOUNTS * START);
    cache_destroy(&rc);
}
