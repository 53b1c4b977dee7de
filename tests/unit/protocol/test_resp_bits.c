/*
 * test_resp_bits.c: the bitmap commands, LCS, DUMP/RESTORE and CLIENT REPLY through the RESP session
 * against a real cache (resp_test.h): replies checked against redis-server 7.0.15 fed the same
 * requests (the wider side-by-side cases are tests/resp/cases/bits.txt, lcs.txt and dump.txt), and
 * what the corpus cannot see: no write leaves an item reference or a chunk behind, the expiry a write
 * keeps or drops, a BITOP inside EXEC, RESTORE's IDLETIME without a FLUSHALL before it, and CLIENT
 * REPLY's withheld replies still counted.
 */
#include "resp_test.h"

/* Every used chunk is a linked item: no command kept a reference to an item it replaced or stored. */
static void expect_no_chunk_lost(struct rt *t)
{
    struct cache_stats cs;
    uint64_t linked = 0;
    cache_stats_get(t->cache, &cs);
    for (unsigned id = 1; id <= cache_class_count(t->cache); id++) {
        struct cache_class_stats k;
        cache_class_stats_get(t->cache, id, &k);
        cr_expect_eq(k.used_chunks, k.number, "class %u: %lu chunks used, %lu items linked", id,
                     (unsigned long)k.used_chunks, (unsigned long)k.number);
        linked += k.number;
    }
    cr_expect_eq(linked, cs.curr_items);
}

Test(resp_bits, setbit_and_reads)
{
    struct rt *t = rt_new();
    EXPECT(t, ":0\r\n", "SETBIT", "k", "7", "1");
    EXPECT(t, ":1\r\n", "SETBIT", "k", "7", "1");
    EXPECT(t, "$1\r\n\x01\r\n", "GET", "k");
    EXPECT(t, ":0\r\n", "SETBIT", "k", "23", "1");
    EXPECT(t, ":3\r\n", "STRLEN", "k");
    EXPECT(t, ":1\r\n", "GETBIT", "k", "23");
    EXPECT(t, ":2\r\n", "BITCOUNT", "k");
    EXPECT(t, ":1\r\n", "BITCOUNT", "k", "8", "-1", "BIT");
    EXPECT(t, ":7\r\n", "BITPOS", "k", "1");
    EXPECT(t, ":23\r\n", "BITPOS", "k", "1", "1");
    EXPECT(t, ":0\r\n", "BITPOS", "k", "0");
    EXPECT(t, "-ERR bit offset is not an integer or out of range\r\n", "SETBIT", "k", "8388608", "1");
    EXPECT(t, "-ERR bit is not an integer or out of range\r\n", "SETBIT", "k", "1", "2");
    EXPECT(t, "-ERR The bit argument must be 1 or 0.\r\n", "BITPOS", "k", "2");
    /* the value would fit the size limit but not an item with its key: the string-size error */
    EXPECT(t, "-ERR string exceeds maximum allowed size (proto-max-bulk-len)\r\n", "SETBIT", "k", "8388607",
           "1");
    EXPECT(t, ":3\r\n", "STRLEN", "k");
    expect_no_chunk_lost(t);
    rt_free(t);
}

Test(resp_bits, writes_keep_the_expiry_bitop_drops_it)
{
    struct rt *t = rt_new();
    EXPECT(t, "+OK\r\n", "SET", "k", "a", "EX", "100");
    EXPECT(t, ":0\r\n", "SETBIT", "k", "6", "1");
    EXPECT(t, "*1\r\n:9\r\n", "BITFIELD", "k", "INCRBY", "u8", "0", "-90");
    EXPECT(t, ":100\r\n", "TTL", "k");
    EXPECT(t, ":1\r\n", "BITOP", "NOT", "k", "k");
    EXPECT(t, ":-1\r\n", "TTL", "k");
    EXPECT(t, "$1\r\n\xf6\r\n", "GET", "k");
    expect_no_chunk_lost(t);
    rt_free(t);
}

Test(resp_bits, bitop_stores_and_deletes_without_leaking)
{
    struct rt *t = rt_new();
    put(t, "a", "\xf0\x0f");
    put(t, "b", "\xff");
    for (int i = 0; i < 200; i++) { /* each replaces the last result */
        EXPECT(t, ":2\r\n", "BITOP", "XOR", "d", "a", "b");
        EXPECT(t, ":2\r\n", "BITOP", "AND", "a", "a", "a");
    }
    EXPECT(t, "$2\r\n\x0f\x0f\r\n", "GET", "d");
    EXPECT(t, ":0\r\n", "BITOP", "OR", "d", "nosuch");
    EXPECT(t, ":0\r\n", "EXISTS", "d");
    EXPECT(t, "+OK\r\n", "MULTI");
    EXPECT(t, "+QUEUED\r\n", "BITOP", "OR", "d", "a", "b");
    EXPECT(t, "+QUEUED\r\n", "BITCOUNT", "d");
    EXPECT(t, "*2\r\n:2\r\n:12\r\n", "EXEC");
    expect_no_chunk_lost(t);
    rt_free(t);
}

Test(resp_bits, bitfield_overflow_and_read_only)
{
    struct rt *t = rt_new();
    EXPECT(t, "*4\r\n:1\r\n:1\r\n:2\r\n:2\r\n", "BITFIELD", "c", "INCRBY", "u2", "100", "1", "OVERFLOW",
           "SAT", "INCRBY", "u2", "102", "1", "INCRBY", "u2", "100", "1", "INCRBY", "u2", "102", "1");
    EXPECT(t, "*2\r\n$-1\r\n:2\r\n", "BITFIELD", "c", "OVERFLOW", "FAIL", "INCRBY", "u2", "100", "5", "GET",
           "u2", "100");
    EXPECT(t, "*1\r\n:2\r\n", "BITFIELD_RO", "c", "GET", "u2", "100");
    EXPECT(t, "-ERR BITFIELD_RO only supports the GET subcommand\r\n", "BITFIELD_RO", "c", "SET", "u2", "0",
           "1");
    S(t)->proto = 3;
    EXPECT(t, "*1\r\n_\r\n", "BITFIELD", "c", "OVERFLOW", "FAIL", "SET", "i4", "0", "100");
    expect_no_chunk_lost(t);
    rt_free(t);
}

Test(resp_bits, lcs)
{
    struct rt *t = rt_new();
    put(t, "a", "ohmytext");
    put(t, "b", "mynewtext");
    EXPECT(t, "$6\r\nmytext\r\n", "LCS", "a", "b");
    EXPECT(t, ":6\r\n", "LCS", "a", "b", "LEN");
    EXPECT(t,
           "*4\r\n$7\r\nmatches\r\n*1\r\n*3\r\n*2\r\n:4\r\n:7\r\n*2\r\n:5\r\n:8\r\n:4\r\n$3\r\nlen\r\n:6\r\n",
           "LCS", "a", "b", "IDX", "MINMATCHLEN", "4", "WITHMATCHLEN");
    S(t)->proto = 3;
    EXPECT(t, "%2\r\n$7\r\nmatches\r\n*0\r\n$3\r\nlen\r\n:6\r\n", "LCS", "a", "b", "IDX", "MINMATCHLEN",
           "10");
    /* a 600 x 600 table is 1.4 MB, past proto-max-bulk-len (the item size limit, 1 MiB here) */
    char *big = malloc(601);
    memset(big, 'x', 600);
    big[600] = '\0';
    put(t, "x", big);
    free(big);
    EXPECT(t, "-ERR Insufficient memory, transient memory for LCS exceeds proto-max-bulk-len\r\n", "LCS", "x",
           "x");
    EXPECT(t, ":0\r\n", "LCS", "x", "nosuch", "LEN");
    rt_free(t);
}

Test(resp_bits, client_reply_off_and_skip)
{
    struct rt *t = rt_new();
    EXPECT(t, "", "CLIENT", "REPLY", "OFF");
    EXPECT(t, "", "SET", "k", "1");
    EXPECT(t, "", "INCR", "k");
    EXPECT(t, "", "NOSUCH");
    EXPECT(t, "", "CLIENT", "REPLY", "SKIP");
    EXPECT(t, "+OK\r\n", "CLIENT", "REPLY", "ON");
    EXPECT(t, "$1\r\n2\r\n", "GET", "k");
    EXPECT(t, "", "CLIENT", "REPLY", "SKIP");
    EXPECT(t, "", "GET", "k");
    EXPECT(t, "$1\r\n2\r\n", "GET", "k");
    EXPECT(t, "", "CLIENT", "REPLY", "OFF");
    EXPECT(t, "+RESET\r\n", "RESET");
    EXPECT(t, "+PONG\r\n", "PING");
    cr_expect_geq(t->stats.errors, 1, "the unknown command's error was counted while withheld");
    expect_no_chunk_lost(t);
    rt_free(t);
}

/* RESTORE key 0 payload[0..n) [IDLETIME idle]: the reply. */
static char *restore(struct rt *t, const char *key, const char *payload, size_t n, const char *idle)
{
    char *req = malloc(n + 256);
    cr_assert_not_null(req);
    int len = sprintf(req, "*%d\r\n$7\r\nRESTORE\r\n$%zu\r\n%s\r\n$1\r\n0\r\n$%zu\r\n", idle ? 6 : 4,
                      strlen(key), key, n);
    memcpy(req + len, payload, n);
    len += (int)n;
    if (idle != NULL)
        len += sprintf(req + len, "\r\n$8\r\nIDLETIME\r\n$%zu\r\n%s", strlen(idle), idle);
    len += sprintf(req + len, "\r\n");
    feed_to(t, S(t), req, (size_t)len);
    free(req);
    return drain(t->out);
}

/* DUMP then RESTORE under another key gives the same bytes back (a compressed payload here); IDLETIME
 * sets the access time back (no FLUSHALL here to cut it short); BUSYKEY and a bad payload. */
Test(resp_bits, dump_restore)
{
    static const char value[] = "the-quick-brown-fox-the-quick-brown-fox-the-quick-brown-fox";
    struct rt *t = rt_new();
    put(t, "a", value);
    size_t dn;
    char *dump = cmd(t, "DUMP", "a", NULL);
    cr_assert(starts(dump, "$"));
    size_t n = strtoul(dump + 1, NULL, 10);
    cr_assert_lt(n, sizeof(value) - 1, "compressed: %zu bytes", n);
    const char *payload = strstr(dump, "\r\n") + 2;
    char *got = restore(t, "b", payload, n, "400");
    cr_expect_str_eq(got, "+OK\r\n");
    free(got);
    EXPECT(t, ":400\r\n", "OBJECT", "IDLETIME", "b");
    got = restore(t, "b", payload, n, NULL);
    cr_expect_str_eq(got, "-BUSYKEY Target key name already exists.\r\n");
    free(got);
    EXPECT(t, "$59\r\nthe-quick-brown-fox-the-quick-brown-fox-the-quick-brown-fox\r\n", "GET", "b");
    char *again = cmd(t, "DUMP", "b", NULL); /* holds NUL bytes: compared by the reply's length */
    dn = (size_t)(payload - dump) + n + 2;
    cr_expect(memcmp(again, dump, dn) == 0, "the same payload");
    free(again);
    free(dump);
    EXPECT(t, "-ERR DUMP payload version or checksum are wrong\r\n", "RESTORE", "c", "0", "x");
    EXPECT(t, "$-1\r\n", "DUMP", "c");
    expect_no_chunk_lost(t);
    rt_free(t);
}
