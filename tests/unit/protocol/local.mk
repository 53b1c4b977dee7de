# tests/unit/protocol: one Criterion program per protocol module
PROTOCOL_TEST_LDADD = libcairn_protocol.a libcairn_storage.a $(CRITERION_LIBS) $(XXHASH_LIBS) $(JEMALLOC_LIBS)
PROTOCOL_TEST_CFLAGS = $(AM_CFLAGS) $(CRITERION_CFLAGS) $(XXHASH_CFLAGS)

PROTOCOL_UNIT_TESTS = \
	tests/unit/protocol/test_parse \
	tests/unit/protocol/test_resp_parse \
	tests/unit/protocol/test_resp_reply \
	tests/unit/protocol/test_resp_util \
	tests/unit/protocol/test_resp_server \
	tests/unit/protocol/test_resp_commands \
	tests/unit/protocol/test_outq \
	tests/unit/protocol/test_session \
	tests/unit/protocol/test_admin \
	tests/unit/protocol/test_dump \
	tests/unit/protocol/test_meta_parse \
	tests/unit/protocol/test_arith \
	tests/unit/protocol/test_mcbin_parse \
	tests/unit/protocol/test_mcbin_session \
	tests/unit/protocol/test_mcbin_sasl \
	tests/unit/protocol/test_auth \
	tests/unit/protocol/test_resp_auth \
	tests/unit/protocol/test_resp_cluster \
	tests/unit/protocol/test_mc_auth \
	tests/unit/protocol/test_timing \
	tests/unit/protocol/test_slowlog \
	tests/unit/protocol/test_resp_slowlog \
	tests/unit/protocol/test_resp_errstats \
	tests/unit/protocol/test_resp_bitops \
	tests/unit/protocol/test_resp_lcs \
	tests/unit/protocol/test_resp_bits \
	tests/unit/protocol/test_resp_rdb \
	tests/unit/protocol/test_mc_slowlog
check_PROGRAMS += $(PROTOCOL_UNIT_TESTS)
TESTS += $(PROTOCOL_UNIT_TESTS)
EXTRA_DIST += tests/unit/protocol/protocol_test.h tests/unit/protocol/resp_test.h

tests_unit_protocol_test_parse_SOURCES = tests/unit/protocol/test_parse.c
tests_unit_protocol_test_parse_CFLAGS = $(PROTOCOL_TEST_CFLAGS)
tests_unit_protocol_test_parse_LDADD = $(PROTOCOL_TEST_LDADD)

tests_unit_protocol_test_outq_SOURCES = tests/unit/protocol/test_outq.c
tests_unit_protocol_test_outq_CFLAGS = $(PROTOCOL_TEST_CFLAGS)
tests_unit_protocol_test_outq_LDADD = $(PROTOCOL_TEST_LDADD)

tests_unit_protocol_test_session_SOURCES = tests/unit/protocol/test_session.c
tests_unit_protocol_test_session_CFLAGS = $(PROTOCOL_TEST_CFLAGS)
tests_unit_protocol_test_session_LDADD = $(PROTOCOL_TEST_LDADD)

tests_unit_protocol_test_admin_SOURCES = tests/unit/protocol/test_admin.c
tests_unit_protocol_test_admin_CFLAGS = $(PROTOCOL_TEST_CFLAGS)
tests_unit_protocol_test_admin_LDADD = $(PROTOCOL_TEST_LDADD)

tests_unit_protocol_test_meta_parse_SOURCES = tests/unit/protocol/test_meta_parse.c
tests_unit_protocol_test_meta_parse_CFLAGS = $(PROTOCOL_TEST_CFLAGS)
tests_unit_protocol_test_meta_parse_LDADD = $(PROTOCOL_TEST_LDADD)

tests_unit_protocol_test_resp_parse_SOURCES = tests/unit/protocol/test_resp_parse.c
tests_unit_protocol_test_resp_parse_CFLAGS = $(PROTOCOL_TEST_CFLAGS)
tests_unit_protocol_test_resp_parse_LDADD = $(PROTOCOL_TEST_LDADD)

tests_unit_protocol_test_resp_reply_SOURCES = tests/unit/protocol/test_resp_reply.c
tests_unit_protocol_test_resp_reply_CFLAGS = $(PROTOCOL_TEST_CFLAGS)
tests_unit_protocol_test_resp_reply_LDADD = $(PROTOCOL_TEST_LDADD)

tests_unit_protocol_test_resp_util_SOURCES = tests/unit/protocol/test_resp_util.c
tests_unit_protocol_test_resp_util_CFLAGS = $(PROTOCOL_TEST_CFLAGS)
tests_unit_protocol_test_resp_util_LDADD = $(PROTOCOL_TEST_LDADD)

tests_unit_protocol_test_resp_server_SOURCES = tests/unit/protocol/test_resp_server.c
tests_unit_protocol_test_resp_server_CFLAGS = $(PROTOCOL_TEST_CFLAGS)
tests_unit_protocol_test_resp_server_LDADD = $(PROTOCOL_TEST_LDADD)

tests_unit_protocol_test_resp_commands_SOURCES = tests/unit/protocol/test_resp_commands.c
tests_unit_protocol_test_resp_commands_CFLAGS = $(PROTOCOL_TEST_CFLAGS)
tests_unit_protocol_test_resp_commands_LDADD = $(PROTOCOL_TEST_LDADD)

tests_unit_protocol_test_arith_SOURCES = tests/unit/protocol/test_arith.c
tests_unit_protocol_test_arith_CFLAGS = $(PROTOCOL_TEST_CFLAGS)
tests_unit_protocol_test_arith_LDADD = $(PROTOCOL_TEST_LDADD)

tests_unit_protocol_test_mcbin_parse_SOURCES = tests/unit/protocol/test_mcbin_parse.c
tests_unit_protocol_test_mcbin_parse_CFLAGS = $(PROTOCOL_TEST_CFLAGS)
tests_unit_protocol_test_mcbin_parse_LDADD = $(PROTOCOL_TEST_LDADD)

tests_unit_protocol_test_mcbin_sasl_SOURCES = tests/unit/protocol/test_mcbin_sasl.c
tests_unit_protocol_test_mcbin_sasl_CFLAGS = $(PROTOCOL_TEST_CFLAGS)
tests_unit_protocol_test_mcbin_sasl_LDADD = $(PROTOCOL_TEST_LDADD)

tests_unit_protocol_test_mcbin_session_SOURCES = tests/unit/protocol/test_mcbin_session.c
tests_unit_protocol_test_mcbin_session_CFLAGS = $(PROTOCOL_TEST_CFLAGS)
tests_unit_protocol_test_mcbin_session_LDADD = $(PROTOCOL_TEST_LDADD)

tests_unit_protocol_test_dump_SOURCES = tests/unit/protocol/test_dump.c
tests_unit_protocol_test_dump_CFLAGS = $(PROTOCOL_TEST_CFLAGS)
tests_unit_protocol_test_dump_LDADD = $(PROTOCOL_TEST_LDADD)

tests_unit_protocol_test_auth_SOURCES = tests/unit/protocol/test_auth.c
tests_unit_protocol_test_auth_CFLAGS = $(PROTOCOL_TEST_CFLAGS)
tests_unit_protocol_test_auth_LDADD = $(PROTOCOL_TEST_LDADD)

tests_unit_protocol_test_resp_auth_SOURCES = tests/unit/protocol/test_resp_auth.c
tests_unit_protocol_test_resp_auth_CFLAGS = $(PROTOCOL_TEST_CFLAGS)
tests_unit_protocol_test_resp_auth_LDADD = $(PROTOCOL_TEST_LDADD)

tests_unit_protocol_test_resp_cluster_SOURCES = tests/unit/protocol/test_resp_cluster.c
tests_unit_protocol_test_resp_cluster_CFLAGS = $(PROTOCOL_TEST_CFLAGS)
tests_unit_protocol_test_resp_cluster_LDADD = $(PROTOCOL_TEST_LDADD)

tests_unit_protocol_test_mc_auth_SOURCES = tests/unit/protocol/test_mc_auth.c
tests_unit_protocol_test_mc_auth_CFLAGS = $(PROTOCOL_TEST_CFLAGS)
tests_unit_protocol_test_mc_auth_LDADD = $(PROTOCOL_TEST_LDADD)

tests_unit_protocol_test_slowlog_SOURCES = tests/unit/protocol/test_slowlog.c
tests_unit_protocol_test_slowlog_CFLAGS = $(PROTOCOL_TEST_CFLAGS)
tests_unit_protocol_test_slowlog_LDADD = $(PROTOCOL_TEST_LDADD)

tests_unit_protocol_test_resp_slowlog_SOURCES = tests/unit/protocol/test_resp_slowlog.c
tests_unit_protocol_test_resp_slowlog_CFLAGS = $(PROTOCOL_TEST_CFLAGS)
tests_unit_protocol_test_resp_slowlog_LDADD = $(PROTOCOL_TEST_LDADD)

tests_unit_protocol_test_resp_errstats_SOURCES = tests/unit/protocol/test_resp_errstats.c
tests_unit_protocol_test_resp_errstats_CFLAGS = $(PROTOCOL_TEST_CFLAGS)
tests_unit_protocol_test_resp_errstats_LDADD = $(PROTOCOL_TEST_LDADD)

tests_unit_protocol_test_mc_slowlog_SOURCES = tests/unit/protocol/test_mc_slowlog.c
tests_unit_protocol_test_mc_slowlog_CFLAGS = $(PROTOCOL_TEST_CFLAGS)
tests_unit_protocol_test_mc_slowlog_LDADD = $(PROTOCOL_TEST_LDADD)

tests_unit_protocol_test_timing_SOURCES = tests/unit/protocol/test_timing.c
tests_unit_protocol_test_timing_CFLAGS = $(PROTOCOL_TEST_CFLAGS)
tests_unit_protocol_test_timing_LDADD = $(PROTOCOL_TEST_LDADD)
tests_unit_protocol_test_resp_bitops_SOURCES = tests/unit/protocol/test_resp_bitops.c
tests_unit_protocol_test_resp_bitops_CFLAGS = $(PROTOCOL_TEST_CFLAGS)
tests_unit_protocol_test_resp_bitops_LDADD = $(PROTOCOL_TEST_LDADD)
tests_unit_protocol_test_resp_lcs_SOURCES = tests/unit/protocol/test_resp_lcs.c
tests_unit_protocol_test_resp_lcs_CFLAGS = $(PROTOCOL_TEST_CFLAGS)
tests_unit_protocol_test_resp_lcs_LDADD = $(PROTOCOL_TEST_LDADD)
tests_unit_protocol_test_resp_bits_SOURCES = tests/unit/protocol/test_resp_bits.c
tests_unit_protocol_test_resp_bits_CFLAGS = $(PROTOCOL_TEST_CFLAGS)
tests_unit_protocol_test_resp_bits_LDADD = $(PROTOCOL_TEST_LDADD)
tests_unit_protocol_test_resp_rdb_SOURCES = tests/unit/protocol/test_resp_rdb.c
tests_unit_protocol_test_resp_rdb_CFLAGS = $(PROTOCOL_TEST_CFLAGS)
tests_unit_protocol_test_resp_rdb_LDADD = $(PROTOCOL_TEST_LDADD)
