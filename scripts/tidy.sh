#!/usr/bin/env bash
# Runs clang-tidy 19 (.clang-tidy: the names of docs/DESIGN.md §7 and a few bug
# checks) over the library's and the programs' sources, one process per core.
# Any finding fails, and is printed.
#
#   scripts/tidy.sh [--build-dir DIR]    DIR: a configured build (default build/)
#
# scripts/test.sh runs it after the build; scripts/setup.sh installs clang-tidy-19.
set -euo pipefail

root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
build_dir="$root/build"
while [ $# -gt 0 ]; do
  case "$1" in
    --build-dir) build_dir=$2; shift 2 ;;
    *) echo "tidy.sh: unknown option '$1'" >&2; exit 2 ;;
  esac
done

tidy=clang-tidy-19
if ! command -v "$tidy" >/dev/null; then
  echo "tidy.sh: $tidy is not installed (scripts/setup.sh installs it;" \
       "scripts/test.sh --no-tidy skips this step)" >&2
  exit 1
fi
db="$build_dir/compile_commands.json"
if [ ! -f "$db" ]; then
  echo "tidy.sh: no $db (configure the build first: scripts/setup.sh --configure-only)" >&2
  exit 1
fi

# The library's and the programs' translation units, as the build compiles them
# (tests, benchmarks, fuzzers and examples are not checked).
mapfile -t files < <(sed -n 's/^ *"file": "\(.*\)",\{0,1\}$/\1/p' "$db" |
  grep -E "^$root/(src|tools)/.*\.cpp$" | sort -u)
if [ ${#files[@]} -eq 0 ]; then
  echo "tidy.sh: no source files found in $db" >&2
  exit 1
fi

logs=$(mktemp -d)
trap 'rm -rf "$logs"' EXIT
start=$(date +%s)
# One log per file, so that parallel runs do not mix their lines.
printf '%s\n' "${files[@]}" | xargs -P "$(nproc)" -I{} sh -c '
  log="$4/$(printf %s "$3" | tr / _).log"
  "$1" -p "$2" --quiet "$3" >"$log" 2>&1 || echo "$3" >>"$4/failed"
' sh "$tidy" "$build_dir" {} "$logs"

if [ -f "$logs/failed" ]; then
  # A header's finding shows once per file that includes it: print each once.
  sort "$logs/failed" | while read -r f; do
    grep -v -E '^[0-9]+ warnings? (generated|treated as errors)\.$' \
      "$logs/$(printf %s "$f" | tr / _).log"
  done | awk '/^\// { seen = ($0 in shown); shown[$0] = 1 } !seen' >&2
  echo "tidy.sh: clang-tidy found problems in $(wc -l <"$logs/failed") of ${#files[@]} files" >&2
  exit 1
fi
echo "tidy.sh: ${#files[@]} files clean ($(($(date +%s) - start)) s)"
