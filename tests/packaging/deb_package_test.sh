#!/usr/bin/env bash
# The Debian package, made by `cpack -G DEB` from the built tree: its control
# fields (Depends from dpkg-shlibdeps), files and conffile; then, extracted
# into a throwaway root with `dpkg-deb -x`: vil-cdc runs there, the packaged
# config.yaml names every key of docs/CONFIGURATION.md and `vil-cdc stream
# --config` takes it against a throwaway cluster, a user's programs build
# against the root (build_against.sh), and `systemd-analyze verify` accepts
# the unit (skipped where there is no systemd-analyze).
#
#   deb_package_test.sh BUILD_DIR SOURCE_DIR CXX VERSION PG_THROWAWAY
set -euo pipefail
build_dir=$1
source_dir=$2
cxx=$3
version=$4
pg_throwaway=$5
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
fail() { echo "deb_package_test: $*" >&2; exit 1; }
started=$SECONDS
step() { echo "deb_package_test: $* ($((SECONDS - started)) s)"; }

if ! cpack --config "$build_dir/CPackConfig.cmake" -B "$work/out" >"$work/cpack.log" 2>&1; then
  cat "$work/cpack.log" >&2
  fail "cpack failed"
fi
deb="$work/out/vil-trigger-cdc_${version}_$(dpkg --print-architecture).deb"
[ -f "$deb" ] || fail "no $(basename "$deb"); cpack made: $(ls "$work/out")"
step "built $(basename "$deb"), $(($(stat -c %s "$deb") / 1024)) KiB"

# The control fields.
field() { dpkg-deb --field "$deb" "$1"; }
[ "$(field Package)" = vil-trigger-cdc ] || fail "Package is $(field Package)"
[ "$(field Version)" = "$version" ] || fail "Version is $(field Version), not $version"
depends=$(field Depends)
for library in libc6 libstdc++6 libpq5 libcurl4 librdkafka1 libnats3 libfmt9 libyaml-cpp0; do
  [[ ", $depends" == *", $library"* ]] || fail "Depends lacks $library: $depends"
done
recommends=$(field Recommends)
for dev in libpq-dev librdkafka-dev libnats-dev libfmt-dev libyaml-cpp-dev nlohmann-json3-dev; do
  grep -q "$dev" <<<"$recommends" || fail "Recommends lacks $dev: $recommends"
done
dpkg-deb --control "$deb" "$work/control"
[ "$(cat "$work/control/conffiles")" = /etc/vil-cdc/config.yaml ] ||
  fail "conffiles: $(cat "$work/control/conffiles")"
step "Depends: $depends"

# The files, and their modes where they matter.
dpkg-deb --contents "$deb" >"$work/contents"
has() { grep -Eq "$1" "$work/contents" || fail "the package has no $2"; }
has '^-rwxr-xr-x root/root .* \./usr/bin/vil-cdc$' "/usr/bin/vil-cdc"
has '^-rw-r--r-- root/root .* \./lib/systemd/system/vil-cdc\.service$' "systemd unit"
has '^-rw------- root/root .* \./etc/vil-cdc/config\.yaml$' "/etc/vil-cdc/config.yaml, root's alone"
has ' \./usr/include/vil/cdc/cdc_trigger\.hpp$' "headers"
has ' \./usr/lib/(.*/)?libvil_trigger_cdc\.a$' "static library"
has ' \./usr/lib/(.*/)?cmake/vil_trigger_cdc/vil_trigger_cdcConfig\.cmake$' "CMake package"
has ' \./usr/lib/(.*/)?pkgconfig/vil_trigger_cdc\.pc$' "pkg-config file"
has ' \./usr/share/doc/vil-trigger-cdc/copyright$' "copyright file"

root="$work/root"
dpkg-deb --extract "$deb" "$root"
[ "$("$root/usr/bin/vil-cdc" --version)" = "vil-cdc $version" ] ||
  fail "vil-cdc --version says $("$root/usr/bin/vil-cdc" --version)"
step "extracted; vil-cdc --version works"

# The packaged configuration: every YAML key of docs/CONFIGURATION.md's table,
# in its block, set or commented out.
config="$root/etc/vil-cdc/config.yaml"
output_line=$(grep -n '^output:' "$config" | cut -d: -f1)
[ -n "$output_line" ] || fail "config.yaml has no output: block"
keys=$(grep -oE '^\| `(cdc|output)\.[a-z_]+`' "$source_dir/docs/CONFIGURATION.md" | tr -d '|` ')
[ "$(wc -l <<<"$keys")" -gt 30 ] || fail "found only these keys in CONFIGURATION.md: $keys"
for key in $keys; do
  # `|| true`: a key not there is said by fail(), not by set -e silently.
  line=$(grep -nE "^  (# )?${key#*.}:" "$config" | head -1 | cut -d: -f1 || true)
  [ -n "$line" ] || fail "config.yaml does not mention $key"
  case $key in
    cdc.*) [ "$line" -lt "$output_line" ] || fail "$key is not in the cdc: block" ;;
    output.*) [ "$line" -gt "$output_line" ] || fail "$key is not in the output: block" ;;
  esac
done
# ... and vil-cdc streams with it, the connection and the output given as
# flags (which override the file).
cat >"$work/stream.sh" <<'SCRIPT'
set -euo pipefail
psql() { "$VIL_PG_BINDIR/psql" -X -q -At -v ON_ERROR_STOP=1 -c "$1"; }
psql "CREATE TABLE t (id int PRIMARY KEY)"
psql "CREATE PUBLICATION vil_pub FOR ALL TABLES"
psql "SELECT 1 FROM pg_create_logical_replication_slot('vil_cdc_slot', 'pgoutput')" >/dev/null
psql "INSERT INTO t VALUES (1), (2)"
end=$(psql "SELECT pg_current_wal_lsn()")
XDG_STATE_HOME="$WORK/state" "$VIL_CDC" stream --config "$CONFIG" --conn "$VIL_PG_CONNINFO" \
  --output "$WORK/changes.jsonl" --end-lsn "$end"
SCRIPT
if ! WORK=$work CONFIG=$config VIL_CDC="$root/usr/bin/vil-cdc" \
    "$pg_throwaway" -- bash "$work/stream.sh" >"$work/stream.log" 2>&1; then
  cat "$work/stream.log" >&2
  fail "vil-cdc stream --config <the packaged config.yaml> failed"
fi
[ "$(grep -c '"op":"insert"' "$work/changes.jsonl")" = 2 ] ||
  fail "expected two inserts, got: $(cat "$work/changes.jsonl")"
step "vil-cdc stream --config config.yaml streamed"

"$source_dir/tests/install/build_against.sh" "$root/usr" "$source_dir" "$cxx"
step "the example and a consumer build against the package (find_package, pkg-config)"

if command -v systemd-analyze >/dev/null; then
  # The unit as packaged, its ExecStart pointed at the extracted vil-cdc.
  # verify exits 0 after most complaints: any output is one.
  mkdir "$work/unit"
  sed "s|/usr/bin/vil-cdc|$root/usr/bin/vil-cdc|" "$root/lib/systemd/system/vil-cdc.service" \
    >"$work/unit/vil-cdc.service"
  if ! systemd-analyze verify "$work/unit/vil-cdc.service" >"$work/verify.log" 2>&1 ||
      [ -s "$work/verify.log" ]; then
    cat "$work/verify.log" >&2
    fail "systemd-analyze verify rejects the unit"
  fi
  step "systemd-analyze verify accepts vil-cdc.service"
else
  step "no systemd-analyze: the unit is not verified"
fi
echo "Debian package: control fields, files, vil-cdc, config.yaml, builds against it, unit"
