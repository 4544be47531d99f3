#include "connect_schema.hpp"

#include "vil/values/json_writer.hpp"

namespace vil::output::detail {
namespace {

using values::TypeKind;

// What Debezium's connector says of a type, given what this library writes
// for it (docs/DESIGN.md §4.3): the Connect type, and the semantic name
// where one of Debezium's describes the value (empty: none).
struct ConnectType {
  std::string_view type;
  std::string_view name;
};

ConnectType connect_type(TypeKind kind) noexcept {
  switch (kind) {
    case TypeKind::Bool:
      return {"boolean", {}};
    case TypeKind::Int2:
      return {"int16", {}};
    case TypeKind::Int4:
      return {"int32", {}};
    case TypeKind::Int8:
    case TypeKind::Oid:
      return {"int64", {}};
    case TypeKind::Float4:
      return {"float", {}};
    case TypeKind::Float8:
      return {"double", {}};
    case TypeKind::Uuid:
      return {"string", "io.debezium.data.Uuid"};
    case TypeKind::Json:
    case TypeKind::Jsonb:
      return {"string", "io.debezium.data.Json"};
    // Debezium's names for dates and times as text (its isostring mode).
    case TypeKind::Date:
      return {"string", "io.debezium.time.IsoDate"};
    case TypeKind::Time:
      return {"string", "io.debezium.time.IsoTime"};
    case TypeKind::TimeTz:
      return {"string", "io.debezium.time.ZonedTime"};
    case TypeKind::Timestamp:
      return {"string", "io.debezium.time.IsoTimestamp"};
    case TypeKind::TimestampTz:
      return {"string", "io.debezium.time.ZonedTimestamp"};
    default:
      // numeric (decimal.handling.mode=string), text, bytea as hex, intervals
      // as PostgreSQL writes them, enums, everything kept as text.
      return {"string", {}};
  }
}

void append_scalar(std::string& out, TypeKind kind, bool optional) {
  const ConnectType t = connect_type(kind);
  out.append(R"({"type":")");
  out.append(t.type);
  out.append(optional ? R"(","optional":true)" : R"(","optional":false)");
  if (!t.name.empty()) {
    out.append(R"(,"name":")");
    out.append(t.name);
    out.append(R"(","version":1)");
  }
}

// Debezium's io.debezium.connector.postgresql.Source, with the fields our
// "source" block writes, in its order.
constexpr std::string_view kSourceField =
    R"({"type":"struct","fields":[)"
    R"({"type":"string","optional":false,"field":"version"},)"
    R"({"type":"string","optional":false,"field":"connector"},)"
    R"({"type":"string","optional":false,"field":"name"},)"
    R"({"type":"int64","optional":false,"field":"ts_ms"},)"
    R"({"type":"string","optional":true,"name":"io.debezium.data.Enum","version":1,)"
    R"("parameters":{"allowed":"true,last,false,incremental"},"default":"false","field":"snapshot"},)"
    R"({"type":"string","optional":false,"field":"db"},)"
    R"({"type":"string","optional":true,"field":"sequence"},)"
    R"({"type":"string","optional":false,"field":"schema"},)"
    R"({"type":"string","optional":false,"field":"table"},)"
    R"({"type":"int64","optional":true,"field":"txId"},)"
    R"({"type":"int64","optional":true,"field":"lsn"},)"
    R"({"type":"int64","optional":true,"field":"xmin"})"
    R"(],"optional":false,"name":"io.debezium.connector.postgresql.Source","field":"source"})";

// Debezium's transaction block (always null here: no transaction metadata).
constexpr std::string_view kTransactionField =
    R"({"type":"struct","fields":[)"
    R"({"type":"string","optional":false,"field":"id"},)"
    R"({"type":"int64","optional":false,"field":"total_order"},)"
    R"({"type":"int64","optional":false,"field":"data_collection_order"})"
    R"(],"optional":true,"name":"event.block","version":1,"field":"transaction"})";

// The fields of the Value (every column) or Key (the key columns) struct.
void append_column_fields(std::string& out, const RelationLayout& layout, bool key_only,
                          bool key_not_null) {
  bool first = true;
  for (const ColumnLayout& c : layout.columns) {
    if (key_only && !c.is_key) continue;
    if (!first) out.push_back(',');
    first = false;
    append_column_schema(out, c.type, !(c.is_key && key_not_null));
    out.append(R"(,"field":)");
    out.append(c.quoted_name());
    out.push_back('}');
  }
}

void append_name(std::string& out, std::string_view table_name, std::string_view suffix) {
  out.append(R"("name":")");
  values::write_json_string_contents(out, table_name);
  out.append(suffix);
  out.push_back('"');
}

}  // namespace

void append_column_schema(std::string& out, const values::TypeInfo& type, bool optional) {
  if (type.kind != TypeKind::Array) {
    append_scalar(out, type.kind, optional);
    return;
  }
  // Elements may be NULL. (A multi-dimensional array is nested JSON arrays,
  // which this one level does not describe: pgoutput does not say how many.)
  out.append(R"({"type":"array","items":)");
  append_scalar(out, type.element_kind, true);
  out.push_back('}');
  out.append(optional ? R"(,"optional":true)" : R"(,"optional":false)");
}

void json_as_text(values::TypeInfo& type) noexcept {
  const auto is_json = [](TypeKind k) { return k == TypeKind::Json || k == TypeKind::Jsonb; };
  if (is_json(type.kind)) type.kind = TypeKind::Text;
  if (type.kind == TypeKind::Array && is_json(type.element_kind)) {
    type.element_kind = TypeKind::Text;
  }
}

void build_connect_schemas(RelationLayout& layout, std::string_view server_name) {
  const pgoutput::RelationSchema& relation = layout.derived_from;
  // The primary key's and a replica-identity index's columns are NOT NULL;
  // under REPLICA IDENTITY FULL every column is "key", and may be null.
  const bool key_not_null = relation.replica_identity == pgoutput::ReplicaIdentity::DefaultKey ||
                            relation.replica_identity == pgoutput::ReplicaIdentity::Index;
  std::string table_name(server_name);
  table_name.push_back('.');
  table_name.append(relation.namespace_name);
  table_name.push_back('.');
  table_name.append(relation.name);

  std::string value;
  value.append(R"({"type":"struct","fields":[)");
  append_column_fields(value, layout, false, key_not_null);
  value.append(R"(],"optional":true,)");
  append_name(value, table_name, ".Value");

  std::string& e = layout.envelope_schema;
  e.clear();
  e.append(R"({"schema":{"type":"struct","fields":[)");
  e.append(value);
  e.append(R"(,"field":"before"},)");
  e.append(value);
  e.append(R"(,"field":"after"},)");
  e.append(kSourceField);
  e.append(R"(,{"type":"string","optional":false,"field":"op"})");
  e.append(R"(,{"type":"int64","optional":true,"field":"ts_ms"},)");
  e.append(kTransactionField);
  e.append(R"(],"optional":false,)");
  append_name(e, table_name, ".Envelope");
  e.append(R"(,"version":1},"payload":)");

  std::string& k = layout.key_schema;
  k.clear();
  if (!layout.has_key) return;
  k.append(R"({"schema":{"type":"struct","fields":[)");
  append_column_fields(k, layout, true, key_not_null);
  k.append(R"(],"optional":false,)");
  append_name(k, table_name, ".Key");
  k.append(R"(},"payload":)");
}

std::string message_envelope_schema() {
  std::string out;
  out.append(R"({"schema":{"type":"struct","fields":[)");
  out.append(R"({"type":"string","optional":false,"field":"op"},)");
  out.append(R"({"type":"int64","optional":true,"field":"ts_ms"},)");
  out.append(kSourceField);
  out.append(R"(,{"type":"struct","fields":[)");
  out.append(R"({"type":"string","optional":true,"field":"prefix"},)");
  out.append(R"({"type":"bytes","optional":true,"field":"content"})");
  out.append(R"(],"optional":false,"name":"io.debezium.connector.postgresql.Message",)");
  out.append(R"("version":1,"field":"message"})");
  out.append(R"(],"optional":false,"name":"io.debezium.connector.postgresql.MessageValue",)");
  out.append(R"("version":1},"payload":)");
  return out;
}

std::string message_key_schema() {
  return R"({"schema":{"type":"struct","fields":[)"
         R"({"type":"string","optional":true,"field":"prefix"})"
         R"(],"optional":false,"name":"io.debezium.connector.postgresql.MessageKey",)"
         R"("version":1},"payload":)";
}

}  // namespace vil::output::detail
