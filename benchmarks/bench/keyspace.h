/*
 * keyspace.h: what cairn-bench asks for: a per-connection pseudo-random stream, the key patterns
 * (sequential, uniform, Zipf, Gaussian) that pick a key index in [key_min, key_max], the key's text,
 * and the value that belongs to a key.
 *
 * A value is a function of its key alone: its length is fixed or drawn from the size range by a hash
 * of the key index, and its bytes are a window into one shared pattern buffer whose offset is another
 * hash of the key index. Any GET hit can therefore be checked for length and content without
 * remembering what was set, whichever connection set it.
 *
 * Threads: a struct ks_stream is owned by one connection (one thread). The struct keyspace is built
 * once before the threads start and is read-only afterwards, so all threads share it without locks.
 */
#ifndef CAIRN_BENCH_KEYSPACE_H
#define CAIRN_BENCH_KEYSPACE_H

#include <stddef.h>
#include <stdint.h>

enum ks_pattern {
    KS_SEQUENTIAL, /* S: min, min+1, ... wrapping; each connection starts at its own offset */
    KS_UNIFORM,    /* R: uniform over the range */
    KS_ZIPF,       /* Z: rank 1 (= key_min) most popular, P(rank k) ~ 1 / k^exp */
    KS_GAUSSIAN,   /* G: normal around the median with the given deviation, redrawn outside the range */
};

enum ks_status {
    KS_OK = 0,
    KS_BAD_RANGE,
    KS_BAD_SIZE,
    KS_BAD_ZIPF,
    KS_NO_MEMORY,
};

/* The options that shape the key space. */
struct ks_options {
    const char *prefix;
    uint64_t key_min, key_max; /* inclusive */
    size_t size_min, size_max; /* value bytes, inclusive; equal for a fixed size */
    double zipf_exp;           /* > 0 */
    double gauss_median;       /* key index */
    double gauss_stddev;       /* > 0 */
};

/* Zipf sampler state over ranks 1..n (rejection-inversion; constant memory and time per draw). */
struct ks_zipf {
    double n, s;
    double h_x1, h_n, s_div;
};

struct keyspace {
    struct ks_options opt;
    size_t prefix_len;
    uint64_t range; /* key_max - key_min + 1 */
    struct ks_zipf zipf;
    char *pattern; /* size_max + KS_PATTERN_SLACK bytes of printable pseudo-random text */
};

/* A connection's private state: xoshiro256** generator and its sequential cursor. */
struct ks_stream {
    uint64_t s[4];
    uint64_t seq_next; /* next sequential index, offset from key_min */
    int gauss_have;    /* Box-Muller yields two normals per draw; this holds the spare */
    double gauss_spare;
};

#define KS_PATTERN_SLACK 4096
#define KS_KEY_MAX_LEN   250

/* Builds the shared key space from opt (prefix is borrowed, not copied). Returns KS_OK or why not. */
enum ks_status ks_init(struct keyspace *ks, const struct ks_options *opt);

/* Frees what ks_init allocated; a zeroed or already deinitialised keyspace is fine. */
void ks_deinit(struct keyspace *ks);

/* Seeds a stream from the run's seed and the connection's (thread, connection) pair, so that no two
 * connections draw the same sequence; the sequential cursor starts at start_offset (mod range). */
void ks_stream_seed(struct ks_stream *st, const struct keyspace *ks, uint64_t seed, unsigned thread,
                    unsigned conn, uint64_t start_offset);

/* Next 64 uniform random bits from the stream. */
uint64_t ks_next_u64(struct ks_stream *st);

/* Next key index (absolute, in [key_min, key_max]) by the given pattern. */
uint64_t ks_next_key(struct ks_stream *st, const struct keyspace *ks, enum ks_pattern p);

/* Writes the key text of index idx into out (at least KS_KEY_MAX_LEN + 1 bytes, NUL-terminated) and
 * returns its length. */
size_t ks_key_text(const struct keyspace *ks, uint64_t idx, char *out);

/* The value of key idx: its length in *len and a pointer into the shared pattern (not NUL-ended). */
const char *ks_value(const struct keyspace *ks, uint64_t idx, size_t *len);

/* Parses a pattern letter (S, R, Z, G). Returns 0 on success, -1 for anything else. */
int ks_pattern_parse(char c, enum ks_pattern *out);

/* The letter memtier uses for p. */
char ks_pattern_letter(enum ks_pattern p);

#endif
