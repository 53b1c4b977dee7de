/*
 * harness.h: the integration-test harness: start a real server binary on a free loopback port, talk
 * to it over TCP and compare the answers byte for byte.
 *
 * Target: by default the server under test is cairn ($CAIRN_BIN). With CAIRN_TEST_TARGET=memcached
 * the same tests run against the reference server (/usr/bin/memcached, or $MEMCACHED_BIN), which is
 * how the suite itself is checked: every test must pass against memcached 1.6.18.
 *
 * Process model: Criterion runs each test in its own process. A suite's .init starts the server
 * (h_setup) and its .fini stops it (h_teardown), so the server is killed even when an assertion
 * fails; the server child also gets PR_SET_PDEATHSIG(SIGKILL), so a crashed test process never leaves
 * a server behind. Every socket has a 5 s receive and send timeout, so no test can hang on the wire.
 *
 * Client helpers fail the current test (cr_assert) on I/O errors or on a byte mismatch; the message
 * names the caller's file and line and shows both byte strings, escaped, around the first difference.
 */
#ifndef CAIRN_TESTS_INTEGRATION_HARNESS_H
#define CAIRN_TESTS_INTEGRATION_HARNESS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>
#include <sys/types.h>

#define H_IO_TIMEOUT_MS 5000
#define H_MAX_ARGS      32

/* One spawned server. pid 0 = not running. log_path holds its stdout and stderr. */
struct h_server {
    pid_t pid;
    int port;
    bool memcached;
    char log_path[64];
};

/* The server of the suites that use h_setup/h_teardown. */
extern struct h_server h_srv;

/* True when CAIRN_TEST_TARGET=memcached. */
bool h_target_is_memcached(void);

/* Path of the reference memcached ($MEMCACHED_BIN or /usr/bin/memcached); NULL when not executable. */
const char *h_memcached_bin(void);

/* Path of the cairn binary ($CAIRN_BIN); fails the test when unset. */
const char *h_cairn_bin(void);

/* A loopback port that was free a moment ago (bind port 0, read it, close). */
int h_free_port(void);

/* Start the target server with the standard arguments (-p PORT -l 127.0.0.1 -U 0 -t 4 -m 64, -u root
 * as root) followed by the NULL-terminated extra arguments (later options override earlier ones).
 * Fails the test when the server does not accept connections within 5 s. */
void h_server_start(struct h_server *srv, const char *const *extra);

/* Same with an explicit binary; memcached selects the reference's extra flags (-B ascii). */
void h_server_start_bin(struct h_server *srv, const char *bin, bool memcached, const char *const *extra);

/* Spawn bin with exactly argv (argv[0] included) and stdout/stderr to srv->log_path; no wait for a
 * listening socket. Returns the child's pid. */
pid_t h_spawn_raw(struct h_server *srv, const char *bin, const char *const *argv);

/* Wait up to timeout_ms for the server process to exit. Returns true and its wait status in *status
 * when it did (srv->pid becomes 0); false when it is still running. */
bool h_server_wait(struct h_server *srv, int timeout_ms, int *status);

/* Send sig and wait up to 5 s; then SIGKILL. Returns the wait status; *timed_out tells whether the
 * SIGKILL was needed. No-op returning 0 when the server is not running. */
int h_server_stop(struct h_server *srv, int sig, bool *timed_out);

/* The last 4 KiB of output of the server stopped last (NUL-terminated, static). */
const char *h_last_log(void);

/* Read the server's captured stdout+stderr (malloc'd, NUL-terminated; caller frees). */
char *h_server_log(const struct h_server *srv);

/* Criterion hooks: start h_srv with no extra arguments / stop it (asserting a clean, timely exit). */
void h_setup(void);
void h_teardown(void);

/* Connect to 127.0.0.1:port with TCP_NODELAY and 5 s timeouts; fails the test on error. */
int h_connect(int port);

/* Connect without failing: returns -1 on error. */
int h_try_connect(int port);

/* Send all bytes; fails the test on error. */
void h_send(int fd, const void *buf, size_t len);
void h_sends(int fd, const char *s);

/* Send one byte per send() call (TCP_NODELAY is set), the slowest legal way to split a request. */
void h_send_bytewise(int fd, const void *buf, size_t len);

/* Read until n bytes arrived, the peer closed, or timeout_ms passed with no data. Returns the count. */
size_t h_read_n(int fd, void *buf, size_t n, int timeout_ms);

/* Read until the received bytes end with term (or close/timeout). Returns a malloc'd, NUL-terminated
 * buffer (caller frees) and its length in *len. */
char *h_read_until(int fd, const char *term, size_t *len);

/* Read one line up to and including \r\n, a byte at a time so nothing after it is consumed. */
char *h_read_line(int fd);

/* Read whatever arrives until idle_ms pass with no data or the peer closes (*closed set). malloc'd. */
char *h_read_idle(int fd, int idle_ms, size_t *len, bool *closed);

/* Read exactly len bytes and compare them with exp; on a mismatch fail with a readable diff. */
void h_expect_at(const char *file, int line, int fd, const void *exp, size_t len);
#define h_expect(fd, s)     h_expect_at(__FILE__, __LINE__, (fd), (s), strlen(s))
#define h_expectn(fd, s, n) h_expect_at(__FILE__, __LINE__, (fd), (s), (n))
/* Send a request and expect an exact answer. */
#define h_cmd(fd, req, exp) (h_sends((fd), (req)), h_expect((fd), (exp)))

/* Compare two byte strings; on a mismatch fail with a readable diff labelled what. */
void h_compare_at(const char *file, int line, const char *what, const void *exp, size_t elen, const void *got,
                  size_t glen);

/* True when the peer closed the connection (EOF or reset) within timeout_ms; bytes that arrive
 * first are discarded. */
bool h_is_closed(int fd, int timeout_ms);

/* True when no byte arrives within ms (the connection is quiet and still open). */
bool h_is_quiet(int fd, int ms);

/* Escape bytes for messages (\r \n \0 \xNN); malloc'd, caller frees. */
char *h_escape(const void *buf, size_t len);

/* Send `stats[ group]` and return the raw answer up to and including END (malloc'd). */
char *h_stats_raw(int fd, const char *group);

/* Value of one STAT line in a stats answer; false when absent. */
bool h_stat_find(const char *stats, const char *name, char *val, size_t cap);

/* Numeric value of `stats` field name; fails the test when absent. */
/* A number from `stats <group>` (group NULL: plain `stats`); fails the test when it is missing. */
uint64_t h_stat_of(int fd, const char *group, const char *name);

uint64_t h_stat(int fd, const char *name);

/* Store key=value with flags 0, exptime 0 (expects STORED). */
void h_set(int fd, const char *key, const char *value);

/* Fetch key with `get`: returns a malloc'd value or NULL when missing; *flags set when non-NULL. */
char *h_get(int fd, const char *key, uint32_t *flags);

/* Fetch with `gets`: returns the value and its CAS unique in *cas. */
char *h_gets(int fd, const char *key, uint64_t *cas);

/* Sends what the socket takes without blocking; returns the bytes sent. */
size_t h_send_some(int fd, const void *buf, size_t len);

/* A connection with a small receive buffer, as a client that reads slowly or never. */
int h_connect_small_window(int port);

/* The server's resident set size in KiB (VmRSS). */
uint64_t h_server_rss_kb(const struct h_server *srv);

/* Milliseconds of a monotonic clock. */
int64_t h_now_ms(void);

/* Sleep ms milliseconds. */
void h_sleep_ms(int ms);

#endif
