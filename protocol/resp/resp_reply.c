/*
 * resp_reply.c: Redis replies in RESP2 or RESP3 appended to an output queue (see resp_reply.h).
 *
 * Every writer is a few outq_add/outq_printf calls producing the bytes networking.c's addReply* of
 * redis-server 7.0 produce; Redis's shared header objects ("*3\r\n", "$5\r\n") are the same bytes as
 * the printed form, so nothing special is needed for them. Protocol 2 is RESP2 and anything else
 * RESP3, as Redis tests c->resp == 2.
 *
 * Ownership: only resp_add_item() keeps anything (the item reference, handed to the queue). Errors
 * are built in a stack buffer, or a heap one for a long formatted error; should that allocation
 * fail, the error is sent cut to the stack buffer's length (still one well-formed line).
 *
 * Threads: a queue belongs to one connection, used by one thread at a time; nothing here locks.
 */
#include "config.h"

#include "protocol/resp/resp_reply.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "protocol/outq.h"
#include "protocol/resp/resp_util.h"
#include "storage/item.h"

/* A formatted error this long or shorter is built on the stack. */
#define RESP_ERR_STACK 512

void resp_add_simple(struct outq *q, const char *s)
{
    outq_add(q, "+", 1);
    outq_add_str(q, s);
    outq_add(q, "\r\n", 2);
}

/* "-" line "\r\n" with every CR and LF of line[0..n) made a space. */
static void add_error_line(struct outq *q, const char *line, size_t n)
{
    outq_add(q, "-", 1);
    size_t start = 0;
    for (size_t i = 0; i < n; i++) {
        if (line[i] != '\r' && line[i] != '\n')
            continue;
        outq_add(q, line + start, i - start);
        outq_add(q, " ", 1);
        start = i + 1;
    }
    outq_add(q, line + start, n - start);
    outq_add(q, "\r\n", 2);
}

void resp_add_error(struct outq *q, const char *line)
{
    add_error_line(q, line, strlen(line));
}

/* addReplyErrorFormat's sdstrim(s, "\r\n"): CR and LF dropped from both ends. */
static void add_error_trimmed(struct outq *q, const char *s, size_t n)
{
    while (n > 0 && (s[0] == '\r' || s[0] == '\n')) {
        s++;
        n--;
    }
    while (n > 0 && (s[n - 1] == '\r' || s[n - 1] == '\n'))
        n--;
    add_error_line(q, s, n);
}

void resp_add_errorf(struct outq *q, const char *fmt, ...)
{
    char small[RESP_ERR_STACK];
    va_list ap;
    va_start(ap, fmt);
    int n = vsnprintf(small, sizeof(small), fmt, ap);
    va_end(ap);
    if (n < 0) /* an encoding error: nothing was formatted */
        n = 0;
    if ((size_t)n < sizeof(small)) {
        add_error_trimmed(q, small, (size_t)n);
        return;
    }
    char *big = malloc((size_t)n + 1);
    if (big == NULL) {
        add_error_trimmed(q, small, sizeof(small) - 1);
        return;
    }
    va_start(ap, fmt);
    vsnprintf(big, (size_t)n + 1, fmt, ap);
    va_end(ap);
    add_error_trimmed(q, big, (size_t)n);
    free(big);
}

/* A type byte, a decimal number and CRLF (":42", "$5", "*3"...): written by hand, not through
 * outq_printf, since every bulk reply starts with one (vsnprintf was 2.6% of a pipelined GET load). */
static void add_header(struct outq *q, char type, long long v)
{
    char buf[1 + RESP_LL_STR_SIZE + 2];
    size_t n = resp_ll2str(buf + 1, RESP_LL_STR_SIZE, v);

    buf[0] = type;
    buf[n + 1] = '\r';
    buf[n + 2] = '\n';
    outq_add(q, buf, n + 3);
}

void resp_add_int(struct outq *q, long long v)
{
    add_header(q, ':', v);
}

void resp_add_bulk(struct outq *q, const void *p, size_t n)
{
    add_header(q, '$', (long long)n);
    outq_add(q, p, n);
    outq_add(q, "\r\n", 2);
}

void resp_add_bulk_str(struct outq *q, const char *s)
{
    resp_add_bulk(q, s, strlen(s));
}

void resp_add_bulk_ll(struct outq *q, long long v)
{
    char buf[RESP_LL_STR_SIZE];
    resp_add_bulk(q, buf, resp_ll2str(buf, sizeof(buf), v));
}

void resp_add_item(struct outq *q, struct item *it)
{
    add_header(q, '$', (long long)item_nbytes(it));
    outq_add_value(q, it);
}

void resp_add_null(struct outq *q, int proto)
{
    outq_add_str(q, proto == 2 ? "$-1\r\n" : "_\r\n");
}

void resp_add_null_array(struct outq *q, int proto)
{
    outq_add_str(q, proto == 2 ? "*-1\r\n" : "_\r\n");
}

void resp_add_array(struct outq *q, size_t n)
{
    add_header(q, '*', (long long)n);
}

void resp_add_map(struct outq *q, int proto, size_t n)
{
    add_header(q, proto == 2 ? '*' : '%', (long long)(proto == 2 ? 2 * n : n));
}

void resp_add_set(struct outq *q, int proto, size_t n)
{
    add_header(q, proto == 2 ? '*' : '~', (long long)n);
}

void resp_add_double(struct outq *q, int proto, double d)
{
    char buf[64];
    size_t n = resp_d2str_reply(buf, sizeof(buf), d);
    if (proto == 2) {
        resp_add_bulk(q, buf, n);
        return;
    }
    outq_add(q, ",", 1);
    outq_add(q, buf, n);
    outq_add(q, "\r\n", 2);
}

void resp_add_bool(struct outq *q, int proto, int b)
{
    if (proto == 2)
        outq_add_str(q, b ? ":1\r\n" : ":0\r\n");
    else
        outq_add_str(q, b ? "#t\r\n" : "#f\r\n");
}

void resp_add_verbatim(struct outq *q, int proto, const char *fmt, const void *p, size_t n)
{
    if (proto == 2) {
        resp_add_bulk(q, p, n);
        return;
    }
    char ext[3];
    for (size_t i = 0; i < sizeof(ext); i++)
        ext[i] = *fmt != '\0' ? *fmt++ : ' ';
    outq_printf(q, "=%zu\r\n", n + 4);
    outq_add(q, ext, sizeof(ext));
    outq_add(q, ":", 1);
    outq_add(q, p, n);
    outq_add(q, "\r\n", 2);
}
