# Sourced by the shell wrappers of client tests written in languages without a server harness
# (test_php_memcached.sh, test_dalli.sh): starts the target server on a free loopback port and
# stops it by PID. The target is cairn ($CAIRN_BIN) or, with CAIRN_TEST_TARGET=memcached, the
# reference memcached ($MEMCACHED_BIN or /usr/bin/memcached). Sets: port, pid, tmp. $server_extra
# (unquoted words) is appended to the server's arguments.
#   server_start               start it (three tries on fresh ports), or exit 1 with its log
#   server_stop                SIGTERM, then SIGKILL after 5 s; sets server_status to its exit status
#   run_client NAME CMD...     run the client with $port in its environment and print its
#                              output, adding a failure when the server did not exit 0 on SIGTERM
tmp=$(mktemp -d /tmp/cairn-client-XXXXXX) || exit 1
pid=
server_status=
server_cleanup() {
	if [ -n "$pid" ] && kill -0 "$pid" 2>/dev/null; then
		kill -KILL "$pid" 2>/dev/null
	fi
	rm -rf "$tmp"
}
trap server_cleanup EXIT
trap 'exit 1' INT TERM HUP

free_port() {
	/usr/bin/python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])' 2>/dev/null ||
		echo $((20000 + $(od -An -N2 -tu2 /dev/urandom) % 40000))
}

# True when something accepts connections on 127.0.0.1:$1.
listening() {
	/usr/bin/python3 -c 'import socket, sys; socket.create_connection(("127.0.0.1", int(sys.argv[1])), timeout=1).close()' "$1" 2>/dev/null
}

server_start() {
	if [ "${CAIRN_TEST_TARGET:-}" = memcached ]; then
		bin=${MEMCACHED_BIN:-/usr/bin/memcached}
	else
		bin=${CAIRN_BIN:?CAIRN_BIN is not set (run through make check, or set CAIRN_TEST_TARGET=memcached)}
	fi
	attempt=0
	while [ $attempt -lt 3 ]; do
		attempt=$((attempt + 1))
		port=$(free_port)
		# shellcheck disable=SC2086
		set -- -p "$port" -U 0 -l 127.0.0.1 -t 4 -m 64 ${server_extra:-}
		if [ "$(id -u)" -eq 0 ]; then
			set -- "$@" -u root
		fi
		"$bin" "$@" >"$tmp/server.log" 2>&1 &
		pid=$!
		i=0
		while [ $i -lt 100 ] && kill -0 "$pid" 2>/dev/null; do
			if listening "$port"; then
				return 0
			fi
			sleep 0.05
			i=$((i + 1))
		done
		kill -KILL "$pid" 2>/dev/null
		wait "$pid" 2>/dev/null
		pid=
	done
	echo "server $bin did not start; its output:"
	cat "$tmp/server.log"
	exit 1
}

server_stop() {
	server_status=
	[ -n "$pid" ] || return 0
	kill -TERM "$pid" 2>/dev/null
	i=0
	while kill -0 "$pid" 2>/dev/null && [ $i -lt 50 ]; do
		sleep 0.1
		i=$((i + 1))
	done
	if kill -0 "$pid" 2>/dev/null; then
		kill -KILL "$pid" 2>/dev/null
		server_status=killed
		wait "$pid" 2>/dev/null
	else
		wait "$pid" 2>/dev/null
		server_status=$?
	fi
	pid=
}

run_client() {
	name=$1
	shift
	server_start
	CAIRN_CLIENT_PORT=$port "$@" >"$tmp/client.out" 2>&1
	rc=$?
	server_stop
	passed=$(sed -n 's/^\([0-9][0-9]*\) passed, \([0-9][0-9]*\) failed$/\1/p' "$tmp/client.out" | tail -n 1)
	failed=$(sed -n 's/^\([0-9][0-9]*\) passed, \([0-9][0-9]*\) failed$/\2/p' "$tmp/client.out" | tail -n 1)
	grep -v '^[0-9][0-9]* passed, [0-9][0-9]* failed$' "$tmp/client.out"
	if [ -z "$passed" ]; then
		echo "FAIL $name ended without its summary (exit status $rc)"
		passed=0
		failed=$((${failed:-0} + 1))
	elif [ "$rc" -ne 0 ] && [ "$failed" -eq 0 ]; then
		echo "FAIL $name exited with status $rc"
		failed=1
	fi
	if [ "$server_status" != 0 ]; then
		echo "FAIL server exit status after SIGTERM: $server_status"
		failed=$((failed + 1))
	fi
	echo "$passed passed, $failed failed"
	[ "$failed" -eq 0 ]
}
