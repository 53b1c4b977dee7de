/*
 * resp_util.h: Redis 7.0's rules for numbers and patterns, byte for byte (util.c string2ll, string2ld,
 * string2d, ld2string, d2string, ll2string; stringmatchlen; the "%.17g" of addReplyDouble), so that
 * every RESP command parses and prints numbers as redis-server 7.0.15 on x86-64 Linux does. Inputs are
 * (pointer, length), binary safe, and never read past their length. Pure functions, no allocation.
 */
#ifndef CAIRN_PROTOCOL_RESP_UTIL_H
#define CAIRN_PROTOCOL_RESP_UTIL_H

#include <stdbool.h>
#include <stddef.h>

/* Redis's LONG_STR_SIZE: room for any long long and its NUL; string2ll refuses this length or more. */
#define RESP_LL_STR_SIZE 21
/* Redis's MAX_LONG_DOUBLE_CHARS: room for any resp_ld2str() text; string2ld refuses this length or
 * more. */
#define RESP_LD_STR_SIZE (5 * 1024)

/* Redis's string2ll: the whole of s[0..n) is an optional '-' and decimal digits, no leading zeros
 * (except "0"; "-0" is refused), no '+', no spaces, fewer than 21 bytes, fits a long long. v may be
 * NULL (a test only). */
bool resp_str2ll(const char *s, size_t n, long long *v);

/* Redis's string2ld (INCRBYFLOAT's operand and the stored value): strtold over the whole string, no
 * leading space (C isspace), no NUL inside, not NaN, not out of range (overflow, or underflow to
 * zero; a subnormal result is accepted), fewer than RESP_LD_STR_SIZE bytes. strtold's whole grammar
 * is accepted: "+1", ".5", "1e3", "0x1p4", "inf", "-Infinity". v may be NULL. */
bool resp_str2ld(const char *s, size_t n, long double *v);

/* Redis's string2d (getDoubleFromObject: ZADD's scores and other double arguments):
 * strtod with string2ld's rules. One difference: Redis's string2d has no length limit, while here a
 * string of RESP_LD_STR_SIZE bytes or more (only possible with thousands of padding zeros) is
 * refused. v may be NULL. */
bool resp_str2d(const char *s, size_t n, double *v);

/* Redis's ld2string with LD_STR_HUMAN (INCRBYFLOAT's reply and stored value): "%.17Lf" of the 80-bit
 * long double with trailing zeros and a trailing '.' removed, "-0" printed as "0"; "inf"/"-inf" for
 * infinities (needing size >= 5 either way, as Redis). E.g. "10.50" + 0.1 prints "10.6", but
 * "10.6" + 5.0e3 prints "5010.60000000000000009". Returns the length written (NUL-terminated), 0 if
 * it does not fit (RESP_LD_STR_SIZE always fits). */
size_t resp_ld2str(char *buf, size_t size, long double v);

/* Redis's d2string (how a sorted set's score is stored as text): "nan", "inf", "-inf", "0", "-0"; an
 * integral value within +-(LLONG_MAX / 2) as an integer ("1e18" prints "1000000000000000000");
 * otherwise "%.17g". Returns the length written (NUL-terminated), 0 if it does not fit (Redis would
 * return the untruncated length; 32 bytes always fit). */
size_t resp_d2str(char *buf, size_t size, double v);

/* The text of Redis's addReplyDouble: "inf"/"-inf", otherwise "%.17g" (so "1e+18", and a NaN as glibc
 * prints it: "nan" or "-nan"). Returns the length written (NUL-terminated), 0 if it does not fit (32
 * bytes always fit). */
size_t resp_d2str_reply(char *buf, size_t size, double v);

/* Redis's ll2string. Returns the length written (NUL-terminated), 0 if it does not fit
 * (RESP_LL_STR_SIZE always fits). */
size_t resp_ll2str(char *buf, size_t size, long long v);

/* Redis's stringmatchlen (KEYS, SCAN MATCH, PSUBSCRIBE; nocase for CONFIG GET and COMMAND LIST):
 *   *        any run of bytes, ?  any one byte, \x  the byte x (a trailing '\' is itself);
 *   [abc]    one of; [^abc] none of; [a-z] a range, ends swapped when reversed ([z-a] is [a-z]);
 *            inside, \x is x (compared case-sensitively even under nocase), "a-]" is a range
 *            ending at ']', and an unterminated class ends at the pattern's end ("[^" matches any
 *            one byte, "[" none).
 * Bytes 0x80..0xff compare as negative numbers in ranges (x86-64's signed char) and nocase folds
 * A-Z plus what glibc's "C" tolower() does to those (-128..-2 become 128..254, after any swap), as
 * Redis does. A pattern nesting more than 1000 '*' deep matches nothing (the CVE-2024-31228 limit,
 * in Debian's 7.0.15 as in later Redis). */
bool resp_match(const char *pat, size_t npat, const char *s, size_t ns, bool nocase);

#endif
