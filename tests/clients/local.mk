# tests/clients: real client libraries against the server: libmemcached's C API (Criterion, built
# when configure found libmemcached) and pymemcache (Python, run through a shell wrapper).
if HAVE_LIBMEMCACHED
check_PROGRAMS += tests/clients/test_libmemcached
TESTS += tests/clients/test_libmemcached
tests_clients_test_libmemcached_SOURCES = tests/clients/test_libmemcached.c \
	tests/integration/harness.c tests/integration/harness.h
tests_clients_test_libmemcached_CFLAGS = $(AM_CFLAGS) $(CRITERION_CFLAGS) $(LIBMEMCACHED_CFLAGS)
tests_clients_test_libmemcached_LDADD = $(CRITERION_LIBS) $(LIBMEMCACHED_LIBS)
endif

TESTS += tests/clients/test_pymemcache.sh
EXTRA_DIST += tests/clients/test_pymemcache.sh tests/clients/test_pymemcache.py
