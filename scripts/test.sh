#!/usr/bin/env bash
# Builds everything and runs every test (README's test command; .ci/run calls it).
set -euo pipefail
root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
build=${ACP_BUILD_DIR:-$root/build}
"$root/scripts/build.sh"
# In CI the fuzz targets run too — 20,000 runs each from a fixed seed, so the gate is the same
# on every machine — and ACP_FUZZ_SECONDS=N runs them for N seconds each instead. Before the
# tests, so that CTest's summary is the last thing printed.
if [ -n "${ACP_FUZZ_SECONDS:-}" ]; then
  "$root/scripts/fuzz.sh" "$ACP_FUZZ_SECONDS"
elif [ -n "${CI:-}" ]; then
  ACP_FUZZ_RUNS=${ACP_FUZZ_RUNS:-20000} "$root/scripts/fuzz.sh"
fi
cd "$build"
ctest --output-on-failure -j "$(nproc)" --timeout 300 "$@"
