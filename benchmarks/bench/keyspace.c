/*
 * keyspace.c: random streams, key patterns and key-derived values for cairn-bench.
 *
 * Generator: xoshiro256** seeded through splitmix64 from a mix of (seed, thread, connection). Its
 * period and the avalanche of the seeding keep connection streams independent; each connection also
 * starts its sequential cursor at its own offset, so that S patterns interleave rather than repeat.
 *
 * Uniform draws use Lemire's multiply-and-reject method (exactly uniform, one multiply in the common
 * case). Zipf uses rejection-inversion sampling (Hoermann and Derflinger, "Rejection-inversion to
 * generate variates from monotone discrete distributions", 1996): it inverts the integral H of the
 * continuous hat h(x) = x^-s and accepts a candidate rank k when the draw falls under the exact
 * probability mass of k; the expected number of tries is close to one for every n and s, it needs no
 * table, and it is exact, so a key range of a billion costs what a range of ten does. Gaussian uses
 * Box-Muller and redraws values that fall outside the key range.
 *
 * Values: length = size_min + hash1(idx) % (size_max - size_min + 1); bytes = pattern[off .. off+len)
 * with off = hash2(idx) % KS_PATTERN_SLACK. The pattern is printable text so traffic stays readable
 * in a packet dump.
 */
#include "config.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "benchmarks/bench/keyspace.h"

static uint64_t splitmix64(uint64_t *x)
{
    uint64_t z = (*x += 0x9e3779b97f4a7c15ULL);
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
    return z ^ (z >> 31);
}

/* A stateless 64-bit mix of v (the splitmix64 finaliser) with a salt; used to derive values. */
static uint64_t mix64(uint64_t v, uint64_t salt)
{
    uint64_t x = v ^ salt;
    return splitmix64(&x);
}

static inline uint64_t rotl(uint64_t x, int k)
{
    return (x << k) | (x >> (64 - k));
}

/* xoshiro256**, the stream's state advanced once. */
uint64_t ks_next_u64(struct ks_stream *st)
{
    uint64_t *s = st->s;
    uint64_t result = rotl(s[1] * 5, 7) * 9;
    uint64_t t = s[1] << 17;
    s[2] ^= s[0];
    s[3] ^= s[1];
    s[1] ^= s[2];
    s[0] ^= s[3];
    s[2] ^= t;
    s[3] = rotl(s[3], 45);
    return result;
}

/* Uniform in [0, n), n >= 1, without modulo bias. */
static uint64_t uniform_below(struct ks_stream *st, uint64_t n)
{
    unsigned __int128 m = (unsigned __int128)ks_next_u64(st) * n;
    uint64_t low = (uint64_t)m;
    if (low < n) {
        uint64_t threshold = -n % n;
        while (low < threshold) {
            m = (unsigned __int128)ks_next_u64(st) * n;
            low = (uint64_t)m;
        }
    }
    return (uint64_t)(m >> 64);
}

/* Uniform in (0, 1): 53 random bits, never exactly 0. */
static double uniform_open01(struct ks_stream *st)
{
    return ((double)(ks_next_u64(st) >> 11) + 0.5) * (1.0 / 9007199254740992.0);
}

/* log1p(x) / x, continuous at 0. */
static double helper1(double x)
{
    return fabs(x) > 1e-8 ? log1p(x) / x : 1.0 - x * (0.5 - x / 3.0);
}

/* expm1(x) / x, continuous at 0. */
static double helper2(double x)
{
    return fabs(x) > 1e-8 ? expm1(x) / x : 1.0 + x * 0.5 * (1.0 + x / 3.0);
}

/* The hat h(x) = x^-s. */
static double zipf_h(const struct ks_zipf *z, double x)
{
    return exp(-z->s * log(x));
}

/* H(x) = integral of h = (x^(1-s) - 1) / (1-s), or log x when s = 1. */
static double zipf_big_h(const struct ks_zipf *z, double x)
{
    double lx = log(x);
    return helper2((1.0 - z->s) * lx) * lx;
}

/* The inverse of H. */
static double zipf_big_h_inv(const struct ks_zipf *z, double x)
{
    double t = x * (1.0 - z->s);
    if (t < -1.0)
        t = -1.0;
    return exp(helper1(t) * x);
}

static void zipf_init(struct ks_zipf *z, uint64_t n, double s)
{
    z->n = (double)n;
    z->s = s;
    z->h_x1 = zipf_big_h(z, 1.5) - 1.0;
    z->h_n = zipf_big_h(z, z->n + 0.5);
    z->s_div = 2.0 - zipf_big_h_inv(z, zipf_big_h(z, 2.5) - zipf_h(z, 2.0));
}

/* A rank in [1, n] with P(k) proportional to k^-s. */
static uint64_t zipf_sample(struct ks_stream *st, const struct ks_zipf *z)
{
    for (;;) {
        double u = z->h_n + uniform_open01(st) * (z->h_x1 - z->h_n);
        double x = zipf_big_h_inv(z, u);
        double kd = floor(x + 0.5);
        if (kd < 1.0)
            kd = 1.0;
        else if (kd > z->n)
            kd = z->n;
        if (kd - x <= z->s_div || u >= zipf_big_h(z, kd + 0.5) - zipf_h(z, kd))
            return (uint64_t)kd;
    }
}

/* A normal draw (mean 0, deviation 1), two per Box-Muller round. */
static double gauss_sample(struct ks_stream *st)
{
    if (st->gauss_have) {
        st->gauss_have = 0;
        return st->gauss_spare;
    }
    double r = sqrt(-2.0 * log(uniform_open01(st)));
    double a = 2.0 * M_PI * uniform_open01(st);
    st->gauss_spare = r * sin(a);
    st->gauss_have = 1;
    return r * cos(a);
}

static uint64_t gauss_key(struct ks_stream *st, const struct keyspace *ks)
{
    double lo = (double)ks->opt.key_min - 0.5;
    double hi = (double)ks->opt.key_max + 0.5;
    for (;;) {
        double v = ks->opt.gauss_median + ks->opt.gauss_stddev * gauss_sample(st);
        if (v >= lo && v < hi) {
            uint64_t k = (uint64_t)llround(v);
            if (k >= ks->opt.key_min && k <= ks->opt.key_max)
                return k;
        }
    }
}

/* Fills ks->pattern with printable pseudo-random text. */
static void pattern_fill(char *p, size_t n)
{
    static const char alphabet[] = "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789+/";
    uint64_t x = 0x6361697276616c75ULL;
    for (size_t i = 0; i < n; i++)
        p[i] = alphabet[splitmix64(&x) & 63];
}

/* Validates opt, precomputes the Zipf constants and the pattern buffer. */
enum ks_status ks_init(struct keyspace *ks, const struct ks_options *opt)
{
    memset(ks, 0, sizeof(*ks));
    if (opt->key_max < opt->key_min || (opt->key_min == 0 && opt->key_max == UINT64_MAX))
        return KS_BAD_RANGE;
    if (opt->size_min < 1 || opt->size_max < opt->size_min || opt->size_max > (1u << 30))
        return KS_BAD_SIZE;
    if (!(opt->zipf_exp > 0.0) || opt->zipf_exp > 100.0)
        return KS_BAD_ZIPF;
    ks->opt = *opt;
    ks->prefix_len = strlen(opt->prefix);
    if (ks->prefix_len + 20 > KS_KEY_MAX_LEN)
        return KS_BAD_RANGE;
    ks->range = opt->key_max - opt->key_min + 1;
    zipf_init(&ks->zipf, ks->range, opt->zipf_exp);
    ks->pattern = malloc(opt->size_max + KS_PATTERN_SLACK);
    if (ks->pattern == NULL)
        return KS_NO_MEMORY;
    pattern_fill(ks->pattern, opt->size_max + KS_PATTERN_SLACK);
    return KS_OK;
}

/* Frees the pattern buffer. */
void ks_deinit(struct keyspace *ks)
{
    free(ks->pattern);
    ks->pattern = NULL;
}

/* splitmix64 over (seed, thread, conn) gives four well-mixed, distinct state words. */
void ks_stream_seed(struct ks_stream *st, const struct keyspace *ks, uint64_t seed, unsigned thread,
                    unsigned conn, uint64_t start_offset)
{
    uint64_t x = seed ^ mix64(((uint64_t)thread << 32) | conn, 0x636f6e6e65637469ULL);
    for (int i = 0; i < 4; i++)
        st->s[i] = splitmix64(&x);
    st->seq_next = start_offset % ks->range;
    st->gauss_have = 0;
    st->gauss_spare = 0.0;
}

/* Dispatch on the pattern; every branch returns an absolute index within the range. */
uint64_t ks_next_key(struct ks_stream *st, const struct keyspace *ks, enum ks_pattern p)
{
    switch (p) {
    case KS_SEQUENTIAL: {
        uint64_t off = st->seq_next;
        st->seq_next = off + 1 == ks->range ? 0 : off + 1;
        return ks->opt.key_min + off;
    }
    case KS_UNIFORM:
        return ks->opt.key_min + uniform_below(st, ks->range);
    case KS_ZIPF:
        return ks->opt.key_min + zipf_sample(st, &ks->zipf) - 1;
    case KS_GAUSSIAN:
        return gauss_key(st, ks);
    }
    return ks->opt.key_min;
}

/* prefix followed by the decimal index; written by hand as it runs once per request. */
size_t ks_key_text(const struct keyspace *ks, uint64_t idx, char *out)
{
    char digits[24];
    size_t n = 0;
    do {
        digits[n++] = (char)('0' + idx % 10);
        idx /= 10;
    } while (idx != 0);
    memcpy(out, ks->opt.prefix, ks->prefix_len);
    size_t len = ks->prefix_len;
    while (n > 0)
        out[len++] = digits[--n];
    out[len] = '\0';
    return len;
}

/* The key-derived length and window of the shared pattern. */
const char *ks_value(const struct keyspace *ks, uint64_t idx, size_t *len)
{
    size_t span = ks->opt.size_max - ks->opt.size_min + 1;
    *len = ks->opt.size_min + (span == 1 ? 0 : (size_t)(mix64(idx, 0x6c656e677468ULL) % span));
    return ks->pattern + mix64(idx, 0x6f6666736574ULL) % KS_PATTERN_SLACK;
}

/* memtier's letters. */
int ks_pattern_parse(char c, enum ks_pattern *out)
{
    switch (c) {
    case 'S':
        *out = KS_SEQUENTIAL;
        return 0;
    case 'R':
        *out = KS_UNIFORM;
        return 0;
    case 'Z':
        *out = KS_ZIPF;
        return 0;
    case 'G':
        *out = KS_GAUSSIAN;
        return 0;
    }
    return -1;
}

/* The inverse of ks_pattern_parse. */
char ks_pattern_letter(enum ks_pattern p)
{
    static const char letters[] = {'S', 'R', 'Z', 'G'};
    return letters[p];
}
