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
	server/latency.h server/latency.c \
	server/metrics.h \
	server/http.c \
	server/status.c \
	server/status.h \
	server/snapshot_ctl.c \
	server/snapshot_ctl.h \
	server/uring.c \
	server/uring.h
nodist_cairn_SOURCES = server/status_page.c
cairn_CFLAGS = $(AM_CFLAGS) $(LIBEVENT_CFLAGS) $(XXHASH_CFLAGS) $(JEMALLOC_CFLAGS)
cairn_LDADD = libcairn_protocol.a libcairn_storage.a $(LIBEVENT_LIBS) $(XXHASH_LIBS) $(JEMALLOC_LIBS)

# The status page (GET / of --metrics-port) is one HTML file compiled into the binary: od writes its
# bytes in hex, sed makes them C initialisers. Generated into the build tree (a new file renamed into
# place, so an interrupted build leaves none behind).
EXTRA_DIST += server/status_page.html
CLEANFILES += server/status_page.c

server/status_page.c: $(srcdir)/server/status_page.html
	@$(MKDIR_P) server
	$(AM_V_GEN){ echo '/* Generated from server/status_page.html by the build (server/local.mk); do not edit. */'; \
	  echo '#include <stddef.h>'; \
	  echo 'extern const unsigned char status_page_html[];'; \
	  echo 'extern const size_t status_page_html_len;'; \
	  echo 'const unsigned char status_page_html[] = {'; \
	  od -An -v -tx1 $(srcdir)/server/status_page.html | \
	    sed -e 's/[[:space:]][[:space:]]*/ /g' -e 's/^ //' -e 's/ $$//' -e '/^$$/d' \
	        -e 's/ /,0x/g' -e 's/^/0x/' -e 's/$$/,/'; \
	  echo '};'; \
	  echo 'const size_t status_page_html_len = sizeof(status_page_html);'; \
	} > $@.tmp
	mv $@.tmp $@

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
