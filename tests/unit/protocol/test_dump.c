/*
 * test_dump.c: the key dumps (protocol/mc/mc_dump.c): memcached's URL encoding and line formats
 * (table-driven, expected strings measured on memcached 1.6.18), and stats cachedump / lru_crawler
 * metadump through a session over a real cache: their errors, -X, class ids, the limit, and a dump
 * that is fed again (PROTO_PAUSE) batch by batch with a small pause weight.
 */
#include "protocol_test.h"

#include <inttypes.h>

#include "protocol/mc/mc_admin.h"
#include "protocol/mc/mc_dump.h"

#define S(x) x, sizeof(x) - 1

/* ---- formatting ---- */

struct enc_case {
    const char *in;
    size_t n;
    const char *want;
};

Test(dump, urlencode_as_memcached)
{
    static const struct enc_case cases[] = {
        {S("foo"), "foo"},
        {S("k~x._-"), "k~x._-"},
        {S("a/b%20c"), "a%2Fb%2520c"},
        {S("AZaz09"), "AZaz09"},
        {S("key:1 2"), "key%3A1%202"},
        {S("\x00\x01\x7f\x80\xff"), "%00%01%7F%80%FF"},
        {S("+=&?#"), "%2B%3D%26%3F%23"},
        {S(""), ""},
    };
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        char out[64];
        size_t n = mc_dump_urlencode(cases[i].in, cases[i].n, out);
        cr_expect_eq(n, strlen(cases[i].want), "case %zu", i);
        cr_expect(memcmp(out, cases[i].want, n) == 0, "case %zu: %.*s", i, (int)n, out);
    }
}

Test(dump, item_line_as_memcached)
{
    char buf[MC_DUMP_ITEM_LINE_MAX];
    size_t n = mc_dump_item_line(buf, S("a/b%20c"), 2, 1796370984);
    buf[n] = '\0';
    cr_expect_str_eq(buf, "ITEM a/b%20c [2 b; 1796370984 s]\r\n");
    n = mc_dump_item_line(buf, S("k"), 0, 0);
    buf[n] = '\0';
    cr_expect_str_eq(buf, "ITEM k [0 b; 0 s]\r\n");
    char key[MC_KEY_MAX];
    memset(key, 'k', sizeof(key));
    n = mc_dump_item_line(buf, key, sizeof(key), UINT64_MAX, UINT64_MAX);
    cr_expect_leq(n, MC_DUMP_ITEM_LINE_MAX);
    cr_expect(memcmp(buf + n - 5, " s]\r\n", 5) == 0);
}

Test(dump, meta_tail_as_memcached)
{
    char buf[MC_DUMP_META_TAIL_MAX];
    size_t n = mc_dump_meta_tail(buf, -1, 1796370884, 1, true, 1, 65);
    buf[n] = '\0';
    cr_expect_str_eq(buf, " exp=-1 la=1796370884 cas=1 fetch=yes cls=1 size=65\n");
    n = mc_dump_meta_tail(buf, 1796370984, 1796370884, 2, false, 12, 72);
    buf[n] = '\0';
    cr_expect_str_eq(buf, " exp=1796370984 la=1796370884 cas=2 fetch=no cls=12 size=72\n");
    n = mc_dump_meta_tail(buf, INT64_MAX, UINT64_MAX, UINT64_MAX, false, 255, UINT64_MAX);
    cr_expect_lt(n, MC_DUMP_META_TAIL_MAX);
}

Test(dump, memcached_item_size)
{
    /* measured: "foo"/"bar" 65, "a/b%20c" flags 5 value "hi" 72, base64 key "foobar" value "hi" 67 */
    cr_expect_eq(mc_dump_mc_size(3, 3, 0, true), 65);
    cr_expect_eq(mc_dump_mc_size(7, 2, 5, true), 72);
    cr_expect_eq(mc_dump_mc_size(6, 2, 0, true), 67);
    cr_expect_eq(mc_dump_mc_size(3, 3, 0, false), 57);
}

Test(dump, listable_keys)
{
    cr_expect(mc_dump_key_listable(S("foo"), false));
    cr_expect(mc_dump_key_listable(S("\x80\xff"), false));
    cr_expect_not(mc_dump_key_listable(S("foo"), true));
    cr_expect_not(mc_dump_key_listable(S(""), false));
    cr_expect_not(mc_dump_key_listable(S("a b"), false));
    cr_expect_not(mc_dump_key_listable(S("a\r\nb"), false));
    cr_expect_not(mc_dump_key_listable(S("a\x7f"), false));
    char key[MC_KEY_MAX + 1];
    memset(key, 'k', sizeof(key));
    cr_expect(mc_dump_key_listable(key, MC_KEY_MAX, false));
    cr_expect_not(mc_dump_key_listable(key, MC_KEY_MAX + 1, false));
}

/* ---- through a session ---- */

struct dump_run {
    struct pt_run t;
    unsigned pauses; /* PROTO_PAUSE answers while feeding */
};

static void dump_init(struct dump_run *d, bool dump_disabled, size_t out_pause)
{
    memset(d, 0, sizeof(*d));
    pt_run_init(&d->t, 128u << 20); /* a page for each of the classes fill() uses: no eviction */
    d->t.ctx.shared = mc_shared_create(':');
    cr_assert_not_null(d->t.ctx.shared);
    d->t.ctx.dump_disabled = dump_disabled;
    d->t.ctx.out_pause = out_pause;
}

static void dump_fini(struct dump_run *d)
{
    mc_shared_destroy(&d->t.ctx.shared);
    pt_run_fini(&d->t);
}

/* Feeds in whole, as a server does: on PROTO_PAUSE drains the queue (into *acc) and feeds the rest
 * again. Returns everything queued, malloc'd. */
static char *dump_feed(struct dump_run *d, const char *in, size_t n)
{
    size_t cap = 1 << 16, len = 0;
    char *all = malloc(cap);
    cr_assert_not_null(all);
    size_t off = 0;
    for (unsigned rounds = 0; rounds < 1000000; rounds++) {
        size_t used = 0;
        enum proto_status st = mc_session_feed(d->t.s, in + off, n - off, &used, d->t.r);
        off += used;
        size_t got = 0;
        char *chunk = pt_drain(d->t.r, (size_t)-1, &got);
        if (len + got + 1 > cap) {
            cap = (len + got + 1) * 2;
            all = realloc(all, cap);
            cr_assert_not_null(all);
        }
        memcpy(all + len, chunk, got);
        len += got;
        free(chunk);
        if (st != PROTO_PAUSE) {
            cr_assert_eq(st, PROTO_OK);
            break;
        }
        d->pauses++;
    }
    cr_assert_eq(off, n);
    all[len] = '\0';
    return all;
}

static char *dump_exchange(const char *in, size_t n, bool dump_disabled)
{
    struct dump_run d;
    dump_init(&d, dump_disabled, 0);
    char *out = dump_feed(&d, in, n);
    dump_fini(&d);
    return out;
}

Test(dump, cachedump_errors_as_memcached)
{
    char *out =
        dump_exchange(S("stats cachedump\r\nstats cachedump 1\r\nstats cachedump x 0\r\n"
                        "stats cachedump 1 x\r\nstats cachedump -1 0\r\nstats cachedump 64 0\r\n"
                        "stats cachedump 0 0\r\nstats cachedump 63 0\r\nstats cachedump 1 0 extra\r\n"),
                      false);
    cr_expect_str_eq(out, "CLIENT_ERROR bad command line\r\nCLIENT_ERROR bad command line\r\n"
                          "CLIENT_ERROR bad command line format\r\nCLIENT_ERROR bad command line format\r\n"
                          "CLIENT_ERROR bad command line format\r\nCLIENT_ERROR Illegal slab id\r\n"
                          "END\r\nEND\r\nEND\r\n");
    free(out);
}

Test(dump, metadump_errors_as_memcached)
{
    char *out =
        dump_exchange(S("lru_crawler metadump\r\nlru_crawler metadump all extra\r\n"
                        "lru_crawler metadump 0\r\nlru_crawler metadump 64\r\nlru_crawler metadump x\r\n"
                        "lru_crawler metadump 1,x\r\nlru_crawler metadump ,\r\nlru_crawler metadump 1,,2\r\n"
                        "lru_crawler disable\r\nlru_crawler metadump all\r\nlru_crawler metadump 0\r\n"),
                      false);
    cr_expect_str_eq(out, "ERROR\r\nERROR\r\nBADCLASS invalid class id\r\nBADCLASS invalid class id\r\n"
                          "BADCLASS invalid class id\r\nBADCLASS invalid class id\r\n"
                          "NOTSTARTED no items to crawl\r\nEND\r\nOK\r\n"
                          "CLIENT_ERROR lru crawler disabled\r\nCLIENT_ERROR lru crawler disabled\r\n");
    free(out);
}

Test(dump, disabled_by_X_as_memcached)
{
    char *out =
        dump_exchange(S("set foo 0 0 3\r\nbar\r\nstats cachedump 1 0\r\nstats cachedump\r\n"
                        "lru_crawler metadump all\r\nlru_crawler metadump 99\r\nlru_crawler disable\r\n"
                        "lru_crawler metadump all\r\n"),
                      true);
    cr_expect_str_eq(out, "STORED\r\nCLIENT_ERROR stats cachedump not allowed\r\n"
                          "CLIENT_ERROR stats cachedump not allowed\r\nERROR metadump not allowed\r\n"
                          "ERROR metadump not allowed\r\nOK\r\nCLIENT_ERROR lru crawler disabled\r\n");
    free(out);
}

Test(dump, lines_of_both_dumps)
{
    struct dump_run d;
    dump_init(&d, false, 0);
    time_t started = cache_process_started(d.t.cache);
    char *out = dump_feed(&d, S("set a/b%20c 5 100 2\r\nhi\r\nms Zm9vYmFy 2 b T0\r\nhi\r\n"
                                "stats cachedump 1 0\r\nlru_crawler metadump all\r\n"));
    char want[1024];
    uint64_t exp = 1000 + 100 + (uint64_t)started, la = 1000 + (uint64_t)started;
    /* the base64 key is skipped by cachedump and shown raw (URL-encoded) by metadump */
    snprintf(want, sizeof(want),
             "STORED\r\nHD\r\nITEM a/b%%20c [2 b; %" PRIu64 " s]\r\nEND\r\n"
             "key=a%%2Fb%%2520c exp=%" PRIu64 " la=%" PRIu64 " cas=1 fetch=no cls=1 size=72\n"
             "key=foobar exp=-1 la=%" PRIu64 " cas=2 fetch=no cls=1 size=67\nEND\r\n",
             exp, exp, la, la);
    /* the two metadump lines come in hash order */
    char alt[1024];
    snprintf(alt, sizeof(alt),
             "STORED\r\nHD\r\nITEM a/b%%20c [2 b; %" PRIu64 " s]\r\nEND\r\n"
             "key=foobar exp=-1 la=%" PRIu64 " cas=2 fetch=no cls=1 size=67\n"
             "key=a%%2Fb%%2520c exp=%" PRIu64 " la=%" PRIu64 " cas=1 fetch=no cls=1 size=72\nEND\r\n",
             exp, la, exp, la);
    cr_expect(strcmp(out, want) == 0 || strcmp(out, alt) == 0, "got %s", out);
    free(out);
    dump_fini(&d);
}

/* Stores n keys "key:<i>" of value size i % 3000 (many classes). */
static void fill(struct dump_run *d, unsigned n)
{
    static char val[3000];
    memset(val, 'v', sizeof(val));
    for (unsigned i = 0; i < n; i++) {
        char line[64];
        unsigned len = i % 3000;
        int k = snprintf(line, sizeof(line), "set key:%u 0 0 %u noreply\r\n", i, len);
        char *req = malloc((size_t)k + len + 2);
        memcpy(req, line, (size_t)k);
        memcpy(req + k, val, len);
        memcpy(req + k + len, "\r\n", 2);
        char *out = dump_feed(d, req, (size_t)k + len + 2);
        cr_assert_str_eq(out, "");
        free(out);
        free(req);
    }
}

/* Counts the lines starting with prefix and marks key:<i> (the digits after prefix) in seen. Walks
 * lines with memchr: strstr and sscanf take the length of the whole rest each time. */
static unsigned count_keys(const char *out, const char *prefix, unsigned char *seen, unsigned n)
{
    unsigned lines = 0;
    size_t plen = strlen(prefix), rest = strlen(out);
    for (const char *p = out; rest > 0;) {
        const char *nl = memchr(p, '\n', rest);
        size_t len = nl != NULL ? (size_t)(nl - p) + 1 : rest;
        if (len > plen && memcmp(p, prefix, plen) == 0) {
            unsigned i = 0, digits = 0;
            for (const char *q = p + plen; q < p + len && *q >= '0' && *q <= '9'; q++, digits++)
                i = i * 10 + (unsigned)(*q - '0');
            if (digits > 0 && i < n)
                seen[i] = 1;
            lines++;
        }
        p += len;
        rest -= len;
    }
    return lines;
}

Test(dump, metadump_lists_every_key_in_batches)
{
    enum { N = 5000 };
    struct dump_run d;
    dump_init(&d, false, 4096); /* a small pause weight: many batches */
    fill(&d, N);
    unsigned pauses = d.pauses;
    char *out = dump_feed(&d, S("lru_crawler metadump all\r\nversion\r\n"));
    static unsigned char seen[N];
    memset(seen, 0, sizeof(seen));
    cr_expect_eq(count_keys(out, "key=key%3A", seen, N), N);
    for (unsigned i = 0; i < N; i++)
        cr_expect(seen[i], "key:%u missing", i);
    cr_expect_gt(d.pauses - pauses, 10, "the dump ran in batches");
    size_t len = strlen(out);
    const char *tail = "END\r\nVERSION 1.6.18\r\n";
    cr_expect(len > strlen(tail) && strcmp(out + len - strlen(tail), tail) == 0);
    free(out);
    /* the crawler was given back: a crawl is accepted */
    out = dump_feed(&d, S("lru_crawler crawl all\r\n"));
    cr_expect_str_eq(out, "OK\r\n");
    free(out);
    dump_fini(&d);
}

Test(dump, cachedump_classes_cover_every_key)
{
    enum { N = 3000 };
    struct dump_run d;
    dump_init(&d, false, 4096);
    fill(&d, N);
    cr_assert_gt(cache_class_count(d.t.cache), MC_DUMP_CLASS_TOP, "cairn has more classes than memcached");
    static unsigned char seen[N];
    memset(seen, 0, sizeof(seen));
    unsigned lines = 0;
    for (unsigned id = 0; id <= MC_DUMP_CLASS_TOP; id++) {
        char cmd[64];
        int k = snprintf(cmd, sizeof(cmd), "stats cachedump %u 0\r\n", id);
        char *out = dump_feed(&d, cmd, (size_t)k);
        lines += count_keys(out, "ITEM key:", seen, N);
        size_t len = strlen(out);
        cr_expect(len >= 5 && strcmp(out + len - 5, "END\r\n") == 0);
        free(out);
    }
    cr_expect_eq(lines, N, "each key once");
    for (unsigned i = 0; i < N; i++)
        cr_expect(seen[i], "key:%u missing", i);
    dump_fini(&d);
}

Test(dump, cachedump_limit)
{
    struct dump_run d;
    dump_init(&d, false, 0);
    fill(&d, 40); /* sizes 0..39: the first few classes */
    char *out = dump_feed(&d, S("stats cachedump 1 2\r\n"));
    static unsigned char seen[40];
    cr_expect_eq(count_keys(out, "ITEM ", seen, 0), 2);
    free(out);
    dump_fini(&d);
}

Test(dump, metadump_busy_while_another_runs)
{
    struct dump_run a, b;
    dump_init(&a, false, 64);
    fill(&a, 200);
    /* a second session on the same cache and shared state */
    memset(&b, 0, sizeof(b));
    struct mc_stats st2;
    memset(&st2, 0, sizeof(st2));
    struct mc_session *s2 = mc_session_create(&a.t.ctx, &st2);
    struct outq *r2 = outq_create(a.t.cache);
    cr_assert(s2 && r2);
    size_t used = 0;
    enum proto_status st = mc_session_feed(a.t.s, S("lru_crawler metadump all\r\n"), &used, a.t.r);
    cr_assert_eq(st, PROTO_PAUSE, "the first dump stops at the small pause weight");
    cr_assert_eq(used, 0);
    st = mc_session_feed(s2, S("lru_crawler metadump all\r\n"), &used, r2);
    cr_expect_eq(st, PROTO_OK);
    char *out = pt_drain(r2, (size_t)-1, NULL);
    cr_expect_str_eq(out, "BUSY currently processing crawler request\r\n");
    free(out);
    st = mc_session_feed(s2, S("lru_crawler crawl all\r\n"), &used, r2);
    cr_expect_eq(st, PROTO_OK);
    out = pt_drain(r2, (size_t)-1, NULL);
    cr_expect_str_eq(out, "BUSY currently processing crawler request\r\n");
    free(out);
    /* disable and enable meanwhile: the running dump keeps the crawler */
    st = mc_session_feed(s2, S("lru_crawler disable\r\n"), &used, r2);
    st = mc_session_feed(s2, S("lru_crawler enable\r\n"), &used, r2);
    out = pt_drain(r2, (size_t)-1, NULL);
    cr_expect_str_eq(out, "OK\r\nOK\r\n");
    free(out);
    st = mc_session_feed(s2, S("lru_crawler metadump all\r\n"), &used, r2);
    out = pt_drain(r2, (size_t)-1, NULL);
    cr_expect_str_eq(out, "BUSY currently processing crawler request\r\n");
    free(out);
    /* the first connection goes away mid-dump: the crawler is free again */
    mc_session_destroy(&a.t.s);
    st = mc_session_feed(s2, S("lru_crawler crawl all\r\n"), &used, r2);
    out = pt_drain(r2, (size_t)-1, NULL);
    cr_expect_str_eq(out, "OK\r\n");
    free(out);
    outq_destroy(&r2);
    mc_session_destroy(&s2);
    dump_fini(&a);
}
