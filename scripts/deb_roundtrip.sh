#!/usr/bin/env bash
# The .deb round trip (scripts/test.sh runs it in CI): builds the acp-conductor package with cpack
# from a build tree, installs it with dpkg, runs the demo chain (scripts/demo.sh's first chain)
# from the installed programs in /usr/bin, checks the answer and what the package holds, removes
# it and checks that its files are gone. Needs root and dpkg. It never touches an acp-conductor
# installed some other way: then it skips, with a message. Whatever fails, the package it
# installed is removed again (trap).
#   scripts/deb_roundtrip.sh [BUILD_DIR]     (default: $ACP_BUILD_DIR, else ./build)
set -euo pipefail
root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
build=${1:-${ACP_BUILD_DIR:-$root/build}}
package=acp-conductor

say() { echo "deb_roundtrip: $*"; }
fail() {
  echo "deb_roundtrip: FAILED: $*" >&2
  exit 1
}
skip() {
  say "skipped: $*"
  exit 0
}

command -v dpkg >/dev/null 2>&1 || skip "dpkg is not available (not a Debian system)"
command -v cpack >/dev/null 2>&1 || fail "cpack is not on PATH"
[ "$(id -u)" -eq 0 ] || skip "installing a package needs root"
[ -f "$build/CPackConfig.cmake" ] || fail "$build is not a configured build tree (no CPackConfig.cmake); run scripts/build.sh"
status=$(dpkg-query -W -f='${Status}' "$package" 2>/dev/null || true)
case "$status" in
*" installed" | *half* | *unpacked*) skip "$package is already installed on this machine ($status); not replacing it" ;;
esac
for f in /usr/bin/acp-conductor /usr/bin/acp-test-agent /usr/include/acp; do
  [ ! -e "$f" ] || skip "$f exists and belongs to no $package package; not overwriting it"
done

work=$(mktemp -d /tmp/acp-deb.XXXXXX)
installed=0
cleanup() {
  local rc=$?
  if [ "$installed" -eq 1 ]; then
    say "removing $package after a failure"
    dpkg -r "$package" >/dev/null 2>&1 || echo "deb_roundtrip: could not remove $package: run dpkg -r $package" >&2
  fi
  rm -rf "$work"
  exit "$rc"
}
trap cleanup EXIT

say "building the package (cpack -G DEB in $build)"
(cd "$build" && cpack -G DEB -B "$work/out" >"$work/cpack.log" 2>&1) || {
  cat "$work/cpack.log" >&2
  fail "cpack could not build the package (its output is above)"
}
deb=$(find "$work/out" -maxdepth 1 -name "${package}_*.deb" | head -n 1)
[ -n "$deb" ] || fail "cpack wrote no ${package}_*.deb into $work/out"
say "built $(basename "$deb")"

# What the package says about itself, and what it holds.
info=$(dpkg-deb -f "$deb" Package Version Depends Recommends Maintainer)
grep -q "^Package: $package\$" <<<"$info" || fail "wrong package name: $info"
version=$(sed -n 's/^#define ACP_VERSION "\(.*\)"$/\1/p' "$build/protocol/include/acp/version.hpp")
grep -q "^Version: $version\$" <<<"$info" || fail "the package version is not the project's ($version): $info"
grep -q "^Depends: .*libboost-json1.81" <<<"$info" || fail "Depends lacks Boost.JSON: $info"
grep -q "^Depends: .*libssl3" <<<"$info" || fail "Depends lacks libssl3: $info"
grep -q "^Recommends: .*libboost1.81-dev" <<<"$info" || fail "Recommends lacks the Boost headers: $info"
contents=$(dpkg-deb -c "$deb" | awk '{print $NF}')
for want in ./usr/bin/acp-conductor ./usr/bin/acp-mcp-bridge ./usr/bin/acp-test-agent ./usr/bin/acp-prompt \
  ./usr/bin/acp-arrow-proxy ./usr/bin/acp-transcript-proxy ./usr/share/man/man1/acp-conductor.1 \
  ./usr/include/acp/sdk/connection.hpp ./usr/include/acp/version.hpp ./usr/lib/cmake/acp/acpConfig.cmake \
  ./usr/lib/pkgconfig/acp.pc ./usr/lib/libacp_proxy_sdk.a; do
  grep -qx -- "$want" <<<"$contents" || fail "the package does not hold $want"
done

say "installing it (dpkg -i)"
installed=1
dpkg -i "$deb" >"$work/dpkg.log" 2>&1 || {
  cat "$work/dpkg.log" >&2
  fail "dpkg -i failed (its output is above)"
}

# The installed programs, not the build tree's: absolute /usr/bin paths, and (for what they
# start themselves) a PATH without the build tree.
installed_path=/usr/local/bin:/usr/bin:/bin
got=$(/usr/bin/acp-conductor --version) || fail "/usr/bin/acp-conductor --version failed"
[ "$got" = "acp-conductor $version" ] || fail "/usr/bin/acp-conductor --version printed '$got'"
if command -v pkg-config >/dev/null 2>&1; then
  inc=$(PKG_CONFIG_PATH=/usr/lib/pkgconfig pkg-config --variable=includedir acp) || fail "pkg-config cannot read acp.pc"
  [ "$(realpath -m "$inc")" = /usr/include ] || fail "acp.pc's includedir is $inc, not /usr/include"
fi

say "running the demo chain from /usr/bin"
out=$(cd "$work" && PATH=$installed_path timeout 60 /usr/bin/acp-prompt "echo Hello through the chain" -- \
  /usr/bin/acp-conductor --trace "$work/trace.jsonl" agent "/usr/bin/acp-transcript-proxy --dir $work/transcripts" \
  /usr/bin/acp-arrow-proxy /usr/bin/acp-arrow-proxy /usr/bin/acp-test-agent 2>"$work/chain.err") || {
  cat "$work/chain.err" >&2
  fail "the demo chain failed (exit $?; its stderr is above)"
}
grep -qx ">>echo: Hello through the chain" <<<"$out" || fail "unexpected answer from the chain: '$out'"
ls "$work"/transcripts/*.md >/dev/null 2>&1 || fail "the installed transcript proxy wrote no transcript"
grep -q '"method":"session/prompt"' "$work/trace.jsonl" || fail "the installed conductor traced no session/prompt"
say "the chain answered: $out"

say "removing it (dpkg -r)"
dpkg -r "$package" >"$work/dpkg.log" 2>&1 || {
  cat "$work/dpkg.log" >&2
  fail "dpkg -r failed (its output is above)"
}
installed=0
left=()
while read -r f; do
  f=${f#.}
  [ -n "$f" ] && [ "$f" != / ] || continue
  [ -d "$f" ] && continue # shared directories (/usr/bin, ...) stay
  [ -e "$f" ] && left+=("$f")
done <<<"$contents"
[ ${#left[@]} -eq 0 ] || fail "files left after dpkg -r: ${left[*]}"
[ ! -e /usr/include/acp ] || fail "/usr/include/acp is left after dpkg -r"
[ ! -e /usr/lib/cmake/acp ] || fail "/usr/lib/cmake/acp is left after dpkg -r"
status=$(dpkg-query -W -f='${Status}' "$package" 2>/dev/null || true)
case "$status" in
*" installed") fail "dpkg still lists $package as installed" ;;
esac
say "ok: built, installed, ran the demo chain from /usr/bin, removed"
