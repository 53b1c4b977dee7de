/*
 * test_auth_resp.c: RESP with credentials on the real binary (--requirepass x and -Y with alice:secret
 * and bob:pw:app, the file mode 0600). The same requests go to redis-server 7.0 started with
 * --requirepass x and ACL users alice (every command) and bob (every command but the ones cairn holds
 * server-wide), so each expected reply is Redis's own; then what only cairn has: the held-back reply
 * after AUTH_FAIL_FREE failures, INFO's and `stats`'s counters, CLIENT LIST's user, and nothing
 * stored before AUTH.
 *
 * Each case runs on a fresh connection. In an expected reply '#' stands for a number that differs
 * between servers and runs (HELLO's client id).
 */
#include "config.h"

#include <criterion/criterion.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "harness.h"

#define NOAUTH "-NOAUTH Authentication required.\r\n"
#define WRONG  "-WRONGPASS invalid username-password pair or user is disabled.\r\n"
#define HELLO_NO                                                                                             \
    "-NOAUTH HELLO must be called with the client already authenticated, otherwise the HELLO AUTH <user> "   \
    "<pass> option can be used to authenticate the client and select the RESP protocol version at the "      \
    "same time\r\n"
#define NOPERM(c) "-NOPERM this user has no permissions to run the '" c "' command\r\n"
#define HELLO_BODY(p)                                                                                        \
    "$6\r\nserver\r\n$5\r\nredis\r\n$7\r\nversion\r\n$6\r\n7.0.15\r\n$5\r\nproto\r\n:" p                     \
    "\r\n$2\r\nid\r\n:#\r\n$4\r\nmode\r\n$10\r\nstandalone\r\n$4\r\nrole\r\n$6\r\nmaster\r\n$"               \
    "7\r\nmodules\r\n*0\r\n"
#define HELLO3 "%7\r\n" HELLO_BODY("3")
#define DEBUG_NO                                                                                             \
    "-ERR DEBUG command not allowed. If the enable-debug-command option is set to \"local\", you can run "   \
    "it "                                                                                                    \
    "from a local connection, otherwise you need to set this option in the configuration file, and then "    \
    "restart the server.\r\n"
#define HELLO2 "*14\r\n" HELLO_BODY("2")

/* The commands cairn holds server-wide, taken from bob on redis-server. */
static const char *const redis_bob[] = {
    "ACL",
    "SETUSER",
    "bob",
    "on",
    ">pw",
    "~*",
    "+@all",
    "-flushall",
    "-flushdb",
    "-shutdown",
    "-config|set",
    "-config|resetstat",
    "-config|rewrite",
    "-save",
    "-bgsave",
    "-debug",
    NULL,
};
static const char *const redis_alice[] = {"ACL", "SETUSER", "alice", "on", ">secret", "~*", "+@all", NULL};

struct auth_case {
    const char *name;
    const char *in;
    const char *want;
};

static const struct auth_case cases[] = {
    {"noauth-ping", "PING\r\n", NOAUTH},
    {"noauth-get", "*2\r\n$3\r\nGET\r\n$1\r\nk\r\n", NOAUTH},
    {"noauth-unknown-first", "FOO\r\n", "-ERR unknown command 'FOO', with args beginning with: \r\n"},
    {"noauth-arity-first", "GET\r\n", "-ERR wrong number of arguments for 'get' command\r\n"},
    {"noauth-unknown-sub-first", "CLIENT FOO\r\n", "-ERR unknown subcommand 'FOO'. Try CLIENT HELP.\r\n"},
    {"noauth-sub-arity-first", "CONFIG SET\r\n",
     "-ERR wrong number of arguments for 'config|set' command\r\n"},
    {"noauth-client-setname", "CLIENT SETNAME a\r\n", NOAUTH},
    {"noauth-command", "COMMAND\r\n", NOAUTH},
    {"noauth-acl-whoami", "ACL WHOAMI\r\n", NOAUTH},
    {"noauth-multi", "MULTI\r\n", NOAUTH},
    {"noauth-exec", "EXEC\r\n",
     "-EXECABORT Transaction discarded because of: NOAUTH Authentication required.\r\n"},
    {"noauth-reset", "RESET\r\nPING\r\n", "+RESET\r\n" NOAUTH},
    {"noauth-quit", "QUIT\r\n", "+OK\r\n"},
    {"auth-default", "AUTH x\r\nPING\r\n", "+OK\r\n+PONG\r\n"},
    {"auth-default-named", "AUTH default x\r\nGET nokey\r\n", "+OK\r\n$-1\r\n"},
    {"auth-user", "AUTH alice secret\r\nACL WHOAMI\r\n", "+OK\r\n$5\r\nalice\r\n"},
    {"auth-pipelined",
     "*2\r\n$4\r\nAUTH\r\n$1\r\nx\r\n*3\r\n$3\r\nSET\r\n$2\r\nak\r\n$1\r\nv\r\n*2\r\n$3\r\nGET\r\n$"
     "2\r\nak\r\n",
     "+OK\r\n+OK\r\n$1\r\nv\r\n"},
    {"auth-wrong", "AUTH y\r\nPING\r\n", WRONG NOAUTH},
    {"auth-wrong-user", "AUTH alice x\r\nAUTH carol secret\r\n", WRONG WRONG},
    {"auth-arity", "AUTH\r\n", "-ERR wrong number of arguments for 'auth' command\r\n"},
    {"auth-syntax", "AUTH a b c\r\n", "-ERR syntax error\r\n"},
    {"auth-wrong-keeps-user", "AUTH alice secret\r\nAUTH y\r\nACL WHOAMI\r\n",
     "+OK\r\n" WRONG "$5\r\nalice\r\n"},
    {"hello-noauth", "HELLO\r\n", HELLO_NO},
    {"hello3-noauth", "HELLO 3\r\nPING\r\n", HELLO_NO NOAUTH},
    {"hello3-auth", "HELLO 3 AUTH default x\r\nPING\r\n", HELLO3 "+PONG\r\n"},
    {"hello3-auth-user", "HELLO 3 AUTH alice secret\r\nACL WHOAMI\r\n", HELLO3 "$5\r\nalice\r\n"},
    {"hello2-auth-app", "HELLO 2 AUTH bob pw\r\nFLUSHALL\r\n", HELLO2 NOPERM("flushall")},
    {"hello3-auth-wrong", "HELLO 3 AUTH default y\r\nPING\r\n", WRONG NOAUTH},
    {"hello-auth-no-protover", "HELLO AUTH default x\r\n",
     "-ERR Protocol version is not an integer or out of range\r\n"},
    {"hello-auth-then-bad-option", "HELLO 3 AUTH default x BLAH\r\nPING\r\n",
     "-ERR Syntax error in HELLO option 'BLAH'\r\n+PONG\r\n"},
    {"hello-setname-noauth", "HELLO 3 SETNAME foo\r\nAUTH x\r\nCLIENT GETNAME\r\n",
     HELLO_NO "+OK\r\n$3\r\nfoo\r\n"},
    {"multi-auth-wrong", "AUTH x\r\nMULTI\r\nAUTH y\r\nEXEC\r\n", "+OK\r\n+OK\r\n+QUEUED\r\n*1\r\n" WRONG},
    {"multi-reset-exec", "AUTH x\r\nMULTI\r\nRESET\r\nEXEC\r\n",
     "+OK\r\n+OK\r\n+RESET\r\n-EXECABORT Transaction discarded because of: NOAUTH Authentication "
     "required.\r\n"},
    {"multi-noperm", "AUTH bob pw\r\nMULTI\r\nFLUSHALL\r\nEXEC\r\n",
     "+OK\r\n+OK\r\n" NOPERM("flushall") "-EXECABORT Transaction discarded because of previous errors.\r\n"},
    {"multi-role-changed", "AUTH x\r\nMULTI\r\nAUTH bob pw\r\nFLUSHALL\r\nPING\r\nEXEC\r\n",
     "+OK\r\n+OK\r\n+QUEUED\r\n+QUEUED\r\n+QUEUED\r\n*3\r\n+OK\r\n-NOPERM ACLs rules changed between the "
     "moment the "
     "transaction was accumulated and the EXEC call. This command is no longer allowed for the following "
     "reason: no permission to execute the command or subcommand\r\n+PONG\r\n"},
    {"app-flushall", "AUTH bob pw\r\nflushall\r\nFLUSHDB\r\n",
     "+OK\r\n" NOPERM("flushall") NOPERM("flushdb")},
    {"app-config", "AUTH bob pw\r\nConfig Set maxmemory 1\r\nCONFIG RESETSTAT\r\nCONFIG REWRITE\r\n",
     "+OK\r\n" NOPERM("config|set") NOPERM("config|resetstat") NOPERM("config|rewrite")},
    {"app-save", "AUTH bob pw\r\nSAVE\r\nBGSAVE\r\nSHUTDOWN\r\nDEBUG SLEEP 0\r\n",
     "+OK\r\n" NOPERM("save") NOPERM("bgsave") NOPERM("shutdown") DEBUG_NO},
    {"noauth-debug-protected-first", "DEBUG SLEEP 0\r\n", DEBUG_NO},
    {"multi-debug", "AUTH x\r\nMULTI\r\nDEBUG SLEEP 0\r\nEXEC\r\n",
     "+OK\r\n+OK\r\n" DEBUG_NO "-EXECABORT Transaction discarded because of previous errors.\r\n"},
    {"app-arity-before-noperm", "AUTH bob pw\r\nCONFIG SET a\r\n",
     "+OK\r\n-ERR wrong number of arguments for 'config|set' command\r\n"},
    {"app-items", "AUTH bob pw\r\nSET bk v\r\nGET bk\r\nDEL bk\r\nACL WHOAMI\r\n",
     "+OK\r\n+OK\r\n$1\r\nv\r\n:1\r\n$3\r\nbob\r\n"},
};

/* Reads the reply to exp byte by byte: '#' in exp matches a run of digits. */
static void expect_masked(int fd, const char *name, const char *exp)
{
    char got[4096];
    size_t n = 0;
    for (const char *e = exp; *e != '\0'; e++) {
        char c;
        cr_assert_eq(h_read_n(fd, &c, 1, H_IO_TIMEOUT_MS), 1u, "%s: short reply after [%s]", name,
                     h_escape(got, n));
        if (*e == '#') {
            cr_assert(c >= '0' && c <= '9', "%s: a number expected after [%s]", name, h_escape(got, n));
            while (c >= '0' && c <= '9') {
                got[n++ % sizeof(got)] = c;
                cr_assert_eq(h_read_n(fd, &c, 1, H_IO_TIMEOUT_MS), 1u, "%s: short reply", name);
            }
            e++;
        }
        got[n++ % sizeof(got)] = c;
        cr_assert_eq(c, *e, "%s: got [%s], expected [%s]", name, h_escape(got, n),
                     h_escape(exp, strlen(exp)));
    }
}

static void run_cases(int port)
{
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        int fd = h_connect(port);
        h_sends(fd, cases[i].in);
        expect_masked(fd, cases[i].name, cases[i].want);
        if (strncmp(cases[i].in, "QUIT", 4) == 0)
            cr_expect(h_is_closed(fd, H_IO_TIMEOUT_MS), "%s: still open", cases[i].name);
        else
            cr_expect(h_is_quiet(fd, 20), "%s: more than expected", cases[i].name);
        close(fd);
    }
}

static int resp_port;
static char creds_path[64];

/* The credentials file, mode 0600. */
static void write_creds(void)
{
    snprintf(creds_path, sizeof(creds_path), "/tmp/cairn-auth-resp-XXXXXX");
    int fd = mkstemp(creds_path);
    cr_assert(fd >= 0);
    cr_assert(fchmod(fd, 0600) == 0);
    const char *text = "alice:secret\nbob:pw:app\n";
    cr_assert(write(fd, text, strlen(text)) == (ssize_t)strlen(text));
    close(fd);
}

static void setup_auth(void)
{
    char opt[32];
    if (h_target_is_memcached())
        cr_skip_test("RESP is cairn's");
    write_creds();
    resp_port = h_free_port();
    snprintf(opt, sizeof(opt), "--resp-port=%d", resp_port);
    const char *extra[] = {opt, "--requirepass=x", "-Y", creds_path, NULL};
    h_server_start(&h_srv, extra);
}

static void teardown_auth(void)
{
    h_teardown();
    if (creds_path[0] != '\0')
        unlink(creds_path);
}

TestSuite(auth_resp, .init = setup_auth, .fini = teardown_auth, .timeout = 60);

Test(auth_resp, cases_cairn)
{
    run_cases(resp_port);
}

/* The memcached port speaks RESP to a connection whose first byte is '*': the same refusals. */
Test(auth_resp, memcached_port_resp)
{
    int fd = h_connect(h_srv.port);
    h_cmd(fd, "*1\r\n$4\r\nPING\r\n", NOAUTH);
    h_cmd(fd, "*2\r\n$4\r\nAUTH\r\n$1\r\ny\r\n", WRONG);
    h_cmd(fd, "*3\r\n$4\r\nAUTH\r\n$3\r\nbob\r\n$2\r\npw\r\n*1\r\n$8\r\nFLUSHALL\r\n",
          "+OK\r\n" NOPERM("flushall"));
}

/* The same cases against redis-server 7.0 (skipped when it is not installed). */
Test(auth_resp, cases_redis)
{
    const char *bin = getenv("REDIS_BIN") != NULL ? getenv("REDIS_BIN") : "/usr/bin/redis-server";
    struct h_server rs = {0};
    char port[16];
    if (access(bin, X_OK) != 0)
        cr_skip_test("no redis-server");
    int fd = -1;
    for (int attempt = 0; attempt < 3 && fd < 0; attempt++) { /* another test may take the free port */
        rs.port = h_free_port();
        snprintf(port, sizeof(port), "%d", rs.port);
        const char *argv[] = {
            bin,  "--port",        port, "--bind",      "127.0.0.1", "--save", "", "--appendonly",
            "no", "--requirepass", "x",  "--daemonize", "no",        NULL};
        h_spawn_raw(&rs, bin, argv);
        for (int i = 0; i < 500 && fd < 0 && !h_server_wait(&rs, 0, NULL); i++) {
            fd = h_try_connect(rs.port);
            if (fd < 0)
                h_sleep_ms(10);
        }
    }
    cr_assert(fd >= 0, "redis-server did not start");
    h_cmd(fd, "AUTH x\r\n", "+OK\r\n");
    char req[1024];
    for (int u = 0; u < 2; u++) {
        const char *const *w = u == 0 ? redis_bob : redis_alice;
        size_t n = 0, k = 0;
        while (w[n] != NULL)
            n++;
        k = (size_t)snprintf(req, sizeof(req), "*%zu\r\n", n);
        for (size_t i = 0; i < n; i++)
            k += (size_t)snprintf(req + k, sizeof(req) - k, "$%zu\r\n%s\r\n", strlen(w[i]), w[i]);
        h_cmd(fd, req, "+OK\r\n");
    }
    close(fd);
    run_cases(rs.port);
    bool timed_out;
    h_server_stop(&rs, 15, &timed_out);
}

/* After AUTH_FAIL_FREE (3) consecutive failures each failure's reply comes AUTH_FAIL_DELAY_MS (1 s)
 * late, and the requests behind it wait for it. */
Test(auth_resp, held_back_failure)
{
    int fd = h_connect(resp_port);
    h_cmd(fd, "AUTH a\r\nAUTH b\r\nAUTH c\r\n", WRONG WRONG WRONG);
    int64_t t0 = h_now_ms();
    h_sends(fd, "AUTH d\r\nPING\r\n");
    cr_expect(h_is_quiet(fd, 500), "the fourth failure's reply is held back");
    h_expect(fd, WRONG NOAUTH);
    cr_expect_geq(h_now_ms() - t0, 900);
    h_cmd(fd, "AUTH x\r\nAUTH e\r\n", "+OK\r\n" WRONG); /* a success starts the count again */
}

/* INFO's acl_access_denied_auth / _cmd and memcached's auth_cmds / auth_errors count RESP's attempts. */
Test(auth_resp, counters)
{
    int m = h_connect(h_srv.port), fd = h_connect(resp_port);
    h_cmd(m, "set a 0 0 12\r\nalice secret\r\n", "STORED\r\n");
    uint64_t cmds = h_stat(m, "auth_cmds"), errors = h_stat(m, "auth_errors");
    h_cmd(fd, "AUTH y\r\nHELLO 3 AUTH bob no\r\nAUTH bob pw\r\nFLUSHALL\r\n",
          WRONG WRONG "+OK\r\n" NOPERM("flushall"));
    h_sends(fd, "INFO stats\r\n");
    size_t len;
    char *info = h_read_until(fd, "\r\n\r\n", &len);
    cr_expect(strstr(info, "\r\nacl_access_denied_auth:2\r\nacl_access_denied_cmd:1\r\n") != NULL, "%s",
              info);
    free(info);
    cr_expect_eq(h_stat(m, "auth_cmds") - cmds, 3u);
    cr_expect_eq(h_stat(m, "auth_errors") - errors, 2u);
}

/* CLIENT LIST shows each connection's user. */
Test(auth_resp, client_list_user)
{
    int a = h_connect(resp_port), b = h_connect(resp_port);
    h_cmd(a, "AUTH bob pw\r\n", "+OK\r\n");
    h_cmd(b, "AUTH alice secret\r\n", "+OK\r\n");
    h_sends(b, "CLIENT LIST\r\n");
    free(h_read_line(b));        /* $<length> */
    char *list = h_read_line(b); /* the lines, "\n" apart, up to the bulk's "\r\n" */
    cr_expect(strstr(list, " user=bob ") != NULL, "%s", list);
    cr_expect(strstr(list, " user=alice ") != NULL, "%s", list);
    free(list);
}

/* Nothing is stored before AUTH, whatever the request. */
Test(auth_resp, nothing_before_auth)
{
    int fd = h_connect(resp_port);
    char big[70000 + 64];
    int k = snprintf(big, sizeof(big), "*3\r\n$3\r\nSET\r\n$3\r\nbig\r\n$70000\r\n");
    memset(big + k, 'v', 70000);
    memcpy(big + k + 70000, "\r\n", 2);
    h_send(fd, big, (size_t)k + 70002);
    h_expect(fd, NOAUTH);
    h_cmd(fd, "SET k v\r\nMULTI\r\nSET k v\r\nEXEC\r\n",
          NOAUTH NOAUTH NOAUTH
          "-EXECABORT Transaction discarded because of: NOAUTH Authentication required.\r\n");
    h_cmd(fd, "AUTH x\r\nEXISTS k big\r\nDBSIZE\r\n", "+OK\r\n:0\r\n:0\r\n");
}
