/*
 * outq.h: a connection's queue of outgoing bytes, in order: copied text (status lines, VALUE
 * headers) and item values referenced in place (zero-copy). The server turns the queue into iovecs for
 * writev() and reports how much was written; the queue releases each item reference once its bytes
 * have gone out.
 *
 * Ownership: outq_add_value() takes over one item reference from the caller. outq_destroy() releases
 * any still queued. One queue belongs to one connection and is used by one thread at a time.
 */
#ifndef CAIRN_PROTOCOL_OUTQ_H
#define CAIRN_PROTOCOL_OUTQ_H

#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <sys/uio.h>

struct cache;
struct item;
struct outq;

/* Creates an empty queue whose item references are released back to cache. NULL on no memory. */
struct outq *outq_create(struct cache *cache);

/* Releases every queued reference, frees the queue and clears *r. NULL is a no-op. */
void outq_destroy(struct outq **r);

/* Appends a copy of n bytes. */
void outq_add(struct outq *r, const void *p, size_t n);

/* Appends a copy of a NUL-terminated string. */
void outq_add_str(struct outq *r, const char *s);

/* Appends printf-formatted text. */
void outq_printf(struct outq *r, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

/* Appends the item's value followed by "\r\n", taking over the caller's reference to it. */
void outq_add_value(struct outq *r, struct item *it);

/* As outq_add_value, without the "\r\n" (the binary protocol's values carry their length). */
void outq_add_value_raw(struct outq *r, struct item *it);

/* Bytes queued and not yet written. */
size_t outq_pending(const struct outq *r);

/* What the unsent part of the queue costs: pending bytes (values by reference included) plus the
 * bookkeeping of every unsent entry. The protocol stops executing requests while it is at or above
 * the connection's limit (mc_context.out_pause). */
size_t outq_weight(const struct outq *r);

/* Whether an allocation failed: bytes were dropped, so the connection must be closed without
 * sending anything more. */
bool outq_failed(const struct outq *r);

/* Fills up to max iovecs from the start of the unwritten bytes; returns how many. */
int outq_iov(const struct outq *r, struct iovec *iov, int max);

/* Marks n bytes as written, releasing the items whose values are now fully sent. */
void outq_consume(struct outq *r, size_t n);

/* Gives back buffers grown by a burst (a long multi-get, stats) when nothing is queued; a no-op
 * otherwise. Called when the connection goes idle: between rounds of one burst they are kept. */
void outq_trim(struct outq *r);

/* Drops everything queued (releasing references) and trims; used when a connection closes. */
void outq_clear(struct outq *r);

#endif
