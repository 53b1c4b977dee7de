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
	server/metrics.c \
	server/metrics.h \
	server/http.c \
	server/snapshot_ctl.c \
	server/snapshot_ctl.h \
	server/uring.c \
	server/uring.h
cairn_CFLAGS = $(AM_CFLAGS) $(LIBEVENT_CFLAGS) $(XXHASH_CFLAGS) $(JEMALLOC_CFLAGS)
cairn_LDADD = libcairn_protocol.a libcairn_storage.a $(LIBEVENT_LIBS) $(XXHASH_LIBS) $(JEMALLOC_LIBS)

# Installed with the binary: the man page, a systemd unit and a commented configuration (kept when one
# is already there). Both .in files get the install paths.
man1_MANS = doc/cairn.1
systemdunit_DATA = server/cairn.service
EXTRA_DIST += doc/cairn.1.in server/cairn.service.in server/cairn.conf
CLEANFILES += doc/cairn.1 server/cairn.service

edit_paths = sed -e 's|@bindir[@]|$(bindir)|g' -e 's|@sysconfdir[@]|$(sysconfdir)|g' \
	-e 's|@systemdunitdir[@]|$(systemdunitdir)|g' -e 's|@VERSION[@]|$(PACKAGE_VERSION)|g'

doc/cairn.1: $(srcdir)/doc/cairn.1.in Makefile
	$(MKDIR_P) doc
	$(edit_paths) $(srcdir)/doc/cairn.1.in > $@

server/cairn.service: $(srcdir)/server/cairn.service.in Makefile
	$(MKDIR_P) server
	$(edit_paths) $(srcdir)/server/cairn.service.in > $@

install-data-local:
	$(MKDIR_P) '$(DESTDIR)$(sysconfdir)/cairn'
	test -e '$(DESTDIR)$(sysconfdir)/cairn/cairn.conf' || \
		$(INSTALL_DATA) '$(srcdir)/server/cairn.conf' '$(DESTDIR)$(sysconfdir)/cairn/cairn.conf'

uninstall-local:
	if cmp -s '$(srcdir)/server/cairn.conf' '$(DESTDIR)$(sysconfdir)/cairn/cairn.conf'; then \
		rm -f '$(DESTDIR)$(sysconfdir)/cairn/cairn.conf'; fi
	-rmdir '$(DESTDIR)$(sysconfdir)/cairn' 2>/dev/null
