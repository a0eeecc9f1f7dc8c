#!/usr/bin/env bash
# Configures and builds into ./build (or $ACP_BUILD_DIR). Extra arguments go to cmake's configure step.
set -euo pipefail
root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
build=${ACP_BUILD_DIR:-$root/build}
"$root/scripts/setup.sh"
launcher=()
# ccache: paths inside the tree are hashed relative to it and the build directory is not
# hashed, so every clone shares the cache (debug info of a cache hit names the first clone).
export CCACHE_BASEDIR=${CCACHE_BASEDIR:-$root} CCACHE_NOHASHDIR=${CCACHE_NOHASHDIR:-1}
if command -v ccache >/dev/null 2>&1; then launcher=(-DCMAKE_CXX_COMPILER_LAUNCHER=ccache); fi
if [ ! -f "$build/build.ninja" ] || [ "$#" -gt 0 ]; then
  cmake -S "$root" -B "$build" -G Ninja -DCMAKE_BUILD_TYPE="${ACP_BUILD_TYPE:-RelWithDebInfo}" "${launcher[@]}" "$@" >/dev/null
fi
cmake --build "$build" -j "$(nproc)"
