/*
 * test_slowlog.c: the slow log on the real binary. Requests of every kind reach it (RESP on the
 * memcached port, text commands), SLOWLOG GET/LEN/RESET over RESP and `stats slowlog` over text read
 * it: --slowlog-log-slower-than=0 logs every request, -1 none; --slowlog-max-len trims; CONFIG SET
 * changes both at run time; RESET empties the log while the ids go on; long arguments and long
 * argument lists are cut as Redis cuts them. Then the same requests go to redis-server 7.0 (started
 * with slowlog-log-slower-than 0; skipped when it is not installed), in RESP2 and in RESP3: LEN,
 * RESET, HELP and the errors must be the same bytes, and GET's entries the same shape (ids, times,
 * durations and ports differ) with the same arguments and client names.
 *
 * Each test starts its own server (its options differ); the suite's .fini stops it. cairn only: with
 * CAIRN_TEST_TARGET=memcached every test is skipped (memcached has no slow log).
 */
#include "config.h"

#include "tests/integration/harness.h"

#include <arpa/inet.h>
#include <criterion/criterion.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

static void slowlog_teardown(void)
{
    if (h_srv.pid != 0)
        h_teardown();
}

TestSuite(slowlog, .fini = slowlog_teardown, .timeout = 60);

/* Starts cairn with the extra options (NULL-terminated). */
static void start(const char *const *extra)
{
    if (h_target_is_memcached())
        cr_skip_test("memcached has no slow log");
    h_server_start(&h_srv, extra);
}

/* ---- a minimal RESP reader ---- */

/* One RESP value: its type byte, its integer (or element count, or bulk length; -1 null) and, for
 * bulk and simple strings, its bytes; the elements of an aggregate. */
struct rv {
    char type;
    long long n;
    char *s;
    size_t len;
    struct rv *el;
    size_t nel;
};

static void rv_free(struct rv *v)
{
    for (size_t i = 0; i < v->nel; i++)
        rv_free(&v->el[i]);
    free(v->el);
    free(v->s);
    memset(v, 0, sizeof(*v));
}

/* Reads one value from fd; raw (when not NULL) gets its bytes appended. */
static void rv_read(int fd, struct rv *v, char **raw, size_t *rawlen)
{
    memset(v, 0, sizeof(*v));
    char *line = h_read_line(fd);
    size_t ll = strlen(line);
    cr_assert(ll >= 3 && line[ll - 2] == '\r', "bad RESP line [%s]", line);
    if (raw != NULL) {
        *raw = realloc(*raw, *rawlen + ll + 1);
        memcpy(*raw + *rawlen, line, ll + 1);
        *rawlen += ll;
    }
    v->type = line[0];
    line[ll - 2] = '\0';
    switch (v->type) {
    case '+':
    case '-':
        v->s = strdup(line + 1);
        v->len = strlen(v->s);
        break;
    case ':':
        v->n = strtoll(line + 1, NULL, 10);
        break;
    case '$': {
        v->n = strtoll(line + 1, NULL, 10);
        if (v->n < 0)
            break;
        v->len = (size_t)v->n;
        v->s = malloc(v->len + 3);
        cr_assert_eq(h_read_n(fd, v->s, v->len + 2, H_IO_TIMEOUT_MS), v->len + 2, "short bulk");
        if (raw != NULL) {
            *raw = realloc(*raw, *rawlen + v->len + 3);
            memcpy(*raw + *rawlen, v->s, v->len + 2);
            *rawlen += v->len + 2;
            (*raw)[*rawlen] = '\0';
        }
        v->s[v->len] = '\0';
        break;
    }
    case '*':
    case '%':
    case '~': {
        v->n = strtoll(line + 1, NULL, 10);
        v->nel = v->n < 0 ? 0 : (size_t)v->n * (v->type == '%' ? 2 : 1);
        v->el = calloc(v->nel ? v->nel : 1, sizeof(*v->el));
        for (size_t i = 0; i < v->nel; i++)
            rv_read(fd, &v->el[i], raw, rawlen);
        break;
    }
    default:
        cr_assert_fail("unexpected RESP type in [%s]", line);
    }
    free(line);
}

/* Sends one command (NULL-terminated words) as a multibulk request. */
static void send_cmd(int fd, const char *const *argv)
{
    size_t cap = 64, n = 0;
    for (size_t i = 0; argv[i] != NULL; i++)
        cap += strlen(argv[i]) + 32;
    char *req = malloc(cap);
    size_t argc = 0;
    while (argv[argc] != NULL)
        argc++;
    n = (size_t)snprintf(req, cap, "*%zu\r\n", argc);
    for (size_t i = 0; i < argc; i++)
        n += (size_t)snprintf(req + n, cap - n, "$%zu\r\n%s\r\n", strlen(argv[i]), argv[i]);
    h_send(fd, req, n);
    free(req);
}

/* One command and its reply's raw bytes (malloc'd). */
static char *call_raw(int fd, const char *const *argv)
{
    struct rv v;
    char *raw = NULL;
    size_t rawlen = 0;
    send_cmd(fd, argv);
    rv_read(fd, &v, &raw, &rawlen);
    rv_free(&v);
    return raw;
}

/* One command and its reply, parsed. */
static void call(int fd, const char *const *argv, struct rv *v)
{
    send_cmd(fd, argv);
    rv_read(fd, v, NULL, NULL);
}

#define CMD(...) ((const char *const[]){__VA_ARGS__, NULL})

/* Expects the exact reply bytes of one command. */
static void expect_raw(int fd, const char *const *argv, const char *want)
{
    char *got = call_raw(fd, argv);
    h_compare_at(__FILE__, __LINE__, argv[0], want, strlen(want), got, strlen(got));
    free(got);
}

static long long call_int(int fd, const char *const *argv)
{
    struct rv v;
    call(fd, argv, &v);
    cr_assert_eq(v.type, ':', "not an integer reply");
    long long n = v.n;
    rv_free(&v);
    return n;
}

/* "127.0.0.1:<port>" of the local end of fd, as the slow log names the client. */
static void local_addr(int fd, char *buf, size_t size)
{
    struct sockaddr_in sa;
    socklen_t sl = sizeof(sa);
    cr_assert_eq(getsockname(fd, (struct sockaddr *)&sa, &sl), 0);
    snprintf(buf, size, "127.0.0.1:%u", (unsigned)ntohs(sa.sin_port));
}

/* Checks one entry of SLOWLOG GET: six fields, its arguments, address and name. */
static void check_entry(const struct rv *e, const char *const *args, const char *addr, const char *name)
{
    cr_assert_eq(e->type, '*');
    cr_assert_eq(e->nel, 6, "an entry has six fields");
    cr_expect_eq(e->el[0].type, ':');
    cr_expect_eq(e->el[1].type, ':');
    long long now = (long long)time(NULL);
    cr_expect(e->el[1].n >= now - 60 && e->el[1].n <= now + 1, "time %lld", e->el[1].n);
    cr_expect_eq(e->el[2].type, ':');
    cr_expect_geq(e->el[2].n, 0);
    const struct rv *a = &e->el[3];
    size_t n = 0;
    while (args[n] != NULL)
        n++;
    cr_assert_eq(a->nel, n, "argument count %zu, expected %zu (first %s)", a->nel, n,
                 a->nel ? a->el[0].s : "");
    for (size_t i = 0; i < n; i++)
        cr_expect_str_eq(a->el[i].s, args[i], "argument %zu", i);
    if (addr != NULL)
        cr_expect_str_eq(e->el[4].s, addr);
    cr_expect_str_eq(e->el[5].s, name);
}

/* ---- text protocol helpers ---- */

/* The `stats slowlog` lines of entries (from "STAT slowlog:"), in order; count in *n. */
static char **stats_entries(int fd, size_t *n, char *summary, size_t size)
{
    char *all = h_stats_raw(fd, "slowlog");
    char **lines = calloc(256, sizeof(*lines));
    *n = 0;
    size_t off = 0;
    for (char *p = all; *p != '\0';) {
        char *end = strstr(p, "\r\n");
        cr_assert(end != NULL);
        *end = '\0';
        if (strncmp(p, "STAT slowlog:", 13) == 0 && *n < 256)
            lines[(*n)++] = strdup(p);
        else if (strncmp(p, "STAT slowlog_", 13) == 0)
            off += (size_t)snprintf(summary + off, size - off, "%s\n", p);
        else
            cr_assert_str_eq(p, "END", "unexpected line in stats slowlog");
        p = end + 2;
    }
    free(all);
    return lines;
}

static void free_lines(char **lines, size_t n)
{
    for (size_t i = 0; i < n; i++)
        free(lines[i]);
    free(lines);
}

/* ---- tests ---- */

Test(slowlog, every_request_logged_both_protocols)
{
    start(CMD("--slowlog-log-slower-than=0"));
    int fd = h_connect(h_srv.port);
    char addr[64];
    local_addr(fd, addr, sizeof(addr));
    expect_raw(fd, CMD("SLOWLOG", "RESET"), "+OK\r\n");
    expect_raw(fd, CMD("SET", "k", "v"), "+OK\r\n");
    expect_raw(fd, CMD("CLIENT", "SETNAME", "app1"), "+OK\r\n");
    expect_raw(fd, CMD("GET", "k"), "$1\r\nv\r\n");

    struct rv v;
    call(fd, CMD("SLOWLOG", "GET"), &v);
    cr_assert_eq(v.type, '*');
    cr_assert_eq(v.nel, 4, "RESET, SET, CLIENT SETNAME and GET are logged (%zu)", v.nel);
    check_entry(&v.el[0], CMD("GET", "k"), addr, "app1");
    check_entry(&v.el[1], CMD("CLIENT", "SETNAME", "app1"), addr, "app1");
    check_entry(&v.el[2], CMD("SET", "k", "v"), addr, "");
    check_entry(&v.el[3], CMD("SLOWLOG", "RESET"), addr, "");
    for (size_t i = 0; i + 1 < v.nel; i++)
        cr_expect_eq(v.el[i].el[0].n, v.el[i + 1].el[0].n + 1, "ids go down by one from the newest");
    long long newest = v.el[0].el[0].n;
    rv_free(&v);
    /* SLOWLOG GET itself is logged once it has answered */
    cr_expect_eq(call_int(fd, CMD("SLOWLOG", "LEN")), 5);

    /* text requests reach the same log; stats slowlog shows them newest first */
    int tfd = h_connect(h_srv.port);
    h_cmd(tfd, "set foo 0 0 3\r\nbar\r\n", "STORED\r\n");
    h_cmd(tfd, "get foo\r\n", "VALUE foo 0 3\r\nbar\r\nEND\r\n");
    char summary[512];
    size_t n;
    char **lines = stats_entries(tfd, &n, summary, sizeof(summary));
    cr_expect_str_eq(summary,
                     "STAT slowlog_len 8\nSTAT slowlog_log_slower_than 0\nSTAT slowlog_max_len 128\n");
    cr_assert_eq(n, 8, "%zu entries", n);
    char want[256];
    snprintf(want, sizeof(want), "STAT slowlog:%lld time=", newest + 4); /* GET, LEN, set, get */
    cr_expect(strncmp(lines[0], want, strlen(want)) == 0, "%s", lines[0]);
    cr_expect(strstr(lines[0], " proto=text addr=127.0.0.1%3A") != NULL, "%s", lines[0]);
    cr_expect(strstr(lines[0], " name= argc=2 args=get+foo") != NULL, "%s", lines[0]);
    cr_expect(strstr(lines[1], " argc=5 args=set+foo+0+0+3") != NULL, "%s", lines[1]);
    cr_expect(strstr(lines[2], " proto=resp ") != NULL, "%s", lines[2]);
    cr_expect(strstr(lines[2], " name=app1 argc=2 args=SLOWLOG+LEN") != NULL, "%s", lines[2]);
    char enc[96];
    snprintf(enc, sizeof(enc), " addr=127.0.0.1%%3A%s ", strchr(addr, ':') + 1);
    cr_expect(strstr(lines[2], enc) != NULL, "%s: %s", enc, lines[2]);
    free_lines(lines, n);

    /* stats slowlog reset */
    h_cmd(tfd, "stats slowlog reset\r\n", "RESET\r\n");
    lines = stats_entries(tfd, &n, summary, sizeof(summary));
    cr_expect_eq(n, 1, "only the reset itself is logged after it");
    cr_expect(strstr(lines[0], " args=stats+slowlog+reset") != NULL, "%s", lines[0]);
    free_lines(lines, n);
    close(tfd);
    close(fd);
}

/* Passwords never reach the log: AUTH's arguments and the two after HELLO's AUTH are "(redacted)", as
 * in Redis. EXEC is not logged (Redis's skip_slowlog) but each command it ran is, queued AUTH too. */
Test(slowlog, passwords_redacted_exec_commands_logged)
{
    start(CMD("--slowlog-log-slower-than=0"));
    int fd = h_connect(h_srv.port);
    char addr[64];
    local_addr(fd, addr, sizeof(addr));
    expect_raw(fd, CMD("SLOWLOG", "RESET"), "+OK\r\n");
    expect_raw(fd, CMD("AUTH", "default", "s3cret"), "+OK\r\n");
    free(call_raw(fd, CMD("HELLO", "2", "AUTH", "default", "s3cret", "SETNAME", "h")));
    expect_raw(fd, CMD("MULTI"), "+OK\r\n");
    expect_raw(fd, CMD("SET", "k", "v"), "+QUEUED\r\n");
    expect_raw(fd, CMD("AUTH", "p4ss"), "+QUEUED\r\n");
    free(call_raw(fd, CMD("EXEC")));

    struct rv v;
    call(fd, CMD("SLOWLOG", "GET"), &v);
    cr_assert_eq(v.type, '*');
    cr_assert_eq(v.nel, 6, "RESET, AUTH, HELLO, MULTI and EXEC's SET and AUTH (%zu)", v.nel);
    check_entry(&v.el[0], CMD("AUTH", "(redacted)"), addr, "h");
    check_entry(&v.el[1], CMD("SET", "k", "v"), addr, "h");
    check_entry(&v.el[2], CMD("MULTI"), addr, "h");
    check_entry(&v.el[3], CMD("HELLO", "2", "AUTH", "(redacted)", "(redacted)", "SETNAME", "h"), addr, "h");
    check_entry(&v.el[4], CMD("AUTH", "(redacted)", "(redacted)"), addr, "");
    check_entry(&v.el[5], CMD("SLOWLOG", "RESET"), addr, "");
    rv_free(&v);
    close(fd);
}

Test(slowlog, threshold_off_logs_nothing)
{
    start(CMD("--slowlog-log-slower-than=-1"));
    int fd = h_connect(h_srv.port);
    for (int i = 0; i < 20; i++)
        expect_raw(fd, CMD("SET", "k", "v"), "+OK\r\n");
    int tfd = h_connect(h_srv.port); /* a connection is RESP or text from its first byte */
    h_cmd(tfd, "set a 0 0 1\r\n1\r\n", "STORED\r\n");
    cr_expect_eq(call_int(fd, CMD("SLOWLOG", "LEN")), 0);
    expect_raw(fd, CMD("SLOWLOG", "GET", "-1"), "*0\r\n");
    char summary[512];
    size_t n;
    char **lines = stats_entries(tfd, &n, summary, sizeof(summary));
    close(tfd);
    cr_expect_str_eq(summary,
                     "STAT slowlog_len 0\nSTAT slowlog_log_slower_than -1\nSTAT slowlog_max_len 128\n");
    cr_expect_eq(n, 0);
    free_lines(lines, n);
    expect_raw(fd, CMD("CONFIG", "GET", "slowlog-log-slower-than"),
               "*2\r\n$23\r\nslowlog-log-slower-than\r\n$2\r\n-1\r\n");
    close(fd);
}

Test(slowlog, max_len_trims_and_config_set)
{
    start(CMD("--slowlog-log-slower-than=0", "--slowlog-max-len=3"));
    int fd = h_connect(h_srv.port);
    for (int i = 0; i < 10; i++)
        expect_raw(fd, CMD("PING"), "+PONG\r\n");
    cr_expect_eq(call_int(fd, CMD("SLOWLOG", "LEN")), 3);
    struct rv v;
    call(fd, CMD("SLOWLOG", "GET", "-1"), &v);
    cr_assert_eq(v.nel, 3);
    check_entry(&v.el[0], CMD("SLOWLOG", "LEN"), NULL, "");
    check_entry(&v.el[1], CMD("PING"), NULL, "");
    rv_free(&v);
    expect_raw(fd, CMD("CONFIG", "GET", "slowlog-max-len"), "*2\r\n$15\r\nslowlog-max-len\r\n$1\r\n3\r\n");

    /* growing, then shrinking at run time */
    expect_raw(fd, CMD("CONFIG", "SET", "slowlog-max-len", "50"), "+OK\r\n");
    for (int i = 0; i < 10; i++)
        expect_raw(fd, CMD("PING"), "+PONG\r\n");
    cr_expect_eq(call_int(fd, CMD("SLOWLOG", "LEN")), 3 + 1 + 10, "3 kept, CONFIG SET and the pings");
    expect_raw(fd, CMD("CONFIG", "SET", "slowlog-max-len", "2"), "+OK\r\n");
    cr_expect_eq(call_int(fd, CMD("SLOWLOG", "LEN")), 2);
    char summary[512];
    size_t n;
    int tfd = h_connect(h_srv.port);
    char **lines = stats_entries(tfd, &n, summary, sizeof(summary));
    close(tfd);
    cr_expect_str_eq(summary, "STAT slowlog_len 2\nSTAT slowlog_log_slower_than 0\nSTAT slowlog_max_len 2\n");
    free_lines(lines, n);

    /* the threshold at run time: off, then on again */
    expect_raw(fd, CMD("CONFIG", "SET", "slowlog-log-slower-than", "-1"), "+OK\r\n");
    expect_raw(fd, CMD("SLOWLOG", "RESET"), "+OK\r\n");
    for (int i = 0; i < 5; i++)
        expect_raw(fd, CMD("PING"), "+PONG\r\n");
    cr_expect_eq(call_int(fd, CMD("SLOWLOG", "LEN")), 0);
    expect_raw(fd, CMD("CONFIG", "SET", "slowlog-log-slower-than", "0"), "+OK\r\n");
    cr_expect_eq(call_int(fd, CMD("SLOWLOG", "LEN")), 1, "CONFIG SET itself, once it turned the log on");
    expect_raw(fd, CMD("CONFIG", "SET", "slowlog-log-slower-than", "100000000"), "+OK\r\n");
    expect_raw(fd, CMD("PING"), "+PONG\r\n");
    cr_expect_eq(call_int(fd, CMD("SLOWLOG", "LEN")), 2, "a fast PING stays out under a high threshold");
    expect_raw(fd, CMD("CONFIG", "SET", "slowlog-max-len", "-1"),
               "-ERR CONFIG SET failed (possibly related to argument 'slowlog-max-len') - argument must be "
               "between 0 and 9223372036854775807 inclusive\r\n");
    close(fd);
}

Test(slowlog, reset_keeps_ids_going)
{
    start(CMD("--slowlog-log-slower-than=0"));
    int fd = h_connect(h_srv.port);
    for (int i = 0; i < 5; i++)
        expect_raw(fd, CMD("PING"), "+PONG\r\n");
    struct rv v;
    call(fd, CMD("SLOWLOG", "GET", "1"), &v);
    cr_assert_eq(v.nel, 1);
    long long before = v.el[0].el[0].n;
    rv_free(&v);
    expect_raw(fd, CMD("SLOWLOG", "RESET"), "+OK\r\n");
    call(fd, CMD("SLOWLOG", "GET"), &v);
    cr_assert_eq(v.nel, 1, "the reset itself");
    check_entry(&v.el[0], CMD("SLOWLOG", "RESET"), NULL, "");
    cr_expect_eq(v.el[0].el[0].n, before + 2, "ids are not reused: GET 1 took %lld, RESET the next",
                 before + 1);
    rv_free(&v);
    close(fd);
}

Test(slowlog, arguments_cut)
{
    start(CMD("--slowlog-log-slower-than=0"));
    int fd = h_connect(h_srv.port);
    char big[201];
    memset(big, 'x', 200);
    big[200] = '\0';
    expect_raw(fd, CMD("SET", "k", big), "+OK\r\n");
    const char *del[42];
    char words[42][8];
    del[0] = "DEL";
    for (int i = 1; i < 41; i++) {
        snprintf(words[i], sizeof(words[i]), "k%d", i - 1);
        del[i] = words[i];
    }
    del[41] = NULL;
    expect_raw(fd, del, ":0\r\n");

    struct rv v;
    call(fd, CMD("SLOWLOG", "GET", "2"), &v);
    cr_assert_eq(v.nel, 2);
    const char *dl[33];
    for (int i = 0; i < 31; i++)
        dl[i] = del[i];
    dl[31] = "... (10 more arguments)";
    dl[32] = NULL;
    check_entry(&v.el[0], dl, NULL, "");
    char cut[200];
    snprintf(cut, sizeof(cut), "%.128s... (72 more bytes)", big);
    check_entry(&v.el[1], CMD("SET", "k", cut), NULL, "");
    rv_free(&v);

    /* the text protocol: a get of 40 keys is 41 words */
    char line[512] = "get";
    for (int i = 0; i < 40; i++)
        snprintf(line + strlen(line), sizeof(line) - strlen(line), " key%d", i);
    strcat(line, "\r\n");
    int tfd = h_connect(h_srv.port);
    h_cmd(tfd, line, "END\r\n");
    char summary[512];
    size_t n;
    char **lines = stats_entries(tfd, &n, summary, sizeof(summary));
    close(tfd);
    cr_assert_geq(n, 1);
    cr_expect(strstr(lines[0], " argc=32 args=get+key0+key1+") != NULL, "%s", lines[0]);
    cr_expect(strstr(lines[0], "+key29+...%20%2810%20more%20arguments%29") != NULL, "%s", lines[0]);
    free_lines(lines, n);
    close(fd);
}

/* ---- the same requests to redis-server 7.0 ---- */

/* Starts redis-server on a free port with every request logged; its connection, or -1 to skip. */
static int redis_start(struct h_server *rs)
{
    const char *bin = getenv("REDIS_BIN") != NULL ? getenv("REDIS_BIN") : "/usr/bin/redis-server";
    char port[16];
    if (access(bin, X_OK) != 0)
        return -1;
    int fd = -1;
    for (int attempt = 0; attempt < 3 && fd < 0; attempt++) { /* another test may take the free port */
        rs->port = h_free_port();
        snprintf(port, sizeof(port), "%d", rs->port);
        const char *argv[] = {bin,         "--port",
                              port,        "--bind",
                              "127.0.0.1", "--save",
                              "",          "--appendonly",
                              "no",        "--daemonize",
                              "no",        "--slowlog-log-slower-than",
                              "0",         "--slowlog-max-len",
                              "128",       NULL};
        h_spawn_raw(rs, bin, argv);
        for (int i = 0; i < 500 && fd < 0 && !h_server_wait(rs, 0, NULL); i++) {
            fd = h_try_connect(rs->port);
            if (fd < 0)
                h_sleep_ms(10);
        }
    }
    cr_assert(fd >= 0, "redis-server did not start");
    return fd;
}

/* The skeleton of a reply: its types and sizes, every integer as '#', bulk strings' bytes left out
 * except where keep says (the arguments and names of entries are compared separately). */
static void skeleton(const struct rv *v, char *buf, size_t size, size_t *off)
{
    int k = 0;
    switch (v->type) {
    case ':':
        k = snprintf(buf + *off, size - *off, ":#");
        break;
    case '$':
        k = snprintf(buf + *off, size - *off, "$");
        break;
    case '+':
    case '-':
        k = snprintf(buf + *off, size - *off, "%c%s", v->type, v->s);
        break;
    default:
        k = snprintf(buf + *off, size - *off, "%c%zu[", v->type, v->nel);
        *off += (size_t)k;
        for (size_t i = 0; i < v->nel; i++)
            skeleton(&v->el[i], buf, size, off);
        k = snprintf(buf + *off, size - *off, "]");
        break;
    }
    *off += (size_t)k;
}

/* Compares SLOWLOG GET's entries: same shape, arguments and names. */
static void same_entries(const struct rv *a, const struct rv *b, const char *what)
{
    char sa[4096], sb[4096];
    size_t oa = 0, ob = 0;
    skeleton(a, sa, sizeof(sa), &oa);
    skeleton(b, sb, sizeof(sb), &ob);
    cr_expect_str_eq(sa, sb, "%s: shapes differ", what);
    if (a->nel != b->nel)
        return;
    for (size_t i = 0; i < a->nel; i++) {
        const struct rv *ea = &a->el[i], *eb = &b->el[i];
        if (ea->nel != 6 || eb->nel != 6)
            continue;
        for (size_t j = 0; j < ea->el[3].nel && j < eb->el[3].nel; j++)
            cr_expect_str_eq(ea->el[3].el[j].s, eb->el[3].el[j].s, "%s: entry %zu argument %zu", what, i, j);
        cr_expect_str_eq(ea->el[5].s, eb->el[5].s, "%s: entry %zu name", what, i);
    }
}

/* The sequence of requests for one protocol version, on cairn (fc) and Redis (fr). */
static void compare_with_redis(int fc, int fr, int proto)
{
    struct rv v;
    if (proto == 3) {
        call(fc, CMD("HELLO", "3"), &v);
        rv_free(&v);
        call(fr, CMD("HELLO", "3"), &v);
        rv_free(&v);
    }
    const char *const *const same[] = {
        CMD("SLOWLOG", "RESET"),
        CMD("SLOWLOG", "LEN"),
        CMD("SLOWLOG", "HELP"),
        CMD("slowlog", "help"),
        CMD("SLOWLOG"),
        CMD("SLOWLOG", "GET", "-2"),
        CMD("SLOWLOG", "GET", "abc"),
        CMD("SLOWLOG", "GET", "99999999999999999999"),
        CMD("SLOWLOG", "GET", "0"),
        CMD("SLOWLOG", "GET", "1", "2"),
        CMD("SLOWLOG", "LEN", "x"),
        CMD("SLOWLOG", "RESET", "x"),
        CMD("SLOWLOG", "HELP", "x"),
        CMD("SLOWLOG", "FOO"),
        CMD("CONFIG", "SET", "slowlog-max-len", "-1"),
        CMD("CONFIG", "SET", "slowlog-max-len", "abc"),
        CMD("CONFIG", "SET", "slowlog-log-slower-than", "-2"),
        CMD("CONFIG", "SET", "slowlog-log-slower-than", "1.5"),
        CMD("CONFIG", "SET", "slowlog-log-slower-than", "0", "slowlog-max-len", "128"),
        CMD("CONFIG", "GET", "slowlog-max-len"),
        CMD("CONFIG", "GET", "slowlog-log-slower-than"),
        CMD("SLOWLOG", "RESET"),
        CMD("SLOWLOG", "LEN"),
    };
    for (size_t i = 0; i < sizeof(same) / sizeof(same[0]); i++) {
        char *c = call_raw(fc, same[i]);
        char *r = call_raw(fr, same[i]);
        char what[128];
        snprintf(what, sizeof(what), "RESP%d %s %s %s", proto, same[i][0], same[i][1] ? same[i][1] : "",
                 same[i][1] && same[i][2] ? same[i][2] : "");
        h_compare_at(__FILE__, __LINE__, what, r, strlen(r), c, strlen(c));
        free(c);
        free(r);
    }

    /* entries: the same requests on both, then GET's shape, arguments and names */
    char big[301];
    memset(big, 'y', 300);
    big[300] = '\0';
    const char *del[41] = {"DEL"};
    char words[41][8];
    for (int i = 1; i < 40; i++) {
        snprintf(words[i], sizeof(words[i]), "d%d", i);
        del[i] = words[i];
    }
    del[40] = NULL;
    const char *const *const seq[] = {
        CMD("SLOWLOG", "RESET"),
        CMD("SET", "k", big),
        CMD("CLIENT", "SETNAME", "cmp"),
        del,
        CMD("GET", "k"),
        CMD("AUTH", "default", "pw"),
        CMD("HELLO", proto == 2 ? "2" : "3", "AUTH", "default", "pw", "SETNAME", "cmp2"),
        CMD("MULTI"),
        CMD("SET", "t", "x"),
        CMD("INCR", "t"),
        CMD("AUTH", "pw"),
        CMD("EXEC"),
        CMD("CLIENT", "SETNAME", ""),
    };
    for (size_t i = 0; i < sizeof(seq) / sizeof(seq[0]); i++) {
        free(call_raw(fc, seq[i]));
        free(call_raw(fr, seq[i]));
    }
    const char *const *const gets[] = {CMD("SLOWLOG", "GET"), CMD("SLOWLOG", "GET", "2"),
                                       CMD("SLOWLOG", "GET", "-1")};
    for (size_t i = 0; i < sizeof(gets) / sizeof(gets[0]); i++) {
        struct rv a, b;
        call(fc, gets[i], &a);
        call(fr, gets[i], &b);
        char what[64];
        snprintf(what, sizeof(what), "RESP%d SLOWLOG GET %s", proto, gets[i][2] ? gets[i][2] : "");
        same_entries(&a, &b, what);
        rv_free(&a);
        rv_free(&b);
    }
}

Test(slowlog, same_as_redis)
{
    start(CMD("--slowlog-log-slower-than=0"));
    struct h_server rs = {0};
    int fr = redis_start(&rs);
    if (fr < 0)
        cr_skip_test("no redis-server");
    for (int proto = 2; proto <= 3; proto++) {
        int fc = h_connect(h_srv.port);
        int fr2 = proto == 2 ? fr : h_connect(rs.port);
        compare_with_redis(fc, fr2, proto);
        close(fc);
        close(fr2);
    }
    bool timed_out;
    h_server_stop(&rs, 15, &timed_out);
}

Test(slowlog, admin_commands_disabled)
{
    start(CMD("--slowlog-log-slower-than=0", "--disable-admin-commands"));
    int fd = h_connect(h_srv.port);
    expect_raw(fd, CMD("SLOWLOG", "RESET"),
               "-ERR SLOWLOG RESET is disabled on this server (--disable-admin-commands)\r\n");
    cr_expect_geq(call_int(fd, CMD("SLOWLOG", "LEN")), 1, "reading stays allowed");
    int tfd = h_connect(h_srv.port);
    h_cmd(tfd, "stats slowlog reset\r\n", "CLIENT_ERROR stats slowlog reset not allowed\r\n");
    close(tfd);
    close(fd);
}

/* An app user (role app in the -Y file) is refused the log, as Redis's @admin SLOWLOG: RESP's NOPERM
 * and the text protocol's refusal; HELP stays open (not @admin in Redis). */
Test(slowlog, app_user_refused)
{
    char path[64];
    snprintf(path, sizeof(path), "/tmp/cairn-slowlog-creds-%d", (int)getpid());
    FILE *f = fopen(path, "w");
    cr_assert_not_null(f);
    fputs("alice:secret\nbob:pw:app\n", f);
    fclose(f);
    cr_assert_eq(chmod(path, 0600), 0);
    start(CMD("--slowlog-log-slower-than=0", "-Y", path));
    unlink(path); /* read at start */
    int fd = h_connect(h_srv.port);
    expect_raw(fd, CMD("AUTH", "bob", "pw"), "+OK\r\n");
    expect_raw(fd, CMD("SLOWLOG", "GET"),
               "-NOPERM this user has no permissions to run the 'slowlog|get' command\r\n");
    expect_raw(fd, CMD("SLOWLOG", "LEN"),
               "-NOPERM this user has no permissions to run the 'slowlog|len' command\r\n");
    expect_raw(fd, CMD("SLOWLOG", "RESET"),
               "-NOPERM this user has no permissions to run the 'slowlog|reset' command\r\n");
    char *help = call_raw(fd, CMD("SLOWLOG", "HELP"));
    cr_expect(strncmp(help, "*12\r\n", 5) == 0, "%s", help);
    free(help);
    expect_raw(fd, CMD("AUTH", "alice", "secret"), "+OK\r\n");
    cr_expect_geq(call_int(fd, CMD("SLOWLOG", "LEN")), 1);
    close(fd);

    int tfd = h_connect(h_srv.port);
    h_cmd(tfd, "set x 0 0 6\r\nbob pw\r\n", "STORED\r\n");
    h_cmd(tfd, "stats slowlog\r\n", "CLIENT_ERROR permission denied\r\n");
    close(tfd);
}
