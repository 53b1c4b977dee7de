# tests/mcbin: the side-by-side corpus of memcached's binary protocol: every case's bytes go to
# cairn and to memcached 1.6.18, and the answers are compared packet by packet
# (tests/mcbin/README.md). make check runs it (test_corpus.sh, skipped without memcached);
# `make mcbin-corpus` runs it alone and `make mcbin-corpus-memcached` compares two memcacheds
# (checks the corpus itself).
TESTS += tests/mcbin/test_corpus.sh
EXTRA_DIST += tests/mcbin/test_corpus.sh tests/mcbin/corpus.py tests/mcbin/README.md \
	tests/mcbin/known_differences.txt

MCBIN_CORPUS_FLAGS =

mcbin-corpus: cairn$(EXEEXT)
	timeout 600 /usr/bin/python3 $(abs_top_srcdir)/tests/mcbin/corpus.py \
		--cairn '$(abs_top_builddir)/cairn' $(MCBIN_CORPUS_FLAGS)

mcbin-corpus-memcached:
	timeout 600 /usr/bin/python3 $(abs_top_srcdir)/tests/mcbin/corpus.py --memcached-only \
		$(MCBIN_CORPUS_FLAGS)

.PHONY: mcbin-corpus mcbin-corpus-memcached
