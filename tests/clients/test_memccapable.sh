#!/bin/sh
# libmemcached's protocol conformance tool, memccapable (Debian libmemcached-tools), against a server
# started by tests/clients/server.sh: every binary-protocol test (-b) and every text-protocol test
# (-a). cairn ($CAIRN_BIN) by default, /usr/bin/memcached with CAIRN_TEST_TARGET=memcached. Each
# [pass] line counts as passed, any other result line as failed; prints "N passed, N failed".
# Exit 77 (skip) when memccapable is missing.
srcdir=${CAIRN_SRCDIR:-$(dirname "$0")/../..}
if ! command -v memccapable >/dev/null 2>&1; then
	echo "memccapable is not installed (libmemcached-tools): skipped"
	exit 77
fi

# Runs memccapable against $CAIRN_CLIENT_PORT with one protocol flag and prints its summary.
if [ "${1:-}" = --client ]; then
	out=$(timeout 120 memccapable -h 127.0.0.1 -p "$CAIRN_CLIENT_PORT" "$2" 2>&1)
	rc=$?
	passed=$(printf '%s\n' "$out" | grep -c '\[pass\]$')
	failed=$(printf '%s\n' "$out" | grep -E '\[[a-z]+\]$' | grep -vc '\[pass\]$')
	printf '%s\n' "$out" | grep -E '\[[a-z]+\]$' | grep -v '\[pass\]$' | sed 's/^/FAIL memccapable: /'
	if [ "$rc" -ne 0 ] && [ "$failed" -eq 0 ]; then
		echo "FAIL memccapable $2 exited with status $rc"
		failed=1
	fi
	echo "$passed passed, $failed failed"
	exit 0
fi

. "$srcdir/tests/clients/server.sh"
status=0
for flag in -b -a; do
	run_client "memccapable $flag" "$0" --client "$flag" || status=1
done
exit $status
