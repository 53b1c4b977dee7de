# tests/unit/server: the server's modules that run without sockets or threads (option parsing).
SERVER_UNIT_TESTS = \
	tests/unit/server/test_settings
check_PROGRAMS += $(SERVER_UNIT_TESTS)
TESTS += $(SERVER_UNIT_TESTS)

tests_unit_server_test_settings_SOURCES = tests/unit/server/test_settings.c \
	server/settings.c server/settings_extended.c server/settings_file.c
tests_unit_server_test_settings_CFLAGS = $(AM_CFLAGS) $(CRITERION_CFLAGS)
tests_unit_server_test_settings_LDADD = $(CRITERION_LIBS)
