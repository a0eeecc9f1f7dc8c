#!/usr/bin/env bash
# Installs the build tree into a temporary prefix, then configures and builds this consumer
# project against it with find_package(acp), and runs the proxy it built once (--help is not
# a thing for it: it must start and end cleanly when its input closes).
set -euo pipefail
build_dir=$1
here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
cmake --install "$build_dir" --prefix "$work/prefix" >/dev/null
cmake -S "$here" -B "$work/build" -G Ninja -DCMAKE_PREFIX_PATH="$work/prefix" >/dev/null
cmake --build "$work/build" >/dev/null
test -x "$work/prefix/bin/acp-conductor"
test -f "$work/prefix/share/man/man1/acp-conductor.1"
test -f "$work/prefix/lib/pkgconfig/acp.pc"
"$work/build/my-proxy" </dev/null
echo "consumer project built and ran against the installed package"
