/*
 * test_status.c: the status page of --metrics-port. GET / is server/status_page.html byte for byte, as
 * text/html with a policy that forbids anything from elsewhere; GET /stats.json is valid JSON (checked
 * by Python's json module) whose figures equal `stats`, whose history gains a sample a second, whose
 * hit ratio follows the lookups and whose slab classes hold the items; hot_keys is a list, latency null
 * until the server collects them. HEAD answers the headers alone (the connection stays usable);
 * other methods 405. tests/integration/test_status_page.py checks the page itself in a browser.
 */
#include "config.h"

#include "tests/integration/harness.h"

#include <criterion/criterion.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

/* More than the history holds (300 samples). */
#define STATUS_CAP 400

static int metrics_port;

static void status_setup(void)
{
    if (h_target_is_memcached())
        return;
    char port[16];
    metrics_port = h_free_port();
    snprintf(port, sizeof(port), "%d", metrics_port);
    const char *const extra[] = {"--metrics-port", port, NULL};
    h_server_start(&h_srv, extra);
}

static void status_teardown(void)
{
    if (!h_target_is_memcached())
        h_teardown();
}

TestSuite(status, .init = status_setup, .fini = status_teardown, .timeout = 60);

/* One HTTP/1.1 request (Connection: close); the whole answer (headers and body, malloc'd), its
 * length in *len. */
static char *http_len(const char *method, const char *path, size_t *len)
{
    int fd = h_connect(metrics_port);
    char req[256];
    snprintf(req, sizeof(req), "%s %s HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n\r\n", method,
             path);
    h_sends(fd, req);
    bool closed;
    char *all = h_read_idle(fd, 2000, len, &closed);
    cr_assert(closed, "the server kept the connection after Connection: close");
    close(fd);
    return all;
}

static char *http(const char *method, const char *path)
{
    size_t len;
    return http_len(method, path, &len);
}

/* The body after the blank line. */
static const char *body_of(const char *all)
{
    const char *b = strstr(all, "\r\n\r\n");
    cr_assert(b != NULL, "no header end in:\n%s", all);
    return b + 4;
}

/* The number after `"name":` at or after from; fails the test when absent. */
static double json_num(const char *from, const char *name)
{
    char needle[128];
    snprintf(needle, sizeof(needle), "\"%s\":", name);
    const char *p = strstr(from, needle);
    cr_assert(p != NULL, "no %s in %s", needle, from);
    return strtod(p + strlen(needle), NULL);
}

/* The array after `"name":[` in the history: its elements' text, count in *n (at most cap). */
static void json_array(const char *doc, const char *name, char out[][32], size_t cap, size_t *n)
{
    char needle[128];
    snprintf(needle, sizeof(needle), "\"%s\":[", name);
    const char *p = strstr(strstr(doc, "\"history\":"), needle);
    cr_assert(p != NULL, "no %s in the history", name);
    p += strlen(needle);
    *n = 0;
    while (*p != ']') {
        size_t k = strcspn(p, ",]");
        cr_assert(*n < cap && k < 32);
        snprintf(out[(*n)++], 32, "%.*s", (int)k, p);
        p += k + (p[k] == ',');
    }
}

/* True when Python's json module accepts text. */
static bool valid_json(const char *text)
{
    FILE *py = popen("/usr/bin/python3 -c 'import json,sys; json.load(sys.stdin)'", "w");
    cr_assert(py != NULL);
    fputs(text, py);
    return pclose(py) == 0;
}

/* The source file (malloc'd), its length in *len. */
static char *read_source(const char *rel, size_t *len)
{
    const char *dir = getenv("CAIRN_SRCDIR");
    char path[1024];
    snprintf(path, sizeof(path), "%s/%s", dir != NULL ? dir : ".", rel);
    FILE *f = fopen(path, "rb");
    cr_assert(f != NULL, "cannot open %s (set CAIRN_SRCDIR)", path);
    char *buf = malloc(1 << 20);
    cr_assert(buf != NULL);
    *len = fread(buf, 1, (1 << 20) - 1, f);
    buf[*len] = '\0';
    fclose(f);
    return buf;
}

Test(status, page_is_the_html_file)
{
    if (h_target_is_memcached())
        return; /* memcached has no metrics port */
    size_t len, flen;
    char *all = http_len("GET", "/", &len);
    char *file = read_source("server/status_page.html", &flen);
    cr_assert(strncmp(all, "HTTP/1.1 200 OK\r\n", 17) == 0, "%.300s", all);
    cr_expect(strstr(all, "Content-Type: text/html; charset=utf-8\r\n") != NULL, "%.600s", all);
    cr_expect(strstr(all, "Content-Security-Policy: default-src 'none';") != NULL, "%.600s", all);
    char clen[64];
    snprintf(clen, sizeof(clen), "Content-Length: %zu\r\n", flen);
    cr_expect(strstr(all, clen) != NULL, "%.600s", all);
    const char *body = body_of(all);
    cr_assert_eq(len - (size_t)(body - all), flen, "the page differs in length from server/status_page.html");
    cr_expect(memcmp(body, file, flen) == 0, "the page differs from server/status_page.html");
    cr_expect(strstr(body, "<title>cairn status</title>") != NULL);
    cr_expect(strstr(body, "fetch('stats.json'") != NULL, "the page polls stats.json");
    /* Nothing from elsewhere: no URL with a scheme or a protocol-relative one in the page. */
    cr_expect(strstr(body, "src=") == NULL && strstr(body, "href=\"http") == NULL &&
                  strstr(body, "//cdn") == NULL,
              "the page loads something from elsewhere");
    free(file);
    free(all);
    /* a query string is still the page */
    all = http("GET", "/?refresh=1");
    cr_expect(strncmp(all, "HTTP/1.1 200 OK\r\n", 17) == 0, "%.300s", all);
    free(all);
}

Test(status, stats_json_matches_stats)
{
    if (h_target_is_memcached())
        return;
    int fd = h_connect(h_srv.port);
    h_set(fd, "s:a", "1");
    h_set(fd, "s:b", "22");
    h_cmd(fd, "get s:a s:b s:c\r\n", "VALUE s:a 0 1\r\n1\r\nVALUE s:b 0 2\r\n22\r\nEND\r\n");
    h_cmd(fd, "delete s:zz\r\n", "NOT_FOUND\r\n");
    char *stats = h_stats_raw(fd, NULL);
    char *all = http("GET", "/stats.json");
    cr_assert(strncmp(all, "HTTP/1.1 200 OK\r\n", 17) == 0, "%.300s", all);
    cr_expect(strstr(all, "Content-Type: application/json\r\n") != NULL, "%.400s", all);
    cr_expect(strstr(all, "Cache-Control: no-store\r\n") != NULL, "%.400s", all);
    const char *doc = body_of(all);
    cr_assert(valid_json(doc), "/stats.json is not JSON:\n%s", doc);
    const char *fig = strstr(doc, "\"figures\":{");
    cr_assert(fig != NULL, "%s", doc);

    /* counters and gauges that cannot move between the two reads (curr_connections can: the
     * harness's readiness probe may close in between) */
    static const char *const names[] = {"cmd_get",        "cmd_set",           "get_hits",    "get_misses",
                                        "delete_misses",  "curr_items",        "total_items", "bytes",
                                        "limit_maxbytes", "total_connections", "evictions"};
    static const char *const json[] = {
        "cmd_get_total",  "cmd_set_total",      "get_hits_total", "get_misses_total", "delete_misses_total",
        "items",          "items_stored_total", "bytes",          "limit_bytes",      "connections_total",
        "evictions_total"};
    for (size_t i = 0; i < sizeof(names) / sizeof(names[0]); i++) {
        char val[64];
        cr_assert(h_stat_find(stats, names[i], val, sizeof(val)), "stats lacks %s", names[i]);
        cr_expect_eq((uint64_t)json_num(fig, json[i]), strtoull(val, NULL, 10), "%s %s vs %s %.0f", names[i],
                     val, json[i], json_num(fig, json[i]));
    }
    cr_expect_eq(json_num(fig, "cmd_get_total"), 3);
    cr_expect(strstr(doc, "\"version\":\"" PACKAGE_VERSION "\"") != NULL, "%s", doc);
    /* this test's connection (the harness's readiness probe may still be closing: at least one) */
    const char *mt = strstr(doc, "\"memcache_text\":");
    cr_expect(mt != NULL && strtoul(mt + strlen("\"memcache_text\":"), NULL, 10) >= 1,
              "a text connection open: %s", doc);
    /* hot_keys is a list (the sketch's most used keys, none may be sampled yet); latency lists the
     * commands that ran, with this test's get among them (at least one get ran: its line here) */
    cr_expect(strstr(doc, "\"hot_keys\":[") != NULL, "%s", doc);
    const char *lat = strstr(doc, "\"latency\":[");
    cr_assert(lat != NULL, "%s", doc);
    const char *get = strstr(lat, "{\"protocol\":\"text\",\"command\":\"get\",");
    cr_assert(get != NULL, "no text get in %s", lat);
    cr_expect(json_num(get, "count") >= 1 && json_num(get, "p99_us") >= json_num(get, "p50_us") &&
                  json_num(get, "p50_us") >= 1,
              "%s", get);
    /* Both items sit in a slab class: the classes' items add up to curr_items. */
    const char *sc = strstr(doc, "\"slab_classes\":[");
    cr_assert(sc != NULL, "%s", doc);
    double items = 0;
    for (const char *p = sc; (p = strstr(p, "\"items\":")) != NULL; p++)
        items += strtod(p + 8, NULL);
    cr_expect_eq(items, 2, "slab classes hold %.0f items: %s", items, sc);
    cr_expect(json_num(sc, "chunk_size") > 0 && json_num(sc, "pages") >= 1, "%s", sc);
    free(all);
    free(stats);
    close(fd);
}

Test(status, history_grows_each_second)
{
    if (h_target_is_memcached())
        return;
    static char t1[STATUS_CAP][32], t2[STATUS_CAP][32], hit[STATUS_CAP][32], ops[STATUS_CAP][32];
    size_t n1, n2, nh, no;
    int fd = h_connect(h_srv.port);
    h_set(fd, "s:h", "x");
    char *all = http("GET", "/stats.json");
    json_array(body_of(all), "t_ms", t1, STATUS_CAP, &n1);
    free(all);
    /* Lookups that all hit for a while: every second with lookups has a hit ratio of 1. */
    int64_t until = h_now_ms() + 3600;
    while (h_now_ms() < until) {
        h_cmd(fd, "get s:h\r\n", "VALUE s:h 0 1\r\nx\r\nEND\r\n");
        h_sleep_ms(50);
    }
    all = http("GET", "/stats.json");
    const char *doc = body_of(all);
    cr_assert(valid_json(doc), "%s", doc);
    json_array(doc, "t_ms", t2, STATUS_CAP, &n2);
    json_array(doc, "hit_ratio", hit, STATUS_CAP, &nh);
    json_array(doc, "ops_per_sec", ops, STATUS_CAP, &no);
    cr_expect(n2 >= n1 + 2 && n2 <= n1 + 6, "3.6 s added %zu samples to %zu", n2 - n1, n1);
    cr_expect(nh == n2 && no == n2, "series of unequal length: %zu %zu %zu", n2, nh, no);
    /* the latency of the seconds with gets in them: a number (microseconds), not null */
    static char p99[STATUS_CAP][32];
    size_t np;
    json_array(doc, "latency_p99_us", p99, STATUS_CAP, &np);
    cr_expect(np == n2, "latency series of %zu samples, %zu others", np, n2);
    cr_expect(np >= 2 && strtod(p99[np - 2], NULL) >= 1, "p99 of the last full second: %s", np >= 2 ? p99[np - 2] : "-");
    for (size_t i = 1; i < n2; i++) {
        double dt = strtod(t2[i], NULL) - strtod(t2[i - 1], NULL);
        cr_expect(dt > 500 && dt < 3000, "samples %zu and %zu are %.0f ms apart", i - 1, i, dt);
    }
    /* The last full seconds had lookups, all hits, and operations (about 20 a second). */
    cr_expect_str_eq(hit[n2 - 2], "1.0000", "hit ratio %s", hit[n2 - 2]);
    cr_expect(strtod(ops[n2 - 2], NULL) >= 5, "ops/s %s", ops[n2 - 2]);
    size_t nulls = 0;
    for (size_t i = 0; i < nh; i++) {
        if (strcmp(hit[i], "null") == 0)
            nulls++;
        else
            cr_expect(strcmp(hit[i], "1.0000") == 0, "a second with a miss? hit ratio %s", hit[i]);
    }
    cr_expect(nulls < nh, "no second had a lookup");
    free(all);
    /* Misses now: the ratio of a second with only misses is 0. */
    until = h_now_ms() + 2600;
    while (h_now_ms() < until) {
        h_cmd(fd, "get s:none\r\n", "END\r\n");
        h_sleep_ms(50);
    }
    all = http("GET", "/stats.json");
    json_array(body_of(all), "hit_ratio", hit, STATUS_CAP, &nh);
    cr_expect_str_eq(hit[nh - 1], "0.0000", "hit ratio %s after misses only", hit[nh - 1]);
    free(all);
    close(fd);
}

Test(status, head_and_errors)
{
    if (h_target_is_memcached())
        return;
    /* HEAD: the headers with the page's length and no body; the kept connection answers the next
     * request as itself. */
    size_t flen;
    free(read_source("server/status_page.html", &flen));
    int fd = h_connect(metrics_port);
    h_sends(fd, "HEAD / HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\nGET /healthz HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n");
    size_t len;
    bool closed;
    char *all = h_read_idle(fd, 500, &len, &closed);
    close(fd);
    char clen[64];
    snprintf(clen, sizeof(clen), "Content-Length: %zu\r\n", flen);
    cr_expect(strncmp(all, "HTTP/1.1 200 OK\r\n", 17) == 0, "%s", all);
    cr_expect(strstr(all, clen) != NULL, "%s", all);
    cr_expect(strstr(all, "Content-Type: text/html") != NULL, "%s", all);
    const char *next = strstr(all, "\r\n\r\n");
    cr_assert(next != NULL, "%s", all);
    cr_expect(strncmp(next + 4, "HTTP/1.1 200 OK\r\n", 17) == 0, "a body after HEAD's headers:\n%s", all);
    cr_expect(len > 3 && strcmp(all + len - 3, "ok\n") == 0, "%s", all);
    free(all);

    all = http("HEAD", "/stats.json");
    cr_expect(strncmp(all, "HTTP/1.1 200 OK\r\n", 17) == 0, "%s", all);
    cr_expect_str_eq(body_of(all), "", "HEAD /stats.json sent a body");
    free(all);
    all = http("POST", "/");
    cr_expect(strncmp(all, "HTTP/1.1 405 ", 13) == 0, "%s", all);
    cr_expect(strstr(all, "Allow: GET, HEAD\r\n") != NULL, "%s", all);
    free(all);
    all = http("PUT", "/stats.json");
    cr_expect(strncmp(all, "HTTP/1.1 405 ", 13) == 0, "%s", all);
    free(all);
    all = http("GET", "/index.html");
    cr_expect(strncmp(all, "HTTP/1.1 404 ", 13) == 0, "%s", all);
    cr_expect(strstr(body_of(all), "/stats.json") != NULL, "the 404 names the paths: %s", all);
    free(all);
    all = http("GET", "/stats.json/x");
    cr_expect(strncmp(all, "HTTP/1.1 404 ", 13) == 0, "%s", all);
    free(all);
}
