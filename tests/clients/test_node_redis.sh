#!/bin/sh
# Client test: node-redis v5 (npm's `redis`) with RESP2 and RESP3 against the server's RESP port
# (test_node_redis.mjs says what is checked). .ci/install-deps test installs the module into
# NODE_REDIS_PREFIX (default /usr/local/lib/cairn-test-node); without node or the module: exit 77.
#
# Target: cairn by default ($CAIRN_BIN -p P -U 0 -l 127.0.0.1 --resp-port=R, -u root as root), on free
# loopback ports; with --redis (or CAIRN_TEST_TARGET=redis) redis-server ($REDIS_BIN or
# /usr/bin/redis-server, no persistence), which is how the expectations were checked.
set -u
srcdir=${CAIRN_SRCDIR:-$(dirname "$0")/../..}
modules=${NODE_REDIS_PREFIX:-/usr/local/lib/cairn-test-node}/node_modules
if ! command -v node >/dev/null 2>&1 || [ ! -d "$modules/redis" ]; then
	echo "node or node-redis ($modules/redis) is not installed: skipped"
	exit 77
fi
target=cairn
if [ "${CAIRN_TEST_TARGET:-}" = redis ] || [ "${1:-}" = --redis ]; then
	target=redis
elif [ "${CAIRN_TEST_TARGET:-}" = memcached ]; then
	echo "memcached has no RESP: skipped"
	exit 77
fi

tmp=$(mktemp -d /tmp/cairn-node-redis-XXXXXX) || exit 1
pid=
cleanup() {
	if [ -n "$pid" ] && kill -0 "$pid" 2>/dev/null; then
		kill -TERM "$pid" 2>/dev/null
		i=0
		while kill -0 "$pid" 2>/dev/null && [ $i -lt 50 ]; do
			sleep 0.1
			i=$((i + 1))
		done
		kill -KILL "$pid" 2>/dev/null
	fi
	rm -rf "$tmp"
}
trap cleanup EXIT
trap 'exit 1' INT TERM HUP

free_port() {
	/usr/bin/python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'
}

# Whether something answers +PONG on the port (python, so redis-cli is not needed here).
pong() {
	/usr/bin/python3 - "$1" <<'PY' 2>/dev/null
import socket, sys
s = socket.create_connection(("127.0.0.1", int(sys.argv[1])), timeout=1)
s.sendall(b"*1\r\n$4\r\nPING\r\n")
sys.exit(0 if s.recv(16) == b"+PONG\r\n" else 1)
PY
}

attempt=0
while [ $attempt -lt 3 ]; do
	attempt=$((attempt + 1))
	port=$(free_port)
	if [ $target = redis ]; then
		bin=${REDIS_BIN:-/usr/bin/redis-server}
		"$bin" --port "$port" --bind 127.0.0.1 --save '' --appendonly no --daemonize no \
			--dir "$tmp" >"$tmp/server.log" 2>&1 &
	else
		bin=${CAIRN_BIN:?CAIRN_BIN is not set (run through make check, or pass --redis)}
		set -- -p "$(free_port)" -U 0 -l 127.0.0.1 --resp-port="$port" -t 4 -m 64
		if [ "$(id -u)" -eq 0 ]; then
			set -- "$@" -u root
		fi
		"$bin" "$@" >"$tmp/server.log" 2>&1 &
	fi
	pid=$!
	i=0
	while [ $i -lt 100 ] && kill -0 "$pid" 2>/dev/null && ! pong "$port"; do
		sleep 0.05
		i=$((i + 1))
	done
	if kill -0 "$pid" 2>/dev/null && pong "$port"; then
		NODE_PATH=$modules timeout 60 node "$srcdir/tests/clients/test_node_redis.mjs" "$port"
		exit $?
	fi
	kill -KILL "$pid" 2>/dev/null
	wait "$pid" 2>/dev/null
	pid=
done
echo "server $bin did not start; its output:"
cat "$tmp/server.log"
exit 1
