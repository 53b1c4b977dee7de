/*
 * resp_rdb.c: DUMP's serialized form of a string value (see resp_rdb.h).
 *
 * Encodings chosen as Redis 7.0's rdbSaveRawString chooses them, so that DUMP's bytes are Redis's: a
 * value of at most 11 bytes that is the canonical decimal form of a 32-bit integer is stored as that
 * integer (1, 2 or 4 bytes); a value longer than 20 bytes is LZF-compressed when that saves at least 4
 * bytes (Redis's rdbcompression, on by default); anything else is stored as it is, after its length.
 *
 * LZF: the format and the greedy compressor of liblzf as Redis builds it (a 2^16-slot hash of the next
 * three bytes, the "very fast" variant that rehashes two positions after a match, literal runs of up to
 * 32 bytes, back references up to 8 KiB behind and 264 bytes long). The table starts empty here, where
 * Redis's is left uninitialised on its stack; the compressor checks every candidate it finds in the
 * table, so that changes nothing but where stale slots happen to point.
 */
#include "config.h"

#include "protocol/resp/resp_rdb.h"

#include <pthread.h>
#include <stdlib.h>
#include <string.h>

#include "protocol/resp/resp_util.h"

/* ---- CRC-64 (Jones, reflected: Redis's crc64) ---- */

#define CRC64_POLY_REFLECTED 0x95ac9329ac4bc9b5ULL

static uint64_t crc64_table[256];
static pthread_once_t crc64_once = PTHREAD_ONCE_INIT;

static void crc64_init(void)
{
    for (unsigned i = 0; i < 256; i++) {
        uint64_t c = i;
        for (int k = 0; k < 8; k++)
            c = (c & 1) ? (c >> 1) ^ CRC64_POLY_REFLECTED : c >> 1;
        crc64_table[i] = c;
    }
}

uint64_t rdb_crc64(uint64_t crc, const unsigned char *p, size_t n)
{
    pthread_once(&crc64_once, crc64_init); /* workers may DUMP at once: one of them builds the table */
    for (size_t i = 0; i < n; i++)
        crc = crc64_table[(crc ^ p[i]) & 0xff] ^ (crc >> 8);
    return crc;
}

/* ---- LZF ---- */

#define LZF_HLOG    16
#define LZF_HSIZE   (1u << LZF_HLOG)
#define LZF_MAX_LIT (1u << 5)
#define LZF_MAX_OFF (1u << 13)
#define LZF_MAX_REF ((1u << 8) + (1u << 3))

static inline unsigned lzf_first(const unsigned char *p)
{
    return ((unsigned)p[0] << 8) | p[1];
}

static inline unsigned lzf_next(unsigned v, const unsigned char *p)
{
    return (v << 8) | p[2];
}

static inline unsigned lzf_idx(unsigned h)
{
    return ((h >> (3 * 8 - LZF_HLOG)) - h * 5) & (LZF_HSIZE - 1);
}

/* The length of the match at ip against ref (at least the 3 bytes already compared), as liblzf
 * extends it: 16 bytes unchecked against maxlen when maxlen > 16, then byte by byte up to maxlen. */
static size_t lzf_match_len(const unsigned char *ip, const unsigned char *ref, size_t maxlen)
{
    size_t len = 2;
    if (maxlen > 16) {
        for (int k = 0; k < 16; k++) {
            len++;
            if (ref[len] != ip[len])
                return len;
        }
    }
    do
        len++;
    while (len < maxlen && ref[len] == ip[len]);
    return len;
}

size_t rdb_lzf_compress(const unsigned char *in, size_t n, unsigned char *out, size_t cap)
{
    const unsigned char **htab;
    const unsigned char *ip = in, *in_end = in + n;
    unsigned char *op = out, *out_end = out + cap;
    size_t lit = 0;
    unsigned hval;

    if (n < 3 || cap == 0) /* liblzf needs two bytes to start its hash; shorter is never worth it */
        return 0;
    htab = calloc(LZF_HSIZE, sizeof(*htab));
    if (htab == NULL)
        return 0;
    op++; /* start a literal run */
    hval = lzf_first(ip);
    while (ip < in_end - 2) {
        hval = lzf_next(hval, ip);
        const unsigned char **slot = &htab[lzf_idx(hval)];
        const unsigned char *ref = *slot;
        *slot = ip;
        size_t off;
        if (ref != NULL && ref > in && ref < ip && (off = (size_t)(ip - ref - 1)) < LZF_MAX_OFF &&
            ref[2] == ip[2] && ref[0] == ip[0] && ref[1] == ip[1]) {
            size_t maxlen = (size_t)(in_end - ip) - 2;
            if (maxlen > LZF_MAX_REF)
                maxlen = LZF_MAX_REF;
            if (op - (lit == 0) + 3 + 1 >= out_end)
                goto too_big;
            op[-(ptrdiff_t)lit - 1] = (unsigned char)(lit - 1); /* end the run */
            op -= lit == 0;                                     /* or drop an empty one */
            size_t len = lzf_match_len(ip, ref, maxlen) - 2;    /* bytes - 2 */
            ip++;
            if (len < 7) {
                *op++ = (unsigned char)((off >> 8) + (len << 5));
            } else {
                *op++ = (unsigned char)((off >> 8) + (7u << 5));
                *op++ = (unsigned char)(len - 7);
            }
            *op++ = (unsigned char)off;
            lit = 0;
            op++; /* start a run */
            ip += len + 1;
            if (ip >= in_end - 2)
                break;
            ip -= 2; /* hash the last two positions of the match */
            hval = lzf_first(ip);
            hval = lzf_next(hval, ip);
            htab[lzf_idx(hval)] = ip;
            ip++;
            hval = lzf_next(hval, ip);
            htab[lzf_idx(hval)] = ip;
            ip++;
        } else {
            if (op >= out_end)
                goto too_big;
            lit++;
            *op++ = *ip++;
            if (lit == LZF_MAX_LIT) {
                op[-(ptrdiff_t)lit - 1] = (unsigned char)(lit - 1);
                lit = 0;
                op++;
            }
        }
    }
    if (op + 3 > out_end)
        goto too_big;
    while (ip < in_end) {
        lit++;
        *op++ = *ip++;
        if (lit == LZF_MAX_LIT) {
            op[-(ptrdiff_t)lit - 1] = (unsigned char)(lit - 1);
            lit = 0;
            op++;
        }
    }
    op[-(ptrdiff_t)lit - 1] = (unsigned char)(lit - 1);
    op -= lit == 0;
    free(htab);
    return (size_t)(op - out);
too_big:
    free(htab);
    return 0;
}

bool rdb_lzf_decompress(const unsigned char *in, size_t n, unsigned char *out, size_t outlen)
{
    const unsigned char *ip = in, *in_end = in + n;
    size_t o = 0;
    if (n == 0)
        return outlen == 0;
    while (ip < in_end) {
        unsigned ctrl = *ip++;
        if (ctrl < (1u << 5)) { /* a literal run of ctrl + 1 bytes */
            size_t run = ctrl + 1u;
            if (run > outlen - o || run > (size_t)(in_end - ip))
                return false;
            memcpy(out + o, ip, run);
            o += run;
            ip += run;
            continue;
        }
        size_t len = ctrl >> 5, back = ((size_t)(ctrl & 0x1f) << 8) + 1;
        if (ip >= in_end)
            return false;
        if (len == 7) {
            len += *ip++;
            if (ip >= in_end)
                return false;
        }
        back += *ip++;
        len += 2;
        if (back > o || len > outlen - o)
            return false;
        for (size_t k = 0; k < len; k++, o++) /* may overlap: byte by byte */
            out[o] = out[o - back];
    }
    return o == outlen;
}

/* ---- lengths and integers ---- */

#define RDB_ENC_INT8  0
#define RDB_ENC_INT16 1
#define RDB_ENC_INT32 2
#define RDB_ENC_LZF   3

/* Redis's rdbSaveLen; returns the bytes written. */
static size_t put_len(unsigned char *p, uint64_t len)
{
    if (len < (1u << 6)) {
        p[0] = (unsigned char)len;
        return 1;
    }
    if (len < (1u << 14)) {
        p[0] = (unsigned char)(0x40 | (len >> 8));
        p[1] = (unsigned char)len;
        return 2;
    }
    if (len <= UINT32_MAX) {
        p[0] = 0x80;
        for (int i = 0; i < 4; i++)
            p[1 + i] = (unsigned char)(len >> (8 * (3 - i)));
        return 5;
    }
    p[0] = 0x81;
    for (int i = 0; i < 8; i++)
        p[1 + i] = (unsigned char)(len >> (8 * (7 - i)));
    return 9;
}

/* The integer encoding of v[0..n) when it is the canonical form of a 32-bit integer; 0 if not. */
static size_t put_int(unsigned char *p, const unsigned char *v, size_t n)
{
    long long x;
    char canon[24];
    if (n > 11 || !resp_str2ll((const char *)v, n, &x))
        return 0;
    if (resp_ll2str(canon, sizeof(canon), x) != n || memcmp(canon, v, n) != 0)
        return 0;
    if (x >= -(1LL << 7) && x < (1LL << 7)) {
        p[0] = 0xC0 | RDB_ENC_INT8;
        p[1] = (unsigned char)(x & 0xff);
        return 2;
    }
    if (x >= -(1LL << 15) && x < (1LL << 15)) {
        p[0] = 0xC0 | RDB_ENC_INT16;
        p[1] = (unsigned char)(x & 0xff);
        p[2] = (unsigned char)((x >> 8) & 0xff);
        return 3;
    }
    if (x >= -(1LL << 31) && x < (1LL << 31)) {
        p[0] = 0xC0 | RDB_ENC_INT32;
        for (int i = 0; i < 4; i++)
            p[1 + i] = (unsigned char)((x >> (8 * i)) & 0xff);
        return 5;
    }
    return 0;
}

size_t rdb_dump_bound(size_t n)
{
    return 1 + 9 + n + RDB_FOOTER;
}

size_t rdb_dump_string(const unsigned char *v, size_t n, unsigned char *out, unsigned char *scratch)
{
    size_t o = 0, k, c = 0;
    out[o++] = RDB_TYPE_STRING;
    if ((k = put_int(out + o, v, n)) > 0) {
        o += k;
    } else if (n > 20 && scratch != NULL && (c = rdb_lzf_compress(v, n, scratch, n - 4)) > 0) {
        out[o++] = 0xC0 | RDB_ENC_LZF;
        o += put_len(out + o, c);
        o += put_len(out + o, n);
        memcpy(out + o, scratch, c);
        o += c;
    } else {
        o += put_len(out + o, n);
        if (n > 0)
            memcpy(out + o, v, n);
        o += n;
    }
    out[o++] = RDB_VERSION & 0xff;
    out[o++] = (RDB_VERSION >> 8) & 0xff;
    uint64_t crc = rdb_crc64(0, out, o);
    for (int i = 0; i < 8; i++)
        out[o++] = (unsigned char)(crc >> (8 * i));
    return o;
}

/* ---- reading ---- */

enum rdb_status rdb_verify(const unsigned char *p, size_t n)
{
    if (n < RDB_FOOTER)
        return RDB_BAD_FOOTER;
    const unsigned char *f = p + n - RDB_FOOTER;
    unsigned version = (unsigned)f[0] | ((unsigned)f[1] << 8);
    if (version > RDB_VERSION)
        return RDB_BAD_FOOTER;
    uint64_t crc = rdb_crc64(0, p, n - 8), want = 0;
    for (int i = 0; i < 8; i++)
        want |= (uint64_t)f[2 + i] << (8 * i);
    return crc == want ? RDB_OK : RDB_BAD_FOOTER;
}

/* A reader over the whole payload (footer included, as Redis's rio reads it). */
struct rd {
    const unsigned char *p;
    size_t n, at;
};

static bool rd_bytes(struct rd *r, size_t k, const unsigned char **out)
{
    if (k > r->n - r->at)
        return false;
    *out = r->p + r->at;
    r->at += k;
    return true;
}

/* Redis's rdbLoadLen: a length, or (*encoded) an encoding number. */
static bool rd_len(struct rd *r, uint64_t *len, bool *encoded)
{
    const unsigned char *b;
    *encoded = false;
    if (!rd_bytes(r, 1, &b))
        return false;
    unsigned type = (b[0] & 0xC0) >> 6;
    if (type == 3) {
        *encoded = true;
        *len = b[0] & 0x3F;
        return true;
    }
    if (type == 0) {
        *len = b[0] & 0x3F;
        return true;
    }
    if (type == 1) {
        const unsigned char *c;
        if (!rd_bytes(r, 1, &c))
            return false;
        *len = ((uint64_t)(b[0] & 0x3F) << 8) | c[0];
        return true;
    }
    size_t k = b[0] == 0x80 ? 4 : b[0] == 0x81 ? 8 : 0;
    const unsigned char *c;
    if (k == 0 || !rd_bytes(r, k, &c))
        return false;
    *len = 0;
    for (size_t i = 0; i < k; i++)
        *len = (*len << 8) | c[i];
    return true;
}

/* A copy of p[0..n) as a new value. */
static enum rdb_status give(const unsigned char *p, size_t n, unsigned char **v, size_t *vn)
{
    *v = malloc(n > 0 ? n : 1);
    if (*v == NULL)
        return RDB_NO_MEMORY;
    if (n > 0)
        memcpy(*v, p, n);
    *vn = n;
    return RDB_OK;
}

static enum rdb_status load_int(struct rd *r, unsigned enc, unsigned char **v, size_t *vn)
{
    const unsigned char *b;
    size_t k = enc == RDB_ENC_INT8 ? 1 : enc == RDB_ENC_INT16 ? 2 : 4;
    if (!rd_bytes(r, k, &b))
        return RDB_BAD_FORMAT;
    uint32_t u = 0;
    for (size_t i = 0; i < k; i++)
        u |= (uint32_t)b[i] << (8 * i);
    long long x = k == 1 ? (int8_t)u : k == 2 ? (int16_t)u : (int32_t)u;
    char text[24];
    size_t len = resp_ll2str(text, sizeof(text), x);
    return give((const unsigned char *)text, len, v, vn);
}

static enum rdb_status load_lzf(struct rd *r, size_t max, unsigned char **v, size_t *vn)
{
    uint64_t clen, len;
    bool enc;
    const unsigned char *c;
    if (!rd_len(r, &clen, &enc) || enc || !rd_len(r, &len, &enc) || enc || !rd_bytes(r, clen, &c))
        return RDB_BAD_FORMAT;
    if (len > max)
        return RDB_TOO_BIG;
    *v = malloc(len > 0 ? len : 1);
    if (*v == NULL)
        return RDB_NO_MEMORY;
    if (!rdb_lzf_decompress(c, clen, *v, len)) {
        free(*v);
        *v = NULL;
        return RDB_BAD_FORMAT;
    }
    *vn = len;
    return RDB_OK;
}

enum rdb_status rdb_load_string(const unsigned char *p, size_t n, size_t max, unsigned char **v, size_t *vn)
{
    struct rd r = {p, n, 0};
    const unsigned char *b;
    uint64_t len;
    bool enc;
    *v = NULL;
    *vn = 0;
    if (!rd_bytes(&r, 1, &b) || b[0] != RDB_TYPE_STRING || !rd_len(&r, &len, &enc))
        return RDB_BAD_FORMAT;
    if (enc) {
        if (len <= RDB_ENC_INT32)
            return load_int(&r, (unsigned)len, v, vn);
        if (len == RDB_ENC_LZF)
            return load_lzf(&r, max, v, vn);
        return RDB_BAD_FORMAT;
    }
    if (len > max)
        return RDB_TOO_BIG;
    if (!rd_bytes(&r, len, &b))
        return RDB_BAD_FORMAT;
    return give(b, len, v, vn);
}
