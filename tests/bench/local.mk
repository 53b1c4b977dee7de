# tests/bench: the benchmark scripts' own code, without running a benchmark. test_svgchart.py feeds
# a canned benchmarks/compare results file (compare-canned.json) to benchmarks/svgchart.py and checks
# the SVG charts it writes: well-formed XML, one bar and one value label per (load, server, metric),
# medians over rounds, bar heights that follow the values, the 1.0 reference line. Needs python3 only.
TESTS += tests/bench/test_svgchart.py
EXTRA_DIST += tests/bench/test_svgchart.py tests/bench/compare-canned.json
