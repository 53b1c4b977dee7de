/*
 * test_settings.c: the option parser (server/settings.c, settings_extended.c, settings_file.c) alone,
 * table-driven: each row is a command line, the status settings_parse() returns and what it printed;
 * then the fields the memcached options set, and the --config file's format.
 */
#include "config.h"

#include "server/settings.h"

#include <criterion/criterion.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#define MAX_ARGS 16

/* One parse: argv from a space-separated line (no quoting), what went to err. */
struct parsed {
    struct settings s;
    enum settings_status st;
    char *err;
    size_t errlen;
};

static void parse_line(struct parsed *p, const char *line)
{
    char buf[512];
    char *argv[MAX_ARGS + 1] = {"cairn"};
    int argc = 1;
    snprintf(buf, sizeof(buf), "%s", line);
    for (char *save = NULL, *w = strtok_r(buf, " ", &save); w != NULL && argc < MAX_ARGS;
         w = strtok_r(NULL, " ", &save))
        argv[argc++] = w;
    argv[argc] = NULL;
    FILE *out = fopen("/dev/null", "w");
    FILE *err = open_memstream(&p->err, &p->errlen);
    cr_assert(out != NULL && err != NULL);
    settings_init(&p->s);
    p->st = settings_parse(&p->s, argc, argv, out, err);
    fclose(out);
    fclose(err);
}

static void parsed_free(struct parsed *p)
{
    settings_deinit(&p->s);
    free(p->err);
}

struct row {
    const char *line;
    enum settings_status st;
    const char *err; /* exact text printed; NULL = not checked */
};

static const struct row rows[] = {
    /* accepted */
    {"-o idle_timeout=5,read_buf_mem_limit=3", SETTINGS_OK, ""},
    {"-o modern,maxconns_fast,slab_reassign,lru_crawler,lru_maintainer", SETTINGS_OK, ""},
    {"-o hashpower=12", SETTINGS_OK, ""},
    {"-o hashpower=32", SETTINGS_OK, ""},
    {"-o slab_automove", SETTINGS_OK, ""},
    {"-o slab_automove=0", SETTINGS_OK, ""},
    {"-o slab_chunk_max=524288", SETTINGS_OK, ""},
    {"-o slab_chunk_max=1048576 -I 2m", SETTINGS_OK, ""},
    {"-o slab_sizes=64-128-256", SETTINGS_OK, ""},
    {"-o resp_obj_mem_limit=1", SETTINGS_OK,
     "DEPRECATED: resp_obj_mem_limit no longer used. See read_buf_mem_limit,\n"},
    {"-r -M -k -L -W -X -F -N 1", SETTINGS_OK, ""},
    {"--enable-coredumps --disable-evictions --lock-memory --enable-largepages --disable-watch", SETTINGS_OK,
     ""},
    {"-e /tmp/cairn-unit-mem", SETTINGS_OK, ""},
    {"--memory-file=/tmp/cairn-unit-mem --snapshot-path=/tmp/cairn-unit-mem", SETTINGS_OK, ""},
    {"-i", SETTINGS_EXIT, ""},
    {"--license", SETTINGS_EXIT, ""},
    /* memcached's refusals: exit 1 while reading, EX_USAGE after */
    {"-o bogus", SETTINGS_BAD_VALUE, "Illegal suboption \"bogus\"\n"},
    {"-o bogus=1", SETTINGS_BAD_VALUE, "Illegal suboption \"bogus=1\"\n"},
    {"-o hashpower=11", SETTINGS_BAD_VALUE, "Initial hashtable multiplier of 11 is too low\n"},
    {"-o hashpower=abc", SETTINGS_BAD_VALUE, "Initial hashtable multiplier of 0 is too low\n"},
    {"-o slab_automove=-1", SETTINGS_BAD_VALUE, "slab_automove must be between 0 and 2\n"},
    {"-o lru_crawler_sleep", SETTINGS_BAD_VALUE, "Missing lru_crawler_sleep value\n"},
    {"-o worker_logbuf_size", SETTINGS_BAD_VALUE, "Missing worker_logbuf_size argument\n"},
    {"-o slab_chunk_max", SETTINGS_BAD_VALUE, "Missing slab_chunk_max argument\n"},
    {"-o slab_chunk_max=0", SETTINGS_BAD_VALUE, "could not parse argument to slab_chunk_max\n"},
    {"-o read_buf_mem_limit", SETTINGS_BAD_VALUE, "Missing read_buf_mem_limit argument\n"},
    {"-o warm_lru_pct=30,hot_lru_pct=60", SETTINGS_INVALID,
     "hot_lru_pct + warm_lru_pct cannot be more than 80% combined\n"},
    {"-o temporary_ttl=10,no_modern", SETTINGS_INVALID,
     "temporary_ttl requires lru_maintainer to be enabled\n"},
    {"-o slab_sizes=64-128 -n 100", SETTINGS_INVALID, "slab size 64 is out of valid range\n"},
    {"-N -3", SETTINGS_BAD_VALUE, "Maximum number of NAPI IDs must be greater than 0\n"},
    {"-N 5", SETTINGS_INVALID, "Number of napi_ids(5) cannot be greater than number of threads(4)\n"},
    /* features cairn does not have */
    {"-o ext_path=/x:1G", SETTINGS_BAD_VALUE,
     "-o ext_path: cairn does not support external storage (extstore)\n"},
    {"-o ext_threads=2", SETTINGS_BAD_VALUE,
     "-o ext_threads: cairn does not support external storage (extstore)\n"},
    {"-o ssl_key=k.pem", SETTINGS_BAD_VALUE, "-o ssl_key: cairn does not support TLS\n"},
    {"-o proxy_uring", SETTINGS_BAD_VALUE, "-o proxy_uring: cairn does not support the proxy\n"},
    {"-Z", SETTINGS_INVALID, "-Z: cairn does not support TLS\n"},
    {"-S", SETTINGS_INVALID,
     "-S needs credentials: give -Y <file>, --requirepass, or a user:password file in MEMCACHED_SASL_PWDB\n"},
    {"--auth-file=", SETTINGS_INVALID, "-Y: the auth file path must not be empty\n"},
    {"--protected-mode=perhaps", SETTINGS_INVALID, "--protected-mode takes yes or no\n"},
    {"--cluster-enabled=maybe", SETTINGS_INVALID, "--cluster-enabled takes yes or no\n"},
    {"--cluster-config=", SETTINGS_INVALID, "--cluster-config takes a file name\n"},
    {"-e /a --snapshot-path=/b", SETTINGS_INVALID,
     "-e and --snapshot-path name different files: give one of them\n"},
    {"--conf /x", SETTINGS_INVALID, "--config must be spelled in full\n"},
    {"--slowlog-log-slower-than=-1 --slowlog-max-len=0", SETTINGS_OK, ""},
    {"--slowlog-log-slower-than=1.5", SETTINGS_INVALID,
     "--slowlog-log-slower-than takes a number of microseconds\n"},
    {"--slowlog-log-slower-than=", SETTINGS_INVALID,
     "--slowlog-log-slower-than takes a number of microseconds\n"},
    {"--slowlog-log-slower-than=99999999999999999999", SETTINGS_INVALID,
     "--slowlog-log-slower-than takes a number of microseconds\n"},
    {"--slowlog-max-len=-1", SETTINGS_INVALID, "--slowlog-max-len takes a number of entries (0 or more)\n"},
    {"--slowlog-max-len=x", SETTINGS_INVALID, "--slowlog-max-len takes a number of entries (0 or more)\n"},
};

Test(settings, table)
{
    for (size_t i = 0; i < sizeof(rows) / sizeof(rows[0]); i++) {
        struct parsed p;
        parse_line(&p, rows[i].line);
        cr_expect_eq(p.st, rows[i].st, "%s: status %d, expected %d (%s)", rows[i].line, p.st, rows[i].st,
                     p.err);
        if (rows[i].err != NULL)
            cr_expect_str_eq(p.err, rows[i].err, "%s", rows[i].line);
        parsed_free(&p);
    }
}

Test(settings, memcached_options_set_fields)
{
    struct parsed p;
    parse_line(&p, "-M -k -r -L -W -o hashpower=20,no_hashexpand,slab_automove=2,no_lru_crawler,"
                   "lru_crawler_sleep=7,lru_crawler_tocrawl=9,idle_timeout=11,read_buf_mem_limit=2");
    cr_assert_eq(p.st, SETTINGS_OK, "%s", p.err);
    cr_expect(p.s.no_evict && p.s.lock_memory && p.s.max_core && p.s.large_pages && p.s.watch_disabled);
    cr_expect_eq(p.s.hashpower_init, 20);
    cr_expect(p.s.no_hash_expand);
    cr_expect_eq(p.s.slab_automove, 2);
    cr_expect(!p.s.lru_crawler);
    cr_expect_eq(p.s.crawler_sleep, 7);
    cr_expect_eq(p.s.crawler_tocrawl, 9);
    cr_expect_eq(p.s.idle_timeout, 11);
    cr_expect_eq(p.s.read_buf_limit, 2u << 20);
    cr_expect_eq(p.s.nno_effect, 0, "no option here is without effect, yet %zu reported", p.s.nno_effect);
    parsed_free(&p);
}

Test(settings, slowlog_options_set_fields)
{
    static const struct {
        const char *line;
        int64_t slower_than;
        uint64_t max_len;
    } cases[] = {
        {"-p 1", 10000, 128},
        {"--slowlog-log-slower-than=0", 0, 128},
        {"--slowlog-log-slower-than=-1 --slowlog-max-len=5", -1, 5},
        {"--slowlog-log-slower-than -250 --slowlog-max-len 9223372036854775807", -250, INT64_MAX},
        {"--slowlog-log-slower-than=9223372036854775807", INT64_MAX, 128},
    };
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        struct parsed p;
        parse_line(&p, cases[i].line);
        cr_assert_eq(p.st, SETTINGS_OK, "%s: %s", cases[i].line, p.err);
        cr_expect_eq(p.s.slowlog_log_slower_than, cases[i].slower_than, "%s", cases[i].line);
        cr_expect_eq(p.s.slowlog_max_len, cases[i].max_len, "%s", cases[i].line);
        parsed_free(&p);
    }
}

Test(settings, cluster_options_set_fields)
{
    struct parsed p;
    parse_line(&p, "--cluster-config=/etc/cairn/cluster.conf --cluster-enabled=yes");
    cr_assert_eq(p.st, SETTINGS_OK, "%s", p.err);
    cr_expect_str_eq(p.s.cluster_config, "/etc/cairn/cluster.conf");
    cr_expect(p.s.cluster_enabled);
    parsed_free(&p);
    parse_line(&p, "-p 1");
    cr_assert_eq(p.st, SETTINGS_OK, "%s", p.err);
    cr_expect_null(p.s.cluster_config);
    cr_expect(!p.s.cluster_enabled);
    parsed_free(&p);
}

Test(settings, no_effect_options_are_named_once)
{
    struct parsed p;
    parse_line(&p, "-o hot_lru_pct=30,track_sizes,hot_lru_pct=25 -N 1 -o track_sizes");
    cr_assert_eq(p.st, SETTINGS_OK, "%s", p.err);
    cr_assert_eq(p.s.nno_effect, 3);
    cr_expect_str_eq(p.s.no_effect[0], "hot_lru_pct");
    cr_expect_str_eq(p.s.no_effect[1], "track_sizes");
    cr_expect_str_eq(p.s.no_effect[2], "-N (NAPI ids)");
    parsed_free(&p);
}

Test(settings, memory_file_is_a_snapshot_saved_on_sigusr1_only)
{
    struct parsed p;
    parse_line(&p, "-e /tmp/cairn-unit-mem");
    cr_assert_eq(p.st, SETTINGS_OK, "%s", p.err);
    cr_expect_str_eq(p.s.snapshot_path, "/tmp/cairn-unit-mem");
    cr_expect(!p.s.snapshot_on_shutdown);
    cr_expect(p.s.snapshot_set_aside);
    parsed_free(&p);
    parse_line(&p, "-e /tmp/cairn-unit-mem --snapshot-on-shutdown=yes");
    cr_assert_eq(p.st, SETTINGS_OK, "%s", p.err);
    cr_expect(p.s.snapshot_on_shutdown, "an explicit --snapshot-on-shutdown wins");
    parsed_free(&p);
}

Test(settings, listen_address_given_twice_is_one_listener)
{
    struct parsed p;
    parse_line(&p, "-l 127.0.0.1 -l 127.0.0.1 -l ::1");
    cr_assert_eq(p.st, SETTINGS_OK, "%s", p.err);
    cr_expect_eq(p.s.nlisten, 2);
    cr_expect_str_eq(p.s.listen_spec, "127.0.0.1,::1");
    parsed_free(&p);
}

/* ---- --config ---- */

static char conf_path[64];

static void write_conf(const char *text)
{
    snprintf(conf_path, sizeof(conf_path), "/tmp/cairn-unit-conf-%d", (int)getpid());
    FILE *f = fopen(conf_path, "w");
    cr_assert_not_null(f);
    fputs(text, f);
    fclose(f);
}

static void remove_conf(void)
{
    if (conf_path[0] != '\0')
        unlink(conf_path);
}

Test(settings, config_file_lines, .fini = remove_conf)
{
    write_conf("# comment\n"
               "\n"
               "-m 32      # trailing comment\n"
               "  -p 11999\n"
               "-vv\n"
               "--max-item-size=2m\n"
               "-o idle_timeout=3\n"
               "-P /tmp/cairn unit.pid\n"
               "-l 127.0.0.1\n"
               "logfile /tmp/cairn-unit.log\n"
               "-logfile /tmp/cairn-unit2.log\r\n");
    char line[128];
    struct parsed p;
    snprintf(line, sizeof(line), "-m 64 --config %s -p 12000", conf_path);
    parse_line(&p, line);
    cr_assert_eq(p.st, SETTINGS_OK, "%s", p.err);
    cr_expect_eq(p.s.memory_limit, 32u << 20, "the file overrides what comes before --config");
    cr_expect_eq(p.s.port, 12000, "what comes after --config overrides the file");
    cr_expect_eq(p.s.verbose, 2);
    cr_expect_eq(p.s.item_size_max, 2u << 20);
    cr_expect_eq(p.s.idle_timeout, 3);
    cr_expect_str_eq(p.s.pid_file, "/tmp/cairn unit.pid", "a value is the rest of the line");
    cr_expect_str_eq(p.s.log_file, "/tmp/cairn-unit2.log", "the last logfile line wins");
    cr_expect_eq(p.s.nlisten, 1);
    parsed_free(&p);
    snprintf(line, sizeof(line), "--config=%s", conf_path);
    parse_line(&p, line);
    cr_assert_eq(p.st, SETTINGS_OK, "%s", p.err);
    cr_expect_eq(p.s.port, 11999);
    parsed_free(&p);
}

Test(settings, config_file_errors, .fini = remove_conf)
{
    char line[128], want[256];
    struct parsed p;

    write_conf("-m 64\nport 11211\n");
    snprintf(line, sizeof(line), "--config %s", conf_path);
    parse_line(&p, line);
    snprintf(want, sizeof(want), "%s:2: \"port\" is not an option (options start with '-')\n", conf_path);
    cr_expect_eq(p.st, SETTINGS_INVALID);
    cr_expect_str_eq(p.err, want);
    parsed_free(&p);

    write_conf("logfile\n");
    parse_line(&p, line);
    snprintf(want, sizeof(want), "%s:1: logfile needs a file name\n", conf_path);
    cr_expect_str_eq(p.err, want);
    parsed_free(&p);

    write_conf("-m 64\n--config=/etc/memcached.conf\n");
    parse_line(&p, line);
    snprintf(want, sizeof(want), "%s:2: --config cannot be used inside a config file\n", conf_path);
    cr_expect_str_eq(p.err, want);
    parsed_free(&p);

    write_conf("-o bogus\n");
    parse_line(&p, line);
    cr_expect_eq(p.st, SETTINGS_BAD_VALUE, "an option of the file is refused as on the command line");
    cr_expect_str_eq(p.err, "Illegal suboption \"bogus\"\n");
    parsed_free(&p);

    parse_line(&p, "--config /nonexistent/cairn.conf");
    cr_expect_eq(p.st, SETTINGS_INVALID);
    cr_expect_str_eq(p.err,
                     "Could not open the config file /nonexistent/cairn.conf: No such file or directory\n");
    parsed_free(&p);
}

Test(settings, debian_stock_memcached_conf)
{
    char line[64];
    struct parsed p;
    if (access("/etc/memcached.conf", R_OK) != 0)
        cr_skip_test("no /etc/memcached.conf");
    snprintf(line, sizeof(line), "--config /etc/memcached.conf");
    parse_line(&p, line);
    cr_assert_eq(p.st, SETTINGS_OK, "%s", p.err);
    cr_expect(p.s.daemonize);
    cr_expect_eq(p.s.memory_limit, 64u << 20);
    cr_expect_eq(p.s.port, 11211);
    cr_expect_str_eq(p.s.user, "memcache");
    cr_expect_str_eq(p.s.listen_spec, "127.0.0.1");
    cr_expect_str_eq(p.s.pid_file, "/var/run/memcached/memcached.pid");
    cr_expect_str_eq(p.s.log_file, "/var/log/memcached.log");
    parsed_free(&p);
}
