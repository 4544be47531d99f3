#!/usr/bin/env bash
# One set-up for every entry point (demo, tests, benchmarks): installs what is
# missing from Debian's packages, then configures and builds.
#
#   scripts/setup.sh [--build-dir DIR] [--sanitize thread|address,undefined] [--configure-only]
#                    [--pg-versions] [-- extra cmake args]
#
# --pg-versions also installs the PostgreSQL 14, 16, 17 and 18 servers pinned in
# scripts/pg-servers/ into DIR/pg (npm, ~240 MB, half a minute); Debian's 15 is always there.
#
# Idempotent and quiet when everything is already there.
set -euo pipefail

root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
build_dir="$root/build"
sanitize=""
configure_only=0
pg_versions=0
extra=()
while [ $# -gt 0 ]; do
  case "$1" in
    --build-dir) build_dir=$2; shift 2 ;;
    --sanitize) sanitize=$2; shift 2 ;;
    --configure-only) configure_only=1; shift ;;
    --pg-versions) pg_versions=1; shift ;;
    --) shift; extra=("$@"); break ;;
    *) echo "setup.sh: unknown option '$1'" >&2; exit 2 ;;
  esac
done

packages=(
  build-essential cmake pkg-config
  libpq-dev postgresql postgresql-contrib libcurl4-openssl-dev libcpp-httplib-dev
  librdkafka-dev libnats-dev nats-server
  libfmt-dev libcli11-dev libyaml-cpp-dev nlohmann-json3-dev
  libgtest-dev libgmock-dev libbenchmark-dev
  clang-19 libclang-rt-19-dev clang-tidy-19
  strace prometheus openssl
)

missing=()
# Any npm will do (Debian's or nodejs.org's): only --pg-versions needs it.
if [ "$pg_versions" = 1 ] && ! command -v npm >/dev/null; then missing+=(npm); fi
for p in "${packages[@]}"; do
  if ! dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'install ok installed'; then
    missing+=("$p")
  fi
done
if [ ${#missing[@]} -gt 0 ]; then
  sudo=""
  [ "$(id -u)" -eq 0 ] || sudo="sudo"
  echo "setup: installing ${missing[*]}" >&2
  export DEBIAN_FRONTEND=noninteractive
  $sudo apt-get update -qq >/dev/null
  $sudo apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
fi

# Configured on every run (a second or two when nothing changed), so a reused
# build tree always has this run's options: warnings are errors exactly when
# $CI is set, and the sanitizers are exactly the ones asked for.
werror=OFF
[ -n "${CI:-}" ] && werror=ON
cmake_args=(-S "$root" -B "$build_dir" -DCMAKE_BUILD_TYPE=RelWithDebInfo
            "-DVIL_WERROR=$werror" "-DVIL_SANITIZE=$sanitize")
[ -n "$sanitize" ] && cmake_args+=(-DVIL_BUILD_BENCHMARKS=OFF)
mkdir -p "$build_dir"
if ! cmake "${cmake_args[@]}" "${extra[@]}" >"$build_dir/configure.log" 2>&1; then
  cat "$build_dir/configure.log" >&2
  echo "setup: configure failed (log: $build_dir/configure.log)" >&2
  exit 1
fi
if [ "$pg_versions" = 1 ]; then "$root/scripts/install-pg-servers.sh" "$build_dir/pg"; fi
[ "$configure_only" = 1 ] && exit 0
# Quiet on success; the whole log on failure.
if ! cmake --build "$build_dir" -j "$(nproc)" >"$build_dir/build.log" 2>&1; then
  cat "$build_dir/build.log" >&2
  echo "setup: build failed (log: $build_dir/build.log)" >&2
  exit 1
fi
