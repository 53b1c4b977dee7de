/*
 * mc_parse.c: splitting and validating one classic text protocol request line (see mc_parse.h).
 *
 * The rules follow what memcached 1.6.18 does on the wire (measured against the real server, see
 * doc/protocol.md):
 * - The line is cut at its first NUL byte (memcached works on a C string).
 * - Tokens are separated by ' ' only; runs of spaces and leading/trailing spaces produce no empty
 *   tokens; a tab belongs to the token.
 * - Each command accepts a fixed range of token counts; outside it the answer is "ERROR" even for a
 *   known command. An unknown command whose last token starts with "HTTP/" closes the connection.
 * - "noreply" is recognised only as the last token of the commands that take it, and then silences
 *   every reply of that command, errors included.
 * - Numbers use strtoull/strtol semantics plus memcached's checks: leading white space and a sign
 *   are accepted, trailing white space inside the token is accepted, values are truncated to the
 *   field width (flags 4294967297 is 1, an exptime beyond 32 bits wraps).
 *
 * No state, no allocation, no locking: callable from any thread.
 */
#include "config.h"

#include "protocol/mc/mc_parse.h"

#include <limits.h>
#include <string.h>

#include "storage/item.h"

static inline bool mc_isspace(char c)
{
    return c == ' ' || c == '\t' || c == '\n' || c == '\v' || c == '\f' || c == '\r';
}

/*
 * The common part of strtoull/strtol on a token: white space, sign, decimal digits, then the token's
 * end or a white-space character. *mag gets the magnitude (saturated, with *overflow set when it does
 * not fit in 64 bits), *neg whether a '-' sign was seen. Returns false on a syntax error.
 */
static bool mc_scan_number(struct mc_token t, uint64_t *mag, bool *neg, bool *overflow)
{
    const char *p = t.p, *end = t.p + t.len;
    *mag = 0;
    *neg = false;
    *overflow = false;
    while (p < end && mc_isspace(*p))
        p++;
    if (p < end && (*p == '+' || *p == '-')) {
        *neg = (*p == '-');
        p++;
    }
    const char *digits = p;
    uint64_t v = 0;
    for (; p < end && *p >= '0' && *p <= '9'; p++) {
        uint64_t d = (uint64_t)(*p - '0');
        if (v > (UINT64_MAX - d) / 10)
            *overflow = true;
        else
            v = v * 10 + d;
    }
    *mag = v;
    if (p == digits) {
        /* No conversion: strtoul leaves its end pointer at the token start, which memcached still
         * accepts (as 0) when that character is white space. */
        *neg = false;
        return t.len > 0 && mc_isspace(t.p[0]);
    }
    return p == end || mc_isspace(*p);
}

/* strtoull plus memcached's check that rejects a '-' sign giving a value with the top bit set. */
bool mc_parse_u64(struct mc_token t, uint64_t *out)
{
    uint64_t mag;
    bool neg, overflow;
    if (!mc_scan_number(t, &mag, &neg, &overflow) || overflow)
        return false;
    uint64_t v = neg ? (uint64_t)0 - mag : mag;
    if (neg && (int64_t)v < 0)
        return false;
    *out = v;
    return true;
}

/* mc_parse_u64 stored into 32 bits, as memcached stores flags. */
bool mc_parse_u32(struct mc_token t, uint32_t *out)
{
    uint64_t v;
    if (!mc_parse_u64(t, &v))
        return false;
    *out = (uint32_t)v;
    return true;
}

/* 64-bit strtol (overflow fails) stored into 32 bits, as memcached stores exptime and length. */
bool mc_parse_i32(struct mc_token t, int32_t *out)
{
    uint64_t mag;
    bool neg, overflow;
    if (!mc_scan_number(t, &mag, &neg, &overflow) || overflow)
        return false;
    if (neg ? mag > (uint64_t)INT64_MAX + 1 : mag > (uint64_t)INT64_MAX)
        return false;
    uint64_t v = neg ? (uint64_t)0 - mag : mag;
    *out = (int32_t)(uint32_t)v;
    return true;
}

/* At most 100 spaces, then "get " or "gets ". */
bool mc_parse_is_get_prefix(const char *buf, size_t len)
{
    size_t i = 0;
    while (i < len && buf[i] == ' ')
        i++;
    if (i > 100)
        return false;
    buf += i;
    len -= i;
    return (len >= 4 && memcmp(buf, "get ", 4) == 0) || (len >= 5 && memcmp(buf, "gets ", 5) == 0);
}

/* ---- per-command validation; n is the number of tokens, tokens[0] the command ---- */

static enum mc_parse_status mc_client_error(struct mc_request *req, const char *msg)
{
    req->error = msg;
    return MC_PARSE_CLIENT_ERROR;
}

static inline void mc_set_noreply(struct mc_request *req, struct mc_token last)
{
    req->noreply = mc_tok_is(last, "noreply", 7);
}

/* Checks every key of a get-style line (at most 250 bytes each). */
static enum mc_parse_status mc_parse_keys(struct mc_request *req, const char *from, const char *end)
{
    const char *pos = from;
    struct mc_token k;
    req->keys = from;
    req->keys_end = end;
    while (mc_parse_next_token(&pos, end, &k)) {
        if (k.len > MC_KEY_MAX)
            return mc_client_error(req, MC_ERR_BAD_FORMAT);
    }
    return MC_PARSE_OK;
}

static enum mc_parse_status mc_parse_get(struct mc_request *req, size_t n, const char *end)
{
    if (n < 2)
        return MC_PARSE_ERROR;
    bool touch = req->cmd == MC_CMD_GAT || req->cmd == MC_CMD_GATS;
    if (touch && !mc_parse_i32(req->tokens[1], &req->exptime))
        return mc_client_error(req, MC_ERR_EXPTIME);
    const struct mc_token *after = &req->tokens[touch ? 1 : 0];
    return mc_parse_keys(req, after->p + after->len, end);
}

static enum mc_parse_status mc_parse_storage(struct mc_request *req, size_t n)
{
    bool cas = req->cmd == MC_CMD_CAS;
    size_t base = cas ? 6 : 5;
    if (n != base && n != base + 1)
        return MC_PARSE_ERROR;
    mc_set_noreply(req, req->tokens[n - 1]);
    req->key = req->tokens[1];
    if (req->key.len > MC_KEY_MAX)
        return mc_client_error(req, MC_ERR_BAD_FORMAT);
    int32_t vlen;
    if (!mc_parse_u32(req->tokens[2], &req->flags) || !mc_parse_i32(req->tokens[3], &req->exptime) ||
        !mc_parse_i32(req->tokens[4], &vlen))
        return mc_client_error(req, MC_ERR_BAD_FORMAT);
    if (cas && !mc_parse_u64(req->tokens[5], &req->cas))
        return mc_client_error(req, MC_ERR_BAD_FORMAT);
    if (vlen < 0 || vlen > INT_MAX - 2)
        return mc_client_error(req, MC_ERR_BAD_FORMAT);
    req->nbytes = (uint32_t)vlen;
    return MC_PARSE_OK;
}

static enum mc_parse_status mc_parse_arith(struct mc_request *req, size_t n)
{
    if (n != 3 && n != 4)
        return MC_PARSE_ERROR;
    mc_set_noreply(req, req->tokens[n - 1]);
    req->key = req->tokens[1];
    if (req->key.len > MC_KEY_MAX)
        return mc_client_error(req, MC_ERR_BAD_FORMAT);
    if (!mc_parse_u64(req->tokens[2], &req->delta))
        return mc_client_error(req, MC_ERR_DELTA);
    return MC_PARSE_OK;
}

static enum mc_parse_status mc_parse_touch(struct mc_request *req, size_t n)
{
    if (n != 3 && n != 4)
        return MC_PARSE_ERROR;
    mc_set_noreply(req, req->tokens[n - 1]);
    req->key = req->tokens[1];
    if (req->key.len > MC_KEY_MAX)
        return mc_client_error(req, MC_ERR_BAD_FORMAT);
    if (!mc_parse_i32(req->tokens[2], &req->exptime))
        return mc_client_error(req, MC_ERR_EXPTIME);
    return MC_PARSE_OK;
}

static enum mc_parse_status mc_parse_delete(struct mc_request *req, size_t n)
{
    if (n < 2 || n > 4)
        return MC_PARSE_ERROR;
    req->key = req->tokens[1];
    if (n > 2) {
        /* memcached still accepts the obsolete hold time, but only as "0". */
        bool hold_zero = mc_tok_is(req->tokens[2], "0", 1);
        mc_set_noreply(req, req->tokens[n - 1]);
        bool valid = (n == 3 && (hold_zero || req->noreply)) || (n == 4 && hold_zero && req->noreply);
        if (!valid)
            return mc_client_error(req, MC_ERR_DELETE_USAGE);
    }
    if (req->key.len > MC_KEY_MAX)
        return mc_client_error(req, MC_ERR_BAD_FORMAT);
    return MC_PARSE_OK;
}

static enum mc_parse_status mc_parse_flush(struct mc_request *req, size_t n)
{
    if (n > 3)
        return MC_PARSE_ERROR;
    mc_set_noreply(req, req->tokens[n - 1]);
    if (n != (req->noreply ? 2u : 1u)) {
        if (!mc_parse_i32(req->tokens[1], &req->exptime))
            return mc_client_error(req, MC_ERR_EXPTIME);
        req->has_delay = true;
    }
    return MC_PARSE_OK;
}

static enum mc_parse_status mc_parse_verbosity(struct mc_request *req, size_t n)
{
    if (n != 2 && n != 3)
        return MC_PARSE_ERROR;
    mc_set_noreply(req, req->tokens[n - 1]);
    if (!mc_parse_u32(req->tokens[1], &req->level))
        return mc_client_error(req, MC_ERR_BAD_FORMAT);
    return MC_PARSE_OK;
}

struct mc_cmd_name {
    const char *name;
    size_t len;
    enum mc_cmd cmd;
};

static const struct mc_cmd_name mc_cmd_names[] = {
    {"get", 3, MC_CMD_GET},
    {"gets", 4, MC_CMD_GETS},
    {"gat", 3, MC_CMD_GAT},
    {"gats", 4, MC_CMD_GATS},
    {"set", 3, MC_CMD_SET},
    {"add", 3, MC_CMD_ADD},
    {"replace", 7, MC_CMD_REPLACE},
    {"append", 6, MC_CMD_APPEND},
    {"prepend", 7, MC_CMD_PREPEND},
    {"cas", 3, MC_CMD_CAS},
    {"incr", 4, MC_CMD_INCR},
    {"decr", 4, MC_CMD_DECR},
    {"delete", 6, MC_CMD_DELETE},
    {"touch", 5, MC_CMD_TOUCH},
    {"flush_all", 9, MC_CMD_FLUSH_ALL},
    {"version", 7, MC_CMD_VERSION},
    {"verbosity", 9, MC_CMD_VERBOSITY},
    {"quit", 4, MC_CMD_QUIT},
    {"shutdown", 8, MC_CMD_SHUTDOWN},
    {"stats", 5, MC_CMD_STATS},
    {"cache_memlimit", 14, MC_CMD_CACHE_MEMLIMIT},
    {"slabs", 5, MC_CMD_SLABS},
    {"lru_crawler", 11, MC_CMD_LRU_CRAWLER},
    {"lru", 3, MC_CMD_LRU},
    {"watch", 5, MC_CMD_WATCH},
};

static enum mc_cmd mc_lookup_cmd(struct mc_token t)
{
    for (size_t i = 0; i < sizeof(mc_cmd_names) / sizeof(mc_cmd_names[0]); i++) {
        if (mc_tok_is(t, mc_cmd_names[i].name, mc_cmd_names[i].len))
            return mc_cmd_names[i].cmd;
    }
    return MC_CMD_NONE;
}

/* Tokenizes line into req->tokens (the first MC_PARSE_TOKENS); returns the token count and the last
 * token in *last. */
static size_t mc_tokenize(const char *line, const char *end, struct mc_request *req, struct mc_token *last)
{
    const char *pos = line;
    struct mc_token t;
    size_t n = 0;
    /* Tokens are written in place: copying a token struct just stored by the scan stalls on store
     * forwarding, and this loop runs for every request. */
    while (n < MC_PARSE_TOKENS && mc_parse_next_token(&pos, end, &req->tokens[n]))
        n++;
    if (n > 0)
        *last = req->tokens[n - 1];
    while (mc_parse_next_token(&pos, end, &t)) {
        *last = t;
        n++;
    }
    return n;
}

/* Tokenizes, finds the command, checks its token count and fields; see mc_parse.h. */
enum mc_parse_status mc_parse_line(const char *line, size_t len, struct mc_request *req)
{
    const char *nul = memchr(line, '\0', len);
    const char *end = nul ? nul : line + len;
    struct mc_token last = {NULL, 0};
    memset(req, 0, offsetof(struct mc_request, tokens));
    size_t n = mc_tokenize(line, end, req, &last);
    req->ntokens = n < MC_PARSE_TOKENS ? n : MC_PARSE_TOKENS;
    if (n == 0)
        return MC_PARSE_ERROR;
    req->cmd = mc_lookup_cmd(req->tokens[0]);
    switch (req->cmd) {
    case MC_CMD_GET:
    case MC_CMD_GETS:
    case MC_CMD_GAT:
    case MC_CMD_GATS:
        return mc_parse_get(req, n, end);
    case MC_CMD_SET:
    case MC_CMD_ADD:
    case MC_CMD_REPLACE:
    case MC_CMD_APPEND:
    case MC_CMD_PREPEND:
    case MC_CMD_CAS:
        return mc_parse_storage(req, n);
    case MC_CMD_INCR:
    case MC_CMD_DECR:
        return mc_parse_arith(req, n);
    case MC_CMD_DELETE:
        return mc_parse_delete(req, n);
    case MC_CMD_TOUCH:
        return mc_parse_touch(req, n);
    case MC_CMD_FLUSH_ALL:
        return mc_parse_flush(req, n);
    case MC_CMD_VERBOSITY:
        return mc_parse_verbosity(req, n);
    case MC_CMD_SHUTDOWN:
        req->graceful = n == 2 && mc_tok_is(req->tokens[1], "graceful", 8);
        return MC_PARSE_OK;
    case MC_CMD_VERSION:
    case MC_CMD_QUIT:
    case MC_CMD_STATS:
        return MC_PARSE_OK;
    case MC_CMD_CACHE_MEMLIMIT:
    case MC_CMD_SLABS:
    case MC_CMD_LRU_CRAWLER:
    case MC_CMD_LRU:
    case MC_CMD_WATCH:
        /* Arguments are checked by the executor (mc_admin.c), which knows memcached's rules. */
        req->noreply = mc_tok_is(last, "noreply", 7);
        return MC_PARSE_OK;
    case MC_CMD_NONE:
        break;
    }
    if (last.len >= 5 && memcmp(last.p, "HTTP/", 5) == 0)
        return MC_PARSE_CLOSE;
    return MC_PARSE_ERROR;
}
