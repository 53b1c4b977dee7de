/*
 * test_resp_lcs.c: LCS's table and walk (protocol/resp/resp_lcs.c): a table of pairs with the LCS
 * and the runs Redis 7.0 answers for them, and on random strings the properties every answer has
 * (the LCS is a subsequence of both, each run matches byte for byte, the runs add up to its length,
 * runs come last first).
 */
#include "config.h"

#include <criterion/criterion.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "protocol/resp/resp_lcs.h"

struct runs {
    struct lcs_range r[64];
    size_t n;
};

static void keep(void *arg, const struct lcs_range *r)
{
    struct runs *rs = arg;
    cr_assert_lt(rs->n, 64u);
    rs->r[rs->n++] = *r;
}

/* Fills l for a and b (the table is the caller's to free) and returns the LCS as a string. */
static char *solve(struct lcs *l, const char *a, const char *b, struct runs *rs)
{
    size_t alen = strlen(a), blen = strlen(b);
    uint32_t *t = malloc((size_t)lcs_table_bytes(alen, blen));
    cr_assert_not_null(t);
    lcs_fill(l, (const unsigned char *)a, alen, (const unsigned char *)b, blen, t);
    char *out = calloc(lcs_len(l) + 1, 1);
    lcs_walk(l, (unsigned char *)out, keep, rs);
    return out;
}

Test(lcs, known_answers)
{
    static const struct {
        const char *a, *b, *lcs;
        const char *runs; /* "a0-a1/b0-b1 ..." last run first, as Redis replies */
    } cases[] = {
        {"ohmytext", "mynewtext", "mytext", "4-7/5-8 2-3/0-1"},
        {"", "", "", ""},
        {"abc", "", "", ""},
        {"abc", "abc", "abc", "0-2/0-2"},
        {"abc", "xyz", "", ""},
        {"aaaa", "aa", "aa", "2-3/0-1"},
        {"ab", "ba", "b", "1-1/0-0"},
        {"abcbdab", "bdcaba", "bdab", "5-6/3-4 3-4/0-1"},
    };
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        struct lcs l;
        struct runs rs = {.n = 0};
        char *got = solve(&l, cases[i].a, cases[i].b, &rs);
        cr_expect_str_eq(got, cases[i].lcs, "LCS(%s, %s)", cases[i].a, cases[i].b);
        cr_expect_eq(lcs_len(&l), strlen(cases[i].lcs));
        char text[256] = "";
        for (size_t k = 0; k < rs.n; k++) {
            char one[64];
            snprintf(one, sizeof(one), "%s%u-%u/%u-%u", k ? " " : "", rs.r[k].a_start, rs.r[k].a_end,
                     rs.r[k].b_start, rs.r[k].b_end);
            strcat(text, one);
        }
        cr_expect_str_eq(text, cases[i].runs, "runs of LCS(%s, %s)", cases[i].a, cases[i].b);
        free(got);
        free(l.t);
    }
}

/* Whether s is a subsequence of t. */
static bool subsequence(const char *s, const char *t)
{
    for (; *s != '\0'; s++) {
        t = strchr(t, *s);
        if (t == NULL)
            return false;
        t++;
    }
    return true;
}

Test(lcs, random_strings_keep_the_properties)
{
    srand(11);
    for (int round = 0; round < 300; round++) {
        char a[40], b[40];
        size_t alen = (size_t)(rand() % 39), blen = (size_t)(rand() % 39);
        for (size_t i = 0; i < alen; i++)
            a[i] = (char)('a' + rand() % 4);
        for (size_t i = 0; i < blen; i++)
            b[i] = (char)('a' + rand() % 4);
        a[alen] = b[blen] = '\0';
        struct lcs l;
        struct runs rs = {.n = 0};
        char *got = solve(&l, a, b, &rs);
        cr_assert(subsequence(got, a) && subsequence(got, b), "%s of %s, %s", got, a, b);
        size_t total = 0;
        for (size_t k = 0; k < rs.n; k++) {
            const struct lcs_range *r = &rs.r[k];
            size_t n = r->a_end - r->a_start + 1;
            cr_assert_eq(r->b_end - r->b_start + 1, n);
            cr_assert(memcmp(a + r->a_start, b + r->b_start, n) == 0);
            if (k > 0)
                cr_assert(r->a_end < rs.r[k - 1].a_start && r->b_end < rs.r[k - 1].b_start, "last run first");
            total += n;
        }
        cr_assert_eq(total, strlen(got));
        free(got);
        free(l.t);
    }
}

Test(lcs, table_size)
{
    cr_expect_eq(lcs_table_bytes(0, 0), 4u);
    cr_expect_eq(lcs_table_bytes(511, 511), 1024u * 1024u);
    cr_expect_eq(lcs_table_bytes(SIZE_MAX / 2, SIZE_MAX / 2), 0u, "a count past size_t is 0");
}
