#!/usr/bin/env bash
# Recaptures the golden pgoutput streams in this folder from a running PostgreSQL
# (15 or later; the protocol 4 scenario on 16 or later) through the SQL interface pg_logical_slot_get_binary_changes(),
# which returns one pgoutput message per row.
#
#   VIL_PG_CONNINFO="host=/tmp/pg port=5432 user=postgres" tests/pgoutput/captures/recapture.sh
#   PGHOST=... PGPORT=... PGUSER=... tests/pgoutput/captures/recapture.sh
#   pg-throwaway -- tests/pgoutput/captures/recapture.sh [--out DIR] [NAME...]
#
# With NAMEs (types, bench_inserts, ...), only those files are rewritten, so
# the others keep their bytes; --out writes into another folder.
#
# VIL_PG_CONNINFO, when set, must be in key=value form (the script appends
# dbname=...). The role must be a superuser. The server needs wal_level=logical
# and max_prepared_transactions > 0. The script drops and recreates the database
# vil_capture and its own slots (vil_cap_*).
#
# File format (*.hex), one pgoutput message per line:
#   <lsn as X/Y> <xid> <message bytes in lower-case hex>
# Lines starting with '#' are comments; the first ones record the scenario and
# the plugin options. LSNs, xids, relation ids and commit times change from one
# capture to the next; the golden tests only check how they relate.
set -euo pipefail

here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
out_dir=$here
only=()
while [ $# -gt 0 ]; do
  case "$1" in
    --out) out_dir=$2; shift 2 ;;
    -*) echo "recapture: unknown option '$1'" >&2; exit 2 ;;
    *) only+=("$1"); shift ;;
  esac
done
conninfo=${VIL_PG_CONNINFO:-}
db=vil_capture

# Text output of timestamptz and dates depends on the decoding session.
export PGTZ=UTC PGDATESTYLE=ISO PGCLIENTENCODING=UTF8 PGOPTIONS="-c client_min_messages=warning"

admin() { psql -X -q -v ON_ERROR_STOP=1 -At -d "${conninfo} dbname=postgres" "$@"; }
sql() { psql -X -q -v ON_ERROR_STOP=1 -At -d "${conninfo} dbname=${db}" "$@"; }

[ "$(admin -c 'SHOW wal_level')" = logical ] || { echo "recapture: wal_level must be logical" >&2; exit 1; }
[ "$(admin -c 'SHOW max_prepared_transactions')" -gt 0 ] ||
  { echo "recapture: max_prepared_transactions must be > 0 (two-phase scenario)" >&2; exit 1; }
server_version=$(admin -c 'SHOW server_version')
server_major=$(admin -c "SELECT current_setting('server_version_num')::int / 10000")

admin -c "SELECT pg_drop_replication_slot(slot_name) FROM pg_replication_slots WHERE slot_name LIKE 'vil_cap_%'" >/dev/null
# A failed earlier run can leave prepared transactions that pin the database.
if [ "$(admin -c "SELECT count(*) FROM pg_database WHERE datname = '${db}'")" = 1 ]; then
  sql -c "SELECT gid FROM pg_prepared_xacts WHERE database = current_database()" |
    while read -r gid; do sql -c "ROLLBACK PREPARED '${gid}'"; done
fi
admin -c "DROP DATABASE IF EXISTS ${db} WITH (FORCE)"
admin -c "CREATE DATABASE ${db} ENCODING 'UTF8' LC_COLLATE 'C' LC_CTYPE 'C' TEMPLATE template0"

# capture NAME TWO_PHASE SQL_WORKLOAD OPTION VALUE ...
# Creates slot vil_cap_NAME, runs the workload, writes NAME.hex from the slot's
# changes decoded with the given pgoutput options, drops the slot.
capture() {
  local name=$1 two_phase=$2 workload=$3
  shift 3
  if [ ${#only[@]} -gt 0 ] && [[ " ${only[*]} " != *" ${name} "* ]]; then
    return 0
  fi
  local options="" k v
  local described=""
  while [ $# -gt 0 ]; do
    k=$1 v=$2
    shift 2
    options+=", '$k', '$v'"
    described+=" $k=$v"
  done
  local slot="vil_cap_${name}"
  sql -c "SELECT 1 FROM pg_create_logical_replication_slot('${slot}', 'pgoutput', false, ${two_phase})" >/dev/null
  sql <<<"$workload" >/dev/null
  {
    echo "# pgoutput capture: ${name}"
    echo "# server: PostgreSQL ${server_version}; two-phase slot: ${two_phase}"
    echo "# options:${described}"
    echo "# format: <lsn> <xid> <message hex>"
    # The SQL interface decodes in this session: a small logical_decoding_work_mem
    # here makes large transactions stream.
    sql -F ' ' -c "SET logical_decoding_work_mem = '64kB'" \
      -c "SELECT lsn, xid, encode(data, 'hex')
            FROM pg_logical_slot_get_binary_changes('${slot}', NULL, NULL${options})"
  } >"${out_dir}/${name}.hex"
  sql -c "SELECT pg_drop_replication_slot('${slot}')" >/dev/null
  echo "recapture: ${name}.hex ($(grep -vc '^#' "${out_dir}/${name}.hex") messages)"
}

sql <<'SQL'
CREATE TABLE basic (id int PRIMARY KEY, name text, qty int);
CREATE PUBLICATION pub_basic FOR TABLE basic;

CREATE TABLE ri_default (id int PRIMARY KEY, v text);
CREATE TABLE ri_full (id int, v text);
ALTER TABLE ri_full REPLICA IDENTITY FULL;
CREATE TABLE ri_index (id int, code text NOT NULL, v text);
CREATE UNIQUE INDEX ri_index_code ON ri_index (code);
ALTER TABLE ri_index REPLICA IDENTITY USING INDEX ri_index_code;
CREATE TABLE ri_nothing (id int, v text);
ALTER TABLE ri_nothing REPLICA IDENTITY NOTHING;
CREATE PUBLICATION pub_ri FOR TABLE ri_default, ri_full, ri_index;
CREATE PUBLICATION pub_ri_insert FOR TABLE ri_nothing WITH (publish = 'insert');

CREATE TABLE stream_t (id int PRIMARY KEY, note text);
CREATE PUBLICATION pub_stream FOR TABLE stream_t;

CREATE TABLE tp (id int PRIMARY KEY, note text);
CREATE PUBLICATION pub_tp FOR TABLE tp;

CREATE TABLE msg_t (id int PRIMARY KEY);
CREATE PUBLICATION pub_msg FOR TABLE msg_t;

CREATE TABLE tr_parent (id serial PRIMARY KEY);
CREATE TABLE tr_child (id serial PRIMARY KEY, parent int REFERENCES tr_parent);
CREATE TABLE tr_other (id serial PRIMARY KEY);
CREATE PUBLICATION pub_tr FOR TABLE tr_parent, tr_child, tr_other;

CREATE TYPE mood AS ENUM ('sad', 'ok', 'happy');
CREATE TABLE types_t (
  id int PRIMARY KEY,
  c_bool bool, c_int2 int2, c_int4 int4, c_int8 int8, c_oid oid,
  c_float4 float4, c_float8 float8, c_numeric numeric(12, 3), c_numeric_any numeric,
  c_text text, c_varchar varchar(20), c_bpchar char(5), c_name name, c_bytea bytea,
  c_uuid uuid, c_json json, c_jsonb jsonb,
  c_date date, c_time time, c_timetz timetz, c_timestamp timestamp, c_timestamptz timestamptz,
  c_interval interval,
  c_int_array int[], c_text_array text[], c_2d int[], c_mood mood, c_big text,
  c_bool_array bool[], c_numeric_array numeric[], c_float8_array float8[], c_bytea_array bytea[],
  c_uuid_array uuid[], c_jsonb_array jsonb[], c_date_array date[],
  c_timestamptz_array timestamptz[], c_interval_array interval[], c_text_2d text[]);
-- Stored out of line and uncompressed, so an UPDATE that leaves it alone sends 'u'.
ALTER TABLE types_t ALTER COLUMN c_big SET STORAGE EXTERNAL;
CREATE PUBLICATION pub_types FOR TABLE types_t;

-- The benchmark's stream (bench/pgoutput): a 5-column table, inserts only.
CREATE TABLE orders (id int PRIMARY KEY, customer text, total numeric(10, 2),
                     created_at timestamptz, paid bool);
CREATE PUBLICATION pub_orders FOR TABLE orders;

CREATE TABLE bin_t (id int PRIMARY KEY, flag bool, amount numeric, name text, data bytea,
                    at timestamptz, arr int[], m mood);
CREATE PUBLICATION pub_bin FOR TABLE bin_t;
SQL

capture proto1_basic false "
INSERT INTO basic VALUES (1, 'alpha', 10), (2, 'beta', NULL);
UPDATE basic SET qty = 11 WHERE id = 1;
UPDATE basic SET id = 3 WHERE id = 2;
DELETE FROM basic WHERE id = 1;
BEGIN;
INSERT INTO basic VALUES (4, 'gamma', 4);
INSERT INTO basic VALUES (5, 'δέλτα €', 5);
COMMIT;
" proto_version 1 publication_names pub_basic

capture replica_identity false "
INSERT INTO ri_default VALUES (1, 'a');
INSERT INTO ri_full VALUES (1, 'a');
INSERT INTO ri_index VALUES (1, 'k1', 'a');
INSERT INTO ri_nothing VALUES (1, 'a');
UPDATE ri_default SET v = 'b' WHERE id = 1;
UPDATE ri_full SET v = 'b' WHERE id = 1;
UPDATE ri_index SET v = 'b' WHERE id = 1;
UPDATE ri_index SET code = 'k2' WHERE id = 1;
UPDATE ri_nothing SET v = 'b' WHERE id = 1;
DELETE FROM ri_default WHERE id = 1;
DELETE FROM ri_full WHERE id = 1;
DELETE FROM ri_index WHERE id = 1;
" proto_version 1 publication_names 'pub_ri,pub_ri_insert'

capture proto2_stream false "
INSERT INTO stream_t VALUES (1, 'small before');
BEGIN;
INSERT INTO stream_t SELECT g, 'a' FROM generate_series(1000, 1599) g;
SAVEPOINT s1;
INSERT INTO stream_t SELECT g, 'b' FROM generate_series(2000, 2599) g;
ROLLBACK TO SAVEPOINT s1;
INSERT INTO stream_t VALUES (3000, 'after rollback to savepoint');
COMMIT;
BEGIN;
INSERT INTO stream_t SELECT g, 'c' FROM generate_series(4000, 4599) g;
ROLLBACK;
INSERT INTO stream_t VALUES (2, 'small after');
" proto_version 2 publication_names pub_stream streaming on

capture proto3_two_phase true "
BEGIN;
INSERT INTO tp VALUES (1, 'one');
PREPARE TRANSACTION 'vil_gid_1';
COMMIT PREPARED 'vil_gid_1';
BEGIN;
INSERT INTO tp VALUES (2, 'two');
PREPARE TRANSACTION 'vil_gid_2';
ROLLBACK PREPARED 'vil_gid_2';
BEGIN;
INSERT INTO tp SELECT g, 'big' FROM generate_series(100, 599) g;
PREPARE TRANSACTION 'vil_gid_3';
COMMIT PREPARED 'vil_gid_3';
" proto_version 3 publication_names pub_tp two_phase on streaming on

# Protocol 4 (16 and later): streaming 'parallel' adds the abort LSN and time
# to Stream Abort.
if [ "$server_major" -ge 16 ]; then
  capture proto4_parallel false "
INSERT INTO stream_t VALUES (5, 'small before');
BEGIN;
INSERT INTO stream_t SELECT g, 'd' FROM generate_series(5000, 5599) g;
SAVEPOINT s1;
INSERT INTO stream_t SELECT g, 'e' FROM generate_series(6000, 6599) g;
ROLLBACK TO SAVEPOINT s1;
COMMIT;
BEGIN;
INSERT INTO stream_t SELECT g, 'f' FROM generate_series(7000, 7599) g;
ROLLBACK;
INSERT INTO stream_t VALUES (6, 'small after');
" proto_version 4 publication_names pub_stream streaming parallel
fi

capture messages false "
SELECT pg_logical_emit_message(true, 'vil.tx', 'transactional hello');
SELECT pg_logical_emit_message(false, 'vil.nontx', '\\x0001fe7f'::bytea);
BEGIN;
INSERT INTO msg_t VALUES (1);
SELECT pg_logical_emit_message(true, 'vil.tx', 'inside');
COMMIT;
SELECT pg_replication_origin_create('vil_origin');
SELECT pg_replication_origin_session_setup('vil_origin');
BEGIN;
SELECT pg_replication_origin_xact_setup('0/ABCDEF0', '2024-01-02 03:04:05+00');
INSERT INTO msg_t VALUES (2);
COMMIT;
SELECT pg_replication_origin_session_reset();
SELECT pg_replication_origin_drop('vil_origin');
" proto_version 1 publication_names pub_msg messages true

capture truncate false "
INSERT INTO tr_parent DEFAULT VALUES;
INSERT INTO tr_child (parent) VALUES (1);
INSERT INTO tr_other DEFAULT VALUES;
TRUNCATE tr_child, tr_parent;
TRUNCATE tr_parent CASCADE;
TRUNCATE tr_other RESTART IDENTITY;
TRUNCATE tr_parent, tr_other RESTART IDENTITY CASCADE;
" proto_version 1 publication_names pub_tr

capture types false "
INSERT INTO types_t VALUES (1, true, -32768, 2147483647, -9223372036854775808, 4294967295,
  1.5, -2.25e-300, 12345.678, 0.000000000000000000001, 'tab	and \"quote\" and \\ and
newline', 'varchar', 'ab', 'a_name', '\\x00ff10'::bytea,
  'a0eebc99-9c0b-4ef8-bb6d-6bb9bd380a11', '{\"a\": [1, 2.5, null]}', '{\"b\": {\"c\": true}}',
  '2024-02-29', '23:59:59.999999', '12:00:00+05:30', '2024-01-01 00:00:00.000001',
  '1999-12-31 23:59:59.5+00', '1 year 2 mons 3 days 04:05:06.789',
  '{1,NULL,3}', '{\"x y\",NULL,\"\",\"q\\\"\"}', '{{1,2},{3,NULL}}', 'happy',
  repeat('0123456789', 300),
  '{t,f,NULL}', '{1.50,-0.001,NaN,Infinity,-Infinity,NULL}',
  '{1.5,-0,NaN,Infinity,-Infinity,1e-300,NULL}', ARRAY['\\x00ff'::bytea, '\\x'::bytea, NULL],
  '{a0eebc99-9c0b-4ef8-bb6d-6bb9bd380a11,NULL}',
  ARRAY['{\"a\": 1}'::jsonb, '[1, \"x\"]', 'null', '\"s\"', NULL],
  '{2024-02-29,infinity,\"0044-03-15 BC\",NULL}', '{\"1999-12-31 23:59:59.5+00\",-infinity,NULL}',
  '{\"1 year 2 mons 3 days 04:05:06.789\",-00:00:01,NULL}',
  ARRAY[ARRAY['a b', NULL, 'NULL', ''], ARRAY['q\"u', 'b\\s', 'c,{d}', 'é']]);
INSERT INTO types_t VALUES (2, false, 0, 0, 0, 0,
  'NaN', 'Infinity', 'NaN', 'Infinity', '', '', '', '', '\\x'::bytea,
  '00000000-0000-0000-0000-000000000000', 'null', '[]',
  '0044-03-15 BC', '00:00', '00:00-12', 'infinity', '-infinity', '-1 days',
  '{}', '{}', '{{NULL}}', 'sad', 'short',
  '{NULL}', '{}', '{}', '{}', '{}', '{}', '{}', '{}', '{}', '{{x},{y}}');
INSERT INTO types_t (id, c_float4, c_float8) VALUES (3, '-Infinity', '-Infinity');
UPDATE types_t SET c_int4 = 7 WHERE id = 1;
DELETE FROM types_t WHERE id = 3;
" proto_version 1 publication_names pub_types

# 1,000 rows in four transactions; values vary like real ones (lengths,
# digits), so the benchmark does not decode one row over and over.
capture bench_inserts false "
INSERT INTO orders SELECT g, 'customer-' || (g * 7919 % 977), (g * 7919 % 1000000) / 100.0,
  timestamptz '2024-01-02 03:04:05+00' + g * interval '1.234567 s', g % 3 <> 0
  FROM generate_series(1, 250) g;
INSERT INTO orders SELECT g, 'customer-' || (g * 7919 % 977), (g * 7919 % 1000000) / 100.0,
  timestamptz '2024-01-02 03:04:05+00' + g * interval '1.234567 s', g % 3 <> 0
  FROM generate_series(251, 500) g;
INSERT INTO orders SELECT g, 'customer-' || (g * 7919 % 977), (g * 7919 % 1000000) / 100.0,
  timestamptz '2024-01-02 03:04:05+00' + g * interval '1.234567 s', g % 3 <> 0
  FROM generate_series(501, 750) g;
INSERT INTO orders SELECT g, 'customer-' || (g * 7919 % 977), (g * 7919 % 1000000) / 100.0,
  timestamptz '2024-01-02 03:04:05+00' + g * interval '1.234567 s', g % 3 <> 0
  FROM generate_series(751, 1000) g;
" proto_version 1 publication_names pub_orders

capture binary false "
INSERT INTO bin_t VALUES (1, true, 12.50, 'text', '\\xdeadbeef', '2024-01-01 00:00:00+00', '{1,2,3}', 'ok');
INSERT INTO bin_t VALUES (2, NULL, NULL, NULL, NULL, NULL, NULL, NULL);
UPDATE bin_t SET name = 'changed' WHERE id = 1;
" proto_version 1 publication_names pub_bin binary true

admin -c "DROP DATABASE ${db} WITH (FORCE)"
