#!/bin/sh
# Runs the pylibmc client test (binary protocol) with the system interpreter (the one with Debian's
# python3-pylibmc). make check sets CAIRN_BIN and CAIRN_SRCDIR; CAIRN_TEST_TARGET=memcached runs it
# against /usr/bin/memcached. Exit 77 (skip) when pylibmc is not installed.
srcdir=${CAIRN_SRCDIR:-$(dirname "$0")/../..}
if ! /usr/bin/python3 -c 'import pylibmc' 2>/dev/null; then
	echo "pylibmc is not installed for /usr/bin/python3 (python3-pylibmc): skipped"
	exit 77
fi
exec timeout 300 /usr/bin/python3 "$srcdir/tests/clients/test_pylibmc.py"
