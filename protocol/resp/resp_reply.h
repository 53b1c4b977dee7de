/*
 * resp_reply.h: Redis replies appended to a connection's output queue, in RESP2 or, after HELLO 3,
 * RESP3. Each function writes exactly the bytes redis-server 7.0 writes for that reply type under the
 * given protocol version (see each comment); types RESP2 lacks fall back as Redis falls back (a map is
 * a flat array of 2n elements, a set an array, a double a bulk string, a null "$-1").
 *
 * Values of items go out by reference (zero-copy): resp_add_item() queues the "$<len>\r\n" header as
 * text and the item's value plus "\r\n" by reference, taking over the caller's reference.
 *
 * proto is the connection's protocol version: 2 means RESP2 and anything else RESP3, as Redis tests
 * c->resp == 2.
 *
 * Ownership: nothing is kept from the arguments except the item reference given to resp_add_item().
 * Allocation failure is recorded in the queue (outq_failed()), never an abort; the one allocation of
 * its own, a formatted error longer than 511 bytes, falls back to sending the first 511 bytes.
 */
#ifndef CAIRN_PROTOCOL_RESP_REPLY_H
#define CAIRN_PROTOCOL_RESP_REPLY_H

#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

struct item;
struct outq;

/* "+s\r\n" (s has no CR or LF). */
void resp_add_simple(struct outq *q, const char *s);

/* "-<line>\r\n": line is the whole error without the dash, e.g. "ERR syntax error" or
 * "WRONGTYPE Operation against a key holding the wrong kind of value". Any CR or LF in it is
 * replaced by a space, as Redis's addReplyErrorSdsSafe does (addReplyErrorLength itself checks
 * nothing). */
void resp_add_error(struct outq *q, const char *line);

/* As resp_add_error, printf-formatted, with addReplyErrorFormat's rules: CR and LF are first
 * stripped from both ends of the formatted text, then any left inside become spaces. */
void resp_add_errorf(struct outq *q, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

/* ":<v>\r\n". */
void resp_add_int(struct outq *q, long long v);

/* "$<n>\r\n<bytes>\r\n" (a copy). */
void resp_add_bulk(struct outq *q, const void *p, size_t n);

/* resp_add_bulk of a NUL-terminated string. */
void resp_add_bulk_str(struct outq *q, const char *s);

/* A long long as a bulk string (as Redis's addReplyBulkLongLong). */
void resp_add_bulk_ll(struct outq *q, long long v);

/* An item's value as a bulk string, by reference; takes over the caller's reference to it. */
void resp_add_item(struct outq *q, struct item *it);

/* The null reply: RESP2 "$-1\r\n", RESP3 "_\r\n". */
void resp_add_null(struct outq *q, int proto);

/* The null array: RESP2 "*-1\r\n", RESP3 "_\r\n". */
void resp_add_null_array(struct outq *q, int proto);

/* An array header "*<n>\r\n"; the caller adds n elements. */
void resp_add_array(struct outq *q, size_t n);

/* A map header of n pairs: RESP3 "%<n>\r\n", RESP2 "*<2n>\r\n"; the caller adds 2n elements. */
void resp_add_map(struct outq *q, int proto, size_t n);

/* A set header: RESP3 "~<n>\r\n", RESP2 "*<n>\r\n". */
void resp_add_set(struct outq *q, int proto, size_t n);

/* A double as Redis 7.0's addReplyDouble: RESP3 ",<d>\r\n", RESP2 the same text as a bulk string,
 * where the text is "inf" or "-inf" for infinities and otherwise "%.17g" ("0.10000000000000001",
 * "1e+20", "-0"; a NaN as glibc prints it, "nan" or "-nan"). See resp_d2str_reply(). */
void resp_add_double(struct outq *q, int proto, double d);

/* A boolean: RESP3 "#t\r\n"/"#f\r\n", RESP2 ":1\r\n"/":0\r\n". */
void resp_add_bool(struct outq *q, int proto, int b);

/* A verbatim string (INFO, CLIENT INFO/LIST under RESP3): RESP3 "=<n+4>\r\n<fmt>:<bytes>\r\n" with a
 * three-letter fmt ("txt"; as Redis, only its first three bytes are used and a shorter one is padded
 * with spaces), RESP2 a bulk string of the bytes. */
void resp_add_verbatim(struct outq *q, int proto, const char *fmt, const void *p, size_t n);

#endif
