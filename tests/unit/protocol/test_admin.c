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
