/*
 * test_snapshot.c: snapshots through the real binary (cairn only; skipped against memcached): the
 * `snapshot [bg]` command and its replies, restarts that bring every field back (flags, CAS, the
 * time left to live), writers during a save, kill -9 in the middle of a save, bad files at start
 * (fail or set aside), failing saves (no directory, a blocked temporary file, the file-size limit),
 * one save at a time, periodic saves, the save on SIGTERM, the stats lines and the options; and the
 * hardening findings, each test named after one: a link planted at the temporary name is not
 * followed, a link at the snapshot path is refused, the file's mode is 0600, a loaded CAS is bounded,
 * keys with bad bytes are refused at start, stale temporary files go by their exact name only.
 * Crafted files are built here byte by byte (the checksum with xxHash, inlined).
 *
 * Each test works in its own temporary directory, removed by the suite's fini. Servers are started
 * through the harness (PR_SET_PDEATHSIG, 5 s I/O timeouts); a test that needs a server to fail at
 * start spawns it raw and waits at most 5 s for its exit.
 */
#include "config.h"

#include "tests/integration/harness.h"

#define XXH_INLINE_ALL
#include <xxhash.h>

#include <criterion/criterion.h>
#include <dirent.h>
#include <errno.h>
#include <inttypes.h>
#include <pthread.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

static char dir[64];
static char snap[128];
static struct h_server s2; /* a second server of one test (the first is h_srv) */

static void snap_init(void)
{
    if (h_target_is_memcached())
        return;
    snprintf(dir, sizeof(dir), "/tmp/cairn-snap-XXXXXX");
    cr_assert_not_null(mkdtemp(dir), "mkdtemp: %s", strerror(errno));
    snprintf(snap, sizeof(snap), "%s/cache.snap", dir);
}

static void snap_fini(void)
{
    bool to;
    h_server_stop(&h_srv, SIGKILL, &to);
    h_server_stop(&s2, SIGKILL, &to);
    if (dir[0] != '\0') {
        char cmd[128];
        snprintf(cmd, sizeof(cmd), "rm -rf '%s'", dir);
        if (system(cmd) != 0)
            fprintf(stderr, "could not remove %s\n", dir);
    }
}

TestSuite(snapshot, .init = snap_init, .fini = snap_fini, .timeout = 60);

#define SKIP_FOR_MEMCACHED()                                                                                 \
    do {                                                                                                     \
        if (h_target_is_memcached())                                                                         \
            cr_skip_test("snapshots are cairn's own");                                                       \
    } while (0)

/* Starts srv with --snapshot-path snap followed by extra (NULL-terminated, at most 8). */
static void start_snap(struct h_server *srv, const char *const *extra)
{
    const char *argv[16] = {"--snapshot-path", snap};
    size_t n = 2;
    for (size_t i = 0; extra != NULL && extra[i] != NULL && n < 15; i++)
        argv[n++] = extra[i];
    argv[n] = NULL;
    h_server_start(srv, argv);
}

/* Stops srv with sig and asserts exit status 0. */
static void stop_ok(struct h_server *srv, int sig)
{
    bool to;
    int st = h_server_stop(srv, sig, &to);
    cr_assert(!to && WIFEXITED(st) && WEXITSTATUS(st) == 0, "server did not exit 0 (status 0x%x):\n%s",
              (unsigned)st, h_last_log());
}

/* Sends `snapshot` and parses "SNAPSHOT <items> <bytes> <us>"; fails the test on another reply. */
static void snapshot_ok(int fd, uint64_t *items, uint64_t *bytes)
{
    h_sends(fd, "snapshot\r\n");
    char *line = h_read_line(fd);
    uint64_t i = 0, b = 0, us = 0;
    char end[4] = "";
    int n = sscanf(line, "SNAPSHOT %" SCNu64 " %" SCNu64 " %" SCNu64 "%3s", &i, &b, &us, end);
    cr_assert(n == 3 && strcmp(line + strlen(line) - 2, "\r\n") == 0, "bad snapshot reply: %s", line);
    free(line);
    if (items != NULL)
        *items = i;
    if (bytes != NULL)
        *bytes = b;
}

/* Stores n keys <prefix><i> with 100-byte values, pipelined with noreply, then one round trip. */
static void fill(int fd, const char *prefix, unsigned n)
{
    size_t cap = 1 << 20, len = 0;
    char *buf = malloc(cap);
    char val[101];
    memset(val, 'v', 100);
    val[100] = '\0';
    cr_assert_not_null(buf);
    for (unsigned i = 0; i < n; i++) {
        len += (size_t)snprintf(buf + len, cap - len, "set %s%u 7 0 100 noreply\r\n%s\r\n", prefix, i, val);
        if (cap - len < 512 || i + 1 == n) {
            h_send(fd, buf, len);
            len = 0;
        }
    }
    free(buf);
    h_sends(fd, "version\r\n");
    free(h_read_line(fd));
}

/* Expects `get key` to answer one value as fill() stored it. */
static void expect_filled(int fd, const char *key)
{
    char req[300], exp[400], val[101];
    memset(val, 'v', 100);
    val[100] = '\0';
    snprintf(req, sizeof(req), "get %s\r\n", key);
    snprintf(exp, sizeof(exp), "VALUE %s 7 100\r\n%s\r\nEND\r\n", key, val);
    h_cmd(fd, req, exp);
}

/* Reads the whole file at path (malloc'd, *len its size); NULL when it does not exist. */
static char *slurp(const char *path, size_t *len)
{
    FILE *f = fopen(path, "rb");
    if (f == NULL)
        return NULL;
    fseek(f, 0, SEEK_END);
    long n = ftell(f);
    fseek(f, 0, SEEK_SET);
    char *buf = malloc((size_t)n + 1);
    cr_assert_not_null(buf);
    cr_assert_eq(fread(buf, 1, (size_t)n, f), (size_t)n);
    fclose(f);
    *len = (size_t)n;
    return buf;
}

/* A stats field as text ("" when absent). */
static void stat_text(int fd, const char *name, char *val, size_t cap)
{
    char *st = h_stats_raw(fd, NULL);
    if (!h_stat_find(st, name, val, cap))
        val[0] = '\0';
    free(st);
}

/* ---- command and restart ---- */

Test(snapshot, without_path_is_refused)
{
    SKIP_FOR_MEMCACHED();
    h_server_start(&h_srv, NULL);
    int fd = h_connect(h_srv.port);
    h_cmd(fd, "snapshot\r\n", "SERVER_ERROR snapshots are off (no --snapshot-path)\r\n");
    h_cmd(fd, "snapshot bg\r\n", "SERVER_ERROR snapshots are off (no --snapshot-path)\r\n");
    h_cmd(fd, "snapshot foo\r\n", "ERROR\r\n");
    char *st = h_stats_raw(fd, NULL);
    cr_assert_null(strstr(st, "snapshot_"), "snapshot stats without a path:\n%s", st);
    free(st);
    close(fd);
    stop_ok(&h_srv, SIGTERM);
}

Test(snapshot, bad_arguments_and_pipelined_order)
{
    SKIP_FOR_MEMCACHED();
    start_snap(&h_srv, NULL);
    int fd = h_connect(h_srv.port);
    h_cmd(fd, "snapshot foo\r\n", "ERROR\r\n");
    h_cmd(fd, "snapshot bg extra\r\n", "ERROR\r\n");
    h_cmd(fd, "snapshot noreply\r\n", "ERROR\r\n");
    /* Requests behind a waiting `snapshot` run after its reply, in order. */
    h_sends(fd, "set a 1 0 1\r\nx\r\nsnapshot\r\nget a\r\n");
    h_expect(fd, "STORED\r\n");
    char *line = h_read_line(fd);
    cr_assert(strncmp(line, "SNAPSHOT 1 ", 11) == 0, "reply: %s", line);
    free(line);
    h_expect(fd, "VALUE a 1 1\r\nx\r\nEND\r\n");
    close(fd);
    stop_ok(&h_srv, SIGTERM);
}

Test(snapshot, restart_keeps_flags_cas_and_ttl)
{
    SKIP_FOR_MEMCACHED();
    const char *const no_final[] = {"--snapshot-on-shutdown", "no", NULL};
    start_snap(&h_srv, no_final);
    int fd = h_connect(h_srv.port);
    int64_t t0 = h_now_ms();
    h_cmd(fd, "set plain 0 0 5\r\nhello\r\n", "STORED\r\n");
    h_cmd(fd, "set flagged 4294967295 0 3\r\nabc\r\n", "STORED\r\n");
    h_cmd(fd, "set short 12 3 4\r\nttl3\r\n", "STORED\r\n");
    h_cmd(fd, "set empty 0 0 0\r\n\r\n", "STORED\r\n");
    uint64_t cas_before = 0, cas_after = 0;
    free(h_gets(fd, "flagged", &cas_before));
    uint64_t items = 0, bytes = 0;
    snapshot_ok(fd, &items, &bytes);
    cr_assert_eq(items, 4);
    size_t flen = 0;
    char *file = slurp(snap, &flen);
    cr_assert_not_null(file, "no snapshot file");
    cr_assert_eq(flen, bytes, "reply says %" PRIu64 " bytes, file has %zu", bytes, flen);
    free(file);
    close(fd);
    stop_ok(&h_srv, SIGTERM);

    start_snap(&h_srv, no_final);
    fd = h_connect(h_srv.port);
    cr_assert_eq(h_stat(fd, "snapshot_loaded_items"), 4);
    cr_assert_eq(h_stat(fd, "curr_items"), 4);
    h_cmd(fd, "get plain flagged short empty\r\n",
          "VALUE plain 0 5\r\nhello\r\nVALUE flagged 4294967295 3\r\nabc\r\n"
          "VALUE short 12 4\r\nttl3\r\nVALUE empty 0 0\r\n\r\nEND\r\n");
    char *v = h_gets(fd, "flagged", &cas_after);
    free(v);
    cr_assert_eq(cas_after, cas_before, "CAS %" PRIu64 " became %" PRIu64, cas_before, cas_after);
    /* New CAS values move past the restored ones. */
    h_cmd(fd, "set newer 0 0 1\r\nn\r\n", "STORED\r\n");
    uint64_t cas_new = 0;
    free(h_gets(fd, "newer", &cas_new));
    cr_assert_gt(cas_new, cas_before);
    /* The TTL continued across the restart: gone about 3 s after it was set, not 3 s after loading. */
    int64_t wait = t0 + 4500 - h_now_ms();
    if (wait > 0)
        h_sleep_ms((int)wait);
    h_cmd(fd, "get short\r\n", "END\r\n");
    h_cmd(fd, "get plain\r\n", "VALUE plain 0 5\r\nhello\r\nEND\r\n");
    close(fd);
    stop_ok(&h_srv, SIGTERM);
}

/* ---- writers during a save ---- */

#define WRITERS 8

struct writer {
    int port;
    int id;
    atomic_uint acked; /* keys w<id>-0 .. acked-1 were answered STORED */
    atomic_bool stop;
    bool failed;
    pthread_t thread;
};

static void *writer_main(void *arg)
{
    struct writer *w = arg;
    int fd = h_try_connect(w->port);
    char req[96], ans[8];
    if (fd < 0) {
        w->failed = true;
        return NULL;
    }
    for (unsigned n = 0; !atomic_load(&w->stop); n++) {
        int len = snprintf(req, sizeof(req), "set w%d-%u 0 0 8\r\nvalue%03u\r\n", w->id, n, n % 1000);
        if (send(fd, req, (size_t)len, MSG_NOSIGNAL) != len || h_read_n(fd, ans, 8, 5000) != 8 ||
            memcmp(ans, "STORED\r\n", 8) != 0) {
            w->failed = true;
            break;
        }
        atomic_store(&w->acked, n + 1);
    }
    close(fd);
    return NULL;
}

/* Asserts that keys w<id>-0 .. w<id>-(n-1) are all present. */
static void expect_writer_keys(int fd, int id, unsigned n)
{
    char line[4096];
    for (unsigned from = 0; from < n; from += 100) {
        size_t len = (size_t)snprintf(line, sizeof(line), "get");
        unsigned to = from + 100 < n ? from + 100 : n;
        for (unsigned k = from; k < to; k++)
            len += (size_t)snprintf(line + len, sizeof(line) - len, " w%d-%u", id, k);
        snprintf(line + len, sizeof(line) - len, "\r\n");
        h_sends(fd, line);
        size_t got = 0;
        char *ans = h_read_until(fd, "END\r\n", &got);
        unsigned hits = 0;
        for (const char *p = ans; (p = strstr(p, "VALUE ")) != NULL; p += 6)
            hits++;
        free(ans);
        cr_assert_eq(hits, to - from, "writer %d: %u of keys %u..%u missing after restart", id,
                     to - from - hits, from, to - 1);
    }
}

Test(snapshot, writers_during_save_are_all_in_the_file)
{
    SKIP_FOR_MEMCACHED();
    const char *const extra[] = {"--snapshot-on-shutdown", "no", "-m", "128", NULL};
    start_snap(&h_srv, extra);
    int fd = h_connect(h_srv.port);
    fill(fd, "bulk", 100000);
    static struct writer ws[WRITERS];
    for (int i = 0; i < WRITERS; i++) {
        ws[i].port = h_srv.port;
        ws[i].id = i;
        atomic_init(&ws[i].acked, 0);
        atomic_init(&ws[i].stop, false);
        ws[i].failed = false;
        cr_assert_eq(pthread_create(&ws[i].thread, NULL, writer_main, &ws[i]), 0);
    }
    /* every writer has been acknowledged at least once (bounded; not a fixed sleep: slow machines) */
    for (int64_t end = h_now_ms() + 10000; h_now_ms() < end; h_sleep_ms(10)) {
        int started = 0;
        for (int i = 0; i < WRITERS; i++)
            started += atomic_load(&ws[i].acked) > 0;
        if (started == WRITERS)
            break;
    }
    unsigned before[WRITERS];
    for (int i = 0; i < WRITERS; i++)
        before[i] = atomic_load(&ws[i].acked);
    uint64_t items = 0;
    snapshot_ok(fd, &items, NULL);
    h_sleep_ms(50);
    unsigned during = 0;
    for (int i = 0; i < WRITERS; i++) {
        atomic_store(&ws[i].stop, true);
        pthread_join(ws[i].thread, NULL);
        cr_assert(!ws[i].failed, "writer %d failed (serving stopped during the save?)", i);
        cr_assert_gt(before[i], 0, "writer %d made no progress before the save", i);
        during += atomic_load(&ws[i].acked) - before[i];
    }
    cr_assert_gt(during, 0, "no write was served while the save ran");
    close(fd);
    stop_ok(&h_srv, SIGTERM);

    start_snap(&h_srv, extra);
    fd = h_connect(h_srv.port);
    cr_assert_eq(h_stat(fd, "snapshot_loaded_items"), items);
    for (int i = 0; i < WRITERS; i++)
        expect_writer_keys(fd, i, before[i]);
    close(fd);
    stop_ok(&h_srv, SIGTERM);
}

/* ---- crash and bad files ---- */

Test(snapshot, kill9_mid_save_keeps_previous_file, .timeout = 90)
{
    SKIP_FOR_MEMCACHED();
    const char *const extra[] = {"-m", "256", NULL};
    start_snap(&h_srv, extra);
    int fd = h_connect(h_srv.port);
    fill(fd, "k", 300000);
    uint64_t items = 0;
    snapshot_ok(fd, &items, NULL);
    cr_assert_eq(items, 300000);
    size_t len1 = 0, len2 = 0;
    char *before = slurp(snap, &len1);
    h_cmd(fd, "set after-first-save 0 0 1\r\nx\r\n", "STORED\r\n");
    h_cmd(fd, "snapshot bg\r\n", "OK\r\n");
    bool to;
    pid_t killed = h_srv.pid;
    h_server_stop(&h_srv, SIGKILL, &to);
    close(fd);
    char *after = slurp(snap, &len2);
    cr_assert(after != NULL && len1 == len2 && memcmp(before, after, len1) == 0,
              "the snapshot file changed under a killed save");
    free(before);
    free(after);
    /* The killed save's temporary file (made here if the kill came before it was created) goes at the
     * next start; one named after a live process (this test) may be a save in progress and stays. */
    char dead_tmp[160], live_tmp[160];
    snprintf(dead_tmp, sizeof(dead_tmp), "%s.tmp.%ld", snap, (long)killed);
    snprintf(live_tmp, sizeof(live_tmp), "%s.tmp.%ld", snap, (long)getpid());
    FILE *f = fopen(dead_tmp, "a");
    cr_assert_not_null(f);
    fclose(f);
    f = fopen(live_tmp, "w");
    cr_assert_not_null(f);
    fclose(f);

    start_snap(&h_srv, extra);
    fd = h_connect(h_srv.port);
    cr_assert_eq(access(dead_tmp, F_OK), -1, "%s was not removed", dead_tmp);
    cr_assert_eq(access(live_tmp, F_OK), 0, "%s (a live pid) was removed", live_tmp);
    unlink(live_tmp);
    cr_assert_eq(h_stat(fd, "snapshot_loaded_items"), 300000);
    h_cmd(fd, "get after-first-save\r\n", "END\r\n");
    char *v = h_get(fd, "k299999", NULL);
    cr_assert(v != NULL && strlen(v) == 100);
    free(v);
    close(fd);
    stop_ok(&h_srv, SIGTERM);

    /* The same file under a smaller memory limit: loads what fits and says how many were left out. */
    const char *const small[] = {"-m", "16", "--snapshot-on-shutdown", "no", NULL};
    start_snap(&h_srv, small);
    fd = h_connect(h_srv.port);
    uint64_t loaded = h_stat(fd, "snapshot_loaded_items");
    uint64_t left = h_stat(fd, "snapshot_load_left_out");
    cr_assert(loaded > 0 && left > 0 && loaded + left == 300000, "loaded %" PRIu64 ", left out %" PRIu64,
              loaded, left);
    close(fd);
    stop_ok(&h_srv, SIGTERM);
    cr_assert_not_null(strstr(h_last_log(), "left out"), "no left-out message:\n%s", h_last_log());
}

/* Writes a small valid snapshot (3 items) at snap and returns its bytes. */
static char *make_good_file(size_t *len)
{
    const char *const extra[] = {"--snapshot-on-shutdown", "no", NULL};
    start_snap(&h_srv, extra);
    int fd = h_connect(h_srv.port);
    h_set(fd, "a", "alpha");
    h_set(fd, "b", "beta");
    h_set(fd, "c", "gamma");
    snapshot_ok(fd, NULL, NULL);
    close(fd);
    stop_ok(&h_srv, SIGTERM);
    char *buf = slurp(snap, len);
    cr_assert_not_null(buf);
    return buf;
}

static void write_file(const char *path, const char *buf, size_t len)
{
    FILE *f = fopen(path, "wb");
    cr_assert_not_null(f);
    cr_assert_eq(fwrite(buf, 1, len, f), len);
    fclose(f);
}

/* Starts cairn on the (bad) snapshot without waiting for it to listen; returns its exit status and
 * its output in log (malloc'd). Fails when it is still running after 5 s. */
static int start_expecting_exit(const char *const *extra, char **log)
{
    const char *argv[24];
    char port[16];
    size_t n = 0;
    snprintf(port, sizeof(port), "%d", h_free_port());
    argv[n++] = h_cairn_bin();
    argv[n++] = "-p";
    argv[n++] = port;
    argv[n++] = "-l";
    argv[n++] = "127.0.0.1";
    argv[n++] = "-U";
    argv[n++] = "0";
    if (geteuid() == 0) {
        argv[n++] = "-u";
        argv[n++] = "root";
    }
    argv[n++] = "--snapshot-path";
    argv[n++] = snap;
    for (size_t i = 0; extra != NULL && extra[i] != NULL && n < 23; i++)
        argv[n++] = extra[i];
    argv[n] = NULL;
    s2.log_path[0] = '\0';
    h_spawn_raw(&s2, argv[0], argv);
    int st = 0;
    cr_assert(h_server_wait(&s2, 5000, &st), "server with a bad snapshot did not exit");
    *log = h_server_log(&s2);
    unlink(s2.log_path);
    s2.log_path[0] = '\0';
    return st;
}

enum damage { DAMAGE_TRUNCATE, DAMAGE_FLIP, DAMAGE_MAGIC, DAMAGE_VERSION };

/* Damages the good file, checks the refusal (exit 65, a clear message, the file untouched), then
 * starts with --snapshot-bad-file=set-aside: empty cache, the file renamed to snap.bad-<time>. */
static void bad_file_case(enum damage d, const char *msg)
{
    size_t len = 0;
    char *good = make_good_file(&len);
    switch (d) {
    case DAMAGE_TRUNCATE:
        len -= 10;
        break;
    case DAMAGE_FLIP:
        good[30] ^= 0x01; /* a byte of the first record */
        break;
    case DAMAGE_MAGIC:
        good[0] = 'X';
        break;
    case DAMAGE_VERSION:
        good[8] = 9; /* u32 little-endian at offset 8 */
        break;
    }
    write_file(snap, good, len);
    char *log = NULL;
    int st = start_expecting_exit(NULL, &log);
    cr_assert(WIFEXITED(st) && WEXITSTATUS(st) == 65, "status 0x%x, output:\n%s", (unsigned)st, log);
    cr_assert_not_null(strstr(log, "cannot load"), "output:\n%s", log);
    cr_assert_not_null(strstr(log, msg), "no \"%s\" in output:\n%s", msg, log);
    free(log);
    size_t len2 = 0;
    char *still = slurp(snap, &len2);
    cr_assert(still != NULL && len2 == len && memcmp(still, good, len) == 0, "the bad file was changed");
    free(still);

    const char *const aside[] = {"--snapshot-bad-file", "set-aside", "--snapshot-on-shutdown", "no", NULL};
    start_snap(&h_srv, aside);
    int fd = h_connect(h_srv.port);
    cr_assert_eq(h_stat(fd, "curr_items"), 0);
    close(fd);
    stop_ok(&h_srv, SIGTERM);
    cr_assert_neq(access(snap, F_OK), 0, "the bad file is still at its path");
    DIR *dh = opendir(dir);
    struct dirent *e;
    bool found = false;
    while ((e = readdir(dh)) != NULL) {
        if (strncmp(e->d_name, "cache.snap.bad-", 15) == 0) {
            char path[512];
            snprintf(path, sizeof(path), "%s/%s", dir, e->d_name);
            size_t l3 = 0;
            char *moved = slurp(path, &l3);
            found = moved != NULL && l3 == len && memcmp(moved, good, len) == 0;
            free(moved);
        }
    }
    closedir(dh);
    cr_assert(found, "no cache.snap.bad-<time> with the bad contents");
    cr_assert_not_null(strstr(h_last_log(), "cache.snap.bad-"), "new name not logged:\n%s", h_last_log());
    free(good);
}

Test(snapshot, truncated_file)
{
    SKIP_FOR_MEMCACHED();
    bad_file_case(DAMAGE_TRUNCATE, "truncated");
}

Test(snapshot, flipped_byte)
{
    SKIP_FOR_MEMCACHED();
    bad_file_case(DAMAGE_FLIP, "corrupt");
}

Test(snapshot, wrong_magic)
{
    SKIP_FOR_MEMCACHED();
    bad_file_case(DAMAGE_MAGIC, "magic");
}

Test(snapshot, wrong_version)
{
    SKIP_FOR_MEMCACHED();
    bad_file_case(DAMAGE_VERSION, "version");
}

Test(snapshot, unreadable_file_exits_non_zero)
{
    SKIP_FOR_MEMCACHED();
    cr_assert_eq(mkdir(snap, 0700), 0); /* a directory: open works, read fails */
    char *log = NULL;
    int st = start_expecting_exit(NULL, &log);
    cr_assert(WIFEXITED(st) && WEXITSTATUS(st) == 74, "status 0x%x, output:\n%s", (unsigned)st, log);
    cr_assert_not_null(strstr(log, "cannot load"), "output:\n%s", log);
    free(log);
}

/* ---- failing saves ---- */

/* Asserts a failed save's stats: one failure, the status token, nothing running. */
static void expect_failure_stats(int fd, const char *status)
{
    char val[64];
    cr_assert_eq(h_stat(fd, "snapshot_failures"), 1);
    cr_assert_eq(h_stat(fd, "snapshot_in_progress"), 0);
    stat_text(fd, "snapshot_last_status", val, sizeof(val));
    cr_assert_str_eq(val, status);
}

/* Sends `snapshot` and expects a SERVER_ERROR reply that contains what. */
static void expect_save_error(int fd, const char *what)
{
    h_sends(fd, "snapshot\r\n");
    char *line = h_read_line(fd);
    cr_assert(strncmp(line, "SERVER_ERROR snapshot failed: ", 30) == 0 && strstr(line, what) != NULL,
              "reply: %s", line);
    free(line);
}

Test(snapshot, missing_directory_fails_cleanly)
{
    SKIP_FOR_MEMCACHED();
    snprintf(snap, sizeof(snap), "%s/no-such-dir/cache.snap", dir);
    start_snap(&h_srv, (const char *const[]){"--snapshot-on-shutdown", "no", NULL});
    int fd = h_connect(h_srv.port);
    h_set(fd, "a", "1");
    expect_save_error(fd, "No such file or directory");
    expect_failure_stats(fd, "open_failed");
    h_cmd(fd, "get a\r\n", "VALUE a 0 1\r\n1\r\nEND\r\n");
    close(fd);
    stop_ok(&h_srv, SIGTERM);
    cr_assert_not_null(strstr(h_last_log(), "No such file or directory"), "not logged:\n%s", h_last_log());
}

Test(snapshot, blocked_temp_file_keeps_old_file)
{
    SKIP_FOR_MEMCACHED();
    size_t len = 0;
    char *good = make_good_file(&len);
    start_snap(&h_srv, (const char *const[]){"--snapshot-on-shutdown", "no", NULL});
    char tmp[256];
    snprintf(tmp, sizeof(tmp), "%s.tmp.%d", snap, (int)h_srv.pid);
    cr_assert_eq(mkdir(tmp, 0700), 0); /* the save cannot create its temporary file */
    int fd = h_connect(h_srv.port);
    h_set(fd, "new", "value");
    expect_save_error(fd, "already exists");
    expect_failure_stats(fd, "temp_exists");
    size_t len2 = 0;
    char *now = slurp(snap, &len2);
    cr_assert(now != NULL && len2 == len && memcmp(now, good, len) == 0, "old snapshot changed");
    free(now);
    /* Once the obstacle is gone the next save works. */
    rmdir(tmp);
    snapshot_ok(fd, NULL, NULL);
    char val[32];
    stat_text(fd, "snapshot_last_status", val, sizeof(val));
    cr_assert_str_eq(val, "ok");
    close(fd);
    stop_ok(&h_srv, SIGTERM);
    free(good);
}

/* Waits up to 5 s for port to serve; false if srv exited. */
static bool wait_serving(struct h_server *srv)
{
    int64_t end = h_now_ms() + 5000;
    while (h_now_ms() < end) {
        int fd = h_try_connect(srv->port);
        if (fd >= 0) {
            close(fd);
            return true;
        }
        int st;
        if (h_server_wait(srv, 0, &st))
            return false;
        h_sleep_ms(10);
    }
    return false;
}

Test(snapshot, file_size_limit_fails_cleanly)
{
    SKIP_FOR_MEMCACHED();
    size_t len = 0;
    char *good = make_good_file(&len);
    char port[16];
    s2.port = h_free_port();
    snprintf(port, sizeof(port), "%d", s2.port);
    const char *argv[] = {"/usr/bin/prlimit", "--fsize=200000", h_cairn_bin(), "-p", port, "-l", "127.0.0.1",
                          "-U", "0", "--snapshot-path", snap, "--snapshot-on-shutdown", "no",
                          geteuid() == 0 ? "-u" : NULL, "root", NULL};
    if (access(argv[0], X_OK) != 0)
        cr_skip_test("no prlimit");
    s2.log_path[0] = '\0';
    h_spawn_raw(&s2, argv[0], argv);
    cr_assert(wait_serving(&s2), "server under prlimit did not start");
    int fd = h_connect(s2.port);
    fill(fd, "big", 5000); /* about 650 KB of records */
    expect_save_error(fd, "File too large");
    expect_failure_stats(fd, "write_failed");
    expect_filled(fd, "big0");
    size_t len2 = 0;
    char *now = slurp(snap, &len2);
    cr_assert(now != NULL && len2 == len && memcmp(now, good, len) == 0, "old snapshot changed");
    free(now);
    close(fd);
    stop_ok(&s2, SIGTERM);
    free(good);
}

/* ---- one at a time, triggers ---- */

Test(snapshot, second_request_while_running)
{
    SKIP_FOR_MEMCACHED();
    const char *const extra[] = {"-m", "256", "--snapshot-on-shutdown", "no", NULL};
    start_snap(&h_srv, extra);
    int fd = h_connect(h_srv.port);
    fill(fd, "k", 300000);
    /* bg answers at once; the pipelined second request finds the save running. */
    h_cmd(fd, "snapshot bg\r\nsnapshot\r\n", "OK\r\nSERVER_ERROR snapshot already running\r\n");
    cr_assert_eq(h_stat(fd, "snapshot_in_progress"), 1);
    /* A waiting `snapshot` on one connection; another connection is served meanwhile. */
    int64_t end = h_now_ms() + 10000;
    while (h_stat(fd, "snapshot_in_progress") != 0 && h_now_ms() < end)
        h_sleep_ms(5);
    int waiter = h_connect(h_srv.port);
    h_sends(waiter, "snapshot\r\n");
    end = h_now_ms() + 10000; /* the waiter's save has started (not a fixed sleep: slow machines) */
    while (h_stat(fd, "snapshot_in_progress") != 1 && h_now_ms() < end)
        h_sleep_ms(1);
    h_cmd(fd, "snapshot bg\r\n", "SERVER_ERROR snapshot already running\r\n");
    expect_filled(fd, "k1");
    char *line = h_read_line(waiter);
    cr_assert(strncmp(line, "SNAPSHOT 300000 ", 16) == 0, "reply: %s", line);
    free(line);
    cr_assert_eq(h_stat(fd, "snapshot_saves"), 2);
    /* A waiting client that goes away: the reply is dropped, the server carries on. */
    h_sends(waiter, "snapshot\r\n");
    close(waiter);
    end = h_now_ms() + 10000;
    while (h_stat(fd, "snapshot_saves") != 3 && h_now_ms() < end)
        h_sleep_ms(5);
    cr_assert_eq(h_stat(fd, "snapshot_saves"), 3);
    h_cmd(fd, "get nothing\r\n", "END\r\n");
    close(fd);
    stop_ok(&h_srv, SIGTERM);
}

Test(snapshot, periodic_saves)
{
    SKIP_FOR_MEMCACHED();
    const char *const extra[] = {"--snapshot-interval", "1", "--snapshot-on-shutdown", "no", NULL};
    start_snap(&h_srv, extra);
    int fd = h_connect(h_srv.port);
    h_set(fd, "p", "1");
    int64_t end = h_now_ms() + 5000;
    while (h_stat(fd, "snapshot_saves") < 2 && h_now_ms() < end)
        h_sleep_ms(50);
    cr_assert_geq(h_stat(fd, "snapshot_saves"), 2, "fewer than 2 periodic saves in 5 s");
    cr_assert_eq(h_stat(fd, "snapshot_last_items"), 1);
    cr_assert_gt(h_stat(fd, "snapshot_last_time"), 0);
    cr_assert_eq(access(snap, F_OK), 0);
    close(fd);
    stop_ok(&h_srv, SIGTERM);
}

Test(snapshot, save_on_sigterm_and_not_when_off)
{
    SKIP_FOR_MEMCACHED();
    start_snap(&h_srv, NULL);
    int fd = h_connect(h_srv.port);
    h_set(fd, "kept", "across");
    close(fd);
    cr_assert_neq(access(snap, F_OK), 0);
    stop_ok(&h_srv, SIGTERM);
    cr_assert_eq(access(snap, F_OK), 0, "no snapshot written on SIGTERM");

    const char *const off[] = {"--snapshot-on-shutdown", "no", NULL};
    start_snap(&h_srv, off);
    fd = h_connect(h_srv.port);
    cr_assert_eq(h_stat(fd, "snapshot_loaded_items"), 1);
    char *v = h_get(fd, "kept", NULL);
    cr_assert(v != NULL && strcmp(v, "across") == 0);
    free(v);
    h_set(fd, "not-saved", "x");
    close(fd);
    stop_ok(&h_srv, SIGTERM);

    /* `shutdown` (with -A) saves too; the previous run with "no" did not. */
    const char *const with_a[] = {"-A", NULL};
    start_snap(&h_srv, with_a);
    fd = h_connect(h_srv.port);
    h_cmd(fd, "get not-saved\r\n", "END\r\n");
    h_set(fd, "by-shutdown", "y");
    h_sends(fd, "shutdown\r\n");
    int st = 0;
    cr_assert(h_server_wait(&h_srv, 5000, &st) && WIFEXITED(st) && WEXITSTATUS(st) == 0);
    close(fd);
    start_snap(&h_srv, off);
    fd = h_connect(h_srv.port);
    cr_assert_eq(h_stat(fd, "snapshot_loaded_items"), 2);
    close(fd);
    stop_ok(&h_srv, SIGTERM);
}

Test(snapshot, failed_final_save_exits_non_zero)
{
    SKIP_FOR_MEMCACHED();
    snprintf(snap, sizeof(snap), "%s/no-such-dir/cache.snap", dir);
    start_snap(&h_srv, NULL);
    bool to;
    int st = h_server_stop(&h_srv, SIGTERM, &to);
    cr_assert(!to && WIFEXITED(st) && WEXITSTATUS(st) == 74, "status 0x%x:\n%s", (unsigned)st, h_last_log());
    cr_assert_not_null(strstr(h_last_log(), "final save failed"), "output:\n%s", h_last_log());
}

Test(snapshot, bad_option_values)
{
    SKIP_FOR_MEMCACHED();
    static const char *const cases[][3] = {
        {"--snapshot-on-shutdown", "maybe", "yes or no"},
        {"--snapshot-bad-file", "delete", "fail or set-aside"},
        {"--snapshot-interval", "-1", "Snapshot interval"},
        {"--snapshot-interval", "10x", "Snapshot interval"},
    };
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        const char *const extra[] = {cases[i][0], cases[i][1], NULL};
        char *log = NULL;
        int st = start_expecting_exit(extra, &log);
        cr_assert(WIFEXITED(st) && WEXITSTATUS(st) == 64, "%s %s: status 0x%x", cases[i][0], cases[i][1],
                  (unsigned)st);
        cr_assert_not_null(strstr(log, cases[i][2]), "%s %s: output:\n%s", cases[i][0], cases[i][1], log);
        free(log);
    }
}

/* ---- hardened files (the robustness findings) ---- */

/* A one-record-plus-one snapshot at path, format version 2, built byte by byte: record "other" =
 * "fine" (text), then key (nkey bytes, tag 1 text or 2 binary) = "val" with the given CAS. */
static void craft_snapshot(const char *path, const char *key, size_t nkey, unsigned tag, uint64_t cas)
{
    unsigned char b[1024];
    size_t n = 0;
    uint64_t now = (uint64_t)time(NULL), h;
#define PUT(v, w)                                                                                            \
    do {                                                                                                     \
        for (unsigned i_ = 0; i_ < (w); i_++)                                                                \
            b[n++] = (unsigned char)((uint64_t)(v) >> (8 * i_));                                             \
    } while (0)
    memcpy(b, "CAIRNSNP", 8);
    n = 8;
    PUT(2, 4);       /* version */
    PUT(0, 4);       /* flags */
    PUT(now, 8);     /* created */
    PUT(1u << 20, 4); /* item size limit */
    PUT(1, 1);
    PUT(5, 1);
    PUT(0, 4);
    PUT(0, 8);
    PUT(77, 8);
    PUT(4, 4);
    memcpy(b + n, "otherfine", 9);
    n += 9;
    PUT(tag, 1);
    PUT(nkey, 1);
    PUT(3, 4);  /* client flags */
    PUT(0, 8);  /* expiry: never */
    PUT(cas, 8);
    PUT(3, 4);
    memcpy(b + n, key, nkey);
    n += nkey;
    memcpy(b + n, "val", 3);
    n += 3;
    h = XXH3_64bits(b, n);
    memcpy(b + n, "\xffSNAPEND", 8);
    n += 8;
    PUT(2, 8);
    PUT(h, 8);
#undef PUT
    write_file(path, (const char *)b, n);
}

/* Starts on the snapshot at snap expecting exit status want and what in the output. */
static void expect_start_refused(const char *const *extra, int want, const char *what)
{
    char *log = NULL;
    int st = start_expecting_exit(extra, &log);
    cr_assert(WIFEXITED(st) && WEXITSTATUS(st) == want, "status 0x%x (want %d), output:\n%s", (unsigned)st,
              want, log);
    cr_assert_not_null(strstr(log, what), "no \"%s\" in output:\n%s", what, log);
    free(log);
}

Test(snapshot, planted_symlink_at_temp_name_is_not_followed)
{
    SKIP_FOR_MEMCACHED();
    size_t len = 0;
    char *good = make_good_file(&len);
    char target[160], tmp[256];
    snprintf(target, sizeof(target), "%s/victim", dir);
    write_file(target, "precious", 8);
    start_snap(&h_srv, (const char *const[]){"--snapshot-on-shutdown", "no", NULL});
    snprintf(tmp, sizeof(tmp), "%s.tmp.%d", snap, (int)h_srv.pid);
    cr_assert_eq(symlink(target, tmp), 0);
    int fd = h_connect(h_srv.port);
    h_set(fd, "new", "value");
    expect_save_error(fd, "already exists");
    expect_failure_stats(fd, "temp_exists");
    size_t tlen = 0;
    char *t = slurp(target, &tlen);
    cr_assert(t != NULL && tlen == 8 && memcmp(t, "precious", 8) == 0, "the link's target was written");
    free(t);
    struct stat sb;
    cr_assert(lstat(tmp, &sb) == 0 && S_ISLNK(sb.st_mode), "the planted link was removed or replaced");
    size_t len2 = 0;
    char *now = slurp(snap, &len2);
    cr_assert(now != NULL && len2 == len && memcmp(now, good, len) == 0, "old snapshot changed");
    free(now);
    cr_assert_eq(unlink(tmp), 0);
    snapshot_ok(fd, NULL, NULL);
    close(fd);
    stop_ok(&h_srv, SIGTERM);
    cr_assert_not_null(strstr(h_last_log(), "temp_exists"), "not logged:\n%s", h_last_log());
    free(good);
}

Test(snapshot, symlink_at_snapshot_path_refused)
{
    SKIP_FOR_MEMCACHED();
    size_t len = 0;
    char *good = make_good_file(&len);
    char real[160];
    snprintf(real, sizeof(real), "%s/real.snap", dir);
    cr_assert_eq(rename(snap, real), 0);
    cr_assert_eq(symlink(real, snap), 0);
    /* at start: exit 74 (not a bad file to set aside: the path is wrong), even with set-aside */
    expect_start_refused(NULL, 74, "symbolic link");
    expect_start_refused((const char *const[]){"--snapshot-bad-file", "set-aside", NULL}, 74, "symbolic link");
    struct stat sb;
    cr_assert(lstat(snap, &sb) == 0 && S_ISLNK(sb.st_mode), "the link was changed");
    /* a save to a path that became a link is refused, the link and its target left alone */
    cr_assert_eq(unlink(snap), 0);
    start_snap(&h_srv, (const char *const[]){"--snapshot-on-shutdown", "no", NULL});
    cr_assert_eq(symlink(real, snap), 0);
    int fd = h_connect(h_srv.port);
    expect_save_error(fd, "symbolic link");
    expect_failure_stats(fd, "symlink_refused");
    close(fd);
    stop_ok(&h_srv, SIGTERM);
    cr_assert(lstat(snap, &sb) == 0 && S_ISLNK(sb.st_mode), "the link was replaced by a file");
    size_t len2 = 0;
    char *still = slurp(real, &len2);
    cr_assert(still != NULL && len2 == len && memcmp(still, good, len) == 0, "the link's target changed");
    free(still);
    free(good);
}

Test(snapshot, file_mode_0600)
{
    SKIP_FOR_MEMCACHED();
    start_snap(&h_srv, (const char *const[]){"--snapshot-on-shutdown", "no", NULL});
    int fd = h_connect(h_srv.port);
    h_set(fd, "a", "1");
    snapshot_ok(fd, NULL, NULL);
    close(fd);
    stop_ok(&h_srv, SIGTERM);
    struct stat sb;
    cr_assert_eq(stat(snap, &sb), 0);
    cr_assert_eq(sb.st_mode & 07777, 0600, "mode %o", (unsigned)(sb.st_mode & 07777));
}

Test(snapshot, loaded_cas_bound)
{
    SKIP_FOR_MEMCACHED();
    /* 2^63 - 1, the largest accepted: loads, and new items never get CAS 0 */
    const uint64_t top = (1ull << 63) - 1;
    craft_snapshot(snap, "big", 3, 1, top);
    const char *const off[] = {"--snapshot-on-shutdown", "no", NULL};
    start_snap(&h_srv, off);
    int fd = h_connect(h_srv.port);
    cr_assert_eq(h_stat(fd, "snapshot_loaded_items"), 2);
    uint64_t cas = 0;
    free(h_gets(fd, "big", &cas));
    cr_assert_eq(cas, top, "loaded CAS %" PRIu64, cas);
    for (int i = 0; i < 3; i++) {
        h_set(fd, "after", "x");
        free(h_gets(fd, "after", &cas));
        cr_assert_neq(cas, 0, "a new item got CAS 0 after the loaded maximum");
    }
    close(fd);
    stop_ok(&h_srv, SIGTERM);
    /* 2^64 - 1 (checksum valid): refused at start, exit 65; set aside, the cache starts empty */
    craft_snapshot(snap, "big", 3, 1, UINT64_MAX);
    expect_start_refused(NULL, 65, "CAS");
    start_snap(&h_srv, (const char *const[]){"--snapshot-bad-file", "set-aside", "--snapshot-on-shutdown", "no",
                                             NULL});
    fd = h_connect(h_srv.port);
    cr_assert_eq(h_stat(fd, "curr_items"), 0);
    char val[64];
    stat_text(fd, "snapshot_load_status", val, sizeof(val));
    cr_assert_str_eq(val, "cas_out_of_range");
    close(fd);
    stop_ok(&h_srv, SIGTERM);
}

Test(snapshot, keys_with_bad_bytes_refused_at_start)
{
    SKIP_FOR_MEMCACHED();
    static const struct {
        const char *key;
        size_t nkey;
    } bad[] = {{"a\rb", 3}, {"a\nb", 3}, {"a b", 3}, {"a\0b", 3}, {"a\x7f", 2}};
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        craft_snapshot(snap, bad[i].key, bad[i].nkey, 1, 5);
        size_t len = 0;
        char *before = slurp(snap, &len);
        expect_start_refused(NULL, 65, "control character");
        size_t len2 = 0;
        char *after = slurp(snap, &len2);
        cr_assert(after != NULL && len2 == len && memcmp(after, before, len) == 0, "the bad file was changed");
        free(before);
        free(after);
    }
    /* the same bytes in a binary key (meta b) are fine, and the mark survives a restart */
    craft_snapshot(snap, "a b", 3, 2, 5);
    const char *const off[] = {"--snapshot-on-shutdown", "no", NULL};
    start_snap(&h_srv, off);
    int fd = h_connect(h_srv.port);
    cr_assert_eq(h_stat(fd, "snapshot_loaded_items"), 2);
    char val[64];
    stat_text(fd, "snapshot_load_status", val, sizeof(val));
    cr_assert_str_eq(val, "ok");
    h_sends(fd, "mg YSBi b k v\r\n"); /* base64 of "a b" */
    char *line = h_read_line(fd);
    cr_assert(strncmp(line, "VA 3 ", 5) == 0 && strstr(line, "kYSBi") != NULL, "reply: %s", line);
    free(line);
    h_expect(fd, "val\r\n");
    h_cmd(fd, "ms Yw== 2 b\r\nhi\r\n", "HD\r\n"); /* "c", stored binary */
    snapshot_ok(fd, NULL, NULL);
    close(fd);
    stop_ok(&h_srv, SIGTERM);
    start_snap(&h_srv, off);
    fd = h_connect(h_srv.port);
    h_sends(fd, "mg c k v\r\n"); /* the item decides: a binary key shows encoded */
    line = h_read_line(fd);
    cr_assert(strncmp(line, "VA 2 ", 5) == 0 && strstr(line, "kYw== b") != NULL, "reply: %s", line);
    free(line);
    h_expect(fd, "hi\r\n");
    close(fd);
    stop_ok(&h_srv, SIGTERM);
}

/* A pid that no longer exists: a child that exited and was reaped. */
static pid_t dead_pid(void)
{
    pid_t p = fork();
    cr_assert_geq(p, 0);
    if (p == 0)
        _exit(0);
    cr_assert_eq(waitpid(p, NULL, 0), p);
    return p;
}

Test(snapshot, stale_temp_files_removed_by_exact_name_only)
{
    SKIP_FOR_MEMCACHED();
    char target[160], names[5][256];
    snprintf(target, sizeof(target), "%s/victim", dir);
    write_file(target, "precious", 8);
    pid_t p = dead_pid();
    snprintf(names[0], sizeof(names[0]), "%s.tmp.%d", snap, (int)p);          /* removed */
    snprintf(names[1], sizeof(names[1]), "%s.tmp.%d", snap, (int)dead_pid()); /* a link: removed, target kept */
    snprintf(names[2], sizeof(names[2]), "%s.tmp.%dx", snap, (int)p);         /* kept: not the pattern */
    snprintf(names[3], sizeof(names[3]), "%s.tmp.0%d", snap, (int)p);         /* kept: not the pattern */
    snprintf(names[4], sizeof(names[4]), "%s.tmp.+%d", snap, (int)p);         /* kept: not the pattern */
    for (int i = 0; i < 5; i++) {
        if (i == 1)
            cr_assert_eq(symlink(target, names[i]), 0);
        else
            write_file(names[i], "x", 1);
    }
    start_snap(&h_srv, (const char *const[]){"--snapshot-on-shutdown", "no", NULL});
    stop_ok(&h_srv, SIGTERM);
    struct stat sb;
    cr_assert_neq(lstat(names[0], &sb), 0, "%s stayed", names[0]);
    cr_assert_neq(lstat(names[1], &sb), 0, "%s stayed", names[1]);
    for (int i = 2; i < 5; i++)
        cr_assert_eq(lstat(names[i], &sb), 0, "%s was removed", names[i]);
    size_t tlen = 0;
    char *t = slurp(target, &tlen);
    cr_assert(t != NULL && tlen == 8 && memcmp(t, "precious", 8) == 0, "the link's target was touched");
    free(t);
}
