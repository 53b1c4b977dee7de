# tests: each suite keeps its own fragment.
include tests/unit/storage/local.mk
include tests/unit/protocol/local.mk
include tests/unit/server/local.mk
include tests/integration/local.mk
include tests/clients/local.mk
include tests/soak/local.mk
include tests/fuzz/local.mk
include tests/resp/local.mk
include tests/mcbin/local.mk
include tests/bench/local.mk
include tests/install/local.mk
include tests/pool/local.mk
