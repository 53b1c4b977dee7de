/*
 * mcbin.h: memcached 1.6.18's binary protocol as a struct proto_ops (protocol/proto.h).
 *
 * The binary protocol is the text protocol's sibling: the same items, flags, CAS uniques and
 * expiries, the same rules (protocol/mc: exptimes, the 250-byte key, -I, incr/decr's numbers) and
 * the same counters. So its session takes the text protocol's context and counters: ctx is a
 * struct mc_context, stats the worker's struct mc_stats (protocol/mc/memcache.h), and a value set
 * over one protocol is read over the other (and over RESP) unchanged.
 *
 * Credentials: when the context's auth has users (protocol/auth.h), a connection authenticates with
 * SASL PLAIN as memcached 1.6.18's SASL build (-S) answers: before it, every opcode but the SASL ones
 * and VERSION gets "Auth failure." and the connection closes; a user of role app is refused FLUSH and
 * STAT's reset and detail groups ("Auth failure.", the connection stays open). Without users,
 * nothing changes: the SASL opcodes are "Unknown command" as in memcached built without SASL.
 *
 * Threads: a session belongs to its connection's thread; the context is read-only and shared.
 */
#ifndef CAIRN_PROTOCOL_MCBIN_H
#define CAIRN_PROTOCOL_MCBIN_H

#include "protocol/proto.h"

/* The binary protocol's operations: ctx is a struct mc_context, stats a struct mc_stats. */
extern const struct proto_ops mcbin_proto_ops;

#endif
