#pragma once
// ChangeEncoder: one cdc::Change in, JSON lines out (docs/DESIGN.md §4). Pure: no
// I/O, the caller owns the buffer and decides when to write and flush it.
//
// Format::JsonLines, one line per change, keys in this order:
//   {"op":"insert"|"update"|"delete","schema":"public","table":"orders",
//    "commit_lsn":"0/1A2B3F0","lsn":"0/1A2B3C4","seq":3,"xid":742,
//    "commit_ts":"2026-11-24T01:05:00.123456Z","before":{...}|null,"after":{...}|null}
//   - LSNs are PostgreSQL's "X/Y" upper-case hex; seq is Change::ordinal;
//     commit_ts is UTC with exactly six fractional digits (rounded down).
//   - before: the key columns for an old key tuple (REPLICA IDENTITY DEFAULT or
//     USING INDEX), the whole old row for REPLICA IDENTITY FULL, null when the
//     server sent no old row (every insert; an update that kept its key).
//     (An old row never holds an unsent TOASTed value in practice; should one,
//     it is left out of "before".)
//   - after: the new row; null for a delete.
//   - A TOASTed value an update left alone (the server does not send it) is
//     taken from the old row when REPLICA IDENTITY FULL supplied it; otherwise
//     it is left out of "after" and its column named in a trailing
//     "unchanged_toast":["col",...] (the key is absent when there is none).
//   - Values follow values::write_json_value (docs/DESIGN.md §4.3); a column sent in
//     binary format is written as a "\\x..." hex string.
//   truncate: {"op":"truncate","tables":["public.a","public.b"],"cascade":false,
//     "restart_identity":false,"commit_lsn":..,"lsn":..,"seq":..,"xid":..,"commit_ts":..}
//   message (pg_logical_emit_message):
//     transactional: {"op":"message","prefix":"p","content":"c","transactional":true,
//                     "commit_lsn":..,"lsn":..,"seq":..,"xid":..,"commit_ts":..}
//     not:           {"op":"message","prefix":"p","content":"c","transactional":false,
//                     "lsn":..,"ts":..}
//     The content is "content", a JSON string, when its bytes are valid text
//     in the database's encoding (converted to UTF-8); otherwise
//     "content_base64" holds the bytes unaltered (RFC 4648 base64, padded) in
//     its place. Exactly one of the two is there; nothing is replaced.
//     A non-transactional message belongs to no transaction: it has no commit
//     LSN, xid or seq; its "lsn" is its key, unique across the run, and "ts"
//     is Change::commit_time_ns.
//
// Format::Debezium: the value (schemas disabled) that Debezium's PostgreSQL
// connector writes, so Debezium consumers read it unchanged:
//   {"before":{...}|null,"after":{...}|null,
//    "source":{"version":"0.1.0","connector":"postgresql","name":"vil-cdc",
//              "ts_ms":<commit time, ms>,"snapshot":"false","db":"shop",
//              "sequence":"[\"<previous commit LSN>\",\"<lsn>\"]","schema":"public",
//              "table":"orders","txId":742,"lsn":<lsn as a number>,"xmin":null},
//    "op":"c"|"u"|"d","ts_ms":<when encoded, ms>,"transaction":null}
//   - before, as Debezium's connector fills it: null for an insert and for an
//     update whose old row the server did not send (REPLICA IDENTITY DEFAULT
//     and the key unchanged); the whole old row for REPLICA IDENTITY FULL; for
//     an old key (DEFAULT or USING INDEX: a delete, or an update that changed
//     the key) every column, the key columns with their old values and the
//     others null.
//   - after as in JSON lines; an unchanged TOASTed value the old row does
//     not supply is Debezium's placeholder "__debezium_unavailable_value".
//   - source.sequence is Debezium's ["last commit LSN","this LSN"], decimal, as
//     one string: the first is the commit LSN of the transaction this encoder
//     saw before the current one (null for the first, so after a restart too).
//   - truncate: one "t" event per table, before and after null, source naming
//     the table (a TRUNCATE of two tables gives two lines).
//   - message: {"op":"m","ts_ms":..,"source":{...,"schema":"","table":"",..},
//     "message":{"prefix":"p","content":"<base64>"}}; a non-transactional
//     message has "txId":null.
//   - Differences from Debezium: values inside before/after follow docs/DESIGN.md
//     §4.3, not Debezium's default encodings (numeric is its exact decimal string,
//     not base64 bytes; timestamps, dates, times and intervals are PostgreSQL's
//     ISO text, not epoch numbers; json/jsonb are embedded objects, not
//     strings; bytea is "\\x..." hex, not base64). No tombstone follows a
//     delete (that is for a broker sink to add), and no schema-change or
//     transaction-metadata topics exist.
//   - With ChangeEncoderOptions::schemas, each line is what Kafka Connect's
//     JsonConverter with schemas.enable=true reads:
//       {"schema":{"type":"struct","fields":[before,after,source,op,ts_ms,
//        transaction],"optional":false,"name":"<server_name>.<schema>.<table>.Envelope",
//        "version":1},"payload":<the envelope above>}
//     before/after: optional struct "<server>.<schema>.<table>.Value", one field per
//     column in the relation's order; source: "io.debezium.connector.postgresql.Source"
//     with the fields our source block writes; transaction: Debezium's optional
//     "event.block" (always null here). A column's schema describes what is written
//     for it: int2/int4/int8/oid -> int16/int32/int64/int64, float4/float8 ->
//     float/double, bool -> boolean, numeric -> string (Debezium's
//     decimal.handling.mode=string), arrays -> array of the element's schema
//     (elements optional), everything else -> string, named where a Debezium
//     semantic type fits: io.debezium.data.Uuid, io.debezium.data.Json,
//     io.debezium.time.ZonedTimestamp (timestamptz), IsoTimestamp (timestamp),
//     IsoDate, IsoTime, ZonedTime (timetz), each "version":1. Every column is
//     optional except the key columns of a primary key or replica-identity
//     index (NOT NULL there; pgoutput says nothing else of NULLs).
//     json/jsonb values (also as array elements) are then JSON strings of their
//     text, as Debezium writes them: a Connect schema cannot describe an
//     arbitrary object. A truncate has its table's schema; a message Debezium's
//     "io.debezium.connector.postgresql.MessageValue" (op, ts_ms, source, and
//     message {prefix, content as bytes}). The schema text of a relation is made
//     once per description and appended as is. Not described: a
//     multi-dimensional array (nested JSON arrays), a TOASTed array left
//     unchanged (its placeholder is a string), NaN and the infinities of a
//     float (strings, as JsonConverter's own Jackson writes them), values sent
//     in binary format or not valid for their type (strings).
//
// Keys (encode_key, both formats; for a broker's record key): the row's
// replica-identity columns (pgoutput's key flag: the primary key or the
// USING INDEX columns, every column under REPLICA IDENTITY FULL, none under
// NOTHING) as one object, values as in the rows, in the relation's order:
//   {"id":7}. Insert, update, read: from the new row (an update that changed
//   the key has the new key; a key column the update left TOASTed and
//   unchanged comes from the old row, or is Debezium's placeholder); delete:
//   from the old row (key tuple or full row). None (false, nothing appended)
//   for a truncate, a relation without key columns, a delete without an old
//   row. A message: {"prefix":"p"} (Debezium's MessageKey). With schemas:
//   {"schema":{"type":"struct","fields":[..],"optional":false,
//    "name":"<server>.<schema>.<table>.Key"},"payload":{"id":7}}.
//
// Speed: the encoder keeps, per relation, the escaped "schema"/"table"
// fragment, each column's escaped key and type and, with schemas, the schema
// text, so a row (and its key) costs only its values. With a reused output
// string, encoding allocates nothing in the steady state. Not thread-safe:
// one encoder per stream.

#include <cstdint>
#include <memory>
#include <string>
#include <string_view>

#include "vil/cdc/change.hpp"
#include "vil/output/format.hpp"
#include "vil/values/type_info.hpp"

namespace vil::output {

struct ChangeEncoderOptions {
  Format format = Format::JsonLines;
  std::string database;                 // Debezium source.db
  std::string server_name = "vil-cdc";  // Debezium source.name (its topic prefix)
  std::string version;                  // Debezium source.version; empty: library_version()
  // Format::Debezium only: each line is {"schema":{..},"payload":<the envelope>},
  // as Kafka Connect's JsonConverter with schemas.enable=true reads it, and
  // encode_key() gives {"schema":{..},"payload":<the key>}. json/jsonb values
  // are then JSON strings (see above).
  bool schemas = false;
  // Debezium's top-level ts_ms, when the event was made: Unix nanoseconds.
  // nullptr: the system clock (tests give a fixed one).
  std::int64_t (*clock_ns)() = nullptr;
  // Asked, on the encoding thread and once per type, what the stream does not
  // carry: the base type of a domain and the element type of an array it
  // names only by OID, and the database's encoding (for message content).
  // nullptr: such columns keep their text, and message content is taken as
  // UTF-8 unless `database_encoding` says otherwise.
  std::shared_ptr<values::ServerCatalog> server_catalog;
  // The database's encoding as PostgreSQL names it ("UTF8", "LATIN1"); empty:
  // asked of `server_catalog` when a message's content is not ASCII.
  std::string database_encoding;
};

// This library's version ("0.1.0").
[[nodiscard]] std::string_view library_version() noexcept;

class ChangeEncoder {
 public:
  explicit ChangeEncoder(ChangeEncoderOptions options = {});
  ~ChangeEncoder();
  ChangeEncoder(ChangeEncoder&&) noexcept;
  ChangeEncoder& operator=(ChangeEncoder&&) noexcept;
  ChangeEncoder(const ChangeEncoder&) = delete;
  ChangeEncoder& operator=(const ChangeEncoder&) = delete;

  // Appends the change's line and '\n' to `out` (for a Debezium truncate, one
  // line per table). Nothing else in `out` is touched. A Change without the
  // relation its kind needs (which the trigger never delivers) is written as a
  // line with null rows rather than dropped.
  void encode(const cdc::Change& change, std::string& out);

  // Appends the change's key, one JSON object without a line break, and
  // returns true; or appends nothing and returns false when it has none (a
  // Kafka producer then sends a null key). Rows: the relation's replica
  // identity columns (pgoutput's key flag) from the new row, or a delete's
  // old row, as {"id":7}, values as in the rows; none under REPLICA IDENTITY
  // NOTHING or without a primary key, nor for a delete without an old row.
  // Truncate: none. Message: {"prefix":"p"}. The same in both formats; with
  // `schemas`, wrapped as {"schema":{..Key..},"payload":{..}}.
  bool encode_key(const cdc::Change& change, std::string& out);

  // Column values whose text was not a valid form of their type (the server
  // never sends such; they are written as JSON strings of their text).
  [[nodiscard]] std::uint64_t value_errors() const noexcept;
  // What the last of them was, in words; empty when none.
  [[nodiscard]] const std::string& last_value_error() const noexcept;
  // For the end of a run, empty when there were none: how many, and the
  // column, table and type of the first, without any value (values are the
  // user's data): `2 values were not valid text for their type and were
  // written as JSON strings; the first: column "total" of public.orders (type
  // numeric)`.
  [[nodiscard]] std::string value_error_summary() const;

  [[nodiscard]] const ChangeEncoderOptions& options() const noexcept;

 private:
  struct State;
  std::unique_ptr<State> state_;
};

}  // namespace vil::output
