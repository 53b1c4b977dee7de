/*
 * harness.c: server processes and client sockets for the integration tests (see harness.h).
 *
 * Starting a server: pick a free port by binding port 0 on 127.0.0.1 and closing the socket, spawn
 * the binary with that port, then poll every 10 ms for up to 5 s until a new connection gets an answer
 * to `version` (a listening socket alone does not mean the server is set up). Between the close and
 * the server's bind another process may take the port; the child then exits early, which the poll
 * loop notices (waitpid WNOHANG), and the start is retried on a new port (3 tries).
 *
 * Stopping: SIGTERM (or the signal a test asks for), waitpid polled for up to 5 s, then SIGKILL. The
 * child's stdout and stderr go to a private temporary file that is shown when a start fails and
 * removed when the server is stopped.
 *
 * Reading: sockets carry SO_RCVTIMEO; helpers read in a loop and stop at the wanted length, at EOF or
 * at the timeout, so a missing answer shows up as a short read in the diff, never as a hang.
 */
#include "config.h"

#include "tests/integration/harness.h"

#include <criterion/criterion.h>
#include <criterion/logging.h>
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/time.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

struct h_server h_srv;

/* The tail of the output of the server stopped last (for failure messages). */
static char last_log[4096];

int64_t h_now_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

void h_sleep_ms(int ms)
{
    struct timespec ts = {ms / 1000, (long)(ms % 1000) * 1000000L};
    while (nanosleep(&ts, &ts) != 0 && errno == EINTR) {
    }
}

bool h_target_is_memcached(void)
{
    const char *t = getenv("CAIRN_TEST_TARGET");
    return t != NULL && strcmp(t, "memcached") == 0;
}

const char *h_memcached_bin(void)
{
    const char *b = getenv("MEMCACHED_BIN");
    if (b == NULL || *b == '\0')
        b = "/usr/bin/memcached";
    return access(b, X_OK) == 0 ? b : NULL;
}

const char *h_cairn_bin(void)
{
    const char *b = getenv("CAIRN_BIN");
    cr_assert(b != NULL && *b != '\0', "CAIRN_BIN is not set (run through make check)");
    cr_assert(access(b, X_OK) == 0, "CAIRN_BIN=%s is not an executable file", b);
    return b;
}

int h_free_port(void)
{
    int fd = socket(AF_INET, SOCK_STREAM, 0);
    cr_assert(fd >= 0, "socket: %s", strerror(errno));
    struct sockaddr_in sa = {.sin_family = AF_INET, .sin_port = 0};
    sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    cr_assert(bind(fd, (struct sockaddr *)&sa, sizeof(sa)) == 0, "bind: %s", strerror(errno));
    socklen_t sl = sizeof(sa);
    cr_assert(getsockname(fd, (struct sockaddr *)&sa, &sl) == 0, "getsockname");
    close(fd);
    return ntohs(sa.sin_port);
}

pid_t h_spawn_raw(struct h_server *srv, const char *bin, const char *const *argv)
{
    if (srv->log_path[0] == '\0') {
        snprintf(srv->log_path, sizeof(srv->log_path), "/tmp/cairn-itest-XXXXXX");
        int lfd = mkstemp(srv->log_path);
        cr_assert(lfd >= 0, "mkstemp: %s", strerror(errno));
        close(lfd);
    }
    pid_t parent = getpid();
    pid_t pid = fork();
    cr_assert(pid >= 0, "fork: %s", strerror(errno));
    if (pid == 0) {
        prctl(PR_SET_PDEATHSIG, SIGKILL);
        if (getppid() != parent)
            _exit(127);
        int lfd = open(srv->log_path, O_WRONLY | O_TRUNC);
        int nfd = open("/dev/null", O_RDONLY);
        if (lfd >= 0) {
            dup2(lfd, 1);
            dup2(lfd, 2);
        }
        if (nfd >= 0)
            dup2(nfd, 0);
        for (int fd = 3; fd < 1024; fd++)
            close(fd);
        signal(SIGPIPE, SIG_DFL);
        execv(bin, (char *const *)argv);
        fprintf(stderr, "exec %s: %s\n", bin, strerror(errno));
        _exit(127);
    }
    srv->pid = pid;
    return pid;
}

char *h_server_log(const struct h_server *srv)
{
    char *buf = calloc(1, 65536);
    cr_assert(buf != NULL);
    FILE *f = srv->log_path[0] ? fopen(srv->log_path, "r") : NULL;
    if (f != NULL) {
        size_t n = fread(buf, 1, 65535, f);
        buf[n] = '\0';
        fclose(f);
    }
    return buf;
}

bool h_server_wait(struct h_server *srv, int timeout_ms, int *status)
{
    int64_t end = h_now_ms() + timeout_ms;
    for (;;) {
        int st = 0;
        pid_t r = waitpid(srv->pid, &st, WNOHANG);
        if (r == srv->pid || (r < 0 && errno == ECHILD)) {
            srv->pid = 0;
            if (status != NULL)
                *status = st;
            return true;
        }
        if (h_now_ms() >= end)
            return false;
        h_sleep_ms(5);
    }
}

static size_t build_argv(const char **argv, const char *bin, bool memcached, int port,
                         const char *const *extra, char *portbuf, size_t portcap)
{
    size_t n = 0;
    snprintf(portbuf, portcap, "%d", port);
    argv[n++] = bin;
    argv[n++] = "-p";
    argv[n++] = portbuf;
    argv[n++] = "-l";
    argv[n++] = "127.0.0.1";
    argv[n++] = "-U";
    argv[n++] = "0";
    argv[n++] = "-t";
    argv[n++] = "4";
    argv[n++] = "-m";
    argv[n++] = "64";
    if (geteuid() == 0) {
        argv[n++] = "-u";
        argv[n++] = "root";
    }
    if (memcached) {
        /* the reference reads everything as text; test_binary passes -B auto after this */
        argv[n++] = "-B";
        argv[n++] = "ascii";
    }
    for (size_t i = 0; extra != NULL && extra[i] != NULL; i++) {
        cr_assert(n < H_MAX_ARGS - 1, "too many server arguments");
        argv[n++] = extra[i];
    }
    argv[n] = NULL;
    return n;
}

/* Poll until the server answers `version` on a new connection (with VERSION, or with CLIENT_ERROR
 * when it requires authentication first, as -Y does); false when it exited or 5 s passed. */
static bool wait_listening(struct h_server *srv)
{
    int64_t end = h_now_ms() + 5000;
    while (h_now_ms() < end) {
        int fd = h_try_connect(srv->port);
        if (fd >= 0) {
            /* Serving, not just listening: one request answered. */
            static const char req[] = "version\r\n";
            char line[8];
            bool ok = send(fd, req, sizeof(req) - 1, MSG_NOSIGNAL) == (ssize_t)(sizeof(req) - 1) &&
                      h_read_n(fd, line, 8, H_IO_TIMEOUT_MS) == 8 &&
                      (memcmp(line, "VERSION ", 8) == 0 || memcmp(line, "CLIENT_E", 8) == 0);
            close(fd);
            if (ok)
                return true;
        }
        int st;
        if (h_server_wait(srv, 0, &st))
            return false;
        h_sleep_ms(10);
    }
    return false;
}

void h_server_start_bin(struct h_server *srv, const char *bin, bool memcached, const char *const *extra)
{
    const char *argv[H_MAX_ARGS];
    char portbuf[16];
    srv->memcached = memcached;
    for (int attempt = 0; attempt < 3; attempt++) {
        srv->port = h_free_port();
        build_argv(argv, bin, memcached, srv->port, extra, portbuf, sizeof(portbuf));
        h_spawn_raw(srv, bin, argv);
        if (wait_listening(srv))
            return;
        if (srv->pid != 0) {
            bool to;
            h_server_stop(srv, SIGKILL, &to);
            break;
        }
    }
    char *log = h_server_log(srv);
    cr_assert_fail("server %s did not start listening on port %d; its output:\n%s", bin, srv->port, log);
}

void h_server_start(struct h_server *srv, const char *const *extra)
{
    if (h_target_is_memcached()) {
        const char *bin = h_memcached_bin();
        cr_assert(bin != NULL, "CAIRN_TEST_TARGET=memcached but no memcached binary found");
        h_server_start_bin(srv, bin, true, extra);
    } else {
        h_server_start_bin(srv, h_cairn_bin(), false, extra);
    }
}

int h_server_stop(struct h_server *srv, int sig, bool *timed_out)
{
    int st = 0;
    *timed_out = false;
    if (srv->pid > 0) {
        kill(srv->pid, sig);
        if (!h_server_wait(srv, 5000, &st)) {
            *timed_out = true;
            kill(srv->pid, SIGKILL);
            h_server_wait(srv, 5000, &st);
        }
    }
    if (srv->log_path[0] != '\0') {
        char *log = h_server_log(srv);
        size_t n = strlen(log);
        const char *tail = n > sizeof(last_log) - 1 ? log + n - (sizeof(last_log) - 1) : log;
        snprintf(last_log, sizeof(last_log), "%s", tail);
        free(log);
        unlink(srv->log_path);
        srv->log_path[0] = '\0';
    }
    return st;
}

const char *h_last_log(void)
{
    return last_log;
}

void h_setup(void)
{
    signal(SIGPIPE, SIG_IGN);
    h_server_start(&h_srv, NULL);
}

void h_teardown(void)
{
    bool to = false;
    bool running = h_srv.pid > 0;
    int st = h_server_stop(&h_srv, SIGTERM, &to);
    if (!running)
        return;
    cr_expect(!to, "server did not exit within 5 s of SIGTERM; its output:\n%s", last_log);
    cr_expect(WIFEXITED(st) && WEXITSTATUS(st) == 0,
              "server did not exit 0 after SIGTERM (status 0x%x); its output:\n%s", (unsigned)st, last_log);
}

int h_try_connect(int port)
{
    int fd = socket(AF_INET, SOCK_STREAM, 0);
    if (fd < 0)
        return -1;
    struct sockaddr_in sa = {.sin_family = AF_INET, .sin_port = htons((uint16_t)port)};
    sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    if (connect(fd, (struct sockaddr *)&sa, sizeof(sa)) != 0) {
        close(fd);
        return -1;
    }
    int one = 1;
    setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
    struct timeval tv = {H_IO_TIMEOUT_MS / 1000, 0};
    setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
    setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof(tv));
    return fd;
}

int h_connect(int port)
{
    int fd = h_try_connect(port);
    cr_assert(fd >= 0, "connect to 127.0.0.1:%d failed: %s", port, strerror(errno));
    return fd;
}

void h_send(int fd, const void *buf, size_t len)
{
    const char *p = buf;
    while (len > 0) {
        ssize_t n = send(fd, p, len, MSG_NOSIGNAL);
        if (n < 0 && errno == EINTR)
            continue;
        cr_assert(n > 0, "send failed: %s", strerror(errno));
        p += n;
        len -= (size_t)n;
    }
}

void h_sends(int fd, const char *s)
{
    h_send(fd, s, strlen(s));
}

void h_send_bytewise(int fd, const void *buf, size_t len)
{
    const char *p = buf;
    for (size_t i = 0; i < len; i++)
        h_send(fd, p + i, 1);
}

/* Wait up to ms for fd to become readable; true when readable (or hung up). */
static bool wait_readable(int fd, int ms)
{
    struct pollfd pfd = {.fd = fd, .events = POLLIN};
    int r;
    do {
        r = poll(&pfd, 1, ms);
    } while (r < 0 && errno == EINTR);
    return r > 0;
}

size_t h_read_n(int fd, void *buf, size_t n, int timeout_ms)
{
    char *p = buf;
    size_t got = 0;
    while (got < n) {
        if (!wait_readable(fd, timeout_ms))
            break;
        ssize_t r = recv(fd, p + got, n - got, 0);
        if (r < 0 && errno == EINTR)
            continue;
        if (r <= 0)
            break;
        got += (size_t)r;
    }
    return got;
}

/* Grow *buf to hold at least need bytes plus a NUL. */
static void reserve(char **buf, size_t *cap, size_t need)
{
    if (need + 1 <= *cap)
        return;
    size_t nc = *cap ? *cap : 4096;
    while (nc < need + 1)
        nc *= 2;
    char *nb = realloc(*buf, nc);
    cr_assert(nb != NULL, "out of memory");
    *buf = nb;
    *cap = nc;
}

char *h_read_until(int fd, const char *term, size_t *len)
{
    size_t tl = strlen(term), cap = 0, got = 0;
    char *buf = NULL;
    reserve(&buf, &cap, 4096);
    while (!(got >= tl && memcmp(buf + got - tl, term, tl) == 0)) {
        reserve(&buf, &cap, got + 4096);
        if (!wait_readable(fd, H_IO_TIMEOUT_MS))
            break;
        ssize_t r = recv(fd, buf + got, 4096, 0);
        if (r < 0 && errno == EINTR)
            continue;
        if (r <= 0)
            break;
        got += (size_t)r;
    }
    buf[got] = '\0';
    if (len != NULL)
        *len = got;
    return buf;
}

char *h_read_idle(int fd, int idle_ms, size_t *len, bool *closed)
{
    size_t cap = 0, got = 0;
    char *buf = NULL;
    bool cl = false;
    int64_t end = h_now_ms() + 10 * H_IO_TIMEOUT_MS;
    reserve(&buf, &cap, 4096);
    while (h_now_ms() < end) {
        reserve(&buf, &cap, got + 4096);
        if (!wait_readable(fd, idle_ms))
            break;
        ssize_t r = recv(fd, buf + got, 4096, 0);
        if (r < 0 && errno == EINTR)
            continue;
        if (r <= 0) {
            cl = true;
            break;
        }
        got += (size_t)r;
    }
    buf[got] = '\0';
    if (len != NULL)
        *len = got;
    if (closed != NULL)
        *closed = cl;
    return buf;
}

char *h_escape(const void *buf, size_t len)
{
    const unsigned char *p = buf;
    char *out = malloc(len * 4 + 1);
    cr_assert(out != NULL);
    size_t o = 0;
    for (size_t i = 0; i < len; i++) {
        unsigned char c = p[i];
        if (c == '\r') {
            out[o++] = '\\';
            out[o++] = 'r';
        } else if (c == '\n') {
            out[o++] = '\\';
            out[o++] = 'n';
        } else if (c == '\\') {
            out[o++] = '\\';
            out[o++] = '\\';
        } else if (c < 0x20 || c >= 0x7f) {
            o += (size_t)sprintf(out + o, "\\x%02x", c);
        } else {
            out[o++] = (char)c;
        }
    }
    out[o] = '\0';
    return out;
}

void h_compare_at(const char *file, int line, const char *what, const void *exp, size_t elen, const void *got,
                  size_t glen)
{
    if (elen == glen && memcmp(exp, got, elen) == 0)
        return;
    const unsigned char *e = exp, *g = got;
    size_t i = 0;
    while (i < elen && i < glen && e[i] == g[i])
        i++;
    size_t from = i > 40 ? i - 40 : 0;
    size_t ecut = elen - from > 200 ? 200 : elen - from;
    size_t gcut = glen - from > 200 ? 200 : glen - from;
    char *es = h_escape(e + from, ecut), *gs = h_escape(g + from, gcut);
    cr_assert_fail("%s:%d: %s mismatch at byte %zu (expected %zu bytes, got %zu)\n"
                   "  expected%s: \"%s\"\n  actual  %s: \"%s\"",
                   file, line, what, i, elen, glen, from ? " (from byte ...)" : "", es,
                   from ? " (from byte ...)" : "", gs);
}

void h_expect_at(const char *file, int line, int fd, const void *exp, size_t len)
{
    char *buf = malloc(len + 1);
    cr_assert(buf != NULL);
    size_t got = h_read_n(fd, buf, len, H_IO_TIMEOUT_MS);
    h_compare_at(file, line, "response", exp, len, buf, got);
    free(buf);
}

bool h_is_closed(int fd, int timeout_ms)
{
    char tmp[4096];
    int64_t end = h_now_ms() + timeout_ms;
    for (;;) {
        int64_t left = end - h_now_ms();
        if (left <= 0 || !wait_readable(fd, (int)left))
            return false;
        ssize_t r = recv(fd, tmp, sizeof(tmp), 0);
        if (r == 0 || (r < 0 && errno == ECONNRESET))
            return true;
        if (r < 0 && errno != EINTR && errno != EAGAIN)
            return true;
    }
}

bool h_is_quiet(int fd, int ms)
{
    return !wait_readable(fd, ms);
}

char *h_stats_raw(int fd, const char *group)
{
    char req[128];
    snprintf(req, sizeof(req), "stats%s%s\r\n", group ? " " : "", group ? group : "");
    h_sends(fd, req);
    size_t len;
    char *s = h_read_until(fd, "END\r\n", &len);
    cr_assert(len >= 5 && memcmp(s + len - 5, "END\r\n", 5) == 0,
              "`%s` answer does not end with END: \"%.200s\"", group ? group : "stats", s);
    return s;
}

bool h_stat_find(const char *stats, const char *name, char *val, size_t cap)
{
    size_t nl = strlen(name);
    const char *p = stats;
    while ((p = strstr(p, "STAT ")) != NULL) {
        p += 5;
        if (strncmp(p, name, nl) == 0 && p[nl] == ' ') {
            const char *v = p + nl + 1;
            size_t n = strcspn(v, "\r\n");
            if (n >= cap)
                n = cap - 1;
            memcpy(val, v, n);
            val[n] = '\0';
            return true;
        }
    }
    return false;
}

uint64_t h_stat_of(int fd, const char *group, const char *name)
{
    char *s = h_stats_raw(fd, group);
    char val[64];
    bool found = h_stat_find(s, name, val, sizeof(val));
    free(s);
    cr_assert(found, "stats %s has no field %s", group != NULL ? group : "", name);
    return strtoull(val, NULL, 10);
}

uint64_t h_stat(int fd, const char *name)
{
    return h_stat_of(fd, NULL, name);
}

void h_set(int fd, const char *key, const char *value)
{
    char hdr[512];
    snprintf(hdr, sizeof(hdr), "set %s 0 0 %zu\r\n", key, strlen(value));
    h_sends(fd, hdr);
    h_sends(fd, value);
    h_sends(fd, "\r\n");
    h_expect(fd, "STORED\r\n");
}

char *h_read_line(int fd)
{
    size_t cap = 0, got = 0;
    char *buf = NULL;
    reserve(&buf, &cap, 256);
    while (!(got >= 2 && buf[got - 2] == '\r' && buf[got - 1] == '\n')) {
        reserve(&buf, &cap, got + 1);
        if (h_read_n(fd, buf + got, 1, H_IO_TIMEOUT_MS) != 1)
            break;
        got++;
    }
    buf[got] = '\0';
    return buf;
}

/* Parse one `get`/`gets` answer for key; value malloc'd or NULL on END. */
static char *get_common(int fd, const char *cmd, const char *key, uint32_t *flags, uint64_t *cas)
{
    char req[512];
    snprintf(req, sizeof(req), "%s %s\r\n", cmd, key);
    h_sends(fd, req);
    char *line = h_read_line(fd);
    if (strcmp(line, "END\r\n") == 0) {
        free(line);
        return NULL;
    }
    char k[300];
    unsigned long fl = 0;
    size_t vlen = 0;
    unsigned long long c = 0;
    int n = sscanf(line, "VALUE %299s %lu %zu %llu", k, &fl, &vlen, &c);
    cr_assert(n >= 3 && strcmp(k, key) == 0, "bad %s answer: \"%s\"", cmd, line);
    free(line);
    char *v = malloc(vlen + 3);
    cr_assert(v != NULL);
    size_t got = h_read_n(fd, v, vlen + 2, H_IO_TIMEOUT_MS);
    cr_assert(got == vlen + 2 && v[vlen] == '\r' && v[vlen + 1] == '\n', "short value block");
    v[vlen] = '\0';
    h_expect(fd, "END\r\n");
    if (flags != NULL)
        *flags = (uint32_t)fl;
    if (cas != NULL)
        *cas = c;
    return v;
}

char *h_get(int fd, const char *key, uint32_t *flags)
{
    return get_common(fd, "get", key, flags, NULL);
}

char *h_gets(int fd, const char *key, uint64_t *cas)
{
    return get_common(fd, "gets", key, NULL, cas);
}

/* LeakSanitizer hook (used only in --enable-sanitizers builds): Criterion's runner itself leaks a
 * small allocation when it runs tests in parallel; that is not ours to fix, so it is suppressed for
 * the test programs that link this harness. */
const char *__lsan_default_suppressions(void);
const char *__lsan_default_suppressions(void)
{
    return "leak:libcriterion.so\n";
}

/* See harness.h. */
size_t h_send_some(int fd, const void *buf, size_t len)
{
    size_t off = 0;
    int fl = fcntl(fd, F_GETFL);

    fcntl(fd, F_SETFL, fl | O_NONBLOCK);
    while (off < len) {
        ssize_t n = send(fd, (const char *)buf + off, len - off, MSG_NOSIGNAL);
        if (n > 0) {
            off += (size_t)n;
            continue;
        }
        if (n < 0 && errno == EINTR)
            continue;
        break;
    }
    fcntl(fd, F_SETFL, fl);
    return off;
}

/* See harness.h. */
int h_connect_small_window(int port)
{
    int fd = h_connect(port);
    int sz = 4096;

    setsockopt(fd, SOL_SOCKET, SO_RCVBUF, &sz, sizeof(sz));
    return fd;
}

/* See harness.h. */
uint64_t h_server_rss_kb(const struct h_server *srv)
{
    char path[64], line[256];
    unsigned long kb = 0;

    snprintf(path, sizeof(path), "/proc/%d/status", (int)srv->pid);
    FILE *f = fopen(path, "r");
    cr_assert_not_null(f);
    while (fgets(line, sizeof(line), f) != NULL) {
        if (sscanf(line, "VmRSS: %lu", &kb) == 1)
            break;
    }
    fclose(f);
    return kb;
}
