#!/usr/bin/env bash
# scripts/setup.sh must configure a build tree it finds already configured, with
# this run's options: CI's warnings-as-errors reach a reused tree, and leave it
# again when CI is not set. Only configures (--configure-only), in a scratch tree.
set -euo pipefail
source_dir=$1
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
fail() { echo "setup_options_test: $*" >&2; exit 1; }
werror() { sed -n 's/^VIL_WERROR:BOOL=//p' "$work/build/CMakeCache.txt"; }

run_setup() { env -u CI "$@" "$source_dir/scripts/setup.sh" --build-dir "$work/build" --configure-only; }

run_setup
[ "$(werror)" = OFF ] || fail "without CI, VIL_WERROR is $(werror)"
run_setup CI=1
[ "$(werror)" = ON ] || fail "CI=1 on a reused tree left VIL_WERROR $(werror)"
run_setup
[ "$(werror)" = OFF ] || fail "without CI again, VIL_WERROR stayed $(werror)"
[ ! -e "$work/build/build.log" ] || fail "--configure-only built"
echo "setup.sh: every run configures with its own options"
