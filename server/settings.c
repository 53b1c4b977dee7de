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
    OPT_READ_BUF_LIMIT
};
#define SNAPSHOT_INTERVAL_MAX (366u * 24 * 3600)

static const char short_opts[] = "p:l:t:m:c:I:f:n:vU:s:a:dP:u:AhVCb:R:D:o:";

static const struct option long_opts[] = {
    {"port", required_argument, NULL, 'p'},
    {"listen", required_argument, NULL, 'l'},
    {"threads", required_argument, NULL, 't'},
    {"memory-limit", required_argument, NULL, 'm'},
    {"conn-limit", required_argument, NULL, 'c'},
    {"max-item-size", required_argument, NULL, 'I'},
    {"slab-growth-factor", required_argument, NULL, 'f'},
    {"slab-min-size", required_argument, NULL, 'n'},
    {"verbose", no_argument, NULL, 'v'},
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
    {NULL, 0, NULL, 0},
};

/* Prints the option summary. */
void settings_usage(FILE *f)
{
    fputs(CAIRN_VERSION
          "\n"
          "-p, --port=<num>          TCP port to listen on (default: 11211)\n"
          "-U, --udp-port=<num>      UDP port to listen on (default: 0, off; only 0 is accepted)\n"
          "-s, --unix-socket=<file>  UNIX socket to listen on (disables network support)\n"
          "-a, --unix-mask=<mask>    access mask for UNIX socket, in octal (default: 700)\n"
          "-A, --enable-shutdown     enable ascii \"shutdown\" command\n"
          "-l, --listen=<addr>       interface to listen on (default: 127.0.0.1)\n"
          "                          repeat or separate with commas for several; IPv6\n"
          "                          literals as ::1 or [::1], optionally <addr>:<port>\n"
          "-d, --daemon              run as a daemon\n"
          "-u, --user=<user>         assume identity of <username> (only when run as root)\n"
          "-m, --memory-limit=<num>  item memory in megabytes (default: 64)\n"
          "-c, --conn-limit=<num>    max simultaneous connections (default: 1024)\n"
          "-v, --verbose             verbose (print errors/warnings while in event loop)\n"
          "-vv                       very verbose (also print client connections)\n"
          "-h, --help                print this help and exit\n"
          "-V, --version             print version and exit\n"
          "-P, --pidfile=<file>      save PID in <file>\n"
          "-D, --prefix-delimiter=<char> key prefix delimiter for per-prefix stats;\n"
          "                          giving it turns `stats detail` on (default: ':', off)\n"
          "-f, --slab-growth-factor=<num> chunk size growth factor (default: 1.25)\n"
          "-n, --slab-min-size=<bytes> min space used for key+value+flags (default: 48)\n"
          "-t, --threads=<num>       number of threads to use (default: 4)\n"
          "-R, --max-reqs-per-event  maximum number of reads per event, limits the\n"
          "                          time spent on one connection to prevent\n"
          "                          starvation (default: 20)\n"
          "-C, --disable-cas         disable use of CAS\n"
          "-b, --listen-backlog=<num> set the backlog queue limit (default: 1024)\n"
          "-I, --max-item-size=<num> adjusts max item size\n"
          "                          (default: 1m, min: 1k, max: 1024m)\n"
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
          "--idle-timeout=<sec>      as -o idle_timeout\n"
          "--request-timeout=<sec>   close a connection whose request line or value\n"
          "                          stays unfinished this long (default: 30, 0 = never)\n"
          "--output-timeout=<sec>    close a connection whose replies wait unread this\n"
          "                          long (default: 60, 0 = never)\n"
          "--read-buf-limit=<mb>     as -o read_buf_mem_limit\n",
          f);
}

/* Fills s with the defaults (memcached's, except the listen address 127.0.0.1). */
void settings_init(struct settings *s)
{
    memset(s, 0, sizeof(*s));
    s->port = 11211;
    s->unix_mask = 0700;
    s->threads = 4;
    s->memory_limit = 64 * MIB;
    s->maxconns = 1024;
    s->item_size_max = MIB;
    s->growth_factor = 1.25;
    s->chunk_min = 48;
    s->use_cas = true;
    s->prefix_delimiter = ':';
    s->backlog = 1024;
    s->reqs_per_event = 20;
    s->snapshot_on_shutdown = true;
    s->io_uring = true;
    s->request_timeout = 30;
    s->output_timeout = 60;
    s->read_buf_limit = 64 * MIB;
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

/* Parses a whole decimal number in [0, max]; false on junk, a sign or overflow. */
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

/* Parses a size with an optional k/m/g suffix (powers of 1024), as -I takes it. */
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
    if (v > (ULLONG_MAX >> shift))
        return false;
    *out = v << shift;
    return true;
}

/* Appends one -l value: remembers it for "inter" and splits it at commas into the address list. */
static bool add_listen(struct settings *s, const char *arg)
{
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

/* Applies one numeric option; returns an error message or NULL. */
static const char *apply_number(struct settings *s, int opt, const char *arg)
{
    unsigned long long v = 0;
    bool ok;

    switch (opt) {
    case 'p':
        if (!parse_ull(arg, 65535, &v))
            return "Port must be a number between 0 and 65535";
        s->port = (int)v;
        return NULL;
    case 'U':
        if (!parse_ull(arg, 65535, &v))
            return "UDP port must be a number between 0 and 65535";
        if (v != 0)
            return "UDP is not supported: use -U 0";
        s->udp_port = 0;
        return NULL;
    case 't':
        if (!parse_ull(arg, UINT_MAX, &v) || v == 0)
            return "Number of threads must be greater than 0";
        if (v > THREADS_MAX)
            return "Number of threads must be at most 256";
        s->threads = (unsigned)v;
        return NULL;
    case 'm':
        if (!parse_ull(arg, MEMORY_LIMIT_MAX_MB, &v))
            return "Memory limit must be a number of megabytes between 0 and 32768";
        s->memory_limit = (size_t)v * MIB;
        return NULL;
    case 'c':
        if (!parse_ull(arg, INT_MAX, &v) || v == 0)
            return "Maximum connections must be greater than 0";
        s->maxconns = (unsigned)v;
        return NULL;
    case 'I':
        ok = parse_size(arg, &v);
        if (!ok)
            return "Item max size must be a number with an optional k or m suffix";
        if (v > ITEM_SIZE_MAX_LIMIT)
            return "Cannot set item size limit higher than a gigabyte.";
        if (v < ITEM_SIZE_MIN)
            return "Item max size cannot be less than 1024 bytes.";
        s->item_size_max = (size_t)v;
        return NULL;
    case 'n':
        if (!parse_ull(arg, ITEM_SIZE_MAX_LIMIT, &v) || v == 0)
            return "Chunk size must be greater than 0";
        s->chunk_min = (size_t)v;
        return NULL;
    case 'b':
        if (!parse_ull(arg, INT_MAX, &v) || v == 0)
            return "Listen backlog must be greater than 0";
        s->backlog = (int)v;
        return NULL;
    case 'R':
        if (!parse_ull(arg, INT_MAX, &v) || v == 0)
            return "Number of requests per event must be greater than 0";
        s->reqs_per_event = (unsigned)v;
        return NULL;
    default:
        return "internal error: unknown numeric option";
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

/* Applies one NAME=VALUE of -o; the names cairn does not know are refused as memcached refuses them. */
static const char *apply_suboption(struct settings *s, char *sub)
{
    static char msg[300];
    unsigned long long v;
    char *val = strchr(sub, '=');

    if (val != NULL)
        *val++ = '\0';
    if (strcmp(sub, "idle_timeout") == 0 && val != NULL)
        return apply_seconds(val, &s->idle_timeout, "idle_timeout must be a number of seconds");
    if (strcmp(sub, "read_buf_mem_limit") == 0 && val != NULL) {
        if (!parse_ull(val, UINT32_MAX, &v))
            return "read_buf_mem_limit must be a number of megabytes";
        s->read_buf_limit = (uint64_t)v * MIB;
        return NULL;
    }
    if (val != NULL)
        val[-1] = '=';
    snprintf(msg, sizeof(msg), "Illegal suboption \"%s\"", sub);
    return msg;
}

/* Applies -o: a comma-separated list of suboptions. */
static const char *apply_extended(struct settings *s, const char *arg)
{
    char *copy = strdup(arg);
    const char *why = copy == NULL ? "out of memory" : NULL;
    char *save = NULL;

    for (char *sub = copy ? strtok_r(copy, ",", &save) : NULL; sub != NULL && why == NULL;
         sub = strtok_r(NULL, ",", &save))
        why = apply_suboption(s, sub);
    free(copy);
    return why;
}

/* Applies -f. */
static const char *apply_factor(struct settings *s, const char *arg)
{
    char *end;

    errno = 0;
    double f = strtod(arg, &end);
    if (errno != 0 || end == arg || *end != '\0' || !(f > 1.0) || f > 100.0)
        return "Factor must be greater than 1";
    s->growth_factor = f;
    return NULL;
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

/* Applies one option; returns an error message or NULL. */
static const char *apply_option(struct settings *s, int opt, const char *arg)
{
    if (opt >= OPT_SNAPSHOT_PATH && opt <= OPT_SNAPSHOT_BAD_FILE)
        return apply_snapshot(s, opt, arg);
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
        return apply_mask(s, arg);
    case 'f':
        return apply_factor(s, arg);
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
    case OPT_IO_URING:
        return parse_yes_no(arg, &s->io_uring) ? NULL : "--io-uring takes yes or no";
    case 'o':
        return apply_extended(s, arg);
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
            return "No delimiter specified";
        s->prefix_delimiter = arg[0];
        s->detail_enabled = true;
        return NULL;
    default:
        return apply_number(s, opt, arg);
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

/* Checks the options that depend on each other; returns an error message or NULL. */
static const char *check_combined(struct settings *s)
{
    if (s->item_size_max > s->memory_limit / 2)
        return "Cannot set item size limit higher than 1/2 of memory max.";
    if (s->unix_socket != NULL && s->unix_socket[0] == '\0')
        return "Unix socket path must not be empty";
    if (s->snapshot_path == NULL && s->snapshot_interval > 0)
        return "--snapshot-interval needs --snapshot-path";
    if (s->nlisten == 0 && !add_listen(s, "127.0.0.1"))
        return "out of memory";
    if (!make_absolute(&s->pid_file) || !make_absolute(&s->unix_socket) ||
        !make_absolute(&s->snapshot_path))
        return "cannot resolve a relative path: the current directory is unknown";
    return NULL;
}

/* Reports a bad option: the reason, then the usage. */
static enum settings_status invalid(FILE *err, const char *why)
{
    if (why != NULL)
        fprintf(err, "%s\n", why);
    settings_usage(err);
    return SETTINGS_INVALID;
}

/*
 * Parses argv into s and checks the values together. Help and version go to out; errors and the usage
 * to err. The caller calls settings_deinit() whatever the result.
 */
enum settings_status settings_parse(struct settings *s, int argc, char **argv, FILE *out, FILE *err)
{
    int opt;

    optind = 1;
    opterr = 1;
    while ((opt = getopt_long(argc, argv, short_opts, long_opts, NULL)) != -1) {
        if (opt == '?' || opt == ':')
            return invalid(err, NULL);
        if (opt == 'h') {
            settings_usage(out);
            return SETTINGS_EXIT;
        }
        if (opt == 'V') {
            fprintf(out, "%s\n", CAIRN_VERSION);
            return SETTINGS_EXIT;
        }
        const char *why = apply_option(s, opt, optarg);
        if (why != NULL)
            return invalid(err, why);
    }
    if (optind < argc) {
        fprintf(err, "Unexpected argument \"%s\"\n", argv[optind]);
        return invalid(err, NULL);
    }
    const char *why = check_combined(s);
    if (why != NULL)
        return invalid(err, why);
    return SETTINGS_OK;
}
