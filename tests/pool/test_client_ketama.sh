#!/bin/sh
# Three cairn nodes spread by libmemcached's consistent hashing through pylibmc
# (test_client_ketama.py). make check sets CAIRN_BIN and CAIRN_SRCDIR. Exit 77 (skip) when pylibmc
# is not installed.
srcdir=${CAIRN_SRCDIR:-$(dirname "$0")/../..}
if ! /usr/bin/python3 -c 'import pylibmc' 2>/dev/null; then
	echo "pylibmc is not installed for /usr/bin/python3 (python3-pylibmc): skipped"
	exit 77
fi
exec timeout 300 /usr/bin/python3 "$srcdir/tests/pool/test_client_ketama.py"
