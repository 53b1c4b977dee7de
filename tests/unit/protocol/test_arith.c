/*
 * test_arith.c: memcached's incr/decr rules (protocol/mc/mc_arith.c) run through storage's cache_rmw
 * and cache_meta_arith against a real cache: the table of values and results measured on memcached
 * 1.6.18, the padding, a reader's item never rewritten, the base64-key mark, ma's creation, CAS check
 * and TTL, and the per-class counters.
 */
#include "config.h"

#include <string.h>

#include "protocol/mc/mc_arith.h"
#include "storage/meta.h"
#include "tests/unit/storage/storage_test.h"

#define KEY(s) s, strlen(s)

static struct cache *c;

static void setup(void)
{
    c = st_cache(0, 0, 2, 4);
    cache_clock_set(c, 1000);
}

static void teardown(void)
{
    cache_destroy(&c);
}

TestSuite(arith, .init = setup, .fini = teardown);

/* The classic incr/decr: cache_rmw with memcached's plan; *result and *cas_out as the old
 * cache_arith gave them (left alone on failure). */
static enum cache_status arith(struct cache *cc, const char *key, bool incr, uint64_t delta, uint64_t *result,
                               uint64_t *cas_out)
{
    struct mc_arith a = {.incr = incr, .delta = delta};
    struct cache_rmw op;
    struct cache_rmw_result r;
    enum cache_status st;

    mc_arith_op(&a, &op);
    st = cache_rmw(cc, KEY(key), &op, &r);
    if (st == CACHE_OK && result)
        *result = a.value;
    if (st == CACHE_OK && cas_out)
        *cas_out = r.cas;
    cr_assert_null(r.old, "incr never asks for the old item");
    return st;
}

static uint64_t cas_of(const char *key)
{
    struct item *it = cache_get(c, KEY(key), NULL);
    uint64_t cas;

    cr_assert_not_null(it, "%s missing", key);
    cas = item_cas(it);
    cache_item_release(c, &it);
    return cas;
}

/*
 * incr/decr, byte for byte as memcached 1.6.18 answers (each row measured on the reference: set,
 * incr/decr, get). Values are (bytes, length) pairs so NUL bytes can be written. A result not longer
 * than the old value is padded with spaces to the old length.
 */
#define B(s) s, sizeof(s) - 1
#define SP19 "                   "

struct arith_case {
    const char *start;
    size_t start_len;
    bool incr;
    uint64_t delta;
    enum cache_status want;
    uint64_t result;
    const char *after; /* NULL: unchanged */
    size_t after_len;
};

static const struct arith_case arith_cases[] = {
    {B("10"), false, 1, CACHE_OK, 9, B("9 ")},
    {B("10"), true, 100, CACHE_OK, 110, B("110")},
    {B("99"), true, 1, CACHE_OK, 100, B("100")},
    {B("10"), true, 5, CACHE_OK, 15, B("15")},
    {B("0"), true, 0, CACHE_OK, 0, B("0")},
    {B("100"), false, 1, CACHE_OK, 99, B("99 ")},
    {B("5"), false, 10, CACHE_OK, 0, B("0")},
    {B("00012"), true, 1, CACHE_OK, 13, B("13   ")},
    {B("12 "), true, 1, CACHE_OK, 13, B("13 ")},
    {B(" 12"), true, 1, CACHE_OK, 13, B("13 ")},
    {B("\n12"), true, 1, CACHE_OK, 13, B("13 ")},
    {B("12\t"), true, 1, CACHE_OK, 13, B("13 ")},
    {B("12\r"), true, 1, CACHE_OK, 13, B("13 ")},
    {B("1\v"), true, 1, CACHE_OK, 2, B("2 ")},
    {B("1\f"), false, 1, CACHE_OK, 0, B("0 ")},
    {B("1 2"), true, 1, CACHE_OK, 2, B("2  ")},
    {B("12 abc"), true, 1, CACHE_OK, 13, B("13    ")},
    {B("12\0x"), true, 1, CACHE_OK, 13, B("13  ")},
    {B("7\0"), false, 9, CACHE_OK, 0, B("0 ")},
    {B("+5"), true, 1, CACHE_OK, 6, B("6 ")},
    {B("-0"), true, 1, CACHE_OK, 1, B("1 ")},
    {B("18446744073709551615"), true, 1, CACHE_OK, 0, B("0" SP19)},
    {B("18446744073709551615"), true, 10, CACHE_OK, 9, B("9" SP19)},
    {B("18446744073709551615"), true, 0, CACHE_OK, UINT64_MAX, B("18446744073709551615")},
    {B("18446744073709551614"), true, 1, CACHE_OK, UINT64_MAX, B("18446744073709551615")},
    {B("000000000000000000001"), true, 1, CACHE_OK, 2, B("2 " SP19)},
    {B("-18446744073709551615"), true, 1, CACHE_OK, 2, B("2 " SP19)},
    {B("-9223372036854775809"), true, 1, CACHE_OK, 9223372036854775808u, B("9223372036854775808 ")},
    {B("-9223372036854775808"), true, 1, CACHE_NON_NUMERIC, 0, NULL, 0},
    {B("-9223372036854775807"), true, 1, CACHE_NON_NUMERIC, 0, NULL, 0},
    {B("-12"), true, 1, CACHE_NON_NUMERIC, 0, NULL, 0},
    {B("-1"), false, 1, CACHE_NON_NUMERIC, 0, NULL, 0},
    {B("99999999999999999999"), false, 0, CACHE_NON_NUMERIC, 0, NULL, 0},
    {B("18446744073709551616"), true, 1, CACHE_NON_NUMERIC, 0, NULL, 0},
    {B("123456789012345678901"), true, 1, CACHE_NON_NUMERIC, 0, NULL, 0},
    {B("1a"), true, 1, CACHE_NON_NUMERIC, 0, NULL, 0},
    {B("abc"), false, 0, CACHE_NON_NUMERIC, 0, NULL, 0},
    {B("0x10"), true, 1, CACHE_NON_NUMERIC, 0, NULL, 0},
    {B("+-1"), true, 1, CACHE_NON_NUMERIC, 0, NULL, 0},
    {B("-"), true, 1, CACHE_NON_NUMERIC, 0, NULL, 0},
    {B("+"), true, 1, CACHE_NON_NUMERIC, 0, NULL, 0},
    {B("\0"
       "12"),
     true, 1, CACHE_NON_NUMERIC, 0, NULL, 0},
    {B("   "), true, 1, CACHE_NON_NUMERIC, 0, NULL, 0},
    {B(""), true, 1, CACHE_NON_NUMERIC, 0, NULL, 0},
};

/* Stores key = (bytes, n) with flags 9; returns the CAS unique. */
static uint64_t set_bytes(const char *key, const char *v, size_t n)
{
    enum cache_status st;
    struct item *it = cache_alloc(c, key, strlen(key), 9, 0, n, &st);
    uint64_t cas = 0;

    cr_assert_not_null(it);
    memcpy(item_value(it), v, n);
    cr_assert_eq(cache_store(c, it, CACHE_SET, 0, &cas), CACHE_OK);
    cache_item_release(c, &it);
    return cas;
}

/* Asserts that key holds exactly (bytes, n). */
static void expect_bytes(const char *key, const char *v, size_t n, size_t row)
{
    struct item *it = cache_get(c, key, strlen(key), NULL);

    cr_assert_not_null(it, "row %zu: %s missing", row, key);
    cr_assert_eq(item_nbytes(it), n, "row %zu: %zu bytes, want %zu", row, item_nbytes(it), n);
    cr_assert(memcmp(item_value(it), v, n) == 0, "row %zu: value '%.*s'", row, (int)n, item_value(it));
    cr_assert_eq(item_client_flags(it), 9, "row %zu: flags kept", row);
    cache_item_release(c, &it);
}

Test(arith, table)
{
    size_t i;

    for (i = 0; i < sizeof arith_cases / sizeof arith_cases[0]; i++) {
        const struct arith_case *k = &arith_cases[i];
        uint64_t cas1 = set_bytes("n", k->start, k->start_len), cas2 = 0, result = 777;

        cr_assert_eq(arith(c, "n", k->incr, k->delta, &result, &cas2), k->want, "row %zu", i);
        if (k->want != CACHE_OK) {
            expect_bytes("n", k->start, k->start_len, i);
            cr_assert_eq(result, 777, "row %zu: result written on failure", i);
            cr_assert_eq(cas_of("n"), cas1, "row %zu: failed arith changed the item", i);
            continue;
        }
        expect_bytes("n", k->after, k->after_len, i);
        cr_assert_eq(result, k->result, "row %zu: %llu", i, (unsigned long long)result);
        cr_assert_gt(cas2, cas1, "row %zu: new CAS unique", i);
        cr_assert_eq(cas_of("n"), cas2);
    }
    cr_assert_eq(arith(c, "missing", true, 1, NULL, NULL), CACHE_NOT_FOUND);
}

/* A reader holds the item: the number goes into a new item of exactly its digits (memcached
 * relinks when the refcount says someone else holds the item) and the reader keeps its bytes. */
Test(arith, never_rewrites_an_item_a_reader_holds)
{
    struct item *old, *now;
    uint64_t v = 0;

    set_bytes("n", "1000", 4);
    old = cache_get(c, "n", 1, NULL);
    cr_assert_not_null(old);
    cr_assert_eq(arith(c, "n", false, 1, &v, NULL), CACHE_OK);
    cr_assert_eq(v, 999);
    cr_assert(memcmp(item_value(old), "1000", 4) == 0, "the reader's bytes changed");
    cr_assert_eq(item_nbytes(old), 4);
    expect_bytes("n", "999", 3, 0);
    cache_item_release(c, &old);
    now = cache_get(c, "n", 1, NULL);
    cr_assert_neq(now, old, "a new item");
    cache_item_release(c, &now);
    cr_assert_eq(arith(c, "n", false, 990, &v, NULL), CACHE_OK, "nobody holds it now: in place");
    cr_assert_eq(v, 9);
    expect_bytes("n", "9  ", 3, 1);
    cr_assert_eq(arith(c, "n", true, 1, &v, NULL), CACHE_OK, "padding parses back");
    cr_assert_eq(v, 10);
    expect_bytes("n", "10 ", 3, 2);
}

/* Repeated decr of a padded value keeps its length; incr past it grows to the exact digits. */
Test(arith, padding_keeps_the_length_until_the_number_outgrows_it)
{
    uint64_t v = 0;
    int i;

    set_bytes("n", "100", 3);
    for (i = 0; i < 95; i++)
        cr_assert_eq(arith(c, "n", false, 1, &v, NULL), CACHE_OK);
    cr_assert_eq(v, 5);
    expect_bytes("n", "5  ", 3, 0);
    cr_assert_eq(arith(c, "n", true, 995, &v, NULL), CACHE_OK);
    expect_bytes("n", "1000", 4, 1);
}

/* A result of the old length keeps a meta `b` key's mark (memcached rewrites it in place); a longer
 * one does not. */
Test(arith, base64_key_mark_kept_only_in_place)
{
    enum cache_status st;
    struct item *it = cache_alloc(c, KEY("b"), 0, 0, 2, &st), *got;
    uint64_t v;

    cr_assert_not_null(it);
    memcpy(item_value(it), "10", 2);
    item_set_key_binary(it, true);
    cr_assert_eq(cache_store(c, it, CACHE_SET, 0, NULL), CACHE_OK);
    cache_item_release(c, &it);
    cr_assert_eq(arith(c, "b", false, 1, &v, NULL), CACHE_OK);
    got = cache_get(c, KEY("b"), NULL);
    cr_assert(item_key_binary(got), "\"9 \" fits in place");
    cache_item_release(c, &got);
    cr_assert_eq(arith(c, "b", true, 100, &v, NULL), CACHE_OK);
    got = cache_get(c, KEY("b"), NULL);
    cr_assert(!item_key_binary(got), "\"109\" is longer");
    cache_item_release(c, &got);
}

/* ma through cache_meta_arith: creation with the initial value and vivify exptime, CAS, T. */
static enum cache_status ma(const char *key, struct mc_arith *a, struct cache_meta_arith_opts *o,
                            struct cache_meta_arith_result *r)
{
    struct cache_rmw op;

    mc_arith_op(a, &op);
    o->rmw = &op;
    a->vivify = o->vivify;
    return cache_meta_arith(c, KEY(key), o, r);
}

Test(arith, meta_arith)
{
    struct mc_arith a = {.incr = true, .delta = 1};
    struct cache_meta_arith_opts o = {0};
    struct cache_meta_arith_result r;
    struct item *it;
    uint64_t cas;

    cr_assert_eq(ma("n", &a, &o, &r), CACHE_NOT_FOUND);
    o.vivify = true;
    a.initial = 10;
    o.vivify_exptime = st_at(1050);
    cr_assert_eq(ma("n", &a, &o, &r), CACHE_OK);
    cr_assert(r.created);
    cr_assert_eq(a.value, 10, "creation stores the initial value, no delta");
    st_expect(c, "n", "10");
    it = cache_meta_peek(c, KEY("n"));
    cr_assert_eq(item_exp(it), st_at(1050));
    cr_assert_eq(item_client_flags(it), 0);
    cache_item_release(c, &it);
    a.incr = false;
    a.delta = 1;
    cr_assert_eq(ma("n", &a, &o, &r), CACHE_OK);
    cr_assert(!r.created);
    cr_assert_eq(a.value, 9);
    cr_assert_eq(r.exptime_before, st_at(1050));
    st_expect(c, "n", "9 ");
    cas = cas_of("n");
    cr_assert_eq(r.cas, cas);
    o.has_cas = true;
    o.cas = cas + 1;
    cr_assert_eq(ma("n", &a, &o, &r), CACHE_EXISTS);
    o.cas = cas;
    o.set_ttl = true;
    o.ttl = st_at(1234);
    a.incr = true;
    a.delta = 100;
    cr_assert_eq(ma("n", &a, &o, &r), CACHE_OK);
    cr_assert_eq(a.value, 109);
    it = cache_meta_peek(c, KEY("n"));
    cr_assert_eq(item_exp(it), st_at(1050), "\"109\" is relinked: memcached sets T on the old item");
    cache_item_release(c, &it);
    o.has_cas = false;
    a.incr = false;
    a.delta = 9;
    cr_assert_eq(ma("n", &a, &o, &r), CACHE_OK);
    cr_assert_eq(a.value, 100);
    it = cache_meta_peek(c, KEY("n"));
    cr_assert_eq(item_exp(it), st_at(1234), "\"100\" is written in place: T applies");
    cache_item_release(c, &it);
    st_set(c, "s", "abc");
    struct cache_meta_arith_opts plain = {0};
    struct mc_arith inc = {.incr = true, .delta = 1};
    cr_assert_eq(ma("s", &inc, &plain, &r), CACHE_NON_NUMERIC);
    st_set(c, "m", "-1");
    cr_assert_eq(ma("m", &inc, &plain, &r), CACHE_NON_NUMERIC);
    st_set(c, "e", "");
    plain.has_cas = true;
    plain.cas = 1;
    cr_assert_eq(ma("e", &inc, &plain, &r), CACHE_NON_NUMERIC, "an empty value is refused before the CAS");
    plain.has_cas = false;
    st_set(c, "z", " 7");
    cr_assert_eq(ma("z", &inc, &plain, &r), CACHE_OK);
    cr_assert_eq(inc.value, 8);
}

/* Stores key = "100" padded with spaces to n bytes, with the given flags. */
static void set_padded(const char *key, uint32_t flags, size_t n)
{
    enum cache_status st;
    struct item *it = cache_alloc(c, key, strlen(key), flags, 0, n, &st);

    cr_assert_not_null(it);
    memset(item_value(it), ' ', n);
    memcpy(item_value(it), "100", 3);
    cr_assert_eq(cache_store(c, it, CACHE_SET, 0, NULL), CACHE_OK);
    cache_item_release(c, &it);
}

/* memcached stores an item over 512 KiB (its size: 48 + key + NUL + 4 bytes of nonzero flags +
 * value + "\r\n" + 8 bytes of CAS) in chunks and calls its value non-numeric, whatever it holds;
 * ma refuses it before comparing the CAS. Boundaries measured on memcached 1.6.18. */
Test(arith, values_memcached_stores_in_chunks_are_not_numeric)
{
    static const struct {
        const char *key;
        uint32_t flags;
        size_t n;
        bool use_cas;
        enum cache_status want;
    } rows[] = {
        {"k", 7, 524224, true, CACHE_OK},           {"k", 7, 524225, true, CACHE_NON_NUMERIC},
        {"k", 0, 524228, true, CACHE_OK},           {"k", 0, 524229, true, CACHE_NON_NUMERIC},
        {"kk", 0, 524228, true, CACHE_NON_NUMERIC}, {"k", 7, 524225, false, CACHE_OK},
        {"k", 7, 524232, false, CACHE_OK},          {"k", 7, 524233, false, CACHE_NON_NUMERIC},
    };
    cache_destroy(&c);
    c = st_cache(8u << 20, 0, 2, 4);
    for (size_t i = 0; i < sizeof rows / sizeof rows[0]; i++) {
        struct mc_arith a = {.incr = false, .delta = 1, .use_cas = rows[i].use_cas};
        struct cache_rmw op;
        struct cache_rmw_result r;

        set_padded(rows[i].key, rows[i].flags, rows[i].n);
        mc_arith_op(&a, &op);
        cr_assert_eq(cache_rmw(c, rows[i].key, strlen(rows[i].key), &op, &r), rows[i].want, "row %zu", i);
        cr_assert_eq(cache_delete(c, rows[i].key, strlen(rows[i].key), 0), CACHE_OK);
    }
    /* ma: refused before the CAS is compared, even with a wrong C */
    struct mc_arith a = {.incr = true, .delta = 1, .use_cas = true};
    struct cache_meta_arith_opts o = {.refuse = mc_arith_refuse, .has_cas = true, .cas = 1};
    struct cache_meta_arith_result r;
    set_padded("k", 7, 524225);
    cr_assert_eq(ma("k", &a, &o, &r), CACHE_NON_NUMERIC);
    set_padded("k", 7, 524224);
    cr_assert_eq(ma("k", &a, &o, &r), CACHE_EXISTS);
}

Test(arith, per_class_counters)
{
    struct cache_class_stats cs;
    uint64_t incr = 0, decr = 0, v;

    st_set(c, "n", "5");
    cr_assert_eq(arith(c, "n", true, 1, &v, NULL), CACHE_OK);
    cr_assert_eq(arith(c, "n", false, 1, &v, NULL), CACHE_OK);
    cr_assert_eq(arith(c, "n", false, 1, &v, NULL), CACHE_OK);
    cr_assert_eq(arith(c, "none", true, 1, &v, NULL), CACHE_NOT_FOUND);
    st_set(c, "x", "x");
    cr_assert_eq(arith(c, "x", true, 1, &v, NULL), CACHE_NON_NUMERIC);
    for (unsigned id = 1; id <= cache_class_count(c); id++) {
        cache_class_stats_get(c, id, &cs);
        incr += cs.incr_hits;
        decr += cs.decr_hits;
    }
    cr_assert_eq(incr, 1);
    cr_assert_eq(decr, 2);
}
