#!/usr/bin/env bash
# How the reader's timing moves the walsender's CPU: bench_read_pace (a bare
# reader, no decoding) takes the same WAL from its own slot once per way of
# reading, alone, one after another. See bench/compare/README.md, "The
# walsender's pace".
#
#   bench/compare/read_pace.sh [--rows N] [--per-transaction M] [--build-dir DIR]
#                              [--unix-socket] [MODE:RCVBUF:WAIT_US ...]
#
#   --rows             row inserts written (default 300,000: W1 at 3/10)
#   --per-transaction  rows per transaction (default 1,000; 1 is W2's shape)
#   --build-dir        the build with bench_read_pace and pg-throwaway
#                      (default build-bench)
#   --unix-socket      read through the server's Unix-domain socket
#   MODE:RCVBUF:WAIT_US  a way of reading (bench_read_pace --mode, --rcvbuf,
#                      --wait-us); default: poll:0:0 lowat:0:2000
#                      timer:32768:10000 timer:65536:10000 timer:32768:5000
#                      timer:0:10000 timer:32768:2000, then the first again
#
# Prints one line per way of reading. Not part of the test command.
set -euo pipefail

root=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
build="$root/build-bench"
rows=300000
per=1000
transport=tcp
specs=()
while [ $# -gt 0 ]; do
  case "$1" in
    --rows) rows=$2; shift 2 ;;
    --per-transaction) per=$2; shift 2 ;;
    --build-dir) build=$2; shift 2 ;;
    --unix-socket) transport=unix; shift ;;
    -h|--help) sed -n '2,20p' "$0" | sed 's/^# \{0,1\}//'; exit 0 ;;
    -*) echo "read_pace.sh: unknown option '$1'" >&2; exit 2 ;;
    *) specs+=("$1"); shift ;;
  esac
done
if [ ${#specs[@]} -eq 0 ]; then
  specs=(poll:0:0 lowat:0:2000 timer:32768:10000 timer:65536:10000 timer:32768:5000
         timer:0:10000 timer:32768:2000 poll:0:0)
fi
build=$(cd "$build" && pwd)
for f in "$build/bench/compare/bench_read_pace" "$build/tools/pg-throwaway/pg-throwaway"; do
  [ -x "$f" ] || { echo "read_pace.sh: $f is missing; build it first (scripts/setup.sh --build-dir $build)" >&2; exit 1; }
done

if [ -z "${VIL_PG_CONNINFO:-}" ]; then
  # Again, inside a throwaway cluster set as run.sh sets its own.
  exec "$build/tools/pg-throwaway/pg-throwaway" --set autovacuum=off --set shared_buffers=512MB \
    --set max_wal_size=8GB --set checkpoint_timeout=1h --set wal_sender_timeout=60s -- \
    "$0" --rows "$rows" --per-transaction "$per" --build-dir "$build" \
    $([ "$transport" = unix ] && echo --unix-socket) "${specs[@]}"
fi

conn=$VIL_PG_CONNINFO
if [ "$transport" = unix ]; then
  folder=$(psql -X -A -t -c "SHOW unix_socket_directories" | cut -d, -f1)
  conn=$(echo "$conn" | sed "s|host=[^ ]*|host=$folder|")
fi
psql -X -q -v ON_ERROR_STOP=1 \
  -c "CREATE TABLE pace (id bigint PRIMARY KEY, name text, amount numeric, at timestamptz, flag boolean)" \
  -c "CREATE PUBLICATION pace FOR TABLE pace"
for i in "${!specs[@]}"; do
  psql -X -q -v ON_ERROR_STOP=1 -c "SELECT pg_create_logical_replication_slot('pace_$i', 'pgoutput')" >/dev/null
done
psql -X -q -v ON_ERROR_STOP=1 -c "DO \$\$ BEGIN
  FOR t IN 0..$((rows / per - 1)) LOOP
    INSERT INTO pace SELECT g, 'name ' || g, g * 1.5, now(), g % 2 = 0
      FROM generate_series(t * $per + 1, t * $per + $per) g;
    COMMIT;
  END LOOP; END \$\$"
end_lsn=$(psql -X -A -t -c "SELECT pg_current_wal_lsn()")
echo "# $rows rows, $per a transaction, over $transport; end LSN $end_lsn; load $(cut -d' ' -f1-3 /proc/loadavg)"
for i in "${!specs[@]}"; do
  IFS=: read -r mode rcvbuf wait_us <<<"${specs[$i]}"
  "$build/bench/compare/bench_read_pace" --conn "$conn" --slot "pace_$i" --publication pace \
    --end-lsn "$end_lsn" --mode "$mode" --rcvbuf "$rcvbuf" --wait-us "$wait_us"
done
