# tests/pool: pools of independent cairn nodes, spread by tools people already run: nutcracker
# (twemproxy) in memcache and in redis mode, and libmemcached's ketama on the client (pylibmc).
# Placement is checked against the ketama continuum computed in pool.py; a node is killed and
# restarted from its snapshot. Each skips (exit 77) when its proxy or client is not installed.
TESTS += tests/pool/test_twemproxy_memcache.sh tests/pool/test_twemproxy_redis.sh \
	tests/pool/test_client_ketama.sh
EXTRA_DIST += tests/pool/test_twemproxy_memcache.sh tests/pool/test_twemproxy_redis.sh \
	tests/pool/test_client_ketama.sh tests/pool/test_twemproxy.py tests/pool/test_client_ketama.py \
	tests/pool/pool.py
