/*
 * test_slowlog.c: the slow log (protocol/slowlog.h): the threshold (off, 0, N), the length bound
 * (trimming as entries come and when it shrinks), newest-first reads and their count, Redis 7.0's
 * cutting of arguments (at most 32, each at most 128 bytes), ids across a reset, and threads adding
 * while others read.
 */
#include <criterion/criterion.h>
#include <inttypes.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "protocol/slowlog.h"

/* Adds one request of words separated by spaces (each word one argument). */
static void add_words(struct slowlog *log, uint64_t us, const char *words)
{
    char buf[512];
    const char *argv[64];
    size_t lens[64], argc = 0;
    snprintf(buf, sizeof(buf), "%s", words);
    for (char *save = NULL, *w = strtok_r(buf, " ", &save); w != NULL && argc < 64;
         w = strtok_r(NULL, " ", &save)) {
        argv[argc] = w;
        lens[argc++] = strlen(w);
    }
    slowlog_add(log, us, argc, argv, lens, "resp", "127.0.0.1:4000", "conn");
}

/* What slowlog_get handed over, copied. */
struct got {
    size_t begin_count;
    int begins;
    size_t n;
    uint64_t id[256];
    uint64_t us[256];
    char first[256][160]; /* the first argument */
};

static void got_begin(void *arg, size_t count)
{
    struct got *g = arg;
    g->begin_count = count;
    g->begins++;
}

static void got_each(void *arg, const struct slowlog_entry *e)
{
    struct got *g = arg;
    cr_assert_lt(g->n, 256);
    g->id[g->n] = e->id;
    g->us[g->n] = e->duration_us;
    snprintf(g->first[g->n], sizeof(g->first[0]), "%.*s", e->argc ? (int)e->lens[0] : 0,
             e->argc ? e->argv[0] : "");
    g->n++;
}

static size_t get(struct slowlog *log, int64_t n, struct got *g)
{
    memset(g, 0, sizeof(*g));
    size_t r = slowlog_get(log, n, got_begin, got_each, g);
    cr_assert_eq(g->begins, 1, "begin is called exactly once");
    cr_assert_eq(g->begin_count, r);
    cr_assert_eq(g->n, r);
    return r;
}

Test(slowlog, defaults)
{
    struct slowlog *log = slowlog_create();
    cr_assert_not_null(log);
    cr_expect_eq(slowlog_threshold(log), 10000);
    cr_expect_eq(slowlog_max_len(log), 128);
    cr_expect_eq(slowlog_len(log), 0);
    cr_expect_not(slowlog_wants(NULL, 1000000), "no log wants nothing");
    slowlog_destroy(log);
    slowlog_destroy(NULL);
}

/* slowlog_wants for a threshold and a duration. */
struct want_case {
    int64_t threshold;
    uint64_t us;
    bool want;
};

Test(slowlog, threshold)
{
    static const struct want_case cases[] = {
        {-1, 0, false},
        {-1, UINT64_MAX, false},
        {-100, 5, false},
        {0, 0, true},
        {0, 1, true},
        {10, 9, false},
        {10, 10, true},
        {10, 11, true},
        {INT64_MAX, UINT64_MAX, true},
        {INT64_MAX, (uint64_t)INT64_MAX - 1, false},
    };
    struct slowlog *log = slowlog_create();
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        slowlog_set_threshold(log, cases[i].threshold);
        cr_expect_eq(slowlog_threshold(log), cases[i].threshold);
        cr_expect_eq(slowlog_wants(log, cases[i].us), cases[i].want, "threshold %lld, %llu us",
                     (long long)cases[i].threshold, (unsigned long long)cases[i].us);
    }
    slowlog_destroy(log);
}

Test(slowlog, newest_first_and_count)
{
    struct slowlog *log = slowlog_create();
    struct got g;
    char w[32];
    for (int i = 0; i < 5; i++) {
        snprintf(w, sizeof(w), "cmd%d", i);
        add_words(log, 100 + (uint64_t)i, w);
    }
    cr_assert_eq(slowlog_len(log), 5);
    /* count: n < 0 every entry, 0 none, more than there are is every entry */
    static const struct {
        int64_t n;
        size_t got;
    } counts[] = {{-1, 5}, {-100, 5}, {0, 0}, {1, 1}, {3, 3}, {5, 5}, {6, 5}, {INT64_MAX, 5}};
    for (size_t c = 0; c < sizeof(counts) / sizeof(counts[0]); c++)
        cr_expect_eq(get(log, counts[c].n, &g), counts[c].got, "n = %lld", (long long)counts[c].n);
    get(log, -1, &g);
    for (size_t i = 0; i < 5; i++) {
        snprintf(w, sizeof(w), "cmd%zu", 4 - i);
        cr_expect_str_eq(g.first[i], w);
        cr_expect_eq(g.id[i], 4 - i);
        cr_expect_eq(g.us[i], 104 - i);
    }
    cr_expect_eq(slowlog_get(log, -1, NULL, NULL, NULL), 5, "callbacks may be left out");
    slowlog_destroy(log);
}

Test(slowlog, max_len_trims_oldest)
{
    struct slowlog *log = slowlog_create();
    struct got g;
    slowlog_set_max_len(log, 3);
    cr_expect_eq(slowlog_max_len(log), 3);
    for (int i = 0; i < 40; i++) /* past the ring's first size too */
        add_words(log, 1, "x");
    cr_expect_eq(slowlog_len(log), 3);
    get(log, -1, &g);
    cr_expect_eq(g.id[0], 39);
    cr_expect_eq(g.id[2], 37);

    /* growing keeps what is there and lets more in */
    slowlog_set_max_len(log, 100);
    for (int i = 0; i < 50; i++)
        add_words(log, 1, "y");
    cr_expect_eq(slowlog_len(log), 53);
    get(log, -1, &g);
    cr_expect_eq(g.id[0], 89);
    cr_expect_eq(g.id[52], 37, "the oldest survived the growth");
    cr_expect_str_eq(g.first[52], "x");

    /* shrinking drops the oldest at once, and later adds stay within the new length */
    slowlog_set_max_len(log, 10);
    cr_expect_eq(slowlog_len(log), 10);
    get(log, -1, &g);
    cr_expect_eq(g.id[0], 89);
    cr_expect_eq(g.id[9], 80);
    for (int i = 0; i < 25; i++)
        add_words(log, 1, "z");
    cr_expect_eq(slowlog_len(log), 10);
    get(log, -1, &g);
    cr_expect_eq(g.id[0], 114);
    cr_expect_eq(g.id[9], 105);
    slowlog_destroy(log);
}

Test(slowlog, max_len_zero_keeps_nothing_but_uses_ids)
{
    struct slowlog *log = slowlog_create();
    struct got g;
    add_words(log, 1, "a");
    slowlog_set_max_len(log, 0);
    cr_expect_eq(slowlog_len(log), 0);
    add_words(log, 1, "b");
    add_words(log, 1, "c");
    cr_expect_eq(slowlog_len(log), 0);
    slowlog_set_max_len(log, 5);
    add_words(log, 1, "d");
    get(log, -1, &g);
    cr_assert_eq(g.n, 1);
    cr_expect_eq(g.id[0], 3, "Redis 7.0 gives trimmed entries ids too");
    slowlog_destroy(log);
}

Test(slowlog, reset_keeps_ids_going)
{
    struct slowlog *log = slowlog_create();
    struct got g;
    for (int i = 0; i < 20; i++)
        add_words(log, 1, "a");
    slowlog_reset(log);
    cr_expect_eq(slowlog_len(log), 0);
    cr_expect_eq(get(log, -1, &g), 0);
    slowlog_reset(log); /* twice is fine */
    add_words(log, 1, "b");
    get(log, -1, &g);
    cr_assert_eq(g.n, 1);
    cr_expect_eq(g.id[0], 20);
    slowlog_destroy(log);
}

/* One entry copied in full. */
struct copy {
    size_t n;
    uint64_t id, us;
    int64_t time;
    size_t argc;
    char argv[SLOWLOG_MAX_ARGC][SLOWLOG_MAX_ARGLEN + 64];
    size_t lens[SLOWLOG_MAX_ARGC];
    char proto[16], addr[64], name[64];
};

static void copy_each(void *arg, const struct slowlog_entry *e)
{
    struct copy *c = arg;
    if (c->n++ > 0)
        return; /* the newest only */
    c->id = e->id;
    c->us = e->duration_us;
    c->time = e->time;
    c->argc = e->argc;
    cr_assert_leq(e->argc, SLOWLOG_MAX_ARGC);
    for (size_t i = 0; i < e->argc; i++) {
        cr_assert_lt(e->lens[i], sizeof(c->argv[i]));
        memcpy(c->argv[i], e->argv[i], e->lens[i]);
        cr_expect_eq(e->argv[i][e->lens[i]], '\0', "arguments are NUL-terminated");
        c->lens[i] = e->lens[i];
    }
    snprintf(c->proto, sizeof(c->proto), "%s", e->proto);
    snprintf(c->addr, sizeof(c->addr), "%s", e->addr);
    snprintf(c->name, sizeof(c->name), "%s", e->name);
}

static void newest(struct slowlog *log, struct copy *c)
{
    memset(c, 0, sizeof(*c));
    slowlog_get(log, 1, NULL, copy_each, c);
    cr_assert_eq(c->n, 1);
}

Test(slowlog, entry_fields)
{
    struct slowlog *log = slowlog_create();
    struct copy c;
    const char *argv[] = {"SET", "k\0\r\n", ""};
    size_t lens[] = {3, 4, 0};
    time_t before = time(NULL);
    slowlog_add(log, 12345, 3, argv, lens, "text", NULL, NULL);
    newest(log, &c);
    cr_expect_eq(c.us, 12345);
    cr_expect(c.time >= before && c.time <= time(NULL) + 1);
    cr_assert_eq(c.argc, 3);
    cr_expect_eq(c.lens[1], 4);
    cr_expect_eq(memcmp(c.argv[1], "k\0\r\n", 4), 0, "bytes are kept as they are");
    cr_expect_eq(c.lens[2], 0);
    cr_expect_str_eq(c.proto, "text");
    cr_expect_str_eq(c.addr, "", "NULL address is empty");
    cr_expect_str_eq(c.name, "");

    slowlog_add(log, 7, 0, NULL, NULL, "binary", "[::1]:5", "nm");
    newest(log, &c);
    cr_expect_eq(c.argc, 0);
    cr_expect_str_eq(c.proto, "binary");
    cr_expect_str_eq(c.addr, "[::1]:5");
    cr_expect_str_eq(c.name, "nm");
    slowlog_destroy(log);
}

/* Cutting of one argument's length: Redis 7.0's SLOWLOG_ENTRY_MAX_STRING. */
struct len_case {
    size_t len;
    size_t kept_len; /* the logged argument's length */
    const char *suffix;
};

Test(slowlog, cut_long_arguments)
{
    static const struct len_case cases[] = {
        {0, 0, ""},
        {127, 127, ""},
        {128, 128, ""},
        {129, 146, "... (1 more bytes)"},
        {200, 147, "... (72 more bytes)"},
        {100000, 150, "... (99872 more bytes)"},
    };
    static char big[100000];
    memset(big, 'v', sizeof(big));
    struct slowlog *log = slowlog_create();
    struct copy c;
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        const char *argv[] = {"SET", "k", big};
        size_t lens[] = {3, 1, cases[i].len};
        slowlog_add(log, 1, 3, argv, lens, "resp", "a", "");
        newest(log, &c);
        cr_assert_eq(c.argc, 3);
        cr_expect_eq(c.lens[2], cases[i].kept_len, "len %zu: %zu", cases[i].len, c.lens[2]);
        size_t head = cases[i].len > 128 ? 128 : cases[i].len;
        size_t nsuf = strlen(cases[i].suffix);
        cr_expect_eq(c.lens[2], head + nsuf, "len %zu: %zu", cases[i].len, c.lens[2]);
        for (size_t b = 0; b < head; b++)
            cr_assert_eq(c.argv[2][b], 'v');
        cr_expect_eq(memcmp(c.argv[2] + head, cases[i].suffix, nsuf), 0, "len %zu: suffix %s", cases[i].len,
                     c.argv[2] + head);
    }
    slowlog_destroy(log);
}

/* Cutting of the argument count: SLOWLOG_ENTRY_MAX_ARGC. */
struct argc_case {
    size_t argc;
    size_t kept;
    const char *last; /* the last logged argument */
};

Test(slowlog, cut_many_arguments)
{
    static const struct argc_case cases[] = {
        {1, 1, "a0"},
        {31, 31, "a30"},
        {32, 32, "a31"},
        {33, 32, "... (2 more arguments)"},
        {41, 32, "... (10 more arguments)"},
        {1000, 32, "... (969 more arguments)"},
    };
    static const char *argv[1000];
    static size_t lens[1000];
    static char words[1000][8];
    for (size_t i = 0; i < 1000; i++) {
        snprintf(words[i], sizeof(words[i]), "a%zu", i);
        argv[i] = words[i];
        lens[i] = strlen(words[i]);
    }
    struct slowlog *log = slowlog_create();
    struct copy c;
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        slowlog_add(log, 1, cases[i].argc, argv, lens, "resp", "a", "");
        newest(log, &c);
        cr_assert_eq(c.argc, cases[i].kept, "argc %zu", cases[i].argc);
        cr_expect_str_eq(c.argv[c.argc - 1], cases[i].last, "argc %zu", cases[i].argc);
        cr_expect_str_eq(c.argv[c.argc > 1 ? c.argc - 2 : 0], words[c.argc > 1 ? c.argc - 2 : 0]);
    }

    /* the argument replaced by the count is neither cut for length nor read at all: the caller
     * gathers only the first SLOWLOG_MAX_ARGC - 1 (an exact-size copy, for the sanitizers) */
    static char big[300];
    memset(big, 'w', sizeof(big));
    const char **few = malloc((SLOWLOG_MAX_ARGC - 1) * sizeof(*few));
    size_t *few_lens = malloc((SLOWLOG_MAX_ARGC - 1) * sizeof(*few_lens));
    cr_assert(few != NULL && few_lens != NULL);
    for (size_t i = 0; i < SLOWLOG_MAX_ARGC - 1; i++) {
        few[i] = i == 30 ? big : words[i];
        few_lens[i] = i == 30 ? sizeof(big) : lens[i];
    }
    slowlog_add(log, 1, 40, few, few_lens, "resp", "a", "");
    newest(log, &c);
    cr_expect_str_eq(c.argv[31], "... (9 more arguments)");
    cr_expect_eq(c.lens[30], 128 + strlen("... (172 more bytes)"));
    free(few);
    free(few_lens);
    slowlog_destroy(log);
}

/* Threads adding while one reads: every add takes an id exactly once, the length stays within its
 * bound, and every entry read is whole (its argument is its thread's word). */
#define THREADS 4
#define ADDS    5000

struct adder {
    struct slowlog *log;
    int t;
};

static void *adder_run(void *arg)
{
    struct adder *a = arg;
    char word[16];
    snprintf(word, sizeof(word), "thread%d", a->t);
    const char *argv[] = {word, word};
    size_t lens[] = {strlen(word), strlen(word)};
    for (int i = 0; i < ADDS; i++)
        slowlog_add(a->log, (uint64_t)a->t, 2, argv, lens, "resp", word, word);
    return NULL;
}

static void check_each(void *arg, const struct slowlog_entry *e)
{
    uint64_t *last = arg;
    char word[16];
    snprintf(word, sizeof(word), "thread%" PRIu64, e->duration_us);
    cr_assert_eq(e->argc, 2);
    cr_assert_eq(e->lens[0], strlen(word));
    cr_assert_eq(memcmp(e->argv[0], word, e->lens[0]), 0);
    cr_assert_str_eq(e->addr, word);
    cr_assert_lt(e->id, *last, "ids decrease from the newest");
    *last = e->id;
}

Test(slowlog, threads, .timeout = 60)
{
    struct slowlog *log = slowlog_create();
    slowlog_set_max_len(log, 50);
    pthread_t th[THREADS];
    struct adder a[THREADS];
    for (int t = 0; t < THREADS; t++) {
        a[t] = (struct adder){log, t};
        cr_assert_eq(pthread_create(&th[t], NULL, adder_run, &a[t]), 0);
    }
    for (int r = 0; r < 200; r++) {
        uint64_t last = UINT64_MAX;
        cr_assert_leq(slowlog_get(log, -1, NULL, check_each, &last), 50);
        if (r % 50 == 10)
            slowlog_set_max_len(log, 20 + (uint64_t)r % 40);
        if (r == 100)
            slowlog_reset(log);
    }
    for (int t = 0; t < THREADS; t++)
        pthread_join(th[t], NULL);
    slowlog_set_max_len(log, 1000);
    add_words(log, 1, "last");
    struct got g;
    get(log, 1, &g);
    cr_expect_eq(g.id[0], (uint64_t)THREADS * ADDS, "every add took one id");
    slowlog_destroy(log);
}
