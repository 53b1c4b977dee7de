#!/bin/sh
# Runs the status page's browser test (test_status_page.py) with the system interpreter. make check
# sets CAIRN_BIN and CAIRN_SRCDIR; exit 77 (skip) without python3 or chromium (Debian's chromium,
# or the browser $CHROMIUM names). Bounded: the script gives up after 150 s, timeout kills at 200 s.
srcdir=${CAIRN_SRCDIR:-$(dirname "$0")/../..}
if [ ! -x /usr/bin/python3 ]; then
	echo "python3 is not installed: skipped"
	exit 77
fi
if [ -z "${CHROMIUM:-}" ] && ! command -v chromium >/dev/null 2>&1 && ! command -v chromium-browser >/dev/null 2>&1; then
	echo "chromium is not installed: skipped"
	exit 77
fi
exec timeout -k 10 200 /usr/bin/python3 "$srcdir/tests/integration/test_status_page.py" "$@"
