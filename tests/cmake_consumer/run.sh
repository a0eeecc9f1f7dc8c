#!/usr/bin/env bash
# Installs the build tree into a temporary prefix, then configures and builds this consumer
# project against it with find_package(acp): my_proxy.cpp and the one-file example proxies
# (examples/proxies/turn-limit, auto-approve-reads, timing, scratchpad). Runs each proxy it built once (each
# must start and end cleanly when its input closes), and the one-file proxies with --help and
# --version (acp::command_line of the installed SDK).
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
for program in acp-turn-limit-proxy acp-auto-approve-reads-proxy acp-timing-proxy acp-scratchpad-proxy; do
  test -x "$work/prefix/bin/$program"
  test -f "$work/prefix/share/man/man1/$program.1"
done
for proxy in my-proxy acp-turn-limit-proxy acp-auto-approve-reads-proxy acp-timing-proxy acp-scratchpad-proxy; do
  "$work/build/$proxy" </dev/null || { echo "$proxy built against the installed package exited $?" >&2; exit 1; }
done
version=$(sed -n 's/^#define ACP_VERSION "\(.*\)"$/\1/p' "$work/prefix/include/acp/version.hpp")
test -n "$version"
for program in acp-turn-limit-proxy acp-auto-approve-reads-proxy acp-timing-proxy acp-scratchpad-proxy; do
  help=$("$work/build/$program" --help)
  [[ $help == *$'\n'"Usage: $program"* ]] || { echo "$program --help: no usage line: $help" >&2; exit 1; }
  test "$("$work/build/$program" --version)" = "$program $version" || { echo "$program --version is wrong" >&2; exit 1; }
done
echo "consumer project (my-proxy and the four one-file example proxies) built and ran against the installed package"
