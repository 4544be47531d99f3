#!/usr/bin/env bash
# Builds the libFuzzer targets with clang (AddressSanitizer and
# UndefinedBehaviorSanitizer) and runs each one over its seed corpus.
#
#   scripts/fuzz.sh                 20 s per target (the test command's short run)
#   scripts/fuzz.sh --seconds 3600  a long run
#   scripts/fuzz.sh --seconds 600 --target fuzz_decoder
#
# New inputs go to build-fuzz/corpus/<target>/ (the checked-in seeds stay as
# they are); a crash leaves its input in build-fuzz/artifacts/ and fails.
set -euo pipefail

root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
seconds=20
only=""
while [ $# -gt 0 ]; do
  case "$1" in
    --seconds) seconds=$2; shift 2 ;;
    --target) only=$2; shift 2 ;;
    *) echo "fuzz.sh: unknown option '$1'" >&2; exit 2 ;;
  esac
done

cxx=$(command -v clang++-19 || command -v clang++ || true)
if [ -z "$cxx" ]; then
  echo "fuzz.sh: clang++ is not installed; skipping the fuzzers" >&2
  exit 0
fi
build="$root/build-fuzz"
# Warnings are errors in CI here too (clang sees what GCC does not).
werror=OFF
[ -n "${CI:-}" ] && werror=ON
mkdir -p "$build"
if ! CXX="$cxx" cmake -S "$root" -B "$build" -DCMAKE_BUILD_TYPE=RelWithDebInfo -DVIL_BUILD_FUZZERS=ON \
    -DVIL_BUILD_TESTS=OFF -DVIL_BUILD_BENCHMARKS=OFF -DVIL_BUILD_EXAMPLES=OFF \
    "-DVIL_WERROR=$werror" >"$build/configure.log" 2>&1; then
  cat "$build/configure.log" >&2
  echo "fuzz.sh: configure failed" >&2
  exit 1
fi
if ! cmake --build "$build" --target fuzzers -j "$(nproc)" >"$build/build.log" 2>&1; then
  cat "$build/build.log" >&2
  echo "fuzz.sh: fuzzer build failed" >&2
  exit 1
fi

mkdir -p "$build/artifacts"
status=0
ran=0
while IFS= read -r target; do
  name=$(basename "$target")
  [ -n "$only" ] && [ "$name" != "$only" ] && continue
  sub=$(basename "$(dirname "$target")")
  work="$build/corpus/$name"
  mkdir -p "$work"
  args=("$work")
  # Seeds: checked in (fuzz/<sub>/corpus) or made by the build (seed_corpus).
  for seeds in "$root/fuzz/$sub/corpus" "$build/fuzz/$sub/seed_corpus"; do
    [ -d "$seeds" ] && args+=("$seeds")
  done
  echo "fuzz: $name for ${seconds}s"
  if ! "$target" -max_total_time="$seconds" -print_final_stats=0 \
      -artifact_prefix="$build/artifacts/$name-" "${args[@]}" >"$build/$name.log" 2>&1; then
    tail -n 40 "$build/$name.log" >&2
    echo "fuzz: $name FAILED (input in $build/artifacts/)" >&2
    status=1
  else
    grep -E '^#[0-9]+.*(DONE|pulse)' "$build/$name.log" | tail -n 1 || true
  fi
  ran=$((ran + 1))
done < <(find "$build/fuzz" -maxdepth 2 -type f -name 'fuzz_*' ! -name '*corpus*' -perm -u+x | sort)
echo "fuzz: $ran targets, $([ $status = 0 ] && echo 'no crash' || echo 'CRASHES FOUND')"
exit $status
