/*
 * test_session.c: the text protocol session against a real cache: every command and reply form
 * (expected bytes measured on memcached 1.6.18), the same stream fed whole, byte by byte and split at
 * every offset, pipelining, refused values swallowed across feeds, bad data chunks, quit, shutdown,
 * the value window, line limits and the counters.
 */
#include "protocol_test.h"

#include "protocol/mc/mc_internal.h"
#include "protocol/mc/mc_parse.h"

#define S(x) x, sizeof(x) - 1

struct exchange {
    const char *in;
    size_t n;
    const char *out;
    enum proto_status st;
};

#define X(i, o)                                                                                              \
    {                                                                                                        \
        S(i), o, PROTO_OK                                                                                    \
    }
#define XC(i, o)                                                                                             \
    {                                                                                                        \
        S(i), o, PROTO_CLOSE                                                                                 \
    }

static const struct exchange exchanges[] = {
    /* storage and retrieval */
    X("set a 0 0 1\r\nx\r\nget a\r\n", "STORED\r\nVALUE a 0 1\r\nx\r\nEND\r\n"),
    X("set  a 0 0 1\r\nx\r\nget  a \r\n", "STORED\r\nVALUE a 0 1\r\nx\r\nEND\r\n"),
    X("set a 5 0 3\nabc\r\nget a\n", "STORED\r\nVALUE a 5 3\r\nabc\r\nEND\r\n"),
    X("set a 0 0 0\r\n\r\nget a\r\n", "STORED\r\nVALUE a 0 0\r\n\r\nEND\r\n"),
    X("set a 4294967297 0 1\r\nx\r\nget a\r\n", "STORED\r\nVALUE a 1 1\r\nx\r\nEND\r\n"),
    X("set a 0 0 4294967297\r\nx\r\nget a\r\n", "STORED\r\nVALUE a 0 1\r\nx\r\nEND\r\n"),
    X("set a 0 -1 1\r\nx\r\nget a\r\n", "STORED\r\nEND\r\n"),
    X("set a 0 0 1 garbage\r\nx\r\nget a\r\n", "STORED\r\nVALUE a 0 1\r\nx\r\nEND\r\n"),
    X("set a 0 0 1 noreply\r\nx\r\nget a\r\n", "VALUE a 0 1\r\nx\r\nEND\r\n"),
    X("set a 0 0 1\r\nx\r\nset b 0 0 1\r\ny\r\nget a b a zz\r\n",
      "STORED\r\nSTORED\r\nVALUE a 0 1\r\nx\r\nVALUE b 0 1\r\ny\r\nVALUE a 0 1\r\nx\r\nEND\r\n"),
    X("add v 0 0 1\r\nx\r\nadd v 0 0 1\r\ny\r\nreplace nv 0 0 1\r\nx\r\nappend nv 0 0 1\r\nx\r\n"
      "prepend nv 0 0 1\r\nx\r\nappend v 5 5 1\r\ny\r\nprepend v 0 0 1\r\nz\r\nreplace v 3 0 2\r\nzz\r\nget "
      "v\r\n",
      "STORED\r\nNOT_STORED\r\nNOT_STORED\r\nNOT_STORED\r\nNOT_STORED\r\nSTORED\r\nSTORED\r\nSTORED\r\n"
      "VALUE v 3 2\r\nzz\r\nEND\r\n"),
    X("append v 0 0 1\r\nx\r\nset v 7 0 1\r\na\r\nappend v 0 0 1\r\nb\r\nprepend v 0 0 1\r\nc\r\nget v\r\n",
      "NOT_STORED\r\nSTORED\r\nSTORED\r\nSTORED\r\nVALUE v 7 3\r\ncab\r\nEND\r\n"),
    X("cas zz 0 0 1 5\r\nx\r\ncas zz 0 0 1 5 noreply\r\nx\r\n", "NOT_FOUND\r\n"),
    X("get zz\r\ngets zz\r\n", "END\r\nEND\r\n"),
    /* malformed storage lines: nothing is swallowed, the data line is a command of its own */
    X("set b 0 0 -1\r\nget b\r\n", "CLIENT_ERROR bad command line format\r\nEND\r\n"),
    X("set b abc 0 1\r\nx\r\nget b\r\n", "CLIENT_ERROR bad command line format\r\nERROR\r\nEND\r\n"),
    X("set b 0 0\r\nget b\r\n", "ERROR\r\nEND\r\n"),
    X("set b 0 0 1 2 3\r\nx\r\n", "ERROR\r\nERROR\r\n"),
    X("set b x 0 1 noreply\r\nx\r\nget b\r\n", "ERROR\r\nEND\r\n"),
    X("cas v 0 0 1\r\nx\r\ncas v 0 0 1 abc\r\nx\r\n",
      "ERROR\r\nERROR\r\nCLIENT_ERROR bad command line format\r\nERROR\r\n"),
    X("set b 0 0 2147483646\r\nget b\r\n", "CLIENT_ERROR bad command line format\r\nEND\r\n"),
    X("set "
      "kkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkk"
      "kkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkk"
      "kkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkk 0 0 1\r\nx\r\n",
      "CLIENT_ERROR bad command line format\r\nERROR\r\n"),
    /* bad data chunk: exactly nbytes + 2 bytes are consumed, the old value stays */
    X("set b 0 0 1\r\nx\r\nset b 0 0 1\r\nxyz\r\nget b\r\n",
      "STORED\r\nCLIENT_ERROR bad data chunk\r\nERROR\r\nVALUE b 0 1\r\nx\r\nEND\r\n"),
    X("set b 0 0 1\nx\nget b\n", "CLIENT_ERROR bad data chunk\r\nERROR\r\n"),
    X("set b 0 0 1 noreply\r\nxyz\r\nget b\r\n", "ERROR\r\nEND\r\n"),
    /* too large: swallowed, and a failed set removes the old value (add does not) */
    X("set d 0 0 1\r\nx\r\nset d 0 0 2000000\r\n"
      "\r\n"
      "get d\r\n",
      "STORED\r\n"),
    /* unknown, empty, tabs */
    X("foo\r\n\r\n \r\n\n", "ERROR\r\nERROR\r\nERROR\r\nERROR\r\n"),
    X("set\ta 0 0 1\r\nx\r\nget\ta\r\n", "ERROR\r\nERROR\r\nERROR\r\n"),
    X("SET a 0 0 1\r\nGet a\r\n", "ERROR\r\nERROR\r\n"),
    X("get\r\nget \r\ngets\r\ngat\r\ngat 0\r\n", "ERROR\r\nERROR\r\nERROR\r\nERROR\r\nEND\r\n"),
    X("get a\r\r\n", "END\r\n"),
    X("GET / HTTP/1.1 x\r\nfoo bar HTTPx\r\n", "ERROR\r\nERROR\r\n"),
    X("get / HTTP/1.1\r\n", "END\r\n"),
    /* incr / decr */
    X("incr a 1\r\nset a 0 0 1\r\nx\r\nincr a 1\r\nincr a x\r\nincr a -1\r\nincr a 1 2\r\n",
      "NOT_FOUND\r\nSTORED\r\nCLIENT_ERROR cannot increment or decrement non-numeric value\r\n"
      "CLIENT_ERROR invalid numeric delta argument\r\nCLIENT_ERROR invalid numeric delta argument\r\n"
      "CLIENT_ERROR cannot increment or decrement non-numeric value\r\n"),
    X("set n 0 0 2\r\n10\r\nincr n 5\r\ndecr n 100\r\nincr n 18446744073709551615\r\nincr n 1\r\n"
      "incr n 18446744073709551616\r\nincr n +1\r\nincr n 1 noreply\r\ndecr n 1 noreply\r\nget n\r\n",
      "STORED\r\n15\r\n0\r\n18446744073709551615\r\n0\r\nCLIENT_ERROR invalid numeric delta argument\r\n"
      "1\r\nVALUE n 0 20\r\n1                   \r\nEND\r\n"),
    X("incr\r\nincr a\r\ndecr a 1 2 3\r\n", "ERROR\r\nERROR\r\nERROR\r\n"),
    X("incr a x noreply\r\nincr zz 1 noreply\r\nget zz\r\n", "END\r\n"),
    /* delete */
    X("set a 0 0 1\r\nx\r\ndelete a\r\ndelete a\r\ndelete a 0\r\ndelete a 1\r\ndelete a noreply\r\n"
      "delete a 0 noreply\r\ndelete\r\ndelete a 0 0 0\r\ndelete a 1 noreply\r\n",
      "STORED\r\nDELETED\r\nNOT_FOUND\r\nNOT_FOUND\r\n"
      "CLIENT_ERROR bad command line format.  Usage: delete <key> [noreply]\r\nERROR\r\nERROR\r\n"),
    X("set a 0 0 1 noreply\r\nx\r\ndelete a noreply\r\nget a\r\n", "END\r\n"),
    /* touch, gat */
    X("touch zz 10\r\nset a 0 0 1\r\nx\r\ntouch a 10\r\ntouch a\r\ntouch a x\r\ntouch a 10 noreply\r\n"
      "touch a x noreply\r\ntouch a 10 extra\r\ntouch a 10 noreply x\r\n",
      "NOT_FOUND\r\nSTORED\r\nTOUCHED\r\nERROR\r\nCLIENT_ERROR invalid exptime "
      "argument\r\nTOUCHED\r\nERROR\r\n"),
    X("set v 0 0 3\r\nzxy\r\ngat 0 v\r\ngat x v\r\ngat 10 v zz v\r\ngat noreply v\r\n",
      "STORED\r\nVALUE v 0 3\r\nzxy\r\nEND\r\nCLIENT_ERROR invalid exptime argument\r\n"
      "VALUE v 0 3\r\nzxy\r\nVALUE v 0 3\r\nzxy\r\nEND\r\nCLIENT_ERROR invalid exptime argument\r\n"),
    X("set v 0 0 1\r\nx\r\ngat -1 v\r\nget v\r\n", "STORED\r\nVALUE v 0 1\r\nx\r\nEND\r\nEND\r\n"),
    /* flush_all */
    X("set f 0 0 1\r\nx\r\nflush_all\r\nget f\r\n", "STORED\r\nOK\r\nEND\r\n"),
    X("flush_all 0\r\nflush_all x\r\nflush_all -1\r\nflush_all 10 noreply\r\nflush_all noreply\r\n"
      "flush_all x noreply\r\nflush_all 1 2\r\nflush_all 1 2 3\r\nflush_all 99999999999\r\n",
      "OK\r\nCLIENT_ERROR invalid exptime argument\r\nOK\r\nOK\r\nERROR\r\nOK\r\n"),
    /* version, verbosity, shutdown (not enabled), stats without a server */
    X("version\r\nversion x\r\n", "VERSION 1.6.18\r\nVERSION 1.6.18\r\n"),
    X("verbosity\r\nverbosity 1\r\nverbosity x\r\nverbosity 1 noreply\r\nverbosity noreply\r\n"
      "verbosity 1 2 3\r\nverbosity 1 2\r\n",
      "ERROR\r\nOK\r\nCLIENT_ERROR bad command line format\r\nERROR\r\nOK\r\n"),
    X("shutdown\r\nshutdown graceful\r\nshutdown x\r\n",
      "ERROR: shutdown not enabled\r\nERROR: shutdown not enabled\r\nERROR: shutdown not enabled\r\n"),
    X("stats\r\nstats foo\r\n", "END\r\nERROR\r\n"),
    /* connection ends */
    XC("quit\r\nget a\r\n", ""),
    XC("set a 0 0 1\r\nx\r\nquit x\r\nget a\r\n", "STORED\r\n"),
    XC("get a\r\nGET / HTTP/1.1\r\nget a\r\n", "END\r\n"),
    XC("POST /x HTTP/1.0\r\n", ""),
    XC("FOO HTTP/1.0\r\n", ""),
};

static void check_exchange(const struct exchange *e, size_t chunk)
{
    enum proto_status st;
    char *out = pt_exchange(e->in, e->n, chunk, &st);
    cr_expect_str_eq(out, e->out, "input \"%.*s\" fed in chunks of %zu", (int)e->n, e->in, chunk);
    cr_expect_eq(st, e->st, "input \"%.*s\": status %d", (int)e->n, e->in, st);
    free(out);
}

Test(session, exchanges_whole)
{
    for (size_t i = 0; i < sizeof(exchanges) / sizeof(exchanges[0]); i++)
        check_exchange(&exchanges[i], (size_t)-1);
}

Test(session, exchanges_byte_by_byte)
{
    for (size_t i = 0; i < sizeof(exchanges) / sizeof(exchanges[0]); i++)
        check_exchange(&exchanges[i], 1);
}

Test(session, exchanges_in_sevens)
{
    for (size_t i = 0; i < sizeof(exchanges) / sizeof(exchanges[0]); i++)
        check_exchange(&exchanges[i], 7);
}

/* One long pipelined stream split into two feeds at every offset answers exactly as fed whole. */
Test(session, split_at_every_offset)
{
    static const char in[] = "set a 1 0 5\r\nhello\r\nget a b\r\nappend a 0 0 3 noreply\r\n!!!\r\ngets zz\r\n"
                             "incr c 1\r\nset c 0 0 2\r\n41\r\nincr c 1\r\ndecr c 2\r\ndelete c\r\n"
                             "set big 0 0 1048577\r\n"
                             "\r\n"
                             "set x 0 0 1\r\nxyz\r\n"
                             "touch a 100\r\ngat 0 a\r\nfoo\r\nflush_all 0\r\nget a\r\nversion\r\n";
    /* the big value is only announced: build the real stream with its 1048577 + 2 bytes */
    size_t pre = strstr(in, "set big") - in;
    const char *post = strstr(in, "\r\n"
                                  "\r\n"
                                  "set x") +
                       2 + 2;
    size_t bign = 1048577 + 2;
    size_t postn = sizeof(in) - 1 - (size_t)(post - in);
    const char *hdr = "set big 0 0 1048577\r\n";
    size_t n = pre + strlen(hdr) + bign + postn;
    char *stream = malloc(n);
    memcpy(stream, in, pre);
    memcpy(stream + pre, hdr, strlen(hdr));
    memset(stream + pre + strlen(hdr), 'b', bign);
    memcpy(stream + pre + strlen(hdr) + bign, post, postn);

    char *whole = pt_exchange(stream, n, (size_t)-1, NULL);
    cr_expect_str_eq(
        whole,
        "STORED\r\nVALUE a 1 5\r\nhello\r\nEND\r\nEND\r\nNOT_FOUND\r\nSTORED\r\n42\r\n40\r\nDELETED\r\n"
        "SERVER_ERROR object too large for cache\r\nCLIENT_ERROR bad data chunk\r\nERROR\r\n"
        "TOUCHED\r\nVALUE a 1 8\r\nhello!!!\r\nEND\r\nERROR\r\nOK\r\nEND\r\nVERSION 1.6.18\r\n");
    /* split everywhere except inside the big value, where every 4099th offset is enough */
    for (size_t k = 1; k < n; k++) {
        size_t in_big = pre + strlen(hdr);
        if (k > in_big + 8 && k < in_big + bign - 8 && k % 4099 != 0)
            continue;
        struct pt_run t;
        pt_run_init(&t, 8u << 20);
        char *acc = malloc(n);
        size_t used = 0;
        cr_assert_eq(pt_session_feed(t.s, stream, k, &used, t.r), PROTO_OK);
        size_t rest = k - used;
        memcpy(acc, stream + used, rest);
        memcpy(acc + rest, stream + k, n - k);
        size_t used2 = 0;
        cr_assert_eq(pt_session_feed(t.s, acc, rest + n - k, &used2, t.r), PROTO_OK);
        cr_assert_eq(used2, rest + n - k, "split at %zu leaves bytes", k);
        char *out = pt_drain(t.r, (size_t)-1, NULL);
        cr_assert_str_eq(out, whole, "split at %zu", k);
        free(out);
        free(acc);
        pt_run_fini(&t);
    }
    free(whole);
    free(stream);
}

/* An incr or ma after a get in one feed waits (PROTO_FLUSH, its line unconsumed, nothing done)
 * until the queue holds no value, as memcached writes a get's reply before the next request; then
 * the number is rewritten in place, padded. An mg hit's item stays held until a get, mn or the end
 * of the feed, so an ma right after it relinks the number unpadded. */
Test(session, arithmetic_waits_for_queued_values)
{
    struct pt_run t;
    size_t used = 0;
    static const char in[] = "set n 0 0 3\r\n100\r\nget n\r\ndecr n 1\r\nget n\r\n";
    pt_run_init(&t, 8u << 20);
    cr_assert_eq(mc_session_feed(t.s, in, sizeof in - 1, &used, t.r), PROTO_FLUSH);
    cr_assert_eq(used, strlen("set n 0 0 3\r\n100\r\nget n\r\n"), "the decr line comes back");
    cr_assert(outq_holds_items(t.r));
    pt_write_out(t.r);
    size_t more = 0;
    cr_assert_eq(mc_session_feed(t.s, in + used, sizeof in - 1 - used, &more, t.r), PROTO_OK);
    cr_assert_eq(used + more, sizeof in - 1);
    char *out = pt_drain(t.r, (size_t)-1, NULL);
    cr_expect_str_eq(out, "STORED\r\nVALUE n 0 3\r\n100\r\nEND\r\n99\r\nVALUE n 0 3\r\n99 \r\nEND\r\n");
    free(out);
    static const char meta[] =
        "ms m 3\r\n100\r\nmg m\r\nma m MD\r\nmg m s v\r\nmn\r\nma m MD\r\nmg m s v\r\n";
    cr_assert_eq(pt_session_feed(t.s, meta, sizeof meta - 1, &used, t.r), PROTO_OK);
    out = pt_drain(t.r, (size_t)-1, NULL);
    cr_expect_str_eq(out, "HD\r\nHD\r\nHD\r\nVA 2 s2\r\n99\r\nMN\r\nHD\r\nVA 2 s2\r\n98\r\n");
    free(out);
    pt_run_fini(&t);
}

Test(session, pipelined_in_order)
{
    char in[64 * 40];
    char want[64 * 40];
    size_t n = 0, w = 0;
    for (int i = 0; i < 40; i++) {
        n += (size_t)sprintf(in + n, "set k%d 0 0 %d\r\n%0*d\r\nget k%d\r\n", i, i % 7 + 2, i % 7 + 2, i, i);
        w += (size_t)sprintf(want + w, "STORED\r\nVALUE k%d 0 %d\r\n%0*d\r\nEND\r\n", i, i % 7 + 2, i % 7 + 2,
                             i);
    }
    char *out = pt_exchange(in, n, 5, NULL);
    cr_expect_str_eq(out, want);
    free(out);
}

/* A refused value arriving in many small pieces is skipped, the reply comes once it is all in. */
Test(session, oversize_swallowed_across_feeds)
{
    struct pt_run t;
    pt_run_init(&t, 8u << 20);
    t.ctx.item_size_max = 600; /* 1000 is over, but within the 2 x -I that is swallowed */
    size_t used;
    const char *hdr = "set k 0 0 1000\r\n";
    cr_assert_eq(mc_session_feed(t.s, hdr, strlen(hdr), &used, t.r), PROTO_OK);
    cr_expect_eq(used, strlen(hdr));
    cr_expect_eq(outq_pending(t.r), 0, "the refusal waits for the swallowed block");
    char *dst;
    size_t len;
    cr_expect(!mc_session_value_window(t.s, &dst, &len));
    char junk[37];
    memset(junk, 'j', sizeof(junk));
    size_t left = 1002;
    while (left > 0) {
        size_t m = left < sizeof(junk) ? left : sizeof(junk);
        cr_assert_eq(mc_session_feed(t.s, junk, m, &used, t.r), PROTO_OK);
        cr_assert_eq(used, m);
        left -= m;
    }
    const char *tail = "get k\r\n";
    cr_assert_eq(mc_session_feed(t.s, tail, strlen(tail), &used, t.r), PROTO_OK);
    char *out = pt_drain(t.r, (size_t)-1, NULL);
    cr_expect_str_eq(out, "SERVER_ERROR object too large for cache\r\nEND\r\n");
    free(out);
    cr_expect_eq(t.stats.store_too_large, 1);
    cr_expect_eq(t.stats.cmd_set, 0);
    pt_run_fini(&t);
}

Test(session, oversize_noreply_and_set_removes_old)
{
    struct pt_run t;
    pt_run_init(&t, 8u << 20);
    t.ctx.item_size_max = 70; /* memcached's accounting: a 1-byte value takes 61, a 20-byte one 80 */
    static const char in[] = "set a 0 0 1\r\nx\r\nadd a 0 0 20\r\n01234567890123456789\r\nget a\r\n"
                             "set a 0 0 20 noreply\r\n01234567890123456789\r\nget a\r\n";
    pt_feed(&t, S(in), (size_t)-1);
    char *out = pt_drain(t.r, (size_t)-1, NULL);
    cr_expect_str_eq(out, "STORED\r\nSERVER_ERROR object too large for cache\r\nVALUE a 0 1\r\nx\r\nEND\r\n"
                          "END\r\n");
    free(out);
    pt_run_fini(&t);
}

Test(session, value_window)
{
    struct pt_run t;
    pt_run_init(&t, 8u << 20);
    size_t used;
    char *dst;
    size_t len;
    cr_expect(!mc_session_value_window(t.s, &dst, &len));
    static const char in[] = "set w 3 0 10\r\n0123";
    cr_assert_eq(mc_session_feed(t.s, S(in), &used, t.r), PROTO_OK);
    cr_expect_eq(used, sizeof(in) - 1);
    cr_assert(mc_session_value_window(t.s, &dst, &len));
    cr_expect_eq(len, 6);
    memcpy(dst, "45", 2);
    mc_session_value_filled(t.s, 2);
    cr_assert(mc_session_value_window(t.s, &dst, &len));
    cr_expect_eq(len, 4);
    memcpy(dst, "6789", 4);
    mc_session_value_filled(t.s, 4);
    cr_expect(!mc_session_value_window(t.s, &dst, &len), "only the terminator is due");
    cr_expect_eq(outq_pending(t.r), 0);
    cr_assert_eq(mc_session_feed(t.s, "\r", 1, &used, t.r), PROTO_OK);
    cr_assert_eq(mc_session_feed(t.s, "\nget w\r\n", 8, &used, t.r), PROTO_OK);
    cr_expect_eq(used, 8);
    char *out = pt_drain(t.r, (size_t)-1, NULL);
    cr_expect_str_eq(out, "STORED\r\nVALUE w 3 10\r\n0123456789\r\nEND\r\n");
    free(out);
    pt_run_fini(&t);
}

/* A session destroyed mid-value releases its item and links nothing. */
Test(session, destroy_mid_value)
{
    struct pt_run t;
    pt_run_init(&t, 8u << 20);
    size_t used;
    cr_assert_eq(mc_session_feed(t.s, S("set h 0 0 5\r\nab"), &used, t.r), PROTO_OK);
    mc_session_destroy(&t.s);
    cr_expect_null(t.s);
    mc_session_destroy(&t.s);
    cr_expect_null(cache_get(t.cache, "h", 1, NULL));
    pt_run_fini(&t);
}

Test(session, incomplete_line_is_left)
{
    struct pt_run t;
    pt_run_init(&t, 8u << 20);
    size_t used;
    cr_assert_eq(mc_session_feed(t.s, S("get a\r\nget b"), &used, t.r), PROTO_OK);
    cr_expect_eq(used, 7);
    cr_assert_eq(mc_session_feed(t.s, S("\r"), &used, t.r), PROTO_OK);
    cr_expect_eq(used, 0);
    pt_run_fini(&t);
}

Test(session, line_limits)
{
    struct pt_run t;
    pt_run_init(&t, 8u << 20);
    size_t used;
    char *buf = malloc(MC_KEYS_LINE_MAX + 2);
    memset(buf, 'x', MC_KEYS_LINE_MAX + 2);
    cr_expect_eq(mc_session_feed(t.s, buf, MC_LINE_MAX, &used, t.r), PROTO_OK);
    cr_expect_eq(used, 0);
    cr_expect_eq(mc_session_feed(t.s, buf, MC_LINE_MAX + 1, &used, t.r), PROTO_CLOSE);
    cr_expect_eq(outq_pending(t.r), 0, "memcached closes without a word");
    memcpy(buf, "gat 0 ", 6);
    cr_expect_eq(mc_session_feed(t.s, buf, MC_LINE_MAX + 1, &used, t.r), PROTO_CLOSE);
    memcpy(buf, "   get ", 7);
    cr_expect_eq(mc_session_feed(t.s, buf, MC_LINE_MAX + 1, &used, t.r), PROTO_OK);
    cr_expect_eq(mc_session_feed(t.s, buf, MC_KEYS_LINE_MAX, &used, t.r), PROTO_OK);
    cr_expect_eq(mc_session_feed(t.s, buf, MC_KEYS_LINE_MAX + 1, &used, t.r), PROTO_CLOSE);
    /* a long get line with its newline is answered; keys are 250 bytes at most */
    size_t n = 0;
    n += (size_t)sprintf(buf, "get");
    for (int i = 0; i < 500; i++)
        n += (size_t)sprintf(buf + n, " key%05d", i);
    memcpy(buf + n, "\r\n", 2);
    cr_expect_eq(mc_session_feed(t.s, buf, n + 2, &used, t.r), PROTO_OK);
    cr_expect_eq(used, n + 2);
    char *out = pt_drain(t.r, (size_t)-1, NULL);
    cr_expect_str_eq(out, "END\r\n");
    free(out);
    cr_expect_eq(t.stats.cmd_get, 500);
    /* a complete over-long line of another command is answered, not closed */
    memset(buf, 'x', 3000);
    memcpy(buf + 3000, "\r\n", 2);
    cr_expect_eq(mc_session_feed(t.s, buf, 3002, &used, t.r), PROTO_OK);
    out = pt_drain(t.r, (size_t)-1, NULL);
    cr_expect_str_eq(out, "ERROR\r\n");
    free(out);
    free(buf);
    pt_run_fini(&t);
}

Test(session, quit_stops_early)
{
    struct pt_run t;
    pt_run_init(&t, 8u << 20);
    size_t used;
    cr_expect_eq(mc_session_feed(t.s, S("version\r\nquit\r\nget a\r\n"), &used, t.r), PROTO_CLOSE);
    cr_expect_eq(used, 15);
    char *out = pt_drain(t.r, (size_t)-1, NULL);
    cr_expect_str_eq(out, "VERSION 1.6.18\r\n");
    free(out);
    pt_run_fini(&t);
}

Test(session, shutdown_enabled)
{
    struct pt_run t;
    pt_run_init(&t, 8u << 20);
    t.ctx.enable_shutdown = true;
    size_t used;
    cr_expect_eq(
        mc_session_feed(t.s, S("shutdown x\r\nshutdown graceful x\r\nshutdown noreply\r\n"), &used, t.r),
        PROTO_OK);
    char *out = pt_drain(t.r, (size_t)-1, NULL);
    cr_expect_str_eq(out, "CLIENT_ERROR invalid shutdown mode\r\nCLIENT_ERROR invalid shutdown mode\r\n"
                          "CLIENT_ERROR invalid shutdown mode\r\n");
    free(out);
    cr_expect_eq(mc_session_feed(t.s, S("shutdown\r\nget a\r\n"), &used, t.r), PROTO_SHUTDOWN);
    cr_expect_eq(used, 10);
    cr_expect_eq(mc_session_feed(t.s, S("shutdown graceful\r\n"), &used, t.r), PROTO_SHUTDOWN);
    cr_expect_eq(outq_pending(t.r), 0);
    pt_run_fini(&t);
}

struct cb_log {
    int calls;
    int argc;
    char argv0[32];
    unsigned level;
};

static enum mc_stats_result stats_cb(void *arg, int argc, char **argv, struct outq *out)
{
    struct cb_log *log = arg;
    log->calls++;
    log->argc = argc;
    log->argv0[0] = '\0';
    if (argc > 0)
        snprintf(log->argv0, sizeof(log->argv0), "%s", argv[0]);
    cr_expect_null(argv[argc]);
    if (argc == 0) {
        outq_add_str(out, "STAT pid 1\r\n");
        return MC_STATS_END;
    }
    if (strcmp(argv[0], "reset") == 0) {
        outq_add_str(out, "RESET\r\n");
        return MC_STATS_DONE;
    }
    return MC_STATS_UNKNOWN;
}

static void verbosity_cb(void *arg, unsigned level)
{
    struct cb_log *log = arg;
    log->level = level;
}

Test(session, callbacks)
{
    struct pt_run t;
    struct cb_log log = {0};
    pt_run_init(&t, 8u << 20);
    t.ctx.server = &log;
    t.ctx.stats = stats_cb;
    t.ctx.verbosity = verbosity_cb;
    size_t used;
    cr_assert_eq(mc_session_feed(t.s, S("stats\r\nstats reset\r\nstats  foo  bar\r\nverbosity 3 noreply\r\n"),
                                 &used, t.r),
                 PROTO_OK);
    char *out = pt_drain(t.r, (size_t)-1, NULL);
    cr_expect_str_eq(out, "STAT pid 1\r\nEND\r\nRESET\r\nERROR\r\n");
    free(out);
    cr_expect_eq(log.calls, 3);
    cr_expect_eq(log.argc, 2);
    cr_expect_str_eq(log.argv0, "foo");
    cr_expect_eq(log.level, 3);
    pt_run_fini(&t);
}

Test(session, gets_shows_cas)
{
    struct pt_run t;
    pt_run_init(&t, 8u << 20);
    pt_feed(&t, S("set a 0 0 1\r\nx\r\n"), (size_t)-1);
    struct item *it = cache_get(t.cache, "a", 1, NULL);
    cr_assert_not_null(it);
    unsigned long long cas = (unsigned long long)item_cas(it);
    cache_item_release(t.cache, &it);
    char in[128], want[256];
    snprintf(in, sizeof(in),
             "gets a\r\ngats 0 a\r\ncas a 0 0 1 %llu\r\ny\r\ncas a 0 0 1 %llu\r\nz\r\nget a\r\n", cas, cas);
    snprintf(want, sizeof(want),
             "STORED\r\nVALUE a 0 1 %llu\r\nx\r\nEND\r\nVALUE a 0 1 %llu\r\nx\r\nEND\r\n"
             "STORED\r\nEXISTS\r\nVALUE a 0 1\r\ny\r\nEND\r\n",
             cas, cas);
    pt_feed(&t, in, strlen(in), (size_t)-1);
    char *out = pt_drain(t.r, (size_t)-1, NULL);
    cr_expect_str_eq(out, want);
    free(out);
    cr_expect_eq(t.stats.cas_hits, 1);
    cr_expect_eq(t.stats.cas_badval, 1);
    pt_run_fini(&t);
}

Test(session, expiry_and_delayed_flush)
{
    struct pt_run t;
    pt_run_init(&t, 8u << 20);
    pt_feed(&t, S("set e 0 10 1\r\nx\r\nset p 0 0 1\r\np\r\nflush_all 20\r\n"), (size_t)-1);
    pt_feed(&t, S("get e p\r\n"), (size_t)-1);
    cache_clock_set(t.cache, 1011);
    pt_feed(&t, S("get e p\r\n"), (size_t)-1);
    cache_clock_set(t.cache, 1030);
    pt_feed(&t, S("get p\r\ntouch p 10\r\n"), (size_t)-1);
    char *out = pt_drain(t.r, (size_t)-1, NULL);
    cr_expect_str_eq(out, "STORED\r\nSTORED\r\nOK\r\nVALUE e 0 1\r\nx\r\nVALUE p 0 1\r\np\r\nEND\r\n"
                          "VALUE p 0 1\r\np\r\nEND\r\nEND\r\nNOT_FOUND\r\n");
    free(out);
    cr_expect_eq(t.stats.get_expired, 1);
    cr_expect_eq(t.stats.get_flushed, 1);
    cr_expect_eq(t.stats.cmd_flush, 1);
    pt_run_fini(&t);
}

/* memcached's exptime rules (realtime()), which the protocol layer applies before the cache sees an
 * expiry: relative up to 30 days, absolute beyond, "already expired" as relative second 1 (before
 * memcached's own start, which is 60 s before cairn's clock origin) or 2 (the start instant). */
Test(session, exptime_rules)
{
    struct cache *c = pt_cache_create(8u << 20);
    time_t started = cache_process_started(c);
    struct {
        int64_t client;
        uint32_t want;
    } cases[] = {
        {0, 0},
        {-1, 1},
        {-1000000, 1},
        {1, 1001},
        {100, 1100},
        {2592000, 1000 + 2592000},
        {(int64_t)started + 5000, 5000}, /* absolute, in the future */
        {(int64_t)started, 2},           /* absolute, at the start: already expired */
        {(int64_t)started - 60, 1},      /* before memcached's start (60 s earlier): "none" */
        {(int64_t)started - 59, 2},      /* after it: the start instant, already passed */
        {2592001, 1},                    /* absolute, long past */
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        cr_assert_eq(mc_realtime(c, cases[i].client), cases[i].want, "case %zu: %u", i,
                     mc_realtime(c, cases[i].client));
        cr_assert_eq(mc_exptime(c, cases[i].client), cache_exp_from_rel_seconds(cases[i].want),
                     "case %zu: a whole-second expiry", i);
    }
    cache_destroy(&c);
}

/* An item with a precise expiry (stored by another protocol) over memcached's meta commands: `t`
 * shows the first whole second at or after the expiry minus the clock (the exptime memcached would
 * hold), `me` the same second; it dies at its millisecond. A whole-second item shows as before. */
Test(session, precise_expiry_shown_in_whole_seconds)
{
    struct pt_run t;
    pt_run_init(&t, 8u << 20);
    enum cache_status cst;
    struct item *it = cache_alloc(t.cache, "px", 2, 0, cache_exp_from_rel_ms(1000000 + 1500), 1, &cst);
    cr_assert_not_null(it);
    item_value(it)[0] = 'p';
    cr_assert_eq(cache_store(t.cache, it, CACHE_SET, 0, NULL), CACHE_OK);
    cache_item_release(t.cache, &it);
    pt_feed(&t, S("set w 0 10 1\r\nw\r\nmg px t v\r\nmg w t\r\nme px\r\n"), (size_t)-1);
    cache_clock_set_ms(t.cache, 1001499);
    pt_feed(&t, S("mg px t\r\n"), (size_t)-1);
    cache_clock_set_ms(t.cache, 1001500);
    pt_feed(&t, S("mg px t\r\n"), (size_t)-1);
    char *out = pt_drain(t.r, (size_t)-1, NULL);
    const char *me = strstr(out, "ME px exp=-2 ");
    cr_expect_not_null(me, "%s", out);
    static const char head[] = "STORED\r\nVA 1 t2\r\np\r\nHD t10\r\nME px ";
    cr_expect_eq(strncmp(out, head, sizeof head - 1), 0, "%s", out);
    cr_expect_not_null(strstr(out, "\r\nHD t1\r\nEN\r\n"), "%s", out);
    free(out);
    pt_run_fini(&t);
}

Test(session, counters)
{
    struct pt_run t;
    pt_run_init(&t, 8u << 20);
    static const char in[] = "set a 0 0 1\r\n1\r\nset b 0 0 1\r\nxyz\r\nadd a 0 0 1\r\n1\r\nset q x 0 1\r\n"
                             "get a b c\r\ngets a\r\ngat 0 a zz\r\ntouch a 0\r\ntouch zz 0\r\n"
                             "incr a 1\r\nincr zz 1\r\ndecr a 1\r\ndecr zz 1\r\ndelete a\r\ndelete a\r\n"
                             "cas zz 0 0 1 1\r\nx\r\nflush_all\r\nflush_all 0 noreply\r\n";
    pt_feed(&t, S(in), 3);
    const struct mc_stats *s = &t.stats;
    cr_expect_eq(s->cmd_set, 4, "set, bad chunk, add, cas; not the malformed line");
    cr_expect_eq(s->cmd_get, 4);
    cr_expect_eq(s->get_hits, 2);
    cr_expect_eq(s->get_misses, 2);
    cr_expect_eq(s->cmd_touch, 4);
    cr_expect_eq(s->touch_hits, 2);
    cr_expect_eq(s->touch_misses, 2);
    cr_expect_eq(s->incr_hits, 1);
    cr_expect_eq(s->incr_misses, 1);
    cr_expect_eq(s->decr_hits, 1);
    cr_expect_eq(s->decr_misses, 1);
    cr_expect_eq(s->delete_hits, 1);
    cr_expect_eq(s->delete_misses, 1);
    cr_expect_eq(s->cas_misses, 1);
    cr_expect_eq(s->cmd_flush, 2);

    struct mc_stats sum = {0};
    mc_stats_add(&sum, s);
    mc_stats_add(&sum, s);
    cr_expect_eq(sum.cmd_get, 8);
    cr_expect_eq(sum.cmd_flush, 4);
    mc_stats_sub(&sum, s);
    cr_expect_eq(memcmp(&sum, s, sizeof(sum)), 0);
    pt_run_fini(&t);
}

/* No memory for the item: the value is swallowed, the reply comes after it, noreply silences it and
 * the stream stays in step. (With a one-page cache the large item holds the only page; should the
 * engine learn to move pages between classes, the small set is simply stored.) */
Test(session, out_of_memory_swallowed)
{
    struct pt_run t;
    pt_run_init(&t, 1u << 20);
    size_t n = 500000;
    char *in = malloc(n + 200);
    size_t k = (size_t)sprintf(in, "set big 0 0 %zu\r\n", n);
    memset(in + k, 'b', n);
    k += n;
    memcpy(in + k, "\r\n", 2);
    k += 2;
    pt_feed(&t, in, k, 4096);
    free(in);
    char *out = pt_drain(t.r, (size_t)-1, NULL);
    cr_assert_str_eq(out, "STORED\r\n");
    free(out);
    pt_feed(&t, S("set s 0 0 1\r\nx\r\n"), 1);
    out = pt_drain(t.r, (size_t)-1, NULL);
    if (strcmp(out, "STORED\r\n") != 0) {
        cr_expect_str_eq(out, "SERVER_ERROR out of memory storing object\r\n");
        pt_feed(&t, S("set s 0 0 1 noreply\r\nx\r\nget s\r\n"), 3);
        char *out2 = pt_drain(t.r, (size_t)-1, NULL);
        cr_expect_str_eq(out2, "END\r\n");
        free(out2);
        cr_expect_eq(t.stats.store_no_memory, 2);
        cr_expect_eq(t.stats.cmd_set, 1);
    }
    free(out);
    pt_run_fini(&t);
}

/* -I counts an item as memcached 1.6 does (56-byte header with CAS, key + NUL, value + CRLF), so the
 * largest value accepted is the same on both servers: regression test for item_size_boundary. */
Test(session, item_size_limit_counts_like_memcached)
{
    struct pt_run t;
    pt_run_init(&t, 8u << 20);
    t.ctx.item_size_max = 100;
    t.ctx.use_cas = true;
    /* 56 + 2 (key "k" and NUL) + 40 + 2 = 100 fits; one byte more does not. */
    static const char in[] = "set k 0 0 40\r\n0123456789012345678901234567890123456789\r\n"
                             "set k 0 0 41\r\n01234567890123456789012345678901234567890\r\n";
    pt_feed(&t, S(in), (size_t)-1);
    char *out = pt_drain(t.r, (size_t)-1, NULL);
    cr_expect_str_eq(out, "STORED\r\nSERVER_ERROR object too large for cache\r\n");
    free(out);
    t.ctx.use_cas = false;
    /* Without CAS the header is 48 bytes: 48 + 2 + 48 + 2 = 100 fits. */
    static const char in2[] = "set k 0 0 48\r\n012345678901234567890123456789012345678901234567\r\n";
    pt_feed(&t, S(in2), (size_t)-1);
    out = pt_drain(t.r, (size_t)-1, NULL);
    cr_expect_str_eq(out, "STORED\r\n");
    free(out);
    pt_run_fini(&t);
}

/* A declared length far over -I is not waited for: the refusal goes out and the connection closes
 * (classic and meta). */
Test(session, oversize_far_beyond_the_limit_closes_at_once)
{
    struct pt_run t;
    size_t used;
    const char *lines[] = {"set k 0 0 1000000000\r\n", "ms k 1000000000 T0\r\n"};

    for (size_t i = 0; i < 2; i++) {
        pt_run_init(&t, 8u << 20);
        cr_assert_eq(mc_session_feed(t.s, lines[i], strlen(lines[i]), &used, t.r), PROTO_CLOSE, "%s",
                     lines[i]);
        char *out = pt_drain(t.r, (size_t)-1, NULL);
        cr_expect_str_eq(out, "SERVER_ERROR object too large for cache\r\n");
        free(out);
        pt_run_fini(&t);
    }
}

/* Feeds the stream like a server that sends out pause bytes whenever the session pauses; returns
 * the whole output and counts the pauses. */
static char *feed_with_drains(struct pt_run *t, const char *in, size_t n, unsigned *pauses)
{
    size_t total = 0, cap = 1 << 20;
    char *all = malloc(cap);
    size_t off = 0;

    *pauses = 0;
    for (;;) {
        size_t used = 0;
        enum proto_status st = mc_session_feed(t->s, in + off, n - off, &used, t->r);
        off += used;
        size_t len;
        char *part = pt_drain(t->r, (size_t)-1, &len);
        if (total + len + 1 > cap) {
            cap = (total + len + 1) * 2;
            all = realloc(all, cap);
        }
        memcpy(all + total, part, len);
        total += len;
        free(part);
        if (st != PROTO_PAUSE)
            break;
        (*pauses)++;
        cr_assert_lt(*pauses, 100000u);
    }
    all[total] = '\0';
    cr_expect_eq(off, n, "everything consumed in the end");
    return all;
}

/* Regression test (unbounded reply queues): a get line of 20,000 keys with a small pause limit is
 * executed as its replies drain; the output and the counters are exactly those of one pass. */
Test(session, long_multiget_runs_as_the_replies_drain)
{
    struct pt_run t, ref;
    size_t used;
    unsigned pauses;
    enum { KEYS = 20000 };
    char *line = malloc(KEYS * 8 + 16);
    size_t n = 0;

    pt_run_init(&t, 8u << 20);
    pt_run_init(&ref, 8u << 20);
    const char *sets = "set k1 0 0 5\r\nhello\r\nset k7 3 0 2\r\nhi\r\n";
    cr_assert_eq(mc_session_feed(t.s, sets, strlen(sets), &used, t.r), PROTO_OK);
    cr_assert_eq(mc_session_feed(ref.s, sets, strlen(sets), &used, ref.r), PROTO_OK);
    free(pt_drain(t.r, (size_t)-1, NULL));
    free(pt_drain(ref.r, (size_t)-1, NULL));
    n += (size_t)sprintf(line, "get");
    for (unsigned i = 0; i < KEYS; i++)
        n += (size_t)sprintf(line + n, " k%u", i % 10);
    n += (size_t)sprintf(line + n, "\r\nget k1\r\n");
    t.ctx.out_pause = 4096;
    char *out = feed_with_drains(&t, line, n, &pauses);
    cr_expect_gt(pauses, 10u, "the line was executed in parts");
    cr_assert_eq(mc_session_feed(ref.s, line, n, &used, ref.r), PROTO_OK);
    char *want = pt_drain(ref.r, (size_t)-1, NULL);
    cr_expect(strcmp(out, want) == 0, "same bytes as one pass");
    cr_expect_eq(t.stats.cmd_get, ref.stats.cmd_get);
    cr_expect_eq(t.stats.get_hits, ref.stats.get_hits);
    cr_expect_eq(t.stats.get_misses, ref.stats.get_misses);
    cr_expect_eq(t.stats.cmd_get, KEYS + 1);
    free(out);
    free(want);
    free(line);
    pt_run_fini(&t);
    pt_run_fini(&ref);
}

/* A deep pipeline pauses between requests once the queue is full, and every request runs once. */
Test(session, pipeline_pauses_between_requests)
{
    struct pt_run t;
    size_t used;
    unsigned pauses;
    char val[3000];
    char buf[64];
    char *in = malloc(200 * 16 + 1);
    size_t n = 0;

    pt_run_init(&t, 8u << 20);
    memset(val, 'v', sizeof(val));
    snprintf(buf, sizeof(buf), "set big 0 0 %zu\r\n", sizeof(val));
    cr_assert_eq(mc_session_feed(t.s, buf, strlen(buf), &used, t.r), PROTO_OK);
    cr_assert_eq(mc_session_feed(t.s, val, sizeof(val), &used, t.r), PROTO_OK);
    cr_assert_eq(mc_session_feed(t.s, "\r\n", 2, &used, t.r), PROTO_OK);
    free(pt_drain(t.r, (size_t)-1, NULL));
    for (int i = 0; i < 200; i++)
        n += (size_t)sprintf(in + n, "get big\r\n");
    t.ctx.out_pause = 10000;
    char *out = feed_with_drains(&t, in, n, &pauses);
    cr_expect_geq(pauses, 40u);
    cr_expect_eq(t.stats.get_hits, 200);
    size_t count = 0;
    for (const char *p = out; (p = strstr(p, "VALUE big 0 3000\r\n")) != NULL; p++)
        count++;
    cr_expect_eq(count, 200);
    free(out);
    free(in);
    pt_run_fini(&t);
}

/* A value the receiving budget cannot take: PROTO_BUSY with nothing consumed or done (classic and meta);
 * after mc_session_no_wait() it is refused and swallowed. Small values always pass. */
Test(session, receiving_budget_holds_back_then_refuses)
{
    struct pt_run t;
    _Atomic uint64_t receiving = 40000;
    size_t used = 99;
    char val[20002];
    const char *lines[] = {"set k 0 0 20000\r\n", "ms k 20000\r\n"};

    memset(val, 'v', 20000);
    memcpy(val + 20000, "\r\n", 2);
    for (size_t i = 0; i < 2; i++) {
        pt_run_init(&t, 8u << 20);
        t.ctx.recv_bytes = &receiving;
        t.ctx.recv_limit = 50000;
        cr_assert_eq(mc_session_feed(t.s, S("set small 0 0 5\r\nhello\r\n"), &used, t.r), PROTO_OK);
        cr_assert_eq(mc_session_feed(t.s, lines[i], strlen(lines[i]), &used, t.r), PROTO_BUSY, "%s",
                     lines[i]);
        cr_expect_eq(used, 0, "nothing consumed");
        cr_expect_eq(receiving, 40000);
        mc_session_no_wait(t.s);
        cr_assert_eq(mc_session_feed(t.s, lines[i], strlen(lines[i]), &used, t.r), PROTO_OK);
        cr_assert_eq(mc_session_feed(t.s, val, sizeof(val), &used, t.r), PROTO_OK);
        cr_expect_eq(used, sizeof(val));
        char *out = pt_drain(t.r, (size_t)-1, NULL);
        cr_expect_str_eq(out, "STORED\r\nSERVER_ERROR out of memory storing object\r\n");
        free(out);
        receiving = 0; /* room now: the same line is taken, and the budget given back when done */
        cr_assert_eq(mc_session_feed(t.s, lines[i], strlen(lines[i]), &used, t.r), PROTO_OK);
        cr_expect_eq(receiving, 20000);
        cr_assert_eq(mc_session_feed(t.s, val, sizeof(val), &used, t.r), PROTO_OK);
        cr_expect_eq(receiving, 0);
        receiving = 40000;
        pt_run_fini(&t);
    }
}

/* Outcomes the server reaches on a session's behalf, as memcached's lines (through the ops table, as
 * a connection calls them). */
Test(session, outcomes_answered_as_memcached_lines)
{
    static const struct {
        struct proto_outcome o;
        const char *line;
    } cases[] = {
        {{.ev = PROTO_EV_SNAPSHOT_OFF}, "SERVER_ERROR snapshots are off (no --snapshot-path)\r\n"},
        {{.ev = PROTO_EV_SNAPSHOT_BUSY}, "SERVER_ERROR snapshot already running\r\n"},
        {{.ev = PROTO_EV_SNAPSHOT_STARTED}, "OK\r\n"},
        {{.ev = PROTO_EV_SNAPSHOT_SAVED, .items = 3, .bytes = 4096, .usec = 17}, "SNAPSHOT 3 4096 17\r\n"},
        {{.ev = PROTO_EV_SNAPSHOT_FAILED, .why = "disk full"}, "SERVER_ERROR snapshot failed: disk full\r\n"},
        {{.ev = PROTO_EV_NO_MEMORY}, "SERVER_ERROR out of memory\r\n"},
        {{.ev = PROTO_EV_READ_NO_MEMORY}, "SERVER_ERROR out of memory reading request\r\n"},
    };
    struct pt_run t;
    pt_run_init(&t, 8u << 20);
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        mc_proto_ops.answer(t.s, &cases[i].o, t.r);
        char *out = pt_drain(t.r, (size_t)-1, NULL);
        cr_assert_str_eq(out, cases[i].line, "case %zu", i);
        free(out);
    }
    cr_assert_str_eq(mc_proto_ops.reject, "ERROR Too many open connections\r\n");
    cr_assert_eq(mc_proto_ops.line_max, MC_KEYS_LINE_MAX);
    pt_run_fini(&t);
}

/* The ops table drives a session as the typed calls do: create, feed, destroy. */
Test(session, ops_table_runs_a_session)
{
    struct pt_run t;
    pt_run_init(&t, 8u << 20);
    void *s = mc_proto_ops.create(&t.ctx, &t.stats);
    cr_assert_not_null(s);
    const char in[] = "set k 0 0 2\r\nhi\r\nget k\r\n";
    size_t used = 0;
    cr_assert_eq(mc_proto_ops.feed(s, in, sizeof(in) - 1, &used, t.r), PROTO_OK);
    cr_assert_eq(used, sizeof(in) - 1);
    cr_assert_not(mc_proto_ops.mid_value(s));
    char *out = pt_drain(t.r, (size_t)-1, NULL);
    cr_assert_str_eq(out, "STORED\r\nVALUE k 0 2\r\nhi\r\nEND\r\n");
    free(out);
    mc_proto_ops.destroy(s);
    pt_run_fini(&t);
}
