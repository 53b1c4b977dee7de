/*
 * test_resp_errstats.c: INFO errorstats' table (protocol/resp/resp_errstats.c): the code Redis 7.0
 * reads from an error line, counting, Redis's order, reset, the 128-code bound, and counting from
 * several threads at once.
 */
#include "config.h"

#include <criterion/criterion.h>
#include <inttypes.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "protocol/resp/resp_errstats.h"

Test(errstats, code_of_a_line)
{
    static const struct {
        const char *text, *code;
    } cases[] = {
        {"ERR syntax error", "ERR"},
        {"WRONGTYPE Operation against a key holding the wrong kind of value", "WRONGTYPE"},
        {"-MOVED 3999 127.0.0.1:6381", "MOVED"},
        {"-ERR Protocol error: invalid multibulk length\r\n", "ERR"},
        {"EXECABORT Transaction discarded because of previous errors.", "EXECABORT"},
        {"NOSPACE", "ERR"},                                                        /* no space: ERR */
        {"", "ERR"},                                                               /* nothing: ERR */
        {" leading space", "ERR"},                                                 /* an empty code: ERR */
        {"ABCDEFGHIJKLMNOPQRSTUVWXYZABCD rest", "ABCDEFGHIJKLMNOPQRSTUVWXYZABCD"}, /* 30: the longest */
        {"ABCDEFGHIJKLMNOPQRSTUVWXYZABCDE rest", "ERR"}, /* 31: the space is past 32 bytes with '-' */
        {"-ABCDEFGHIJKLMNOPQRSTUVWXYZABCD x", "ABCDEFGHIJKLMNOPQRSTUVWXYZABCD"},
    };
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        size_t len;
        const char *c = resp_errstats_code(cases[i].text, strlen(cases[i].text), &len);
        cr_expect(len == strlen(cases[i].code) && memcmp(c, cases[i].code, len) == 0, "[%s]: %.*s, want %s",
                  cases[i].text, (int)len, c, cases[i].code);
    }
}

struct seen {
    char text[1024];
};

static void collect(void *arg, const char *code, uint64_t count)
{
    struct seen *s = arg;
    size_t n = strlen(s->text);
    snprintf(s->text + n, sizeof(s->text) - n, "%s=%" PRIu64 ";", code, count);
}

static void listing(const struct resp_errstats *e, struct seen *s)
{
    s->text[0] = '\0';
    resp_errstats_each(e, collect, s);
}

Test(errstats, counts_in_name_order_and_reset)
{
    struct resp_errstats *e = resp_errstats_create();
    struct seen s;
    cr_assert_not_null(e);
    listing(e, &s);
    cr_expect_str_eq(s.text, "");
    resp_errstats_count(e, "WRONGTYPE x", 11);
    resp_errstats_count(e, "ERR a", 5);
    resp_errstats_count(e, "ERR b", 5);
    resp_errstats_count(e, "EXECABORT x", 11);
    resp_errstats_count(e, "ERRX y", 6); /* a longer name after its prefix */
    resp_errstats_count(e, "MOVED 1 h:1", 11);
    listing(e, &s);
    cr_expect_str_eq(s.text, "ERR=2;ERRX=1;EXECABORT=1;MOVED=1;WRONGTYPE=1;");
    resp_errstats_reset(e);
    listing(e, &s);
    cr_expect_str_eq(s.text, "", "after a reset no code shows until it is counted again");
    resp_errstats_count(e, "MOVED 2 h:1", 11);
    listing(e, &s);
    cr_expect_str_eq(s.text, "MOVED=1;");
    resp_errstats_count(NULL, "ERR x", 5); /* no table: nothing */
    resp_errstats_destroy(e);
}

Test(errstats, at_most_128_codes)
{
    struct resp_errstats *e = resp_errstats_create();
    cr_assert_not_null(e);
    char line[32];
    for (int i = 0; i < RESP_ERRSTATS_MAX + 5; i++) {
        int n = snprintf(line, sizeof(line), "C%03d x", i);
        resp_errstats_count(e, line, (size_t)n);
    }
    resp_errstats_count(e, "C000 x", 6);
    struct seen s; /* 128 entries of 7 bytes fit */
    listing(e, &s);
    cr_expect(strstr(s.text, "C000=2;") == s.text, "%s", s.text);
    cr_expect(strstr(s.text, "C127=1;") != NULL, "%s", s.text);
    cr_expect(strstr(s.text, "C128") == NULL, "the 129th code is not counted: %s", s.text);
    resp_errstats_destroy(e);
}

#define THREADS    4
#define PER_THREAD 20000

static void *hammer(void *arg)
{
    struct resp_errstats *e = arg;
    char line[32];
    for (int i = 0; i < PER_THREAD; i++) {
        int n = snprintf(line, sizeof(line), "K%d x", i % 7);
        resp_errstats_count(e, line, (size_t)n);
    }
    return NULL;
}

Test(errstats, threads_count_every_reply)
{
    struct resp_errstats *e = resp_errstats_create();
    pthread_t t[THREADS];
    cr_assert_not_null(e);
    for (int i = 0; i < THREADS; i++)
        cr_assert_eq(pthread_create(&t[i], NULL, hammer, e), 0);
    for (int i = 0; i < THREADS; i++)
        pthread_join(t[i], NULL);
    struct seen s;
    listing(e, &s);
    uint64_t total = 0;
    int codes = 0;
    for (const char *p = s.text; (p = strchr(p, '=')) != NULL; p++) {
        total += strtoull(p + 1, NULL, 10);
        codes++;
    }
    cr_expect_eq(codes, 7, "%s", s.text);
    cr_expect_eq(total, (uint64_t)THREADS * PER_THREAD, "%s", s.text);
    resp_errstats_destroy(e);
}
