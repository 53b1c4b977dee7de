/*
 * resp_parse.h: the pure RESP request parser (bytes in, one command's arguments or an error out).
 *
 * What it parses, as redis-server 7.0 does (networking.c processMultibulkBuffer/processInlineBuffer,
 * sds.c sdssplitargs; the tests hold what a running 7.0.15 answers to each framing edge and error):
 * - Multibulk: "*<n>\r\n" then n times "$<len>\r\n<len bytes>\r\n". A request is multibulk when its
 *   first byte is '*'. Counts and lengths follow Redis's string2ll: optional '-', no '+', no leading
 *   zeros, no spaces, at most 20 characters. n <= 0 (e.g. "*0", "*-1") is a request with no command and
 *   is skipped. n above max_multibulk_len is an error (Redis 7.0: INT_MAX; 6.x stopped at 1024*1024);
 *   len < 0 or above max_bulk_len (proto-max-bulk-len, 512 MiB by default) is an error.
 * - Redis's leniencies are kept on purpose: a count line ends at its first '\r' and the byte after it
 *   is skipped whatever it is ("*1\rX" is accepted), and the two bytes after a bulk payload are skipped
 *   unchecked ("$3\r\nfooXY" is "foo").
 * - Inline: any other request is one line ending in '\n' (a '\r' before it is dropped), split like
 *   sdssplitargs: blanks separate arguments, "double quotes" take \n \r \t \b \a \xHH and \<any> escapes,
 *   'single quotes' take only \', a closing quote must be followed by a blank or the end of the line,
 *   a quote inside a bare word opens a quoted part of that word. A line with no arguments is skipped.
 * - Lines are searched the way Redis's strchr on its NUL-terminated buffer does: a NUL byte before the
 *   line end hides the line end, so such a request can only end in the "too big" error. A line (count
 *   line or inline request) whose end is not within its first 64 KiB + 1 bytes is an error. Redis's own
 *   answer for a longer line depends on how its reads fall (it only checks when no line end has been
 *   seen yet); the parser gives the answer Redis gives when the bytes arrive in small reads, so the
 *   outcome never depends on how the input is split.
 * - Not modelled: replication-master and AUTH-dependent rules ("unauthenticated multibulk length").
 *
 * Data structures: the parser is a state machine (request start, count line, bulk header, bulk
 * payload, bulk trailer, inline line) plus
 * - a line buffer (at most 64 KiB + 1 bytes) holding a count line or inline line cut by the end of an
 *   input chunk;
 * - an arena holding copies of the arguments of a request that spans calls, and inline arguments;
 * - an array of argument slots, each in the caller's current chunk, in the arena or in a destination
 *   the caller supplied (resp_parser_bulk_into), grown by doubling up to the declared count.
 *
 * Invariants and ownership:
 * - resp_parse() returns at most one command per call. On RESP_PARSE_NEED_MORE it has consumed all of
 *   its input: whatever it still needs it copied, so the caller may reuse its buffer. Arguments of a
 *   request that arrives whole in one call point into the caller's buffer (no copy).
 * - The arguments returned stay valid until the next call on the parser (or its destruction), and those
 *   in the caller's buffer as long as the caller leaves those bytes alone.
 * - Memory is bounded: the line buffer by the 64 KiB rule, one bulk by max_bulk_len, all bytes held for
 *   one request (copies and slots) by max_buffered; going past max_buffered or failing to allocate gives
 *   RESP_PARSE_NOMEM, never an abort. Buffers larger than a small working size are freed when the next
 *   request starts.
 * - Errors are sticky: after RESP_PARSE_ERROR or RESP_PARSE_NOMEM every call returns the same status and
 *   text; the connection is meant to be closed.
 *
 * Threads: a parser belongs to one connection and must be used by one thread at a time. There is no
 * global state; different parsers may be used concurrently.
 */
#ifndef CAIRN_PROTOCOL_RESP_PARSE_H
#define CAIRN_PROTOCOL_RESP_PARSE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* Redis 7.0's fixed limits (server.h PROTO_INLINE_MAX_SIZE, the INT_MAX multibulk count, the default
 * proto-max-bulk-len) and the parser's default bound on the bytes it holds for one request (as Redis's
 * default client-query-buffer-limit). */
#define RESP_INLINE_MAX_SIZE           (64 * 1024)
#define RESP_DEFAULT_MAX_MULTIBULK_LEN 2147483647LL
#define RESP_DEFAULT_MAX_BULK_LEN      (512LL * 1024 * 1024)
#define RESP_DEFAULT_MAX_BUFFERED      ((size_t)1024 * 1024 * 1024)

/* Error reply lines (with "-" and "\r\n"), exactly as redis-server 7.0 sends them before closing. The
 * "expected '$'" reply names the offending byte and is built in the parser. */
#define RESP_ERR_INLINE_TOO_BIG  "-ERR Protocol error: too big inline request\r\n"
#define RESP_ERR_MBULK_TOO_BIG   "-ERR Protocol error: too big mbulk count string\r\n"
#define RESP_ERR_BULK_TOO_BIG    "-ERR Protocol error: too big bulk count string\r\n"
#define RESP_ERR_MBULK_LEN       "-ERR Protocol error: invalid multibulk length\r\n"
#define RESP_ERR_BULK_LEN        "-ERR Protocol error: invalid bulk length\r\n"
#define RESP_ERR_UNBALANCED      "-ERR Protocol error: unbalanced quotes in request\r\n"
#define RESP_ERR_EXPECTED_DOLLAR "-ERR Protocol error: expected '$', got '%c'\r\n" /* a format */

/* Reasons given with RESP_PARSE_NOMEM (for a log line; Redis sends nothing when it drops a client for
 * its query buffer limit). */
#define RESP_NOMEM_ALLOC "out of memory parsing a request"
#define RESP_NOMEM_LIMIT "request exceeds the parser's buffer limit"

enum resp_parse_status {
    RESP_PARSE_OK = 0,    /* *out holds one command; *consumed bytes of the input were used */
    RESP_PARSE_NEED_MORE, /* all input consumed, no complete command: call again with more bytes */
    RESP_PARSE_ERROR,     /* protocol error: send *err (a whole reply line), then close */
    RESP_PARSE_NOMEM      /* allocation failed or max_buffered reached: close; *err says which */
};

struct resp_parser_options {
    long long max_bulk_len;      /* largest bulk length accepted (proto-max-bulk-len) */
    long long max_multibulk_len; /* largest argument count accepted */
    size_t max_buffered;         /* bytes the parser may hold for one incomplete request */
};

/* One command: argv[i] is argl[i] bytes long, binary safe, not NUL-terminated. */
struct resp_args {
    size_t argc;
    const char **argv;
    const size_t *argl;
    bool is_inline; /* came as an inline line rather than multibulk */
};

/* The bulk argument whose payload the parser is waiting for (see resp_parser_pending_bulk). */
struct resp_pending_bulk {
    size_t index;            /* argument number, 0 being the command name */
    size_t argc;             /* arguments the request declares */
    size_t len;              /* payload length */
    size_t have;             /* payload bytes already received */
    struct resp_args before; /* arguments 0..index-1 (parser memory, valid until the next call) */
};

struct resp_parser;

/* Fills *o with Redis 7.0's defaults. */
void resp_parser_options_default(struct resp_parser_options *o);

/* Creates a parser at a request boundary; o NULL means the defaults. Returns NULL when out of memory
 * or when an option is out of range (a negative limit, or max_buffered 0). */
struct resp_parser *resp_parser_create(const struct resp_parser_options *o);

/* Frees the parser and everything it holds and sets *p to NULL; NULL or *p NULL is a no-op. */
void resp_parser_destroy(struct resp_parser **p);

/*
 * Parses from buf[0..len) (len 0 is fine). Returns:
 * - RESP_PARSE_OK: *out is the next command; buf[0..*consumed) was used, including any skipped empty
 *   requests before it. Call again with buf + *consumed for the next command of a pipeline.
 * - RESP_PARSE_NEED_MORE: *consumed == len; the parser kept what it needs.
 * - RESP_PARSE_ERROR / RESP_PARSE_NOMEM: *err as described above (a static or parser-owned string,
 *   valid as long as the parser). *consumed is where parsing stopped.
 * out's arrays belong to the parser; see the validity rule in the file comment.
 */
enum resp_parse_status resp_parse(struct resp_parser *p, const char *buf, size_t len, size_t *consumed,
                                  struct resp_args *out, const char **err);

/* Whether the parser holds part of a request (false at a request boundary or after an error). */
bool resp_parser_mid_request(const struct resp_parser *p);

/* How many empty requests ("*0", "*-1", a blank inline line) the parser has passed over without
 * returning them: Redis counts each as a request that was processed (a CLIENT REPLY SKIP applies to
 * it). */
uint64_t resp_parser_empty_requests(const struct resp_parser *p);

/*
 * Zero-copy receipt of a large bulk. After RESP_PARSE_NEED_MORE, true when the parser is inside the
 * payload of a bulk argument that is not complete; *pb describes it. A caller that wants that payload
 * in its own memory (an item's value) then calls resp_parser_bulk_into() with at least pb->len bytes:
 * the parser moves the pb->have bytes it already holds there and from then on writes the rest of the
 * payload there. The caller may also read from its socket straight into dst + have and report it with
 * resp_parser_bulk_advance(). When the command completes, argv[index] == dst. dst must stay valid until
 * then (or until the parser fails or is destroyed).
 */
bool resp_parser_pending_bulk(struct resp_parser *p, struct resp_pending_bulk *pb);

/* See resp_parser_pending_bulk. Returns false (and changes nothing) when no bulk is pending or a
 * destination was already given. */
bool resp_parser_bulk_into(struct resp_parser *p, char *dst);

/* Drops the pending bulk's payload instead of keeping it (a value too large to store): the rest of
 * its bytes are read and discarded, and when the command completes argv[index] is NULL with
 * argl[index] its length, so the caller can answer an error while the stream stays in step. False
 * (nothing changed) when no bulk is pending or a destination was already given. */
bool resp_parser_bulk_skip(struct resp_parser *p);

/* The caller wrote n more payload bytes at dst + have. Returns false (and changes nothing) when no
 * destination was given or n exceeds what the payload still lacks. */
bool resp_parser_bulk_advance(struct resp_parser *p, size_t n);

#endif
