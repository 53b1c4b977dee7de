/*
 * test_store.c: store modes, CAS, append/prepend, incr/decr, refcount saturation, statistics.
 */
#include "tests/unit/storage/storage_test.h"

#include <stdlib.h>

static struct cache *c;

static void setup(void)
{
    c = st_cache(0, 0, 2, 4);
}

static void teardown(void)
{
    cache_destroy(&c);
    cr_assert_null(c);
}

TestSuite(store, .init = setup, .fini = teardown);

Test(store, set_then_get)
{
    cr_assert_eq(st_set(c, "k", "hello"), CACHE_OK);
    st_expect(c, "k", "hello");
    cr_assert_eq(st_set(c, "k", "world!"), CACHE_OK);
    st_expect(c, "k", "world!");
    st_expect_miss(c, "other", CACHE_MISS_NONE);
}
