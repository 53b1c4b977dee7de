# storage: the storage engine library (slab arena, sharded hash table, CLOCK eviction, expiry)
noinst_LIBRARIES += libcairn_storage.a
libcairn_storage_a_SOURCES = \
	storage/cache.h \
	storage/item.h \
	storage/item_internal.h \
	storage/cache_internal.h \
	storage/hashtable_internal.h \
	storage/slab_internal.h \
	storage/snapshot.h \
	storage/meta.h \
	storage/cache.c \
	storage/store.c \
	storage/evict.c \
	storage/balance.c \
	storage/reclaim.c \
	storage/refs.c \
	storage/stats.c \
	storage/hashtable.c \
	storage/hotkeys.h \
	storage/hotkeys.c \
	storage/slab.c \
	storage/snapshot.c \
	storage/meta.c \
	storage/shard_lock.h \
	storage/tx.c \
	storage/rmw.c \
	storage/keyops.c \
	storage/scan.c
libcairn_storage_a_CFLAGS = $(AM_CFLAGS) $(XXHASH_CFLAGS)
