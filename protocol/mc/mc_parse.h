/*
 * mc_parse.h: the pure request-line parser of the classic text protocol (internal to protocol/).
 *
 * mc_parse_line() takes one request line without its line end and splits it the way memcached
 * 1.6.18 does: tokens are separated by runs of single spaces (' ' only: a tab is part of a token),
 * leading and trailing spaces are ignored. It then checks the token count and the numeric fields and
 * fills a struct mc_request whose pointers point into the caller's line (nothing is copied). It never
 * touches the cache or the session; it is a function of its input only.
 *
 * Get-style commands can carry any number of keys: the request keeps the text span after the command
 * (and after gat's exptime) and the executor walks it with mc_parse_next_token().
 */
#ifndef CAIRN_PROTOCOL_MC_PARSE_H
#define CAIRN_PROTOCOL_MC_PARSE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

/* Tokens kept in the request; more than any non-get command accepts. */
#define MC_PARSE_TOKENS 8

/* memcached's longest key, in bytes (KEY_MAX_LENGTH); the storage engine takes longer ones (RESP),
 * the text and meta protocols refuse them with memcached's errors. */
#define MC_KEY_MAX 250u

enum mc_cmd {
    MC_CMD_NONE = 0,
    MC_CMD_GET,
    MC_CMD_GETS,
    MC_CMD_GAT,
    MC_CMD_GATS,
    MC_CMD_SET,
    MC_CMD_ADD,
    MC_CMD_REPLACE,
    MC_CMD_APPEND,
    MC_CMD_PREPEND,
    MC_CMD_CAS,
    MC_CMD_INCR,
    MC_CMD_DECR,
    MC_CMD_DELETE,
    MC_CMD_TOUCH,
    MC_CMD_FLUSH_ALL,
    MC_CMD_VERSION,
    MC_CMD_VERBOSITY,
    MC_CMD_QUIT,
    MC_CMD_SHUTDOWN,
    MC_CMD_STATS,
    MC_CMD_CACHE_MEMLIMIT,
    MC_CMD_SLABS,
    MC_CMD_LRU_CRAWLER,
    MC_CMD_LRU,
    MC_CMD_WATCH
};

enum mc_parse_status {
    MC_PARSE_OK = 0,       /* req is a valid command */
    MC_PARSE_ERROR,        /* answer "ERROR" (unknown command or wrong token count) */
    MC_PARSE_CLIENT_ERROR, /* answer req->error ("CLIENT_ERROR ...") unless req->noreply */
    MC_PARSE_CLOSE         /* close the connection without a reply (an HTTP request line) */
};

struct mc_token {
    const char *p;
    size_t len;
};

struct mc_request {
    enum mc_cmd cmd;
    bool noreply;
    const char *error;   /* MC_PARSE_CLIENT_ERROR: full reply line including "\r\n" */
    struct mc_token key; /* storage, arith, delete, touch */
    uint32_t flags;
    int32_t exptime;  /* storage, touch, gat; flush_all delay */
    bool has_delay;   /* flush_all with a delay argument */
    uint32_t nbytes;  /* storage: value length */
    uint64_t cas;     /* cas */
    uint64_t delta;   /* incr, decr */
    uint32_t level;   /* verbosity */
    bool graceful;    /* shutdown graceful */
    const char *keys; /* get-style: the keys, [keys, keys_end) */
    const char *keys_end;
    size_t ntokens; /* tokens on the line (capped at MC_PARSE_TOKENS) */
    struct mc_token tokens[MC_PARSE_TOKENS];
};

/* Error reply lines (with "\r\n"), exactly as memcached 1.6.18 sends them. */
#define MC_ERR_ERROR             "ERROR\r\n"
#define MC_ERR_BAD_FORMAT        "CLIENT_ERROR bad command line format\r\n"
#define MC_ERR_DELETE_USAGE      "CLIENT_ERROR bad command line format.  Usage: delete <key> [noreply]\r\n"
#define MC_ERR_DELTA             "CLIENT_ERROR invalid numeric delta argument\r\n"
#define MC_ERR_EXPTIME           "CLIENT_ERROR invalid exptime argument\r\n"
#define MC_ERR_NON_NUMERIC       "CLIENT_ERROR cannot increment or decrement non-numeric value\r\n"
#define MC_ERR_BAD_CHUNK         "CLIENT_ERROR bad data chunk\r\n"
#define MC_ERR_TOO_LARGE         "SERVER_ERROR object too large for cache\r\n"
#define MC_ERR_NO_MEMORY         "SERVER_ERROR out of memory storing object\r\n"
#define MC_ERR_SHUTDOWN_DISABLED "ERROR: shutdown not enabled\r\n"
#define MC_ERR_SHUTDOWN_MODE     "CLIENT_ERROR invalid shutdown mode\r\n"

/*
 * Parses one request line (line[0..len), line end already removed). Fills *req, whose pointers refer
 * into line. Returns the status; req->cmd is set for every status except MC_PARSE_CLOSE and
 * unknown commands.
 */
enum mc_parse_status mc_parse_line(const char *line, size_t len, struct mc_request *req);

/* Whether token t is exactly the n bytes at s. */
static inline bool mc_tok_is(struct mc_token t, const char *s, size_t n)
{
    return t.len == n && memcmp(t.p, s, n) == 0;
}

/* mc_tok_is against a string literal. */
#define MC_TOK_IS(t, lit) mc_tok_is((t), (lit), sizeof(lit) - 1)

/* Moves *pos past the next token before end and stores it in *tok; false when none is left.
 * Tokens are separated by spaces only. Inline: it runs once per token of every request. */
static inline bool mc_parse_next_token(const char **pos, const char *end, struct mc_token *tok)
{
    const char *p = *pos;
    while (p < end && *p == ' ')
        p++;
    if (p == end) {
        *pos = p;
        return false;
    }
    const char *q = memchr(p, ' ', (size_t)(end - p));
    if (q == NULL)
        q = end;
    tok->p = p;
    tok->len = (size_t)(q - p);
    *pos = q;
    return true;
}

/*
 * memcached's number rules (strtoull/strtol followed by memcached's checks), on one token: leading
 * white space and a sign are accepted, the digits may be followed only by white space, overflow fails.
 */
bool mc_parse_u64(struct mc_token t, uint64_t *out); /* a '-' sign with a "negative" result fails */
bool mc_parse_u32(struct mc_token t, uint32_t *out); /* mc_parse_u64 truncated to 32 bits */
bool mc_parse_i32(struct mc_token t, int32_t *out);  /* 64-bit strtol truncated to 32 bits */

/* Where the session looks for a get-style line that may exceed MC_LINE_MAX: true when buf (no
 * newline yet) starts with at most 100 spaces and then "get " or "gets ". */
bool mc_parse_is_get_prefix(const char *buf, size_t len);

#endif
