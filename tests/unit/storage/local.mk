# tests/unit/storage
