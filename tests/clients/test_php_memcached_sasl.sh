#!/bin/sh
# Runs the php-memcached SASL test (binary protocol, test_php_memcached_sasl.php) against cairn
# started with -Y (tests/clients/server.sh). Exit 77 (skip) when php-cli or its memcached extension
# is missing or was built without SASL, and with CAIRN_TEST_TARGET=memcached (memcached's SASL needs
# a Cyrus SASL database, not -Y).
srcdir=${CAIRN_SRCDIR:-$(dirname "$0")/../..}
if [ "${CAIRN_TEST_TARGET:-}" = memcached ]; then
	echo "SASL with -Y is cairn's (memcached's SASL build reads Cyrus SASL's database): skipped"
	exit 77
fi
if ! command -v php >/dev/null 2>&1 || ! php -r 'exit(class_exists("Memcached") ? 0 : 1);' 2>/dev/null; then
	echo "php-cli with the memcached extension is not installed (php-cli, php-memcached): skipped"
	exit 77
fi
if ! php -r 'exit(Memcached::HAVE_SASL ? 0 : 1);' 2>/dev/null; then
	echo "php-memcached was built without SASL support: skipped"
	exit 77
fi
. "$srcdir/tests/clients/server.sh"
printf 'alice:secret\nbob:pw:app\n' >"$tmp/users"
chmod 600 "$tmp/users"
server_extra="-Y $tmp/users"
run_client php-memcached-sasl timeout 300 php -d memcached.use_sasl=1 "$srcdir/tests/clients/test_php_memcached_sasl.php"
