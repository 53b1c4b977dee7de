/*
 * test_cmdline.c: memcached 1.6.18's whole command line and the --config file.
 *
 * - every option of `memcached -h` and every -o suboption memcached accepts starts the server (one
 *   start per row), and the ones cairn carries out show in `stats settings` or in behaviour;
 * - every refused value gets memcached's message and exit status, and every feature cairn does not
 *   have (extstore, TLS, SASL, auth files, the proxy) stops start-up with a message naming it;
 * - `stats settings` lists memcached's names in memcached's order;
 * - -M: a full cache answers SERVER_ERROR out of memory storing object (and RESP's -OOM) instead of
 *   evicting; -e: SIGUSR1 saves, the next start restores, and only once;
 * - --config: Debian's stock /etc/memcached.conf starts cairn (its pid and log paths moved to a
 *   temporary directory), the format's comments, logfile and precedence, and its errors.
 * Rows marked cairn_only are skipped with CAIRN_TEST_TARGET=memcached; the rest pass against
 * memcached 1.6.18 too.
 */
#include "config.h"

#include "tests/integration/harness.h"

#include <criterion/criterion.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

TestSuite(cmdline, .fini = h_teardown, .timeout = 120);

/* A temporary directory for the test's files, removed (with what is in it) by cleanup_dir. */
static char tmp_dir[64];

static void make_tmp_dir(void)
{
    snprintf(tmp_dir, sizeof(tmp_dir), "/tmp/cairn-cmdline-XXXXXX");
    cr_assert_not_null(mkdtemp(tmp_dir), "mkdtemp");
    chmod(tmp_dir, 0755);
}

static void cleanup_dir(void)
{
    h_teardown();
    if (tmp_dir[0] != '\0') {
        char cmd[128];
        snprintf(cmd, sizeof(cmd), "rm -rf '%s'", tmp_dir);
        if (system(cmd) != 0)
            fprintf(stderr, "could not remove %s\n", tmp_dir);
        tmp_dir[0] = '\0';
    }
}

static void tmp_file(char *buf, size_t cap, const char *name)
{
    snprintf(buf, cap, "%s/%s", tmp_dir, name);
}

/* Starts the target with extra, checks that it answers, stops it with SIGTERM and expects exit 0. */
static void expect_starts(const char *const *extra)
{
    h_server_start(&h_srv, extra);
    int fd = h_connect(h_srv.port);
    h_sends(fd, "version\r\n");
    char *line = h_read_line(fd);
    cr_assert(strncmp(line, "VERSION ", 8) == 0, "%s %s: answered %s", extra[0], extra[1] ? extra[1] : "",
              line);
    free(line);
    close(fd);
    bool to;
    int st = h_server_stop(&h_srv, SIGTERM, &to);
    cr_assert(!to && WIFEXITED(st) && WEXITSTATUS(st) == 0, "%s %s: status 0x%x; output:\n%s", extra[0],
              extra[1] ? extra[1] : "", (unsigned)st, h_last_log());
}

/* ---- accepted ---- */

struct accepted {
    const char *args[4];
    bool cairn_only;
};

/* Every -o suboption memcached 1.6.18 (Debian's build) accepts, with a valid value. */
static const struct accepted suboptions[] = {
    {{"-o", "maxconns_fast"}},
    {{"-o", "no_maxconns_fast"}},
    {{"-o", "hashpower=16"}},
    {{"-o", "no_hashexpand"}},
    {{"-o", "slab_reassign"}},
    {{"-o", "no_slab_reassign"}},
    {{"-o", "slab_automove"}},
    {{"-o", "slab_automove=2"}},
    {{"-o", "no_slab_automove"}},
    {{"-o", "slab_automove_ratio=0.5"}},
    {{"-o", "slab_automove_window=10"}},
    {{"-o", "tail_repair_time=60"}},
    {{"-o", "hash_algorithm=jenkins"}},
    {{"-o", "hash_algorithm=murmur3"}},
    {{"-o", "hash_algorithm=xxh3"}},
    {{"-o", "lru_crawler"}},
    {{"-o", "no_lru_crawler"}},
    {{"-o", "lru_crawler_sleep=50"}},
    {{"-o", "lru_crawler_tocrawl=100"}},
    {{"-o", "lru_maintainer"}},
    {{"-o", "no_lru_maintainer"}},
    {{"-o", "hot_lru_pct=30"}},
    {{"-o", "warm_lru_pct=30"}},
    {{"-o", "hot_max_factor=0.5"}},
    {{"-o", "warm_max_factor=1.5"}},
    {{"-o", "temporary_ttl=30"}},
    {{"-o", "idle_timeout=30"}},
    {{"-o", "watcher_logbuf_size=128"}},
    /* at least -n: memcached 1.6.18 also reads worker_logbuf_size's value as slab_sizes */
    {{"-o", "worker_logbuf_size=64"}},
    {{"-o", "slab_sizes=96-192-384-768"}},
    {{"-o", "slab_chunk_max=524288"}},
    {{"-o", "track_sizes"}},
    {{"-o", "no_inline_ascii_resp"}},
    {{"-o", "inline_ascii_resp"}},
    {{"-o", "modern"}},
    {{"-o", "no_modern"}},
    {{"-o", "no_chunked_items"}},
    {{"-o", "drop_privileges"}},
    {{"-o", "no_drop_privileges"}},
    {{"-o", "resp_obj_mem_limit=10"}},
    {{"-o", "read_buf_mem_limit=32"}},
    {{"-o", "sock_cookie_id=5"}},
    {{"-o", "slab_automove_freeratio=0.02"}},
    {{"-o", "modern,lru_crawler,lru_maintainer,slab_reassign,slab_automove=1,hashpower=20,idle_timeout=600"}},
    {{"--extended=maxconns_fast,track_sizes"}},
};

Test(cmdline, every_suboption_starts)
{
    for (size_t i = 0; i < sizeof(suboptions) / sizeof(suboptions[0]); i++)
        if (!suboptions[i].cairn_only || !h_target_is_memcached())
            expect_starts(suboptions[i].args);
}

/* The other options of `memcached -h` that a server starts with (-d, -P, -s, -u, -h, -V: see
 * test_daemon). */
static const struct accepted options[] = {
    {{"-r"}},
    {{"--enable-coredumps"}},
    {{"-M"}},
    {{"--disable-evictions"}},
    {{"-k"}},
    {{"--lock-memory"}},
    {{"-L"}},
    {{"--enable-largepages"}},
    {{"-v"}},
    {{"-vv"}},
    {{"--verbose"}},
    {{"-F"}},
    {{"--disable-flush-all"}},
    {{"-X"}},
    {{"--disable-dumping"}},
    {{"-W"}},
    {{"--disable-watch"}},
    {{"-C"}},
    {{"--disable-cas"}},
    {{"-A"}},
    {{"--enable-shutdown"}},
    {{"-N", "1"}},
    {{"--napi-ids=2"}},
    {{"-D", "/"}},
    {{"-R", "10"}},
    {{"--max-reqs-per-event=10"}},
    {{"-b", "128"}},
    {{"--listen-backlog=128"}},
    {{"-f", "1.5"}},
    {{"--slab-growth-factor=1.5"}},
    {{"-n", "64"}},
    {{"--slab-min-size=64"}},
    {{"-I", "2m"}},
    {{"--max-item-size=2m"}},
    {{"-c", "512"}},
    {{"--conn-limit=512"}},
    {{"--memory-limit=32"}},
    {{"--threads=2"}},
    {{"-a", "600"}},
    {{"--unix-mask=600"}},
    {{"-U", "0"}},
    {{"--udp-port=0"}},
    {{"-B", "ascii"}},
};

/* -r where the core file limit cannot leave 0 (a hard limit of 0 that this process may not raise,
 * tried in a child): core files stay off, and memcached refuses to start. */
static bool core_files_impossible(const char *arg)
{
    struct rlimit rl;
    if ((strcmp(arg, "-r") != 0 && strcmp(arg, "--enable-coredumps") != 0) ||
        getrlimit(RLIMIT_CORE, &rl) != 0 || rl.rlim_max != 0)
        return false;
    pid_t pid = fork();
    if (pid == 0) {
        struct rlimit inf = {RLIM_INFINITY, RLIM_INFINITY};
        _exit(setrlimit(RLIMIT_CORE, &inf) == 0 ? 0 : 1);
    }
    int st = 0;
    waitpid(pid, &st, 0);
    return !(WIFEXITED(st) && WEXITSTATUS(st) == 0);
}

static void expect_refused_core(const char *arg);

Test(cmdline, every_option_starts)
{
    for (size_t i = 0; i < sizeof(options) / sizeof(options[0]); i++) {
        if (options[i].cairn_only && h_target_is_memcached())
            continue;
        if (core_files_impossible(options[i].args[0]))
            expect_refused_core(options[i].args[0]);
        else
            expect_starts(options[i].args);
    }
}

Test(cmdline, memory_file_option_starts, .fini = cleanup_dir)
{
    char path[128], arg[160];
    make_tmp_dir();
    tmp_file(path, sizeof(path), "mem");
    snprintf(arg, sizeof(arg), "--memory-file=%s", path);
    const char *const e_short[] = {"-e", path, NULL};
    const char *const e_long[] = {arg, NULL};
    expect_starts(e_short);
    expect_starts(e_long);
}

Test(cmdline, help_and_license_exit_0)
{
    const char *bin = h_target_is_memcached() ? h_memcached_bin() : h_cairn_bin();
    static const char *const flags[] = {"-h", "--help", "-i", "--license", "-V", "--version"};
    for (size_t i = 0; i < sizeof(flags) / sizeof(flags[0]); i++) {
        const char *argv[] = {"memcached", flags[i], NULL};
        struct h_server srv = {0};
        h_spawn_raw(&srv, bin, argv);
        int st;
        bool exited = h_server_wait(&srv, 5000, &st);
        char *log = h_server_log(&srv);
        bool to;
        h_server_stop(&srv, SIGKILL, &to);
        cr_assert(exited && WIFEXITED(st) && WEXITSTATUS(st) == 0, "%s: status 0x%x", flags[i], (unsigned)st);
        cr_assert(strlen(log) > 0, "%s printed nothing", flags[i]);
        free(log);
    }
}

Test(cmdline, help_lists_every_memcached_option)
{
    if (h_target_is_memcached())
        cr_skip_test("cairn's help");
    const char *argv[] = {"cairn", "-h", NULL};
    struct h_server srv = {0};
    h_spawn_raw(&srv, h_cairn_bin(), argv);
    int st;
    cr_assert(h_server_wait(&srv, 5000, &st));
    char *log = h_server_log(&srv);
    bool to;
    h_server_stop(&srv, SIGKILL, &to);
    static const char *const names[] = {"-p, --port",
                                        "-U, --udp-port",
                                        "-s, --unix-socket",
                                        "-a, --unix-mask",
                                        "-A, --enable-shutdown",
                                        "-l, --listen",
                                        "-d, --daemon",
                                        "-r, --enable-coredumps",
                                        "-u, --user",
                                        "-m, --memory-limit",
                                        "-M, --disable-evictions",
                                        "-c, --conn-limit",
                                        "-k, --lock-memory",
                                        "-v, --verbose",
                                        "-h, --help",
                                        "-i, --license",
                                        "-V, --version",
                                        "-P, --pidfile",
                                        "-f, --slab-growth-factor",
                                        "-n, --slab-min-size",
                                        "-L, --enable-largepages",
                                        "-D",
                                        "-t, --threads",
                                        "-R, --max-reqs-per-event",
                                        "-C, --disable-cas",
                                        "-b, --listen-backlog",
                                        "-B, --protocol",
                                        "-I, --max-item-size",
                                        "-S, --enable-sasl",
                                        "-F, --disable-flush-all",
                                        "-X, --disable-dumping",
                                        "-W, --disable-watch",
                                        "-Y, --auth-file",
                                        "-e, --memory-file",
                                        "-Z, --enable-ssl",
                                        "-o, --extended",
                                        "-N, --napi-ids",
                                        "--config"};
    for (size_t i = 0; i < sizeof(names) / sizeof(names[0]); i++)
        cr_expect(strstr(log, names[i]) != NULL, "-h does not list %s", names[i]);
    free(log);
}

/* ---- refused ---- */

struct refused {
    const char *args[4];
    const char *err;
    int status;
    bool cairn_only;
};

static const struct refused refusals[] = {
    /* memcached's checks of -o values, its messages and exit status */
    {{"-o", "bogus"}, "Illegal suboption \"bogus\"\n", 1, false},
    /* not a memcached suboption in 1.6.18 (nor later): refused as memcached refuses it */
    {{"-o", "shutdown_timer=5"}, "Illegal suboption \"shutdown_timer=5\"\n", 1, false},
    {{"-o", "idle_timeout=5,bogus=1"}, "Illegal suboption \"bogus=1\"\n", 1, false},
    {{"-o", "hashpower"}, "Missing numeric argument for hashpower\n", 1, false},
    {{"-o", "hashpower=5"}, "Initial hashtable multiplier of 5 is too low\n", 1, false},
    {{"-o", "hashpower=40"},
     "Initial hashtable multiplier of 40 is too high\n"
     "Choose a value based on \"STAT hash_power_level\" from a running instance\n",
     1,
     false},
    {{"-o", "slab_automove=3"}, "slab_automove must be between 0 and 2\n", 1, false},
    {{"-o", "slab_automove_ratio=2"}, "slab_automove_ratio must be > 0 and < 1\n", 1, false},
    {{"-o", "slab_automove_ratio"}, "Missing slab_automove_ratio argument\n", 1, false},
    {{"-o", "slab_automove_window=2"}, "slab_automove_window must be > 2\n", 1, false},
    {{"-o", "tail_repair_time=5"}, "Cannot set tail_repair_time to less than 10 seconds\n", 1, false},
    {{"-o", "hash_algorithm=md5"}, "Unknown hash_algorithm option (jenkins, murmur3, xxh3)\n", 1, false},
    {{"-o", "lru_crawler_sleep=2000000"}, "LRU crawler sleep must be between 0 and 1 second\n", 1, false},
    {{"-o", "lru_crawler_tocrawl=x"}, "lru_crawler_tocrawl takes a numeric 32bit value\n", 1, false},
    {{"-o", "hot_lru_pct=0"}, "hot_lru_pct must be > 1 and < 80\n", 1, false},
    {{"-o", "warm_lru_pct=90"}, "warm_lru_pct must be > 1 and < 80\n", 1, false},
    {{"-o", "hot_max_factor=0"}, "hot_max_factor must be > 0\n", 1, false},
    {{"-o", "warm_max_factor=-1"}, "warm_max_factor must be > 0\n", 1, false},
    {{"-o", "temporary_ttl"}, "Missing temporary_ttl argument\n", 1, false},
    {{"-o", "idle_timeout"}, "Missing numeric argument for idle_timeout\n", 1, false},
    {{"-o", "watcher_logbuf_size=x"}, "could not parse argument to watcher_logbuf_size\n", 1, false},
    {{"-o", "read_buf_mem_limit=x"}, "could not parse argument to read_buf_mem_limit\n", 1, false},
    /* checked after the whole command line: EX_USAGE */
    {{"-o", "slab_chunk_max=3000"},
     "-I (item_size_max: 1048576) must be evenly divisible by slab_chunk_max (bytes: 3000)\n",
     64,
     false},
    {{"-o", "slab_chunk_max=2097152"},
     "slab_chunk_max (bytes: 2097152) cannot be larger than -I (item_size_max 1048576)\n",
     64,
     false},
    {{"-o", "slab_chunk_max=393216", "-I", "786432"},
     "slab_chunk_max (bytes: 393216) must divide evenly into 1048576 (slab_page_size)\n",
     64,
     false},
    {{"-o", "slab_sizes=100-104"},
     "slab size 104 must be at least 8 bytes larger than previous class\n",
     64,
     false},
    {{"-o", "slab_sizes=200-100"},
     "slab size 100 cannot be lower than or equal to a previous class size\n",
     64,
     false},
    {{"-o", "slab_sizes=10"}, "slab size 10 is out of valid range\n", 64, false},
    {{"-o", "hot_lru_pct=50,warm_lru_pct=40"},
     "hot_lru_pct + warm_lru_pct cannot be more than 80% combined\n",
     64,
     false},
    {{"-o", "temporary_ttl=5,no_lru_maintainer"},
     "temporary_ttl requires lru_maintainer to be enabled\n",
     64,
     false},
    {{"-N", "0"}, "Maximum number of NAPI IDs must be greater than 0\n", 1, false},
    {{"-N", "8", "-t", "4"},
     "Number of napi_ids(8) cannot be greater than number of threads(4)\n",
     64,
     false},
    /* features cairn does not have: named, memcached's exit status for such options */
    {{"-o", "ext_path=/tmp/extstore:64m"},
     "-o ext_path: cairn does not support external storage (extstore)\n",
     1,
     true},
    {{"-o", "ext_item_size=1024"},
     "-o ext_item_size: cairn does not support external storage (extstore)\n",
     1,
     true},
    {{"-o", "ssl_chain_cert=/tmp/cert.pem"}, "-o ssl_chain_cert: cairn does not support TLS\n", 1, true},
    {{"-o", "ssl_verify_mode=1"}, "-o ssl_verify_mode: cairn does not support TLS\n", 1, true},
    {{"-o", "proxy_config=/tmp/proxy.lua"}, "-o proxy_config: cairn does not support the proxy\n", 1, true},
    {{"-Z"}, "-Z: cairn does not support TLS\n", 64, true},
    {{"--enable-ssl"}, "-Z: cairn does not support TLS\n", 64, true},
    {{"-S"},
     "-S needs credentials: give -Y <file>, --requirepass, or a user:password file in MEMCACHED_SASL_PWDB\n",
     64,
     true},
    {{"-Y", "/nonexistent/auth", "-u", "root"},
     "failed to load the credentials: cannot open /nonexistent/auth: No such file or directory\n",
     1,
     true},
    {{"-l", "0.0.0.0", "-u", "root"},
     "refusing to listen on tcp:0.0.0.0:11211 (-l 0.0.0.0) without credentials (protected mode): anyone who "
     "can reach it could read, change and flush every item. Give -Y <file> or --requirepass <password>, "
     "listen on 127.0.0.1 only, or start with --protected-mode no to run open.\n",
     71,
     true},
    {{"--protected-mode", "maybe"}, "--protected-mode takes yes or no\n", 64, true},
    {{"-U", "11211"}, "UDP is not supported: use -U 0\n", 64, true},
    {{"-e", ""}, "Memory file path must not be empty\n", 64, true},
};

/* Runs the target with row's arguments; expects its exit within 5 s with the row's output and status. */
static void expect_refused(const struct refused *row)
{
    const char *bin = h_target_is_memcached() ? h_memcached_bin() : h_cairn_bin();
    const char *argv[8] = {"memcached"};
    size_t n = 1;
    for (size_t i = 0; i < 4 && row->args[i] != NULL; i++)
        argv[n++] = row->args[i];
    struct h_server srv = {0};
    h_spawn_raw(&srv, bin, argv);
    int st;
    bool exited = h_server_wait(&srv, 5000, &st);
    char *log = h_server_log(&srv);
    bool to;
    h_server_stop(&srv, SIGKILL, &to);
    cr_assert(exited, "%s %s kept running", row->args[0], row->args[1] ? row->args[1] : "");
    h_compare_at(__FILE__, __LINE__, row->args[1] ? row->args[1] : row->args[0], row->err, strlen(row->err),
                 log, strlen(log));
    cr_assert(WIFEXITED(st) && WEXITSTATUS(st) == row->status, "%s %s: status 0x%x, expected exit %d",
              row->args[0], row->args[1] ? row->args[1] : "", (unsigned)st, row->status);
    free(log);
}

static void expect_refused_core(const char *arg)
{
    const struct refused row = {{arg}, "failed to ensure corefile creation\n", 71, false};
    expect_refused(&row);
}

Test(cmdline, refused_values_and_features)
{
    for (size_t i = 0; i < sizeof(refusals) / sizeof(refusals[0]); i++)
        if (!refusals[i].cairn_only || !h_target_is_memcached())
            expect_refused(&refusals[i]);
}

/* ---- stats settings ---- */

/* memcached 1.6.18's `stats settings` names, in its order (Debian's build). */
static const char *const settings_names[] = {"maxbytes",
                                             "maxconns",
                                             "tcpport",
                                             "udpport",
                                             "inter",
                                             "verbosity",
                                             "oldest",
                                             "evictions",
                                             "domain_socket",
                                             "umask",
                                             "shutdown_command",
                                             "growth_factor",
                                             "chunk_size",
                                             "num_threads",
                                             "num_threads_per_udp",
                                             "stat_key_prefix",
                                             "detail_enabled",
                                             "reqs_per_event",
                                             "cas_enabled",
                                             "tcp_backlog",
                                             "binding_protocol",
                                             "auth_enabled_sasl",
                                             "auth_enabled_ascii",
                                             "item_size_max",
                                             "maxconns_fast",
                                             "hashpower_init",
                                             "slab_reassign",
                                             "slab_automove",
                                             "slab_automove_ratio",
                                             "slab_automove_window",
                                             "slab_chunk_max",
                                             "lru_crawler",
                                             "lru_crawler_sleep",
                                             "lru_crawler_tocrawl",
                                             "tail_repair_time",
                                             "flush_enabled",
                                             "dump_enabled",
                                             "hash_algorithm",
                                             "lru_maintainer_thread",
                                             "lru_segmented",
                                             "hot_lru_pct",
                                             "warm_lru_pct",
                                             "hot_max_factor",
                                             "warm_max_factor",
                                             "temp_lru",
                                             "temporary_ttl",
                                             "idle_timeout",
                                             "watcher_logbuf_size",
                                             "worker_logbuf_size",
                                             "read_buf_mem_limit",
                                             "track_sizes",
                                             "inline_ascii_response",
                                             "ext_item_size",
                                             "ext_item_age",
                                             "ext_low_ttl",
                                             "ext_recache_rate",
                                             "ext_wbuf_size",
                                             "ext_compact_under",
                                             "ext_drop_under",
                                             "ext_max_sleep",
                                             "ext_max_frag",
                                             "slab_automove_freeratio",
                                             "ext_drop_unread",
                                             "ssl_enabled",
                                             "ssl_chain_cert",
                                             "ssl_key",
                                             "ssl_verify_mode",
                                             "ssl_keyformat",
                                             "ssl_ciphers",
                                             "ssl_ca_cert",
                                             "ssl_wbuf_size",
                                             "ssl_session_cache",
                                             "ssl_kernel_tls",
                                             "ssl_min_version",
                                             "num_napi_ids",
                                             "memory_file"};

Test(cmdline, stats_settings_names_in_memcached_order)
{
    h_server_start(&h_srv, NULL);
    int fd = h_connect(h_srv.port);
    char *st = h_stats_raw(fd, "settings");
    const char *p = st;
    size_t i = 0;
    while (strncmp(p, "STAT ", 5) == 0) {
        const char *name = p + 5;
        size_t n = strcspn(name, " ");
        cr_assert(i < sizeof(settings_names) / sizeof(settings_names[0]), "extra STAT %.*s", (int)n, name);
        cr_assert(strlen(settings_names[i]) == n && strncmp(name, settings_names[i], n) == 0,
                  "STAT %zu is %.*s, memcached's is %s", i, (int)n, name, settings_names[i]);
        i++;
        p = strstr(p, "\r\n") + 2;
    }
    cr_assert_eq(i, sizeof(settings_names) / sizeof(settings_names[0]), "%zu STAT lines; answer:\n%s", i, st);
    cr_assert_str_eq(p, "END\r\n");
    free(st);
}

static void expect_setting(const char *stats, const char *name, const char *want)
{
    char val[256];
    cr_assert(h_stat_find(stats, name, val, sizeof(val)), "no STAT %s", name);
    cr_expect_str_eq(val, want, "STAT %s", name);
}

Test(cmdline, stats_settings_show_options_in_force, .fini = cleanup_dir)
{
    char path[128];
    make_tmp_dir();
    tmp_file(path, sizeof(path), "mem");
    const char *const extra[] = {"-M",
                                 "-o",
                                 "hashpower=16,no_lru_crawler,lru_crawler_sleep=5,lru_crawler_tocrawl=7,"
                                 "slab_automove=2,idle_timeout=9,read_buf_mem_limit=3",
                                 "-e",
                                 path,
                                 "-W",
                                 NULL};
    h_server_start(&h_srv, extra);
    int fd = h_connect(h_srv.port);
    char *st = h_stats_raw(fd, "settings");
    expect_setting(st, "evictions", "off");
    expect_setting(st, "hashpower_init", "16");
    expect_setting(st, "lru_crawler", "no");
    expect_setting(st, "lru_crawler_sleep", "5");
    expect_setting(st, "lru_crawler_tocrawl", "7");
    expect_setting(st, "slab_automove", "2");
    expect_setting(st, "idle_timeout", "9");
    expect_setting(st, "read_buf_mem_limit", "3145728");
    expect_setting(st, "memory_file", path);
    free(st);
    /* hashpower sizes the table: 2^16 buckets */
    cr_expect_eq(h_stat(fd, "hash_power_level"), 16);
    /* -W */
    h_cmd(fd, "watch\r\n", "CLIENT_ERROR watch commands not allowed\r\n");
}

/* -S with no -Y takes memcached's SASL password file from $MEMCACHED_SASL_PWDB: the text protocol
 * then wants memcached's auth set, and stats settings say SASL is on. */
Test(cmdline, sasl_password_file_from_environment, .fini = cleanup_dir)
{
    if (h_target_is_memcached())
        return; /* Debian's memcached reads SASL users from Cyrus, not from this file */
    char path[128];
    make_tmp_dir();
    tmp_file(path, sizeof(path), "pwdb");
    FILE *f = fopen(path, "w");
    cr_assert_not_null(f);
    fputs("carol:s3cret\n", f);
    fclose(f);
    cr_assert_eq(chmod(path, 0600), 0);
    cr_assert_eq(setenv("MEMCACHED_SASL_PWDB", path, 1), 0);
    const char *const extra[] = {"-S", "-vv", NULL};
    h_server_start(&h_srv, extra);
    unsetenv("MEMCACHED_SASL_PWDB");
    int fd = h_connect(h_srv.port);
    h_cmd(fd, "get k\r\n", "CLIENT_ERROR unauthenticated\r\n");
    h_cmd(fd, "set a 0 0 13\r\ncarol wrongpw\r\n", "CLIENT_ERROR authentication failure\r\n");
    h_cmd(fd, "set a 0 0 12\r\ncarol s3cret\r\n", "STORED\r\n");
    char *st = h_stats_raw(fd, "settings");
    expect_setting(st, "auth_enabled_sasl", "yes");
    expect_setting(st, "auth_enabled_ascii", path);
    free(st);
    close(fd);
    /* nothing secret in the log, even at -vv, after a failed and a good attempt and a reload */
    cr_assert_eq(kill(h_srv.pid, SIGHUP), 0);
    h_sleep_ms(200);
    char *log = h_server_log(&h_srv);
    cr_expect(strstr(log, "s3cret") == NULL && strstr(log, "wrongpw") == NULL, "a password in the log:\n%s",
              log);
    cr_expect(strstr(log, "credentials reloaded: 1 users") != NULL, "log:\n%s", log);
    free(log);
}

Test(cmdline, no_maxconns_fast_makes_clients_wait)
{
    /* memcached's no_maxconns_fast leans on the open-file limit; cairn stops accepting at -c */
    if (h_target_is_memcached())
        cr_skip_test("cairn's accept pause at -c");
    const char *const extra[] = {"-c", "4", "-o", "no_maxconns_fast", NULL};
    h_server_start(&h_srv, extra);
    int fds[4];
    for (int i = 0; i < 4; i++) {
        fds[i] = h_connect(h_srv.port);
        h_sends(fds[i], "version\r\n");
        char *line = h_read_line(fds[i]);
        cr_assert(strncmp(line, "VERSION ", 8) == 0, "connection %d: %s", i, line);
        free(line);
    }
    int late = h_connect(h_srv.port); /* completes in the kernel's backlog */
    h_sends(late, "version\r\n");
    cr_assert(h_is_quiet(late, 300), "a fifth connection under -c 4 was served or refused at once");
    char *st = h_stats_raw(fds[0], "settings");
    expect_setting(st, "maxconns_fast", "no");
    free(st);
    cr_assert_gt(h_stat(fds[0], "listen_disabled_num"), 0);
    close(fds[1]);
    char *line = h_read_line(late);
    cr_assert(strncmp(line, "VERSION ", 8) == 0, "the waiting client got %s", line);
    free(line);
}

Test(cmdline, no_slab_reassign_refuses_slabs_reassign)
{
    const char *const extra[] = {"-o", "no_slab_reassign", NULL};
    h_server_start(&h_srv, extra);
    int fd = h_connect(h_srv.port);
    char *st = h_stats_raw(fd, "settings");
    expect_setting(st, "slab_reassign", "no");
    free(st);
    h_cmd(fd, "slabs reassign 1 2\r\n", "CLIENT_ERROR slab reassignment disabled\r\n");
    h_cmd(fd, "slabs reassign x y\r\n", "CLIENT_ERROR slab reassignment disabled\r\n");
}

Test(cmdline, napi_ids_in_stats_settings)
{
    if (h_target_is_memcached())
        cr_skip_test("memcached 1.6.18 prints num_napi_ids with %%s and crashes");
    const char *const extra[] = {"-N", "2", NULL};
    h_server_start(&h_srv, extra);
    int fd = h_connect(h_srv.port);
    char *st = h_stats_raw(fd, "settings");
    expect_setting(st, "num_napi_ids", "2");
    free(st);
}

Test(cmdline, no_hashexpand_keeps_the_table)
{
    if (h_target_is_memcached())
        cr_skip_test("memcached grows its table in a background thread");
    const char *const extra[] = {"-o", "hashpower=12,no_hashexpand", NULL};
    h_server_start(&h_srv, extra);
    int fd = h_connect(h_srv.port);
    char req[64];
    for (int i = 0; i < 20000; i++) {
        int n = snprintf(req, sizeof(req), "set k%d 0 0 1 noreply\r\n1\r\n", i);
        h_send(fd, req, (size_t)n);
    }
    h_cmd(fd, "mn\r\n", "MN\r\n");
    cr_assert_eq(h_stat(fd, "curr_items"), 20000);
    cr_assert_eq(h_stat(fd, "hash_power_level"), 12);
}

Test(cmdline, verbose_names_options_without_effect)
{
    if (h_target_is_memcached())
        cr_skip_test("cairn's start-up report");
    const char *const extra[] = {"-v", "-o", "hot_lru_pct=30,track_sizes,idle_timeout=5", NULL};
    h_server_start(&h_srv, extra);
    bool to;
    h_server_stop(&h_srv, SIGTERM, &to);
    const char *log = h_last_log();
    cr_expect(strstr(log, "hot_lru_pct: accepted for memcached's sake; no effect in cairn\n") != NULL, "%s",
              log);
    cr_expect(strstr(log, "track_sizes: accepted for memcached's sake; no effect in cairn\n") != NULL, "%s",
              log);
    cr_expect(strstr(log, "idle_timeout:") == NULL, "idle_timeout has an effect:\n%s", log);
}

/* ---- -M ---- */

/* Fills a -m 2 -M cache with 1000-byte values until a store is refused; returns how many were stored. */
static int fill_until_refused(int fd)
{
    char req[1100], val[1001];
    memset(val, 'v', 1000);
    val[1000] = '\0';
    for (int i = 0; i < 20000; i++) {
        snprintf(req, sizeof(req), "set m%d 0 0 1000\r\n%s\r\n", i, val);
        h_sends(fd, req);
        char *line = h_read_line(fd);
        bool stored = strcmp(line, "STORED\r\n") == 0;
        if (!stored)
            cr_assert_str_eq(line, "SERVER_ERROR out of memory storing object\r\n", "after %d stores", i);
        free(line);
        if (!stored)
            return i;
    }
    cr_assert_fail("20 MB stored into -m 2 -M without a refusal");
    return -1;
}

Test(cmdline, disable_evictions_refuses_instead_of_evicting)
{
    const char *const extra[] = {"-m", "2", "-M", NULL};
    h_server_start(&h_srv, extra);
    int fd = h_connect(h_srv.port);
    int stored = fill_until_refused(fd);
    cr_assert_gt(stored, 100);
    /* nothing was evicted: the first and the last stored keys are both there */
    char *v = h_get(fd, "m0", NULL);
    cr_assert_not_null(v, "the first key was evicted");
    free(v);
    char key[32];
    snprintf(key, sizeof(key), "m%d", stored - 1);
    v = h_get(fd, key, NULL);
    cr_assert_not_null(v, "the last stored key is missing");
    free(v);
    cr_assert_eq(h_stat(fd, "evictions"), 0);
    /* refused again, and deleting makes room */
    char val[1100];
    memset(val, 'w', 1000);
    val[1000] = '\0';
    char req[1200];
    snprintf(req, sizeof(req), "set again 0 0 1000\r\n%s\r\n", val);
    h_cmd(fd, req, "SERVER_ERROR out of memory storing object\r\n");
    char del[64];
    for (int i = 0; i < 50; i++) {
        snprintf(del, sizeof(del), "delete m%d\r\n", i);
        h_cmd(fd, del, "DELETED\r\n");
    }
    h_cmd(fd, req, "STORED\r\n");
}

Test(cmdline, disable_evictions_resp_answers_oom)
{
    if (h_target_is_memcached())
        cr_skip_test("RESP");
    const char *const extra[] = {"-m", "2", "-M", NULL};
    h_server_start(&h_srv, extra);
    int fd = h_connect(h_srv.port);
    fill_until_refused(fd);
    int r = h_connect(h_srv.port);
    char req[1200], val[1001];
    memset(val, 'r', 1000);
    val[1000] = '\0';
    snprintf(req, sizeof(req), "*3\r\n$3\r\nSET\r\n$5\r\nrkey1\r\n$1000\r\n%s\r\n", val);
    h_cmd(r, req, "-OOM command not allowed when used memory > 'maxmemory'.\r\n");
    /* Redis's name for it */
    h_cmd(r, "*3\r\n$6\r\nCONFIG\r\n$3\r\nGET\r\n$16\r\nmaxmemory-policy\r\n",
          "*2\r\n$16\r\nmaxmemory-policy\r\n$10\r\nnoeviction\r\n");
}

/* ---- -e and SIGUSR1 ---- */

static void stop_expect_0(int sig)
{
    bool to;
    int st = h_server_stop(&h_srv, sig, &to);
    cr_assert(!to && WIFEXITED(st) && WEXITSTATUS(st) == 0, "signal %d: status 0x%x; output:\n%s", sig,
              (unsigned)st, h_last_log());
}

Test(cmdline, memory_file_warm_restart_on_sigusr1, .fini = cleanup_dir)
{
    char path[128];
    make_tmp_dir();
    tmp_file(path, sizeof(path), "memory_file");
    const char *const extra[] = {"-e", path, NULL};
    h_server_start(&h_srv, extra);
    int fd = h_connect(h_srv.port);
    h_set(fd, "warm:a", "alpha");
    h_cmd(fd, "set warm:b 123 0 4\r\nbeta\r\n", "STORED\r\n");
    stop_expect_0(SIGUSR1);
    cr_assert(strstr(h_last_log(), "Gracefully stopping\n") != NULL, "output:\n%s", h_last_log());

    /* the next start has the items back (memcached refuses a restart within the second it stopped) */
    h_sleep_ms(1100);
    h_server_start(&h_srv, extra);
    fd = h_connect(h_srv.port);
    h_cmd(fd, "get warm:a warm:b\r\n", "VALUE warm:a 0 5\r\nalpha\r\nVALUE warm:b 123 4\r\nbeta\r\nEND\r\n");
    h_set(fd, "warm:c", "gamma");
    /* SIGTERM is not a graceful stop: nothing is saved, and the cache comes back only once */
    stop_expect_0(SIGTERM);
    h_sleep_ms(1100);
    h_server_start(&h_srv, extra);
    fd = h_connect(h_srv.port);
    h_cmd(fd, "get warm:a warm:c\r\n", "END\r\n");
    stop_expect_0(SIGTERM);
}

/* ---- --config ---- */

static void write_file(const char *path, const char *text)
{
    FILE *f = fopen(path, "w");
    cr_assert_not_null(f, "cannot write %s", path);
    fputs(text, f);
    fclose(f);
}

/* Copies src to dst with every `from` replaced by `to`. */
static bool copy_replacing(const char *src, const char *dst, const char *const *from, const char *const *to,
                           size_t n)
{
    FILE *in = fopen(src, "r");
    if (in == NULL)
        return false;
    FILE *out = fopen(dst, "w");
    cr_assert_not_null(out);
    char line[1024];
    while (fgets(line, sizeof(line), in) != NULL) {
        char *p = line;
        for (size_t i = 0; i < n; i++) {
            char *hit = strstr(line, from[i]);
            if (hit != NULL) {
                fwrite(line, 1, (size_t)(hit - line), out);
                fputs(to[i], out);
                p = hit + strlen(from[i]);
                break;
            }
        }
        fputs(p, out);
    }
    fclose(in);
    fclose(out);
    return true;
}

static pid_t config_daemon;

static void config_fini(void)
{
    if (config_daemon > 0)
        kill(config_daemon, SIGKILL);
    config_daemon = 0;
    cleanup_dir();
}

Test(cmdline, debian_stock_memcached_conf, .fini = config_fini)
{
    /* /etc/memcached.conf as the memcached package installs it: -d, logfile, -m 64, -p 11211,
     * -u memcache, -l 127.0.0.1, -P /var/run/memcached/memcached.pid. Only the pid file and log paths
     * move to a temporary directory; -p on the command line after --config overrides the file's
     * 11211, which other servers on this machine may hold. */
    if (h_target_is_memcached())
        cr_skip_test("--config is cairn's");
    char conf[128], pid_path[128], log_path[128], portbuf[16];
    make_tmp_dir();
    tmp_file(conf, sizeof(conf), "memcached.conf");
    tmp_file(pid_path, sizeof(pid_path), "memcached.pid");
    tmp_file(log_path, sizeof(log_path), "memcached.log");
    const char *const from[] = {"/var/run/memcached/memcached.pid", "/var/log/memcached.log"};
    const char *const to[] = {pid_path, log_path};
    if (!copy_replacing("/etc/memcached.conf", conf, from, to, 2))
        cr_skip_test("no /etc/memcached.conf (install the memcached package)");
    int port = h_free_port();
    snprintf(portbuf, sizeof(portbuf), "%d", port);
    const char *argv[] = {"cairn", "--config", conf, "-p", portbuf, NULL};
    struct h_server launcher = {0};
    h_spawn_raw(&launcher, h_cairn_bin(), argv);
    int st;
    cr_assert(h_server_wait(&launcher, 5000, &st), "-d in the file: the launcher did not return");
    char *out = h_server_log(&launcher);
    bool to_;
    h_server_stop(&launcher, SIGKILL, &to_);
    cr_assert(WIFEXITED(st) && WEXITSTATUS(st) == 0, "status 0x%x; output:\n%s", (unsigned)st, out);
    free(out);
    long pid = 0;
    int64_t end = h_now_ms() + 5000;
    while (h_now_ms() < end) {
        FILE *f = fopen(pid_path, "r");
        bool got = f != NULL && fscanf(f, "%ld", &pid) == 1 && pid > 0;
        if (f != NULL)
            fclose(f);
        if (got)
            break;
        h_sleep_ms(10);
    }
    cr_assert_gt(pid, 0, "no pid file at %s", pid_path);
    config_daemon = (pid_t)pid;
    int fd = -1;
    while ((fd = h_try_connect(port)) < 0 && h_now_ms() < end)
        h_sleep_ms(10);
    cr_assert_geq(fd, 0, "the daemon does not listen on 127.0.0.1:%d", port);
    h_set(fd, "conf:k", "v");
    char *s = h_stats_raw(fd, "settings");
    expect_setting(s, "maxbytes", "67108864");
    expect_setting(s, "inter", "127.0.0.1");
    expect_setting(s, "tcpport", portbuf);
    free(s);
    close(fd);
    cr_assert_eq(kill(config_daemon, SIGTERM), 0);
    end = h_now_ms() + 5000;
    while (kill(config_daemon, 0) == 0 && h_now_ms() < end)
        h_sleep_ms(10);
    cr_assert_neq(kill(config_daemon, 0), 0, "daemon still running 5 s after SIGTERM");
    config_daemon = 0;
    struct stat sb;
    cr_assert_eq(stat(log_path, &sb), 0, "the logfile line did not create %s", log_path);
}

Test(cmdline, config_file_format_and_precedence, .fini = cleanup_dir)
{
    if (h_target_is_memcached())
        cr_skip_test("--config is cairn's");
    char conf[128], log_path[128], text[512];
    make_tmp_dir();
    tmp_file(conf, sizeof(conf), "cairn.conf");
    tmp_file(log_path, sizeof(log_path), "cairn.log");
    snprintf(text, sizeof(text),
             "# cairn test config\n"
             "\n"
             "   -m 32   # megabytes\n"
             "--max-item-size=2m\n"
             "-o idle_timeout=7,lru_crawler_sleep=9\n"
             "-vv\n"
             "\t-c 500\n"
             "logfile %s\n"
             "# -M\n",
             log_path);
    write_file(conf, text);
    /* the harness's -m 64 comes first: the file overrides it; -c after --config overrides the file */
    const char *const extra[] = {"--config", conf, "-c", "600", NULL};
    h_server_start(&h_srv, extra);
    int fd = h_connect(h_srv.port);
    char *s = h_stats_raw(fd, "settings");
    expect_setting(s, "maxbytes", "33554432");
    expect_setting(s, "item_size_max", "2097152");
    expect_setting(s, "idle_timeout", "7");
    expect_setting(s, "lru_crawler_sleep", "9");
    expect_setting(s, "verbosity", "2");
    expect_setting(s, "maxconns", "600");
    expect_setting(s, "evictions", "on");
    free(s);
    close(fd);
    stop_expect_0(SIGTERM);
    FILE *f = fopen(log_path, "r");
    cr_assert_not_null(f, "no log file %s", log_path);
    char buf[4096];
    size_t n = fread(buf, 1, sizeof(buf) - 1, f);
    fclose(f);
    buf[n] = '\0';
    cr_expect(strstr(buf, "started:") != NULL, "the log file lacks the start-up line:\n%s", buf);
}

/* The default config file ($CAIRN_CONFIG here, /etc/cairn/cairn.conf otherwise) is read when the
 * command line names none, before the command line's options; a --config replaces it. */
Test(cmdline, default_config_file, .fini = cleanup_dir)
{
    if (h_target_is_memcached())
        cr_skip_test("the default config file is cairn's");
    char conf[128], other[128];
    make_tmp_dir();
    tmp_file(conf, sizeof(conf), "default.conf");
    tmp_file(other, sizeof(other), "other.conf");
    write_file(conf, "-m 32\n-c 500\n");
    write_file(other, "-c 700\n");
    cr_assert_eq(setenv("CAIRN_CONFIG", conf, 1), 0);
    const char *const plain[] = {"-c", "600", NULL};
    h_server_start(&h_srv, plain); /* the harness's -m 64 comes after the file's -m 32 */
    int fd = h_connect(h_srv.port);
    char *s = h_stats_raw(fd, "settings");
    expect_setting(s, "maxbytes", "67108864");
    expect_setting(s, "maxconns", "600");
    free(s);
    close(fd);
    stop_expect_0(SIGTERM);
    const char *const none[] = {NULL};
    h_server_start(&h_srv, none);
    fd = h_connect(h_srv.port);
    s = h_stats_raw(fd, "settings");
    expect_setting(s, "maxconns", "500");
    free(s);
    close(fd);
    stop_expect_0(SIGTERM);
    const char *const named[] = {"--config", other, NULL};
    h_server_start(&h_srv, named);
    fd = h_connect(h_srv.port);
    s = h_stats_raw(fd, "settings");
    expect_setting(s, "maxconns", "700");
    free(s);
    close(fd);
    stop_expect_0(SIGTERM);
    cr_assert_eq(setenv("CAIRN_CONFIG", "", 1), 0);
    h_server_start(&h_srv, none);
    fd = h_connect(h_srv.port);
    s = h_stats_raw(fd, "settings");
    expect_setting(s, "maxconns", "1024");
    free(s);
    close(fd);
    stop_expect_0(SIGTERM);
    unsetenv("CAIRN_CONFIG");
}

Test(cmdline, config_file_errors, .fini = cleanup_dir)
{
    if (h_target_is_memcached())
        cr_skip_test("--config is cairn's");
    char bad[128], nested[128], missing[128], err1[256], err2[256], err3[256];
    make_tmp_dir();
    tmp_file(bad, sizeof(bad), "bad.conf");
    tmp_file(nested, sizeof(nested), "nested.conf");
    tmp_file(missing, sizeof(missing), "missing.conf");
    write_file(bad, "-m 64\n# fine\nmaxmemory 64\n");
    write_file(nested, "--config /etc/memcached.conf\n");
    snprintf(err1, sizeof(err1), "%s:3: \"maxmemory\" is not an option (options start with '-')\n", bad);
    snprintf(err2, sizeof(err2), "%s:1: --config cannot be used inside a config file\n", nested);
    snprintf(err3, sizeof(err3), "Could not open the config file %s: No such file or directory\n", missing);
    const struct refused rows[] = {
        {{"--config", bad}, err1, 64, true},
        {{"--config", nested}, err2, 64, true},
        {{"--config", missing}, err3, 64, true},
        {{"--config"},
         "memcached: option '--config' requires an argument\nIllegal argument \"?\"\n",
         1,
         true},
        {{"--config", bad, "-o", "bogus"}, err1, 64, true},
    };
    for (size_t i = 0; i < sizeof(rows) / sizeof(rows[0]); i++)
        expect_refused(&rows[i]);
}
