# benchmarks: sources and tests
