# tests/clients: real client libraries against the server: libmemcached's C API (Criterion, built
# when configure found libmemcached), pymemcache (Python, run through a shell wrapper) and, over the
# binary protocol, pylibmc, php-memcached and Dalli (below); for the
# RESP side, hiredis (Criterion, built when configure found hiredis), redis-py (Python, through a
# shell wrapper) and redis-cli (shell), and both with authentication (test_redis_auth); memcdump and memcached-tool, the dump tools (shell). Each skips (exit 77) when its client is not installed.
if HAVE_LIBMEMCACHED
check_PROGRAMS += tests/clients/test_libmemcached
TESTS += tests/clients/test_libmemcached
tests_clients_test_libmemcached_SOURCES = tests/clients/test_libmemcached.c \
	tests/integration/harness.c tests/integration/harness.h
tests_clients_test_libmemcached_CFLAGS = $(AM_CFLAGS) $(CRITERION_CFLAGS) $(LIBMEMCACHED_CFLAGS)
tests_clients_test_libmemcached_LDADD = $(CRITERION_LIBS) $(LIBMEMCACHED_LIBS)
endif

if HAVE_HIREDIS
check_PROGRAMS += tests/clients/test_hiredis
TESTS += tests/clients/test_hiredis
tests_clients_test_hiredis_SOURCES = tests/clients/test_hiredis.c \
	tests/integration/harness.c tests/integration/harness.h
tests_clients_test_hiredis_CFLAGS = $(AM_CFLAGS) $(CRITERION_CFLAGS) $(HIREDIS_CFLAGS)
tests_clients_test_hiredis_LDADD = $(CRITERION_LIBS) $(HIREDIS_LIBS)
endif

TESTS += tests/clients/test_pymemcache.sh tests/clients/test_redis_py.sh tests/clients/test_redis_cli.sh \
	tests/clients/test_node_redis.sh tests/clients/test_dump_tools.sh tests/clients/test_redis_auth.sh
EXTRA_DIST += tests/clients/test_pymemcache.sh tests/clients/test_pymemcache.py \
	tests/clients/test_redis_py.sh tests/clients/test_redis_py.py tests/clients/test_redis_cli.sh \
	tests/clients/test_node_redis.sh tests/clients/test_node_redis.mjs tests/clients/test_dump_tools.sh \
	tests/clients/test_redis_auth.sh tests/clients/test_redis_auth.py tests/clients/test_node_redis_auth.mjs

# The binary protocol through real clients: pylibmc (binary=True), php-memcached
# (OPT_BINARY_PROTOCOL) and Dalli 3.0 (binary only). The PHP and Ruby wrappers start the server with
# server.sh. Each skips (exit 77) when its client is not installed.
TESTS += tests/clients/test_pylibmc.sh tests/clients/test_php_memcached.sh tests/clients/test_dalli.sh \
	tests/clients/test_memccapable.sh
# The same two with SASL PLAIN against -Y (skipped when their libmemcached lacks SASL).
TESTS += tests/clients/test_pylibmc_sasl.sh tests/clients/test_php_memcached_sasl.sh
EXTRA_DIST += tests/clients/test_pylibmc_sasl.sh tests/clients/test_pylibmc_sasl.py \
	tests/clients/test_php_memcached_sasl.sh tests/clients/test_php_memcached_sasl.php
EXTRA_DIST += tests/clients/test_pylibmc.sh tests/clients/test_pylibmc.py \
	tests/clients/test_php_memcached.sh tests/clients/test_php_memcached.php \
	tests/clients/test_dalli.sh tests/clients/test_dalli.rb tests/clients/server.sh \
	tests/clients/test_memccapable.sh

# Text-protocol authentication (-Y) through pymemcache (the auth `set` sent with its own set()) and
# libmemcached's memccp (a first file holding "user password"); skips (exit 77) without pymemcache.
TESTS += tests/clients/test_pymemcache_auth.sh
EXTRA_DIST += tests/clients/test_pymemcache_auth.sh tests/clients/test_pymemcache_auth.py
