#!/usr/bin/env bash
# Builds everything and runs every test (README's test command; .ci/run calls it).
set -euo pipefail
root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
build=${ACP_BUILD_DIR:-$root/build}
"$root/scripts/build.sh"
# In CI (or when asked) the fuzz targets run too, before the tests so that CTest's summary is
# the last thing printed.
if [ -n "${CI:-}" ] || [ -n "${ACP_FUZZ_SECONDS:-}" ]; then "$root/scripts/fuzz.sh" "${ACP_FUZZ_SECONDS:-30}"; fi
cd "$build"
ctest --output-on-failure -j "$(nproc)" --timeout 300 "$@"
