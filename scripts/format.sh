#!/usr/bin/env bash
# Formats every C++ source and header the repository tracks with the checked-in .clang-format.
# --check: changes nothing, lists the files that differ and exits 1 when there are any (CI runs
# this before the build, so unformatted code fails in seconds, not after an hour).
set -euo pipefail
cd "$(dirname "$0")/.."
check=0
[ "${1:-}" = "--check" ] && check=1
command -v clang-format >/dev/null || {
  echo "format: clang-format is missing (Debian: apt-get install clang-format)" >&2
  exit 2
}
mapfile -t files < <(git ls-files '*.cpp' '*.h' | grep -v '^tests/fuzz/seeds/')
if [ $check -eq 0 ]; then
  clang-format -i "${files[@]}"
  exit 0
fi
bad=()
for f in "${files[@]}"; do
  clang-format "$f" | cmp -s - "$f" || bad+=("$f")
done
if [ ${#bad[@]} -gt 0 ]; then
  echo "format: ${#bad[@]} file(s) differ from .clang-format (run scripts/format.sh):" >&2
  printf '  %s\n' "${bad[@]}" >&2
  exit 1
fi
