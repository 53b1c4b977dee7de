#!/bin/sh
# Runs the side-by-side RESP corpus (tests/resp/corpus.py) in make check: every case's bytes go to
# cairn ($CAIRN_BIN) and to Debian's redis-server, and the replies must match byte for byte (except
# the cases listed in tests/resp/known_differences.txt). Exit 77 (skip) without redis-server.
srcdir=${CAIRN_SRCDIR:-$(dirname "$0")/../..}
if ! command -v redis-server >/dev/null 2>&1; then
	echo "redis-server is not installed: skipped"
	exit 77
fi
if [ -n "$CAIRN_TEST_TARGET" ] && [ "$CAIRN_TEST_TARGET" != cairn ]; then
	echo "RESP is cairn's: skipped for $CAIRN_TEST_TARGET"
	exit 77
fi
exec timeout 600 /usr/bin/python3 "$srcdir/tests/resp/corpus.py" --cairn "${CAIRN_BIN:-./cairn}"
