/*
 * test_resp_reply.c: the RESP2/RESP3 reply writers (resp_reply.h), table-driven.
 *
 * Each row is one writer call and the bytes it must queue under RESP2 and under RESP3 (after HELLO 3).
 * The expectations were read off a running redis-server 7.0.15 (Debian 12's) giving the same reply
 * type: GET of a missing key (null), BLPOP timing out (null array), SMEMBERS and HGETALL (set and map
 * headers), INCRBY (integers), ZSCORE and a script's {double=...} (doubles), a script's true/false
 * under redis.setresp(3) (booleans), INFO and CLIENT INFO (verbatim), errors from a script's
 * {err=...} and from an unknown command named with CR/LF in it. Rows marked "source" follow
 * networking.c where no command shows the case.
 */
#include <limits.h>
#include <math.h>

#include "protocol_test.h"
#include "protocol/resp/resp_reply.h"

enum op {
    OP_SIMPLE,
    OP_ERROR,
    OP_INT,
    OP_BULK,
    OP_BULK_STR,
    OP_BULK_LL,
    OP_NULL,
    OP_NULL_ARRAY,
    OP_ARRAY,
    OP_MAP,
    OP_SET,
    OP_DOUBLE,
    OP_BOOL,
    OP_VERBATIM,
};

struct row {
    enum op op;
    const char *s; /* text argument (verbatim: the fmt) */
    size_t n;      /* bulk and verbatim: bytes of b */
    const char *b;
    long long ll; /* int, bulk_ll, bool, aggregate length */
    double d;
    const char *resp2, *resp3; /* resp3 NULL: same as resp2 */
};

static void run_op(struct outq *q, const struct row *r, int proto)
{
    switch (r->op) {
    case OP_SIMPLE:
        resp_add_simple(q, r->s);
        break;
    case OP_ERROR:
        resp_add_error(q, r->s);
        break;
    case OP_INT:
        resp_add_int(q, r->ll);
        break;
    case OP_BULK:
        resp_add_bulk(q, r->b, r->n);
        break;
    case OP_BULK_STR:
        resp_add_bulk_str(q, r->s);
        break;
    case OP_BULK_LL:
        resp_add_bulk_ll(q, r->ll);
        break;
    case OP_NULL:
        resp_add_null(q, proto);
        break;
    case OP_NULL_ARRAY:
        resp_add_null_array(q, proto);
        break;
    case OP_ARRAY:
        resp_add_array(q, (size_t)r->ll);
        break;
    case OP_MAP:
        resp_add_map(q, proto, (size_t)r->ll);
        break;
    case OP_SET:
        resp_add_set(q, proto, (size_t)r->ll);
        break;
    case OP_DOUBLE:
        resp_add_double(q, proto, r->d);
        break;
    case OP_BOOL:
        resp_add_bool(q, proto, (int)r->ll);
        break;
    case OP_VERBATIM:
        resp_add_verbatim(q, proto, r->s, r->b, r->n);
        break;
    }
}

static const struct row rows[] = {
    {OP_SIMPLE, .s = "OK", .resp2 = "+OK\r\n"},
    {OP_SIMPLE, .s = "", .resp2 = "+\r\n"},
    {OP_ERROR, .s = "ERR value is not an integer or out of range",
     .resp2 = "-ERR value is not an integer or out of range\r\n"},
    {OP_ERROR, .s = "ERR unknown command 'FOO\r\nBAR', with args beginning with: 'x\ny' ",
     .resp2 = "-ERR unknown command 'FOO  BAR', with args beginning with: 'x y' \r\n"},
    {OP_ERROR, .s = "ERR a\rb\nc", .resp2 = "-ERR a b c\r\n"},
    {OP_ERROR, .s = "\r\n", .resp2 = "-  \r\n"}, /* source: mapped, not trimmed */
    {OP_INT, .ll = 0, .resp2 = ":0\r\n"},
    {OP_INT, .ll = 1, .resp2 = ":1\r\n"},
    {OP_INT, .ll = -9223372036854775807LL, .resp2 = ":-9223372036854775807\r\n"},
    {OP_INT, .ll = LLONG_MIN, .resp2 = ":-9223372036854775808\r\n"},
    {OP_INT, .ll = LLONG_MAX, .resp2 = ":9223372036854775807\r\n"},
    {OP_BULK, .b = "hello", .n = 5, .resp2 = "$5\r\nhello\r\n"},
    {OP_BULK, .b = "", .n = 0, .resp2 = "$0\r\n\r\n"},
    {OP_BULK, .b = "a\r\nb", .n = 4, .resp2 = "$4\r\na\r\nb\r\n"},
    {OP_BULK_STR, .s = "x", .resp2 = "$1\r\nx\r\n"},
    {OP_BULK_LL, .ll = -123, .resp2 = "$4\r\n-123\r\n"},
    {OP_BULK_LL, .ll = LLONG_MIN, .resp2 = "$20\r\n-9223372036854775808\r\n"},
    {OP_NULL, .resp2 = "$-1\r\n", .resp3 = "_\r\n"},
    {OP_NULL_ARRAY, .resp2 = "*-1\r\n", .resp3 = "_\r\n"},
    {OP_ARRAY, .ll = 0, .resp2 = "*0\r\n"},
    {OP_ARRAY, .ll = 3, .resp2 = "*3\r\n"},
    {OP_ARRAY, .ll = 123456, .resp2 = "*123456\r\n"},
    {OP_MAP, .ll = 1, .resp2 = "*2\r\n", .resp3 = "%1\r\n"},
    {OP_MAP, .ll = 7, .resp2 = "*14\r\n", .resp3 = "%7\r\n"},
    {OP_MAP, .ll = 0, .resp2 = "*0\r\n", .resp3 = "%0\r\n"},
    {OP_SET, .ll = 1, .resp2 = "*1\r\n", .resp3 = "~1\r\n"},
    {OP_SET, .ll = 0, .resp2 = "*0\r\n", .resp3 = "~0\r\n"},
    {OP_DOUBLE, .d = 1.5, .resp2 = "$3\r\n1.5\r\n", .resp3 = ",1.5\r\n"},
    {OP_DOUBLE, .d = 0.1, .resp2 = "$19\r\n0.10000000000000001\r\n", .resp3 = ",0.10000000000000001\r\n"},
    {OP_DOUBLE, .d = -0.1, .resp2 = "$20\r\n-0.10000000000000001\r\n", .resp3 = ",-0.10000000000000001\r\n"},
    {OP_DOUBLE, .d = 3, .resp2 = "$1\r\n3\r\n", .resp3 = ",3\r\n"},
    {OP_DOUBLE, .d = 0, .resp2 = "$1\r\n0\r\n", .resp3 = ",0\r\n"},
    {OP_DOUBLE, .d = -0.0, .resp2 = "$2\r\n-0\r\n", .resp3 = ",-0\r\n"},
    {OP_DOUBLE, .d = 1e18, .resp2 = "$5\r\n1e+18\r\n", .resp3 = ",1e+18\r\n"},
    {OP_DOUBLE, .d = 1e16, .resp2 = "$17\r\n10000000000000000\r\n", .resp3 = ",10000000000000000\r\n"},
    {OP_DOUBLE, .d = 1e-310, .resp2 = "$23\r\n9.9999999999999694e-311\r\n",
     .resp3 = ",9.9999999999999694e-311\r\n"},
    {OP_DOUBLE, .d = 1.7976931348623157e308, .resp2 = "$23\r\n1.7976931348623157e+308\r\n",
     .resp3 = ",1.7976931348623157e+308\r\n"},
    {OP_DOUBLE, .d = INFINITY, .resp2 = "$3\r\ninf\r\n", .resp3 = ",inf\r\n"},
    {OP_DOUBLE, .d = -INFINITY, .resp2 = "$4\r\n-inf\r\n", .resp3 = ",-inf\r\n"},
    {OP_BOOL, .ll = 1, .resp2 = ":1\r\n", .resp3 = "#t\r\n"},
    {OP_BOOL, .ll = 0, .resp2 = ":0\r\n", .resp3 = "#f\r\n"},
    {OP_BOOL, .ll = 42, .resp2 = ":1\r\n", .resp3 = "#t\r\n"},
    {OP_VERBATIM, .s = "txt", .b = "# Server\r\n", .n = 10, .resp2 = "$10\r\n# Server\r\n\r\n",
     .resp3 = "=14\r\ntxt:# Server\r\n\r\n"},
    /* source: only three bytes of fmt are used, a short one is padded with spaces */
    {OP_VERBATIM, .s = "md", .b = "x", .n = 1, .resp2 = "$1\r\nx\r\n", .resp3 = "=5\r\nmd :x\r\n"},
    {OP_VERBATIM, .s = "", .b = "", .n = 0, .resp2 = "$0\r\n\r\n", .resp3 = "=4\r\n   :\r\n"},
    {OP_VERBATIM, .s = "markdown", .b = "ab", .n = 2, .resp2 = "$2\r\nab\r\n", .resp3 = "=6\r\nmar:ab\r\n"},
};

/* Runs one row under one protocol on a fresh queue and compares every byte. */
static void check_row(struct cache *c, size_t i, int proto)
{
    const struct row *r = &rows[i];
    const char *want = proto == 3 && r->resp3 != NULL ? r->resp3 : r->resp2;
    struct outq *q = outq_create(c);
    cr_assert_not_null(q);
    run_op(q, r, proto);
    cr_expect(!outq_failed(q));
    size_t n;
    char *got = pt_drain(q, (size_t)-1, &n);
    cr_expect(n == strlen(want) && memcmp(got, want, n) == 0, "row %zu RESP%d: got %zu bytes \"%s\"", i,
              proto, n, got);
    free(got);
    outq_destroy(&q);
}

Test(resp_reply, table)
{
    struct cache *c = pt_cache_create(4u << 20);
    for (size_t i = 0; i < sizeof(rows) / sizeof(rows[0]); i++) {
        check_row(c, i, 2);
        check_row(c, i, 3);
    }
    cache_destroy(&c);
}

/* Writers appended one after another form one stream, as a reply of nested types does. */
Test(resp_reply, nested_stream)
{
    struct cache *c = pt_cache_create(4u << 20);
    struct outq *q = outq_create(c);
    resp_add_map(q, 3, 2);
    resp_add_bulk_str(q, "server");
    resp_add_bulk_str(q, "redis");
    resp_add_bulk_str(q, "modules");
    resp_add_array(q, 0);
    char *got = pt_drain(q, 3, NULL);
    cr_expect_str_eq(got, "%2\r\n$6\r\nserver\r\n$5\r\nredis\r\n$7\r\nmodules\r\n*0\r\n");
    free(got);
    outq_destroy(&q);
    cache_destroy(&c);
}

/* NaN as glibc prints it: a script's {double=0/0} gave "-nan" (x86's default NaN) and
 * {double=-(0/0)} "nan", as ",-nan\r\n" and ",nan\r\n" under RESP3. */
Test(resp_reply, double_nan)
{
    struct cache *c = pt_cache_create(4u << 20);
    struct outq *q = outq_create(c);
    resp_add_double(q, 2, copysign(NAN, -1.0));
    resp_add_double(q, 2, copysign(NAN, 1.0));
    resp_add_double(q, 3, copysign(NAN, -1.0));
    resp_add_double(q, 3, copysign(NAN, 1.0));
    char *got = pt_drain(q, (size_t)-1, NULL);
    cr_expect_str_eq(got, "$4\r\n-nan\r\n$3\r\nnan\r\n,-nan\r\n,nan\r\n");
    free(got);
    outq_destroy(&q);
    cache_destroy(&c);
}

/* resp_add_errorf follows addReplyErrorFormat: CR/LF trimmed from both ends, then mapped inside (a
 * script's {err='x\r\n\r\n'} gave "-x\r\n"; the leading trim is from the source). */
Test(resp_reply, errorf)
{
    struct cache *c = pt_cache_create(4u << 20);
    struct outq *q = outq_create(c);
    resp_add_errorf(q, "ERR wrong number of arguments for '%s' command", "get");
    resp_add_errorf(q, "%s", "x\r\n\r\n");
    resp_add_errorf(q, "%s%d", "\n\rERR a\r\nb ", 7);
    resp_add_errorf(q, "%s", "\r\n");
    char *got = pt_drain(q, (size_t)-1, NULL);
    cr_expect_str_eq(got, "-ERR wrong number of arguments for 'get' command\r\n"
                          "-x\r\n"
                          "-ERR a  b 7\r\n"
                          "-\r\n");
    free(got);
    outq_destroy(&q);
    cache_destroy(&c);
}

/* A formatted error longer than the stack buffer goes through the heap, whole. */
Test(resp_reply, errorf_long)
{
    struct cache *c = pt_cache_create(4u << 20);
    struct outq *q = outq_create(c);
    size_t len = 5000;
    char *arg = malloc(len + 1);
    cr_assert_not_null(arg);
    memset(arg, 'a', len);
    arg[len] = '\0';
    arg[100] = '\n';
    arg[len - 1] = '\r';
    resp_add_errorf(q, "ERR %s", arg);
    size_t n;
    char *got = pt_drain(q, (size_t)-1, &n);
    cr_expect_eq(n, 1 + 4 + (len - 1) + 2, "the trailing CR is trimmed");
    cr_expect_eq(memcmp(got, "-ERR aaa", 8), 0);
    cr_expect_eq(got[1 + 4 + 100], ' ', "the inner LF is a space");
    cr_expect_eq(memcmp(got + n - 3, "a\r\n", 3), 0);
    cr_expect_null(memchr(got, '\n', n - 1));
    free(got);
    free(arg);
    outq_destroy(&q);
    cache_destroy(&c);
}

static struct item *stored_item(struct cache *c, const char *key, const char *val)
{
    enum cache_status st;
    struct item *it = cache_alloc(c, key, strlen(key), 0, 0, strlen(val), &st);
    cr_assert_not_null(it);
    memcpy(item_value(it), val, strlen(val));
    cr_assert_eq(cache_store(c, it, CACHE_SET, 0, NULL), CACHE_OK);
    return it; /* the caller's reference; the table holds another */
}

/* An item's value goes out as a bulk string by reference, and the reference handed over is released
 * once the value has been written (GET k gave "$5\r\nhello\r\n", GET of "" "$0\r\n\r\n"). */
Test(resp_reply, item_by_reference)
{
    struct cache *c = pt_cache_create(4u << 20);
    struct outq *q = outq_create(c);
    struct item *k = stored_item(c, "k", "hello");
    struct item *e = stored_item(c, "e", "");
    uint16_t base = pt_refcount(k);

    cache_item_acquire(c, k);
    resp_add_item(q, k);
    cache_item_acquire(c, e);
    resp_add_item(q, e);
    cr_expect_eq(pt_refcount(k), base + 1, "the queue holds the reference it was given");
    struct iovec iov[8];
    int k_iov = outq_iov(q, iov, 8);
    cr_assert_geq(k_iov, 2);
    cr_expect_eq(iov[0].iov_len, 4);
    cr_expect_eq(iov[1].iov_base, item_value(k), "the value is referenced, not copied");
    char *got = pt_drain(q, 2, NULL);
    cr_expect_str_eq(got, "$5\r\nhello\r\n$0\r\n\r\n");
    free(got);
    cr_expect_eq(pt_refcount(k), base, "released once written");
    cache_item_release(c, &k);
    cache_item_release(c, &e);
    outq_destroy(&q);
    cache_destroy(&c);
}
