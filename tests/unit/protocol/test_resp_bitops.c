/*
 * test_resp_bitops.c: the bitmap arithmetic behind SETBIT, BITCOUNT, BITPOS, BITOP and BITFIELD
 * (protocol/resp/resp_bitops.c): bit order, counting and searching checked against a bit-by-bit
 * reference over every range of random buffers, bitfield reads and writes, and a table of overflow
 * cases (wrap, saturate, fail) for signed and unsigned fields of every edge width.
 */
#include "config.h"

#include <criterion/criterion.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "protocol/resp/resp_bitops.h"

/* The reference: one bit at a time, MSB first. */
static int ref_bit(const unsigned char *p, uint64_t i)
{
    return (p[i / 8] >> (7 - i % 8)) & 1;
}

Test(bitops, bit_order_is_msb_first)
{
    unsigned char v[2] = {0x80, 0x01}; /* bit 0 and bit 15 */
    cr_expect_eq(bits_get(v, 2, 0), 1);
    cr_expect_eq(bits_get(v, 2, 1), 0);
    cr_expect_eq(bits_get(v, 2, 15), 1);
    cr_expect_eq(bits_get(v, 2, 16), 0, "past the end reads 0");
    cr_expect_eq(bits_get(NULL, 0, 1000), 0, "an empty value reads 0");
    bits_set(v, 0, 0);
    bits_set(v, 7, 1);
    cr_expect_eq(v[0], 0x01);
    bits_set(v, 8, 1);
    cr_expect_eq(v[1], 0x81);
}

Test(bitops, count_and_find_match_the_reference_on_every_range)
{
    enum { N = 23 };
    unsigned char buf[N];
    srand(7);
    for (int round = 0; round < 6; round++) {
        for (int i = 0; i < N; i++) {
            int r = rand();
            /* some all-zero and all-one bytes, so that the word skip of find is exercised */
            buf[i] = round == 1                ? 0
                     : round == 2              ? 0xFF
                     : round >= 3 && i < N - 2 ? (round == 3 ? 0 : 0xFF)
                                               : (unsigned char)r;
        }
        for (uint64_t first = 0; first < N * 8; first++) {
            uint64_t count = 0;
            int64_t one = -1, zero = -1;
            for (uint64_t last = first; last < N * 8; last++) {
                int b = ref_bit(buf, last);
                count += (uint64_t)b;
                if (b && one < 0)
                    one = (int64_t)last;
                if (!b && zero < 0)
                    zero = (int64_t)last;
                cr_assert_eq(bits_count(buf, first, last), count, "round %d count %lu..%lu", round,
                             (unsigned long)first, (unsigned long)last);
                cr_assert_eq(bits_find(buf, first, last, 1), one, "round %d find 1 in %lu..%lu", round,
                             (unsigned long)first, (unsigned long)last);
                cr_assert_eq(bits_find(buf, first, last, 0), zero, "round %d find 0 in %lu..%lu", round,
                             (unsigned long)first, (unsigned long)last);
            }
        }
    }
}

Test(bitops, fields_read_and_write_across_bytes)
{
    unsigned char v[9] = {0};
    bits_field_set(v, 4, 8, 0xAB); /* straddles bytes 0 and 1 */
    cr_expect_eq(v[0], 0x0A);
    cr_expect_eq(v[1], 0xB0);
    cr_expect_eq(bits_field_get(v, 9, 4, 8), 0xAB);
    cr_expect_eq(bits_field_get(v, 9, 0, 4), 0);
    cr_expect_eq(bits_field_get_signed(v, 9, 4, 8), (int64_t)(int8_t)0xAB);
    cr_expect_eq(bits_field_get_signed(v, 9, 4, 4), -6, "1010 as i4");
    bits_field_set(v, 3, 64, UINT64_MAX);
    cr_expect_eq(bits_field_get_signed(v, 9, 3, 64), -1);
    cr_expect_eq(bits_field_get(v, 9, 3, 63), UINT64_MAX >> 1);
    cr_expect_eq(v[0] & 0xE0, 0, "bits before the field untouched");
    cr_expect_eq(v[8] & 0x1F, 0, "bits after the field untouched");
    cr_expect_eq(bits_field_get(v, 2, 12, 8), 0xF0, "past the end reads as zeros");
}

Test(bitops, field_overflow_table)
{
    static const struct {
        bool is_signed;
        unsigned bits;
        int64_t value, incr;
        enum bits_overflow ow;
        int dir;
        int64_t result; /* for WRAP and SAT */
    } cases[] = {
        /* unsigned: u2 holds 0..3, u8 0..255, u63 0..2^63-1 */
        {false, 2, 3, 1, BITS_WRAP, 1, 0},
        {false, 2, 3, 1, BITS_SAT, 1, 3},
        {false, 2, 3, 1, BITS_FAIL, 1, 0},
        {false, 2, 1, 1, BITS_WRAP, 0, 2},
        {false, 8, 0, -1, BITS_WRAP, -1, 255},
        {false, 8, 0, -1, BITS_SAT, -1, 0},
        {false, 8, 10, -10, BITS_SAT, 0, 0},
        {false, 8, 200, 100, BITS_WRAP, 1, 44},
        {false, 8, -1, 0, BITS_WRAP, 1, 255}, /* SET u8 -1 */
        {false, 8, -1, 0, BITS_SAT, 1, 255},
        {false, 8, 256, 0, BITS_WRAP, 1, 0}, /* SET u8 256 */
        {false, 63, INT64_MAX, 1, BITS_WRAP, 1, 0},
        {false, 63, INT64_MAX, 1, BITS_SAT, 1, INT64_MAX},
        {false, 63, 5, INT64_MIN, BITS_WRAP, -1,
         (int64_t)(((uint64_t)5 + (uint64_t)INT64_MIN) & (UINT64_MAX >> 1))},
        {false, 63, 5, INT64_MIN, BITS_SAT, -1, 0},
        {false, 1, 1, 0, BITS_WRAP, 0, 1},
        /* signed: i8 holds -128..127 */
        {true, 8, 127, 1, BITS_WRAP, 1, -128},
        {true, 8, 127, 1, BITS_SAT, 1, 127},
        {true, 8, -128, -1, BITS_WRAP, -1, 127},
        {true, 8, -128, -1, BITS_SAT, -1, -128},
        {true, 8, 100, -300, BITS_SAT, -1, -128},
        {true, 8, 200, 0, BITS_WRAP, 1, -56}, /* SET i8 200 */
        {true, 8, -200, 0, BITS_WRAP, -1, 56},
        {true, 8, 5, -5, BITS_WRAP, 0, 0},
        {true, 1, 0, -1, BITS_WRAP, 0, -1}, /* i1 holds -1..0 */
        {true, 1, 0, 1, BITS_WRAP, 1, -1},
        {true, 1, 0, 1, BITS_SAT, 1, 0},
        /* i64: the sum itself overflows */
        {true, 64, INT64_MAX, 1, BITS_WRAP, 1, INT64_MIN},
        {true, 64, INT64_MAX, 1, BITS_SAT, 1, INT64_MAX},
        {true, 64, INT64_MIN, -1, BITS_WRAP, -1, INT64_MAX},
        {true, 64, INT64_MIN, -1, BITS_SAT, -1, INT64_MIN},
        {true, 64, -1, INT64_MIN, BITS_SAT, -1, INT64_MIN},
        {true, 64, INT64_MIN, INT64_MAX, BITS_WRAP, 0, -1},
        {true, 63, INT64_MAX, 0, BITS_WRAP, 1, -1}, /* SET i63 2^63-1 */
    };
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        uint64_t r = 12345;
        int dir = bits_field_add(cases[i].is_signed, cases[i].bits, (uint64_t)cases[i].value, cases[i].incr,
                                 cases[i].ow, &r);
        cr_expect_eq(dir, cases[i].dir, "case %zu: direction %d", i, dir);
        if (cases[i].ow == BITS_FAIL && dir != 0)
            cr_expect_eq(r, 12345u, "case %zu: FAIL leaves the result alone", i);
        else
            cr_expect_eq((int64_t)r, cases[i].result, "case %zu: result %lld", i, (long long)(int64_t)r);
    }
}

Test(bitops, op_pads_shorter_sources_with_zeros)
{
    const unsigned char a[] = {0xF0, 0x0F, 0xFF}, b[] = {0xFF};
    const unsigned char *src[] = {a, b, NULL};
    const size_t len[] = {3, 1, 0};
    unsigned char d[3];
    bits_op(BITS_AND, d, 3, src, len, 2);
    cr_expect(d[0] == 0xF0 && d[1] == 0 && d[2] == 0);
    bits_op(BITS_OR, d, 3, src, len, 3);
    cr_expect(d[0] == 0xFF && d[1] == 0x0F && d[2] == 0xFF);
    bits_op(BITS_XOR, d, 3, src, len, 2);
    cr_expect(d[0] == 0x0F && d[1] == 0x0F && d[2] == 0xFF);
    bits_op(BITS_AND, d, 3, src, len, 3);
    cr_expect(d[0] == 0 && d[1] == 0 && d[2] == 0, "a missing key ANDs as zeros");
    bits_op(BITS_NOT, d, 3, src, len, 1);
    cr_expect(d[0] == 0x0F && d[1] == 0xF0 && d[2] == 0x00);
}
