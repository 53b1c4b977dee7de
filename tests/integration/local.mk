# tests/integration: Criterion programs that start the real server binary on a loopback port and
# talk to it over TCP. CAIRN_TEST_TARGET=memcached runs them against /usr/bin/memcached instead.
INTEG_CFLAGS = $(AM_CFLAGS) $(CRITERION_CFLAGS)
INTEG_LIBS = $(CRITERION_LIBS)
INTEG_HARNESS = tests/integration/harness.c tests/integration/harness.h

INTEGRATION_TESTS = \
	tests/integration/test_commands \
	tests/integration/test_pipeline \
	tests/integration/test_badinput \
	tests/integration/test_concurrency \
	tests/integration/test_eviction \
	tests/integration/test_memory \
	tests/integration/test_limits \
	tests/integration/test_daemon \
	tests/integration/test_differential \
	tests/integration/test_snapshot \
	tests/integration/test_meta \
	tests/integration/test_uring \
	tests/integration/test_hostile \
	tests/integration/test_resp \
	tests/integration/test_auth_resp \
	tests/integration/test_cluster \
	tests/integration/test_cmdline \
	tests/integration/test_binary \
	tests/integration/test_auth_binary \
	tests/integration/test_dumps \
	tests/integration/test_metrics \
	tests/integration/test_auth_text \
	tests/integration/test_status \
	tests/integration/test_slowlog

check_PROGRAMS += $(INTEGRATION_TESTS)
TESTS += $(INTEGRATION_TESTS)

tests_integration_test_auth_binary_SOURCES = tests/integration/test_auth_binary.c $(INTEG_HARNESS)
tests_integration_test_auth_binary_CFLAGS = $(INTEG_CFLAGS)
tests_integration_test_auth_binary_LDADD = $(INTEG_LIBS)
tests_integration_test_commands_SOURCES = tests/integration/test_commands.c $(INTEG_HARNESS)
tests_integration_test_commands_CFLAGS = $(INTEG_CFLAGS)
tests_integration_test_commands_LDADD = $(INTEG_LIBS)
tests_integration_test_pipeline_SOURCES = tests/integration/test_pipeline.c $(INTEG_HARNESS)
tests_integration_test_pipeline_CFLAGS = $(INTEG_CFLAGS)
tests_integration_test_pipeline_LDADD = $(INTEG_LIBS)
tests_integration_test_memory_SOURCES = tests/integration/test_memory.c $(INTEG_HARNESS)
tests_integration_test_memory_CFLAGS = $(INTEG_CFLAGS)
tests_integration_test_memory_LDADD = $(INTEG_LIBS)
tests_integration_test_badinput_SOURCES = tests/integration/test_badinput.c $(INTEG_HARNESS)
tests_integration_test_badinput_CFLAGS = $(INTEG_CFLAGS)
tests_integration_test_badinput_LDADD = $(INTEG_LIBS)
tests_integration_test_concurrency_SOURCES = tests/integration/test_concurrency.c $(INTEG_HARNESS)
tests_integration_test_concurrency_CFLAGS = $(INTEG_CFLAGS)
tests_integration_test_concurrency_LDADD = $(INTEG_LIBS)
tests_integration_test_eviction_SOURCES = tests/integration/test_eviction.c $(INTEG_HARNESS)
tests_integration_test_eviction_CFLAGS = $(INTEG_CFLAGS)
tests_integration_test_eviction_LDADD = $(INTEG_LIBS)
tests_integration_test_limits_SOURCES = tests/integration/test_limits.c $(INTEG_HARNESS)
tests_integration_test_limits_CFLAGS = $(INTEG_CFLAGS)
tests_integration_test_limits_LDADD = $(INTEG_LIBS)
tests_integration_test_cmdline_SOURCES = tests/integration/test_cmdline.c $(INTEG_HARNESS)
tests_integration_test_cmdline_CFLAGS = $(INTEG_CFLAGS)
tests_integration_test_cmdline_LDADD = $(INTEG_LIBS)
tests_integration_test_daemon_SOURCES = tests/integration/test_daemon.c $(INTEG_HARNESS)
tests_integration_test_daemon_CFLAGS = $(INTEG_CFLAGS)
tests_integration_test_daemon_LDADD = $(INTEG_LIBS)
tests_integration_test_differential_SOURCES = tests/integration/test_differential.c $(INTEG_HARNESS)
tests_integration_test_differential_CFLAGS = $(INTEG_CFLAGS)
tests_integration_test_differential_LDADD = $(INTEG_LIBS)
tests_integration_test_snapshot_SOURCES = tests/integration/test_snapshot.c $(INTEG_HARNESS)
tests_integration_test_snapshot_CFLAGS = $(INTEG_CFLAGS)
tests_integration_test_snapshot_LDADD = $(INTEG_LIBS)
tests_integration_test_meta_SOURCES = tests/integration/test_meta.c $(INTEG_HARNESS)
tests_integration_test_meta_CFLAGS = $(INTEG_CFLAGS)
tests_integration_test_meta_LDADD = $(INTEG_LIBS)
tests_integration_test_uring_SOURCES = tests/integration/test_uring.c $(INTEG_HARNESS)
tests_integration_test_uring_CFLAGS = $(INTEG_CFLAGS)
tests_integration_test_uring_LDADD = $(INTEG_LIBS)
tests_integration_test_hostile_SOURCES = tests/integration/test_hostile.c $(INTEG_HARNESS)
tests_integration_test_hostile_CFLAGS = $(INTEG_CFLAGS)
tests_integration_test_hostile_LDADD = $(INTEG_LIBS)
tests_integration_test_auth_resp_SOURCES = tests/integration/test_auth_resp.c $(INTEG_HARNESS)
tests_integration_test_auth_resp_CFLAGS = $(INTEG_CFLAGS)
tests_integration_test_auth_resp_LDADD = $(INTEG_LIBS)

tests_integration_test_cluster_SOURCES = tests/integration/test_cluster.c $(INTEG_HARNESS)
tests_integration_test_cluster_CFLAGS = $(INTEG_CFLAGS)
tests_integration_test_cluster_LDADD = $(INTEG_LIBS)
tests_integration_test_resp_SOURCES = tests/integration/test_resp.c $(INTEG_HARNESS)
tests_integration_test_resp_CFLAGS = $(INTEG_CFLAGS)
tests_integration_test_resp_LDADD = $(INTEG_LIBS) -lpthread
tests_integration_test_binary_SOURCES = tests/integration/test_binary.c $(INTEG_HARNESS)
tests_integration_test_binary_CFLAGS = $(INTEG_CFLAGS)
tests_integration_test_binary_LDADD = $(INTEG_LIBS)

tests_integration_test_dumps_SOURCES = tests/integration/test_dumps.c $(INTEG_HARNESS)
tests_integration_test_dumps_CFLAGS = $(INTEG_CFLAGS)
tests_integration_test_dumps_LDADD = $(INTEG_LIBS) -lpthread

tests_integration_test_metrics_SOURCES = tests/integration/test_metrics.c $(INTEG_HARNESS)
tests_integration_test_metrics_CFLAGS = $(INTEG_CFLAGS)
tests_integration_test_metrics_LDADD = $(INTEG_LIBS)
tests_integration_test_auth_text_SOURCES = tests/integration/test_auth_text.c $(INTEG_HARNESS)
tests_integration_test_auth_text_CFLAGS = $(INTEG_CFLAGS)
tests_integration_test_auth_text_LDADD = $(INTEG_LIBS)

tests_integration_test_status_SOURCES = tests/integration/test_status.c $(INTEG_HARNESS)
tests_integration_test_status_CFLAGS = $(INTEG_CFLAGS)
tests_integration_test_status_LDADD = $(INTEG_LIBS)

# The status page in a real browser (headless Chromium driven over its DevTools protocol by a Python
# script with the standard library only); skips (exit 77) when chromium is not installed.
TESTS += tests/integration/test_status_page.sh
EXTRA_DIST += tests/integration/test_status_page.sh tests/integration/test_status_page.py

tests_integration_test_slowlog_SOURCES = tests/integration/test_slowlog.c $(INTEG_HARNESS)
tests_integration_test_slowlog_CFLAGS = $(INTEG_CFLAGS)
tests_integration_test_slowlog_LDADD = $(INTEG_LIBS)
