/*
 * options.c: cairn-bench's command line, spelled as memtier_benchmark spells it where memtier has
 * the option (--server, --port, --unix-socket, --protocol, --threads, --clients, --pipeline, --ratio,
 * --data-size, --data-size-range, --key-prefix, --key-minimum, --key-maximum, --key-pattern,
 * --key-zipf-exp, --key-stddev, --key-median, --test-time, --requests, --json-out-file,
 * --hide-histogram, --print-percentiles) with memtier's defaults, plus --fill, --seed, --timeout,
 * --server-pid and --quiet of our own.
 *
 * Every value is checked whole (no trailing garbage, no overflow) and every option combination that
 * cannot run is refused here, so the rest of the program can trust struct bench_options.
 */
#include "config.h"

#include <errno.h>
#include <getopt.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "benchmarks/bench/bench.h"

enum opt_id {
    OPT_SERVER = 's',
    OPT_PORT = 'p',
    OPT_UNIX = 'S',
    OPT_PROTOCOL = 'P',
    OPT_THREADS = 't',
    OPT_CLIENTS = 'c',
    OPT_REQUESTS = 'n',
    OPT_DATA_SIZE = 'd',
    OPT_HELP = 'h',
    OPT_PIPELINE = 256,
    OPT_RATIO,
    OPT_DATA_RANGE,
    OPT_KEY_PREFIX,
    OPT_KEY_MIN,
    OPT_KEY_MAX,
    OPT_KEY_PATTERN,
    OPT_ZIPF_EXP,
    OPT_KEY_STDDEV,
    OPT_KEY_MEDIAN,
    OPT_TEST_TIME,
    OPT_FILL,
    OPT_SEED,
    OPT_JSON_OUT,
    OPT_HIDE_HISTOGRAM,
    OPT_PERCENTILES,
    OPT_TIMEOUT,
    OPT_SERVER_PID,
    OPT_QUIET,
};

static const struct option long_options[] = {
    {"server", required_argument, NULL, OPT_SERVER},
    {"port", required_argument, NULL, OPT_PORT},
    {"unix-socket", required_argument, NULL, OPT_UNIX},
    {"protocol", required_argument, NULL, OPT_PROTOCOL},
    {"threads", required_argument, NULL, OPT_THREADS},
    {"clients", required_argument, NULL, OPT_CLIENTS},
    {"pipeline", required_argument, NULL, OPT_PIPELINE},
    {"ratio", required_argument, NULL, OPT_RATIO},
    {"data-size", required_argument, NULL, OPT_DATA_SIZE},
    {"data-size-range", required_argument, NULL, OPT_DATA_RANGE},
    {"key-prefix", required_argument, NULL, OPT_KEY_PREFIX},
    {"key-minimum", required_argument, NULL, OPT_KEY_MIN},
    {"key-maximum", required_argument, NULL, OPT_KEY_MAX},
    {"key-pattern", required_argument, NULL, OPT_KEY_PATTERN},
    {"key-zipf-exp", required_argument, NULL, OPT_ZIPF_EXP},
    {"key-stddev", required_argument, NULL, OPT_KEY_STDDEV},
    {"key-median", required_argument, NULL, OPT_KEY_MEDIAN},
    {"test-time", required_argument, NULL, OPT_TEST_TIME},
    {"requests", required_argument, NULL, OPT_REQUESTS},
    {"fill", no_argument, NULL, OPT_FILL},
    {"seed", required_argument, NULL, OPT_SEED},
    {"json-out", required_argument, NULL, OPT_JSON_OUT},
    {"json-out-file", required_argument, NULL, OPT_JSON_OUT},
    {"hide-histogram", no_argument, NULL, OPT_HIDE_HISTOGRAM},
    {"print-percentiles", required_argument, NULL, OPT_PERCENTILES},
    {"timeout", required_argument, NULL, OPT_TIMEOUT},
    {"server-pid", required_argument, NULL, OPT_SERVER_PID},
    {"quiet", no_argument, NULL, OPT_QUIET},
    {"help", no_argument, NULL, OPT_HELP},
    {NULL, 0, NULL, 0},
};

static const char usage_text[] =
    "usage: cairn-bench [options]\n"
    "  -s, --server=ADDR           server address (127.0.0.1)\n"
    "  -p, --port=PORT             TCP port (11211)\n"
    "  -S, --unix-socket=PATH      connect to a unix socket instead\n"
    "  -P, --protocol=NAME         memcache_text, meta (ms/mg), redis (RESP2) or\n"
    "                              memcache_binary (SET/GETK)\n"
    "  -t, --threads=N             load generator threads (4)\n"
    "  -c, --clients=N             connections per thread (50)\n"
    "      --pipeline=N            requests in flight per connection (1)\n"
    "      --ratio=SET:GET         set:get ratio (1:10)\n"
    "  -d, --data-size=N           value bytes (32)\n"
    "      --data-size-range=A-B   value bytes from A to B, chosen by key\n"
    "      --key-prefix=TEXT       key prefix (memtier-)\n"
    "      --key-minimum=N         lowest key index (0)\n"
    "      --key-maximum=N         highest key index (10000000)\n"
    "      --key-pattern=S:G       set and get patterns: S sequential, R random, Z Zipf, G Gaussian (R:R)\n"
    "      --key-zipf-exp=E        Zipf exponent, > 0 (1.0)\n"
    "      --key-stddev=D          Gaussian deviation in keys ((max-min)/6)\n"
    "      --key-median=M          Gaussian median key ((min+max)/2)\n"
    "      --test-time=SECS        run for SECS seconds\n"
    "  -n, --requests=N            requests per connection when no --test-time (10000)\n"
    "      --fill                  first set every key of the range once (not measured)\n"
    "      --seed=N                seed of every connection's stream (1)\n"
    "      --json-out=FILE         write the results as a JSON object (also --json-out-file)\n"
    "      --hide-histogram        do not print the latency histogram\n"
    "      --print-percentiles=L   comma-separated percentiles to print (50,90,99,99.9)\n"
    "      --timeout=SECS          fail requests unanswered this long (10)\n"
    "      --server-pid=PID        report that process's CPU time over the run (from /proc)\n"
    "      --quiet                 no per-second progress on stderr\n"
    "  -h, --help                  this text\n";

static int fail(const char *name, const char *value)
{
    fprintf(stderr, "cairn-bench: bad value for --%s: '%s' (see --help)\n", name, value);
    return -1;
}

static int parse_u64(const char *s, uint64_t *out)
{
    char *end;
    if (*s == '\0' || *s == '-')
        return -1;
    errno = 0;
    unsigned long long v = strtoull(s, &end, 10);
    if (errno != 0 || *end != '\0')
        return -1;
    *out = v;
    return 0;
}

/* An unsigned in [lo, hi]. */
static int parse_uint(const char *s, unsigned lo, unsigned hi, unsigned *out)
{
    uint64_t v;
    if (parse_u64(s, &v) != 0 || v < lo || v > hi)
        return -1;
    *out = (unsigned)v;
    return 0;
}

static int parse_double(const char *s, double *out)
{
    char *end;
    errno = 0;
    double v = strtod(s, &end);
    if (errno != 0 || end == s || *end != '\0' || !isfinite(v))
        return -1;
    *out = v;
    return 0;
}

/* "A<sep>B" into two unsigned 64-bit halves. */
static int parse_pair(const char *s, char sep, uint64_t *a, uint64_t *b)
{
    const char *mid = strchr(s, sep);
    char left[32];
    if (mid == NULL || (size_t)(mid - s) >= sizeof(left))
        return -1;
    memcpy(left, s, (size_t)(mid - s));
    left[mid - s] = '\0';
    return parse_u64(left, a) != 0 || parse_u64(mid + 1, b) != 0 ? -1 : 0;
}

static int parse_patterns(const char *s, struct bench_options *opt)
{
    if (strlen(s) != 3 || s[1] != ':')
        return -1;
    if (ks_pattern_parse(s[0], &opt->pattern_set) != 0 || ks_pattern_parse(s[2], &opt->pattern_get) != 0)
        return -1;
    return 0;
}

static int parse_percentiles(const char *s, struct bench_options *opt)
{
    char buf[256];
    if (strlen(s) >= sizeof(buf))
        return -1;
    strcpy(buf, s);
    opt->n_percentiles = 0;
    for (char *save = NULL, *tok = strtok_r(buf, ",", &save); tok; tok = strtok_r(NULL, ",", &save)) {
        double v;
        if (opt->n_percentiles == BENCH_MAX_PERCENTILES || parse_double(tok, &v) != 0 || v <= 0 || v > 100)
            return -1;
        opt->percentiles[opt->n_percentiles++] = v;
    }
    return opt->n_percentiles ? 0 : -1;
}

static void set_defaults(struct bench_options *opt)
{
    memset(opt, 0, sizeof(*opt));
    opt->server = "127.0.0.1";
    opt->port = 11211;
    opt->protocol = PROTO_MEMCACHE_TEXT;
    opt->threads = 4;
    opt->clients = 50;
    opt->pipeline = 1;
    opt->ratio_set = 1;
    opt->ratio_get = 10;
    opt->ks.prefix = "memtier-";
    opt->ks.key_min = 0;
    opt->ks.key_max = 10000000;
    opt->ks.size_min = opt->ks.size_max = 32;
    opt->ks.zipf_exp = 1.0;
    opt->ks.gauss_median = NAN;
    opt->ks.gauss_stddev = NAN;
    opt->pattern_set = opt->pattern_get = KS_UNIFORM;
    opt->requests = 10000;
    opt->seed = 1;
    opt->timeout = 10.0;
    opt->percentiles[0] = 50;
    opt->percentiles[1] = 90;
    opt->percentiles[2] = 99;
    opt->percentiles[3] = 99.9;
    opt->n_percentiles = 4;
}

/* Options with numeric values; returns 0, or -1 after saying what is wrong. */
static int apply_numeric(struct bench_options *opt, int id, const char *name, const char *v)
{
    uint64_t a, b;
    int bad = 0;
    switch (id) {
    case OPT_PORT:
        bad = parse_uint(v, 1, 65535, &opt->port);
        break;
    case OPT_THREADS:
        bad = parse_uint(v, 1, 1024, &opt->threads);
        break;
    case OPT_CLIENTS:
        bad = parse_uint(v, 1, 65536, &opt->clients);
        break;
    case OPT_PIPELINE:
        bad = parse_uint(v, 1, 1000000, &opt->pipeline);
        break;
    case OPT_RATIO:
        bad = parse_pair(v, ':', &a, &b) || a + b == 0 || a > 1000000 || b > 1000000;
        opt->ratio_set = (unsigned)a;
        opt->ratio_get = (unsigned)b;
        break;
    case OPT_DATA_SIZE:
        bad = parse_u64(v, &a);
        opt->ks.size_min = opt->ks.size_max = (size_t)a;
        break;
    case OPT_DATA_RANGE:
        bad = parse_pair(v, '-', &a, &b) || b < a;
        opt->ks.size_min = (size_t)a;
        opt->ks.size_max = (size_t)b;
        break;
    case OPT_KEY_MIN:
        bad = parse_u64(v, &opt->ks.key_min);
        break;
    case OPT_KEY_MAX:
        bad = parse_u64(v, &opt->ks.key_max);
        break;
    case OPT_ZIPF_EXP:
        bad = parse_double(v, &opt->ks.zipf_exp) || opt->ks.zipf_exp <= 0;
        break;
    case OPT_KEY_STDDEV:
        bad = parse_double(v, &opt->ks.gauss_stddev) || opt->ks.gauss_stddev <= 0;
        break;
    case OPT_KEY_MEDIAN:
        bad = parse_double(v, &opt->ks.gauss_median);
        break;
    case OPT_TEST_TIME:
        bad = parse_double(v, &opt->test_time) || opt->test_time <= 0;
        break;
    case OPT_REQUESTS:
        bad = parse_u64(v, &opt->requests) || opt->requests == 0;
        break;
    case OPT_SEED:
        bad = parse_u64(v, &opt->seed);
        break;
    case OPT_TIMEOUT:
        bad = parse_double(v, &opt->timeout) || opt->timeout <= 0;
        break;
    case OPT_SERVER_PID:
        bad = parse_u64(v, &a) || a == 0 || a > 0x7fffffff;
        opt->server_pid = (long)a;
        break;
    default:
        bad = 1;
    }
    return bad ? fail(name, v) : 0;
}

/* One option; returns 0, 1 for --help, or -1 for a bad value. */
static int apply(struct bench_options *opt, int id, const char *name, const char *v)
{
    switch (id) {
    case OPT_SERVER:
        opt->server = v;
        return 0;
    case OPT_UNIX:
        opt->unix_socket = v;
        return 0;
    case OPT_PROTOCOL:
        return proto_parse_name(v, &opt->protocol) == 0 ? 0 : fail(name, v);
    case OPT_KEY_PREFIX:
        opt->ks.prefix = v;
        return strlen(v) <= 200 && strpbrk(v, " \r\n\t") == NULL ? 0 : fail(name, v);
    case OPT_KEY_PATTERN:
        return parse_patterns(v, opt) == 0 ? 0 : fail(name, v);
    case OPT_PERCENTILES:
        return parse_percentiles(v, opt) == 0 ? 0 : fail(name, v);
    case OPT_FILL:
        opt->fill = 1;
        return 0;
    case OPT_JSON_OUT:
        opt->json_out = v;
        return 0;
    case OPT_HIDE_HISTOGRAM:
        opt->hide_histogram = 1;
        return 0;
    case OPT_QUIET:
        opt->quiet = 1;
        return 0;
    case OPT_HELP:
        fputs(usage_text, stdout);
        return 1;
    }
    return apply_numeric(opt, id, name, v);
}

static const char *option_name(int id)
{
    for (const struct option *o = long_options; o->name; o++) {
        if (o->val == id)
            return o->name;
    }
    return "?";
}

/* Cross-option checks and derived defaults. */
static int finish(struct bench_options *opt)
{
    if (opt->ks.key_max < opt->ks.key_min) {
        fprintf(stderr, "cairn-bench: --key-maximum is below --key-minimum\n");
        return -1;
    }
    if (opt->ks.size_min == 0 || opt->ks.size_max > (1u << 30)) {
        fprintf(stderr, "cairn-bench: value sizes must lie in 1..1073741824 bytes\n");
        return -1;
    }
    if (proto_lookup(opt->protocol) == NULL) {
        fprintf(stderr,
                "cairn-bench: protocol '%s' is not implemented yet; use memcache_text, meta, redis or "
                "memcache_binary\n",
                proto_name(opt->protocol));
        return -1;
    }
    double lo = (double)opt->ks.key_min, hi = (double)opt->ks.key_max;
    if (isnan(opt->ks.gauss_median))
        opt->ks.gauss_median = (lo + hi) / 2;
    if (isnan(opt->ks.gauss_stddev))
        opt->ks.gauss_stddev = hi > lo ? (hi - lo) / 6 : 1;
    return 0;
}

/* getopt_long over argv, then the checks that need all options. */
enum bench_status bench_options_parse(struct bench_options *opt, int argc, char **argv)
{
    int id;
    set_defaults(opt);
    opterr = 1;
    while ((id = getopt_long(argc, argv, "s:p:S:P:t:c:n:d:h", long_options, NULL)) != -1) {
        if (id == '?')
            return BENCH_USAGE;
        int r = apply(opt, id, option_name(id), optarg);
        if (r != 0)
            return r > 0 ? BENCH_HELP : BENCH_USAGE;
    }
    if (optind < argc) {
        fprintf(stderr, "cairn-bench: unexpected argument '%s' (see --help)\n", argv[optind]);
        return BENCH_USAGE;
    }
    return finish(opt) == 0 ? BENCH_OK : BENCH_USAGE;
}
