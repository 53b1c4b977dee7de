# server: sources and tests
