/*
 * test_timing.c: request timing (protocol/timing.[ch]): the log2 buckets and their bounds, quantiles,
 * the slot names, summing workers' blocks, and each protocol's sessions counting their requests in
 * the right slots and handing them to the slow log with their arguments when given a meter.
 */
#include "config.h"

#include <criterion/criterion.h>
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "protocol/mc/mc_parse.h"
#include "protocol/mcbin/mcbin.h"
#include "protocol/proto.h"
#include "protocol/resp/resp.h"
#include "protocol/slowlog.h"
#include "protocol/timing.h"
#include "protocol_test.h"
#include "resp_test.h"

struct bucket_row {
    uint64_t us;
    unsigned bucket;
};

/* Bucket b holds durations in (2^(b-1), 2^b] microseconds; 0 and 1 us go to bucket 0. */
static const struct bucket_row bucket_rows[] = {
    {0, 0},     {1, 0},     {2, 1},      {3, 2},       {4, 2},        {5, 3},
    {8, 3},     {9, 4},     {1000, 10},  {1024, 10},   {1025, 11},    {(1u << 23), 23},
    {(1u << 23) + 1, 24}, {UINT64_MAX / 2, 24}, {UINT64_MAX, 24},
};

Test(timing, buckets)
{
    for (size_t i = 0; i < sizeof(bucket_rows) / sizeof(bucket_rows[0]); i++)
        cr_expect_eq(timing_bucket(bucket_rows[i].us), bucket_rows[i].bucket, "%llu us: bucket %u, not %u",
                     (unsigned long long)bucket_rows[i].us, timing_bucket(bucket_rows[i].us),
                     bucket_rows[i].bucket);
    /* every bucket's upper bound lands in that bucket, one more in the next */
    for (unsigned b = 0; b + 1 < TIMING_BUCKETS; b++) {
        cr_expect_eq(timing_bucket(timing_bucket_le_us(b)), b);
        cr_expect_eq(timing_bucket(timing_bucket_le_us(b) + 1), b + 1);
    }
    cr_expect_eq(timing_bucket_le_us(TIMING_BUCKETS - 1), UINT64_MAX);
}

Test(timing, quantiles)
{
    uint64_t b[TIMING_BUCKETS] = {0};
    cr_expect_eq(timing_quantile_us(b, 0.5), 0, "no requests: 0");
    b[2] = 90; /* 90 requests of 3-4 us */
    b[10] = 9; /* 9 of 513-1024 us */
    b[20] = 1; /* 1 of about a second */
    cr_expect_eq(timing_quantile_us(b, 0.5), 4);
    cr_expect_eq(timing_quantile_us(b, 0.9), 4);
    cr_expect_eq(timing_quantile_us(b, 0.91), 1024);
    cr_expect_eq(timing_quantile_us(b, 0.99), 1024);
    cr_expect_eq(timing_quantile_us(b, 0.999), 1u << 20);
    cr_expect_eq(timing_quantile_us(b, 1.0), 1u << 20);
    memset(b, 0, sizeof(b));
    b[TIMING_BUCKETS - 1] = 1; /* past the last bound: twice it */
    cr_expect_eq(timing_quantile_us(b, 0.5), (uint64_t)1 << 24);
}

Test(timing, slot_names)
{
    enum timing_proto p;
    cr_expect_str_eq(timing_slot_name(TIMING_TEXT_BASE + 1, &p), "get");
    cr_expect_eq(p, TIMING_PROTO_TEXT);
    cr_expect_str_eq(timing_slot_name(TIMING_TEXT_META, &p), "mg");
    cr_expect_str_eq(timing_slot_name(TIMING_TEXT_META + 5, &p), "me");
    cr_expect_null(timing_slot_name(TIMING_TEXT_BASE, &p), "slot 0 counts nothing");
    cr_expect_str_eq(timing_slot_name(TIMING_BINARY_BASE + 0x0c, &p), "getk");
    cr_expect_eq(p, TIMING_PROTO_BINARY);
    cr_expect_null(timing_slot_name(TIMING_BINARY_BASE + 0x1f, &p), "no opcode 0x1f");
    cr_expect_null(timing_slot_name(TIMING_RESP_BASE, &p));
    cr_expect_eq(p, TIMING_PROTO_RESP);
    char name[64];
    cr_assert(resp_command_name(0, name, sizeof(name)));
    cr_expect_str_eq(name, "acl");
    cr_expect(!resp_command_name(TIMING_SLOTS, name, sizeof(name)));
    /* every slot a RESP command uses has a name, subcommands Redis's "container|sub" */
    size_t named = 0, subs = 0;
    for (size_t i = 0; resp_command_name(i, name, sizeof(name)); i++) {
        named++;
        subs += strchr(name, '|') != NULL;
    }
    /* past the slots a subcommand would be counted under its container: every one has its own */
    cr_expect(TIMING_RESP_BASE + named <= TIMING_SLOTS, "%zu RESP names, %d slots", named,
              TIMING_SLOTS - TIMING_RESP_BASE);
    cr_expect_gt(subs, 30, "subcommands have slots of their own (%zu)", subs);
}

/* The chosen clock agrees with CLOCK_MONOTONIC over a sleep of 20 ms (within 10%: the two readings
 * of each clock are not taken at the same instant). */
Test(timing, clock_measures_microseconds)
{
    struct timing_clock c;
    struct timing_meter m = {&c, NULL, NULL, NULL};
    struct timespec pause = {0, 20 * 1000 * 1000};

    timing_clock_init(&c);
    uint64_t ns0 = timing_now_ns(), t0 = timing_now(&m);
    nanosleep(&pause, NULL);
    uint64_t t1 = timing_now(&m), ns1 = timing_now_ns();
    double want = (double)(ns1 - ns0) / 1000.0, got = (double)timing_us(&m, t0, t1);
    cr_expect(got > want * 0.9 && got < want * 1.1, "%.0f us measured, %.0f us passed (tsc %d)", got, want,
              c.tsc);
    cr_expect_eq(timing_us(&m, t1, t0), 0, "a later reading that is less counts 0");
    struct timing_meter plain = {NULL, NULL, NULL, NULL};
    cr_expect_eq(timing_us(&plain, 1000, 5000), 4, "no clock: nanoseconds");
}

Test(timing, hist_add)
{
    struct timing_hist *a = calloc(1, sizeof(*a)), *b = calloc(1, sizeof(*b)), *sum = calloc(1, sizeof(*sum));
    cr_assert(a != NULL && b != NULL && sum != NULL);
    timing_count(a, 5, 3);
    timing_count(a, 5, 3);
    timing_count(b, 5, 1000);
    timing_count(b, TIMING_SLOTS - 1, 7);
    timing_hist_add(sum, a);
    timing_hist_add(sum, b);
    cr_expect_eq(sum->count[5][2], 2);
    cr_expect_eq(sum->count[5][10], 1);
    cr_expect_eq(sum->sum_us[5], 1006);
    cr_expect_eq(sum->count[TIMING_SLOTS - 1][3], 1);
    free(a);
    free(b);
    free(sum);
}

/* timing_end counts the request in its slot, moves the mark to now and asks the slow log's threshold. */
Test(timing, end_counts_and_moves_mark)
{
    struct timing_hist *h = calloc(1, sizeof(*h));
    struct slowlog *log = slowlog_create();
    cr_assert(h != NULL && log != NULL);
    struct timing_meter m = {NULL, h, log, NULL};
    uint64_t mark = timing_now(&m) - 5000000, us = 0; /* 5 ms ago */

    slowlog_set_threshold(log, 1000);
    cr_expect(timing_end(&m, 7, &mark, &us), "5 ms is over a 1 ms threshold");
    cr_expect(us >= 5000 && us < 60000000, "%" PRIu64 " us", us);
    cr_expect_eq(h->count[7][timing_bucket(us)], 1);
    cr_expect_eq(h->sum_us[7], us);
    uint64_t after = timing_now(&m);
    cr_expect(mark <= after && after - mark < 60000000000ull, "the mark moved to now");
    slowlog_set_threshold(log, -1);
    cr_expect_not(timing_end(&m, 7, &mark, &us), "a log turned off wants nothing");
    m.slowlog = NULL;
    cr_expect_not(timing_end(&m, 8, &mark, &us), "no log wants nothing");
    cr_expect_eq(h->count[8][timing_bucket(us)], 1);
    slowlog_destroy(log);
    free(h);
}

/* ---- sessions ---- */

struct recorded {
    size_t n, at;
    char args[8][256]; /* each entry's arguments joined by '|' */
    char proto[8][16], addr[8][32], name[8][32];
};

static void rec_begin(void *arg, size_t count)
{
    ((struct recorded *)arg)->n = count;
}

static void rec_each(void *arg, const struct slowlog_entry *e)
{
    struct recorded *r = arg;
    size_t i = r->at++, len = 0;
    if (i >= 8)
        return;
    for (size_t a = 0; a < e->argc && len + e->lens[a] + 2 < sizeof(r->args[i]); a++) {
        if (a > 0)
            r->args[i][len++] = '|';
        memcpy(r->args[i] + len, e->argv[a], e->lens[a]);
        len += e->lens[a];
    }
    r->args[i][len] = '\0';
    snprintf(r->proto[i], sizeof(r->proto[i]), "%s", e->proto);
    snprintf(r->addr[i], sizeof(r->addr[i]), "%s", e->addr);
    snprintf(r->name[i], sizeof(r->name[i]), "%s", e->name);
}

/* The slow log's entries, newest first. */
static void recorded(struct slowlog *log, struct recorded *r)
{
    memset(r, 0, sizeof(*r));
    slowlog_get(log, -1, rec_begin, rec_each, r);
}

static uint64_t slot_total(const struct timing_hist *h, unsigned slot)
{
    uint64_t n = 0;
    for (unsigned b = 0; b < TIMING_BUCKETS; b++)
        n += h->count[slot][b];
    return n;
}

/* Feeds all of in (again after each PROTO_FLUSH or PROTO_PAUSE, writing the queue out between). */
static void feed_all(const struct proto_ops *ops, void *sess, const char *in, size_t len, struct outq *out)
{
    size_t pos = 0;
    for (int guard = 0; pos < len && guard < 100; guard++) {
        size_t used = 0;
        enum proto_status st = ops->feed(sess, in + pos, len - pos, &used, out);
        pos += used;
        char *junk = drain(out);
        free(junk);
        if (st == PROTO_CLOSE)
            break;
    }
}

struct meter_fixture {
    struct timing_clock clock;
    struct timing_hist *hist;
    struct slowlog *log;
    struct timing_meter m;
};

static void meter_init(struct meter_fixture *f)
{
    f->hist = calloc(1, sizeof(*f->hist));
    f->log = slowlog_create();
    cr_assert(f->hist != NULL && f->log != NULL);
    slowlog_set_threshold(f->log, 0); /* every request */
    timing_clock_init(&f->clock);
    f->m = (struct timing_meter){&f->clock, f->hist, f->log, "127.0.0.1:40000"};
}

static void meter_fini(struct meter_fixture *f)
{
    free(f->hist);
    slowlog_destroy(f->log);
}

Test(timing, text_session)
{
    struct meter_fixture f;
    struct cache *c = pt_cache_create(8u << 20);
    struct mc_context ctx = {.cache = c, .item_size_max = 1 << 20, .use_cas = true, .version = "1"};
    struct mc_stats stats = {0};
    struct outq *out = outq_create(c);
    void *sess = mc_proto_ops.create(&ctx, &stats);
    static const char in[] = "set k 0 0 3\r\nabc\r\nget k nokey\r\n  mg k v\r\nbogus\r\ndelete k\r\n";

    meter_init(&f);
    mc_proto_ops.meter(sess, &f.m);
    feed_all(&mc_proto_ops, sess, in, sizeof(in) - 1, out);
    cr_expect_eq(slot_total(f.hist, TIMING_TEXT_BASE + MC_CMD_SET), 1);
    cr_expect_eq(slot_total(f.hist, TIMING_TEXT_BASE + MC_CMD_GET), 1);
    cr_expect_eq(slot_total(f.hist, TIMING_TEXT_META), 1, "mg");
    cr_expect_eq(slot_total(f.hist, TIMING_TEXT_BASE + MC_CMD_DELETE), 1);
    cr_expect_eq(slot_total(f.hist, 0), 0, "the unknown command is not timed");
    struct recorded r;
    recorded(f.log, &r);
    cr_assert_eq(r.n, 4);
    cr_expect_str_eq(r.args[0], "delete|k");
    cr_expect_str_eq(r.args[1], "mg|k|v");
    cr_expect_str_eq(r.args[2], "get|k|nokey");
    cr_expect_str_eq(r.args[3], "set|k|0|0|3");
    cr_expect_str_eq(r.proto[0], "text");
    cr_expect_str_eq(r.addr[0], "127.0.0.1:40000");

    /* a value that arrives in a later read: the slow log has the command's name only */
    slowlog_reset(f.log);
    static const char part1[] = "set big 0 0 5\r\nab", part2[] = "cde\r\n";
    feed_all(&mc_proto_ops, sess, part1, sizeof(part1) - 1, out);
    feed_all(&mc_proto_ops, sess, part2, sizeof(part2) - 1, out);
    recorded(f.log, &r);
    cr_assert_eq(r.n, 1);
    cr_expect_str_eq(r.args[0], "set");
    cr_expect_eq(slot_total(f.hist, TIMING_TEXT_BASE + MC_CMD_SET), 2);

    /* over the threshold only */
    slowlog_reset(f.log);
    slowlog_set_threshold(f.log, 60 * 1000000);
    feed_all(&mc_proto_ops, sess, "get k\r\n", 7, out);
    cr_expect_eq(slowlog_len(f.log), 0);
    cr_expect_eq(slot_total(f.hist, TIMING_TEXT_BASE + MC_CMD_GET), 2);

    mc_proto_ops.destroy(sess);
    outq_destroy(&out);
    cache_destroy(&c);
    meter_fini(&f);
}

Test(timing, text_session_unmetered)
{
    struct cache *c = pt_cache_create(8u << 20);
    struct mc_context ctx = {.cache = c, .item_size_max = 1 << 20, .use_cas = true, .version = "1"};
    struct mc_stats stats = {0};
    struct outq *out = outq_create(c);
    void *sess = mc_proto_ops.create(&ctx, &stats);
    feed_all(&mc_proto_ops, sess, "get k\r\n", 7, out); /* no meter: nothing to count into, no crash */
    cr_expect_eq(stats.cmd_get, 1);
    mc_proto_ops.destroy(sess);
    outq_destroy(&out);
    cache_destroy(&c);
}

/* A binary request header: opcode, key and value (no extras but a set's 8 bytes). */
static size_t bin_req(unsigned char *p, uint8_t op, const char *key, const char *value)
{
    size_t kl = strlen(key), vl = value != NULL ? strlen(value) : 0, el = op == 0x01 ? 8 : 0;
    memset(p, 0, 24 + el);
    p[0] = 0x80;
    p[1] = op;
    p[2] = (unsigned char)(kl >> 8);
    p[3] = (unsigned char)kl;
    p[4] = (unsigned char)el;
    uint32_t body = (uint32_t)(el + kl + vl);
    p[8] = (unsigned char)(body >> 24);
    p[9] = (unsigned char)(body >> 16);
    p[10] = (unsigned char)(body >> 8);
    p[11] = (unsigned char)body;
    memcpy(p + 24 + el, key, kl);
    if (vl > 0)
        memcpy(p + 24 + el + kl, value, vl);
    return 24 + el + kl + vl;
}

Test(timing, binary_session)
{
    struct meter_fixture f;
    struct cache *c = pt_cache_create(8u << 20);
    struct mc_context ctx = {.cache = c, .item_size_max = 1 << 20, .use_cas = true, .version = "1"};
    struct mc_stats stats = {0};
    struct outq *out = outq_create(c);
    void *sess = mcbin_proto_ops.create(&ctx, &stats);
    unsigned char in[256];
    size_t n = bin_req(in, 0x01, "bk", "val");
    n += bin_req(in + n, 0x0c, "bk", NULL);
    n += bin_req(in + n, 0x0a, "", NULL);

    meter_init(&f);
    mcbin_proto_ops.meter(sess, &f.m);
    feed_all(&mcbin_proto_ops, sess, (const char *)in, n, out);
    cr_expect_eq(slot_total(f.hist, TIMING_BINARY_BASE + 0x01), 1, "set");
    cr_expect_eq(slot_total(f.hist, TIMING_BINARY_BASE + 0x0c), 1, "getk");
    cr_expect_eq(slot_total(f.hist, TIMING_BINARY_BASE + 0x0a), 1, "noop");
    struct recorded r;
    recorded(f.log, &r);
    cr_assert_eq(r.n, 3);
    cr_expect_str_eq(r.args[0], "noop");
    cr_expect_str_eq(r.args[1], "getk|bk");
    cr_expect_str_eq(r.args[2], "set|bk");
    cr_expect_str_eq(r.proto[0], "binary");
    mcbin_proto_ops.destroy(sess);
    outq_destroy(&out);
    cache_destroy(&c);
    meter_fini(&f);
}

Test(timing, resp_session)
{
    struct meter_fixture f;
    struct rt *t = rt_new();
    meter_init(&f);
    resp_proto_ops.meter(S(t), &f.m);
    char *r1 = cmd(t, "SET", "k", "v", NULL), *r2 = cmd(t, "CLIENT", "SETNAME", "app", NULL),
         *r3 = cmd(t, "GET", "k", NULL), *r4 = cmd(t, "NOSUCH", NULL);
    free(r1);
    free(r2);
    free(r3);
    free(r4);
    r1 = cmd(t, "MULTI", NULL);
    r2 = cmd(t, "GET", "k", NULL);
    r3 = cmd(t, "EXEC", NULL);
    free(r1);
    free(r2);
    free(r3);
    size_t set = 0, get = 0, setname = 0, exec = 0;
    char name[64];
    for (size_t i = 0; resp_command_name(i, name, sizeof(name)); i++) {
        if (strcmp(name, "set") == 0)
            set = i;
        else if (strcmp(name, "get") == 0)
            get = i;
        else if (strcmp(name, "client|setname") == 0)
            setname = i;
        else if (strcmp(name, "exec") == 0)
            exec = i;
    }
    cr_expect_eq(slot_total(f.hist, TIMING_RESP_BASE + set), 1);
    cr_expect_eq(slot_total(f.hist, TIMING_RESP_BASE + get), 2, "the GET inside EXEC counts as a GET too");
    cr_expect_eq(slot_total(f.hist, TIMING_RESP_BASE + setname), 1,
                 "CLIENT SETNAME counts as client|setname");
    cr_expect_eq(slot_total(f.hist, TIMING_RESP_BASE + exec), 1);
    struct recorded r;
    recorded(f.log, &r);
    /* SET, CLIENT SETNAME, GET, MULTI, and EXEC's GET (not the unknown command, the queueing or EXEC) */
    cr_assert_eq(r.n, 5);
    cr_expect_str_eq(r.args[0], "GET|k");
    cr_expect_str_eq(r.args[1], "MULTI");
    cr_expect_str_eq(r.args[2], "GET|k");
    cr_expect_str_eq(r.name[2], "app", "the client's name");
    cr_expect_str_eq(r.args[4], "SET|k|v");
    cr_expect_str_eq(r.proto[4], "resp");
    rt_free(t);
    meter_fini(&f);
}
