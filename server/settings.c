/*
 * settings.c: command-line parsing with getopt_long, memcached 1.6's option names, and the checks that
 * involve more than one option (item size against the memory limit, -s turning TCP off).
 *
 * Each option value goes through a small strict parser (no trailing junk, no sign where none makes
 * sense). Messages for the limits memcached enforces use memcached's wording, so scripts that grep
 * them keep working. Single-threaded: runs before the server starts.
 */
#include "config.h"

#include "server/settings.h"
#include "server/settings_internal.h"
#include "protocol/slowlog.h"

#include <errno.h>
#include <getopt.h>
#include <limits.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#define MIB                 ((size_t)1024 * 1024)
#define MEMORY_LIMIT_MAX_MB 32768u
#define ITEM_SIZE_MIN       1024u
#define ITEM_SIZE_MAX_LIMIT ((size_t)1024 * 1024 * 1024)
#define THREADS_MAX         256u

/* cairn's own options: long names only (memcached has none), codes outside the short-option range. */
enum {
    OPT_SNAPSHOT_PATH = 0x5300,
    OPT_SNAPSHOT_INTERVAL,
    OPT_SNAPSHOT_ON_SHUTDOWN,
    OPT_SNAPSHOT_BAD_FILE,
    OPT_IO_URING,
    OPT_IDLE_TIMEOUT,
    OPT_REQUEST_TIMEOUT,
    OPT_OUTPUT_TIMEOUT,
    OPT_READ_BUF_LIMIT,
    OPT_DISABLE_ADMIN,
    OPT_RESP_PORT,
    OPT_CONFIG,
    OPT_REQUIREPASS,
    OPT_CLUSTER_CONFIG,
    OPT_CLUSTER_ENABLED,
    OPT_PROTECTED_MODE,
    OPT_LOG_FILE,
    OPT_METRICS_PORT,
    OPT_SLOWLOG_SLOWER_THAN,
    OPT_SLOWLOG_MAX_LEN
};
#define SNAPSHOT_INTERVAL_MAX (366u * 24 * 3600)

/* memcached 1.6.18's other short options: -r -M -k -L -i -S -Y -e -Z -N (apply_process_option). */
#define MEMCACHED_MORE_OPTS "rMkLiSY:e:ZN:"

static const char short_opts[] = "p:l:t:m:c:I:f:n:vU:s:a:dP:u:AhVCb:R:D:B:FXWo:" MEMCACHED_MORE_OPTS;

static const struct option long_opts[] = {
    {"port", required_argument, NULL, 'p'},
    {"listen", required_argument, NULL, 'l'},
    {"threads", required_argument, NULL, 't'},
    {"memory-limit", required_argument, NULL, 'm'},
    {"conn-limit", required_argument, NULL, 'c'},
    {"max-item-size", required_argument, NULL, 'I'},
    {"slab-growth-factor", required_argument, NULL, 'f'},
    {"slab-min-size", required_argument, NULL, 'n'},
    {"verbose", optional_argument, NULL, 'v'}, /* memcached: --verbose[=anything] counts once */
    {"udp-port", required_argument, NULL, 'U'},
    {"unix-socket", required_argument, NULL, 's'},
    {"unix-mask", required_argument, NULL, 'a'},
    {"daemon", no_argument, NULL, 'd'},
    {"pidfile", required_argument, NULL, 'P'},
    {"pid-file", required_argument, NULL, 'P'},
    {"user", required_argument, NULL, 'u'},
    {"enable-shutdown", no_argument, NULL, 'A'},
    {"prefix-delimiter", required_argument, NULL, 'D'},
    {"help", no_argument, NULL, 'h'},
    {"version", no_argument, NULL, 'V'},
    {"disable-cas", no_argument, NULL, 'C'},
    {"listen-backlog", required_argument, NULL, 'b'},
    {"max-reqs-per-event", required_argument, NULL, 'R'},
    {"snapshot-path", required_argument, NULL, OPT_SNAPSHOT_PATH},
    {"snapshot-interval", required_argument, NULL, OPT_SNAPSHOT_INTERVAL},
    {"snapshot-on-shutdown", required_argument, NULL, OPT_SNAPSHOT_ON_SHUTDOWN},
    {"snapshot-bad-file", required_argument, NULL, OPT_SNAPSHOT_BAD_FILE},
    {"io-uring", required_argument, NULL, OPT_IO_URING},
    {"idle-timeout", required_argument, NULL, OPT_IDLE_TIMEOUT},
    {"request-timeout", required_argument, NULL, OPT_REQUEST_TIMEOUT},
    {"output-timeout", required_argument, NULL, OPT_OUTPUT_TIMEOUT},
    {"read-buf-limit", required_argument, NULL, OPT_READ_BUF_LIMIT},
    {"extended", required_argument, NULL, 'o'},
    {"protocol", required_argument, NULL, 'B'},
    {"disable-flush-all", no_argument, NULL, 'F'},
    {"disable-dumping", no_argument, NULL, 'X'},
    {"disable-watch", no_argument, NULL, 'W'},
    {"disable-admin-commands", no_argument, NULL, OPT_DISABLE_ADMIN},
    {"resp-port", required_argument, NULL, OPT_RESP_PORT},
    {"config", required_argument, NULL, OPT_CONFIG},
    {"requirepass", required_argument, NULL, OPT_REQUIREPASS},
    {"cluster-config", required_argument, NULL, OPT_CLUSTER_CONFIG},
    {"cluster-enabled", required_argument, NULL, OPT_CLUSTER_ENABLED},
    {"protected-mode", required_argument, NULL, OPT_PROTECTED_MODE},
    {"log-file", required_argument, NULL, OPT_LOG_FILE},
    {"metrics-port", required_argument, NULL, OPT_METRICS_PORT},
    {"slowlog-log-slower-than", required_argument, NULL, OPT_SLOWLOG_SLOWER_THAN},
    {"slowlog-max-len", required_argument, NULL, OPT_SLOWLOG_MAX_LEN},
    /* memcached 1.6.18's other long options */
    {"enable-coredumps", no_argument, NULL, 'r'},
    {"disable-evictions", no_argument, NULL, 'M'},
    {"lock-memory", no_argument, NULL, 'k'},
    {"enable-largepages", no_argument, NULL, 'L'},
    {"license", no_argument, NULL, 'i'},
    {"enable-sasl", no_argument, NULL, 'S'},
    {"auth-file", required_argument, NULL, 'Y'},
    {"memory-file", required_argument, NULL, 'e'},
    {"enable-ssl", no_argument, NULL, 'Z'},
    {"napi-ids", required_argument, NULL, 'N'},
    {"napi_ids", required_argument, NULL, 'N'}, /* as memcached -h spells it */
    {NULL, 0, NULL, 0},
};

/* Prints the option summary. */
void settings_usage(FILE *f)
{
    fputs(CAIRN_VERSION
          "\n"
          "-p, --port=<num>          TCP port to listen on (default: 11211)\n"
          "-U, --udp-port=<num>      UDP port to listen on (default: 0, off; only 0 is accepted)\n"
          "--resp-port=<num>         TCP port for Redis clients (RESP, inline commands\n"
          "                          too) on the -l addresses (default: off; the -p port\n"
          "                          speaks RESP to clients whose first byte is '*')\n"
          "--metrics-port=<num>      HTTP port for GET /metrics (Prometheus) and\n"
          "                          /healthz on the -l addresses (default: off)\n"
          "-s, --unix-socket=<file>  UNIX socket to listen on (disables network support)\n"
          "-a, --unix-mask=<mask>    access mask for UNIX socket, in octal (default: 700)\n"
          "-A, --enable-shutdown     enable ascii \"shutdown\" command\n"
          "-l, --listen=<addr>       interface to listen on (default: 127.0.0.1)\n"
          "                          repeat or separate with commas for several; IPv6\n"
          "                          literals as ::1 or [::1], optionally <addr>:<port>\n"
          "-d, --daemon              run as a daemon\n"
          "-r, --enable-coredumps    maximize core file limit\n"
          "-u, --user=<user>         assume identity of <username> (only when run as root)\n"
          "-m, --memory-limit=<num>  item memory in megabytes (default: 64)\n"
          "-M, --disable-evictions   return error on memory exhausted instead of evicting\n"
          "-c, --conn-limit=<num>    max simultaneous connections (default: 1024)\n"
          "-k, --lock-memory         lock down all paged memory (mlockall)\n"
          "-v, --verbose             verbose (print errors/warnings while in event loop)\n"
          "-vv                       very verbose (also print client connections)\n"
          "--log-file=<file>         append stdout and stderr to <file>, each log line\n"
          "                          stamped with the time (UTC); reopened on SIGHUP\n"
          "-h, --help                print this help and exit\n"
          "-i, --license             print the licenses of what cairn links, and exit\n"
          "-V, --version             print version and exit\n"
          "-P, --pidfile=<file>      save PID in <file>\n"
          "-D, --prefix-delimiter=<char> key prefix delimiter for per-prefix stats;\n"
          "                          giving it turns `stats detail` on (default: ':', off)\n"
          "-f, --slab-growth-factor=<num> chunk size growth factor (default: 1.25)\n"
          "-n, --slab-min-size=<bytes> min space used for key+value+flags (default: 48)\n"
          "-L, --enable-largepages   ask for transparent huge pages for item memory\n"
          "                          (where the kernel has them; never stops start-up)\n"
          "-t, --threads=<num>       number of threads to use (default: 4)\n"
          "-R, --max-reqs-per-event  maximum number of reads per event, limits the\n"
          "                          time spent on one connection to prevent\n"
          "                          starvation (default: 20)\n"
          "-C, --disable-cas         disable use of CAS\n"
          "-b, --listen-backlog=<num> set the backlog queue limit (default: 1024)\n"
          "-B, --protocol=<name>     protocol: auto, ascii or binary (default: auto: the\n"
          "                          first byte picks binary, RESP or text)\n"
          "-F, --disable-flush-all   disable flush_all command\n"
          "-X, --disable-dumping     refuse the key dumps (stats cachedump, lru_crawler\n"
          "                          metadump)\n"
          "-W, --disable-watch       `watch` answers \"not allowed\" (cairn has no watchers)\n"
          "-S, --enable-sasl         require authentication (credentials from -Y, or the\n"
          "                          file $MEMCACHED_SASL_PWDB names, or --requirepass)\n"
          "-Y, --auth-file=<file>    credentials, one `user:password[:app|admin]` a line\n"
          "                          (not readable by others; reread on SIGHUP): clients\n"
          "                          authenticate (text: memcached's auth `set`; binary:\n"
          "                          SASL PLAIN; RESP: AUTH / HELLO AUTH)\n"
          "--requirepass=<pass>      the password of user \"default\" (Redis's AUTH <pass>)\n"
          "--cluster-config=<file>   Redis Cluster mode from a static topology, one\n"
          "                          `<name> <ip>:<port> [myself] <slots>...` a line\n"
          "                          (reread on SIGHUP): keys of other nodes' slots\n"
          "                          get MOVED; no gossip, failover or resharding\n"
          "--cluster-enabled=yes|no  without --cluster-config: a one-node cluster owning\n"
          "                          every slot (default: no)\n"
          "--protected-mode=yes|no   without credentials, refuse to listen on a\n"
          "                          non-loopback address (default: yes)\n"
          "-Z, --enable-ssl          refused: cairn has no TLS\n"
          "-e, --memory-file=<file>  restartable cache: the cache is saved to <file> on\n"
          "                          SIGUSR1 and loaded from it (then removed) at start\n"
          "-N, --napi-ids=<num>      accepted for memcached's sake (no effect)\n"
          "--config=<file>           read options from <file>, one per line as in\n"
          "                          memcached.conf (`-m 64`, `# comment`, `logfile <file>`)\n"
          "--disable-admin-commands  refuse the commands that change the whole server\n"
          "                          (flush_all, cache_memlimit, slabs, lru_crawler, lru,\n"
          "                          watch, verbosity, stats detail, stats reset, snapshot,\n"
          "                          shutdown); statistics stay readable\n"
          "-I, --max-item-size=<num> adjusts max item size\n"
          "                          (default: 1m, min: 1k, max: 1024m; k, m or g suffix)\n"
          "--snapshot-path=<file>    save the cache to <file> and load it on start\n"
          "                          (default: none, snapshots off)\n"
          "--snapshot-interval=<sec> save every <sec> seconds (default: 0, only on\n"
          "                          request and at shutdown)\n"
          "--snapshot-on-shutdown=yes|no  save when stopping (default: yes)\n"
          "--snapshot-bad-file=fail|set-aside  on a corrupt snapshot at start: exit\n"
          "                          non-zero, or rename it to <file>.bad-<time> and\n"
          "                          start empty (default: fail)\n"
          "--io-uring=<yes|no>       read requests and send responses of each event loop\n"
          "                          turn with one io_uring call each; read/writev if\n"
          "                          off or unavailable\n"
          "                          (default: yes)\n"
          "-o, --extended            comma separated list of extended options:\n"
          "                          - idle_timeout: close connections idle this many\n"
          "                            seconds (default: 0, never)\n"
          "                          - read_buf_mem_limit: megabytes that grown read\n"
          "                            buffers may take in all (default: 64, 0 = no limit)\n"
          "                          - hashpower: log2 of the initial hash table size\n"
          "                          - no_hashexpand: the hash table never grows\n"
          "                          - slab_automove=0|1|2: page balancing (default: 1)\n"
          "                          - lru_crawler, no_lru_crawler, lru_crawler_sleep,\n"
          "                            lru_crawler_tocrawl: as `lru_crawler` commands\n"
          "                          - no_slab_reassign: `slabs reassign` refused\n"
          "                          - no_maxconns_fast: at -c, wait instead of refusing\n"
          "                          - maxconns_fast, slab_reassign, modern: the default\n"
          "                          memcached's other suboptions are checked as memcached\n"
          "                          checks them and have no effect (-v names them);\n"
          "                          ext_*, ssl_* and proxy_* are refused\n"
          "--idle-timeout=<sec>      as -o idle_timeout\n"
          "--request-timeout=<sec>   close a connection whose request line or value\n"
          "                          stays unfinished this long (default: 30, 0 = never)\n"
          "--output-timeout=<sec>    close a connection whose replies wait unread this\n"
          "                          long (default: 60, 0 = never)\n"
          "--read-buf-limit=<mb>     as -o read_buf_mem_limit\n"
          "--slowlog-log-slower-than=<us>  log requests that take at least this many\n"
          "                          microseconds in the slow log (SLOWLOG, `stats\n"
          "                          slowlog`) (default: 10000; negative: off; 0: all)\n"
          "--slowlog-max-len=<num>   entries the slow log keeps (default: 128)\n",
          f);
}

/* -i: what memcached's --license answers, for cairn: its version and the licenses of what it links. */
static void settings_license(FILE *f)
{
    fputs(CAIRN_VERSION
          "\n"
          "cairn links libevent (3-clause BSD license) and xxHash (2-clause BSD license); their\n"
          "license texts come with their Debian packages (/usr/share/doc/libevent-2.1-7,\n"
          "/usr/share/doc/libxxhash0).\n",
          f);
}

/* Fills s with the defaults (memcached's, except the listen address 127.0.0.1). */
void settings_init(struct settings *s)
{
    memset(s, 0, sizeof(*s));
    s->port = 11211;
    s->resp_port = -1;
    s->metrics_port = -1;
    s->unix_mask = 0700;
    s->threads = 4;
    s->memory_limit = 64 * MIB;
    s->maxconns = 1024;
    s->item_size_max = MIB;
    s->growth_factor = 1.25;
    s->chunk_min = 48;
    s->use_cas = true;
    s->flush_enabled = true;
    s->prefix_delimiter = ':';
    s->backlog = 1024;
    s->reqs_per_event = 20;
    s->snapshot_on_shutdown = true;
    s->io_uring = true;
    s->request_timeout = 30;
    s->output_timeout = 60;
    s->read_buf_limit = 64 * MIB;
    s->slab_reassign = true;
    s->maxconns_fast = true;
    s->slab_automove = 1;
    s->lru_crawler = true;
    s->crawler_sleep = 100;
    s->hot_lru_pct = 20;
    s->warm_lru_pct = 40;
    s->lru_maintainer = true;
    s->protected_mode = true;
    s->slowlog_log_slower_than = SLOWLOG_DEFAULT_THRESHOLD_US;
    s->slowlog_max_len = SLOWLOG_DEFAULT_MAX_LEN;
}

/* Frees the strings s owns; s can be initialised again. */
void settings_deinit(struct settings *s)
{
    for (size_t i = 0; i < s->nlisten; i++)
        free(s->listen[i]);
    free(s->listen);
    free(s->listen_spec);
    free(s->unix_socket);
    free(s->pid_file);
    free(s->user);
    free(s->snapshot_path);
    free(s->memory_file);
    free(s->log_file);
    free(s->auth_file);
    free(s->requirepass);
    free(s->cluster_config);
    free(s->slab_sizes);
    memset(s, 0, sizeof(*s));
}

/* "yes" or "no" into *out; false (and *out unchanged) for anything else. */
static bool parse_yes_no(const char *arg, bool *out)
{
    if (strcmp(arg, "yes") != 0 && strcmp(arg, "no") != 0)
        return false;
    *out = arg[0] == 'y';
    return true;
}

/* Parses a whole decimal number in [0, max]; false on junk, a sign or overflow (errno ERANGE when the
 * digits overflow, 0 when the number is only above max). */
static bool parse_ull(const char *arg, unsigned long long max, unsigned long long *out)
{
    char *end;

    if (arg[0] < '0' || arg[0] > '9')
        return false;
    errno = 0;
    unsigned long long v = strtoull(arg, &end, 10);
    if (errno != 0 || *end != '\0' || v > max)
        return false;
    *out = v;
    return true;
}

/* Parses a whole decimal number, optionally negative, into *out; false on junk or overflow. */
static bool parse_ll(const char *arg, int64_t *out)
{
    char *end;
    const char *digits = arg[0] == '-' ? arg + 1 : arg;

    if (digits[0] < '0' || digits[0] > '9')
        return false;
    errno = 0;
    long long v = strtoll(arg, &end, 10);
    if (errno != 0 || *end != '\0')
        return false;
    *out = v;
    return true;
}

/* See settings_internal.h. */
bool settings_parse_ull(const char *arg, unsigned long long max, unsigned long long *out)
{
    return parse_ull(arg, max, out);
}

/* Parses a size with an optional k/m/g suffix (powers of 1024), as -I takes it; errno is ERANGE when
 * false because the size overflows. */
static bool parse_size(const char *arg, unsigned long long *out)
{
    char *end;

    if (arg[0] < '0' || arg[0] > '9')
        return false;
    errno = 0;
    unsigned long long v = strtoull(arg, &end, 10);
    if (errno != 0)
        return false;
    unsigned shift = 0;
    switch (*end) {
    case '\0':
        break;
    case 'k':
    case 'K':
        shift = 10;
        break;
    case 'm':
    case 'M':
        shift = 20;
        break;
    case 'g':
    case 'G':
        shift = 30;
        break;
    default:
        return false;
    }
    if (shift != 0 && end[1] != '\0')
        return false;
    if (v > (ULLONG_MAX >> shift)) {
        errno = ERANGE;
        return false;
    }
    *out = v << shift;
    return true;
}

/* Appends one -l value: remembers it for "inter" and splits it at commas into the address list. */
static bool add_listen(struct settings *s, const char *arg)
{
    /* memcached skips a value it already has (so a --config file and the command line may both
     * name 127.0.0.1) */
    for (size_t i = 0; i < s->nlisten; i++)
        if (strcmp(s->listen[i], arg) == 0)
            return true;
    size_t old = s->listen_spec ? strlen(s->listen_spec) : 0;
    char *spec = realloc(s->listen_spec, old + strlen(arg) + 2);
    if (spec == NULL)
        return false;
    if (old > 0)
        spec[old++] = ',';
    strcpy(spec + old, arg);
    s->listen_spec = spec;

    const char *p = arg;
    while (*p != '\0') {
        size_t n = strcspn(p, ",");
        if (n > 0) {
            char **list = realloc(s->listen, (s->nlisten + 1) * sizeof(*list));
            if (list == NULL)
                return false;
            s->listen = list;
            s->listen[s->nlisten] = strndup(p, n);
            if (s->listen[s->nlisten] == NULL)
                return false;
            s->nlisten++;
        }
        p += n;
        if (*p == ',')
            p++;
    }
    return true;
}

/* Replaces an owned string option. */
static bool set_string(char **dst, const char *arg)
{
    char *copy = strdup(arg);
    if (copy == NULL)
        return false;
    free(*dst);
    *dst = copy;
    return true;
}

/*
 * How a refused value is reported. memcached 1.6.18 refuses some values the moment it reads them,
 * with `return 1` from main() (exit 1), and checks the rest after the whole command line, with
 * EX_USAGE (64). A refusal here keeps memcached's text and status where memcached refuses the value;
 * where memcached takes anything (atoi() reads "abc" as 0 and wraps large numbers), cairn still
 * refuses, with its own text and 64, and the case says so.
 */
struct parse_error {
    const char *msg;  /* NULL = accepted */
    bool exit_1;      /* memcached's immediate `return 1`; otherwise EX_USAGE */
    char buf[SETTINGS_MSG_MAX]; /* for messages that quote the value */
};

static const char *fail1(struct parse_error *e, const char *msg)
{
    e->exit_1 = true;
    return e->msg = msg;
}

static const char *fail64(struct parse_error *e, const char *msg)
{
    e->exit_1 = false;
    return e->msg = msg;
}

/* Whether arg is something atoi() reads as 0 (no digits first, after an optional sign): memcached
 * treats such a value as 0 and cairn follows it where 0 is refused anyway. */
static bool atoi_zero(const char *arg)
{
    if (*arg == '-' || *arg == '+')
        arg++;
    return *arg < '0' || *arg > '9';
}

/* -p: memcached checks "> 65535" after parsing (settings_check), so a large number is stored and
 * refused there, after the -I checks, as memcached orders them. */
static const char *apply_port(struct settings *s, const char *arg, struct parse_error *e)
{
    unsigned long long v = 0;

    if (!parse_ull(arg, INT_MAX, &v)) {
        /* cairn only: memcached's atoi() takes junk as port 0 and wraps what an int cannot hold. */
        snprintf(e->buf, sizeof(e->buf), "ERROR: Invalid port number %s.", arg);
        return fail64(e, e->buf);
    }
    s->port = (int)v;
    return NULL;
}

/* -t: memcached's text for <= 0 and its warning above 64. cairn's range ends at THREADS_MAX
 * (memcached has no maximum). */
static const char *apply_threads(struct settings *s, const char *arg, struct parse_error *e, FILE *err)
{
    unsigned long long v = 0;

    if (!parse_ull(arg, UINT_MAX, &v) || v == 0)
        return fail1(e, "Number of threads must be greater than 0");
    if (v > THREADS_MAX)
        return fail1(e, "Number of threads must be at most 256");
    if (v > 64)
        fputs("WARNING: Setting a high number of workerthreads is not recommended.\n"
              " Set this value to the number of cores in your machine or less.\n",
              err);
    s->threads = (unsigned)v;
    return NULL;
}

/* -m: what atoi() reads as 0 becomes 0 MB, which the item-size check then refuses with memcached's
 * text. cairn's range ends at MEMORY_LIMIT_MAX_MB (memcached's has no end but wraps past an int). */
static const char *apply_memory(struct settings *s, const char *arg, struct parse_error *e)
{
    unsigned long long v = 0;

    if (atoi_zero(arg) && arg[0] != '-') {
        s->memory_limit = 0;
        return NULL;
    }
    if (!parse_ull(arg, MEMORY_LIMIT_MAX_MB, &v))
        return fail64(e, "Memory limit must be a number of megabytes between 0 and 32768");
    s->memory_limit = (size_t)v * MIB;
    return NULL;
}

/* -c: memcached's text and exit 1 for <= 0 and junk. A number past an int is kept as INT_MAX, more
 * than any open-file limit allows, so daemon_raise_nofile() refuses it with memcached's text and 71
 * (memcached's atoi() wraps it, and 99999999999 wraps to a value that fails the same way). */
static const char *apply_conns(struct settings *s, const char *arg, struct parse_error *e)
{
    unsigned long long v = 0;
    bool digits = arg[0] >= '0' && arg[0] <= '9';

    if (!parse_ull(arg, ULLONG_MAX, &v)) {
        if (!digits || errno != ERANGE)
            return fail1(e, "Maximum connections must be greater than 0");
        v = ULLONG_MAX;
    }
    if (v == 0)
        return fail1(e, "Maximum connections must be greater than 0");
    s->maxconns = v > INT_MAX ? INT_MAX : (unsigned)v;
    return NULL;
}

/* -I: checked after parsing, in memcached's order (check_combined). What atoi() reads as 0 is 0,
 * which is below the minimum, as in memcached; a size past size_t is kept as the largest. cairn also
 * takes a g suffix, and has no slab_chunk_max: memcached refuses any -I below 512k or not a multiple
 * of it, cairn takes every size from 1k to 1g. */
static const char *apply_item_size(struct settings *s, const char *arg, struct parse_error *e)
{
    unsigned long long v = 0;

    if (atoi_zero(arg)) {
        s->item_size_max = 0;
        return NULL;
    }
    if (!parse_size(arg, &v)) {
        if (errno != ERANGE)
            return fail64(e, "Item max size must be a number with an optional k, m or g suffix");
        v = ULLONG_MAX;
    }
    s->item_size_max = v > SIZE_MAX ? SIZE_MAX : (size_t)v;
    return NULL;
}

/* Applies one numeric option; returns an error message or NULL. */
static const char *apply_number(struct settings *s, int opt, const char *arg, struct parse_error *e, FILE *err)
{
    unsigned long long v = 0;

    switch (opt) {
    case 'p':
        return apply_port(s, arg, e);
    case 'U':
        /* cairn only: no UDP listener, so only 0 (memcached takes any number). */
        if (!parse_ull(arg, 65535, &v))
            return fail64(e, "UDP port must be a number between 0 and 65535");
        if (v != 0)
            return fail64(e, "UDP is not supported: use -U 0");
        s->udp_port = 0;
        return NULL;
    case 't':
        return apply_threads(s, arg, e, err);
    case 'm':
        return apply_memory(s, arg, e);
    case 'c':
        return apply_conns(s, arg, e);
    case 'I':
        return apply_item_size(s, arg, e);
    case 'n':
        /* memcached: "must be greater than 0" for 0 and junk; cairn also refuses what memcached
         * takes as a negative int or wraps. Too large for the page is the cache's refusal. */
        if (!parse_ull(arg, ITEM_SIZE_MAX_LIMIT, &v) || v == 0)
            return fail1(e, "Chunk size must be greater than 0");
        s->chunk_min = (size_t)v;
        return NULL;
    case 'b':
        /* listen() takes 0; cairn refuses junk and negatives, which memcached's atoi() passes on. */
        if (!parse_ull(arg, INT_MAX, &v))
            return fail64(e, "Listen backlog must be a number between 0 and 2147483647");
        s->backlog = (int)v;
        return NULL;
    case 'R':
        /* memcached refuses 0 and junk; cairn also refuses negatives, which memcached keeps. */
        if (!parse_ull(arg, INT_MAX, &v) || v == 0)
            return fail1(e, "Number of requests per event must be greater than 0");
        s->reqs_per_event = (unsigned)v;
        return NULL;
    default:
        return fail64(e, "internal error: unknown numeric option");
    }
}

/* Parses a number of seconds for a timeout option. */
static const char *apply_seconds(const char *arg, unsigned *out, const char *what)
{
    unsigned long long v;

    if (!parse_ull(arg, INT_MAX, &v))
        return what;
    *out = (unsigned)v;
    return NULL;
}

/* Applies -f: memcached's text and exit 1 for <= 1 and junk. cairn's slab classes take factors up
 * to 100 (above it every factor gives the same two classes); memcached takes any, even 1e308. */
static const char *apply_factor(struct settings *s, const char *arg, struct parse_error *e)
{
    char *end;

    errno = 0;
    double f = strtod(arg, &end);
    if (end == arg || *end != '\0' || !(f > 1.0))
        return fail1(e, "Factor must be greater than 1");
    if (errno != 0 || f > 100.0)
        return fail1(e, "Factor must be at most 100");
    s->growth_factor = f;
    return NULL;
}

/* -B: memcached's three values, and its text for others. */
static const char *apply_protocol(struct settings *s, const char *arg, struct parse_error *e)
{
    if (strcmp(arg, "auto") == 0) {
        s->protocol = SETTINGS_PROTO_AUTO;
        return NULL;
    }
    if (strcmp(arg, "ascii") == 0) {
        s->protocol = SETTINGS_PROTO_ASCII;
        return NULL;
    }
    if (strcmp(arg, "binary") == 0) {
        s->protocol = SETTINGS_PROTO_BINARY;
        return NULL;
    }
    snprintf(e->buf, sizeof(e->buf),
             "Invalid value for binding protocol: %.64s\n -- should be one of auto, binary, or ascii", arg);
    return fail64(e, e->buf);
}

/* Applies -a (octal, at most 0777). */
static const char *apply_mask(struct settings *s, const char *arg)
{
    char *end;

    errno = 0;
    unsigned long v = strtoul(arg, &end, 8);
    if (errno != 0 || end == arg || *end != '\0' || arg[0] == '-' || v > 0777)
        return "Unix socket mask must be an octal number up to 777";
    s->unix_mask = (unsigned)v;
    return NULL;
}

/* Applies one --snapshot-* option; returns an error message or NULL. */
static const char *apply_snapshot(struct settings *s, int opt, const char *arg)
{
    unsigned long long v = 0;

    switch (opt) {
    case OPT_SNAPSHOT_PATH:
        if (arg[0] == '\0')
            return "Snapshot path must not be empty";
        return set_string(&s->snapshot_path, arg) ? NULL : "out of memory";
    case OPT_SNAPSHOT_INTERVAL:
        if (!parse_ull(arg, SNAPSHOT_INTERVAL_MAX, &v))
            return "Snapshot interval must be a number of seconds between 0 and 31622400";
        s->snapshot_interval = (unsigned)v;
        return NULL;
    case OPT_SNAPSHOT_ON_SHUTDOWN:
        return parse_yes_no(arg, &s->snapshot_on_shutdown) ? NULL : "Snapshot on shutdown must be yes or no";
    case OPT_SNAPSHOT_BAD_FILE:
        if (strcmp(arg, "fail") != 0 && strcmp(arg, "set-aside") != 0)
            return "Snapshot bad file must be fail or set-aside";
        s->snapshot_set_aside = arg[0] == 's';
        return NULL;
    default:
        return "internal error: unknown snapshot option";
    }
}

/*
 * memcached 1.6.18's options beyond the ones cairn always had: the ones cairn carries out (-r, -M, -k,
 * -L, -W, -e, -S, -Y), one accepted with no effect (-N) and the one cairn does not have (-Z), which
 * stops start-up with EX_USAGE as memcached does when it is built without it.
 */
static const char *apply_process_option(struct settings *s, int opt, const char *arg, struct parse_error *e)
{
    e->exit_1 = false;
    switch (opt) {
    case 'r':
        s->max_core = true;
        return NULL;
    case 'M':
        s->no_evict = true;
        return NULL;
    case 'k':
        s->lock_memory = true;
        return NULL;
    case 'L':
        s->large_pages = true;
        return NULL;
    case 'W':
        s->watch_disabled = true;
        return NULL;
    case 'e':
        if (arg[0] == '\0')
            return "Memory file path must not be empty";
        return set_string(&s->memory_file, arg) ? NULL : "out of memory";
    case 'N':
        /* memcached's atoi() and text; cairn also refuses what is not a whole number */
        if (!atoi_zero(arg) && arg[0] != '-') {
            unsigned long long v;
            if (parse_ull(arg, INT_MAX, &v) && v > 0) {
                s->napi_ids = (unsigned)v;
                settings_note_no_effect(s, "-N (NAPI ids)");
                return NULL;
            }
        }
        return fail1(e, "Maximum number of NAPI IDs must be greater than 0");
    case 'S':
        s->sasl = true;
        return NULL;
    case 'Y':
        if (arg[0] == '\0')
            return "-Y: the auth file path must not be empty";
        return set_string(&s->auth_file, arg) ? NULL : "out of memory";
    case 'Z':
        return "-Z: cairn does not support TLS";
    default:
        return "internal error: unknown option";
    }
}

/* Applies one option; returns an error message (also in e->msg) or NULL. */
static const char *apply_option(struct settings *s, int opt, const char *arg, struct parse_error *e, FILE *err)
{
    if (opt == OPT_SNAPSHOT_ON_SHUTDOWN)
        s->snapshot_on_shutdown_given = true;
    if (opt >= OPT_SNAPSHOT_PATH && opt <= OPT_SNAPSHOT_BAD_FILE)
        return fail64(e, apply_snapshot(s, opt, arg));
    e->exit_1 = false;
    switch (opt) {
    case 'l':
        return add_listen(s, arg) ? NULL : "out of memory";
    case 's':
        return set_string(&s->unix_socket, arg) ? NULL : "out of memory";
    case 'P':
        return set_string(&s->pid_file, arg) ? NULL : "out of memory";
    case 'u':
        return set_string(&s->user, arg) ? NULL : "out of memory";
    case 'a':
        /* cairn only: memcached's strtol() takes any text. */
        return apply_mask(s, arg);
    case 'f':
        return apply_factor(s, arg, e);
    case 'B':
        return apply_protocol(s, arg, e);
    case 'v':
        s->verbose++;
        return NULL;
    case 'd':
        s->daemonize = true;
        return NULL;
    case 'A':
        s->enable_shutdown = true;
        return NULL;
    case 'C':
        s->use_cas = false;
        return NULL;
    case 'F':
        s->flush_enabled = false;
        return NULL;
    case 'X':
        s->dump_disabled = true;
        return NULL;
    case 'r':
    case 'M':
    case 'k':
    case 'L':
    case 'W':
    case 'e':
    case 'N':
    case 'S':
    case 'Y':
    case 'Z':
        return apply_process_option(s, opt, arg, e);
    case OPT_CONFIG:
        /* settings_expand_config() takes every --config; only an abbreviation gets here */
        return "--config must be spelled in full";
    case OPT_DISABLE_ADMIN:
        s->admin_disabled = true;
        s->flush_enabled = false;
        return NULL;
    case OPT_RESP_PORT: {
        unsigned long long v;
        if (!parse_ull(arg, 65535, &v))
            return "--resp-port takes a port number (0-65535)";
        s->resp_port = (int)v;
        return NULL;
    }
    case OPT_IO_URING:
        return parse_yes_no(arg, &s->io_uring) ? NULL : "--io-uring takes yes or no";
    case OPT_REQUIREPASS:
        return set_string(&s->requirepass, arg) ? NULL : "out of memory";
    case OPT_PROTECTED_MODE:
        return parse_yes_no(arg, &s->protected_mode) ? NULL : "--protected-mode takes yes or no";
    case OPT_CLUSTER_CONFIG:
        if (arg[0] == '\0')
            return "--cluster-config takes a file name";
        return set_string(&s->cluster_config, arg) ? NULL : "out of memory";
    case OPT_CLUSTER_ENABLED:
        return parse_yes_no(arg, &s->cluster_enabled) ? NULL : "--cluster-enabled takes yes or no";
    case OPT_METRICS_PORT: {
        unsigned long long v;
        if (!parse_ull(arg, 65535, &v))
            return "--metrics-port takes a port number (0-65535)";
        s->metrics_port = (int)v;
        return NULL;
    }
    case OPT_SLOWLOG_SLOWER_THAN:
        return parse_ll(arg, &s->slowlog_log_slower_than)
                   ? NULL
                   : "--slowlog-log-slower-than takes a number of microseconds";
    case OPT_SLOWLOG_MAX_LEN: {
        unsigned long long v;
        if (!parse_ull(arg, INT64_MAX, &v))
            return "--slowlog-max-len takes a number of entries (0 or more)";
        s->slowlog_max_len = (uint64_t)v;
        return NULL;
    }
    case OPT_LOG_FILE:
        if (arg[0] == '\0')
            return "--log-file: the file name must not be empty";
        return set_string(&s->log_file, arg) ? NULL : "out of memory";
    case 'o':
        return fail1(e, settings_apply_extended(s, arg, e->buf, err)); /* memcached: exit 1 */
    case OPT_IDLE_TIMEOUT:
        return apply_seconds(arg, &s->idle_timeout, "--idle-timeout takes a number of seconds");
    case OPT_REQUEST_TIMEOUT:
        return apply_seconds(arg, &s->request_timeout, "--request-timeout takes a number of seconds");
    case OPT_OUTPUT_TIMEOUT:
        return apply_seconds(arg, &s->output_timeout, "--output-timeout takes a number of seconds");
    case OPT_READ_BUF_LIMIT: {
        unsigned long long v;
        if (!parse_ull(arg, UINT32_MAX, &v))
            return "--read-buf-limit takes a number of megabytes";
        s->read_buf_limit = (uint64_t)v * MIB;
        return NULL;
    }
    case 'D':
        if (arg[0] == '\0')
            return fail1(e, "No delimiter specified");
        s->prefix_delimiter = arg[0];
        s->detail_enabled = true;
        return NULL;
    default:
        return apply_number(s, opt, arg, e, err);
    }
}

/* Makes a relative path absolute, so that it still names the same file after -d changes to "/". */
static bool make_absolute(char **path)
{
    char cwd[4096];

    if (*path == NULL || (*path)[0] == '/')
        return true;
    if (getcwd(cwd, sizeof(cwd)) == NULL)
        return false;
    size_t n = strlen(cwd) + strlen(*path) + 2;
    char *abs = malloc(n);
    if (abs == NULL)
        return false;
    snprintf(abs, n, "%s/%s", cwd, *path);
    free(*path);
    *path = abs;
    return true;
}

/*
 * -e FILE, memcached's restartable cache, is a snapshot at FILE: loaded at start (then removed, so
 * that only the next graceful stop brings the cache back), saved on SIGUSR1 (which always saves) and
 * not on SIGTERM unless --snapshot-on-shutdown=yes says so; a bad file is set aside and the cache
 * starts empty, as memcached starts clean when its memory file does not check out. False (e->msg
 * set) when --snapshot-path names another file or there is no memory.
 */
static bool apply_memory_file(struct settings *s, struct parse_error *e)
{
    if (s->memory_file == NULL)
        return true;
    if (s->snapshot_path != NULL && strcmp(s->snapshot_path, s->memory_file) != 0) {
        e->msg = "-e and --snapshot-path name different files: give one of them";
        return false;
    }
    if (s->snapshot_path == NULL && !set_string(&s->snapshot_path, s->memory_file)) {
        e->msg = "out of memory";
        return false;
    }
    if (!s->snapshot_on_shutdown_given)
        s->snapshot_on_shutdown = false;
    s->snapshot_set_aside = true;
    return true;
}

/*
 * The credentials' options together: an empty --requirepass means none (as Redis's requirepass ""),
 * and -S without -Y takes memcached's SASL password file, $MEMCACHED_SASL_PWDB; -S with no
 * credentials at all is refused (it would lock every client out). False with e->msg set.
 */
static bool check_auth(struct settings *s, struct parse_error *e)
{
    if (s->requirepass != NULL && s->requirepass[0] == '\0') {
        free(s->requirepass);
        s->requirepass = NULL;
    }
    if (s->sasl && s->auth_file == NULL) {
        const char *pwdb = getenv("MEMCACHED_SASL_PWDB");
        if (pwdb != NULL && pwdb[0] != '\0' && !set_string(&s->auth_file, pwdb)) {
            e->msg = "out of memory";
            return false;
        }
    }
    if (s->sasl && s->auth_file == NULL && s->requirepass == NULL) {
        e->msg = "-S needs credentials: give -Y <file>, --requirepass, or a user:password file in "
                 "MEMCACHED_SASL_PWDB";
        return false;
    }
    return true;
}

/* Checks the options that depend on each other, the size limits and the port in memcached's order
 * (all EX_USAGE there); returns an error message (also in e->msg) or NULL. */
static const char *check_combined(struct settings *s, struct parse_error *e)
{
    e->exit_1 = false;
    if (s->napi_ids > s->threads) {
        snprintf(e->buf, sizeof(e->buf),
                 "Number of napi_ids(%u) cannot be greater than number of threads(%u)", s->napi_ids,
                 s->threads);
        return e->msg = e->buf;
    }
    if (s->item_size_max < ITEM_SIZE_MIN)
        return e->msg = "Item max size cannot be less than 1024 bytes.";
    if (s->item_size_max > s->memory_limit / 2)
        return e->msg = "Cannot set item size limit higher than 1/2 of memory max.";
    if (s->item_size_max > ITEM_SIZE_MAX_LIMIT)
        return e->msg = "Cannot set item size limit higher than a gigabyte.";
    if (s->port > 65535) {
        snprintf(e->buf, sizeof(e->buf), "ERROR: Invalid port number %d.", s->port);
        return e->msg = e->buf;
    }
    if (s->unix_socket != NULL && s->unix_socket[0] == '\0')
        return e->msg = "Unix socket path must not be empty";
    if ((e->msg = settings_check_extended(s, e->buf)) != NULL)
        return e->msg;
    if (!apply_memory_file(s, e))
        return e->msg;
    if (s->snapshot_path == NULL && s->snapshot_interval > 0)
        return e->msg = "--snapshot-interval needs --snapshot-path";
    if (s->nlisten == 0 && !add_listen(s, "127.0.0.1"))
        return e->msg = "out of memory";
    if (!check_auth(s, e))
        return e->msg;
    if (!make_absolute(&s->pid_file) || !make_absolute(&s->unix_socket) ||
        !make_absolute(&s->snapshot_path) || !make_absolute(&s->auth_file) || !make_absolute(&s->log_file))
        return e->msg = "cannot resolve a relative path: the current directory is unknown";
    return NULL;
}

/* Reports a refused option as memcached does: the reason alone (no usage), exit 1 or EX_USAGE. */
static enum settings_status invalid(FILE *err, const struct parse_error *e)
{
    if (e->msg != NULL)
        fprintf(err, "%s\n", e->msg);
    return e->exit_1 ? SETTINGS_BAD_VALUE : SETTINGS_INVALID;
}

/* Parses argv (the --config files already spliced in) into s and checks the values together. */
static enum settings_status parse_argv(struct settings *s, int argc, char **argv, FILE *out, FILE *err)
{
    struct parse_error e = {0};
    int opt;

    optind = 0; /* glibc: 0 also forgets a short-option cluster a previous parse left half read */
    opterr = 1;
    while ((opt = getopt_long(argc, argv, short_opts, long_opts, NULL)) != -1) {
        if (opt == '?' || opt == ':') {
            /* getopt printed what is wrong; memcached adds this line and returns 1. */
            fprintf(err, "Illegal argument \"?\"\n");
            return SETTINGS_BAD_VALUE;
        }
        if (opt == 'h') {
            settings_usage(out);
            return SETTINGS_EXIT;
        }
        if (opt == 'V') {
            fprintf(out, "%s\n", CAIRN_VERSION);
            return SETTINGS_EXIT;
        }
        if (opt == 'i') {
            settings_license(out);
            return SETTINGS_EXIT;
        }
        const char *why = apply_option(s, opt, optarg, &e, err);
        if (why != NULL) {
            e.msg = why;
            return invalid(err, &e);
        }
    }
    if (optind < argc) {
        /* cairn only: memcached ignores words that are not options. */
        snprintf(e.buf, sizeof(e.buf), "Unexpected argument \"%.64s\"", argv[optind]);
        e.msg = e.buf;
        return invalid(err, &e);
    }
    if (check_combined(s, &e) != NULL)
        return invalid(err, &e);
    return SETTINGS_OK;
}

/*
 * Parses argv into s and checks the values together: every --config FILE is replaced by the file's
 * options first (settings_file.c). Help and version go to out; errors to err. The caller calls
 * settings_deinit() whatever the result.
 */
enum settings_status settings_parse(struct settings *s, int argc, char **argv, FILE *out, FILE *err)
{
    int full_argc = 0;
    char **full = settings_expand_config(s, argc, argv, &full_argc, err);

    if (full == NULL)
        return SETTINGS_INVALID;
    enum settings_status st = parse_argv(s, full_argc, full, out, err);
    free(full);
    return st;
}
