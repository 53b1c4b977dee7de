#!/bin/sh
# Runs the php-memcached client test (binary protocol, test_php_memcached.php) against a server this
# script starts (tests/clients/server.sh): cairn ($CAIRN_BIN), or /usr/bin/memcached with
# CAIRN_TEST_TARGET=memcached. Exit 77 (skip) when php-cli or its memcached extension is missing.
srcdir=${CAIRN_SRCDIR:-$(dirname "$0")/../..}
if ! command -v php >/dev/null 2>&1 || ! php -r 'exit(class_exists("Memcached") ? 0 : 1);' 2>/dev/null; then
	echo "php-cli with the memcached extension is not installed (php-cli, php-memcached): skipped"
	exit 77
fi
. "$srcdir/tests/clients/server.sh"
run_client php-memcached timeout 300 php "$srcdir/tests/clients/test_php_memcached.php"
