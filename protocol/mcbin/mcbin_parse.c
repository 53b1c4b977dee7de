/*
 * mcbin_parse.c: the binary protocol's request header and length rules (see mcbin_parse.h).
 *
 * Each opcode is one row of a table: what it does, whether it is quiet, and its length rule. A rule
 * is a small set of conditions on extlen, keylen and bodylen exactly as memcached 1.6.18's dispatch
 * writes them; a request that breaks its opcode's rule gets "Invalid arguments" and the connection
 * closes. Opcodes without a row are "Unknown command".
 */
#include "config.h"

#include "protocol/mcbin/mcbin_parse.h"

#include <string.h>

#include "protocol/mc/mc_parse.h"

/* The length rules of memcached's dispatch. */
enum mcbin_rule {
    RULE_EMPTY,   /* extlen, keylen and bodylen all 0 (NOOP, VERSION, QUIT, SASL_LIST_MECHS) */
    RULE_FLUSH,   /* no key, extras 0 or 4, nothing else */
    RULE_STORE,   /* extras 8, a key, bodylen >= keylen + 8 */
    RULE_KEYONLY, /* a key and nothing else (GET*, DELETE) */
    RULE_ARITH,   /* a key, extras 20, nothing else */
    RULE_CONCAT,  /* a key, no extras (APPEND, PREPEND) */
    RULE_STAT,    /* no extras */
    RULE_SASL,    /* a key, no extras (SASL_AUTH, SASL_STEP) */
    RULE_TOUCH    /* a key, extras 4 (TOUCH, GAT*) */
};

struct mcbin_op {
    bool known;
    enum mcbin_cmd cmd;
    bool quiet;
    enum mcbin_rule rule;
};

#define OP(code, c, q, r) [code] = {true, c, q, r}
static const struct mcbin_op mcbin_ops[256] = {
    OP(MCBIN_OP_GET, MCBIN_CMD_GET, false, RULE_KEYONLY),
    OP(MCBIN_OP_GETQ, MCBIN_CMD_GET, true, RULE_KEYONLY),
    OP(MCBIN_OP_GETK, MCBIN_CMD_GETK, false, RULE_KEYONLY),
    OP(MCBIN_OP_GETKQ, MCBIN_CMD_GETK, true, RULE_KEYONLY),
    OP(MCBIN_OP_SET, MCBIN_CMD_SET, false, RULE_STORE),
    OP(MCBIN_OP_SETQ, MCBIN_CMD_SET, true, RULE_STORE),
    OP(MCBIN_OP_ADD, MCBIN_CMD_ADD, false, RULE_STORE),
    OP(MCBIN_OP_ADDQ, MCBIN_CMD_ADD, true, RULE_STORE),
    OP(MCBIN_OP_REPLACE, MCBIN_CMD_REPLACE, false, RULE_STORE),
    OP(MCBIN_OP_REPLACEQ, MCBIN_CMD_REPLACE, true, RULE_STORE),
    OP(MCBIN_OP_DELETE, MCBIN_CMD_DELETE, false, RULE_KEYONLY),
    OP(MCBIN_OP_DELETEQ, MCBIN_CMD_DELETE, true, RULE_KEYONLY),
    OP(MCBIN_OP_INCREMENT, MCBIN_CMD_INCR, false, RULE_ARITH),
    OP(MCBIN_OP_INCREMENTQ, MCBIN_CMD_INCR, true, RULE_ARITH),
    OP(MCBIN_OP_DECREMENT, MCBIN_CMD_DECR, false, RULE_ARITH),
    OP(MCBIN_OP_DECREMENTQ, MCBIN_CMD_DECR, true, RULE_ARITH),
    OP(MCBIN_OP_QUIT, MCBIN_CMD_QUIT, false, RULE_EMPTY),
    OP(MCBIN_OP_QUITQ, MCBIN_CMD_QUIT, true, RULE_EMPTY),
    OP(MCBIN_OP_FLUSH, MCBIN_CMD_FLUSH, false, RULE_FLUSH),
    OP(MCBIN_OP_FLUSHQ, MCBIN_CMD_FLUSH, true, RULE_FLUSH),
    OP(MCBIN_OP_NOOP, MCBIN_CMD_NOOP, false, RULE_EMPTY),
    OP(MCBIN_OP_VERSION, MCBIN_CMD_VERSION, false, RULE_EMPTY),
    OP(MCBIN_OP_APPEND, MCBIN_CMD_APPEND, false, RULE_CONCAT),
    OP(MCBIN_OP_APPENDQ, MCBIN_CMD_APPEND, true, RULE_CONCAT),
    OP(MCBIN_OP_PREPEND, MCBIN_CMD_PREPEND, false, RULE_CONCAT),
    OP(MCBIN_OP_PREPENDQ, MCBIN_CMD_PREPEND, true, RULE_CONCAT),
    OP(MCBIN_OP_STAT, MCBIN_CMD_STAT, false, RULE_STAT),
    OP(MCBIN_OP_TOUCH, MCBIN_CMD_TOUCH, false, RULE_TOUCH),
    OP(MCBIN_OP_GAT, MCBIN_CMD_GAT, false, RULE_TOUCH),
    OP(MCBIN_OP_GATQ, MCBIN_CMD_GAT, true, RULE_TOUCH),
    OP(MCBIN_OP_GATK, MCBIN_CMD_GATK, false, RULE_TOUCH),
    OP(MCBIN_OP_GATKQ, MCBIN_CMD_GATK, true, RULE_TOUCH),
    /* without SASL, answered "Unknown command" once their lengths pass; with it, see sasl_cmd */
    OP(MCBIN_OP_SASL_LIST_MECHS, MCBIN_CMD_NONE, false, RULE_EMPTY),
    OP(MCBIN_OP_SASL_AUTH, MCBIN_CMD_NONE, false, RULE_SASL),
    OP(MCBIN_OP_SASL_STEP, MCBIN_CMD_NONE, false, RULE_SASL),
};
#undef OP

static uint16_t get16(const unsigned char *p)
{
    return (uint16_t)((unsigned)p[0] << 8 | p[1]);
}

static uint32_t get32(const unsigned char *p)
{
    return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 | (uint32_t)p[2] << 8 | p[3];
}

static uint64_t get64(const unsigned char *p)
{
    return (uint64_t)get32(p) << 32 | get32(p + 4);
}

static void put16(unsigned char *p, uint16_t v)
{
    p[0] = (unsigned char)(v >> 8);
    p[1] = (unsigned char)v;
}

static void put32(unsigned char *p, uint32_t v)
{
    put16(p, (uint16_t)(v >> 16));
    put16(p + 2, (uint16_t)v);
}

/* See mcbin_parse.h. */
void mcbin_header_decode(const unsigned char *p, struct mcbin_header *h)
{
    h->magic = p[0];
    h->opcode = p[1];
    h->keylen = get16(p + 2);
    h->extlen = p[4];
    h->datatype = p[5];
    h->vbucket = get16(p + 6);
    h->bodylen = get32(p + 8);
    h->opaque = get32(p + 12);
    h->cas = get64(p + 16);
}

/* See mcbin_parse.h. The opaque goes back as it came: it is copied, not converted. */
void mcbin_response_header(unsigned char *p, uint8_t opcode, enum mcbin_status status, uint8_t extlen,
                           uint16_t keylen, uint32_t bodylen, uint32_t opaque, uint64_t cas)
{
    p[0] = MCBIN_RES_MAGIC;
    p[1] = opcode;
    put16(p + 2, keylen);
    p[4] = extlen;
    p[5] = 0;
    put16(p + 6, (uint16_t)status);
    put32(p + 8, bodylen);
    put32(p + 12, opaque);
    put32(p + 16, (uint32_t)(cas >> 32));
    put32(p + 20, (uint32_t)cas);
}

/* See mcbin_parse.h. */
const char *mcbin_status_text(enum mcbin_status st)
{
    switch (st) {
    case MCBIN_ST_OK:
        return "";
    case MCBIN_ST_KEY_ENOENT:
        return "Not found";
    case MCBIN_ST_KEY_EEXISTS:
        return "Data exists for key.";
    case MCBIN_ST_E2BIG:
        return "Too large.";
    case MCBIN_ST_EINVAL:
        return "Invalid arguments";
    case MCBIN_ST_NOT_STORED:
        return "Not stored.";
    case MCBIN_ST_DELTA_BADVAL:
        return "Non-numeric server-side value for incr or decr";
    case MCBIN_ST_AUTH_ERROR:
        return "Auth failure.";
    case MCBIN_ST_AUTH_CONTINUE:
        return "";
    case MCBIN_ST_UNKNOWN_COMMAND:
        return "Unknown command";
    case MCBIN_ST_ENOMEM:
        return "Out of memory";
    }
    return "";
}

/* Whether the lengths obey the rule (memcached's conditions, word for word). */
static bool rule_ok(enum mcbin_rule rule, const struct mcbin_header *h)
{
    uint32_t ext = h->extlen, key = h->keylen, body = h->bodylen;

    switch (rule) {
    case RULE_EMPTY:
        return ext == 0 && key == 0 && body == 0;
    case RULE_FLUSH:
        return key == 0 && body == ext && (ext == 0 || ext == 4);
    case RULE_STORE:
        return ext == 8 && key != 0 && body >= key + 8;
    case RULE_KEYONLY:
        return key > 0 && ext == 0 && body == key;
    case RULE_ARITH:
        return key > 0 && ext == 20 && body == key + ext;
    case RULE_CONCAT:
    case RULE_SASL:
        return key > 0 && ext == 0;
    case RULE_STAT:
        return ext == 0;
    case RULE_TOUCH:
        return ext == 4 && key != 0;
    }
    return false;
}

/* Reads the extras the request's command uses. */
static void decode_extras(struct mcbin_request *req, const unsigned char *ext)
{
    switch (req->cmd) {
    case MCBIN_CMD_SET:
    case MCBIN_CMD_ADD:
    case MCBIN_CMD_REPLACE:
        req->flags = get32(ext);
        req->exptime = get32(ext + 4);
        break;
    case MCBIN_CMD_INCR:
    case MCBIN_CMD_DECR:
        req->delta = get64(ext);
        req->initial = get64(ext + 8);
        req->exptime = get32(ext + 16);
        break;
    case MCBIN_CMD_TOUCH:
    case MCBIN_CMD_GAT:
    case MCBIN_CMD_GATK:
        req->exptime = get32(ext);
        break;
    case MCBIN_CMD_FLUSH:
        req->exptime = req->h.extlen == 4 ? get32(ext) : 0;
        break;
    default:
        break;
    }
}

/* The opcodes memcached's SASL build runs before authentication. */
static bool allowed_unauthenticated(uint8_t opcode)
{
    return opcode == MCBIN_OP_SASL_LIST_MECHS || opcode == MCBIN_OP_SASL_AUTH ||
           opcode == MCBIN_OP_SASL_STEP || opcode == MCBIN_OP_VERSION;
}

/* What a SASL opcode does when SASL is on (MCBIN_CMD_NONE for the others). */
static enum mcbin_cmd sasl_cmd(uint8_t opcode)
{
    switch (opcode) {
    case MCBIN_OP_SASL_LIST_MECHS:
        return MCBIN_CMD_SASL_LIST;
    case MCBIN_OP_SASL_AUTH:
        return MCBIN_CMD_SASL_AUTH;
    case MCBIN_OP_SASL_STEP:
        return MCBIN_CMD_SASL_STEP;
    default:
        return MCBIN_CMD_NONE;
    }
}

/* mcbin_parse with or without SASL (see mcbin_parse.h). */
static enum mcbin_parse_status parse(const char *buf, size_t len, bool sasl, bool authenticated,
                                     struct mcbin_request *req)
{
    const unsigned char *p = (const unsigned char *)buf;
    struct mcbin_header *h = &req->h;

    memset(req, 0, sizeof(*req));
    if (len < MCBIN_HEADER_LEN)
        return MCBIN_PARSE_NEED_MORE;
    mcbin_header_decode(p, h);
    if (h->magic != MCBIN_REQ_MAGIC)
        return MCBIN_PARSE_CLOSE;
    size_t head = MCBIN_HEADER_LEN + (size_t)h->extlen + h->keylen;
    if (head > MCBIN_HEAD_MAX)
        return len >= MCBIN_HEAD_MAX ? MCBIN_PARSE_CLOSE : MCBIN_PARSE_NEED_MORE;
    if (len < head)
        return MCBIN_PARSE_NEED_MORE;
    req->head_len = head;
    req->key = buf + MCBIN_HEADER_LEN + h->extlen;
    if (h->keylen > h->bodylen || (uint64_t)h->keylen + h->extlen > h->bodylen) {
        req->error = MCBIN_ST_UNKNOWN_COMMAND;
        return MCBIN_PARSE_ERROR_CLOSE;
    }
    req->vlen = h->bodylen - h->keylen - h->extlen;
    if (sasl && !authenticated && !allowed_unauthenticated(h->opcode)) {
        req->error = MCBIN_ST_AUTH_ERROR;
        return MCBIN_PARSE_ERROR_CLOSE;
    }
    if (h->keylen > MC_KEY_MAX) {
        req->error = MCBIN_ST_EINVAL;
        return MCBIN_PARSE_ERROR_CLOSE;
    }
    const struct mcbin_op *op = &mcbin_ops[h->opcode];
    if (!op->known) {
        req->swallow = h->bodylen;
        return MCBIN_PARSE_OK;
    }
    if (!rule_ok(op->rule, h)) {
        req->error = MCBIN_ST_EINVAL;
        return MCBIN_PARSE_ERROR_CLOSE;
    }
    req->cmd = sasl && sasl_cmd(h->opcode) != MCBIN_CMD_NONE ? sasl_cmd(h->opcode) : op->cmd;
    req->quiet = op->quiet;
    if (req->cmd == MCBIN_CMD_NONE) {
        req->swallow = h->bodylen - h->keylen; /* SASL without SASL: its value */
        return MCBIN_PARSE_OK;
    }
    decode_extras(req, p + MCBIN_HEADER_LEN);
    return MCBIN_PARSE_OK;
}

/* See mcbin_parse.h. */
enum mcbin_parse_status mcbin_parse(const char *buf, size_t len, struct mcbin_request *req)
{
    return parse(buf, len, false, true, req);
}

/* See mcbin_parse.h. */
enum mcbin_parse_status mcbin_parse_sasl(const char *buf, size_t len, bool authenticated,
                                         struct mcbin_request *req)
{
    return parse(buf, len, true, authenticated, req);
}

/* See mcbin_parse.h. */
bool mcbin_answers(const struct mcbin_request *req, enum mcbin_status st)
{
    if (!req->quiet)
        return true;
    switch (req->cmd) {
    case MCBIN_CMD_GET:
    case MCBIN_CMD_GETK:
    case MCBIN_CMD_GAT:
    case MCBIN_CMD_GATK:
        return st != MCBIN_ST_KEY_ENOENT;
    default:
        return st != MCBIN_ST_OK;
    }
}
