/*
 * test_resp_rdb.c: DUMP's serialized strings (protocol/resp/resp_rdb.c): the CRC-64 check value,
 * payloads byte for byte as redis-server 7.0.15 dumps the same values (integer, plain and LZF
 * encodings), LZF round trips over random and repetitive data, malformed compressed data and payloads
 * refused, and every encoding read back.
 */
#include "config.h"

#include <criterion/criterion.h>
#include <stdlib.h>
#include <string.h>

#include "protocol/resp/resp_rdb.h"

Test(rdb, crc64_check_value)
{
    cr_expect_eq(rdb_crc64(0, (const unsigned char *)"123456789", 9), 0xe9c6d914c4b8d9caULL);
    cr_expect_eq(rdb_crc64(rdb_crc64(0, (const unsigned char *)"1234", 4), (const unsigned char *)"56789", 5),
                 0xe9c6d914c4b8d9caULL, "it continues");
}

Test(rdb, dump_bytes_as_redis)
{
    static const struct {
        const char *value;
        const char *payload; /* redis-server 7.0.15's DUMP */
        size_t len;
    } cases[] = {
        {"5",
         "\x00\xc0\x05\n\x00"
         "c/_f\x83/\xb3Q",
         13},
        {"300",
         "\x00\xc1,\x01\n\x00\x95"
         "Ba\xf2"
         "e\x82\\\x10",
         14},
        {"70000",
         "\x00\xc2p\x11\x01\x00\n\x00\x01\xa4\b\xfe\x95"
         "0\x95\xa5",
         16},
        {"-5", "\x00\xc0\xfb\n\x00I\xc4\xc6\xf4\xd7&?h", 13},
        {"12345678901",
         "\x00\x0b"
         "12345678901\n\x00"
         "0NR\xd7'\x17"
         "e\x10",
         23},
        {"abc",
         "\x00\x03"
         "abc\n\x00\xd9\xac"
         "0=Ar\xa2\xe2",
         15},
        {"", "\x00\x00\n\x00]\x9b\\@\x0f\x7f\xa2\xda", 12},
        {"007",
         "\x00\x03"
         "007\n\x00rX\xe2{Li\xba\xd9",
         15},
        {"aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa",
         "\x00\xc3\t2\x01"
         "aa\xe0%\x00\x01"
         "aa\n\x00\t\xacH\xb9\xab\x15\xfb\xc9",
         23},
        {"abcdefghijklmnopqrstuvwxyz0123456789",
         "\x00$abcdefghijklmnopqrstuvwxyz0123456789\n\x00\xc3\xd1\x8eZ\xec\x8d\x8f\r", 48},
    };
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        size_t n = strlen(cases[i].value);
        unsigned char *out = malloc(rdb_dump_bound(n)), *scratch = malloc(n + 1);
        size_t len = rdb_dump_string((const unsigned char *)cases[i].value, n, out, scratch);
        cr_expect(len == cases[i].len && memcmp(out, cases[i].payload, len) == 0, "DUMP of [%s]: %zu bytes",
                  cases[i].value, len);
        cr_expect_eq(rdb_verify(out, len), RDB_OK);
        unsigned char *v;
        size_t vn;
        cr_assert_eq(rdb_load_string(out, len, 1 << 20, &v, &vn), RDB_OK);
        cr_expect(vn == n && memcmp(v, cases[i].value, n) == 0, "read back [%s]", cases[i].value);
        free(v);
        free(out);
        free(scratch);
    }
}

Test(rdb, lzf_round_trips)
{
    srand(5);
    for (int round = 0; round < 200; round++) {
        size_t n = 1 + (size_t)(rand() % 20000);
        unsigned char *in = malloc(n), *c = malloc(n), *back = malloc(n);
        int alphabet = 1 + rand() % (round % 3 == 0 ? 256 : 4);
        for (size_t i = 0; i < n; i++) /* runs and repeats of a small alphabet compress; 256 mostly not */
            in[i] = i > 8 && rand() % 3 == 0 ? in[i - 1 - (size_t)(rand() % 8)]
                                             : (unsigned char)(rand() % alphabet);
        size_t cn = rdb_lzf_compress(in, n, c, n);
        if (cn > 0) {
            cr_assert_leq(cn, n);
            cr_assert(rdb_lzf_decompress(c, cn, back, n), "round %d: %zu bytes from %zu", round, n, cn);
            cr_assert(memcmp(in, back, n) == 0, "round %d", round);
            cr_expect(!rdb_lzf_decompress(c, cn, back, n - 1), "one byte short of the length is refused");
        }
        free(in);
        free(c);
        free(back);
    }
    unsigned char out[16];
    /* two literals, one reference of 26 bytes, two literals (as Redis's 50 'a's, see dump_bytes_as_redis) */
    cr_expect_eq(
        rdb_lzf_compress((const unsigned char *)"aaaaaaaaaaaaaaaaaaaaaaaaaaaaaa", 30, out, sizeof(out)), 9u);
    cr_expect(memcmp(out,
                     "\x01"
                     "aa\xe0\x11\x00\x01"
                     "aa",
                     9) == 0);
    cr_expect_eq(rdb_lzf_compress((const unsigned char *)"aaaaaaaaaaaaaaaaaaaaaaaaaaaaaa", 30, out, 8), 0u,
                 "no room");
}

Test(rdb, malformed_data_is_refused)
{
    unsigned char out[64];
    static const struct {
        const char *in;
        size_t n, outlen;
    } bad[] = {
        {"\x05"
         "ab",
         3, 6}, /* a literal run past the input */
        {"\x01"
         "ab\x20\x05",
         5, 8}, /* a reference behind the start */
        {"\x01"
         "ab\xe0",
         4, 40}, /* a reference cut short */
        {"\x01"
         "ab\x20\x01",
         5, 3},     /* more output than asked for */
        {"", 0, 4}, /* nothing for four bytes */
    };
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
        cr_expect(!rdb_lzf_decompress((const unsigned char *)bad[i].in, bad[i].n, out, bad[i].outlen),
                  "case %zu", i);
    cr_expect(rdb_lzf_decompress((const unsigned char *)"\x01"
                                                        "ab\x20\x01",
                                 5, out, 5));
    cr_expect(memcmp(out, "ababa", 5) == 0, "an overlapping reference repeats");

    unsigned char p[32];
    size_t len = rdb_dump_string((const unsigned char *)"abc", 3, p, NULL);
    cr_expect_eq(rdb_verify(p, 9), RDB_BAD_FOOTER, "too short");
    p[len - 1] ^= 1;
    cr_expect_eq(rdb_verify(p, len), RDB_BAD_FOOTER, "checksum");
    p[len - 1] ^= 1;
    cr_expect_eq(rdb_verify(p, len), RDB_OK);
    unsigned char *v;
    size_t vn;
    cr_expect_eq(rdb_load_string(p, len, 2, &v, &vn), RDB_TOO_BIG, "longer than the caller's limit");
    p[0] = 0x0e; /* a list */
    cr_expect_eq(rdb_load_string(p, len, 100, &v, &vn), RDB_BAD_FORMAT);
}
