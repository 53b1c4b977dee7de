# server: the cairn binary (options, daemon life, listener and worker threads, connections, stats).
bin_PROGRAMS += cairn
cairn_SOURCES = \
	server/main.c \
	server/settings.c \
	server/settings.h \
	server/settings_internal.h \
	server/settings_extended.c \
	server/settings_file.c \
	server/server.c \
	server/server_internal.h \
	server/daemon.c \
	server/listen.c \
	server/worker.c \
	server/conn.c \
	server/stats.c \
	server/snapshot_ctl.c \
	server/snapshot_ctl.h \
	server/uring.c \
	server/uring.h
cairn_CFLAGS = $(AM_CFLAGS) $(LIBEVENT_CFLAGS) $(XXHASH_CFLAGS) $(JEMALLOC_CFLAGS)
cairn_LDADD = libcairn_protocol.a libcairn_storage.a $(LIBEVENT_LIBS) $(XXHASH_LIBS) $(JEMALLOC_LIBS)
