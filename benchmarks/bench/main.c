/*
 * main.c: cairn-bench, a memtier_benchmark-style load generator for cairn and memcached.
 *
 * Flow: parse options -> build the key space (shared, read-only) -> resolve the address -> optional
 * fill phase -> measured run -> merge per-thread histograms and counters -> text report on stdout,
 * JSON with --json-out. A phase starts --threads workers (conn.c); they connect, meet main at a
 * barrier, and main starts the clock when all are connected, so connect time is never measured.
 * During a phase main wakes every 10 ms to print the per-second progress line on stderr, to raise
 * the stop flag when --test-time has passed, and to notice when every worker is done.
 *
 * CPU: getrusage(RUSAGE_SELF) around the measured run gives the generator's own CPU time (when it
 * nears threads x elapsed, the generator is the limit, not the server); with --server-pid the
 * server's utime + stime from /proc/PID/stat around the same window gives its CPU per request.
 *
 * Exit status: 0 when the run completed requests with no error of any kind; 1 when any error was
 * counted (wrong value, refusal, protocol, connection, timeout) or nothing completed; 2 for bad
 * options or a setup failure (no connection, no memory).
 */
#include "config.h"

#include <errno.h>
#include <netdb.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/un.h>
#include <time.h>
#include <unistd.h>

#include "benchmarks/bench/bench.h"

#define POLL_NS     10000000ull
#define EXIT_ERRORS 1
#define EXIT_SETUP  2

struct progress {
    uint64_t next_ns, last_ns;
    struct bench_totals last;
};

/* Resolves --unix-socket or --server/--port into run->addr. */
static int resolve(struct bench_run *run, const struct bench_options *opt)
{
    memset(&run->addr, 0, sizeof(run->addr));
    if (opt->unix_socket != NULL) {
        struct sockaddr_un *un = (struct sockaddr_un *)&run->addr;
        if (strlen(opt->unix_socket) >= sizeof(un->sun_path)) {
            fprintf(stderr, "cairn-bench: unix socket path too long\n");
            return -1;
        }
        un->sun_family = AF_UNIX;
        strcpy(un->sun_path, opt->unix_socket);
        run->addr_len = sizeof(*un);
        return 0;
    }
    struct addrinfo hints = {.ai_family = AF_UNSPEC, .ai_socktype = SOCK_STREAM}, *res;
    char port[8];
    snprintf(port, sizeof(port), "%u", opt->port);
    int rc = getaddrinfo(opt->server, port, &hints, &res);
    if (rc != 0) {
        fprintf(stderr, "cairn-bench: %s: %s\n", opt->server, gai_strerror(rc));
        return -1;
    }
    memcpy(&run->addr, res->ai_addr, res->ai_addrlen);
    run->addr_len = res->ai_addrlen;
    freeaddrinfo(res);
    return 0;
}

static void sleep_ns(uint64_t ns)
{
    struct timespec ts = {(time_t)(ns / 1000000000u), (long)(ns % 1000000000u)};
    while (nanosleep(&ts, &ts) != 0 && errno == EINTR)
        ;
}

static const char *phase_name(enum bench_phase p)
{
    return p == BENCH_PHASE_FILL ? "fill" : "run";
}

/* One progress line from the counter deltas since the last one. */
static void progress_print(struct progress *pg, struct bench_thread *threads, const struct bench_run *run,
                           uint64_t t0, uint64_t now)
{
    struct bench_totals cur;
    bench_totals_sum(&cur, threads, run->opt->threads);
    double dt = (double)(now - pg->last_ns) / 1e9;
    uint64_t sets = cur.sets - pg->last.sets, gets = cur.gets - pg->last.gets;
    uint64_t hits = cur.hits - pg->last.hits, misses = cur.misses - pg->last.misses;
    uint64_t ops = sets + gets;
    double avg_ms = ops ? (double)(cur.lat_sum_ns - pg->last.lat_sum_ns) / (double)ops / 1e6 : 0.0;
    fprintf(stderr,
            "[%s %5.1fs] %10.0f ops/s  sets %9.0f/s  gets %9.0f/s  hit %5.1f%%  avg %7.3f ms  errors %llu\n",
            phase_name(run->phase), (double)(now - t0) / 1e9, (double)ops / dt, (double)sets / dt,
            (double)gets / dt, hits + misses ? 100.0 * (double)hits / (double)(hits + misses) : 0.0, avg_ms,
            (unsigned long long)bench_totals_errors(&cur));
    pg->last = cur;
    pg->last_ns = now;
}

/* Main's part of a phase: stop flag, progress, until every worker is done. Returns the end time. */
static uint64_t phase_watch(struct bench_run *run, struct bench_thread *threads, uint64_t t0)
{
    const struct bench_options *opt = run->opt;
    struct progress pg = {.next_ns = t0 + 1000000000u, .last_ns = t0};
    uint64_t deadline = run->phase == BENCH_PHASE_RUN && opt->test_time > 0
                            ? t0 + (uint64_t)(opt->test_time * 1e9)
                            : UINT64_MAX;
    for (;;) {
        uint64_t now = bench_now_ns();
        if (atomic_load(&run->threads_done) == opt->threads)
            return now;
        if (now >= deadline && !atomic_load(&run->stop))
            atomic_store(&run->stop, 1);
        if (now >= pg.next_ns) {
            if (!opt->quiet)
                progress_print(&pg, threads, run, t0, now);
            pg.next_ns += 1000000000u;
        }
        sleep_ns(POLL_NS);
    }
}

/* Runs one phase on fresh threads; *elapsed gets its length. Threads are left for the caller to
 * sum and clean up. Returns 0, or -1 when the workers could not start or connect. */
static int phase_run(struct bench_run *run, struct bench_thread *threads, enum bench_phase phase,
                     double *elapsed)
{
    const struct bench_options *opt = run->opt;
    unsigned started = 0;
    memset(threads, 0, sizeof(*threads) * opt->threads);
    run->phase = phase;
    atomic_store(&run->stop, 0);
    atomic_store(&run->abort_run, 0);
    atomic_store(&run->threads_done, 0);
    pthread_barrier_init(&run->start, NULL, opt->threads + 1);
    for (unsigned i = 0; i < opt->threads; i++) {
        threads[i].index = i;
        threads[i].run = run;
        hist_init(&threads[i].hist);
    }
    for (; started < opt->threads; started++) {
        if (pthread_create(&threads[started].tid, NULL, bench_thread_main, &threads[started]) != 0)
            break;
    }
    if (started < opt->threads) {
        fprintf(stderr, "cairn-bench: cannot start threads\n");
        exit(EXIT_SETUP);
    }
    pthread_barrier_wait(&run->start);
    uint64_t t0 = bench_now_ns();
    uint64_t t1 = atomic_load(&run->abort_run) ? t0 : phase_watch(run, threads, t0);
    for (unsigned i = 0; i < opt->threads; i++)
        pthread_join(threads[i].tid, NULL);
    pthread_barrier_destroy(&run->start);
    *elapsed = (double)(t1 - t0) / 1e9;
    return atomic_load(&run->abort_run) ? -1 : 0;
}

static void threads_cleanup(struct bench_thread *threads, unsigned n)
{
    for (unsigned i = 0; i < n; i++)
        bench_thread_cleanup(&threads[i]);
}

/* utime + stime of pid in seconds, or -1 when /proc cannot tell. */
static double proc_cpu_seconds(long pid)
{
    char path[64], buf[1024];
    unsigned long long ut, st;
    snprintf(path, sizeof(path), "/proc/%ld/stat", pid);
    FILE *f = fopen(path, "r");
    if (f == NULL)
        return -1;
    size_t n = fread(buf, 1, sizeof(buf) - 1, f);
    fclose(f);
    buf[n] = '\0';
    /* the command name may hold spaces: fields are counted after its closing parenthesis */
    const char *p = strrchr(buf, ')');
    if (p == NULL || sscanf(p + 2, "%*c %*d %*d %*d %*d %*d %*u %*u %*u %*u %*u %llu %llu", &ut, &st) != 2)
        return -1;
    return (double)(ut + st) / (double)sysconf(_SC_CLK_TCK);
}

static double timeval_s(struct timeval tv)
{
    return (double)tv.tv_sec + (double)tv.tv_usec / 1e6;
}

/* The fill phase, summarised into the result. Returns 0 or -1 (setup failure). */
static int do_fill(struct bench_run *run, struct bench_thread *threads, struct bench_result *res)
{
    struct bench_totals tot;
    if (phase_run(run, threads, BENCH_PHASE_FILL, &res->fill_s) != 0) {
        threads_cleanup(threads, run->opt->threads);
        return -1;
    }
    bench_totals_sum(&tot, threads, run->opt->threads);
    threads_cleanup(threads, run->opt->threads);
    res->fill_done = 1;
    res->fill_ops = tot.sets;
    res->fill_errors = bench_totals_errors(&tot);
    if (!run->opt->quiet)
        fprintf(stderr, "fill: %llu sets in %.2f s, %llu errors\n", (unsigned long long)res->fill_ops,
                res->fill_s, (unsigned long long)res->fill_errors);
    return 0;
}

/* The measured run with its CPU accounting; leaves totals and the merged histogram in res. */
static int do_run(struct bench_run *run, struct bench_thread *threads, struct bench_result *res)
{
    const struct bench_options *opt = run->opt;
    struct rusage ru0, ru1;
    double s0 = opt->server_pid ? proc_cpu_seconds(opt->server_pid) : -1;
    getrusage(RUSAGE_SELF, &ru0);
    int rc = phase_run(run, threads, BENCH_PHASE_RUN, &res->elapsed_s);
    getrusage(RUSAGE_SELF, &ru1);
    double s1 = opt->server_pid ? proc_cpu_seconds(opt->server_pid) : -1;
    res->server_cpu_s = s0 >= 0 && s1 >= 0 ? s1 - s0 : -1;
    res->cpu_user_s = timeval_s(ru1.ru_utime) - timeval_s(ru0.ru_utime);
    res->cpu_sys_s = timeval_s(ru1.ru_stime) - timeval_s(ru0.ru_stime);
    if (rc == 0) {
        bench_totals_sum(&res->tot, threads, opt->threads);
        for (unsigned i = 0; i < opt->threads; i++)
            hist_merge(res->hist, &threads[i].hist);
    }
    threads_cleanup(threads, opt->threads);
    return rc;
}

static int exit_code(const struct bench_result *res)
{
    uint64_t errors = bench_totals_errors(&res->tot) + res->fill_errors;
    if (errors != 0 || res->tot.sets + res->tot.gets == 0)
        return EXIT_ERRORS;
    return 0;
}

/* Everything after the options: returns the exit status. */
static int bench(const struct bench_options *opt)
{
    struct keyspace ks = {0};
    struct bench_run run = {.opt = opt, .ks = &ks, .proto = proto_lookup(opt->protocol)};
    struct bench_result res = {.opt = opt, .server_cpu_s = -1};
    struct bench_thread *threads = calloc(opt->threads, sizeof(*threads));
    int rc = EXIT_SETUP;
    res.hist = malloc(sizeof(*res.hist));
    if (threads == NULL || res.hist == NULL || ks_init(&ks, &opt->ks) != KS_OK) {
        fprintf(stderr, "cairn-bench: cannot set up the key space (memory or range)\n");
        goto out;
    }
    hist_init(res.hist);
    if (resolve(&run, opt) != 0)
        goto out;
    if (opt->fill && do_fill(&run, threads, &res) != 0)
        goto out;
    if (do_run(&run, threads, &res) != 0)
        goto out;
    bench_report_text(&res);
    if (opt->json_out != NULL && bench_report_json(&res, opt->json_out) != 0) {
        fprintf(stderr, "cairn-bench: %s: %s\n", opt->json_out, strerror(errno));
        goto out;
    }
    rc = exit_code(&res);
out:
    ks_deinit(&ks);
    free(res.hist);
    free(threads);
    return rc;
}

int main(int argc, char **argv)
{
    struct bench_options opt;
    switch (bench_options_parse(&opt, argc, argv)) {
    case BENCH_HELP:
        return 0;
    case BENCH_USAGE:
        return EXIT_SETUP;
    case BENCH_OK:
        break;
    }
    signal(SIGPIPE, SIG_IGN);
    return bench(&opt);
}
