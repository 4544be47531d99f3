#!/usr/bin/env bash
# Installs the project into a temporary prefix, then builds the print_changes
# example on its own against it, once with find_package(vil_trigger_cdc) and
# once with pkg-config: what a user's project does.
set -euo pipefail
build_dir=$1
source_dir=$2
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
cmake --install "$build_dir" --prefix "$work/prefix" >/dev/null
cmake -S "$source_dir/examples/print_changes" -B "$work/example" \
  -DCMAKE_PREFIX_PATH="$work/prefix" >/dev/null
cmake --build "$work/example" -j 2 >/dev/null
test -x "$work/example/print_changes"
# Run without arguments: the usage line proves it links and starts.
if "$work/example/print_changes" 2>"$work/usage.txt"; then
  echo "print_changes without arguments should fail" >&2
  exit 1
fi
grep -q "usage:" "$work/usage.txt"
PKG_CONFIG_PATH="$work/prefix/lib/pkgconfig" pkg-config --cflags --libs vil_trigger_cdc >/dev/null
echo "installed package: find_package and pkg-config both work"
