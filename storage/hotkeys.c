/*
 * hotkeys.c: Space-Saving over one shard's sampled accesses. See hotkeys.h.
 */
#include "config.h"

#include <stdlib.h>
#include <string.h>

#include "storage/cache_internal.h"
#include "storage/hotkeys.h"

/* The slot counting key, or NULL. */
static struct hk_slot *find(struct hk_sketch *s, uint64_t hash, const char *key, size_t keep)
{
    for (uint32_t i = 0; i < s->used; i++) {
        struct hk_slot *sl = &s->slots[i];
        if (sl->hash == hash && sl->nkey == keep && memcmp(sl->key, key, keep) == 0)
            return sl;
    }
    return NULL;
}

/* The slot a new key takes: a free one, else the one with the smallest count. */
static struct hk_slot *victim(struct hk_sketch *s)
{
    if (s->used < HK_SLOTS) {
        struct hk_slot *sl = &s->slots[s->used++];
        memset(sl, 0, sizeof(*sl));
        return sl;
    }
    struct hk_slot *min = &s->slots[0];
    for (uint32_t i = 1; i < HK_SLOTS; i++)
        if (s->slots[i].count < min->count)
            min = &s->slots[i];
    uint64_t inherited = min->count;
    memset(min, 0, sizeof(*min));
    min->count = inherited;
    min->error = inherited;
    return min;
}

void hk_offer(struct hk_sketch *s, uint64_t hash, const char *key, size_t nkey, bool write)
{
    size_t keep = nkey < HK_KEY_MAX ? nkey : HK_KEY_MAX;
    struct hk_slot *sl = find(s, hash, key, keep);
    if (sl == NULL) {
        sl = victim(s);
        sl->hash = hash;
        sl->nkey = (uint16_t)keep;
        sl->truncated = nkey > HK_KEY_MAX;
        memcpy(sl->key, key, keep);
    }
    sl->count++;
    if (write)
        sl->writes++;
    else
        sl->reads++;
}

void hk_clear(struct hk_sketch *s)
{
    s->used = 0;
}

/* ---- the cache's view: every shard merged ---- */

_Static_assert(sizeof(((struct cache_hotkey *)0)->key) == HK_KEY_MAX, "cache_hotkey.key holds HK_KEY_MAX bytes");

static int by_accesses(const void *a, const void *b)
{
    const struct cache_hotkey *x = a, *y = b;
    return x->accesses < y->accesses ? 1 : x->accesses > y->accesses ? -1 : 0;
}

size_t cache_hotkeys(struct cache *c, struct cache_hotkey *out, size_t max)
{
    size_t nshards = ht_nshards(&c->ht);
    struct cache_hotkey *all = calloc(nshards * HK_SLOTS, sizeof(*all));
    size_t n = 0;
    if (all == NULL)
        return 0;
    for (size_t i = 0; i < nshards; i++) {
        struct ht_shard *sh = &c->ht.shards[i];
        shard_lock(sh);
        for (uint32_t k = 0; k < sh->hot->used; k++) {
            const struct hk_slot *sl = &sh->hot->slots[k];
            struct cache_hotkey *h = &all[n++];
            memcpy(h->key, sl->key, sl->nkey);
            h->nkey = sl->nkey;
            h->truncated = sl->truncated;
            h->accesses = sl->count * HK_SAMPLE;
            h->error = sl->error * HK_SAMPLE;
            h->reads = sl->reads * HK_SAMPLE;
            h->writes = sl->writes * HK_SAMPLE;
        }
        shard_unlock(sh);
    }
    qsort(all, n, sizeof(*all), by_accesses);
    if (n > max)
        n = max;
    memcpy(out, all, n * sizeof(*out));
    free(all);
    return n;
}

void cache_hotkeys_reset(struct cache *c)
{
    for (size_t i = 0; i < ht_nshards(&c->ht); i++) {
        struct ht_shard *sh = &c->ht.shards[i];
        shard_lock(sh);
        hk_clear(sh->hot);
        shard_unlock(sh);
    }
}

uint64_t cache_hotkey_estimate(struct cache *c, const char *key, size_t nkey)
{
    uint64_t hash = ht_hash(key, nkey);
    struct ht_shard *sh = ht_shard_of(&c->ht, hash);
    size_t keep = nkey < HK_KEY_MAX ? nkey : HK_KEY_MAX;
    uint64_t n = 0;
    shard_lock(sh);
    const struct hk_slot *sl = find(sh->hot, hash, key, keep);
    if (sl != NULL)
        n = sl->count * HK_SAMPLE;
    shard_unlock(sh);
    return n;
}
