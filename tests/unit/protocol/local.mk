# tests/unit/protocol
