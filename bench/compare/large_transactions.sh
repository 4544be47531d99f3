#!/usr/bin/env bash
# Large transactions, spilled by the server or streamed to vil-cdc: W3 and W5
# with --streaming off and on, beside pg_recvlogical with and without
# streaming, in one run. See bench/compare/README.md.
#
#   bench/compare/large_transactions.sh [--quick] [--pg VERSION] [--out-dir DIR] [--build-dir DIR] [--skip-setup]
#
#   --quick       1/10 size (a fast check); the report goes to build-bench/quick/
#   --pg          the server's major version, 14 to 18 (default: Debian's 15; others come
#                 from scripts/setup.sh --pg-versions); 16+ adds --streaming parallel
#   --out-dir     where the report goes (default: results/)
#   --build-dir   the build to measure (default: build-bench, made by scripts/setup.sh)
#   --skip-setup  do not build or install (they were done before)
#
# Writes DIR/large_transactions.{json,md}. Not part of the test command.
set -euo pipefail

root=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
here="$root/bench/compare"
build="$root/build-bench"
quick=0
skip_setup=0
out_dir=""
pg=()
while [ $# -gt 0 ]; do
  case "$1" in
    --quick) quick=1; shift ;;
    --skip-setup) skip_setup=1; shift ;;
    --out-dir) out_dir=$2; shift 2 ;;
    --build-dir) build=$(cd "$2" && pwd); shift 2 ;;
    --pg) pg=(--pg "$2"); shift 2 ;;
    -h|--help) sed -n '2,16p' "$0" | sed 's/^# \{0,1\}//'; exit 0 ;;
    *) echo "large_transactions.sh: unknown option '$1'" >&2; exit 2 ;;
  esac
done
if [ -z "$out_dir" ]; then
  if [ "$quick" = 1 ]; then out_dir="$build/quick"; else out_dir="$root/results"; fi
fi
mkdir -p "$out_dir"
out_dir=$(cd "$out_dir" && pwd)
command_line="bench/compare/large_transactions.sh"
[ "$quick" = 1 ] && command_line+=" --quick"
[ ${#pg[@]} -gt 0 ] && command_line+=" ${pg[*]}"

work=$(mktemp -d "${TMPDIR:-/tmp}/vil-large-XXXXXX")
trap 'rm -rf "$work"' EXIT

if [ "$skip_setup" = 0 ]; then
  "$root/scripts/setup.sh" --build-dir "$build"
  missing=()
  for p in python3-psycopg2 time; do
    dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'install ok installed' || missing+=("$p")
  done
  if [ ${#missing[@]} -gt 0 ]; then
    sudo=""
    [ "$(id -u)" -eq 0 ] || sudo="sudo"
    DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
  fi
fi
for f in "$build/bench/compare/bench_vil_library" "$build/tools/vil-cdc/vil-cdc" \
         "$build/tools/pg-throwaway/pg-throwaway"; do
  [ -x "$f" ] || { echo "large_transactions.sh: $f is missing; run without --skip-setup" >&2; exit 1; }
done
scale=1
[ "$quick" = 1 ] && scale=0.1

# As run.sh's cluster; logical_decoding_work_mem stays at its default (64MB).
"$build/tools/pg-throwaway/pg-throwaway" "${pg[@]}" \
  --set autovacuum=off --set shared_buffers=512MB --set max_wal_size=8GB \
  --set checkpoint_timeout=1h --set wal_sender_timeout=60s \
  -- /usr/bin/python3 "$here/large_transactions.py" --scale "$scale" --build-dir "$build" \
  --work-dir "$work" --json "$out_dir/large_transactions.json" --md "$out_dir/large_transactions.md" \
  --command "$command_line"
echo "report: $out_dir/large_transactions.md" >&2
