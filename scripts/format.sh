#!/usr/bin/env bash
# Formats every tracked C++ file (*.cpp, *.hpp) with Debian's clang-format and the checked-in
# .clang-format. The output depends on the clang-format version: the reference is Debian 12's
# (clang-format 14, installed by scripts/setup.sh); CLANG_FORMAT names another binary.
#   scripts/format.sh           rewrite the files that differ, in place
#   scripts/format.sh --check   change nothing; list the files that differ and exit 1 if there are any
# Without git (a tarball of the tree) every *.cpp/*.hpp outside build*/ and third_party/ is taken.
set -euo pipefail
root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
cd "$root"
mode=fix
case "${1:-}" in
  --check) mode=check ;;
  "") ;;
  *) echo "usage: scripts/format.sh [--check]" >&2; exit 2 ;;
esac
clang_format=${CLANG_FORMAT:-clang-format}
if ! command -v "$clang_format" >/dev/null 2>&1; then
  echo "format: $clang_format not found (Debian package clang-format; scripts/setup.sh installs it)" >&2
  exit 2
fi

if command -v git >/dev/null 2>&1 && [ "$(git rev-parse --show-toplevel 2>/dev/null)" = "$root" ]; then
  mapfile -d '' files < <(git ls-files -z -- '*.cpp' '*.hpp')
else
  mapfile -d '' files < <(find . \( -path './build*' -o -path ./third_party -o -name .git -o -name node_modules \) \
                               -prune -o -type f \( -name '*.cpp' -o -name '*.hpp' \) -printf '%P\0' | sort -z)
fi
if [ "${#files[@]}" -eq 0 ]; then
  echo "format: no C++ files found" >&2
  exit 2
fi

# One clang-format per file, as many at once as there are processors; prints the files that differ.
differing() {
  printf '%s\0' "${files[@]}" | CLANG_FORMAT="$clang_format" xargs -0 -n 8 -P "$(nproc)" sh -c '
    for f; do "$CLANG_FORMAT" --style=file "$f" | cmp -s - "$f" || printf "%s\n" "$f"; done' sh | sort
}

if [ "$mode" = check ]; then
  mapfile -t bad < <(differing)
  if [ "${#bad[@]}" -ne 0 ]; then
    echo "format: ${#bad[@]} of ${#files[@]} C++ files are not formatted as .clang-format says" \
         "($("$clang_format" --version | sed 's/.*version //')):" >&2
    printf '  %s\n' "${bad[@]}" >&2
    echo "format: run scripts/format.sh to fix them" >&2
    exit 1
  fi
  echo "format: all ${#files[@]} C++ files are formatted" >&2
else
  printf '%s\0' "${files[@]}" | xargs -0 -n 8 -P "$(nproc)" "$clang_format" --style=file -i
  echo "format: formatted ${#files[@]} C++ files" >&2
fi
