/*
 * test_daemon.c: process life of the server binary: SIGTERM and SIGINT exit 0 even with clients
 * connected (idle, mid-request and mid-value), SIGHUP never stops the server, SIGUSR1 is a graceful
 * stop that saves the snapshot, the -P pid file, `shutdown` with -A, and bad command-line options
 * refused with memcached 1.6.18's message and exit status (a table of expected outputs).
 */
#include "config.h"

#include "tests/integration/harness.h"

#include <criterion/criterion.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <unistd.h>

/* Files a test creates; removed by the suite's fini even when the test fails. */
static char tmp_paths[4][64];

static void daemon_fini(void)
{
    h_teardown();
    for (int i = 0; i < 4; i++)
        if (tmp_paths[i][0] != '\0')
            unlink(tmp_paths[i]);
}

/* Fill buf with /tmp/cairn-itest-TAG-PID and remember it for cleanup. */
static void tmp_path(char *buf, size_t cap, int slot, const char *tag)
{
    snprintf(buf, cap, "/tmp/cairn-itest-%s-%d", tag, (int)getpid());
    snprintf(tmp_paths[slot], sizeof(tmp_paths[slot]), "%s", buf);
    unlink(buf);
}

TestSuite(daemon, .fini = daemon_fini, .timeout = 60);

/* Connect three clients: idle, in the middle of a line, in the middle of a value. */
static void busy_clients(int *fds)
{
    fds[0] = h_connect(h_srv.port);
    h_set(fds[0], "a", "1");
    fds[1] = h_connect(h_srv.port);
    h_sends(fds[1], "get a b c");
    fds[2] = h_connect(h_srv.port);
    h_sends(fds[2], "set v 0 0 100\r\n0123456789");
    h_sleep_ms(50);
}

static void expect_clean_exit(int sig)
{
    bool to;
    int st = h_server_stop(&h_srv, sig, &to);
    cr_assert(!to, "server did not exit within 5 s of signal %d; output:\n%s", sig, h_last_log());
    cr_assert(WIFEXITED(st), "server died of signal %d; output:\n%s", WIFSIGNALED(st) ? WTERMSIG(st) : 0,
              h_last_log());
    cr_assert_eq(WEXITSTATUS(st), 0, "exit status %d after signal %d; output:\n%s", WEXITSTATUS(st), sig,
                 h_last_log());
}

Test(daemon, sigterm_with_clients_exits_0)
{
    h_setup();
    int fds[3];
    busy_clients(fds);
    expect_clean_exit(SIGTERM);
    for (int i = 0; i < 3; i++)
        cr_assert(h_is_closed(fds[i], 2000), "client %d not disconnected", i);
}

Test(daemon, sigint_with_clients_exits_0)
{
    h_setup();
    int fds[3];
    busy_clients(fds);
    expect_clean_exit(SIGINT);
}

Test(daemon, sighup_keeps_serving_with_data_intact)
{
    /* SIGHUP's default action would kill the process; the server must keep serving, data intact,
     * whatever the number of SIGHUPs (log rotation sends one a day). */
    const char *const extra[] = {"-v", NULL};
    h_server_start(&h_srv, extra);
    int fd = h_connect(h_srv.port);
    h_set(fd, "hup:a", "before");
    for (int i = 0; i < 3; i++) {
        cr_assert_eq(kill(h_srv.pid, SIGHUP), 0);
        h_sleep_ms(50);
    }
    int st;
    cr_assert(!h_server_wait(&h_srv, 200, &st), "server exited on SIGHUP (status 0x%x)", (unsigned)st);
    h_cmd(fd, "get hup:a\r\n", "VALUE hup:a 0 6\r\nbefore\r\nEND\r\n");
    h_set(fd, "hup:b", "after");
    close(fd);
    int fd2 = h_connect(h_srv.port);
    h_cmd(fd2, "get hup:b\r\n", "VALUE hup:b 0 5\r\nafter\r\nEND\r\n");
    if (!h_target_is_memcached()) {
        char *log = h_server_log(&h_srv);
        cr_assert(strstr(log, "SIGHUP: no log file to reopen, nothing to reload\n") != NULL, "log:\n%s", log);
        free(log);
    }
    expect_clean_exit(SIGTERM);
}

/* Reads a whole file into a new string ("" when missing). */
static char *slurp(const char *path)
{
    FILE *f = fopen(path, "r");
    char *buf = calloc(1, 65536);
    cr_assert(buf != NULL);
    if (f != NULL) {
        size_t n = fread(buf, 1, 65535, f);
        buf[n] = '\0';
        fclose(f);
    }
    return buf;
}

/* Whether every line of text starts with a UTC time stamp "YYYY-MM-DDTHH:MM:SS.mmmZ ". */
static bool all_stamped(const char *text)
{
    for (const char *p = text; *p != '\0';) {
        unsigned y, mo, d, h, mi, sec, ms;
        char z;
        if (sscanf(p, "%4u-%2u-%2uT%2u:%2u:%2u.%3u%c ", &y, &mo, &d, &h, &mi, &sec, &ms, &z) != 8 ||
            z != 'Z' || p[24] != ' ')
            return false;
        const char *nl = strchr(p, '\n');
        if (nl == NULL)
            return false;
        p = nl + 1;
    }
    return true;
}

Test(daemon, log_file_stamped_and_reopened_on_sighup)
{
    if (h_target_is_memcached())
        return; /* --log-file is cairn's */
    char path[64], moved[80];
    snprintf(path, sizeof(path), "/tmp/cairn-log-%d.log", (int)getpid());
    snprintf(moved, sizeof(moved), "%s.1", path);
    unlink(path);
    unlink(moved);
    const char *const extra[] = {"-vv", "--log-file", path, NULL};
    h_server_start(&h_srv, extra);
    int fd = h_connect(h_srv.port);
    h_set(fd, "log:a", "1");
    close(fd);
    h_sleep_ms(100);
    cr_assert_eq(rename(path, moved), 0, "no log file %s", path);
    cr_assert_eq(kill(h_srv.pid, SIGHUP), 0);
    char *now = NULL;
    for (int i = 0; i < 100; i++) { /* the reopen happens on the main loop: wait for the new file */
        free(now);
        now = slurp(path);
        if (strstr(now, "reopened") != NULL)
            break;
        h_sleep_ms(20);
    }
    fd = h_connect(h_srv.port);
    h_cmd(fd, "get log:a\r\n", "VALUE log:a 0 1\r\n1\r\nEND\r\n");
    close(fd);
    expect_clean_exit(SIGTERM);
    char *old = slurp(moved);
    free(now);
    now = slurp(path);
    cr_expect(strstr(old, " listening on tcp:127.0.0.1:") != NULL, "old log:\n%s", old);
    cr_expect(strstr(old, "new client connection") != NULL, "old log:\n%s", old);
    cr_expect(all_stamped(old), "old log:\n%s", old);
    cr_expect(strstr(now, "SIGHUP: log file ") != NULL, "new log:\n%s", now);
    cr_expect(strstr(now, "new client connection") != NULL, "after SIGHUP the lines go to the new file:\n%s",
              now);
    cr_expect(strstr(now, "SIGTERM: shutting down") != NULL, "new log:\n%s", now);
    cr_expect(all_stamped(now), "new log:\n%s", now);
    free(old);
    free(now);
    unlink(path);
    unlink(moved);
}

/* Type=notify: with $NOTIFY_SOCKET set, the server sends READY=1 once it serves and STOPPING=1 when
 * it begins to stop. */
Test(daemon, service_manager_notification)
{
    if (h_target_is_memcached())
        return; /* memcached has no readiness notification */
    struct sockaddr_un sun = {.sun_family = AF_UNIX};
    snprintf(sun.sun_path, sizeof(sun.sun_path), "/tmp/cairn-notify-%d", (int)getpid());
    unlink(sun.sun_path);
    int fd = socket(AF_UNIX, SOCK_DGRAM, 0);
    cr_assert(fd >= 0);
    cr_assert_eq(bind(fd, (struct sockaddr *)&sun, sizeof(sun)), 0);
    struct timeval tv = {.tv_sec = 5};
    setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
    setenv("NOTIFY_SOCKET", sun.sun_path, 1);
    h_setup();
    unsetenv("NOTIFY_SOCKET");
    char msg[256];
    ssize_t n = recv(fd, msg, sizeof(msg) - 1, 0);
    cr_assert(n > 0, "no READY message");
    msg[n] = '\0';
    cr_expect(strncmp(msg, "READY=1\n", 8) == 0, "first message: %s", msg);
    int c = h_connect(h_srv.port);
    h_cmd(c, "version\r\n", "VERSION 1.6.18-" PACKAGE_NAME "-" PACKAGE_VERSION "\r\n");
    close(c);
    cr_assert_eq(kill(h_srv.pid, SIGTERM), 0);
    n = recv(fd, msg, sizeof(msg) - 1, 0);
    cr_assert(n > 0, "no STOPPING message");
    msg[n] = '\0';
    cr_expect_str_eq(msg, "STOPPING=1");
    /* a second SIGTERM while the stop is under way changes nothing: still a clean exit */
    expect_clean_exit(SIGTERM);
    close(fd);
    unlink(sun.sun_path);
}

Test(daemon, sigusr1_stops_with_exit_0)
{
    h_setup();
    int fds[3];
    busy_clients(fds);
    expect_clean_exit(SIGUSR1);
    cr_assert(strstr(h_last_log(), "Gracefully stopping\n") != NULL, "output:\n%s", h_last_log());
    for (int i = 0; i < 3; i++)
        cr_assert(h_is_closed(fds[i], 2000), "client %d not disconnected", i);
}

Test(daemon, sigusr1_saves_the_snapshot)
{
    /* memcached 1.6 saves its restart file on SIGUSR1; cairn saves the snapshot, even with
     * --snapshot-on-shutdown no (which only SIGTERM/SIGINT/`shutdown` follow), and loads it again. */
    if (h_target_is_memcached())
        cr_skip_test("cairn's snapshots");
    char path[64];
    tmp_path(path, sizeof(path), 0, "usr1snap");
    const char *const extra[] = {"--snapshot-path", path, "--snapshot-on-shutdown", "no", NULL};
    h_server_start(&h_srv, extra);
    int fd = h_connect(h_srv.port);
    h_set(fd, "usr1:k", "kept");
    expect_clean_exit(SIGUSR1);
    cr_assert_eq(access(path, F_OK), 0, "no snapshot at %s after SIGUSR1; output:\n%s", path, h_last_log());
    h_server_start(&h_srv, extra);
    fd = h_connect(h_srv.port);
    h_cmd(fd, "get usr1:k\r\n", "VALUE usr1:k 0 4\r\nkept\r\nEND\r\n");
    /* SIGTERM follows --snapshot-on-shutdown no: the file keeps the SIGUSR1 save. */
    h_set(fd, "usr1:k", "changed");
    expect_clean_exit(SIGTERM);
    h_server_start(&h_srv, extra);
    fd = h_connect(h_srv.port);
    h_cmd(fd, "get usr1:k\r\n", "VALUE usr1:k 0 4\r\nkept\r\nEND\r\n");
    expect_clean_exit(SIGTERM);
}

Test(daemon, pid_file)
{
    char path[64];
    tmp_path(path, sizeof(path), 0, "pid");
    unlink(path);
    const char *const extra[] = {"-P", path, NULL};
    h_server_start(&h_srv, extra);
    FILE *f = NULL;
    int64_t end = h_now_ms() + 3000;
    while ((f = fopen(path, "r")) == NULL && h_now_ms() < end)
        h_sleep_ms(10);
    cr_assert_not_null(f, "pid file %s not written", path);
    long pid = 0;
    cr_assert_eq(fscanf(f, "%ld", &pid), 1);
    fclose(f);
    cr_assert_eq(pid, (long)h_srv.pid, "pid file says %ld, server is %ld", pid, (long)h_srv.pid);
    expect_clean_exit(SIGTERM);
    unlink(path);
}

Test(daemon, sigterm_as_soon_as_pid_file_exists)
{
    /* A supervisor may signal the server the moment its pid file appears (or its port accepts):
     * the server must already handle SIGTERM then and exit 0, not die of the signal. */
    char path[64], portbuf[16];
    tmp_path(path, sizeof(path), 1, "pid2");
    const char *bin = h_target_is_memcached() ? h_memcached_bin() : h_cairn_bin();
    for (int round = 0; round < 5; round++) {
        unlink(path);
        snprintf(portbuf, sizeof(portbuf), "%d", h_free_port());
        const char *argv[] = {bin,    "-p", portbuf, "-l", "127.0.0.1",
                              "-U",   "0",  "-P",    path, geteuid() == 0 ? "-u" : NULL,
                              "root", NULL};
        h_srv.log_path[0] = '\0';
        h_spawn_raw(&h_srv, bin, argv);
        int64_t end = h_now_ms() + 5000;
        while (access(path, F_OK) != 0 && h_now_ms() < end)
            h_sleep_ms(1);
        cr_assert_eq(access(path, F_OK), 0, "pid file never appeared");
        expect_clean_exit(SIGTERM);
    }
    unlink(path);
}

Test(daemon, shutdown_command_with_A)
{
    const char *const extra[] = {"-A", NULL};
    h_server_start(&h_srv, extra);
    int fd = h_connect(h_srv.port);
    h_set(fd, "a", "1");
    h_sends(fd, "shutdown\r\n");
    cr_assert(h_is_closed(fd, 5000), "connection not closed by shutdown");
    int st;
    cr_assert(h_server_wait(&h_srv, 5000, &st), "server still running after shutdown");
    cr_assert(WIFEXITED(st) && WEXITSTATUS(st) == 0, "status 0x%x after shutdown", (unsigned)st);
}

Test(daemon, shutdown_refused_without_A)
{
    h_setup();
    int fd = h_connect(h_srv.port);
    h_cmd(fd, "shutdown\r\n", "ERROR: shutdown not enabled\r\n");
    h_cmd(fd, "get a\r\n", "END\r\n");
}

/*
 * Bad option values: stderr and exit status as memcached 1.6.18 gives them (measured with
 * `memcached <option>`; 1 for what memcached refuses as it reads the option, 64 for the checks after
 * the whole command line, 71 when the open-file limit cannot fit -c). argv[0] is "memcached" for both
 * servers so getopt's own line reads the same. Rows marked cairn_only are values memcached takes
 * (its atoi() reads junk as 0 or wraps) or ranges that differ: cairn refuses them, with its own text.
 */
struct bad_option {
    const char *args[4];
    const char *err;
    int status;
    bool cairn_only;
};

static const struct bad_option bad_options[] = {
    {{"-c", "99999999999"},
     "failed to set rlimit for open files. Try starting as root or requesting smaller "
     "maxconns value.\n",
     71,
     false},
    {{"-c", "0"}, "Maximum connections must be greater than 0\n", 1, false},
    {{"-c", "-1"}, "Maximum connections must be greater than 0\n", 1, false},
    {{"-c", "abc"}, "Maximum connections must be greater than 0\n", 1, false},
    {{"-t", "0"}, "Number of threads must be greater than 0\n", 1, false},
    {{"-t", "-4"}, "Number of threads must be greater than 0\n", 1, false},
    {{"-t", "many"}, "Number of threads must be greater than 0\n", 1, false},
    {{"-f", "1"}, "Factor must be greater than 1\n", 1, false},
    {{"-f", "0.5"}, "Factor must be greater than 1\n", 1, false},
    {{"-f", "abc"}, "Factor must be greater than 1\n", 1, false},
    {{"-n", "0"}, "Chunk size must be greater than 0\n", 1, false},
    {{"-n", "abc"}, "Chunk size must be greater than 0\n", 1, false},
    {{"-R", "0"}, "Number of requests per event must be greater than 0\n", 1, false},
    {{"-R", "abc"}, "Number of requests per event must be greater than 0\n", 1, false},
    {{"-D", ""}, "No delimiter specified\n", 1, false},
    {{"-m", "0"}, "Cannot set item size limit higher than 1/2 of memory max.\n", 64, false},
    {{"-m", "1"}, "Cannot set item size limit higher than 1/2 of memory max.\n", 64, false},
    {{"-m", "lots"}, "Cannot set item size limit higher than 1/2 of memory max.\n", 64, false},
    {{"-I", "0"}, "Item max size cannot be less than 1024 bytes.\n", 64, false},
    {{"-I", "100"}, "Item max size cannot be less than 1024 bytes.\n", 64, false},
    {{"-I", "abc"}, "Item max size cannot be less than 1024 bytes.\n", 64, false},
    {{"-I", "1m", "-m", "1"}, "Cannot set item size limit higher than 1/2 of memory max.\n", 64, false},
    {{"-p", "70000"}, "ERROR: Invalid port number 70000.\n", 64, false},
    {{"-p", "99999", "-I", "0"}, "Item max size cannot be less than 1024 bytes.\n", 64, false},
    {{"-p", "99999", "-c", "0"}, "Maximum connections must be greater than 0\n", 1, false},
    {{"-B", "foo"},
     "Invalid value for binding protocol: foo\n -- should be one of auto, binary, or ascii\n",
     64,
     false},
    {{"-Q"}, "memcached: invalid option -- 'Q'\nIllegal argument \"?\"\n", 1, false},
    {{"--no-such-option"},
     "memcached: unrecognized option '--no-such-option'\nIllegal argument \"?\"\n",
     1,
     false},
    {{"-p"}, "memcached: option requires an argument -- 'p'\nIllegal argument \"?\"\n", 1, false},
    /* cairn's own refusals. */
    {{"-f", "1e308"}, "Factor must be at most 100\n", 1, true},          /* cairn's classes: factor <= 100 */
    {{"-t", "300"}, "Number of threads must be at most 256\n", 1, true}, /* memcached has no maximum */
    {{"-p", "notaport"}, "ERROR: Invalid port number notaport.\n", 64, true}, /* memcached: port 0 */
    {{"-m", "-1"}, "Memory limit must be a number of megabytes between 0 and 32768\n", 64, true},
    {{"-m", "40000"}, "Memory limit must be a number of megabytes between 0 and 32768\n", 64, true},
    {{"-U", "11211"}, "UDP is not supported: use -U 0\n", 64, true},
    {{"-b", "-1"}, "Listen backlog must be a number between 0 and 2147483647\n", 64, true},
    {{"stray-argument"}, "Unexpected argument \"stray-argument\"\n", 64, true},
};

/* Runs the target with row's arguments; expects its exit within 5 s with the row's output and status. */
static void expect_bad_option(const struct bad_option *row)
{
    const char *bin = h_target_is_memcached() ? h_memcached_bin() : h_cairn_bin();
    const char *argv[8] = {"memcached"};
    size_t n = 1;
    for (size_t i = 0; i < 4 && row->args[i] != NULL; i++)
        argv[n++] = row->args[i];
    struct h_server srv = {0};
    h_spawn_raw(&srv, bin, argv);
    int st;
    bool exited = h_server_wait(&srv, 5000, &st);
    char *log = h_server_log(&srv);
    bool to;
    h_server_stop(&srv, SIGKILL, &to);
    cr_assert(exited, "%s %s kept running", row->args[0], row->args[1] ? row->args[1] : "");
    h_compare_at(__FILE__, __LINE__, row->args[0], row->err, strlen(row->err), log, strlen(log));
    cr_assert(WIFEXITED(st) && WEXITSTATUS(st) == row->status, "%s %s: status 0x%x, expected exit %d",
              row->args[0], row->args[1] ? row->args[1] : "", (unsigned)st, row->status);
    free(log);
}

Test(daemon, bad_options_as_memcached)
{
    for (size_t i = 0; i < sizeof(bad_options) / sizeof(bad_options[0]); i++) {
        if (bad_options[i].cairn_only && h_target_is_memcached())
            continue;
        expect_bad_option(&bad_options[i]);
    }
}

Test(daemon, help_and_version_options)
{
    if (h_target_is_memcached())
        cr_skip_test("cairn only");
    static const char *const argv[] = {"cairn", "-V", NULL};
    struct h_server srv = {0};
    h_spawn_raw(&srv, h_cairn_bin(), argv);
    int st;
    cr_assert(h_server_wait(&srv, 5000, &st), "cairn -V kept running");
    char *log = h_server_log(&srv);
    bool to;
    h_server_stop(&srv, SIGKILL, &to);
    cr_assert(WIFEXITED(st) && WEXITSTATUS(st) == 0, "cairn -V status 0x%x", (unsigned)st);
    cr_assert(strstr(log, "1.6.18-cairn") != NULL || strstr(log, "cairn") != NULL, "cairn -V printed \"%s\"",
              log);
    free(log);
}

static pid_t daemon_pid;

static void kill_daemon(void)
{
    if (daemon_pid > 0)
        kill(daemon_pid, SIGKILL);
    daemon_pid = 0;
    daemon_fini();
}

Test(daemon, daemonize_with_pid_file, .fini = kill_daemon)
{
    /* -d: the started process returns at once with status 0, the daemon serves, its pid is in the
     * -P file, and SIGTERM ends it. */
    char path[64], portbuf[16];
    tmp_path(path, sizeof(path), 2, "pid3");
    unlink(path);
    int port = h_free_port();
    snprintf(portbuf, sizeof(portbuf), "%d", port);
    const char *bin = h_target_is_memcached() ? h_memcached_bin() : h_cairn_bin();
    const char *argv[] = {
        bin,    "-d", "-p", portbuf, "-l", "127.0.0.1", "-U", "0", "-P", path, geteuid() == 0 ? "-u" : NULL,
        "root", NULL};
    struct h_server launcher = {0};
    h_spawn_raw(&launcher, bin, argv);
    int st;
    cr_assert(h_server_wait(&launcher, 5000, &st), "-d did not return");
    bool to;
    h_server_stop(&launcher, SIGKILL, &to);
    cr_assert(WIFEXITED(st) && WEXITSTATUS(st) == 0, "-d launcher status 0x%x", (unsigned)st);
    FILE *f = NULL;
    int64_t end = h_now_ms() + 5000;
    long pid = 0;
    while (h_now_ms() < end) {
        f = fopen(path, "r");
        if (f != NULL && fscanf(f, "%ld", &pid) == 1 && pid > 0)
            break;
        if (f != NULL)
            fclose(f);
        f = NULL;
        h_sleep_ms(10);
    }
    cr_assert_not_null(f, "no pid file from the daemon");
    fclose(f);
    daemon_pid = (pid_t)pid;
    int fd = -1;
    while ((fd = h_try_connect(port)) < 0 && h_now_ms() < end)
        h_sleep_ms(10);
    cr_assert_geq(fd, 0, "daemon not listening");
    h_cmd(fd, "set d 0 0 1\r\n1\r\n", "STORED\r\n");
    close(fd);
    cr_assert_eq(kill(daemon_pid, SIGTERM), 0);
    end = h_now_ms() + 5000;
    while (kill(daemon_pid, 0) == 0 && h_now_ms() < end)
        h_sleep_ms(10);
    cr_assert_neq(kill(daemon_pid, 0), 0, "daemon still running 5 s after SIGTERM");
    daemon_pid = 0;
    unlink(path);
}

Test(daemon, unix_socket)
{
    /* -s PATH -a MASK: serve on a Unix socket with the given permissions (and no TCP port). */
    char path[64];
    tmp_path(path, sizeof(path), 3, "sock");
    unlink(path);
    const char *bin = h_target_is_memcached() ? h_memcached_bin() : h_cairn_bin();
    const char *argv[] = {bin,    "-s", path, "-a", "0700", "-U", "0", geteuid() == 0 ? "-u" : NULL,
                          "root", NULL};
    h_srv.log_path[0] = '\0';
    h_spawn_raw(&h_srv, bin, argv);
    struct sockaddr_un sa = {.sun_family = AF_UNIX};
    snprintf(sa.sun_path, sizeof(sa.sun_path), "%s", path);
    int fd = -1;
    int64_t end = h_now_ms() + 5000;
    while (h_now_ms() < end) {
        fd = socket(AF_UNIX, SOCK_STREAM, 0);
        if (connect(fd, (struct sockaddr *)&sa, sizeof(sa)) == 0)
            break;
        close(fd);
        fd = -1;
        h_sleep_ms(10);
    }
    cr_assert_geq(fd, 0, "no Unix socket at %s", path);
    struct timeval tv = {5, 0};
    setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
    h_cmd(fd, "set u 3 0 2\r\nok\r\n", "STORED\r\n");
    h_cmd(fd, "get u\r\n", "VALUE u 3 2\r\nok\r\nEND\r\n");
    struct stat st;
    cr_assert_eq(stat(path, &st), 0);
    cr_assert_eq(st.st_mode & 0777, 0700, "socket mode %o", (unsigned)(st.st_mode & 0777));
    close(fd);
    expect_clean_exit(SIGTERM);
    unlink(path);
}

Test(daemon, flush_all_disabled_with_F)
{
    /* memcached -F: the refusal text, noreply honoured, the data kept, cmd_flush still counted. */
    const char *const extra[] = {"-F", NULL};
    h_server_start(&h_srv, extra);
    int fd = h_connect(h_srv.port);
    h_set(fd, "f", "kept");
    h_cmd(fd, "flush_all\r\n", "CLIENT_ERROR flush_all not allowed\r\n");
    h_cmd(fd, "flush_all abc\r\n", "CLIENT_ERROR flush_all not allowed\r\n");
    h_cmd(fd, "flush_all 0 noreply\r\nget f\r\n", "VALUE f 0 4\r\nkept\r\nEND\r\n");
    cr_assert_eq(h_stat(fd, "cmd_flush"), 3);
    char *st = h_stats_raw(fd, "settings");
    char val[16];
    cr_assert(h_stat_find(st, "flush_enabled", val, sizeof(val)) && strcmp(val, "no") == 0);
    free(st);
    expect_clean_exit(SIGTERM);
}

Test(daemon, disable_admin_commands)
{
    /* --disable-admin-commands: every server-wide command is refused; data and statistics work. */
    if (h_target_is_memcached())
        cr_skip_test("cairn's own option");
    const char *const extra[] = {"--disable-admin-commands", "-A", NULL};
    h_server_start(&h_srv, extra);
    int fd = h_connect(h_srv.port);
    h_set(fd, "k", "v");
    h_cmd(fd, "flush_all\r\n", "CLIENT_ERROR flush_all not allowed\r\n");
    h_cmd(fd, "cache_memlimit 8\r\n", "CLIENT_ERROR cache_memlimit not allowed\r\n");
    h_cmd(fd, "slabs reassign 1 2\r\n", "CLIENT_ERROR slabs not allowed\r\n");
    h_cmd(fd, "lru_crawler crawl all\r\n", "CLIENT_ERROR lru_crawler not allowed\r\n");
    h_cmd(fd, "verbosity 3\r\n", "CLIENT_ERROR verbosity not allowed\r\n");
    h_cmd(fd, "stats detail on\r\n", "CLIENT_ERROR stats detail not allowed\r\n");
    h_cmd(fd, "stats reset\r\n", "CLIENT_ERROR stats reset not allowed\r\n");
    h_cmd(fd, "snapshot\r\n", "CLIENT_ERROR snapshot not allowed\r\n");
    h_cmd(fd, "shutdown\r\n", "ERROR: shutdown not enabled\r\n");
    h_cmd(fd, "get k\r\n", "VALUE k 0 1\r\nv\r\nEND\r\n");
    cr_assert_eq(h_stat(fd, "curr_items"), 1);
    expect_clean_exit(SIGTERM);
}

Test(daemon, lru_crawler_crawl_reclaims_and_is_busy_meanwhile)
{
    /* A crawl is one reclaim pass over the items, done by the server in batches: a second crawl
     * while it runs is BUSY, and once it has run the expired items are gone from curr_items. */
    if (h_target_is_memcached())
        cr_skip_test("cairn's crawl pacing");
    h_setup();
    int fd = h_connect(h_srv.port);
    char *buf = malloc(30 * 40000 + 1);
    size_t n = 0;
    for (int i = 0; i < 40000; i++)
        n += (size_t)sprintf(buf + n, "set e%d 0 1 1 noreply\r\nx\r\n", i);
    h_send(fd, buf, n);
    free(buf);
    h_cmd(fd, "mn\r\n", "MN\r\n");
    h_sleep_ms(2100);
    h_cmd(fd, "lru_crawler crawl all\r\n", "OK\r\n");
    h_cmd(fd, "lru_crawler crawl 1,2\r\n", "BUSY currently processing crawler request\r\n");
    int64_t end = h_now_ms() + 5000;
    while (h_now_ms() < end && h_stat(fd, "curr_items") > 0)
        h_sleep_ms(50);
    cr_assert_eq(h_stat(fd, "curr_items"), 0);
    end = h_now_ms() + 3000;
    h_sends(fd, "lru_crawler crawl all\r\n");
    char *line = h_read_line(fd);
    while (strcmp(line, "OK\r\n") != 0 && h_now_ms() < end) {
        free(line);
        h_sleep_ms(100);
        h_sends(fd, "lru_crawler crawl all\r\n");
        line = h_read_line(fd);
    }
    cr_assert_str_eq(line, "OK\r\n");
    free(line);
}

Test(daemon, stats_detail_capped)
{
    /* 10,050 prefixes: the dump lists 10,000 and says how many were dropped. */
    if (h_target_is_memcached())
        cr_skip_test("cairn's cap");
    h_setup();
    int fd = h_connect(h_srv.port);
    h_cmd(fd, "stats detail on\r\n", "OK\r\n");
    char *buf = malloc(24 * 10050 + 1);
    size_t n = 0;
    for (int i = 0; i < 10050; i++)
        n += (size_t)sprintf(buf + n, "get p%d:k\r\n", i);
    h_send(fd, buf, n);
    free(buf);
    for (int i = 0; i < 10050; i++)
        h_expect(fd, "END\r\n");
    size_t len;
    h_sends(fd, "stats detail dump\r\n");
    char *dump = h_read_until(fd, "\r\nEND\r\n", &len);
    size_t lines = 0;
    for (const char *p = dump; (p = strstr(p, "PREFIX ")) != NULL; p++)
        lines++;
    cr_assert_eq(lines, 10000);
    cr_assert(strstr(dump, "PREFIXES_DROPPED 50 limit 10000\r\nEND\r\n") != NULL);
    free(dump);
}
