#!/bin/sh
# Runs the pylibmc SASL test (binary protocol, -Y) with the system interpreter. make check sets
# CAIRN_BIN and CAIRN_SRCDIR. Exit 77 (skip) when pylibmc is not installed or its libmemcached was
# built without SASL, and with CAIRN_TEST_TARGET=memcached (memcached's SASL needs a Cyrus SASL
# database, not -Y).
srcdir=${CAIRN_SRCDIR:-$(dirname "$0")/../..}
if [ "${CAIRN_TEST_TARGET:-}" = memcached ]; then
	echo "SASL with -Y is cairn's (memcached's SASL build reads Cyrus SASL's database): skipped"
	exit 77
fi
if ! /usr/bin/python3 -c 'import pylibmc' 2>/dev/null; then
	echo "pylibmc is not installed for /usr/bin/python3 (python3-pylibmc): skipped"
	exit 77
fi
if ! /usr/bin/python3 -c 'import sys, _pylibmc; sys.exit(0 if _pylibmc.support_sasl else 1)' 2>/dev/null; then
	echo "pylibmc's libmemcached was built without SASL support: skipped"
	exit 77
fi
exec timeout 300 /usr/bin/python3 "$srcdir/tests/clients/test_pylibmc_sasl.py"
