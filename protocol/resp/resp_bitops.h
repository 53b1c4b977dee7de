/*
 * resp_bitops.h: Redis's bitmap arithmetic on plain byte arrays, without sessions or storage, for
 * SETBIT, GETBIT, BITCOUNT, BITPOS, BITOP and BITFIELD (protocol/resp/resp_bits.c).
 *
 * Bit numbering is Redis's: bit 0 is the most significant bit of byte 0, bit 8 the most significant
 * bit of byte 1. A bitfield of `bits` bits at `offset` is read most significant bit first, so
 * `u8` at offset 0 is byte 0 itself.
 */
#ifndef CAIRN_PROTOCOL_RESP_BITOPS_H
#define CAIRN_PROTOCOL_RESP_BITOPS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* Bit `bit` of p[0..n), 0 past the end. */
int bits_get(const unsigned char *p, size_t n, uint64_t bit);

/* Sets bit `bit` of p (which must hold it) to on (0 or 1). */
void bits_set(unsigned char *p, uint64_t bit, int on);

/* The number of set bits among bits first..last (inclusive) of p, which must hold them. */
uint64_t bits_count(const unsigned char *p, uint64_t first, uint64_t last);

/* The position of the first bit equal to `bit` among bits first..last (inclusive) of p, which must
 * hold them, or -1 when there is none. */
int64_t bits_find(const unsigned char *p, uint64_t first, uint64_t last, int bit);

/* The `bits`-bit field (1..64) at bit offset `offset` of p[0..n), as an unsigned number; bits past
 * the end read as 0. */
uint64_t bits_field_get(const unsigned char *p, size_t n, uint64_t offset, unsigned bits);

/* The same field read as a two's complement signed number. */
int64_t bits_field_get_signed(const unsigned char *p, size_t n, uint64_t offset, unsigned bits);

/* Writes the low `bits` bits of v into the field at `offset` of p, which must hold it. */
void bits_field_set(unsigned char *p, uint64_t offset, unsigned bits, uint64_t v);

/* BITFIELD's overflow behaviours. */
enum bits_overflow { BITS_WRAP = 0, BITS_SAT, BITS_FAIL };

/* The value a field of `bits` bits (signed: 1..64, unsigned: 1..63) gets when value + incr is stored
 * in it. value is the field's current value (SET passes the value to store and incr 0); for an
 * unsigned field it is read as uint64_t. Returns 0 when the sum fits (*result = the sum), 1 when it
 * overflows upward, -1 downward; *result is then the wrapped sum (BITS_WRAP), the limit it passed
 * (BITS_SAT), or unchanged (BITS_FAIL, nothing is to be written). */
int bits_field_add(bool is_signed, unsigned bits, uint64_t value, int64_t incr, enum bits_overflow ow,
                   uint64_t *result);

/* BITOP's operations. */
enum bits_op { BITS_AND = 0, BITS_OR, BITS_XOR, BITS_NOT };

/* dst[0..len) = op over the n sources (src[i] of srclen[i] bytes; NULL with length 0 for a missing
 * key), each read as zero past its end. BITS_NOT takes one source. */
void bits_op(enum bits_op op, unsigned char *dst, size_t len, const unsigned char *const *src,
             const size_t *srclen, size_t n);

#endif
