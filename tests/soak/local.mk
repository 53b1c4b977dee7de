# tests/soak: the chaos soak against the built binary. Not part of `make check` (it runs for a
# minute and measures latency, which other tests running beside it would disturb); .ci/run runs
# `make soak` after `make check`. SOAK_SECONDS=600 is the offline run (tests/soak/README.md).
EXTRA_DIST += tests/soak/soak.py tests/soak/README.md

SOAK_SECONDS = 60
SOAK_FLAGS =

soak: cairn$(EXEEXT)
	timeout $$(( $(SOAK_SECONDS) * 2 + 180 )) /usr/bin/python3 $(abs_top_srcdir)/tests/soak/soak.py \
		--bin '$(abs_top_builddir)/cairn' --seconds $(SOAK_SECONDS) $(SOAK_FLAGS)

.PHONY: soak
