#!/usr/bin/env bash
# Builds what a user's project would against vil_trigger_cdc installed under
# PREFIX, and runs it:
#   - the print_changes example and tests/install/consumer with
#     find_package(vil_trigger_cdc);
#   - tests/install/consumer again with nothing but
#     `c++ main.cpp $(pkg-config --cflags --libs vil_trigger_cdc)`.
#
#   build_against.sh PREFIX SOURCE_DIR [CXX]
set -euo pipefail
prefix=$1
source_dir=$2
cxx=${3:-c++}  # the project's compiler
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
fail() { echo "build_against: $*" >&2; exit 1; }

# find_package: the example, and the consumer.
cmake -S "$source_dir/examples/print_changes" -B "$work/example" \
  -DCMAKE_PREFIX_PATH="$prefix" >/dev/null
cmake --build "$work/example" -j 2 >/dev/null
# Without arguments it prints its usage and fails: it links and starts.
if "$work/example/print_changes" 2>"$work/usage.txt"; then
  fail "print_changes without arguments should fail"
fi
grep -q "usage:" "$work/usage.txt" || fail "print_changes printed no usage line"
cmake -S "$source_dir/tests/install/consumer" -B "$work/consumer" \
  -DCMAKE_PREFIX_PATH="$prefix" >/dev/null
cmake --build "$work/consumer" -j 2 >/dev/null
"$work/consumer/consumer" >"$work/find_package.txt" || fail "the find_package consumer failed"
grep -q "^consumer: slot vil_cdc_slot" "$work/find_package.txt" || fail "unexpected output: $(cat "$work/find_package.txt")"

# pkg-config: the file points into PREFIX wherever that is, and plain
# --cflags --libs compile, link and run a program.
pc_file=$(find "$prefix" -name vil_trigger_cdc.pc -print -quit)
[ -n "$pc_file" ] || fail "no vil_trigger_cdc.pc under $prefix"
PKG_CONFIG_PATH=$(dirname "$pc_file")
export PKG_CONFIG_PATH
pc_prefix=$(pkg-config --variable=prefix vil_trigger_cdc)
[ "$(cd "$pc_prefix" && pwd -P)" = "$(cd "$prefix" && pwd -P)" ] ||
  fail "pkg-config prefix is $pc_prefix, not the installed tree $prefix"
read -r -a flags <<<"$(pkg-config --cflags --libs vil_trigger_cdc)"
if ! "$cxx" -std=c++23 -o "$work/consumer_pc" "$source_dir/tests/install/consumer/main.cpp" \
    "${flags[@]}" 2>"$work/pkg-config-build.txt"; then
  cat "$work/pkg-config-build.txt" >&2
  fail "building with \`pkg-config --cflags --libs vil_trigger_cdc\` (${flags[*]}) failed"
fi
"$work/consumer_pc" >"$work/pkg_config.txt" || fail "the pkg-config consumer failed"
cmp -s "$work/find_package.txt" "$work/pkg_config.txt" || fail "the two consumers disagree"
