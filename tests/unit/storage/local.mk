# tests/unit/storage: one Criterion program per storage module
STORAGE_TEST_LDADD = libcairn_storage.a $(CRITERION_LIBS) $(XXHASH_LIBS) $(JEMALLOC_LIBS)
STORAGE_TEST_CFLAGS = $(AM_CFLAGS) $(CRITERION_CFLAGS) $(XXHASH_CFLAGS)

STORAGE_UNIT_TESTS = \
	tests/unit/storage/test_slab \
	tests/unit/storage/test_hashtable \
	tests/unit/storage/test_evict \
	tests/unit/storage/test_expiry \
	tests/unit/storage/test_store \
	tests/unit/storage/test_rebalance \
	tests/unit/storage/test_admin \
	tests/unit/storage/test_snapshot \
	tests/unit/storage/test_meta \
	tests/unit/storage/test_tx \
	tests/unit/storage/test_hotkeys \
	tests/unit/storage/test_rmw \
	tests/unit/storage/test_keyops \
	tests/unit/storage/test_scan
check_PROGRAMS += $(STORAGE_UNIT_TESTS)
TESTS += $(STORAGE_UNIT_TESTS)
EXTRA_DIST += tests/unit/storage/storage_test.h

tests_unit_storage_test_slab_SOURCES = tests/unit/storage/test_slab.c
tests_unit_storage_test_slab_CFLAGS = $(STORAGE_TEST_CFLAGS)
tests_unit_storage_test_slab_LDADD = $(STORAGE_TEST_LDADD)

tests_unit_storage_test_hashtable_SOURCES = tests/unit/storage/test_hashtable.c
tests_unit_storage_test_hashtable_CFLAGS = $(STORAGE_TEST_CFLAGS)
tests_unit_storage_test_hashtable_LDADD = $(STORAGE_TEST_LDADD)

tests_unit_storage_test_evict_SOURCES = tests/unit/storage/test_evict.c
tests_unit_storage_test_evict_CFLAGS = $(STORAGE_TEST_CFLAGS)
tests_unit_storage_test_evict_LDADD = $(STORAGE_TEST_LDADD)

tests_unit_storage_test_expiry_SOURCES = tests/unit/storage/test_expiry.c
tests_unit_storage_test_expiry_CFLAGS = $(STORAGE_TEST_CFLAGS)
tests_unit_storage_test_expiry_LDADD = $(STORAGE_TEST_LDADD)

tests_unit_storage_test_store_SOURCES = tests/unit/storage/test_store.c
tests_unit_storage_test_store_CFLAGS = $(STORAGE_TEST_CFLAGS)
tests_unit_storage_test_store_LDADD = $(STORAGE_TEST_LDADD)

tests_unit_storage_test_rebalance_SOURCES = tests/unit/storage/test_rebalance.c
tests_unit_storage_test_rebalance_CFLAGS = $(STORAGE_TEST_CFLAGS)
tests_unit_storage_test_rebalance_LDADD = $(STORAGE_TEST_LDADD)

tests_unit_storage_test_admin_SOURCES = tests/unit/storage/test_admin.c
tests_unit_storage_test_admin_CFLAGS = $(STORAGE_TEST_CFLAGS)
tests_unit_storage_test_admin_LDADD = $(STORAGE_TEST_LDADD)

tests_unit_storage_test_snapshot_SOURCES = tests/unit/storage/test_snapshot.c
tests_unit_storage_test_snapshot_CFLAGS = $(STORAGE_TEST_CFLAGS)
tests_unit_storage_test_snapshot_LDADD = $(STORAGE_TEST_LDADD)

tests_unit_storage_test_meta_SOURCES = tests/unit/storage/test_meta.c
tests_unit_storage_test_meta_CFLAGS = $(STORAGE_TEST_CFLAGS)
tests_unit_storage_test_meta_LDADD = $(STORAGE_TEST_LDADD)

tests_unit_storage_test_tx_SOURCES = tests/unit/storage/test_tx.c
tests_unit_storage_test_tx_CFLAGS = $(STORAGE_TEST_CFLAGS)
tests_unit_storage_test_tx_LDADD = $(STORAGE_TEST_LDADD)

tests_unit_storage_test_rmw_SOURCES = tests/unit/storage/test_rmw.c
tests_unit_storage_test_rmw_CFLAGS = $(STORAGE_TEST_CFLAGS)
tests_unit_storage_test_rmw_LDADD = $(STORAGE_TEST_LDADD)

tests_unit_storage_test_keyops_SOURCES = tests/unit/storage/test_keyops.c
tests_unit_storage_test_keyops_CFLAGS = $(STORAGE_TEST_CFLAGS)
tests_unit_storage_test_keyops_LDADD = $(STORAGE_TEST_LDADD)

tests_unit_storage_test_scan_SOURCES = tests/unit/storage/test_scan.c
tests_unit_storage_test_scan_CFLAGS = $(STORAGE_TEST_CFLAGS)
tests_unit_storage_test_scan_LDADD = $(STORAGE_TEST_LDADD)

tests_unit_storage_test_hotkeys_SOURCES = tests/unit/storage/test_hotkeys.c
tests_unit_storage_test_hotkeys_CFLAGS = $(STORAGE_TEST_CFLAGS)
tests_unit_storage_test_hotkeys_LDADD = $(STORAGE_TEST_LDADD)
