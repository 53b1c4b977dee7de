/*
 * resp_bitops.c: bitmap arithmetic on byte arrays (see resp_bitops.h).
 *
 * Counting and searching go a 64-bit word at a time through the whole bytes of a range, with masks for
 * the partial bytes at its ends. Bitfields go bit by bit: they are at most 64 bits wide.
 */
#include "config.h"

#include "protocol/resp/resp_bitops.h"

#include <string.h>

/* The mask of bit `bit` within its byte. */
static inline unsigned char bit_mask(uint64_t bit)
{
    return (unsigned char)(0x80u >> (bit & 7));
}

int bits_get(const unsigned char *p, size_t n, uint64_t bit)
{
    uint64_t byte = bit >> 3;
    if (byte >= n)
        return 0;
    return (p[byte] & bit_mask(bit)) != 0;
}

void bits_set(unsigned char *p, uint64_t bit, int on)
{
    uint64_t byte = bit >> 3;
    if (on)
        p[byte] = (unsigned char)(p[byte] | bit_mask(bit));
    else
        p[byte] = (unsigned char)(p[byte] & ~bit_mask(bit));
}

/* The bits of one byte from bit position `from` (0 = most significant) to `to`, inclusive. */
static inline unsigned char byte_range_mask(unsigned from, unsigned to)
{
    return (unsigned char)((0xFFu >> from) & (0xFFu << (7 - to)));
}

/* Set bits in p[0..n). */
static uint64_t popcount_bytes(const unsigned char *p, size_t n)
{
    uint64_t count = 0;
    size_t i = 0;
    for (; i + 8 <= n; i += 8) {
        uint64_t w;
        memcpy(&w, p + i, 8);
        count += (uint64_t)__builtin_popcountll(w);
    }
    for (; i < n; i++)
        count += (uint64_t)__builtin_popcount(p[i]);
    return count;
}

uint64_t bits_count(const unsigned char *p, uint64_t first, uint64_t last)
{
    uint64_t fb = first >> 3, lb = last >> 3;
    if (fb == lb)
        return (uint64_t)__builtin_popcount(p[fb] & byte_range_mask(first & 7, last & 7));
    uint64_t count = (uint64_t)__builtin_popcount(p[fb] & byte_range_mask(first & 7, 7));
    count += popcount_bytes(p + fb + 1, (size_t)(lb - fb - 1));
    count += (uint64_t)__builtin_popcount(p[lb] & byte_range_mask(0, last & 7));
    return count;
}

/* The first bit equal to `bit` in byte v among its positions from..to, or -1. */
static int find_in_byte(unsigned char v, unsigned from, unsigned to, int bit)
{
    unsigned char m = byte_range_mask(from, to);
    unsigned char hits = (unsigned char)((bit ? v : (unsigned char)~v) & m);
    if (hits == 0)
        return -1;
    return __builtin_clz((unsigned)hits) - (int)(8 * sizeof(unsigned) - 8);
}

/* The first byte of p[0..n) holding a bit equal to `bit`, or n. */
static size_t find_byte(const unsigned char *p, size_t n, int bit)
{
    uint64_t skip = bit ? 0 : UINT64_MAX;
    unsigned char skip_byte = bit ? 0x00 : 0xFF;
    size_t i = 0;
    for (; i + 8 <= n; i += 8) {
        uint64_t w;
        memcpy(&w, p + i, 8);
        if (w != skip)
            break;
    }
    while (i < n && p[i] == skip_byte)
        i++;
    return i;
}

int64_t bits_find(const unsigned char *p, uint64_t first, uint64_t last, int bit)
{
    uint64_t fb = first >> 3, lb = last >> 3;
    int at;
    if (fb == lb) {
        at = find_in_byte(p[fb], first & 7, last & 7, bit);
        return at < 0 ? -1 : (int64_t)(fb * 8 + (uint64_t)at);
    }
    at = find_in_byte(p[fb], first & 7, 7, bit);
    if (at >= 0)
        return (int64_t)(fb * 8 + (uint64_t)at);
    size_t inner = (size_t)(lb - fb - 1);
    size_t i = find_byte(p + fb + 1, inner, bit);
    if (i < inner) {
        uint64_t b = fb + 1 + i;
        return (int64_t)(b * 8 + (uint64_t)find_in_byte(p[b], 0, 7, bit));
    }
    at = find_in_byte(p[lb], 0, last & 7, bit);
    return at < 0 ? -1 : (int64_t)(lb * 8 + (uint64_t)at);
}

uint64_t bits_field_get(const unsigned char *p, size_t n, uint64_t offset, unsigned bits)
{
    uint64_t v = 0;
    for (unsigned i = 0; i < bits; i++)
        v = (v << 1) | (uint64_t)bits_get(p, n, offset + i);
    return v;
}

int64_t bits_field_get_signed(const unsigned char *p, size_t n, uint64_t offset, unsigned bits)
{
    uint64_t v = bits_field_get(p, n, offset, bits);
    if (bits < 64 && (v & ((uint64_t)1 << (bits - 1))))
        v |= UINT64_MAX << bits;
    return (int64_t)v;
}

void bits_field_set(unsigned char *p, uint64_t offset, unsigned bits, uint64_t v)
{
    for (unsigned i = 0; i < bits; i++)
        bits_set(p, offset + i, (int)((v >> (bits - 1 - i)) & 1));
}

/* A signed field's sum: v + incr against [min, max] of `bits` bits, computed without overflow. */
static int add_signed(unsigned bits, int64_t v, int64_t incr, enum bits_overflow ow, uint64_t *result)
{
    int64_t max = bits == 64 ? INT64_MAX : (int64_t)(((uint64_t)1 << (bits - 1)) - 1);
    int64_t min = -max - 1;
    int64_t sum = 0;
    int dir = 0;
    if (v > max)
        dir = 1;
    else if (v < min)
        dir = -1;
    else if (__builtin_add_overflow(v, incr, &sum))
        dir = incr > 0 ? 1 : -1;
    else if (sum > max)
        dir = 1;
    else if (sum < min)
        dir = -1;
    if (dir == 0) {
        *result = (uint64_t)sum;
        return 0;
    }
    if (ow == BITS_SAT) {
        *result = (uint64_t)(dir > 0 ? max : min);
    } else if (ow == BITS_WRAP) {
        uint64_t c = (uint64_t)v + (uint64_t)incr;
        if (bits < 64) {
            uint64_t high = UINT64_MAX << bits;
            c = (c & ((uint64_t)1 << (bits - 1))) ? c | high : c & ~high;
        }
        *result = c;
    }
    return dir;
}

/* An unsigned field's sum: v + incr against [0, 2^bits - 1]. */
static int add_unsigned(unsigned bits, uint64_t v, int64_t incr, enum bits_overflow ow, uint64_t *result)
{
    uint64_t max = ((uint64_t)1 << bits) - 1;
    int dir = 0;
    if (v > max)
        dir = 1;
    else if (incr > 0 && (uint64_t)incr > max - v)
        dir = 1;
    else if (incr < 0 && (uint64_t)(-(incr + 1)) + 1 > v)
        dir = -1;
    if (dir == 0) {
        *result = v + (uint64_t)incr;
        return 0;
    }
    if (ow == BITS_SAT)
        *result = dir > 0 ? max : 0;
    else if (ow == BITS_WRAP)
        *result = (v + (uint64_t)incr) & max;
    return dir;
}

int bits_field_add(bool is_signed, unsigned bits, uint64_t value, int64_t incr, enum bits_overflow ow,
                   uint64_t *result)
{
    if (is_signed)
        return add_signed(bits, (int64_t)value, incr, ow, result);
    return add_unsigned(bits, value, incr, ow, result);
}

/* Byte i of source k, 0 past its end. */
static inline unsigned char src_byte(const unsigned char *const *src, const size_t *srclen, size_t k,
                                     size_t i)
{
    return i < srclen[k] ? src[k][i] : 0;
}

void bits_op(enum bits_op op, unsigned char *dst, size_t len, const unsigned char *const *src,
             const size_t *srclen, size_t n)
{
    for (size_t i = 0; i < len; i++) {
        unsigned char v = src_byte(src, srclen, 0, i);
        if (op == BITS_NOT) {
            v = (unsigned char)~v;
        } else {
            for (size_t k = 1; k < n; k++) {
                unsigned char b = src_byte(src, srclen, k, i);
                if (op == BITS_AND)
                    v &= b;
                else if (op == BITS_OR)
                    v |= b;
                else
                    v ^= b;
            }
        }
        dst[i] = v;
    }
}
