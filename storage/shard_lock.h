/*
 * shard_lock.h: the one way storage/ takes a hash shard's lock, aware of transactions.
 *
 * A transaction (storage/tx.c, cache_tx_begin) locks a set of shards for one thread until
 * cache_tx_end; meanwhile that thread calls ordinary cache functions, which must not lock those
 * shards again (the mutexes are not recursive). So every shard lock site in storage/ goes through
 * these wrappers: while no transaction is open on the thread (the normal path) a wrapper costs one
 * load of a thread-local pointer and one branch that is always predicted, then the plain pthread
 * call. While one is open, a shard the transaction holds is neither locked nor unlocked: the
 * transaction owns it.
 *
 * Ownership: a locked shard records the transaction that holds it in tx_owner (the address of the
 * owning thread's transaction record, NULL otherwise), written by the owner only while it holds the
 * mutex and read with relaxed atomics by threads that have a transaction open. A thread sees its
 * own record there only for shards it holds, so the test needs no other synchronisation.
 *
 * Shards a transaction does not hold: a key function on one is a bug of the caller (it declared too
 * few keys): it fails an assertion; with NDEBUG the shard is locked, which works but may deadlock
 * against another transaction (shards are only ever waited for in ascending order). try-locks (the
 * eviction clock, page moves) treat a held shard as locked by the caller and others as usual: a
 * thread never waits for a shard lock it holds itself.
 */
#ifndef CAIRN_STORAGE_SHARD_LOCK_H
#define CAIRN_STORAGE_SHARD_LOCK_H

#include <pthread.h>
#include <stdbool.h>

#include "storage/hashtable_internal.h"

struct cache_tx;

/* This thread's open transaction, NULL when none (storage/tx.c). */
extern _Thread_local struct cache_tx *cache_tx_cur;

/* Whether this thread's open transaction holds sh. */
static inline bool shard_tx_holds(const struct ht_shard *sh)
{
    return __atomic_load_n(&sh->tx_owner, __ATOMIC_RELAXED) == (void *)cache_tx_cur;
}

/* The slow path of shard_lock while a transaction is open: true when the transaction holds sh (do
 * not lock); a shard of the same cache it does not hold fails an assertion (tx.c). */
bool cache_tx_claims(const struct ht_shard *sh);

/* Locks sh unless this thread's transaction holds it. */
static inline void shard_lock(struct ht_shard *sh)
{
    if (__builtin_expect(cache_tx_cur != NULL, 0) && cache_tx_claims(sh))
        return;
    pthread_mutex_lock(&sh->lock);
}

/* Unlocks sh unless this thread's transaction holds it. */
static inline void shard_unlock(struct ht_shard *sh)
{
    if (__builtin_expect(cache_tx_cur != NULL, 0) && shard_tx_holds(sh))
        return;
    pthread_mutex_unlock(&sh->lock);
}

/* Try-locks sh; a shard this thread's transaction holds counts as locked by the caller (true, and
 * shard_unlock leaves it locked). */
static inline bool shard_trylock(struct ht_shard *sh)
{
    if (__builtin_expect(cache_tx_cur != NULL, 0) && shard_tx_holds(sh))
        return true;
    return pthread_mutex_trylock(&sh->lock) == 0;
}

#endif
