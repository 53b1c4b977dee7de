#!/bin/sh
# Runs the Redis Cluster client test (redis-py's RedisCluster and redis-cli -c against three cairn
# nodes of one topology file) with the system interpreter (the one with python3-redis).
# make check sets CAIRN_BIN and CAIRN_SRCDIR; exit 77 (skip) when redis-py is not installed or the
# target is not cairn.
srcdir=${CAIRN_SRCDIR:-$(dirname "$0")/../..}
if ! /usr/bin/python3 -c 'from redis.cluster import RedisCluster' 2>/dev/null; then
	echo "redis-py (with redis.cluster) is not installed for /usr/bin/python3: skipped"
	exit 77
fi
if [ -n "${CAIRN_TEST_TARGET:-}" ]; then
	echo "cluster mode from a topology file is cairn's own: skipped for ${CAIRN_TEST_TARGET}"
	exit 77
fi
: "${CAIRN_BIN:?CAIRN_BIN is not set (run through make check)}"
export CAIRN_BIN
exec timeout 120 /usr/bin/python3 "$srcdir/tests/clients/test_redis_cluster.py" "$@"
