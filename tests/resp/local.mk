# tests/resp: the side-by-side RESP corpus: every case's bytes go to cairn and to redis-server
# (Debian 12's 7.0.15), and the replies are compared byte for byte (tests/resp/README.md). make check
# runs it (test_corpus.sh, skipped without redis-server); `make resp-corpus` runs it alone and `make
# resp-corpus-redis` compares two redis-servers (checks the corpus itself).
TESTS += tests/resp/test_corpus.sh
EXTRA_DIST += tests/resp/test_corpus.sh tests/resp/corpus.py tests/resp/README.md tests/resp/known_differences.txt \
	tests/resp/cases

RESP_CORPUS_FLAGS =

resp-corpus: cairn$(EXEEXT)
	timeout 900 /usr/bin/python3 $(abs_top_srcdir)/tests/resp/corpus.py \
		--cairn '$(abs_top_builddir)/cairn' $(RESP_CORPUS_FLAGS)

resp-corpus-redis:
	timeout 900 /usr/bin/python3 $(abs_top_srcdir)/tests/resp/corpus.py --redis-only $(RESP_CORPUS_FLAGS)

.PHONY: resp-corpus resp-corpus-redis
