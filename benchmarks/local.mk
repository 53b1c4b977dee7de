# benchmarks: the load generator cairn-bench (libevent only, none of the server's libraries), its
# smoke test, and the measurement scripts.
noinst_PROGRAMS += benchmarks/cairn-bench
benchmarks_cairn_bench_SOURCES = \
	benchmarks/bench/bench.h \
	benchmarks/bench/main.c \
	benchmarks/bench/options.c \
	benchmarks/bench/conn.c \
	benchmarks/bench/report.c \
	benchmarks/bench/keyspace.c \
	benchmarks/bench/keyspace.h \
	benchmarks/bench/hist.c \
	benchmarks/bench/hist.h \
	benchmarks/bench/proto.h \
	benchmarks/bench/proto_memcache.c \
	benchmarks/bench/proto_meta.c \
	benchmarks/bench/proto_redis.c \
	benchmarks/bench/proto_binary.c
benchmarks_cairn_bench_CFLAGS = $(AM_CFLAGS) $(LIBEVENT_CFLAGS)
benchmarks_cairn_bench_LDADD = $(LIBEVENT_LIBS) -lm

# A few seconds of real load against the built server: ops > 0, zero errors. It never measures speed.
TESTS += benchmarks/smoke.sh
EXTRA_DIST += benchmarks/compare benchmarks/smoke.sh benchmarks/fake_server.py benchmarks/fill_rss.py benchmarks/README.md \
	benchmarks/RESULTS.md
EXTRA_DIST += benchmarks/snapshot-bench benchmarks/hitratio benchmarks/redis-benchmark-compare \
	benchmarks/memcslap-compare benchmarks/svgchart.py benchmarks/pool-compare benchmarks/ab-cpu \
	benchmarks/perf-share
# Saved results and their charts, linked from RESULTS.md (benchmarks/svgchart.py redraws them).
EXTRA_DIST += benchmarks/results/run4-published.json benchmarks/results/run4-published-ratios.svg \
	benchmarks/results/run4-published-latency.svg benchmarks/results/compare-abc-2026-12-04.json \
	benchmarks/results/compare-abc-2026-12-04-ratios.svg benchmarks/results/compare-abc-2026-12-04-latency.svg \
	benchmarks/results/issue12-binary-published.json benchmarks/results/issue12-binary-published-ratios.svg \
	benchmarks/results/issue12-binary-published-latency.svg

# The meta protocol's request writer and reply parser alone, no server (table-driven).
check_PROGRAMS += benchmarks/bench/test_proto_meta
TESTS += benchmarks/bench/test_proto_meta
benchmarks_bench_test_proto_meta_SOURCES = \
	benchmarks/bench/test_proto_meta.c \
	benchmarks/bench/proto.h \
	benchmarks/bench/proto_memcache.c \
	benchmarks/bench/proto_meta.c \
	benchmarks/bench/proto_redis.c \
	benchmarks/bench/proto_binary.c
benchmarks_bench_test_proto_meta_CFLAGS = $(AM_CFLAGS) $(CRITERION_CFLAGS)
benchmarks_bench_test_proto_meta_LDADD = $(CRITERION_LIBS)

# The binary protocol's request writer and reply parser alone, no server (table-driven).
check_PROGRAMS += benchmarks/bench/test_proto_binary
TESTS += benchmarks/bench/test_proto_binary
benchmarks_bench_test_proto_binary_SOURCES = \
	benchmarks/bench/test_proto_binary.c \
	benchmarks/bench/proto.h \
	benchmarks/bench/proto_memcache.c \
	benchmarks/bench/proto_meta.c \
	benchmarks/bench/proto_redis.c \
	benchmarks/bench/proto_binary.c
benchmarks_bench_test_proto_binary_CFLAGS = $(AM_CFLAGS) $(CRITERION_CFLAGS)
benchmarks_bench_test_proto_binary_LDADD = $(CRITERION_LIBS)

# Nanoseconds per storage call (get, set) without a server; built on demand (make benchmarks/storage_micro).
EXTRA_PROGRAMS += benchmarks/storage_micro
benchmarks_storage_micro_SOURCES = benchmarks/storage_micro.c
benchmarks_storage_micro_LDADD = libcairn_storage.a $(XXHASH_LIBS) $(JEMALLOC_LIBS)
CLEANFILES += benchmarks/storage_micro
