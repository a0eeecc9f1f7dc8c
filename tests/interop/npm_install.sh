#!/bin/sh
# Installs the pinned TypeScript packages into NODE_DIR (in the build tree) from its package.json
# and package-lock.json. Exit 77 (CTest: skipped) with the reason when node, npm or the registry
# is unavailable; the reason is kept in NODE_DIR/skip-reason.txt for the tests that need it.
#   npm_install.sh NODE_DIR SPEC...
set -u
dir=$1
shift
mkdir -p "$dir"
rm -f "$dir/skip-reason.txt"
skip() {
  echo "$1" > "$dir/skip-reason.txt"
  echo "SKIPPED: $1"
  exit 77
}
command -v node >/dev/null 2>&1 || skip "node is not installed"
command -v npm >/dev/null 2>&1 || skip "npm is not installed"
major=$(node -p 'process.versions.node.split(".")[0]' 2>/dev/null || echo 0)
[ "$major" -ge 18 ] || skip "node $(node --version) is too old (18 or newer needed)"
all_present=yes
for spec in "$@"; do
  name=${spec%@*}
  version=${spec##*@}
  have=$(node -p "require('$dir/node_modules/$name/package.json').version" 2>/dev/null || true)
  [ "$have" = "$version" ] || all_present=no
done
if [ "$all_present" = yes ]; then
  echo "already installed: $*"
  exit 0
fi
if command -v timeout >/dev/null 2>&1; then limit="timeout 300"; else limit=""; fi
if ! $limit npm install --no-audit --no-fund --save-exact --prefix "$dir" "$@"; then
  skip "npm install $* failed (is the npm registry reachable?)"
fi
echo "installed: $*"
