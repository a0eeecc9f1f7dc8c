#!/usr/bin/env bash
# Builds the libFuzzer targets of tests/fuzz with clang++ and ASan/UBSan into ./build-fuzz (or
# $ACP_FUZZ_BUILD_DIR) and runs each for SECONDS (default 60) on a copy of its seed corpus.
# Fails on any crash, leak, timeout or out-of-memory; prints executions and coverage per target.
# ACP_FUZZ_RUNS=N replaces the time budget by N runs from a fixed seed (deterministic).
#   scripts/fuzz.sh [SECONDS] [TARGET...]
# Crash inputs land in $build/fuzz-artifacts/; reproduce one with `$build/tests/fuzz/TARGET FILE`.
set -euo pipefail
root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
build=${ACP_FUZZ_BUILD_DIR:-$root/build-fuzz}
seconds=${1:-60}
shift || true
targets=("$@")
if [ "${#targets[@]}" -eq 0 ]; then
  targets=(fuzz_line_decoder fuzz_jsonrpc fuzz_envelope fuzz_json_scan fuzz_typed fuzz_component fuzz_router
           fuzz_policy_path fuzz_mcp_http)
fi
declare -A max_len=([fuzz_line_decoder]=4096 [fuzz_jsonrpc]=4096 [fuzz_envelope]=2048 [fuzz_json_scan]=4096
                    [fuzz_typed]=4096 [fuzz_component]=512 [fuzz_router]=8192 [fuzz_policy_path]=24
                    [fuzz_mcp_http]=4096)

"$root/scripts/setup.sh"
launcher=()
# ccache: paths inside the tree are hashed relative to it and the build directory is not
# hashed, so every clone shares the cache (debug info of a cache hit names the first clone).
export CCACHE_BASEDIR=${CCACHE_BASEDIR:-$root} CCACHE_NOHASHDIR=${CCACHE_NOHASHDIR:-1}
if command -v ccache >/dev/null 2>&1; then launcher=(-DCMAKE_CXX_COMPILER_LAUNCHER=ccache); fi
start=$(date +%s)
if [ ! -f "$build/build.ninja" ]; then
  cmake -S "$root" -B "$build" -G Ninja -DCMAKE_BUILD_TYPE=RelWithDebInfo -DCMAKE_CXX_COMPILER=clang++ \
    -DACP_FUZZ=ON -DACP_SANITIZE='address;undefined' -DACP_BUILD_TESTS=OFF -DACP_BUILD_BENCHMARKS=OFF \
    -DACP_WERROR=OFF -DCMAKE_CXX_FLAGS=-Wno-unknown-warning-option "${launcher[@]}" >/dev/null
fi
cmake --build "$build" -j "$(nproc)" --target "${targets[@]}"
if [ -n "${ACP_FUZZ_RUNS:-}" ]; then budget_text="$ACP_FUZZ_RUNS runs each from seed 1"; else budget_text="${seconds} s each"; fi
echo "fuzz: built in $(($(date +%s) - start)) s; running ${#targets[@]} targets, $budget_text" >&2

work=$(mktemp -d /tmp/acp-fuzz.XXXXXX)
trap 'rm -rf "$work"' EXIT
artifacts="$build/fuzz-artifacts"
mkdir -p "$artifacts"
export ASAN_OPTIONS=${ASAN_OPTIONS:-detect_leaks=1:abort_on_error=1}
export UBSAN_OPTIONS=${UBSAN_OPTIONS:-print_stacktrace=1:halt_on_error=1}

run_one() { # target -> $work/target.{log,rc}
  local t=$1
  mkdir -p "$work/$t.corpus"
  cp -r "$root/tests/fuzz/corpus/$t/." "$work/$t.corpus/"
  local rc=0
  local budget=(-max_total_time="$seconds")
  # ACP_FUZZ_RUNS=N: a fixed number of runs from a fixed seed instead of a time budget, so the
  # run is the same on every machine (what CI uses: a gate must not depend on luck or speed).
  if [ -n "${ACP_FUZZ_RUNS:-}" ]; then budget=(-runs="$ACP_FUZZ_RUNS" -seed=1); fi
  "$build/tests/fuzz/$t" "${budget[@]}" -max_len="${max_len[$t]:-4096}" -timeout=10 \
    -rss_limit_mb=2048 -print_final_stats=1 -artifact_prefix="$artifacts/$t-" "$work/$t.corpus" \
    >"$work/$t.log" 2>&1 || rc=$?
  echo "$rc" >"$work/$t.rc"
}

# Two cores: run as many targets at once as there are processors.
jobs_max=$(nproc)
for t in "${targets[@]}"; do
  while [ "$(jobs -rp | wc -l)" -ge "$jobs_max" ]; do wait -n || true; done
  run_one "$t" &
done
wait

failed=0
printf '%-18s %12s %8s %8s %8s  %s\n' target executions exec/s cov ft result >&2
for t in "${targets[@]}"; do
  rc=$(cat "$work/$t.rc")
  execs=$(sed -n 's/^stat::number_of_executed_units: *//p' "$work/$t.log" | tail -1)
  speed=$(sed -n 's/^stat::average_exec_per_sec: *//p' "$work/$t.log" | tail -1)
  last=$(grep -E '^#[0-9]+' "$work/$t.log" | tail -1 || true)
  cov=$(sed -n 's/.* cov: \([0-9]*\).*/\1/p' <<<"$last")
  ft=$(sed -n 's/.* ft: \([0-9]*\).*/\1/p' <<<"$last")
  result=ok
  if [ "$rc" -ne 0 ]; then result="FAILED (exit $rc)"; failed=1; fi
  printf '%-18s %12s %8s %8s %8s  %s\n' "$t" "${execs:-?}" "${speed:-?}" "${cov:-?}" "${ft:-?}" "$result" >&2
done
if [ "$failed" -ne 0 ]; then
  for t in "${targets[@]}"; do
    if [ "$(cat "$work/$t.rc")" -ne 0 ]; then
      echo "==== $t (last 60 lines; crash inputs in $artifacts)" >&2
      tail -60 "$work/$t.log" >&2
    fi
  done
  exit 1
fi
echo "fuzz: all targets passed in $(($(date +%s) - start)) s" >&2
