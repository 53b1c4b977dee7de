/*
 * scan.c: walking the keyspace for Redis's SCAN, RANDOMKEY and DBSIZE: a resumable cursor over every
 * shard (cache_scan), one random live item (cache_random_item) and the number of linked items
 * (cache_count).
 *
 * The cursor: the shard index in the high 32 bits, a bucket cursor within the shard in the low 32:
 *
 *   63            32 31                              0
 *   +---------------+--------------------------------+
 *   |  shard index  |  bucket cursor, reverse binary  |
 *   +---------------+--------------------------------+
 *
 * Shards are visited in index order, each from bucket cursor 0 until its cursor wraps back to 0;
 * then the next shard starts. Within a shard the bucket cursor is Redis's dictScan cursor: the
 * bucket index is incremented from its high bit down (reverse binary), so that when the shard's table
 * doubles between two calls, the buckets already visited are exactly the ones whose low bits were
 * visited before, at either size. While a shard grows, its old (smaller) table and its new one
 * coexist (hashtable.c: old buckets below migrate_pos have moved, whole, to the new table); one step
 * visits the old table's bucket v and every bucket of the new table that it splits into
 * (v + k * old_size), which together hold every key whose low bits are v wherever migration has got
 * to. So the guarantee is dictScan's: a key present from the first call to the last is returned at
 * least once, whatever the shards do meanwhile (they only ever grow); a key may come twice. 0 starts
 * a scan and 0 ends it; a cursor with a shard index past the last is taken as the end.
 *
 * A call holds one shard lock at a time, for at most SCAN_STEPS cursor steps, and returns once it has
 * visited SCAN_ITEMS live items (a Redis COUNT is met by calling again), so a caller sees about that
 * many items per call; empty shards are passed over in the same call. Dead items (expired, flushed)
 * are skipped, not unlinked: the walk never changes a chain.
 *
 * Random item: a shard drawn with probability proportional to its item count, then up to
 * RANDOM_SAMPLE live items from consecutive buckets after a random one, and one of those uniformly
 * (Redis's dictGetFairRandomKey samples the same way). Items in a crowded neighbourhood are not
 * favoured much; a shard whose table is far larger than its items (after many deletes) costs a walk.
 *
 * Threads: any; one shard lock at a time. Inside a transaction both walks need cache_tx_begin_all.
 */
#include "config.h"

#include "storage/cache_internal.h"

#include <time.h>

#define SCAN_ITEMS    16u  /* live items after which a call returns */
#define SCAN_STEPS    512u /* cursor steps a call takes at most */
#define RANDOM_SAMPLE 16u  /* live items one random pick chooses among */
#define RANDOM_TRIES  8u   /* shards drawn before giving up (all items just went) */

/* See cache.h. Lock-free: relaxed reads of counts written with relaxed stores under the locks. */
uint64_t cache_count(struct cache *c)
{
    uint64_t n = 0;
    unsigned i;

    for (i = 0; i < ht_nshards(&c->ht); i++)
        n += __atomic_load_n(&c->ht.shards[i].count, __ATOMIC_RELAXED);
    return n;
}

/* ---- scan ---- */

static uint32_t rev32(uint32_t v)
{
    v = ((v >> 1) & 0x55555555u) | ((v & 0x55555555u) << 1);
    v = ((v >> 2) & 0x33333333u) | ((v & 0x33333333u) << 2);
    v = ((v >> 4) & 0x0f0f0f0fu) | ((v & 0x0f0f0f0fu) << 4);
    v = ((v >> 8) & 0x00ff00ffu) | ((v & 0x00ff00ffu) << 8);
    return (v >> 16) | (v << 16);
}

static uint32_t mask_of(unsigned power)
{
    return (uint32_t)(((uint64_t)1 << power) - 1);
}

struct scan_visit {
    void (*fn)(void *arg, const struct item *it);
    void *arg;
    uint32_t now;
    size_t seen; /* live items visited by this call */
};

/* Visits the live items of one chain. Caller holds the shard lock. */
static void scan_chain_locked(struct cache *c, uint32_t h, struct scan_visit *sv)
{
    while (h) {
        const struct item *it = slab_item(&c->slab, h);

        h = it->h_next;
        if (cache_item_dead_locked(c, it, sv->now) != CACHE_MISS_NONE)
            continue;
        sv->fn(sv->arg, it);
        sv->seen++;
    }
}

/* One dictScan step of shard sh at bucket cursor v: the (smaller) old table's bucket and, while the
 * shard grows, every new-table bucket it splits into. Returns the next cursor, 0 after the last. */
static uint32_t scan_step_locked(struct cache *c, struct ht_shard *sh, uint32_t v, struct scan_visit *sv)
{
    uint32_t m0, m1;

    if (!sh->old) {
        m0 = mask_of(sh->power);
        scan_chain_locked(c, sh->buckets[v & m0], sv);
    } else {
        m0 = mask_of(sh->old_power);
        m1 = mask_of(sh->power);
        scan_chain_locked(c, sh->old[v & m0], sv);
        do {
            scan_chain_locked(c, sh->buckets[v & m1], sv);
            v = (((v | m0) + 1) & ~m0) | (v & m0); /* the next bit above m0, reverse binary */
        } while (v & (m0 ^ m1));
    }
    v |= ~m0; /* increment the bits under m0 from the high one down */
    v = rev32(v);
    v++;
    return rev32(v);
}

/* Steps through shard sh from cursor v within the call's budget; returns the cursor to go on from
 * (0: the shard is done). */
static uint32_t scan_shard(struct cache *c, struct ht_shard *sh, uint32_t v, struct scan_visit *sv,
                           unsigned *steps)
{
    shard_lock(sh);
    if (sh->count == 0) {
        v = 0; /* nothing to return; a key present all along would be counted */
    } else {
        do {
            v = scan_step_locked(c, sh, v, sv);
            (*steps)++;
        } while (v != 0 && sv->seen < SCAN_ITEMS && *steps < SCAN_STEPS);
    }
    shard_unlock(sh);
    return v;
}

/* See cache.h; the cursor layout is in the file comment. */
uint64_t cache_scan(struct cache *c, uint64_t cursor, void (*fn)(void *arg, const struct item *it), void *arg)
{
    struct scan_visit sv = {.fn = fn, .arg = arg, .now = cache_rel_time(c)};
    uint64_t shard = cursor >> 32;
    uint32_t v = (uint32_t)cursor;
    unsigned steps = 0;

    while (shard < ht_nshards(&c->ht)) {
        v = scan_shard(c, &c->ht.shards[shard], v, &sv, &steps);
        if (v == 0)
            shard++;
        if (sv.seen >= SCAN_ITEMS || steps >= SCAN_STEPS)
            break;
    }
    return shard < ht_nshards(&c->ht) ? shard << 32 | v : 0;
}

/* ---- random item ---- */

/* xorshift64*, per thread, seeded from the clock and the thread's own address. */
static uint64_t rnd_next(void)
{
    static _Thread_local uint64_t s;

    if (s == 0)
        s = ((uint64_t)time(NULL) << 20 ^ (uint64_t)(uintptr_t)&s) | 1;
    s ^= s >> 12;
    s ^= s << 25;
    s ^= s >> 27;
    return s * 0x2545f4914f6cdd1dull;
}

/* A shard drawn with probability proportional to its count (of total); NULL when the counts
 * changed meanwhile and the draw fell past them. */
static struct ht_shard *random_shard(struct cache *c, uint64_t total)
{
    uint64_t r = rnd_next() % total, acc = 0;
    unsigned i;

    for (i = 0; i < ht_nshards(&c->ht); i++) {
        acc += __atomic_load_n(&c->ht.shards[i].count, __ATOMIC_RELAXED);
        if (r < acc)
            return &c->ht.shards[i];
    }
    return NULL;
}

/* One of up to RANDOM_SAMPLE live items found from a random bucket on, or NULL. Caller holds
 * sh->lock. */
static struct item *random_in_shard_locked(struct cache *c, struct ht_shard *sh)
{
    size_t size = ht_scan_size_locked(sh), start = (size_t)(rnd_next() % size), i;
    uint32_t now = cache_rel_time(c);
    struct item *pick[RANDOM_SAMPLE];
    unsigned n = 0;

    for (i = 0; i < size && n < RANDOM_SAMPLE; i++) {
        uint32_t h = *ht_scan_slot_locked(sh, (start + i) % size);

        for (; h && n < RANDOM_SAMPLE; h = slab_item(&c->slab, h)->h_next) {
            struct item *it = slab_item(&c->slab, h);

            if (cache_item_dead_locked(c, it, now) == CACHE_MISS_NONE)
                pick[n++] = it;
        }
    }
    return n ? pick[rnd_next() % n] : NULL;
}

/* See cache.h. */
struct item *cache_random_item(struct cache *c)
{
    unsigned tries;

    for (tries = 0; tries < RANDOM_TRIES; tries++) {
        uint64_t total = cache_count(c);
        struct ht_shard *sh;
        struct item *it;

        if (total == 0)
            return NULL;
        sh = random_shard(c, total);
        if (!sh)
            continue;
        shard_lock(sh);
        it = random_in_shard_locked(c, sh);
        if (it && !cache_ref_locked(c, it))
            it = NULL;
        shard_unlock(sh);
        if (it)
            return it;
    }
    return NULL;
}
