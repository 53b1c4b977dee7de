/*
 * test_admin.c: memcached's administrative commands through a session (expected bytes measured on
 * memcached 1.6.18): stats detail with per-prefix counting, cache_memlimit, slabs automove and
 * reassign, and the answers for lru_crawler, lru and watch, including noreply and token-count rules.
 */
#include "protocol_test.h"

#define S(x) x, sizeof(x) - 1

/* Runs in through a session whose context has shared admin state; returns the output. */
static char *admin_run(const char *in, size_t n, struct mc_shared **keep)
{
    struct pt_run t;
    pt_run_init(&t, 16u << 20);
    t.ctx.shared = mc_shared_create(':');
    cr_assert_not_null(t.ctx.shared);
    pt_feed(&t, in, n, n);
    char *out = pt_drain(t.r, (size_t)-1, NULL);
    if (keep != NULL)
        *keep = t.ctx.shared;
    else
        mc_shared_destroy(&t.ctx.shared);
    pt_run_fini(&t);
    return out;
}

static void expect(const char *in, size_t n, const char *want)
{
    char *out = admin_run(in, n, NULL);
    cr_expect_str_eq(out, want, "input \"%.*s\"", (int)n, in);
    free(out);
}

Test(admin, stats_detail_usage_and_switch)
{
    expect(S("stats detail on\r\nstats detail off\r\nstats detail\r\nstats detail bogus\r\n"
             "stats detail on extra\r\nstats detail dump\r\n"),
           "OK\r\nOK\r\nCLIENT_ERROR usage: stats detail on|off|dump\r\n"
           "CLIENT_ERROR usage: stats detail on|off|dump\r\nOK\r\nEND\r\n");
}

Test(admin, stats_detail_counts_prefixes_only_while_on)
{
    expect(S("set a:0 0 0 1\r\n1\r\nstats detail on\r\nset a:b 0 0 1\r\n1\r\nget a:b a:c nopfx\r\n"
             "delete a:b\r\nincr a:x 1\r\nstats detail off\r\nget a:b\r\nstats detail dump\r\n"),
           "STORED\r\nOK\r\nSTORED\r\nVALUE a:b 0 1\r\n1\r\nEND\r\nDELETED\r\nNOT_FOUND\r\nOK\r\nEND\r\n"
           "PREFIX a get 2 hit 1 set 1 del 1\r\nEND\r\n");
}

Test(admin, stats_detail_reset_clears)
{
    struct mc_shared *sh = NULL;
    char *out = admin_run(S("stats detail on\r\nset p:1 0 0 1\r\n1\r\n"), &sh);
    free(out);
    cr_assert(mc_detail_enabled(sh));
    mc_detail_reset(sh);
    mc_shared_destroy(&sh);
    cr_assert_null(sh);
}

Test(admin, cache_memlimit)
{
    expect(S("cache_memlimit 100\r\ncache_memlimit\r\ncache_memlimit abc\r\ncache_memlimit 7\r\n"
             "cache_memlimit 4294967296\r\ncache_memlimit 1000000001\r\ncache_memlimit 100 x\r\n"
             "cache_memlimit 1 2 3\r\ncache_memlimit 9 noreply\r\ncache_memlimit abc noreply\r\n"
             "cache_memlimit 40000\r\n"),
           "OK\r\nERROR\r\nERROR\r\nMEMLIMIT_TOO_SMALL cannot set maxbytes to less than 8m\r\n"
           "MEMLIMIT_TOO_SMALL cannot set maxbytes to less than 8m\r\n"
           "MEMLIMIT_ADJUST_FAILED input value is megabytes not bytes\r\nOK\r\nERROR\r\n"
           "MEMLIMIT_ADJUST_FAILED out of bounds or unable to adjust\r\n");
}

Test(admin, slabs_automove_and_reassign_forms)
{
    expect(S("slabs\r\nslabs automove\r\nslabs automove 0\r\nslabs automove 3\r\nslabs automove -1\r\n"
             "slabs automove 1 2\r\nslabs automove 3 noreply\r\nslabs reassign 1\r\nslabs reassign 1 1\r\n"
             "slabs reassign 1 2\r\nslabs reassign -1 2\r\nslabs reassign 1 999\r\nslabs reassign x y\r\n"
             "slabs reassign 1 2 noreply\r\nslabs reassign 1 noreply\r\n"),
           "ERROR\r\nERROR\r\nOK\r\nERROR\r\nCLIENT_ERROR bad command line format\r\nOK\r\nERROR\r\n"
           "SAME src and dst class are identical\r\nNOSPARE source class has no spare pages\r\n"
           "BADCLASS invalid src or dst class id\r\nBADCLASS invalid src or dst class id\r\n"
           "CLIENT_ERROR bad command line format\r\nERROR\r\nCLIENT_ERROR bad command line format\r\n");
}

Test(admin, absent_machinery)
{
    expect(S("lru_crawler\r\nlru_crawler bogus\r\nlru_crawler enable\r\nlru_crawler disable\r\n"
             "lru_crawler crawl 1\r\nlru_crawler metadump all\r\nlru_crawler sleep 2000000\r\n"
             "lru_crawler sleep 50\r\nlru_crawler tocrawl x\r\nlru_crawler crawl 1 noreply\r\n"
             "lru mode flat\r\nlru noreply\r\nwatch\r\nwatch noreply\r\nmisbehave\r\n"),
           "ERROR\r\nERROR\r\nERROR failed to start lru crawler thread\r\nOK\r\n"
           "CLIENT_ERROR lru crawler disabled\r\nCLIENT_ERROR lru crawler disabled\r\n"
           "CLIENT_ERROR sleep must be one second or less\r\nOK\r\nCLIENT_ERROR bad command line format\r\n"
           "ERROR\r\nERROR\r\nERROR\r\nERROR\r\n");
}

/* Runs in with -F (flush) and/or --disable-admin-commands (admin) set in the context. */
static char *admin_run_flags(const char *in, size_t n, bool flush_disabled, bool admin_disabled,
                             uint64_t *flushes)
{
    struct pt_run t;
    pt_run_init(&t, 16u << 20);
    t.ctx.shared = mc_shared_create(':');
    t.ctx.flush_disabled = flush_disabled;
    t.ctx.admin_disabled = admin_disabled;
    pt_feed(&t, in, n, n);
    char *out = pt_drain(t.r, (size_t)-1, NULL);
    if (flushes != NULL)
        *flushes = t.stats.cmd_flush;
    mc_shared_destroy(&t.ctx.shared);
    pt_run_fini(&t);
    return out;
}

Test(admin, lru_crawler_switch_and_crawl_as_memcached)
{
    /* The crawler starts on (enable fails as in memcached); crawl checks its class list; disable turns
     * crawl and metadump into "lru crawler disabled"; metadump of the empty cache is its END alone. */
    struct mc_shared *sh = NULL;
    char *out = admin_run(S("lru_crawler enable\r\nlru_crawler metadump all\r\nlru_crawler crawl 0\r\n"
                            "lru_crawler crawl 64\r\nlru_crawler crawl 1,x\r\nlru_crawler crawl hash\r\n"
                            "lru_crawler crawl 1,,63\r\nlru_crawler crawl all\r\nlru_crawler disable\r\n"
                            "lru_crawler crawl all\r\nlru_crawler metadump all\r\nlru_crawler enable\r\n"
                            "lru_crawler crawl all\r\n"),
                          &sh);
    cr_expect_str_eq(
        out, "ERROR failed to start lru crawler thread\r\nEND\r\n"
             "BADCLASS invalid class id\r\nBADCLASS invalid class id\r\nBADCLASS invalid class id\r\n"
             "ERROR an unknown error happened\r\nOK\r\n"
             "BUSY currently processing crawler request\r\nOK\r\n"
             "CLIENT_ERROR lru crawler disabled\r\nCLIENT_ERROR lru crawler disabled\r\nOK\r\nOK\r\n");
    cr_expect(mc_crawler_enabled(sh));
    free(out);
    mc_shared_destroy(&sh);
}

Test(admin, lru_crawler_crawl_is_one_bounded_pass)
{
    /* A crawl asks for one pass over the items there are (plus one), at most tocrawl; the server
     * takes it in batches; until it has all been taken another crawl is BUSY. */
    struct pt_run t;
    pt_run_init(&t, 16u << 20);
    t.ctx.shared = mc_shared_create(':');
    const char in[] = "set a 0 0 1\r\n1\r\nset b 0 0 1\r\n1\r\nset c 0 0 1\r\n1\r\nlru_crawler crawl all\r\n"
                      "lru_crawler crawl all\r\n";
    pt_feed(&t, in, sizeof(in) - 1, sizeof(in) - 1);
    char *out = pt_drain(t.r, (size_t)-1, NULL);
    cr_expect_str_eq(out, "STORED\r\nSTORED\r\nSTORED\r\nOK\r\nBUSY currently processing crawler request\r\n");
    free(out);
    cr_expect_eq(mc_crawler_take(t.ctx.shared, 3), 3);
    cr_expect_eq(mc_crawler_take(t.ctx.shared, 3), 1);
    cr_expect_eq(mc_crawler_take(t.ctx.shared, 3), 0);
    const char in2[] = "lru_crawler tocrawl 2\r\nlru_crawler crawl 1\r\n";
    pt_feed(&t, in2, sizeof(in2) - 1, sizeof(in2) - 1);
    out = pt_drain(t.r, (size_t)-1, NULL);
    cr_expect_str_eq(out, "OK\r\nOK\r\n");
    free(out);
    cr_expect_eq(mc_crawler_take(t.ctx.shared, 100), 2);
    /* disable drops what is left of a crawl */
    const char in3[] = "lru_crawler crawl all\r\nlru_crawler disable\r\n";
    pt_feed(&t, in3, sizeof(in3) - 1, sizeof(in3) - 1);
    free(pt_drain(t.r, (size_t)-1, NULL));
    cr_expect_eq(mc_crawler_take(t.ctx.shared, 100), 0);
    mc_shared_destroy(&t.ctx.shared);
    pt_run_fini(&t);
}

Test(admin, stats_detail_table_is_capped)
{
    /* 10,005 distinct prefixes: 10,000 are tracked, 5 dropped and reported; known prefixes still
     * count once the table is full. */
    struct pt_run t;
    pt_run_init(&t, 64u << 20);
    t.ctx.shared = mc_shared_create(':');
    mc_detail_set(t.ctx.shared, true);
    char line[64];
    for (unsigned i = 0; i < MC_DETAIL_MAX_PREFIXES + 5; i++) {
        int n = snprintf(line, sizeof(line), "delete p%u:k\r\n", i);
        pt_feed(&t, line, (size_t)n, (size_t)n);
    }
    free(pt_drain(t.r, (size_t)-1, NULL));
    size_t prefixes;
    uint64_t dropped;
    mc_detail_counts(t.ctx.shared, &prefixes, &dropped);
    cr_expect_eq(prefixes, MC_DETAIL_MAX_PREFIXES);
    cr_expect_eq(dropped, 5);
    const char in[] = "delete p0:x\r\nstats detail dump\r\n";
    pt_feed(&t, in, sizeof(in) - 1, sizeof(in) - 1);
    size_t len = 0;
    char *out = pt_drain(t.r, (size_t)-1, &len);
    size_t lines = 0;
    for (const char *p = out; (p = strstr(p, "PREFIX ")) != NULL; p++)
        lines++;
    cr_expect_eq(lines, MC_DETAIL_MAX_PREFIXES);
    cr_expect(strstr(out, "PREFIX p0 get 0 hit 0 set 0 del 2\r\n") != NULL);
    cr_expect(strstr(out, "PREFIXES_DROPPED 5 limit 10000\r\nEND\r\n") != NULL, "tail: %s", out + len - 60);
    free(out);
    mc_detail_reset(t.ctx.shared);
    mc_detail_counts(t.ctx.shared, &prefixes, &dropped);
    cr_expect_eq(prefixes + dropped, 0);
    mc_shared_destroy(&t.ctx.shared);
    pt_run_fini(&t);
}

Test(admin, slabs_reassign_rate_is_bounded)
{
    /* At most 10 reassigns a second server-wide (the unit test's clock stands still): the 11th is
     * BUSY, memcached's answer while a move runs. */
    char in[512] = "";
    for (int i = 0; i < 11; i++)
        strcat(in, "slabs reassign 1 2\r\n");
    char *out = admin_run(in, strlen(in), NULL);
    char want[1024] = "";
    for (int i = 0; i < 10; i++)
        strcat(want, "NOSPARE source class has no spare pages\r\n");
    strcat(want, "BUSY currently processing reassign request\r\n");
    cr_expect_str_eq(out, want);
    free(out);
}

Test(admin, flush_all_disabled_as_memcached_F)
{
    /* memcached -F: refused before the arguments are read, counted, noreply honoured. */
    uint64_t flushes = 0;
    char *out = admin_run_flags(S("flush_all\r\nflush_all 10\r\nflush_all abc\r\nflush_all noreply\r\n"
                                  "flush_all 1 2 3\r\nverbosity 1\r\n"),
                                true, false, &flushes);
    cr_expect_str_eq(out, "CLIENT_ERROR flush_all not allowed\r\nCLIENT_ERROR flush_all not allowed\r\n"
                          "CLIENT_ERROR flush_all not allowed\r\nERROR\r\nOK\r\n");
    cr_expect_eq(flushes, 4);
    free(out);
}

Test(admin, disable_admin_commands_refuses_server_wide_ones)
{
    char *out = admin_run_flags(
        S("flush_all\r\ncache_memlimit 100\r\ncache_memlimit 100 noreply\r\nslabs automove 1\r\n"
          "slabs reassign 1 2\r\nlru_crawler crawl all\r\nlru mode flat\r\nwatch\r\nverbosity 1\r\n"
          "verbosity 1 noreply\r\nstats detail on\r\nstats detail dump\r\nstats reset\r\nstats slowlog "
          "reset\r\n"
          "snapshot\r\nshutdown\r\nset a:b 0 0 1\r\n1\r\nget a:b\r\nversion\r\n"),
        false, true, NULL);
    cr_expect_str_eq(
        out, "CLIENT_ERROR flush_all not allowed\r\nCLIENT_ERROR cache_memlimit not allowed\r\n"
             "CLIENT_ERROR slabs not allowed\r\nCLIENT_ERROR slabs not allowed\r\n"
             "CLIENT_ERROR lru_crawler not allowed\r\nCLIENT_ERROR lru not allowed\r\n"
             "CLIENT_ERROR watch not allowed\r\nCLIENT_ERROR verbosity not allowed\r\n"
             "CLIENT_ERROR stats detail not allowed\r\nCLIENT_ERROR stats detail not allowed\r\n"
             "CLIENT_ERROR stats reset not allowed\r\nCLIENT_ERROR stats slowlog reset not allowed\r\n"
             "CLIENT_ERROR snapshot not allowed\r\n"
             "ERROR: shutdown not enabled\r\nSTORED\r\nVALUE a:b 0 1\r\n1\r\nEND\r\n"
             "VERSION 1.6.18\r\n");
    free(out);
}
