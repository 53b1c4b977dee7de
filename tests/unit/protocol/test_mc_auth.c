/*
 * test_mc_auth.c: the text protocol session with credentials (memcached's -Y): what an
 * unauthenticated connection is answered, the auth `set`, its counters, the held-back failures and an
 * app user's refused server-wide commands. Every stream is fed whole and split into small chunks; the
 * replies must be the same bytes (memcached 1.6.18's, checked side by side with it).
 */
#include "config.h"

#include <criterion/criterion.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "protocol/auth.h"
#include "protocol_test.h"

#define UNAUTH  "CLIENT_ERROR unauthenticated\r\n"
#define FAILURE "CLIENT_ERROR authentication failure\r\n"
#define DENIED  "CLIENT_ERROR permission denied\r\n"

/* A session whose context has the credentials alice:secret (admin) and bob:pw (app). */
struct at_run {
    struct pt_run t;
    struct auth *auth;
};

static void at_init(struct at_run *a)
{
    char path[] = "/tmp/cairn-mcauth-XXXXXX", err[256];
    int fd = mkstemp(path);
    cr_assert_geq(fd, 0);
    const char *text = "alice:secret\nbob:pw:app\n";
    cr_assert_eq(write(fd, text, strlen(text)), (ssize_t)strlen(text));
    cr_assert_eq(fchmod(fd, 0600), 0);
    close(fd);
    a->auth = auth_create();
    cr_assert_not_null(a->auth);
    cr_assert(auth_load(a->auth, path, NULL, err, sizeof(err)), "auth_load: %s", err);
    unlink(path);
    memset(&a->t, 0, sizeof(a->t));
    a->t.cache = pt_cache_create(8u << 20);
    a->t.ctx.cache = a->t.cache;
    a->t.ctx.item_size_max = 1024 * 1024;
    a->t.ctx.use_cas = true;
    a->t.ctx.version = "1.6.18";
    a->t.ctx.auth = a->auth;
    a->t.s = mc_session_create(&a->t.ctx, &a->t.stats);
    a->t.r = outq_create(a->t.cache);
    cr_assert(a->t.s && a->t.r);
}

static void at_fini(struct at_run *a)
{
    pt_run_fini(&a->t);
    auth_destroy(&a->auth);
}

/* Feeds in[0..n) in chunks of chunk bytes as a server does; a PROTO_WAIT for a held-back failure is
 * answered at once (the time that passes is the server's business). Stops at any other status. */
static enum proto_status at_feed(struct at_run *a, const char *in, size_t n, size_t chunk)
{
    char *acc = malloc(n + 1);
    size_t have = 0, off = 0;
    enum proto_status st = PROTO_OK;
    cr_assert_not_null(acc);
    while (off < n || (st == PROTO_WAIT && have > 0)) {
        size_t m = n - off < chunk ? n - off : chunk;
        memcpy(acc + have, in + off, m);
        have += m;
        off += m;
        size_t used = 0;
        st = pt_session_feed(a->t.s, acc, have, &used, a->t.r);
        cr_assert_leq(used, have);
        memmove(acc, acc + used, have - used);
        have -= used;
        if (st == PROTO_WAIT) {
            cr_assert_eq(mc_session_take_wait(a->t.s), PROTO_WAIT_AUTH_DELAY);
            mc_session_answer(a->t.s, &(struct proto_outcome){.ev = PROTO_EV_AUTH_DELAYED}, a->t.r);
        } else if (st != PROTO_OK)
            break;
    }
    a->t.unconsumed = have + (n - off);
    a->t.st = st;
    free(acc);
    return st;
}

struct at_case {
    const char *name;
    const char *in;
    size_t len; /* 0: strlen(in) */
    const char *out;
    enum proto_status st;
};

/* Each stream's replies: the same whether it arrives whole or a few bytes at a time. */
static const struct at_case cases[] = {
    {"get", "get a\r\n", 0, UNAUTH, PROTO_OK},
    {"quit stays open", "quit\r\nversion\r\n", 0, UNAUTH UNAUTH, PROTO_OK},
    {"meta", "mg a v\r\nmn\r\n", 0, UNAUTH UNAUTH, PROTO_OK},
    {"empty lines; the last newline alone waits", "\r\n\n\n", 0, UNAUTH UNAUTH, PROTO_OK},
    {"a lone newline waits", "\n", 0, "", PROTO_OK},
    {"partial line waits", "set a 0 0", 0, "", PROTO_OK},
    {"auth line waits for its value", "set a 0 0 12\r\nalice sec", 0, "", PROTO_OK},
    {"upper case SET", "SET a 0 0 12\r\n", 0, UNAUTH, PROTO_OK},
    {"four words", "set a 0 0\r\n", 0, UNAUTH, PROTO_OK},
    {"not a number", "set a 0 0 x\r\n", 0, UNAUTH, PROTO_OK},
    {"number with junk", "set a 0 0 12x\r\n", 0, UNAUTH, PROTO_OK},
    {"negative", "set a 0 0 -1\r\n", 0, UNAUTH, PROTO_OK},
    {"NUL before the number", "set a 0 0\0 12\r\nalice secret\r\n", 29, UNAUTH UNAUTH, PROTO_OK},
    {"good", "set a 0 0 12\r\nalice secret\r\n", 0, "STORED\r\n", PROTO_OK},
    {"good, then pipelined commands",
     "set a 0 0 12\r\nalice secret\r\nset k 0 0 1\r\nv\r\nget k\r\nmn\r\nquit\r\nget k\r\n", 0,
     "STORED\r\nSTORED\r\nVALUE k 0 1\r\nv\r\nEND\r\nMN\r\n", PROTO_CLOSE},
    {"key, flags, exptime and noreply ignored", "set anything x y 12 noreply\r\nalice secret\r\nget k\r\n", 0,
     "STORED\r\nEND\r\n", PROTO_OK},
    {"plus sign, tab after the number", "set a 0 0 +12\tz\r\nalice secret\r\nget k\r\n", 0,
     "STORED\r\nEND\r\n", PROTO_OK},
    {"leading tab, no CR", "set a 0 0 \t12\nalice secret\r\nget k\r\n", 0, "STORED\r\nEND\r\n", PROTO_OK},
    {"minus zero", "set a 0 0 -0\r\n\r\n", 0, "CLIENT_ERROR bad authentication token format\r\n", PROTO_OK},
    {"2^32 + 12 wraps to 12", "set a 0 0 4294967308\r\nalice secret\r\nget k\r\n", 0, "STORED\r\nEND\r\n",
     PROTO_OK},
    {"spaces and a third word", "set a 0 0 20\r\n  alice   secret  xx\r\nget k\r\n", 0, "STORED\r\nEND\r\n",
     PROTO_OK},
    {"NUL ends the value", "set a 0 0 14\r\nalice secret\0z\r\nget k\r\n", 37, "STORED\r\nEND\r\n", PROTO_OK},
    {"NUL hides the password", "set a 0 0 12\r\nalice\0secret\r\n", 28,
     "CLIENT_ERROR bad authentication token format\r\n", PROTO_OK},
    {"one word", "set a 0 0 5\r\nalice\r\n", 0, "CLIENT_ERROR bad authentication token format\r\n", PROTO_OK},
    {"empty value", "set a 0 0 0\r\n\r\n", 0, "CLIENT_ERROR bad authentication token format\r\n", PROTO_OK},
    {"bad termination", "set a 0 0 12\r\nalice secretXY", 0, "CLIENT_ERROR bad command line termination\r\n",
     PROTO_OK},
    {"LF only is a bad termination", "set a 0 0 12\r\nalice secret\n\n", 0,
     "CLIENT_ERROR bad command line termination\r\n", PROTO_OK},
    {"short length: the rest is a line", "set a 0 0 3\r\nbob pw\r\n", 0,
     "CLIENT_ERROR bad command line termination\r\n" UNAUTH, PROTO_OK},
    {"wrong password", "set a 0 0 12\r\nalice secreX\r\n", 0, FAILURE, PROTO_OK},
    {"unknown user", "set a 0 0 9\r\nmallory x\r\n", 0, FAILURE, PROTO_OK},
    {"role suffix is not the password", "set a 0 0 10\r\nbob pw:app\r\n", 0, FAILURE, PROTO_OK},
    {"failure then success", "set a 0 0 3\r\na b\r\nset a 0 0 6\r\nbob pw\r\nget x\r\n", 0,
     FAILURE "STORED\r\nEND\r\n", PROTO_OK},
    {"four failures: the fourth is held back, then the rest runs",
     "set a 0 0 3\r\na b\r\nset a 0 0 3\r\na b\r\nset a 0 0 3\r\na b\r\nset a 0 0 3\r\na b\r\nget k\r\n", 0,
     FAILURE FAILURE FAILURE FAILURE UNAUTH, PROTO_OK},
    {"a length beyond the bound closes", "set a 0 0 4000\r\n", 0, "", PROTO_CLOSE},
    {"2^64 - 1 closes", "set a 0 0 18446744073709551615\r\n", 0, "", PROTO_CLOSE},
    {"2^64 is out of range", "set a 0 0 18446744073709551616\r\n", 0, UNAUTH, PROTO_OK},
};

static void at_check(const struct at_case *c, size_t chunk)
{
    struct at_run a;
    at_init(&a);
    size_t len = c->len != 0 ? c->len : strlen(c->in);
    enum proto_status st = at_feed(&a, c->in, len, chunk);
    char *out = pt_drain(a.t.r, (size_t)-1, NULL);
    cr_expect_str_eq(out, c->out, "%s (chunk %zu)", c->name, chunk);
    cr_expect_eq(st, c->st, "%s (chunk %zu): status %d", c->name, chunk, (int)st);
    free(out);
    at_fini(&a);
}

Test(mc_auth, table)
{
    static const size_t chunks[] = {1, 2, 5, 13, 1u << 20};
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++)
        for (size_t k = 0; k < sizeof(chunks) / sizeof(chunks[0]); k++) {
            at_check(&cases[i], chunks[k]);
        }
}

/* More than 2048 bytes without a newline close an unauthenticated connection, a get included; 2048
 * and a newline are a line. */
Test(mc_auth, long_line)
{
    static const size_t chunks[] = {1, 100, 1u << 20};
    char buf[2052];
    memcpy(buf, "get ", 4);
    memset(buf + 4, 'k', sizeof(buf) - 4);
    for (size_t k = 0; k < sizeof(chunks) / sizeof(chunks[0]); k++) {
        struct at_run a;
        at_init(&a);
        cr_expect_eq(at_feed(&a, buf, 2049, chunks[k]), PROTO_CLOSE, "chunk %zu", chunks[k]);
        at_fini(&a);
        at_init(&a);
        buf[2048] = '\n';
        cr_expect_eq(at_feed(&a, buf, 2049, chunks[k]), PROTO_OK, "chunk %zu", chunks[k]);
        char *out = pt_drain(a.t.r, (size_t)-1, NULL);
        cr_expect_str_eq(out, UNAUTH);
        free(out);
        buf[2048] = 'k';
        at_fini(&a);
    }
}

Test(mc_auth, without_credentials_nothing_changes)
{
    const char *in = "get a\r\nflush_all\r\n";
    char *out = pt_exchange(in, strlen(in), 1u << 20, NULL);
    cr_expect_str_eq(out, "END\r\nOK\r\n");
    free(out);
}

Test(mc_auth, counters)
{
    struct at_run a;
    at_init(&a);
    const char *in = "get a\r\nset a 0 0 1\r\nx\r\nset a 0 0 3\r\na b\r\nset a 0 0 2\r\nabXY"
                     "set a 0 0 12\r\nalice secret\r\n";
    at_feed(&a, in, strlen(in), 1u << 20);
    /* memcached counts the checked attempts only: not a bad format or termination */
    cr_expect_eq(a.t.stats.auth_cmds, 2);
    cr_expect_eq(a.t.stats.auth_errors, 1);
    at_fini(&a);
}

/* The fourth consecutive failure: the feed stops at PROTO_WAIT with the later bytes unconsumed and
 * nothing of the reply queued; the reply comes with PROTO_EV_AUTH_DELAYED, exactly once. */
Test(mc_auth, fourth_failure_held_back)
{
    struct at_run a;
    at_init(&a);
    const char *bad = "set a 0 0 3\r\na b\r\n", *tail = "set a 0 0 12\r\nalice secret\r\nget k\r\n";
    char in[256];
    snprintf(in, sizeof(in), "%s%s%s%s%s", bad, bad, bad, bad, tail);
    size_t used = 0;
    enum proto_status st = mc_session_feed(a.t.s, in, strlen(in), &used, a.t.r);
    cr_assert_eq(st, PROTO_WAIT);
    cr_assert_eq(used, 4 * strlen(bad));
    cr_assert_eq(mc_session_take_wait(a.t.s), PROTO_WAIT_AUTH_DELAY);
    cr_assert_eq(mc_session_take_wait(a.t.s), PROTO_WAIT_NONE);
    char *out = pt_drain(a.t.r, (size_t)-1, NULL);
    cr_expect_str_eq(out, FAILURE FAILURE FAILURE);
    free(out);
    mc_session_answer(a.t.s, &(struct proto_outcome){.ev = PROTO_EV_AUTH_DELAYED}, a.t.r);
    mc_session_answer(a.t.s, &(struct proto_outcome){.ev = PROTO_EV_AUTH_DELAYED}, a.t.r);
    st = mc_session_feed(a.t.s, in + used, strlen(in) - used, &used, a.t.r);
    cr_expect_eq(st, PROTO_OK);
    out = pt_drain(a.t.r, (size_t)-1, NULL);
    cr_expect_str_eq(out, FAILURE "STORED\r\nEND\r\n");
    free(out);
    cr_expect_eq(a.t.stats.auth_cmds, 5);
    cr_expect_eq(a.t.stats.auth_errors, 4);
    at_fini(&a);
}

/* Nothing an unauthenticated connection sends reaches the cache. */
Test(mc_auth, unauthenticated_stores_nothing)
{
    struct at_run a;
    at_init(&a);
    const char *in = "set k 0 0 1\r\nv\r\nms k 1\r\nv\r\nadd k 0 0 1\r\nv\r\nflush_all\r\nincr k 1\r\n";
    at_feed(&a, in, strlen(in), 1u << 20);
    struct cache_stats cs;
    cache_stats_get(a.t.cache, &cs);
    cr_expect_eq(cs.curr_items, 0);
    cr_expect_eq(a.t.stats.cmd_set, 0);
    at_fini(&a);
}

struct role_case {
    const char *in;
    const char *app;   /* bob's reply */
    const char *admin; /* alice's reply (NULL: not compared) */
};

/* An app user's server-wide commands, refused before their arguments are read; everything else runs. */
static const struct role_case roles[] = {
    {"flush_all\r\n", DENIED, "OK\r\n"},
    {"flush_all 10\r\n", DENIED, "OK\r\n"},
    {"flush_all noreply\r\n", "", ""},
    {"flush_all bogus\r\n", DENIED, NULL},
    {"verbosity 1\r\n", DENIED, "OK\r\n"},
    {"verbosity\r\n", "ERROR\r\n", NULL}, /* a wrong word count is no command at all */
    {"stats detail on\r\n", DENIED, NULL},
    {"stats detail dump\r\n", DENIED, NULL},
    {"stats reset\r\n", DENIED, NULL},
    {"stats cachedump 1 1\r\n", DENIED, NULL},
    {"stats slowlog\r\n", DENIED, NULL},
    {"stats slowlog reset\r\n", DENIED, NULL},
    {"lru_crawler metadump all\r\n", DENIED, NULL},
    {"lru_crawler crawl all\r\n", DENIED, NULL},
    {"slabs reassign 1 2\r\n", DENIED, NULL},
    {"slabs automove 1\r\n", DENIED, NULL},
    {"cache_memlimit 100\r\n", DENIED, NULL},
    {"watch\r\n", DENIED, NULL},
    {"lru mode flat\r\n", DENIED, NULL},
    {"shutdown\r\n", DENIED, NULL},
    {"snapshot\r\n", DENIED, NULL},
    {"me k\r\n", DENIED, "EN\r\n"},
    {"stats\r\n", "END\r\n", "END\r\n"},
    {"version\r\n", "VERSION 1.6.18\r\n", "VERSION 1.6.18\r\n"},
    {"set k 0 0 1\r\nv\r\nget k\r\n", "STORED\r\nVALUE k 0 1\r\nv\r\nEND\r\n",
     "STORED\r\nVALUE k 0 1\r\nv\r\nEND\r\n"},
    {"mn\r\n", "MN\r\n", "MN\r\n"},
};

static void role_check(const char *login, const char *in, const char *want)
{
    struct at_run a;
    char stream[512];
    at_init(&a);
    snprintf(stream, sizeof(stream), "%s%s", login, in);
    at_feed(&a, stream, strlen(stream), 1u << 20);
    char *out = pt_drain(a.t.r, (size_t)-1, NULL);
    cr_expect_str_eq(out + strlen("STORED\r\n"), want, "%s as %s", in, login);
    free(out);
    at_fini(&a);
}

Test(mc_auth, roles)
{
    for (size_t i = 0; i < sizeof(roles) / sizeof(roles[0]); i++) {
        role_check("set a 0 0 6\r\nbob pw\r\n", roles[i].in, roles[i].app);
        if (roles[i].admin != NULL)
            role_check("set a 0 0 12\r\nalice secret\r\n", roles[i].in, roles[i].admin);
    }
}
