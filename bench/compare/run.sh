#!/usr/bin/env bash
# The side-by-side benchmark: vil-cdc against what a user would pick instead,
# on the same WAL, in one run. See bench/compare/README.md.
#
#   bench/compare/run.sh [--quick] [--profile] [--walsender] [--unix-socket] [--out-dir DIR]
#                        [--skip-setup]
#
#   --quick       workloads and the latency run scaled down 10x (a fast check)
#   --profile     also profile the library consumer on W1 at 1/10 size (perf)
#   --walsender   also follow the walsender on W1 for the floor, vil-cdc, psycopg2
#                 and node (ack per commit): its syscalls, socket and CPU profile
#   --unix-socket every connection through the server's Unix-domain socket, not
#                 TCP on 127.0.0.1 (default: results/unix/)
#   --out-dir     where the report goes (default: results/; --quick: build-bench/quick/)
#   --skip-setup  do not build or install (they were done before)
#
# Writes DIR/latest.json (raw numbers), DIR/latest.md (the report) and
# DIR/latest.png (the chart). Not part of the test command.
set -euo pipefail

root=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
here="$root/bench/compare"
build="$root/build-bench"
quick=0
profile=0
walsender=0
transport=tcp
skip_setup=0
out_dir=""
while [ $# -gt 0 ]; do
  case "$1" in
    --quick) quick=1; shift ;;
    --profile) profile=1; shift ;;
    --walsender) walsender=1; shift ;;
    --unix-socket) transport=unix; shift ;;
    --skip-setup) skip_setup=1; shift ;;
    --out-dir) out_dir=$2; shift 2 ;;
    -h|--help) sed -n '2,18p' "$0" | sed 's/^# \{0,1\}//'; exit 0 ;;
    *) echo "run.sh: unknown option '$1'" >&2; exit 2 ;;
  esac
done
if [ "$walsender" = 1 ] && [ "$transport" = unix ]; then
  # Its socket samples (ss -tinm) are of the TCP connection.
  echo "run.sh: --walsender follows a TCP connection; it cannot go with --unix-socket" >&2
  exit 2
fi
if [ -z "$out_dir" ]; then
  if [ "$quick" = 1 ]; then out_dir="$build/quick"; else out_dir="$root/results"; fi
  [ "$transport" = unix ] && out_dir+="/unix"
fi
mkdir -p "$out_dir"
out_dir=$(cd "$out_dir" && pwd)
command_line="bench/compare/run.sh"
[ "$quick" = 1 ] && command_line+=" --quick"
[ "$profile" = 1 ] && command_line+=" --profile"
[ "$walsender" = 1 ] && command_line+=" --walsender"
[ "$transport" = unix ] && command_line+=" --unix-socket"

work=$(mktemp -d "${TMPDIR:-/tmp}/vil-bench-XXXXXX")
cleanup() {
  local status=$?
  rm -rf "$work"
  exit "$status"
}
trap cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

say() { echo "[run.sh $(date +%H:%M:%S)] $*" >&2; }

# ---- set-up: the project, then the peers
if [ "$skip_setup" = 0 ]; then
  say "building the project (scripts/setup.sh --build-dir build-bench)"
  "$root/scripts/setup.sh" --build-dir "$build"
  peers=(postgresql-15-wal2json python3-psycopg2 python3-matplotlib time linux-perf)
  missing=()
  for p in "${peers[@]}"; do
    dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'install ok installed' || missing+=("$p")
  done
  if [ ${#missing[@]} -gt 0 ]; then
    sudo=""
    [ "$(id -u)" -eq 0 ] || sudo="sudo"
    say "installing ${missing[*]}"
    export DEBIAN_FRONTEND=noninteractive
    $sudo apt-get update -qq >/dev/null
    $sudo apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
  fi
  command -v node >/dev/null || { echo "run.sh: node is needed for the pg-logical-replication peer" >&2; exit 1; }
  if [ ! -f "$build/node/node_modules/pg-logical-replication/package.json" ]; then
    say "installing pg-logical-replication into build-bench/node"
    mkdir -p "$build/node"
    [ -f "$build/node/package.json" ] ||
      echo '{"private": true, "name": "vil-bench-peers", "version": "0.0.0"}' >"$build/node/package.json"
    (cd "$build/node" && npm install --no-audit --no-fund --loglevel=error pg-logical-replication@2.5.0 >/dev/null)
  fi
fi
for f in "$build/bench/compare/bench_vil_library" "$build/bench/compare/bench_rate_writer" \
         "$build/tools/vil-cdc/vil-cdc" "$build/tools/pg-throwaway/pg-throwaway"; do
  [ -x "$f" ] || { echo "run.sh: $f is missing; run without --skip-setup" >&2; exit 1; }
done

scale=1
latency_seconds=30
if [ "$quick" = 1 ]; then scale=0.1; latency_seconds=3; fi

# fsync and full_page_writes are off (pg-throwaway's default; the data is
# thrown away); synchronous_commit stays on. autovacuum is off so no
# background work lands between consumers.
cluster=(
  "$build/tools/pg-throwaway/pg-throwaway"
  --set autovacuum=off --set shared_buffers=512MB --set max_wal_size=8GB
  --set checkpoint_timeout=1h --set wal_sender_timeout=60s
)

say "load before: $(cat /proc/loadavg)"
"${cluster[@]}" -- /usr/bin/python3 "$here/driver.py" \
  --scale "$scale" --latency-seconds "$latency_seconds" \
  --build-dir "$build" --node-modules "$build/node/node_modules" --work-dir "$work" \
  --transport "$transport" --out "$out_dir/latest.json" --command "$command_line"

if [ "$profile" = 1 ]; then
  say "profiling the library consumer on W1 at 1/10 size"
  "${cluster[@]}" -- /usr/bin/python3 "$here/driver.py" \
    --scale 0.1 --workloads W1 --consumers vil_library --latency-consumers "" --snapshot-rows 0 \
    --build-dir "$build" --node-modules "$build/node/node_modules" --work-dir "$work" \
    --transport "$transport" --out "$work/profile.json" \
    --wrap "perf record -q -g -e cpu-clock -F 4999 -o $work/perf.data --"
  # The build has no frame pointers: user-space call chains are cut short, so
  # functions by self time; kernel chains are whole, so syscalls inclusive.
  squeeze() { grep -v '^$' | grep -v '^#' | sed -E 's/ +$//; s/ {2,}/  /g'; }
  {
    echo "self time, top functions (all of the process: both threads, kernel included):"
    perf report -i "$work/perf.data" --stdio --no-children --sort dso,sym -g none \
      --percent-limit 0.5 2>/dev/null | squeeze | head -30 || true
    echo
    echo "inclusive time of the system calls (children included):"
    perf report -i "$work/perf.data" --stdio --children --sort sym -g none 2>/dev/null |
      grep -E '\[k\] (__x64_sys_[a-z_0-9]+|schedule|exc_page_fault)$' | squeeze | head -10 || true
    echo
    echo "by library:"
    perf report -i "$work/perf.data" --stdio --no-children --sort dso -g none 2>/dev/null |
      squeeze | head -8 || true
  } >"$out_dir/profile.txt"
  say "profile: $out_dir/profile.txt"
fi

if [ "$walsender" = 1 ]; then
  # Counts at the run's scale (perf stat: the walsender keeps its pace), then
  # where its CPU goes at 3/10 (perf record), one consumer at a time as above.
  walsender_consumers=floor,vil_library,psycopg2,node_ack_commit
  for mode in counts profile; do
    mode_scale=$scale
    [ "$mode" = profile ] && mode_scale=$(python3 -c "print($scale * 0.3)")
    say "following the walsender on W1 ($mode, scale $mode_scale)"
    "${cluster[@]}" -- /usr/bin/python3 "$here/driver.py" \
      --scale "$mode_scale" --workloads W1 --consumers "$walsender_consumers" --latency-consumers "" \
      --snapshot-rows 0 --build-dir "$build" --node-modules "$build/node/node_modules" \
      --work-dir "$work" --out "$out_dir/walsender-$mode.json" --walsender-probe "$mode"
  done
fi

report_args=(--json "$out_dir/latest.json" --md "$out_dir/latest.md" --png "$out_dir/latest.png")
[ "$profile" = 1 ] && report_args+=(--profile "$out_dir/profile.txt")
[ "$walsender" = 1 ] && report_args+=(--walsender "$out_dir/walsender-counts.json"
                                      --walsender-profile "$out_dir/walsender-profile.json")
/usr/bin/python3 "$here/report.py" "${report_args[@]}"
say "report: $out_dir/latest.md, $out_dir/latest.png"
