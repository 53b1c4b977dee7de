# tests/unit/server: the server's modules that run without sockets or threads (option parsing, the
# table of figures).
SERVER_UNIT_TESTS = \
	tests/unit/server/test_settings \
	tests/unit/server/test_metrics
check_PROGRAMS += $(SERVER_UNIT_TESTS)
TESTS += $(SERVER_UNIT_TESTS)

tests_unit_server_test_settings_SOURCES = tests/unit/server/test_settings.c \
	server/settings.c server/settings_extended.c server/settings_file.c
tests_unit_server_test_settings_CFLAGS = $(AM_CFLAGS) $(CRITERION_CFLAGS)
tests_unit_server_test_settings_LDADD = $(CRITERION_LIBS)

# The table alone, with the RESP session that renders INFO from it.
tests_unit_server_test_metrics_SOURCES = tests/unit/server/test_metrics.c server/metrics_defs.c
tests_unit_server_test_metrics_CFLAGS = $(AM_CFLAGS) $(CRITERION_CFLAGS) $(XXHASH_CFLAGS)
tests_unit_server_test_metrics_LDADD = libcairn_protocol.a libcairn_storage.a $(CRITERION_LIBS) $(XXHASH_LIBS) \
	$(JEMALLOC_LIBS)
