# storage: sources and tests
