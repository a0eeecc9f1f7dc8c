#!/usr/bin/env bash
# Builds the unit tests — acp_protocol_tests, acp_proxy_sdk_tests, acp_conductor_tests, the MCP
# bridge's and acp-fanout's (CTest label `unit`) — with AddressSanitizer and
# UndefinedBehaviorSanitizer into ./build-asan (or $ACP_ASAN_BUILD_DIR) and runs them with
# CTest. Any sanitizer report (memory error, leak, undefined behaviour) aborts the test that
# triggered it, so the run fails. scripts/test.sh runs this in CI; benchmarks, examples and
# end-to-end tests are not built here.
#   scripts/sanitize.sh [CTEST ARGUMENTS...]
set -euo pipefail
root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
build=${ACP_ASAN_BUILD_DIR:-$root/build-asan}
targets=(acp_protocol_tests acp_proxy_sdk_tests acp_conductor_tests acp_mcp_bridge_tests acp_mcp_bridge_proxy_tests
         acp_fanout_unit_tests)

"$root/scripts/setup.sh"
launcher=()
# ccache: paths inside the tree are hashed relative to it and the build directory is not
# hashed, so every clone shares the cache (debug info of a cache hit names the first clone).
export CCACHE_BASEDIR=${CCACHE_BASEDIR:-$root} CCACHE_NOHASHDIR=${CCACHE_NOHASHDIR:-1}
if command -v ccache >/dev/null 2>&1; then launcher=(-DCMAKE_CXX_COMPILER_LAUNCHER=ccache); fi
start=$(date +%s)
if [ ! -f "$build/build.ninja" ]; then
  cmake -S "$root" -B "$build" -G Ninja -DCMAKE_BUILD_TYPE=RelWithDebInfo -DACP_SANITIZE='address;undefined' \
    -DACP_BUILD_BENCHMARKS=OFF "${launcher[@]}" >/dev/null
fi
cmake --build "$build" -j "$(nproc)" --target "${targets[@]}"
echo "sanitize: built ${targets[*]} with address;undefined in $(($(date +%s) - start)) s" >&2

export ASAN_OPTIONS=${ASAN_OPTIONS:-detect_leaks=1:abort_on_error=1}
export UBSAN_OPTIONS=${UBSAN_OPTIONS:-print_stacktrace=1:halt_on_error=1}
cd "$build"
run_start=$(date +%s)
ctest -L '^unit$' --output-on-failure -j "$(nproc)" --timeout 300 "$@"
echo "sanitize: unit tests passed under ASan+UBSan in $(($(date +%s) - run_start)) s" \
     "($(($(date +%s) - start)) s with the build)" >&2
