#!/bin/sh
# Runs the Dalli client test (Ruby, binary protocol only: test_dalli.rb) against a server this script
# starts (tests/clients/server.sh): cairn ($CAIRN_BIN), or /usr/bin/memcached with
# CAIRN_TEST_TARGET=memcached. Exit 77 (skip) when ruby or Dalli (ruby-dalli) is missing.
srcdir=${CAIRN_SRCDIR:-$(dirname "$0")/../..}
if ! command -v ruby >/dev/null 2>&1 || ! ruby -e 'require "dalli"' 2>/dev/null; then
	echo "ruby with Dalli is not installed (ruby, ruby-dalli): skipped"
	exit 77
fi
. "$srcdir/tests/clients/server.sh"
run_client dalli timeout 300 ruby "$srcdir/tests/clients/test_dalli.rb"
