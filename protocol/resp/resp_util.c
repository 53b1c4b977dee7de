/*
 * resp_util.c: Redis 7.0's number and pattern rules (see resp_util.h), written to give the same answer
 * as redis-server 7.0.15 on x86-64 Linux for every input.
 *
 * Design notes:
 * - Redis hands these functions NUL-terminated sds strings and sometimes reads the terminator (strtod,
 *   strtold, the pattern matcher's look-ahead). Here inputs are (pointer, length) and never read past
 *   their length: the floating-point parsers copy into a bounded stack buffer, and the matcher checks
 *   the length where Redis would have read the terminator (which never matches '*', '^', '\\' or ']',
 *   so the answers are the same).
 * - The pattern matcher reproduces the machine Redis runs on: char is signed (a byte 0x80..0xff in a
 *   [a-b] range compares as a negative number) and case folding is glibc's tolower() in the "C"
 *   locale, which maps -128..-2 to 128..254. Redis never sets LC_CTYPE, so that is what it sees.
 * - Numbers are parsed and printed in the "C" locale; cairn never calls setlocale().
 *
 * Pure: no allocation, no globals (errno aside, which is per thread). Safe from any thread.
 */
#include "config.h"

#include "protocol/resp/resp_util.h"

#include <errno.h>
#include <float.h>
#include <limits.h>
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* ---- integers ---- */

bool resp_str2ll(const char *s, size_t n, long long *v)
{
    if (n == 0 || n >= RESP_LL_STR_SIZE)
        return false;
    if (n == 1 && s[0] == '0') {
        if (v != NULL)
            *v = 0;
        return true;
    }
    size_t i = 0;
    bool neg = s[0] == '-';
    if (neg && ++i == n)
        return false;
    if (s[i] < '1' || s[i] > '9')
        return false;
    unsigned long long u = 0;
    for (; i < n; i++) {
        if (s[i] < '0' || s[i] > '9')
            return false;
        unsigned d = (unsigned)(s[i] - '0');
        if (u > (ULLONG_MAX - d) / 10)
            return false;
        u = u * 10 + d;
    }
    if (u > (unsigned long long)LLONG_MAX + neg)
        return false;
    if (v != NULL)
        *v = !neg ? (long long)u : u > (unsigned long long)LLONG_MAX ? LLONG_MIN : -(long long)u;
    return true;
}

/* Digits of u in base 10 (at least 1). */
static size_t ull_digits(unsigned long long u)
{
    size_t k = 1;
    while (u >= 10) {
        u /= 10;
        k++;
    }
    return k;
}

size_t resp_ll2str(char *buf, size_t size, long long v)
{
    unsigned long long u = v < 0 ? 0ull - (unsigned long long)v : (unsigned long long)v;
    size_t len = ull_digits(u) + (v < 0);
    if (len >= size)
        return 0;
    buf[len] = '\0';
    size_t i = len;
    do {
        buf[--i] = (char)('0' + u % 10);
        u /= 10;
    } while (u != 0);
    if (v < 0)
        buf[0] = '-';
    return len;
}

/* ---- floating point ---- */

/* isspace() in the "C" locale, which is what Redis tests the first byte with. */
static bool c_isspace(char c)
{
    return c == ' ' || c == '\t' || c == '\n' || c == '\v' || c == '\f' || c == '\r';
}

/* Copies s[0..n) into buf as a C string; false when empty or it does not fit. */
static bool copy_number(char buf[RESP_LD_STR_SIZE], const char *s, size_t n)
{
    if (n == 0 || n >= RESP_LD_STR_SIZE)
        return false;
    memcpy(buf, s, n);
    buf[n] = '\0';
    return true;
}

bool resp_str2ld(const char *s, size_t n, long double *v)
{
    char buf[RESP_LD_STR_SIZE];
    char *end;
    if (!copy_number(buf, s, n))
        return false;
    errno = 0;
    long double x = strtold(buf, &end);
    if (c_isspace(buf[0]) || *end != '\0' || (size_t)(end - buf) != n)
        return false;
    if (errno == ERANGE && (isinf(x) || fpclassify(x) == FP_ZERO))
        return false; /* overflow, or underflow to zero; a subnormal result stands */
    if (errno == EINVAL || isnan(x))
        return false;
    if (v != NULL)
        *v = x;
    return true;
}

bool resp_str2d(const char *s, size_t n, double *v)
{
    char buf[RESP_LD_STR_SIZE];
    char *end;
    if (!copy_number(buf, s, n))
        return false;
    errno = 0;
    double x = strtod(buf, &end);
    if (c_isspace(buf[0]) || (size_t)(end - buf) != n)
        return false;
    if (errno == ERANGE && (isinf(x) || fpclassify(x) == FP_ZERO))
        return false;
    if (isnan(x))
        return false;
    if (v != NULL)
        *v = x;
    return true;
}

/* Drops trailing zeros after a '.', then the '.' itself when nothing follows it. */
static size_t trim_fraction(const char *buf, size_t len)
{
    if (memchr(buf, '.', len) == NULL)
        return len;
    while (buf[len - 1] == '0')
        len--;
    if (buf[len - 1] == '.')
        len--;
    return len;
}

/* Copies a short literal if it fits with its NUL; its length, or 0. */
static size_t put_literal(char *buf, size_t size, const char *lit)
{
    size_t len = strlen(lit);
    if (len + 1 > size)
        return 0;
    memcpy(buf, lit, len + 1);
    return len;
}

size_t resp_ld2str(char *buf, size_t size, long double v)
{
    if (isinf(v)) /* Redis needs room for "-inf" and its NUL even to write "inf" */
        return size < 5 ? 0 : put_literal(buf, size, v > 0 ? "inf" : "-inf");
    int w = snprintf(buf, size, "%.17Lf", v);
    if (w < 0 || (size_t)w + 1 > size)
        return 0;
    size_t len = trim_fraction(buf, (size_t)w);
    if (len == 2 && buf[0] == '-' && buf[1] == '0') {
        buf[0] = '0';
        len = 1;
    }
    buf[len] = '\0';
    return len;
}

/* Redis's double2ll: whether d is an integer that a long long holds exactly, within +-LLONG_MAX/2. */
static bool double_is_ll(double d, long long *out)
{
    if (d < (double)(-LLONG_MAX / 2) || d > (double)(LLONG_MAX / 2))
        return false;
    long long ll = (long long)d;
    if ((double)ll != d)
        return false;
    *out = ll;
    return true;
}

size_t resp_d2str(char *buf, size_t size, double v)
{
    long long ll;
    if (isnan(v))
        return put_literal(buf, size, "nan");
    if (isinf(v))
        return put_literal(buf, size, v < 0 ? "-inf" : "inf");
    if (v == 0)
        return put_literal(buf, size, signbit(v) ? "-0" : "0");
    if (double_is_ll(v, &ll))
        return resp_ll2str(buf, size, ll);
    int w = snprintf(buf, size, "%.17g", v);
    return w < 0 || (size_t)w + 1 > size ? 0 : (size_t)w;
}

size_t resp_d2str_reply(char *buf, size_t size, double v)
{
    if (isinf(v))
        return put_literal(buf, size, v > 0 ? "inf" : "-inf");
    int w = snprintf(buf, size, "%.17g", v);
    return w < 0 || (size_t)w + 1 > size ? 0 : (size_t)w;
}

/* ---- glob patterns ---- */

/* Redis gives up on a pattern nested deeper than this many '*' (CVE-2024-31228's fix). */
#define MATCH_NESTING_MAX 1000

/* A byte as Redis's int conversion of a (signed) char gives it. */
static int sch(char c)
{
    return (signed char)c;
}

/* glibc's tolower() in the "C" locale applied to such a value. */
static int fold(int c)
{
    if (c >= 'A' && c <= 'Z')
        return c + ('a' - 'A');
    if (c >= -128 && c <= -2)
        return c + 256;
    return c;
}

static bool same_char(char a, char b, bool nocase)
{
    return nocase ? fold(sch(a)) == fold(sch(b)) : a == b;
}

struct match {
    bool nocase;
    bool give_up; /* Redis's skipLongerMatches */
};

/* One "[...]" class at p (just past the '['), against the byte c. Advances *pp and *np to the class's
 * last byte (the ']', or the pattern's last byte when the class is unterminated) and says whether c is
 * in it. Redis's quirks kept: an escaped byte compares case-sensitively even under nocase; a range's
 * ends are swapped when reversed and then case-folded; "x-]" is a range ending at ']'. */
static bool match_class(const char **pp, size_t *np, char c, bool nocase)
{
    const char *p = *pp;
    size_t n = *np;
    bool neg = n > 0 && p[0] == '^';
    bool hit = false;
    if (neg) {
        p++;
        n--;
    }
    for (;;) {
        if (n == 0) { /* unterminated: step back onto the last byte */
            p--;
            n++;
            break;
        }
        if (p[0] == '\\' && n >= 2) {
            p++;
            n--;
            hit |= p[0] == c;
        } else if (p[0] == ']') {
            break;
        } else if (n >= 3 && p[1] == '-') {
            int lo = sch(p[0]), hi = sch(p[2]), x = sch(c);
            if (lo > hi) {
                int t = lo;
                lo = hi;
                hi = t;
            }
            if (nocase) {
                lo = fold(lo);
                hi = fold(hi);
                x = fold(x);
            }
            p += 2;
            n -= 2;
            hit |= x >= lo && x <= hi;
        } else {
            hit |= same_char(p[0], c, nocase);
        }
        p++;
        n--;
    }
    *pp = p;
    *np = n;
    return neg ? !hit : hit;
}

static bool match_at(struct match *m, const char *p, size_t np, const char *s, size_t ns, int nesting)
{
    if (nesting > MATCH_NESTING_MAX)
        return false;
    while (np > 0 && ns > 0) {
        switch (p[0]) {
        case '*':
            while (np > 1 && p[1] == '*') {
                p++;
                np--;
            }
            if (np == 1)
                return true;
            for (; ns > 0; s++, ns--) {
                if (match_at(m, p + 1, np - 1, s, ns, nesting + 1))
                    return true;
                if (m->give_up)
                    return false;
            }
            /* The rest matches nowhere in what is left, so no longer match of an earlier '*' can
             * help either. */
            m->give_up = true;
            return false;
        case '?':
            s++;
            ns--;
            break;
        case '[':
            p++;
            np--;
            if (!match_class(&p, &np, s[0], m->nocase))
                return false;
            s++;
            ns--;
            break;
        case '\\':
            if (np >= 2) {
                p++;
                np--;
            }
            /* fall through */
        default:
            if (!same_char(p[0], s[0], m->nocase))
                return false;
            s++;
            ns--;
            break;
        }
        p++;
        np--;
        if (ns == 0) {
            while (np > 0 && p[0] == '*') {
                p++;
                np--;
            }
            break;
        }
    }
    return np == 0 && ns == 0;
}

bool resp_match(const char *pat, size_t npat, const char *s, size_t ns, bool nocase)
{
    struct match m = {.nocase = nocase, .give_up = false};
    return match_at(&m, pat, npat, s, ns, 0);
}
