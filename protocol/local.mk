# protocol: sources and tests
