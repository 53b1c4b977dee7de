#!/bin/sh
# Runs the text-authentication client test (pymemcache, and memccp when installed) with the system
# interpreter. make check sets CAIRN_BIN and CAIRN_SRCDIR; exit 77 (skip) without pymemcache.
srcdir=${CAIRN_SRCDIR:-$(dirname "$0")/../..}
if ! /usr/bin/python3 -c 'import pymemcache' 2>/dev/null; then
	echo "pymemcache is not installed for /usr/bin/python3: skipped"
	exit 77
fi
exec timeout 120 /usr/bin/python3 "$srcdir/tests/clients/test_pymemcache_auth.py"
