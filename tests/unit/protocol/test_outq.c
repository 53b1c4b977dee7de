/*
 * test_outq.c: the response queue: text coalescing, zero-copy values with their "\r\n", iovecs
 * from any partial-write position, and item references released exactly when a value is fully sent.
 */
#include "protocol_test.h"

static struct item *stored_item(struct cache *c, const char *key, const char *val)
{
    enum cache_status st;
    struct item *it = cache_alloc(c, key, strlen(key), 0, 0, strlen(val), &st);
    cr_assert_not_null(it);
    memcpy(item_value(it), val, strlen(val));
    cr_assert_eq(cache_store(c, it, CACHE_SET, 0, NULL), CACHE_OK);
    return it; /* the caller's reference; the table holds another */
}

Test(outq, text_only)
{
    struct cache *c = pt_cache_create(4u << 20);
    struct outq *r = outq_create(c);
    outq_add_str(r, "STORED\r\n");
    outq_add(r, "END\r\n", 5);
    outq_printf(r, "%d %s\r\n", 42, "x");
    cr_expect_eq(outq_pending(r), 8 + 5 + 6);
    struct iovec iov[4];
    cr_expect_eq(outq_iov(r, iov, 4), 1, "adjacent text is one iovec");
    char *out = pt_drain(r, 3, NULL);
    cr_expect_str_eq(out, "STORED\r\nEND\r\n42 x\r\n");
    free(out);
    cr_expect_eq(outq_pending(r), 0);
    outq_destroy(&r);
    cr_expect_null(r);
    outq_destroy(&r);
    cache_destroy(&c);
}

Test(outq, long_printf)
{
    struct cache *c = pt_cache_create(4u << 20);
    struct outq *r = outq_create(c);
    char big[5000];
    memset(big, 'a', sizeof(big) - 1);
    big[sizeof(big) - 1] = '\0';
    outq_printf(r, "<%s>", big);
    cr_expect_eq(outq_pending(r), sizeof(big) + 1);
    char *out = pt_drain(r, 100, NULL);
    cr_expect_eq(out[0], '<');
    cr_expect_eq(out[sizeof(big)], '>');
    free(out);
    outq_destroy(&r);
    cache_destroy(&c);
}

Test(outq, value_iov_and_release)
{
    struct cache *c = pt_cache_create(4u << 20);
    struct outq *r = outq_create(c);
    struct item *mine = stored_item(c, "k", "hello");
    uint16_t base = pt_refcount(mine);
    struct item *it = cache_get(c, "k", 1, NULL);
    cr_assert_eq(it, mine);
    cr_expect_eq(pt_refcount(mine), base + 1);

    outq_add_str(r, "VALUE k 0 5\r\n");
    outq_add_value(r, it);
    outq_add_str(r, "END\r\n");
    cr_expect_eq(outq_pending(r), 13 + 7 + 5);
    struct iovec iov[8];
    cr_assert_eq(outq_iov(r, iov, 8), 4);
    cr_expect_eq(iov[1].iov_base, item_value(mine), "the value is referenced, not copied");
    cr_expect_eq(iov[1].iov_len, 5);
    cr_expect_eq(iov[2].iov_len, 2);
    cr_expect_eq(memcmp(iov[2].iov_base, "\r\n", 2), 0);
    cr_expect_eq(outq_iov(r, iov, 2), 2, "max is respected");

    outq_consume(r, 13 + 4); /* header and 4 of 5 value bytes */
    cr_expect_eq(pt_refcount(mine), base + 1);
    cr_assert_eq(outq_iov(r, iov, 8), 3);
    cr_expect_eq(iov[0].iov_len, 1);
    cr_expect_eq(*(char *)iov[0].iov_base, 'o');
    outq_consume(r, 2); /* last value byte and '\r' */
    cr_expect_eq(pt_refcount(mine), base + 1, "released only once the \\r\\n is out");
    cr_assert_eq(outq_iov(r, iov, 8), 2);
    cr_expect_eq(iov[0].iov_len, 1);
    cr_expect_eq(*(char *)iov[0].iov_base, '\n');
    outq_consume(r, 1);
    cr_expect_eq(pt_refcount(mine), base, "released when fully written");
    char *out = pt_drain(r, 1, NULL);
    cr_expect_str_eq(out, "END\r\n");
    free(out);
    cache_item_release(c, &mine);
    outq_destroy(&r);
    cache_destroy(&c);
}

Test(outq, empty_value)
{
    struct cache *c = pt_cache_create(4u << 20);
    struct outq *r = outq_create(c);
    struct item *mine = stored_item(c, "e", "");
    cache_item_acquire(c, mine);
    outq_add_value(r, mine);
    struct iovec iov[4];
    cr_assert_eq(outq_iov(r, iov, 4), 1);
    cr_expect_eq(iov[0].iov_len, 2);
    char *out = pt_drain(r, 1, NULL);
    cr_expect_str_eq(out, "\r\n");
    free(out);
    cache_item_release(c, &mine);
    outq_destroy(&r);
    cache_destroy(&c);
}

/* A raw value (the binary protocol's) has no "\r\n": its reference goes back with its last byte; an
 * empty raw value queues nothing and gives its reference back at once. */
Test(outq, raw_value)
{
    struct cache *c = pt_cache_create(4u << 20);
    struct outq *r = outq_create(c);
    struct item *mine = stored_item(c, "k", "hello");
    struct item *empty = stored_item(c, "e", "");
    uint16_t base = pt_refcount(mine), ebase = pt_refcount(empty);
    struct iovec iov[8];

    cache_item_acquire(c, empty);
    outq_add_value_raw(r, empty);
    cr_expect_eq(pt_refcount(empty), ebase);
    cr_expect_eq(outq_pending(r), 0);
    outq_add(r, "[", 1);
    cache_item_acquire(c, mine);
    outq_add_value_raw(r, mine);
    outq_add(r, "]", 1);
    cr_expect_eq(outq_pending(r), 7);
    cr_assert_eq(outq_iov(r, iov, 8), 3);
    cr_expect_eq(iov[1].iov_base, item_value(mine));
    cr_expect_eq(iov[1].iov_len, 5);
    outq_consume(r, 5);
    cr_expect_eq(pt_refcount(mine), base + 1);
    outq_consume(r, 1);
    cr_expect_eq(pt_refcount(mine), base, "released with its last byte");
    char *out = pt_drain(r, 1, NULL);
    cr_expect_str_eq(out, "]");
    free(out);
    cache_item_release(c, &mine);
    cache_item_release(c, &empty);
    outq_destroy(&r);
    cache_destroy(&c);
}

Test(outq, destroy_and_clear_release)
{
    struct cache *c = pt_cache_create(4u << 20);
    struct outq *r = outq_create(c);
    struct item *mine = stored_item(c, "k", "v");
    uint16_t base = pt_refcount(mine);
    cache_item_acquire(c, mine);
    cache_item_acquire(c, mine);
    outq_add_value(r, mine);
    outq_add_value(r, mine);
    outq_consume(r, 1);
    outq_clear(r);
    cr_expect_eq(pt_refcount(mine), base);
    cr_expect_eq(outq_pending(r), 0);
    cache_item_acquire(c, mine);
    outq_add_value(r, mine);
    outq_destroy(&r);
    cr_expect_eq(pt_refcount(mine), base);
    cache_item_release(c, &mine);
    cache_destroy(&c);
}

/* A run of unwritten values of one item holds one reference, whatever its length: each new entry
 * takes over the previous one's, and the last entry of the run releases it once written. */
Test(outq, one_reference_per_run_of_an_item)
{
    struct cache *c = pt_cache_create(4u << 20);
    struct outq *r = outq_create(c);
    struct item *a = stored_item(c, "a", "x");
    struct item *b = stored_item(c, "b", "yy");
    uint16_t base_a = pt_refcount(a), base_b = pt_refcount(b);

    for (int i = 0; i < 1000; i++) {
        outq_add_str(r, "VALUE a 0 1\r\n");
        cache_item_acquire(c, a);
        outq_add_value(r, a);
    }
    cr_expect_eq(pt_refcount(a), base_a + 1, "1000 queued copies of a hold one reference");
    cache_item_acquire(c, b);
    outq_add_value(r, b); /* b breaks the run: the next a starts a new one */
    cache_item_acquire(c, a);
    outq_add_value(r, a);
    cr_expect_eq(pt_refcount(a), base_a + 2);
    cr_expect_eq(pt_refcount(b), base_b + 1);
    /* everything but the last byte of the first run's last value ("x\r\n"): still held */
    outq_consume(r, 1000 * 16 - 1);
    cr_expect_eq(pt_refcount(a), base_a + 2, "the run's reference lives until its last byte is out");
    outq_consume(r, 1);
    cr_expect_eq(pt_refcount(a), base_a + 1);
    /* a value written while a later copy is queued: the later copy took the reference over */
    outq_consume(r, 4); /* b */
    cr_expect_eq(pt_refcount(b), base_b);
    cache_item_acquire(c, a);
    outq_add_value(r, a);
    cr_expect_eq(pt_refcount(a), base_a + 1);
    outq_clear(r);
    cr_expect_eq(pt_refcount(a), base_a, "clear releases the run's one reference");
    char *out = pt_drain(r, 1, NULL);
    cr_expect_str_eq(out, "");
    free(out);
    cache_item_release(c, &a);
    cache_item_release(c, &b);
    outq_destroy(&r);
    cache_destroy(&c);
}

/* A queue that is never fully drained keeps working (compaction keeps offsets right): every byte
 * written out is checked against the stream that was queued. */
Test(outq, never_drained)
{
    struct cache *c = pt_cache_create(4u << 20);
    struct outq *r = outq_create(c);
    struct item *mine = stored_item(c, "k", "0123456789");
    uint16_t base = pt_refcount(mine);
    /* each round's value follows text, so every unwritten value of mine is one run: one reference */
    enum { ROUNDS = 900 };
    size_t cap = ROUNDS * 40;
    char *expect = malloc(cap);
    size_t sent = 0, queued = 0;
    for (int round = 0; round < ROUNDS; round++) {
        char line[64];
        int len = snprintf(line, sizeof(line), "VALUE %d\r\n", round);
        outq_add(r, line, (size_t)len);
        memcpy(expect + queued, line, (size_t)len);
        queued += (size_t)len;
        cache_item_acquire(c, mine);
        outq_add_value(r, mine);
        memcpy(expect + queued, "0123456789\r\n", 12);
        queued += 12;
        /* write a little less than was added, checking the bytes at the front */
        struct iovec iov[2];
        cr_assert_gt(outq_iov(r, iov, 2), 0);
        size_t w = iov[0].iov_len > 7 ? 7 : iov[0].iov_len;
        cr_assert_eq(memcmp(iov[0].iov_base, expect + sent, w), 0, "round %d", round);
        outq_consume(r, w);
        sent += w;
        cr_assert_eq(outq_pending(r), queued - sent);
    }
    size_t n;
    char *out = pt_drain(r, 13, &n);
    cr_expect_eq(n, queued - sent);
    cr_expect_eq(memcmp(out, expect + sent, n), 0);
    free(out);
    free(expect);
    cr_expect_eq(pt_refcount(mine), base);
    cache_item_release(c, &mine);
    outq_destroy(&r);
    cache_destroy(&c);
}

/* A burst larger than the kept buffer size is freed after draining and the queue still works. */
Test(outq, burst_then_reuse)
{
    struct cache *c = pt_cache_create(4u << 20);
    struct outq *r = outq_create(c);
    for (int i = 0; i < 20000; i++)
        outq_printf(r, "STAT item_%d %d\r\n", i, i);
    size_t n;
    char *out = pt_drain(r, 1000, &n);
    cr_expect(strncmp(out, "STAT item_0 0\r\nSTAT item_1 1\r\n", 30) == 0);
    free(out);
    outq_add_str(r, "END\r\n");
    out = pt_drain(r, 1000, NULL);
    cr_expect_str_eq(out, "END\r\n");
    free(out);
    outq_destroy(&r);
    cache_destroy(&c);
}
