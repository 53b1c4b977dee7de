# tests/install: `make install` into a scratch directory (man page, systemd unit, configuration).
TESTS += tests/install/test_install.sh
EXTRA_DIST += tests/install/test_install.sh
