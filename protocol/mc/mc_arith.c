/*
 * mc_arith.c: memcached's incr/decr as a plan and a fill for storage's cache_rmw (see mc_arith.h for
 * the rules). The plan parses the old value and computes the new number and its length; the fill
 * writes the digits and the padding into the new item. Both are called under the key's shard lock,
 * the fill right after the plan, so the digits wait in the struct mc_arith in between.
 *
 * Threads: any; no state beyond the caller's struct mc_arith.
 */
#include "config.h"

#include "protocol/mc/mc_arith.h"

#include <stdio.h>
#include <string.h>

/* The bytes C's isspace() accepts in the "C" locale. */
static bool arith_space(char ch)
{
    return ch == ' ' || (ch >= '\t' && ch <= '\r');
}

/* Accumulates decimal digits from s[*i] on into *v. Returns false on overflow past 2^64 - 1 (as
 * strtoull's ERANGE); counts the digits read in *ndigits. */
static bool arith_digits(const char *s, size_t n, size_t *i, uint64_t *v, size_t *ndigits)
{
    uint64_t x = 0;

    for (*ndigits = 0; *i < n && s[*i] >= '0' && s[*i] <= '9'; (*i)++, (*ndigits)++) {
        unsigned d = (unsigned)(s[*i] - '0');

        if (x > (UINT64_MAX - d) / 10)
            return false;
        x = x * 10 + d;
    }
    *v = x;
    return true;
}

/*
 * Parses an incr/decr operand the way memcached 1.6 does: strtoull() of the value as if followed by
 * "\r\n" (see mc_arith.h). A value of only whitespace fails (memcached would read past its own
 * "\r\n" into unrelated memory).
 */
static bool arith_parse(const char *s, size_t n, uint64_t *v)
{
    size_t i = 0, ndigits;
    bool minus = false;
    uint64_t x;

    while (i < n && arith_space(s[i]))
        i++;
    if (i < n && (s[i] == '+' || s[i] == '-'))
        minus = s[i++] == '-';
    if (!arith_digits(s, n, &i, &x, &ndigits) || ndigits == 0)
        return false;
    if (i < n && !arith_space(s[i]) && s[i] != '\0')
        return false;
    if (minus)
        x = (uint64_t)0 - x;
    if (minus && x > (uint64_t)INT64_MAX)
        return false;
    *v = x;
    return true;
}

/* Writes v's digits into a and returns their count. */
static size_t arith_format(struct mc_arith *a, uint64_t v)
{
    int len = snprintf(a->digits, sizeof a->digits, "%llu", (unsigned long long)v);

    a->value = v;
    a->ndigits = (size_t)len;
    return a->ndigits;
}

/* See mc_arith.h. */
bool mc_arith_refuse(void *arg, const struct item *old)
{
    const struct mc_arith *a = arg;
    uint64_t total = 48u + item_nkey(old) + 1u + (item_client_flags(old) != 0 ? 4u : 0u) +
                     (uint64_t)item_nbytes(old) + 2u + (a->use_cas ? 8u : 0u);

    return item_nbytes(old) == 0 || total > MC_ARITH_CHUNK_MAX;
}

/* cache_rmw's plan: the new number, or why there is none. Its digits alone make a new item; storage
 * writes them over the old value instead (in_place) when they fit and nobody holds the item, as
 * memcached does, and the fill pads them to the old length there. */
static enum cache_status arith_plan(void *arg, const struct item *old, struct cache_rmw_new *nw)
{
    struct mc_arith *a = arg;
    uint64_t v;

    if (!old && !a->vivify)
        return CACHE_NOT_FOUND;
    if (!old) {
        nw->nbytes = arith_format(a, a->initial);
        return CACHE_OK;
    }
    if (mc_arith_refuse(a, old) || !arith_parse(item_value_const(old), item_nbytes(old), &v))
        return CACHE_NON_NUMERIC;
    if (a->incr)
        v += a->delta;
    else
        v = v < a->delta ? 0 : v - a->delta;
    nw->nbytes = arith_format(a, v);
    nw->in_place = true;
    /* a rewrite in place keeps the base64-key mark; memcached's relinked item has none */
    nw->key_binary = false;
    return CACHE_OK;
}

/* cache_rmw's fill: the digits, then spaces up to nbytes (an in-place rewrite's old length). */
static void arith_fill(void *arg, const struct item *old, char *value, size_t nbytes)
{
    const struct mc_arith *a = arg;

    (void)old;
    memcpy(value, a->digits, a->ndigits);
    memset(value + a->ndigits, ' ', nbytes - a->ndigits);
}

/* See mc_arith.h. */
void mc_arith_op(struct mc_arith *a, struct cache_rmw *op)
{
    memset(op, 0, sizeof *op);
    op->plan = arith_plan;
    op->fill = arith_fill;
    op->arg = a;
    op->count = a->incr ? CACHE_RMW_COUNT_INCR : CACHE_RMW_COUNT_DECR;
}
