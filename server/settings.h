/*
 * settings.h: the server's command-line options, parsed once in main() into one struct that is passed
 * down to every part of the server. Nothing reads a global settings object.
 *
 * Options keep memcached 1.6's short and long names and its limits and messages where memcached has
 * them. Strings in the struct are owned copies, freed by settings_deinit().
 *
 * Threads: parsed before any thread starts; read-only afterwards, so any thread may read it.
 */
#ifndef CAIRN_SERVER_SETTINGS_H
#define CAIRN_SERVER_SETTINGS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include "config.h"

/* The one place the version strings are made. The protocol's is parsed by clients that gate features
 * on memcached's major.minor.micro, so it starts with the memcached release we follow. */
#define CAIRN_VERSION          "cairn " PACKAGE_VERSION
#define CAIRN_PROTOCOL_VERSION "1.6.18-cairn-" PACKAGE_VERSION

/* At most this many distinct no-effect options are remembered for the start-up report. */
#define SETTINGS_NO_EFFECT_MAX 48

/* -B: which protocols the memcached port speaks (memcached's binding_protocol). */
enum settings_protocol {
    SETTINGS_PROTO_AUTO = 0, /* the first byte decides: 0x80 binary, '*' RESP, else text */
    SETTINGS_PROTO_ASCII,    /* text (and RESP for '*'); a binary request is read as text */
    SETTINGS_PROTO_BINARY    /* binary only: anything else is closed on its first header */
};

struct settings {
    int port;      /* -p, TCP port (0 = any free port) */
    char **listen; /* -l addresses, split at commas; default 127.0.0.1 */
    size_t nlisten;
    char *listen_spec;       /* the -l values as given, joined by ',' (stats settings "inter") */
    int udp_port;            /* -U, only 0 is accepted */
    enum settings_protocol protocol; /* -B */
    int resp_port;           /* --resp-port: a port that speaks RESP from the first byte (-1 = none) */
    int metrics_port;        /* --metrics-port: HTTP /metrics and /healthz on the -l addresses (-1 = none) */
    char *unix_socket;       /* -s, a path; when set, no TCP listener */
    unsigned unix_mask;      /* -a, octal permissions of the socket file */
    unsigned threads;        /* -t, worker threads */
    size_t memory_limit;     /* -m, bytes */
    unsigned maxconns;       /* -c */
    size_t item_size_max;    /* -I, bytes */
    double growth_factor;    /* -f */
    size_t chunk_min;        /* -n */
    unsigned verbose;        /* -v count */
    bool daemonize;          /* -d */
    char *pid_file;          /* -P */
    char *user;              /* -u */
    bool enable_shutdown;    /* -A */
    bool flush_enabled;      /* cleared by -F (and --disable-admin-commands) */
    bool admin_disabled;     /* --disable-admin-commands */
    bool dump_disabled;      /* -X: stats cachedump and lru_crawler metadump are refused */
    bool use_cas;            /* cleared by -C */
    int backlog;             /* -b, listen() backlog */
    unsigned reqs_per_event; /* -R, reads handled per connection per event before yielding */
    char prefix_delimiter;   /* -D, per-prefix stats delimiter (default ':') */
    bool detail_enabled;     /* -D given: `stats detail` starts on, as in memcached */
    /* Snapshots: all off unless a path is given. */
    char *snapshot_path;          /* --snapshot-path, absolute; NULL = no snapshots */
    unsigned snapshot_interval;   /* --snapshot-interval, seconds between periodic saves; 0 = none */
    bool snapshot_on_shutdown;    /* --snapshot-on-shutdown yes|no (default yes) */
    bool snapshot_set_aside;      /* --snapshot-bad-file set-aside (default fail) */
    bool io_uring;           /* --io-uring yes|no: batch reads and writes through io_uring */
    /* Per-client bounds (conn.c). Seconds; 0 = off. */
    unsigned idle_timeout;    /* -o idle_timeout / --idle-timeout: close connections idle this long */
    unsigned request_timeout; /* --request-timeout: close a connection whose request stays unfinished */
    unsigned output_timeout;  /* --output-timeout: close a connection whose replies go unread */
    uint64_t read_buf_limit;  /* -o read_buf_mem_limit (MB) / --read-buf-limit: grown read buffers
                               * in all, bytes; 0 = no limit */
    /* The slow log (protocol/slowlog.h); both change at run time through CONFIG SET. */
    int64_t slowlog_log_slower_than; /* --slowlog-log-slower-than, microseconds (< 0: off, 0: all) */
    uint64_t slowlog_max_len;        /* --slowlog-max-len: entries kept */
    /* memcached 1.6.18's process options (settings.c) */
    bool no_evict;       /* -M: a full cache refuses stores instead of evicting */
    bool lock_memory;    /* -k: mlockall() at start (a warning if refused) */
    bool max_core;       /* -r: raise the core file size limit as far as allowed */
    bool large_pages;    /* -L: transparent huge pages on the slab arena where the kernel has them */
    bool watch_disabled; /* -W: `watch` answers memcached's "not allowed" */
    char *memory_file;   /* -e: warm restart: a snapshot at this path, saved on SIGUSR1 only and
                          * removed once loaded (check_combined maps it onto snapshot_path) */
    bool snapshot_on_shutdown_given; /* --snapshot-on-shutdown was given (-e leaves it alone then) */
    unsigned napi_ids;               /* -N: accepted (no effect: no NAPI thread selection) */
    char *log_file;                  /* --log-file, or `logfile FILE` in a --config file: stdout and stderr
                                      * appended there, log lines time-stamped, reopened on SIGHUP */
    /* Access control (protocol/auth.h, doc/auth.md) */
    char *auth_file;     /* -Y / --auth-file: user:password[:role] lines; with -S and no -Y, the file
                          * $MEMCACHED_SASL_PWDB names; NULL = none */
    bool sasl;           /* -S: authentication required (needs -Y, $MEMCACHED_SASL_PWDB or --requirepass) */
    char *cluster_config; /* --cluster-config: the static cluster topology file (NULL = none) */
    bool cluster_enabled; /* --cluster-enabled: cluster mode (a file implies it) */
    char *requirepass;   /* --requirepass: the password of user "default"; NULL (or "") = none */
    bool protected_mode; /* --protected-mode yes|no (default yes): without credentials, refuse to
                          * listen on anything but loopback addresses and unix sockets */
    /* -o suboptions that take effect (settings_extended.c) */
    unsigned hashpower_init;  /* hashpower: log2 of the initial bucket count; 0 = cairn's default */
    bool no_hash_expand;      /* no_hashexpand: the hash table keeps its first size */
    bool slab_reassign;       /* cleared by no_slab_reassign and no_modern: `slabs reassign` refused */
    bool maxconns_fast;       /* at -c: refuse at once (default); cleared by no_maxconns_fast and
                               * no_modern: stop accepting, new clients wait in the backlog */
    unsigned slab_automove;   /* slab_automove=0|1|2 (default 1) */
    bool lru_crawler;         /* lru_crawler / no_lru_crawler: `lru_crawler crawl` allowed */
    unsigned crawler_sleep;   /* lru_crawler_sleep (stats settings; cairn's reclaim does not sleep) */
    unsigned crawler_tocrawl; /* lru_crawler_tocrawl: items one `lru_crawler crawl` visits; 0 = all */
    /* -o tuning knobs of memcached's internals that cairn does differently: kept only for the
     * checks memcached makes across options (settings_check_extended) */
    unsigned slab_chunk_max; /* slab_chunk_max, bytes; 0 = not given */
    char *slab_sizes;        /* slab_sizes as given; NULL = not given */
    unsigned hot_lru_pct;    /* default 20 */
    unsigned warm_lru_pct;   /* default 40 */
    bool lru_maintainer;     /* cleared by no_lru_maintainer and no_modern */
    bool temp_lru;           /* temporary_ttl given */
    /* Suboptions and options accepted for memcached's sake that change nothing here: their names,
     * reported once at start with -v. Static strings. */
    const char *no_effect[SETTINGS_NO_EFFECT_MAX];
    size_t nno_effect;
};

/* memcached 1.6.18 refuses a bad option in one of two ways, and cairn follows it: a value checked as
 * it is read exits 1 (memcached's `return 1`), the rest exit EX_USAGE (64). */
enum settings_status {
    SETTINGS_OK = 0,   /* parsed and valid: run the server */
    SETTINGS_EXIT,     /* -h or -V was answered: exit 0 */
    SETTINGS_INVALID,  /* the reason was printed: exit 64 (EX_USAGE) */
    SETTINGS_BAD_VALUE /* the reason was printed: exit 1 */
};

/* Fills s with the defaults (memcached's, except the listen address 127.0.0.1). */
void settings_init(struct settings *s);

/*
 * Parses argv into s (which settings_init() prepared) and checks the values together (e.g. -I against
 * -m). Help and version text go to out, errors to err, with memcached 1.6.18's text where memcached
 * refuses the value (and no usage after them, as memcached). The caller calls settings_deinit()
 * whatever the result.
 */
enum settings_status settings_parse(struct settings *s, int argc, char **argv, FILE *out, FILE *err);

/* Frees the strings s owns; s can be initialised again. */
void settings_deinit(struct settings *s);

/* Prints the option summary. */
void settings_usage(FILE *f);

#endif
