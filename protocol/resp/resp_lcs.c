/*
 * resp_lcs.c: Redis 7.0's LCS command: the longest common subsequence of two string values, as the
 * string itself, its length (LEN), or the runs of matching bytes in both (IDX, MINMATCHLEN,
 * WITHMATCHLEN).
 *
 * The classic dynamic-programming table of (alen + 1) * (blen + 1) 32-bit lengths, walked back from
 * its end with Redis's tie rule (when the last bytes differ, drop one from a only when that keeps a
 * strictly longer LCS), so the LCS chosen and the order of the runs are Redis's. The table is
 * transient memory the client asks for: as in Redis it may not be larger than proto-max-bulk-len,
 * which is cairn's item size limit (-I), and a failed allocation is an error reply.
 */
#include "config.h"

#include "protocol/resp/resp_lcs.h"

#include <stdlib.h>
#include <string.h>

#include "protocol/resp/resp_db.h"
#include "protocol/resp/resp_internal.h"
#include "protocol/resp/resp_reply.h"
#include "protocol/resp/resp_util.h"
#include "storage/cache.h"

/* ---- the table ---- */

#define T(l, i, j) ((l)->t[(size_t)(i) * ((size_t)(l)->blen + 1) + (size_t)(j)])

uint64_t lcs_table_bytes(size_t alen, size_t blen)
{
    uint64_t cells = ((uint64_t)alen + 1) * ((uint64_t)blen + 1);
    if (cells > SIZE_MAX / sizeof(uint32_t))
        return 0;
    return cells * sizeof(uint32_t);
}

void lcs_fill(struct lcs *l, const unsigned char *a, size_t alen, const unsigned char *b, size_t blen,
              uint32_t *table)
{
    l->a = a;
    l->b = b;
    l->alen = (uint32_t)alen;
    l->blen = (uint32_t)blen;
    l->t = table;
    for (uint32_t j = 0; j <= l->blen; j++)
        T(l, 0, j) = 0;
    for (uint32_t i = 1; i <= l->alen; i++) {
        T(l, i, 0) = 0;
        for (uint32_t j = 1; j <= l->blen; j++) {
            if (a[i - 1] == b[j - 1]) {
                T(l, i, j) = T(l, i - 1, j - 1) + 1;
            } else {
                uint32_t up = T(l, i - 1, j), left = T(l, i, j - 1);
                T(l, i, j) = up > left ? up : left;
            }
        }
    }
}

uint32_t lcs_len(const struct lcs *l)
{
    return T(l, l->alen, l->blen);
}

void lcs_walk(const struct lcs *l, unsigned char *out, void (*range)(void *arg, const struct lcs_range *r),
              void *arg)
{
    uint32_t i = l->alen, j = l->blen, idx = lcs_len(l);
    struct lcs_range r = {0, 0, 0, 0};
    bool open = false;

    while (i > 0 && j > 0) {
        bool emit = false;
        if (l->a[i - 1] == l->b[j - 1]) {
            if (out != NULL)
                out[idx - 1] = l->a[i - 1];
            if (!open) {
                r = (struct lcs_range){i - 1, i - 1, j - 1, j - 1};
                open = true;
            } else if (r.a_start == i && r.b_start == j) {
                r.a_start--; /* the run goes on backwards */
                r.b_start--;
            } else {
                emit = true;
            }
            if (r.a_start == 0 || r.b_start == 0)
                emit = true;
            idx--;
            i--;
            j--;
        } else {
            if (T(l, i - 1, j) > T(l, i, j - 1))
                i--;
            else
                j--;
            emit = open;
        }
        if (emit) {
            if (range != NULL)
                range(arg, &r);
            open = false;
        }
    }
}

/* ---- the command ---- */

#define E_LCS_BOTH  "ERR If you want both the length and indexes, please just use IDX."
#define E_LCS_BIG   "ERR Insufficient memory, transient memory for LCS exceeds proto-max-bulk-len"
#define E_LCS_NOMEM "ERR Insufficient memory, failed allocating transient memory for LCS"

struct lcs_opts {
    bool len, idx, withmatchlen;
    long long minmatchlen;
};

/* The options from argument 3 on; false after an error reply. */
static bool lcs_parse(struct resp_session *s, const struct resp_args *a, struct lcs_opts *o, struct outq *out)
{
    memset(o, 0, sizeof(*o));
    for (size_t j = 3; j < a->argc; j++) {
        if (resp_arg_is(a, j, "idx")) {
            o->idx = true;
        } else if (resp_arg_is(a, j, "len")) {
            o->len = true;
        } else if (resp_arg_is(a, j, "withmatchlen")) {
            o->withmatchlen = true;
        } else if (resp_arg_is(a, j, "minmatchlen") && j + 1 < a->argc) {
            if (!resp_arg_ll(s, a, j + 1, &o->minmatchlen, out))
                return false;
            if (o->minmatchlen < 0)
                o->minmatchlen = 0;
            j++;
        } else {
            resp_error(s, out, RESP_E_SYNTAX);
            return false;
        }
    }
    if (o->idx && o->len) {
        resp_error(s, out, E_LCS_BOTH);
        return false;
    }
    return true;
}

/* IDX's runs, queued as they are found (the array's length is known only at the end). */
struct lcs_runs {
    const struct lcs_opts *o;
    struct lcs_range *r;
    size_t n, cap;
    bool nomem;
};

static void lcs_keep_run(void *arg, const struct lcs_range *r)
{
    struct lcs_runs *runs = arg;
    uint32_t len = r->a_end - r->a_start + 1;
    if (runs->nomem || (runs->o->minmatchlen != 0 && (long long)len < runs->o->minmatchlen))
        return;
    if (runs->n == runs->cap) {
        size_t cap = runs->cap ? runs->cap * 2 : 16;
        struct lcs_range *p = realloc(runs->r, cap * sizeof(*p));
        if (p == NULL) {
            runs->nomem = true;
            return;
        }
        runs->r = p;
        runs->cap = cap;
    }
    runs->r[runs->n++] = *r;
}

/* IDX's reply: {matches: [[[a0, a1], [b0, b1](, len)]...], len: N}. */
static void lcs_reply_idx(struct resp_session *s, const struct lcs *l, const struct lcs_opts *o,
                          struct outq *out)
{
    struct lcs_runs runs = {.o = o};
    lcs_walk(l, NULL, lcs_keep_run, &runs);
    if (runs.nomem) {
        free(runs.r);
        resp_error(s, out, E_LCS_NOMEM);
        return;
    }
    resp_add_map(out, s->proto, 2);
    resp_add_bulk_str(out, "matches");
    resp_add_array(out, runs.n);
    for (size_t k = 0; k < runs.n; k++) {
        const struct lcs_range *r = &runs.r[k];
        resp_add_array(out, o->withmatchlen ? 3 : 2);
        resp_add_array(out, 2);
        resp_add_int(out, r->a_start);
        resp_add_int(out, r->a_end);
        resp_add_array(out, 2);
        resp_add_int(out, r->b_start);
        resp_add_int(out, r->b_end);
        if (o->withmatchlen)
            resp_add_int(out, (long long)(r->a_end - r->a_start + 1));
    }
    resp_add_bulk_str(out, "len");
    resp_add_int(out, lcs_len(l));
    free(runs.r);
}

/* The plain reply: the LCS itself. */
static void lcs_reply_string(struct resp_session *s, const struct lcs *l, struct outq *out)
{
    uint32_t n = lcs_len(l);
    unsigned char *str = malloc(n > 0 ? n : 1);
    if (str == NULL) {
        resp_error(s, out, E_LCS_NOMEM);
        return;
    }
    lcs_walk(l, str, NULL, NULL);
    resp_add_bulk(out, str, n);
    free(str);
}

/* Computes and replies for the two values (a missing key reads as the empty string). */
static void lcs_run(struct resp_session *s, const struct item *ia, const struct item *ib,
                    const struct lcs_opts *o, struct outq *out)
{
    const unsigned char *a =
        ia != NULL ? (const unsigned char *)item_value_const(ia) : (const unsigned char *)"";
    const unsigned char *b =
        ib != NULL ? (const unsigned char *)item_value_const(ib) : (const unsigned char *)"";
    size_t alen = ia != NULL ? item_nbytes(ia) : 0, blen = ib != NULL ? item_nbytes(ib) : 0;
    uint64_t bytes = lcs_table_bytes(alen, blen);
    uint32_t *table = NULL;
    struct lcs l;

    if (bytes != 0 && bytes > s->ctx->item_size_max) {
        resp_error(s, out, E_LCS_BIG);
        return;
    }
    if (bytes == 0 || (table = malloc((size_t)bytes)) == NULL) {
        resp_error(s, out, E_LCS_NOMEM);
        return;
    }
    lcs_fill(&l, a, alen, b, blen, table);
    if (o->idx)
        lcs_reply_idx(s, &l, o, out);
    else if (o->len)
        resp_add_int(out, lcs_len(&l));
    else
        lcs_reply_string(s, &l, out);
    free(table);
}

enum proto_status resp_cmd_lcs(struct resp_session *s, const struct resp_args *a, struct outq *out)
{
    struct lcs_opts o;
    /* Redis reads both keys before it looks at the options */
    struct item *ia = resp_lookup(s, a->argv[1], a->argl[1], true);
    struct item *ib = resp_lookup(s, a->argv[2], a->argl[2], true);
    if (lcs_parse(s, a, &o, out))
        lcs_run(s, ia, ib, &o, out);
    cache_item_release(s->ctx->cache, &ia);
    cache_item_release(s->ctx->cache, &ib);
    return PROTO_OK;
}
