/*
 * test_dumps.c: the key dumps, `stats cachedump` and `lru_crawler metadump`, against the real
 * server: their lines and errors next to the reference memcached 1.6.18 (times normalised, since the
 * two servers started at different seconds), -X, every key of a large cache listed while other
 * clients write, and a dump to a client that does not read staying within the reply pause (the dump is
 * streamed, never buffered whole).
 *
 * With CAIRN_TEST_TARGET=memcached the suite runs against memcached, except the checks of what only
 * cairn does: cachedump listing every key (memcached lists the cold LRU segment only) and the memory
 * bound of an unread dump (memcached's crawler gives up on a client that stops reading).
 */
#include "config.h"

#include "tests/integration/harness.h"

#include <criterion/criterion.h>
#include <ctype.h>
#include <pthread.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>

static struct h_server ref;

static void setup_pair(void)
{
    h_setup();
    if (h_memcached_bin() != NULL)
        h_server_start_bin(&ref, h_memcached_bin(), true, NULL);
}

static void teardown_pair(void)
{
    bool to;
    h_server_stop(&ref, SIGTERM, &to);
    h_teardown();
}

static void setup_big(void)
{
    static const char *const extra[] = {"-m", "512", NULL};
    signal(SIGPIPE, SIG_IGN);
    h_server_start(&h_srv, extra);
}

static void setup_no_dumps(void)
{
    static const char *const extra[] = {"-X", NULL};
    signal(SIGPIPE, SIG_IGN);
    h_server_start(&h_srv, extra);
}

TestSuite(dumps, .timeout = 120);

/* ---- helpers ---- */

/* Sends a dump request and returns its whole answer, up to and including END (malloc'd). A BUSY
 * answer (memcached's automatic crawl runs for a moment after its start) is retried. */
static char *dump(int fd, const char *req, size_t *len)
{
    for (int tries = 0;; tries++) {
        size_t flen, rlen = 0;
        h_sends(fd, req);
        char *first = h_read_until(fd, "\r\n", &flen); /* the BUSY line, or some (or all) of the dump */
        if (strncmp(first, "BUSY", 4) == 0 && tries < 50) {
            free(first);
            h_sleep_ms(100);
            continue;
        }
        bool ended =
            (flen == 5 || (flen > 5 && first[flen - 6] == '\n')) && strcmp(first + flen - 5, "END\r\n") == 0;
        char *rest = ended ? strdup("") : h_read_until(fd, "END\r\n", &rlen);
        char *all = malloc(flen + rlen + 1);
        memcpy(all, first, flen);
        memcpy(all + flen, rest, rlen + 1);
        free(first);
        free(rest);
        if (len != NULL)
            *len = flen + rlen;
        return all;
    }
}

/* Replaces every run of digits after "exp=" (unless -1), "la=" and "; " (an ITEM line's time, unless
 * 0) by "T": the two servers' clocks started at different seconds. In place. */
static void normalise_times(char *s)
{
    static const char *const marks[] = {"exp=", "la=", "; "};
    char *w = s;
    for (const char *r = s; *r != '\0';) {
        bool hit = false;
        for (size_t m = 0; m < 3 && !hit; m++) {
            size_t n = strlen(marks[m]);
            if (strncmp(r, marks[m], n) != 0 || !isdigit((unsigned char)r[n]))
                continue;
            if (r[n] == '0' && !isdigit((unsigned char)r[n + 1]))
                continue;
            memmove(w, marks[m], n);
            r += n;
            while (isdigit((unsigned char)*r))
                r++;
            w += n;
            *w++ = 'T'; /* after r has passed the digits: w never overtakes r */
            hit = true;
        }
        if (!hit)
            *w++ = *r++;
    }
    *w = '\0';
}

static int cmp_str(const void *a, const void *b)
{
    return strcmp(*(char *const *)a, *(char *const *)b);
}

/* The lines of a dump answer (each ending in "\n"), END excluded, sorted, joined (malloc'd). */
static char *sorted_lines(const char *s)
{
    size_t n = 0, cap = 16;
    char **lines = malloc(cap * sizeof(*lines));
    for (const char *p = s; *p != '\0';) {
        const char *nl = strchr(p, '\n');
        size_t len = nl != NULL ? (size_t)(nl - p) + 1 : strlen(p);
        if (strncmp(p, "END\r\n", 5) != 0) {
            if (n == cap)
                lines = realloc(lines, (cap *= 2) * sizeof(*lines));
            lines[n++] = strndup(p, len);
        }
        p += len;
    }
    qsort(lines, n, sizeof(*lines), cmp_str);
    size_t total = 1;
    for (size_t i = 0; i < n; i++)
        total += strlen(lines[i]);
    char *out = malloc(total);
    out[0] = '\0';
    for (size_t i = 0; i < n; i++) {
        strcat(out, lines[i]);
        free(lines[i]);
    }
    free(lines);
    return out;
}

/* Every line of sub (a dump answer, END excluded) is a line of all. */
static void expect_lines_in(const char *sub, const char *all, const char *what)
{
    for (const char *p = sub; *p != '\0' && strncmp(p, "END\r\n", 5) != 0;) {
        const char *nl = strchr(p, '\n');
        cr_assert_not_null(nl);
        char *line = strndup(p, (size_t)(nl - p) + 1);
        cr_expect(strstr(all, line) != NULL, "%s: memcached's %s is not in %s", what, line, all);
        free(line);
        p = nl + 1;
    }
}

/* The same few items on a server: small values (class 1 on both servers), one with flags and an
 * expiry, an empty value, a key with bytes above 0x7f, a base64 key, and one fetched. */
static void store_sample(int port)
{
    int fd = h_connect(port);
    h_cmd(fd, "set foo 0 0 3\r\nbar\r\n", "STORED\r\n");
    h_cmd(fd, "set a/b%20c 5 100 2\r\nhi\r\n", "STORED\r\n");
    h_cmd(fd, "set k~x._- 0 0 0\r\n\r\n", "STORED\r\n");
    h_cmd(fd, "set \xc3\xbc+=: 0 0 1\r\nu\r\n", "STORED\r\n");
    h_cmd(fd, "ms Zm9vYmFy 2 b\r\nhi\r\n", "HD\r\n");
    h_cmd(fd, "get foo\r\n", "VALUE foo 0 3\r\nbar\r\nEND\r\n");
    close(fd);
}

/* ---- lines and errors next to memcached ---- */

Test(dumps, metadump_lines_match_memcached, .init = setup_pair, .fini = teardown_pair)
{
    if (ref.pid == 0)
        cr_skip_test("no reference memcached");
    store_sample(h_srv.port);
    store_sample(ref.port);
    int a = h_connect(h_srv.port), b = h_connect(ref.port);
    char *got = dump(a, "lru_crawler metadump all\r\n", NULL);
    char *want = dump(b, "lru_crawler metadump all\r\n", NULL);
    normalise_times(got);
    normalise_times(want);
    /* memcached's crawler walks the LRU segments while its maintainer moves items between them, so
     * it may miss one (a fetched item): each of its lines must be cairn's, and cairn lists them all */
    expect_lines_in(want, got, "metadump all");
    const char *all = "key=%C3%BC%2B%3D%3A exp=-1 la=T cas=4 fetch=no cls=1 size=65\n"
                      "key=a%2Fb%2520c exp=T la=T cas=2 fetch=no cls=1 size=72\n"
                      "key=foo exp=-1 la=T cas=1 fetch=yes cls=1 size=65\n"
                      "key=foobar exp=-1 la=T cas=5 fetch=no cls=1 size=67\n" /* base64: raw, URL-encoded */
                      "key=k~x._- exp=-1 la=T cas=3 fetch=no cls=1 size=65\n";
    if (!h_target_is_memcached()) {
        char *gs = sorted_lines(got);
        h_compare_at(__FILE__, __LINE__, "metadump all", all, strlen(all), gs, strlen(gs));
        free(gs);
    }
    free(got);
    free(want);
    /* hash and a class list walk the same items */
    const char *const args[] = {"hash", "1", "1,,2", "63,1"};
    for (size_t i = 0; i < sizeof(args) / sizeof(args[0]); i++) {
        char req[64];
        snprintf(req, sizeof(req), "lru_crawler metadump %s\r\n", args[i]);
        got = dump(a, req, NULL);
        want = dump(b, req, NULL);
        normalise_times(got);
        normalise_times(want);
        expect_lines_in(want, got, req);
        if (!h_target_is_memcached()) {
            char *gs = sorted_lines(got);
            h_compare_at(__FILE__, __LINE__, req, all, strlen(all), gs, strlen(gs));
            free(gs);
        }
        free(got);
        free(want);
    }
    close(a);
    close(b);
}

Test(dumps, cachedump_lines_match_memcached, .init = setup_pair, .fini = teardown_pair)
{
    if (ref.pid == 0)
        cr_skip_test("no reference memcached");
    store_sample(h_srv.port);
    store_sample(ref.port);
    int a = h_connect(h_srv.port), b = h_connect(ref.port);
    char *got = dump(a, "stats cachedump 1 0\r\n", NULL);
    char *want = dump(b, "stats cachedump 1 0\r\n", NULL);
    normalise_times(got);
    normalise_times(want);
    /* memcached lists the class's cold LRU segment only, which may not hold every item yet: each of
     * its lines must be cairn's, and cairn lists the whole class (the base64 key is skipped). */
    expect_lines_in(want, got, "cachedump 1 0");
    if (!h_target_is_memcached()) {
        char *gs = sorted_lines(got);
        const char *all = "ITEM a/b%20c [2 b; T s]\r\nITEM foo [3 b; 0 s]\r\nITEM k~x._- [0 b; 0 s]\r\n"
                          "ITEM \xc3\xbc+=: [1 b; 0 s]\r\n";
        h_compare_at(__FILE__, __LINE__, "cachedump 1 0", all, strlen(all), gs, strlen(gs));
        free(gs);
    }
    free(got);
    free(want);
    got = dump(a, "stats cachedump 1 1\r\n", NULL);
    cr_expect_eq(strstr(got, "\r\nITEM"), NULL, "one line only: %s", got);
    free(got);
    close(a);
    close(b);
}

/* Requests answered in one line, the same on both servers. Each goes on a fresh connection, since
 * memcached drops what is pipelined behind a metadump. */
static const char *const one_line[] = {
    "stats cachedump\r\n",
    "stats cachedump 1\r\n",
    "stats cachedump x 0\r\n",
    "stats cachedump 1 x\r\n",
    "stats cachedump -1 0\r\n",
    "stats cachedump 64 0\r\n",
    "stats cachedump 4294967360 0\r\n", /* 64 after memcached's 32-bit truncation */
    "stats cachedump 0 0\r\n",
    "stats cachedump 63 0\r\n",
    "lru_crawler metadump\r\n",
    "lru_crawler metadump all extra\r\n",
    "lru_crawler metadump 0\r\n",
    "lru_crawler metadump 64\r\n",
    "lru_crawler metadump x\r\n",
    "lru_crawler metadump 1,x\r\n",
    "lru_crawler metadump -1\r\n",
    "lru_crawler metadump 63\r\n",
    "lru_crawler metadump 62,63\r\n",
};

static void compare_one_line(int port_a, int port_b, const char *req)
{
    int a = h_connect(port_a), b = h_connect(port_b);
    size_t ga, gb;
    h_sends(a, req);
    h_sends(b, req);
    char *got = h_read_until(a, "\r\n", &ga);
    char *want = h_read_until(b, "\r\n", &gb);
    h_compare_at(__FILE__, __LINE__, req, want, gb, got, ga);
    free(got);
    free(want);
    close(a);
    close(b);
}

Test(dumps, errors_match_memcached, .init = setup_pair, .fini = teardown_pair)
{
    if (ref.pid == 0)
        cr_skip_test("no reference memcached");
    for (size_t i = 0; i < sizeof(one_line) / sizeof(one_line[0]); i++)
        compare_one_line(h_srv.port, ref.port, one_line[i]);
    /* switched off (memcached's crawler thread stops asynchronously) */
    int a = h_connect(h_srv.port), b = h_connect(ref.port);
    h_cmd(a, "lru_crawler disable\r\n", "OK\r\n");
    h_cmd(b, "lru_crawler disable\r\n", "OK\r\n");
    h_sleep_ms(500);
    compare_one_line(h_srv.port, ref.port, "lru_crawler metadump all\r\n");
    compare_one_line(h_srv.port, ref.port, "lru_crawler metadump 0\r\n");
    compare_one_line(h_srv.port, ref.port, "stats cachedump 0 0\r\n");
    close(a);
    close(b);
}

Test(dumps, empty_class_list_is_not_started, .init = h_setup, .fini = h_teardown)
{
    /* measured on memcached alone: its crawler then stays claimed, so this runs last there; its
     * automatic crawl right after the start may be running (BUSY) */
    int fd = h_connect(h_srv.port);
    char *line = NULL;
    for (int i = 0; i < 50; i++) {
        free(line);
        h_sends(fd, "lru_crawler metadump ,\r\n");
        line = h_read_line(fd);
        if (strncmp(line, "BUSY", 4) != 0 || !h_target_is_memcached())
            break;
        h_sleep_ms(100);
    }
    cr_expect_str_eq(line, "NOTSTARTED no items to crawl\r\n");
    free(line);
    if (!h_target_is_memcached())
        h_cmd(fd, "lru_crawler metadump ,,\r\nlru_crawler metadump 1\r\n",
              "NOTSTARTED no items to crawl\r\nEND\r\n");
    close(fd);
}

Test(dumps, disabled_by_X, .init = setup_no_dumps, .fini = h_teardown)
{
    /* measured on memcached -X: cachedump is refused before its arguments are read; metadump says the
     * crawler is off first, when it is */
    int fd = h_connect(h_srv.port);
    h_cmd(fd, "set foo 0 0 3\r\nbar\r\n", "STORED\r\n");
    h_cmd(fd, "stats cachedump 1 0\r\n", "CLIENT_ERROR stats cachedump not allowed\r\n");
    h_cmd(fd, "stats cachedump\r\n", "CLIENT_ERROR stats cachedump not allowed\r\n");
    h_cmd(fd, "lru_crawler metadump all\r\n", "ERROR metadump not allowed\r\n");
    h_cmd(fd, "lru_crawler metadump 99\r\n", "ERROR metadump not allowed\r\n");
    h_cmd(fd, "lru_crawler metadump\r\n", "ERROR\r\n");
    char *st = h_stats_raw(fd, "settings");
    char val[16];
    cr_expect(h_stat_find(st, "dump_enabled", val, sizeof(val)) && strcmp(val, "no") == 0);
    free(st);
    h_cmd(fd, "lru_crawler disable\r\n", "OK\r\n");
    h_sleep_ms(300);
    h_cmd(fd, "lru_crawler metadump all\r\n", "CLIENT_ERROR lru crawler disabled\r\n");
    h_cmd(fd, "get foo\r\n", "VALUE foo 0 3\r\nbar\r\nEND\r\n");
    close(fd);
}

Test(dumps, enabled_by_default_in_settings, .init = h_setup, .fini = h_teardown)
{
    int fd = h_connect(h_srv.port);
    char *st = h_stats_raw(fd, "settings");
    char val[16];
    cr_expect(h_stat_find(st, "dump_enabled", val, sizeof(val)) && strcmp(val, "yes") == 0);
    free(st);
    close(fd);
}

/* ---- many keys ---- */

/* Stores n keys "<prefix><i>" (i zero-padded to keylen digits), pipelined with noreply. Values: none,
 * or with spread of i % 500 bytes and every 50th 4,000 to 7,000 bytes, so that the items take classes
 * past memcached's 63. */
static void fill(int port, const char *prefix, unsigned n, unsigned keylen, bool spread)
{
    static char val[7000];
    int fd = h_connect(port);
    size_t cap = 1 << 20, len = 0;
    char *buf = malloc(cap + 8192);
    memset(val, 'v', sizeof(val));
    for (unsigned i = 0; i < n; i++) {
        unsigned vlen = !spread ? 0 : i % 50 == 0 ? 4000 + i % 3000 : i % 500;
        len +=
            (size_t)snprintf(buf + len, 512, "set %s%0*u 0 0 %u noreply\r\n", prefix, (int)keylen, i, vlen);
        memcpy(buf + len, val, vlen); /* room: len was at most cap before this item */
        memcpy(buf + len + vlen, "\r\n", 2);
        len += vlen + 2;
        if (len > cap) {
            h_send(fd, buf, len);
            len = 0;
        }
    }
    memcpy(buf + len, "version\r\n", 9);
    h_send(fd, buf, len + 9);
    free(h_read_until(fd, "\r\n", NULL));
    free(buf);
    close(fd);
}

struct writer {
    int port;
    unsigned id;
    atomic_bool *stop;
    unsigned done;
};

/* Sets and deletes keys of its own until told to stop. */
static void *writer_main(void *arg)
{
    struct writer *w = arg;
    int fd = h_connect(w->port);
    char req[128];
    while (!atomic_load(w->stop)) {
        snprintf(req, sizeof(req), "set w%u:%u 0 0 5\r\nvalue\r\ndelete w%u:%u\r\n", w->id, w->done, w->id,
                 w->done / 2);
        h_sends(fd, req);
        free(h_read_until(fd, "\r\n", NULL));
        free(h_read_until(fd, "\r\n", NULL));
        w->done++;
    }
    close(fd);
    return NULL;
}

/* Marks base keys "b<i>" (8 digits) of the lines of out that start with prefix; returns how many
 * distinct. Walks lines with memchr over the known length: strstr and sscanf would each take the
 * length of the whole rest (quadratic over a dump of megabytes). */
static unsigned mark_keys(const char *out, const char *prefix, unsigned char *seen, unsigned n)
{
    unsigned distinct = 0;
    size_t plen = strlen(prefix), rest = strlen(out);
    for (const char *p = out; rest > 0;) {
        const char *nl = memchr(p, '\n', rest);
        size_t len = nl != NULL ? (size_t)(nl - p) + 1 : rest;
        if (len > plen && memcmp(p, prefix, plen) == 0) {
            unsigned i = 0, digits = 0;
            for (const char *q = p + plen; digits < 8 && q < p + len && *q >= '0' && *q <= '9'; q++, digits++)
                i = i * 10 + (unsigned)(*q - '0');
            if (digits == 8 && i < n && !seen[i]) {
                seen[i] = 1;
                distinct++;
            }
        }
        p += len;
        rest -= len;
    }
    return distinct;
}

Test(dumps, every_key_while_others_write, .init = setup_big, .fini = h_teardown)
{
    enum { N = 100000, WRITERS = 3 };
    fill(h_srv.port, "b", N, 8, true);
    atomic_bool stop = false;
    struct writer w[WRITERS];
    pthread_t th[WRITERS];
    for (unsigned i = 0; i < WRITERS; i++) {
        w[i] = (struct writer){.port = h_srv.port, .id = i, .stop = &stop};
        cr_assert_eq(pthread_create(&th[i], NULL, writer_main, &w[i]), 0);
    }
    /* a reader meanwhile is answered promptly */
    int r = h_connect(h_srv.port);
    int d = h_connect(h_srv.port);
    h_sends(d, "lru_crawler metadump all\r\n");
    int64_t t0 = h_now_ms();
    h_cmd(r, "get b00000007\r\n", "VALUE b00000007 0 7\r\nvvvvvvv\r\nEND\r\n");
    cr_expect_lt(h_now_ms() - t0, 1000, "a get waited %lld ms behind the dump", (long long)(h_now_ms() - t0));
    size_t len;
    char *out = h_read_until(d, "END\r\n", &len);
    static unsigned char seen[N];
    memset(seen, 0, sizeof(seen));
    unsigned listed = mark_keys(out, "key=b", seen, N);
    /* memcached's crawler may miss items its LRU maintainer moves meanwhile */
    if (!h_target_is_memcached())
        cr_expect_eq(listed, N, "every key present for the whole dump is listed: %u", listed);
    else
        cr_expect_gt(listed, N / 2, "%u listed", listed);
    cr_expect(len > 5 && strcmp(out + len - 5, "END\r\n") == 0);
    free(out);
    if (!h_target_is_memcached()) {
        /* the crawler was given back */
        h_cmd(d, "lru_crawler crawl all\r\n", "OK\r\n");
        /* memcdump's way: cachedump of every memcached class id lists every key once */
        memset(seen, 0, sizeof(seen));
        unsigned distinct = 0;
        for (unsigned id = 0; id <= 63; id++) {
            char req[64];
            snprintf(req, sizeof(req), "stats cachedump %u 0\r\n", id);
            out = dump(d, req, NULL);
            distinct += mark_keys(out, "ITEM b", seen, N);
            free(out);
        }
        /* memcached's 2 MB cap per class: about 27k of these lines; 100k keys over ~50 classes fit */
        cr_expect_eq(distinct, N, "cachedump 0..63 lists every key");
    }
    atomic_store(&stop, true);
    for (unsigned i = 0; i < WRITERS; i++) {
        pthread_join(th[i], NULL);
        cr_expect_gt(w[i].done, 0);
    }
    close(r);
    close(d);
}

Test(dumps, unread_dump_is_bounded, .init = setup_big, .fini = h_teardown)
{
    if (h_target_is_memcached())
        cr_skip_test("memcached's crawler drops a client that stops reading");
    /* 200k keys of 200 bytes: their metadump is about 50 MB */
    enum { N = 200000 };
    fill(h_srv.port, "", N, 200, false);
    int c = h_connect(h_srv.port);
    uint64_t before = h_server_rss_kb(&h_srv);
    int slow = h_connect_small_window(h_srv.port);
    h_sends(slow, "lru_crawler metadump all\r\n");
    h_sleep_ms(1500);
    uint64_t after = h_server_rss_kb(&h_srv);
    cr_expect_lt(after > before ? after - before : 0, 16 * 1024, "RSS grew by %lu KB",
                 (unsigned long)(after - before));
    /* another dump is BUSY meanwhile; everything else is served */
    h_cmd(c, "lru_crawler metadump all\r\n", "BUSY currently processing crawler request\r\n");
    h_cmd(c, "lru_crawler crawl all\r\n", "BUSY currently processing crawler request\r\n");
    h_cmd(c, "set x 0 0 1\r\n1\r\nget x\r\n", "STORED\r\nVALUE x 0 1\r\n1\r\nEND\r\n");
    /* the slow client goes away mid-dump: the crawler is free again, and a client that reads gets
     * the whole dump */
    close(slow);
    h_sleep_ms(200);
    size_t len;
    char *out = dump(c, "lru_crawler metadump all\r\n", &len);
    size_t lines = 0;
    for (const char *p = out; (p = strchr(p, '\n')) != NULL; p++)
        lines++;
    cr_expect_eq(lines, (size_t)N + 2, "every key, x and END: %zu lines", lines);
    free(out);
    h_cmd(c, "lru_crawler crawl all\r\n", "OK\r\n");
    close(c);
}
