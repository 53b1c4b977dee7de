/*
 * report.c: cairn-bench's results: counter sums, the text report, the latency histogram listing and
 * the flat JSON object (every field documented in benchmarks/README.md).
 *
 * Rates divide by the measured run's elapsed time (from the moment every connection was up to the
 * moment the last one finished, so a timed run's drain of in-flight requests is included). Latencies
 * are printed in microseconds from the merged nanosecond histogram. Runs only on the main thread
 * after the workers are joined.
 */
#include "config.h"

#include <math.h>
#include <stdio.h>
#include <string.h>

#include "benchmarks/bench/bench.h"

/* Rows of the printed histogram: this many fine buckets merged into one (8 rows per octave). */
#define HIST_ROW_BUCKETS 16

/* Field-wise sum of every thread's counters. */
void bench_totals_sum(struct bench_totals *out, struct bench_thread *threads, unsigned n)
{
    memset(out, 0, sizeof(*out));
    for (unsigned i = 0; i < n; i++) {
        struct bench_counters *c = &threads[i].c;
        out->sets += bench_read(&c->sets);
        out->gets += bench_read(&c->gets);
        out->hits += bench_read(&c->hits);
        out->misses += bench_read(&c->misses);
        out->bytes_in += bench_read(&c->bytes_in);
        out->bytes_out += bench_read(&c->bytes_out);
        out->lat_sum_ns += bench_read(&c->lat_sum_ns);
        out->err_value += bench_read(&c->err_value);
        out->err_refused += bench_read(&c->err_refused);
        out->err_protocol += bench_read(&c->err_protocol);
        out->err_connection += bench_read(&c->err_connection);
        out->err_timeout += bench_read(&c->err_timeout);
    }
}

/* Every kind of error together. */
uint64_t bench_totals_errors(const struct bench_totals *t)
{
    return t->err_value + t->err_refused + t->err_protocol + t->err_connection + t->err_timeout;
}

static double per_sec(const struct bench_result *r, uint64_t v)
{
    return r->elapsed_s > 0 ? (double)v / r->elapsed_s : 0.0;
}

static double hit_ratio(const struct bench_totals *t)
{
    return t->hits + t->misses ? (double)t->hits / (double)(t->hits + t->misses) : 0.0;
}

static double us(uint64_t ns)
{
    return (double)ns / 1000.0;
}

static void print_header(const struct bench_result *r)
{
    const struct bench_options *o = r->opt;
    printf("cairn-bench: %s, %u threads x %u connections, pipeline %u, set:get %u:%u, ",
           proto_name(o->protocol), o->threads, o->clients, o->pipeline, o->ratio_set, o->ratio_get);
    if (o->ks.size_min == o->ks.size_max)
        printf("%zu-byte values, ", o->ks.size_min);
    else
        printf("%zu-%zu-byte values, ", o->ks.size_min, o->ks.size_max);
    printf("keys %s[%llu..%llu] %c:%c, %.2f s\n", o->ks.prefix, (unsigned long long)o->ks.key_min,
           (unsigned long long)o->ks.key_max, ks_pattern_letter(o->pattern_set),
           ks_pattern_letter(o->pattern_get), r->elapsed_s);
    if (r->fill_done)
        printf("fill: %llu sets in %.2f s (%.0f/s), %llu errors\n", (unsigned long long)r->fill_ops,
               r->fill_s, r->fill_s > 0 ? (double)r->fill_ops / r->fill_s : 0.0,
               (unsigned long long)r->fill_errors);
}

static void print_table(const struct bench_result *r)
{
    const struct bench_totals *t = &r->tot;
    printf("%-8s %12s %12s %12s %14s %14s\n", "type", "ops/s", "hits/s", "misses/s", "KB/s in", "KB/s out");
    printf("%-8s %12.0f %12s %12s %14s %14s\n", "sets", per_sec(r, t->sets), "-", "-", "-", "-");
    printf("%-8s %12.0f %12.0f %12.0f %14s %14s\n", "gets", per_sec(r, t->gets), per_sec(r, t->hits),
           per_sec(r, t->misses), "-", "-");
    printf("%-8s %12.0f %12.0f %12.0f %14.1f %14.1f\n", "total", per_sec(r, t->sets + t->gets),
           per_sec(r, t->hits), per_sec(r, t->misses), per_sec(r, t->bytes_in) / 1024,
           per_sec(r, t->bytes_out) / 1024);
    printf("requests %llu (sets %llu, gets %llu), get hits %llu, misses %llu, hit ratio %.4f\n",
           (unsigned long long)(t->sets + t->gets), (unsigned long long)t->sets, (unsigned long long)t->gets,
           (unsigned long long)t->hits, (unsigned long long)t->misses, hit_ratio(t));
}

static void print_latency(const struct bench_result *r)
{
    const struct hist *h = r->hist;
    printf("latency us: min %.1f", us(h->count ? h->min : 0));
    for (size_t i = 0; i < r->opt->n_percentiles; i++)
        printf("  p%g %.1f", r->opt->percentiles[i], us(hist_percentile(h, r->opt->percentiles[i])));
    printf("  max %.1f  mean %.1f\n", us(h->max), hist_mean(h) / 1000.0);
}

static void print_cpu(const struct bench_result *r)
{
    double cpu = r->cpu_user_s + r->cpu_sys_s;
    uint64_t ops = r->tot.sets + r->tot.gets;
    printf("generator cpu: %.2f s (user %.2f, sys %.2f), %.0f%% of one core; %u threads\n", cpu,
           r->cpu_user_s, r->cpu_sys_s, r->elapsed_s > 0 ? 100.0 * cpu / r->elapsed_s : 0.0, r->opt->threads);
    if (r->server_cpu_s >= 0)
        printf("server cpu: %.2f s (pid %ld), %.3f s per million requests\n", r->server_cpu_s,
               r->opt->server_pid, ops ? r->server_cpu_s * 1e6 / (double)ops : 0.0);
}

static void print_errors(const struct bench_result *r)
{
    const struct bench_totals *t = &r->tot;
    printf("errors: %llu (value %llu, refused %llu, protocol %llu, connection %llu, timeout %llu)\n",
           (unsigned long long)bench_totals_errors(t), (unsigned long long)t->err_value,
           (unsigned long long)t->err_refused, (unsigned long long)t->err_protocol,
           (unsigned long long)t->err_connection, (unsigned long long)t->err_timeout);
}

/* Non-empty rows of HIST_ROW_BUCKETS buckets: upper bound, count, cumulative percent. */
static void print_histogram(const struct hist *h)
{
    uint64_t seen = 0;
    if (h->count == 0)
        return;
    printf("latency histogram (us <=, count, cumulative %%):\n");
    for (size_t row = 0; row < HIST_BUCKETS; row += HIST_ROW_BUCKETS) {
        uint64_t n = 0, lo, hi;
        for (size_t i = row; i < row + HIST_ROW_BUCKETS && i < HIST_BUCKETS; i++)
            n += h->buckets[i];
        if (n == 0)
            continue;
        seen += n;
        hist_bucket_range(row + HIST_ROW_BUCKETS - 1 < HIST_BUCKETS ? row + HIST_ROW_BUCKETS - 1
                                                                    : HIST_BUCKETS - 1,
                          &lo, &hi);
        printf("  %12.1f %12llu %8.3f\n", us(hi), (unsigned long long)n,
               100.0 * (double)seen / (double)h->count);
    }
}

/* The human report on stdout. */
void bench_report_text(const struct bench_result *r)
{
    print_header(r);
    print_table(r);
    print_latency(r);
    print_cpu(r);
    print_errors(r);
    if (!r->opt->hide_histogram)
        print_histogram(r->hist);
    fflush(stdout);
}

/* A minimal JSON writer: one flat object, fields in call order. */
struct json {
    FILE *f;
    int first;
};

static void j_key(struct json *j, const char *name)
{
    fprintf(j->f, "%s\n  \"%s\": ", j->first ? "" : ",", name);
    j->first = 0;
}

static void j_u64(struct json *j, const char *name, uint64_t v)
{
    j_key(j, name);
    fprintf(j->f, "%llu", (unsigned long long)v);
}

static void j_num(struct json *j, const char *name, double v)
{
    j_key(j, name);
    if (isfinite(v))
        fprintf(j->f, "%.6g", v);
    else
        fputs("null", j->f);
}

static void j_str(struct json *j, const char *name, const char *s)
{
    j_key(j, name);
    if (s == NULL) {
        fputs("null", j->f);
        return;
    }
    fputc('"', j->f);
    for (; *s; s++) {
        unsigned char ch = (unsigned char)*s;
        if (ch == '"' || ch == '\\')
            fprintf(j->f, "\\%c", ch);
        else if (ch < 0x20)
            fprintf(j->f, "\\u%04x", ch);
        else
            fputc(ch, j->f);
    }
    fputc('"', j->f);
}

static void j_bool(struct json *j, const char *name, int v)
{
    j_key(j, name);
    fputs(v ? "true" : "false", j->f);
}

static void json_config(struct json *j, const struct bench_options *o)
{
    char pat[2] = {0};
    j_str(j, "tool", "cairn-bench");
    j_str(j, "protocol", proto_name(o->protocol));
    j_str(j, "server", o->unix_socket ? NULL : o->server);
    j_u64(j, "port", o->unix_socket ? 0 : o->port);
    j_str(j, "unix_socket", o->unix_socket);
    j_u64(j, "threads", o->threads);
    j_u64(j, "clients", o->clients);
    j_u64(j, "connections", (uint64_t)o->threads * o->clients);
    j_u64(j, "pipeline", o->pipeline);
    j_u64(j, "ratio_set", o->ratio_set);
    j_u64(j, "ratio_get", o->ratio_get);
    j_u64(j, "data_size_min", o->ks.size_min);
    j_u64(j, "data_size_max", o->ks.size_max);
    j_str(j, "key_prefix", o->ks.prefix);
    j_u64(j, "key_minimum", o->ks.key_min);
    j_u64(j, "key_maximum", o->ks.key_max);
    pat[0] = ks_pattern_letter(o->pattern_set);
    j_str(j, "key_pattern_set", pat);
    pat[0] = ks_pattern_letter(o->pattern_get);
    j_str(j, "key_pattern_get", pat);
    j_num(j, "key_zipf_exp", o->ks.zipf_exp);
    j_num(j, "key_median", o->ks.gauss_median);
    j_num(j, "key_stddev", o->ks.gauss_stddev);
    j_num(j, "test_time_s", o->test_time);
    j_u64(j, "requests_per_client", o->test_time > 0 ? 0 : o->requests);
    j_u64(j, "seed", o->seed);
}

static void json_results(struct json *j, const struct bench_result *r)
{
    const struct bench_totals *t = &r->tot;
    j_bool(j, "fill", r->fill_done);
    j_num(j, "fill_s", r->fill_s);
    j_u64(j, "fill_sets", r->fill_ops);
    j_u64(j, "fill_errors", r->fill_errors);
    j_num(j, "elapsed_s", r->elapsed_s);
    j_u64(j, "ops", t->sets + t->gets);
    j_num(j, "ops_per_sec", per_sec(r, t->sets + t->gets));
    j_u64(j, "sets", t->sets);
    j_num(j, "sets_per_sec", per_sec(r, t->sets));
    j_u64(j, "gets", t->gets);
    j_num(j, "gets_per_sec", per_sec(r, t->gets));
    j_u64(j, "get_hits", t->hits);
    j_u64(j, "get_misses", t->misses);
    j_num(j, "hit_ratio", hit_ratio(t));
    j_u64(j, "bytes_in", t->bytes_in);
    j_u64(j, "bytes_out", t->bytes_out);
    j_num(j, "bytes_in_per_sec", per_sec(r, t->bytes_in));
    j_num(j, "bytes_out_per_sec", per_sec(r, t->bytes_out));
}

static void json_latency(struct json *j, const struct bench_result *r)
{
    const struct hist *h = r->hist;
    char name[48];
    j_num(j, "latency_us_min", us(h->count ? h->min : 0));
    j_num(j, "latency_us_mean", hist_mean(h) / 1000.0);
    j_num(j, "latency_us_p50", us(hist_percentile(h, 50)));
    j_num(j, "latency_us_p90", us(hist_percentile(h, 90)));
    j_num(j, "latency_us_p99", us(hist_percentile(h, 99)));
    j_num(j, "latency_us_p99_9", us(hist_percentile(h, 99.9)));
    j_num(j, "latency_us_max", us(h->max));
    for (size_t i = 0; i < r->opt->n_percentiles; i++) {
        double p = r->opt->percentiles[i];
        if (p == 50 || p == 90 || p == 99 || p == 99.9)
            continue;
        snprintf(name, sizeof(name), "latency_us_p%g", p);
        for (char *s = name; *s; s++)
            *s = *s == '.' ? '_' : *s;
        j_num(j, name, us(hist_percentile(h, p)));
    }
}

static void json_costs(struct json *j, const struct bench_result *r)
{
    const struct bench_totals *t = &r->tot;
    uint64_t ops = t->sets + t->gets;
    j_u64(j, "errors", bench_totals_errors(t) + r->fill_errors);
    j_u64(j, "errors_value", t->err_value);
    j_u64(j, "errors_refused", t->err_refused);
    j_u64(j, "errors_protocol", t->err_protocol);
    j_u64(j, "errors_connection", t->err_connection);
    j_u64(j, "errors_timeout", t->err_timeout);
    j_num(j, "cpu_user_s", r->cpu_user_s);
    j_num(j, "cpu_sys_s", r->cpu_sys_s);
    j_num(j, "cpu_s", r->cpu_user_s + r->cpu_sys_s);
    j_num(j, "cpu_cores_busy", r->elapsed_s > 0 ? (r->cpu_user_s + r->cpu_sys_s) / r->elapsed_s : 0.0);
    j_u64(j, "server_pid", (uint64_t)r->opt->server_pid);
    j_num(j, "server_cpu_s", r->server_cpu_s >= 0 ? r->server_cpu_s : NAN);
    j_num(j, "server_cpu_s_per_mreq",
          r->server_cpu_s >= 0 && ops ? r->server_cpu_s * 1e6 / (double)ops : NAN);
}

/* Writes the whole object, then renames nothing: a failed write leaves a partial file and -1. */
int bench_report_json(const struct bench_result *r, const char *path)
{
    struct json j = {.f = fopen(path, "w"), .first = 1};
    if (j.f == NULL)
        return -1;
    fputc('{', j.f);
    json_config(&j, r->opt);
    json_results(&j, r);
    json_latency(&j, r);
    json_costs(&j, r);
    fputs("\n}\n", j.f);
    int bad = ferror(j.f);
    return fclose(j.f) != 0 || bad ? -1 : 0;
}
