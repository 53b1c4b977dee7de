/*
 * test_metrics.c: --metrics-port. GET /metrics is Prometheus's text exposition of the same figures
 * `stats` shows (each `stats` counter has its cairn_ twin with the same value once traffic stops),
 * with HELP and TYPE lines, per-class gauges and connections by protocol; Debian's promtool and
 * python3-prometheus-client accept it (each checked when installed). GET /healthz answers ok; other
 * paths 404, other methods 405; the server keeps serving its clients meanwhile.
 */
#include "config.h"

#include "tests/integration/harness.h"

#include <criterion/criterion.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

static int metrics_port;

static void metrics_setup(void)
{
    if (h_target_is_memcached())
        return;
    char port[16];
    metrics_port = h_free_port();
    snprintf(port, sizeof(port), "%d", metrics_port);
    const char *const extra[] = {"--metrics-port", port, NULL};
    h_server_start(&h_srv, extra);
}

static void metrics_teardown(void)
{
    if (!h_target_is_memcached())
        h_teardown();
}

TestSuite(metrics, .init = metrics_setup, .fini = metrics_teardown, .timeout = 60);

/* One HTTP/1.1 request (Connection: close); the whole answer (headers and body, malloc'd). */
static char *http(const char *method, const char *path)
{
    int fd = h_connect(metrics_port);
    char req[256];
    snprintf(req, sizeof(req), "%s %s HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n\r\n", method, path);
    h_sends(fd, req);
    size_t len;
    bool closed;
    char *all = h_read_idle(fd, 2000, &len, &closed);
    close(fd);
    return all;
}

/* The body after the blank line. */
static const char *body_of(const char *all)
{
    const char *b = strstr(all, "\r\n\r\n");
    cr_assert(b != NULL, "no header end in:\n%s", all);
    return b + 4;
}

/* The value of the sample `name` (no labels) in an exposition; false when absent. */
static bool sample(const char *text, const char *name, double *v)
{
    size_t n = strlen(name);
    for (const char *p = text; p != NULL && *p != '\0'; p = strchr(p, '\n'), p = p ? p + 1 : NULL) {
        if (strncmp(p, name, n) == 0 && p[n] == ' ') {
            *v = strtod(p + n + 1, NULL);
            return true;
        }
    }
    return false;
}

Test(metrics, figures_match_stats)
{
    if (h_target_is_memcached())
        return; /* memcached has no metrics port */
    int fd = h_connect(h_srv.port);
    h_set(fd, "m:a", "1");
    h_set(fd, "m:b", "22");
    h_cmd(fd, "get m:a m:b m:c\r\n", "VALUE m:a 0 1\r\n1\r\nVALUE m:b 0 2\r\n22\r\nEND\r\n");
    h_cmd(fd, "delete m:zz\r\n", "NOT_FOUND\r\n");
    h_cmd(fd, "incr m:a 5\r\n", "6\r\n");
    char *stats = h_stats_raw(fd, NULL);
    char *all = http("GET", "/metrics");
    cr_assert(strncmp(all, "HTTP/1.1 200 OK\r\n", 17) == 0, "%s", all);
    cr_assert(strstr(all, "Content-Type: text/plain; version=0.0.4") != NULL, "%s", all);
    const char *text = body_of(all);

    /* every counter of memcached's commands block, with the same value */
    static const char *const names[] = {"cmd_get",      "cmd_set",       "get_hits",   "get_misses",
                                        "delete_misses", "incr_hits",    "auth_cmds",  "auth_errors",
                                        "total_items",  "curr_items",    "evictions",
                                        "bytes",        "limit_maxbytes"};
    static const char *const prom[] = {"cairn_cmd_get_total",   "cairn_cmd_set_total",       "cairn_get_hits_total",
                                       "cairn_get_misses_total", "cairn_delete_misses_total", "cairn_incr_hits_total",
                                       "cairn_auth_cmds_total", "cairn_auth_errors_total",  "cairn_items_stored_total",
                                       "cairn_items",           "cairn_evictions_total",
                                       "cairn_bytes",           "cairn_limit_bytes"};
    for (size_t i = 0; i < sizeof(names) / sizeof(names[0]); i++) {
        char val[64];
        double v;
        cr_assert(h_stat_find(stats, names[i], val, sizeof(val)), "stats lacks %s", names[i]);
        cr_assert(sample(text, prom[i], &v), "/metrics lacks %s", prom[i]);
        cr_expect_eq((uint64_t)v, strtoull(val, NULL, 10), "%s %s vs %s %.0f", names[i], val, prom[i], v);
    }
    double v;
    cr_expect(sample(text, "cairn_cmd_get_total", &v) && v == 3, "three keys asked for");
    cr_expect(strstr(text, "# TYPE cairn_cmd_get_total counter\n") != NULL);
    cr_expect(strstr(text, "# HELP cairn_items ") != NULL);
    cr_expect(strstr(text, "# TYPE cairn_items gauge\n") != NULL);
    cr_expect(strstr(text, "cairn_connections_by_protocol{protocol=\"memcache_text\"} ") != NULL, "%s", text);
    cr_expect(strstr(text, "cairn_class_items{class=\"") != NULL, "per-class gauges:\n%s", text);
    cr_expect(strstr(text, "cairn_build_info{version=\"" PACKAGE_VERSION "\"") != NULL);
    free(stats);
    free(all);
    close(fd);
}

/* `stats` lines that are not figures of their own in /metrics: identity, time, placeholders for
 * machinery cairn does not have (always 0), and figures /metrics shows in another form. */
static const char *const not_metrics[] = {"pid",
                                          "time",
                                          "version",
                                          "libevent",
                                          "pointer_size",
                                          "rusage_user",
                                          "rusage_system", /* process */
                                          "response_obj_count",
                                          "response_obj_bytes",
                                          "read_buf_count",
                                          "read_buf_bytes_free",
                                          "reserved_fds",
                                          "time_in_listen_disabled_us",
                                          "slab_reassign_chunk_rescues",
                                          "slab_reassign_evictions_nomem",
                                          "slab_reassign_inline_reclaim",
                                          "slab_reassign_busy_deletes",
                                          "slab_reassign_running",
                                          "lru_crawler_running",
                                          "lru_crawler_starts",
                                          "lru_maintainer_juggles",
                                          "malloc_fails",
                                          "log_worker_dropped",
                                          "log_worker_written",
                                          "log_watcher_skipped",
                                          "log_watcher_sent",
                                          "log_watchers",
                                          "unexpected_napi_ids",
                                          "round_robin_fallback",
                                          "crawler_reclaimed",
                                          "crawler_items_checked",
                                          "lrutail_reflocked",
                                          "moves_to_cold",
                                          "moves_to_warm",
                                          "moves_within_lru",
                                          "direct_reclaims",
                                          "lru_bumps_dropped",
                                          "snapshot_last_status",
                                          "snapshot_load_status"};

static bool listed(const char *name)
{
    for (size_t i = 0; i < sizeof(not_metrics) / sizeof(not_metrics[0]); i++)
        if (strcmp(not_metrics[i], name) == 0)
            return true;
    return false;
}

/* Every line of `stats` and `stats clients` is a figure of /metrics, named in its HELP, unless it is
 * one of the few listed above: a counter added to `stats` without the table fails here. */
static void expect_stats_lines_are_metrics(int fd, const char *text)
{
    const char *groups[] = {NULL, "clients"};
    for (size_t g = 0; g < 2; g++) {
        char *stats = h_stats_raw(fd, groups[g]);
        for (char *p = stats; (p = strstr(p, "STAT ")) != NULL;) {
            p += 5;
            size_t n = strcspn(p, " ");
            char name[128], needle[160];
            snprintf(name, sizeof(name), "%.*s", (int)n, p);
            if (listed(name))
                continue;
            snprintf(needle, sizeof(needle), "(stats: %s)\n", name);
            cr_expect(strstr(text, needle) != NULL, "`stats%s%s` line %s has no metric", groups[g] ? " " : "",
                      groups[g] ? groups[g] : "", name);
        }
        free(stats);
    }
}

/* The other way: every memcached name of the table (the "(stats: name)" of a HELP line) is a line
 * of `stats` or `stats clients` (or `stats slabs`, for memcached's total_malloced), so that no figure
 * of the table is left out of memcached's view. Returns how many names were checked. */
static size_t expect_metrics_are_stats_lines(int fd, const char *text)
{
    char *general = h_stats_raw(fd, NULL), *clients = h_stats_raw(fd, "clients"),
         *slabs = h_stats_raw(fd, "slabs");
    size_t checked = 0;
    for (const char *p = text; (p = strstr(p, "(stats: ")) != NULL; checked++) {
        p += 8;
        size_t n = strcspn(p, ")");
        char line[160];
        snprintf(line, sizeof(line), "STAT %.*s ", (int)n, p);
        cr_expect(strstr(general, line) != NULL || strstr(clients, line) != NULL ||
                      strstr(slabs, line) != NULL,
                  "the table's %.*s is in none of `stats`, `stats clients` and `stats slabs`", (int)n, p);
    }
    free(general);
    free(clients);
    free(slabs);
    return checked;
}

Test(metrics, every_stats_line_is_a_metric)
{
    if (h_target_is_memcached())
        return;
    int fd = h_connect(h_srv.port);
    char *all = http("GET", "/metrics");
    expect_stats_lines_are_metrics(fd, body_of(all));
    free(all);
    close(fd);
}

/* Both ways, with every optional line on (--snapshot-path, -o idle_timeout): the table's memcached
 * names and the lines of `stats` and `stats clients` are the same set, less the listed lines. */
Test(metrics, every_metric_is_a_stats_line)
{
    if (h_target_is_memcached())
        return;
    char dir[] = "/tmp/cairn-metrics-snap-XXXXXX", snap[64], port[16];
    cr_assert(mkdtemp(dir) != NULL);
    snprintf(snap, sizeof(snap), "%s/snap", dir);
    h_teardown();
    metrics_port = h_free_port();
    snprintf(port, sizeof(port), "%d", metrics_port);
    const char *const extra[] = {"--metrics-port",   port, "--snapshot-path", snap, "-o",
                                 "idle_timeout=600", NULL};
    h_server_start(&h_srv, extra);
    int fd = h_connect(h_srv.port);
    char *all = http("GET", "/metrics");
    const char *text = body_of(all);
    cr_expect_gt(expect_metrics_are_stats_lines(fd, text), 80, "the table names most `stats` lines");
    expect_stats_lines_are_metrics(fd, text);
    char *stats = h_stats_raw(fd, NULL);
    cr_expect(strstr(stats, "STAT snapshot_load_left_out ") != NULL &&
                  strstr(stats, "STAT idle_kicks ") != NULL,
              "%s", stats);
    free(stats);
    free(all);
    close(fd);
    h_teardown();
    unlink(snap);
    rmdir(dir);
}

/* Writes s to a new temporary file; its path (static). */
static const char *to_file(const char *s)
{
    static char path[64];
    snprintf(path, sizeof(path), "/tmp/cairn-metrics-XXXXXX");
    int fd = mkstemp(path);
    cr_assert(fd >= 0);
    cr_assert(write(fd, s, strlen(s)) == (ssize_t)strlen(s));
    close(fd);
    return path;
}

Test(metrics, promtool_and_python_client_accept_it)
{
    if (h_target_is_memcached())
        return;
    int fd = h_connect(h_srv.port);
    h_set(fd, "m:x", "x");
    int rfd = h_connect(h_srv.port); /* RESP on the same port: an error reply by code (INFO errorstats) */
    h_cmd(rfd, "*1\r\n$3\r\nGET\r\n", "-ERR wrong number of arguments for 'get' command\r\n");
    close(rfd);
    char *all = http("GET", "/metrics");
    cr_expect(strstr(body_of(all), "\ncairn_resp_errors_by_code_total{code=\"ERR\"} 1\n") != NULL, "%s", all);
    const char *path = to_file(body_of(all));
    char cmd[1024];
    if (access("/usr/bin/promtool", X_OK) == 0) {
        snprintf(cmd, sizeof(cmd), "promtool check metrics < %s > %s.out 2>&1", path, path);
        int rc = system(cmd);
        snprintf(cmd, sizeof(cmd), "cat %s.out", path);
        cr_expect_eq(rc, 0, "promtool check metrics failed (see the lines above)");
        if (rc != 0)
            (void)system(cmd);
    } else {
        cr_log_warn("promtool (Debian package prometheus) is not installed: not checked");
    }
    snprintf(cmd, sizeof(cmd),
             "/usr/bin/python3 -c 'import prometheus_client' 2>/dev/null && /usr/bin/python3 -c "
             "\"import sys; from prometheus_client.parser import text_string_to_metric_families as f; "
             "fams = list(f(open(sys.argv[1]).read())); "
             "names = {s.name for m in fams for s in m.samples}; "
             "assert 'cairn_cmd_set_total' in names and 'cairn_class_pages' in names, names; "
             "assert len(fams) > 50, len(fams)\" %s",
             path);
    cr_expect_eq(system(cmd), 0, "python3-prometheus-client could not parse /metrics");
    snprintf(cmd, sizeof(cmd), "%s.out", path);
    unlink(cmd);
    unlink(path);
    free(all);
    close(fd);
}

Test(metrics, healthz_and_errors)
{
    if (h_target_is_memcached())
        return;
    char *all = http("GET", "/healthz");
    cr_expect(strncmp(all, "HTTP/1.1 200 OK\r\n", 17) == 0, "%s", all);
    cr_expect_str_eq(body_of(all), "ok\n");
    free(all);
    all = http("GET", "/nothing");
    cr_expect(strncmp(all, "HTTP/1.1 404 ", 13) == 0, "%s", all);
    free(all);
    all = http("DELETE", "/metrics");
    cr_expect(strncmp(all, "HTTP/1.1 405 ", 13) == 0, "%s", all);
    cr_expect(strstr(all, "Allow: GET, HEAD\r\n") != NULL, "%s", all);
    free(all);
    all = http("GARBAGE", "/");
    cr_expect(strncmp(all, "HTTP/1.1 501 ", 13) == 0, "an unknown method: %s", all);
    free(all);
    /* the cache still serves */
    int fd = h_connect(h_srv.port);
    h_cmd(fd, "version\r\n", "VERSION 1.6.18-" PACKAGE_NAME "-" PACKAGE_VERSION "\r\n");
    close(fd);
}

/* `stats hotkeys`: the keys a skewed mix uses most, URL-encoded, most used first; `stats reset`
 * forgets them. */
Test(metrics, stats_hotkeys)
{
    if (h_target_is_memcached())
        return; /* cairn's own group */
    int fd = h_connect(h_srv.port);
    char key[32], req[64];
    for (int i = 0; i < 20; i++) {
        snprintf(key, sizeof(key), "hk:%d", i);
        h_set(fd, key, "v");
    }
    h_set(fd, "hk:hot", "v");
    for (int i = 0; i < 3000; i++) {
        snprintf(req, sizeof(req), "get hk:hot hk:%d\r\n", i % 20);
        h_sends(fd, req);
        size_t len;
        free(h_read_until(fd, "END\r\n", &len));
    }
    char *st = h_stats_raw(fd, "hotkeys");
    cr_expect(strstr(st, "STAT hotkeys_sample_rate 16\r\n") != NULL, "%s", st);
    const char *first = strstr(st, "STAT hotkey:1 key=hk%3Ahot accesses=");
    cr_assert(first != NULL, "the hot key first:\n%s", st);
    unsigned long acc = strtoul(first + strlen("STAT hotkey:1 key=hk%3Ahot accesses="), NULL, 10);
    cr_expect(acc > 2000 && acc < 4500, "about 3000 reads estimated: %lu", acc);
    free(st);
    char *all = http("GET", "/metrics");
    cr_expect(strstr(all, "cairn_hotkey_accesses{rank=\"1\",key=\"hk%3Ahot\"} ") != NULL, "%s", all);
    free(all);
    h_cmd(fd, "stats reset\r\n", "RESET\r\n");
    st = h_stats_raw(fd, "hotkeys");
    cr_expect_str_eq(st, "STAT hotkeys_sample_rate 16\r\nEND\r\n");
    free(st);
    close(fd);
}
