/*
 * test_resp_commands.c: the string, key, connection and transaction commands of RESP
 * (resp_strings.c, resp_keys.c, resp_conn.c), table-driven, through resp_proto_ops against a real
 * cache without sockets (resp_test.h).
 *
 * A table is a conversation: each row is one request (a command sent as a multibulk request, or raw
 * bytes) from the first or the second client, and the exact bytes of its reply; a CLOCK row moves
 * the cache's frozen clock on, so TTLs are exact. Every table is played three ways on a fresh
 * server, and must give the same bytes each time: each request fed whole, each request fed one byte
 * at a time, and each run of one client's requests (up to a clock move, the other client's turn or a
 * QUIT) pipelined in a single feed.
 *
 * Expected bytes: every row was checked against redis-server 7.0.15 (one database, no password) fed
 * the same requests on two connections, a sleep standing for each clock move; there a PTTL reads a
 * few milliseconds less than the frozen clock's exact value here, and HELLO's id is Redis's client
 * id (here 1 and 2). Rows where cairn answers differently on purpose (tests/resp/known_differences.txt)
 * say so in a comment and hold cairn's answer. Tables marked "Regression:" hold Redis's answer where
 * cairn once gave another one.
 */
#include "resp_test.h"

enum row_kind { ROW_CMD, ROW_RAW, ROW_CLOCK };

struct row {
    enum row_kind kind;
    int sess;                /* 0: the first client, 1: the second */
    const char *const *argv; /* ROW_CMD: the arguments, NULL-terminated */
    const char *in;          /* ROW_RAW: the request bytes */
    size_t nin;
    const char *want; /* the exact reply */
    size_t nwant;
    enum proto_status st; /* what the feed returns */
    unsigned ms;          /* ROW_CLOCK: how far the clock moves */
};

#define ARGV(...) ((const char *const[]){__VA_ARGS__, NULL})

/* A command from the first client, and its reply. */
#define R(want, ...)                                                                                         \
    {                                                                                                        \
        ROW_CMD, 0, ARGV(__VA_ARGS__), NULL, 0, want, sizeof(want) - 1, PROTO_OK, 0                          \
    }
/* A command from the second client. */
#define R2(want, ...)                                                                                        \
    {                                                                                                        \
        ROW_CMD, 1, ARGV(__VA_ARGS__), NULL, 0, want, sizeof(want) - 1, PROTO_OK, 0                          \
    }
/* A command after which the connection closes (QUIT). */
#define RQ(want, ...)                                                                                        \
    {                                                                                                        \
        ROW_CMD, 0, ARGV(__VA_ARGS__), NULL, 0, want, sizeof(want) - 1, PROTO_CLOSE, 0                       \
    }
/* Request bytes as they are, from the first client. */
#define RAW(in, want)                                                                                        \
    {                                                                                                        \
        ROW_RAW, 0, NULL, in, sizeof(in) - 1, want, sizeof(want) - 1, PROTO_OK, 0                            \
    }
#define RAWQ(in, want)                                                                                       \
    {                                                                                                        \
        ROW_RAW, 0, NULL, in, sizeof(in) - 1, want, sizeof(want) - 1, PROTO_CLOSE, 0                         \
    }
/* The frozen clock moves ms milliseconds on. */
#define CLOCK(ms)                                                                                            \
    {                                                                                                        \
        ROW_CLOCK, 0, NULL, NULL, 0, NULL, 0, PROTO_OK, ms                                                   \
    }

enum play { PLAY_WHOLE, PLAY_BYTES, PLAY_PIPELINE };

static const char *const play_names[] = {"fed whole", "fed byte by byte", "pipelined"};

/* Bytes as a C literal would show them, for messages (malloc'd). */
static char *shown(const char *p, size_t n)
{
    char *s = malloc(4 * n + 1), *o = s;
    cr_assert_not_null(s);
    for (size_t i = 0; i < n; i++) {
        unsigned char c = (unsigned char)p[i];
        if (c == '\r')
            o += sprintf(o, "\\r");
        else if (c == '\n')
            o += sprintf(o, "\\n");
        else if (c < 0x20 || c >= 0x7f || c == '\\')
            o += sprintf(o, "\\x%02x", c);
        else
            *o++ = (char)c;
    }
    *o = '\0';
    return s;
}

/* Appends the request bytes of row r to buf (of *len bytes, grown with realloc). */
static char *add_request(char *buf, size_t *len, const struct row *r)
{
    size_t n;
    char *req = r->kind == ROW_RAW ? NULL : multibulk(r->argv, &n);
    const char *p = req != NULL ? req : r->in;
    n = req != NULL ? n : r->nin;
    buf = realloc(buf, *len + n + 1);
    cr_assert_not_null(buf);
    memcpy(buf + *len, p, n);
    *len += n;
    free(req);
    return buf;
}

/* Plays the rows on a fresh server with two clients, one of three ways. */
static void play(const struct row *rows, size_t n, enum play how)
{
    struct rt *t = rt_new();
    uint64_t clock_ms = RT_CLOCK_START_MS;

    rt_add(t);
    for (size_t i = 0; i < n;) {
        if (rows[i].kind == ROW_CLOCK) {
            clock_ms += rows[i].ms;
            cache_clock_set_ms(t->cache, clock_ms);
            i++;
            continue;
        }
        /* rows i..j-1 go in one feed: one row, or a run of one client's rows when pipelined */
        size_t j = i + 1;
        while (how == PLAY_PIPELINE && j < n && rows[j].kind != ROW_CLOCK && rows[j].sess == rows[i].sess &&
               rows[j - 1].st == PROTO_OK)
            j++;
        char *in = NULL, *want = NULL;
        size_t nin = 0, nwant = 0, ngot;
        for (size_t k = i; k < j; k++) {
            in = add_request(in, &nin, &rows[k]);
            want = realloc(want, nwant + rows[k].nwant + 1);
            cr_assert_not_null(want);
            memcpy(want + nwant, rows[k].want, rows[k].nwant);
            nwant += rows[k].nwant;
        }
        feed_step(t, t->sess[rows[i].sess], in, nin, how == PLAY_BYTES ? 1 : 0);
        char *got = drain_n(t->out, &ngot);
        bool same = ngot == nwant && memcmp(got, want, ngot) == 0;
        char *s_in = shown(in, nin), *s_got = shown(got, ngot), *s_want = shown(want, nwant);
        cr_expect(same, "rows %zu-%zu (%s), client %d: request [%s]\n  got  [%s]\n  want [%s]", i + 1, j,
                  play_names[how], rows[i].sess + 1, s_in, s_got, s_want);
        cr_expect_eq(t->st, rows[j - 1].st, "rows %zu-%zu (%s): feed status %d, want %d", i + 1, j,
                     play_names[how], (int)t->st, (int)rows[j - 1].st);
        free(s_in);
        free(s_got);
        free(s_want);
        free(got);
        free(in);
        free(want);
        i = j;
    }
    rt_free(t);
}

static void play_all(const struct row *rows, size_t n)
{
    play(rows, n, PLAY_WHOLE);
    play(rows, n, PLAY_BYTES);
    play(rows, n, PLAY_PIPELINE);
}

/* One test per table, of the same name. */
#define TABLE(name)                                                                                          \
    Test(resp_commands, name)                                                                                \
    {                                                                                                        \
        play_all(name, sizeof(name) / sizeof(name[0]));                                                      \
    }

/* ---- GET, SET ---- */

static const struct row get_set[] = {
    R("$-1\r\n", "GET", "k"),
    R("+OK\r\n", "SET", "k", "v"),
    R("$1\r\nv\r\n", "GET", "k"),
    R("+OK\r\n", "set", "k", "v2"),
    R("$2\r\nv2\r\n", "get", "k"),
    R("+OK\r\n", "SET", "e", ""),
    R("$0\r\n\r\n", "GET", "e"),
    R("+OK\r\n", "SET", "sp", "a b\r\nc"),
    R("$6\r\na b\r\nc\r\n", "GET", "sp"),
    RAW("*3\r\n$3\r\nSET\r\n$3\r\nb\0b\r\n$4\r\n\r\n\0\xff\r\n", "+OK\r\n"),
    RAW("*2\r\n$3\r\nGET\r\n$3\r\nb\0b\r\n", "$4\r\n\r\n\000\377\r\n"),
    RAW("*2\r\n$3\r\nGET\r\n$3\r\nb\0c\r\n", "$-1\r\n"),
    R("-ERR wrong number of arguments for 'get' command\r\n", "GET"),
    R("-ERR wrong number of arguments for 'get' command\r\n", "GET", "a", "b"),
    R("-ERR wrong number of arguments for 'set' command\r\n", "SET", "k"),
    R("-ERR wrong number of arguments for 'set' command\r\n", "SET"),
};
TABLE(get_set)

static const struct row set_nx_xx_get[] = {
    R("+OK\r\n", "SET", "k", "v", "NX"),
    R("$-1\r\n", "SET", "k", "w", "NX"),
    R("$1\r\nv\r\n", "GET", "k"),
    R("+OK\r\n", "SET", "k", "w", "XX"),
    R("$-1\r\n", "SET", "n", "w", "XX"),
    R(":0\r\n", "EXISTS", "n"),
    R("$1\r\nw\r\n", "SET", "k", "x", "GET"),
    R("$-1\r\n", "SET", "n", "x", "GET"),
    R("$1\r\nx\r\n", "GET", "n"),
    R("$1\r\nx\r\n", "SET", "k", "y", "NX", "GET"),
    R("$1\r\nx\r\n", "GET", "k"),
    R("$-1\r\n", "SET", "new", "y", "nx", "get"),
    R("$1\r\ny\r\n", "GET", "new"),
    R("$1\r\nx\r\n", "SET", "k", "z", "XX", "GET"),
    R("$-1\r\n", "SET", "absent", "z", "GET", "XX"),
    R(":0\r\n", "EXISTS", "absent"),
    R("$-1\r\n", "SET", "k", "v", "NX", "NX"),
    R("+OK\r\n", "SET", "k", "v", "XX", "XX"),
    R("$1\r\nv\r\n", "SET", "k", "v", "GET", "GET"),
    R("$1\r\nv\r\n", "GET", "k"),
    R("-ERR syntax error\r\n", "SET", "k", "v", "NX", "XX"),
    R("-ERR syntax error\r\n", "SET", "k", "v", "xx", "nx"),
    R("-ERR syntax error\r\n", "SET", "k", "v", "foo"),
    R("-ERR syntax error\r\n", "SET", "k", "v", "GET", "foo"),
    R("-ERR syntax error\r\n", "SET", "k", "v", "EX"),
    R("-ERR syntax error\r\n", "SET", "k", "v", "GET", "PX"),
    R("$1\r\nv\r\n", "GET", "k"),
};
TABLE(set_nx_xx_get)

static const struct row set_expiry[] = {
    R("+OK\r\n", "SET", "k", "v", "EX", "100"),
    R(":100\r\n", "TTL", "k"),
    R(":100000\r\n", "PTTL", "k"),
    R("+OK\r\n", "SET", "k", "v", "PX", "1800"),
    R(":1800\r\n", "PTTL", "k"),
    R(":2\r\n", "TTL", "k"),
    R("+OK\r\n", "SET", "k", "v", "ex", "10", "EX", "20"),
    R(":20\r\n", "TTL", "k"),
    R("+OK\r\n", "SET", "k", "v", "PX", "100", "px", "5000"),
    R(":5000\r\n", "PTTL", "k"),
    R("+OK\r\n", "SET", "k", "w", "KEEPTTL"),
    R(":5000\r\n", "PTTL", "k"),
    R("$1\r\nw\r\n", "GET", "k"),
    R("$1\r\nw\r\n", "SET", "k", "w", "KEEPTTL", "keepttl", "GET"),
    R("+OK\r\n", "SET", "k", "v"),
    R(":-1\r\n", "TTL", "k"),
    R("+OK\r\n", "SET", "k", "v", "EXAT", "4000000000"),
    R(":4000000000\r\n", "EXPIRETIME", "k"),
    R(":4000000000000\r\n", "PEXPIRETIME", "k"),
    R("+OK\r\n", "SET", "k", "v", "PXAT", "4000000000123"),
    R(":4000000000123\r\n", "PEXPIRETIME", "k"),
    R(":4000000000\r\n", "EXPIRETIME", "k"),
    R("+OK\r\n", "SET", "k", "v", "PXAT", "4000000000623"),
    R(":4000000001\r\n", "EXPIRETIME", "k"),
    R("+OK\r\n", "SET", "k", "v", "EXAT", "1"),
    R("$-1\r\n", "GET", "k"),
    R("+OK\r\n", "SET", "k", "v", "PXAT", "1"),
    R(":0\r\n", "EXISTS", "k"),
    R("$-1\r\n", "SET", "k", "v", "XX", "EX", "10"),
    R("+OK\r\n", "SET", "k", "v", "NX", "PX", "10000"),
    R(":10000\r\n", "PTTL", "k"),
    R("$-1\r\n", "SET", "k", "w", "NX", "EX", "10"),
    R("$1\r\nv\r\n", "SET", "k", "w", "XX", "EX", "30", "GET"),
    R(":30\r\n", "TTL", "k"),
    R("-ERR invalid expire time in 'set' command\r\n", "SET", "k", "v", "EX", "0"),
    R("-ERR invalid expire time in 'set' command\r\n", "SET", "k", "v", "EX", "-5"),
    R("-ERR invalid expire time in 'set' command\r\n", "SET", "k", "v", "PX", "0"),
    R("-ERR invalid expire time in 'set' command\r\n", "SET", "k", "v", "EXAT", "0"),
    R("-ERR invalid expire time in 'set' command\r\n", "SET", "k", "v", "PXAT", "-1"),
    R("-ERR value is not an integer or out of range\r\n", "SET", "k", "v", "EX", "abc"),
    R("-ERR value is not an integer or out of range\r\n", "SET", "k", "v", "EX", "1.5"),
    R("-ERR value is not an integer or out of range\r\n", "SET", "k", "v", "EX", ""),
    R("-ERR invalid expire time in 'set' command\r\n", "SET", "k", "v", "EX", "9223372036854775807"),
    R("-ERR invalid expire time in 'set' command\r\n", "SET", "k", "v", "EX", "9223372036854775"),
    R("-ERR invalid expire time in 'set' command\r\n", "SET", "k", "v", "PX", "9223372036854775807"),
    R("-ERR value is not an integer or out of range\r\n", "SET", "k", "v", "PX", "9223372036854775808"),
    R(":30\r\n", "TTL", "k"),
    R("-ERR syntax error\r\n", "SET", "k", "v", "EX", "10", "PX", "100"),
    R("-ERR syntax error\r\n", "SET", "k", "v", "PX", "100", "EX", "10"),
    R("-ERR syntax error\r\n", "SET", "k", "v", "EX", "10", "EXAT", "4000000000"),
    R("-ERR syntax error\r\n", "SET", "k", "v", "PXAT", "4000000000000", "EXAT", "4000000000"),
    R("-ERR syntax error\r\n", "SET", "k", "v", "EXAT", "4000000000", "PX", "10"),
    R("-ERR syntax error\r\n", "SET", "k", "v", "EX", "10", "KEEPTTL"),
    R("-ERR syntax error\r\n", "SET", "k", "v", "KEEPTTL", "PX", "10"),
    R("-ERR syntax error\r\n", "SET", "k", "v", "PERSIST"),
    R("-ERR syntax error\r\n", "SET", "k", "v", "EX", "abc", "PX", "10"),
    R("-ERR syntax error\r\n", "SET", "k", "v", "EX", "0", "NX", "XX"),
    R("-ERR invalid expire time in 'set' command\r\n", "SET", "nokey", "v", "GET", "EX", "0"),
    R("-ERR invalid expire time in 'set' command\r\n", "SET", "k", "v", "EX", "0", "GET"),
    R("-ERR invalid expire time in 'getex' command\r\n", "GETEX", "k", "PX", "0"),
    R(":0\r\n", "EXISTS", "nokey"),
    R(":30\r\n", "TTL", "k"),
};
TABLE(set_expiry)

/* Keys dying as the clock moves. */
static const struct row set_expiry_clock[] = {
    R("+OK\r\n", "SET", "k", "v", "PX", "100"),
    R("+OK\r\n", "SET", "s", "v", "EX", "1"),
    CLOCK(50),
    R("$1\r\nv\r\n", "GET", "k"),
    CLOCK(100),
    R("$-1\r\n", "GET", "k"),
    R(":850\r\n", "PTTL", "s"),
    R(":1\r\n", "EXISTS", "k", "s"),
    CLOCK(1000),
    R("$-1\r\n", "GET", "s"),
    R(":-2\r\n", "TTL", "s"),
    R(":0\r\n", "DBSIZE"),
    R("+OK\r\n", "SETEX", "x", "2", "v"),
    R("+OK\r\n", "PSETEX", "y", "300", "v"),
    CLOCK(1200),
    R(":1\r\n", "TTL", "x"),
    R(":800\r\n", "PTTL", "x"),
    R("$-1\r\n", "GET", "y"),
    R("$-1\r\n", "SET", "y", "v", "XX", "GET"),
    R("$-1\r\n", "SET", "y", "v", "NX", "GET"),
};
TABLE(set_expiry_clock)

/* Every command on keys whose expiry has passed: they are gone. */
static const struct row expired_keys[] = {
    R("+OK\r\n", "MSET", "a", "1", "b", "2", "c", "3", "d", "4", "e", "5", "f", "6", "g", "7", "h", "8"),
    R(":1\r\n", "PEXPIRE", "a", "100"),
    R(":1\r\n", "PEXPIRE", "b", "100"),
    R(":1\r\n", "PEXPIRE", "c", "100"),
    R(":1\r\n", "PEXPIRE", "d", "100"),
    R(":1\r\n", "PEXPIRE", "e", "100"),
    R(":1\r\n", "PEXPIRE", "f", "100"),
    R(":1\r\n", "PEXPIRE", "g", "100"),
    R(":1\r\n", "PEXPIRE", "h", "100"),
    CLOCK(200),
    R("-ERR no such key\r\n", "RENAME", "a", "x"),
    R("-ERR no such key\r\n", "RENAMENX", "b", "x"),
    R(":1\r\n", "SETNX", "c", "new"),
    R(":-1\r\n", "TTL", "c"),
    R(":1\r\n", "INCR", "d"),
    R(":-1\r\n", "TTL", "d"),
    R(":1\r\n", "APPEND", "e", "x"),
    R("$-1\r\n", "GETSET", "f", "new"),
    R(":1\r\n", "MSETNX", "g", "new", "y", "new"),
    R(":0\r\n", "EXPIRE", "h", "100"),
    R(":0\r\n", "PERSIST", "h"),
    R(":-2\r\n", "TTL", "h"),
    R(":-2\r\n", "PEXPIRETIME", "h"),
    R(":0\r\n", "TOUCH", "a", "b", "h"),
    R(":0\r\n", "EXISTS", "a", "b", "h"),
    R("+none\r\n", "TYPE", "h"),
    R(":0\r\n", "STRLEN", "h"),
    R("$0\r\n\r\n", "GETRANGE", "h", "0", "-1"),
    R("$-1\r\n", "GETDEL", "h"),
    R(":0\r\n", "DEL", "a", "b", "h"),
    R("*7\r\n$-1\r\n$3\r\nnew\r\n$1\r\n1\r\n$1\r\nx\r\n$3\r\nnew\r\n$3\r\nnew\r\n$3\r\nnew\r\n", "MGET", "a",
      "c", "d", "e", "f", "g", "y"),
    R("*0\r\n", "KEYS", "[ab]"),
    R("*2\r\n$1\r\n0\r\n*0\r\n", "SCAN", "0", "MATCH", "[ab]"),
    R("$-1\r\n", "SET", "a", "v", "XX"),
    R("$-1\r\n", "SET", "b", "v", "NX", "GET"),
    R(":7\r\n", "DBSIZE"),
};
TABLE(expired_keys)

/* Keys that expire and are never touched again. */
static const struct row expired_keys_untouched[] = {
    R("+OK\r\n", "SET", "k", "v", "PX", "100"),
    R("+OK\r\n", "SET", "p", "v"),
    CLOCK(200),
    /* DBSIZE is left out: both servers count such a key until a background pass removes it (Redis's
     * active expiry, cairn's reclaim job, which these tests do not run) */
    R("*1\r\n$1\r\np\r\n", "KEYS", "*"),
    R("$1\r\np\r\n", "RANDOMKEY"),
};
TABLE(expired_keys_untouched)

/* ---- SETNX, SETEX, PSETEX, GETSET, GETDEL, GETEX ---- */

static const struct row setnx_setex_psetex[] = {
    R(":1\r\n", "SETNX", "k", "v"),
    R(":0\r\n", "SETNX", "k", "w"),
    R("$1\r\nv\r\n", "GET", "k"),
    R("+OK\r\n", "SETEX", "k", "100", "x"),
    R("$1\r\nx\r\n", "GET", "k"),
    R(":100\r\n", "TTL", "k"),
    R(":0\r\n", "SETNX", "k", "y"),
    R(":100\r\n", "TTL", "k"),
    R("-ERR invalid expire time in 'setex' command\r\n", "SETEX", "k", "0", "x"),
    R("-ERR invalid expire time in 'setex' command\r\n", "SETEX", "k", "-1", "x"),
    R("-ERR value is not an integer or out of range\r\n", "SETEX", "k", "abc", "x"),
    R("-ERR invalid expire time in 'setex' command\r\n", "SETEX", "k", "9223372036854775807", "x"),
    R("-ERR invalid expire time in 'setex' command\r\n", "SETEX", "k", "9223372036854775", "x"),
    R("+OK\r\n", "PSETEX", "k", "1500", "y"),
    R(":1500\r\n", "PTTL", "k"),
    R("$1\r\ny\r\n", "GET", "k"),
    R("-ERR invalid expire time in 'psetex' command\r\n", "PSETEX", "k", "0", "y"),
    R("-ERR invalid expire time in 'psetex' command\r\n", "PSETEX", "k", "-100", "y"),
    R("-ERR value is not an integer or out of range\r\n", "PSETEX", "k", "1e3", "y"),
    R("-ERR invalid expire time in 'psetex' command\r\n", "PSETEX", "k", "9223372036854775807", "y"),
    R("$1\r\ny\r\n", "GET", "k"),
    R("-ERR wrong number of arguments for 'setnx' command\r\n", "SETNX", "k"),
    R("-ERR wrong number of arguments for 'setnx' command\r\n", "SETNX", "k", "v", "w"),
    R("-ERR wrong number of arguments for 'setex' command\r\n", "SETEX", "k", "10"),
    R("-ERR wrong number of arguments for 'setex' command\r\n", "SETEX", "k", "10", "x", "y"),
    R("-ERR wrong number of arguments for 'psetex' command\r\n", "PSETEX", "k", "10"),
};
TABLE(setnx_setex_psetex)

static const struct row getset_getdel[] = {
    R("$-1\r\n", "GETSET", "k", "v"),
    R("$1\r\nv\r\n", "GETSET", "k", "w"),
    R("$1\r\nw\r\n", "GET", "k"),
    R("+OK\r\n", "SET", "t", "v", "EX", "100"),
    R("$1\r\nv\r\n", "GETSET", "t", "w"),
    R(":-1\r\n", "TTL", "t"),
    R("$1\r\nw\r\n", "GETDEL", "k"),
    R("$-1\r\n", "GETDEL", "k"),
    R(":0\r\n", "EXISTS", "k"),
    R("+OK\r\n", "SET", "e", ""),
    R("$0\r\n\r\n", "GETDEL", "e"),
    R(":0\r\n", "EXISTS", "e"),
    R("-ERR wrong number of arguments for 'getset' command\r\n", "GETSET", "k"),
    R("-ERR wrong number of arguments for 'getset' command\r\n", "GETSET", "k", "v", "w"),
    R("-ERR wrong number of arguments for 'getdel' command\r\n", "GETDEL"),
    R("-ERR wrong number of arguments for 'getdel' command\r\n", "GETDEL", "a", "b"),
};
TABLE(getset_getdel)

static const struct row getex[] = {
    R("$-1\r\n", "GETEX", "k"),
    R("+OK\r\n", "SET", "k", "v"),
    R("$1\r\nv\r\n", "GETEX", "k"),
    R(":-1\r\n", "TTL", "k"),
    R("$1\r\nv\r\n", "GETEX", "k", "EX", "100"),
    R(":100\r\n", "TTL", "k"),
    R("$1\r\nv\r\n", "GETEX", "k", "px", "5000"),
    R(":5000\r\n", "PTTL", "k"),
    R("$1\r\nv\r\n", "GETEX", "k"),
    R(":5000\r\n", "PTTL", "k"),
    R("$1\r\nv\r\n", "GETEX", "k", "PERSIST"),
    R(":-1\r\n", "TTL", "k"),
    R("$1\r\nv\r\n", "GETEX", "k", "EXAT", "4000000000"),
    R(":4000000000\r\n", "EXPIRETIME", "k"),
    R("$1\r\nv\r\n", "GETEX", "k", "PXAT", "4000000000555"),
    R(":4000000000555\r\n", "PEXPIRETIME", "k"),
    R("$1\r\nv\r\n", "GETEX", "k", "persist", "PERSIST"),
    R(":-1\r\n", "TTL", "k"),
    R("$1\r\nv\r\n", "GETEX", "k", "EX", "10", "EX", "20"),
    R(":20\r\n", "TTL", "k"),
    R("-ERR invalid expire time in 'getex' command\r\n", "GETEX", "k", "EX", "0"),
    R("-ERR invalid expire time in 'getex' command\r\n", "GETEX", "k", "PX", "-1"),
    R("-ERR value is not an integer or out of range\r\n", "GETEX", "k", "EX", "abc"),
    R("-ERR invalid expire time in 'getex' command\r\n", "GETEX", "k", "EX", "9223372036854775807"),
    R("$-1\r\n", "GETEX", "missing", "EX", "0"),
    R("$-1\r\n", "GETEX", "missing", "EX", "abc"),
    R("-ERR syntax error\r\n", "GETEX", "missing", "foo"),
    R("-ERR syntax error\r\n", "GETEX", "k", "EX", "10", "PX", "100"),
    R("-ERR syntax error\r\n", "GETEX", "k", "EXAT", "4000000000", "PXAT", "4000000000000"),
    R("-ERR syntax error\r\n", "GETEX", "k", "PERSIST", "EX", "10"),
    R("-ERR syntax error\r\n", "GETEX", "k", "EX", "10", "PERSIST"),
    R("-ERR syntax error\r\n", "GETEX", "k", "KEEPTTL"),
    R("-ERR syntax error\r\n", "GETEX", "k", "NX"),
    R("-ERR syntax error\r\n", "GETEX", "k", "XX"),
    R("-ERR syntax error\r\n", "GETEX", "k", "GET"),
    R("-ERR syntax error\r\n", "GETEX", "k", "EX"),
    R("-ERR syntax error\r\n", "GETEX", "k", "foo"),
    R(":20\r\n", "TTL", "k"),
    R("$1\r\nv\r\n", "GETEX", "k", "EXAT", "1"),
    R(":0\r\n", "EXISTS", "k"),
    R("+OK\r\n", "SET", "k", "v"),
    R("$1\r\nv\r\n", "GETEX", "k", "PXAT", "1"),
    R("$-1\r\n", "GET", "k"),
    R("-ERR wrong number of arguments for 'getex' command\r\n", "GETEX"),
};
TABLE(getex)

/* ---- MGET, MSET, MSETNX ---- */

static const struct row mget_mset[] = {
    R("+OK\r\n", "MSET", "a", "1", "b", "2"),
    R("*3\r\n$1\r\n1\r\n$1\r\n2\r\n$-1\r\n", "MGET", "a", "b", "c"),
    R("*1\r\n$-1\r\n", "MGET", "c"),
    R("*2\r\n$1\r\n1\r\n$1\r\n1\r\n", "MGET", "a", "a"),
    R("+OK\r\n", "MSET", "a", "x", "a", "y"),
    R("$1\r\ny\r\n", "GET", "a"),
    R("-ERR wrong number of arguments for 'mset' command\r\n", "MSET", "a"),
    R("-ERR wrong number of arguments for 'mset' command\r\n", "MSET", "a", "1", "b"),
    R(":1\r\n", "MSETNX", "c", "3", "d", "4"),
    R(":0\r\n", "MSETNX", "d", "5", "e", "6"),
    R("*3\r\n$1\r\n3\r\n$1\r\n4\r\n$-1\r\n", "MGET", "c", "d", "e"),
    R(":1\r\n", "MSETNX", "e", "1", "e", "2"),
    R("$1\r\n2\r\n", "GET", "e"),
    R("-ERR wrong number of arguments for 'msetnx' command\r\n", "MSETNX", "f", "1", "g"),
    R("-ERR wrong number of arguments for 'msetnx' command\r\n", "MSETNX", "f"),
    R("-ERR wrong number of arguments for 'mget' command\r\n", "MGET"),
    R("+OK\r\n", "SET", "t", "v", "EX", "100"),
    R("+OK\r\n", "MSET", "t", "w"),
    R(":-1\r\n", "TTL", "t"),
    R("+OK\r\n", "MSET", "e", ""),
    R("*2\r\n$0\r\n\r\n$1\r\nw\r\n", "MGET", "e", "t"),
};
TABLE(mget_mset)

/* ---- APPEND, STRLEN, GETRANGE, SUBSTR, SETRANGE ---- */

static const struct row append_strlen[] = {
    R(":2\r\n", "APPEND", "k", "ab"),
    R(":4\r\n", "APPEND", "k", "cd"),
    R("$4\r\nabcd\r\n", "GET", "k"),
    R(":4\r\n", "APPEND", "k", ""),
    R(":4\r\n", "STRLEN", "k"),
    R(":0\r\n", "STRLEN", "nokey"),
    R("+OK\r\n", "SET", "t", "v", "EX", "100"),
    R(":2\r\n", "APPEND", "t", "w"),
    R(":100\r\n", "TTL", "t"),
    R("$2\r\nvw\r\n", "GET", "t"),
    R(":0\r\n", "APPEND", "e", ""),
    R(":1\r\n", "EXISTS", "e"),
    R(":0\r\n", "STRLEN", "e"),
    R("+OK\r\n", "SET", "n", "12"),
    R(":3\r\n", "APPEND", "n", "3"),
    R(":124\r\n", "INCR", "n"),
    RAW("*3\r\n$6\r\nAPPEND\r\n$1\r\nb\r\n$3\r\n\0\r\0\r\n", ":3\r\n"),
    RAW("*3\r\n$6\r\nAPPEND\r\n$1\r\nb\r\n$1\r\n\0\r\n", ":4\r\n"),
    R("$4\r\n\000\r\000\000\r\n", "GET", "b"),
    R("-ERR wrong number of arguments for 'append' command\r\n", "APPEND", "k"),
    R("-ERR wrong number of arguments for 'append' command\r\n", "APPEND", "k", "a", "b"),
    R("-ERR wrong number of arguments for 'strlen' command\r\n", "STRLEN"),
    R("-ERR wrong number of arguments for 'strlen' command\r\n", "STRLEN", "a", "b"),
};
TABLE(append_strlen)

static const struct row getrange_substr[] = {
    R("+OK\r\n", "SET", "k", "Hello World"),
    R("$5\r\nHello\r\n", "GETRANGE", "k", "0", "4"),
    R("$5\r\nWorld\r\n", "GETRANGE", "k", "-5", "-1"),
    R("$11\r\nHello World\r\n", "GETRANGE", "k", "0", "-1"),
    R("$11\r\nHello World\r\n", "GETRANGE", "k", "0", "100"),
    R("$0\r\n\r\n", "GETRANGE", "k", "5", "3"),
    R("$0\r\n\r\n", "GETRANGE", "k", "-1", "-5"),
    R("$3\r\nHel\r\n", "GETRANGE", "k", "-100", "2"),
    R("$1\r\nH\r\n", "GETRANGE", "k", "-100", "-100"),
    R("$1\r\nH\r\n", "GETRANGE", "k", "-100", "-50"),
    R("$0\r\n\r\n", "GETRANGE", "k", "20", "30"),
    R("$1\r\nd\r\n", "GETRANGE", "k", "10", "10"),
    R("$0\r\n\r\n", "GETRANGE", "k", "11", "11"),
    R("$1\r\nH\r\n", "GETRANGE", "k", "0", "-100"),
    R("$0\r\n\r\n", "GETRANGE", "k", "3", "-100"),
    R("$3\r\nrld\r\n", "GETRANGE", "k", "-3", "100"),
    R("$0\r\n\r\n", "GETRANGE", "k", "9223372036854775807", "9223372036854775807"),
    R("$11\r\nHello World\r\n", "GETRANGE", "k", "-9223372036854775808", "-1"),
    R("$11\r\nHello World\r\n", "GETRANGE", "k", "0", "9223372036854775807"),
    R("$0\r\n\r\n", "GETRANGE", "nokey", "0", "-1"),
    R("-ERR value is not an integer or out of range\r\n", "GETRANGE", "nokey", "a", "b"),
    R("-ERR value is not an integer or out of range\r\n", "GETRANGE", "k", "a", "1"),
    R("-ERR value is not an integer or out of range\r\n", "GETRANGE", "k", "0", "1.5"),
    R("-ERR value is not an integer or out of range\r\n", "GETRANGE", "k", "0", "9223372036854775808"),
    R("$5\r\nHello\r\n", "SUBSTR", "k", "0", "4"),
    R("$3\r\nrld\r\n", "substr", "k", "-3", "-1"),
    R("$0\r\n\r\n", "SUBSTR", "k", "4", "0"),
    R("-ERR value is not an integer or out of range\r\n", "SUBSTR", "k", "x", "0"),
    R("$0\r\n\r\n", "SUBSTR", "nokey", "0", "4"),
    R("+OK\r\n", "SET", "e", ""),
    R("$0\r\n\r\n", "GETRANGE", "e", "0", "-1"),
    R("$0\r\n\r\n", "GETRANGE", "e", "0", "0"),
    R("$0\r\n\r\n", "GETRANGE", "e", "-1", "-1"),
    R("-ERR wrong number of arguments for 'substr' command\r\n", "SUBSTR", "k", "0"),
    R("-ERR wrong number of arguments for 'getrange' command\r\n", "GETRANGE", "k", "0"),
    R("-ERR wrong number of arguments for 'getrange' command\r\n", "GETRANGE", "k", "0", "1", "2"),
};
TABLE(getrange_substr)

static const struct row setrange[] = {
    R(":5\r\n", "SETRANGE", "k", "0", "Hello"),
    R(":11\r\n", "SETRANGE", "k", "6", "World"),
    R("$11\r\nHello\000World\r\n", "GET", "k"),
    R(":11\r\n", "SETRANGE", "k", "0", "J"),
    R(":12\r\n", "SETRANGE", "k", "9", "xyz"),
    R("$12\r\nJello\000Worxyz\r\n", "GET", "k"),
    R(":12\r\n", "SETRANGE", "k", "2", ""),
    R(":12\r\n", "SETRANGE", "k", "999", ""),
    R(":0\r\n", "SETRANGE", "nokey", "0", ""),
    R(":0\r\n", "SETRANGE", "nokey", "3", ""),
    R(":0\r\n", "EXISTS", "nokey"),
    R(":5\r\n", "SETRANGE", "z", "3", "ab"),
    R("$5\r\n\000\000\000ab\r\n", "GET", "z"),
    R("-ERR offset is out of range\r\n", "SETRANGE", "k", "-1", "x"),
    R("-ERR offset is out of range\r\n", "SETRANGE", "k", "-1", ""),
    R("-ERR value is not an integer or out of range\r\n", "SETRANGE", "k", "abc", "x"),
    R("-ERR string exceeds maximum allowed size (proto-max-bulk-len)\r\n", "SETRANGE", "k", "536870912", "x"),
    R("-ERR string exceeds maximum allowed size (proto-max-bulk-len)\r\n", "SETRANGE", "nokey", "536870912",
      "x"),
    R("-ERR string exceeds maximum allowed size (proto-max-bulk-len)\r\n", "SETRANGE", "k",
      "9223372036854775807", "x"),
    R(":12\r\n", "STRLEN", "k"),
    R("+OK\r\n", "SET", "t", "v", "EX", "100"),
    R(":2\r\n", "SETRANGE", "t", "1", "w"),
    R(":100\r\n", "TTL", "t"),
    R("$2\r\nvw\r\n", "GET", "t"),
    R("-ERR wrong number of arguments for 'setrange' command\r\n", "SETRANGE", "k", "0"),
    R("-ERR wrong number of arguments for 'setrange' command\r\n", "SETRANGE", "k", "0", "a", "b"),
};
TABLE(setrange)

/* ---- INCR, DECR, INCRBY, DECRBY, INCRBYFLOAT ---- */

static const struct row incr_decr[] = {
    R(":1\r\n", "INCR", "n"),
    R(":2\r\n", "INCR", "n"),
    R(":1\r\n", "DECR", "n"),
    R(":-1\r\n", "DECR", "m"),
    R("$2\r\n-1\r\n", "GET", "m"),
    R(":11\r\n", "INCRBY", "n", "10"),
    R(":-9\r\n", "INCRBY", "n", "-20"),
    R(":0\r\n", "DECRBY", "n", "-9"),
    R(":-5\r\n", "DECRBY", "n", "5"),
    R(":-5\r\n", "incrby", "n", "0"),
    R("+OK\r\n", "SET", "n", "9223372036854775806"),
    R(":9223372036854775807\r\n", "INCR", "n"),
    R("-ERR increment or decrement would overflow\r\n", "INCR", "n"),
    R("-ERR increment or decrement would overflow\r\n", "INCRBY", "n", "1"),
    R("$19\r\n9223372036854775807\r\n", "GET", "n"),
    R(":-1\r\n", "INCRBY", "n", "-9223372036854775808"),
    R("+OK\r\n", "SET", "n", "-9223372036854775807"),
    R(":-9223372036854775808\r\n", "DECR", "n"),
    R("-ERR increment or decrement would overflow\r\n", "DECR", "n"),
    R("-ERR increment or decrement would overflow\r\n", "DECRBY", "n", "1"),
    R("-ERR increment or decrement would overflow\r\n", "INCRBY", "n", "-1"),
    R(":-9223372036854775807\r\n", "DECRBY", "n", "-1"),
    R("-ERR decrement would overflow\r\n", "DECRBY", "n", "-9223372036854775808"),
    R("-ERR decrement would overflow\r\n", "DECRBY", "nokey", "-9223372036854775808"),
    R(":-9223372036854775808\r\n", "INCRBY", "nokey", "-9223372036854775808"),
    R("-ERR increment or decrement would overflow\r\n", "DECRBY", "nokey", "9223372036854775807"),
    R("-ERR value is not an integer or out of range\r\n", "INCRBY", "n", "9223372036854775808"),
    R("-ERR value is not an integer or out of range\r\n", "INCRBY", "n", "abc"),
    R("-ERR value is not an integer or out of range\r\n", "INCRBY", "n", "1.0"),
    R("-ERR value is not an integer or out of range\r\n", "INCRBY", "n", " 1"),
    R("-ERR value is not an integer or out of range\r\n", "INCRBY", "n", "1 "),
    R("-ERR value is not an integer or out of range\r\n", "INCRBY", "n", "+1"),
    R("-ERR value is not an integer or out of range\r\n", "INCRBY", "n", "01"),
    R("-ERR value is not an integer or out of range\r\n", "INCRBY", "n", "-0"),
    R("-ERR value is not an integer or out of range\r\n", "INCRBY", "n", ""),
    R("-ERR value is not an integer or out of range\r\n", "DECRBY", "n", "x"),
    R("+OK\r\n", "SET", "s", "abc"),
    R("-ERR value is not an integer or out of range\r\n", "INCR", "s"),
    R("-ERR value is not an integer or out of range\r\n", "DECR", "s"),
    R("+OK\r\n", "SET", "s", "01"),
    R("-ERR value is not an integer or out of range\r\n", "INCR", "s"),
    R("+OK\r\n", "SET", "s", " 1"),
    R("-ERR value is not an integer or out of range\r\n", "INCR", "s"),
    R("+OK\r\n", "SET", "s", "1 "),
    R("-ERR value is not an integer or out of range\r\n", "INCR", "s"),
    R("+OK\r\n", "SET", "s", "-0"),
    R("-ERR value is not an integer or out of range\r\n", "INCR", "s"),
    R("+OK\r\n", "SET", "s", "+1"),
    R("-ERR value is not an integer or out of range\r\n", "INCR", "s"),
    R("+OK\r\n", "SET", "s", "1.0"),
    R("-ERR value is not an integer or out of range\r\n", "INCR", "s"),
    R("+OK\r\n", "SET", "s", ""),
    R("-ERR value is not an integer or out of range\r\n", "INCR", "s"),
    R("+OK\r\n", "SET", "s", "9223372036854775808"),
    R("-ERR value is not an integer or out of range\r\n", "INCR", "s"),
    R("$19\r\n9223372036854775808\r\n", "GET", "s"),
    R("+OK\r\n", "SET", "s", "0"),
    R(":1\r\n", "INCR", "s"),
    R("+OK\r\n", "SET", "s", "-10"),
    R(":15\r\n", "INCRBY", "s", "25"),
    R("+OK\r\n", "SET", "t", "5", "EX", "100"),
    R(":6\r\n", "INCR", "t"),
    R(":100\r\n", "TTL", "t"),
    R("-ERR wrong number of arguments for 'incr' command\r\n", "INCR"),
    R("-ERR wrong number of arguments for 'incr' command\r\n", "INCR", "a", "b"),
    R("-ERR wrong number of arguments for 'decr' command\r\n", "DECR"),
    R("-ERR wrong number of arguments for 'incrby' command\r\n", "INCRBY", "a"),
    R("-ERR wrong number of arguments for 'incrby' command\r\n", "INCRBY", "a", "1", "2"),
    R("-ERR wrong number of arguments for 'decrby' command\r\n", "DECRBY", "a"),
};
TABLE(incr_decr)

static const struct row incrbyfloat[] = {
    R("$4\r\n10.5\r\n", "INCRBYFLOAT", "f", "10.5"),
    R("$4\r\n10.6\r\n", "INCRBYFLOAT", "f", "0.1"),
    R("$3\r\n5.6\r\n", "INCRBYFLOAT", "f", "-5"),
    R("$1\r\n0\r\n", "INCRBYFLOAT", "f", "-5.6"),
    R("$1\r\n0\r\n", "GET", "f"),
    R("+OK\r\n", "SET", "f", "5.0e3"),
    R("$4\r\n5200\r\n", "INCRBYFLOAT", "f", "2.0e2"),
    R("$22\r\n5200.00001000000000007\r\n", "INCRBYFLOAT", "f", "1e-5"),
    R("+OK\r\n", "SET", "g", "3"),
    R("$3\r\n4.5\r\n", "INCRBYFLOAT", "g", "1.5"),
    R("$3\r\n0.1\r\n", "INCRBYFLOAT", "h", "0.1"),
    R("$3\r\n0.3\r\n", "INCRBYFLOAT", "h", "0.2"),
    R("$21\r\n100000000000000000000\r\n", "INCRBYFLOAT", "i", "1e20"),
    R("$21\r\n100000000000000000000\r\n", "INCRBYFLOAT", "i", "1"),
    R("$1\r\n0\r\n", "INCRBYFLOAT", "j", "-0"),
    R("$5\r\n-1.25\r\n", "INCRBYFLOAT", "j", "-1.25"),
    R("$2\r\n-1\r\n", "INCRBYFLOAT", "j", ".25"),
    R("$1\r\n0\r\n", "INCRBYFLOAT", "j", "1."),
    R("$2\r\n16\r\n", "INCRBYFLOAT", "j", "0x10"),
    R("$3\r\n116\r\n", "INCRBYFLOAT", "j", "1E2"),
    R("$20\r\n119.0000000000000001\r\n", "INCRBYFLOAT", "j", "3.0000000000000001"),
    R("$20\r\n119.0000000000000001\r\n", "INCRBYFLOAT", "j", "0.00000000000000001"),
    R("$20\r\n-0.00000000000000001\r\n", "INCRBYFLOAT", "k", "-0.00000000000000001"),
    R("$1\r\n0\r\n", "INCRBYFLOAT", "z", "1e-20"),
    R("$1\r\n0\r\n", "GET", "z"),
    R("$301\r\n1500000000000000000049800109861472166362379239118673928551219718248973529929812708792854310575"
      "830930686530644566050229406926646739311017606984258288377434143937602778196710661234655944195770838513"
      "268846826150205418632995547271874827072936230594920013241190363994471886080567336615911694509046614720"
      "512\r\n",
      "INCRBYFLOAT", "big", "1.5e300"),
    R("$1\r\n0\r\n", "INCRBYFLOAT", "big", "-1.5e300"),
    R("-ERR value is not a valid float\r\n", "INCRBYFLOAT", "f", "abc"),
    R("-ERR value is not a valid float\r\n", "INCRBYFLOAT", "f", ""),
    R("-ERR value is not a valid float\r\n", "INCRBYFLOAT", "f", " 1"),
    R("-ERR value is not a valid float\r\n", "INCRBYFLOAT", "f", "1 "),
    R("-ERR value is not a valid float\r\n", "INCRBYFLOAT", "f", "1,5"),
    R("-ERR value is not a valid float\r\n", "INCRBYFLOAT", "f", "nan"),
    R("-ERR increment would produce NaN or Infinity\r\n", "INCRBYFLOAT", "f", "inf"),
    R("-ERR increment would produce NaN or Infinity\r\n", "INCRBYFLOAT", "f", "-inf"),
    R("-ERR value is not a valid float\r\n", "INCRBYFLOAT", "f", "1e5000"),
    R("-ERR value is not a valid float\r\n", "INCRBYFLOAT", "f", "1e-5000"),
    R("$22\r\n5200.00001000000000007\r\n", "GET", "f"),
    R("+OK\r\n", "SET", "s", "abc"),
    R("-ERR value is not a valid float\r\n", "INCRBYFLOAT", "s", "1"),
    R("+OK\r\n", "SET", "s", "1.5 "),
    R("-ERR value is not a valid float\r\n", "INCRBYFLOAT", "s", "1"),
    R("+OK\r\n", "SET", "s", ""),
    R("-ERR value is not a valid float\r\n", "INCRBYFLOAT", "s", "1"),
    R("+OK\r\n", "SET", "s", "9223372036854775808"),
    R("$19\r\n9223372036854775809\r\n", "INCRBYFLOAT", "s", "1"),
    R("+OK\r\n", "SET", "t", "1", "EX", "100"),
    R("$1\r\n2\r\n", "INCRBYFLOAT", "t", "1"),
    R(":100\r\n", "TTL", "t"),
    R("-ERR wrong number of arguments for 'incrbyfloat' command\r\n", "INCRBYFLOAT", "f"),
    R("-ERR wrong number of arguments for 'incrbyfloat' command\r\n", "INCRBYFLOAT", "f", "1", "2"),
};
TABLE(incrbyfloat)

/* ---- DEL, UNLINK, EXISTS, TOUCH, TYPE, RENAME, RENAMENX ---- */

static const struct row del_exists_touch_type[] = {
    R("+OK\r\n", "MSET", "a", "1", "b", "2", "c", "3"),
    R(":1\r\n", "EXISTS", "a"),
    R(":2\r\n", "EXISTS", "a", "a", "x"),
    R(":1\r\n", "DEL", "a", "x"),
    R(":0\r\n", "DEL", "a"),
    R(":2\r\n", "UNLINK", "b", "c", "b"),
    R(":0\r\n", "unlink", "b"),
    R(":0\r\n", "DBSIZE"),
    R("+OK\r\n", "SET", "k", "v"),
    R(":2\r\n", "TOUCH", "k", "x", "k"),
    R(":0\r\n", "TOUCH", "x"),
    R("+string\r\n", "TYPE", "k"),
    R("+none\r\n", "TYPE", "x"),
    R("+OK\r\n", "SET", "", "empty key"),
    R(":1\r\n", "EXISTS", ""),
    R("+string\r\n", "TYPE", ""),
    R(":2\r\n", "DEL", "", "k"),
    R(":0\r\n", "DBSIZE"),
    R("-ERR wrong number of arguments for 'del' command\r\n", "DEL"),
    R("-ERR wrong number of arguments for 'unlink' command\r\n", "UNLINK"),
    R("-ERR wrong number of arguments for 'exists' command\r\n", "EXISTS"),
    R("-ERR wrong number of arguments for 'touch' command\r\n", "TOUCH"),
    R("-ERR wrong number of arguments for 'type' command\r\n", "TYPE"),
    R("-ERR wrong number of arguments for 'type' command\r\n", "TYPE", "a", "b"),
};
TABLE(del_exists_touch_type)

static const struct row rename_renamenx[] = {
    R("-ERR no such key\r\n", "RENAME", "a", "b"),
    R("-ERR no such key\r\n", "RENAMENX", "a", "b"),
    R("-ERR no such key\r\n", "RENAME", "a", "a"),
    R("+OK\r\n", "SET", "a", "1"),
    R("+OK\r\n", "RENAME", "a", "b"),
    R("$-1\r\n", "GET", "a"),
    R("$1\r\n1\r\n", "GET", "b"),
    R("+OK\r\n", "RENAME", "b", "b"),
    R(":0\r\n", "RENAMENX", "b", "b"),
    R("$1\r\n1\r\n", "GET", "b"),
    R("+OK\r\n", "SET", "c", "3"),
    R(":0\r\n", "RENAMENX", "b", "c"),
    R(":1\r\n", "RENAMENX", "b", "d"),
    R("*3\r\n$-1\r\n$1\r\n3\r\n$1\r\n1\r\n", "MGET", "b", "c", "d"),
    R("+OK\r\n", "SET", "t", "v", "EX", "100"),
    R("+OK\r\n", "RENAME", "t", "u"),
    R(":100\r\n", "TTL", "u"),
    R(":1\r\n", "RENAMENX", "u", "w"),
    R(":100\r\n", "TTL", "w"),
    R("+OK\r\n", "SET", "x", "new"),
    R("+OK\r\n", "SET", "y", "old", "EX", "50"),
    R("+OK\r\n", "RENAME", "x", "y"),
    R("$3\r\nnew\r\n", "GET", "y"),
    R(":-1\r\n", "TTL", "y"),
    R(":0\r\n", "EXISTS", "x"),
    R("-ERR wrong number of arguments for 'rename' command\r\n", "RENAME", "a"),
    R("-ERR wrong number of arguments for 'rename' command\r\n", "RENAME", "a", "b", "c"),
    R("-ERR wrong number of arguments for 'renamenx' command\r\n", "RENAMENX", "a"),
};
TABLE(rename_renamenx)

/* ---- EXPIRE, PEXPIRE, EXPIREAT, PEXPIREAT ---- */

static const struct row expire_family[] = {
    R(":0\r\n", "EXPIRE", "k", "100"),
    R(":0\r\n", "PEXPIRE", "k", "100"),
    R(":0\r\n", "EXPIREAT", "k", "4000000000"),
    R(":0\r\n", "PEXPIREAT", "k", "4000000000000"),
    R("+OK\r\n", "SET", "k", "v"),
    R(":1\r\n", "EXPIRE", "k", "100"),
    R(":100\r\n", "TTL", "k"),
    R(":0\r\n", "EXPIRE", "k", "200", "NX"),
    R(":1\r\n", "EXPIRE", "k", "200", "XX"),
    R(":200\r\n", "TTL", "k"),
    R(":0\r\n", "EXPIRE", "k", "100", "GT"),
    R(":1\r\n", "EXPIRE", "k", "300", "gt"),
    R(":0\r\n", "EXPIRE", "k", "400", "LT"),
    R(":1\r\n", "EXPIRE", "k", "150", "lt"),
    R(":150\r\n", "TTL", "k"),
    R(":0\r\n", "EXPIRE", "k", "150", "LT"),
    R(":0\r\n", "EXPIRE", "k", "150", "GT"),
    R(":1\r\n", "PERSIST", "k"),
    R(":0\r\n", "PERSIST", "k"),
    R(":0\r\n", "EXPIRE", "k", "100", "XX"),
    R(":0\r\n", "EXPIRE", "k", "100", "GT"),
    R(":-1\r\n", "TTL", "k"),
    R(":1\r\n", "EXPIRE", "k", "100", "LT"),
    R(":0\r\n", "EXPIRE", "k", "50", "NX"),
    R(":1\r\n", "PERSIST", "k"),
    R(":1\r\n", "EXPIRE", "k", "50", "NX"),
    R(":1\r\n", "EXPIRE", "k", "60", "XX", "GT"),
    R(":1\r\n", "EXPIRE", "k", "70", "GT", "GT"),
    R(":70\r\n", "TTL", "k"),
    R("-ERR NX and XX, GT or LT options at the same time are not compatible\r\n", "EXPIRE", "k", "10", "NX",
      "XX"),
    R("-ERR NX and XX, GT or LT options at the same time are not compatible\r\n", "EXPIRE", "k", "10", "NX",
      "GT"),
    R("-ERR NX and XX, GT or LT options at the same time are not compatible\r\n", "EXPIRE", "k", "10", "LT",
      "NX"),
    R("-ERR GT and LT options at the same time are not compatible\r\n", "EXPIRE", "k", "10", "GT", "LT"),
    R("-ERR Unsupported option foo\r\n", "EXPIRE", "k", "10", "foo"),
    R("-ERR Unsupported option foo\r\n", "EXPIRE", "k", "10", "NX", "foo"),
    R("-ERR value is not an integer or out of range\r\n", "EXPIRE", "k", "abc"),
    R("-ERR Unsupported option foo\r\n", "EXPIRE", "k", "abc", "foo"),
    R("-ERR NX and XX, GT or LT options at the same time are not compatible\r\n", "EXPIRE", "k", "abc", "NX",
      "XX"),
    R("-ERR Unsupported option foo\r\n", "EXPIRE", "missing", "10", "foo"),
    R("-ERR invalid expire time in 'expire' command\r\n", "EXPIRE", "k", "9223372036854775807"),
    R("-ERR invalid expire time in 'expire' command\r\n", "EXPIRE", "k", "-9223372036854775808"),
    R("-ERR invalid expire time in 'expire' command\r\n", "EXPIRE", "k", "9223372036854775"),
    R("-ERR invalid expire time in 'pexpire' command\r\n", "PEXPIRE", "k", "9223372036854775807"),
    /* an expiry 292 million years ahead: see the TTL below */
    R(":1\r\n", "PEXPIREAT", "k", "9223372036854775807", "XX", "GT"),
    R("-ERR invalid expire time in 'expireat' command\r\n", "EXPIREAT", "k", "9223372036854776"),
    R("-ERR value is not an integer or out of range\r\n", "EXPIRE", "k", "1.5"),
    R("-ERR value is not an integer or out of range\r\n", "EXPIRE", "k", ""),
    /* cairn: an expiry is held up to about 136 years after the server's start (2^32 - 1 s on its clock,
     * here 1000 s old), so the expiry above reads back as that limit; Redis answers (LLONG_MAX - now) /
     * 1000 (tests/resp/known_differences.txt: expire/pexpireat-huge) */
    R(":4294966295\r\n", "TTL", "k"),
    R(":1\r\n", "PEXPIRE", "k", "1500"),
    R(":1500\r\n", "PTTL", "k"),
    R(":1\r\n", "EXPIREAT", "k", "4000000000"),
    R(":4000000000\r\n", "EXPIRETIME", "k"),
    R(":1\r\n", "PEXPIREAT", "k", "4000000000001"),
    R(":4000000000001\r\n", "PEXPIRETIME", "k"),
    R(":0\r\n", "EXPIREAT", "k", "4000000000", "GT"),
    R(":1\r\n", "EXPIREAT", "k", "4000000001", "GT"),
    R(":1\r\n", "PEXPIREAT", "k", "4000000000500", "LT"),
    R(":4000000001\r\n", "EXPIRETIME", "k"),
    R(":4000000000500\r\n", "PEXPIRETIME", "k"),
    R(":1\r\n", "EXPIRE", "k", "0"),
    R(":0\r\n", "EXISTS", "k"),
    R("+OK\r\n", "SET", "k", "v"),
    R(":1\r\n", "EXPIRE", "k", "-1"),
    R("$-1\r\n", "GET", "k"),
    R("+OK\r\n", "SET", "k", "v"),
    R(":1\r\n", "PEXPIREAT", "k", "1"),
    R(":0\r\n", "EXISTS", "k"),
    R("+OK\r\n", "SET", "k", "v"),
    R(":1\r\n", "EXPIREAT", "k", "0", "NX"),
    R(":0\r\n", "EXISTS", "k"),
    R("+OK\r\n", "SET", "k", "v"),
    R(":0\r\n", "EXPIREAT", "k", "1", "XX"),
    R(":1\r\n", "EXISTS", "k"),
    R("+OK\r\n", "SET", "k", "v", "EX", "100"),
    R(":0\r\n", "EXPIRE", "k", "-1", "GT"),
    R(":1\r\n", "EXISTS", "k"),
    R(":1\r\n", "PEXPIRE", "k", "-1", "LT"),
    R(":0\r\n", "EXISTS", "k"),
    R("+OK\r\n", "SET", "k", "v", "EX", "100"),
    R(":0\r\n", "PEXPIRE", "k", "0", "NX"),
    R(":1\r\n", "EXISTS", "k"),
    R("-ERR wrong number of arguments for 'expire' command\r\n", "EXPIRE", "k"),
    R("-ERR wrong number of arguments for 'expire' command\r\n", "EXPIRE"),
    R("-ERR wrong number of arguments for 'pexpire' command\r\n", "PEXPIRE", "k"),
    R("-ERR wrong number of arguments for 'expireat' command\r\n", "EXPIREAT", "k"),
    R("-ERR wrong number of arguments for 'pexpireat' command\r\n", "PEXPIREAT", "k"),
};
TABLE(expire_family)

/* Arguments echoed in error replies: as Redis formats them, up to a NUL, line ends made spaces. */
static const struct row errors_echo_arguments[] = {
    R("+OK\r\n", "SET", "k", "v"),
    RAW("*4\r\n$6\r\nEXPIRE\r\n$1\r\nk\r\n$2\r\n10\r\n$3\r\nf\0o\r\n", "-ERR Unsupported option f\r\n"),
    R("-ERR Unsupported option a  b\r\n", "EXPIRE", "k", "10", "a\r\nb"),
    R("-ERR Syntax error in HELLO option 'a  b'\r\n", "HELLO", "3", "a\r\nb"),
    RAW("*3\r\n$5\r\nHELLO\r\n$1\r\n3\r\n$3\r\nf\0o\r\n", "-ERR Syntax error in HELLO option 'f'\r\n"),
    R("-ERR unknown command 'a  b', with args beginning with: 'c d' \r\n", "a\r\nb", "c\nd"),
    RAW("*2\r\n$3\r\nf\0o\r\n$3\r\nb\0r\r\n", "-ERR unknown command 'f', with args beginning with: 'b' \r\n"),
    R("-ERR wrong number of arguments for 'get' command\r\n", "GET"),
};
TABLE(errors_echo_arguments)

/*
 * Regression: an option longer than 128 bytes was cut to 128 in these errors; Redis 7.0.15 echoes it
 * whole (addReplyErrorFormat has no limit; only the unknown-command reply cuts at 128).
 */
static const struct row errors_echo_long_option[] = {
    R("+OK\r\n", "SET", "k", "v"),
    R("-ERR Unsupported option "
      "oooooooooooooooooooooooooooooooooooooooooooooooooooooooooooooooooooooooooooooooooooooooooooooooooooooo"
      "oooooooooooooooooooooooooooooooooooooooooooooooooooooooooooooooooooooooooooooooooooooooooooooooooo\r"
      "\n",
      "EXPIRE", "k", "10",
      "oooooooooooooooooooooooooooooooooooooooooooooooooooooooooooooooooooooooooooooooooooooooooooooooooooooo"
      "oooooooooooooooooooooooooooooooooooooooooooooooooooooooooooooooooooooooooooooooooooooooooooooooooo"),
    R("-ERR Syntax error in HELLO option "
      "'ooooooooooooooooooooooooooooooooooooooooooooooooooooooooooooooooooooooooooooooooooooooooooooooooooooo"
      "ooooooooooooooooooooooooooooooooooooooooooooooooooooooooooooooooooooooooooooooooooooooooooooooooooo'"
      "\r\n",
      "HELLO", "3",
      "oooooooooooooooooooooooooooooooooooooooooooooooooooooooooooooooooooooooooooooooooooooooooooooooooooooo"
      "oooooooooooooooooooooooooooooooooooooooooooooooooooooooooooooooooooooooooooooooooooooooooooooooooo"),
};
TABLE(errors_echo_long_option)

/* ---- TTL, PTTL, EXPIRETIME, PEXPIRETIME, PERSIST ---- */

static const struct row ttl_persist[] = {
    R(":-2\r\n", "TTL", "k"),
    R(":-2\r\n", "PTTL", "k"),
    R(":-2\r\n", "EXPIRETIME", "k"),
    R(":-2\r\n", "PEXPIRETIME", "k"),
    R(":0\r\n", "PERSIST", "k"),
    R("+OK\r\n", "SET", "k", "v"),
    R(":-1\r\n", "TTL", "k"),
    R(":-1\r\n", "PTTL", "k"),
    R(":-1\r\n", "EXPIRETIME", "k"),
    R(":-1\r\n", "PEXPIRETIME", "k"),
    R(":0\r\n", "PERSIST", "k"),
    R(":1\r\n", "PEXPIRE", "k", "2700"),
    R(":2700\r\n", "PTTL", "k"),
    R(":3\r\n", "TTL", "k"),
    CLOCK(1000),
    R(":1700\r\n", "PTTL", "k"),
    R(":2\r\n", "TTL", "k"),
    CLOCK(1600),
    R(":100\r\n", "PTTL", "k"),
    R(":0\r\n", "TTL", "k"),
    R(":1\r\n", "EXISTS", "k"),
    CLOCK(200),
    R(":-2\r\n", "TTL", "k"),
    R(":-2\r\n", "PTTL", "k"),
    R(":0\r\n", "PERSIST", "k"),
    R("+OK\r\n", "SET", "k", "v", "EX", "100"),
    R(":1\r\n", "PERSIST", "k"),
    R(":-1\r\n", "TTL", "k"),
    R(":0\r\n", "PERSIST", "k"),
    R("-ERR wrong number of arguments for 'ttl' command\r\n", "TTL"),
    R("-ERR wrong number of arguments for 'ttl' command\r\n", "TTL", "a", "b"),
    R("-ERR wrong number of arguments for 'pttl' command\r\n", "PTTL"),
    R("-ERR wrong number of arguments for 'expiretime' command\r\n", "EXPIRETIME"),
    R("-ERR wrong number of arguments for 'pexpiretime' command\r\n", "PEXPIRETIME", "a", "b"),
    R("-ERR wrong number of arguments for 'persist' command\r\n", "PERSIST"),
    R("-ERR wrong number of arguments for 'persist' command\r\n", "PERSIST", "a", "b"),
};
TABLE(ttl_persist)

/* ---- KEYS, SCAN, RANDOMKEY, DBSIZE, FLUSHALL, FLUSHDB ---- */

/* One key at a time, so that the order of a reply never depends on the hash table. */
static const struct row keys_patterns[] = {
    R("*0\r\n", "KEYS", "*"),
    R("+OK\r\n", "SET", "hello", "1"),
    R("*1\r\n$5\r\nhello\r\n", "KEYS", "*"),
    R("*1\r\n$5\r\nhello\r\n", "KEYS", "h?llo"),
    R("*1\r\n$5\r\nhello\r\n", "KEYS", "h[ae]llo"),
    R("*0\r\n", "KEYS", "h[^e]llo"),
    R("*1\r\n$5\r\nhello\r\n", "KEYS", "h[^a]llo"),
    R("*1\r\n$5\r\nhello\r\n", "KEYS", "h[a-f]llo"),
    R("*1\r\n$5\r\nhello\r\n", "KEYS", "h[f-a]llo"),
    R("*1\r\n$5\r\nhello\r\n", "KEYS", "*llo"),
    R("*1\r\n$5\r\nhello\r\n", "KEYS", "hel*"),
    R("*1\r\n$5\r\nhello\r\n", "KEYS", "h*l*o"),
    R("*0\r\n", "KEYS", "HELLO"),
    R("*1\r\n$5\r\nhello\r\n", "KEYS", "h\\ello"),
    R("*0\r\n", "KEYS", "hello?"),
    R("*1\r\n$5\r\nhello\r\n", "KEYS", "hello*"),
    R("*1\r\n$5\r\nhello\r\n", "KEYS", "?????"),
    R("*0\r\n", "KEYS", "????"),
    R("*1\r\n$5\r\nhello\r\n", "KEYS", "**o"),
    R("*0\r\n", "KEYS", ""),
    R(":1\r\n", "DEL", "hello"),
    R("+OK\r\n", "SET", "a*b", "v"),
    R("*1\r\n$3\r\na*b\r\n", "KEYS", "a\\*b"),
    R("*1\r\n$3\r\na*b\r\n", "KEYS", "a[*]b"),
    R("*0\r\n", "KEYS", "a\\*"),
    R(":1\r\n", "DEL", "a*b"),
    R("+OK\r\n", "SET", "a[b", "v"),
    R("*1\r\n$3\r\na[b\r\n", "KEYS", "a\\[b"),
    R("*1\r\n$3\r\na[b\r\n", "KEYS", "a[[]b"),
    R("*0\r\n", "KEYS", "a[b"),
    R(":1\r\n", "DEL", "a[b"),
    R("+OK\r\n", "SET", "", "v"),
    R("*1\r\n$0\r\n\r\n", "KEYS", ""),
    R("*1\r\n$0\r\n\r\n", "KEYS", "*"),
    R("*0\r\n", "KEYS", "?"),
    R("-ERR wrong number of arguments for 'keys' command\r\n", "KEYS"),
    R("-ERR wrong number of arguments for 'keys' command\r\n", "KEYS", "a", "b"),
};
TABLE(keys_patterns)

/* Binary keys and patterns. */
static const struct row keys_binary[] = {
    RAW("*3\r\n$3\r\nSET\r\n$3\r\na\0b\r\n$1\r\nv\r\n", "+OK\r\n"),
    RAW("*2\r\n$4\r\nKEYS\r\n$3\r\na\0*\r\n", "*1\r\n$3\r\na\000b\r\n"),
    RAW("*2\r\n$4\r\nKEYS\r\n$3\r\na?b\r\n", "*1\r\n$3\r\na\000b\r\n"),
    RAW("*2\r\n$4\r\nKEYS\r\n$2\r\na*\r\n", "*1\r\n$3\r\na\000b\r\n"),
    RAW("*2\r\n$4\r\nKEYS\r\n$1\r\na\r\n", "*0\r\n"),
    RAW("*2\r\n$4\r\nKEYS\r\n$3\r\na\0c\r\n", "*0\r\n"),
    RAW("*4\r\n$4\r\nSCAN\r\n$1\r\n0\r\n$5\r\nMATCH\r\n$3\r\n*\0b\r\n",
        "*2\r\n$1\r\n0\r\n*1\r\n$3\r\na\000b\r\n"),
};
TABLE(keys_binary)

static const struct row scan[] = {
    R("*2\r\n$1\r\n0\r\n*0\r\n", "SCAN", "0"),
    R("+OK\r\n", "SET", "key1", "v"),
    R("*2\r\n$1\r\n0\r\n*1\r\n$4\r\nkey1\r\n", "SCAN", "0"),
    R("*2\r\n$1\r\n0\r\n*1\r\n$4\r\nkey1\r\n", "SCAN", "0", "COUNT", "100"),
    R("*2\r\n$1\r\n0\r\n*1\r\n$4\r\nkey1\r\n", "SCAN", "0", "MATCH", "key*"),
    R("*2\r\n$1\r\n0\r\n*0\r\n", "SCAN", "0", "match", "nomatch*"),
    R("*2\r\n$1\r\n0\r\n*1\r\n$4\r\nkey1\r\n", "SCAN", "0", "TYPE", "string"),
    R("*2\r\n$1\r\n0\r\n*1\r\n$4\r\nkey1\r\n", "SCAN", "0", "TYPE", "STRING"),
    R("*2\r\n$1\r\n0\r\n*0\r\n", "SCAN", "0", "TYPE", "list"),
    R("*2\r\n$1\r\n0\r\n*0\r\n", "SCAN", "0", "TYPE", "nosuchtype"),
    R("*2\r\n$1\r\n0\r\n*1\r\n$4\r\nkey1\r\n", "SCAN", "0", "MATCH", "key*", "COUNT", "100", "TYPE",
      "string"),
    R("*2\r\n$1\r\n0\r\n*0\r\n", "SCAN", "0", "MATCH", "*", "COUNT", "10", "MATCH", "nomatch"),
    R("*2\r\n$1\r\n0\r\n*1\r\n$4\r\nkey1\r\n", "SCAN", "0", "TYPE", "list", "TYPE", "string"),
    R("-ERR syntax error\r\n", "SCAN", "0", "COUNT", "0"),
    R("-ERR syntax error\r\n", "SCAN", "0", "COUNT", "-1"),
    R("-ERR value is not an integer or out of range\r\n", "SCAN", "0", "COUNT", "abc"),
    R("-ERR syntax error\r\n", "SCAN", "0", "COUNT"),
    R("-ERR syntax error\r\n", "SCAN", "0", "MATCH"),
    R("-ERR syntax error\r\n", "SCAN", "0", "TYPE"),
    R("-ERR syntax error\r\n", "SCAN", "0", "foo", "bar"),
    R("-ERR syntax error\r\n", "SCAN", "0", "MATCH", "*", "foo"),
    R("-ERR invalid cursor\r\n", "SCAN", "abc"),
    R("-ERR invalid cursor\r\n", "SCAN", " 0"),
    R("-ERR invalid cursor\r\n", "SCAN", "0 "),
    R("-ERR invalid cursor\r\n", "SCAN", "0x"),
    R("-ERR invalid cursor\r\n", "SCAN", "1.5"),
    R("-ERR invalid cursor\r\n", "SCAN", "18446744073709551616"),
    R("-ERR invalid cursor\r\n", "SCAN", "abc", "COUNT", "0"),
    R("*2\r\n$1\r\n0\r\n*1\r\n$4\r\nkey1\r\n", "SCAN", ""),
    R("*2\r\n$1\r\n0\r\n*1\r\n$4\r\nkey1\r\n", "SCAN", "00"),
    R("-ERR wrong number of arguments for 'scan' command\r\n", "SCAN"),
};
TABLE(scan)

static const struct row randomkey_dbsize_flush[] = {
    R("$-1\r\n", "RANDOMKEY"),
    R(":0\r\n", "DBSIZE"),
    R("+OK\r\n", "SET", "k", "v"),
    R("$1\r\nk\r\n", "RANDOMKEY"),
    R(":1\r\n", "DBSIZE"),
    R("+OK\r\n", "MSET", "a", "1", "b", "2"),
    R(":3\r\n", "DBSIZE"),
    R("+OK\r\n", "FLUSHALL"),
    R(":0\r\n", "DBSIZE"),
    R("$-1\r\n", "RANDOMKEY"),
    R("+OK\r\n", "SET", "k", "v"),
    R("+OK\r\n", "FLUSHDB"),
    R("$-1\r\n", "GET", "k"),
    R("+OK\r\n", "SET", "k", "v"),
    R("+OK\r\n", "FLUSHALL", "ASYNC"),
    R(":0\r\n", "EXISTS", "k"),
    R("+OK\r\n", "FLUSHALL", "sync"),
    R("+OK\r\n", "FLUSHDB", "ASYNC"),
    R("+OK\r\n", "FLUSHDB", "SYNC"),
    R("-ERR syntax error\r\n", "FLUSHALL", "foo"),
    R("-ERR syntax error\r\n", "FLUSHALL", "ASYNC", "SYNC"),
    R("-ERR syntax error\r\n", "FLUSHDB", "foo"),
    R("-ERR syntax error\r\n", "FLUSHDB", "SYNC", "SYNC"),
    R("-ERR wrong number of arguments for 'randomkey' command\r\n", "RANDOMKEY", "x"),
    R("-ERR wrong number of arguments for 'dbsize' command\r\n", "DBSIZE", "x"),
};
TABLE(randomkey_dbsize_flush)

/* ---- PING, ECHO, QUIT, RESET, AUTH, HELLO, SELECT ---- */

static const struct row ping_echo[] = {
    R("+PONG\r\n", "PING"),
    R("$5\r\nhello\r\n", "ping", "hello"),
    R("$0\r\n\r\n", "PING", ""),
    R("-ERR wrong number of arguments for 'ping' command\r\n", "PING", "a", "b"),
    R("$2\r\nhi\r\n", "ECHO", "hi"),
    R("$0\r\n\r\n", "echo", ""),
    R("$4\r\na\r\nb\r\n", "ECHO", "a\r\nb"),
    R("-ERR wrong number of arguments for 'echo' command\r\n", "ECHO"),
    R("-ERR wrong number of arguments for 'echo' command\r\n", "ECHO", "a", "b"),
    RAW("PING\r\n", "+PONG\r\n"),
    RAW("ping x\n", "$1\r\nx\r\n"),
    RAW("ECHO \"a b\"\r\n", "$3\r\na b\r\n"),
    RAW("ECHO 'c d'\r\n", "$3\r\nc d\r\n"),
    RAW("ECHO \"\\x41\\n\"\r\n", "$2\r\nA\n\r\n"),
    RAW("*2\r\n$4\r\nECHO\r\n$3\r\na\0b\r\n", "$3\r\na\000b\r\n"),
    RAW("SET bin \"a\\x00b\\r\"\r\n", "+OK\r\n"),
    RAW("GET bin\r\n", "$4\r\na\000b\r\r\n"),
    RAW("  ECHO   x  \r\n", "$1\r\nx\r\n"),
};
TABLE(ping_echo)

static const struct row quit[] = {
    R("+PONG\r\n", "PING"),
    RQ("+OK\r\n", "QUIT"),
};
TABLE(quit)

static const struct row quit_args[] = {
    RQ("+OK\r\n", "quit", "now"),
};
TABLE(quit_args)

static const struct row quit_pipelined[] = {
    RAWQ("PING\r\nQUIT\r\nPING\r\n", "+PONG\r\n+OK\r\n"),
};
TABLE(quit_pipelined)

static const struct row quit_in_multi[] = {
    R("+OK\r\n", "MULTI"),
    R("+QUEUED\r\n", "SET", "k", "v"),
    RQ("+OK\r\n", "QUIT"),
};
TABLE(quit_in_multi)

static const struct row reset[] = {
    R("%7\r\n$6\r\nserver\r\n$5\r\nredis\r\n$7\r\nversion\r\n$6\r\n7.0.15\r\n$5\r\nproto\r\n:3\r\n$"
      "2\r\nid\r\n:1\r\n$4\r\nmode\r\n$10\r\nstandalone\r\n$4\r\nrole\r\n$6\r\nmaster\r\n$7\r\nmodules\r\n*"
      "0\r\n",
      "HELLO", "3"),
    R("+OK\r\n", "CLIENT", "SETNAME", "foo"),
    R("+OK\r\n", "MULTI"),
    R("+QUEUED\r\n", "SET", "k", "v"),
    R("+RESET\r\n", "RESET"),
    R("-ERR EXEC without MULTI\r\n", "EXEC"),
    R("$-1\r\n", "GET", "k"),
    R("$-1\r\n", "CLIENT", "GETNAME"),
    R("+OK\r\n", "SET", "w", "v"),
    R("+OK\r\n", "WATCH", "w"),
    R("+RESET\r\n", "reset"),
    R2("+OK\r\n", "SET", "w", "x"),
    R("+OK\r\n", "MULTI"),
    R("+QUEUED\r\n", "GET", "w"),
    R("*1\r\n$1\r\nx\r\n", "EXEC"),
    R("+OK\r\n", "MULTI"),
    R("-ERR wrong number of arguments for 'reset' command\r\n", "RESET", "x"),
    R("-EXECABORT Transaction discarded because of previous errors.\r\n", "EXEC"),
    R("-ERR wrong number of arguments for 'reset' command\r\n", "RESET", "x"),
};
TABLE(reset)

static const struct row auth[] = {
    R("-ERR AUTH <password> called without any password configured for the default user. Are you sure your "
      "configuration is correct?\r\n",
      "AUTH", "pass"),
    R("+OK\r\n", "AUTH", "default", "pass"),
    R("+OK\r\n", "AUTH", "default", ""),
    R("-WRONGPASS invalid username-password pair or user is disabled.\r\n", "AUTH", "DEFAULT", "pass"),
    R("-WRONGPASS invalid username-password pair or user is disabled.\r\n", "AUTH", "someone", "pass"),
    R("-ERR syntax error\r\n", "AUTH", "a", "b", "c"),
    R("-ERR wrong number of arguments for 'auth' command\r\n", "AUTH"),
};
TABLE(auth)

static const struct row hello[] = {
    R("*14\r\n$6\r\nserver\r\n$5\r\nredis\r\n$7\r\nversion\r\n$6\r\n7.0.15\r\n$5\r\nproto\r\n:2\r\n$"
      "2\r\nid\r\n:1\r\n$4\r\nmode\r\n$10\r\nstandalone\r\n$4\r\nrole\r\n$6\r\nmaster\r\n$7\r\nmodules\r\n*"
      "0\r\n",
      "HELLO"),
    R("*14\r\n$6\r\nserver\r\n$5\r\nredis\r\n$7\r\nversion\r\n$6\r\n7.0.15\r\n$5\r\nproto\r\n:2\r\n$"
      "2\r\nid\r\n:1\r\n$4\r\nmode\r\n$10\r\nstandalone\r\n$4\r\nrole\r\n$6\r\nmaster\r\n$7\r\nmodules\r\n*"
      "0\r\n",
      "HELLO", "2"),
    R("%7\r\n$6\r\nserver\r\n$5\r\nredis\r\n$7\r\nversion\r\n$6\r\n7.0.15\r\n$5\r\nproto\r\n:3\r\n$"
      "2\r\nid\r\n:1\r\n$4\r\nmode\r\n$10\r\nstandalone\r\n$4\r\nrole\r\n$6\r\nmaster\r\n$7\r\nmodules\r\n*"
      "0\r\n",
      "HELLO", "3"),
    R("_\r\n", "GET", "nokey"),
    R("+OK\r\n", "SET", "k", "v", "NX"),
    R("_\r\n", "SET", "k", "v", "NX"),
    R("_\r\n", "SET", "x", "v", "XX", "GET"),
    R("*2\r\n$1\r\nv\r\n_\r\n", "MGET", "k", "nokey"),
    R("_\r\n", "GETDEL", "nokey"),
    R("_\r\n", "GETEX", "nokey"),
    R("_\r\n", "GETSET", "nokey", "v"),
    R(":1\r\n", "DEL", "nokey"),
    R("$1\r\nk\r\n", "RANDOMKEY"),
    R("$3\r\n1.5\r\n", "INCRBYFLOAT", "f", "1.5"),
    R("*2\r\n$1\r\n0\r\n*0\r\n", "SCAN", "0", "TYPE", "list"),
    R("%7\r\n$6\r\nserver\r\n$5\r\nredis\r\n$7\r\nversion\r\n$6\r\n7.0.15\r\n$5\r\nproto\r\n:3\r\n$"
      "2\r\nid\r\n:1\r\n$4\r\nmode\r\n$10\r\nstandalone\r\n$4\r\nrole\r\n$6\r\nmaster\r\n$7\r\nmodules\r\n*"
      "0\r\n",
      "HELLO"),
    R("*14\r\n$6\r\nserver\r\n$5\r\nredis\r\n$7\r\nversion\r\n$6\r\n7.0.15\r\n$5\r\nproto\r\n:2\r\n$"
      "2\r\nid\r\n:1\r\n$4\r\nmode\r\n$10\r\nstandalone\r\n$4\r\nrole\r\n$6\r\nmaster\r\n$7\r\nmodules\r\n*"
      "0\r\n",
      "HELLO", "2"),
    R("$-1\r\n", "GET", "nokey"),
    R("-NOPROTO unsupported protocol version\r\n", "HELLO", "4"),
    R("-NOPROTO unsupported protocol version\r\n", "HELLO", "1"),
    R("-NOPROTO unsupported protocol version\r\n", "HELLO", "-1"),
    R("-ERR Protocol version is not an integer or out of range\r\n", "HELLO", "abc"),
    R("-ERR Protocol version is not an integer or out of range\r\n", "HELLO", "3.0"),
    R("-ERR Syntax error in HELLO option 'foo'\r\n", "HELLO", "3", "foo"),
    R("-ERR Syntax error in HELLO option 'AUTH'\r\n", "HELLO", "3", "AUTH", "default"),
    R("%7\r\n$6\r\nserver\r\n$5\r\nredis\r\n$7\r\nversion\r\n$6\r\n7.0.15\r\n$5\r\nproto\r\n:3\r\n$"
      "2\r\nid\r\n:1\r\n$4\r\nmode\r\n$10\r\nstandalone\r\n$4\r\nrole\r\n$6\r\nmaster\r\n$7\r\nmodules\r\n*"
      "0\r\n",
      "HELLO", "3", "auth", "default", "pw"),
    R("-WRONGPASS invalid username-password pair or user is disabled.\r\n", "HELLO", "2", "AUTH", "nobody",
      "pw"),
    R("_\r\n", "GET", "nokey"),
    R("*14\r\n$6\r\nserver\r\n$5\r\nredis\r\n$7\r\nversion\r\n$6\r\n7.0.15\r\n$5\r\nproto\r\n:2\r\n$"
      "2\r\nid\r\n:1\r\n$4\r\nmode\r\n$10\r\nstandalone\r\n$4\r\nrole\r\n$6\r\nmaster\r\n$7\r\nmodules\r\n*"
      "0\r\n",
      "HELLO", "2", "SETNAME", "cli"),
    R("$3\r\ncli\r\n", "CLIENT", "GETNAME"),
    R("-ERR Client names cannot contain spaces, newlines or special characters.\r\n", "HELLO", "3", "SETNAME",
      "a b"),
    R("$-1\r\n", "GET", "nokey"),
    R("-ERR Syntax error in HELLO option 'SETNAME'\r\n", "HELLO", "3", "SETNAME"),
    R("-ERR Protocol version is not an integer or out of range\r\n", "HELLO", "SETNAME", "x"),
    R2("%7\r\n$6\r\nserver\r\n$5\r\nredis\r\n$7\r\nversion\r\n$6\r\n7.0.15\r\n$5\r\nproto\r\n:3\r\n$"
       "2\r\nid\r\n:2\r\n$4\r\nmode\r\n$10\r\nstandalone\r\n$4\r\nrole\r\n$6\r\nmaster\r\n$7\r\nmodules\r\n*"
       "0\r\n",
       "HELLO", "3"),
};
TABLE(hello)

/*
 * Regression: Redis 7.0.15 applies HELLO's options as it reads them: SETNAME takes effect even when
 * a later option is a syntax error (7.2 checks every option first). cairn checked first and kept the
 * old name ("cli").
 */
static const struct row hello_setname_then_bad_option[] = {
    R("*14\r\n$6\r\nserver\r\n$5\r\nredis\r\n$7\r\nversion\r\n$6\r\n7.0.15\r\n$5\r\nproto\r\n:2\r\n$"
      "2\r\nid\r\n:1\r\n$4\r\nmode\r\n$10\r\nstandalone\r\n$4\r\nrole\r\n$6\r\nmaster\r\n$7\r\nmodules\r\n*"
      "0\r\n",
      "HELLO", "2", "SETNAME", "cli"),
    R("-ERR Syntax error in HELLO option 'foo'\r\n", "HELLO", "3", "SETNAME", "x", "AUTH", "default", "pw",
      "foo"),
    R("$1\r\nx\r\n", "CLIENT", "GETNAME"),
    R("$-1\r\n", "GET", "nokey"),
};
TABLE(hello_setname_then_bad_option)

/* RESP3 replies of the transaction commands. */
static const struct row hello_transactions[] = {
    R("%7\r\n$6\r\nserver\r\n$5\r\nredis\r\n$7\r\nversion\r\n$6\r\n7.0.15\r\n$5\r\nproto\r\n:3\r\n$"
      "2\r\nid\r\n:1\r\n$4\r\nmode\r\n$10\r\nstandalone\r\n$4\r\nrole\r\n$6\r\nmaster\r\n$7\r\nmodules\r\n*"
      "0\r\n",
      "HELLO", "3"),
    R("+OK\r\n", "SET", "k", "v"),
    R("+OK\r\n", "WATCH", "k"),
    R2("+OK\r\n", "SET", "k", "w"),
    R("+OK\r\n", "MULTI"),
    R("+QUEUED\r\n", "GET", "k"),
    R("_\r\n", "EXEC"),
    R("+OK\r\n", "MULTI"),
    R("+QUEUED\r\n", "GET", "k"),
    R("+QUEUED\r\n", "GET", "nokey"),
    R("+QUEUED\r\n", "SET", "k", "x", "NX"),
    R("*3\r\n$1\r\nw\r\n_\r\n_\r\n", "EXEC"),
};
TABLE(hello_transactions)

static const struct row select_db[] = {
    R("+OK\r\n", "SELECT", "0"),
    R("-ERR DB index is out of range\r\n", "SELECT", "1"),
    R("-ERR DB index is out of range\r\n", "SELECT", "-1"),
    R("-ERR value is not an integer or out of range\r\n", "SELECT", "abc"),
    R("-ERR value is not an integer or out of range\r\n", "SELECT", "0.5"),
    R("-ERR DB index is out of range\r\n", "SELECT", "2147483647"),
    R("-ERR value is out of range, value must between -2147483648 and 2147483647\r\n", "SELECT",
      "2147483648"),
    R("-ERR value is out of range, value must between -2147483648 and 2147483647\r\n", "SELECT",
      "-2147483649"),
    R("-ERR value is not an integer or out of range\r\n", "SELECT", "9223372036854775808"),
    R("-ERR wrong number of arguments for 'select' command\r\n", "SELECT"),
    R("-ERR wrong number of arguments for 'select' command\r\n", "SELECT", "0", "1"),
};
TABLE(select_db)

/* ---- MULTI, EXEC, DISCARD, WATCH, UNWATCH ---- */

static const struct row multi_exec[] = {
    R("+OK\r\n", "MULTI"),
    R("+QUEUED\r\n", "SET", "k", "v"),
    R("+QUEUED\r\n", "INCR", "n"),
    R("+QUEUED\r\n", "GET", "k"),
    R("+QUEUED\r\n", "MGET", "k", "n", "x"),
    R("*4\r\n+OK\r\n:1\r\n$1\r\nv\r\n*3\r\n$1\r\nv\r\n$1\r\n1\r\n$-1\r\n", "EXEC"),
    R("-ERR EXEC without MULTI\r\n", "EXEC"),
    R("-ERR DISCARD without MULTI\r\n", "DISCARD"),
    R("+OK\r\n", "MULTI"),
    R("-ERR MULTI calls can not be nested\r\n", "MULTI"),
    R("*0\r\n", "EXEC"),
    R("+OK\r\n", "MULTI"),
    R("+QUEUED\r\n", "SET", "k", "w"),
    R("+OK\r\n", "discard"),
    R("$1\r\nv\r\n", "GET", "k"),
    R("+OK\r\n", "MULTI"),
    R("+QUEUED\r\n", "PING"),
    R("+QUEUED\r\n", "ECHO", "x"),
    R("+QUEUED\r\n", "FLUSHALL"),
    R("+QUEUED\r\n", "SET", "a", "1"),
    R("+QUEUED\r\n", "KEYS", "*"),
    R("+QUEUED\r\n", "RANDOMKEY"),
    R("*6\r\n+PONG\r\n$1\r\nx\r\n+OK\r\n+OK\r\n*1\r\n$1\r\na\r\n$1\r\na\r\n", "EXEC"),
    R("-ERR wrong number of arguments for 'multi' command\r\n", "MULTI", "x"),
    R("-ERR wrong number of arguments for 'discard' command\r\n", "DISCARD", "x"),
    R("-EXECABORT Transaction discarded because of: wrong number of arguments for 'exec' command\r\n", "EXEC",
      "x"),
    R("+OK\r\n", "MULTI"),
    R2("$1\r\n1\r\n", "GET", "a"),
    R2("+OK\r\n", "SET", "a", "2"),
    R("+QUEUED\r\n", "GET", "a"),
    R("*1\r\n$1\r\n2\r\n", "EXEC"),
};
TABLE(multi_exec)

/*
 * Regression: after a FLUSHALL inside EXEC, DBSIZE (in the transaction and after it) counted the
 * keys the flush removed until each was looked up (Redis: 0 at once); FLUSHALL now unlinks them
 * inside EXEC too (cache_purge_dead).
 */
static const struct row exec_flushall_dbsize[] = {
    R("+OK\r\n", "MSET", "a", "1", "b", "2"),
    R("+OK\r\n", "MULTI"),
    R("+QUEUED\r\n", "FLUSHALL"),
    R("+QUEUED\r\n", "DBSIZE"),
    R("*2\r\n+OK\r\n:0\r\n", "EXEC"),
    R(":0\r\n", "DBSIZE"),
    R("*0\r\n", "KEYS", "*"),
    R(":0\r\n", "DBSIZE"),
    R(":0\r\n", "EXISTS", "a"),
    R(":0\r\n", "DBSIZE"),
};
TABLE(exec_flushall_dbsize)

static const struct row multi_errors[] = {
    R("+OK\r\n", "MULTI"),
    R("+QUEUED\r\n", "SET", "k", "v"),
    R("-ERR unknown command 'NOSUCHCMD', with args beginning with: 'a' \r\n", "NOSUCHCMD", "a"),
    R("+QUEUED\r\n", "PING"),
    R("-EXECABORT Transaction discarded because of previous errors.\r\n", "EXEC"),
    R("$-1\r\n", "GET", "k"),
    R("+OK\r\n", "MULTI"),
    R("-ERR wrong number of arguments for 'set' command\r\n", "SET", "k"),
    R("-EXECABORT Transaction discarded because of previous errors.\r\n", "EXEC"),
    R("+OK\r\n", "MULTI"),
    R("+QUEUED\r\n", "SET", "k", "v"),
    R("-EXECABORT Transaction discarded because of: wrong number of arguments for 'exec' command\r\n", "EXEC",
      "x"),
    R("-ERR EXEC without MULTI\r\n", "EXEC"),
    R("$-1\r\n", "GET", "k"),
    R("+OK\r\n", "MULTI"),
    R("-ERR WATCH inside MULTI is not allowed\r\n", "WATCH", "k"),
    R("-ERR MULTI calls can not be nested\r\n", "MULTI"),
    R("+QUEUED\r\n", "SET", "k", "1"),
    R("*1\r\n+OK\r\n", "EXEC"),
    R("+OK\r\n", "SET", "s", "abc"),
    R("+OK\r\n", "MULTI"),
    R("+QUEUED\r\n", "INCR", "s"),
    R("+QUEUED\r\n", "SET", "k", "v", "EX", "0"),
    R("+QUEUED\r\n", "SET", "k", "v", "FOO"),
    R("+QUEUED\r\n", "RENAME", "nokey", "x"),
    R("+QUEUED\r\n", "SELECT", "1"),
    R("+QUEUED\r\n", "GET", "s"),
    R("*6\r\n-ERR value is not an integer or out of range\r\n-ERR invalid expire time in 'set' "
      "command\r\n-ERR syntax error\r\n-ERR no such key\r\n-ERR DB index is out of range\r\n$3\r\nabc\r\n",
      "EXEC"),
    R("+OK\r\n", "MULTI"),
    R("+QUEUED\r\n", "GET", "s"),
    R("-ERR wrong number of arguments for 'discard' command\r\n", "DISCARD", "x"),
    R("-EXECABORT Transaction discarded because of previous errors.\r\n", "EXEC"),
};
TABLE(multi_errors)

static const struct row watch[] = {
    R("+OK\r\n", "SET", "k", "v"),
    R("+OK\r\n", "WATCH", "k"),
    R2("+OK\r\n", "SET", "k", "other"),
    R("+OK\r\n", "MULTI"),
    R("+QUEUED\r\n", "GET", "k"),
    R("*-1\r\n", "EXEC"),
    R("+OK\r\n", "WATCH", "k"),
    R("+OK\r\n", "MULTI"),
    R("+QUEUED\r\n", "GET", "k"),
    R("*1\r\n$5\r\nother\r\n", "EXEC"),
    R("+OK\r\n", "WATCH", "nokey"),
    R2("+OK\r\n", "SET", "nokey", "x"),
    R("+OK\r\n", "MULTI"),
    R("*-1\r\n", "EXEC"),
    R("+OK\r\n", "WATCH", "k", "k2"),
    R("+OK\r\n", "UNWATCH"),
    R2("+OK\r\n", "SET", "k", "again"),
    R("+OK\r\n", "MULTI"),
    R("+QUEUED\r\n", "GET", "k"),
    R("*1\r\n$5\r\nagain\r\n", "EXEC"),
    R("+OK\r\n", "WATCH", "k"),
    R("+OK\r\n", "SET", "k", "mine"),
    R("+OK\r\n", "MULTI"),
    R("*-1\r\n", "EXEC"),
    R("+OK\r\n", "WATCH", "k"),
    R2("$4\r\nmine\r\n", "GET", "k"),
    R2(":1\r\n", "EXISTS", "k"),
    R("+OK\r\n", "MULTI"),
    R("*0\r\n", "EXEC"),
    R("+OK\r\n", "WATCH", "k"),
    R("+OK\r\n", "MULTI"),
    R("+OK\r\n", "DISCARD"),
    R2("+OK\r\n", "SET", "k", "x"),
    R("+OK\r\n", "MULTI"),
    R("*0\r\n", "EXEC"),
    R("+OK\r\n", "WATCH", "k"),
    R2(":1\r\n", "DEL", "k"),
    R("+OK\r\n", "MULTI"),
    R("*-1\r\n", "EXEC"),
    R("+OK\r\n", "WATCH", "k"),
    R2(":0\r\n", "DEL", "k"),
    R("+OK\r\n", "MULTI"),
    R("*0\r\n", "EXEC"),
    R("+OK\r\n", "SET", "k", "v"),
    R("+OK\r\n", "WATCH", "k", "k", "z"),
    R2("+OK\r\n", "SET", "z", "1"),
    R("+OK\r\n", "MULTI"),
    R("+QUEUED\r\n", "SET", "k", "w"),
    R("*-1\r\n", "EXEC"),
    R("$1\r\nv\r\n", "GET", "k"),
    R("+OK\r\n", "WATCH", "k"),
    R("+OK\r\n", "MULTI"),
    R("+QUEUED\r\n", "UNWATCH"),
    R2("+OK\r\n", "SET", "k", "y"),
    R("*-1\r\n", "EXEC"),
    R("+OK\r\n", "WATCH", "k"),
    R2("+OK\r\n", "FLUSHALL"),
    R("+OK\r\n", "MULTI"),
    R("*-1\r\n", "EXEC"),
    R("+OK\r\n", "WATCH", "a"),
    R("+OK\r\n", "WATCH", "b"),
    R2("+OK\r\n", "SET", "b", "1"),
    R("+OK\r\n", "MULTI"),
    R("*-1\r\n", "EXEC"),
    R("-ERR wrong number of arguments for 'watch' command\r\n", "WATCH"),
    R("-ERR wrong number of arguments for 'unwatch' command\r\n", "UNWATCH", "x"),
};
TABLE(watch)

/* Writes of every kind by another client abort a transaction watching their key. */
static const struct row watch_writes[] = {
    R("+OK\r\n", "SET", "k", "1"),
    R("+OK\r\n", "WATCH", "k"),
    R2("+OK\r\n", "SET", "k", "1"),
    R("+OK\r\n", "MULTI"),
    R("*-1\r\n", "EXEC"),
    R("+OK\r\n", "WATCH", "k"),
    R2(":2\r\n", "INCR", "k"),
    R("+OK\r\n", "MULTI"),
    R("*-1\r\n", "EXEC"),
    R("+OK\r\n", "WATCH", "k"),
    R2(":2\r\n", "APPEND", "k", "0"),
    R("+OK\r\n", "MULTI"),
    R("*-1\r\n", "EXEC"),
    R("+OK\r\n", "WATCH", "k"),
    R2(":2\r\n", "SETRANGE", "k", "0", "9"),
    R("+OK\r\n", "MULTI"),
    R("*-1\r\n", "EXEC"),
    R("+OK\r\n", "WATCH", "k"),
    R2("$2\r\n90\r\n", "GETSET", "k", "5"),
    R("+OK\r\n", "MULTI"),
    R("*-1\r\n", "EXEC"),
    R("+OK\r\n", "WATCH", "k"),
    R2("$3\r\n5.5\r\n", "INCRBYFLOAT", "k", "0.5"),
    R("+OK\r\n", "MULTI"),
    R("*-1\r\n", "EXEC"),
    R("+OK\r\n", "WATCH", "k", "a"),
    R2("+OK\r\n", "RENAME", "k", "a"),
    R("+OK\r\n", "MULTI"),
    R("*-1\r\n", "EXEC"),
    R("+OK\r\n", "WATCH", "a"),
    R2("+OK\r\n", "MSET", "b", "1", "a", "2"),
    R("+OK\r\n", "MULTI"),
    R("*-1\r\n", "EXEC"),
    R("+OK\r\n", "WATCH", "a"),
    R2("$1\r\n2\r\n", "GETDEL", "a"),
    R("+OK\r\n", "MULTI"),
    R("*-1\r\n", "EXEC"),
};
TABLE(watch_writes)

/* Commands of another client that change nothing leave the transaction alone. */
static const struct row watch_no_change[] = {
    R("+OK\r\n", "SET", "a", "1"),
    R("+OK\r\n", "WATCH", "a", "absent"),
    R2("$-1\r\n", "SET", "a", "2", "NX"),
    R2("$1\r\n1\r\n", "GETEX", "a"),
    R2(":0\r\n", "MSETNX", "a", "3", "b", "3"),
    R2("$-1\r\n", "SET", "absent", "1", "XX"),
    R2(":0\r\n", "DEL", "absent"),
    R2(":0\r\n", "EXPIRE", "absent", "100"),
    R2(":0\r\n", "PERSIST", "a"),
    R2(":0\r\n", "EXPIRE", "a", "100", "XX"),
    R2("-ERR no such key\r\n", "RENAMENX", "absent", "b"),
    R2("$-1\r\n", "GETDEL", "absent"),
    R("+OK\r\n", "MULTI"),
    R("+QUEUED\r\n", "GET", "a"),
    R("*1\r\n$1\r\n1\r\n", "EXEC"),
    R("+OK\r\n", "WATCH", "absent"),
    R2("+OK\r\n", "FLUSHALL"),
    R("+OK\r\n", "MULTI"),
    R("*0\r\n", "EXEC"),
};
TABLE(watch_no_change)

/* HELLO queued in a transaction switches the protocol for the replies after it. */
static const struct row multi_hello[] = {
    R("+OK\r\n", "MULTI"),
    R("+QUEUED\r\n", "GET", "nokey"),
    R("+QUEUED\r\n", "HELLO", "3"),
    R("+QUEUED\r\n", "GET", "nokey"),
    R("+QUEUED\r\n", "MGET", "nokey"),
    R("*4\r\n$-1\r\n%7\r\n$6\r\nserver\r\n$5\r\nredis\r\n$7\r\nversion\r\n$6\r\n7.0.15\r\n$5\r\nproto\r\n:"
      "3\r\n$2\r\nid\r\n:1\r\n$4\r\nmode\r\n$10\r\nstandalone\r\n$4\r\nrole\r\n$6\r\nmaster\r\n$"
      "7\r\nmodules\r\n*0\r\n_\r\n*1\r\n_\r\n",
      "EXEC"),
    R("_\r\n", "GET", "nokey"),
};
TABLE(multi_hello)

static const struct row watch_expiry[] = {
    R("+OK\r\n", "SET", "k", "1"),
    R("+OK\r\n", "WATCH", "k"),
    R2(":1\r\n", "EXPIRE", "k", "100"),
    R("+OK\r\n", "MULTI"),
    R("*-1\r\n", "EXEC"),
    R("+OK\r\n", "WATCH", "k"),
    R2(":1\r\n", "PERSIST", "k"),
    R("+OK\r\n", "MULTI"),
    R("*-1\r\n", "EXEC"),
    R("+OK\r\n", "WATCH", "k"),
    R2("$1\r\n1\r\n", "GETEX", "k", "EX", "100"),
    R("+OK\r\n", "MULTI"),
    R("*-1\r\n", "EXEC"),
};
TABLE(watch_expiry)

/* A watched key that expires before EXEC aborts it (Redis's isWatchedKeyExpired). */
static const struct row watch_expired[] = {
    R("+OK\r\n", "SET", "k", "1", "PX", "100"),
    R("+OK\r\n", "WATCH", "k"),
    CLOCK(200),
    R("+OK\r\n", "MULTI"),
    R("*-1\r\n", "EXEC"),
};
TABLE(watch_expired)

/* ---- unknown commands, arity ---- */

static const struct row unknown_and_arity[] = {
    R("-ERR unknown command 'NOSUCH', with args beginning with: \r\n", "NOSUCH"),
    R("-ERR unknown command 'nosuch', with args beginning with: 'a' 'b' \r\n", "nosuch", "a", "b"),
    R("-ERR unknown command 'FOO', with args beginning with: '' 'x y' \r\n", "FOO", "", "x y"),
    R("-ERR unknown command '', with args beginning with: \r\n", ""),
    R("-ERR unknown command 'GETX', with args beginning with: 'k' \r\n", "GETX", "k"),
    R("-ERR unknown command 'FOO', with args beginning with: "
      "'aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa' "
      "'bbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbb' 'cc' \r\n",
      "FOO", "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa",
      "bbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbb",
      "cccccccccccccccccccccccccccccccccccccccccccccccccccccccccccc", "d"),
    R("-ERR unknown command "
      "'nnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnn"
      "nnnnnnnnnnnnnnnnnnnnnnnnnnn', with args beginning with: 'x' \r\n",
      "nnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnn"
      "nnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnn",
      "x"),
    R("-ERR unknown command 'GET ', with args beginning with: \r\n", "GET "),
    R("-ERR wrong number of arguments for 'get' command\r\n", "get", "k", "v"),
    R("-ERR wrong number of arguments for 'get' command\r\n", "GET"),
    R("-ERR wrong number of arguments for 'set' command\r\n", "SET", "k"),
    R("-ERR wrong number of arguments for 'setnx' command\r\n", "SETNX", "k"),
    R("-ERR wrong number of arguments for 'setex' command\r\n", "SETEX", "k", "1"),
    R("-ERR wrong number of arguments for 'psetex' command\r\n", "PSETEX", "k", "1"),
    R("-ERR wrong number of arguments for 'getset' command\r\n", "GETSET", "k"),
    R("-ERR wrong number of arguments for 'getdel' command\r\n", "GETDEL"),
    R("-ERR wrong number of arguments for 'getex' command\r\n", "GETEX"),
    R("-ERR wrong number of arguments for 'mget' command\r\n", "MGET"),
    R("-ERR wrong number of arguments for 'mset' command\r\n", "MSET", "k"),
    R("-ERR wrong number of arguments for 'msetnx' command\r\n", "MSETNX", "k"),
    R("-ERR wrong number of arguments for 'append' command\r\n", "APPEND", "k"),
    R("-ERR wrong number of arguments for 'strlen' command\r\n", "STRLEN"),
    R("-ERR wrong number of arguments for 'getrange' command\r\n", "GETRANGE", "k", "0"),
    R("-ERR wrong number of arguments for 'substr' command\r\n", "SUBSTR", "k", "0"),
    R("-ERR wrong number of arguments for 'setrange' command\r\n", "SETRANGE", "k", "0"),
    R("-ERR wrong number of arguments for 'incr' command\r\n", "INCR"),
    R("-ERR wrong number of arguments for 'decr' command\r\n", "DECR"),
    R("-ERR wrong number of arguments for 'incrby' command\r\n", "INCRBY", "k"),
    R("-ERR wrong number of arguments for 'decrby' command\r\n", "DECRBY", "k"),
    R("-ERR wrong number of arguments for 'incrbyfloat' command\r\n", "INCRBYFLOAT", "k"),
    R("-ERR wrong number of arguments for 'del' command\r\n", "DEL"),
    R("-ERR wrong number of arguments for 'unlink' command\r\n", "UNLINK"),
    R("-ERR wrong number of arguments for 'exists' command\r\n", "EXISTS"),
    R("-ERR wrong number of arguments for 'touch' command\r\n", "TOUCH"),
    R("-ERR wrong number of arguments for 'type' command\r\n", "TYPE"),
    R("-ERR wrong number of arguments for 'rename' command\r\n", "RENAME", "k"),
    R("-ERR wrong number of arguments for 'renamenx' command\r\n", "RENAMENX", "k"),
    R("-ERR wrong number of arguments for 'expire' command\r\n", "EXPIRE", "k"),
    R("-ERR wrong number of arguments for 'pexpire' command\r\n", "PEXPIRE", "k"),
    R("-ERR wrong number of arguments for 'expireat' command\r\n", "EXPIREAT", "k"),
    R("-ERR wrong number of arguments for 'pexpireat' command\r\n", "PEXPIREAT", "k"),
    R("-ERR wrong number of arguments for 'ttl' command\r\n", "TTL"),
    R("-ERR wrong number of arguments for 'pttl' command\r\n", "PTTL"),
    R("-ERR wrong number of arguments for 'expiretime' command\r\n", "EXPIRETIME"),
    R("-ERR wrong number of arguments for 'pexpiretime' command\r\n", "PEXPIRETIME"),
    R("-ERR wrong number of arguments for 'persist' command\r\n", "PERSIST"),
    R("-ERR wrong number of arguments for 'keys' command\r\n", "KEYS"),
    R("-ERR wrong number of arguments for 'scan' command\r\n", "SCAN"),
    R("-ERR wrong number of arguments for 'randomkey' command\r\n", "RANDOMKEY", "x"),
    R("-ERR wrong number of arguments for 'dbsize' command\r\n", "DBSIZE", "x"),
    R("-ERR wrong number of arguments for 'ping' command\r\n", "PING", "a", "b"),
    R("-ERR wrong number of arguments for 'echo' command\r\n", "ECHO"),
    R("-ERR wrong number of arguments for 'auth' command\r\n", "AUTH"),
    R("-ERR wrong number of arguments for 'select' command\r\n", "SELECT"),
    R("-ERR wrong number of arguments for 'multi' command\r\n", "MULTI", "x"),
    R("-ERR wrong number of arguments for 'discard' command\r\n", "DISCARD", "x"),
    R("-ERR wrong number of arguments for 'watch' command\r\n", "WATCH"),
    R("-ERR wrong number of arguments for 'unwatch' command\r\n", "UNWATCH", "x"),
    R("-ERR wrong number of arguments for 'reset' command\r\n", "RESET", "x"),
    R(":0\r\n", "DBSIZE"),
};
TABLE(unknown_and_arity)

/* ---- several requests in one feed ---- */

static const struct row pipelines[] = {
    RAW("*3\r\n$3\r\nSET\r\n$1\r\nk\r\n$1\r\nv\r\n*2\r\n$3\r\nGET\r\n$1\r\nk\r\n*1\r\n$4\r\nPING\r\n",
        "+OK\r\n$1\r\nv\r\n+PONG\r\n"),
    RAW("PING\r\nECHO hi\r\nGET k\r\nSET n 10\r\n", "+PONG\r\n$2\r\nhi\r\n$1\r\nv\r\n+OK\r\n"),
    RAW("*2\r\n$4\r\nINCR\r\n$1\r\nn\r\nINCR n\r\n*2\r\n$4\r\nDECR\r\n$1\r\nn\r\n", ":11\r\n:12\r\n:11\r\n"),
    RAW("*1\r\n$5\r\nMULTI\r\n*2\r\n$4\r\nINCR\r\n$1\r\nn\r\n*2\r\n$4\r\nINCR\r\n$1\r\nn\r\n*1\r\n$"
        "4\r\nEXEC\r\n",
        "+OK\r\n+QUEUED\r\n+QUEUED\r\n*2\r\n:12\r\n:13\r\n"),
    RAW("*1\r\n$3\r\nFOO\r\n*1\r\n$4\r\nPING\r\n*1\r\n$3\r\nGET\r\n*2\r\n$3\r\nGET\r\n$1\r\nn\r\n",
        "-ERR unknown command 'FOO', with args beginning with: \r\n+PONG\r\n-ERR wrong number of arguments "
        "for 'get' command\r\n$2\r\n13\r\n"),
    RAW("MULTI\r\nSET a 1\r\nBAD\r\nEXEC\r\nGET a\r\n",
        "+OK\r\n+QUEUED\r\n-ERR unknown command 'BAD', with args beginning with: \r\n-EXECABORT Transaction "
        "discarded because of previous errors.\r\n$-1\r\n"),
    RAW("\r\n\r\nPING\r\n", "+PONG\r\n"),
    RAW("*0\r\n*1\r\n$4\r\nPING\r\n", "+PONG\r\n"),
    RAW("HELLO 3\r\nGET nokey\r\nHELLO 2\r\nGET nokey\r\n",
        "%7\r\n$6\r\nserver\r\n$5\r\nredis\r\n$7\r\nversion\r\n$6\r\n7.0.15\r\n$5\r\nproto\r\n:3\r\n$"
        "2\r\nid\r\n:1\r\n$4\r\nmode\r\n$10\r\nstandalone\r\n$4\r\nrole\r\n$6\r\nmaster\r\n$7\r\nmodules\r\n*"
        "0\r\n_\r\n*14\r\n$6\r\nserver\r\n$5\r\nredis\r\n$7\r\nversion\r\n$6\r\n7.0.15\r\n$5\r\nproto\r\n:"
        "2\r\n$2\r\nid\r\n:1\r\n$4\r\nmode\r\n$10\r\nstandalone\r\n$4\r\nrole\r\n$6\r\nmaster\r\n$"
        "7\r\nmodules\r\n*0\r\n$-1\r\n"),
};
TABLE(pipelines)

/* ---- large values ---- */

/*
 * Values of 16 KiB and more of SET, SETEX, PSETEX, GETSET and SETNX are received straight into their
 * item (resp.c): the same replies whichever way the bytes come, inside MULTI too (the queued copy).
 * Checked against redis-server 7.0.15 like the tables above.
 */
Test(resp_commands, large_values)
{
    char *x = repeat('x', 20000), *y = repeat('y', 20000);
    char *old = malloc(20000 + 16);
    cr_assert_not_null(old);
    size_t nold = (size_t)sprintf(old, "$20000\r\n%s\r\n", x);
    const struct row rows[] = {
        R("+OK\r\n", "SET", "k", x),
        R(":20000\r\n", "STRLEN", "k"),
        R("$5\r\nxxxxx\r\n", "GETRANGE", "k", "19995", "-1"),
        {ROW_CMD, 0, ARGV("GETSET", "k", y), NULL, 0, old, nold, PROTO_OK, 0},
        R("$5\r\nyyyyy\r\n", "GETRANGE", "k", "0", "4"),
        R("-ERR syntax error\r\n", "SET", "k", x, "EX"),
        R("-ERR wrong number of arguments for 'getset' command\r\n", "GETSET", "k", x, "z"),
        R("$5\r\nyyyyy\r\n", "GETRANGE", "k", "0", "4"),
        R("+OK\r\n", "SET", "k", x, "XX", "PX", "2500"),
        R(":2500\r\n", "PTTL", "k"),
        R(":40000\r\n", "APPEND", "k", y),
        R("$2\r\nxy\r\n", "GETRANGE", "k", "19999", "20000"),
        R("+OK\r\n", "SETEX", "e", "100", x),
        R(":100\r\n", "TTL", "e"),
        R("+OK\r\n", "PSETEX", "p", "1500", y),
        R(":1500\r\n", "PTTL", "p"),
        R(":1\r\n", "SETNX", "n", x),
        R(":0\r\n", "SETNX", "n", y),
        R("$1\r\nx\r\n", "GETRANGE", "n", "-1", "-1"),
        R("+OK\r\n", "MULTI"),
        R("+QUEUED\r\n", "SET", "m", y),
        R("+QUEUED\r\n", "GETRANGE", "m", "0", "1"),
        R("*2\r\n+OK\r\n$2\r\nyy\r\n", "EXEC"),
        R(":20000\r\n", "STRLEN", "m"),
    };
    play_all(rows, sizeof(rows) / sizeof(rows[0]));
    free(old);
    free(x);
    free(y);
}
