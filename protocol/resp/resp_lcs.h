/*
 * resp_lcs.h: the longest common subsequence of two byte strings, as Redis 7.0's LCS computes and
 * walks it (protocol/resp/resp_lcs.c), without sessions or storage, for the LCS command and its unit
 * test.
 */
#ifndef CAIRN_PROTOCOL_RESP_LCS_H
#define CAIRN_PROTOCOL_RESP_LCS_H

#include <stddef.h>
#include <stdint.h>

/* The dynamic-programming table of a (alen bytes) and b (blen bytes): (alen + 1) * (blen + 1)
 * uint32_t, cell [i][j] the LCS length of a[0..i) and b[0..j). */
struct lcs {
    const unsigned char *a, *b;
    uint32_t alen, blen;
    uint32_t *t;
};

/* Bytes the table needs, or 0 when the count does not fit a size_t. */
uint64_t lcs_table_bytes(size_t alen, size_t blen);

/* Fills l's table (allocated by the caller, lcs_table_bytes long) for a and b. */
void lcs_fill(struct lcs *l, const unsigned char *a, size_t alen, const unsigned char *b, size_t blen,
              uint32_t *table);

/* The LCS length. */
uint32_t lcs_len(const struct lcs *l);

/* A run of matching bytes: a[a_start..a_end] equals b[b_start..b_end] (inclusive). */
struct lcs_range {
    uint32_t a_start, a_end, b_start, b_end;
};

/* Walks the table back from its end as Redis does: writes the LCS itself into out (lcs_len bytes)
 * when out is not NULL, and calls range() for each run of matches, last run first, when range is not
 * NULL. */
void lcs_walk(const struct lcs *l, unsigned char *out, void (*range)(void *arg, const struct lcs_range *r),
              void *arg);

#endif
