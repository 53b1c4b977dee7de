#!/bin/sh
# Three cairn nodes behind nutcracker (twemproxy) in redis mode (test_twemproxy.py), driven with
# redis-py. make check sets CAIRN_BIN and CAIRN_SRCDIR. Exit 77 (skip) when nutcracker or redis-py
# is not installed.
srcdir=${CAIRN_SRCDIR:-$(dirname "$0")/../..}
if ! command -v nutcracker >/dev/null 2>&1 && [ ! -x /usr/sbin/nutcracker ]; then
	echo "nutcracker (twemproxy) is not installed: skipped"
	exit 77
fi
if ! /usr/bin/python3 -c 'import redis' 2>/dev/null; then
	echo "redis-py is not installed for /usr/bin/python3 (python3-redis): skipped"
	exit 77
fi
exec timeout 300 /usr/bin/python3 "$srcdir/tests/pool/test_twemproxy.py" redis
