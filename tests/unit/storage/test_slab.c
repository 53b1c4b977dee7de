/*
 * test_slab.c: storage unit tests (slab).
 */
#include "tests/unit/storage/storage_test.h"

Test(slab, placeholder_create)
{
    struct cache *c = st_cache(0, 0, 0, 0);

    cr_assert_gt(cache_class_count(c), 1);
    cache_destroy(&c);
}
