#!/usr/bin/env bash
# Builds and runs every test (README's second command).
#
#   scripts/test.sh            a short fuzzing run (when clang is there), clang-tidy
#                              (scripts/tidy.sh), every test against PostgreSQL 15, then
#                              the replication and CLI suites against 14, 16, 17 and 18
#   scripts/test.sh --no-pg-matrix   the same without the other versions
#   scripts/test.sh --tsan     the same tests built with ThreadSanitizer (build-tsan/)
#   scripts/test.sh --no-tidy  without clang-tidy
#   scripts/test.sh -R regex   only the tests whose names match
#   scripts/test.sh --pg 16    the tests against PostgreSQL 16 (14, 15, 16, 17, 18; 15 is
#                              Debian's, the others are installed by setup.sh --pg-versions);
#                              no fuzzing, no clang-tidy: they do not depend on the server
set -euo pipefail

root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
build_dir="$root/build"
setup_args=()
ctest_args=()
fuzz=1
tidy=1
matrix=1
# The suites that talk to the server through replication or the CLI: what
# depends on the server's version.
matrix_suites='^(replication|trigger|cli|testing_cluster)_'
while [ $# -gt 0 ]; do
  case "$1" in
    --tsan) build_dir="$root/build-tsan"; setup_args+=(--sanitize thread); fuzz=0; tidy=0; matrix=0; shift ;;
    --asan) build_dir="$root/build-asan"; setup_args+=(--sanitize address,undefined); fuzz=0; tidy=0; matrix=0; shift ;;
    --no-fuzz) fuzz=0; shift ;;
    --no-tidy) tidy=0; shift ;;
    --no-pg-matrix) matrix=0; shift ;;
    --pg)
      export VIL_PG_VERSION=$2
      [ "$2" = 15 ] || setup_args+=(--pg-versions)
      fuzz=0; tidy=0; matrix=0; shift 2 ;;
    *) ctest_args+=("$1"); shift ;;
  esac
done
[ ${#ctest_args[@]} -eq 0 ] || matrix=0
[ "$matrix" = 0 ] || setup_args+=(--pg-versions)

"$root/scripts/setup.sh" --build-dir "$build_dir" "${setup_args[@]}"
status=0
# The fuzzers and clang-tidy first, so that ctest's summary is the run's last word.
if [ "$fuzz" = 1 ] && [ ${#ctest_args[@]} -eq 0 ]; then
  "$root/scripts/fuzz.sh" --seconds 20 || status=$?
fi
if [ "$tidy" = 1 ] && [ ${#ctest_args[@]} -eq 0 ]; then
  "$root/scripts/tidy.sh" --build-dir "$build_dir" || status=$?
fi
ctest --test-dir "$build_dir" --output-on-failure -j "$(nproc)" "${ctest_args[@]}" || status=$?
if [ "$matrix" = 1 ]; then
  summary=()
  for version in 14 16 17 18; do
    echo "test: the replication and CLI suites against PostgreSQL $version" >&2
    started=$SECONDS
    if VIL_PG_VERSION=$version ctest --test-dir "$build_dir" --output-on-failure -j "$(nproc)" \
      -R "$matrix_suites"; then
      summary+=("PostgreSQL $version: passed ($((SECONDS - started)) s)")
    else
      status=1
      summary+=("PostgreSQL $version: FAILED ($((SECONDS - started)) s)")
    fi
  done
  printf 'test: %s\n' "${summary[@]}" >&2
fi
exit $status
