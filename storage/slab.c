/*
 * slab.c: the slab arena, its size classes and their free lists.
 *
 * One region of 32 GiB (the largest limit) is reserved at start with mmap(MAP_NORESERVE): the kernel
 * backs a page with memory only when it is first written, so the reservation costs nothing until
 * pages are used, and `cache_memlimit` can raise the limit later (total_pages is the budget). If the
 * system refuses a reservation that large, the arena is just the configured limit. Pages are handed
 * out in address order to the class that first runs dry. A class carves
 * its newest page lazily, one chunk per allocation, so untouched chunks stay zero: their state word
 * reads "not linked, not free, refcount 0", which the eviction clock skips.
 *
 * Page moves (rebalancing): once every page is handed out, balance.c may empty a page of one class and
 * hand it to another with slab_page_move_locked(). This file only does the bookkeeping of the move:
 * taking the page's free chunks off the donor's free list (one walk of that list), dropping the page
 * from the donor's page list without reordering it (so "the page being carved is the last one" stays
 * true), moving the donor's clock hand off it, zeroing the state of every chunk of the new layout
 * (the old chunk boundaries are meaningless to the new class, and stale bytes must not look like a
 * linked item to its clock) and making it the receiver's page being carved. Deciding which page may
 * move, and emptying it, is balance.c's business, because it needs the hash table's locks. Each page's
 * count of chunks in use (page_used) tells compaction which page is emptiest; the count of classes
 * whose free chunks add up to half a page or more (sparse) and a per-class has-free byte (has_free, for
 * borrowing) are kept as each free list changes, so the allocator's slow path reads one word or one
 * cache line instead of every class.
 *
 * Class sizes: the first is ITEM_HEADER_SIZE + chunk_min rounded up to 8. Below SLAB_FINE_MAX
 * bytes each next class is 8 bytes larger (the finest step the 8-byte handles allow); from there on
 * each is the previous times growth_factor rounded up to 8 (at least 8 more), while it stays at most
 * page_size / growth_factor; the last class is exactly page_size (one chunk per page), so any item up
 * to item_size_max (<= page_size) has a class. At most 255 classes. Why fine classes for small
 * items: with memcached's geometric steps (-f 1.25) an item is rounded up by 12% on average, up to
 * 25% (a 147-byte item took a 176-byte chunk); with 8-byte steps the waste is at most 7 bytes, which
 * is what lets a small cache hold more items. Small items are where that matters: their rounding
 * is a large share of each item, and they are the common case. The price is more classes (about 55
 * below 512 bytes instead of 9): a workload whose sizes spread over many of them holds at least one
 * page per class in use; borrowing (balance.c) lets a rare size use a chunk up to 1.25x larger
 * instead of a page of its own, so only sizes that are common take pages. -f still sets the steps above
 * SLAB_FINE_MAX, where a page holds few chunks and fine steps would only multiply classes.
 *
 * Each page's class is recorded in page_class (items do not carry it): set when a class gets the
 * page (slab_add_page_locked, also on a move), cleared when the page goes back to the pool.
 *
 * A free chunk has ITEM_FREE in its state word and links to the next free chunk through h_next (a
 * handle), so the free list needs no memory of its own.
 *
 * Threads: every function here expects the class lock (see slab_internal.h) except slab_init,
 * slab_deinit and slab_class_for, whose data never changes after init.
 */
#include "config.h"

#include "storage/slab_internal.h"

#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>

#define SLAB_PAGE_DEFAULT (1u << 20)
#define SLAB_FINE_MAX 512u /* classes below this size are 8 bytes apart */
#define SLAB_BORROW_NUM   5u   /* a class may place items in chunks up to 5/4 of its size */
#define SLAB_BORROW_DEN   4u

static void slab_clear_headers(struct slab *s, const struct slab_class *cls, uint32_t page);

static size_t round_up8(double v)
{
    size_t n = (size_t)v;

    if ((double)n < v)
        n++;
    return (n + 7u) & ~(size_t)7u;
}

static const char *slab_check_options(const struct cache_options *o, size_t page_size)
{
    if (o->memory_limit > SLAB_ARENA_MAX)
        return "memory limit above 32 GiB";
    if (o->item_size_max < 1024 || o->item_size_max > (1u << 30))
        return "item size max must be between 1 KiB and 1 GiB";
    if (page_size % 8 != 0 || page_size < o->item_size_max || page_size > (1u << 30))
        return "page size must be a multiple of 8, at least item size max and at most 1 GiB";
    if (!(o->growth_factor > 1.0) || o->growth_factor > 100.0)
        return "growth factor must be greater than 1.0";
    if (o->chunk_min > page_size / 2)
        return "chunk size min is too large for the page size";
    return NULL;
}

static void slab_add_class(struct slab *s, size_t size)
{
    struct slab_class *cls = &s->classes[++s->nclasses];

    cls->size = (uint32_t)size;
    cls->perpage = (uint32_t)(s->page_size / size);
    pthread_mutex_init(&cls->lock, NULL);
}

/* For each class, the largest class whose chunks are at most SLAB_BORROW_RATIO times larger: where
 * its items may go when it has no chunk of its own (see slab_borrow_locked). */
static void slab_set_borrow_ranges(struct slab *s)
{
    unsigned i, j;

    for (i = 1; i <= s->nclasses; i++) {
        uint64_t bound = (uint64_t)s->classes[i].size * SLAB_BORROW_NUM / SLAB_BORROW_DEN;

        for (j = i; j < s->nclasses && s->classes[j + 1].size <= bound; j++)
            ;
        s->classes[i].borrow_last = j;
    }
}

/* The class size after size: 8 bytes more below SLAB_FINE_MAX, size * factor (rounded up to 8,
 * at least 8 more) from there on. */
static size_t slab_next_size(size_t size, double factor)
{
    size_t next;

    if (size < SLAB_FINE_MAX)
        return size + 8;
    next = round_up8((double)size * factor);
    return next < size + 8 ? size + 8 : next;
}

static void slab_make_classes(struct slab *s, size_t chunk_min, double factor)
{
    size_t size = round_up8((double)(ITEM_HEADER_SIZE + chunk_min));

    while (s->nclasses < SLAB_CLASS_MAX - 1 && (double)size <= (double)s->page_size / factor) {
        slab_add_class(s, size);
        size = slab_next_size(size, factor);
    }
    slab_add_class(s, s->page_size);
    slab_set_borrow_ranges(s);
}

/* Asks the kernel to back the arena with transparent huge pages (memcached's -L). Pages still come
 * in as they are first written; a kernel without THP (or with it set to "never") refuses, and the
 * arena then keeps ordinary pages: -L never stops the server. */
static bool slab_advise_huge(void *base, size_t len)
{
#ifdef MADV_HUGEPAGE
    return madvise(base, len, MADV_HUGEPAGE) == 0;
#else
    (void)base;
    (void)len;
    return false;
#endif
}

/*
 * Reserves the arena (MAP_NORESERVE) and builds the classes. Returns 0, or -1 with *err set to a
 * static message; on failure the slab holds nothing that needs freeing beyond slab_deinit().
 */
int slab_init(struct slab *s, const struct cache_options *o, const char **err)
{
    size_t page_size = o->page_size;
    size_t pages, arena;
    void *base;

    memset(s, 0, sizeof *s);
    if (page_size == 0)
        page_size = o->item_size_max > SLAB_PAGE_DEFAULT ? o->item_size_max : SLAB_PAGE_DEFAULT;
    *err = slab_check_options(o, page_size);
    if (*err)
        return -1;
    pages = o->memory_limit / page_size;
    if (pages == 0)
        pages = 1;
    arena = SLAB_ARENA_MAX / page_size;
    base = mmap(NULL, arena * page_size, PROT_READ | PROT_WRITE,
                MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
    if (base == MAP_FAILED) {
        arena = pages;
        base = mmap(NULL, arena * page_size, PROT_READ | PROT_WRITE,
                    MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
    }
    if (base == MAP_FAILED) {
        *err = "cannot reserve the slab arena";
        return -1;
    }
    s->free_pages = calloc(arena, sizeof *s->free_pages);
    s->page_class = calloc(arena, sizeof *s->page_class);
    s->page_used = calloc(arena, sizeof *s->page_used);
    if (!s->free_pages || !s->page_class || !s->page_used) {
        free(s->free_pages);
        free(s->page_class);
        free(s->page_used);
        s->free_pages = NULL;
        s->page_class = NULL;
        s->page_used = NULL;
        munmap(base, arena * page_size);
        *err = "out of memory";
        return -1;
    }
    s->base = base;
    s->arena_size = arena * page_size;
    s->huge = o->large_pages && slab_advise_huge(base, s->arena_size);
    s->arena_pages = (uint32_t)arena;
    s->page_size = page_size;
    s->page_shift = (page_size & (page_size - 1)) == 0 ? (unsigned)__builtin_ctzll(page_size) : 0;
    s->item_size_max = o->item_size_max;
    s->total_pages = (uint32_t)pages;
    s->limit_bytes = o->memory_limit;
    pthread_mutex_init(&s->page_lock, NULL);
    slab_make_classes(s, o->chunk_min, o->growth_factor);
    return 0;
}

/* Unmaps the arena and frees every class's page list. Items in it simply vanish. */
void slab_deinit(struct slab *s)
{
    unsigned i;

    for (i = 1; i <= s->nclasses; i++) {
        free(s->classes[i].pages);
        pthread_mutex_destroy(&s->classes[i].lock);
    }
    free(s->free_pages);
    free(s->page_class);
    free(s->page_used);
    if (s->base) {
        munmap(s->base, s->arena_size);
        pthread_mutex_destroy(&s->page_lock);
    }
    memset(s, 0, sizeof *s);
}

/* Binary search over the (increasing) class sizes. Returns 0 when size exceeds the largest class. */
unsigned slab_class_for(const struct slab *s, size_t size)
{
    unsigned lo = 1, hi = s->nclasses;

    if (size > s->classes[hi].size)
        return 0;
    while (lo < hi) {
        unsigned mid = lo + (hi - lo) / 2;

        if (s->classes[mid].size >= size)
            hi = mid;
        else
            lo = mid + 1;
    }
    return lo;
}

/* A page for a class, within the budget: from the free pool (*reused set: its memory was released
 * and holds stale chunk boundaries only if the release failed) or the next untouched arena page. */
static int slab_take_page(struct slab *s, uint32_t *page, bool *reused)
{
    int ok = 0;

    pthread_mutex_lock(&s->page_lock);
    if (s->next_page - s->nfree < s->total_pages) {
        if (s->nfree > 0) {
            *page = s->free_pages[s->nfree - 1];
            __atomic_store_n(&s->nfree, s->nfree - 1, __ATOMIC_RELAXED);
            *reused = true;
            ok = 1;
        } else if (s->next_page < s->arena_pages) {
            *page = s->next_page;
            __atomic_store_n(&s->next_page, s->next_page + 1, __ATOMIC_RELAXED);
            *reused = false;
            ok = 1;
        }
    }
    pthread_mutex_unlock(&s->page_lock);
    return ok;
}

/* See slab_internal.h. A hint: read without page_lock. */
bool slab_page_available(const struct slab *s)
{
    uint32_t next = __atomic_load_n(&s->next_page, __ATOMIC_RELAXED);
    uint32_t nfree = __atomic_load_n(&s->nfree, __ATOMIC_RELAXED);

    return next - nfree < __atomic_load_n(&s->total_pages, __ATOMIC_RELAXED) &&
           (nfree > 0 || next < s->arena_pages);
}

/* See slab_internal.h. */
void slab_avail_update_locked(struct slab *s, struct slab_class *cls)
{
    uint64_t avail = cls->free_count + cls->carve_left;
    bool now = cls->npages > 0 && avail >= (cls->perpage > 1 ? cls->perpage / 2 : 1);
    uint8_t *hint = &s->has_free[cls - s->classes];

    if (__atomic_load_n(hint, __ATOMIC_RELAXED) != (avail > 0))
        __atomic_store_n(hint, (uint8_t)(avail > 0), __ATOMIC_RELAXED);
    if (now == (cls->sparse != 0))
        return;
    __atomic_store_n(&cls->sparse, (uint8_t)now, __ATOMIC_RELAXED);
    if (now)
        __atomic_add_fetch(&s->sparse, 1, __ATOMIC_RELAXED);
    else
        __atomic_sub_fetch(&s->sparse, 1, __ATOMIC_RELAXED);
}

/* See slab_internal.h. */
bool slab_set_limit(struct slab *s, uint64_t bytes)
{
    uint64_t pages = bytes / s->page_size;

    if (pages > s->arena_pages)
        return false;
    pthread_mutex_lock(&s->page_lock);
    __atomic_store_n(&s->total_pages, pages ? (uint32_t)pages : 1, __ATOMIC_RELAXED);
    s->limit_bytes = bytes;
    pthread_mutex_unlock(&s->page_lock);
    return true;
}

/* See slab_internal.h. Doubles the page list when it is full. */
bool slab_reserve_locked(struct slab_class *cls)
{
    uint32_t cap;
    uint32_t *p;

    if (cls->npages < cls->pages_cap)
        return true;
    cap = cls->pages_cap ? cls->pages_cap * 2 : 8;
    p = realloc(cls->pages, cap * sizeof *p);
    if (!p)
        return false;
    cls->pages = p;
    cls->pages_cap = cap;
    return true;
}

/* Appends arena page `page` to cls and makes it the page being carved. Room is reserved. */
static void slab_add_page_locked(struct slab *s, struct slab_class *cls, uint32_t page)
{
    __atomic_store_n(&s->page_class[page], (uint8_t)(cls - s->classes), __ATOMIC_RELAXED);
    s->page_used[page] = 0;
    cls->pages[cls->npages] = page;
    __atomic_store_n(&cls->npages, cls->npages + 1, __ATOMIC_RELAXED);
    cls->carve_next = (uint32_t)((size_t)page * s->page_size / 8 + 1);
    cls->carve_left = cls->perpage;
    slab_avail_update_locked(s, cls);
}

/* Gives cls one more page from the arena to carve. Returns 0 when the arena is used up. */
static int slab_grow_locked(struct slab *s, struct slab_class *cls)
{
    uint32_t page;
    bool reused = false;

    if (!slab_reserve_locked(cls) || !slab_take_page(s, &page, &reused))
        return 0;
    if (reused)
        slab_clear_headers(s, cls, page);
    slab_add_page_locked(s, cls, page);
    return 1;
}

/* Lists a chunk that is not counted in use (never carved, or taken off the list by
 * slab_unlist_page_locked) as free. */
static void slab_list_free_locked(struct slab *s, struct slab_class *cls, struct item *it)
{
    item_state_reset(it, ITEM_FREE);
    it->h_next = cls->free_head;
    cls->free_head = slab_handle(s, it);
    cls->free_count++;
}

/* See slab_internal.h. */
void slab_finish_carving_locked(struct slab *s, struct slab_class *cls)
{
    while (cls->carve_left > 0) {
        struct item *it = slab_item(s, cls->carve_next);

        cls->carve_next += cls->size / 8;
        cls->carve_left--;
        slab_list_free_locked(s, cls, it);
    }
}

/* See slab_internal.h. */
bool slab_grow_now_locked(struct slab *s, struct slab_class *cls)
{
    slab_finish_carving_locked(s, cls);
    return slab_grow_locked(s, cls) != 0;
}

/* See slab_internal.h. Caller holds cls->lock. */
struct item *slab_take_locked(struct slab *s, struct slab_class *cls, size_t requested)
{
    struct item *it;

    if (cls->free_head) {
        it = slab_item(s, cls->free_head);
        cls->free_head = it->h_next;
        cls->free_count--;
        item_state_reset(it, 0); /* off the free list: no longer ITEM_FREE */
    } else if (cls->carve_left > 0) {
        it = slab_item(s, cls->carve_next);
        cls->carve_next += cls->size / 8;
        cls->carve_left--;
    } else {
        return NULL;
    }
    s->page_used[slab_page_of(s, it)]++;
    cls->mem_requested += requested;
    slab_avail_update_locked(s, cls);
    return it;
}

/* See slab_internal.h. */
void slab_push_free_locked(struct slab *s, struct slab_class *cls, struct item *it)
{
    s->page_used[slab_page_of(s, it)]--;
    slab_list_free_locked(s, cls, it);
    slab_avail_update_locked(s, cls);
}

/* See slab_internal.h. Caller holds cls->lock; the chunk has no references left. */
void slab_free_locked(struct slab *s, struct slab_class *cls, struct item *it)
{
    cls->mem_requested -= item_size(it);
    slab_push_free_locked(s, cls, it);
}

/* Frees a chunk into its class, taking the class lock. */
void slab_free(struct slab *s, struct item *it)
{
    struct slab_class *cls = slab_class_ptr(s, it);

    pthread_mutex_lock(&cls->lock);
    slab_free_locked(s, cls, it);
    pthread_mutex_unlock(&cls->lock);
}

/* Address of a chunk by (page index within the class, chunk index within the page). */
struct item *slab_chunk_at(const struct slab *s, const struct slab_class *cls, uint32_t page,
                           uint32_t chunk)
{
    size_t off = (size_t)cls->pages[page] * s->page_size + (size_t)chunk * cls->size;

    return (struct item *)(void *)(s->base + off);
}

/* Takes every chunk of arena page `page` off cls's free list: one walk of the list. */
static void slab_unlist_page_locked(struct slab *s, struct slab_class *cls, uint32_t page)
{
    uint32_t first = (uint32_t)((size_t)page * s->page_size / 8 + 1);
    uint32_t end = (uint32_t)(first + s->page_size / 8);
    uint32_t *slot = &cls->free_head;

    while (*slot) {
        struct item *it = slab_item(s, *slot);

        if (*slot >= first && *slot < end) {
            *slot = it->h_next;
            it->h_next = 0;
            cls->free_count--;
        } else {
            slot = &it->h_next;
        }
    }
    slab_avail_update_locked(s, cls);
}

/* See slab_internal.h. */
void slab_unlist_page_index_locked(struct slab *s, struct slab_class *cls, uint32_t idx)
{
    slab_unlist_page_locked(s, cls, cls->pages[idx]);
}

/* See slab_internal.h. */
void slab_relist_page_locked(struct slab *s, struct slab_class *cls, uint32_t idx)
{
    uint32_t k;

    for (k = 0; k < cls->perpage; k++) {
        struct item *it = slab_chunk_at(s, cls, idx, k);
        uint16_t st = item_state(it);

        if (st == ITEM_FREE)
            slab_list_free_locked(s, cls, it);
        else if (st == SLAB_CHUNK_VACATED)
            slab_push_free_locked(s, cls, it);
    }
    slab_avail_update_locked(s, cls);
}

/* Drops page index idx from cls's page list, keeping the order and the clock hand's position. */
static void slab_drop_page_locked(struct slab *s, struct slab_class *cls, uint32_t idx)
{
    if (idx + 1 == cls->npages) {
        cls->carve_left = 0; /* the page being carved (if any) goes */
        cls->carve_next = 0;
    }
    memmove(&cls->pages[idx], &cls->pages[idx + 1], (cls->npages - idx - 1) * sizeof *cls->pages);
    __atomic_store_n(&cls->npages, cls->npages - 1, __ATOMIC_RELAXED);
    if (cls->hand_page == idx)
        cls->hand_chunk = 0;
    else if (cls->hand_page > idx)
        cls->hand_page--;
    if (cls->hand_page >= cls->npages) {
        cls->hand_page = 0;
        cls->hand_chunk = 0;
    }
    slab_avail_update_locked(s, cls);
}

/* Zeroes the header of every chunk of cls's layout on arena page `page`. */
static void slab_clear_headers(struct slab *s, const struct slab_class *cls, uint32_t page)
{
    char *p = s->base + (size_t)page * s->page_size;
    uint32_t i;

    for (i = 0; i < cls->perpage; i++)
        memset(p + (size_t)i * cls->size, 0, ITEM_HEADER_SIZE);
}

/* See slab_internal.h. Caller holds from->lock and to->lock. */
void slab_page_move_locked(struct slab *s, struct slab_class *from, uint32_t idx,
                           struct slab_class *to)
{
    uint32_t page = from->pages[idx];

    slab_unlist_page_locked(s, from, page);
    slab_drop_page_locked(s, from, idx);
    slab_clear_headers(s, to, page);
    slab_add_page_locked(s, to, page);
    to->pages_moved_in++;
}

/* See slab_internal.h. Caller holds from->lock. The page's memory goes back to the system; the
 * page reads as zeroes when a class takes it again (headers are cleared then as well). */
void slab_page_release_locked(struct slab *s, struct slab_class *from, uint32_t idx)
{
    uint32_t page = from->pages[idx];

    slab_unlist_page_locked(s, from, page);
    slab_drop_page_locked(s, from, idx);
    madvise(s->base + (size_t)page * s->page_size, s->page_size, MADV_DONTNEED);
    __atomic_store_n(&s->page_class[page], 0, __ATOMIC_RELAXED);
    pthread_mutex_lock(&s->page_lock);
    s->free_pages[s->nfree] = page;
    __atomic_store_n(&s->nfree, s->nfree + 1, __ATOMIC_RELAXED);
    pthread_mutex_unlock(&s->page_lock);
}
