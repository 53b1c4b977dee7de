#!/bin/bash
# smoke.sh: keeps cairn-bench working; part of `make check`. It never judges speed.
#
# Starts the built cairn ($CAIRN_BIN) on a free loopback port, runs cairn-bench for two seconds with a
# few connections and pipelining (and a short counted run), and checks that requests completed with
# zero errors, in memcached's text protocol, with its meta commands (--protocol meta) and in its binary
# protocol (--protocol memcache_binary, whose values are then read back over text). With
# /usr/bin/python3 it also runs cairn-bench against benchmarks/fake_server.py to check that replies
# split anywhere still parse and that a server returning wrong values makes it fail, in the text
# protocol, in meta and in RESP (--protocol redis); no Redis server is needed.
# Every command is bounded by `timeout`; every process started here is stopped by its pid.

set -u
CAIRN_BIN=${CAIRN_BIN:-$PWD/cairn}
SRCDIR=${CAIRN_SRCDIR:-$(cd "$(dirname "$0")/.." && pwd)}
BENCH=$(dirname "$CAIRN_BIN")/benchmarks/cairn-bench
PY=/usr/bin/python3
WORK=$(mktemp -d "${TMPDIR:-/tmp}/cairn-smoke.XXXXXX")
passed=0
failed=0
pids=()

cleanup() {
    for p in "${pids[@]}"; do
        kill "$p" 2>/dev/null && wait "$p" 2>/dev/null
    done
    rm -rf "$WORK"
}
trap cleanup EXIT

check() { # NAME CONDITION-EXIT-STATUS
    if [ "$2" -eq 0 ]; then
        echo "PASS: $1"
        passed=$((passed + 1))
    else
        echo "FAIL: $1"
        failed=$((failed + 1))
    fi
}

# json_field FILE NAME: the value of a top-level number field of cairn-bench's flat JSON.
json_field() {
    sed -n "s/^  \"$2\": \\([0-9.e+-]*\\),\\{0,1\\}\$/\\1/p" "$1"
}

port_open() {
    (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null
}

# Starts cairn on a free port; sets PORT. Retries a few ports in case one is taken meanwhile.
start_cairn() {
    local user=()
    [ "$(id -u)" -eq 0 ] && user=(-u root)
    for _ in 1 2 3 4 5; do
        PORT=$((20000 + RANDOM % 40000))
        port_open "$PORT" && continue
        "$CAIRN_BIN" -p "$PORT" -l 127.0.0.1 -U 0 -t 2 -m 64 "${user[@]}" >"$WORK/cairn.log" 2>&1 &
        local pid=$!
        for _ in $(seq 100); do
            port_open "$PORT" && { pids+=("$pid"); CAIRN_PID=$pid; return 0; }
            kill -0 "$pid" 2>/dev/null || break
            sleep 0.05
        done
        kill "$pid" 2>/dev/null && wait "$pid" 2>/dev/null
    done
    return 1
}

# Starts fake_server.py in MODE; sets FAKE_PORT and FAKE_PID.
start_fake() {
    rm -f "$WORK/fake.port"
    "$PY" "$SRCDIR/benchmarks/fake_server.py" "$1" "$WORK/fake.port" &
    FAKE_PID=$!
    pids+=("$FAKE_PID")
    for _ in $(seq 100); do
        [ -s "$WORK/fake.port" ] && { FAKE_PORT=$(cat "$WORK/fake.port"); return 0; }
        sleep 0.05
    done
    return 1
}

stop_pid() {
    kill "$1" 2>/dev/null && wait "$1" 2>/dev/null
}

bench() {
    timeout 30 "$BENCH" --quiet --hide-histogram "$@" >>"$WORK/bench.out" 2>&1
}

if [ ! -x "$CAIRN_BIN" ] || [ ! -x "$BENCH" ]; then
    echo "missing $CAIRN_BIN or $BENCH"
    exit 1
fi

bench --help
check "--help exits 0" $?

bench --protocol nosuch
[ $? -eq 2 ]
check "an unknown protocol is refused" $?

if start_cairn; then
    check "cairn starts on port $PORT" 0

    bench -p "$PORT" -t 2 -c 4 --pipeline 8 --ratio 1:4 --data-size-range 10-1000 --key-maximum 9999 \
        --key-pattern R:Z --fill --test-time 2 --server-pid "$CAIRN_PID" --json-out "$WORK/timed.json"
    rc=$?
    check "2-second pipelined run exits 0" $rc
    ops=$(json_field "$WORK/timed.json" ops)
    errors=$(json_field "$WORK/timed.json" errors)
    hits=$(json_field "$WORK/timed.json" get_hits)
    [ "${ops:-0}" -gt 0 ] && [ "${errors:-1}" -eq 0 ]
    check "2-second run: ops ${ops:-?} > 0, errors ${errors:-?} = 0" $?
    [ "${hits:-0}" -gt 0 ]
    check "2-second run after fill: get hits ${hits:-?} > 0" $?

    bench -p "$PORT" -t 2 -c 3 -n 500 --ratio 1:1 --key-pattern G:S --data-size 100 --key-maximum 999 --key-prefix counted: \
        --json-out "$WORK/counted.json"
    rc=$?
    ops=$(json_field "$WORK/counted.json" ops)
    errors=$(json_field "$WORK/counted.json" errors)
    [ $rc -eq 0 ] && [ "${ops:-0}" -eq 3000 ] && [ "${errors:-1}" -eq 0 ]
    check "--requests 500 x 6 connections: ops ${ops:-?} = 3000, errors ${errors:-?} = 0" $?

    bench -P meta -p "$PORT" -t 1 -c 4 --pipeline 8 --ratio 1:4 --data-size-range 10-1000 --key-maximum 999 \
        --key-prefix meta: --fill --test-time 1 --json-out "$WORK/meta.json"
    rc=$?
    ops=$(json_field "$WORK/meta.json" ops)
    errors=$(json_field "$WORK/meta.json" errors)
    hits=$(json_field "$WORK/meta.json" get_hits)
    [ $rc -eq 0 ] && [ "${ops:-0}" -gt 0 ] && [ "${errors:-1}" -eq 0 ] && [ "${hits:-0}" -gt 0 ]
    check "meta: 1-second pipelined run: ops ${ops:-?} > 0, errors ${errors:-?} = 0, hits ${hits:-?} > 0" $?

    # The keys the fill stored with ms, read back with mg and with get: the same items, all hits.
    bench -P meta -p "$PORT" -t 1 -c 2 -n 200 --ratio 0:1 --data-size-range 10-1000 --key-maximum 999 \
        --key-prefix meta: --json-out "$WORK/meta-mg.json"
    rc1=$?
    bench -p "$PORT" -t 1 -c 2 -n 200 --ratio 0:1 --data-size-range 10-1000 --key-maximum 999 \
        --key-prefix meta: --json-out "$WORK/meta-get.json"
    rc2=$?
    hits1=$(json_field "$WORK/meta-mg.json" get_hits)
    hits2=$(json_field "$WORK/meta-get.json" get_hits)
    [ $rc1 -eq 0 ] && [ $rc2 -eq 0 ] && [ "${hits1:-0}" -eq 400 ] && [ "${hits2:-0}" -eq 400 ]
    check "meta: values stored by ms read back with mg (hits ${hits1:-?}) and get (hits ${hits2:-?}), 400 each" $?

    bench -P memcache_binary -p "$PORT" -t 1 -c 4 --pipeline 8 --ratio 1:4 --data-size-range 10-1000 \
        --key-maximum 999 --key-prefix bin: --fill --test-time 1 --json-out "$WORK/binary.json"
    rc=$?
    ops=$(json_field "$WORK/binary.json" ops)
    errors=$(json_field "$WORK/binary.json" errors)
    hits=$(json_field "$WORK/binary.json" get_hits)
    [ $rc -eq 0 ] && [ "${ops:-0}" -gt 0 ] && [ "${errors:-1}" -eq 0 ] && [ "${hits:-0}" -gt 0 ]
    check "binary: 1-second pipelined run: ops ${ops:-?} > 0, errors ${errors:-?} = 0, hits ${hits:-?} > 0" $?

    # The keys the binary fill stored, read back with get: the same items, all hits.
    bench -p "$PORT" -t 1 -c 2 -n 200 --ratio 0:1 --data-size-range 10-1000 --key-maximum 999 \
        --key-prefix bin: --json-out "$WORK/binary-get.json"
    rc=$?
    hits=$(json_field "$WORK/binary-get.json" get_hits)
    [ $rc -eq 0 ] && [ "${hits:-0}" -eq 400 ]
    check "binary: values stored by SET read back with get (hits ${hits:-?} = 400)" $?
    stop_pid "$CAIRN_PID"
else
    check "cairn starts" 1
fi

if [ -x "$PY" ]; then
    if start_fake trickle; then
        bench -p "$FAKE_PORT" -t 1 -c 2 --pipeline 8 -n 300 --key-maximum 99 --data-size-range 1-300 --fill \
            --json-out "$WORK/trickle.json"
        rc=$?
        ops=$(json_field "$WORK/trickle.json" ops)
        [ $rc -eq 0 ] && [ "${ops:-0}" -eq 600 ]
        check "replies split into 1-7 byte pieces parse (ops ${ops:-?})" $?
        stop_pid "$FAKE_PID"
    else
        check "fake server starts" 1
    fi
    if start_fake corrupt; then
        bench -p "$FAKE_PORT" -t 1 -c 2 --pipeline 4 -n 300 --key-maximum 99 --fill \
            --json-out "$WORK/corrupt.json"
        rc=$?
        bad=$(json_field "$WORK/corrupt.json" errors_value)
        [ $rc -eq 1 ] && [ "${bad:-0}" -gt 0 ]
        check "wrong values are counted (errors_value ${bad:-?}) and fail the run" $?
        stop_pid "$FAKE_PID"
    else
        check "fake server starts" 1
    fi
    # RESP (--protocol redis) against the same fakes: no Redis needed.
    if start_fake trickle; then
        bench -P redis -p "$FAKE_PORT" -t 1 -c 2 --pipeline 8 -n 300 --key-maximum 99 --data-size-range 1-300 \
            --fill --json-out "$WORK/resp-trickle.json"
        rc=$?
        ops=$(json_field "$WORK/resp-trickle.json" ops)
        hits=$(json_field "$WORK/resp-trickle.json" get_hits)
        [ $rc -eq 0 ] && [ "${ops:-0}" -eq 600 ] && [ "${hits:-0}" -gt 0 ]
        check "redis: replies split into 1-7 byte pieces parse (ops ${ops:-?}, hits ${hits:-?})" $?
        stop_pid "$FAKE_PID"
    else
        check "fake server starts" 1
    fi
    if start_fake corrupt; then
        bench -P redis -p "$FAKE_PORT" -t 1 -c 2 --pipeline 4 -n 300 --key-maximum 99 --fill \
            --json-out "$WORK/resp-corrupt.json"
        rc=$?
        bad=$(json_field "$WORK/resp-corrupt.json" errors_value)
        [ $rc -eq 1 ] && [ "${bad:-0}" -gt 0 ]
        check "redis: wrong values are counted (errors_value ${bad:-?}) and fail the run" $?
        stop_pid "$FAKE_PID"
    else
        check "fake server starts" 1
    fi
    # meta (--protocol meta) against the same fakes.
    if start_fake trickle; then
        bench -P meta -p "$FAKE_PORT" -t 1 -c 2 --pipeline 8 -n 300 --key-maximum 99 --data-size-range 1-300 \
            --fill --json-out "$WORK/meta-trickle.json"
        rc=$?
        ops=$(json_field "$WORK/meta-trickle.json" ops)
        hits=$(json_field "$WORK/meta-trickle.json" get_hits)
        [ $rc -eq 0 ] && [ "${ops:-0}" -eq 600 ] && [ "${hits:-0}" -gt 0 ]
        check "meta: replies split into 1-7 byte pieces parse (ops ${ops:-?}, hits ${hits:-?})" $?
        stop_pid "$FAKE_PID"
    else
        check "fake server starts" 1
    fi
    if start_fake corrupt; then
        bench -P meta -p "$FAKE_PORT" -t 1 -c 2 --pipeline 4 -n 300 --key-maximum 99 --fill \
            --json-out "$WORK/meta-corrupt.json"
        rc=$?
        bad=$(json_field "$WORK/meta-corrupt.json" errors_value)
        [ $rc -eq 1 ] && [ "${bad:-0}" -gt 0 ]
        check "meta: wrong values are counted (errors_value ${bad:-?}) and fail the run" $?
        stop_pid "$FAKE_PID"
    else
        check "fake server starts" 1
    fi
    if start_fake garbage; then
        bench -P meta -p "$FAKE_PORT" -t 1 -c 1 -n 10 --key-maximum 9 --json-out "$WORK/meta-garbage.json"
        rc=$?
        bad=$(json_field "$WORK/meta-garbage.json" errors_protocol)
        [ $rc -eq 1 ] && [ "${bad:-0}" -gt 0 ]
        check "meta: a reply that is not a meta reply is a protocol error (errors_protocol ${bad:-?})" $?
        stop_pid "$FAKE_PID"
    else
        check "fake server starts" 1
    fi
    if start_fake garbage; then
        bench -P redis -p "$FAKE_PORT" -t 1 -c 1 -n 10 --key-maximum 9 --json-out "$WORK/resp-garbage.json"
        rc=$?
        bad=$(json_field "$WORK/resp-garbage.json" errors_protocol)
        [ $rc -eq 1 ] && [ "${bad:-0}" -gt 0 ]
        check "redis: a reply that is not RESP is a protocol error (errors_protocol ${bad:-?})" $?
        stop_pid "$FAKE_PID"
    else
        check "fake server starts" 1
    fi
fi

if [ "$failed" -ne 0 ]; then
    echo "--- cairn-bench output"
    cat "$WORK/bench.out"
fi
echo "$passed passed, $failed failed"
[ "$failed" -eq 0 ]
