#!/usr/bin/env bash
# Runs every libFuzzer target of tests/fuzz for a while and says what each did.
#
#   tests/fuzz/run.sh [seconds] [target...]     (default: 60 seconds each, every target)
#
# Run from a configured build directory (`make fuzz` builds the targets first). For each target it
# first replays the committed findings in tests/fuzz/regressions/<target>/ (each must pass), then
# fuzzes from the seeds in tests/fuzz/corpus/<target>/ with the target's dictionary. The corpus it
# grows goes to fuzz-work/<target>/corpus (kept between runs: a later run starts from it); a crash
# goes to fuzz-work/<target>/ and the script fails. Copy a crash into regressions/<target>/ once
# the bug is fixed. FUZZ_JOBS=n runs n fuzzing processes per target; FUZZ_MAX_LEN caps input size
# (default 4096). Prints per target: executions, executions per second, findings.
set -euo pipefail

secs=${1:-60}
shift || true
targets=("$@")
[ "${#targets[@]}" -gt 0 ] || targets=(fuzz_parse fuzz_snapshot fuzz_session fuzz_resp fuzz_resp_session fuzz_mcbin_session fuzz_mc_auth fuzz_rdb)
jobs=${FUZZ_JOBS:-1}
max_len=${FUZZ_MAX_LEN:-4096}

src=$(cd "$(dirname "$0")" && pwd)
make fuzz >/dev/null

export ASAN_OPTIONS=${ASAN_OPTIONS:-abort_on_error=1:detect_leaks=1}
export UBSAN_OPTIONS=${UBSAN_OPTIONS:-print_stacktrace=1:halt_on_error=1}

failed=0
summary=()
for t in "${targets[@]}"; do
    bin=tests/fuzz/$t
    work=fuzz-work/$t
    mkdir -p "$work/corpus"
    rm -f "$work"/fuzz-*.log

    # The committed findings: every one must run clean.
    regress=$(find "$src/regressions/$t" -type f ! -name '.*' ! -name '*.md' 2>/dev/null | sort || true)
    nreg=0
    if [ -n "$regress" ]; then
        nreg=$(echo "$regress" | wc -l)
        # shellcheck disable=SC2086
        if ! "$bin" -runs=1 $regress >"$work/regressions.log" 2>&1; then
            echo "== $t: a committed finding fails again:"
            tail -n 40 "$work/regressions.log"
            failed=1
            summary+=("$t: regression replay FAILED ($nreg inputs)")
            continue
        fi
    fi

    touch "$work/.start"
    start=$(date +%s)
    pids=()
    for j in $(seq 1 "$jobs"); do
        "$bin" -max_total_time="$secs" -max_len="$max_len" -dict="$src/$t.dict" -print_final_stats=1 \
            -artifact_prefix="$work/" -timeout=10 -rss_limit_mb=2048 \
            "$work/corpus" "$src/corpus/$t" >"$work/fuzz-$j.log" 2>&1 &
        pids+=($!)
    done
    rc=0
    for p in "${pids[@]}"; do
        wait "$p" || rc=1
    done
    took=$(( $(date +%s) - start ))
    [ "$took" -gt 0 ] || took=1
    execs=0
    for j in $(seq 1 "$jobs"); do
        n=$(sed -n 's/^stat::number_of_executed_units: *//p' "$work/fuzz-$j.log" | tail -n 1)
        execs=$(( execs + ${n:-0} ))
    done
    findings=$(find "$work" -maxdepth 1 -type f \( -name 'crash-*' -o -name 'leak-*' -o -name 'timeout-*' -o -name 'oom-*' \) -newer "$work/.start" 2>/dev/null | wc -l)
    if [ "$rc" -ne 0 ] && [ "$findings" -eq 0 ]; then
        findings=1
    fi
    line="$t: $execs executions in ${took}s ($(( execs / took )) exec/s, $jobs job(s)), $nreg regression input(s) replayed, $findings finding(s)"
    summary+=("$line")
    if [ "$findings" -ne 0 ]; then
        failed=1
        echo "== $t: FINDING"
        for j in $(seq 1 "$jobs"); do
            grep -a -m1 -B2 -A30 -E '^==[0-9]+==ERROR|check failed|SUMMARY' "$work/fuzz-$j.log" || true
        done
        ls "$work"/crash-* "$work"/leak-* "$work"/timeout-* "$work"/oom-* 2>/dev/null || true
    fi
done

echo "== fuzz summary (${secs}s per target)"
printf '%s\n' "${summary[@]}"
exit "$failed"
