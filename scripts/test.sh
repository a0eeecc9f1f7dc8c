#!/usr/bin/env bash
# Builds everything and runs every test (README's test command; .ci/run calls it).
# Order: the formatting check (fails fast, before any build), the build, in CI the fuzz targets, the
# unit tests under ASan+UBSan and the .deb round trip, and last the whole CTest suite, whose summary
# ends the output.
set -euo pipefail
root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
build=${ACP_BUILD_DIR:-$root/build}
"$root/scripts/setup.sh"
if ! "$root/scripts/format.sh" --check; then
  echo "test: the C++ sources are not formatted (see the list above); run scripts/format.sh and commit" >&2
  exit 1
fi
"$root/scripts/build.sh"
# In CI the fuzz targets run too — 20,000 runs each from a fixed seed, so the gate is the same
# on every machine — and ACP_FUZZ_SECONDS=N runs them for N seconds each instead.
if [ -n "${ACP_FUZZ_SECONDS:-}" ]; then
  "$root/scripts/fuzz.sh" "$ACP_FUZZ_SECONDS"
elif [ -n "${CI:-}" ]; then
  ACP_FUZZ_RUNS=${ACP_FUZZ_RUNS:-20000} "$root/scripts/fuzz.sh"
fi
# In CI the unit tests also run under AddressSanitizer and UndefinedBehaviorSanitizer, in a second
# build tree (build-asan). Before the full suite, so that CTest's summary is the last thing printed.
if [ -n "${CI:-}" ]; then
  "$root/scripts/sanitize.sh"
fi
# In CI the .deb round trip too (scripts/deb_roundtrip.sh): cpack builds the package, dpkg installs
# it, the demo chain runs from /usr/bin, dpkg removes it. It skips (with a message) where it cannot
# install (not root, no dpkg, acp-conductor already installed from elsewhere).
if [ -n "${CI:-}" ]; then
  "$root/scripts/deb_roundtrip.sh" "$build"
fi
cd "$build"
ctest --output-on-failure -j "$(nproc)" --timeout 300 "$@"
