/*
 * test_mc_slowlog.c: `stats slowlog` (protocol/mc/mc_slowlog.h): the summary lines, one line per entry
 * newest first with every value URL-encoded and the arguments joined by '+', and `stats slowlog
 * reset`, over a slow log filled directly with slowlog_add().
 */
#include "protocol_test.h"

#include "protocol/mc/mc_slowlog.h"
#include "protocol/slowlog.h"

/* The reply to `stats <words>` with every "time=<digits>" replaced by "time=T". */
static char *answer(struct slowlog *log, const char *words, enum mc_stats_result *res)
{
    struct cache *c = pt_cache_create(4u << 20);
    struct outq *q = outq_create(c);
    char buf[128], *argv[8];
    int argc = 0;
    snprintf(buf, sizeof(buf), "%s", words);
    for (char *save = NULL, *w = strtok_r(buf, " ", &save); w != NULL && argc < 8;
         w = strtok_r(NULL, " ", &save))
        argv[argc++] = w;
    *res = mc_slowlog_stats(log, argc, argv, q);
    char *out = pt_drain(q, (size_t)-1, NULL);
    outq_destroy(&q);
    cache_destroy(&c);
    for (char *p = out; (p = strstr(p, " time=")) != NULL;) {
        p += 6;
        size_t digits = strspn(p, "0123456789");
        cr_assert_gt(digits, 0);
        memmove(p + 1, p + digits, strlen(p + digits) + 1);
        *p = 'T';
    }
    return out;
}

static void add(struct slowlog *log, uint64_t us, size_t argc, const char *const *argv, const size_t *lens,
                const char *proto, const char *addr, const char *name)
{
    slowlog_add(log, us, argc, argv, lens, proto, addr, name);
}

Test(mc_slowlog, listing)
{
    struct slowlog *log = slowlog_create();
    enum mc_stats_result res;
    char *out = answer(log, "slowlog", &res);
    cr_expect_eq(res, MC_STATS_END);
    cr_expect_str_eq(
        out, "STAT slowlog_len 0\r\nSTAT slowlog_log_slower_than 10000\r\nSTAT slowlog_max_len 128\r\n");
    free(out);

    const char *set[] = {"set", "a b+c", "0", "0", "3"};
    const size_t set_lens[] = {3, 5, 1, 1, 1};
    add(log, 20000, 5, set, set_lens, "text", "127.0.0.1:4000", NULL);
    const char *bin[] = {"GET", "k\0\r\n"};
    const size_t bin_lens[] = {3, 4};
    add(log, 7, 2, bin, bin_lens, "binary", "[::1]:5", "");
    const char *empty[] = {"PING", ""};
    const size_t empty_lens[] = {4, 0};
    add(log, 1, 2, empty, empty_lens, "resp", "127.0.0.1:6000", "my-app");
    add(log, 2, 0, NULL, NULL, "resp", "/tmp/a sock", "");
    slowlog_set_threshold(log, -1);
    slowlog_set_max_len(log, 10);

    out = answer(log, "slowlog extra words", &res);
    cr_expect_eq(res, MC_STATS_END);
    cr_expect_str_eq(
        out, "STAT slowlog_len 4\r\n"
             "STAT slowlog_log_slower_than -1\r\n"
             "STAT slowlog_max_len 10\r\n"
             "STAT slowlog:3 time=T duration_us=2 proto=resp addr=%2Ftmp%2Fa%20sock name= argc=0 args=\r\n"
             "STAT slowlog:2 time=T duration_us=1 proto=resp addr=127.0.0.1%3A6000 name=my-app argc=2 "
             "args=PING+\r\n"
             "STAT slowlog:1 time=T duration_us=7 proto=binary addr=%5B%3A%3A1%5D%3A5 name= argc=2 "
             "args=GET+k%00%0D%0A\r\n"
             "STAT slowlog:0 time=T duration_us=20000 proto=text addr=127.0.0.1%3A4000 name= argc=5 "
             "args=set+a%20b%2Bc+0+0+3\r\n");
    free(out);

    out = answer(log, "slowlog reset", &res);
    cr_expect_eq(res, MC_STATS_DONE);
    cr_expect_str_eq(out, "RESET\r\n");
    free(out);
    out = answer(log, "slowlog", &res);
    cr_expect(strncmp(out, "STAT slowlog_len 0\r\n", 20) == 0, "%s", out);
    cr_expect_null(strstr(out, "STAT slowlog:"));
    free(out);
    slowlog_destroy(log);
}

Test(mc_slowlog, cut_arguments_encoded)
{
    struct slowlog *log = slowlog_create();
    enum mc_stats_result res;
    char big[300];
    memset(big, 'v', sizeof(big));
    const char *argv[] = {"set", big};
    const size_t lens[] = {3, sizeof(big)};
    add(log, 1, 2, argv, lens, "text", "a", "");
    char *out = answer(log, "slowlog", &res);
    char want[512];
    snprintf(want, sizeof(want), " argc=2 args=set+%.128s...%%20%%28172%%20more%%20bytes%%29\r\n", big);
    cr_expect(strstr(out, want) != NULL, "%s", out);
    free(out);
    slowlog_destroy(log);
}

Test(mc_slowlog, no_log)
{
    enum mc_stats_result res;
    char *out = answer(NULL, "slowlog", &res);
    cr_expect_eq(res, MC_STATS_END);
    cr_expect_str_eq(out,
                     "STAT slowlog_len 0\r\nSTAT slowlog_log_slower_than -1\r\nSTAT slowlog_max_len 0\r\n");
    free(out);
    out = answer(NULL, "slowlog reset", &res);
    cr_expect_eq(res, MC_STATS_DONE);
    cr_expect_str_eq(out, "RESET\r\n");
    free(out);
}
