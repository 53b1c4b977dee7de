#!/bin/sh
# Runs the side-by-side binary-protocol corpus (tests/mcbin/corpus.py) in make check: every case's
# bytes go to cairn ($CAIRN_BIN) and to Debian's memcached 1.6.18, and the answers must match
# packet by packet after normalisation (except the cases listed in
# tests/mcbin/known_differences.txt). With CAIRN_TEST_TARGET=memcached both sides are memcached,
# which checks the corpus itself. Exit 77 (skip) only when memcached is not installed.
srcdir=${CAIRN_SRCDIR:-$(dirname "$0")/../..}
memcached=${MEMCACHED_BIN:-/usr/bin/memcached}
if [ ! -x "$memcached" ]; then
	echo "$memcached is not installed: skipped"
	exit 77
fi
if [ "${CAIRN_TEST_TARGET:-}" = memcached ]; then
	exec timeout 600 /usr/bin/python3 "$srcdir/tests/mcbin/corpus.py" --memcached-only \
		--memcached "$memcached"
fi
if [ -n "${CAIRN_TEST_TARGET:-}" ] && [ "$CAIRN_TEST_TARGET" != cairn ]; then
	echo "the binary protocol is memcached's: skipped for $CAIRN_TEST_TARGET"
	exit 77
fi
exec timeout 600 /usr/bin/python3 "$srcdir/tests/mcbin/corpus.py" --cairn "${CAIRN_BIN:-./cairn}" \
	--memcached "$memcached"
