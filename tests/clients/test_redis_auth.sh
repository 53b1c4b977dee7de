#!/bin/sh
# Runs the RESP authentication client test (redis-py and redis-cli) with the system interpreter.
# make check sets CAIRN_BIN and CAIRN_SRCDIR; exit 77 (skip) when redis-py is not installed.
# CAIRN_TEST_TARGET=redis (or --redis) runs it against redis-server instead of cairn.
srcdir=${CAIRN_SRCDIR:-$(dirname "$0")/../..}
if ! /usr/bin/python3 -c 'import redis' 2>/dev/null; then
	echo "redis-py is not installed for /usr/bin/python3: skipped"
	exit 77
fi
if [ "${CAIRN_TEST_TARGET:-}" = memcached ]; then
	echo "memcached has no RESP: skipped"
	exit 77
fi
exec timeout 120 /usr/bin/python3 "$srcdir/tests/clients/test_redis_auth.py" "$@"
