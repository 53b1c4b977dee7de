# protocol: sources and tests
noinst_LIBRARIES += libcairn_protocol.a
libcairn_protocol_a_SOURCES = \
	protocol/proto.h \
	protocol/auth.h protocol/auth.c \
	protocol/timing.h protocol/timing.c \
	protocol/slowlog.h protocol/slowlog.c \
	protocol/outq.h protocol/outq.c \
	protocol/resp/resp_parse.h protocol/resp/resp_parse.c \
	protocol/resp/resp.h protocol/resp/resp.c protocol/resp/resp_internal.h \
	protocol/resp/resp_commands.c protocol/resp/resp_db.h protocol/resp/resp_db.c \
	protocol/resp/resp_strings.c protocol/resp/resp_conn.c protocol/resp/resp_keys.c \
	protocol/resp/resp_server.h protocol/resp/resp_server.c protocol/resp/resp_command.c \
	protocol/resp/resp_reply.h protocol/resp/resp_reply.c \
	protocol/resp/resp_util.h protocol/resp/resp_util.c \
	protocol/resp/resp_cluster.h protocol/resp/resp_cluster.c protocol/resp/resp_cluster_cmd.c \
	protocol/resp/resp_slowlog.c protocol/resp/resp_errstats.h protocol/resp/resp_errstats.c \
	protocol/resp/resp_bits.c protocol/resp/resp_bitops.h protocol/resp/resp_bitops.c \
	protocol/resp/resp_lcs.h protocol/resp/resp_lcs.c \
	protocol/resp/resp_rdb.h protocol/resp/resp_rdb.c protocol/resp/resp_dump.c \
	protocol/mc/memcache.h protocol/mc/memcache.c \
	protocol/mc/mc_parse.h protocol/mc/mc_parse.c \
	protocol/mc/mc_admin.h protocol/mc/mc_admin.c \
	protocol/mc/mc_dump.h protocol/mc/mc_dump.c \
	protocol/mc/mc_slowlog.h protocol/mc/mc_slowlog.c \
	protocol/mc/mc_meta.h protocol/mc/mc_meta.c \
	protocol/mc/mc_arith.h protocol/mc/mc_arith.c \
	protocol/mc/mc_internal.h \
	protocol/mcbin/mcbin.h protocol/mcbin/mcbin.c \
	protocol/mcbin/mcbin_parse.h protocol/mcbin/mcbin_parse.c
libcairn_protocol_a_CFLAGS = $(AM_CFLAGS)
