# protocol: sources and tests
noinst_LIBRARIES += libcairn_protocol.a
libcairn_protocol_a_SOURCES = \
	protocol/proto.h \
	protocol/resp/resp_parse.h protocol/resp/resp_parse.c \
	protocol/response.h protocol/response.c \
	protocol/memcache.h protocol/memcache.c \
	protocol/mc_parse.h protocol/mc_parse.c \
	protocol/mc_admin.h protocol/mc_admin.c \
	protocol/mc_meta.h protocol/mc_meta.c \
	protocol/mc_internal.h
libcairn_protocol_a_CFLAGS = $(AM_CFLAGS)
