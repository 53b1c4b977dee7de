/*
 * resp_rdb.h: the serialized form of a string value that Redis's DUMP produces and RESTORE reads
 * (protocol/resp/resp_rdb.c), without sessions or storage: the RDB string encodings (plain, small
 * integers, LZF-compressed), the 2-byte RDB version and the CRC-64 footer.
 *
 * A payload is: type 0 (string), the encoded string, the RDB version (10, Redis 7.0's, little
 * endian), then the CRC-64 (Jones polynomial, reflected, as Redis's crc64) of everything before it,
 * little endian.
 */
#ifndef CAIRN_PROTOCOL_RESP_RDB_H
#define CAIRN_PROTOCOL_RESP_RDB_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define RDB_VERSION     10
#define RDB_FOOTER      10 /* version (2) + CRC-64 (8) */
#define RDB_TYPE_STRING 0

/* Redis's crc64 of p[0..n), continuing from crc (0 to start). */
uint64_t rdb_crc64(uint64_t crc, const unsigned char *p, size_t n);

/* LZF-compresses in[0..n) into out[0..cap) as Redis's lzf_compress does; returns the compressed
 * length, or 0 when it does not fit cap. */
size_t rdb_lzf_compress(const unsigned char *in, size_t n, unsigned char *out, size_t cap);

/* Decompresses in[0..n) into exactly out[0..outlen); false when the data is malformed or does not
 * produce exactly outlen bytes. */
bool rdb_lzf_decompress(const unsigned char *in, size_t n, unsigned char *out, size_t outlen);

/* The most bytes rdb_dump_string can write for a value of n bytes. */
size_t rdb_dump_bound(size_t n);

/* Writes the DUMP payload of string value v[0..n) into out (rdb_dump_bound(n) bytes); returns its
 * length. scratch: at least n bytes for the compression attempt, or NULL to store it uncompressed. */
size_t rdb_dump_string(const unsigned char *v, size_t n, unsigned char *out, unsigned char *scratch);

/* Payload checks and decoding, as RESTORE reads a payload. */
enum rdb_status {
    RDB_OK = 0,
    RDB_BAD_FOOTER, /* shorter than the footer, a newer RDB version, or a wrong checksum */
    RDB_BAD_FORMAT, /* not a string, or a malformed one */
    RDB_TOO_BIG,    /* a string longer than the caller's limit */
    RDB_NO_MEMORY,  /* the decoded value could not be allocated */
};

/* Checks p[0..n)'s version and checksum (Redis's verifyDumpPayload). */
enum rdb_status rdb_verify(const unsigned char *p, size_t n);

/* Decodes the string value of a verified payload: *v (malloc'd, caller frees; never NULL on RDB_OK)
 * and its length *vn. max: the longest value accepted (longer is RDB_TOO_BIG, found before anything
 * is allocated). */
enum rdb_status rdb_load_string(const unsigned char *p, size_t n, size_t max, unsigned char **v, size_t *vn);

#endif
