#!/bin/sh
# Client test: the dump tools operators run against memcached, on a running server. memcdump
# (libmemcached-tools: `stats cachedump <id> 0` for ids 0..63) must list every key; Debian's
# memcached-tool (perl, in the memcached package) must work in its display (stats items + stats slabs),
# stats, settings, keys and dump (lru_crawler metadump, then a get per key) modes. The keys take
# classes past memcached's 63 (cairn's are finer), hold URL-encoded bytes, flags and an expiry. A server
# started with -X refuses memcdump's requests.
#
# Target: cairn by default ($CAIRN_BIN -p P -U 0 -l 127.0.0.1 -m 256, -u root as root) on a free
# loopback port; with --memcached (or CAIRN_TEST_TARGET=memcached) the reference ($MEMCACHED_BIN or
# /usr/bin/memcached), which is how the expectations were checked (memcached's cachedump lists only the
# cold LRU segment, so there memcdump's count is not checked). Exits 77 (skip) when neither tool is
# installed; prints one line per failed check, then "N passed, N failed"; every tool call is bounded
# by timeout(1).
set -u

MEMCDUMP=${MEMCDUMP:-memcdump}
TOOL=${MEMCACHED_TOOL:-/usr/share/memcached/scripts/memcached-tool}
have_memcdump=no
have_tool=no
command -v "$MEMCDUMP" >/dev/null 2>&1 && have_memcdump=yes
[ -r "$TOOL" ] && command -v perl >/dev/null 2>&1 && have_tool=yes
if [ $have_memcdump = no ] && [ $have_tool = no ]; then
	echo "neither memcdump (libmemcached-tools) nor memcached-tool (memcached) is installed: skipped"
	exit 77
fi
if ! command -v python3 >/dev/null 2>&1; then
	echo "python3 is needed to load the keys: skipped"
	exit 77
fi
target=cairn
if [ "${CAIRN_TEST_TARGET:-}" = memcached ] || [ "${1:-}" = --memcached ]; then
	target=memcached
fi

tmp=$(mktemp -d /tmp/cairn-dump-tools-XXXXXX) || exit 1
pid=
stop_server() {
	if [ -n "$pid" ] && kill -0 "$pid" 2>/dev/null; then
		kill -TERM "$pid" 2>/dev/null
		i=0
		while kill -0 "$pid" 2>/dev/null && [ $i -lt 50 ]; do
			sleep 0.1
			i=$((i + 1))
		done
		kill -KILL "$pid" 2>/dev/null
	fi
	pid=
}
cleanup() {
	stop_server
	rm -rf "$tmp"
}
trap cleanup EXIT
trap 'exit 1' INT TERM HUP

# A loopback port that was free a moment ago.
free_port() {
	python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'
}

# Sends stdin's requests to the server and prints the answer (until idle).
talk() {
	timeout 30 python3 -c '
import socket, sys
s = socket.create_connection(("127.0.0.1", int(sys.argv[1])))
s.sendall(sys.stdin.buffer.read())
s.settimeout(0.5)
out = b""
try:
    while True:
        d = s.recv(1 << 16)
        if not d:
            break
        out += d
except socket.timeout:
    pass
sys.stdout.buffer.write(out)' "$port"
}

# start_server [extra options...] (simple words)
start_server() {
	extra="$*"
	attempt=0
	while [ $attempt -lt 3 ]; do
		attempt=$((attempt + 1))
		port=$(free_port)
		if [ $target = memcached ]; then
			bin=${MEMCACHED_BIN:-/usr/bin/memcached}
		else
			bin=${CAIRN_BIN:?CAIRN_BIN is not set (run through make check, or pass --memcached)}
		fi
		# shellcheck disable=SC2086
		set -- -p "$port" -U 0 -l 127.0.0.1 -t 4 -m 256 $extra
		if [ "$(id -u)" -eq 0 ]; then
			set -- "$@" -u root
		fi
		"$bin" "$@" >"$tmp/server.log" 2>&1 &
		pid=$!
		i=0
		while [ $i -lt 100 ] && kill -0 "$pid" 2>/dev/null; do
			case "$(printf 'version\r\n' | talk 2>/dev/null)" in
			VERSION*) return 0 ;;
			esac
			sleep 0.05
			i=$((i + 1))
		done
		stop_server
	done
	echo "server $bin did not start; its output:"
	cat "$tmp/server.log"
	exit 1
}

passed=0
failed=0
# check NAME EXPECTED ACTUAL: exact comparison (command substitution drops trailing newlines).
check() {
	if [ "$2" = "$3" ]; then
		passed=$((passed + 1))
	else
		failed=$((failed + 1))
		printf 'FAIL %s\n  expected: %s\n  got:      %s\n' "$1" "$2" "$3"
	fi
}
# contains NAME FIXED-STRING TEXT
contains() {
	case "$3" in
	*"$2"*) passed=$((passed + 1)) ;;
	*)
		failed=$((failed + 1))
		printf 'FAIL %s\n  expected to contain: %s\n  got: %s\n' "$1" "$2" "$3" | head -c 2000
		echo
		;;
	esac
}

N=3000
# The keys: k<i> with values of i % 500 bytes, every 50th 4,000..7,000 bytes (classes past 63); then
# three with bytes to encode, flags and an expiry.
load_keys() {
	python3 - "$port" "$N" <<'EOF'
import socket, sys
port, n = int(sys.argv[1]), int(sys.argv[2])
s = socket.create_connection(("127.0.0.1", port))
buf = bytearray()
for i in range(n):
    vlen = 4000 + i % 3000 if i % 50 == 0 else i % 500
    buf += b"set k%d 0 0 %d noreply\r\n" % (i, vlen) + b"v" * vlen + b"\r\n"
buf += b"set a/b%20c 5 0 2 noreply\r\nhi\r\nset sp:\xc3\xbc 7 0 1 noreply\r\nu\r\n"
buf += b"set later 3 1000 5 noreply\r\nlater\r\nversion\r\n"
s.sendall(bytes(buf))
got = b""
while not got.endswith(b"\r\n"):
    got += s.recv(4096)
EOF
}

# Every key the load stored, one a line, sorted.
expected_keys() {
	i=0
	while [ $i -lt $N ]; do
		echo "k$i"
		i=$((i + 1))
	done
	printf 'a/b%%20c\nlater\nsp:\303\274\n'
}

start_server
load_keys
expected_keys | LC_ALL=C sort >"$tmp/want"
total=$((N + 3))
echo "dump tools against $target (port $port): memcdump $have_memcdump, memcached-tool $have_tool"

# ---- memcdump: stats cachedump 0..63
if [ $have_memcdump = yes ]; then
	timeout 60 "$MEMCDUMP" --servers="127.0.0.1:$port" >"$tmp/memcdump.out" 2>"$tmp/memcdump.err"
	check "memcdump exit status" "0" "$?"
	LC_ALL=C sort -u "$tmp/memcdump.out" >"$tmp/memcdump.keys"
	# libmemcached ends a key at its first byte that is not isgraph() in the C locale
	sed 's/^sp:.*/sp:/' "$tmp/want" | LC_ALL=C sort >"$tmp/want.memcdump"
	if [ $target = cairn ]; then
		check "memcdump lists every key" "" "$(LC_ALL=C comm -3 "$tmp/want.memcdump" "$tmp/memcdump.keys" | head -n 5)"
		check "memcdump lists each key once" "$total" "$(wc -l <"$tmp/memcdump.out" | tr -d ' ')"
	else
		check "memcdump lists only stored keys" "" "$(LC_ALL=C comm -13 "$tmp/want.memcdump" "$tmp/memcdump.keys" | head -n 5)"
	fi
fi

# ---- memcached-tool
if [ $have_tool = yes ]; then
	tool() {
		timeout 60 perl "$TOOL" "127.0.0.1:$port" "$@"
	}
	# display: a row per class with pages, from stats items and stats slabs
	tool display >"$tmp/display.out" 2>&1
	check "display header" "  #  Item_Size  Max_age   Pages   Count   Full?  Evicted Evict_Time OOM" \
		"$(head -n 1 "$tmp/display.out")"
	active=$(printf 'stats slabs\r\n' | talk | tr -d '\r' | sed -n 's/^STAT active_slabs //p')
	check "display: one row per active class" "$active" "$(($(wc -l <"$tmp/display.out") - 1))"
	check "display: the counts add up to the items" "$total" \
		"$(awk 'NR > 1 { n += $5 } END { print n }' "$tmp/display.out")"
	if [ $target = cairn ]; then
		contains "display: a class past 63" "yes" \
			"$(awk 'NR > 1 && $1 > 63 { print "yes"; exit }' "$tmp/display.out")"
	fi
	# stats and settings
	# (memcached-tool keeps the "\r" of each STAT line in the value)
	tool stats 2>&1 | tr -d '\r' >"$tmp/stats.out"
	check "stats header" "$(printf '#%-22s %5s %13s' "127.0.0.1:$port" Field Value)" "$(head -n 1 "$tmp/stats.out")"
	check "stats curr_items" "$total" "$(awk '$1 == "curr_items" { print $2 }' "$tmp/stats.out")"
	tool settings 2>&1 | tr -d '\r' >"$tmp/settings.out"
	check "settings dump_enabled" "yes" "$(awk '$1 == "dump_enabled" { print $2 }' "$tmp/settings.out")"
	check "settings maxbytes" "268435456" "$(awk '$1 == "maxbytes" { print $2 }' "$tmp/settings.out")"
	# keys: the metadump lines
	tool keys >"$tmp/keys.out" 2>"$tmp/keys.err"
	check "keys: a line per key" "$total" "$(grep -c '^key=' "$tmp/keys.out")"
	contains "keys: URL-encoded" "key=sp%3A%C3%BC exp=-1 la=" "$(cat "$tmp/keys.out")"
	contains "keys: flags and size" "key=a%2Fb%2520c exp=-1 la=" "$(cat "$tmp/keys.out")"
	contains "keys: expiry" "key=later exp=1" "$(cat "$tmp/keys.out")"
	# dump: add commands that would restore every key
	tool dump >"$tmp/dump.out" 2>"$tmp/dump.err"
	check "dump: an add per key" "$total" "$(grep -c '^add ' "$tmp/dump.out")"
	contains "dump: flags and value" "$(printf 'add a/b%%20c 5 0 2\r\nhi\r\n')" "$(cat "$tmp/dump.out")"
	contains "dump: encoded key restored" "$(printf 'add sp:\303\274 7 0 1\r\nu\r\n')" "$(cat "$tmp/dump.out")"
	contains "dump: absolute expiry" "add later 3 1" "$(cat "$tmp/dump.out")"
	contains "dump: a large value" "$(printf 'add k50 0 0 4050\r\n')" "$(cat "$tmp/dump.out")"
	check "dump: stderr" "Dumping memcache contents" "$(cat "$tmp/dump.err")"
fi
check "server still answers" "$(printf 'VALUE k1 0 1\r\nv\r\nEND\r\n')" "$(printf 'get k1\r\n' | talk)"
stop_server

# ---- -X: the dumps are refused
start_server -X
printf 'set a 0 0 1\r\n1\r\n' | talk >/dev/null
check "-X: cachedump refused" "$(printf 'CLIENT_ERROR stats cachedump not allowed\r\n')" \
	"$(printf 'stats cachedump 1 0\r\n' | talk)"
check "-X: metadump refused" "$(printf 'ERROR metadump not allowed\r\n')" \
	"$(printf 'lru_crawler metadump all\r\n' | talk)"
if [ $have_memcdump = yes ]; then
	out=$(timeout 60 "$MEMCDUMP" --servers="127.0.0.1:$port" 2>&1)
	check "-X: memcdump fails" "1" "$?"
	contains "-X: memcdump says why" "stats cachedump not allowed" "$out"
fi

echo "$passed passed, $failed failed"
[ "$failed" -eq 0 ]
