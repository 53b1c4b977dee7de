/*
 * mcbin_parse.h: memcached's binary protocol (deprecated upstream since 1.6, still served by 1.6.18):
 * the 24-byte request header, its checks in memcached's order, and the responses' header. Pure
 * functions over bytes: no cache, no session, no allocation.
 *
 * A request is a header, then bodylen bytes: extlen bytes of extras, keylen bytes of key, and the
 * value (whatever is left). Multi-byte fields are big-endian.
 *
 *   byte  0       1       2       3       4       5       6       7
 *       +-------+-------+---------------+-------+-------+---------------+
 *     0 | magic |opcode|    keylen     |extlen |dtype  | vbucket/status|
 *       +-------+-------+---------------+-------+-------+---------------+
 *     8 |           bodylen             |            opaque             |
 *       +-------------------------------+-------------------------------+
 *    16 |                              cas                              |
 *       +---------------------------------------------------------------+
 *
 * mcbin_parse() decides what to do with the request at the front of the input once its header,
 * extras and key are buffered (the value is never needed: a storage request's value is received by
 * the session, straight into the item). The checks and their order are memcached 1.6.18's:
 *   1. magic not 0x80: the connection closes without a reply;
 *   2. header, extras and key over MCBIN_HEAD_MAX bytes: memcached's read buffer cannot hold them,
 *      so it closes without a reply once that buffer is full (MCBIN_HEAD_MAX bytes are here);
 *   3. keylen or keylen + extlen over bodylen: "Unknown command", then close;
 *   4. keylen over MC_KEY_MAX (250): "Invalid arguments", then close;
 *   5. the opcode's own length rules (mcbin_parse.c's table): "Invalid arguments", then close;
 *   6. an opcode 1.6.18 does not serve (VERBOSITY included, and SASL's without SASL): "Unknown
 *      command", after which memcached skips bodylen more bytes (for SASL_AUTH/STEP, the value's
 *      bodylen - keylen); the skip starts after the extras and key already read.
 * With SASL (mcbin_parse_sasl), memcached's SASL build checks one thing more between 3 and 4: on a
 * connection not authenticated yet, every opcode but SASL_LIST_MECHS, SASL_AUTH, SASL_STEP and
 * VERSION gets "Auth failure." and the connection closes (whatever its key length or length rule);
 * and the three SASL opcodes become commands (MCBIN_CMD_SASL_*).
 *
 * Threads: none of its own; call from any thread.
 */
#ifndef CAIRN_PROTOCOL_MCBIN_PARSE_H
#define CAIRN_PROTOCOL_MCBIN_PARSE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define MCBIN_HEADER_LEN 24u
#define MCBIN_REQ_MAGIC  0x80u
#define MCBIN_RES_MAGIC  0x81u
/* memcached's read buffer: header, extras and key of one request must fit in it. */
#define MCBIN_HEAD_MAX 16384u

enum mcbin_opcode {
    MCBIN_OP_GET = 0x00,
    MCBIN_OP_SET = 0x01,
    MCBIN_OP_ADD = 0x02,
    MCBIN_OP_REPLACE = 0x03,
    MCBIN_OP_DELETE = 0x04,
    MCBIN_OP_INCREMENT = 0x05,
    MCBIN_OP_DECREMENT = 0x06,
    MCBIN_OP_QUIT = 0x07,
    MCBIN_OP_FLUSH = 0x08,
    MCBIN_OP_GETQ = 0x09,
    MCBIN_OP_NOOP = 0x0a,
    MCBIN_OP_VERSION = 0x0b,
    MCBIN_OP_GETK = 0x0c,
    MCBIN_OP_GETKQ = 0x0d,
    MCBIN_OP_APPEND = 0x0e,
    MCBIN_OP_PREPEND = 0x0f,
    MCBIN_OP_STAT = 0x10,
    MCBIN_OP_SETQ = 0x11,
    MCBIN_OP_ADDQ = 0x12,
    MCBIN_OP_REPLACEQ = 0x13,
    MCBIN_OP_DELETEQ = 0x14,
    MCBIN_OP_INCREMENTQ = 0x15,
    MCBIN_OP_DECREMENTQ = 0x16,
    MCBIN_OP_QUITQ = 0x17,
    MCBIN_OP_FLUSHQ = 0x18,
    MCBIN_OP_APPENDQ = 0x19,
    MCBIN_OP_PREPENDQ = 0x1a,
    MCBIN_OP_VERBOSITY = 0x1b,
    MCBIN_OP_TOUCH = 0x1c,
    MCBIN_OP_GAT = 0x1d,
    MCBIN_OP_GATQ = 0x1e,
    MCBIN_OP_SASL_LIST_MECHS = 0x20,
    MCBIN_OP_SASL_AUTH = 0x21,
    MCBIN_OP_SASL_STEP = 0x22,
    MCBIN_OP_GATK = 0x23,
    MCBIN_OP_GATKQ = 0x24
};

/* Response statuses memcached 1.6.18 sends. */
enum mcbin_status {
    MCBIN_ST_OK = 0x00,
    MCBIN_ST_KEY_ENOENT = 0x01,
    MCBIN_ST_KEY_EEXISTS = 0x02,
    MCBIN_ST_E2BIG = 0x03,
    MCBIN_ST_EINVAL = 0x04,
    MCBIN_ST_NOT_STORED = 0x05,
    MCBIN_ST_DELTA_BADVAL = 0x06,
    MCBIN_ST_AUTH_ERROR = 0x20,
    MCBIN_ST_AUTH_CONTINUE = 0x21,
    MCBIN_ST_UNKNOWN_COMMAND = 0x81,
    MCBIN_ST_ENOMEM = 0x82
};

/* What a request does, its quiet variant folded in (mcbin_request.quiet). */
enum mcbin_cmd {
    MCBIN_CMD_NONE = 0, /* not served: "Unknown command" (mcbin_request.swallow) */
    MCBIN_CMD_GET,
    MCBIN_CMD_GETK,
    MCBIN_CMD_GAT,
    MCBIN_CMD_GATK,
    MCBIN_CMD_TOUCH,
    MCBIN_CMD_SET,
    MCBIN_CMD_ADD,
    MCBIN_CMD_REPLACE,
    MCBIN_CMD_APPEND,
    MCBIN_CMD_PREPEND,
    MCBIN_CMD_DELETE,
    MCBIN_CMD_INCR,
    MCBIN_CMD_DECR,
    MCBIN_CMD_FLUSH,
    MCBIN_CMD_NOOP,
    MCBIN_CMD_VERSION,
    MCBIN_CMD_QUIT,
    MCBIN_CMD_STAT,
    MCBIN_CMD_SASL_LIST, /* with SASL only; mcbin_request.vlen is AUTH's and STEP's value */
    MCBIN_CMD_SASL_AUTH,
    MCBIN_CMD_SASL_STEP
};

struct mcbin_header {
    uint8_t magic, opcode, extlen, datatype;
    uint16_t keylen, vbucket;
    uint32_t bodylen, opaque;
    uint64_t cas;
};

enum mcbin_parse_status {
    MCBIN_PARSE_OK = 0,     /* a request to execute (possibly MCBIN_CMD_NONE) */
    MCBIN_PARSE_NEED_MORE,  /* header, extras or key not all here yet */
    MCBIN_PARSE_CLOSE,      /* close without a reply (checks 1 and 2) */
    MCBIN_PARSE_ERROR_CLOSE /* reply req->error (with the request's opcode and opaque), then close */
};

struct mcbin_request {
    struct mcbin_header h;
    enum mcbin_cmd cmd;
    bool quiet;              /* a Q opcode: success is not answered (a get's miss is not answered) */
    const char *key;         /* into the input; h.keylen bytes */
    size_t head_len;         /* header + extras + key: what mcbin_parse consumed */
    uint32_t vlen;           /* bodylen - extlen - keylen: a storage request's value */
    uint32_t swallow;        /* MCBIN_CMD_NONE: bytes to skip after the head */
    enum mcbin_status error; /* MCBIN_PARSE_ERROR_CLOSE */
    /* extras, decoded */
    uint32_t flags;          /* SET, ADD, REPLACE */
    uint32_t exptime;        /* SET, ADD, REPLACE, TOUCH, GAT*, INCR/DECR, FLUSH (0 without extras) */
    uint64_t delta, initial; /* INCR, DECR */
};

/* Decodes the 24 header bytes at p (host order). */
void mcbin_header_decode(const unsigned char *p, struct mcbin_header *h);

/* Writes a response header for h's opcode and opaque at p (MCBIN_HEADER_LEN bytes). */
void mcbin_response_header(unsigned char *p, uint8_t opcode, enum mcbin_status status, uint8_t extlen,
                           uint16_t keylen, uint32_t bodylen, uint32_t opaque, uint64_t cas);

/* The text memcached 1.6.18 sends as the body of an error status ("Not found", "Too large.", ...). */
const char *mcbin_status_text(enum mcbin_status st);

/*
 * Checks and decodes the request at buf[0..len) (see the file comment for the order). On
 * MCBIN_PARSE_OK and MCBIN_PARSE_ERROR_CLOSE req->h is filled and req->head_len bytes are consumed;
 * the value (or the bytes to swallow) follow them.
 */
enum mcbin_parse_status mcbin_parse(const char *buf, size_t len, struct mcbin_request *req);

/* mcbin_parse for a connection that must authenticate with SASL (memcached's SASL build): the check
 * for an unauthenticated connection (authenticated false) and the SASL commands (see the file
 * comment). */
enum mcbin_parse_status mcbin_parse_sasl(const char *buf, size_t len, bool authenticated,
                                         struct mcbin_request *req);

/* Whether a response to req is sent when the status is st (quiet requests answer only errors; a quiet
 * get's hit is answered, its miss is not). */
bool mcbin_answers(const struct mcbin_request *req, enum mcbin_status st);

#endif
