/*
 * fuzz_rdb.c: libFuzzer target for RESTORE's payload reading and DUMP's writing
 * (protocol/resp/resp_rdb.h), the part of the server that decodes bytes a client made up.
 *
 * The input is read three ways:
 *   - as a DUMP payload: its string is decoded (rdb_load_string, without the checksum check, which a
 *     fuzzer could not get past: RESTORE runs the same reader after it) under a limit from the first
 *     byte; a decoded value must be no longer than the limit;
 *   - as LZF data: decompressed (rdb_lzf_decompress) into an output of a length from the first two
 *     bytes; it must never write past that length;
 *   - as a value: DUMP's payload for it (rdb_dump_string) must pass rdb_verify, decode to the same
 *     bytes, and, for a compressed payload, be shorter than the plain one; and LZF of it decompresses
 *     back to it.
 * Everything must run without a crash, leak or undefined behaviour (ASan, UBSan).
 */
#include "config.h"

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "protocol/resp/resp_rdb.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define FUZZ_CHECK(cond)                                                                                     \
    do {                                                                                                     \
        if (!(cond)) {                                                                                       \
            fprintf(stderr, "fuzz_rdb: check failed at line %d: %s\n", __LINE__, #cond);                     \
            abort();                                                                                         \
        }                                                                                                    \
    } while (0)

static void as_payload(const uint8_t *data, size_t size)
{
    size_t max = size > 0 ? (size_t)data[0] * 64 : 0;
    unsigned char *v = NULL;
    size_t vn = 0;
    if (rdb_load_string(data, size, max, &v, &vn) == RDB_OK) {
        FUZZ_CHECK(v != NULL && vn <= max + 11); /* an integer's text is not bound by max */
        free(v);
    } else {
        FUZZ_CHECK(v == NULL);
    }
    (void)rdb_verify(data, size);
}

static void as_lzf(const uint8_t *data, size_t size)
{
    if (size < 2)
        return;
    size_t outlen = ((size_t)data[0] << 8) | data[1];
    unsigned char *out = malloc(outlen + 1);
    FUZZ_CHECK(out != NULL);
    (void)rdb_lzf_decompress(data + 2, size - 2, out, outlen); /* ASan sees a write past outlen */
    free(out);
}

static void as_value(const uint8_t *data, size_t size)
{
    unsigned char *p = malloc(rdb_dump_bound(size)), *scratch = malloc(size + 1),
                  *plain = malloc(rdb_dump_bound(size));
    FUZZ_CHECK(p != NULL && scratch != NULL && plain != NULL);
    size_t n = rdb_dump_string(data, size, p, scratch);
    size_t pn = rdb_dump_string(data, size, plain, NULL);
    FUZZ_CHECK(n <= pn && rdb_verify(p, n) == RDB_OK && rdb_verify(plain, pn) == RDB_OK);
    unsigned char *v = NULL;
    size_t vn = 0;
    FUZZ_CHECK(rdb_load_string(p, n, size, &v, &vn) == RDB_OK);
    FUZZ_CHECK(vn == size && (size == 0 || memcmp(v, data, size) == 0));
    free(v);
    size_t cn = rdb_lzf_compress(data, size, scratch, size);
    if (cn > 0) {
        unsigned char *back = malloc(size);
        FUZZ_CHECK(back != NULL && rdb_lzf_decompress(scratch, cn, back, size) &&
                   memcmp(back, data, size) == 0);
        free(back);
    }
    free(p);
    free(scratch);
    free(plain);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    as_payload(data, size);
    as_lzf(data, size);
    as_value(data, size);
    return 0;
}
