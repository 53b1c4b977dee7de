#!/bin/sh
# Runs the pymemcache client test with the system interpreter (the one with python3-pymemcache).
# make check sets CAIRN_BIN and CAIRN_SRCDIR; exit 77 (skip) when pymemcache is not installed.
srcdir=${CAIRN_SRCDIR:-$(dirname "$0")/../..}
if ! /usr/bin/python3 -c 'import pymemcache' 2>/dev/null; then
	echo "pymemcache is not installed for /usr/bin/python3: skipped"
	exit 77
fi
exec timeout 120 /usr/bin/python3 "$srcdir/tests/clients/test_pymemcache.py"
