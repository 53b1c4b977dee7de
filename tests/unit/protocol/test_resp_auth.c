/*
 * test_resp_auth.c: a RESP session with credentials (--requirepass x, and a file with alice:secret
 * (admin) and bob:pw:app): what runs before AUTH, AUTH and HELLO ... AUTH, RESP3 replies, transactions,
 * the app role's refusals, held-back failures and the counters. The expected bytes are redis-server
 * 7.0.15's for the same requests (requirepass x; bob an ACL user without the server-wide commands).
 */
#include "config.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include "protocol/auth.h"
#include "resp_test.h"

#define NOAUTH "-NOAUTH Authentication required.\r\n"
#define WRONG  "-WRONGPASS invalid username-password pair or user is disabled.\r\n"
#define HELLO_NO                                                                                             \
    "-NOAUTH HELLO must be called with the client already authenticated, otherwise the HELLO AUTH <user> "   \
    "<pass> option can be used to authenticate the client and select the RESP protocol version at the "      \
    "same time\r\n"
#define NOPERM(c) "-NOPERM this user has no permissions to run the '" c "' command\r\n"
#define HELLO_BODY(p)                                                                                        \
    "$6\r\nserver\r\n$5\r\nredis\r\n$7\r\nversion\r\n$6\r\n7.0.15\r\n$5\r\nproto\r\n:" p                     \
    "\r\n$2\r\nid\r\n:1\r\n$4\r\nmode\r\n$10\r\nstandalone\r\n$4\r\nrole\r\n$6\r\nmaster\r\n$"               \
    "7\r\nmodules\r\n*0\r\n"
#define HELLO3 "%7\r\n" HELLO_BODY("3")
#define DEBUG_NO "-" RESP_E_DEBUG "\r\n"
#define HELLO2 "*14\r\n" HELLO_BODY("2")
#define EXEC_CHANGED                                                                                         \
    "-NOPERM ACLs rules changed between the moment the transaction was accumulated and the EXEC call. This " \
    "command is no longer allowed for the following reason: no permission to execute the command or "        \
    "subcommand\r\n"

/* Credentials for a test: the file's users and --requirepass x. */
static struct auth *creds(void)
{
    char path[64], err[128];
    snprintf(path, sizeof(path), "/tmp/cairn-resp-auth-XXXXXX");
    int fd = mkstemp(path);
    cr_assert(fd >= 0);
    cr_assert(fchmod(fd, 0600) == 0);
    const char *text = "alice:secret\nbob:pw:app\n";
    cr_assert(write(fd, text, strlen(text)) == (ssize_t)strlen(text));
    close(fd);
    struct auth *a = auth_create();
    cr_assert_not_null(a);
    cr_assert(auth_load(a, path, "x", err, sizeof(err)), "auth_load: %s", err);
    unlink(path);
    return a;
}

/* A test server whose (only) session began with credentials a; its CLIENT ID is 1. */
static struct rt *rt_auth(const struct auth *a)
{
    struct rt *t = rt_new();
    resp_proto_ops.destroy(t->sess[0]);
    t->ctx.auth = a;
    t->next_id = 0;
    t->sess[0] = resp_proto_ops.create(&t->ctx, &t->stats);
    cr_assert_not_null(t->sess[0]);
    return t;
}

/* Feeds in to session 0 as the server would: a PROTO_WAIT for a held-back failure is answered at once
 * (the delay itself is the server's) and the rest fed after it. Returns the output; *waits (may be
 * NULL) gets how many replies were held back. */
static char *run_n(struct rt *t, const char *in, size_t n, int *waits)
{
    size_t off = 0;
    int w = 0;
    while (off < n) {
        size_t used = 0;
        t->st = resp_proto_ops.feed(S(t), in + off, n - off, &used, t->out);
        off += used;
        if (t->st != PROTO_WAIT)
            break;
        cr_assert_eq(resp_proto_ops.take_wait(S(t)), PROTO_WAIT_AUTH_DELAY);
        cr_assert_eq(resp_proto_ops.take_wait(S(t)), PROTO_WAIT_NONE);
        resp_proto_ops.answer(S(t), &(struct proto_outcome){.ev = PROTO_EV_AUTH_DELAYED}, t->out);
        w++;
    }
    if (waits != NULL)
        *waits = w;
    return drain(t->out);
}

/* run_n for a NUL-terminated request text. */
static char *run_as_server(struct rt *t, const char *in, int *waits)
{
    return run_n(t, in, strlen(in), waits);
}

struct auth_case {
    const char *name;
    const char *in;   /* the requests, one buffer (pipelined) */
    const char *want; /* the replies, byte for byte */
};

static const struct auth_case cases[] = {
    /* before authentication: unknown and arity errors come first, then NOAUTH */
    {"noauth-ping", "PING\r\n", NOAUTH},
    {"noauth-multibulk", "*2\r\n$3\r\nGET\r\n$1\r\nk\r\n", NOAUTH},
    {"noauth-unknown-first", "FOO\r\n", "-ERR unknown command 'FOO', with args beginning with: \r\n"},
    {"noauth-arity-first", "GET\r\n", "-ERR wrong number of arguments for 'get' command\r\n"},
    {"noauth-unknown-sub-first", "CLIENT FOO\r\n", "-ERR unknown subcommand 'FOO'. Try CLIENT HELP.\r\n"},
    {"noauth-sub-arity-first", "CONFIG SET\r\n",
     "-ERR wrong number of arguments for 'config|set' command\r\n"},
    {"noauth-subcommand", "CLIENT SETNAME a\r\n", NOAUTH},
    {"noauth-command", "COMMAND\r\n", NOAUTH},
    {"noauth-acl-whoami", "ACL WHOAMI\r\n", NOAUTH},
    {"noauth-multi", "MULTI\r\n", NOAUTH},
    {"noauth-exec", "EXEC\r\n",
     "-EXECABORT Transaction discarded because of: NOAUTH Authentication required.\r\n"},
    {"noauth-set", "SET k v\r\nGET k\r\n", NOAUTH NOAUTH},
    {"noauth-quit", "QUIT\r\n", "+OK\r\n"},
    {"noauth-reset", "RESET\r\nPING\r\n", "+RESET\r\n" NOAUTH},
    /* AUTH */
    {"auth-default", "AUTH x\r\nPING\r\n", "+OK\r\n+PONG\r\n"},
    {"auth-default-named", "AUTH default x\r\nGET k\r\n", "+OK\r\n$-1\r\n"},
    {"auth-user", "AUTH alice secret\r\nACL WHOAMI\r\n", "+OK\r\n$5\r\nalice\r\n"},
    {"auth-pipelined",
     "*2\r\n$4\r\nAUTH\r\n$1\r\nx\r\n*3\r\n$3\r\nSET\r\n$1\r\nk\r\n$1\r\nv\r\n*2\r\n$3\r\nGET\r\n$1\r\nk\r\n",
     "+OK\r\n+OK\r\n$1\r\nv\r\n"},
    {"auth-wrong", "AUTH y\r\nPING\r\n", WRONG NOAUTH},
    {"auth-wrong-user-pass", "AUTH alice x\r\n", WRONG},
    {"auth-unknown-user", "AUTH carol secret\r\n", WRONG},
    {"auth-user-as-pass", "AUTH alice\r\n", WRONG},
    {"auth-empty-user", "*3\r\n$4\r\nAUTH\r\n$0\r\n\r\n$1\r\nx\r\n", WRONG},
    {"auth-arity", "AUTH\r\n", "-ERR wrong number of arguments for 'auth' command\r\n"},
    {"auth-syntax", "AUTH a b c\r\n", "-ERR syntax error\r\n"},
    {"auth-case", "auth ALICE secret\r\n", WRONG},
    {"auth-wrong-keeps-user", "AUTH alice secret\r\nAUTH y\r\nACL WHOAMI\r\n",
     "+OK\r\n" WRONG "$5\r\nalice\r\n"},
    {"auth-switch-user", "AUTH alice secret\r\nAUTH bob pw\r\nACL WHOAMI\r\n", "+OK\r\n+OK\r\n$3\r\nbob\r\n"},
    /* HELLO */
    {"hello-noauth", "HELLO\r\n", HELLO_NO},
    {"hello3-noauth", "HELLO 3\r\nPING\r\n", HELLO_NO NOAUTH},
    {"hello2-noauth", "HELLO 2\r\n", HELLO_NO},
    {"hello3-auth", "HELLO 3 AUTH default x\r\nPING\r\n", HELLO3 "+PONG\r\n"},
    {"hello3-auth-user", "HELLO 3 AUTH alice secret\r\nACL WHOAMI\r\n", HELLO3 "$5\r\nalice\r\n"},
    {"hello2-auth", "HELLO 2 AUTH bob pw\r\n", HELLO2},
    {"hello3-auth-wrong", "HELLO 3 AUTH default y\r\nPING\r\n", WRONG NOAUTH},
    {"hello-auth-no-protover", "HELLO AUTH default x\r\n",
     "-ERR Protocol version is not an integer or out of range\r\n"},
    {"hello-auth-missing-pass", "HELLO 3 AUTH a\r\n", "-ERR Syntax error in HELLO option 'AUTH'\r\n"},
    {"hello-auth-then-bad-option", "HELLO 3 AUTH default x BLAH\r\nPING\r\n",
     "-ERR Syntax error in HELLO option 'BLAH'\r\n+PONG\r\n"},
    {"hello-setname-noauth", "HELLO 3 SETNAME foo\r\nAUTH x\r\nCLIENT GETNAME\r\n",
     HELLO_NO "+OK\r\n$3\r\nfoo\r\n"},
    {"hello-setname-then-wrong", "HELLO 3 SETNAME foo AUTH default y\r\nAUTH x\r\nCLIENT GETNAME\r\n",
     WRONG "+OK\r\n$3\r\nfoo\r\n"},
    {"hello-after-auth", "AUTH x\r\nHELLO 3\r\n", "+OK\r\n" HELLO3},
    {"hello-wrong-after-auth", "AUTH x\r\nHELLO 3 AUTH default y\r\nPING\r\n", "+OK\r\n" WRONG "+PONG\r\n"},
    {"hello-resp3-then-reset", "HELLO 3 AUTH default x\r\nRESET\r\nPING\r\n", HELLO3 "+RESET\r\n" NOAUTH},
    /* transactions */
    {"multi-auth-wrong", "AUTH x\r\nMULTI\r\nAUTH y\r\nEXEC\r\n", "+OK\r\n+OK\r\n+QUEUED\r\n*1\r\n" WRONG},
    {"multi-auth-ok", "AUTH x\r\nMULTI\r\nAUTH x\r\nEXEC\r\n", "+OK\r\n+OK\r\n+QUEUED\r\n*1\r\n+OK\r\n"},
    {"multi-reset-exec", "AUTH x\r\nMULTI\r\nRESET\r\nEXEC\r\n",
     "+OK\r\n+OK\r\n+RESET\r\n-EXECABORT Transaction discarded because of: NOAUTH Authentication "
     "required.\r\n"},
    {"multi-noperm", "AUTH bob pw\r\nMULTI\r\nFLUSHALL\r\nEXEC\r\n",
     "+OK\r\n+OK\r\n" NOPERM("flushall") "-EXECABORT Transaction discarded because of previous errors.\r\n"},
    {"multi-role-changed", "AUTH x\r\nMULTI\r\nAUTH bob pw\r\nFLUSHALL\r\nPING\r\nEXEC\r\n",
     "+OK\r\n+OK\r\n+QUEUED\r\n+QUEUED\r\n+QUEUED\r\n*3\r\n+OK\r\n" EXEC_CHANGED "+PONG\r\n"},
    /* the app role */
    {"app-flushall", "AUTH bob pw\r\nFLUSHALL\r\n", "+OK\r\n" NOPERM("flushall")},
    {"app-flushall-lowercase", "AUTH bob pw\r\nflushall\r\n", "+OK\r\n" NOPERM("flushall")},
    {"app-flushdb", "AUTH bob pw\r\nFLUSHDB\r\n", "+OK\r\n" NOPERM("flushdb")},
    {"app-config-set", "AUTH bob pw\r\nConfig Set maxmemory 1\r\n", "+OK\r\n" NOPERM("config|set")},
    {"app-config-resetstat", "AUTH bob pw\r\nCONFIG RESETSTAT\r\n", "+OK\r\n" NOPERM("config|resetstat")},
    {"app-config-rewrite", "AUTH bob pw\r\nCONFIG REWRITE\r\n", "+OK\r\n" NOPERM("config|rewrite")},
    {"app-config-get", "AUTH bob pw\r\nCONFIG GET timeout\r\n",
     "+OK\r\n*2\r\n$7\r\ntimeout\r\n$3\r\n300\r\n"},
    {"app-save", "AUTH bob pw\r\nSAVE\r\nBGSAVE\r\n", "+OK\r\n" NOPERM("save") NOPERM("bgsave")},
    {"app-shutdown", "AUTH bob pw\r\nSHUTDOWN\r\n", "+OK\r\n" NOPERM("shutdown")},
    {"app-debug", "AUTH bob pw\r\nDEBUG SLEEP 0\r\n", "+OK\r\n" DEBUG_NO},
    {"noauth-debug-protected-first", "DEBUG SLEEP 0\r\n", DEBUG_NO},
    {"multi-debug", "AUTH x\r\nMULTI\r\nDEBUG SLEEP 0\r\nEXEC\r\n",
     "+OK\r\n+OK\r\n" DEBUG_NO "-EXECABORT Transaction discarded because of previous errors.\r\n"},
    {"app-arity-before-noperm", "AUTH bob pw\r\nCONFIG SET a\r\n",
     "+OK\r\n-ERR wrong number of arguments for 'config|set' command\r\n"},
    {"app-items", "AUTH bob pw\r\nSET k v\r\nGET k\r\nDEL k\r\n", "+OK\r\n+OK\r\n$1\r\nv\r\n:1\r\n"},
    {"admin-flushall", "AUTH alice secret\r\nFLUSHALL\r\n", "+OK\r\n+OK\r\n"},
    {"default-is-admin", "AUTH x\r\nFLUSHDB\r\n", "+OK\r\n+OK\r\n"},
};

Test(resp_auth, cases)
{
    struct auth *a = creds();
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        struct rt *t = rt_auth(a);
        t->info.timeout_s = 300;
        char *got = run_as_server(t, cases[i].in, NULL);
        cr_expect_str_eq(got, cases[i].want, "%s: got [%s]", cases[i].name, got);
        free(got);
        rt_free(t);
    }
    auth_destroy(&a);
}

/* The same requests split into single bytes give the same replies. */
Test(resp_auth, cases_byte_by_byte)
{
    struct auth *a = creds();
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        struct rt *t = rt_auth(a);
        const char *in = cases[i].in;
        size_t n = strlen(in), have = 0;
        char *buf = malloc(n + 1);
        cr_assert_not_null(buf);
        for (size_t k = 0; k < n; k++) {
            buf[have++] = in[k];
            size_t used = 0;
            t->st = resp_proto_ops.feed(S(t), buf, have, &used, t->out);
            memmove(buf, buf + used, have - used);
            have -= used;
            if (t->st == PROTO_CLOSE)
                break;
        }
        free(buf);
        char *got = drain(t->out);
        cr_expect_str_eq(got, cases[i].want, "%s: got [%s]", cases[i].name, got);
        free(got);
        rt_free(t);
    }
    auth_destroy(&a);
}

/* Nothing reaches the cache before a correct AUTH. */
Test(resp_auth, cache_untouched_before_auth)
{
    struct auth *a = creds();
    struct rt *t = rt_auth(a);
    struct cache_stats cs;
    const char *in =
        "SET k v\r\nMSET a 1 b 2\r\nINCR n\r\nAUTH y\r\nAPPEND k v\r\nMULTI\r\nSET k v\r\nEXEC\r\n"
        "HELLO 3 SETNAME n\r\nGETSET k v\r\nSETEX k 10 v\r\n";
    char *got = run_as_server(t, in, NULL);
    free(got);
    cache_stats_get(t->cache, &cs);
    cr_expect_eq(cs.curr_items, 0);
    /* and a large value, which the session would otherwise receive straight into an item */
    char *big = repeat('v', 100000);
    const char *argv[] = {"SET", "big", big, NULL};
    size_t n;
    char *req = multibulk(argv, &n);
    got = run_n(t, req, n, NULL);
    cr_expect_str_eq(got, NOAUTH);
    free(got);
    free(req);
    free(big);
    cache_stats_get(t->cache, &cs);
    cr_expect_eq(cs.curr_items, 0);
    got = run_as_server(t, "AUTH x\r\nSET k v\r\n", NULL);
    cr_expect_str_eq(got, "+OK\r\n+OK\r\n");
    free(got);
    cache_stats_get(t->cache, &cs);
    cr_expect_eq(cs.curr_items, 1);
    rt_free(t);
    auth_destroy(&a);
}

/* After AUTH_FAIL_FREE consecutive failures each failure's reply is held back: the feed stops with
 * PROTO_WAIT (the requests behind it wait), take_wait asks for PROTO_WAIT_AUTH_DELAY, and the reply is
 * appended on PROTO_EV_AUTH_DELAYED. A success starts the count again. */
Test(resp_auth, held_back_failures)
{
    struct auth *a = creds();
    struct rt *t = rt_auth(a);
    size_t used;

    for (int i = 0; i < AUTH_FAIL_FREE; i++) {
        t->st = resp_proto_ops.feed(S(t), "AUTH y\r\n", 8, &used, t->out);
        cr_assert_eq(t->st, PROTO_OK);
        cr_expect_eq(resp_proto_ops.take_wait(S(t)), PROTO_WAIT_NONE);
    }
    char *got = drain(t->out);
    cr_expect_str_eq(got, WRONG WRONG WRONG);
    free(got);

    const char *in = "HELLO 3 AUTH alice nope\r\nPING\r\n";
    t->st = resp_proto_ops.feed(S(t), in, strlen(in), &used, t->out);
    cr_assert_eq(t->st, PROTO_WAIT);
    cr_expect_eq(used, strlen("HELLO 3 AUTH alice nope\r\n"), "the request behind waits");
    cr_expect_eq(outq_pending(t->out), 0, "nothing is sent before the delay");
    cr_expect_eq(resp_proto_ops.take_wait(S(t)), PROTO_WAIT_AUTH_DELAY);
    resp_proto_ops.answer(S(t), &(struct proto_outcome){.ev = PROTO_EV_AUTH_DELAYED}, t->out);
    got = drain(t->out);
    cr_expect_str_eq(got, WRONG);
    free(got);

    /* RESET does not lift the delay */
    int waits;
    got = run_as_server(t, "RESET\r\nAUTH y\r\nAUTH x\r\nAUTH y\r\nPING\r\n", &waits);
    cr_expect_str_eq(got, "+RESET\r\n" WRONG "+OK\r\n" WRONG "+PONG\r\n");
    cr_expect_eq(waits, 1, "the failure after RESET is held, the one after a success is not");
    free(got);

    /* inside EXEC the reply is in EXEC's array at once and the connection waits after it */
    got = run_as_server(t, "AUTH y\r\nAUTH y\r\n", &waits);
    free(got);
    const char *tx = "MULTI\r\nAUTH y\r\nPING\r\nEXEC\r\nPING\r\n";
    t->st = resp_proto_ops.feed(S(t), tx, strlen(tx), &used, t->out);
    cr_assert_eq(t->st, PROTO_WAIT);
    cr_expect_eq(used, strlen(tx) - 6);
    got = drain(t->out);
    cr_expect_str_eq(got, "+OK\r\n+QUEUED\r\n+QUEUED\r\n*2\r\n" WRONG "+PONG\r\n");
    free(got);
    cr_expect_eq(resp_proto_ops.take_wait(S(t)), PROTO_WAIT_AUTH_DELAY);
    resp_proto_ops.answer(S(t), &(struct proto_outcome){.ev = PROTO_EV_AUTH_DELAYED}, t->out);
    cr_expect_eq(outq_pending(t->out), 0, "the reply went out inside EXEC");
    rt_free(t);
    auth_destroy(&a);
}

/* The counters: attempts and failures (INFO's acl_access_denied_auth, memcached's auth_cmds and
 * auth_errors), role refusals (acl_access_denied_cmd), refusals in rejected_calls and error replies. */
Test(resp_auth, counters)
{
    struct auth *a = creds();
    struct rt *t = rt_auth(a);
    const char *in = "PING\r\nAUTH y\r\nHELLO 3 AUTH bob no\r\nAUTH bob pw\r\nFLUSHALL\r\nCONFIG SET a b\r\n"
                     "HELLO 2 AUTH alice secret\r\n";
    char *got = run_as_server(t, in, NULL);
    free(got);
    cr_expect_eq(t->stats.auth_cmds, 4);
    cr_expect_eq(t->stats.auth_errors, 2);
    cr_expect_eq(t->stats.denied_cmds, 2);
    cr_expect_eq(t->stats.rejected_calls, 3);
    cr_expect_eq(t->stats.errors, 5);

    t->info.acl_denied_auth = 7;
    t->info.acl_denied_cmd = 8;
    got = cmd(t, "INFO", "stats", NULL);
    cr_expect(strstr(got, "\r\nacl_access_denied_auth:7\r\nacl_access_denied_cmd:8\r\n") != NULL, "%s", got);
    free(got);
    rt_free(t);
    auth_destroy(&a);
}

/* CLIENT LIST and CLIENT INFO name the authenticated user; RESET names "default" again. */
Test(resp_auth, client_list_user)
{
    struct auth *a = creds();
    struct rt *t = rt_auth(a);
    char *got = run_as_server(t, "AUTH alice secret\r\nCLIENT INFO\r\n", NULL);
    cr_expect(strstr(got, " user=alice redir=-1 ") != NULL, "%s", got);
    free(got);
    got = run_as_server(t, "HELLO 2 AUTH bob pw\r\nCLIENT LIST\r\n", NULL);
    cr_expect(strstr(got, " user=bob redir=-1 ") != NULL, "%s", got);
    free(got);
    got = run_as_server(t, "RESET\r\nAUTH x\r\nCLIENT INFO\r\nACL WHOAMI\r\n", NULL);
    cr_expect(strstr(got, " user=default redir=-1 ") != NULL, "%s", got);
    cr_expect(ends(got, "$7\r\ndefault\r\n"), "%s", got);
    free(got);
    rt_free(t);
    auth_destroy(&a);
}

/* Without credentials (or with an empty set) nothing changes: every connection is the admin user
 * "default" without a password, as Redis's default user (HELLO's AUTH is checked before a later bad
 * option, as Redis does). */
Test(resp_auth, no_credentials)
{
    struct auth *empty = auth_create();
    cr_assert_not_null(empty);
    const struct auth *sets[] = {NULL, empty};
    for (int k = 0; k < 2; k++) {
        struct rt *t = rt_auth(sets[k]);
        const char *in = "PING\r\nAUTH x\r\nAUTH default x\r\nAUTH bob pw\r\nHELLO 3 AUTH default y\r\n"
                         "FLUSHALL\r\nACL WHOAMI\r\nHELLO 2 AUTH bob x BLAH\r\n";
        char *got = run_as_server(t, in, NULL);
        cr_expect_str_eq(
            got,
            "+PONG\r\n-ERR AUTH <password> called without any password configured for the default "
            "user. Are you sure your configuration is correct?\r\n+OK\r\n" WRONG HELLO3
            "+OK\r\n$7\r\ndefault\r\n" WRONG,
            "%d: got [%s]", k, got);
        free(got);
        cr_expect_eq(t->stats.auth_cmds, 0);
        rt_free(t);
    }
    auth_destroy(&empty);
}

/* ACL WHOAMI is in COMMAND's reports like every command. */
Test(resp_auth, acl_command_docs)
{
    struct auth *a = creds();
    struct rt *t = rt_auth(a);
    char *got = run_as_server(t, "AUTH x\r\nCOMMAND INFO acl|whoami\r\n", NULL);
    cr_expect_str_eq(
        got, "+OK\r\n*1\r\n*10\r\n$10\r\nacl|whoami\r\n:2\r\n*3\r\n+noscript\r\n+loading\r\n+stale\r\n:0\r\n"
             ":0\r\n:0\r\n*1\r\n+@slow\r\n*0\r\n*0\r\n*0\r\n");
    free(got);
    got = run_as_server(t, "ACL FOO\r\nACL WHOAMI x\r\n", NULL);
    cr_expect_str_eq(got, "-ERR unknown subcommand 'FOO'. Try ACL HELP.\r\n"
                          "-ERR wrong number of arguments for 'acl|whoami' command\r\n");
    free(got);
    rt_free(t);
    auth_destroy(&a);
}
