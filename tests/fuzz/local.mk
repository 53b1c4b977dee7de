# tests/fuzz: libFuzzer targets, built by `make fuzz` with clang whatever CC configure chose (the
# fuzzer runtime is clang's). The engine's sources are compiled a second time, instrumented, into
# tests/fuzz/obj; nothing here is part of `make` or `make check`. Run them with tests/fuzz/run.sh.
#   make fuzz FUZZ_CC=clang-16     another clang
FUZZ_CC = clang
FUZZ_SANITIZE = -fsanitize=address,undefined -fno-sanitize-recover=undefined -fno-omit-frame-pointer
FUZZ_FLAGS = -g -O1 -std=c11 -pthread $(WARN_CFLAGS) $(FUZZ_SANITIZE)
FUZZ_INCLUDES = -I$(top_srcdir) -I$(top_builddir) $(XXHASH_CFLAGS)
FUZZ_TARGETS = tests/fuzz/fuzz_parse tests/fuzz/fuzz_snapshot tests/fuzz/fuzz_session tests/fuzz/fuzz_resp \
	tests/fuzz/fuzz_resp_session tests/fuzz/fuzz_mcbin_session tests/fuzz/fuzz_mc_auth tests/fuzz/fuzz_rdb
FUZZ_ENGINE = tests/fuzz/obj/libcairn_fuzz.a
FUZZ_ENGINE_SRCS = $(libcairn_protocol_a_SOURCES) $(libcairn_storage_a_SOURCES)

EXTRA_DIST += tests/fuzz/README.md tests/fuzz/run.sh tests/fuzz/fuzz_parse.c tests/fuzz/fuzz_snapshot.c \
	tests/fuzz/fuzz_session.c tests/fuzz/fuzz_parse.dict tests/fuzz/fuzz_snapshot.dict \
	tests/fuzz/fuzz_session.dict tests/fuzz/fuzz_resp.c tests/fuzz/fuzz_resp.dict \
	tests/fuzz/fuzz_resp_session.c tests/fuzz/fuzz_resp_session.dict tests/fuzz/fuzz_mcbin_session.c \
	tests/fuzz/fuzz_mcbin_session.dict tests/fuzz/fuzz_mc_auth.c tests/fuzz/fuzz_mc_auth.dict \
	tests/fuzz/fuzz_rdb.c tests/fuzz/fuzz_rdb.dict \
	tests/fuzz/corpus tests/fuzz/regressions

.PHONY: fuzz fuzz-clean
fuzz: $(FUZZ_TARGETS)

# The engine (protocol/ and storage/, every .c their libraries list), one clang call per source.
$(FUZZ_ENGINE): $(FUZZ_ENGINE_SRCS) config.h
	@rm -rf tests/fuzz/obj && $(MKDIR_P) tests/fuzz/obj
	@for f in $(FUZZ_ENGINE_SRCS); do \
	    case $$f in *.c) ;; *) continue ;; esac; \
	    o=tests/fuzz/obj/`echo $$f | sed 's|/|_|g; s|\.c$$|.o|'`; \
	    echo "  FUZZCC   $$o"; \
	    $(FUZZ_CC) $(FUZZ_INCLUDES) $(FUZZ_FLAGS) -fsanitize=fuzzer-no-link -c $(top_srcdir)/$$f -o $$o || exit 1; \
	done
	@$(AR) rcs $@ tests/fuzz/obj/*.o

tests/fuzz/fuzz_parse: tests/fuzz/fuzz_parse.c $(FUZZ_ENGINE)
	@echo "  FUZZLD   $@"
	@$(FUZZ_CC) $(FUZZ_INCLUDES) $(FUZZ_FLAGS) -fsanitize=fuzzer $(top_srcdir)/tests/fuzz/fuzz_parse.c \
	    $(FUZZ_ENGINE) $(XXHASH_LIBS) -o $@

tests/fuzz/fuzz_snapshot: tests/fuzz/fuzz_snapshot.c $(FUZZ_ENGINE)
	@echo "  FUZZLD   $@"
	@$(FUZZ_CC) $(FUZZ_INCLUDES) $(FUZZ_FLAGS) -fsanitize=fuzzer $(top_srcdir)/tests/fuzz/fuzz_snapshot.c \
	    $(FUZZ_ENGINE) $(XXHASH_LIBS) -o $@

tests/fuzz/fuzz_session: tests/fuzz/fuzz_session.c $(FUZZ_ENGINE)
	@echo "  FUZZLD   $@"
	@$(FUZZ_CC) $(FUZZ_INCLUDES) $(FUZZ_FLAGS) -fsanitize=fuzzer $(top_srcdir)/tests/fuzz/fuzz_session.c \
	    $(FUZZ_ENGINE) $(XXHASH_LIBS) -o $@

tests/fuzz/fuzz_resp: tests/fuzz/fuzz_resp.c $(FUZZ_ENGINE)
	@echo "  FUZZLD   $@"
	@$(FUZZ_CC) $(FUZZ_INCLUDES) $(FUZZ_FLAGS) -fsanitize=fuzzer $(top_srcdir)/tests/fuzz/fuzz_resp.c \
	    $(FUZZ_ENGINE) $(XXHASH_LIBS) -o $@

tests/fuzz/fuzz_resp_session: tests/fuzz/fuzz_resp_session.c $(FUZZ_ENGINE)
	@echo "  FUZZLD   $@"
	@$(FUZZ_CC) $(FUZZ_INCLUDES) $(FUZZ_FLAGS) -fsanitize=fuzzer $(top_srcdir)/tests/fuzz/fuzz_resp_session.c \
	    $(FUZZ_ENGINE) $(XXHASH_LIBS) -o $@

tests/fuzz/fuzz_mcbin_session: tests/fuzz/fuzz_mcbin_session.c $(FUZZ_ENGINE)
	@echo "  FUZZLD   $@"
	@$(FUZZ_CC) $(FUZZ_INCLUDES) $(FUZZ_FLAGS) -fsanitize=fuzzer $(top_srcdir)/tests/fuzz/fuzz_mcbin_session.c \
	    $(FUZZ_ENGINE) $(XXHASH_LIBS) -o $@

tests/fuzz/fuzz_mc_auth: tests/fuzz/fuzz_mc_auth.c $(FUZZ_ENGINE)
	@echo "  FUZZLD   $@"
	@$(FUZZ_CC) $(FUZZ_INCLUDES) $(FUZZ_FLAGS) -fsanitize=fuzzer $(top_srcdir)/tests/fuzz/fuzz_mc_auth.c \
	    $(FUZZ_ENGINE) $(XXHASH_LIBS) -o $@

fuzz-clean:
	rm -rf tests/fuzz/obj $(FUZZ_TARGETS)

clean-local: fuzz-clean

# tests/tsan: the storage engine's threads mixed, a plain program (no Criterion, which cannot run
# under ThreadSanitizer); built on demand (`make tests/tsan/stress_storage`), run by .ci/run's
# ThreadSanitizer step.
EXTRA_PROGRAMS = tests/tsan/stress_storage
tests_tsan_stress_storage_SOURCES = tests/tsan/stress_storage.c
tests_tsan_stress_storage_LDADD = libcairn_storage.a $(XXHASH_LIBS)
CLEANFILES += tests/tsan/stress_storage
EXTRA_DIST += tests/tsan.supp

tests/fuzz/fuzz_rdb: tests/fuzz/fuzz_rdb.c $(FUZZ_ENGINE)
	@echo "  FUZZLD   $@"
	@$(FUZZ_CC) $(FUZZ_INCLUDES) $(FUZZ_FLAGS) -fsanitize=fuzzer $(top_srcdir)/tests/fuzz/fuzz_rdb.c \
	    $(FUZZ_ENGINE) $(XXHASH_LIBS) -o $@
