#!/bin/sh
# Three cairn nodes behind nutcracker (twemproxy) in memcache mode (test_twemproxy.py), with the
# system interpreter. make check sets CAIRN_BIN and CAIRN_SRCDIR. Exit 77 (skip) when nutcracker is
# not installed (Debian's nutcracker package; .ci/install-deps test installs it).
srcdir=${CAIRN_SRCDIR:-$(dirname "$0")/../..}
if ! command -v nutcracker >/dev/null 2>&1 && [ ! -x /usr/sbin/nutcracker ]; then
	echo "nutcracker (twemproxy) is not installed: skipped"
	exit 77
fi
exec timeout 300 /usr/bin/python3 "$srcdir/tests/pool/test_twemproxy.py" memcache
