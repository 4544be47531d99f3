#!/usr/bin/env bash
# Installs the project into a temporary prefix, moves the tree elsewhere (an
# installed package must not remember where it was built or first put), then
# builds a user's programs against it (build_against.sh).
set -euo pipefail
build_dir=$1
source_dir=$2
cxx=${3:-c++}  # the project's compiler
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT

cmake --install "$build_dir" --prefix "$work/staged" >/dev/null
# Everything went into the prefix: the system files (/etc, the service) are
# the Debian package's alone.
if grep -v "^$work/staged/" "$build_dir/install_manifest.txt"; then
  echo "consume_package: a plain install wrote the files above outside its prefix" >&2
  exit 1
fi
mv "$work/staged" "$work/prefix"
"$(dirname "$0")/build_against.sh" "$work/prefix" "$source_dir" "$cxx"
echo "installed package: find_package and pkg-config both build, link and run a program"
