/*
 * resp_util.h: Redis 7.0's rules for numbers and patterns, byte for byte (util.c string2ll, string2l,
 * string2ld, ld2string, d2string; stringmatchlen), so that every RESP command parses and prints
 * numbers as redis-server does. Pure functions, no allocation.
 */
#ifndef CAIRN_PROTOCOL_RESP_UTIL_H
#define CAIRN_PROTOCOL_RESP_UTIL_H

#include <stdbool.h>
#include <stddef.h>

/* Redis's string2ll: the whole of s[0..n) is an optional '-' and decimal digits, no leading zeros
 * (except "0"), no '+', no spaces, fits a long long. */
bool resp_str2ll(const char *s, size_t n, long long *v);

/* Redis's string2ld (INCRBYFLOAT's operand and the stored value): strtold over the whole string,
 * no leading space, not NaN, at most 5 KiB (MAX_LONG_DOUBLE_CHARS). */
bool resp_str2ld(const char *s, size_t n, long double *v);

/* Redis's string2d-style parse used by commands taking a double (e.g. a float score): strtod over
 * the whole string, no leading space, not NaN. */
bool resp_str2d(const char *s, size_t n, double *v);

/* Redis's ld2string with LD_STR_HUMAN (INCRBYFLOAT's reply and stored value): "%.17Lf" with trailing
 * zeros and a trailing '.' removed, "-0" printed as "0"; "inf"/"-inf" for infinities. Returns the
 * length written (NUL-terminated), 0 if it does not fit. */
size_t resp_ld2str(char *buf, size_t size, long double v);

/* Redis's d2string / the "%.17g" used by addReplyDouble. Returns the length written. */
size_t resp_d2str(char *buf, size_t size, double v);

/* Redis's ll2string. Returns the length written. */
size_t resp_ll2str(char *buf, size_t size, long long v);

/* Redis's stringmatchlen: glob-style pattern (* ? [abc] [^a] [a-z] \x escapes), nocase when asked. */
bool resp_match(const char *pat, size_t npat, const char *s, size_t ns, bool nocase);

#endif
